//! Content shared by pulls and imports: verified blobs under `blobs/sha256`, unpacked
//! layers under `layers/sha256`, and the image record built from a manifest and config.

use std::path::Path;

use super::digest::{Digest, DigestReader};
use super::error::{ImageError, Result};
use super::manifest::{ImageConfigFile, Manifest, is_layer_media_type};
use super::unpack::unpack_layer;
use super::{ImageRecord, ImageStore, LayerRecord, split_user, write_atomic};

/// Stores small `data` (a manifest or config) as blob `digest`, after checking that it
/// hashes to `digest`.
pub(super) fn store_bytes(
    store: &ImageStore,
    reference: &str,
    digest: &Digest,
    data: &[u8],
    location: &str,
) -> Result<()> {
    let actual = Digest::of(data);
    if actual != *digest {
        return Err(ImageError::DigestMismatch {
            reference: reference.to_string(),
            expected: digest.clone(),
            actual,
            size: data.len() as u64,
            location: location.to_string(),
        });
    }
    let path = store.blob_path(digest);
    if path.exists() {
        return Ok(());
    }
    write_atomic(&path, data)
}

/// Copies the file at `source` into the store as blob `digest`, verifying the digest
/// and, when given, the size. Does nothing when the blob is already stored.
pub(super) async fn ingest_file(
    store: &ImageStore,
    reference: &str,
    digest: &Digest,
    expected_size: Option<u64>,
    source: &Path,
) -> Result<()> {
    let _guard = store.inner.locks.lock(&format!("blob:{digest}")).await;
    let target = store.blob_path(digest);
    if target.exists() {
        return Ok(());
    }
    let tmp = store.temp_path("blob");
    let (input_path, copy) = (source.to_path_buf(), tmp.clone());
    let hashed = tokio::task::spawn_blocking(move || -> std::io::Result<(Digest, u64)> {
        let input = std::fs::File::open(&input_path)?;
        let mut reader = DigestReader::new(input);
        let mut output = std::fs::File::create(&copy)?;
        std::io::copy(&mut reader, &mut output)?;
        output.sync_all()?;
        reader.finish()
    })
    .await
    .map_err(|e| ImageError::io("copying blob from", source, std::io::Error::other(e)))?;
    let (actual, size) = match hashed {
        Ok(result) => result,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(ImageError::io("copying blob from", source, e));
        }
    };
    if actual != *digest || expected_size.is_some_and(|expected| expected != size) {
        let _ = std::fs::remove_file(&tmp);
        return Err(ImageError::DigestMismatch {
            reference: reference.to_string(),
            expected: digest.clone(),
            actual,
            size,
            location: source.display().to_string(),
        });
    }
    std::fs::rename(&tmp, &target).map_err(|e| ImageError::io("renaming blob into", &target, e))
}

/// Unpacks `layer` from its stored blob into `layers/sha256/<diff id>` unless that
/// directory exists, checking the uncompressed stream against the diff id.
pub(super) async fn ensure_layer(
    store: &ImageStore,
    reference: &str,
    layer: &LayerRecord,
) -> Result<()> {
    let _guard = store
        .inner
        .locks
        .lock(&format!("layer:{}", layer.diff_id))
        .await;
    let target = store.layer_path(&layer.diff_id);
    if target.exists() {
        return Ok(());
    }
    let blob = store.blob_path(&layer.digest);
    let tmp = store.temp_path("layer");
    std::fs::create_dir(&tmp).map_err(|e| ImageError::io("creating directory", &tmp, e))?;

    let (blob_path, unpack_dir) = (blob.clone(), tmp.clone());
    let unpacked = tokio::task::spawn_blocking(move || unpack_layer(&blob_path, &unpack_dir))
        .await
        .unwrap_or_else(|e| Err(format!("unpack task failed: {e}")));
    let summary = match unpacked {
        Ok(summary) => summary,
        Err(message) => {
            remove_dir_quietly(&tmp);
            return Err(ImageError::Unpack {
                digest: layer.digest.clone(),
                path: target,
                message,
            });
        }
    };
    if summary.diff_id != layer.diff_id {
        remove_dir_quietly(&tmp);
        return Err(ImageError::DigestMismatch {
            reference: reference.to_string(),
            expected: layer.diff_id.clone(),
            actual: summary.diff_id,
            size: 0,
            location: format!("the uncompressed content of {}", blob.display()),
        });
    }
    std::fs::rename(&tmp, &target)
        .map_err(|e| ImageError::io("renaming unpacked layer into", &target, e))?;
    tracing::debug!(
        image = reference,
        layer = %layer.diff_id,
        entries = summary.entries,
        skipped_devices = summary.skipped_devices,
        "unpacked layer"
    );
    Ok(())
}

fn remove_dir_quietly(path: &Path) {
    if let Err(error) = std::fs::remove_dir_all(path) {
        tracing::warn!(path = %path.display(), %error, "failed to remove temporary directory");
    }
}

/// Builds the record of an image from its manifest and the config bytes.
///
/// # Errors
/// [`ImageError::InvalidImage`] when the config is not valid JSON, a layer has an
/// unsupported media type, or the config's diff ids do not match the manifest's layers.
pub(super) fn build_record(
    reference: &str,
    manifest_digest: &Digest,
    manifest: &Manifest,
    config_bytes: &[u8],
    repo_tags: Vec<String>,
    repo_digests: Vec<String>,
) -> Result<ImageRecord> {
    let invalid = |message: String| ImageError::InvalidImage {
        reference: reference.to_string(),
        message,
    };
    let config: ImageConfigFile = serde_json::from_slice(config_bytes).map_err(|e| {
        invalid(format!(
            "invalid image config {}: {e}",
            manifest.config.digest
        ))
    })?;
    if config.rootfs.diff_ids.len() != manifest.layers.len() {
        return Err(invalid(format!(
            "manifest {manifest_digest} lists {} layers but config {} lists {} diff ids",
            manifest.layers.len(),
            manifest.config.digest,
            config.rootfs.diff_ids.len()
        )));
    }
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for (descriptor, diff_id) in manifest.layers.iter().zip(&config.rootfs.diff_ids) {
        if !is_layer_media_type(&descriptor.media_type) {
            return Err(invalid(format!(
                "layer {} has unsupported media type {:?}",
                descriptor.digest, descriptor.media_type
            )));
        }
        layers.push(LayerRecord {
            digest: descriptor.digest.clone(),
            diff_id: diff_id.clone(),
            media_type: descriptor.media_type.clone(),
            size: descriptor.size,
        });
    }
    let size = manifest.config.size + layers.iter().map(|layer| layer.size).sum::<u64>();
    let (uid, username) = split_user(&config.config.user);
    Ok(ImageRecord {
        id: manifest.config.digest.clone(),
        repo_tags,
        repo_digests,
        size,
        uid,
        username,
        config: config.config,
        manifest_digest: manifest_digest.clone(),
        layers,
    })
}
