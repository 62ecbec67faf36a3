//! The EndpointSlice controller: keeps the EndpointSlices of every Service with a
//! selector, at most `--max-endpoints-per-slice` endpoints each, labeled with
//! `kubernetes.io/service-name` and managed by `endpointslice-controller.k8s.io`.
//!
//! Entry point: [`EndpointSliceController::new`] and
//! [`EndpointSliceController::run`]; the planning is in [`reconciler`].

pub mod reconciler;

use std::sync::Arc;

use client::api::{Api, DeleteParams, PostParams};
use client::informer::{DeletedObject, EventHandlerFuncs, InformerOptions, SharedIndexInformer};
use client::rest::RestClient;
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use tokio::sync::watch;

use crate::context::ControllerContext;
use crate::endpoint::subsets::{selector_matches, service_selects};
use crate::endpoint::{
    format_time, last_change_trigger_time, watch_pods_for_services, watch_services,
};
use crate::objectapi::is_not_found;
use crate::queueworker::{SyncError, SyncOutcome, new_queue, run_workers, split_key};
use reconciler::{
    CONTROLLER_NAME, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, desired_endpoints, node_zone, reconcile,
};

/// The EndpointSlice controller.
pub struct EndpointSliceController {
    client: RestClient,
    max_per_slice: usize,
    services: SharedIndexInformer<Service>,
    pods: SharedIndexInformer<Pod>,
    nodes: SharedIndexInformer<Node>,
    slices: SharedIndexInformer<EndpointSlice>,
    queue: RateLimitingQueue<String>,
}

impl EndpointSliceController {
    /// Registers the Service, pod and EndpointSlice handlers.
    pub fn new(ctx: &ControllerContext) -> Self {
        let services = ctx.informers.informer::<Service>();
        let pods = ctx.informers.informer::<Pod>();
        let nodes = ctx.informers.informer::<Node>();
        let slices = ctx
            .informers
            .informer_with::<EndpointSlice>(InformerOptions {
                label_selector: Some(format!("{MANAGED_BY_LABEL}={CONTROLLER_NAME}")),
                ..InformerOptions::default()
            });
        let queue = new_queue("endpoint_slice");
        watch_services(&services, &queue, "endpointslice");
        watch_pods_for_services(&pods, &services, &queue, "endpointslice");

        let service_key = |slice: &EndpointSlice| {
            let service = slice.metadata.labels.as_ref()?.get(SERVICE_NAME_LABEL)?;
            Some(format!(
                "{}/{service}",
                slice.metadata.namespace.as_deref().unwrap_or_default()
            ))
        };
        let (on_update, on_delete) = (queue.clone(), queue.clone());
        let registered = slices.add_event_handler(
            EventHandlerFuncs::new()
                .on_update(move |_, slice: &Arc<EndpointSlice>| {
                    if let Some(key) = service_key(slice) {
                        on_update.add(key);
                    }
                })
                .on_delete(move |deleted: DeletedObject<EndpointSlice>| {
                    if let Some(key) = deleted.object().and_then(|slice| service_key(slice)) {
                        on_delete.add(key);
                    }
                }),
        );
        if let Err(error) = registered {
            tracing::error!(%error, "endpointslice controller: cannot watch endpointslices");
        }
        Self {
            client: ctx.client.clone(),
            max_per_slice: ctx.options.max_endpoints_per_slice,
            services,
            pods,
            nodes,
            slices,
            queue,
        }
    }

    /// Runs `workers` workers until `cancel` turns true.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        tracing::info!("starting endpoint slice controller");
        if !client::informer::wait_for_cache_sync(
            cancel.clone(),
            &[&self.services, &self.pods, &self.nodes, &self.slices],
        )
        .await
        {
            return;
        }
        let state = Arc::new(SyncState {
            client: self.client.clone(),
            max_per_slice: self.max_per_slice,
            services: self.services.clone(),
            pods: self.pods.clone(),
            nodes: self.nodes.clone(),
            slices: self.slices.clone(),
        });
        run_workers("endpointslice", self.queue, workers, cancel, move |key| {
            let state = state.clone();
            async move { state.sync(&key).await }
        })
        .await;
    }
}

struct SyncState {
    client: RestClient,
    max_per_slice: usize,
    services: SharedIndexInformer<Service>,
    pods: SharedIndexInformer<Pod>,
    nodes: SharedIndexInformer<Node>,
    slices: SharedIndexInformer<EndpointSlice>,
}

impl SyncState {
    async fn sync(&self, key: &str) -> Result<SyncOutcome, SyncError> {
        let (namespace, name) = split_key(key);
        let Some(service) = self.services.lister().namespaced(namespace).get(name) else {
            // The slices carry an owner reference to the Service; the garbage
            // collector removes them.
            return Ok(SyncOutcome::Done);
        };
        let api: Api<EndpointSlice> = Api::namespaced(self.client.clone(), namespace);
        let existing: Vec<EndpointSlice> = self
            .slices
            .lister()
            .namespaced(namespace)
            .list()
            .into_iter()
            .filter(|slice| {
                slice
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|labels| labels.get(SERVICE_NAME_LABEL))
                    .map(String::as_str)
                    == Some(name)
            })
            .map(|slice| (*slice).clone())
            .collect();

        // A Service without a selector has its slices managed by someone else.
        if service
            .spec
            .as_ref()
            .and_then(|spec| spec.selector.as_ref())
            .is_none_or(|selector| selector.is_empty())
        {
            for slice in &existing {
                let slice_name = slice.metadata.name.clone().unwrap_or_default();
                match api.delete(&slice_name, &DeleteParams::default()).await {
                    Ok(_) => {}
                    Err(error) if is_not_found(&error) => {}
                    Err(error) => return Err(error.into()),
                }
            }
            return Ok(SyncOutcome::Done);
        }

        // Only the selected pods are decoded from the packed cache.
        let namespace_pods = self
            .pods
            .lister()
            .namespaced(namespace)
            .list_where(&|summary| service_selects(&service, summary), &|pod| {
                selector_matches(&service, pod)
            });
        let selected: Vec<&Pod> = namespace_pods.iter().map(Arc::as_ref).collect();
        let nodes = self.nodes.lister();
        let desired = desired_endpoints(&service, selected.iter().copied(), |node| {
            nodes.get(node).and_then(|node| node_zone(&node))
        });
        let trigger = last_change_trigger_time(&service, &selected).map(|time| format_time(&time));
        let plan = reconcile(
            &service,
            &desired,
            &existing,
            self.max_per_slice,
            trigger.as_deref(),
        );
        if plan.is_empty() {
            return Ok(SyncOutcome::Done);
        }
        tracing::debug!(
            service = key,
            create = plan.create.len(),
            update = plan.update.len(),
            delete = plan.delete.len(),
            "reconciling endpoint slices"
        );

        for slice in &plan.create {
            match api.create(slice, &PostParams::default()).await {
                Ok(_) => {}
                // The namespace is terminating or gone.
                Err(error) if is_not_found(&error) => return Ok(SyncOutcome::Done),
                Err(error) => return Err(error.into()),
            }
        }
        for slice in &plan.update {
            let slice_name = slice.metadata.name.clone().unwrap_or_default();
            api.replace(&slice_name, slice).await?;
        }
        for slice_name in &plan.delete {
            match api.delete(slice_name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(error) if is_not_found(&error) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(SyncOutcome::Done)
    }
}
