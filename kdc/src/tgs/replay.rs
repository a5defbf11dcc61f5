//! The replay cache of TGS authenticators (RFC 4120 §3.3.2 with §3.2.3: a KDC rejects an
//! authenticator it has seen, KRB_AP_ERR_REPEAT): each authenticator that passed every other
//! check is remembered by (client, ctime, cusec, checksum) until its ctime leaves the clock
//! skew, after which the skew check refuses it anyway. A resend of the same TGS-REQ bytes is
//! the lookaside cache's (same reply), not a replay; a new request reusing an authenticator
//! is one. Bounded: past `capacity` the oldest entries go, which only reopens the oldest
//! window. Each KDC process keeps its own (DESIGN.md: what replicas share).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

/// The default bound: ~100 bytes an entry.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// What identifies one authenticator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// SHA-256 over the client's realm and name, ctime, cusec and the request checksum, each
    /// length-prefixed so no two tuples hash the same input.
    pub fn of(crealm: &[u8], cname: &[&[u8]], ctime: i64, cusec: i64, checksum: &[u8]) -> Self {
        let mut hash = Sha256::new();
        let mut field = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_be_bytes());
            hash.update(bytes);
        };
        field(crealm);
        for component in cname {
            field(component);
        }
        field(&ctime.to_be_bytes());
        field(&cusec.to_be_bytes());
        field(checksum);
        Self(hash.finalize().into())
    }
}

pub struct ReplayCache {
    capacity: usize,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    until: HashMap<Fingerprint, SystemTime>,
    /// Insertion order, oldest first; one element per key of `until`.
    order: VecDeque<Fingerprint>,
}

impl ReplayCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Records an authenticator that may be replayed until `until`; false if it was seen
    /// already (a replay).
    pub fn first_use(&self, fingerprint: Fingerprint, now: SystemTime, until: SystemTime) -> bool {
        let mut seen = self.lock();
        if seen.until.get(&fingerprint).is_some_and(|&end| end > now) {
            return false;
        }
        seen.forget_expired(now);
        while seen.until.len() >= self.capacity.max(1) {
            let Some(oldest) = seen.order.pop_front() else {
                break;
            };
            seen.until.remove(&oldest);
        }
        if seen.until.insert(fingerprint, until).is_none() {
            seen.order.push_back(fingerprint);
        }
        true
    }

    fn lock(&self) -> MutexGuard<'_, Seen> {
        // A holder that panicked leaves at worst an entry too many or too few.
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Seen {
    /// Drops expired entries from the front of the insertion order (entries expire roughly
    /// in that order; a later one expiring earlier waits for its turn or for the bound).
    fn forget_expired(&mut self, now: SystemTime) {
        while let Some(oldest) = self.order.front() {
            match self.until.get(oldest) {
                Some(&end) if end > now => break,
                _ => {
                    if let Some(oldest) = self.order.pop_front() {
                        self.until.remove(&oldest);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn fp(n: u8) -> Fingerprint {
        Fingerprint::of(
            b"EXAMPLE.TEST",
            &[b"alice"],
            1_700_000_000,
            i64::from(n),
            b"cksum",
        )
    }

    #[test]
    fn a_second_use_within_the_window_is_a_replay() {
        let cache = ReplayCache::new(10);
        assert!(cache.first_use(fp(1), at(0), at(300)));
        assert!(!cache.first_use(fp(1), at(10), at(300)));
        assert!(cache.first_use(fp(2), at(10), at(300)));
        // After the window the skew check refuses it; the cache may forget it.
        assert!(cache.first_use(fp(1), at(301), at(601)));
    }

    #[test]
    fn every_field_tells_authenticators_apart() {
        let base = Fingerprint::of(b"R", &[b"alice"], 1, 2, b"c");
        for other in [
            Fingerprint::of(b"S", &[b"alice"], 1, 2, b"c"),
            Fingerprint::of(b"R", &[b"bob"], 1, 2, b"c"),
            Fingerprint::of(b"R", &[b"ali", b"ce"], 1, 2, b"c"),
            Fingerprint::of(b"R", &[b"alice"], 2, 2, b"c"),
            Fingerprint::of(b"R", &[b"alice"], 1, 3, b"c"),
            Fingerprint::of(b"R", &[b"alice"], 1, 2, b"d"),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn memory_is_bounded_by_dropping_the_oldest() {
        let cache = ReplayCache::new(3);
        for n in 0..5 {
            assert!(cache.first_use(fp(n), at(0), at(300)));
        }
        assert_eq!(cache.lock().until.len(), 3);
        assert!(!cache.first_use(fp(4), at(1), at(300)));
        assert!(
            cache.first_use(fp(0), at(1), at(300)),
            "the oldest was dropped"
        );
    }
}
