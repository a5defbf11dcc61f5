//! Reads for the AS exchange: one subtree search (RFC 4511 §4.5.1) per uncached principal,
//! with an RFC 4515 filter built from escaped values, and the key-owner search that runs
//! only after key trust failed (MS-ADTS 2.2.20 values compared as normalised keys here),
//! its answers cached like users, "no owner" included.

use std::time::Duration;

use async_trait::async_trait;
use ldap3::{Scope, SearchOptions, SearchResult};

use super::cache::cache_key;
use super::entry::{RawEntry, to_user};
use super::pool::{Failure, describe};
use super::{LOOKUP_SIZE_LIMIT, LdapDirectory, filter};
use crate::{Directory, DirectoryError, Group, PrincipalLookup, RsaPublicKey, User};

/// One search request.
#[derive(Clone, Debug)]
pub(super) struct Search {
    pub base: String,
    pub scope: Scope,
    pub filter: String,
    pub attributes: Vec<String>,
    pub size_limit: i32,
}

impl LdapDirectory {
    /// A subtree search under the base DN. A size limit hit returns what came (logged);
    /// any other error result makes the directory unavailable for this request.
    pub(super) async fn search(
        &self,
        filter: String,
        size_limit: i32,
        deadline: Duration,
    ) -> Result<Vec<RawEntry>, DirectoryError> {
        let search = Search {
            base: self.base_dn.clone(),
            scope: Scope::Subtree,
            filter,
            attributes: self.user_attributes(),
            size_limit,
        };
        let (entries, complete) = self.run_search(&search, deadline).await?;
        if !complete {
            tracing::warn!(filter = %search.filter, limit = size_limit, "LDAP search hit its size limit; using the entries that came");
        }
        Ok(entries)
    }

    /// Runs one search: its entries, and false when a size limit cut them short (RFC 4511
    /// sizeLimitExceeded, ours or the server's). A missing base is `NotFound` for a base
    /// read and makes the directory unavailable otherwise; so does every other error.
    pub(super) async fn run_search(
        &self,
        search: &Search,
        deadline: Duration,
    ) -> Result<(Vec<RawEntry>, bool), DirectoryError> {
        let time_limit = i32::try_from(deadline.as_secs().max(1)).unwrap_or(i32::MAX);
        let SearchResult(entries, result) = self
            .pool
            .run_for(deadline, |mut ldap| {
                let search = search.clone();
                async move {
                    let options = SearchOptions::new()
                        .sizelimit(search.size_limit)
                        .timelimit(time_limit);
                    ldap.with_search_options(options)
                        .search(
                            &search.base,
                            search.scope,
                            &search.filter,
                            search.attributes,
                        )
                        .await
                }
            })
            .await
            .map_err(Failure::into_error)?;
        let complete = match result.rc {
            0 => true,
            4 => false,
            32 if search.scope == Scope::Base => {
                return Err(DirectoryError::NotFound(search.base.clone()));
            }
            32 => {
                return Err(DirectoryError::Unavailable(format!(
                    "base DN {} does not exist on the server",
                    search.base
                )));
            }
            _ => {
                return Err(DirectoryError::Unavailable(format!(
                    "search {} refused: {}",
                    search.filter,
                    describe(&result)
                )));
            }
        };
        let entries = entries
            .into_iter()
            .filter_map(|entry| {
                let decoded = RawEntry::decode(entry);
                if decoded.is_none() {
                    tracing::warn!("skipping a malformed LDAP search result entry");
                }
                decoded
            })
            .collect();
        Ok((entries, complete))
    }

    /// Among the entries of a lookup, the one the shared rule picks
    /// ([`PrincipalLookup::resolve`]).
    fn pick(
        &self,
        entries: &[RawEntry],
        lookup: &PrincipalLookup,
        realm: &str,
    ) -> Result<Option<User>, DirectoryError> {
        let users: Vec<User> = entries
            .iter()
            .filter_map(|entry| to_user(entry, &self.names, Some(realm)))
            .collect();
        Ok(lookup.resolve(&users)?.cloned())
    }
}

#[async_trait]
impl Directory for LdapDirectory {
    async fn find_user(&self, name: &str, realm: &str) -> Result<Option<User>, DirectoryError> {
        let lookup = PrincipalLookup::new(name, realm);
        let key = cache_key(&lookup);
        if let Some(answer) = self.cache.get(&key) {
            self.log_stats();
            return Ok(answer);
        }
        let names = &self.names;
        let mut clauses = vec![filter::equality(
            &names.user_principal_name,
            &lookup.user_principal_name,
        )];
        if let Some(sam) = &lookup.sam_account_name {
            clauses.push(filter::equality(&names.sam_account_name, sam));
        }
        let search = filter::and(&[self.user_filter.clone(), filter::or(&clauses)]);
        let entries = self
            .search(search, LOOKUP_SIZE_LIMIT, self.pool.timeout())
            .await?;
        let user = self.pick(&entries, &lookup, realm)?;
        self.cache.put(key, user.clone());
        self.log_stats();
        Ok(user)
    }

    /// Runs only after key trust has failed for the requested user. The values are
    /// DN-Binary strings whose hex differs with the key's encoding (RSA1 blob, PKCS#1,
    /// SPKI), so no server-side matching rule can find one key: this reads the users that
    /// have any value, up to the configured limit, and compares normalised keys here. The
    /// answer, "no owner" too, is then kept a minute: it only picks a refusal code.
    async fn find_key_owners(
        &self,
        public_key: &RsaPublicKey,
    ) -> Result<Vec<String>, DirectoryError> {
        if self.key_owner_search_limit == 0 {
            return Ok(Vec::new());
        }
        if let Some(answer) = self.owners.get(public_key) {
            return Ok(answer.unwrap_or_default());
        }
        let limit = i32::try_from(self.key_owner_search_limit).unwrap_or(i32::MAX);
        let search = filter::and(&[
            self.user_filter.clone(),
            filter::present(&self.names.key_credential_link),
        ]);
        let entries = self.search(search, limit, self.pool.timeout()).await?;
        let owners: Vec<String> = entries
            .iter()
            .filter_map(|entry| to_user(entry, &self.names, None))
            .filter(|user| user.registered_ngc_key(public_key).is_some())
            .map(|user| user.user_principal_name)
            .collect();
        let answer = (!owners.is_empty()).then(|| owners.clone());
        self.owners.put(public_key.clone(), answer);
        Ok(owners)
    }

    async fn groups_of(&self, user: &User) -> Result<Vec<Group>, DirectoryError> {
        self.read_groups(user).await
    }
}
