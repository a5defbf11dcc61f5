//! Checkers of the PACs in this KDC's tickets that this project did not write (issue 17):
//! MIT krb5's `krb5_pac_verify` and `krb5_kdc_verify_ticket` (`tests/tools/pac_check.c`,
//! built here with the system's cc against Debian's libkrb5-dev) and Samba's NDR decoder
//! (`tests/tools/pac_decode.py`, run by Debian's /usr/bin/python3 with python3-samba).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::mit::MitClient;
use crate::process::{RunOutput, run_with_timeout};
use crate::slapd::repo_root;

const TOOL_TIMEOUT: Duration = Duration::from_secs(60);
/// Debian's own python3: the one python3-samba installs into (a pyenv `python3` on PATH has
/// no samba module).
const SYSTEM_PYTHON: &str = "/usr/bin/python3";

fn tools_dir() -> PathBuf {
    repo_root().join("tests/tools")
}

/// The pac_check binary, built once per test process into the target directory (written
/// under a temporary name, then renamed, so parallel test binaries never run a partial one).
pub fn pac_check_binary() -> Result<PathBuf> {
    static BUILT: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_pac_check().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn build_pac_check() -> Result<PathBuf> {
    let source = tools_dir().join("pac_check.c");
    let out_dir = repo_root().join("target/pac-tools");
    std::fs::create_dir_all(&out_dir)?;
    let binary = out_dir.join("pac_check");
    let flags = |what: &str| -> Result<Vec<String>> {
        let output = Command::new("krb5-config")
            .args([what, "krb5"])
            .output()
            .context("krb5-config not found: apt-get install libkrb5-dev")?;
        if !output.status.success() {
            bail!("krb5-config {what} krb5 failed: apt-get install libkrb5-dev");
        }
        Ok(String::from_utf8_lossy(&output.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect())
    };
    let partial = out_dir.join(format!("pac_check.{}", std::process::id()));
    let mut cmd = Command::new("cc");
    cmd.arg("-Wall")
        .arg("-o")
        .arg(&partial)
        .arg(&source)
        .args(flags("--cflags")?)
        .args(flags("--libs")?);
    let run = run_with_timeout(&mut cmd, &out_dir, "cc-pac_check", TOOL_TIMEOUT)
        .context("cc not found: apt-get install gcc libc6-dev")?;
    if !run.success() {
        bail!("building pac_check failed (apt-get install gcc libc6-dev libkrb5-dev):\n{run}");
    }
    std::fs::rename(&partial, &binary)?;
    Ok(binary)
}

/// What pac_check said: one `name: OK` or `name: FAILED message` line per check.
pub struct PacCheck {
    pub output: RunOutput,
}

impl PacCheck {
    /// The verdict of one check (`server_and_client`, `kdc`, `ticket`), or None if it did
    /// not run.
    pub fn verdict(&self, check: &str) -> Option<&str> {
        self.output
            .stdout
            .lines()
            .find_map(|line| line.strip_prefix(check)?.strip_prefix(": "))
    }

    pub fn all_ok(&self) -> bool {
        self.output.success()
            && ["server_and_client", "kdc", "ticket"]
                .iter()
                .all(|check| self.verdict(check) == Some("OK"))
    }
}

/// MIT's checks of the ticket for `service` in `client`'s cache: decrypted with
/// `service_keytab`, its PAC written to `pac_out`, verified with the service key and the
/// krbtgt key of `krbtgt_keytab`. With `pac_in`, the PAC checks read those bytes instead.
pub fn check_ticket(
    client: &MitClient,
    service: &str,
    service_keytab: &Path,
    krbtgt_keytab: &Path,
    pac_out: &Path,
    pac_in: Option<&Path>,
) -> Result<PacCheck> {
    let mut cmd = Command::new(pac_check_binary()?);
    cmd.arg(service)
        .arg(service_keytab)
        .arg(krbtgt_keytab)
        .arg(pac_out)
        .args(pac_in)
        .env("KRB5_CONFIG", client.krb5_conf_path())
        .env("KRB5CCNAME", format!("FILE:{}", client.ccache().display()));
    let output = run_with_timeout(&mut cmd, client.dir(), "pac_check", TOOL_TIMEOUT)?;
    if output.status.and_then(|s| s.code()) == Some(2) {
        bail!("pac_check could not run:\n{output}");
    }
    Ok(PacCheck { output })
}

/// Samba's reading of a PAC, as `pac_decode.py` prints it (JSON); an error if Samba cannot
/// decode every buffer.
pub fn decode(pac: &Path) -> Result<serde_json::Value> {
    if !Path::new(SYSTEM_PYTHON).exists() {
        bail!("{SYSTEM_PYTHON} not found: apt-get install python3-samba");
    }
    let scratch = pac.parent().unwrap_or(Path::new("."));
    let mut cmd = Command::new(SYSTEM_PYTHON);
    cmd.arg(tools_dir().join("pac_decode.py")).arg(pac);
    let run = run_with_timeout(&mut cmd, scratch, "pac_decode", TOOL_TIMEOUT)?;
    if !run.success() {
        bail!(
            "Samba's decoder refused the PAC (is python3-samba installed? apt-get install \
             python3-samba):\n{run}"
        );
    }
    serde_json::from_str(&run.stdout).with_context(|| format!("pac_decode output:\n{run}"))
}
