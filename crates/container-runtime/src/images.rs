//! The image store seam: what ImageService and CreateContainer need from images.
//!
//! [`ImageStore`] is implemented by the registry-backed store in the `image` module and,
//! until that is wired in, by [`LocalImageStore`], which serves images that were unpacked
//! into directories on this machine.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The parts of an OCI image configuration a container inherits.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageConfig {
    /// `KEY=value` pairs.
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: String,
    /// `uid`, `uid:gid`, or a user name.
    pub user: String,
    /// A signal name such as `SIGQUIT`, empty for the default SIGTERM.
    pub stop_signal: String,
}

/// One image as ImageService reports it.
#[derive(Clone, Debug, Default)]
pub struct ImageInfo {
    /// Content-addressed id, `sha256:<hex>`.
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    /// Unpacked size in bytes.
    pub size: u64,
    pub config: ImageConfig,
}

/// Registry credentials from `PullImageRequest.auth`.
#[derive(Clone, Debug, Default)]
pub struct RegistryAuth {
    pub username: String,
    pub password: String,
    /// base64 of `username:password`.
    pub auth: String,
    pub server_address: String,
    pub identity_token: String,
    pub registry_token: String,
}

/// Usage of the filesystem that holds images.
#[derive(Clone, Debug, Default)]
pub struct FsUsage {
    pub mountpoint: String,
    pub used_bytes: u64,
    pub inodes_used: u64,
}

/// Images on this node and the container root filesystems made from them.
///
/// Every method takes an image reference (`name[:tag]`, `name@digest`) or an image id.
/// An unknown image is [`Error::NotFound`].
#[async_trait::async_trait]
pub trait ImageStore: Send + Sync {
    /// Fetches the image unless present and returns its id.
    async fn pull(&self, reference: &str, auth: Option<&RegistryAuth>) -> Result<String>;

    /// Lists every image in the store.
    async fn list(&self) -> Result<Vec<ImageInfo>>;

    /// Returns the image, or `None` when the store does not have it.
    async fn status(&self, reference: &str) -> Result<Option<ImageInfo>>;

    /// Removes the image; removing an absent image succeeds.
    async fn remove(&self, reference: &str) -> Result<()>;

    /// Reports the usage of the image filesystem.
    async fn fs_info(&self) -> Result<FsUsage>;

    /// Mounts a writable root filesystem of `reference` at `target` for `container_id`.
    async fn prepare_rootfs(
        &self,
        reference: &str,
        container_id: &str,
        target: &Path,
    ) -> Result<ImageInfo>;

    /// Unmounts and deletes what [`ImageStore::prepare_rootfs`] made; succeeds if absent.
    async fn remove_rootfs(&self, container_id: &str, target: &Path) -> Result<()>;
}

/// Images kept as plain directories: `<dir>/<escaped reference>/rootfs/` plus an optional
/// `image.json` holding an [`ImageConfig`]. The escaped reference replaces `/` and `:`
/// with `_` after defaulting the tag to `latest`. Pull finds such a directory or fails.
pub struct LocalImageStore {
    dir: PathBuf,
}

impl LocalImageStore {
    /// Serves images under `dir`, creating it if needed.
    pub fn new(dir: PathBuf) -> Result<LocalImageStore> {
        std::fs::create_dir_all(&dir).map_err(Error::io("failed to create", &dir))?;
        Ok(LocalImageStore { dir })
    }

    /// Creates the directory of image `reference` under `dir` with its configuration and
    /// returns the (empty) rootfs directory for the caller to fill.
    pub fn add(dir: &Path, reference: &str, config: &ImageConfig) -> Result<PathBuf> {
        let image_dir = Self::image_dir(dir, reference);
        let rootfs = image_dir.join("rootfs");
        std::fs::create_dir_all(&rootfs).map_err(Error::io("failed to create", &rootfs))?;
        let reference_file = image_dir.join("reference");
        std::fs::write(&reference_file, normalize(reference))
            .map_err(Error::io("failed to write", &reference_file))?;
        crate::store::write_json(&image_dir.join("image.json"), config)?;
        Ok(rootfs)
    }

    /// Returns the directory where an image named `reference` is expected.
    pub fn image_dir(dir: &Path, reference: &str) -> PathBuf {
        dir.join(normalize(reference).replace(['/', ':'], "_"))
    }

    fn find(&self, reference: &str) -> Option<(PathBuf, ImageInfo)> {
        let by_name = Self::image_dir(&self.dir, reference);
        if by_name.join("rootfs").is_dir() {
            return Some((by_name.clone(), self.info(&by_name, &normalize(reference))));
        }
        // An image id names the same image as its reference.
        self.all()
            .into_iter()
            .find(|(_, info)| info.id == reference)
    }

    fn all(&self) -> Vec<(PathBuf, ImageInfo)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut images = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.join("rootfs").is_dir() {
                continue;
            }
            let name = std::fs::read_to_string(path.join("reference"))
                .map(|name| name.trim().to_string())
                .unwrap_or_else(|_| entry.file_name().to_string_lossy().into_owned());
            let info = self.info(&path, &name);
            images.push((path, info));
        }
        images
    }

    fn info(&self, path: &Path, reference: &str) -> ImageInfo {
        let config = std::fs::read(path.join("image.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        let digest = ring::digest::digest(&ring::digest::SHA256, reference.as_bytes());
        let hex: String = digest
            .as_ref()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        ImageInfo {
            id: format!("sha256:{hex}"),
            repo_tags: vec![reference.to_string()],
            repo_digests: Vec::new(),
            size: disk_usage(&path.join("rootfs")).0,
            config,
        }
    }
}

/// Adds the default tag `latest` to a reference without tag or digest.
fn normalize(reference: &str) -> String {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    if last.contains(':') || reference.contains('@') || reference.starts_with("sha256:") {
        reference.to_string()
    } else {
        format!("{reference}:latest")
    }
}

/// Returns bytes and inodes used below `path`, not following symlinks.
pub fn disk_usage(path: &Path) -> (u64, u64) {
    let mut bytes = 0;
    let mut inodes = 0;
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(metadata) = entry.metadata() else {
                continue;
            };
            inodes += 1;
            bytes += metadata.len();
            if metadata.is_dir() {
                pending.push(entry.path());
            }
        }
    }
    (bytes, inodes)
}

#[async_trait::async_trait]
impl ImageStore for LocalImageStore {
    async fn pull(&self, reference: &str, _auth: Option<&RegistryAuth>) -> Result<String> {
        match self.find(reference) {
            Some((_, info)) => Ok(info.id),
            // NOTE: this store never contacts a registry; the registry-backed store does.
            None => Err(Error::NotFound(format!(
                "image {reference:?} not found in {}; this store does not pull from registries",
                self.dir.display()
            ))),
        }
    }

    async fn list(&self) -> Result<Vec<ImageInfo>> {
        Ok(self.all().into_iter().map(|(_, info)| info).collect())
    }

    async fn status(&self, reference: &str) -> Result<Option<ImageInfo>> {
        Ok(self.find(reference).map(|(_, info)| info))
    }

    async fn remove(&self, reference: &str) -> Result<()> {
        if let Some((path, _)) = self.find(reference) {
            std::fs::remove_dir_all(&path).map_err(Error::io("failed to remove image", &path))?;
        }
        Ok(())
    }

    async fn fs_info(&self) -> Result<FsUsage> {
        let (used_bytes, inodes_used) = disk_usage(&self.dir);
        Ok(FsUsage {
            mountpoint: self.dir.display().to_string(),
            used_bytes,
            inodes_used,
        })
    }

    async fn prepare_rootfs(
        &self,
        reference: &str,
        _container_id: &str,
        target: &Path,
    ) -> Result<ImageInfo> {
        let Some((path, info)) = self.find(reference) else {
            return Err(Error::NotFound(format!("image {reference:?} not found")));
        };
        let layer_root = target.with_file_name("overlay");
        let upper = layer_root.join("upper");
        let work = layer_root.join("work");
        for dir in [&upper, &work, &target.to_path_buf()] {
            std::fs::create_dir_all(dir).map_err(Error::io("failed to create", dir))?;
        }
        let options = format!(
            "lowerdir={},upperdir={},workdir={}",
            path.join("rootfs").display(),
            upper.display(),
            work.display()
        );
        nix::mount::mount(
            Some("overlay"),
            target,
            Some("overlay"),
            nix::mount::MsFlags::empty(),
            Some(options.as_str()),
        )
        .map_err(|errno| {
            Error::Internal(format!(
                "failed to mount overlay at {}: {errno}",
                target.display()
            ))
        })?;
        Ok(info)
    }

    async fn remove_rootfs(&self, _container_id: &str, target: &Path) -> Result<()> {
        crate::namespaces::unmount(target)?;
        let layer_root = target.with_file_name("overlay");
        for path in [target.to_path_buf(), layer_root] {
            match std::fs::remove_dir_all(&path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::io("failed to remove", &path)(error));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_adds_latest_tag() {
        assert_eq!(normalize("busybox"), "busybox:latest");
        assert_eq!(
            normalize("localhost:5000/busybox"),
            "localhost:5000/busybox:latest"
        );
        assert_eq!(normalize("busybox:1.35"), "busybox:1.35");
        assert_eq!(normalize("busybox@sha256:ab"), "busybox@sha256:ab");
    }
}
