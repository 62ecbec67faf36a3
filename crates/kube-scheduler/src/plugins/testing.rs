//! Builders for plugin unit tests: pods and nodes from JSON fragments.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::{Value, json};

use crate::framework::types::NodeInfo;

/// Builds a pod `default/p` from a spec fragment; `containers` defaults to one plain
/// container.
pub fn pod(spec: Value) -> Pod {
    named_pod("p", json!({}), spec)
}

/// Builds a pod `default/<name>` from metadata and spec fragments.
pub fn named_pod(name: &str, metadata: Value, mut spec: Value) -> Pod {
    if spec.get("containers").is_none() {
        spec["containers"] = json!([{"name": "c"}]);
    }
    let mut meta = json!({"name": name, "namespace": "default", "uid": name});
    if let (Some(meta), Some(extra)) = (meta.as_object_mut(), metadata.as_object()) {
        for (key, value) in extra {
            meta.insert(key.clone(), value.clone());
        }
    }
    serde_json::from_value(json!({"metadata": meta, "spec": spec})).expect("valid pod")
}

/// Builds a node from JSON.
pub fn node(value: Value) -> Node {
    serde_json::from_value(value).expect("valid node")
}

/// Builds a node info from node JSON and the pods on it.
pub fn node_info(value: Value, pods: &[Pod]) -> NodeInfo {
    let mut info = NodeInfo::new(Arc::new(node(value)));
    for pod in pods {
        info.add_pod(Arc::new(pod.clone()));
    }
    info
}

/// Builds a node named `name` with allocatable CPU (millicores), memory (bytes) and
/// labels.
pub fn sized_node(name: &str, milli_cpu: i64, memory: i64, labels: Value) -> Node {
    node(json!({
        "metadata": {"name": name, "labels": labels},
        "status": {"allocatable": {
            "cpu": format!("{milli_cpu}m"),
            "memory": memory.to_string(),
            "pods": "110",
        }}
    }))
}

/// Builds a pod with one container per (milli CPU, memory bytes) request, bound to
/// `node_name` when not empty.
pub fn pod_with_requests(name: &str, node_name: &str, requests: &[(i64, i64)]) -> Pod {
    let containers: Vec<Value> = requests
        .iter()
        .enumerate()
        .map(|(i, (cpu, memory))| {
            json!({"name": format!("c{i}"), "resources": {"requests": {
                "cpu": format!("{cpu}m"), "memory": memory.to_string()}}})
        })
        .collect();
    let mut spec = json!({"containers": containers});
    if !node_name.is_empty() {
        spec["nodeName"] = json!(node_name);
    }
    named_pod(name, json!({}), spec)
}
