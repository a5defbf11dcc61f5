//! One measured phase: N clients, each with one request in flight, take prepared requests,
//! send them on schedule (a fixed rate, or back to back), time the reply, and classify it:
//! AS-REP / TGS-REP (RFC 4120 §5.4.2), fully checked for the verified sample, or KRB-ERROR
//! (§5.9.1) by code.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kdc_client::tgs::read_tgs_reply;
use kdc_client::{ClientError, ClientOptions, read_reply};
use rasn_kerberos::KrbError;
use tokio::time::Instant;

use super::balance::Balancer;
use super::options::{Amount, TransportKind};
use super::pool::{Pool, Prepared, Tgt};
use super::stats::{Failure, Outcome, Recorder};
use super::target::Target;
use super::transport;

/// APPLICATION 11 (AS-REP), 13 (TGS-REP), 30 (KRB-ERROR), constructed.
const TAG_AS_REP: u8 = 0x6b;
const TAG_TGS_REP: u8 = 0x6d;
const TAG_KRB_ERROR: u8 = 0x7e;
/// RFC 4120 §7.5.1: the TGS-REP enc-part under the TGT session key.
const KEY_USAGE_TGS_REP_SESSION_KEY: u32 = 8;

pub struct Phase {
    pub target: Arc<Target>,
    pub balancer: Arc<Balancer>,
    /// Every attempt, by the KDC it went to (the index of `balancer.kdcs()`).
    pub by_kdc: Vec<Arc<Recorder>>,
    pub options: Arc<Vec<ClientOptions>>,
    pub tgts: Arc<Vec<Tgt>>,
    pub pool: Pool,
    pub recorder: Arc<Recorder>,
    pub transport: TransportKind,
    pub amount: Amount,
    pub rate: Option<f64>,
    pub concurrency: u32,
    pub verify_sample: f64,
    pub timeout: Duration,
}

/// Runs the phase to its end; returns the wall time from the first send to the last reply.
pub async fn run(phase: Arc<Phase>) -> Duration {
    let start = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..phase.concurrency)
        .map(|_| tokio::spawn(client(phase.clone(), next.clone(), start)))
        .collect();
    for client in clients {
        let _ = client.await;
    }
    start.elapsed()
}

async fn client(phase: Arc<Phase>, next: Arc<AtomicU64>, start: Instant) {
    loop {
        let seq = next.fetch_add(1, Ordering::Relaxed);
        let due = phase
            .rate
            .map(|rate| start + Duration::from_secs_f64(seq as f64 / rate));
        match phase.amount {
            Amount::Count(count) if seq >= count => return,
            Amount::Duration(length) if due.unwrap_or_else(Instant::now) >= start + length => {
                return;
            }
            _ => {}
        }
        let Some(prepared) = phase.pool.take(&phase.recorder).await else {
            return;
        };
        // A client behind schedule (its previous reply came late) counts from the scheduled
        // time, so time spent queued behind a slow KDC is not hidden (no coordinated
        // omission). A client ahead of it sleeps, and counts from when it sends: the timer
        // wakes it up to a millisecond late, and that delay is the generator's, not the KDC's.
        let began = match due {
            Some(due) if due > Instant::now() => {
                tokio::time::sleep_until(due).await;
                Instant::now()
            }
            Some(due) => due,
            None => Instant::now(),
        };
        let (mut index, mut kdc) = phase.balancer.pick(seq, None);
        let mut retried = false;
        let outcome = loop {
            let attempt = Instant::now();
            let outcome = send(&phase, &prepared, kdc, seq).await;
            let answered = !matches!(
                outcome,
                Outcome::Failed(Failure::Timeout | Failure::Transport)
            );
            phase.balancer.report(index, answered);
            if let Some(recorder) = phase.by_kdc.get(index) {
                recorder.record(outcome, attempt.elapsed());
            }
            if answered || retried || phase.balancer.kdcs().len() < 2 {
                break outcome;
            }
            retried = true;
            phase.recorder.retry();
            (index, kdc) = phase.balancer.pick(seq, Some(index));
        };
        phase.recorder.record(outcome, began.elapsed());
    }
}

/// One attempt of one request at one KDC.
async fn send(phase: &Phase, prepared: &Prepared, kdc: std::net::SocketAddr, seq: u64) -> Outcome {
    let reply = tokio::time::timeout(
        phase.timeout,
        transport::exchange(phase.transport, kdc, prepared.message()),
    )
    .await;
    match reply {
        Err(_) => Outcome::Failed(Failure::Timeout),
        Ok(Err(_)) => Outcome::Failed(Failure::Transport),
        Ok(Ok(reply)) => classify(phase, prepared, &reply, in_sample(seq, phase.verify_sample)),
    }
}

/// Whether request `seq` is in the verified sample: exactly `fraction` of requests, spread
/// evenly (every 10th for 0.1).
pub fn in_sample(seq: u64, fraction: f64) -> bool {
    (seq as f64 * fraction).floor() != ((seq + 1) as f64 * fraction).floor()
}

fn classify(phase: &Phase, prepared: &Prepared, reply: &[u8], verify: bool) -> Outcome {
    let expected = match prepared {
        Prepared::As { .. } => TAG_AS_REP,
        Prepared::Tgs { .. } => TAG_TGS_REP,
    };
    match reply.first() {
        Some(&TAG_KRB_ERROR) => rasn::der::decode::<KrbError>(reply)
            .map(|e| Outcome::KrbError(e.error_code))
            .unwrap_or_else(|_| {
                phase.recorder.bad_reply(|| "undecodable KRB-ERROR".into());
                Outcome::Failed(Failure::BadReply)
            }),
        Some(&tag) if tag == expected && !verify => Outcome::Ok { verified: false },
        Some(&tag) if tag == expected => match check(phase, prepared, reply) {
            Ok(()) => Outcome::Ok { verified: true },
            Err(ClientError::KrbError(code)) => Outcome::KrbError(code),
            Err(e) => {
                phase.recorder.bad_reply(|| e.to_string());
                Outcome::Failed(Failure::BadReply)
            }
        },
        other => {
            phase
                .recorder
                .bad_reply(|| format!("unexpected message, first byte {other:02x?}"));
            Outcome::Failed(Failure::BadReply)
        }
    }
}

/// The full client-side check: for an AS-REP the KDC's signature, the DH agreement, the
/// reply key, the enc-part and the nonces; for a TGS-REP the enc-part and the nonce.
fn check(phase: &Phase, prepared: &Prepared, reply: &[u8]) -> Result<(), ClientError> {
    let missing = || ClientError::Build("request without its user".into());
    match prepared {
        Prepared::As { user, request } => {
            let options = phase.options.get(*user).ok_or_else(missing)?;
            read_reply(options, request, reply, &phase.target.kdc_certificate).map(drop)
        }
        Prepared::Tgs { tgt, request } => {
            let tgt = phase.tgts.get(*tgt).ok_or_else(missing)?;
            read_tgs_reply(
                request,
                reply,
                &tgt.session_key,
                KEY_USAGE_TGS_REP_SESSION_KEY,
            )
            .map(drop)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_the_asked_fraction_spread_evenly() {
        let picked = |fraction: f64| (0..1000).filter(|&s| in_sample(s, fraction)).count();
        assert_eq!(picked(1.0), 1000);
        assert_eq!(picked(0.0), 0);
        assert_eq!(picked(0.1), 100);
        assert_eq!(picked(0.25), 250);
        let tenth: Vec<u64> = (0..30).filter(|&s| in_sample(s, 0.1)).collect();
        assert_eq!(tenth, vec![9, 19, 29]);
    }
}
