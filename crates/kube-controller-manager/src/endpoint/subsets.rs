//! The Endpoints a Service should have: which pods it selects, which address of each
//! pod, which ports, and the truncation to [`MAX_CAPACITY`] addresses.
//!
//! Entry point: [`desired_subsets`]. The pod helpers here ([`pod_is_ready`],
//! [`should_pod_be_in_endpoints`], [`find_port`], [`pod_ip_for_family`]) are shared
//! with the EndpointSlice controller.

use apimachinery::labels::Labels;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, ObjectReference, Pod, Service, ServicePort,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The maximum number of addresses (ready and not ready together) in one Endpoints
/// object.
pub const MAX_CAPACITY: usize = 1000;

/// The annotation set to `truncated` on an Endpoints object that lists fewer
/// addresses than there are pods.
pub const OVER_CAPACITY_ANNOTATION: &str = "endpoints.kubernetes.io/over-capacity";

/// When the change that triggered the last write of the object happened (RFC 3339).
pub const TRIGGER_TIME_ANNOTATION: &str = "endpoints.kubernetes.io/last-change-trigger-time";

/// Set (empty value) on the Endpoints and EndpointSlices of a headless Service.
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";

/// Returns whether the pod's `Ready` condition is `True`.
pub fn pod_is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|condition| condition.type_ == "Ready" && condition.status == "True")
        })
}

/// Returns whether the pod is being deleted.
pub fn pod_is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// Returns whether a not-ready pod may still become ready and so belongs in the
/// not-ready addresses: a pod whose restart policy keeps it running, or which has
/// not reached a terminal phase its policy would keep it in.
pub fn should_pod_be_in_endpoints(pod: &Pod) -> bool {
    let phase = pod
        .status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .unwrap_or_default();
    let restart_policy = pod
        .spec
        .as_ref()
        .and_then(|spec| spec.restart_policy.as_deref())
        .unwrap_or("Always");
    match restart_policy {
        "Never" => phase != "Failed" && phase != "Succeeded",
        "OnFailure" => phase != "Succeeded",
        _ => true,
    }
}

/// Returns the IP family of a Service: its first `spec.ipFamilies` entry, else the
/// family of its cluster IP, else IPv4.
pub fn service_ip_family(service: &Service) -> &'static str {
    let spec = service.spec.as_ref();
    if let Some(family) = spec
        .and_then(|spec| spec.ip_families.as_ref())
        .and_then(|families| families.first())
    {
        return if family == "IPv6" { "IPv6" } else { "IPv4" };
    }
    match spec.and_then(|spec| spec.cluster_ip.as_deref()) {
        Some(ip) if ip.contains(':') => "IPv6",
        _ => "IPv4",
    }
}

/// Returns the pod's IP of the given family (`IPv4` or `IPv6`), or `None`.
pub fn pod_ip_for_family<'a>(pod: &'a Pod, family: &str) -> Option<&'a str> {
    let status = pod.status.as_ref()?;
    let wants_v6 = family == "IPv6";
    let candidates = status
        .pod_ips
        .iter()
        .flatten()
        .map(|pod_ip| pod_ip.ip.as_str())
        .chain(status.pod_ip.as_deref());
    candidates
        .filter(|ip| !ip.is_empty())
        .find(|ip| ip.contains(':') == wants_v6)
}

/// Resolves a Service port's target port on a pod: a number is taken as is, a name
/// is looked up among the containers' ports of the same protocol. An absent target
/// port means the Service port's own number.
pub fn find_port(pod: &Pod, service_port: &ServicePort) -> Option<i32> {
    let protocol = service_port.protocol.as_deref().unwrap_or("TCP");
    match &service_port.target_port {
        None => Some(service_port.port),
        Some(IntOrString::Int(number)) => Some(*number),
        Some(IntOrString::String(name)) => {
            if let Ok(number) = name.parse::<i32>() {
                return Some(number);
            }
            pod.spec.as_ref()?.containers.iter().find_map(|container| {
                container.ports.iter().flatten().find_map(|port| {
                    let port_protocol = port.protocol.as_deref().unwrap_or("TCP");
                    (port.name.as_deref() == Some(name.as_str()) && port_protocol == protocol)
                        .then_some(port.container_port)
                })
            })
        }
    }
}

/// Returns whether the pod's hostname is published for the Service: the pod names a
/// hostname and its subdomain is the Service's name in the same namespace.
pub fn pod_hostname_for_service(pod: &Pod, service: &Service) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let hostname = spec.hostname.as_deref().filter(|name| !name.is_empty())?;
    let same_namespace = pod.metadata.namespace == service.metadata.namespace;
    (same_namespace && spec.subdomain.as_deref() == service.metadata.name.as_deref())
        .then(|| hostname.to_string())
}

/// Returns whether a Service selects `pod` by its `spec.selector`. A Service without
/// a selector selects nothing (its Endpoints are managed by someone else).
pub fn selector_matches(service: &Service, pod: &Pod) -> bool {
    service_selects(service, &pod.metadata.labels)
}

/// Returns whether a Service's `spec.selector` selects an object with `labels`.
pub fn service_selects<L: Labels + ?Sized>(service: &Service, labels: &L) -> bool {
    let Some(selector) = service
        .spec
        .as_ref()
        .and_then(|spec| spec.selector.as_ref())
    else {
        return false;
    };
    if selector.is_empty() {
        return false;
    }
    selector
        .iter()
        .all(|(key, value)| labels.get(key) == Some(value.as_str()))
}

/// Returns whether the Service is headless (`clusterIP: None`).
pub fn service_is_headless(service: &Service) -> bool {
    service
        .spec
        .as_ref()
        .and_then(|spec| spec.cluster_ip.as_deref())
        == Some("None")
}

/// Returns whether not-ready pods are published as ready for this Service.
pub fn publishes_not_ready(service: &Service) -> bool {
    service
        .spec
        .as_ref()
        .and_then(|spec| spec.publish_not_ready_addresses)
        .unwrap_or(false)
}

/// Builds the `targetRef` of a pod's address.
pub fn pod_reference(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".to_string()),
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone(),
        uid: pod.metadata.uid.clone(),
        ..ObjectReference::default()
    }
}

/// The desired subsets of a Service's Endpoints and whether they were truncated to
/// [`MAX_CAPACITY`].
#[derive(Debug, Default, PartialEq)]
pub struct DesiredSubsets {
    pub subsets: Vec<EndpointSubset>,
    pub truncated: bool,
}

/// Computes the Endpoints subsets of `service` from the pods of its namespace.
///
/// A selected pod with an IP of the Service's family is listed under `addresses`
/// when ready (or when the Service publishes not-ready addresses), under
/// `notReadyAddresses` when it may still become ready; terminating pods are left
/// out unless not-ready addresses are published. Each pod appears with the Service
/// ports its containers resolve; pods sharing a port set share a subset. A headless
/// Service without ports gets port-less subsets.
pub fn desired_subsets<'a>(
    service: &Service,
    pods: impl IntoIterator<Item = &'a Pod>,
) -> DesiredSubsets {
    let family = service_ip_family(service);
    let tolerate_unready = publishes_not_ready(service);
    let service_ports = service
        .spec
        .as_ref()
        .and_then(|spec| spec.ports.clone())
        .unwrap_or_default();
    let headless = service_is_headless(service);

    // Port set (sorted) -> (ready addresses, not-ready addresses).
    type Group = (Vec<EndpointAddress>, Vec<EndpointAddress>);
    let mut groups: BTreeMap<Vec<PortKey>, Group> = BTreeMap::new();

    for pod in pods {
        if !selector_matches(service, pod) {
            continue;
        }
        let Some(ip) = pod_ip_for_family(pod, family) else {
            continue;
        };
        if !tolerate_unready && pod_is_terminating(pod) {
            continue;
        }
        let ready = tolerate_unready || pod_is_ready(pod);
        if !ready && !should_pod_be_in_endpoints(pod) {
            continue;
        }

        let address = EndpointAddress {
            ip: ip.to_string(),
            hostname: pod_hostname_for_service(pod, service),
            node_name: pod.spec.as_ref().and_then(|spec| spec.node_name.clone()),
            target_ref: Some(pod_reference(pod)),
        };

        let mut ports: Vec<PortKey> = service_ports
            .iter()
            .filter_map(|service_port| {
                find_port(pod, service_port).map(|number| PortKey::new(service_port, number))
            })
            .collect();
        if ports.is_empty() && !(service_ports.is_empty() && headless) {
            tracing::debug!(
                pod = pod.metadata.name.as_deref().unwrap_or_default(),
                service = service.metadata.name.as_deref().unwrap_or_default(),
                "pod resolves none of the service's ports"
            );
            continue;
        }
        ports.sort();
        ports.dedup();

        let group = groups.entry(ports).or_default();
        if ready {
            group.0.push(address);
        } else {
            group.1.push(address);
        }
    }

    let mut subsets: Vec<EndpointSubset> = groups
        .into_iter()
        .map(|(ports, (mut ready, mut not_ready))| {
            ready.sort_by(address_order);
            not_ready.sort_by(address_order);
            EndpointSubset {
                addresses: (!ready.is_empty()).then_some(ready),
                not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
                ports: (!ports.is_empty())
                    .then(|| ports.into_iter().map(PortKey::into_port).collect()),
            }
        })
        .collect();
    let truncated = truncate_subsets(&mut subsets, MAX_CAPACITY);
    DesiredSubsets { subsets, truncated }
}

fn address_order(a: &EndpointAddress, b: &EndpointAddress) -> std::cmp::Ordering {
    let uid = |address: &EndpointAddress| {
        address
            .target_ref
            .as_ref()
            .and_then(|target| target.uid.clone())
    };
    a.ip.cmp(&b.ip).then_with(|| uid(a).cmp(&uid(b)))
}

/// One resolved endpoint port, ordered for grouping.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct PortKey {
    name: String,
    port: i32,
    protocol: String,
    app_protocol: Option<String>,
}

impl PortKey {
    fn new(service_port: &ServicePort, port: i32) -> Self {
        Self {
            name: service_port.name.clone().unwrap_or_default(),
            port,
            protocol: service_port
                .protocol
                .clone()
                .unwrap_or_else(|| "TCP".to_string()),
            app_protocol: service_port.app_protocol.clone(),
        }
    }

    fn into_port(self) -> EndpointPort {
        EndpointPort {
            name: (!self.name.is_empty()).then_some(self.name),
            port: self.port,
            protocol: Some(self.protocol),
            app_protocol: self.app_protocol,
        }
    }
}

fn count(list: &Option<Vec<EndpointAddress>>) -> usize {
    list.as_ref().map_or(0, Vec::len)
}

/// Cuts the subsets down to `max` addresses. Ready addresses are kept before
/// not-ready ones; each subset gives up addresses in proportion to its size.
/// Returns whether anything was cut.
pub fn truncate_subsets(subsets: &mut [EndpointSubset], max: usize) -> bool {
    let ready: usize = subsets.iter().map(|s| count(&s.addresses)).sum();
    let not_ready: usize = subsets.iter().map(|s| count(&s.not_ready_addresses)).sum();
    if ready + not_ready <= max {
        return false;
    }

    if ready >= max {
        for subset in subsets.iter_mut() {
            subset.not_ready_addresses = None;
        }
        let sizes: Vec<usize> = subsets.iter().map(|s| count(&s.addresses)).collect();
        let keep = proportional_shares(&sizes, max);
        for (subset, keep) in subsets.iter_mut().zip(keep) {
            if let Some(addresses) = subset.addresses.as_mut() {
                addresses.truncate(keep);
            }
        }
    } else {
        let sizes: Vec<usize> = subsets
            .iter()
            .map(|s| count(&s.not_ready_addresses))
            .collect();
        let keep = proportional_shares(&sizes, max - ready);
        for (subset, keep) in subsets.iter_mut().zip(keep) {
            if let Some(addresses) = subset.not_ready_addresses.as_mut() {
                addresses.truncate(keep);
                if addresses.is_empty() {
                    subset.not_ready_addresses = None;
                }
            }
        }
    }
    true
}

/// Splits `total` across groups of the given sizes in proportion to each size, never
/// more than a group contains. The rounding remainder goes to the first groups with
/// room.
fn proportional_shares(sizes: &[usize], total: usize) -> Vec<usize> {
    let sum: usize = sizes.iter().sum();
    if sum == 0 {
        return vec![0; sizes.len()];
    }
    let mut shares: Vec<usize> = sizes.iter().map(|size| size * total / sum).collect();
    let mut left = total.saturating_sub(shares.iter().sum());
    for (share, size) in shares.iter_mut().zip(sizes) {
        if left == 0 {
            break;
        }
        let room = size - *share;
        let extra = room.min(left);
        *share += extra;
        left -= extra;
    }
    shares
}

#[cfg(test)]
mod tests;
