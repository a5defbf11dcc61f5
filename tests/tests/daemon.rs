//! The KDC as a long-running daemon (issue 8): JSON logs with one audit line per issued
//! ticket and no secrets; SIGHUP reloads the configuration and the key store during a stream
//! of MIT kinits without failing one, and refuses a broken configuration while the old one
//! keeps serving; SIGTERM under load drains and exits 0.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use kdc_integration::{MitClient, Realm};

/// Bounds of every load loop here.
const MAX_KINITS_PER_WORKER: usize = 200;
const MAX_LOAD_TIME: Duration = Duration::from_secs(90);

/// Workers running kinit for alice in a loop until told to stop, each with its own client.
struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    workers: Vec<thread::JoinHandle<Vec<String>>>,
}

impl Load {
    fn start(realm: &Realm, workers: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicUsize::new(0));
        let alice = realm.principal("alice");
        let identity = realm.alice();
        let handles = (0..workers)
            .map(|_| {
                let client: MitClient = realm.client().unwrap();
                let (stop, ok, alice, identity) =
                    (stop.clone(), ok.clone(), alice.clone(), identity.clone());
                thread::spawn(move || {
                    let started = Instant::now();
                    let mut failures = Vec::new();
                    for _ in 0..MAX_KINITS_PER_WORKER {
                        if stop.load(Ordering::Relaxed) || started.elapsed() > MAX_LOAD_TIME {
                            break;
                        }
                        let run = client.kinit(&alice, &identity).unwrap();
                        if run.success() {
                            ok.fetch_add(1, Ordering::Relaxed);
                        } else {
                            failures.push(run.report());
                        }
                    }
                    failures
                })
            })
            .collect();
        Load {
            stop,
            ok,
            workers: handles,
        }
    }

    fn wait_for_successes(&self, count: usize) {
        let started = Instant::now();
        while self.ok.load(Ordering::Relaxed) < count {
            assert!(started.elapsed() < MAX_LOAD_TIME, "load stalled");
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the workers: how many kinits got a TGT, and the reports of those that failed.
    fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let failures = self
            .workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        (self.ok.load(Ordering::Relaxed), failures)
    }
}

fn wait_for_log(realm: &Realm, needle: &str, count: usize) {
    let started = Instant::now();
    while realm.log().matches(needle).count() < count {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no {needle:?} in the log:\n{}",
            realm.log()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn json_log_has_one_audit_line_per_ticket_and_no_secrets() {
    let mut realm = Realm::create().unwrap();
    realm.set_kdc_option("log", "format", "\"json\"").unwrap();
    let web = realm.add_service("host/web.example").unwrap();
    realm.start().unwrap();
    let client = realm.client().unwrap();
    let alice = realm.principal("alice");
    for _ in 0..2 {
        let run = client.kinit(&alice, &realm.alice()).unwrap();
        assert!(run.success(), "{}", run.report());
    }
    let run = client.kvno(&[&web]).unwrap();
    assert!(run.success(), "{}", run.report());
    assert_eq!(realm.stop().unwrap().unwrap().code(), Some(0));

    let log = realm.log();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(lines.len() > 5, "{log}");
    let audit: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["target"] == "kdc::audit")
        .collect();
    assert_eq!(audit.len(), 3, "{log}");
    let tgts: Vec<_> = audit
        .iter()
        .filter(|l| l["fields"]["message"] == "issued TGT")
        .collect();
    assert_eq!(tgts.len(), 2, "{log}");
    for tgt in tgts {
        let fields = &tgt["fields"];
        assert_eq!(fields["client"], "alice@EXAMPLE.TEST");
        assert_eq!(fields["trust"], "key");
        assert_eq!(fields["key_id"].as_str().unwrap().len(), 44, "{tgt}");
        assert_eq!(fields["device_id"].as_str().unwrap().len(), 36, "{tgt}");
        let span = &tgt["span"];
        assert_eq!(span["name"], "request");
        assert_eq!(span["transport"], "Tcp");
        assert_eq!(span["cname"], "alice");
        assert_eq!(span["sname"], format!("krbtgt/{}", realm.name()));
        assert!(span["peer"].as_str().unwrap().starts_with("127.0.0.1:"));
    }
    let service = audit
        .iter()
        .find(|l| l["fields"]["message"] == "issued service ticket")
        .unwrap();
    assert_eq!(service["fields"]["service"], "host/web.example");

    // No key material: the master key, the KDC and user private keys, the sealed keys.
    let master = std::fs::read_to_string(realm.dir().join("master.key")).unwrap();
    let mut secrets = vec![master.trim().to_owned()];
    for key in ["kdc.key", "alice.key", "ca.key"] {
        let pem = std::fs::read_to_string(realm.dir().join(key)).unwrap();
        secrets.extend(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::to_owned),
        );
    }
    for secret in secrets.iter().filter(|s| s.len() >= 16) {
        assert!(!log.contains(secret.as_str()), "the log holds {secret}");
    }
}

#[test]
fn sighup_reloads_during_kinits_and_refuses_a_broken_config() {
    let mut realm = Realm::create().unwrap();
    let web = format!("host/new.example@{}", realm.name());
    realm.start().unwrap();
    let probe = realm.client().unwrap();
    let load = Load::start(&realm, 2);
    load.wait_for_successes(4);

    // A service added to the key store and a shorter ticket lifetime: neither is served
    // before the reload.
    realm
        .admin(&["service", "add", &web])
        .unwrap()
        .ok()
        .unwrap();
    realm
        .set_kdc_option("tickets", "lifetime_secs", "600")
        .unwrap();
    let alice = realm.principal("alice");
    assert!(probe.kinit(&alice, &realm.alice()).unwrap().success());
    assert!(!probe.kvno(&[&web]).unwrap().success());
    realm.signal("HUP").unwrap();
    wait_for_log(&realm, "configuration reloaded", 1);
    let before = load.ok.load(Ordering::Relaxed);
    load.wait_for_successes(before + 4);

    let run = probe.kinit(&alice, &realm.alice()).unwrap();
    assert!(run.success(), "{}", run.report());
    let run = probe.kvno(&[&web]).unwrap();
    assert!(run.success(), "{}\n{}", run.report(), realm.log());
    let klist = probe.klist().unwrap();
    assert_eq!(
        ticket_lifetime_secs(&klist.output.stdout),
        600,
        "{}",
        klist.report()
    );

    // A broken file: refused, named in the log, and the KDC goes on with the last good one.
    let path = realm.kdc_toml_path();
    let good = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        good.replace("lifetime_secs = 600", "lifetime_secs = \"ten\""),
    )
    .unwrap();
    realm.signal("HUP").unwrap();
    wait_for_log(&realm, "new configuration refused", 1);
    assert!(realm.log().contains("kdc.toml:"), "{}", realm.log());
    let before = load.ok.load(Ordering::Relaxed);
    load.wait_for_successes(before + 4);
    let (_, failures) = load.finish();
    assert!(
        failures.is_empty(),
        "{} kinits failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(realm.is_running().unwrap());
    let run = probe.kinit(&alice, &realm.alice()).unwrap();
    assert!(run.success(), "{}", run.report());
    let klist = probe.klist().unwrap();
    assert_eq!(
        ticket_lifetime_secs(&klist.output.stdout),
        600,
        "{}",
        klist.report()
    );
    realm.check_no_panic().unwrap();
}

/// Seconds between "Valid starting" and "Expires" of klist's krbtgt line
/// (`MM/DD/YY HH:MM:SS  MM/DD/YY HH:MM:SS  krbtgt/...`), within one day.
fn ticket_lifetime_secs(klist: &str) -> i64 {
    let line = klist.lines().find(|l| l.contains("krbtgt/")).unwrap();
    let times: Vec<i64> = line
        .split_whitespace()
        .filter(|word| word.matches(':').count() == 2)
        .map(|hms| {
            let parts: Vec<i64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
            parts[0] * 3600 + parts[1] * 60 + parts[2]
        })
        .collect();
    assert_eq!(times.len(), 2, "{line}");
    (times[1] - times[0]).rem_euclid(86_400)
}

#[test]
fn sigterm_under_load_drains_and_exits_zero() {
    let mut realm = Realm::started().unwrap();
    let load = Load::start(&realm, 3);
    load.wait_for_successes(6);
    realm.signal("TERM").unwrap();
    let status = realm.wait_exit(Duration::from_secs(20)).unwrap();
    let (stored, failures) = load.finish();
    assert_eq!(status.code(), Some(0), "{}", realm.log());
    let log = realm.log();
    assert!(log.contains("SIGTERM: draining"), "{log}");
    assert!(log.contains("server drained"), "{log}");
    // Every logon in flight completed: each TGT the KDC issued, during the drain too, reached
    // the kinit that asked and was stored.
    let issued = log.matches("issued TGT").count();
    assert_eq!(issued, stored, "TGTs issued and stored differ:\n{log}");
    // The kinits that failed found the KDC gone (no new requests once draining); none was
    // answered with an error or cut off mid-exchange.
    for failure in &failures {
        assert!(failure.contains("Cannot contact any KDC"), "{failure}");
    }
    realm.check_no_panic().unwrap();
}
