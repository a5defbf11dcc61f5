//! `kdc serve`: loads the configuration and every file it names, binds the UDP and TCP
//! listeners, and runs the KDC until SIGTERM or SIGINT, then drains in-flight requests.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use kdc_config::{Config, DirectoryConfig};
use kdc_directory::{Directory, EmbeddedDirectory};

use crate::kdc::Kdc;
use crate::krbtgt::KrbtgtKeys;
use crate::server::{self, ServerLimits, ServerStats};
use crate::signer::software::SoftwareSigner;

/// Sets up logging from the configuration; RUST_LOG, when set, wins.
pub fn init_logging(config: &kdc_config::LogConfig) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Opens the configured directory.
pub async fn open_directory(config: &Config) -> Result<Arc<EmbeddedDirectory>> {
    match &config.directory {
        DirectoryConfig::Embedded { path } => {
            Ok(Arc::new(EmbeddedDirectory::load(path).await.with_context(
                || format!("loading the embedded directory {}", path.display()),
            )?))
        }
    }
}

/// Builds the KDC from a configuration file.
pub async fn build(config_path: &Path) -> Result<(Config, Arc<Kdc>)> {
    let config = Config::load(config_path)?;
    let directory: Arc<dyn Directory> = open_directory(&config).await?;
    let signer = Arc::new(SoftwareSigner::load(
        &config.pkinit.key,
        &config.pkinit.certificate,
    )?);
    let krbtgt = KrbtgtKeys::load(&config.realm.krbtgt_keys)?;
    let kdc = Kdc::new(&config, directory, signer, krbtgt)?;
    Ok((config, Arc::new(kdc)))
}

pub async fn serve(config_path: &Path) -> Result<()> {
    let (config, kdc) = build(config_path).await?;
    let listen = &config.listen;
    let mut udp = Vec::new();
    for address in &listen.udp {
        let address: SocketAddr = address
            .parse()
            .with_context(|| format!("listen.udp: {address:?}"))?;
        udp.push(
            tokio::net::UdpSocket::bind(address)
                .await
                .with_context(|| format!("binding UDP {address}"))?,
        );
    }
    let mut tcp = Vec::new();
    for address in &listen.tcp {
        let address: SocketAddr = address
            .parse()
            .with_context(|| format!("listen.tcp: {address:?}"))?;
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
        request_timeout: Duration::from_secs(listen.request_timeout_secs),
        ..ServerLimits::default()
    };
    tracing::info!(realm = %config.realm.name, udp = ?listen.udp, tcp = ?listen.tcp, "kdc serving");
    server::serve(
        kdc,
        udp,
        tcp,
        limits,
        Arc::new(ServerStats::default()),
        shutdown_signal(),
    )
    .await?;
    tracing::info!("kdc stopped");
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: draining"),
        _ = int.recv() => tracing::info!("SIGINT: draining"),
    }
}
