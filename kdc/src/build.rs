//! Building the `Kdc` from a loaded configuration: the one path that `kdc serve`, a SIGHUP
//! reload, `kdc check-config` and the tests take, so that none of them accepts a
//! configuration another refuses.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use kdc_config::{Config, DirectoryConfig, SignerKind, TpmMode};
use kdc_directory::{Directory, LdapDirectory};

use crate::answer::Kdc;
use crate::metrics::Metrics;
use crate::metrics::instrument::{MeteredDirectory, MeteredSigner};
use crate::open;
use crate::realm::Realm;
use crate::signer::{CertificateChain, KdcSigner};

/// Turns the directory opened into the one the KDC reads (tests count its calls).
pub type WrapDirectory = Box<dyn FnOnce(Arc<dyn Directory>) -> Arc<dyn Directory> + Send>;

/// What a build may be given beside the configuration; the default builds a bare KDC.
#[derive(Default)]
pub struct BuildOptions {
    /// Where the KDC, its directory and its signer report (`kdc serve`).
    pub metrics: Option<Arc<Metrics>>,
    /// A signer already running, used instead of opening the configured one: a TPM signer
    /// kept across a reload (no second TPM context, and a delegated signer keeps its key),
    /// or the one check-config has just checked.
    pub signer: Option<Arc<dyn KdcSigner>>,
    pub wrap_directory: Option<WrapDirectory>,
}

/// A KDC and the signer it signs with.
pub struct Built {
    pub kdc: Arc<Kdc>,
    pub signer: Arc<dyn KdcSigner>,
}

/// Opens the directory, the signer and the key ring `config` names and builds the KDC.
pub async fn build(config: &Config, options: BuildOptions) -> Result<Built> {
    let (directory, ldap): (Arc<dyn Directory>, Option<Arc<LdapDirectory>>) =
        match &config.directory {
            DirectoryConfig::Ldap(ldap) => {
                let ldap = open::ldap(ldap).await?;
                (ldap.clone(), Some(ldap))
            }
            DirectoryConfig::Embedded { .. } => (open::directory(config).await?, None),
        };
    let directory = match options.wrap_directory {
        Some(wrap) => wrap(directory),
        None => directory,
    };
    let signer = match options.signer {
        Some(signer) => signer,
        None => crate::signer::from_config::build(config).await?,
    };
    let keys = open::key_ring(config).await?;
    let Some(metrics) = options.metrics else {
        let kdc = Kdc::new(Realm::new(config, directory, Arc::clone(&signer), keys)?);
        return Ok(Built {
            kdc: Arc::new(kdc),
            signer,
        });
    };
    let realm = Realm::new(
        config,
        Arc::new(MeteredDirectory::new(directory, Arc::clone(&metrics))),
        Arc::new(MeteredSigner::new(
            Arc::clone(&signer),
            Arc::clone(&metrics),
            signer_mode(config),
        )),
        keys,
    )?;
    let kdc = Kdc::new(realm).with_metrics(Arc::clone(&metrics));
    metrics.watch_backends(ldap, Arc::clone(&signer));
    if let Some(chain) = kdc_certificate_on_file(config)
        .and_then(|path| crate::signer::software::read_chain(&path).ok())
        .and_then(|chain| CertificateChain::new(chain).ok())
    {
        metrics.set_certificate(&chain);
    }
    Ok(Built {
        kdc: Arc::new(kdc),
        signer,
    })
}

/// Loads the configuration at `path` and builds a bare KDC from it (tests, benchmarks).
pub async fn from_file(path: &Path) -> Result<(Config, Arc<Kdc>)> {
    let config = Config::load(path)?;
    let built = build(&config, BuildOptions::default()).await?;
    Ok((config, built.kdc))
}

/// The signer's `mode` label.
fn signer_mode(config: &Config) -> &'static str {
    match (&config.pkinit.signer, &config.pkinit.tpm) {
        (SignerKind::Software, _) => "software",
        (SignerKind::Tpm, Some(tpm)) if tpm.mode == TpmMode::Direct => "tpm",
        (SignerKind::Tpm, _) => "delegated",
    }
}

/// The KDC certificate on file; a delegated signer's certificates are made in memory and
/// show in the metrics with the first signature.
fn kdc_certificate_on_file(config: &Config) -> Option<std::path::PathBuf> {
    match (config.pkinit.signer, &config.pkinit.tpm) {
        (SignerKind::Software, _) => config.pkinit.certificate.clone(),
        (SignerKind::Tpm, Some(tpm)) if tpm.mode == TpmMode::Direct => {
            Some(tpm.certificate.clone())
        }
        (SignerKind::Tpm, _) => None,
    }
}
