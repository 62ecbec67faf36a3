//! Validation of containers: names, images, ports, environment, volume mounts, probes,
//! lifecycle hooks, resources and security contexts (upstream's `validateContainers`,
//! `validateInitContainers`, `validateEphemeralContainers` and their helpers).

use std::collections::{BTreeMap, BTreeSet};

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvFromSource, EnvVar, EphemeralContainer, ExecAction, HTTPGetAction,
    Lifecycle, Probe, SecurityContext, VolumeDevice, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::common::{
    invalid_each, name_is_dns_subdomain, validate_dns1123_label, validate_nonnegative,
    validate_qualified_name,
};
use super::resources::validate_resource_requirements;
use super::volume::{VolumeKind, validate_local_descending_path, validate_path_no_backsteps};

const SUPPORTED_PORT_PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

/// What the container checks need to know about the pod around them.
pub struct ContainerContext<'a> {
    /// Volumes by name, with the kind of their source.
    pub volumes: &'a BTreeMap<String, VolumeKind>,
    /// Names in `spec.resourceClaims`.
    pub pod_claim_names: &'a [String],
    /// `spec.terminationGracePeriodSeconds`, bounding sleep actions.
    pub grace_period: Option<i64>,
    /// `spec.restartPolicy`.
    pub restart_policy: &'a str,
    /// Whether the pod shares the host's user namespace.
    pub host_users: bool,
}

/// Validates `spec.containers`: at least one, each valid, names unique, host ports free.
pub fn validate_containers(
    containers: &[Container],
    context: &ContainerContext<'_>,
    path: &FieldPath,
) -> Vec<FieldError> {
    if containers.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let mut errors = Vec::new();
    let mut names = BTreeSet::new();
    for (index, container) in containers.iter().enumerate() {
        let container_path = path.index(index);
        errors.extend(validate_container_common(
            container,
            context,
            &container_path,
        ));
        if !names.insert(container.name.as_str()) {
            errors.push(FieldError::duplicate(
                &container_path.child("name"),
                container.name.as_str(),
            ));
        }
        errors.extend(validate_hooks_and_probes(
            container,
            context,
            &container_path,
        ));
        if container.restart_policy.is_some() {
            errors.push(FieldError::forbidden(
                &container_path.child("restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    errors.extend(check_host_port_conflicts(containers, path));
    errors
}

/// Validates `spec.initContainers`: each valid, names unique across init and regular
/// containers, probes and hooks only on restartable (sidecar) init containers.
pub fn validate_init_containers(
    containers: &[Container],
    regular: &[Container],
    context: &ContainerContext<'_>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut names: BTreeSet<&str> = regular
        .iter()
        .map(|container| container.name.as_str())
        .collect();
    for (index, container) in containers.iter().enumerate() {
        let container_path = path.index(index);
        errors.extend(validate_container_common(
            container,
            context,
            &container_path,
        ));

        let mut restart_always = false;
        if let Some(policy) = container.restart_policy.as_deref() {
            if policy == "Always" {
                restart_always = true;
            } else {
                errors.push(FieldError::not_supported(
                    &container_path.child("restartPolicy"),
                    policy,
                    &["Always"],
                ));
            }
        }

        if names.contains(container.name.as_str()) {
            errors.push(FieldError::duplicate(
                &container_path.child("name"),
                container.name.as_str(),
            ));
        } else if !container.name.is_empty() {
            names.insert(container.name.as_str());
        }

        errors.extend(check_host_port_conflicts(
            std::slice::from_ref(container),
            path,
        ));

        if restart_always {
            errors.extend(validate_hooks_and_probes(
                container,
                context,
                &container_path,
            ));
        } else {
            let forbidden = "may not be set for init containers without restartPolicy=Always";
            if container.lifecycle.is_some() {
                errors.push(FieldError::forbidden(
                    &container_path.child("lifecycle"),
                    forbidden,
                ));
            }
            for (probe, field) in [
                (&container.liveness_probe, "livenessProbe"),
                (&container.readiness_probe, "readinessProbe"),
                (&container.startup_probe, "startupProbe"),
            ] {
                if probe.is_some() {
                    errors.push(FieldError::forbidden(
                        &container_path.child(field),
                        forbidden,
                    ));
                }
            }
        }
    }
    errors
}

/// Validates `spec.ephemeralContainers`: each valid, names unique across all containers,
/// targets existing, and only the fields ephemeral containers allow.
pub fn validate_ephemeral_containers(
    ephemeral: &[EphemeralContainer],
    containers: &[Container],
    init_containers: &[Container],
    context: &ContainerContext<'_>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let other_names: BTreeSet<&str> = containers
        .iter()
        .chain(init_containers)
        .map(|container| container.name.as_str())
        .collect();
    let mut all_names = other_names.clone();
    for (index, container) in ephemeral.iter().enumerate() {
        let container_path = path.index(index);
        let common = as_container(container);
        errors.extend(validate_container_common(&common, context, &container_path));
        errors.extend(validate_container_only_for_pod(&common, &container_path));

        if !all_names.insert(container.name.as_str()) {
            errors.push(FieldError::duplicate(
                &container_path.child("name"),
                container.name.as_str(),
            ));
        }
        if let Some(target) = container.target_container_name.as_deref()
            && !target.is_empty()
            && !other_names.contains(target)
        {
            errors.push(FieldError::not_found(
                &container_path.child("targetContainerName"),
                target,
            ));
        }

        let not_allowed = "cannot be set for an Ephemeral Container";
        // Listed in the field order of upstream's container struct, which sets the
        // order of the errors.
        let disallowed = [
            (
                "ports",
                container
                    .ports
                    .as_ref()
                    .is_some_and(|ports| !ports.is_empty()),
            ),
            (
                "resources",
                container
                    .resources
                    .as_ref()
                    .is_some_and(|resources| *resources != Default::default()),
            ),
            (
                "resizePolicy",
                container
                    .resize_policy
                    .as_ref()
                    .is_some_and(|policy| !policy.is_empty()),
            ),
            ("restartPolicy", container.restart_policy.is_some()),
            ("livenessProbe", container.liveness_probe.is_some()),
            ("readinessProbe", container.readiness_probe.is_some()),
            ("startupProbe", container.startup_probe.is_some()),
            ("lifecycle", container.lifecycle.is_some()),
        ];
        for (field, set) in disallowed {
            if set {
                errors.push(FieldError::forbidden(
                    &container_path.child(field),
                    not_allowed,
                ));
            }
        }
        for (mount_index, mount) in container.volume_mounts.iter().flatten().enumerate() {
            let mount_path = container_path.child("volumeMounts").index(mount_index);
            if mount.sub_path.as_deref().is_some_and(|sub| !sub.is_empty()) {
                errors.push(FieldError::forbidden(
                    &mount_path.child("subPath"),
                    not_allowed,
                ));
            }
            if mount
                .sub_path_expr
                .as_deref()
                .is_some_and(|sub| !sub.is_empty())
            {
                errors.push(FieldError::forbidden(
                    &mount_path.child("subPathExpr"),
                    not_allowed,
                ));
            }
        }
    }
    errors
}

/// Converts an ephemeral container to a container with the same common fields.
fn as_container(ephemeral: &EphemeralContainer) -> Container {
    Container {
        args: ephemeral.args.clone(),
        command: ephemeral.command.clone(),
        env: ephemeral.env.clone(),
        env_from: ephemeral.env_from.clone(),
        image: ephemeral.image.clone(),
        image_pull_policy: ephemeral.image_pull_policy.clone(),
        lifecycle: ephemeral.lifecycle.clone(),
        liveness_probe: ephemeral.liveness_probe.clone(),
        name: ephemeral.name.clone(),
        ports: ephemeral.ports.clone(),
        readiness_probe: ephemeral.readiness_probe.clone(),
        resize_policy: ephemeral.resize_policy.clone(),
        resources: ephemeral.resources.clone(),
        restart_policy: ephemeral.restart_policy.clone(),
        security_context: ephemeral.security_context.clone(),
        startup_probe: ephemeral.startup_probe.clone(),
        stdin: ephemeral.stdin,
        stdin_once: ephemeral.stdin_once,
        termination_message_path: ephemeral.termination_message_path.clone(),
        termination_message_policy: ephemeral.termination_message_policy.clone(),
        tty: ephemeral.tty,
        volume_devices: ephemeral.volume_devices.clone(),
        volume_mounts: ephemeral.volume_mounts.clone(),
        working_dir: ephemeral.working_dir.clone(),
    }
}

/// Checks what only a Pod (not a template) requires of a container: an image without
/// surrounding whitespace.
pub fn validate_container_only_for_pod(container: &Container, path: &FieldPath) -> Vec<FieldError> {
    let image = container.image.as_deref().unwrap_or_default();
    if image.len() != image.trim().len() {
        return vec![FieldError::invalid(
            &path.child("image"),
            image,
            "must not have leading or trailing whitespace",
        )];
    }
    Vec::new()
}

fn validate_container_common(
    container: &Container,
    context: &ContainerContext<'_>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name_path = path.child("name");
    if container.name.is_empty() {
        errors.push(FieldError::required(&name_path, ""));
    } else {
        errors.extend(validate_dns1123_label(&container.name, &name_path));
    }

    if container.image.as_deref().is_none_or(str::is_empty) {
        errors.push(FieldError::required(&path.child("image"), ""));
    }

    match container
        .termination_message_policy
        .as_deref()
        .unwrap_or_default()
    {
        "File" | "FallbackToLogsOnError" => {}
        "" => errors.push(FieldError::required(
            &path.child("terminationMessagePolicy"),
            "",
        )),
        other => errors.push(FieldError::not_supported(
            &path.child("terminationMessagePolicy"),
            other,
            &["File", "FallbackToLogsOnError"],
        )),
    }

    let mounts = container.volume_mounts.as_deref().unwrap_or_default();
    let devices = container.volume_devices.as_deref().unwrap_or_default();
    errors.extend(validate_container_ports(
        container.ports.as_deref().unwrap_or_default(),
        &path.child("ports"),
    ));
    errors.extend(validate_env(
        container.env.as_deref().unwrap_or_default(),
        &path.child("env"),
    ));
    errors.extend(validate_env_from(
        container.env_from.as_deref().unwrap_or_default(),
        &path.child("envFrom"),
    ));
    errors.extend(validate_volume_mounts(
        mounts,
        devices,
        context.volumes,
        container,
        &path.child("volumeMounts"),
    ));
    errors.extend(validate_volume_devices(
        devices,
        mounts,
        context.volumes,
        &path.child("volumeDevices"),
    ));
    errors.extend(validate_pull_policy(
        container.image_pull_policy.as_deref().unwrap_or_default(),
        &path.child("imagePullPolicy"),
    ));
    if let Some(resources) = container.resources.as_ref() {
        errors.extend(validate_resource_requirements(
            resources,
            context.pod_claim_names,
            &path.child("resources"),
        ));
    }
    errors.extend(validate_resize_policy(
        container,
        context.restart_policy,
        &path.child("resizePolicy"),
    ));
    if let Some(security_context) = container.security_context.as_ref() {
        errors.extend(validate_security_context(
            security_context,
            context.host_users,
            &path.child("securityContext"),
        ));
    }
    errors
}

fn validate_hooks_and_probes(
    container: &Container,
    context: &ContainerContext<'_>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(lifecycle) = container.lifecycle.as_ref() {
        errors.extend(validate_lifecycle(
            lifecycle,
            context.grace_period,
            &path.child("lifecycle"),
        ));
    }
    if let Some(probe) = container.liveness_probe.as_ref() {
        let probe_path = path.child("livenessProbe");
        errors.extend(validate_probe(probe, context.grace_period, &probe_path));
        errors.extend(require_single_success(probe, &probe_path));
    }
    if let Some(probe) = container.readiness_probe.as_ref() {
        let probe_path = path.child("readinessProbe");
        errors.extend(validate_probe(probe, context.grace_period, &probe_path));
        if let Some(seconds) = probe.termination_grace_period_seconds {
            errors.push(FieldError::invalid(
                &probe_path.child("terminationGracePeriodSeconds"),
                seconds,
                "must not be set for readinessProbes",
            ));
        }
    }
    if let Some(probe) = container.startup_probe.as_ref() {
        let probe_path = path.child("startupProbe");
        errors.extend(validate_probe(probe, context.grace_period, &probe_path));
        errors.extend(require_single_success(probe, &probe_path));
    }
    errors
}

fn require_single_success(probe: &Probe, path: &FieldPath) -> Vec<FieldError> {
    let threshold = probe.success_threshold.unwrap_or(0);
    if threshold != 1 {
        return vec![FieldError::invalid(
            &path.child("successThreshold"),
            threshold,
            "must be 1",
        )];
    }
    Vec::new()
}

/// Handlers of a probe or lifecycle hook, as upstream's `commonHandler`.
struct Handlers<'a> {
    exec: Option<&'a ExecAction>,
    http_get: Option<&'a HTTPGetAction>,
    tcp_socket_port: Option<&'a IntOrString>,
    grpc_port: Option<i32>,
    sleep_seconds: Option<i64>,
}

fn validate_probe(probe: &Probe, grace_period: Option<i64>, path: &FieldPath) -> Vec<FieldError> {
    let handlers = Handlers {
        exec: probe.exec.as_ref(),
        http_get: probe.http_get.as_ref(),
        tcp_socket_port: probe.tcp_socket.as_ref().map(|action| &action.port),
        grpc_port: probe.grpc.as_ref().map(|action| action.port),
        sleep_seconds: None,
    };
    let mut errors = validate_handlers(&handlers, grace_period, path);
    for (value, field) in [
        (probe.initial_delay_seconds, "initialDelaySeconds"),
        (probe.timeout_seconds, "timeoutSeconds"),
        (probe.period_seconds, "periodSeconds"),
        (probe.success_threshold, "successThreshold"),
        (probe.failure_threshold, "failureThreshold"),
    ] {
        errors.extend(validate_nonnegative(
            i64::from(value.unwrap_or(0)),
            &path.child(field),
        ));
    }
    if let Some(seconds) = probe.termination_grace_period_seconds
        && seconds <= 0
    {
        errors.push(FieldError::invalid(
            &path.child("terminationGracePeriodSeconds"),
            seconds,
            "must be greater than 0",
        ));
    }
    errors
}

fn validate_lifecycle(
    lifecycle: &Lifecycle,
    grace_period: Option<i64>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (handler, field) in [
        (&lifecycle.post_start, "postStart"),
        (&lifecycle.pre_stop, "preStop"),
    ] {
        if let Some(handler) = handler {
            let handlers = Handlers {
                exec: handler.exec.as_ref(),
                http_get: handler.http_get.as_ref(),
                tcp_socket_port: handler.tcp_socket.as_ref().map(|action| &action.port),
                grpc_port: None,
                sleep_seconds: handler.sleep.as_ref().map(|action| action.seconds),
            };
            errors.extend(validate_handlers(
                &handlers,
                grace_period,
                &path.child(field),
            ));
        }
    }
    errors
}

fn validate_handlers(
    handlers: &Handlers<'_>,
    grace_period: Option<i64>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut count = 0;
    let mut take = |field: &str, errors: &mut Vec<FieldError>| -> bool {
        if count > 0 {
            errors.push(FieldError::forbidden(
                &path.child(field),
                "may not specify more than 1 handler type",
            ));
            false
        } else {
            count += 1;
            true
        }
    };
    if let Some(exec) = handlers.exec
        && take("exec", &mut errors)
        && exec.command.as_ref().is_none_or(Vec::is_empty)
    {
        errors.push(FieldError::required(
            &path.child("exec").child("command"),
            "",
        ));
    }
    if let Some(http_get) = handlers.http_get
        && take("httpGet", &mut errors)
    {
        errors.extend(validate_http_get(http_get, &path.child("httpGet")));
    }
    if let Some(port) = handlers.tcp_socket_port
        && take("tcpSocket", &mut errors)
    {
        errors.extend(validate_port_num_or_name(
            port,
            &path.child("tcpSocket").child("port"),
        ));
    }
    if let Some(port) = handlers.grpc_port
        && take("grpc", &mut errors)
    {
        errors.extend(validate_port_num_or_name(
            &IntOrString::Int(port),
            &path.child("grpc").child("port"),
        ));
    }
    if let Some(seconds) = handlers.sleep_seconds
        && take("sleep", &mut errors)
        && let Some(grace_period) = grace_period
        && (seconds < 0 || seconds > grace_period)
    {
        errors.push(FieldError::invalid(
            &path.child("sleep"),
            seconds,
            format!(
                "must be non-negative and less than terminationGracePeriodSeconds ({grace_period})"
            ),
        ));
    }
    if count == 0 {
        errors.push(FieldError::required(path, "must specify a handler type"));
    }
    errors
}

fn validate_http_get(action: &HTTPGetAction, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if action.path.as_deref().is_none_or(str::is_empty) {
        errors.push(FieldError::required(&path.child("path"), ""));
    }
    errors.extend(validate_port_num_or_name(&action.port, &path.child("port")));
    let scheme = action.scheme.as_deref().unwrap_or_default();
    if scheme != "HTTP" && scheme != "HTTPS" {
        errors.push(FieldError::not_supported(
            &path.child("scheme"),
            scheme,
            &["HTTP", "HTTPS"],
        ));
    }
    for header in action.http_headers.iter().flatten() {
        errors.extend(invalid_each(
            &path.child("httpHeaders"),
            &header.name,
            validation::is_http_header_name(&header.name),
        ));
    }
    errors
}

/// Checks a port given by number (1-65535) or by name (an IANA service name).
pub fn validate_port_num_or_name(port: &IntOrString, path: &FieldPath) -> Vec<FieldError> {
    match port {
        IntOrString::Int(number) => validation::is_valid_port_num(*number)
            .into_iter()
            .map(|message| FieldError::invalid(path, *number, message))
            .collect(),
        IntOrString::String(name) => invalid_each(path, name, validation::is_valid_port_name(name)),
    }
}

fn validate_container_ports(ports: &[ContainerPort], path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut names = BTreeSet::new();
    for (index, port) in ports.iter().enumerate() {
        let port_path = path.index(index);
        if let Some(name) = port.name.as_deref().filter(|name| !name.is_empty()) {
            let messages = validation::is_valid_port_name(name);
            if !messages.is_empty() {
                errors.extend(invalid_each(&port_path.child("name"), name, messages));
            } else if !names.insert(name) {
                errors.push(FieldError::duplicate(&port_path.child("name"), name));
            }
        }
        if port.container_port == 0 {
            errors.push(FieldError::required(&port_path.child("containerPort"), ""));
        } else {
            for message in validation::is_valid_port_num(port.container_port) {
                errors.push(FieldError::invalid(
                    &port_path.child("containerPort"),
                    port.container_port,
                    message,
                ));
            }
        }
        if let Some(host_port) = port.host_port.filter(|port| *port != 0) {
            for message in validation::is_valid_port_num(host_port) {
                errors.push(FieldError::invalid(
                    &port_path.child("hostPort"),
                    host_port,
                    message,
                ));
            }
        }
        match port.protocol.as_deref().unwrap_or_default() {
            "" => errors.push(FieldError::required(&port_path.child("protocol"), "")),
            protocol if !SUPPORTED_PORT_PROTOCOLS.contains(&protocol) => {
                errors.push(FieldError::not_supported(
                    &port_path.child("protocol"),
                    protocol,
                    SUPPORTED_PORT_PROTOCOLS,
                ))
            }
            _ => {}
        }
    }
    errors
}

fn check_host_port_conflicts(containers: &[Container], path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for (container_index, container) in containers.iter().enumerate() {
        for (port_index, port) in container.ports.iter().flatten().enumerate() {
            let host_port = port.host_port.unwrap_or(0);
            if host_port == 0 {
                continue;
            }
            let key = format!(
                "{}/{}/{host_port}",
                port.protocol.as_deref().unwrap_or_default(),
                port.host_ip.as_deref().unwrap_or_default()
            );
            if !seen.insert(key.clone()) {
                errors.push(FieldError::duplicate(
                    &path
                        .index(container_index)
                        .child("ports")
                        .index(port_index)
                        .child("hostPort"),
                    key,
                ));
            }
        }
    }
    errors
}

/// Checks an environment variable name by upstream's relaxed rule (on by default since
/// v1.32): printable ASCII other than '='.
fn env_var_name_errors(name: &str) -> Vec<String> {
    if name.is_empty() {
        return vec![format!(
            "environment variable name {}",
            validation::empty_error()
        )];
    }
    if name
        .chars()
        .any(|c| !c.is_ascii() || c.is_ascii_control() || c == '=')
    {
        return vec![
            "a valid environment variable name must consist only of printable ASCII characters other than '='"
                .to_string(),
        ];
    }
    Vec::new()
}

const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

const CONTAINER_RESOURCE_FIELD_PATHS: &[&str] = &[
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

fn validate_env(vars: &[EnvVar], path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (index, var) in vars.iter().enumerate() {
        let var_path = path.index(index);
        if var.name.is_empty() {
            errors.push(FieldError::required(&var_path.child("name"), ""));
        } else {
            errors.extend(invalid_each(
                &var_path.child("name"),
                &var.name,
                env_var_name_errors(&var.name),
            ));
        }
        let Some(from) = var.value_from.as_ref() else {
            continue;
        };
        let from_path = var_path.child("valueFrom");
        let mut sources = 0;
        if let Some(field_ref) = from.field_ref.as_ref() {
            sources += 1;
            errors.extend(validate_object_field_selector(
                &field_ref.api_version.clone().unwrap_or_default(),
                &field_ref.field_path,
                ENV_FIELD_PATHS,
                &from_path.child("fieldRef"),
            ));
        }
        if let Some(resource_ref) = from.resource_field_ref.as_ref() {
            sources += 1;
            errors.extend(validate_resource_field_selector(
                resource_ref.container_name.as_deref().unwrap_or_default(),
                &resource_ref.resource,
                false,
                &from_path.child("resourceFieldRef"),
            ));
        }
        if let Some(key_ref) = from.config_map_key_ref.as_ref() {
            sources += 1;
            errors.extend(validate_key_selector(
                &key_ref.name,
                &key_ref.key,
                &from_path.child("configMapKeyRef"),
            ));
        }
        if let Some(key_ref) = from.secret_key_ref.as_ref() {
            sources += 1;
            errors.extend(validate_key_selector(
                &key_ref.name,
                &key_ref.key,
                &from_path.child("secretKeyRef"),
            ));
        }
        if sources == 0 {
            errors.push(FieldError::invalid(
                &from_path,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            ));
        } else if var.value.as_deref().is_some_and(|value| !value.is_empty()) {
            errors.push(FieldError::invalid(
                &from_path,
                "",
                "may not be specified when `value` is not empty",
            ));
        } else if sources > 1 {
            errors.push(FieldError::invalid(
                &from_path,
                "",
                "may not have more than one field specified at a time",
            ));
        }
    }
    errors
}

/// Checks a downward API field reference against the supported paths.
pub fn validate_object_field_selector(
    api_version: &str,
    field_path: &str,
    supported: &[&str],
    path: &FieldPath,
) -> Vec<FieldError> {
    if api_version.is_empty() {
        return vec![FieldError::required(&path.child("apiVersion"), "")];
    }
    if field_path.is_empty() {
        return vec![FieldError::required(&path.child("fieldPath"), "")];
    }
    if api_version != "v1" {
        return vec![FieldError::invalid(
            &path.child("fieldPath"),
            field_path,
            format!("error converting fieldPath: unsupported pod version: {api_version}"),
        )];
    }
    if let Some((base, subscript)) = split_subscripted_path(field_path) {
        return match base {
            "metadata.annotations" => validate_qualified_name(&subscript.to_lowercase(), path),
            "metadata.labels" => validate_qualified_name(subscript, path),
            other => vec![FieldError::invalid(
                path,
                other,
                "does not support subscript",
            )],
        };
    }
    if !supported.contains(&field_path) {
        let mut sorted = supported.to_vec();
        sorted.sort_unstable();
        return vec![FieldError::not_supported(
            &path.child("fieldPath"),
            field_path,
            &sorted,
        )];
    }
    Vec::new()
}

/// Splits `metadata.labels['key']` into the path and the key.
fn split_subscripted_path(field_path: &str) -> Option<(&str, &str)> {
    let inner = field_path.strip_suffix("']")?;
    let (base, subscript) = inner.split_once("['")?;
    Some((base, subscript))
}

/// Checks a container resource reference of the downward API.
pub fn validate_resource_field_selector(
    container_name: &str,
    resource: &str,
    volume: bool,
    path: &FieldPath,
) -> Vec<FieldError> {
    if volume && container_name.is_empty() {
        return vec![FieldError::required(&path.child("containerName"), "")];
    }
    if resource.is_empty() {
        return vec![FieldError::required(&path.child("resource"), "")];
    }
    let hugepages =
        resource.starts_with("requests.hugepages-") || resource.starts_with("limits.hugepages-");
    if !CONTAINER_RESOURCE_FIELD_PATHS.contains(&resource) && !hugepages {
        return vec![FieldError::not_supported(
            &path.child("resource"),
            resource,
            CONTAINER_RESOURCE_FIELD_PATHS,
        )];
    }
    // NOTE: the `divisor` of a resource reference is not checked against upstream's
    // allowed values (1m and 1 for cpu, powers of 1000 or 1024 for memory).
    Vec::new()
}

fn validate_key_selector(name: &str, key: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = invalid_each(
        &path.child("name"),
        name,
        name_is_dns_subdomain(name, false),
    );
    if key.is_empty() {
        errors.push(FieldError::required(&path.child("key"), ""));
    } else {
        errors.extend(invalid_each(
            &path.child("key"),
            key,
            validation::is_config_map_key(key),
        ));
    }
    errors
}

fn validate_env_from(sources: &[EnvFromSource], path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let source_path = path.index(index);
        if let Some(prefix) = source.prefix.as_deref().filter(|prefix| !prefix.is_empty()) {
            errors.extend(invalid_each(
                &source_path.child("prefix"),
                prefix,
                env_var_name_errors(prefix),
            ));
        }
        let mut count = 0;
        for (name, field) in [
            (
                source
                    .config_map_ref
                    .as_ref()
                    .map(|reference| reference.name.as_str()),
                "configMapRef",
            ),
            (
                source
                    .secret_ref
                    .as_ref()
                    .map(|reference| reference.name.as_str()),
                "secretRef",
            ),
        ] {
            let Some(name) = name else {
                continue;
            };
            count += 1;
            let name_path = source_path.child(field).child("name");
            if name.is_empty() {
                errors.push(FieldError::required(&name_path, ""));
            } else {
                errors.extend(invalid_each(
                    &name_path,
                    name,
                    name_is_dns_subdomain(name, true),
                ));
            }
        }
        if count == 0 {
            errors.push(FieldError::invalid(
                path,
                "",
                "must specify one of: `configMapRef` or `secretRef`",
            ));
        } else if count > 1 {
            errors.push(FieldError::invalid(
                path,
                "",
                "may not have more than one field specified at a time",
            ));
        }
    }
    errors
}

fn validate_volume_mounts(
    mounts: &[VolumeMount],
    devices: &[VolumeDevice],
    volumes: &BTreeMap<String, VolumeKind>,
    container: &Container,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut mount_points = BTreeSet::new();
    for (index, mount) in mounts.iter().enumerate() {
        let mount_path = path.index(index);
        if mount.name.is_empty() {
            errors.push(FieldError::required(&mount_path.child("name"), ""));
        }
        if !volumes.contains_key(&mount.name) {
            errors.push(FieldError::not_found(
                &mount_path.child("name"),
                mount.name.as_str(),
            ));
        }
        if mount.mount_path.is_empty() {
            errors.push(FieldError::required(&mount_path.child("mountPath"), ""));
        }
        if !mount_points.insert(mount.mount_path.as_str()) {
            errors.push(FieldError::invalid(
                &mount_path.child("mountPath"),
                mount.mount_path.as_str(),
                "must be unique",
            ));
        }
        if devices.iter().any(|device| device.name == mount.name) {
            errors.push(FieldError::invalid(
                &mount_path.child("name"),
                mount.name.as_str(),
                "must not already exist in volumeDevices",
            ));
        }
        if devices
            .iter()
            .any(|device| device.device_path == mount.mount_path)
        {
            errors.push(FieldError::invalid(
                &mount_path.child("mountPath"),
                mount.mount_path.as_str(),
                "must not already exist as a path in volumeDevices",
            ));
        }
        let sub_path = mount.sub_path.as_deref().unwrap_or_default();
        let sub_path_expr = mount.sub_path_expr.as_deref().unwrap_or_default();
        if volumes.get(&mount.name) == Some(&VolumeKind::Image) {
            if !sub_path.is_empty() {
                errors.push(FieldError::invalid(
                    &mount_path.child("subPath"),
                    sub_path,
                    "not allowed in image volume sources",
                ));
            }
            if !sub_path_expr.is_empty() {
                errors.push(FieldError::invalid(
                    &mount_path.child("subPathExpr"),
                    sub_path_expr,
                    "not allowed in image volume sources",
                ));
            }
        }
        // Upstream reports sub path problems at the list's path, not the entry's.
        if !sub_path.is_empty() {
            errors.extend(validate_local_descending_path(
                sub_path,
                &path.child("subPath"),
            ));
        }
        if !sub_path_expr.is_empty() {
            if !sub_path.is_empty() {
                errors.push(FieldError::invalid(
                    &mount_path.child("subPathExpr"),
                    sub_path_expr,
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            errors.extend(validate_local_descending_path(
                sub_path_expr,
                &path.child("subPathExpr"),
            ));
        }
        if let Some(propagation) = mount.mount_propagation.as_deref() {
            let propagation_path = path.child("mountPropagation");
            let supported = ["Bidirectional", "HostToContainer", "None"];
            if !supported.contains(&propagation) {
                errors.push(FieldError::not_supported(
                    &propagation_path,
                    propagation,
                    &supported,
                ));
            }
            let privileged = container
                .security_context
                .as_ref()
                .and_then(|context| context.privileged)
                .unwrap_or(false);
            if propagation == "Bidirectional" && !privileged {
                errors.push(FieldError::forbidden(
                    &propagation_path,
                    "Bidirectional mount propagation is available only to privileged containers",
                ));
            }
        }
        errors.extend(validate_recursive_read_only(
            mount,
            &path.child("recursiveReadOnly"),
        ));
    }
    errors
}

fn validate_recursive_read_only(mount: &VolumeMount, path: &FieldPath) -> Vec<FieldError> {
    let Some(mode) = mount.recursive_read_only.as_deref() else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    match mode {
        "Disabled" => {}
        "Enabled" | "IfPossible" => {
            if mount.read_only != Some(true) {
                errors.push(FieldError::forbidden(
                    path,
                    "may only be specified when readOnly is true",
                ));
            }
            if mount
                .mount_propagation
                .as_deref()
                .is_some_and(|propagation| propagation != "None")
            {
                errors.push(FieldError::forbidden(
                    path,
                    "may only be specified when mountPropagation is None or not specified",
                ));
            }
        }
        other => errors.push(FieldError::not_supported(
            path,
            other,
            &["Disabled", "Enabled", "IfPossible"],
        )),
    }
    errors
}

fn validate_volume_devices(
    devices: &[VolumeDevice],
    mounts: &[VolumeMount],
    volumes: &BTreeMap<String, VolumeKind>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut device_paths = BTreeSet::new();
    let mut device_names = BTreeSet::new();
    for (index, device) in devices.iter().enumerate() {
        let device_path = path.index(index);
        let name = device.name.as_str();
        let kind = volumes.get(name);
        if name.is_empty() {
            errors.push(FieldError::required(&device_path.child("name"), ""));
        }
        if device_names.contains(name) {
            errors.push(FieldError::invalid(
                &device_path.child("name"),
                name,
                "must be unique",
            ));
        }
        match kind {
            Some(VolumeKind::Claim) => {}
            Some(_) => errors.push(FieldError::invalid(
                &device_path.child("name"),
                name,
                "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode",
            )),
            None => errors.push(FieldError::not_found(&device_path.child("name"), name)),
        }
        let target = device.device_path.as_str();
        if target.is_empty() {
            errors.push(FieldError::required(&device_path.child("devicePath"), ""));
        }
        if device_paths.contains(target) {
            errors.push(FieldError::invalid(
                &device_path.child("devicePath"),
                target,
                "must be unique",
            ));
        }
        if !target.is_empty() && !validate_path_no_backsteps(target, &device_path).is_empty() {
            errors.push(FieldError::invalid(
                &device_path.child("devicePath"),
                target,
                "can not contain backsteps ('..')",
            ));
        } else {
            device_paths.insert(target);
        }
        if mounts.iter().any(|mount| mount.name == name) {
            errors.push(FieldError::invalid(
                &device_path.child("name"),
                name,
                "must not already exist in volumeMounts",
            ));
        }
        if mounts.iter().any(|mount| mount.mount_path == target) {
            errors.push(FieldError::invalid(
                &device_path.child("devicePath"),
                target,
                "must not already exist as a path in volumeMounts",
            ));
        }
        if !name.is_empty() {
            device_names.insert(name);
        }
    }
    errors
}

fn validate_pull_policy(policy: &str, path: &FieldPath) -> Vec<FieldError> {
    match policy {
        "Always" | "IfNotPresent" | "Never" => Vec::new(),
        "" => vec![FieldError::required(path, "")],
        other => vec![FieldError::not_supported(
            path,
            other,
            &["Always", "IfNotPresent", "Never"],
        )],
    }
}

fn validate_resize_policy(
    container: &Container,
    restart_policy: &str,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, policy) in container.resize_policy.iter().flatten().enumerate() {
        if !seen.insert(policy.resource_name.as_str()) {
            errors.push(FieldError::duplicate(
                &path.index(index),
                policy.resource_name.as_str(),
            ));
        }
        match policy.resource_name.as_str() {
            "cpu" | "memory" => {}
            "" => errors.push(FieldError::required(path, "")),
            other => errors.push(FieldError::not_supported(path, other, &["cpu", "memory"])),
        }
        match policy.restart_policy.as_str() {
            "NotRequired" | "RestartContainer" => {}
            "" => errors.push(FieldError::required(path, "")),
            other => errors.push(FieldError::not_supported(
                path,
                other,
                &["NotRequired", "RestartContainer"],
            )),
        }
        if restart_policy == "Never" && policy.restart_policy != "NotRequired" {
            errors.push(FieldError::invalid(
                path,
                policy.restart_policy.as_str(),
                "must be 'NotRequired' when `restartPolicy` is 'Never'",
            ));
        }
    }
    errors
}

fn validate_security_context(
    context: &SecurityContext,
    host_users: bool,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
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
    if let Some(proc_mount) = context.proc_mount.as_deref() {
        let proc_path = path.child("procMount");
        if proc_mount != "Default" && proc_mount != "Unmasked" {
            errors.push(FieldError::not_supported(
                &proc_path,
                proc_mount,
                &["Default", "Unmasked"],
            ));
        }
        if host_users && proc_mount == "Unmasked" {
            errors.push(FieldError::invalid(
                &proc_path,
                proc_mount,
                "`hostUsers` must be false to use `Unmasked`",
            ));
        }
    }
    if let Some(profile) = context.seccomp_profile.as_ref() {
        errors.extend(super::validation::validate_seccomp_profile(
            &profile.type_,
            profile.localhost_profile.as_deref(),
            &path.child("seccompProfile"),
        ));
    }
    if context.allow_privilege_escalation == Some(false) {
        if context.privileged == Some(true) {
            errors.push(FieldError::invalid(
                path,
                super::common::json_value(context),
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            ));
        }
        let adds_sys_admin = context
            .capabilities
            .as_ref()
            .and_then(|capabilities| capabilities.add.as_ref())
            .is_some_and(|added| added.iter().any(|capability| capability == "CAP_SYS_ADMIN"));
        if adds_sys_admin {
            errors.push(FieldError::invalid(
                path,
                super::common::json_value(context),
                "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
            ));
        }
    }
    errors
}
