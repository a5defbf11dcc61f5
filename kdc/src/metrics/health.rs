//! Health for `/healthz`: the directory and the signer are up or down. A periodic probe
//! decides (an LDAP read of the base entry, the signer's own availability); a request that
//! finds either unavailable marks it down at once, until the next probe sees it back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::Metrics;

#[derive(Debug)]
pub struct Health {
    directory_up: AtomicBool,
    signer_up: AtomicBool,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            directory_up: AtomicBool::new(true),
            signer_up: AtomicBool::new(true),
        }
    }
}

impl Health {
    pub fn directory_up(&self) -> bool {
        self.directory_up.load(Ordering::Relaxed)
    }

    pub fn signer_up(&self) -> bool {
        self.signer_up.load(Ordering::Relaxed)
    }

    pub(super) fn directory_failed(&self) {
        if self.directory_up.swap(false, Ordering::Relaxed) {
            tracing::warn!("directory unavailable: unhealthy until a probe reaches it");
        }
    }

    pub(super) fn signer_failed(&self) {
        if self.signer_up.swap(false, Ordering::Relaxed) {
            tracing::warn!("signer unavailable: unhealthy until a probe finds it back");
        }
    }

    fn set(flag: &AtomicBool, up: bool, what: &str) {
        if flag.swap(up, Ordering::Relaxed) != up {
            if up {
                tracing::info!(part = what, "healthy again");
            } else {
                tracing::warn!(part = what, "unhealthy");
            }
        }
    }

    /// The `/healthz` answer: healthy, and a line per part.
    pub fn report(&self) -> (bool, String) {
        let line = |up: bool, what: &str| format!("{what}: {}\n", if up { "up" } else { "down" });
        let (directory, signer) = (self.directory_up(), self.signer_up());
        (
            directory && signer,
            line(directory, "directory") + &line(signer, "signer"),
        )
    }
}

/// What an unavailable signer is asked to sign, to find out whether it is back.
const PROBE_MESSAGE: &[u8] = b"kdc health probe: not a Kerberos message";

/// Probes now, then every `interval`, for as long as the process runs.
pub async fn probe_loop(metrics: Arc<Metrics>, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        probe(&metrics, interval).await;
    }
}

/// One probe of the directory and the signer now serving.
pub async fn probe(metrics: &Metrics, budget: Duration) {
    let (ldap, signer) = metrics.backends();
    let directory_up = match ldap {
        // The embedded directory is in memory: always there.
        None => true,
        Some(ldap) => match tokio::time::timeout(budget, ldap.check()).await {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                tracing::debug!(%error, "directory probe failed");
                false
            }
            Err(_elapsed) => false,
        },
    };
    Health::set(&metrics.health.directory_up, directory_up, "directory");
    let signer_up = match signer {
        None => true,
        Some(signer) if signer.available() => true,
        // A TPM signer reconnects only when asked to sign: without this, a KDC taken out
        // of rotation for being unhealthy would never see its TPM come back. The probe
        // message is no Kerberos structure, so its signature cannot pass for a reply.
        Some(signer) => matches!(
            tokio::time::timeout(
                budget,
                signer.sign(PROBE_MESSAGE, signer.scheme().default_digest())
            )
            .await,
            Ok(Ok(_))
        ),
    };
    Health::set(&metrics.health.signer_up, signer_up, "signer");
}
