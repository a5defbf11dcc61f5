//! The software signer: the KDC key as a PKCS#8 PEM file (the dev default), signing with
//! aws-lc-rs's constant-time RSA (RFC 8017 §8.2 RSASSA-PKCS1-v1_5).

use std::path::Path;

use async_trait::async_trait;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

use super::{KdcSigner, SignatureScheme, SignerError};

pub struct SoftwareSigner {
    key: RsaKeyPair,
    chain: Vec<Vec<u8>>,
    rng: SystemRandom,
}

impl SoftwareSigner {
    /// Loads the key and the certificate chain (leaf first) and checks that they belong together.
    pub fn load(key_path: &Path, chain_path: &Path) -> Result<SoftwareSigner, SignerError> {
        let key_pem = read(key_path)?;
        let chain_pem = read(chain_path)?;
        let key_der = pem::parse(&key_pem)
            .map_err(|e| SignerError::Key(format!("{}: {e}", key_path.display())))?;
        let chain: Vec<Vec<u8>> = pem::parse_many(&chain_pem)
            .map_err(|e| SignerError::Key(format!("{}: {e}", chain_path.display())))?
            .into_iter()
            .filter(|p| p.tag() == "CERTIFICATE")
            .map(pem::Pem::into_contents)
            .collect();
        Self::from_der(key_der.contents(), chain)
            .map_err(|e| SignerError::Key(format!("{}: {e}", key_path.display())))
    }

    pub fn from_der(pkcs8: &[u8], chain: Vec<Vec<u8>>) -> Result<SoftwareSigner, SignerError> {
        let key = RsaKeyPair::from_pkcs8(pkcs8)
            .map_err(|e| SignerError::Key(format!("not an RSA PKCS#8 key: {e}")))?;
        let leaf = chain
            .first()
            .ok_or_else(|| SignerError::Key("no certificate in the chain file".into()))?;
        let (_, cert) = x509_parser::parse_x509_certificate(leaf)
            .map_err(|e| SignerError::Key(format!("bad KDC certificate: {e}")))?;
        use aws_lc_rs::signature::KeyPair;
        let cert_key = cert.public_key().subject_public_key.data.as_ref();
        if cert_key != key.public_key().as_ref() {
            return Err(SignerError::Key(
                "the key does not match the KDC certificate".into(),
            ));
        }
        Ok(SoftwareSigner {
            key,
            chain,
            rng: SystemRandom::new(),
        })
    }
}

fn read(path: &Path) -> Result<Vec<u8>, SignerError> {
    std::fs::read(path).map_err(|e| SignerError::Key(format!("{}: {e}", path.display())))
}

#[async_trait]
impl KdcSigner for SoftwareSigner {
    fn certificate_chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::RsaPkcs1Sha256
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let mut signature = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
            .map_err(|_| SignerError::Unavailable("RSA signing failed".into()))?;
        Ok(signature)
    }
}
