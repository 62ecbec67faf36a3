//! The endpoints controller: keeps one Endpoints object per Service with a selector,
//! listing the addresses and ports of the pods it selects.
//!
//! Entry point: [`EndpointController::new`] and [`EndpointController::run`]; the
//! computation is [`subsets::desired_subsets`]. A Service is synced when it changes
//! and when a pod it selects (before or after the change) changes.

pub mod subsets;

use std::collections::BTreeMap;
use std::sync::Arc;

use client::api::{Api, DeleteParams, PostParams};
use client::informer::{DeletedObject, EventHandlerFuncs, SharedIndexInformer};
use client::rest::RestClient;
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use tokio::sync::watch;

use crate::context::ControllerContext;
use crate::objectapi::{is_already_exists, is_not_found};
use crate::queueworker::{SyncError, SyncOutcome, new_queue, object_key, run_workers, split_key};
use subsets::{
    HEADLESS_LABEL, OVER_CAPACITY_ANNOTATION, TRIGGER_TIME_ANNOTATION, desired_subsets,
    selector_matches, service_is_headless, service_selects,
};

/// The endpoints controller.
pub struct EndpointController {
    client: RestClient,
    services: SharedIndexInformer<Service>,
    pods: SharedIndexInformer<Pod>,
    endpoints: SharedIndexInformer<Endpoints>,
    queue: RateLimitingQueue<String>,
}

/// Queues the Services of the pod's namespace that select it.
pub(crate) fn enqueue_services_for_pod(
    services: &SharedIndexInformer<Service>,
    queue: &RateLimitingQueue<String>,
    pods: &[&Pod],
) {
    let Some(namespace) = pods.first().and_then(|pod| pod.metadata.namespace.clone()) else {
        return;
    };
    for service in services.lister().namespaced(&namespace).list() {
        if pods.iter().any(|pod| selector_matches(&service, pod)) {
            queue.add(object_key(&service.metadata));
        }
    }
}

/// Registers pod handlers that queue the selecting Services.
pub(crate) fn watch_pods_for_services(
    pods: &SharedIndexInformer<Pod>,
    services: &SharedIndexInformer<Service>,
    queue: &RateLimitingQueue<String>,
    controller: &str,
) {
    let (add_services, add_queue) = (services.clone(), queue.clone());
    let (update_services, update_queue) = (services.clone(), queue.clone());
    let (delete_services, delete_queue) = (services.clone(), queue.clone());
    let registered = pods.add_event_handler(
        EventHandlerFuncs::new()
            .on_add(move |pod: &Arc<Pod>, _| {
                enqueue_services_for_pod(&add_services, &add_queue, &[pod]);
            })
            .on_update(move |old: &Arc<Pod>, new: &Arc<Pod>| {
                if old.metadata.resource_version != new.metadata.resource_version {
                    enqueue_services_for_pod(&update_services, &update_queue, &[old, new]);
                }
            })
            .on_delete(move |deleted: DeletedObject<Pod>| {
                if let Some(pod) = deleted.object() {
                    enqueue_services_for_pod(&delete_services, &delete_queue, &[pod]);
                }
            }),
    );
    if let Err(error) = registered {
        tracing::error!(controller, %error, "cannot watch pods");
    }
}

/// Registers Service handlers that queue the Service itself.
pub(crate) fn watch_services(
    services: &SharedIndexInformer<Service>,
    queue: &RateLimitingQueue<String>,
    controller: &str,
) {
    let (on_add, on_update, on_delete) = (queue.clone(), queue.clone(), queue.clone());
    let registered = services.add_event_handler(
        EventHandlerFuncs::new()
            .on_add(move |service: &Arc<Service>, _| on_add.add(object_key(&service.metadata)))
            .on_update(move |_, service: &Arc<Service>| {
                on_update.add(object_key(&service.metadata))
            })
            .on_delete(move |deleted: DeletedObject<Service>| on_delete.add(deleted.key())),
    );
    if let Err(error) = registered {
        tracing::error!(controller, %error, "cannot watch services");
    }
}

impl EndpointController {
    /// Registers the Service, pod and Endpoints handlers.
    pub fn new(ctx: &ControllerContext) -> Self {
        let services = ctx.informers.informer::<Service>();
        let pods = ctx.informers.informer::<Pod>();
        let endpoints = ctx.informers.informer::<Endpoints>();
        let queue = new_queue("endpoint");
        watch_services(&services, &queue, "endpoint");
        watch_pods_for_services(&pods, &services, &queue, "endpoint");
        // An Endpoints object changed or deleted by someone else is rewritten.
        let (on_update, on_delete) = (queue.clone(), queue.clone());
        let registered = endpoints.add_event_handler(
            EventHandlerFuncs::new()
                .on_update(move |_, endpoints: &Arc<Endpoints>| {
                    on_update.add(object_key(&endpoints.metadata))
                })
                .on_delete(move |deleted: DeletedObject<Endpoints>| on_delete.add(deleted.key())),
        );
        if let Err(error) = registered {
            tracing::error!(%error, "endpoint controller: cannot watch endpoints");
        }
        Self {
            client: ctx.client.clone(),
            services,
            pods,
            endpoints,
            queue,
        }
    }

    /// Runs `workers` workers until `cancel` turns true.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        tracing::info!("starting endpoint controller");
        if !client::informer::wait_for_cache_sync(
            cancel.clone(),
            &[&self.services, &self.pods, &self.endpoints],
        )
        .await
        {
            return;
        }
        let (services, pods, endpoints, client) = (
            self.services.clone(),
            self.pods.clone(),
            self.endpoints.clone(),
            self.client.clone(),
        );
        run_workers("endpoint", self.queue, workers, cancel, move |key| {
            let (services, pods, endpoints, client) = (
                services.clone(),
                pods.clone(),
                endpoints.clone(),
                client.clone(),
            );
            async move { sync_service(&client, &services, &pods, &endpoints, &key).await }
        })
        .await;
    }
}

/// The time of the latest change among the Service and the pods it selects: pod
/// creation or Ready transition, Service creation.
// NOTE: upstream tracks the earliest unsynced change per Service. This takes the
// latest change among the current objects, which matches upstream when one change
// triggered the sync.
pub(crate) fn last_change_trigger_time(service: &Service, pods: &[&Pod]) -> Option<Time> {
    let mut latest = service.metadata.creation_timestamp.clone();
    for pod in pods {
        let ready_time = pod
            .status
            .as_ref()
            .and_then(|status| status.conditions.as_ref())
            .and_then(|conditions| conditions.iter().find(|c| c.type_ == "Ready"))
            .and_then(|condition| condition.last_transition_time.clone());
        for time in [pod.metadata.creation_timestamp.clone(), ready_time]
            .into_iter()
            .flatten()
        {
            if latest.as_ref().is_none_or(|current| time.0 > current.0) {
                latest = Some(time);
            }
        }
    }
    latest
}

/// Formats a meta/v1 Time as RFC 3339 with second precision.
pub(crate) fn format_time(time: &Time) -> String {
    serde_json::to_value(time)
        .ok()
        .and_then(|value| value.as_str().map(str::to_string))
        .unwrap_or_default()
}

async fn sync_service(
    client: &RestClient,
    services: &SharedIndexInformer<Service>,
    pods: &SharedIndexInformer<Pod>,
    endpoints: &SharedIndexInformer<Endpoints>,
    key: &str,
) -> Result<SyncOutcome, SyncError> {
    let (namespace, name) = split_key(key);
    let api: Api<Endpoints> = Api::namespaced(client.clone(), namespace);

    let Some(service) = services.lister().namespaced(namespace).get(name) else {
        // The Service is gone: its Endpoints go too (the garbage collector would not
        // know, as Endpoints carry no owner reference).
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(error) if is_not_found(&error) => {}
            Err(error) => return Err(error.into()),
        }
        return Ok(SyncOutcome::Done);
    };
    if service
        .spec
        .as_ref()
        .and_then(|spec| spec.selector.as_ref())
        .is_none_or(BTreeMap::is_empty)
    {
        return Ok(SyncOutcome::Done);
    }

    // Only the selected pods are decoded from the packed cache.
    let namespace_pods = pods
        .lister()
        .namespaced(namespace)
        .list_where(&|summary| service_selects(&service, summary), &|pod| {
            selector_matches(&service, pod)
        });
    let selected: Vec<&Pod> = namespace_pods.iter().map(Arc::as_ref).collect();
    let desired = desired_subsets(&service, selected.iter().copied());

    let mut labels = service.metadata.labels.clone().unwrap_or_default();
    if service_is_headless(&service) {
        labels.insert(HEADLESS_LABEL.to_string(), String::new());
    } else {
        labels.remove(HEADLESS_LABEL);
    }

    let current = endpoints.lister().namespaced(namespace).get(name);
    let current_subsets = current
        .as_ref()
        .and_then(|e| e.subsets.clone())
        .unwrap_or_default();
    let current_truncated = current
        .as_ref()
        .and_then(|e| e.metadata.annotations.as_ref())
        .and_then(|a| a.get(OVER_CAPACITY_ANNOTATION))
        .is_some();
    if let Some(current) = &current
        && current_subsets == desired.subsets
        && current.metadata.labels.clone().unwrap_or_default() == labels
        && current_truncated == desired.truncated
    {
        return Ok(SyncOutcome::Done);
    }

    let mut object = current.as_deref().cloned().unwrap_or_else(|| Endpoints {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            ..ObjectMeta::default()
        },
        ..Endpoints::default()
    });
    object.subsets = (!desired.subsets.is_empty()).then_some(desired.subsets);
    object.metadata.labels = (!labels.is_empty()).then_some(labels);
    let annotations = object
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new);
    match last_change_trigger_time(&service, &selected) {
        Some(time) => {
            annotations.insert(TRIGGER_TIME_ANNOTATION.to_string(), format_time(&time));
        }
        None => {
            annotations.remove(TRIGGER_TIME_ANNOTATION);
        }
    }
    if desired.truncated {
        annotations.insert(
            OVER_CAPACITY_ANNOTATION.to_string(),
            "truncated".to_string(),
        );
    } else {
        annotations.remove(OVER_CAPACITY_ANNOTATION);
    }
    if annotations.is_empty() {
        object.metadata.annotations = None;
    }

    let result = if current.is_some() {
        api.replace(name, &object).await.map(|_| ())
    } else {
        match api.create(&object, &PostParams::default()).await {
            Err(error) if is_already_exists(&error) => {
                // Someone else created it; the informer brings it and we sync again.
                return Err(error.into());
            }
            other => other.map(|_| ()),
        }
    };
    match result {
        Ok(()) => Ok(SyncOutcome::Done),
        // The namespace is going away; nothing to keep up to date.
        Err(error) if is_not_found(&error) => Ok(SyncOutcome::Done),
        Err(error) => Err(error.into()),
    }
}
