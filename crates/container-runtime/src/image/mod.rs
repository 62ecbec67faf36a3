//! The runtime's image store: pulls images from registries (distribution API v2, OCI and
//! Docker schema 2 manifests), imports OCI layouts and `docker save` archives, unpacks each
//! layer once into a content-addressed directory, and mounts overlayfs root filesystems
//! for containers. CRI's ImageService is a thin layer over [`ImageStore`].
//!
//! Layout under the store's root directory:
//!
//! ```text
//! blobs/sha256/<hex>     manifests, configs and compressed layers, verified by digest
//! layers/sha256/<hex>    unpacked layer named by its diff id (uncompressed digest)
//! images/<hex>.json      one ImageRecord per image, named by its config digest (image id)
//! containers/<id>/       upper and work directories and the mount record of a container
//! tmp/                   downloads and unpacks in progress, emptied on open
//! ```
//!
//! Layers and blobs are shared between images and deleted when the last image (or
//! prepared container root filesystem) using them goes away.

mod content;
mod digest;
mod error;
mod hosts;
mod import;
mod manifest;
mod pull;
mod reference;
mod registry;
mod rootfs;
mod unpack;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use serde::{Deserialize, Serialize};

pub use digest::{Digest, DigestError};
pub use error::{ImageError, Result};
pub use hosts::{Endpoint, RegistryConfig, RegistryHost};
pub use manifest::{ContainerConfig, Platform};
pub use reference::{Reference, ReferenceError};
pub use registry::Credentials;
pub use rootfs::Mounted;

/// One image in the store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImageRecord {
    /// Digest of the image config, the image id CRI reports.
    pub id: Digest,
    /// Normalized `repository:tag` names (`docker.io/library/busybox:latest`).
    pub repo_tags: Vec<String>,
    /// `repository@digest` names; the digest is the manifest's or, for a multi-platform
    /// image, the index's.
    pub repo_digests: Vec<String>,
    /// Bytes of the config and the compressed layers, as a registry reports them.
    pub size: u64,
    /// The config's `User` when it is numeric (`1000` or `1000:1000`).
    pub uid: Option<i64>,
    /// The config's `User` when it is a name (`nginx`, `nginx:nginx`), else empty.
    pub username: String,
    /// Execution defaults: entrypoint, command, environment, working directory and more.
    pub config: ContainerConfig,
    /// Digest of the platform-specific manifest.
    pub manifest_digest: Digest,
    /// Layers from the bottom up.
    pub layers: Vec<LayerRecord>,
}

/// One layer of an image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LayerRecord {
    /// Digest of the compressed blob.
    pub digest: Digest,
    /// Digest of the uncompressed tar, which names the unpacked directory.
    pub diff_id: Digest,
    pub media_type: String,
    pub size: u64,
}

/// Space the store uses on its filesystem, for CRI `ImageFsInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsUsage {
    /// The store's root directory.
    pub mountpoint: PathBuf,
    /// Bytes of allocated blocks under the root.
    pub used_bytes: u64,
    /// Distinct inodes under the root, the root itself included.
    pub inodes_used: u64,
}

/// The image store. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct ImageStore {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    registries: RegistryConfig,
    client: registry::RegistryClient,
    platform: Platform,
    images: Mutex<BTreeMap<Digest, ImageRecord>>,
    /// Lock taken shared by pulls, imports and rootfs preparation and exclusively by
    /// garbage collection, so that it never deletes a layer that an operation in flight
    /// has unpacked but not yet recorded.
    gc: tokio::sync::RwLock<()>,
    locks: KeyedLocks,
}

impl ImageStore {
    /// Opens (creating if needed) the store at `root`, loads its image records and
    /// removes leftovers of interrupted downloads.
    ///
    /// # Errors
    /// [`ImageError::Io`] naming the directory or record that could not be created or
    /// read, or when the TLS configuration of the registry client cannot be built.
    pub fn open(root: impl Into<PathBuf>, registries: RegistryConfig) -> Result<Self> {
        let root = root.into();
        for directory in ["blobs/sha256", "layers/sha256", "images", "containers"] {
            let path = root.join(directory);
            std::fs::create_dir_all(&path)
                .map_err(|e| ImageError::io("creating directory", &path, e))?;
        }
        let tmp = root.join("tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)
                .map_err(|e| ImageError::io("removing stale temporary files", &tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| ImageError::io("creating directory", &tmp, e))?;

        let images = load_records(&root.join("images"))?;
        let client = registry::RegistryClient::new()
            .map_err(|e| ImageError::io("building the registry client for", &root, e))?;
        tracing::info!(root = %root.display(), images = images.len(), "opened image store");
        Ok(Self {
            inner: Arc::new(Inner {
                root,
                registries,
                client,
                platform: manifest::host_platform(),
                images: Mutex::new(images),
                gc: tokio::sync::RwLock::new(()),
                locks: KeyedLocks::default(),
            }),
        })
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Pulls `reference` (normalized first: `busybox` means
    /// `docker.io/library/busybox:latest`) and returns its record. Blobs and layers
    /// already in the store are not fetched again, and concurrent pulls of the same
    /// reference wait for each other and share the downloaded content.
    ///
    /// # Errors
    /// [`ImageError::InvalidReference`]; [`ImageError::Registry`] when no endpoint has the
    /// image; [`ImageError::Unauthorized`]; [`ImageError::DigestMismatch`] when a manifest
    /// or blob does not match its digest; [`ImageError::Unpack`] for a broken layer.
    pub async fn pull(
        &self,
        reference: &str,
        credentials: Option<Credentials>,
    ) -> Result<ImageRecord> {
        let reference = Reference::parse(reference)?;
        pull::pull(self, &reference, credentials).await
    }

    /// Returns all images, ordered by id.
    pub fn list(&self) -> Vec<ImageRecord> {
        self.inner
            .images
            .lock()
            .expect("lock poisoned")
            .values()
            .cloned()
            .collect()
    }

    /// Finds an image by id (`sha256:<hex>` or bare hex), by a unique id prefix of at least
    /// 12 hex characters, or by reference (`busybox`, `docker.io/library/busybox:latest`,
    /// `busybox@sha256:...`). Returns `Ok(None)` when no image matches.
    ///
    /// # Errors
    /// [`ImageError::InvalidReference`] when `name` is neither an id nor a valid reference.
    pub fn status(&self, name: &str) -> Result<Option<ImageRecord>> {
        let images = self.inner.images.lock().expect("lock poisoned");
        Ok(find_image(&images, name)?.cloned())
    }

    /// Removes the image that `name` finds (see [`ImageStore::status`]) with all its tags,
    /// then deletes blobs and unpacked layers that no other image and no prepared
    /// container root filesystem uses. Returns whether an image was removed.
    ///
    /// # Errors
    /// [`ImageError::InvalidReference`]; [`ImageError::Io`] naming the file that could not
    /// be deleted.
    pub async fn remove(&self, name: &str) -> Result<bool> {
        let _gc = self.inner.gc.write().await;
        let removed = {
            let mut images = self.inner.images.lock().expect("lock poisoned");
            let Some(id) = find_image(&images, name)?.map(|record| record.id.clone()) else {
                return Ok(false);
            };
            images.remove(&id)
        };
        let Some(record) = removed else {
            return Ok(false);
        };
        let path = self.record_path(&record.id);
        std::fs::remove_file(&path)
            .map_err(|e| ImageError::io("removing image record", &path, e))?;
        tracing::info!(image = %record.id, repo_tags = ?record.repo_tags, "removed image");
        self.collect_garbage()?;
        Ok(true)
    }

    /// Measures the space under the root directory (blocks and distinct inodes).
    ///
    /// # Errors
    /// [`ImageError::Io`] naming a path that could not be read.
    pub async fn fs_info(&self) -> Result<FsUsage> {
        let root = self.inner.root.clone();
        tokio::task::spawn_blocking(move || measure_usage(&root))
            .await
            .map_err(|e| ImageError::io("measuring", &self.inner.root, std::io::Error::other(e)))?
    }

    /// Imports every image of an OCI image layout (directory or tar, optionally gzip) or
    /// a `docker save` archive. Images named in the archive (`io.containerd.image.name`, a
    /// full reference in `org.opencontainers.image.ref.name`, or `RepoTags`) get that tag.
    ///
    /// # Errors
    /// [`ImageError::Import`] naming the path and the missing or invalid part;
    /// [`ImageError::DigestMismatch`] when a blob does not match its digest.
    pub async fn import(&self, path: &Path) -> Result<Vec<ImageRecord>> {
        import::import(self, path).await
    }

    /// Mounts the root filesystem of `container_id` at `target`: overlayfs with the
    /// image's unpacked layers as lower directories and a fresh upper and work directory
    /// under `containers/<container_id>`. `target` is created if missing.
    ///
    /// # Errors
    /// [`ImageError::NotFound`] for an unknown image; [`ImageError::Rootfs`] when the
    /// container id is invalid or already has a root filesystem; [`ImageError::Io`] naming
    /// the path when a directory cannot be created or the mount fails.
    pub async fn prepare_rootfs(
        &self,
        image: &str,
        container_id: &str,
        target: &Path,
    ) -> Result<Mounted> {
        let _gc = self.inner.gc.read().await;
        let record = self
            .status(image)?
            .ok_or_else(|| ImageError::NotFound(image.to_string()))?;
        rootfs::prepare(self, &record, container_id, target)
    }

    /// Unmounts the root filesystem of `container_id` and deletes its upper and work
    /// directories, then the layers of removed images that only this container used.
    /// Releasing a container that has none is not an error.
    ///
    /// # Errors
    /// [`ImageError::Io`] naming the mount point or directory that could not be unmounted
    /// or deleted.
    pub async fn release_rootfs(&self, container_id: &str) -> Result<()> {
        let _gc = self.inner.gc.write().await;
        if rootfs::release(self, container_id)? {
            self.collect_garbage()?;
        }
        Ok(())
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.inner.root.join("blobs/sha256").join(digest.hex())
    }

    fn layer_path(&self, diff_id: &Digest) -> PathBuf {
        self.inner.root.join("layers/sha256").join(diff_id.hex())
    }

    fn record_path(&self, id: &Digest) -> PathBuf {
        self.inner
            .root
            .join("images")
            .join(format!("{}.json", id.hex()))
    }

    fn containers_dir(&self) -> PathBuf {
        self.inner.root.join("containers")
    }

    /// Returns a fresh path under `tmp/` for a download or unpack in progress.
    fn temp_path(&self, label: &str) -> PathBuf {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner
            .root
            .join("tmp")
            .join(format!("{label}-{}-{n}", std::process::id()))
    }

    /// Adds `record` to the store, merging tags and digests with an existing image of the
    /// same id, and moves each of its tags away from any other image.
    fn commit(&self, mut record: ImageRecord) -> Result<ImageRecord> {
        let mut images = self.inner.images.lock().expect("lock poisoned");
        let mut changed = Vec::new();
        for other in images.values_mut() {
            if other.id == record.id {
                continue;
            }
            let before = other.repo_tags.len();
            other
                .repo_tags
                .retain(|tag| !record.repo_tags.contains(tag));
            if other.repo_tags.len() != before {
                changed.push(other.clone());
            }
        }
        if let Some(existing) = images.get(&record.id) {
            let tags: BTreeSet<_> = existing
                .repo_tags
                .iter()
                .chain(&record.repo_tags)
                .cloned()
                .collect();
            let digests: BTreeSet<_> = existing
                .repo_digests
                .iter()
                .chain(&record.repo_digests)
                .cloned()
                .collect();
            record.repo_tags = tags.into_iter().collect();
            record.repo_digests = digests.into_iter().collect();
        }
        for other in &changed {
            self.write_record(other)?;
        }
        self.write_record(&record)?;
        for other in changed {
            images.insert(other.id.clone(), other);
        }
        images.insert(record.id.clone(), record.clone());
        Ok(record)
    }

    fn write_record(&self, record: &ImageRecord) -> Result<()> {
        let path = self.record_path(&record.id);
        let json = serde_json::to_vec_pretty(record).expect("image record serializes");
        write_atomic(&path, &json)
    }

    /// Deletes blobs and layer directories that no image and no container mount uses.
    /// The caller holds the `gc` lock exclusively.
    fn collect_garbage(&self) -> Result<()> {
        let mut blobs = BTreeSet::new();
        let mut layers = BTreeSet::new();
        for record in self.inner.images.lock().expect("lock poisoned").values() {
            blobs.insert(record.id.hex().to_string());
            blobs.insert(record.manifest_digest.hex().to_string());
            for digest in &record.repo_digests {
                if let Some((_, digest)) = digest.split_once('@')
                    && let Ok(digest) = Digest::parse(digest)
                {
                    blobs.insert(digest.hex().to_string());
                }
            }
            for layer in &record.layers {
                blobs.insert(layer.digest.hex().to_string());
                layers.insert(layer.diff_id.hex().to_string());
            }
        }
        for diff_id in rootfs::layers_in_use(self)? {
            layers.insert(diff_id.hex().to_string());
        }

        let mut removed_layers = 0;
        let layer_dir = self.inner.root.join("layers/sha256");
        for name in list_dir(&layer_dir)? {
            if !layers.contains(&name) {
                let path = layer_dir.join(&name);
                std::fs::remove_dir_all(&path)
                    .map_err(|e| ImageError::io("removing unpacked layer", &path, e))?;
                removed_layers += 1;
            }
        }
        let mut removed_blobs = 0;
        let blob_dir = self.inner.root.join("blobs/sha256");
        for name in list_dir(&blob_dir)? {
            if !blobs.contains(&name) {
                let path = blob_dir.join(&name);
                std::fs::remove_file(&path)
                    .map_err(|e| ImageError::io("removing blob", &path, e))?;
                removed_blobs += 1;
            }
        }
        tracing::debug!(
            removed_layers,
            removed_blobs,
            "collected unused image content"
        );
        Ok(())
    }
}

/// Finds the record for an id, id prefix or reference; see [`ImageStore::status`].
fn find_image<'a>(
    images: &'a BTreeMap<Digest, ImageRecord>,
    name: &str,
) -> Result<Option<&'a ImageRecord>> {
    let hex = name.strip_prefix("sha256:").unwrap_or(name);
    if hex.len() >= 12 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        let mut matches = images
            .values()
            .filter(|record| record.id.hex().starts_with(hex));
        if let (Some(found), None) = (matches.next(), matches.next()) {
            return Ok(Some(found));
        }
        if hex.len() == 64 || name.starts_with("sha256:") {
            return Ok(None);
        }
    }

    let reference = Reference::parse(name)?;
    let by_digest = reference
        .digest()
        .map(|digest| format!("{}@{digest}", reference.repository()));
    let found = images.values().find(|record| match &by_digest {
        Some(name) => record.repo_digests.contains(name),
        None => reference
            .tagged_name()
            .is_some_and(|tag| record.repo_tags.contains(&tag)),
    });
    Ok(found)
}

fn load_records(dir: &Path) -> Result<BTreeMap<Digest, ImageRecord>> {
    let mut images = BTreeMap::new();
    for name in list_dir(dir)? {
        let path = dir.join(&name);
        if !name.ends_with(".json") {
            continue;
        }
        let data =
            std::fs::read(&path).map_err(|e| ImageError::io("reading image record", &path, e))?;
        match serde_json::from_slice::<ImageRecord>(&data) {
            Ok(record) => {
                images.insert(record.id.clone(), record);
            }
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "ignoring unreadable image record");
            }
        }
    }
    Ok(images)
}

fn list_dir(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(|e| ImageError::io("listing", dir, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ImageError::io("listing", dir, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

/// Writes `data` to a temporary sibling, syncs it and renames it over `path`.
fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp).map_err(|e| ImageError::io("creating", &tmp, e))?;
    file.write_all(data)
        .and_then(|()| file.sync_all())
        .map_err(|e| ImageError::io("writing", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| ImageError::io("renaming into place", path, e))
}

fn measure_usage(root: &Path) -> Result<FsUsage> {
    use std::os::unix::fs::MetadataExt;
    let root_device = std::fs::symlink_metadata(root)
        .map_err(|e| ImageError::io("reading metadata of", root, e))?
        .dev();
    let mut seen = std::collections::HashSet::new();
    let mut used_bytes = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(ImageError::io("reading metadata of", &path, e)),
        };
        // Mounted container root filesystems are other devices; their usage is not ours.
        if meta.dev() != root_device {
            continue;
        }
        if seen.insert(meta.ino()) {
            used_bytes += meta.blocks() * 512;
        }
        if meta.is_dir() {
            let entries = match std::fs::read_dir(&path) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(ImageError::io("listing", &path, e)),
            };
            for entry in entries.flatten() {
                stack.push(entry.path());
            }
        }
    }
    Ok(FsUsage {
        mountpoint: root.to_path_buf(),
        used_bytes,
        inodes_used: seen.len() as u64,
    })
}

/// Async mutexes by key (a reference or digest), so that two tasks working on the same
/// item take turns while different items proceed in parallel. Entries disappear when
/// the last guard drops.
#[derive(Default)]
struct KeyedLocks {
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl KeyedLocks {
    async fn lock(&self, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let mutex = {
            let mut locks = self.locks.lock().expect("lock poisoned");
            locks.retain(|_, weak| weak.strong_count() > 0);
            match locks.get(key).and_then(Weak::upgrade) {
                Some(mutex) => mutex,
                None => {
                    let mutex = Arc::new(tokio::sync::Mutex::new(()));
                    locks.insert(key.to_string(), Arc::downgrade(&mutex));
                    mutex
                }
            }
        };
        mutex.lock_owned().await
    }
}

/// Splits an image config's `User` (`name`, `uid`, `name:group`, `uid:gid`) into the
/// numeric uid or the user name, as CRI's image status reports them.
fn split_user(user: &str) -> (Option<i64>, String) {
    let user_part = user.split(':').next().unwrap_or("");
    if user_part.is_empty() {
        return (None, String::new());
    }
    match user_part.parse::<i64>() {
        Ok(uid) => (Some(uid), String::new()),
        Err(_) => (None, user_part.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_futures_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(dir.path(), RegistryConfig::default()).unwrap();
        assert_send(&store.pull("busybox", None));
        assert_send(&store.remove("busybox"));
        assert_send(&store.import(dir.path()));
        assert_send(&store.fs_info());
        assert_send(&store.prepare_rootfs("busybox", "c", dir.path()));
        assert_send(&store.release_rootfs("c"));
    }

    #[test]
    fn split_user_forms() {
        assert_eq!(split_user(""), (None, String::new()));
        assert_eq!(split_user("1000"), (Some(1000), String::new()));
        assert_eq!(split_user("1000:1000"), (Some(1000), String::new()));
        assert_eq!(split_user("nginx"), (None, "nginx".to_string()));
        assert_eq!(split_user("nginx:www"), (None, "nginx".to_string()));
    }
}
