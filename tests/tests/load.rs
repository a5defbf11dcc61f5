//! `kdc-load` against a KDC started by the harness: PKINIT AS exchanges (RFC 4556) and TGS
//! exchanges (RFC 4120 §3.3) over TCP and UDP all verify, for key-trust and CA-issued users
//! made by `kdc-load prepare`, and a KDC that refuses every request (an unregistered key:
//! KDC_ERR_CLIENT_NOT_TRUSTED, 62) or is not running is counted by outcome; the same client
//! drives MIT's krb5kdc. Against two replicas of one realm (`--kdc` twice) both get requests
//! and every answer verifies, and a replica that is not running costs failed attempts, counted
//! for it, while every request still gets a right answer from the other.
//! Nothing here is timed: speed is the benchmark's business (bench/compare-mit.sh).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use kdc_integration::kdc_load::{self, all_refused, all_verified, dir_arg};
use kdc_integration::mit_kdc::{self, MitKdc, MitRealm};
use kdc_integration::ports;
use kdc_integration::process::RunOutput;
use kdc_integration::{KDC_ERR_CLIENT_NOT_TRUSTED, KDC_ERR_PREAUTH_FAILED, Realm};

fn load(realm: &Realm, tag: &str, args: &[&str]) -> RunOutput {
    kdc_load::load(realm, tag, args).unwrap()
}

fn run_json(realm: &Realm, tag: &str, args: &[&str]) -> String {
    kdc_load::run_json(realm, tag, args).unwrap()
}

#[test]
fn every_as_and_tgs_reply_verifies_over_tcp_and_udp() {
    let mut realm = Realm::create().unwrap();
    let dir = realm.dir().to_owned();
    let prepared = load(
        &realm,
        "prepare",
        &["prepare", "--realm-dir", dir_arg(&dir), "--users", "4"],
    );
    assert!(
        prepared.stdout.trim_end().ends_with("load-users/users.txt"),
        "{prepared}"
    );
    // The embedded directory is read when the KDC starts: users first, then the KDC.
    realm.start().unwrap();
    for transport in ["tcp", "udp"] {
        let json = run_json(
            &realm,
            transport,
            &[
                "--realm-dir",
                dir_arg(&dir),
                "--transport",
                transport,
                "--exchange",
                "both",
                "--count",
                "50",
                "--concurrency",
                "4",
            ],
        );
        for exchange in ["as", "tgs"] {
            let phase = format!("{{\"exchange\":\"{exchange}\",{}", all_verified(50));
            assert!(json.contains(&phase), "{transport}: {json}");
        }
        assert!(json.contains("\"users\":4,"), "{json}");
    }
    realm.check_no_panic().unwrap();
}

#[test]
fn refusals_are_counted_by_error_code() {
    let realm = Realm::started().unwrap();
    // A key that nobody registered: key trust finds no match for alice.
    let stranger = realm.new_identity("stranger").unwrap();
    let users = realm.tmp().join("users.txt");
    std::fs::write(
        &users,
        format!(
            "alice {} {}\n",
            stranger.cert.display(),
            stranger.key.display()
        ),
    )
    .unwrap();
    for transport in ["tcp", "udp"] {
        let json = run_json(
            &realm,
            &format!("refused-{transport}"),
            &[
                "--realm-dir",
                dir_arg(realm.dir()),
                "--users-file",
                users.to_str().unwrap(),
                "--transport",
                transport,
                "--count",
                "20",
                "--verify-sample",
                "0.5",
            ],
        );
        let refused = all_refused(20, KDC_ERR_CLIENT_NOT_TRUSTED);
        assert!(json.contains(&refused), "{transport}: {json}");
        assert!(json.contains("\"latency_ms\":null"), "{json}");
    }
    realm.check_no_panic().unwrap();
}

#[test]
fn a_kdc_that_is_not_running_is_counted_as_transport_failures() {
    // The realm exists but its KDC was never started.
    let realm = Realm::create().unwrap();
    let json = run_json(
        &realm,
        "silent",
        &[
            "--realm-dir",
            dir_arg(realm.dir()),
            "--transport",
            "tcp",
            "--count",
            "5",
            "--timeout-ms",
            "2000",
        ],
    );
    // No listener: every TCP connect is refused at once.
    assert!(
        json.contains(
            "\"completed\":5,\"ok\":0,\"verified\":0,\"krb_errors\":{},\
                       \"failures\":{\"transport\":5},"
        ),
        "{json}"
    );
}

#[test]
fn certificate_trust_users_made_by_prepare_log_in() {
    let mut realm = Realm::create().unwrap();
    let dir = realm.dir().to_owned();
    let out = realm.tmp().join("cert-users");
    let users_file = kdc_load::prepare_certificate_users(&realm, 3, &out).unwrap();
    realm.start().unwrap();
    let json = run_json(
        &realm,
        "cert-trust",
        &[
            "--realm-dir",
            dir_arg(&dir),
            "--users-file",
            users_file.to_str().unwrap(),
            "--count",
            "12",
        ],
    );
    assert!(
        json.contains(
            "\"completed\":12,\"ok\":12,\"verified\":12,\"krb_errors\":{},\"failures\":{},"
        ),
        "{json}\n{}",
        realm.log()
    );
    // The audit line names the trust path (its field separators may be coloured).
    assert!(realm.log().contains("\"certificate\""), "{}", realm.log());
}

/// Against a KDC that requires RFC 8070 freshness tokens, plain requests are refused
/// (KDC_ERR_PREAUTH_FAILED, 24) and
/// `--freshness` (one token asked for at the start, signed into every request) passes.
#[test]
fn freshness_flag_passes_a_kdc_that_requires_tokens() {
    let mut realm = Realm::create().unwrap();
    realm
        .set_kdc_option("pkinit", "freshness", "\"required\"")
        .unwrap();
    realm.start().unwrap();
    let common = ["--realm-dir", dir_arg(realm.dir()), "--count", "20"];
    let without = run_json(&realm, "no-token", &common);
    let refused = all_refused(20, KDC_ERR_PREAUTH_FAILED);
    assert!(without.contains(&refused), "{without}");
    let with: Vec<&str> = common.iter().copied().chain(["--freshness"]).collect();
    let json = run_json(&realm, "token", &with);
    assert!(json.contains(&all_verified(20)), "{json}");
    realm.check_no_panic().unwrap();
}

/// The same client drives MIT's krb5kdc (certificate trust: MIT has no key trust), over TCP
/// and UDP, and every reply verifies: the KDC's signature, the DH agreement and KDF, the
/// enc-part and the nonces.
#[test]
fn kdc_load_drives_mit_krb5kdc_and_every_reply_verifies() {
    assert!(
        mit_kdc::installed(),
        "MIT's KDC is missing: apt-get install krb5-kdc krb5-admin-server (tests/run does)"
    );
    let realm = Realm::create().unwrap();
    let dir = realm.dir().to_owned();
    let out = dir.join("cert-users");
    let users_file = kdc_load::prepare_certificate_users(&realm, 3, &out).unwrap();
    let users: Vec<String> = std::fs::read_to_string(&users_file)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    assert_eq!(users.len(), 3, "{}", users_file.display());
    let mit = MitKdc::start(&MitRealm {
        name: realm.name(),
        kdc_cert: &dir.join("kdc.pem"),
        kdc_key: &dir.join("kdc.key"),
        anchors: &dir.join("ca.pem"),
        users: &users,
    })
    .unwrap();
    let kdc = mit.addr().to_string();
    for transport in ["tcp", "udp"] {
        let json = run_json(
            &realm,
            &format!("mit-{transport}"),
            &[
                "--kdc",
                &kdc,
                "--realm",
                realm.name(),
                "--kdc-cert",
                dir.join("kdc.pem").to_str().unwrap(),
                "--users-file",
                users_file.to_str().unwrap(),
                "--transport",
                transport,
                "--count",
                "20",
                "--concurrency",
                "2",
            ],
        );
        assert!(
            json.contains(&all_verified(20)),
            "{transport}: {json}\n{}",
            mit.log()
        );
    }
}

/// The PKINIT pool (issue 13): with one worker and one queued place, a burst of 24 clients
/// at once finds it full; those get KDC_ERR_SVC_UNAVAILABLE (29) at once over TCP, counted in
/// `kdc_pkinit_pool_full_total`, and every other exchange verifies.
#[test]
fn a_full_pkinit_pool_answers_svc_unavailable_at_once() {
    let mut realm = Realm::create().unwrap();
    realm.set_kdc_option("pkinit", "workers", "1").unwrap();
    realm.set_kdc_option("pkinit", "queue", "1").unwrap();
    realm.start().unwrap();
    let json = run_json(
        &realm,
        "pool",
        &[
            "--realm-dir",
            dir_arg(realm.dir()),
            "--count",
            "96",
            "--concurrency",
            "24",
        ],
    );
    let number = |key: &str| -> u64 {
        let at = json.find(&format!("\"{key}\":")).unwrap() + key.len() + 3;
        json[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or(0)
    };
    let (ok, busy) = (number("ok"), number("29"));
    assert!(busy > 0, "the pool never filled: {json}");
    assert!(ok > 0, "nothing got through: {json}");
    assert_eq!(ok + busy, 96, "{json}");
    assert_eq!(number("verified"), ok, "{json}");
    let samples = realm.metrics().unwrap();
    assert_eq!(
        kdc_integration::scrape::sum(
            &samples,
            "kdc_pkinit_pool_full_total",
            &[("transport", "tcp")]
        )
        .unwrap(),
        busy as f64
    );
    realm.check_no_panic().unwrap();
}

/// Issue 19: a PKINIT request over UDP still waiting for the pool `udp_queue_timeout_ms`
/// after it came is dropped unstarted (its client has sent it again by then), counted in
/// `kdc_pkinit_queue_stale_total`; the others are answered, and the time they waited is in
/// `kdc_pkinit_queue_wait_seconds`. One worker, 1 ms: a burst of 16 clients leaves most
/// waiting longer.
#[test]
fn udp_requests_that_waited_too_long_for_the_pool_are_dropped_and_counted() {
    let mut realm = Realm::create().unwrap();
    realm.set_kdc_option("pkinit", "workers", "1").unwrap();
    realm
        .set_kdc_option("pkinit", "udp_queue_timeout_ms", "1")
        .unwrap();
    realm.start().unwrap();
    let json = run_json(
        &realm,
        "stale",
        &[
            "--realm-dir",
            dir_arg(realm.dir()),
            "--transport",
            "udp",
            "--count",
            "64",
            "--concurrency",
            "16",
            "--timeout-ms",
            "1000",
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let as_phase = phase(&report, "as");
    let ok = number(&as_phase["ok"]);
    let timeouts = as_phase["failures"]["timeout"].as_u64().unwrap_or(0);
    assert!(timeouts > 0, "nothing waited past 1 ms: {as_phase}");
    assert!(ok > 0, "nothing got through: {as_phase}");
    assert_eq!(ok + timeouts, 64, "{as_phase}");
    assert_eq!(number(&as_phase["verified"]), ok, "{as_phase}");
    let samples = realm.metrics().unwrap();
    let metric =
        |name: &str| kdc_integration::scrape::sum(&samples, name, &[("transport", "udp")]).unwrap();
    assert_eq!(metric("kdc_pkinit_queue_stale_total"), timeouts as f64);
    assert_eq!(metric("kdc_pkinit_queue_wait_seconds_count"), ok as f64);
    realm.check_no_panic().unwrap();
}

/// A phase of a JSON report, parsed.
fn phase<'a>(report: &'a serde_json::Value, exchange: &str) -> &'a serde_json::Value {
    report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["exchange"] == exchange)
        .unwrap_or_else(|| panic!("no {exchange} phase: {report}"))
}

fn number(value: &serde_json::Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a count: {value}"))
}

/// Every request of the phase ended in a verified answer: none refused, failed or wrong.
fn assert_all_verified(phase: &serde_json::Value, count: u64) {
    assert_eq!(number(&phase["completed"]), count, "{phase}");
    assert_eq!(number(&phase["ok"]), count, "{phase}");
    assert_eq!(number(&phase["verified"]), count, "{phase}");
    assert_eq!(phase["krb_errors"], serde_json::json!({}), "{phase}");
    assert_eq!(phase["failures"], serde_json::json!({}), "{phase}");
}

/// Each attempt is counted at the KDC it went to: the KDCs' attempts are the requests plus
/// those sent again elsewhere, so none vanished.
fn assert_attempts_add_up(phase: &serde_json::Value) {
    let sent: u64 = phase["kdcs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kdc| number(&kdc["sent"]))
        .sum();
    assert_eq!(
        sent,
        number(&phase["completed"]) + number(&phase["retries"]),
        "{phase}"
    );
}

/// Two `kdc serve` of one dev realm (the second on a copy of its folder, on 127.0.0.2): with
/// `--kdc A --target B` both get requests, round-robin over TCP and at random over UDP, and
/// every AS and TGS answer verifies, whichever replica answers (a TGT from one is good at the
/// other).
#[test]
fn two_replicas_of_one_realm_share_the_load_and_every_answer_verifies() {
    let mut a = Realm::create().unwrap();
    let dir = a.dir().to_owned();
    load(
        &a,
        "prepare",
        &["prepare", "--realm-dir", dir_arg(&dir), "--users", "4"],
    );
    // Copied once the users are in the directory, so both replicas know them.
    let mut b = a.replica(Ipv4Addr::new(127, 0, 0, 2)).unwrap();
    a.start().unwrap();
    b.start().unwrap();
    let (a_addr, b_addr) = (a.addr().to_string(), b.addr().to_string());
    for (transport, spread, count) in [("tcp", "round-robin", 40), ("udp", "random", 60)] {
        let text = run_json(
            &a,
            &format!("replicas-{transport}"),
            &[
                "--realm-dir",
                dir_arg(&dir),
                "--kdc",
                &a_addr,
                "--target",
                &b_addr,
                "--spread",
                spread,
                "--transport",
                transport,
                "--exchange",
                "both",
                "--count",
                &count.to_string(),
                "--concurrency",
                "4",
            ],
        );
        let report: serde_json::Value = serde_json::from_str(&text).unwrap();
        for exchange in ["as", "tgs"] {
            let phase = phase(&report, exchange);
            assert_all_verified(phase, count);
            assert_eq!(number(&phase["retries"]), 0, "{transport}: {phase}");
            let kdcs = phase["kdcs"].as_array().unwrap();
            assert_eq!(kdcs.len(), 2, "{phase}");
            for (kdc, addr) in kdcs.iter().zip([&a_addr, &b_addr]) {
                assert_eq!(kdc["kdc"], addr.as_str(), "{phase}");
                let sent = number(&kdc["sent"]);
                assert!(
                    sent > 0,
                    "{transport} {spread}: {addr} got nothing: {phase}"
                );
                assert_eq!(number(&kdc["verified"]), sent, "{phase}");
            }
            if spread == "round-robin" {
                // Each in turn: half each.
                assert!(
                    kdcs.iter().all(|k| number(&k["sent"]) == count / 2),
                    "{phase}"
                );
            }
            assert_attempts_add_up(phase);
        }
    }
    a.check_no_panic().unwrap();
    b.check_no_panic().unwrap();
}

/// A target nobody listens on, given first (so the set-up exchanges of the TGS phase find
/// it too): the run completes, its refused attempts are reported as its failures, it is left
/// out after a few (far fewer than its round-robin half), and every request gets a verified
/// answer from the KDC that runs.
#[test]
fn a_target_nobody_listens_on_is_reported_and_the_other_answers_every_request() {
    let realm = Realm::started().unwrap();
    let dead = ports::loopback(ports::free_port().unwrap()).to_string();
    let live = realm.addr().to_string();
    let count = 60;
    for transport in ["tcp", "udp"] {
        let text = run_json(
            &realm,
            &format!("dead-{transport}"),
            &[
                "--realm-dir",
                dir_arg(realm.dir()),
                "--kdc",
                &dead,
                "--kdc",
                &live,
                "--transport",
                transport,
                "--exchange",
                "both",
                "--count",
                &count.to_string(),
                "--concurrency",
                "4",
                "--timeout-ms",
                "2000",
            ],
        );
        let report: serde_json::Value = serde_json::from_str(&text).unwrap();
        for exchange in ["as", "tgs"] {
            let phase = phase(&report, exchange);
            assert_all_verified(phase, count);
            let (down, up) = (&phase["kdcs"][0], &phase["kdcs"][1]);
            assert_eq!(down["kdc"], dead.as_str(), "{phase}");
            let refused = number(&down["sent"]);
            // Loopback refuses at once: a TCP RST, or ICMP port unreachable for UDP.
            assert!(refused > 0, "{transport}: {phase}");
            assert_eq!(down["failures"], serde_json::json!({"transport": refused}));
            assert_eq!(number(&down["ok"]), 0, "{phase}");
            assert!(refused < count / 2, "never left out: {phase}");
            // Every refused request was sent again to the live KDC, which answered it.
            assert_eq!(number(&phase["retries"]), refused, "{phase}");
            assert_eq!(number(&up["sent"]), count, "{phase}");
            assert_eq!(number(&up["verified"]), count, "{phase}");
            assert_eq!(up["failures"], serde_json::json!({}), "{phase}");
            assert_attempts_add_up(phase);
        }
    }
    realm.check_no_panic().unwrap();
}
