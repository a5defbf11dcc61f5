//! A user's groups for the PAC, read only after the request is authenticated and cached like
//! users: Active Directory's tokenGroups (MS-ADTS 3.1.1.4.5.19: constructed, so returned
//! only to a base-scope read of the user; binary SIDs, nested and primary group included)
//! with the groups' names read by SID (no value at all: the attribute was not readable); or,
//! for OpenLDAP, RFC 4511 searches for the groups
//! whose `member` is the user and then each level above, by the shared walk of `rules`.
//! A search cut short by a size limit refuses rather than return part of the groups.

use std::collections::HashMap;
use std::time::Duration;

use kdc_config::GroupMembership;
use ldap3::Scope;

use super::cache::group_cache_key;
use super::entry::RawEntry;
use super::lookup::Search;
use super::{LdapDirectory, filter};
use crate::rules::{GroupEntry, MAX_GROUPS, MembershipWalk, check_group_count, token_groups};
use crate::sid::Sid;
use crate::{DirectoryError, Group, User};

/// Most entries a group search may return: one more than any user may have groups, so a
/// search that returns more is told from one that fits.
const GROUP_SEARCH_LIMIT: i32 = MAX_GROUPS as i32 + 1;

impl LdapDirectory {
    /// [`crate::Directory::groups_of`]: from the cache, else from the server.
    pub(super) async fn read_groups(&self, user: &User) -> Result<Vec<Group>, DirectoryError> {
        let key = group_cache_key(user);
        if let Some(Some(groups)) = self.groups.get(&key) {
            return Ok(groups);
        }
        let groups = match self.group_membership {
            GroupMembership::TokenGroups => self.token_groups(user).await?,
            GroupMembership::MemberSearch => self.member_search(user).await?,
        };
        self.groups.put(key, Some(groups.clone()));
        Ok(groups)
    }

    fn group_attributes(&self) -> Vec<String> {
        vec![
            self.names.object_sid.clone(),
            self.names.sam_account_name.clone(),
        ]
    }

    /// A search under the base DN for group entries; refused if a size limit cut it short.
    async fn group_search(
        &self,
        user: &User,
        clauses: &[String],
    ) -> Result<Vec<RawEntry>, DirectoryError> {
        let search = Search {
            base: self.base_dn.clone(),
            scope: Scope::Subtree,
            filter: filter::and(&[self.group_filter.clone(), filter::or(clauses)]),
            attributes: self.group_attributes(),
            size_limit: GROUP_SEARCH_LIMIT,
        };
        let (entries, complete) = self.run_search(&search, self.deadline()).await?;
        if !complete {
            return Err(DirectoryError::Membership {
                dn: user.dn.clone(),
                reason: "the server cut a group search short (size limit)".into(),
            });
        }
        check_group_count(&user.dn, entries.len())?;
        Ok(entries)
    }

    fn group_entry(&self, entry: &RawEntry) -> GroupEntry {
        GroupEntry {
            dn: entry.dn.clone(),
            sid: entry.sid(&self.names.object_sid),
            name: entry.first(&self.names.sam_account_name).map(str::to_owned),
        }
    }

    /// tokenGroups by a base-scope read of the user, then one search naming those groups.
    async fn token_groups(&self, user: &User) -> Result<Vec<Group>, DirectoryError> {
        let read = Search {
            base: user.dn.clone(),
            scope: Scope::Base,
            filter: "(objectClass=*)".into(),
            attributes: vec![self.names.token_groups.clone()],
            size_limit: 1,
        };
        let (entries, _) = self.run_search(&read, self.deadline()).await?;
        let values: Vec<&[u8]> = entries
            .iter()
            .flat_map(|entry| entry.bytes(&self.names.token_groups))
            .collect();
        // AD lists at least the primary group; no value at all means the bind account may
        // not read the attribute (AD then leaves it out), not that there are no groups.
        if values.is_empty() {
            return Err(DirectoryError::Membership {
                dn: user.dn.clone(),
                reason: format!(
                    "no {} values: the bind account may not read them",
                    self.names.token_groups
                ),
            });
        }
        check_group_count(&user.dn, values.len())?;
        let mut sids: Vec<Sid> = Vec::with_capacity(values.len());
        for value in values {
            match Sid::from_binary(value) {
                Ok(sid) => sids.push(sid),
                // A SID the server sent but this KDC cannot read would drop a group a deny
                // rule may name: refuse the list instead.
                Err(error) => {
                    return Err(DirectoryError::Membership {
                        dn: user.dn.clone(),
                        reason: format!("a {} value is no SID: {error}", self.names.token_groups),
                    });
                }
            }
        }
        let clauses: Vec<String> = sids
            .iter()
            .map(|sid| filter::sid_equality(&self.names.object_sid, sid))
            .collect();
        let names = self.group_search(user, &clauses).await?;
        let mut named: HashMap<Sid, String> = HashMap::with_capacity(names.len());
        for entry in names.iter().map(|e| self.group_entry(e)) {
            if let (Some(sid), Some(name)) = (entry.sid, entry.name) {
                named.insert(sid, name);
            }
        }
        let groups = sids.into_iter().map(|sid| Group {
            name: named.get(&sid).cloned(),
            sid,
        });
        Ok(token_groups(groups, user.primary_group_sid()))
    }

    /// The groups whose `member` is the user, then those whose `member` is one of them, one
    /// search per level; the primary group is found by its SID with the first level.
    async fn member_search(&self, user: &User) -> Result<Vec<Group>, DirectoryError> {
        let mut walk = MembershipWalk::new(user);
        while !walk.frontier().is_empty() {
            let mut clauses: Vec<String> = walk
                .frontier()
                .iter()
                .map(|dn| filter::equality(&self.names.member, dn))
                .collect();
            if let Some(sid) = walk.primary_group_sid() {
                clauses.push(filter::sid_equality(&self.names.object_sid, sid));
            }
            let entries = self.group_search(user, &clauses).await?;
            walk.add_level(entries.iter().map(|e| self.group_entry(e)).collect())?;
        }
        Ok(walk.finish())
    }

    fn deadline(&self) -> Duration {
        self.pool.timeout()
    }
}
