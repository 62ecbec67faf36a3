//! Discovery of the API resources the garbage collector and the namespace
//! controller operate on, and the mapping from an owner reference's
//! `apiVersion`/`kind` to a resource path.
//!
//! Entry point: [`discover`], which reads `/api` and `/apis` and every group version
//! they name, then [`RestMapper`] over its result.

use client::rest::{ClientError, RestClient};
use serde::Deserialize;

use crate::objectapi::collection_path;

/// One resource of one group version, as discovery describes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiResource {
    pub group: String,
    pub version: String,
    pub kind: String,
    /// The plural resource name, such as `replicasets`.
    pub plural: String,
    pub namespaced: bool,
    pub verbs: Vec<String>,
    /// Whether `version` is the group's preferred version.
    pub preferred: bool,
}

impl ApiResource {
    /// Returns `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Returns whether discovery lists every verb of `verbs` for the resource.
    pub fn supports(&self, verbs: &[&str]) -> bool {
        verbs
            .iter()
            .all(|verb| self.verbs.iter().any(|have| have == verb))
    }

    /// Returns the collection path, in `namespace` when the resource is namespaced
    /// and `namespace` is not empty.
    pub fn collection(&self, namespace: &str) -> String {
        let namespace = if self.namespaced { namespace } else { "" };
        collection_path(&self.group, &self.version, namespace, &self.plural)
    }

    /// Returns the path of one object.
    pub fn object_path(&self, namespace: &str, name: &str) -> String {
        format!("{}/{name}", self.collection(namespace))
    }

    /// Returns `plural.group` (or `plural` for the core group), for logs.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

/// The result of one discovery pass: the resources found and the group versions that
/// could not be read.
#[derive(Debug, Default, Clone)]
pub struct Discovery {
    pub resources: Vec<ApiResource>,
    /// `group/version` and error of each group version whose resource list failed.
    pub failed: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct ApiVersions {
    #[serde(default)]
    versions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupList {
    #[serde(default)]
    groups: Vec<Group>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    name: String,
    #[serde(default)]
    versions: Vec<GroupVersionForDiscovery>,
    preferred_version: Option<GroupVersionForDiscovery>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupVersionForDiscovery {
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceList {
    #[serde(default)]
    resources: Vec<ResourceEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceEntry {
    name: String,
    kind: String,
    #[serde(default)]
    namespaced: bool,
    #[serde(default)]
    verbs: Vec<String>,
}

/// Reads every group version the server serves. A group version whose resource list
/// fails is recorded in [`Discovery::failed`] and skipped.
///
/// # Errors
/// The client's error when `/api` or `/apis` cannot be read.
pub async fn discover(client: &RestClient) -> Result<Discovery, ClientError> {
    let mut discovery = Discovery::default();
    let core: ApiVersions = client.get("/api").request_json().await?;
    let groups: GroupList = client.get("/apis").request_json().await?;

    let mut group_versions: Vec<(String, String, bool)> = core
        .versions
        .iter()
        .map(|version| (String::new(), version.clone(), version == "v1"))
        .collect();
    for group in groups.groups {
        let preferred = group
            .preferred_version
            .as_ref()
            .map(|v| v.version.clone())
            .or_else(|| group.versions.first().map(|v| v.version.clone()))
            .unwrap_or_default();
        for version in group.versions {
            let is_preferred = version.version == preferred;
            group_versions.push((group.name.clone(), version.version, is_preferred));
        }
    }

    for (group, version, preferred) in group_versions {
        let path = crate::objectapi::group_version_prefix(&group, &version);
        match client.get(&path).request_json::<ResourceList>().await {
            Ok(list) => {
                for entry in list.resources {
                    if entry.name.contains('/') {
                        continue;
                    }
                    discovery.resources.push(ApiResource {
                        group: group.clone(),
                        version: version.clone(),
                        kind: entry.kind,
                        plural: entry.name,
                        namespaced: entry.namespaced,
                        verbs: entry.verbs,
                        preferred,
                    });
                }
            }
            Err(error) => {
                let group_version = if group.is_empty() {
                    version.clone()
                } else {
                    format!("{group}/{version}")
                };
                discovery.failed.push((group_version, error.to_string()));
            }
        }
    }
    Ok(discovery)
}

/// Maps `apiVersion` + `kind` to a resource, preferring the exact version and falling
/// back to the group's preferred version of the same kind.
#[derive(Debug, Default, Clone)]
pub struct RestMapper {
    resources: Vec<ApiResource>,
}

impl RestMapper {
    pub fn new(resources: Vec<ApiResource>) -> Self {
        Self { resources }
    }

    /// Returns the resource serving `kind` in `api_version`, or `None`.
    pub fn resource_for(&self, api_version: &str, kind: &str) -> Option<&ApiResource> {
        let (group, version) = split_api_version(api_version);
        let same_kind = |resource: &&ApiResource| resource.group == group && resource.kind == kind;
        self.resources
            .iter()
            .filter(same_kind)
            .find(|resource| resource.version == version)
            .or_else(|| {
                self.resources
                    .iter()
                    .filter(same_kind)
                    .find(|resource| resource.preferred)
            })
    }
}

/// Splits `group/version` (or `version` for the core group).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}
