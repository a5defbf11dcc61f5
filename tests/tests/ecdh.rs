//! ECDH key agreement (RFC 5349) against `kdc serve` with kdc-load's client: every curve by
//! key trust and certificate trust, counted by curve, and a `min_dh_bits` curve floor that
//! refuses weaker offers with KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED. MIT kinit 1.22's ECDH
//! offers are tested in mit122.rs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kdc_integration::kdc_load::{self, all_refused, all_verified, dir_arg, load, run_json};
use kdc_integration::scrape;
use kdc_integration::{KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED, Realm};

const COUNT: u32 = 8;

fn run(realm: &Realm, tag: &str, users: &str, dh: &str) -> String {
    let count = COUNT.to_string();
    run_json(
        realm,
        tag,
        &[
            "--realm-dir",
            dir_arg(realm.dir()),
            "--users-file",
            users,
            "--dh",
            dh,
            "--count",
            &count,
        ],
    )
    .unwrap()
}

#[test]
fn every_curve_logs_in_by_key_and_certificate_trust() {
    let mut realm = Realm::create().unwrap();
    let dir = realm.dir().to_owned();
    load(
        &realm,
        "prepare-key",
        &["prepare", "--realm-dir", dir_arg(&dir), "--users", "2"],
    )
    .unwrap();
    let cert_users =
        kdc_load::prepare_certificate_users(&realm, 2, &realm.tmp().join("cert-users")).unwrap();
    realm.start().unwrap();
    let key_users = dir.join("load-users/users.txt");
    for (trust, users) in [("key", &key_users), ("cert", &cert_users)] {
        for dh in ["p256", "p384", "p521"] {
            let json = run(
                &realm,
                &format!("{trust}-{dh}"),
                users.to_str().unwrap(),
                dh,
            );
            assert!(json.contains(&all_verified(COUNT)), "{trust} {dh}: {json}");
        }
    }
    let samples = realm.metrics().unwrap();
    for curve in ["P-256", "P-384", "P-521"] {
        assert_eq!(
            scrape::sum(&samples, "kdc_pkinit_dh_keys_total", &[("group", curve)]).unwrap(),
            f64::from(2 * COUNT),
            "{curve}"
        );
    }
    assert!(
        realm.log().contains("P-384"),
        "the audit line names the curve"
    );
    realm.check_no_panic().unwrap();
}

#[test]
fn a_curve_floor_refuses_weaker_offers() {
    let mut realm = Realm::create().unwrap();
    realm
        .set_kdc_option("pkinit", "min_dh_bits", "\"P-384\"")
        .unwrap();
    realm.start().unwrap();
    let alice = format!(
        "alice {} {}\n",
        realm.dir().join("alice.pem").display(),
        realm.dir().join("alice.key").display()
    );
    let users = realm.tmp().join("alice.txt");
    std::fs::write(&users, alice).unwrap();
    let users = users.to_str().unwrap();
    for dh in ["modp2048", "p256", "modp4096"] {
        let json = run(&realm, dh, users, dh);
        assert!(
            json.contains(&all_refused(COUNT, KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED)),
            "{dh}: {json}"
        );
    }
    for dh in ["p384", "p521"] {
        let json = run(&realm, dh, users, dh);
        assert!(json.contains(&all_verified(COUNT)), "{dh}: {json}");
    }
    realm.check_no_panic().unwrap();
}
