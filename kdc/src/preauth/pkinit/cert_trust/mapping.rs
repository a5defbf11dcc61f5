//! Mapping a validated client certificate to exactly one user (MS-PKCA 3.1.5.2.1.1-3,
//! KB5014754): every id-pkinit-san and UPN name in it must name the requested user, and in
//! `full` mode the binding must be strong, by the SID extension equal to the user's
//! objectSid or by a strong altSecurityIdentities value of the user. All refusals are
//! KDC_ERR_CLIENT_NAME_MISMATCH, as MS-PKCA 3.1.5.2.1.3 says for a failed explicit mapping
//! (a DC reports the missing strong mapping as event 39; RFC 4556 has no closer code).

use kdc_config::StrongMapping;
use kdc_directory::{Directory, User, dn_equivalent};
use x509_parser::certificate::X509Certificate;

use super::altsecid;
use super::san::{self, CertName};
use crate::error::KdcError;

/// How the certificate was bound to the user, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// `sid extension`, `altSecurityIdentities <SKI>`, ..., or `weak` (names only).
    pub binding: &'static str,
}

fn mismatch(why: String) -> KdcError {
    KdcError::CertificateNameMismatch(why)
}

pub async fn map(
    directory: &dyn Directory,
    user: &User,
    realm: &str,
    cert: &X509Certificate<'_>,
    mode: StrongMapping,
) -> Result<Mapping, KdcError> {
    let names = san::names(cert)?;
    for name in &names {
        check_name(directory, user, realm, name).await?;
    }
    let sid = san::sid_extension(cert)?;
    let sid_binds = match (&sid, &user.object_sid) {
        (Some(cert_sid), Some(user_sid)) if cert_sid == user_sid => true,
        (Some(cert_sid), Some(user_sid)) if mode != StrongMapping::None => {
            return Err(mismatch(format!(
                "SID extension {cert_sid} is not {}'s objectSid {user_sid}",
                user.user_principal_name
            )));
        }
        _ => false,
    };
    let explicit = altsecid::strong_match(cert, &user.alt_security_identities);
    let binding = match (sid_binds, explicit) {
        (true, _) => "sid extension",
        (false, Some(form)) => form,
        (false, None) if names.is_empty() => {
            return Err(mismatch(format!(
                "certificate names no user and no altSecurityIdentities of {} maps it",
                user.user_principal_name
            )));
        }
        (false, None) => "weak",
    };
    if binding == "weak" {
        let why = match &sid {
            Some(_) => "its SID extension cannot be compared: the user has no objectSid",
            None => "no SID extension and no strong altSecurityIdentities",
        };
        match mode {
            StrongMapping::Full => {
                return Err(mismatch(format!(
                    "certificate not strongly mapped to {}: {why}",
                    user.user_principal_name
                )));
            }
            StrongMapping::Compatibility => tracing::warn!(
                user = %user.user_principal_name, reason = why,
                "certificate accepted without a strong mapping (compatibility mode, KB5014754)"
            ),
            StrongMapping::None => {}
        }
    }
    Ok(Mapping { binding })
}

/// A name in the certificate must resolve to the requested user himself.
async fn check_name(
    directory: &dyn Directory,
    user: &User,
    realm: &str,
    name: &CertName,
) -> Result<(), KdcError> {
    let lookup = match name {
        CertName::Principal {
            realm: r,
            components,
        } => match components.as_slice() {
            [single] if r == realm => single.clone(),
            _ => return Err(mismatch(format!("{name} is not a user of {realm}"))),
        },
        CertName::Upn(upn) if upn.contains('@') => upn.clone(),
        CertName::Upn(_) => return Err(mismatch(format!("{name} is not a UPN"))),
    };
    let found = directory
        .find_user(&lookup, realm)
        .await
        .map_err(KdcError::DirectoryUnavailable)?;
    match found {
        Some(found) if dn_equivalent(&found.dn, &user.dn) => Ok(()),
        Some(found) => Err(mismatch(format!(
            "{name} is {}, not the requested {}",
            found.user_principal_name, user.user_principal_name
        ))),
        None => Err(mismatch(format!("{name} is nobody in the directory"))),
    }
}
