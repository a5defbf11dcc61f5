//! Counters kept by other parts (the network layer's `ServerStats`, the LDAP user cache),
//! copied into Prometheus counters at each scrape. A source that starts over (a reload
//! opened a new directory) is followed without the counter ever going down.

use std::sync::Mutex;

use kdc_directory::ldap::CacheStats;
use prometheus::{IntCounter, IntGauge, Registry};

use super::MetricsError;
use crate::server::StatsSnapshot;

/// One Prometheus counter following a total kept elsewhere.
struct Mirror {
    counter: IntCounter,
    last: Mutex<u64>,
}

impl Mirror {
    fn new(registry: &Registry, name: &str, help: &str) -> Result<Mirror, MetricsError> {
        let counter = IntCounter::new(name, help)?;
        registry.register(Box::new(counter.clone()))?;
        Ok(Mirror {
            counter,
            last: Mutex::new(0),
        })
    }

    fn follow(&self, total: u64) {
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        // Below the last value: a new source counting from zero.
        let new = total.checked_sub(*last).unwrap_or(total);
        self.counter.inc_by(new);
        *last = total;
    }
}

pub(super) struct Mirrors {
    server: [Mirror; 11],
    tcp_open: IntGauge,
    cache_hits: Mirror,
    cache_misses: Mirror,
    cache_entries: IntGauge,
}

/// The network layer's totals, in the order of [`server_values`].
const SERVER_COUNTERS: [(&str, &str); 11] = [
    (
        "kdc_udp_dropped_busy_total",
        "UDP datagrams dropped because too many requests were in flight",
    ),
    (
        "kdc_oversized_requests_total",
        "UDP datagrams or TCP lengths over listen.max_request_bytes",
    ),
    (
        "kdc_malformed_frames_total",
        "TCP frames with the reserved length bit, a zero length, or cut short",
    ),
    (
        "kdc_request_timeouts_total",
        "Requests abandoned after listen.request_timeout_secs",
    ),
    (
        "kdc_tcp_idle_timeouts_total",
        "TCP connections closed for want of a whole request in time",
    ),
    (
        "kdc_tcp_write_timeouts_total",
        "TCP replies the client did not read in time",
    ),
    (
        "kdc_tcp_connections_refused_total",
        "TCP connections closed at once at listen.max_tcp_connections, every open one busy",
    ),
    (
        "kdc_tcp_connections_refused_per_ip_total",
        "TCP connections closed at once because their address held listen.max_tcp_connections_per_ip",
    ),
    (
        "kdc_tcp_connections_evicted_total",
        "Idle TCP connections closed to admit a new one at listen.max_tcp_connections",
    ),
    (
        "kdc_udp_replies_too_big_total",
        "UDP replies replaced by KRB_ERR_RESPONSE_TOO_BIG",
    ),
    (
        "kdc_reply_cache_hits_total",
        "Requests answered from the lookaside cache: the same bytes again within its lifetime (UDP retransmissions, TCP retries of too-big replies, replays)",
    ),
];

fn server_values(s: &StatsSnapshot) -> [u64; 11] {
    [
        s.udp_dropped_busy,
        s.oversized_requests,
        s.malformed_frames,
        s.request_timeouts,
        s.tcp_idle_timeouts,
        s.tcp_write_timeouts,
        s.tcp_connections_refused,
        s.tcp_connections_refused_per_ip,
        s.tcp_connections_evicted,
        s.udp_replies_too_big,
        s.reply_cache_hits,
    ]
}

impl Mirrors {
    pub(super) fn new(registry: &Registry) -> Result<Mirrors, MetricsError> {
        let mut server = Vec::with_capacity(SERVER_COUNTERS.len());
        for (name, help) in SERVER_COUNTERS {
            server.push(Mirror::new(registry, name, help)?);
        }
        let server: [Mirror; 11] = server
            .try_into()
            .map_err(|_| MetricsError(prometheus::Error::Msg("server counters".into())))?;
        let tcp_open = IntGauge::new("kdc_tcp_connections_open", "TCP connections open now")?;
        registry.register(Box::new(tcp_open.clone()))?;
        let cache_entries = IntGauge::new(
            "kdc_ldap_cache_entries",
            "Users held in the LDAP user cache",
        )?;
        registry.register(Box::new(cache_entries.clone()))?;
        Ok(Mirrors {
            server,
            tcp_open,
            cache_hits: Mirror::new(
                registry,
                "kdc_ldap_cache_hits_total",
                "User lookups answered by the LDAP cache (negative entries included)",
            )?,
            cache_misses: Mirror::new(
                registry,
                "kdc_ldap_cache_misses_total",
                "User lookups that went to the LDAP server",
            )?,
            cache_entries,
        })
    }

    pub(super) fn server(&self, snapshot: &StatsSnapshot) {
        for (mirror, value) in self.server.iter().zip(server_values(snapshot)) {
            mirror.follow(value);
        }
        self.tcp_open
            .set(i64::try_from(snapshot.tcp_connections_open).unwrap_or(i64::MAX));
    }

    pub(super) fn ldap_cache(&self, stats: &CacheStats) {
        self.cache_hits
            .follow(stats.hits.saturating_add(stats.negative_hits));
        self.cache_misses.follow(stats.misses);
        self.cache_entries
            .set(i64::try_from(stats.entries).unwrap_or(i64::MAX));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_follows_a_total_across_a_restart() {
        let registry = Registry::new();
        let mirror = Mirror::new(&registry, "t_total", "t").unwrap();
        mirror.follow(5);
        mirror.follow(7);
        assert_eq!(mirror.counter.get(), 7);
        // A new source counts from zero again: its 3 are new events.
        mirror.follow(3);
        assert_eq!(mirror.counter.get(), 10);
        mirror.follow(3);
        assert_eq!(mirror.counter.get(), 10);
    }
}
