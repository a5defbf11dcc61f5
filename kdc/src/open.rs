//! Opening what a configuration names, the same way for `kdc serve`, `kdc check-config` and
//! the operator commands: the directory (embedded file or LDAP), the store of krbtgt and
//! service keys, and the key ring the master key unseals from it. (The signer is opened by
//! `signer::from_config`.)

use std::sync::Arc;

use anyhow::{Context, Result};
use kdc_config::{Config, DirectoryConfig, LdapConfig};
use kdc_directory::principal_keys::{FileServiceStore, ServiceStore};
use kdc_directory::{DirectoryAdmin, EmbeddedDirectory, LdapDirectory};

use crate::keys::{KeyRing, MasterKey};

/// The configured directory, as `Arc<dyn Directory>` for serving and as an admin for the
/// operator commands. An LDAP directory connects lazily: a server down now is logged, and
/// requests get KDC_ERR_SVC_UNAVAILABLE until it is back.
pub async fn directory(config: &Config) -> Result<Arc<dyn DirectoryAdmin>> {
    match &config.directory {
        DirectoryConfig::Embedded { path } => {
            Ok(Arc::new(EmbeddedDirectory::load(path).await.with_context(
                || format!("loading the embedded directory {}", path.display()),
            )?))
        }
        DirectoryConfig::Ldap(ldap) => Ok(self::ldap(ldap).await?),
    }
}

/// The LDAP directory, checked once (a failure is only logged: it connects lazily).
pub async fn ldap(ldap: &LdapConfig) -> Result<Arc<LdapDirectory>> {
    let directory = LdapDirectory::new(ldap).context("configuring the LDAP directory")?;
    match directory.check().await {
        Ok(()) => {
            tracing::info!(urls = ?ldap.urls, base_dn = %ldap.base_dn, "LDAP directory reachable")
        }
        Err(error) => tracing::warn!(%error, "LDAP directory not reachable yet"),
    }
    Ok(Arc::new(directory))
}

/// Where the krbtgt and service keys live: the key store file, or the LDAP directory.
pub async fn key_store(config: &Config) -> Result<Arc<dyn ServiceStore>> {
    match (&config.keys.store, &config.directory) {
        (Some(path), _) => {
            Ok(Arc::new(FileServiceStore::load(path).await.with_context(
                || format!("loading the key store {}", path.display()),
            )?))
        }
        (None, DirectoryConfig::Ldap(ldap)) => Ok(Arc::new(
            LdapDirectory::new(ldap).context("the LDAP directory as key store")?,
        )),
        (None, DirectoryConfig::Embedded { .. }) => {
            anyhow::bail!("keys.store is required with the embedded directory")
        }
    }
}

/// The krbtgt and service keys, unsealed with the master key.
pub async fn key_ring(config: &Config) -> Result<KeyRing> {
    let master = MasterKey::load(&config.keys.master_key)?;
    let store = key_store(config).await?;
    Ok(KeyRing::load(&*store, &master).await?)
}
