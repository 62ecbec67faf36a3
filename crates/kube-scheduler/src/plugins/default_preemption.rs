//! DefaultPreemption: the PostFilter that makes room for a pod that fits nowhere by
//! evicting lower-priority pods.
//!
//! For nodes whose filter failure preemption can resolve, the dry run removes all
//! lower-priority pods and checks that the pod then fits. As upstream's plugin does
//! with its `DefaultPreemptionArgs`, it starts at a random node and stops once it has
//! found `minCandidateNodesPercentage` percent of the nodes (at least
//! `minCandidateNodesAbsolute`) as candidates, one of them without PDB violations. It adds pods back in order of
//! importance (PDB-protected first) while the pod still fits, and the rest are the
//! victims. The node with the fewest PDB violations, then the lowest highest victim priority, the
//! lowest priority sum, the fewest victims and the latest start time wins. The pod is
//! nominated to it and the victims are deleted.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use apimachinery::labels::label_selector_as_selector;
use async_trait::async_trait;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use rand::Rng;
use serde::Deserialize;

use crate::cache::Snapshot;
use crate::framework::handle::Handle;
use crate::framework::interface::{
    Code, CycleState, Plugin, PostFilterPlugin, PostFilterResult, Status,
};
use crate::framework::parallelize::parallelize;
use crate::framework::runtime::Framework;
use crate::framework::types::{
    NodeInfo, PodInfo, is_terminating, pod_key, pod_labels, pod_namespace, pod_priority,
};

/// The plugin name.
pub const NAME: &str = "DefaultPreemption";

/// The victims chosen on one node.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The node.
    pub node_name: String,
    /// The pods to evict, most important first.
    pub victims: Vec<Arc<Pod>>,
    /// How many victims are protected by a PodDisruptionBudget.
    pub num_pdb_violations: usize,
}

/// The `DefaultPreemptionArgs` of `pluginConfig`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// The share of the nodes, in percent, that the dry run finds as candidates
    /// before it stops (10 by default).
    #[serde(default = "default_percentage")]
    pub min_candidate_nodes_percentage: i32,
    /// The minimum number of candidates the dry run finds before it stops (100 by
    /// default).
    #[serde(default = "default_absolute")]
    pub min_candidate_nodes_absolute: i32,
}

fn default_percentage() -> i32 {
    10
}

fn default_absolute() -> i32 {
    100
}

impl Default for Args {
    fn default() -> Self {
        Args {
            min_candidate_nodes_percentage: default_percentage(),
            min_candidate_nodes_absolute: default_absolute(),
        }
    }
}

/// Parses and validates `DefaultPreemptionArgs`; `null` gives the defaults.
///
/// # Errors
///
/// Arguments that do not decode, a percentage outside 0..=100, a negative absolute
/// number, or both zero, with upstream's messages.
pub fn parse_args(args: &serde_json::Value) -> Result<Args, String> {
    let args: Args = if args.is_null() {
        Args::default()
    } else {
        serde_json::from_value(args.clone())
            .map_err(|error| format!("DefaultPreemptionArgs: {error}"))?
    };
    let percentage = args.min_candidate_nodes_percentage;
    let absolute = args.min_candidate_nodes_absolute;
    let mut errors = Vec::new();
    if !(0..=100).contains(&percentage) {
        errors.push(format!(
            "minCandidateNodesPercentage: Invalid value: {percentage}: not in valid range [0, 100]"
        ));
    }
    if absolute < 0 {
        errors.push(format!(
            "minCandidateNodesAbsolute: Invalid value: {absolute}: not in valid range [0, inf)"
        ));
    }
    if percentage == 0 && absolute == 0 {
        errors.push(
            "minCandidateNodesPercentage: Invalid value: 0: cannot be zero at the same time as minCandidateNodesAbsolute"
                .to_string(),
        );
        errors.push(
            "minCandidateNodesAbsolute: Invalid value: 0: cannot be zero at the same time as minCandidateNodesPercentage"
                .to_string(),
        );
    }
    if errors.is_empty() {
        Ok(args)
    } else {
        Err(format!("[{}]", errors.join(", ")))
    }
}

/// The DefaultPreemption plugin.
pub struct DefaultPreemption {
    handle: Handle,
    args: Args,
}

impl DefaultPreemption {
    /// Builds the plugin.
    pub fn new(args: Args, handle: Handle) -> DefaultPreemption {
        DefaultPreemption { handle, args }
    }

    /// Returns how many candidates the dry run looks for among `nodes` nodes.
    fn num_candidates(&self, nodes: usize) -> usize {
        let percentage = usize::try_from(self.args.min_candidate_nodes_percentage).unwrap_or(0);
        let absolute = usize::try_from(self.args.min_candidate_nodes_absolute).unwrap_or(0);
        (nodes * percentage / 100).max(absolute).min(nodes)
    }

    /// Returns why the pod may not preempt, if so.
    fn ineligible_reason(&self, pod: &Pod, snapshot: &Snapshot) -> Option<String> {
        let policy = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.preemption_policy.as_deref());
        if policy == Some("Never") {
            return Some("not eligible due to preemptionPolicy=Never.".to_string());
        }
        let nominated = pod
            .status
            .as_ref()
            .and_then(|status| status.nominated_node_name.as_deref())
            .filter(|name| !name.is_empty())?;
        let info = snapshot.get(nominated)?;
        let priority = pod_priority(pod);
        let terminating_lower = info.pods.iter().any(|existing| {
            is_terminating(&existing.pod) && pod_priority(&existing.pod) < priority
        });
        terminating_lower
            .then(|| "not eligible due to a terminating pod on the nominated node.".to_string())
    }

    fn pdbs(&self) -> Vec<Arc<PodDisruptionBudget>> {
        self.handle
            .cluster
            .pdbs
            .read()
            .map(|pdbs| pdbs.values().cloned().collect())
            .unwrap_or_default()
    }
}

impl Plugin for DefaultPreemption {
    fn name(&self) -> &'static str {
        NAME
    }

    fn as_post_filter(&self) -> Option<&dyn PostFilterPlugin> {
        Some(self)
    }
}

/// Returns whether `a` is more important than `b`: higher priority, then earlier start.
fn more_important(a: &Pod, b: &Pod) -> Ordering {
    pod_priority(b)
        .cmp(&pod_priority(a))
        .then_with(|| start_time(a).cmp(&start_time(b)))
}

fn start_time(pod: &Pod) -> Option<Time> {
    pod.status
        .as_ref()
        .and_then(|status| status.start_time.clone())
        .or_else(|| pod.metadata.creation_timestamp.clone())
}

/// Splits pods into those whose eviction would violate a PodDisruptionBudget and the
/// rest, spending each budget's allowed disruptions in order.
pub fn split_by_pdb_violation(
    pods: &[Arc<Pod>],
    pdbs: &[Arc<PodDisruptionBudget>],
) -> (Vec<Arc<Pod>>, Vec<Arc<Pod>>) {
    let mut allowed: Vec<i32> = pdbs
        .iter()
        .map(|pdb| {
            pdb.status
                .as_ref()
                .map(|status| status.disruptions_allowed)
                .unwrap_or(0)
        })
        .collect();
    let mut violating = Vec::new();
    let mut non_violating = Vec::new();
    for pod in pods {
        let labels = pod_labels(pod);
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let mut violates = false;
        for (i, pdb) in pdbs.iter().enumerate() {
            if pdb.metadata.namespace.as_deref() != Some(pod_namespace(pod)) {
                continue;
            }
            let selector = pdb.spec.as_ref().and_then(|spec| spec.selector.as_ref());
            let Ok(selector) = label_selector_as_selector(selector) else {
                continue;
            };
            // An empty selector selects nothing for a PDB.
            if selector.is_empty() || !selector.matches(&labels) {
                continue;
            }
            let already_disrupted = pdb
                .status
                .as_ref()
                .and_then(|status| status.disrupted_pods.as_ref())
                .is_some_and(|disrupted| disrupted.contains_key(name));
            if already_disrupted {
                continue;
            }
            allowed[i] -= 1;
            if allowed[i] < 0 {
                violates = true;
            }
        }
        if violates {
            violating.push(pod.clone());
        } else {
            non_violating.push(pod.clone());
        }
    }
    (violating, non_violating)
}

/// Runs the dry run on one node. Returns `None` when removing every lower-priority pod
/// still does not make the pod fit.
pub fn select_victims_on_node(
    framework: &Framework,
    state: &CycleState,
    pod: &Pod,
    node_info: &NodeInfo,
    pdbs: &[Arc<PodDisruptionBudget>],
) -> Option<Candidate> {
    let mut state = state.clone();
    let mut info = node_info.clone();
    let priority = pod_priority(pod);

    let lower: Vec<&PodInfo> = node_info
        .pods
        .iter()
        .filter(|existing| pod_priority(&existing.pod) < priority)
        .collect();
    // The node's infos already carry each pod's parsed terms and requests, which
    // dry runs would otherwise compute again for every pod on every node.
    let info_of = |pod: &Arc<Pod>| -> PodInfo {
        lower
            .iter()
            .find(|existing| Arc::ptr_eq(&existing.pod, pod))
            .map(|existing| (*existing).clone())
            .unwrap_or_else(|| PodInfo::new(pod.clone()))
    };
    let mut potential: Vec<Arc<Pod>> = lower.iter().map(|existing| existing.pod.clone()).collect();
    for victim in &potential {
        info.remove_pod(victim);
        let victim_info = info_of(victim);
        if !framework
            .run_pre_filter_remove_pod(&mut state, pod, &victim_info, &info)
            .is_success()
        {
            return None;
        }
    }
    if !framework
        .run_filter_with_nominated_pods(&state, pod, &info)
        .is_success()
    {
        return None;
    }

    potential.sort_by(|a, b| more_important(a, b));
    let (violating, non_violating) = split_by_pdb_violation(&potential, pdbs);
    let mut victims = Vec::new();
    let mut num_pdb_violations = 0;
    let mut reprieve =
        |candidate: &Arc<Pod>, state: &mut CycleState, info: &mut NodeInfo| -> bool {
            let candidate_info = info_of(candidate);
            info.add_pod_info(candidate_info.clone());
            let added = framework.run_pre_filter_add_pod(state, pod, &candidate_info, info);
            let fits = added.is_success()
                && framework
                    .run_filter_with_nominated_pods(state, pod, info)
                    .is_success();
            if !fits {
                info.remove_pod(candidate);
                framework.run_pre_filter_remove_pod(state, pod, &candidate_info, info);
                victims.push(candidate.clone());
            }
            fits
        };
    for candidate in &violating {
        if !reprieve(candidate, &mut state, &mut info) {
            num_pdb_violations += 1;
        }
    }
    for candidate in &non_violating {
        reprieve(candidate, &mut state, &mut info);
    }
    victims.sort_by(|a, b| more_important(a, b));
    Some(Candidate {
        node_name: node_info.node_name().to_string(),
        victims,
        num_pdb_violations,
    })
}

/// Picks the candidate upstream would: fewest PDB violations, then lowest highest
/// victim priority, lowest priority sum, fewest victims, latest earliest start time of
/// the highest-priority victims, then the first.
pub fn pick_one_candidate(candidates: &[Candidate]) -> Option<&Candidate> {
    if let Some(empty) = candidates
        .iter()
        .find(|candidate| candidate.victims.is_empty())
    {
        return Some(empty);
    }
    let highest = |c: &Candidate| {
        c.victims
            .first()
            .map(|pod| pod_priority(pod))
            .unwrap_or(i32::MIN)
    };
    let sum = |c: &Candidate| {
        c.victims
            .iter()
            .map(|pod| i64::from(pod_priority(pod)) + i64::from(i32::MAX) + 1)
            .sum::<i64>()
    };
    let earliest_of_highest = |c: &Candidate| {
        let top = highest(c);
        c.victims
            .iter()
            .filter(|pod| pod_priority(pod) == top)
            .filter_map(|pod| start_time(pod))
            .min()
    };
    let mut best: Option<&Candidate> = None;
    for candidate in candidates {
        let Some(current) = best else {
            best = Some(candidate);
            continue;
        };
        let ordering = candidate
            .num_pdb_violations
            .cmp(&current.num_pdb_violations)
            .then_with(|| highest(candidate).cmp(&highest(current)))
            .then_with(|| sum(candidate).cmp(&sum(current)))
            .then_with(|| candidate.victims.len().cmp(&current.victims.len()))
            .then_with(|| earliest_of_highest(current).cmp(&earliest_of_highest(candidate)));
        if ordering == Ordering::Less {
            best = Some(candidate);
        }
    }
    best
}

#[async_trait]
impl PostFilterPlugin for DefaultPreemption {
    async fn post_filter(
        &self,
        state: &CycleState,
        pod: &Pod,
        statuses: &HashMap<String, Status>,
        snapshot: &Snapshot,
    ) -> (Option<PostFilterResult>, Status) {
        if let Some(reason) = self.ineligible_reason(pod, snapshot) {
            return (None, Status::unschedulable(reason));
        }
        let Some(framework) = self.handle.framework() else {
            return (None, Status::error("preemption: framework not initialized"));
        };

        let potential: Vec<&Arc<NodeInfo>> = snapshot
            .list()
            .iter()
            .filter(|info| {
                statuses
                    .get(info.node_name())
                    .is_none_or(|status| status.code == Code::Unschedulable)
            })
            .collect();
        if potential.is_empty() {
            return (
                None,
                Status::unschedulable(format!(
                    "preemption: 0/{} nodes are available: {} Preemption is not helpful for scheduling.",
                    snapshot.num_nodes(),
                    snapshot.num_nodes()
                )),
            );
        }

        let pdbs = self.pdbs();
        let target = self.num_candidates(potential.len());
        let offset = rand::rng().random_range(0..potential.len());
        let non_violating = AtomicUsize::new(0);
        let violating = AtomicUsize::new(0);
        let candidates: Vec<Candidate> = parallelize(
            framework.parallelism(),
            potential.len(),
            |i| {
                let info = potential[(offset + i) % potential.len()];
                let candidate = select_victims_on_node(&framework, state, pod, info, &pdbs)?;
                let counter = if candidate.num_pdb_violations == 0 {
                    &non_violating
                } else {
                    &violating
                };
                counter.fetch_add(1, AtomicOrdering::Relaxed);
                Some(candidate)
            },
            || {
                let found = non_violating.load(AtomicOrdering::Relaxed);
                found > 0 && found + violating.load(AtomicOrdering::Relaxed) >= target
            },
        )
        .into_iter()
        .map(|(_, candidate)| candidate)
        .collect();
        let Some(best) = pick_one_candidate(&candidates) else {
            return (
                None,
                Status::unschedulable(format!(
                    "preemption: 0/{} nodes are available: {} No preemption victims found for incoming pod.",
                    snapshot.num_nodes(),
                    potential.len()
                )),
            );
        };

        if let Err(status) = self.prepare_candidate(best, pod).await {
            return (None, status);
        }
        (
            Some(PostFilterResult {
                nominated_node_name: best.node_name.clone(),
            }),
            Status::success(),
        )
    }
}

impl DefaultPreemption {
    /// Evicts the victims and clears the nominations of lower-priority pods on the node.
    /// The victims are deleted concurrently.
    async fn prepare_candidate(&self, candidate: &Candidate, pod: &Pod) -> Result<(), Status> {
        let mut deletions = tokio::task::JoinSet::new();
        for victim in &candidate.victims {
            if self
                .handle
                .waiting_pods
                .reject(&pod_key(victim), NAME, "preempted")
            {
                continue;
            }
            let client = self.handle.client.clone();
            let victim = victim.clone();
            deletions.spawn(async move {
                let result = client.delete_pod(&victim).await;
                (victim, result)
            });
        }
        let mut failure = None;
        while let Some(joined) = deletions.join_next().await {
            let (victim, result) = match joined {
                Ok(done) => done,
                Err(error) => {
                    tracing::error!(pod = %pod_key(pod), %error, "victim deletion task failed");
                    failure.get_or_insert_with(|| Status::error(error.to_string()));
                    continue;
                }
            };
            match result {
                Ok(()) => {}
                Err(error) if error.not_found => continue,
                Err(error) => {
                    tracing::error!(pod = %pod_key(pod), victim = %pod_key(&victim), %error, "failed to preempt pod");
                    failure.get_or_insert_with(|| Status::error(error.to_string()));
                    continue;
                }
            }
            tracing::info!(pod = %pod_key(pod), victim = %pod_key(&victim), node = %candidate.node_name, "preempted pod");
            self.handle.client.record_event(
                &victim,
                "Normal",
                "Preempted",
                format!(
                    "Preempted by pod {} on node {}",
                    pod.metadata.uid.as_deref().unwrap_or_else(|| pod
                        .metadata
                        .name
                        .as_deref()
                        .unwrap_or_default()),
                    candidate.node_name
                ),
            );
        }
        if let Some(status) = failure {
            return Err(status);
        }
        let lower = self
            .handle
            .nominator
            .lower_priority_nominated(&candidate.node_name, pod_priority(pod));
        for nominated in lower {
            if let Err(error) = self
                .handle
                .client
                .update_pod_status(&nominated, None, Some(""))
                .await
            {
                tracing::warn!(pod = %pod_key(&nominated), %error, "failed to clear nominatedNodeName");
            }
            self.handle.nominator.delete(&nominated);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::named_pod;
    use serde_json::json;

    #[test]
    fn args_default_and_validate() {
        assert_eq!(parse_args(&serde_json::Value::Null), Ok(Args::default()));
        assert_eq!(
            parse_args(&json!({"minCandidateNodesPercentage": 20})),
            Ok(Args {
                min_candidate_nodes_percentage: 20,
                min_candidate_nodes_absolute: 100,
            })
        );
        assert_eq!(
            parse_args(
                &json!({"minCandidateNodesPercentage": 101, "minCandidateNodesAbsolute": -1})
            ),
            Err(
                "[minCandidateNodesPercentage: Invalid value: 101: not in valid range [0, 100], \
                 minCandidateNodesAbsolute: Invalid value: -1: not in valid range [0, inf)]"
                    .to_string()
            )
        );
        let both_zero =
            parse_args(&json!({"minCandidateNodesPercentage": 0, "minCandidateNodesAbsolute": 0}))
                .expect_err("both zero");
        assert!(both_zero.contains("cannot be zero at the same time as minCandidateNodesAbsolute"));
        assert!(parse_args(&json!({"minCandidateNodesPercentage": "ten"})).is_err());
    }

    #[test]
    fn num_candidates_bounds() {
        let handle = crate::plugins::testing::handle_with(
            Arc::default(),
            Arc::new(crate::plugins::testing::RecordingClient::default()),
        );
        let plugin = DefaultPreemption::new(Args::default(), handle.clone());
        assert_eq!(plugin.num_candidates(5000), 500);
        assert_eq!(plugin.num_candidates(1000), 100);
        assert_eq!(plugin.num_candidates(50), 50);
        let narrow = DefaultPreemption::new(
            Args {
                min_candidate_nodes_percentage: 0,
                min_candidate_nodes_absolute: 10,
            },
            handle,
        );
        assert_eq!(narrow.num_candidates(5000), 10);
    }

    fn prioritized(name: &str, priority: i32, start: &str) -> Arc<Pod> {
        let mut pod = named_pod(
            name,
            json!({"labels": {"app": "a"}}),
            json!({"priority": priority}),
        );
        pod.status = Some(serde_json::from_value(json!({"startTime": start})).expect("status"));
        Arc::new(pod)
    }

    fn candidate(node: &str, victims: Vec<Arc<Pod>>, violations: usize) -> Candidate {
        Candidate {
            node_name: node.to_string(),
            victims,
            num_pdb_violations: violations,
        }
    }

    #[test]
    fn pick_prefers_fewer_violations_then_lower_priority() {
        let t = "2024-01-01T00:00:00Z";
        let candidates = [
            candidate("a", vec![prioritized("a1", 10, t)], 1),
            candidate("b", vec![prioritized("b1", 50, t)], 0),
            candidate("c", vec![prioritized("c1", 20, t)], 0),
        ];
        assert_eq!(
            pick_one_candidate(&candidates).expect("pick").node_name,
            "c"
        );
    }

    #[test]
    fn pick_breaks_ties_by_count_and_start_time() {
        let early = "2024-01-01T00:00:00Z";
        let late = "2024-06-01T00:00:00Z";
        let candidates = [
            candidate(
                "a",
                vec![prioritized("a1", 10, early), prioritized("a2", 10, early)],
                0,
            ),
            candidate("b", vec![prioritized("b1", 10, early)], 0),
            candidate("c", vec![prioritized("c1", 10, late)], 0),
        ];
        assert_eq!(
            pick_one_candidate(&candidates).expect("pick").node_name,
            "c"
        );
    }

    #[test]
    fn pdb_budget_is_spent_in_order() {
        let pdb: PodDisruptionBudget = serde_json::from_value(json!({
            "metadata": {"name": "pdb", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "a"}}},
            "status": {"disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1, "expectedPods": 2}
        }))
        .expect("pdb");
        let t = "2024-01-01T00:00:00Z";
        let pods = [prioritized("x", 1, t), prioritized("y", 1, t)];
        let (violating, non_violating) = split_by_pdb_violation(&pods, &[Arc::new(pdb)]);
        assert_eq!(violating.len(), 1);
        assert_eq!(non_violating.len(), 1);
        assert_eq!(non_violating[0].metadata.name.as_deref(), Some("x"));
    }
}
