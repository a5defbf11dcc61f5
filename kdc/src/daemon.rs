//! `kdc serve`: loads the configuration and every file it names, binds the UDP and TCP
//! listeners, and runs the KDC until SIGTERM or SIGINT, then drains in-flight requests.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use kdc_config::{Config, MetricsConfig};

use crate::build::{self, BuildOptions, Built};
use crate::crypto_pool::CryptoPool;
use crate::metrics::Metrics;
use crate::notify;
use crate::reload::{self, LiveKdc};
use crate::server::{self, ServerLimits, ServerStats};

/// Sets up logging from the configuration; RUST_LOG, when set, wins. Colours only on a
/// terminal: journald, files and log shippers get plain text.
pub fn init_logging(config: &kdc_config::LogConfig) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if config.format == kdc_config::LogFormat::Json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub async fn serve(config_path: &Path) -> Result<()> {
    let config = Config::load(config_path)?;
    let metrics = Arc::new(Metrics::new()?);
    let options = BuildOptions {
        metrics: Some(Arc::clone(&metrics)),
        ..BuildOptions::default()
    };
    let Built { kdc, signer } = build::build(&config, options).await?;
    let listen = &config.listen;
    let mut udp = Vec::new();
    for &address in &listen.udp {
        udp.push(
            tokio::net::UdpSocket::bind(address)
                .await
                .with_context(|| format!("binding UDP {address}"))?,
        );
    }
    let mut tcp = Vec::new();
    for &address in &listen.tcp {
        tcp.push(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("binding TCP {address}"))?,
        );
    }
    let limits = ServerLimits {
        max_request_bytes: listen.max_request_bytes,
        max_udp_reply_bytes: listen.max_udp_reply_bytes,
        tcp_idle_timeout: Duration::from_secs(listen.tcp_idle_timeout_secs),
        max_tcp_connections: listen.max_tcp_connections,
        max_tcp_connections_per_ip: listen.max_tcp_connections_per_ip,
        request_timeout: Duration::from_secs(listen.request_timeout_secs),
        ..ServerLimits::default()
    };
    let stats = Arc::new(ServerStats::default());
    metrics.watch_server(Arc::clone(&stats));
    if let Some(metrics_config) = &config.metrics {
        start_metrics(metrics_config, &metrics).await?;
    }
    let pool = CryptoPool::new(config.pkinit.workers, config.pkinit.queue)
        .context("starting the PKINIT worker threads")?;
    let live = Arc::new(
        LiveKdc::new(kdc, Some(Arc::new(pool)))
            .with_udp_queue_timeout(Duration::from_millis(config.pkinit.udp_queue_timeout_ms)),
    );
    let shutdown = shutdown_signal()?;
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("installing the SIGHUP handler")?;
    tokio::spawn(reload::on_sighup(
        hangup,
        config_path.to_owned(),
        config.clone(),
        Arc::clone(&live),
        Arc::clone(&metrics),
        signer,
    ));
    tracing::info!(realm = %config.realm.name, udp = ?listen.udp, tcp = ?listen.tcp, "kdc serving");
    notify::send("READY=1\nSTATUS=serving");
    server::serve(live, udp, tcp, limits, stats, shutdown).await?;
    tracing::info!("kdc stopped");
    Ok(())
}

/// Installs the SIGTERM and SIGINT handlers now (before READY=1 is sent: a signal that
/// came before its handler would kill the process undrained); the future resolves on either.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: draining"),
            _ = int.recv() => tracing::info!("SIGINT: draining"),
        }
        notify::send("STOPPING=1\nSTATUS=draining");
    })
}

/// Binds the metrics listener and starts it and the health probe.
async fn start_metrics(config: &MetricsConfig, metrics: &Arc<Metrics>) -> Result<()> {
    let address = config.listen;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("binding the metrics listener {address}"))?;
    let bound = listener.local_addr().unwrap_or(address);
    tracing::info!(url = %format!("http://{bound}/metrics"), "metrics listening");
    tokio::spawn(crate::metrics::http::serve(listener, Arc::clone(metrics)));
    tokio::spawn(crate::metrics::health::probe_loop(
        Arc::clone(metrics),
        Duration::from_secs(config.probe_interval_secs),
    ));
    Ok(())
}
