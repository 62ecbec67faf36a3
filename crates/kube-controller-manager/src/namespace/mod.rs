//! The namespace controller: empties namespaces that are being deleted and then
//! lets them go by removing the `kubernetes` finalizer.
//!
//! Entry point: [`NamespaceController::new`] and [`NamespaceController::run`]; the
//! work itself is [`deleter::NamespacedResourcesDeleter::delete`]. A namespace with
//! content left is synced again after the estimated grace period (at least
//! [`MIN_RETRY`]).

pub mod deleter;

use std::sync::Arc;
use std::time::Duration;

use client::informer::{EventHandlerFuncs, SharedIndexInformer};
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::core::v1::Namespace;
use tokio::sync::watch;

use crate::context::ControllerContext;
use crate::queueworker::{SyncOutcome, new_queue, run_workers};
use deleter::{DeleteError, NamespacedResourcesDeleter};

/// The shortest wait before a namespace with remaining content is synced again.
pub const MIN_RETRY: Duration = Duration::from_secs(2);

/// The namespace controller.
pub struct NamespaceController {
    deleter: NamespacedResourcesDeleter,
    namespaces: SharedIndexInformer<Namespace>,
    queue: RateLimitingQueue<String>,
}

impl NamespaceController {
    /// Registers the namespace handlers; namespaces being deleted are queued.
    pub fn new(ctx: &ControllerContext) -> Self {
        let namespaces = ctx.informers.informer::<Namespace>();
        let queue = new_queue("namespace");
        let (on_add, on_update) = (queue.clone(), queue.clone());
        let enqueue = |queue: &RateLimitingQueue<String>, namespace: &Namespace| {
            if namespace.metadata.deletion_timestamp.is_some() {
                queue.add(namespace.metadata.name.clone().unwrap_or_default());
            }
        };
        let registered = namespaces.add_event_handler(
            EventHandlerFuncs::new()
                .on_add(move |namespace: &Arc<Namespace>, _| enqueue(&on_add, namespace))
                .on_update(move |_, namespace: &Arc<Namespace>| enqueue(&on_update, namespace)),
        );
        if let Err(error) = registered {
            tracing::error!(%error, "namespace controller: cannot watch namespaces");
        }
        Self {
            deleter: NamespacedResourcesDeleter::new(ctx.client.clone()),
            namespaces,
            queue,
        }
    }

    /// Runs `workers` workers until `cancel` turns true.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        tracing::info!("starting namespace controller");
        if !client::informer::wait_for_cache_sync(cancel.clone(), &[&self.namespaces]).await {
            return;
        }
        let deleter = self.deleter.clone();
        run_workers("namespace", self.queue, workers, cancel, move |name| {
            let deleter = deleter.clone();
            async move {
                match deleter.delete(&name).await {
                    Ok(()) => Ok(SyncOutcome::Done),
                    Err(DeleteError::ContentRemaining {
                        estimate_seconds,
                        remaining,
                        ..
                    }) => {
                        tracing::debug!(
                            namespace = name,
                            remaining,
                            estimate_seconds,
                            "content remaining"
                        );
                        let wait =
                            Duration::from_secs(estimate_seconds.max(0) as u64 / 2).max(MIN_RETRY);
                        Ok(SyncOutcome::RequeueAfter(wait))
                    }
                    Err(error) => Err(error.into()),
                }
            }
        })
        .await;
    }
}
