//! The pod sandbox config: metadata, hostname, DNS, ports, cgroup parent and the
//! Linux security context of the pod.

use std::collections::HashMap;

use cri::v1 as pb;
use k8s_openapi::api::core::v1::Pod;

use super::{RuntimeManager, labels, pod_uid};
use crate::config::KubeletConfiguration;

/// Builds the sandbox config of `pod` for sandbox attempt `attempt`.
pub fn sandbox_config(manager: &RuntimeManager, pod: &Pod, attempt: u32) -> pb::PodSandboxConfig {
    let config = &manager.config;
    let name = pod.metadata.name.clone().unwrap_or_default();
    let namespace = pod
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".to_string());
    let uid = pod_uid(pod).to_string();
    let spec = pod.spec.clone().unwrap_or_default();
    let host_network = spec.host_network.unwrap_or(false);

    let mut sandbox_labels: HashMap<String, String> = pod
        .metadata
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    sandbox_labels.insert(labels::POD_NAME.to_string(), name.clone());
    sandbox_labels.insert(labels::POD_NAMESPACE.to_string(), namespace.clone());
    sandbox_labels.insert(labels::POD_UID.to_string(), uid.clone());
    let annotations = pod
        .metadata
        .annotations
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();

    let hostname = if host_network {
        manager.node_name.clone()
    } else {
        let mut h = spec.hostname.clone().unwrap_or_else(|| name.clone());
        h.truncate(63);
        h.trim_end_matches(['-', '.']).to_string()
    };

    let mut port_mappings = Vec::new();
    for c in &spec.containers {
        for p in c.ports.iter().flatten() {
            let Some(host_port) = p.host_port.filter(|h| *h > 0) else {
                continue;
            };
            let protocol = match p.protocol.as_deref() {
                Some("UDP") => pb::Protocol::Udp,
                Some("SCTP") => pb::Protocol::Sctp,
                _ => pb::Protocol::Tcp,
            };
            port_mappings.push(pb::PortMapping {
                protocol: protocol as i32,
                container_port: p.container_port,
                host_port,
                host_ip: p.host_ip.clone().unwrap_or_default(),
            });
        }
    }

    let security = spec.security_context.clone().unwrap_or_default();
    let node_mode = |on: Option<bool>| {
        if on.unwrap_or(false) {
            pb::NamespaceMode::Node as i32
        } else {
            pb::NamespaceMode::Pod as i32
        }
    };
    let linux = pb::LinuxPodSandboxConfig {
        cgroup_parent: cgroup_parent(config, pod),
        security_context: Some(pb::LinuxSandboxSecurityContext {
            namespace_options: Some(pb::NamespaceOption {
                network: node_mode(spec.host_network),
                pid: if spec.host_pid.unwrap_or(false) {
                    pb::NamespaceMode::Node as i32
                } else if spec.share_process_namespace.unwrap_or(false) {
                    pb::NamespaceMode::Pod as i32
                } else {
                    pb::NamespaceMode::Container as i32
                },
                ipc: node_mode(spec.host_ipc),
                ..Default::default()
            }),
            run_as_user: security.run_as_user.map(|value| pb::Int64Value { value }),
            run_as_group: security.run_as_group.map(|value| pb::Int64Value { value }),
            supplemental_groups: security
                .supplemental_groups
                .clone()
                .unwrap_or_default()
                .into_iter()
                .chain(security.fs_group)
                .collect(),
            seccomp: Some(super::security::sandbox_seccomp(
                &manager.config.root_dir,
                manager.config.seccomp_default,
                pod,
            )),
            ..Default::default()
        }),
        sysctls: security
            .sysctls
            .iter()
            .flatten()
            .map(|s| (s.name.clone(), s.value.clone()))
            .collect(),
        ..Default::default()
    };

    pb::PodSandboxConfig {
        metadata: Some(pb::PodSandboxMetadata {
            name,
            uid: uid.clone(),
            namespace: namespace.clone(),
            attempt,
        }),
        hostname,
        log_directory: pod_log_dir(config, pod).to_string_lossy().into_owned(),
        dns_config: dns_config(config, pod),
        port_mappings,
        labels: sandbox_labels,
        annotations,
        linux: Some(linux),
        ..Default::default()
    }
}

/// `<podLogsDir>/<namespace>_<name>_<uid>`.
pub fn pod_log_dir(config: &KubeletConfiguration, pod: &Pod) -> std::path::PathBuf {
    config.pod_logs_dir.join(format!(
        "{}_{}_{}",
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.name.as_deref().unwrap_or_default(),
        pod_uid(pod)
    ))
}

/// Classifies the pod's QoS: Guaranteed, Burstable or BestEffort.
pub fn qos_class(pod: &Pod) -> &'static str {
    let spec = match &pod.spec {
        Some(spec) => spec,
        None => return "BestEffort",
    };
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let resources = c.resources.clone().unwrap_or_default();
        let requests = resources.requests.unwrap_or_default();
        let limits = resources.limits.unwrap_or_default();
        for resource in ["cpu", "memory"] {
            let request = requests.get(resource).or(limits.get(resource));
            let limit = limits.get(resource);
            if request.is_some() || limit.is_some() {
                any = true;
            }
            match (request, limit) {
                (Some(r), Some(l))
                    if crate::quantity::parse(&r.0).ok() == crate::quantity::parse(&l.0).ok() => {}
                _ => guaranteed = false,
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

/// Returns the pod's cgroup, which the container manager creates
/// ([`crate::cm`]): `<cgroupRoot>/kubepods[/<qos>]/pod<uid>` for cgroupfs,
/// `kubepods[-<qos>]-pod<uid>.slice` for systemd. With `cgroupsPerQOS: false`
/// pods go directly under `cgroupRoot`.
pub fn cgroup_parent(config: &KubeletConfiguration, pod: &Pod) -> String {
    let systemd = config.cgroup_driver == "systemd";
    if !config.cgroups_per_qos {
        return config.cgroup_root.clone();
    }
    crate::cm::pod_cgroup_name(pod).to_runtime(&config.cgroup_root, systemd)
}

/// Builds the DNS config per `dnsPolicy`: ClusterFirst with cluster DNS servers, the
/// node's resolv.conf for Default (or ClusterFirst without cluster DNS), or the
/// pod's `dnsConfig` for None. `None` lets the runtime use the host's file.
pub fn dns_config(config: &KubeletConfiguration, pod: &Pod) -> Option<pb::DnsConfig> {
    let spec = pod.spec.as_ref()?;
    let policy = spec.dns_policy.as_deref().unwrap_or("ClusterFirst");
    let host_network = spec.host_network.unwrap_or(false);
    let cluster_first = match policy {
        "ClusterFirstWithHostNet" => true,
        "ClusterFirst" => !host_network,
        _ => false,
    };
    let mut dns = if policy == "None" {
        pb::DnsConfig::default()
    } else if cluster_first && !config.cluster_dns.is_empty() {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        let domain = &config.cluster_domain;
        let mut searches = Vec::new();
        if !domain.is_empty() {
            searches = vec![
                format!("{namespace}.svc.{domain}"),
                format!("svc.{domain}"),
                domain.clone(),
            ];
        }
        searches.extend(host_resolv_conf(config).searches);
        pb::DnsConfig {
            servers: config.cluster_dns.iter().map(|ip| ip.to_string()).collect(),
            searches,
            options: vec!["ndots:5".to_string()],
        }
    } else {
        host_resolv_conf(config)
    };
    if let Some(pod_dns) = &spec.dns_config {
        dns.servers
            .extend(pod_dns.nameservers.iter().flatten().cloned());
        dns.searches
            .extend(pod_dns.searches.iter().flatten().cloned());
        for option in pod_dns.options.iter().flatten() {
            let Some(name) = &option.name else { continue };
            let text = match &option.value {
                Some(v) => format!("{name}:{v}"),
                None => name.clone(),
            };
            dns.options
                .retain(|o| o.split(':').next() != Some(name.as_str()));
            dns.options.push(text);
        }
    }
    dns.searches.dedup();
    dns.searches.truncate(32);
    Some(dns)
}

fn host_resolv_conf(config: &KubeletConfiguration) -> pb::DnsConfig {
    let text = std::fs::read_to_string(&config.resolv_conf).unwrap_or_default();
    let mut dns = pb::DnsConfig::default();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => dns.servers.extend(words.next().map(str::to_string)),
            Some("search") => dns.searches = words.map(str::to_string).collect(),
            Some("options") => dns.options = words.map(str::to_string).collect(),
            _ => {}
        }
    }
    dns
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::PodSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    #[test]
    fn cluster_first_dns_config() {
        let config = KubeletConfiguration {
            cluster_dns: vec!["10.96.0.10".parse().unwrap()],
            cluster_domain: "cluster.local".into(),
            resolv_conf: "/nonexistent".into(),
            ..Default::default()
        };
        let pod = Pod {
            metadata: ObjectMeta {
                namespace: Some("ns1".into()),
                ..Default::default()
            },
            spec: Some(PodSpec::default()),
            ..Default::default()
        };
        let dns = dns_config(&config, &pod).unwrap();
        assert_eq!(dns.servers, vec!["10.96.0.10"]);
        assert_eq!(
            dns.searches,
            vec![
                "ns1.svc.cluster.local",
                "svc.cluster.local",
                "cluster.local"
            ]
        );
        assert_eq!(dns.options, vec!["ndots:5"]);
    }

    #[test]
    fn cgroup_parent_follows_qos_and_driver() {
        let pod = Pod {
            metadata: ObjectMeta {
                uid: Some("ab-cd".into()),
                ..Default::default()
            },
            spec: Some(PodSpec::default()),
            ..Default::default()
        };
        let mut config = KubeletConfiguration {
            cgroup_root: "/test".into(),
            ..Default::default()
        };
        assert_eq!(
            cgroup_parent(&config, &pod),
            "/test/kubepods/besteffort/podab-cd"
        );
        config.cgroup_driver = "systemd".into();
        assert_eq!(
            cgroup_parent(&config, &pod),
            "kubepods-besteffort-podab_cd.slice"
        );
    }
}
