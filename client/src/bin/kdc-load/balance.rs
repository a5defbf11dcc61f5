//! Spreading requests over several KDCs (replicas of one realm, deploy/replicas.md) as a
//! load balancer with passive health checks does: round-robin or random per request; a KDC
//! that failed [`EJECT_AFTER`] times in a row (no answer: refused, reset, timeout) is
//! skipped for [`EJECT_FOR`], then gets one request at a time (a probe) until one is
//! answered, so a KDC that is still silent holds up one client, not all of them; a request
//! whose KDC did not answer is sent once more to another KDC. A KRB-ERROR is an answer, never
//! a reason to skip a KDC.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::options::Spread;

/// Consecutive failures that take a KDC out of the rotation.
pub const EJECT_AFTER: u32 = 3;
/// How long an ejected KDC is left alone before it gets requests again.
pub const EJECT_FOR: Duration = Duration::from_secs(1);

pub struct Balancer {
    kdcs: Vec<SocketAddr>,
    spread: Spread,
    eject_for: Duration,
    health: Vec<Health>,
}

#[derive(Default)]
struct Health {
    failures_in_a_row: AtomicU32,
    ejected_until: Mutex<Option<Instant>>,
    /// An ejected KDC's time is up and one request is finding out whether it answers again.
    probing: AtomicBool,
}

impl Balancer {
    pub fn new(kdcs: Vec<SocketAddr>, spread: Spread) -> anyhow::Result<Balancer> {
        Balancer::ejecting_for(kdcs, spread, EJECT_FOR)
    }

    fn ejecting_for(
        kdcs: Vec<SocketAddr>,
        spread: Spread,
        eject_for: Duration,
    ) -> anyhow::Result<Balancer> {
        if kdcs.is_empty() {
            anyhow::bail!("no KDC to send requests to");
        }
        let health = kdcs.iter().map(|_| Health::default()).collect();
        Ok(Balancer {
            kdcs,
            spread,
            eject_for,
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
            .find(|&i| self.takes_requests(i, now))
            .or_else(|| candidates.clone().find(|&i| Some(i) != avoid))
            .unwrap_or(first);
        self.kdcs
            .get(chosen)
            .map(|&addr| (chosen, addr))
            .unwrap_or(fallback)
    }

    /// Whether KDC `index` may have this request: it is healthy, or its ejection is over and
    /// no other request is probing it (this one then becomes the probe).
    fn takes_requests(&self, index: usize, now: Instant) -> bool {
        let Some(health) = self.health.get(index) else {
            return false;
        };
        if health.failures_in_a_row.load(Ordering::Relaxed) < EJECT_AFTER {
            return true;
        }
        let ejected = health
            .ejected_until
            .lock()
            .ok()
            .and_then(|until| *until)
            .is_some_and(|until| until > now);
        !ejected
            && health
                .probing
                .compare_exchange(false, true, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// What became of a request to KDC `index`: answered (anything Kerberos) or not.
    pub fn report(&self, index: usize, answered: bool) {
        let Some(health) = self.health.get(index) else {
            return;
        };
        if answered {
            health.failures_in_a_row.store(0, Ordering::Relaxed);
            health.probing.store(false, Ordering::Relaxed);
            return;
        }
        let failures = health.failures_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
        if failures >= EJECT_AFTER
            && let Ok(mut until) = health.ejected_until.lock()
        {
            *until = Some(Instant::now() + self.eject_for);
        }
        health.probing.store(false, Ordering::Relaxed);
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
        let picks: Vec<usize> = (0..300).map(|seq| random.pick(seq, None).0).collect();
        assert!(picks.iter().all(|&i| i < 3));
        // Each of three KDCs drawn 100 times in 300 on average: absent from every draw with
        // probability 3 * (2/3)^300, about 10^-52.
        assert!((0..3).all(|i| picks.contains(&i)), "{picks:?}");
    }

    #[test]
    fn after_its_ejection_a_kdc_gets_one_probe_at_a_time() {
        let kdcs = three().kdcs().to_vec();
        let balancer = Balancer::ejecting_for(kdcs, Spread::RoundRobin, Duration::ZERO).unwrap();
        for _ in 0..EJECT_AFTER {
            balancer.report(1, false);
        }
        // The ejection is over at once: the first request whose turn it is probes KDC 1, and
        // while that probe is out the others go on to KDC 2.
        let turns: Vec<usize> = (0..6).map(|seq| balancer.pick(seq, None).0).collect();
        assert_eq!(turns, [0, 1, 2, 0, 2, 2]);
        // Still silent: ejected again, then probed again.
        balancer.report(1, false);
        assert_eq!(balancer.pick(1, None).0, 1);
        assert_eq!(balancer.pick(4, None).0, 2);
        // It answered: back in the rotation for every request.
        balancer.report(1, true);
        let turns: Vec<usize> = (0..6).map(|seq| balancer.pick(seq, None).0).collect();
        assert_eq!(turns, [0, 1, 2, 0, 1, 2]);
    }
}
