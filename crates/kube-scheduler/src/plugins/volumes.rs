//! The volume plugins: VolumeBinding (claims must exist and bound volumes must be
//! reachable from the node), VolumeRestrictions (one writer per GCE PD, EBS, RBD or
//! iSCSI disk per node) and NodeVolumeLimits.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, Volume};

use super::helper::node_selector_terms_match;
use crate::cache::Snapshot;
use crate::framework::handle::ClusterState;
use crate::framework::interface::{CycleState, FilterPlugin, Plugin, PreFilterPlugin, Status};
use crate::framework::types::{NodeInfo, pod_namespace};

/// The VolumeBinding plugin name.
pub const BINDING_NAME: &str = "VolumeBinding";
/// The VolumeRestrictions plugin name.
pub const RESTRICTIONS_NAME: &str = "VolumeRestrictions";
/// The NodeVolumeLimits plugin name.
pub const LIMITS_NAME: &str = "NodeVolumeLimits";
/// The VolumeZone plugin name.
pub const ZONE_NAME: &str = "VolumeZone";
/// Failure reason: a bound volume's node affinity excludes the node.
pub const ERR_REASON_NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
/// Failure reason: an unbound claim with immediate binding.
pub const ERR_REASON_UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";
/// Failure reason of VolumeRestrictions.
pub const ERR_REASON_DISK_CONFLICT: &str = "node(s) had no available disk";
const PRE_FILTER_KEY: &str = "PreFilterVolumeBinding";

fn pod_volumes(pod: &Pod) -> &[Volume] {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.volumes.as_deref())
        .unwrap_or_default()
}

#[derive(Clone)]
struct BoundVolumes(Vec<Arc<k8s_openapi::api::core::v1::PersistentVolume>>);

/// The VolumeBinding plugin.
// NOTE: claims that are unbound are not bound or provisioned by the scheduler
// (WaitForFirstConsumer); such pods stay unschedulable until the claim is bound.
pub struct VolumeBinding {
    cluster: Arc<ClusterState>,
}

impl VolumeBinding {
    /// Builds the plugin over the cluster's claims and volumes.
    pub fn new(cluster: Arc<ClusterState>) -> VolumeBinding {
        VolumeBinding { cluster }
    }
}

impl Plugin for VolumeBinding {
    fn name(&self) -> &'static str {
        BINDING_NAME
    }

    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl PreFilterPlugin for VolumeBinding {
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, _snapshot: &Snapshot) -> Status {
        let namespace = pod_namespace(pod);
        let mut bound = Vec::new();
        for volume in pod_volumes(pod) {
            let Some(claim) = volume.persistent_volume_claim.as_ref() else {
                continue;
            };
            let key = format!("{namespace}/{}", claim.claim_name);
            let pvc = self
                .cluster
                .pvcs
                .read()
                .ok()
                .and_then(|pvcs| pvcs.get(&key).cloned());
            let Some(pvc) = pvc else {
                return Status::unresolvable(format!(
                    "persistentvolumeclaim \"{}\" not found",
                    claim.claim_name
                ));
            };
            if pvc.metadata.deletion_timestamp.is_some() {
                return Status::unresolvable(format!(
                    "persistentvolumeclaim \"{}\" is being deleted",
                    claim.claim_name
                ));
            }
            let volume_name = pvc
                .spec
                .as_ref()
                .and_then(|spec| spec.volume_name.clone())
                .unwrap_or_default();
            if volume_name.is_empty() {
                return Status::unresolvable(ERR_REASON_UNBOUND_IMMEDIATE);
            }
            let pv = self
                .cluster
                .pvs
                .read()
                .ok()
                .and_then(|pvs| pvs.get(&volume_name).cloned());
            match pv {
                Some(pv) => bound.push(pv),
                None => {
                    return Status::unresolvable(format!(
                        "persistentvolume \"{volume_name}\" not found"
                    ));
                }
            }
        }
        state.write(PRE_FILTER_KEY, BoundVolumes(bound));
        Status::success()
    }
}

impl FilterPlugin for VolumeBinding {
    fn filter(&self, state: &CycleState, _pod: &Pod, node_info: &NodeInfo) -> Status {
        let Some(bound) = state.read::<BoundVolumes>(PRE_FILTER_KEY) else {
            return Status::error("VolumeBinding prefilter state not found");
        };
        let Some(node) = node_info.node.as_ref() else {
            return Status::error("node not found");
        };
        for pv in &bound.0 {
            let required = pv
                .spec
                .as_ref()
                .and_then(|spec| spec.node_affinity.as_ref())
                .and_then(|affinity| affinity.required.as_ref());
            if let Some(required) = required
                && !node_selector_terms_match(&required.node_selector_terms, node)
            {
                return Status::unresolvable(ERR_REASON_NODE_CONFLICT);
            }
        }
        Status::success()
    }
}

/// The VolumeRestrictions plugin.
pub struct VolumeRestrictions;

impl Plugin for VolumeRestrictions {
    fn name(&self) -> &'static str {
        RESTRICTIONS_NAME
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

/// Returns whether two volumes name the same exclusive disk, where at least one of them
/// mounts it read-write.
fn disks_conflict(a: &Volume, b: &Volume) -> bool {
    if let (Some(x), Some(y)) = (&a.gce_persistent_disk, &b.gce_persistent_disk) {
        return x.pd_name == y.pd_name && !(x.read_only.unwrap_or(false) && y.read_only.unwrap_or(false));
    }
    if let (Some(x), Some(y)) = (&a.aws_elastic_block_store, &b.aws_elastic_block_store) {
        return x.volume_id == y.volume_id;
    }
    if let (Some(x), Some(y)) = (&a.iscsi, &b.iscsi) {
        return x.iqn == y.iqn && !(x.read_only.unwrap_or(false) && y.read_only.unwrap_or(false));
    }
    if let (Some(x), Some(y)) = (&a.rbd, &b.rbd) {
        let monitors_overlap = x.monitors.iter().any(|m| y.monitors.contains(m));
        return monitors_overlap
            && x.pool == y.pool
            && x.image == y.image
            && !(x.read_only.unwrap_or(false) && y.read_only.unwrap_or(false));
    }
    false
}

impl FilterPlugin for VolumeRestrictions {
    // NOTE: the ReadWriteOncePod access mode is not checked.
    fn filter(&self, _state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
        for volume in pod_volumes(pod) {
            for existing in &node_info.pods {
                if pod_volumes(&existing.pod)
                    .iter()
                    .any(|other| disks_conflict(volume, other))
                {
                    return Status::unschedulable(ERR_REASON_DISK_CONFLICT);
                }
            }
        }
        Status::success()
    }
}

/// The NodeVolumeLimits plugin.
// NOTE: a placeholder that admits every node; CSINode attach limits are not read.
pub struct NodeVolumeLimits;

impl Plugin for NodeVolumeLimits {
    fn name(&self) -> &'static str {
        LIMITS_NAME
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeVolumeLimits {
    fn filter(&self, _state: &CycleState, _pod: &Pod, _node_info: &NodeInfo) -> Status {
        Status::success()
    }
}

/// The VolumeZone plugin.
// NOTE: a placeholder that admits every node; PV zone labels are not compared.
pub struct VolumeZone;

impl Plugin for VolumeZone {
    fn name(&self) -> &'static str {
        ZONE_NAME
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for VolumeZone {
    fn filter(&self, _state: &CycleState, _pod: &Pod, _node_info: &NodeInfo) -> Status {
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{named_pod, node_info, pod};
    use serde_json::json;

    fn claim_pod(claim: &str) -> Pod {
        pod(json!({"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": claim}}]}))
    }

    #[test]
    fn binding_table() {
        let cluster = Arc::new(ClusterState::default());
        let insert_pvc = |name: &str, volume: &str| {
            let pvc: k8s_openapi::api::core::v1::PersistentVolumeClaim = serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"volumeName": volume}
            }))
            .expect("pvc");
            cluster.pvcs.write().expect("lock").insert(format!("default/{name}"), Arc::new(pvc));
        };
        insert_pvc("bound", "pv1");
        insert_pvc("unbound", "");
        let pv: k8s_openapi::api::core::v1::PersistentVolume = serde_json::from_value(json!({
            "metadata": {"name": "pv1"},
            "spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}}
        }))
        .expect("pv");
        cluster.pvs.write().expect("lock").insert("pv1".to_string(), Arc::new(pv));

        let plugin = VolumeBinding::new(cluster);
        let snapshot = Snapshot::default();
        let in_zone = node_info(json!({"metadata": {"name": "a", "labels": {"zone": "a"}}}), &[]);
        let out_of_zone = node_info(json!({"metadata": {"name": "b", "labels": {"zone": "b"}}}), &[]);

        let mut state = CycleState::new();
        assert!(plugin.pre_filter(&mut state, &pod(json!({})), &snapshot).is_success());

        let mut state = CycleState::new();
        assert_eq!(
            plugin.pre_filter(&mut state, &claim_pod("missing"), &snapshot),
            Status::unresolvable("persistentvolumeclaim \"missing\" not found")
        );
        let mut state = CycleState::new();
        assert_eq!(
            plugin.pre_filter(&mut state, &claim_pod("unbound"), &snapshot),
            Status::unresolvable(ERR_REASON_UNBOUND_IMMEDIATE)
        );

        let bound = claim_pod("bound");
        let mut state = CycleState::new();
        assert!(plugin.pre_filter(&mut state, &bound, &snapshot).is_success());
        assert!(plugin.filter(&state, &bound, &in_zone).is_success());
        assert_eq!(plugin.filter(&state, &bound, &out_of_zone), Status::unresolvable(ERR_REASON_NODE_CONFLICT));
    }

    #[test]
    fn restrictions_reject_shared_disk() {
        let disk = |read_only: bool| json!([{"name": "d", "gcePersistentDisk": {"pdName": "disk", "readOnly": read_only}}]);
        let existing = named_pod("e", json!({}), json!({"nodeName": "n", "volumes": disk(false)}));
        let info = node_info(json!({"metadata": {"name": "n"}}), &[existing]);
        let state = CycleState::new();
        assert_eq!(
            VolumeRestrictions.filter(&state, &pod(json!({"volumes": disk(false)})), &info),
            Status::unschedulable(ERR_REASON_DISK_CONFLICT)
        );
        let read_only = named_pod("r", json!({}), json!({"nodeName": "n", "volumes": disk(true)}));
        let info = node_info(json!({"metadata": {"name": "n"}}), &[read_only]);
        assert!(VolumeRestrictions.filter(&state, &pod(json!({"volumes": disk(true)})), &info).is_success());
    }
}
