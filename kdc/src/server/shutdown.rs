//! Graceful shutdown: one stop signal for every loop, and a drain that waits for the tasks.
//!
//! Every task holds a [`Shutdown`] (or just its [`InFlight`] token); the drain is over when
//! the last token is dropped, which a task does by finishing, so nothing needs joining.

use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::ServeError;

/// Kept by `serve`: raises the stop signal and waits for the tasks.
pub(super) struct Coordinator {
    stop: watch::Sender<bool>,
    finished: mpsc::Receiver<()>,
    in_flight: mpsc::WeakSender<()>,
}

/// Handed to every loop and connection: tells it when to stop taking requests.
#[derive(Clone)]
pub(super) struct Shutdown {
    stop: watch::Receiver<bool>,
    in_flight: InFlight,
}

/// Keeps the drain open while the task holding it runs. Never sends anything.
#[derive(Clone)]
pub(super) struct InFlight {
    _alive: mpsc::Sender<()>,
}

pub(super) fn channel() -> (Coordinator, Shutdown) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (alive_tx, finished) = mpsc::channel(1);
    let coordinator = Coordinator {
        stop: stop_tx,
        finished,
        in_flight: alive_tx.downgrade(),
    };
    let shutdown = Shutdown {
        stop: stop_rx,
        in_flight: InFlight { _alive: alive_tx },
    };
    (coordinator, shutdown)
}

impl Coordinator {
    /// Tells every task to stop, then waits up to `timeout` for all of them to finish.
    pub(super) async fn drain(mut self, timeout: Duration) -> Result<(), ServeError> {
        self.stop.send_replace(true);
        // `recv` yields `None` once every `InFlight` token is gone; nothing is ever sent.
        match tokio::time::timeout(timeout, self.finished.recv()).await {
            Ok(_) => Ok(()),
            Err(_elapsed) => Err(ServeError::DrainTimedOut {
                still_running: self.in_flight.strong_count(),
            }),
        }
    }
}

impl Shutdown {
    pub(super) fn is_requested(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves once shutdown is requested (at once if it already was).
    pub(super) async fn requested(&mut self) {
        // A dropped coordinator means `serve` is gone: stop as well.
        let _ = self.stop.wait_for(|stop| *stop).await;
    }

    /// A token for a task spawned to answer one request.
    pub(super) fn in_flight(&self) -> InFlight {
        self.in_flight.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drain_waits_for_the_last_token() {
        let (coordinator, shutdown) = channel();
        let mut waiting = shutdown.clone();
        let token = shutdown.in_flight();
        drop(shutdown);
        let task = tokio::spawn(async move {
            waiting.requested().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(token);
        });
        assert_eq!(coordinator.drain(Duration::from_secs(5)).await, Ok(()));
        task.await.unwrap();
    }

    #[tokio::test]
    async fn drain_times_out_and_counts_stragglers() {
        let (coordinator, shutdown) = channel();
        let _held = shutdown.in_flight();
        let result = coordinator.drain(Duration::from_millis(20)).await;
        assert_eq!(result, Err(ServeError::DrainTimedOut { still_running: 2 }));
        assert!(shutdown.is_requested());
    }
}
