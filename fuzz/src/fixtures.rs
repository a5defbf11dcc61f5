//! What the targets check input against, fixed so that a crash replays the same way anywhere:
//! the clock, the trust store of a development realm (`fixtures/dev-realm`, its README says
//! how it was made) and a krbtgt key ring. Built once per process.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kdc::crypto::{Enctype, Key};
use kdc::keys::KeyRing;
use kdc::preauth::pkinit::cert_trust::crl::Crl;
use kdc::preauth::pkinit::cert_trust::store::{Named, TrustStore};
use x509_parser::prelude::{FromDer, X509Certificate};

/// 2026-12-10T00:00:00Z in Unix seconds: inside the validity of every fixture certificate
/// and CRL.
pub const NOW_UNIX: u64 = 1_796_860_800;

/// The targets' clock ([`NOW_UNIX`]).
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_UNIX)
}

/// The realm's krbtgt principal, as the key ring names it.
pub const KRBTGT: &str = "krbtgt/EXAMPLE.TEST";

/// The development realm's CA (the anchor), its issuing CA (in the intermediate pool), and
/// certificates under them: bob under the CA; carol and dave (revoked) under the issuing CA;
/// alice self-signed (key trust); the KDC's.
pub mod certificates {
    pub const CA: &[u8] = include_bytes!("../fixtures/dev-realm/ca.der");
    pub const ISSUING_CA: &[u8] = include_bytes!("../fixtures/dev-realm/inter.der");
    pub const BOB: &[u8] = include_bytes!("../fixtures/dev-realm/bob.der");
    pub const CAROL: &[u8] = include_bytes!("../fixtures/dev-realm/carol.der");
    pub const DAVE: &[u8] = include_bytes!("../fixtures/dev-realm/dave.der");
    pub const ALICE: &[u8] = include_bytes!("../fixtures/dev-realm/alice.der");
    pub const KDC: &[u8] = include_bytes!("../fixtures/dev-realm/kdc.der");
    /// The CA's CRL (empty) and the issuing CA's (dave's serial 0x2002, 0xff and one more).
    pub const CA_CRL: &[u8] = include_bytes!("../fixtures/dev-realm/ca.crl");
    pub const ISSUING_CA_CRL: &[u8] = include_bytes!("../fixtures/dev-realm/inter.crl");
}

/// The store `[pkinit.certificate_trust]` of the development realm reads, with the issuing
/// CA and its CRL added so that paths have an intermediate.
pub static TRUST_STORE: LazyLock<TrustStore> = LazyLock::new(|| TrustStore {
    anchors: vec![named(certificates::CA)],
    intermediates: vec![named(certificates::ISSUING_CA)],
    crls: [certificates::CA_CRL, certificates::ISSUING_CA_CRL]
        .into_iter()
        .map(|der| fixture(Crl::parse(der.to_vec())))
        .collect(),
});

/// The krbtgt keys: two kvnos with different enctypes (RFC 3962 and RFC 8009), so that
/// tokens and tickets reach both decryptions.
pub fn krbtgt_keys() -> Vec<(u32, Key)> {
    vec![
        (
            1,
            fixture(Key::new(Enctype::Aes256CtsHmacSha196, &[0x11; 32])),
        ),
        (
            2,
            fixture(Key::new(Enctype::Aes128CtsHmacSha256128, &[0x22; 16])),
        ),
    ]
}

/// [`krbtgt_keys`] as the KDC holds them.
pub static KRBTGT_KEYS: LazyLock<KeyRing> = LazyLock::new(|| KeyRing::of(KRBTGT, krbtgt_keys()));

/// A parsed fixture certificate (for the CRL issuer checks).
pub fn certificate(der: &'static [u8]) -> X509Certificate<'static> {
    fixture(X509Certificate::from_der(der).map(|(_, cert)| cert))
}

fn named(der: &'static [u8]) -> Named {
    let cert = certificate(der);
    Named {
        der: der.to_vec(),
        name: cert.subject().as_raw().to_vec(),
        issuer: cert.issuer().as_raw().to_vec(),
        source: "fixtures/dev-realm".into(),
    }
}

/// Fixtures are checked in and known good; one that does not load is a broken checkout.
fn fixture<T, E: std::fmt::Debug>(loaded: Result<T, E>) -> T {
    match loaded {
        Ok(value) => value,
        Err(error) => panic!("fuzz fixture does not load: {error:?}"),
    }
}
