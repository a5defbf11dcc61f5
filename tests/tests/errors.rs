//! The KDC's refusals, each read from the KRB-ERROR it sent (decoded by the proxy with
//! rasn-kerberos) rather than from the client's message text. Codes: RFC 4120 §7.5.9 and
//! RFC 4556 §3.1.3.

// Test code: a failed step is a failed test (clippy.toml allows this inside #[test] fns,
// these attributes extend it to the helpers of this test crate).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kdc_integration::{Identity, ProxiedRealm, Realm, TcpProxy, conf, krb};

/// The code the kdc answers for a PA-PK-AS-REQ whose CMS signature does not verify. The
/// contract says PREAUTH_FAILED; RFC 4556 §3.2.2 (and MIT's KDC) use
/// [`krb::KDC_ERR_INVALID_SIG`] for this case.
const BAD_SIGNATURE_CODE: i32 = krb::KDC_ERR_PREAUTH_FAILED;

/// A started realm after `prepare` (directory changes happen before the start), reached
/// through a recording proxy that passes PKINIT requests through `mutate`.
fn setup<F>(prepare: impl FnOnce(&Realm), mutate: F) -> ProxiedRealm
where
    F: Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync + 'static,
{
    let realm = Realm::create().unwrap();
    prepare(&realm);
    ProxiedRealm::start_with(realm, move |req: &[u8]| {
        if krb::is_pkinit_as_req(req) {
            mutate(req)
        } else {
            None
        }
    })
    .unwrap()
}

fn no_mutation(_: &[u8]) -> Option<Vec<u8>> {
    None
}

#[test]
fn unknown_user_is_c_principal_unknown() {
    let s = setup(|_| {}, no_mutation);
    let run = s
        .client
        .kinit(&s.realm.principal("carol"), &s.realm.alice())
        .unwrap();
    s.check_refused(&run, krb::KDC_ERR_C_PRINCIPAL_UNKNOWN)
        .unwrap();
}

#[test]
fn unregistered_key_is_client_not_trusted() {
    let s = setup(|_| {}, no_mutation);
    let bob = s.realm.new_identity("bob").unwrap();
    s.client.trust(&bob.cert).unwrap();
    let run = s.client.kinit(&s.realm.principal("bob"), &bob).unwrap();
    s.check_refused(&run, krb::KDC_ERR_CLIENT_NOT_TRUSTED)
        .unwrap();
}

/// The certificates the client put in its PKINIT requests.
fn certificates_sent(proxy: &TcpProxy) -> Vec<usize> {
    proxy
        .exchanges()
        .iter()
        .filter(|e| krb::is_pkinit_as_req(&e.request))
        .map(|e| krb::pkinit_certificate_count(&e.request).unwrap())
        .collect()
}

/// Key trust only: with certificate trust on, a certificate that is not self-signed never
/// takes key trust.
fn key_trust_only(realm: &Realm) {
    let path = realm.kdc_toml_path();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        conf::remove_table(&text, "pkinit.certificate_trust").unwrap(),
    )
    .unwrap();
}

/// Bob's registered key must never yield a ticket for alice. Bob's certificate comes from a
/// CA the KDC does not know, so that MIT kinit sends it and the KDC can tell whose key
/// signed; the realm has key trust only (with certificate trust on it would be refused as
/// unverifiable, see hostile.rs).
#[test]
fn another_users_key_is_client_name_mismatch() {
    let certs = tempfile::tempdir().unwrap();
    let (bob, bob_ca) = Identity::issued_by_new_ca(certs.path(), "bob").unwrap();
    let s = setup(
        |realm| {
            key_trust_only(realm);
            realm.register_key("bob", &bob).unwrap();
        },
        no_mutation,
    );
    s.client.trust(&bob_ca).unwrap();
    let run = s.client.kinit(&s.realm.principal("alice"), &bob).unwrap();
    assert!(certificates_sent(&s.proxy).iter().all(|n| *n == 1));
    s.check_refused(&run, krb::KDC_ERR_CLIENT_NAME_MISMATCH)
        .unwrap();
}

/// Without a certificate in the request (MIT leaves a self-signed one out) the KDC can only try
/// the requested user's keys: another user's key is then just not trusted.
#[test]
fn another_users_self_signed_key_is_client_not_trusted() {
    let certs = tempfile::tempdir().unwrap();
    let bob = Identity::self_signed(certs.path(), "bob").unwrap();
    let s = setup(
        |realm| realm.register_key("bob", &bob).unwrap(),
        no_mutation,
    );
    s.client.trust(&bob.cert).unwrap();
    let run = s.client.kinit(&s.realm.principal("alice"), &bob).unwrap();
    assert!(certificates_sent(&s.proxy).iter().all(|n| *n == 0));
    s.check_refused(&run, krb::KDC_ERR_CLIENT_NOT_TRUSTED)
        .unwrap();
}

#[test]
fn disabled_user_is_client_revoked() {
    let s = setup(
        |realm| {
            let alice = realm.principal("alice");
            realm
                .admin(&["user", "disable", &alice])
                .unwrap()
                .ok()
                .unwrap();
        },
        no_mutation,
    );
    let run = s
        .client
        .kinit(&s.realm.principal("alice"), &s.realm.alice())
        .unwrap();
    s.check_refused(&run, krb::KDC_ERR_CLIENT_REVOKED).unwrap();
}

fn flip_signature_byte(req: &[u8]) -> Option<Vec<u8>> {
    let sig = krb::pkinit_signature_range(req).ok()?;
    let mut out = req.to_vec();
    out[sig.start + sig.len() / 2] ^= 0x01;
    Some(out)
}

/// The certificate is in the request and its key is registered for alice, but the signature
/// does not verify under it (key trust only, as above).
#[test]
fn flipped_signature_byte_is_refused() {
    let certs = tempfile::tempdir().unwrap();
    let (alice2, ca) = Identity::issued_by_new_ca(certs.path(), "alice2").unwrap();
    let s = setup(
        |realm| {
            key_trust_only(realm);
            realm.register_key("alice", &alice2).unwrap();
        },
        flip_signature_byte,
    );
    s.client.trust(&ca).unwrap();
    let run = s
        .client
        .kinit(&s.realm.principal("alice"), &alice2)
        .unwrap();
    assert!(
        s.proxy.exchanges().iter().any(|e| e.mutated()),
        "nothing mutated"
    );
    assert!(certificates_sent(&s.proxy).iter().all(|n| *n == 1));
    s.check_refused(&run, BAD_SIGNATURE_CODE).unwrap();
}

/// With no certificate in the request, a signature that verifies under none of alice's
/// registered keys is indistinguishable from an unregistered key.
#[test]
fn flipped_signature_byte_without_certificate_is_not_trusted() {
    let s = setup(|_| {}, flip_signature_byte);
    let run = s
        .client
        .kinit(&s.realm.principal("alice"), &s.realm.alice())
        .unwrap();
    assert!(
        s.proxy.exchanges().iter().any(|e| e.mutated()),
        "nothing mutated"
    );
    assert!(certificates_sent(&s.proxy).iter().all(|n| *n == 0));
    s.check_refused(&run, krb::KDC_ERR_CLIENT_NOT_TRUSTED)
        .unwrap();
}

/// The signed paChecksum covers the KDC-REQ-BODY as sent (RFC 4556 §3.2.1): a body changed
/// after signing (here its nonce) must fail, though the CMS signature itself still verifies.
#[test]
fn body_changed_after_signing_is_preauth_failed() {
    let s = setup(
        |_| {},
        |req: &[u8]| {
            let nonce = krb::req_body_nonce_range(req).ok()?;
            let mut out = req.to_vec();
            out[nonce.end - 1] ^= 0x5a;
            Some(out)
        },
    );
    let run = s
        .client
        .kinit(&s.realm.principal("alice"), &s.realm.alice())
        .unwrap();
    assert!(
        s.proxy.exchanges().iter().any(|e| e.mutated()),
        "nothing mutated"
    );
    s.check_refused(&run, krb::KDC_ERR_PREAUTH_FAILED).unwrap();
}

/// The client's clock runs an hour ahead (libfaketime) and it does not correct its PKINIT
/// ctime from the KDC's stime (`kdc_timesync = 0`, an integer in MIT): the pkAuthenticator is out of the
/// KDC's 300 s skew.
#[test]
fn client_clock_an_hour_ahead_is_skew() {
    let ProxiedRealm {
        realm,
        proxy,
        client,
    } = setup(|_| {}, no_mutation);
    client
        .edit_krb5_conf(|t| conf::set_libdefault(t, "kdc_timesync", "0"))
        .unwrap();
    let client = client.with_wrapper(["faketime", "-f", "+1h"]);
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    let context = format!("{}\n{}", run.report(), proxy.summary());
    assert!(!run.trace.contains("Bad value"), "{context}");
    // faketime took hold: MIT's trace lines start `[pid] <epoch seconds>.<usec>:`.
    let traced: f64 = run
        .trace
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|t| t.trim_end_matches(':').parse().ok())
        .unwrap_or_else(|| panic!("no timestamp in the trace\n{context}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        traced - now > 3000.0,
        "kinit's clock was not moved\n{context}"
    );
    let pkinit_replies: Vec<Option<i32>> = proxy
        .exchanges()
        .iter()
        .filter(|e| krb::is_pkinit_as_req(&e.request))
        .map(|e| e.error_code())
        .collect();
    assert_eq!(
        pkinit_replies.first(),
        Some(&Some(krb::KRB_AP_ERR_SKEW)),
        "{context}"
    );
    assert!(run.trace.contains("Clock skew too great"), "{context}");
    assert!(!run.success(), "{context}");
    realm.check_no_panic().unwrap();
}
