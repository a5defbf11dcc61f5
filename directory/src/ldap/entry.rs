//! SearchResultEntry (RFC 4511 §4.5.2) decoded without trusting the server: a malformed entry
//! is skipped rather than panicking (ldap3's own `SearchEntry::construct` panics), then mapped
//! to a [`User`] with the configured attribute names (MS-ADTS 2.2.16 for userAccountControl,
//! MS-ADA1 for accountExpires and lockoutTime, MS-ADA3 for primaryGroupID); what is missing
//! or unreadable refuses.

use std::collections::HashMap;

use ldap3::ResultEntry;

use crate::sid::{DOMAIN_USERS_RID, Sid};
use crate::{ACCOUNT_NEVER_EXPIRES, KeyCredentialLink, UF_ACCOUNTDISABLE, UF_NORMAL_ACCOUNT, User};
use kdc_config::LdapAttributeNames;

/// RFC 4511 §4.5.2: [APPLICATION 4] SEQUENCE { objectName, attributes }.
const SEARCH_RESULT_ENTRY: u64 = 4;

/// An entry's DN and its attribute values, keyed by lower-case attribute name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawEntry {
    pub dn: String,
    attributes: HashMap<String, Vec<Vec<u8>>>,
}

impl RawEntry {
    /// Decodes one entry; None if its structure is not that of RFC 4511 §4.5.2.
    pub fn decode(entry: ResultEntry) -> Option<RawEntry> {
        let mut parts = entry
            .0
            .match_id(SEARCH_RESULT_ENTRY)?
            .expect_constructed()?
            .into_iter();
        let dn = String::from_utf8(parts.next()?.expect_primitive()?).ok()?;
        let mut attributes: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
        for partial in parts.next()?.expect_constructed()? {
            let mut partial = partial.expect_constructed()?.into_iter();
            let name = String::from_utf8(partial.next()?.expect_primitive()?).ok()?;
            let values = partial
                .next()?
                .expect_constructed()?
                .into_iter()
                .map(|value| value.expect_primitive())
                .collect::<Option<Vec<_>>>()?;
            attributes
                .entry(name.to_lowercase())
                .or_default()
                .extend(values);
        }
        Some(RawEntry { dn, attributes })
    }

    #[cfg(test)]
    pub fn new(dn: &str, attributes: &[(&str, &[&str])]) -> Self {
        RawEntry {
            dn: dn.into(),
            attributes: attributes
                .iter()
                .map(|(name, values)| {
                    (
                        name.to_lowercase(),
                        values.iter().map(|v| v.as_bytes().to_vec()).collect(),
                    )
                })
                .collect(),
        }
    }

    /// The values of `attribute` that are UTF-8 (every string syntax the KDC reads).
    pub fn strings<'a>(&'a self, attribute: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.attributes
            .get(&attribute.to_lowercase())
            .into_iter()
            .flatten()
            .filter_map(|value| std::str::from_utf8(value).ok())
    }

    pub fn first(&self, attribute: &str) -> Option<&str> {
        self.strings(attribute).next()
    }

    /// The first value of `attribute` as bytes (binary syntaxes such as objectSid).
    pub fn first_bytes(&self, attribute: &str) -> Option<&[u8]> {
        self.bytes(attribute).next()
    }

    /// Every value of `attribute` as bytes (tokenGroups).
    pub fn bytes<'a>(&'a self, attribute: &str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.attributes
            .get(&attribute.to_lowercase())
            .into_iter()
            .flatten()
            .map(Vec::as_slice)
    }

    /// The objectSid of the entry, in either form ([`Sid::from_attribute`]); None, logged,
    /// for a value that is no SID.
    pub fn sid(&self, attribute: &str) -> Option<Sid> {
        let value = self.first_bytes(attribute)?;
        Sid::from_attribute(value)
            .inspect_err(|error| tracing::warn!(dn = %self.dn, attribute, %error, "unreadable SID"))
            .ok()
    }
}

/// primaryGroupID (MS-ADA3 2.107, an RFC 4517 INTEGER). Absent is AD's default, 513; a value
/// that is no RID is logged and read as 513 too: every user of a domain is in Domain Users.
fn primary_group_id(entry: &RawEntry, attribute: &str) -> u32 {
    let Some(text) = entry.first(attribute) else {
        return DOMAIN_USERS_RID;
    };
    text.trim().parse::<u32>().unwrap_or_else(|_| {
        tracing::warn!(dn = %entry.dn, attribute, value = text, "unreadable primaryGroupID; using 513");
        DOMAIN_USERS_RID
    })
}

/// userAccountControl as AD writes it: a signed 32-bit decimal (RFC 4517 INTEGER syntax).
/// AD always has the attribute, so an entry without it is not an account the KDC can judge:
/// refused as disabled, as is a value that does not parse, so damage never enables one.
fn user_account_control(entry: &RawEntry, attribute: &str) -> u32 {
    let refused = UF_NORMAL_ACCOUNT | UF_ACCOUNTDISABLE;
    let Some(text) = entry.first(attribute) else {
        tracing::warn!(dn = %entry.dn, attribute, "no userAccountControl; treating the account as disabled");
        return refused;
    };
    match text.trim().parse::<i64>() {
        Ok(value) if (i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(&value) => {
            // AD prints flags with bit 31 set as negative numbers; the bits are what count.
            value as u32
        }
        _ => {
            tracing::warn!(dn = %entry.dn, value = text, "userAccountControl unreadable; treating the account as disabled");
            refused
        }
    }
}

/// A FILETIME attribute (accountExpires, lockoutTime, pwdLastSet: AD's Integer8, a signed
/// 64-bit decimal). Absent is `absent` (AD's meaning of a value never written); unreadable or
/// negative is `unreadable`, chosen by the caller (to refuse the account, for the first two).
fn filetime(entry: &RawEntry, attribute: &str, absent: u64, unreadable: u64) -> u64 {
    let Some(text) = entry.first(attribute) else {
        return absent;
    };
    match text.trim().parse::<u64>() {
        Ok(value) if value <= ACCOUNT_NEVER_EXPIRES => value,
        _ => {
            tracing::warn!(dn = %entry.dn, attribute, value = text, read_as = unreadable, "unreadable FILETIME");
            unreadable
        }
    }
}

/// The user an entry describes. Without a userPrincipalName, AD's implicit UPN
/// `sAMAccountName@realm` is used when the realm is known; otherwise the entry is skipped.
pub fn to_user(entry: &RawEntry, names: &LdapAttributeNames, realm: Option<&str>) -> Option<User> {
    let sam_account_name = entry.first(&names.sam_account_name).map(str::to_string);
    let user_principal_name = match entry.first(&names.user_principal_name) {
        Some(upn) => upn.to_string(),
        None => format!("{}@{}", sam_account_name.as_deref()?, realm?),
    };
    let key_credentials = KeyCredentialLink::parse_values(
        &user_principal_name,
        entry.strings(&names.key_credential_link),
    );
    Some(User {
        dn: entry.dn.clone(),
        user_account_control: user_account_control(entry, &names.user_account_control),
        // An unreadable accountExpires reads as 1 (1601, long expired), lockoutTime as locked.
        account_expires: filetime(entry, &names.account_expires, 0, 1),
        lockout_time: filetime(entry, &names.lockout_time, 0, 1),
        pwd_last_set: filetime(entry, &names.pwd_last_set, 0, 0),
        user_principal_name,
        sam_account_name,
        key_credentials,
        alt_security_identities: entry
            .strings(&names.alt_security_identities)
            .map(str::to_string)
            .collect(),
        // Binary in Active Directory (MS-DTYP 2.4.2.2); an unreadable value maps nobody.
        object_sid: entry.sid(&names.object_sid),
        primary_group_id: primary_group_id(entry, &names.primary_group_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> LdapAttributeNames {
        LdapAttributeNames::default()
    }

    #[test]
    fn attribute_names_match_in_any_case() {
        let entry = RawEntry::new(
            "CN=a,DC=x",
            &[
                ("USERPRINCIPALNAME", &["a@X"]),
                ("samaccountname", &["a"]),
                ("userAccountControl", &["514"]),
            ],
        );
        let user = to_user(&entry, &names(), None).unwrap();
        assert_eq!(user.user_principal_name, "a@X");
        assert_eq!(user.sam_account_name.as_deref(), Some("a"));
        assert!(user.is_disabled());
        assert!(user.key_credentials.is_empty());
    }

    #[test]
    fn user_account_control_forms() {
        let uac = |v: &[&str]| {
            user_account_control(
                &RawEntry::new("CN=a", &[("userAccountControl", v)]),
                "userAccountControl",
            )
        };
        assert_eq!(uac(&[]) & UF_ACCOUNTDISABLE, UF_ACCOUNTDISABLE);
        assert_eq!(uac(&["66048"]), 0x10200);
        assert_eq!(uac(&["-2147483136"]), 0x8000_0200);
        assert_eq!(uac(&["lots"]) & UF_ACCOUNTDISABLE, UF_ACCOUNTDISABLE);
        assert_eq!(uac(&["99999999999"]) & UF_ACCOUNTDISABLE, UF_ACCOUNTDISABLE);
    }

    #[test]
    fn account_times_absent_set_and_unreadable() {
        let user = |attributes: &[(&str, &[&str])]| {
            let mut all = vec![
                ("userPrincipalName", &["a@X"][..]),
                ("userAccountControl", &["512"]),
            ];
            all.extend_from_slice(attributes);
            to_user(&RawEntry::new("CN=a", &all), &names(), None).unwrap()
        };
        let now = std::time::SystemTime::now();
        assert_eq!(user(&[]).refusal(now), None);
        assert_eq!(
            user(&[
                ("accountExpires", &["9223372036854775807"]),
                ("lockoutTime", &["0"])
            ])
            .refusal(now),
            None
        );
        let expired = user(&[("accountExpires", &["132539328000000000"])]);
        assert_eq!(expired.refusal(now), Some(crate::AccountRefusal::Expired));
        for bad in ["-1", "soon", "9223372036854775808"] {
            assert_eq!(
                user(&[("accountExpires", &[bad])]).refusal(now),
                Some(crate::AccountRefusal::Expired),
                "{bad}"
            );
            assert_eq!(
                user(&[("lockoutTime", &[bad])]).refusal(now),
                Some(crate::AccountRefusal::LockedOut),
                "{bad}"
            );
        }
        assert_eq!(
            user(&[("lockoutTime", &["133000000000000000"])]).refusal(now),
            Some(crate::AccountRefusal::LockedOut)
        );
    }

    #[test]
    fn primary_group_defaults_to_domain_users() {
        let user = |values: &[&str]| {
            let entry = RawEntry::new(
                "CN=a",
                &[("userPrincipalName", &["a@X"]), ("primaryGroupID", values)],
            );
            to_user(&entry, &names(), None).unwrap().primary_group_id
        };
        assert_eq!(user(&[]), 513);
        assert_eq!(user(&["1201"]), 1201);
        assert_eq!(user(&["-5"]), 513);
        assert_eq!(user(&["Domain Users"]), 513);
    }

    #[test]
    fn implicit_upn_needs_the_realm() {
        let entry = RawEntry::new("CN=b,DC=x", &[("sAMAccountName", &["b"])]);
        assert_eq!(to_user(&entry, &names(), None), None);
        assert_eq!(
            to_user(&entry, &names(), Some("X.TEST"))
                .unwrap()
                .user_principal_name,
            "b@X.TEST"
        );
    }
}
