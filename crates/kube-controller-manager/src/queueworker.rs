//! The worker loop the lifecycle and networking controllers share: take a key from
//! a rate-limited queue, sync it, and forget, retry or delay it by the outcome.
//!
//! Entry point: [`run_workers`]. [`sleep_or_cancel`] and [`wait_cancelled`] serve the
//! periodic loops.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use client::workqueue::RateLimitingQueue;
use tokio::sync::watch;

/// The result of a successful sync, for the queue.
#[derive(Debug)]
pub enum SyncOutcome {
    /// Done; forget the key's failures.
    Done,
    /// Sync the key again after this delay (not counted as a failure).
    RequeueAfter(Duration),
}

/// The ways a sync fails; the key is retried with the queue's backoff.
pub type SyncError = Box<dyn std::error::Error + Send + Sync>;

/// Runs `workers` workers over `queue` until `cancel` turns true, then shuts the
/// queue down. Each key is passed to `sync`; errors are logged with the controller
/// name and the key is retried with backoff.
pub async fn run_workers<F, Fut>(
    controller: &'static str,
    queue: RateLimitingQueue<String>,
    workers: usize,
    cancel: watch::Receiver<bool>,
    sync: F,
) where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<SyncOutcome, SyncError>> + Send + 'static,
{
    let sync = Arc::new(sync);
    let mut tasks = Vec::new();
    for _ in 0..workers.max(1) {
        let queue = queue.clone();
        let sync = sync.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(key) = queue.get().await {
                match sync(key.clone()).await {
                    Ok(SyncOutcome::Done) => queue.forget(&key),
                    Ok(SyncOutcome::RequeueAfter(delay)) => {
                        queue.forget(&key);
                        queue.add_after(key.clone(), delay);
                    }
                    Err(error) => {
                        tracing::warn!(controller, key, %error, "error syncing; retrying");
                        queue.add_rate_limited(key.clone());
                    }
                }
                queue.done(&key);
            }
        }));
    }
    let mut cancel = cancel;
    wait_cancelled(&mut cancel).await;
    tracing::info!(controller, "shutting down controller");
    queue.shut_down();
    for task in tasks {
        let _ = task.await;
    }
}

/// Returns the `namespace/name` key of an object (`name` when cluster-scoped).
pub fn object_key(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    let name = meta.name.as_deref().unwrap_or_default();
    match meta.namespace.as_deref() {
        Some(namespace) if !namespace.is_empty() => format!("{namespace}/{name}"),
        _ => name.to_string(),
    }
}

/// Splits a `namespace/name` key; a key without `/` is a cluster-scoped name.
pub fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("", key))
}

/// Creates the rate-limited queue of a controller, named for its metrics.
pub fn new_queue(name: &str) -> RateLimitingQueue<String> {
    RateLimitingQueue::new_named(
        Arc::new(client::workqueue::default_controller_rate_limiter()),
        name.to_string(),
    )
}

/// Sleeps `duration`. Returns true when `cancel` turned true (or its sender was
/// dropped) first.
pub async fn sleep_or_cancel(duration: Duration, cancel: &watch::Receiver<bool>) -> bool {
    let mut cancel = cancel.clone();
    if *cancel.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(duration) => *cancel.borrow(),
        _ = wait_cancelled(&mut cancel) => true,
    }
}

/// Waits until `cancel` is true or its sender is dropped.
pub async fn wait_cancelled(cancel: &mut watch::Receiver<bool>) {
    loop {
        if *cancel.borrow_and_update() {
            return;
        }
        if cancel.changed().await.is_err() {
            return;
        }
    }
}
