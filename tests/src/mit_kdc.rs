//! MIT's KDC for the tests that drive it like ours: Debian's `krb5kdc` (krb5-kdc) with PKINIT
//! (krb5-pkinit), its database made by `kdb5_util` and `kadmin.local` (krb5-admin-server) in a
//! temporary directory, one principal per user (`+requires_preauth`, no keys: PKINIT only),
//! on a free loopback port for UDP and TCP, killed when dropped. It serves the realm of a dev
//! realm with that realm's KDC certificate, key and CA, as `bench/compare-mit.sh` sets it up.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::ports;
use crate::process::{read_lossy, run_with_timeout, wait_listening};

const START_TIMEOUT: Duration = Duration::from_secs(10);
const TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// Where Debian puts the KDC and its database tools (not on a non-root PATH).
fn sbin(tool: &str) -> PathBuf {
    Path::new("/usr/sbin").join(tool)
}

/// True when Debian's krb5-kdc and krb5-admin-server are installed.
pub fn installed() -> bool {
    sbin("krb5kdc").exists() && sbin("kdb5_util").exists() && sbin("kadmin.local").exists()
}

pub struct MitKdc {
    dir: TempDir,
    port: u16,
    child: Option<Child>,
}

/// What the KDC serves: the realm, its KDC certificate and key, the CA of client certificates.
pub struct MitRealm<'a> {
    pub name: &'a str,
    pub kdc_cert: &'a Path,
    pub kdc_key: &'a Path,
    pub anchors: &'a Path,
    pub users: &'a [String],
}

impl MitKdc {
    pub fn start(realm: &MitRealm<'_>) -> Result<MitKdc> {
        let dir = tempfile::Builder::new().prefix("mit-kdc-").tempdir()?;
        let port = ports::free_port()?;
        let d = dir.path();
        std::fs::write(
            d.join("kdc.conf"),
            format!(
                "[kdcdefaults]\n    kdc_listen = 127.0.0.1:{port}\n    kdc_tcp_listen = 127.0.0.1:{port}\n\n\
                 [realms]\n    {name} = {{\n        database_name = {db}\n        key_stash_file = {stash}\n        \
                 acl_file = {acl}\n        pkinit_identity = FILE:{cert},{key}\n        \
                 pkinit_anchors = FILE:{anchors}\n        pkinit_dh_min_bits = 2048\n    }}\n\n\
                 [logging]\n    kdc = FILE:{log}\n",
                name = realm.name,
                db = d.join("principal").display(),
                stash = d.join("stash").display(),
                acl = d.join("kadm5.acl").display(),
                cert = realm.kdc_cert.display(),
                key = realm.kdc_key.display(),
                anchors = realm.anchors.display(),
                log = d.join("krb5kdc.log").display(),
            ),
        )?;
        std::fs::write(
            d.join("krb5.conf"),
            format!(
                "[libdefaults]\n    default_realm = {name}\n    dns_lookup_kdc = false\n\n\
                 [realms]\n    {name} = {{\n        kdc = 127.0.0.1:{port}\n    }}\n",
                name = realm.name
            ),
        )?;
        std::fs::write(d.join("kadm5.acl"), "")?;
        let mut kdc = MitKdc {
            dir,
            port,
            child: None,
        };
        kdc.tool(
            "kdb5_util",
            &[
                "-r",
                realm.name,
                "create",
                "-s",
                "-P",
                "mit-kdc-test-master",
            ],
        )?;
        for user in realm.users {
            let query = format!("addprinc -nokey +requires_preauth {user}@{}", realm.name);
            kdc.tool("kadmin.local", &["-r", realm.name, "-q", &query])?;
        }
        kdc.spawn(realm.name)?;
        Ok(kdc)
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        ports::loopback(self.port)
    }

    pub fn log(&self) -> String {
        kdc_log(self.dir.path())
    }

    fn env(&self, cmd: &mut Command) {
        cmd.env("KRB5_CONFIG", self.dir.path().join("krb5.conf"))
            .env("KRB5_KDC_PROFILE", self.dir.path().join("kdc.conf"));
    }

    fn tool(&self, tool: &str, args: &[&str]) -> Result<()> {
        let mut cmd = Command::new(sbin(tool));
        cmd.args(args);
        self.env(&mut cmd);
        let run = run_with_timeout(&mut cmd, self.dir.path(), tool, TOOL_TIMEOUT)?;
        if !run.success() {
            bail!("{tool} failed:\n{run}");
        }
        Ok(())
    }

    fn spawn(&mut self, realm: &str) -> Result<()> {
        let stderr = File::create(self.dir.path().join("krb5kdc.stderr"))?;
        let mut cmd = Command::new(sbin("krb5kdc"));
        // -n: stay in the foreground, so that dropping kills it.
        cmd.args(["-n", "-r", realm])
            .stdin(Stdio::null())
            .stdout(Stdio::from(stderr.try_clone()?))
            .stderr(Stdio::from(stderr));
        self.env(&mut cmd);
        self.child = Some(cmd.spawn().context("spawn krb5kdc (Debian krb5-kdc)")?);
        let (addr, log) = (self.addr(), self.dir.path().to_owned());
        wait_listening(&mut self.child, addr, START_TIMEOUT, "krb5kdc", || {
            kdc_log(&log)
        })
    }
}

/// krb5kdc's own log file and its stderr.
fn kdc_log(dir: &Path) -> String {
    format!(
        "{}{}",
        read_lossy(&dir.join("krb5kdc.log")),
        read_lossy(&dir.join("krb5kdc.stderr"))
    )
}

impl Drop for MitKdc {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
