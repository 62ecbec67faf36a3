//! The `pods/binding` subresource: validation of a Binding and its effect on the pod
//! (upstream's `ValidatePodBinding` and `BindingREST.setPodNodeAndMetadata`).
//!
//! Entry points: [`validate_binding`] for the request body and [`assign_pod`] for the
//! update the store applies to the stored pod, inside its guaranteed-update loop.

use std::collections::BTreeMap;

use apimachinery::errors::{FieldError, FieldPath};
use k8s_openapi::api::core::v1::Binding;
use serde_json::{Map, Value, json};

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
/// into the pod's, and sets the PodScheduled condition to True. The pod is the stored
/// JSON form, so that a binding costs no typed decode of the pod.
///
/// # Errors
///
/// Returns [`BindingError`] when the pod is being deleted, already has a node, or
/// still has scheduling gates. The pod is left unchanged then.
pub fn assign_pod(
    pod: &mut Value,
    node: &str,
    annotations: Option<&BTreeMap<String, String>>,
) -> Result<(), BindingError> {
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if pod
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|time| !time.is_null())
    {
        return Err(BindingError::BeingDeleted { pod: name });
    }
    if let Some(assigned) = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .filter(|node| !node.is_empty())
    {
        return Err(BindingError::AlreadyAssigned {
            pod: name,
            node: assigned.to_string(),
        });
    }
    if pod
        .pointer("/spec/schedulingGates")
        .and_then(Value::as_array)
        .is_some_and(|gates| !gates.is_empty())
    {
        return Err(BindingError::SchedulingGated { pod: name });
    }

    object_at(pod, "spec").insert("nodeName".to_string(), json!(node));
    if let Some(annotations) = annotations.filter(|annotations| !annotations.is_empty()) {
        let metadata = object_at(pod, "metadata");
        let target = metadata.entry("annotations").or_insert_with(|| json!({}));
        if !target.is_object() {
            *target = json!({});
        }
        if let Some(target) = target.as_object_mut() {
            for (key, value) in annotations {
                target.insert(key.clone(), json!(value));
            }
        }
    }
    set_scheduled_condition(pod);
    Ok(())
}

/// Returns the object under `key`, replacing a missing or non-object value with `{}`.
fn object_at<'a>(value: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    if !value.get(key).is_some_and(Value::is_object) {
        value[key] = json!({});
    }
    value[key]
        .as_object_mut()
        .expect("the value was just made an object")
}

/// Sets PodScheduled to True, keeping the transition time when it already was True.
fn set_scheduled_condition(pod: &mut Value) {
    let status = object_at(pod, "status");
    let conditions = status.entry("conditions").or_insert_with(|| json!([]));
    if !conditions.is_array() {
        *conditions = json!([]);
    }
    let Some(list) = conditions.as_array_mut() else {
        return;
    };
    let now = apimachinery::meta::format_time(apimachinery::meta::now_time());
    let existing = list
        .iter_mut()
        .find(|condition| condition["type"] == "PodScheduled");
    let transition = match &existing {
        Some(condition) if condition["status"] == "True" => condition
            .get("lastTransitionTime")
            .cloned()
            .unwrap_or_else(|| json!(now)),
        _ => json!(now),
    };
    let condition = json!({
        "type": "PodScheduled",
        "status": "True",
        "lastProbeTime": null,
        "lastTransitionTime": transition,
    });
    match existing {
        Some(existing) => *existing = condition,
        None => list.push(condition),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"containers": []},
            "status": {"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}});
        let annotations = BTreeMap::from([("scheduler".to_string(), "x".to_string())]);
        assert_eq!(assign_pod(&mut pod, "node-1", Some(&annotations)), Ok(()));
        assert_eq!(pod["spec"]["nodeName"], "node-1");
        assert_eq!(pod["metadata"]["annotations"]["scheduler"], "x");
        let condition = &pod["status"]["conditions"][0];
        assert_eq!(condition["status"], "True");
        assert!(condition.get("reason").is_none());
        assert!(condition.get("lastTransitionTime").is_some());
    }

    #[test]
    fn assign_keeps_transition_time_of_true_condition() {
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"containers": []},
            "status": {"conditions": [{"type": "PodScheduled", "status": "True",
                "lastTransitionTime": "2024-01-01T00:00:00Z"}]}});
        assert_eq!(assign_pod(&mut pod, "node-1", None), Ok(()));
        assert_eq!(
            pod["status"]["conditions"][0]["lastTransitionTime"],
            "2024-01-01T00:00:00Z"
        );
        assert!(pod["metadata"].get("annotations").is_none());
    }

    #[test]
    fn assign_rejects_bound_deleted_and_gated_pods() {
        let mut bound =
            json!({"metadata": {"name": "p"}, "spec": {"containers": [], "nodeName": "n0"}});
        assert_eq!(
            assign_pod(&mut bound, "n1", None).map_err(|error| error.to_string()),
            Err("pod p is already assigned to node \"n0\"".to_string())
        );
        let mut deleted = json!({"metadata": {"name": "p", "deletionTimestamp": "2024-01-01T00:00:00Z"}, "spec": {"containers": []}});
        assert_eq!(
            assign_pod(&mut deleted, "n1", None).map_err(|error| error.to_string()),
            Err("pod p is being deleted, cannot be assigned to a host".to_string())
        );
        let mut gated = json!({"metadata": {"name": "p"}, "spec": {"containers": [], "schedulingGates": [{"name": "g"}]}});
        assert_eq!(
            assign_pod(&mut gated, "n1", None).map_err(|error| error.to_string()),
            Err("pod p has non-empty .spec.schedulingGates".to_string())
        );
        assert!(gated["spec"].get("nodeName").is_none());
        assert!(gated.get("status").is_none());
    }
}
