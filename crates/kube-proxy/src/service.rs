//! Services in the form the proxiers use: one [`ServicePortInfo`] per service port, and the
//! [`ServiceChangeTracker`] that accumulates informer events between two syncs.
//!
//! Entry point: feed [`ServiceChangeTracker::update`] with the previous and current
//! object of each event, then call [`ServiceChangeTracker::apply`] at the start of a
//! sync to bring a [`ServicePortMap`] up to date.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::Service;

use crate::net::{Cidr, IpFamily};

/// The session affinity timeout when a ClientIP service sets none (3 hours).
pub const DEFAULT_AFFINITY_TIMEOUT_SECONDS: u32 = 10800;

/// A layer-4 protocol of a service port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// Parses the API spelling (`TCP`, `UDP`, `SCTP`); a missing protocol means TCP.
    pub fn from_api(value: Option<&str>) -> Option<Protocol> {
        match value.unwrap_or("TCP") {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// Returns the lowercase name that iptables and conntrack take (`tcp`, `udp`, `sctp`).
    pub fn lower(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

/// The namespace and name of a Service.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NamespacedName {
    pub namespace: String,
    pub name: String,
}

impl NamespacedName {
    pub fn new(namespace: &str, name: &str) -> Self {
        NamespacedName {
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

impl fmt::Display for NamespacedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// One port of one service: `namespace/name:port` (`namespace/name` for an unnamed
/// port) plus its protocol.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServicePortName {
    pub service: NamespacedName,
    pub port: String,
    pub protocol: Protocol,
}

impl ServicePortName {
    pub fn new(namespace: &str, name: &str, port: &str, protocol: Protocol) -> Self {
        ServicePortName {
            service: NamespacedName::new(namespace, name),
            port: port.to_string(),
            protocol,
        }
    }
}

/// Formats as upstream does: the protocol is not part of the text.
impl fmt::Display for ServicePortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.port.is_empty() {
            write!(f, "{}", self.service)
        } else {
            write!(f, "{}:{}", self.service, self.port)
        }
    }
}

/// Everything the proxier needs about one service port, already parsed and filtered to
/// the proxier's IP family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePortInfo {
    pub cluster_ip: IpAddr,
    pub port: u16,
    pub protocol: Protocol,
    /// 0 when the service has no node port.
    pub node_port: u16,
    pub external_ips: Vec<IpAddr>,
    pub load_balancer_ips: Vec<IpAddr>,
    pub load_balancer_source_ranges: Vec<Cidr>,
    /// ClientIP affinity timeout in seconds; `None` without affinity.
    pub session_affinity_seconds: Option<u32>,
    /// externalTrafficPolicy Local, on a service with a node port, load balancer or
    /// external IPs (the policy is ignored otherwise).
    pub external_policy_local: bool,
    /// internalTrafficPolicy Local.
    pub internal_policy_local: bool,
    /// 0 when the service has no health check node port.
    pub health_check_node_port: u16,
}

impl ServicePortInfo {
    /// Returns whether traffic reaches this port from outside the cluster network
    /// through a node port, external IPs or load balancer IPs.
    pub fn has_external_destinations(&self) -> bool {
        self.node_port != 0 || !self.external_ips.is_empty() || !self.load_balancer_ips.is_empty()
    }
}

/// The service ports currently programmed, keyed by port name.
pub type ServicePortMap = BTreeMap<ServicePortName, ServicePortInfo>;

/// Converts a Service into its ports for `family`. Headless services, ExternalName
/// services and services without a cluster IP of that family produce no ports. Ports
/// with an unknown protocol or out-of-range numbers are skipped with a log line.
pub fn service_ports(
    service: &Service,
    family: IpFamily,
) -> BTreeMap<ServicePortName, ServicePortInfo> {
    let mut ports = BTreeMap::new();
    let Some(spec) = service.spec.as_ref() else {
        return ports;
    };
    let namespace = service.metadata.namespace.as_deref().unwrap_or("default");
    let name = service.metadata.name.as_deref().unwrap_or_default();
    if spec.type_.as_deref() == Some("ExternalName") {
        return ports;
    }

    let mut cluster_ips: Vec<&str> = spec
        .cluster_ips
        .iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if cluster_ips.is_empty()
        && let Some(ip) = spec.cluster_ip.as_deref()
    {
        cluster_ips.push(ip);
    }
    let Some(cluster_ip) = cluster_ips
        .iter()
        .filter_map(|ip| ip.parse::<IpAddr>().ok())
        .find(|ip| family.matches(ip))
    else {
        return ports;
    };

    let external_ips = parse_ips(
        spec.external_ips.iter().flatten().map(String::as_str),
        family,
    );
    let load_balancer_ips = parse_ips(
        service
            .status
            .as_ref()
            .and_then(|status| status.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|ingress| ingress.ip.as_deref()),
        family,
    );
    let load_balancer_source_ranges = spec
        .load_balancer_source_ranges
        .iter()
        .flatten()
        .filter_map(|range| range.trim().parse::<Cidr>().ok())
        .filter(|cidr| family.matches(&cidr.addr))
        .collect();
    let session_affinity_seconds =
        (spec.session_affinity.as_deref() == Some("ClientIP")).then(|| {
            spec.session_affinity_config
                .as_ref()
                .and_then(|config| config.client_ip.as_ref())
                .and_then(|client_ip| client_ip.timeout_seconds)
                .and_then(|seconds| u32::try_from(seconds).ok())
                .filter(|seconds| *seconds > 0)
                .unwrap_or(DEFAULT_AFFINITY_TIMEOUT_SECONDS)
        });
    let is_external = matches!(
        spec.type_.as_deref(),
        Some("NodePort") | Some("LoadBalancer")
    ) || !external_ips.is_empty();
    let external_policy_local =
        is_external && spec.external_traffic_policy.as_deref() == Some("Local");
    let internal_policy_local = spec.internal_traffic_policy.as_deref() == Some("Local");
    let health_check_node_port = spec
        .health_check_node_port
        .and_then(|port| u16::try_from(port).ok())
        .unwrap_or(0);

    for port in spec.ports.iter().flatten() {
        let port_name = port.name.as_deref().unwrap_or_default();
        let (Some(protocol), Ok(number)) = (
            Protocol::from_api(port.protocol.as_deref()),
            u16::try_from(port.port),
        ) else {
            tracing::warn!(service = %format!("{namespace}/{name}"), port = port_name, "skipping service port with an invalid protocol or port number");
            continue;
        };
        let node_port = port
            .node_port
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(0);
        ports.insert(
            ServicePortName::new(namespace, name, port_name, protocol),
            ServicePortInfo {
                cluster_ip,
                port: number,
                protocol,
                node_port,
                external_ips: external_ips.clone(),
                load_balancer_ips: load_balancer_ips.clone(),
                load_balancer_source_ranges: Vec::clone(&load_balancer_source_ranges),
                session_affinity_seconds,
                external_policy_local,
                internal_policy_local,
                health_check_node_port,
            },
        );
    }
    ports
}

fn parse_ips<'a>(values: impl Iterator<Item = &'a str>, family: IpFamily) -> Vec<IpAddr> {
    values
        .filter_map(|value| value.parse::<IpAddr>().ok())
        .filter(|ip| family.matches(ip))
        .collect()
}

/// The outcome of applying pending service changes.
#[derive(Debug, Default)]
pub struct ServiceUpdateResult {
    /// Services whose ports were added, changed or removed.
    pub updated_services: BTreeSet<NamespacedName>,
    /// Cluster IPs of UDP service ports that went away; their conntrack entries are stale.
    pub deleted_udp_cluster_ips: BTreeSet<IpAddr>,
}

/// Pending service changes since the last [`apply`](ServiceChangeTracker::apply): per
/// service, the ports before the first pending event and after the last one.
#[derive(Debug)]
pub struct ServiceChangeTracker {
    family: IpFamily,
    pending: HashMap<NamespacedName, PendingService>,
}

#[derive(Debug)]
struct PendingService {
    previous: BTreeMap<ServicePortName, ServicePortInfo>,
    current: BTreeMap<ServicePortName, ServicePortInfo>,
}

impl ServiceChangeTracker {
    pub fn new(family: IpFamily) -> Self {
        ServiceChangeTracker {
            family,
            pending: HashMap::new(),
        }
    }

    /// Records one event: `previous` is `None` for an add, `current` is `None` for a
    /// delete. Returns whether any change is pending afterwards for that service.
    pub fn update(&mut self, previous: Option<&Service>, current: Option<&Service>) -> bool {
        let Some(object) = current.or(previous) else {
            return false;
        };
        let key = NamespacedName::new(
            object.metadata.namespace.as_deref().unwrap_or("default"),
            object.metadata.name.as_deref().unwrap_or_default(),
        );
        let current_ports = current
            .map(|s| service_ports(s, self.family))
            .unwrap_or_default();
        let entry = self
            .pending
            .entry(key.clone())
            .or_insert_with(|| PendingService {
                previous: previous
                    .map(|s| service_ports(s, self.family))
                    .unwrap_or_default(),
                current: BTreeMap::new(),
            });
        entry.current = current_ports;
        if entry.previous == entry.current {
            self.pending.remove(&key);
            return false;
        }
        true
    }

    /// Returns whether any change is pending.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Moves every pending change into `map` and returns what changed.
    pub fn apply(&mut self, map: &mut ServicePortMap) -> ServiceUpdateResult {
        let mut result = ServiceUpdateResult::default();
        for (key, change) in self.pending.drain() {
            map.retain(|name, _| name.service != key);
            for (name, info) in &change.previous {
                let survives = change
                    .current
                    .get(name)
                    .is_some_and(|c| c.cluster_ip == info.cluster_ip);
                if info.protocol == Protocol::Udp && !survives {
                    result.deleted_udp_cluster_ips.insert(info.cluster_ip);
                }
            }
            map.extend(change.current);
            result.updated_services.insert(key);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ServicePort, ServiceSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn service(name: &str, cluster_ip: &str, ports: &[(&str, i32, &str)]) -> Service {
        Service {
            metadata: ObjectMeta {
                namespace: Some("ns1".to_string()),
                name: Some(name.to_string()),
                ..ObjectMeta::default()
            },
            spec: Some(ServiceSpec {
                cluster_ip: Some(cluster_ip.to_string()),
                ports: Some(
                    ports
                        .iter()
                        .map(|(port_name, port, protocol)| ServicePort {
                            name: Some(port_name.to_string()),
                            port: *port,
                            protocol: Some(protocol.to_string()),
                            ..ServicePort::default()
                        })
                        .collect(),
                ),
                ..ServiceSpec::default()
            }),
            status: None,
        }
    }

    #[test]
    fn port_name_display() {
        assert_eq!(
            ServicePortName::new("ns1", "svc1", "p80", Protocol::Tcp).to_string(),
            "ns1/svc1:p80"
        );
        assert_eq!(
            ServicePortName::new("ns1", "svc1", "", Protocol::Tcp).to_string(),
            "ns1/svc1"
        );
    }

    #[test]
    fn headless_and_wrong_family_have_no_ports() {
        let headless = service("h", "None", &[("p", 80, "TCP")]);
        assert!(service_ports(&headless, IpFamily::V4).is_empty());
        let v6 = service("v6", "fd00::1", &[("p", 80, "TCP")]);
        assert!(service_ports(&v6, IpFamily::V4).is_empty());
        assert_eq!(service_ports(&v6, IpFamily::V6).len(), 1);
    }

    #[test]
    fn tracker_add_update_delete() {
        let mut tracker = ServiceChangeTracker::new(IpFamily::V4);
        let mut map = ServicePortMap::new();
        let first = service(
            "svc1",
            "10.0.0.1",
            &[("p80", 80, "TCP"), ("dns", 53, "UDP")],
        );
        assert!(tracker.update(None, Some(&first)));
        let result = tracker.apply(&mut map);
        assert_eq!(map.len(), 2);
        assert_eq!(result.updated_services.len(), 1);
        assert!(result.deleted_udp_cluster_ips.is_empty());

        let second = service("svc1", "10.0.0.1", &[("p80", 80, "TCP")]);
        assert!(tracker.update(Some(&first), Some(&second)));
        let result = tracker.apply(&mut map);
        assert_eq!(map.len(), 1);
        assert!(
            result
                .deleted_udp_cluster_ips
                .contains(&"10.0.0.1".parse::<IpAddr>().unwrap())
        );

        assert!(tracker.update(Some(&second), None));
        tracker.apply(&mut map);
        assert!(map.is_empty());
    }

    #[test]
    fn tracker_drops_change_that_reverts() {
        let mut tracker = ServiceChangeTracker::new(IpFamily::V4);
        let first = service("svc1", "10.0.0.1", &[("p80", 80, "TCP")]);
        let second = service("svc1", "10.0.0.1", &[("p80", 81, "TCP")]);
        assert!(tracker.update(Some(&first), Some(&second)));
        assert!(!tracker.update(Some(&second), Some(&first)));
        assert!(!tracker.has_pending());
    }
}
