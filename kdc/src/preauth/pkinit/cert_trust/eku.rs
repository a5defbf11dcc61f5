//! Extended key usage policy for client certificates (RFC 4556 §3.2.2: the KDC checks for
//! id-pkinit-KPClientAuth or another usage its policy accepts; MS-PKCA 3.1.5.2.1.1 adds
//! Smart Card Logon). A certificate with none of the configured usages, or none at all,
//! gets KDC_ERR_INCONSISTENT_KEY_PURPOSE.

use x509_parser::certificate::X509Certificate;

use crate::error::KdcError;

/// The dotted OIDs of the leaf's extendedKeyUsage, or None without the extension.
fn usages(cert: &X509Certificate<'_>) -> Result<Option<Vec<String>>, KdcError> {
    let Some(eku) = cert
        .extended_key_usage()
        .map_err(|e| KdcError::InvalidCertificate(format!("extendedKeyUsage unreadable: {e}")))?
    else {
        return Ok(None);
    };
    let eku = eku.value;
    let named = [
        (eku.any, "2.5.29.37.0"),
        (eku.server_auth, "1.3.6.1.5.5.7.3.1"),
        (eku.client_auth, "1.3.6.1.5.5.7.3.2"),
        (eku.code_signing, "1.3.6.1.5.5.7.3.3"),
        (eku.email_protection, "1.3.6.1.5.5.7.3.4"),
        (eku.time_stamping, "1.3.6.1.5.5.7.3.8"),
        (eku.ocsp_signing, "1.3.6.1.5.5.7.3.9"),
    ];
    let mut oids: Vec<String> = named
        .iter()
        .filter(|(present, _)| *present)
        .map(|(_, oid)| (*oid).to_owned())
        .collect();
    oids.extend(eku.other.iter().map(|oid| oid.to_id_string()));
    Ok(Some(oids))
}

/// Accepts the leaf if it names at least one of `allowed`.
pub fn check(cert: &X509Certificate<'_>, allowed: &[String]) -> Result<(), KdcError> {
    match usages(cert)? {
        Some(oids) if oids.iter().any(|oid| allowed.contains(oid)) => Ok(()),
        Some(oids) => Err(KdcError::InconsistentKeyPurpose(format!(
            "extendedKeyUsage {oids:?} has none of {allowed:?}"
        ))),
        None => Err(KdcError::InconsistentKeyPurpose(
            "no extendedKeyUsage extension".into(),
        )),
    }
}
