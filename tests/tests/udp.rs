//! PKINIT over UDP (RFC 4120 §7.2.1): a reply that fits the datagram limit goes back over UDP;
//! one that does not draws KRB_ERR_RESPONSE_TOO_BIG and MIT's client retries over TCP.

// Test code: a failed step is a failed test (clippy.toml allows this inside #[test] fns,
// these attributes extend it to the helpers of this test crate).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kdc_integration::{Realm, conf};

/// MIT's trace line for the TCP retry after KRB_ERR_RESPONSE_TOO_BIG (libkrb5 1.20).
const TOO_BIG_RETRY: &str = "Request or response is too big for UDP; retrying with TCP";

#[test]
fn response_too_big_makes_kinit_retry_over_tcp() {
    let mut realm = Realm::create().unwrap();
    // The PKINIT AS-REP (KDC certificate, DH value, ticket) is ~2.5 KB: above 1200.
    realm
        .set_kdc_option("listen", "max_udp_reply_bytes", "1200")
        .unwrap();
    realm.start().unwrap();
    let client = realm.client().unwrap();
    client
        .edit_krb5_conf(|t| conf::set_libdefault(t, "udp_preference_limit", "65535"))
        .unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}", run.report());
    let udp = format!(
        "Sending initial UDP request to dgram 127.0.0.1:{}",
        realm.port()
    );
    assert!(run.trace.contains(&udp), "{}", run.report());
    assert!(run.trace.contains(TOO_BIG_RETRY), "{}", run.report());
    let tcp = format!("Sending TCP request to stream 127.0.0.1:{}", realm.port());
    assert!(run.trace.contains(&tcp), "{}", run.report());
    assert!(client.klist().unwrap().success());
    realm.check_no_panic().unwrap();
}

#[test]
fn pkinit_fits_in_the_default_udp_limit() {
    let realm = Realm::started().unwrap();
    let client = realm.client().unwrap();
    client
        .edit_krb5_conf(|t| conf::set_libdefault(t, "udp_preference_limit", "65535"))
        .unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}", run.report());
    // Everything went over UDP: max_udp_reply_bytes = 4096 holds the AS-REP.
    assert!(!run.trace.contains("TCP"), "{}", run.report());
    assert!(!run.trace.contains(TOO_BIG_RETRY), "{}", run.report());
    assert!(client.klist().unwrap().success());
}
