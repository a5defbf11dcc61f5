//! The pool that runs AS exchanges, whose PKINIT work (signature checks, certificate paths,
//! DH, the KDC signature: RFC 4556 §3.2.2-§3.2.3) is CPU-bound: its own worker threads, one
//! per core, so that socket I/O and cheap requests (TGS, PREAUTH_REQUIRED answers) are not
//! stuck behind it on the reactor threads under load, and a bounded number of exchanges
//! admitted at once. A full pool refuses at once (the caller answers
//! KDC_ERR_SVC_UNAVAILABLE, or drops a datagram, and counts it) instead of queueing without
//! end.
//!
//! Admitted exchanges wait in the pool runtime's injection queue, which its workers serve
//! first in, first out; each runs to its end on one worker unless it waits for I/O. One that
//! starts after its deadline (a datagram its client has sent again by then) is dropped
//! unstarted, and so is one whose caller stopped waiting. An exchange that finds the KDC
//! quiet (none arrived for `QUIET`, none admitted) runs on its caller's thread instead,
//! which saves a lone logon two thread hand-offs; one at a time, so the other network
//! threads keep serving sockets.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;
use tokio::sync::{Semaphore, SemaphorePermit, oneshot};

/// Why an exchange did not run on the pool.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("the PKINIT pool is full ({0} exchanges admitted)")]
    Full(usize),
    #[error("waited {waited:?} for the PKINIT pool, past its deadline")]
    Stale { waited: Duration },
    #[error("the exchange failed on the PKINIT pool: {0}")]
    Failed(String),
}

/// An exchange's output, and how long it waited for a worker.
pub struct Ran<T> {
    pub output: T,
    pub waited: Duration,
}

/// How long without a new exchange makes the KDC quiet enough to answer the next one on its
/// caller's thread: several times an exchange's 1-1.5 ms, so an inline exchange rarely has a
/// second one arrive while it runs (at 80 % of saturation exchanges arrive every 0.9 ms and
/// none runs inline).
const QUIET: Duration = Duration::from_millis(5);

pub struct CryptoPool {
    /// Some until dropped: a runtime dropped inside async code must be shut down in the
    /// background, never blocked on.
    runtime: Option<Runtime>,
    admitted: Arc<Semaphore>,
    capacity: usize,
    refused: AtomicU64,
    /// How long no exchange must have arrived for the next to run on its caller's thread
    /// (u64::MAX: never).
    quiet_us: u64,
    /// When the last exchange arrived, in microseconds since `epoch`.
    last_arrival_us: AtomicU64,
    epoch: Instant,
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
            quiet_us: u64::try_from(QUIET.as_micros()).unwrap_or(u64::MAX),
            last_arrival_us: AtomicU64::new(0),
            epoch: Instant::now(),
        })
    }

    /// Runs `exchange` on the pool if it has room, unless it would start after `start_by`.
    /// A caller that stops waiting (the request timeout) gives its place back if the
    /// exchange has not started; one that started runs to its end and only then gives its
    /// place back, so the bound holds.
    pub async fn run<T: Send + 'static>(
        &self,
        exchange: impl Future<Output = T> + Send + 'static,
        start_by: Option<Instant>,
    ) -> Result<Ran<T>, PoolError> {
        if let Some(_turn) = self.inline_turn() {
            let output = CatchUnwind(Box::pin(exchange))
                .await
                .map_err(|_| PoolError::Failed("the exchange panicked".into()))?;
            return Ok(Ran {
                output,
                waited: Duration::ZERO,
            });
        }
        let (Some(runtime), Ok(admitted)) = (
            self.runtime.as_ref(),
            Arc::clone(&self.admitted).try_acquire_owned(),
        ) else {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(PoolError::Full(self.capacity));
        };
        let (reply, result) = oneshot::channel();
        let queued = Instant::now();
        // No JoinHandle: a panic drops `reply`, which the caller sees as a failure.
        drop(runtime.spawn(async move {
            let _admitted = admitted;
            let started = Instant::now();
            let waited = started.saturating_duration_since(queued);
            if start_by.is_some_and(|deadline| started > deadline) {
                let _ = reply.send(Err(PoolError::Stale { waited }));
            } else if !reply.is_closed() {
                let output = exchange.await;
                let _ = reply.send(Ok(Ran { output, waited }));
            }
        }));
        result.await.unwrap_or_else(|_| {
            Err(PoolError::Failed(
                "the exchange ended without a result".into(),
            ))
        })
    }

    /// A turn on the caller's thread for an exchange that finds the KDC quiet: no exchange
    /// arrived in the last `QUIET`, and its place is the only one taken (none queued, none
    /// running, none inline). A lone logon is then answered without two thread hand-offs
    /// (about 0.3 ms of a 2 ms MIT kinit logon here), while under load every exchange keeps
    /// its place in the queue. The turn is a place, so the bound counts it. Two callers that
    /// take places at once both see the other's and go to the queue.
    fn inline_turn(&self) -> Option<SemaphorePermit<'_>> {
        let now = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        let previous = self.last_arrival_us.swap(now, Ordering::Relaxed);
        if now.saturating_sub(previous) < self.quiet_us {
            return None;
        }
        let admitted = self.admitted.try_acquire().ok()?;
        (self.admitted.available_permits() + 1 == self.capacity).then_some(admitted)
    }

    /// Every exchange goes through the queue, however quiet the KDC: for tests of the queue.
    #[cfg(test)]
    fn queue_always(mut self) -> CryptoPool {
        self.quiet_us = u64::MAX;
        self
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

/// Turns a panic inside the wrapped future into an error, as the pool's runtime does for an
/// exchange on its threads.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::task::JoinHandle;

    use super::*;

    #[tokio::test]
    async fn runs_on_its_own_threads_and_refuses_when_full() {
        let pool = Arc::new(CryptoPool::new(1, 1).unwrap().queue_always());
        let name = pool
            .run(
                async { std::thread::current().name().map(str::to_owned) },
                None,
            )
            .await
            .unwrap()
            .output;
        assert_eq!(name.as_deref(), Some("kdc-pkinit"));
        // Its place comes back just after its result is sent.
        while pool.admitted.available_permits() < pool.capacity {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }

        // Two places (one worker, one queued): a third exchange is refused at once.
        let (release, released) = tokio::sync::watch::channel(false);
        let mut held = Vec::new();
        for _ in 0..2 {
            let pool = Arc::clone(&pool);
            let mut released = released.clone();
            held.push(tokio::spawn(async move {
                pool.run(
                    async move {
                        let _ = released.wait_for(|r| *r).await;
                    },
                    None,
                )
                .await
                .map(drop)
            }));
        }
        while pool.admitted.available_permits() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(matches!(
            pool.run(async {}, None).await,
            Err(PoolError::Full(2))
        ));
        assert_eq!(pool.refused(), 1);
        release.send(true).unwrap();
        for task in held {
            task.await.unwrap().unwrap();
        }
        assert!(pool.run(async {}, None).await.is_ok(), "places come back");
    }

    /// Keeps the pool's only worker thread busy until the returned sender is dropped.
    async fn block(pool: &Arc<CryptoPool>) -> (std::sync::mpsc::Sender<()>, JoinHandle<()>) {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (started, running) = oneshot::channel();
        let pool = Arc::clone(pool);
        // The blocker must not run on our thread.
        just_arrived(&pool);
        let blocker = tokio::spawn(async move {
            let busy = async move {
                let _ = started.send(());
                let _ = released.recv();
            };
            pool.run(busy, None).await.map(drop).unwrap();
        });
        running.await.unwrap();
        (release, blocker)
    }

    async fn until_admitted(pool: &CryptoPool, admitted: usize) {
        while pool.capacity - pool.admitted.available_permits() < admitted {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test]
    async fn queued_exchanges_start_in_arrival_order() {
        let pool = Arc::new(CryptoPool::new(1, 16).unwrap().queue_always());
        let (release, blocker) = block(&pool).await;
        let started = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut queued = Vec::new();
        for n in 0..8 {
            let (pool_n, started_n) = (Arc::clone(&pool), Arc::clone(&started));
            queued.push(tokio::spawn(async move {
                let record = async move { started_n.lock().unwrap().push(n) };
                pool_n.run(record, None).await.unwrap().waited
            }));
            until_admitted(&pool, n + 2).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(started.lock().unwrap().is_empty());
        drop(release);
        blocker.await.unwrap();
        for task in queued {
            assert!(task.await.unwrap() >= Duration::from_millis(20));
        }
        assert_eq!(*started.lock().unwrap(), (0..8).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn an_exchange_that_cannot_start_by_its_deadline_is_dropped_unstarted() {
        let pool = Arc::new(CryptoPool::new(1, 16).unwrap().queue_always());
        let (release, blocker) = block(&pool).await;
        let ran = Arc::new(AtomicU64::new(0));
        let submit = |start_by: Instant| {
            let (pool, ran) = (Arc::clone(&pool), Arc::clone(&ran));
            tokio::spawn(async move {
                let count = async move { ran.fetch_add(1, Ordering::Relaxed) };
                pool.run(count, Some(start_by)).await.map(|ran| ran.waited)
            })
        };
        let stale = submit(Instant::now() + Duration::from_millis(10));
        until_admitted(&pool, 2).await;
        let timely = submit(Instant::now() + Duration::from_secs(60));
        until_admitted(&pool, 3).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        drop(release);
        blocker.await.unwrap();
        match stale.await.unwrap() {
            Err(PoolError::Stale { waited }) => assert!(waited >= Duration::from_millis(30)),
            other => panic!("expected a stale drop, got {:?}", other.map(|_| ())),
        }
        assert!(timely.await.unwrap().is_ok());
        assert_eq!(
            ran.load(Ordering::Relaxed),
            1,
            "only the timely exchange ran"
        );
        // Places come back (the last just after its result is sent).
        while pool.admitted.available_permits() < pool.capacity {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test]
    async fn an_exchange_nobody_waits_for_any_more_is_not_started() {
        let pool = Arc::new(CryptoPool::new(1, 16).unwrap().queue_always());
        let (release, blocker) = block(&pool).await;
        let ran = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&ran);
        let abandoned = tokio::time::timeout(
            Duration::from_millis(10),
            pool.run(async move { counted.fetch_add(1, Ordering::Relaxed) }, None),
        )
        .await;
        assert!(abandoned.is_err(), "it could not have started");
        drop(release);
        blocker.await.unwrap();
        assert!(pool.run(async {}, None).await.is_ok());
        assert_eq!(ran.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn a_panicking_exchange_fails_alone() {
        for pool in [
            CryptoPool::new(1, 1).unwrap().queue_always(),
            CryptoPool::new(1, 1).unwrap(),
        ] {
            make_quiet(&pool).await;
            let failed = pool.run(async { panic!("boom") }, None).await;
            assert!(matches!(failed, Err(PoolError::Failed(_))));
            for _ in 0..3 {
                assert_eq!(pool.run(async { 7 }, None).await.unwrap().output, 7);
            }
        }
    }

    /// Makes the next exchange find the KDC busy, however slow the test runs.
    fn just_arrived(pool: &CryptoPool) {
        let now = u64::try_from(pool.epoch.elapsed().as_micros()).unwrap();
        pool.last_arrival_us.store(now, Ordering::Relaxed);
    }

    /// Makes the next exchange find the KDC quiet, as far as arrivals go.
    async fn make_quiet(pool: &CryptoPool) {
        while pool.epoch.elapsed() < QUIET {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        pool.last_arrival_us.store(0, Ordering::Relaxed);
    }

    fn thread_name() -> Option<String> {
        std::thread::current().name().map(str::to_owned)
    }

    #[tokio::test]
    async fn a_quiet_kdc_answers_on_the_callers_thread_and_a_busy_one_queues() {
        let pool = Arc::new(CryptoPool::new(1, 16).unwrap());
        make_quiet(&pool).await;
        let caller = thread_name();
        assert_ne!(caller.as_deref(), Some("kdc-pkinit"));
        let ran = pool.run(async { thread_name() }, None).await.unwrap();
        assert_eq!((ran.output, ran.waited), (caller.clone(), Duration::ZERO));
        assert_eq!(
            pool.admitted.available_permits(),
            pool.capacity,
            "its place came back"
        );

        // An exchange right after it: the KDC is not quiet, so it goes through the queue.
        just_arrived(&pool);
        let queued = pool.run(async { thread_name() }, None).await.unwrap();
        assert_eq!(queued.output.as_deref(), Some("kdc-pkinit"));

        // Quiet again, but an exchange is still admitted: the queue keeps its order.
        let (release, blocker) = block(&pool).await;
        make_quiet(&pool).await;
        let behind = {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move { pool.run(async { thread_name() }, None).await })
        };
        until_admitted(&pool, 2).await;
        drop(release);
        blocker.await.unwrap();
        let behind = behind.await.unwrap().unwrap();
        assert_eq!(behind.output.as_deref(), Some("kdc-pkinit"));
    }
}
