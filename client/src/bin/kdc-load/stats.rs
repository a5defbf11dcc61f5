//! Counting what a load run saw: every exchange's outcome, KRB-ERROR codes (RFC 4120 §7.5.9)
//! and other failures, and exact latency percentiles from sorted samples.
//!
//! Exact samples rather than an HDR histogram: one `u32` of microseconds per exchange is
//! 4 bytes (a million exchanges: 4 MiB), percentiles are exact, and no crate is needed.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Why an exchange brought no usable Kerberos answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// No reply within the timeout.
    Timeout,
    /// Connecting, sending or receiving failed.
    Transport,
    /// A reply that is neither the expected reply nor a KRB-ERROR, or one that failed
    /// verification (signature, nonce, decryption).
    BadReply,
}

impl Failure {
    pub fn name(self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Transport => "transport",
            Failure::BadReply => "bad_reply",
        }
    }
}

/// What one exchange ended in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The expected reply; `verified` when it was fully checked (the sample).
    Ok {
        verified: bool,
    },
    KrbError(i32),
    Failed(Failure),
}

/// Live counters (read by the progress line) and the samples of one phase.
#[derive(Default)]
pub struct Recorder {
    done: AtomicU64,
    problems: AtomicU64,
    inner: Mutex<Tally>,
}

/// Everything a phase counted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    pub ok: u64,
    pub verified: u64,
    pub krb_errors: BTreeMap<i32, u64>,
    pub failures: BTreeMap<Failure, u64>,
    /// Latency of every exchange that brought the expected reply, in microseconds.
    pub latencies_us: Vec<u32>,
    /// Requests that had to wait for the pool of prepared requests.
    pub pool_waits: u64,
    /// Requests sent again to another KDC because theirs did not answer.
    pub retries: u64,
    /// Why the first bad reply was bad, to show the operator.
    pub first_bad_reply: Option<String>,
}

impl Tally {
    pub fn krb_error_count(&self) -> u64 {
        self.krb_errors.values().sum()
    }

    pub fn failure_count(&self) -> u64 {
        self.failures.values().sum()
    }

    /// Every exchange that ended, whatever the outcome.
    pub fn total(&self) -> u64 {
        self.ok + self.krb_error_count() + self.failure_count()
    }
}

impl Recorder {
    pub fn record(&self, outcome: Outcome, latency: Duration) {
        self.done.fetch_add(1, Ordering::Relaxed);
        if !matches!(outcome, Outcome::Ok { .. }) {
            self.problems.fetch_add(1, Ordering::Relaxed);
        }
        let Ok(mut tally) = self.inner.lock() else {
            return;
        };
        match outcome {
            Outcome::Ok { verified } => {
                tally.ok += 1;
                tally.verified += u64::from(verified);
                let micros = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
                tally.latencies_us.push(micros);
            }
            Outcome::KrbError(code) => *tally.krb_errors.entry(code).or_default() += 1,
            Outcome::Failed(failure) => *tally.failures.entry(failure).or_default() += 1,
        }
    }

    /// Keeps the reason of the first reply that failed its check.
    pub fn bad_reply(&self, why: impl FnOnce() -> String) {
        if let Ok(mut tally) = self.inner.lock()
            && tally.first_bad_reply.is_none()
        {
            tally.first_bad_reply = Some(why());
        }
    }

    pub fn retry(&self) {
        if let Ok(mut tally) = self.inner.lock() {
            tally.retries += 1;
        }
    }

    pub fn pool_wait(&self) {
        if let Ok(mut tally) = self.inner.lock() {
            tally.pool_waits += 1;
        }
    }

    /// (exchanges ended, of which not ok) so far.
    pub fn counters(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.problems.load(Ordering::Relaxed),
        )
    }

    pub fn finish(&self) -> Tally {
        self.inner.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

/// Latency summary in microseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percentiles {
    pub p50: u32,
    pub p90: u32,
    pub p99: u32,
    pub p99_9: u32,
    pub max: u32,
    pub mean: f64,
}

/// Nearest-rank percentiles: the p-th percentile of n samples is the ceil(p/100 * n)-th
/// smallest. None for no samples.
pub fn percentiles(samples: &[u32]) -> Option<Percentiles> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let max = *sorted.last()?;
    let sum: u64 = sorted.iter().map(|&s| u64::from(s)).sum();
    let rank = |per_mille: u64| -> u32 {
        let n = sorted.len() as u64;
        let index = (per_mille * n).div_ceil(1000).max(1) - 1;
        usize::try_from(index)
            .ok()
            .and_then(|i| sorted.get(i))
            .copied()
            .unwrap_or(max)
    };
    Some(Percentiles {
        p50: rank(500),
        p90: rank(900),
        p99: rank(990),
        p99_9: rank(999),
        max,
        mean: sum as f64 / sorted.len() as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_on_one_to_a_thousand() {
        // Shuffled, so the sort is exercised: 1..=1000 in a scrambled order.
        let samples: Vec<u32> = (0..1000u32).map(|i| (i * 7919) % 1000 + 1).collect();
        let p = percentiles(&samples).unwrap();
        assert_eq!(
            (p.p50, p.p90, p.p99, p.p99_9, p.max),
            (500, 900, 990, 999, 1000)
        );
        assert!((p.mean - 500.5).abs() < 1e-9);
    }

    #[test]
    fn small_sample_sets() {
        assert_eq!(percentiles(&[]), None);
        let one = percentiles(&[42]).unwrap();
        assert_eq!((one.p50, one.p99_9, one.max), (42, 42, 42));
        // Ten samples: p50 is the 5th, p90 the 9th, p99 and p99.9 the 10th smallest.
        let ten = percentiles(&[10, 1, 9, 2, 8, 3, 7, 4, 6, 5]).unwrap();
        assert_eq!((ten.p50, ten.p90, ten.p99, ten.p99_9), (5, 9, 10, 10));
    }

    #[test]
    fn recorder_counts_each_outcome() {
        let recorder = Recorder::default();
        let ms = Duration::from_millis;
        recorder.record(Outcome::Ok { verified: true }, ms(3));
        recorder.record(Outcome::Ok { verified: false }, ms(1));
        recorder.record(Outcome::KrbError(62), ms(2));
        recorder.record(Outcome::KrbError(62), ms(2));
        recorder.record(Outcome::KrbError(24), ms(2));
        recorder.record(Outcome::Failed(Failure::Timeout), ms(5000));
        recorder.pool_wait();
        assert_eq!(recorder.counters(), (6, 4));
        let tally = recorder.finish();
        assert_eq!((tally.ok, tally.verified, tally.pool_waits), (2, 1, 1));
        assert_eq!(tally.krb_errors, BTreeMap::from([(24, 1), (62, 2)]));
        assert_eq!(tally.failures, BTreeMap::from([(Failure::Timeout, 1)]));
        assert_eq!(tally.latencies_us, vec![3000, 1000]);
        assert_eq!(tally.total(), 6);
    }
}
