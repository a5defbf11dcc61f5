//! The LDAP directory backend (RFC 4511 operations, RFC 4513 bind and TLS, RFC 4515 filters,
//! RFC 4516 URLs) for Active Directory and OpenLDAP with the AD attributes (deploy/ldap/):
//! users by userPrincipalName or sAMAccountName, their msDS-KeyCredentialLink values
//! (MS-ADTS 2.2.20) parsed once and cached, their groups (`groups`), and the admin writes
//! of `admin`.

mod admin;
mod cache;
mod entry;
pub mod filter;
mod groups;
mod lookup;
mod pool;
mod principals;
mod rdn;
mod tls;

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kdc_config::{GroupMembership, LdapAttributeNames, LdapConfig};
use ldap3::{Scope, SearchResult};
use zeroize::Zeroizing;

pub use cache::CacheStats;

use cache::{GroupCache, KeyOwnerCache, UserCache};
use pool::{Endpoint, Failure, Pool, describe};

use crate::DirectoryError;

/// Most entries one principal lookup may return: more means the data is ambiguous.
const LOOKUP_SIZE_LIMIT: i32 = 10;
/// How long a key-owner answer (owners found, or none) is kept. The answer only tells two
/// refusals apart (name mismatch or not trusted), so a stale one costs a wrong code for this
/// long, never a ticket; each miss reads up to `key_owner_search_limit` entries.
const KEY_OWNER_CACHE_TTL: Duration = Duration::from_secs(60);
/// Keys whose owners are remembered at most.
const KEY_OWNER_CACHE_ENTRIES: usize = 4096;
/// How often the cache counters are logged, at most.
const STATS_LOG_INTERVAL: Duration = Duration::from_secs(60);

pub struct LdapDirectory {
    pool: Pool,
    base_dn: String,
    /// Where kdcPrincipal entries (krbtgt and service keys) live.
    principals_base_dn: String,
    user_filter: String,
    names: LdapAttributeNames,
    cache: UserCache,
    owners: KeyOwnerCache,
    key_owner_search_limit: usize,
    new_user_object_classes: Vec<String>,
    group_membership: GroupMembership,
    group_filter: String,
    groups: GroupCache,
    stats_logged: Mutex<Instant>,
}

fn invalid(message: String) -> DirectoryError {
    DirectoryError::Invalid(message)
}

/// The bind password: the file's text without its final line break. An empty password
/// would make the simple bind unauthenticated (RFC 4513 §5.1.2), so it is refused.
fn read_password(path: &Path) -> Result<Zeroizing<String>, DirectoryError> {
    let text =
        Zeroizing::new(
            std::fs::read_to_string(path).map_err(|source| DirectoryError::Io {
                path: path.to_path_buf(),
                source,
            })?,
        );
    let password = Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_string());
    if password.is_empty() {
        return Err(invalid(format!(
            "bind password file {} is empty",
            path.display()
        )));
    }
    #[cfg(unix)]
    if let Ok(metadata) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o077 != 0 {
            tracing::warn!(file = %path.display(), "bind password file is readable by others; chmod 600 it");
        }
    }
    Ok(password)
}

impl LdapDirectory {
    /// Checks the settings (the rules `[directory]` is loaded with, for settings made in
    /// code) and reads the password and CA files; connects lazily, so a server that is down
    /// now does not stop the KDC from starting (see [`Self::check`]).
    pub fn new(settings: &LdapConfig) -> Result<Self, DirectoryError> {
        settings
            .check()
            .map_err(|(key, message)| invalid(format!("{key}: {message}")))?;
        let user_filter = filter::normalize_base_filter(&settings.user_filter).map_err(invalid)?;
        let group_filter =
            filter::normalize_base_filter(&settings.group_filter).map_err(invalid)?;
        let bind = match (&settings.bind_dn, &settings.bind_password_file) {
            (Some(dn), Some(file)) => Some((dn.clone(), read_password(file)?)),
            _ => None,
        };
        let connection = tls::connection_settings(settings.starttls, settings.ca_file.as_deref())?;
        let endpoint = Endpoint {
            urls: settings.urls.clone(),
            connection,
            bind,
            timeout: settings.timeout(),
            backoff: settings.reconnect_backoff(),
            backoff_max: settings.reconnect_backoff_max(),
        };
        Ok(LdapDirectory {
            pool: Pool::new(endpoint, settings.pool_size),
            principals_base_dn: settings
                .principals_base_dn
                .clone()
                .unwrap_or_else(|| settings.base_dn.clone()),
            base_dn: settings.base_dn.clone(),
            user_filter,
            names: settings.attributes.clone(),
            cache: UserCache::new(
                settings.cache_ttl(),
                settings.negative_cache_ttl(),
                settings.cache_max_entries,
            ),
            owners: KeyOwnerCache::new(
                KEY_OWNER_CACHE_TTL,
                KEY_OWNER_CACHE_TTL,
                KEY_OWNER_CACHE_ENTRIES,
            ),
            key_owner_search_limit: settings.key_owner_search_limit,
            new_user_object_classes: settings.new_user_object_classes.clone(),
            group_membership: settings.group_membership,
            group_filter,
            groups: GroupCache::new(
                settings.cache_ttl(),
                settings.cache_ttl(),
                settings.cache_max_entries,
            ),
            stats_logged: Mutex::new(Instant::now()),
        })
    }

    /// Connects and reads the base entry, to report a wrong URL, password or base DN now.
    pub async fn check(&self) -> Result<(), DirectoryError> {
        let base = self.base_dn.clone();
        let SearchResult(_, result) = self
            .pool
            .run(|mut ldap| {
                let base = base.clone();
                async move {
                    ldap.search(&base, Scope::Base, "(objectClass=*)", vec!["1.1"])
                        .await
                }
            })
            .await
            .map_err(Failure::into_error)?;
        match result.rc {
            0 => Ok(()),
            _ => Err(DirectoryError::Unavailable(format!(
                "base DN {}: {}",
                self.base_dn,
                describe(&result)
            ))),
        }
    }

    /// The user cache's counters (also logged every minute while lookups happen).
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// The key-owner cache's counters.
    pub fn key_owner_cache_stats(&self) -> CacheStats {
        self.owners.stats()
    }

    /// The group cache's counters.
    pub fn group_cache_stats(&self) -> CacheStats {
        self.groups.stats()
    }

    /// Forgets every cached answer, after a write through this process.
    fn forget(&self) {
        self.cache.clear();
        self.owners.clear();
        self.groups.clear();
    }

    fn log_stats(&self) {
        let Ok(mut last) = self.stats_logged.try_lock() else {
            return;
        };
        if last.elapsed() >= STATS_LOG_INTERVAL {
            *last = Instant::now();
            let stats = self.cache.stats();
            tracing::info!(
                hits = stats.hits,
                negative_hits = stats.negative_hits,
                misses = stats.misses,
                entries = stats.entries,
                hit_rate = format!("{:.1}%", stats.hit_rate() * 100.0),
                "LDAP user cache"
            );
        }
    }

    /// The attributes every user read asks for.
    fn user_attributes(&self) -> Vec<String> {
        self.names.read_for_users().map(String::from).to_vec()
    }
}
