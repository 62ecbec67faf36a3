//! Strategies of persistent volumes and persistent volume claims (upstream's
//! `ValidatePersistentVolume` and `ValidatePersistentVolumeClaim`), both with a status
//! subresource.

use apimachinery::errors::{FieldError, FieldPath};
use k8s_openapi::api::core::v1::{
    PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimStatus, PersistentVolumeStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::registry::pod_spec::common::{
    invalid_each, json_value, name_is_dns_subdomain, validate_positive_quantity,
};
use crate::registry::pod_spec::defaults::{
    default_persistent_volume_claim_spec, round_resource_list,
};
use crate::registry::pod_spec::volume::validate_persistent_volume_claim_spec;
use crate::registry::strategy::Strategy;

const SUPPORTED_ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

/// Sources a persistent volume may name, in upstream's order.
const PV_SOURCES: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "flocker",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "azureFile",
    "flexVolume",
    "vsphereVolume",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "local",
    "storageos",
    "csi",
];

/// Strategy of `persistentvolumes`.
#[derive(Clone, Copy, Debug, Default)]
pub struct PersistentVolumeStrategy;

impl Strategy for PersistentVolumeStrategy {
    type Object = PersistentVolume;

    fn default(&self, volume: &mut PersistentVolume) {
        let status = volume.status.get_or_insert_with(Default::default);
        if status.phase.as_deref().is_none_or(str::is_empty) {
            status.phase = Some("Pending".to_string());
        }
        let spec = volume.spec.get_or_insert_with(Default::default);
        if spec
            .persistent_volume_reclaim_policy
            .as_deref()
            .is_none_or(str::is_empty)
        {
            spec.persistent_volume_reclaim_policy = Some("Retain".to_string());
        }
        if spec.volume_mode.is_none() {
            spec.volume_mode = Some("Filesystem".to_string());
        }
        if let Some(host_path) = spec.host_path.as_mut() {
            host_path.type_.get_or_insert_with(String::new);
        }
        round_resource_list(spec.capacity.as_mut());
    }

    /// Starts the volume in phase Pending.
    fn prepare_for_create(&self, volume: &mut PersistentVolume) {
        volume.status = Some(PersistentVolumeStatus {
            phase: Some("Pending".to_string()),
            last_phase_transition_time: Some(Time(apimachinery::meta::now_time())),
            ..Default::default()
        });
    }

    fn prepare_for_update(&self, volume: &mut PersistentVolume, old: &PersistentVolume) {
        volume.status = old.status.clone();
    }

    fn validate(&self, volume: &PersistentVolume) -> Vec<FieldError> {
        validate_persistent_volume(volume)
    }

    fn validate_update(
        &self,
        volume: &PersistentVolume,
        old: &PersistentVolume,
    ) -> Vec<FieldError> {
        let mut errors = validate_persistent_volume(volume);
        let spec = volume.spec.clone().unwrap_or_default();
        let old_spec = old.spec.clone().unwrap_or_default();
        // Sources may not change once set.
        let source_of = |spec: &k8s_openapi::api::core::v1::PersistentVolumeSpec| {
            let value = serde_json::to_value(spec).unwrap_or_default();
            PV_SOURCES
                .iter()
                .map(|field| value.get(*field).cloned())
                .collect::<Vec<_>>()
        };
        if source_of(&spec) != source_of(&old_spec) {
            errors.push(FieldError::forbidden(
                &FieldPath::new("spec").child("persistentvolumesource"),
                "spec.persistentvolumesource is forbidden.",
            ));
        }
        if spec.volume_mode != old_spec.volume_mode {
            errors.push(FieldError::invalid(
                &FieldPath::from_names(["volumeMode"]),
                spec.volume_mode.clone(),
                "field is immutable",
            ));
        }
        if old_spec.node_affinity.is_some() && spec.node_affinity != old_spec.node_affinity {
            errors.push(FieldError::invalid(
                &FieldPath::from_names(["nodeAffinity"]),
                json_value(&spec.node_affinity),
                "field is immutable",
            ));
        }
        errors
    }
}

fn validate_persistent_volume(volume: &PersistentVolume) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = volume.spec.clone().unwrap_or_default();
    let spec_path = FieldPath::new("spec");
    let modes = spec.access_modes.clone().unwrap_or_default();
    if modes.is_empty() {
        errors.push(FieldError::required(&spec_path.child("accessModes"), ""));
    }
    for mode in &modes {
        if !SUPPORTED_ACCESS_MODES.contains(&mode.as_str()) {
            errors.push(FieldError::not_supported(
                &spec_path.child("accessModes"),
                mode.as_str(),
                SUPPORTED_ACCESS_MODES,
            ));
        }
    }
    if modes.iter().any(|mode| mode == "ReadWriteOncePod")
        && modes.iter().any(|mode| {
            mode != "ReadWriteOncePod" && SUPPORTED_ACCESS_MODES.contains(&mode.as_str())
        })
    {
        errors.push(FieldError::forbidden(
            &spec_path.child("accessModes"),
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
    let capacity = spec.capacity.clone().unwrap_or_default();
    let capacity_path = spec_path.child("capacity");
    if capacity.is_empty() {
        errors.push(FieldError::required(&capacity_path, ""));
    }
    if !capacity.contains_key("storage") || capacity.len() > 1 {
        errors.push(FieldError::not_supported(
            &capacity_path,
            json_value(&capacity),
            &["storage"],
        ));
    }
    for (name, quantity) in &capacity {
        errors.extend(validate_positive_quantity(
            quantity,
            &capacity_path.key(name),
        ));
    }
    if let Some(policy) = spec
        .persistent_volume_reclaim_policy
        .as_deref()
        .filter(|policy| !policy.is_empty())
        && !matches!(policy, "Delete" | "Recycle" | "Retain")
    {
        errors.push(FieldError::not_supported(
            &spec_path.child("persistentVolumeReclaimPolicy"),
            policy,
            &["Delete", "Recycle", "Retain"],
        ));
    }
    let value = serde_json::to_value(&spec).unwrap_or_default();
    let sources: Vec<&&str> = PV_SOURCES
        .iter()
        .filter(|field| value.get(**field).is_some())
        .collect();
    if sources.is_empty() {
        errors.push(FieldError::required(
            &spec_path,
            "must specify a volume type",
        ));
    }
    for extra in sources.iter().skip(1) {
        errors.push(FieldError::forbidden(
            &spec_path.child(extra),
            "may not specify more than 1 volume type",
        ));
    }
    if let Some(host_path) = spec.host_path.as_ref()
        && host_path.path.is_empty()
    {
        errors.push(FieldError::required(
            &spec_path.child("hostPath").child("path"),
            "",
        ));
    }
    if let Some(local) = spec.local.as_ref() {
        if local.path.is_empty() {
            errors.push(FieldError::required(
                &spec_path.child("local").child("path"),
                "",
            ));
        }
        if spec.node_affinity.is_none() {
            errors.push(FieldError::required(
                &spec_path.child("nodeAffinity"),
                "Local volume requires node affinity",
            ));
        }
    }
    if let Some(class) = spec
        .storage_class_name
        .as_deref()
        .filter(|class| !class.is_empty())
    {
        errors.extend(invalid_each(
            &spec_path.child("storageClassName"),
            class,
            name_is_dns_subdomain(class, false),
        ));
    }
    if let Some(mode) = spec.volume_mode.as_deref()
        && mode != "Block"
        && mode != "Filesystem"
    {
        errors.push(FieldError::not_supported(
            &spec_path.child("volumeMode"),
            mode,
            &["Block", "Filesystem"],
        ));
    }
    // NOTE: the per-source field checks of upstream (nfs server, csi driver, ...) are done
    // for pod volumes in `pod_spec::volume`, not repeated for persistent volumes.
    errors
}

/// Strategy of `persistentvolumeclaims`.
#[derive(Clone, Copy, Debug, Default)]
pub struct PersistentVolumeClaimStrategy;

impl Strategy for PersistentVolumeClaimStrategy {
    type Object = PersistentVolumeClaim;

    fn default(&self, claim: &mut PersistentVolumeClaim) {
        let status = claim.status.get_or_insert_with(Default::default);
        if status.phase.as_deref().is_none_or(str::is_empty) {
            status.phase = Some("Pending".to_string());
        }
        round_resource_list(status.capacity.as_mut());
        round_resource_list(status.allocated_resources.as_mut());
        default_persistent_volume_claim_spec(claim.spec.get_or_insert_with(Default::default));
    }

    /// Clears the status to phase Pending: the volume controller binds the claim.
    fn prepare_for_create(&self, claim: &mut PersistentVolumeClaim) {
        claim.status = Some(PersistentVolumeClaimStatus {
            phase: Some("Pending".to_string()),
            ..Default::default()
        });
    }

    fn prepare_for_update(&self, claim: &mut PersistentVolumeClaim, old: &PersistentVolumeClaim) {
        claim.status = old.status.clone();
    }

    fn validate(&self, claim: &PersistentVolumeClaim) -> Vec<FieldError> {
        validate_persistent_volume_claim_spec(
            &claim.spec.clone().unwrap_or_default(),
            &FieldPath::new("spec"),
        )
    }

    fn validate_update(
        &self,
        claim: &PersistentVolumeClaim,
        old: &PersistentVolumeClaim,
    ) -> Vec<FieldError> {
        let mut errors = self.validate(claim);
        let spec = claim.spec.clone().unwrap_or_default();
        let old_spec = old.spec.clone().unwrap_or_default();
        let bound = claim
            .status
            .as_ref()
            .and_then(|status| status.phase.as_deref())
            == Some("Bound");

        let mut comparable = spec.clone();
        let mut old_comparable = old_spec.clone();
        if old_spec.volume_name.as_deref().is_none_or(str::is_empty) {
            old_comparable.volume_name = comparable.volume_name.clone();
        }
        if bound {
            let old_storage = old_spec
                .resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .and_then(|r| r.get("storage"))
                .cloned();
            if let Some(requests) = comparable
                .resources
                .as_mut()
                .and_then(|r| r.requests.as_mut())
            {
                match old_storage {
                    Some(storage) => {
                        requests.insert("storage".to_string(), storage);
                    }
                    None => {
                        requests.remove("storage");
                    }
                }
            }
            comparable.volume_attributes_class_name =
                old_comparable.volume_attributes_class_name.clone();
        }
        if comparable != old_comparable {
            errors.push(FieldError::forbidden(
                &FieldPath::new("spec"),
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
            ));
        }

        let storage = |spec: &k8s_openapi::api::core::v1::PersistentVolumeClaimSpec| {
            spec.resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .and_then(|r| r.get("storage"))
                .and_then(crate::registry::pod_spec::common::parse_quantity)
        };
        if let (Some(new_size), Some(old_size)) = (storage(&spec), storage(&old_spec))
            && new_size < old_size
        {
            errors.push(FieldError::forbidden(
                &FieldPath::from_names(["spec", "resources", "requests", "storage"]),
                "field can not be less than previous value",
            ));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn claim_defaults_and_rules() {
        let mut claim: PersistentVolumeClaim = serde_json::from_value(json!({"metadata": {"name": "c"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})).expect("decodes");
        PersistentVolumeClaimStrategy.default(&mut claim);
        PersistentVolumeClaimStrategy.prepare_for_create(&mut claim);
        let value = serde_json::to_value(&claim).expect("encodes");
        assert_eq!(value["spec"]["volumeMode"], "Filesystem");
        assert_eq!(value["status"], json!({"phase": "Pending"}));
        assert!(PersistentVolumeClaimStrategy.validate(&claim).is_empty());

        let missing: PersistentVolumeClaim =
            serde_json::from_value(json!({"spec": {}})).expect("decodes");
        assert_eq!(
            messages(PersistentVolumeClaimStrategy.validate(&missing)),
            vec![
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value"
            ]
        );

        let mut changed = claim.clone();
        changed.spec.as_mut().expect("spec").access_modes = Some(vec!["ReadWriteMany".into()]);
        assert_eq!(
            messages(PersistentVolumeClaimStrategy.validate_update(&changed, &claim)),
            vec![
                "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
            ]
        );
        let mut bound_name = claim.clone();
        bound_name.spec.as_mut().expect("spec").volume_name = Some("pv-1".into());
        assert!(
            PersistentVolumeClaimStrategy
                .validate_update(&bound_name, &claim)
                .is_empty()
        );
    }

    #[test]
    fn volume_defaults_and_rules() {
        let mut volume: PersistentVolume = serde_json::from_value(json!({"metadata": {"name": "pv"},
            "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}, "hostPath": {"path": "/data"}}})).expect("decodes");
        PersistentVolumeStrategy.default(&mut volume);
        let value = serde_json::to_value(&volume).expect("encodes");
        assert_eq!(value["spec"]["persistentVolumeReclaimPolicy"], "Retain");
        assert_eq!(value["spec"]["volumeMode"], "Filesystem");
        assert_eq!(value["status"]["phase"], "Pending");
        assert!(PersistentVolumeStrategy.validate(&volume).is_empty());

        let empty: PersistentVolume = serde_json::from_value(
            json!({"spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}}),
        )
        .expect("decodes");
        assert_eq!(
            messages(PersistentVolumeStrategy.validate(&empty)),
            vec!["spec: Required value: must specify a volume type"]
        );
    }
}
