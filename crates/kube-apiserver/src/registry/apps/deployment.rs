//! Strategies of deployments and replica sets (upstream's
//! `pkg/registry/apps/deployment` and `.../replicaset`, `pkg/apis/apps/v1/defaults.go`).

use std::collections::BTreeMap;

use apimachinery::errors::{FieldError, FieldPath};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentStrategy, ReplicaSet, RollingUpdateDeployment,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::registry::pod_spec::common::{json_value, validate_immutable, validate_nonnegative};
use crate::registry::pod_spec::defaults::default_pod_template_spec;
use crate::registry::strategy::Strategy;

use super::workload::{
    int_or_percent_value, validate_not_more_than_100_percent, validate_positive_int_or_percent,
    validate_replica_counts, validate_selector_and_template,
};

/// Strategy of `deployments`.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeploymentRegistryStrategy;

impl Strategy for DeploymentRegistryStrategy {
    type Object = Deployment;

    /// Defaults replicas to 1, the strategy to RollingUpdate with 25% unavailable and
    /// 25% surge, `revisionHistoryLimit` to 10 and `progressDeadlineSeconds` to 600.
    fn default(&self, deployment: &mut Deployment) {
        let spec = deployment.spec.get_or_insert_with(Default::default);
        spec.replicas.get_or_insert(1);
        let strategy = spec
            .strategy
            .get_or_insert_with(DeploymentStrategy::default);
        if strategy.type_.as_deref().is_none_or(str::is_empty) {
            strategy.type_ = Some("RollingUpdate".to_string());
        }
        if strategy.type_.as_deref() == Some("RollingUpdate") {
            let rolling = strategy
                .rolling_update
                .get_or_insert_with(RollingUpdateDeployment::default);
            rolling
                .max_unavailable
                .get_or_insert(IntOrString::String("25%".to_string()));
            rolling
                .max_surge
                .get_or_insert(IntOrString::String("25%".to_string()));
        }
        spec.revision_history_limit.get_or_insert(10);
        spec.progress_deadline_seconds.get_or_insert(600);
        default_pod_template_spec(&mut spec.template);
    }

    fn prepare_for_create(&self, deployment: &mut Deployment) {
        deployment.status = None;
    }

    fn prepare_for_update(&self, deployment: &mut Deployment, old: &Deployment) {
        deployment.status = old.status.clone();
    }

    fn validate(&self, deployment: &Deployment) -> Vec<FieldError> {
        validate_deployment_spec(deployment)
    }

    fn validate_update(&self, deployment: &Deployment, old: &Deployment) -> Vec<FieldError> {
        let mut errors = validate_deployment_spec(deployment);
        let selector = deployment.spec.as_ref().map(|spec| &spec.selector);
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

    fn validate_status_update(
        &self,
        deployment: &Deployment,
        _old: &Deployment,
    ) -> Vec<FieldError> {
        let status = deployment.status.clone().unwrap_or_default();
        let counts = BTreeMap::from([
            ("replicas", i64::from(status.replicas.unwrap_or(0))),
            (
                "updatedReplicas",
                i64::from(status.updated_replicas.unwrap_or(0)),
            ),
            (
                "readyReplicas",
                i64::from(status.ready_replicas.unwrap_or(0)),
            ),
            (
                "availableReplicas",
                i64::from(status.available_replicas.unwrap_or(0)),
            ),
            (
                "unavailableReplicas",
                i64::from(status.unavailable_replicas.unwrap_or(0)),
            ),
            (
                "observedGeneration",
                status.observed_generation.unwrap_or(0),
            ),
        ]);
        let mut errors = validate_replica_counts(&counts, &FieldPath::new("status"));
        if let Some(count) = status.collision_count {
            errors.extend(validate_nonnegative(
                i64::from(count),
                &FieldPath::from_names(["status", "collisionCount"]),
            ));
        }
        errors
    }
}

fn validate_deployment_spec(deployment: &Deployment) -> Vec<FieldError> {
    let spec = deployment.spec.clone().unwrap_or_default();
    let path = FieldPath::new("spec");
    let mut errors = validate_nonnegative(
        i64::from(spec.replicas.unwrap_or(0)),
        &path.child("replicas"),
    );
    errors.extend(validate_selector_and_template(
        &spec.selector,
        Some(&spec.template),
        &path,
        "deployment",
        "ReplicaSet",
    ));

    let strategy_path = path.child("strategy");
    let strategy = spec.strategy.clone().unwrap_or_default();
    match strategy.type_.as_deref().unwrap_or_default() {
        "Recreate" => {
            if strategy.rolling_update.is_some() {
                errors.push(FieldError::forbidden(
                    &strategy_path.child("rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match strategy.rolling_update.as_ref() {
            None => errors.push(FieldError::required(
                &strategy_path.child("rollingUpdate"),
                "this should be defaulted and never be nil",
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
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                errors.extend(validate_not_more_than_100_percent(
                    &unavailable,
                    &rolling_path.child("maxUnavailable"),
                ));
            }
        },
        _ => errors.push(FieldError::not_supported(
            &strategy_path,
            json_value(&strategy),
            &["Recreate", "RollingUpdate"],
        )),
    }

    let min_ready = i64::from(spec.min_ready_seconds.unwrap_or(0));
    errors.extend(validate_nonnegative(
        min_ready,
        &path.child("minReadySeconds"),
    ));
    if let Some(limit) = spec.revision_history_limit {
        errors.extend(validate_nonnegative(
            i64::from(limit),
            &path.child("revisionHistoryLimit"),
        ));
    }
    if let Some(deadline) = spec.progress_deadline_seconds {
        let deadline_path = path.child("progressDeadlineSeconds");
        errors.extend(validate_nonnegative(i64::from(deadline), &deadline_path));
        if i64::from(deadline) <= min_ready {
            errors.push(FieldError::invalid(
                &deadline_path,
                deadline,
                "must be greater than minReadySeconds",
            ));
        }
    }
    errors
}

/// Strategy of `replicasets`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplicaSetStrategy;

impl Strategy for ReplicaSetStrategy {
    type Object = ReplicaSet;

    fn default(&self, replica_set: &mut ReplicaSet) {
        let spec = replica_set.spec.get_or_insert_with(Default::default);
        spec.replicas.get_or_insert(1);
        if let Some(template) = spec.template.as_mut() {
            default_pod_template_spec(template);
        }
    }

    fn prepare_for_create(&self, replica_set: &mut ReplicaSet) {
        replica_set.status = None;
    }

    fn prepare_for_update(&self, replica_set: &mut ReplicaSet, old: &ReplicaSet) {
        replica_set.status = old.status.clone();
    }

    fn validate(&self, replica_set: &ReplicaSet) -> Vec<FieldError> {
        validate_replica_set_spec(replica_set)
    }

    fn validate_update(&self, replica_set: &ReplicaSet, old: &ReplicaSet) -> Vec<FieldError> {
        let mut errors = validate_replica_set_spec(replica_set);
        let selector = replica_set.spec.as_ref().map(|spec| &spec.selector);
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

    fn selectable_fields(&self, object: &serde_json::Value) -> BTreeMap<String, String> {
        let replicas = object["status"]["replicas"].as_i64().unwrap_or(0);
        BTreeMap::from([("status.replicas".to_string(), replicas.to_string())])
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &["status.replicas"]
    }

    fn validate_status_update(
        &self,
        replica_set: &ReplicaSet,
        _old: &ReplicaSet,
    ) -> Vec<FieldError> {
        let status = replica_set.status.clone().unwrap_or_default();
        let counts = BTreeMap::from([
            ("replicas", i64::from(status.replicas)),
            (
                "fullyLabeledReplicas",
                i64::from(status.fully_labeled_replicas.unwrap_or(0)),
            ),
            (
                "readyReplicas",
                i64::from(status.ready_replicas.unwrap_or(0)),
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
        validate_replica_counts(&counts, &FieldPath::new("status"))
    }
}

fn validate_replica_set_spec(replica_set: &ReplicaSet) -> Vec<FieldError> {
    let spec = replica_set.spec.clone().unwrap_or_default();
    let path = FieldPath::new("spec");
    let mut errors = validate_nonnegative(
        i64::from(spec.replicas.unwrap_or(0)),
        &path.child("replicas"),
    );
    errors.extend(validate_nonnegative(
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
        &path.child("minReadySeconds"),
    ));
    errors.extend(validate_selector_and_template(
        &spec.selector,
        spec.template.as_ref(),
        &path,
        "deployment",
        "ReplicaSet",
    ));
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn deployment(spec: Value) -> Deployment {
        let mut deployment: Deployment =
            serde_json::from_value(json!({"metadata": {"name": "web"}, "spec": spec}))
                .expect("decodes");
        DeploymentRegistryStrategy.default(&mut deployment);
        deployment
    }

    fn valid_spec() -> Value {
        json!({"selector": {"matchLabels": {"app": "web"}},
               "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}})
    }

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn deployment_defaults() {
        let deployment = deployment(valid_spec());
        let spec = serde_json::to_value(&deployment.spec).expect("encodes");
        assert_eq!(spec["replicas"], 1);
        assert_eq!(
            spec["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(spec["progressDeadlineSeconds"], 600);
        assert_eq!(spec["template"]["spec"]["dnsPolicy"], "ClusterFirst");
        assert!(spec["template"]["spec"].get("enableServiceLinks").is_none());
        assert!(DeploymentRegistryStrategy.validate(&deployment).is_empty());
    }

    #[test]
    fn deployment_rules() {
        let mut mismatch = valid_spec();
        mismatch["template"]["metadata"]["labels"] = json!({"app": "db"});
        let mut no_selector = valid_spec();
        no_selector
            .as_object_mut()
            .expect("object")
            .remove("selector");
        let mut recreate = valid_spec();
        recreate["strategy"] = json!({"type": "Recreate", "rollingUpdate": {"maxSurge": 1}});
        let mut zero = valid_spec();
        zero["strategy"] =
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}});
        let mut deadline = valid_spec();
        deadline["minReadySeconds"] = json!(10);
        deadline["progressDeadlineSeconds"] = json!(5);
        let cases: Vec<(&str, Value, Vec<&str>)> = vec![
            (
                "mismatch",
                mismatch,
                vec![
                    "spec.template.metadata.labels: Invalid value: {\"app\":\"db\"}: `selector` does not match template `labels`",
                ],
            ),
            (
                "no selector",
                no_selector,
                vec!["spec.selector: Required value"],
            ),
            (
                "recreate",
                recreate,
                vec![
                    "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
                ],
            ),
            (
                "zero",
                zero,
                vec![
                    "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
                ],
            ),
            (
                "deadline",
                deadline,
                vec![
                    "spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds",
                ],
            ),
        ];
        for (name, spec, expected) in cases {
            assert_eq!(
                messages(DeploymentRegistryStrategy.validate(&deployment(spec))),
                expected,
                "case {name}"
            );
        }
    }

    #[test]
    fn selector_is_immutable() {
        let old = deployment(valid_spec());
        let mut spec = valid_spec();
        spec["selector"] = json!({"matchLabels": {"app": "web", "tier": "x"}});
        spec["template"]["metadata"]["labels"] = json!({"app": "web", "tier": "x"});
        let new = deployment(spec);
        assert_eq!(
            messages(DeploymentRegistryStrategy.validate_update(&new, &old)),
            vec![
                "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"web\",\"tier\":\"x\"}}: field is immutable"
            ]
        );
    }

    #[test]
    fn replica_set_defaults_and_status() {
        let mut replica_set: ReplicaSet =
            serde_json::from_value(json!({"metadata": {"name": "rs"}, "spec": valid_spec()}))
                .expect("decodes");
        ReplicaSetStrategy.default(&mut replica_set);
        assert_eq!(
            replica_set.spec.as_ref().and_then(|spec| spec.replicas),
            Some(1)
        );
        assert!(ReplicaSetStrategy.validate(&replica_set).is_empty());
        replica_set.status =
            serde_json::from_value(json!({"replicas": 1, "readyReplicas": 2})).expect("decodes");
        assert_eq!(
            messages(ReplicaSetStrategy.validate_status_update(&replica_set, &replica_set.clone())),
            vec!["status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas"]
        );

        let fields =
            ReplicaSetStrategy.selectable_fields(&serde_json::json!({"status": {"replicas": 3}}));
        assert_eq!(fields["status.replicas"], "3");
    }
}
