//! The EndpointSlices a Service should have, and the creates, updates and deletes
//! that turn the existing slices into them.
//!
//! Entry point: [`desired_endpoints`] computes the endpoints grouped by port set,
//! [`reconcile`] plans the changes against the controller's existing slices. A slice
//! contains at most `max_endpoints_per_slice` endpoints. An existing slice keeps the
//! endpoints it already contains while they are still desired, so a change to one
//! pod rewrites one slice.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::endpoint::subsets::{
    HEADLESS_LABEL, TRIGGER_TIME_ANNOTATION, find_port, pod_hostname_for_service,
    pod_ip_for_family, pod_is_ready, pod_is_terminating, pod_reference, publishes_not_ready,
    selector_matches, service_ip_family, service_is_headless, should_pod_be_in_endpoints,
};

/// The label naming a slice's Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The label naming the controller that manages a slice.
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";

/// This controller's value of [`MANAGED_BY_LABEL`].
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";

/// The default of `--max-endpoints-per-slice`.
pub const DEFAULT_MAX_ENDPOINTS_PER_SLICE: usize = 100;

/// The node label that gives an endpoint's zone.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// One port set and the endpoints that serve it, keyed by their address.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PortGroup {
    pub ports: Vec<EndpointPort>,
    pub endpoints: BTreeMap<String, Endpoint>,
}

/// Serializes a port set in a canonical order, to key it.
pub(crate) fn port_key(ports: &[EndpointPort]) -> String {
    let mut keys: Vec<String> = ports
        .iter()
        .map(|port| {
            format!(
                "{}/{}/{}/{}",
                port.name.as_deref().unwrap_or_default(),
                port.port.unwrap_or_default(),
                port.protocol.as_deref().unwrap_or("TCP"),
                port.app_protocol.as_deref().unwrap_or_default()
            )
        })
        .collect();
    keys.sort();
    keys.join(",")
}

pub(crate) fn sorted_ports(mut ports: Vec<EndpointPort>) -> Vec<EndpointPort> {
    ports.sort_by_key(|port| {
        (
            port.name.clone().unwrap_or_default(),
            port.port.unwrap_or_default(),
            port.protocol.clone().unwrap_or_default(),
        )
    });
    ports
}

/// Computes the endpoints of `service` from the pods of its namespace, grouped by the
/// set of ports each pod resolves.
///
/// Terminating pods stay in as long as they would otherwise be listed, with
/// `ready: false`, `serving` their readiness and `terminating: true`. With
/// `publishNotReadyAddresses` every listed endpoint is ready. `zone_of` gives a
/// node's zone label.
pub fn desired_endpoints<'a>(
    service: &Service,
    pods: impl IntoIterator<Item = &'a Pod>,
    zone_of: impl Fn(&str) -> Option<String>,
) -> BTreeMap<String, PortGroup> {
    let family = service_ip_family(service);
    let publish_not_ready = publishes_not_ready(service);
    let service_ports = service
        .spec
        .as_ref()
        .and_then(|spec| spec.ports.clone())
        .unwrap_or_default();

    let mut groups: BTreeMap<String, PortGroup> = BTreeMap::new();
    for pod in pods {
        if !selector_matches(service, pod) {
            continue;
        }
        let Some(ip) = pod_ip_for_family(pod, family) else {
            continue;
        };
        let ready = pod_is_ready(pod);
        if !publish_not_ready && !ready && !should_pod_be_in_endpoints(pod) {
            continue;
        }
        let terminating = pod_is_terminating(pod);

        let node_name = pod.spec.as_ref().and_then(|spec| spec.node_name.clone());
        let endpoint = Endpoint {
            addresses: vec![ip.to_string()],
            conditions: Some(EndpointConditions {
                ready: Some(publish_not_ready || (ready && !terminating)),
                serving: Some(publish_not_ready || ready),
                terminating: Some(terminating),
            }),
            hostname: pod_hostname_for_service(pod, service),
            zone: node_name.as_deref().and_then(&zone_of),
            node_name,
            target_ref: Some(pod_reference(pod)),
            ..Endpoint::default()
        };

        let ports = sorted_ports(
            service_ports
                .iter()
                .filter_map(|service_port| {
                    find_port(pod, service_port).map(|number| EndpointPort {
                        name: Some(service_port.name.clone().unwrap_or_default()),
                        port: Some(number),
                        protocol: Some(
                            service_port
                                .protocol
                                .clone()
                                .unwrap_or_else(|| "TCP".to_string()),
                        ),
                        app_protocol: service_port.app_protocol.clone(),
                    })
                })
                .collect(),
        );
        let group = groups.entry(port_key(&ports)).or_insert_with(|| PortGroup {
            ports,
            endpoints: BTreeMap::new(),
        });
        group.endpoints.insert(ip.to_string(), endpoint);
    }
    groups
}

/// Returns the zone label of a node.
pub fn node_zone(node: &Node) -> Option<String> {
    node.metadata.labels.as_ref()?.get(ZONE_LABEL).cloned()
}

/// The writes that bring a Service's slices to the desired state.
#[derive(Debug, Default)]
pub struct Plan {
    /// New slices, named by `generateName`.
    pub create: Vec<EndpointSlice>,
    /// Existing slices with new contents (their resourceVersion guards the write).
    pub update: Vec<EndpointSlice>,
    /// Names of slices to delete.
    pub delete: Vec<String>,
}

impl Plan {
    /// Returns whether nothing needs to be written.
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.delete.is_empty()
    }
}

/// The metadata and address type every slice of one owner gets.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceTemplate {
    pub namespace: String,
    /// The `generateName` of new slices.
    pub generate_name: String,
    pub address_type: String,
    pub labels: BTreeMap<String, String>,
    /// The annotations of every slice written; others present on a slice are kept.
    pub annotations: BTreeMap<String, String>,
    /// Annotation keys removed from every slice written.
    pub removed_annotations: Vec<String>,
    pub owner: OwnerReference,
    /// Whether an owner without endpoints keeps one empty slice.
    pub keep_placeholder: bool,
}

/// Returns the template of a Service's slices. `trigger_time` (RFC 3339) goes into
/// the last-change-trigger-time annotation.
pub fn service_template(service: &Service, trigger_time: Option<&str>) -> SliceTemplate {
    let address_type = match service_ip_family(service) {
        "IPv6" => "IPv6",
        _ => "IPv4",
    };
    let mut annotations = BTreeMap::new();
    let mut removed_annotations = Vec::new();
    match trigger_time {
        Some(time) => {
            annotations.insert(TRIGGER_TIME_ANNOTATION.to_string(), time.to_string());
        }
        None => removed_annotations.push(TRIGGER_TIME_ANNOTATION.to_string()),
    }
    SliceTemplate {
        namespace: service.metadata.namespace.clone().unwrap_or_default(),
        generate_name: generate_name_prefix(service.metadata.name.as_deref().unwrap_or_default()),
        address_type: address_type.to_string(),
        labels: slice_labels(service),
        annotations,
        removed_annotations,
        owner: owner_reference(service),
        keep_placeholder: true,
    }
}

/// Plans the changes from `existing` (the slices this controller manages for the
/// Service) to `desired`. `trigger_time` (RFC 3339) goes into the
/// last-change-trigger-time annotation of every slice written.
pub fn reconcile(
    service: &Service,
    desired: &BTreeMap<String, PortGroup>,
    existing: &[EndpointSlice],
    max_per_slice: usize,
    trigger_time: Option<&str>,
) -> Plan {
    reconcile_slices(
        &service_template(service, trigger_time),
        desired,
        existing,
        max_per_slice,
    )
}

/// Plans the changes from `existing` (one owner's slices) to `desired`. Slices of
/// another address type or of a port set no longer desired are deleted. The others
/// keep the endpoints still desired and fill up to `max_per_slice`, and new slices
/// take the rest.
pub fn reconcile_slices(
    template: &SliceTemplate,
    desired: &BTreeMap<String, PortGroup>,
    existing: &[EndpointSlice],
    max_per_slice: usize,
) -> Plan {
    let max_per_slice = max_per_slice.max(1);
    let address_type = template.address_type.as_str();
    let mut plan = Plan::default();

    // Existing slices by port set; slices of another address type or port set go.
    let mut by_ports: BTreeMap<String, Vec<EndpointSlice>> = BTreeMap::new();
    for slice in existing {
        let key = port_key(slice.ports.as_deref().unwrap_or_default());
        if slice.address_type != address_type || !desired.contains_key(&key) {
            plan.delete
                .push(slice.metadata.name.clone().unwrap_or_default());
        } else {
            by_ports.entry(key).or_default().push(slice.clone());
        }
    }

    for (key, group) in desired {
        let mut remaining = group.endpoints.clone();
        let mut slices = by_ports.remove(key).unwrap_or_default();
        let mut changed = vec![false; slices.len()];

        // Keep the endpoints each slice already contains that are still desired.
        for (index, slice) in slices.iter_mut().enumerate() {
            let mut kept = Vec::with_capacity(slice.endpoints.len());
            for endpoint in slice.endpoints.drain(..) {
                let address = endpoint.addresses.first().cloned().unwrap_or_default();
                match remaining.remove(&address) {
                    Some(wanted) => {
                        if wanted != endpoint {
                            changed[index] = true;
                        }
                        kept.push(wanted);
                    }
                    None => changed[index] = true,
                }
            }
            slice.endpoints = kept;
            if slice_metadata_differs(slice, template) {
                changed[index] = true;
            }
        }

        // Fill slices being rewritten anyway, then the others with room.
        let mut leftovers = remaining.into_values();
        let fill_order: Vec<usize> = (0..slices.len())
            .filter(|&index| changed[index])
            .chain((0..slices.len()).filter(|&index| !changed[index]))
            .collect();
        'fill: for index in fill_order {
            while slices[index].endpoints.len() < max_per_slice {
                match leftovers.next() {
                    Some(endpoint) => {
                        slices[index].endpoints.push(endpoint);
                        changed[index] = true;
                    }
                    None => break 'fill,
                }
            }
        }

        for (index, mut slice) in slices.into_iter().enumerate() {
            let name = slice.metadata.name.clone().unwrap_or_default();
            if slice.endpoints.is_empty() {
                plan.delete.push(name);
            } else if changed[index] {
                apply_metadata(&mut slice, template);
                plan.update.push(slice);
            }
        }

        let rest: Vec<Endpoint> = leftovers.collect();
        for chunk in rest.chunks(max_per_slice) {
            let mut slice = EndpointSlice {
                address_type: address_type.to_string(),
                endpoints: chunk.to_vec(),
                ports: Some(group.ports.clone()),
                metadata: ObjectMeta {
                    generate_name: Some(template.generate_name.clone()),
                    namespace: Some(template.namespace.clone()),
                    ..ObjectMeta::default()
                },
            };
            apply_metadata(&mut slice, template);
            plan.create.push(slice);
        }
    }

    // A selector Service with no endpoints keeps one empty slice, as upstream does,
    // so clients can tell "no endpoints" from "not yet reconciled".
    if desired.is_empty() && template.keep_placeholder {
        let keep = existing.iter().find(|slice| {
            slice.endpoints.is_empty()
                && slice.address_type == address_type
                && slice.ports.as_deref().unwrap_or_default().is_empty()
        });
        match keep {
            Some(slice) => {
                let name = slice.metadata.name.clone().unwrap_or_default();
                plan.delete.retain(|deleted| *deleted != name);
            }
            None => {
                let mut slice = EndpointSlice {
                    address_type: address_type.to_string(),
                    endpoints: Vec::new(),
                    ports: None,
                    metadata: ObjectMeta {
                        generate_name: Some(template.generate_name.clone()),
                        namespace: Some(template.namespace.clone()),
                        ..ObjectMeta::default()
                    },
                };
                apply_metadata(&mut slice, template);
                plan.create.push(slice);
            }
        }
    }
    plan
}

/// Returns the `generateName` of an owner's slices: its name and a dash, cut so that
/// the generated suffix still fits a 63-character name.
pub fn generate_name_prefix(name: &str) -> String {
    let cut: String = name.chars().take(57).collect();
    format!("{cut}-")
}

/// Returns the labels every slice of the Service carries: the Service's own labels plus the
/// service-name, managed-by and (for a headless Service) headless labels.
pub fn slice_labels(service: &Service) -> BTreeMap<String, String> {
    let mut labels = service.metadata.labels.clone().unwrap_or_default();
    labels.insert(
        SERVICE_NAME_LABEL.to_string(),
        service.metadata.name.clone().unwrap_or_default(),
    );
    labels.insert(MANAGED_BY_LABEL.to_string(), CONTROLLER_NAME.to_string());
    if service_is_headless(service) {
        labels.insert(HEADLESS_LABEL.to_string(), String::new());
    } else {
        labels.remove(HEADLESS_LABEL);
    }
    labels
}

fn owner_reference(service: &Service) -> OwnerReference {
    OwnerReference {
        api_version: "v1".to_string(),
        kind: "Service".to_string(),
        name: service.metadata.name.clone().unwrap_or_default(),
        uid: service.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

fn slice_metadata_differs(slice: &EndpointSlice, template: &SliceTemplate) -> bool {
    let annotations = slice.metadata.annotations.clone().unwrap_or_default();
    let annotations_differ = template
        .annotations
        .iter()
        .any(|(key, value)| annotations.get(key) != Some(value))
        || template
            .removed_annotations
            .iter()
            .any(|key| annotations.contains_key(key));
    slice.metadata.labels.as_ref() != Some(&template.labels)
        || annotations_differ
        || slice.metadata.owner_references.as_deref() != Some(std::slice::from_ref(&template.owner))
}

fn apply_metadata(slice: &mut EndpointSlice, template: &SliceTemplate) {
    slice.metadata.labels = Some(template.labels.clone());
    slice.metadata.owner_references = Some(vec![template.owner.clone()]);
    let annotations = slice.metadata.annotations.get_or_insert_with(BTreeMap::new);
    for key in &template.removed_annotations {
        annotations.remove(key);
    }
    annotations.extend(template.annotations.clone());
    if annotations.is_empty() {
        slice.metadata.annotations = None;
    }
}

/// Returns the addresses of all endpoints in the slices, for tests and logs.
pub fn addresses(slices: &[EndpointSlice]) -> BTreeSet<String> {
    slices
        .iter()
        .flat_map(|slice| slice.endpoints.iter())
        .flat_map(|endpoint| endpoint.addresses.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests;
