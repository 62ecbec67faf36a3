//! Container root filesystems: an overlayfs mount whose lower directories are the image's
//! unpacked layers (top layer first) and whose upper and work directories live under
//! `containers/<container id>/`. A `mount.json` there records the mount point and the
//! layers in use, so release and garbage collection work after a restart.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::error::{ImageError, Result};
use super::{ImageRecord, ImageStore, list_dir, write_atomic};

const MOUNT_RECORD: &str = "mount.json";

/// A mounted container root filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounted {
    /// Mount point, the container's root filesystem.
    pub target: PathBuf,
    /// Directory that receives the container's writes.
    pub upperdir: PathBuf,
    pub workdir: PathBuf,
    /// Unpacked layers, top layer first, as passed to overlayfs.
    pub lowerdirs: Vec<PathBuf>,
}

#[derive(Serialize, Deserialize)]
struct MountRecord {
    image: Digest,
    target: PathBuf,
    layers: Vec<Digest>,
}

pub(super) fn prepare(
    store: &ImageStore,
    record: &ImageRecord,
    container_id: &str,
    target: &Path,
) -> Result<Mounted> {
    validate_container_id(container_id)?;
    let dir = store.containers_dir().join(container_id);
    if dir.exists() {
        return Err(ImageError::Rootfs {
            container: container_id.to_string(),
            message: format!("already prepared in {}; release it first", dir.display()),
        });
    }
    let upperdir = dir.join("upper");
    let workdir = dir.join("work");
    let mut lowerdirs: Vec<PathBuf> = record
        .layers
        .iter()
        .rev()
        .map(|layer| store.layer_path(&layer.diff_id))
        .collect();
    if lowerdirs.is_empty() {
        lowerdirs.push(dir.join("empty"));
    }
    for path in [&upperdir, &workdir]
        .into_iter()
        .chain(lowerdirs.iter().filter(|path| path.starts_with(&dir)))
    {
        std::fs::create_dir_all(path).map_err(|e| ImageError::io("creating directory", path, e))?;
    }
    std::fs::create_dir_all(target)
        .map_err(|e| ImageError::io("creating mount point", target, e))?;

    let mount_record = MountRecord {
        image: record.id.clone(),
        target: target.to_path_buf(),
        layers: record
            .layers
            .iter()
            .map(|layer| layer.diff_id.clone())
            .collect(),
    };
    let json = serde_json::to_vec_pretty(&mount_record).expect("mount record serializes");
    write_atomic(&dir.join(MOUNT_RECORD), &json)?;

    let mounted = Mounted {
        target: target.to_path_buf(),
        upperdir,
        workdir,
        lowerdirs,
    };
    if let Err(error) = mount_overlay(&mounted) {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(error);
    }
    tracing::info!(container = container_id, image = %record.id, target = %target.display(), "mounted container root filesystem");
    Ok(mounted)
}

/// Largest mount options string the kernel copies (one page).
const MAX_MOUNT_OPTIONS: usize = 4095;

fn mount_overlay(mounted: &Mounted) -> Result<()> {
    let invalid = |path: &Path, message: String| {
        ImageError::io(
            "mounting overlay at",
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, message),
        )
    };

    let all_dirs = mounted
        .lowerdirs
        .iter()
        .chain([&mounted.upperdir, &mounted.workdir]);
    let mut texts = Vec::new();
    for path in all_dirs {
        match path.to_str() {
            Some(text) if !text.contains([':', ',']) => texts.push(text),
            _ => {
                return Err(invalid(
                    path,
                    "overlay directories must be UTF-8 paths without ':' or ','".to_string(),
                ));
            }
        }
    }

    let (upper, work) = (texts[texts.len() - 2], texts[texts.len() - 1]);
    let lower = texts[..texts.len() - 2].join(":");
    let options = format!("lowerdir={lower},upperdir={upper},workdir={work}");
    // NOTE: with layer paths of about 110 bytes, one page of options fits about 35
    // layers. containerd avoids the limit with short numeric snapshot ids, which this
    // store does not use yet.
    if options.len() > MAX_MOUNT_OPTIONS {
        return Err(invalid(
            &mounted.target,
            format!(
                "overlay options for {} layers are {} bytes, more than the kernel's {MAX_MOUNT_OPTIONS}",
                mounted.lowerdirs.len(),
                options.len()
            ),
        ));
    }

    let options =
        std::ffi::CString::new(options).map_err(|e| invalid(&mounted.target, e.to_string()))?;
    rustix::mount::mount(
        "overlay",
        &mounted.target,
        "overlay",
        rustix::mount::MountFlags::empty(),
        Some(options.as_c_str()),
    )
    .map_err(|e| ImageError::io("mounting overlay at", &mounted.target, e.into()))
}

/// Unmounts and deletes the container's directory. Returns whether it had a mount record.
pub(super) fn release(store: &ImageStore, container_id: &str) -> Result<bool> {
    validate_container_id(container_id)?;
    let dir = store.containers_dir().join(container_id);
    let record_path = dir.join(MOUNT_RECORD);
    let record: Option<MountRecord> = match std::fs::read(&record_path) {
        Ok(data) => Some(serde_json::from_slice(&data).map_err(|e| {
            ImageError::io(
                "parsing mount record",
                &record_path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(ImageError::io("reading mount record", &record_path, e)),
    };
    if let Some(record) = &record {
        unmount(&record.target)?;
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| ImageError::io("removing container directory", &dir, e))?;
    }
    if record.is_some() {
        tracing::info!(
            container = container_id,
            "released container root filesystem"
        );
    }
    Ok(record.is_some())
}

/// Unmounts `target`; a target that is not mounted (or gone) is fine. A busy mount is
/// detached so it disappears once its last user exits.
fn unmount(target: &Path) -> Result<()> {
    use rustix::io::Errno;
    use rustix::mount::{UnmountFlags, unmount as umount};
    match umount(target, UnmountFlags::empty()) {
        Ok(()) | Err(Errno::INVAL | Errno::NOENT) => Ok(()),
        Err(Errno::BUSY) => {
            tracing::warn!(target = %target.display(), "root filesystem busy, detaching it");
            umount(target, UnmountFlags::DETACH)
                .map_err(|e| ImageError::io("detaching mount", target, e.into()))
        }
        Err(e) => Err(ImageError::io("unmounting", target, e.into())),
    }
}

/// Layers that prepared container root filesystems use.
pub(super) fn layers_in_use(store: &ImageStore) -> Result<Vec<Digest>> {
    let dir = store.containers_dir();
    let mut layers = Vec::new();
    for name in list_dir(&dir)? {
        let path = dir.join(name).join(MOUNT_RECORD);
        let Ok(data) = std::fs::read(&path) else {
            continue;
        };
        match serde_json::from_slice::<MountRecord>(&data) {
            Ok(record) => layers.extend(record.layers),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "ignoring unreadable mount record");
            }
        }
    }
    Ok(layers)
}

fn validate_container_id(container_id: &str) -> Result<()> {
    let valid = !container_id.is_empty()
        && container_id.len() <= 128
        && !container_id.starts_with('.')
        && container_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(ImageError::Rootfs {
            container: container_id.to_string(),
            message: "container id must be 1 to 128 letters, digits, '-', '_' or '.', and \
                      must not start with '.'"
                .to_string(),
        })
    }
}
