//! Pulling: resolve a reference on its endpoints (mirrors first), pick the host's platform
//! from an index, fetch and verify config and layer blobs, unpack layers, record the image.

use std::time::Instant;

use tokio::task::JoinSet;

use super::content::{build_record, ensure_layer, store_bytes};
use super::digest::Digest;
use super::error::{ImageError, Result};
use super::manifest::{Descriptor, Manifest, ManifestDocument, select_platform};
use super::reference::Reference;
use super::registry::{Credentials, FetchError, Session};
use super::{ImageRecord, ImageStore, LayerRecord};

/// Failure of a pull from one endpoint.
enum EndpointFailure {
    /// The endpoint lacks the manifest or cannot be reached: try the next one.
    TryNext(String),
    Fatal(ImageError),
}

pub(super) async fn pull(
    store: &ImageStore,
    reference: &Reference,
    credentials: Option<Credentials>,
) -> Result<ImageRecord> {
    let _gc = store.inner.gc.read().await;
    let _same_reference = store.inner.locks.lock(&format!("pull:{reference}")).await;
    let started = Instant::now();
    tracing::info!(image = %reference, "pulling image");

    let endpoints = store.inner.registries.endpoints(reference.domain());
    let mut failures = Vec::new();
    for endpoint in &endpoints {
        // NOTE: the credentials go to mirrors as well as to the registry itself, as CRI
        // passes one AuthConfig per pull and does not say which host it is for.
        let session = store.inner.client.session(
            &endpoint.base,
            reference.path(),
            &reference.to_string(),
            credentials.clone(),
        );
        match pull_from(store, reference, &session).await {
            Ok(record) => {
                tracing::info!(
                    image = %reference,
                    id = %record.id,
                    endpoint = %endpoint.base,
                    size = record.size,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "pulled image"
                );
                return Ok(record);
            }
            Err(EndpointFailure::TryNext(message)) => {
                tracing::warn!(image = %reference, endpoint = %endpoint.base, %message, "endpoint failed, trying the next one");
                failures.push(message);
            }
            Err(EndpointFailure::Fatal(error)) => {
                tracing::warn!(image = %reference, endpoint = %endpoint.base, %error, "pull failed");
                return Err(error);
            }
        }
    }
    let endpoint = endpoints
        .iter()
        .map(|endpoint| endpoint.base.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Err(ImageError::Registry {
        reference: reference.to_string(),
        endpoint,
        message: failures.join("; "),
    })
}

async fn pull_from(
    store: &ImageStore,
    reference: &Reference,
    session: &Session,
) -> std::result::Result<ImageRecord, EndpointFailure> {
    let name = reference.to_string();
    let fatal = |error: ImageError| EndpointFailure::Fatal(error);
    let top = session
        .fetch_manifest(&reference.manifest_selector())
        .await
        .map_err(|error| match error {
            FetchError::NotFound(message) | FetchError::Unreachable(message) => {
                EndpointFailure::TryNext(message)
            }
            FetchError::Fatal(error) => EndpointFailure::Fatal(error),
        })?;
    let location = format!("{}/v2/{}/manifests", session.endpoint(), reference.path());
    let document = ManifestDocument::decode(top.content_type.as_deref(), &top.body)
        .map_err(|message| invalid(&name, format!("manifest {}: {message}", top.digest)))
        .map_err(fatal)?;
    store_bytes(store, &name, &top.digest, &top.body, &location).map_err(fatal)?;

    let (manifest_digest, manifest) = match document {
        ManifestDocument::Manifest(manifest) => (top.digest.clone(), manifest),
        ManifestDocument::Index(index) => {
            let platform = &store.inner.platform;
            let descriptor = select_platform(&index, platform).ok_or_else(|| {
                fatal(invalid(
                    &name,
                    format!(
                        "index {} has no manifest for {}/{}",
                        top.digest, platform.os, platform.architecture
                    ),
                ))
            })?;
            let fetched = session
                .fetch_manifest(descriptor.digest.as_str())
                .await
                .map_err(|e| fatal(e.into_image_error(&name, session.endpoint())))?;
            let manifest =
                match ManifestDocument::decode(fetched.content_type.as_deref(), &fetched.body) {
                    Ok(ManifestDocument::Manifest(manifest)) => manifest,
                    Ok(ManifestDocument::Index(_)) => {
                        return Err(fatal(invalid(
                            &name,
                            format!(
                                "index {} points at another index {}",
                                top.digest, fetched.digest
                            ),
                        )));
                    }
                    Err(message) => {
                        return Err(fatal(invalid(
                            &name,
                            format!("manifest {}: {message}", fetched.digest),
                        )));
                    }
                };
            store_bytes(store, &name, &fetched.digest, &fetched.body, &location).map_err(fatal)?;
            (fetched.digest, manifest)
        }
    };

    let record = fetch_image_content(
        store,
        reference,
        session,
        &manifest_digest,
        &manifest,
        &top.digest,
    )
    .await
    .map_err(fatal)?;
    store.commit(record).map_err(fatal)
}

/// Fetches config and layers of `manifest`, unpacks the layers and builds the record.
async fn fetch_image_content(
    store: &ImageStore,
    reference: &Reference,
    session: &Session,
    manifest_digest: &Digest,
    manifest: &Manifest,
    repo_digest: &Digest,
) -> Result<ImageRecord> {
    let name = reference.to_string();
    fetch_blob(store, &name, session, &manifest.config).await?;
    let config_path = store.blob_path(&manifest.config.digest);
    let config_bytes = std::fs::read(&config_path)
        .map_err(|e| ImageError::io("reading image config", &config_path, e))?;

    let repo_tags = reference.tagged_name().into_iter().collect();
    let repo_digests = vec![format!("{}@{repo_digest}", reference.repository())];
    let record = build_record(
        &name,
        manifest_digest,
        manifest,
        &config_bytes,
        repo_tags,
        repo_digests,
    )?;

    let mut tasks = JoinSet::new();
    for (descriptor, layer) in manifest.layers.iter().zip(&record.layers) {
        let (store, name, session) = (store.clone(), name.clone(), session.clone());
        let (descriptor, layer): (Descriptor, LayerRecord) = (descriptor.clone(), layer.clone());
        tasks.spawn(async move {
            fetch_blob(&store, &name, &session, &descriptor).await?;
            ensure_layer(&store, &name, &layer).await
        });
    }
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        let result =
            joined.unwrap_or_else(|e| Err(invalid(&name, format!("layer task failed: {e}"))));
        if let Err(error) = result {
            first_error.get_or_insert(error);
            tasks.abort_all();
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(record),
    }
}

/// Downloads blob `descriptor` into the store unless it is there already. Concurrent
/// calls for one digest take turns, so the second finds the blob stored.
async fn fetch_blob(
    store: &ImageStore,
    reference: &str,
    session: &Session,
    descriptor: &Descriptor,
) -> Result<()> {
    let digest = &descriptor.digest;
    let _guard = store.inner.locks.lock(&format!("blob:{digest}")).await;
    let target = store.blob_path(digest);
    if target.exists() {
        return Ok(());
    }
    let tmp = store.temp_path("blob");
    let fetched = session
        .fetch_blob(digest, Some(descriptor.size), &tmp)
        .await;
    if let Err(error) = fetched {
        let _ = std::fs::remove_file(&tmp);
        return Err(error.into_image_error(reference, session.endpoint()));
    }
    std::fs::rename(&tmp, &target).map_err(|e| ImageError::io("renaming blob into", &target, e))
}

fn invalid(reference: &str, message: String) -> ImageError {
    ImageError::InvalidImage {
        reference: reference.to_string(),
        message,
    }
}
