//! The resource scoring plugins of Kubernetes 1.18: `NodeResourcesLeastAllocated`,
//! `NodeResourcesMostAllocated` and `RequestedToCapacityRatio`. Later releases made
//! them scoring strategies of NodeResourcesFit; each plugin here is the Fit scorer with
//! that strategy, without Fit's filter.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;

use crate::cache::Snapshot;
use crate::framework::interface::{CycleState, Plugin, PreScorePlugin, ScorePlugin, Status};
use crate::framework::types::NodeInfo;
use crate::plugins::node_resources::{
    Fit, FitArgs, RequestedToCapacityRatioParam, ResourceSpec, ScoringStrategy,
    UtilizationShapePoint,
};

/// The LeastAllocated plugin name.
pub const LEAST_ALLOCATED_NAME: &str = "NodeResourcesLeastAllocated";
/// The MostAllocated plugin name.
pub const MOST_ALLOCATED_NAME: &str = "NodeResourcesMostAllocated";
/// The RequestedToCapacityRatio plugin name.
pub const REQUESTED_TO_CAPACITY_RATIO_NAME: &str = "RequestedToCapacityRatio";

/// The args of the three plugins: the resources scored (CPU and memory with weight 1
/// by default) and, for RequestedToCapacityRatio, the utilization-to-score shape.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// The resources and their weights.
    #[serde(default)]
    pub resources: Vec<ResourceSpec>,
    /// The shape, RequestedToCapacityRatio only: scores 0 to 10 at utilizations 0 to
    /// 100.
    #[serde(default)]
    pub shape: Vec<UtilizationShapePoint>,
}

/// Parses the args of one of the plugins (`null` gives the defaults).
///
/// # Errors
///
/// A decode message.
pub fn parse_args(name: &str, args: &serde_json::Value) -> Result<Args, String> {
    if args.is_null() {
        return Ok(Args::default());
    }
    let mut object = args.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("apiVersion");
        map.remove("kind");
    }
    serde_json::from_value(object).map_err(|error| format!("{name}Args: {error}"))
}

/// One of the three scoring plugins.
pub struct ResourceScore {
    name: &'static str,
    fit: Fit,
}

impl ResourceScore {
    /// Builds the plugin `name` (one of the three names above).
    ///
    /// # Errors
    ///
    /// An unknown name, a weight outside 1 to 100, or an invalid shape.
    pub fn new(name: &'static str, args: Args) -> Result<ResourceScore, String> {
        let (strategy_type, ratio) = match name {
            LEAST_ALLOCATED_NAME => ("LeastAllocated", None),
            MOST_ALLOCATED_NAME => ("MostAllocated", None),
            REQUESTED_TO_CAPACITY_RATIO_NAME => (
                "RequestedToCapacityRatio",
                Some(RequestedToCapacityRatioParam { shape: args.shape }),
            ),
            other => return Err(format!("{other} is not a resource scoring plugin")),
        };
        let mut strategy = ScoringStrategy {
            strategy_type: strategy_type.to_string(),
            requested_to_capacity_ratio: ratio,
            ..ScoringStrategy::default()
        };
        if !args.resources.is_empty() {
            strategy.resources = args.resources;
        }
        let fit = Fit::new(FitArgs {
            scoring_strategy: Some(strategy),
            ..FitArgs::default()
        })?;
        Ok(ResourceScore { name, fit })
    }
}

impl Plugin for ResourceScore {
    fn name(&self) -> &'static str {
        self.name
    }

    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }

    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl PreScorePlugin for ResourceScore {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status {
        PreScorePlugin::pre_score(&self.fit, state, pod, nodes, snapshot)
    }
}

impl ScorePlugin for ResourceScore {
    fn score(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status> {
        ScorePlugin::score(&self.fit, state, pod, node_info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{pod_with_requests, sized_node};
    use serde_json::json;

    fn score(
        plugin: &ResourceScore,
        pod: &Pod,
        node: k8s_openapi::api::core::v1::Node,
        existing: &[Pod],
    ) -> i64 {
        let mut info = NodeInfo::new(Arc::new(node));
        for pod in existing {
            info.add_pod(Arc::new(pod.clone()));
        }
        let mut state = CycleState::new();
        plugin.pre_score(&mut state, pod, &[], &Snapshot::default());
        plugin.score(&state, pod, &info).expect("score")
    }

    /// Upstream's LeastRequested case: 3000m of 4000m CPU and 5000 of 10000 memory
    /// requested score (25 + 50) / 2 = 37; MostRequested scores (75 + 50) / 2 = 62.
    #[test]
    fn least_and_most_allocated() {
        let pod = pod_with_requests("p", "", &[(1000, 2000), (2000, 3000)]);
        let node = || sized_node("n", 4000, 10000, json!({}));
        let least = ResourceScore::new(LEAST_ALLOCATED_NAME, Args::default()).expect("plugin");
        assert_eq!(score(&least, &pod, node(), &[]), 37);
        let most = ResourceScore::new(MOST_ALLOCATED_NAME, Args::default()).expect("plugin");
        assert_eq!(score(&most, &pod, node(), &[]), 62);
        assert_eq!(least.name(), LEAST_ALLOCATED_NAME);
    }

    /// The 1.18 default shape of RequestedToCapacityRatio: 0% utilization scores 10
    /// (100 after scaling) and 100% scores 0, so half-used resources score 50.
    #[test]
    fn requested_to_capacity_ratio() {
        let args = parse_args(
            REQUESTED_TO_CAPACITY_RATIO_NAME,
            &json!({"shape": [{"utilization": 0, "score": 10}, {"utilization": 100, "score": 0}],
                "resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}]}),
        )
        .expect("args");
        let plugin = ResourceScore::new(REQUESTED_TO_CAPACITY_RATIO_NAME, args).expect("plugin");
        let pod = pod_with_requests("p", "", &[(2000, 5000)]);
        assert_eq!(
            score(&plugin, &pod, sized_node("n", 4000, 10000, json!({})), &[]),
            50
        );
        assert!(
            ResourceScore::new(
                REQUESTED_TO_CAPACITY_RATIO_NAME,
                Args {
                    shape: vec![UtilizationShapePoint {
                        utilization: 0,
                        score: 11
                    }],
                    ..Args::default()
                }
            )
            .is_err()
        );
    }
}
