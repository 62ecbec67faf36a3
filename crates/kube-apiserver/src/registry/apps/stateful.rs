//! Strategies of stateful sets, daemon sets and controller revisions (upstream's
//! `pkg/registry/apps/statefulset`, `.../daemonset`, `.../controllerrevision`).

use std::collections::BTreeMap;

use apimachinery::errors::{FieldError, FieldPath};
use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, DaemonSetUpdateStrategy, RollingUpdateDaemonSet,
    RollingUpdateStatefulSetStrategy, StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy,
    StatefulSetUpdateStrategy,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::registry::pod_spec::common::{
    json_value, label_selector_is_empty, validate_immutable, validate_label_selector,
    validate_nonnegative,
};
use crate::registry::pod_spec::defaults::{
    default_persistent_volume_claim_spec, default_pod_template_spec,
};
use crate::registry::strategy::Strategy;

use super::workload::{
    int_or_percent_value, selector_missing, validate_not_more_than_100_percent,
    validate_positive_int_or_percent, validate_replica_counts, validate_template_labels,
};

/// Strategy of `statefulsets`.
#[derive(Clone, Copy, Debug, Default)]
pub struct StatefulSetStrategy;

impl Strategy for StatefulSetStrategy {
    type Object = StatefulSet;

    /// Defaults the pod management policy to OrderedReady, the update strategy to
    /// RollingUpdate with partition 0, the claim retention policy to Retain, replicas to
    /// 1 and `revisionHistoryLimit` to 10, plus the template's and claims' defaults.
    fn default(&self, set: &mut StatefulSet) {
        let spec = set.spec.get_or_insert_with(Default::default);
        if spec
            .pod_management_policy
            .as_deref()
            .is_none_or(str::is_empty)
        {
            spec.pod_management_policy = Some("OrderedReady".to_string());
        }
        let strategy = spec
            .update_strategy
            .get_or_insert_with(StatefulSetUpdateStrategy::default);
        if strategy.type_.as_deref().is_none_or(str::is_empty) {
            strategy.type_ = Some("RollingUpdate".to_string());
            strategy
                .rolling_update
                .get_or_insert_with(RollingUpdateStatefulSetStrategy::default);
        }
        if strategy.type_.as_deref() == Some("RollingUpdate")
            && let Some(rolling) = strategy.rolling_update.as_mut()
        {
            rolling.partition.get_or_insert(0);
        }
        let retention = spec
            .persistent_volume_claim_retention_policy
            .get_or_insert_with(StatefulSetPersistentVolumeClaimRetentionPolicy::default);
        for policy in [&mut retention.when_deleted, &mut retention.when_scaled] {
            if policy.as_deref().is_none_or(str::is_empty) {
                *policy = Some("Retain".to_string());
            }
        }
        spec.replicas.get_or_insert(1);
        spec.revision_history_limit.get_or_insert(10);
        default_pod_template_spec(&mut spec.template);
        for claim in spec.volume_claim_templates.iter_mut().flatten() {
            let status = claim.status.get_or_insert_with(Default::default);
            if status.phase.as_deref().is_none_or(str::is_empty) {
                status.phase = Some("Pending".to_string());
            }
            default_persistent_volume_claim_spec(claim.spec.get_or_insert_with(Default::default));
        }
    }

    fn prepare_for_create(&self, set: &mut StatefulSet) {
        set.status = None;
    }

    fn prepare_for_update(&self, set: &mut StatefulSet, old: &StatefulSet) {
        set.status = old.status.clone();
    }

    fn validate(&self, set: &StatefulSet) -> Vec<FieldError> {
        validate_stateful_set_spec(set)
    }

    fn validate_update(&self, set: &StatefulSet, old: &StatefulSet) -> Vec<FieldError> {
        let mut errors = validate_stateful_set_spec(set);
        let spec = set.spec.clone().unwrap_or_default();
        let old_spec = old.spec.clone().unwrap_or_default();
        let mut comparable = spec;
        comparable.replicas = old_spec.replicas;
        comparable.template = old_spec.template.clone();
        comparable.update_strategy = old_spec.update_strategy.clone();
        comparable.min_ready_seconds = old_spec.min_ready_seconds;
        comparable.ordinals = old_spec.ordinals.clone();
        comparable.revision_history_limit = old_spec.revision_history_limit;
        comparable.persistent_volume_claim_retention_policy =
            old_spec.persistent_volume_claim_retention_policy.clone();
        if comparable != old_spec {
            errors.push(FieldError::forbidden(
                &FieldPath::new("spec"),
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            ));
        }
        errors
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn validate_status_update(&self, set: &StatefulSet, _old: &StatefulSet) -> Vec<FieldError> {
        let status = set.status.clone().unwrap_or_default();
        let counts = BTreeMap::from([
            ("replicas", i64::from(status.replicas)),
            (
                "readyReplicas",
                i64::from(status.ready_replicas.unwrap_or(0)),
            ),
            (
                "currentReplicas",
                i64::from(status.current_replicas.unwrap_or(0)),
            ),
            (
                "updatedReplicas",
                i64::from(status.updated_replicas.unwrap_or(0)),
            ),
            (
                "availableReplicas",
                i64::from(status.available_replicas.unwrap_or(0)),
            ),
            (
                "observedGeneration",
                status.observed_generation.unwrap_or(0),
            ),
        ]);
        let mut errors = validate_replica_counts(&counts, &FieldPath::new("status"));
        let replicas = i64::from(status.replicas);
        if i64::from(status.current_replicas.unwrap_or(0)) > replicas {
            errors.push(FieldError::invalid(
                &FieldPath::from_names(["status", "currentReplicas"]),
                status.current_replicas.unwrap_or(0),
                "cannot be greater than status.replicas",
            ));
        }
        errors
    }
}

fn validate_stateful_set_spec(set: &StatefulSet) -> Vec<FieldError> {
    let spec = set.spec.clone().unwrap_or_default();
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    match spec.pod_management_policy.as_deref().unwrap_or_default() {
        "" => errors.push(FieldError::required(&path.child("podManagementPolicy"), "")),
        "OrderedReady" | "Parallel" => {}
        other => errors.push(FieldError::invalid(
            &path.child("podManagementPolicy"),
            other,
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    let strategy_path = path.child("updateStrategy");
    match strategy.type_.as_deref().unwrap_or_default() {
        "" => errors.push(FieldError::required(&strategy_path, "")),
        "OnDelete" => {
            if strategy.rolling_update.is_some() {
                errors.push(FieldError::invalid(
                    &strategy_path.child("rollingUpdate"),
                    json_value(&strategy.rolling_update),
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => {
            if let Some(rolling) = strategy.rolling_update.as_ref() {
                let rolling_path = strategy_path.child("rollingUpdate");
                errors.extend(validate_nonnegative(
                    i64::from(rolling.partition.unwrap_or(0)),
                    &rolling_path.child("partition"),
                ));
                if let Some(unavailable) = rolling.max_unavailable.as_ref() {
                    let unavailable_path = rolling_path.child("maxUnavailable");
                    errors.extend(validate_positive_int_or_percent(
                        unavailable,
                        &unavailable_path,
                    ));
                    if int_or_percent_value(unavailable) == 0 {
                        errors.push(FieldError::invalid(
                            &unavailable_path,
                            json_value(unavailable),
                            "cannot be 0",
                        ));
                    } else {
                        errors.extend(validate_not_more_than_100_percent(
                            unavailable,
                            &unavailable_path,
                        ));
                    }
                }
            }
        }
        _ => errors.push(FieldError::invalid(
            &strategy_path,
            json_value(&strategy),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
    if let Some(retention) = spec.persistent_volume_claim_retention_policy.as_ref() {
        let retention_path = path.child("persistentVolumeClaimRetentionPolicy");
        for (policy, field) in [
            (&retention.when_deleted, "whenDeleted"),
            (&retention.when_scaled, "whenScaled"),
        ] {
            match policy.as_deref().unwrap_or_default() {
                "Retain" | "Delete" => {}
                other => errors.push(FieldError::not_supported(
                    &retention_path.child(field),
                    other,
                    &["Retain", "Delete"],
                )),
            }
        }
    }
    if let Some(limit) = spec.revision_history_limit {
        errors.extend(validate_nonnegative(
            i64::from(limit),
            &path.child("revisionHistoryLimit"),
        ));
    }
    errors.extend(validate_nonnegative(
        i64::from(spec.replicas.unwrap_or(0)),
        &path.child("replicas"),
    ));
    errors.extend(validate_nonnegative(
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
        &path.child("minReadySeconds"),
    ));
    if let Some(ordinals) = spec.ordinals.as_ref() {
        errors.extend(validate_nonnegative(
            i64::from(ordinals.start.unwrap_or(0)),
            &path.child("ordinals.start"),
        ));
    }

    let selector_path = path.child("selector");
    if selector_missing(&spec.selector) {
        errors.push(FieldError::required(&selector_path, ""));
    } else {
        errors.extend(validate_label_selector(
            Some(&spec.selector),
            &selector_path,
        ));
        if label_selector_is_empty(&spec.selector) {
            errors.push(FieldError::invalid(
                &selector_path,
                json_value(&spec.selector),
                "empty selector is invalid for statefulset",
            ));
        }
    }
    errors.extend(validate_template_labels(
        &spec.selector,
        &spec.template,
        &path.child("template"),
    ));
    errors.extend(validate_long_running_template(
        &spec.template,
        &path,
        |errors, pod_path| {
            errors.push(FieldError::forbidden(
                &pod_path.child("activeDeadlineSeconds"),
                "activeDeadlineSeconds in StatefulSet is not Supported",
            ));
        },
    ));
    errors
}

/// Adds the restart policy rule (Always only) and calls `on_deadline` when the pod
/// template sets `activeDeadlineSeconds`.
fn validate_long_running_template(
    template: &k8s_openapi::api::core::v1::PodTemplateSpec,
    spec_path: &FieldPath,
    on_deadline: impl Fn(&mut Vec<FieldError>, &FieldPath),
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let pod_path = spec_path.child("template").child("spec");
    let pod_spec = template.spec.clone().unwrap_or_default();
    let restart_policy = pod_spec.restart_policy.unwrap_or_default();
    if restart_policy != "Always" {
        errors.push(FieldError::not_supported(
            &pod_path.child("restartPolicy"),
            restart_policy.as_str(),
            &["Always"],
        ));
    }
    if pod_spec.active_deadline_seconds.is_some() {
        on_deadline(&mut errors, &pod_path);
    }
    errors
}

/// Strategy of `daemonsets`.
#[derive(Clone, Copy, Debug, Default)]
pub struct DaemonSetStrategy;

impl Strategy for DaemonSetStrategy {
    type Object = DaemonSet;

    /// Defaults the update strategy to RollingUpdate with one unavailable pod and no
    /// surge, and `revisionHistoryLimit` to 10.
    fn default(&self, set: &mut DaemonSet) {
        let spec = set.spec.get_or_insert_with(Default::default);
        let strategy = spec
            .update_strategy
            .get_or_insert_with(DaemonSetUpdateStrategy::default);
        if strategy.type_.as_deref().is_none_or(str::is_empty) {
            strategy.type_ = Some("RollingUpdate".to_string());
        }
        if strategy.type_.as_deref() == Some("RollingUpdate") {
            let rolling = strategy
                .rolling_update
                .get_or_insert_with(RollingUpdateDaemonSet::default);
            rolling.max_unavailable.get_or_insert(IntOrString::Int(1));
            rolling.max_surge.get_or_insert(IntOrString::Int(0));
        }
        spec.revision_history_limit.get_or_insert(10);
        default_pod_template_spec(&mut spec.template);
    }

    fn prepare_for_create(&self, set: &mut DaemonSet) {
        set.status = None;
    }

    fn prepare_for_update(&self, set: &mut DaemonSet, old: &DaemonSet) {
        set.status = old.status.clone();
    }

    fn validate(&self, set: &DaemonSet) -> Vec<FieldError> {
        validate_daemon_set_spec(set)
    }

    fn validate_update(&self, set: &DaemonSet, old: &DaemonSet) -> Vec<FieldError> {
        let mut errors = validate_daemon_set_spec(set);
        let selector = set.spec.as_ref().map(|spec| &spec.selector);
        let old_selector = old.spec.as_ref().map(|spec| &spec.selector);
        errors.extend(validate_immutable(
            &selector,
            &old_selector,
            &FieldPath::from_names(["spec", "selector"]),
        ));
        errors
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn validate_status_update(&self, set: &DaemonSet, _old: &DaemonSet) -> Vec<FieldError> {
        let status = set.status.clone().unwrap_or_default();
        let path = FieldPath::new("status");
        let mut errors = Vec::new();
        for (value, field) in [
            (
                i64::from(status.current_number_scheduled),
                "currentNumberScheduled",
            ),
            (i64::from(status.number_misscheduled), "numberMisscheduled"),
            (
                i64::from(status.desired_number_scheduled),
                "desiredNumberScheduled",
            ),
            (i64::from(status.number_ready), "numberReady"),
            (
                status.observed_generation.unwrap_or(0),
                "observedGeneration",
            ),
            (
                i64::from(status.updated_number_scheduled.unwrap_or(0)),
                "updatedNumberScheduled",
            ),
            (
                i64::from(status.number_available.unwrap_or(0)),
                "numberAvailable",
            ),
            (
                i64::from(status.number_unavailable.unwrap_or(0)),
                "numberUnavailable",
            ),
        ] {
            errors.extend(validate_nonnegative(value, &path.child(field)));
        }
        if let Some(count) = status.collision_count {
            errors.extend(validate_nonnegative(
                i64::from(count),
                &path.child("collisionCount"),
            ));
        }
        errors
    }
}

fn validate_daemon_set_spec(set: &DaemonSet) -> Vec<FieldError> {
    let spec = set.spec.clone().unwrap_or_default();
    let path = FieldPath::new("spec");
    let selector_path = path.child("selector");
    let mut errors = validate_label_selector(Some(&spec.selector), &selector_path);
    if !selector_missing(&spec.selector) && label_selector_is_empty(&spec.selector) {
        errors.push(FieldError::invalid(
            &selector_path,
            json_value(&spec.selector),
            "empty selector is invalid for daemonset",
        ));
    }
    if selector_missing(&spec.selector) {
        errors.push(FieldError::required(&selector_path, ""));
    }
    errors.extend(validate_template_labels(
        &spec.selector,
        &spec.template,
        &path.child("template"),
    ));
    let pod_spec = spec.template.spec.clone().unwrap_or_default();
    errors.extend(validate_long_running_template(
        &spec.template,
        &path,
        |errors, pod_path| {
            errors.push(FieldError::invalid(
                &pod_path.child("activeDeadlineSeconds"),
                pod_spec.active_deadline_seconds,
                "activeDeadlineSeconds must be nil for daemonset",
            ));
        },
    ));
    errors.extend(validate_nonnegative(
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
        &path.child("minReadySeconds"),
    ));

    let strategy = spec.update_strategy.clone().unwrap_or_default();
    let strategy_path = path.child("updateStrategy");
    match strategy.type_.as_deref().unwrap_or_default() {
        "OnDelete" => {}
        "RollingUpdate" => match strategy.rolling_update.as_ref() {
            None => errors.push(FieldError::required(
                &strategy_path.child("rollingUpdate"),
                "",
            )),
            Some(rolling) => {
                let rolling_path = strategy_path.child("rollingUpdate");
                let unavailable = rolling
                    .max_unavailable
                    .clone()
                    .unwrap_or(IntOrString::Int(0));
                let surge = rolling.max_surge.clone().unwrap_or(IntOrString::Int(0));
                errors.extend(validate_positive_int_or_percent(
                    &unavailable,
                    &rolling_path.child("maxUnavailable"),
                ));
                errors.extend(validate_positive_int_or_percent(
                    &surge,
                    &rolling_path.child("maxSurge"),
                ));
                if int_or_percent_value(&unavailable) == 0 && int_or_percent_value(&surge) == 0 {
                    errors.push(FieldError::invalid(
                        &rolling_path.child("maxUnavailable"),
                        json_value(&unavailable),
                        "cannot be 0 when maxSurge is 0",
                    ));
                }
                errors.extend(validate_not_more_than_100_percent(
                    &unavailable,
                    &rolling_path.child("maxUnavailable"),
                ));
                errors.extend(validate_not_more_than_100_percent(
                    &surge,
                    &rolling_path.child("maxSurge"),
                ));
            }
        },
        _ => errors.push(FieldError::not_supported(
            &strategy_path,
            json_value(&strategy),
            &["RollingUpdate", "OnDelete"],
        )),
    }
    if let Some(limit) = spec.revision_history_limit {
        errors.extend(validate_nonnegative(
            i64::from(limit),
            &path.child("revisionHistoryLimit"),
        ));
    }
    errors
}

/// Strategy of `controllerrevisions`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ControllerRevisionStrategy;

impl Strategy for ControllerRevisionStrategy {
    type Object = ControllerRevision;

    fn validate(&self, revision: &ControllerRevision) -> Vec<FieldError> {
        validate_nonnegative(revision.revision, &FieldPath::new("revision"))
    }

    fn validate_update(
        &self,
        revision: &ControllerRevision,
        old: &ControllerRevision,
    ) -> Vec<FieldError> {
        let mut errors = validate_nonnegative(revision.revision, &FieldPath::new("revision"));
        errors.extend(validate_immutable(
            &revision.data,
            &old.data,
            &FieldPath::new("data"),
        ));
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn valid_spec() -> Value {
        json!({"selector": {"matchLabels": {"app": "db"}}, "serviceName": "db",
               "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "c", "image": "postgres"}]}}})
    }

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn stateful_set_defaults() {
        let mut set: StatefulSet =
            serde_json::from_value(json!({"metadata": {"name": "db"}, "spec": valid_spec()}))
                .expect("decodes");
        set.spec.as_mut().expect("spec").volume_claim_templates = Some(vec![serde_json::from_value(json!({
            "metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}))
        .expect("decodes")]);
        StatefulSetStrategy.default(&mut set);
        let spec = serde_json::to_value(&set.spec).expect("encodes");
        assert_eq!(spec["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            spec["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(
            spec["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(spec["replicas"], 1);
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(
            spec["volumeClaimTemplates"][0]["spec"]["volumeMode"],
            "Filesystem"
        );
        assert_eq!(
            spec["volumeClaimTemplates"][0]["status"]["phase"],
            "Pending"
        );
        assert!(StatefulSetStrategy.validate(&set).is_empty());
    }

    #[test]
    fn stateful_set_update_rules() {
        let mut old: StatefulSet =
            serde_json::from_value(json!({"metadata": {"name": "db"}, "spec": valid_spec()}))
                .expect("decodes");
        StatefulSetStrategy.default(&mut old);
        let mut scaled = old.clone();
        scaled.spec.as_mut().expect("spec").replicas = Some(3);
        assert!(
            StatefulSetStrategy
                .validate_update(&scaled, &old)
                .is_empty()
        );
        let mut renamed = old.clone();
        renamed.spec.as_mut().expect("spec").service_name = Some("other".into());
        assert_eq!(
            messages(StatefulSetStrategy.validate_update(&renamed, &old)),
            vec![
                "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
            ]
        );
    }

    #[test]
    fn daemon_set_defaults_and_rules() {
        let mut set: DaemonSet =
            serde_json::from_value(json!({"metadata": {"name": "agent"}, "spec": valid_spec()}))
                .expect("decodes");
        DaemonSetStrategy.default(&mut set);
        let spec = serde_json::to_value(&set.spec).expect("encodes");
        assert_eq!(
            spec["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        );
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert!(DaemonSetStrategy.validate(&set).is_empty());

        let mut never = set.clone();
        never
            .spec
            .as_mut()
            .expect("spec")
            .template
            .spec
            .as_mut()
            .expect("pod spec")
            .restart_policy = Some("Never".into());
        assert_eq!(
            messages(DaemonSetStrategy.validate(&never)),
            vec![
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""
            ]
        );
    }
}
