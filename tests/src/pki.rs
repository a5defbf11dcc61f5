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
        openssl(
            &ca.dir,
            "root",
            Command::new("openssl")
                .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256"])
                .args(["-days", "30", "-subj", &format!("/CN={name}")])
                .arg("-config")
                .arg(&ext)
                .arg("-keyout")
                .arg(&ca.key)
                .arg("-out")
                .arg(&ca.cert),
        )?;
        Ok(ca)
    }

    /// An intermediate CA (pathLen 0) issued by this one.
    pub fn intermediate(&self, dir: &Path, name: &str, serial: u32) -> Result<Ca> {
        let ca = Ca::prepare(dir, name)?;
        let ext = format!("[ext]\n{CA_EXT}basicConstraints = critical, CA:TRUE, pathlen:0\n");
        let out = Identity {
            cert: ca.cert.clone(),
            key: ca.key.clone(),
        };
        self.sign(&ca.dir, name, &ext, serial, KeyType::Rsa2048, &out)?;
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
        openssl(
            dir,
            &format!("{name}-csr"),
            Command::new("openssl")
                .args(["req", "-new", "-nodes"])
                .args(key_type.newkey_args())
                .args(["-subj", &format!("/CN={name}")])
                .arg("-keyout")
                .arg(&out.key)
                .arg("-out")
                .arg(&csr),
        )?;
        openssl(
            dir,
            &format!("{name}-sign"),
            Command::new("openssl")
                .args(["x509", "-req", "-sha256", "-days", "20"])
                .args(["-set_serial", &serial.to_string(), "-extensions", "ext"])
                .arg("-in")
                .arg(&csr)
                .arg("-CA")
                .arg(&self.cert)
                .arg("-CAkey")
                .arg(&self.key)
                .arg("-extfile")
                .arg(&ext)
                .arg("-out")
                .arg(&out.cert),
        )
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
            openssl(
                dir,
                &format!("crossed-{cn}-key"),
                Command::new("openssl")
                    .args(["req", "-x509", "-nodes", "-days", "30"])
                    .args(KeyType::P256.newkey_args())
                    .args(["-subj", &format!("/CN={cn}")])
                    .arg("-keyout")
                    .arg(dir.join(format!("crossed-{cn}.key")))
                    .arg("-out")
                    .arg(dir.join(format!("crossed-{cn}.pem"))),
            )?;
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
