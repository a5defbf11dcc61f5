//! Heimdal 7.8 clients against the kdc (RFC 4556 as hx509 implements it): kinit gets a TGT by
//! key trust and by certificate trust, kgetcred a service ticket with it, and a certificate
//! whose keyUsage lacks digitalSignature (Heimdal then leaves its SignedData unsigned) is
//! refused with a log line that says so.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kdc_integration::{ClientRun, HeimdalClient, Identity, Realm, TcpProxy, krb};

/// kinit succeeded, printed nothing, and the cache holds `user`'s TGT (Heimdal's klist: a
/// `Principal: user@REALM` header, then one line per ticket).
fn assert_tgt(realm: &Realm, client: &HeimdalClient, user: &str, run: &ClientRun) {
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    assert!(
        run.output.stdout.is_empty() && run.output.stderr.is_empty(),
        "{}",
        run.report()
    );
    let klist = client.klist().unwrap();
    assert!(klist.success(), "{}", klist.report());
    let default = format!("Principal: {}", realm.principal(user));
    assert!(klist.output.stdout.contains(&default), "{}", klist.report());
    let tgt = format!("krbtgt/{0}@{0}", realm.name());
    assert!(klist.output.stdout.contains(&tgt), "{}", klist.report());
    realm.check_no_panic().unwrap();
}

/// A key-trust identity (RFC 4556 with a self-signed certificate, as Windows Hello makes)
/// registered for alice: keyUsage digitalSignature, without which Heimdal does not sign.
fn alice_key(realm: &Realm) -> Identity {
    Identity::self_signed_with_key_usage(realm.tmp(), "alice-hello", "digitalSignature").unwrap()
}

/// Through a recording proxy: Heimdal sends PKINIT over TCP by itself, in its first AS-REQ
/// (no PREAUTH_REQUIRED round trip), signed, with DH group 14 (pkinit_dh_min_bits = 1759).
#[test]
fn kinit_gets_a_tgt_by_key_trust() {
    let mut realm = Realm::create().unwrap();
    let id = alice_key(&realm);
    realm.register_key("alice", &id).unwrap();
    realm.start().unwrap();
    let proxy = TcpProxy::start(realm.addr()).unwrap();
    // Heimdal sends the self-signed certificate without trusting it (MIT must trust it).
    let client = realm.heimdal_client_via(&proxy.host_port()).unwrap();
    let run = client.kinit(&realm.principal("alice"), &id).unwrap();
    assert_tgt(&realm, &client, "alice", &run);
    let exchanges = proxy.exchanges();
    assert_eq!(exchanges.len(), 1, "{}", proxy.summary());
    let request = &exchanges[0].request;
    assert!(krb::is_pkinit_as_req(request), "{}", proxy.summary());
    assert_eq!(krb::pkinit_signer_info_count(request).unwrap(), 1);
    assert_eq!(krb::pkinit_dh_modulus_bits(request).unwrap(), 2048);
    let log = realm.log();
    assert!(log.contains("trust=\"key\""), "{log}");
    assert_fresh_dh_key(&log);
}

/// Heimdal would cut a shared secret that starts with a zero byte (one logon in 256 failed):
/// it is recognised and gets a fresh key drawn until ZZ has none (dh_key_choice.rs).
fn assert_fresh_dh_key(log: &str) {
    assert!(log.contains("dh_key=\"no_leading_zero\""), "{log}");
}

/// bob's certificate from dev-realm, issued by the realm's CA with id-pkinit-san and the SID
/// extension.
#[test]
fn kinit_gets_a_tgt_by_certificate_trust() {
    let realm = Realm::started().unwrap();
    let client = realm.heimdal_client().unwrap();
    let run = client.kinit(&realm.principal("bob"), &realm.bob()).unwrap();
    assert_tgt(&realm, &client, "bob", &run);
    let log = realm.log();
    assert!(log.contains("trust=\"certificate\""), "{log}");
    assert!(log.contains("mapping=\"sid extension\""), "{log}");
    assert_fresh_dh_key(&log);
}

/// Heimdal's TGS-REQ nonce is 32 random bits sent as its signed krb5int32, so negative half
/// the time (its AS-REQ nonce is masked to 31 bits): tickets for eight services make a
/// negative one all but certain, and each must come back. The KDC logs at debug level so that
/// a request it drops shows in the failure.
#[test]
fn kgetcred_gets_service_tickets_whatever_the_sign_of_its_nonce() {
    let mut realm = Realm::create().unwrap();
    realm.set_kdc_option("log", "level", "\"debug\"").unwrap();
    let services: Vec<String> = (0..8)
        .map(|n| format!("host/web{n}.example@{}", realm.name()))
        .collect();
    for service in &services {
        realm
            .admin(&["service", "add", service])
            .unwrap()
            .ok()
            .unwrap();
    }
    let id = alice_key(&realm);
    realm.register_key("alice", &id).unwrap();
    realm.start().unwrap();
    let client = realm.heimdal_client().unwrap();
    let run = client.kinit(&realm.principal("alice"), &id).unwrap();
    assert_tgt(&realm, &client, "alice", &run);

    for service in &services {
        let run = client.kgetcred(service).unwrap();
        assert!(run.success(), "{}\n{}", run.report(), realm.log());
        assert!(
            run.output.stdout.is_empty() && run.output.stderr.is_empty(),
            "{}",
            run.report()
        );
    }
    let klist = client.klist().unwrap();
    assert!(klist.success(), "{}", klist.report());
    for service in &services {
        assert!(klist.output.stdout.contains(service), "{}", klist.report());
    }
    let tgt = format!("krbtgt/{0}@{0}", realm.name());
    assert!(klist.output.stdout.contains(&tgt), "{}", klist.report());
    realm.check_no_panic().unwrap();
}

/// hx509 signs only with a certificate whose keyUsage has digitalSignature: without it
/// (no keyUsage at all, or keyEncipherment only) kinit sends a SignedData with no SignerInfo.
/// The KDC must refuse it and say why; kinit reports the KDC's PREAUTH_FAILED as a wrong
/// password.
#[test]
fn certificate_without_digital_signature_is_refused_for_no_signer_info() {
    let mut realm = Realm::create().unwrap();
    let ids = [
        Identity::self_signed(realm.tmp(), "alice-no-usage").unwrap(),
        Identity::self_signed_with_key_usage(realm.tmp(), "alice-encipher", "keyEncipherment")
            .unwrap(),
    ];
    for id in &ids {
        realm.register_key("alice", id).unwrap();
    }
    realm.start().unwrap();
    let proxy = TcpProxy::start(realm.addr()).unwrap();
    let client = realm.heimdal_client_via(&proxy.host_port()).unwrap();
    for id in &ids {
        let run = client.kinit(&realm.principal("alice"), id).unwrap();
        assert!(!run.success(), "{}", run.report());
        assert!(!run.output.timed_out(), "{}", run.report());
        assert!(
            run.output.stderr.contains("Password incorrect"),
            "{}",
            run.report()
        );
        assert!(!client.klist().unwrap().success(), "a ticket was stored");
    }
    for exchange in proxy.exchanges() {
        assert!(krb::is_pkinit_as_req(&exchange.request));
        assert_eq!(krb::pkinit_signer_info_count(&exchange.request).unwrap(), 0);
    }
    if let Err(e) = krb::check_error_sequence(&proxy.error_codes(), krb::KDC_ERR_PREAUTH_FAILED) {
        panic!("{e}\n{}", proxy.summary());
    }
    let log = realm.log();
    assert!(log.contains("no SignerInfo"), "{log}");
    realm.check_no_panic().unwrap();
}
