//! The StatefulSet controller: pods with stable names (`<set>-<ordinal>`), stable
//! storage (one PersistentVolumeClaim per volumeClaimTemplate and ordinal) and
//! ordered or parallel management, updated by RollingUpdate with a partition or
//! OnDelete, with the template history kept in ControllerRevisions.
//!
//! Entry point: [`StatefulSetController::new`] then [`StatefulSetController::run`].
//!
//! Under OrderedReady, a sync creates at most one missing pod and waits until every
//! lower ordinal is Running and Ready before it creates, deletes or updates the
//! next; scale-down removes the highest ordinal first. Parallel skips the waiting.

mod pods;

use std::collections::BTreeMap;
use std::sync::Arc;

use client::api::{Api, PostParams};
use client::informer::{DeletedObject, EventHandlerFuncs, SharedIndexInformer};
use client::rest::RestClient;
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, PodTemplateSpec};
use tokio::sync::watch;

use crate::client_ext::InformerExt;
use crate::context::ControllerContext;
use crate::controller_utils::{
    claim, claim_candidates, controlled_by, controller_ref, is_pod_available, key_of,
    new_controller_ref, now,
};
use crate::events::{EventRecorder, EventType};
use crate::history::{revision_hash, sync_revision, truncate_history};
use crate::replicaset::wait_for_synced;
use crate::worker::{new_queue, run_workers};
use pods::{is_running_and_ready, new_stateful_pod, ordinal_of, pod_revision};

const CONTROLLER_NAME: &str = "statefulset-controller";

struct Inner {
    sets: SharedIndexInformer<StatefulSet>,
    pods: SharedIndexInformer<Pod>,
    queue: RateLimitingQueue<String>,
    client: RestClient,
    recorder: EventRecorder,
}

/// The StatefulSet controller.
pub struct StatefulSetController {
    inner: Arc<Inner>,
}

impl StatefulSetController {
    /// Builds the controller and registers its handlers on the StatefulSet and pod
    /// informers of `ctx`.
    pub fn new(ctx: &ControllerContext) -> Self {
        let inner = Arc::new(Inner {
            sets: ctx.informers.informer::<StatefulSet>(),
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
            &[&|| inner.sets.has_synced(), &|| inner.pods.has_synced()],
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

fn owner_key(inner: &Inner, pod: &Pod) -> Option<String> {
    let reference = controller_ref(&pod.metadata)?;
    if reference.kind != "StatefulSet" {
        return None;
    }
    let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
    let set = inner.sets.get(namespace, &reference.name)?;
    (set.metadata.uid.as_deref() == Some(reference.uid.as_str())).then(|| key_of(&set.metadata))
}

fn register_handlers(inner: &Arc<Inner>) {
    let (on_add, on_update) = (Arc::clone(inner), Arc::clone(inner));
    inner.sets.register(
        EventHandlerFuncs::new()
            .on_add(move |set: &Arc<StatefulSet>, _initial| on_add.queue.add(key_of(&set.metadata)))
            .on_update(move |_old, set: &Arc<StatefulSet>| {
                on_update.queue.add(key_of(&set.metadata))
            }),
    );
    let (on_add, on_update, on_delete) = (Arc::clone(inner), Arc::clone(inner), Arc::clone(inner));
    inner.pods.register(
        EventHandlerFuncs::new()
            .on_add(move |pod: &Arc<Pod>, _initial| {
                if let Some(key) = owner_key(&on_add, pod) {
                    on_add.queue.add(key);
                }
            })
            .on_update(move |_old, pod: &Arc<Pod>| {
                if let Some(key) = owner_key(&on_update, pod) {
                    on_update.queue.add(key);
                }
            })
            .on_delete(move |deleted: DeletedObject<Pod>| {
                if let Some(pod) = deleted.object()
                    && let Some(key) = owner_key(&on_delete, pod)
                {
                    on_delete.queue.add(key);
                }
            }),
    );
}

/// Builds the revision data of a template: a strategic merge patch replacing it.
fn revision_data(template: &PodTemplateSpec) -> serde_json::Value {
    let mut data = serde_json::json!({ "spec": {} });
    data["spec"]["template"] = serde_json::to_value(template).unwrap_or_default();
    data["spec"]["template"]["$patch"] = serde_json::Value::String("replace".into());
    data
}

/// Decodes the template a revision stores.
fn template_of(revision: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut template = revision
        .data
        .as_ref()?
        .0
        .get("spec")?
        .get("template")?
        .clone();
    template.as_object_mut()?.remove("$patch");
    serde_json::from_value(template).ok()
}

/// Syncs the StatefulSet stored under `key`.
async fn sync(inner: &Inner, key: &str) -> Result<(), String> {
    let Some((namespace, name)) = key.split_once('/') else {
        return Ok(());
    };
    let Some(cached) = inner.sets.get(namespace, name) else {
        return Ok(());
    };
    let set = cached.as_ref().clone();
    let spec = set.spec.clone().unwrap_or_default();
    let selector = apimachinery::labels::label_selector_as_selector(Some(&spec.selector))
        .map_err(|err| format!("invalid selector: {err}"))?;

    let candidates: Vec<Pod> = claim_candidates(
        &inner.pods,
        namespace,
        set.metadata.uid.as_deref(),
        &selector,
    )
    .into_iter()
    .map(|pod| pod.as_ref().clone())
    .collect();
    let (pods, claim_error) = claim(
        &inner.client,
        &set.metadata,
        &new_controller_ref(&set),
        &selector,
        candidates,
    )
    .await;
    if let Some(err) = claim_error {
        return Err(format!("failed to claim pods: {err}"));
    }

    let collision_count = set
        .status
        .as_ref()
        .and_then(|status| status.collision_count);
    let revisions = sync_revision(
        &inner.client,
        &set,
        revision_data(&spec.template),
        spec.selector.match_labels.clone().unwrap_or_default(),
        collision_count,
    )
    .await?;
    let update_revision = revisions.current.clone();
    let update_name = update_revision.metadata.name.clone().unwrap_or_default();
    let status = set.status.clone().unwrap_or_default();
    let current_revision = status
        .current_revision
        .as_ref()
        .and_then(|current| {
            revisions
                .old
                .iter()
                .chain([&update_revision])
                .find(|revision| revision.metadata.name.as_ref() == Some(current))
        })
        .cloned()
        .unwrap_or_else(|| update_revision.clone());

    let outcome = update_pods(inner, &set, &pods, &current_revision, &update_revision).await;

    // Pods carry the revision name; the history keeps revisions by hash.
    let live_names: Vec<&str> = pods.iter().filter_map(pod_revision).collect();
    let live_hashes: Vec<String> = revisions
        .old
        .iter()
        .chain([&current_revision, &update_revision])
        .filter(|revision| {
            let name = revision.metadata.name.as_deref().unwrap_or_default();
            live_names.contains(&name) || revision.metadata.name == current_revision.metadata.name
        })
        .filter_map(|revision| revision_hash(revision).map(str::to_string))
        .collect();
    truncate_history(
        &inner.client,
        namespace,
        &revisions.old,
        &live_hashes,
        spec.revision_history_limit.unwrap_or(10),
    )
    .await?;

    let fresh: Vec<Pod> = controlled_by(&inner.pods, namespace, &|uid| {
        set.metadata.uid.as_deref() == Some(uid)
    })
    .into_iter()
    .map(|pod| pod.as_ref().clone())
    .collect();
    write_status(inner, &set, &fresh, &current_revision, &update_name).await?;
    outcome
}

fn replicas(set: &StatefulSet) -> i32 {
    set.spec
        .as_ref()
        .and_then(|spec| spec.replicas)
        .unwrap_or(1)
}

fn start_ordinal(set: &StatefulSet) -> i32 {
    set.spec
        .as_ref()
        .and_then(|spec| spec.ordinals.as_ref())
        .and_then(|ordinals| ordinals.start)
        .unwrap_or(0)
}

fn is_parallel(set: &StatefulSet) -> bool {
    set.spec
        .as_ref()
        .and_then(|spec| spec.pod_management_policy.as_deref())
        == Some("Parallel")
}

/// Creates, deletes and updates pods toward the spec (upstream
/// `defaultStatefulSetControl.updateStatefulSet`).
///
/// NOTE: rollingUpdate.maxUnavailable and persistentVolumeClaimRetentionPolicy are
/// ignored: updates replace one pod at a time and claims are always retained.
async fn update_pods(
    inner: &Inner,
    set: &StatefulSet,
    pods: &[Pod],
    current: &ControllerRevision,
    update: &ControllerRevision,
) -> Result<(), String> {
    let set_name = set.metadata.name.clone().unwrap_or_default();
    let namespace = set.metadata.namespace.clone().unwrap_or_default();
    let start = start_ordinal(set);
    let count = replicas(set).max(0);
    let monotonic = !is_parallel(set);

    let mut slots: BTreeMap<i32, Pod> = BTreeMap::new();
    let mut condemned: Vec<Pod> = Vec::new();
    for pod in pods {
        match ordinal_of(pod, &set_name) {
            Some(ordinal) if ordinal >= start && ordinal < start + count => {
                slots.insert(ordinal, pod.clone());
            }
            Some(_) => condemned.push(pod.clone()),
            None => {}
        }
    }
    condemned.sort_by_key(|pod| std::cmp::Reverse(ordinal_of(pod, &set_name)));

    let pod_api: Api<Pod> = Api::namespaced(inner.client.clone(), &namespace);
    let current_template = template_of(current).unwrap_or_default();
    let update_template = template_of(update).unwrap_or_default();
    let current_name = current.metadata.name.clone().unwrap_or_default();
    let update_name = update.metadata.name.clone().unwrap_or_default();
    let partition = set
        .spec
        .as_ref()
        .and_then(|spec| spec.update_strategy.as_ref())
        .and_then(|strategy| strategy.rolling_update.as_ref())
        .and_then(|rolling| rolling.partition);
    let rolling = set
        .spec
        .as_ref()
        .and_then(|spec| spec.update_strategy.as_ref())
        .and_then(|strategy| strategy.type_.as_deref())
        .is_none_or(|kind| kind == "RollingUpdate");
    let current_replicas = set
        .status
        .as_ref()
        .and_then(|status| status.current_replicas)
        .unwrap_or(0);

    for ordinal in start..start + count {
        let Some(pod) = slots.get(&ordinal) else {
            let use_current = rolling
                && current_name != update_name
                && match partition {
                    Some(partition) => ordinal - start < partition,
                    None => ordinal - start < current_replicas,
                };
            let (template, revision) = if use_current {
                (&current_template, &current_name)
            } else {
                (&update_template, &update_name)
            };
            let pod = new_stateful_pod(set, template, ordinal, revision);
            create_claims(inner, set, ordinal).await?;
            match pod_api.create(&pod, &PostParams::default()).await {
                Ok(_) => inner.recorder.event(
                    set,
                    EventType::Normal,
                    "SuccessfulCreate",
                    &format!(
                        "create Pod {} in StatefulSet {set_name} successful",
                        pod.metadata.name.as_deref().unwrap_or_default()
                    ),
                ),
                Err(err) if err.is_already_exists() => {}
                Err(err) => {
                    inner.recorder.event(
                        set,
                        EventType::Warning,
                        "FailedCreate",
                        &format!(
                            "create Pod {} in StatefulSet {set_name} failed error: {err}",
                            pod.metadata.name.as_deref().unwrap_or_default()
                        ),
                    );
                    return Err(format!("failed to create pod: {err}"));
                }
            }
            if monotonic {
                return Ok(());
            }
            continue;
        };
        if pod
            .status
            .as_ref()
            .and_then(|status| status.phase.as_deref())
            == Some("Failed")
            && pod.metadata.deletion_timestamp.is_none()
        {
            delete_pod(inner, set, pod).await?;
            if monotonic {
                return Ok(());
            }
            continue;
        }
        if monotonic && (pod.metadata.deletion_timestamp.is_some() || !is_running_and_ready(pod)) {
            return Ok(());
        }
    }

    for pod in &condemned {
        if pod.metadata.deletion_timestamp.is_some() {
            if monotonic {
                return Ok(());
            }
            continue;
        }
        delete_pod(inner, set, pod).await?;
        if monotonic {
            return Ok(());
        }
    }

    if !rolling {
        return Ok(());
    }
    let lowest = start + partition.unwrap_or(0).max(0);
    for ordinal in (lowest..start + count).rev() {
        let Some(pod) = slots.get(&ordinal) else {
            return Ok(());
        };
        if pod_revision(pod) != Some(update_name.as_str()) {
            if pod.metadata.deletion_timestamp.is_none() {
                delete_pod(inner, set, pod).await?;
            }
            return Ok(());
        }
        if !is_running_and_ready(pod) {
            return Ok(());
        }
    }
    Ok(())
}

async fn delete_pod(inner: &Inner, set: &StatefulSet, pod: &Pod) -> Result<(), String> {
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let set_name = set.metadata.name.as_deref().unwrap_or_default();
    inner.recorder.event(
        set,
        EventType::Normal,
        "SuccessfulDelete",
        &format!("delete Pod {name} in StatefulSet {set_name} successful"),
    );
    crate::controller_utils::PodControl::new(inner.client.clone())
        .delete(pod.metadata.namespace.as_deref().unwrap_or_default(), name)
        .await
        .map_err(|err| format!("failed to delete pod {name}: {err}"))
}

/// Creates the claims of `ordinal` that do not exist yet.
async fn create_claims(inner: &Inner, set: &StatefulSet, ordinal: i32) -> Result<(), String> {
    let namespace = set.metadata.namespace.clone().unwrap_or_default();
    let api: Api<PersistentVolumeClaim> = Api::namespaced(inner.client.clone(), &namespace);
    for claim in pods::claims_for(set, ordinal) {
        let claim_name = claim.metadata.name.clone().unwrap_or_default();
        if api
            .get_opt(&claim_name)
            .await
            .map_err(|err| format!("failed to read claim {claim_name}: {err}"))?
            .is_some()
        {
            continue;
        }
        match api.create(&claim, &PostParams::default()).await {
            Ok(_) => inner.recorder.event(
                set,
                EventType::Normal,
                "SuccessfulCreate",
                &format!(
                    "create Claim {claim_name} for Pod {}-{ordinal} in StatefulSet {} success",
                    set.metadata.name.as_deref().unwrap_or_default(),
                    set.metadata.name.as_deref().unwrap_or_default()
                ),
            ),
            Err(err) if err.is_already_exists() => {}
            Err(err) => return Err(format!("failed to create claim {claim_name}: {err}")),
        }
    }
    Ok(())
}

async fn write_status(
    inner: &Inner,
    set: &StatefulSet,
    pods: &[Pod],
    current: &ControllerRevision,
    update_name: &str,
) -> Result<(), String> {
    let set_name = set.metadata.name.clone().unwrap_or_default();
    let current_name = current.metadata.name.clone().unwrap_or_default();
    let min_ready = set
        .spec
        .as_ref()
        .and_then(|spec| spec.min_ready_seconds)
        .unwrap_or(0);
    let at = now();
    let live: Vec<&Pod> = pods
        .iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .collect();

    let mut status = StatefulSetStatus {
        observed_generation: set.metadata.generation,
        collision_count: set
            .status
            .as_ref()
            .and_then(|status| status.collision_count),
        conditions: set
            .status
            .as_ref()
            .and_then(|status| status.conditions.clone()),
        replicas: live.len() as i32,
        ready_replicas: Some(live.iter().filter(|pod| is_running_and_ready(pod)).count() as i32),
        available_replicas: Some(
            live.iter()
                .filter(|pod| is_running_and_ready(pod) && is_pod_available(pod, min_ready, at))
                .count() as i32,
        ),
        current_replicas: Some(
            live.iter()
                .filter(|pod| pod_revision(pod) == Some(current_name.as_str()))
                .count() as i32,
        ),
        updated_replicas: Some(
            live.iter()
                .filter(|pod| pod_revision(pod) == Some(update_name))
                .count() as i32,
        ),
        current_revision: Some(current_name.clone()),
        update_revision: Some(update_name.to_string()),
    };
    // The rollout is complete once every replica runs the update revision.
    if status.updated_replicas == Some(replicas(set))
        && status.ready_replicas == Some(replicas(set))
    {
        status.current_revision = Some(update_name.to_string());
        status.current_replicas = status.updated_replicas;
    }

    let normalize = |status: &StatefulSetStatus| {
        let mut copy = status.clone();
        for field in [
            &mut copy.ready_replicas,
            &mut copy.available_replicas,
            &mut copy.current_replicas,
            &mut copy.updated_replicas,
        ] {
            if *field == Some(0) {
                *field = None;
            }
        }
        copy
    };
    if set.status.as_ref().map(normalize) == Some(normalize(&status)) {
        return Ok(());
    }
    let mut copy = set.clone();
    copy.status = Some(status);
    Api::<StatefulSet>::namespaced(
        inner.client.clone(),
        set.metadata.namespace.as_deref().unwrap_or("default"),
    )
    .replace_status(&set_name, &copy)
    .await
    .map(|_| ())
    .map_err(|err| format!("failed to update stateful set status: {err}"))
}
