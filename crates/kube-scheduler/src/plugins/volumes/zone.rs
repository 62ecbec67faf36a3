//! VolumeZone: a node must carry the zone and region labels of every bound volume the
//! pod uses, with a value among the volume's. PreFilter collects the labels; Filter
//! compares them. A node without any zone or region label fits (a single-zone cluster),
//! and unbound `WaitForFirstConsumer` claims are left to VolumeBinding.

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{PersistentVolume, Pod};

use super::{ERR_REASON_ZONE_CONFLICT, ZONE_NAME, claim_class, claim_volume_name, pod_volumes};
use crate::cache::Snapshot;
use crate::framework::handle::ClusterState;
use crate::framework::interface::{CycleState, FilterPlugin, Plugin, PreFilterPlugin, Status};
use crate::framework::types::{NodeInfo, pod_namespace};

const PRE_FILTER_KEY: &str = "PreFilterVolumeZone";

/// The volume labels compared, beta keys first, as upstream lists them.
const TOPOLOGY_LABELS: [&str; 4] = [
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
];

/// Returns the GA key of a beta zone or region key, which a node may carry instead.
fn ga_label(key: &str) -> &str {
    match key {
        "failure-domain.beta.kubernetes.io/zone" => "topology.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region" => "topology.kubernetes.io/region",
        other => other,
    }
}

/// One zone or region label of a volume: the key and the values it allows.
#[derive(Clone, Debug, PartialEq)]
struct VolumeTopology {
    key: &'static str,
    values: BTreeSet<String>,
}

#[derive(Clone)]
struct PreFilterState(Vec<VolumeTopology>);

/// Splits a zone label value into its zones. Several zones are joined with `__`
/// (upstream `LabelZonesToSet`); a value with an empty zone is invalid.
fn label_zones(value: &str) -> Option<BTreeSet<String>> {
    let mut zones = BTreeSet::new();
    for zone in value.split("__") {
        let zone = zone.trim();
        if zone.is_empty() {
            return None;
        }
        zones.insert(zone.to_string());
    }
    Some(zones)
}

fn volume_topologies(volume: &PersistentVolume) -> Vec<VolumeTopology> {
    let Some(labels) = volume.metadata.labels.as_ref() else {
        return Vec::new();
    };
    TOPOLOGY_LABELS
        .iter()
        .filter_map(|key| {
            let value = labels.get(*key)?;
            // Upstream ignores a label it cannot parse.
            label_zones(value).map(|values| VolumeTopology { key, values })
        })
        .collect()
}

/// The VolumeZone plugin.
pub struct VolumeZone {
    cluster: Arc<ClusterState>,
}

impl VolumeZone {
    /// Builds the plugin over the cluster's claims, volumes and classes.
    pub fn new(cluster: Arc<ClusterState>) -> VolumeZone {
        VolumeZone { cluster }
    }

    /// Collects the zone labels of the volumes bound to the pod's claims.
    fn pod_topologies(&self, pod: &Pod) -> Result<Vec<VolumeTopology>, Status> {
        let namespace = pod_namespace(pod);
        let mut topologies = Vec::new();
        for volume in pod_volumes(pod) {
            let Some(source) = volume.persistent_volume_claim.as_ref() else {
                continue;
            };
            if source.claim_name.is_empty() {
                return Err(Status::unresolvable("PersistentVolumeClaim had no name"));
            }
            let Some(claim) = self.cluster.claim(namespace, &source.claim_name) else {
                return Err(Status::unresolvable(format!(
                    "persistentvolumeclaim {:?} not found",
                    source.claim_name
                )));
            };
            let volume_name = claim_volume_name(&claim);
            if volume_name.is_empty() {
                let class_name = claim_class(&claim);
                if class_name.is_empty() {
                    return Err(Status::unresolvable(
                        "PersistentVolumeClaim had no pv name and storageClass name",
                    ));
                }
                let Some(class) = self.cluster.storage_class(class_name) else {
                    return Err(Status::unresolvable(format!(
                        "storageclass.storage.k8s.io {class_name:?} not found"
                    )));
                };
                match class.volume_binding_mode.as_deref() {
                    None => {
                        return Err(Status::unresolvable(format!(
                            "VolumeBindingMode not set for StorageClass {class_name:?}"
                        )));
                    }
                    Some("WaitForFirstConsumer") => continue,
                    Some(_) => {
                        return Err(Status::unresolvable("PersistentVolume had no name"));
                    }
                }
            }
            let Some(bound) = self.cluster.volume(volume_name) else {
                return Err(Status::unresolvable(format!(
                    "persistentvolume {volume_name:?} not found"
                )));
            };
            topologies.extend(volume_topologies(&bound));
        }
        Ok(topologies)
    }
}

impl Plugin for VolumeZone {
    fn name(&self) -> &'static str {
        ZONE_NAME
    }

    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl PreFilterPlugin for VolumeZone {
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, _snapshot: &Snapshot) -> Status {
        match self.pod_topologies(pod) {
            Ok(topologies) => {
                state.write(PRE_FILTER_KEY, PreFilterState(topologies));
                Status::success()
            }
            Err(status) => status,
        }
    }
}

impl FilterPlugin for VolumeZone {
    fn filter(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
        if pod_volumes(pod).is_empty() {
            return Status::success();
        }
        // A Kubernetes 1.18 policy enables Filter alone, so compute the labels here.
        let computed;
        let topologies = match state.read::<PreFilterState>(PRE_FILTER_KEY) {
            Some(pre) => &pre.0,
            None => match self.pod_topologies(pod) {
                Ok(topologies) => {
                    computed = topologies;
                    &computed
                }
                Err(status) => return status,
            },
        };
        if topologies.is_empty() {
            return Status::success();
        }
        let Some(labels) = node_info.node_labels() else {
            return Status::success();
        };
        if !TOPOLOGY_LABELS.iter().any(|key| labels.contains_key(*key)) {
            return Status::success();
        }
        for topology in topologies {
            let value = labels
                .get(topology.key)
                .or_else(|| labels.get(ga_label(topology.key)));
            if !value.is_some_and(|value| topology.values.contains(value)) {
                return Status::unresolvable(ERR_REASON_ZONE_CONFLICT);
            }
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node_info, pod};
    use serde_json::{Value, json};

    fn cluster() -> Arc<ClusterState> {
        let cluster = Arc::new(ClusterState::default());
        let volume = |name: &str, labels: Value| -> Arc<PersistentVolume> {
            Arc::new(
                serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}}))
                    .expect("pv"),
            )
        };
        {
            let mut volumes = cluster.pvs.write().expect("lock");
            volumes.insert(
                "Vol_1".into(),
                volume(
                    "Vol_1",
                    json!({"failure-domain.beta.kubernetes.io/zone": "us-west1-a"}),
                ),
            );
            volumes.insert("Vol_2".into(), volume("Vol_2", json!({"failure-domain.beta.kubernetes.io/region": "us-west1", "uselessLabel": "none"})));
            volumes.insert(
                "Vol_3".into(),
                volume(
                    "Vol_3",
                    json!({"failure-domain.beta.kubernetes.io/region": "us-west1-b__us-west1-c"}),
                ),
            );
            volumes.insert(
                "Vol_Stable_1".into(),
                volume(
                    "Vol_Stable_1",
                    json!({"topology.kubernetes.io/zone": "us-west1-a"}),
                ),
            );
            volumes.insert(
                "Vol_Stable_2".into(),
                volume(
                    "Vol_Stable_2",
                    json!({"topology.kubernetes.io/region": "us-west1"}),
                ),
            );
        }
        {
            let mut claims = cluster.pvcs.write().expect("lock");
            for (claim, volume) in [
                ("PVC_1", "Vol_1"),
                ("PVC_2", "Vol_2"),
                ("PVC_3", "Vol_3"),
                ("PVC_Stable_1", "Vol_Stable_1"),
                ("PVC_Stable_2", "Vol_Stable_2"),
                ("PVC_Late", ""),
            ] {
                let value = json!({"metadata": {"name": claim, "namespace": "default"},
                    "spec": {"volumeName": volume, "storageClassName": "Class_Late"}});
                claims.insert(
                    format!("default/{claim}"),
                    Arc::new(serde_json::from_value(value).expect("pvc")),
                );
            }
        }
        cluster.storage_classes.write().expect("lock").insert(
            "Class_Late".into(),
            Arc::new(
                serde_json::from_value(json!({"metadata": {"name": "Class_Late"},
                "provisioner": "x", "volumeBindingMode": "WaitForFirstConsumer"}))
                .expect("class"),
            ),
        );
        cluster
    }

    fn claim_pod(claim: &str) -> Pod {
        pod(json!({"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": claim}}]}))
    }

    /// Upstream's single-zone cases: labels match by key and value, a node without zone
    /// labels fits, multi-zone values split on `__`, and beta volume labels match GA
    /// node labels.
    #[test]
    fn filter_table() {
        let plugin = VolumeZone::new(cluster());
        let cases = [
            (
                "PVC_1",
                json!({"failure-domain.beta.kubernetes.io/zone": "us-west1-a", "uselessLabel": "none"}),
                true,
            ),
            (
                "PVC_1",
                json!({"failure-domain.beta.kubernetes.io/zone": "us-west1-b"}),
                false,
            ),
            ("PVC_1", json!({"uselessLabel": "none"}), true),
            (
                "PVC_1",
                json!({"topology.kubernetes.io/zone": "us-west1-a"}),
                true,
            ),
            (
                "PVC_2",
                json!({"failure-domain.beta.kubernetes.io/region": "us-west1"}),
                true,
            ),
            (
                "PVC_2",
                json!({"failure-domain.beta.kubernetes.io/region": "no_us-west1"}),
                false,
            ),
            (
                "PVC_3",
                json!({"failure-domain.beta.kubernetes.io/region": "us-west1-c"}),
                true,
            ),
            (
                "PVC_3",
                json!({"failure-domain.beta.kubernetes.io/region": "us-west1-a"}),
                false,
            ),
            (
                "PVC_Stable_1",
                json!({"topology.kubernetes.io/zone": "us-west1-a"}),
                true,
            ),
            (
                "PVC_Stable_1",
                json!({"topology.kubernetes.io/zone": "us-west1-b"}),
                false,
            ),
            (
                "PVC_Stable_2",
                json!({"topology.kubernetes.io/region": "us-west1", "topology.kubernetes.io/zone": "x"}),
                true,
            ),
            (
                "PVC_Late",
                json!({"topology.kubernetes.io/zone": "anywhere"}),
                true,
            ),
        ];
        for (i, (claim, labels, fits)) in cases.into_iter().enumerate() {
            let p = claim_pod(claim);
            let info = node_info(json!({"metadata": {"name": "n", "labels": labels}}), &[]);
            let mut state = CycleState::new();
            assert!(
                plugin
                    .pre_filter(&mut state, &p, &Snapshot::default())
                    .is_success(),
                "case {i}"
            );
            let status = plugin.filter(&state, &p, &info);
            assert_eq!(status.is_success(), fits, "case {i}: {status}");
            if !fits {
                assert_eq!(
                    status,
                    Status::unresolvable(ERR_REASON_ZONE_CONFLICT),
                    "case {i}"
                );
            }
            // Filter alone, as a 1.18 policy runs it, decides the same.
            let alone = plugin.filter(&CycleState::new(), &p, &info);
            assert_eq!(alone.is_success(), fits, "case {i} without PreFilter");
        }
    }

    #[test]
    fn pre_filter_rejects_missing_objects() {
        let plugin = VolumeZone::new(cluster());
        let mut state = CycleState::new();
        assert_eq!(
            plugin.pre_filter(&mut state, &claim_pod("missing"), &Snapshot::default()),
            Status::unresolvable("persistentvolumeclaim \"missing\" not found")
        );
    }
}
