//! Which digests PKINIT's CMS signatures may use (RFC 4556 §3.2.2, RFC 8636 §3): whether the
//! client's AuthPack signature digest is accepted, and which digest the KDC signs its reply
//! with, under `[pkinit] sha1_signatures`.

use kdc_config::Sha1Signatures;
use rasn_pkix::AlgorithmIdentifier;

use crate::error::KdcError;
use crate::proto::codes::typed_data;
use crate::proto::der::{self, tag};
use crate::proto::pkinit::TypedDataEntry;
use crate::signer::{DigestAlgorithm, SignatureScheme};

/// The digest policy of the realm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestPolicy {
    pub sha1: Sha1Signatures,
}

impl DigestPolicy {
    fn allows(self, digest: DigestAlgorithm) -> bool {
        digest != DigestAlgorithm::Sha1 || self.sha1 == Sha1Signatures::Allow
    }

    /// Refuses a client signature whose digest the policy does not accept, with
    /// KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED and the accepted digests in
    /// TD-CMS-DIGEST-ALGORITHMS (RFC 8636 §3).
    pub fn check_client(self, digest: DigestAlgorithm) -> Result<(), KdcError> {
        if self.allows(digest) {
            return Ok(());
        }
        let accepted: Vec<u8> = DigestAlgorithm::ALL
            .into_iter()
            .filter(|&d| self.allows(d))
            .flat_map(DigestAlgorithm::algorithm_identifier_der)
            .collect();
        let typed = vec![TypedDataEntry {
            data_type: typed_data::TD_CMS_DIGEST_ALGORITHMS,
            data_value: Some(der::encode(tag::SEQUENCE, &accepted).into()),
        }];
        Err(KdcError::DigestNotAccepted {
            reason: format!(
                "the client signed its AuthPack with {} and sha1_signatures = \"refuse\"",
                digest.label()
            ),
            td_cms_digest_algorithms: rasn::der::encode(&typed).unwrap_or_default(),
        })
    }

    /// The digest of the KDC's reply signature: the first of the client's supportedCMSTypes,
    /// in its order, that this key can sign with and the policy allows; when the list is
    /// absent, empty or has none such, the digest the client signed its AuthPack with (clients
    /// that follow Windows send no list and verify only that digest); else the key's default.
    pub fn reply_digest(
        self,
        supported_cms_types: Option<&[AlgorithmIdentifier]>,
        client_digest: DigestAlgorithm,
        key: SignatureScheme,
        available: &[DigestAlgorithm],
    ) -> DigestAlgorithm {
        let usable = |d: &DigestAlgorithm| available.contains(d) && self.allows(*d);
        supported_cms_types
            .unwrap_or_default()
            .iter()
            .filter_map(|entry| {
                key.digest_of_signature_arcs(&entry.algorithm)
                    .or_else(|| DigestAlgorithm::from_oid(&entry.algorithm))
            })
            .find(usable)
            .or_else(|| Some(client_digest).filter(usable))
            .unwrap_or_else(|| key.default_digest())
    }
}

#[cfg(test)]
mod tests {
    use rasn::types::ObjectIdentifier;

    use super::*;
    use crate::proto::codes::{ErrorCode, oid};

    const ALLOW: DigestPolicy = DigestPolicy {
        sha1: Sha1Signatures::Allow,
    };
    const REFUSE: DigestPolicy = DigestPolicy {
        sha1: Sha1Signatures::Refuse,
    };
    const RSA_ALL: &[DigestAlgorithm] = &[
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512,
        DigestAlgorithm::Sha1,
    ];
    const RSA: SignatureScheme = SignatureScheme::RsaPkcs1Sha256;

    fn ids(list: &[&[u32]]) -> Vec<AlgorithmIdentifier> {
        list.iter()
            .map(|arcs| AlgorithmIdentifier {
                algorithm: ObjectIdentifier::new(arcs.to_vec()).unwrap(),
                parameters: None,
            })
            .collect()
    }

    #[test]
    fn the_clients_order_decides_among_what_the_key_can_sign() {
        let list = ids(&[oid::SHA512_WITH_RSA, oid::SHA256_WITH_RSA]);
        assert_eq!(
            ALLOW.reply_digest(Some(&list), DigestAlgorithm::Sha256, RSA, RSA_ALL),
            DigestAlgorithm::Sha512
        );
        // An entry the key cannot make (ECDSA for an RSA key) or the build cannot is passed over.
        let list = ids(&[
            oid::ECDSA_WITH_SHA384,
            oid::SHA512_WITH_RSA,
            oid::SHA1_WITH_RSA,
        ]);
        assert_eq!(
            ALLOW.reply_digest(
                Some(&list),
                DigestAlgorithm::Sha256,
                RSA,
                &[DigestAlgorithm::Sha256, DigestAlgorithm::Sha1]
            ),
            DigestAlgorithm::Sha1
        );
        // A plain digest OID names its digest too.
        let list = ids(&[oid::SHA384]);
        assert_eq!(
            ALLOW.reply_digest(Some(&list), DigestAlgorithm::Sha256, RSA, RSA_ALL),
            DigestAlgorithm::Sha384
        );
    }

    #[test]
    fn sha1_in_the_list_is_passed_over_when_refused() {
        let list = ids(&[oid::SHA1_WITH_RSA, oid::SHA256_WITH_RSA]);
        assert_eq!(
            ALLOW.reply_digest(Some(&list), DigestAlgorithm::Sha256, RSA, RSA_ALL),
            DigestAlgorithm::Sha1
        );
        assert_eq!(
            REFUSE.reply_digest(Some(&list), DigestAlgorithm::Sha256, RSA, RSA_ALL),
            DigestAlgorithm::Sha256
        );
    }

    #[test]
    fn without_a_list_the_clients_own_digest_is_used() {
        for list in [None, Some(Vec::new())] {
            assert_eq!(
                ALLOW.reply_digest(list.as_deref(), DigestAlgorithm::Sha1, RSA, RSA_ALL),
                DigestAlgorithm::Sha1
            );
            assert_eq!(
                ALLOW.reply_digest(list.as_deref(), DigestAlgorithm::Sha384, RSA, RSA_ALL),
                DigestAlgorithm::Sha384
            );
        }
        // A list with nothing usable falls back the same way.
        let unknown = ids(&[oid::RSA_ENCRYPTION]);
        assert_eq!(
            ALLOW.reply_digest(Some(&unknown), DigestAlgorithm::Sha1, RSA, RSA_ALL),
            DigestAlgorithm::Sha1
        );
    }

    #[test]
    fn the_default_digest_when_nothing_else_can_be_signed() {
        // A build without OpenSSL cannot sign SHA-1: SHA-256, the key's default.
        assert_eq!(
            ALLOW.reply_digest(
                None,
                DigestAlgorithm::Sha1,
                RSA,
                &[DigestAlgorithm::Sha256, DigestAlgorithm::Sha384]
            ),
            DigestAlgorithm::Sha256
        );
        // A P-256 key signs SHA-256 only: an RSA-only list falls back to it.
        let list = ids(&[oid::SHA512_WITH_RSA]);
        assert_eq!(
            ALLOW.reply_digest(
                Some(&list),
                DigestAlgorithm::Sha512,
                SignatureScheme::EcdsaP256Sha256,
                &[DigestAlgorithm::Sha256]
            ),
            DigestAlgorithm::Sha256
        );
    }

    #[test]
    fn a_refused_client_digest_answers_with_the_accepted_ones() {
        assert!(ALLOW.check_client(DigestAlgorithm::Sha1).is_ok());
        assert!(REFUSE.check_client(DigestAlgorithm::Sha256).is_ok());
        let error = REFUSE.check_client(DigestAlgorithm::Sha1).unwrap_err();
        assert_eq!(error.code(), ErrorCode::DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED);
        let typed: Vec<TypedDataEntry> = rasn::der::decode(&error.e_data().unwrap()).unwrap();
        assert_eq!(typed[0].data_type, 111);
        let listed: Vec<AlgorithmIdentifier> =
            rasn::der::decode(typed[0].data_value.as_ref().unwrap()).unwrap();
        let names: Vec<String> = listed.iter().map(|a| a.algorithm.to_string()).collect();
        assert_eq!(
            names,
            [
                "2.16.840.1.101.3.4.2.1",
                "2.16.840.1.101.3.4.2.2",
                "2.16.840.1.101.3.4.2.3"
            ]
        );
    }

    /// What real clients list, and what they get: the captures in testdata/wire.
    #[test]
    fn real_clients_get_the_first_sha2_digest_they_list() {
        use crate::proto::codes::padata;
        use crate::proto::kerberos::KdcRequest;
        use crate::proto::pkinit::{AuthPack, PaPkAsReq};

        for (capture, expected) in [
            ("mit_as_req_pkinit_dh2048.der", DigestAlgorithm::Sha256),
            ("heimdal_as_req_pkinit_dh2048.der", DigestAlgorithm::Sha512),
        ] {
            let bytes = crate::testing::wire(capture);
            let request = KdcRequest::decode(&bytes).unwrap();
            let pa: PaPkAsReq =
                rasn::der::decode(request.padata(padata::PK_AS_REQ).unwrap()).unwrap();
            let verified = crate::preauth::pkinit::cms::verify(
                &pa.signed_auth_pack,
                crate::preauth::pkinit::cms::ContentType::AuthPack,
            )
            .unwrap();
            let auth_pack: AuthPack = rasn::der::decode(verified.content()).unwrap();
            let listed: Vec<String> = auth_pack
                .supported_cms_types
                .iter()
                .flatten()
                .map(|a| a.algorithm.to_string())
                .collect();
            assert_eq!(
                ALLOW.reply_digest(
                    auth_pack.supported_cms_types.as_deref(),
                    verified.digest_algorithm(),
                    RSA,
                    RSA_ALL
                ),
                expected,
                "{capture} lists {listed:?}"
            );
        }
    }
}
