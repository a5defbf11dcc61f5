//! The directory's rules for key credentials and accounts, written once for every backend
//! (embedded file and LDAP alike): a msDS-KeyCredentialLink value (MS-ADTS 2.2.20) counts
//! only under its user's own DN, and a user's KeyIDs are unique; a userPrincipalName has the
//! form name@suffix; disabling an account touches only ACCOUNTDISABLE (MS-ADTS 2.2.16).

use crate::{
    DirectoryError, KeyCredentialLink, KeyUsage, NewUser, RsaPublicKey, UF_ACCOUNTDISABLE, User,
    dn_equivalent,
};

impl User {
    /// Whether `link` names this user. A value under another DN was copied from (or meant
    /// for) someone else: key trust never accepts it and no backend stores it.
    fn owns(&self, link: &KeyCredentialLink) -> bool {
        dn_equivalent(&link.owner_dn, &self.dn)
    }

    /// The registered key that PKINIT key trust accepts for `public_key`: same normalised
    /// (n, e), KeyUsage NGC, and a value whose DN is this user's own.
    pub fn registered_ngc_key(&self, public_key: &RsaPublicKey) -> Option<&KeyCredentialLink> {
        self.key_credentials.iter().find(|link| {
            link.credential.key_usage() == KeyUsage::Ngc
                && link.credential.rsa_public_key() == Some(public_key)
                && self.owns(link)
        })
    }

    /// Whether `link` may be added to this user's keys: `Invalid` if its DN is not the
    /// user's, `Conflict` if one of the user's keys already has its KeyID (removal goes by
    /// KeyID, so two would be removed as one).
    pub fn check_new_key(&self, link: &KeyCredentialLink) -> Result<(), DirectoryError> {
        if !self.owns(link) {
            return Err(DirectoryError::Invalid(format!(
                "key credential names {} but the user is {}",
                link.owner_dn, self.dn
            )));
        }
        let key_id = link.credential.key_id();
        if self
            .key_credentials
            .iter()
            .any(|existing| existing.credential.key_id() == key_id)
        {
            return Err(DirectoryError::Conflict(format!(
                "{} already has a key with KeyID {}",
                self.user_principal_name,
                hex::encode(key_id)
            )));
        }
        Ok(())
    }

    /// userAccountControl with ACCOUNTDISABLE set or cleared and every other bit kept.
    pub(crate) fn account_control_with_disabled(&self, disabled: bool) -> u32 {
        if disabled {
            self.user_account_control | UF_ACCOUNTDISABLE
        } else {
            self.user_account_control & !UF_ACCOUNTDISABLE
        }
    }
}

impl KeyCredentialLink {
    /// Whether a stored value is a key with this KeyID, as removal decides it. A value that
    /// does not parse has no KeyID to trust, so it never matches and stays.
    pub(crate) fn value_has_key_id(value: &str, key_id: &[u8]) -> bool {
        Self::parse(value).is_ok_and(|link| link.credential.key_id() == key_id)
    }
}

impl NewUser {
    /// Where a user lives when the operator names no DN: `CN=name,CN=Users` under the
    /// `DC=` components of the DNS domain, as Active Directory places new users.
    pub fn default_dn(name: &str, dns_domain: &str) -> String {
        let base = dns_domain
            .to_lowercase()
            .split('.')
            .map(|part| format!("DC={part}"))
            .collect::<Vec<_>>()
            .join(",");
        format!("CN={name},CN=Users,{base}")
    }

    /// The user as created: no expiry, no lockout, no keys, no certificate mappings.
    pub(crate) fn into_user(self) -> User {
        User {
            dn: self.dn,
            user_principal_name: self.user_principal_name,
            sam_account_name: self.sam_account_name,
            user_account_control: self.user_account_control,
            account_expires: 0,
            lockout_time: 0,
            key_credentials: Vec::new(),
            alt_security_identities: Vec::new(),
            object_sid: None,
        }
    }
}

/// A userPrincipalName must read name@suffix with both parts non-empty; the message says
/// which value was refused.
pub(crate) fn check_upn_form(upn: &str) -> Result<(), String> {
    match upn.split_once('@') {
        Some((user, suffix)) if !user.is_empty() && !suffix.is_empty() => Ok(()),
        _ => Err(format!(
            "userPrincipalName {upn:?} is not of the form name@suffix"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyCredential;
    use crate::keycredlink::Guid;

    const ALICE_DN: &str = "CN=Alice,CN=Users,DC=corp,DC=example";

    fn key(seed: u8) -> RsaPublicKey {
        let mut modulus = vec![0xc0 | seed; 256];
        if let Some(last) = modulus.last_mut() {
            *last |= 1;
        }
        RsaPublicKey::from_components(&modulus, &[1, 0, 1]).unwrap()
    }

    #[test]
    fn a_new_user_goes_under_cn_users_of_the_domain() {
        assert_eq!(
            NewUser::default_dn("alice", "Corp.Example"),
            "CN=alice,CN=Users,DC=corp,DC=example"
        );
    }

    fn link(owner_dn: &str, seed: u8) -> KeyCredentialLink {
        KeyCredentialLink {
            owner_dn: owner_dn.into(),
            credential: KeyCredential::new_ngc(&key(seed), Guid::from_bytes([seed; 16]), 0),
        }
    }

    fn alice(keys: Vec<KeyCredentialLink>) -> User {
        User {
            key_credentials: keys,
            ..NewUser {
                dn: ALICE_DN.into(),
                user_principal_name: "alice@corp.example".into(),
                sam_account_name: Some("alice".into()),
                user_account_control: crate::UF_NORMAL_ACCOUNT,
            }
            .into_user()
        }
    }

    #[test]
    fn a_new_key_must_name_the_user_and_bring_a_new_key_id() {
        let user = alice(vec![link(ALICE_DN, 1)]);
        user.check_new_key(&link("cn=alice, cn=users, dc=corp, dc=example", 2))
            .unwrap();
        assert!(matches!(
            user.check_new_key(&link("CN=Bob,CN=Users,DC=corp,DC=example", 2)),
            Err(DirectoryError::Invalid(_))
        ));
        assert!(matches!(
            user.check_new_key(&link(ALICE_DN, 1)),
            Err(DirectoryError::Conflict(_))
        ));
    }

    #[test]
    fn key_trust_takes_only_keys_under_the_users_own_dn() {
        let user = alice(vec![
            link("CN=Bob,CN=Users,DC=corp,DC=example", 1),
            link(ALICE_DN, 2),
        ]);
        assert!(user.registered_ngc_key(&key(1)).is_none());
        assert!(user.registered_ngc_key(&key(2)).is_some());
    }

    #[test]
    fn removal_matches_parsed_values_by_key_id_only() {
        let value = link(ALICE_DN, 1);
        let key_id = value.credential.key_id().to_vec();
        assert!(KeyCredentialLink::value_has_key_id(
            &value.to_dn_binary(),
            &key_id
        ));
        assert!(!KeyCredentialLink::value_has_key_id(
            &link(ALICE_DN, 2).to_dn_binary(),
            &key_id
        ));
        assert!(!KeyCredentialLink::value_has_key_id(
            "B:4:0000:CN=x",
            &key_id
        ));
    }

    #[test]
    fn disabling_touches_only_accountdisable() {
        let mut user = alice(Vec::new());
        user.user_account_control = crate::UF_NORMAL_ACCOUNT | 0x0001_0000;
        let disabled = user.account_control_with_disabled(true);
        assert_eq!(disabled, user.user_account_control | UF_ACCOUNTDISABLE);
        user.user_account_control = disabled;
        assert_eq!(
            user.account_control_with_disabled(false),
            crate::UF_NORMAL_ACCOUNT | 0x0001_0000
        );
    }

    #[test]
    fn upns_need_a_name_and_a_suffix() {
        check_upn_form("alice@corp.example").unwrap();
        for bad in ["alice", "@corp.example", "alice@", ""] {
            assert!(check_upn_form(bad).is_err(), "{bad:?}");
        }
    }
}
