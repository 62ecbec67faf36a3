//! Pod admission on the node (upstream's `lifecycle` admit handlers): before a pod
//! runs, the kubelet checks it against the Node and the pods already admitted.
//!
//! [`admit`] runs the predicate handler: OS, resource fit against allocatable
//! (`pods`, `cpu`, `memory`, `ephemeral-storage`, extended resources), node
//! selector and required node affinity, `spec.nodeName`, host ports, and
//! `NoExecute` taints. The eviction manager's handler is
//! [`crate::eviction::admit`], AppArmor's is [`crate::apparmor::Validator::admit`]. A
//! rejected pod gets phase Failed with the returned reason and the message
//! "Pod was rejected: <message>".

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration,
};

use crate::resource::{ResourceList, pod_requests};

/// The reason and message of a rejected admission, in upstream's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// A CamelCase reason such as `OutOfcpu` or `NodeAffinity`.
    pub reason: String,
    pub message: String,
}

impl Rejection {
    fn predicate(name: &str, description: &str) -> Self {
        Rejection {
            reason: name.to_string(),
            message: format!("Predicate {name} failed: {description}"),
        }
    }

    fn insufficient(resource: &str, requested: i64, used: i64, capacity: i64) -> Self {
        Rejection {
            reason: format!("OutOf{resource}"),
            message: format!(
                "Node didn't have enough resource: {resource}, requested: {requested}, used: {used}, capacity: {capacity}"
            ),
        }
    }
}

/// The node label that carries its OS.
const OS_LABEL: &str = "kubernetes.io/os";

/// Checks `pod` against `node` and the `admitted` pods (active pods already
/// admitted on this node, without `pod`). Returns the first failure, in upstream's
/// order: OS, resources, node affinity, node name, host ports, taints.
pub fn admit(pod: &Pod, node: &Node, admitted: &[&Pod]) -> Result<(), Rejection> {
    let pod_os = pod.metadata.labels.as_ref().and_then(|l| l.get(OS_LABEL));
    if pod_os.is_some_and(|os| os != "linux") {
        return Err(Rejection {
            reason: "PodOSSelectorNodeLabelDoesNotMatch".to_string(),
            message: "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label"
                .to_string(),
        });
    }
    let spec_os = pod.spec.as_ref().and_then(|s| s.os.as_ref());
    if spec_os.is_some_and(|os| os.name != "linux") {
        return Err(Rejection {
            reason: "PodOSNotSupported".to_string(),
            message: "Failed to admit pod as the OS field doesn't match node OS".to_string(),
        });
    }

    fit_resources(pod, node, admitted)?;

    if !matches_node_selector_and_affinity(pod, node) {
        return Err(Rejection::predicate(
            "NodeAffinity",
            "node(s) didn't match Pod's node affinity/selector",
        ));
    }

    let node_name = node.metadata.name.as_deref().unwrap_or_default();
    let requested_node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
    if requested_node.is_some_and(|name| !name.is_empty() && name != node_name) {
        return Err(Rejection::predicate(
            "NodeName",
            "node(s) didn't match the requested node name",
        ));
    }

    if host_ports_conflict(pod, admitted) {
        return Err(Rejection::predicate(
            "NodePorts",
            "node(s) didn't have free ports for the requested pod ports",
        ));
    }

    // Static pods are exempt, as upstream: they are the node's own.
    let taints = node.spec.as_ref().and_then(|s| s.taints.as_deref());
    let tolerations = pod.spec.as_ref().and_then(|s| s.tolerations.as_deref());
    let untolerated = taints.unwrap_or_default().iter().any(|t| {
        t.effect == "NoExecute"
            && !tolerations
                .unwrap_or_default()
                .iter()
                .any(|x| tolerates(x, t))
    });
    if untolerated && !crate::sources::is_static(pod) {
        return Err(Rejection::predicate(
            "TaintToleration",
            "node(s) had taints that the pod didn't tolerate",
        ));
    }
    Ok(())
}

/// Returns the node's allocatable resources in integer units.
fn allocatable(node: &Node) -> ResourceList {
    node.status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|(name, q)| crate::resource::to_units(name, q).map(|v| (name.clone(), v)))
        .collect()
}

/// Returns true for an extended resource: a name with a domain outside
/// `kubernetes.io/`. Hugepages and the native resources are not extended.
fn is_extended(resource: &str) -> bool {
    resource.contains('/') && !resource.contains("kubernetes.io/")
}

fn fit_resources(pod: &Pod, node: &Node, admitted: &[&Pod]) -> Result<(), Rejection> {
    let allocatable = allocatable(node);
    let allowed_pods = allocatable.get("pods").copied().unwrap_or(0);
    let used_pods = admitted.len() as i64;
    if used_pods + 1 > allowed_pods {
        return Err(Rejection::insufficient("pods", 1, used_pods, allowed_pods));
    }

    let mut requested = pod_requests(pod);
    // Extended resources the node does not know are cluster-level ones, left to
    // their own controllers.
    requested.retain(|name, _| !is_extended(name) || allocatable.contains_key(name));
    let mut used = ResourceList::new();
    for other in admitted {
        for (name, value) in pod_requests(other) {
            *used.entry(name).or_default() += value;
        }
    }

    for resource in ["cpu", "memory", "ephemeral-storage"] {
        let request = requested.get(resource).copied().unwrap_or(0);
        let capacity = allocatable.get(resource).copied().unwrap_or(0);
        let in_use = used.get(resource).copied().unwrap_or(0);
        if request > 0 && request > capacity - in_use {
            return Err(Rejection::insufficient(resource, request, in_use, capacity));
        }
    }
    let scalar = requested.iter().filter(|(name, _)| {
        !matches!(
            name.as_str(),
            "cpu" | "memory" | "ephemeral-storage" | "pods"
        )
    });
    for (resource, request) in scalar {
        let capacity = allocatable.get(resource).copied().unwrap_or(0);
        let in_use = used.get(resource).copied().unwrap_or(0);
        if *request > capacity - in_use {
            return Err(Rejection::insufficient(
                resource, *request, in_use, capacity,
            ));
        }
    }
    Ok(())
}

fn matches_node_selector_and_affinity(pod: &Pod, node: &Node) -> bool {
    let empty = BTreeMap::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    let Some(spec) = &pod.spec else { return true };
    let selector_matches = spec
        .node_selector
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    if !selector_matches {
        return false;
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    match required {
        // A node must match one of the terms. A term without requirements
        // matches no node.
        Some(selector) => selector
            .node_selector_terms
            .iter()
            .any(|term| term_matches(term, node, labels)),
        None => true,
    }
}

fn term_matches(term: &NodeSelectorTerm, node: &Node, labels: &BTreeMap<String, String>) -> bool {
    let expressions = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if expressions.is_empty() && fields.is_empty() {
        return false;
    }
    let name = node.metadata.name.clone().unwrap_or_default();
    expressions
        .iter()
        .all(|r| requirement_matches(r, labels.get(&r.key)))
        && fields
            .iter()
            .all(|r| r.key == "metadata.name" && requirement_matches(r, Some(&name)))
}

fn requirement_matches(requirement: &NodeSelectorRequirement, value: Option<&String>) -> bool {
    let values = requirement.values.as_deref().unwrap_or_default();
    let as_int = |s: &str| s.parse::<i64>().ok();
    match requirement.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(actual), Some(bound)) = (
                value.and_then(|v| as_int(v)),
                values.first().and_then(|v| as_int(v)),
            ) else {
                return false;
            };
            if requirement.operator == "Gt" {
                actual > bound
            } else {
                actual < bound
            }
        }
        _ => false,
    }
}

/// Returns true when `toleration` tolerates `taint` (upstream's
/// `Toleration.ToleratesTaint`).
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or_default();
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or_default();
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" => {
            toleration.value.as_deref().unwrap_or_default()
                == taint.value.as_deref().unwrap_or_default()
        }
        _ => false,
    }
}

/// (protocol, host IP, host port) of each app container port with a host port.
fn host_ports(pod: &Pod) -> Vec<(String, String, i32)> {
    pod.spec
        .iter()
        .flat_map(|s| &s.containers)
        .flat_map(|c| c.ports.iter().flatten())
        .filter(|p| p.host_port.is_some_and(|port| port > 0))
        .map(|p| {
            (
                p.protocol.clone().unwrap_or_else(|| "TCP".to_string()),
                p.host_ip.clone().unwrap_or_default(),
                p.host_port.unwrap_or_default(),
            )
        })
        .collect()
}

fn host_ports_conflict(pod: &Pod, admitted: &[&Pod]) -> bool {
    let wildcard = |ip: &str| ip.is_empty() || ip == "0.0.0.0";
    let wanted = host_ports(pod);
    if wanted.is_empty() {
        return false;
    }
    admitted
        .iter()
        .flat_map(|p| host_ports(p))
        .any(|(protocol, ip, port)| {
            wanted.iter().any(|(w_protocol, w_ip, w_port)| {
                *w_port == port
                    && *w_protocol == protocol
                    && (wildcard(w_ip) || wildcard(&ip) || *w_ip == ip)
            })
        })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{
        Affinity, ContainerPort, NodeAffinity, NodeSelector, NodeSpec, NodeStatus, PodSpec,
    };
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;
    use crate::resource::tests::container;

    fn node(allocatable: &[(&str, &str)]) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some("n1".to_string()),
                labels: Some(BTreeMap::from([("zone".to_string(), "a".to_string())])),
                ..Default::default()
            },
            spec: Some(NodeSpec::default()),
            status: Some(NodeStatus {
                allocatable: Some(
                    allocatable
                        .iter()
                        .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                        .collect(),
                ),
                ..Default::default()
            }),
        }
    }

    fn pod(requests: &[(&str, &str)]) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("p".to_string()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![container("c", requests, &[])],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    const NODE: [(&str, &str); 4] = [
        ("cpu", "2"),
        ("memory", "1Gi"),
        ("pods", "3"),
        ("example.com/gpu", "1"),
    ];

    #[test]
    fn resource_fit_rejections() {
        let node = node(&NODE);
        let running = pod(&[("cpu", "1500m"), ("memory", "512Mi")]);
        let cases = [
            (pod(&[("cpu", "500m")]), None),
            (
                pod(&[("cpu", "600m")]),
                Some((
                    "OutOfcpu",
                    "Node didn't have enough resource: cpu, requested: 600, used: 1500, capacity: 2000",
                )),
            ),
            (
                pod(&[("memory", "600Mi")]),
                Some((
                    "OutOfmemory",
                    "Node didn't have enough resource: memory, requested: 629145600, used: 536870912, capacity: 1073741824",
                )),
            ),
            (
                pod(&[("example.com/gpu", "2")]),
                Some((
                    "OutOfexample.com/gpu",
                    "Node didn't have enough resource: example.com/gpu, requested: 2, used: 0, capacity: 1",
                )),
            ),
            // Unknown extended resources are cluster-level and ignored.
            (pod(&[("other.io/fpga", "4")]), None),
            (
                pod(&[("hugepages-2Mi", "2Mi")]),
                Some((
                    "OutOfhugepages-2Mi",
                    "Node didn't have enough resource: hugepages-2Mi, requested: 2097152, used: 0, capacity: 0",
                )),
            ),
        ];
        for (candidate, want) in cases {
            let got = admit(&candidate, &node, &[&running]);
            let want = want.map(|(reason, message)| Rejection {
                reason: reason.to_string(),
                message: message.to_string(),
            });
            assert_eq!(got.err(), want, "{:?}", candidate.spec);
        }
    }

    #[test]
    fn max_pods_rejection() {
        let node = node(&NODE);
        let other = pod(&[]);
        let got = admit(&pod(&[]), &node, &[&other, &other, &other]).unwrap_err();
        assert_eq!(got.reason, "OutOfpods");
        assert_eq!(
            got.message,
            "Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3"
        );
        assert!(admit(&pod(&[]), &node, &[&other, &other]).is_ok());
    }

    #[test]
    fn node_name_selector_and_affinity() {
        let node = node(&NODE);
        let mut wrong_name = pod(&[]);
        wrong_name.spec.as_mut().unwrap().node_name = Some("n2".to_string());
        assert_eq!(
            admit(&wrong_name, &node, &[]).unwrap_err().reason,
            "NodeName"
        );

        let mut selector = pod(&[]);
        selector.spec.as_mut().unwrap().node_selector =
            Some(BTreeMap::from([("zone".to_string(), "b".to_string())]));
        let rejection = admit(&selector, &node, &[]).unwrap_err();
        assert_eq!(rejection.reason, "NodeAffinity");
        assert_eq!(
            rejection.message,
            "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"
        );

        let affinity = |operator: &str, values: &[&str]| {
            let mut p = pod(&[]);
            p.spec.as_mut().unwrap().affinity = Some(Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                        node_selector_terms: vec![NodeSelectorTerm {
                            match_expressions: Some(vec![NodeSelectorRequirement {
                                key: "zone".to_string(),
                                operator: operator.to_string(),
                                values: Some(values.iter().map(|v| v.to_string()).collect()),
                            }]),
                            match_fields: None,
                        }],
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
            p
        };
        assert!(admit(&affinity("In", &["a", "c"]), &node, &[]).is_ok());
        assert!(admit(&affinity("NotIn", &["a"]), &node, &[]).is_err());
        assert!(admit(&affinity("Exists", &[]), &node, &[]).is_ok());
        assert!(admit(&affinity("DoesNotExist", &[]), &node, &[]).is_err());
    }

    #[test]
    fn host_port_conflicts() {
        let node = node(&NODE);
        let with_port = |ip: &str, protocol: &str| {
            let mut p = pod(&[]);
            p.spec.as_mut().unwrap().containers[0].ports = Some(vec![ContainerPort {
                container_port: 80,
                host_port: Some(8080),
                host_ip: Some(ip.to_string()),
                protocol: Some(protocol.to_string()),
                ..Default::default()
            }]);
            p
        };
        let running = with_port("", "TCP");
        let rejection = admit(&with_port("127.0.0.1", "TCP"), &node, &[&running]).unwrap_err();
        assert_eq!(rejection.reason, "NodePorts");
        assert!(admit(&with_port("", "UDP"), &node, &[&running]).is_ok());
        let specific = with_port("10.0.0.1", "TCP");
        assert!(admit(&with_port("10.0.0.2", "TCP"), &node, &[&specific]).is_ok());
    }

    #[test]
    fn no_execute_taints() {
        let mut node = node(&NODE);
        node.spec.as_mut().unwrap().taints = Some(vec![
            Taint {
                key: "dedicated".to_string(),
                value: Some("db".to_string()),
                effect: "NoExecute".to_string(),
                ..Default::default()
            },
            Taint {
                key: "other".to_string(),
                effect: "NoSchedule".to_string(),
                ..Default::default()
            },
        ]);
        let rejection = admit(&pod(&[]), &node, &[]).unwrap_err();
        assert_eq!(rejection.reason, "TaintToleration");
        assert_eq!(
            rejection.message,
            "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate"
        );

        let mut tolerating = pod(&[]);
        tolerating.spec.as_mut().unwrap().tolerations = Some(vec![Toleration {
            key: Some("dedicated".to_string()),
            operator: Some("Equal".to_string()),
            value: Some("db".to_string()),
            effect: Some("NoExecute".to_string()),
            ..Default::default()
        }]);
        assert!(admit(&tolerating, &node, &[]).is_ok());

        let mut static_pod = pod(&[]);
        static_pod.metadata.annotations = Some(BTreeMap::from([(
            crate::sources::CONFIG_SOURCE.to_string(),
            "file".to_string(),
        )]));
        assert!(admit(&static_pod, &node, &[]).is_ok());
    }
}
