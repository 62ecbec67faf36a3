//! The volume manager: prepares each pod volume under
//! `<root-dir>/pods/<uid>/volumes/<plugin>/<name>` before containers start, maps
//! volumeMounts onto them, and tears them down after the pod.
//!
//! Supported: emptyDir (disk, and `medium: Memory` as tmpfs), hostPath with its
//! type checks, configMap, secret (tmpfs), downwardAPI and projected (configMap,
//! secret, downwardAPI, serviceAccountToken through TokenRequest). Other volume
//! types (persistentVolumeClaim, CSI, ...) fail the pod's setup.
//!
//! With a pod `fsGroup`, volumes other than hostPath belong to that group
//! ([`ownership`]). [`setup`] runs on every pod sync. For configMap, secret, downwardAPI and
//! projected volumes it computes the files again and publishes them with the
//! [`atomic_writer`] when they changed, so running containers see updated objects,
//! labels, annotations and refreshed tokens. A subPath mount binds the file that was
//! current when the container started and is not updated, as upstream.

pub mod atomic_writer;
pub mod ownership;

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use client::rest::RestClient;
use cri::v1 as pb;
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, DownwardAPIVolumeFile, KeyToPath, Pod, Secret, Volume,
};

use crate::api;
use crate::token::{TokenKey, TokenManager};
use atomic_writer::FileProjection;

/// The mode of projected files when the volume sets no `defaultMode`.
const DEFAULT_MODE: i32 = 0o644;

/// Relative path to file, as the atomic writer publishes it.
type Payload = BTreeMap<String, FileProjection>;

/// `<root>/pods/<uid>`.
pub fn pod_dir(root: &Path, uid: &str) -> PathBuf {
    root.join("pods").join(uid)
}

fn plugin_name(volume: &Volume) -> &'static str {
    if volume.empty_dir.is_some() {
        "kubernetes.io~empty-dir"
    } else if volume.host_path.is_some() {
        "kubernetes.io~host-path"
    } else if volume.config_map.is_some() {
        "kubernetes.io~configmap"
    } else if volume.secret.is_some() {
        "kubernetes.io~secret"
    } else if volume.downward_api.is_some() {
        "kubernetes.io~downward-api"
    } else if volume.projected.is_some() {
        "kubernetes.io~projected"
    } else {
        "unsupported"
    }
}

/// Returns the host directory of a volume (for hostPath, the host path itself).
pub fn volume_path(root: &Path, pod: &Pod, volume: &Volume) -> PathBuf {
    if let Some(host) = &volume.host_path {
        return PathBuf::from(&host.path);
    }
    pod_dir(root, crate::kuberuntime::pod_uid(pod))
        .join("volumes")
        .join(plugin_name(volume))
        .join(&volume.name)
}

/// Cluster access and node facts for [`setup`].
pub struct VolumeContext<'a> {
    pub root: &'a Path,
    pub client: Option<&'a RestClient>,
    pub node_name: &'a str,
    pub host_ip: &'a str,
    pub tokens: &'a TokenManager,
}

/// Prepares every volume of `pod`, and refreshes the files of configMap, secret,
/// downwardAPI and projected volumes that are already set up.
///
/// # Errors
///
/// A message naming the volume whose first setup failed. A failed refresh of a
/// set-up volume is logged and leaves its current files in place, so a running pod
/// keeps running.
pub async fn setup(ctx: &VolumeContext<'_>, pod: &Pod) -> Result<(), String> {
    let pod_security = pod
        .spec
        .as_ref()
        .and_then(|spec| spec.security_context.as_ref());
    let fs_group = pod_security.and_then(|context| context.fs_group);
    let change_policy = pod_security.and_then(|context| context.fs_group_change_policy.as_deref());
    for volume in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
        let path = volume_path(ctx.root, pod, volume);
        let fail =
            |e: String| format!("MountVolume.SetUp failed for volume {:?}: {e}", volume.name);
        if let Some(host) = &volume.host_path {
            check_host_path(&path, host.type_.as_deref().unwrap_or("")).map_err(fail)?;
            continue;
        }
        let io = |e: std::io::Error| fail(format!("{}: {e}", path.display()));
        if let Some(empty) = &volume.empty_dir {
            if path.exists() {
                continue;
            }
            std::fs::create_dir_all(&path).map_err(io)?;
            if empty.medium.as_deref() == Some("Memory") {
                mount_tmpfs(&path).map_err(fail)?;
            } else {
                // Any user of the pod may write to an emptyDir: mode 0777 as upstream,
                // which the process umask would otherwise narrow.
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777))
                    .map_err(io)?;
            }
            if let Some(group) = fs_group {
                ownership::set_volume_ownership(&path, group, change_policy, false)
                    .map_err(fail)?;
            }
            continue;
        }

        // Set up means published once: a directory left by a failed first
        // attempt still fails the pod until its files are in place.
        let set_up = path
            .join(atomic_writer::DATA_DIR_NAME)
            .symlink_metadata()
            .is_ok();
        let payload = match volume_payload(ctx, pod, volume).await {
            // The group bits that ownership adds are part of the payload, so a
            // refresh does not see a mode change and rewrite the files each sync.
            Ok(mut payload) if fs_group.is_some() => {
                for file in payload.values_mut() {
                    file.mode |= 0o440;
                }
                payload
            }
            Ok(payload) => payload,
            Err(error) if set_up => {
                tracing::warn!(pod = %crate::kuberuntime::pod_full_name(pod), volume = %volume.name, %error, "failed to refresh volume contents");
                continue;
            }
            Err(error) => return Err(fail(error)),
        };
        if !path.exists() {
            std::fs::create_dir_all(&path).map_err(io)?;
            if volume.secret.is_some() || volume.projected.is_some() {
                mount_tmpfs(&path).map_err(fail)?;
            }
        }
        let written = atomic_writer::write(&path, &payload);
        if let (Ok(true), Some(group)) = (&written, fs_group) {
            let owned = ownership::set_volume_ownership(&path, group, None, true);
            if let Err(error) = owned {
                if !set_up {
                    return Err(fail(error));
                }
                tracing::warn!(pod = %crate::kuberuntime::pod_full_name(pod), volume = %volume.name, %error, "failed to set volume ownership");
            }
        }
        match written {
            Ok(true) if set_up => {
                tracing::info!(pod = %crate::kuberuntime::pod_full_name(pod), volume = %volume.name, "updated volume contents");
            }
            Ok(_) => {}
            Err(error) if set_up => {
                tracing::warn!(pod = %crate::kuberuntime::pod_full_name(pod), volume = %volume.name, %error, "failed to refresh volume contents");
            }
            Err(error) => return Err(fail(error.to_string())),
        }
    }
    Ok(())
}

/// Computes the files of a configMap, secret, downwardAPI or projected volume.
async fn volume_payload(
    ctx: &VolumeContext<'_>,
    pod: &Pod,
    volume: &Volume,
) -> Result<Payload, String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    if let Some(cm) = &volume.config_map {
        let mode = cm.default_mode.unwrap_or(DEFAULT_MODE);
        match config_map(ctx, namespace, &cm.name).await? {
            Some(data) => project(&data, cm.items.as_deref(), mode),
            None if cm.optional.unwrap_or(false) => Ok(Payload::new()),
            None => Err(format!("configmap {:?} not found", cm.name)),
        }
    } else if let Some(secret) = &volume.secret {
        let name = secret.secret_name.clone().unwrap_or_default();
        let mode = secret.default_mode.unwrap_or(DEFAULT_MODE);
        match secret_data(ctx, namespace, &name).await? {
            Some(data) => project(&data, secret.items.as_deref(), mode),
            None if secret.optional.unwrap_or(false) => Ok(Payload::new()),
            None => Err(format!("secret {name:?} not found")),
        }
    } else if let Some(downward) = &volume.downward_api {
        let mode = downward.default_mode.unwrap_or(DEFAULT_MODE);
        downward_files(ctx, pod, downward.items.as_deref().unwrap_or(&[]), mode)
    } else if let Some(projected) = &volume.projected {
        projected_files(ctx, pod, projected).await
    } else {
        Err("volume type is not supported".to_string())
    }
}

/// Converts an API file mode (decimal in JSON, bits 0o777 valid) to permission bits.
fn file_mode(mode: i32) -> Result<u32, String> {
    u32::try_from(mode)
        .ok()
        .filter(|m| m & !0o777 == 0)
        .ok_or_else(|| format!("invalid file mode {mode:#o}: must be within 0 and 0777"))
}

fn check_host_path(path: &Path, type_: &str) -> Result<(), String> {
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::metadata(path);
    let wrong = |what: &str| {
        Err(format!(
            "hostPath type check failed: {} is not {what}",
            path.display()
        ))
    };
    match type_ {
        "" => Ok(()),
        "DirectoryOrCreate" => {
            if meta.is_err() {
                std::fs::create_dir_all(path).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            Ok(())
        }
        "FileOrCreate" => {
            if meta.is_err() {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("{}: {e}", parent.display()))?;
                }
                std::fs::write(path, b"").map_err(|e| format!("{}: {e}", path.display()))?;
            }
            Ok(())
        }
        "Directory" => match meta {
            Ok(m) if m.is_dir() => Ok(()),
            _ => wrong("a directory"),
        },
        "File" => match meta {
            Ok(m) if m.is_file() => Ok(()),
            _ => wrong("a file"),
        },
        "Socket" => match meta {
            Ok(m) if m.file_type().is_socket() => Ok(()),
            _ => wrong("a socket"),
        },
        "CharDevice" => match meta {
            Ok(m) if m.file_type().is_char_device() => Ok(()),
            _ => wrong("a character device"),
        },
        "BlockDevice" => match meta {
            Ok(m) if m.file_type().is_block_device() => Ok(()),
            _ => wrong("a block device"),
        },
        other => Err(format!("unknown hostPath type {other:?}")),
    }
}

/// Selects the files of a configMap or secret: every key, or only `items`.
fn project(
    data: &BTreeMap<String, Vec<u8>>,
    items: Option<&[KeyToPath]>,
    default_mode: i32,
) -> Result<Payload, String> {
    let default_mode = file_mode(default_mode)?;
    let Some(items) = items else {
        return Ok(data
            .iter()
            .map(|(key, value)| {
                let file = FileProjection {
                    data: value.clone(),
                    mode: default_mode,
                };
                (key.clone(), file)
            })
            .collect());
    };
    let mut payload = Payload::new();
    for item in items {
        let Some(value) = data.get(&item.key) else {
            if item.key.is_empty() {
                continue;
            }
            return Err(format!("key {:?} not found", item.key));
        };
        let mode = match item.mode {
            Some(mode) => file_mode(mode)?,
            None => default_mode,
        };
        let file = FileProjection {
            data: value.clone(),
            mode,
        };
        payload.insert(item.path.clone(), file);
    }
    Ok(payload)
}

async fn config_map(
    ctx: &VolumeContext<'_>,
    namespace: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, String> {
    let client = ctx
        .client
        .ok_or("configmap volumes need an API server connection")?;
    let cm: Option<ConfigMap> = api::get(
        client,
        &format!("/api/v1/namespaces/{namespace}/configmaps/{name}"),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(cm.map(|cm| {
        let mut files: BTreeMap<String, Vec<u8>> = cm
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.into_bytes()))
            .collect();
        files.extend(
            cm.binary_data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0)),
        );
        files
    }))
}

async fn secret_data(
    ctx: &VolumeContext<'_>,
    namespace: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, String> {
    let client = ctx
        .client
        .ok_or("secret volumes need an API server connection")?;
    let secret: Option<Secret> = api::get(
        client,
        &format!("/api/v1/namespaces/{namespace}/secrets/{name}"),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(secret.map(|s| {
        let mut files: BTreeMap<String, Vec<u8>> = s
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
        files.extend(
            s.string_data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes())),
        );
        files
    }))
}

fn downward_files(
    ctx: &VolumeContext<'_>,
    pod: &Pod,
    items: &[DownwardAPIVolumeFile],
    default_mode: i32,
) -> Result<Payload, String> {
    let default_mode = file_mode(default_mode)?;
    let mut files = Payload::new();
    for item in items {
        let value = if let Some(field) = &item.field_ref {
            let meta = &pod.metadata;
            match field.field_path.as_str() {
                "metadata.labels" => crate::kuberuntime::env::format_map(meta.labels.as_ref()),
                "metadata.annotations" => {
                    crate::kuberuntime::env::format_map(meta.annotations.as_ref())
                }
                "metadata.name" => meta.name.clone().unwrap_or_default(),
                "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
                "metadata.uid" => meta.uid.clone().unwrap_or_default(),
                "spec.nodeName" => ctx.node_name.to_string(),
                "status.hostIP" => ctx.host_ip.to_string(),
                other => {
                    if let Some(key) = other
                        .strip_prefix("metadata.labels['")
                        .and_then(|k| k.strip_suffix("']"))
                    {
                        meta.labels
                            .as_ref()
                            .and_then(|l| l.get(key))
                            .cloned()
                            .unwrap_or_default()
                    } else if let Some(key) = other
                        .strip_prefix("metadata.annotations['")
                        .and_then(|k| k.strip_suffix("']"))
                    {
                        meta.annotations
                            .as_ref()
                            .and_then(|l| l.get(key))
                            .cloned()
                            .unwrap_or_default()
                    } else {
                        return Err(format!("unsupported fieldPath {other:?}"));
                    }
                }
            }
        } else if let Some(resource) = &item.resource_field_ref {
            let container_name = resource.container_name.clone().unwrap_or_default();
            let container = pod
                .spec
                .as_ref()
                .and_then(|s| s.containers.iter().find(|c| c.name == container_name))
                .ok_or_else(|| format!("container {container_name:?} not found"))?;
            crate::kuberuntime::env::resource_value(pod, container, resource)?
        } else {
            continue;
        };
        let mode = match item.mode {
            Some(mode) => file_mode(mode)?,
            None => default_mode,
        };
        let file = FileProjection {
            data: value.into_bytes(),
            mode,
        };
        files.insert(item.path.clone(), file);
    }
    Ok(files)
}

async fn projected_files(
    ctx: &VolumeContext<'_>,
    pod: &Pod,
    projected: &k8s_openapi::api::core::v1::ProjectedVolumeSource,
) -> Result<Payload, String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let default_mode = projected.default_mode.unwrap_or(DEFAULT_MODE);
    let mut files = Payload::new();
    for source in projected.sources.iter().flatten() {
        if let Some(cm) = &source.config_map {
            match config_map(ctx, namespace, &cm.name).await? {
                Some(data) => files.extend(project(&data, cm.items.as_deref(), default_mode)?),
                None if cm.optional.unwrap_or(false) => {}
                None => return Err(format!("configmap {:?} not found", cm.name)),
            }
        }
        if let Some(secret) = &source.secret {
            match secret_data(ctx, namespace, &secret.name).await? {
                Some(data) => files.extend(project(&data, secret.items.as_deref(), default_mode)?),
                None if secret.optional.unwrap_or(false) => {}
                None => return Err(format!("secret {:?} not found", secret.name)),
            }
        }
        if let Some(downward) = &source.downward_api {
            files.extend(downward_files(
                ctx,
                pod,
                downward.items.as_deref().unwrap_or(&[]),
                default_mode,
            )?);
        }
        if let Some(token) = &source.service_account_token {
            let value = service_account_token(ctx, pod, token).await?;
            let file = FileProjection {
                data: value.into_bytes(),
                mode: file_mode(default_mode)?,
            };
            files.insert(token.path.clone(), file);
        }
    }
    Ok(files)
}

/// Returns a token of the pod's service account bound to the pod, from the token
/// manager's cache or a new TokenRequest.
async fn service_account_token(
    ctx: &VolumeContext<'_>,
    pod: &Pod,
    source: &k8s_openapi::api::core::v1::ServiceAccountTokenProjection,
) -> Result<String, String> {
    let client = ctx
        .client
        .ok_or("serviceAccountToken projections need an API server connection")?;
    let service_account = pod
        .spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "default".to_string());
    // The API server's default when the source sets no expirationSeconds.
    let expiration_seconds = source.expiration_seconds.unwrap_or(3600);
    let key = TokenKey {
        namespace: pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string()),
        service_account,
        pod_name: pod.metadata.name.clone().unwrap_or_default(),
        pod_uid: crate::kuberuntime::pod_uid(pod).to_string(),
        audiences: source
            .audience
            .iter()
            .filter(|a| !a.is_empty())
            .cloned()
            .collect(),
        expiration_seconds,
    };
    ctx.tokens
        .get_service_account_token(client, &key)
        .await
        .map_err(|e| format!("failed to fetch token: {e}"))
}

fn mount_tmpfs(path: &Path) -> Result<(), String> {
    let target = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    let fstype = CString::new("tmpfs").unwrap_or_default();
    // SAFETY: all pointers are NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::mount(
            fstype.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(format!(
            "mount tmpfs on {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Unmounts anything mounted below the pod directory and removes it.
///
/// # Errors
///
/// A message naming the path that could not be unmounted or removed.
pub fn teardown(root: &Path, uid: &str) -> Result<(), String> {
    let dir = pod_dir(root, uid);
    if !dir.exists() {
        return Ok(());
    }
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let prefix = format!("{}/", dir.display());
    let mut targets: Vec<&str> = mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|t| t.starts_with(&prefix))
        .collect();
    targets.sort_by_key(|t| std::cmp::Reverse(t.len()));
    for target in targets {
        let c = CString::new(target).map_err(|e| e.to_string())?;
        // SAFETY: c is a NUL-terminated path.
        if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } != 0 {
            return Err(format!(
                "unmount {target}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    std::fs::remove_dir_all(&dir).map_err(|e| format!("remove {}: {e}", dir.display()))
}

/// Builds the CRI mounts of `container`'s volumeMounts.
///
/// # Errors
///
/// A message for a mount of an undeclared volume.
pub fn container_mounts(
    root: &Path,
    pod: &Pod,
    container: &Container,
) -> Result<Vec<pb::Mount>, String> {
    let volumes = pod.spec.iter().flat_map(|s| s.volumes.iter().flatten());
    let volumes: Vec<&Volume> = volumes.collect();
    let mut mounts = Vec::new();
    for mount in container.volume_mounts.iter().flatten() {
        let volume = volumes
            .iter()
            .find(|v| v.name == mount.name)
            .ok_or_else(|| {
                format!(
                    "volumeMount {:?} refers to an undeclared volume",
                    mount.name
                )
            })?;
        let mut host = volume_path(root, pod, volume);
        if let Some(sub) = mount.sub_path.as_ref().filter(|s| !s.is_empty()) {
            if sub.split('/').any(|p| p == "..") || sub.starts_with('/') {
                return Err(format!(
                    "subPath {sub:?} must be a relative path without '..'"
                ));
            }
            host = host.join(sub);
            if !host.exists() {
                std::fs::create_dir_all(&host).map_err(|e| format!("{}: {e}", host.display()))?;
            }
        }
        let propagation = match mount.mount_propagation.as_deref() {
            Some("HostToContainer") => pb::MountPropagation::PropagationHostToContainer,
            Some("Bidirectional") => pb::MountPropagation::PropagationBidirectional,
            _ => pb::MountPropagation::PropagationPrivate,
        };
        let read_only_volume = volume.config_map.is_some()
            || volume.secret.is_some()
            || volume.downward_api.is_some()
            || volume.projected.is_some();
        mounts.push(pb::Mount {
            container_path: mount.mount_path.clone(),
            host_path: host.to_string_lossy().into_owned(),
            readonly: mount.read_only.unwrap_or(false) || read_only_volume,
            propagation: propagation as i32,
            ..Default::default()
        });
    }
    Ok(mounts)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{
        EmptyDirVolumeSource, HostPathVolumeSource, PodSpec, VolumeMount,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    #[tokio::test]
    async fn empty_dir_and_host_path_setup_and_mounts() {
        let root = tempfile::tempdir().unwrap();
        let host = root.path().join("host/dir");
        let pod = Pod {
            metadata: ObjectMeta {
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                volumes: Some(vec![
                    Volume {
                        name: "scratch".into(),
                        empty_dir: Some(EmptyDirVolumeSource::default()),
                        ..Default::default()
                    },
                    Volume {
                        name: "host".into(),
                        host_path: Some(HostPathVolumeSource {
                            path: host.to_string_lossy().into(),
                            type_: Some("DirectoryOrCreate".into()),
                        }),
                        ..Default::default()
                    },
                ]),
                containers: vec![Container {
                    name: "c".into(),
                    volume_mounts: Some(vec![
                        VolumeMount {
                            name: "scratch".into(),
                            mount_path: "/scratch".into(),
                            ..Default::default()
                        },
                        VolumeMount {
                            name: "host".into(),
                            mount_path: "/host".into(),
                            read_only: Some(true),
                            ..Default::default()
                        },
                    ]),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let tokens = TokenManager::default();
        let ctx = VolumeContext {
            root: root.path(),
            client: None,
            node_name: "n",
            host_ip: "",
            tokens: &tokens,
        };
        setup(&ctx, &pod).await.unwrap();
        assert!(host.is_dir());
        let mounts =
            container_mounts(root.path(), &pod, &pod.spec.as_ref().unwrap().containers[0]).unwrap();
        assert_eq!(mounts.len(), 2);
        assert!(Path::new(&mounts[0].host_path).is_dir());
        assert!(mounts[1].readonly);
        teardown(root.path(), "u1").unwrap();
        assert!(!pod_dir(root.path(), "u1").exists());
        assert!(check_host_path(&root.path().join("missing"), "File").is_err());
    }
}
