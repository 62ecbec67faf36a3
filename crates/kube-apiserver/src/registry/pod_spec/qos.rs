//! The QoS class of a pod (upstream's `ComputePodQOS`): Guaranteed when every container
//! limits cpu and memory and requests equal limits, BestEffort when nothing requests or
//! limits cpu or memory, Burstable otherwise.

use std::collections::BTreeMap;

use apimachinery::quantity::Quantity;
use k8s_openapi::api::core::v1::PodSpec;

use super::common::parse_quantity;

/// Computes the QoS class of a pod spec: "Guaranteed", "Burstable" or "BestEffort".
/// Init containers count like regular containers, and zero quantities count as unset.
pub fn compute_qos_class(spec: &PodSpec) -> &'static str {
    let mut requests: BTreeMap<&str, Quantity> = BTreeMap::new();
    let mut limits: BTreeMap<&str, Quantity> = BTreeMap::new();
    let mut guaranteed = true;

    for container in spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
    {
        let resources = container.resources.as_ref();
        for (name, quantity) in resources
            .and_then(|r| r.requests.as_ref())
            .into_iter()
            .flatten()
        {
            let Some(name) = qos_resource(name) else {
                continue;
            };
            if let Some(parsed) = parse_quantity(quantity).filter(|q| !q.is_zero()) {
                add(&mut requests, name, parsed);
            }
        }
        let mut container_limits = 0;
        for (name, quantity) in resources
            .and_then(|r| r.limits.as_ref())
            .into_iter()
            .flatten()
        {
            let Some(name) = qos_resource(name) else {
                continue;
            };
            if let Some(parsed) = parse_quantity(quantity).filter(|q| !q.is_zero()) {
                container_limits += 1;
                add(&mut limits, name, parsed);
            }
        }
        if container_limits < 2 {
            guaranteed = false;
        }
    }

    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed
        && requests
            .iter()
            .all(|(name, request)| limits.get(name) == Some(request))
        && requests.len() == limits.len()
    {
        return "Guaranteed";
    }
    "Burstable"
}

fn qos_resource(name: &str) -> Option<&'static str> {
    match name {
        "cpu" => Some("cpu"),
        "memory" => Some("memory"),
        _ => None,
    }
}

fn add(map: &mut BTreeMap<&'static str, Quantity>, name: &'static str, quantity: Quantity) {
    map.entry(name)
        .and_modify(|total| total.add(&quantity))
        .or_insert(quantity);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn qos(containers: serde_json::Value) -> &'static str {
        let spec: PodSpec =
            serde_json::from_value(json!({"containers": containers})).expect("decodes");
        compute_qos_class(&spec)
    }

    #[test]
    fn classes() {
        assert_eq!(qos(json!([{"name": "a"}])), "BestEffort");
        assert_eq!(
            qos(
                json!([{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}}])
            ),
            "Guaranteed"
        );
        assert_eq!(
            qos(json!([{"name": "a", "resources": {"requests": {"cpu": "1"}}}])),
            "Burstable"
        );
        assert_eq!(
            qos(
                json!([{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}}}])
            ),
            "Burstable"
        );
        assert_eq!(
            qos(
                json!([{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}, {"name": "b"}])
            ),
            "Burstable"
        );
    }
}
