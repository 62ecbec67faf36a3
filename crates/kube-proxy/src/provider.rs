//! The interface every proxy mode implements: informer events in, rules out.

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::endpoints::EndpointsChangeTracker;
use crate::net::IpFamily;
use crate::service::ServiceChangeTracker;

/// A proxy mode. Event methods only record the change and request a sync, so kernel
/// work happens in the sync loop. Syncs start once both `*_synced` calls arrived, so
/// the first ruleset is built from complete caches.
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

/// The change trackers of a proxier plus whether each informer has synced.
pub struct ChangeTrackers {
    pub services: ServiceChangeTracker,
    pub endpoints: EndpointsChangeTracker,
    pub services_synced: bool,
    pub endpoint_slices_synced: bool,
}

impl ChangeTrackers {
    /// `hostname` decides which endpoints are local.
    pub fn new(hostname: &str, family: IpFamily) -> Self {
        ChangeTrackers {
            services: ServiceChangeTracker::new(family),
            endpoints: EndpointsChangeTracker::new(hostname, family),
            services_synced: false,
            endpoint_slices_synced: false,
        }
    }

    /// Returns whether both informers delivered their initial list.
    pub fn is_initialized(&self) -> bool {
        self.services_synced && self.endpoint_slices_synced
    }
}
