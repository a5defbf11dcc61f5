//! What UDP and TCP share: the reply cache lookup and the time-bounded handler call.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::limits::ServerLimits;
use super::reply_cache::{ReplyCache, ReplyKey};
use super::stats::{self, ServerStats};
use super::{Handler, RequestContext};

/// Everything a request task needs, shared by all sockets.
pub(super) struct Shared<H> {
    handler: Arc<H>,
    pub(super) limits: ServerLimits,
    pub(super) stats: Arc<ServerStats>,
    cache: ReplyCache,
}

/// A reply ready to send, and where it came from.
pub(super) struct Answer {
    pub(super) reply: Bytes,
    key: Option<ReplyKey>,
    from_cache: bool,
}

impl<H: Handler> Shared<H> {
    pub(super) fn new(handler: Arc<H>, limits: ServerLimits, stats: Arc<ServerStats>) -> Self {
        let cache = ReplyCache::new(limits.reply_cache_ttl, limits.reply_cache_entries);
        Self {
            handler,
            limits,
            stats,
            cache,
        }
    }

    /// The reply for one request: from the cache if this is a retry of a reply that was
    /// too big for UDP, else from the handler within `request_timeout`. `None`: send nothing.
    pub(super) async fn respond(&self, request: Bytes, ctx: RequestContext) -> Option<Answer> {
        let key = self.cache.is_enabled().then(|| ReplyKey::of(&request));
        if let Some(reply) = key.and_then(|key| self.cache.get(&key, Instant::now())) {
            stats::bump(&self.stats.reply_cache_hits);
            tracing::debug!(peer = %ctx.peer, transport = ?ctx.transport, "answered from reply cache");
            return Some(Answer {
                reply,
                key,
                from_cache: true,
            });
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
                Some(Answer {
                    reply: Bytes::from(reply),
                    key,
                    from_cache: false,
                })
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

    /// Keeps a reply too big for UDP so the client's TCP retry of the same bytes finds it.
    pub(super) fn keep_for_retry(&self, answer: &Answer) {
        if let (Some(key), false) = (answer.key, answer.from_cache) {
            self.cache.insert(key, answer.reply.clone(), Instant::now());
        }
    }

    pub(super) fn transport_error(&self, code: i32) -> Bytes {
        Bytes::from(self.handler.transport_error(code))
    }
}
