//! API discovery: the legacy documents (`/api`, `/apis`, `/apis/<group>`, and one
//! APIResourceList per group version) and aggregated discovery
//! (apidiscovery.k8s.io/v2 and v2beta1), built once from the resources actually served.

use std::collections::BTreeMap;

use apimachinery::scheme::{self, ResourceInfo};
use bytes::Bytes;
use serde_json::{Value, json};

/// The media type parameters that ask for aggregated discovery.
pub const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
pub const AGGREGATED_V2BETA1: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

/// A served resource and the subresources served for it.
#[derive(Clone, Debug)]
pub struct ServedResource {
    pub info: &'static ResourceInfo,
    pub subresources: Vec<&'static str>,
}

/// Every discovery document, encoded once.
pub struct Discovery {
    pub api_versions: Bytes,
    pub api_group_list: Bytes,
    pub groups: BTreeMap<String, Bytes>,
    pub resource_lists: BTreeMap<String, Bytes>,
    pub aggregated_legacy: BTreeMap<&'static str, Bytes>,
    pub aggregated_apis: BTreeMap<&'static str, Bytes>,
}

impl Discovery {
    /// Builds the documents for `served`, advertising `server_address` (host:port).
    pub fn new(served: &[ServedResource], server_address: &str) -> Discovery {
        let mut by_group_version: BTreeMap<(String, String), Vec<&ServedResource>> =
            BTreeMap::new();
        for resource in served {
            by_group_version
                .entry((
                    resource.info.group.to_string(),
                    resource.info.version.to_string(),
                ))
                .or_default()
                .push(resource);
        }

        let api_versions = json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
        });

        // Groups in upstream's order, with only the versions served.
        let mut group_documents = Vec::new();
        let mut groups = BTreeMap::new();
        for group in scheme::API_GROUPS
            .iter()
            .filter(|group| !group.name.is_empty())
        {
            let versions: Vec<&str> = group
                .versions
                .iter()
                .copied()
                .filter(|version| {
                    by_group_version.contains_key(&(group.name.to_string(), version.to_string()))
                })
                .collect();
            let Some(preferred) = versions.first() else {
                continue;
            };
            let version_entry = |version: &str| json!({"groupVersion": format!("{}/{version}", group.name), "version": version});
            let document = json!({
                "name": group.name,
                "versions": versions.iter().map(|version| version_entry(version)).collect::<Vec<_>>(),
                "preferredVersion": version_entry(preferred),
            });
            let mut standalone = json!({"kind": "APIGroup", "apiVersion": "v1"});
            merge(&mut standalone, &document);
            groups.insert(group.name.to_string(), to_bytes(&standalone));
            group_documents.push(document);
        }
        let api_group_list =
            json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": group_documents});

        let mut resource_lists = BTreeMap::new();
        for ((group, version), resources) in &by_group_version {
            let group_version = if group.is_empty() {
                version.clone()
            } else {
                format!("{group}/{version}")
            };
            let mut entries = Vec::new();
            for resource in resources {
                entries.push(resource_entry(resource.info));
                for name in &resource.subresources {
                    if let Some(sub) = resource.info.subresource(name) {
                        let mut entry = json!({
                            "name": format!("{}/{}", resource.info.resource, sub.name),
                            "singularName": "",
                            "namespaced": resource.info.namespaced,
                            "kind": sub.kind,
                            "verbs": sub.verbs,
                        });
                        if !sub.group.is_empty() || !sub.version.is_empty() {
                            entry["group"] = json!(sub.group);
                            entry["version"] = json!(sub.version);
                        }
                        entries.push(entry);
                    }
                }
            }
            let list = json!({
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": group_version,
                "resources": entries,
            });
            resource_lists.insert(group_version, to_bytes(&list));
        }

        let mut aggregated_legacy = BTreeMap::new();
        let mut aggregated_apis = BTreeMap::new();
        for version in ["v2", "v2beta1"] {
            aggregated_legacy.insert(
                version,
                to_bytes(&aggregated(version, true, &by_group_version)),
            );
            aggregated_apis.insert(
                version,
                to_bytes(&aggregated(version, false, &by_group_version)),
            );
        }

        Discovery {
            api_versions: to_bytes(&api_versions),
            api_group_list: to_bytes(&api_group_list),
            groups,
            resource_lists,
            aggregated_legacy,
            aggregated_apis,
        }
    }
}

fn resource_entry(info: &ResourceInfo) -> Value {
    let mut entry = json!({
        "name": info.resource,
        "singularName": info.singular,
        "namespaced": info.namespaced,
        "kind": info.kind,
        "verbs": info.verbs,
    });
    if !info.short_names.is_empty() {
        entry["shortNames"] = json!(info.short_names);
    }
    if !info.categories.is_empty() {
        entry["categories"] = json!(info.categories);
    }
    entry
}

/// Builds an APIGroupDiscoveryList for the core group (`legacy`) or the named groups.
fn aggregated(
    version: &str,
    legacy: bool,
    by_group_version: &BTreeMap<(String, String), Vec<&ServedResource>>,
) -> Value {
    let mut items = Vec::new();
    for group in scheme::API_GROUPS
        .iter()
        .filter(|group| group.name.is_empty() == legacy)
    {
        let mut versions = Vec::new();
        for group_version in group.versions {
            let Some(resources) =
                by_group_version.get(&(group.name.to_string(), group_version.to_string()))
            else {
                continue;
            };
            let resources: Vec<Value> = resources
                .iter()
                .map(|resource| aggregated_resource(resource))
                .collect();
            versions.push(
                json!({"version": group_version, "resources": resources, "freshness": "Current"}),
            );
        }
        if versions.is_empty() {
            continue;
        }
        let mut metadata = json!({"creationTimestamp": null});
        if !legacy {
            metadata["name"] = json!(group.name);
        }
        items.push(json!({"metadata": metadata, "versions": versions}));
    }
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    })
}

fn aggregated_resource(resource: &ServedResource) -> Value {
    let info = resource.info;
    let mut entry = json!({
        "resource": info.resource,
        "responseKind": {"group": info.group, "version": info.version, "kind": info.kind},
        "scope": if info.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": info.singular,
        "verbs": info.verbs,
    });
    if !info.short_names.is_empty() {
        entry["shortNames"] = json!(info.short_names);
    }
    if !info.categories.is_empty() {
        entry["categories"] = json!(info.categories);
    }
    let subresources: Vec<Value> = resource
        .subresources
        .iter()
        .filter_map(|name| info.subresource(name))
        .map(|sub| {
            let group = if sub.group.is_empty() && sub.version.is_empty() {
                info.group
            } else {
                sub.group
            };
            let version = if sub.version.is_empty() {
                info.version
            } else {
                sub.version
            };
            json!({
                "subresource": sub.name,
                "responseKind": {"group": group, "version": version, "kind": sub.kind},
                "verbs": sub.verbs,
            })
        })
        .collect();
    if !subresources.is_empty() {
        entry["subresources"] = json!(subresources);
    }
    entry
}

fn merge(target: &mut Value, source: &Value) {
    if let (Some(target), Some(source)) = (target.as_object_mut(), source.as_object()) {
        for (key, value) in source {
            target.insert(key.clone(), value.clone());
        }
    }
}

fn to_bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

/// Returns the aggregated discovery version an Accept header asks for, if any.
pub fn aggregated_version(accept: &str) -> Option<&'static str> {
    for media_type in accept.split(',') {
        let parameters: Vec<String> = media_type
            .split(';')
            .map(|part| part.trim().to_ascii_lowercase())
            .collect();
        if parameters.first().map(String::as_str) != Some("application/json") {
            continue;
        }
        let has = |wanted: &str| parameters.iter().any(|parameter| parameter == wanted);
        if has("g=apidiscovery.k8s.io") && has("as=apigroupdiscoverylist") {
            if has("v=v2") {
                return Some("v2");
            }
            if has("v=v2beta1") {
                return Some("v2beta1");
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served() -> Vec<ServedResource> {
        ["pods", "configmaps"]
            .into_iter()
            .map(|resource| ServedResource {
                info: scheme::find_by_gvr("", "v1", resource).unwrap(),
                subresources: if resource == "pods" {
                    vec!["status"]
                } else {
                    vec![]
                },
            })
            .chain(std::iter::once(ServedResource {
                info: scheme::find_by_gvr("apps", "v1", "deployments").unwrap(),
                subresources: vec!["status"],
            }))
            .collect()
    }

    #[test]
    fn legacy_documents_list_served_resources() {
        let discovery = Discovery::new(&served(), "127.0.0.1:6443");
        let core: Value = serde_json::from_slice(&discovery.resource_lists["v1"]).unwrap();
        let names: Vec<&str> = core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["pods", "pods/status", "configmaps"]);
        assert_eq!(core["resources"][0]["shortNames"], json!(["po"]));

        let groups: Value = serde_json::from_slice(&discovery.api_group_list).unwrap();
        assert_eq!(groups["groups"][0]["name"], "apps");
        assert_eq!(
            groups["groups"][0]["preferredVersion"]["groupVersion"],
            "apps/v1"
        );
        assert!(discovery.groups.contains_key("apps"));
        assert!(
            !discovery.groups.contains_key("batch"),
            "unserved groups are not listed"
        );
    }

    #[test]
    fn aggregated_documents_carry_subresources() {
        let discovery = Discovery::new(&served(), "127.0.0.1:6443");
        let apis: Value = serde_json::from_slice(&discovery.aggregated_apis["v2"]).unwrap();
        assert_eq!(apis["apiVersion"], "apidiscovery.k8s.io/v2");
        assert_eq!(apis["items"][0]["metadata"]["name"], "apps");
        let deployment = &apis["items"][0]["versions"][0]["resources"][0];
        assert_eq!(deployment["scope"], "Namespaced");
        assert_eq!(deployment["subresources"][0]["subresource"], "status");
    }

    #[test]
    fn accept_header_selects_aggregated_version() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(aggregated_version(kubectl), Some("v2"));
        assert_eq!(aggregated_version(AGGREGATED_V2BETA1), Some("v2beta1"));
        assert_eq!(aggregated_version("application/json"), None);
    }
}
