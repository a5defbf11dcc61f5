//! Builds the configured `KdcSigner` (`[pkinit] signer`, see kdc-config): the software key
//! file, or the TPM key in direct or delegated mode (RFC 4556 §3.2.3 signatures either way).

use std::sync::Arc;

use kdc_config::{Config, SignerKind};

use super::software::SoftwareSigner;
use super::{KdcSigner, SignerError};

/// The signer the configuration asks for. Call within a tokio runtime.
pub async fn build(config: &Config) -> Result<Arc<dyn KdcSigner>, SignerError> {
    let pkinit = &config.pkinit;
    match pkinit.signer {
        SignerKind::Software => {
            let (Some(key), Some(certificate)) = (&pkinit.key, &pkinit.certificate) else {
                return Err(SignerError::Key(
                    "pkinit.key and pkinit.certificate are required".into(),
                ));
            };
            Ok(Arc::new(SoftwareSigner::load_kdc_key(key, certificate)?))
        }
        SignerKind::Tpm => tpm(config).await,
    }
}

#[cfg(not(feature = "tpm"))]
async fn tpm(_config: &Config) -> Result<Arc<dyn KdcSigner>, SignerError> {
    Err(SignerError::Key(
        "signer = \"tpm\" needs a kdc built with the `tpm` feature (cargo build --features tpm)"
            .into(),
    ))
}

#[cfg(feature = "tpm")]
async fn tpm(config: &Config) -> Result<Arc<dyn KdcSigner>, SignerError> {
    use std::time::Duration;

    use kdc_config::{DelegatedKey, TpmMode};
    use zeroize::Zeroizing;

    use super::SignatureScheme;
    use super::delegated::{DelegatedSigner, Policy};
    use super::software::read_chain;
    use super::tpm::{TpmOptions, TpmSigner};

    let tpm = config
        .pkinit
        .tpm
        .as_ref()
        .ok_or_else(|| SignerError::Key("[pkinit.tpm] is missing".into()))?;
    let auth = match &tpm.auth_file {
        Some(path) => TpmOptions::read_auth(path)?,
        None => Zeroizing::new(Vec::new()),
    };
    let options = TpmOptions {
        tcti: tpm.tcti.clone(),
        handle: tpm.handle,
        auth,
        queue_depth: tpm.queue_depth,
    };
    let signer = TpmSigner::start(options, read_chain(&tpm.certificate)?)?;
    tracing::info!(mode = ?tpm.mode, tcti = %tpm.tcti, handle = format_args!("{:#010x}", tpm.handle), "KDC key in the TPM");
    match tpm.mode {
        TpmMode::Direct => Ok(Arc::new(signer)),
        TpmMode::Delegated => {
            let policy = Policy {
                realm: config.realm.name.clone(),
                dns_name: tpm
                    .dns_name
                    .clone()
                    .unwrap_or_else(|| format!("kdc.{}", config.realm.name.to_lowercase())),
                period: Duration::from_secs(tpm.period_secs),
                clock_skew: Duration::from_secs(config.tickets.clock_skew_secs),
                key_scheme: match tpm.delegated_key {
                    DelegatedKey::P256 => SignatureScheme::EcdsaP256Sha256,
                    DelegatedKey::Rsa2048 => SignatureScheme::RsaPkcs1Sha256,
                },
            };
            let chain = signer.chain();
            Ok(Arc::new(
                DelegatedSigner::start(Arc::new(signer), chain, policy).await?,
            ))
        }
    }
}
