//! The client's account in the directory, for the AS exchange and the TGS re-check: a name
//! resolves to exactly one entry (RFC 4120 §7.5.9 KDC_ERR_PRINCIPAL_NOT_UNIQUE, against
//! CVE-2021-42287), the entry must be allowed tickets (MS-ADTS 2.2.16 userAccountControl,
//! accountExpires, lockoutTime), and its canonical name for the canonicalize option
//! (RFC 6806 §5).

use std::time::SystemTime;

use kdc_directory::User;
use rasn_kerberos::PrincipalName;

use crate::error::KdcError;
use crate::proto::kerberos::{NT_ENTERPRISE, NT_PRINCIPAL, principal};
use crate::realm::Realm;

/// The one entry `name` (as [`directory_name`] gives it) resolves to in the realm, if that
/// account may have tickets at `now`.
pub async fn client_account(realm: &Realm, name: &str, now: SystemTime) -> Result<User, KdcError> {
    let user = realm
        .directory()
        .find_user(name, realm.name())
        .await
        .map_err(KdcError::from_lookup)?
        .ok_or_else(|| KdcError::UnknownClient(format!("{name}@{}", realm.name())))?;
    match user.refusal(now) {
        Some(reason) => Err(KdcError::ClientRevoked {
            client: user.user_principal_name,
            reason,
        }),
        None => Ok(user),
    }
}

/// The name to look up: an enterprise name (RFC 6806) carries `user@suffix` in one component.
pub fn directory_name(name: &PrincipalName) -> Result<String, KdcError> {
    let components: Vec<String> = name
        .string
        .iter()
        .map(|c| String::from_utf8_lossy(c.as_bytes()).into_owned())
        .collect();
    match components.as_slice() {
        [single] if name.r#type == NT_ENTERPRISE || !single.contains('@') => Ok(single.clone()),
        _ => Err(KdcError::UnknownClient(components.join("/"))),
    }
}

/// The name a Windows DC answers with under canonicalize: the sAMAccountName; without one,
/// the UPN's user part when its suffix is the realm, else the UPN as an enterprise name.
/// Each of these resolves back to the same entry, which the TGS re-check relies on.
pub fn canonical_name(user: &User, realm: &str) -> PrincipalName {
    if let Some(sam) = &user.sam_account_name {
        return principal(NT_PRINCIPAL, &[sam]);
    }
    match user.user_principal_name.rsplit_once('@') {
        Some((local, suffix)) if suffix.eq_ignore_ascii_case(realm) => {
            principal(NT_PRINCIPAL, &[local])
        }
        _ => principal(NT_ENTERPRISE, &[&user.user_principal_name]),
    }
}
