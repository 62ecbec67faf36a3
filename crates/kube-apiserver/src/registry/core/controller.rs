//! Strategies of replication controllers and pod templates (upstream's
//! `pkg/registry/core/replicationcontroller` and `.../podtemplate`).

use std::collections::BTreeMap;

use apimachinery::errors::{FieldError, FieldPath};
use k8s_openapi::api::core::v1::{PodTemplate, PodTemplateSpec, ReplicationController};

use crate::registry::pod_spec::common::{go_string_map, validate_nonnegative};
use crate::registry::pod_spec::defaults::default_pod_template_spec;
use crate::registry::pod_spec::validation::validate_pod_template_spec;
use crate::registry::strategy::Strategy;

/// Strategy of `replicationcontrollers`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplicationControllerStrategy;

impl Strategy for ReplicationControllerStrategy {
    type Object = ReplicationController;

    /// Defaults the selector and the controller's labels to the template's labels and
    /// the replicas to 1.
    fn default(&self, controller: &mut ReplicationController) {
        let spec = controller.spec.get_or_insert_with(Default::default);
        let template_labels = spec
            .template
            .as_ref()
            .and_then(|template| template.metadata.as_ref())
            .and_then(|metadata| metadata.labels.clone());
        if let Some(labels) = template_labels {
            if spec.selector.as_ref().is_none_or(BTreeMap::is_empty) {
                spec.selector = Some(labels.clone());
            }
            if controller
                .metadata
                .labels
                .as_ref()
                .is_none_or(BTreeMap::is_empty)
            {
                controller.metadata.labels = Some(labels);
            }
        }
        spec.replicas.get_or_insert(1);
        if let Some(template) = spec.template.as_mut() {
            default_pod_template_spec(template);
        }
    }

    fn prepare_for_create(&self, controller: &mut ReplicationController) {
        controller.status = None;
    }

    fn prepare_for_update(
        &self,
        controller: &mut ReplicationController,
        old: &ReplicationController,
    ) {
        controller.status = old.status.clone();
    }

    fn validate(&self, controller: &ReplicationController) -> Vec<FieldError> {
        validate_replication_controller_spec(controller)
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
        controller: &ReplicationController,
        _old: &ReplicationController,
    ) -> Vec<FieldError> {
        let status = controller.status.clone().unwrap_or_default();
        let path = FieldPath::new("status");
        let replicas = status.replicas;
        let fully_labeled = status.fully_labeled_replicas.unwrap_or(0);
        let ready = status.ready_replicas.unwrap_or(0);
        let available = status.available_replicas.unwrap_or(0);
        let mut errors = Vec::new();
        for (value, field) in [
            (i64::from(replicas), "replicas"),
            (i64::from(fully_labeled), "fullyLabeledReplicas"),
            (i64::from(ready), "readyReplicas"),
            (i64::from(available), "availableReplicas"),
            (
                status.observed_generation.unwrap_or(0),
                "observedGeneration",
            ),
        ] {
            errors.extend(validate_nonnegative(value, &path.child(field)));
        }
        let message = "cannot be greater than status.replicas";
        for (value, field) in [
            (fully_labeled, "fullyLabeledReplicas"),
            (ready, "readyReplicas"),
            (available, "availableReplicas"),
        ] {
            if value > replicas {
                errors.push(FieldError::invalid(&path.child(field), value, message));
            }
        }
        if available > ready {
            errors.push(FieldError::invalid(
                &path.child("availableReplicas"),
                available,
                "cannot be greater than readyReplicas",
            ));
        }
        errors
    }
}

fn validate_replication_controller_spec(controller: &ReplicationController) -> Vec<FieldError> {
    let spec = controller.spec.clone().unwrap_or_default();
    let path = FieldPath::new("spec");
    let mut errors = validate_nonnegative(
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
        &path.child("minReadySeconds"),
    );
    let selector = spec.selector.clone().unwrap_or_default();
    if selector.is_empty() {
        errors.push(FieldError::required(&path.child("selector"), ""));
    }
    errors.extend(validate_nonnegative(
        i64::from(spec.replicas.unwrap_or(0)),
        &path.child("replicas"),
    ));
    let template_path = path.child("template");
    match spec.template.as_ref() {
        None => errors.push(FieldError::required(&template_path, "")),
        Some(template) => {
            let labels = template
                .metadata
                .as_ref()
                .and_then(|metadata| metadata.labels.clone());
            let matches = selector.iter().all(|(key, value)| {
                labels.as_ref().and_then(|labels| labels.get(key)) == Some(value)
            });
            if !selector.is_empty() && !matches {
                errors.push(FieldError::invalid(
                    &template_path.child("metadata").child("labels"),
                    go_string_map(labels.as_ref()),
                    "`selector` does not match template `labels`",
                ));
            }
            errors.extend(validate_workload_template(
                template,
                &template_path,
                "ReplicationController",
            ));
        }
    }
    errors
}

/// Validates a pod template of a long-running workload: the template rules, restart
/// policy Always and no `activeDeadlineSeconds`. `kind` names the workload in the
/// error message.
pub fn validate_workload_template(
    template: &PodTemplateSpec,
    path: &FieldPath,
    kind: &str,
) -> Vec<FieldError> {
    let mut errors = validate_pod_template_spec(template, path);
    let spec = template.spec.clone().unwrap_or_default();
    let restart_policy = spec.restart_policy.unwrap_or_default();
    if restart_policy != "Always" {
        errors.push(FieldError::not_supported(
            &path.child("spec").child("restartPolicy"),
            restart_policy.as_str(),
            &["Always"],
        ));
    }
    if spec.active_deadline_seconds.is_some() {
        errors.push(FieldError::forbidden(
            &path.child("spec").child("activeDeadlineSeconds"),
            format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
    errors
}

/// Strategy of `podtemplates`.
#[derive(Clone, Copy, Debug, Default)]
pub struct PodTemplateStrategy;

impl Strategy for PodTemplateStrategy {
    type Object = PodTemplate;

    fn default(&self, template: &mut PodTemplate) {
        if let Some(template) = template.template.as_mut() {
            default_pod_template_spec(template);
        }
    }

    fn validate(&self, template: &PodTemplate) -> Vec<FieldError> {
        let spec = template.template.clone().unwrap_or_default();
        validate_pod_template_spec(&spec, &FieldPath::new("template"))
    }

    fn tracks_generation(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn replication_controller_defaults_and_rules() {
        let mut controller: ReplicationController = serde_json::from_value(json!({"metadata": {"name": "rc"},
            "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}))
        .expect("decodes");
        ReplicationControllerStrategy.default(&mut controller);
        let value = serde_json::to_value(&controller).expect("encodes");
        assert_eq!(value["spec"]["selector"], json!({"app": "web"}));
        assert_eq!(value["spec"]["replicas"], 1);
        assert_eq!(value["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(value["spec"]["template"]["spec"]["restartPolicy"], "Always");
        assert!(
            ReplicationControllerStrategy
                .validate(&controller)
                .is_empty()
        );

        let mut mismatched = controller.clone();
        mismatched.spec.as_mut().expect("spec").selector =
            Some(BTreeMap::from([("app".to_string(), "db".to_string())]));
        mismatched
            .spec
            .as_mut()
            .expect("spec")
            .template
            .as_mut()
            .and_then(|t| t.spec.as_mut())
            .expect("pod spec")
            .restart_policy = Some("Never".into());
        assert_eq!(
            messages(ReplicationControllerStrategy.validate(&mismatched)),
            vec![
                "spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`",
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
            ]
        );
    }

    #[test]
    fn pod_template_rules() {
        let template: PodTemplate = serde_json::from_value(
            json!({"metadata": {"name": "t"}, "template": {"spec": {"containers": []}}}),
        )
        .expect("decodes");
        let errors = messages(PodTemplateStrategy.validate(&template));
        assert!(
            errors.contains(&"template.spec.containers: Required value".to_string()),
            "{errors:?}"
        );
    }
}
