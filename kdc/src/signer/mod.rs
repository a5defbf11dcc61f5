//! The KDC's signing identity for PA-PK-AS-REP (RFC 4556 §3.2.3): a small async trait so a
//! software key and a TPM-held key (a single-owner queue) serve the same call.

pub mod software;

use async_trait::async_trait;

/// The signature scheme a signer produces, named by its CMS signatureAlgorithm OID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureScheme {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (sha256WithRSAEncryption).
    RsaPkcs1Sha256,
}

impl SignatureScheme {
    /// The CMS digestAlgorithm paired with this scheme.
    pub fn digest_oid(self) -> &'static [u32] {
        match self {
            SignatureScheme::RsaPkcs1Sha256 => crate::proto::codes::oid::SHA256,
        }
    }

    pub fn signature_oid(self) -> &'static [u32] {
        match self {
            SignatureScheme::RsaPkcs1Sha256 => crate::proto::codes::oid::SHA256_WITH_RSA,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            SignatureScheme::RsaPkcs1Sha256 => {
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
                    .as_ref()
                    .to_vec()
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("signing key unusable: {0}")]
    Key(String),
    #[error("signer unavailable: {0}")]
    Unavailable(String),
}

/// Signs KDC replies. The certificate chain is sent in every reply, leaf first.
#[async_trait]
pub trait KdcSigner: Send + Sync {
    fn certificate_chain(&self) -> &[Vec<u8>];
    fn scheme(&self) -> SignatureScheme;
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError>;
}
