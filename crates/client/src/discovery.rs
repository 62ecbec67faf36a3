//! The discovery client: which groups, versions and resources the API server serves,
//! after client-go's cached discovery.
//!
//! Entry point: [`DiscoveryClient::new`], then [`DiscoveryClient::resources`] (cached
//! until [`DiscoveryClient::invalidate`]) or a lookup such as
//! [`DiscoveryClient::resolve`].
//!
//! It asks for aggregated discovery (apidiscovery.k8s.io/v2, two requests for
//! everything) and falls back to the legacy documents (`/api`, `/apis` and one
//! APIResourceList per group version) when the server does not offer it.

use std::sync::{Arc, Mutex};

use apimachinery::meta::GroupVersionResource;
use http::header::{ACCEPT, HeaderValue};
use serde::Deserialize;

use crate::api::ApiResource;
use crate::rest::{ClientError, RestClient};

/// The Accept header of aggregated discovery, with plain JSON as the fallback.
pub const AGGREGATED_DISCOVERY_ACCEPT: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// One served resource (not a subresource).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveredResource {
    /// Where it is served and its kind and scope.
    pub resource: ApiResource,
    /// The verbs it supports, such as `list` and `watch`.
    pub verbs: Vec<String>,
    /// Short names for command lines (`po`).
    pub short_names: Vec<String>,
    /// Categories such as `all`.
    pub categories: Vec<String>,
    /// Subresource names, such as `status` and `scale`.
    pub subresources: Vec<String>,
}

impl DiscoveredResource {
    /// Returns whether `verb` is supported.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }
}

/// One group with its versions, the preferred version first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveredGroup {
    /// The group name, `""` for core.
    pub name: String,
    /// The versions served, in the server's order of preference.
    pub versions: Vec<String>,
    /// Every resource of every version.
    pub resources: Vec<DiscoveredResource>,
}

impl DiscoveredGroup {
    /// Returns the preferred version.
    pub fn preferred_version(&self) -> Option<&str> {
        self.versions.first().map(String::as_str)
    }
}

/// Everything the server serves, as discovered at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Discovery {
    /// The groups, core first.
    pub groups: Vec<DiscoveredGroup>,
    /// Whether aggregated discovery answered (rather than the legacy documents).
    pub aggregated: bool,
}

impl Discovery {
    /// Returns every resource of every group and version.
    pub fn all_resources(&self) -> impl Iterator<Item = &DiscoveredResource> {
        self.groups.iter().flat_map(|g| g.resources.iter())
    }

    /// Returns the resources of each group's preferred version.
    pub fn preferred_resources(&self) -> Vec<&DiscoveredResource> {
        self.groups
            .iter()
            .flat_map(|group| {
                let preferred = group.preferred_version().unwrap_or_default().to_string();
                group
                    .resources
                    .iter()
                    .filter(move |r| r.resource.version == preferred)
            })
            .collect()
    }

    /// Looks a resource up by group, version and plural name.
    pub fn resolve(&self, gvr: &GroupVersionResource) -> Option<&DiscoveredResource> {
        self.all_resources().find(|r| {
            r.resource.group == gvr.group
                && r.resource.version == gvr.version
                && r.resource.plural == gvr.resource
        })
    }

    /// Looks a resource up by group, version and kind.
    pub fn resolve_kind(
        &self,
        group: &str,
        version: &str,
        kind: &str,
    ) -> Option<&DiscoveredResource> {
        self.all_resources().find(|r| {
            r.resource.group == group && r.resource.version == version && r.resource.kind == kind
        })
    }
}

/// Discovers the server's resources and caches the answer. Cloning shares the cache.
#[derive(Clone)]
pub struct DiscoveryClient {
    client: RestClient,
    cached: Arc<Mutex<Option<Arc<Discovery>>>>,
}

impl DiscoveryClient {
    /// Creates a client with an empty cache.
    pub fn new(client: RestClient) -> Self {
        Self {
            client,
            cached: Arc::new(Mutex::new(None)),
        }
    }

    /// Returns the cached discovery, fetching it first when there is none.
    ///
    /// # Errors
    /// Errors of the discovery requests.
    pub async fn resources(&self) -> Result<Arc<Discovery>, ClientError> {
        if let Some(cached) = self.lock().clone() {
            return Ok(cached);
        }
        self.refresh().await
    }

    /// Fetches discovery again and replaces the cache.
    ///
    /// # Errors
    /// Errors of the discovery requests.
    pub async fn refresh(&self) -> Result<Arc<Discovery>, ClientError> {
        let discovery = match self.aggregated().await {
            Ok(Some(discovery)) => discovery,
            Ok(None) => self.legacy().await?,
            Err(error) => {
                tracing::debug!(%error, "aggregated discovery failed, using the legacy documents");
                self.legacy().await?
            }
        };
        let discovery = Arc::new(discovery);
        *self.lock() = Some(discovery.clone());
        Ok(discovery)
    }

    /// Drops the cache; the next lookup fetches discovery again (after a CRD or an
    /// aggregated API appeared, for example).
    pub fn invalidate(&self) {
        *self.lock() = None;
    }

    /// Looks a resource up, refreshing the cache once when it is unknown.
    ///
    /// # Errors
    /// Errors of the discovery requests.
    pub async fn resolve(
        &self,
        gvr: &GroupVersionResource,
    ) -> Result<Option<DiscoveredResource>, ClientError> {
        if let Some(found) = self.resources().await?.resolve(gvr) {
            return Ok(Some(found.clone()));
        }
        Ok(self.refresh().await?.resolve(gvr).cloned())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<Discovery>>> {
        self.cached
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Both aggregated documents, or `None` when the server answered with the legacy
    /// format instead.
    async fn aggregated(&self) -> Result<Option<Discovery>, ClientError> {
        let mut groups = Vec::new();
        for path in ["/api", "/apis"] {
            let value: serde_json::Value = self
                .client
                .get(path)
                .header(
                    ACCEPT,
                    HeaderValue::from_static(AGGREGATED_DISCOVERY_ACCEPT),
                )
                .request_json()
                .await?;
            if value.get("kind").and_then(|k| k.as_str()) != Some("APIGroupDiscoveryList") {
                return Ok(None);
            }
            let list: AggregatedList =
                serde_json::from_value(value).map_err(|source| ClientError::Decode {
                    method: "GET".to_string(),
                    url: path.to_string(),
                    source,
                })?;
            for item in list.items {
                groups.push(item.into_group());
            }
        }
        Ok(Some(Discovery {
            groups,
            aggregated: true,
        }))
    }

    /// Fetches the legacy documents only, skipping aggregated discovery, and
    /// replaces the cache.
    ///
    /// # Errors
    /// Errors of the discovery requests.
    pub async fn refresh_legacy(&self) -> Result<Arc<Discovery>, ClientError> {
        let discovery = Arc::new(self.legacy().await?);
        *self.lock() = Some(discovery.clone());
        Ok(discovery)
    }

    async fn legacy(&self) -> Result<Discovery, ClientError> {
        let mut groups = Vec::new();
        let core: ApiVersions = self.client.get("/api").request_json().await?;
        let mut group = DiscoveredGroup {
            name: String::new(),
            versions: core.versions.clone(),
            resources: Vec::new(),
        };
        for version in &core.versions {
            group.resources.extend(
                self.resource_list("", version, &format!("/api/{version}"))
                    .await?,
            );
        }
        groups.push(group);

        let list: ApiGroupList = self.client.get("/apis").request_json().await?;
        for api_group in list.groups {
            let mut versions: Vec<String> = api_group
                .versions
                .iter()
                .map(|v| v.version.clone())
                .collect();
            if let Some(preferred) = &api_group.preferred_version
                && let Some(index) = versions.iter().position(|v| *v == preferred.version)
            {
                let preferred = versions.remove(index);
                versions.insert(0, preferred);
            }
            let mut group = DiscoveredGroup {
                name: api_group.name.clone(),
                versions: versions.clone(),
                resources: Vec::new(),
            };
            for version in &versions {
                let path = format!("/apis/{}/{}", api_group.name, version);
                match self.resource_list(&api_group.name, version, &path).await {
                    Ok(resources) => group.resources.extend(resources),
                    // One broken group version (an unavailable aggregated API) does
                    // not hide the rest, as client-go reports partial discovery.
                    Err(error) => {
                        tracing::warn!(group = %api_group.name, version, %error, "unable to retrieve the resources of a group version");
                    }
                }
            }
            groups.push(group);
        }
        Ok(Discovery {
            groups,
            aggregated: false,
        })
    }

    async fn resource_list(
        &self,
        group: &str,
        version: &str,
        path: &str,
    ) -> Result<Vec<DiscoveredResource>, ClientError> {
        let list: ApiResourceList = self.client.get(path).request_json().await?;
        let mut resources: Vec<DiscoveredResource> = Vec::new();
        let mut subresources: Vec<(String, String)> = Vec::new();
        for entry in list.resources {
            if let Some((parent, sub)) = entry.name.split_once('/') {
                subresources.push((parent.to_string(), sub.to_string()));
                continue;
            }
            resources.push(DiscoveredResource {
                resource: ApiResource {
                    group: group.to_string(),
                    version: version.to_string(),
                    kind: entry.kind,
                    plural: entry.name,
                    namespaced: entry.namespaced,
                },
                verbs: entry.verbs,
                short_names: entry.short_names,
                categories: entry.categories,
                subresources: Vec::new(),
            });
        }
        for (parent, sub) in subresources {
            if let Some(resource) = resources.iter_mut().find(|r| r.resource.plural == parent) {
                resource.subresources.push(sub);
            }
        }
        Ok(resources)
    }
}

#[derive(Deserialize)]
struct ApiVersions {
    #[serde(default)]
    versions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiGroupList {
    #[serde(default)]
    groups: Vec<ApiGroup>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiGroup {
    name: String,
    #[serde(default)]
    versions: Vec<GroupVersionForDiscovery>,
    preferred_version: Option<GroupVersionForDiscovery>,
}

#[derive(Deserialize)]
struct GroupVersionForDiscovery {
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiResourceList {
    #[serde(default)]
    resources: Vec<LegacyResource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacyResource {
    name: String,
    #[serde(default)]
    namespaced: bool,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    short_names: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
}

#[derive(Deserialize)]
struct AggregatedList {
    #[serde(default)]
    items: Vec<AggregatedGroup>,
}

#[derive(Deserialize, Default)]
struct NameOnly {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct AggregatedGroup {
    #[serde(default)]
    metadata: NameOnly,
    #[serde(default)]
    versions: Vec<AggregatedVersion>,
}

#[derive(Deserialize)]
struct AggregatedVersion {
    version: String,
    #[serde(default)]
    resources: Vec<AggregatedResource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AggregatedResource {
    resource: String,
    response_kind: Option<ResponseKind>,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    short_names: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    subresources: Vec<AggregatedSubresource>,
}

#[derive(Deserialize)]
struct ResponseKind {
    #[serde(default)]
    kind: String,
}

#[derive(Deserialize)]
struct AggregatedSubresource {
    subresource: String,
}

impl AggregatedGroup {
    fn into_group(self) -> DiscoveredGroup {
        let name = self.metadata.name;
        let versions = self.versions.iter().map(|v| v.version.clone()).collect();
        let mut resources = Vec::new();
        for version in self.versions {
            for r in version.resources {
                resources.push(DiscoveredResource {
                    resource: ApiResource {
                        group: name.clone(),
                        version: version.version.clone(),
                        kind: r.response_kind.map(|k| k.kind).unwrap_or_default(),
                        plural: r.resource,
                        namespaced: r.scope == "Namespaced",
                    },
                    verbs: r.verbs,
                    short_names: r.short_names,
                    categories: r.categories,
                    subresources: r.subresources.into_iter().map(|s| s.subresource).collect(),
                });
            }
        }
        DiscoveredGroup {
            name,
            versions,
            resources,
        }
    }
}
