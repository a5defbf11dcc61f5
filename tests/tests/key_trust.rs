//! Key trust end to end (RFC 4556 with a self-signed client certificate whose key is
//! registered for the user): MIT kinit gets a TGT from the kdc over TCP, and the kdc shuts
//! down cleanly on SIGTERM.

// Test code: a failed step is a failed test (clippy.toml allows this inside #[test] fns,
// these attributes extend it to the helpers of this test crate).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kdc_integration::{Realm, conf};

#[test]
fn alice_gets_a_tgt_over_tcp() {
    let realm = Realm::started().unwrap();
    let client = realm.client().unwrap();
    // Both AS-REQs over TCP (the small first one would otherwise go over UDP).
    client
        .edit_krb5_conf(|t| conf::set_libdefault(t, "udp_preference_limit", "1"))
        .unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}", run.report());
    let tcp = format!("Sending TCP request to stream 127.0.0.1:{}", realm.port());
    assert!(run.trace.contains(&tcp), "{}", run.report());
    assert!(!run.trace.contains("UDP request"), "{}", run.report());

    let klist = client.klist().unwrap();
    assert!(klist.success(), "{}", klist.report());
    let tgt = format!("krbtgt/{0}@{0}", realm.name());
    assert!(klist.output.stdout.contains(&tgt), "{}", klist.report());
    let default = format!("Default principal: {}", realm.principal("alice"));
    assert!(klist.output.stdout.contains(&default), "{}", klist.report());
    realm.check_no_panic().unwrap();
}

/// krb5.conf exactly as dev-realm wrote it: MIT sends the first AS-REQ over UDP and the
/// PKINIT one (bigger than udp_preference_limit) over TCP.
#[test]
fn dev_realm_krb5_conf_works_as_written() {
    let realm = Realm::started().unwrap();
    let client = realm.client().unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}", run.report());
    let udp = format!(
        "Sending initial UDP request to dgram 127.0.0.1:{}",
        realm.port()
    );
    let tcp = format!("Sending TCP request to stream 127.0.0.1:{}", realm.port());
    assert!(run.trace.contains(&udp), "{}", run.report());
    assert!(run.trace.contains(&tcp), "{}", run.report());
    assert!(client.klist().unwrap().success());
}

#[test]
fn sigterm_stops_the_kdc() {
    let mut realm = Realm::started().unwrap();
    let status = realm.stop().unwrap().expect("the KDC was running");
    assert!(
        status.success(),
        "kdc serve exited with {status} on SIGTERM"
    );
    assert!(!realm.is_running().unwrap());
    realm.check_no_panic().unwrap();
    // The ports are released: a restart on the same ports works.
    realm.start().unwrap();
    let run = realm
        .client()
        .unwrap()
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}", run.report());
}

/// RFC 8070: MIT kinit asks for a freshness token in its first AS-REQ and signs it into the
/// PKINIT one, so a KDC that requires tokens lets it in; the audit line says so.
#[test]
fn kinit_signs_in_the_freshness_token_a_requiring_kdc_hands_out() {
    let mut realm = Realm::create().unwrap();
    realm
        .set_kdc_option("pkinit", "freshness", "\"required\"")
        .unwrap();
    realm.start().unwrap();
    let client = realm.client().unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}", run.report());
    assert!(
        run.trace.contains("freshness token"),
        "kinit's trace names no freshness token:\n{}",
        run.report()
    );
    let log = realm.log();
    let audit = log
        .lines()
        .find(|l| l.contains("issued TGT"))
        .expect("an audit line");
    assert!(audit.contains("fresh=true"), "{audit}");
    realm.check_no_panic().unwrap();
}
