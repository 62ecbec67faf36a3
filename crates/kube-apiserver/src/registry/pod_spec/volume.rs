//! Validation of pod volumes and of persistent volume claim specs (upstream's
//! `ValidateVolumes`, `validateVolumeSource` and `ValidatePersistentVolumeClaimSpec`).
//!
//! Every source type counts towards the "one source per volume" rule. The common
//! sources (emptyDir, hostPath, secret, configMap, persistentVolumeClaim, downwardAPI,
//! projected, nfs, csi, ephemeral, image, gitRepo) get upstream's full checks. The
//! in-tree cloud and network sources get only their required-field checks.

use std::collections::{BTreeMap, BTreeSet};

use apimachinery::errors::{FieldError, FieldPath};
use k8s_openapi::api::core::v1::{
    DownwardAPIVolumeFile, KeyToPath, PersistentVolumeClaimSpec, ProjectedVolumeSource, Volume,
};

use super::common::{
    invalid_each, name_is_dns_subdomain, validate_annotations, validate_dns1123_label,
    validate_label_selector, validate_labels, validate_positive_quantity,
};
use super::container::{validate_object_field_selector, validate_resource_field_selector};

const FILE_MODE_ERROR_MSG: &str = "must be a number between 0 and 0777 (octal), both inclusive";

const VOLUME_FIELD_PATHS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
];

const SUPPORTED_HOST_PATH_TYPES: &[&str] = &[
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
];

const SUPPORTED_ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

/// What a volume's source means to the containers that use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VolumeKind {
    /// A persistent volume claim or a generic ephemeral volume: usable as a block device.
    Claim,
    /// An OCI image volume: no sub paths.
    Image,
    /// Any other source.
    Other,
}

/// Validates `spec.volumes` and returns the valid volumes by name with their kind.
/// `pod_name` is the name of a real pod (not a template); it checks the names of the
/// claims that ephemeral volumes create.
pub fn validate_volumes(
    volumes: &[Volume],
    pod_name: Option<&str>,
    path: &FieldPath,
) -> (BTreeMap<String, VolumeKind>, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut valid = BTreeMap::new();
    let created_claims: BTreeSet<String> = match pod_name.filter(|name| !name.is_empty()) {
        Some(pod_name) => volumes
            .iter()
            .filter(|volume| volume.ephemeral.is_some())
            .map(|volume| format!("{pod_name}-{}", volume.name))
            .collect(),
        None => BTreeSet::new(),
    };

    for (index, volume) in volumes.iter().enumerate() {
        let volume_path = path.index(index);
        let name_path = volume_path.child("name");
        let mut volume_errors = validate_volume_source(volume, pod_name, &volume_path);
        if volume.name.is_empty() {
            volume_errors.push(FieldError::required(&name_path, ""));
        } else {
            volume_errors.extend(validate_dns1123_label(&volume.name, &name_path));
        }
        if valid.contains_key(&volume.name) {
            volume_errors.push(FieldError::duplicate(&name_path, volume.name.as_str()));
        }
        if volume_errors.is_empty() {
            valid.insert(volume.name.clone(), kind_of(volume));
        } else {
            errors.extend(volume_errors);
        }
        if let Some(claim) = volume.persistent_volume_claim.as_ref()
            && created_claims.contains(&claim.claim_name)
        {
            errors.push(FieldError::invalid(
                &volume_path
                    .child("persistentVolumeClaim")
                    .child("claimName"),
                claim.claim_name.as_str(),
                "must not reference a PVC that gets created for an ephemeral volume",
            ));
        }
    }
    (valid, errors)
}

fn kind_of(volume: &Volume) -> VolumeKind {
    if volume.persistent_volume_claim.is_some() || volume.ephemeral.is_some() {
        VolumeKind::Claim
    } else if volume.image.is_some() {
        VolumeKind::Image
    } else {
        VolumeKind::Other
    }
}

/// Requires a string field of a source: `Required value` at `path.field` when empty.
fn require(value: &str, path: &FieldPath, field: &str, errors: &mut Vec<FieldError>) {
    if value.is_empty() {
        errors.push(FieldError::required(&path.child(field), ""));
    }
}

fn validate_volume_source(
    volume: &Volume,
    pod_name: Option<&str>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut count = 0;
    // Each set source either counts (first one) or is reported as a second source. The
    // field name in the "more than 1" error is upstream's, typos included.
    let mut first = |set: bool, field: &str, errors: &mut Vec<FieldError>| -> bool {
        if !set {
            return false;
        }
        if count > 0 {
            errors.push(FieldError::forbidden(
                &path.child(field),
                "may not specify more than 1 volume type",
            ));
            return false;
        }
        count += 1;
        true
    };

    if first(volume.empty_dir.is_some(), "emptyDir", &mut errors) {
        let negative = volume
            .empty_dir
            .as_ref()
            .and_then(|empty_dir| empty_dir.size_limit.as_ref())
            .and_then(super::common::parse_quantity)
            .is_some_and(|limit| limit.signum() < 0);
        if negative {
            errors.push(FieldError::forbidden(
                &path.child("emptyDir").child("sizeLimit"),
                "SizeLimit field must be a valid resource quantity",
            ));
        }
    }
    if first(volume.host_path.is_some(), "hostPath", &mut errors)
        && let Some(host_path) = volume.host_path.as_ref()
    {
        let source_path = path.child("hostPath");
        if host_path.path.is_empty() {
            errors.push(FieldError::required(&source_path.child("path"), ""));
        } else {
            errors.extend(validate_path_no_backsteps(
                &host_path.path,
                &source_path.child("path"),
            ));
            if let Some(kind) = host_path.type_.as_deref()
                && !SUPPORTED_HOST_PATH_TYPES.contains(&kind)
            {
                errors.push(FieldError::not_supported(
                    &source_path.child("type"),
                    kind,
                    SUPPORTED_HOST_PATH_TYPES,
                ));
            }
        }
    }
    if first(volume.git_repo.is_some(), "gitRepo", &mut errors)
        && let Some(git_repo) = volume.git_repo.as_ref()
    {
        let source_path = path.child("gitRepo");
        require(
            &git_repo.repository,
            &source_path,
            "repository",
            &mut errors,
        );
        errors.extend(validate_local_descending_path(
            git_repo.directory.as_deref().unwrap_or_default(),
            &source_path.child("directory"),
        ));
    }
    if first(
        volume.gce_persistent_disk.is_some(),
        "gcePersistentDisk",
        &mut errors,
    ) && let Some(disk) = volume.gce_persistent_disk.as_ref()
    {
        require(
            &disk.pd_name,
            &path.child("persistentDisk"),
            "pdName",
            &mut errors,
        );
    }
    if first(
        volume.aws_elastic_block_store.is_some(),
        "awsElasticBlockStore",
        &mut errors,
    ) && let Some(store) = volume.aws_elastic_block_store.as_ref()
    {
        require(
            &store.volume_id,
            &path.child("awsElasticBlockStore"),
            "volumeID",
            &mut errors,
        );
    }
    if first(volume.secret.is_some(), "secret", &mut errors)
        && let Some(secret) = volume.secret.as_ref()
    {
        let source_path = path.child("secret");
        require(
            secret.secret_name.as_deref().unwrap_or_default(),
            &source_path,
            "secretName",
            &mut errors,
        );
        errors.extend(validate_mode(
            secret.default_mode,
            &source_path.child("defaultMode"),
        ));
        for (index, item) in secret.items.iter().flatten().enumerate() {
            errors.extend(validate_key_to_path(
                item,
                &source_path.child("items").index(index),
            ));
        }
    }
    if first(volume.nfs.is_some(), "nfs", &mut errors)
        && let Some(nfs) = volume.nfs.as_ref()
    {
        let source_path = path.child("nfs");
        require(&nfs.server, &source_path, "server", &mut errors);
        require(&nfs.path, &source_path, "path", &mut errors);
        if !nfs.path.starts_with('/') {
            errors.push(FieldError::invalid(
                &source_path.child("path"),
                nfs.path.as_str(),
                "must be an absolute path",
            ));
        }
    }
    if first(volume.iscsi.is_some(), "iscsi", &mut errors)
        && let Some(iscsi) = volume.iscsi.as_ref()
    {
        let source_path = path.child("iscsi");
        require(
            &iscsi.target_portal,
            &source_path,
            "targetPortal",
            &mut errors,
        );
        require(&iscsi.iqn, &source_path, "iqn", &mut errors);
    }
    if first(volume.glusterfs.is_some(), "glusterfs", &mut errors)
        && let Some(glusterfs) = volume.glusterfs.as_ref()
    {
        let source_path = path.child("glusterfs");
        require(&glusterfs.endpoints, &source_path, "endpoints", &mut errors);
        require(&glusterfs.path, &source_path, "path", &mut errors);
    }
    if first(volume.flocker.is_some(), "flocker", &mut errors)
        && let Some(flocker) = volume.flocker.as_ref()
    {
        let source_path = path.child("flocker");
        let name = flocker.dataset_name.as_deref().unwrap_or_default();
        let uuid = flocker.dataset_uuid.as_deref().unwrap_or_default();
        if name.is_empty() && uuid.is_empty() {
            errors.push(FieldError::required(
                &source_path,
                "one of datasetName and datasetUUID is required",
            ));
        }
        if !name.is_empty() && !uuid.is_empty() {
            errors.push(FieldError::invalid(
                &source_path,
                "resource",
                "datasetName and datasetUUID can not be specified simultaneously",
            ));
        }
        if name.contains('/') {
            errors.push(FieldError::invalid(
                &source_path.child("datasetName"),
                name,
                "must not contain '/'",
            ));
        }
    }
    if first(
        volume.persistent_volume_claim.is_some(),
        "persistentVolumeClaim",
        &mut errors,
    ) && let Some(claim) = volume.persistent_volume_claim.as_ref()
    {
        require(
            &claim.claim_name,
            &path.child("persistentVolumeClaim"),
            "claimName",
            &mut errors,
        );
    }
    if first(volume.rbd.is_some(), "rbd", &mut errors)
        && let Some(rbd) = volume.rbd.as_ref()
    {
        let source_path = path.child("rbd");
        if rbd.monitors.is_empty() {
            errors.push(FieldError::required(&source_path.child("monitors"), ""));
        }
        require(&rbd.image, &source_path, "image", &mut errors);
    }
    if first(volume.cinder.is_some(), "cinder", &mut errors)
        && let Some(cinder) = volume.cinder.as_ref()
    {
        require(
            &cinder.volume_id,
            &path.child("cinder"),
            "volumeID",
            &mut errors,
        );
    }
    if first(volume.cephfs.is_some(), "cephFS", &mut errors)
        && let Some(cephfs) = volume.cephfs.as_ref()
        && cephfs.monitors.is_empty()
    {
        errors.push(FieldError::required(
            &path.child("cephfs").child("monitors"),
            "",
        ));
    }
    if first(volume.quobyte.is_some(), "quobyte", &mut errors)
        && let Some(quobyte) = volume.quobyte.as_ref()
    {
        let source_path = path.child("quobyte");
        if quobyte.registry.is_empty() {
            errors.push(FieldError::required(
                &source_path.child("registry"),
                "must be a host:port pair or multiple pairs separated by commas",
            ));
        }
        require(&quobyte.volume, &source_path, "volume", &mut errors);
    }
    if first(volume.downward_api.is_some(), "downwarAPI", &mut errors)
        && let Some(downward_api) = volume.downward_api.as_ref()
    {
        let source_path = path.child("downwardAPI");
        errors.extend(validate_mode(
            downward_api.default_mode,
            &source_path.child("defaultMode"),
        ));
        for item in downward_api.items.iter().flatten() {
            errors.extend(validate_downward_api_file(item, &source_path));
        }
    }
    if first(volume.fc.is_some(), "fc", &mut errors)
        && let Some(fc) = volume.fc.as_ref()
    {
        let source_path = path.child("fc");
        let wwns = fc.target_wwns.as_deref().unwrap_or_default();
        let wwids = fc.wwids.as_deref().unwrap_or_default();
        if wwns.is_empty() && wwids.is_empty() {
            errors.push(FieldError::required(
                &source_path.child("targetWWNs"),
                "must specify either targetWWNs or wwids, but not both",
            ));
        }
        if !wwns.is_empty() && fc.lun.is_none() {
            errors.push(FieldError::required(
                &source_path.child("lun"),
                "lun is required if targetWWNs is specified",
            ));
        }
    }
    if first(volume.flex_volume.is_some(), "flexVolume", &mut errors)
        && let Some(flex) = volume.flex_volume.as_ref()
    {
        require(
            &flex.driver,
            &path.child("flexVolume"),
            "driver",
            &mut errors,
        );
    }
    if first(volume.config_map.is_some(), "configMap", &mut errors)
        && let Some(config_map) = volume.config_map.as_ref()
    {
        let source_path = path.child("configMap");
        require(&config_map.name, &source_path, "name", &mut errors);
        errors.extend(validate_mode(
            config_map.default_mode,
            &source_path.child("defaultMode"),
        ));
        for (index, item) in config_map.items.iter().flatten().enumerate() {
            errors.extend(validate_key_to_path(
                item,
                &source_path.child("items").index(index),
            ));
        }
    }
    if first(volume.azure_file.is_some(), "azureFile", &mut errors)
        && let Some(azure_file) = volume.azure_file.as_ref()
    {
        let source_path = path.child("azureFile");
        require(
            &azure_file.secret_name,
            &source_path,
            "secretName",
            &mut errors,
        );
        require(
            &azure_file.share_name,
            &source_path,
            "shareName",
            &mut errors,
        );
    }
    if first(
        volume.vsphere_volume.is_some(),
        "vsphereVolume",
        &mut errors,
    ) && let Some(vsphere) = volume.vsphere_volume.as_ref()
    {
        require(
            &vsphere.volume_path,
            &path.child("vsphereVolume"),
            "volumePath",
            &mut errors,
        );
    }
    if first(
        volume.photon_persistent_disk.is_some(),
        "photonPersistentDisk",
        &mut errors,
    ) && let Some(photon) = volume.photon_persistent_disk.as_ref()
    {
        require(
            &photon.pd_id,
            &path.child("photonPersistentDisk"),
            "pdID",
            &mut errors,
        );
    }
    if first(
        volume.portworx_volume.is_some(),
        "portworxVolume",
        &mut errors,
    ) && let Some(portworx) = volume.portworx_volume.as_ref()
    {
        require(
            &portworx.volume_id,
            &path.child("portworxVolume"),
            "volumeID",
            &mut errors,
        );
    }
    if first(volume.azure_disk.is_some(), "azureDisk", &mut errors)
        && let Some(azure_disk) = volume.azure_disk.as_ref()
    {
        let source_path = path.child("azureDisk");
        require(&azure_disk.disk_name, &source_path, "diskName", &mut errors);
        require(&azure_disk.disk_uri, &source_path, "diskURI", &mut errors);
    }
    if first(volume.storageos.is_some(), "storageos", &mut errors)
        && let Some(storageos) = volume.storageos.as_ref()
    {
        let source_path = path.child("storageos");
        let name = storageos.volume_name.as_deref().unwrap_or_default();
        if name.is_empty() {
            errors.push(FieldError::required(&source_path.child("volumeName"), ""));
        } else {
            errors.extend(validate_dns1123_label(
                name,
                &source_path.child("volumeName"),
            ));
        }
    }
    if first(volume.projected.is_some(), "projected", &mut errors)
        && let Some(projected) = volume.projected.as_ref()
    {
        errors.extend(validate_projected(projected, &path.child("projected")));
    }
    if first(volume.scale_io.is_some(), "scaleIO", &mut errors)
        && let Some(scale_io) = volume.scale_io.as_ref()
    {
        let source_path = path.child("scaleIO");
        require(&scale_io.gateway, &source_path, "gateway", &mut errors);
        require(&scale_io.system, &source_path, "system", &mut errors);
        require(
            scale_io.volume_name.as_deref().unwrap_or_default(),
            &source_path,
            "volumeName",
            &mut errors,
        );
    }
    if first(volume.csi.is_some(), "csi", &mut errors)
        && let Some(csi) = volume.csi.as_ref()
    {
        let driver_path = path.child("csi").child("driver");
        if csi.driver.is_empty() {
            errors.push(FieldError::required(&driver_path, ""));
        }
        if csi.driver.len() > 63 {
            errors.push(FieldError::too_long(&driver_path, Some(63)));
        }
        errors.extend(invalid_each(
            &driver_path,
            &csi.driver,
            apimachinery::validation::is_dns1123_subdomain(&csi.driver.to_lowercase()),
        ));
    }
    if first(volume.ephemeral.is_some(), "ephemeral", &mut errors)
        && let Some(ephemeral) = volume.ephemeral.as_ref()
    {
        let source_path = path.child("ephemeral");
        match ephemeral.volume_claim_template.as_ref() {
            None => errors.push(FieldError::required(
                &source_path.child("volumeClaimTemplate"),
                "",
            )),
            Some(template) => {
                let template_path = source_path.child("volumeClaimTemplate");
                let metadata = template.metadata.as_ref();
                errors.extend(validate_labels(
                    metadata.and_then(|meta| meta.labels.as_ref()),
                    &template_path.child("metadata").child("labels"),
                ));
                errors.extend(validate_annotations(
                    metadata.and_then(|meta| meta.annotations.as_ref()),
                    &template_path.child("metadata").child("annotations"),
                ));
                errors.extend(validate_persistent_volume_claim_spec(
                    &template.spec,
                    &template_path.child("spec"),
                ));
            }
        }
        if let Some(pod_name) = pod_name.filter(|name| !name.is_empty())
            && !volume.name.is_empty()
        {
            let claim_name = format!("{pod_name}-{}", volume.name);
            for message in name_is_dns_subdomain(&claim_name, false) {
                errors.push(FieldError::invalid(
                    &path.child("name"),
                    volume.name.as_str(),
                    format!("PVC name {claim_name:?}: {message}"),
                ));
            }
        }
    }
    if first(volume.image.is_some(), "image", &mut errors)
        && let Some(image) = volume.image.as_ref()
    {
        let source_path = path.child("image");
        if image.reference.as_deref().is_none_or(str::is_empty) {
            errors.push(FieldError::required(&source_path.child("reference"), ""));
        }
        if let Some(policy) = image.pull_policy.as_deref()
            && !["Always", "IfNotPresent", "Never"].contains(&policy)
        {
            errors.push(FieldError::not_supported(
                &source_path.child("pullPolicy"),
                policy,
                &["Always", "IfNotPresent", "Never"],
            ));
        }
    }

    if count == 0 {
        errors.push(FieldError::required(path, "must specify a volume type"));
    }
    errors
}

fn validate_mode(mode: Option<i32>, path: &FieldPath) -> Vec<FieldError> {
    match mode {
        Some(mode) if !(0..=0o777).contains(&mode) => {
            vec![FieldError::invalid(path, mode, FILE_MODE_ERROR_MSG)]
        }
        _ => Vec::new(),
    }
}

fn validate_key_to_path(item: &KeyToPath, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if item.key.is_empty() {
        errors.push(FieldError::required(&path.child("key"), ""));
    }
    if item.path.is_empty() {
        errors.push(FieldError::required(&path.child("path"), ""));
    }
    errors.extend(validate_local_non_reserved_path(
        &item.path,
        &path.child("path"),
    ));
    errors.extend(validate_mode(item.mode, &path.child("mode")));
    errors
}

fn validate_downward_api_file(file: &DownwardAPIVolumeFile, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if file.path.is_empty() {
        errors.push(FieldError::required(&path.child("path"), ""));
    }
    errors.extend(validate_local_non_reserved_path(
        &file.path,
        &path.child("path"),
    ));
    if let Some(field_ref) = file.field_ref.as_ref() {
        errors.extend(validate_object_field_selector(
            field_ref.api_version.as_deref().unwrap_or_default(),
            &field_ref.field_path,
            VOLUME_FIELD_PATHS,
            &path.child("fieldRef"),
        ));
        if file.resource_field_ref.is_some() {
            errors.push(FieldError::invalid(
                path,
                "resource",
                "fieldRef and resourceFieldRef can not be specified simultaneously",
            ));
        }
    } else if let Some(resource_ref) = file.resource_field_ref.as_ref() {
        errors.extend(validate_resource_field_selector(
            resource_ref.container_name.as_deref().unwrap_or_default(),
            &resource_ref.resource,
            true,
            &path.child("resourceFieldRef"),
        ));
    } else {
        errors.push(FieldError::required(
            path,
            "one of fieldRef and resourceFieldRef is required",
        ));
    }
    errors.extend(validate_mode(file.mode, &path.child("mode")));
    errors
}

fn validate_projected(projected: &ProjectedVolumeSource, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_mode(projected.default_mode, &path.child("defaultMode"));
    let mut all_paths = BTreeSet::new();
    for (index, source) in projected.sources.iter().flatten().enumerate() {
        let source_path = path.child("sources").index(index);
        let mut count = 0;
        let mut note_path = |item_path: &str, owner: &str, errors: &mut Vec<FieldError>| {
            if !item_path.is_empty() && !all_paths.insert(item_path.to_string()) {
                errors.push(FieldError::invalid(
                    path,
                    owner,
                    "conflicting duplicate paths",
                ));
            }
        };
        if let Some(secret) = source.secret.as_ref() {
            count += 1;
            let projection_path = source_path.child("secret");
            require(&secret.name, &projection_path, "name", &mut errors);
            for (item_index, item) in secret.items.iter().flatten().enumerate() {
                errors.extend(validate_key_to_path(
                    item,
                    &projection_path.child("items").index(item_index),
                ));
                note_path(&item.path, &secret.name, &mut errors);
            }
        }
        if let Some(config_map) = source.config_map.as_ref() {
            count += 1;
            let projection_path = source_path.child("configMap");
            require(&config_map.name, &projection_path, "name", &mut errors);
            for (item_index, item) in config_map.items.iter().flatten().enumerate() {
                errors.extend(validate_key_to_path(
                    item,
                    &projection_path.child("items").index(item_index),
                ));
                note_path(&item.path, &config_map.name, &mut errors);
            }
        }
        if let Some(downward_api) = source.downward_api.as_ref() {
            count += 1;
            let projection_path = source_path.child("downwardAPI");
            for item in downward_api.items.iter().flatten() {
                errors.extend(validate_downward_api_file(item, &projection_path));
                note_path(&item.path, &item.path, &mut errors);
            }
        }
        if let Some(token) = source.service_account_token.as_ref() {
            count += 1;
            let projection_path = source_path.child("serviceAccountToken");
            let expiration = token.expiration_seconds.unwrap_or(0);
            if expiration < 10 * 60 {
                errors.push(FieldError::invalid(
                    &projection_path.child("expirationSeconds"),
                    expiration,
                    "may not specify a duration less than 10 minutes",
                ));
            }
            if expiration > 1 << 32 {
                errors.push(FieldError::invalid(
                    &projection_path.child("expirationSeconds"),
                    expiration,
                    "may not specify a duration larger than 2^32 seconds",
                ));
            }
            if token.path.is_empty() {
                errors.push(FieldError::required(&path.child("path"), ""));
            } else {
                errors.extend(validate_local_non_reserved_path(
                    &token.path,
                    &path.child("path"),
                ));
            }
        }
        if let Some(bundle) = source.cluster_trust_bundle.as_ref() {
            count += 1;
            let projection_path = source_path.child("clusterTrustBundle");
            match (bundle.name.as_ref(), bundle.signer_name.as_ref()) {
                (Some(_), Some(_)) => errors.push(FieldError::invalid(
                    &projection_path,
                    super::common::json_value(bundle),
                    "only one of name and signerName may be used",
                )),
                (None, None) => errors.push(FieldError::required(
                    &projection_path,
                    "either name or signerName must be specified",
                )),
                _ => {}
            }
            if bundle.path.is_empty() {
                errors.push(FieldError::required(&projection_path.child("path"), ""));
            }
            errors.extend(validate_local_non_reserved_path(
                &bundle.path,
                &projection_path.child("path"),
            ));
            note_path(&bundle.path, &bundle.path, &mut errors);
        }
        if count > 1 {
            errors.push(FieldError::forbidden(
                &source_path,
                "may not specify more than 1 volume type per source",
            ));
        }
    }
    errors
}

/// Rejects a path with a `..` element.
pub fn validate_path_no_backsteps(target: &str, path: &FieldPath) -> Vec<FieldError> {
    if target.split('/').any(|part| part == "..") {
        return vec![FieldError::invalid(path, target, "must not contain '..'")];
    }
    Vec::new()
}

/// Requires a relative path without `..` elements.
pub fn validate_local_descending_path(target: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if target.starts_with('/') {
        errors.push(FieldError::invalid(path, target, "must be a relative path"));
    }
    errors.extend(validate_path_no_backsteps(target, path));
    errors
}

/// Requires a relative path without `..` elements that does not start with `..`.
pub fn validate_local_non_reserved_path(target: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_local_descending_path(target, path);
    if target.starts_with("..") && !target.starts_with("../") {
        errors.push(FieldError::invalid(
            path,
            target,
            "must not start with '..'",
        ));
    }
    errors
}

/// Validates a claim spec, as upstream's `ValidatePersistentVolumeClaimSpec`: access
/// modes, selector, a positive storage request, class name and volume mode.
pub fn validate_persistent_volume_claim_spec(
    spec: &PersistentVolumeClaimSpec,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let modes = spec.access_modes.as_deref().unwrap_or_default();
    if modes.is_empty() {
        errors.push(FieldError::required(
            &path.child("accessModes"),
            "at least 1 access mode is required",
        ));
    }
    errors.extend(validate_label_selector(
        spec.selector.as_ref(),
        &path.child("selector"),
    ));
    let mut read_write_once_pod = false;
    let mut other_mode = false;
    for mode in modes {
        if !SUPPORTED_ACCESS_MODES.contains(&mode.as_str()) {
            errors.push(FieldError::not_supported(
                &path.child("accessModes"),
                mode.as_str(),
                SUPPORTED_ACCESS_MODES,
            ));
        } else if mode == "ReadWriteOncePod" {
            read_write_once_pod = true;
        } else {
            other_mode = true;
        }
    }
    if read_write_once_pod && other_mode {
        errors.push(FieldError::forbidden(
            &path.child("accessModes"),
            "may not use ReadWriteOncePod with other access modes",
        ));
    }

    let storage_path = path.child("resources").key("storage");
    match spec
        .resources
        .as_ref()
        .and_then(|resources| resources.requests.as_ref())
        .and_then(|requests| requests.get("storage"))
    {
        None => errors.push(FieldError::required(&storage_path, "")),
        Some(storage) => errors.extend(validate_positive_quantity(storage, &storage_path)),
    }

    if let Some(class) = spec
        .storage_class_name
        .as_deref()
        .filter(|class| !class.is_empty())
    {
        errors.extend(invalid_each(
            &path.child("storageClassName"),
            class,
            name_is_dns_subdomain(class, false),
        ));
    }
    if let Some(mode) = spec.volume_mode.as_deref()
        && mode != "Block"
        && mode != "Filesystem"
    {
        errors.push(FieldError::not_supported(
            &path.child("volumeMode"),
            mode,
            &["Block", "Filesystem"],
        ));
    }
    errors
}
