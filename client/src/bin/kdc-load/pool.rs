//! The pool of prepared requests. A PKINIT AS-REQ (RFC 4556 §3.2.1) is single-use: its DH
//! key, nonces and ctime are fresh per request, and it is valid only within the KDC's clock
//! skew. So signing threads fill a bounded queue before a phase starts (the whole count, or
//! `--pool` requests), and keep refilling it during the phase when more are needed; the
//! clients only take and send. A client that finds the queue empty waits and the wait is
//! counted, which means the generator, not the KDC, was the bottleneck.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Result, bail};
use kdc::crypto::Key;
use kdc_client::tgs::{TgsOptions, TgsRequest, build_tgs_request};
use kdc_client::{ClientError, ClientOptions, PreparedRequest, build_request};
use rasn_kerberos::{PrincipalName, Ticket};
use tokio::sync::{Mutex, mpsc};

use super::stats::Recorder;
use super::target::Target;

/// A TGT with what is needed to use it (RFC 4120 §5.5.1).
pub struct Tgt {
    pub client: PrincipalName,
    pub ticket: Ticket,
    pub session_key: Key,
}

/// How to make request number `seq` of a phase.
pub enum Recipe {
    As {
        target: Arc<Target>,
        /// One per user, same order as `target.users`.
        options: Arc<Vec<ClientOptions>>,
    },
    Tgs {
        realm: String,
        tgts: Arc<Vec<Tgt>>,
        service: PrincipalName,
    },
}

pub enum Prepared {
    As {
        user: usize,
        request: Box<PreparedRequest>,
    },
    Tgs {
        tgt: usize,
        request: TgsRequest,
    },
}

impl Prepared {
    pub fn message(&self) -> &[u8] {
        match self {
            Prepared::As { request, .. } => &request.message,
            Prepared::Tgs { request, .. } => &request.message,
        }
    }
}

/// TGS-REQ kdc-options: none (an ordinary service ticket request).
const TGS_OPTIONS: u32 = 0;

impl Recipe {
    pub async fn make(&self, seq: u64) -> Result<Prepared, ClientError> {
        let pick = |len: usize| usize::try_from(seq % len.max(1) as u64).unwrap_or(0);
        match self {
            Recipe::As { target, options } => {
                let user = pick(target.users.len());
                let (Some(who), Some(opts)) = (target.users.get(user), options.get(user)) else {
                    return Err(ClientError::Build("no users".into()));
                };
                let request = build_request(opts, who.signer.as_ref()).await?;
                Ok(Prepared::As {
                    user,
                    request: Box::new(request),
                })
            }
            Recipe::Tgs {
                realm,
                tgts,
                service,
            } => {
                let index = pick(tgts.len());
                let tgt = tgts
                    .get(index)
                    .ok_or_else(|| ClientError::Build("no TGTs".into()))?;
                let request = build_tgs_request(&TgsOptions {
                    realm,
                    client: &tgt.client,
                    tgt: &tgt.ticket,
                    session_key: &tgt.session_key,
                    service: service.clone(),
                    kdc_options: TGS_OPTIONS,
                    etypes: vec![18, 17, 20, 19],
                    subkey: None,
                })?;
                Ok(Prepared::Tgs {
                    tgt: index,
                    request,
                })
            }
        }
    }
}

pub struct Pool {
    queue: Mutex<mpsc::Receiver<Prepared>>,
    produced: Arc<AtomicU64>,
    failed: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Starts `threads` signing threads that make up to `total` requests (None: until
    /// stopped), holding at most `capacity` ready.
    pub fn start(recipe: Arc<Recipe>, capacity: u64, total: Option<u64>, threads: u32) -> Pool {
        let capacity = usize::try_from(capacity.max(1)).unwrap_or(usize::MAX);
        let (sender, receiver) = mpsc::channel(capacity);
        let next = Arc::new(AtomicU64::new(0));
        let produced = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..threads.max(1))
            .map(|_| {
                let (recipe, sender, next) = (recipe.clone(), sender.clone(), next.clone());
                let (produced, failed, stop) = (produced.clone(), failed.clone(), stop.clone());
                std::thread::spawn(move || {
                    // Signing is async only because the signer trait is; this key signs at once.
                    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
                        failed.store(true, Ordering::Relaxed);
                        return;
                    };
                    while !stop.load(Ordering::Relaxed) {
                        let seq = next.fetch_add(1, Ordering::Relaxed);
                        if total.is_some_and(|total| seq >= total) {
                            break;
                        }
                        match runtime.block_on(recipe.make(seq)) {
                            Ok(prepared) => {
                                if sender.blocking_send(prepared).is_err() {
                                    break;
                                }
                                produced.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => {
                                eprintln!("kdc-load: cannot prepare a request: {e}");
                                failed.store(true, Ordering::Relaxed);
                                break;
                            }
                        }
                    }
                })
            })
            .collect();
        Pool {
            queue: Mutex::new(receiver),
            produced,
            failed,
            stop,
            threads,
        }
    }

    /// Waits until `count` requests have been prepared.
    pub async fn wait_filled(&self, count: u64) -> Result<()> {
        while self.produced.load(Ordering::Relaxed) < count {
            if self.failed.load(Ordering::Relaxed) {
                bail!("preparing requests failed");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    pub fn prepared(&self) -> u64 {
        self.produced.load(Ordering::Relaxed)
    }

    /// The next prepared request; None when no more will come.
    pub async fn take(&self, recorder: &Recorder) -> Option<Prepared> {
        let mut queue = self.queue.lock().await;
        match queue.try_recv() {
            Ok(prepared) => Some(prepared),
            Err(mpsc::error::TryRecvError::Disconnected) => None,
            Err(mpsc::error::TryRecvError::Empty) => {
                recorder.pool_wait();
                queue.recv().await
            }
        }
    }

    /// Stops the signing threads and waits for them.
    pub async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        // Dropping the receiver wakes threads blocked on a full queue.
        drop(self.queue);
        let threads = self.threads;
        let _ = tokio::task::spawn_blocking(move || {
            for thread in threads {
                let _ = thread.join();
            }
        })
        .await;
    }
}
