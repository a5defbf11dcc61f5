//! Diffie-Hellman groups (RFC 4556 §3.2.1, RFC 3526): MODP 16 when the client asks for 4096
//! bits, and the KDC's `min_dh_bits` floor answered with KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED
//! plus TD-DH-PARAMETERS (RFC 4556 §3.2.2), which MIT's client follows with a retry.
//!
//! MODP group 2 (1024 bits) cannot be tested with MIT kinit 1.20: it makes no group 2 request
//! at all (see mit_client.rs, `pkinit_dh_min_bits_1024_sends_no_pkinit_request`).

// Test code: a failed step is a failed test (clippy.toml allows this inside #[test] fns,
// these attributes extend it to the helpers of this test crate).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kdc_integration::{Realm, TcpProxy, conf, krb};

/// (DH modulus bits of the request, KRB-ERROR code of the reply if any) per PKINIT AS-REQ.
fn pkinit_attempts(proxy: &TcpProxy) -> Vec<(usize, Option<i32>)> {
    proxy
        .exchanges()
        .iter()
        .filter(|e| krb::is_pkinit_as_req(&e.request))
        .map(|e| {
            (
                krb::pkinit_dh_modulus_bits(&e.request).unwrap(),
                e.error_code(),
            )
        })
        .collect()
}

#[test]
fn modp16_when_the_client_asks_for_4096_bits() {
    let realm = Realm::started().unwrap();
    let proxy = TcpProxy::start(realm.addr()).unwrap();
    let client = realm.client_via(&proxy.host_port()).unwrap();
    client
        .edit_krb5_conf(|t| conf::set_libdefault(t, "pkinit_dh_min_bits", "4096"))
        .unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}\n{}", run.report(), proxy.summary());
    assert_eq!(
        pkinit_attempts(&proxy),
        vec![(4096, None)],
        "{}",
        proxy.summary()
    );
    assert!(client.klist().unwrap().success());
}

#[test]
fn kdc_floor_4096_refuses_modp14_and_client_retries_with_modp16() {
    let mut realm = Realm::create().unwrap();
    realm
        .set_kdc_option("pkinit", "min_dh_bits", "4096")
        .unwrap();
    realm.start().unwrap();
    let proxy = TcpProxy::start(realm.addr()).unwrap();
    let client = realm.client_via(&proxy.host_port()).unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    let attempts = pkinit_attempts(&proxy);
    let summary = format!("{}\n{}", run.report(), proxy.summary());
    assert_eq!(
        attempts.first(),
        Some(&(2048, Some(krb::KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED))),
        "{summary}"
    );
    // MIT reads the code as its own KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED.
    assert!(
        run.trace.contains("Key parameters not accepted"),
        "{summary}"
    );
    // MIT retries only with a group the KDC listed in TD-DH-PARAMETERS.
    assert_eq!(attempts.get(1), Some(&(4096, None)), "{summary}");
    assert!(run.success(), "{summary}");
}

#[test]
fn kdc_default_floor_accepts_modp14() {
    let realm = Realm::started().unwrap();
    let proxy = TcpProxy::start(realm.addr()).unwrap();
    let client = realm.client_via(&proxy.host_port()).unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}\n{}", run.report(), proxy.summary());
    assert_eq!(
        pkinit_attempts(&proxy),
        vec![(2048, None)],
        "{}",
        proxy.summary()
    );
}
