//! Startup and graceful shutdown.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_requests_in_flight_finish_then_stops_accepting() {
    let server = start(ServerLimits::default(), Duration::from_millis(300)).await;
    let udp = udp_client().await;
    udp.send_to(b"SLOW udp", server.udp).await.unwrap();
    let mut tcp = TcpStream::connect(server.tcp).await.unwrap();
    tcp_send(&mut tcp, b"SLOW tcp").await;
    server.wait_for_stats(|_| server.kdc.calls() == 2).await;

    let (tcp_addr, kdc) = (server.tcp, Arc::clone(&server.kdc));
    let stopping = tokio::spawn(server.shut_down());

    assert_eq!(
        udp_receive(&udp, PATIENCE).await.as_deref(),
        Some(&b"re:SLOW udp"[..])
    );
    assert_eq!(tcp_receive(&mut tcp).await, b"re:SLOW tcp");
    assert!(
        closed_by_server(&mut tcp).await,
        "no further request is read after shutdown"
    );
    assert_eq!(stopping.await.unwrap(), Ok(()));
    assert!(
        TcpStream::connect(tcp_addr).await.is_err(),
        "listener must be closed"
    );
    assert_eq!(kdc.calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_do_not_delay_shutdown() {
    let server = start(ServerLimits::default(), Duration::ZERO).await;
    let mut idle = TcpStream::connect(server.tcp).await.unwrap();
    server
        .wait_for_stats(|stats| stats.tcp_connections_open == 1)
        .await;
    let started = tokio::time::Instant::now();
    assert_eq!(server.shut_down().await, Ok(()));
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(closed_by_server(&mut idle).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_gives_up_after_its_timeout() {
    let limits = ServerLimits {
        drain_timeout: Duration::from_millis(100),
        request_timeout: Duration::from_secs(30),
        ..ServerLimits::default()
    };
    let server = start(limits, Duration::from_secs(10)).await;
    let udp = udp_client().await;
    udp.send_to(b"SLOW forever", server.udp).await.unwrap();
    server.wait_for_stats(|_| server.kdc.calls() == 1).await;
    assert_eq!(
        server.shut_down().await,
        Err(ServeError::DrainTimedOut { still_running: 1 })
    );
}

#[tokio::test]
async fn refuses_to_serve_nothing() {
    let handler = Arc::new(FakeKdc {
        calls: AtomicUsize::new(0),
        slow: Duration::ZERO,
    });
    let result = serve(
        handler,
        Vec::new(),
        Vec::new(),
        ServerLimits::default(),
        Arc::default(),
        std::future::pending(),
    )
    .await;
    assert_eq!(result, Err(ServeError::NoSockets));
}
