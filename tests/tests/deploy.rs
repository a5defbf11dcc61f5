//! The deploy/ files (issue 8): systemd accepts the hardened unit (`systemd-analyze verify`),
//! the daemon speaks the sd_notify protocol the unit's `Type=notify` relies on (READY=1 once
//! listening, STOPPING=1 on SIGTERM), and the Grafana dashboard asks only for metrics the
//! KDC exports.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use kdc_integration::Realm;
use kdc_integration::binary::kdc_binary;
use kdc_integration::slapd::repo_root;

const SYSTEMD_ANALYZE: &str = "/usr/bin/systemd-analyze";

#[test]
fn systemd_analyze_verifies_the_unit() {
    assert!(
        Path::new(SYSTEMD_ANALYZE).is_file(),
        "systemd-analyze is missing: apt-get install systemd (tests/run installs it)"
    );
    let unit = std::fs::read_to_string(repo_root().join("deploy/kdc.service")).unwrap();
    for line in [
        "Type=notify",
        "ExecStart=/usr/bin/kdc serve --config /etc/kdc/kdc.toml",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "User=kdc",
        "AmbientCapabilities=CAP_NET_BIND_SERVICE",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
        "DeviceAllow=/dev/tpmrm0 rw",
        "DevicePolicy=closed",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit lacks {line}");
    }
    // verify also checks that ExecStart= is executable: point it at the binary under test.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("kdc.service");
    let kdc = kdc_binary().unwrap();
    std::fs::write(&copy, unit.replace("/usr/bin/kdc", kdc.to_str().unwrap())).unwrap();
    let out = Command::new(SYSTEMD_ANALYZE)
        .args(["verify", "--man=no"])
        .arg(&copy)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Unknown or misspelt settings are only warnings: none may appear.
    assert!(!stderr.contains("kdc.service"), "{stderr}");
}

#[test]
fn serve_notifies_ready_and_stopping() {
    let realm = Realm::create().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut child = Command::new(kdc_binary().unwrap())
        .args(["serve", "--config"])
        .arg(realm.kdc_toml_path())
        .env("NOTIFY_SOCKET", &socket_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 256];
    let n = socket.recv(&mut buf).unwrap();
    let ready = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready}");
    // READY=1 comes once the KDC answers.
    std::net::TcpStream::connect(realm.addr()).unwrap();
    Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .unwrap();
    let n = socket.recv(&mut buf).unwrap();
    let stopping = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(stopping.lines().any(|l| l == "STOPPING=1"), "{stopping}");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// The `kdc_...` names in the dashboard's queries.
fn dashboard_metrics() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo_root().join("deploy/grafana-dashboard.json")).unwrap();
    let mut names = BTreeSet::new();
    for (start, _) in text.match_indices("kdc_") {
        let name: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        names.insert(name);
    }
    names
}

#[test]
fn dashboard_queries_only_exported_metrics() {
    let text = std::fs::read_to_string(repo_root().join("deploy/grafana-dashboard.json")).unwrap();
    assert!(text.starts_with('{') && text.trim_end().ends_with('}'));
    let names = dashboard_metrics();
    assert!(names.len() >= 15, "{names:?}");
    let mut registered = String::new();
    for entry in std::fs::read_dir(repo_root().join("kdc/src/metrics")).unwrap() {
        registered.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    for name in &names {
        let base = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(name);
        assert!(
            registered.contains(&format!("\"{base}\"")),
            "the dashboard queries {name}, which the KDC does not export"
        );
    }
}
