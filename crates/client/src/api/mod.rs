//! The typed client: [`Api<K>`] reads and writes one resource type through a
//! [`RestClient`], in the role of client-go's generated clientsets.
//!
//! Entry points: [`Api::namespaced`] and [`Api::all`] for k8s-openapi types,
//! [`Api::with_resource`] for any [`KubeObject`] described by an [`ApiResource`]
//! (such as [`DynamicObject`] or [`PartialObjectMetadata`]).

mod object;
mod params;

use std::marker::PhantomData;

use http::header::{ACCEPT, HeaderValue};
use k8s_openapi::api::autoscaling::v1::Scale;
use k8s_openapi::api::core::v1::Binding;
use k8s_openapi::api::policy::v1::Eviction;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use object::{
    ApiResource, DynamicObject, KubeObject, PARTIAL_OBJECT_METADATA_ACCEPT, PartialObjectMetadata,
    ScopeKind,
};
pub use params::{DeleteParams, ListParams, LogParams, PatchParams, PostParams, Preconditions};

use crate::rest::{ClientError, PatchType, Request, RestClient, WatchStream, status_error};

/// A list response: the items and the list's metadata (resourceVersion, continue).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "K: DeserializeOwned", serialize = "K: Serialize"))]
pub struct ObjectList<K> {
    /// The list's resourceVersion and continue token.
    #[serde(default)]
    pub metadata: ListMeta,
    /// The objects, in the server's order.
    #[serde(default)]
    pub items: Vec<K>,
}

/// A client of one resource type, in one namespace or across all of them. Cloning is
/// cheap.
pub struct Api<K> {
    client: RestClient,
    resource: ApiResource,
    namespace: Option<String>,
    accept: Option<&'static str>,
    _kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Api<K> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            resource: self.resource.clone(),
            namespace: self.namespace.clone(),
            accept: self.accept,
            _kind: PhantomData,
        }
    }
}

impl<K> Api<K>
where
    K: KubeObject + k8s_openapi::Resource,
    K::Scope: ScopeKind,
{
    /// Returns a client of `K` in `namespace`.
    pub fn namespaced(client: RestClient, namespace: &str) -> Self
    where
        K: k8s_openapi::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    {
        Self::with_resource(client, ApiResource::of::<K>(), Some(namespace))
    }

    /// Returns a client of `K` across all namespaces, or of a cluster-scoped `K`.
    pub fn all(client: RestClient) -> Self {
        Self::with_resource(client, ApiResource::of::<K>(), None)
    }
}

impl<K: KubeObject> Api<K> {
    /// Returns a client of the resource `resource` describes, decoding objects as `K`.
    /// `namespace` is ignored for a cluster-scoped resource.
    pub fn with_resource(
        client: RestClient,
        resource: ApiResource,
        namespace: Option<&str>,
    ) -> Self {
        let namespace = if resource.namespaced {
            namespace.filter(|ns| !ns.is_empty()).map(str::to_string)
        } else {
            None
        };
        Self {
            client,
            resource,
            namespace,
            accept: None,
            _kind: PhantomData,
        }
    }

    /// Sends `accept` as the Accept header of reads (get, list, watch), such as
    /// [`PARTIAL_OBJECT_METADATA_ACCEPT`] for metadata-only clients.
    pub fn with_accept(mut self, accept: &'static str) -> Self {
        self.accept = Some(accept);
        self
    }

    /// Returns the resource this client addresses.
    pub fn resource(&self) -> &ApiResource {
        &self.resource
    }

    /// Returns the namespace, or `None` for all namespaces.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Returns the REST client underneath.
    pub fn client(&self) -> &RestClient {
        &self.client
    }

    /// Returns the collection path, such as `/api/v1/namespaces/default/pods`.
    pub fn collection_path(&self) -> String {
        self.resource.collection_path(self.namespace.as_deref())
    }

    /// Returns the path of one object, or of its subresource when `subresource` is set.
    pub fn object_path(&self, name: &str, subresource: Option<&str>) -> String {
        let mut path = format!("{}/{}", self.collection_path(), name);
        if let Some(sub) = subresource {
            path.push('/');
            path.push_str(sub);
        }
        path
    }

    fn read(&self, request: Request) -> Request {
        match self.accept {
            Some(accept) => request.header(ACCEPT, HeaderValue::from_static(accept)),
            None => request,
        }
    }

    /// Reads one object.
    ///
    /// # Errors
    /// [`ClientError::Api`] with NotFound when it does not exist; transport errors.
    pub async fn get(&self, name: &str) -> Result<K, ClientError> {
        let request = self.read(self.client.get(&self.object_path(name, None)));
        request.request_json().await
    }

    /// Reads one object, returning `None` when it does not exist.
    ///
    /// # Errors
    /// As [`Api::get`], except NotFound.
    pub async fn get_opt(&self, name: &str) -> Result<Option<K>, ClientError> {
        match self.get(name).await {
            Ok(obj) => Ok(Some(obj)),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Reads the status subresource of one object.
    ///
    /// # Errors
    /// As [`Api::get`].
    pub async fn get_status(&self, name: &str) -> Result<K, ClientError> {
        self.client
            .get(&self.object_path(name, Some("status")))
            .request_json()
            .await
    }

    /// Lists objects. One page unless `params.limit` is unset and the server does
    /// not paginate; follow `metadata.continue` for more.
    ///
    /// # Errors
    /// [`ClientError::Api`] for a rejected selector or an expired continue token.
    pub async fn list(&self, params: &ListParams) -> Result<ObjectList<K>, ClientError> {
        let request = params.apply(self.read(self.client.get(&self.collection_path())));
        request.request_json().await
    }

    /// Starts a watch from `resource_version` ("" or "0" for any) with the
    /// selectors and timeout of `params`. Decode each event's object with
    /// `serde_json::from_value::<K>`.
    ///
    /// # Errors
    /// [`ClientError::Api`] when the server rejects the watch, 410 among them.
    pub async fn watch(
        &self,
        params: &ListParams,
        resource_version: &str,
    ) -> Result<WatchStream, ClientError> {
        let mut request = self.read(self.client.get(&self.collection_path()));
        request = params.apply_selectors(request);
        if !resource_version.is_empty() {
            request = request.query("resourceVersion", resource_version);
        }
        if let Some(seconds) = params.timeout_seconds {
            request = request.query("timeoutSeconds", &seconds.to_string());
        }
        request
            .query("allowWatchBookmarks", "true")
            .timeout(None)
            .watch()
            .await
    }

    /// Creates an object; its namespace comes from this client.
    ///
    /// # Errors
    /// [`ClientError::Api`] with AlreadyExists or Invalid; transport errors.
    pub async fn create(&self, obj: &K, params: &PostParams) -> Result<K, ClientError> {
        params
            .apply(self.client.post(&self.collection_path()))
            .json(obj)
            .request_json()
            .await
    }

    /// Replaces an object (PUT); `obj.metadata.resourceVersion` makes it conditional.
    ///
    /// # Errors
    /// [`ClientError::Api`] with Conflict when the resourceVersion is stale.
    pub async fn replace(&self, name: &str, obj: &K) -> Result<K, ClientError> {
        self.client
            .put(&self.object_path(name, None))
            .json(obj)
            .request_json()
            .await
    }

    /// Replaces the status subresource of an object.
    ///
    /// # Errors
    /// As [`Api::replace`].
    pub async fn replace_status(&self, name: &str, obj: &K) -> Result<K, ClientError> {
        self.client
            .put(&self.object_path(name, Some("status")))
            .json(obj)
            .request_json()
            .await
    }

    /// Patches an object with a patch of `patch_type`.
    ///
    /// # Errors
    /// [`ClientError::Api`] with NotFound, Conflict or Invalid.
    pub async fn patch(
        &self,
        name: &str,
        patch_type: PatchType,
        patch: &Value,
    ) -> Result<K, ClientError> {
        self.patch_with(name, patch_type, patch, &PatchParams::default())
            .await
    }

    /// Patches an object with field manager, force and dry-run settings (server-side
    /// apply needs a field manager).
    ///
    /// # Errors
    /// As [`Api::patch`].
    pub async fn patch_with(
        &self,
        name: &str,
        patch_type: PatchType,
        patch: &Value,
        params: &PatchParams,
    ) -> Result<K, ClientError> {
        params
            .apply(self.client.patch(&self.object_path(name, None), patch_type))
            .json(patch)
            .request_json()
            .await
    }

    /// Patches the status subresource of an object.
    ///
    /// # Errors
    /// As [`Api::patch`].
    pub async fn patch_status(
        &self,
        name: &str,
        patch_type: PatchType,
        patch: &Value,
    ) -> Result<K, ClientError> {
        self.client
            .patch(&self.object_path(name, Some("status")), patch_type)
            .json(patch)
            .request_json()
            .await
    }

    /// Deletes an object. Returns the object when the server kept it for now (a
    /// grace period or finalizers), `None` when the server answered with a Status.
    ///
    /// # Errors
    /// [`ClientError::Api`] with NotFound, or Conflict for a failed precondition.
    pub async fn delete(
        &self,
        name: &str,
        params: &DeleteParams,
    ) -> Result<Option<K>, ClientError> {
        let value: Value = params
            .apply(self.client.delete(&self.object_path(name, None)))
            .json(&params.body())
            .request_json()
            .await?;
        decode_unless_status(value, &self.object_path(name, None))
    }

    /// Deletes every object `list` selects.
    ///
    /// # Errors
    /// [`ClientError::Api`] when the server rejects the request.
    pub async fn delete_collection(
        &self,
        params: &DeleteParams,
        list: &ListParams,
    ) -> Result<(), ClientError> {
        let request = params.apply(self.client.delete(&self.collection_path()));
        let _: Value = list
            .apply_selectors(request)
            .json(&params.body())
            .request_json()
            .await?;
        Ok(())
    }

    /// Reads the scale subresource (autoscaling/v1 Scale).
    ///
    /// # Errors
    /// [`ClientError::Api`] with NotFound when the object or its scale does not exist.
    pub async fn get_scale(&self, name: &str) -> Result<Scale, ClientError> {
        self.client
            .get(&self.object_path(name, Some("scale")))
            .request_json()
            .await
    }

    /// Replaces the scale subresource.
    ///
    /// # Errors
    /// As [`Api::replace`].
    pub async fn replace_scale(&self, name: &str, scale: &Scale) -> Result<Scale, ClientError> {
        self.client
            .put(&self.object_path(name, Some("scale")))
            .json(scale)
            .request_json()
            .await
    }

    /// Posts to a subresource and decodes the answer as JSON (a Status for binding
    /// and eviction).
    ///
    /// # Errors
    /// [`ClientError::Api`] when the server rejects the request.
    pub async fn create_subresource<B: Serialize, R: DeserializeOwned>(
        &self,
        name: &str,
        subresource: &str,
        body: &B,
    ) -> Result<R, ClientError> {
        self.client
            .post(&self.object_path(name, Some(subresource)))
            .json(body)
            .request_json()
            .await
    }
}

impl Api<k8s_openapi::api::core::v1::Pod> {
    /// Binds the pod to a node (the scheduler's write).
    ///
    /// # Errors
    /// [`ClientError::Api`] with Conflict when the pod is already bound.
    pub async fn create_binding(&self, name: &str, binding: &Binding) -> Result<(), ClientError> {
        let _: Value = self.create_subresource(name, "binding", binding).await?;
        Ok(())
    }

    /// Evicts the pod through the eviction subresource, which honours disruption
    /// budgets.
    ///
    /// # Errors
    /// [`ClientError::Api`] with TooManyRequests when a budget forbids it now.
    pub async fn evict(&self, name: &str, eviction: &Eviction) -> Result<(), ClientError> {
        let _: Value = self.create_subresource(name, "eviction", eviction).await?;
        Ok(())
    }

    /// Reads a container's log as text. With `follow` this waits until the stream
    /// ends.
    ///
    /// # Errors
    /// [`ClientError::Api`] when the pod, container or log does not exist.
    pub async fn logs(&self, name: &str, params: &LogParams) -> Result<String, ClientError> {
        let mut request = params.apply(self.client.get(&self.object_path(name, Some("log"))));
        if params.follow {
            request = request.timeout(None);
        }
        let response = request.send().await?;
        if !response.status.is_success() {
            return Err(ClientError::Api(status_error(
                &http::Method::GET,
                &response,
            )));
        }
        Ok(String::from_utf8_lossy(&response.body).into_owned())
    }
}

/// Decodes a response that is either an object or a Status.
fn decode_unless_status<K: DeserializeOwned>(
    value: Value,
    path: &str,
) -> Result<Option<K>, ClientError> {
    if value.get("kind").and_then(Value::as_str) == Some("Status") {
        return Ok(None);
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|source| ClientError::Decode {
            method: "DELETE".to_string(),
            url: path.to_string(),
            source,
        })
}
