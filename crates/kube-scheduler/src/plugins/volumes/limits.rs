//! Attachable volume counts per node.
//!
//! [`NodeVolumeLimits`] counts the unique volumes of each CSI driver on the node (the
//! pod's plus those of the pods already there) against the driver's
//! `allocatable.count` in the node's CSINode, or the node's
//! `attachable-volumes-csi-<driver>` allocatable. In-tree AWS EBS, GCE PD, Azure Disk
//! and Cinder volumes count under their CSI driver on nodes whose CSINode lists the
//! plugin as migrated. Elsewhere they count against the in-tree default limits, which
//! the Kubernetes 1.18 [`InTreeLimits`] plugins (`EBSLimits`, `GCEPDLimits`,
//! `AzureDiskLimits`, `CinderLimits`) apply one kind at a time.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod, Volume};
use k8s_openapi::api::storage::v1::CSINode;

use super::{
    AZURE_DISK_LIMITS_NAME, CINDER_LIMITS_NAME, EBS_LIMITS_NAME, ERR_REASON_MAX_VOLUME_COUNT,
    GCE_PD_LIMITS_NAME, LIMITS_NAME, claim_class, claim_volume_name, pod_claims, pod_volumes,
};
use crate::framework::handle::ClusterState;
use crate::framework::interface::{CycleState, FilterPlugin, Plugin, Status};
use crate::framework::types::{NodeInfo, pod_namespace};

/// The CSINode annotation that lists the in-tree plugins migrated to CSI on the node,
/// comma-separated.
const ANN_MIGRATED_PLUGINS: &str = "storage.alpha.kubernetes.io/migrated-plugins";
/// The prefix of node allocatable resources that limit a CSI driver's volumes.
const CSI_ATTACH_LIMIT_PREFIX: &str = "attachable-volumes-csi-";
/// The maximum length of a resource name. Longer CSI limit keys are shortened with a
/// hash.
const RESOURCE_NAME_LENGTH_LIMIT: usize = 63;
/// The environment variable that overrides every in-tree default limit.
const KUBE_MAX_PD_VOLS: &str = "KUBE_MAX_PD_VOLS";

/// An in-tree volume plugin whose attachments a node limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InTreeVolume {
    /// `awsElasticBlockStore`.
    AwsEbs,
    /// `gcePersistentDisk`.
    GcePd,
    /// `azureDisk`.
    AzureDisk,
    /// `cinder`.
    Cinder,
}

impl InTreeVolume {
    /// Every in-tree kind.
    pub const ALL: [InTreeVolume; 4] = [
        InTreeVolume::AwsEbs,
        InTreeVolume::GcePd,
        InTreeVolume::AzureDisk,
        InTreeVolume::Cinder,
    ];

    /// Returns the Kubernetes 1.18 plugin that limits this kind.
    pub fn plugin_name(self) -> &'static str {
        match self {
            InTreeVolume::AwsEbs => EBS_LIMITS_NAME,
            InTreeVolume::GcePd => GCE_PD_LIMITS_NAME,
            InTreeVolume::AzureDisk => AZURE_DISK_LIMITS_NAME,
            InTreeVolume::Cinder => CINDER_LIMITS_NAME,
        }
    }

    /// Returns the in-tree volume plugin name, as provisioners and the migration
    /// annotation spell it.
    fn in_tree_name(self) -> &'static str {
        match self {
            InTreeVolume::AwsEbs => "kubernetes.io/aws-ebs",
            InTreeVolume::GcePd => "kubernetes.io/gce-pd",
            InTreeVolume::AzureDisk => "kubernetes.io/azure-disk",
            InTreeVolume::Cinder => "kubernetes.io/cinder",
        }
    }

    /// Returns the CSI driver that replaces the plugin.
    fn csi_driver(self) -> &'static str {
        match self {
            InTreeVolume::AwsEbs => "ebs.csi.aws.com",
            InTreeVolume::GcePd => "pd.csi.storage.gke.io",
            InTreeVolume::AzureDisk => "disk.csi.azure.com",
            InTreeVolume::Cinder => "cinder.csi.openstack.org",
        }
    }

    /// Returns the node allocatable resource that overrides the default limit.
    fn limit_key(self) -> &'static str {
        match self {
            InTreeVolume::AwsEbs => "attachable-volumes-aws-ebs",
            InTreeVolume::GcePd => "attachable-volumes-gce-pd",
            InTreeVolume::AzureDisk => "attachable-volumes-azure-disk",
            InTreeVolume::Cinder => "attachable-volumes-cinder",
        }
    }

    /// Returns the default limit on a node: `KUBE_MAX_PD_VOLS` when set to a positive
    /// number, else 39 EBS volumes (25 on Nitro instance types), 16 GCE PDs, 16 Azure
    /// Disks or 256 Cinder volumes, as Kubernetes 1.18 sets them.
    fn default_limit(self, node: &Node) -> i64 {
        if let Some(limit) = std::env::var(KUBE_MAX_PD_VOLS)
            .ok()
            .and_then(|value| value.parse::<i64>().ok())
            .filter(|limit| *limit > 0)
        {
            return limit;
        }
        match self {
            InTreeVolume::AwsEbs => {
                let instance_type = node.metadata.labels.as_ref().and_then(|labels| {
                    labels
                        .get("node.kubernetes.io/instance-type")
                        .or_else(|| labels.get("beta.kubernetes.io/instance-type"))
                });
                if instance_type.is_some_and(|value| is_nitro_instance_type(value)) {
                    25
                } else {
                    39
                }
            }
            InTreeVolume::GcePd | InTreeVolume::AzureDisk => 16,
            InTreeVolume::Cinder => 256,
        }
    }

    /// Returns the disk id of a pod volume of this kind.
    fn volume_id(self, volume: &Volume) -> Option<&str> {
        match self {
            InTreeVolume::AwsEbs => volume
                .aws_elastic_block_store
                .as_ref()
                .map(|source| source.volume_id.as_str()),
            InTreeVolume::GcePd => volume
                .gce_persistent_disk
                .as_ref()
                .map(|source| source.pd_name.as_str()),
            InTreeVolume::AzureDisk => volume
                .azure_disk
                .as_ref()
                .map(|source| source.disk_name.as_str()),
            InTreeVolume::Cinder => volume
                .cinder
                .as_ref()
                .map(|source| source.volume_id.as_str()),
        }
    }

    /// Returns the disk id of a PersistentVolume of this kind.
    fn persistent_volume_id(self, volume: &PersistentVolume) -> Option<&str> {
        let spec = volume.spec.as_ref()?;
        match self {
            InTreeVolume::AwsEbs => spec
                .aws_elastic_block_store
                .as_ref()
                .map(|source| source.volume_id.as_str()),
            InTreeVolume::GcePd => spec
                .gce_persistent_disk
                .as_ref()
                .map(|source| source.pd_name.as_str()),
            InTreeVolume::AzureDisk => spec
                .azure_disk
                .as_ref()
                .map(|source| source.disk_name.as_str()),
            InTreeVolume::Cinder => spec.cinder.as_ref().map(|source| source.volume_id.as_str()),
        }
    }

    /// Returns whether the node's CSINode lists the plugin as migrated to its driver.
    fn is_migrated(self, csi_node: Option<&CSINode>) -> bool {
        csi_node
            .and_then(|csi_node| csi_node.metadata.annotations.as_ref())
            .and_then(|annotations| annotations.get(ANN_MIGRATED_PLUGINS))
            .is_some_and(|plugins| {
                plugins
                    .split(',')
                    .any(|name| name.trim() == self.in_tree_name())
            })
    }

    fn from_provisioner(provisioner: &str) -> Option<InTreeVolume> {
        InTreeVolume::ALL
            .into_iter()
            .find(|kind| kind.in_tree_name() == provisioner)
    }
}

/// Returns whether an EBS instance type is a Nitro type with the lower limit, the
/// upstream pattern `^[cmr]5.*|t3|z1d`.
fn is_nitro_instance_type(instance_type: &str) -> bool {
    ["c5", "m5", "r5"]
        .iter()
        .any(|prefix| instance_type.starts_with(prefix))
        || instance_type.contains("t3")
        || instance_type.contains("z1d")
}

/// Returns whether any of the pod's volumes can count against an attach limit: a
/// claim, an ephemeral volume, or an in-tree disk. Most pods carry only projected,
/// secret or configMap volumes, so Filter skips them at once.
fn has_attachable_volumes(pod: &Pod) -> bool {
    pod_volumes(pod).iter().any(|volume| {
        volume.persistent_volume_claim.is_some()
            || volume.ephemeral.is_some()
            || InTreeVolume::ALL
                .iter()
                .any(|kind| kind.volume_id(volume).is_some())
    })
}

/// Returns the id counted for a claim whose volume is unknown yet; the prefix keeps it
/// apart from real disk ids and volume handles.
fn claim_placeholder(namespace: &str, claim: &str) -> String {
    format!("claim:{namespace}/{claim}")
}

/// Looks up a pod's claim. A missing claim rejects a new pod and is not counted for a
/// pod already on the node.
fn lookup_claim(
    cluster: &ClusterState,
    namespace: &str,
    name: &str,
    new_pod: bool,
) -> Result<Option<Arc<PersistentVolumeClaim>>, Status> {
    match cluster.claim(namespace, name) {
        Some(claim) => Ok(Some(claim)),
        None if new_pod => Err(Status::unresolvable(format!(
            "persistentvolumeclaim {name:?} not found"
        ))),
        None => Ok(None),
    }
}

/// Returns the class provisioner of an unbound claim.
fn claim_provisioner(cluster: &ClusterState, claim: &PersistentVolumeClaim) -> Option<String> {
    let class_name = claim_class(claim);
    if class_name.is_empty() {
        return None;
    }
    cluster
        .storage_class(class_name)
        .map(|class| class.provisioner.clone())
}

/// Adds the ids of a pod's volumes of one in-tree kind to `ids` (upstream
/// `filterVolumes`). Unbound claims of a class this plugin provisions count under a
/// placeholder.
fn in_tree_volume_ids(
    kind: InTreeVolume,
    cluster: &ClusterState,
    pod: &Pod,
    new_pod: bool,
    ids: &mut HashSet<String>,
) -> Result<(), Status> {
    let namespace = pod_namespace(pod);
    for volume in pod_volumes(pod) {
        if let Some(id) = kind.volume_id(volume) {
            ids.insert(id.to_string());
        }
    }
    for pod_claim in pod_claims(pod) {
        let Some(claim) = lookup_claim(cluster, namespace, &pod_claim.name, new_pod)? else {
            continue;
        };
        let provisioned_here =
            || claim_provisioner(cluster, &claim).is_some_and(|name| name == kind.in_tree_name());
        let volume_name = claim_volume_name(&claim);
        let bound = if volume_name.is_empty() {
            None
        } else {
            cluster.volume(volume_name)
        };
        match bound {
            Some(volume) => {
                if let Some(id) = kind.persistent_volume_id(&volume) {
                    ids.insert(id.to_string());
                }
            }
            // The pod may still use the volume the claim was bound to, so an unbound
            // claim of this plugin's class counts.
            None if provisioned_here() => {
                ids.insert(claim_placeholder(namespace, &pod_claim.name));
            }
            None => {}
        }
    }
    Ok(())
}

/// Checks one in-tree kind on a node (upstream `nonCSILimits.Filter`).
fn check_in_tree(
    kind: InTreeVolume,
    cluster: &ClusterState,
    pod: &Pod,
    node_info: &NodeInfo,
    csi_node: Option<&CSINode>,
) -> Status {
    let mut new_ids = HashSet::new();
    if let Err(status) = in_tree_volume_ids(kind, cluster, pod, true, &mut new_ids) {
        return status;
    }
    if new_ids.is_empty() {
        return Status::success();
    }
    let Some(node) = node_info.node.as_ref() else {
        return Status::error("node not found");
    };
    // A migrated plugin's volumes are counted under its CSI driver.
    if kind.is_migrated(csi_node) {
        return Status::success();
    }
    let mut existing = HashSet::new();
    for other in &node_info.pods {
        if let Err(status) = in_tree_volume_ids(kind, cluster, &other.pod, false, &mut existing) {
            return status;
        }
    }
    let added = new_ids.difference(&existing).count() as i64;
    let limit = node_info
        .allocatable
        .scalar_resources
        .get(kind.limit_key())
        .copied()
        .unwrap_or_else(|| kind.default_limit(node));
    if existing.len() as i64 + added > limit {
        Status::unschedulable(ERR_REASON_MAX_VOLUME_COUNT)
    } else {
        Status::success()
    }
}

/// Adds a pod's CSI volumes to `volumes` as unique name to driver. In-tree volumes
/// count when their plugin is migrated on the node.
// NOTE: inline `csi` volumes of the pod spec are not counted; only claims bound to or
// provisioned by a CSI driver are.
fn csi_volumes(
    cluster: &ClusterState,
    pod: &Pod,
    csi_node: Option<&CSINode>,
    new_pod: bool,
    volumes: &mut HashMap<String, String>,
) -> Result<(), Status> {
    let namespace = pod_namespace(pod);
    let mut add = |driver: &str, handle: &str| {
        volumes.insert(format!("{driver}/{handle}"), driver.to_string());
    };
    for volume in pod_volumes(pod) {
        for kind in InTreeVolume::ALL {
            if let Some(id) = kind.volume_id(volume)
                && kind.is_migrated(csi_node)
            {
                add(kind.csi_driver(), id);
            }
        }
    }
    for pod_claim in pod_claims(pod) {
        let Some(claim) = lookup_claim(cluster, namespace, &pod_claim.name, new_pod)? else {
            continue;
        };
        let volume_name = claim_volume_name(&claim);
        let bound = if volume_name.is_empty() {
            None
        } else {
            cluster.volume(volume_name)
        };
        if let Some(volume) = bound {
            if let Some(csi) = volume.spec.as_ref().and_then(|spec| spec.csi.as_ref()) {
                add(&csi.driver, &csi.volume_handle);
                continue;
            }
            for kind in InTreeVolume::ALL {
                if let Some(id) = kind.persistent_volume_id(&volume)
                    && kind.is_migrated(csi_node)
                {
                    add(kind.csi_driver(), id);
                }
            }
            continue;
        }
        // Unbound, or bound to a volume not seen yet: the class names the driver.
        let Some(provisioner) = claim_provisioner(cluster, &claim) else {
            continue;
        };
        let placeholder = claim_placeholder(namespace, &pod_claim.name);
        match InTreeVolume::from_provisioner(&provisioner) {
            Some(kind) if kind.is_migrated(csi_node) => add(kind.csi_driver(), &placeholder),
            Some(_) => {}
            None if !provisioner.starts_with("kubernetes.io/") => add(&provisioner, &placeholder),
            None => {}
        }
    }
    Ok(())
}

/// Returns the node allocatable resource that limits a CSI driver (upstream
/// `GetCSIAttachLimitKey`): long names keep 23 characters plus 16 hex digits of their
/// SHA-1.
fn csi_attach_limit_key(driver: &str) -> String {
    if CSI_ATTACH_LIMIT_PREFIX.len() + driver.len() < RESOURCE_NAME_LENGTH_LIMIT {
        return format!("{CSI_ATTACH_LIMIT_PREFIX}{driver}");
    }
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, driver.as_bytes());
    let hex: String = digest
        .as_ref()
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let prefix: String = driver.chars().take(23).collect();
    format!("{CSI_ATTACH_LIMIT_PREFIX}{prefix}{hex}")
}

/// Returns the volume limit of a CSI driver on the node, if any.
fn csi_limit(driver: &str, node_info: &NodeInfo, csi_node: Option<&CSINode>) -> Option<i64> {
    let from_csi_node = csi_node
        .and_then(|csi_node| {
            csi_node
                .spec
                .drivers
                .iter()
                .find(|entry| entry.name == driver)
        })
        .and_then(|entry| entry.allocatable.as_ref())
        .and_then(|allocatable| allocatable.count)
        .map(i64::from);
    from_csi_node.or_else(|| {
        node_info
            .allocatable
            .scalar_resources
            .get(&csi_attach_limit_key(driver))
            .copied()
    })
}

/// The NodeVolumeLimits plugin.
pub struct NodeVolumeLimits {
    cluster: Arc<ClusterState>,
}

impl NodeVolumeLimits {
    /// Builds the plugin over the cluster's claims, volumes, classes and CSINodes.
    pub fn new(cluster: Arc<ClusterState>) -> NodeVolumeLimits {
        NodeVolumeLimits { cluster }
    }

    fn check_csi(&self, pod: &Pod, node_info: &NodeInfo, csi_node: Option<&CSINode>) -> Status {
        let mut new_volumes = HashMap::new();
        if let Err(status) = csi_volumes(&self.cluster, pod, csi_node, true, &mut new_volumes) {
            return status;
        }
        if new_volumes.is_empty() {
            return Status::success();
        }
        let mut attached = HashMap::new();
        for other in &node_info.pods {
            if let Err(status) =
                csi_volumes(&self.cluster, &other.pod, csi_node, false, &mut attached)
            {
                return status;
            }
        }
        let mut attached_count: HashMap<&str, i64> = HashMap::new();
        for driver in attached.values() {
            *attached_count.entry(driver).or_default() += 1;
        }
        let mut new_count: HashMap<&str, i64> = HashMap::new();
        for (name, driver) in &new_volumes {
            if !attached.contains_key(name) {
                *new_count.entry(driver).or_default() += 1;
            }
        }
        for (driver, count) in new_count {
            let Some(limit) = csi_limit(driver, node_info, csi_node) else {
                continue;
            };
            if attached_count.get(driver).copied().unwrap_or(0) + count > limit {
                return Status::unschedulable(ERR_REASON_MAX_VOLUME_COUNT);
            }
        }
        Status::success()
    }
}

impl Plugin for NodeVolumeLimits {
    fn name(&self) -> &'static str {
        LIMITS_NAME
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeVolumeLimits {
    fn filter(&self, _state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
        if !has_attachable_volumes(pod) {
            return Status::success();
        }
        let csi_node = self.cluster.csi_node(node_info.node_name());
        let csi_node = csi_node.as_deref();
        let status = self.check_csi(pod, node_info, csi_node);
        if !status.is_success() {
            return status;
        }
        for kind in InTreeVolume::ALL {
            let status = check_in_tree(kind, &self.cluster, pod, node_info, csi_node);
            if !status.is_success() {
                return status;
            }
        }
        Status::success()
    }
}

/// A Kubernetes 1.18 in-tree limit plugin: `EBSLimits`, `GCEPDLimits`,
/// `AzureDiskLimits` or `CinderLimits`.
pub struct InTreeLimits {
    kind: InTreeVolume,
    cluster: Arc<ClusterState>,
}

impl InTreeLimits {
    /// Builds the plugin of one in-tree kind.
    pub fn new(kind: InTreeVolume, cluster: Arc<ClusterState>) -> InTreeLimits {
        InTreeLimits { kind, cluster }
    }
}

impl Plugin for InTreeLimits {
    fn name(&self) -> &'static str {
        self.kind.plugin_name()
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for InTreeLimits {
    fn filter(&self, _state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
        if !has_attachable_volumes(pod) {
            return Status::success();
        }
        let csi_node = self.cluster.csi_node(node_info.node_name());
        check_in_tree(
            self.kind,
            &self.cluster,
            pod,
            node_info,
            csi_node.as_deref(),
        )
    }
}

#[cfg(test)]
mod tests;
