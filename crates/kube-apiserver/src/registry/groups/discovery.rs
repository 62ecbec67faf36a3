//! discovery.k8s.io/v1: EndpointSlices.
//!
//! Entry point: [`strategies`]. Defaults give every port a name ("") and protocol
//! (TCP). Validation checks the address type (immutable), addresses by type, node
//! names, topology, hints and ports. Upstream's limits apply: 1000 endpoints, 100
//! addresses per endpoint and 20000 ports.
//!
//! Upstream does not validate the `kubernetes.io/service-name` label; the
//! EndpointSlice controller sets it and clients select by it like any label.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation::{is_dns1123_subdomain, is_valid_label_value};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointHints, EndpointPort, EndpointSlice};

use super::validation::{
    invalid_each, parse_ip_sloppy, rendered, validate_dns1123_label,
    validate_fully_qualified_domain_name, validate_immutable, validate_labels,
    validate_qualified_name,
};
use super::{ResourceStrategy, entry};
use crate::registry::strategy::Strategy;

const ADDRESS_TYPES: [&str; 3] = ["FQDN", "IPv4", "IPv6"];
const PORT_PROTOCOLS: [&str; 3] = ["SCTP", "TCP", "UDP"];
const MAX_TOPOLOGY_LABELS: usize = 16;
const MAX_ADDRESSES: usize = 100;
const MAX_PORTS: usize = 20000;
const MAX_ENDPOINTS: usize = 1000;
const MAX_ZONE_HINTS: usize = 8;
const MAX_NODE_HINTS: usize = 8;

/// The label key that upstream's conversion from v1beta1 moves into `zone`; it may
/// not remain in `deprecatedTopology`.
const LABEL_TOPOLOGY_ZONE: &str = "topology.kubernetes.io/zone";

/// Returns the strategies of the discovery.k8s.io/v1 resources.
pub fn strategies() -> Vec<ResourceStrategy> {
    vec![entry(Arc::new(EndpointSliceStrategy))]
}

/// Strategy of `endpointslices`. Every change outside metadata counts as a new
/// generation, because the kind has no spec.
pub struct EndpointSliceStrategy;

impl Strategy for EndpointSliceStrategy {
    type Object = EndpointSlice;

    fn default(&self, slice: &mut EndpointSlice) {
        for port in slice.ports.iter_mut().flatten() {
            if port.name.is_none() {
                port.name = Some(String::new());
            }
            if port.protocol.is_none() {
                port.protocol = Some("TCP".to_string());
            }
        }
    }

    fn validate(&self, slice: &EndpointSlice) -> Vec<FieldError> {
        let mut errors = validate_address_type(&slice.address_type);
        errors.extend(validate_endpoints(
            &slice.endpoints,
            &slice.address_type,
            &FieldPath::new("endpoints"),
        ));
        errors.extend(validate_ports(
            slice.ports.as_deref().unwrap_or_default(),
            &FieldPath::new("ports"),
        ));
        errors
    }

    fn validate_update(&self, slice: &EndpointSlice, old: &EndpointSlice) -> Vec<FieldError> {
        let mut errors = self.validate(slice);
        errors.extend(validate_immutable(
            &slice.address_type,
            &old.address_type,
            &FieldPath::new("addressType"),
        ));
        errors
    }

    fn tracks_generation(&self) -> bool {
        true
    }
}

fn validate_address_type(address_type: &str) -> Vec<FieldError> {
    let path = FieldPath::new("addressType");
    if address_type.is_empty() {
        return vec![FieldError::required(&path, "")];
    }
    if !ADDRESS_TYPES.contains(&address_type) {
        return vec![FieldError::not_supported(
            &path,
            address_type,
            &ADDRESS_TYPES,
        )];
    }
    Vec::new()
}

fn validate_endpoints(
    endpoints: &[Endpoint],
    address_type: &str,
    path: &FieldPath,
) -> Vec<FieldError> {
    if endpoints.len() > MAX_ENDPOINTS {
        return vec![FieldError::too_many(
            path,
            Some(endpoints.len()),
            Some(MAX_ENDPOINTS),
        )];
    }
    let mut errors = Vec::new();
    for (index, endpoint) in endpoints.iter().enumerate() {
        errors.extend(validate_endpoint(
            endpoint,
            address_type,
            &path.index(index),
        ));
    }
    errors
}

fn validate_endpoint(endpoint: &Endpoint, address_type: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let addresses_path = path.child("addresses");
    if endpoint.addresses.is_empty() {
        errors.push(FieldError::required(
            &addresses_path,
            "must contain at least 1 address",
        ));
    } else if endpoint.addresses.len() > MAX_ADDRESSES {
        errors.push(FieldError::too_many(
            &addresses_path,
            Some(endpoint.addresses.len()),
            Some(MAX_ADDRESSES),
        ));
    }
    for (index, address) in endpoint.addresses.iter().enumerate() {
        let address_path = addresses_path.index(index);
        // Unknown address types fall through without address checks, as upstream's do.
        match address_type {
            "IPv4" | "IPv6" => errors.extend(validate_endpoint_address(
                address_type,
                address,
                &address_path,
            )),
            "FQDN" => errors.extend(validate_fully_qualified_domain_name(&address_path, address)),
            _ => {}
        }
    }

    if let Some(node_name) = &endpoint.node_name {
        errors.extend(invalid_each(
            &path.child("nodeName"),
            node_name,
            is_dns1123_subdomain(node_name),
        ));
    }

    let topology_path = path.child("deprecatedTopology");
    if let Some(topology) = &endpoint.deprecated_topology {
        if topology.len() > MAX_TOPOLOGY_LABELS {
            errors.push(FieldError::too_many(
                &topology_path,
                Some(topology.len()),
                Some(MAX_TOPOLOGY_LABELS),
            ));
        }
        errors.extend(validate_labels(Some(topology), &topology_path));
        if topology.contains_key(LABEL_TOPOLOGY_ZONE) {
            errors.push(FieldError::internal(
                &topology_path.key(LABEL_TOPOLOGY_ZONE),
                "reserved key was not removed in conversion",
            ));
        }
    }

    if let Some(hostname) = &endpoint.hostname {
        errors.extend(validate_dns1123_label(hostname, &path.child("hostname")));
    }
    if let Some(hints) = &endpoint.hints {
        errors.extend(validate_hints(hints, &path.child("hints")));
    }
    errors
}

/// Checks an IPv4 or IPv6 endpoint address: the family, then upstream's
/// `ValidateEndpointIP` (no unspecified, loopback or link-local addresses).
fn validate_endpoint_address(
    address_type: &str,
    address: &str,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let parsed = parse_ip_sloppy(address);
    let family_matches = match (address_type, parsed) {
        ("IPv4", Some(IpAddr::V4(_))) => true,
        ("IPv6", Some(IpAddr::V6(ip))) => ip.to_ipv4_mapped().is_none(),
        _ => false,
    };
    if !family_matches {
        let detail = if address_type == "IPv4" {
            "must be a valid IPv4 address"
        } else {
            "must be a valid IPv6 address"
        };
        errors.push(FieldError::invalid(path, address, detail));
    }

    let Some(ip) = parsed else {
        errors.push(FieldError::invalid(
            path,
            address,
            "must be a valid IP address",
        ));
        return errors;
    };
    if ip.is_unspecified() {
        errors.push(FieldError::invalid(
            path,
            address,
            format!("may not be unspecified ({address})"),
        ));
    }
    if ip.is_loopback() {
        errors.push(FieldError::invalid(
            path,
            address,
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ));
    }
    if is_link_local_unicast(ip) {
        errors.push(FieldError::invalid(
            path,
            address,
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        ));
    }
    if is_link_local_multicast(ip) {
        errors.push(FieldError::invalid(
            path,
            address,
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
    errors
}

fn is_link_local_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.is_link_local(),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(ip) => ip.is_link_local(),
            None => ip.segments()[0] & 0xffc0 == 0xfe80,
        },
    }
}

fn is_link_local_multicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.octets()[..3] == [224, 0, 0],
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(ip) => ip.octets()[..3] == [224, 0, 0],
            None => ip.segments()[0] & 0xff0f == 0xff02,
        },
    }
}

fn validate_hints(hints: &EndpointHints, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let zones_path = path.child("forZones");
    let zones = hints.for_zones.as_deref().unwrap_or_default();
    if zones.len() > MAX_ZONE_HINTS {
        return vec![FieldError::too_many(
            &zones_path,
            Some(zones.len()),
            Some(MAX_ZONE_HINTS),
        )];
    }
    let mut seen = BTreeSet::new();
    for (index, zone) in zones.iter().enumerate() {
        let name_path = zones_path.index(index).child("name");
        if !seen.insert(zone.name.as_str()) {
            errors.push(FieldError::duplicate(&name_path, &zone.name));
        }
        errors.extend(invalid_each(
            &name_path,
            &zone.name,
            is_valid_label_value(&zone.name),
        ));
    }

    let nodes_path = path.child("forNodes");
    let nodes = hints.for_nodes.as_deref().unwrap_or_default();
    if nodes.len() > MAX_NODE_HINTS {
        errors.push(FieldError::too_many(
            &nodes_path,
            Some(nodes.len()),
            Some(MAX_NODE_HINTS),
        ));
        return errors;
    }
    let mut seen = BTreeSet::new();
    for (index, node) in nodes.iter().enumerate() {
        let name_path = nodes_path.index(index).child("name");
        if !seen.insert(node.name.as_str()) {
            errors.push(FieldError::duplicate(&name_path, &node.name));
        }
        errors.extend(invalid_each(
            &name_path,
            &node.name,
            is_dns1123_subdomain(&node.name),
        ));
    }
    errors
}

fn validate_ports(ports: &[EndpointPort], path: &FieldPath) -> Vec<FieldError> {
    if ports.len() > MAX_PORTS {
        return vec![FieldError::too_many(
            path,
            Some(ports.len()),
            Some(MAX_PORTS),
        )];
    }
    let mut errors = Vec::new();
    let mut names = BTreeSet::new();
    for (index, port) in ports.iter().enumerate() {
        let item = path.index(index);
        let name = port.name.as_deref().unwrap_or_default();
        if !name.is_empty() {
            errors.extend(validate_dns1123_label(name, &item.child("name")));
        }
        if !names.insert(name) {
            errors.push(FieldError::duplicate(
                &item.child("name"),
                rendered(&port.name),
            ));
        }
        match &port.protocol {
            None => errors.push(FieldError::required(&item.child("protocol"), "")),
            Some(protocol) if !PORT_PROTOCOLS.contains(&protocol.as_str()) => {
                errors.push(FieldError::not_supported(
                    &item.child("protocol"),
                    protocol,
                    &PORT_PROTOCOLS,
                ));
            }
            Some(_) => {}
        }
        if let Some(app_protocol) = &port.app_protocol {
            errors.extend(validate_qualified_name(
                app_protocol,
                &item.child("appProtocol"),
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::groups::validation::testing::{defaulted, messages};
    use serde_json::json;

    fn slice(value: serde_json::Value) -> EndpointSlice {
        let mut object = json!({"metadata": {"name": "s", "namespace": "ns",
                                "labels": {"kubernetes.io/service-name": "web"}}});
        if let (Some(target), Some(source)) = (object.as_object_mut(), value.as_object()) {
            target.extend(source.clone());
        }
        serde_json::from_value(object).unwrap()
    }

    #[test]
    fn port_defaults() {
        let object = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "s", "namespace": "ns"}, "addressType": "IPv4", "endpoints": [],
            "ports": [{"port": 80}]});
        let result = defaulted(&EndpointSliceStrategy, object);
        assert_eq!(
            result["ports"],
            json!([{"name": "", "port": 80, "protocol": "TCP"}])
        );
    }

    #[test]
    fn validation_cases() {
        let cases = [
            (
                json!({"addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.1"], "nodeName": "node-1",
                        "hints": {"forZones": [{"name": "zone-a"}]}}],
                       "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}),
                vec![],
            ),
            (
                json!({"addressType": "IP", "endpoints": []}),
                vec![
                    "addressType: Unsupported value: \"IP\": supported values: \"FQDN\", \"IPv4\", \"IPv6\"",
                ],
            ),
            (
                json!({"addressType": "", "endpoints": []}),
                vec!["addressType: Required value"],
            ),
            (
                json!({"addressType": "IPv4", "endpoints": [{"addresses": []}]}),
                vec!["endpoints[0].addresses: Required value: must contain at least 1 address"],
            ),
            (
                json!({"addressType": "IPv4", "endpoints": [{"addresses": ["fd00::1", "127.0.0.1"]}]}),
                vec![
                    "endpoints[0].addresses[0]: Invalid value: \"fd00::1\": must be a valid IPv4 address",
                    "endpoints[0].addresses[1]: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
                ],
            ),
            (
                json!({"addressType": "IPv6", "endpoints": [{"addresses": ["fe80::1"]}]}),
                vec![
                    "endpoints[0].addresses[0]: Invalid value: \"fe80::1\": may not be in the link-local range (169.254.0.0/16, fe80::/10)",
                ],
            ),
            (
                json!({"addressType": "FQDN", "endpoints": [{"addresses": ["web"]}]}),
                vec![
                    "endpoints[0].addresses[0]: Invalid value: \"web\": should be a domain with at least two segments separated by dots",
                ],
            ),
            (
                json!({"addressType": "IPv4", "endpoints": [], "ports": [
                    {"name": "http", "protocol": "TCP"}, {"name": "http", "protocol": "ICMP"}, {"name": "x", "appProtocol": "a b"}]}),
                vec![
                    "ports[1].name: Duplicate value: \"http\"",
                    "ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                    "ports[2].protocol: Required value",
                    "ports[2].appProtocol: Invalid value: \"a b\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                ],
            ),
        ];
        for (value, expected) in cases {
            let errors = EndpointSliceStrategy.validate(&slice(value.clone()));
            assert_eq!(messages(&errors), expected, "{value}");
        }
    }

    #[test]
    fn endpoint_limit() {
        let endpoints: Vec<serde_json::Value> = (0..1001)
            .map(|_| json!({"addresses": ["10.0.0.1"]}))
            .collect();
        let errors = EndpointSliceStrategy.validate(&slice(
            json!({"addressType": "IPv4", "endpoints": endpoints}),
        ));
        assert_eq!(
            messages(&errors),
            ["endpoints: Too many: 1001: must have at most 1000 items"]
        );
    }

    #[test]
    fn address_type_immutable() {
        let old = slice(json!({"addressType": "IPv4", "endpoints": []}));
        let new = slice(json!({"addressType": "IPv6", "endpoints": []}));
        assert_eq!(
            messages(&EndpointSliceStrategy.validate_update(&new, &old)),
            ["addressType: Invalid value: \"IPv6\": field is immutable"]
        );
        assert!(EndpointSliceStrategy.validate_update(&old, &old).is_empty());
    }
}
