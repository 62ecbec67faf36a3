//! Container environment: `envFrom`, `env` with `$(VAR)` expansion and every
//! `valueFrom` source, and the Docker-links style service variables
//! (`<SVC>_SERVICE_HOST`, ...).

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::List;
use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret, Service};

use super::RuntimeManager;
use crate::api;
use crate::sources::is_static;

/// How long a static pod's container waits for the API server to return the
/// services for its environment variables.
const STATIC_POD_SERVICE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// An ordered environment; a later set of the same name replaces the value in place.
#[derive(Default)]
struct Env {
    vars: Vec<(String, String)>,
}

impl Env {
    fn set(&mut self, name: &str, value: String) {
        match self.vars.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = value,
            None => self.vars.push((name.to_string(), value)),
        }
    }
}

/// Builds the environment of `container`.
///
/// # Errors
///
/// A message naming a missing non-optional ConfigMap, Secret or key, or an
/// unsupported field path.
pub async fn make_environment(
    manager: &RuntimeManager,
    pod: &Pod,
    container: &Container,
    pod_ip: &str,
) -> Result<Vec<(String, String)>, String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let mut env = Env::default();

    let service_links = pod
        .spec
        .as_ref()
        .and_then(|s| s.enable_service_links)
        .unwrap_or(true);
    if let Some(client) = &manager.client {
        let lookup = service_env(client, namespace, service_links);
        // A static pod such as etcd can be what the API server itself needs, so it
        // waits for its service variables only briefly. Upstream's kubelet likewise
        // starts static pods without waiting for its service cache to sync.
        let vars = if is_static(pod) {
            match tokio::time::timeout(STATIC_POD_SERVICE_WAIT, lookup).await {
                Ok(vars) => vars,
                Err(_) => {
                    tracing::warn!(
                        pod = pod.metadata.name.as_deref().unwrap_or_default(),
                        namespace,
                        wait = ?STATIC_POD_SERVICE_WAIT,
                        "services not read in time; starting the static pod without service variables"
                    );
                    Vec::new()
                }
            }
        } else {
            lookup.await
        };
        for (name, value) in vars {
            env.set(&name, value);
        }
    }

    for source in container.env_from.iter().flatten() {
        let prefix = source.prefix.clone().unwrap_or_default();
        if let Some(cm_ref) = &source.config_map_ref {
            let optional = cm_ref.optional.unwrap_or(false);
            match config_map(manager, namespace, &cm_ref.name).await? {
                Some(cm) => {
                    for (k, v) in cm.data.unwrap_or_default() {
                        env.set(&format!("{prefix}{k}"), v);
                    }
                }
                None if optional => {}
                None => return Err(format!("configmap \"{}\" not found", cm_ref.name)),
            }
        }
        if let Some(secret_ref) = &source.secret_ref {
            let optional = secret_ref.optional.unwrap_or(false);
            match secret(manager, namespace, &secret_ref.name).await? {
                Some(s) => {
                    for (k, v) in s.data.unwrap_or_default() {
                        env.set(
                            &format!("{prefix}{k}"),
                            String::from_utf8_lossy(&v.0).into_owned(),
                        );
                    }
                }
                None if optional => {}
                None => return Err(format!("secret \"{}\" not found", secret_ref.name)),
            }
        }
    }

    for var in container.env.iter().flatten() {
        let value = match &var.value_from {
            None => expand(&var.value.clone().unwrap_or_default(), &env.vars),
            Some(from) => {
                if let Some(field) = &from.field_ref {
                    field_value(manager, pod, &field.field_path, pod_ip)?
                } else if let Some(resource) = &from.resource_field_ref {
                    resource_value(pod, container, resource)?
                } else if let Some(key_ref) = &from.config_map_key_ref {
                    let optional = key_ref.optional.unwrap_or(false);
                    let value = config_map(manager, namespace, &key_ref.name)
                        .await?
                        .and_then(|cm| cm.data.and_then(|d| d.get(&key_ref.key).cloned()));
                    match value {
                        Some(v) => v,
                        None if optional => continue,
                        None => {
                            return Err(format!(
                                "couldn't find key {} in ConfigMap {namespace}/{}",
                                key_ref.key, key_ref.name
                            ));
                        }
                    }
                } else if let Some(key_ref) = &from.secret_key_ref {
                    let optional = key_ref.optional.unwrap_or(false);
                    let value = secret(manager, namespace, &key_ref.name)
                        .await?
                        .and_then(|s| s.data.and_then(|d| d.get(&key_ref.key).cloned()));
                    match value {
                        Some(ByteString(v)) => String::from_utf8_lossy(&v).into_owned(),
                        None if optional => continue,
                        None => {
                            return Err(format!(
                                "couldn't find key {} in Secret {namespace}/{}",
                                key_ref.key, key_ref.name
                            ));
                        }
                    }
                } else {
                    String::new()
                }
            }
        };
        env.set(&var.name, value);
    }
    Ok(env.vars)
}

/// Expands `$(NAME)` references from `env`; `$$` escapes a dollar, and unknown
/// references stay as written.
pub fn expand(input: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && i + 1 < bytes.len() {
            if bytes[i + 1] == b'$' {
                out.push('$');
                i += 2;
                continue;
            }
            if bytes[i + 1] == b'('
                && let Some(end) = input[i + 2..].find(')')
            {
                let name = &input[i + 2..i + 2 + end];
                match env.iter().rev().find(|(n, _)| n == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&input[i..i + 3 + end]),
                }
                i += 3 + end;
                continue;
            }
        }
        let ch = input[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Resolves a downward API field path.
///
/// # Errors
///
/// A message for an unsupported path.
pub fn field_value(
    manager: &RuntimeManager,
    pod: &Pod,
    path: &str,
    pod_ip: &str,
) -> Result<String, String> {
    let meta = &pod.metadata;
    let spec = pod.spec.clone().unwrap_or_default();
    if let Some(key) = subscript(path, "metadata.labels") {
        return Ok(meta
            .labels
            .as_ref()
            .and_then(|l| l.get(key))
            .cloned()
            .unwrap_or_default());
    }
    if let Some(key) = subscript(path, "metadata.annotations") {
        return Ok(meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .cloned()
            .unwrap_or_default());
    }
    Ok(match path {
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        "metadata.labels" => format_map(meta.labels.as_ref()),
        "metadata.annotations" => format_map(meta.annotations.as_ref()),
        "spec.nodeName" => spec.node_name.unwrap_or_else(|| manager.node_name.clone()),
        "spec.serviceAccountName" => spec.service_account_name.unwrap_or_default(),
        "status.hostIP" | "status.hostIPs" => manager.host_ip.clone(),
        "status.podIP" | "status.podIPs" => pod_ip.to_string(),
        other => return Err(format!("unsupported fieldPath {other:?}")),
    })
}

fn subscript<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    path.strip_prefix(prefix)?
        .strip_prefix("['")?
        .strip_suffix("']")
}

/// `key="value"` lines, sorted by key, as the downward API writes maps.
pub fn format_map(map: Option<&BTreeMap<String, String>>) -> String {
    map.into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Resolves a resourceFieldRef: limits default to the node's allocatable.
///
/// # Errors
///
/// A message for an unknown resource or container.
pub fn resource_value(
    pod: &Pod,
    container: &Container,
    reference: &k8s_openapi::api::core::v1::ResourceFieldSelector,
) -> Result<String, String> {
    let container = match &reference.container_name {
        Some(name) if !name.is_empty() && *name != container.name => pod
            .spec
            .as_ref()
            .and_then(|s| s.containers.iter().find(|c| &c.name == name))
            .ok_or_else(|| format!("container {name:?} not found for resourceFieldRef"))?,
        _ => container,
    };
    let resources = container.resources.clone().unwrap_or_default();
    let (kind, resource) = reference
        .resource
        .split_once('.')
        .ok_or_else(|| format!("unsupported resource {:?}", reference.resource))?;
    let map = match kind {
        "limits" => resources.limits.unwrap_or_default(),
        "requests" => resources.requests.unwrap_or_default(),
        _ => return Err(format!("unsupported resource {:?}", reference.resource)),
    };
    let divisor = reference
        .divisor
        .as_ref()
        .and_then(|d| crate::quantity::parse(&d.0).ok())
        .filter(|d| *d > 0.0)
        .unwrap_or(1.0);
    let value = match map.get(resource) {
        Some(q) => crate::quantity::parse(&q.0)?,
        None if kind == "limits" => match resource {
            "cpu" => unsafe_cpus(),
            "memory" => crate::eviction::meminfo().map(|m| m.0).unwrap_or(0.0),
            _ => 0.0,
        },
        None => 0.0,
    };
    Ok(format!("{}", (value / divisor).ceil() as i64))
}

fn unsafe_cpus() -> f64 {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as f64
}

async fn config_map(
    manager: &RuntimeManager,
    namespace: &str,
    name: &str,
) -> Result<Option<ConfigMap>, String> {
    let Some(client) = &manager.client else {
        return Err("configmaps need an API server connection".to_string());
    };
    api::get(
        client,
        &format!("/api/v1/namespaces/{namespace}/configmaps/{name}"),
    )
    .await
    .map_err(|e| format!("failed to get configmap {namespace}/{name}: {e}"))
}

async fn secret(
    manager: &RuntimeManager,
    namespace: &str,
    name: &str,
) -> Result<Option<Secret>, String> {
    let Some(client) = &manager.client else {
        return Err("secrets need an API server connection".to_string());
    };
    api::get(
        client,
        &format!("/api/v1/namespaces/{namespace}/secrets/{name}"),
    )
    .await
    .map_err(|e| format!("failed to get secret {namespace}/{name}: {e}"))
}

/// Service variables for `namespace` (all its services when `links`, plus the
/// `kubernetes` service of `default`). List failures are logged and yield none.
async fn service_env(
    client: &client::rest::RestClient,
    namespace: &str,
    links: bool,
) -> Vec<(String, String)> {
    let mut services: Vec<Service> = Vec::new();
    if links {
        match client
            .get(&format!("/api/v1/namespaces/{namespace}/services"))
            .request_json::<List<Service>>()
            .await
        {
            Ok(list) => services.extend(list.items),
            Err(error) => {
                tracing::warn!(namespace, %error, "failed to list services for environment")
            }
        }
    }
    if (namespace != "default" || !links)
        && let Ok(Some(master)) =
            api::get::<Service>(client, "/api/v1/namespaces/default/services/kubernetes").await
    {
        services.retain(|s| s.metadata.name.as_deref() != Some("kubernetes"));
        services.push(master);
    }
    let mut vars = Vec::new();
    for service in services {
        vars.extend(service_vars(&service));
    }
    vars
}

/// Builds the variables of one service, none for a headless service.
pub fn service_vars(service: &Service) -> Vec<(String, String)> {
    let spec = service.spec.clone().unwrap_or_default();
    let Some(ip) = spec.cluster_ip.filter(|ip| !ip.is_empty() && ip != "None") else {
        return Vec::new();
    };
    let name = service
        .metadata
        .name
        .clone()
        .unwrap_or_default()
        .to_uppercase()
        .replace('-', "_");
    let ports = spec.ports.unwrap_or_default();
    let mut vars = vec![(format!("{name}_SERVICE_HOST"), ip.clone())];
    let Some(first) = ports.first() else {
        return vars;
    };
    vars.push((format!("{name}_SERVICE_PORT"), first.port.to_string()));
    for p in &ports {
        if let Some(port_name) = p.name.as_ref().filter(|n| !n.is_empty()) {
            vars.push((
                format!(
                    "{name}_SERVICE_PORT_{}",
                    port_name.to_uppercase().replace('-', "_")
                ),
                p.port.to_string(),
            ));
        }
    }
    let protocol = |p: &k8s_openapi::api::core::v1::ServicePort| {
        p.protocol.clone().unwrap_or_else(|| "TCP".to_string())
    };
    vars.push((
        format!("{name}_PORT"),
        format!("{}://{ip}:{}", protocol(first).to_lowercase(), first.port),
    ));
    for p in &ports {
        let proto = protocol(p);
        let prefix = format!("{name}_PORT_{}_{}", p.port, proto.to_uppercase());
        vars.push((
            prefix.clone(),
            format!("{}://{ip}:{}", proto.to_lowercase(), p.port),
        ));
        vars.push((format!("{prefix}_PROTO"), proto.to_lowercase()));
        vars.push((format!("{prefix}_PORT"), p.port.to_string()));
        vars.push((format!("{prefix}_ADDR"), ip.clone()));
    }
    vars
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{ServicePort, ServiceSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    #[test]
    fn expansion() {
        let env = vec![("A".to_string(), "x".to_string())];
        assert_eq!(expand("$(A)-$(B)-$$(A)", &env), "x-$(B)-$(A)");
        assert_eq!(expand("plain $", &env), "plain $");
    }

    #[test]
    fn service_variables() {
        let svc = Service {
            metadata: ObjectMeta {
                name: Some("my-svc".into()),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                cluster_ip: Some("10.0.0.11".into()),
                ports: Some(vec![ServicePort {
                    name: Some("http".into()),
                    port: 80,
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let vars: BTreeMap<_, _> = service_vars(&svc).into_iter().collect();
        assert_eq!(vars["MY_SVC_SERVICE_HOST"], "10.0.0.11");
        assert_eq!(vars["MY_SVC_SERVICE_PORT"], "80");
        assert_eq!(vars["MY_SVC_SERVICE_PORT_HTTP"], "80");
        assert_eq!(vars["MY_SVC_PORT"], "tcp://10.0.0.11:80");
        assert_eq!(vars["MY_SVC_PORT_80_TCP_ADDR"], "10.0.0.11");
    }
}
