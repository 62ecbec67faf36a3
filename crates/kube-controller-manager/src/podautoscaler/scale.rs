//! The autoscaler's view of its target: `spec.scaleTargetRef` resolved to a
//! resource through discovery, read and written through its `scale` subresource
//! (autoscaling/v1 Scale), as upstream's scale client does for any kind that
//! serves one (Deployments, ReplicaSets, StatefulSets, ReplicationControllers and
//! custom resources).

use client::api::{Api, DynamicObject};
use client::discovery::{Discovery, DiscoveryClient};
use client::rest::RestClient;
use k8s_openapi::api::autoscaling::v1::Scale;
use k8s_openapi::api::autoscaling::v2::CrossVersionObjectReference;

/// How many times a rescale is tried when the target changed in between
/// (client-go's `retry.DefaultRetry` steps).
const UPDATE_ATTEMPTS: usize = 5;

/// A failure to read the target's scale. Each variant's text is the error
/// upstream reports, and [`ScaleError::context`] returns the prefix of the sync
/// error.
#[derive(Debug, thiserror::Error)]
pub enum ScaleError {
    /// `scaleTargetRef.apiVersion` is not `group/version` or `version`.
    #[error("unexpected GroupVersion string: {0}")]
    InvalidApiVersion(String),
    /// No served resource has this group and kind.
    #[error("no matches for kind {kind:?} in group {group:?}")]
    NoMatch { group: String, kind: String },
    /// Discovery or the scale request failed.
    #[error("{0}")]
    Request(String),
}

impl ScaleError {
    /// Returns the prefix upstream puts before this error in the sync error.
    pub fn context(&self, reference: &str) -> String {
        match self {
            ScaleError::InvalidApiVersion(_) => {
                "invalid API version in scale target reference".to_string()
            }
            ScaleError::NoMatch { .. } => {
                "unable to determine resource for scale target reference".to_string()
            }
            ScaleError::Request(_) => {
                format!("failed to query scale subresource for {reference}")
            }
        }
    }
}

/// A resolved target: the client of its resource and its current scale.
pub struct ScaleTarget {
    api: Api<DynamicObject>,
    name: String,
    /// The scale as last read or written.
    pub scale: Scale,
}

/// Resolves `target` in `namespace` and reads its scale. Every version of the
/// resource is tried, the preferred first; the first error is returned.
///
/// # Errors
/// [`ScaleError`] when the reference is invalid, the kind is not served, or every
/// scale read fails.
pub async fn get_scale(
    client: &RestClient,
    discovery: &DiscoveryClient,
    namespace: &str,
    target: &CrossVersionObjectReference,
) -> Result<ScaleTarget, ScaleError> {
    let group = group_of(target.api_version.as_deref().unwrap_or_default())?;
    let mut candidates = match discovery.resources().await {
        Ok(found) => resources_for_kind(&found, &group, &target.kind),
        Err(_) => Vec::new(),
    };
    if candidates.is_empty() {
        // The kind may be new (a CRD installed after the last discovery).
        let found = discovery
            .refresh()
            .await
            .map_err(|err| ScaleError::Request(err.to_string()))?;
        candidates = resources_for_kind(&found, &group, &target.kind);
    }
    if candidates.is_empty() {
        return Err(ScaleError::NoMatch {
            group,
            kind: target.kind.clone(),
        });
    }

    let mut first_error = None;
    for resource in candidates {
        let api = Api::<DynamicObject>::with_resource(client.clone(), resource, Some(namespace));
        match api.get_scale(&target.name).await {
            Ok(scale) => {
                return Ok(ScaleTarget {
                    api,
                    name: target.name.clone(),
                    scale,
                });
            }
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    Err(ScaleError::Request(first_error.map_or_else(
        || "unrecognized resource".to_string(),
        |err| err.to_string(),
    )))
}

impl ScaleTarget {
    /// Writes `replicas` into the scale, reading it again and retrying when the
    /// target changed since it was read.
    ///
    /// # Errors
    /// The last update error, as text.
    pub async fn update_replicas(&mut self, replicas: i32) -> Result<(), String> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut scale = self.scale.clone();
            scale.spec.get_or_insert_with(Default::default).replicas = Some(replicas);
            match self.api.replace_scale(&self.name, &scale).await {
                Ok(updated) => {
                    self.scale = updated;
                    return Ok(());
                }
                Err(err) if err.is_conflict() && attempt < UPDATE_ATTEMPTS => {
                    match self.api.get_scale(&self.name).await {
                        Ok(latest) => self.scale = latest,
                        Err(get_err) => {
                            tracing::warn!(name = %self.name, error = %get_err, "failed to read the latest scale after a conflict");
                        }
                    }
                }
                Err(err) => return Err(err.to_string()),
            }
        }
    }

    /// `spec.replicas` of the scale.
    pub fn spec_replicas(&self) -> i32 {
        self.scale
            .spec
            .as_ref()
            .and_then(|spec| spec.replicas)
            .unwrap_or(0)
    }

    /// `status.replicas` of the scale.
    pub fn status_replicas(&self) -> i32 {
        self.scale
            .status
            .as_ref()
            .map_or(0, |status| status.replicas)
    }

    /// `status.selector` of the scale, empty when unset.
    pub fn selector(&self) -> &str {
        self.scale
            .status
            .as_ref()
            .and_then(|status| status.selector.as_deref())
            .unwrap_or_default()
    }
}

/// Returns the group of an `apiVersion` (`apps/v1` gives `apps`, `v1` gives the
/// core group).
fn group_of(api_version: &str) -> Result<String, ScaleError> {
    match api_version.split('/').collect::<Vec<_>>().as_slice() {
        [""] | [_] => Ok(String::new()),
        [group, version] if !group.is_empty() && !version.is_empty() => Ok(group.to_string()),
        _ => Err(ScaleError::InvalidApiVersion(api_version.to_string())),
    }
}

/// Returns the resources serving `kind` in `group`, in the group's version
/// preference order.
fn resources_for_kind(
    discovery: &Discovery,
    group: &str,
    kind: &str,
) -> Vec<client::api::ApiResource> {
    let Some(found) = discovery.groups.iter().find(|found| found.name == group) else {
        return Vec::new();
    };
    let mut matches: Vec<_> = found
        .resources
        .iter()
        .filter(|resource| resource.resource.kind == kind)
        .map(|resource| resource.resource.clone())
        .collect();
    matches.sort_by_key(|resource| {
        found
            .versions
            .iter()
            .position(|version| *version == resource.version)
            .unwrap_or(usize::MAX)
    });
    matches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_parse_to_groups() {
        assert_eq!(group_of("apps/v1").expect("valid"), "apps");
        assert_eq!(group_of("v1").expect("valid"), "");
        assert_eq!(group_of("").expect("valid"), "");
        assert!(group_of("a/b/c").is_err());
        assert!(group_of("/v1").is_err());
    }
}
