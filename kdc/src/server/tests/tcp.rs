//! TCP: RFC 4120 §7.2.2 framing, length checks, timeouts and the connection limit.

use super::*;

fn short_idle(idle: Duration) -> ServerLimits {
    ServerLimits {
        tcp_idle_timeout: idle,
        ..ServerLimits::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_several_requests_on_one_connection_in_order() {
    let server = start(ServerLimits::default(), Duration::from_millis(50)).await;
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    assert_eq!(tcp_exchange(&mut stream, b"one").await, b"re:one");
    // Pipelined: the slow first request must still be answered first.
    tcp_send(&mut stream, b"SLOW two").await;
    tcp_send(&mut stream, b"three").await;
    assert_eq!(tcp_receive(&mut stream).await, b"re:SLOW two");
    assert_eq!(tcp_receive(&mut stream).await, b"re:three");
    assert_eq!(server.kdc.calls(), 3);
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_high_bit_gets_field_toolong_and_close() {
    let server = start(ServerLimits::default(), Duration::ZERO).await;
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    stream.write_all(&[0x80, 0x00, 0x00, 0x10]).await.unwrap();
    assert_eq!(tcp_receive(&mut stream).await, b"KRB-ERROR 61");
    assert!(closed_by_server(&mut stream).await);
    assert_eq!(server.kdc.calls(), 0);
    assert_eq!(server.stats.snapshot().malformed_frames, 1);
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn length_over_the_limit_gets_field_toolong_and_close() {
    let limits = ServerLimits {
        max_request_bytes: 100,
        ..ServerLimits::default()
    };
    let server = start(limits, Duration::ZERO).await;
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    stream.write_all(&101u32.to_be_bytes()).await.unwrap();
    assert_eq!(tcp_receive(&mut stream).await, b"KRB-ERROR 61");
    assert!(closed_by_server(&mut stream).await);
    assert_eq!(server.stats.snapshot().oversized_requests, 1);

    // Exactly at the limit is fine.
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    assert_eq!(tcp_exchange(&mut stream, &[b'z'; 100]).await.len(), 103);
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_toolong_survives_a_client_still_sending_its_body() {
    let limits = ServerLimits {
        max_request_bytes: 100,
        ..ServerLimits::default()
    };
    let server = start(limits, Duration::ZERO).await;
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    stream.write_all(&5000u32.to_be_bytes()).await.unwrap();
    stream.write_all(&[0xEE; 5000]).await.unwrap();
    // Closing with this body unread would send a reset, and some stacks (Windows) then
    // discard the error before the client reads it: the server must end with a clean FIN.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(tcp_receive(&mut stream).await, b"KRB-ERROR 61");
    let mut rest = [0u8; 1];
    let end = tokio::time::timeout(PATIENCE, stream.read(&mut rest))
        .await
        .unwrap();
    assert_eq!(end.unwrap(), 0, "expected end of stream, not a reset");
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_length_closes_without_reply() {
    let server = start(ServerLimits::default(), Duration::ZERO).await;
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    stream.write_all(&[0, 0, 0, 0]).await.unwrap();
    assert!(closed_by_server(&mut stream).await);
    assert_eq!(server.kdc.calls(), 0);
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connection_is_closed() {
    let server = start(short_idle(Duration::from_millis(200)), Duration::ZERO).await;
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    assert_eq!(tcp_exchange(&mut stream, b"first").await, b"re:first");
    assert!(closed_by_server(&mut stream).await);
    server
        .wait_for_stats(|stats| stats.tcp_idle_timeouts == 1 && stats.tcp_connections_open == 0)
        .await;
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_a_frame_does_not_reset_the_deadline() {
    let server = start(short_idle(Duration::from_millis(300)), Duration::ZERO).await;
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    stream.write_all(&50u32.to_be_bytes()).await.unwrap();
    // One byte every 100 ms, each well inside the timeout, never completing in time.
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if stream.write_all(b"x").await.is_err() {
            break;
        }
    }
    assert!(closed_by_server(&mut stream).await);
    assert_eq!(server.stats.snapshot().tcp_idle_timeouts, 1);
    assert_eq!(server.kdc.calls(), 0);
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_table_closes_the_idle_connection_for_a_new_one() {
    let limits = ServerLimits {
        max_tcp_connections: 1,
        ..ServerLimits::default()
    };
    let server = start(limits, Duration::ZERO).await;
    let mut first = TcpStream::connect(server.tcp).await.unwrap();
    assert_eq!(tcp_exchange(&mut first, b"held").await, b"re:held");

    // first now only waits: the newcomer takes its place.
    let mut second = TcpStream::connect(server.tcp).await.unwrap();
    assert_eq!(tcp_exchange(&mut second, b"new").await, b"re:new");
    assert!(closed_by_server(&mut first).await);
    let stats = server.stats.snapshot();
    assert_eq!(
        (stats.tcp_connections_evicted, stats.tcp_connections_refused),
        (1, 0)
    );
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_table_of_busy_connections_refuses_the_new_one() {
    let limits = ServerLimits {
        max_tcp_connections: 1,
        ..ServerLimits::default()
    };
    let server = start(limits, Duration::from_millis(500)).await;
    let mut busy = TcpStream::connect(server.tcp).await.unwrap();
    tcp_send(&mut busy, b"SLOW busy").await;
    server.wait_for_calls(1).await;
    let mut second = TcpStream::connect(server.tcp).await.unwrap();
    assert!(closed_by_server(&mut second).await);
    assert_eq!(tcp_receive(&mut busy).await, b"re:SLOW busy");
    assert_eq!(server.stats.snapshot().tcp_connections_refused, 1);
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_at_its_maximum_leaves_room_for_another() {
    let limits = ServerLimits {
        max_tcp_connections_per_ip: 2,
        ..ServerLimits::default()
    };
    let server = start(limits, Duration::ZERO).await;
    let from = |last: u8| async move {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(SocketAddr::from(([127, 0, 0, last], 0)))
            .unwrap();
        socket.connect(server.tcp).await.unwrap()
    };
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = from(1).await;
        assert_eq!(tcp_exchange(&mut stream, b"mine").await, b"re:mine");
        held.push(stream);
    }
    let mut third = from(1).await;
    assert!(closed_by_server(&mut third).await);
    assert_eq!(server.stats.snapshot().tcp_connections_refused_per_ip, 1);
    // Another address is still served, and the first one's connections stay open.
    let mut other = from(2).await;
    assert_eq!(tcp_exchange(&mut other, b"yours").await, b"re:yours");
    for stream in &mut held {
        assert_eq!(tcp_exchange(stream, b"still").await, b"re:still");
    }
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_frame_closes_without_hanging() {
    let server = start(ServerLimits::default(), Duration::ZERO).await;
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    stream.write_all(&100u32.to_be_bytes()).await.unwrap();
    stream.write_all(&[7u8; 10]).await.unwrap();
    stream.shutdown().await.unwrap();
    assert!(closed_by_server(&mut stream).await);
    server
        .wait_for_stats(|stats| stats.malformed_frames == 1 && stats.tcp_connections_open == 0)
        .await;
    assert_eq!(server.kdc.calls(), 0);

    let mut next = TcpStream::connect(server.tcp).await.unwrap();
    assert_eq!(tcp_exchange(&mut next, b"still up").await, b"re:still up");
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_timeout_or_silence_closes_the_connection() {
    let limits = ServerLimits {
        request_timeout: Duration::from_millis(100),
        ..ServerLimits::default()
    };
    let server = start(limits, Duration::from_secs(3)).await;
    for request in [&b"SLOW"[..], b"QUIET"] {
        let mut stream = TcpStream::connect(server.tcp).await.unwrap();
        tcp_send(&mut stream, request).await;
        assert!(closed_by_server(&mut stream).await);
    }
    assert_eq!(server.stats.snapshot().request_timeouts, 1);
    server.shut_down().await.unwrap();
}

/// The lookaside cache: the same request bytes again (a replay, a retransmission) get the
/// first reply with no second handler call; other bytes still reach the handler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_bytes_again_get_the_same_reply_without_the_handler() {
    let server = start(ServerLimits::default(), Duration::ZERO).await;
    for _ in 0..3 {
        let mut stream = TcpStream::connect(server.tcp).await.unwrap();
        assert_eq!(tcp_exchange(&mut stream, b"replayed").await, b"re:replayed");
    }
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    assert_eq!(tcp_exchange(&mut stream, b"fresh").await, b"re:fresh");
    assert_eq!(server.kdc.calls(), 2);
    assert_eq!(server.stats.snapshot().reply_cache_hits, 2);
    server.shut_down().await.unwrap();
}

/// KDC_ERR_SVC_UNAVAILABLE says "not now" (pool full, directory or TPM down): a copy of the
/// request gets a new try, not the old refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_for_now_is_not_repeated_from_the_cache() {
    let server = start(ServerLimits::default(), Duration::ZERO).await;
    for _ in 0..2 {
        let mut stream = TcpStream::connect(server.tcp).await.unwrap();
        assert_eq!(tcp_exchange(&mut stream, b"BUSY now").await, busy_error());
    }
    assert_eq!(server.kdc.calls(), 2);
    assert_eq!(server.stats.snapshot().reply_cache_hits, 0);
    server.shut_down().await.unwrap();
}
