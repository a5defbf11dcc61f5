//! The digest algorithms of CMS signatures in PKINIT (RFC 3370 §2.1 SHA-1, RFC 5754 §2
//! SHA-2): one type for the client's AuthPack, the KDC's reply and the signer that makes it,
//! with their AlgorithmIdentifiers written once.

use aws_lc_rs::digest;

use crate::proto::codes::oid;
use crate::proto::der::{self, tag};

/// A digest a PKINIT SignedData is made over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// Legacy: what Windows-shaped clients sign with and demand in replies.
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl From<kdc_config::HashName> for DigestAlgorithm {
    fn from(name: kdc_config::HashName) -> Self {
        match name {
            kdc_config::HashName::Sha1 => DigestAlgorithm::Sha1,
            kdc_config::HashName::Sha256 => DigestAlgorithm::Sha256,
            kdc_config::HashName::Sha384 => DigestAlgorithm::Sha384,
            kdc_config::HashName::Sha512 => DigestAlgorithm::Sha512,
        }
    }
}

impl DigestAlgorithm {
    pub const ALL: [DigestAlgorithm; 4] = [
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512,
        DigestAlgorithm::Sha1,
    ];

    pub const fn oid(self) -> &'static [u32] {
        match self {
            DigestAlgorithm::Sha1 => oid::SHA1,
            DigestAlgorithm::Sha256 => oid::SHA256,
            DigestAlgorithm::Sha384 => oid::SHA384,
            DigestAlgorithm::Sha512 => oid::SHA512,
        }
    }

    /// [`Self::oid`] as a DER OBJECT IDENTIFIER (tag and length included), encoded at
    /// compile time.
    pub fn oid_der(self) -> &'static [u8] {
        match self {
            Self::Sha1 => der::oid_der!(DigestAlgorithm::Sha1.oid()),
            Self::Sha256 => der::oid_der!(DigestAlgorithm::Sha256.oid()),
            Self::Sha384 => der::oid_der!(DigestAlgorithm::Sha384.oid()),
            Self::Sha512 => der::oid_der!(DigestAlgorithm::Sha512.oid()),
        }
    }

    /// The digest named by a DER OBJECT IDENTIFIER (tag and length included), as CMS
    /// carries it.
    pub fn from_oid_der(oid_der: &[u8]) -> Option<DigestAlgorithm> {
        Self::ALL.into_iter().find(|d| d.oid_der() == oid_der)
    }

    /// The digest named by an OID's arcs, as rasn decodes it.
    pub fn from_oid(arcs: &[u32]) -> Option<DigestAlgorithm> {
        Self::ALL.into_iter().find(|d| d.oid() == arcs)
    }

    /// The DER AlgorithmIdentifier with explicit NULL parameters, as Windows and MIT write
    /// it. RFC 5754 §2 lets senders omit them, but clients that follow Windows refuse a
    /// digest AlgorithmIdentifier without them; receivers accept both (RFC 5754 §2).
    pub fn algorithm_identifier_der(self) -> Vec<u8> {
        der::encode_parts(tag::SEQUENCE, &[self.oid_der(), &[tag::NULL, 0]])
    }

    pub fn aws_lc(self) -> &'static digest::Algorithm {
        match self {
            DigestAlgorithm::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            DigestAlgorithm::Sha256 => &digest::SHA256,
            DigestAlgorithm::Sha384 => &digest::SHA384,
            DigestAlgorithm::Sha512 => &digest::SHA512,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.aws_lc(), data).as_ref().to_vec()
    }

    /// The name operators read in logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha1 => "sha1",
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha384 => "sha384",
            DigestAlgorithm::Sha512 => "sha512",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_identifiers_carry_null_parameters() {
        // SEQUENCE { OID 2.16.840.1.101.3.4.2.1, NULL }, as MIT and Windows write it.
        assert_eq!(
            hex::encode(DigestAlgorithm::Sha256.algorithm_identifier_der()),
            "300d06096086480165030402010500"
        );
        assert_eq!(
            hex::encode(DigestAlgorithm::Sha1.algorithm_identifier_der()),
            "300906052b0e03021a0500"
        );
    }

    #[test]
    fn oids_round_trip() {
        for d in DigestAlgorithm::ALL {
            assert_eq!(d.oid_der(), der::encode_oid(d.oid()));
            assert_eq!(
                DigestAlgorithm::from_oid_der(&der::encode_oid(d.oid())),
                Some(d)
            );
            assert_eq!(DigestAlgorithm::from_oid(d.oid()), Some(d));
        }
        assert_eq!(DigestAlgorithm::from_oid(oid::RSA_ENCRYPTION), None);
        assert_eq!(
            DigestAlgorithm::from_oid_der(&der::encode_oid(oid::RSA_ENCRYPTION)),
            None
        );
    }
}
