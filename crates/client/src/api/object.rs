//! The traits the typed client and the informers need of an object type: its metadata
//! ([`KubeObject`]) and where it is served ([`ApiResource`]).

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::cache::Object;
use crate::cache::reflector::ReflectedObject;

/// The Accept header that requests `PartialObjectMetadata` (or a
/// `PartialObjectMetadataList`) instead of whole objects.
pub const PARTIAL_OBJECT_METADATA_ACCEPT: &str =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

/// An API object with standard object metadata. Every k8s-openapi type with
/// `ObjectMeta` implements it, as do [`DynamicObject`] and [`PartialObjectMetadata`].
pub trait KubeObject: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Returns `metadata`.
    fn meta(&self) -> &ObjectMeta;

    /// Returns `metadata` for changing it.
    fn meta_mut(&mut self) -> &mut ObjectMeta;

    /// Sets `apiVersion` and `kind` where the type stores them and they are empty;
    /// an empty argument sets nothing. The server may leave them out of list items.
    /// k8s-openapi types imply both, so the default does nothing.
    fn set_type_meta_if_empty(&mut self, _api_version: &str, _kind: &str) {}
}

impl<K> KubeObject for K
where
    K: k8s_openapi::Metadata<Ty = ObjectMeta>
        + Serialize
        + DeserializeOwned
        + Clone
        + Send
        + Sync
        + 'static,
{
    fn meta(&self) -> &ObjectMeta {
        self.metadata()
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        self.metadata_mut()
    }
}

/// Informers cache objects behind `Arc`, so handlers and listers share one copy.
impl<K: KubeObject> Object for Arc<K> {
    fn namespace(&self) -> Option<&str> {
        self.meta().namespace.as_deref()
    }

    fn name(&self) -> &str {
        self.meta().name.as_deref().unwrap_or("")
    }

    fn resource_version(&self) -> &str {
        self.meta().resource_version.as_deref().unwrap_or("")
    }
}

/// Informers decode list items and watch objects straight into `Arc<K>`.
impl<K: KubeObject> ReflectedObject for Arc<K> {
    /// Stores a clone of the decoded `K`. serde_json learns an array's length only
    /// at its end, so a decoded `Vec` keeps the spare capacity of its growth (room for
    /// 4 small elements at least), while a clone allocates exactly what it holds.
    /// Informers keep objects until they change. A pod of the informer benchmark
    /// (2,056 bytes of JSON) takes 14,588 heap bytes this way instead of 16,924
    /// (k8s-openapi 0.29).
    type Decoded = K;

    fn from_decoded(decoded: K) -> Self {
        Arc::new(decoded.clone())
    }

    fn set_list_type(&mut self, kind: &str, api_version: &str) {
        // A freshly decoded object has no other owner yet.
        if let Some(obj) = Arc::get_mut(self) {
            obj.set_type_meta_if_empty(api_version, kind);
        }
    }
}

/// Fills each of `api_version` and `kind` from the matching argument when it is
/// empty and the argument is not.
fn fill_type_meta(api_version: &mut String, kind: &mut String, from: (&str, &str)) {
    if api_version.is_empty() {
        api_version.push_str(from.0);
    }
    if kind.is_empty() {
        kind.push_str(from.1);
    }
}

/// Whether a k8s-openapi scope marker type means namespaced.
pub trait ScopeKind {
    /// True for namespaced resources.
    const NAMESPACED: bool;
}

impl ScopeKind for k8s_openapi::NamespaceResourceScope {
    const NAMESPACED: bool = true;
}

impl ScopeKind for k8s_openapi::ClusterResourceScope {
    const NAMESPACED: bool = false;
}

impl ScopeKind for k8s_openapi::SubResourceScope {
    const NAMESPACED: bool = true;
}

/// The location of a resource: group, version, plural and scope, plus the kind its
/// objects carry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ApiResource {
    /// The API group, `""` for core.
    pub group: String,
    /// The version within the group.
    pub version: String,
    /// The kind of the objects, such as `Pod`.
    pub kind: String,
    /// The plural resource name in URLs, such as `pods`.
    pub plural: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
}

impl ApiResource {
    /// Describes the resource of a k8s-openapi type.
    pub fn of<K>() -> Self
    where
        K: k8s_openapi::Resource,
        K::Scope: ScopeKind,
    {
        Self {
            group: K::GROUP.to_string(),
            version: K::VERSION.to_string(),
            kind: K::KIND.to_string(),
            plural: K::URL_PATH_SEGMENT.to_string(),
            namespaced: <K::Scope as ScopeKind>::NAMESPACED,
        }
    }

    /// Returns `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Returns the group, version and plural as a GVR.
    pub fn gvr(&self) -> apimachinery::meta::GroupVersionResource {
        apimachinery::meta::GroupVersionResource::new(
            self.group.clone(),
            self.version.clone(),
            self.plural.clone(),
        )
    }

    /// Returns the collection path in `namespace`, or across all namespaces for
    /// `None` (and always for a cluster-scoped resource).
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        let mut path = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        if self.namespaced
            && let Some(namespace) = namespace.filter(|ns| !ns.is_empty())
        {
            path.push_str("/namespaces/");
            path.push_str(namespace);
        }
        path.push('/');
        path.push_str(&self.plural);
        path
    }
}

/// An object of any kind: its type, its metadata and everything else as JSON.
/// The dynamic client and dynamic informers use it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DynamicObject {
    /// `apiVersion`, empty when the server left it out (list items).
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    /// `kind`, empty when the server left it out.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Every other top-level field, such as `spec` and `status`.
    #[serde(flatten)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl KubeObject for DynamicObject {
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }

    fn set_type_meta_if_empty(&mut self, api_version: &str, kind: &str) {
        fill_type_meta(&mut self.api_version, &mut self.kind, (api_version, kind));
    }
}

/// meta.k8s.io/v1 `PartialObjectMetadata`: an object reduced to its type and
/// metadata, what the server returns for [`PARTIAL_OBJECT_METADATA_ACCEPT`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialObjectMetadata {
    /// `apiVersion`: `meta.k8s.io/v1` from the server.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    /// `kind`: `PartialObjectMetadata` from the server.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `metadata` of the object.
    #[serde(default)]
    pub metadata: ObjectMeta,
}

impl KubeObject for PartialObjectMetadata {
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }

    fn set_type_meta_if_empty(&mut self, api_version: &str, kind: &str) {
        fill_type_meta(&mut self.api_version, &mut self.kind, (api_version, kind));
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{Node, Pod};

    use super::*;

    #[test]
    fn paths_follow_group_and_scope() {
        let pods = ApiResource::of::<Pod>();
        assert_eq!(
            pods.collection_path(Some("ns")),
            "/api/v1/namespaces/ns/pods"
        );
        assert_eq!(pods.collection_path(None), "/api/v1/pods");
        let nodes = ApiResource::of::<Node>();
        assert!(!nodes.namespaced);
        assert_eq!(nodes.collection_path(Some("ns")), "/api/v1/nodes");
        let deployments = ApiResource::of::<Deployment>();
        assert_eq!(deployments.api_version(), "apps/v1");
        assert_eq!(
            deployments.collection_path(Some("a")),
            "/apis/apps/v1/namespaces/a/deployments"
        );
    }

    #[test]
    fn reflected_objects_hold_no_spare_capacity() {
        let json = serde_json::json!({
            "metadata": {"name": "a", "namespace": "b"},
            "spec": {
                "containers": [{"name": "main", "args": ["--a", "--b"]}],
                "tolerations": [{"key": "x"}, {"key": "y"}],
            },
        })
        .to_string();
        let decoded: Pod = serde_json::from_str(&json).unwrap();
        let spec = decoded.spec.as_ref().unwrap();
        assert!(
            spec.tolerations.as_ref().unwrap().capacity() > 2,
            "serde_json leaves room to grow, which the next assertions rely on"
        );

        let reflected = <Arc<Pod> as ReflectedObject>::from_json(json.as_bytes()).unwrap();
        assert_eq!(*reflected, decoded);
        let spec = reflected.spec.as_ref().unwrap();
        assert_eq!(spec.tolerations.as_ref().unwrap().capacity(), 2);
        assert_eq!(spec.containers[0].args.as_ref().unwrap().capacity(), 2);
    }

    #[test]
    fn list_type_fills_only_empty_type_meta() {
        let mut dynamic: Arc<DynamicObject> =
            ReflectedObject::from_json(br#"{"metadata": {"name": "a"}}"#).unwrap();
        dynamic.set_list_type("ConfigMap", "v1");
        assert_eq!(
            (dynamic.kind.as_str(), dynamic.api_version.as_str()),
            ("ConfigMap", "v1")
        );

        let mut partial: Arc<PartialObjectMetadata> = ReflectedObject::from_json(
            br#"{"kind": "PartialObjectMetadata", "metadata": {"name": "a"}}"#,
        )
        .unwrap();
        partial.set_list_type("Other", "");
        assert_eq!(partial.kind, "PartialObjectMetadata", "its own kind stays");
        assert_eq!(
            partial.api_version, "",
            "an unknown apiVersion sets nothing"
        );
    }

    #[test]
    fn dynamic_object_keeps_other_fields() {
        let value = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "b"},
            "data": {"k": "v"}
        });
        let obj: DynamicObject = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(Arc::new(obj.clone()).name(), "a");
        assert_eq!(obj.data["data"]["k"], "v");
        assert_eq!(serde_json::to_value(&obj).unwrap(), value);
    }
}
