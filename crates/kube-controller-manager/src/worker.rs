//! The worker loop every controller runs: take a key from the rate-limited
//! workqueue, sync it, forget it on success and requeue it with backoff on failure.
//!
//! Entry point: [`run_workers`].

use std::future::Future;
use std::sync::Arc;

use client::workqueue::{RateLimitingQueue, default_controller_rate_limiter};
use tokio::sync::watch;

/// Returns a workqueue of object keys with client-go's default controller rate
/// limiter, named `name` in metrics.
pub fn new_queue(name: &str) -> RateLimitingQueue<String> {
    RateLimitingQueue::new_named(Arc::new(default_controller_rate_limiter()), name)
}

/// Runs `workers` concurrent loops over `queue` until `cancel` becomes true or its
/// sender is dropped, then shuts the queue down and waits for the loops to return.
/// A failed sync is retried with the queue's backoff up to `max_retries` times
/// (`None` retries forever), then dropped with a log line.
pub async fn run_workers<F, Fut>(
    controller: &'static str,
    queue: RateLimitingQueue<String>,
    workers: usize,
    max_retries: Option<u32>,
    mut cancel: watch::Receiver<bool>,
    sync: F,
) where
    F: Fn(String) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    tracing::info!(controller, workers, "starting workers");
    let mut handles = Vec::new();
    for _ in 0..workers.max(1) {
        let queue = queue.clone();
        let sync = sync.clone();
        handles.push(tokio::spawn(async move {
            while let Some(key) = queue.get().await {
                match sync(key.clone()).await {
                    Ok(()) => queue.forget(&key),
                    Err(message) => {
                        let retries = queue.num_requeues(&key);
                        if max_retries.is_some_and(|max| retries >= max) {
                            tracing::warn!(controller, key = %key, error = %message, retries, "dropping key out of the queue after repeated failures");
                            queue.forget(&key);
                        } else {
                            tracing::warn!(controller, key = %key, error = %message, "sync failed; requeueing");
                            queue.add_rate_limited(key.clone());
                        }
                    }
                }
                queue.done(&key);
            }
        }));
    }

    while !*cancel.borrow() {
        if cancel.changed().await.is_err() {
            break;
        }
    }
    tracing::info!(controller, "shutting down workers");
    queue.shut_down();
    for handle in handles {
        let _ = handle.await;
    }
}
