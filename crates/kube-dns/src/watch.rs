//! Keeps the [`ClusterStore`] current from Service and EndpointSlice informers of
//! the shared client: one list, then watch events; nothing polls.
//!
//! Entry point: [`start_informers`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use client::informer::{EventHandlerFuncs, SharedInformerFactory};
use client::rest::RestClient;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use tokio::sync::watch;

use crate::store::ClusterStore;

/// Whether both informers have delivered their initial list to the store; `/readyz`
/// reports it.
#[derive(Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Failure to register an informer handler.
#[derive(Debug, thiserror::Error)]
#[error("failed to register the {resource} event handler: {message}")]
pub struct InformerError {
    resource: &'static str,
    message: String,
}

/// Starts Service and EndpointSlice informers that feed `store`, and a task that
/// marks the returned [`Readiness`] once both have synced. The informers run until
/// `cancel` turns true. `resync` is the informers' resync period; zero turns
/// resyncs off.
pub fn start_informers(
    client: RestClient,
    store: Arc<ClusterStore>,
    resync: Duration,
    cancel: watch::Receiver<bool>,
) -> Result<(SharedInformerFactory, Readiness), InformerError> {
    let factory = SharedInformerFactory::new(client, resync);
    let services = factory.informer::<Service>();
    let slices = factory.informer::<EndpointSlice>();

    let (add, update, delete) = (Arc::clone(&store), Arc::clone(&store), Arc::clone(&store));
    let service_handlers = EventHandlerFuncs::<Service>::new()
        .on_add(move |service, _| add.apply_service(service))
        .on_update(move |_, service| update.apply_service(service))
        .on_delete(move |deleted| {
            if let Some(service) = deleted.object() {
                delete.delete_service(service);
            }
        });
    let services_registration = services
        .add_event_handler(service_handlers)
        .map_err(|error| InformerError {
            resource: "Service",
            message: error.to_string(),
        })?;

    let (add, update, delete) = (Arc::clone(&store), Arc::clone(&store), store);
    let slice_handlers = EventHandlerFuncs::<EndpointSlice>::new()
        .on_add(move |slice, _| add.apply_endpoint_slice(slice))
        .on_update(move |_, slice| update.apply_endpoint_slice(slice))
        .on_delete(move |deleted| {
            if let Some(slice) = deleted.object() {
                delete.delete_endpoint_slice(slice);
            }
        });
    let slices_registration =
        slices
            .add_event_handler(slice_handlers)
            .map_err(|error| InformerError {
                resource: "EndpointSlice",
                message: error.to_string(),
            })?;

    factory.start(cancel.clone());
    let readiness = Readiness::default();
    let ready = readiness.clone();
    tokio::spawn(async move {
        let registrations = [&services_registration, &slices_registration];
        let registrations: Vec<&dyn client::informer::CacheSynced> = registrations
            .into_iter()
            .map(|registration| registration as &dyn client::informer::CacheSynced)
            .collect();
        if client::informer::wait_for_cache_sync(cancel, &registrations).await {
            tracing::info!("services and endpoint slices synced; ready");
            ready.set_ready();
        }
    });
    Ok((factory, readiness))
}
