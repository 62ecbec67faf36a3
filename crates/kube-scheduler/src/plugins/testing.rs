//! Builders for plugin unit tests: pods and nodes from JSON fragments, and a client
//! that records the API calls plugins make.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod};
use serde_json::{Value, json};

use crate::framework::handle::{ApiError, ClusterClient};
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

/// A [`ClusterClient`] that records its calls and stores the volumes and claims it is
/// asked to write, bumping their `resourceVersion` as the API server would.
#[derive(Default)]
pub struct RecordingClient {
    /// Each call as `verb kind name`.
    pub calls: std::sync::Mutex<Vec<String>>,
    /// The volumes written, by name.
    pub volumes: std::sync::Mutex<std::collections::HashMap<String, PersistentVolume>>,
    /// The claims written, by `namespace/name`.
    pub claims: std::sync::Mutex<std::collections::HashMap<String, PersistentVolumeClaim>>,
    /// When set, writes of volumes fail with this message.
    pub fail_volume_writes: std::sync::Mutex<Option<String>>,
}

impl RecordingClient {
    /// Returns the recorded calls.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("lock").clone()
    }

    fn record(&self, call: String) {
        self.calls.lock().expect("lock").push(call);
    }
}

fn bump(meta: &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) {
    let version: u64 = meta
        .resource_version
        .as_deref()
        .and_then(|version| version.parse().ok())
        .unwrap_or(0);
    meta.resource_version = Some((version + 1).to_string());
}

#[async_trait::async_trait]
impl ClusterClient for RecordingClient {
    async fn bind(&self, pod: &Pod, node_name: &str) -> Result<(), ApiError> {
        self.record(format!(
            "bind {} {node_name}",
            crate::framework::types::pod_key(pod)
        ));
        Ok(())
    }

    async fn delete_pod(&self, pod: &Pod) -> Result<(), ApiError> {
        self.record(format!(
            "delete pod {}",
            crate::framework::types::pod_key(pod)
        ));
        Ok(())
    }

    async fn update_pod_status(
        &self,
        pod: &Pod,
        _condition: Option<k8s_openapi::api::core::v1::PodCondition>,
        nominated_node_name: Option<&str>,
    ) -> Result<(), ApiError> {
        self.record(format!(
            "status pod {} {}",
            crate::framework::types::pod_key(pod),
            nominated_node_name.unwrap_or_default()
        ));
        Ok(())
    }

    fn record_event(&self, _pod: &Pod, _event_type: &str, _reason: &str, _message: String) {}

    async fn update_persistent_volume(
        &self,
        volume: &PersistentVolume,
    ) -> Result<PersistentVolume, ApiError> {
        let name = volume.metadata.name.clone().unwrap_or_default();
        self.record(format!("update persistentvolume {name}"));
        if let Some(message) = self.fail_volume_writes.lock().expect("lock").clone() {
            return Err(ApiError {
                operation: format!("update persistentvolume {name}"),
                message,
                not_found: false,
            });
        }
        let mut stored = volume.clone();
        bump(&mut stored.metadata);
        self.volumes
            .lock()
            .expect("lock")
            .insert(name, stored.clone());
        Ok(stored)
    }

    async fn update_persistent_volume_claim(
        &self,
        claim: &PersistentVolumeClaim,
    ) -> Result<PersistentVolumeClaim, ApiError> {
        let key = format!(
            "{}/{}",
            claim.metadata.namespace.as_deref().unwrap_or_default(),
            claim.metadata.name.as_deref().unwrap_or_default()
        );
        self.record(format!("update persistentvolumeclaim {key}"));
        let mut stored = claim.clone();
        bump(&mut stored.metadata);
        self.claims
            .lock()
            .expect("lock")
            .insert(key, stored.clone());
        Ok(stored)
    }
}

/// Builds a handle over `cluster` and `client` with a fresh nominator.
pub fn handle_with(
    cluster: Arc<crate::framework::handle::ClusterState>,
    client: Arc<dyn ClusterClient>,
) -> crate::framework::handle::Handle {
    crate::framework::handle::Handle {
        client,
        cluster,
        nominator: Arc::default(),
        waiting_pods: Arc::default(),
        framework: Arc::default(),
    }
}
