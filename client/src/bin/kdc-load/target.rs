//! What a load run aims at: the KDC's address, its realm, the certificate its PKINIT replies
//! must be signed with (RFC 4556 §3.2.3), and the users with their certificates and keys,
//! from a development realm folder or from explicit options and a users file.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use kdc::signer::software::{SoftwareSigner, read_chain};
use kdc_config::Config;

use super::options::{RunArgs, TransportKind};

/// A user the generator logs in as.
pub struct LoadUser {
    pub name: String,
    pub signer: Arc<SoftwareSigner>,
}

pub struct Target {
    /// Every KDC requests go to (replicas of the realm); the set-up exchanges (freshness
    /// token, TGTs for the TGS phase) go to the first that answers.
    pub kdcs: Vec<SocketAddr>,
    pub realm: String,
    /// DER of the KDC certificate.
    pub kdc_certificate: Vec<u8>,
    pub users: Vec<LoadUser>,
}

/// One line of a users file.
#[derive(Debug, PartialEq, Eq)]
pub struct UserEntry {
    pub name: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The users file written by `kdc-load prepare`, inside the output folder.
pub const USERS_FILE: &str = "users.txt";
/// Where `prepare` puts its output inside a realm folder by default.
pub const LOAD_USERS_DIR: &str = "load-users";

pub fn resolve(args: &RunArgs) -> Result<Target> {
    let config = match &args.realm_dir {
        Some(dir) => Some(Config::load(&dir.join("kdc.toml"))?),
        None => None,
    };
    let realm = match (&args.realm, &config) {
        (Some(realm), _) => realm.clone(),
        (None, Some(config)) => config.realm.name.clone(),
        (None, None) => bail!("give --realm, or --realm-dir"),
    };
    let kdcs = match (args.kdc.as_slice(), &config) {
        ([_, ..], _) => args.kdc.clone(),
        ([], Some(config)) => {
            let listeners = match args.transport {
                TransportKind::Tcp => &config.listen.tcp,
                TransportKind::Udp => &config.listen.udp,
            };
            let first = listeners
                .first()
                .context("kdc.toml has no listener for this transport")?;
            vec![reachable(*first)]
        }
        ([], None) => bail!("give --kdc, or --realm-dir"),
    };
    let kdc_cert_path = match (&args.kdc_cert, &config) {
        (Some(path), _) => path.clone(),
        (None, Some(config)) => config
            .pkinit
            .certificate
            .clone()
            .context("kdc.toml names no [pkinit] certificate: give --kdc-cert")?,
        (None, None) => bail!("give --kdc-cert, or --realm-dir"),
    };
    let kdc_certificate = read_chain(&kdc_cert_path)?
        .into_iter()
        .next()
        .context("no KDC certificate")?;
    let entries = match (&args.users_file, &args.realm_dir) {
        (Some(file), _) => read_users_file(file)?,
        (None, Some(dir)) if dir.join(LOAD_USERS_DIR).join(USERS_FILE).is_file() => {
            read_users_file(&dir.join(LOAD_USERS_DIR).join(USERS_FILE))?
        }
        (None, Some(dir)) => vec![UserEntry {
            name: "alice".into(),
            cert: dir.join("alice.pem"),
            key: dir.join("alice.key"),
        }],
        (None, None) => bail!("give --users-file, or --realm-dir"),
    };
    let users = entries
        .into_iter()
        .map(|entry| {
            let signer = SoftwareSigner::load(&entry.key, &entry.cert)
                .with_context(|| format!("user {}", entry.name))?;
            Ok(LoadUser {
                name: entry.name,
                signer: Arc::new(signer),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if users.is_empty() {
        bail!("no users to log in as");
    }
    Ok(Target {
        kdcs,
        realm,
        kdc_certificate,
        users,
    })
}

/// A wildcard listener is reached on loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

pub fn read_users_file(path: &Path) -> Result<Vec<UserEntry>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse_users(&text, base).with_context(|| format!("{}", path.display()))
}

/// `user cert.pem key.pem` per line; `#` starts a comment; paths are relative to `base`.
pub fn parse_users(text: &str, base: &Path) -> Result<Vec<UserEntry>> {
    let mut users = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, cert, key] = fields.as_slice() else {
            bail!(
                "line {}: want `user cert.pem key.pem`, got {line:?}",
                number + 1
            );
        };
        users.push(UserEntry {
            name: (*name).to_owned(),
            cert: base.join(cert),
            key: base.join(key),
        });
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_file_lines() {
        let text = "# load users\nload1 c1.pem k1.key\n\n  load2\t/abs/c2.pem  k2.key # two\n";
        let users = parse_users(text, Path::new("/base")).unwrap();
        assert_eq!(
            users,
            vec![
                UserEntry {
                    name: "load1".into(),
                    cert: "/base/c1.pem".into(),
                    key: "/base/k1.key".into()
                },
                UserEntry {
                    name: "load2".into(),
                    cert: "/abs/c2.pem".into(),
                    key: "/base/k2.key".into()
                },
            ]
        );
        let err = parse_users("a b\n", Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn wildcard_listeners_mean_loopback() {
        let any: SocketAddr = "0.0.0.0:88".parse().unwrap();
        assert_eq!(reachable(any), "127.0.0.1:88".parse().unwrap());
        let any6: SocketAddr = "[::]:88".parse().unwrap();
        assert_eq!(reachable(any6), "[::1]:88".parse().unwrap());
        let some: SocketAddr = "10.0.0.1:750".parse().unwrap();
        assert_eq!(reachable(some), some);
    }
}
