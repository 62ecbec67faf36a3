//! TaintToleration: Filter rejects nodes with a `NoSchedule` or `NoExecute` taint the pod
//! does not tolerate; Score prefers nodes with fewer untolerated `PreferNoSchedule`
//! taints.

use k8s_openapi::api::core::v1::{Pod, Toleration};

use super::helper::{default_normalize_score, node_taints, pod_tolerations, tolerations_tolerate};
use crate::framework::interface::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, NodeScore, Plugin, PreScorePlugin, ScorePlugin,
    Status,
};
use crate::framework::types::NodeInfo;

/// The plugin name.
pub const NAME: &str = "TaintToleration";
/// The filter failure reason.
pub const ERR_REASON: &str = "node(s) had taints that the pod didn't tolerate";
const PRE_SCORE_KEY: &str = "PreScoreTaintToleration";

#[derive(Clone)]
struct PreScoreState {
    tolerations_prefer_no_schedule: Vec<Toleration>,
}

/// The TaintToleration plugin.
pub struct TaintToleration;

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        NAME
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }

    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }

    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl FilterPlugin for TaintToleration {
    fn filter(&self, _state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
        let Some(node) = node_info.node.as_ref() else {
            return Status::error("node not found");
        };
        let tolerations = pod_tolerations(pod);
        let untolerated = node_taints(node).iter().any(|taint| {
            (taint.effect == "NoSchedule" || taint.effect == "NoExecute")
                && !tolerations_tolerate(tolerations, taint)
        });
        if untolerated {
            return Status::unresolvable(ERR_REASON);
        }
        Status::success()
    }
}

impl PreScorePlugin for TaintToleration {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        _nodes: &[std::sync::Arc<NodeInfo>],
        _snapshot: &crate::cache::Snapshot,
    ) -> Status {
        let tolerations_prefer_no_schedule = pod_tolerations(pod)
            .iter()
            .filter(|toleration| {
                matches!(toleration.effect.as_deref(), None | Some("") | Some("PreferNoSchedule"))
            })
            .cloned()
            .collect();
        state.write(
            PRE_SCORE_KEY,
            PreScoreState {
                tolerations_prefer_no_schedule,
            },
        );
        Status::success()
    }
}

impl ScorePlugin for TaintToleration {
    fn score(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status> {
        let Some(node) = node_info.node.as_ref() else {
            return Err(Status::error("node not found"));
        };
        let computed;
        let tolerations = match state.read::<PreScoreState>(PRE_SCORE_KEY) {
            Some(pre) => &pre.tolerations_prefer_no_schedule,
            None => {
                computed = pod_tolerations(pod).to_vec();
                &computed
            }
        };
        let count = node_taints(node)
            .iter()
            .filter(|taint| taint.effect == "PreferNoSchedule" && !tolerations_tolerate(tolerations, taint))
            .count();
        Ok(count as i64)
    }

    fn normalize_score(&self, _state: &CycleState, _pod: &Pod, scores: &mut [NodeScore]) -> Status {
        default_normalize_score(MAX_NODE_SCORE, true, scores);
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Snapshot;
    use crate::plugins::testing::{node_info, pod};
    use serde_json::{Value, json};
    use std::sync::Arc;

    fn tainted(name: &str, taints: Value) -> NodeInfo {
        node_info(json!({"metadata": {"name": name}, "spec": {"taints": taints}}), &[])
    }

    #[test]
    fn filter_table() {
        let state = CycleState::new();
        let node = tainted("n", json!([{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]));
        let cases = [
            (json!({}), false),
            (json!({"tolerations": [{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]}), true),
            (json!({"tolerations": [{"key": "dedicated", "value": "user2", "effect": "NoSchedule"}]}), false),
            (json!({"tolerations": [{"key": "dedicated", "operator": "Exists"}]}), true),
        ];
        for (i, (spec, fits)) in cases.into_iter().enumerate() {
            let status = TaintToleration.filter(&state, &pod(spec), &node);
            assert_eq!(status.is_success(), fits, "case {i}: {status}");
        }
        let prefer = tainted("m", json!([{"key": "a", "value": "b", "effect": "PreferNoSchedule"}]));
        assert!(TaintToleration.filter(&state, &pod(json!({})), &prefer).is_success());
    }

    /// Upstream's case: the node with the fewest intolerable PreferNoSchedule taints
    /// scores 100, the others proportionally less.
    #[test]
    fn score_prefers_fewer_untolerated_taints() {
        let p = pod(json!({"tolerations": [
            {"key": "cpu-type", "operator": "Equal", "value": "arm64", "effect": "PreferNoSchedule"}
        ]}));
        let nodes = [
            tainted("n1", json!([])),
            tainted("n2", json!([{"key": "cpu-type", "value": "arm64", "effect": "PreferNoSchedule"}])),
            tainted("n3", json!([
                {"key": "cpu-type", "value": "arm64", "effect": "PreferNoSchedule"},
                {"key": "disk-type", "value": "ssd", "effect": "PreferNoSchedule"},
                {"key": "x", "value": "y", "effect": "PreferNoSchedule"},
            ])),
            tainted("n4", json!([{"key": "x", "value": "y", "effect": "PreferNoSchedule"}])),
        ];
        let mut state = CycleState::new();
        let infos: Vec<Arc<NodeInfo>> = nodes.iter().cloned().map(Arc::new).collect();
        TaintToleration.pre_score(&mut state, &p, &infos, &Snapshot::default());
        let mut scores: Vec<NodeScore> = nodes
            .iter()
            .map(|info| NodeScore {
                name: info.node_name().to_string(),
                score: TaintToleration.score(&state, &p, info).expect("score"),
            })
            .collect();
        TaintToleration.normalize_score(&state, &p, &mut scores);
        assert_eq!(scores.iter().map(|s| s.score).collect::<Vec<_>>(), [100, 100, 0, 50]);
    }
}
