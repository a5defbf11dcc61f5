//! CMS SignedData for PKINIT (RFC 5652 §5, RFC 4556 §3.2.1 and §3.2.3): verifying the
//! client's signed AuthPack and signing the KDC's KDCDHKeyInfo. Signatures cover exact bytes,
//! so both directions work on raw DER slices, and OIDs are compared as DER encoded at compile
//! time. The content is read only through [`Verified`]. Lenient in encoding where real clients
//! are (Heimdal's SignerInfo v1 with an explicitly tagged subjectKeyIdentifier), strict in
//! checks.

#[cfg(test)]
mod tests;
mod verified;

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, VerificationAlgorithm};
use subtle::ConstantTimeEq;
use x509_parser::certificate::X509Certificate;

pub use self::verified::Verified;
use crate::proto::codes::oid;
use crate::proto::der::{self, DerError, Tlv, oid_der, tag};
use crate::signer::{DigestAlgorithm, KdcSigner, SignatureScheme, Signed, SignerError};

/// The eContentTypes PKINIT signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentType {
    /// id-pkinit-authData (RFC 4556 §3.2.1): the client's AuthPack.
    AuthPack,
    /// id-pkinit-DHKeyData (RFC 4556 §3.2.3.1): the KDC's KDCDHKeyInfo.
    DhKeyInfo,
}

impl ContentType {
    fn oid_der(self) -> &'static [u8] {
        match self {
            ContentType::AuthPack => oid_der!(oid::PKINIT_AUTH_DATA),
            ContentType::DhKeyInfo => oid_der!(oid::PKINIT_DH_KEY_DATA),
        }
    }
}

const SIGNED_DATA: &[u8] = oid_der!(oid::SIGNED_DATA);
const CONTENT_TYPE: &[u8] = oid_der!(oid::CONTENT_TYPE);
const MESSAGE_DIGEST: &[u8] = oid_der!(oid::MESSAGE_DIGEST);
const RSA_ENCRYPTION: &[u8] = oid_der!(oid::RSA_ENCRYPTION);
const EC_PUBLIC_KEY: &[u8] = oid_der!(oid::EC_PUBLIC_KEY);

/// The kind of key a signature is checked with, from its SubjectPublicKeyInfo algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum KeyAlgorithm {
    /// rsaEncryption (RFC 8017 §A.1).
    Rsa,
    /// id-ecPublicKey (RFC 5480 §2.1.1).
    Ec,
}

impl KeyAlgorithm {
    fn from_oid_der(oid_der: &[u8]) -> Option<KeyAlgorithm> {
        match oid_der {
            RSA_ENCRYPTION => Some(KeyAlgorithm::Rsa),
            EC_PUBLIC_KEY => Some(KeyAlgorithm::Ec),
            _ => None,
        }
    }
}

/// Why a SignedData was refused.
#[derive(Debug, thiserror::Error)]
pub enum CmsError {
    #[error("malformed SignedData: {0}")]
    Malformed(&'static str),
    #[error("malformed DER in SignedData: {0}")]
    Der(#[from] DerError),
    /// Heimdal sends this when its certificate lacks keyUsage digitalSignature.
    #[error("SignedData has no SignerInfo: the client did not sign it")]
    NoSignerInfo,
    #[error("unexpected eContentType")]
    ContentType,
    #[error("unsupported signature or digest algorithm")]
    Algorithm,
    #[error("signer certificate not found in SignedData")]
    NoSignerCertificate,
    #[error("signer certificate unparsable: {0}")]
    Certificate(String),
    #[error("messageDigest does not match the content")]
    Digest,
    #[error("signature does not verify")]
    Signature,
    #[error("KDC signer: {0}")]
    Signer(#[from] SignerError),
}

/// A parsed SignedData whose signed attributes match its content; the signature itself is
/// checked against a key by the caller, who knows which keys may have signed. The content
/// is not readable here: only a successful check gives it ([`Verified`]).
#[derive(Debug)]
pub struct SignedContent<'a> {
    content: &'a [u8],
    certificates: Vec<&'a [u8]>,
    sid: SignerId<'a>,
    digest_algorithm: DigestAlgorithm,
    /// Every digest AlgorithmIdentifier as sent: digestAlgorithms, then the SignerInfo's.
    digest_algorithm_ids: Vec<&'a [u8]>,
    signature_oid: &'a [u8],
    signed_attributes: Vec<u8>,
    signature: &'a [u8],
}

#[derive(Debug)]
enum SignerId<'a> {
    IssuerSerial { issuer: &'a [u8], serial: &'a [u8] },
    SubjectKeyId(&'a [u8]),
}

/// Reads a DER ContentInfo holding SignedData whose eContentType is `content_type`, with
/// exactly one SignerInfo whose contentType and messageDigest attributes match the content.
pub fn parse(
    content_info: &[u8],
    content_type: ContentType,
) -> Result<SignedContent<'_>, CmsError> {
    let info = Tlv::read_only(content_info, tag::SEQUENCE)?;
    let mut fields = info.children();
    if fields.next_required()?.expect(tag::OID)?.raw != SIGNED_DATA {
        return Err(CmsError::ContentType);
    }
    let explicit = fields.next_required()?.expect(tag::context(0))?;
    let signed_data = Tlv::read_only(explicit.value, tag::SEQUENCE)?;
    let mut fields = signed_data.children();
    fields.next_required()?.expect(tag::INTEGER)?;
    let mut digest_algorithm_ids: Vec<&[u8]> = fields
        .next_required()?
        .expect(tag::SET)?
        .children()
        .map(|c| c.map(|c| c.raw))
        .collect::<Result<_, _>>()?;
    let encap = fields.next_required()?.expect(tag::SEQUENCE)?;
    let certificates: Vec<&[u8]> = match fields.next_if(tag::context(0))? {
        Some(set) => set
            .children()
            .map(|c| c.map(|c| c.raw))
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    fields.next_if(tag::context(1))?;
    let signer_infos = fields.next_required()?.expect(tag::SET)?;
    let mut signers = signer_infos.children();
    let signer_info = signers
        .next()
        .ok_or(CmsError::NoSignerInfo)??
        .expect(tag::SEQUENCE)?;
    if signers.next().is_some() {
        return Err(CmsError::Malformed("more than one SignerInfo"));
    }

    let mut encap_fields = encap.children();
    let econtent_type = encap_fields.next_required()?.expect(tag::OID)?;
    if econtent_type.raw != content_type.oid_der() {
        return Err(CmsError::ContentType);
    }
    let econtent = Tlv::read_only(
        encap_fields.next_required()?.expect(tag::context(0))?.value,
        tag::OCTET_STRING,
    )?;

    let mut si = signer_info.children();
    si.next_required()?.expect(tag::INTEGER)?;
    let sid = parse_signer_id(si.next_required()?)?;
    let signer_digest = si.next_required()?;
    digest_algorithm_ids.push(signer_digest.raw);
    let digest_oid = algorithm_oid(signer_digest)?;
    let signed_attrs = si
        .next_if(tag::context(0))?
        .ok_or(CmsError::Malformed("signedAttrs absent"))?;
    let signature_oid = algorithm_oid(si.next_required()?)?;
    let signature = si.next_required()?.expect(tag::OCTET_STRING)?.value;

    let digest_algorithm = DigestAlgorithm::from_oid_der(digest_oid).ok_or(CmsError::Algorithm)?;
    check_signed_attributes(
        signed_attrs,
        econtent_type.raw,
        &digest::digest(digest_algorithm.aws_lc(), econtent.value),
    )?;
    // The signature covers the attributes as a SET OF: the [0] IMPLICIT tag becomes 0x31.
    let mut signed_attributes = signed_attrs.raw.to_vec();
    if let Some(first) = signed_attributes.first_mut() {
        *first = tag::SET;
    }
    Ok(SignedContent {
        content: econtent.value,
        certificates,
        sid,
        digest_algorithm,
        digest_algorithm_ids,
        signature_oid,
        signed_attributes,
        signature,
    })
}

impl<'a> SignedContent<'a> {
    /// The digest the signer used (its SignerInfo's digestAlgorithm).
    pub fn digest_algorithm(&self) -> DigestAlgorithm {
        self.digest_algorithm
    }

    /// The certificate the SignerInfo names, if the sender included it (MIT kinit leaves out
    /// a self-signed certificate: its chain below the trust anchor is empty).
    pub fn signer_certificate(&self) -> Option<&'a [u8]> {
        self.certificates
            .iter()
            .copied()
            .find(|cert| matches_signer(cert, &self.sid))
    }

    /// The certificates the sender included, in its order.
    pub fn certificates(&self) -> &[&'a [u8]] {
        &self.certificates
    }

    /// Checks the signature with the public key of a certificate; the [`Verified`] content
    /// names that certificate as its signer.
    pub fn verify_with_certificate(
        &self,
        certificate_der: &'a [u8],
    ) -> Result<Verified<'a>, CmsError> {
        let (_, cert) = x509_parser::parse_x509_certificate(certificate_der)
            .map_err(|e| CmsError::Certificate(e.to_string()))?;
        self.verify_with_parsed_certificate(certificate_der, &cert)
    }

    /// As [`Self::verify_with_certificate`], for a caller that has parsed `certificate_der`
    /// as `cert` already.
    pub fn verify_with_parsed_certificate(
        &self,
        certificate_der: &'a [u8],
        cert: &X509Certificate<'_>,
    ) -> Result<Verified<'a>, CmsError> {
        let spki = cert.public_key();
        let key = key_algorithm(spki.raw)?;
        let algorithm = verification_algorithm(self.digest_algorithm, self.signature_oid, key)?;
        Verified::check(
            self,
            algorithm,
            spki.subject_public_key.data.as_ref(),
            Some(certificate_der),
        )
    }

    /// Checks the signature with an RSA public key given as DER PKCS#1 RSAPublicKey.
    pub fn verify_with_rsa_key(&self, pkcs1_der: &[u8]) -> Result<Verified<'a>, CmsError> {
        let algorithm =
            verification_algorithm(self.digest_algorithm, self.signature_oid, KeyAlgorithm::Rsa)?;
        Verified::check(self, algorithm, pkcs1_der, None)
    }
}

/// Parses and verifies a SignedData signed by a certificate it carries.
pub fn verify(content_info: &[u8], content_type: ContentType) -> Result<Verified<'_>, CmsError> {
    let signed = parse(content_info, content_type)?;
    let signer_certificate = signed
        .signer_certificate()
        .ok_or(CmsError::NoSignerCertificate)?;
    signed.verify_with_certificate(signer_certificate)
}

/// The key algorithm of a DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7).
fn key_algorithm(spki_der: &[u8]) -> Result<KeyAlgorithm, CmsError> {
    let spki = Tlv::read_only(spki_der, tag::SEQUENCE)?;
    let oid = algorithm_oid(spki.children().next_required()?)?;
    KeyAlgorithm::from_oid_der(oid).ok_or(CmsError::Algorithm)
}

fn parse_signer_id(sid: Tlv<'_>) -> Result<SignerId<'_>, CmsError> {
    match sid.tag {
        tag::SEQUENCE => {
            let mut parts = sid.children();
            let issuer = parts.next_required()?.expect(tag::SEQUENCE)?.raw;
            let serial = parts.next_required()?.expect(tag::INTEGER)?.value;
            Ok(SignerId::IssuerSerial { issuer, serial })
        }
        t if t == tag::context_primitive(0) => Ok(SignerId::SubjectKeyId(sid.value)),
        // Heimdal 7.8 wraps the key identifier as an explicit [0] OCTET STRING.
        t if t == tag::context(0) => Ok(SignerId::SubjectKeyId(
            Tlv::read_only(sid.value, tag::OCTET_STRING)?.value,
        )),
        _ => Err(CmsError::Malformed("unknown SignerIdentifier")),
    }
}

fn matches_signer(cert_der: &[u8], sid: &SignerId<'_>) -> bool {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(cert_der) else {
        return false;
    };
    match sid {
        SignerId::IssuerSerial { issuer, serial } => {
            cert.issuer().as_raw() == *issuer
                && der::unsigned_integer_bytes(cert.raw_serial()) == der::unsigned_integer_bytes(serial)
        }
        SignerId::SubjectKeyId(id) => cert.extensions().iter().any(|ext| {
            matches!(ext.parsed_extension(), x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(ski) if ski.0 == *id)
        }),
    }
}

fn algorithm_oid(algorithm: Tlv<'_>) -> Result<&[u8], CmsError> {
    let algorithm = algorithm.expect(tag::SEQUENCE)?;
    Ok(algorithm.children().next_required()?.expect(tag::OID)?.raw)
}

/// The verification algorithm for a (digest, signature, key) triple; the digest must agree
/// with a signature algorithm that names its own hash. The key decides the scheme: MIT krb5
/// 1.20 labels every SignerInfo sha256WithRSAEncryption, its ECDSA signatures too (client and
/// KDC alike), so an EC key also takes an RSA-named or id-ecPublicKey label with the same
/// hash. The signature must still verify with that key; an RSA key never takes an ECDSA label.
pub(super) fn verification_algorithm(
    hash: DigestAlgorithm,
    signature_oid: &[u8],
    key: KeyAlgorithm,
) -> Result<&'static dyn VerificationAlgorithm, CmsError> {
    let rsa_key = key == KeyAlgorithm::Rsa;
    let ec_key = key == KeyAlgorithm::Ec;
    // The hash a signatureAlgorithm label names, read as an RSA label and as an ECDSA one.
    let named_rsa = SignatureScheme::RsaPkcs1Sha256.digest_of_signature_oid(signature_oid);
    let named_ec = SignatureScheme::EcdsaP256Sha256.digest_of_signature_oid(signature_oid);
    let algorithm: &'static dyn VerificationAlgorithm =
        if rsa_key && (signature_oid == RSA_ENCRYPTION || named_rsa == Some(hash)) {
            match hash {
                DigestAlgorithm::Sha1 => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
                DigestAlgorithm::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                DigestAlgorithm::Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                DigestAlgorithm::Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            }
        } else if ec_key
            && (named_ec == Some(hash) || named_rsa == Some(hash) || signature_oid == EC_PUBLIC_KEY)
        {
            match hash {
                DigestAlgorithm::Sha256 => &signature::ECDSA_P256_SHA256_ASN1,
                DigestAlgorithm::Sha384 => &signature::ECDSA_P384_SHA384_ASN1,
                DigestAlgorithm::Sha1 | DigestAlgorithm::Sha512 => return Err(CmsError::Algorithm),
            }
        } else {
            return Err(CmsError::Algorithm);
        };
    Ok(algorithm)
}

/// RFC 5652 §5.3: contentType must equal the eContentType and messageDigest the content's
/// digest, each present once.
fn check_signed_attributes(
    attrs: Tlv<'_>,
    econtent_type: &[u8],
    content_digest: &digest::Digest,
) -> Result<(), CmsError> {
    let (mut content_type_ok, mut digest_ok) = (None, None);
    for attr in attrs.children() {
        let attr = attr?.expect(tag::SEQUENCE)?;
        let mut parts = attr.children();
        let attr_type = parts.next_required()?.expect(tag::OID)?.raw;
        let values = parts.next_required()?.expect(tag::SET)?;
        let mut values = values.children();
        let value = values.next_required()?;
        if values.next().is_some() {
            return Err(CmsError::Malformed("multi-valued signed attribute"));
        }
        if attr_type == CONTENT_TYPE {
            if content_type_ok.is_some() {
                return Err(CmsError::Malformed("repeated contentType"));
            }
            content_type_ok = Some(value.raw == econtent_type);
        } else if attr_type == MESSAGE_DIGEST {
            if digest_ok.is_some() {
                return Err(CmsError::Malformed("repeated messageDigest"));
            }
            let value = value.expect(tag::OCTET_STRING)?.value;
            digest_ok = Some(bool::from(value.ct_eq(content_digest.as_ref())));
        }
    }
    match (content_type_ok, digest_ok) {
        (Some(true), Some(true)) => Ok(()),
        (Some(false), _) => Err(CmsError::ContentType),
        (_, Some(false)) => Err(CmsError::Digest),
        _ => Err(CmsError::Malformed("contentType or messageDigest missing")),
    }
}

/// Signs `content` as a DER ContentInfo with SignedData (v3 per RFC 5652 §5.1, signer by
/// issuerAndSerialNumber, SignerInfo v1) over `digest`, carrying the chain of the key that
/// signed. Digest AlgorithmIdentifiers carry NULL parameters; signatureAlgorithm follows the
/// key: shaNWithRSAEncryption with NULL parameters, ecdsa-with-SHAn without (RFC 5754 §3).
pub async fn sign(
    content_type: ContentType,
    content: &[u8],
    signer: &dyn KdcSigner,
    digest: DigestAlgorithm,
) -> Result<Vec<u8>, CmsError> {
    let scheme = signer.scheme();
    let digest_algorithm = digest.algorithm_identifier_der();
    let signature_algorithm = scheme.signature_algorithm_der(digest);
    let content_type_oid = content_type.oid_der();
    let attribute = |kind: &[u8], value: &[u8]| {
        der::encode_parts(tag::SEQUENCE, &[kind, &der::encode(tag::SET, value)])
    };
    let signed_attrs = der::encode_set_of(
        tag::SET,
        vec![
            attribute(CONTENT_TYPE, content_type_oid),
            attribute(
                MESSAGE_DIGEST,
                &der::encode(tag::OCTET_STRING, &digest.digest(content)),
            ),
        ],
    );
    let Signed { signature, chain } = signer.sign(&signed_attrs, digest).await?;
    let issuer_and_serial = chain
        .issuer_and_serial()
        .ok_or(CmsError::NoSignerCertificate)?;
    let mut implicit_attrs = signed_attrs;
    if let Some(first) = implicit_attrs.first_mut() {
        *first = tag::context(0);
    }
    let signer_info = der::encode_parts(
        tag::SEQUENCE,
        &[
            &der::encode(tag::INTEGER, &[1]),
            issuer_and_serial,
            &digest_algorithm,
            &implicit_attrs,
            &signature_algorithm,
            &der::encode(tag::OCTET_STRING, &signature),
        ],
    );
    let encap = der::encode_parts(
        tag::SEQUENCE,
        &[
            content_type_oid,
            &der::encode(tag::context(0), &der::encode(tag::OCTET_STRING, content)),
        ],
    );
    let signed_data = der::encode_parts(
        tag::SEQUENCE,
        &[
            &der::encode(tag::INTEGER, &[3]),
            &der::encode(tag::SET, &digest_algorithm),
            &encap,
            chain.certificate_set(),
            &der::encode(tag::SET, &signer_info),
        ],
    );
    Ok(der::encode_parts(
        tag::SEQUENCE,
        &[SIGNED_DATA, &der::encode(tag::context(0), &signed_data)],
    ))
}
