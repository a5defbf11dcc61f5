//! Short-lived cache of UDP replies too big to send, for the client's TCP retry (RFC 4120 §7.2.1).
//!
//! A client told KRB_ERR_RESPONSE_TOO_BIG resends the same bytes over TCP; answering from
//! here saves a second key agreement. Keyed by SHA-256 of the request bytes only (as MIT's
//! lookaside cache is), since the retry comes on another socket. An optimisation only: a
//! miss means the handler runs again, never a wrong answer.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sha2::{Digest, Sha256};

/// SHA-256 of a request's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct ReplyKey([u8; 32]);

impl ReplyKey {
    pub(super) fn of(request: &[u8]) -> Self {
        Self(Sha256::digest(request).into())
    }
}

/// Bounded by entry count and age; the oldest entry goes first.
pub(super) struct ReplyCache {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    replies: HashMap<ReplyKey, Bytes>,
    /// Insertion order; one element per key in `replies`, oldest first.
    order: VecDeque<(ReplyKey, Instant)>,
}

impl ReplyCache {
    pub(super) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            entries: Mutex::new(Entries::default()),
        }
    }

    pub(super) fn is_enabled(&self) -> bool {
        self.capacity > 0 && !self.ttl.is_zero()
    }

    pub(super) fn get(&self, key: &ReplyKey, now: Instant) -> Option<Bytes> {
        if !self.is_enabled() {
            return None;
        }
        let mut entries = self.lock();
        entries.expire(now, self.ttl);
        entries.replies.get(key).cloned()
    }

    /// Keeps `reply` for the retry of the request with this key. A key already present
    /// keeps its first reply: both answer the same bytes, and order stays consistent.
    pub(super) fn insert(&self, key: ReplyKey, reply: Bytes, now: Instant) {
        if !self.is_enabled() {
            return;
        }
        let mut entries = self.lock();
        entries.expire(now, self.ttl);
        if entries.replies.contains_key(&key) {
            return;
        }
        while entries.replies.len() >= self.capacity {
            if !entries.evict_oldest() {
                break;
            }
        }
        entries.replies.insert(key, reply);
        entries.order.push_back((key, now));
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // A panic while holding the lock cannot leave the map and queue disagreeing in a
        // way that matters for a cache: at worst an entry lives until it is evicted.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Entries {
    fn expire(&mut self, now: Instant, ttl: Duration) {
        while let Some((_, stored_at)) = self.order.front() {
            if now.saturating_duration_since(*stored_at) < ttl {
                break;
            }
            self.evict_oldest();
        }
    }

    fn evict_oldest(&mut self) -> bool {
        match self.order.pop_front() {
            Some((key, _)) => {
                self.replies.remove(&key);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(60);

    fn reply(text: &'static str) -> Bytes {
        Bytes::from_static(text.as_bytes())
    }

    #[test]
    fn key_is_sha256_of_the_request() {
        // FIPS 180-2 appendix B.1: SHA-256("abc").
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let hex: String = ReplyKey::of(b"abc")
            .0
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, expected);
    }

    #[test]
    fn returns_the_stored_reply_until_it_expires() {
        let cache = ReplyCache::new(TTL, 10);
        let start = Instant::now();
        let key = ReplyKey::of(b"request");
        cache.insert(key, reply("big reply"), start);
        assert_eq!(cache.get(&key, start + TTL / 2), Some(reply("big reply")));
        assert_eq!(cache.get(&ReplyKey::of(b"other"), start), None);
        assert_eq!(cache.get(&key, start + TTL), None);
    }

    #[test]
    fn evicts_the_oldest_when_full() {
        let cache = ReplyCache::new(TTL, 2);
        let now = Instant::now();
        let keys = [b"one", b"two", b"six"].map(|request| ReplyKey::of(request));
        cache.insert(keys[0], reply("1"), now);
        cache.insert(keys[1], reply("2"), now + Duration::from_secs(1));
        cache.insert(keys[2], reply("3"), now + Duration::from_secs(2));
        let later = now + Duration::from_secs(3);
        assert_eq!(cache.get(&keys[0], later), None);
        assert_eq!(cache.get(&keys[1], later), Some(reply("2")));
        assert_eq!(cache.get(&keys[2], later), Some(reply("3")));
        assert_eq!(cache.lock().order.len(), 2);
    }

    #[test]
    fn reinserting_keeps_the_first_reply_and_one_queue_entry() {
        let cache = ReplyCache::new(TTL, 4);
        let now = Instant::now();
        let key = ReplyKey::of(b"request");
        cache.insert(key, reply("first"), now);
        cache.insert(key, reply("second"), now + Duration::from_secs(1));
        assert_eq!(cache.get(&key, now), Some(reply("first")));
        assert_eq!(cache.lock().order.len(), 1);
    }

    #[test]
    fn zero_capacity_or_ttl_disables_it() {
        let now = Instant::now();
        let key = ReplyKey::of(b"request");
        for cache in [ReplyCache::new(TTL, 0), ReplyCache::new(Duration::ZERO, 10)] {
            assert!(!cache.is_enabled());
            cache.insert(key, reply("r"), now);
            assert_eq!(cache.get(&key, now), None);
        }
    }
}
