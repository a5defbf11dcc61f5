//! Timing decorators for the directory and the signer: each call's latency and failure go
//! to the metrics, an "unavailable" marks the part unhealthy, and the signer's certificate
//! chain gives the KDC certificate's notAfter (`kdc_certificate_expiry_seconds`).

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use async_trait::async_trait;
use kdc_directory::{Directory, DirectoryError, Group, RsaPublicKey, User};

use super::Metrics;
use crate::signer::{DigestAlgorithm, KdcSigner, SignatureScheme, Signed, SignerError};

/// A directory whose lookups are timed and counted.
pub struct MeteredDirectory {
    inner: Arc<dyn Directory>,
    metrics: Arc<Metrics>,
}

impl MeteredDirectory {
    pub fn new(inner: Arc<dyn Directory>, metrics: Arc<Metrics>) -> Self {
        MeteredDirectory { inner, metrics }
    }

    fn observe<T>(&self, operation: &str, started: Instant, result: &Result<T, DirectoryError>) {
        let failed = result.is_err();
        self.metrics
            .observe_directory(operation, started.elapsed(), failed);
        if let Err(DirectoryError::Unavailable(_)) = result {
            self.metrics.health.directory_failed();
        }
    }
}

#[async_trait]
impl Directory for MeteredDirectory {
    async fn find_user(&self, name: &str, realm: &str) -> Result<Option<User>, DirectoryError> {
        let started = Instant::now();
        let result = self.inner.find_user(name, realm).await;
        self.observe("find_user", started, &result);
        result
    }

    async fn find_key_owners(
        &self,
        public_key: &RsaPublicKey,
    ) -> Result<Vec<String>, DirectoryError> {
        let started = Instant::now();
        let result = self.inner.find_key_owners(public_key).await;
        self.observe("find_key_owners", started, &result);
        result
    }

    async fn groups_of(&self, user: &User) -> Result<Vec<Group>, DirectoryError> {
        let started = Instant::now();
        let result = self.inner.groups_of(user).await;
        self.observe("groups_of", started, &result);
        result
    }
}

/// A signer whose signatures are timed and counted; `mode` is the `mode` label
/// (`software`, `tpm`, `delegated`).
pub struct MeteredSigner {
    inner: Arc<dyn KdcSigner>,
    metrics: Arc<Metrics>,
    mode: &'static str,
}

impl MeteredSigner {
    pub fn new(inner: Arc<dyn KdcSigner>, metrics: Arc<Metrics>, mode: &'static str) -> Self {
        MeteredSigner {
            inner,
            metrics,
            mode,
        }
    }

    /// Notes the leaf's notAfter when the chain is not the one seen last.
    fn note_chain(&self, chain: &Arc<[Vec<u8>]>) {
        let id = chain.as_ptr() as usize;
        let Ok(mut seen) = self.metrics.certificate.lock() else {
            return;
        };
        if seen.is_some_and(|(last, _)| last == id) {
            return;
        }
        if let Some(not_after) = chain.first().and_then(|leaf| not_after(leaf)) {
            *seen = Some((id, not_after));
        }
    }
}

/// The notAfter of a DER certificate.
pub fn not_after(cert_der: &[u8]) -> Option<SystemTime> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).ok()?;
    let seconds = cert.validity().not_after.timestamp();
    let seconds = u64::try_from(seconds).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(seconds))
}

impl Metrics {
    /// Records the KDC certificate read at start, before any signature shows the chain.
    pub fn set_certificate(&self, cert_der: &[u8]) {
        if let (Some(at), Ok(mut seen)) = (not_after(cert_der), self.certificate.lock()) {
            *seen = Some((0, at));
        }
    }
}

#[async_trait]
impl KdcSigner for MeteredSigner {
    fn scheme(&self) -> SignatureScheme {
        self.inner.scheme()
    }

    fn digests(&self) -> &'static [DigestAlgorithm] {
        self.inner.digests()
    }

    async fn sign(&self, message: &[u8], digest: DigestAlgorithm) -> Result<Signed, SignerError> {
        let started = Instant::now();
        let result = self.inner.sign(message, digest).await;
        self.metrics
            .observe_signer(self.mode, started.elapsed(), result.is_err());
        match &result {
            Ok(signed) => self.note_chain(&signed.chain),
            Err(SignerError::Unavailable(_)) => self.metrics.health.signer_failed(),
            Err(SignerError::Key(_)) => {}
        }
        result
    }

    fn available(&self) -> bool {
        self.inner.available()
    }

    fn queue_depth(&self) -> Option<usize> {
        self.inner.queue_depth()
    }
}
