//! Swapping the served KDC on SIGHUP: the new `Kdc`
//! (config, certificates, anchors, CRLs, embedded directory, key store) is built beside
//! the old one and replaces it atomically; requests in flight finish on the one they
//! started with. A configuration that fails to load or build is refused and the old KDC
//! keeps serving. Listener addresses, logging and the metrics listener need a restart.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use kdc_config::{Config, SignerKind};

use crate::answer::Kdc;
use crate::build::{self, BuildOptions, Built};
use crate::crypto_pool::CryptoPool;
use crate::metrics::Metrics;
use crate::notify;
use crate::proto::codes::{ErrorCode, padata};
use crate::proto::kerberos;
use crate::server::{Handler, RequestContext, Transport};
use crate::signer::KdcSigner;

/// The KDC now serving; each request reads it once. PKINIT AS exchanges run on the PKINIT
/// pool, which outlives reloads (its size needs a restart).
pub struct LiveKdc {
    current: RwLock<Arc<Kdc>>,
    pool: Option<Arc<CryptoPool>>,
    /// How long a datagram may wait for the pool (`pkinit.udp_queue_timeout_ms`).
    udp_queue_timeout: Option<Duration>,
}

impl LiveKdc {
    pub fn new(kdc: Arc<Kdc>, pool: Option<Arc<CryptoPool>>) -> LiveKdc {
        LiveKdc {
            current: RwLock::new(kdc),
            pool,
            udp_queue_timeout: None,
        }
    }

    /// Drops a datagram still waiting for the pool this long after it came: by then its
    /// client has sent it again, and the copy that waited is work nobody waits for.
    pub fn with_udp_queue_timeout(mut self, timeout: Duration) -> LiveKdc {
        self.udp_queue_timeout = Some(timeout);
        self
    }

    pub fn current(&self) -> Arc<Kdc> {
        match self.current.read() {
            Ok(kdc) => Arc::clone(&kdc),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn replace(&self, kdc: Arc<Kdc>) {
        match self.current.write() {
            Ok(mut current) => *current = kdc,
            Err(poisoned) => *poisoned.into_inner() = kdc,
        }
    }
}

impl Handler for LiveKdc {
    async fn handle(&self, request: bytes::Bytes, ctx: RequestContext) -> Option<Vec<u8>> {
        let kdc = self.current();
        let Some(pool) = self.pool.as_ref().filter(|_| is_pkinit(&request)) else {
            return kdc.answer(&request, ctx).await;
        };
        let start_by = self
            .udp_queue_timeout
            .filter(|_| ctx.transport == Transport::Udp)
            .map(|timeout| Instant::now() + timeout);
        let (worker, bytes) = (Arc::clone(&kdc), request.clone());
        match pool
            .run(async move { worker.answer(&bytes, ctx).await }, start_by)
            .await
        {
            Ok(ran) => {
                kdc.record_pool_wait(ctx, ran.waited);
                ran.output
            }
            Err(error) => kdc.refuse_busy(&request, ctx, &error),
        }
    }

    fn transport_error(&self, code: ErrorCode) -> Vec<u8> {
        self.current().transport_error(code)
    }
}

/// Whether a message is an AS-REQ with PA-PK-AS-REQ (RFC 4556 §3.2.1), or one too malformed
/// to tell: the exchanges whose private-key work belongs on the pool. Every other message
/// (the first AS-REQ of a logon, answered PREAUTH_REQUIRED; TGS-REQs; non-requests) is
/// answered where it was read, which saves two thread hand-offs. A walk over the DER, not a
/// decode: the exchange decodes the request once, wherever it runs.
fn is_pkinit(message: &[u8]) -> bool {
    kerberos::as_req_may_carry(message, padata::PK_AS_REQ)
}

/// The TPM key's certificate file as it is now (TPM signers only).
fn tpm_certificate(config: &Config) -> Option<Vec<u8>> {
    let tpm = config.pkinit.tpm.as_ref()?;
    (config.pkinit.signer == SignerKind::Tpm)
        .then(|| std::fs::read(&tpm.certificate).ok())
        .flatten()
}

/// Whether the running TPM signer can serve the new configuration unchanged: same
/// `[pkinit.tpm]` settings and the same certificate file (a renewed one needs a new signer).
fn same_tpm_signer(old: &Config, old_certificate: Option<&[u8]>, new: &Config) -> bool {
    old.pkinit.signer == SignerKind::Tpm
        && new.pkinit.signer == SignerKind::Tpm
        && old.pkinit.tpm == new.pkinit.tpm
        && old_certificate.is_some()
        && tpm_certificate(new).as_deref() == old_certificate
}

/// What changed that a reload cannot apply, for the log.
fn needs_restart(old: &Config, new: &Config) -> Vec<&'static str> {
    let mut changed = Vec::new();
    if old.listen.udp != new.listen.udp || old.listen.tcp != new.listen.tcp {
        changed.push("listen addresses");
    }
    if old.listen != new.listen && changed.is_empty() {
        changed.push("listen limits");
    }
    if old.metrics != new.metrics {
        changed.push("[metrics]");
    }
    let pool = |c: &Config| {
        (
            c.pkinit.workers,
            c.pkinit.queue,
            c.pkinit.udp_queue_timeout_ms,
        )
    };
    if pool(old) != pool(new) {
        changed.push("pkinit.workers, pkinit.queue and pkinit.udp_queue_timeout_ms");
    }
    if old.log != new.log {
        changed.push("[log]");
    }
    changed
}

/// Reloads on every SIGHUP (`hangup`, installed before READY=1) for as long as the process runs.
pub async fn on_sighup(
    mut hangup: tokio::signal::unix::Signal,
    path: PathBuf,
    mut running: Config,
    live: Arc<LiveKdc>,
    metrics: Arc<Metrics>,
    mut signer: Arc<dyn KdcSigner>,
) {
    let mut certificate = tpm_certificate(&running);
    while hangup.recv().await.is_some() {
        tracing::info!(config = %path.display(), "SIGHUP: reloading");
        match reload(&path, &running, certificate.as_deref(), &metrics, &signer).await {
            Ok((config, kdc, new_signer)) => {
                live.replace(kdc);
                signer = new_signer;
                certificate = tpm_certificate(&config);
                metrics.record_reload(true);
                let pending = needs_restart(&running, &config);
                if pending.is_empty() {
                    tracing::info!("configuration reloaded");
                } else {
                    tracing::warn!(not_applied = ?pending, "configuration reloaded; these changes need a restart");
                }
                running = config;
                notify::send("STATUS=serving (configuration reloaded)");
            }
            Err(error) => {
                metrics.record_reload(false);
                tracing::error!(error = %format!("{error:#}"), "new configuration refused; still serving the previous one");
                notify::send("STATUS=serving (last reload refused; see the log)");
            }
        }
    }
}

async fn reload(
    path: &std::path::Path,
    running: &Config,
    certificate: Option<&[u8]>,
    metrics: &Arc<Metrics>,
    signer: &Arc<dyn KdcSigner>,
) -> Result<(Config, Arc<Kdc>, Arc<dyn KdcSigner>)> {
    let config = Config::load(path)?;
    let options = BuildOptions {
        metrics: Some(Arc::clone(metrics)),
        signer: same_tpm_signer(running, certificate, &config).then(|| Arc::clone(signer)),
        wrap_directory: None,
    };
    let Built { kdc, signer } = build::build(&config, options)
        .await
        .context("building the KDC from the new configuration")?;
    Ok((config, kdc, signer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::wire;

    #[test]
    fn only_pkinit_as_requests_go_to_the_pool() {
        assert!(is_pkinit(&wire("mit_as_req_pkinit_dh2048.der")));
        assert!(is_pkinit(&wire("heimdal_as_req_pkinit_dh2048.der")));
        // A logon's first AS-REQ (PREAUTH_REQUIRED), a TGS-REQ, and garbage.
        assert!(!is_pkinit(&wire("mit_as_req_nopreauth.der")));
        assert!(!is_pkinit(&wire("mit_tgs_req_host.der")));
        assert!(!is_pkinit(&[]));
        // An AS-REQ it cannot read goes where a PKINIT one would: the pool bounds it.
        assert!(is_pkinit(&[0x6a, 0x03, 0x30, 0x01]));
    }

    const BASE: &str = r#"
[realm]
name = "EXAMPLE.TEST"
[listen]
udp = ["127.0.0.1:88"]
tcp = ["127.0.0.1:88"]
[pkinit]
signer = "tpm"
[pkinit.tpm]
certificate = "tpm.pem"
[directory]
type = "embedded"
path = "directory.toml"
[keys]
master_key = "master.key"
store = "principals.toml"
[log]
level = "info"
"#;

    fn parse(text: &str, dir: &std::path::Path) -> Config {
        Config::parse(text, &dir.join("kdc.toml")).unwrap()
    }

    #[test]
    fn restart_is_asked_for_listeners_and_logging_only() {
        let dir = tempfile::tempdir().unwrap();
        let old = parse(BASE, dir.path());
        let lifetime = parse(
            &format!("{BASE}[tickets]\nlifetime_secs = 60\n"),
            dir.path(),
        );
        assert!(needs_restart(&old, &lifetime).is_empty());
        let moved = parse(
            &BASE.replace("127.0.0.1:88\"]\ntcp", "127.0.0.1:89\"]\ntcp"),
            dir.path(),
        );
        assert_eq!(needs_restart(&old, &moved), vec!["listen addresses"]);
        let verbose = parse(
            &BASE.replace("level = \"info\"", "level = \"debug\""),
            dir.path(),
        );
        assert_eq!(needs_restart(&old, &verbose), vec!["[log]"]);
    }

    #[test]
    fn tpm_signer_is_kept_only_with_the_same_settings_and_certificate() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tpm.pem"), "first").unwrap();
        let old = parse(BASE, dir.path());
        let certificate = tpm_certificate(&old);
        assert_eq!(certificate.as_deref(), Some(&b"first"[..]));
        let same = parse(BASE, dir.path());
        assert!(same_tpm_signer(&old, certificate.as_deref(), &same));
        let direct = parse(
            &BASE.replace("[pkinit.tpm]\n", "[pkinit.tpm]\nmode = \"direct\"\n"),
            dir.path(),
        );
        assert!(!same_tpm_signer(&old, certificate.as_deref(), &direct));
        std::fs::write(dir.path().join("tpm.pem"), "renewed").unwrap();
        assert!(!same_tpm_signer(&old, certificate.as_deref(), &same));
        let software = BASE.replace(
            "signer = \"tpm\"",
            "certificate = \"kdc.pem\"\nkey = \"kdc.key\"",
        );
        assert!(!same_tpm_signer(
            &old,
            certificate.as_deref(),
            &parse(&software, dir.path())
        ));
    }
}
