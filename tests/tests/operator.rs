//! The operator CLI against the embedded directory: users and registered keys (the key trust
//! model of RFC 4556 as Windows Hello for Business uses it) take effect at the next start.

// Test code: a failed step is a failed test (clippy.toml allows this inside #[test] fns,
// these attributes extend it to the helpers of this test crate).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kdc_integration::{Realm, TcpProxy, krb};

/// `kdc key add` prints the KeyID; take the last word in case it is labelled.
fn key_id(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .last()
        .unwrap_or_else(|| panic!("kdc key add printed nothing"))
        .to_owned()
}

#[test]
fn added_user_and_key_log_in_until_the_key_is_removed() {
    let mut realm = Realm::create().unwrap();
    let carol = realm.principal("carol");
    realm.admin(&["user", "add", &carol]).unwrap().ok().unwrap();
    let users = realm.admin(&["user", "list"]).unwrap().ok().unwrap();
    assert!(users.stdout.contains(&carol), "{users}");

    let id = realm.new_identity("carol").unwrap();
    let cert = id.cert.to_str().unwrap();
    let added = realm
        .admin(&["key", "add", "--user", &carol, "--cert", cert])
        .unwrap()
        .ok()
        .unwrap();
    let key = key_id(&added.stdout);
    for args in [
        &["key", "list", "--user", carol.as_str()][..],
        &["key", "list"][..],
    ] {
        let listed = realm.admin(args).unwrap().ok().unwrap();
        assert!(listed.stdout.contains(&key), "{key} not in:\n{listed}");
    }

    realm.start().unwrap();
    let proxy = TcpProxy::start(realm.addr()).unwrap();
    let client = realm.client_via(&proxy.host_port()).unwrap();
    client.trust(&id.cert).unwrap();
    let run = client.kinit(&carol, &id).unwrap();
    assert!(run.success(), "{}\n{}", run.report(), proxy.summary());
    let klist = client.klist().unwrap();
    assert!(
        klist
            .output
            .stdout
            .contains(&format!("Default principal: {carol}")),
        "{}",
        klist.report()
    );

    realm.stop().unwrap();
    realm
        .admin(&["key", "remove", "--user", &carol, "--key-id", &key])
        .unwrap()
        .ok()
        .unwrap();
    let listed = realm
        .admin(&["key", "list", "--user", &carol])
        .unwrap()
        .ok()
        .unwrap();
    assert!(!listed.stdout.contains(&key), "{listed}");
    realm.start().unwrap();

    let before = proxy.exchanges().len();
    let run = client.kinit(&carol, &id).unwrap();
    assert!(!run.success(), "{}\n{}", run.report(), proxy.summary());
    let codes: Vec<i32> = proxy.exchanges()[before..]
        .iter()
        .filter_map(|e| e.error_code())
        .collect();
    krb::check_error_sequence(&codes, krb::KDC_ERR_CLIENT_NOT_TRUSTED)
        .unwrap_or_else(|e| panic!("{e}\n{}", proxy.summary()));
    realm.check_no_panic().unwrap();
}

#[test]
fn disable_then_enable_restores_access() {
    let mut realm = Realm::create().unwrap();
    let alice = realm.principal("alice");
    realm
        .admin(&["user", "disable", &alice])
        .unwrap()
        .ok()
        .unwrap();
    realm
        .admin(&["user", "enable", &alice])
        .unwrap()
        .ok()
        .unwrap();
    realm.start().unwrap();
    let run = realm
        .client()
        .unwrap()
        .kinit(&alice, &realm.alice())
        .unwrap();
    assert!(run.success(), "{}", run.report());
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let realm = Realm::create().unwrap();
    let unknown = realm
        .admin(&[
            "key",
            "remove",
            "--user",
            &realm.principal("alice"),
            "--key-id",
            "nope",
        ])
        .unwrap();
    assert!(!unknown.success(), "{unknown}");
    assert!(!unknown.stderr.trim().is_empty(), "{unknown}");
    let missing = realm
        .admin(&[
            "key",
            "add",
            "--user",
            &realm.principal("nobody"),
            "--cert",
            "/nonexistent.pem",
        ])
        .unwrap();
    assert!(!missing.success(), "{missing}");
}

/// `kdc user show` prints the PAC a TGT would carry: the dev realm's alice with her SID, her
/// groups by name, and the asserted-identity SIDs; a user added by `kdc user add` gets the
/// domain's next RID and so a PAC of their own.
#[test]
fn user_show_prints_the_sids_and_groups_a_pac_would_carry() {
    let realm = Realm::create().unwrap();
    let alice = realm.principal("alice");
    let shown = realm
        .admin(&["user", "show", &alice])
        .unwrap()
        .ok()
        .unwrap();
    for expected in [
        "UserId            1103",
        "513 Domain Users",
        "1105 Developers",
        "S-1-18-4 key trust identity",
        "LogonDomainName   EXAMPLE",
    ] {
        assert!(
            shown.stdout.contains(expected),
            "{expected:?} not in:\n{shown}"
        );
    }
    let carol = realm.principal("carol");
    realm.admin(&["user", "add", &carol]).unwrap().ok().unwrap();
    let shown = realm
        .admin(&["user", "show", &carol])
        .unwrap()
        .ok()
        .unwrap();
    assert!(shown.stdout.contains("UserId            1106"), "{shown}");
    assert!(
        shown.stdout.contains("GroupIds          513 Domain Users"),
        "{shown}"
    );
}
