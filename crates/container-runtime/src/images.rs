//! The image store seam: what ImageService and CreateContainer need from images.
//!
//! [`ImageStore`] is implemented by the registry-backed [`crate::image::ImageStore`]; the
//! trait keeps the CRI layer independent of how images are fetched and stored.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::image::{self, Credentials, ImageError};

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
    /// Size in bytes as the registry reports it (config plus compressed layers).
    pub size: u64,
    /// The image's user when numeric.
    pub uid: Option<i64>,
    /// The image's user when it is a name.
    pub username: String,
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

/// Usage of the filesystem that contains the images.
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

fn image_error(error: ImageError) -> Error {
    match error {
        ImageError::NotFound(_) => Error::NotFound(error.to_string()),
        ImageError::InvalidReference(_) => Error::InvalidArgument(error.to_string()),
        other => Error::Internal(other.to_string()),
    }
}

fn image_info(record: image::ImageRecord) -> ImageInfo {
    let config = record.config;
    ImageInfo {
        id: record.id.to_string(),
        repo_tags: record.repo_tags,
        repo_digests: record.repo_digests,
        size: record.size,
        uid: record.uid,
        username: record.username,
        config: ImageConfig {
            env: config.env.unwrap_or_default(),
            entrypoint: config.entrypoint.unwrap_or_default(),
            cmd: config.cmd.unwrap_or_default(),
            working_dir: config.working_dir,
            user: config.user,
            stop_signal: config.stop_signal,
        },
    }
}

/// Turns CRI `AuthConfig` fields into registry credentials: a registry token wins, then
/// username and password, then the base64 `auth` pair.
fn credentials(auth: &RegistryAuth) -> Result<Option<Credentials>> {
    if !auth.registry_token.is_empty() {
        return Ok(Some(Credentials::RegistryToken(
            auth.registry_token.clone(),
        )));
    }
    if !auth.username.is_empty() {
        return Ok(Some(Credentials::Basic {
            username: auth.username.clone(),
            password: auth.password.clone(),
        }));
    }
    if !auth.auth.is_empty() {
        use base64::Engine;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.auth.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                Error::InvalidArgument("auth is not base64 of username:password".into())
            })?;
        let (username, password) = decoded.split_once(':').ok_or_else(|| {
            Error::InvalidArgument("auth is not base64 of username:password".into())
        })?;
        return Ok(Some(Credentials::Basic {
            username: username.into(),
            password: password.into(),
        }));
    }
    // NOTE: identity_token (an OAuth refresh token) is not exchanged for an access token.
    Ok(None)
}

#[async_trait::async_trait]
impl ImageStore for image::ImageStore {
    async fn pull(&self, reference: &str, auth: Option<&RegistryAuth>) -> Result<String> {
        let credentials = match auth {
            Some(auth) => credentials(auth)?,
            None => None,
        };
        let record = image::ImageStore::pull(self, reference, credentials)
            .await
            .map_err(image_error)?;
        Ok(record.id.to_string())
    }

    async fn list(&self) -> Result<Vec<ImageInfo>> {
        Ok(image::ImageStore::list(self)
            .into_iter()
            .map(image_info)
            .collect())
    }

    async fn status(&self, reference: &str) -> Result<Option<ImageInfo>> {
        Ok(image::ImageStore::status(self, reference)
            .map_err(image_error)?
            .map(image_info))
    }

    async fn remove(&self, reference: &str) -> Result<()> {
        image::ImageStore::remove(self, reference)
            .await
            .map_err(image_error)?;
        Ok(())
    }

    async fn fs_info(&self) -> Result<FsUsage> {
        let usage = image::ImageStore::fs_info(self)
            .await
            .map_err(image_error)?;
        Ok(FsUsage {
            mountpoint: usage.mountpoint.display().to_string(),
            used_bytes: usage.used_bytes,
            inodes_used: usage.inodes_used,
        })
    }

    async fn prepare_rootfs(
        &self,
        reference: &str,
        container_id: &str,
        target: &Path,
    ) -> Result<ImageInfo> {
        let record = image::ImageStore::status(self, reference)
            .map_err(image_error)?
            .ok_or_else(|| Error::NotFound(format!("image {reference:?} not found")))?;
        image::ImageStore::prepare_rootfs(self, reference, container_id, target)
            .await
            .map_err(image_error)?;
        Ok(image_info(record))
    }

    async fn remove_rootfs(&self, container_id: &str, target: &Path) -> Result<()> {
        image::ImageStore::release_rootfs(self, container_id)
            .await
            .map_err(image_error)?;
        match std::fs::remove_dir(target) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                tracing::warn!(container_id, path = %target.display(), %error, "failed to remove rootfs mount point");
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_prefer_token_then_basic_then_auth() {
        let token = RegistryAuth {
            registry_token: "t".into(),
            username: "u".into(),
            ..Default::default()
        };
        assert!(
            matches!(credentials(&token).unwrap(), Some(Credentials::RegistryToken(t)) if t == "t")
        );
        let basic = RegistryAuth {
            username: "u".into(),
            password: "p".into(),
            ..Default::default()
        };
        assert!(
            matches!(credentials(&basic).unwrap(), Some(Credentials::Basic { username, password }) if username == "u" && password == "p")
        );
        let encoded = RegistryAuth {
            auth: "dTpwOnE=".into(),
            ..Default::default()
        };
        assert!(
            matches!(credentials(&encoded).unwrap(), Some(Credentials::Basic { username, password }) if username == "u" && password == "p:q")
        );
        let invalid = RegistryAuth {
            auth: "!!".into(),
            ..Default::default()
        };
        assert!(credentials(&invalid).is_err());
        assert!(credentials(&RegistryAuth::default()).unwrap().is_none());
    }
}
