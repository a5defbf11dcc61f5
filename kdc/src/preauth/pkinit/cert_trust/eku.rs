//! Extended key usage policy for client certificates (RFC 4556 §3.2.2: the KDC checks for
//! id-pkinit-KPClientAuth or another usage its policy accepts; MS-PKCA 3.1.5.2.1.1 adds
//! Smart Card Logon). A certificate with none of the configured usages, or none at all,
//! gets KDC_ERR_INCONSISTENT_KEY_PURPOSE. The configured OIDs are parsed once, so a request
//! costs byte comparisons.

use std::str::FromStr;

use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::oid::Oid;
use x509_parser::extensions::ExtendedKeyUsage;

use crate::error::KdcError;

/// The usages x509-parser reads into flags instead of leaving them among `other`
/// (RFC 5280 §4.2.1.12), by their dotted OIDs.
const NAMED: [&str; 7] = [
    "2.5.29.37.0",
    "1.3.6.1.5.5.7.3.1",
    "1.3.6.1.5.5.7.3.2",
    "1.3.6.1.5.5.7.3.3",
    "1.3.6.1.5.5.7.3.4",
    "1.3.6.1.5.5.7.3.8",
    "1.3.6.1.5.5.7.3.9",
];

fn named_flags(eku: &ExtendedKeyUsage<'_>) -> [bool; 7] {
    [
        eku.any,
        eku.server_auth,
        eku.client_auth,
        eku.code_signing,
        eku.email_protection,
        eku.time_stamping,
        eku.ocsp_signing,
    ]
}

/// The usages the realm accepts, as `pkinit.certificate_trust.ekus` lists them.
#[derive(Debug)]
pub struct EkuPolicy {
    /// Which of [`NAMED`] are accepted.
    named: [bool; 7],
    other: Vec<Oid<'static>>,
    /// The configured list as written, for messages.
    configured: Vec<String>,
}

impl EkuPolicy {
    pub fn new(configured: &[String]) -> Result<EkuPolicy, String> {
        let named = NAMED.map(|oid| configured.iter().any(|c| c == oid));
        let other = configured
            .iter()
            .filter(|c| !NAMED.contains(&c.as_str()))
            .map(|c| Oid::from_str(c).map_err(|e| format!("{c:?} is not an OID: {e:?}")))
            .collect::<Result<_, _>>()?;
        Ok(EkuPolicy {
            named,
            other,
            configured: configured.to_vec(),
        })
    }

    /// Accepts the leaf if it names at least one accepted usage.
    pub fn check(&self, cert: &X509Certificate<'_>) -> Result<(), KdcError> {
        let Some(eku) = cert.extended_key_usage().map_err(|e| {
            KdcError::InvalidCertificate(format!("extendedKeyUsage unreadable: {e}"))
        })?
        else {
            return Err(KdcError::InconsistentKeyPurpose(
                "no extendedKeyUsage extension".into(),
            ));
        };
        let eku = eku.value;
        let flags = named_flags(eku);
        let named_match = flags
            .iter()
            .zip(self.named)
            .any(|(has, wanted)| *has && wanted);
        if named_match || eku.other.iter().any(|oid| self.other.contains(oid)) {
            return Ok(());
        }
        let present: Vec<String> = NAMED
            .iter()
            .zip(flags)
            .filter(|(_, has)| *has)
            .map(|(oid, _)| (*oid).to_owned())
            .chain(eku.other.iter().map(|oid| oid.to_id_string()))
            .collect();
        Err(KdcError::InconsistentKeyPurpose(format!(
            "extendedKeyUsage {present:?} has none of {:?}",
            self.configured
        )))
    }
}
