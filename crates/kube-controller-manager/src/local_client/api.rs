//! A typed client for one resource: URL building from the k8s-openapi type and the
//! verbs controllers use (get, list, create, replace, status, patch, delete).

use std::marker::PhantomData;

use client::rest::{ClientError, PatchType, RestClient};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A k8s-openapi object with standard metadata that the typed client can send.
pub trait Resource:
    k8s_openapi::Resource
    + k8s_openapi::Metadata<Ty = ObjectMeta>
    + DeserializeOwned
    + Serialize
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<K> Resource for K where
    K: k8s_openapi::Resource
        + k8s_openapi::Metadata<Ty = ObjectMeta>
        + DeserializeOwned
        + Serialize
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// Returns the collection path of `K`, in `namespace` when given:
/// `/api/v1/namespaces/default/pods` or `/apis/apps/v1/deployments`.
pub fn collection_path<K: k8s_openapi::Resource>(namespace: Option<&str>) -> String {
    let prefix = if K::GROUP.is_empty() {
        format!("/api/{}", K::VERSION)
    } else {
        format!("/apis/{}/{}", K::GROUP, K::VERSION)
    };
    match namespace {
        Some(namespace) => format!("{prefix}/namespaces/{namespace}/{}", K::URL_PATH_SEGMENT),
        None => format!("{prefix}/{}", K::URL_PATH_SEGMENT),
    }
}

/// Query parameters of a list.
#[derive(Clone, Debug, Default)]
pub struct ListParams {
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
}

impl ListParams {
    /// Sets the label selector.
    pub fn labels(mut self, selector: &str) -> Self {
        self.label_selector = Some(selector.to_string());
        self
    }

    /// Sets the field selector.
    pub fn fields(mut self, selector: &str) -> Self {
        self.field_selector = Some(selector.to_string());
        self
    }
}

/// The body of a delete.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<i64>,
    /// `Orphan`, `Background` or `Foreground`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation_policy: Option<String>,
    /// Delete only if the object still has this uid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preconditions: Option<Preconditions>,
}

/// Preconditions of a delete.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// A typed client for objects of kind `K` in one namespace or across all.
pub struct Api<K> {
    client: RestClient,
    namespace: Option<String>,
    kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Api<K> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            namespace: self.namespace.clone(),
            kind: PhantomData,
        }
    }
}

impl<K: Resource> Api<K> {
    /// A client for `K` objects in `namespace`.
    pub fn namespaced(client: RestClient, namespace: &str) -> Self {
        Self {
            client,
            namespace: Some(namespace.to_string()),
            kind: PhantomData,
        }
    }

    /// A client for `K` objects of every namespace, or for a cluster-scoped `K`.
    pub fn all(client: RestClient) -> Self {
        Self {
            client,
            namespace: None,
            kind: PhantomData,
        }
    }

    fn collection(&self) -> String {
        collection_path::<K>(self.namespace.as_deref())
    }

    fn item(&self, name: &str) -> String {
        format!("{}/{name}", self.collection())
    }

    /// Reads the object `name`.
    ///
    /// # Errors
    /// The request's error; a missing object is a 404 [`ClientError::Api`].
    pub async fn get(&self, name: &str) -> Result<K, ClientError> {
        self.client.get(&self.item(name)).request_json().await
    }

    /// Reads the object `name`, returning `None` when it does not exist.
    ///
    /// # Errors
    /// Any error but a 404.
    pub async fn get_opt(&self, name: &str) -> Result<Option<K>, ClientError> {
        match self.get(name).await {
            Ok(object) => Ok(Some(object)),
            Err(err) if is_not_found(&err) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Lists the objects matching `params`.
    ///
    /// # Errors
    /// The request's error, or a decode error for an item that is not a `K`.
    pub async fn list(&self, params: &ListParams) -> Result<Vec<K>, ClientError> {
        let mut request = self.client.get(&self.collection());
        if let Some(selector) = &params.label_selector {
            request = request.query("labelSelector", selector);
        }
        if let Some(selector) = &params.field_selector {
            request = request.query("fieldSelector", selector);
        }
        let list: Value = request.request_json().await?;
        let items = list
            .get("items")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        serde_json::from_value(items).map_err(|source| ClientError::Decode {
            method: "GET".to_string(),
            url: self.collection(),
            source,
        })
    }

    /// Creates `object` and returns it as stored.
    ///
    /// # Errors
    /// The request's error; 409 AlreadyExists when the name is taken.
    pub async fn create(&self, object: &K) -> Result<K, ClientError> {
        self.client
            .post(&self.collection())
            .json(&with_type_meta(object))
            .request_json()
            .await
    }

    /// Replaces the object `name` with `object`, guarded by its resourceVersion.
    ///
    /// # Errors
    /// The request's error; 409 Conflict for a stale resourceVersion.
    pub async fn replace(&self, name: &str, object: &K) -> Result<K, ClientError> {
        self.client
            .put(&self.item(name))
            .json(&with_type_meta(object))
            .request_json()
            .await
    }

    /// Replaces the status subresource of `name`.
    ///
    /// # Errors
    /// As [`Api::replace`].
    pub async fn replace_status(&self, name: &str, object: &K) -> Result<K, ClientError> {
        self.client
            .put(&format!("{}/status", self.item(name)))
            .json(&with_type_meta(object))
            .request_json()
            .await
    }

    /// Patches the object `name`.
    ///
    /// # Errors
    /// The request's error.
    pub async fn patch(
        &self,
        name: &str,
        patch_type: PatchType,
        patch: &Value,
    ) -> Result<K, ClientError> {
        self.client
            .patch(&self.item(name), patch_type)
            .json(patch)
            .request_json()
            .await
    }

    /// Patches the status subresource of `name`.
    ///
    /// # Errors
    /// The request's error.
    pub async fn patch_status(
        &self,
        name: &str,
        patch_type: PatchType,
        patch: &Value,
    ) -> Result<K, ClientError> {
        self.client
            .patch(&format!("{}/status", self.item(name)), patch_type)
            .json(patch)
            .request_json()
            .await
    }

    /// Deletes the object `name`.
    ///
    /// # Errors
    /// The request's error; a missing object is a 404 [`ClientError::Api`].
    pub async fn delete(&self, name: &str, params: &DeleteParams) -> Result<(), ClientError> {
        let _: Value = self
            .client
            .delete(&self.item(name))
            .json(params)
            .request_json()
            .await?;
        Ok(())
    }
}

/// Serializes `object` with its apiVersion and kind set, which a create or update body
/// needs and which k8s-openapi types leave to their `Serialize` impl.
fn with_type_meta<K: Resource>(object: &K) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(K::API_VERSION.into()));
        map.insert("kind".into(), Value::String(K::KIND.into()));
    }
    value
}

/// Returns the HTTP status code of an API error, if `err` is one.
pub fn status_code(err: &ClientError) -> Option<i32> {
    match err {
        ClientError::Api(status) => Some(status.code()),
        _ => None,
    }
}

/// Whether `err` is a 404 from the server.
pub fn is_not_found(err: &ClientError) -> bool {
    status_code(err) == Some(404)
}

/// Whether `err` is a 409 AlreadyExists from the server.
pub fn is_already_exists(err: &ClientError) -> bool {
    matches!(err, ClientError::Api(status) if status.code() == 409 && status.reason().as_str() == "AlreadyExists")
}

/// Whether `err` is a 409 Conflict from the server.
pub fn is_conflict(err: &ClientError) -> bool {
    matches!(err, ClientError::Api(status) if status.code() == 409 && status.reason().as_str() == "Conflict")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{Node, Pod};

    #[test]
    fn collection_paths() {
        assert_eq!(
            collection_path::<Pod>(Some("default")),
            "/api/v1/namespaces/default/pods"
        );
        assert_eq!(
            collection_path::<Deployment>(None),
            "/apis/apps/v1/deployments"
        );
        assert_eq!(collection_path::<Node>(None), "/api/v1/nodes");
    }
}
