//! The reply to one request, as UDP and TCP both get it: from the lookaside cache
//! (`reply_cache`) when the same bytes came before, else from the handler within the request
//! timeout; and the transport's own KRB-ERRORs (RFC 4120 §7.2.1, §7.2.2).

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::limits::ServerLimits;
use super::reply_cache::{ReplyCache, ReplyKey};
use super::stats::{self, ServerStats};
use super::{Handler, RequestContext};
use crate::proto::codes::ErrorCode;
use crate::proto::kerberos;

/// Everything a request task needs, shared by all sockets.
pub(super) struct Shared<H> {
    handler: Arc<H>,
    pub(super) limits: ServerLimits,
    pub(super) stats: Arc<ServerStats>,
    cache: ReplyCache,
}

/// A reply ready to send.
pub(super) struct Answer {
    pub(super) reply: Bytes,
}

impl<H: Handler> Shared<H> {
    pub(super) fn new(handler: Arc<H>, limits: ServerLimits, stats: Arc<ServerStats>) -> Self {
        let cache = ReplyCache::new(
            limits.reply_cache_ttl,
            limits.reply_cache_entries,
            limits.reply_cache_bytes,
        );
        Self {
            handler,
            limits,
            stats,
            cache,
        }
    }

    /// The reply for one request: from the lookaside cache if the same bytes came within
    /// its lifetime, else from the handler within `request_timeout` (and then kept).
    /// `None`: send nothing.
    pub(super) async fn respond(&self, request: Bytes, ctx: RequestContext) -> Option<Answer> {
        let key = self.cache.is_enabled().then(|| ReplyKey::of(&request));
        if let Some(reply) = key.and_then(|key| self.cache.get(&key, Instant::now())) {
            stats::bump(&self.stats.reply_cache_hits);
            crate::audit::retransmission(ctx);
            return Some(Answer { reply });
        }
        let request_len = request.len();
        let handled = tokio::time::timeout(
            self.limits.request_timeout,
            self.handler.handle(request, ctx),
        )
        .await;
        match handled {
            Ok(Some(reply)) => {
                tracing::debug!(peer = %ctx.peer, transport = ?ctx.transport, request_len, reply_len = reply.len(), "answered");
                let reply = Bytes::from(reply);
                if let Some(key) = key.filter(|_| worth_repeating(&reply)) {
                    self.cache.insert(key, reply.clone(), Instant::now());
                }
                Some(Answer { reply })
            }
            Ok(None) => {
                tracing::debug!(peer = %ctx.peer, transport = ?ctx.transport, request_len, "handler dropped request");
                None
            }
            Err(_elapsed) => {
                let timeout = self.limits.request_timeout;
                if stats::bump(&self.stats.request_timeouts) {
                    tracing::warn!(peer = %ctx.peer, transport = ?ctx.transport, ?timeout, "request timed out; dropped");
                } else {
                    tracing::debug!(peer = %ctx.peer, transport = ?ctx.transport, ?timeout, "request timed out; dropped");
                }
                None
            }
        }
    }

    pub(super) fn transport_error(&self, code: ErrorCode) -> Bytes {
        Bytes::from(self.handler.transport_error(code))
    }
}

/// Whether a copy of the request should get this reply again rather than a new try: not a
/// KDC_ERR_SVC_UNAVAILABLE (the PKINIT pool full, the directory or the TPM down), which says
/// "not now"; the copy may come after the KDC has room, or the directory is back.
fn worth_repeating(reply: &[u8]) -> bool {
    kerberos::krb_error_code(reply) != Some(ErrorCode::SVC_UNAVAILABLE)
}
