//! Matching rules shared by several plugins: tolerations against taints, node selector
//! terms against node labels, the selector of the Services and controllers that own a
//! pod, and the default score normalization.

use std::collections::BTreeMap;
use std::sync::Arc;

use apimachinery::labels::{Selector, label_selector_as_selector};
use k8s_openapi::api::core::v1::{
    Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Service, Taint, Toleration,
};

use crate::framework::handle::ClusterState;
use crate::framework::interface::NodeScore;
use crate::framework::types::{pod_labels, pod_namespace};

/// Returns whether `toleration` tolerates `taint`: the effect matches (or the
/// toleration names none), the key matches (or an `Exists` toleration names none), and
/// for `Equal` the values match.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = toleration.effect.as_deref()
        && !effect.is_empty()
        && effect != taint.effect
    {
        return false;
    }
    let operator = toleration.operator.as_deref().unwrap_or("Equal");
    let key = toleration.key.as_deref().unwrap_or_default();
    if key.is_empty() {
        return operator == "Exists";
    }
    if key != taint.key {
        return false;
    }
    match operator {
        "Exists" => true,
        "Equal" | "" => {
            toleration.value.as_deref().unwrap_or_default()
                == taint.value.as_deref().unwrap_or_default()
        }
        _ => false,
    }
}

/// Returns whether any toleration tolerates `taint`.
pub fn tolerations_tolerate(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations
        .iter()
        .any(|toleration| tolerates(toleration, taint))
}

/// Returns the pod's tolerations.
pub fn pod_tolerations(pod: &Pod) -> &[Toleration] {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.tolerations.as_deref())
        .unwrap_or_default()
}

/// Returns the node's taints.
pub fn node_taints(node: &Node) -> &[Taint] {
    node.spec
        .as_ref()
        .and_then(|spec| spec.taints.as_deref())
        .unwrap_or_default()
}

fn requirement_matches(requirement: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = requirement.values.as_deref().unwrap_or_default();
    match requirement.operator.as_str() {
        "In" => value.is_some_and(|value| values.iter().any(|v| v == value)),
        "NotIn" => value.is_none_or(|value| !values.iter().any(|v| v == value)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(value), [bound]) = (value, values) else {
                return false;
            };
            let (Ok(value), Ok(bound)) = (value.parse::<i64>(), bound.parse::<i64>()) else {
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

/// Returns whether one node selector term matches: every `matchExpressions` entry
/// against the labels and every `matchFields` entry against `metadata.name`. A term
/// with neither matches nothing.
pub fn node_selector_term_matches(term: &NodeSelectorTerm, node: &Node) -> bool {
    let expressions = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if expressions.is_empty() && fields.is_empty() {
        return false;
    }
    let labels = node.metadata.labels.as_ref();
    let label_value = |key: &str| {
        labels
            .and_then(|labels| labels.get(key))
            .map(String::as_str)
    };
    let expressions_match = expressions
        .iter()
        .all(|requirement| requirement_matches(requirement, label_value(&requirement.key)));
    let fields_match = fields.iter().all(|requirement| {
        requirement.key == "metadata.name"
            && requirement_matches(requirement, node.metadata.name.as_deref())
    });
    expressions_match && fields_match
}

/// Returns whether any of the terms matches (terms are ORed). An empty list matches
/// nothing.
pub fn node_selector_terms_match(terms: &[NodeSelectorTerm], node: &Node) -> bool {
    terms
        .iter()
        .any(|term| node_selector_term_matches(term, node))
}

/// Returns whether the node satisfies the pod's `nodeSelector` and required node
/// affinity.
pub fn pod_matches_node_selector_and_affinity(pod: &Pod, node: &Node) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return true;
    };
    let empty = BTreeMap::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    if let Some(selector) = spec.node_selector.as_ref()
        && !selector
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value))
    {
        return false;
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|affinity| affinity.node_affinity.as_ref())
        .and_then(|affinity| {
            affinity
                .required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    match required {
        Some(selector) => node_selector_terms_match(&selector.node_selector_terms, node),
        None => true,
    }
}

/// Builds the selector of the controllers and Services that select the pod: the
/// union of their label requirements. `None` when nothing selects the pod.
pub fn default_selector(cluster: &ClusterState, pod: &Pod) -> Option<Selector> {
    let namespace = pod_namespace(pod);
    let labels = pod_labels(pod);
    let mut set: BTreeMap<String, String> = BTreeMap::new();
    let mut requirements = Vec::new();
    let mut found = false;
    let mut take_map = |selector: &BTreeMap<String, String>, found: &mut bool| {
        if !selector.is_empty() && Selector::from_set(selector).matches(&labels) {
            set.extend(selector.clone());
            *found = true;
        }
    };
    if let Ok(services) = cluster.services.read() {
        for service in services.values() {
            if service.metadata.namespace.as_deref() != Some(namespace) {
                continue;
            }
            if let Some(selector) = service
                .spec
                .as_ref()
                .and_then(|spec| spec.selector.as_ref())
            {
                take_map(selector, &mut found);
            }
        }
    }
    if let Ok(controllers) = cluster.replication_controllers.read() {
        for controller in controllers.values() {
            if controller.metadata.namespace.as_deref() != Some(namespace) {
                continue;
            }
            if let Some(selector) = controller
                .spec
                .as_ref()
                .and_then(|spec| spec.selector.as_ref())
            {
                take_map(selector, &mut found);
            }
        }
    }
    let mut take_label_selector =
        |selector: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector| {
            if let Ok(parsed) = label_selector_as_selector(Some(selector))
                && !parsed.is_empty()
                && parsed.matches(&labels)
            {
                requirements.extend(parsed.requirements().unwrap_or_default().iter().cloned());
                found = true;
            }
        };
    if let Ok(sets) = cluster.replica_sets.read() {
        for set in sets.values() {
            if set.metadata.namespace.as_deref() == Some(namespace)
                && let Some(spec) = set.spec.as_ref()
            {
                take_label_selector(&spec.selector);
            }
        }
    }
    if let Ok(sets) = cluster.stateful_sets.read() {
        for set in sets.values() {
            if set.metadata.namespace.as_deref() == Some(namespace)
                && let Some(spec) = set.spec.as_ref()
            {
                take_label_selector(&spec.selector);
            }
        }
    }
    if !found {
        return None;
    }
    Some(Selector::from_set(&set).add_requirements(requirements))
}

/// Returns the Services in the pod's namespace whose non-empty selector selects the
/// pod, sorted by name (upstream `GetPodServices`, whose order a lister leaves open).
pub fn pod_services(cluster: &ClusterState, pod: &Pod) -> Vec<Arc<Service>> {
    let namespace = pod_namespace(pod);
    let labels = &pod.metadata.labels;
    let mut services: Vec<Arc<Service>> = crate::framework::handle::read_map(&cluster.services)
        .values()
        .filter(|service| service.metadata.namespace.as_deref() == Some(namespace))
        .filter(|service| {
            service
                .spec
                .as_ref()
                .and_then(|spec| spec.selector.as_ref())
                .is_some_and(|selector| {
                    !selector.is_empty() && Selector::from_set(selector).matches(labels)
                })
        })
        .cloned()
        .collect();
    services.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    services
}

/// Scales scores to `0..=max_priority` by the highest score. With `reverse` the scale
/// is flipped, so the lowest raw score gets `max_priority`. All zero scores stay zero,
/// or become `max_priority` when reversed.
pub fn default_normalize_score(max_priority: i64, reverse: bool, scores: &mut [NodeScore]) {
    let max = scores.iter().map(|score| score.score).max().unwrap_or(0);
    if max == 0 {
        if reverse {
            for score in scores.iter_mut() {
                score.score = max_priority;
            }
        }
        return;
    }
    for score in scores.iter_mut() {
        score.score = max_priority * score.score / max;
        if reverse {
            score.score = max_priority - score.score;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn toleration(value: serde_json::Value) -> Toleration {
        serde_json::from_value(value).expect("toleration")
    }

    fn taint(key: &str, value: &str, effect: &str) -> Taint {
        Taint {
            key: key.to_string(),
            value: Some(value.to_string()),
            effect: effect.to_string(),
            time_added: None,
        }
    }

    #[test]
    fn toleration_matching_table() {
        let cases = [
            (
                json!({"key": "a", "value": "b", "effect": "NoSchedule"}),
                taint("a", "b", "NoSchedule"),
                true,
            ),
            (
                json!({"key": "a", "value": "c", "effect": "NoSchedule"}),
                taint("a", "b", "NoSchedule"),
                false,
            ),
            (
                json!({"key": "a", "operator": "Exists"}),
                taint("a", "b", "NoExecute"),
                true,
            ),
            (
                json!({"operator": "Exists"}),
                taint("x", "y", "NoSchedule"),
                true,
            ),
            (
                json!({"key": "a", "value": "b", "effect": "NoExecute"}),
                taint("a", "b", "NoSchedule"),
                false,
            ),
            (
                json!({"key": "", "operator": "Equal"}),
                taint("a", "", "NoSchedule"),
                false,
            ),
        ];
        for (i, (tol, taint, expected)) in cases.into_iter().enumerate() {
            assert_eq!(tolerates(&toleration(tol), &taint), expected, "case {i}");
        }
    }

    #[test]
    fn normalize_scales_and_reverses() {
        let mut scores = vec![
            NodeScore {
                name: "a".into(),
                score: 2,
            },
            NodeScore {
                name: "b".into(),
                score: 4,
            },
            NodeScore {
                name: "c".into(),
                score: 0,
            },
        ];
        default_normalize_score(100, false, &mut scores);
        assert_eq!(
            scores.iter().map(|s| s.score).collect::<Vec<_>>(),
            [50, 100, 0]
        );
        default_normalize_score(100, true, &mut scores);
        assert_eq!(
            scores.iter().map(|s| s.score).collect::<Vec<_>>(),
            [50, 0, 100]
        );
    }
}
