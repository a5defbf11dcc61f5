//! A private OpenLDAP server for tests (an RFC 4511 directory with the AD attributes of
//! deploy/ldap/): Debian's slapd run from its own slapd.conf, or from a cn=config directory
//! built by slapadd from deploy/ldap/kdc.ldif, with an mdb database in a temporary
//! directory, plain LDAP (and StartTLS) on one free loopback port and LDAPS (RFC 4513 §3,
//! a test CA made with openssl) on another, killed when dropped. slapd may run as root here.

use std::fs::OpenOptions;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::ports;
use crate::realm::Realm;

mod config;
use crate::process::{RunOutput, read_lossy, run_with_timeout};

/// The password of the account the KDC binds as (tests only).
pub const KDC_BIND_PASSWORD: &str = "kdc-bind-secret";
const ROOT_PASSWORD: &str = "root-secret";
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a write may take to reach the other provider (it takes well under a second).
pub const REPLICATION_TIMEOUT: Duration = Duration::from_secs(20);
const TOOL_TIMEOUT: Duration = Duration::from_secs(30);
const SLAPD: &str = "/usr/sbin/slapd";
const SLAPADD: &str = "/usr/sbin/slapadd";

/// How to set up the server.
#[derive(Clone, Debug)]
pub struct SlapdOptions {
    /// The naming context, e.g. `DC=example,DC=test`; its first RDN must be a dc.
    pub suffix: String,
    /// Also serve LDAPS and StartTLS with a certificate from a fresh test CA.
    pub tls: bool,
    /// Configure through cn=config (slapadd -n0 of deploy/ldap/kdc.ldif) instead of
    /// slapd.conf with deploy/ldap/kdc.schema.
    pub cn_config: bool,
    /// One of two providers that replicate each other, configured from
    /// deploy/ldap/multi-provider.conf.example (see [`Slapd::start_pair`]).
    pub replication: Option<Replication>,
}

/// This server's place among the providers of deploy/ldap/multi-provider.conf.example:
/// `ports[index]` is its own, the others its peers'.
#[derive(Clone, Debug)]
pub struct Replication {
    pub index: usize,
    pub ports: [u16; 2],
}

impl Default for SlapdOptions {
    fn default() -> Self {
        SlapdOptions {
            suffix: "DC=example,DC=test".into(),
            tls: false,
            cn_config: false,
            replication: None,
        }
    }
}

pub struct Slapd {
    tmp: TempDir,
    options: SlapdOptions,
    port: u16,
    tls_port: Option<u16>,
    child: Option<Child>,
    runs: usize,
}

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// True when Debian's slapd and ldap-utils are installed.
pub fn available() -> bool {
    Path::new(SLAPD).is_file() && Path::new("/usr/bin/ldapadd").is_file()
}

fn first_dc(suffix: &str) -> Result<String> {
    let first = suffix.split(',').next().unwrap_or_default();
    match first.split_once('=') {
        Some((attribute, value)) if attribute.trim().eq_ignore_ascii_case("dc") => {
            Ok(value.trim().to_owned())
        }
        _ => bail!("suffix {suffix:?} does not start with a dc= RDN"),
    }
}

impl Slapd {
    /// Configures, starts and fills the server: the suffix entry, `CN=Users` (an AD
    /// container) and `CN=kdc` (the KDC's bind account, which may read and write).
    pub fn start(options: SlapdOptions) -> Result<Slapd> {
        if !available() {
            bail!("slapd is not installed: apt-get install slapd ldap-utils");
        }
        let tmp = tempfile::Builder::new()
            .prefix("kdc-slapd-")
            .tempdir()
            .context("temporary directory")?;
        std::fs::create_dir(tmp.path().join("db"))?;
        let port = match &options.replication {
            Some(replication) => *replication
                .ports
                .get(replication.index)
                .context("replication index out of range")?,
            None => ports::free_port()?,
        };
        let tls_port = if options.tls {
            Some(ports::free_port()?)
        } else {
            None
        };
        let mut slapd = Slapd {
            tmp,
            options,
            port,
            tls_port,
            child: None,
            runs: 0,
        };
        if slapd.options.tls {
            slapd.make_certificates()?;
        }
        match &slapd.options.replication {
            Some(replication) => {
                let conf = slapd.replicated_conf(replication)?;
                std::fs::write(slapd.path("slapd.conf"), conf)?;
            }
            None if slapd.options.cn_config => slapd.write_cn_config()?,
            None => std::fs::write(slapd.path("slapd.conf"), slapd.slapd_conf())?,
        }
        slapd.launch()?;
        // A second provider gets the base entries from the first, by replication.
        if slapd
            .options
            .replication
            .as_ref()
            .is_none_or(|r| r.index == 0)
        {
            slapd.add_ldif(&slapd.base_ldif()?)?;
        }
        Ok(slapd)
    }

    /// Two providers replicating each other (deploy/ldap/multi-provider.conf.example on two
    /// free ports), returned once the second holds the first's base entries.
    pub fn start_pair() -> Result<[Slapd; 2]> {
        let ports = [ports::free_port()?, ports::free_port()?];
        let provider = |index| {
            Slapd::start(SlapdOptions {
                replication: Some(Replication { index, ports }),
                ..SlapdOptions::default()
            })
        };
        let pair = [provider(0)?, provider(1)?];
        let [first, second] = &pair;
        second
            .wait_for("(cn=kdc)", REPLICATION_TIMEOUT)
            .with_context(|| format!("{} did not replicate {}", second.url(), first.url()))?;
        Ok(pair)
    }

    /// Waits (bounded) until an entry matching `filter` is here, as replication brings it;
    /// returns how long that took.
    pub fn wait_for(&self, filter: &str, timeout: Duration) -> Result<Duration> {
        let started = Instant::now();
        loop {
            let found = self.search(filter, &["1.1"])?;
            if found.lines().any(|line| line.starts_with("dn:")) {
                return Ok(started.elapsed());
            }
            if started.elapsed() > timeout {
                bail!(
                    "no entry ({filter}) on {} after {timeout:?}:\n{}",
                    self.url(),
                    self.log()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    pub fn suffix(&self) -> &str {
        &self.options.suffix
    }

    /// `ldap://127.0.0.1:PORT` (StartTLS is offered there when TLS is on).
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// `ldaps://127.0.0.1:PORT` when TLS is on.
    pub fn ldaps_url(&self) -> Option<String> {
        self.tls_port.map(|p| format!("ldaps://127.0.0.1:{p}"))
    }

    /// The test CA that issued the server certificate (IP SAN 127.0.0.1, DNS localhost).
    pub fn ca_file(&self) -> Option<PathBuf> {
        self.options.tls.then(|| self.path("ca.pem"))
    }

    pub fn root_dn(&self) -> String {
        format!("CN=admin,{}", self.options.suffix)
    }

    pub fn kdc_bind_dn(&self) -> String {
        format!("CN=kdc,{}", self.options.suffix)
    }

    pub fn users_dn(&self) -> String {
        format!("CN=Users,{}", self.options.suffix)
    }

    /// Writes the KDC's bind password to `path` (mode 0600).
    pub fn write_bind_password(&self, path: &Path) -> Result<()> {
        std::fs::write(path, format!("{KDC_BIND_PASSWORD}\n"))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(())
    }

    fn listen_urls(&self) -> String {
        let mut urls = format!("ldap://127.0.0.1:{}/", self.port);
        if let Some(port) = self.tls_port {
            urls.push_str(&format!(" ldaps://127.0.0.1:{port}/"));
        }
        urls
    }

    /// Starts slapd in the foreground and waits until it answers a root DSE search.
    fn launch(&mut self) -> Result<()> {
        self.runs += 1;
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("slapd.log"))?;
        let mut cmd = Command::new(SLAPD);
        if self.options.cn_config {
            cmd.arg("-F").arg(self.path("slapd.d"));
        } else {
            cmd.arg("-f").arg(self.path("slapd.conf"));
        }
        cmd.args(["-h", &self.listen_urls(), "-d", "none"])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        self.child = Some(cmd.spawn().context("spawn slapd")?);
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                bail!("slapd exited with {status}:\n{}", self.log());
            }
            if TcpStream::connect_timeout(&ports::loopback(self.port), Duration::from_millis(100))
                .is_ok()
                && self
                    .ldap_tool("ldapsearch", &["-b", "", "-s", "base", "1.1"], None)?
                    .success()
            {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                self.kill();
                bail!(
                    "slapd did not answer within {START_TIMEOUT:?}:\n{}",
                    self.log()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills slapd at once (a crash; mdb survives it). Nothing happens if it is not running.
    pub fn stop(&mut self) {
        self.kill();
    }

    /// Starts slapd again on the same ports with the same data.
    pub fn restart(&mut self) -> Result<()> {
        self.kill();
        self.launch()
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> String {
        read_lossy(&self.path("slapd.log"))
    }

    /// Runs an ldap-utils tool as the root DN against the plain port.
    fn ldap_tool(&self, tool: &str, args: &[&str], input: Option<&Path>) -> Result<RunOutput> {
        let mut cmd = Command::new(tool);
        cmd.args([
            "-x",
            "-H",
            &self.url(),
            "-D",
            &self.root_dn(),
            "-w",
            ROOT_PASSWORD,
        ])
        .args(args);
        if let Some(file) = input {
            cmd.arg("-f").arg(file);
        }
        run_with_timeout(&mut cmd, self.tmp.path(), tool, TOOL_TIMEOUT)
    }

    fn ldif_tool(&self, tool: &str, extra: &[&str], ldif: &str) -> Result<()> {
        let file = self.path("input.ldif");
        std::fs::write(&file, ldif)?;
        self.ldap_tool(tool, extra, Some(&file))?
            .ok()
            .with_context(|| format!("{tool} of:\n{ldif}"))?;
        Ok(())
    }

    /// `ldapadd` as the root DN.
    pub fn add_ldif(&self, ldif: &str) -> Result<()> {
        self.ldif_tool("ldapadd", &[], ldif)
    }

    /// `ldapmodify` as the root DN.
    pub fn modify_ldif(&self, ldif: &str) -> Result<()> {
        self.ldif_tool("ldapmodify", &[], ldif)
    }

    /// `ldapsearch -LLL` under the suffix as the root DN: the LDIF text, lines unfolded.
    pub fn search(&self, filter: &str, attributes: &[&str]) -> Result<String> {
        let mut args = vec!["-LLL", "-o", "ldif-wrap=no", "-b", self.suffix(), filter];
        args.extend_from_slice(attributes);
        Ok(self.ldap_tool("ldapsearch", &args, None)?.ok()?.stdout)
    }

    fn base_ldif(&self) -> Result<String> {
        let dc = first_dc(&self.options.suffix)?;
        Ok(format!(
            "dn: {suffix}\nobjectClass: top\nobjectClass: domain\ndc: {dc}\n\n\
             dn: {users}\nobjectClass: top\nobjectClass: container\ncn: Users\n\n\
             dn: {kdc}\nobjectClass: top\nobjectClass: organizationalRole\n\
             objectClass: simpleSecurityObject\ncn: kdc\nuserPassword: {KDC_BIND_PASSWORD}\n",
            suffix = self.options.suffix,
            users = self.users_dn(),
            kdc = self.kdc_bind_dn(),
        ))
    }

    /// A `[directory]` table for kdc.toml that binds as the KDC account to this server
    /// (`url` picks plain or LDAPS), groups by member search unless `extra` says otherwise,
    /// with `extra` `key = value` lines added as they are.
    pub fn kdc_directory_toml(&self, url: &str, password_file: &Path, extra: &[&str]) -> String {
        let mut text = format!(
            "[directory]\ntype = \"ldap\"\nurls = [\"{url}\"]\nbase_dn = \"{}\"\n\
             bind_dn = \"{}\"\nbind_password_file = \"{}\"\n\
             user_filter = \"(objectClass=kdcAccount)\"\n\
             new_user_object_classes = [\"top\", \"person\", \"organizationalPerson\", \"inetOrgPerson\", \"kdcAccount\"]\n",
            self.options.suffix,
            self.kdc_bind_dn(),
            password_file.display()
        );
        if let Some(ca) = self.ca_file() {
            text.push_str(&format!("ca_file = \"{}\"\n", ca.display()));
        }
        // OpenLDAP has no tokenGroups (AD's default): groups by `member` search, as
        // deploy/ldap sets it up.
        if !extra
            .iter()
            .any(|line| line.starts_with("group_membership"))
        {
            text.push_str("group_membership = \"member_search\"\n");
        }
        for line in extra {
            text.push_str(line);
            text.push('\n');
        }
        text
    }
}

impl Slapd {
    /// The users and registered keys dev-realm wrote to `realm`'s embedded directory, added
    /// to this server unchanged: DN, UPN, sAMAccountName, objectSid and the DN-Binary key
    /// values (not the groups).
    pub fn add_users_of(&self, realm: &Realm) -> Result<()> {
        let text = std::fs::read_to_string(realm.dir().join("directory.toml"))?;
        let mut ldif = String::new();
        let users = text.split("\n[[group]]\n").next().unwrap_or_default();
        for table in users.split("\n[[user]]\n").skip(1) {
            let field = |key: &str| {
                table
                    .lines()
                    .find(|l| l.trim_start().starts_with(&format!("{key} =")))
                    .and_then(|line| line.split('"').nth(1))
                    .with_context(|| format!("no {key} in {table}"))
            };
            let keys: Vec<&str> = table.split('"').filter(|p| p.starts_with("B:")).collect();
            ldif.push_str(&user_ldif(
                field("distinguishedName")?,
                field("userPrincipalName")?,
                field("sAMAccountName")?,
                512,
                &keys,
            ));
            // The SID the realm's PACs name the user by (text form, which the KDC reads).
            if let Ok(sid) = field("objectSid") {
                ldif.push_str(&format!("objectSid: {sid}\n"));
            }
            ldif.push('\n');
        }
        if !ldif.contains("msDS-KeyCredentialLink: B:") {
            bail!("no registered key in the dev realm's directory:\n{text}");
        }
        self.add_ldif(&ldif)
    }

    /// Points `realm`'s kdc.toml at this server's `url` (plain or LDAPS), binding as the KDC
    /// account with a password file in the realm directory; `extra` as for
    /// [`Slapd::kdc_directory_toml`].
    pub fn serve_realm(&self, realm: &Realm, url: &str, extra: &[&str]) -> Result<()> {
        let password = realm.dir().join("ldap.password");
        self.write_bind_password(&password)?;
        let table = self.kdc_directory_toml(url, &password, extra);
        let path = realm.kdc_toml_path();
        let text = std::fs::read_to_string(&path)?;
        std::fs::write(&path, replace_directory_table(&text, &table)?)?;
        Ok(())
    }
}

/// LDIF of a user entry in the shape the KDC reads (inetOrgPerson + kdcAccount).
pub fn user_ldif(dn: &str, upn: &str, sam: &str, uac: u32, key_links: &[&str]) -> String {
    let cn = dn
        .split(',')
        .next()
        .and_then(|rdn| rdn.split_once('='))
        .map(|(_, v)| v.trim())
        .unwrap_or(sam);
    let mut text = format!(
        "dn: {dn}\nobjectClass: top\nobjectClass: inetOrgPerson\nobjectClass: kdcAccount\n\
         cn: {cn}\nsn: {cn}\nuserPrincipalName: {upn}\nsAMAccountName: {sam}\n\
         userAccountControl: {uac}\n"
    );
    for link in key_links {
        text.push_str(&format!("msDS-KeyCredentialLink: {link}\n"));
    }
    text
}

/// Replaces the `[directory]` table of a kdc.toml text with `table` (which starts with its
/// own `[directory]` header); the other tables stay as they are.
pub fn replace_directory_table(kdc_toml: &str, table: &str) -> Result<String> {
    let start = kdc_toml
        .find("\n[directory]")
        .map(|i| i + 1)
        .context("kdc.toml has no [directory] table")?;
    let after = kdc_toml.get(start + 1..).unwrap_or_default();
    let end = after
        .find("\n[")
        .map_or(kdc_toml.len(), |i| start + 1 + i + 1);
    Ok(format!(
        "{}{}\n{}",
        kdc_toml.get(..start).unwrap_or_default(),
        table.trim_end(),
        kdc_toml
            .get(end..)
            .filter(|rest| !rest.is_empty())
            .map_or(String::new(), |rest| format!("\n{rest}"))
    ))
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.kill();
        if thread::panicking() {
            self.tmp.disable_cleanup(true);
            eprintln!(
                "slapd kept in {}; its log:\n{}",
                self.tmp.path().display(),
                self.log()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_table_is_replaced_alone() {
        let text = "[realm]\nname = \"X\"\n\n[directory]\ntype = \"embedded\"\npath = \"d.toml\"\n\n[log]\nlevel = \"info\"\n";
        let out = replace_directory_table(text, "[directory]\ntype = \"ldap\"\n").unwrap();
        assert_eq!(
            out,
            "[realm]\nname = \"X\"\n\n[directory]\ntype = \"ldap\"\n\n[log]\nlevel = \"info\"\n"
        );
        let last = "[realm]\nname = \"X\"\n[directory]\ntype = \"embedded\"\n";
        assert_eq!(
            replace_directory_table(last, "[directory]\ntype = \"ldap\"").unwrap(),
            "[realm]\nname = \"X\"\n[directory]\ntype = \"ldap\"\n"
        );
        assert!(replace_directory_table("[realm]\n", "x").is_err());
    }

    /// kdc.ldif is kdc.schema for cn=config: the same definitions, word for word.
    #[test]
    fn schema_and_ldif_define_the_same() {
        let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let dir = repo_root().join("deploy/ldap");
        let schema = std::fs::read_to_string(dir.join("kdc.schema")).unwrap();
        let body: String = schema
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let mut from_schema: Vec<String> = body
            .split("attributetype")
            .flat_map(|part| part.split("objectclass"))
            .map(squash)
            .filter(|d| d.starts_with('('))
            .collect();
        let ldif = std::fs::read_to_string(dir.join("kdc.ldif"))
            .unwrap()
            .replace("\n ", "");
        let mut from_ldif: Vec<String> = ldif
            .lines()
            .filter_map(|l| {
                l.strip_prefix("olcAttributeTypes: ")
                    .or_else(|| l.strip_prefix("olcObjectClasses: "))
            })
            .map(squash)
            .collect();
        from_schema.sort();
        from_ldif.sort();
        assert_eq!(from_schema.len(), 15);
        assert_eq!(from_schema, from_ldif);
    }

    #[test]
    fn user_entry_carries_the_ad_attributes() {
        let ldif = user_ldif(
            "CN=alice,CN=Users,DC=x",
            "alice@X",
            "alice",
            512,
            &["B:2:00:CN=alice,CN=Users,DC=x"],
        );
        assert!(ldif.contains("\ncn: alice\n"), "{ldif}");
        assert!(ldif.contains("objectClass: kdcAccount\n"), "{ldif}");
        assert!(ldif.ends_with("msDS-KeyCredentialLink: B:2:00:CN=alice,CN=Users,DC=x\n"));
    }
}
