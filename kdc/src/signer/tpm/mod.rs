//! The TPM-held KDC key (feature `tpm`): one dedicated thread owns the TSS2 ESAPI context
//! (it is not Send), requests reach it through a bounded tokio queue and are answered on
//! oneshot channels. TPM2_Sign (TPM 2.0 Part 3 §20.2) of the RFC 4556 §3.2.3 reply digests;
//! an unreachable TPM yields `SignerError::Unavailable` and the thread reconnects by itself.

pub mod esapi;
pub mod provision;
pub mod public;
mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use x509_parser::oid_registry::{OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION};
use zeroize::Zeroizing;

use super::{CertificateChain, DigestAlgorithm, KdcSigner, SignatureScheme, Signed, SignerError};

/// Where the key is and how to use it.
#[derive(Clone)]
pub struct TpmOptions {
    /// TSS2 TCTI configuration string.
    pub tcti: String,
    /// Persistent handle, 0x81000000-0x81FFFFFF.
    pub handle: u32,
    /// The key's auth value (empty when it has none).
    pub auth: Zeroizing<Vec<u8>>,
    /// Requests waiting for the TPM at most.
    pub queue_depth: usize,
}

impl TpmOptions {
    /// Reads the auth value file: its bytes, without one trailing newline.
    pub fn read_auth(path: &std::path::Path) -> Result<Zeroizing<Vec<u8>>, SignerError> {
        let mut auth = Zeroizing::new(
            std::fs::read(path)
                .map_err(|e| SignerError::Key(format!("{}: {e}", path.display())))?,
        );
        if auth.last() == Some(&b'\n') {
            auth.pop();
        }
        Ok(auth)
    }
}

/// Counters the signer keeps; read them any time (a metrics exporter will).
#[derive(Debug, Default)]
pub struct TpmStats {
    /// Requests queued or being signed right now.
    pub queue_depth: AtomicUsize,
    /// Signatures the TPM made.
    pub signatures: AtomicU64,
    /// Requests answered with an error (TPM down, queue full, TPM failure).
    pub failures: AtomicU64,
    /// Time the last TPM2_Sign took, in microseconds.
    pub last_sign_micros: AtomicU64,
    /// Sum of the TPM2_Sign times, in microseconds (with `signatures`: the mean).
    pub total_sign_micros: AtomicU64,
    /// Whether the thread holds a working context now.
    pub connected: AtomicBool,
    /// Successful (re)connections.
    pub connections: AtomicU64,
}

impl TpmStats {
    pub fn mean_sign_latency(&self) -> Option<Duration> {
        let count = self.signatures.load(Ordering::Relaxed);
        let total = self.total_sign_micros.load(Ordering::Relaxed);
        total.checked_div(count).map(Duration::from_micros)
    }
}

struct Request {
    digest: Vec<u8>,
    reply: oneshot::Sender<Result<Vec<u8>, SignerError>>,
}

/// A `KdcSigner` whose key never leaves the TPM.
pub struct TpmSigner {
    queue: mpsc::Sender<Request>,
    scheme: SignatureScheme,
    chain: CertificateChain,
    stats: Arc<TpmStats>,
}

impl TpmSigner {
    /// Starts the TPM thread for a key whose certificate chain (leaf first) is `chain`; the
    /// scheme follows the certificate's key. The TPM is contacted at once, but a TPM that
    /// is not there yet only makes signing fail until it is.
    pub fn start(options: TpmOptions, chain: Vec<Vec<u8>>) -> Result<TpmSigner, SignerError> {
        let leaf = chain
            .first()
            .ok_or_else(|| SignerError::Key("no certificate for the TPM key".into()))?;
        let (_, cert) = x509_parser::parse_x509_certificate(leaf)
            .map_err(|e| SignerError::Key(format!("bad TPM key certificate: {e}")))?;
        let spki = cert.public_key().raw.to_vec();
        let algorithm = &cert.public_key().algorithm.algorithm;
        let scheme = if *algorithm == OID_PKCS1_RSAENCRYPTION {
            SignatureScheme::RsaPkcs1Sha256
        } else if *algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
            SignatureScheme::EcdsaP256Sha256
        } else {
            return Err(SignerError::Key(format!(
                "TPM key certificate: unsupported key algorithm {algorithm}"
            )));
        };
        Self::spawn(options, scheme, Some(spki), chain)
    }

    /// Starts the thread for a key with no certificate yet (provisioning signs its CSR).
    pub fn start_uncertified(
        options: TpmOptions,
        scheme: SignatureScheme,
    ) -> Result<TpmSigner, SignerError> {
        Self::spawn(options, scheme, None, Vec::new())
    }

    fn spawn(
        options: TpmOptions,
        scheme: SignatureScheme,
        expected_spki: Option<Vec<u8>>,
        chain: Vec<Vec<u8>>,
    ) -> Result<TpmSigner, SignerError> {
        let (queue, requests) = mpsc::channel(options.queue_depth.max(1));
        let stats = Arc::new(TpmStats::default());
        let worker = worker::Worker::new(options, scheme, expected_spki, stats.clone());
        std::thread::Builder::new()
            .name("kdc-tpm".into())
            .spawn(move || worker.run(requests))
            .map_err(|e| SignerError::Key(format!("cannot start the TPM thread: {e}")))?;
        Ok(TpmSigner {
            queue,
            scheme,
            chain: CertificateChain::new(chain)?,
            stats,
        })
    }

    pub fn stats(&self) -> Arc<TpmStats> {
        self.stats.clone()
    }

    /// The certificate chain of the TPM key, leaf first.
    pub fn chain(&self) -> CertificateChain {
        self.chain.clone()
    }

    fn fail(&self, why: &str) -> SignerError {
        self.stats.failures.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(reason = why, "TPM signer unavailable");
        SignerError::Unavailable(why.to_owned())
    }
}

#[async_trait]
impl KdcSigner for TpmSigner {
    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }

    /// The key's template fixes its hash (`kdc tpm provision` makes SHA-256 keys); TPM2_Sign
    /// refuses any other (TPM 2.0 Part 3 §20.2, TPM_RC_SCHEME).
    fn digests(&self) -> &'static [DigestAlgorithm] {
        &[DigestAlgorithm::Sha256]
    }

    async fn sign(&self, message: &[u8], digest: DigestAlgorithm) -> Result<Signed, SignerError> {
        if digest != DigestAlgorithm::Sha256 {
            return Err(SignerError::Key(format!(
                "the TPM key signs SHA-256 only, not {}",
                digest.label()
            )));
        }
        let (reply, answer) = oneshot::channel();
        let request = Request {
            digest: digest.digest(message),
            reply,
        };
        let depth = self.stats.queue_depth.fetch_add(1, Ordering::Relaxed) + 1;
        if let Err(e) = self.queue.try_send(request) {
            self.stats.queue_depth.fetch_sub(1, Ordering::Relaxed);
            return Err(match e {
                mpsc::error::TrySendError::Full(_) => self.fail("TPM queue full"),
                mpsc::error::TrySendError::Closed(_) => self.fail("TPM thread stopped"),
            });
        }
        tracing::trace!(queue_depth = depth, "TPM sign request queued");
        let signature = answer
            .await
            .map_err(|_| self.fail("TPM thread dropped the request"))??;
        Ok(Signed {
            signature,
            chain: self.chain.clone(),
        })
    }

    fn available(&self) -> bool {
        self.stats.connected.load(Ordering::Relaxed)
    }

    fn queue_depth(&self) -> Option<usize> {
        Some(self.stats.queue_depth.load(Ordering::Relaxed))
    }
}
