//! What a namespace uses of each resource a ResourceQuota limits.
//!
//! Entry point: [`pod_usage`] sums compute resources and counts pods;
//! [`object_count_resource`] maps an object-count quota name (`count/services`,
//! `configmaps`) to the resource whose objects are counted.

use std::collections::BTreeMap;

use apimachinery::quantity::Quantity;
use k8s_openapi::api::core::v1::{Container, Pod};

/// Returns whether a pod no longer counts against quota: it reached Succeeded or
/// Failed.
pub fn pod_is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status
            .as_ref()
            .and_then(|status| status.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// The legacy quota names that count objects of a core resource.
const LEGACY_COUNTS: &[(&str, &str)] = &[
    ("configmaps", "configmaps"),
    ("persistentvolumeclaims", "persistentvolumeclaims"),
    ("replicationcontrollers", "replicationcontrollers"),
    ("resourcequotas", "resourcequotas"),
    ("secrets", "secrets"),
    ("services", "services"),
];

/// Maps an object-count quota name to `(group, plural)`: `count/deployments.apps` to
/// `("apps", "deployments")`, `count/pods` and the legacy `services` to the core
/// group. `None` for compute resources and names this controller does not count.
pub fn object_count_resource(name: &str) -> Option<(String, String)> {
    if let Some(rest) = name.strip_prefix("count/") {
        return Some(match rest.split_once('.') {
            Some((plural, group)) => (group.to_string(), plural.to_string()),
            None => (String::new(), rest.to_string()),
        });
    }
    LEGACY_COUNTS
        .iter()
        .find(|(quota_name, _)| *quota_name == name)
        .map(|(_, plural)| (String::new(), plural.to_string()))
}

fn quantity(value: &k8s_openapi::apimachinery::pkg::api::resource::Quantity) -> Option<Quantity> {
    Quantity::parse(&value.0).ok()
}

/// Returns the request or limit of one container for a resource.
fn container_amount(container: &Container, limits: bool, resource: &str) -> Option<Quantity> {
    let resources = container.resources.as_ref()?;
    let map = if limits {
        resources.limits.as_ref()
    } else {
        resources.requests.as_ref()
    }?;
    map.get(resource).and_then(quantity)
}

/// Returns a pod's effective request or limit: the larger of the containers' sum and the
/// largest init container, plus the pod overhead.
fn pod_amount(pod: &Pod, limits: bool, resource: &str) -> Quantity {
    let mut total = Quantity::parse("0")
        .unwrap_or_else(|_| Quantity::new(0, apimachinery::quantity::Format::DecimalSI));
    let Some(spec) = pod.spec.as_ref() else {
        return total;
    };
    for container in &spec.containers {
        if let Some(amount) = container_amount(container, limits, resource) {
            total.add(&amount);
        }
    }
    for init in spec.init_containers.iter().flatten() {
        if let Some(amount) = container_amount(init, limits, resource)
            && amount > total
        {
            total = amount;
        }
    }
    if let Some(overhead) = spec
        .overhead
        .as_ref()
        .and_then(|o| o.get(resource))
        .and_then(quantity)
    {
        total.add(&overhead);
    }
    total
}

/// Sums what the non-terminal pods use of the compute and pod-count resources among
/// `names` (`pods`, `count/pods`, `cpu`, `memory`, `requests.*`, `limits.*`,
/// `ephemeral-storage` and their `requests.`/`limits.` forms).
pub fn pod_usage<'a>(
    names: impl IntoIterator<Item = &'a str>,
    pods: &[&Pod],
) -> BTreeMap<String, Quantity> {
    let active: Vec<&&Pod> = pods.iter().filter(|pod| !pod_is_terminal(pod)).collect();
    let mut usage = BTreeMap::new();
    for name in names {
        let (limits, resource) = match name {
            "pods" | "count/pods" => {
                usage.insert(
                    name.to_string(),
                    Quantity::new(
                        active.len() as i64,
                        apimachinery::quantity::Format::DecimalSI,
                    ),
                );
                continue;
            }
            "cpu" | "memory" | "ephemeral-storage" => (false, name),
            other => match other.split_once('.') {
                Some(("requests", resource)) => (false, resource),
                Some(("limits", resource)) => (true, resource),
                _ => continue,
            },
        };
        let mut total = Quantity::new(0, apimachinery::quantity::Format::DecimalSI);
        for pod in &active {
            total.add(&pod_amount(pod, limits, resource));
        }
        usage.insert(name.to_string(), total);
    }
    usage
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(phase: &str, cpu: &str, memory: &str) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "a", "image": "i", "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": "1"}}},
            {"name": "b", "image": "i", "resources": {"requests": {"cpu": "100m"}}}],
            "initContainers": [{"name": "init", "image": "i", "resources": {"requests": {"cpu": "2"}}}]},
            "status": {"phase": phase}}))
        .expect("valid pod")
    }

    #[test]
    fn sums_active_pods() {
        let pods = [
            pod("Running", "200m", "64Mi"),
            pod("Pending", "300m", "64Mi"),
            pod("Succeeded", "5", "1Gi"),
        ];
        let refs: Vec<&Pod> = pods.iter().collect();
        let usage = pod_usage(
            [
                "pods",
                "requests.cpu",
                "requests.memory",
                "limits.cpu",
                "count/pods",
                "services",
            ],
            &refs,
        );
        let text: BTreeMap<&str, String> = usage
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_string()))
            .collect();
        assert_eq!(text["pods"], "2");
        assert_eq!(text["count/pods"], "2");
        // The init container's 2 CPUs exceed each pod's container sum.
        assert_eq!(text["requests.cpu"], "4");
        assert_eq!(text["requests.memory"], "128Mi");
        assert_eq!(text["limits.cpu"], "2");
        assert!(!text.contains_key("services"));
    }

    #[test]
    fn object_count_names() {
        assert_eq!(
            object_count_resource("count/deployments.apps"),
            Some(("apps".into(), "deployments".into()))
        );
        assert_eq!(
            object_count_resource("count/configmaps"),
            Some((String::new(), "configmaps".into()))
        );
        assert_eq!(
            object_count_resource("services"),
            Some((String::new(), "services".into()))
        );
        assert_eq!(object_count_resource("requests.cpu"), None);
    }
}
