//! The strategy of pods (upstream's `pkg/registry/core/pod/strategy.go`): defaults,
//! status reset and QoS class on create, the narrow set of spec fields an update may
//! change, the status subresource, graceful deletion and selectable fields.

use std::collections::BTreeMap;

use apimachinery::errors::{FieldError, FieldPath};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod, PodCondition, PodSpec, PodStatus};
use serde_json::Value;

use crate::registry::pod_spec::common::{
    FIELD_IMMUTABLE_ERROR_MSG, invalid_each, json_value, name_is_dns_subdomain,
    validate_qualified_name,
};
use crate::registry::pod_spec::defaults::{default_pod_only, default_pod_spec};
use crate::registry::pod_spec::qos::compute_qos_class;
use crate::registry::pod_spec::validation::{validate_pod_spec_for_pod, validate_tolerations};
use crate::registry::strategy::{DeleteContext, Strategy, field_at};

/// The fields a pod update may change, as upstream lists them in its error message.
const UPDATABLE_POD_SPEC_FIELDS: &[&str] = &[
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
];

const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// Strategy of `pods`.
#[derive(Clone, Copy, Debug, Default)]
pub struct PodStrategy;

impl Strategy for PodStrategy {
    type Object = Pod;

    fn default(&self, pod: &mut Pod) {
        let spec = pod.spec.get_or_insert_with(Default::default);
        default_pod_spec(spec);
        default_pod_only(spec);
    }

    /// Resets the status to phase Pending with the computed QoS class, and marks a pod
    /// with scheduling gates as not scheduled.
    fn prepare_for_create(&self, pod: &mut Pod) {
        let spec = pod.spec.clone().unwrap_or_default();
        let mut status = PodStatus {
            phase: Some("Pending".to_string()),
            qos_class: Some(compute_qos_class(&spec).to_string()),
            ..Default::default()
        };
        if spec
            .scheduling_gates
            .as_ref()
            .is_some_and(|gates| !gates.is_empty())
        {
            status.conditions = Some(vec![PodCondition {
                type_: "PodScheduled".to_string(),
                status: "False".to_string(),
                reason: Some("SchedulingGated".to_string()),
                message: Some(
                    "Scheduling is blocked due to non-empty scheduling gates".to_string(),
                ),
                ..Default::default()
            }]);
        }
        pod.status = Some(status);
    }

    fn prepare_for_update(&self, pod: &mut Pod, old: &Pod) {
        pod.status = old.status.clone();
    }

    fn validate(&self, pod: &Pod) -> Vec<FieldError> {
        let mut errors = validate_pod_metadata_and_spec(pod);
        let spec_path = FieldPath::new("spec");
        let spec = pod.spec.clone().unwrap_or_default();
        if spec
            .ephemeral_containers
            .as_ref()
            .is_some_and(|list| !list.is_empty())
        {
            errors.push(FieldError::forbidden(
                &spec_path.child("ephemeralContainers"),
                "cannot be set on create",
            ));
        }
        let has_node = spec
            .node_name
            .as_deref()
            .is_some_and(|node| !node.is_empty());
        if has_node
            && spec
                .scheduling_gates
                .as_ref()
                .is_some_and(|gates| !gates.is_empty())
        {
            errors.push(FieldError::forbidden(
                &spec_path.child("nodeName"),
                "cannot be set until all schedulingGates have been cleared",
            ));
        }
        errors
    }

    fn validate_update(&self, pod: &Pod, old: &Pod) -> Vec<FieldError> {
        let mut errors = validate_pod_metadata_and_spec(pod);
        errors.extend(validate_mirror_annotation_update(pod, old));
        errors.extend(validate_pod_spec_update(
            &pod.spec.clone().unwrap_or_default(),
            &old.spec.clone().unwrap_or_default(),
        ));
        errors
    }

    /// Pods record a generation that grows with every spec change.
    fn tracks_generation(&self) -> bool {
        true
    }

    /// Keeps the spec and the owner references from `old`: the status endpoint may not
    /// change them.
    fn prepare_for_status_update(&self, pod: &mut Pod, old: &Pod) {
        pod.spec = old.spec.clone();
        pod.metadata.owner_references = old.metadata.owner_references.clone();
        pod.metadata.deletion_timestamp = old.metadata.deletion_timestamp.clone();
    }

    fn validate_status_update(&self, pod: &Pod, old: &Pod) -> Vec<FieldError> {
        validate_pod_status_update(pod, old)
    }

    /// Keeps everything from `old` except `spec.ephemeralContainers` and the write's
    /// `metadata.managedFields`, as upstream's ephemeral containers strategy does.
    fn prepare_for_ephemeral_containers_update(&self, pod: &mut Pod, old: &Pod) {
        let ephemeral = pod
            .spec
            .as_mut()
            .and_then(|spec| spec.ephemeral_containers.take());
        let managed_fields = pod.metadata.managed_fields.take();
        *pod = old.clone();
        pod.metadata.managed_fields = managed_fields;
        pod.spec
            .get_or_insert_with(Default::default)
            .ephemeral_containers = ephemeral;
    }

    fn validate_ephemeral_containers_update(&self, pod: &Pod, old: &Pod) -> Vec<FieldError> {
        validate_pod_ephemeral_containers_update(pod, old)
    }

    /// Returns the grace period of a delete: the request's, else the pod's
    /// `terminationGracePeriodSeconds`. A pod never scheduled or already finished gets
    /// 0, and a negative period becomes 1.
    fn graceful_delete_seconds(&self, pod: &Pod, delete: &DeleteContext) -> Option<i64> {
        let spec = pod.spec.as_ref();
        let mut period = delete
            .grace_period_seconds
            .or_else(|| spec.and_then(|spec| spec.termination_grace_period_seconds))
            .unwrap_or(0);
        if spec
            .and_then(|spec| spec.node_name.as_deref())
            .is_none_or(str::is_empty)
        {
            period = 0;
        }
        let phase = pod
            .status
            .as_ref()
            .and_then(|status| status.phase.as_deref());
        if matches!(phase, Some("Failed") | Some("Succeeded")) {
            period = 0;
        }
        if period < 0 {
            period = 1;
        }
        Some(period)
    }

    fn selectable_fields(&self, pod: &Value) -> BTreeMap<String, String> {
        let mut fields = BTreeMap::new();
        for field in [
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.phase",
            "status.nominatedNodeName",
        ] {
            fields.insert(field.to_string(), field_at(pod, field));
        }
        let host_network = pod["spec"]["hostNetwork"].as_bool().unwrap_or(false);
        fields.insert("spec.hostNetwork".to_string(), host_network.to_string());
        let pod_ip = pod["status"]["podIPs"][0]["ip"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| field_at(pod, "status.podIP"));
        fields.insert("status.podIP".to_string(), pod_ip);
        fields
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ]
    }
}

fn validate_pod_metadata_and_spec(pod: &Pod) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = pod.spec.clone().unwrap_or_default();
    if let Some(value) = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(MIRROR_POD_ANNOTATION))
        && spec.node_name.as_deref().is_none_or(str::is_empty)
    {
        errors.push(FieldError::invalid(
            &FieldPath::from_names(["metadata", "annotations"]).key(MIRROR_POD_ANNOTATION),
            value.as_str(),
            "must set spec.nodeName if mirror pod annotation is set",
        ));
    }
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    errors.extend(validate_pod_spec_for_pod(
        &spec,
        name,
        &FieldPath::new("spec"),
    ));
    errors
}

/// Checks a write to the `ephemeralcontainers` subresource (upstream's
/// `ValidatePodEphemeralContainersUpdate`): the new pod is valid, the pod is not a
/// static pod's mirror, and every existing ephemeral container is kept unchanged.
/// Matching is by name because a patch need not keep the list's order.
fn validate_pod_ephemeral_containers_update(pod: &Pod, old: &Pod) -> Vec<FieldError> {
    let mut errors = validate_pod_metadata_and_spec(pod);
    errors.extend(validate_mirror_annotation_update(pod, old));
    if old
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|annotations| annotations.contains_key(MIRROR_POD_ANNOTATION))
    {
        return vec![FieldError::forbidden(
            &FieldPath::new(""),
            "static pods do not support ephemeral containers",
        )];
    }

    let path = FieldPath::from_names(["spec", "ephemeralContainers"]);
    let new_containers = pod
        .spec
        .as_ref()
        .and_then(|spec| spec.ephemeral_containers.as_deref())
        .unwrap_or_default();
    let old_containers = old
        .spec
        .as_ref()
        .and_then(|spec| spec.ephemeral_containers.as_deref())
        .unwrap_or_default();
    for old_container in old_containers {
        let name = old_container.name.as_str();
        match new_containers.iter().find(|new| new.name == name) {
            None => errors.push(FieldError::forbidden(
                &path,
                format!("existing ephemeral containers {name:?} may not be removed\n"),
            )),
            Some(new_container) if new_container != old_container => {
                errors.push(FieldError::forbidden(
                    &path.child(name),
                    format!(
                        "existing ephemeral containers {name:?} may not be changed\n{}",
                        describe_value_difference(old_container, new_container)
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    errors
}

fn validate_mirror_annotation_update(pod: &Pod, old: &Pod) -> Vec<FieldError> {
    let path = FieldPath::from_names(["metadata", "annotations"]).key(MIRROR_POD_ANNOTATION);
    let new_value = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(MIRROR_POD_ANNOTATION));
    let old_value = old
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(MIRROR_POD_ANNOTATION));
    match (old_value, new_value) {
        (Some(old_value), new_value) if new_value != Some(old_value) => {
            vec![FieldError::forbidden(
                &path,
                "may not remove or update mirror pod annotation",
            )]
        }
        (None, Some(_)) => vec![FieldError::forbidden(
            &path,
            "may not add mirror pod annotation",
        )],
        _ => Vec::new(),
    }
}

/// Checks an update of a pod's spec: only images, `activeDeadlineSeconds` (lowered),
/// added tolerations, removed scheduling gates and a negative grace period raised to 1
/// may change.
pub fn validate_pod_spec_update(spec: &PodSpec, old: &PodSpec) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec_path = FieldPath::new("spec");

    for (new_containers, old_containers, field) in [
        (
            spec.containers.as_slice(),
            old.containers.as_slice(),
            "containers",
        ),
        (
            spec.init_containers.as_deref().unwrap_or_default(),
            old.init_containers.as_deref().unwrap_or_default(),
            "initContainers",
        ),
    ] {
        let path = spec_path.child(field);
        if new_containers.len() != old_containers.len() {
            errors.push(FieldError::forbidden(
                &path,
                "pod updates may not add or remove containers",
            ));
            return errors;
        }
        for (index, container) in new_containers.iter().enumerate() {
            let image = container.image.as_deref().unwrap_or_default();
            if image.is_empty() {
                errors.push(FieldError::required(&path.index(index).child("image"), ""));
            }
            if image.trim().len() != image.len() {
                errors.push(FieldError::invalid(
                    &path.index(index).child("image"),
                    image,
                    "must not have leading or trailing whitespace",
                ));
            }
        }
    }

    let deadline_path = spec_path.child("activeDeadlineSeconds");
    match (spec.active_deadline_seconds, old.active_deadline_seconds) {
        (Some(new_deadline), old_deadline) => {
            if !(0..=i64::from(i32::MAX)).contains(&new_deadline) {
                errors.push(FieldError::invalid(
                    &deadline_path,
                    new_deadline,
                    apimachinery::validation::inclusive_range_error(0, i64::from(i32::MAX)),
                ));
                return errors;
            }
            if old_deadline.is_some_and(|old_deadline| old_deadline < new_deadline) {
                errors.push(FieldError::invalid(
                    &deadline_path,
                    new_deadline,
                    "must be less than or equal to previous value",
                ));
                return errors;
            }
        }
        (None, Some(_)) => errors.push(FieldError::invalid(
            &deadline_path,
            apimachinery::errors::BadValue::Null,
            "must not update from a positive integer to nil value",
        )),
        (None, None) => {}
    }

    errors.extend(validate_only_added_tolerations(
        spec,
        old,
        &spec_path.child("tolerations"),
    ));
    errors.extend(validate_only_deleted_scheduling_gates(
        spec,
        old,
        &spec_path.child("schedulingGates"),
    ));

    let mut munged = spec.clone();
    for (container, old_container) in munged.containers.iter_mut().zip(&old.containers) {
        container.image = old_container.image.clone();
    }
    if let (Some(containers), Some(old_containers)) = (
        munged.init_containers.as_mut(),
        old.init_containers.as_ref(),
    ) {
        for (container, old_container) in containers.iter_mut().zip(old_containers) {
            container.image = old_container.image.clone();
        }
    }
    munged.active_deadline_seconds = old.active_deadline_seconds;
    munged.scheduling_gates = old.scheduling_gates.clone();
    munged.tolerations = old.tolerations.clone();
    if old
        .termination_grace_period_seconds
        .is_some_and(|seconds| seconds < 0)
        && munged.termination_grace_period_seconds == Some(1)
    {
        munged.termination_grace_period_seconds = old.termination_grace_period_seconds;
    }
    let gated = old
        .scheduling_gates
        .as_ref()
        .is_some_and(|gates| !gates.is_empty());
    if gated {
        // Gated pods may gain node selector entries.
        let old_selector = old.node_selector.clone().unwrap_or_default();
        let new_selector = munged.node_selector.clone().unwrap_or_default();
        if old_selector
            .iter()
            .all(|(key, value)| new_selector.get(key) == Some(value))
        {
            munged.node_selector = old.node_selector.clone();
        }
    }

    if munged != *old {
        let diff = describe_value_difference(old, &munged);
        errors.push(FieldError::forbidden(
            &spec_path,
            format!(
                "pod updates may not change fields other than {}\n{diff}",
                UPDATABLE_POD_SPEC_FIELDS.join(",")
            ),
        ));
    }
    errors
}

/// Lists the top-level fields of two objects that differ, one `-old`/`+new` pair per
/// field.
// NOTE: upstream appends a go-cmp diff of the whole object; this shorter listing names
// the same fields but is not byte-identical.
fn describe_value_difference<T: serde::Serialize>(old: &T, new: &T) -> String {
    let (Ok(Value::Object(old)), Ok(Value::Object(new))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return String::new();
    };
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut lines = Vec::new();
    for key in keys {
        if old.get(key) != new.get(key) {
            let render = |value: Option<&Value>| value.map_or("null".to_string(), Value::to_string);
            lines.push(format!("- {key}: {}", render(old.get(key))));
            lines.push(format!("+ {key}: {}", render(new.get(key))));
        }
    }
    lines.join("\n")
}

fn validate_only_added_tolerations(
    spec: &PodSpec,
    old: &PodSpec,
    path: &FieldPath,
) -> Vec<FieldError> {
    let new_tolerations = spec.tolerations.as_deref().unwrap_or_default();
    for old_toleration in old.tolerations.iter().flatten() {
        let kept = new_tolerations.iter().any(|toleration| {
            let mut clone = old_toleration.clone();
            clone.toleration_seconds = toleration.toleration_seconds;
            clone == *toleration
        });
        if !kept {
            return vec![FieldError::forbidden(
                path,
                "existing toleration can not be modified except its tolerationSeconds",
            )];
        }
    }
    validate_tolerations(new_tolerations, path)
}

fn validate_only_deleted_scheduling_gates(
    spec: &PodSpec,
    old: &PodSpec,
    path: &FieldPath,
) -> Vec<FieldError> {
    let old_gates: Vec<&str> = old
        .scheduling_gates
        .iter()
        .flatten()
        .map(|gate| gate.name.as_str())
        .collect();
    let mut errors = Vec::new();
    for (index, gate) in spec.scheduling_gates.iter().flatten().enumerate() {
        if !old_gates.contains(&gate.name.as_str()) {
            errors.push(FieldError::forbidden(
                &path.index(index).child("name"),
                format!(
                    "only deletion is allowed, but found new scheduling gate '{}'",
                    gate.name
                ),
            ));
        }
    }
    errors
}

fn validate_pod_status_update(pod: &Pod, old: &Pod) -> Vec<FieldError> {
    let mut errors = validate_mirror_annotation_update(pod, old);
    let status = pod.status.clone().unwrap_or_default();
    let old_status = old.status.clone().unwrap_or_default();

    let conditions_path = FieldPath::from_names(["metadata", "conditions"]);
    for (index, condition) in status.conditions.iter().flatten().enumerate() {
        if !matches!(
            condition.type_.as_str(),
            "PodScheduled" | "Ready" | "Initialized"
        ) {
            errors.extend(validate_qualified_name(
                &condition.type_,
                &conditions_path.index(index).child("Type"),
            ));
        }
    }

    let status_path = FieldPath::new("status");
    let spec = pod.spec.clone().unwrap_or_default();
    let old_spec = old.spec.clone().unwrap_or_default();
    if spec.node_name != old_spec.node_name {
        errors.push(FieldError::forbidden(
            &status_path.child("nodeName"),
            "may not be changed directly",
        ));
    }
    if status.nominated_node_name != old_status.nominated_node_name
        && let Some(nominated) = status
            .nominated_node_name
            .as_deref()
            .filter(|name| !name.is_empty())
    {
        errors.extend(invalid_each(
            &status_path.child("nominatedNodeName"),
            nominated,
            name_is_dns_subdomain(nominated, false),
        ));
    }
    if status.qos_class != old_status.qos_class {
        errors.push(FieldError::invalid(
            &status_path.child("qosClass"),
            status.qos_class.clone(),
            FIELD_IMMUTABLE_ERROR_MSG,
        ));
    }

    let restart_policy = old_spec.restart_policy.as_deref().unwrap_or_default();
    errors.extend(validate_container_state_transition(
        status.container_statuses.as_deref().unwrap_or_default(),
        old_status.container_statuses.as_deref().unwrap_or_default(),
        restart_policy,
        &[],
        &status_path.child("containerStatuses"),
    ));
    let restartable_init: Vec<&str> = old_spec
        .init_containers
        .iter()
        .flatten()
        .filter(|container| container.restart_policy.as_deref() == Some("Always"))
        .map(|container| container.name.as_str())
        .collect();
    errors.extend(validate_container_state_transition(
        status
            .init_container_statuses
            .as_deref()
            .unwrap_or_default(),
        old_status
            .init_container_statuses
            .as_deref()
            .unwrap_or_default(),
        restart_policy,
        &restartable_init,
        &status_path.child("initContainerStatuses"),
    ));
    errors.extend(validate_container_state_transition(
        status
            .ephemeral_container_statuses
            .as_deref()
            .unwrap_or_default(),
        old_status
            .ephemeral_container_statuses
            .as_deref()
            .unwrap_or_default(),
        "Never",
        &[],
        &status_path.child("ephemeralContainerStatuses"),
    ));

    errors.extend(validate_status_ips(
        status
            .pod_ips
            .iter()
            .flatten()
            .map(|ip| ip.ip.as_str())
            .collect(),
        json_value(&status.pod_ips),
        &status_path.child("podIPs"),
    ));
    let host_ips: Vec<&str> = status
        .host_ips
        .iter()
        .flatten()
        .map(|ip| ip.ip.as_str())
        .collect();
    if let Some(first) = host_ips.first()
        && status.host_ip.as_deref().unwrap_or_default() != *first
    {
        errors.push(FieldError::invalid(
            &status_path.child("hostIPs").index(0).child("ip"),
            *first,
            "must be equal to `hostIP`",
        ));
    }
    errors.extend(validate_status_ips(
        host_ips,
        json_value(&status.host_ips),
        &status_path.child("hostIPs"),
    ));
    errors
}

fn validate_container_state_transition(
    statuses: &[ContainerStatus],
    old_statuses: &[ContainerStatus],
    restart_policy: &str,
    restartable: &[&str],
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if restart_policy == "Always" {
        return errors;
    }
    for (index, old_status) in old_statuses.iter().enumerate() {
        let Some(terminated) = old_status
            .state
            .as_ref()
            .and_then(|state| state.terminated.as_ref())
        else {
            continue;
        };
        if terminated.exit_code != 0 && restart_policy == "OnFailure" {
            continue;
        }
        if restartable.contains(&old_status.name.as_str()) {
            continue;
        }
        let revived = statuses.iter().any(|status| {
            status.name == old_status.name
                && status
                    .state
                    .as_ref()
                    .and_then(|state| state.terminated.as_ref())
                    .is_none()
        });
        if revived {
            errors.push(FieldError::forbidden(
                &path.index(index).child("state"),
                "may not be transitioned to non-terminated state",
            ));
        }
    }
    errors
}

fn validate_status_ips(
    ips: Vec<&str>,
    rendered: apimachinery::errors::BadValue,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (index, ip) in ips.iter().enumerate() {
        errors.extend(invalid_each(
            &path.index(index),
            ip,
            apimachinery::validation::is_valid_ip_for_legacy_field(ip, true),
        ));
    }
    if ips.len() > 1 {
        let families: Vec<bool> = ips.iter().map(|ip| ip.contains(':')).collect();
        let dual_stack = families.iter().any(|v6| *v6) && families.iter().any(|v6| !*v6);
        if !dual_stack || ips.len() > 2 {
            errors.push(FieldError::invalid(
                path,
                rendered,
                "may specify no more than one IP for each IP family",
            ));
        }
        for (index, ip) in ips.iter().enumerate() {
            if ips[..index].contains(ip) {
                errors.push(FieldError::duplicate(&path.index(index), *ip));
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(value: Value) -> Pod {
        let mut pod: Pod = serde_json::from_value(value).expect("test pod decodes");
        Strategy::default(&PodStrategy, &mut pod);
        pod
    }

    fn base_pod() -> Pod {
        pod(json!({"metadata": {"name": "web", "namespace": "default"},
                   "spec": {"containers": [{"name": "app", "image": "nginx"}]}}))
    }

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn create_resets_status_and_computes_qos() {
        let mut pod = pod(json!({
            "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "app", "image": "nginx",
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]},
            "status": {"phase": "Running", "podIP": "10.0.0.1"}
        }));
        PodStrategy.prepare_for_create(&mut pod);
        let status = serde_json::to_value(&pod.status).expect("encodes");
        assert_eq!(
            status,
            json!({"phase": "Pending", "qosClass": "Guaranteed"})
        );
        assert!(PodStrategy.validate(&pod).is_empty());
    }

    #[test]
    fn scheduling_gates_add_condition() {
        let mut pod = pod(json!({"metadata": {"name": "web"},
            "spec": {"containers": [{"name": "app", "image": "nginx"}], "schedulingGates": [{"name": "example.com/gate"}]}}));
        PodStrategy.prepare_for_create(&mut pod);
        let condition = &pod
            .status
            .as_ref()
            .and_then(|status| status.conditions.clone())
            .expect("conditions")[0];
        assert_eq!(condition.reason.as_deref(), Some("SchedulingGated"));
    }

    #[test]
    fn update_rules() {
        let old = base_pod();
        let cases: Vec<(&str, Value, Vec<&str>)> = vec![
            (
                "image change",
                json!({"containers": [{"name": "app", "image": "nginx:2", "imagePullPolicy": "Always"}]}),
                vec![],
            ),
            ("deadline set", json!({"activeDeadlineSeconds": 30}), vec![]),
            (
                "toleration added",
                json!({"tolerations": [{"key": "k", "operator": "Exists"}]}),
                vec![],
            ),
            (
                "container added",
                json!({"containers": [{"name": "app", "image": "nginx"}, {"name": "b", "image": "nginx"}]}),
                vec!["spec.containers: Forbidden: pod updates may not add or remove containers"],
            ),
        ];
        for (name, spec_changes, expected) in cases {
            let mut spec = serde_json::to_value(old.spec.clone()).expect("encodes");
            for (key, value) in spec_changes.as_object().expect("object") {
                spec[key] = value.clone();
            }
            let mut new = old.clone();
            new.spec = Some(serde_json::from_value(spec).expect("decodes"));
            Strategy::default(&PodStrategy, &mut new);
            assert_eq!(
                messages(PodStrategy.validate_update(&new, &old)),
                expected,
                "case {name}"
            );
        }

        let mut new = old.clone();
        new.spec.as_mut().expect("spec").restart_policy = Some("Never".to_string());
        let errors = messages(PodStrategy.validate_update(&new, &old));
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with(
            "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"
        ), "{errors:?}");

        let mut with_deadline = old.clone();
        with_deadline
            .spec
            .as_mut()
            .expect("spec")
            .active_deadline_seconds = Some(10);
        let mut raised = with_deadline.clone();
        raised.spec.as_mut().expect("spec").active_deadline_seconds = Some(20);
        assert_eq!(
            messages(PodStrategy.validate_update(&raised, &with_deadline)),
            vec![
                "spec.activeDeadlineSeconds: Invalid value: 20: must be less than or equal to previous value"
            ]
        );
    }

    #[test]
    fn graceful_delete_periods() {
        let scheduled = {
            let mut pod = base_pod();
            pod.spec.as_mut().expect("spec").node_name = Some("node-1".to_string());
            pod
        };
        let request = |seconds: Option<i64>| DeleteContext {
            grace_period_seconds: seconds,
        };
        assert_eq!(
            PodStrategy.graceful_delete_seconds(&scheduled, &request(None)),
            Some(30)
        );
        assert_eq!(
            PodStrategy.graceful_delete_seconds(&scheduled, &request(Some(5))),
            Some(5)
        );
        assert_eq!(
            PodStrategy.graceful_delete_seconds(&scheduled, &request(Some(-3))),
            Some(1)
        );
        assert_eq!(
            PodStrategy.graceful_delete_seconds(&base_pod(), &request(Some(5))),
            Some(0)
        );
        let mut finished = scheduled.clone();
        finished.status = Some(PodStatus {
            phase: Some("Succeeded".to_string()),
            ..Default::default()
        });
        assert_eq!(
            PodStrategy.graceful_delete_seconds(&finished, &request(None)),
            Some(0)
        );
    }

    /// Returns `old` with `spec.ephemeralContainers` replaced by `ephemeral`, defaulted.
    fn with_ephemeral(old: &Pod, ephemeral: Value) -> Pod {
        let mut new = old.clone();
        let spec = new.spec.get_or_insert_with(Default::default);
        spec.ephemeral_containers = Some(serde_json::from_value(ephemeral).expect("decodes"));
        Strategy::default(&PodStrategy, &mut new);
        new
    }

    #[test]
    fn ephemeral_containers_update_rules() {
        let old = with_ephemeral(
            &base_pod(),
            json!([{"name": "debugger", "image": "busybox"}]),
        );
        let cases: Vec<(&str, Value, Vec<&str>)> = vec![
            (
                "container added",
                json!([{"name": "debugger", "image": "busybox"},
                       {"name": "shell", "image": "busybox", "targetContainerName": "app"}]),
                vec![],
            ),
            (
                "existing container removed",
                json!([{"name": "shell", "image": "busybox"}]),
                vec![
                    "spec.ephemeralContainers: Forbidden: existing ephemeral containers \"debugger\" may not be removed\n",
                ],
            ),
            (
                "name taken by an app container",
                json!([{"name": "debugger", "image": "busybox"}, {"name": "app", "image": "busybox"}]),
                vec!["spec.ephemeralContainers[1].name: Duplicate value: \"app\""],
            ),
            (
                "names repeated",
                json!([{"name": "debugger", "image": "busybox"}, {"name": "debugger", "image": "busybox"}]),
                vec!["spec.ephemeralContainers[1].name: Duplicate value: \"debugger\""],
            ),
            (
                "target missing",
                json!([{"name": "debugger", "image": "busybox"},
                       {"name": "shell", "image": "busybox", "targetContainerName": "db"}]),
                vec!["spec.ephemeralContainers[1].targetContainerName: Not found: \"db\""],
            ),
            (
                "fields ephemeral containers may not set",
                json!([{"name": "debugger", "image": "busybox"},
                       {"name": "shell", "image": "busybox",
                        "ports": [{"containerPort": 80}],
                        "resources": {"limits": {"cpu": "1"}},
                        "restartPolicy": "Always",
                        "livenessProbe": {"exec": {"command": ["true"]}},
                        "readinessProbe": {"exec": {"command": ["true"]}},
                        "startupProbe": {"exec": {"command": ["true"]}},
                        "lifecycle": {"preStop": {"exec": {"command": ["true"]}}}}]),
                vec![
                    "spec.ephemeralContainers[1].ports: Forbidden: cannot be set for an Ephemeral Container",
                    "spec.ephemeralContainers[1].resources: Forbidden: cannot be set for an Ephemeral Container",
                    "spec.ephemeralContainers[1].restartPolicy: Forbidden: cannot be set for an Ephemeral Container",
                    "spec.ephemeralContainers[1].livenessProbe: Forbidden: cannot be set for an Ephemeral Container",
                    "spec.ephemeralContainers[1].readinessProbe: Forbidden: cannot be set for an Ephemeral Container",
                    "spec.ephemeralContainers[1].startupProbe: Forbidden: cannot be set for an Ephemeral Container",
                    "spec.ephemeralContainers[1].lifecycle: Forbidden: cannot be set for an Ephemeral Container",
                ],
            ),
            (
                "image missing",
                json!([{"name": "debugger", "image": "busybox"}, {"name": "shell"}]),
                vec!["spec.ephemeralContainers[1].image: Required value"],
            ),
        ];
        for (name, ephemeral, expected) in cases {
            let mut new = with_ephemeral(&old, ephemeral);
            PodStrategy.prepare_for_ephemeral_containers_update(&mut new, &old);
            let got = messages(PodStrategy.validate_ephemeral_containers_update(&new, &old));
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn ephemeral_container_change_rejected() {
        let old = with_ephemeral(
            &base_pod(),
            json!([{"name": "debugger", "image": "busybox"}]),
        );
        let mut new = with_ephemeral(&old, json!([{"name": "debugger", "image": "alpine"}]));
        PodStrategy.prepare_for_ephemeral_containers_update(&mut new, &old);
        let got = messages(PodStrategy.validate_ephemeral_containers_update(&new, &old));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with(
                "spec.ephemeralContainers.debugger: Forbidden: existing ephemeral containers \"debugger\" may not be changed\n"
            ),
            "{got:?}"
        );
        assert!(got[0].contains("image"), "{got:?}");
    }

    #[test]
    fn ephemeral_containers_update_keeps_the_rest() {
        let old = base_pod();
        let mut new = with_ephemeral(&old, json!([{"name": "debugger", "image": "busybox"}]));
        new.spec.as_mut().expect("spec").containers[0].image = Some("nginx:2".to_string());
        new.metadata.labels = Some([("app".to_string(), "web".to_string())].into());
        PodStrategy.prepare_for_ephemeral_containers_update(&mut new, &old);
        let spec = new.spec.as_ref().expect("spec");
        assert_eq!(spec.containers[0].image.as_deref(), Some("nginx"));
        assert_eq!(new.metadata.labels, None);
        let names: Vec<&str> = spec
            .ephemeral_containers
            .iter()
            .flatten()
            .map(|container| container.name.as_str())
            .collect();
        assert_eq!(names, ["debugger"]);
    }

    #[test]
    fn ephemeral_containers_of_static_pod_rejected() {
        let mut old = base_pod();
        old.spec.as_mut().expect("spec").node_name = Some("node-1".to_string());
        old.metadata.annotations =
            Some([(MIRROR_POD_ANNOTATION.to_string(), "hash".to_string())].into());
        let mut new = with_ephemeral(&old, json!([{"name": "debugger", "image": "busybox"}]));
        PodStrategy.prepare_for_ephemeral_containers_update(&mut new, &old);
        assert_eq!(
            messages(PodStrategy.validate_ephemeral_containers_update(&new, &old)),
            [": Forbidden: static pods do not support ephemeral containers"]
        );
    }

    #[test]
    fn plain_update_may_not_change_ephemeral_containers() {
        let old = base_pod();
        let new = with_ephemeral(&old, json!([{"name": "debugger", "image": "busybox"}]));
        let got = messages(PodStrategy.validate_update(&new, &old));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("spec: Forbidden: pod updates may not change fields other than"),
            "{got:?}"
        );
        assert!(got[0].contains("+ ephemeralContainers:"), "{got:?}");
    }

    #[test]
    fn status_update_keeps_spec_and_checks_qos() {
        let mut old = base_pod();
        PodStrategy.prepare_for_create(&mut old);
        let mut new = old.clone();
        new.spec.as_mut().expect("spec").containers[0].image = Some("other".to_string());
        new.status.as_mut().expect("status").qos_class = Some("Guaranteed".to_string());
        PodStrategy.prepare_for_status_update(&mut new, &old);
        assert_eq!(new.spec, old.spec);
        assert_eq!(
            messages(PodStrategy.validate_status_update(&new, &old)),
            vec!["status.qosClass: Invalid value: \"Guaranteed\": field is immutable"]
        );
    }

    #[test]
    fn selectable_fields_of_a_pod() {
        let value = json!({"metadata": {"name": "web"},
            "spec": {"nodeName": "n1", "restartPolicy": "Always"},
            "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.5"}]}});
        let fields = Strategy::selectable_fields(&PodStrategy, &value);
        assert_eq!(fields["spec.nodeName"], "n1");
        assert_eq!(fields["spec.hostNetwork"], "false");
        assert_eq!(fields["status.podIP"], "10.0.0.5");
        assert_eq!(fields["status.phase"], "Running");
        for name in PodStrategy.selectable_field_names() {
            assert!(fields.contains_key(*name), "{name} has a value");
        }
    }
}
