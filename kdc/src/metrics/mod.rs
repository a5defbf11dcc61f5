//! Prometheus metrics (text exposition format 0.0.4) and health: the one place that owns the
//! registry. The KDC core reports each answered request here ([`Metrics::record_request`]);
//! the directory and the signer are wrapped in timing decorators ([`instrument`]); counters
//! kept elsewhere (the network layer's [`ServerStats`], the LDAP cache, the TPM queue) are
//! copied in when scraped. `http` serves `/metrics` and `/healthz`, `health` probes.

mod families;
pub mod health;
pub mod http;
pub mod instrument;
mod labels;
mod mirror;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use kdc_directory::LdapDirectory;
use prometheus::{Gauge, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};

use self::families::{counter_vec, histogram_vec, int_gauge};
pub use self::health::Health;
pub use self::labels::{TrustModel, error_name};
use self::mirror::Mirrors;
use crate::pac::in_tickets::TgtPacSeen;
use crate::preauth::pkinit::ExchangeDetails;
use crate::proto::codes::ErrorCode;
use crate::proto::kerberos::RequestKind;
use crate::server::{ServerStats, Transport};
use crate::signer::DigestAlgorithm;
use crate::signer::KdcSigner;

#[derive(Debug, thiserror::Error)]
#[error("metrics registry: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

/// What one answered request was, for [`Metrics::record_request`].
#[derive(Clone, Copy, Debug)]
pub struct RequestRecord<'a> {
    pub kind: RequestKind,
    pub transport: Transport,
    /// `Ok` for a ticket, else the KRB-ERROR code sent.
    pub result: Result<(), ErrorCode>,
    /// Set for an AS-REQ that carried PA-PK-AS-REQ: a PKINIT logon.
    pub pkinit: Option<TrustModel>,
    /// The logon's PKAuthenticator carried a valid RFC 8070 freshness token.
    pub fresh: bool,
    /// What a successful PKINIT exchange used (digest, encodings, DH key).
    pub exchange: Option<&'a ExchangeDetails>,
    /// What the TGS found in the TGT of a ticket it issued: a verified PAC, or none
    /// (accepted for the transition).
    pub tgt_pac: Option<TgtPacSeen>,
    /// The request's nonce came as a negative INTEGER (proto/nonce.rs).
    pub signed_nonce: bool,
    pub elapsed: Duration,
}

/// What the scrape reads from parts that keep their own counters; replaced on reload.
#[derive(Default)]
struct Sources {
    server: Option<Arc<ServerStats>>,
    ldap: Option<Arc<LdapDirectory>>,
    signer: Option<Arc<dyn KdcSigner>>,
}

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    pkinit_logons: IntCounterVec,
    fresh_logons: IntCounterVec,
    sha1_replies: IntCounterVec,
    negative_dh_integers: IntCounterVec,
    dh_keys: IntCounterVec,
    tgt_pacs: IntCounterVec,
    pool_full: IntCounterVec,
    pool_stale: IntCounterVec,
    pool_wait: HistogramVec,
    signed_nonces: IntCounterVec,
    request_duration: HistogramVec,
    undecodable: IntCounterVec,
    directory_duration: HistogramVec,
    directory_errors: IntCounterVec,
    signer_duration: HistogramVec,
    signer_errors: IntCounterVec,
    reloads: IntCounterVec,
    tpm_queue_depth: IntGauge,
    certificate_expiry: Gauge,
    directory_up: IntGauge,
    signer_up: IntGauge,
    mirrors: Mirrors,
    sources: Mutex<Sources>,
    /// notAfter of the KDC certificate last seen in a signature (or read at start).
    certificate: Mutex<Option<SystemTime>>,
    pub health: Health,
}

impl Metrics {
    pub fn new() -> Result<Metrics, MetricsError> {
        let r = Registry::new();
        let certificate_expiry = Gauge::new(
            "kdc_certificate_expiry_seconds",
            "Seconds until the notAfter of the KDC certificate in use (NaN before it is known)",
        )?;
        r.register(Box::new(certificate_expiry.clone()))?;
        certificate_expiry.set(f64::NAN);
        let info = IntGauge::with_opts(
            Opts::new("kdc_build_info", "Always 1; the version is a label")
                .const_label("version", env!("CARGO_PKG_VERSION")),
        )?;
        r.register(Box::new(info.clone()))?;
        info.set(1);
        let metrics = Metrics {
            requests: counter_vec(
                &r,
                "kdc_requests_total",
                "Kerberos requests answered, by message type, transport and result (ok or the KRB-ERROR name)",
                &["type", "transport", "result"],
            )?,
            pkinit_logons: counter_vec(
                &r,
                "kdc_pkinit_logons_total",
                "AS requests with PA-PK-AS-REQ, by trust model (key, cert, or unknown when the failure does not tell) and result",
                &["trust", "result"],
            )?,
            fresh_logons: counter_vec(
                &r,
                "kdc_pkinit_fresh_logons_total",
                "TGTs issued to PKINIT requests that carried a valid RFC 8070 freshness token, by trust model: compare with kdc_pkinit_logons_total{result=\"ok\"} before setting freshness = \"required\"",
                &["trust"],
            )?,
            sha1_replies: counter_vec(
                &r,
                "kdc_pkinit_sha1_replies_total",
                "PKINIT replies signed with SHA-1 because the client asked for it (no SHA-2 in supportedCMSTypes), by trust model: these clients fail once sha1_signatures = \"refuse\"",
                &["trust"],
            )?,
            negative_dh_integers: counter_vec(
                &r,
                "kdc_pkinit_negative_dh_integers_total",
                "Client DH INTEGERs without their sign byte, read as unsigned (Windows-shaped clients), by field",
                &["field"],
            )?,
            dh_keys: counter_vec(
                &r,
                "kdc_pkinit_dh_keys_total",
                "KDC DH keys of issued TGTs: ephemeral (no clientDHNonce), new (made and announced with dhKeyExpiration) or reused (RFC 4556 §3.2.3.1), by MODP group or curve",
                &["use", "group"],
            )?,
            tgt_pacs: counter_vec(
                &r,
                "kdc_tgs_tgt_pacs_total",
                "TGTs of issued tickets by their PAC: verified, or absent (issued before PACs were on, accepted while pac.accept_tgt_without_pac; at 0 for a renewable lifetime it can be turned off)",
                &["pac"],
            )?,
            pool_full: counter_vec(
                &r,
                "kdc_pkinit_pool_full_total",
                "AS requests refused because the PKINIT pool was full (pkinit.workers + pkinit.queue exchanges admitted): KDC_ERR_SVC_UNAVAILABLE over TCP, dropped over UDP",
                &["transport"],
            )?,
            pool_stale: counter_vec(
                &r,
                "kdc_pkinit_queue_stale_total",
                "PKINIT AS requests over UDP dropped unstarted because they waited for the pool longer than pkinit.udp_queue_timeout_ms (their client has sent them again by then)",
                &["transport"],
            )?,
            pool_wait: histogram_vec(
                &r,
                "kdc_pkinit_queue_wait_seconds",
                "Time a PKINIT AS exchange waited for a worker of the pool before it started",
                &["transport"],
            )?,
            signed_nonces: counter_vec(
                &r,
                "kdc_signed_nonces_total",
                "Requests whose nonce came as a negative INTEGER (Heimdal's kgetcred), read as unsigned and echoed signed, by message type",
                &["type"],
            )?,
            request_duration: histogram_vec(
                &r,
                "kdc_request_duration_seconds",
                "Time to answer one request, by message type",
                &["type"],
            )?,
            undecodable: counter_vec(
                &r,
                "kdc_undecodable_messages_total",
                "Messages dropped because they are not an AS-REQ or TGS-REQ",
                &["transport"],
            )?,
            directory_duration: histogram_vec(
                &r,
                "kdc_directory_request_duration_seconds",
                "Directory lookups (cache hits included), by operation",
                &["operation"],
            )?,
            directory_errors: counter_vec(
                &r,
                "kdc_directory_errors_total",
                "Directory lookups that failed, by operation",
                &["operation"],
            )?,
            signer_duration: histogram_vec(
                &r,
                "kdc_signer_duration_seconds",
                "Time to sign one PA-PK-AS-REP, queueing included, by signer mode",
                &["mode"],
            )?,
            signer_errors: counter_vec(
                &r,
                "kdc_signer_errors_total",
                "Signatures that failed, by signer mode",
                &["mode"],
            )?,
            reloads: counter_vec(
                &r,
                "kdc_config_reloads_total",
                "SIGHUP reloads, by result (ok or error)",
                &["result"],
            )?,
            tpm_queue_depth: int_gauge(
                &r,
                "kdc_tpm_queue_depth",
                "Signing requests queued for or in the TPM",
            )?,
            directory_up: int_gauge(
                &r,
                "kdc_directory_up",
                "1 while the directory answers, as /healthz reports it",
            )?,
            signer_up: int_gauge(
                &r,
                "kdc_signer_up",
                "1 while the signer can sign, as /healthz reports it",
            )?,
            mirrors: Mirrors::new(&r)?,
            certificate_expiry,
            sources: Mutex::new(Sources::default()),
            certificate: Mutex::new(None),
            health: Health::default(),
            registry: r,
        };
        Ok(metrics)
    }

    /// Records one answered request: the single entry point of the KDC core.
    pub fn record_request(&self, record: &RequestRecord) {
        let kind = labels::kind(record.kind);
        let result = match record.result {
            Ok(()) => "ok".into(),
            Err(code) => error_name(code),
        };
        self.requests
            .with_label_values(&[kind, labels::transport(record.transport), &result])
            .inc();
        self.request_duration
            .with_label_values(&[kind])
            .observe(record.elapsed.as_secs_f64());
        if let Some(pac) = record.tgt_pac {
            self.tgt_pacs.with_label_values(&[pac.label()]).inc();
        }
        if record.signed_nonce {
            self.signed_nonces.with_label_values(&[kind]).inc();
        }
        if let Some(trust) = record.pkinit {
            self.pkinit_logons
                .with_label_values(&[trust.label(), &result])
                .inc();
            if record.fresh && record.result.is_ok() {
                self.fresh_logons.with_label_values(&[trust.label()]).inc();
            }
            if let Some(exchange) = record.exchange {
                if exchange.reply_digest == DigestAlgorithm::Sha1 {
                    self.sha1_replies.with_label_values(&[trust.label()]).inc();
                }
                for field in &exchange.negative_dh_integers {
                    self.negative_dh_integers.with_label_values(&[field]).inc();
                }
                self.dh_keys
                    .with_label_values(&[exchange.dh_key.label(), exchange.dh_group.name()])
                    .inc();
            }
        }
    }

    /// An AS request the PKINIT pool had no room for.
    pub fn record_pool_full(&self, transport: Transport) {
        self.pool_full
            .with_label_values(&[labels::transport(transport)])
            .inc();
    }

    /// An AS request over UDP dropped unstarted: it waited for the pool past its deadline.
    pub fn record_pool_stale(&self, transport: Transport) {
        self.pool_stale
            .with_label_values(&[labels::transport(transport)])
            .inc();
    }

    /// How long a PKINIT exchange waited for a worker before it started.
    pub fn record_pool_wait(&self, transport: Transport, waited: std::time::Duration) {
        self.pool_wait
            .with_label_values(&[labels::transport(transport)])
            .observe(waited.as_secs_f64());
    }

    /// A message that was no Kerberos request at all (dropped without an answer).
    pub fn record_undecodable(&self, transport: Transport) {
        self.undecodable
            .with_label_values(&[labels::transport(transport)])
            .inc();
    }

    pub fn record_reload(&self, ok: bool) {
        self.reloads
            .with_label_values(&[if ok { "ok" } else { "error" }])
            .inc();
    }

    /// The network layer's counters, read at each scrape.
    pub fn watch_server(&self, stats: Arc<ServerStats>) {
        if let Ok(mut sources) = self.sources.lock() {
            sources.server = Some(stats);
        }
    }

    /// The directory and signer now serving (at start and after each reload), for the
    /// scrape (LDAP cache, TPM queue) and the health probe.
    pub fn watch_backends(&self, ldap: Option<Arc<LdapDirectory>>, signer: Arc<dyn KdcSigner>) {
        if let Ok(mut sources) = self.sources.lock() {
            sources.ldap = ldap;
            sources.signer = Some(signer);
        }
    }

    fn backends(&self) -> (Option<Arc<LdapDirectory>>, Option<Arc<dyn KdcSigner>>) {
        self.sources
            .lock()
            .map(|s| (s.ldap.clone(), s.signer.clone()))
            .unwrap_or_default()
    }

    /// Every metric in the text exposition format, counters kept elsewhere copied in first.
    pub fn render(&self) -> String {
        self.refresh();
        let mut text = String::new();
        if let Err(error) =
            prometheus::TextEncoder::new().encode_utf8(&self.registry.gather(), &mut text)
        {
            tracing::warn!(%error, "cannot encode the metrics");
        }
        text
    }

    fn refresh(&self) {
        let (server, ldap, signer) = match self.sources.lock() {
            Ok(s) => (s.server.clone(), s.ldap.clone(), s.signer.clone()),
            Err(_) => return,
        };
        if let Some(server) = server {
            self.mirrors.server(&server.snapshot());
        }
        if let Some(ldap) = ldap {
            self.mirrors.ldap_cache(&ldap.cache_stats());
        }
        let depth = signer.as_ref().and_then(|s| s.queue_depth()).unwrap_or(0);
        self.tpm_queue_depth
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
        let not_after = self.certificate.lock().ok().and_then(|c| *c);
        if let Some(not_after) = not_after {
            let seconds = match not_after.duration_since(SystemTime::now()) {
                Ok(left) => left.as_secs_f64(),
                Err(past) => -past.duration().as_secs_f64(),
            };
            self.certificate_expiry.set(seconds.round());
        }
        self.directory_up.set(i64::from(self.health.directory_up()));
        self.signer_up.set(i64::from(self.health.signer_up()));
    }

    fn observe_directory(&self, operation: &str, elapsed: Duration, failed: bool) {
        self.directory_duration
            .with_label_values(&[operation])
            .observe(elapsed.as_secs_f64());
        if failed {
            self.directory_errors.with_label_values(&[operation]).inc();
        }
    }

    fn observe_signer(&self, mode: &str, elapsed: Duration, failed: bool) {
        self.signer_duration
            .with_label_values(&[mode])
            .observe(elapsed.as_secs_f64());
        if failed {
            self.signer_errors.with_label_values(&[mode]).inc();
        }
    }
}
