//! The Deployment controller: rolls each Deployment's pod template out through
//! ReplicaSets, one per template revision, and reports progress in its status.
//!
//! Entry point: [`DeploymentController::new`] then [`DeploymentController::run`].
//!
//! A sync claims the Deployment's ReplicaSets, then either scales them (paused
//! Deployments and replica changes, proportionally across ReplicaSets during a
//! rollout) or rolls out: RollingUpdate grows the new ReplicaSet within maxSurge
//! and shrinks old ones within maxUnavailable, Recreate scales old ones to zero,
//! waits for their pods to go, then scales the new one up. `kubectl rollout undo`
//! writes an old template back, whose ReplicaSet then becomes the newest again with
//! a new revision.

mod rollout;
pub mod util;

use std::sync::Arc;

use apimachinery::labels::Selector;
use client::rest::RestClient;
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use tokio::sync::watch;

use crate::client_ext::InformerExt;
use crate::context::ControllerContext;
use crate::controller_utils::{controller_ref, key_of};
use crate::events::EventRecorder;
use crate::replicaset::wait_for_synced;
use crate::worker::{new_queue, run_workers};
use client::informer::EventHandlerFuncs;
use client::informer::{DeletedObject, SharedIndexInformer};

/// Retries of one Deployment key before it is dropped (upstream `maxRetries`).
const MAX_RETRIES: u32 = 15;

const CONTROLLER_NAME: &str = "deployment-controller";

pub(crate) struct Inner {
    deployments: SharedIndexInformer<Deployment>,
    replica_sets: SharedIndexInformer<ReplicaSet>,
    pods: SharedIndexInformer<Pod>,
    queue: RateLimitingQueue<String>,
    client: RestClient,
    recorder: EventRecorder,
}

/// The Deployment controller.
pub struct DeploymentController {
    inner: Arc<Inner>,
}

impl DeploymentController {
    /// Builds the controller and registers its handlers on the Deployment,
    /// ReplicaSet and pod informers of `ctx`.
    pub fn new(ctx: &ControllerContext) -> Self {
        let inner = Arc::new(Inner {
            deployments: ctx.informers.informer::<Deployment>(),
            replica_sets: ctx.informers.informer::<ReplicaSet>(),
            pods: ctx.informers.informer::<Pod>(),
            queue: new_queue(CONTROLLER_NAME),
            client: ctx.client.clone(),
            recorder: ctx.recorder(CONTROLLER_NAME),
        });
        register_handlers(&inner);
        Self { inner }
    }

    /// Waits for the caches, then syncs with `workers` concurrent workers until
    /// `cancel` fires.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        let inner = self.inner;
        let synced = wait_for_synced(
            &[
                &|| inner.deployments.has_synced(),
                &|| inner.replica_sets.has_synced(),
                &|| inner.pods.has_synced(),
            ],
            cancel.clone(),
        )
        .await;
        if !synced {
            return;
        }
        let sync_inner = Arc::clone(&inner);
        run_workers(
            CONTROLLER_NAME,
            inner.queue.clone(),
            workers,
            Some(MAX_RETRIES),
            cancel,
            move |key| {
                let inner = Arc::clone(&sync_inner);
                async move { rollout::sync_deployment(&inner, &key).await }
            },
        )
        .await;
    }
}

fn register_handlers(inner: &Arc<Inner>) {
    let (on_add, on_update, on_delete) = (Arc::clone(inner), Arc::clone(inner), Arc::clone(inner));
    inner.deployments.register(
        EventHandlerFuncs::new()
            .on_add(move |d: &Arc<Deployment>, _initial| on_add.queue.add(key_of(&d.metadata)))
            .on_update(move |_old, d: &Arc<Deployment>| on_update.queue.add(key_of(&d.metadata)))
            .on_delete(move |deleted: DeletedObject<Deployment>| {
                if let Some(d) = deleted.object() {
                    on_delete.queue.add(key_of(&d.metadata));
                }
            }),
    );

    let (on_add, on_update, on_delete) = (Arc::clone(inner), Arc::clone(inner), Arc::clone(inner));
    inner.replica_sets.register(
        EventHandlerFuncs::new()
            .on_add(move |rs: &Arc<ReplicaSet>, _initial| {
                enqueue_for_replica_set(&on_add, rs, true)
            })
            .on_update(move |old: &Arc<ReplicaSet>, rs: &Arc<ReplicaSet>| {
                if old.metadata.resource_version == rs.metadata.resource_version {
                    return;
                }
                let old_owner = controller_ref(&old.metadata).map(|r| r.uid.clone());
                let new_owner = controller_ref(&rs.metadata).map(|r| r.uid.clone());
                if old_owner != new_owner {
                    enqueue_for_replica_set(&on_update, old, false);
                }
                let labels_changed = old.metadata.labels != rs.metadata.labels;
                enqueue_for_replica_set(&on_update, rs, labels_changed || old_owner != new_owner);
            })
            .on_delete(move |deleted: DeletedObject<ReplicaSet>| {
                if let Some(rs) = deleted.object() {
                    enqueue_for_replica_set(&on_delete, rs, false);
                }
            }),
    );

    let on_delete = Arc::clone(inner);
    inner.pods.register(
        EventHandlerFuncs::new().on_delete(move |deleted: DeletedObject<Pod>| {
            if let Some(pod) = deleted.object() {
                enqueue_recreate_for_pod(&on_delete, pod);
            }
        }),
    );
}

/// Enqueues the Deployment controlling `rs`, or, for an orphan and when
/// `orphan_lookup`, every Deployment whose selector matches it.
fn enqueue_for_replica_set(inner: &Inner, rs: &ReplicaSet, orphan_lookup: bool) {
    let namespace = rs.metadata.namespace.as_deref().unwrap_or_default();
    if let Some(reference) = controller_ref(&rs.metadata) {
        if reference.kind == "Deployment"
            && let Some(d) = inner.deployments.get(namespace, &reference.name)
            && d.metadata.uid.as_deref() == Some(reference.uid.as_str())
        {
            inner.queue.add(key_of(&d.metadata));
        }
        return;
    }
    if !orphan_lookup {
        return;
    }
    for d in inner.deployments.list_namespace(namespace) {
        if deployment_selector(&d)
            .is_ok_and(|selector| !selector.is_empty() && selector.matches(&rs.metadata.labels))
        {
            inner.queue.add(key_of(&d.metadata));
        }
    }
}

/// A Recreate Deployment waits for its old pods to be gone; each pod deletion is
/// a chance that the wait is over.
fn enqueue_recreate_for_pod(inner: &Inner, pod: &Pod) {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
    let Some(rs_ref) = controller_ref(&pod.metadata) else {
        return;
    };
    let Some(rs) = inner.replica_sets.get(namespace, &rs_ref.name) else {
        return;
    };
    let Some(d_ref) = controller_ref(&rs.metadata) else {
        return;
    };
    if let Some(d) = inner.deployments.get(namespace, &d_ref.name)
        && util::is_recreate(&d)
    {
        inner.queue.add(key_of(&d.metadata));
    }
}

/// Parses the Deployment's selector.
pub(crate) fn deployment_selector(d: &Deployment) -> Result<Selector, String> {
    apimachinery::labels::label_selector_as_selector(d.spec.as_ref().map(|spec| &spec.selector))
        .map_err(|err| format!("invalid selector: {err}"))
}
