//! Certification path validation (RFC 5280 §6.1) for a PKINIT client certificate (RFC 4556
//! §3.2.2), on the name paths that `path_search` found; per link the signature, the
//! validity period (exactly, as domain controllers do: no clock-skew allowance),
//! basicConstraints cA and pathLenConstraint, keyUsage keyCertSign on CAs and
//! digitalSignature on the leaf, and no unrecognised critical extension (§6.1.3, §6.1.4).
//!
//! Codes (RFC 4556 §3.2.2 and §3.1.3): no path of names to an anchor is
//! KDC_ERR_CANT_VERIFY_CERTIFICATE; a path that reaches an anchor but fails a check is
//! KDC_ERR_INVALID_CERTIFICATE, the code RFC 4556 names for an invalid signature on a
//! certificate of the path and the only one it has for a defective certificate, so an
//! expired or not yet valid certificate gets it too (as a DC answers for an expired smart
//! card certificate).

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;
use x509_parser::time::ASN1Time;

pub use super::path_search::Path;
use crate::error::KdcError;

/// Validates the name paths in turn; the first that passes every check is returned, its
/// certificates parsed (leaf first), else the first path's failure.
pub fn validate<'a>(
    paths: &[Path<'a>],
    now: ASN1Time,
) -> Result<Vec<X509Certificate<'a>>, KdcError> {
    let mut first_error = None;
    for path in paths {
        match validate_path(path, now) {
            Ok(certs) => return Ok(certs),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error
        .unwrap_or_else(|| KdcError::CantVerifyCertificate("no path to a trust anchor".into())))
}

fn validate_path<'a>(
    path: &[&'a [u8]],
    now: ASN1Time,
) -> Result<Vec<X509Certificate<'a>>, KdcError> {
    let certs = path
        .iter()
        .map(|der| parse(der))
        .collect::<Result<Vec<_>, _>>()?;
    let invalid = |cert: &X509Certificate<'_>, what: &str| {
        KdcError::InvalidCertificate(format!("{}: {what}", cert.subject()))
    };
    let last = certs.len().saturating_sub(1);
    for (index, pair) in certs.windows(2).enumerate() {
        let [cert, issuer] = pair else { continue };
        cert.verify_signature(Some(issuer.public_key()))
            .map_err(|e| {
                invalid(
                    cert,
                    &format!("signature by {} refused: {e}", issuer.subject()),
                )
            })?;
        if index > 0 {
            check_ca(cert, index - 1, false).map_err(|what| invalid(cert, &what))?;
        }
    }
    for (index, cert) in certs.iter().enumerate() {
        let validity = cert.validity();
        if now < validity.not_before {
            return Err(invalid(
                cert,
                &format!("not valid before {}", validity.not_before),
            ));
        }
        if now > validity.not_after {
            return Err(invalid(cert, &format!("expired at {}", validity.not_after)));
        }
        if index < last {
            unknown_critical_extension(cert).map_err(|what| invalid(cert, &what))?;
        }
    }
    if let Some(anchor) = certs.last().filter(|_| last > 0) {
        check_ca(anchor, last - 1, true).map_err(|what| invalid(anchor, &what))?;
    }
    let leaf = certs
        .first()
        .ok_or_else(|| KdcError::CantVerifyCertificate("empty path".into()))?;
    match leaf.key_usage() {
        Ok(Some(usage)) if !usage.value.digital_signature() => {
            return Err(invalid(leaf, "keyUsage lacks digitalSignature"));
        }
        Ok(_) => {}
        Err(e) => return Err(invalid(leaf, &format!("keyUsage unreadable: {e}"))),
    }
    Ok(certs)
}

/// A CA certificate with `below` intermediate CAs between it and the leaf (RFC 5280
/// §6.1.4 (k), (l), (m), (n)). An anchor may lack basicConstraints (v1 roots).
fn check_ca(cert: &X509Certificate<'_>, below: usize, anchor: bool) -> Result<(), String> {
    match cert.basic_constraints() {
        Ok(Some(bc)) if !bc.value.ca => return Err("basicConstraints cA is false".into()),
        Ok(Some(bc)) => {
            if let Some(limit) = bc.value.path_len_constraint
                && below > limit as usize
            {
                return Err(format!(
                    "pathLenConstraint {limit} exceeded by {below} CAs below"
                ));
            }
        }
        Ok(None) if anchor => {}
        Ok(None) => return Err("not a CA: no basicConstraints".into()),
        Err(e) => return Err(format!("basicConstraints unreadable: {e}")),
    }
    match cert.key_usage() {
        Ok(Some(usage)) if !usage.value.key_cert_sign() => Err("keyUsage lacks keyCertSign".into()),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("keyUsage unreadable: {e}")),
    }
}

/// RFC 5280 §6.1.3: a critical extension this code does not process fails the path.
/// nameConstraints is parsed by x509-parser but not enforced here, so it counts as unknown.
fn unknown_critical_extension(cert: &X509Certificate<'_>) -> Result<(), String> {
    let unknown = cert.extensions().iter().find(|ext| {
        ext.critical
            && matches!(
                ext.parsed_extension(),
                ParsedExtension::UnsupportedExtension { .. }
                    | ParsedExtension::ParseError { .. }
                    | ParsedExtension::NameConstraints(_)
                    | ParsedExtension::PolicyConstraints(_)
                    | ParsedExtension::InhibitAnyPolicy(_)
                    | ParsedExtension::PolicyMappings(_)
            )
    });
    match unknown {
        Some(ext) => Err(format!("unsupported critical extension {}", ext.oid)),
        None => Ok(()),
    }
}

pub fn parse(der: &[u8]) -> Result<X509Certificate<'_>, KdcError> {
    X509Certificate::from_der(der)
        .map(|(_, cert)| cert)
        .map_err(|e| KdcError::InvalidCertificate(format!("certificate unparsable: {e}")))
}
