//! Counters the network layer keeps about limits it enforced (read by the metrics exporter).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters, updated by the server; read them with [`ServerStats::snapshot`].
#[derive(Debug, Default)]
pub struct ServerStats {
    pub(super) udp_dropped_busy: AtomicU64,
    pub(super) oversized_requests: AtomicU64,
    pub(super) malformed_frames: AtomicU64,
    pub(super) request_timeouts: AtomicU64,
    pub(super) tcp_idle_timeouts: AtomicU64,
    pub(super) tcp_write_timeouts: AtomicU64,
    pub(super) tcp_connections_refused: AtomicU64,
    pub(super) tcp_connections_refused_per_ip: AtomicU64,
    pub(super) tcp_connections_evicted: AtomicU64,
    pub(super) tcp_connections_open: AtomicU64,
    pub(super) udp_replies_too_big: AtomicU64,
    pub(super) reply_cache_hits: AtomicU64,
}

/// The counters at one moment. All are totals since start except `tcp_connections_open`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Datagrams dropped because `max_udp_in_flight` requests were being answered.
    pub udp_dropped_busy: u64,
    /// UDP datagrams or TCP lengths over `max_request_bytes`.
    pub oversized_requests: u64,
    /// TCP frames with the reserved length bit, a zero length, or cut short.
    pub malformed_frames: u64,
    /// Handler calls that exceeded `request_timeout`.
    pub request_timeouts: u64,
    /// TCP connections closed because no whole request arrived within `tcp_idle_timeout`.
    pub tcp_idle_timeouts: u64,
    /// TCP replies the client did not read within `tcp_write_timeout`.
    pub tcp_write_timeouts: u64,
    /// TCP connections closed at once because `max_tcp_connections` were open and busy.
    pub tcp_connections_refused: u64,
    /// TCP connections closed at once because their address held `max_tcp_connections_per_ip`.
    pub tcp_connections_refused_per_ip: u64,
    /// Idle TCP connections closed to admit a new one into a full table.
    pub tcp_connections_evicted: u64,
    /// TCP connections open now.
    pub tcp_connections_open: u64,
    /// UDP replies replaced by KRB_ERR_RESPONSE_TOO_BIG.
    pub udp_replies_too_big: u64,
    /// Requests answered from the lookaside cache (a resend of the same bytes) without
    /// calling the handler.
    pub reply_cache_hits: u64,
}

impl ServerStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        StatsSnapshot {
            udp_dropped_busy: read(&self.udp_dropped_busy),
            oversized_requests: read(&self.oversized_requests),
            malformed_frames: read(&self.malformed_frames),
            request_timeouts: read(&self.request_timeouts),
            tcp_idle_timeouts: read(&self.tcp_idle_timeouts),
            tcp_write_timeouts: read(&self.tcp_write_timeouts),
            tcp_connections_refused: read(&self.tcp_connections_refused),
            tcp_connections_refused_per_ip: read(&self.tcp_connections_refused_per_ip),
            tcp_connections_evicted: read(&self.tcp_connections_evicted),
            tcp_connections_open: read(&self.tcp_connections_open),
            udp_replies_too_big: read(&self.udp_replies_too_big),
            reply_cache_hits: read(&self.reply_cache_hits),
        }
    }
}

/// Adds one to `counter` and says whether this occurrence deserves a warning: the first
/// and then every 1024th, so a flood shows in the log without flooding it.
pub(super) fn bump(counter: &AtomicU64) -> bool {
    counter.fetch_add(1, Ordering::Relaxed) & 0x3FF == 0
}

/// Counts one open TCP connection for as long as it lives.
pub(super) struct OpenConnection(Arc<ServerStats>);

impl OpenConnection {
    pub(super) fn new(stats: Arc<ServerStats>) -> Self {
        stats.tcp_connections_open.fetch_add(1, Ordering::Relaxed);
        Self(stats)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.tcp_connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bump_warns_on_first_and_every_1024th() {
        let counter = AtomicU64::new(0);
        let warned: Vec<u64> = (1..=2049).filter(|_| bump(&counter)).collect();
        assert_eq!(warned, vec![1, 1025, 2049]);
        assert_eq!(counter.load(Ordering::Relaxed), 2049);
    }

    #[test]
    fn open_connection_gauge_follows_guard_lifetime() {
        let stats = Arc::new(ServerStats::default());
        let first = OpenConnection::new(Arc::clone(&stats));
        let second = OpenConnection::new(Arc::clone(&stats));
        assert_eq!(stats.snapshot().tcp_connections_open, 2);
        drop(first);
        drop(second);
        assert_eq!(stats.snapshot().tcp_connections_open, 0);
    }
}
