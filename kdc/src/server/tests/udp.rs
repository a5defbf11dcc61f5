//! UDP: answers, size limits, the too-big → TCP retry path, flood and timeout handling.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoes_a_datagram() {
    let server = start(ServerLimits::default(), Duration::ZERO).await;
    let reply = udp_exchange(server.udp, b"hello kdc").await;
    assert_eq!(reply.as_deref(), Some(&b"re:hello kdc"[..]));
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_returning_none_sends_nothing() {
    let server = start(ServerLimits::default(), Duration::ZERO).await;
    assert_eq!(udp_exchange(server.udp, b"QUIET please").await, None);
    assert_eq!(server.kdc.calls(), 1);
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_datagram_is_dropped_and_loop_goes_on() {
    let limits = ServerLimits {
        max_request_bytes: 100,
        ..ServerLimits::default()
    };
    let server = start(limits, Duration::ZERO).await;
    let client = udp_client().await;
    client.send_to(&[b'x'; 101], server.udp).await.unwrap();
    client.send_to(&[b'y'; 100], server.udp).await.unwrap();
    let reply = udp_receive(&client, PATIENCE).await.unwrap();
    assert_eq!(reply, [&b"re:"[..], &[b'y'; 100]].concat());
    assert_eq!(server.stats.snapshot().oversized_requests, 1);
    assert_eq!(server.kdc.calls(), 1);
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_big_reply_gets_error_52_and_tcp_retry_is_served_from_cache() {
    let server = start(ServerLimits::default(), Duration::ZERO).await;
    let request = b"BIG AS-REQ with PA-PK-AS-REQ";

    let udp_reply = udp_exchange(server.udp, request).await;
    assert_eq!(udp_reply.as_deref(), Some(&b"KRB-ERROR 52"[..]));

    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    let tcp_reply = tcp_exchange(&mut stream, request).await;
    assert_eq!(tcp_reply, vec![0xB1; BIG_REPLY_LEN]);

    assert_eq!(
        server.kdc.calls(),
        1,
        "the retry must not run the handler again"
    );
    let stats = server.stats.snapshot();
    assert_eq!((stats.udp_replies_too_big, stats.reply_cache_hits), (1, 1));
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_retransmit_of_a_too_big_request_does_not_rerun_the_handler() {
    let server = start(ServerLimits::default(), Duration::ZERO).await;
    for _ in 0..2 {
        let reply = udp_exchange(server.udp, b"BIG again").await;
        assert_eq!(reply.as_deref(), Some(&b"KRB-ERROR 52"[..]));
    }
    assert_eq!(server.kdc.calls(), 1);
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_cache_the_tcp_retry_runs_the_handler_again() {
    let limits = ServerLimits {
        reply_cache_entries: 0,
        ..ServerLimits::default()
    };
    let server = start(limits, Duration::ZERO).await;
    let udp_reply = udp_exchange(server.udp, b"BIG").await;
    assert_eq!(udp_reply.as_deref(), Some(&b"KRB-ERROR 52"[..]));
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    assert_eq!(tcp_exchange(&mut stream, b"BIG").await.len(), BIG_REPLY_LEN);
    assert_eq!(server.kdc.calls(), 2);
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_beyond_in_flight_limit_is_dropped_and_counted() {
    let limits = ServerLimits {
        max_udp_in_flight: 1,
        ..ServerLimits::default()
    };
    let server = start(limits, Duration::from_millis(300)).await;
    let client = udp_client().await;
    client.send_to(b"SLOW first", server.udp).await.unwrap();
    server.wait_for_stats(|_| server.kdc.calls() == 1).await;
    client.send_to(b"SLOW second", server.udp).await.unwrap();
    server
        .wait_for_stats(|stats| stats.udp_dropped_busy == 1)
        .await;

    let reply = udp_receive(&client, PATIENCE).await;
    assert_eq!(reply.as_deref(), Some(&b"re:SLOW first"[..]));
    assert_eq!(udp_receive(&client, Duration::from_millis(400)).await, None);
    assert_eq!(server.kdc.calls(), 1);
    server.shut_down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_timeout_drops_the_datagram() {
    let limits = ServerLimits {
        request_timeout: Duration::from_millis(100),
        ..ServerLimits::default()
    };
    let server = start(limits, Duration::from_secs(3)).await;
    assert_eq!(udp_exchange(server.udp, b"SLOW").await, None);
    server
        .wait_for_stats(|stats| stats.request_timeouts == 1)
        .await;
    assert_eq!(
        udp_exchange(server.udp, b"fast").await.as_deref(),
        Some(&b"re:fast"[..])
    );
    server.shut_down().await.unwrap();
}
