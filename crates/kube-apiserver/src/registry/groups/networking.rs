//! networking.k8s.io/v1: NetworkPolicies, Ingresses and IngressClasses.
//!
//! Entry point: [`strategies`]. Defaults: a NetworkPolicy without `policyTypes` gets
//! `Ingress` (plus `Egress` when it has egress rules), a policy port without protocol
//! gets TCP, and IngressClass parameters without scope get `Cluster`. Validation
//! follows upstream's `pkg/apis/networking/validation`; CIDRs use the legacy parser of
//! v1.33 (StrictIPCIDRValidation off).

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation::{
    is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_valid_path_segment_name,
    is_valid_port_name, is_valid_port_num, is_wildcard_dns1123_subdomain,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, Ingress, IngressBackend, IngressClass, IngressClassParametersReference,
    IngressClassSpec, IngressRule, IngressSpec, IngressStatus, NetworkPolicy, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::validation::{
    go_string_slice, invalid_each, parse_cidr_sloppy, parse_ip_sloppy,
    validate_cidr_for_legacy_field, validate_domain_prefixed_path, validate_immutable,
    validate_label_selector,
};
use super::{ResourceStrategy, entry};
use crate::registry::strategy::Strategy;

const POLICY_TYPES: [&str; 2] = ["Ingress", "Egress"];
const POLICY_PORT_PROTOCOLS: [&str; 3] = ["TCP", "UDP", "SCTP"];
const PATH_TYPES: [&str; 3] = ["Exact", "ImplementationSpecific", "Prefix"];
const INVALID_PATH_SEQUENCES: [&str; 5] = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES: [&str; 2] = ["/..", "/."];
const PARAMETERS_SCOPES: [&str; 2] = ["Cluster", "Namespace"];
const MAX_INGRESS_CLASS_CONTROLLER_LENGTH: usize = 250;

/// The legacy annotation that names an Ingress's class.
const ANNOTATION_INGRESS_CLASS: &str = "kubernetes.io/ingress.class";

/// Returns the strategies of the networking.k8s.io/v1 resources.
pub fn strategies() -> Vec<ResourceStrategy> {
    vec![
        entry(Arc::new(NetworkPolicyStrategy)),
        entry(Arc::new(IngressStrategy)),
        entry(Arc::new(IngressClassStrategy)),
    ]
}

/// Strategy of `networkpolicies`.
pub struct NetworkPolicyStrategy;

impl Strategy for NetworkPolicyStrategy {
    type Object = NetworkPolicy;

    fn default(&self, policy: &mut NetworkPolicy) {
        let spec = policy.spec.get_or_insert_with(Default::default);
        let rules_ports = spec
            .ingress
            .iter_mut()
            .flatten()
            .flat_map(|rule| rule.ports.iter_mut().flatten())
            .chain(
                spec.egress
                    .iter_mut()
                    .flatten()
                    .flat_map(|rule| rule.ports.iter_mut().flatten()),
            );
        for port in rules_ports {
            port.protocol.get_or_insert_with(|| "TCP".to_string());
        }
        if spec.policy_types.as_ref().is_none_or(Vec::is_empty) {
            let mut types = vec!["Ingress".to_string()];
            if spec.egress.as_ref().is_some_and(|rules| !rules.is_empty()) {
                types.push("Egress".to_string());
            }
            spec.policy_types = Some(types);
        }
    }

    fn validate(&self, policy: &NetworkPolicy) -> Vec<FieldError> {
        validate_network_policy_spec(policy.spec.as_ref(), false)
    }

    fn validate_update(&self, policy: &NetworkPolicy, old: &NetworkPolicy) -> Vec<FieldError> {
        let old_selector = old
            .spec
            .as_ref()
            .and_then(|spec| spec.pod_selector.as_ref());
        let allow_invalid =
            !validate_label_selector(old_selector, false, &FieldPath::default()).is_empty();
        validate_network_policy_spec(policy.spec.as_ref(), allow_invalid)
    }

    fn tracks_generation(&self) -> bool {
        true
    }
}

fn validate_network_policy_spec(
    spec: Option<&NetworkPolicySpec>,
    allow_invalid_label_values: bool,
) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    let default_spec = NetworkPolicySpec::default();
    let spec = spec.unwrap_or(&default_spec);
    let mut errors = validate_label_selector(
        spec.pod_selector.as_ref(),
        allow_invalid_label_values,
        &path.child("podSelector"),
    );

    for (index, rule) in spec.ingress.iter().flatten().enumerate() {
        let rule_path = path.child("ingress").index(index);
        for (port_index, port) in rule.ports.iter().flatten().enumerate() {
            errors.extend(validate_policy_port(
                port,
                &rule_path.child("ports").index(port_index),
            ));
        }
        for (peer_index, peer) in rule.from.iter().flatten().enumerate() {
            errors.extend(validate_policy_peer(
                peer,
                allow_invalid_label_values,
                &rule_path.child("from").index(peer_index),
            ));
        }
    }
    for (index, rule) in spec.egress.iter().flatten().enumerate() {
        let rule_path = path.child("egress").index(index);
        for (port_index, port) in rule.ports.iter().flatten().enumerate() {
            errors.extend(validate_policy_port(
                port,
                &rule_path.child("ports").index(port_index),
            ));
        }
        for (peer_index, peer) in rule.to.iter().flatten().enumerate() {
            errors.extend(validate_policy_peer(
                peer,
                allow_invalid_label_values,
                &rule_path.child("to").index(peer_index),
            ));
        }
    }

    let types = spec.policy_types.as_deref().unwrap_or_default();
    if types.len() > POLICY_TYPES.len() {
        errors.push(FieldError::invalid(
            &path.child("policyTypes"),
            go_string_slice(types),
            "may not specify more than two policyTypes",
        ));
        return errors;
    }
    for (index, policy_type) in types.iter().enumerate() {
        if !POLICY_TYPES.contains(&policy_type.as_str()) {
            errors.push(FieldError::not_supported(
                &path.child("policyTypes").index(index),
                policy_type,
                &POLICY_TYPES,
            ));
        }
    }
    errors
}

/// Upstream's `ValidateNetworkPolicyPort`.
fn validate_policy_port(port: &NetworkPolicyPort, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(protocol) = &port.protocol
        && !POLICY_PORT_PROTOCOLS.contains(&protocol.as_str())
    {
        errors.push(FieldError::not_supported(
            &path.child("protocol"),
            protocol,
            &POLICY_PORT_PROTOCOLS,
        ));
    }
    match (&port.port, port.end_port) {
        (Some(IntOrString::Int(number)), end_port) => {
            for message in is_valid_port_num(*number) {
                errors.push(FieldError::invalid(&path.child("port"), *number, message));
            }
            if let Some(end_port) = end_port {
                if end_port < *number {
                    // Upstream shows the start port as the bad value here.
                    errors.push(FieldError::invalid(
                        &path.child("endPort"),
                        *number,
                        "must be greater than or equal to `port`",
                    ));
                }
                for message in is_valid_port_num(end_port) {
                    errors.push(FieldError::invalid(
                        &path.child("endPort"),
                        end_port,
                        message,
                    ));
                }
            }
        }
        (Some(IntOrString::String(name)), end_port) => {
            if let Some(end_port) = end_port {
                errors.push(FieldError::invalid(
                    &path.child("endPort"),
                    end_port,
                    "may not be specified when `port` is non-numeric",
                ));
            }
            errors.extend(invalid_each(
                &path.child("port"),
                name,
                is_valid_port_name(name),
            ));
        }
        (None, Some(end_port)) => errors.push(FieldError::invalid(
            &path.child("endPort"),
            end_port,
            "may not be specified when `port` is not specified",
        )),
        (None, None) => {}
    }
    errors
}

/// Upstream's `ValidateNetworkPolicyPeer`.
fn validate_policy_peer(
    peer: &NetworkPolicyPeer,
    allow_invalid_label_values: bool,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut peers = 0;
    if let Some(selector) = &peer.pod_selector {
        peers += 1;
        errors.extend(validate_label_selector(
            Some(selector),
            allow_invalid_label_values,
            &path.child("podSelector"),
        ));
    }
    if let Some(selector) = &peer.namespace_selector {
        peers += 1;
        errors.extend(validate_label_selector(
            Some(selector),
            allow_invalid_label_values,
            &path.child("namespaceSelector"),
        ));
    }
    if let Some(block) = &peer.ip_block {
        peers += 1;
        errors.extend(validate_ip_block(
            &block.cidr,
            block.except.as_deref().unwrap_or_default(),
            &path.child("ipBlock"),
        ));
    }

    if peers == 0 {
        errors.push(FieldError::required(path, "must specify a peer"));
    } else if peers > 1 && peer.ip_block.is_some() {
        errors.push(FieldError::forbidden(
            path,
            "may not specify both ipBlock and another peer",
        ));
    }
    errors
}

/// Upstream's `ValidateIPBlock`: a CIDR and exceptions that are strict subsets of it.
fn validate_ip_block(cidr: &str, except: &[String], path: &FieldPath) -> Vec<FieldError> {
    if cidr.is_empty() {
        return vec![FieldError::required(&path.child("cidr"), "")];
    }
    let mut errors = validate_cidr_for_legacy_field(&path.child("cidr"), cidr);
    let Some(network) = parse_cidr_sloppy(cidr) else {
        return errors;
    };
    for (index, except_cidr) in except.iter().enumerate() {
        let except_path = path.child("except").index(index);
        errors.extend(validate_cidr_for_legacy_field(&except_path, except_cidr));
        let Some(excluded) = parse_cidr_sloppy(except_cidr) else {
            continue;
        };
        if !network.contains(excluded.network) || network.prefix_length >= excluded.prefix_length {
            errors.push(FieldError::invalid(
                &except_path,
                except_cidr,
                "must be a strict subset of `cidr`",
            ));
        }
    }
    errors
}

/// Strategy of `ingresses`. Create clears the status and updates keep it; the status
/// subresource validates load balancer addresses.
pub struct IngressStrategy;

impl Strategy for IngressStrategy {
    type Object = Ingress;

    fn prepare_for_create(&self, ingress: &mut Ingress) {
        ingress.status = None;
    }

    fn prepare_for_update(&self, ingress: &mut Ingress, old: &Ingress) {
        ingress.status = old.status.clone();
    }

    fn validate(&self, ingress: &Ingress) -> Vec<FieldError> {
        let mut errors = validate_ingress_spec(ingress.spec.as_ref(), IngressOptions::default());
        let annotation = ingress
            .metadata
            .annotations
            .as_ref()
            .and_then(|annotations| annotations.get(ANNOTATION_INGRESS_CLASS));
        let class_name = ingress
            .spec
            .as_ref()
            .and_then(|spec| spec.ingress_class_name.as_ref());
        if let (Some(annotation), Some(class_name)) = (annotation, class_name)
            && annotation != class_name
        {
            errors.push(FieldError::invalid(
                &FieldPath::new("annotations").child(ANNOTATION_INGRESS_CLASS),
                annotation,
                "must match `ingressClassName` when both are specified",
            ));
        }
        errors
    }

    fn validate_update(&self, ingress: &Ingress, old: &Ingress) -> Vec<FieldError> {
        let options = IngressOptions {
            allow_invalid_secret_name: has_invalid_secret_name(old),
            allow_invalid_wildcard_host_rule: has_invalid_wildcard_host_rule(old),
        };
        validate_ingress_spec(ingress.spec.as_ref(), options)
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn validate_status_update(&self, ingress: &Ingress, _old: &Ingress) -> Vec<FieldError> {
        validate_ingress_status(ingress.status.as_ref())
    }
}

/// Relaxations upstream grants on update to objects stored before a rule existed.
#[derive(Clone, Copy, Default)]
struct IngressOptions {
    allow_invalid_secret_name: bool,
    allow_invalid_wildcard_host_rule: bool,
}

fn has_invalid_secret_name(old: &Ingress) -> bool {
    old.spec
        .iter()
        .flat_map(|spec| spec.tls.iter().flatten())
        .any(|tls| {
            let name = tls.secret_name.as_deref().unwrap_or_default();
            !name.is_empty() && !is_dns1123_subdomain(name).is_empty()
        })
}

fn has_invalid_wildcard_host_rule(old: &Ingress) -> bool {
    old.spec
        .iter()
        .flat_map(|spec| spec.rules.iter().flatten())
        .any(|rule| {
            rule.host.as_deref().unwrap_or_default().contains('*')
                && !validate_rule_value(rule, &FieldPath::default(), IngressOptions::default())
                    .is_empty()
        })
}

/// Upstream's `ValidateIngressSpec`.
fn validate_ingress_spec(spec: Option<&IngressSpec>, options: IngressOptions) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    let default_spec = IngressSpec::default();
    let spec = spec.unwrap_or(&default_spec);
    let rules = spec.rules.as_deref().unwrap_or_default();
    let mut errors = Vec::new();

    if rules.is_empty() && spec.default_backend.is_none() {
        errors.push(FieldError::invalid(
            &path,
            apimachinery::errors::BadValue::Raw("[]networking.IngressRule(nil)".to_string()),
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(backend) = &spec.default_backend {
        errors.extend(validate_ingress_backend(
            backend,
            &path.child("defaultBackend"),
        ));
    }
    let rules_path = path.child("rules");
    for (index, rule) in rules.iter().enumerate() {
        errors.extend(validate_ingress_rule(
            rule,
            &rules_path.index(index),
            options,
        ));
    }

    let tls_path = path.child("tls");
    for (tls_index, tls) in spec.tls.iter().flatten().enumerate() {
        for (host_index, host) in tls.hosts.iter().flatten().enumerate() {
            let host_path = tls_path.index(tls_index).child("hosts").index(host_index);
            let messages = if host.contains('*') {
                is_wildcard_dns1123_subdomain(host)
            } else {
                is_dns1123_subdomain(host)
            };
            errors.extend(invalid_each(&host_path, host, messages));
        }
        let secret_name = tls.secret_name.as_deref().unwrap_or_default();
        if !options.allow_invalid_secret_name && !secret_name.is_empty() {
            errors.extend(invalid_each(
                &tls_path.index(tls_index).child("secretName"),
                secret_name,
                is_dns1123_subdomain(secret_name),
            ));
        }
    }

    if let Some(class_name) = &spec.ingress_class_name {
        errors.extend(invalid_each(
            &path.child("ingressClassName"),
            class_name,
            is_dns1123_subdomain(class_name),
        ));
    }
    errors
}

fn validate_ingress_rule(
    rule: &IngressRule,
    path: &FieldPath,
    options: IngressOptions,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let host = rule.host.as_deref().unwrap_or_default();
    let wildcard = host.contains('*');
    if !host.is_empty() {
        if parse_ip_sloppy(host).is_some() {
            errors.push(FieldError::invalid(
                &path.child("host"),
                host,
                "must be a DNS name, not an IP address",
            ));
        }
        let messages = if wildcard {
            is_wildcard_dns1123_subdomain(host)
        } else {
            is_dns1123_subdomain(host)
        };
        errors.extend(invalid_each(&path.child("host"), host, messages));
    }
    if !wildcard || !options.allow_invalid_wildcard_host_rule {
        errors.extend(validate_rule_value(rule, path, options));
    }
    errors
}

fn validate_rule_value(
    rule: &IngressRule,
    path: &FieldPath,
    _options: IngressOptions,
) -> Vec<FieldError> {
    let Some(http) = &rule.http else {
        return Vec::new();
    };
    let paths_path = path.child("http").child("paths");
    let mut errors = Vec::new();
    if http.paths.is_empty() {
        errors.push(FieldError::required(&paths_path, ""));
    }
    for (index, http_path) in http.paths.iter().enumerate() {
        errors.extend(validate_http_path(http_path, &paths_path.index(index)));
    }
    errors
}

/// Upstream's `validateHTTPIngressPath`. A missing `pathType` decodes as empty, which
/// is reported as required, as upstream reports a nil one.
fn validate_http_path(http_path: &HTTPIngressPath, path: &FieldPath) -> Vec<FieldError> {
    if http_path.path_type.is_empty() {
        return vec![FieldError::required(
            &path.child("pathType"),
            "pathType must be specified",
        )];
    }
    let mut errors = Vec::new();
    let value = http_path.path.as_deref().unwrap_or_default();
    let value_path = path.child("path");
    match http_path.path_type.as_str() {
        "Exact" | "Prefix" => {
            if !value.starts_with('/') {
                errors.push(FieldError::invalid(
                    &value_path,
                    value,
                    "must be an absolute path",
                ));
            }
            if !value.is_empty() {
                for sequence in INVALID_PATH_SEQUENCES {
                    if value.contains(sequence) {
                        errors.push(FieldError::invalid(
                            &value_path,
                            value,
                            format!("must not contain '{sequence}'"),
                        ));
                    }
                }
                for suffix in INVALID_PATH_SUFFIXES {
                    if value.ends_with(suffix) {
                        errors.push(FieldError::invalid(
                            &value_path,
                            value,
                            format!("cannot end with '{suffix}'"),
                        ));
                    }
                }
            }
        }
        "ImplementationSpecific" => {
            if !value.is_empty() && !value.starts_with('/') {
                errors.push(FieldError::invalid(
                    &value_path,
                    value,
                    "must be an absolute path",
                ));
            }
        }
        other => errors.push(FieldError::not_supported(
            &path.child("pathType"),
            other,
            &PATH_TYPES,
        )),
    }
    errors.extend(validate_ingress_backend(
        &http_path.backend,
        &path.child("backend"),
    ));
    errors
}

/// Upstream's `validateIngressBackend`: exactly one of a resource or a service with a
/// port name or number.
fn validate_ingress_backend(backend: &IngressBackend, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match (&backend.resource, &backend.service) {
        (Some(_), Some(_)) => {
            errors.push(FieldError::invalid(
                path,
                "",
                "cannot set both resource and service backends",
            ));
        }
        (Some(resource), None) => errors.extend(validate_typed_local_object_reference(
            resource.api_group.as_deref(),
            &resource.kind,
            &resource.name,
            &path.child("resource"),
        )),
        (None, Some(service)) => {
            let name_path = path.child("service").child("name");
            if service.name.is_empty() {
                errors.push(FieldError::required(&name_path, ""));
            } else {
                errors.extend(invalid_each(
                    &name_path,
                    &service.name,
                    is_dns1035_label(&service.name),
                ));
            }
            let port = service.port.clone().unwrap_or_default();
            let port_name = port.name.as_deref().unwrap_or_default();
            let port_number = port.number.unwrap_or(0);
            let port_path = path.child("service").child("port");
            match (!port_name.is_empty(), port_number != 0) {
                (true, true) => errors.push(FieldError::invalid(
                    path,
                    "",
                    "cannot set both port name & port number",
                )),
                (true, false) => errors.extend(invalid_each(
                    &port_path.child("name"),
                    port_name,
                    is_valid_port_name(port_name),
                )),
                (false, true) => {
                    for message in is_valid_port_num(port_number) {
                        errors.push(FieldError::invalid(
                            &port_path.child("number"),
                            port_number,
                            message,
                        ));
                    }
                }
                (false, false) => errors.push(FieldError::required(
                    path,
                    "port name or number is required",
                )),
            }
        }
        (None, None) => errors.push(FieldError::invalid(
            path,
            "",
            "resource or service backend is required",
        )),
    }
    errors
}

/// Upstream's `validateIngressTypedLocalObjectReference`.
fn validate_typed_local_object_reference(
    api_group: Option<&str>,
    kind: &str,
    name: &str,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(group) = api_group {
        errors.extend(invalid_each(
            &path.child("apiGroup"),
            group,
            is_dns1123_subdomain(group),
        ));
    }
    if kind.is_empty() {
        errors.push(FieldError::required(
            &path.child("kind"),
            "kind is required",
        ));
    } else {
        errors.extend(invalid_each(
            &path.child("kind"),
            kind,
            is_valid_path_segment_name(kind),
        ));
    }
    if name.is_empty() {
        errors.push(FieldError::required(
            &path.child("name"),
            "name is required",
        ));
    } else {
        errors.extend(invalid_each(
            &path.child("name"),
            name,
            is_valid_path_segment_name(name),
        ));
    }
    errors
}

/// Upstream's `ValidateIngressLoadBalancerStatus`.
fn validate_ingress_status(status: Option<&IngressStatus>) -> Vec<FieldError> {
    let path = FieldPath::from_names(["status", "loadBalancer", "ingress"]);
    let entries = status
        .and_then(|status| status.load_balancer.as_ref())
        .and_then(|balancer| balancer.ingress.as_deref())
        .unwrap_or_default();
    let mut errors = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let item = path.index(index);
        if let Some(ip) = entry.ip.as_deref().filter(|ip| !ip.is_empty()) {
            errors.extend(invalid_each(
                &item.child("ip"),
                ip,
                apimachinery::validation::is_valid_ip_for_legacy_field(ip, false),
            ));
        }
        if let Some(hostname) = entry
            .hostname
            .as_deref()
            .filter(|hostname| !hostname.is_empty())
        {
            errors.extend(invalid_each(
                &item.child("hostname"),
                hostname,
                is_dns1123_subdomain(hostname),
            ));
            if parse_ip_sloppy(hostname).is_some() {
                errors.push(FieldError::invalid(
                    &item.child("hostname"),
                    hostname,
                    "must be a DNS name, not an IP address",
                ));
            }
        }
    }
    errors
}

/// Strategy of `ingressclasses`. `spec.controller` is immutable.
pub struct IngressClassStrategy;

impl Strategy for IngressClassStrategy {
    type Object = IngressClass;

    fn default(&self, class: &mut IngressClass) {
        let parameters = class
            .spec
            .as_mut()
            .and_then(|spec| spec.parameters.as_mut());
        if let Some(parameters) = parameters {
            parameters
                .scope
                .get_or_insert_with(|| "Cluster".to_string());
        }
    }

    fn validate(&self, class: &IngressClass) -> Vec<FieldError> {
        let default_spec = IngressClassSpec::default();
        let spec = class.spec.as_ref().unwrap_or(&default_spec);
        let path = FieldPath::new("spec");
        let controller = spec.controller.as_deref().unwrap_or_default();
        let mut errors = Vec::new();
        if controller.len() > MAX_INGRESS_CLASS_CONTROLLER_LENGTH {
            errors.push(FieldError::too_long(
                &path.child("controller"),
                Some(MAX_INGRESS_CLASS_CONTROLLER_LENGTH),
            ));
        }
        errors.extend(validate_domain_prefixed_path(
            &path.child("controller"),
            controller,
        ));
        if let Some(parameters) = &spec.parameters {
            errors.extend(validate_parameters_reference(
                parameters,
                &path.child("parameters"),
            ));
        }
        errors
    }

    fn validate_update(&self, class: &IngressClass, old: &IngressClass) -> Vec<FieldError> {
        let controller =
            |class: &IngressClass| class.spec.as_ref().and_then(|spec| spec.controller.clone());
        let mut errors = validate_immutable(
            &controller(class),
            &controller(old),
            &FieldPath::from_names(["spec", "controller"]),
        );
        errors.extend(self.validate(class));
        errors
    }

    fn tracks_generation(&self) -> bool {
        true
    }
}

/// Upstream's `validateIngressClassParametersReference`.
fn validate_parameters_reference(
    parameters: &IngressClassParametersReference,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = validate_typed_local_object_reference(
        parameters.api_group.as_deref(),
        &parameters.kind,
        &parameters.name,
        path,
    );
    let Some(scope) = &parameters.scope else {
        errors.push(FieldError::required(&path.child("scope"), ""));
        return errors;
    };
    if !PARAMETERS_SCOPES.contains(&scope.as_str()) {
        errors.push(FieldError::not_supported(
            &path.child("scope"),
            scope,
            &PARAMETERS_SCOPES,
        ));
        return errors;
    }
    if scope == "Namespace" {
        match &parameters.namespace {
            None => errors.push(FieldError::required(
                &path.child("namespace"),
                "`parameters.scope` is set to 'Namespace'",
            )),
            Some(namespace) => {
                errors.extend(invalid_each(
                    &path.child("namespace"),
                    namespace,
                    is_dns1123_label(namespace),
                ));
            }
        }
    }
    if scope == "Cluster" && parameters.namespace.is_some() {
        errors.push(FieldError::forbidden(
            &path.child("namespace"),
            "`parameters.scope` is set to 'Cluster'",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::groups::validation::testing::{defaulted, messages};
    use serde_json::json;

    fn policy(spec: serde_json::Value) -> NetworkPolicy {
        serde_json::from_value(json!({"metadata": {"name": "np", "namespace": "ns"}, "spec": spec}))
            .unwrap()
    }

    #[test]
    fn network_policy_defaults() {
        let cases = [
            (json!({"podSelector": {}}), json!(["Ingress"])),
            (
                json!({"podSelector": {}, "egress": [{"to": [{"podSelector": {}}]}]}),
                json!(["Ingress", "Egress"]),
            ),
            (
                json!({"podSelector": {}, "policyTypes": ["Egress"]}),
                json!(["Egress"]),
            ),
        ];
        for (spec, expected) in cases {
            let object = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                "metadata": {"name": "np", "namespace": "ns"}, "spec": spec});
            assert_eq!(
                defaulted(&NetworkPolicyStrategy, object)["spec"]["policyTypes"],
                expected
            );
        }
        let object = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "np", "namespace": "ns"},
            "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]}});
        let result = defaulted(&NetworkPolicyStrategy, object);
        assert_eq!(
            result["spec"]["ingress"][0]["ports"][0],
            json!({"port": 80, "protocol": "TCP"})
        );
    }

    #[test]
    fn network_policy_validation() {
        let cases = [
            (
                json!({"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                        "ports": [{"port": 80, "endPort": 90, "protocol": "TCP"}]}]}),
                vec![],
            ),
            (
                json!({"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]}),
                vec![
                    "spec.ingress[0].from[0].ipBlock.cidr: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                ],
            ),
            (
                json!({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/8", "192.168.0.0/24"]}}]}]}),
                vec![
                    "spec.egress[0].to[0].ipBlock.except[0]: Invalid value: \"10.0.0.0/8\": must be a strict subset of `cidr`",
                    "spec.egress[0].to[0].ipBlock.except[1]: Invalid value: \"192.168.0.0/24\": must be a strict subset of `cidr`",
                ],
            ),
            (
                json!({"podSelector": {}, "ingress": [{"from": [{}, {"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]}),
                vec![
                    "spec.ingress[0].from[0]: Required value: must specify a peer",
                    "spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer",
                ],
            ),
            (
                json!({"podSelector": {}, "ingress": [{"ports": [{"protocol": "ICMP", "port": 90, "endPort": 80}, {"port": "http", "endPort": 81}, {"endPort": 82}]}]}),
                vec![
                    "spec.ingress[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"",
                    "spec.ingress[0].ports[0].endPort: Invalid value: 90: must be greater than or equal to `port`",
                    "spec.ingress[0].ports[1].endPort: Invalid value: 81: may not be specified when `port` is non-numeric",
                    "spec.ingress[0].ports[2].endPort: Invalid value: 82: may not be specified when `port` is not specified",
                ],
            ),
            (
                json!({"podSelector": {}, "policyTypes": ["Ingress", "Sideways"]}),
                vec![
                    "spec.policyTypes[1]: Unsupported value: \"Sideways\": supported values: \"Ingress\", \"Egress\"",
                ],
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(
                messages(&NetworkPolicyStrategy.validate(&policy(spec.clone()))),
                expected,
                "{spec}"
            );
        }
    }

    fn ingress(spec: serde_json::Value) -> Ingress {
        serde_json::from_value(
            json!({"metadata": {"name": "ing", "namespace": "ns"}, "spec": spec}),
        )
        .unwrap()
    }

    #[test]
    fn ingress_validation() {
        let backend = json!({"service": {"name": "web", "port": {"number": 80}}});
        let cases = [
            (
                json!({"rules": [{"host": "example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}]}),
                vec![],
            ),
            (
                json!({}),
                vec![
                    "spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified",
                ],
            ),
            (
                json!({"rules": [{"http": {"paths": [{"path": "/", "backend": backend}]}}]}),
                vec![
                    "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
                ],
            ),
            (
                json!({"rules": [{"host": "10.0.0.1", "http": {"paths": [{"path": "a//b", "pathType": "Exact", "backend": backend}]}}]}),
                vec![
                    "spec.rules[0].host: Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address",
                    "spec.rules[0].http.paths[0].path: Invalid value: \"a//b\": must be an absolute path",
                    "spec.rules[0].http.paths[0].path: Invalid value: \"a//b\": must not contain '//'",
                ],
            ),
            (
                json!({"rules": [{"http": {"paths": [{"path": "/x", "pathType": "Regex", "backend": {}}]}}]}),
                vec![
                    "spec.rules[0].http.paths[0].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"",
                    "spec.rules[0].http.paths[0].backend: Invalid value: \"\": resource or service backend is required",
                ],
            ),
            (
                json!({"defaultBackend": {"service": {"name": "web", "port": {"name": "http", "number": 80}}}}),
                vec![
                    "spec.defaultBackend: Invalid value: \"\": cannot set both port name & port number",
                ],
            ),
            (
                json!({"defaultBackend": {"service": {"name": "web"}}}),
                vec!["spec.defaultBackend: Required value: port name or number is required"],
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(
                messages(&IngressStrategy.validate(&ingress(spec.clone()))),
                expected,
                "{spec}"
            );
        }
    }

    #[test]
    fn ingress_class_annotation_must_match() {
        let mut object = ingress(json!({"ingressClassName": "nginx",
            "defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}));
        object.metadata.annotations =
            Some([(ANNOTATION_INGRESS_CLASS.to_string(), "traefik".to_string())].into());
        assert_eq!(
            messages(&IngressStrategy.validate(&object)),
            [
                "annotations.kubernetes.io/ingress.class: Invalid value: \"traefik\": must match `ingressClassName` when both are specified"
            ]
        );
    }

    #[test]
    fn ingress_status_handling() {
        let mut old = ingress(
            json!({"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}),
        );
        old.status =
            serde_json::from_value(json!({"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}))
                .unwrap();
        let mut new = old.clone();
        new.status = None;
        IngressStrategy.prepare_for_update(&mut new, &old);
        assert_eq!(new.status, old.status);

        new.status = serde_json::from_value(
            json!({"loadBalancer": {"ingress": [{"hostname": "10.0.0.2"}]}}),
        )
        .unwrap();
        assert_eq!(
            messages(&IngressStrategy.validate_status_update(&new, &old)),
            [
                "status.loadBalancer.ingress[0].hostname: Invalid value: \"10.0.0.2\": must be a DNS name, not an IP address"
            ]
        );
    }

    fn ingress_class(spec: serde_json::Value) -> IngressClass {
        serde_json::from_value(json!({"metadata": {"name": "nginx"}, "spec": spec})).unwrap()
    }

    #[test]
    fn ingress_class_rules() {
        let object = json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"},
            "spec": {"controller": "example.com/ingress", "parameters": {"kind": "Config", "name": "c"}}});
        let result = defaulted(&IngressClassStrategy, object);
        assert_eq!(result["spec"]["parameters"]["scope"], "Cluster");

        let cases = [
            (json!({"controller": "example.com/ingress"}), vec![]),
            (
                json!({"controller": "ingress"}),
                vec![
                    "spec.controller: Invalid value: \"ingress\": must be a domain-prefixed path (such as \"acme.io/foo\")",
                ],
            ),
            (
                json!({"controller": "example.com/i", "parameters": {"kind": "Config", "name": "c", "scope": "Namespace"}}),
                vec![
                    "spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'",
                ],
            ),
            (
                json!({"controller": "example.com/i", "parameters": {"kind": "", "name": "c", "scope": "Cluster", "namespace": "ns"}}),
                vec![
                    "spec.parameters.kind: Required value: kind is required",
                    "spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'",
                ],
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(
                messages(&IngressClassStrategy.validate(&ingress_class(spec.clone()))),
                expected,
                "{spec}"
            );
        }

        let old = ingress_class(json!({"controller": "example.com/a"}));
        let new = ingress_class(json!({"controller": "example.com/b"}));
        assert_eq!(
            messages(&IngressClassStrategy.validate_update(&new, &old)),
            ["spec.controller: Invalid value: \"example.com/b\": field is immutable"]
        );
    }
}
