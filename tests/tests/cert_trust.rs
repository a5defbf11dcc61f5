//! Certificate trust end to end (RFC 4556 §3.2.2 with a CA-issued client certificate,
//! RFC 5280 path validation and CRLs, KB5014754 strong mapping): real MIT kinit with
//! openssl-made chains, with and without an intermediate CA, and the refusals read from the
//! KRB-ERRORs the kdc sent (decoded by the proxy), never from kinit's message text.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use kdc_integration::pki::{Ca, ClientCert, KeyType};
use kdc_integration::{ClientRun, Identity, ProxiedRealm, Realm, conf, krb};

/// The objectSid dev-realm gave `user`, read from the embedded directory file.
fn sid_of(realm: &Realm, user: &str) -> String {
    let text = std::fs::read_to_string(realm.dir().join("directory.toml")).unwrap();
    let upn = format!("\"{}\"", realm.principal(user));
    let block = text.split("[[user]]").find(|b| b.contains(&upn)).unwrap();
    let line = block
        .lines()
        .find(|l| l.trim_start().starts_with("objectSid"))
        .unwrap();
    line.split('"').nth(1).unwrap().to_owned()
}

fn bob_card(realm: &Realm, serial: u32) -> ClientCert {
    ClientCert {
        names: Some(("bob".into(), realm.name().into())),
        eku: "1.3.6.1.5.2.3.4, clientAuth".into(),
        sid: Some(sid_of(realm, "bob")),
        serial,
    }
}

/// A realm whose KDC also trusts a fresh openssl root CA (and its CRL); `prepare` issues
/// certificates and edits the realm before the KDC starts. The client trusts the root and
/// reaches the KDC through a recording proxy.
fn setup(prepare: impl FnOnce(&Realm, &Path, &Ca) -> Vec<PathBuf>) -> ProxiedRealm {
    let realm = Realm::create().unwrap();
    let pki = realm.tmp().join("pki");
    std::fs::create_dir_all(&pki).unwrap();
    let root = Ca::root(&pki, "Enterprise Root CA").unwrap();
    let mut crls = vec![pki.join("root.crl")];
    root.crl(&[], &crls[0]).unwrap();
    crls.extend(prepare(&realm, &pki, &root));
    let quoted = |paths: &[PathBuf]| {
        let list: Vec<String> = paths
            .iter()
            .map(|p| format!("{:?}", p.display().to_string()))
            .collect();
        list.join(", ")
    };
    let section = "pkinit.certificate_trust";
    let anchors = format!("[\"ca.pem\", {}]", quoted(std::slice::from_ref(&root.cert)));
    realm.set_kdc_option(section, "anchors", &anchors).unwrap();
    let crls = format!("[\"ca.crl\", {}]", quoted(&crls));
    realm.set_kdc_option(section, "crls", &crls).unwrap();
    let s = ProxiedRealm::start(realm).unwrap();
    s.client.trust(&root.cert).unwrap();
    s
}

fn card(dir: &Path) -> Identity {
    Identity {
        cert: dir.join("card.pem"),
        key: dir.join("card.key"),
    }
}

fn assert_tgt(s: &ProxiedRealm, run: &ClientRun) {
    assert!(
        run.success(),
        "{}\n{}\n{}",
        run.report(),
        s.proxy.summary(),
        s.realm.log()
    );
    let klist = s.client.klist().unwrap();
    assert!(klist.success(), "{}", klist.report());
    let default = format!("Default principal: {}", s.realm.principal("bob"));
    assert!(klist.output.stdout.contains(&default), "{}", klist.report());
    let log = s.realm.log();
    assert!(log.contains("trust=\"certificate\""), "{log}");
    s.realm.check_no_panic().unwrap();
}

fn kinit_bob(s: &ProxiedRealm, id: &Identity) -> ClientRun {
    s.client.kinit(&s.realm.principal("bob"), id).unwrap()
}

#[test]
fn ca_issued_certificate_gets_a_tgt() {
    let mut id = None;
    let s = setup(|realm, pki, root| {
        id = Some(root.issue(pki, "card", &bob_card(realm, 100)).unwrap());
        Vec::new()
    });
    assert_tgt(&s, &kinit_bob(&s, &id.unwrap()));
}

/// A P-256 card: MIT kinit 1.20 labels its ECDSA signature sha256WithRSAEncryption
/// (testdata/wire-ec/README.md); the KDC verifies by the key and issues the TGT.
#[test]
fn p256_card_gets_a_tgt() {
    let mut id = None;
    let s = setup(|realm, pki, root| {
        let spec = bob_card(realm, 102);
        id = Some(
            root.issue_with_key(pki, "card", &spec, KeyType::P256)
                .unwrap(),
        );
        Vec::new()
    });
    assert_tgt(&s, &kinit_bob(&s, &id.unwrap()));
}

#[test]
fn ca_issued_certificate_through_an_intermediate_gets_a_tgt() {
    let mut inter_cert = None;
    let s = setup(|realm, pki, root| {
        let inter = root.intermediate(pki, "Issuing CA", 7).unwrap();
        inter.issue(pki, "card", &bob_card(realm, 101)).unwrap();
        let crl = pki.join("inter.crl");
        inter.crl(&[], &crl).unwrap();
        // The root's CRL must be re-made: it now covers the intermediate it issued.
        root.crl(&[], &pki.join("root.crl")).unwrap();
        inter_cert = Some(inter.cert.clone());
        vec![crl]
    });
    // MIT kinit sends the intermediates it finds in its pool (pkinit_pool).
    let pool = format!("FILE:{}", inter_cert.unwrap().display());
    s.client
        .edit_krb5_conf(|t| conf::set_libdefault(t, "pkinit_pool", &pool))
        .unwrap();
    let run = kinit_bob(&s, &card(&s.realm.tmp().join("pki")));
    assert_tgt(&s, &run);
}

#[test]
fn revoked_certificate_is_revoked_certificate() {
    let s = setup(|realm, pki, root| {
        let id = root.issue(pki, "card", &bob_card(realm, 102)).unwrap();
        root.crl(&[&id.cert], &pki.join("root.crl")).unwrap();
        Vec::new()
    });
    let run = kinit_bob(&s, &card(&s.realm.tmp().join("pki")));
    s.check_refused(&run, krb::KDC_ERR_REVOKED_CERTIFICATE)
        .unwrap();
}

/// Its key is also registered for bob (key trust would accept it): still refused, no fallback.
#[test]
fn revoked_certificate_with_a_registered_key_is_still_revoked() {
    let s = setup(|realm, pki, root| {
        let id = root.issue(pki, "card", &bob_card(realm, 103)).unwrap();
        root.crl(&[&id.cert], &pki.join("root.crl")).unwrap();
        realm.register_key("bob", &id).unwrap();
        Vec::new()
    });
    let run = kinit_bob(&s, &card(&s.realm.tmp().join("pki")));
    s.check_refused(&run, krb::KDC_ERR_REVOKED_CERTIFICATE)
        .unwrap();
}

#[test]
fn wrong_eku_is_inconsistent_key_purpose() {
    let s = setup(|realm, pki, root| {
        let spec = ClientCert {
            eku: "serverAuth".into(),
            ..bob_card(realm, 104)
        };
        root.issue(pki, "card", &spec).unwrap();
        Vec::new()
    });
    let run = kinit_bob(&s, &card(&s.realm.tmp().join("pki")));
    s.check_refused(&run, krb::KDC_ERR_INCONSISTENT_KEY_PURPOSE)
        .unwrap();
}

#[test]
fn upn_of_another_user_is_client_name_mismatch() {
    let s = setup(|realm, pki, root| {
        let spec = ClientCert {
            names: Some(("alice".into(), realm.name().into())),
            ..bob_card(realm, 105)
        };
        root.issue(pki, "card", &spec).unwrap();
        Vec::new()
    });
    let run = kinit_bob(&s, &card(&s.realm.tmp().join("pki")));
    s.check_refused(&run, krb::KDC_ERR_CLIENT_NAME_MISMATCH)
        .unwrap();
}

/// bob's certificate from `kdc dev-realm`, with the krb5.conf exactly as it was written.
#[test]
fn dev_realm_bob_gets_a_tgt_with_the_krb5_conf_as_written() {
    let realm = Realm::started().unwrap();
    let client = realm.client().unwrap();
    let run = client.kinit(&realm.principal("bob"), &realm.bob()).unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    assert!(client.klist().unwrap().success());
    let log = realm.log();
    assert!(log.contains("mapping=\"sid extension\""), "{log}");
}
