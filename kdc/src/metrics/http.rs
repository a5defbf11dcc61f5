//! The metrics listener: a minimal HTTP/1.1 server (RFC 9112) for `GET /metrics` and
//! `GET /healthz`, one request per connection, the request head bounded in size and the
//! whole exchange in time, and few connections at once.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::Metrics;

/// Largest request head read; a scraper sends a few hundred bytes.
const MAX_HEAD: usize = 0x2000;
/// Time for one whole exchange.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 16;

/// An HTTP answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// Serves until the process ends.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "metrics accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            if tokio::time::timeout(EXCHANGE_TIMEOUT, exchange(stream, &metrics))
                .await
                .is_err()
            {
                tracing::debug!(%peer, "metrics request timed out");
            }
            drop(permit);
        });
    }
}

async fn exchange(mut stream: TcpStream, metrics: &Metrics) {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    let response = loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            break route(&head, metrics);
        }
        if head.len() > MAX_HEAD {
            break plain(431, "request head too large\n".into());
        }
    };
    let _ = stream.write_all(&encode(&response)).await;
    let _ = stream.shutdown().await;
}

fn plain(status: u16, body: String) -> Response {
    Response {
        status,
        content_type: "text/plain; charset=utf-8",
        body,
    }
}

/// The answer to a request head.
pub fn route(head: &[u8], metrics: &Metrics) -> Response {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.trim_end().split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return plain(400, "bad request line\n".into());
    };
    if !version.starts_with("HTTP/1.") {
        return plain(505, "HTTP/1.x only\n".into());
    }
    if method != "GET" && method != "HEAD" {
        return plain(405, "GET only\n".into());
    }
    let path = target.split('?').next().unwrap_or_default();
    match path {
        "/metrics" => Response {
            status: 200,
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            body: metrics.render(),
        },
        "/healthz" => {
            let (healthy, report) = metrics.health.report();
            plain(if healthy { 200 } else { 503 }, report)
        }
        _ => plain(404, "try /metrics or /healthz\n".into()),
    }
}

fn encode(response: &Response) -> Vec<u8> {
    let reason = match response.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "HTTP Version Not Supported",
    };
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        response.status,
        response.content_type,
        response.body.len()
    )
    .into_bytes();
    out.extend_from_slice(response.body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_metrics_health_and_errors() {
        let metrics = Metrics::new().unwrap();
        let ok = route(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &metrics);
        assert_eq!(ok.status, 200);
        assert!(ok.body.contains("kdc_build_info{version="), "{}", ok.body);
        assert!(
            ok.body.contains("\nkdc_tcp_connections_open 0\n"),
            "{}",
            ok.body
        );
        metrics.record_request(&super::super::RequestRecord {
            kind: crate::proto::kerberos::RequestKind::As,
            transport: crate::server::Transport::Udp,
            result: Err(crate::proto::codes::ErrorCode::PREAUTH_REQUIRED),
            pkinit: None,
            fresh: false,
            exchange: None,
            tgt_pac: None,
            signed_nonce: false,
            elapsed: Duration::from_millis(3),
        });
        let after = route(b"GET /metrics HTTP/1.1\r\n\r\n", &metrics).body;
        let line = "kdc_requests_total{result=\"KDC_ERR_PREAUTH_REQUIRED\",transport=\"udp\",type=\"as\"} 1\n";
        assert!(after.contains(line), "{after}");
        assert!(
            after.contains("kdc_request_duration_seconds_bucket{type=\"as\",le=\"0.005\"} 1\n"),
            "{after}"
        );
        assert!(
            after.contains("kdc_request_duration_seconds_bucket{type=\"as\",le=\"0.0025\"} 0\n"),
            "{after}"
        );
        assert!(!after.contains("kdc_pkinit_logons_total{"), "{after}");
        let health = route(b"GET /healthz HTTP/1.0\r\n\r\n", &metrics);
        assert_eq!(
            (health.status, health.body.as_str()),
            (200, "directory: up\nsigner: up\n")
        );
        metrics.health.directory_failed();
        let sick = route(b"GET /healthz?verbose HTTP/1.1\r\n\r\n", &metrics);
        assert_eq!(
            (sick.status, sick.body.as_str()),
            (503, "directory: down\nsigner: up\n")
        );
        assert_eq!(
            route(b"POST /metrics HTTP/1.1\r\n\r\n", &metrics).status,
            405
        );
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n", &metrics).status, 404);
        assert_eq!(route(b"GET /metrics SPDY/3\r\n\r\n", &metrics).status, 505);
        assert_eq!(route(b"nonsense\r\n\r\n", &metrics).status, 400);
    }

    #[tokio::test]
    async fn answers_over_a_socket_and_bounds_the_head() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, Arc::new(Metrics::new().unwrap())));
        let mut client = TcpStream::connect(addr).await.unwrap();
        client
            .write_all(b"GET /healthz HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut reply = String::new();
        client.read_to_string(&mut reply).await.unwrap();
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
        assert!(
            reply.ends_with("\r\n\r\ndirectory: up\nsigner: up\n"),
            "{reply}"
        );
        let mut flood = TcpStream::connect(addr).await.unwrap();
        flood.write_all(&[b'a'; MAX_HEAD + 600]).await.unwrap();
        let mut reply = String::new();
        flood.read_to_string(&mut reply).await.unwrap();
        assert!(reply.starts_with("HTTP/1.1 431 "), "{reply}");
        server.abort();
    }
}
