//! Spreading requests over several KDCs (replicas of one realm, deploy/replicas.md) as a
//! load balancer with passive health checks does: round-robin or random per request; a KDC
//! that failed [`EJECT_AFTER`] times in a row (no answer: refused, reset, timeout) is
//! skipped for [`EJECT_FOR`], then tried again; a request whose KDC did not answer is sent
//! once more to another KDC. A KRB-ERROR is an answer, never a reason to skip a KDC.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::options::Spread;

/// Consecutive failures that take a KDC out of the rotation.
pub const EJECT_AFTER: u32 = 3;
/// How long an ejected KDC is left alone before it gets requests again.
pub const EJECT_FOR: Duration = Duration::from_secs(1);

pub struct Balancer {
    kdcs: Vec<SocketAddr>,
    spread: Spread,
    health: Vec<Health>,
}

#[derive(Default)]
struct Health {
    failures_in_a_row: AtomicU32,
    ejected_until: Mutex<Option<Instant>>,
}

impl Balancer {
    pub fn new(kdcs: Vec<SocketAddr>, spread: Spread) -> anyhow::Result<Balancer> {
        if kdcs.is_empty() {
            anyhow::bail!("no KDC to send requests to");
        }
        let health = kdcs.iter().map(|_| Health::default()).collect();
        Ok(Balancer {
            kdcs,
            spread,
            health,
        })
    }

    pub fn kdcs(&self) -> &[SocketAddr] {
        &self.kdcs
    }

    /// The KDC for request `seq`: its turn (round-robin) or a random one, else the next
    /// one in the rotation, `avoid` last; every KDC ejected: the first choice anyway.
    pub fn pick(&self, seq: u64, avoid: Option<usize>) -> (usize, SocketAddr) {
        let fallback = (
            0,
            self.kdcs
                .first()
                .copied()
                .unwrap_or(([0, 0, 0, 0], 0).into()),
        );
        let n = self.kdcs.len().max(1);
        let first = match self.spread {
            Spread::RoundRobin => (seq % n as u64) as usize,
            Spread::Random => random_index(n),
        };
        let now = Instant::now();
        let candidates = (0..n).map(|i| (first + i) % n);
        let chosen = candidates
            .clone()
            .filter(|&i| Some(i) != avoid)
            .find(|&i| !self.ejected(i, now))
            .or_else(|| candidates.clone().find(|&i| Some(i) != avoid))
            .unwrap_or(first);
        self.kdcs
            .get(chosen)
            .map(|&addr| (chosen, addr))
            .unwrap_or(fallback)
    }

    fn ejected(&self, index: usize, now: Instant) -> bool {
        self.health
            .get(index)
            .and_then(|h| h.ejected_until.lock().ok().and_then(|until| *until))
            .is_some_and(|until| until > now)
    }

    /// What became of a request to KDC `index`: answered (anything Kerberos) or not.
    pub fn report(&self, index: usize, answered: bool) {
        let Some(health) = self.health.get(index) else {
            return;
        };
        if answered {
            health.failures_in_a_row.store(0, Ordering::Relaxed);
            return;
        }
        let failures = health.failures_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
        if failures >= EJECT_AFTER
            && let Ok(mut until) = health.ejected_until.lock()
        {
            *until = Some(Instant::now() + EJECT_FOR);
        }
    }
}

fn random_index(n: usize) -> usize {
    let mut bytes = [0u8; 8];
    // A failed draw falls back to the first KDC: only the spread suffers.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    (u64::from_le_bytes(bytes) % n as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Balancer {
        let kdcs = (1..=3)
            .map(|i| SocketAddr::from(([127, 0, 0, i], 88)))
            .collect();
        Balancer::new(kdcs, Spread::RoundRobin).unwrap()
    }

    #[test]
    fn round_robin_takes_turns_and_skips_a_kdc_that_stopped_answering() {
        let balancer = three();
        let turns: Vec<usize> = (0..6).map(|seq| balancer.pick(seq, None).0).collect();
        assert_eq!(turns, [0, 1, 2, 0, 1, 2]);
        for _ in 0..EJECT_AFTER {
            balancer.report(1, false);
        }
        let turns: Vec<usize> = (0..6).map(|seq| balancer.pick(seq, None).0).collect();
        assert_eq!(turns, [0, 2, 2, 0, 2, 2]);
        // A retry goes elsewhere than the KDC that failed it.
        assert_eq!(balancer.pick(0, Some(0)).0, 2);
    }

    #[test]
    fn an_answer_resets_the_count_and_random_stays_in_range() {
        let balancer = three();
        balancer.report(1, false);
        balancer.report(1, false);
        balancer.report(1, true);
        balancer.report(1, false);
        assert_eq!(
            balancer.pick(1, None).0,
            1,
            "not ejected: the count restarted"
        );
        let random = Balancer::new(balancer.kdcs().to_vec(), Spread::Random).unwrap();
        assert!((0..100).all(|seq| random.pick(seq, None).0 < 3));
    }
}
