//! Admin writes over LDAP (RFC 4511 §4.6 Modify, §4.7 Add) for `kdc user` and `kdc key`:
//! msDS-KeyCredentialLink values added and deleted one by one in AD's DN-Binary form, and
//! userAccountControl changed by a delete-old/add-new pair so a concurrent change is noticed.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Mod, Scope};

use super::entry::{RawEntry, to_user};
use super::pool::{Failure, describe};
use super::rdn::first_rdn;
use super::{LdapDirectory, filter};
use kdc_config::GroupMembership;

use crate::sid::DomainSid;
use crate::{
    DirectoryAdmin, DirectoryError, FIRST_ACCOUNT_RID, KeyCredentialLink, NewUser, User,
    check_upn_form,
};

/// Listing every user may take many pages; it is an operator command, not a KDC request.
const LIST_TIMEOUT: Duration = Duration::from_secs(120);
const PAGE_SIZE: i32 = 500;

/// Maps a server's refusal of a write to what the operator should hear.
fn write_error(failure: Failure) -> DirectoryError {
    match failure {
        Failure::Refused { server, result } => {
            let message = format!("{server}: {}", describe(&result));
            match result.rc {
                // attributeOrValueExists, entryAlreadyExists; noSuchAttribute means the
                // value read a moment ago is gone: someone else changed the entry.
                16 | 20 | 68 => DirectoryError::Conflict(message),
                // constraint, syntax, naming, access and object class errors.
                17..=21 | 34 | 50 | 64 | 65 | 67 => DirectoryError::Invalid(message),
                _ => DirectoryError::Unavailable(message),
            }
        }
        unavailable => unavailable.into_error(),
    }
}

fn set(values: impl IntoIterator<Item = String>) -> HashSet<String> {
    values.into_iter().collect()
}

impl LdapDirectory {
    /// Every entry under the base that `filter` selects, page by page (an operator command's
    /// search, not a KDC request's).
    async fn subtree(
        &self,
        filter: String,
        attributes: Vec<String>,
        what: &str,
    ) -> Result<Vec<RawEntry>, DirectoryError> {
        let base = self.base_dn.clone();
        let (entries, result) = self
            .pool
            .run_for(LIST_TIMEOUT, |mut ldap| {
                let (base, filter, attributes) = (base.clone(), filter.clone(), attributes.clone());
                async move {
                    let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
                        Box::new(EntriesOnly::new()),
                        Box::new(PagedResults::new(PAGE_SIZE)),
                    ];
                    let mut stream = ldap
                        .streaming_search_with(adapters, &base, Scope::Subtree, &filter, attributes)
                        .await?;
                    let mut entries = Vec::new();
                    while let Some(entry) = stream.next().await? {
                        entries.push(entry);
                    }
                    Ok((entries, stream.finish().await))
                }
            })
            .await
            .map_err(Failure::into_error)?;
        if result.rc != 0 {
            return Err(DirectoryError::Unavailable(format!(
                "{what}: {}",
                describe(&result)
            )));
        }
        Ok(entries.into_iter().filter_map(RawEntry::decode).collect())
    }

    /// The entry whose userPrincipalName is `upn` (any case).
    async fn entry_by_upn(&self, upn: &str) -> Result<RawEntry, DirectoryError> {
        let search = filter::and(&[
            self.user_filter.clone(),
            filter::equality(&self.names.user_principal_name, upn),
        ]);
        let entries = self.search(search, 2, self.pool.timeout()).await?;
        let mut matching = entries.into_iter().filter(|entry| {
            entry
                .first(&self.names.user_principal_name)
                .is_some_and(|found| found.to_lowercase() == upn.to_lowercase())
        });
        match (matching.next(), matching.next()) {
            (Some(entry), None) => Ok(entry),
            (None, _) => Err(DirectoryError::NotFound(upn.to_string())),
            (Some(_), Some(_)) => Err(DirectoryError::Conflict(format!(
                "more than one entry has userPrincipalName {upn}"
            ))),
        }
    }

    async fn modify(&self, dn: &str, mods: Vec<Mod<String>>) -> Result<(), DirectoryError> {
        let dn = dn.to_string();
        self.pool
            .run(|mut ldap| {
                let (dn, mods) = (dn.clone(), mods.clone());
                async move { ldap.modify(&dn, mods).await?.success() }
            })
            .await
            .map_err(write_error)?;
        self.forget();
        Ok(())
    }
}

#[async_trait]
impl DirectoryAdmin for LdapDirectory {
    async fn list_users(&self) -> Result<Vec<User>, DirectoryError> {
        let filter = self.user_filter.clone();
        Ok(self
            .subtree(filter, self.user_attributes(), "listing users")
            .await?
            .into_iter()
            .filter_map(|entry| to_user(&entry, &self.names, None))
            .collect())
    }

    /// OpenLDAP (member-search groups): one above the highest RID of the domain any entry
    /// under the base holds. Active Directory (tokenGroups) assigns objectSid itself and
    /// refuses a written one: None.
    async fn next_rid(&self, domain: &DomainSid) -> Result<Option<u32>, DirectoryError> {
        if self.group_membership == GroupMembership::TokenGroups {
            return Ok(None);
        }
        let attribute = self.names.object_sid.clone();
        let filter = format!("({attribute}=*)");
        let highest = self
            .subtree(filter, vec![attribute.clone()], "listing objectSids")
            .await?
            .iter()
            .filter_map(|entry| entry.sid(&attribute))
            .filter_map(|sid| domain.rid_of(&sid))
            .fold(FIRST_ACCOUNT_RID - 1, u32::max);
        Ok(highest.checked_add(1))
    }

    async fn add_user(&self, new: NewUser) -> Result<User, DirectoryError> {
        let names = &self.names;
        check_upn_form(&new.user_principal_name).map_err(DirectoryError::Invalid)?;
        let (rdn_attribute, rdn_value) = first_rdn(&new.dn).ok_or_else(|| {
            DirectoryError::Invalid(format!("{:?} is not a distinguished name", new.dn))
        })?;
        // Uniqueness across the whole subtree, not only what the user filter selects;
        // Active Directory enforces it itself, OpenLDAP does not.
        let mut taken = vec![filter::equality(
            &names.user_principal_name,
            &new.user_principal_name,
        )];
        if let Some(sam) = &new.sam_account_name {
            taken.push(filter::equality(&names.sam_account_name, sam));
        }
        let clash = self
            .search(filter::or(&taken), 1, self.pool.timeout())
            .await?;
        if let Some(entry) = clash.first() {
            return Err(DirectoryError::Conflict(format!(
                "{} already uses that userPrincipalName or sAMAccountName",
                entry.dn
            )));
        }
        let mut attributes = vec![
            (
                "objectClass".to_string(),
                set(self.new_user_object_classes.clone()),
            ),
            (rdn_attribute.clone(), set([rdn_value.clone()])),
            (
                names.user_principal_name.clone(),
                set([new.user_principal_name.clone()]),
            ),
            (
                names.user_account_control.clone(),
                set([new.user_account_control.to_string()]),
            ),
        ];
        if let Some(sam) = &new.sam_account_name {
            attributes.push((names.sam_account_name.clone(), set([sam.clone()])));
        }
        if let Some(sid) = &new.object_sid {
            // The text form, which the schema's octet string holds and the KDC reads back.
            attributes.push((names.object_sid.clone(), set([sid.to_string()])));
        }
        let person = self
            .new_user_object_classes
            .iter()
            .any(|class| class.eq_ignore_ascii_case("person"));
        if person && !rdn_attribute.eq_ignore_ascii_case("sn") {
            // person requires sn (RFC 4519); AD merely allows it.
            attributes.push(("sn".to_string(), set([rdn_value])));
        }
        let dn = new.dn.clone();
        self.pool
            .run(|mut ldap| {
                let (dn, attributes) = (dn.clone(), attributes.clone());
                async move { ldap.add(&dn, attributes).await?.success() }
            })
            .await
            .map_err(write_error)?;
        self.forget();
        Ok(new.into_user())
    }

    async fn set_disabled(&self, upn: &str, disabled: bool) -> Result<(), DirectoryError> {
        let entry = self.entry_by_upn(upn).await?;
        let attribute = &self.names.user_account_control;
        let user = to_user(&entry, &self.names, None)
            .ok_or_else(|| DirectoryError::NotFound(upn.to_string()))?;
        let after = user.account_control_with_disabled(disabled);
        if user.user_account_control == after {
            // Nothing to write, but the cache may predate the state just read.
            self.forget();
            return Ok(());
        }
        // AD's INTEGER syntax is signed 32-bit.
        let new_value = (after as i32).to_string();
        let mut mods = Vec::new();
        if let Some(old) = entry.first(attribute) {
            mods.push(Mod::Delete(attribute.clone(), set([old.to_string()])));
        }
        mods.push(Mod::Add(attribute.clone(), set([new_value])));
        self.modify(&entry.dn, mods).await
    }

    async fn add_key_credential(
        &self,
        upn: &str,
        link: KeyCredentialLink,
    ) -> Result<(), DirectoryError> {
        let entry = self.entry_by_upn(upn).await?;
        to_user(&entry, &self.names, None)
            .ok_or_else(|| DirectoryError::NotFound(upn.to_string()))?
            .check_new_key(&link)?;
        let attribute = self.names.key_credential_link.clone();
        self.modify(
            &entry.dn,
            vec![Mod::Add(attribute, set([link.to_dn_binary()]))],
        )
        .await
    }

    async fn remove_key_credential(
        &self,
        upn: &str,
        key_id: &[u8],
    ) -> Result<bool, DirectoryError> {
        let entry = self.entry_by_upn(upn).await?;
        let attribute = &self.names.key_credential_link;
        // Deleted by their exact stored form; unparsable values have no trustworthy KeyID.
        let values: HashSet<String> = entry
            .strings(attribute)
            .filter(|value| KeyCredentialLink::value_has_key_id(value, key_id))
            .map(str::to_string)
            .collect();
        if values.is_empty() {
            return Ok(false);
        }
        self.modify(&entry.dn, vec![Mod::Delete(attribute.clone(), values)])
            .await?;
        Ok(true)
    }
}
