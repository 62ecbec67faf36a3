//! The per-node aggregate the plugins read: [`NodeInfo`] with the node, its pods, their
//! summed requests, used host ports and image states, plus [`PodInfo`], a pod with its
//! affinity terms parsed once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use apimachinery::labels::{Selector, label_selector_as_selector};
use apimachinery::quantity::Quantity;
use k8s_openapi::api::core::v1::{Container, Node, Pod, PodAffinityTerm};

/// The CPU request, in millicores, counted for a container that requests none when
/// spreading load (upstream `DefaultMilliCPURequest`).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// The memory request, in bytes, counted for a container that requests none when
/// spreading load (upstream `DefaultMemoryRequest`, 200 MiB).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Returns `namespace/name` of a pod, the key of the queue, the cache and the nominator.
pub fn pod_key(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.name.as_deref().unwrap_or_default()
    )
}

/// Returns the current time as an API timestamp.
pub fn now() -> k8s_openapi::jiff::Timestamp {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    k8s_openapi::jiff::Timestamp::new(
        since_epoch.as_secs() as i64,
        since_epoch.subsec_nanos() as i32,
    )
    .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
}

/// Returns the pod's priority, zero when unset.
pub fn pod_priority(pod: &Pod) -> i32 {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.priority)
        .unwrap_or(0)
}

/// Returns the node's name, empty when unset.
pub fn node_name(node: &Node) -> &str {
    node.metadata.name.as_deref().unwrap_or_default()
}

/// Returns the name of the node the pod is bound or assumed to, if any.
pub fn pod_node_name(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.node_name.as_deref())
        .filter(|name| !name.is_empty())
}

/// Returns the pod's namespace, `default` when unset.
pub fn pod_namespace(pod: &Pod) -> &str {
    pod.metadata.namespace.as_deref().unwrap_or("default")
}

/// Returns the pod's labels, an empty map when unset.
pub fn pod_labels(pod: &Pod) -> BTreeMap<String, String> {
    pod.metadata.labels.clone().unwrap_or_default()
}

/// Returns whether the pod carries a deletion timestamp.
pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// Summed resource amounts: CPU in millicores, memory and ephemeral storage in bytes,
/// pod count, and every other (extended or hugepage) resource by name in its base unit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resource {
    /// CPU in millicores.
    pub milli_cpu: i64,
    /// Memory in bytes.
    pub memory: i64,
    /// Ephemeral storage in bytes.
    pub ephemeral_storage: i64,
    /// The number of pods allowed (allocatable) or counted (requested).
    pub allowed_pod_number: i64,
    /// Extended and hugepage resources, by resource name.
    pub scalar_resources: BTreeMap<String, i64>,
}

fn parse_quantity(quantity: &k8s_openapi::apimachinery::pkg::api::resource::Quantity) -> Quantity {
    Quantity::parse(&quantity.0).unwrap_or_default()
}

impl Resource {
    /// Builds a resource from a resource list such as `requests` or `allocatable`.
    /// Unparsable quantities count as zero; the apiserver validates them on write.
    pub fn from_list(
        list: &BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    ) -> Resource {
        let mut resource = Resource::default();
        resource.add_list(list);
        resource
    }

    /// Adds every amount of a resource list.
    pub fn add_list(
        &mut self,
        list: &BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    ) {
        for (name, quantity) in list {
            let quantity = parse_quantity(quantity);
            match name.as_str() {
                "cpu" => self.milli_cpu += quantity.milli_value(),
                "memory" => self.memory += quantity.value(),
                "ephemeral-storage" => self.ephemeral_storage += quantity.value(),
                "pods" => self.allowed_pod_number += quantity.value(),
                other if is_scalar_resource_name(other) => {
                    *self.scalar_resources.entry(other.to_string()).or_default() +=
                        quantity.value();
                }
                _ => {}
            }
        }
    }

    /// Adds another resource amount.
    pub fn add(&mut self, other: &Resource) {
        self.milli_cpu += other.milli_cpu;
        self.memory += other.memory;
        self.ephemeral_storage += other.ephemeral_storage;
        self.allowed_pod_number += other.allowed_pod_number;
        for (name, value) in &other.scalar_resources {
            *self.scalar_resources.entry(name.clone()).or_default() += value;
        }
    }

    /// Subtracts another resource amount.
    pub fn sub(&mut self, other: &Resource) {
        self.milli_cpu -= other.milli_cpu;
        self.memory -= other.memory;
        self.ephemeral_storage -= other.ephemeral_storage;
        self.allowed_pod_number -= other.allowed_pod_number;
        for (name, value) in &other.scalar_resources {
            *self.scalar_resources.entry(name.clone()).or_default() -= value;
        }
    }

    /// Raises each amount to at least the one in `other` (the init container rule).
    pub fn set_max(&mut self, other: &Resource) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        for (name, value) in &other.scalar_resources {
            let entry = self.scalar_resources.entry(name.clone()).or_default();
            *entry = (*entry).max(*value);
        }
    }

    /// Returns the amount of a resource by its API name.
    pub fn get(&self, name: &str) -> i64 {
        match name {
            "cpu" => self.milli_cpu,
            "memory" => self.memory,
            "ephemeral-storage" => self.ephemeral_storage,
            "pods" => self.allowed_pod_number,
            other => self.scalar_resources.get(other).copied().unwrap_or(0),
        }
    }
}

/// Returns whether a resource name is an extended, hugepage or attachable-volume
/// resource, which the scheduler tracks by name.
pub fn is_scalar_resource_name(name: &str) -> bool {
    name.starts_with("hugepages-")
        || name.starts_with("attachable-volumes-")
        || (name.contains('/') && !name.starts_with("kubernetes.io/"))
}

fn container_requests(container: &Container) -> Resource {
    container
        .resources
        .as_ref()
        .and_then(|resources| resources.requests.as_ref())
        .map(Resource::from_list)
        .unwrap_or_default()
}

/// Computes the effective request of a pod: the sum over its containers, raised to the
/// largest init container request, plus the pod overhead. `pods` is not counted.
pub fn compute_pod_resource_request(pod: &Pod) -> Resource {
    let mut result = Resource::default();
    let Some(spec) = pod.spec.as_ref() else {
        return result;
    };
    for container in &spec.containers {
        result.add(&container_requests(container));
    }
    for container in spec.init_containers.iter().flatten() {
        result.set_max(&container_requests(container));
    }
    if let Some(overhead) = spec.overhead.as_ref() {
        result.add_list(overhead);
    }
    result
}

/// Computes the CPU and memory requests used for spreading, where a container that
/// requests none counts as [`DEFAULT_MILLI_CPU_REQUEST`] and [`DEFAULT_MEMORY_REQUEST`].
pub fn compute_non_zero_request(pod: &Pod) -> (i64, i64) {
    let Some(spec) = pod.spec.as_ref() else {
        return (0, 0);
    };
    let non_zero = |container: &Container| {
        let requests = container_requests(container);
        let has = |name: &str| {
            container
                .resources
                .as_ref()
                .and_then(|resources| resources.requests.as_ref())
                .is_some_and(|requests| requests.contains_key(name))
        };
        let cpu = if has("cpu") {
            requests.milli_cpu
        } else {
            DEFAULT_MILLI_CPU_REQUEST
        };
        let memory = if has("memory") {
            requests.memory
        } else {
            DEFAULT_MEMORY_REQUEST
        };
        (cpu, memory)
    };
    let (mut cpu, mut memory) = (0, 0);
    for container in &spec.containers {
        let (c, m) = non_zero(container);
        cpu += c;
        memory += m;
    }
    for container in spec.init_containers.iter().flatten() {
        let (c, m) = non_zero(container);
        cpu = cpu.max(c);
        memory = memory.max(m);
    }
    if let Some(overhead) = spec.overhead.as_ref() {
        let overhead = Resource::from_list(overhead);
        cpu += overhead.milli_cpu;
        memory += overhead.memory;
    }
    (cpu, memory)
}

/// The labels of every namespace by name, which `namespaceSelector` terms match.
pub type NamespaceLabels = HashMap<String, BTreeMap<String, String>>;

/// A pod affinity term with its label selector parsed and its namespaces resolved.
#[derive(Clone, Debug)]
pub struct AffinityTerm {
    /// The namespaces listed by the term, or the owner's namespace when the term lists
    /// none and has no `namespaceSelector`.
    pub namespaces: HashSet<String>,
    /// The parsed `namespaceSelector`; an empty one selects every namespace.
    pub namespace_selector: Option<Selector>,
    /// The parsed `labelSelector`.
    pub selector: Selector,
    /// The node label whose values form the topology domains.
    pub topology_key: String,
}

impl AffinityTerm {
    /// Parses a term of a pod in namespace `namespace`.
    ///
    /// # Errors
    ///
    /// Returns the selector parse error as text.
    pub fn new(namespace: &str, term: &PodAffinityTerm) -> Result<AffinityTerm, String> {
        let selector = label_selector_as_selector(term.label_selector.as_ref())
            .map_err(|error| error.to_string())?;
        let namespace_selector = match term.namespace_selector.as_ref() {
            Some(selector) => Some(
                label_selector_as_selector(Some(selector))
                    .map_err(|error| format!("namespaceSelector: {error}"))?,
            ),
            None => None,
        };
        let mut namespaces: HashSet<String> = term.namespaces.iter().flatten().cloned().collect();
        if namespaces.is_empty() && namespace_selector.is_none() {
            namespaces.insert(namespace.to_string());
        }
        Ok(AffinityTerm {
            namespaces,
            namespace_selector,
            selector,
            topology_key: term.topology_key.clone(),
        })
    }

    /// Returns whether the term selects `pod`: its namespace is listed or its labels
    /// (looked up in `namespace_labels`) match the `namespaceSelector`, and the pod's
    /// labels match the `labelSelector`.
    pub fn matches(&self, pod: &Pod, namespace_labels: &NamespaceLabels) -> bool {
        let namespace = pod_namespace(pod);
        let namespace_matches = self.namespaces.contains(namespace)
            || self.namespace_selector.as_ref().is_some_and(|selector| {
                match namespace_labels.get(namespace) {
                    _ if selector.is_empty() => true,
                    Some(labels) => selector.matches(labels),
                    None => selector.matches(&BTreeMap::new()),
                }
            });
        namespace_matches && self.selector.matches(&pod.metadata.labels)
    }
}

/// An affinity term with the weight of its `preferredDuringScheduling` entry.
#[derive(Clone, Debug)]
pub struct WeightedAffinityTerm {
    /// The parsed term.
    pub term: AffinityTerm,
    /// The preference weight, 1 to 100.
    pub weight: i32,
}

/// A pod with its inter-pod affinity terms parsed once.
#[derive(Clone, Debug)]
pub struct PodInfo {
    /// The pod.
    pub pod: Arc<Pod>,
    /// Required affinity terms.
    pub required_affinity_terms: Vec<AffinityTerm>,
    /// Required anti-affinity terms.
    pub required_anti_affinity_terms: Vec<AffinityTerm>,
    /// Preferred affinity terms.
    pub preferred_affinity_terms: Vec<WeightedAffinityTerm>,
    /// Preferred anti-affinity terms.
    pub preferred_anti_affinity_terms: Vec<WeightedAffinityTerm>,
    /// The first term that failed to parse, if any.
    pub parse_error: Option<String>,
    /// The pod's effective request, computed once: caches and preemption's dry runs
    /// add and remove pods far more often than pods change.
    pub requests: Resource,
    /// The CPU and memory requests with the non-zero defaults, for scoring.
    pub non_zero_requests: (i64, i64),
    /// The host ports the pod's containers use.
    pub host_ports: Vec<HostPort>,
}

impl PodInfo {
    /// Wraps a pod and parses its affinity terms. A term that fails to parse is left
    /// out and recorded in `parse_error`.
    pub fn new(pod: Arc<Pod>) -> PodInfo {
        let namespace = pod_namespace(&pod).to_string();
        let mut parse_error = None;
        let mut parse = |terms: Option<&Vec<PodAffinityTerm>>| -> Vec<AffinityTerm> {
            terms
                .into_iter()
                .flatten()
                .filter_map(|term| match AffinityTerm::new(&namespace, term) {
                    Ok(term) => Some(term),
                    Err(error) => {
                        parse_error.get_or_insert(error);
                        None
                    }
                })
                .collect()
        };
        let affinity = pod.spec.as_ref().and_then(|spec| spec.affinity.as_ref());
        let pod_affinity = affinity.and_then(|affinity| affinity.pod_affinity.as_ref());
        let pod_anti_affinity = affinity.and_then(|affinity| affinity.pod_anti_affinity.as_ref());
        let required_affinity_terms = parse(pod_affinity.and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        }));
        let required_anti_affinity_terms = parse(pod_anti_affinity.and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        }));
        let mut parse_weighted =
            |terms: Option<&Vec<k8s_openapi::api::core::v1::WeightedPodAffinityTerm>>| {
                terms
                    .into_iter()
                    .flatten()
                    .filter_map(|weighted| {
                        match AffinityTerm::new(&namespace, &weighted.pod_affinity_term) {
                            Ok(term) => Some(WeightedAffinityTerm {
                                term,
                                weight: weighted.weight,
                            }),
                            Err(error) => {
                                parse_error.get_or_insert(error);
                                None
                            }
                        }
                    })
                    .collect::<Vec<_>>()
            };
        let preferred_affinity_terms = parse_weighted(pod_affinity.and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        }));
        let preferred_anti_affinity_terms = parse_weighted(pod_anti_affinity.and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        }));
        PodInfo {
            requests: compute_pod_resource_request(&pod),
            non_zero_requests: compute_non_zero_request(&pod),
            host_ports: pod_host_ports(&pod),
            pod,
            required_affinity_terms,
            required_anti_affinity_terms,
            preferred_affinity_terms,
            preferred_anti_affinity_terms,
            parse_error,
        }
    }

    /// Returns whether the pod has any affinity or anti-affinity term.
    pub fn has_affinity(&self) -> bool {
        !self.required_affinity_terms.is_empty()
            || !self.required_anti_affinity_terms.is_empty()
            || !self.preferred_affinity_terms.is_empty()
            || !self.preferred_anti_affinity_terms.is_empty()
    }
}

/// The size of an image and the number of nodes holding it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImageStateSummary {
    /// The image size in bytes.
    pub size: i64,
    /// The number of nodes that report the image.
    pub num_nodes: usize,
}

/// A host port in use: IP (`0.0.0.0` for all), protocol and port.
pub type HostPort = (String, String, i32);

/// Returns the host ports a pod's containers request, with defaults filled in.
pub fn pod_host_ports(pod: &Pod) -> Vec<HostPort> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    let mut ports = Vec::new();
    for container in &spec.containers {
        for port in container.ports.iter().flatten() {
            let Some(host_port) = port.host_port.filter(|port| *port > 0) else {
                continue;
            };
            let ip = port
                .host_ip
                .clone()
                .filter(|ip| !ip.is_empty())
                .unwrap_or_else(|| "0.0.0.0".to_string());
            let protocol = port.protocol.clone().unwrap_or_else(|| "TCP".to_string());
            ports.push((ip, protocol, host_port));
        }
    }
    ports
}

/// Returns whether two host ports conflict: same protocol and port, and the same IP
/// or either binding all addresses.
pub fn host_ports_conflict(a: &HostPort, b: &HostPort) -> bool {
    a.1 == b.1 && a.2 == b.2 && (a.0 == b.0 || a.0 == "0.0.0.0" || b.0 == "0.0.0.0")
}

/// A node with everything scheduled on it, the unit the Filter and Score plugins read.
#[derive(Clone, Debug, Default)]
pub struct NodeInfo {
    /// The node; `None` while only pods naming it are known.
    pub node: Option<Arc<Node>>,
    /// Pods bound or assumed to the node.
    pub pods: Vec<PodInfo>,
    /// The subset of `pods` with any affinity term.
    pub pods_with_affinity: Vec<PodInfo>,
    /// The subset of `pods` with a required anti-affinity term.
    pub pods_with_required_anti_affinity: Vec<PodInfo>,
    /// Host ports in use.
    pub used_ports: Vec<HostPort>,
    /// The summed requests of `pods`; `allowed_pod_number` is unused.
    pub requested: Resource,
    /// The summed CPU and memory requests with the non-zero defaults, for scoring.
    pub non_zero_requested: Resource,
    /// The node's allocatable resources.
    pub allocatable: Resource,
    /// Images on the node by normalized name.
    pub image_states: HashMap<String, ImageStateSummary>,
    /// A cache-wide counter value of the last change, used for incremental snapshots.
    pub generation: i64,
}

impl NodeInfo {
    /// Creates a node info for a node with no pods.
    pub fn new(node: Arc<Node>) -> NodeInfo {
        let mut info = NodeInfo::default();
        info.set_node(node);
        info
    }

    /// Replaces the node object and its allocatable resources.
    pub fn set_node(&mut self, node: Arc<Node>) {
        self.allocatable = node
            .status
            .as_ref()
            .and_then(|status| status.allocatable.as_ref())
            .map(Resource::from_list)
            .unwrap_or_default();
        self.node = Some(node);
    }

    /// Returns the node's name, empty when the node is unknown.
    pub fn node_name(&self) -> &str {
        self.node.as_deref().map(node_name).unwrap_or_default()
    }

    /// Returns the node's labels.
    pub fn node_labels(&self) -> Option<&BTreeMap<String, String>> {
        self.node
            .as_ref()
            .and_then(|node| node.metadata.labels.as_ref())
    }

    /// Adds a pod and its requests, ports and affinity.
    pub fn add_pod(&mut self, pod: Arc<Pod>) {
        self.add_pod_info(PodInfo::new(pod));
    }

    /// Adds an already parsed pod.
    pub fn add_pod_info(&mut self, info: PodInfo) {
        let (cpu, memory) = info.non_zero_requests;
        self.requested.add(&info.requests);
        self.non_zero_requested.milli_cpu += cpu;
        self.non_zero_requested.memory += memory;
        self.used_ports.extend(info.host_ports.iter().cloned());
        if info.has_affinity() {
            self.pods_with_affinity.push(info.clone());
        }
        if !info.required_anti_affinity_terms.is_empty() {
            self.pods_with_required_anti_affinity.push(info.clone());
        }
        self.pods.push(info);
    }

    /// Removes a pod by namespace and name and subtracts what it added. Returns whether
    /// it was present.
    pub fn remove_pod(&mut self, pod: &Pod) -> bool {
        let same = |info: &PodInfo| {
            info.pod.metadata.name == pod.metadata.name
                && pod_namespace(&info.pod) == pod_namespace(pod)
        };
        let Some(index) = self.pods.iter().position(same) else {
            return false;
        };
        let removed = self.pods.swap_remove(index);
        self.pods_with_affinity.retain(|info| !same(info));
        self.pods_with_required_anti_affinity
            .retain(|info| !same(info));
        let (cpu, memory) = removed.non_zero_requests;
        self.requested.sub(&removed.requests);
        self.non_zero_requested.milli_cpu -= cpu;
        self.non_zero_requested.memory -= memory;
        for port in removed.host_ports {
            if let Some(position) = self.used_ports.iter().position(|used| *used == port) {
                self.used_ports.swap_remove(position);
            }
        }
        true
    }
}

/// Returns the name an image is indexed by: with `:latest` added when it has neither
/// tag nor digest.
pub fn normalized_image_name(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || last.contains('@') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).expect("valid pod")
    }

    #[test]
    fn pod_request_takes_init_container_max_and_overhead() {
        let pod = pod(json!({
            "metadata": {"name": "p"},
            "spec": {
                "containers": [
                    {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "1Gi"}}},
                    {"name": "b", "resources": {"requests": {"cpu": "200m", "example.com/gpu": "1"}}},
                ],
                "initContainers": [
                    {"name": "i", "resources": {"requests": {"cpu": "500m", "memory": "100Mi"}}},
                ],
                "overhead": {"cpu": "10m"},
            }
        }));
        let request = compute_pod_resource_request(&pod);
        assert_eq!(request.milli_cpu, 510);
        assert_eq!(request.memory, 1 << 30);
        assert_eq!(request.scalar_resources.get("example.com/gpu"), Some(&1));
    }

    #[test]
    fn non_zero_request_defaults_missing_values() {
        let pod = pod(json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}, {"name": "b", "resources": {"requests": {"cpu": "1"}}}]}
        }));
        assert_eq!(
            compute_non_zero_request(&pod),
            (1100, 2 * DEFAULT_MEMORY_REQUEST)
        );
    }

    #[test]
    fn node_info_remove_pod_restores_totals() {
        let mut info = NodeInfo::default();
        let p = Arc::new(pod(json!({
            "metadata": {"name": "p", "namespace": "ns"},
            "spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80, "hostPort": 8080}],
                "resources": {"requests": {"cpu": "1"}}}]}
        })));
        info.add_pod(p.clone());
        assert_eq!(info.requested.milli_cpu, 1000);
        assert_eq!(info.used_ports.len(), 1);
        assert!(info.remove_pod(&p));
        assert_eq!(info.requested, Resource::default());
        assert!(info.used_ports.is_empty());
        assert!(info.pods.is_empty());
    }

    #[test]
    fn image_names_get_latest_tag() {
        assert_eq!(normalized_image_name("nginx"), "nginx:latest");
        assert_eq!(normalized_image_name("nginx:1.25"), "nginx:1.25");
        assert_eq!(
            normalized_image_name("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert_eq!(normalized_image_name("a@sha256:00"), "a@sha256:00");
    }
}
