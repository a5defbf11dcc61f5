//! The TPM thread: the only owner of the ESAPI context. It serves signing requests in order,
//! measures each TPM2_Sign, and after a failure drops the context and reconnects, at once
//! for the first retry and then with exponential backoff so a dead TPM costs little.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::esapi::{Session, TpmError};
use super::{Request, TpmOptions, TpmStats};
use crate::signer::{SignatureScheme, SignerError};

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub(super) struct Worker {
    options: TpmOptions,
    scheme: SignatureScheme,
    expected_spki: Option<Vec<u8>>,
    stats: Arc<TpmStats>,
    session: Option<Session>,
    next_attempt: Instant,
    backoff: Duration,
}

impl Worker {
    pub(super) fn new(
        options: TpmOptions,
        scheme: SignatureScheme,
        expected_spki: Option<Vec<u8>>,
        stats: Arc<TpmStats>,
    ) -> Worker {
        Worker {
            options,
            scheme,
            expected_spki,
            stats,
            session: None,
            next_attempt: Instant::now(),
            backoff: FIRST_BACKOFF,
        }
    }

    /// Serves until every sender is gone.
    pub(super) fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        // Connect early so a misconfiguration shows in the log at start.
        if let Err(e) = self.ensure_session() {
            tracing::error!(error = %e, tcti = %self.options.tcti, "TPM not usable yet");
        }
        while let Some(request) = requests.blocking_recv() {
            let result = self.sign(&request.digest);
            let depth = self.stats.queue_depth.fetch_sub(1, Ordering::Relaxed);
            if result.is_err() {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
            }
            tracing::trace!(queue_depth = depth.saturating_sub(1), "TPM request done");
            // The requester may have given up (timeout); nothing to do then.
            let _ = request.reply.send(result);
        }
        tracing::debug!("TPM thread exits: no more requests can come");
    }

    fn sign(&mut self, digest: &[u8]) -> Result<Vec<u8>, SignerError> {
        let had_session = self.session.is_some();
        match self.try_sign(digest) {
            Ok(signature) => Ok(signature),
            // A context that worked before may just have lost its connection (TPM restarted):
            // one immediate reconnect before the request is refused.
            Err(e) if had_session => {
                tracing::warn!(error = %e, "TPM2_Sign failed; reconnecting");
                self.session = None;
                self.stats.connected.store(false, Ordering::Relaxed);
                self.next_attempt = Instant::now();
                self.try_sign(digest).map_err(|e| self.unavailable(e))
            }
            Err(e) => Err(self.unavailable(e)),
        }
    }

    fn try_sign(&mut self, digest: &[u8]) -> Result<Vec<u8>, TpmError> {
        self.ensure_session()?;
        let session = self
            .session
            .as_mut()
            .ok_or_else(|| TpmError::Key("no TPM session".into()))?;
        let started = Instant::now();
        let signature = session.sign(self.scheme, digest);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let signature = signature?;
        self.stats.signatures.fetch_add(1, Ordering::Relaxed);
        self.stats.last_sign_micros.store(micros, Ordering::Relaxed);
        self.stats
            .total_sign_micros
            .fetch_add(micros, Ordering::Relaxed);
        tracing::trace!(sign_micros = micros, "TPM2_Sign");
        Ok(signature)
    }

    fn ensure_session(&mut self) -> Result<(), TpmError> {
        if self.session.is_some() {
            return Ok(());
        }
        let now = Instant::now();
        if now < self.next_attempt {
            return Err(TpmError::Key(format!(
                "TPM unreachable; next reconnect in {:?}",
                self.next_attempt - now
            )));
        }
        match self.open() {
            Ok(session) => {
                self.session = Some(session);
                self.backoff = FIRST_BACKOFF;
                self.stats.connected.store(true, Ordering::Relaxed);
                self.stats.connections.fetch_add(1, Ordering::Relaxed);
                tracing::info!(tcti = %self.options.tcti, handle = format_args!("{:#010x}", self.options.handle), "TPM key ready");
                Ok(())
            }
            Err(e) => {
                self.next_attempt = now + self.backoff;
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                Err(e)
            }
        }
    }

    fn open(&self) -> Result<Session, TpmError> {
        let session = Session::open(&self.options.tcti, self.options.handle, &self.options.auth)?;
        if session.scheme()? != self.scheme {
            return Err(TpmError::Key(format!(
                "the TPM key at {:#010x} is not a {:?} key",
                self.options.handle, self.scheme
            )));
        }
        if let Some(expected) = &self.expected_spki
            && session.spki_der()? != *expected
        {
            return Err(TpmError::Key(format!(
                "the TPM key at {:#010x} does not match its certificate",
                self.options.handle
            )));
        }
        Ok(session)
    }

    fn unavailable(&self, e: TpmError) -> SignerError {
        tracing::error!(error = %e, "TPM signing failed");
        SignerError::Unavailable(format!("TPM: {e}"))
    }
}
