//! The client as smart-card and Hello clients that follow Windows talk (MS-PKCA as seen from
//! them, DESIGN.md "Other clients in the field"): DH INTEGERs without their sign byte, q = 0
//! (Windows' CNG DH keys carry p and g only), a clientDHNonce, an empty supportedCMSTypes, a SHA-1 AuthPack signature, no RFC 8636 KDF
//! (octetstring2key with both nonces), and a reply checked the strict way they check it.

use kdc::preauth::pkinit::agreement::{DhGroup, ModpGroup};
use kdc::preauth::pkinit::cms::Verified;
use kdc::proto::der::{self, tag};
use kdc::proto::pkinit::DhRepInfo;
use kdc::signer::DigestAlgorithm;

use crate::{ClientError, ClientOptions};

impl ClientOptions {
    /// A client shaped like Windows' PKINIT clients.
    pub fn windows(realm: &str, user: &str) -> Self {
        Self {
            group: DhGroup::Modp(ModpGroup::Modp14),
            kdfs: Vec::new(),
            send_client_dh_nonce: true,
            send_subgroup_order: false,
            signature_digest: DigestAlgorithm::Sha1,
            supported_cms_types: Some(Vec::new()),
            unsigned_integers: true,
            windows_reply_checks: true,
            ..Self::new(realm, user)
        }
    }
}

/// An INTEGER for a non-negative magnitude; with `unsigned`, without the sign byte a value
/// with its top bit set needs, so that it reads as negative (as these clients send it).
pub(super) fn integer(magnitude: &[u8], unsigned: bool) -> Vec<u8> {
    if !unsigned {
        return der::encode_unsigned_integer(magnitude);
    }
    let skip = magnitude.iter().take_while(|&&b| b == 0).count();
    let trimmed = magnitude.get(skip..).unwrap_or_default();
    if trimmed.is_empty() {
        return der::encode(tag::INTEGER, &[0]);
    }
    der::encode(tag::INTEGER, trimmed)
}

/// What these clients refuse before they use a reply: a digest AlgorithmIdentifier without
/// NULL parameters, a signature over anything but SHA-1, a reply without serverDHNonce.
pub(super) fn check_reply(verified: &Verified<'_>, info: &DhRepInfo) -> Result<(), ClientError> {
    let bad = |what: &str| ClientError::BadReply(what.to_owned());
    let sha1 = DigestAlgorithm::Sha1.algorithm_identifier_der();
    if verified
        .digest_algorithm_ids()
        .iter()
        .any(|id| *id != sha1.as_slice())
    {
        return Err(bad(
            "[AlgorithmIdentifier] sha algorithm identifier is missing (a digest AlgorithmIdentifier is not SHA-1 with NULL parameters)",
        ));
    }
    if verified.digest_algorithm() != DigestAlgorithm::Sha1 {
        return Err(bad("the KDC signature is not over a SHA-1 digest"));
    }
    if info.server_dh_nonce.is_none() {
        return Err(bad("no serverDHNonce in the reply"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_integers_lose_only_the_sign_byte() {
        assert_eq!(integer(&[0x80, 1], true), [0x02, 0x02, 0x80, 0x01]);
        assert_eq!(integer(&[0x80, 1], false), [0x02, 0x03, 0x00, 0x80, 0x01]);
        assert_eq!(integer(&[0, 0x7f], true), [0x02, 0x01, 0x7f]);
        assert_eq!(integer(&[], true), [0x02, 0x01, 0x00]);
    }
}
