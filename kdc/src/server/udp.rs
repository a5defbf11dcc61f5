//! UDP transport (RFC 4120 §7.2.1): one receive loop per socket, one task per datagram.
//!
//! The loop only receives; each request is answered in its own task so all cores work,
//! with a semaphore capping how many run at once so a flood cannot grow tasks unbounded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::sync::OwnedSemaphorePermit;

use super::limits;
use super::respond::Shared;
use super::shutdown::{InFlight, Shutdown};
use super::stats;
use super::{Handler, RequestContext, Transport};
use crate::proto::codes::ErrorCode;

/// Pause after a receive error, so a persistent one cannot spin a core.
const RECEIVE_ERROR_BACKOFF: Duration = Duration::from_millis(10);

pub(super) async fn run<H: Handler>(
    socket: Arc<UdpSocket>,
    shared: Arc<Shared<H>>,
    mut shutdown: Shutdown,
) {
    let in_flight = limits::semaphore(shared.limits.max_udp_in_flight);
    let max_request = shared.limits.max_request_bytes;
    let mut buffer = vec![0u8; shared.limits.udp_receive_buffer_len()];
    loop {
        let received = tokio::select! {
            () = shutdown.requested() => break,
            received = socket.recv_from(&mut buffer) => received,
        };
        let (len, peer) = match received {
            Ok(received) => received,
            Err(error) => {
                tracing::warn!(%error, "udp receive failed");
                tokio::time::sleep(RECEIVE_ERROR_BACKOFF).await;
                continue;
            }
        };
        let request = match buffer.get(..len) {
            Some(request) if len <= max_request => Bytes::copy_from_slice(request),
            _ => {
                if stats::bump(&shared.stats.oversized_requests) {
                    tracing::warn!(%peer, max_request, "oversized datagram dropped");
                }
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&in_flight).try_acquire_owned() else {
            if stats::bump(&shared.stats.udp_dropped_busy) {
                tracing::warn!(%peer, "udp requests at the in-flight limit; datagram dropped");
            }
            continue;
        };
        let task = Datagram {
            socket: Arc::clone(&socket),
            shared: Arc::clone(&shared),
            peer,
            _permit: permit,
            _in_flight: shutdown.in_flight(),
        };
        tokio::spawn(task.answer(request));
    }
    tracing::debug!("udp receive loop stopped");
}

/// One datagram being answered; holds its share of the limits until done.
struct Datagram<H> {
    socket: Arc<UdpSocket>,
    shared: Arc<Shared<H>>,
    peer: SocketAddr,
    _permit: OwnedSemaphorePermit,
    _in_flight: InFlight,
}

impl<H: Handler> Datagram<H> {
    async fn answer(self, request: Bytes) {
        let ctx = RequestContext {
            peer: self.peer,
            transport: Transport::Udp,
        };
        let Some(answer) = self.shared.respond(request, ctx).await else {
            return;
        };
        let datagram = if answer.reply.len() > self.shared.limits.max_udp_reply_bytes {
            stats::bump(&self.shared.stats.udp_replies_too_big);
            tracing::debug!(peer = %self.peer, reply_len = answer.reply.len(), "reply too big for udp");
            self.shared.transport_error(ErrorCode::RESPONSE_TOO_BIG)
        } else {
            answer.reply
        };
        if let Err(error) = self.socket.send_to(&datagram, self.peer).await {
            tracing::debug!(peer = %self.peer, %error, "udp send failed");
        }
    }
}
