//! Endpoints in the form the proxiers use: EndpointSlices merged per service port into an
//! [`EndpointsMap`], and the [`EndpointsChangeTracker`] that keeps the slice cache and
//! the set of services whose endpoints changed since the last sync.
//!
//! Entry point: [`EndpointsChangeTracker::endpoint_slice_update`] per informer event,
//! [`EndpointsChangeTracker::apply`] at the start of a sync, and
//! [`categorize_endpoints`] to pick the endpoints a service port's traffic may use.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::time::SystemTime;

use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::net::IpFamily;
use crate::service::{NamespacedName, Protocol, ServicePortInfo, ServicePortName};

/// The label an EndpointSlice carries to name its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The annotation in which the EndpointSlice controller stores when the change behind
/// a slice update happened (RFC 3339); network programming latency is measured from it.
pub const LAST_CHANGE_TRIGGER_TIME_ANNOTATION: &str =
    "endpoints.kubernetes.io/last-change-trigger-time";

/// One backend of one service port.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
    /// Whether the endpoint runs on this proxier's node.
    pub is_local: bool,
    pub ready: bool,
    pub serving: bool,
    pub terminating: bool,
}

impl Endpoint {
    /// `ip:port` (`[ip]:port` for IPv6), as chain hashes and DNAT targets use it.
    pub fn address(&self) -> String {
        match self.ip {
            IpAddr::V4(ip) => format!("{ip}:{}", self.port),
            IpAddr::V6(ip) => format!("[{ip}]:{}", self.port),
        }
    }
}

/// The endpoints of every service port, sorted by address within a port.
pub type EndpointsMap = BTreeMap<ServicePortName, Vec<Endpoint>>;

/// The outcome of applying pending endpoint changes.
#[derive(Debug, Default)]
pub struct EndpointsUpdateResult {
    /// Services whose merged endpoints changed.
    pub updated_services: BTreeSet<NamespacedName>,
    /// Endpoints of UDP service ports that went away or stopped being ready; their
    /// conntrack entries must be deleted.
    pub deleted_udp_endpoints: Vec<(ServicePortName, Endpoint)>,
    /// UDP service ports that had no ready endpoint and now have one; conntrack entries
    /// that cached the rejection must be deleted.
    pub new_udp_services_with_endpoints: BTreeSet<ServicePortName>,
    /// Trigger times of the slice updates behind this change, for network programming
    /// latency.
    pub trigger_times: Vec<SystemTime>,
}

/// The slice cache plus the services whose endpoints changed since the last apply.
#[derive(Debug)]
pub struct EndpointsChangeTracker {
    hostname: String,
    family: IpFamily,
    slices: HashMap<NamespacedName, BTreeMap<String, EndpointSlice>>,
    /// Per changed service, its merged endpoints at the last apply.
    pending: HashMap<NamespacedName, EndpointsMap>,
    trigger_times: HashMap<NamespacedName, Vec<SystemTime>>,
}

impl EndpointsChangeTracker {
    pub fn new(hostname: &str, family: IpFamily) -> Self {
        EndpointsChangeTracker {
            hostname: hostname.to_string(),
            family,
            slices: HashMap::new(),
            pending: HashMap::new(),
            trigger_times: HashMap::new(),
        }
    }

    /// Records an added or updated slice (`removed == false`) or a deleted one. Slices
    /// without a service-name label or of the other address family are ignored. Returns
    /// whether the event was recorded.
    pub fn endpoint_slice_update(&mut self, slice: &EndpointSlice, removed: bool) -> bool {
        if slice.address_type != self.family.address_type() {
            return false;
        }
        let Some(service_name) = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|labels| labels.get(SERVICE_NAME_LABEL))
        else {
            return false;
        };
        let namespace = slice.metadata.namespace.as_deref().unwrap_or("default");
        let slice_name = slice.metadata.name.clone().unwrap_or_default();
        let key = NamespacedName::new(namespace, service_name);

        if !self.pending.contains_key(&key) {
            let before = self.merged(&key);
            self.pending.insert(key.clone(), before);
        }
        if let Some(time) = trigger_time(slice) {
            self.trigger_times
                .entry(key.clone())
                .or_default()
                .push(time);
        }
        let service_slices = self.slices.entry(key.clone()).or_default();
        if removed {
            service_slices.remove(&slice_name);
            if service_slices.is_empty() {
                self.slices.remove(&key);
            }
        } else {
            service_slices.insert(slice_name, slice.clone());
        }
        true
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Moves every pending change into `map` and returns what changed.
    pub fn apply(&mut self, map: &mut EndpointsMap) -> EndpointsUpdateResult {
        let mut result = EndpointsUpdateResult::default();
        let pending: Vec<(NamespacedName, EndpointsMap)> = self.pending.drain().collect();
        for (key, before) in pending {
            let after = self.merged(&key);
            let trigger_times = self.trigger_times.remove(&key).unwrap_or_default();
            if before == after {
                continue;
            }
            result.trigger_times.extend(trigger_times);
            detect_udp_changes(&before, &after, &mut result);
            map.retain(|name, _| name.service != key);
            map.extend(after);
            result.updated_services.insert(key);
        }
        result
    }

    /// Merges every cached slice of `service` into endpoints per service port.
    fn merged(&self, service: &NamespacedName) -> EndpointsMap {
        let mut merged: BTreeMap<ServicePortName, BTreeMap<(IpAddr, u16), Endpoint>> =
            BTreeMap::new();
        for slice in self
            .slices
            .get(service)
            .into_iter()
            .flat_map(BTreeMap::values)
        {
            for port in slice.ports.iter().flatten() {
                let (Some(protocol), Some(number)) = (
                    Protocol::from_api(port.protocol.as_deref()),
                    port.port.and_then(|p| u16::try_from(p).ok()),
                ) else {
                    continue;
                };
                let name = ServicePortName {
                    service: service.clone(),
                    port: port.name.clone().unwrap_or_default(),
                    protocol,
                };
                let endpoints = merged.entry(name).or_default();
                for endpoint in &slice.endpoints {
                    let conditions = endpoint.conditions.as_ref();
                    let ready = conditions.and_then(|c| c.ready).unwrap_or(true);
                    let serving = conditions.and_then(|c| c.serving).unwrap_or(ready);
                    let terminating = conditions.and_then(|c| c.terminating).unwrap_or(false);
                    let is_local = endpoint.node_name.as_deref() == Some(self.hostname.as_str());
                    // Upstream programs only the first address of an endpoint.
                    let Some(ip) = endpoint
                        .addresses
                        .first()
                        .and_then(|a| a.parse::<IpAddr>().ok())
                    else {
                        continue;
                    };
                    endpoints.entry((ip, number)).or_insert(Endpoint {
                        ip,
                        port: number,
                        is_local,
                        ready,
                        serving,
                        terminating,
                    });
                }
            }
        }
        merged
            .into_iter()
            .map(|(name, endpoints)| (name, endpoints.into_values().collect::<Vec<_>>()))
            .filter(|(_, endpoints)| !endpoints.is_empty())
            .collect()
    }
}

fn trigger_time(slice: &EndpointSlice) -> Option<SystemTime> {
    let value = slice
        .metadata
        .annotations
        .as_ref()?
        .get(LAST_CHANGE_TRIGGER_TIME_ANNOTATION)?;
    let timestamp: k8s_openapi::jiff::Timestamp = value.parse().ok()?;
    let seconds = u64::try_from(timestamp.as_second()).ok()?;
    let nanos = u32::try_from(timestamp.subsec_nanosecond()).ok()?;
    Some(SystemTime::UNIX_EPOCH + std::time::Duration::new(seconds, nanos))
}

fn detect_udp_changes(
    before: &EndpointsMap,
    after: &EndpointsMap,
    result: &mut EndpointsUpdateResult,
) {
    for (name, old) in before
        .iter()
        .filter(|(name, _)| name.protocol == Protocol::Udp)
    {
        let new = after.get(name);
        for endpoint in old.iter().filter(|e| e.ready) {
            let still_ready = new.is_some_and(|n| {
                n.iter()
                    .any(|e| e.ip == endpoint.ip && e.port == endpoint.port && e.ready)
            });
            if !still_ready {
                result
                    .deleted_udp_endpoints
                    .push((name.clone(), endpoint.clone()));
            }
        }
    }
    for (name, new) in after
        .iter()
        .filter(|(name, _)| name.protocol == Protocol::Udp)
    {
        let had_ready = before
            .get(name)
            .is_some_and(|old| old.iter().any(|e| e.ready));
        if !had_ready && new.iter().any(|e| e.ready) {
            result.new_udp_services_with_endpoints.insert(name.clone());
        }
    }
}

/// The endpoints one service port's traffic may use.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CategorizedEndpoints<'a> {
    /// Targets of traffic with a Cluster policy: ready endpoints, or serving terminating
    /// ones when none is ready.
    pub cluster: Vec<&'a Endpoint>,
    /// Targets of traffic with a Local policy: the same choice among local endpoints.
    pub local: Vec<&'a Endpoint>,
    /// Every endpoint that either policy may send to.
    pub all_reachable: Vec<&'a Endpoint>,
    /// Whether any endpoint at all is usable, whatever its locality.
    pub has_any_endpoints: bool,
}

/// Chooses the cluster and local endpoint sets of `service` from `endpoints`.
pub fn categorize_endpoints<'a>(
    endpoints: &'a [Endpoint],
    service: &ServicePortInfo,
) -> CategorizedEndpoints<'a> {
    let usable = |candidates: Vec<&'a Endpoint>| -> Vec<&'a Endpoint> {
        let ready: Vec<&Endpoint> = candidates.iter().copied().filter(|e| e.ready).collect();
        if !ready.is_empty() {
            return ready;
        }
        candidates
            .into_iter()
            .filter(|e| e.serving && e.terminating)
            .collect()
    };
    let cluster = usable(endpoints.iter().collect());
    let needs_local = service.internal_policy_local || service.external_policy_local;
    let local = if needs_local {
        usable(endpoints.iter().filter(|e| e.is_local).collect())
    } else {
        Vec::new()
    };
    let mut all_reachable: Vec<&Endpoint> = Vec::new();
    let uses_cluster = !service.internal_policy_local
        || (service.has_external_destinations() && !service.external_policy_local);
    if uses_cluster {
        all_reachable.extend(cluster.iter().copied());
    }
    if needs_local {
        for endpoint in &local {
            if !all_reachable.contains(endpoint) {
                all_reachable.push(endpoint);
            }
        }
    }
    all_reachable.sort();
    CategorizedEndpoints {
        has_any_endpoints: !cluster.is_empty(),
        cluster,
        local,
        all_reachable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(
        name: &str,
        service: &str,
        port: (&str, i32, &str),
        endpoints: &[(&str, bool, &str)],
    ) -> EndpointSlice {
        crate::testing::slice("ns1", name, service, port, endpoints)
    }

    #[test]
    fn slices_merge_per_service_port() {
        let mut tracker = EndpointsChangeTracker::new("node1", IpFamily::V4);
        let mut map = EndpointsMap::new();
        tracker.endpoint_slice_update(
            &slice(
                "a",
                "svc1",
                ("p80", 80, "TCP"),
                &[("10.1.0.2", true, "node1")],
            ),
            false,
        );
        tracker.endpoint_slice_update(
            &slice(
                "b",
                "svc1",
                ("p80", 80, "TCP"),
                &[("10.1.0.1", true, "node2")],
            ),
            false,
        );
        let result = tracker.apply(&mut map);
        assert_eq!(result.updated_services.len(), 1);
        let endpoints = &map[&ServicePortName::new("ns1", "svc1", "p80", Protocol::Tcp)];
        let addresses: Vec<String> = endpoints.iter().map(Endpoint::address).collect();
        assert_eq!(addresses, ["10.1.0.1:80", "10.1.0.2:80"]);
        assert!(!endpoints[0].is_local);
        assert!(endpoints[1].is_local);
    }

    #[test]
    fn unchanged_slice_update_reports_nothing() {
        let mut tracker = EndpointsChangeTracker::new("node1", IpFamily::V4);
        let mut map = EndpointsMap::new();
        let first = slice(
            "a",
            "svc1",
            ("p80", 80, "TCP"),
            &[("10.1.0.1", true, "node1")],
        );
        tracker.endpoint_slice_update(&first, false);
        tracker.apply(&mut map);
        tracker.endpoint_slice_update(&first, false);
        assert!(tracker.apply(&mut map).updated_services.is_empty());
    }

    #[test]
    fn udp_endpoint_removal_is_reported() {
        let mut tracker = EndpointsChangeTracker::new("node1", IpFamily::V4);
        let mut map = EndpointsMap::new();
        let two = slice(
            "a",
            "dns",
            ("dns", 53, "UDP"),
            &[("10.1.0.1", true, "n"), ("10.1.0.2", true, "n")],
        );
        tracker.endpoint_slice_update(&two, false);
        let result = tracker.apply(&mut map);
        assert_eq!(result.new_udp_services_with_endpoints.len(), 1);

        let one = slice(
            "a",
            "dns",
            ("dns", 53, "UDP"),
            &[("10.1.0.1", true, "n"), ("10.1.0.2", false, "n")],
        );
        tracker.endpoint_slice_update(&one, false);
        let result = tracker.apply(&mut map);
        assert_eq!(result.deleted_udp_endpoints.len(), 1);
        assert_eq!(result.deleted_udp_endpoints[0].1.address(), "10.1.0.2:53");
        assert!(result.new_udp_services_with_endpoints.is_empty());

        tracker.endpoint_slice_update(&one, true);
        tracker.apply(&mut map);
        assert!(map.is_empty());
    }

    #[test]
    fn categorize_falls_back_to_serving_terminating() {
        let service = ServicePortInfo {
            cluster_ip: "10.0.0.1".parse().unwrap(),
            port: 80,
            protocol: Protocol::Tcp,
            node_port: 0,
            external_ips: vec![],
            load_balancer_ips: vec![],
            load_balancer_source_ranges: vec![],
            session_affinity_seconds: None,
            external_policy_local: false,
            internal_policy_local: false,
            health_check_node_port: 0,
        };
        let endpoint = |ip: &str, ready: bool, serving: bool, terminating: bool| Endpoint {
            ip: ip.parse().unwrap(),
            port: 80,
            is_local: false,
            ready,
            serving,
            terminating,
        };
        let endpoints = vec![
            endpoint("10.1.0.1", false, true, true),
            endpoint("10.1.0.2", false, false, true),
        ];
        let categorized = categorize_endpoints(&endpoints, &service);
        assert_eq!(categorized.cluster.len(), 1);
        assert_eq!(categorized.cluster[0].address(), "10.1.0.1:80");

        let endpoints = vec![
            endpoint("10.1.0.1", false, true, true),
            endpoint("10.1.0.2", true, true, false),
        ];
        let categorized = categorize_endpoints(&endpoints, &service);
        assert_eq!(categorized.cluster.len(), 1);
        assert_eq!(categorized.cluster[0].address(), "10.1.0.2:80");
    }
}
