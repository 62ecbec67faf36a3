//! The `pods/binding` subresource: validation of a Binding and its effect on the pod
//! (upstream's `ValidatePodBinding` and `BindingREST.setPodNodeAndMetadata`).
//!
//! Entry points: [`validate_binding`] for the request body and [`assign_pod`] for the
//! update the store applies to the stored pod, inside its guaranteed-update loop.

use std::collections::BTreeMap;

use apimachinery::errors::{FieldError, FieldPath};
use k8s_openapi::api::core::v1::{Binding, Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// A reason a pod cannot be bound, with upstream's text. The store returns it as
/// 409 Conflict on `pods/binding`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    /// The pod has a deletion timestamp.
    #[error("pod {pod} is being deleted, cannot be assigned to a host")]
    BeingDeleted {
        /// Name of the pod.
        pod: String,
    },
    /// The pod already has a node.
    #[error("pod {pod} is already assigned to node {node:?}")]
    AlreadyAssigned {
        /// Name of the pod.
        pod: String,
        /// The node the pod is bound to.
        node: String,
    },
    /// The pod still has scheduling gates.
    #[error("pod {pod} has non-empty .spec.schedulingGates")]
    SchedulingGated {
        /// Name of the pod.
        pod: String,
    },
}

/// Checks a Binding: the target kind is Node or empty, and the target names a node.
pub fn validate_binding(binding: &Binding) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let kind = binding.target.kind.as_deref().unwrap_or_default();
    if !kind.is_empty() && kind != "Node" {
        errors.push(FieldError::not_supported(
            &FieldPath::from_names(["target", "kind"]),
            kind,
            &["Node", "<empty>"],
        ));
    }
    if binding.target.name.as_deref().is_none_or(str::is_empty) {
        errors.push(FieldError::required(
            &FieldPath::from_names(["target", "name"]),
            "",
        ));
    }
    errors
}

/// Binds a stored pod to `node`: sets `spec.nodeName`, merges the binding's annotations
/// into the pod's, and sets the PodScheduled condition to True.
///
/// # Errors
///
/// Returns [`BindingError`] when the pod is being deleted, already has a node, or
/// still has scheduling gates. The pod is left unchanged then.
pub fn assign_pod(
    pod: &mut Pod,
    node: &str,
    annotations: Option<&BTreeMap<String, String>>,
) -> Result<(), BindingError> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    if pod.metadata.deletion_timestamp.is_some() {
        return Err(BindingError::BeingDeleted { pod: name });
    }
    let spec = pod.spec.get_or_insert_with(Default::default);
    if let Some(assigned) = spec.node_name.as_deref().filter(|node| !node.is_empty()) {
        return Err(BindingError::AlreadyAssigned {
            pod: name,
            node: assigned.to_string(),
        });
    }
    if spec
        .scheduling_gates
        .as_ref()
        .is_some_and(|gates| !gates.is_empty())
    {
        return Err(BindingError::SchedulingGated { pod: name });
    }

    spec.node_name = Some(node.to_string());
    if let Some(annotations) = annotations {
        let pod_annotations = pod.metadata.annotations.get_or_insert_with(BTreeMap::new);
        for (key, value) in annotations {
            pod_annotations.insert(key.clone(), value.clone());
        }
    }
    set_scheduled_condition(pod);
    Ok(())
}

/// Sets PodScheduled to True, keeping the transition time when it already was True.
fn set_scheduled_condition(pod: &mut Pod) {
    let conditions = pod
        .status
        .get_or_insert_with(Default::default)
        .conditions
        .get_or_insert_with(Vec::new);
    let now = Time(apimachinery::meta::now_time());
    match conditions
        .iter_mut()
        .find(|condition| condition.type_ == "PodScheduled")
    {
        Some(condition) => {
            if condition.status != "True" {
                condition.last_transition_time = Some(now);
            }
            *condition = PodCondition {
                type_: "PodScheduled".to_string(),
                status: "True".to_string(),
                last_transition_time: condition.last_transition_time.clone(),
                ..Default::default()
            };
        }
        None => conditions.push(PodCondition {
            type_: "PodScheduled".to_string(),
            status: "True".to_string(),
            last_transition_time: Some(now),
            ..Default::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).expect("test pod decodes")
    }

    #[test]
    fn binding_validation() {
        let binding: Binding =
            serde_json::from_value(json!({"metadata": {"name": "p"}, "target": {"kind": "Pod"}}))
                .expect("decodes");
        let errors: Vec<String> = validate_binding(&binding)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            vec![
                "target.kind: Unsupported value: \"Pod\": supported values: \"Node\", \"<empty>\"",
                "target.name: Required value",
            ]
        );
    }

    #[test]
    fn assign_sets_node_and_condition() {
        let mut pod = pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": []},
            "status": {"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}}),
        );
        let annotations = BTreeMap::from([("scheduler".to_string(), "x".to_string())]);
        assert_eq!(assign_pod(&mut pod, "node-1", Some(&annotations)), Ok(()));
        let value = serde_json::to_value(&pod).expect("encodes");
        assert_eq!(value["spec"]["nodeName"], "node-1");
        assert_eq!(value["metadata"]["annotations"]["scheduler"], "x");
        let condition = &value["status"]["conditions"][0];
        assert_eq!(condition["status"], "True");
        assert!(condition.get("reason").is_none());
        assert!(condition.get("lastTransitionTime").is_some());
    }

    #[test]
    fn assign_rejects_bound_deleted_and_gated_pods() {
        let mut bound =
            pod(json!({"metadata": {"name": "p"}, "spec": {"containers": [], "nodeName": "n0"}}));
        assert_eq!(
            assign_pod(&mut bound, "n1", None).map_err(|error| error.to_string()),
            Err("pod p is already assigned to node \"n0\"".to_string())
        );
        let mut deleted = pod(
            json!({"metadata": {"name": "p", "deletionTimestamp": "2024-01-01T00:00:00Z"}, "spec": {"containers": []}}),
        );
        assert_eq!(
            assign_pod(&mut deleted, "n1", None).map_err(|error| error.to_string()),
            Err("pod p is being deleted, cannot be assigned to a host".to_string())
        );
        let mut gated = pod(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [], "schedulingGates": [{"name": "g"}]}}),
        );
        assert_eq!(
            assign_pod(&mut gated, "n1", None).map_err(|error| error.to_string()),
            Err("pod p has non-empty .spec.schedulingGates".to_string())
        );
    }
}
