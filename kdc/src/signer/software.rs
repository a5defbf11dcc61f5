//! The software signer: a KDC key in process memory, either loaded from a PKCS#8 PEM file (the
//! dev default) or generated fresh (delegated mode), signing with aws-lc-rs's constant-time
//! RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) or ECDSA P-256 (FIPS 186-4, RFC 5758 §3.2). SHA-1
//! signatures, which aws-lc-rs does not make, go through OpenSSL with the `openssl` feature.

use std::path::Path;

use async_trait::async_trait;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384,
    RSA_PKCS1_SHA512, RsaKeyPair,
};

use zeroize::Zeroizing;

use super::{CertificateChain, DigestAlgorithm, KdcSigner, SignatureScheme, Signed, SignerError};

/// The digests a software key signs with: SHA-2 through aws-lc-rs (P-256 keys SHA-256 only,
/// the one curve-and-hash pair aws-lc-rs signs), SHA-1 only through OpenSSL.
#[cfg(feature = "openssl")]
const RSA_DIGESTS: &[DigestAlgorithm] = &[
    DigestAlgorithm::Sha256,
    DigestAlgorithm::Sha384,
    DigestAlgorithm::Sha512,
    DigestAlgorithm::Sha1,
];
#[cfg(not(feature = "openssl"))]
const RSA_DIGESTS: &[DigestAlgorithm] = &[
    DigestAlgorithm::Sha256,
    DigestAlgorithm::Sha384,
    DigestAlgorithm::Sha512,
];
#[cfg(feature = "openssl")]
const EC_DIGESTS: &[DigestAlgorithm] = &[DigestAlgorithm::Sha256, DigestAlgorithm::Sha1];
#[cfg(not(feature = "openssl"))]
const EC_DIGESTS: &[DigestAlgorithm] = &[DigestAlgorithm::Sha256];

/// An in-memory private key (aws-lc-rs zeroizes it when dropped; OpenSSL frees its copy with
/// BN_clear_free).
pub struct SoftwareKey {
    pair: Pair,
    #[cfg(feature = "openssl")]
    legacy: openssl::pkey::PKey<openssl::pkey::Private>,
}

enum Pair {
    Rsa(RsaKeyPair),
    EcdsaP256(EcdsaKeyPair),
}

impl SoftwareKey {
    /// An RSA or ECDSA P-256 key from PKCS#8 DER.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<SoftwareKey, SignerError> {
        let pair = match RsaKeyPair::from_pkcs8(pkcs8) {
            Ok(key) => Pair::Rsa(key),
            Err(_) => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8)
                .map(Pair::EcdsaP256)
                .map_err(|e| SignerError::Key(format!("not an RSA or P-256 PKCS#8 key: {e}")))?,
        };
        Self::with_legacy(pair, pkcs8)
    }

    /// A fresh key for `scheme`.
    pub fn generate(scheme: SignatureScheme) -> Result<SoftwareKey, SignerError> {
        let failed = |_| SignerError::Key("key generation failed".into());
        let (pair, pkcs8) = match scheme {
            SignatureScheme::RsaPkcs1Sha256 => {
                let key = RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?;
                let pkcs8 = key.as_der().map_err(failed)?.as_ref().to_vec();
                (Pair::Rsa(key), pkcs8)
            }
            SignatureScheme::EcdsaP256Sha256 => {
                let key =
                    EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).map_err(failed)?;
                let pkcs8 = key.to_pkcs8v1().map_err(failed)?.as_ref().to_vec();
                (Pair::EcdsaP256(key), pkcs8)
            }
        };
        Self::with_legacy(pair, &Zeroizing::new(pkcs8))
    }

    #[cfg(feature = "openssl")]
    fn with_legacy(pair: Pair, pkcs8: &[u8]) -> Result<SoftwareKey, SignerError> {
        let legacy = openssl::pkey::PKey::private_key_from_pkcs8(pkcs8)
            .map_err(|e| SignerError::Key(format!("OpenSSL cannot read the key: {e}")))?;
        Ok(SoftwareKey { pair, legacy })
    }

    #[cfg(not(feature = "openssl"))]
    fn with_legacy(pair: Pair, _pkcs8: &[u8]) -> Result<SoftwareKey, SignerError> {
        Ok(SoftwareKey { pair })
    }

    pub fn scheme(&self) -> SignatureScheme {
        match self.pair {
            Pair::Rsa(_) => SignatureScheme::RsaPkcs1Sha256,
            Pair::EcdsaP256(_) => SignatureScheme::EcdsaP256Sha256,
        }
    }

    pub fn digests(&self) -> &'static [DigestAlgorithm] {
        digests_for(self.scheme())
    }

    /// The public key as DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7).
    pub fn spki_der(&self) -> Result<Vec<u8>, SignerError> {
        let der = match &self.pair {
            Pair::Rsa(key) => key.public_key().as_der().map(|d| d.as_ref().to_vec()),
            Pair::EcdsaP256(key) => key.public_key().as_der().map(|d| d.as_ref().to_vec()),
        };
        der.map_err(|_| SignerError::Key("public key encoding failed".into()))
    }

    /// The subjectPublicKey BIT STRING contents, as a certificate carries them.
    pub fn public_key_bits(&self) -> &[u8] {
        match &self.pair {
            Pair::Rsa(key) => key.public_key().as_ref(),
            Pair::EcdsaP256(key) => key.public_key().as_ref(),
        }
    }

    pub fn sign(
        &self,
        rng: &SystemRandom,
        message: &[u8],
        digest: DigestAlgorithm,
    ) -> Result<Vec<u8>, SignerError> {
        let failed = |_| SignerError::Unavailable("software signing failed".into());
        match (&self.pair, digest) {
            (_, DigestAlgorithm::Sha1) => self.sign_legacy(message),
            (Pair::Rsa(key), _) => {
                let encoding = match digest {
                    DigestAlgorithm::Sha384 => &RSA_PKCS1_SHA384,
                    DigestAlgorithm::Sha512 => &RSA_PKCS1_SHA512,
                    _ => &RSA_PKCS1_SHA256,
                };
                let mut signature = vec![0u8; key.public_modulus_len()];
                key.sign(encoding, rng, message, &mut signature)
                    .map_err(failed)?;
                Ok(signature)
            }
            (Pair::EcdsaP256(key), DigestAlgorithm::Sha256) => key
                .sign(rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(failed),
            (Pair::EcdsaP256(_), other) => Err(unsupported(other)),
        }
    }

    /// SHA-1 through OpenSSL (RSA blinding and constant-time exponentiation, as for its
    /// other private-key operations).
    #[cfg(feature = "openssl")]
    fn sign_legacy(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let failed = |e: openssl::error::ErrorStack| {
            SignerError::Unavailable(format!("OpenSSL SHA-1 signing failed: {e}"))
        };
        let mut signer =
            openssl::sign::Signer::new(openssl::hash::MessageDigest::sha1(), &self.legacy)
                .map_err(failed)?;
        signer.sign_oneshot_to_vec(message).map_err(failed)
    }

    #[cfg(not(feature = "openssl"))]
    fn sign_legacy(&self, _message: &[u8]) -> Result<Vec<u8>, SignerError> {
        Err(unsupported(DigestAlgorithm::Sha1))
    }
}

/// What a software key of `scheme` can sign with in this build.
pub fn digests_for(scheme: SignatureScheme) -> &'static [DigestAlgorithm] {
    match scheme {
        SignatureScheme::RsaPkcs1Sha256 => RSA_DIGESTS,
        SignatureScheme::EcdsaP256Sha256 => EC_DIGESTS,
    }
}

fn unsupported(digest: DigestAlgorithm) -> SignerError {
    SignerError::Key(format!(
        "this key cannot sign with {} in this build",
        digest.label()
    ))
}

pub struct SoftwareSigner {
    key: SoftwareKey,
    chain: CertificateChain,
    rng: SystemRandom,
}

impl SoftwareSigner {
    /// Loads a key and its certificate chain (leaf first) and checks that they belong
    /// together: a client's key (the load generator, tests).
    pub fn load(key_path: &Path, chain_path: &Path) -> Result<SoftwareSigner, SignerError> {
        let key_pem = Zeroizing::new(read(key_path)?);
        Self::from_pem(&key_pem, key_path, chain_path)
    }

    /// Loads the KDC's own key, refusing a key file that group or others may read.
    pub fn load_kdc_key(key_path: &Path, chain_path: &Path) -> Result<SoftwareSigner, SignerError> {
        let key_pem =
            crate::secret_file::read(key_path).map_err(|e| SignerError::Key(e.to_string()))?;
        Self::from_pem(&key_pem, key_path, chain_path)
    }

    fn from_pem(
        key_pem: &[u8],
        key_path: &Path,
        chain_path: &Path,
    ) -> Result<SoftwareSigner, SignerError> {
        let key_der = Zeroizing::new(
            pem::parse(key_pem)
                .map_err(|e| SignerError::Key(format!("{}: {e}", key_path.display())))?
                .into_contents(),
        );
        let chain = read_chain(chain_path)?;
        Self::from_der(&key_der, chain)
            .map_err(|e| SignerError::Key(format!("{}: {e}", key_path.display())))
    }

    pub fn from_der(pkcs8: &[u8], chain: Vec<Vec<u8>>) -> Result<SoftwareSigner, SignerError> {
        Self::new(SoftwareKey::from_pkcs8(pkcs8)?, chain)
    }

    /// A signer for `key`, whose certificate must be the first of `chain`.
    pub fn new(key: SoftwareKey, chain: Vec<Vec<u8>>) -> Result<SoftwareSigner, SignerError> {
        let leaf = chain
            .first()
            .ok_or_else(|| SignerError::Key("no certificate in the chain file".into()))?;
        if certificate_public_key(leaf)? != key.public_key_bits() {
            return Err(SignerError::Key(
                "the key does not match the KDC certificate".into(),
            ));
        }
        Ok(SoftwareSigner {
            key,
            chain: CertificateChain::new(chain)?,
            rng: SystemRandom::new(),
        })
    }
}

/// The subjectPublicKey bits of a DER certificate.
pub fn certificate_public_key(cert_der: &[u8]) -> Result<Vec<u8>, SignerError> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|e| SignerError::Key(format!("bad KDC certificate: {e}")))?;
    Ok(cert.public_key().subject_public_key.data.to_vec())
}

/// Every CERTIFICATE block of a PEM file, in file order.
pub fn read_chain(path: &Path) -> Result<Vec<Vec<u8>>, SignerError> {
    let chain_pem = read(path)?;
    let chain: Vec<Vec<u8>> = pem::parse_many(&chain_pem)
        .map_err(|e| SignerError::Key(format!("{}: {e}", path.display())))?
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect();
    if chain.is_empty() {
        return Err(SignerError::Key(format!(
            "{}: no CERTIFICATE in it",
            path.display()
        )));
    }
    Ok(chain)
}

fn read(path: &Path) -> Result<Vec<u8>, SignerError> {
    std::fs::read(path).map_err(|e| SignerError::Key(format!("{}: {e}", path.display())))
}

#[async_trait]
impl KdcSigner for SoftwareSigner {
    fn scheme(&self) -> SignatureScheme {
        self.key.scheme()
    }

    fn digests(&self) -> &'static [DigestAlgorithm] {
        self.key.digests()
    }

    async fn sign(&self, message: &[u8], digest: DigestAlgorithm) -> Result<Signed, SignerError> {
        Ok(Signed {
            signature: self.key.sign(&self.rng, message, digest)?,
            chain: self.chain.clone(),
        })
    }
}
