//! The EndpointSlice mirroring controller: mirrors the Endpoints of a Service without
//! a selector (Endpoints written by hand or by another controller) into
//! EndpointSlices managed by `endpointslicemirroring-controller.k8s.io`.
//!
//! Entry point: [`EndpointSliceMirroringController::new`] and
//! [`EndpointSliceMirroringController::run`]; the conversion is [`mirror_endpoints`]
//! and the slice planning is shared with the EndpointSlice controller
//! ([`reconcile_slices`]). Endpoints labeled `endpointslice.kubernetes.io/skip-mirror:
//! "true"` or carrying a leader-election record are not mirrored.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use client::api::{Api, DeleteParams, PostParams};
use client::informer::{DeletedObject, EventHandlerFuncs, InformerOptions, SharedIndexInformer};
use client::rest::RestClient;
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::core::v1::{EndpointAddress, Endpoints, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use tokio::sync::watch;

use crate::context::ControllerContext;
use crate::endpoint::subsets::TRIGGER_TIME_ANNOTATION;
use crate::endpointslice::reconciler::{
    MANAGED_BY_LABEL, PortGroup, SERVICE_NAME_LABEL, SliceTemplate, generate_name_prefix, port_key,
    reconcile_slices, sorted_ports,
};
use crate::objectapi::is_not_found;
use crate::queueworker::{SyncError, SyncOutcome, new_queue, object_key, run_workers, split_key};

/// This controller's value of the managed-by label.
pub const CONTROLLER_NAME: &str = "endpointslicemirroring-controller.k8s.io";

/// The label that keeps an Endpoints object from being mirrored when `"true"`.
pub const SKIP_MIRROR_LABEL: &str = "endpointslice.kubernetes.io/skip-mirror";

/// The annotation of a leader-election record kept in an Endpoints object.
const LEADER_ANNOTATION: &str = "control-plane.alpha.kubernetes.io/leader";

/// The annotation kubectl apply keeps; it is not copied to slices.
const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The default of `--mirroring-max-endpoints-per-subset`: the most addresses mirrored
/// from one subset, and the most endpoints per mirrored slice.
pub const DEFAULT_MAX_ENDPOINTS_PER_SUBSET: usize = 1000;

/// Converts an Endpoints object into endpoints grouped by address type (`IPv4`,
/// `IPv6`) and port set. Ready addresses come before not-ready ones, at most
/// `max_per_subset` per subset; addresses that are not IPs are skipped.
pub fn mirror_endpoints(
    endpoints: &Endpoints,
    max_per_subset: usize,
) -> BTreeMap<String, BTreeMap<String, PortGroup>> {
    let mut by_type: BTreeMap<String, BTreeMap<String, PortGroup>> = BTreeMap::new();
    for subset in endpoints.subsets.iter().flatten() {
        let ports = sorted_ports(
            subset
                .ports
                .iter()
                .flatten()
                .map(|port| EndpointPort {
                    name: Some(port.name.clone().unwrap_or_default()),
                    port: Some(port.port),
                    protocol: Some(port.protocol.clone().unwrap_or_else(|| "TCP".to_string())),
                    app_protocol: port.app_protocol.clone(),
                })
                .collect(),
        );
        let key = port_key(&ports);
        let addresses = subset
            .addresses
            .iter()
            .flatten()
            .map(|address| (address, true))
            .chain(
                subset
                    .not_ready_addresses
                    .iter()
                    .flatten()
                    .map(|address| (address, false)),
            )
            .take(max_per_subset);
        for (address, ready) in addresses {
            let Some((address_type, endpoint)) = address_to_endpoint(address, ready) else {
                continue;
            };
            let group = by_type
                .entry(address_type.to_string())
                .or_default()
                .entry(key.clone())
                .or_insert_with(|| PortGroup {
                    ports: ports.clone(),
                    endpoints: BTreeMap::new(),
                });
            group
                .endpoints
                .insert(endpoint.addresses[0].clone(), endpoint);
        }
    }
    by_type
}

fn address_to_endpoint(address: &EndpointAddress, ready: bool) -> Option<(&'static str, Endpoint)> {
    let ip: IpAddr = address.ip.parse().ok()?;
    let address_type = if ip.is_ipv4() { "IPv4" } else { "IPv6" };
    let endpoint = Endpoint {
        addresses: vec![ip.to_string()],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            ..EndpointConditions::default()
        }),
        hostname: address.hostname.clone().filter(|name| !name.is_empty()),
        node_name: address.node_name.clone(),
        target_ref: address.target_ref.clone(),
        ..Endpoint::default()
    };
    Some((address_type, endpoint))
}

/// Returns the template of an Endpoints object's mirrored slices of one address
/// type: its labels and annotations (without the trigger time and kubectl's
/// last-applied configuration) and a controller reference to it.
pub fn mirror_template(endpoints: &Endpoints, address_type: &str) -> SliceTemplate {
    let name = endpoints.metadata.name.clone().unwrap_or_default();
    let mut labels = endpoints.metadata.labels.clone().unwrap_or_default();
    labels.insert(SERVICE_NAME_LABEL.to_string(), name.clone());
    labels.insert(MANAGED_BY_LABEL.to_string(), CONTROLLER_NAME.to_string());
    let mut annotations = endpoints.metadata.annotations.clone().unwrap_or_default();
    annotations.remove(TRIGGER_TIME_ANNOTATION);
    annotations.remove(LAST_APPLIED_ANNOTATION);
    SliceTemplate {
        namespace: endpoints.metadata.namespace.clone().unwrap_or_default(),
        generate_name: generate_name_prefix(&name),
        address_type: address_type.to_string(),
        labels,
        annotations,
        removed_annotations: vec![TRIGGER_TIME_ANNOTATION.to_string()],
        owner: OwnerReference {
            api_version: "v1".to_string(),
            kind: "Endpoints".to_string(),
            name,
            uid: endpoints.metadata.uid.clone().unwrap_or_default(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        },
        keep_placeholder: false,
    }
}

/// Returns whether an Endpoints object is mirrored, given its Service.
pub fn should_mirror(endpoints: &Endpoints, service: Option<&Service>) -> bool {
    let Some(service) = service else {
        return false;
    };
    let has_selector = service
        .spec
        .as_ref()
        .and_then(|spec| spec.selector.as_ref())
        .is_some_and(|selector| !selector.is_empty());
    let skipped = endpoints
        .metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get(SKIP_MIRROR_LABEL))
        .is_some_and(|value| value == "true");
    let leader_record = endpoints
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|annotations| annotations.contains_key(LEADER_ANNOTATION));
    !has_selector && !skipped && !leader_record
}

/// The EndpointSlice mirroring controller.
pub struct EndpointSliceMirroringController {
    client: RestClient,
    endpoints: SharedIndexInformer<Endpoints>,
    services: SharedIndexInformer<Service>,
    slices: SharedIndexInformer<EndpointSlice>,
    queue: RateLimitingQueue<String>,
}

impl EndpointSliceMirroringController {
    /// Registers the Endpoints, Service and mirrored EndpointSlice handlers.
    pub fn new(ctx: &ControllerContext) -> Self {
        let endpoints = ctx.informers.informer::<Endpoints>();
        let services = ctx.informers.informer::<Service>();
        let slices = ctx
            .informers
            .informer_with::<EndpointSlice>(InformerOptions {
                label_selector: Some(format!("{MANAGED_BY_LABEL}={CONTROLLER_NAME}")),
                ..InformerOptions::default()
            });
        let queue = new_queue("endpoint_slice_mirroring");

        let (on_add, on_update, on_delete) = (queue.clone(), queue.clone(), queue.clone());
        let registered = endpoints.add_event_handler(
            EventHandlerFuncs::new()
                .on_add(move |object: &Arc<Endpoints>, _| on_add.add(object_key(&object.metadata)))
                .on_update(move |_, object: &Arc<Endpoints>| {
                    on_update.add(object_key(&object.metadata))
                })
                .on_delete(move |deleted: DeletedObject<Endpoints>| on_delete.add(deleted.key())),
        );
        if let Err(error) = registered {
            tracing::error!(%error, "endpointslice mirroring controller: cannot watch endpoints");
        }
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
            tracing::error!(%error, "endpointslice mirroring controller: cannot watch services");
        }
        let owner_key = |slice: &EndpointSlice| {
            let name = slice.metadata.labels.as_ref()?.get(SERVICE_NAME_LABEL)?;
            Some(format!(
                "{}/{name}",
                slice.metadata.namespace.as_deref().unwrap_or_default()
            ))
        };
        let (on_update, on_delete) = (queue.clone(), queue.clone());
        let registered = slices.add_event_handler(
            EventHandlerFuncs::new()
                .on_update(move |_, slice: &Arc<EndpointSlice>| {
                    if let Some(key) = owner_key(slice) {
                        on_update.add(key);
                    }
                })
                .on_delete(move |deleted: DeletedObject<EndpointSlice>| {
                    if let Some(key) = deleted.object().and_then(|slice| owner_key(slice)) {
                        on_delete.add(key);
                    }
                }),
        );
        if let Err(error) = registered {
            tracing::error!(%error, "endpointslice mirroring controller: cannot watch endpointslices");
        }
        Self {
            client: ctx.client.clone(),
            endpoints,
            services,
            slices,
            queue,
        }
    }

    /// Runs `workers` workers until `cancel` turns true.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        tracing::info!("starting endpoint slice mirroring controller");
        if !client::informer::wait_for_cache_sync(
            cancel.clone(),
            &[&self.endpoints, &self.services, &self.slices],
        )
        .await
        {
            return;
        }
        let (endpoints, services, slices, client) = (
            self.endpoints.clone(),
            self.services.clone(),
            self.slices.clone(),
            self.client.clone(),
        );
        run_workers(
            "endpointslicemirroring",
            self.queue,
            workers,
            cancel,
            move |key| {
                let (endpoints, services, slices, client) = (
                    endpoints.clone(),
                    services.clone(),
                    slices.clone(),
                    client.clone(),
                );
                async move { sync_endpoints(&client, &endpoints, &services, &slices, &key).await }
            },
        )
        .await;
    }
}

async fn sync_endpoints(
    client: &RestClient,
    endpoints: &SharedIndexInformer<Endpoints>,
    services: &SharedIndexInformer<Service>,
    slices: &SharedIndexInformer<EndpointSlice>,
    key: &str,
) -> Result<SyncOutcome, SyncError> {
    let (namespace, name) = split_key(key);
    let api: Api<EndpointSlice> = Api::namespaced(client.clone(), namespace);
    let existing: Vec<EndpointSlice> = slices
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

    let source = endpoints.lister().namespaced(namespace).get(name);
    let service = services.lister().namespaced(namespace).get(name);
    let mirrored = source
        .as_deref()
        .filter(|source| should_mirror(source, service.as_deref()));
    let Some(source) = mirrored else {
        for slice in &existing {
            let slice_name = slice.metadata.name.clone().unwrap_or_default();
            match api.delete(&slice_name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(error) if is_not_found(&error) => {}
                Err(error) => return Err(error.into()),
            }
        }
        return Ok(SyncOutcome::Done);
    };

    let desired = mirror_endpoints(source, DEFAULT_MAX_ENDPOINTS_PER_SUBSET);
    let address_types: BTreeSet<String> = desired
        .keys()
        .cloned()
        .chain(existing.iter().map(|slice| slice.address_type.clone()))
        .collect();
    let empty = BTreeMap::new();
    for address_type in address_types {
        let template = mirror_template(source, &address_type);
        let of_type: Vec<EndpointSlice> = existing
            .iter()
            .filter(|slice| slice.address_type == address_type)
            .cloned()
            .collect();
        let groups = desired.get(&address_type).unwrap_or(&empty);
        let plan = reconcile_slices(
            &template,
            groups,
            &of_type,
            DEFAULT_MAX_ENDPOINTS_PER_SUBSET,
        );
        for slice in &plan.create {
            match api.create(slice, &PostParams::default()).await {
                Ok(_) => {}
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
    }
    Ok(SyncOutcome::Done)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn endpoints(value: serde_json::Value) -> Endpoints {
        serde_json::from_value(value).expect("valid endpoints")
    }

    #[test]
    fn mirror_groups_by_family_and_ports() {
        let source = endpoints(json!({
            "metadata": {"name": "ext", "namespace": "default", "uid": "u",
                "labels": {"team": "a"},
                "annotations": {TRIGGER_TIME_ANNOTATION: "2024-01-01T00:00:00Z", "note": "x"}},
            "subsets": [
                {"addresses": [{"ip": "10.0.0.1", "hostname": "h"}, {"ip": "fd00::1"}],
                 "notReadyAddresses": [{"ip": "10.0.0.2"}, {"ip": "not-an-ip"}],
                 "ports": [{"name": "http", "port": 80}]},
            ],
        }));
        let desired = mirror_endpoints(&source, 1000);
        assert_eq!(desired.keys().collect::<Vec<_>>(), ["IPv4", "IPv6"]);
        let v4 = desired["IPv4"].values().next().expect("one port group");
        assert_eq!(v4.endpoints.len(), 2);
        let ready = |ip: &str| v4.endpoints[ip].conditions.as_ref().and_then(|c| c.ready);
        assert_eq!(ready("10.0.0.1"), Some(true));
        assert_eq!(ready("10.0.0.2"), Some(false));
        assert_eq!(v4.endpoints["10.0.0.1"].hostname.as_deref(), Some("h"));
        assert_eq!(v4.ports[0].port, Some(80));

        let template = mirror_template(&source, "IPv4");
        assert_eq!(template.labels[SERVICE_NAME_LABEL], "ext");
        assert_eq!(template.labels[MANAGED_BY_LABEL], CONTROLLER_NAME);
        assert_eq!(template.labels["team"], "a");
        assert!(!template.annotations.contains_key(TRIGGER_TIME_ANNOTATION));
        assert_eq!(template.annotations["note"], "x");
        assert_eq!(template.owner.kind, "Endpoints");

        let plan = reconcile_slices(&template, &desired["IPv4"], &[], 1000);
        assert_eq!(plan.create.len(), 1);
        assert_eq!(plan.create[0].address_type, "IPv4");
        // No endpoints: no placeholder slice for mirrored Endpoints.
        assert!(reconcile_slices(&template, &BTreeMap::new(), &[], 1000).is_empty());
    }

    #[test]
    fn mirror_limits_addresses_per_subset() {
        let addresses: Vec<serde_json::Value> = (0..5)
            .map(|i| json!({"ip": format!("10.0.0.{i}")}))
            .collect();
        let source = endpoints(json!({"metadata": {"name": "ext"},
            "subsets": [{"addresses": addresses, "notReadyAddresses": [{"ip": "10.0.1.1"}], "ports": [{"port": 80}]}]}));
        let desired = mirror_endpoints(&source, 3);
        let group = desired["IPv4"].values().next().expect("group");
        assert_eq!(group.endpoints.len(), 3);
        assert!(
            group
                .endpoints
                .values()
                .all(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true))
        );
    }

    #[test]
    fn mirror_only_selectorless_services() {
        let source = endpoints(json!({"metadata": {"name": "ext"}}));
        let service = |spec: serde_json::Value| -> Service {
            serde_json::from_value(json!({"metadata": {"name": "ext"}, "spec": spec}))
                .expect("valid service")
        };
        assert!(should_mirror(
            &source,
            Some(&service(json!({"ports": [{"port": 80}]})))
        ));
        assert!(!should_mirror(
            &source,
            Some(&service(json!({"selector": {"app": "x"}})))
        ));
        assert!(!should_mirror(&source, None));
        let skipped =
            endpoints(json!({"metadata": {"name": "ext", "labels": {SKIP_MIRROR_LABEL: "true"}}}));
        assert!(!should_mirror(&skipped, Some(&service(json!({})))));
    }
}
