//! Connections to the directory servers (RFC 4511 §5 over TCP, TLS per RFC 4513 §3): a fixed
//! set of slots shared by every task, each holding one connection on which operations are
//! multiplexed by message ID (RFC 4511 §4.1.1), so no request waits behind a slow one.
//! Servers are tried in configured order; when all fail, reconnects back off exponentially
//! and requests fail at once with the last reason until the next attempt is due.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, LdapResult};
use zeroize::Zeroizing;

use crate::DirectoryError;

/// Where and how to connect.
pub struct Endpoint {
    pub urls: Vec<String>,
    pub connection: LdapConnSettings,
    pub bind: Option<(String, Zeroizing<String>)>,
    pub timeout: Duration,
    pub backoff: Duration,
    pub backoff_max: Duration,
}

/// Why an operation gave no result.
#[derive(Debug)]
pub enum Failure {
    /// No server reachable, the connection broke, or no answer in time.
    Unavailable(String),
    /// A server answered with an error result code (RFC 4511 §4.1.9).
    Refused { server: String, result: LdapResult },
}

impl Failure {
    /// For callers that have no better mapping of a refusal.
    pub fn into_error(self) -> DirectoryError {
        match self {
            Failure::Unavailable(why) => DirectoryError::Unavailable(why),
            Failure::Refused { server, result } => DirectoryError::Unavailable(format!(
                "{server} refused the operation: {}",
                describe(&result)
            )),
        }
    }
}

/// "rc 49 (invalidCredentials): text".
pub fn describe(result: &LdapResult) -> String {
    let name = match result.rc {
        4 => "sizeLimitExceeded",
        16 => "noSuchAttribute",
        20 => "attributeOrValueExists",
        32 => "noSuchObject",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        65 => "objectClassViolation",
        68 => "entryAlreadyExists",
        _ => "error",
    };
    format!("rc {} ({name}) {}", result.rc, result.text.trim())
}

#[derive(Clone)]
struct Connection {
    ldap: Ldap,
    server: String,
}

#[derive(Default)]
struct Backoff {
    failures: u32,
    retry_at: Option<Instant>,
    last_error: String,
}

pub struct Pool {
    endpoint: Endpoint,
    slots: Vec<Mutex<Option<Connection>>>,
    next: AtomicUsize,
    /// One reconnect at a time; it also carries the backoff state.
    connecting: tokio::sync::Mutex<Backoff>,
}

impl Pool {
    pub fn new(endpoint: Endpoint, size: usize) -> Pool {
        Pool {
            endpoint,
            slots: (0..size.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            connecting: tokio::sync::Mutex::new(Backoff::default()),
        }
    }

    pub fn timeout(&self) -> Duration {
        self.endpoint.timeout
    }

    /// `index` is always reduced modulo the slot count, and there is at least one slot, so
    /// this is always Some.
    fn slot(&self, index: usize) -> Option<std::sync::MutexGuard<'_, Option<Connection>>> {
        let slot = self.slots.get(index % self.slots.len().max(1))?;
        Some(slot.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn live(&self, index: usize) -> Option<Connection> {
        let mut connection = self.slot(index)?.clone()?;
        (!connection.ldap.is_closed()).then_some(connection)
    }

    fn store(&self, index: usize, connection: Option<Connection>) {
        if let Some(mut slot) = self.slot(index) {
            *slot = connection;
        }
    }

    fn invalidate(&self, index: usize) {
        self.store(index, None);
    }

    /// The slot's connection, connecting first if it has none; `true` if it is new.
    async fn get(&self, index: usize) -> Result<(Connection, bool), Failure> {
        if let Some(connection) = self.live(index) {
            return Ok((connection, false));
        }
        let timeout = self.endpoint.timeout;
        let mut backoff = tokio::time::timeout(timeout, self.connecting.lock())
            .await
            .map_err(|_| {
                Failure::Unavailable(format!("no LDAP connection became free within {timeout:?}"))
            })?;
        if let Some(connection) = self.live(index) {
            return Ok((connection, false));
        }
        if let Some(retry_at) = backoff.retry_at {
            let now = Instant::now();
            if now < retry_at {
                return Err(Failure::Unavailable(format!(
                    "{} (next attempt in {:?})",
                    backoff.last_error,
                    retry_at - now
                )));
            }
        }
        match self.connect_any().await {
            Ok(connection) => {
                if backoff.failures > 0 {
                    tracing::info!(server = %connection.server, "LDAP connection restored");
                }
                *backoff = Backoff::default();
                self.store(index, Some(connection.clone()));
                Ok((connection, true))
            }
            Err(why) => {
                let delay = self
                    .endpoint
                    .backoff
                    .saturating_mul(1u32 << backoff.failures.min(16))
                    .min(self.endpoint.backoff_max);
                backoff.failures = backoff.failures.saturating_add(1);
                backoff.retry_at = Some(Instant::now() + delay);
                backoff.last_error = why.clone();
                tracing::warn!(error = %why, retry_in = ?delay, "no LDAP server reachable");
                Err(Failure::Unavailable(why))
            }
        }
    }

    /// The first server, in configured order, that accepts a connection and the bind.
    async fn connect_any(&self) -> Result<Connection, String> {
        let mut reasons = Vec::new();
        for url in &self.endpoint.urls {
            match self.connect(url).await {
                Ok(ldap) => {
                    return Ok(Connection {
                        ldap,
                        server: url.clone(),
                    });
                }
                Err(why) => {
                    tracing::warn!(server = %url, error = %why, "LDAP server failed");
                    reasons.push(format!("{url}: {why}"));
                }
            }
        }
        Err(reasons.join("; "))
    }

    async fn connect(&self, url: &str) -> Result<Ldap, String> {
        let timeout = self.endpoint.timeout;
        let settings = self.endpoint.connection.clone().set_conn_timeout(timeout);
        let (connection, mut ldap) = LdapConnAsync::with_settings(settings, url)
            .await
            .map_err(|e| connect_error(&e, timeout))?;
        let server = url.to_string();
        tokio::spawn(async move {
            if let Err(error) = connection.drive().await {
                tracing::debug!(%server, %error, "LDAP connection ended");
            }
        });
        if let Some((dn, password)) = &self.endpoint.bind {
            let bound = tokio::time::timeout(timeout, ldap.simple_bind(dn, password)).await;
            match bound {
                Err(_) => return Err(format!("no bind answer within {timeout:?}")),
                Ok(Err(e)) => return Err(connect_error(&e, timeout)),
                Ok(Ok(result)) if result.rc != 0 => {
                    return Err(format!("bind as {dn} refused: {}", describe(&result)));
                }
                Ok(Ok(_)) => {}
            }
        }
        Ok(ldap)
    }

    /// Runs `op` on a pooled connection within the timeout. A connection that turns out
    /// broken is dropped and, if it was an old one, the operation is tried once more on a
    /// fresh connection: a server restart must not cost a client its request.
    pub async fn run<T, F, Fut>(&self, op: F) -> Result<T, Failure>
    where
        F: Fn(Ldap) -> Fut,
        Fut: Future<Output = Result<T, LdapError>>,
    {
        self.run_for(self.endpoint.timeout, op).await
    }

    /// [`Self::run`] with another bound on the operation itself (long admin listings).
    pub async fn run_for<T, F, Fut>(&self, timeout: Duration, op: F) -> Result<T, Failure>
    where
        F: Fn(Ldap) -> Fut,
        Fut: Future<Output = Result<T, LdapError>>,
    {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len().max(1);
        loop {
            let (connection, fresh) = self.get(index).await?;
            let server = connection.server.clone();
            match tokio::time::timeout(timeout, op(connection.ldap)).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(LdapError::LdapResult { result })) => {
                    return Err(Failure::Refused { server, result });
                }
                Ok(Err(error)) => {
                    self.invalidate(index);
                    tracing::warn!(%server, %error, "LDAP connection failed");
                    if fresh {
                        return Err(Failure::Unavailable(format!("{server}: {error}")));
                    }
                }
                Err(_) => {
                    // A server that does not answer in time may be hung: reconnect.
                    self.invalidate(index);
                    tracing::warn!(%server, ?timeout, "LDAP operation timed out");
                    return Err(Failure::Unavailable(format!(
                        "{server}: no answer within {timeout:?}"
                    )));
                }
            }
        }
    }
}

fn connect_error(error: &LdapError, timeout: Duration) -> String {
    match error {
        LdapError::Timeout { .. } => format!("no connection within {timeout:?}"),
        other => other.to_string(),
    }
}
