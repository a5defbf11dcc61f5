//! The KDC's answer to one message (RFC 4120 §3.1, §3.3): decode it, run its exchange against
//! the [`Realm`], and turn any failure into its KRB-ERROR (§5.9.1); then the audit line and
//! the metrics. UDP and TCP reach it through the `server::Handler` trait; nothing here knows
//! about sockets.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tracing::Instrument;

use crate::error::KdcError;
use crate::metrics::{Metrics, RequestRecord, TrustModel};
use crate::pac::in_tickets::TgtPacSeen;
use crate::preauth::pkinit::{ExchangeDetails, Trust};
use crate::proto::codes::{ErrorCode, padata};
use crate::proto::kerberos::{ErrorContext, KdcRequest, RequestKind, krb_error, name_to_string};
use crate::proto::nonce::NonceForm;
use crate::realm::Realm;
use crate::server::{Handler, RequestContext};
use crate::{as_req, audit, tgs};

/// One realm's KDC: the realm, and the metrics its answers are counted in.
pub struct Kdc {
    realm: Realm,
    metrics: Option<Arc<Metrics>>,
}

impl Kdc {
    pub fn new(realm: Realm) -> Kdc {
        Kdc {
            realm,
            metrics: None,
        }
    }

    /// Reports every answered request to `metrics` (kept across reloads by the daemon).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Kdc {
        self.metrics = Some(metrics);
        self
    }

    pub fn realm(&self) -> &Realm {
        &self.realm
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
            let mut observed = Observed::default();
            let result = match request.kind {
                RequestKind::As => as_req::handle(&self.realm, &request, message, now).await.map(|outcome| {
                    audit::issued_tgt(&outcome, started.elapsed());
                    observed.fresh = outcome.fresh;
                    observed.trust_model = Some(match &outcome.trust {
                        Trust::Key(_) => TrustModel::Key,
                        Trust::Certificate(_) => TrustModel::Cert,
                    });
                    observed.exchange = Some(outcome.exchange);
                    outcome.reply
                }),
                RequestKind::Tgs => tgs::handle(&self.realm, &request, now).await.map(|outcome| {
                    audit::issued_service_ticket(&outcome, started.elapsed());
                    observed.tgt_pac = outcome.tgt_pac;
                    outcome.reply
                }),
            };
            let elapsed_us = started.elapsed().as_micros();
            self.record(&request, ctx, &result, &observed, started.elapsed());
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

    /// How long a PKINIT exchange waited for a worker of the pool.
    pub fn record_pool_wait(&self, ctx: RequestContext, waited: Duration) {
        if let Some(metrics) = &self.metrics {
            metrics.record_pool_wait(ctx.transport, waited);
        }
    }

    /// The answer to an AS request the PKINIT pool had no room for, or could not start
    /// before its deadline: KDC_ERR_SVC_UNAVAILABLE over TCP, so the client tries another KDC
    /// or later; nothing over UDP, where a client retransmits by itself. Counted either way.
    pub fn refuse_busy(
        &self,
        message: &[u8],
        ctx: RequestContext,
        why: &crate::crypto_pool::PoolError,
    ) -> Option<Vec<u8>> {
        if let Some(metrics) = &self.metrics {
            match why {
                crate::crypto_pool::PoolError::Stale { .. } => {
                    metrics.record_pool_stale(ctx.transport)
                }
                _ => metrics.record_pool_full(ctx.transport),
            }
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
                realm: self.realm.name().to_owned(),
                cname: body.cname.clone(),
                sname: body.sname.clone(),
                e_text: Some(error.client_text().to_owned()),
                e_data: error.e_data(),
            },
            now,
        )
    }

    /// Hands one answered request to the metrics, if they are on.
    fn record<T>(
        &self,
        request: &KdcRequest<'_>,
        ctx: RequestContext,
        result: &Result<T, KdcError>,
        observed: &Observed,
        elapsed: Duration,
    ) {
        let Some(metrics) = &self.metrics else {
            return;
        };
        let pkinit = (request.kind == RequestKind::As
            && request.padata(padata::PK_AS_REQ).is_some())
        .then(|| {
            observed
                .trust_model
                .or_else(|| result.as_ref().err().map(KdcError::trust_model))
                .unwrap_or(TrustModel::Unknown)
        });
        metrics.record_request(&RequestRecord {
            kind: request.kind,
            transport: ctx.transport,
            result: result.as_ref().map(|_| ()).map_err(KdcError::code),
            pkinit,
            fresh: observed.fresh,
            exchange: observed.exchange.as_ref(),
            tgt_pac: observed.tgt_pac,
            signed_nonce: request.nonce_form == NonceForm::Signed,
            elapsed,
        });
    }
}

/// What a successful exchange reports to the metrics beyond its result.
#[derive(Default)]
struct Observed {
    trust_model: Option<TrustModel>,
    fresh: bool,
    exchange: Option<ExchangeDetails>,
    tgt_pac: Option<TgtPacSeen>,
}

impl Handler for Kdc {
    async fn handle(&self, request: bytes::Bytes, ctx: RequestContext) -> Option<Vec<u8>> {
        self.answer(&request, ctx).await
    }

    fn transport_error(&self, code: ErrorCode) -> Vec<u8> {
        krb_error(
            code,
            ErrorContext {
                realm: self.realm.name().to_owned(),
                ..Default::default()
            },
            SystemTime::now(),
        )
    }
}
