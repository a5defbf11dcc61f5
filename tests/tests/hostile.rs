//! Hostile clients against a running `kdc serve` (issue #13): requests made from a real MIT
//! kinit request, changed on the wire to make the KDC's certificate handling (RFC 4556
//! §3.2.2, RFC 4158 path building) work hard. Each must draw its KRB-ERROR at once and leave
//! the KDC serving.

// Test code: a failed step is a failed test (clippy.toml allows this inside #[test] fns,
// these attributes extend it to the helpers of this test crate).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use kdc_integration::{Identity, Realm, TcpProxy, fuzz, krb, pki};

/// KDC_ERR_CANT_VERIFY_CERTIFICATE (RFC 4556 §3.1.3).
const CANT_VERIFY_CERTIFICATE: i32 = 70;
/// dev-realm's `[listen] max_request_bytes`.
const MAX_REQUEST: usize = 65536;
/// How long the reply may take before the exchange is given up: not a speed check (the
/// benchmark measures that), only a bound on a KDC that no longer answers.
const REPLY_DEADLINE: Duration = Duration::from_secs(60);

/// A kinit request whose certificate comes from a CA the KDC does not know, with 120
/// certificates for that CA's name and another issuing each other added: the KDC used to
/// follow their loop of names for hours (~60^4 links) before anything was verified.
#[test]
fn many_crossed_certificates_are_cant_verify_certificate() {
    let realm = Realm::started().unwrap();
    let certs = tempfile::tempdir().unwrap();
    let (frank, frank_ca) = Identity::issued_by_new_ca(certs.path(), "frank").unwrap();
    let proxy = TcpProxy::start(realm.addr()).unwrap();
    let client = realm.client_via(&proxy.host_port()).unwrap();
    client.trust(&frank_ca).unwrap();
    let run = client.kinit(&realm.principal("alice"), &frank).unwrap();
    let request = proxy
        .exchanges()
        .into_iter()
        .map(|e| e.request)
        .find(|r| krb::is_pkinit_as_req(r))
        .unwrap_or_else(|| panic!("kinit sent no PKINIT request\n{}", run.report()));
    assert_eq!(krb::pkinit_certificate_count(&request).unwrap(), 1);

    let crossed =
        pki::crossed_certificates(certs.path(), "frank-ca", "frank-ca-peer", 120).unwrap();
    let hostile = krb::pkinit_with_certificates_added(&request, &crossed).unwrap();
    assert_eq!(krb::pkinit_certificate_count(&hostile).unwrap(), 121);
    assert!(hostile.len() <= MAX_REQUEST, "{} bytes", hostile.len());

    let (received, _) =
        fuzz::tcp_exchange(realm.addr(), &krb::frame(&hostile), REPLY_DEADLINE).unwrap();
    assert_eq!(
        fuzz::error_codes(&received),
        vec![Some(CANT_VERIFY_CERTIFICATE)],
        "{}",
        realm.log()
    );
    assert!(
        realm.log().contains("carries 121 certificates"),
        "the log does not say why:\n{}",
        realm.log()
    );
    realm.check_no_panic().unwrap();
}

/// With certificate trust on (the dev realm), a certificate from a CA the KDC does not know
/// is refused even though its key is registered for the user: it may be revoked under that
/// CA, which key trust would never ask. Only a self-signed certificate takes key trust.
#[test]
fn a_registered_key_in_a_certificate_from_an_unknown_ca_is_cant_verify_certificate() {
    let mut realm = Realm::create().unwrap();
    let certs = tempfile::tempdir().unwrap();
    let (carol, carol_ca) = Identity::issued_by_new_ca(certs.path(), "carol").unwrap();
    let principal = realm.principal("alice");
    realm.register_key("alice", &carol).unwrap();
    realm.start().unwrap();
    let proxy = TcpProxy::start(realm.addr()).unwrap();
    let client = realm.client_via(&proxy.host_port()).unwrap();
    client.trust(&carol_ca).unwrap();
    let run = client.kinit(&principal, &carol).unwrap();
    let context = format!("{}\n{}", run.report(), proxy.summary());
    assert!(!run.success(), "kinit succeeded:\n{context}");
    if let Err(e) = krb::check_error_sequence(&proxy.error_codes(), CANT_VERIFY_CERTIFICATE) {
        panic!("{e}\n{context}");
    }
    realm.check_no_panic().unwrap();
}
