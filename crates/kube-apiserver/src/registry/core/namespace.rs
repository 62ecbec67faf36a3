//! The strategies of namespaces and nodes, the two cluster-scoped kinds of core/v1 with
//! a status subresource (upstream's `pkg/registry/core/namespace` and `.../node`).

use std::collections::BTreeMap;

use apimachinery::errors::{FieldError, FieldPath};
use k8s_openapi::api::core::v1::{Namespace, NamespaceSpec, NamespaceStatus, Node};
use serde_json::Value;

use crate::registry::pod_spec::common::{invalid_each, name_is_dns_label, validate_qualified_name};
use crate::registry::pod_spec::defaults::round_resource_list;
use crate::registry::pod_spec::resources::validate_resource_quantity;
use crate::registry::pod_spec::validation::validate_taint_effect;
use crate::registry::strategy::{Strategy, field_at};

/// The finalizer every new namespace carries until its content is deleted.
pub const FINALIZER_KUBERNETES: &str = "kubernetes";

/// The label that mirrors a namespace's name.
pub const LABEL_METADATA_NAME: &str = "kubernetes.io/metadata.name";

/// Strategy of `namespaces`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NamespaceStrategy;

impl Strategy for NamespaceStrategy {
    type Object = Namespace;

    /// Labels the namespace with its name and defaults the phase to Active.
    fn default(&self, namespace: &mut Namespace) {
        if let Some(name) = namespace
            .metadata
            .name
            .clone()
            .filter(|name| !name.is_empty())
        {
            namespace
                .metadata
                .labels
                .get_or_insert_with(BTreeMap::new)
                .insert(LABEL_METADATA_NAME.to_string(), name);
        }
        let status = namespace.status.get_or_insert_with(Default::default);
        if status.phase.as_deref().is_none_or(str::is_empty) {
            status.phase = Some("Active".to_string());
        }
    }

    /// Sets the phase to Active and adds the `kubernetes` finalizer.
    fn prepare_for_create(&self, namespace: &mut Namespace) {
        namespace.status = Some(NamespaceStatus {
            phase: Some("Active".to_string()),
            ..Default::default()
        });
        let finalizers = namespace
            .spec
            .get_or_insert_with(NamespaceSpec::default)
            .finalizers
            .get_or_insert_with(Vec::new);
        if !finalizers
            .iter()
            .any(|finalizer| finalizer == FINALIZER_KUBERNETES)
        {
            finalizers.push(FINALIZER_KUBERNETES.to_string());
        }
        // The generated name is known only after the store names the object, so the
        // name label is applied again here.
        self.default(namespace);
    }

    /// Keeps the finalizers and status: they change only through their subresources.
    fn prepare_for_update(&self, namespace: &mut Namespace, old: &Namespace) {
        let finalizers = old.spec.as_ref().and_then(|spec| spec.finalizers.clone());
        namespace
            .spec
            .get_or_insert_with(NamespaceSpec::default)
            .finalizers = finalizers;
        namespace.status = old.status.clone();
        self.default(namespace);
    }

    fn validate(&self, namespace: &Namespace) -> Vec<FieldError> {
        // NOTE: a namespace name must be a DNS-1123 label. If the store also checks names
        // as DNS subdomains, a bad name gets a second message that upstream does not send.
        let mut errors = Vec::new();
        if let Some(name) = namespace
            .metadata
            .name
            .as_deref()
            .filter(|name| !name.is_empty())
        {
            errors.extend(invalid_each(
                &FieldPath::from_names(["metadata", "name"]),
                name,
                name_is_dns_label(name, false),
            ));
        }
        let finalizers_path = FieldPath::from_names(["spec", "finalizers"]);
        for finalizer in namespace
            .spec
            .iter()
            .flat_map(|spec| spec.finalizers.iter().flatten())
        {
            errors.extend(validate_finalizer_name(finalizer, &finalizers_path));
        }
        errors
    }

    fn validate_update(&self, _namespace: &Namespace, _old: &Namespace) -> Vec<FieldError> {
        Vec::new()
    }

    fn prepare_for_status_update(&self, namespace: &mut Namespace, old: &Namespace) {
        namespace.spec = old.spec.clone();
    }

    fn validate_status_update(&self, namespace: &Namespace, _old: &Namespace) -> Vec<FieldError> {
        let phase = namespace
            .status
            .as_ref()
            .and_then(|status| status.phase.clone())
            .unwrap_or_default();
        let path = FieldPath::from_names(["status", "Phase"]);
        if namespace.metadata.deletion_timestamp.is_none() {
            if phase != "Active" {
                return vec![FieldError::invalid(
                    &path,
                    phase,
                    "may only be 'Active' if `deletionTimestamp` is empty",
                )];
            }
        } else if phase != "Terminating" {
            return vec![FieldError::invalid(
                &path,
                phase,
                "may only be 'Terminating' if `deletionTimestamp` is not empty",
            )];
        }
        Vec::new()
    }

    fn selectable_fields(&self, namespace: &Value) -> BTreeMap<String, String> {
        BTreeMap::from([(
            "status.phase".to_string(),
            field_at(namespace, "status.phase"),
        )])
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &["status.phase"]
    }
}

/// Checks a finalizer name: a qualified name, and either `kubernetes` or domain-qualified.
pub fn validate_finalizer_name(name: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_qualified_name(name, path);
    if !name.contains('/') && name != FINALIZER_KUBERNETES {
        errors.push(FieldError::invalid(
            path,
            name,
            "name is neither a standard finalizer name nor is it fully qualified",
        ));
    }
    errors
}

/// Strategy of `nodes`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeStrategy;

impl Strategy for NodeStrategy {
    type Object = Node;

    /// Defaults `status.allocatable` to the capacity and rounds both to milli precision.
    fn default(&self, node: &mut Node) {
        if let Some(status) = node.status.as_mut() {
            if status.allocatable.is_none() && status.capacity.is_some() {
                status.allocatable = status.capacity.clone();
            }
            round_resource_list(status.capacity.as_mut());
            round_resource_list(status.allocatable.as_mut());
        }
    }

    /// Keeps the status: it changes only through `nodes/status`.
    fn prepare_for_update(&self, node: &mut Node, old: &Node) {
        node.status = old.status.clone();
    }

    fn validate(&self, node: &Node) -> Vec<FieldError> {
        validate_node(node)
    }

    fn validate_update(&self, node: &Node, old: &Node) -> Vec<FieldError> {
        let mut errors = validate_node(node);
        let spec = node.spec.clone().unwrap_or_default();
        let old_spec = old.spec.clone().unwrap_or_default();
        let old_cidrs = old_spec.pod_cidrs.unwrap_or_default();
        if !old_cidrs.is_empty() && spec.pod_cidrs.unwrap_or_default() != old_cidrs {
            errors.push(FieldError::forbidden(
                &FieldPath::from_names(["spec", "podCIDRs"]),
                "node updates may not change podCIDR except from \"\" to valid",
            ));
        }
        let old_provider = old_spec.provider_id.unwrap_or_default();
        if !old_provider.is_empty() && spec.provider_id.unwrap_or_default() != old_provider {
            errors.push(FieldError::forbidden(
                &FieldPath::from_names(["spec", "providerID"]),
                "node updates may not change providerID except from \"\" to valid",
            ));
        }
        if spec.external_id != old_spec.external_id {
            errors.push(FieldError::forbidden(
                &FieldPath::from_names(["spec", "externalID"]),
                "may not be updated",
            ));
        }
        errors
    }

    fn validate_status_update(&self, node: &Node, _old: &Node) -> Vec<FieldError> {
        let mut errors = validate_node_resources(node);
        let addresses = node
            .status
            .iter()
            .flat_map(|status| status.addresses.iter().flatten());
        let mut seen = Vec::new();
        for (index, address) in addresses.enumerate() {
            if seen.contains(&address) {
                errors.push(FieldError::duplicate(
                    &FieldPath::from_names(["status", "addresses"]).index(index),
                    crate::registry::pod_spec::common::json_value(address),
                ));
            }
            seen.push(address);
        }
        errors
    }

    fn selectable_fields(&self, node: &Value) -> BTreeMap<String, String> {
        let unschedulable = node["spec"]["unschedulable"].as_bool().unwrap_or(false);
        BTreeMap::from([("spec.unschedulable".to_string(), unschedulable.to_string())])
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &["spec.unschedulable"]
    }
}

fn validate_node(node: &Node) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let taints_path = FieldPath::from_names(["metadata", "taints"]);
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (index, taint) in node
        .spec
        .iter()
        .flat_map(|spec| spec.taints.iter().flatten())
        .enumerate()
    {
        let taint_path = taints_path.index(index);
        errors.extend(validate_qualified_name(
            &taint.key,
            &taint_path.child("key"),
        ));
        let value = taint.value.as_deref().unwrap_or_default();
        let messages = apimachinery::validation::is_valid_label_value(value);
        if !messages.is_empty() {
            errors.push(FieldError::invalid(
                &taint_path.child("value"),
                value,
                messages.join(";"),
            ));
        }
        errors.extend(validate_taint_effect(
            &taint.effect,
            false,
            &taint_path.child("effect"),
        ));
        let key = (taint.key.as_str(), taint.effect.as_str());
        if seen.contains(&key) {
            let mut error = FieldError::duplicate(
                &taint_path,
                crate::registry::pod_spec::common::json_value(taint),
            );
            error.detail = "taints must be unique by key and effect pair".to_string();
            errors.push(error);
            continue;
        }
        seen.push(key);
    }
    errors.extend(validate_node_resources(node));
    let cidrs = node
        .spec
        .iter()
        .flat_map(|spec| spec.pod_cidrs.iter().flatten());
    let cidrs_path = FieldPath::from_names(["spec", "podCIDRs"]);
    let mut seen_cidrs = Vec::new();
    for (index, cidr) in cidrs.enumerate() {
        if !is_cidr(cidr) {
            errors.push(FieldError::invalid(
                &cidrs_path.index(index),
                cidr.as_str(),
                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            ));
        }
        if seen_cidrs.contains(&cidr) {
            errors.push(FieldError::duplicate(
                &cidrs_path.index(index),
                cidr.as_str(),
            ));
        }
        seen_cidrs.push(cidr);
    }
    errors
}

fn is_cidr(value: &str) -> bool {
    let Some((address, prefix)) = value.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u8>() else {
        return false;
    };
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => prefix <= 32,
        Ok(std::net::IpAddr::V6(_)) => prefix <= 128,
        Err(_) => false,
    }
}

fn validate_node_resources(node: &Node) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let Some(status) = node.status.as_ref() else {
        return errors;
    };
    for (list, field) in [
        (&status.capacity, "capacity"),
        (&status.allocatable, "allocatable"),
    ] {
        for (name, quantity) in list.iter().flatten() {
            // Upstream builds these paths with `Child`, so they print as `status.capacity.cpu`.
            let path = FieldPath::from_names(["status", field, name.as_str()]);
            errors.extend(validate_resource_quantity(name, quantity, &path).1);
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn namespace_create_defaults() {
        let mut namespace: Namespace =
            serde_json::from_value(json!({"metadata": {"name": "team-a"}})).expect("decodes");
        NamespaceStrategy.default(&mut namespace);
        NamespaceStrategy.prepare_for_create(&mut namespace);
        let value = serde_json::to_value(&namespace).expect("encodes");
        assert_eq!(value["spec"], json!({"finalizers": ["kubernetes"]}));
        assert_eq!(value["status"], json!({"phase": "Active"}));
        assert_eq!(
            value["metadata"]["labels"],
            json!({"kubernetes.io/metadata.name": "team-a"})
        );
        assert!(NamespaceStrategy.validate(&namespace).is_empty());
    }

    #[test]
    fn namespace_name_and_status_rules() {
        let namespace: Namespace =
            serde_json::from_value(json!({"metadata": {"name": "Team"}})).expect("decodes");
        let errors = NamespaceStrategy.validate(&namespace);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .to_string()
                .starts_with("metadata.name: Invalid value: \"Team\": a lowercase RFC 1123 label")
        );

        let mut active: Namespace = serde_json::from_value(
            json!({"metadata": {"name": "a"}, "status": {"phase": "Terminating"}}),
        )
        .expect("decodes");
        let errors: Vec<String> = NamespaceStrategy
            .validate_status_update(&active, &active.clone())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            vec![
                "status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty"
            ]
        );
        active.status = Some(NamespaceStatus {
            phase: Some("Active".into()),
            ..Default::default()
        });
        assert!(
            NamespaceStrategy
                .validate_status_update(&active, &active.clone())
                .is_empty()
        );
    }

    #[test]
    fn namespace_update_keeps_finalizers() {
        let old: Namespace = serde_json::from_value(json!({"metadata": {"name": "a"}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})).expect("decodes");
        let mut new: Namespace =
            serde_json::from_value(json!({"metadata": {"name": "a"}, "spec": {"finalizers": []}}))
                .expect("decodes");
        NamespaceStrategy.prepare_for_update(&mut new, &old);
        assert_eq!(new.spec, old.spec);
        assert_eq!(new.status, old.status);
    }

    #[test]
    fn node_rules() {
        let node: Node = serde_json::from_value(json!({"metadata": {"name": "n1"},
            "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}, {"key": "k", "effect": "NoSchedule"}]}}))
        .expect("decodes");
        let errors: Vec<String> = NodeStrategy
            .validate(&node)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            vec![
                "metadata.taints[1]: Duplicate value: {\"effect\":\"NoSchedule\",\"key\":\"k\"}: taints must be unique by key and effect pair"
            ]
        );

        let fields =
            Strategy::selectable_fields(&NodeStrategy, &json!({"spec": {"unschedulable": true}}));
        assert_eq!(fields["spec.unschedulable"], "true");
        let fields = Strategy::selectable_fields(&NodeStrategy, &json!({"spec": {}}));
        assert_eq!(fields["spec.unschedulable"], "false");
    }
}
