//! The `Realm` fixture: a throw-away realm made by `kdc dev-realm` in a temporary directory,
//! served by `kdc serve` on a loopback port free for UDP and TCP (RFC 4120 §7.2.1-2), its
//! metrics listener on a port the kernel picks (read back from the KDC's log), with the KDC's
//! stderr kept in a file, and the process killed when the fixture is dropped.

use std::fs::OpenOptions;
use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::binary::kdc_binary;
use crate::conf;
use crate::heimdal::HeimdalClient;
use crate::mit::{Identity, MitBinaries, MitClient};
use crate::ports;
use crate::process::{RunOutput, read_lossy, run_with_timeout};
use crate::scrape::{self, Sample};

pub const DEFAULT_REALM: &str = "EXAMPLE.TEST";

/// libfaketime for multi-threaded programs, as Debian's `faketime` package installs it.
const FAKETIME_LIBRARY: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
/// How long `kdc serve` may take to accept on its TCP port.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the KDC may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// dev-realm generates keys; admin commands read and write the directory.
const CLI_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Realm {
    tmp: TempDir,
    dir: PathBuf,
    name: String,
    /// The loopback address the KDC listens on (127.0.0.1 unless moved, for replicas).
    host: Ipv4Addr,
    port: u16,
    kdc: PathBuf,
    child: Option<Child>,
    log: PathBuf,
    clients: AtomicUsize,
    cli_runs: AtomicUsize,
    /// Environment added to `kdc serve` (e.g. libfaketime's), for every start until changed.
    serve_env: Vec<(String, String)>,
}

impl Realm {
    /// `kdc dev-realm` for EXAMPLE.TEST on a fresh port; the KDC is not started yet.
    pub fn create() -> Result<Realm> {
        Realm::create_named(DEFAULT_REALM)
    }

    /// [`Realm::create`] and [`Realm::start`] in one.
    pub fn started() -> Result<Realm> {
        let mut realm = Realm::create()?;
        realm.start()?;
        Ok(realm)
    }

    pub fn create_named(name: &str) -> Result<Realm> {
        Realm::create_with_args(name, &[])
    }

    /// [`Realm::create_named`] with more `kdc dev-realm` options, e.g. `["--kdc-cert", "dc"]`.
    pub fn create_with_args(name: &str, dev_realm_args: &[&str]) -> Result<Realm> {
        let realm = Realm::empty(
            name,
            kdc_binary()?,
            Ipv4Addr::LOCALHOST,
            ports::free_port()?,
        )?;
        let mut cmd = Command::new(&realm.kdc);
        cmd.arg("dev-realm")
            .arg(&realm.dir)
            .args(["--realm", name, "--port", &realm.port.to_string()])
            .args(dev_realm_args);
        run_with_timeout(&mut cmd, realm.tmp.path(), "dev-realm", CLI_TIMEOUT)?
            .ok()
            .context("kdc dev-realm")?;
        for file in ["kdc.toml", "krb5.conf", "alice.pem", "alice.key", "ca.pem"] {
            if !realm.dir.join(file).is_file() {
                bail!("kdc dev-realm did not write {file}");
            }
        }
        // The kernel picks the metrics port and the KDC logs it (see [`Realm::metrics_addr`]):
        // the port after the KDC's, where dev-realm puts it, may belong to another process.
        if realm.has_metrics()? {
            realm.set_kdc_option("metrics", "listen", "\"127.0.0.1:0\"")?;
        }
        Ok(realm)
    }

    /// A realm with an empty realm directory in a new temporary directory, not started.
    fn empty(name: &str, kdc: PathBuf, host: Ipv4Addr, port: u16) -> Result<Realm> {
        let tmp = tempfile::Builder::new()
            .prefix("kdc-it-")
            .tempdir()
            .context("temporary directory")?;
        let dir = tmp.path().join("realm");
        std::fs::create_dir(&dir)?;
        Ok(Realm {
            log: tmp.path().join("kdc.stderr"),
            tmp,
            dir,
            name: name.to_owned(),
            host,
            port,
            kdc,
            child: None,
            clients: AtomicUsize::new(0),
            cli_runs: AtomicUsize::new(0),
            serve_env: Vec::new(),
        })
    }

    /// The temporary directory (holds the realm directory, logs, clients).
    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    /// The directory dev-realm filled.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((self.host, self.port))
    }

    /// `user@REALM`.
    pub fn principal(&self, user: &str) -> String {
        format!("{user}@{}", self.name)
    }

    pub fn kdc_toml_path(&self) -> PathBuf {
        self.dir.join("kdc.toml")
    }

    pub fn krb5_conf_path(&self) -> PathBuf {
        self.dir.join("krb5.conf")
    }

    /// Alice's self-signed certificate and key, registered for her by dev-realm.
    pub fn alice(&self) -> Identity {
        Identity {
            cert: self.dir.join("alice.pem"),
            key: self.dir.join("alice.key"),
        }
    }

    /// Bob's certificate and key, issued by the realm's CA (certificate trust) by dev-realm.
    pub fn bob(&self) -> Identity {
        Identity {
            cert: self.dir.join("bob.pem"),
            key: self.dir.join("bob.key"),
        }
    }

    /// A new self-signed identity in the temporary directory (not registered anywhere).
    pub fn new_identity(&self, name: &str) -> Result<Identity> {
        Identity::self_signed(self.tmp.path(), name)
    }

    /// Sets `key = value` in table `[section]` of kdc.toml (takes effect at the next start).
    pub fn set_kdc_option(&self, section: &str, key: &str, value: &str) -> Result<()> {
        let path = self.kdc_toml_path();
        let text = std::fs::read_to_string(&path)?;
        std::fs::write(&path, conf::set_toml_option(&text, section, key, value)?)?;
        Ok(())
    }

    /// A client with its own directory and a copy of the realm's krb5.conf.
    pub fn client(&self) -> Result<MitClient> {
        self.client_of(MitBinaries::System)
    }

    /// The same with MIT 1.22's clients (unpacked by `tests/run`, see [`MitBinaries`]).
    pub fn client_122(&self) -> Result<MitClient> {
        self.client_of(MitBinaries::mit122()?)
    }

    fn client_of(&self, binaries: MitBinaries) -> Result<MitClient> {
        let n = self.clients.fetch_add(1, Ordering::Relaxed);
        let text = std::fs::read_to_string(self.krb5_conf_path())?;
        MitClient::with_binaries(
            &self.tmp.path().join(format!("client-{n}")),
            &text,
            binaries,
        )
    }

    /// A Heimdal client with its own directory, trusting the realm's CA (which issued the KDC
    /// certificate). Unlike MIT, Heimdal sends a self-signed client certificate without
    /// trusting it.
    pub fn heimdal_client(&self) -> Result<HeimdalClient> {
        self.heimdal_client_via(&self.addr().to_string())
    }

    /// The same, sending to `host_port` (a proxy): Heimdal sends PKINIT over TCP by itself,
    /// but smaller requests (TGS) over UDP, which a [`crate::TcpProxy`] does not carry.
    pub fn heimdal_client_via(&self, host_port: &str) -> Result<HeimdalClient> {
        let n = self.clients.fetch_add(1, Ordering::Relaxed);
        HeimdalClient::new(
            &self.tmp.path().join(format!("heimdal-{n}")),
            &self.name,
            host_port,
            &[self.dir.join("ca.pem")],
        )
    }

    /// A client whose krb5.conf sends everything over TCP to `host_port` (a proxy):
    /// `udp_preference_limit = 1` makes MIT try TCP first for every request.
    pub fn client_via(&self, host_port: &str) -> Result<MitClient> {
        via(self.client()?, host_port)
    }

    /// [`Realm::client_via`] with MIT 1.22's clients.
    pub fn client_122_via(&self, host_port: &str) -> Result<MitClient> {
        via(self.client_122()?, host_port)
    }

    /// Registers the key of `identity`'s certificate for `user` (key trust) with the operator
    /// CLI; before the KDC starts when the directory is the embedded file.
    pub fn register_key(&self, user: &str, identity: &Identity) -> Result<()> {
        self.register_key_of(&self.principal(user), &identity.cert)
    }

    fn register_key_of(&self, principal: &str, cert: &Path) -> Result<()> {
        let cert = cert.to_str().context("certificate path is not UTF-8")?;
        let run = self.admin(&["key", "add", "--user", principal, "--cert", cert])?;
        if !run.success() {
            bail!("kdc key add --user {principal}: {run}");
        }
        Ok(())
    }

    /// The CVE-2021-42287 ("noPac") shape, written with the operator CLI into whatever
    /// directory kdc.toml names: robert's sAMAccountName is `victim`, and mallory's entry
    /// has the UPN `victim@REALM` and alice's key registered. Returns that UPN.
    pub fn add_upn_squatter(&self) -> Result<String> {
        let upn = self.principal("victim");
        for args in [
            &[
                "user",
                "add",
                "robert@corp.example",
                "--sam",
                "victim",
                "--dn",
                "CN=robert,CN=Users,DC=example,DC=test",
            ][..],
            &[
                "user",
                "add",
                &upn,
                "--sam",
                "mallory",
                "--dn",
                "CN=mallory,CN=Users,DC=example,DC=test",
            ],
        ] {
            let run = self.admin(args)?;
            if !run.success() {
                bail!("{args:?}: {run}");
            }
        }
        self.register_key_of(&upn, &self.dir().join("alice.pem"))?;
        Ok(upn)
    }

    /// Runs an operator command: `args[0] args[1]` are the subcommand (`user add`, `key list`,
    /// ...), `--config kdc.toml` follows them, then the rest of `args`.
    pub fn admin(&self, args: &[&str]) -> Result<RunOutput> {
        let (subcommand, rest) = args
            .split_at_checked(2)
            .context("admin needs a subcommand")?;
        let n = self.cli_runs.fetch_add(1, Ordering::Relaxed);
        let mut cmd = Command::new(&self.kdc);
        cmd.current_dir(&self.dir)
            .args(subcommand)
            .arg("--config")
            .arg(self.kdc_toml_path())
            .args(rest);
        run_with_timeout(
            &mut cmd,
            self.tmp.path(),
            &format!("admin-{n}"),
            CLI_TIMEOUT,
        )
    }

    /// `kdc service add SERVICE@REALM` (e.g. `host/web.example`): returns the principal.
    pub fn add_service(&self, service: &str) -> Result<String> {
        let principal = format!("{service}@{}", self.name);
        self.admin(&["service", "add", &principal])?
            .ok()
            .with_context(|| format!("kdc service add {principal}"))?;
        Ok(principal)
    }

    /// `kdc serve`, returning once it accepts on TCP and its UDP port is bound. If another
    /// process took the port in the meantime and no client has copied krb5.conf yet, the realm
    /// moves to a new port (kdc.toml `[listen]` and krb5.conf's `kdc =`) and tries again.
    pub fn start(&mut self) -> Result<()> {
        if self.child.is_some() {
            bail!("the KDC is already running");
        }
        let mut attempt = 0;
        loop {
            let log_before = self.log().len();
            match self.start_once() {
                Ok(()) => return Ok(()),
                Err(e) => {
                    let new_log = self.log().get(log_before..).unwrap_or("").to_owned();
                    let port_taken = new_log.contains("in use") || !ports::is_free(self.port);
                    attempt += 1;
                    if attempt >= 3 || !port_taken || self.clients.load(Ordering::Relaxed) > 0 {
                        return Err(e);
                    }
                    self.move_to_port(ports::free_port()?)?;
                }
            }
        }
    }

    fn move_to_port(&mut self, port: u16) -> Result<()> {
        self.listen_at(self.host, port)
    }

    /// Listens on `host` (another loopback address, e.g. 127.0.0.2) instead, at the next start;
    /// the realm's krb5.conf follows.
    pub fn move_to_host(&mut self, host: Ipv4Addr) -> Result<()> {
        self.listen_at(host, self.port)
    }

    fn listen_at(&mut self, host: Ipv4Addr, port: u16) -> Result<()> {
        let host_port = SocketAddr::from((host, port)).to_string();
        let addr = format!("[\"{host_port}\"]");
        self.set_kdc_option("listen", "udp", &addr)?;
        self.set_kdc_option("listen", "tcp", &addr)?;
        let path = self.krb5_conf_path();
        let text = std::fs::read_to_string(&path)?;
        std::fs::write(&path, conf::set_kdc_address(&text, &host_port)?)?;
        self.host = host;
        self.port = port;
        Ok(())
    }

    /// A second KDC of this realm on `host`: a copy of the realm directory (the same master
    /// key, KDC certificate and configuration) in its own temporary directory, not started.
    pub fn replica(&self, host: Ipv4Addr) -> Result<Realm> {
        let mut replica = Realm::empty(&self.name, self.kdc.clone(), host, self.port)?;
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                std::fs::copy(entry.path(), replica.dir.join(entry.file_name()))?;
            }
        }
        replica.serve_env = self.serve_env.clone();
        replica.listen_at(host, self.port)?;
        Ok(replica)
    }

    fn start_once(&mut self) -> Result<()> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let stdout = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.tmp.path().join("kdc.stdout"))?;
        let child = Command::new(&self.kdc)
            .envs(self.serve_env.iter().map(|(k, v)| (k, v)))
            .arg("serve")
            .arg("--config")
            .arg(self.kdc_toml_path())
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(log))
            .spawn()
            .context("spawn kdc serve")?;
        self.child = Some(child);
        let started = Instant::now();
        loop {
            let exited = match self.child.as_mut() {
                Some(child) => child.try_wait()?,
                None => None,
            };
            if let Some(status) = exited {
                self.child = None;
                bail!(
                    "kdc serve exited with {status} before it listened on {}:\n{}",
                    self.port,
                    self.log()
                );
            }
            if TcpStream::connect_timeout(&self.addr(), Duration::from_millis(200)).is_ok()
                && udp_port_bound(self.addr())
            {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = self.kill();
                bail!(
                    "kdc serve did not listen on {} within {START_TIMEOUT:?}:\n{}",
                    self.addr(),
                    self.log()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn has_metrics(&self) -> Result<bool> {
        Ok(std::fs::read_to_string(self.kdc_toml_path())?.contains("\n[metrics]\n"))
    }

    /// The metrics listener's address, as the running KDC logged it ("metrics listening
    /// url=http://ADDR/metrics", the last start's); `None` without a `[metrics]` table.
    pub fn metrics_addr(&self) -> Result<Option<SocketAddr>> {
        if !self.has_metrics()? {
            return Ok(None);
        }
        let log = self.log();
        let line = log
            .lines()
            .rev()
            .find(|l| l.contains("metrics listening"))
            .with_context(|| format!("the KDC logged no metrics address:\n{log}"))?;
        let addr = line
            .split_once("http://")
            .and_then(|(_, rest)| rest.split_once("/metrics"))
            .map(|(addr, _)| addr)
            .with_context(|| format!("no http://ADDR/metrics in {line:?}"))?;
        Ok(Some(addr.parse()?))
    }

    /// The samples of the running KDC's `/metrics` (dev-realm turns the listener on).
    pub fn metrics(&self) -> Result<Vec<Sample>> {
        let addr = self
            .metrics_addr()?
            .context("kdc.toml has no [metrics] table")?;
        scrape::scrape(addr)
    }

    /// Sends a signal (`HUP`, `TERM`, ...) to the running KDC.
    pub fn signal(&self, name: &str) -> Result<()> {
        let pid = self.child.as_ref().context("the KDC is not running")?.id();
        let status = Command::new("sh")
            .args(["-c", &format!("kill -{name} {pid}")])
            .status()
            .context("send a signal")?;
        if !status.success() {
            bail!("kill -{name} {pid} failed");
        }
        Ok(())
    }

    /// Waits (bounded) for the KDC to exit by itself and returns its status.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                return Ok(status);
            }
            if self.child.is_none() {
                bail!("the KDC is not running");
            }
            if started.elapsed() > timeout {
                let _ = self.kill();
                bail!("kdc serve did not exit within {timeout:?}");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then wait (bounded); a KDC that does not exit in time is killed and that is
    /// an error. Returns the exit status (None if it was not running).
    pub fn stop(&mut self) -> Result<Option<ExitStatus>> {
        let Some(child) = self.child.as_mut() else {
            return Ok(None);
        };
        let pid = child.id();
        // The shell's builtin kill: std has no signal API and procps may be absent.
        Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status()
            .context("send SIGTERM")?;
        let asked = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                self.child = None;
                return Ok(Some(status));
            }
            if asked.elapsed() > STOP_TIMEOUT {
                let _ = self.kill();
                bail!("kdc serve ignored SIGTERM for {STOP_TIMEOUT:?}");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs the next starts of `kdc serve` with its clock `offset_secs` off (libfaketime,
    /// Debian `faketime`; 0 for the real clock). Monotonic time stays real, so timeouts do too.
    pub fn set_clock_offset(&mut self, offset_secs: i64) -> Result<()> {
        self.serve_env.clear();
        if offset_secs != 0 {
            let library = Path::new(FAKETIME_LIBRARY);
            if !library.is_file() {
                bail!("{FAKETIME_LIBRARY} is missing: apt-get install faketime");
            }
            self.serve_env = vec![
                ("LD_PRELOAD".into(), FAKETIME_LIBRARY.into()),
                ("FAKETIME".into(), format!("{offset_secs:+}")),
                ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
            ];
        }
        Ok(())
    }

    pub fn restart(&mut self) -> Result<()> {
        self.stop()?;
        self.start()
    }

    /// True while the served process has not exited.
    pub fn is_running(&mut self) -> Result<bool> {
        match self.child.as_mut() {
            None => Ok(false),
            Some(child) => Ok(child.try_wait()?.is_none()),
        }
    }

    fn kill(&mut self) -> io::Result<()> {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            child.wait()?;
        }
        Ok(())
    }

    /// Everything the KDC wrote to stderr so far (all runs).
    pub fn log(&self) -> String {
        read_lossy(&self.log)
    }

    /// Fails when the KDC's stderr shows a Rust panic.
    pub fn check_no_panic(&self) -> Result<()> {
        let log = self.log();
        if log.contains("panicked") {
            bail!("the KDC panicked:\n{log}");
        }
        Ok(())
    }
}

/// Points `client` at `host_port` over TCP only (see [`Realm::client_via`]).
fn via(client: MitClient, host_port: &str) -> Result<MitClient> {
    client.edit_krb5_conf(|t| {
        let t = conf::set_kdc_address(t, host_port)?;
        conf::set_libdefault(&t, "udp_preference_limit", "1")
    })?;
    Ok(client)
}

/// A connected UDP socket learns of an unbound port at once on loopback (ICMP port
/// unreachable -> ECONNREFUSED on the next receive); silence means something is bound.
fn udp_port_bound(addr: SocketAddr) -> bool {
    let probe = || -> io::Result<bool> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.connect(addr)?;
        socket.set_read_timeout(Some(Duration::from_millis(100)))?;
        socket.send(&[])?;
        let mut buf = [0u8; 16];
        match socket.recv(&mut buf) {
            Ok(_) => Ok(true),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(true),
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => Ok(false),
            Err(e) => Err(e),
        }
    };
    probe().unwrap_or(false)
}

impl Drop for Realm {
    fn drop(&mut self) {
        let _ = self.kill();
        if thread::panicking() {
            // The test failed: show where its files are and what the KDC said.
            self.tmp.disable_cleanup(true);
            let log = self.log();
            let tail: String = log
                .lines()
                .rev()
                .take(60)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            eprintln!(
                "realm {} kept in {} (KDC port {}); last KDC stderr lines:\n{tail}",
                self.name,
                self.tmp.path().display(),
                self.port
            );
        } else if std::env::var_os("KDC_TEST_KEEP").is_some() {
            self.tmp.disable_cleanup(true);
            eprintln!("realm {} kept in {}", self.name, self.tmp.path().display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_probe_tells_bound_from_unbound() {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let bound = socket.local_addr().unwrap();
        assert!(udp_port_bound(bound));
        drop(socket);
        let port = ports::free_port().unwrap();
        assert!(!udp_port_bound(ports::loopback(port)));
    }
}
