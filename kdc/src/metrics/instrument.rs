//! Timing decorators for the directory and the signer: each call's latency and failure go
//! to the metrics, an "unavailable" marks the part unhealthy, and the signer's certificate
//! chain gives the KDC certificate's notAfter (`kdc_certificate_expiry_seconds`).

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use kdc_directory::{Directory, DirectoryError, Group, RsaPublicKey, User};

use super::Metrics;
use crate::signer::{
    CertificateChain, DigestAlgorithm, KdcSigner, SignatureScheme, Signed, SignerError,
};

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
}

impl Metrics {
    /// Records the notAfter of a KDC certificate chain's leaf: the one read at start, before
    /// any signature shows it, then each one that signs.
    pub fn set_certificate(&self, chain: &CertificateChain) {
        if let (Some(at), Ok(mut seen)) = (chain.not_after(), self.certificate.lock()) {
            *seen = Some(at);
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
            Ok(signed) => self.metrics.set_certificate(&signed.chain),
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
