//! The interface every proxy mode implements: informer events in, rules out.

use std::sync::{Mutex, MutexGuard};

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::endpoints::EndpointsChangeTracker;
use crate::net::IpFamily;
use crate::service::ServiceChangeTracker;

/// A proxy mode. Event methods only record the change and request a sync, so kernel
/// work happens in the sync loop. Syncs start once both `*_synced` calls arrived, so
/// the first ruleset is built from complete caches.
///
/// A mode supplies its change trackers and how to request a sync. The event methods
/// are the same for every mode.
pub trait Provider: Send + Sync {
    /// Returns the changes recorded since the last sync.
    fn changes(&self) -> &Mutex<ChangeTrackers>;

    /// Asks the sync loop for a sync as soon as its minimum interval allows.
    fn request_sync(&self);

    fn on_service_add(&self, service: &Service) {
        record(self, |changes| changes.services.update(None, Some(service)));
    }

    fn on_service_update(&self, old: &Service, new: &Service) {
        record(self, |changes| {
            changes.services.update(Some(old), Some(new))
        });
    }

    fn on_service_delete(&self, service: &Service) {
        record(self, |changes| changes.services.update(Some(service), None));
    }

    /// Called once the service informer has listed every service.
    fn on_services_synced(&self) {
        record(self, |changes| {
            changes.services_synced = true;
            true
        });
    }

    fn on_endpoint_slice_add(&self, slice: &EndpointSlice) {
        record(self, |changes| {
            changes.endpoints.endpoint_slice_update(slice, false)
        });
    }

    fn on_endpoint_slice_update(&self, _old: &EndpointSlice, new: &EndpointSlice) {
        record(self, |changes| {
            changes.endpoints.endpoint_slice_update(new, false)
        });
    }

    fn on_endpoint_slice_delete(&self, slice: &EndpointSlice) {
        record(self, |changes| {
            changes.endpoints.endpoint_slice_update(slice, true)
        });
    }

    /// Called once the EndpointSlice informer has listed every slice.
    fn on_endpoint_slices_synced(&self) {
        record(self, |changes| {
            changes.endpoint_slices_synced = true;
            true
        });
    }
}

/// Applies `change` to the provider's trackers and requests a sync when it reports
/// that something changed. The lock is released before the sync is requested.
fn record<P: Provider + ?Sized>(provider: &P, change: impl FnOnce(&mut ChangeTrackers) -> bool) {
    let changed = change(&mut lock_changes(provider.changes()));
    if changed {
        provider.request_sync();
    }
}

/// Locks a proxier's trackers, also after a panic in another thread poisoned the lock.
pub fn lock_changes(changes: &Mutex<ChangeTrackers>) -> MutexGuard<'_, ChangeTrackers> {
    changes
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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
