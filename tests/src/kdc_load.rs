//! `kdc-load` run as a process against a realm of the harness, and the facts of its JSON
//! report the tests assert on.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::Realm;
use crate::process::{RunOutput, run_with_timeout};

/// A run sends at most a few hundred exchanges: generous even on a loaded CI.
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(180);

/// The `kdc-load` binary beside `kdc` (cargo builds both into the profile directory, though
/// `kdc-load` is of another package, kdc-client).
pub fn kdc_load() -> Result<PathBuf> {
    let path = crate::binary::kdc_binary()?.with_file_name("kdc-load");
    if !path.is_file() {
        bail!(
            "no kdc-load binary at {}: build it first (cargo build -p kdc-client, or cargo test \
             --workspace)",
            path.display()
        );
    }
    Ok(path)
}

/// Runs `kdc-load ARGS`, which must succeed.
pub fn load(realm: &Realm, tag: &str, args: &[&str]) -> Result<RunOutput> {
    let mut cmd = Command::new(kdc_load()?);
    cmd.args(args);
    let run = run_with_timeout(&mut cmd, realm.tmp(), tag, LOAD_TIMEOUT)?;
    if !run.success() {
        bail!("kdc-load failed: {run}\n{}", realm.log());
    }
    Ok(run)
}

/// `kdc-load run --quiet --json FILE ARGS`: the JSON report.
pub fn run_json(realm: &Realm, tag: &str, args: &[&str]) -> Result<String> {
    let json = realm.tmp().join(format!("{tag}.json"));
    let json_arg = json.to_str().context("temporary path is not UTF-8")?;
    let mut all = vec!["run", "--quiet", "--json", json_arg];
    all.extend_from_slice(args);
    let run = load(realm, tag, &all)?;
    let text = std::fs::read_to_string(&json)?;
    if !(text.starts_with('{') && text.ends_with("}\n")) {
        bail!("not a JSON report: {text}\n{run}");
    }
    Ok(text)
}

/// The JSON of a phase whose `count` exchanges all got a reply that verified.
pub fn all_verified(count: u32) -> String {
    format!(
        "\"completed\":{count},\"ok\":{count},\"verified\":{count},\
         \"krb_errors\":{{}},\"failures\":{{}},"
    )
}

/// The JSON of a phase whose `count` exchanges were all refused with `code`.
pub fn all_refused(count: u32, code: i32) -> String {
    format!(
        "\"completed\":{count},\"ok\":0,\"verified\":0,\
         \"krb_errors\":{{\"{code}\":{count}}},\"failures\":{{}},"
    )
}

pub fn dir_arg(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

/// `kdc-load prepare --trust certificate`: `count` users with certificates from the realm CA
/// in `out`, and the KDC told to map them by name, as they carry no SID extension (only
/// id-pkinit-san and the UPN). Returns their users file. Run before the KDC starts.
pub fn prepare_certificate_users(realm: &Realm, count: u32, out: &Path) -> Result<PathBuf> {
    load(
        realm,
        "prepare-cert",
        &[
            "prepare",
            "--realm-dir",
            dir_arg(realm.dir()),
            "--users",
            &count.to_string(),
            "--trust",
            "certificate",
            "--out",
            dir_arg(out),
        ],
    )?;
    realm.set_kdc_option("pkinit.certificate_trust", "strong_mapping", "\"none\"")?;
    Ok(out.join("users.txt"))
}
