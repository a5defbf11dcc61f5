//! The metrics listener as an operator's Prometheus sees it (issue 8): after real MIT kinits
//! and a kvno, `/metrics` counters moved by exactly what was sent (RFC 4120 AS and TGS
//! exchanges, RFC 4556 PKINIT logons by trust model, RFC 4120 §7.2.2 malformed frames), and
//! `/healthz` turns 503 while slapd is down and 200 once it is back.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use kdc_integration::Realm;
use kdc_integration::scrape::{self, Sample, http_get};
use kdc_integration::slapd::{Slapd, SlapdOptions};

/// How much `name{labels}` grew between two scrapes; it must be exported after.
fn grew(before: &[Sample], after: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape::growth(before, after, name, labels).unwrap()
}

/// `name{labels}` in one scrape; it must be exported.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape::sum(samples, name, labels).unwrap()
}

#[test]
fn counters_move_by_what_the_clients_sent() {
    let mut realm = Realm::create().unwrap();
    let web = realm.add_service("host/web.example").unwrap();
    realm.start().unwrap();
    let metrics = realm
        .metrics_addr()
        .unwrap()
        .expect("dev-realm turns metrics on");
    // dev-realm's own layout (the harness moves the listener to a port the kernel picks).
    let dev_realm = std::fs::read_to_string(realm.tmp().join("dev-realm.stdout")).unwrap();
    let written = format!("http://127.0.0.1:{}/metrics", realm.port() + 1);
    assert!(dev_realm.contains(&written), "{dev_realm}");
    let (status, body) = http_get(metrics, "/healthz").unwrap();
    assert_eq!(
        (status, body.as_str()),
        (200, "directory: up\nsigner: up\n")
    );

    let before = realm.metrics().unwrap();
    let client = realm.client().unwrap();
    let alice = realm.principal("alice");
    for _ in 0..2 {
        let run = client.kinit(&alice, &realm.alice()).unwrap();
        assert!(run.success(), "{}\n{}", run.report(), realm.log());
    }
    let run = client.kvno(&[&web]).unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    let stranger = realm.new_identity("stranger").unwrap();
    client.trust(&stranger.cert).unwrap();
    let run = client.kinit(&alice, &stranger).unwrap();
    assert!(!run.success(), "{}", run.report());
    // A TCP length with the reserved high bit (RFC 4120 §7.2.2) and a datagram that is
    // no Kerberos message.
    let mut tcp = TcpStream::connect(realm.addr()).unwrap();
    tcp.write_all(&[0x80, 0, 0, 4, 1, 2, 3, 4]).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = std::io::Read::read(&mut tcp, &mut [0u8; 256]);
    drop(tcp);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(b"not kerberos", realm.addr()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let after = realm.metrics().unwrap();

    let requests = "kdc_requests_total";
    let as_ok = [("type", "as"), ("result", "ok")];
    assert_eq!(grew(&before, &after, requests, &as_ok), 2.0);
    let preauth = [("type", "as"), ("result", "KDC_ERR_PREAUTH_REQUIRED")];
    // Each kinit, the refused one too, first asks without pre-authentication.
    assert_eq!(grew(&before, &after, requests, &preauth), 3.0);
    // Over TCP: the TGT with its PAC makes the TGS-REQ larger than MIT's
    // udp_preference_limit (1465 bytes), above which MIT sends by TCP at once.
    let tgs_ok = [("type", "tgs"), ("result", "ok"), ("transport", "tcp")];
    assert_eq!(grew(&before, &after, requests, &tgs_ok), 1.0);
    let not_trusted = [("type", "as"), ("result", "KDC_ERR_CLIENT_NOT_TRUSTED")];
    let refused = grew(&before, &after, requests, &not_trusted);
    assert!(refused >= 1.0, "{refused}");
    let as_all = grew(&before, &after, requests, &[("type", "as")]);
    assert_eq!(as_all, 2.0 + 3.0 + refused);

    let logons = "kdc_pkinit_logons_total";
    assert_eq!(
        grew(
            &before,
            &after,
            logons,
            &[("trust", "key"), ("result", "ok")]
        ),
        2.0
    );
    assert_eq!(
        grew(
            &before,
            &after,
            logons,
            &[("trust", "key"), ("result", "KDC_ERR_CLIENT_NOT_TRUSTED")]
        ),
        refused
    );
    // Requests without PA-PK-AS-REQ are no PKINIT logon.
    assert_eq!(grew(&before, &after, logons, &[]), 2.0 + refused);
    // MIT kinit signs in the freshness token each PREAUTH_REQUIRED handed it (RFC 8070).
    let fresh = "kdc_pkinit_fresh_logons_total";
    assert_eq!(grew(&before, &after, fresh, &[("trust", "key")]), 2.0);

    // kvno's TGT carried a PAC, which the TGS verified.
    let tgt_pacs = "kdc_tgs_tgt_pacs_total";
    assert_eq!(grew(&before, &after, tgt_pacs, &[("pac", "verified")]), 1.0);

    let histogram = "kdc_request_duration_seconds_count";
    assert_eq!(grew(&before, &after, histogram, &[("type", "as")]), as_all);
    assert_eq!(grew(&before, &after, histogram, &[("type", "tgs")]), 1.0);
    // Every AS request looks its client up once.
    let lookups = "kdc_directory_request_duration_seconds_count";
    assert_eq!(
        grew(&before, &after, lookups, &[("operation", "find_user")]),
        as_all
    );
    assert_eq!(
        grew(
            &before,
            &after,
            "kdc_signer_duration_seconds_count",
            &[("mode", "software")]
        ),
        2.0
    );
    assert_eq!(
        grew(&before, &after, "kdc_malformed_frames_total", &[]),
        1.0
    );
    assert_eq!(
        grew(
            &before,
            &after,
            "kdc_undecodable_messages_total",
            &[("transport", "udp")]
        ),
        1.0
    );
    // dev-realm's KDC certificate is valid for 365 days from its making.
    let expiry = value(&after, "kdc_certificate_expiry_seconds", &[]);
    let day = 86_400.0;
    assert!((364.0 * day..=365.0 * day).contains(&expiry), "{expiry}");
    assert_eq!(value(&after, "kdc_directory_up", &[]), 1.0);
    assert_eq!(value(&after, "kdc_signer_up", &[]), 1.0);
    assert_eq!(value(&after, "kdc_tcp_connections_open", &[]), 0.0);
    realm.check_no_panic().unwrap();
}

fn wait_for_health(addr: SocketAddr, status: u16) -> String {
    let started = Instant::now();
    loop {
        let (now, body) = http_get(addr, "/healthz").unwrap();
        if now == status {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "/healthz stayed {now}: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn healthz_follows_the_ldap_server() {
    let mut realm = Realm::create().unwrap();
    let mut slapd = Slapd::start(SlapdOptions::default()).unwrap();
    slapd.add_users_of(&realm).unwrap();
    let options = [
        "timeout_ms = 1000",
        "reconnect_backoff_ms = 50",
        "reconnect_backoff_max_ms = 300",
    ];
    slapd.serve_realm(&realm, &slapd.url(), &options).unwrap();
    realm
        .set_kdc_option("metrics", "probe_interval_secs", "1")
        .unwrap();
    realm.start().unwrap();
    let metrics = realm.metrics_addr().unwrap().unwrap();

    assert_eq!(wait_for_health(metrics, 200), "directory: up\nsigner: up\n");
    slapd.stop();
    assert_eq!(
        wait_for_health(metrics, 503),
        "directory: down\nsigner: up\n"
    );
    let samples = realm.metrics().unwrap();
    assert_eq!(value(&samples, "kdc_directory_up", &[]), 0.0);
    slapd.restart().unwrap();
    wait_for_health(metrics, 200);
    let client = realm.client().unwrap();
    let run = client
        .kinit(&realm.principal("alice"), &realm.alice())
        .unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    let samples = realm.metrics().unwrap();
    assert!(value(&samples, "kdc_ldap_cache_misses_total", &[]) >= 1.0);
    realm.check_no_panic().unwrap();
}

/// TPM direct mode: a signature that fails with the TPM gone turns `/healthz` 503 (signer
/// down) and a TPM queue depth gauge is exported; once the TPM is back the probe finds it
/// without any client traffic (a KDC out of rotation gets none).
#[test]
fn healthz_follows_the_tpm_without_traffic() {
    use kdc_integration::swtpm::{self, Swtpm};
    swtpm::require().unwrap();
    let mut realm = Realm::create().unwrap();
    let mut tpm = Swtpm::start().unwrap();
    let key = tpm
        .provision(&realm, 0x8101_0001, "rsa2048", "direct")
        .unwrap();
    key.issue_with_dev_ca(&realm).unwrap();
    key.configure(&realm, &tpm.tcti(), &[]).unwrap();
    realm
        .set_kdc_option("metrics", "probe_interval_secs", "1")
        .unwrap();
    realm.start().unwrap();
    let metrics = realm.metrics_addr().unwrap().unwrap();
    let client = realm.client().unwrap();
    let alice = realm.principal("alice");
    let run = client.kinit(&alice, &realm.alice()).unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    let samples = realm.metrics().unwrap();
    assert_eq!(
        value(
            &samples,
            "kdc_signer_duration_seconds_count",
            &[("mode", "tpm")]
        ),
        1.0
    );
    assert_eq!(value(&samples, "kdc_tpm_queue_depth", &[]), 0.0);
    assert_eq!(wait_for_health(metrics, 200), "directory: up\nsigner: up\n");

    tpm.kill().unwrap();
    let run = client.kinit(&alice, &realm.alice()).unwrap();
    assert!(!run.success(), "{}", run.report());
    assert_eq!(
        wait_for_health(metrics, 503),
        "directory: up\nsigner: down\n"
    );
    let samples = realm.metrics().unwrap();
    assert!(value(&samples, "kdc_signer_errors_total", &[("mode", "tpm")]) >= 1.0);

    tpm.resume().unwrap();
    // No kinit until the probe has found the TPM (reconnect backoff is at most 5 s).
    wait_for_health(metrics, 200);
    let run = client.kinit(&alice, &realm.alice()).unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    realm.check_no_panic().unwrap();
}
