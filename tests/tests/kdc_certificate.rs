//! The KDC certificate's two shapes with real MIT kinit 1.20 (RFC 4556 §3.2.4): the
//! domain-controller form of `kdc dev-realm --kdc-cert dc` (dNSName and id-pkinit-KPKdc, no
//! id-pkinit-san krbtgt/REALM@REALM) gets alice a TGT only when krb5.conf names its dNSName in
//! `pkinit_kdc_hostname`; without it MIT reports "KDC name mismatch".

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kdc_integration::{Realm, conf};

const KDC_HOST: &str = "kdc.example.test";

fn dc_realm() -> Realm {
    let mut realm = Realm::create_with_args("EXAMPLE.TEST", &["--kdc-cert", "dc"]).unwrap();
    realm.start().unwrap();
    realm
}

#[test]
fn dc_certificate_with_pkinit_kdc_hostname_gets_a_tgt() {
    let realm = dc_realm();
    let client = realm.client().unwrap();
    let krb5_conf = client.krb5_conf().unwrap();
    assert!(
        krb5_conf.contains(&format!("pkinit_kdc_hostname = {KDC_HOST}\n")),
        "dev-realm's krb5.conf does not name the KDC's dNSName:\n{krb5_conf}"
    );
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}", run.report());
    // Accepted by its dNSName, not by a krbtgt SAN; then MIT checks the KDC EKU.
    for line in [
        "0 princs, 0 UPNs, 1 DNS names",
        &format!("PKINIT client matched KDC hostname {KDC_HOST} against dNSName SAN"),
        "PKINIT client found acceptable EKU in KDC cert",
    ] {
        assert!(
            run.trace.contains(line),
            "no {line:?} in:\n{}",
            run.report()
        );
    }
    let klist = client.klist().unwrap();
    assert!(klist.success(), "{}", klist.report());
    let tgt = format!("krbtgt/{0}@{0}", realm.name());
    assert!(klist.output.stdout.contains(&tgt), "{}", klist.report());
    realm.check_no_panic().unwrap();
}

#[test]
fn dc_certificate_without_pkinit_kdc_hostname_is_a_kdc_name_mismatch() {
    let realm = dc_realm();
    let client = realm.client().unwrap();
    client
        .edit_krb5_conf(|t| conf::remove_option(t, "pkinit_kdc_hostname"))
        .unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(!run.success(), "{}", run.report());
    // kinit then falls back to a password it cannot read; the PKINIT verdict is in the trace.
    assert!(
        run.trace
            .contains("Preauth module pkinit (17) (real) returned: -1765328308/KDC name mismatch"),
        "{}",
        run.report()
    );
    // The KDC did its part: it answered the PKINIT request.
    assert!(realm.log().contains("issued TGT"), "{}", realm.log());
    assert!(!client.klist().unwrap().success());
    realm.check_no_panic().unwrap();
}
