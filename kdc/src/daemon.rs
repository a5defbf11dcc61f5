//! `kdc serve`: loads the configuration and every file it names, binds the UDP and TCP
//! listeners, and runs the KDC until SIGTERM or SIGINT, then drains in-flight requests.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use kdc_config::{Config, DirectoryConfig, LdapConfig, MetricsConfig};
use kdc_directory::ldap::LdapAttributes;
use kdc_directory::{Directory, DirectoryAdmin, EmbeddedDirectory, LdapDirectory, LdapSettings};

use crate::crypto_pool::CryptoPool;
use crate::kdc::Kdc;
use crate::keys::{KeyRing, MasterKey};
use crate::metrics::Metrics;
use crate::notify;
use crate::reload::{self, LiveKdc};
use crate::server::{self, ServerLimits, ServerStats};
use kdc_directory::services::{FileServiceStore, ServiceStore};

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
    let _ = if config.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Opens the configured directory, for `kdc serve` (as `Arc<dyn Directory>`) and the admin
/// commands alike. An LDAP directory connects lazily: a server down now is logged, and
/// requests get KDC_ERR_SVC_UNAVAILABLE until it is back.
pub async fn open_directory(config: &Config) -> Result<Arc<dyn DirectoryAdmin>> {
    match &config.directory {
        DirectoryConfig::Embedded { path } => {
            Ok(Arc::new(EmbeddedDirectory::load(path).await.with_context(
                || format!("loading the embedded directory {}", path.display()),
            )?))
        }
        DirectoryConfig::Ldap(ldap) => Ok(open_ldap(ldap).await?),
    }
}

/// The LDAP directory, checked once (a failure is only logged: it connects lazily).
pub async fn open_ldap(ldap: &LdapConfig) -> Result<Arc<LdapDirectory>> {
    let directory =
        LdapDirectory::new(ldap_settings(ldap)).context("configuring the LDAP directory")?;
    match directory.check().await {
        Ok(()) => {
            tracing::info!(urls = ?ldap.urls, base_dn = %ldap.base_dn, "LDAP directory reachable")
        }
        Err(error) => tracing::warn!(%error, "LDAP directory not reachable yet"),
    }
    Ok(Arc::new(directory))
}

fn ldap_settings(ldap: &LdapConfig) -> LdapSettings {
    let names = &ldap.attributes;
    LdapSettings {
        urls: ldap.urls.clone(),
        starttls: ldap.starttls,
        ca_file: ldap.ca_file.clone(),
        bind_dn: ldap.bind_dn.clone(),
        bind_password_file: ldap.bind_password_file.clone(),
        base_dn: ldap.base_dn.clone(),
        principals_base_dn: ldap.principals_base_dn.clone(),
        user_filter: ldap.user_filter.clone(),
        attributes: LdapAttributes {
            user_principal_name: names.user_principal_name.clone(),
            sam_account_name: names.sam_account_name.clone(),
            key_credential_link: names.key_credential_link.clone(),
            user_account_control: names.user_account_control.clone(),
            account_expires: names.account_expires.clone(),
            lockout_time: names.lockout_time.clone(),
            alt_security_identities: names.alt_security_identities.clone(),
            object_sid: names.object_sid.clone(),
        },
        timeout: Duration::from_millis(ldap.timeout_ms),
        pool_size: ldap.pool_size,
        cache_ttl: Duration::from_secs(ldap.cache_ttl_secs),
        negative_cache_ttl: Duration::from_secs(ldap.negative_cache_ttl_secs),
        cache_max_entries: ldap.cache_max_entries,
        reconnect_backoff: Duration::from_millis(ldap.reconnect_backoff_ms),
        reconnect_backoff_max: Duration::from_millis(ldap.reconnect_backoff_max_ms),
        key_owner_search_limit: ldap.key_owner_search_limit,
        new_user_object_classes: ldap.new_user_object_classes.clone(),
    }
}

/// Opens where the krbtgt and service keys live: the key store file, or the LDAP directory.
pub async fn open_key_store(config: &Config) -> Result<Arc<dyn ServiceStore>> {
    match (&config.keys.store, &config.directory) {
        (Some(path), _) => {
            Ok(Arc::new(FileServiceStore::load(path).await.with_context(
                || format!("loading the key store {}", path.display()),
            )?))
        }
        (None, DirectoryConfig::Ldap(ldap)) => Ok(Arc::new(
            LdapDirectory::new(ldap_settings(ldap)).context("the LDAP directory as key store")?,
        )),
        (None, DirectoryConfig::Embedded { .. }) => {
            anyhow::bail!("keys.store is required with the embedded directory")
        }
    }
}

/// Builds the KDC from a configuration file.
pub async fn build(config_path: &Path) -> Result<(Config, Arc<Kdc>)> {
    build_with(config_path, |directory| directory).await
}

/// [`build`], with the configured directory seen through `wrap` (tests count its calls).
pub async fn build_with(
    config_path: &Path,
    wrap: impl FnOnce(Arc<dyn Directory>) -> Arc<dyn Directory>,
) -> Result<(Config, Arc<Kdc>)> {
    let config = Config::load(config_path)?;
    let directory: Arc<dyn Directory> = wrap(open_directory(&config).await?);
    let signer = crate::signer::from_config::build(&config).await?;
    let master = MasterKey::load(&config.keys.master_key)?;
    let store = open_key_store(&config).await?;
    let keys = KeyRing::load(&*store, &master).await?;
    let kdc = Kdc::new(&config, directory, signer, keys)?;
    Ok((config, Arc::new(kdc)))
}

pub async fn serve(config_path: &Path) -> Result<()> {
    let config = Config::load(config_path)?;
    let metrics = Arc::new(Metrics::new()?);
    let (kdc, signer) = reload::build_served(&config, &metrics, None).await?;
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
    let live = Arc::new(LiveKdc::new(kdc, Some(Arc::new(pool))));
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
    let address: SocketAddr = config
        .listen
        .parse()
        .with_context(|| format!("metrics.listen: {:?}", config.listen))?;
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
