//! BoundedFrequencyRunner: runs a sync function on request, but never more often than
//! `min_interval` and at least every `max_interval`. Requests that arrive while a run
//! is pending or in progress fold into one run.
//!
//! Entry point: [`BoundedFrequencyRunner::run_loop`] on a task, and
//! [`BoundedFrequencyRunner::request`] from event handlers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// The outcome of one run of the sync function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    Done,
    /// The run failed; the runner retries after `min_interval` (at least one second).
    Retry,
}

/// Rate-limits a blocking sync function.
pub struct BoundedFrequencyRunner {
    name: String,
    min_interval: Duration,
    max_interval: Duration,
    requests: Notify,
    /// Set by a request, cleared when a run starts, so that requests made while a run
    /// waits for `min_interval` fold into that run.
    pending: AtomicBool,
}

impl BoundedFrequencyRunner {
    /// `min_interval` may be zero (run on every request). `max_interval` is the period
    /// of runs without requests, raised to 1 ms when zero.
    pub fn new(name: &str, min_interval: Duration, max_interval: Duration) -> Arc<Self> {
        Arc::new(BoundedFrequencyRunner {
            name: name.to_string(),
            min_interval,
            max_interval: max_interval.max(Duration::from_millis(1)),
            requests: Notify::new(),
            pending: AtomicBool::new(false),
        })
    }

    /// Asks for a run as soon as `min_interval` allows. Never blocks.
    pub fn request(&self) {
        self.pending.store(true, Ordering::SeqCst);
        self.requests.notify_one();
    }

    /// Runs `sync` on the blocking pool per the intervals until `cancel` turns true or
    /// its sender is dropped. The first run waits for a request or `max_interval`.
    pub async fn run_loop<F>(self: Arc<Self>, sync: F, mut cancel: watch::Receiver<bool>)
    where
        F: Fn() -> RunOutcome + Send + Sync + 'static,
    {
        let sync = Arc::new(sync);
        let mut last_run: Option<Instant> = None;
        let mut retry_at: Option<Instant> = None;
        tracing::info!(runner = %self.name, min_interval = ?self.min_interval, max_interval = ?self.max_interval, "starting sync runner");
        loop {
            let periodic_at = last_run.unwrap_or_else(Instant::now) + self.max_interval;
            let wake_at = retry_at.map_or(periodic_at, |retry| retry.min(periodic_at));
            tokio::select! {
                _ = self.requests.notified() => {
                    // A leftover wakeup of a request that an earlier run already served.
                    if !self.pending.load(Ordering::SeqCst) {
                        continue;
                    }
                }
                _ = tokio::time::sleep_until(wake_at) => {}
                changed = cancel.changed() => {
                    if changed.is_err() || *cancel.borrow() {
                        break;
                    }
                    continue;
                }
            }
            if *cancel.borrow() {
                break;
            }

            if let Some(last) = last_run {
                let earliest = last + self.min_interval;
                if Instant::now() < earliest {
                    tokio::select! {
                        _ = tokio::time::sleep_until(earliest) => {}
                        _ = cancel.changed() => break,
                    }
                }
            }

            self.pending.store(false, Ordering::SeqCst);
            let task = Arc::clone(&sync);
            let outcome = tokio::task::spawn_blocking(move || task())
                .await
                .unwrap_or(RunOutcome::Retry);
            last_run = Some(Instant::now());
            retry_at = match outcome {
                RunOutcome::Done => None,
                RunOutcome::Retry => {
                    Some(Instant::now() + self.min_interval.max(Duration::from_secs(1)))
                }
            };
        }
        tracing::info!(runner = %self.name, "stopped sync runner");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Waits up to 5 s for `runs` to reach `expected`.
    async fn wait_for_runs(runs: &AtomicUsize, expected: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while runs.load(Ordering::SeqCst) < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_fold_and_respect_min_interval() {
        let runner = BoundedFrequencyRunner::new(
            "test",
            Duration::from_millis(500),
            Duration::from_secs(60),
        );
        let runs = Arc::new(AtomicUsize::new(0));
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let counter = Arc::clone(&runs);
        let handle = tokio::spawn(Arc::clone(&runner).run_loop(
            move || {
                counter.fetch_add(1, Ordering::SeqCst);
                RunOutcome::Done
            },
            cancel_rx,
        ));

        runner.request();
        wait_for_runs(&runs, 1).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        let first_run = Instant::now();

        for _ in 0..10 {
            runner.request();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        if first_run.elapsed() < Duration::from_millis(450) {
            assert_eq!(
                runs.load(Ordering::SeqCst),
                1,
                "the second run waits for min_interval"
            );
        }
        wait_for_runs(&runs, 2).await;
        assert!(
            first_run.elapsed() >= Duration::from_millis(400),
            "the second run came too early"
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "ten requests fold into one run"
        );

        cancel_tx.send(true).unwrap();
        handle.await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_every_max_interval() {
        let runner =
            BoundedFrequencyRunner::new("test", Duration::ZERO, Duration::from_millis(100));
        let runs = Arc::new(AtomicUsize::new(0));
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let counter = Arc::clone(&runs);
        let handle = tokio::spawn(Arc::clone(&runner).run_loop(
            move || {
                counter.fetch_add(1, Ordering::SeqCst);
                RunOutcome::Done
            },
            cancel_rx,
        ));
        tokio::time::sleep(Duration::from_millis(450)).await;
        let count = runs.load(Ordering::SeqCst);
        assert!(
            (3..=5).contains(&count),
            "expected about 4 periodic runs, got {count}"
        );
        drop(cancel_tx);
        handle.await.unwrap();
    }
}
