//! Builders for the volume plugin tests: claims, volumes, classes and CSINodes put
//! into a [`ClusterState`] as the informers would.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::{CSINode, StorageClass};
use serde_json::{Value, json};

use crate::framework::handle::ClusterState;
use crate::plugins::testing::named_pod;

/// Adds a claim `default/<name>` with the given spec and metadata fragments.
pub fn add_claim(
    cluster: &ClusterState,
    name: &str,
    metadata: Value,
    spec: Value,
) -> Arc<PersistentVolumeClaim> {
    let mut meta = json!({"name": name, "namespace": "default", "uid": format!("uid-{name}"), "resourceVersion": "1"});
    if let (Some(meta), Some(extra)) = (meta.as_object_mut(), metadata.as_object()) {
        for (key, value) in extra {
            meta.insert(key.clone(), value.clone());
        }
    }
    let claim: Arc<PersistentVolumeClaim> =
        Arc::new(serde_json::from_value(json!({"metadata": meta, "spec": spec})).expect("claim"));
    cluster
        .pvcs
        .write()
        .expect("lock")
        .insert(format!("default/{name}"), claim.clone());
    claim
}

/// Adds a volume from its spec and metadata fragments, with status phase `phase`.
pub fn add_volume(
    cluster: &ClusterState,
    name: &str,
    metadata: Value,
    spec: Value,
    phase: &str,
) -> Arc<PersistentVolume> {
    let mut meta = json!({"name": name, "resourceVersion": "1"});
    if let (Some(meta), Some(extra)) = (meta.as_object_mut(), metadata.as_object()) {
        for (key, value) in extra {
            meta.insert(key.clone(), value.clone());
        }
    }
    let volume: Arc<PersistentVolume> = Arc::new(
        serde_json::from_value(json!({"metadata": meta, "spec": spec, "status": {"phase": phase}}))
            .expect("volume"),
    );
    cluster
        .pvs
        .write()
        .expect("lock")
        .insert(name.to_string(), volume.clone());
    volume
}

/// Adds a StorageClass from JSON fields beside `metadata`.
pub fn add_class(cluster: &ClusterState, name: &str, fields: Value) -> Arc<StorageClass> {
    let mut value = json!({"metadata": {"name": name}});
    if let (Some(object), Some(extra)) = (value.as_object_mut(), fields.as_object()) {
        for (key, field) in extra {
            object.insert(key.clone(), field.clone());
        }
    }
    let class: Arc<StorageClass> = Arc::new(serde_json::from_value(value).expect("class"));
    cluster
        .storage_classes
        .write()
        .expect("lock")
        .insert(name.to_string(), class.clone());
    class
}

/// Adds the CSINode of `node` with the given annotations and drivers.
pub fn add_csi_node(cluster: &ClusterState, node: &str, annotations: Value, drivers: Value) {
    let csi_node: CSINode = serde_json::from_value(json!({
        "metadata": {"name": node, "annotations": annotations},
        "spec": {"drivers": drivers},
    }))
    .expect("csinode");
    cluster
        .csi_nodes
        .write()
        .expect("lock")
        .insert(node.to_string(), Arc::new(csi_node));
}

/// Builds a pod `default/<name>` bound to `node_name` (unbound when empty) whose
/// volumes use `claims`.
pub fn claims_pod(name: &str, node_name: &str, claims: &[&str]) -> Pod {
    let volumes: Vec<Value> = claims
        .iter()
        .enumerate()
        .map(|(i, claim)| json!({"name": format!("v{i}"), "persistentVolumeClaim": {"claimName": claim}}))
        .collect();
    let mut spec = json!({"volumes": volumes});
    if !node_name.is_empty() {
        spec["nodeName"] = json!(node_name);
    }
    named_pod(name, json!({}), spec)
}

/// Builds a pod with the given inline volumes.
pub fn volumes_pod(name: &str, node_name: &str, volumes: Value) -> Pod {
    let mut spec = json!({"volumes": volumes});
    if !node_name.is_empty() {
        spec["nodeName"] = json!(node_name);
    }
    named_pod(name, json!({}), spec)
}
