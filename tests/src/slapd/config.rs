//! The server's configuration files: slapd.conf with deploy/ldap/kdc.schema, or a cn=config
//! tree built by slapadd from deploy/ldap/kdc.ldif, plus the test CA and server certificate
//! for LDAPS and StartTLS (RFC 4513 §3), made with openssl.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use anyhow::bail;

use super::{ROOT_PASSWORD, Replication, SLAPADD, Slapd, TOOL_TIMEOUT, repo_root};
use crate::mit::Identity;
use crate::pki::{self, KeyType, Signing};
use crate::process::run_with_timeout;

/// Active Directory constructs tokenGroups (MS-ADTS 3.1.1.4.5.19) for a base-scope read;
/// slapd cannot, so with slapd.conf a stored attribute of the same name and OID stands in
/// for it, in an auxiliary class tests add to a user with the values AD would compute. Not
/// part of deploy/ldap: no OpenLDAP deployment would keep it up to date.
const TOKEN_GROUPS_STAND_IN: &str = "\
attributetype ( 1.2.840.113556.1.4.1301 NAME 'tokenGroups' \
DESC 'test stand-in for AD constructed attribute' EQUALITY octetStringMatch \
SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 )
objectclass ( 2.25.131531276759230707847553194974726917380.9.1 NAME 'kdcTestTokenGroups' \
DESC 'test only: holds the tokenGroups stand-in' SUP top AUXILIARY MAY tokenGroups )
";

impl Slapd {
    pub(super) fn make_certificates(&self) -> Result<()> {
        let dir = self.tmp.path();
        let ca = Identity {
            cert: self.path("ca.pem"),
            key: self.path("ca.key"),
        };
        let ca_extensions = [
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ];
        pki::self_signed(
            dir,
            "kdc test LDAP CA",
            KeyType::Rsa2048,
            2,
            &ca_extensions,
            &ca,
        )?;
        let ext = self.path("server.ext");
        std::fs::write(
            &ext,
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )?;
        let csr = self.path("server.csr");
        pki::request(
            dir,
            "localhost",
            KeyType::Rsa2048,
            &self.path("server.key"),
            &csr,
        )?;
        let signing = Signing {
            issuer: &ca,
            serial: "2".into(),
            days: 2,
            extfile: &ext,
            section: None,
        };
        pki::sign(dir, "server", &csr, &signing, &self.path("server.pem"))
            .context("openssl could not make the LDAP test certificates")
    }

    fn acl_lines(&self) -> [String; 2] {
        [
            "to attrs=userPassword by self write by anonymous auth by * none".to_owned(),
            format!(
                "to * by dn.exact=\"{}\" write by * none",
                self.kdc_bind_dn()
            ),
        ]
    }

    fn tls_files(&self) -> [(&'static str, PathBuf); 3] {
        [
            ("CACertificateFile", self.path("ca.pem")),
            ("CertificateFile", self.path("server.pem")),
            ("CertificateKeyFile", self.path("server.key")),
        ]
    }

    pub(super) fn slapd_conf(&self) -> String {
        let schema = repo_root().join("deploy/ldap/kdc.schema");
        let mut text = String::new();
        for base in ["core", "cosine", "inetorgperson"] {
            text.push_str(&format!("include /etc/ldap/schema/{base}.schema\n"));
        }
        text.push_str(&format!("include {}\n", schema.display()));
        text.push_str(TOKEN_GROUPS_STAND_IN);
        text.push_str(&format!("pidfile {}\n", self.path("slapd.pid").display()));
        text.push_str("modulepath /usr/lib/ldap\nmoduleload back_mdb\n");
        if self.options.tls {
            for (name, file) in self.tls_files() {
                text.push_str(&format!("TLS{name} {}\n", file.display()));
            }
        }
        text.push_str(&format!(
            "database mdb\nmaxsize 104857600\nsuffix \"{}\"\nrootdn \"{}\"\nrootpw {ROOT_PASSWORD}\ndirectory {}\n",
            self.options.suffix,
            self.root_dn(),
            self.path("db").display()
        ));
        for acl in self.acl_lines() {
            text.push_str(&format!("access {acl}\n"));
        }
        text
    }

    /// deploy/ldap/multi-provider.conf.example as it is, with this test's host names (loopback
    /// ports), paths and password in place of the example's.
    pub(super) fn replicated_conf(&self, replication: &Replication) -> Result<String> {
        let example = repo_root().join("deploy/ldap/multi-provider.conf.example");
        let mut text = std::fs::read_to_string(&example)
            .with_context(|| format!("reading {}", example.display()))?;
        if self.options.suffix != "DC=example,DC=test" || self.options.tls || self.options.cn_config
        {
            bail!("the multi-provider example serves DC=example,DC=test over plain LDAP only");
        }
        let schema = repo_root().join("deploy/ldap/kdc.schema").canonicalize()?;
        for (from, to) in [
            ("/etc/ldap/schema/kdc.schema", schema.display().to_string()),
            (
                "/run/slapd/slapd.pid",
                self.path("slapd.pid").display().to_string(),
            ),
            ("/var/lib/ldap", self.path("db").display().to_string()),
            ("admin-secret", ROOT_PASSWORD.to_owned()),
        ] {
            if !text.contains(from) {
                bail!("{} no longer has {from:?}", example.display());
            }
            text = text.replace(from, &to);
        }
        for (i, port) in replication.ports.iter().enumerate() {
            let host = format!("ldap://ldap{}.example.test/", i + 1);
            if !text.contains(&host) {
                bail!("{} no longer names {host}", example.display());
            }
            text = text.replace(&host, &format!("ldap://127.0.0.1:{port}/"));
        }
        Ok(text)
    }

    /// A cn=config tree made by slapadd from LDIF, loading the schema from kdc.ldif.
    pub(super) fn write_cn_config(&self) -> Result<()> {
        let mut ldif = format!(
            "dn: cn=config\nobjectClass: olcGlobal\ncn: config\nolcPidFile: {}\n",
            self.path("slapd.pid").display()
        );
        if self.options.tls {
            for (name, file) in self.tls_files() {
                ldif.push_str(&format!("olcTLS{name}: {}\n", file.display()));
            }
        }
        ldif.push_str(
            "\ndn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\n\
             olcModulePath: /usr/lib/ldap\nolcModuleLoad: back_mdb\n\n\
             dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n",
        );
        for base in ["core", "cosine", "inetorgperson"] {
            ldif.push_str(&format!("include: file:///etc/ldap/schema/{base}.ldif\n\n"));
        }
        let schema = repo_root().join("deploy/ldap/kdc.ldif").canonicalize()?;
        ldif.push_str(&format!("include: file://{}\n\n", schema.display()));
        ldif.push_str(&format!(
            "dn: olcDatabase={{1}}mdb,cn=config\nobjectClass: olcDatabaseConfig\n\
             objectClass: olcMdbConfig\nolcDatabase: {{1}}mdb\nolcSuffix: {}\nolcRootDN: {}\n\
             olcRootPW: {ROOT_PASSWORD}\nolcDbDirectory: {}\nolcDbMaxSize: 104857600\n",
            self.options.suffix,
            self.root_dn(),
            self.path("db").display()
        ));
        for (i, acl) in self.acl_lines().iter().enumerate() {
            ldif.push_str(&format!("olcAccess: {{{i}}}{acl}\n"));
        }
        std::fs::write(self.path("config.ldif"), ldif)?;
        std::fs::create_dir(self.path("slapd.d"))?;
        let mut cmd = Command::new(SLAPADD);
        cmd.arg("-n0")
            .arg("-F")
            .arg(self.path("slapd.d"))
            .arg("-l")
            .arg(self.path("config.ldif"));
        run_with_timeout(&mut cmd, self.tmp.path(), "slapadd-config", TOOL_TIMEOUT)?
            .ok()
            .context("slapadd -n0 could not build cn=config")?;
        Ok(())
    }
}
