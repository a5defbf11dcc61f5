//! ECDH key agreement (RFC 5349) end to end in process: every curve by key trust and
//! certificate trust, with and without DH key reuse, and `min_dh_bits` ordering groups and
//! curves as MIT's `pkinit_dh_min_bits` does, refusals listing the accepted curves in
//! TD-DH-PARAMETERS.

use kdc::preauth::pkinit::agreement::{DhGroup, EcCurve, ModpGroup};
use kdc::proto::codes::{ErrorCode, oid, typed_data};
use kdc::proto::pkinit::TypedDataEntry;
use kdc_client::{self as client, ClientOptions};
use rasn_kerberos::KrbError;

use crate::support::{REALM, Realm, code};

fn min_dh(value: &'static str) -> impl FnOnce(String) -> String {
    move |config| config.replace("min_dh_bits = 2048", &format!("min_dh_bits = {value}"))
}

#[tokio::test]
async fn every_curve_gets_a_tgt_by_key_and_certificate_trust() {
    let realm = Realm::dev().await;
    for curve in EcCurve::ALL {
        for user in ["alice", "bob"] {
            for options in [
                ClientOptions::new(REALM, user),
                ClientOptions::windows(REALM, user),
            ] {
                let options = ClientOptions {
                    group: DhGroup::Ec(curve),
                    ..options
                };
                let tgt = realm
                    .login(&options, &realm.signer(user))
                    .await
                    .unwrap_or_else(|e| panic!("{curve:?} {user}: {e}"));
                assert_eq!(tgt.enc_part.0.srealm.as_bytes(), REALM.as_bytes());
            }
        }
    }
}

#[tokio::test]
async fn the_kdc_point_is_reused_for_clients_that_send_client_dh_nonce() {
    let realm = Realm::dev().await;
    let options = ClientOptions {
        group: DhGroup::Ec(EcCurve::P256),
        ..ClientOptions::windows(REALM, "alice")
    };
    let signer = realm.signer("alice");
    let mut points = Vec::new();
    for _ in 0..2 {
        let request = client::build_request(&options, &signer).await.unwrap();
        let reply = realm.send(&request.message).await;
        client::read_reply(&options, &request, &reply, &realm.kdc_certificate()).unwrap();
        points.push(crate::client_shapes::kdc_public_value(&reply));
    }
    assert_eq!(points[0], points[1]);
    assert_eq!(points[0].first(), Some(&0x04), "an uncompressed point");
    assert_eq!(points[0].len(), 65);
}

/// The algorithm OIDs (and curve OIDs) a refusal's TD-DH-PARAMETERS lists.
fn listed(reply: &[u8]) -> Vec<String> {
    let error: KrbError = rasn::der::decode(reply).unwrap();
    let typed: Vec<TypedDataEntry> = rasn::der::decode(&error.e_data.unwrap()).unwrap();
    let entry = typed
        .iter()
        .find(|t| t.data_type == typed_data::TD_DH_PARAMETERS)
        .unwrap();
    let ids: Vec<rasn_pkix::AlgorithmIdentifier> =
        rasn::der::decode(entry.data_value.as_ref().unwrap()).unwrap();
    ids.iter()
        .map(|id| {
            let curve = (id.algorithm.iter().copied().collect::<Vec<u32>>() == oid::EC_PUBLIC_KEY)
                .then(|| {
                    let named: rasn::types::ObjectIdentifier =
                        rasn::der::decode(id.parameters.as_ref().unwrap().as_bytes()).unwrap();
                    EcCurve::from_oid(&named.iter().copied().collect::<Vec<u32>>())
                        .unwrap()
                        .name()
                });
            curve.map_or_else(|| "MODP".to_owned(), str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn min_dh_bits_orders_groups_and_curves_as_mit_does() {
    // P-256 as the floor: MODP-2048 is refused, MODP-4096 still accepted.
    let realm = Realm::new(min_dh("\"P-256\""), async |_| {}).await;
    let signer = realm.signer("alice");
    let modp14 = ClientOptions::new(REALM, "alice");
    let request = client::build_request(&modp14, &signer).await.unwrap();
    let reply = realm.send(&request.message).await;
    assert_eq!(
        code(client::read_reply(
            &modp14,
            &request,
            &reply,
            &realm.kdc_certificate()
        )),
        ErrorCode::DH_KEY_PARAMETERS_NOT_ACCEPTED.0
    );
    assert_eq!(listed(&reply), ["MODP", "P-256", "P-384", "P-521"]);
    for group in [DhGroup::Modp(ModpGroup::Modp16), DhGroup::Ec(EcCurve::P256)] {
        let options = ClientOptions {
            group,
            ..ClientOptions::new(REALM, "alice")
        };
        realm.login(&options, &signer).await.unwrap();
    }

    // P-384 as the floor: P-256 and MODP-4096 are refused.
    let realm = Realm::new(min_dh("\"P-384\""), async |_| {}).await;
    let signer = realm.signer("alice");
    for group in [DhGroup::Ec(EcCurve::P256), DhGroup::Modp(ModpGroup::Modp16)] {
        let options = ClientOptions {
            group,
            ..ClientOptions::new(REALM, "alice")
        };
        let request = client::build_request(&options, &signer).await.unwrap();
        let reply = realm.send(&request.message).await;
        assert_eq!(
            code(client::read_reply(
                &options,
                &request,
                &reply,
                &realm.kdc_certificate()
            )),
            ErrorCode::DH_KEY_PARAMETERS_NOT_ACCEPTED.0,
            "{group:?}"
        );
        assert_eq!(listed(&reply), ["P-384", "P-521"]);
    }
}

/// Windows Server 2025's rules (`require_pa_checksum2`, `pa_checksum_hashes`) against the
/// client with and without paChecksum2.
#[tokio::test]
async fn pa_checksum2_policies() {
    use kdc::signer::DigestAlgorithm;
    let modp_rule = |c: String| {
        c.replace(
            "require_pa_checksum2 = \"never\"",
            "require_pa_checksum2 = \"modp\"",
        )
    };
    let realm = Realm::new(modp_rule, async |_| {}).await;
    let signer = realm.signer("alice");
    let plain = ClientOptions::new(REALM, "alice");
    assert_eq!(
        code(realm.login(&plain, &signer).await),
        ErrorCode::PA_CHECKSUM_MUST_BE_INCLUDED.0
    );
    let with_sum2 = ClientOptions {
        pa_checksum2: Some(DigestAlgorithm::Sha256),
        ..plain.clone()
    };
    realm.login(&with_sum2, &signer).await.unwrap();
    // ECDH offers are not held to the MODP rule.
    let ecdh = ClientOptions {
        group: DhGroup::Ec(EcCurve::P256),
        ..plain
    };
    realm.login(&ecdh, &signer).await.unwrap();

    let sha256_only = |c: String| {
        c.replace(
            "pa_checksum_hashes = [\"sha1\", \"sha256\", \"sha384\", \"sha512\"]",
            "pa_checksum_hashes = [\"sha256\"]",
        )
    };
    let realm = Realm::new(sha256_only, async |_| {}).await;
    let signer = realm.signer("alice");
    assert_eq!(
        code(
            realm
                .login(&ClientOptions::new(REALM, "alice"), &signer)
                .await
        ),
        ErrorCode::PA_CHECKSUM_MUST_BE_INCLUDED.0
    );
    realm.login(&with_sum2, &signer).await.unwrap();
}
