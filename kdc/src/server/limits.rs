//! Every bound the network layer enforces, in one place (sizes: RFC 4120 §7.2.1, §7.2.2).

use std::time::Duration;

use tokio::sync::Semaphore;

/// The largest UDP payload any datagram can carry (IPv6 without jumbograms: 65535 − 8).
const MAX_UDP_PAYLOAD: usize = 0xFFFF;

/// Resource bounds; [`Default`] gives the values documented on each field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Largest request accepted on either transport (default 65536). Larger UDP datagrams
    /// are dropped; larger TCP lengths get KRB_ERR_FIELD_TOOLONG and the connection closes.
    pub max_request_bytes: usize,
    /// Largest UDP reply (default 4096, like MIT's `kdc_max_dgram_reply_size`); a longer one
    /// is replaced by KRB_ERR_RESPONSE_TOO_BIG and kept in the reply cache for the TCP retry.
    pub max_udp_reply_bytes: usize,
    /// UDP requests answered at once, over all cores (default 1024); beyond it, dropped.
    pub max_udp_in_flight: usize,
    /// Time a TCP client has to deliver one whole request, counted from the connection
    /// opening or the previous reply (default 30 s). Bounds idle and slowloris connections.
    pub tcp_idle_timeout: Duration,
    /// Time to write one TCP reply to a client that does not read (default 10 s).
    pub tcp_write_timeout: Duration,
    /// Open TCP connections (default 1024); when all are open, the one that has waited
    /// longest for a request is closed to admit a new one, or the new one is closed at once
    /// if every connection is busy.
    pub max_tcp_connections: usize,
    /// Open TCP connections from one IP address (default 64); over it a new connection from
    /// that address is closed at once.
    pub max_tcp_connections_per_ip: usize,
    /// Bounds one [`Handler::handle`](super::Handler::handle) call (default 10 s).
    pub request_timeout: Duration,
    /// How long the lookaside cache keeps a reply for a resend of the same request bytes
    /// (default 120 s, MIT's lookaside lifetime).
    pub reply_cache_ttl: Duration,
    /// Replies kept (default 10000; 0 disables the cache).
    pub reply_cache_entries: usize,
    /// Bytes of replies kept at most (default 16 MiB).
    pub reply_cache_bytes: usize,
    /// After shutdown, how long requests in flight may take to finish (default 10 s).
    pub drain_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_request_bytes: 0x1_0000,
            max_udp_reply_bytes: 0x1000,
            max_udp_in_flight: 1024,
            tcp_idle_timeout: Duration::from_secs(30),
            tcp_write_timeout: Duration::from_secs(10),
            max_tcp_connections: 1024,
            max_tcp_connections_per_ip: 64,
            request_timeout: Duration::from_secs(10),
            reply_cache_ttl: Duration::from_secs(120),
            reply_cache_entries: 10_000,
            reply_cache_bytes: 0x100_0000,
            drain_timeout: Duration::from_secs(10),
        }
    }
}

impl ServerLimits {
    /// A buffer one byte longer than the largest accepted request, so a datagram that
    /// would be truncated to fit is recognised as oversized rather than silently cut.
    pub(super) fn udp_receive_buffer_len(&self) -> usize {
        self.max_request_bytes
            .saturating_add(1)
            .min(MAX_UDP_PAYLOAD + 1)
    }
}

/// A semaphore for `limit` concurrent holders; tokio panics above `MAX_PERMITS`, so clamp.
pub(super) fn semaphore(limit: usize) -> std::sync::Arc<Semaphore> {
    std::sync::Arc::new(Semaphore::new(limit.min(Semaphore::MAX_PERMITS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_buffer_detects_one_byte_over_the_limit() {
        let limits = ServerLimits {
            max_request_bytes: 100,
            ..ServerLimits::default()
        };
        assert_eq!(limits.udp_receive_buffer_len(), 101);
    }

    #[test]
    fn receive_buffer_never_exceeds_a_datagram() {
        let limits = ServerLimits {
            max_request_bytes: usize::MAX,
            ..ServerLimits::default()
        };
        assert_eq!(limits.udp_receive_buffer_len(), 0x1_0000);
    }

    #[test]
    fn huge_connection_limit_does_not_panic() {
        assert_eq!(
            semaphore(usize::MAX).available_permits(),
            Semaphore::MAX_PERMITS
        );
    }
}
