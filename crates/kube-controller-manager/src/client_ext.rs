//! Small additions to the shared client that the controllers use everywhere: one
//! bound for the typed objects they handle, and namespace/name lookups on an
//! informer's cache.

use std::sync::Arc;

use client::api::{Api, ApiResource, KubeObject, ScopeKind};
use client::informer::{EventHandlerFuncs, SharedIndexInformer};
use client::rest::RestClient;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// A k8s-openapi object with standard metadata: what the typed client sends and
/// the informers cache.
pub trait Resource:
    k8s_openapi::Resource<Scope: ScopeKind> + k8s_openapi::Metadata<Ty = ObjectMeta> + KubeObject
{
}

impl<K> Resource for K where
    K: k8s_openapi::Resource<Scope: ScopeKind>
        + k8s_openapi::Metadata<Ty = ObjectMeta>
        + KubeObject
{
}

/// Returns a typed client for `K` objects in `namespace`, for generic code where
/// `K`'s scope is not known to be namespaced.
pub fn api_in<K: Resource>(client: RestClient, namespace: &str) -> Api<K> {
    Api::with_resource(client, ApiResource::of::<K>(), Some(namespace))
}

/// Lookups by namespace on an informer's cache.
pub trait InformerExt<K> {
    /// Returns the cached object `namespace/name`.
    fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>>;

    /// Returns the cached objects of `namespace`.
    fn list_namespace(&self, namespace: &str) -> Vec<Arc<K>>;

    /// Adds event handlers, logging the error when the handler cannot be started.
    fn register(&self, handlers: EventHandlerFuncs<K>);
}

impl<K: KubeObject> InformerExt<K> for SharedIndexInformer<K> {
    fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        self.lister().namespaced(namespace).get(name)
    }

    fn list_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        self.lister().namespaced(namespace).list()
    }

    fn register(&self, handlers: EventHandlerFuncs<K>) {
        if let Err(err) = self.add_event_handler(handlers) {
            tracing::error!(error = %err, "failed to start an informer event handler");
        }
    }
}
