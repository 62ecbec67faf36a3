//! VolumeRestrictions: Filter rejects a node where another pod already mounts the same
//! GCE PD, AWS EBS, iSCSI or RBD disk unless both mount it read-only (EBS never
//! shares). PreFilter counts the pods in the cluster that use one of the pod's
//! `ReadWriteOncePod` claims; while any does, every node is unschedulable, and the
//! count follows preemption's dry runs through AddPod and RemovePod.

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, Volume};

use super::{
    ERR_REASON_DISK_CONFLICT, ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT, RESTRICTIONS_NAME,
    pod_claims, pod_volumes,
};
use crate::cache::Snapshot;
use crate::framework::handle::ClusterState;
use crate::framework::interface::{CycleState, FilterPlugin, Plugin, PreFilterPlugin, Status};
use crate::framework::types::{NodeInfo, PodInfo, pod_key, pod_namespace};

const PRE_FILTER_KEY: &str = "PreFilterVolumeRestrictions";

#[derive(Clone, Default)]
struct PreFilterState {
    /// The pod's `ReadWriteOncePod` claims as `namespace/name`.
    read_write_once_pod_claims: HashSet<String>,
    /// How many other pods use one of those claims.
    conflicting_claim_refs: i64,
}

impl PreFilterState {
    /// Returns how many of `other`'s claims are among the pod's `ReadWriteOncePod`
    /// claims.
    fn count_refs(&self, other: &Pod) -> i64 {
        if self.read_write_once_pod_claims.is_empty() {
            return 0;
        }
        let namespace = pod_namespace(other);
        pod_claims(other)
            .iter()
            .filter(|claim| {
                self.read_write_once_pod_claims
                    .contains(&format!("{namespace}/{}", claim.name))
            })
            .count() as i64
    }
}

/// The VolumeRestrictions plugin.
pub struct VolumeRestrictions {
    cluster: Arc<ClusterState>,
}

impl VolumeRestrictions {
    /// Builds the plugin over the cluster's claims.
    pub fn new(cluster: Arc<ClusterState>) -> VolumeRestrictions {
        VolumeRestrictions { cluster }
    }
}

impl Plugin for VolumeRestrictions {
    fn name(&self) -> &'static str {
        RESTRICTIONS_NAME
    }

    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

fn both_read_only(a: Option<bool>, b: Option<bool>) -> bool {
    a.unwrap_or(false) && b.unwrap_or(false)
}

/// Returns whether two volumes name the same exclusive disk, where at least one of them
/// mounts it read-write (upstream `isVolumeConflict`).
fn disks_conflict(a: &Volume, b: &Volume) -> bool {
    if let (Some(x), Some(y)) = (&a.gce_persistent_disk, &b.gce_persistent_disk) {
        return x.pd_name == y.pd_name && !both_read_only(x.read_only, y.read_only);
    }
    if let (Some(x), Some(y)) = (&a.aws_elastic_block_store, &b.aws_elastic_block_store) {
        return x.volume_id == y.volume_id;
    }
    if let (Some(x), Some(y)) = (&a.iscsi, &b.iscsi) {
        return x.iqn == y.iqn && !both_read_only(x.read_only, y.read_only);
    }
    if let (Some(x), Some(y)) = (&a.rbd, &b.rbd) {
        let monitors_overlap = x.monitors.iter().any(|m| y.monitors.contains(m));
        return monitors_overlap
            && x.pool == y.pool
            && x.image == y.image
            && !both_read_only(x.read_only, y.read_only);
    }
    false
}

fn is_exclusive_disk(volume: &Volume) -> bool {
    volume.gce_persistent_disk.is_some()
        || volume.aws_elastic_block_store.is_some()
        || volume.iscsi.is_some()
        || volume.rbd.is_some()
}

impl PreFilterPlugin for VolumeRestrictions {
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, snapshot: &Snapshot) -> Status {
        let namespace = pod_namespace(pod);
        let mut pre = PreFilterState::default();
        for claim in pod_claims(pod) {
            // A missing claim is VolumeBinding's to report.
            let Some(found) = self.cluster.claim(namespace, &claim.name) else {
                continue;
            };
            let read_write_once_pod = found
                .spec
                .as_ref()
                .and_then(|spec| spec.access_modes.as_ref())
                .is_some_and(|modes| modes.iter().any(|mode| mode == "ReadWriteOncePod"));
            if read_write_once_pod {
                pre.read_write_once_pod_claims
                    .insert(format!("{namespace}/{}", claim.name));
            }
        }
        if !pre.read_write_once_pod_claims.is_empty() {
            let key = pod_key(pod);
            for node_info in snapshot.list() {
                for existing in &node_info.pods {
                    if pod_key(&existing.pod) != key {
                        pre.conflicting_claim_refs += pre.count_refs(&existing.pod);
                    }
                }
            }
        }
        state.write(PRE_FILTER_KEY, pre);
        Status::success()
    }

    fn add_pod(
        &self,
        state: &mut CycleState,
        _pod_to_schedule: &Pod,
        pod_to_add: &PodInfo,
        _node_info: &NodeInfo,
    ) -> Status {
        if let Some(pre) = state.read_mut::<PreFilterState>(PRE_FILTER_KEY) {
            pre.conflicting_claim_refs += pre.count_refs(&pod_to_add.pod);
        }
        Status::success()
    }

    fn remove_pod(
        &self,
        state: &mut CycleState,
        _pod_to_schedule: &Pod,
        pod_to_remove: &PodInfo,
        _node_info: &NodeInfo,
    ) -> Status {
        if let Some(pre) = state.read_mut::<PreFilterState>(PRE_FILTER_KEY) {
            pre.conflicting_claim_refs -= pre.count_refs(&pod_to_remove.pod);
        }
        Status::success()
    }
}

impl FilterPlugin for VolumeRestrictions {
    fn filter(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
        let volumes = pod_volumes(pod);
        if volumes.iter().any(is_exclusive_disk) {
            for existing in &node_info.pods {
                let conflict = pod_volumes(&existing.pod)
                    .iter()
                    .any(|other| volumes.iter().any(|volume| disks_conflict(volume, other)));
                if conflict {
                    return Status::unschedulable(ERR_REASON_DISK_CONFLICT);
                }
            }
        }
        // Without PreFilter (a Kubernetes 1.18 policy enables Filter only) the
        // ReadWriteOncePod check is skipped, as 1.18 had no such mode.
        if let Some(pre) = state.read::<PreFilterState>(PRE_FILTER_KEY)
            && pre.conflicting_claim_refs > 0
        {
            return Status::unschedulable(ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT);
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{named_pod, node_info, pod};
    use serde_json::json;

    fn claim(name: &str, modes: &[&str]) -> Arc<k8s_openapi::api::core::v1::PersistentVolumeClaim> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"accessModes": modes},
            }))
            .expect("claim"),
        )
    }

    fn plugin() -> VolumeRestrictions {
        let cluster = Arc::new(ClusterState::default());
        {
            let mut claims = cluster.pvcs.write().expect("lock");
            claims.insert("default/rwop".into(), claim("rwop", &["ReadWriteOncePod"]));
            claims.insert("default/rwo".into(), claim("rwo", &["ReadWriteOnce"]));
        }
        VolumeRestrictions::new(cluster)
    }

    fn with_claim(name: &str, claim: &str, node: &str) -> Pod {
        let mut spec =
            json!({"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": claim}}]});
        if !node.is_empty() {
            spec["nodeName"] = json!(node);
        }
        named_pod(name, json!({}), spec)
    }

    /// Upstream's disk conflict cases: the same GCE PD, EBS volume, iSCSI IQN and RBD
    /// image conflict; read-only mounts of GCE PD, iSCSI and RBD share.
    #[test]
    fn disk_conflict_table() {
        let gce = |name: &str, read_only: bool| json!({"name": "v", "gcePersistentDisk": {"pdName": name, "readOnly": read_only}});
        let ebs = |id: &str| json!({"name": "v", "awsElasticBlockStore": {"volumeID": id}});
        let iscsi = |iqn: &str, read_only: bool| json!({"name": "v", "iscsi": {"targetPortal": "127.0.0.1:3260", "iqn": iqn, "lun": 0, "readOnly": read_only}});
        let rbd = |monitors: &[&str], image: &str| json!({"name": "v", "rbd": {"monitors": monitors, "pool": "p", "image": image}});
        let cases = [
            (gce("foo", false), gce("foo", false), false),
            (gce("foo", false), gce("bar", false), true),
            (gce("foo", true), gce("foo", true), true),
            (gce("foo", true), gce("foo", false), false),
            (ebs("foo"), ebs("foo"), false),
            (ebs("foo"), ebs("bar"), true),
            (iscsi("iqn.a", false), iscsi("iqn.a", false), false),
            (iscsi("iqn.a", true), iscsi("iqn.a", true), true),
            (iscsi("iqn.a", false), iscsi("iqn.b", false), true),
            (rbd(&["a", "b"], "foo"), rbd(&["b", "c"], "foo"), false),
            (rbd(&["a"], "foo"), rbd(&["c"], "foo"), true),
            (rbd(&["a"], "foo"), rbd(&["a"], "bar"), true),
        ];
        let plugin = plugin();
        let state = CycleState::new();
        for (i, (existing, incoming, fits)) in cases.into_iter().enumerate() {
            let existing = named_pod(
                "e",
                json!({}),
                json!({"nodeName": "n", "volumes": [existing]}),
            );
            let info = node_info(json!({"metadata": {"name": "n"}}), &[existing]);
            let status = plugin.filter(&state, &pod(json!({"volumes": [incoming]})), &info);
            assert_eq!(status.is_success(), fits, "case {i}: {status}");
            if !fits {
                assert_eq!(
                    status,
                    Status::unschedulable(ERR_REASON_DISK_CONFLICT),
                    "case {i}"
                );
            }
        }
    }

    #[test]
    fn read_write_once_pod_claim_in_use_blocks_every_node() {
        let plugin = plugin();
        let user = with_claim("user", "rwop", "n1");
        let shared_rwo = with_claim("shared", "rwo", "n1");
        let nodes = [
            Arc::new(crate::plugins::testing::node(
                json!({"metadata": {"name": "n1"}}),
            )),
            Arc::new(crate::plugins::testing::node(
                json!({"metadata": {"name": "n2"}}),
            )),
        ];
        let snapshot = Snapshot::new(&[Arc::new(user.clone()), Arc::new(shared_rwo)], &nodes);

        let incoming = with_claim("p", "rwop", "");
        let mut state = CycleState::new();
        assert!(
            plugin
                .pre_filter(&mut state, &incoming, &snapshot)
                .is_success()
        );
        for info in snapshot.list() {
            assert_eq!(
                plugin.filter(&state, &incoming, info),
                Status::unschedulable(ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT),
                "{}",
                info.node_name()
            );
        }

        // Preemption's dry run removes the user, which frees the claim.
        let user_info = PodInfo::new(Arc::new(user));
        plugin.remove_pod(&mut state, &incoming, &user_info, &snapshot.list()[0]);
        assert!(
            plugin
                .filter(&state, &incoming, &snapshot.list()[0])
                .is_success()
        );
        plugin.add_pod(&mut state, &incoming, &user_info, &snapshot.list()[0]);
        assert!(
            !plugin
                .filter(&state, &incoming, &snapshot.list()[1])
                .is_success()
        );

        // A ReadWriteOnce claim may be shared.
        let rwo = with_claim("q", "rwo", "");
        let mut state = CycleState::new();
        assert!(plugin.pre_filter(&mut state, &rwo, &snapshot).is_success());
        assert!(
            plugin
                .filter(&state, &rwo, &snapshot.list()[0])
                .is_success()
        );
    }
}
