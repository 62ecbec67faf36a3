//! storage.k8s.io/v1: StorageClasses, CSIDrivers, CSINodes, VolumeAttachments and
//! CSIStorageCapacities.
//!
//! Entry point: [`strategies`]. Defaults and validation follow upstream's
//! `pkg/apis/storage`. A StorageClass defaults to reclaim policy `Delete` and binding
//! mode `Immediate`, and its provisioner, parameters, reclaim policy and binding mode
//! are immutable. A VolumeAttachment's spec is immutable, and its status is written
//! through the status subresource.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::quantity::Quantity;
use apimachinery::validation::{inclusive_range_error, is_dns1123_subdomain};
use k8s_openapi::api::core::v1::TopologySelectorTerm;
use k8s_openapi::api::storage::v1::{
    CSIDriver, CSIDriverSpec, CSINode, CSINodeDriver, CSIStorageCapacity, StorageClass,
    TokenRequest, VolumeAttachment, VolumeAttachmentSource, VolumeAttachmentStatus, VolumeError,
};

use super::validation::{
    IS_NEGATIVE, invalid_each, rendered, validate_immutable, validate_label_name,
    validate_label_selector, validate_nonnegative, validate_qualified_name,
};
use super::{ResourceStrategy, entry};
use crate::registry::strategy::Strategy;

const MAX_PROVISIONER_PARAMETER_SIZE: usize = 256 * 1024;
const MAX_PROVISIONER_PARAMETER_COUNT: usize = 512;
const MAX_ATTACHED_VOLUME_METADATA_SIZE: usize = 256 * 1024;
const MAX_VOLUME_ERROR_MESSAGE_SIZE: usize = 1024;
const CSI_NODE_ID_MAX_LENGTH: usize = 256;
const CSI_DRIVER_NAME_MAX_LENGTH: usize = 63;
const RECLAIM_POLICIES: [&str; 2] = ["Delete", "Retain"];
const VOLUME_BINDING_MODES: [&str; 2] = ["Immediate", "WaitForFirstConsumer"];
const FS_GROUP_POLICIES: [&str; 3] = ["File", "None", "ReadWriteOnceWithFSType"];
const VOLUME_LIFECYCLE_MODES: [&str; 2] = ["Persistent", "Ephemeral"];

/// Returns the strategies of the storage.k8s.io/v1 resources.
pub fn strategies() -> Vec<ResourceStrategy> {
    vec![
        entry(Arc::new(StorageClassStrategy)),
        entry(Arc::new(CsiDriverStrategy)),
        entry(Arc::new(CsiNodeStrategy)),
        entry(Arc::new(VolumeAttachmentStrategy)),
        entry(Arc::new(CsiStorageCapacityStrategy)),
    ]
}

/// Strategy of `storageclasses`.
pub struct StorageClassStrategy;

impl Strategy for StorageClassStrategy {
    type Object = StorageClass;

    fn default(&self, class: &mut StorageClass) {
        if class.reclaim_policy.is_none() {
            class.reclaim_policy = Some("Delete".to_string());
        }
        if class.volume_binding_mode.is_none() {
            class.volume_binding_mode = Some("Immediate".to_string());
        }
    }

    fn validate(&self, class: &StorageClass) -> Vec<FieldError> {
        let mut errors = validate_provisioner(&class.provisioner, &FieldPath::new("provisioner"));
        errors.extend(validate_parameters(
            class.parameters.as_ref(),
            &FieldPath::new("parameters"),
        ));
        if let Some(policy) = class
            .reclaim_policy
            .as_deref()
            .filter(|policy| !policy.is_empty())
            && !RECLAIM_POLICIES.contains(&policy)
        {
            errors.push(FieldError::not_supported(
                &FieldPath::new("reclaimPolicy"),
                policy,
                &RECLAIM_POLICIES,
            ));
        }
        let mode_path = FieldPath::new("volumeBindingMode");
        match class.volume_binding_mode.as_deref() {
            None => errors.push(FieldError::required(&mode_path, "")),
            Some(mode) if !VOLUME_BINDING_MODES.contains(&mode) => {
                errors.push(FieldError::not_supported(
                    &mode_path,
                    mode,
                    &VOLUME_BINDING_MODES,
                ));
            }
            Some(_) => {}
        }
        errors.extend(validate_allowed_topologies(
            class.allowed_topologies.as_deref().unwrap_or_default(),
            &FieldPath::new("allowedTopologies"),
        ));
        errors
    }

    fn validate_update(&self, class: &StorageClass, old: &StorageClass) -> Vec<FieldError> {
        let mut errors = self.validate(class);
        if class.parameters.as_ref().filter(|map| !map.is_empty())
            != old.parameters.as_ref().filter(|map| !map.is_empty())
        {
            errors.push(FieldError::forbidden(
                &FieldPath::new("parameters"),
                "updates to parameters are forbidden.",
            ));
        }
        if class.provisioner != old.provisioner {
            errors.push(FieldError::forbidden(
                &FieldPath::new("provisioner"),
                "updates to provisioner are forbidden.",
            ));
        }
        if class.reclaim_policy != old.reclaim_policy {
            errors.push(FieldError::forbidden(
                &FieldPath::new("reclaimPolicy"),
                "updates to reclaimPolicy are forbidden.",
            ));
        }
        errors.extend(validate_immutable(
            &class.volume_binding_mode,
            &old.volume_binding_mode,
            &FieldPath::new("volumeBindingMode"),
        ));
        errors
    }
}

/// Upstream's `validateProvisioner`: required, and a qualified name once lower-cased.
fn validate_provisioner(provisioner: &str, path: &FieldPath) -> Vec<FieldError> {
    if provisioner.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    validate_qualified_name(&provisioner.to_lowercase(), path)
}

/// Upstream's `validateParameters`: at most 512 entries of at most 256 KiB in total,
/// and no empty key.
fn validate_parameters(
    parameters: Option<&BTreeMap<String, String>>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let Some(parameters) = parameters else {
        return Vec::new();
    };
    if parameters.len() > MAX_PROVISIONER_PARAMETER_COUNT {
        return vec![FieldError::too_long(
            path,
            Some(MAX_PROVISIONER_PARAMETER_COUNT),
        )];
    }
    let mut errors = Vec::new();
    let mut total_size = 0;
    for (key, value) in parameters {
        if key.is_empty() {
            errors.push(FieldError::invalid(path, key, "field can not be empty."));
        }
        total_size += key.len() + value.len();
    }
    if total_size > MAX_PROVISIONER_PARAMETER_SIZE {
        errors.push(FieldError::too_long(
            path,
            Some(MAX_PROVISIONER_PARAMETER_SIZE),
        ));
    }
    errors
}

/// Upstream's `validateAllowedTopologies` with the core group's
/// `ValidateTopologySelectorTerm`.
fn validate_allowed_topologies(
    terms: &[TopologySelectorTerm],
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen_terms: Vec<BTreeMap<String, BTreeSet<String>>> = Vec::new();
    for (index, term) in terms.iter().enumerate() {
        let term_path = path.index(index);
        let expressions_path = term_path.child("matchLabelExpressions");
        let mut expressions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (expression_index, requirement) in
            term.match_label_expressions.iter().flatten().enumerate()
        {
            let requirement_path = expressions_path.index(expression_index);
            let values_path = requirement_path.child("values");
            if requirement.values.is_empty() {
                errors.push(FieldError::required(&values_path, ""));
            }
            let mut values = BTreeSet::new();
            for (value_index, value) in requirement.values.iter().enumerate() {
                if !values.insert(value.clone()) {
                    errors.push(FieldError::duplicate(
                        &values_path.index(value_index),
                        value,
                    ));
                }
            }
            errors.extend(validate_label_name(
                &requirement.key,
                &requirement_path.child("key"),
            ));
            if expressions.contains_key(&requirement.key) {
                errors.push(FieldError::duplicate(
                    &requirement_path.child("key"),
                    &requirement.key,
                ));
            }
            expressions.insert(requirement.key.clone(), values);
        }
        if seen_terms.contains(&expressions) {
            errors.push(FieldError::duplicate(&expressions_path, ""));
        }
        seen_terms.push(expressions);
    }
    errors
}

/// Strategy of `csidrivers`.
///
/// `spec.nodeAllocatableUpdatePeriodSeconds` belongs to the MutableCSINodeAllocatableCount
/// feature, disabled in v1.33, so it is dropped unless the stored object has it.
pub struct CsiDriverStrategy;

impl Strategy for CsiDriverStrategy {
    type Object = CSIDriver;

    fn default(&self, driver: &mut CSIDriver) {
        let spec = &mut driver.spec;
        spec.attach_required.get_or_insert(true);
        spec.pod_info_on_mount.get_or_insert(false);
        spec.storage_capacity.get_or_insert(false);
        spec.fs_group_policy
            .get_or_insert_with(|| "ReadWriteOnceWithFSType".to_string());
        if spec
            .volume_lifecycle_modes
            .as_ref()
            .is_none_or(Vec::is_empty)
        {
            spec.volume_lifecycle_modes = Some(vec!["Persistent".to_string()]);
        }
        spec.requires_republish.get_or_insert(false);
        spec.se_linux_mount.get_or_insert(false);
    }

    fn prepare_for_create(&self, driver: &mut CSIDriver) {
        driver.spec.node_allocatable_update_period_seconds = None;
    }

    fn prepare_for_update(&self, driver: &mut CSIDriver, old: &CSIDriver) {
        if old.spec.node_allocatable_update_period_seconds.is_none() {
            driver.spec.node_allocatable_update_period_seconds = None;
        }
    }

    fn validate(&self, driver: &CSIDriver) -> Vec<FieldError> {
        validate_csi_driver_spec(&driver.spec, &FieldPath::new("spec"))
    }

    fn validate_update(&self, driver: &CSIDriver, old: &CSIDriver) -> Vec<FieldError> {
        let mut errors = self.validate(driver);
        // Upstream names the field `attachedRequired` in these paths.
        errors.extend(validate_immutable(
            &driver.spec.attach_required,
            &old.spec.attach_required,
            &FieldPath::from_names(["spec", "attachedRequired"]),
        ));
        errors.extend(validate_immutable(
            &driver.spec.volume_lifecycle_modes,
            &old.spec.volume_lifecycle_modes,
            &FieldPath::from_names(["spec", "volumeLifecycleModes"]),
        ));
        errors
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn allow_unconditional_update(&self) -> bool {
        false
    }
}

fn validate_csi_driver_spec(spec: &CSIDriverSpec, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (field, value) in [
        ("attachedRequired", spec.attach_required),
        ("podInfoOnMount", spec.pod_info_on_mount),
        ("storageCapacity", spec.storage_capacity),
    ] {
        if value.is_none() {
            errors.push(FieldError::required(&path.child(field), ""));
        }
    }
    if let Some(policy) = &spec.fs_group_policy
        && !FS_GROUP_POLICIES.contains(&policy.as_str())
    {
        errors.push(FieldError::not_supported(
            &path.child("fsGroupPolicy"),
            policy,
            &FS_GROUP_POLICIES,
        ));
    }
    errors.extend(validate_token_requests(
        spec.token_requests.as_deref().unwrap_or_default(),
        &path.child("tokenRequests"),
    ));
    for mode in spec.volume_lifecycle_modes.iter().flatten() {
        if !VOLUME_LIFECYCLE_MODES.contains(&mode.as_str()) {
            errors.push(FieldError::not_supported(
                &path.child("volumeLifecycleModes"),
                mode,
                &VOLUME_LIFECYCLE_MODES,
            ));
        }
    }
    if spec.se_linux_mount.is_none() {
        errors.push(FieldError::required(&path.child("seLinuxMount"), ""));
    }
    if let Some(period) = spec.node_allocatable_update_period_seconds
        && period < 10
    {
        errors.push(FieldError::invalid(
            &path.child("nodeAllocatableUpdatePeriodSeconds"),
            period,
            "must be greater than or equal to 10 seconds",
        ));
    }
    errors
}

fn validate_token_requests(requests: &[TokenRequest], path: &FieldPath) -> Vec<FieldError> {
    const MIN_EXPIRATION_SECONDS: i64 = 10 * 60;
    const MAX_EXPIRATION_SECONDS: i64 = 1 << 32;
    let mut errors = Vec::new();
    let mut audiences = BTreeSet::new();
    for (index, request) in requests.iter().enumerate() {
        let item = path.index(index);
        if !audiences.insert(request.audience.as_str()) {
            errors.push(FieldError::duplicate(
                &item.child("audience"),
                &request.audience,
            ));
            continue;
        }
        let Some(seconds) = request.expiration_seconds else {
            continue;
        };
        if seconds < MIN_EXPIRATION_SECONDS {
            errors.push(FieldError::invalid(
                &item.child("expirationSeconds"),
                seconds,
                "may not specify a duration less than 10 minutes",
            ));
        }
        if seconds > MAX_EXPIRATION_SECONDS {
            errors.push(FieldError::invalid(
                &item.child("expirationSeconds"),
                seconds,
                "may not specify a duration larger than 2^32 seconds",
            ));
        }
    }
    errors
}

/// Upstream's `ValidateCSIDriverName` of the core group: required, at most 63
/// characters, and a DNS-1123 subdomain once lower-cased.
fn validate_csi_driver_name(name: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push(FieldError::required(path, ""));
    }
    if name.len() > CSI_DRIVER_NAME_MAX_LENGTH {
        errors.push(FieldError::too_long(path, Some(CSI_DRIVER_NAME_MAX_LENGTH)));
    }
    errors.extend(invalid_each(
        path,
        name,
        is_dns1123_subdomain(&name.to_lowercase()),
    ));
    errors
}

/// Strategy of `csinodes`.
pub struct CsiNodeStrategy;

impl Strategy for CsiNodeStrategy {
    type Object = CSINode;

    fn validate(&self, node: &CSINode) -> Vec<FieldError> {
        let drivers_path = FieldPath::from_names(["spec", "drivers"]);
        let mut errors = Vec::new();
        let mut names = BTreeSet::new();
        for (index, driver) in node.spec.drivers.iter().enumerate() {
            errors.extend(validate_csi_node_driver(
                driver,
                &mut names,
                &drivers_path.index(index),
            ));
        }
        errors
    }

    fn validate_update(&self, node: &CSINode, old: &CSINode) -> Vec<FieldError> {
        let mut errors = self.validate(node);
        // An existing driver entry may not change; drivers may be added or removed.
        let drivers_path = FieldPath::from_names(["spec", "drivers"]);
        for old_driver in &old.spec.drivers {
            for new_driver in node
                .spec
                .drivers
                .iter()
                .filter(|driver| driver.name == old_driver.name)
            {
                errors.extend(validate_immutable(new_driver, old_driver, &drivers_path));
            }
        }
        errors
    }
}

fn validate_csi_node_driver(
    driver: &CSINodeDriver,
    names: &mut BTreeSet<String>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = validate_csi_driver_name(&driver.name, &path.child("name"));

    let node_id_path = path.child("nodeID");
    if driver.node_id.is_empty() {
        errors.push(FieldError::required(&node_id_path, ""));
    }
    if driver.node_id.len() > CSI_NODE_ID_MAX_LENGTH {
        errors.push(FieldError::invalid(
            &node_id_path,
            &driver.node_id,
            format!("must be {CSI_NODE_ID_MAX_LENGTH} characters or less"),
        ));
    }
    if let Some(count) = driver
        .allocatable
        .as_ref()
        .and_then(|allocatable| allocatable.count)
    {
        errors.extend(validate_nonnegative(
            i64::from(count),
            &path.child("allocatable").child("count"),
        ));
    }

    if !names.insert(driver.name.clone()) {
        errors.push(FieldError::duplicate(&path.child("name"), &driver.name));
    }
    // Upstream reports topology key problems on the driver's path, not the key's.
    let mut keys = BTreeSet::new();
    for key in driver.topology_keys.iter().flatten() {
        if key.is_empty() {
            errors.push(FieldError::required(path, ""));
        }
        if !keys.insert(key.as_str()) {
            errors.push(FieldError::duplicate(path, key));
        }
        errors.extend(validate_qualified_name(key, path));
    }
    errors
}

/// Strategy of `volumeattachments`. Create clears the status; updates keep it, and the
/// status subresource keeps the spec. The spec is immutable.
pub struct VolumeAttachmentStrategy;

impl Strategy for VolumeAttachmentStrategy {
    type Object = VolumeAttachment;

    fn prepare_for_create(&self, attachment: &mut VolumeAttachment) {
        attachment.status = None;
    }

    fn prepare_for_update(&self, attachment: &mut VolumeAttachment, old: &VolumeAttachment) {
        attachment.status = old.status.clone();
    }

    fn validate(&self, attachment: &VolumeAttachment) -> Vec<FieldError> {
        let mut errors = validate_volume_attachment(attachment);
        // The extra checks of upstream's ValidateVolumeAttachmentV1.
        errors.extend(validate_csi_driver_name(
            &attachment.spec.attacher,
            &FieldPath::from_names(["spec", "attacher"]),
        ));
        if let Some(name) = &attachment.spec.source.persistent_volume_name {
            errors.extend(invalid_each(
                &FieldPath::from_names(["spec", "source", "persistentVolumeName"]),
                name,
                is_dns1123_subdomain(name),
            ));
        }
        errors
    }

    fn validate_update(
        &self,
        attachment: &VolumeAttachment,
        old: &VolumeAttachment,
    ) -> Vec<FieldError> {
        let mut errors = validate_volume_attachment(attachment);
        if attachment.spec != old.spec {
            errors.push(FieldError::invalid(
                &FieldPath::new("spec"),
                rendered(&attachment.spec),
                "field is immutable",
            ));
        }
        errors
    }

    fn validate_status_update(
        &self,
        attachment: &VolumeAttachment,
        old: &VolumeAttachment,
    ) -> Vec<FieldError> {
        self.validate_update(attachment, old)
    }
}

fn validate_volume_attachment(attachment: &VolumeAttachment) -> Vec<FieldError> {
    let spec_path = FieldPath::new("spec");
    let spec = &attachment.spec;
    let mut errors = Vec::new();
    if spec.attacher.is_empty() {
        errors.push(FieldError::required(&spec_path.child("attacher"), ""));
    }
    errors.extend(validate_volume_attachment_source(
        &spec.source,
        &spec_path.child("source"),
    ));
    errors.extend(invalid_each(
        &spec_path.child("nodeName"),
        &spec.node_name,
        is_dns1123_subdomain(&spec.node_name),
    ));
    if let Some(status) = &attachment.status {
        errors.extend(validate_volume_attachment_status(
            status,
            &FieldPath::new("status"),
        ));
    }
    errors
}

fn validate_volume_attachment_source(
    source: &VolumeAttachmentSource,
    path: &FieldPath,
) -> Vec<FieldError> {
    const EXACTLY_ONE: &str =
        "must specify exactly one of inlineVolumeSpec and persistentVolumeName";
    match (&source.inline_volume_spec, &source.persistent_volume_name) {
        (None, None) => vec![FieldError::required(path, EXACTLY_ONE)],
        (Some(_), Some(_)) => vec![FieldError::forbidden(path, EXACTLY_ONE)],
        (None, Some(name)) if name.is_empty() => vec![FieldError::required(
            &path.child("persistentVolumeName"),
            "must specify non empty persistentVolumeName",
        )],
        // TODO: validate inlineVolumeSpec with the core group's PersistentVolumeSpec
        // validation once that exists.
        _ => Vec::new(),
    }
}

fn validate_volume_attachment_status(
    status: &VolumeAttachmentStatus,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let metadata_size: usize = status
        .attachment_metadata
        .iter()
        .flatten()
        .map(|(key, value)| key.len() + value.len())
        .sum();
    if metadata_size > MAX_ATTACHED_VOLUME_METADATA_SIZE {
        errors.push(FieldError::too_long(
            &path.child("attachmentMetadata"),
            Some(MAX_ATTACHED_VOLUME_METADATA_SIZE),
        ));
    }
    errors.extend(validate_volume_error(
        status.attach_error.as_ref(),
        &path.child("attachError"),
    ));
    errors.extend(validate_volume_error(
        status.detach_error.as_ref(),
        &path.child("detachError"),
    ));
    errors
}

fn validate_volume_error(error: Option<&VolumeError>, path: &FieldPath) -> Vec<FieldError> {
    let Some(error) = error else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    if error.message.as_deref().unwrap_or_default().len() > MAX_VOLUME_ERROR_MESSAGE_SIZE {
        // Upstream reports the metadata size limit here, not the message limit.
        errors.push(FieldError::too_long(
            &path.child("message"),
            Some(MAX_ATTACHED_VOLUME_METADATA_SIZE),
        ));
    }
    if let Some(code) = error.error_code
        && code < 0
    {
        errors.push(FieldError::invalid(
            &path.child("errorCode"),
            code,
            inclusive_range_error(0, i64::from(i32::MAX)),
        ));
    }
    errors
}

/// Strategy of `csistoragecapacities`. `nodeTopology` and `storageClassName` are
/// immutable.
pub struct CsiStorageCapacityStrategy;

impl Strategy for CsiStorageCapacityStrategy {
    type Object = CSIStorageCapacity;

    fn validate(&self, capacity: &CSIStorageCapacity) -> Vec<FieldError> {
        validate_csi_storage_capacity(capacity, false)
    }

    fn validate_update(
        &self,
        capacity: &CSIStorageCapacity,
        old: &CSIStorageCapacity,
    ) -> Vec<FieldError> {
        let allow_invalid =
            !validate_label_selector(old.node_topology.as_ref(), false, &FieldPath::default())
                .is_empty();
        let mut errors = validate_csi_storage_capacity(capacity, allow_invalid);
        if capacity.node_topology != old.node_topology {
            errors.push(FieldError::invalid(
                &FieldPath::new("nodeTopology"),
                rendered(&capacity.node_topology),
                "field is immutable",
            ));
        }
        if capacity.storage_class_name != old.storage_class_name {
            errors.push(FieldError::invalid(
                &FieldPath::new("storageClassName"),
                &capacity.storage_class_name,
                "field is immutable",
            ));
        }
        errors
    }
}

fn validate_csi_storage_capacity(
    capacity: &CSIStorageCapacity,
    allow_invalid_label_values: bool,
) -> Vec<FieldError> {
    let mut errors = validate_label_selector(
        capacity.node_topology.as_ref(),
        allow_invalid_label_values,
        &FieldPath::new("nodeTopology"),
    );
    errors.extend(invalid_each(
        &FieldPath::new("storageClassName"),
        &capacity.storage_class_name,
        is_dns1123_subdomain(&capacity.storage_class_name),
    ));
    if let Some(quantity) = &capacity.capacity {
        let negative = Quantity::parse(&quantity.0).is_ok_and(|parsed| parsed.signum() < 0);
        if negative {
            errors.push(FieldError::invalid(
                &FieldPath::new("capacity"),
                &quantity.0,
                IS_NEGATIVE,
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::groups::validation::testing::{defaulted, messages};
    use crate::registry::strategy::Strategy;
    use serde_json::json;

    fn storage_class(value: serde_json::Value) -> StorageClass {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn storage_class_defaults() {
        let object = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                            "metadata": {"name": "fast"}, "provisioner": "example.com/disk"});
        let result = defaulted(&StorageClassStrategy, object);
        assert_eq!(result["reclaimPolicy"], "Delete");
        assert_eq!(result["volumeBindingMode"], "Immediate");
    }

    #[test]
    fn storage_class_validation() {
        let base = json!({"metadata": {"name": "fast"}, "provisioner": "example.com/disk",
                          "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"});
        assert!(
            StorageClassStrategy
                .validate(&storage_class(base.clone()))
                .is_empty()
        );

        let cases = [
            (
                json!({"provisioner": ""}),
                vec!["provisioner: Required value"],
            ),
            (
                json!({"reclaimPolicy": "Recycle"}),
                vec![
                    "reclaimPolicy: Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"",
                ],
            ),
            (
                json!({"volumeBindingMode": "Later"}),
                vec![
                    "volumeBindingMode: Unsupported value: \"Later\": supported values: \"Immediate\", \"WaitForFirstConsumer\"",
                ],
            ),
            (
                json!({"volumeBindingMode": null}),
                vec!["volumeBindingMode: Required value"],
            ),
            (
                json!({"allowedTopologies": [{"matchLabelExpressions": [{"key": "zone", "values": []}]}]}),
                vec!["allowedTopologies[0].matchLabelExpressions[0].values: Required value"],
            ),
        ];
        for (patch, expected) in cases {
            let mut value = base.clone();
            value
                .as_object_mut()
                .unwrap()
                .extend(patch.as_object().unwrap().clone());
            assert_eq!(
                messages(&StorageClassStrategy.validate(&storage_class(value))),
                expected,
                "{patch}"
            );
        }
    }

    #[test]
    fn storage_class_immutable_fields() {
        let old = storage_class(
            json!({"metadata": {"name": "fast"}, "provisioner": "a.io/x",
            "parameters": {"type": "ssd"}, "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}),
        );
        let mut new = old.clone();
        new.allow_volume_expansion = Some(true);
        assert!(StorageClassStrategy.validate_update(&new, &old).is_empty());

        new.provisioner = "b.io/y".into();
        new.parameters = Some(BTreeMap::from([("type".into(), "hdd".into())]));
        new.reclaim_policy = Some("Retain".into());
        new.volume_binding_mode = Some("WaitForFirstConsumer".into());
        assert_eq!(
            messages(&StorageClassStrategy.validate_update(&new, &old)),
            [
                "parameters: Forbidden: updates to parameters are forbidden.",
                "provisioner: Forbidden: updates to provisioner are forbidden.",
                "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
                "volumeBindingMode: Invalid value: \"WaitForFirstConsumer\": field is immutable",
            ]
        );
    }

    #[test]
    fn csi_driver_defaults_and_validation() {
        let object = json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver",
                            "metadata": {"name": "disk.example.com"}, "spec": {}});
        let result = defaulted(&CsiDriverStrategy, object);
        assert_eq!(
            result["spec"],
            json!({"attachRequired": true, "fsGroupPolicy": "ReadWriteOnceWithFSType",
                   "podInfoOnMount": false, "requiresRepublish": false, "seLinuxMount": false,
                   "storageCapacity": false, "volumeLifecycleModes": ["Persistent"]})
        );

        let mut driver: CSIDriver = serde_json::from_value(result).unwrap();
        assert!(CsiDriverStrategy.validate(&driver).is_empty());
        driver.spec.fs_group_policy = Some("Any".into());
        driver.spec.token_requests = Some(vec![
            TokenRequest {
                audience: "a".into(),
                expiration_seconds: Some(60),
            },
            TokenRequest {
                audience: "a".into(),
                expiration_seconds: None,
            },
        ]);
        assert_eq!(
            messages(&CsiDriverStrategy.validate(&driver)),
            [
                "spec.fsGroupPolicy: Unsupported value: \"Any\": supported values: \"File\", \"None\", \"ReadWriteOnceWithFSType\"",
                "spec.tokenRequests[0].expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes",
                "spec.tokenRequests[1].audience: Duplicate value: \"a\"",
            ]
        );
        assert!(CsiDriverStrategy.tracks_generation());
    }

    #[test]
    fn csi_driver_immutable_attach_required() {
        let old: CSIDriver = serde_json::from_value(json!({"metadata": {"name": "d"}, "spec": {
            "attachRequired": true, "podInfoOnMount": false, "storageCapacity": false, "seLinuxMount": false}}))
        .unwrap();
        let mut new = old.clone();
        new.spec.attach_required = Some(false);
        assert_eq!(
            messages(&CsiDriverStrategy.validate_update(&new, &old)),
            ["spec.attachedRequired: Invalid value: false: field is immutable"]
        );
    }

    #[test]
    fn csi_node_validation_and_update() {
        let old: CSINode = serde_json::from_value(json!({"metadata": {"name": "node-1"}, "spec": {"drivers": [
            {"name": "disk.example.com", "nodeID": "n1", "topologyKeys": ["topology.example.com/zone"]}]}}))
        .unwrap();
        assert!(CsiNodeStrategy.validate(&old).is_empty());

        let mut new = old.clone();
        new.spec.drivers[0].node_id = String::new();
        new.spec.drivers.push(new.spec.drivers[0].clone());
        let errors = messages(&CsiNodeStrategy.validate_update(&new, &old));
        assert_eq!(errors[0], "spec.drivers[0].nodeID: Required value");
        assert_eq!(errors[1], "spec.drivers[1].nodeID: Required value");
        assert_eq!(
            errors[2],
            "spec.drivers[1].name: Duplicate value: \"disk.example.com\""
        );
        assert!(errors[3].starts_with("spec.drivers: Invalid value: {"));
        assert!(errors[3].ends_with("field is immutable"));
        assert_eq!(errors.len(), 5);
    }

    fn attachment(source: serde_json::Value) -> VolumeAttachment {
        serde_json::from_value(json!({"metadata": {"name": "va"},
            "spec": {"attacher": "disk.example.com", "nodeName": "node-1", "source": source}}))
        .unwrap()
    }

    #[test]
    fn volume_attachment_validation() {
        assert!(
            VolumeAttachmentStrategy
                .validate(&attachment(json!({"persistentVolumeName": "pv-1"})))
                .is_empty()
        );
        assert_eq!(
            messages(&VolumeAttachmentStrategy.validate(&attachment(json!({})))),
            [
                "spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName"
            ]
        );
        let mut bad = attachment(json!({"persistentVolumeName": "pv-1"}));
        bad.spec.attacher = String::new();
        // Upstream reports an empty attacher three times: required by the generic
        // check, required and not a DNS subdomain by the CSI driver name check.
        let errors = messages(&VolumeAttachmentStrategy.validate(&bad));
        assert_eq!(
            errors[..2],
            [
                "spec.attacher: Required value",
                "spec.attacher: Required value"
            ]
        );
        assert!(
            errors[2]
                .starts_with("spec.attacher: Invalid value: \"\": a lowercase RFC 1123 subdomain")
        );
        assert_eq!(errors.len(), 3);
    }

    #[test]
    fn volume_attachment_spec_immutable_and_status_kept() {
        let old = attachment(json!({"persistentVolumeName": "pv-1"}));
        let mut new = attachment(json!({"persistentVolumeName": "pv-2"}));
        let errors = messages(&VolumeAttachmentStrategy.validate_update(&new, &old));
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("spec: Invalid value: {"));

        let mut stored = old.clone();
        stored.status = Some(VolumeAttachmentStatus {
            attached: true,
            ..Default::default()
        });
        VolumeAttachmentStrategy.prepare_for_update(&mut new, &stored);
        assert!(new.status.unwrap().attached);

        let mut created = attachment(json!({"persistentVolumeName": "pv-1"}));
        created.status = Some(VolumeAttachmentStatus {
            attached: true,
            ..Default::default()
        });
        VolumeAttachmentStrategy.prepare_for_create(&mut created);
        assert!(created.status.is_none());
    }

    #[test]
    fn csi_storage_capacity_rules() {
        let old: CSIStorageCapacity =
            serde_json::from_value(json!({"metadata": {"name": "c", "namespace": "ns"},
            "storageClassName": "fast", "capacity": "10Gi",
            "nodeTopology": {"matchLabels": {"topology.example.com/zone": "a"}}}))
            .unwrap();
        assert!(CsiStorageCapacityStrategy.validate(&old).is_empty());

        let mut new = old.clone();
        new.storage_class_name = "Slow_Class".into();
        new.capacity = Some(k8s_openapi::apimachinery::pkg::api::resource::Quantity(
            "-1".into(),
        ));
        let errors = messages(&CsiStorageCapacityStrategy.validate_update(&new, &old));
        assert!(errors[0].starts_with(
            "storageClassName: Invalid value: \"Slow_Class\": a lowercase RFC 1123 subdomain"
        ));
        assert_eq!(
            errors[1],
            "capacity: Invalid value: \"-1\": must be greater than or equal to 0"
        );
        assert_eq!(
            errors[2],
            "storageClassName: Invalid value: \"Slow_Class\": field is immutable"
        );
        assert_eq!(errors.len(), 3);
    }
}
