//! The image manager: applies `imagePullPolicy`, pulls through CRI (one pull at a
//! time when `serializeImagePulls`), and backs failing pulls off
//! (ErrImagePull, then ImagePullBackOff).
//!
//! The pod's imagePullSecrets go through the [`DockerKeyring`]: every credential
//! that matches the image is tried in turn as CRI AuthConfig until a pull
//! succeeds, and an image no credential matches is pulled anonymously.

use std::time::{Duration, SystemTime};

use client::rest::RestClient;
use cri::v1 as pb;
use k8s_openapi::api::core::v1::{Container, Pod, Secret};
use tokio::sync::Mutex;

use crate::backoff::Backoff;
use crate::credentialprovider::{AuthConfig, DockerKeyring};
use crate::remote::RemoteRuntime;

/// The reason an image is not available.
#[derive(Clone, Debug)]
pub struct ImageError {
    /// ErrImagePull, ImagePullBackOff, ErrImageNeverPull or InvalidImageName.
    pub reason: String,
    pub message: String,
    /// When a retry makes sense.
    pub retry_after: Option<Duration>,
}

pub struct ImageManager {
    runtime: RemoteRuntime,
    /// Reads imagePullSecrets; `None` pulls anonymously.
    client: Option<RestClient>,
    events: crate::events::Recorder,
    serialize: Option<Mutex<()>>,
    backoff: Backoff,
}

/// Returns the effective pull policy: the container's, else Always for `:latest` or
/// untagged images, else IfNotPresent.
pub fn pull_policy(container: &Container) -> String {
    if let Some(policy) = &container.image_pull_policy {
        return policy.clone();
    }
    let image = container.image.as_deref().unwrap_or_default();
    let name = image.split('@').next().unwrap_or_default();
    let last = name.rsplit('/').next().unwrap_or_default();
    match last.split_once(':') {
        Some((_, "latest")) | None if !image.contains('@') => "Always".to_string(),
        _ => "IfNotPresent".to_string(),
    }
}

impl ImageManager {
    pub fn new(
        runtime: RemoteRuntime,
        client: Option<RestClient>,
        serialize_pulls: bool,
        events: crate::events::Recorder,
    ) -> Self {
        Self {
            runtime,
            client,
            events,
            serialize: serialize_pulls.then(|| Mutex::new(())),
            backoff: Backoff::new(Duration::from_secs(10), Duration::from_secs(300)),
        }
    }

    /// Makes the container's image present and returns the runtime's reference to it.
    ///
    /// # Errors
    ///
    /// [`ImageError`] with the waiting reason to show.
    pub async fn ensure_image(
        &self,
        pod: &Pod,
        container: &Container,
        sandbox_config: &pb::PodSandboxConfig,
    ) -> Result<String, ImageError> {
        let image = container.image.clone().unwrap_or_default();
        if image.is_empty() {
            return Err(ImageError {
                reason: "InvalidImageName".to_string(),
                message: format!("container {} has no image", container.name),
                retry_after: None,
            });
        }
        let policy = pull_policy(container);
        let spec = pb::ImageSpec {
            image: image.clone(),
            ..Default::default()
        };
        let present = self.present(&spec).await;
        let field = crate::events::container_field(pod, &container.name);
        if policy != "Always"
            && let Some(image_ref) = present
        {
            self.events.normal(
                pod,
                field,
                "Pulled",
                format!("Container image {image:?} already present on machine"),
            );
            return Ok(image_ref);
        }
        if policy == "Never" {
            return Err(ImageError {
                reason: "ErrImageNeverPull".to_string(),
                message: format!(
                    "Container image {image:?} is not present with pull policy of Never"
                ),
                retry_after: None,
            });
        }

        let key = format!("{}_{image}", crate::kuberuntime::pod_uid(pod));
        let now = SystemTime::now();
        if let Some(left) = self.backoff.in_backoff_since(&key, now, now) {
            self.events.normal(
                pod,
                field,
                "BackOff",
                format!("Back-off pulling image {image:?}"),
            );
            return Err(ImageError {
                reason: "ImagePullBackOff".to_string(),
                message: format!("Back-off pulling image {image:?}"),
                retry_after: Some(left),
            });
        }
        let _guard = match &self.serialize {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        tracing::info!(image = %image, pod = %crate::kuberuntime::pod_full_name(pod), "pulling image");
        self.events.normal(
            pod,
            field.clone(),
            "Pulling",
            format!("Pulling image {image:?}"),
        );
        let pulled = match self.pull_credentials(pod, &image).await {
            Ok(credentials) => self.pull(&spec, sandbox_config, &credentials).await,
            Err(message) => Err(tonic::Status::invalid_argument(message)),
        };
        match pulled {
            Ok(response) => {
                self.backoff.reset(&key);
                self.events.normal(
                    pod,
                    field,
                    "Pulled",
                    format!("Successfully pulled image {image:?}"),
                );
                Ok(response)
            }
            Err(status) => {
                self.backoff.next(&key, SystemTime::now());
                self.events.warning(
                    pod,
                    field,
                    "Failed",
                    format!("Failed to pull image {image:?}: {}", status.message()),
                );
                Err(ImageError {
                    reason: "ErrImagePull".to_string(),
                    message: status.message().to_string(),
                    retry_after: Some(self.backoff.get(&key)),
                })
            }
        }
    }

    /// Pulls anonymously when `credentials` is empty, else with each credential in
    /// turn until one pull succeeds. Returns the image reference, or the error of
    /// the last attempt.
    async fn pull(
        &self,
        spec: &pb::ImageSpec,
        sandbox_config: &pb::PodSandboxConfig,
        credentials: &[AuthConfig],
    ) -> Result<String, tonic::Status> {
        let auths: Vec<Option<pb::AuthConfig>> = if credentials.is_empty() {
            vec![None]
        } else {
            credentials
                .iter()
                .map(|c| {
                    Some(pb::AuthConfig {
                        username: c.username.clone(),
                        password: c.password.clone(),
                        auth: c.auth.clone(),
                        server_address: c.server_address.clone(),
                        identity_token: c.identity_token.clone(),
                        registry_token: c.registry_token.clone(),
                    })
                })
                .collect()
        };
        let mut last_error = tonic::Status::unknown("no pull attempted");
        for auth in auths {
            let mut client = self.runtime.image.clone();
            let request = pb::PullImageRequest {
                image: Some(spec.clone()),
                auth,
                sandbox_config: Some(sandbox_config.clone()),
            };
            match client.pull_image(request).await {
                Ok(response) => return Ok(response.into_inner().image_ref),
                Err(status) => last_error = status,
            }
        }
        Err(last_error)
    }

    /// Reads the pod's imagePullSecrets and returns the credentials that match
    /// `image`. A secret that cannot be read is reported in an event and skipped,
    /// as upstream does, since the pull may still succeed without it.
    ///
    /// # Errors
    ///
    /// A message naming a pull secret with invalid data (upstream fails the pull
    /// for it too).
    async fn pull_credentials(&self, pod: &Pod, image: &str) -> Result<Vec<AuthConfig>, String> {
        let references = pod
            .spec
            .as_ref()
            .and_then(|s| s.image_pull_secrets.as_ref());
        let (Some(client), Some(references)) = (&self.client, references) else {
            return Ok(Vec::new());
        };
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        let mut secrets = Vec::new();
        let mut missing = Vec::new();
        for reference in references.iter().filter(|r| !r.name.is_empty()) {
            let path = format!("/api/v1/namespaces/{namespace}/secrets/{}", reference.name);
            match crate::api::get::<Secret>(client, &path).await {
                Ok(Some(secret)) => secrets.push(secret),
                Ok(None) => missing.push(format!("{}/{}", namespace, reference.name)),
                Err(error) => {
                    tracing::warn!(pod = %crate::kuberuntime::pod_full_name(pod), secret = %reference.name, %error, "failed to read image pull secret");
                    missing.push(format!("{}/{}", namespace, reference.name));
                }
            }
        }
        if !missing.is_empty() {
            self.events.warning(
                pod,
                None,
                "FailedToRetrieveImagePullSecret",
                format!(
                    "Unable to retrieve some image pull secrets ({}); attempting to pull the image may not succeed.",
                    missing.join(", ")
                ),
            );
        }
        Ok(DockerKeyring::from_secrets(&secrets)?.lookup(image))
    }

    async fn present(&self, spec: &pb::ImageSpec) -> Option<String> {
        let mut client = self.runtime.image.clone();
        let image = client
            .image_status(pb::ImageStatusRequest {
                image: Some(spec.clone()),
                verbose: false,
            })
            .await
            .ok()?
            .into_inner()
            .image?;
        Some(image.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_pull_policy() {
        let c = |image: &str| Container {
            image: Some(image.into()),
            ..Default::default()
        };
        assert_eq!(pull_policy(&c("busybox")), "Always");
        assert_eq!(pull_policy(&c("busybox:latest")), "Always");
        assert_eq!(pull_policy(&c("busybox:1.36")), "IfNotPresent");
        assert_eq!(pull_policy(&c("localhost:5000/busybox")), "Always");
        assert_eq!(pull_policy(&c("busybox@sha256:abc")), "IfNotPresent");
    }
}
