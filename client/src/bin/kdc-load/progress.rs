//! The progress line on stderr while a phase runs: exchanges so far, the rate over the last
//! interval, and how many were not ok. Rewritten in place on a terminal, a line every few
//! seconds otherwise (logs, CI).

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::stats::Recorder;

pub struct Progress {
    task: JoinHandle<()>,
    terminal: bool,
}

impl Progress {
    pub fn start(label: &'static str, recorder: Arc<Recorder>) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let interval = match terminal {
            true => Duration::from_millis(500),
            false => Duration::from_secs(5),
        };
        let task = tokio::spawn(async move {
            let start = Instant::now();
            let mut last = (start, 0u64);
            loop {
                tokio::time::sleep(interval).await;
                let now = Instant::now();
                let (done, problems) = recorder.counters();
                let window = now.duration_since(last.0).as_secs_f64();
                let rate = match window > 0.0 {
                    true => done.saturating_sub(last.1) as f64 / window,
                    false => 0.0,
                };
                last = (now, done);
                let line = format!(
                    "[{:6.1}s] {label}: {done} done, {rate:.0}/s now, {problems} not ok",
                    now.duration_since(start).as_secs_f64()
                );
                let mut err = std::io::stderr().lock();
                let _ = match terminal {
                    true => write!(err, "\r{line}\x1b[K"),
                    false => writeln!(err, "{line}"),
                };
                let _ = err.flush();
            }
        });
        Progress { task, terminal }
    }

    pub fn stop(self) {
        self.task.abort();
        if self.terminal {
            eprintln!();
        }
    }
}
