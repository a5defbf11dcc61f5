//! The pool that runs AS exchanges, whose PKINIT work (signature checks, certificate paths,
//! DH, the KDC signature: RFC 4556 §3.2.2-§3.2.3) is CPU-bound: its own worker threads, one
//! per core, so that socket I/O and cheap requests (TGS, PREAUTH_REQUIRED answers) are never
//! stuck behind it on the reactor threads, and a bounded number of exchanges admitted at
//! once. A full pool refuses at once (the caller answers KDC_ERR_SVC_UNAVAILABLE, or drops a
//! datagram, and counts it) instead of queueing without end.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::runtime::Runtime;
use tokio::sync::Semaphore;

/// Why an exchange did not run on the pool.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("the PKINIT pool is full ({0} exchanges admitted)")]
    Full(usize),
    #[error("the exchange failed on the PKINIT pool: {0}")]
    Failed(String),
}

pub struct CryptoPool {
    /// Some until dropped: a runtime dropped inside async code must be shut down in the
    /// background, never blocked on.
    runtime: Option<Runtime>,
    admitted: Arc<Semaphore>,
    capacity: usize,
    refused: AtomicU64,
}

impl CryptoPool {
    /// `workers` threads (0: one per core), admitting `workers + queue` exchanges at once.
    pub fn new(workers: usize, queue: usize) -> std::io::Result<CryptoPool> {
        let workers = match workers {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("kdc-pkinit")
            .enable_all()
            .build()?;
        let capacity = workers.saturating_add(queue).min(Semaphore::MAX_PERMITS);
        Ok(CryptoPool {
            runtime: Some(runtime),
            admitted: Arc::new(Semaphore::new(capacity)),
            capacity,
            refused: AtomicU64::new(0),
        })
    }

    /// Runs `exchange` on the pool if it has room. A caller that stops waiting (the request
    /// timeout) does not stop the exchange; its place is given back when it ends.
    pub async fn run<T: Send + 'static>(
        &self,
        exchange: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, PoolError> {
        let (Some(runtime), Ok(permit)) = (
            self.runtime.as_ref(),
            Arc::clone(&self.admitted).try_acquire_owned(),
        ) else {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(PoolError::Full(self.capacity));
        };
        runtime
            .spawn(async move {
                let _permit = permit;
                exchange.await
            })
            .await
            .map_err(|e| PoolError::Failed(e.to_string()))
    }

    /// Exchanges refused because the pool was full, since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

impl Drop for CryptoPool {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn runs_on_its_own_threads_and_refuses_when_full() {
        let pool = Arc::new(CryptoPool::new(1, 1).unwrap());
        let name = pool
            .run(async { std::thread::current().name().map(str::to_owned) })
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("kdc-pkinit"));

        // Two places (one worker, one queued): a third exchange is refused at once.
        let (release, released) = tokio::sync::watch::channel(false);
        let mut held = Vec::new();
        for _ in 0..2 {
            let pool = Arc::clone(&pool);
            let mut released = released.clone();
            held.push(tokio::spawn(async move {
                pool.run(async move {
                    let _ = released.wait_for(|r| *r).await;
                })
                .await
            }));
        }
        while pool.admitted.available_permits() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(matches!(pool.run(async {}).await, Err(PoolError::Full(2))));
        assert_eq!(pool.refused(), 1);
        release.send(true).unwrap();
        for task in held {
            task.await.unwrap().unwrap();
        }
        assert!(pool.run(async {}).await.is_ok(), "places come back");
    }
}
