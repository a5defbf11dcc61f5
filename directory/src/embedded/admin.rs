//! Admin writes to the embedded directory (the `DirectoryAdmin` side): each one edits a
//! copy of the entries and is published only after the file has been replaced.

use async_trait::async_trait;

use super::{EmbeddedDirectory, Record, file::Entry, validate};
use crate::{
    DirectoryAdmin, DirectoryError, KeyCredentialLink, NewUser, UF_ACCOUNTDISABLE, User,
    dn_equivalent,
};

#[async_trait]
impl DirectoryAdmin for EmbeddedDirectory {
    async fn list_users(&self) -> Result<Vec<User>, DirectoryError> {
        Ok(self
            .snapshot()
            .records
            .iter()
            .map(|r| r.user.clone())
            .collect())
    }

    async fn add_user(&self, new: NewUser) -> Result<User, DirectoryError> {
        let entry = Entry {
            dn: new.dn,
            upn: new.user_principal_name,
            sam: new.sam_account_name,
            user_account_control: new.user_account_control,
            account_expires: 0,
            lockout_time: 0,
            key_credential_links: Vec::new(),
            alt_security_identities: Vec::new(),
            object_sid: None,
        };
        validate(&entry).map_err(DirectoryError::Invalid)?;
        self.modify(|records, _| {
            let record = Record::new(entry, Vec::new());
            let user = record.user.clone();
            records.push(record);
            Ok((user, true))
        })
        .await
    }

    async fn set_disabled(&self, upn: &str, disabled: bool) -> Result<(), DirectoryError> {
        self.modify(|records, state| {
            let record = records
                .get_mut(state.position_by_upn(upn)?)
                .ok_or_else(|| DirectoryError::NotFound(upn.to_string()))?;
            let before = record.entry.user_account_control;
            let after = if disabled {
                before | UF_ACCOUNTDISABLE
            } else {
                before & !UF_ACCOUNTDISABLE
            };
            record.entry.user_account_control = after;
            record.user.user_account_control = after;
            Ok(((), before != after))
        })
        .await
    }

    async fn add_key_credential(
        &self,
        upn: &str,
        link: KeyCredentialLink,
    ) -> Result<(), DirectoryError> {
        self.modify(|records, state| {
            let record = records
                .get_mut(state.position_by_upn(upn)?)
                .ok_or_else(|| DirectoryError::NotFound(upn.to_string()))?;
            if !dn_equivalent(&link.owner_dn, &record.entry.dn) {
                return Err(DirectoryError::Invalid(format!(
                    "key credential names {} but the user is {}",
                    link.owner_dn, record.entry.dn
                )));
            }
            let key_id = link.credential.key_id();
            if record
                .user
                .key_credentials
                .iter()
                .any(|k| k.credential.key_id() == key_id)
            {
                return Err(DirectoryError::Conflict(format!(
                    "{upn} already has a key with KeyID {}",
                    hex::encode(key_id)
                )));
            }
            record.entry.key_credential_links.push(link.to_dn_binary());
            record.user.key_credentials.push(link);
            Ok(((), true))
        })
        .await
    }

    async fn remove_key_credential(
        &self,
        upn: &str,
        key_id: &[u8],
    ) -> Result<bool, DirectoryError> {
        self.modify(|records, state| {
            let record = records
                .get_mut(state.position_by_upn(upn)?)
                .ok_or_else(|| DirectoryError::NotFound(upn.to_string()))?;
            let before = record.entry.key_credential_links.len();
            // Values that do not parse have no KeyID we can trust, so they stay.
            record.entry.key_credential_links.retain(|value| {
                KeyCredentialLink::parse(value)
                    .map_or(true, |link| link.credential.key_id() != key_id)
            });
            let removed = record.entry.key_credential_links.len() != before;
            if removed {
                *record = Record::reparsed(record.entry.clone());
            }
            Ok((removed, removed))
        })
        .await
    }
}

impl EmbeddedDirectory {
    /// Sets a user's certificate-trust attributes: objectSid (string form) and
    /// altSecurityIdentities, replacing what was there. Not part of `DirectoryAdmin`: in
    /// Active Directory these are written by AD itself and by its own tools.
    pub async fn set_certificate_mapping(
        &self,
        upn: &str,
        object_sid: Option<String>,
        alt_security_identities: Vec<String>,
    ) -> Result<(), DirectoryError> {
        self.modify(|records, state| {
            let record = records
                .get_mut(state.position_by_upn(upn)?)
                .ok_or_else(|| DirectoryError::NotFound(upn.to_string()))?;
            let mut entry = record.entry.clone();
            entry.object_sid = object_sid;
            entry.alt_security_identities = alt_security_identities;
            validate(&entry).map_err(DirectoryError::Invalid)?;
            let changed = entry != record.entry;
            record.entry = entry;
            record.user.object_sid = record.entry.object_sid.clone();
            record.user.alt_security_identities = record.entry.alt_security_identities.clone();
            Ok(((), changed))
        })
        .await
    }
}
