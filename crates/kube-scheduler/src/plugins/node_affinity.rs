//! NodeAffinity: Filter enforces `nodeSelector` and required node affinity; Score sums
//! the weights of the matching preferred terms, normalized to 0..=100.

use k8s_openapi::api::core::v1::Pod;

use super::helper::{default_normalize_score, node_selector_term_matches, pod_matches_node_selector_and_affinity};
use crate::framework::interface::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, NodeScore, Plugin, ScorePlugin, Status,
};
use crate::framework::types::NodeInfo;

/// The plugin name.
pub const NAME: &str = "NodeAffinity";
/// The filter failure reason.
pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";

/// The NodeAffinity plugin.
// NOTE: the `addedAffinity` argument is not supported.
pub struct NodeAffinity;

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        NAME
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }

    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeAffinity {
    fn filter(&self, _state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
        let Some(node) = node_info.node.as_ref() else {
            return Status::error("node not found");
        };
        if pod_matches_node_selector_and_affinity(pod, node) {
            Status::success()
        } else {
            Status::unresolvable(ERR_REASON_POD)
        }
    }
}

impl ScorePlugin for NodeAffinity {
    fn score(&self, _state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status> {
        let Some(node) = node_info.node.as_ref() else {
            return Err(Status::error("node not found"));
        };
        let preferred = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.affinity.as_ref())
            .and_then(|affinity| affinity.node_affinity.as_ref())
            .and_then(|affinity| affinity.preferred_during_scheduling_ignored_during_execution.as_ref());
        let score = preferred
            .into_iter()
            .flatten()
            .filter(|term| term.weight != 0 && node_selector_term_matches(&term.preference, node))
            .map(|term| i64::from(term.weight))
            .sum();
        Ok(score)
    }

    fn normalize_score(&self, _state: &CycleState, _pod: &Pod, scores: &mut [NodeScore]) -> Status {
        default_normalize_score(MAX_NODE_SCORE, false, scores);
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node_info, pod};
    use serde_json::json;

    #[test]
    fn filter_table() {
        let state = CycleState::new();
        let node = node_info(json!({"metadata": {"name": "n1", "labels": {"zone": "a", "gen": "5"}}}), &[]);
        let expr = |key: &str, op: &str, values: serde_json::Value| {
            json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": key, "operator": op, "values": values}]}]}}}})
        };
        let cases = [
            (json!({}), true),
            (json!({"nodeSelector": {"zone": "a"}}), true),
            (json!({"nodeSelector": {"zone": "b"}}), false),
            (expr("zone", "In", json!(["a", "b"])), true),
            (expr("zone", "NotIn", json!(["a"])), false),
            (expr("gpu", "DoesNotExist", json!([])), true),
            (expr("gen", "Gt", json!(["4"])), true),
            (expr("gen", "Lt", json!(["4"])), false),
            (json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}}), true),
            (json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": []}}}}), false),
        ];
        for (i, (spec, fits)) in cases.into_iter().enumerate() {
            let status = NodeAffinity.filter(&state, &pod(spec), &node);
            assert_eq!(status.is_success(), fits, "case {i}: {status}");
        }
    }

    /// Upstream's case: weights 2, 4 and 5 on labels that nodes match in part.
    #[test]
    fn score_sums_matching_weights() {
        let p = pod(json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 2, "preference": {"matchExpressions": [{"key": "foo", "operator": "In", "values": ["bar"]}]}},
            {"weight": 4, "preference": {"matchExpressions": [{"key": "key", "operator": "In", "values": ["value"]}]}},
            {"weight": 5, "preference": {"matchExpressions": [
                {"key": "foo", "operator": "In", "values": ["bar"]},
                {"key": "key", "operator": "In", "values": ["value"]},
                {"key": "az", "operator": "In", "values": ["az1"]}]}},
        ]}}}));
        let nodes = [
            node_info(json!({"metadata": {"name": "m1", "labels": {"foo": "bar"}}}), &[]),
            node_info(json!({"metadata": {"name": "m2", "labels": {"foo": "bar", "key": "value", "az": "az1"}}}), &[]),
            node_info(json!({"metadata": {"name": "m3", "labels": {"key": "value"}}}), &[]),
        ];
        let state = CycleState::new();
        let mut scores: Vec<NodeScore> = nodes
            .iter()
            .map(|info| NodeScore {
                name: info.node_name().to_string(),
                score: NodeAffinity.score(&state, &p, info).expect("score"),
            })
            .collect();
        NodeAffinity.normalize_score(&state, &p, &mut scores);
        assert_eq!(scores.iter().map(|s| s.score).collect::<Vec<_>>(), [18, 100, 36]);
    }
}
