//! `kdc check-config` (issue 8): a fresh dev realm passes, and one with a domain controller's
//! KDC certificate (`--kdc-cert dc`) passes with a note of what MIT and Heimdal clients need
//! (issue 12); each broken part is reported with
//! the configuration file, the line and the key, and a non-zero exit: a key that is not the
//! certificate's, a KDC certificate without id-pkinit-KPKdc and the krbtgt id-pkinit-san
//! (RFC 4556 §3.2.4), a master key that does not unseal the key store, an unreadable file,
//! an unreachable LDAP server, a file that does not parse, and secret key files that group or
//! others may read.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;
use std::time::Duration;

use kdc_integration::Realm;
use kdc_integration::binary::kdc_binary;
use kdc_integration::process::{RunOutput, run_with_timeout};

fn check_config(realm: &Realm) -> RunOutput {
    let mut cmd = Command::new(kdc_binary().unwrap());
    cmd.arg("check-config")
        .arg("--config")
        .arg(realm.kdc_toml_path());
    run_with_timeout(
        &mut cmd,
        realm.tmp(),
        "check-config",
        Duration::from_secs(60),
    )
    .unwrap()
}

/// The 1-based line of kdc.toml that starts with `prefix`.
fn line_of(realm: &Realm, prefix: &str) -> usize {
    let text = std::fs::read_to_string(realm.kdc_toml_path()).unwrap();
    text.lines().position(|l| l.starts_with(prefix)).unwrap() + 1
}

#[test]
fn dev_realm_passes() {
    let realm = Realm::create().unwrap();
    let run = check_config(&realm);
    assert!(run.success(), "{run}");
    let file = realm.kdc_toml_path();
    assert_eq!(run.stdout, format!("{}: ok\n", file.display()));
}

#[test]
fn dc_form_dev_realm_passes_with_a_note() {
    let realm = Realm::create_with_args("EXAMPLE.TEST", &["--kdc-cert", "dc"]).unwrap();
    let run = check_config(&realm);
    assert!(run.success(), "{run}");
    let file = realm.kdc_toml_path().display().to_string();
    let note = format!(
        "{file}:{}: pkinit.certificate: note: ",
        line_of(&realm, "certificate =")
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{run}");
    assert!(lines[0].starts_with(&note), "{run}");
    for needle in [
        "pkinit_kdc_hostname = kdc.example.test",
        "pkinit_require_krbtgt_otherName = false",
    ] {
        assert!(lines[0].contains(needle), "no {needle:?} in {run}");
    }
    assert_eq!(lines[1], format!("{file}: ok"), "{run}");
}

#[test]
fn broken_parts_are_named_by_file_line_and_key() {
    let realm = Realm::create().unwrap();
    let dir = realm.dir();
    let file = realm.kdc_toml_path().display().to_string();
    // alice's self-signed client certificate in place of the KDC's.
    std::fs::copy(dir.join("alice.pem"), dir.join("kdc.pem")).unwrap();
    // Another master key: the store's keys were sealed under the first one.
    std::fs::write(dir.join("master.key"), format!("{}\n", "5a".repeat(32))).unwrap();
    std::fs::remove_file(dir.join("directory.toml")).unwrap();
    let run = check_config(&realm);
    assert!(!run.success(), "{run}");
    let out = &run.stdout;
    let certificate = format!(
        "{file}:{}: pkinit.certificate: ",
        line_of(&realm, "certificate =")
    );
    let key = format!("{file}:{}: pkinit.key: ", line_of(&realm, "key ="));
    let master = format!(
        "{file}:{}: keys.master_key: ",
        line_of(&realm, "master_key =")
    );
    let directory = format!("{file}:{}: directory.path: ", line_of(&realm, "path ="));
    for (prefix, needle) in [
        (&key, "does not match the KDC certificate"),
        (&certificate, "id-pkinit-KPKdc"),
        (
            &certificate,
            "id-pkinit-san krbtgt/EXAMPLE.TEST@EXAMPLE.TEST",
        ),
        (&master, "does not unseal the key store"),
        (&directory, "directory.toml: cannot read"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(prefix.as_str()) && l.contains(needle)),
            "no {prefix}...{needle} in:\n{out}"
        );
    }
    assert!(run.stderr.contains("problem(s)"), "{run}");
}

#[test]
fn unreachable_ldap_and_parse_errors_are_reported() {
    let realm = Realm::create().unwrap();
    let path = realm.kdc_toml_path();
    let text = std::fs::read_to_string(&path).unwrap();
    let closed = kdc_integration::ports::free_port().unwrap();
    let password = realm.dir().join("ldap.password");
    std::fs::write(&password, "secret\n").unwrap();
    let table = format!(
        "[directory]\ntype = \"ldap\"\nurls = [\"ldap://127.0.0.1:{closed}\"]\nbase_dn = \"DC=example,DC=test\"\n\
         bind_dn = \"CN=kdc,DC=example,DC=test\"\nbind_password_file = \"{}\"\ntimeout_ms = 1000\n",
        password.display()
    );
    let ldap = kdc_integration::slapd::replace_directory_table(&text, &table).unwrap();
    std::fs::write(&path, &ldap).unwrap();
    let run = check_config(&realm);
    assert!(!run.success(), "{run}");
    let urls = format!(
        "{}:{}: directory.urls: ",
        path.display(),
        line_of(&realm, "urls =")
    );
    assert!(run.stdout.lines().any(|l| l.starts_with(&urls)), "{run}");

    std::fs::write(
        &path,
        text.replace("[tickets]\n", "[tickets]\nlifetime = 5\n"),
    )
    .unwrap();
    let run = check_config(&realm);
    assert!(!run.success(), "{run}");
    let line = line_of(&realm, "lifetime = 5");
    assert!(
        run.stdout.starts_with(&format!(
            "{}:{line}: unknown field `lifetime`",
            path.display()
        )),
        "{run}"
    );
}

/// Secrets at rest (issue 13): a master key or KDC key file that group or others may read is
/// reported by check-config, and `kdc serve` refuses to start with it, as ssh refuses a
/// private key; back at 0600 both pass.
#[test]
fn exposed_secret_files_are_refused() {
    use std::os::unix::fs::PermissionsExt;

    let mut realm = Realm::create().unwrap();
    let file = realm.kdc_toml_path().display().to_string();
    for (name, key, prefix, mode) in [
        ("kdc.key", "pkinit.key", "key =", 0o644),
        ("master.key", "keys.master_key", "master_key =", 0o640),
    ] {
        let path = realm.dir().join(name);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let run = check_config(&realm);
        assert!(!run.success(), "{name} {mode:o}: {run}");
        let reported = format!("{file}:{}: {key}: ", line_of(&realm, prefix));
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with(&reported) && l.contains("chmod 600")),
            "{name}: {run}"
        );
        let refused = realm.start().unwrap_err().to_string();
        assert!(refused.contains("chmod 600"), "{name}: {refused}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    assert!(check_config(&realm).success());
    realm.start().unwrap();
}

/// A value `kdc serve` cannot use (an enctype it does not know, a listen address without a
/// port) is refused by check-config in the words serve refuses it with, at its line: both
/// parse it as the file loads. check-config used to pass the enctype, which only `serve`
/// parsed, and say other words than serve about the address.
#[test]
fn check_config_refuses_what_serve_refuses_in_the_same_words() {
    let mut realm = Realm::create().unwrap();
    let path = realm.kdc_toml_path();
    let file = path.display().to_string();
    let text = std::fs::read_to_string(&path).unwrap();
    for (from, to, words) in [
        (
            "enctypes = [",
            "enctypes = [\"rc4-hmac\", ",
            "unknown enctype \"rc4-hmac\"",
        ),
        (
            "udp = [\"",
            "udp = [\"127.0.0.1\", \"",
            "\"127.0.0.1\" is not an IP address and port",
        ),
    ] {
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let run = check_config(&realm);
        assert!(!run.success(), "{run}");
        let at = format!("{file}:{}: {words}", line_of(&realm, from));
        let reported = run
            .stdout
            .lines()
            .find(|l| l.starts_with(&at))
            .unwrap_or_else(|| panic!("no {at}... in {run}"));
        let refused = realm.start().unwrap_err().to_string();
        assert!(
            refused.lines().any(|l| l == format!("kdc: {reported}")),
            "serve said other words than {reported:?}:\n{refused}"
        );
    }
    std::fs::write(&path, &text).unwrap();
    assert!(check_config(&realm).success());
}
