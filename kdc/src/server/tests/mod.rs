//! End-to-end tests of the network layer on loopback sockets, with a fake KDC core.

mod lifecycle;
mod tcp;
mod udp;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{Handler, RequestContext, ServeError, ServerLimits, ServerStats, serve};
use crate::proto::codes::ErrorCode;

/// Long enough for loopback, short enough that a hang fails the test quickly.
const PATIENCE: Duration = Duration::from_secs(5);
/// Size of the reply to a `BIG` request: over the default 4096-byte datagram limit.
const BIG_REPLY_LEN: usize = 10_000;

/// Stands in for the KDC core. The request's first bytes pick the behaviour:
/// `BIG…` a 10000-byte reply, `SLOW…` answers after `slow`, `QUIET…` no reply,
/// `BUSY…` a KRB-ERROR KDC_ERR_SVC_UNAVAILABLE, anything else is echoed after `re:` (so a
/// reply is never the request itself).
struct FakeKdc {
    calls: AtomicUsize,
    slow: Duration,
}

impl FakeKdc {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Handler for FakeKdc {
    async fn handle(&self, request: Bytes, ctx: RequestContext) -> Option<Vec<u8>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        assert!(ctx.peer.ip().is_loopback());
        if request.starts_with(b"BIG") {
            return Some(vec![0xB1; BIG_REPLY_LEN]);
        }
        if request.starts_with(b"QUIET") {
            return None;
        }
        if request.starts_with(b"BUSY") {
            return Some(busy_error());
        }
        if request.starts_with(b"SLOW") {
            tokio::time::sleep(self.slow).await;
        }
        Some([b"re:", &request[..]].concat())
    }

    fn transport_error(&self, code: ErrorCode) -> Vec<u8> {
        format!("KRB-ERROR {}", code.0).into_bytes()
    }
}

fn busy_error() -> Vec<u8> {
    let context = crate::proto::kerberos::ErrorContext {
        realm: "EXAMPLE.TEST".into(),
        ..Default::default()
    };
    crate::proto::kerberos::krb_error(ErrorCode::SVC_UNAVAILABLE, context, std::time::UNIX_EPOCH)
}

/// A server on 127.0.0.1 with one UDP socket and one TCP listener.
struct Running {
    udp: SocketAddr,
    tcp: SocketAddr,
    kdc: Arc<FakeKdc>,
    stats: Arc<ServerStats>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServeError>>,
}

async fn start(limits: ServerLimits, slow: Duration) -> Running {
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (udp_addr, tcp_addr) = (udp.local_addr().unwrap(), tcp.local_addr().unwrap());
    let kdc = Arc::new(FakeKdc {
        calls: AtomicUsize::new(0),
        slow,
    });
    let stats = Arc::new(ServerStats::default());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(
        Arc::clone(&kdc),
        vec![udp],
        vec![tcp],
        limits,
        Arc::clone(&stats),
        async move {
            let _ = stopped.await;
        },
    ));
    Running {
        udp: udp_addr,
        tcp: tcp_addr,
        kdc,
        stats,
        stop: Some(stop),
        task,
    }
}

impl Running {
    async fn shut_down(mut self) -> Result<(), ServeError> {
        self.stop.take().unwrap().send(()).unwrap();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .unwrap()
            .unwrap()
    }

    /// Waits until the handler has been called `calls` times.
    async fn wait_for_calls(&self, calls: usize) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.kdc.calls() < calls {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the handler was not called"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until the counters satisfy `condition` (the server updates them concurrently).
    async fn wait_for_stats(&self, condition: impl Fn(&super::StatsSnapshot) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !condition(&self.stats.snapshot()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "stats never matched: {:?}",
                self.stats.snapshot()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn udp_client() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.unwrap()
}

/// The next datagram, or `None` if none arrives within `wait`.
async fn udp_receive(client: &UdpSocket, wait: Duration) -> Option<Vec<u8>> {
    let mut buffer = vec![0u8; 0x1_0000];
    let len = tokio::time::timeout(wait, client.recv(&mut buffer))
        .await
        .ok()?
        .unwrap();
    buffer.truncate(len);
    Some(buffer)
}

async fn udp_exchange(server: SocketAddr, request: &[u8]) -> Option<Vec<u8>> {
    let client = udp_client().await;
    client.send_to(request, server).await.unwrap();
    udp_receive(&client, Duration::from_millis(500)).await
}

async fn tcp_send(stream: &mut TcpStream, request: &[u8]) {
    let len = u32::try_from(request.len()).unwrap();
    stream.write_all(&len.to_be_bytes()).await.unwrap();
    stream.write_all(request).await.unwrap();
}

async fn tcp_receive(stream: &mut TcpStream) -> Vec<u8> {
    tokio::time::timeout(PATIENCE, async {
        let len = stream.read_u32().await.unwrap();
        let mut body = vec![0u8; usize::try_from(len).unwrap()];
        stream.read_exact(&mut body).await.unwrap();
        body
    })
    .await
    .unwrap()
}

async fn tcp_exchange(stream: &mut TcpStream, request: &[u8]) -> Vec<u8> {
    tcp_send(stream, request).await;
    tcp_receive(stream).await
}

/// True once the server has closed the connection (end of stream or reset).
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(PATIENCE, stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}
