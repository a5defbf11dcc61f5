//! The lookaside cache: every reply kept a short while, keyed by SHA-256 of the request bytes
//! (as MIT's lookaside cache is), so the same bytes sent again get the same reply with no new
//! work: a UDP retransmission, the TCP retry of a reply too big for UDP (RFC 4120 §7.2.1),
//! or a replayed AS-REQ, which would otherwise cost a key agreement and a KDC signature (a
//! TPM one in direct mode). The reply is what the first sender got, sealed under its keys, so
//! a replayer learns nothing new. Bounded by entries, bytes and age; a miss means the handler
//! runs again, never a wrong answer.

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

/// Bounded by entry count, bytes and age; the oldest entry goes first.
pub(super) struct ReplyCache {
    ttl: Duration,
    capacity: usize,
    max_bytes: usize,
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    replies: HashMap<ReplyKey, Bytes>,
    /// Sum of the replies' lengths.
    bytes: usize,
    /// Insertion order; one element per key in `replies`, oldest first.
    order: VecDeque<(ReplyKey, Instant)>,
}

impl ReplyCache {
    pub(super) fn new(ttl: Duration, capacity: usize, max_bytes: usize) -> Self {
        Self {
            ttl,
            capacity,
            max_bytes,
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

    /// Keeps `reply` for a resend of the request with this key. A key already present
    /// keeps its first reply: both answer the same bytes, and order stays consistent.
    pub(super) fn insert(&self, key: ReplyKey, reply: Bytes, now: Instant) {
        if !self.is_enabled() || reply.len() > self.max_bytes {
            return;
        }
        let mut entries = self.lock();
        entries.expire(now, self.ttl);
        if entries.replies.contains_key(&key) {
            return;
        }
        while entries.replies.len() >= self.capacity
            || entries.bytes.saturating_add(reply.len()) > self.max_bytes
        {
            if !entries.evict_oldest() {
                break;
            }
        }
        entries.bytes = entries.bytes.saturating_add(reply.len());
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
                if let Some(reply) = self.replies.remove(&key) {
                    self.bytes = self.bytes.saturating_sub(reply.len());
                }
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
        let cache = ReplyCache::new(TTL, 10, 1000);
        let start = Instant::now();
        let key = ReplyKey::of(b"request");
        cache.insert(key, reply("big reply"), start);
        assert_eq!(cache.get(&key, start + TTL / 2), Some(reply("big reply")));
        assert_eq!(cache.get(&ReplyKey::of(b"other"), start), None);
        assert_eq!(cache.get(&key, start + TTL), None);
    }

    #[test]
    fn evicts_the_oldest_when_full() {
        let cache = ReplyCache::new(TTL, 2, 1000);
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
        let cache = ReplyCache::new(TTL, 4, 1000);
        let now = Instant::now();
        let key = ReplyKey::of(b"request");
        cache.insert(key, reply("first"), now);
        cache.insert(key, reply("second"), now + Duration::from_secs(1));
        assert_eq!(cache.get(&key, now), Some(reply("first")));
        assert_eq!(cache.lock().order.len(), 1);
    }

    #[test]
    fn the_byte_bound_evicts_the_oldest_and_refuses_a_reply_larger_than_itself() {
        let cache = ReplyCache::new(TTL, 100, 10);
        let now = Instant::now();
        let keys = [b"one", b"two", b"big"].map(|request| ReplyKey::of(request));
        cache.insert(keys[0], reply("123456"), now);
        cache.insert(keys[1], reply("7890"), now);
        assert_eq!(cache.lock().bytes, 10);
        cache.insert(keys[2], reply("abc"), now);
        assert_eq!(cache.get(&keys[0], now), None, "evicted to make room");
        assert_eq!(cache.get(&keys[2], now), Some(reply("abc")));
        assert_eq!(cache.lock().bytes, 7);
        cache.insert(ReplyKey::of(b"huge"), reply("0123456789a"), now);
        assert_eq!(cache.get(&ReplyKey::of(b"huge"), now), None);
        assert_eq!(cache.lock().bytes, 7);
    }

    #[test]
    fn zero_capacity_or_ttl_disables_it() {
        let now = Instant::now();
        let key = ReplyKey::of(b"request");
        for cache in [
            ReplyCache::new(TTL, 0, 1000),
            ReplyCache::new(Duration::ZERO, 10, 1000),
        ] {
            assert!(!cache.is_enabled());
            cache.insert(key, reply("r"), now);
            assert_eq!(cache.get(&key, now), None);
        }
    }
}
