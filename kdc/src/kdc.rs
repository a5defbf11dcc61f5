//! The KDC core: the realm's state, dispatch of one Kerberos message to its exchange, and the
//! KRB-ERROR for every failure (RFC 4120 §3.1, §5.9.1). UDP and TCP reach it through the
//! `server::Handler` trait; nothing here knows about sockets.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kdc_config::{Config, Freshness};
use kdc_directory::Directory;
use tracing::Instrument;

use crate::as_req;
use crate::crypto::Enctype;
use crate::error::KdcError;
use crate::keys::KeyRing;
use crate::metrics::{Metrics, RequestRecord, TrustModel, trust_of_error};
use crate::preauth::pkinit::agreement::ReusedKeys;
use crate::preauth::pkinit::authenticator::ChecksumPolicy;
use crate::preauth::pkinit::cert_trust::CertTrust;
use crate::preauth::pkinit::digest_choice::DigestPolicy;
use crate::preauth::pkinit::freshness::Tokens;
use crate::preauth::pkinit::{ExchangeDetails, Pkinit, Trust};
use crate::proto::codes::{ErrorCode, padata};
use crate::proto::kerberos::{ErrorContext, KdcRequest, RequestKind, krb_error, name_to_string};
use crate::proto::nonce::NonceForm;
use crate::server::{Handler, RequestContext};
use crate::signer::DigestAlgorithm;
use crate::signer::KdcSigner;
use crate::tgs::replay::{self, ReplayCache};
use crate::ticket::LifetimePolicy;

/// One realm's KDC.
pub struct Kdc {
    realm: String,
    directory: Arc<dyn Directory>,
    pkinit: Pkinit,
    freshness: Freshness,
    /// `krbtgt/REALM`, the TGS's name in the key ring.
    krbtgt: String,
    keys: KeyRing,
    enctypes: Vec<Enctype>,
    lifetime: LifetimePolicy,
    clock_skew: Duration,
    /// TGS authenticators seen within the skew (RFC 4120 §3.3.2).
    tgs_replays: ReplayCache,
    metrics: Option<Arc<Metrics>>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

impl Kdc {
    pub fn new(
        config: &Config,
        directory: Arc<dyn Directory>,
        signer: Arc<dyn KdcSigner>,
        keys: KeyRing,
    ) -> Result<Kdc, SetupError> {
        let enctypes = config
            .tickets
            .enctypes
            .iter()
            .map(|name| {
                Enctype::from_name(name).ok_or_else(|| {
                    SetupError(format!("tickets.enctypes: unknown enctype {name:?}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Kdc {
            realm: config.realm.name.clone(),
            pkinit: Pkinit {
                directory: Arc::clone(&directory),
                signer,
                min_dh_bits: config.pkinit.min_dh_bits,
                clock_skew: Duration::from_secs(config.tickets.clock_skew_secs),
                cert_trust: match &config.pkinit.certificate_trust {
                    Some(trust) => {
                        Some(Arc::new(CertTrust::new(trust).map_err(|e| {
                            SetupError(format!("pkinit.certificate_trust: {e}"))
                        })?))
                    }
                    None => None,
                },
                dh_keys: ReusedKeys::new(Duration::from_secs(config.pkinit.dh_key_reuse_secs)),
                digests: DigestPolicy {
                    sha1: config.pkinit.sha1_signatures,
                },
                checksums: ChecksumPolicy {
                    require_checksum2: config.pkinit.require_pa_checksum2,
                    hashes: config
                        .pkinit
                        .pa_checksum_hashes
                        .iter()
                        .map(|&h| DigestAlgorithm::from(h))
                        .collect(),
                },
            },
            freshness: config.pkinit.freshness,
            krbtgt: format!("krbtgt/{}", config.realm.name),
            directory,
            keys,
            enctypes,
            lifetime: LifetimePolicy {
                max_life: Duration::from_secs(config.tickets.lifetime_secs),
                max_renewable_life: Duration::from_secs(config.tickets.renewable_lifetime_secs),
            },
            clock_skew: Duration::from_secs(config.tickets.clock_skew_secs),
            tgs_replays: ReplayCache::new(replay::DEFAULT_CAPACITY),
            metrics: None,
        })
    }

    /// Reports every answered request to `metrics` (kept across reloads by the daemon).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Kdc {
        self.metrics = Some(metrics);
        self
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }
    pub fn directory(&self) -> &dyn Directory {
        &*self.directory
    }
    pub fn pkinit(&self) -> &Pkinit {
        &self.pkinit
    }
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }
    /// The krbtgt principal's name in the key ring.
    pub fn krbtgt_principal(&self) -> &str {
        &self.krbtgt
    }
    /// RFC 8070 freshness tokens under the realm's policy and krbtgt keys.
    pub fn freshness_tokens(&self) -> Tokens<'_> {
        Tokens {
            policy: self.freshness,
            keys: &self.keys,
            krbtgt: &self.krbtgt,
            clock_skew: self.clock_skew,
        }
    }
    pub fn lifetime_policy(&self) -> LifetimePolicy {
        self.lifetime
    }

    pub fn clock_skew(&self) -> Duration {
        self.clock_skew
    }

    pub fn tgs_replays(&self) -> &ReplayCache {
        &self.tgs_replays
    }

    pub fn allows_enctype(&self, enctype: Enctype) -> bool {
        self.enctypes.contains(&enctype)
    }

    pub fn choose_enctype(&self, client: &[i32]) -> Result<Enctype, KdcError> {
        as_req::choose_enctype(client, &self.enctypes)
            .ok_or_else(|| KdcError::NoCommonEnctype(client.to_vec()))
    }

    /// Answers one message; `None` means drop it (not a Kerberos request at all).
    pub async fn answer(&self, message: &[u8], ctx: RequestContext) -> Option<Vec<u8>> {
        let request = match KdcRequest::decode(message) {
            Ok(request) => request,
            Err(e) => {
                tracing::debug!(peer = %ctx.peer, transport = ?ctx.transport, len = message.len(), error = %e, "dropped undecodable message");
                if let Some(metrics) = &self.metrics {
                    metrics.record_undecodable(ctx.transport);
                }
                return None;
            }
        };
        let cname = request
            .req
            .req_body
            .cname
            .as_ref()
            .map(name_to_string)
            .unwrap_or_default();
        let sname = request
            .req
            .req_body
            .sname
            .as_ref()
            .map(name_to_string)
            .unwrap_or_default();
        let span = tracing::info_span!("request", peer = %ctx.peer, transport = ?ctx.transport, kind = ?request.kind, cname = %cname, sname = %sname);
        async {
            let started = std::time::Instant::now();
            let now = SystemTime::now();
            let mut trust_model = None;
            let mut fresh = false;
            let mut exchange = None;
            let result = match request.kind {
                RequestKind::As => as_req::handle(self, &request, message, now).await.map(|outcome| {
                    fresh = outcome.fresh;
                    trust_model = Some(match &outcome.trust {
                        Trust::Key(_) => TrustModel::Key,
                        Trust::Certificate(_) => TrustModel::Cert,
                    });
                    let elapsed_us = started.elapsed().as_micros();
                    let reply_digest = outcome.exchange.reply_digest.label();
                    let dh_key = outcome.exchange.dh_key.label();
                    let dh_group = outcome.exchange.dh_group.name();
                    match &outcome.trust {
                        Trust::Key(key) => tracing::info!(target: "kdc::audit", client = %outcome.client, trust = "key", fresh = outcome.fresh, reply_digest, dh_group, dh_key, key_id = %as_req::base64_key_id(&key.key_id), device_id = key.device_id.as_deref().unwrap_or("-"), elapsed_us, "issued TGT"),
                        Trust::Certificate(cert) => tracing::info!(target: "kdc::audit", client = %outcome.client, trust = "certificate", fresh = outcome.fresh, reply_digest, dh_group, dh_key, serial = %cert.serial, issuer = %cert.issuer, mapping = cert.binding, elapsed_us, "issued TGT"),
                    }
                    exchange = Some(outcome.exchange);
                    outcome.reply
                }),
                RequestKind::Tgs => crate::tgs::handle(self, &request, now).await.map(|outcome| {
                    tracing::info!(target: "kdc::audit", client = %outcome.client, service = %outcome.service, renewed = outcome.renewed, elapsed_us = started.elapsed().as_micros(), "issued service ticket");
                    outcome.reply
                }),
            };
            let elapsed_us = started.elapsed().as_micros();
            self.record(&request, ctx, &result, trust_model, (fresh, exchange.as_ref()), started.elapsed());
            match result {
                Ok(reply) => Some(reply),
                Err(error) => {
                    let code = error.code();
                    if code == ErrorCode::PREAUTH_REQUIRED {
                        tracing::debug!(code = code.0, elapsed_us, "asked for pre-authentication");
                    } else {
                        tracing::info!(code = code.0, result = %crate::metrics::error_name(code), reason = %error, elapsed_us, "refused");
                    }
                    Some(self.error_reply(&error, &request, now))
                }
            }
        }
        .instrument(span)
        .await
    }

    /// The answer to an AS request the PKINIT pool had no room for: KDC_ERR_SVC_UNAVAILABLE
    /// over TCP, so the client tries another KDC or later; nothing over UDP, where a client
    /// retransmits by itself. Counted either way.
    pub fn refuse_busy(
        &self,
        message: &[u8],
        ctx: RequestContext,
        why: &crate::crypto_pool::PoolError,
    ) -> Option<Vec<u8>> {
        if let Some(metrics) = &self.metrics {
            metrics.record_pool_full(ctx.transport);
        }
        tracing::debug!(peer = %ctx.peer, transport = ?ctx.transport, reason = %why, "AS request refused: busy");
        if ctx.transport == crate::server::Transport::Udp {
            return None;
        }
        let request = KdcRequest::decode(message).ok()?;
        let error = KdcError::Busy(why.to_string());
        Some(self.error_reply(&error, &request, SystemTime::now()))
    }

    fn error_reply(&self, error: &KdcError, request: &KdcRequest<'_>, now: SystemTime) -> Vec<u8> {
        let body = &request.req.req_body;
        krb_error(
            error.code(),
            ErrorContext {
                realm: self.realm.clone(),
                cname: body.cname.clone(),
                sname: body.sname.clone(),
                e_text: Some(error.client_text().to_owned()),
                e_data: error.e_data(),
            },
            now,
        )
    }
}

impl Kdc {
    /// Hands one answered request to the metrics, if they are on.
    fn record<T>(
        &self,
        request: &KdcRequest<'_>,
        ctx: RequestContext,
        result: &Result<T, KdcError>,
        trust: Option<TrustModel>,
        (fresh, exchange): (bool, Option<&ExchangeDetails>),
        elapsed: Duration,
    ) {
        let Some(metrics) = &self.metrics else {
            return;
        };
        let result = result.as_ref().map(|_| ()).map_err(KdcError::code);
        let pkinit = (request.kind == RequestKind::As
            && request.padata(padata::PK_AS_REQ).is_some())
        .then(|| trust.unwrap_or_else(|| result.err().map_or(TrustModel::Unknown, trust_of_error)));
        metrics.record_request(&RequestRecord {
            kind: request.kind,
            transport: ctx.transport,
            result,
            pkinit,
            fresh,
            exchange,
            signed_nonce: request.nonce_form == NonceForm::Signed,
            elapsed,
        });
    }
}

impl Handler for Kdc {
    async fn handle(&self, request: bytes::Bytes, ctx: RequestContext) -> Option<Vec<u8>> {
        self.answer(&request, ctx).await
    }

    fn transport_error(&self, code: i32) -> Vec<u8> {
        krb_error(
            ErrorCode(code),
            ErrorContext {
                realm: self.realm.clone(),
                ..Default::default()
            },
            SystemTime::now(),
        )
    }
}
