//! The volume manager: prepares each pod volume under
//! `<root-dir>/pods/<uid>/volumes/<plugin>/<name>` before containers start, maps
//! volumeMounts onto them, and tears them down after the pod.
//!
//! Supported: emptyDir (disk, and `medium: Memory` as tmpfs), hostPath with its
//! type checks, configMap, secret (tmpfs), downwardAPI and projected (configMap,
//! secret, downwardAPI, serviceAccountToken through TokenRequest).
//! NOTE: files are written once at setup; later ConfigMap/Secret changes are not
//! propagated, and `items[].mode`/`defaultMode` are not applied. Other volume
//! types (persistentVolumeClaim, CSI, ...) fail the pod's setup.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::path::{Path, PathBuf};

use client::rest::RestClient;
use cri::v1 as pb;
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, DownwardAPIVolumeFile, KeyToPath, Pod, Secret, Volume,
};
use serde_json::json;

use crate::api;

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
}

/// Prepares every volume of `pod`. Calling it again for a set-up pod does nothing
/// for volumes already present.
///
/// # Errors
///
/// A message naming the volume that failed.
pub async fn setup(ctx: &VolumeContext<'_>, pod: &Pod) -> Result<(), String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    for volume in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
        let path = volume_path(ctx.root, pod, volume);
        let fail =
            |e: String| format!("MountVolume.SetUp failed for volume {:?}: {e}", volume.name);
        if let Some(host) = &volume.host_path {
            check_host_path(&path, host.type_.as_deref().unwrap_or("")).map_err(fail)?;
            continue;
        }
        if path.exists() {
            continue;
        }
        let io = |e: std::io::Error| fail(format!("{}: {e}", path.display()));
        if let Some(empty) = &volume.empty_dir {
            std::fs::create_dir_all(&path).map_err(io)?;
            if empty.medium.as_deref() == Some("Memory") {
                mount_tmpfs(&path).map_err(fail)?;
            }
            continue;
        }
        let files = if let Some(cm) = &volume.config_map {
            let data = config_map(ctx, namespace, &cm.name).await.map_err(fail)?;
            match data {
                Some(data) => project(&data, cm.items.as_deref()).map_err(fail)?,
                None if cm.optional.unwrap_or(false) => BTreeMap::new(),
                None => return Err(fail(format!("configmap {:?} not found", cm.name))),
            }
        } else if let Some(secret) = &volume.secret {
            let name = secret.secret_name.clone().unwrap_or_default();
            match secret_data(ctx, namespace, &name).await.map_err(fail)? {
                Some(data) => project(&data, secret.items.as_deref()).map_err(fail)?,
                None if secret.optional.unwrap_or(false) => BTreeMap::new(),
                None => return Err(fail(format!("secret {name:?} not found"))),
            }
        } else if let Some(downward) = &volume.downward_api {
            downward_files(ctx, pod, downward.items.as_deref().unwrap_or(&[])).map_err(fail)?
        } else if let Some(projected) = &volume.projected {
            projected_files(ctx, pod, projected).await.map_err(fail)?
        } else {
            return Err(fail("volume type is not supported".to_string()));
        };
        std::fs::create_dir_all(&path).map_err(io)?;
        if volume.secret.is_some() || volume.projected.is_some() {
            mount_tmpfs(&path).map_err(fail)?;
        }
        write_files(&path, &files).map_err(fail)?;
    }
    Ok(())
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

fn project(
    data: &BTreeMap<String, Vec<u8>>,
    items: Option<&[KeyToPath]>,
) -> Result<BTreeMap<String, Vec<u8>>, String> {
    match items {
        None => Ok(data.clone()),
        Some(items) => items
            .iter()
            .filter_map(|item| match data.get(&item.key) {
                Some(v) => Some(Ok((item.path.clone(), v.clone()))),
                None if item.key.is_empty() => None,
                None => Some(Err(format!("key {:?} not found", item.key))),
            })
            .collect(),
    }
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
) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut files = BTreeMap::new();
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
        files.insert(item.path.clone(), value.into_bytes());
    }
    Ok(files)
}

async fn projected_files(
    ctx: &VolumeContext<'_>,
    pod: &Pod,
    projected: &k8s_openapi::api::core::v1::ProjectedVolumeSource,
) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let mut files = BTreeMap::new();
    for source in projected.sources.iter().flatten() {
        if let Some(cm) = &source.config_map {
            match config_map(ctx, namespace, &cm.name).await? {
                Some(data) => files.extend(project(&data, cm.items.as_deref())?),
                None if cm.optional.unwrap_or(false) => {}
                None => return Err(format!("configmap {:?} not found", cm.name)),
            }
        }
        if let Some(secret) = &source.secret {
            match secret_data(ctx, namespace, &secret.name).await? {
                Some(data) => files.extend(project(&data, secret.items.as_deref())?),
                None if secret.optional.unwrap_or(false) => {}
                None => return Err(format!("secret {:?} not found", secret.name)),
            }
        }
        if let Some(downward) = &source.downward_api {
            files.extend(downward_files(
                ctx,
                pod,
                downward.items.as_deref().unwrap_or(&[]),
            )?);
        }
        if let Some(token) = &source.service_account_token {
            let account = pod
                .spec
                .as_ref()
                .and_then(|s| s.service_account_name.clone())
                .unwrap_or_else(|| "default".to_string());
            match request_token(ctx, pod, &account, token).await {
                Ok(value) => {
                    files.insert(token.path.clone(), value.into_bytes());
                }
                // NOTE: without TokenRequest support on the server the token file is
                // left out rather than blocking the pod.
                Err(error) => {
                    tracing::warn!(pod = %crate::kuberuntime::pod_full_name(pod), %error, "service account token not projected")
                }
            }
        }
    }
    Ok(files)
}

async fn request_token(
    ctx: &VolumeContext<'_>,
    pod: &Pod,
    account: &str,
    source: &k8s_openapi::api::core::v1::ServiceAccountTokenProjection,
) -> Result<String, String> {
    let client = ctx.client.ok_or("no API server connection")?;
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let body = json!({
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {
            "audiences": source.audience.iter().collect::<Vec<_>>(),
            "expirationSeconds": source.expiration_seconds.unwrap_or(3600),
            "boundObjectRef": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": pod.metadata.name,
                "uid": pod.metadata.uid,
            }
        }
    });
    let response: serde_json::Value = api::create(
        client,
        &format!("/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token"),
        &body,
    )
    .await
    .map_err(|e| e.to_string())?;
    response["status"]["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "TokenRequest response has no status.token".to_string())
}

fn write_files(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<(), String> {
    for (relative, content) in files {
        if relative
            .split('/')
            .any(|part| part == ".." || part.is_empty())
        {
            return Err(format!("invalid file path {relative:?}"));
        }
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, content).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
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
        let ctx = VolumeContext {
            root: root.path(),
            client: None,
            node_name: "n",
            host_ip: "",
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
