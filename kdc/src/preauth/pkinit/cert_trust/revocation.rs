//! Revocation by CRLs (RFC 5280 §6.3, §5): every certificate of the path below the anchor
//! is looked up in a CRL of its issuer, whose signature must verify with the issuer's key.
//! Listed: KDC_ERR_REVOKED_CERTIFICATE. No CRL, or one past its nextUpdate: per policy,
//! KDC_ERR_REVOCATION_STATUS_UNKNOWN or a warning (RFC 4556 §3.1.3 codes). Delta CRLs and
//! issuingDistributionPoint scopes other than onlyContainsUserCerts are not supported: such
//! a CRL is skipped, so its CA counts as having no CRL.

use kdc_config::RevocationPolicy;
use x509_parser::certificate::X509Certificate;
use x509_parser::time::ASN1Time;

use super::crl::{Crl, Scope};
use super::store::TrustStore;
use crate::error::KdcError;
use crate::proto::der;

/// What to do without a current CRL.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub missing_crl: RevocationPolicy,
    pub stale_crl: RevocationPolicy,
}

/// Checks `cert` (issued by `issuer`) against the CRLs in `store`.
pub fn check(
    cert: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    store: &TrustStore,
    policy: Policy,
    now: ASN1Time,
) -> Result<(), KdcError> {
    let ca_certificate = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
    let Some(crl) = newest_crl(issuer, ca_certificate, store) else {
        return unknown(policy.missing_crl, missing(issuer, store));
    };
    if let Some(date) = crl.revocation_date(cert.raw_serial()) {
        return Err(KdcError::RevokedCertificate(format!(
            "{} serial {} revoked on {} by the CRL of {}",
            cert.subject(),
            hex::encode(der::unsigned_integer_bytes(cert.raw_serial())),
            date,
            issuer.subject()
        )));
    }
    match crl.next_update {
        Some(next) if next >= now => Ok(()),
        next => unknown(
            policy.stale_crl,
            format!(
                "the CRL of {} is stale (nextUpdate {})",
                issuer.subject(),
                next.map_or_else(|| "absent".to_owned(), |t| t.to_string())
            ),
        ),
    }
}

fn unknown(policy: RevocationPolicy, reason: String) -> Result<(), KdcError> {
    match policy {
        RevocationPolicy::FailClosed => Err(KdcError::RevocationStatusUnknown(reason)),
        RevocationPolicy::Allow => {
            tracing::warn!(%reason, "revocation status unknown; allowed by configuration");
            Ok(())
        }
    }
}

/// Why no CRL of `issuer` could be used, for the log.
fn missing(issuer: &X509Certificate<'_>, store: &TrustStore) -> String {
    let scoped: Vec<&str> = store
        .crls
        .iter()
        .filter(|crl| crl.issuer == issuer.subject().as_raw())
        .filter_map(|crl| match &crl.scope {
            Scope::Unsupported(what) => Some(what.as_str()),
            _ => None,
        })
        .collect();
    if scoped.is_empty() {
        format!("no CRL of {} is configured", issuer.subject())
    } else {
        format!(
            "no complete CRL of {}: its CRLs are limited by an issuingDistributionPoint this \
             KDC does not implement ({})",
            issuer.subject(),
            scoped.join("; ")
        )
    }
}

/// The issuer's CRL covering a certificate of this kind with the latest thisUpdate among
/// those whose signature verifies with the issuer's key (a CRL signed by anyone else
/// proves nothing).
fn newest_crl<'s>(
    issuer: &X509Certificate<'_>,
    ca_certificate: bool,
    store: &'s TrustStore,
) -> Option<&'s Crl> {
    if let Ok(Some(usage)) = issuer.key_usage()
        && !usage.value.crl_sign()
    {
        return None;
    }
    store
        .crls
        .iter()
        .filter(|crl| crl.issuer == issuer.subject().as_raw() && !crl.is_delta)
        .filter(|crl| crl.covers(ca_certificate))
        .filter(|crl| crl.is_signed_by(issuer))
        .max_by_key(|crl| crl.this_update.timestamp())
}
