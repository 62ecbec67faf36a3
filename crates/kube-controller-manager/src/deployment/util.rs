//! The pure parts of the Deployment controller, after upstream's
//! `deployment/util`: the pod-template hash, maxSurge/maxUnavailable resolution,
//! rollout arithmetic, revision and replica annotations, and status conditions.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;

/// The label that ties a ReplicaSet and its pods to one pod template.
pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// The revision of a ReplicaSet (and of its Deployment, for the newest one).
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// Revisions a ReplicaSet had before it became the newest again.
pub const REVISION_HISTORY_ANNOTATION: &str = "deployment.kubernetes.io/revision-history";
/// The Deployment's replicas when the ReplicaSet was last scaled.
pub const DESIRED_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/desired-replicas";
/// The Deployment's replicas plus maxSurge when the ReplicaSet was last scaled.
pub const MAX_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/max-replicas";

/// Deployment annotations never copied onto its ReplicaSets.
const SKIPPED_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    "deprecated.deployment.rollback.to",
];

pub const CONDITION_PROGRESSING: &str = "Progressing";
pub const CONDITION_AVAILABLE: &str = "Available";
pub const CONDITION_REPLICA_FAILURE: &str = "ReplicaFailure";

pub const REASON_NEW_RS_CREATED: &str = "NewReplicaSetCreated";
pub const REASON_FOUND_NEW_RS: &str = "FoundNewReplicaSet";
pub const REASON_RS_UPDATED: &str = "ReplicaSetUpdated";
pub const REASON_NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
pub const REASON_TIMED_OUT: &str = "ProgressDeadlineExceeded";
pub const REASON_PAUSED: &str = "DeploymentPaused";
pub const REASON_RESUMED: &str = "DeploymentResumed";
pub const REASON_MIN_AVAILABLE: &str = "MinimumReplicasAvailable";
pub const REASON_MIN_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
pub const REASON_FAILED_RS_CREATE: &str = "ReplicaSetCreateError";

const SAFE_ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Maps each character of `text` onto an alphabet without vowels and look-alike
/// digits, so that a hash never spells words (upstream `rand.SafeEncodeString`).
pub fn safe_encode_string(text: &str) -> String {
    text.chars()
        .map(|c| SAFE_ALPHANUMS[(c as usize) % SAFE_ALPHANUMS.len()] as char)
        .collect()
}

/// FNV-32a over `bytes`, continuing from `hash`.
fn fnv32a(mut hash: u32, bytes: &[u8]) -> u32 {
    for byte in bytes {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

const FNV32_OFFSET_BASIS: u32 = 0x811c_9dc5;

/// Computes the pod-template-hash: FNV-32a over the template serialized as JSON,
/// followed by the collision count as 4 little-endian bytes when set, rendered in
/// decimal through [`safe_encode_string`].
///
/// NOTE: upstream hashes Go's `%#v` dump of the template struct, which has no
/// counterpart here, so the values differ from those of an upstream controller for
/// the same template. Ours are stable across restarts of this controller.
pub fn compute_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    compute_hash_of(template, collision_count)
}

/// [`compute_hash`] over any serializable value (DaemonSet and StatefulSet
/// revisions hash their templates the same way).
pub fn compute_hash_of<T: serde::Serialize>(value: &T, collision_count: Option<i32>) -> String {
    let serialized = serde_json::to_vec(value).unwrap_or_default();
    let mut hash = fnv32a(FNV32_OFFSET_BASIS, &serialized);
    if let Some(count) = collision_count {
        hash = fnv32a(hash, &(count as u32).to_le_bytes());
    }
    safe_encode_string(&hash.to_string())
}

/// Returns whether two templates are equal once the pod-template-hash label is ignored.
pub fn templates_equal_ignoring_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    let strip = |template: &PodTemplateSpec| {
        let mut template = template.clone();
        if let Some(labels) = template
            .metadata
            .as_mut()
            .and_then(|meta| meta.labels.as_mut())
        {
            labels.remove(POD_TEMPLATE_HASH_LABEL);
        }
        serde_json::to_value(template).unwrap_or_default()
    };
    strip(a) == strip(b)
}

/// Resolves an int-or-percent against `total`: percentages round up when
/// `round_up`, down otherwise.
///
/// # Errors
/// A message for a string that is not `N%`.
pub fn resolve_int_or_percent(
    value: Option<&IntOrString>,
    default_percent: i32,
    total: i32,
    round_up: bool,
) -> Result<i32, String> {
    let percent = match value {
        None => default_percent,
        Some(IntOrString::Int(value)) => return Ok(*value),
        Some(IntOrString::String(text)) => text
            .strip_suffix('%')
            .and_then(|number| number.parse::<i32>().ok())
            .ok_or_else(|| format!("invalid value for IntOrString: invalid type: string is not a percentage: {text:?}"))?,
    };
    let scaled = i64::from(percent) * i64::from(total);
    let resolved = if round_up {
        (scaled + 99).div_euclid(100)
    } else {
        scaled.div_euclid(100)
    };
    Ok(resolved as i32)
}

/// Returns the Deployment's `spec.replicas`, 1 when unset.
pub fn deployment_replicas(deployment: &Deployment) -> i32 {
    deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.replicas)
        .unwrap_or(1)
}

/// Returns whether the Deployment uses the Recreate strategy.
pub fn is_recreate(deployment: &Deployment) -> bool {
    deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.strategy.as_ref())
        .and_then(|strategy| strategy.type_.as_deref())
        == Some("Recreate")
}

/// Resolves maxSurge and maxUnavailable for the Deployment's replicas (upstream
/// `ResolveFenceposts`): surge rounds up, unavailability down, and when both come
/// out zero, maxUnavailable becomes 1 so that a rollout can progress. Recreate
/// Deployments get (0, 0).
///
/// # Errors
/// A message for an invalid percentage.
pub fn resolve_fenceposts(deployment: &Deployment) -> Result<(i32, i32), String> {
    if is_recreate(deployment) {
        return Ok((0, 0));
    }
    let replicas = deployment_replicas(deployment);
    let rolling = deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.strategy.as_ref())
        .and_then(|strategy| strategy.rolling_update.as_ref());
    let surge = resolve_int_or_percent(
        rolling.and_then(|rolling| rolling.max_surge.as_ref()),
        25,
        replicas,
        true,
    )?;
    let unavailable = resolve_int_or_percent(
        rolling.and_then(|rolling| rolling.max_unavailable.as_ref()),
        25,
        replicas,
        false,
    )?;
    if surge == 0 && unavailable == 0 {
        return Ok((0, 1));
    }
    Ok((surge, unavailable))
}

/// Returns the maxUnavailable of a rolling Deployment, capped at its replicas; 0 for
/// Recreate or zero replicas.
pub fn max_unavailable(deployment: &Deployment) -> i32 {
    let replicas = deployment_replicas(deployment);
    if is_recreate(deployment) || replicas == 0 {
        return 0;
    }
    let (_, unavailable) = resolve_fenceposts(deployment).unwrap_or((0, 1));
    unavailable.min(replicas)
}

/// Returns the maxSurge of a rolling Deployment; 0 for Recreate.
pub fn max_surge(deployment: &Deployment) -> i32 {
    resolve_fenceposts(deployment).map_or(0, |(surge, _)| surge)
}

/// Returns `spec.replicas` of a ReplicaSet, 0 when unset.
pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|spec| spec.replicas).unwrap_or(0)
}

/// Returns a ReplicaSet's status counts: (replicas, ready, available).
pub fn rs_status_counts(rs: &ReplicaSet) -> (i32, i32, i32) {
    rs.status.as_ref().map_or((0, 0, 0), |status| {
        (
            status.replicas,
            status.ready_replicas.unwrap_or(0),
            status.available_replicas.unwrap_or(0),
        )
    })
}

/// The replicas the new ReplicaSet should have next, as upstream's
/// `NewRSNewReplicas`: under RollingUpdate it grows only as far as maxSurge
/// allows above the Deployment's replicas, counting every ReplicaSet's
/// `spec.replicas`. Under Recreate it jumps to the Deployment's replicas.
///
/// # Errors
/// A message for an invalid maxSurge.
pub fn new_rs_new_replicas(
    deployment: &Deployment,
    all_rss: &[&ReplicaSet],
    new_rs_replicas: i32,
) -> Result<i32, String> {
    let replicas = deployment_replicas(deployment);
    if is_recreate(deployment) {
        return Ok(replicas);
    }
    let surge = resolve_int_or_percent(
        deployment
            .spec
            .as_ref()
            .and_then(|spec| spec.strategy.as_ref())
            .and_then(|strategy| strategy.rolling_update.as_ref())
            .and_then(|rolling| rolling.max_surge.as_ref()),
        25,
        replicas,
        true,
    )?;
    let current: i32 = all_rss.iter().map(|rs| rs_replicas(rs)).sum();
    let max_total = replicas + surge;
    if current >= max_total {
        return Ok(new_rs_replicas);
    }
    let scale_up = (max_total - current).min(replicas - new_rs_replicas);
    Ok(new_rs_replicas + scale_up)
}

/// Returns how many unhealthy replicas to scale an old ReplicaSet down by: those
/// of its `replicas` that are not `available`, at most `budget`. Right after a
/// scale-down, until its pods are deleted, the status can still count more
/// available pods than `spec.replicas`. Such a ReplicaSet has no unhealthy
/// replicas, and a negative count would scale it up.
pub fn unhealthy_scale_down(replicas: i32, available: i32, budget: i32) -> i32 {
    (replicas - available).min(budget).max(0)
}

/// Reads an integer annotation.
pub fn int_annotation(rs: &ReplicaSet, name: &str) -> Option<i32> {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(name))
        .and_then(|value| value.parse().ok())
}

/// Returns the revision of a ReplicaSet, 0 when missing or invalid.
pub fn revision(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(REVISION_ANNOTATION))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

/// Returns the highest revision among `rss`.
pub fn max_revision(rss: &[&ReplicaSet]) -> i64 {
    rss.iter().map(|rs| revision(rs)).max().unwrap_or(0)
}

/// Sets desired-replicas and max-replicas; returns whether anything changed.
pub fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (name, value) in [
        (DESIRED_REPLICAS_ANNOTATION, desired.to_string()),
        (MAX_REPLICAS_ANNOTATION, max.to_string()),
    ] {
        if annotations.get(name) != Some(&value) {
            annotations.insert(name.to_string(), value);
            changed = true;
        }
    }
    changed
}

/// Copies the Deployment's annotations (except the controller's own) and sets the
/// revision; a ReplicaSet becoming newest again records its old revision in
/// revision-history. Returns whether anything changed.
pub fn set_new_rs_annotations(
    deployment: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
) -> bool {
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (name, value) in deployment.metadata.annotations.iter().flatten() {
        if SKIPPED_ANNOTATIONS.contains(&name.as_str()) {
            continue;
        }
        if annotations.get(name) != Some(value) {
            annotations.insert(name.clone(), value.clone());
            changed = true;
        }
    }

    let old_revision = annotations
        .get(REVISION_ANNOTATION)
        .and_then(|value| value.parse::<i64>().ok());
    if old_revision.is_none_or(|old| old < new_revision) {
        if let Some(old) = old_revision {
            let history = match annotations.get(REVISION_HISTORY_ANNOTATION) {
                Some(history) if !history.is_empty() => format!("{history},{old}"),
                _ => old.to_string(),
            };
            annotations.insert(REVISION_HISTORY_ANNOTATION.to_string(), history);
        }
        annotations.insert(REVISION_ANNOTATION.to_string(), new_revision.to_string());
        changed = true;
    }
    changed
}

/// Returns the condition of `type_`, if present.
pub fn get_condition<'a>(
    status: &'a DeploymentStatus,
    type_: &str,
) -> Option<&'a DeploymentCondition> {
    status
        .conditions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|condition| condition.type_ == type_)
}

/// Builds a condition stamped with `now`.
pub fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: Timestamp,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message),
        last_update_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

/// Sets `condition`, keeping the old lastTransitionTime when the status is
/// unchanged, and leaving the status alone when status and reason already match
/// (upstream `SetDeploymentCondition`).
pub fn set_condition(status: &mut DeploymentStatus, mut condition: DeploymentCondition) {
    if let Some(current) = get_condition(status, &condition.type_) {
        if current.status == condition.status && current.reason == condition.reason {
            return;
        }
        if current.status == condition.status {
            condition.last_transition_time = current.last_transition_time.clone();
        }
    }
    remove_condition(status, &condition.type_);
    status
        .conditions
        .get_or_insert_with(Vec::new)
        .push(condition);
}

/// Removes the condition of `type_`.
pub fn remove_condition(status: &mut DeploymentStatus, type_: &str) {
    if let Some(conditions) = status.conditions.as_mut() {
        conditions.retain(|condition| condition.type_ != type_);
    }
}

/// Returns whether the Deployment has a progress deadline (unset or `i32::MAX` mean none).
pub fn has_progress_deadline(deployment: &Deployment) -> bool {
    deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.progress_deadline_seconds)
        .is_some_and(|seconds| seconds != i32::MAX)
}

/// Returns whether every replica is updated and available and the status is current.
pub fn deployment_complete(deployment: &Deployment, status: &DeploymentStatus) -> bool {
    let replicas = deployment_replicas(deployment);
    status.updated_replicas.unwrap_or(0) == replicas
        && status.replicas.unwrap_or(0) == replicas
        && status.available_replicas.unwrap_or(0) == replicas
        && status.observed_generation.unwrap_or(0) >= deployment.metadata.generation.unwrap_or(0)
}

/// Returns whether `new` shows progress over the Deployment's current status: more updated,
/// ready or available replicas, or fewer old ones.
pub fn deployment_progressing(deployment: &Deployment, new: &DeploymentStatus) -> bool {
    let old = deployment.status.clone().unwrap_or_default();
    let old_old = old.replicas.unwrap_or(0) - old.updated_replicas.unwrap_or(0);
    let new_old = new.replicas.unwrap_or(0) - new.updated_replicas.unwrap_or(0);
    new.updated_replicas.unwrap_or(0) > old.updated_replicas.unwrap_or(0)
        || new_old < old_old
        || new.ready_replicas.unwrap_or(0) > old.ready_replicas.unwrap_or(0)
        || new.available_replicas.unwrap_or(0) > old.available_replicas.unwrap_or(0)
}

/// Returns whether the Deployment has not progressed for progressDeadlineSeconds since
/// the Progressing condition was last updated.
pub fn deployment_timed_out(
    deployment: &Deployment,
    status: &DeploymentStatus,
    now: Timestamp,
) -> bool {
    if !has_progress_deadline(deployment) {
        return false;
    }
    let Some(condition) = get_condition(status, CONDITION_PROGRESSING) else {
        return false;
    };
    match condition.reason.as_deref() {
        Some(REASON_NEW_RS_AVAILABLE) => return false,
        Some(REASON_TIMED_OUT) => return true,
        _ => {}
    }
    let deadline = i64::from(
        deployment
            .spec
            .as_ref()
            .and_then(|spec| spec.progress_deadline_seconds)
            .unwrap_or(600),
    );
    let Some(updated) = condition.last_update_time.as_ref() else {
        return false;
    };
    updated.0.as_second() + deadline < now.as_second()
}

/// Returns the change in replicas a ReplicaSet gets in a proportional scale (upstream
/// `getReplicaSetFraction`): its share of the new size, by the max-replicas it was
/// last sized for.
pub fn replica_set_fraction(rs: &ReplicaSet, deployment: &Deployment) -> i32 {
    let replicas = deployment_replicas(deployment);
    if replicas == 0 {
        return -rs_replicas(rs);
    }
    let deployment_replicas = replicas + max_surge(deployment);
    let annotated = int_annotation(rs, MAX_REPLICAS_ANNOTATION).unwrap_or_else(|| {
        deployment
            .status
            .as_ref()
            .and_then(|status| status.replicas)
            .unwrap_or(0)
    });
    if annotated == 0 {
        return 0;
    }
    let new_size =
        f64::from(rs_replicas(rs)) * f64::from(deployment_replicas) / f64::from(annotated);
    new_size.round() as i32 - rs_replicas(rs)
}

/// Returns the share of `to_add` a ReplicaSet gets, bounded by what is left
/// (`to_add - added`); upstream `GetProportion`.
pub fn proportion(rs: &ReplicaSet, deployment: &Deployment, to_add: i32, added: i32) -> i32 {
    if rs_replicas(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = replica_set_fraction(rs, deployment);
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{
        DeploymentSpec, DeploymentStrategy, ReplicaSetSpec, RollingUpdateDeployment,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn deployment(replicas: i32, surge: IntOrString, unavailable: IntOrString) -> Deployment {
        Deployment {
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".to_string()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: Some(surge),
                        max_unavailable: Some(unavailable),
                    }),
                }),
                ..DeploymentSpec::default()
            }),
            ..Deployment::default()
        }
    }

    fn rs(replicas: i32) -> ReplicaSet {
        ReplicaSet {
            metadata: ObjectMeta::default(),
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                ..ReplicaSetSpec::default()
            }),
            status: None,
        }
    }

    #[test]
    fn unhealthy_scale_down_never_scales_up() {
        // (replicas, available, budget, expected)
        let cases = [
            (10, 8, 5, 2),
            (10, 0, 3, 3),
            (8, 8, 5, 0),
            // The status still counts the pod the last scale-down removes.
            (8, 9, 5, 0),
            (10, 8, 0, 0),
        ];
        for (replicas, available, budget, expected) in cases {
            assert_eq!(
                unhealthy_scale_down(replicas, available, budget),
                expected,
                "replicas {replicas}, available {available}, budget {budget}"
            );
        }
    }

    #[test]
    fn safe_encoding_matches_upstream_alphabet() {
        assert_eq!(safe_encode_string("0123456789"), "456789bcdf");
    }

    #[test]
    fn fnv32a_matches_reference_vectors() {
        assert_eq!(fnv32a(FNV32_OFFSET_BASIS, b""), 0x811c_9dc5);
        assert_eq!(fnv32a(FNV32_OFFSET_BASIS, b"a"), 0xe40c_292c);
        assert_eq!(fnv32a(FNV32_OFFSET_BASIS, b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn hash_changes_with_collision_count() {
        let template = PodTemplateSpec::default();
        let plain = compute_hash(&template, None);
        let collided = compute_hash(&template, Some(1));
        assert_ne!(plain, collided);
        assert_eq!(plain, compute_hash(&template, None));
        assert!(plain.bytes().all(|b| SAFE_ALPHANUMS.contains(&b)));
    }

    #[test]
    fn fenceposts_round_as_upstream() {
        let percent = |text: &str| IntOrString::String(text.to_string());
        assert_eq!(
            resolve_fenceposts(&deployment(10, percent("25%"), percent("25%"))),
            Ok((3, 2))
        );
        assert_eq!(
            resolve_fenceposts(&deployment(1, percent("25%"), percent("25%"))),
            Ok((1, 0))
        );
        assert_eq!(
            resolve_fenceposts(&deployment(3, IntOrString::Int(0), IntOrString::Int(0))),
            Ok((0, 1))
        );
        assert!(resolve_fenceposts(&deployment(3, percent("x"), IntOrString::Int(0))).is_err());
        assert_eq!(
            max_unavailable(&deployment(2, IntOrString::Int(0), IntOrString::Int(5))),
            2
        );
    }

    #[test]
    fn new_rs_grows_within_surge() {
        let d = deployment(10, IntOrString::Int(3), IntOrString::Int(2));
        let old = rs(10);
        let new = rs(0);
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], 0), Ok(3));
        let new = rs(3);
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], 3), Ok(3));
        let old = rs(5);
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], 3), Ok(8));
        let old = rs(0);
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], 3), Ok(10));
    }

    #[test]
    fn proportions_follow_max_replicas() {
        let d = deployment(20, IntOrString::Int(0), IntOrString::Int(1));
        let mut a = rs(5);
        a.metadata.annotations = Some(BTreeMap::from([(
            MAX_REPLICAS_ANNOTATION.to_string(),
            "10".to_string(),
        )]));
        assert_eq!(replica_set_fraction(&a, &d), 5);
        assert_eq!(proportion(&a, &d, 10, 0), 5);
        assert_eq!(proportion(&a, &d, 3, 0), 3);
    }

    #[test]
    fn revision_annotations_record_history() {
        let d = Deployment::default();
        let mut replica_set = rs(1);
        assert!(set_new_rs_annotations(&d, &mut replica_set, 1));
        assert_eq!(revision(&replica_set), 1);
        assert!(set_new_rs_annotations(&d, &mut replica_set, 3));
        assert_eq!(revision(&replica_set), 3);
        assert_eq!(
            replica_set
                .metadata
                .annotations
                .as_ref()
                .unwrap()
                .get(REVISION_HISTORY_ANNOTATION),
            Some(&"1".to_string())
        );
        assert!(!set_new_rs_annotations(&d, &mut replica_set, 3));
    }
}
