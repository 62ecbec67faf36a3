//! DefaultPodTopologySpread (Kubernetes 1.18, later renamed SelectorSpread): spreads the
//! pods of the Services, ReplicationControllers, ReplicaSets and StatefulSets that
//! select the pod. Score counts their pods on each node; NormalizeScore favors nodes
//! with fewer, and where nodes carry zone labels, weighs the zone's count by two
//! thirds.

use std::collections::HashMap;
use std::sync::Arc;

use apimachinery::labels::Selector;
use k8s_openapi::api::core::v1::{Node, Pod};

use crate::cache::Snapshot;
use crate::framework::handle::ClusterState;
use crate::framework::interface::{
    CycleState, MAX_NODE_SCORE, NodeScore, Plugin, PreScorePlugin, ScorePlugin, Status,
};
use crate::framework::types::{NodeInfo, pod_namespace};
use crate::plugins::helper::default_selector;

/// The plugin name.
pub const NAME: &str = "DefaultPodTopologySpread";
const PRE_SCORE_KEY: &str = "PreScoreDefaultPodTopologySpread";
/// The share of the zone spreading in a node's score when nodes carry zones.
const ZONE_WEIGHTING: f64 = 2.0 / 3.0;

#[derive(Clone)]
struct PreScoreState {
    /// The union of the owners' selectors; `None` when nothing selects the pod.
    selector: Option<Selector>,
    /// The zone key of each scored node that has one.
    zones: HashMap<String, String>,
}

/// Returns the zone key of a node, its region and zone joined by `:\0:` (upstream
/// `GetZoneKey`), beta labels first; empty when the node carries neither.
fn zone_key(node: &Node) -> String {
    let Some(labels) = node.metadata.labels.as_ref() else {
        return String::new();
    };
    let zone = labels
        .get("failure-domain.beta.kubernetes.io/zone")
        .or_else(|| labels.get("topology.kubernetes.io/zone"))
        .map(String::as_str)
        .unwrap_or_default();
    let region = labels
        .get("failure-domain.beta.kubernetes.io/region")
        .or_else(|| labels.get("topology.kubernetes.io/region"))
        .map(String::as_str)
        .unwrap_or_default();
    if zone.is_empty() && region.is_empty() {
        return String::new();
    }
    format!("{region}:\0:{zone}")
}

/// The DefaultPodTopologySpread plugin.
pub struct SelectorSpread {
    cluster: Arc<ClusterState>,
}

impl SelectorSpread {
    /// Builds the plugin over the cluster's Services and controllers.
    pub fn new(cluster: Arc<ClusterState>) -> SelectorSpread {
        SelectorSpread { cluster }
    }
}

impl Plugin for SelectorSpread {
    fn name(&self) -> &'static str {
        NAME
    }

    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }

    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl PreScorePlugin for SelectorSpread {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[Arc<NodeInfo>],
        _snapshot: &Snapshot,
    ) -> Status {
        let zones = nodes
            .iter()
            .filter_map(|node_info| {
                let key = zone_key(node_info.node.as_deref()?);
                (!key.is_empty()).then(|| (node_info.node_name().to_string(), key))
            })
            .collect();
        state.write(
            PRE_SCORE_KEY,
            PreScoreState {
                selector: default_selector(&self.cluster, pod),
                zones,
            },
        );
        Status::success()
    }
}

impl ScorePlugin for SelectorSpread {
    fn score(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status> {
        let Some(pre) = state.read::<PreScoreState>(PRE_SCORE_KEY) else {
            return Err(Status::error(
                "DefaultPodTopologySpread prescore state not found",
            ));
        };
        let Some(selector) = pre
            .selector
            .as_ref()
            .filter(|selector| !selector.is_empty())
        else {
            return Ok(0);
        };
        let namespace = pod_namespace(pod);
        let count = node_info
            .pods
            .iter()
            .filter(|existing| {
                pod_namespace(&existing.pod) == namespace
                    && existing.pod.metadata.deletion_timestamp.is_none()
                    && selector.matches(&existing.pod.metadata.labels)
            })
            .count();
        Ok(count as i64)
    }

    fn normalize_score(&self, state: &CycleState, _pod: &Pod, scores: &mut [NodeScore]) -> Status {
        let Some(pre) = state.read::<PreScoreState>(PRE_SCORE_KEY) else {
            return Status::error("DefaultPodTopologySpread prescore state not found");
        };
        let max_by_node = scores.iter().map(|score| score.score).max().unwrap_or(0);
        let mut counts_by_zone: HashMap<&str, i64> = HashMap::new();
        for score in scores.iter() {
            if let Some(zone) = pre.zones.get(&score.name) {
                *counts_by_zone.entry(zone).or_default() += score.score;
            }
        }
        let max_by_zone = counts_by_zone.values().copied().max().unwrap_or(0);
        let have_zones = !counts_by_zone.is_empty();
        let max = MAX_NODE_SCORE as f64;
        let zone_scores: HashMap<&str, f64> = counts_by_zone
            .iter()
            .map(|(zone, count)| {
                let score = if max_by_zone > 0 {
                    max * ((max_by_zone - count) as f64 / max_by_zone as f64)
                } else {
                    max
                };
                (*zone, score)
            })
            .collect();
        for score in scores.iter_mut() {
            let mut value = max;
            if max_by_node > 0 {
                value = max * ((max_by_node - score.score) as f64 / max_by_node as f64);
            }
            if have_zones
                && let Some(zone_score) = pre
                    .zones
                    .get(&score.name)
                    .and_then(|zone| zone_scores.get(zone.as_str()))
            {
                value = value * (1.0 - ZONE_WEIGHTING) + ZONE_WEIGHTING * zone_score;
            }
            score.score = value as i64;
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{named_pod, node};
    use serde_json::{Value, json};

    fn cluster() -> Arc<ClusterState> {
        let cluster = Arc::new(ClusterState::default());
        let service: k8s_openapi::api::core::v1::Service = serde_json::from_value(json!({
            "metadata": {"name": "s1", "namespace": "default"},
            "spec": {"selector": {"baz": "blah"}}
        }))
        .expect("service");
        cluster
            .services
            .write()
            .expect("lock")
            .insert("default/s1".into(), Arc::new(service));
        cluster
    }

    fn pod_on(name: &str, node_name: &str, labels: Value) -> Arc<Pod> {
        Arc::new(named_pod(
            name,
            json!({"labels": labels}),
            json!({"nodeName": node_name}),
        ))
    }

    fn scores(nodes: Vec<Arc<Node>>, pods: Vec<Arc<Pod>>, incoming: &Pod) -> Vec<i64> {
        let snapshot = Snapshot::new(&pods, &nodes);
        let plugin = SelectorSpread::new(cluster());
        let mut state = CycleState::new();
        assert!(
            plugin
                .pre_score(&mut state, incoming, snapshot.list(), &snapshot)
                .is_success()
        );
        let mut scores: Vec<NodeScore> = snapshot
            .list()
            .iter()
            .map(|info| NodeScore {
                name: info.node_name().to_string(),
                score: plugin.score(&state, incoming, info).expect("score"),
            })
            .collect();
        assert!(
            plugin
                .normalize_score(&state, incoming, &mut scores)
                .is_success()
        );
        scores.into_iter().map(|score| score.score).collect()
    }

    /// Upstream's cases without zones: a Service's pods on machine1 (one) and
    /// machine2 (two) give machine1 50 and machine2 0.
    #[test]
    fn spreads_over_nodes() {
        let nodes = vec![
            Arc::new(node(json!({"metadata": {"name": "machine1"}}))),
            Arc::new(node(json!({"metadata": {"name": "machine2"}}))),
        ];
        let incoming = named_pod("p", json!({"labels": {"baz": "blah"}}), json!({}));
        let pods = vec![
            pod_on("a", "machine1", json!({"baz": "blah"})),
            pod_on("b", "machine2", json!({"baz": "blah"})),
            pod_on("c", "machine2", json!({"baz": "blah"})),
            pod_on("d", "machine2", json!({"other": "x"})),
        ];
        assert_eq!(scores(nodes.clone(), pods.clone(), &incoming), [50, 0]);

        // A pod nothing selects scores every node 100.
        let lonely = named_pod("q", json!({"labels": {"x": "y"}}), json!({}));
        assert_eq!(scores(nodes, pods, &lonely), [100, 100]);
    }

    /// Upstream's zone case shape: nodes in zone1 run 2 pods of the Service and zone2's
    /// node runs one. Node and zone scores mix one third to two thirds.
    #[test]
    fn weighs_zones() {
        let zone = |name: &str, zone: &str| {
            Arc::new(node(json!({"metadata": {"name": name,
                "labels": {"failure-domain.beta.kubernetes.io/zone": zone}}})))
        };
        let nodes = vec![
            zone("machine1.zone1", "zone1"),
            zone("machine2.zone1", "zone1"),
            zone("machine1.zone2", "zone2"),
            zone("machine1.zone3", "zone3"),
        ];
        let incoming = named_pod("p", json!({"labels": {"baz": "blah"}}), json!({}));
        let pods = vec![
            pod_on("a", "machine1.zone1", json!({"baz": "blah"})),
            pod_on("b", "machine2.zone1", json!({"baz": "blah"})),
            pod_on("c", "machine1.zone2", json!({"baz": "blah"})),
        ];
        // In name order: machine1.zone1 (node 0, zone 0), machine1.zone2 (node 0,
        // zone 50: 50*2/3 = 33), machine1.zone3 (node 100, zone 100) and
        // machine2.zone1 (node 0, zone 0).
        assert_eq!(scores(nodes, pods, &incoming), [0, 33, 100, 0]);
    }
}
