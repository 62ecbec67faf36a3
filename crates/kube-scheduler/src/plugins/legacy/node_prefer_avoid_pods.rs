//! NodePreferAvoidPods (Kubernetes 1.18): a node's
//! `scheduler.alpha.kubernetes.io/preferAvoidPods` annotation lists controllers whose
//! pods it would rather not run. Such a pod scores 0 there, every other node 100. Only
//! pods owned by a ReplicationController or ReplicaSet are considered.

use k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;

use crate::framework::interface::{CycleState, MAX_NODE_SCORE, Plugin, ScorePlugin, Status};
use crate::framework::types::NodeInfo;

/// The plugin name.
pub const NAME: &str = "NodePreferAvoidPods";
/// The node annotation, a JSON `AvoidPods` object.
pub const ANN_PREFER_AVOID_PODS: &str = "scheduler.alpha.kubernetes.io/preferAvoidPods";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AvoidPods {
    #[serde(default)]
    prefer_avoid_pods: Vec<PreferAvoidPodsEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreferAvoidPodsEntry {
    pod_signature: PodSignature,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodSignature {
    #[serde(default)]
    pod_controller: Option<ControllerRef>,
}

#[derive(Deserialize)]
struct ControllerRef {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    uid: String,
}

/// The NodePreferAvoidPods plugin.
pub struct NodePreferAvoidPods;

impl Plugin for NodePreferAvoidPods {
    fn name(&self) -> &'static str {
        NAME
    }

    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl ScorePlugin for NodePreferAvoidPods {
    fn score(&self, _state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status> {
        let Some(node) = node_info.node.as_ref() else {
            return Err(Status::error("node not found"));
        };
        let controller = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|owner| owner.controller == Some(true))
            .filter(|owner| owner.kind == "ReplicationController" || owner.kind == "ReplicaSet");
        let Some(controller) = controller else {
            return Ok(MAX_NODE_SCORE);
        };
        let Some(annotation) = node
            .metadata
            .annotations
            .as_ref()
            .and_then(|annotations| annotations.get(ANN_PREFER_AVOID_PODS))
        else {
            return Ok(MAX_NODE_SCORE);
        };
        // An annotation that does not parse avoids nothing, as upstream treats it.
        let Ok(avoid) = serde_json::from_str::<AvoidPods>(annotation) else {
            return Ok(MAX_NODE_SCORE);
        };
        let avoided = avoid.prefer_avoid_pods.iter().any(|entry| {
            entry
                .pod_signature
                .pod_controller
                .as_ref()
                .is_some_and(|avoided| {
                    avoided.kind == controller.kind && avoided.uid == controller.uid
                })
        });
        Ok(if avoided { 0 } else { MAX_NODE_SCORE })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{named_pod, node_info};
    use serde_json::{Value, json};

    fn owned_by(kind: &str, uid: &str) -> Pod {
        named_pod(
            "p",
            json!({"ownerReferences": [{"apiVersion": "v1", "kind": kind, "name": "owner",
                "uid": uid, "controller": true}]}),
            json!({}),
        )
    }

    fn avoiding(kind: &str, uid: &str) -> Value {
        let annotation = json!({"preferAvoidPods": [{"podSignature": {"podController": {
            "apiVersion": "v1", "kind": kind, "name": "owner", "uid": uid, "controller": true}},
            "reason": "some reason", "message": "some message"}]});
        json!({"metadata": {"name": "n", "annotations": {ANN_PREFER_AVOID_PODS: annotation.to_string()}}})
    }

    /// Upstream's cases: a ReplicationController or ReplicaSet pod avoided by the node
    /// scores 0; other owners and other nodes score 100.
    #[test]
    fn score_table() {
        let cases = [
            (
                owned_by("ReplicationController", "abcdef"),
                avoiding("ReplicationController", "abcdef"),
                0,
            ),
            (
                owned_by("ReplicaSet", "qwert"),
                avoiding("ReplicaSet", "qwert"),
                0,
            ),
            (
                owned_by("ReplicationController", "abcdef"),
                avoiding("ReplicationController", "other"),
                100,
            ),
            (
                owned_by("StatefulSet", "abcdef"),
                avoiding("StatefulSet", "abcdef"),
                100,
            ),
            (
                owned_by("ReplicaSet", "qwert"),
                json!({"metadata": {"name": "n"}}),
                100,
            ),
            (
                named_pod("p", json!({}), json!({})),
                avoiding("ReplicaSet", "qwert"),
                100,
            ),
        ];
        for (i, (pod, node, expected)) in cases.into_iter().enumerate() {
            let info = node_info(node, &[]);
            let score = NodePreferAvoidPods
                .score(&CycleState::new(), &pod, &info)
                .expect("score");
            assert_eq!(score, expected, "case {i}");
        }
    }
}
