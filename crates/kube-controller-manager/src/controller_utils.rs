//! Pieces every workload controller shares, after upstream's `pkg/controller`:
//! expectations (never act twice on one cache state), pod creation from a template,
//! adoption and release through controller ownerReferences, the ranking that picks
//! which pods a scale-down deletes, pod readiness and availability, and slow-start
//! batches.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apimachinery::labels::Selector;
use client::api::KubeObject;
use client::informer::SharedIndexInformer;
use client::rest::{ClientError, PatchType, RestClient};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use crate::client_ext::Resource;
use client::api::{Api, DeleteParams, PostParams};

/// How long an expectation stays pending before a sync proceeds anyway, so that a
/// missed watch event cannot wedge a controller (upstream `ExpectationsTimeout`).
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The first slow-start batch size (upstream `SlowStartInitialBatchSize`).
pub const SLOW_START_INITIAL_BATCH_SIZE: usize = 1;

/// The annotation whose integer value ranks pods for deletion: lower cost goes first.
pub const POD_DELETION_COST_ANNOTATION: &str = "controller.kubernetes.io/pod-deletion-cost";

#[derive(Debug)]
struct Expectation {
    add: i64,
    delete: i64,
    /// Keys (`namespace/name`) of pods whose deletion is awaited.
    deleting: HashSet<String>,
    set_at: Instant,
}

/// Creations and deletions a controller has requested but not yet seen in its
/// informer cache, per controller key. A controller syncs only when its expectations
/// are met, so a stale cache never makes it create or delete a second time.
#[derive(Debug, Default)]
pub struct ControllerExpectations {
    records: Mutex<HashMap<String, Expectation>>,
}

impl ControllerExpectations {
    /// An empty set of expectations.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_records<T>(&self, f: impl FnOnce(&mut HashMap<String, Expectation>) -> T) -> T {
        let mut records = self
            .records
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        f(&mut records)
    }

    /// Returns whether `key` may sync: no record, all expectations observed, or the record
    /// is older than [`EXPECTATIONS_TIMEOUT`].
    pub fn satisfied(&self, key: &str) -> bool {
        self.with_records(|records| match records.get(key) {
            None => true,
            Some(record) => {
                (record.add <= 0 && record.delete <= 0)
                    || record.set_at.elapsed() > EXPECTATIONS_TIMEOUT
            }
        })
    }

    /// Records that `count` creations were requested for `key`.
    pub fn expect_creations(&self, key: &str, count: usize) {
        self.set(key, count as i64, 0, HashSet::new());
    }

    /// Records that the pods `pod_keys` are being deleted for `key`.
    pub fn expect_deletions(&self, key: &str, pod_keys: HashSet<String>) {
        self.set(key, 0, pod_keys.len() as i64, pod_keys);
    }

    /// Records `creations` requested and the pods `pod_keys` being deleted for `key`
    /// at once.
    pub fn expect(&self, key: &str, creations: usize, pod_keys: HashSet<String>) {
        self.set(key, creations as i64, pod_keys.len() as i64, pod_keys);
    }

    fn set(&self, key: &str, add: i64, delete: i64, deleting: HashSet<String>) {
        self.with_records(|records| {
            records.insert(
                key.to_string(),
                Expectation {
                    add,
                    delete,
                    deleting,
                    set_at: Instant::now(),
                },
            );
        });
    }

    /// Records that one creation for `key` was observed (or will never happen).
    pub fn creation_observed(&self, key: &str) {
        self.with_records(|records| {
            if let Some(record) = records.get_mut(key) {
                record.add -= 1;
            }
        });
    }

    /// Records that the deletion of `pod_key` was observed (or will never happen);
    /// pods not awaited are ignored, so one deletion is never counted twice.
    pub fn deletion_observed(&self, key: &str, pod_key: &str) {
        self.with_records(|records| {
            if let Some(record) = records.get_mut(key)
                && record.deleting.remove(pod_key)
            {
                record.delete -= 1;
            }
        });
    }

    /// Forgets every expectation of `key`.
    pub fn delete(&self, key: &str) {
        self.with_records(|records| {
            records.remove(key);
        });
    }
}

/// Returns the current time as the API's timestamp type.
pub fn now() -> Timestamp {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::new(
        since_epoch.as_secs() as i64,
        since_epoch.subsec_nanos() as i32,
    )
    .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Formats `time` as the API's `Time` fields are written (RFC 3339, whole seconds).
pub fn format_time(time: Timestamp) -> String {
    serde_json::to_value(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(time))
        .ok()
        .and_then(|value| value.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Returns the `namespace/name` key of a namespaced object.
pub fn key_of(meta: &ObjectMeta) -> String {
    format!(
        "{}/{}",
        meta.namespace.as_deref().unwrap_or_default(),
        meta.name.as_deref().unwrap_or_default()
    )
}

/// Returns the ownerReference with `controller: true`, if any.
pub fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|reference| reference.controller == Some(true))
}

/// Builds the controller ownerReference that points at `owner`.
pub fn new_controller_ref<K: Resource>(owner: &K) -> OwnerReference {
    let meta = owner.metadata();
    OwnerReference {
        api_version: K::API_VERSION.to_string(),
        kind: K::KIND.to_string(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Builds a pod from `template`: the template's labels, annotations, finalizers and
/// spec, `generateName` of `<prefix>-` and `owner` as controller.
pub fn pod_from_template(
    template: &PodTemplateSpec,
    namespace: &str,
    generate_name_prefix: &str,
    owner: OwnerReference,
) -> Pod {
    let template_meta = template.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{generate_name_prefix}-")),
            namespace: Some(namespace.to_string()),
            labels: template_meta.labels,
            annotations: template_meta.annotations,
            finalizers: template_meta.finalizers,
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

/// Returns whether `pod` neither finished (Succeeded, Failed) nor is being deleted.
pub fn is_pod_active(pod: &Pod) -> bool {
    let phase = pod
        .status
        .as_ref()
        .and_then(|status| status.phase.as_deref());
    !matches!(phase, Some("Succeeded") | Some("Failed"))
        && pod.metadata.deletion_timestamp.is_none()
}

/// Returns the pod's phase, `Pending` when unset.
pub fn pod_phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .unwrap_or("Pending")
}

/// Returns the lastTransitionTime of the pod's Ready condition when it is True.
pub fn pod_ready_since(pod: &Pod) -> Option<Option<Timestamp>> {
    let condition = pod
        .status
        .as_ref()?
        .conditions
        .as_deref()?
        .iter()
        .find(|condition| condition.type_ == "Ready")?;
    (condition.status == "True").then(|| condition.last_transition_time.as_ref().map(|time| time.0))
}

/// Returns whether the pod's Ready condition is True.
pub fn is_pod_ready(pod: &Pod) -> bool {
    pod_ready_since(pod).is_some()
}

/// Returns whether the pod has been ready for at least `min_ready_seconds` at `now`.
pub fn is_pod_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    match pod_ready_since(pod) {
        None => false,
        Some(_) if min_ready_seconds <= 0 => true,
        Some(None) => false,
        Some(Some(since)) => since.as_second() + i64::from(min_ready_seconds) <= now.as_second(),
    }
}

/// A pod with the facts the deletion ranking compares.
pub struct RankedPod<'a> {
    pub pod: &'a Pod,
    /// How many active pods of the same controller share the pod's node.
    pub rank: usize,
}

fn phase_order(phase: &str) -> u8 {
    match phase {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    }
}

fn deletion_cost(pod: &Pod) -> i64 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(POD_DELETION_COST_ANNOTATION))
        .and_then(|value| value.parse::<i64>().ok())
        .unwrap_or(0)
}

fn restart_count(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|status| status.container_statuses.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|status| status.restart_count)
        .max()
        .unwrap_or(0)
}

/// Buckets an age by its base-2 logarithm in seconds, so that pods of similar age
/// compare equal and fall through to the next criterion (upstream's logarithmic
/// scale-down). `None` (unknown time) sorts as the newest.
fn log_age_bucket(time: Option<Timestamp>, now: Timestamp) -> i64 {
    match time {
        None => -1,
        Some(time) => {
            let age = (now.as_second() - time.as_second()).max(0);
            if age == 0 {
                0
            } else {
                i64::from(64 - (age as u64).leading_zeros())
            }
        }
    }
}

/// Orders pods so that the ones to delete first come first, following upstream's
/// `ActivePodsWithRanks`: unscheduled before scheduled, Pending before Unknown
/// before Running, not ready before ready, lower deletion cost first, more pods of
/// the same controller on the node first, ready for a shorter time first, more
/// container restarts first, newer first.
pub fn compare_for_deletion(a: &RankedPod<'_>, b: &RankedPod<'_>, now: Timestamp) -> Ordering {
    let scheduled = |pod: &Pod| {
        pod.spec
            .as_ref()
            .and_then(|spec| spec.node_name.as_deref())
            .is_some_and(|node| !node.is_empty())
    };
    scheduled(a.pod)
        .cmp(&scheduled(b.pod))
        .then_with(|| phase_order(pod_phase(a.pod)).cmp(&phase_order(pod_phase(b.pod))))
        .then_with(|| is_pod_ready(a.pod).cmp(&is_pod_ready(b.pod)))
        .then_with(|| deletion_cost(a.pod).cmp(&deletion_cost(b.pod)))
        .then_with(|| b.rank.cmp(&a.rank))
        .then_with(|| {
            if is_pod_ready(a.pod) && is_pod_ready(b.pod) {
                let ready_a = pod_ready_since(a.pod).flatten();
                let ready_b = pod_ready_since(b.pod).flatten();
                log_age_bucket(ready_a, now).cmp(&log_age_bucket(ready_b, now))
            } else {
                Ordering::Equal
            }
        })
        .then_with(|| restart_count(b.pod).cmp(&restart_count(a.pod)))
        .then_with(|| {
            let created = |pod: &Pod| pod.metadata.creation_timestamp.as_ref().map(|time| time.0);
            log_age_bucket(created(a.pod), now).cmp(&log_age_bucket(created(b.pod), now))
        })
}

/// Picks `count` pods of `pods` to delete: each is ranked by how many of
/// `related` (active pods of the same controller, `pods` included) share its node,
/// then the list is ordered by [`compare_for_deletion`].
pub fn pods_to_delete<'a>(
    pods: &[&'a Pod],
    related: &[&Pod],
    count: usize,
    now: Timestamp,
) -> Vec<&'a Pod> {
    if count >= pods.len() {
        return pods.to_vec();
    }
    let mut per_node: HashMap<&str, usize> = HashMap::new();
    for pod in related {
        if let Some(node) = pod.spec.as_ref().and_then(|spec| spec.node_name.as_deref())
            && is_pod_active(pod)
        {
            *per_node.entry(node).or_default() += 1;
        }
    }
    let mut ranked: Vec<RankedPod<'a>> = pods
        .iter()
        .map(|pod| {
            let rank = pod
                .spec
                .as_ref()
                .and_then(|spec| spec.node_name.as_deref())
                .and_then(|node| per_node.get(node).copied())
                .unwrap_or(0);
            RankedPod { pod, rank }
        })
        .collect();
    ranked.sort_by(|a, b| compare_for_deletion(a, b, now));
    ranked
        .into_iter()
        .take(count)
        .map(|ranked| ranked.pod)
        .collect()
}

/// Runs `count` calls of `call` in batches of 1, 2, 4, ... and stops after the first
/// batch with a failure, so that a failing create (quota, admission) costs a few
/// requests instead of `count`. Returns the number of successes and the first error.
pub async fn slow_start_batch<F, Fut>(
    count: usize,
    initial_batch_size: usize,
    call: F,
) -> (usize, Option<ClientError>)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), ClientError>>,
{
    let mut remaining = count;
    let mut successes = 0;
    let mut batch_size = initial_batch_size.max(1).min(remaining);
    while batch_size > 0 {
        let results = futures_join_all((0..batch_size).map(|_| call())).await;
        let mut first_error = None;
        for result in results {
            match result {
                Ok(()) => successes += 1,
                Err(err) => {
                    if first_error.is_none() {
                        first_error = Some(err);
                    }
                }
            }
        }
        if first_error.is_some() {
            return (successes, first_error);
        }
        remaining -= batch_size;
        batch_size = (2 * batch_size).min(remaining);
    }
    (successes, None)
}

/// Awaits every future concurrently on the current task and returns their outputs
/// in order.
pub async fn futures_join_all<Fut: Future>(
    futures: impl IntoIterator<Item = Fut>,
) -> Vec<Fut::Output> {
    let mut pending: Vec<Option<std::pin::Pin<Box<Fut>>>> = futures
        .into_iter()
        .map(|future| Some(Box::pin(future)))
        .collect();
    let mut results: Vec<Option<Fut::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => {
                        *result = Some(output);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

/// Creates and deletes pods, and adopts and releases them, through the API.
#[derive(Clone)]
pub struct PodControl {
    client: RestClient,
}

impl PodControl {
    /// Pod operations through `client`.
    pub fn new(client: RestClient) -> Self {
        Self { client }
    }

    /// Creates `pod` in its namespace.
    ///
    /// # Errors
    /// The API error.
    pub async fn create(&self, pod: &Pod) -> Result<Pod, ClientError> {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        Api::<Pod>::namespaced(self.client.clone(), namespace)
            .create(pod, &PostParams::default())
            .await
    }

    /// Deletes the pod `namespace/name`; a pod already gone counts as deleted.
    ///
    /// # Errors
    /// Any API error but 404.
    pub async fn delete(&self, namespace: &str, name: &str) -> Result<(), ClientError> {
        match Api::<Pod>::namespaced(self.client.clone(), namespace)
            .delete(name, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if err.is_not_found() => Ok(()),
            Err(err) => Err(err),
        }
    }
}

/// Rewrites the ownerReferences of `object` to `references`, guarded by the
/// object's resourceVersion so that a concurrent change makes it fail with 409.
///
/// # Errors
/// The API error.
pub async fn set_owner_references<K: Resource>(
    client: &RestClient,
    object: &K,
    references: Vec<OwnerReference>,
) -> Result<(), ClientError> {
    let meta = object.metadata();
    let patch = json!({
        "metadata": {
            "ownerReferences": references,
            "resourceVersion": meta.resource_version,
        }
    });
    crate::client_ext::api_in::<K>(
        client.clone(),
        meta.namespace.as_deref().unwrap_or("default"),
    )
    .patch(
        meta.name.as_deref().unwrap_or_default(),
        PatchType::Merge,
        &patch,
    )
    .await
    .map(|_| ())
}

/// Returns whether [`claim`] can keep, adopt or release the object with `meta`
/// for the owner with `owner_uid` and `selector`: the owner's own objects and
/// orphans that match. Callers filter on it before copying objects out of an
/// informer, because a namespace can hold many thousands of objects that `claim`
/// skips.
pub fn is_claim_candidate(meta: &ObjectMeta, owner_uid: Option<&str>, selector: &Selector) -> bool {
    match controller_ref(meta) {
        Some(reference) => Some(reference.uid.as_str()) == owner_uid,
        None => selector.matches(&meta.labels),
    }
}

/// The pod index by `spec.nodeName`; unscheduled pods are not in it.
pub const POD_NODE_NAME_INDEX: &str = "spec.nodeName";

/// The pod index of the pods the pod garbage collector looks at: [`TERMINATED`]
/// and [`UNSCHEDULED_TERMINATING`]; other pods are not in it.
pub const POD_GC_INDEX: &str = "podgc";

/// [`POD_GC_INDEX`]'s value for pods in phase Succeeded or Failed.
pub const TERMINATED: &str = "terminated";

/// [`POD_GC_INDEX`]'s value for pods being deleted that were never scheduled.
pub const UNSCHEDULED_TERMINATING: &str = "unscheduled-terminating";

fn pod_node_name(pod: &Arc<Pod>) -> Vec<String> {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.node_name.clone())
        .filter(|node| !node.is_empty())
        .into_iter()
        .collect()
}

fn pod_gc_values(pod: &Arc<Pod>) -> Vec<String> {
    let mut values = Vec::new();
    let phase = pod
        .status
        .as_ref()
        .and_then(|status| status.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        values.push(TERMINATED.to_string());
    }
    if pod.metadata.deletion_timestamp.is_some() && pod_node_name(pod).is_empty() {
        values.push(UNSCHEDULED_TERMINATING.to_string());
    }
    values
}

/// Adds [`POD_NODE_NAME_INDEX`] and [`POD_GC_INDEX`] to the shared pod informer
/// unless another controller did. Periodic passes over pods by node or
/// phase then decode only those pods from the packed cache. Call before the
/// informer starts; later, [`pods_by_index`] scans instead.
pub fn add_pod_indexers(pods: &SharedIndexInformer<Pod>) {
    let existing = pods.indexer().get_indexers();
    let mut indexers = client::cache::Indexers::new();
    if !existing.contains_key(POD_NODE_NAME_INDEX) {
        indexers.insert(
            POD_NODE_NAME_INDEX.to_string(),
            Arc::new(|pod: &Arc<Pod>| Ok(pod_node_name(pod))),
        );
    }
    if !existing.contains_key(POD_GC_INDEX) {
        indexers.insert(
            POD_GC_INDEX.to_string(),
            Arc::new(|pod: &Arc<Pod>| Ok(pod_gc_values(pod))),
        );
    }
    if indexers.is_empty() {
        return;
    }
    if let Err(error) = pods.add_indexers(indexers) {
        // A concurrent add of the same names is as good as ours.
        if !matches!(error, client::cache::CacheError::IndexerConflict { .. }) {
            tracing::warn!(%error, "cannot index pods; periodic passes scan every pod");
        }
    }
}

/// Returns the pods under `value` in index `index` (one of [`add_pod_indexers`]'),
/// scanning every pod when the index is missing.
pub fn pods_by_index(pods: &SharedIndexInformer<Pod>, index: &str, value: &str) -> Vec<Arc<Pod>> {
    match pods.indexer().by_index(index, value) {
        Ok(found) => found,
        Err(_) => {
            let values: fn(&Arc<Pod>) -> Vec<String> = if index == POD_GC_INDEX {
                pod_gc_values
            } else {
                pod_node_name
            };
            pods.lister()
                .list_where(&|_| true, &|pod| values(pod).iter().any(|v| v == value))
        }
    }
}

/// Returns every value of pod index `index`, or `None` when the index is missing.
pub fn pod_index_values(pods: &SharedIndexInformer<Pod>, index: &str) -> Option<Vec<String>> {
    let indexer = pods.indexer();
    indexer
        .get_indexers()
        .contains_key(index)
        .then(|| indexer.list_index_func_values(index))
}

/// Returns the objects of `namespace` that [`is_claim_candidate`] accepts for the
/// owner with `owner_uid`. The controller manager's caches are packed, and this
/// decodes only the candidates instead of the whole namespace.
pub fn claim_candidates<K: KubeObject>(
    informer: &SharedIndexInformer<K>,
    namespace: &str,
    owner_uid: Option<&str>,
    selector: &Selector,
) -> Vec<Arc<K>> {
    informer.lister().namespaced(namespace).list_where(
        &|summary| match summary.controller_uid() {
            Some(uid) => Some(uid) == owner_uid,
            None => selector.matches(summary),
        },
        &|obj| is_claim_candidate(obj.meta(), owner_uid, selector),
    )
}

/// Returns the objects of `namespace` whose controller's uid passes `controller`,
/// decoding only those from a packed cache.
pub fn controlled_by<K: KubeObject>(
    informer: &SharedIndexInformer<K>,
    namespace: &str,
    controller: &dyn Fn(&str) -> bool,
) -> Vec<Arc<K>> {
    informer.lister().namespaced(namespace).list_where(
        &|summary| summary.controller_uid().is_some_and(controller),
        &|obj| controller_ref(obj.meta()).is_some_and(|reference| controller(&reference.uid)),
    )
}

/// Claims objects for `owner`, as upstream's `ControllerRefManager`: objects it
/// controls that still match `selector` are kept, ones that no longer match are
/// released, and matching orphans are adopted unless the owner or the object is
/// being deleted. Objects controlled by someone else are left alone. Returns the
/// owned objects and the first failed adoption or release (404s are ignored).
pub async fn claim<K: Resource>(
    client: &RestClient,
    owner_meta: &ObjectMeta,
    owner_ref: &OwnerReference,
    selector: &Selector,
    objects: Vec<K>,
) -> (Vec<K>, Option<ClientError>) {
    let owner_uid = owner_meta.uid.as_deref().unwrap_or_default();
    let owner_deleting = owner_meta.deletion_timestamp.is_some();
    let mut owned = Vec::new();
    let mut first_error = None;

    for object in objects {
        let meta = object.metadata();
        let matches = selector.matches(&meta.labels);
        match controller_ref(meta) {
            Some(reference) if reference.uid == owner_uid => {
                if matches || owner_deleting {
                    owned.push(object);
                    continue;
                }
                let remaining: Vec<OwnerReference> = meta
                    .owner_references
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|reference| reference.uid != owner_uid)
                    .collect();
                if let Err(err) = set_owner_references(client, &object, remaining).await
                    && !err.is_not_found()
                {
                    tracing::warn!(kind = K::KIND, object = %key_of(meta), error = %err, "failed to release object");
                    first_error.get_or_insert(err);
                }
            }
            Some(_) => {}
            None => {
                if !matches || owner_deleting || meta.deletion_timestamp.is_some() {
                    continue;
                }
                let mut references = meta.owner_references.clone().unwrap_or_default();
                references.push(owner_ref.clone());
                match set_owner_references(client, &object, references.clone()).await {
                    Ok(()) => {
                        let mut adopted = object;
                        adopted.metadata_mut().owner_references = Some(references);
                        owned.push(adopted);
                    }
                    Err(err) if err.is_not_found() => {}
                    Err(err) => {
                        tracing::warn!(kind = K::KIND, object = %key_of(meta), error = %err, "failed to adopt object");
                        first_error.get_or_insert(err);
                    }
                }
            }
        }
    }
    (owned, first_error)
}

/// Returns a copy of `labels` with `key=value` added.
pub fn with_label(
    labels: Option<&BTreeMap<String, String>>,
    key: &str,
    value: &str,
) -> BTreeMap<String, String> {
    let mut labels = labels.cloned().unwrap_or_default();
    labels.insert(key.to_string(), value.to_string());
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    #[test]
    fn claim_candidates_exclude_other_controllers() {
        let owned_by = |uid: &str, controller: bool| ObjectMeta {
            owner_references: Some(vec![OwnerReference {
                api_version: "apps/v1".to_string(),
                kind: "ReplicaSet".to_string(),
                name: "owner".to_string(),
                uid: uid.to_string(),
                controller: Some(controller),
                ..OwnerReference::default()
            }]),
            ..ObjectMeta::default()
        };
        let selector = apimachinery::labels::parse("app=web").expect("valid selector");
        let labelled = |mut meta: ObjectMeta, app: &str| {
            meta.labels = Some(BTreeMap::from([("app".to_string(), app.to_string())]));
            meta
        };
        let orphan = ObjectMeta::default();
        assert!(is_claim_candidate(
            &labelled(orphan.clone(), "web"),
            Some("a"),
            &selector
        ));
        assert!(!is_claim_candidate(
            &labelled(orphan, "db"),
            Some("a"),
            &selector
        ));
        // The owner's own objects are candidates, to be released if they no longer match.
        assert!(is_claim_candidate(
            &labelled(owned_by("a", true), "db"),
            Some("a"),
            &selector
        ));
        assert!(!is_claim_candidate(
            &labelled(owned_by("b", true), "web"),
            Some("a"),
            &selector
        ));
        // A reference that is not the controller leaves the object an orphan.
        assert!(is_claim_candidate(
            &labelled(owned_by("b", false), "web"),
            Some("a"),
            &selector
        ));
    }

    fn pod(
        name: &str,
        node: Option<&str>,
        phase: &str,
        ready_for: Option<i64>,
        now: Timestamp,
    ) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                namespace: Some("default".to_string()),
                creation_timestamp: Some(Time(
                    now - k8s_openapi::jiff::SignedDuration::from_secs(1000),
                )),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                node_name: node.map(str::to_string),
                ..PodSpec::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.to_string()),
                conditions: ready_for.map(|seconds| {
                    vec![PodCondition {
                        type_: "Ready".to_string(),
                        status: "True".to_string(),
                        last_transition_time: Some(Time(
                            now - k8s_openapi::jiff::SignedDuration::from_secs(seconds),
                        )),
                        ..PodCondition::default()
                    }]
                }),
                ..PodStatus::default()
            }),
        }
    }

    #[test]
    fn deletion_ranking_order() {
        let now = now();
        let unscheduled = pod("unscheduled", None, "Pending", None, now);
        let pending = pod("pending", Some("n1"), "Pending", None, now);
        let running_not_ready = pod("running-not-ready", Some("n1"), "Running", None, now);
        let ready_new = pod("ready-new", Some("n2"), "Running", Some(10), now);
        let ready_old = pod("ready-old", Some("n3"), "Running", Some(100_000), now);
        let pods = vec![
            &ready_old,
            &ready_new,
            &running_not_ready,
            &pending,
            &unscheduled,
        ];
        let chosen = pods_to_delete(&pods, &pods, 4, now);
        let names: Vec<&str> = chosen
            .iter()
            .map(|pod| pod.metadata.name.as_deref().unwrap())
            .collect();
        assert_eq!(
            names,
            vec!["unscheduled", "pending", "running-not-ready", "ready-new"]
        );
    }

    #[test]
    fn deletion_ranking_prefers_doubled_up_nodes() {
        let now = now();
        let alone = pod("alone", Some("n1"), "Running", Some(100), now);
        let shared_a = pod("shared-a", Some("n2"), "Running", Some(100), now);
        let shared_b = pod("shared-b", Some("n2"), "Running", Some(100), now);
        let pods = vec![&alone, &shared_a, &shared_b];
        let chosen = pods_to_delete(&pods, &pods, 1, now);
        assert_ne!(chosen[0].metadata.name.as_deref(), Some("alone"));
    }

    #[test]
    fn deletion_cost_annotation_orders_first() {
        let now = now();
        let mut cheap = pod("cheap", Some("n1"), "Running", Some(100), now);
        cheap.metadata.annotations = Some(BTreeMap::from([(
            POD_DELETION_COST_ANNOTATION.to_string(),
            "-10".to_string(),
        )]));
        let normal = pod("normal", Some("n2"), "Running", Some(5), now);
        let pods = vec![&normal, &cheap];
        let chosen = pods_to_delete(&pods, &pods, 1, now);
        assert_eq!(chosen[0].metadata.name.as_deref(), Some("cheap"));
    }

    #[test]
    fn availability_honours_min_ready_seconds() {
        let now = now();
        let ready = pod("p", Some("n1"), "Running", Some(5), now);
        assert!(is_pod_available(&ready, 0, now));
        assert!(is_pod_available(&ready, 5, now));
        assert!(!is_pod_available(&ready, 6, now));
        let not_ready = pod("q", Some("n1"), "Running", None, now);
        assert!(!is_pod_available(&not_ready, 0, now));
    }

    #[test]
    fn expectations_block_until_observed() {
        let expectations = ControllerExpectations::new();
        assert!(expectations.satisfied("ns/rs"));
        expectations.expect_creations("ns/rs", 2);
        assert!(!expectations.satisfied("ns/rs"));
        expectations.creation_observed("ns/rs");
        assert!(!expectations.satisfied("ns/rs"));
        expectations.creation_observed("ns/rs");
        assert!(expectations.satisfied("ns/rs"));

        expectations.expect_deletions("ns/rs", HashSet::from(["ns/p1".to_string()]));
        expectations.deletion_observed("ns/rs", "ns/other");
        assert!(!expectations.satisfied("ns/rs"));
        expectations.deletion_observed("ns/rs", "ns/p1");
        expectations.deletion_observed("ns/rs", "ns/p1");
        assert!(expectations.satisfied("ns/rs"));
    }

    #[tokio::test]
    async fn slow_start_batches_double_and_stop_on_error() {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let (successes, error) = slow_start_batch(10, 1, || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        })
        .await;
        assert_eq!(successes, 10);
        assert!(error.is_none());

        let calls = std::sync::atomic::AtomicUsize::new(0);
        let (successes, error) = slow_start_batch(10, 1, || async {
            let call = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if call >= 3 {
                Err(ClientError::Config("quota".to_string()))
            } else {
                Ok(())
            }
        })
        .await;
        // Batches of 1 and 2 succeed; the batch of 4 fails on every call.
        assert_eq!(successes, 3);
        assert!(error.is_some());
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 7);
    }
}
