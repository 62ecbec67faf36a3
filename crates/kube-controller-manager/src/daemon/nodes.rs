//! Node eligibility of DaemonSet pods: node selector, required node
//! affinity, and taints against the pod's tolerations (upstream
//! `NodeShouldRunDaemonPod`), plus the pod changes that pin a daemon pod to one node.

use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PodSpec,
    Taint, Toleration,
};

/// Tolerations every daemon pod gets, so that it runs on nodes that are not ready,
/// unreachable, under resource pressure or cordoned (upstream
/// `AddOrUpdateDaemonPodTolerations`).
pub fn default_tolerations(host_network: bool) -> Vec<Toleration> {
    let toleration = |key: &str, effect: &str| Toleration {
        key: Some(key.to_string()),
        operator: Some("Exists".to_string()),
        effect: Some(effect.to_string()),
        ..Toleration::default()
    };
    let mut tolerations = vec![
        toleration("node.kubernetes.io/not-ready", "NoExecute"),
        toleration("node.kubernetes.io/unreachable", "NoExecute"),
        toleration("node.kubernetes.io/disk-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/memory-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/pid-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if host_network {
        tolerations.push(toleration(
            "node.kubernetes.io/network-unavailable",
            "NoSchedule",
        ));
    }
    tolerations
}

fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = toleration.effect.as_deref()
        && !effect.is_empty()
        && effect != taint.effect
    {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or_default();
    match toleration.operator.as_deref().unwrap_or("Equal") {
        "Exists" => key.is_empty() || key == taint.key,
        _ => {
            key == taint.key
                && toleration.value.as_deref().unwrap_or_default()
                    == taint.value.as_deref().unwrap_or_default()
        }
    }
}

fn requirement_matches(requirement: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = requirement.values.as_deref().unwrap_or_default();
    match requirement.operator.as_str() {
        "In" => value.is_some_and(|value| values.iter().any(|wanted| wanted == value)),
        "NotIn" => value.is_none_or(|value| !values.iter().any(|wanted| wanted == value)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(value), Some(bound)) = (
                value.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|v| v.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if requirement.operator == "Gt" {
                value > bound
            } else {
                value < bound
            }
        }
        _ => false,
    }
}

fn term_matches(term: &NodeSelectorTerm, node: &Node) -> bool {
    let expressions = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if expressions.is_empty() && fields.is_empty() {
        return false;
    }
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let name = node.metadata.name.as_deref();
    expressions.iter().all(|requirement| {
        requirement_matches(
            requirement,
            labels.get(&requirement.key).map(String::as_str),
        )
    }) && fields.iter().all(|requirement| {
        requirement.key == "metadata.name" && requirement_matches(requirement, name)
    })
}

/// Returns whether `node` passes the pod's nodeSelector and required node affinity.
pub fn node_matches(spec: &PodSpec, node: &Node) -> bool {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let selector_ok = spec
        .node_selector
        .iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    let affinity_ok = spec
        .affinity
        .as_ref()
        .and_then(|affinity| affinity.node_affinity.as_ref())
        .and_then(|affinity| {
            affinity
                .required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .is_none_or(|selector| {
            selector
                .node_selector_terms
                .iter()
                .any(|term| term_matches(term, node))
        });
    selector_ok && affinity_ok
}

/// The fit of a daemon pod on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeFit {
    /// A new daemon pod should be created on the node.
    pub should_run: bool,
    /// An existing daemon pod may stay on the node.
    pub should_continue_running: bool,
}

/// Decides whether the pod described by `spec` (tolerations already including
/// [`default_tolerations`]) runs on `node`: untolerated NoSchedule taints keep new
/// pods off, untolerated NoExecute taints also evict running ones.
pub fn node_fit(spec: &PodSpec, node: &Node) -> NodeFit {
    if !node_matches(spec, node) {
        return NodeFit {
            should_run: false,
            should_continue_running: false,
        };
    }
    let tolerations = spec.tolerations.as_deref().unwrap_or_default();
    let untolerated = |effect: &str| {
        node.spec
            .as_ref()
            .and_then(|spec| spec.taints.as_deref())
            .unwrap_or_default()
            .iter()
            .filter(|taint| taint.effect == effect)
            .any(|taint| {
                !tolerations
                    .iter()
                    .any(|toleration| tolerates(toleration, taint))
            })
    };
    let evicted = untolerated("NoExecute");
    NodeFit {
        should_run: !evicted && !untolerated("NoSchedule"),
        should_continue_running: !evicted,
    }
}

/// Pins a daemon pod to `node_name`: the required node affinity gets a
/// `metadata.name In [node]` field term in place of its terms, as upstream's
/// `ReplaceDaemonSetPodNodeNameNodeAffinity` does, so the scheduler places it.
pub fn pin_to_node(spec: &mut PodSpec, node_name: &str) {
    let term = NodeSelectorTerm {
        match_expressions: None,
        match_fields: Some(vec![NodeSelectorRequirement {
            key: "metadata.name".to_string(),
            operator: "In".to_string(),
            values: Some(vec![node_name.to_string()]),
        }]),
    };
    let affinity = spec.affinity.get_or_insert_with(Affinity::default);
    let node_affinity = affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    node_affinity.required_during_scheduling_ignored_during_execution = Some(NodeSelector {
        node_selector_terms: vec![term],
    });
}

/// Returns the node a daemon pod is bound or pinned to.
pub fn pod_node_name(spec: Option<&PodSpec>) -> Option<String> {
    let spec = spec?;
    if let Some(node) = spec.node_name.as_deref().filter(|node| !node.is_empty()) {
        return Some(node.to_string());
    }
    spec.affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms
        .iter()
        .flat_map(|term| term.match_fields.iter().flatten())
        .find(|field| field.key == "metadata.name" && field.operator == "In")
        .and_then(|field| field.values.as_ref()?.first().cloned())
}

/// Adds the default tolerations the template lacks.
pub fn add_default_tolerations(spec: &mut PodSpec) {
    let host_network = spec.host_network.unwrap_or(false);
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for toleration in default_tolerations(host_network) {
        if !tolerations
            .iter()
            .any(|existing| existing.key == toleration.key && existing.effect == toleration.effect)
        {
            tolerations.push(toleration);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use k8s_openapi::api::core::v1::NodeSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    fn node(name: &str, node_labels: &[(&str, &str)], taints: Vec<Taint>) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                labels: Some(labels(node_labels)),
                ..ObjectMeta::default()
            },
            spec: Some(NodeSpec {
                taints: Some(taints),
                ..NodeSpec::default()
            }),
            status: None,
        }
    }

    fn taint(key: &str, effect: &str) -> Taint {
        Taint {
            key: key.to_string(),
            effect: effect.to_string(),
            ..Taint::default()
        }
    }

    #[test]
    fn selector_and_taints_decide_fit() {
        let mut spec = PodSpec {
            node_selector: Some(labels(&[("disk", "ssd")])),
            ..PodSpec::default()
        };
        add_default_tolerations(&mut spec);
        let fit = node_fit(&spec, &node("a", &[("disk", "ssd")], vec![]));
        assert!(fit.should_run);
        assert!(fit.should_continue_running);
        let fit = node_fit(&spec, &node("b", &[], vec![]));
        assert!(!fit.should_run);
        assert!(!fit.should_continue_running);
        let fit = node_fit(
            &spec,
            &node(
                "c",
                &[("disk", "ssd")],
                vec![taint("dedicated", "NoSchedule")],
            ),
        );
        assert!(!fit.should_run);
        assert!(fit.should_continue_running);
        let fit = node_fit(
            &spec,
            &node(
                "d",
                &[("disk", "ssd")],
                vec![taint("dedicated", "NoExecute")],
            ),
        );
        assert!(!fit.should_run);
        assert!(!fit.should_continue_running);
        let fit = node_fit(
            &spec,
            &node(
                "e",
                &[("disk", "ssd")],
                vec![taint("node.kubernetes.io/unschedulable", "NoSchedule")],
            ),
        );
        assert!(
            fit.should_run,
            "the default tolerations cover cordoned nodes"
        );
    }

    #[test]
    fn pinning_sets_a_name_field_term() {
        let mut spec = PodSpec::default();
        pin_to_node(&mut spec, "node-1");
        assert_eq!(pod_node_name(Some(&spec)), Some("node-1".to_string()));
        assert!(node_matches(&spec, &node("node-1", &[], vec![])));
        assert!(!node_matches(&spec, &node("node-2", &[], vec![])));
    }
}
