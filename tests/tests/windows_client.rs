//! The Windows-shaped PKINIT client (`kdc-load --client-profile windows`: clientDHNonce, DH
//! INTEGERs without their sign byte, an empty supportedCMSTypes, SHA-1 signatures both ways,
//! octetstring2key, replies checked as those clients check them) against `kdc serve`: it gets
//! TGTs by key trust and certificate trust, the KDC reuses its DH key for it (RFC 4556
//! §3.2.3.1) and counts what it did for it, and `sha1_signatures = "refuse"` answers it
//! KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kdc_integration::kdc_load::{self, all_refused, all_verified, dir_arg, load, run_json};
use kdc_integration::scrape::{self, Sample};
use kdc_integration::{KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED, Realm};

const COUNT: u32 = 20;

fn grew(before: &[Sample], after: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape::growth(before, after, name, labels).unwrap()
}

/// A realm with key-trust users (load-users/) and certificate-trust users (cert-users/),
/// started; the users files of both.
fn realm_with_users(edit: impl FnOnce(&Realm)) -> (Realm, [String; 2]) {
    let mut realm = Realm::create().unwrap();
    let dir = realm.dir().to_owned();
    let cert_users = realm.tmp().join("cert-users");
    load(
        &realm,
        "prepare-key",
        &["prepare", "--realm-dir", dir_arg(&dir), "--users", "2"],
    )
    .unwrap();
    let cert_users = kdc_load::prepare_certificate_users(&realm, 2, &cert_users).unwrap();
    edit(&realm);
    realm.start().unwrap();
    let files =
        [dir.join("load-users/users.txt"), cert_users].map(|p| p.to_str().unwrap().to_owned());
    (realm, files)
}

fn run_windows(realm: &Realm, tag: &str, users_file: &str) -> String {
    run_json(
        realm,
        tag,
        &[
            "--realm-dir",
            dir_arg(realm.dir()),
            "--users-file",
            users_file,
            "--client-profile",
            "windows",
            "--count",
            &COUNT.to_string(),
            "--concurrency",
            "2",
        ],
    )
    .unwrap()
}

#[test]
fn the_windows_shaped_client_gets_tgts_by_key_and_certificate_trust() {
    let (realm, [key_users, cert_users]) = realm_with_users(|_| {});
    let before = realm.metrics().unwrap();
    for (tag, users, trust) in [("key", &key_users, "key"), ("cert", &cert_users, "cert")] {
        let json = run_windows(&realm, tag, users);
        assert!(json.contains(&all_verified(COUNT)), "{tag}: {json}");
        let after = realm.metrics().unwrap();
        assert_eq!(
            grew(
                &before,
                &after,
                "kdc_pkinit_sha1_replies_total",
                &[("trust", trust)]
            ),
            f64::from(COUNT),
            "{tag}: every reply to this client is signed SHA-1 and counted"
        );
    }
    let after = realm.metrics().unwrap();
    let total = f64::from(2 * COUNT);
    for field in ["public_value", "prime"] {
        assert_eq!(
            grew(
                &before,
                &after,
                "kdc_pkinit_negative_dh_integers_total",
                &[("field", field)]
            ),
            total,
            "{field}"
        );
    }
    // One key for the group, made once (or a few times when requests race on the empty
    // slot) and reused for the rest within dh_key_reuse_secs = 60.
    let made = grew(
        &before,
        &after,
        "kdc_pkinit_dh_keys_total",
        &[("use", "new")],
    );
    let reused = grew(
        &before,
        &after,
        "kdc_pkinit_dh_keys_total",
        &[("use", "reused")],
    );
    assert_eq!(made + reused, total);
    assert!((1.0..=4.0).contains(&made), "new keys: {made}");
    assert!(
        realm.log().contains("reply_digest=\"sha1\"") || realm.log().contains("reply_digest=sha1"),
        "the audit line names the SHA-1 reply\n{}",
        realm.log()
    );
    realm.check_no_panic().unwrap();
}

#[test]
fn refused_sha1_answers_digest_not_accepted_and_rfc_clients_still_log_in() {
    let (realm, [key_users, cert_users]) = realm_with_users(|realm| {
        realm
            .set_kdc_option("pkinit", "sha1_signatures", "\"refuse\"")
            .unwrap();
        realm
            .set_kdc_option("pkinit", "dh_key_reuse_secs", "0")
            .unwrap();
    });
    for (tag, users) in [("key", &key_users), ("cert", &cert_users)] {
        let json = run_windows(&realm, tag, users);
        assert!(
            json.contains(&all_refused(
                COUNT,
                KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED
            )),
            "{tag}: {json}"
        );
        let rfc = run_json(
            &realm,
            &format!("{tag}-rfc"),
            &[
                "--realm-dir",
                dir_arg(realm.dir()),
                "--users-file",
                users,
                "--count",
                &COUNT.to_string(),
            ],
        )
        .unwrap();
        assert!(rfc.contains(&all_verified(COUNT)), "{tag}: {rfc}");
    }
    assert!(
        realm.log().contains("sha1_signatures = \\\"refuse\\\"")
            || realm.log().contains("sha1_signatures = \"refuse\""),
        "the log says why\n{}",
        realm.log()
    );
    realm.check_no_panic().unwrap();
}
