//! Typed reads and writes of k8s-openapi objects through the [`RestClient`], shared by
//! the lifecycle and networking controllers.
//!
//! Entry point: [`ObjectApi::namespaced`] or [`ObjectApi::cluster`], then `get`,
//! `create`, `replace`, `replace_status`, `patch` or `delete`. Paths follow the
//! resource's group, version and plural from [`k8s_openapi::Resource`].

use std::marker::PhantomData;

use client::rest::{ClientError, PatchType, RestClient};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The collection of one resource type in one namespace, or cluster-wide.
pub struct ObjectApi<K> {
    client: RestClient,
    collection: String,
    kind: PhantomData<fn() -> K>,
}

impl<K> Clone for ObjectApi<K> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            collection: self.collection.clone(),
            kind: PhantomData,
        }
    }
}

/// Returns `/api/v1` or `/apis/{group}/{version}`.
pub fn group_version_prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// Returns the collection path of a resource, in `namespace` when it is not empty.
pub fn collection_path(group: &str, version: &str, namespace: &str, plural: &str) -> String {
    let prefix = group_version_prefix(group, version);
    if namespace.is_empty() {
        format!("{prefix}/{plural}")
    } else {
        format!("{prefix}/namespaces/{namespace}/{plural}")
    }
}

impl<K> ObjectApi<K>
where
    K: k8s_openapi::Resource + Serialize + DeserializeOwned,
{
    /// Returns the collection of `K` in `namespace`.
    pub fn namespaced(client: RestClient, namespace: &str) -> Self {
        Self::at(client, namespace)
    }

    /// Returns the cluster-wide collection of `K` (cluster-scoped kinds, or all
    /// namespaces).
    pub fn cluster(client: RestClient) -> Self {
        Self::at(client, "")
    }

    fn at(client: RestClient, namespace: &str) -> Self {
        Self {
            client,
            collection: collection_path(K::GROUP, K::VERSION, namespace, K::URL_PATH_SEGMENT),
            kind: PhantomData,
        }
    }

    fn item(&self, name: &str) -> String {
        format!("{}/{name}", self.collection)
    }

    /// Reads one object.
    ///
    /// # Errors
    /// The client's error, [`ClientError::Api`] with 404 when it does not exist.
    pub async fn get(&self, name: &str) -> Result<K, ClientError> {
        self.client.get(&self.item(name)).request_json().await
    }

    /// Reads one object; `None` when it does not exist.
    ///
    /// # Errors
    /// Any client error but 404.
    pub async fn get_opt(&self, name: &str) -> Result<Option<K>, ClientError> {
        match self.get(name).await {
            Ok(object) => Ok(Some(object)),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Lists the collection, optionally filtered by a label selector.
    ///
    /// # Errors
    /// The client's error.
    pub async fn list(&self, label_selector: Option<&str>) -> Result<Vec<K>, ClientError> {
        let mut request = self.client.get(&self.collection);
        if let Some(selector) = label_selector {
            request = request.query("labelSelector", selector);
        }
        let list: ObjectList<K> = request.request_json().await?;
        Ok(list.items)
    }

    /// Creates an object.
    ///
    /// # Errors
    /// The client's error, 409 AlreadyExists among them.
    pub async fn create(&self, object: &K) -> Result<K, ClientError> {
        self.client
            .post(&self.collection)
            .json(object)
            .request_json()
            .await
    }

    /// Replaces an object; its resourceVersion guards the write.
    ///
    /// # Errors
    /// The client's error, 409 Conflict among them.
    pub async fn replace(&self, name: &str, object: &K) -> Result<K, ClientError> {
        self.client
            .put(&self.item(name))
            .json(object)
            .request_json()
            .await
    }

    /// Replaces an object's status subresource.
    ///
    /// # Errors
    /// The client's error, 409 Conflict among them.
    pub async fn replace_status(&self, name: &str, object: &K) -> Result<K, ClientError> {
        self.client
            .put(&format!("{}/status", self.item(name)))
            .json(object)
            .request_json()
            .await
    }

    /// Patches an object, or its status when `status` is set.
    ///
    /// # Errors
    /// The client's error.
    pub async fn patch(
        &self,
        name: &str,
        patch_type: PatchType,
        patch: &Value,
        status: bool,
    ) -> Result<K, ClientError> {
        let mut path = self.item(name);
        if status {
            path.push_str("/status");
        }
        self.client
            .patch(&path, patch_type)
            .json(patch)
            .request_json()
            .await
    }

    /// Deletes an object with the given DeleteOptions body (such as
    /// `{"propagationPolicy":"Background"}` or a uid precondition).
    ///
    /// # Errors
    /// The client's error, 404 among them.
    pub async fn delete(&self, name: &str, options: &Value) -> Result<(), ClientError> {
        delete_path(&self.client, &self.item(name), options).await
    }
}

/// Sends a DELETE with a DeleteOptions body and checks the status.
///
/// # Errors
/// [`ClientError::Api`] for a non-2xx response, or a transport error.
pub async fn delete_path(
    client: &RestClient,
    path: &str,
    options: &Value,
) -> Result<(), ClientError> {
    let mut body = options.clone();
    if let Some(object) = body.as_object_mut() {
        object.insert("kind".into(), Value::from("DeleteOptions"));
        object.insert("apiVersion".into(), Value::from("v1"));
    }
    client
        .delete(path)
        .json(&body)
        .request_json::<Value>()
        .await
        .map(|_| ())
}

/// The `items` of a list response.
#[derive(serde::Deserialize)]
struct ObjectList<K> {
    #[serde(default = "Vec::new")]
    items: Vec<K>,
}

/// Returns whether the server responded 404 Not Found.
pub fn is_not_found(error: &ClientError) -> bool {
    matches!(error, ClientError::Api(status) if status.code() == 404)
}

/// Returns whether the server responded 409 (conflict or already exists).
pub fn is_conflict(error: &ClientError) -> bool {
    matches!(error, ClientError::Api(status) if status.code() == 409)
}

/// Returns whether the server responded 409 AlreadyExists.
pub fn is_already_exists(error: &ClientError) -> bool {
    matches!(error, ClientError::Api(status) if status.code() == 409 && status.reason().as_str() == "AlreadyExists")
}

/// Returns whether the server responded 405 Method Not Allowed.
pub fn is_method_not_supported(error: &ClientError) -> bool {
    matches!(error, ClientError::Api(status) if status.code() == 405)
}

/// Returns the current time as a meta/v1 Time (whole seconds, as the API stores it).
pub fn now_time() -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or_default();
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::from_second(seconds).unwrap_or_default(),
    )
}
