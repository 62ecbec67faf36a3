//! ServiceAffinity (Kubernetes 1.18).
//!
//! Filter keeps the pods of a Service together. A node must carry the values of the
//! `affinityLabels` that the pod's `nodeSelector` sets. For the labels the selector
//! leaves out, it must carry the values of the node that runs the first pod with the
//! pod's labels. Score
//! spreads a Service's pods: it counts the Service's pods per node, and NormalizeScore
//! favors nodes whose value of each `antiAffinityLabelsPreference` label holds fewer
//! of them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use apimachinery::labels::Selector;
use k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;

use crate::cache::Snapshot;
use crate::framework::handle::ClusterState;
use crate::framework::interface::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, NodeScore, Plugin, PreFilterPlugin, PreScorePlugin,
    ScorePlugin, Status,
};
use crate::framework::types::{NodeInfo, PodInfo, pod_key, pod_namespace, pod_node_name};
use crate::plugins::helper::pod_services;

/// The plugin name.
pub const NAME: &str = "ServiceAffinity";
/// The filter failure reason.
pub const ERR_REASON: &str = "node(s) didn't match service affinity";
const PRE_FILTER_KEY: &str = "PreFilterServiceAffinity";
const PRE_SCORE_KEY: &str = "PreScoreServiceAffinity";

/// The `ServiceAffinityArgs` of `pluginConfig`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// Labels whose values all pods of a Service share.
    #[serde(default)]
    pub affinity_labels: Vec<String>,
    /// Labels over whose values a Service's pods spread.
    #[serde(default)]
    pub anti_affinity_labels_preference: Vec<String>,
}

/// Parses `ServiceAffinityArgs` (`null` gives empty lists).
///
/// # Errors
///
/// A decode message.
pub fn parse_args(args: &serde_json::Value) -> Result<Args, String> {
    if args.is_null() {
        return Ok(Args::default());
    }
    let mut object = args.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("apiVersion");
        map.remove("kind");
    }
    serde_json::from_value(object).map_err(|error| format!("ServiceAffinityArgs: {error}"))
}

/// A pod with the pod's labels, where it runs, and that node's affinity labels.
#[derive(Clone)]
struct MatchingPod {
    key: String,
    node_name: String,
    node_labels: BTreeMap<String, String>,
}

#[derive(Clone)]
struct PreFilterState {
    /// Whether some Service selects the pod.
    has_services: bool,
    /// Pods in the namespace whose labels include all of the pod's, in snapshot order.
    matching_pods: Vec<MatchingPod>,
}

#[derive(Clone)]
struct PreScoreState {
    /// The selector of the pod's first Service; `None` when no Service selects it.
    selector: Option<Selector>,
    /// Per node, the values of the anti-affinity labels it carries.
    node_labels: HashMap<String, BTreeMap<String, String>>,
}

/// The ServiceAffinity plugin.
pub struct ServiceAffinity {
    args: Args,
    cluster: Arc<ClusterState>,
}

impl ServiceAffinity {
    /// Builds the plugin.
    pub fn new(args: Args, cluster: Arc<ClusterState>) -> ServiceAffinity {
        ServiceAffinity { args, cluster }
    }

    fn affinity_labels_of(&self, node_info: &NodeInfo) -> BTreeMap<String, String> {
        let Some(labels) = node_info.node_labels() else {
            return BTreeMap::new();
        };
        self.args
            .affinity_labels
            .iter()
            .filter_map(|key| labels.get(key).map(|value| (key.clone(), value.clone())))
            .collect()
    }

    /// Returns whether `other` is one of the pods the filter follows: same namespace,
    /// and its labels include every label of `pod`.
    fn follows(pod: &Pod, other: &Pod) -> bool {
        if pod_namespace(pod) != pod_namespace(other) {
            return false;
        }
        let own = pod.metadata.labels.as_ref();
        Selector::from_set(own.unwrap_or(&BTreeMap::new())).matches(&other.metadata.labels)
    }
}

impl Plugin for ServiceAffinity {
    fn name(&self) -> &'static str {
        NAME
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

impl PreFilterPlugin for ServiceAffinity {
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, snapshot: &Snapshot) -> Status {
        let mut matching_pods = Vec::new();
        for node_info in snapshot.list() {
            for existing in &node_info.pods {
                if Self::follows(pod, &existing.pod) {
                    matching_pods.push(MatchingPod {
                        key: pod_key(&existing.pod),
                        node_name: node_info.node_name().to_string(),
                        node_labels: self.affinity_labels_of(node_info),
                    });
                }
            }
        }
        state.write(
            PRE_FILTER_KEY,
            PreFilterState {
                has_services: !pod_services(&self.cluster, pod).is_empty(),
                matching_pods,
            },
        );
        Status::success()
    }

    fn add_pod(
        &self,
        state: &mut CycleState,
        pod_to_schedule: &Pod,
        pod_to_add: &PodInfo,
        node_info: &NodeInfo,
    ) -> Status {
        let labels = self.affinity_labels_of(node_info);
        let Some(pre) = state.read_mut::<PreFilterState>(PRE_FILTER_KEY) else {
            return Status::error("ServiceAffinity prefilter state not found");
        };
        if Self::follows(pod_to_schedule, &pod_to_add.pod) {
            pre.matching_pods.push(MatchingPod {
                key: pod_key(&pod_to_add.pod),
                node_name: pod_node_name(&pod_to_add.pod)
                    .unwrap_or(node_info.node_name())
                    .to_string(),
                node_labels: labels,
            });
        }
        Status::success()
    }

    fn remove_pod(
        &self,
        state: &mut CycleState,
        _pod_to_schedule: &Pod,
        pod_to_remove: &PodInfo,
        _node_info: &NodeInfo,
    ) -> Status {
        let Some(pre) = state.read_mut::<PreFilterState>(PRE_FILTER_KEY) else {
            return Status::error("ServiceAffinity prefilter state not found");
        };
        let key = pod_key(&pod_to_remove.pod);
        pre.matching_pods.retain(|matching| matching.key != key);
        Status::success()
    }
}

impl FilterPlugin for ServiceAffinity {
    fn filter(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
        if self.args.affinity_labels.is_empty() {
            return Status::success();
        }
        let Some(pre) = state.read::<PreFilterState>(PRE_FILTER_KEY) else {
            return Status::error("ServiceAffinity prefilter state not found");
        };
        let Some(node_labels) = node_info.node_labels() else {
            return Status::error("node not found");
        };

        // The labels the pod's nodeSelector fixes.
        let selector = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.node_selector.as_ref());
        let mut required: BTreeMap<String, String> = self
            .args
            .affinity_labels
            .iter()
            .filter_map(|key| {
                selector
                    .and_then(|selector| selector.get(key))
                    .map(|value| (key.clone(), value.clone()))
            })
            .collect();

        // The rest come from the node of the first followed pod. A pod counted on
        // this node that the node no longer runs (a preemption victim) is skipped.
        if required.len() < self.args.affinity_labels.len() && pre.has_services {
            let this_node = node_info.node_name();
            let first = pre.matching_pods.iter().find(|matching| {
                matching.node_name != this_node
                    || node_info
                        .pods
                        .iter()
                        .any(|existing| pod_key(&existing.pod) == matching.key)
            });
            if let Some(first) = first {
                for (key, value) in &first.node_labels {
                    required.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
        }

        if required
            .iter()
            .all(|(key, value)| node_labels.get(key) == Some(value))
        {
            Status::success()
        } else {
            Status::unschedulable(ERR_REASON)
        }
    }
}

impl PreScorePlugin for ServiceAffinity {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[Arc<NodeInfo>],
        _snapshot: &Snapshot,
    ) -> Status {
        let selector = pod_services(&self.cluster, pod)
            .first()
            .and_then(|service| {
                service
                    .spec
                    .as_ref()
                    .and_then(|spec| spec.selector.as_ref())
                    .map(Selector::from_set)
            });
        let node_labels = nodes
            .iter()
            .map(|node_info| {
                let labels = node_info
                    .node_labels()
                    .map(|labels| {
                        self.args
                            .anti_affinity_labels_preference
                            .iter()
                            .filter_map(|key| {
                                labels.get(key).map(|value| (key.clone(), value.clone()))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (node_info.node_name().to_string(), labels)
            })
            .collect();
        state.write(
            PRE_SCORE_KEY,
            PreScoreState {
                selector,
                node_labels,
            },
        );
        Status::success()
    }
}

impl ScorePlugin for ServiceAffinity {
    fn score(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status> {
        let Some(pre) = state.read::<PreScoreState>(PRE_SCORE_KEY) else {
            return Err(Status::error("ServiceAffinity prescore state not found"));
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
            return Status::error("ServiceAffinity prescore state not found");
        };
        let labels = &self.args.anti_affinity_labels_preference;
        let mut result = vec![0f64; scores.len()];
        let total: i64 = scores.iter().map(|score| score.score).sum();
        for label in labels {
            let mut per_value: HashMap<&str, i64> = HashMap::new();
            for score in scores.iter() {
                if let Some(value) = pre
                    .node_labels
                    .get(&score.name)
                    .and_then(|node_labels| node_labels.get(label))
                {
                    *per_value.entry(value).or_default() += score.score;
                }
            }
            for (i, score) in scores.iter().enumerate() {
                let Some(value) = pre
                    .node_labels
                    .get(&score.name)
                    .and_then(|node_labels| node_labels.get(label))
                else {
                    continue;
                };
                let mut label_score = MAX_NODE_SCORE as f64;
                if total > 0 {
                    let here = per_value.get(value.as_str()).copied().unwrap_or(0);
                    label_score = MAX_NODE_SCORE as f64 * ((total - here) as f64 / total as f64);
                }
                // Each label contributes its share; the policy weight multiplies back.
                result[i] += label_score / labels.len() as f64;
            }
        }
        for (score, value) in scores.iter_mut().zip(result) {
            score.score = value as i64;
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests;
