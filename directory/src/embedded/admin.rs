//! Admin writes to the embedded directory (the `DirectoryAdmin` side, and the groups and
//! certificate mappings AD's own tools write there): each one edits a copy of the entries
//! and is published only after the file has been replaced.

use async_trait::async_trait;

use super::file::GroupTable;
use super::{EmbeddedDirectory, Record, validate, validate_group};
use crate::sid::{DomainSid, Sid};
use crate::{DirectoryAdmin, DirectoryError, FIRST_ACCOUNT_RID, KeyCredentialLink, NewUser, User};

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
        let record = Record::from_user(new.into_user());
        validate(&record.entry).map_err(DirectoryError::Invalid)?;
        self.modify(|records, _, _| {
            let user = record.user.clone();
            records.push(record);
            Ok((user, true))
        })
        .await
    }

    async fn next_rid(&self, domain: &DomainSid) -> Result<Option<u32>, DirectoryError> {
        let state = self.snapshot();
        let users = state
            .records
            .iter()
            .filter_map(|r| r.user.object_sid.as_ref());
        let groups = state.groups.iter().map(|g| &g.sid);
        let highest = users
            .chain(groups)
            .filter_map(|sid| domain.rid_of(sid))
            .fold(FIRST_ACCOUNT_RID - 1, u32::max);
        Ok(highest.checked_add(1))
    }

    async fn set_disabled(&self, upn: &str, disabled: bool) -> Result<(), DirectoryError> {
        self.modify_user(upn, |record| {
            let before = record.user.user_account_control;
            let after = record.user.account_control_with_disabled(disabled);
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
        self.modify_user(upn, |record| {
            record.user.check_new_key(&link)?;
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
        self.modify_user(upn, |record| {
            let before = record.entry.key_credential_links.len();
            record
                .entry
                .key_credential_links
                .retain(|value| !KeyCredentialLink::value_has_key_id(value, key_id));
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
        object_sid: Option<Sid>,
        alt_security_identities: Vec<String>,
    ) -> Result<(), DirectoryError> {
        self.modify_user(upn, |record| {
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

    /// Adds a group with these members (DNs of users or groups already in the file).
    /// `Invalid` for an empty DN or name; `Conflict` if the DN or SID is taken, a member does
    /// not exist, or a user's groups would pass the directory's bounds.
    pub async fn add_group(
        &self,
        dn: &str,
        sam_account_name: &str,
        sid: Sid,
        members: Vec<String>,
    ) -> Result<(), DirectoryError> {
        let group = GroupTable {
            dn: dn.to_owned(),
            sam: sam_account_name.to_owned(),
            sid,
            members,
        };
        validate_group(&group).map_err(DirectoryError::Invalid)?;
        self.modify(|_, groups, _| {
            groups.push(group);
            Ok(((), true))
        })
        .await
    }
}
