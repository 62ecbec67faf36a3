//! Importing images from files: OCI image layouts (a directory, or a tar of one, plain or
//! gzip) and `docker save` archives (`manifest.json` with `Config`, `RepoTags` and
//! `Layers`). Archives that carry both, as Docker 25 and later write, are read as OCI
//! layouts. Entry point: [`import`].

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::content::{build_record, ensure_layer, ingest_file, store_bytes};
use super::digest::{Digest, DigestReader};
use super::error::{ImageError, Result};
use super::manifest::{
    ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, Compression, DOCKER_CONFIG, Descriptor, Index,
    Manifest, ManifestDocument, OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_LAYER_ZSTD, OCI_MANIFEST,
    select_platform,
};
use super::reference::Reference;
use super::{ImageRecord, ImageStore};

pub(super) async fn import(store: &ImageStore, path: &Path) -> Result<Vec<ImageRecord>> {
    let _gc = store.inner.gc.read().await;
    let meta = std::fs::metadata(path).map_err(|e| ImageError::io("reading", path, e))?;
    let _extracted;
    let layout = if meta.is_dir() {
        path.to_path_buf()
    } else {
        let dir = TempDir(store.temp_path("import"));
        extract_archive(path, &dir.0)?;
        let layout = dir.0.clone();
        _extracted = dir;
        layout
    };

    let records = if layout.join("index.json").is_file() {
        import_oci_layout(store, path, &layout).await?
    } else if layout.join("manifest.json").is_file() {
        import_docker_archive(store, path, &layout).await?
    } else {
        return Err(import_error(
            path,
            "neither an OCI image layout (index.json) nor a docker save archive (manifest.json)",
        ));
    };
    tracing::info!(path = %path.display(), images = records.len(), "imported images");
    Ok(records)
}

/// Removes a temporary directory on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.0)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.0.display(), %error, "failed to remove import directory");
        }
    }
}

fn import_error(path: &Path, message: impl Into<String>) -> ImageError {
    ImageError::Import {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Extracts the tar (plain or gzip) at `archive` into `target`. The tar crate refuses
/// entries that would land outside `target`.
fn extract_archive(archive: &Path, target: &Path) -> Result<()> {
    let mut file =
        std::fs::File::open(archive).map_err(|e| ImageError::io("opening", archive, e))?;
    let mut head = [0u8; 2];
    let head_len = file
        .read(&mut head)
        .map_err(|e| ImageError::io("reading", archive, e))?;
    let file = std::io::Cursor::new(head[..head_len].to_vec()).chain(file);
    let reader: Box<dyn Read> = match Compression::sniff(&head[..head_len]) {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
        _ => Box::new(file),
    };
    std::fs::create_dir_all(target).map_err(|e| ImageError::io("creating directory", target, e))?;
    tar::Archive::new(reader)
        .unpack(target)
        .map_err(|e| import_error(archive, format!("extracting tar: {e}")))
}

fn layout_blob(layout: &Path, digest: &Digest) -> PathBuf {
    layout.join("blobs/sha256").join(digest.hex())
}

fn read_layout_blob(source: &Path, layout: &Path, descriptor: &Descriptor) -> Result<Vec<u8>> {
    let path = layout_blob(layout, &descriptor.digest);
    let data = std::fs::read(&path)
        .map_err(|e| import_error(source, format!("reading blob {}: {e}", descriptor.digest)))?;
    let actual = Digest::of(&data);
    if actual != descriptor.digest {
        return Err(ImageError::DigestMismatch {
            reference: source.display().to_string(),
            expected: descriptor.digest.clone(),
            actual,
            size: data.len() as u64,
            location: path.display().to_string(),
        });
    }
    Ok(data)
}

async fn import_oci_layout(
    store: &ImageStore,
    source: &Path,
    layout: &Path,
) -> Result<Vec<ImageRecord>> {
    let index_path = layout.join("index.json");
    let index_bytes =
        std::fs::read(&index_path).map_err(|e| ImageError::io("reading", &index_path, e))?;
    let index: Index = serde_json::from_slice(&index_bytes)
        .map_err(|e| import_error(source, format!("invalid index.json: {e}")))?;

    let mut records = Vec::new();
    for top in &index.manifests {
        let name = image_name(top);
        let label = name
            .as_ref()
            .map_or_else(|| top.digest.to_string(), Reference::to_string);
        let top_bytes = read_layout_blob(source, layout, top)?;
        let document =
            ManifestDocument::decode(Some(&top.media_type), &top_bytes).map_err(|message| {
                import_error(source, format!("manifest {}: {message}", top.digest))
            })?;
        store_bytes(
            store,
            &label,
            &top.digest,
            &top_bytes,
            &source.display().to_string(),
        )?;

        let (manifest_digest, manifest) = match document {
            ManifestDocument::Manifest(manifest) => (top.digest.clone(), manifest),
            ManifestDocument::Index(nested) => {
                let platform = &store.inner.platform;
                let descriptor = select_platform(&nested, platform).ok_or_else(|| {
                    import_error(
                        source,
                        format!(
                            "index {} has no manifest for {}/{}",
                            top.digest, platform.os, platform.architecture
                        ),
                    )
                })?;
                let bytes = read_layout_blob(source, layout, descriptor)?;
                let Ok(ManifestDocument::Manifest(manifest)) =
                    ManifestDocument::decode(Some(&descriptor.media_type), &bytes)
                else {
                    return Err(import_error(
                        source,
                        format!("blob {} is not an image manifest", descriptor.digest),
                    ));
                };
                store_bytes(
                    store,
                    &label,
                    &descriptor.digest,
                    &bytes,
                    &source.display().to_string(),
                )?;
                (descriptor.digest.clone(), manifest)
            }
        };

        let config_bytes = read_layout_blob(source, layout, &manifest.config)?;
        store_bytes(
            store,
            &label,
            &manifest.config.digest,
            &config_bytes,
            &source.display().to_string(),
        )?;
        let repo_tags = name.iter().filter_map(Reference::tagged_name).collect();
        let repo_digests = name
            .iter()
            .map(|name| format!("{}@{}", name.repository(), top.digest))
            .collect();
        let record = build_record(
            &label,
            &manifest_digest,
            &manifest,
            &config_bytes,
            repo_tags,
            repo_digests,
        )?;
        for (descriptor, layer) in manifest.layers.iter().zip(&record.layers) {
            let blob = layout_blob(layout, &descriptor.digest);
            ingest_file(
                store,
                &label,
                &descriptor.digest,
                Some(descriptor.size),
                &blob,
            )
            .await?;
            ensure_layer(store, &label, layer).await?;
        }
        records.push(store.commit(record)?);
    }
    Ok(records)
}

/// Returns the name an OCI layout gives a manifest: `io.containerd.image.name`, else
/// `org.opencontainers.image.ref.name` when it is a full reference (contains `/`).
fn image_name(descriptor: &Descriptor) -> Option<Reference> {
    if let Some(name) = descriptor.annotations.get(ANNOTATION_IMAGE_NAME)
        && let Ok(reference) = Reference::parse(name)
    {
        return Some(reference);
    }
    // NOTE: a bare tag in ref.name (what `skopeo copy ... oci:DIR:TAG` writes) names no
    // repository, so such an image is imported untagged and found by its id.
    descriptor
        .annotations
        .get(ANNOTATION_REF_NAME)
        .filter(|name| name.contains('/'))
        .and_then(|name| Reference::parse(name).ok())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerArchiveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Resolves a path from `manifest.json` inside the extracted archive, rejecting escapes.
fn archive_member(source: &Path, layout: &Path, member: &str) -> Result<PathBuf> {
    let relative = Path::new(member);
    let safe = relative
        .components()
        .all(|component| matches!(component, std::path::Component::Normal(_)));
    if !safe {
        return Err(import_error(
            source,
            format!("manifest.json names {member:?} outside the archive"),
        ));
    }
    Ok(layout.join(relative))
}

async fn import_docker_archive(
    store: &ImageStore,
    source: &Path,
    layout: &Path,
) -> Result<Vec<ImageRecord>> {
    let manifest_path = layout.join("manifest.json");
    let data =
        std::fs::read(&manifest_path).map_err(|e| ImageError::io("reading", &manifest_path, e))?;
    let entries: Vec<DockerArchiveEntry> = serde_json::from_slice(&data)
        .map_err(|e| import_error(source, format!("invalid manifest.json: {e}")))?;

    let mut records = Vec::new();
    for entry in entries {
        let mut repo_tags = Vec::new();
        for tag in entry.repo_tags.iter().flatten() {
            let reference = Reference::parse(tag)?;
            repo_tags.extend(reference.tagged_name());
        }
        let label = repo_tags
            .first()
            .cloned()
            .unwrap_or_else(|| source.display().to_string());

        let config_path = archive_member(source, layout, &entry.config)?;
        let config_bytes = std::fs::read(&config_path)
            .map_err(|e| ImageError::io("reading image config", &config_path, e))?;
        let config_digest = Digest::of(&config_bytes);
        store_bytes(
            store,
            &label,
            &config_digest,
            &config_bytes,
            &source.display().to_string(),
        )?;

        let mut layers = Vec::new();
        for member in &entry.layers {
            let path = archive_member(source, layout, member)?;
            let (digest, size, compression) = hash_file(&path)?;
            ingest_file(store, &label, &digest, Some(size), &path).await?;
            let media_type = match compression {
                Compression::Gzip => OCI_LAYER_GZIP,
                Compression::Zstd => OCI_LAYER_ZSTD,
                Compression::None => OCI_LAYER_TAR,
            };
            layers.push(Descriptor {
                media_type: media_type.to_string(),
                digest,
                size,
                platform: None,
                annotations: Default::default(),
            });
        }

        // A docker archive has no manifest; build the one a registry push would create so
        // the record has a manifest digest like every other image.
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(OCI_MANIFEST.to_string()),
            config: Descriptor {
                media_type: DOCKER_CONFIG.to_string(),
                digest: config_digest,
                size: config_bytes.len() as u64,
                platform: None,
                annotations: Default::default(),
            },
            layers,
        };
        let manifest_bytes = serde_json::to_vec(&manifest).expect("manifest serializes");
        let manifest_digest = Digest::of(&manifest_bytes);
        store_bytes(
            store,
            &label,
            &manifest_digest,
            &manifest_bytes,
            "generated manifest",
        )?;

        let record = build_record(
            &label,
            &manifest_digest,
            &manifest,
            &config_bytes,
            repo_tags,
            Vec::new(),
        )?;
        for layer in &record.layers {
            ensure_layer(store, &label, layer).await?;
        }
        records.push(store.commit(record)?);
    }
    Ok(records)
}

fn hash_file(path: &Path) -> Result<(Digest, u64, Compression)> {
    let mut file = std::fs::File::open(path).map_err(|e| ImageError::io("opening", path, e))?;
    let mut head = [0u8; 4];
    let head_len = file
        .read(&mut head)
        .map_err(|e| ImageError::io("reading", path, e))?;
    let compression = Compression::sniff(&head[..head_len]);
    let reader = DigestReader::new(std::io::Cursor::new(head[..head_len].to_vec()).chain(file));
    let (digest, size) = reader
        .finish()
        .map_err(|e| ImageError::io("reading", path, e))?;
    Ok((digest, size, compression))
}
