//! The scheduling algorithm of one cycle (upstream `genericScheduler`): run PreFilter,
//! Filter in parallel until enough feasible nodes are found, then PreScore, Score and
//! NormalizeScore, and pick the highest total at random among ties.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use k8s_openapi::api::core::v1::Pod;
use rand::Rng;

use crate::cache::Snapshot;
use crate::framework::interface::{CycleState, NodeScore, Status};
use crate::framework::parallelize::parallelize;
use crate::framework::runtime::Framework;
use crate::framework::types::NodeInfo;

/// Below this many nodes every node is checked.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// The lowest adaptive percentage of nodes checked.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: i64 = 5;
/// The message of a cycle that found no node at all.
pub const NO_NODES_AVAILABLE: &str = "no nodes available to schedule pods";

/// What Filter left: the feasible nodes, each infeasible node's status, and the
/// message of a PreFilter plugin that rejected the pod on every node.
struct FilterOutcome {
    feasible: Vec<Arc<NodeInfo>>,
    statuses: HashMap<String, Status>,
    pre_filter_message: Option<String>,
}

/// The node picked for a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleResult {
    /// The chosen node.
    pub suggested_host: String,
    /// How many nodes Filter ran on.
    pub evaluated_nodes: usize,
    /// How many of them passed.
    pub feasible_nodes: usize,
}

/// Why no node fits: each node's failing status.
#[derive(Clone, Debug)]
pub struct FitError {
    /// The number of nodes in the snapshot.
    pub num_all_nodes: usize,
    /// Each evaluated node's failure.
    pub statuses: HashMap<String, Status>,
    /// The reasons of a PreFilter plugin that rejected the pod, which then stand for
    /// every node's.
    pub pre_filter_message: Option<String>,
}

impl fmt::Display for FitError {
    /// Formats upstream's message, such as
    /// `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.`
    /// A PreFilter rejection is reported once, without per-node counts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(message) = &self.pre_filter_message {
            return write!(
                f,
                "0/{} nodes are available: {message}.",
                self.num_all_nodes
            );
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for status in self.statuses.values() {
            for reason in &status.reasons {
                *counts.entry(reason.as_str()).or_default() += 1;
            }
        }
        let mut reasons: Vec<String> = counts
            .into_iter()
            .map(|(reason, count)| format!("{count} {reason}"))
            .collect();
        reasons.sort();
        write!(
            f,
            "0/{} nodes are available: {}.",
            self.num_all_nodes,
            reasons.join(", ")
        )
    }
}

/// A failed scheduling cycle.
#[derive(Clone, Debug)]
pub enum ScheduleError {
    /// The cluster has no nodes.
    NoNodes,
    /// No node passed Filter; PostFilter may still help.
    Fit(FitError),
    /// A plugin failed internally.
    Internal(Status),
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleError::NoNodes => f.write_str(NO_NODES_AVAILABLE),
            ScheduleError::Fit(error) => error.fmt(f),
            ScheduleError::Internal(status) => f.write_str(&status.message()),
        }
    }
}

/// Returns how many feasible nodes to find among `num_all_nodes` before scoring.
/// Below 100 nodes, or at 100 percent, that is every node. Otherwise it is the
/// configured percentage, or adaptively `50 - nodes/125` percent with a floor of 5
/// percent, and never fewer than 100 nodes.
pub fn num_feasible_nodes_to_find(percentage: i32, num_all_nodes: usize) -> usize {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND || percentage >= 100 {
        return num_all_nodes;
    }
    let mut adaptive = i64::from(percentage);
    if adaptive <= 0 {
        adaptive = 50 - num_all_nodes as i64 / 125;
        if adaptive < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND {
            adaptive = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
        }
    }
    let num = num_all_nodes as i64 * adaptive / 100;
    (num as usize).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// The per-scheduler state of the algorithm: where the next node search starts.
pub struct Algorithm {
    percentage_of_nodes_to_score: i32,
    next_start_node_index: AtomicUsize,
}

impl Algorithm {
    /// Creates the algorithm with the global `percentageOfNodesToScore` (0 = adaptive).
    pub fn new(percentage_of_nodes_to_score: i32) -> Algorithm {
        Algorithm {
            percentage_of_nodes_to_score,
            next_start_node_index: AtomicUsize::new(0),
        }
    }

    /// Runs one scheduling cycle for `pod` against `snapshot`.
    ///
    /// # Errors
    ///
    /// [`ScheduleError`] when no node fits or a plugin fails.
    pub fn schedule(
        &self,
        framework: &Framework,
        state: &mut CycleState,
        pod: &Pod,
        snapshot: &Snapshot,
        profile_percentage: Option<i32>,
    ) -> Result<ScheduleResult, ScheduleError> {
        if snapshot.num_nodes() == 0 {
            return Err(ScheduleError::NoNodes);
        }
        let percentage = profile_percentage.unwrap_or(self.percentage_of_nodes_to_score);
        let FilterOutcome {
            feasible,
            statuses,
            pre_filter_message,
        } = self.find_nodes_that_fit(framework, state, pod, snapshot, percentage)?;
        if feasible.is_empty() {
            return Err(ScheduleError::Fit(FitError {
                num_all_nodes: snapshot.num_nodes(),
                statuses,
                pre_filter_message,
            }));
        }
        let evaluated_nodes = feasible.len() + statuses.len();
        if feasible.len() == 1 {
            return Ok(ScheduleResult {
                suggested_host: feasible[0].node_name().to_string(),
                evaluated_nodes,
                feasible_nodes: 1,
            });
        }
        let scores = prioritize_nodes(framework, state, pod, &feasible, snapshot)
            .map_err(ScheduleError::Internal)?;
        let host = select_host(&scores)
            .ok_or_else(|| ScheduleError::Internal(Status::error("empty priority list")))?;
        Ok(ScheduleResult {
            suggested_host: host,
            evaluated_nodes,
            feasible_nodes: feasible.len(),
        })
    }

    /// Runs PreFilter, then Filter over the nodes starting after where the last search
    /// stopped, until enough feasible nodes are found.
    fn find_nodes_that_fit(
        &self,
        framework: &Framework,
        state: &mut CycleState,
        pod: &Pod,
        snapshot: &Snapshot,
        percentage: i32,
    ) -> Result<FilterOutcome, ScheduleError> {
        let all = snapshot.list();
        let status = framework.run_pre_filter_plugins(state, pod, snapshot);
        if !status.is_success() {
            if !status.is_unschedulable() {
                return Err(ScheduleError::Internal(status));
            }
            let statuses = all
                .iter()
                .map(|info| (info.node_name().to_string(), status.clone()))
                .collect();
            return Ok(FilterOutcome {
                feasible: Vec::new(),
                statuses,
                pre_filter_message: Some(status.message()),
            });
        }

        let n = all.len();
        let to_find = num_feasible_nodes_to_find(percentage, n);
        let start = self.next_start_node_index.load(Ordering::Relaxed) % n;
        let found = AtomicUsize::new(0);
        let processed = AtomicUsize::new(0);
        let state_ref: &CycleState = state;
        let results = parallelize(
            framework.parallelism(),
            n,
            |i| {
                let info = &all[(start + i) % n];
                let status = framework.run_filter_with_nominated_pods(state_ref, pod, info);
                if status.is_success() {
                    let count = found.fetch_add(1, Ordering::SeqCst) + 1;
                    if count > to_find {
                        found.fetch_sub(1, Ordering::SeqCst);
                        return None;
                    }
                    processed.fetch_add(1, Ordering::Relaxed);
                    Some(Ok(info.clone()))
                } else {
                    processed.fetch_add(1, Ordering::Relaxed);
                    Some(Err((info.node_name().to_string(), status)))
                }
            },
            || found.load(Ordering::SeqCst) >= to_find,
        );
        self.next_start_node_index.store(
            (start + processed.load(Ordering::Relaxed)) % n,
            Ordering::Relaxed,
        );

        let mut feasible = Vec::new();
        let mut statuses = HashMap::new();
        for (_, result) in results {
            match result {
                Ok(info) => feasible.push(info),
                Err((name, status)) => {
                    if status.code == crate::framework::interface::Code::Error {
                        return Err(ScheduleError::Internal(status));
                    }
                    statuses.insert(name, status);
                }
            }
        }
        Ok(FilterOutcome {
            feasible,
            statuses,
            pre_filter_message: None,
        })
    }
}

/// Runs PreScore and Score and returns each node's weighted total. Without Score
/// plugins every node scores 1.
///
/// # Errors
///
/// The failing plugin's status.
pub fn prioritize_nodes(
    framework: &Framework,
    state: &mut CycleState,
    pod: &Pod,
    nodes: &[Arc<NodeInfo>],
    snapshot: &Snapshot,
) -> Result<Vec<NodeScore>, Status> {
    if !framework.has_score_plugins() {
        return Ok(nodes
            .iter()
            .map(|info| NodeScore {
                name: info.node_name().to_string(),
                score: 1,
            })
            .collect());
    }
    let status = framework.run_pre_score_plugins(state, pod, nodes, snapshot);
    if !status.is_success() {
        return Err(status);
    }
    framework.run_score_plugins(state, pod, nodes)
}

/// Returns the node with the highest score, picking uniformly at random among ties
/// (reservoir sampling).
pub fn select_host(scores: &[NodeScore]) -> Option<String> {
    let mut rng = rand::rng();
    let mut best: Option<&NodeScore> = None;
    let mut ties = 0u32;
    for score in scores {
        match best {
            None => {
                best = Some(score);
                ties = 1;
            }
            Some(current) if score.score > current.score => {
                best = Some(score);
                ties = 1;
            }
            Some(current) if score.score == current.score => {
                ties += 1;
                if rng.random_range(0..ties) == 0 {
                    best = Some(score);
                }
            }
            Some(_) => {}
        }
    }
    best.map(|score| score.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::interface::Code;

    #[test]
    fn feasible_node_counts() {
        let cases = [
            (0, 10, 10),
            (0, 99, 99),
            (0, 1000, 420),
            (0, 5000, 500),
            (0, 6000, 300),
            (0, 200, 100),
            (30, 1000, 300),
            (100, 1000, 1000),
            (10, 500, 100),
        ];
        for (percentage, nodes, expected) in cases {
            assert_eq!(
                num_feasible_nodes_to_find(percentage, nodes),
                expected,
                "{percentage}% of {nodes}"
            );
        }
    }

    #[test]
    fn fit_error_message_aggregates_reasons() {
        let mut statuses = HashMap::new();
        statuses.insert(
            "a".to_string(),
            Status::new(Code::Unschedulable, ["Insufficient cpu"]),
        );
        statuses.insert(
            "b".to_string(),
            Status::new(
                Code::Unschedulable,
                ["Insufficient cpu", "Insufficient memory"],
            ),
        );
        statuses.insert(
            "c".to_string(),
            Status::unresolvable("node(s) had taints that the pod didn't tolerate"),
        );
        let error = FitError {
            num_all_nodes: 3,
            statuses: statuses.clone(),
            pre_filter_message: None,
        };
        assert_eq!(
            error.to_string(),
            "0/3 nodes are available: 1 Insufficient memory, 1 node(s) had taints that the pod didn't tolerate, 2 Insufficient cpu."
        );
        let error = FitError {
            num_all_nodes: 3,
            statuses,
            pre_filter_message: Some("pod has unbound immediate PersistentVolumeClaims".into()),
        };
        assert_eq!(
            error.to_string(),
            "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims."
        );
    }

    #[test]
    fn select_host_spreads_ties() {
        let scores = vec![
            NodeScore {
                name: "a".into(),
                score: 10,
            },
            NodeScore {
                name: "b".into(),
                score: 30,
            },
            NodeScore {
                name: "c".into(),
                score: 30,
            },
        ];
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            seen.insert(select_host(&scores).expect("host"));
        }
        assert_eq!(seen.len(), 2);
        assert!(!seen.contains("a"));
        assert_eq!(select_host(&[]), None);
    }
}
