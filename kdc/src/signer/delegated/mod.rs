//! Delegated signing: a long-term issuer key (the TPM key, a pathLen-0 CA under the enterprise
//! CA) certifies a fresh in-memory KDC key every period (RFC 5280 §4.1 certificate with the
//! RFC 4556 §3.2.4 KDC extensions); replies are signed at software speed and carry both
//! certificates. The issuer is touched once per period, so its outages shorter than about
//! a period go unnoticed.

mod issue;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_lc_rs::rand::SystemRandom;

use super::software::{self, SoftwareKey};
use super::{CertificateChain, DigestAlgorithm, KdcSigner, SignatureScheme, Signed, SignerError};

pub use issue::Policy;

/// The key in use and the chain that certifies it (leaf, then the issuer's chain).
struct Current {
    key: SoftwareKey,
    chain: CertificateChain,
    not_after: SystemTime,
    /// After this the key is not used: a client whose clock runs ahead would see it expired.
    usable_until: SystemTime,
}

/// Counters for operators (and, later, metrics).
#[derive(Debug, Default)]
pub struct DelegatedStats {
    /// KDC certificates issued.
    pub rotations: AtomicU64,
    /// Attempts to issue one that failed (issuer unavailable).
    pub failed_rotations: AtomicU64,
    /// Replies refused because no certified key was usable.
    pub refused: AtomicU64,
}

struct Shared {
    issuer: Arc<dyn KdcSigner>,
    issuer_chain: CertificateChain,
    policy: Policy,
    current: RwLock<Option<Arc<Current>>>,
    stats: DelegatedStats,
}

pub struct DelegatedSigner {
    shared: Arc<Shared>,
    rng: SystemRandom,
    rotation: tokio::task::JoinHandle<()>,
}

const FIRST_RETRY: Duration = Duration::from_secs(1);

impl DelegatedSigner {
    /// Issues the first KDC certificate (a failure is logged, not fatal: the rotation task
    /// retries) and starts rotating. `issuer_chain` is the issuer's certificate chain, its
    /// own (CA) certificate first. Call within a tokio runtime.
    pub async fn start(
        issuer: Arc<dyn KdcSigner>,
        issuer_chain: CertificateChain,
        policy: Policy,
    ) -> Result<DelegatedSigner, SignerError> {
        issue::check_issuer(issuer_chain.certificates())?;
        let shared = Arc::new(Shared {
            issuer,
            issuer_chain,
            policy,
            current: RwLock::new(None),
            stats: DelegatedStats::default(),
        });
        let first = rotate(&shared).await;
        let rotation = tokio::spawn(rotation_loop(Arc::downgrade(&shared), first.is_ok()));
        Ok(DelegatedSigner {
            shared,
            rng: SystemRandom::new(),
            rotation,
        })
    }

    pub fn stats(&self) -> &DelegatedStats {
        &self.shared.stats
    }

    /// notAfter of the certificate in use, if any.
    pub fn current_not_after(&self) -> Option<SystemTime> {
        self.current().map(|c| c.not_after)
    }

    /// Issues a new certificate now (operators' and tests' lever).
    pub async fn rotate_now(&self) -> Result<(), SignerError> {
        rotate(&self.shared).await
    }

    fn current(&self) -> Option<Arc<Current>> {
        self.shared.current.read().ok().and_then(|c| c.clone())
    }
}

impl Drop for DelegatedSigner {
    fn drop(&mut self) {
        self.rotation.abort();
    }
}

async fn rotate(shared: &Shared) -> Result<(), SignerError> {
    match issue::next(&*shared.issuer, &shared.issuer_chain, &shared.policy).await {
        Ok(next) => {
            tracing::info!(
                not_after = %humantime(next.not_after),
                "new delegated KDC certificate"
            );
            shared.stats.rotations.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut current) = shared.current.write() {
                *current = Some(Arc::new(next));
            }
            Ok(())
        }
        Err(e) => {
            shared
                .stats
                .failed_rotations
                .fetch_add(1, Ordering::Relaxed);
            let remaining = shared
                .current
                .read()
                .ok()
                .and_then(|c| c.as_ref().map(|c| c.usable_until))
                .and_then(|until| until.duration_since(SystemTime::now()).ok());
            tracing::error!(error = %e, usable_for = ?remaining, "cannot issue the next delegated KDC certificate");
            Err(e)
        }
    }
}

/// Rotates every period; after a failure retries with backoff (1 s doubling, at most a
/// quarter period) so the next certificate comes soon after the issuer returns.
async fn rotation_loop(shared: std::sync::Weak<Shared>, mut last_ok: bool) {
    let mut retry = FIRST_RETRY;
    loop {
        let Some(period) = shared.upgrade().map(|s| s.policy.period) else {
            return;
        };
        let wait = if last_ok { period } else { retry };
        tokio::time::sleep(wait).await;
        let Some(strong) = shared.upgrade() else {
            return;
        };
        last_ok = rotate(&strong).await.is_ok();
        retry = if last_ok {
            FIRST_RETRY
        } else {
            (retry * 2).min(period / 4).max(FIRST_RETRY)
        };
    }
}

fn humantime(at: SystemTime) -> String {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| format!("{}s since the epoch", d.as_secs()))
        .unwrap_or_default()
}

#[async_trait]
impl KdcSigner for DelegatedSigner {
    fn scheme(&self) -> SignatureScheme {
        self.shared.policy.key_scheme
    }

    fn digests(&self) -> &'static [DigestAlgorithm] {
        software::digests_for(self.shared.policy.key_scheme)
    }

    async fn sign(&self, message: &[u8], digest: DigestAlgorithm) -> Result<Signed, SignerError> {
        let current = self
            .current()
            .filter(|c| SystemTime::now() < c.usable_until)
            .ok_or_else(|| {
                self.shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                SignerError::Unavailable(
                    "no valid delegated KDC certificate (the issuing TPM key is unavailable)"
                        .into(),
                )
            })?;
        Ok(Signed {
            signature: current.key.sign(&self.rng, message, digest)?,
            chain: current.chain.clone(),
        })
    }

    /// Available while a certified key is usable, whatever the issuer does meanwhile.
    fn available(&self) -> bool {
        self.current()
            .is_some_and(|c| SystemTime::now() < c.usable_until)
    }

    fn queue_depth(&self) -> Option<usize> {
        self.shared.issuer.queue_depth()
    }
}

#[cfg(test)]
mod tests;
