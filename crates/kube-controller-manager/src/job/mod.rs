//! The Job controller: runs pods until a Job's completions succeed, or fails the
//! Job on its backoff limit, active deadline or pod failure policy.
//!
//! Entry point: [`JobController::new`] then [`JobController::run`].
//!
//! Pods are created with the `batch.kubernetes.io/job-tracking` finalizer. A sync
//! first records finished pods in `status.uncountedTerminatedPods`, then removes
//! their finalizers, then moves them into the succeeded and failed counters, so a
//! pod is counted exactly once even if it is deleted right after finishing.
//! Pods deleted before they succeed count as failed, as upstream counts them.

mod indexes;
mod policy;
mod sync;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client::rest::RestClient;
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use tokio::sync::watch;

use crate::client_ext::InformerExt;
use crate::context::ControllerContext;
use crate::controller_utils::{ControllerExpectations, PodControl, controller_ref, key_of};
use crate::events::EventRecorder;
use crate::replicaset::wait_for_synced;
use crate::worker::{new_queue, run_workers};
use client::informer::EventHandlerFuncs;
use client::informer::{DeletedObject, SharedIndexInformer};

pub use indexes::{format_indexes, parse_indexes};
pub use policy::{PolicyAction, backoff_delay, match_pod_failure_policy};

/// The finalizer that keeps a finished pod around until the Job counted it.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";

const CONTROLLER_NAME: &str = "job-controller";

/// Pod failures since the Job's last success, for the creation backoff.
#[derive(Clone, Copy, Debug)]
struct BackoffRecord {
    failures: u32,
    last_failure: Instant,
}

pub(crate) struct Inner {
    jobs: SharedIndexInformer<Job>,
    pods: SharedIndexInformer<Pod>,
    queue: RateLimitingQueue<String>,
    expectations: ControllerExpectations,
    pod_control: PodControl,
    client: RestClient,
    recorder: EventRecorder,
    backoff: Mutex<HashMap<String, BackoffRecord>>,
    /// Uids of pods whose tracking finalizer was removed but whose update the
    /// cache has not shown yet; they are already counted.
    removed_finalizers: Mutex<HashSet<String>>,
}

/// The Job controller.
pub struct JobController {
    inner: Arc<Inner>,
}

impl JobController {
    /// Builds the controller and registers its handlers on the Job and pod
    /// informers of `ctx`.
    pub fn new(ctx: &ControllerContext) -> Self {
        let inner = Arc::new(Inner {
            jobs: ctx.informers.informer::<Job>(),
            pods: ctx.informers.informer::<Pod>(),
            queue: new_queue(CONTROLLER_NAME),
            expectations: ControllerExpectations::new(),
            pod_control: PodControl::new(ctx.client.clone()),
            client: ctx.client.clone(),
            recorder: ctx.recorder(CONTROLLER_NAME),
            backoff: Mutex::new(HashMap::new()),
            removed_finalizers: Mutex::new(HashSet::new()),
        });
        register_handlers(&inner);
        Self { inner }
    }

    /// Waits for the caches, then syncs with `workers` concurrent workers until
    /// `cancel` fires.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        let inner = self.inner;
        let synced = wait_for_synced(
            &[&|| inner.jobs.has_synced(), &|| inner.pods.has_synced()],
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
            None,
            cancel,
            move |key| {
                let inner = Arc::clone(&sync_inner);
                async move { sync::sync_job(&inner, &key).await }
            },
        )
        .await;
    }
}

fn register_handlers(inner: &Arc<Inner>) {
    let (on_add, on_update, on_delete) = (Arc::clone(inner), Arc::clone(inner), Arc::clone(inner));
    inner.jobs.register(
        EventHandlerFuncs::new()
            .on_add(move |job: &Arc<Job>, _initial| on_add.queue.add(key_of(&job.metadata)))
            .on_update(move |_old, job: &Arc<Job>| on_update.queue.add(key_of(&job.metadata)))
            .on_delete(move |deleted: DeletedObject<Job>| {
                if let Some(job) = deleted.object() {
                    let key = key_of(&job.metadata);
                    on_delete.expectations.delete(&key);
                    on_delete
                        .backoff
                        .lock()
                        .unwrap_or_else(|poison| poison.into_inner())
                        .remove(&key);
                    on_delete.queue.add(key);
                }
            }),
    );

    let (on_add, on_update, on_delete) = (Arc::clone(inner), Arc::clone(inner), Arc::clone(inner));
    inner.pods.register(
        EventHandlerFuncs::new()
            .on_add(move |pod: &Arc<Pod>, _initial| {
                if let Some(key) = owning_job_key(&on_add, pod) {
                    if pod.metadata.deletion_timestamp.is_none() {
                        on_add.expectations.creation_observed(&key);
                    }
                    on_add.queue.add(key);
                }
            })
            .on_update(move |old: &Arc<Pod>, pod: &Arc<Pod>| {
                if old.metadata.resource_version == pod.metadata.resource_version {
                    return;
                }
                if !sync::has_tracking_finalizer(pod) {
                    on_update.finalizer_observed(pod);
                }
                if let Some(key) = owning_job_key(&on_update, old) {
                    on_update.queue.add(key);
                }
                if let Some(key) = owning_job_key(&on_update, pod) {
                    on_update.queue.add(key);
                }
            })
            .on_delete(move |deleted: DeletedObject<Pod>| {
                if let Some(pod) = deleted.object() {
                    on_delete.finalizer_observed(pod);
                }
                if let Some(pod) = deleted.object()
                    && let Some(key) = owning_job_key(&on_delete, pod)
                {
                    on_delete
                        .expectations
                        .deletion_observed(&key, &key_of(&pod.metadata));
                    on_delete.queue.add_after(key, Duration::from_millis(10));
                }
            }),
    );
}

impl Inner {
    fn finalizer_observed(&self, pod: &Pod) {
        if let Some(uid) = pod.metadata.uid.as_deref() {
            self.removed_finalizers
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .remove(uid);
        }
    }

    fn finalizer_removed(&self, pod: &Pod) {
        if let Some(uid) = pod.metadata.uid.clone() {
            self.removed_finalizers
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .insert(uid);
        }
    }

    fn finalizer_removal_pending(&self, pod: &Pod) -> bool {
        pod.metadata.uid.as_deref().is_some_and(|uid| {
            self.removed_finalizers
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .contains(uid)
        })
    }
}

/// Returns the key of the Job controlling `pod`. A pod that still carries the
/// tracking finalizer while its Job is gone gets the finalizer removed here,
/// because no sync will look at it again.
fn owning_job_key(inner: &Arc<Inner>, pod: &Pod) -> Option<String> {
    let reference = controller_ref(&pod.metadata)?;
    if reference.kind != "Job" {
        return None;
    }
    let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
    match inner.jobs.get(namespace, &reference.name) {
        Some(job) if job.metadata.uid.as_deref() == Some(reference.uid.as_str()) => {
            Some(key_of(&job.metadata))
        }
        _ => {
            if sync::has_tracking_finalizer(pod) && inner.jobs.has_synced() {
                let inner = Arc::clone(inner);
                let pod = pod.clone();
                tokio::spawn(async move {
                    if let Err(err) = sync::remove_tracking_finalizer(&inner, &pod).await {
                        tracing::warn!(pod = %key_of(&pod.metadata), error = %err, "failed to remove the tracking finalizer of an orphan pod");
                    }
                });
            }
            None
        }
    }
}
