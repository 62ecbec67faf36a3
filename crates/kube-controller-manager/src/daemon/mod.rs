//! The DaemonSet controller: one daemon pod on every eligible node, updated by
//! RollingUpdate (maxUnavailable, maxSurge) or OnDelete, with the template history
//! kept in ControllerRevisions.
//!
//! Entry point: [`DaemonSetsController::new`] then [`DaemonSetsController::run`].
//!
//! A node is eligible when it passes the template's node selector and required
//! node affinity and every NoSchedule/NoExecute taint is tolerated (see
//! [`nodes::node_fit`]). Pods are pinned to their node through a required node
//! affinity on `metadata.name`, and the scheduler binds them.

pub mod nodes;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use client::api::Api;
use client::informer::{DeletedObject, EventHandlerFuncs, SharedIndexInformer};
use client::rest::RestClient;
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{Node, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::sync::watch;

use crate::client_ext::InformerExt;
use crate::context::ControllerContext;
use crate::controller_utils::{
    ControllerExpectations, PodControl, claim, claim_candidates, controller_ref, futures_join_all,
    is_pod_available, is_pod_ready, key_of, new_controller_ref, now, pod_from_template,
};
use crate::deployment::util::resolve_int_or_percent;
use crate::events::{EventRecorder, EventType};
use crate::history::{CONTROLLER_REVISION_HASH_LABEL, sync_revision, truncate_history};
use crate::replicaset::wait_for_synced;
use crate::worker::{new_queue, run_workers};

const CONTROLLER_NAME: &str = "daemonset-controller";

/// The deprecated label with the DaemonSet generation a pod was created from.
const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";

struct Inner {
    daemon_sets: SharedIndexInformer<DaemonSet>,
    pods: SharedIndexInformer<Pod>,
    nodes: SharedIndexInformer<Node>,
    queue: RateLimitingQueue<String>,
    expectations: ControllerExpectations,
    pod_control: PodControl,
    client: RestClient,
    recorder: EventRecorder,
}

/// The DaemonSet controller.
pub struct DaemonSetsController {
    inner: Arc<Inner>,
}

impl DaemonSetsController {
    /// Builds the controller and registers its handlers on the DaemonSet, pod and
    /// node informers of `ctx`.
    pub fn new(ctx: &ControllerContext) -> Self {
        let inner = Arc::new(Inner {
            daemon_sets: ctx.informers.informer::<DaemonSet>(),
            pods: ctx.informers.informer::<Pod>(),
            nodes: ctx.informers.informer::<Node>(),
            queue: new_queue(CONTROLLER_NAME),
            expectations: ControllerExpectations::new(),
            pod_control: PodControl::new(ctx.client.clone()),
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
                &|| inner.daemon_sets.has_synced(),
                &|| inner.pods.has_synced(),
                &|| inner.nodes.has_synced(),
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

fn enqueue_all(inner: &Inner) {
    for ds in inner.daemon_sets.lister().list() {
        inner.queue.add(key_of(&ds.metadata));
    }
}

fn owner_key(inner: &Inner, pod: &Pod) -> Option<String> {
    let reference = controller_ref(&pod.metadata)?;
    if reference.kind != "DaemonSet" {
        return None;
    }
    let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
    let ds = inner.daemon_sets.get(namespace, &reference.name)?;
    (ds.metadata.uid.as_deref() == Some(reference.uid.as_str())).then(|| key_of(&ds.metadata))
}

fn register_handlers(inner: &Arc<Inner>) {
    let (on_add, on_update, on_delete) = (Arc::clone(inner), Arc::clone(inner), Arc::clone(inner));
    inner.daemon_sets.register(
        EventHandlerFuncs::new()
            .on_add(move |ds: &Arc<DaemonSet>, _initial| on_add.queue.add(key_of(&ds.metadata)))
            .on_update(move |_old, ds: &Arc<DaemonSet>| on_update.queue.add(key_of(&ds.metadata)))
            .on_delete(move |deleted: DeletedObject<DaemonSet>| {
                if let Some(ds) = deleted.object() {
                    let key = key_of(&ds.metadata);
                    on_delete.expectations.delete(&key);
                    on_delete.queue.add(key);
                }
            }),
    );

    let (on_add, on_update, on_delete) = (Arc::clone(inner), Arc::clone(inner), Arc::clone(inner));
    inner.pods.register(
        EventHandlerFuncs::new()
            .on_add(move |pod: &Arc<Pod>, _initial| {
                if let Some(key) = owner_key(&on_add, pod) {
                    on_add.expectations.creation_observed(&key);
                    on_add.queue.add(key);
                }
            })
            .on_update(move |old: &Arc<Pod>, pod: &Arc<Pod>| {
                if old.metadata.resource_version == pod.metadata.resource_version {
                    return;
                }
                if let Some(key) = owner_key(&on_update, pod) {
                    if !is_pod_ready(old) && is_pod_ready(pod) {
                        // minReadySeconds makes the pod available later, with no event.
                        on_update
                            .queue
                            .add_after(key.clone(), Duration::from_secs(1));
                    }
                    on_update.queue.add(key);
                }
            })
            .on_delete(move |deleted: DeletedObject<Pod>| {
                if let Some(pod) = deleted.object()
                    && let Some(key) = owner_key(&on_delete, pod)
                {
                    on_delete
                        .expectations
                        .deletion_observed(&key, &key_of(&pod.metadata));
                    on_delete.queue.add(key);
                }
            }),
    );

    let (on_add, on_update, on_delete) = (Arc::clone(inner), Arc::clone(inner), Arc::clone(inner));
    inner.nodes.register(
        EventHandlerFuncs::new()
            .on_add(move |_node: &Arc<Node>, _initial| enqueue_all(&on_add))
            .on_update(move |old: &Arc<Node>, node: &Arc<Node>| {
                let changed = old.metadata.labels != node.metadata.labels
                    || old.spec.as_ref().map(|spec| &spec.taints)
                        != node.spec.as_ref().map(|spec| &spec.taints);
                if changed {
                    enqueue_all(&on_update);
                }
            })
            .on_delete(move |_deleted: DeletedObject<Node>| enqueue_all(&on_delete)),
    );
}

fn template_spec(ds: &DaemonSet) -> PodSpec {
    let mut spec = ds
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.clone())
        .unwrap_or_default();
    nodes::add_default_tolerations(&mut spec);
    spec
}

fn pod_hash(pod: &Pod) -> Option<&str> {
    pod.metadata
        .labels
        .as_ref()?
        .get(CONTROLLER_REVISION_HASH_LABEL)
        .map(String::as_str)
}

fn is_failed(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        == Some("Failed")
}

/// The changes one sync makes.
#[derive(Default)]
struct Plan {
    create_on: Vec<String>,
    delete: Vec<Pod>,
}

/// Syncs the DaemonSet stored under `key`.
async fn sync(inner: &Inner, key: &str) -> Result<(), String> {
    let Some((namespace, name)) = key.split_once('/') else {
        return Ok(());
    };
    let Some(cached) = inner.daemon_sets.get(namespace, name) else {
        inner.expectations.delete(key);
        return Ok(());
    };
    let ds = cached.as_ref().clone();
    let Some(spec) = ds.spec.as_ref() else {
        return Ok(());
    };
    let selector = apimachinery::labels::label_selector_as_selector(Some(&spec.selector))
        .map_err(|err| format!("invalid selector: {err}"))?;
    if selector.is_empty() {
        inner.recorder.event(
            &ds,
            EventType::Warning,
            "SelectingAll",
            "This daemon set is selecting all pods. A non-empty selector is required.",
        );
        return Ok(());
    }

    let candidates: Vec<Pod> = claim_candidates(
        &inner.pods,
        namespace,
        ds.metadata.uid.as_deref(),
        &selector,
    )
    .into_iter()
    .filter(|pod| pod.metadata.deletion_timestamp.is_none())
    .map(|pod| pod.as_ref().clone())
    .collect();
    let (pods, claim_error) = claim(
        &inner.client,
        &ds.metadata,
        &new_controller_ref(&ds),
        &selector,
        candidates,
    )
    .await;
    if let Some(err) = claim_error {
        return Err(format!("failed to claim pods: {err}"));
    }

    let collision_count = ds.status.as_ref().and_then(|status| status.collision_count);
    let mut data = serde_json::json!({ "spec": {} });
    data["spec"]["template"] = serde_json::to_value(&spec.template).unwrap_or_default();
    data["spec"]["template"]["$patch"] = serde_json::Value::String("replace".into());
    let revisions = sync_revision(
        &inner.client,
        &ds,
        data,
        spec.selector.match_labels.clone().unwrap_or_default(),
        collision_count,
    )
    .await?;
    let hash = crate::history::revision_hash(&revisions.current)
        .unwrap_or_default()
        .to_string();

    let mut by_node: BTreeMap<String, Vec<Pod>> = BTreeMap::new();
    let mut unplaced = Vec::new();
    for pod in pods {
        match nodes::pod_node_name(pod.spec.as_ref()) {
            Some(node) => by_node.entry(node).or_default().push(pod),
            None => unplaced.push(pod),
        }
    }

    let nodes = inner.nodes.lister().list();
    let spec_for_fit = template_spec(&ds);
    let fits: HashMap<String, nodes::NodeFit> = nodes
        .iter()
        .map(|node| {
            (
                node.metadata.name.clone().unwrap_or_default(),
                nodes::node_fit(&spec_for_fit, node),
            )
        })
        .collect();

    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let at = now();
    if inner.expectations.satisfied(key) {
        let mut plan = Plan::default();
        plan.delete.extend(unplaced.iter().cloned());
        for (node, fit) in &fits {
            let on_node = by_node.get(node).cloned().unwrap_or_default();
            plan_node(&mut plan, node, *fit, on_node);
        }
        for (node, on_node) in &by_node {
            if !fits.contains_key(node) {
                plan.delete.extend(on_node.iter().cloned());
            }
        }
        if plan.create_on.is_empty() && plan.delete.is_empty() && is_rolling(&ds) {
            plan_rolling_update(&mut plan, &ds, &fits, &by_node, &hash, min_ready, at)?;
        }
        execute(inner, key, &ds, &hash, plan).await?;
    }

    let live_hashes: Vec<String> = by_node
        .values()
        .flatten()
        .filter_map(|pod| pod_hash(pod).map(str::to_string))
        .collect();
    truncate_history(
        &inner.client,
        namespace,
        &revisions.old,
        &live_hashes,
        spec.revision_history_limit.unwrap_or(10),
    )
    .await?;

    update_status(inner, &ds, &fits, &by_node, &hash, min_ready, at).await
}

fn plan_node(plan: &mut Plan, node: &str, fit: nodes::NodeFit, pods: Vec<Pod>) {
    // NOTE: failed daemon pods are deleted and recreated at once; upstream backs off
    // per node so that a crashing pod does not cause a create/delete hot loop.
    let (failed, mut running): (Vec<Pod>, Vec<Pod>) = pods.into_iter().partition(is_failed);
    plan.delete.extend(failed.iter().cloned());
    if !fit.should_continue_running {
        plan.delete.extend(running);
        return;
    }
    if running.is_empty() {
        if fit.should_run {
            plan.create_on.push(node.to_string());
        }
        return;
    }
    if running.len() > 1 {
        // Keep the oldest pod; a surge pair is resolved by the rolling update.
        running.sort_by_key(|pod| pod.metadata.creation_timestamp.as_ref().map(|time| time.0));
        let hashes: HashSet<Option<&str>> = running.iter().map(pod_hash).collect();
        if hashes.len() == 1 {
            plan.delete.extend(running.into_iter().skip(1));
        }
    }
}

fn is_rolling(ds: &DaemonSet) -> bool {
    ds.spec
        .as_ref()
        .and_then(|spec| spec.update_strategy.as_ref())
        .and_then(|strategy| strategy.type_.as_deref())
        .is_none_or(|kind| kind == "RollingUpdate")
}

/// Replaces old pods within maxUnavailable, or with surge pods within maxSurge.
fn plan_rolling_update(
    plan: &mut Plan,
    ds: &DaemonSet,
    fits: &HashMap<String, nodes::NodeFit>,
    by_node: &BTreeMap<String, Vec<Pod>>,
    hash: &str,
    min_ready: i32,
    at: k8s_openapi::jiff::Timestamp,
) -> Result<(), String> {
    let desired = fits.values().filter(|fit| fit.should_run).count() as i32;
    let rolling = ds
        .spec
        .as_ref()
        .and_then(|spec| spec.update_strategy.as_ref())
        .and_then(|strategy| strategy.rolling_update.as_ref());
    let max_surge =
        resolve_int_or_percent(rolling.and_then(|r| r.max_surge.as_ref()), 0, desired, true)?;
    let max_unavailable = if max_surge > 0 {
        0
    } else {
        resolve_int_or_percent(
            Some(
                rolling
                    .and_then(|r| r.max_unavailable.clone())
                    .unwrap_or(IntOrString::Int(1)),
            )
            .as_ref(),
            0,
            desired,
            true,
        )?
        .max(1)
    };

    let mut unavailable = 0;
    let mut old_available = Vec::new();
    let mut surging = 0;
    let mut surge_candidates = Vec::new();
    for (node, fit) in fits.iter().filter(|(_, fit)| fit.should_continue_running) {
        let pods = by_node.get(node).cloned().unwrap_or_default();
        let new_pod = pods.iter().find(|pod| pod_hash(pod) == Some(hash));
        let old_pods: Vec<&Pod> = pods
            .iter()
            .filter(|pod| pod_hash(pod) != Some(hash))
            .collect();
        let new_available = new_pod.is_some_and(|pod| is_pod_available(pod, min_ready, at));
        if new_pod.is_some() && !old_pods.is_empty() {
            if new_available {
                plan.delete.extend(old_pods.into_iter().cloned());
            } else {
                surging += 1;
            }
            continue;
        }
        let Some(old) = old_pods.first() else {
            if !new_available && fit.should_run {
                unavailable += 1;
            }
            continue;
        };
        if !is_pod_available(old, min_ready, at) {
            plan.delete.push((*old).clone());
            unavailable += 1;
        } else if max_surge > 0 {
            surge_candidates.push(node.clone());
        } else {
            old_available.push((*old).clone());
        }
    }

    if max_surge > 0 {
        let room = (max_surge - surging).max(0) as usize;
        plan.create_on
            .extend(surge_candidates.into_iter().take(room));
        return Ok(());
    }
    let room = (max_unavailable - unavailable).max(0) as usize;
    plan.delete.extend(old_available.into_iter().take(room));
    Ok(())
}

async fn execute(
    inner: &Inner,
    key: &str,
    ds: &DaemonSet,
    hash: &str,
    plan: Plan,
) -> Result<(), String> {
    if plan.create_on.is_empty() && plan.delete.is_empty() {
        return Ok(());
    }
    let namespace = ds.metadata.namespace.clone().unwrap_or_default();
    let name = ds.metadata.name.clone().unwrap_or_default();
    let delete_keys: HashSet<String> = plan
        .delete
        .iter()
        .map(|pod| key_of(&pod.metadata))
        .collect();
    inner
        .expectations
        .expect(key, plan.create_on.len(), delete_keys);

    let template = ds
        .spec
        .as_ref()
        .map(|spec| spec.template.clone())
        .unwrap_or_default();
    let generation = ds.metadata.generation.unwrap_or(0).to_string();
    let creations = plan.create_on.iter().map(|node| {
        let mut pod = pod_from_template(&template, &namespace, &name, new_controller_ref(ds));
        let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
        labels.insert(CONTROLLER_REVISION_HASH_LABEL.to_string(), hash.to_string());
        labels.insert(TEMPLATE_GENERATION_LABEL.to_string(), generation.clone());
        let spec = pod.spec.get_or_insert_with(PodSpec::default);
        nodes::add_default_tolerations(spec);
        nodes::pin_to_node(spec, node);
        async move {
            let result = inner.pod_control.create(&pod).await;
            match &result {
                Ok(created) => inner.recorder.event(
                    ds,
                    EventType::Normal,
                    "SuccessfulCreate",
                    &format!(
                        "Created pod: {}",
                        created.metadata.name.as_deref().unwrap_or_default()
                    ),
                ),
                Err(err) => {
                    inner.expectations.creation_observed(key);
                    inner.recorder.event(
                        ds,
                        EventType::Warning,
                        "FailedCreate",
                        &format!("Error creating: {err}"),
                    );
                }
            }
            result.map(|_| ())
        }
    });
    let deletions = plan.delete.iter().map(|pod| async move {
        let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
        let result = inner
            .pod_control
            .delete(
                pod.metadata.namespace.as_deref().unwrap_or_default(),
                pod_name,
            )
            .await;
        match &result {
            Ok(()) => inner.recorder.event(
                ds,
                EventType::Normal,
                "SuccessfulDelete",
                &format!("Deleted pod: {pod_name}"),
            ),
            Err(_) => inner
                .expectations
                .deletion_observed(key, &key_of(&pod.metadata)),
        }
        result
    });
    let created = futures_join_all(creations).await;
    let deleted = futures_join_all(deletions).await;
    match created.into_iter().chain(deleted).find_map(Result::err) {
        Some(err) => Err(format!("failed to manage daemon pods: {err}")),
        None => Ok(()),
    }
}

async fn update_status(
    inner: &Inner,
    ds: &DaemonSet,
    fits: &HashMap<String, nodes::NodeFit>,
    by_node: &BTreeMap<String, Vec<Pod>>,
    hash: &str,
    min_ready: i32,
    at: k8s_openapi::jiff::Timestamp,
) -> Result<(), String> {
    let mut status = DaemonSetStatus {
        collision_count: ds.status.as_ref().and_then(|status| status.collision_count),
        conditions: ds
            .status
            .as_ref()
            .and_then(|status| status.conditions.clone()),
        observed_generation: ds.metadata.generation,
        ..DaemonSetStatus::default()
    };
    for (node, fit) in fits {
        let pods: Vec<&Pod> = by_node
            .get(node)
            .into_iter()
            .flatten()
            .filter(|pod| !is_failed(pod))
            .collect();
        if fit.should_run {
            status.desired_number_scheduled += 1;
        }
        if pods.is_empty() {
            continue;
        }
        if !fit.should_run && !fit.should_continue_running {
            status.number_misscheduled += 1;
            continue;
        }
        status.current_number_scheduled += 1;
        let newest = pods
            .iter()
            .find(|pod| pod_hash(pod) == Some(hash))
            .or(pods.first())
            .copied();
        if let Some(pod) = newest {
            if is_pod_ready(pod) {
                status.number_ready += 1;
            }
            if is_pod_available(pod, min_ready, at) {
                *status.number_available.get_or_insert(0) += 1;
            }
            if pod_hash(pod) == Some(hash) {
                *status.updated_number_scheduled.get_or_insert(0) += 1;
            }
        }
    }
    for (node, pods) in by_node {
        if !fits.contains_key(node) && !pods.is_empty() {
            status.number_misscheduled += 1;
        }
    }
    let unavailable = status.desired_number_scheduled - status.number_available.unwrap_or(0);
    status.number_unavailable = Some(unavailable.max(0));

    let normalize = |status: &DaemonSetStatus| {
        let mut copy = status.clone();
        for field in [
            &mut copy.number_available,
            &mut copy.number_unavailable,
            &mut copy.updated_number_scheduled,
        ] {
            if *field == Some(0) {
                *field = None;
            }
        }
        copy
    };
    if ds.status.as_ref().map(normalize) == Some(normalize(&status)) {
        return Ok(());
    }
    let mut copy = ds.clone();
    copy.status = Some(status);
    Api::<DaemonSet>::namespaced(
        inner.client.clone(),
        ds.metadata.namespace.as_deref().unwrap_or("default"),
    )
    .replace_status(ds.metadata.name.as_deref().unwrap_or_default(), &copy)
    .await
    .map(|_| ())
    .map_err(|err| format!("failed to update daemon set status: {err}"))
}
