//! The interface every proxy mode implements: informer events in, rules out.

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// A proxy mode. Event methods only record the change and request a sync; they never
/// block on the kernel. Syncs start once both `*_synced` calls arrived, so the first
/// ruleset is built from complete caches.
pub trait Provider: Send + Sync {
    fn on_service_add(&self, service: &Service);
    fn on_service_update(&self, old: &Service, new: &Service);
    fn on_service_delete(&self, service: &Service);
    /// Called once the service informer has listed every service.
    fn on_services_synced(&self);
    fn on_endpoint_slice_add(&self, slice: &EndpointSlice);
    fn on_endpoint_slice_update(&self, old: &EndpointSlice, new: &EndpointSlice);
    fn on_endpoint_slice_delete(&self, slice: &EndpointSlice);
    /// Called once the EndpointSlice informer has listed every slice.
    fn on_endpoint_slices_synced(&self);
}
