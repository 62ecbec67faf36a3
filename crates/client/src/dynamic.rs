//! The dynamic client: any resource by group, version and resource name, with
//! objects as [`DynamicObject`] (or metadata only, as [`PartialObjectMetadata`]).
//!
//! Entry point: [`DynamicClient::new`], then [`DynamicClient::resource`] or
//! [`DynamicClient::metadata`], which look the resource's kind and scope up through
//! a cached [`DiscoveryClient`] and return an [`Api`].

use apimachinery::errors::StatusError;
use apimachinery::meta::GroupVersionResource;

use crate::api::{Api, DynamicObject, PARTIAL_OBJECT_METADATA_ACCEPT, PartialObjectMetadata};
use crate::discovery::DiscoveryClient;
use crate::rest::{ClientError, RestClient};

/// Hands out clients of resources known only at run time. Cloning is cheap.
#[derive(Clone)]
pub struct DynamicClient {
    client: RestClient,
    discovery: DiscoveryClient,
}

impl DynamicClient {
    /// Creates a dynamic client with its own discovery cache.
    pub fn new(client: RestClient) -> Self {
        Self::with_discovery(client.clone(), DiscoveryClient::new(client))
    }

    /// Creates a dynamic client sharing `discovery`'s cache.
    pub fn with_discovery(client: RestClient, discovery: DiscoveryClient) -> Self {
        Self { client, discovery }
    }

    /// Returns the discovery client.
    pub fn discovery(&self) -> &DiscoveryClient {
        &self.discovery
    }

    /// Returns a client of `gvr` in `namespace` (all namespaces for `None`; ignored
    /// for cluster-scoped resources).
    ///
    /// # Errors
    /// [`ClientError::Api`] with NotFound when the server does not serve `gvr`;
    /// discovery errors.
    pub async fn resource(
        &self,
        gvr: &GroupVersionResource,
        namespace: Option<&str>,
    ) -> Result<Api<DynamicObject>, ClientError> {
        let found = self
            .discovery
            .resolve(gvr)
            .await?
            .ok_or_else(|| not_served(gvr))?;
        Ok(Api::with_resource(
            self.client.clone(),
            found.resource,
            namespace,
        ))
    }

    /// As [`DynamicClient::resource`], reading only metadata: gets and lists ask the
    /// server for `PartialObjectMetadata`.
    ///
    /// # Errors
    /// As [`DynamicClient::resource`].
    pub async fn metadata(
        &self,
        gvr: &GroupVersionResource,
        namespace: Option<&str>,
    ) -> Result<Api<PartialObjectMetadata>, ClientError> {
        let found = self
            .discovery
            .resolve(gvr)
            .await?
            .ok_or_else(|| not_served(gvr))?;
        Ok(
            Api::with_resource(self.client.clone(), found.resource, namespace)
                .with_accept(PARTIAL_OBJECT_METADATA_ACCEPT),
        )
    }
}

fn not_served(gvr: &GroupVersionResource) -> ClientError {
    ClientError::Api(StatusError::not_found(&gvr.group_resource(), ""))
}
