//! NodeResourcesFit and NodeResourcesBalancedAllocation.
//!
//! Fit's Filter rejects nodes whose allocatable resources cannot hold the pod's
//! effective request (containers summed, init containers as a maximum, plus overhead).
//! Its Score follows the configured strategy: LeastAllocated (default), MostAllocated or
//! RequestedToCapacityRatio. BalancedAllocation prefers nodes whose CPU and memory
//! utilization stay close to each other.

use k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;

use crate::cache::Snapshot;
use crate::framework::interface::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, PreFilterPlugin, PreScorePlugin, ScorePlugin,
    Status,
};
use crate::framework::types::{
    NodeInfo, Resource, compute_non_zero_request, compute_pod_resource_request,
};

/// The Fit plugin name.
pub const FIT_NAME: &str = "NodeResourcesFit";
/// The BalancedAllocation plugin name.
pub const BALANCED_NAME: &str = "NodeResourcesBalancedAllocation";
const PRE_FILTER_KEY: &str = "PreFilterNodeResourcesFit";
const FIT_PRE_SCORE_KEY: &str = "PreScoreNodeResourcesFit";
const BALANCED_PRE_SCORE_KEY: &str = "PreScoreNodeResourcesBalancedAllocation";

/// The pod's requests for scoring, computed once per cycle: the plain request and the
/// CPU and memory requests with the non-zero defaults.
#[derive(Clone)]
struct PodScoreRequests {
    request: Resource,
    non_zero: (i64, i64),
}

impl PodScoreRequests {
    fn of(pod: &Pod) -> PodScoreRequests {
        PodScoreRequests {
            request: compute_pod_resource_request(pod),
            non_zero: compute_non_zero_request(pod),
        }
    }

    /// Returns the cached requests under `key`, or computes them.
    fn read(state: &CycleState, key: &str, pod: &Pod) -> PodScoreRequests {
        state
            .read::<PodScoreRequests>(key)
            .cloned()
            .unwrap_or_else(|| PodScoreRequests::of(pod))
    }
}
/// The highest score of a RequestedToCapacityRatio shape point.
const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;

/// A resource name and its weight in a scoring strategy.
#[derive(Clone, Debug, Deserialize, PartialEq, serde::Serialize)]
pub struct ResourceSpec {
    /// The resource name, such as `cpu`.
    pub name: String,
    /// The weight, 1 by default.
    #[serde(default = "default_weight")]
    pub weight: i64,
}

fn default_weight() -> i64 {
    1
}

fn default_resources() -> Vec<ResourceSpec> {
    vec![
        ResourceSpec {
            name: "cpu".to_string(),
            weight: 1,
        },
        ResourceSpec {
            name: "memory".to_string(),
            weight: 1,
        },
    ]
}

/// One point of the RequestedToCapacityRatio shape.
#[derive(Clone, Debug, Deserialize, PartialEq, serde::Serialize)]
pub struct UtilizationShapePoint {
    /// Utilization in percent, 0 to 100.
    pub utilization: i64,
    /// Score at that utilization, 0 to 10.
    pub score: i64,
}

/// The RequestedToCapacityRatio parameters.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct RequestedToCapacityRatioParam {
    /// The piecewise linear function from utilization to score.
    #[serde(default)]
    pub shape: Vec<UtilizationShapePoint>,
}

/// The scoring strategy of NodeResourcesFit.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScoringStrategy {
    /// `LeastAllocated`, `MostAllocated` or `RequestedToCapacityRatio`.
    #[serde(rename = "type", default = "default_strategy")]
    pub strategy_type: String,
    /// The resources scored, CPU and memory with weight 1 by default.
    #[serde(default = "default_resources")]
    pub resources: Vec<ResourceSpec>,
    /// The shape for `RequestedToCapacityRatio`.
    #[serde(default)]
    pub requested_to_capacity_ratio: Option<RequestedToCapacityRatioParam>,
}

fn default_strategy() -> String {
    "LeastAllocated".to_string()
}

impl Default for ScoringStrategy {
    fn default() -> Self {
        ScoringStrategy {
            strategy_type: default_strategy(),
            resources: default_resources(),
            requested_to_capacity_ratio: None,
        }
    }
}

/// The `NodeResourcesFitArgs` of `pluginConfig`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FitArgs {
    /// Resources the filter ignores.
    #[serde(default)]
    pub ignored_resources: Vec<String>,
    /// Resource groups (the prefix before `/`) the filter ignores.
    #[serde(default)]
    pub ignored_resource_groups: Vec<String>,
    /// The scoring strategy.
    #[serde(default)]
    pub scoring_strategy: Option<ScoringStrategy>,
}

/// The `NodeResourcesBalancedAllocationArgs` of `pluginConfig`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct BalancedAllocationArgs {
    /// The resources compared, CPU and memory by default.
    #[serde(default = "default_resources")]
    pub resources: Vec<ResourceSpec>,
}

impl Default for BalancedAllocationArgs {
    fn default() -> Self {
        BalancedAllocationArgs {
            resources: default_resources(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Scorer {
    LeastAllocated,
    MostAllocated,
    /// Shape points with scores already scaled to 0..=100.
    RequestedToCapacityRatio(Vec<(i64, i64)>),
}

/// The NodeResourcesFit plugin.
pub struct Fit {
    ignored_resources: Vec<String>,
    ignored_resource_groups: Vec<String>,
    resources: Vec<ResourceSpec>,
    scorer: Scorer,
}

impl Fit {
    /// Builds the plugin from its args.
    ///
    /// # Errors
    ///
    /// An unknown strategy type, a weight outside 1..=100, or an invalid shape.
    pub fn new(args: FitArgs) -> Result<Fit, String> {
        let strategy = args.scoring_strategy.unwrap_or_default();
        for resource in &strategy.resources {
            if !(1..=100).contains(&resource.weight) {
                return Err(format!(
                    "scoringStrategy.resources[{}].weight: Invalid value: {}: resource weight must be in the range [1, 100]",
                    resource.name, resource.weight
                ));
            }
        }
        let scorer = match strategy.strategy_type.as_str() {
            "LeastAllocated" => Scorer::LeastAllocated,
            "MostAllocated" => Scorer::MostAllocated,
            "RequestedToCapacityRatio" => {
                let shape = strategy
                    .requested_to_capacity_ratio
                    .map(|param| param.shape)
                    .unwrap_or_default();
                Scorer::RequestedToCapacityRatio(validate_shape(&shape)?)
            }
            other => {
                return Err(format!(
                    "scoringStrategy.type: Unsupported value: {other:?}: supported values: \"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\""
                ));
            }
        };
        Ok(Fit {
            ignored_resources: args.ignored_resources,
            ignored_resource_groups: args.ignored_resource_groups,
            resources: strategy.resources,
            scorer,
        })
    }

    fn ignored(&self, name: &str) -> bool {
        self.ignored_resources.iter().any(|ignored| ignored == name)
            || name
                .split_once('/')
                .is_some_and(|(group, _)| self.ignored_resource_groups.iter().any(|g| g == group))
    }

    /// Returns the reasons the pod does not fit, empty when it fits.
    fn insufficient_resources(&self, request: &Resource, node_info: &NodeInfo) -> Vec<String> {
        let mut reasons = Vec::new();
        let allocatable = &node_info.allocatable;
        if node_info.pods.len() as i64 + 1 > allocatable.allowed_pod_number {
            reasons.push("Too many pods".to_string());
        }

        let zero_request = request.milli_cpu == 0
            && request.memory == 0
            && request.ephemeral_storage == 0
            && request.scalar_resources.values().all(|value| *value == 0);
        if zero_request {
            return reasons;
        }

        let requested = &node_info.requested;
        if request.milli_cpu > 0 && request.milli_cpu > allocatable.milli_cpu - requested.milli_cpu
        {
            reasons.push("Insufficient cpu".to_string());
        }
        if request.memory > 0 && request.memory > allocatable.memory - requested.memory {
            reasons.push("Insufficient memory".to_string());
        }
        if request.ephemeral_storage > 0
            && request.ephemeral_storage
                > allocatable.ephemeral_storage - requested.ephemeral_storage
        {
            reasons.push("Insufficient ephemeral-storage".to_string());
        }
        for (name, value) in &request.scalar_resources {
            if *value == 0 || self.ignored(name) {
                continue;
            }
            let free = allocatable.get(name) - requested.get(name);
            if *value > free {
                reasons.push(format!("Insufficient {name}"));
            }
        }
        reasons
    }
}

fn validate_shape(shape: &[UtilizationShapePoint]) -> Result<Vec<(i64, i64)>, String> {
    if shape.is_empty() {
        return Err("scoringStrategy.requestedToCapacityRatio.shape: Required value: at least one point must be specified".to_string());
    }
    let mut previous = -1;
    let mut points = Vec::with_capacity(shape.len());
    for point in shape {
        if !(0..=100).contains(&point.utilization) || point.utilization <= previous {
            return Err(format!(
                "scoringStrategy.requestedToCapacityRatio.shape: Invalid value: utilization {} must be in [0, 100] and increasing",
                point.utilization
            ));
        }
        if !(0..=MAX_CUSTOM_PRIORITY_SCORE).contains(&point.score) {
            return Err(format!(
                "scoringStrategy.requestedToCapacityRatio.shape: Invalid value: score {} must be in [0, {MAX_CUSTOM_PRIORITY_SCORE}]",
                point.score
            ));
        }
        previous = point.utilization;
        points.push((
            point.utilization,
            point.score * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE),
        ));
    }
    Ok(points)
}

#[derive(Clone)]
struct PreFilterState(Resource);

impl Plugin for Fit {
    fn name(&self) -> &'static str {
        FIT_NAME
    }

    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
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

impl PreScorePlugin for Fit {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        _nodes: &[std::sync::Arc<NodeInfo>],
        _snapshot: &Snapshot,
    ) -> Status {
        state.write(FIT_PRE_SCORE_KEY, PodScoreRequests::of(pod));
        Status::success()
    }
}

impl PreFilterPlugin for Fit {
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, _snapshot: &Snapshot) -> Status {
        state.write(
            PRE_FILTER_KEY,
            PreFilterState(compute_pod_resource_request(pod)),
        );
        Status::success()
    }
}

impl FilterPlugin for Fit {
    fn filter(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
        let computed;
        let request = match state.read::<PreFilterState>(PRE_FILTER_KEY) {
            Some(pre) => &pre.0,
            None => {
                computed = compute_pod_resource_request(pod);
                &computed
            }
        };
        let reasons = self.insufficient_resources(request, node_info);
        if reasons.is_empty() {
            Status::success()
        } else {
            Status::new(crate::framework::interface::Code::Unschedulable, reasons)
        }
    }
}

/// Returns the requested (node plus pod) and allocatable amounts of one resource for
/// scoring. CPU and memory use the non-zero defaults for requests that are unset.
fn requested_and_allocatable(
    name: &str,
    pod: &PodScoreRequests,
    node_info: &NodeInfo,
) -> (i64, i64) {
    let allocatable = node_info.allocatable.get(name);
    match name {
        "cpu" => (
            node_info.non_zero_requested.milli_cpu + pod.non_zero.0,
            allocatable,
        ),
        "memory" => (
            node_info.non_zero_requested.memory + pod.non_zero.1,
            allocatable,
        ),
        other => (
            node_info.requested.get(other) + pod.request.get(other),
            allocatable,
        ),
    }
}

fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

fn most_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    requested.min(capacity) * MAX_NODE_SCORE / capacity
}

fn broken_linear(shape: &[(i64, i64)], utilization: i64) -> i64 {
    let Some(first) = shape.first() else {
        return 0;
    };
    if utilization <= first.0 {
        return first.1;
    }
    for window in shape.windows(2) {
        let ((x0, y0), (x1, y1)) = (window[0], window[1]);
        if utilization <= x1 {
            return y0 + (y1 - y0) * (utilization - x0) / (x1 - x0);
        }
    }
    shape.last().map(|point| point.1).unwrap_or(0)
}

impl ScorePlugin for Fit {
    fn score(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status> {
        let requests = PodScoreRequests::read(state, FIT_PRE_SCORE_KEY, pod);
        let mut total = 0i64;
        let mut weight_sum = 0i64;
        let mut ratio_total = 0f64;
        for resource in &self.resources {
            let (requested, allocatable) =
                requested_and_allocatable(&resource.name, &requests, node_info);
            if allocatable == 0 {
                continue;
            }
            let score = match &self.scorer {
                Scorer::LeastAllocated => least_requested_score(requested, allocatable),
                Scorer::MostAllocated => most_requested_score(requested, allocatable),
                Scorer::RequestedToCapacityRatio(shape) => {
                    let utilization = if requested > allocatable {
                        100
                    } else {
                        requested * 100 / allocatable
                    };
                    let score = broken_linear(shape, utilization);
                    ratio_total += (score * resource.weight) as f64;
                    score
                }
            };
            total += score * resource.weight;
            weight_sum += resource.weight;
        }
        if weight_sum == 0 {
            return Ok(0);
        }
        if matches!(self.scorer, Scorer::RequestedToCapacityRatio(_)) {
            return Ok((ratio_total / weight_sum as f64).round() as i64);
        }
        Ok(total / weight_sum)
    }
}

/// The NodeResourcesBalancedAllocation plugin.
pub struct BalancedAllocation {
    resources: Vec<ResourceSpec>,
}

impl BalancedAllocation {
    /// Builds the plugin from its args.
    pub fn new(args: BalancedAllocationArgs) -> BalancedAllocation {
        BalancedAllocation {
            resources: args.resources,
        }
    }
}

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        BALANCED_NAME
    }

    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }

    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl PreScorePlugin for BalancedAllocation {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        _nodes: &[std::sync::Arc<NodeInfo>],
        _snapshot: &Snapshot,
    ) -> Status {
        state.write(BALANCED_PRE_SCORE_KEY, PodScoreRequests::of(pod));
        Status::success()
    }
}

impl ScorePlugin for BalancedAllocation {
    /// Scores `(1 - standard deviation of the utilization fractions) * 100`, as in
    /// Kubernetes 1.33; with two resources the deviation is half their difference.
    // NOTE: requests use the non-zero CPU and memory defaults, as in Kubernetes 1.18;
    // later versions score the plain requests.
    fn score(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status> {
        let requests = PodScoreRequests::read(state, BALANCED_PRE_SCORE_KEY, pod);
        let mut fractions = Vec::new();
        for resource in &self.resources {
            let (requested, allocatable) =
                requested_and_allocatable(&resource.name, &requests, node_info);
            if allocatable == 0 {
                continue;
            }
            fractions.push((requested as f64 / allocatable as f64).min(1.0));
        }
        let deviation = match fractions.len() {
            0 | 1 => 0.0,
            2 => (fractions[0] - fractions[1]).abs() / 2.0,
            n => {
                let mean = fractions.iter().sum::<f64>() / n as f64;
                let variance = fractions
                    .iter()
                    .map(|f| (f - mean) * (f - mean))
                    .sum::<f64>()
                    / n as f64;
                variance.sqrt()
            }
        };
        Ok(((1.0 - deviation) * MAX_NODE_SCORE as f64) as i64)
    }
}

/// Parses `NodeResourcesFitArgs` from JSON (`null` gives the defaults).
///
/// # Errors
///
/// A decode or validation message.
pub fn parse_fit_args(args: &serde_json::Value) -> Result<FitArgs, String> {
    if args.is_null() {
        return Ok(FitArgs::default());
    }
    serde_json::from_value(args.clone()).map_err(|error| format!("NodeResourcesFitArgs: {error}"))
}

/// Parses `NodeResourcesBalancedAllocationArgs` from JSON.
///
/// # Errors
///
/// A decode message.
pub fn parse_balanced_args(args: &serde_json::Value) -> Result<BalancedAllocationArgs, String> {
    if args.is_null() {
        return Ok(BalancedAllocationArgs::default());
    }
    serde_json::from_value(args.clone())
        .map_err(|error| format!("NodeResourcesBalancedAllocationArgs: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node_info, pod, pod_with_requests, sized_node};
    use serde_json::json;
    use std::sync::Arc;

    fn info(name: &str, cpu: i64, memory: i64, pods: &[Pod]) -> NodeInfo {
        let mut info = NodeInfo::new(Arc::new(sized_node(name, cpu, memory, json!({}))));
        for p in pods {
            info.add_pod(Arc::new(p.clone()));
        }
        info
    }

    fn filter(fit: &Fit, p: &Pod, node: &NodeInfo) -> Status {
        let mut state = CycleState::new();
        fit.pre_filter(&mut state, p, &Snapshot::default());
        fit.filter(&state, p, node)
    }

    #[test]
    fn filter_table() {
        let fit = Fit::new(FitArgs::default()).expect("fit");
        let existing = pod_with_requests("e", "n", &[(5000, 10)]);
        let node = info("n", 10000, 20, &[existing]);
        let cases = [
            (pod_with_requests("p", "", &[(1000, 1)]), vec![]),
            (
                pod_with_requests("p", "", &[(6000, 1)]),
                vec!["Insufficient cpu"],
            ),
            (
                pod_with_requests("p", "", &[(6000, 11)]),
                vec!["Insufficient cpu", "Insufficient memory"],
            ),
            (pod_with_requests("p", "", &[(0, 0)]), vec![]),
        ];
        for (i, (p, reasons)) in cases.into_iter().enumerate() {
            assert_eq!(filter(&fit, &p, &node).reasons, reasons, "case {i}");
        }
    }

    #[test]
    fn filter_counts_init_containers_and_overhead() {
        let fit = Fit::new(FitArgs::default()).expect("fit");
        let node = info("n", 1000, 1 << 30, &[]);
        let init = pod(json!({
            "containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}],
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "1500m"}}}],
        }));
        assert_eq!(filter(&fit, &init, &node).reasons, ["Insufficient cpu"]);
        let overhead = pod(json!({
            "containers": [{"name": "c", "resources": {"requests": {"cpu": "900m"}}}],
            "overhead": {"cpu": "200m"},
        }));
        assert_eq!(filter(&fit, &overhead, &node).reasons, ["Insufficient cpu"]);
    }

    #[test]
    fn filter_extended_resources_and_pod_count() {
        let fit = Fit::new(FitArgs::default()).expect("fit");
        let gpu_node = node_info(
            json!({"metadata": {"name": "n"}, "status": {"allocatable": {
                "cpu": "4", "memory": "1Gi", "pods": "1", "example.com/gpu": "1"}}}),
            &[],
        );
        let wants_two = pod(
            json!({"containers": [{"name": "c", "resources": {"requests": {"example.com/gpu": "2"}}}]}),
        );
        assert_eq!(
            filter(&fit, &wants_two, &gpu_node).reasons,
            ["Insufficient example.com/gpu"]
        );

        let ignoring = Fit::new(FitArgs {
            ignored_resource_groups: vec!["example.com".to_string()],
            ..FitArgs::default()
        })
        .expect("fit");
        assert!(filter(&ignoring, &wants_two, &gpu_node).is_success());

        let full = node_info(
            json!({"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "4", "pods": "1"}}}),
            &[pod_with_requests("e", "n", &[(0, 0)])],
        );
        assert_eq!(
            filter(&fit, &pod(json!({})), &full).reasons,
            ["Too many pods"]
        );
    }

    /// Upstream's LeastAllocated case: nothing scheduled, pod requests 3000m/5000 on
    /// 4000m/10000 and 6000m/10000 nodes.
    #[test]
    fn least_allocated_scores() {
        let fit = Fit::new(FitArgs::default()).expect("fit");
        let p = pod_with_requests("p", "", &[(1000, 2000), (2000, 3000)]);
        let n1 = info("n1", 4000, 10000, &[]);
        let n2 = info("n2", 6000, 10000, &[]);
        let state = CycleState::new();
        // n1: cpu (4000-3000)*100/4000 = 25, memory (10000-5000)*100/10000 = 50 -> 37.
        // n2: cpu (6000-3000)*100/6000 = 50, memory 50 -> 50.
        assert_eq!(fit.score(&state, &p, &n1).expect("score"), 37);
        assert_eq!(fit.score(&state, &p, &n2).expect("score"), 50);
    }

    #[test]
    fn most_allocated_scores() {
        let fit = Fit::new(FitArgs {
            scoring_strategy: Some(ScoringStrategy {
                strategy_type: "MostAllocated".to_string(),
                ..ScoringStrategy::default()
            }),
            ..FitArgs::default()
        })
        .expect("fit");
        let p = pod_with_requests("p", "", &[(1000, 2000), (2000, 3000)]);
        let n1 = info("n1", 4000, 10000, &[]);
        let n2 = info("n2", 6000, 10000, &[]);
        let state = CycleState::new();
        // n1: cpu 3000*100/4000 = 75, memory 50 -> 62; n2: 50, 50 -> 50.
        assert_eq!(fit.score(&state, &p, &n1).expect("score"), 62);
        assert_eq!(fit.score(&state, &p, &n2).expect("score"), 50);
    }

    #[test]
    fn requested_to_capacity_ratio_scores() {
        let args: FitArgs = serde_json::from_value(json!({"scoringStrategy": {
            "type": "RequestedToCapacityRatio",
            "requestedToCapacityRatio": {"shape": [{"utilization": 0, "score": 10}, {"utilization": 100, "score": 0}]}
        }}))
        .expect("args");
        let fit = Fit::new(args).expect("fit");
        let p = pod_with_requests("p", "", &[(3000, 5000)]);
        let n1 = info("n1", 4000, 10000, &[]);
        let state = CycleState::new();
        // cpu 75% -> 25, memory 50% -> 50 -> round(37.5) = 38.
        assert_eq!(fit.score(&state, &p, &n1).expect("score"), 38);

        let bad: FitArgs = serde_json::from_value(json!({"scoringStrategy": {
            "type": "RequestedToCapacityRatio",
            "requestedToCapacityRatio": {"shape": [{"utilization": 50, "score": 1}, {"utilization": 40, "score": 2}]}
        }}))
        .expect("args");
        assert!(Fit::new(bad).is_err());
    }

    #[test]
    fn balanced_allocation_scores() {
        let plugin = BalancedAllocation::new(BalancedAllocationArgs::default());
        let state = CycleState::new();
        let p = pod_with_requests("p", "", &[(3000, 5000)]);
        // cpu 3000/4000 = 0.75, memory 0.5 -> deviation 0.125 -> 87.
        assert_eq!(
            plugin
                .score(&state, &p, &info("n1", 4000, 10000, &[]))
                .expect("score"),
            87
        );
        // cpu 0.5, memory 0.5 -> 100.
        assert_eq!(
            plugin
                .score(&state, &p, &info("n2", 6000, 10000, &[]))
                .expect("score"),
            100
        );
    }
}
