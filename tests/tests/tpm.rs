//! The TPM-held KDC key with a real swtpm and MIT kinit: direct mode (every reply signed by
//! TPM2_Sign) and delegated mode (a TPM CA key certifies short-lived in-memory KDC keys), each
//! verified by the client against the dev CA; and TPM outages: in direct mode the KDC answers
//! KDC_ERR_SVC_UNAVAILABLE (29) and recovers without a restart, in delegated mode a short
//! outage goes unnoticed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::thread;
use std::time::{Duration, Instant};

use kdc_integration::swtpm::{self, Swtpm};
use kdc_integration::{MitClient, Realm, TcpProxy};

const KDC_ERR_SVC_UNAVAILABLE: i32 = 29;

/// A realm and a fresh swtpm; fails when the kdc under test has no `tpm` feature.
fn setup() -> (Realm, Swtpm) {
    swtpm::require().unwrap();
    (Realm::create().unwrap(), Swtpm::start().unwrap())
}

/// Provisions a key, has the dev CA certify it, points kdc.toml at it and starts the KDC.
fn serve_with_tpm(realm: &mut Realm, tpm: &Swtpm, alg: &str, mode: &str, extra: &[(&str, &str)]) {
    let key = tpm.provision(realm, 0x8101_0001, alg, mode).unwrap();
    key.issue_with_dev_ca(realm).unwrap();
    key.configure(realm, &tpm.tcti(), extra).unwrap();
    realm.start().unwrap();
}

fn kinit_ok(realm: &Realm, client: &MitClient) {
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}\nKDC log:\n{}", run.report(), realm.log());
    let klist = client.klist().unwrap();
    assert!(
        klist
            .output
            .stdout
            .contains(&format!("krbtgt/{0}@{0}", realm.name())),
        "{}",
        klist.report()
    );
}

/// Only the dev CA is a trust anchor for the KDC (plus alice's own self-signed certificate,
/// which kinit needs to send it): the dev realm's krb5.conf says exactly that.
fn assert_only_dev_ca_anchor(client: &MitClient, realm: &Realm) {
    let conf = client.krb5_conf().unwrap();
    let anchors: Vec<&str> = conf
        .lines()
        .filter(|l| l.trim_start().starts_with("pkinit_anchors"))
        .collect();
    assert_eq!(anchors.len(), 2, "{conf}");
    assert!(anchors[0].contains(&format!("{}/ca.pem", realm.dir().display())));
    assert!(anchors[1].contains("alice.pem"));
}

#[test]
fn direct_mode_rsa_kinit_gets_a_tgt_signed_in_the_tpm() {
    let (mut realm, tpm) = setup();
    serve_with_tpm(&mut realm, &tpm, "rsa2048", "direct", &[]);
    let client = realm.client().unwrap();
    assert_only_dev_ca_anchor(&client, &realm);
    kinit_ok(&realm, &client);
    assert!(!realm.dir().join("kdc.key").exists());
    assert!(realm.log().contains("TPM key ready"), "{}", realm.log());
    realm.check_no_panic().unwrap();
}

/// MIT kinit 1.20 accepts an ecdsa-with-SHA256 KDC signature and a P-256 KDC certificate.
#[test]
fn direct_mode_p256_kinit_accepts_an_ecdsa_kdc_signature() {
    let (mut realm, tpm) = setup();
    serve_with_tpm(&mut realm, &tpm, "p256", "direct", &[]);
    kinit_ok(&realm, &realm.client().unwrap());
}

#[test]
fn delegated_mode_kinit_verifies_the_two_certificate_chain() {
    let (mut realm, tpm) = setup();
    serve_with_tpm(&mut realm, &tpm, "p256", "delegated", &[]);
    let client = realm.client().unwrap();
    assert_only_dev_ca_anchor(&client, &realm);
    kinit_ok(&realm, &client);
    assert!(
        realm.log().contains("new delegated KDC certificate"),
        "{}",
        realm.log()
    );
}

#[test]
fn direct_mode_tpm_outage_gives_svc_unavailable_then_recovers() {
    let (mut realm, mut tpm) = setup();
    serve_with_tpm(&mut realm, &tpm, "rsa2048", "direct", &[]);
    let proxy = TcpProxy::start(realm.addr()).unwrap();
    let client = realm.client_via(&proxy.host_port()).unwrap();
    kinit_ok(&realm, &client);

    tpm.kill().unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(!run.success(), "{}", run.report());
    assert!(
        proxy.error_codes().contains(&KDC_ERR_SVC_UNAVAILABLE),
        "{}\n{}",
        proxy.summary(),
        run.report()
    );
    assert!(
        realm.log().contains("TPM signing failed"),
        "{}",
        realm.log()
    );

    tpm.resume().unwrap();
    // The signer reconnects on a later request (backoff at most 5 s); no KDC restart.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let run = client
            .kinit(&realm.principal("alice"), &realm.alice())
            .unwrap();
        if run.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no recovery:\n{}\n{}",
            run.report(),
            realm.log()
        );
        thread::sleep(Duration::from_secs(1));
    }
    assert!(realm.is_running().unwrap());
    realm.check_no_panic().unwrap();
}

/// period 20 s: each certificate lives 40 s and is used until 10 s before its end. The TPM
/// goes down right after a rotation and stays down past the next one (24 s): the rotation
/// fails and is retried, every kinit meanwhile succeeds, and once the TPM is back a new
/// certificate is issued.
#[test]
fn delegated_mode_short_tpm_outage_costs_nothing() {
    let (mut realm, mut tpm) = setup();
    serve_with_tpm(
        &mut realm,
        &tpm,
        "rsa2048",
        "delegated",
        &[("period_secs", "20")],
    );
    let client = realm.client().unwrap();
    kinit_ok(&realm, &client);
    let rotations = |realm: &Realm| realm.log().matches("new delegated KDC certificate").count();
    assert_eq!(rotations(&realm), 1);

    tpm.kill().unwrap();
    let down = Instant::now();
    while down.elapsed() < Duration::from_secs(24) {
        kinit_ok(&realm, &client);
        thread::sleep(Duration::from_secs(2));
    }
    assert!(
        realm
            .log()
            .contains("cannot issue the next delegated KDC certificate"),
        "the outage went unseen by the rotation:\n{}",
        realm.log()
    );
    assert_eq!(rotations(&realm), 1);
    tpm.resume().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while rotations(&realm) < 2 {
        assert!(
            Instant::now() < deadline,
            "no new certificate:\n{}",
            realm.log()
        );
        kinit_ok(&realm, &client);
        thread::sleep(Duration::from_millis(500));
    }
    kinit_ok(&realm, &client);
    realm.check_no_panic().unwrap();
}
