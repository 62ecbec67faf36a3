//! The strategy of services (upstream's `pkg/registry/core/service/strategy.go` and
//! `ValidateService`): defaults, cluster IP normalization, keeping allocated values on
//! update, and validation of ports, types and traffic policies.
//!
//! Allocating cluster IPs and node ports is not done here: the store calls an
//! allocator between `prepare_for_create` and `validate`.

use std::collections::BTreeSet;

use apimachinery::errors::{BadValue, FieldError, FieldPath};
use apimachinery::validation;
use k8s_openapi::api::core::v1::{
    ClientIPConfig, Service, ServicePort, ServiceSpec, ServiceStatus, SessionAffinityConfig,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::registry::pod_spec::common::{
    go_string_slice, invalid_each, name_is_dns1035_label, validate_dns1123_label,
    validate_dns1123_subdomain, validate_labels, validate_qualified_name,
};
use crate::registry::pod_spec::container::validate_port_num_or_name;
use crate::registry::pod_spec::defaults::int_or_string_is_zero;
use crate::registry::strategy::Strategy;

/// Session affinity timeout when ClientIP affinity gives none (3 hours).
pub const DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS: i32 = 10800;

/// The longest ClientIP affinity timeout (1 day).
pub const MAX_CLIENT_IP_SERVICE_AFFINITY_SECONDS: i32 = 86400;

const SUPPORTED_PORT_PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

/// Strategy of `services`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServiceStrategy;

fn service_type(spec: &ServiceSpec) -> &str {
    spec.type_.as_deref().unwrap_or_default()
}

/// Returns whether a service is reachable from outside the cluster: NodePort,
/// LoadBalancer, or ClusterIP with external IPs.
fn externally_accessible(spec: &ServiceSpec) -> bool {
    matches!(service_type(spec), "LoadBalancer" | "NodePort")
        || (service_type(spec) == "ClusterIP"
            && spec
                .external_ips
                .as_ref()
                .is_some_and(|ips| !ips.is_empty()))
}

fn is_headless(spec: &ServiceSpec) -> bool {
    spec.cluster_ip.as_deref() == Some("None")
}

fn needs_cluster_ip(spec: &ServiceSpec) -> bool {
    service_type(spec) != "ExternalName"
}

fn needs_node_port(spec: &ServiceSpec) -> bool {
    matches!(service_type(spec), "NodePort" | "LoadBalancer")
}

fn needs_health_check(spec: &ServiceSpec) -> bool {
    service_type(spec) == "LoadBalancer" && spec.external_traffic_policy.as_deref() == Some("Local")
}

impl Strategy for ServiceStrategy {
    type Object = Service;

    fn default(&self, service: &mut Service) {
        let spec = service.spec.get_or_insert_with(Default::default);
        if spec.session_affinity.as_deref().is_none_or(str::is_empty) {
            spec.session_affinity = Some("None".to_string());
        }
        match spec.session_affinity.as_deref() {
            Some("None") => spec.session_affinity_config = None,
            Some("ClientIP") => {
                let has_timeout = spec
                    .session_affinity_config
                    .as_ref()
                    .and_then(|config| config.client_ip.as_ref())
                    .and_then(|client_ip| client_ip.timeout_seconds)
                    .is_some();
                if !has_timeout {
                    spec.session_affinity_config = Some(SessionAffinityConfig {
                        client_ip: Some(ClientIPConfig {
                            timeout_seconds: Some(DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS),
                        }),
                    });
                }
            }
            _ => {}
        }
        if spec.type_.as_deref().is_none_or(str::is_empty) {
            spec.type_ = Some("ClusterIP".to_string());
        }
        for port in spec.ports.iter_mut().flatten() {
            if port.protocol.as_deref().is_none_or(str::is_empty) {
                port.protocol = Some("TCP".to_string());
            }
            if port.target_port.as_ref().is_none_or(int_or_string_is_zero) {
                port.target_port = Some(IntOrString::Int(port.port));
            }
        }
        if externally_accessible(spec)
            && spec
                .external_traffic_policy
                .as_deref()
                .is_none_or(str::is_empty)
        {
            spec.external_traffic_policy = Some("Cluster".to_string());
        }
        if spec.internal_traffic_policy.is_none()
            && matches!(
                service_type(spec),
                "NodePort" | "LoadBalancer" | "ClusterIP"
            )
        {
            spec.internal_traffic_policy = Some("Cluster".to_string());
        }
        if service_type(spec) == "LoadBalancer" {
            spec.allocate_load_balancer_node_ports.get_or_insert(true);
            let ingress = service
                .status
                .as_mut()
                .and_then(|status| status.load_balancer.as_mut())
                .and_then(|load_balancer| load_balancer.ingress.as_mut());
            for entry in ingress.into_iter().flatten() {
                if entry.ip.as_deref().is_some_and(|ip| !ip.is_empty()) && entry.ip_mode.is_none() {
                    entry.ip_mode = Some("VIP".to_string());
                }
            }
        }
    }

    /// Clears the status, keeps `clusterIP` and `clusterIPs` in step and fills the IP
    /// family fields of a single-stack IPv4 cluster.
    fn prepare_for_create(&self, service: &mut Service) {
        service.status = Some(ServiceStatus::default());
        let spec = service.spec.get_or_insert_with(Default::default);
        normalize_cluster_ips(spec, None);
        default_ip_families(spec);
    }

    /// Keeps the status, and the allocated cluster IPs, node ports and health check port
    /// that the update leaves out. A change of type drops the allocated values the new
    /// type has no use for, when the update left them as they were.
    fn prepare_for_update(&self, service: &mut Service, old: &Service) {
        service.status = old.status.clone();
        let old_spec = old.spec.clone().unwrap_or_default();
        let spec = service.spec.get_or_insert_with(Default::default);
        patch_allocated_values(spec, &old_spec);
        normalize_cluster_ips(spec, Some(&old_spec));
        if needs_cluster_ip(spec) && needs_cluster_ip(&old_spec) {
            if spec.ip_families.is_none() {
                spec.ip_families = old_spec.ip_families.clone();
            }
            if spec.ip_family_policy.is_none() {
                spec.ip_family_policy = old_spec.ip_family_policy.clone();
            }
        }
        drop_type_dependent_fields(spec, &old_spec);
        default_ip_families(spec);
        if service_type(spec) != "LoadBalancer"
            && let Some(status) = service.status.as_mut()
        {
            status.load_balancer = None;
        }
    }

    fn validate(&self, service: &Service) -> Vec<FieldError> {
        validate_service(service)
    }

    /// Returns true: a PUT of a missing service creates it, as upstream allows.
    fn allow_create_on_update(&self) -> bool {
        true
    }

    fn validate_update(&self, service: &Service, old: &Service) -> Vec<FieldError> {
        let spec = service.spec.clone().unwrap_or_default();
        let old_spec = old.spec.clone().unwrap_or_default();
        let mut errors = Vec::new();
        errors.extend(validate_cluster_ips_update(&spec, &old_spec));
        errors.extend(validate_ip_families_update(&spec, &old_spec));
        if needs_health_check(&old_spec)
            && needs_health_check(&spec)
            && spec.health_check_node_port != old_spec.health_check_node_port
        {
            errors.push(FieldError::forbidden(
                &FieldPath::from_names(["spec", "healthCheckNodePort"]),
                "field is immutable",
            ));
        }
        if old_spec.load_balancer_class.is_some()
            && spec.load_balancer_class != old_spec.load_balancer_class
            && service_type(&spec) == "LoadBalancer"
            && service_type(&old_spec) == "LoadBalancer"
        {
            errors.push(FieldError::invalid(
                &FieldPath::from_names(["spec", "loadBalancerClass"]),
                spec.load_balancer_class.clone(),
                "may not change once set",
            ));
        }
        errors.extend(validate_service(service));
        errors
    }

    fn validate_status_update(&self, service: &Service, _old: &Service) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let spec = service.spec.clone().unwrap_or_default();
        let ingress_path = FieldPath::from_names(["status", "loadBalancer", "ingress"]);
        let ingress = service
            .status
            .as_ref()
            .and_then(|status| status.load_balancer.as_ref())
            .and_then(|load_balancer| load_balancer.ingress.clone())
            .unwrap_or_default();
        if service_type(&spec) != "LoadBalancer" && !ingress.is_empty() {
            errors.push(FieldError::forbidden(
                &ingress_path,
                "may only be used when `spec.type` is 'LoadBalancer'",
            ));
            return errors;
        }
        for (index, entry) in ingress.iter().enumerate() {
            let entry_path = ingress_path.index(index);
            let ip = entry.ip.as_deref().unwrap_or_default();
            if !ip.is_empty() {
                errors.extend(invalid_each(
                    &entry_path.child("ip"),
                    ip,
                    validation::is_valid_ip(ip),
                ));
            }
            if entry.ip_mode.is_none() && !ip.is_empty() {
                errors.push(FieldError::required(
                    &entry_path.child("ipMode"),
                    "must be specified when `ip` is set",
                ));
            } else if entry.ip_mode.is_some() && ip.is_empty() {
                errors.push(FieldError::forbidden(
                    &entry_path.child("ipMode"),
                    "may not be specified when `ip` is not set",
                ));
            } else if let Some(mode) = entry
                .ip_mode
                .as_deref()
                .filter(|mode| *mode != "VIP" && *mode != "Proxy")
            {
                errors.push(FieldError::not_supported(
                    &entry_path.child("ipMode"),
                    mode,
                    &["Proxy", "VIP"],
                ));
            }
            if let Some(hostname) = entry.hostname.as_deref().filter(|name| !name.is_empty()) {
                errors.extend(validate_dns1123_subdomain(
                    hostname,
                    &entry_path.child("hostname"),
                ));
                if hostname.parse::<std::net::IpAddr>().is_ok() {
                    errors.push(FieldError::invalid(
                        &entry_path.child("hostname"),
                        hostname,
                        "must be a DNS name, not an IP address",
                    ));
                }
            }
        }
        errors
    }
}

/// Drops what an update's new type does not use and the update did not change, as
/// upstream's `dropTypeDependentFields` does. These are the cluster IPs and IP families
/// when leaving the types with a cluster IP, the node ports, the health check port, and
/// the load balancer and external traffic fields.
fn drop_type_dependent_fields(spec: &mut ServiceSpec, old: &ServiceSpec) {
    if needs_cluster_ip(old) && !needs_cluster_ip(spec) {
        if spec.cluster_ip == old.cluster_ip && spec.cluster_ips == old.cluster_ips {
            spec.cluster_ip = None;
            spec.cluster_ips = None;
        }
        if spec.ip_families == old.ip_families {
            spec.ip_families = None;
        }
        if spec.ip_family_policy == old.ip_family_policy {
            spec.ip_family_policy = None;
        }
    }
    if needs_node_port(old) && !needs_node_port(spec) {
        let node_ports = |spec: &ServiceSpec| -> Vec<Option<i32>> {
            spec.ports
                .iter()
                .flatten()
                .map(|port| port.node_port)
                .collect()
        };
        if node_ports(spec) == node_ports(old) {
            for port in spec.ports.iter_mut().flatten() {
                port.node_port = None;
            }
        }
    }
    if needs_health_check(old)
        && !needs_health_check(spec)
        && spec.health_check_node_port == old.health_check_node_port
    {
        spec.health_check_node_port = None;
    }
    if service_type(old) == "LoadBalancer" && service_type(spec) != "LoadBalancer" {
        if spec.allocate_load_balancer_node_ports.is_some()
            && spec.allocate_load_balancer_node_ports == old.allocate_load_balancer_node_ports
        {
            spec.allocate_load_balancer_node_ports = None;
        }
        if spec.load_balancer_class == old.load_balancer_class {
            spec.load_balancer_class = None;
        }
    }
    if externally_accessible(old)
        && !externally_accessible(spec)
        && spec.external_traffic_policy == old.external_traffic_policy
    {
        spec.external_traffic_policy = None;
    }
}

/// Keeps `clusterIP` and `clusterIPs[0]` equal, filling whichever the request left out.
fn normalize_cluster_ips(spec: &mut ServiceSpec, old: Option<&ServiceSpec>) {
    let cluster_ip = spec.cluster_ip.clone().unwrap_or_default();
    let mut cluster_ips = spec.cluster_ips.clone().unwrap_or_default();
    if let Some(old) = old {
        // An update that changes only `clusterIP` (as older clients do) moves the list
        // with it when the list was copied from the old object.
        if old.cluster_ip.as_deref().unwrap_or_default() != cluster_ip
            && spec.cluster_ips == old.cluster_ips
            && !cluster_ip.is_empty()
        {
            cluster_ips = vec![cluster_ip.clone()];
        }
    }
    if cluster_ips.is_empty() && !cluster_ip.is_empty() {
        spec.cluster_ips = Some(vec![cluster_ip]);
    } else if cluster_ip.is_empty() {
        if let Some(first) = cluster_ips.first() {
            spec.cluster_ip = Some(first.clone());
        }
    } else {
        spec.cluster_ips = Some(cluster_ips);
    }
}

/// Fills `ipFamilyPolicy` and `ipFamilies` for a service that needs a cluster IP.
// NOTE: this assumes a single-stack IPv4 service network. Upstream derives the families
// from the configured service CIDRs, and on dual-stack clusters it gives selector-less
// headless services RequireDualStack.
fn default_ip_families(spec: &mut ServiceSpec) {
    if !needs_cluster_ip(spec) {
        return;
    }
    if spec.ip_family_policy.is_none() {
        spec.ip_family_policy = Some("SingleStack".to_string());
    }
    if spec.ip_families.as_ref().is_none_or(Vec::is_empty) {
        let families: Vec<String> = spec
            .cluster_ips
            .iter()
            .flatten()
            .filter(|ip| ip.as_str() != "None" && !ip.is_empty())
            .map(|ip| if ip.contains(':') { "IPv6" } else { "IPv4" }.to_string())
            .collect();
        spec.ip_families = Some(if families.is_empty() {
            vec!["IPv4".to_string()]
        } else {
            families
        });
    }
}

fn patch_allocated_values(spec: &mut ServiceSpec, old: &ServiceSpec) {
    if needs_cluster_ip(old) && needs_cluster_ip(spec) {
        if spec.cluster_ip.as_deref().is_none_or(str::is_empty) {
            spec.cluster_ip = old.cluster_ip.clone();
        }
        if spec.cluster_ips.as_ref().is_none_or(Vec::is_empty)
            && old.cluster_ips.as_ref().is_some_and(|ips| !ips.is_empty())
        {
            spec.cluster_ips = old.cluster_ips.clone();
        }
    }
    if needs_node_port(old) && needs_node_port(spec) {
        let used_by = |ports: &Option<Vec<ServicePort>>| -> BTreeSet<i32> {
            ports
                .iter()
                .flatten()
                .filter_map(|port| port.node_port)
                .filter(|port| *port != 0)
                .collect()
        };
        let used: BTreeSet<i32> = used_by(&old.ports)
            .intersection(&used_by(&spec.ports))
            .copied()
            .collect();
        for port in spec.ports.iter_mut().flatten() {
            if port.node_port.unwrap_or(0) != 0 {
                continue;
            }
            let old_port = old
                .ports
                .iter()
                .flatten()
                .find(|old_port| old_port.name == port.name)
                .and_then(|old_port| old_port.node_port)
                .unwrap_or(0);
            if old_port != 0 && !used.contains(&old_port) {
                port.node_port = Some(old_port);
            }
        }
    }
    if needs_health_check(old)
        && needs_health_check(spec)
        && spec.health_check_node_port.unwrap_or(0) == 0
    {
        spec.health_check_node_port = old.health_check_node_port;
    }
}

/// Validates a service, as upstream's `ValidateService`.
pub fn validate_service(service: &Service) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = service.spec.clone().unwrap_or_default();
    let spec_path = FieldPath::new("spec");
    // NOTE: a service name must be a DNS-1035 label. If the store also checks names as
    // DNS subdomains, a bad name gets a second message that upstream does not send.
    if let Some(name) = service
        .metadata
        .name
        .as_deref()
        .filter(|name| !name.is_empty())
    {
        errors.extend(invalid_each(
            &FieldPath::from_names(["metadata", "name"]),
            name,
            name_is_dns1035_label(name, false),
        ));
    }
    let kind = service_type(&spec);
    let ports = spec.ports.clone().unwrap_or_default();
    let headless = is_headless(&spec);

    if ports.is_empty() && !headless && kind != "ExternalName" {
        errors.push(FieldError::required(&spec_path.child("ports"), ""));
    }
    let cluster_ips = spec.cluster_ips.clone().unwrap_or_default();
    match kind {
        "LoadBalancer" | "NodePort" if headless => errors.push(FieldError::invalid(
            &spec_path.child("clusterIPs").index(0),
            cluster_ips.first().cloned().unwrap_or_default(),
            format!("may not be set to 'None' for {kind} services"),
        )),
        "ExternalName" => {
            if !cluster_ips.is_empty() {
                errors.push(FieldError::forbidden(
                    &spec_path.child("clusterIPs"),
                    "may not be set for ExternalName services",
                ));
            }
            if spec
                .ip_families
                .as_ref()
                .is_some_and(|families| !families.is_empty())
            {
                errors.push(FieldError::forbidden(
                    &spec_path.child("ipFamilies"),
                    "may not be set for ExternalName services",
                ));
            }
            if spec.ip_family_policy.is_some() {
                errors.push(FieldError::forbidden(
                    &spec_path.child("ipFamilyPolicy"),
                    "may not be set for ExternalName services",
                ));
            }
            let external_name = spec.external_name.clone().unwrap_or_default();
            let cname = external_name.strip_suffix('.').unwrap_or(&external_name);
            if cname.is_empty() {
                errors.push(FieldError::required(&spec_path.child("externalName"), ""));
            } else {
                errors.extend(validate_dns1123_subdomain(
                    cname,
                    &spec_path.child("externalName"),
                ));
            }
        }
        _ => {}
    }

    let ports_path = spec_path.child("ports");
    let mut names = BTreeSet::new();
    for (index, port) in ports.iter().enumerate() {
        errors.extend(validate_service_port(
            port,
            ports.len() > 1,
            &mut names,
            &ports_path.index(index),
        ));
    }

    if spec.selector.is_some() {
        errors.extend(validate_labels(
            spec.selector.as_ref(),
            &spec_path.child("selector"),
        ));
    }

    let affinity = spec.session_affinity.clone().unwrap_or_default();
    match affinity.as_str() {
        "" => errors.push(FieldError::required(
            &spec_path.child("sessionAffinity"),
            "",
        )),
        "ClientIP" => errors.extend(validate_client_ip_affinity(
            spec.session_affinity_config.as_ref(),
            &spec_path.child("sessionAffinityConfig"),
        )),
        "None" => {
            if spec.session_affinity_config.is_some() {
                errors.push(FieldError::forbidden(
                    &spec_path.child("sessionAffinityConfig"),
                    "must not be set when session affinity is None",
                ));
            }
        }
        other => errors.push(FieldError::not_supported(
            &spec_path.child("sessionAffinity"),
            other,
            &["ClientIP", "None"],
        )),
    }

    errors.extend(validate_cluster_ips(&spec, &spec_path));

    for (index, ip) in spec.external_ips.iter().flatten().enumerate() {
        let ip_path = spec_path.child("externalIPs").index(index);
        let messages = validation::is_valid_ip(ip);
        if messages.is_empty() {
            errors.extend(validate_non_special_ip(ip, &ip_path));
        } else {
            errors.extend(invalid_each(&ip_path, ip, messages));
        }
    }

    match kind {
        "" => errors.push(FieldError::required(&spec_path.child("type"), "")),
        "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName" => {}
        other => errors.push(FieldError::not_supported(
            &spec_path.child("type"),
            other,
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        )),
    }

    if kind == "ClusterIP" {
        for (index, port) in ports.iter().enumerate() {
            if port.node_port.unwrap_or(0) != 0 {
                errors.push(FieldError::forbidden(
                    &ports_path.index(index).child("nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }

    let mut node_ports = BTreeSet::new();
    for (index, port) in ports.iter().enumerate() {
        let node_port = port.node_port.unwrap_or(0);
        if node_port == 0 {
            continue;
        }
        if !node_ports.insert((port.protocol.clone().unwrap_or_default(), node_port)) {
            errors.push(FieldError::duplicate(
                &ports_path.index(index).child("nodePort"),
                node_port,
            ));
        }
    }
    let mut port_keys = BTreeSet::new();
    for (index, port) in ports.iter().enumerate() {
        let protocol = port.protocol.clone().unwrap_or_default();
        if !port_keys.insert((protocol.clone(), port.port)) {
            errors.push(FieldError::duplicate(
                &ports_path.index(index),
                BadValue::Raw(format!(
                    "{{\"port\":{},\"protocol\":{:?}}}",
                    port.port, protocol
                )),
            ));
        }
    }

    if let Some(ranges) = spec
        .load_balancer_source_ranges
        .as_ref()
        .filter(|ranges| !ranges.is_empty())
    {
        let ranges_path = spec_path.child("LoadBalancerSourceRanges");
        if kind != "LoadBalancer" {
            errors.push(FieldError::forbidden(
                &ranges_path,
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        for (index, range) in ranges.iter().enumerate() {
            let range = range.trim();
            if !is_cidr(range) {
                errors.push(FieldError::invalid(
                    &ranges_path.index(index),
                    range,
                    "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                ));
            }
        }
    }

    if spec.allocate_load_balancer_node_ports.is_some() && kind != "LoadBalancer" {
        errors.push(FieldError::forbidden(
            &spec_path.child("allocateLoadBalancerNodePorts"),
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    if kind == "LoadBalancer" && spec.allocate_load_balancer_node_ports.is_none() {
        errors.push(FieldError::required(
            &FieldPath::new("allocateLoadBalancerNodePorts"),
            "",
        ));
    }

    if let Some(class) = spec.load_balancer_class.as_deref() {
        if kind != "LoadBalancer" {
            errors.push(FieldError::forbidden(
                &spec_path.child("loadBalancerClass"),
                "may only be used when `type` is 'LoadBalancer'",
            ));
        } else {
            errors.extend(validate_qualified_name(
                class,
                &spec_path.child("loadBalancerClass"),
            ));
        }
    }

    errors.extend(validate_traffic_policies(&spec, &spec_path));
    errors
}

fn validate_service_port(
    port: &ServicePort,
    require_name: bool,
    names: &mut BTreeSet<String>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = port.name.clone().unwrap_or_default();
    if require_name && name.is_empty() {
        errors.push(FieldError::required(&path.child("name"), ""));
    } else if !name.is_empty() {
        errors.extend(validate_dns1123_label(&name, &path.child("name")));
        if !names.insert(name.clone()) {
            errors.push(FieldError::duplicate(&path.child("name"), name.as_str()));
        }
    }
    for message in validation::is_valid_port_num(port.port) {
        errors.push(FieldError::invalid(&path.child("port"), port.port, message));
    }
    match port.protocol.as_deref().unwrap_or_default() {
        "" => errors.push(FieldError::required(&path.child("protocol"), "")),
        protocol if !SUPPORTED_PORT_PROTOCOLS.contains(&protocol) => {
            errors.push(FieldError::not_supported(
                &path.child("protocol"),
                protocol,
                SUPPORTED_PORT_PROTOCOLS,
            ));
        }
        _ => {}
    }
    let target = port.target_port.clone().unwrap_or(IntOrString::Int(0));
    errors.extend(validate_port_num_or_name(
        &target,
        &path.child("targetPort"),
    ));
    if let Some(protocol) = port.app_protocol.as_deref() {
        errors.extend(validate_qualified_name(
            protocol,
            &path.child("appProtocol"),
        ));
    }
    errors
}

fn validate_client_ip_affinity(
    config: Option<&SessionAffinityConfig>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let detail = "when session affinity type is ClientIP";
    let Some(config) = config else {
        return vec![FieldError::required(path, detail)];
    };
    let Some(client_ip) = config.client_ip.as_ref() else {
        return vec![FieldError::required(&path.child("clientIP"), detail)];
    };
    let timeout_path = path.child("clientIP").child("timeoutSeconds");
    let Some(timeout) = client_ip.timeout_seconds else {
        return vec![FieldError::required(&timeout_path, detail)];
    };
    if timeout <= 0 || timeout > MAX_CLIENT_IP_SERVICE_AFFINITY_SECONDS {
        return vec![FieldError::invalid(
            &timeout_path,
            timeout,
            format!(
                "must be greater than 0 and less than {MAX_CLIENT_IP_SERVICE_AFFINITY_SECONDS}"
            ),
        )];
    }
    Vec::new()
}

/// Checks `clusterIP`, `clusterIPs`, `ipFamilies` and `ipFamilyPolicy` together, as
/// upstream's `ValidateServiceClusterIPsRelatedFields`.
fn validate_cluster_ips(spec: &ServiceSpec, spec_path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !needs_cluster_ip(spec) {
        return errors;
    }
    let cluster_ip = spec.cluster_ip.clone().unwrap_or_default();
    let cluster_ips = spec.cluster_ips.clone().unwrap_or_default();
    let ips_path = spec_path.child("clusterIPs");

    if !cluster_ip.is_empty() {
        match cluster_ips.first() {
            None => errors.push(FieldError::required(&ips_path, "")),
            Some(first) if *first != cluster_ip => errors.push(FieldError::invalid(
                &ips_path,
                go_string_slice(&cluster_ips),
                "first value must match `clusterIP`",
            )),
            Some(_) => {}
        }
    } else if !cluster_ips.is_empty() {
        errors.push(FieldError::invalid(
            &ips_path,
            go_string_slice(&cluster_ips),
            "must be empty when `clusterIP` is not specified",
        ));
    }

    let families = spec.ip_families.clone().unwrap_or_default();
    let mut seen = BTreeSet::new();
    for (index, family) in families.iter().enumerate() {
        let family_path = spec_path.child("ipFamilies").index(index);
        if family != "IPv4" && family != "IPv6" {
            errors.push(FieldError::not_supported(
                &family_path,
                family.as_str(),
                &["IPv4", "IPv6"],
            ));
        }
        if !seen.insert(family.as_str()) {
            errors.push(FieldError::duplicate(&family_path, family.as_str()));
        }
    }

    if let Some(policy) = spec.ip_family_policy.as_deref()
        && !matches!(
            policy,
            "SingleStack" | "PreferDualStack" | "RequireDualStack"
        )
    {
        errors.push(FieldError::not_supported(
            &spec_path.child("ipFamilyPolicy"),
            policy,
            &["PreferDualStack", "RequireDualStack", "SingleStack"],
        ));
    }

    let mut has_invalid_ips = false;
    for (index, ip) in cluster_ips.iter().enumerate() {
        if index == 0 && ip == "None" {
            if cluster_ips.len() > 1 {
                has_invalid_ips = true;
                errors.push(FieldError::invalid(
                    &ips_path,
                    go_string_slice(&cluster_ips),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        let messages = validation::is_valid_ip(ip);
        has_invalid_ips |= !messages.is_empty();
        errors.extend(invalid_each(&ips_path.index(index), ip, messages));
    }
    if cluster_ips.len() > 2 {
        errors.push(FieldError::invalid(
            &ips_path,
            go_string_slice(&cluster_ips),
            "may only hold up to 2 values",
        ));
    }
    if has_invalid_ips {
        return errors;
    }

    if cluster_ips.len() > 1 {
        let v6 = cluster_ips.iter().filter(|ip| ip.contains(':')).count();
        let dual_stack = v6 == 1 && cluster_ips.len() == 2;
        if !dual_stack {
            errors.push(FieldError::invalid(
                &ips_path,
                go_string_slice(&cluster_ips),
                "may specify no more than one IP for each IP family",
            ));
        }
    }

    let headless = cluster_ips.len() == 1 && cluster_ips[0] == "None";
    if !headless {
        for (index, (ip, family)) in cluster_ips.iter().zip(&families).enumerate() {
            let is_v6 = ip.contains(':');
            if family == "IPv4" && is_v6 {
                errors.push(FieldError::invalid(
                    &ips_path.index(index),
                    ip.as_str(),
                    format!("expected an IPv4 value as indicated by `ipFamilies[{index}]`"),
                ));
            }
            if family == "IPv6" && !is_v6 {
                errors.push(FieldError::invalid(
                    &ips_path.index(index),
                    ip.as_str(),
                    format!("expected an IPv6 value as indicated by `ipFamilies[{index}]`"),
                ));
            }
        }
    }
    errors
}

/// Checks that an update keeps the primary cluster IP, as upstream's
/// `validateUpgradeDowngradeClusterIPs`: a secondary IP may be added, or released when
/// the policy becomes SingleStack.
fn validate_cluster_ips_update(spec: &ServiceSpec, old: &ServiceSpec) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if service_type(spec) == "ExternalName" || service_type(old) == "ExternalName" {
        return errors;
    }
    let headless =
        |spec: &ServiceSpec| spec.cluster_ips.as_deref() == Some(&["None".to_string()][..]);
    if headless(spec) && headless(old) {
        return errors;
    }
    let new_ips = spec.cluster_ips.clone().unwrap_or_default();
    let old_ips = old.cluster_ips.clone().unwrap_or_default();
    let ips_path = FieldPath::from_names(["spec", "clusterIPs"]);
    let changed = || {
        FieldError::invalid(
            &ips_path.index(0),
            go_string_slice(&new_ips),
            "may not change once set",
        )
    };
    if old_ips.len() == new_ips.len() {
        for (index, (old_ip, new_ip)) in old_ips.iter().zip(&new_ips).enumerate() {
            if old_ip != new_ip {
                errors.push(FieldError::invalid(
                    &ips_path.index(index),
                    go_string_slice(&new_ips),
                    "may not change once set",
                ));
            }
        }
    } else if old_ips.len() > new_ips.len() {
        if new_ips.is_empty() {
            errors.push(FieldError::invalid(
                &ips_path.index(0),
                go_string_slice(&new_ips),
                "primary clusterIP can not be unset",
            ));
        }
        if !old_ips.is_empty() && !new_ips.is_empty() && new_ips[0] != old_ips[0] {
            errors.push(changed());
        }
        if new_ips.len() == 1 && spec.ip_family_policy.as_deref() != Some("SingleStack") {
            errors.push(FieldError::invalid(
                &FieldPath::from_names(["spec", "ipFamilyPolicy"]),
                spec.ip_family_policy.clone(),
                "must be set to 'SingleStack' when releasing the secondary clusterIP",
            ));
        }
    } else if !old_ips.is_empty() && new_ips[0] != old_ips[0] {
        errors.push(changed());
    }
    errors
}

/// Checks that an update keeps the primary IP family, as upstream's
/// `validateUpgradeDowngradeIPFamilies`.
fn validate_ip_families_update(spec: &ServiceSpec, old: &ServiceSpec) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if service_type(spec) == "ExternalName" || service_type(old) == "ExternalName" {
        return errors;
    }
    let headless =
        |spec: &ServiceSpec| spec.cluster_ips.as_deref() == Some(&["None".to_string()][..]);
    if headless(spec) || headless(old) {
        return errors;
    }
    let new_families = spec.ip_families.clone().unwrap_or_default();
    let old_families = old.ip_families.clone().unwrap_or_default();
    let new_ips = spec.cluster_ips.clone().unwrap_or_default();
    let primary_path = FieldPath::from_names(["spec", "ipFamilies"]).index(0);
    if old_families.len() == new_families.len() {
        for (old_family, new_family) in old_families.iter().zip(&new_families) {
            if old_family != new_family {
                errors.push(FieldError::invalid(
                    &primary_path,
                    go_string_slice(&new_families),
                    "may not change once set",
                ));
            }
        }
    } else if old_families.len() > new_families.len() {
        if new_ips.is_empty() {
            errors.push(FieldError::invalid(
                &primary_path,
                go_string_slice(&new_families),
                "primary ipFamily can not be unset",
            ));
        }
        if !new_families.is_empty() && new_families[0] != old_families[0] {
            errors.push(FieldError::invalid(
                &primary_path,
                go_string_slice(&new_ips),
                "may not change once set",
            ));
        }
        if new_families.len() == 1 && spec.ip_family_policy.as_deref() != Some("SingleStack") {
            errors.push(FieldError::invalid(
                &FieldPath::from_names(["spec", "ipFamilyPolicy"]),
                spec.ip_family_policy.clone(),
                "must be set to 'SingleStack' when releasing the secondary ipFamily",
            ));
        }
    } else if !old_families.is_empty()
        && !new_families.is_empty()
        && new_families[0] != old_families[0]
    {
        errors.push(FieldError::invalid(
            &primary_path,
            go_string_slice(&new_ips),
            "may not change once set",
        ));
    }
    errors
}

fn validate_traffic_policies(spec: &ServiceSpec, spec_path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let external = spec.external_traffic_policy.clone().unwrap_or_default();
    if !externally_accessible(spec) {
        if !external.is_empty() {
            errors.push(FieldError::invalid(
                &spec_path.child("externalTrafficPolicy"),
                external.as_str(),
                "may only be set for externally-accessible services",
            ));
        }
    } else if external.is_empty() {
        errors.push(FieldError::required(
            &spec_path.child("externalTrafficPolicy"),
            "",
        ));
    } else if external != "Cluster" && external != "Local" {
        errors.push(FieldError::not_supported(
            &spec_path.child("externalTrafficPolicy"),
            external.as_str(),
            &["Cluster", "Local"],
        ));
    }

    let health_check = spec.health_check_node_port.unwrap_or(0);
    if !needs_health_check(spec) {
        if health_check != 0 {
            errors.push(FieldError::invalid(
                &spec_path.child("healthCheckNodePort"),
                health_check,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            ));
        }
    } else if health_check == 0 {
        errors.push(FieldError::required(
            &spec_path.child("healthCheckNodePort"),
            "",
        ));
    } else {
        for message in validation::is_valid_port_num(health_check) {
            errors.push(FieldError::invalid(
                &spec_path.child("healthCheckNodePort"),
                health_check,
                message,
            ));
        }
    }

    match spec.internal_traffic_policy.as_deref() {
        None if matches!(
            service_type(spec),
            "NodePort" | "LoadBalancer" | "ClusterIP"
        ) =>
        {
            errors.push(FieldError::required(
                &spec_path.child("internalTrafficPolicy"),
                "",
            ));
        }
        Some(policy) if policy != "Cluster" && policy != "Local" => {
            errors.push(FieldError::not_supported(
                &spec_path.child("internalTrafficPolicy"),
                policy,
                &["Cluster", "Local"],
            ));
        }
        _ => {}
    }
    if let Some(distribution) = spec.traffic_distribution.as_deref()
        && distribution != "PreferClose"
    {
        errors.push(FieldError::not_supported(
            &spec_path.child("trafficDistribution"),
            distribution,
            &["PreferClose"],
        ));
    }
    errors
}

fn is_cidr(value: &str) -> bool {
    let Some((address, prefix)) = value.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u8>() else {
        return false;
    };
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => prefix <= 32,
        Ok(std::net::IpAddr::V6(_)) => prefix <= 128,
        Err(_) => false,
    }
}

/// Rejects unspecified, loopback and link-local addresses, as upstream's
/// `ValidateNonSpecialIP` for endpoints and external IPs.
pub fn validate_non_special_ip(value: &str, path: &FieldPath) -> Vec<FieldError> {
    let Ok(ip) = value.parse::<std::net::IpAddr>() else {
        return vec![FieldError::invalid(
            path,
            value,
            "must be a valid IP address",
        )];
    };
    let mut errors = Vec::new();
    if ip.is_unspecified() {
        errors.push(FieldError::invalid(
            path,
            value,
            format!("may not be unspecified ({value})"),
        ));
    }
    if ip.is_loopback() {
        errors.push(FieldError::invalid(
            path,
            value,
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ));
    }
    let link_local_unicast = match ip {
        std::net::IpAddr::V4(v4) => v4.is_link_local(),
        std::net::IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    };
    if link_local_unicast {
        errors.push(FieldError::invalid(
            path,
            value,
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        ));
    }
    let link_local_multicast = match ip {
        std::net::IpAddr::V4(v4) => {
            v4.octets()[0] == 224 && v4.octets()[1] == 0 && v4.octets()[2] == 0
        }
        std::net::IpAddr::V6(v6) => (v6.segments()[0] & 0xff0f) == 0xff02,
    };
    if link_local_multicast {
        errors.push(FieldError::invalid(
            path,
            value,
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn defaulted(spec: Value) -> Service {
        let mut service: Service =
            serde_json::from_value(json!({"metadata": {"name": "web"}, "spec": spec}))
                .expect("decodes");
        ServiceStrategy.default(&mut service);
        service
    }

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn defaults_for_cluster_ip_and_node_port() {
        let mut service = defaulted(json!({"ports": [{"port": 80}], "selector": {"app": "web"}}));
        ServiceStrategy.prepare_for_create(&mut service);
        let spec = serde_json::to_value(&service.spec).expect("encodes");
        assert_eq!(
            spec,
            json!({"ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}], "selector": {"app": "web"},
                   "sessionAffinity": "None", "type": "ClusterIP", "internalTrafficPolicy": "Cluster",
                   "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"]})
        );

        let node_port =
            defaulted(json!({"type": "NodePort", "ports": [{"port": 80, "targetPort": "http"}]}));
        let spec = node_port.spec.expect("spec");
        assert_eq!(spec.external_traffic_policy.as_deref(), Some("Cluster"));
        assert_eq!(
            spec.ports.expect("ports")[0].target_port,
            Some(IntOrString::String("http".into()))
        );

        let load_balancer = defaulted(json!({"type": "LoadBalancer", "ports": [{"port": 80}]}));
        assert_eq!(
            load_balancer
                .spec
                .expect("spec")
                .allocate_load_balancer_node_ports,
            Some(true)
        );
    }

    #[test]
    fn validation_rules() {
        let cases: Vec<(&str, Value, Vec<&str>)> = vec![
            ("valid", json!({"ports": [{"port": 80}]}), vec![]),
            (
                "headless without ports",
                json!({"clusterIP": "None"}),
                vec![],
            ),
            ("no ports", json!({}), vec!["spec.ports: Required value"]),
            (
                "unnamed ports",
                json!({"ports": [{"port": 80}, {"port": 81}]}),
                vec![
                    "spec.ports[0].name: Required value",
                    "spec.ports[1].name: Required value",
                ],
            ),
            (
                "duplicate names",
                json!({"ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]}),
                vec!["spec.ports[1].name: Duplicate value: \"a\""],
            ),
            (
                "node port on ClusterIP",
                json!({"ports": [{"port": 80, "nodePort": 30000}]}),
                vec![
                    "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
                ],
            ),
            (
                "port range",
                json!({"ports": [{"port": 0}]}),
                vec![
                    "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                    "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
                ],
            ),
            (
                "duplicate port",
                json!({"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]}),
                vec!["spec.ports[1]: Duplicate value: {\"port\":80,\"protocol\":\"TCP\"}"],
            ),
            (
                "type",
                json!({"type": "Internal", "ports": [{"port": 80}]}),
                vec![
                    "spec.type: Unsupported value: \"Internal\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
                ],
            ),
            (
                "none with a second ip",
                json!({"clusterIP": "None", "clusterIPs": ["None", "10.0.0.1"]}),
                vec![
                    "spec.clusterIPs: Invalid value: [\"None\",\"10.0.0.1\"]: 'None' must be the first and only value",
                ],
            ),
            (
                "ip of the wrong family",
                json!({"ports": [{"port": 80}], "clusterIP": "fd00::1", "ipFamilies": ["IPv4"]}),
                vec![
                    "spec.clusterIPs[0]: Invalid value: \"fd00::1\": expected an IPv4 value as indicated by `ipFamilies[0]`",
                ],
            ),
            (
                "external name",
                json!({"type": "ExternalName"}),
                vec!["spec.externalName: Required value"],
            ),
        ];
        for (name, spec, expected) in cases {
            let mut service = defaulted(spec);
            ServiceStrategy.prepare_for_create(&mut service);
            assert_eq!(
                messages(ServiceStrategy.validate(&service)),
                expected,
                "case {name}"
            );
        }
    }

    #[test]
    fn cluster_ip_is_immutable_and_kept() {
        let mut old = defaulted(json!({"ports": [{"port": 80}], "clusterIP": "10.0.0.10"}));
        ServiceStrategy.prepare_for_create(&mut old);

        let mut omitted = defaulted(json!({"ports": [{"port": 80}]}));
        ServiceStrategy.prepare_for_update(&mut omitted, &old);
        assert_eq!(
            omitted
                .spec
                .as_ref()
                .and_then(|spec| spec.cluster_ip.clone())
                .as_deref(),
            Some("10.0.0.10")
        );
        assert!(ServiceStrategy.validate_update(&omitted, &old).is_empty());

        let mut changed = defaulted(json!({"ports": [{"port": 80}], "clusterIP": "10.0.0.11"}));
        ServiceStrategy.prepare_for_update(&mut changed, &old);
        assert_eq!(
            messages(ServiceStrategy.validate_update(&changed, &old)),
            vec!["spec.clusterIPs[0]: Invalid value: [\"10.0.0.11\"]: may not change once set"]
        );
    }

    #[test]
    fn type_change_drops_allocated_values() {
        let mut old = defaulted(
            json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}], "clusterIP": "10.0.0.10"}),
        );
        ServiceStrategy.prepare_for_create(&mut old);

        let mut to_external: Service = old.clone();
        let spec = to_external.spec.as_mut().expect("spec");
        spec.type_ = Some("ExternalName".to_string());
        spec.external_name = Some("example.com".to_string());
        ServiceStrategy.default(&mut to_external);
        ServiceStrategy.prepare_for_update(&mut to_external, &old);
        let spec = to_external.spec.clone().expect("spec");
        assert_eq!(spec.cluster_ip, None);
        assert_eq!(spec.cluster_ips, None);
        assert_eq!(spec.ip_families, None);
        assert_eq!(spec.ip_family_policy, None);
        assert_eq!(spec.external_traffic_policy, None);
        assert_eq!(spec.ports.expect("ports")[0].node_port, None);
        assert_eq!(
            messages(ServiceStrategy.validate_update(&to_external, &old)),
            Vec::<String>::new()
        );

        let mut to_cluster_ip = old.clone();
        to_cluster_ip.spec.as_mut().expect("spec").type_ = Some("ClusterIP".to_string());
        ServiceStrategy.prepare_for_update(&mut to_cluster_ip, &old);
        let spec = to_cluster_ip.spec.clone().expect("spec");
        assert_eq!(spec.cluster_ip.as_deref(), Some("10.0.0.10"));
        assert_eq!(spec.ports.expect("ports")[0].node_port, None);
        assert_eq!(
            messages(ServiceStrategy.validate_update(&to_cluster_ip, &old)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn node_ports_survive_update() {
        let mut old = defaulted(
            json!({"type": "NodePort", "ports": [{"name": "http", "port": 80, "nodePort": 30080}]}),
        );
        ServiceStrategy.prepare_for_create(&mut old);
        let mut new =
            defaulted(json!({"type": "NodePort", "ports": [{"name": "http", "port": 80}]}));
        ServiceStrategy.prepare_for_update(&mut new, &old);
        assert_eq!(
            new.spec.expect("spec").ports.expect("ports")[0].node_port,
            Some(30080)
        );
    }
}
