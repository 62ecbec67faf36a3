//! The ReplicaSet controller: keeps `spec.replicas` active pods matching each
//! ReplicaSet's selector, created from its template, and reports their counts in
//! its status.
//!
//! Entry point: [`ReplicaSetController::new`] then [`ReplicaSetController::run`].
//! The same implementation, [`ReplicaManager`], serves ReplicationControllers
//! through the [`ReplicaOwner`] trait (see the `replication` module).
//!
//! A sync claims pods (adopting matching orphans, releasing pods that no longer
//! match), then creates or deletes the difference if the expectations of earlier
//! syncs have been observed: creations in slow-start batches, deletions of the pods
//! [`pods_to_delete`] ranks first. At most [`BURST_REPLICAS`] pods change per sync.

mod status;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use apimachinery::labels::Selector;
use client::rest::PatchType;
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use tokio::sync::watch;

use crate::client_ext::{InformerExt, Resource};
use crate::context::ControllerContext;
use crate::controller_utils::{
    ControllerExpectations, PodControl, SLOW_START_INITIAL_BATCH_SIZE, claim, claim_candidates,
    controlled_by, controller_ref, futures_join_all, is_pod_active, is_pod_ready, key_of,
    new_controller_ref, pod_from_template, pods_to_delete, slow_start_batch,
};
use crate::events::{EventRecorder, EventType};
use crate::worker::{new_queue, run_workers};
use client::informer::EventHandlerFuncs;
use client::informer::{DeletedObject, SharedIndexInformer};

pub use status::{ReplicaCondition, ReplicaStatus, calculate_status};

/// The maximum number of pods one sync creates or deletes (upstream `BurstReplicas`).
pub const BURST_REPLICAS: usize = 500;

/// What the replica manager needs from a ReplicaSet or a ReplicationController.
pub trait ReplicaOwner: Resource {
    /// The controller name used for events and logs.
    const CONTROLLER_NAME: &'static str;

    /// `spec.replicas`, 1 when unset.
    fn replicas(&self) -> i32;

    /// `spec.minReadySeconds`.
    fn min_ready_seconds(&self) -> i32;

    /// The label selector; an invalid one is an error message.
    fn selector(&self) -> Result<Selector, String>;

    /// `spec.template`.
    fn template(&self) -> Option<&PodTemplateSpec>;

    /// The current status.
    fn replica_status(&self) -> ReplicaStatus;
}

impl ReplicaOwner for ReplicaSet {
    const CONTROLLER_NAME: &'static str = "replicaset-controller";

    fn replicas(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|spec| spec.replicas)
            .unwrap_or(1)
    }

    fn min_ready_seconds(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|spec| spec.min_ready_seconds)
            .unwrap_or(0)
    }

    fn selector(&self) -> Result<Selector, String> {
        let selector = self.spec.as_ref().map(|spec| &spec.selector);
        apimachinery::labels::label_selector_as_selector(selector)
            .map_err(|err| format!("invalid selector: {err}"))
    }

    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref().and_then(|spec| spec.template.as_ref())
    }

    fn replica_status(&self) -> ReplicaStatus {
        ReplicaStatus::from_object(self)
    }
}

struct Inner<K: ReplicaOwner> {
    owners: SharedIndexInformer<K>,
    pods: SharedIndexInformer<Pod>,
    queue: RateLimitingQueue<String>,
    expectations: ControllerExpectations,
    pod_control: PodControl,
    recorder: EventRecorder,
    api_client: client::rest::RestClient,
    burst_replicas: usize,
}

/// The replica manager shared by the ReplicaSet and ReplicationController
/// controllers.
pub struct ReplicaManager<K: ReplicaOwner> {
    inner: Arc<Inner<K>>,
}

/// The ReplicaSet controller.
pub type ReplicaSetController = ReplicaManager<ReplicaSet>;

impl<K: ReplicaOwner> ReplicaManager<K> {
    /// Builds the controller and registers its handlers on the owner and pod
    /// informers of `ctx`.
    pub fn new(ctx: &ControllerContext) -> Self {
        let inner = Arc::new(Inner {
            owners: ctx.informers.informer::<K>(),
            pods: ctx.informers.informer::<Pod>(),
            queue: new_queue(K::CONTROLLER_NAME),
            expectations: ControllerExpectations::new(),
            pod_control: PodControl::new(ctx.client.clone()),
            recorder: ctx.recorder(K::CONTROLLER_NAME),
            api_client: ctx.client.clone(),
            burst_replicas: BURST_REPLICAS,
        });
        register_owner_handlers(&inner);
        register_pod_handlers(&inner);
        Self { inner }
    }

    /// Waits for the caches, then syncs with `workers` concurrent workers until
    /// `cancel` fires.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        let inner = self.inner;
        if !wait_for_synced(
            &[&|| inner.owners.has_synced(), &|| inner.pods.has_synced()],
            cancel.clone(),
        )
        .await
        {
            return;
        }
        let sync_inner = Arc::clone(&inner);
        run_workers(
            K::CONTROLLER_NAME,
            inner.queue.clone(),
            workers,
            None,
            cancel,
            move |key| {
                let inner = Arc::clone(&sync_inner);
                async move { sync(&inner, &key).await }
            },
        )
        .await;
    }
}

/// Waits until every check returns true; false when `cancel` fires first.
pub async fn wait_for_synced(
    checks: &[&(dyn Fn() -> bool + Sync)],
    mut cancel: watch::Receiver<bool>,
) -> bool {
    loop {
        if checks.iter().all(|check| check()) {
            return true;
        }
        if *cancel.borrow() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            changed = cancel.changed() => if changed.is_err() { return false; },
        }
    }
}

fn register_owner_handlers<K: ReplicaOwner>(inner: &Arc<Inner<K>>) {
    let on_add = Arc::clone(inner);
    let on_update = Arc::clone(inner);
    let on_delete = Arc::clone(inner);
    inner.owners.register(
        EventHandlerFuncs::new()
            .on_add(move |owner: &Arc<K>, _initial| on_add.queue.add(key_of(owner.metadata())))
            .on_update(move |_old, owner: &Arc<K>| on_update.queue.add(key_of(owner.metadata())))
            .on_delete(move |deleted: DeletedObject<K>| {
                if let Some(owner) = deleted.object() {
                    let key = key_of(owner.metadata());
                    on_delete.expectations.delete(&key);
                    on_delete.queue.add(key);
                }
            }),
    );
}

fn register_pod_handlers<K: ReplicaOwner>(inner: &Arc<Inner<K>>) {
    let on_add = Arc::clone(inner);
    let on_update = Arc::clone(inner);
    let on_delete = Arc::clone(inner);
    inner.pods.register(
        EventHandlerFuncs::new()
            .on_add(move |pod: &Arc<Pod>, _initial| add_pod(&on_add, pod))
            .on_update(move |old: &Arc<Pod>, pod: &Arc<Pod>| update_pod(&on_update, old, pod))
            .on_delete(move |deleted: DeletedObject<Pod>| {
                if let Some(pod) = deleted.object() {
                    delete_pod(&on_delete, pod);
                }
            }),
    );
}

/// Returns the owner a controller ownerReference of `pod` points at, if it is a `K`
/// in the cache with the same uid.
fn resolve_controller_ref<K: ReplicaOwner>(inner: &Inner<K>, pod: &Pod) -> Option<Arc<K>> {
    let reference = controller_ref(&pod.metadata)?;
    if reference.kind != K::KIND || reference.api_version != K::API_VERSION {
        return None;
    }
    let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
    let owner = inner.owners.get(namespace, &reference.name)?;
    (owner.metadata().uid.as_deref() == Some(reference.uid.as_str())).then_some(owner)
}

/// Returns the owners in the pod's namespace whose selector matches it.
fn owners_matching<K: ReplicaOwner>(inner: &Inner<K>, pod: &Pod) -> Vec<Arc<K>> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
    inner
        .owners
        .list_namespace(namespace)
        .into_iter()
        .filter(|owner| {
            owner.selector().is_ok_and(|selector| {
                !selector.is_empty() && selector.matches(&pod.metadata.labels)
            })
        })
        .collect()
}

fn add_pod<K: ReplicaOwner>(inner: &Inner<K>, pod: &Arc<Pod>) {
    if pod.metadata.deletion_timestamp.is_some() {
        delete_pod(inner, pod);
        return;
    }
    if controller_ref(&pod.metadata).is_some() {
        if let Some(owner) = resolve_controller_ref(inner, pod) {
            let key = key_of(owner.metadata());
            inner.expectations.creation_observed(&key);
            inner.queue.add(key);
        }
        return;
    }
    for owner in owners_matching(inner, pod) {
        inner.queue.add(key_of(owner.metadata()));
    }
}

fn update_pod<K: ReplicaOwner>(inner: &Inner<K>, old: &Arc<Pod>, pod: &Arc<Pod>) {
    if old.metadata.resource_version == pod.metadata.resource_version {
        return;
    }
    let labels_changed = old.metadata.labels != pod.metadata.labels;
    if pod.metadata.deletion_timestamp.is_some() {
        delete_pod(inner, pod);
        if labels_changed {
            delete_pod(inner, old);
        }
        return;
    }

    let old_ref = controller_ref(&old.metadata);
    let new_ref = controller_ref(&pod.metadata);
    let ref_changed = old_ref.map(|r| &r.uid) != new_ref.map(|r| &r.uid);
    if ref_changed
        && old_ref.is_some()
        && let Some(owner) = resolve_controller_ref(inner, old)
    {
        inner.queue.add(key_of(owner.metadata()));
    }

    if new_ref.is_some() {
        if let Some(owner) = resolve_controller_ref(inner, pod) {
            let key = key_of(owner.metadata());
            inner.queue.add(key.clone());
            let min_ready = owner.min_ready_seconds();
            if min_ready > 0 && !is_pod_ready(old) && is_pod_ready(pod) {
                // Availability flips minReadySeconds after readiness, with no event.
                inner
                    .queue
                    .add_after(key, Duration::from_secs(min_ready as u64 + 1));
            }
        }
        return;
    }
    if labels_changed || ref_changed {
        for owner in owners_matching(inner, pod) {
            inner.queue.add(key_of(owner.metadata()));
        }
    }
}

fn delete_pod<K: ReplicaOwner>(inner: &Inner<K>, pod: &Arc<Pod>) {
    if let Some(owner) = resolve_controller_ref(inner, pod) {
        let key = key_of(owner.metadata());
        inner
            .expectations
            .deletion_observed(&key, &key_of(&pod.metadata));
        inner.queue.add(key);
    }
}

/// Syncs the owner stored under `key`.
async fn sync<K: ReplicaOwner>(inner: &Inner<K>, key: &str) -> Result<(), String> {
    let started = std::time::Instant::now();
    let Some((namespace, name)) = key.split_once('/') else {
        return Ok(());
    };
    let Some(owner) = inner.owners.get(namespace, name) else {
        tracing::debug!(controller = K::CONTROLLER_NAME, key, "owner deleted");
        inner.expectations.delete(key);
        return Ok(());
    };

    let selector = match owner.selector() {
        Ok(selector) => selector,
        Err(err) => {
            inner.recorder.event(
                owner.as_ref(),
                EventType::Warning,
                "SelectorParseError",
                &err,
            );
            return Ok(());
        }
    };
    let needs_sync =
        inner.expectations.satisfied(key) && owner.metadata().deletion_timestamp.is_none();

    let owner_uid = owner.metadata().uid.as_deref();
    let candidates: Vec<Pod> = claim_candidates(&inner.pods, namespace, owner_uid, &selector)
        .into_iter()
        .filter(|pod| is_pod_active(pod))
        .map(|pod| pod.as_ref().clone())
        .collect();
    let (pods, claim_error) = claim(
        &inner.api_client,
        owner.metadata(),
        &new_controller_ref(owner.as_ref()),
        &selector,
        candidates,
    )
    .await;
    if let Some(err) = claim_error {
        return Err(format!("failed to claim pods: {err}"));
    }

    let mut manage_error = None;
    if needs_sync {
        manage_error = manage_replicas(inner, owner.as_ref(), key, &pods)
            .await
            .err();
    }

    let now = crate::controller_utils::now();
    let old_status = owner.replica_status();
    let new_status = calculate_status(owner.as_ref(), &pods, manage_error.as_deref(), now);
    if new_status != old_status {
        let patch = serde_json::json!({ "status": new_status.to_json() });
        let api = crate::client_ext::api_in::<K>(inner.api_client.clone(), namespace);
        if let Err(err) = api.patch_status(name, PatchType::Merge, &patch).await {
            return Err(format!("failed to update status: {err}"));
        }
    }

    let min_ready = owner.min_ready_seconds();
    if manage_error.is_none()
        && min_ready > 0
        && new_status.ready_replicas == owner.replicas()
        && new_status.available_replicas != owner.replicas()
    {
        inner
            .queue
            .add_after(key.to_string(), Duration::from_secs(min_ready as u64));
    }
    tracing::debug!(controller = K::CONTROLLER_NAME, key, elapsed = ?started.elapsed(), "finished sync");
    manage_error.map_or(Ok(()), Err)
}

/// Creates or deletes pods so that `pods.len()` reaches the owner's replicas.
async fn manage_replicas<K: ReplicaOwner>(
    inner: &Inner<K>,
    owner: &K,
    key: &str,
    pods: &[Pod],
) -> Result<(), String> {
    let wanted = owner.replicas().max(0) as usize;
    let namespace = owner.metadata().namespace.clone().unwrap_or_default();
    let owner_name = owner.metadata().name.clone().unwrap_or_default();

    if pods.len() < wanted {
        let count = (wanted - pods.len()).min(inner.burst_replicas);
        let Some(template) = owner.template() else {
            return Err("spec.template is missing".to_string());
        };
        inner.expectations.expect_creations(key, count);
        tracing::info!(
            controller = K::CONTROLLER_NAME,
            key,
            need = wanted,
            creating = count,
            "too few replicas"
        );
        let pod = pod_from_template(template, &namespace, &owner_name, new_controller_ref(owner));
        let (successes, error) = slow_start_batch(count, SLOW_START_INITIAL_BATCH_SIZE, || {
            let pod = pod.clone();
            async move {
                match inner.pod_control.create(&pod).await {
                    Ok(created) => {
                        inner.recorder.event(
                            owner,
                            EventType::Normal,
                            "SuccessfulCreate",
                            &format!(
                                "Created pod: {}",
                                created.metadata.name.as_deref().unwrap_or_default()
                            ),
                        );
                        Ok(())
                    }
                    Err(err) => {
                        inner.recorder.event(
                            owner,
                            EventType::Warning,
                            "FailedCreate",
                            &format!("Error creating: {err}"),
                        );
                        Err(err)
                    }
                }
            }
        })
        .await;
        // Creations that were skipped or failed will never be observed.
        for _ in successes..count {
            inner.expectations.creation_observed(key);
        }
        return match error {
            Some(err) => Err(format!("failed to create pods: {err}")),
            None => Ok(()),
        };
    }

    if pods.len() > wanted {
        let count = (pods.len() - wanted).min(inner.burst_replicas);
        let candidates: Vec<&Pod> = pods.iter().collect();
        let related = related_active_pods(inner, owner, pods);
        let related: Vec<&Pod> = related.iter().collect();
        let victims = pods_to_delete(&candidates, &related, count, crate::controller_utils::now());
        let victim_keys: HashSet<String> =
            victims.iter().map(|pod| key_of(&pod.metadata)).collect();
        inner.expectations.expect_deletions(key, victim_keys);
        tracing::info!(
            controller = K::CONTROLLER_NAME,
            key,
            need = wanted,
            deleting = count,
            "too many replicas"
        );

        let namespace = namespace.as_str();
        let results = futures_join_all(victims.iter().map(|pod| async move {
            let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
            let result = inner.pod_control.delete(namespace, pod_name).await;
            match &result {
                Ok(()) => inner.recorder.event(
                    owner,
                    EventType::Normal,
                    "SuccessfulDelete",
                    &format!("Deleted pod: {pod_name}"),
                ),
                Err(err) => {
                    inner
                        .expectations
                        .deletion_observed(key, &key_of(&pod.metadata));
                    inner.recorder.event(
                        owner,
                        EventType::Warning,
                        "FailedDelete",
                        &format!("Error deleting: {err}"),
                    );
                }
            }
            result
        }))
        .await;
        if let Some(err) = results.into_iter().find_map(Result::err) {
            return Err(format!("failed to delete pods: {err}"));
        }
    }
    Ok(())
}

/// Returns the active pods of every owner of the same kind that shares the owner's
/// controller (the Deployment's other ReplicaSets), for the co-location rank.
fn related_active_pods<K: ReplicaOwner>(inner: &Inner<K>, owner: &K, pods: &[Pod]) -> Vec<Pod> {
    let Some(parent) = controller_ref(owner.metadata()) else {
        return pods.to_vec();
    };
    let namespace = owner.metadata().namespace.as_deref().unwrap_or_default();
    let siblings: HashSet<String> = inner
        .owners
        .list_namespace(namespace)
        .into_iter()
        .filter(|other| controller_ref(other.metadata()).is_some_and(|r| r.uid == parent.uid))
        .filter_map(|other| other.metadata().uid.clone())
        .collect();
    controlled_by(&inner.pods, namespace, &|uid| siblings.contains(uid))
        .into_iter()
        .filter(|pod| is_pod_active(pod))
        .map(|pod| pod.as_ref().clone())
        .collect()
}
