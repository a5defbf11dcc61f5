//! TCP transport (RFC 4120 §7.2.2): accept loop, and one task per connection answering
//! length-prefixed requests one after another until the client closes or a limit is hit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

use super::connections::{Connections, Refusal, Slot};
use super::framing::{self, FrameError};
use super::respond::Shared;
use super::shutdown::Shutdown;
use super::stats::{self, OpenConnection};
use super::{Handler, RequestContext, Transport};

/// Pause after an accept error (e.g. out of file descriptors) instead of spinning.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);
/// After a KRB-ERROR that ends the connection, how long to discard what the client still
/// sends: closing with unread data would reset the connection and could lose the error.
const LINGER: Duration = Duration::from_secs(1);

pub(super) async fn run<H: Handler>(
    listener: TcpListener,
    shared: Arc<Shared<H>>,
    mut shutdown: Shutdown,
) {
    let connections = Connections::new(
        shared.limits.max_tcp_connections,
        shared.limits.max_tcp_connections_per_ip,
    );
    loop {
        let accepted = tokio::select! {
            () = shutdown.requested() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "tcp accept failed");
                tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                continue;
            }
        };
        let slot = match connections.admit(peer.ip()) {
            Ok((slot, evicted)) => {
                if evicted && stats::bump(&shared.stats.tcp_connections_evicted) {
                    tracing::warn!(%peer, "tcp connection table full; closed the connection idle longest to admit this one");
                }
                slot
            }
            Err(Refusal::PerAddress) => {
                if stats::bump(&shared.stats.tcp_connections_refused_per_ip) {
                    tracing::warn!(%peer, "this address holds listen.max_tcp_connections_per_ip connections; new one closed");
                }
                continue;
            }
            Err(Refusal::Full) => {
                if stats::bump(&shared.stats.tcp_connections_refused) {
                    tracing::warn!(%peer, "tcp connection limit reached and every connection busy; connection closed");
                }
                continue;
            }
        };
        let connection = Connection {
            stream,
            peer,
            shared: Arc::clone(&shared),
            shutdown: shutdown.clone(),
            _open: OpenConnection::new(Arc::clone(&shared.stats)),
            slot,
        };
        tokio::spawn(connection.serve());
    }
    tracing::debug!("tcp accept loop stopped");
}

/// One client connection; holds its share of the limits until dropped.
struct Connection<H> {
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared<H>>,
    shutdown: Shutdown,
    _open: OpenConnection,
    slot: Slot,
}

impl<H: Handler> Connection<H> {
    async fn serve(mut self) {
        tracing::debug!(peer = %self.peer, "tcp connection opened");
        let ctx = RequestContext {
            peer: self.peer,
            transport: Transport::Tcp,
        };
        // A request already read is answered even during shutdown; no new one is read.
        while let Some(request) = self.next_request().await {
            // Nothing to send (not Kerberos, or timed out): the client would wait forever.
            let Some(answer) = self.shared.respond(request, ctx).await else {
                break;
            };
            if !self.send(&answer.reply).await {
                break;
            }
        }
        tracing::debug!(peer = %self.peer, "tcp connection closed");
    }

    /// The next request, or `None` when the connection should close.
    async fn next_request(&mut self) -> Option<Bytes> {
        if self.shutdown.is_requested() {
            return None;
        }
        let limits = &self.shared.limits;
        self.slot.set_idle(true);
        // One deadline for the whole frame: trickling bytes cannot keep a slot forever.
        let read = tokio::select! {
            () = self.shutdown.requested() => return None,
            () = self.slot.evicted() => {
                tracing::debug!(peer = %self.peer, "idle tcp connection closed to make room");
                return None;
            }
            read = timeout(
                limits.tcp_idle_timeout,
                framing::read_frame(&mut self.stream, limits.max_request_bytes),
            ) => read,
        };
        self.slot.set_idle(false);
        match read {
            Ok(Ok(request)) => request,
            Ok(Err(error)) => {
                self.reject(error).await;
                None
            }
            Err(_elapsed) => {
                if stats::bump(&self.shared.stats.tcp_idle_timeouts) {
                    tracing::warn!(peer = %self.peer, "no whole request within the tcp idle timeout");
                }
                None
            }
        }
    }

    /// Accounts for a frame we will not answer, and sends the KRB-ERROR §7.2.2 asks for.
    async fn reject(&mut self, error: FrameError) {
        let counter = match &error {
            FrameError::TooLong { .. } => Some(&self.shared.stats.oversized_requests),
            FrameError::ReservedBitSet | FrameError::Empty | FrameError::Truncated => {
                Some(&self.shared.stats.malformed_frames)
            }
            FrameError::ReplyTooLong(_) | FrameError::Io(_) => None,
        };
        if counter.is_some_and(stats::bump) {
            tracing::warn!(peer = %self.peer, %error, "bad tcp frame; closing");
        } else {
            tracing::debug!(peer = %self.peer, %error, "bad tcp frame; closing");
        }
        if let Some(code) = error.reply_code() {
            let reply = self.shared.transport_error(code);
            if self.send(&reply).await {
                self.linger().await;
            }
        }
    }

    async fn send(&mut self, reply: &[u8]) -> bool {
        let write_timeout = self.shared.limits.tcp_write_timeout;
        match timeout(write_timeout, framing::write_frame(&mut self.stream, reply)).await {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                tracing::debug!(peer = %self.peer, %error, "tcp write failed");
                false
            }
            Err(_elapsed) => {
                if stats::bump(&self.shared.stats.tcp_write_timeouts) {
                    tracing::warn!(peer = %self.peer, "client did not read its reply in time");
                }
                false
            }
        }
    }

    /// Half-closes so the client reads the error then end-of-stream, and drains briefly.
    async fn linger(&mut self) {
        if self.stream.shutdown().await.is_err() {
            return;
        }
        let mut sink = [0u8; 0x400];
        let discard = async { while let Ok(1..) = self.stream.read(&mut sink).await {} };
        let _ = timeout(LINGER, discard).await;
    }
}
