//! MIT Kerberos clients (kinit, klist, kvno from Debian's krb5-user + krb5-pkinit: the
//! system's 1.20, or sid's 1.22 unpacked by `tests/run`) run as processes with a private
//! krb5.conf, credential cache and trace file, and client identities made with openssl
//! (RFC 4556 §3.2.1: the client signs with the key of the certificate it sends).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::conf;
use crate::pki::{self, KeyType, Signing};
use crate::process::{RunOutput, read_lossy, run_with_timeout};
use crate::unpacked::{LIB_DIR, MIT122};

/// kinit talks to one KDC at most a few round trips: 30 s is generous even on a loaded CI.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A certificate and its private key, both PEM files.
#[derive(Clone, Debug)]
pub struct Identity {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Identity {
    /// The value of MIT's `X509_user_identity` for this pair.
    pub fn x509_user_identity(&self) -> String {
        format!("FILE:{},{}", self.cert.display(), self.key.display())
    }

    /// A fresh self-signed RSA-2048 certificate, as a Windows Hello key's stand-in:
    /// `DIR/NAME.pem` and `DIR/NAME.key`. It has openssl's default extensions, no keyUsage.
    pub fn self_signed(dir: &Path, name: &str) -> Result<Identity> {
        Identity::self_signed_with(dir, name, &[])
    }

    /// The same with `keyUsage = critical, USAGE` (e.g. `digitalSignature`): Heimdal's kinit
    /// signs its AuthPack only with a certificate whose keyUsage has digitalSignature.
    pub fn self_signed_with_key_usage(dir: &Path, name: &str, usage: &str) -> Result<Identity> {
        let ext = format!("keyUsage = critical, {usage}");
        Identity::self_signed_with(dir, name, &["-addext", &ext])
    }

    fn self_signed_with(dir: &Path, name: &str, extra: &[&str]) -> Result<Identity> {
        let identity = Identity::in_dir(dir, name);
        pki::self_signed(dir, name, KeyType::Rsa2048, 30, extra, &identity)?;
        Ok(identity)
    }

    /// `DIR/NAME.pem` and `DIR/NAME.key`.
    fn in_dir(dir: &Path, name: &str) -> Identity {
        Identity {
            cert: dir.join(format!("{name}.pem")),
            key: dir.join(format!("{name}.key")),
        }
    }

    /// A certificate for `NAME` issued by a fresh throw-away CA (`DIR/NAME-ca.pem`, returned
    /// second) that the KDC does not know. Unlike a self-signed one, MIT kinit puts this
    /// certificate into its CMS SignedData (it leaves out only the trust anchor), so the KDC
    /// sees which key signed before it verifies anything.
    pub fn issued_by_new_ca(dir: &Path, name: &str) -> Result<(Identity, PathBuf)> {
        let ca = Identity::self_signed(dir, &format!("{name}-ca"))?;
        let identity = Identity::in_dir(dir, name);
        let csr = dir.join(format!("{name}.csr"));
        let ext = dir.join(format!("{name}.ext"));
        std::fs::write(
            &ext,
            "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n\
             subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n",
        )?;
        pki::request(dir, name, KeyType::Rsa2048, &identity.key, &csr)?;
        let signing = Signing {
            issuer: &ca,
            serial: "2".into(),
            days: 30,
            extfile: &ext,
            section: None,
        };
        pki::sign(dir, name, &csr, &signing, &identity.cert)?;
        Ok((identity, ca.cert))
    }
}

/// The result of one client run, with its trace: MIT's KRB5_TRACE output, or Heimdal's
/// libkrb5 debug log (see [`crate::heimdal`]).
#[derive(Clone, Debug)]
pub struct ClientRun {
    pub output: RunOutput,
    pub trace: String,
}

impl ClientRun {
    pub fn success(&self) -> bool {
        self.output.success()
    }

    /// Everything a failing assertion should show.
    pub fn report(&self) -> String {
        format!("{}\n--- client trace ---\n{}", self.output, self.trace)
    }
}

/// Which MIT clients a [`MitClient`] runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MitBinaries {
    /// Debian 12's krb5-user and krb5-pkinit (MIT 1.20), installed: `kinit`, `klist`, `kvno`
    /// from PATH.
    System,
    /// Debian sid's (MIT 1.22) unpacked in this root by `tests/run`, started through sid's
    /// own dynamic loader with sid's libraries: sid's glibc is newer than the system's, whose
    /// loader could not run them.
    Unpacked(PathBuf),
}

impl MitBinaries {
    /// MIT 1.22 from target/mit122/root, or an error naming `./tests/run`.
    pub fn mit122() -> Result<MitBinaries> {
        Ok(MitBinaries::Unpacked(MIT122.root()?))
    }

    /// The command line that runs `program` (`kinit`, `klist`, `kvno`), before its arguments.
    pub fn argv(&self, program: &str) -> Vec<OsString> {
        match self {
            MitBinaries::System => vec![program.into()],
            MitBinaries::Unpacked(root) => {
                // Debian ships kinit and klist as kinit.mit and klist.mit (the alternatives
                // system names them, Heimdal has its own); kvno is MIT's only.
                let file = match program {
                    "kinit" | "klist" => format!("{program}.mit"),
                    other => other.to_owned(),
                };
                let lib = root.join(LIB_DIR);
                vec![
                    lib.join("ld-linux-x86-64.so.2").into(),
                    "--library-path".into(),
                    lib.into(),
                    root.join("usr/bin").join(file).into(),
                ]
            }
        }
    }

    /// `krb5_conf` as these clients need it: unpacked ones load their own preauth plugins
    /// (pkinit.so), not the system's, whose directory is compiled into their libkrb5.
    fn krb5_conf(&self, krb5_conf: &str) -> Result<String> {
        match self {
            MitBinaries::System => Ok(krb5_conf.to_owned()),
            MitBinaries::Unpacked(root) => {
                let plugins = root.join(LIB_DIR).join("krb5/plugins");
                conf::set_libdefault(krb5_conf, "plugin_base_dir", &plugins.display().to_string())
            }
        }
    }

    /// What to do when a client cannot be started.
    fn install_hint(&self) -> &'static str {
        match self {
            MitBinaries::System => "MIT's clients come from apt-get install krb5-user krb5-pkinit",
            MitBinaries::Unpacked(_) => "MIT 1.22's clients are unpacked by ./tests/run",
        }
    }
}

/// One client "machine": its own directory, krb5.conf, credential cache and trace files.
#[derive(Debug)]
pub struct MitClient {
    dir: PathBuf,
    conf: conf::ConfFile,
    ccache: PathBuf,
    binaries: MitBinaries,
    wrapper: Vec<OsString>,
    timeout: Duration,
    runs: AtomicUsize,
}

impl MitClient {
    /// Creates `dir` (if needed) and writes `krb5_conf` there, for the system's clients.
    pub fn new(dir: &Path, krb5_conf: &str) -> Result<MitClient> {
        MitClient::with_binaries(dir, krb5_conf, MitBinaries::System)
    }

    /// The same for `binaries` (whose krb5.conf needs may add to `krb5_conf`).
    pub fn with_binaries(dir: &Path, krb5_conf: &str, binaries: MitBinaries) -> Result<MitClient> {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        let conf = conf::ConfFile::create(dir.join("krb5.conf"), &binaries.krb5_conf(krb5_conf)?)?;
        Ok(MitClient {
            dir: dir.to_owned(),
            ccache: dir.join("ccache"),
            conf,
            binaries,
            wrapper: Vec::new(),
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

    /// Rewrites this client's krb5.conf through `edit` (see [`conf`]).
    pub fn edit_krb5_conf(&self, edit: impl FnOnce(&str) -> Result<String>) -> Result<()> {
        self.conf.edit(edit)
    }

    /// Makes the client trust `cert` as an anchor: MIT kinit sends a self-signed certificate
    /// only when it can build a chain for it itself.
    pub fn trust(&self, cert: &Path) -> Result<()> {
        let path = cert.display().to_string();
        self.edit_krb5_conf(|t| conf::add_pkinit_anchor(t, &path))
    }

    /// Runs every client command under `program args...` (e.g. `faketime -f +1h`).
    pub fn with_wrapper<I, S>(mut self, wrapper: I) -> MitClient
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.wrapper = wrapper.into_iter().map(Into::into).collect();
        self
    }

    pub fn ccache(&self) -> &Path {
        &self.ccache
    }

    pub fn binaries(&self) -> &MitBinaries {
        &self.binaries
    }

    fn command(&self, program: &str, trace: &Path) -> Command {
        // The wrapper (e.g. faketime) runs the client's own command line.
        let mut argv = self
            .wrapper
            .iter()
            .cloned()
            .chain(self.binaries.argv(program));
        let mut cmd = Command::new(argv.next().unwrap_or_else(|| program.into()));
        cmd.args(argv);
        cmd.current_dir(&self.dir)
            .env("KRB5_CONFIG", self.conf.path())
            .env("KRB5CCNAME", format!("FILE:{}", self.ccache.display()))
            .env("KRB5_TRACE", trace)
            .env_remove("KRB5_KDC_PROFILE")
            .env_remove("KRB5_CLIENT_KTNAME")
            .env_remove("KRB5_KTNAME");
        cmd
    }

    fn run(&self, program: &str, args: &[String]) -> Result<ClientRun> {
        let n = self.runs.fetch_add(1, Ordering::Relaxed);
        let tag = format!("{program}-{n}");
        let trace = self.dir.join(format!("{tag}.trace"));
        let mut cmd = self.command(program, &trace);
        cmd.args(args);
        let output = run_with_timeout(&mut cmd, &self.dir, &tag, self.timeout)
            .with_context(|| format!("run {program}: {}", self.binaries.install_hint()))?;
        Ok(ClientRun {
            output,
            trace: read_lossy(&trace),
        })
    }

    /// `kinit -X X509_user_identity=FILE:cert,key PRINCIPAL`, starting from an empty cache.
    pub fn kinit(&self, principal: &str, identity: &Identity) -> Result<ClientRun> {
        self.kinit_with(&[], principal, identity)
    }

    /// [`MitClient::kinit`] with more options first, e.g. `["-C"]` (canonicalize).
    pub fn kinit_with(
        &self,
        options: &[&str],
        principal: &str,
        identity: &Identity,
    ) -> Result<ClientRun> {
        match std::fs::remove_file(&self.ccache) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).context("remove the old credential cache"),
        }
        let mut args: Vec<String> = options.iter().map(|o| (*o).to_owned()).collect();
        args.extend([
            "-X".to_owned(),
            format!("X509_user_identity={}", identity.x509_user_identity()),
            principal.to_owned(),
        ]);
        self.run("kinit", &args)
    }

    /// `klist` of this client's cache.
    pub fn klist(&self) -> Result<ClientRun> {
        self.run("klist", &[])
    }

    /// `kvno ARGS...` with this client's cache (service tickets from the TGT).
    pub fn kvno(&self, args: &[&str]) -> Result<ClientRun> {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        self.run("kvno", &args)
    }

    /// `kinit -R`: renews the TGT in this client's cache.
    pub fn renew(&self) -> Result<ClientRun> {
        self.run("kinit", &["-R".to_owned()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_identity_is_a_certificate_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let id = Identity::self_signed(dir.path(), "dave").unwrap();
        let pem = std::fs::read_to_string(&id.cert).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        // The certificate's public key is the key file's public key.
        let pub_of = |args: &[&str]| {
            let out = Command::new("openssl").args(args).output().unwrap();
            assert!(out.status.success());
            out.stdout
        };
        let from_cert = pub_of(&[
            "x509",
            "-noout",
            "-pubkey",
            "-in",
            id.cert.to_str().unwrap(),
        ]);
        let from_key = pub_of(&["pkey", "-pubout", "-in", id.key.to_str().unwrap()]);
        assert_eq!(from_cert, from_key);
        assert_eq!(
            id.x509_user_identity(),
            format!("FILE:{},{}", id.cert.display(), id.key.display())
        );
    }

    #[test]
    fn issued_identity_chains_to_its_own_ca() {
        let dir = tempfile::tempdir().unwrap();
        let (id, ca) = Identity::issued_by_new_ca(dir.path(), "frank").unwrap();
        let verify = |anchor: &Path| {
            Command::new("openssl")
                .arg("verify")
                .arg("-CAfile")
                .arg(anchor)
                .arg(&id.cert)
                .output()
                .unwrap()
                .status
                .success()
        };
        assert!(verify(&ca));
        // Not self-signed: it does not verify against itself.
        assert!(!verify(&id.cert));
    }

    /// No KDC is listening on the port: kinit must fail, not hang, and leave its trace.
    #[test]
    fn kinit_against_nothing_fails_with_a_trace() {
        let dir = tempfile::tempdir().unwrap();
        let client = MitClient::new(&dir.path().join("c"), &nowhere_conf()).unwrap();
        let id = Identity::self_signed(dir.path(), "erin").unwrap();
        client.trust(&id.cert).unwrap();
        assert!(
            client
                .krb5_conf()
                .unwrap()
                .contains("pkinit_anchors = FILE:")
        );
        let run = client.kinit("erin@NOWHERE.TEST", &id).unwrap();
        assert!(!run.success(), "{}", run.report());
        assert!(!run.output.timed_out(), "{}", run.report());
        assert!(run.trace.contains("Sending request"), "{}", run.report());
        let klist = client.klist().unwrap();
        assert!(!klist.success());
    }

    fn nowhere_conf() -> String {
        let port = crate::ports::free_port().unwrap();
        format!(
            "[libdefaults]\n    default_realm = NOWHERE.TEST\n    dns_lookup_kdc = false\n\
             [realms]\n    NOWHERE.TEST = {{\n        kdc = 127.0.0.1:{port}\n    }}\n"
        )
    }

    fn mit122_client(dir: &Path) -> MitClient {
        let binaries = MitBinaries::mit122().unwrap();
        MitClient::with_binaries(&dir.join("c"), &nowhere_conf(), binaries).unwrap()
    }

    /// The unpacked clients run on sid's loader and libraries (tests/run made them).
    #[test]
    fn unpacked_clients_are_mit_1_22() {
        let dir = tempfile::tempdir().unwrap();
        let client = mit122_client(dir.path());
        let run = client.run("klist", &["-V".to_owned()]).unwrap();
        assert!(run.success(), "{}", run.report());
        assert!(
            run.output.stdout.contains("Kerberos 5 version 1.22"),
            "{}",
            run.report()
        );
        let system = MitClient::new(&dir.path().join("s"), &nowhere_conf()).unwrap();
        let run = system.run("klist", &["-V".to_owned()]).unwrap();
        assert!(
            run.output.stdout.contains("Kerberos 5 version 1.20"),
            "{}",
            run.report()
        );
    }

    /// Without plugin_base_dir, 1.22's libkrb5 would dlopen the system's (1.20's) pkinit.so
    /// from its compiled-in directory: the loader's own log shows which file it opened.
    #[test]
    fn unpacked_kinit_loads_its_own_pkinit_plugin() {
        let dir = tempfile::tempdir().unwrap();
        let client = mit122_client(dir.path());
        let MitBinaries::Unpacked(root) = client.binaries().clone() else {
            panic!("not unpacked");
        };
        let id = Identity::self_signed(dir.path(), "erin").unwrap();
        let trace = dir.path().join("kinit.trace");
        let mut cmd = client.command("kinit", &trace);
        cmd.env("LD_DEBUG", "files")
            .arg("-X")
            .arg(format!("X509_user_identity={}", id.x509_user_identity()))
            .arg("erin@NOWHERE.TEST");
        let run = run_with_timeout(&mut cmd, dir.path(), "kinit-ld-debug", CLIENT_TIMEOUT).unwrap();
        let own = root.join(LIB_DIR).join("krb5/plugins/preauth/pkinit.so");
        let opened = format!("file={} ", own.display());
        assert!(run.stderr.contains(&opened), "{run}");
        assert!(
            !run.stderr
                .contains("file=/usr/lib/x86_64-linux-gnu/krb5/plugins/preauth/pkinit.so"),
            "{run}"
        );
    }
}
