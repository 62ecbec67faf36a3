//! The volume plugins:
//!
//! - [`VolumeBinding`]: claims must exist; bound volumes must be reachable from the node;
//!   unbound `WaitForFirstConsumer` claims are matched to available volumes (or marked
//!   for provisioning) per node, assumed in Reserve and written in PreBind.
//! - [`VolumeRestrictions`]: one writer per GCE PD, EBS, RBD or iSCSI disk per node, and
//!   one pod per `ReadWriteOncePod` claim in the cluster.
//! - [`VolumeZone`]: the zone and region labels of bound volumes against node labels.
//! - [`NodeVolumeLimits`] and the in-tree [`InTreeLimits`] plugins: attachable volume
//!   counts per node.
//!
//! The helpers here resolve a pod's claims the way all of them need.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod, Volume};

use crate::framework::handle::ClusterState;

mod binder;
mod binding;
mod limits;
mod restrictions;
mod zone;

pub use binding::{BindingArgs, VolumeBinding, parse_binding_args};
pub use limits::{InTreeLimits, InTreeVolume, NodeVolumeLimits};
pub use restrictions::VolumeRestrictions;
pub use zone::VolumeZone;

/// The VolumeBinding plugin name.
pub const BINDING_NAME: &str = "VolumeBinding";
/// The VolumeRestrictions plugin name.
pub const RESTRICTIONS_NAME: &str = "VolumeRestrictions";
/// The NodeVolumeLimits plugin name.
pub const LIMITS_NAME: &str = "NodeVolumeLimits";
/// The VolumeZone plugin name.
pub const ZONE_NAME: &str = "VolumeZone";
/// The Kubernetes 1.18 plugin that counts in-tree AWS EBS volumes.
pub const EBS_LIMITS_NAME: &str = "EBSLimits";
/// The Kubernetes 1.18 plugin that counts in-tree GCE PD volumes.
pub const GCE_PD_LIMITS_NAME: &str = "GCEPDLimits";
/// The Kubernetes 1.18 plugin that counts in-tree Azure Disk volumes.
pub const AZURE_DISK_LIMITS_NAME: &str = "AzureDiskLimits";
/// The Kubernetes 1.18 plugin that counts in-tree Cinder volumes.
pub const CINDER_LIMITS_NAME: &str = "CinderLimits";

/// Failure reason: a bound volume's node affinity excludes the node.
pub const ERR_REASON_NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
/// Failure reason: no available volume matches an unbound claim on the node, and the
/// claim cannot be provisioned there.
pub const ERR_REASON_BIND_CONFLICT: &str =
    "node(s) didn't find available persistent volumes to bind";
/// Failure reason: a claim names a volume that does not exist.
pub const ERR_REASON_PV_NOT_EXIST: &str = "pvc(s) bound to non-existent pv(s)";
/// Failure reason: an unbound claim whose class binds immediately.
pub const ERR_REASON_UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";
/// Failure reason of VolumeRestrictions for a disk already in use on the node.
pub const ERR_REASON_DISK_CONFLICT: &str = "node(s) had no available disk";
/// Failure reason of VolumeRestrictions for a `ReadWriteOncePod` claim in use.
pub const ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT: &str =
    "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";
/// Failure reason of VolumeZone.
pub const ERR_REASON_ZONE_CONFLICT: &str = "node(s) had no available volume zone";
/// Failure reason of the volume count plugins.
pub const ERR_REASON_MAX_VOLUME_COUNT: &str = "node(s) exceed max volume count";

/// The annotation that names a claim's class before `spec.storageClassName` existed; it
/// wins over the field.
const ANN_BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";
/// The annotation through which the scheduler asks provisioners for a volume on a node.
pub const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// The annotation the PV controller sets on a claim whose binding it finished.
pub const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// The annotation that marks a volume or claim as bound by a controller rather than
/// pre-bound by a user.
pub const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
/// The provisioner name of classes that cannot provision.
const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

/// Returns the pod's volumes.
fn pod_volumes(pod: &Pod) -> &[Volume] {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.volumes.as_deref())
        .unwrap_or_default()
}

/// A claim a pod uses: a `persistentVolumeClaim` volume, or the claim of a generic
/// ephemeral volume, named `<pod>-<volume>` and owned by the pod.
struct PodClaim {
    name: String,
    ephemeral: bool,
}

/// Lists the claims of the pod's volumes in volume order.
fn pod_claims(pod: &Pod) -> Vec<PodClaim> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    pod_volumes(pod)
        .iter()
        .filter_map(|volume| {
            if let Some(claim) = volume.persistent_volume_claim.as_ref() {
                Some(PodClaim {
                    name: claim.claim_name.clone(),
                    ephemeral: false,
                })
            } else {
                volume.ephemeral.as_ref().map(|_| PodClaim {
                    name: format!("{pod_name}-{}", volume.name),
                    ephemeral: true,
                })
            }
        })
        .collect()
}

/// Returns whether the pod has any claim, the fast path of every volume plugin.
fn has_claims(pod: &Pod) -> bool {
    pod_volumes(pod)
        .iter()
        .any(|volume| volume.persistent_volume_claim.is_some() || volume.ephemeral.is_some())
}

/// Checks that the claim of an ephemeral volume was created for this pod: its
/// controller owner reference names the pod's UID.
fn check_ephemeral_owner(pod: &Pod, claim: &PersistentVolumeClaim) -> Result<(), String> {
    let owned = claim
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|owner| {
            owner.controller == Some(true) && Some(&owner.uid) == pod.metadata.uid.as_ref()
        });
    if owned {
        Ok(())
    } else {
        Err(format!(
            "PVC {}/{} was not created for pod {}/{} (pod is not owner)",
            claim.metadata.namespace.as_deref().unwrap_or_default(),
            claim.metadata.name.as_deref().unwrap_or_default(),
            crate::framework::types::pod_namespace(pod),
            pod.metadata.name.as_deref().unwrap_or_default()
        ))
    }
}

fn annotation<'a>(annotations: Option<&'a BTreeMap<String, String>>, key: &str) -> Option<&'a str> {
    annotations
        .and_then(|annotations| annotations.get(key))
        .map(String::as_str)
}

/// Returns a claim's class name: the beta annotation, else `spec.storageClassName`,
/// else empty.
fn claim_class(claim: &PersistentVolumeClaim) -> &str {
    annotation(claim.metadata.annotations.as_ref(), ANN_BETA_STORAGE_CLASS)
        .or_else(|| {
            claim
                .spec
                .as_ref()
                .and_then(|spec| spec.storage_class_name.as_deref())
        })
        .unwrap_or_default()
}

/// Returns a volume's class name, resolved like [`claim_class`].
fn volume_class(volume: &PersistentVolume) -> &str {
    annotation(volume.metadata.annotations.as_ref(), ANN_BETA_STORAGE_CLASS)
        .or_else(|| {
            volume
                .spec
                .as_ref()
                .and_then(|spec| spec.storage_class_name.as_deref())
        })
        .unwrap_or_default()
}

fn claim_volume_name(claim: &PersistentVolumeClaim) -> &str {
    claim
        .spec
        .as_ref()
        .and_then(|spec| spec.volume_name.as_deref())
        .unwrap_or_default()
}

fn claim_key(claim: &PersistentVolumeClaim) -> String {
    format!(
        "{}/{}",
        claim.metadata.namespace.as_deref().unwrap_or_default(),
        claim.metadata.name.as_deref().unwrap_or_default()
    )
}

/// Returns whether the volume's `claimRef` names the claim (and its UID, when the
/// reference carries one): the volume is bound or pre-bound to it.
fn is_volume_bound_to_claim(volume: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    let Some(reference) = volume
        .spec
        .as_ref()
        .and_then(|spec| spec.claim_ref.as_ref())
    else {
        return false;
    };
    if reference.name.as_deref() != claim.metadata.name.as_deref()
        || reference.namespace.as_deref() != claim.metadata.namespace.as_deref()
    {
        return false;
    }
    match reference.uid.as_deref() {
        Some(uid) if !uid.is_empty() => Some(uid) == claim.metadata.uid.as_deref(),
        _ => true,
    }
}

/// Returns whether a claim is bound: it names a volume, and either the PV controller
/// marked the binding complete or the volume's `claimRef` points back at the claim.
///
/// Upstream requires the PV controller's `bind-completed` annotation. Accepting a
/// binding whose two halves agree lets pods use claims that the scheduler (or a user)
/// bound on both sides before any PV controller ran.
fn is_claim_bound(claim: &PersistentVolumeClaim, cluster: &ClusterState) -> bool {
    let volume_name = claim_volume_name(claim);
    if volume_name.is_empty() {
        return false;
    }
    if annotation(claim.metadata.annotations.as_ref(), ANN_BIND_COMPLETED).is_some() {
        return true;
    }
    cluster
        .volume(volume_name)
        .is_some_and(|volume| is_volume_bound_to_claim(&volume, claim))
}

/// Returns whether the claim's class binds on first consumer, so the scheduler picks
/// its volume. A claim without a class, or whose class does not exist, binds
/// immediately, as upstream's `IsDelayBindingMode` decides.
///
/// # Errors
///
/// The class exists but sets no `volumeBindingMode`.
fn is_delay_binding_mode(
    claim: &PersistentVolumeClaim,
    cluster: &ClusterState,
) -> Result<bool, String> {
    let class_name = claim_class(claim);
    if class_name.is_empty() {
        return Ok(false);
    }
    let Some(class) = cluster.storage_class(class_name) else {
        return Ok(false);
    };
    match class.volume_binding_mode.as_deref() {
        Some(mode) => Ok(mode == "WaitForFirstConsumer"),
        None => Err(format!(
            "VolumeBindingMode not set for StorageClass {class_name:?}"
        )),
    }
}

#[cfg(test)]
mod testing;
