//! Kerberos wire facts the tests assert on: KRB-ERROR codes (RFC 4120 §7.5.9, RFC 4556
//! §3.1.3), the TCP record mark (RFC 4120 §7.2.2), and where the PKINIT signature and the
//! KDC-REQ-BODY nonce sit inside a real AS-REQ (RFC 4120 §5.4.1, RFC 4556 §3.2.1, RFC 5652 §5).

use std::ops::Range;

use anyhow::{Context, Result, bail};
use rasn_kerberos::{AsReq, KrbError};

use crate::der::{self, Tlv};

// Values as in RFC 4120 §7.5.9 / RFC 4556 §3.1.3 and MIT's, Heimdal's and Windows' error
// tables (MIT 1.20 on this machine traces code 67 as "No ticket granting ticket").
pub const KDC_ERR_C_PRINCIPAL_UNKNOWN: i32 = 0x06;
pub const KDC_ERR_CLIENT_REVOKED: i32 = 0x12;
pub const KDC_ERR_PREAUTH_FAILED: i32 = 0x18;
pub const KDC_ERR_PREAUTH_REQUIRED: i32 = 0x19;
pub const KRB_AP_ERR_SKEW: i32 = 0x25;
pub const KRB_ERR_RESPONSE_TOO_BIG: i32 = 0x34;
pub const KRB_ERR_FIELD_TOOLONG: i32 = 0x3d;
pub const KDC_ERR_CLIENT_NOT_TRUSTED: i32 = 0x3e;
pub const KDC_ERR_INVALID_SIG: i32 = 0x40;
pub const KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED: i32 = 0x41;
pub const KDC_ERR_CANT_VERIFY_CERTIFICATE: i32 = 0x46;
pub const KDC_ERR_INVALID_CERTIFICATE: i32 = 0x47;
pub const KDC_ERR_REVOKED_CERTIFICATE: i32 = 0x48;
pub const KDC_ERR_REVOCATION_STATUS_UNKNOWN: i32 = 0x49;
pub const KDC_ERR_CLIENT_NAME_MISMATCH: i32 = 0x4b;
pub const KDC_ERR_INCONSISTENT_KEY_PURPOSE: i32 = 0x4d;
pub const KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED: i32 = 0x50;

/// PA-PK-AS-REQ (RFC 4556 §3.2.1).
pub const PA_PK_AS_REQ: i32 = 0x10;

/// APPLICATION 10 / 11 / 30, constructed (RFC 4120 §5.4.1, §5.4.2, §5.9.1).
const TAG_AS_REQ: u8 = 0x6a;
const TAG_AS_REP: u8 = 0x6b;
const TAG_KRB_ERROR: u8 = 0x7e;

/// What kind of Kerberos message a buffer holds, judged by its outer tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    AsReq,
    AsRep,
    KrbError,
    Other(u8),
    Empty,
}

pub fn message_kind(msg: &[u8]) -> MessageKind {
    match msg.first() {
        None => MessageKind::Empty,
        Some(&TAG_AS_REQ) => MessageKind::AsReq,
        Some(&TAG_AS_REP) => MessageKind::AsRep,
        Some(&TAG_KRB_ERROR) => MessageKind::KrbError,
        Some(other) => MessageKind::Other(*other),
    }
}

/// Decodes a KRB-ERROR strictly (DER) with rasn-kerberos.
pub fn decode_krb_error(msg: &[u8]) -> Result<KrbError> {
    rasn::der::decode::<KrbError>(msg).map_err(|e| anyhow::anyhow!("not a KRB-ERROR: {e}"))
}

/// The error-code of a KRB-ERROR, or None when the message is something else.
pub fn krb_error_code(msg: &[u8]) -> Option<i32> {
    if message_kind(msg) != MessageKind::KrbError {
        return None;
    }
    decode_krb_error(msg).ok().map(|e| e.error_code)
}

/// The padata-types of an AS-REQ, in order.
pub fn as_req_padata_types(msg: &[u8]) -> Result<Vec<i32>> {
    let req = rasn::der::decode::<AsReq>(msg).map_err(|e| anyhow::anyhow!("not an AS-REQ: {e}"))?;
    Ok(req
        .0
        .padata
        .unwrap_or_default()
        .iter()
        .map(|pa| pa.r#type)
        .collect())
}

/// True for an AS-REQ that carries PA-PK-AS-REQ (MIT's second AS-REQ).
pub fn is_pkinit_as_req(msg: &[u8]) -> bool {
    message_kind(msg) == MessageKind::AsReq
        && as_req_padata_types(msg).is_ok_and(|t| t.contains(&PA_PK_AS_REQ))
}

/// Checks the KRB-ERROR codes a failed login drew: the last is `expected`, and every earlier
/// one is PREAUTH_REQUIRED or `expected` itself (MIT asks first without preauth, and retries a
/// failed AS exchange once against the "primary" KDC, which here is the same KDC).
pub fn check_error_sequence(codes: &[i32], expected: i32) -> Result<()> {
    let Some((last, earlier)) = codes.split_last() else {
        bail!("the KDC sent no KRB-ERROR (wanted {expected})");
    };
    if *last != expected {
        bail!("last KRB-ERROR code is {last}, wanted {expected} (all: {codes:?})");
    }
    if let Some(odd) = earlier
        .iter()
        .find(|c| **c != KDC_ERR_PREAUTH_REQUIRED && **c != expected)
    {
        bail!("unexpected KRB-ERROR code {odd} before {expected} (all: {codes:?})");
    }
    Ok(())
}

/// Adds the RFC 4120 §7.2.2 four-byte length prefix.
pub fn frame(msg: &[u8]) -> Vec<u8> {
    let len = u32::try_from(msg.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(msg.len() + 4);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(msg);
    out
}

/// The SEQUENCE inside the APPLICATION 10 wrapper, and its context-tagged fields.
fn kdc_req_fields(msg: &[u8]) -> Result<Vec<Tlv>> {
    let app = der::parse(msg)?;
    if app.tag != TAG_AS_REQ {
        bail!("not an AS-REQ (tag {:#04x})", app.tag);
    }
    let seq = app.child(msg, 0x30)?;
    seq.children(msg)
}

fn field(fields: &[Tlv], tag: u8) -> Result<Tlv> {
    fields
        .iter()
        .copied()
        .find(|f| f.tag == tag)
        .with_context(|| format!("field {tag:#04x} missing"))
}

/// The TLV of the KDC-REQ-BODY (the bytes paChecksum covers).
pub fn req_body(msg: &[u8]) -> Result<Tlv> {
    field(&kdc_req_fields(msg)?, 0xa4)?.child(msg, 0x30)
}

/// Byte range of the KDC-REQ-BODY nonce's INTEGER content.
pub fn req_body_nonce_range(msg: &[u8]) -> Result<Range<usize>> {
    let nonce = req_body(msg)?.child(msg, 0xa7)?.child(msg, 0x02)?;
    Ok(nonce.content_start()..nonce.end())
}

/// The PA-PK-AS-REQ value, parsed in place (offsets into `msg`).
fn pa_pk_as_req(msg: &[u8]) -> Result<Tlv> {
    let padata = field(&kdc_req_fields(msg)?, 0xa3)?.child(msg, 0x30)?;
    for pa in padata.children(msg)? {
        let type_int = pa.child(msg, 0xa1)?.child(msg, 0x02)?;
        let value = pa.child(msg, 0xa2)?.child(msg, 0x04)?;
        if type_int.content(msg)? == [0x10] {
            return der::parse_at(msg, value.content_start(), value.end());
        }
    }
    bail!("no PA-PK-AS-REQ in the AS-REQ")
}

/// The SignedData inside the PA-PK-AS-REQ's signedAuthPack ([0] IMPLICIT OCTET STRING
/// holding a ContentInfo, RFC 4556 §3.2.1).
fn pkinit_signed_data(msg: &[u8]) -> Result<Tlv> {
    let signed_auth_pack = pa_pk_as_req(msg)?.child(msg, 0x80)?;
    let content_info = der::parse_at(
        msg,
        signed_auth_pack.content_start(),
        signed_auth_pack.end(),
    )?;
    content_info.child(msg, 0xa0)?.child(msg, 0x30)
}

/// How many certificates the client put in its SignedData (RFC 5652 §5.1 `certificates`).
/// MIT kinit sends its chain without the trust anchor: none for a self-signed certificate.
pub fn pkinit_certificate_count(msg: &[u8]) -> Result<usize> {
    let signed_data = pkinit_signed_data(msg)?;
    match signed_data
        .children(msg)?
        .into_iter()
        .find(|t| t.tag == 0xa0)
    {
        Some(certificates) => Ok(certificates.children(msg)?.len()),
        None => Ok(0),
    }
}

/// `msg` with `extra` certificates (DER) appended to its SignedData's `certificates` set, every
/// enclosing length rewritten. The signature does not cover the set (RFC 5652 §5.4), so the
/// request stays valid; `msg` must carry at least one certificate.
pub fn pkinit_with_certificates_added(msg: &[u8], extra: &[Vec<u8>]) -> Result<Vec<u8>> {
    let chain = pkinit_certificates_chain(msg)?;
    let (innermost, outer) = chain.split_last().context("empty chain")?;
    let mut content = innermost.content(msg)?.to_vec();
    extra
        .iter()
        .for_each(|cert| content.extend_from_slice(cert));
    let mut built = tlv(innermost.tag, &content);
    let mut inner = *innermost;
    for parent in outer.iter().rev() {
        let before = msg.get(parent.content_start()..inner.offset);
        let after = msg.get(inner.end()..parent.end());
        let (Some(before), Some(after)) = (before, after) else {
            bail!("TLV at {} is not inside its parent", inner.offset);
        };
        built = tlv(parent.tag, &[before, &built, after].concat());
        inner = *parent;
    }
    let before = msg.get(..inner.offset).context("message start")?;
    let after = msg.get(inner.end()..).context("message end")?;
    Ok([before, &built, after].concat())
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    [&[tag][..], &der::encode_len(content.len()), content].concat()
}

/// The TLVs from the AS-REQ down to its SignedData's `certificates` [0], outermost first.
fn pkinit_certificates_chain(msg: &[u8]) -> Result<Vec<Tlv>> {
    let app = der::parse(msg)?;
    let seq = app.child(msg, 0x30)?;
    let padata_field = seq.child(msg, 0xa3)?;
    let padata = padata_field.child(msg, 0x30)?;
    let pa = padata
        .children(msg)?
        .into_iter()
        .find(|pa| {
            pa.child(msg, 0xa1)
                .and_then(|t| t.child(msg, 0x02))
                .and_then(|t| t.content(msg).map(|c| c == [0x10]))
                .unwrap_or(false)
        })
        .context("no PA-PK-AS-REQ in the AS-REQ")?;
    let value_field = pa.child(msg, 0xa2)?;
    let value = value_field.child(msg, 0x04)?;
    let pa_pk_as_req = der::parse_at(msg, value.content_start(), value.end())?;
    let signed_auth_pack = pa_pk_as_req.child(msg, 0x80)?;
    let content_info = der::parse_at(
        msg,
        signed_auth_pack.content_start(),
        signed_auth_pack.end(),
    )?;
    let content = content_info.child(msg, 0xa0)?;
    let signed_data = content.child(msg, 0x30)?;
    let certificates = signed_data.child(msg, 0xa0)?;
    Ok(vec![
        app,
        seq,
        padata_field,
        padata,
        pa,
        value_field,
        value,
        pa_pk_as_req,
        signed_auth_pack,
        content_info,
        content,
        signed_data,
        certificates,
    ])
}

/// The SignedData's signerInfos SET, its last field (RFC 5652 §5.1).
fn pkinit_signer_infos(msg: &[u8]) -> Result<Tlv> {
    pkinit_signed_data(msg)?
        .children(msg)?
        .into_iter()
        .rev()
        .find(|t| t.tag == 0x31)
        .context("SignedData without signerInfos")
}

/// How many SignerInfos the client put in its SignedData: Heimdal sends none when its
/// certificate's keyUsage lacks digitalSignature.
pub fn pkinit_signer_info_count(msg: &[u8]) -> Result<usize> {
    Ok(pkinit_signer_infos(msg)?.children(msg)?.len())
}

/// Byte range of the RSA signature in the PA-PK-AS-REQ's SignerInfo (RFC 5652 §5.3).
pub fn pkinit_signature_range(msg: &[u8]) -> Result<Range<usize>> {
    let signer_info = pkinit_signer_infos(msg)?.child(msg, 0x30)?;
    let signature = signer_info
        .children(msg)?
        .into_iter()
        .rev()
        .find(|t| t.tag == 0x04)
        .context("SignerInfo without signature")?;
    Ok(signature.content_start()..signature.end())
}

/// clientPublicValue's algorithm: dhpublicnumber for MODP (RFC 4556 §3.2.1, RFC 3279), and
/// id-ecPublicKey for ECDH (RFC 5349 §2, RFC 5480 §2.1.1).
pub const OID_DHPUBLICNUMBER: &str = "1.2.840.10046.2.1";
pub const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
/// The namedCurve parameters of id-ecPublicKey (RFC 5480 §2.1.1.1): P-256, P-384, P-521.
pub const OID_SECP256R1: &str = "1.2.840.10045.3.1.7";
pub const OID_SECP384R1: &str = "1.3.132.0.34";
pub const OID_SECP521R1: &str = "1.3.132.0.35";

/// The AlgorithmIdentifier of the AuthPack's clientPublicValue (a SubjectPublicKeyInfo).
fn pkinit_client_public_value_algorithm(msg: &[u8]) -> Result<Tlv> {
    let signed_data = pkinit_signed_data(msg)?;
    let encap = signed_data
        .children(msg)?
        .into_iter()
        .find(|t| t.tag == 0x30)
        .context("SignedData without encapContentInfo")?;
    let econtent = encap.child(msg, 0xa0)?.child(msg, 0x04)?;
    let auth_pack = der::parse_at(msg, econtent.content_start(), econtent.end())?;
    // AuthPack { pkAuthenticator [0], clientPublicValue [1] SubjectPublicKeyInfo, ... }
    let spki = auth_pack.child(msg, 0xa1)?.child(msg, 0x30)?;
    spki.child(msg, 0x30)
}

/// What the client offered for the key agreement: clientPublicValue's algorithm OID and,
/// when its parameters are an OID (ECDH's namedCurve), that OID; MODP's parameters are a
/// DomainParameters SEQUENCE (see [`pkinit_dh_modulus_bits`]).
pub fn pkinit_client_public_value_oids(msg: &[u8]) -> Result<(String, Option<String>)> {
    let fields = pkinit_client_public_value_algorithm(msg)?.children(msg)?;
    let (algorithm, parameters) = fields
        .split_first()
        .context("AlgorithmIdentifier without algorithm")?;
    if algorithm.tag != 0x06 {
        bail!("AlgorithmIdentifier starts with tag {:#04x}", algorithm.tag);
    }
    let curve = match parameters.first() {
        Some(p) if p.tag == 0x06 => Some(der::oid_string(p.content(msg)?)?),
        _ => None,
    };
    Ok((der::oid_string(algorithm.content(msg)?)?, curve))
}

/// Modulus size in bits of the DH domain parameters the client offered (RFC 4556 §3.2.1,
/// clientPublicValue.algorithm.parameters = DomainParameters {p, g, q, ...}).
pub fn pkinit_dh_modulus_bits(msg: &[u8]) -> Result<usize> {
    let algorithm = pkinit_client_public_value_algorithm(msg)?;
    let domain = algorithm
        .children(msg)?
        .into_iter()
        .find(|t| t.tag == 0x30)
        .context("DH AlgorithmIdentifier without domain parameters")?;
    let p = domain.child(msg, 0x02)?;
    let bytes = p.content(msg)?;
    let significant: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let lead = significant.first().copied().unwrap_or(0);
    Ok(significant.len().saturating_sub(1) * 8 + (8 - lead.leading_zeros() as usize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn wire(name: &str) -> Vec<u8> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/wire")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Offsets and values from testdata/wire/vectors.toml (decoded there with openssl
    /// asn1parse): req_body_offset 2645, req_body_length 134, nonce 1890141196, ContentInfo at
    /// 66 of length 2395 ending with the 256-byte signature (no unsigned attributes).
    #[test]
    fn adds_certificates_and_keeps_every_length_right() {
        let msg = wire("mit_as_req_pkinit_dh2048.der");
        let cert = vec![0x30, 0x03, 0x02, 0x01, 0x07];
        let grown = pkinit_with_certificates_added(&msg, &[cert.clone(), cert]).unwrap();
        assert_eq!(grown.len(), msg.len() + 10);
        assert_eq!(pkinit_certificate_count(&grown).unwrap(), 3);
        assert_eq!(
            as_req_padata_types(&grown).unwrap(),
            vec![133, 16, 150, 149]
        );
        assert_eq!(pkinit_signature_range(&grown).unwrap().len(), 256);
        assert_eq!(
            req_body(&grown).unwrap().encoding(&grown).unwrap(),
            req_body(&msg).unwrap().encoding(&msg).unwrap()
        );
    }

    /// Heimdal's SignerInfo names the signer by a constructed [0] (README of testdata/wire);
    /// the signature is still the last OCTET STRING.
    #[test]
    fn finds_the_pieces_of_mit_pkinit_as_req() {
        let msg = wire("mit_as_req_pkinit_dh2048.der");
        assert_eq!(message_kind(&msg), MessageKind::AsReq);
        assert!(is_pkinit_as_req(&msg));
        assert_eq!(as_req_padata_types(&msg).unwrap(), vec![133, 16, 150, 149]);
        let body = req_body(&msg).unwrap();
        assert_eq!((body.offset, body.end() - body.offset), (2645, 134));
        let nonce = req_body_nonce_range(&msg).unwrap();
        assert_eq!(msg[nonce].to_vec(), 1_890_141_196u32.to_be_bytes().to_vec());
        let sig = pkinit_signature_range(&msg).unwrap();
        assert_eq!((sig.len(), sig.end), (256, 66 + 2395));
        assert_eq!(pkinit_dh_modulus_bits(&msg).unwrap(), 2048);
        // certificates_count = 1 (alice.pem, CA-issued).
        assert_eq!(pkinit_certificate_count(&msg).unwrap(), 1);
        assert_eq!(
            pkinit_dh_modulus_bits(&wire("mit_as_req_pkinit_dh4096.der")).unwrap(),
            4096
        );
        assert_eq!(
            pkinit_client_public_value_oids(&msg).unwrap(),
            (OID_DHPUBLICNUMBER.to_owned(), None)
        );
    }

    /// Heimdal's SignerInfo names the signer by a constructed [0] (README of testdata/wire);
    /// the signature is still the last OCTET STRING.
    #[test]
    fn finds_the_signature_in_heimdal_as_req() {
        let msg = wire("heimdal_as_req_pkinit_dh2048.der");
        assert!(is_pkinit_as_req(&msg));
        assert_eq!(pkinit_signature_range(&msg).unwrap().len(), 256);
        assert_eq!(pkinit_signer_info_count(&msg).unwrap(), 1);
    }

    #[test]
    fn first_as_req_has_no_pkinit() {
        let msg = wire("mit_as_req_nopreauth.der");
        assert_eq!(as_req_padata_types(&msg).unwrap(), vec![150, 149]);
        assert!(!is_pkinit_as_req(&msg));
        assert!(pkinit_signature_range(&msg).is_err());
    }

    #[test]
    fn decodes_mit_preauth_required() {
        let msg = wire("mit_krb_error_preauth_required.der");
        assert_eq!(message_kind(&msg), MessageKind::KrbError);
        assert_eq!(krb_error_code(&msg), Some(KDC_ERR_PREAUTH_REQUIRED));
        let truncated = &msg[..msg.len() - 1];
        assert_eq!(krb_error_code(truncated), None);
        assert_eq!(krb_error_code(&wire("mit_as_rep_pkinit_dh2048.der")), None);
    }

    #[test]
    fn error_sequences() {
        assert!(check_error_sequence(&[25, 62], 62).is_ok());
        assert!(check_error_sequence(&[25, 24, 25, 24], 24).is_ok());
        assert!(check_error_sequence(&[6], 6).is_ok());
        assert!(check_error_sequence(&[], 6).is_err());
        assert!(check_error_sequence(&[25, 62], 75).is_err());
        assert!(check_error_sequence(&[25, 24, 62], 62).is_err());
    }

    #[test]
    fn frames_with_a_big_endian_length() {
        assert_eq!(frame(&[0xaa; 3]), vec![0, 0, 0, 3, 0xaa, 0xaa, 0xaa]);
    }
}
