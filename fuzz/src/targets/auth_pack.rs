//! AuthPack (RFC 4556 §3.2.1, RFC 8636 §4) as the KDC reads it once its signature verified:
//! the client's DH offer, MODP domain parameters (RFC 3279 §2.3.3) or a named curve (RFC
//! 5480 §2.1.1), the public value's range check or the point's validation, and the KDF
//! choice. The input is the AuthPack DER itself: behind the signature, as the handler target
//! reaches it with a signing fixture, but here without the cost of signing.

use std::sync::LazyLock;

use kdc::error::KdcError;
use kdc::preauth::pkinit::agreement::{self, DhGroup, DhKey, PkinitKdf};
use kdc::preauth::pkinit::dh_params;
use kdc::proto::codes::ErrorCode;
use kdc::proto::pkinit::{AuthPack, TypedDataEntry};
use kdc_config::DhStrength;

use crate::check::der_round_trip;

/// The `min_dh_bits` the offers are read under (the default).
const MINIMUM: DhStrength = DhStrength::Modp2048;

/// A KDC key on every curve, to validate points by agreeing with them.
static CURVE_KEYS: LazyLock<Vec<(DhGroup, DhKey)>> = LazyLock::new(|| {
    DhGroup::ALL
        .into_iter()
        .filter(|group| matches!(group, DhGroup::Ec(_)))
        .filter_map(|group| agreement::generate_key(group).ok())
        .map(|(key, _)| (key.group(), key))
        .collect()
});

pub fn run(data: &[u8]) {
    let Ok(auth_pack) = rasn::der::decode::<AuthPack>(data) else {
        return;
    };
    der_round_trip(&auth_pack);
    let kdf = auth_pack
        .supported_kdfs
        .iter()
        .flatten()
        .find_map(|id| PkinitKdf::from_oid(&id.kdf_id));
    if let Some(kdf) = kdf {
        assert!(
            auth_pack
                .supported_kdfs
                .iter()
                .flatten()
                .any(|id| &*id.kdf_id == kdf.oid()),
            "the KDF chosen is one the client offered"
        );
    }
    if let Some(offer) = &auth_pack.client_public_value {
        check_offer(offer);
    }
}

fn check_offer(offer: &rasn_pkix::SubjectPublicKeyInfo) {
    let modp = dh_params::offers_modp(offer);
    match dh_params::client_public_value(offer, MINIMUM) {
        Ok(value) => match value.group {
            DhGroup::Modp(group) => {
                assert!(modp);
                assert!(
                    value.y.first() != Some(&0),
                    "y is read without leading zeros"
                );
                let _ = agreement::validate_public(group, &value.y);
            }
            DhGroup::Ec(_) => {
                assert!(!modp);
                assert!(value.negative_integers.is_empty());
                let key = CURVE_KEYS.iter().find(|(group, _)| *group == value.group);
                if let Some((_, key)) = key {
                    let _ = key.agree(&value.y);
                }
            }
        },
        Err(KdcError::DhParametersNotAccepted {
            td_dh_parameters, ..
        }) => {
            // The refusal lists the groups the client may retry with (TD-DH-PARAMETERS).
            let typed: Vec<TypedDataEntry> = match rasn::der::decode(&td_dh_parameters) {
                Ok(typed) => typed,
                Err(error) => panic!("TD-DH-PARAMETERS does not decode: {error}"),
            };
            assert_eq!(typed.len(), 1);
        }
        Err(error) => assert_eq!(error.code(), ErrorCode::PREAUTH_FAILED, "{error}"),
    }
}
