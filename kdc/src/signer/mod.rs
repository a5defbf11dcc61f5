//! The KDC's signing identity for PA-PK-AS-REP (RFC 4556 §3.2.3): a small async trait so a
//! software key, a TPM-held key (a single-owner queue) and a TPM-delegated in-memory key
//! serve the same call.

mod chain;
pub mod delegated;
mod digest;
pub mod from_config;
pub mod software;
#[cfg(feature = "tpm")]
pub mod tpm;
pub mod x509;

use async_trait::async_trait;

pub use self::chain::CertificateChain;
pub use self::digest::DigestAlgorithm;
use crate::proto::codes::oid;
use crate::proto::der::{self, tag};

/// The signature scheme a signer produces, named by its CMS signatureAlgorithm OID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureScheme {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (sha256WithRSAEncryption, RFC 8017 §8.2).
    RsaPkcs1Sha256,
    /// ECDSA on P-256 with SHA-256 (ecdsa-with-SHA256, RFC 5758 §3.2); the signature is a
    /// DER Ecdsa-Sig-Value.
    EcdsaP256Sha256,
}

impl SignatureScheme {
    /// The digest of X.509 signatures and of CMS signatures nobody asked otherwise of.
    pub fn default_digest(self) -> DigestAlgorithm {
        DigestAlgorithm::Sha256
    }

    /// The signatureAlgorithm OID for this key with `digest` (RFC 3370 §3.2, RFC 4055 §5,
    /// RFC 5758 §3.2).
    pub const fn signature_oid(self, digest: DigestAlgorithm) -> &'static [u32] {
        match (self, digest) {
            (SignatureScheme::RsaPkcs1Sha256, DigestAlgorithm::Sha1) => oid::SHA1_WITH_RSA,
            (SignatureScheme::RsaPkcs1Sha256, DigestAlgorithm::Sha256) => oid::SHA256_WITH_RSA,
            (SignatureScheme::RsaPkcs1Sha256, DigestAlgorithm::Sha384) => oid::SHA384_WITH_RSA,
            (SignatureScheme::RsaPkcs1Sha256, DigestAlgorithm::Sha512) => oid::SHA512_WITH_RSA,
            (SignatureScheme::EcdsaP256Sha256, DigestAlgorithm::Sha1) => oid::ECDSA_WITH_SHA1,
            (SignatureScheme::EcdsaP256Sha256, DigestAlgorithm::Sha256) => oid::ECDSA_WITH_SHA256,
            (SignatureScheme::EcdsaP256Sha256, DigestAlgorithm::Sha384) => oid::ECDSA_WITH_SHA384,
            (SignatureScheme::EcdsaP256Sha256, DigestAlgorithm::Sha512) => oid::ECDSA_WITH_SHA512,
        }
    }

    /// [`Self::signature_oid`] as a DER OBJECT IDENTIFIER, encoded at compile time.
    pub fn signature_oid_der(self, digest: DigestAlgorithm) -> &'static [u8] {
        use DigestAlgorithm::{Sha1, Sha256, Sha384, Sha512};
        use SignatureScheme::{EcdsaP256Sha256 as Ec, RsaPkcs1Sha256 as Rsa};
        match (self, digest) {
            (Rsa, Sha1) => der::oid_der!(Rsa.signature_oid(Sha1)),
            (Rsa, Sha256) => der::oid_der!(Rsa.signature_oid(Sha256)),
            (Rsa, Sha384) => der::oid_der!(Rsa.signature_oid(Sha384)),
            (Rsa, Sha512) => der::oid_der!(Rsa.signature_oid(Sha512)),
            (Ec, Sha1) => der::oid_der!(Ec.signature_oid(Sha1)),
            (Ec, Sha256) => der::oid_der!(Ec.signature_oid(Sha256)),
            (Ec, Sha384) => der::oid_der!(Ec.signature_oid(Sha384)),
            (Ec, Sha512) => der::oid_der!(Ec.signature_oid(Sha512)),
        }
    }

    /// The digest a signatureAlgorithm OID (DER, as CMS carries it) names for this kind of
    /// key, if it is one of this key's (an RSA key never takes an ECDSA identifier, nor the
    /// reverse).
    pub fn digest_of_signature_oid(self, oid_der: &[u8]) -> Option<DigestAlgorithm> {
        DigestAlgorithm::ALL
            .into_iter()
            .find(|&d| self.signature_oid_der(d) == oid_der)
    }

    /// [`Self::digest_of_signature_oid`] for an OID's arcs, as rasn decodes it.
    pub fn digest_of_signature_arcs(self, arcs: &[u32]) -> Option<DigestAlgorithm> {
        DigestAlgorithm::ALL
            .into_iter()
            .find(|&d| self.signature_oid(d) == arcs)
    }

    /// The DER AlgorithmIdentifier for signatureAlgorithm (CMS and X.509 alike): RSA PKCS#1
    /// v1.5 carries NULL parameters (RFC 4055 §5), ECDSA none at all (RFC 5758 §3.2).
    pub fn signature_algorithm_der(self, digest: DigestAlgorithm) -> Vec<u8> {
        let algorithm = self.signature_oid_der(digest);
        match self {
            SignatureScheme::RsaPkcs1Sha256 => {
                der::encode_parts(tag::SEQUENCE, &[algorithm, &[tag::NULL, 0]])
            }
            SignatureScheme::EcdsaP256Sha256 => der::encode(tag::SEQUENCE, algorithm),
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

/// A signature with the certificate chain (leaf first) of the key that made it. A delegated
/// signer changes keys, so the two must come from one call.
#[derive(Clone, Debug)]
pub struct Signed {
    pub signature: Vec<u8>,
    pub chain: CertificateChain,
}

/// Signs KDC replies. The certificate chain is sent in every reply, leaf first.
#[async_trait]
pub trait KdcSigner: Send + Sync {
    /// The kind of key every signature of this signer uses, for the whole of its life.
    fn scheme(&self) -> SignatureScheme;
    /// The digests this signer can sign with (a TPM key is bound to its template's hash; a
    /// software key signs SHA-1 only through OpenSSL).
    fn digests(&self) -> &'static [DigestAlgorithm];
    /// Signs `message` (the whole message: the signer hashes it with `digest`, one of
    /// [`KdcSigner::digests`]).
    async fn sign(&self, message: &[u8], digest: DigestAlgorithm) -> Result<Signed, SignerError>;
    /// Whether a signature can be had now (a TPM signer: its device answers). Health checks
    /// read it; a software key always can.
    fn available(&self) -> bool {
        true
    }
    /// Requests waiting for the signing device, for signers that queue (the TPM).
    fn queue_depth(&self) -> Option<usize> {
        None
    }
}
