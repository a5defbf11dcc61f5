//! Heimdal 7.8 clients (kinit, kgetcred, klist from Debian 12's heimdal-clients) run as
//! processes with a private krb5.conf, credential cache and libkrb5 debug log. Heimdal is not
//! installed (its packages conflict with MIT's krb5-user): `tests/run` unpacks them into
//! target/heimdal/root and the clients run from there with `LD_LIBRARY_PATH`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::conf::ConfFile;
use crate::mit::{CLIENT_TIMEOUT, ClientRun, Identity};
use crate::process::{read_lossy, run_with_timeout};
use crate::unpacked::{HEIMDAL, LIB_DIR};

/// The unpacked Debian packages (`usr/bin`, `usr/lib/...`), or an error saying how to make
/// them: tests never skip.
pub fn root() -> Result<PathBuf> {
    HEIMDAL.root()
}

/// The krb5.conf of a Heimdal client of `realm` whose KDC is at `kdc` (`host:port`),
/// trusting the PEM files `anchors` (see [`HeimdalClient::new`]), logging libkrb5's debug
/// messages to `log`.
pub fn krb5_conf(realm: &str, kdc: &str, anchors: &[PathBuf], log: &Path) -> String {
    // hx509's FILE: store takes a comma-separated list, and Heimdal reads one
    // pkinit_anchors value only (unlike MIT, which adds up repeated lines).
    let anchors: Vec<String> = anchors.iter().map(|a| a.display().to_string()).collect();
    let anchors = anchors.join(",");
    let log = log.display();
    // Heimdal takes the first built-in DH group whose label exceeds pkinit_dh_min_bits and
    // labels group 14 (2048 bits) 1760: its default sends group 2 (1024 bits), which the KDC
    // refuses below its min_dh_bits = 2048. The KDC checks Heimdal makes are spelled out
    // (they are its defaults): the KDC certificate must carry EKU id-pkinit-KPKdc and the
    // krbtgt/REALM id-pkinit-san, and the reply must be RFC 4556's, not Windows 2000's draft.
    // [logging] krb5 is libkrb5's debug log (the counterpart of MIT's KRB5_TRACE).
    format!(
        r#"[libdefaults]
    default_realm = {realm}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    pkinit_dh_min_bits = 1759

[realms]
    {realm} = {{
        kdc = {kdc}
        pkinit_anchors = FILE:{anchors}
        pkinit_require_eku = true
        pkinit_require_krbtgt_otherName = true
        pkinit_win2k = false
    }}

[logging]
    krb5 = 0-/FILE:{log}
"#
    )
}

/// One Heimdal client "machine": its own directory, krb5.conf, credential cache and log.
#[derive(Debug)]
pub struct HeimdalClient {
    root: PathBuf,
    dir: PathBuf,
    conf: ConfFile,
    ccache: PathBuf,
    log: PathBuf,
    timeout: Duration,
    runs: AtomicUsize,
}

impl HeimdalClient {
    /// Creates `dir` (if needed) and a krb5.conf there for `realm` at `kdc` (`host:port`),
    /// trusting `anchors` (PEM files; the CA of the KDC's certificate at least).
    pub fn new(dir: &Path, realm: &str, kdc: &str, anchors: &[PathBuf]) -> Result<HeimdalClient> {
        let root = root()?;
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        let log = dir.join("libkrb5.log");
        let conf = ConfFile::create(dir.join("krb5.conf"), &krb5_conf(realm, kdc, anchors, &log))?;
        Ok(HeimdalClient {
            root,
            dir: dir.to_owned(),
            ccache: dir.join("ccache"),
            conf,
            log,
            timeout: CLIENT_TIMEOUT,
            runs: AtomicUsize::new(0),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn krb5_conf_path(&self) -> &Path {
        self.conf.path()
    }

    pub fn krb5_conf(&self) -> Result<String> {
        self.conf.read()
    }

    /// Rewrites this client's krb5.conf through `edit` (see [`crate::conf`]).
    pub fn edit_krb5_conf(&self, edit: impl FnOnce(&str) -> Result<String>) -> Result<()> {
        self.conf.edit(edit)
    }

    pub fn ccache(&self) -> &Path {
        &self.ccache
    }

    /// Runs `usr/bin/PROGRAM ARGS...` from the unpacked packages.
    fn run(&self, program: &str, args: &[&str]) -> Result<ClientRun> {
        let n = self.runs.fetch_add(1, Ordering::Relaxed);
        let tag = format!("{program}-{n}");
        // One log per run: the libkrb5 debug log appends across runs otherwise.
        let log_before = read_lossy(&self.log).len();
        let mut cmd = Command::new(self.root.join("usr/bin").join(program));
        cmd.current_dir(&self.dir)
            .args(args)
            .env("LD_LIBRARY_PATH", self.root.join(LIB_DIR))
            .env("KRB5_CONFIG", self.conf.path())
            .env("KRB5CCNAME", format!("FILE:{}", self.ccache.display()))
            .env_remove("KRB5_KTNAME")
            .env_remove("KRB5_CLIENT_KTNAME");
        let output = run_with_timeout(&mut cmd, &self.dir, &tag, self.timeout)?;
        let trace = read_lossy(&self.log)
            .get(log_before..)
            .unwrap_or("")
            .to_owned();
        Ok(ClientRun { output, trace })
    }

    /// `kinit --pk-user=FILE:cert,key PRINCIPAL`, starting from an empty cache.
    pub fn kinit(&self, principal: &str, identity: &Identity) -> Result<ClientRun> {
        match std::fs::remove_file(&self.ccache) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).context("remove the old credential cache"),
        }
        // The same FILE:cert,key form as MIT's X509_user_identity (hx509 stores).
        let pk_user = format!("--pk-user={}", identity.x509_user_identity());
        self.run("kinit.heimdal", &[&pk_user, principal])
    }

    /// `kgetcred SERVICE`: a service ticket from the TGT in this client's cache.
    pub fn kgetcred(&self, service: &str) -> Result<ClientRun> {
        self.run("kgetcred", &[service])
    }

    /// `klist` of this client's cache. Debian's klist.heimdal is a symlink to heimtools, which
    /// picks its command from argv[0] and knows only `klist`: call it by the command instead.
    pub fn klist(&self) -> Result<ClientRun> {
        self.run("heimtools", &["klist"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_one_comma_separated_value() {
        let anchors = [PathBuf::from("/r/ca.pem"), PathBuf::from("/t/dave.pem")];
        let text = krb5_conf(
            "EXAMPLE.TEST",
            "127.0.0.1:20001",
            &anchors,
            Path::new("/t/l"),
        );
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("pkinit_anchors"))
            .collect();
        assert_eq!(
            lines,
            ["        pkinit_anchors = FILE:/r/ca.pem,/t/dave.pem"]
        );
        assert!(text.contains("        kdc = 127.0.0.1:20001\n"), "{text}");
        assert!(text.contains("    pkinit_dh_min_bits = 1759\n"), "{text}");
    }

    /// The unpacked clients run with their own libraries (tests/run made them).
    #[test]
    fn unpacked_kinit_runs() {
        let dir = tempfile::tempdir().unwrap();
        let client = HeimdalClient::new(dir.path(), "NOWHERE.TEST", "127.0.0.1:1", &[]).unwrap();
        let run = client.run("kinit.heimdal", &["--version"]).unwrap();
        let text = format!("{}{}", run.output.stdout, run.output.stderr);
        assert!(text.contains("Heimdal 7.8"), "{}", run.report());
    }
}
