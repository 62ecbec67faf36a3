//! Validation of a pod spec and of pod templates (upstream's `ValidatePodSpec` and
//! `ValidatePodTemplateSpec` of Kubernetes v1.33): volumes, containers, policies,
//! scheduling constraints, security context and DNS settings.
//!
//! Enter through [`validate_pod_spec`] for a Pod's spec and
//! [`validate_pod_template_spec`] for the template of a workload.

use std::collections::BTreeSet;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use k8s_openapi::api::core::v1::{
    Affinity, NodeSelector, NodeSelectorRequirement, PodAffinityTerm, PodDNSConfig,
    PodSecurityContext, PodSpec, PodTemplateSpec, Toleration, TopologySpreadConstraint,
    WeightedPodAffinityTerm,
};

use super::common::{
    IS_NOT_POSITIVE_ERROR_MSG, invalid_each, json_value, name_is_dns_label, name_is_dns_subdomain,
    validate_annotations, validate_dns1123_label, validate_dns1123_subdomain, validate_label_name,
    validate_label_selector, validate_labels, validate_qualified_name,
};
use super::container::{
    ContainerContext, validate_container_only_for_pod, validate_containers,
    validate_ephemeral_containers, validate_init_containers,
};
use super::resources::validate_resource_requirements;
use super::volume::{validate_local_descending_path, validate_volumes};

const MAX_DNS_NAMESERVERS: usize = 3;
const MAX_DNS_SEARCH_PATHS: usize = 32;
const MAX_DNS_SEARCH_LIST_CHARS: usize = 2048;

/// Where a pod spec sits, which changes a few rules.
#[derive(Clone, Copy, Debug, Default)]
pub struct PodSpecContext<'a> {
    /// The spec is a Pod's own (host ports must then equal container ports under host
    /// networking, and ephemeral volumes' claim names are checked).
    pub resource_is_pod: bool,
    /// The Pod's name, when known.
    pub pod_name: Option<&'a str>,
}

/// Validates a pod spec. Returns every problem found, with upstream's paths under `path`.
pub fn validate_pod_spec(
    spec: &PodSpec,
    context: PodSpecContext<'_>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if spec.termination_grace_period_seconds.is_none() {
        errors.push(FieldError::required(
            &path.child("terminationGracePeriodSeconds"),
            "",
        ));
    }
    let host_users = spec.host_users.unwrap_or(true);
    let restart_policy = spec.restart_policy.as_deref().unwrap_or_default();

    let (volumes, volume_errors) = validate_volumes(
        spec.volumes.as_deref().unwrap_or_default(),
        if context.resource_is_pod {
            context.pod_name
        } else {
            None
        },
        &path.child("volumes"),
    );
    errors.extend(volume_errors);

    let claims = spec.resource_claims.as_deref().unwrap_or_default();
    let claim_names: Vec<String> = claims
        .iter()
        .filter(|claim| !claim.name.is_empty())
        .map(|claim| claim.name.clone())
        .collect();
    errors.extend(validate_pod_resource_claims(
        spec,
        &path.child("resourceClaims"),
    ));

    let container_context = ContainerContext {
        volumes: &volumes,
        pod_claim_names: &claim_names,
        grace_period: spec.termination_grace_period_seconds,
        restart_policy,
        host_users,
    };
    let init_containers = spec.init_containers.as_deref().unwrap_or_default();
    errors.extend(validate_containers(
        &spec.containers,
        &container_context,
        &path.child("containers"),
    ));
    errors.extend(validate_init_containers(
        init_containers,
        &spec.containers,
        &container_context,
        &path.child("initContainers"),
    ));
    errors.extend(validate_ephemeral_containers(
        spec.ephemeral_containers.as_deref().unwrap_or_default(),
        &spec.containers,
        init_containers,
        &container_context,
        &path.child("ephemeralContainers"),
    ));
    if let Some(resources) = spec.resources.as_ref() {
        let resources_path = path.child("resources");
        if resources.claims.is_some() {
            errors.push(FieldError::forbidden(
                &resources_path.child("claims"),
                "claims cannot be set for Resources at pod-level",
            ));
        }
        // NOTE: pod-level resources get the container rules for names and quantities;
        // upstream's checks against the sum of container requests are not done here.
        errors.extend(validate_resource_requirements(
            resources,
            &claim_names,
            &resources_path,
        ));
    }

    errors.extend(validate_host_network_ports(
        spec,
        context.resource_is_pod,
        path,
    ));
    errors.extend(validate_restart_policy(
        restart_policy,
        &path.child("restartPolicy"),
    ));
    errors.extend(validate_dns_policy(
        spec.dns_policy.as_deref().unwrap_or_default(),
        &path.child("dnsPolicy"),
    ));
    errors.extend(validate_labels(
        spec.node_selector.as_ref(),
        &path.child("nodeSelector"),
    ));
    if let Some(security_context) = spec.security_context.as_ref() {
        errors.extend(validate_pod_security_context(
            security_context,
            spec,
            &path.child("securityContext"),
        ));
    }
    if let Some(affinity) = spec.affinity.as_ref() {
        errors.extend(validate_affinity(affinity, &path.child("affinity")));
    }
    errors.extend(validate_dns_config(
        spec.dns_config.as_ref(),
        spec.dns_policy.as_deref(),
        &path.child("dnsConfig"),
    ));
    for (index, gate) in spec.readiness_gates.iter().flatten().enumerate() {
        errors.extend(validate_qualified_name(
            &gate.condition_type,
            &path
                .child("readinessGates")
                .index(index)
                .child("conditionType"),
        ));
    }
    errors.extend(validate_scheduling_gates(
        spec,
        &path.child("schedulingGates"),
    ));
    errors.extend(validate_topology_spread_constraints(
        spec.topology_spread_constraints
            .as_deref()
            .unwrap_or_default(),
        &path.child("topologySpreadConstraints"),
    ));
    errors.extend(validate_host_users(spec, path));

    if let Some(account) = spec
        .service_account_name
        .as_deref()
        .filter(|name| !name.is_empty())
    {
        errors.extend(invalid_each(
            &path.child("serviceAccountName"),
            account,
            name_is_dns_subdomain(account, false),
        ));
    }
    if let Some(node) = spec.node_name.as_deref().filter(|name| !name.is_empty()) {
        errors.extend(invalid_each(
            &path.child("nodeName"),
            node,
            name_is_dns_subdomain(node, false),
        ));
    }
    if let Some(deadline) = spec.active_deadline_seconds
        && !(1..=i64::from(i32::MAX)).contains(&deadline)
    {
        errors.push(FieldError::invalid(
            &path.child("activeDeadlineSeconds"),
            deadline,
            validation::inclusive_range_error(1, i64::from(i32::MAX)),
        ));
    }
    if let Some(hostname) = spec.hostname.as_deref().filter(|name| !name.is_empty()) {
        errors.extend(validate_dns1123_label(hostname, &path.child("hostname")));
    }
    if let Some(subdomain) = spec.subdomain.as_deref().filter(|name| !name.is_empty()) {
        errors.extend(validate_dns1123_label(subdomain, &path.child("subdomain")));
    }
    if let Some(tolerations) = spec.tolerations.as_deref().filter(|list| !list.is_empty()) {
        errors.extend(validate_tolerations(
            tolerations,
            &path.child("tolerations"),
        ));
    }
    for (index, alias) in spec.host_aliases.iter().flatten().enumerate() {
        let alias_path = path.child("hostAliases").index(index);
        errors.extend(validate_ip(&alias.ip, &alias_path.child("ip")));
        for (name_index, hostname) in alias.hostnames.iter().flatten().enumerate() {
            errors.extend(validate_dns1123_subdomain(
                hostname,
                &alias_path.child("hostnames").index(name_index),
            ));
        }
    }
    if let Some(class) = spec
        .priority_class_name
        .as_deref()
        .filter(|name| !name.is_empty())
    {
        errors.extend(invalid_each(
            &path.child("priorityClassName"),
            class,
            name_is_dns_subdomain(class, false),
        ));
    }
    if let Some(runtime_class) = spec.runtime_class_name.as_deref() {
        errors.extend(invalid_each(
            &path.child("runtimeClassName"),
            runtime_class,
            name_is_dns_subdomain(runtime_class, false),
        ));
    }
    if let Some(policy) = spec.preemption_policy.as_deref() {
        let policy_path = path.child("preemptionPolicy");
        match policy {
            "PreemptLowerPriority" | "Never" => {}
            "" => errors.push(FieldError::required(&policy_path, "")),
            other => errors.push(FieldError::not_supported(
                &policy_path,
                other,
                &["PreemptLowerPriority", "Never"],
            )),
        }
    }
    if let Some(overhead) = spec.overhead.as_ref() {
        let requirements = k8s_openapi::api::core::v1::ResourceRequirements {
            limits: Some(overhead.clone()),
            ..Default::default()
        };
        errors.extend(validate_resource_requirements(
            &requirements,
            &[],
            &path.child("overhead"),
        ));
    }
    if let Some(os) = spec.os.as_ref() {
        let os_path = path.child("os");
        if os.name.is_empty() {
            errors.push(FieldError::required(
                &os_path.child("name"),
                "cannot be empty",
            ));
        } else if os.name != "linux" && os.name != "windows" {
            errors.push(FieldError::not_supported(
                &os_path,
                os.name.as_str(),
                &["linux", "windows"],
            ));
        }
    }
    errors
}

/// Validates the spec of a Pod object: [`validate_pod_spec`] plus the Pod-only rules
/// (images without surrounding whitespace, service account tokens only with a service
/// account). `path` is `spec`.
pub fn validate_pod_spec_for_pod(
    spec: &PodSpec,
    pod_name: &str,
    path: &FieldPath,
) -> Vec<FieldError> {
    let context = PodSpecContext {
        resource_is_pod: true,
        pod_name: Some(pod_name),
    };
    let mut errors = validate_pod_spec(spec, context, path);
    if spec
        .service_account_name
        .as_deref()
        .is_none_or(str::is_empty)
    {
        for (volume_index, volume) in spec.volumes.iter().flatten().enumerate() {
            let Some(projected) = volume.projected.as_ref() else {
                continue;
            };
            for (source_index, source) in projected.sources.iter().flatten().enumerate() {
                if source.service_account_token.is_some() {
                    errors.push(FieldError::forbidden(
                        &path
                            .child("volumes")
                            .index(volume_index)
                            .child("projected")
                            .child("sources")
                            .index(source_index)
                            .child("serviceAccountToken"),
                        "must not be specified when serviceAccountName is not set",
                    ));
                }
            }
        }
    }
    for (index, container) in spec.containers.iter().enumerate() {
        errors.extend(validate_container_only_for_pod(
            container,
            &path.child("containers").index(index),
        ));
    }
    for (index, container) in spec.init_containers.iter().flatten().enumerate() {
        errors.extend(validate_container_only_for_pod(
            container,
            &path.child("initContainers").index(index),
        ));
    }
    errors
}

/// Validates a pod template, as upstream's `ValidatePodTemplateSpec`: its labels and
/// annotations (at `<path>.labels` and `<path>.annotations`), its spec, and no
/// ephemeral containers.
pub fn validate_pod_template_spec(template: &PodTemplateSpec, path: &FieldPath) -> Vec<FieldError> {
    let metadata = template.metadata.as_ref();
    let mut errors = validate_labels(
        metadata.and_then(|meta| meta.labels.as_ref()),
        &path.child("labels"),
    );
    errors.extend(validate_annotations(
        metadata.and_then(|meta| meta.annotations.as_ref()),
        &path.child("annotations"),
    ));
    let empty = PodSpec::default();
    let spec = template.spec.as_ref().unwrap_or(&empty);
    errors.extend(validate_pod_spec(
        spec,
        PodSpecContext::default(),
        &path.child("spec"),
    ));
    if spec
        .ephemeral_containers
        .as_ref()
        .is_some_and(|list| !list.is_empty())
    {
        errors.push(FieldError::forbidden(
            &path.child("spec").child("ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    errors
}

fn validate_pod_resource_claims(spec: &PodSpec, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut names = BTreeSet::new();
    for (index, claim) in spec.resource_claims.iter().flatten().enumerate() {
        let claim_path = path.index(index);
        if claim.name.is_empty() {
            errors.push(FieldError::required(&claim_path.child("name"), ""));
        } else if !names.insert(claim.name.as_str()) {
            errors.push(FieldError::duplicate(
                &claim_path.child("name"),
                claim.name.as_str(),
            ));
        } else {
            errors.extend(validate_dns1123_label(
                &claim.name,
                &claim_path.child("name"),
            ));
        }
        match (claim.resource_claim_name.as_ref(), claim.resource_claim_template_name.as_ref()) {
            (Some(_), Some(_)) => errors.push(FieldError::invalid(
                &claim_path,
                json_value(claim),
                "at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified",
            )),
            (None, None) => errors.push(FieldError::invalid(
                &claim_path,
                json_value(claim),
                "must specify one of: `resourceClaimName`, `resourceClaimTemplateName`",
            )),
            _ => {}
        }
    }
    errors
}

fn validate_host_network_ports(
    spec: &PodSpec,
    resource_is_pod: bool,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if spec.host_network != Some(true) {
        return errors;
    }
    for (container_index, container) in spec.containers.iter().enumerate() {
        for (port_index, port) in container.ports.iter().flatten().enumerate() {
            let host_port = port.host_port.unwrap_or(0);
            if (resource_is_pod || host_port != 0) && host_port != port.container_port {
                errors.push(FieldError::invalid(
                    &path
                        .child("containers")
                        .index(container_index)
                        .child("ports")
                        .index(port_index)
                        .child("hostPort"),
                    host_port,
                    "must match `containerPort` when `hostNetwork` is true",
                ));
            }
        }
    }
    errors
}

/// Checks `restartPolicy`: Always, OnFailure or Never.
pub fn validate_restart_policy(policy: &str, path: &FieldPath) -> Vec<FieldError> {
    match policy {
        "Always" | "OnFailure" | "Never" => Vec::new(),
        "" => vec![FieldError::required(path, "")],
        other => vec![FieldError::not_supported(
            path,
            other,
            &["Always", "OnFailure", "Never"],
        )],
    }
}

fn validate_dns_policy(policy: &str, path: &FieldPath) -> Vec<FieldError> {
    match policy {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => Vec::new(),
        "" => vec![FieldError::required(path, "")],
        other => vec![FieldError::not_supported(
            path,
            other,
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        )],
    }
}

fn validate_ip(value: &str, path: &FieldPath) -> Vec<FieldError> {
    invalid_each(path, value, validation::is_valid_ip(value))
}

fn validate_dns_config(
    config: Option<&PodDNSConfig>,
    policy: Option<&str>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if policy == Some("None") {
        let Some(config) = config else {
            return vec![FieldError::required(
                path,
                "must provide `dnsConfig` when `dnsPolicy` is None",
            )];
        };
        if config.nameservers.as_ref().is_none_or(Vec::is_empty) {
            return vec![FieldError::required(
                &path.child("nameservers"),
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            )];
        }
    }
    let Some(config) = config else {
        return errors;
    };
    let nameservers = config.nameservers.as_deref().unwrap_or_default();
    if nameservers.len() > MAX_DNS_NAMESERVERS {
        errors.push(FieldError::invalid(
            &path.child("nameservers"),
            super::common::go_string_slice(nameservers),
            format!("must not have more than {MAX_DNS_NAMESERVERS} nameservers"),
        ));
    }
    for (index, server) in nameservers.iter().enumerate() {
        errors.extend(validate_ip(server, &path.child("nameservers").index(index)));
    }
    let searches = config.searches.as_deref().unwrap_or_default();
    if searches.len() > MAX_DNS_SEARCH_PATHS {
        errors.push(FieldError::invalid(
            &path.child("searches"),
            super::common::go_string_slice(searches),
            format!("must not have more than {MAX_DNS_SEARCH_PATHS} search paths"),
        ));
    }
    if searches.join(" ").len() > MAX_DNS_SEARCH_LIST_CHARS {
        errors.push(FieldError::invalid(
            &path.child("searches"),
            super::common::go_string_slice(searches),
            format!("must not have more than {MAX_DNS_SEARCH_LIST_CHARS} characters (including spaces) in the search list"),
        ));
    }
    for (index, search) in searches.iter().enumerate() {
        if search == "." {
            continue;
        }
        let trimmed = search.strip_suffix('.').unwrap_or(search);
        // Upstream's relaxed DNS search rule (on by default in v1.33) also allows '_'.
        // NOTE: the message for an invalid search names the plain subdomain rule, not
        // upstream's underscore variant.
        let masked = trimmed.replace('_', "a");
        errors.extend(invalid_each(
            &path.child("searches").index(index),
            trimmed,
            validation::is_dns1123_subdomain(&masked),
        ));
    }
    for (index, option) in config.options.iter().flatten().enumerate() {
        if option.name.as_deref().is_none_or(str::is_empty) {
            errors.push(FieldError::required(
                &path.child("options").index(index),
                "must not be empty",
            ));
        }
    }
    errors
}

fn validate_pod_security_context(
    context: &PodSecurityContext,
    spec: &PodSpec,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(group) = context.fs_group {
        for message in validation::is_valid_group_id(group) {
            errors.push(FieldError::invalid(&path.child("fsGroup"), group, message));
        }
    }
    if let Some(user) = context.run_as_user {
        for message in validation::is_valid_user_id(user) {
            errors.push(FieldError::invalid(&path.child("runAsUser"), user, message));
        }
    }
    if let Some(group) = context.run_as_group {
        for message in validation::is_valid_group_id(group) {
            errors.push(FieldError::invalid(
                &path.child("runAsGroup"),
                group,
                message,
            ));
        }
    }
    for (index, group) in context.supplemental_groups.iter().flatten().enumerate() {
        for message in validation::is_valid_group_id(*group) {
            errors.push(FieldError::invalid(
                &path.child("supplementalGroups").index(index),
                *group,
                message,
            ));
        }
    }
    if spec.share_process_namespace == Some(true) && spec.host_pid == Some(true) {
        errors.push(FieldError::invalid(
            &path.child("shareProcessNamespace"),
            true,
            "ShareProcessNamespace and HostPID cannot both be enabled",
        ));
    }
    let mut sysctl_names = BTreeSet::new();
    for (index, sysctl) in context.sysctls.iter().flatten().enumerate() {
        let name_path = path.child("sysctls").index(index).child("name");
        if sysctl.name.is_empty() {
            errors.push(FieldError::required(&name_path, ""));
        } else if !is_valid_sysctl_name(&sysctl.name) {
            errors.push(FieldError::invalid(
                &name_path,
                sysctl.name.as_str(),
                "must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$",
            ));
        } else if !sysctl_names.insert(sysctl.name.as_str()) {
            errors.push(FieldError::duplicate(&name_path, sysctl.name.as_str()));
        }
    }
    if let Some(policy) = context.fs_group_change_policy.as_deref()
        && policy != "OnRootMismatch"
        && policy != "Always"
    {
        errors.push(FieldError::not_supported(
            &path.child("fsGroupChangePolicy"),
            policy,
            &["Always", "OnRootMismatch"],
        ));
    }
    if let Some(profile) = context.seccomp_profile.as_ref() {
        errors.extend(validate_seccomp_profile(
            &profile.type_,
            profile.localhost_profile.as_deref(),
            &path.child("seccompProfile"),
        ));
    }
    if let Some(policy) = context.supplemental_groups_policy.as_deref()
        && policy != "Merge"
        && policy != "Strict"
    {
        errors.push(FieldError::not_supported(
            &path.child("supplementalGroupsPolicy"),
            policy,
            &["Merge", "Strict"],
        ));
    }
    if let Some(policy) = context.se_linux_change_policy.as_deref()
        && policy != "MountOption"
        && policy != "Recursive"
    {
        errors.push(FieldError::not_supported(
            &path.child("seLinuxChangePolicy"),
            policy,
            &["MountOption", "Recursive"],
        ));
    }
    errors
}

/// Checks a sysctl name: dot- or slash-separated segments of lower case alphanumerics,
/// '-' and '_', at most 253 characters.
fn is_valid_sysctl_name(name: &str) -> bool {
    if name.len() > 253 {
        return false;
    }
    name.split(['.', '/']).all(|segment| {
        let bytes = segment.as_bytes();
        let alphanumeric = |byte: &u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
        !bytes.is_empty()
            && bytes.first().is_some_and(alphanumeric)
            && bytes.last().is_some_and(alphanumeric)
            && bytes
                .iter()
                .all(|byte| alphanumeric(byte) || *byte == b'-' || *byte == b'_')
    })
}

/// Checks a seccomp profile: a supported type, and a local profile path exactly when the
/// type is Localhost.
pub fn validate_seccomp_profile(
    kind: &str,
    localhost_profile: Option<&str>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match kind {
        "Localhost" | "RuntimeDefault" | "Unconfined" => {}
        "" => errors.push(FieldError::required(
            &path.child("type"),
            "type is required when seccompProfile is set",
        )),
        other => errors.push(FieldError::not_supported(
            &path.child("type"),
            other,
            &["Localhost", "RuntimeDefault", "Unconfined"],
        )),
    }
    if kind == "Localhost" {
        match localhost_profile {
            None => errors.push(FieldError::required(
                &path.child("localhostProfile"),
                "must be set when seccomp type is Localhost",
            )),
            Some(profile) => errors.extend(validate_local_descending_path(
                profile,
                &path.child("localhostProfile"),
            )),
        }
    } else if localhost_profile.is_some() {
        errors.push(FieldError::invalid(
            &path.child("localhostProfile"),
            localhost_profile.unwrap_or_default(),
            "can only be set when seccomp type is Localhost",
        ));
    }
    errors
}

fn validate_scheduling_gates(spec: &PodSpec, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, gate) in spec.scheduling_gates.iter().flatten().enumerate() {
        errors.extend(validate_qualified_name(&gate.name, &path.index(index)));
        if !seen.insert(gate.name.as_str()) {
            errors.push(FieldError::duplicate(
                &path.index(index),
                gate.name.as_str(),
            ));
        }
    }
    errors
}

fn validate_host_users(spec: &PodSpec, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if spec.host_users != Some(false) {
        return errors;
    }
    let message = "when `pod.Spec.HostUsers` is false";
    if spec.host_network == Some(true) {
        errors.push(FieldError::forbidden(&path.child("hostNetwork"), message));
    }
    if spec.host_pid == Some(true) {
        errors.push(FieldError::forbidden(&path.child("HostPID"), message));
    }
    if spec.host_ipc == Some(true) {
        errors.push(FieldError::forbidden(&path.child("HostIPC"), message));
    }
    errors
}

/// Validates tolerations, as upstream's `ValidateTolerations`.
pub fn validate_tolerations(tolerations: &[Toleration], path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (index, toleration) in tolerations.iter().enumerate() {
        let toleration_path = path.index(index);
        let key = toleration.key.as_deref().unwrap_or_default();
        let operator = toleration.operator.as_deref().unwrap_or_default();
        let value = toleration.value.as_deref().unwrap_or_default();
        let effect = toleration.effect.as_deref().unwrap_or_default();
        if !key.is_empty() {
            errors.extend(validate_label_name(key, &toleration_path.child("key")));
        }
        if key.is_empty() && operator != "Exists" {
            errors.push(FieldError::invalid(
                &toleration_path.child("operator"),
                operator,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if toleration.toleration_seconds.is_some() && effect != "NoExecute" {
            errors.push(FieldError::invalid(
                &toleration_path.child("effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match operator {
            "Equal" | "" => {
                let messages = validation::is_valid_label_value(value);
                if !messages.is_empty() {
                    errors.push(FieldError::invalid(
                        &toleration_path.child("operator"),
                        value,
                        messages.join(";"),
                    ));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errors.push(FieldError::invalid(
                        &toleration_path.child("operator"),
                        value,
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => errors.push(FieldError::not_supported(
                &toleration_path.child("operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() {
            errors.extend(validate_taint_effect(
                effect,
                true,
                &toleration_path.child("effect"),
            ));
        }
    }
    errors
}

/// Checks a taint effect: NoSchedule, PreferNoSchedule or NoExecute.
pub fn validate_taint_effect(effect: &str, allow_empty: bool, path: &FieldPath) -> Vec<FieldError> {
    if !allow_empty && effect.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    match effect {
        "NoSchedule" | "PreferNoSchedule" | "NoExecute" => Vec::new(),
        other => vec![FieldError::not_supported(
            path,
            other,
            &["NoSchedule", "PreferNoSchedule", "NoExecute"],
        )],
    }
}

fn validate_affinity(affinity: &Affinity, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(node_affinity) = affinity.node_affinity.as_ref() {
        let node_path = path.child("nodeAffinity");
        if let Some(required) = node_affinity
            .required_during_scheduling_ignored_during_execution
            .as_ref()
        {
            errors.extend(validate_node_selector(
                required,
                &node_path.child("requiredDuringSchedulingIgnoredDuringExecution"),
            ));
        }
        let preferred_path = node_path.child("preferredDuringSchedulingIgnoredDuringExecution");
        for (index, term) in node_affinity
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .enumerate()
        {
            if term.weight <= 0 || term.weight > 100 {
                errors.push(FieldError::invalid(
                    &preferred_path.index(index).child("weight"),
                    term.weight,
                    "must be in the range 1-100",
                ));
            }
            errors.extend(validate_node_selector_term(
                &term.preference,
                true,
                &preferred_path.index(index).child("preference"),
            ));
        }
    }
    for (terms, weighted, field) in [
        (
            affinity.pod_affinity.as_ref().and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            }),
            affinity.pod_affinity.as_ref().and_then(|a| {
                a.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            }),
            "podAffinity",
        ),
        (
            affinity.pod_anti_affinity.as_ref().and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            }),
            affinity.pod_anti_affinity.as_ref().and_then(|a| {
                a.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            }),
            "podAntiAffinity",
        ),
    ] {
        let affinity_path = path.child(field);
        for (index, term) in terms.into_iter().flatten().enumerate() {
            errors.extend(validate_pod_affinity_term(
                term,
                &affinity_path
                    .child("requiredDuringSchedulingIgnoredDuringExecution")
                    .index(index),
            ));
        }
        errors.extend(validate_weighted_terms(
            weighted.map(Vec::as_slice).unwrap_or_default(),
            &affinity_path.child("preferredDuringSchedulingIgnoredDuringExecution"),
        ));
    }
    errors
}

fn validate_weighted_terms(terms: &[WeightedPodAffinityTerm], path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (index, term) in terms.iter().enumerate() {
        if term.weight <= 0 || term.weight > 100 {
            errors.push(FieldError::invalid(
                &path.index(index).child("weight"),
                term.weight,
                "must be in the range 1-100",
            ));
        }
        errors.extend(validate_pod_affinity_term(
            &term.pod_affinity_term,
            &path.index(index).child("podAffinityTerm"),
        ));
    }
    errors
}

fn validate_pod_affinity_term(term: &PodAffinityTerm, path: &FieldPath) -> Vec<FieldError> {
    let mut errors =
        validate_label_selector(term.label_selector.as_ref(), &path.child("labelSelector"));
    errors.extend(validate_label_selector(
        term.namespace_selector.as_ref(),
        &path.child("namespaceSelector"),
    ));
    for namespace in term.namespaces.iter().flatten() {
        errors.extend(invalid_each(
            &path.child("namespace"),
            namespace,
            name_is_dns_label(namespace, false),
        ));
    }
    if term.topology_key.is_empty() {
        errors.push(FieldError::required(
            &path.child("topologyKey"),
            "can not be empty",
        ));
    }
    errors.extend(validate_label_name(
        &term.topology_key,
        &path.child("topologyKey"),
    ));
    errors
}

/// Validates a node selector: at least one term, each with valid requirements.
pub fn validate_node_selector(selector: &NodeSelector, path: &FieldPath) -> Vec<FieldError> {
    let terms_path = path.child("nodeSelectorTerms");
    if selector.node_selector_terms.is_empty() {
        return vec![FieldError::required(
            &terms_path,
            "must have at least one node selector term",
        )];
    }
    let mut errors = Vec::new();
    for (index, term) in selector.node_selector_terms.iter().enumerate() {
        errors.extend(validate_node_selector_term(
            term,
            false,
            &terms_path.index(index),
        ));
    }
    errors
}

fn validate_node_selector_term(
    term: &k8s_openapi::api::core::v1::NodeSelectorTerm,
    allow_invalid_values: bool,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (index, requirement) in term.match_expressions.iter().flatten().enumerate() {
        errors.extend(validate_node_selector_requirement(
            requirement,
            allow_invalid_values,
            &path.child("matchExpressions").index(index),
        ));
    }
    for (index, requirement) in term.match_fields.iter().flatten().enumerate() {
        let field_path = path.child("matchFields").index(index);
        let values = requirement.values.as_deref().unwrap_or_default();
        match requirement.operator.as_str() {
            "In" | "NotIn" => {
                if values.len() != 1 {
                    errors.push(FieldError::required(
                        &field_path.child("values"),
                        "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
                    ));
                }
            }
            other => errors.push(FieldError::invalid(
                &field_path.child("operator"),
                other,
                "not a valid selector operator",
            )),
        }
        if requirement.key != "metadata.name" {
            errors.push(FieldError::invalid(
                &field_path.child("key"),
                requirement.key.as_str(),
                "not a valid field selector key",
            ));
        } else {
            for (value_index, value) in values.iter().enumerate() {
                errors.extend(invalid_each(
                    &field_path.child("values").index(value_index),
                    value,
                    name_is_dns_subdomain(value, false),
                ));
            }
        }
    }
    errors
}

fn validate_node_selector_requirement(
    requirement: &NodeSelectorRequirement,
    allow_invalid_values: bool,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let values = requirement.values.as_deref().unwrap_or_default();
    match requirement.operator.as_str() {
        "In" | "NotIn" => {
            if values.is_empty() {
                errors.push(FieldError::required(
                    &path.child("values"),
                    "must be specified when `operator` is 'In' or 'NotIn'",
                ));
            }
        }
        "Exists" | "DoesNotExist" => {
            if !values.is_empty() {
                errors.push(FieldError::forbidden(
                    &path.child("values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ));
            }
        }
        "Gt" | "Lt" => {
            if values.len() != 1 {
                errors.push(FieldError::required(
                    &path.child("values"),
                    "must be specified single value when `operator` is 'Lt' or 'Gt'",
                ));
            }
        }
        other => errors.push(FieldError::invalid(
            &path.child("operator"),
            other,
            "not a valid selector operator",
        )),
    }
    errors.extend(validate_label_name(&requirement.key, &path.child("key")));
    if !allow_invalid_values {
        for (index, value) in values.iter().enumerate() {
            errors.extend(invalid_each(
                &path.child("values").index(index),
                value,
                validation::is_valid_label_value(value),
            ));
        }
    }
    errors
}

fn validate_topology_spread_constraints(
    constraints: &[TopologySpreadConstraint],
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (index, constraint) in constraints.iter().enumerate() {
        let constraint_path = path.index(index);
        if constraint.max_skew <= 0 {
            errors.push(FieldError::invalid(
                &constraint_path.child("maxSkew"),
                constraint.max_skew,
                IS_NOT_POSITIVE_ERROR_MSG,
            ));
        }
        if constraint.topology_key.is_empty() {
            errors.push(FieldError::required(
                &constraint_path.child("topologyKey"),
                "can not be empty",
            ));
        }
        let action = constraint.when_unsatisfiable.as_str();
        if action != "DoNotSchedule" && action != "ScheduleAnyway" {
            errors.push(FieldError::not_supported(
                &constraint_path.child("whenUnsatisfiable"),
                action,
                &["DoNotSchedule", "ScheduleAnyway"],
            ));
        }
        let repeated = constraints[index + 1..].iter().any(|other| {
            other.topology_key == constraint.topology_key
                && other.when_unsatisfiable == constraint.when_unsatisfiable
        });
        if repeated {
            errors.push(FieldError::duplicate(
                &constraint_path.child("{topologyKey, whenUnsatisfiable}"),
                format!(
                    "{{{}, {}}}",
                    constraint.topology_key, constraint.when_unsatisfiable
                ),
            ));
        }
        if let Some(min_domains) = constraint.min_domains {
            let domains_path = constraint_path.child("minDomains");
            if min_domains <= 0 {
                errors.push(FieldError::invalid(
                    &domains_path,
                    min_domains,
                    IS_NOT_POSITIVE_ERROR_MSG,
                ));
            }
            if action != "DoNotSchedule" {
                errors.push(FieldError::invalid(
                    &domains_path,
                    min_domains,
                    format!(
                        "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {action}"
                    ),
                ));
            }
        }
        for (policy, field) in [
            (
                constraint.node_affinity_policy.as_deref(),
                "nodeAffinityPolicy",
            ),
            (constraint.node_taints_policy.as_deref(), "nodeTaintsPolicy"),
        ] {
            if let Some(policy) = policy
                && policy != "Honor"
                && policy != "Ignore"
            {
                errors.push(FieldError::not_supported(
                    &constraint_path.child(field),
                    policy,
                    &["Honor", "Ignore"],
                ));
            }
        }
        errors.extend(validate_label_selector(
            constraint.label_selector.as_ref(),
            &constraint_path.child("labelSelector"),
        ));
    }
    errors
}
