//! In-memory cache of directory answers for the AS exchange: found users with their parsed
//! msDS-KeyCredentialLink values (MS-ADTS 2.2.20) for a TTL, and "no such user" for a shorter
//! one, so a hot principal costs no LDAP round trip; and the same for the key-owner search,
//! so a key presented again does not read the directory's keys again. Counters show how
//! well it works.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::dn_binary::normalize_dn;
use crate::{Group, PrincipalLookup, RsaPublicKey, User};

/// What the cache has done since the directory was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups answered with a cached user.
    pub hits: u64,
    /// Lookups answered with a cached "no such user".
    pub negative_hits: u64,
    /// Lookups that went to the server (including every lookup when the cache is off).
    pub misses: u64,
    /// Entries held now, expired ones included until they are swept.
    pub entries: usize,
}

impl CacheStats {
    /// Share of lookups answered from memory, 0.0 to 1.0.
    pub fn hit_rate(&self) -> f64 {
        let answered = self.hits + self.negative_hits;
        let total = answered + self.misses;
        if total == 0 {
            0.0
        } else {
            answered as f64 / total as f64
        }
    }
}

struct Cached<V> {
    value: Option<V>,
    expires: Instant,
}

/// Answers by key: `Some` for found, kept `ttl`; `None` for "none", kept `negative_ttl`.
pub struct Cache<K, V> {
    ttl: Duration,
    negative_ttl: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<K, Cached<V>>>,
    hits: AtomicU64,
    negative_hits: AtomicU64,
    misses: AtomicU64,
}

/// Users by [`cache_key`].
pub type UserCache = Cache<String, User>;
/// The owners' userPrincipalNames by key; no owner is the negative answer.
pub type KeyOwnerCache = Cache<RsaPublicKey, Vec<String>>;

/// A user's groups by [`group_cache_key`].
pub type GroupCache = Cache<String, Vec<Group>>;

/// The user's entry and what decides the primary group's SID: a user whose objectSid or
/// primaryGroupID changed is read anew.
pub fn group_cache_key(user: &User) -> String {
    format!(
        "{}\u{0}{}\u{0}{}",
        normalize_dn(&user.dn),
        user.object_sid
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        user.primary_group_id
    )
}

/// The lookup rule is part of the key: "alice" in realm R and the enterprise name
/// "alice@R" can resolve differently.
pub fn cache_key(lookup: &PrincipalLookup) -> String {
    format!(
        "{}\u{0}{}",
        lookup.user_principal_name.to_lowercase(),
        lookup
            .sam_account_name
            .as_deref()
            .map(str::to_lowercase)
            .unwrap_or_default()
    )
}

impl<K: Hash + Eq, V: Clone> Cache<K, V> {
    pub fn new(ttl: Duration, negative_ttl: Duration, max_entries: usize) -> Self {
        Cache {
            ttl,
            negative_ttl,
            max_entries,
            entries: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            negative_hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Cached<V>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `Some(answer)` when a live entry exists (`Some(None)`: known not to exist); counts
    /// the lookup either way.
    pub fn get<Q>(&self, key: &Q) -> Option<Option<V>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let now = Instant::now();
        let found = self
            .lock()
            .get(key)
            .filter(|cached| cached.expires > now)
            .map(|cached| cached.value.clone());
        let counter = match &found {
            Some(Some(_)) => &self.hits,
            Some(None) => &self.negative_hits,
            None => &self.misses,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub fn put(&self, key: K, value: Option<V>) {
        let ttl = if value.is_some() {
            self.ttl
        } else {
            self.negative_ttl
        };
        if ttl.is_zero() || self.max_entries == 0 {
            return;
        }
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= self.max_entries && !entries.contains_key(&key) {
            entries.retain(|_, cached| cached.expires > now);
            if entries.len() >= self.max_entries {
                // Still full of live entries: start over rather than track recency on the
                // hot path; the next lookups refill it.
                entries.clear();
            }
        }
        entries.insert(
            key,
            Cached {
                value,
                expires: now + ttl,
            },
        );
    }

    /// Forgets everything, after a write through this process.
    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            negative_hits: self.negative_hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.lock().len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(upn: &str) -> User {
        User {
            dn: format!("CN={upn}"),
            user_principal_name: upn.into(),
            sam_account_name: None,
            user_account_control: 0x200,
            account_expires: 0,
            lockout_time: 0,
            pwd_last_set: 0,
            key_credentials: Vec::new(),
            alt_security_identities: Vec::new(),
            object_sid: None,
            primary_group_id: 513,
        }
    }

    #[test]
    fn hits_misses_and_negative_entries_are_counted() {
        let cache = UserCache::new(Duration::from_secs(30), Duration::from_secs(5), 10);
        let key = cache_key(&PrincipalLookup::new("Alice", "EXAMPLE.TEST"));
        assert_eq!(
            key,
            cache_key(&PrincipalLookup::new("alice", "example.test"))
        );
        assert_eq!(cache.get(&key), None);
        cache.put(key.clone(), Some(user("alice@EXAMPLE.TEST")));
        assert_eq!(cache.get(&key), Some(Some(user("alice@EXAMPLE.TEST"))));
        cache.put("nobody".into(), None);
        assert_eq!(cache.get("nobody"), Some(None));
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.negative_hits, stats.misses), (1, 1, 1));
        assert_eq!(stats.entries, 2);
        assert!((stats.hit_rate() - 2.0 / 3.0).abs() < 1e-9);
        cache.clear();
        assert_eq!(cache.get(&key), None);
    }

    #[test]
    fn zero_ttl_caches_nothing_and_entries_expire() {
        let off = UserCache::new(Duration::ZERO, Duration::ZERO, 10);
        off.put("k".into(), Some(user("a@X")));
        off.put("n".into(), None);
        assert_eq!(off.stats().entries, 0);

        let short = UserCache::new(Duration::from_millis(30), Duration::ZERO, 10);
        short.put("k".into(), Some(user("a@X")));
        short.put("n".into(), None);
        assert!(short.get("k").is_some());
        assert_eq!(short.get("n"), None, "negative cache off");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(short.get("k"), None);
    }

    #[test]
    fn a_full_cache_never_grows_past_its_bound() {
        let cache = UserCache::new(Duration::from_secs(30), Duration::from_secs(30), 3);
        for i in 0..10 {
            cache.put(format!("k{i}"), None);
            assert!(cache.stats().entries <= 3);
        }
        assert_eq!(cache.get("k9"), Some(None));
    }

    /// Groups are cached per entry (any spelling of its DN) and primary group.
    #[test]
    fn group_keys_follow_the_entry_and_its_primary_group() {
        let mut alice = user("alice@X");
        alice.dn = "CN=Alice,CN=Users,DC=x".into();
        let mut same = alice.clone();
        same.dn = "cn=alice, cn=users, dc=x".into();
        assert_eq!(group_cache_key(&alice), group_cache_key(&same));
        let mut moved = alice.clone();
        moved.primary_group_id = 1201;
        assert_ne!(group_cache_key(&alice), group_cache_key(&moved));
        let mut with_sid = alice.clone();
        with_sid.object_sid = Some("S-1-5-21-1-2-3-1103".parse().unwrap());
        assert_ne!(group_cache_key(&alice), group_cache_key(&with_sid));
    }

    /// The key-owner search's answers, "no owner" included, are served until they expire.
    #[test]
    fn key_owner_answers_are_cached_negative_too() {
        use crate::keycredlink::RsaPublicKey;
        let key =
            |n: u8| RsaPublicKey::from_components(&[n, 0, 0, 0x01], &[0x01, 0x00, 0x01]).unwrap();
        let cache = KeyOwnerCache::new(Duration::from_secs(60), Duration::from_secs(60), 2);
        assert_eq!(cache.get(&key(1)), None);
        cache.put(key(1), None);
        cache.put(key(2), Some(vec!["bob@X".into()]));
        assert_eq!(cache.get(&key(1)), Some(None));
        assert_eq!(cache.get(&key(2)), Some(Some(vec!["bob@X".to_owned()])));
        cache.put(key(3), None);
        assert!(cache.stats().entries <= 2);
    }
}
