//! The KDC's network layer: UDP and TCP listeners in front of one request handler (RFC 4120 §7.2).
//!
//! Each concern lives in one file: `framing` (the §7.2.2 TCP record marking), `limits`
//! (every bound the server enforces), `shutdown` (stop signal and drain), `reply_cache`
//! (the lookaside cache: the same request bytes get the same reply), `connections` (the TCP
//! connection table), `stats` (counters), `respond` (what UDP and TCP share: the reply
//! from the cache, else from the [`Handler`] within the request timeout), `udp` and `tcp`.

mod connections;
pub mod framing;
mod limits;
mod reply_cache;
mod respond;
mod shutdown;
mod stats;
mod tcp;
mod udp;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, UdpSocket};

use crate::proto::codes::ErrorCode;

pub use self::limits::ServerLimits;
pub use self::stats::{ServerStats, StatsSnapshot};

/// How a request reached the KDC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// Where one request came from; handed to the [`Handler`] with the request bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestContext {
    pub peer: SocketAddr,
    pub transport: Transport,
}

/// What the KDC core does with one Kerberos message. Implemented by the KDC; UDP and TCP share it.
pub trait Handler: Send + Sync + 'static {
    /// The encoded reply (KDC-REP or KRB-ERROR), or `None` to drop the request silently
    /// (e.g. not a Kerberos request at all). Bounded by [`ServerLimits::request_timeout`].
    /// Not called for a retry of a request whose reply was too big for UDP: that retry is
    /// answered from the reply cache.
    fn handle(
        &self,
        request: bytes::Bytes,
        ctx: RequestContext,
    ) -> impl Future<Output = Option<Vec<u8>>> + Send;

    /// A KRB-ERROR with this error code (RFC 4120 §7.5.9), used by the transport for
    /// [`ErrorCode::RESPONSE_TOO_BIG`] (the reply does not fit a datagram; the client retries
    /// over TCP) and [`ErrorCode::FIELD_TOOLONG`] (§7.2.2: a TCP length we will not read).
    fn transport_error(&self, code: ErrorCode) -> Vec<u8>;
}

/// Why [`serve`] returned something other than a clean drain.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ServeError {
    #[error("no UDP socket and no TCP listener to serve")]
    NoSockets,
    #[error("{still_running} request task(s) still running when the drain timeout expired")]
    DrainTimedOut { still_running: usize },
}

/// Answers Kerberos requests on every socket until `shutdown` resolves, then stops
/// accepting and waits (at most [`ServerLimits::drain_timeout`]) for requests in flight.
///
/// `stats` is updated as the server runs; keep a clone to read it.
pub async fn serve<H: Handler>(
    handler: Arc<H>,
    udp: Vec<UdpSocket>,
    tcp: Vec<TcpListener>,
    limits: ServerLimits,
    stats: Arc<ServerStats>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    if udp.is_empty() && tcp.is_empty() {
        return Err(ServeError::NoSockets);
    }
    let drain_timeout = limits.drain_timeout;
    let shared = Arc::new(respond::Shared::new(handler, limits, stats));
    let (coordinator, signal) = shutdown::channel();

    for socket in udp {
        log_listening(socket.local_addr(), Transport::Udp);
        tokio::spawn(udp::run(
            Arc::new(socket),
            Arc::clone(&shared),
            signal.clone(),
        ));
    }
    for listener in tcp {
        log_listening(listener.local_addr(), Transport::Tcp);
        tokio::spawn(tcp::run(listener, Arc::clone(&shared), signal.clone()));
    }
    // Only the tasks may keep the drain open.
    drop(signal);

    shutdown.await;
    tracing::info!("shutdown requested: no new requests, draining those in flight");
    let drained = coordinator.drain(drain_timeout).await;
    match &drained {
        Ok(()) => tracing::info!("server drained"),
        Err(error) => tracing::warn!(%error, "server stopped before draining"),
    }
    drained
}

fn log_listening(addr: std::io::Result<SocketAddr>, transport: Transport) {
    match addr {
        Ok(addr) => tracing::info!(%addr, ?transport, "listening"),
        Err(error) => tracing::info!(%error, ?transport, "listening (address unknown)"),
    }
}
