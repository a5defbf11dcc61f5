//! The software signer: a KDC key in process memory, either loaded from a PKCS#8 PEM file (the
//! dev default) or generated fresh (delegated mode), signing with aws-lc-rs's constant-time
//! RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) or ECDSA P-256 (FIPS 186-4, RFC 5758 §3.2).

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};

use super::{KdcSigner, SignatureScheme, Signed, SignerError};

/// An in-memory private key (aws-lc-rs zeroizes it when dropped).
pub enum SoftwareKey {
    Rsa(RsaKeyPair),
    EcdsaP256(EcdsaKeyPair),
}

impl SoftwareKey {
    /// An RSA or ECDSA P-256 key from PKCS#8 DER.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<SoftwareKey, SignerError> {
        if let Ok(key) = RsaKeyPair::from_pkcs8(pkcs8) {
            return Ok(SoftwareKey::Rsa(key));
        }
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8)
            .map(SoftwareKey::EcdsaP256)
            .map_err(|e| SignerError::Key(format!("not an RSA or P-256 PKCS#8 key: {e}")))
    }

    /// A fresh key for `scheme`.
    pub fn generate(scheme: SignatureScheme) -> Result<SoftwareKey, SignerError> {
        let failed = |_| SignerError::Key("key generation failed".into());
        match scheme {
            SignatureScheme::RsaPkcs1Sha256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .map(SoftwareKey::Rsa)
                .map_err(failed),
            SignatureScheme::EcdsaP256Sha256 => {
                EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
                    .map(SoftwareKey::EcdsaP256)
                    .map_err(failed)
            }
        }
    }

    pub fn scheme(&self) -> SignatureScheme {
        match self {
            SoftwareKey::Rsa(_) => SignatureScheme::RsaPkcs1Sha256,
            SoftwareKey::EcdsaP256(_) => SignatureScheme::EcdsaP256Sha256,
        }
    }

    /// The public key as DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7).
    pub fn spki_der(&self) -> Result<Vec<u8>, SignerError> {
        let der = match self {
            SoftwareKey::Rsa(key) => key.public_key().as_der().map(|d| d.as_ref().to_vec()),
            SoftwareKey::EcdsaP256(key) => key.public_key().as_der().map(|d| d.as_ref().to_vec()),
        };
        der.map_err(|_| SignerError::Key("public key encoding failed".into()))
    }

    /// The subjectPublicKey BIT STRING contents, as a certificate carries them.
    pub fn public_key_bits(&self) -> &[u8] {
        match self {
            SoftwareKey::Rsa(key) => key.public_key().as_ref(),
            SoftwareKey::EcdsaP256(key) => key.public_key().as_ref(),
        }
    }

    pub fn sign(&self, rng: &SystemRandom, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let failed = |_| SignerError::Unavailable("software signing failed".into());
        match self {
            SoftwareKey::Rsa(key) => {
                let mut signature = vec![0u8; key.public_modulus_len()];
                key.sign(&RSA_PKCS1_SHA256, rng, message, &mut signature)
                    .map_err(failed)?;
                Ok(signature)
            }
            SoftwareKey::EcdsaP256(key) => key
                .sign(rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(failed),
        }
    }
}

pub struct SoftwareSigner {
    key: SoftwareKey,
    chain: Arc<[Vec<u8>]>,
    rng: SystemRandom,
}

impl SoftwareSigner {
    /// Loads the key and the certificate chain (leaf first) and checks that they belong together.
    pub fn load(key_path: &Path, chain_path: &Path) -> Result<SoftwareSigner, SignerError> {
        let key_pem = read(key_path)?;
        let key_der = pem::parse(&key_pem)
            .map_err(|e| SignerError::Key(format!("{}: {e}", key_path.display())))?;
        let chain = read_chain(chain_path)?;
        Self::from_der(key_der.contents(), chain)
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
            chain: chain.into(),
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

    async fn sign(&self, message: &[u8]) -> Result<Signed, SignerError> {
        Ok(Signed {
            signature: self.key.sign(&self.rng, message)?,
            chain: self.chain.clone(),
        })
    }
}
