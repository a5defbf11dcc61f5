//! A small enterprise PKI made with the openssl command line, for certificate-trust tests
//! (RFC 4556 §3.2.2 client certificates, RFC 5280 CRLs): a root, optional intermediates,
//! client certificates with id-pkinit-san and MS UPN otherNames (MIT's documented openssl
//! recipe), chosen EKUs and the KB5014754 SID extension, and CRLs made by `openssl ca`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::mit::Identity;
use crate::process::run_with_timeout;

const OPENSSL_TIMEOUT: Duration = Duration::from_secs(60);

/// A CA: certificate, key and the `openssl ca` database that makes its CRLs.
#[derive(Clone, Debug)]
pub struct Ca {
    pub name: String,
    pub cert: PathBuf,
    pub key: PathBuf,
    dir: PathBuf,
}

/// What a client certificate carries.
#[derive(Clone, Debug)]
pub struct ClientCert {
    /// Users named by id-pkinit-san and MS UPN (`user@realm`), if any.
    pub names: Option<(String, String)>,
    /// extendedKeyUsage value for openssl, e.g. `1.3.6.1.5.2.3.4, clientAuth`.
    pub eku: String,
    /// SID for the 1.3.6.1.4.1.311.25.2 extension.
    pub sid: Option<String>,
    pub serial: u32,
}

/// The key pair of a certificate the PKI makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    Rsa2048,
    P256,
}

impl KeyType {
    fn newkey_args(self) -> &'static [&'static str] {
        match self {
            KeyType::Rsa2048 => &["-newkey", "rsa:2048"],
            KeyType::P256 => &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        }
    }
}

fn openssl(dir: &Path, tag: &str, args: &mut Command) -> Result<()> {
    run_with_timeout(args, dir, tag, OPENSSL_TIMEOUT)?
        .ok()
        .map(|_| ())
        .with_context(|| format!("openssl {tag}"))
}

/// `openssl req -x509`: a fresh `key` and a self-signed SHA-256 certificate for `/CN=cn`,
/// valid for `days`, written to `out`. `args` go to openssl as they are: `-addext LINE` adds
/// to openssl's default extensions, `-config FILE` gives exactly the extensions of a file.
pub fn self_signed(
    dir: &Path,
    cn: &str,
    key: KeyType,
    days: u32,
    args: &[&str],
    out: &Identity,
) -> Result<()> {
    openssl(
        dir,
        &format!("{cn}-self-signed"),
        Command::new("openssl")
            .args(["req", "-x509", "-nodes", "-sha256"])
            .args(key.newkey_args())
            .args(["-days", &days.to_string(), "-subj", &format!("/CN={cn}")])
            .args(args)
            .arg("-keyout")
            .arg(&out.key)
            .arg("-out")
            .arg(&out.cert),
    )
}

/// `openssl req -new`: a fresh `key` (to `key_out`) and a certificate request for `/CN=cn`.
pub fn request(dir: &Path, cn: &str, key: KeyType, key_out: &Path, csr: &Path) -> Result<()> {
    openssl(
        dir,
        &format!("{cn}-csr"),
        Command::new("openssl")
            .args(["req", "-new", "-nodes"])
            .args(key.newkey_args())
            .args(["-subj", &format!("/CN={cn}")])
            .arg("-keyout")
            .arg(key_out)
            .arg("-out")
            .arg(csr),
    )
}

/// How an issuer signs a request with `openssl x509 -req` (SHA-256).
pub struct Signing<'a> {
    /// The issuing CA's certificate and key.
    pub issuer: &'a Identity,
    /// `-set_serial` (decimal, or hex with `0x`).
    pub serial: String,
    pub days: u32,
    /// The x509v3_config file of the extensions, and its section (None: the file's top lines).
    pub extfile: &'a Path,
    pub section: Option<&'a str>,
}

/// `issuer` signs the request `csr` into the certificate `out` (see [`Signing`]).
pub fn sign(dir: &Path, tag: &str, csr: &Path, signing: &Signing<'_>, out: &Path) -> Result<()> {
    let mut cmd = Command::new("openssl");
    cmd.args(["x509", "-req", "-sha256"])
        .args(["-days", &signing.days.to_string()])
        .args(["-set_serial", &signing.serial])
        .arg("-in")
        .arg(csr)
        .arg("-CA")
        .arg(&signing.issuer.cert)
        .arg("-CAkey")
        .arg(&signing.issuer.key)
        .arg("-extfile")
        .arg(signing.extfile);
    if let Some(section) = signing.section {
        cmd.args(["-extensions", section]);
    }
    openssl(dir, &format!("{tag}-sign"), cmd.arg("-out").arg(out))
}

const CA_EXT: &str = "basicConstraints = critical, CA:TRUE\n\
                      keyUsage = critical, keyCertSign, cRLSign\n\
                      subjectKeyIdentifier = hash\n";

impl Ca {
    /// A self-signed root CA in `dir/NAME/`.
    pub fn root(dir: &Path, name: &str) -> Result<Ca> {
        let ca = Ca::prepare(dir, name)?;
        let ext = ca.dir.join("self.ext");
        std::fs::write(
            &ext,
            format!("[req]\ndistinguished_name = dn\nx509_extensions = v3\n[dn]\n[v3]\n{CA_EXT}"),
        )?;
        let config = ext.to_str().context("path is not UTF-8")?;
        self_signed(
            &ca.dir,
            name,
            KeyType::Rsa2048,
            30,
            &["-config", config],
            &ca.identity(),
        )?;
        Ok(ca)
    }

    /// An intermediate CA (pathLen 0) issued by this one.
    pub fn intermediate(&self, dir: &Path, name: &str, serial: u32) -> Result<Ca> {
        let ca = Ca::prepare(dir, name)?;
        let ext = format!("[ext]\n{CA_EXT}basicConstraints = critical, CA:TRUE, pathlen:0\n");
        self.sign(
            &ca.dir,
            name,
            &ext,
            serial,
            KeyType::Rsa2048,
            &ca.identity(),
        )?;
        Ok(ca)
    }

    fn prepare(dir: &Path, name: &str) -> Result<Ca> {
        let ca_dir = dir.join(name);
        std::fs::create_dir_all(&ca_dir)?;
        std::fs::write(ca_dir.join("index.txt"), "")?;
        std::fs::write(ca_dir.join("crlnumber"), "01\n")?;
        Ok(Ca {
            name: name.to_owned(),
            cert: ca_dir.join("ca.pem"),
            key: ca_dir.join("ca.key"),
            dir: ca_dir,
        })
    }

    fn identity(&self) -> Identity {
        Identity {
            cert: self.cert.clone(),
            key: self.key.clone(),
        }
    }

    /// A new key and a certificate for it signed by this CA with the `[ext]` section of
    /// `ext_config` (openssl x509v3_config syntax).
    fn sign(
        &self,
        dir: &Path,
        name: &str,
        ext_config: &str,
        serial: u32,
        key_type: KeyType,
        out: &Identity,
    ) -> Result<()> {
        let csr = dir.join(format!("{name}.csr"));
        let ext = dir.join(format!("{name}.ext"));
        std::fs::write(&ext, ext_config)?;
        request(dir, name, key_type, &out.key, &csr)?;
        let signing = Signing {
            issuer: &self.identity(),
            serial: serial.to_string(),
            days: 20,
            extfile: &ext,
            section: Some("ext"),
        };
        sign(dir, name, &csr, &signing, &out.cert)
    }

    /// A client certificate `DIR/NAME.pem` + `DIR/NAME.key` (RSA-2048) issued by this CA.
    pub fn issue(&self, dir: &Path, name: &str, spec: &ClientCert) -> Result<Identity> {
        self.issue_with_key(dir, name, spec, KeyType::Rsa2048)
    }

    /// The same with a chosen key type (smart cards carry P-256 keys too).
    pub fn issue_with_key(
        &self,
        dir: &Path,
        name: &str,
        spec: &ClientCert,
        key: KeyType,
    ) -> Result<Identity> {
        let mut ext = format!(
            "[ext]\nbasicConstraints = critical, CA:FALSE\n\
             keyUsage = critical, digitalSignature\nextendedKeyUsage = {}\n\
             subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n",
            spec.eku
        );
        if let Some(sid) = &spec.sid {
            ext.push_str(&format!(
                "1.3.6.1.4.1.311.25.2 = DER:{}\n",
                sid_extension_hex(sid)
            ));
        }
        if let Some((user, realm)) = &spec.names {
            ext.push_str(&format!(
                "subjectAltName = otherName:1.3.6.1.5.2.2;SEQUENCE:princ_name, \
                 otherName:1.3.6.1.4.1.311.20.2.3;UTF8:{user}@{realm}\n\
                 [princ_name]\nrealm = EXP:0, GeneralString:{realm}\n\
                 principal_name = EXP:1, SEQUENCE:principal_seq\n\
                 [principal_seq]\nname_type = EXP:0, INTEGER:1\n\
                 name_string = EXP:1, SEQUENCE:principals\n\
                 [principals]\nprinc1 = GeneralString:{user}\n"
            ));
        }
        let identity = Identity {
            cert: dir.join(format!("{name}.pem")),
            key: dir.join(format!("{name}.key")),
        };
        self.sign(dir, name, &ext, spec.serial, key, &identity)?;
        Ok(identity)
    }

    /// Writes this CA's CRL to `out`, listing `revoked` (certificates it issued).
    pub fn crl(&self, revoked: &[&Path], out: &Path) -> Result<()> {
        let config = self.dir.join("ca.cnf");
        std::fs::write(
            &config,
            format!(
                "[ca]\ndefault_ca = this\n[this]\ndatabase = {d}/index.txt\n\
                 crlnumber = {d}/crlnumber\ncertificate = {cert}\nprivate_key = {key}\n\
                 default_md = sha256\ndefault_crl_days = 7\n",
                d = self.dir.display(),
                cert = self.cert.display(),
                key = self.key.display()
            ),
        )?;
        for cert in revoked {
            openssl(
                &self.dir,
                "revoke",
                Command::new("openssl")
                    .args(["ca", "-config"])
                    .arg(&config)
                    .arg("-revoke")
                    .arg(cert),
            )?;
        }
        openssl(
            &self.dir,
            "gencrl",
            Command::new("openssl")
                .args(["ca", "-config"])
                .arg(&config)
                .arg("-gencrl")
                .arg("-out")
                .arg(out),
        )
    }
}

/// DER of the KB5014754 SID extension value: SEQUENCE { [0] { OID 1.3.6.1.4.1.311.25.2.1,
/// [0] { OCTET STRING sid } } }, as hex for openssl's `DER:` form.
pub fn sid_extension_hex(sid: &str) -> String {
    fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
        // Short lengths only: a SID string is far below 128 bytes.
        let mut out = vec![tag, u8::try_from(value.len()).unwrap_or(0x7f)];
        out.extend_from_slice(value);
        out
    }
    let octets = tlv(0x04, sid.as_bytes());
    let mut other = vec![
        0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x19, 0x02, 0x01,
    ];
    other.extend(tlv(0xa0, &octets));
    let sequence = tlv(0x30, &tlv(0xa0, &other));
    sequence.iter().map(|b| format!("{b:02X}")).collect()
}

/// `count` P-256 CA certificates (DER) for the names `/CN=X` and `/CN=Y` issuing each other
/// in turn (X by Y, Y by X, ...), each with its own serial: a loop of names that path
/// building must not follow (RFC 4158). openssl makes one of each; the others are copies
/// with another serial number, whose signatures no longer verify, which path building by
/// names does not look at.
pub fn crossed_certificates(dir: &Path, x: &str, y: &str, count: usize) -> Result<Vec<Vec<u8>>> {
    let one = |subject: &str, issuer: &str| -> Result<Vec<u8>> {
        for cn in [subject, issuer] {
            let out = Identity {
                cert: dir.join(format!("crossed-{cn}.pem")),
                key: dir.join(format!("crossed-{cn}.key")),
            };
            self_signed(dir, cn, KeyType::P256, 30, &[], &out)?;
        }
        let out = dir.join(format!("crossed-{subject}-by-{issuer}.der"));
        openssl(
            dir,
            &format!("crossed-{subject}-by-{issuer}"),
            Command::new("openssl")
                .args(["x509", "-days", "30", "-set_serial", "0x1000000000000001"])
                .arg("-in")
                .arg(dir.join(format!("crossed-{subject}.pem")))
                .arg("-CA")
                .arg(dir.join(format!("crossed-{issuer}.pem")))
                .arg("-CAkey")
                .arg(dir.join(format!("crossed-{issuer}.key")))
                .args(["-outform", "DER", "-out"])
                .arg(&out),
        )?;
        Ok(std::fs::read(&out)?)
    };
    let pair = [one(x, y)?, one(y, x)?];
    (0..count)
        .map(|i| {
            let mut der = pair.get(i % 2).context("two certificates")?.clone();
            let serial = serial_range(&der)?;
            let counter = u16::try_from(i).context("too many crossed certificates")?;
            let low = serial.end.checked_sub(2).context("short serial")?;
            der.get_mut(low..serial.end)
                .context("serial out of range")?
                .copy_from_slice(&counter.to_be_bytes());
            Ok(der)
        })
        .collect()
}

/// Where a certificate's serialNumber INTEGER content lies (TBSCertificate: [0] version,
/// then the serial).
fn serial_range(der: &[u8]) -> Result<std::ops::Range<usize>> {
    let tbs = crate::der::parse(der)?.child(der, 0x30)?;
    let serial = tbs.child(der, 0x02)?;
    Ok(serial.content_start()..serial.end())
}
