//! A software TPM 2.0 for the TPM signer tests: Debian's `swtpm socket` on two free loopback
//! ports (TPM commands on P, the control channel on P+1), its state in a temporary directory
//! that survives a kill and restart, killed when dropped; plus `kdc tpm provision`, the CA's
//! `openssl x509 -req`, and the kdc.toml lines that switch a realm to the TPM signer.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::binary::kdc_binary;
use crate::mit::Identity;
use crate::pki::{self, Signing};
use crate::ports;
use crate::process::{read_lossy, run_with_timeout, wait_listening};
use crate::realm::Realm;

const START_TIMEOUT: Duration = Duration::from_secs(10);
const CLI_TIMEOUT: Duration = Duration::from_secs(60);

/// True when `swtpm` is on the PATH.
pub fn installed() -> bool {
    Command::new("swtpm")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// True when the kdc binary under test was built with the `tpm` feature.
pub fn kdc_has_tpm() -> Result<bool> {
    let status = Command::new(kdc_binary()?)
        .args(["tpm", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    Ok(status.success())
}

/// What a TPM test needs: a kdc binary with the `tpm` feature and swtpm. Without them a TPM
/// test fails, naming the build to use, rather than pass having tested nothing.
pub fn require() -> Result<()> {
    if !kdc_has_tpm()? {
        bail!(
            "{} was built without the `tpm` feature: `cargo build -p kdc --all-features` \
             (tests/run builds every feature)",
            kdc_binary()?.display()
        );
    }
    if !installed() {
        bail!("swtpm is not installed (Debian: swtpm swtpm-tools)");
    }
    Ok(())
}

pub struct Swtpm {
    dir: TempDir,
    port: u16,
    child: Option<Child>,
}

impl Swtpm {
    /// Starts a fresh TPM (manufactured on first start, TPM2_Startup done by swtpm).
    pub fn start() -> Result<Swtpm> {
        let dir = tempfile::Builder::new().prefix("swtpm-").tempdir()?;
        std::fs::create_dir(dir.path().join("state"))?;
        let port = pair_of_free_ports()?;
        let mut tpm = Swtpm {
            dir,
            port,
            child: None,
        };
        tpm.resume()?;
        Ok(tpm)
    }

    /// The TSS2 TCTI string for this TPM.
    pub fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }

    pub fn log(&self) -> String {
        read_lossy(&self.dir.path().join("swtpm.log"))
    }

    /// Kills swtpm (SIGKILL: an outage, not a shutdown). The state stays.
    pub fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            child.wait()?;
        }
        Ok(())
    }

    /// Starts swtpm again on the same ports and state, returning once it accepts.
    pub fn resume(&mut self) -> Result<()> {
        if self.child.is_some() {
            bail!("swtpm is already running");
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("swtpm.log"))?;
        let state = self.dir.path().join("state");
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--server"])
            .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", self.port))
            .arg("--ctrl")
            .arg(format!(
                "type=tcp,port={},bindaddr=127.0.0.1",
                self.port + 1
            ))
            .arg("--tpmstate")
            .arg(format!("dir={}", state.display()))
            .args(["--flags", "not-need-init,startup-clear"])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .context("spawn swtpm (Debian packages swtpm, swtpm-tools)")?;
        self.child = Some(child);
        let log = self.dir.path().join("swtpm.log");
        wait_listening(
            &mut self.child,
            ports::loopback(self.port),
            START_TIMEOUT,
            "swtpm",
            || read_lossy(&log),
        )
    }

    /// `kdc tpm provision` into `out` (`--alg`, `--mode` as given), with an auth value file.
    pub fn provision(
        &self,
        realm: &Realm,
        handle: u32,
        alg: &str,
        mode: &str,
    ) -> Result<Provisioned> {
        let out = realm.tmp().join(format!("tpm-{handle:08x}"));
        let auth_file = out.join("auth");
        let mut cmd = Command::new(kdc_binary()?);
        cmd.args(["tpm", "provision", "--tcti", &self.tcti()])
            .args(["--handle", &format!("{handle:#010x}")])
            .args(["--alg", alg, "--mode", mode, "--realm", realm.name()])
            .arg("--auth-file")
            .arg(&auth_file)
            .arg("--out")
            .arg(&out);
        run_with_timeout(
            &mut cmd,
            realm.tmp(),
            &format!("provision-{handle:08x}"),
            CLI_TIMEOUT,
        )?
        .ok()
        .context("kdc tpm provision")?;
        Ok(Provisioned {
            handle,
            auth_file,
            csr: out.join("tpm-key.csr"),
            extfile: out.join("tpm-key.ext"),
            certificate: out.join("tpm-key.pem"),
            direct: mode == "direct",
        })
    }
}

/// What provisioning wrote and where the certificate goes.
pub struct Provisioned {
    pub handle: u32,
    pub auth_file: PathBuf,
    pub csr: PathBuf,
    pub extfile: PathBuf,
    pub certificate: PathBuf,
    direct: bool,
}

impl Provisioned {
    /// The dev realm's CA issues the TPM key's certificate, as the README shows.
    pub fn issue_with_dev_ca(&self, realm: &Realm) -> Result<()> {
        let section = if self.direct {
            "kdc_cert"
        } else {
            "kdc_delegation_ca"
        };
        let dev_ca = Identity {
            cert: realm.dir().join("ca.pem"),
            key: realm.dir().join("ca.key"),
        };
        let signing = Signing {
            issuer: &dev_ca,
            serial: format!("{:#x}", self.handle),
            days: 30,
            extfile: &self.extfile,
            section: Some(section),
        };
        pki::sign(realm.tmp(), "tpm", &self.csr, &signing, &self.certificate)
    }

    /// Switches the realm's kdc.toml to this TPM key, and removes the software KDC key so
    /// that nothing but the TPM can sign.
    pub fn configure(&self, realm: &Realm, tcti: &str, extra: &[(&str, &str)]) -> Result<()> {
        let path = realm.kdc_toml_path();
        let text = std::fs::read_to_string(&path)?;
        let mut table = format!(
            "\n[pkinit.tpm]\ntcti = \"{tcti}\"\nhandle = {:#010x}\nauth_file = \"{}\"\nmode = \"{}\"\ncertificate = \"{}\"\n",
            self.handle,
            self.auth_file.display(),
            if self.direct { "direct" } else { "delegated" },
            self.certificate.display()
        );
        for (key, value) in extra {
            table.push_str(&format!("{key} = {value}\n"));
        }
        let text = insert_after_line(&text, "[pkinit]", "signer = \"tpm\"")? + &table;
        std::fs::write(&path, text)?;
        for file in ["kdc.key", "kdc.pem"] {
            remove_if_there(&realm.dir().join(file))?;
        }
        Ok(())
    }
}

fn insert_after_line(text: &str, line: &str, new: &str) -> Result<String> {
    let mut out = String::with_capacity(text.len() + new.len() + 1);
    let mut found = false;
    for l in text.lines() {
        out.push_str(l);
        out.push('\n');
        if l.trim() == line && !found {
            out.push_str(new);
            out.push('\n');
            found = true;
        }
    }
    if !found {
        bail!("no {line} line in kdc.toml");
    }
    Ok(out)
}

fn remove_if_there(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

/// A port P with P and P+1 free on loopback.
fn pair_of_free_ports() -> Result<u16> {
    for _ in 0..50 {
        let port = ports::free_port()?;
        if port < u16::MAX && ports::is_free(port + 1) {
            return Ok(port);
        }
    }
    bail!("no two adjacent free loopback ports")
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}
