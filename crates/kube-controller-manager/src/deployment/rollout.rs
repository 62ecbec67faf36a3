//! One Deployment sync: claim ReplicaSets, then scale or roll out, then write the
//! status (upstream `syncDeployment`, `rolloutRolling`, `rolloutRecreate`, `sync`
//! and `syncRolloutStatus`).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::jiff::Timestamp;

use super::util::*;
use super::{Inner, deployment_selector};
use crate::client_ext::InformerExt;
use crate::controller_utils::{
    claim, claim_candidates, controlled_by, controller_ref, new_controller_ref, now,
};
use crate::events::EventType;
use client::api::{Api, DeleteParams, PostParams};

/// The Deployment's ReplicaSets split into the one matching its template and the
/// rest.
struct ReplicaSets {
    new: Option<ReplicaSet>,
    old: Vec<ReplicaSet>,
}

impl ReplicaSets {
    fn all(&self) -> Vec<&ReplicaSet> {
        self.old.iter().chain(self.new.as_ref()).collect()
    }

    /// Replaces the copy with the same uid by `updated`.
    fn store(&mut self, updated: ReplicaSet) {
        if let Some(new) = self.new.as_mut()
            && new.metadata.uid == updated.metadata.uid
        {
            *new = updated;
            return;
        }
        if let Some(old) = self
            .old
            .iter_mut()
            .find(|old| old.metadata.uid == updated.metadata.uid)
        {
            *old = updated;
        }
    }
}

/// Returns the current time at whole seconds, the precision the API keeps.
fn now_seconds() -> Timestamp {
    Timestamp::from_second(now().as_second()).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn by_creation(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    let created = |rs: &ReplicaSet| rs.metadata.creation_timestamp.as_ref().map(|time| time.0);
    created(a)
        .cmp(&created(b))
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

fn name(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or_default()
}

fn template(d: &Deployment) -> PodTemplateSpec {
    d.spec
        .as_ref()
        .map(|spec| spec.template.clone())
        .unwrap_or_default()
}

fn rs_template(rs: &ReplicaSet) -> PodTemplateSpec {
    rs.spec
        .as_ref()
        .and_then(|spec| spec.template.clone())
        .unwrap_or_default()
}

fn is_paused(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|spec| spec.paused)
        .unwrap_or(false)
}

/// Syncs the Deployment stored under `key`.
pub(super) async fn sync_deployment(inner: &Inner, key: &str) -> Result<(), String> {
    let Some((namespace, name_)) = key.split_once('/') else {
        return Ok(());
    };
    let Some(cached) = inner.deployments.get(namespace, name_) else {
        tracing::debug!(deployment = key, "deployment deleted");
        return Ok(());
    };
    let mut d = cached.as_ref().clone();

    let selector = deployment_selector(&d)?;
    if selector.is_empty() {
        inner.recorder.event(
            &d,
            EventType::Warning,
            "SelectingAll",
            "This deployment is selecting all pods. A non-empty selector is required.",
        );
        let mut status = d.status.clone().unwrap_or_default();
        if status.observed_generation < d.metadata.generation {
            status.observed_generation = d.metadata.generation;
            update_status(inner, &d, status).await?;
        }
        return Ok(());
    }

    let candidates: Vec<ReplicaSet> = claim_candidates(
        &inner.replica_sets,
        namespace,
        d.metadata.uid.as_deref(),
        &selector,
    )
    .into_iter()
    .map(|rs| rs.as_ref().clone())
    .collect();
    let (rss, error) = claim(
        &inner.client,
        &d.metadata,
        &new_controller_ref(&d),
        &selector,
        candidates,
    )
    .await;
    if let Some(err) = error {
        return Err(format!("failed to claim replica sets: {err}"));
    }

    if d.metadata.deletion_timestamp.is_some() {
        let sets = split_replica_sets(&d, rss);
        return sync_deployment_status(inner, &d, &sets).await;
    }

    d = check_paused_conditions(inner, d).await?;
    if is_paused(&d) || is_scaling_event(&d, &rss) {
        return sync_scale(inner, d, rss).await;
    }
    if is_recreate(&d) {
        rollout_recreate(inner, d, rss).await
    } else {
        rollout_rolling(inner, d, rss).await
    }
}

fn split_replica_sets(d: &Deployment, mut rss: Vec<ReplicaSet>) -> ReplicaSets {
    rss.sort_by(by_creation);
    let wanted = template(d);
    let position = rss
        .iter()
        .position(|rs| templates_equal_ignoring_hash(&rs_template(rs), &wanted));
    let new = position.map(|index| rss.remove(index));
    ReplicaSets { new, old: rss }
}

/// Returns whether a ReplicaSet was last sized for other Deployment replicas than now.
fn is_scaling_event(d: &Deployment, rss: &[ReplicaSet]) -> bool {
    let replicas = deployment_replicas(d);
    rss.iter()
        .filter(|rs| rs_replicas(rs) > 0)
        .filter_map(|rs| int_annotation(rs, DESIRED_REPLICAS_ANNOTATION))
        .any(|desired| desired != replicas)
}

/// Finds the new ReplicaSet and brings its revision and annotations up to date, or
/// creates it when `create` and none matches the template.
async fn get_all_replica_sets(
    inner: &Inner,
    d: &mut Deployment,
    rss: Vec<ReplicaSet>,
    create: bool,
) -> Result<ReplicaSets, String> {
    let mut sets = split_replica_sets(d, rss);
    let old_refs: Vec<&ReplicaSet> = sets.old.iter().collect();
    let new_revision = max_revision(&old_refs) + 1;

    let new_rs = match sets.new.take() {
        Some(existing) => Some(sync_existing_new_rs(inner, d, existing, new_revision).await?),
        None if create => Some(create_new_rs(inner, d, &sets, new_revision).await?),
        None => None,
    };
    sets.new = new_rs;

    if let Some(new) = &sets.new {
        let rs_revision = revision(new).to_string();
        let current = d
            .metadata
            .annotations
            .as_ref()
            .and_then(|annotations| annotations.get(REVISION_ANNOTATION));
        if current != Some(&rs_revision) {
            let patch = serde_json::json!({
                "metadata": { "annotations": { REVISION_ANNOTATION: rs_revision } }
            });
            let api = Api::<Deployment>::namespaced(inner.client.clone(), namespace_of(d));
            match api
                .patch(name(&d.metadata), client::rest::PatchType::Merge, &patch)
                .await
            {
                Ok(updated) => {
                    d.metadata = updated.metadata;
                }
                Err(err) => return Err(format!("failed to set the deployment revision: {err}")),
            }
        }
    }
    Ok(sets)
}

fn namespace_of(d: &Deployment) -> &str {
    d.metadata.namespace.as_deref().unwrap_or("default")
}

async fn sync_existing_new_rs(
    inner: &Inner,
    d: &mut Deployment,
    existing: ReplicaSet,
    new_revision: i64,
) -> Result<ReplicaSet, String> {
    let mut copy = existing.clone();
    let annotations_changed =
        set_new_rs_annotations(d, &mut copy, new_revision.max(revision(&existing)));
    let min_ready = d.spec.as_ref().and_then(|spec| spec.min_ready_seconds);
    let spec = copy.spec.get_or_insert_with(ReplicaSetSpec::default);
    let min_ready_changed = spec.min_ready_seconds != min_ready;
    spec.min_ready_seconds = min_ready;

    let mut result = existing;
    if annotations_changed || min_ready_changed {
        let api = Api::<ReplicaSet>::namespaced(inner.client.clone(), namespace_of(d));
        result = api
            .replace(name(&copy.metadata), &copy)
            .await
            .map_err(|err| {
                format!(
                    "failed to update replica set {}: {err}",
                    name(&copy.metadata)
                )
            })?;
    }

    let mut status = d.status.clone().unwrap_or_default();
    if has_progress_deadline(d) && get_condition(&status, CONDITION_PROGRESSING).is_none() {
        let message = format!("Found new replica set {:?}", name(&result.metadata));
        set_condition(
            &mut status,
            new_condition(
                CONDITION_PROGRESSING,
                "True",
                REASON_FOUND_NEW_RS,
                message,
                now_seconds(),
            ),
        );
        *d = update_status(inner, d, status).await?;
    }
    Ok(result)
}

async fn create_new_rs(
    inner: &Inner,
    d: &mut Deployment,
    sets: &ReplicaSets,
    new_revision: i64,
) -> Result<ReplicaSet, String> {
    let collision_count = d.status.as_ref().and_then(|status| status.collision_count);
    let mut pod_template = template(d);
    let hash = compute_hash(&pod_template, collision_count);
    let pod_meta = pod_template
        .metadata
        .get_or_insert_with(ObjectMeta::default);
    pod_meta
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(POD_TEMPLATE_HASH_LABEL.to_string(), hash.clone());

    let mut selector: LabelSelector = d
        .spec
        .as_ref()
        .map(|spec| spec.selector.clone())
        .unwrap_or_default();
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .insert(POD_TEMPLATE_HASH_LABEL.to_string(), hash.clone());

    let all = sets.all();
    let replicas = new_rs_new_replicas(d, &all, 0)?;
    let mut labels = d
        .spec
        .as_ref()
        .and_then(|spec| spec.template.metadata.as_ref())
        .and_then(|meta| meta.labels.clone())
        .unwrap_or_default();
    labels.insert(POD_TEMPLATE_HASH_LABEL.to_string(), hash.clone());

    let mut rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(format!("{}-{hash}", name(&d.metadata))),
            namespace: d.metadata.namespace.clone(),
            labels: Some(labels),
            owner_references: Some(vec![new_controller_ref(d)]),
            ..ObjectMeta::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(replicas),
            min_ready_seconds: d.spec.as_ref().and_then(|spec| spec.min_ready_seconds),
            selector,
            template: Some(pod_template),
        }),
        status: None,
    };
    set_new_rs_annotations(d, &mut rs, new_revision);
    let desired = deployment_replicas(d);
    set_replicas_annotations(&mut rs, desired, desired + max_surge(d));

    let api = Api::<ReplicaSet>::namespaced(inner.client.clone(), namespace_of(d));
    let created = match api.create(&rs, &PostParams::default()).await {
        Ok(created) => created,
        Err(err) if err.is_already_exists() => {
            return adopt_existing_or_collide(inner, d, &rs).await;
        }
        Err(err) => {
            let message = format!(
                "Failed to create new replica set {:?}: {err}",
                name(&rs.metadata)
            );
            inner
                .recorder
                .event(d, EventType::Warning, "FailedCreate", &message);
            if has_progress_deadline(d) {
                let mut status = d.status.clone().unwrap_or_default();
                set_condition(
                    &mut status,
                    new_condition(
                        CONDITION_PROGRESSING,
                        "False",
                        REASON_FAILED_RS_CREATE,
                        message.clone(),
                        now_seconds(),
                    ),
                );
                update_status(inner, d, status).await?;
            }
            return Err(message);
        }
    };

    if replicas > 0 {
        inner.recorder.event(
            d,
            EventType::Normal,
            "ScalingReplicaSet",
            &format!(
                "Scaled up replica set {} from 0 to {replicas}",
                name(&created.metadata)
            ),
        );
    }
    if has_progress_deadline(d) {
        let mut status = d.status.clone().unwrap_or_default();
        let message = format!("Created new replica set {:?}", name(&created.metadata));
        set_condition(
            &mut status,
            new_condition(
                CONDITION_PROGRESSING,
                "True",
                REASON_NEW_RS_CREATED,
                message,
                now_seconds(),
            ),
        );
        *d = update_status(inner, d, status).await?;
    }
    Ok(created)
}

/// Handles a name conflict on create: the existing ReplicaSet is ours if this
/// Deployment controls it and its template matches (a stale cache). Otherwise
/// the hash collided, and the collision count is bumped so the next sync picks
/// another name.
async fn adopt_existing_or_collide(
    inner: &Inner,
    d: &mut Deployment,
    wanted: &ReplicaSet,
) -> Result<ReplicaSet, String> {
    let api = Api::<ReplicaSet>::namespaced(inner.client.clone(), namespace_of(d));
    let existing = api.get(name(&wanted.metadata)).await.map_err(|err| {
        format!(
            "failed to read replica set {}: {err}",
            name(&wanted.metadata)
        )
    })?;
    let ours =
        controller_ref(&existing.metadata).is_some_and(|r| Some(&r.uid) == d.metadata.uid.as_ref());
    if ours && templates_equal_ignoring_hash(&rs_template(&existing), &template(d)) {
        return Ok(existing);
    }
    let mut status = d.status.clone().unwrap_or_default();
    status.collision_count = Some(status.collision_count.unwrap_or(0) + 1);
    tracing::warn!(
        deployment = name(&d.metadata),
        replicaset = name(&wanted.metadata),
        "pod-template-hash collision"
    );
    update_status(inner, d, status).await?;
    Err(format!(
        "hash collision for replica set {}; retrying with a new collision count",
        name(&wanted.metadata)
    ))
}

/// Sets the ReplicaSet's replicas and replica annotations; returns whether the
/// size changed.
async fn scale_replica_set(
    inner: &Inner,
    d: &Deployment,
    sets: &mut ReplicaSets,
    rs: &ReplicaSet,
    new_scale: i32,
) -> Result<bool, String> {
    let old_scale = rs_replicas(rs);
    let mut copy = rs.clone();
    let desired = deployment_replicas(d);
    let annotations_changed = set_replicas_annotations(&mut copy, desired, desired + max_surge(d));
    if old_scale == new_scale && !annotations_changed {
        return Ok(false);
    }
    copy.spec
        .get_or_insert_with(ReplicaSetSpec::default)
        .replicas = Some(new_scale);
    let api = Api::<ReplicaSet>::namespaced(inner.client.clone(), namespace_of(d));
    let updated = api
        .replace(name(&copy.metadata), &copy)
        .await
        .map_err(|err| {
            format!(
                "failed to scale replica set {}: {err}",
                name(&copy.metadata)
            )
        })?;
    if old_scale != new_scale {
        let direction = if new_scale > old_scale { "up" } else { "down" };
        inner.recorder.event(
            d,
            EventType::Normal,
            "ScalingReplicaSet",
            &format!(
                "Scaled {direction} replica set {} from {old_scale} to {new_scale}",
                name(&rs.metadata)
            ),
        );
        tracing::info!(
            deployment = name(&d.metadata),
            replicaset = name(&rs.metadata),
            from = old_scale,
            to = new_scale,
            "scaled replica set"
        );
    }
    sets.store(updated);
    Ok(old_scale != new_scale)
}

async fn rollout_rolling(
    inner: &Inner,
    mut d: Deployment,
    rss: Vec<ReplicaSet>,
) -> Result<(), String> {
    let mut sets = get_all_replica_sets(inner, &mut d, rss, true).await?;

    if reconcile_new_replica_set(inner, &d, &mut sets).await? {
        return sync_rollout_status(inner, &d, &sets).await;
    }
    if reconcile_old_replica_sets(inner, &d, &mut sets).await? {
        return sync_rollout_status(inner, &d, &sets).await;
    }
    if deployment_complete(&d, &d.status.clone().unwrap_or_default()) {
        cleanup_deployment(inner, &d, &sets.old).await?;
    }
    sync_rollout_status(inner, &d, &sets).await
}

async fn reconcile_new_replica_set(
    inner: &Inner,
    d: &Deployment,
    sets: &mut ReplicaSets,
) -> Result<bool, String> {
    let Some(new) = sets.new.clone() else {
        return Ok(false);
    };
    let replicas = deployment_replicas(d);
    let current = rs_replicas(&new);
    if current == replicas {
        return Ok(false);
    }
    if current > replicas {
        return scale_replica_set(inner, d, sets, &new, replicas).await;
    }
    let target = new_rs_new_replicas(d, &sets.all(), current)?;
    scale_replica_set(inner, d, sets, &new, target).await
}

/// Scales old ReplicaSets down as far as maxUnavailable allows: unhealthy
/// replicas first, then available ones, oldest ReplicaSet first.
async fn reconcile_old_replica_sets(
    inner: &Inner,
    d: &Deployment,
    sets: &mut ReplicaSets,
) -> Result<bool, String> {
    let old_pods: i32 = sets.old.iter().map(rs_replicas).sum();
    if old_pods == 0 {
        return Ok(false);
    }
    let all_pods: i32 = sets.all().iter().map(|rs| rs_replicas(rs)).sum();
    let replicas = deployment_replicas(d);
    let min_available = replicas - max_unavailable(d);
    let new_unavailable = sets
        .new
        .as_ref()
        .map_or(0, |new| rs_replicas(new) - rs_status_counts(new).2);
    let max_scaled_down = all_pods - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Ok(false);
    }

    let mut total_scaled_down = 0;
    let mut old: Vec<ReplicaSet> = sets
        .old
        .iter()
        .filter(|rs| rs_replicas(rs) > 0)
        .cloned()
        .collect();
    old.sort_by(by_creation);
    for rs in &old {
        if total_scaled_down >= max_scaled_down {
            break;
        }
        let current = rs_replicas(rs);
        let available = rs_status_counts(rs).2;
        let count = unhealthy_scale_down(current, available, max_scaled_down - total_scaled_down);
        if count == 0 {
            continue;
        }
        scale_replica_set(inner, d, sets, rs, current - count).await?;
        total_scaled_down += count;
    }

    let available_pods: i32 = sets.all().iter().map(|rs| rs_status_counts(rs).2).sum();
    if available_pods > min_available {
        let total_scale_down = available_pods - min_available;
        let mut scaled = 0;
        let mut old: Vec<ReplicaSet> = sets
            .old
            .iter()
            .filter(|rs| rs_replicas(rs) > 0)
            .cloned()
            .collect();
        old.sort_by(by_creation);
        for rs in &old {
            if scaled >= total_scale_down {
                break;
            }
            let current = rs_replicas(rs);
            let count = current.min(total_scale_down - scaled);
            scale_replica_set(inner, d, sets, rs, current - count).await?;
            scaled += count;
        }
        total_scaled_down += scaled;
    }
    Ok(total_scaled_down > 0)
}

async fn rollout_recreate(
    inner: &Inner,
    mut d: Deployment,
    rss: Vec<ReplicaSet>,
) -> Result<(), String> {
    let mut sets = get_all_replica_sets(inner, &mut d, rss, false).await?;

    let mut scaled_down = false;
    let active_old: Vec<ReplicaSet> = sets
        .old
        .iter()
        .filter(|rs| rs_replicas(rs) > 0)
        .cloned()
        .collect();
    for rs in &active_old {
        scaled_down |= scale_replica_set(inner, &d, &mut sets, rs, 0).await?;
    }
    if scaled_down || old_pods_running(inner, &sets) {
        return sync_rollout_status(inner, &d, &sets).await;
    }

    if sets.new.is_none() {
        let rss: Vec<ReplicaSet> = sets.old.clone();
        sets = get_all_replica_sets(inner, &mut d, rss, true).await?;
    }
    if let Some(new) = sets.new.clone() {
        let replicas = deployment_replicas(&d);
        if rs_replicas(&new) != replicas {
            scale_replica_set(inner, &d, &mut sets, &new, replicas).await?;
        }
    }
    if deployment_complete(&d, &d.status.clone().unwrap_or_default()) {
        cleanup_deployment(inner, &d, &sets.old).await?;
    }
    sync_rollout_status(inner, &d, &sets).await
}

/// Returns whether any pod of an old ReplicaSet may still run.
fn old_pods_running(inner: &Inner, sets: &ReplicaSets) -> bool {
    if sets.old.iter().any(|rs| rs_status_counts(rs).0 > 0) {
        return true;
    }
    let old_uids: Vec<&str> = sets
        .old
        .iter()
        .filter_map(|rs| rs.metadata.uid.as_deref())
        .collect();
    let Some(namespace) = sets
        .old
        .first()
        .and_then(|rs| rs.metadata.namespace.as_deref())
    else {
        return false;
    };
    controlled_by(&inner.pods, namespace, &|uid| old_uids.contains(&uid))
        .iter()
        .any(|pod| {
            !matches!(
                pod.status
                    .as_ref()
                    .and_then(|status| status.phase.as_deref()),
                Some("Failed") | Some("Succeeded")
            )
        })
}

/// Scales without rolling out: paused Deployments and replica changes.
async fn sync_scale(inner: &Inner, mut d: Deployment, rss: Vec<ReplicaSet>) -> Result<(), String> {
    let mut sets = get_all_replica_sets(inner, &mut d, rss, false).await?;
    scale(inner, &d, &mut sets).await?;
    if is_paused(&d) {
        cleanup_deployment(inner, &d, &sets.old).await?;
    }
    sync_deployment_status(inner, &d, &sets).await
}

/// Brings the total replicas to the Deployment's: one active ReplicaSet takes all
/// of them; otherwise the change is spread proportionally to each ReplicaSet's
/// size (upstream `scale`).
async fn scale(inner: &Inner, d: &Deployment, sets: &mut ReplicaSets) -> Result<(), String> {
    let replicas = deployment_replicas(d);
    let active: Vec<ReplicaSet> = sets
        .all()
        .into_iter()
        .filter(|rs| rs_replicas(rs) > 0)
        .cloned()
        .collect();

    let single = match active.len() {
        0 => sets.new.clone().or_else(|| {
            let mut old = sets.old.clone();
            old.sort_by(by_creation);
            old.pop()
        }),
        1 => Some(active[0].clone()),
        _ => None,
    };
    if let Some(rs) = single {
        if rs_replicas(&rs) != replicas {
            scale_replica_set(inner, d, sets, &rs, replicas).await?;
        }
        return Ok(());
    }

    if let Some(new) = &sets.new
        && is_saturated(d, new)
    {
        let old: Vec<ReplicaSet> = sets
            .old
            .iter()
            .filter(|rs| rs_replicas(rs) > 0)
            .cloned()
            .collect();
        for rs in &old {
            scale_replica_set(inner, d, sets, rs, 0).await?;
        }
        return Ok(());
    }
    if is_recreate(d) {
        return Ok(());
    }

    let all_replicas: i32 = active.iter().map(rs_replicas).sum();
    let allowed = if replicas > 0 {
        replicas + max_surge(d)
    } else {
        0
    };
    let to_add = allowed - all_replicas;
    if to_add == 0 {
        return Ok(());
    }
    let mut ordered = active;
    ordered.sort_by(|a, b| {
        rs_replicas(b).cmp(&rs_replicas(a)).then_with(|| {
            if to_add > 0 {
                by_creation(b, a)
            } else {
                by_creation(a, b)
            }
        })
    });

    let mut added = 0;
    let mut sizes = Vec::with_capacity(ordered.len());
    for rs in &ordered {
        let share = proportion(rs, d, to_add, added);
        sizes.push(rs_replicas(rs) + share);
        added += share;
    }
    if added != to_add && !sizes.is_empty() {
        sizes[0] = (sizes[0] + to_add - added).max(0);
    }
    for (rs, size) in ordered.iter().zip(sizes) {
        scale_replica_set(inner, d, sets, rs, size.max(0)).await?;
    }
    Ok(())
}

fn is_saturated(d: &Deployment, new: &ReplicaSet) -> bool {
    let replicas = deployment_replicas(d);
    rs_replicas(new) == replicas
        && int_annotation(new, DESIRED_REPLICAS_ANNOTATION) == Some(replicas)
        && rs_status_counts(new).2 == replicas
}

/// Deletes the oldest scaled-down ReplicaSets beyond revisionHistoryLimit.
async fn cleanup_deployment(
    inner: &Inner,
    d: &Deployment,
    old: &[ReplicaSet],
) -> Result<(), String> {
    let Some(limit) = d.spec.as_ref().and_then(|spec| spec.revision_history_limit) else {
        return Ok(());
    };
    let mut cleanable: Vec<&ReplicaSet> = old
        .iter()
        .filter(|rs| {
            rs_replicas(rs) == 0
                && rs_status_counts(rs).0 == 0
                && rs.metadata.deletion_timestamp.is_none()
                && rs.metadata.generation.unwrap_or(0)
                    <= rs
                        .status
                        .as_ref()
                        .and_then(|status| status.observed_generation)
                        .unwrap_or(0)
        })
        .collect();
    let excess = cleanable.len() as i64 - i64::from(limit);
    if excess <= 0 {
        return Ok(());
    }
    cleanable.sort_by(|a, b| {
        revision(a)
            .cmp(&revision(b))
            .then_with(|| by_creation(a, b))
    });
    let api = Api::<ReplicaSet>::namespaced(inner.client.clone(), namespace_of(d));
    for rs in cleanable.into_iter().take(excess as usize) {
        tracing::info!(
            deployment = name(&d.metadata),
            replicaset = name(&rs.metadata),
            "deleting old replica set"
        );
        match api
            .delete(name(&rs.metadata), &DeleteParams::default())
            .await
        {
            Ok(_) => {}
            Err(err) if err.is_not_found() => {}
            Err(err) => {
                return Err(format!(
                    "failed to delete replica set {}: {err}",
                    name(&rs.metadata)
                ));
            }
        }
    }
    Ok(())
}

/// Adds or clears the Progressing condition's paused reason.
async fn check_paused_conditions(inner: &Inner, d: Deployment) -> Result<Deployment, String> {
    if !has_progress_deadline(&d) {
        return Ok(d);
    }
    let mut status = d.status.clone().unwrap_or_default();
    let reason = get_condition(&status, CONDITION_PROGRESSING)
        .and_then(|condition| condition.reason.clone());
    if reason.as_deref() == Some(REASON_TIMED_OUT) {
        return Ok(d);
    }
    let paused_condition = reason.as_deref() == Some(REASON_PAUSED);
    let condition = if is_paused(&d) && !paused_condition {
        new_condition(
            CONDITION_PROGRESSING,
            "Unknown",
            REASON_PAUSED,
            "Deployment is paused".into(),
            now_seconds(),
        )
    } else if !is_paused(&d) && paused_condition {
        new_condition(
            CONDITION_PROGRESSING,
            "Unknown",
            REASON_RESUMED,
            "Deployment is resumed".into(),
            now_seconds(),
        )
    } else {
        return Ok(d);
    };
    set_condition(&mut status, condition);
    update_status(inner, &d, status).await
}

/// Computes the status the ReplicaSets add up to, with the Available condition.
fn calculate_status(d: &Deployment, sets: &ReplicaSets) -> DeploymentStatus {
    let all = sets.all();
    let available: i32 = all.iter().map(|rs| rs_status_counts(rs).2).sum();
    let total: i32 = all.iter().map(|rs| rs_replicas(rs)).sum();
    let mut status = d.status.clone().unwrap_or_default();
    status.observed_generation = d.metadata.generation;
    status.replicas = Some(all.iter().map(|rs| rs_status_counts(rs).0).sum());
    status.updated_replicas = Some(sets.new.as_ref().map_or(0, |new| rs_status_counts(new).0));
    status.ready_replicas = Some(all.iter().map(|rs| rs_status_counts(rs).1).sum());
    status.available_replicas = Some(available);
    status.unavailable_replicas = Some((total - available).max(0));

    let now = now_seconds();
    if available >= deployment_replicas(d) - max_unavailable(d) {
        set_condition(
            &mut status,
            new_condition(
                CONDITION_AVAILABLE,
                "True",
                REASON_MIN_AVAILABLE,
                "Deployment has minimum availability.".into(),
                now,
            ),
        );
    } else {
        set_condition(
            &mut status,
            new_condition(
                CONDITION_AVAILABLE,
                "False",
                REASON_MIN_UNAVAILABLE,
                "Deployment does not have minimum availability.".into(),
                now,
            ),
        );
    }
    status
}

/// Compares statuses as the API stores them: zero counts and empty lists are
/// omitted there.
fn normalized(status: &DeploymentStatus) -> DeploymentStatus {
    let zero_to_none = |value: Option<i32>| value.filter(|value| *value != 0);
    DeploymentStatus {
        available_replicas: zero_to_none(status.available_replicas),
        collision_count: status.collision_count,
        conditions: status
            .conditions
            .clone()
            .filter(|conditions| !conditions.is_empty()),
        observed_generation: status.observed_generation.filter(|value| *value != 0),
        ready_replicas: zero_to_none(status.ready_replicas),
        replicas: zero_to_none(status.replicas),
        terminating_replicas: zero_to_none(status.terminating_replicas),
        unavailable_replicas: zero_to_none(status.unavailable_replicas),
        updated_replicas: zero_to_none(status.updated_replicas),
    }
}

async fn sync_deployment_status(
    inner: &Inner,
    d: &Deployment,
    sets: &ReplicaSets,
) -> Result<(), String> {
    let status = calculate_status(d, sets);
    if normalized(&status) == normalized(&d.status.clone().unwrap_or_default()) {
        return Ok(());
    }
    update_status(inner, d, status).await.map(|_| ())
}

/// Computes the status with the Progressing and ReplicaFailure conditions and
/// writes it when it changed; a Deployment waiting on its deadline is requeued for
/// the moment the deadline passes.
async fn sync_rollout_status(
    inner: &Inner,
    d: &Deployment,
    sets: &ReplicaSets,
) -> Result<(), String> {
    let mut status = calculate_status(d, sets);
    let now = now_seconds();
    let new_name = sets
        .new
        .as_ref()
        .map(|new| name(&new.metadata).to_string())
        .unwrap_or_default();

    if !has_progress_deadline(d) {
        remove_condition(&mut status, CONDITION_PROGRESSING);
    }
    let current = get_condition(&status, CONDITION_PROGRESSING).cloned();
    let already_complete = status.replicas == status.updated_replicas
        && current.as_ref().and_then(|c| c.reason.as_deref()) == Some(REASON_NEW_RS_AVAILABLE);
    if has_progress_deadline(d) && !already_complete {
        if deployment_complete(d, &status) {
            let message = format!("ReplicaSet {new_name:?} has successfully progressed.");
            set_condition(
                &mut status,
                new_condition(
                    CONDITION_PROGRESSING,
                    "True",
                    REASON_NEW_RS_AVAILABLE,
                    message,
                    now,
                ),
            );
        } else if deployment_progressing(d, &status) {
            let message = format!("ReplicaSet {new_name:?} is progressing.");
            let mut condition = new_condition(
                CONDITION_PROGRESSING,
                "True",
                REASON_RS_UPDATED,
                message,
                now,
            );
            if let Some(current) = &current
                && current.status == "True"
            {
                condition.last_transition_time = current.last_transition_time.clone();
            }
            remove_condition(&mut status, CONDITION_PROGRESSING);
            status
                .conditions
                .get_or_insert_with(Vec::new)
                .push(condition);
        } else if deployment_timed_out(d, &status, now) {
            let message = format!("ReplicaSet {new_name:?} has timed out progressing.");
            set_condition(
                &mut status,
                new_condition(
                    CONDITION_PROGRESSING,
                    "False",
                    REASON_TIMED_OUT,
                    message,
                    now,
                ),
            );
        }
    }

    let failure = sets.all().into_iter().find_map(|rs| {
        rs.status
            .as_ref()?
            .conditions
            .as_deref()?
            .iter()
            .find(|condition| {
                condition.type_ == CONDITION_REPLICA_FAILURE && condition.status == "True"
            })
            .cloned()
    });
    match failure {
        Some(condition) => set_condition(
            &mut status,
            new_condition(
                CONDITION_REPLICA_FAILURE,
                &condition.status,
                condition.reason.as_deref().unwrap_or_default(),
                condition.message.unwrap_or_default(),
                now,
            ),
        ),
        None => remove_condition(&mut status, CONDITION_REPLICA_FAILURE),
    }

    if normalized(&status) == normalized(&d.status.clone().unwrap_or_default()) {
        requeue_stuck_deployment(inner, d, &status, now);
        return Ok(());
    }
    update_status(inner, d, status).await.map(|_| ())
}

fn requeue_stuck_deployment(
    inner: &Inner,
    d: &Deployment,
    status: &DeploymentStatus,
    now: Timestamp,
) {
    if !has_progress_deadline(d) {
        return;
    }
    let Some(condition) = get_condition(status, CONDITION_PROGRESSING) else {
        return;
    };
    if matches!(
        condition.reason.as_deref(),
        Some(REASON_NEW_RS_AVAILABLE) | Some(REASON_TIMED_OUT)
    ) {
        return;
    }
    let Some(updated) = condition.last_update_time.as_ref() else {
        return;
    };
    let deadline = i64::from(
        d.spec
            .as_ref()
            .and_then(|spec| spec.progress_deadline_seconds)
            .unwrap_or(600),
    );
    let after = updated.0.as_second() + deadline - now.as_second();
    let key = crate::controller_utils::key_of(&d.metadata);
    if after < 1 {
        inner.queue.add_rate_limited(key);
    } else {
        inner
            .queue
            .add_after(key, Duration::from_secs(after as u64 + 1));
    }
}

/// Writes `status` through the status subresource, guarded by the Deployment's
/// resourceVersion; returns the stored Deployment.
async fn update_status(
    inner: &Inner,
    d: &Deployment,
    status: DeploymentStatus,
) -> Result<Deployment, String> {
    let mut copy = d.clone();
    copy.status = Some(status);
    Api::<Deployment>::namespaced(inner.client.clone(), namespace_of(d))
        .replace_status(name(&d.metadata), &copy)
        .await
        .map_err(|err| format!("failed to update deployment status: {err}"))
}
