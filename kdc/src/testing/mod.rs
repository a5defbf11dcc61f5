//! Test fixtures of the unit tests, shared with the exchange tests (kdc/tests/exchanges, which
//! include this file): the wire captures of testdata/wire and test CAs (RFC 5280 certificates
//! made with rcgen). One self-contained file, so both crates can compile it.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// A real capture from testdata/wire (README and vectors.toml there).
pub fn wire(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../testdata/wire/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A test CA: its parameters (rcgen signs with them) and key.
pub struct Ca {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub pem: String,
}

impl Ca {
    pub fn root(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let params = ca_params(name, None);
        let pem = params.self_signed(&key).unwrap().pem();
        Ca { params, key, pem }
    }

    pub fn intermediate(&self, name: &str, path_len: Option<u8>) -> Ca {
        let key = KeyPair::generate().unwrap();
        let params = ca_params(name, path_len);
        let pem = params.signed_by(&key, &self.issuer()).unwrap().pem();
        Ca { params, key, pem }
    }

    pub fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::new(self.params.clone(), &self.key)
    }
}

pub fn ca_params(name: &str, path_len: Option<u8>) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = OffsetDateTime::now_utc() - Duration::days(10);
    params.not_after = OffsetDateTime::now_utc() + Duration::days(100);
    params
}

/// `count` CA certificates for two names that issue each other in turn (`x` by `y`, `y` by
/// `x`, ...), each with its own serial: a loop of names that path building must not follow.
/// Returns the CA named `x`, to issue a leaf under it, and the certificates as PEM.
pub fn crossed(x: &str, y: &str, count: usize) -> (Ca, Vec<String>) {
    let ca = |name: &str| {
        let key = KeyPair::generate().unwrap();
        let params = ca_params(name, None);
        let pem = params.self_signed(&key).unwrap().pem();
        Ca { params, key, pem }
    };
    let (ca_x, ca_y) = (ca(x), ca(y));
    let pems = (0..count)
        .map(|i| {
            let (subject, issuer) = if i % 2 == 0 {
                (&ca_x, &ca_y)
            } else {
                (&ca_y, &ca_x)
            };
            let mut params = subject.params.clone();
            params.serial_number = Some(SerialNumber::from(i as u64 + 1));
            params
                .signed_by(&subject.key, &issuer.issuer())
                .unwrap()
                .pem()
        })
        .collect();
    (ca_x, pems)
}
