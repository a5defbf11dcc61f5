//! KDC replicas on a replicated directory (issue 18, deploy/replicas.md): two OpenLDAP
//! providers replicating each other, replica A (127.0.0.2) on the first and replica B
//! (127.0.0.3) on the second, keys in LDAP. Each test checks one claim of replicas.md with MIT
//! kinit/kvno.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use kdc_integration::kdc_load::kdc_load;
use kdc_integration::replicas::{CACHE_TTL, Replicas};
use kdc_integration::scrape::{self, http_get};
use kdc_integration::slapd::REPLICATION_TIMEOUT;
use kdc_integration::{MitClient, TcpProxy, conf, krb};

/// What MIT kinit says after KDC_ERR_SVC_UNAVAILABLE (29): it does not take that answer as
/// final, tries every KDC it knows again until its timeouts run out (about 27 s), then
/// prints this.
const MIT_SVC_UNAVAILABLE: &str = "A service is not available";
/// MIT's code for KDC_ERR_CLIENT_REVOKED (18).
const MIT_CLIENT_REVOKED: &str = "-1765328366";

/// Retries `attempt` (bounded) until it succeeds; how long that took.
fn within(
    timeout: Duration,
    what: &str,
    mut attempt: impl FnMut() -> Result<(), String>,
) -> Duration {
    let started = Instant::now();
    loop {
        match attempt() {
            Ok(()) => return started.elapsed(),
            Err(last) if started.elapsed() > timeout => {
                panic!("{what}: not within {timeout:?}; last attempt:\n{last}")
            }
            Err(_) => thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn kinit(replicas: &Replicas, client: &MitClient, user: &str) -> Result<(), String> {
    let realm = &replicas.kdc[0];
    let identity = match user {
        "alice" => realm.alice(),
        "bob" => realm.bob(),
        _ => panic!("no identity for {user}"),
    };
    let run = client.kinit(&realm.principal(user), &identity).unwrap();
    if run.success() {
        Ok(())
    } else {
        Err(format!("{}\n{}", run.report(), replicas.logs()))
    }
}

#[test]
fn a_key_registered_through_one_server_logs_in_through_the_other_replica() {
    let replicas = Replicas::start().unwrap();
    let [a, b] = &replicas.kdc;
    let carol = a.principal("carol");
    a.admin(&["user", "add", &carol]).unwrap().ok().unwrap();
    let identity = a.new_identity("carol").unwrap();
    a.register_key("carol", &identity).unwrap();
    let client = replicas.client_of(1).unwrap();
    client.trust(&identity.cert).unwrap();
    let took = within(
        REPLICATION_TIMEOUT + CACHE_TTL,
        "carol's key at replica B",
        || {
            let run = client.kinit(&carol, &identity).unwrap();
            if run.success() {
                Ok(())
            } else {
                Err(format!("{}\n{}", run.report(), b.log()))
            }
        },
    );
    eprintln!("a key registered through server A served by replica B after {took:?}");
}

#[test]
fn a_tgt_and_a_freshness_token_from_one_replica_are_good_at_the_other() {
    let replicas = Replicas::start().unwrap();
    let [a, b] = &replicas.kdc;
    let web = a.principal("host/web.example");
    let client = replicas.client_of(0).unwrap();
    kinit(&replicas, &client, "alice").unwrap();
    let b_addr = b.addr().to_string();
    client
        .edit_krb5_conf(|text| conf::set_kdc_address(text, &b_addr))
        .unwrap();
    let run = client.kvno(&[&web]).unwrap();
    assert!(run.success(), "{}\n{}", run.report(), replicas.logs());

    // A TCP load balancer in front of both: kinit's first request (answered with
    // PREAUTH_REQUIRED and a freshness token) goes to A, the signed one to B.
    let proxy = TcpProxy::round_robin(vec![a.addr(), b.addr()]).unwrap();
    let client = a.client_via(&proxy.host_port()).unwrap();
    let fresh_before =
        scrape::sum(&b.metrics().unwrap(), "kdc_pkinit_fresh_logons_total", &[]).unwrap_or(0.0);
    kinit(&replicas, &client, "alice").unwrap();
    let exchanges = proxy.exchanges();
    assert!(exchanges.len() >= 2, "{}", proxy.summary());
    assert_eq!(exchanges[0].upstream, a.addr(), "{}", proxy.summary());
    assert_eq!(exchanges[0].error_code(), Some(25), "{}", proxy.summary());
    assert_eq!(exchanges[1].upstream, b.addr(), "{}", proxy.summary());
    assert!(
        exchanges[1]
            .reply
            .as_deref()
            .is_some_and(|r| krb::krb_error_code(r).is_none()),
        "{}",
        proxy.summary()
    );
    let fresh_after =
        scrape::sum(&b.metrics().unwrap(), "kdc_pkinit_fresh_logons_total", &[]).unwrap();
    assert_eq!(
        fresh_after - fresh_before,
        1.0,
        "B took A's token\n{}",
        replicas.logs()
    );
}

/// Waits until `replica`'s last reload (SIGHUP) is counted.
fn reloaded(replicas: &Replicas, index: usize) {
    let realm = &replicas.kdc[index];
    within(Duration::from_secs(20), "reload", || {
        let samples = realm.metrics().map_err(|e| e.to_string())?;
        match scrape::sum(&samples, "kdc_config_reloads_total", &[("result", "ok")]) {
            Ok(n) if n >= 1.0 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
}

#[test]
fn after_a_krbtgt_rotation_and_a_reload_both_replicas_take_old_and_new_tgts() {
    let replicas = Replicas::start().unwrap();
    let [a, b] = &replicas.kdc;
    let web = a.principal("host/web.example");
    let old = replicas.client_of(0).unwrap();
    kinit(&replicas, &old, "alice").unwrap();

    a.admin(&["krbtgt", "rotate"]).unwrap().ok().unwrap();
    within(
        REPLICATION_TIMEOUT,
        "the new krbtgt key at server B",
        || {
            let found = replicas.ldap[1]
                .search("(kdcPrincipalName=krbtgt/EXAMPLE.TEST)", &["kdcSealedKey"])
                .map_err(|e| e.to_string())?;
            if found.contains("kdcSealedKey: 2:") {
                Ok(())
            } else {
                Err(found)
            }
        },
    );
    for realm in [a, b] {
        realm.signal("HUP").unwrap();
    }
    reloaded(&replicas, 0);
    reloaded(&replicas, 1);

    // New TGTs (kvno 2) from each replica are good at the other.
    let (a_addr, b_addr) = (a.addr().to_string(), b.addr().to_string());
    for (from, at) in [(1, &a_addr), (0, &b_addr)] {
        let new = replicas.client_of(from).unwrap();
        kinit(&replicas, &new, "alice").unwrap();
        let krbtgt = new.kvno(&[&a.principal("krbtgt/EXAMPLE.TEST")]).unwrap();
        assert!(
            krbtgt.output.stdout.contains("kvno = 2"),
            "replica {from} issues under the new key:\n{}",
            krbtgt.report()
        );
        new.edit_krb5_conf(|t| conf::set_kdc_address(t, at))
            .unwrap();
        let run = new.kvno(&[&web]).unwrap();
        assert!(run.success(), "{}\n{}", run.report(), replicas.logs());
    }
    // The old one (kvno 1, from A) still at B.
    old.edit_krb5_conf(|t| conf::set_kdc_address(t, &b_addr))
        .unwrap();
    let run = old.kvno(&[&web]).unwrap();
    assert!(run.success(), "{}\n{}", run.report(), replicas.logs());
}

#[test]
fn a_user_disabled_on_one_server_is_refused_by_both_replicas() {
    let replicas = Replicas::start().unwrap();
    let [a, b] = &replicas.kdc;
    b.admin(&["user", "disable", &b.principal("bob")])
        .unwrap()
        .ok()
        .unwrap();
    let took = within(
        REPLICATION_TIMEOUT + 2 * CACHE_TTL,
        "bob refused at both",
        || {
            for index in [0, 1] {
                let client = replicas.client_of(index).unwrap();
                match kinit(&replicas, &client, "bob") {
                    Ok(()) => return Err(format!("replica {index} still gives bob a TGT")),
                    Err(report) if report.contains(MIT_CLIENT_REVOKED) => {}
                    Err(report) => panic!("refused for another reason:\n{report}"),
                }
            }
            Ok(())
        },
    );
    eprintln!("bob, disabled through server B, refused by both replicas after {took:?}");
    assert!(a.log().contains("KDC_ERR_CLIENT_REVOKED"), "{}", a.log());
}

#[test]
fn a_kdc_whose_ldap_server_is_down_says_so_clients_move_on_and_it_recovers() {
    let mut replicas = Replicas::start().unwrap();
    replicas.ldap[0].stop();
    let a_only = replicas.client_of(0).unwrap();
    within(
        Duration::from_secs(20),
        "replica A refusing with SVC_UNAVAILABLE",
        || match kinit(&replicas, &a_only, "alice") {
            Err(report) if report.contains(MIT_SVC_UNAVAILABLE) => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    let health = replicas.kdc[0].metrics_addr().unwrap().unwrap();
    let (status, body) = http_get(health, "/healthz").unwrap();
    assert_eq!(status, 503, "{body}");
    // A client that lists both moves on to B.
    let both = replicas.client().unwrap();
    kinit(&replicas, &both, "alice").unwrap();

    // A change while server A is down reaches it when it returns; replica A serves again
    // without a restart.
    let b = &replicas.kdc[1];
    let carol = b.principal("carol");
    b.admin(&["user", "add", &carol]).unwrap().ok().unwrap();
    replicas.ldap[0].restart().unwrap();
    let took = replicas.ldap[0]
        .wait_for(
            "(userPrincipalName=carol@EXAMPLE.TEST)",
            REPLICATION_TIMEOUT,
        )
        .unwrap();
    eprintln!("server A caught up {took:?} after its restart");
    within(Duration::from_secs(20), "replica A serving again", || {
        kinit(&replicas, &a_only, "alice")
    });
    // /healthz follows at the next probe of the directory.
    within(
        Duration::from_secs(30),
        "replica A healthy again",
        || match http_get(health, "/healthz").map_err(|e| e.to_string())? {
            (200, _) => Ok(()),
            (status, body) => Err(format!("{status} {body}")),
        },
    );
}

#[test]
fn replica_a_killed_under_load_every_request_still_gets_a_right_answer() {
    let replicas = Replicas::start().unwrap();
    let [a, b] = &replicas.kdc;
    let json = a.tmp().join("killed.json");
    let (a_addr, b_addr) = (a.addr().to_string(), b.addr().to_string());
    let mut cmd = Command::new(kdc_load().unwrap());
    cmd.args(["run", "--quiet", "--json", json.to_str().unwrap()])
        .args(["--realm-dir", a.dir().to_str().unwrap()])
        .args(["--kdc", &a_addr, "--kdc", &b_addr])
        .args(["--duration", "4", "--concurrency", "4", "--exchange", "as"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let load = cmd.spawn().unwrap();
    // Killed once it is carrying its share (kdc-load signs its requests before it starts).
    within(
        Duration::from_secs(30),
        "replica A serving kdc-load",
        || {
            let samples = a.metrics().map_err(|e| e.to_string())?;
            let ok = [("type", "as"), ("result", "ok")];
            match scrape::sum(&samples, "kdc_requests_total", &ok) {
                Ok(n) if n >= 20.0 => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    );
    a.signal("KILL").unwrap();
    let output = load.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let phase = &report["phases"][0];
    // Every request was answered, and every answer verified (kdc-load checks the KDC's
    // signature, the DH agreement and the enc-part of each): none wrong, none lost.
    assert_eq!(phase["completed"], phase["ok"], "{stdout}");
    assert_eq!(phase["ok"], phase["verified"], "{stdout}");
    assert_eq!(phase["failures"], serde_json::json!({}), "{stdout}");
    assert_eq!(phase["krb_errors"], serde_json::json!({}), "{stdout}");
    let sent = |i: usize| phase["kdcs"][i]["sent"].as_u64().unwrap();
    assert!(
        sent(0) > 0 && sent(1) > sent(0),
        "B carried the rest:\n{stdout}"
    );
    eprintln!("{stdout}");

    // And MIT kinit, listing both, gets its TGT from B.
    let client = replicas.client().unwrap();
    kinit(&replicas, &client, "alice").unwrap();
}
