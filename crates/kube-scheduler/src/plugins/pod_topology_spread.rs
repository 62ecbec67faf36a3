//! PodTopologySpread: keeps matching pods spread across topology domains.
//!
//! Filter enforces the `DoNotSchedule` constraints: placing the pod in a domain may not
//! raise that domain's matching-pod count more than `maxSkew` above the least loaded
//! domain. Score favors nodes whose domains hold fewer matching pods under the
//! `ScheduleAnyway` constraints. Pods without constraints get the default constraints,
//! with a selector built from the Services, ReplicationControllers, ReplicaSets and
//! StatefulSets that select them.
//!
//! A constraint counts the nodes its `nodeAffinityPolicy` and `nodeTaintsPolicy`
//! include, adds the pod's values of its `matchLabelKeys` to its selector, and with
//! fewer eligible domains than `minDomains` treats the global minimum as 0.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use apimachinery::labels::{Selector, label_selector_as_selector};
use k8s_openapi::api::core::v1::{Node, Pod, TopologySpreadConstraint};
use serde::Deserialize;

use super::helper::{
    default_selector, node_taints, pod_matches_node_selector_and_affinity, pod_tolerations,
    tolerations_tolerate,
};
use crate::cache::{Snapshot, SnapshotUpdate};
use crate::framework::handle::ClusterState;
use crate::framework::interface::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, NodeScore, Plugin, PreFilterPlugin, PreScorePlugin,
    ScorePlugin, Status,
};
use crate::framework::types::{NodeInfo, PodInfo, is_terminating, pod_namespace};

/// The plugin name.
pub const NAME: &str = "PodTopologySpread";
/// Failure reason: the skew would exceed `maxSkew`.
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints";
/// Failure reason: the node lacks a constraint's topology label.
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
const PRE_FILTER_KEY: &str = "PreFilterPodTopologySpread";
const PRE_SCORE_KEY: &str = "PreScorePodTopologySpread";

/// A default constraint of `PodTopologySpreadArgs`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DefaultConstraint {
    /// The allowed skew.
    pub max_skew: i32,
    /// The node label of the domains.
    pub topology_key: String,
    /// `DoNotSchedule` or `ScheduleAnyway`.
    pub when_unsatisfiable: String,
}

/// The `PodTopologySpreadArgs` of `pluginConfig`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// Constraints for pods that define none (used with `defaultingType: List`).
    #[serde(default)]
    pub default_constraints: Vec<DefaultConstraint>,
    /// `System` (the built-in defaults) or `List` (`defaultConstraints`).
    #[serde(default = "default_defaulting_type")]
    pub defaulting_type: String,
}

fn default_defaulting_type() -> String {
    "System".to_string()
}

impl Default for Args {
    fn default() -> Self {
        Args {
            default_constraints: Vec::new(),
            defaulting_type: default_defaulting_type(),
        }
    }
}

/// Returns the built-in defaults: zones with skew 5 and hosts with skew 3, both soft.
fn system_default_constraints() -> Vec<DefaultConstraint> {
    vec![
        DefaultConstraint {
            max_skew: 3,
            topology_key: "kubernetes.io/hostname".to_string(),
            when_unsatisfiable: "ScheduleAnyway".to_string(),
        },
        DefaultConstraint {
            max_skew: 5,
            topology_key: "topology.kubernetes.io/zone".to_string(),
            when_unsatisfiable: "ScheduleAnyway".to_string(),
        },
    ]
}

/// A constraint with its selector parsed and its node inclusion policies resolved.
#[derive(Clone, Debug)]
struct Constraint {
    max_skew: i64,
    topology_key: String,
    /// The `labelSelector`, with `matchLabelKeys` merged in from the pod's labels.
    selector: Selector,
    /// Below this many eligible domains the global minimum counts as 0 (`minDomains`,
    /// 1 when unset).
    min_domains: i64,
    /// Whether nodes the pod's node affinity and selector exclude are left out
    /// (`nodeAffinityPolicy: Honor`, the default).
    honor_node_affinity: bool,
    /// Whether nodes with taints the pod does not tolerate are left out
    /// (`nodeTaintsPolicy: Honor`; `Ignore` is the default).
    honor_node_taints: bool,
}

impl Constraint {
    /// Returns whether the node counts for this constraint (upstream
    /// `matchNodeInclusionPolicies`). Only `NoSchedule` and `NoExecute` taints matter.
    fn includes(&self, pod: &Pod, node: &Node) -> bool {
        if self.honor_node_affinity && !pod_matches_node_selector_and_affinity(pod, node) {
            return false;
        }
        if self.honor_node_taints {
            let tolerations = pod_tolerations(pod);
            let untolerated = node_taints(node).iter().any(|taint| {
                (taint.effect == "NoSchedule" || taint.effect == "NoExecute")
                    && !tolerations_tolerate(tolerations, taint)
            });
            if untolerated {
                return false;
            }
        }
        true
    }
}

/// The smallest matching-pod count among a constraint's domains, and how many domains
/// there are (upstream's critical paths and `TpKeyToDomainsNum`).
#[derive(Clone, Copy, Debug, Default)]
struct DomainMinimum {
    min: i64,
    domains: i64,
}

#[derive(Clone)]
struct PreFilterState {
    constraints: Vec<Constraint>,
    /// Per constraint, matching pods per domain (the topology label value), over the
    /// nodes the constraint includes that carry every constraint key.
    counts: Vec<HashMap<String, i64>>,
    /// Per constraint, its domains' minimum.
    minimums: Vec<DomainMinimum>,
}

impl PreFilterState {
    fn recompute_minimum(&mut self, index: usize) {
        let counts = &self.counts[index];
        self.minimums[index] = DomainMinimum {
            min: counts.values().copied().min().unwrap_or(0),
            domains: counts.len() as i64,
        };
    }

    /// Returns the global minimum of a constraint, 0 while fewer domains than
    /// `minDomains` exist.
    fn global_minimum(&self, index: usize) -> i64 {
        let minimum = self.minimums[index];
        if minimum.domains < self.constraints[index].min_domains {
            0
        } else {
            minimum.min
        }
    }

    fn update_with_pod(
        &mut self,
        incoming: &Pod,
        existing: &Pod,
        node_info: &NodeInfo,
        delta: i64,
    ) {
        let Some(node) = node_info.node.as_ref() else {
            return;
        };
        if pod_namespace(existing) != pod_namespace(incoming)
            || !node_has_all_keys(node_info, &self.constraints)
        {
            return;
        }
        for index in 0..self.constraints.len() {
            let constraint = &self.constraints[index];
            if !constraint.selector.matches(&existing.metadata.labels)
                || !constraint.includes(incoming, node)
            {
                continue;
            }
            if let Some(value) = node_label(node_info, &constraint.topology_key) {
                *self.counts[index].entry(value.clone()).or_default() += delta;
                self.recompute_minimum(index);
            }
        }
    }
}

#[derive(Clone)]
struct PreScoreState {
    constraints: Vec<Constraint>,
    ignored_nodes: HashSet<String>,
    /// Per constraint, matching pods per domain.
    counts: Vec<HashMap<String, i64>>,
}

/// Counts the pods on a node that a constraint selects: in the namespace, not being
/// deleted, with matching labels.
fn count_matching(node_info: &NodeInfo, selector: &Selector, namespace: &str) -> i64 {
    node_info
        .pods
        .iter()
        .filter(|existing| {
            !is_terminating(&existing.pod)
                && pod_namespace(&existing.pod) == namespace
                && selector.matches(&existing.pod.metadata.labels)
        })
        .count() as i64
}

/// The PodTopologySpread plugin.
pub struct PodTopologySpread {
    default_constraints: Vec<DefaultConstraint>,
    cluster: Arc<ClusterState>,
    /// PreFilter's counts of the last few constraint sets, most recent last.
    recent_counts: Mutex<Vec<DomainCounts>>,
}

/// How many constraint sets keep their counts from one cycle to the next.
const RECENT_COUNTS: usize = 4;

/// PreFilter's matching-pod counts for one constraint set, kept from cycle to cycle.
/// Pods of one workload share their constraints, and between two cycles only the
/// nodes in the snapshot update change. With thousands of nodes, walking every
/// node's pods took most of a cycle.
///
/// NOTE: only counts of the snapshot's previous generation are brought up to date.
/// When cycles of pods with other constraints ran in between, the walk starts over.
struct DomainCounts {
    /// Identifies the constraint set: the namespace, the constraints, and the parts
    /// of the pod their node inclusion policies read.
    signature: String,
    snapshot_id: u64,
    generation: i64,
    /// Per node that counts for some constraint, per constraint, the node's domain
    /// and its matching pods.
    per_node: HashMap<String, Vec<Option<(String, i64)>>>,
    /// Per constraint and domain: the matching pods and the nodes that count.
    domains: Vec<HashMap<String, (i64, i64)>>,
}

impl DomainCounts {
    fn add_node(&mut self, name: &str, contribution: Vec<Option<(String, i64)>>, sign: i64) {
        for (index, entry) in contribution.iter().enumerate() {
            let Some((value, pods)) = entry else {
                continue;
            };
            let domains = &mut self.domains[index];
            let domain = match domains.get_mut(value.as_str()) {
                Some(domain) => domain,
                None => domains.entry(value.clone()).or_default(),
            };
            domain.0 += sign * pods;
            domain.1 += sign;
            if domain.1 <= 0 {
                domains.remove(value.as_str());
            }
        }
        if sign > 0 {
            self.per_node.insert(name.to_string(), contribution);
        }
    }

    /// Returns the matching pods per domain of each constraint.
    fn counts(&self) -> Vec<HashMap<String, i64>> {
        self.domains
            .iter()
            .map(|domains| {
                domains
                    .iter()
                    .map(|(value, (pods, _))| (value.clone(), *pods))
                    .collect()
            })
            .collect()
    }
}

/// Returns what `node_info` adds to each constraint's counts: its domain and matching
/// pods, or `None` for a constraint that does not count the node. A node without
/// every topology key counts for none.
fn node_contribution(
    constraints: &[Constraint],
    pod: &Pod,
    namespace: &str,
    node_info: &NodeInfo,
) -> Option<Vec<Option<(String, i64)>>> {
    let node = node_info.node.as_ref()?;
    if !node_has_all_keys(node_info, constraints) {
        return None;
    }
    let contribution: Vec<Option<(String, i64)>> = constraints
        .iter()
        .map(|constraint| {
            if !constraint.includes(pod, node) {
                return None;
            }
            let value = node_label(node_info, &constraint.topology_key)?;
            let pods = count_matching(node_info, &constraint.selector, namespace);
            Some((value.clone(), pods))
        })
        .collect();
    contribution
        .iter()
        .any(Option::is_some)
        .then_some(contribution)
}

/// Returns the key of a constraint set for [`DomainCounts`].
fn constraints_signature(constraints: &[Constraint], pod: &Pod) -> String {
    let spec = pod.spec.as_ref();
    let mut signature = format!("{}\n{constraints:?}", pod_namespace(pod));
    if constraints
        .iter()
        .any(|constraint| constraint.honor_node_affinity)
    {
        let node_selector = spec.and_then(|spec| spec.node_selector.as_ref());
        let node_affinity = spec
            .and_then(|spec| spec.affinity.as_ref())
            .and_then(|affinity| affinity.node_affinity.as_ref());
        signature.push_str(&format!("\n{node_selector:?}\n{node_affinity:?}"));
    }
    if constraints
        .iter()
        .any(|constraint| constraint.honor_node_taints)
    {
        signature.push_str(&format!("\n{:?}", pod_tolerations(pod)));
    }
    signature
}

impl PodTopologySpread {
    /// Builds the plugin.
    ///
    /// # Errors
    ///
    /// An unknown defaulting type, or default constraints with `System`.
    pub fn new(args: Args, cluster: Arc<ClusterState>) -> Result<PodTopologySpread, String> {
        let default_constraints = match args.defaulting_type.as_str() {
            "System" if args.default_constraints.is_empty() => system_default_constraints(),
            "System" => {
                return Err(
                    "defaultConstraints: Invalid value: when .defaultingType is \"System\""
                        .to_string(),
                );
            }
            "List" => args.default_constraints,
            other => {
                return Err(format!(
                    "defaultingType: Unsupported value: {other:?}: supported values: \"List\", \"System\""
                ));
            }
        };
        for constraint in &default_constraints {
            if constraint.max_skew <= 0 {
                return Err(format!(
                    "defaultConstraints.maxSkew: Invalid value: {}: must be greater than zero",
                    constraint.max_skew
                ));
            }
        }
        Ok(PodTopologySpread {
            default_constraints,
            cluster,
            recent_counts: Mutex::new(Vec::new()),
        })
    }

    /// Returns the matching pods per domain of each constraint over the snapshot's
    /// nodes. Counts kept from an earlier cycle are brought up to date when the
    /// snapshot's last update lists the nodes it changed since then.
    fn domain_counts(
        &self,
        constraints: &[Constraint],
        pod: &Pod,
        snapshot: &Snapshot,
    ) -> Vec<HashMap<String, i64>> {
        let namespace = pod_namespace(pod);
        let signature = constraints_signature(constraints, pod);
        let mut recent = self.recent_counts.lock().unwrap_or_else(|e| e.into_inner());
        let update: &SnapshotUpdate = snapshot.last_update();
        let cached = recent
            .iter()
            .position(|entry| entry.signature == signature)
            .map(|position| recent.remove(position));
        let entry = match cached {
            Some(entry)
                if entry.snapshot_id == update.snapshot_id && entry.generation == update.to =>
            {
                entry
            }
            Some(mut entry)
                if entry.snapshot_id == update.snapshot_id
                    && entry.generation == update.from
                    && update.changed.is_some() =>
            {
                for name in update.changed.iter().flatten() {
                    if let Some(old) = entry.per_node.remove(name) {
                        entry.add_node(name, old, -1);
                    }
                    if let Some(contribution) = snapshot
                        .get(name)
                        .and_then(|info| node_contribution(constraints, pod, namespace, info))
                    {
                        entry.add_node(name, contribution, 1);
                    }
                }
                entry.generation = update.to;
                entry
            }
            _ => {
                let mut entry = DomainCounts {
                    signature,
                    snapshot_id: update.snapshot_id,
                    generation: update.to,
                    per_node: HashMap::new(),
                    domains: vec![HashMap::new(); constraints.len()],
                };
                for node_info in snapshot.list() {
                    if let Some(contribution) =
                        node_contribution(constraints, pod, namespace, node_info)
                    {
                        entry.add_node(node_info.node_name(), contribution, 1);
                    }
                }
                entry
            }
        };
        let counts = entry.counts();
        if recent.len() >= RECENT_COUNTS {
            recent.remove(0);
        }
        recent.push(entry);
        counts
    }

    /// Returns the pod's constraints with `when_unsatisfiable` as given, or the default
    /// constraints when the pod defines none.
    fn constraints(&self, pod: &Pod, when_unsatisfiable: &str) -> Result<Vec<Constraint>, String> {
        let own = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.topology_spread_constraints.as_deref())
            .unwrap_or_default();
        if !own.is_empty() {
            return own
                .iter()
                .filter(|constraint| constraint.when_unsatisfiable == when_unsatisfiable)
                .map(|constraint| parse_constraint(constraint, pod))
                .collect();
        }
        let defaults: Vec<&DefaultConstraint> = self
            .default_constraints
            .iter()
            .filter(|constraint| constraint.when_unsatisfiable == when_unsatisfiable)
            .collect();
        if defaults.is_empty() {
            return Ok(Vec::new());
        }
        let Some(selector) = default_selector(&self.cluster, pod) else {
            return Ok(Vec::new());
        };
        Ok(defaults
            .into_iter()
            .map(|constraint| Constraint {
                max_skew: i64::from(constraint.max_skew),
                topology_key: constraint.topology_key.clone(),
                selector: selector.clone(),
                min_domains: 1,
                honor_node_affinity: true,
                honor_node_taints: false,
            })
            .collect())
    }
}

/// Parses a pod's constraint. The values of the pod's labels named by
/// `matchLabelKeys` are added to the selector, so that only pods of the same revision,
/// for example, count.
fn parse_constraint(
    constraint: &TopologySpreadConstraint,
    pod: &Pod,
) -> Result<Constraint, String> {
    let mut selector = label_selector_as_selector(constraint.label_selector.as_ref())
        .map_err(|error| format!("invalid topology spread constraint selector: {error}"))?;
    let keys = constraint.match_label_keys.as_deref().unwrap_or_default();
    if !keys.is_empty()
        && let Some(labels) = pod.metadata.labels.as_ref()
    {
        let matched: BTreeMap<String, String> = keys
            .iter()
            .filter_map(|key| labels.get(key).map(|value| (key.clone(), value.clone())))
            .collect();
        if !matched.is_empty() {
            let requirements = Selector::from_set(&matched)
                .requirements()
                .unwrap_or_default()
                .to_vec();
            selector = selector.add_requirements(requirements);
        }
    }
    let policy = |value: Option<&String>, default: &str| {
        value.map(String::as_str).unwrap_or(default) == "Honor"
    };
    Ok(Constraint {
        max_skew: i64::from(constraint.max_skew),
        topology_key: constraint.topology_key.clone(),
        selector,
        min_domains: constraint.min_domains.map(i64::from).unwrap_or(1),
        honor_node_affinity: policy(constraint.node_affinity_policy.as_ref(), "Honor"),
        honor_node_taints: policy(constraint.node_taints_policy.as_ref(), "Ignore"),
    })
}

fn node_label<'a>(node_info: &'a NodeInfo, key: &str) -> Option<&'a String> {
    node_info.node_labels().and_then(|labels| labels.get(key))
}

fn node_has_all_keys(node_info: &NodeInfo, constraints: &[Constraint]) -> bool {
    constraints
        .iter()
        .all(|constraint| node_label(node_info, &constraint.topology_key).is_some())
}

impl Plugin for PodTopologySpread {
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

impl PreFilterPlugin for PodTopologySpread {
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, snapshot: &Snapshot) -> Status {
        let constraints = match self.constraints(pod, "DoNotSchedule") {
            Ok(constraints) => constraints,
            Err(error) => return Status::unresolvable(error),
        };
        let counts = if constraints.is_empty() {
            Vec::new()
        } else {
            self.domain_counts(&constraints, pod, snapshot)
        };
        let mut pre = PreFilterState {
            minimums: vec![DomainMinimum::default(); constraints.len()],
            constraints,
            counts,
        };
        for index in 0..pre.constraints.len() {
            pre.recompute_minimum(index);
        }
        state.write(PRE_FILTER_KEY, pre);
        Status::success()
    }

    fn add_pod(
        &self,
        state: &mut CycleState,
        pod_to_schedule: &Pod,
        pod_to_add: &PodInfo,
        node_info: &NodeInfo,
    ) -> Status {
        match state.read_mut::<PreFilterState>(PRE_FILTER_KEY) {
            Some(pre) => {
                pre.update_with_pod(pod_to_schedule, &pod_to_add.pod, node_info, 1);
                Status::success()
            }
            None => Status::error("PodTopologySpread prefilter state not found"),
        }
    }

    fn remove_pod(
        &self,
        state: &mut CycleState,
        pod_to_schedule: &Pod,
        pod_to_remove: &PodInfo,
        node_info: &NodeInfo,
    ) -> Status {
        match state.read_mut::<PreFilterState>(PRE_FILTER_KEY) {
            Some(pre) => {
                pre.update_with_pod(pod_to_schedule, &pod_to_remove.pod, node_info, -1);
                Status::success()
            }
            None => Status::error("PodTopologySpread prefilter state not found"),
        }
    }
}

impl FilterPlugin for PodTopologySpread {
    fn filter(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
        let Some(pre) = state.read::<PreFilterState>(PRE_FILTER_KEY) else {
            return Status::error("PodTopologySpread prefilter state not found");
        };
        for (index, constraint) in pre.constraints.iter().enumerate() {
            let Some(value) = node_label(node_info, &constraint.topology_key) else {
                return Status::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
            };
            let self_match = i64::from(constraint.selector.matches(&pod.metadata.labels));
            let count = pre.counts[index].get(value).copied().unwrap_or(0);
            let skew = count + self_match - pre.global_minimum(index);
            if skew > constraint.max_skew {
                return Status::unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
            }
        }
        Status::success()
    }
}

impl PreScorePlugin for PodTopologySpread {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status {
        let constraints = match self.constraints(pod, "ScheduleAnyway") {
            Ok(constraints) => constraints,
            Err(error) => return Status::error(error),
        };
        let mut ignored_nodes = HashSet::new();
        let mut counts: Vec<HashMap<String, i64>> = vec![HashMap::new(); constraints.len()];
        if !constraints.is_empty() {
            // The domains of the feasible nodes are scored.
            for node_info in nodes {
                if !node_has_all_keys(node_info, &constraints) {
                    ignored_nodes.insert(node_info.node_name().to_string());
                    continue;
                }
                for (index, constraint) in constraints.iter().enumerate() {
                    if let Some(value) = node_label(node_info, &constraint.topology_key)
                        && !counts[index].contains_key(value.as_str())
                    {
                        counts[index].insert(value.clone(), 0);
                    }
                }
            }
            // Their matching pods are counted over every node the constraint includes.
            let namespace = pod_namespace(pod);
            for node_info in snapshot.list() {
                let Some(node) = node_info.node.as_ref() else {
                    continue;
                };
                if !node_has_all_keys(node_info, &constraints) {
                    continue;
                }
                for (index, constraint) in constraints.iter().enumerate() {
                    if !constraint.includes(pod, node) {
                        continue;
                    }
                    let Some(value) = node_label(node_info, &constraint.topology_key) else {
                        continue;
                    };
                    if let Some(count) = counts[index].get_mut(value) {
                        *count += count_matching(node_info, &constraint.selector, namespace);
                    }
                }
            }
        }
        state.write(
            PRE_SCORE_KEY,
            PreScoreState {
                constraints,
                ignored_nodes,
                counts,
            },
        );
        Status::success()
    }
}

impl ScorePlugin for PodTopologySpread {
    // NOTE: this is the Kubernetes 1.18 scoring, which sums matching pods over domains
    // and flips the result. Later versions weight each constraint by the log of its
    // domain count.
    fn score(&self, state: &CycleState, _pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status> {
        let Some(pre) = state.read::<PreScoreState>(PRE_SCORE_KEY) else {
            return Err(Status::error("PodTopologySpread prescore state not found"));
        };
        if pre.constraints.is_empty() || pre.ignored_nodes.contains(node_info.node_name()) {
            return Ok(0);
        }
        let mut score = 0;
        for (index, constraint) in pre.constraints.iter().enumerate() {
            if let Some(value) = node_label(node_info, &constraint.topology_key) {
                score += pre.counts[index].get(value).copied().unwrap_or(0);
            }
        }
        Ok(score)
    }

    fn normalize_score(&self, state: &CycleState, _pod: &Pod, scores: &mut [NodeScore]) -> Status {
        let Some(pre) = state.read::<PreScoreState>(PRE_SCORE_KEY) else {
            return Status::error("PodTopologySpread prescore state not found");
        };
        if pre.constraints.is_empty() {
            return Status::success();
        }
        let mut total = 0;
        let mut min = i64::MAX;
        for score in scores.iter() {
            if pre.ignored_nodes.contains(&score.name) {
                continue;
            }
            total += score.score;
            min = min.min(score.score);
        }
        let diff = total - min;
        for score in scores.iter_mut() {
            if pre.ignored_nodes.contains(&score.name) {
                score.score = 0;
            } else if diff == 0 {
                score.score = MAX_NODE_SCORE;
            } else {
                let flipped = total - score.score;
                score.score = (MAX_NODE_SCORE as f64 * (flipped as f64 / diff as f64)) as i64;
            }
        }
        Status::success()
    }
}

/// Parses `PodTopologySpreadArgs` from JSON (`null` gives the defaults).
///
/// # Errors
///
/// A decode message.
pub fn parse_args(args: &serde_json::Value) -> Result<Args, String> {
    if args.is_null() {
        return Ok(Args::default());
    }
    serde_json::from_value(args.clone()).map_err(|error| format!("PodTopologySpreadArgs: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{named_pod, node};
    use serde_json::{Value, json};

    fn zone_node(name: &str, zone: &str) -> Arc<k8s_openapi::api::core::v1::Node> {
        Arc::new(node(json!({"metadata": {"name": name,
            "labels": {"zone": zone, "kubernetes.io/hostname": name}}})))
    }

    fn foo_pod(name: &str, node_name: &str) -> Arc<Pod> {
        Arc::new(named_pod(
            name,
            json!({"labels": {"foo": ""}}),
            json!({"nodeName": node_name}),
        ))
    }

    fn spread_pod(constraints: Value) -> Pod {
        named_pod(
            "p",
            json!({"labels": {"foo": ""}}),
            json!({"topologySpreadConstraints": constraints}),
        )
    }

    fn constraint(skew: i32, key: &str, when: &str) -> Value {
        json!({"maxSkew": skew, "topologyKey": key, "whenUnsatisfiable": when,
            "labelSelector": {"matchExpressions": [{"key": "foo", "operator": "Exists"}]}})
    }

    fn plugin() -> PodTopologySpread {
        PodTopologySpread::new(Args::default(), Arc::new(ClusterState::default())).expect("plugin")
    }

    fn pre_filter_counts(
        plugin: &PodTopologySpread,
        pod: &Pod,
        snapshot: &Snapshot,
    ) -> Vec<BTreeMap<String, i64>> {
        let mut state = CycleState::new();
        assert!(plugin.pre_filter(&mut state, pod, snapshot).is_success());
        let pre = state
            .read::<PreFilterState>(PRE_FILTER_KEY)
            .expect("prefilter state");
        pre.counts
            .iter()
            .map(|counts| counts.clone().into_iter().collect())
            .collect()
    }

    /// PreFilter keeps its counts from cycle to cycle and recounts only the nodes
    /// the snapshot update changed. The counts must match a fresh plugin's full walk.
    #[test]
    fn pre_filter_counts_follow_snapshot_updates() {
        let cache = crate::cache::SchedulerCache::new(std::time::Duration::from_secs(30));
        for (name, zone) in [("n1", "z1"), ("n2", "z1"), ("n3", "z2"), ("n4", "z3")] {
            cache.add_node(zone_node(name, zone));
        }
        let pod = spread_pod(json!([
            constraint(1, "zone", "DoNotSchedule"),
            constraint(1, "kubernetes.io/hostname", "DoNotSchedule")
        ]));
        let reused = plugin();
        let mut snapshot = Snapshot::default();
        cache.update_snapshot(&mut snapshot);
        let first = pre_filter_counts(&reused, &pod, &snapshot);
        assert_eq!(
            first[0],
            BTreeMap::from([("z1".into(), 0), ("z2".into(), 0), ("z3".into(), 0)])
        );

        let steps: [&dyn Fn(); 4] = [
            &|| cache.add_pod(foo_pod("a", "n1")),
            &|| {
                cache.add_pod(foo_pod("b", "n2"));
                cache.add_pod(foo_pod("c", "n3"));
            },
            &|| cache.remove_pod(&foo_pod("a", "n1")),
            // A node leaves: the counts start over from the whole list.
            &|| cache.remove_node(&zone_node("n4", "z3")),
        ];
        for step in steps {
            step();
            cache.update_snapshot(&mut snapshot);
            assert_eq!(
                pre_filter_counts(&reused, &pod, &snapshot),
                pre_filter_counts(&plugin(), &pod, &snapshot)
            );
        }
        let last = pre_filter_counts(&reused, &pod, &snapshot);
        assert_eq!(
            last[0],
            BTreeMap::from([("z1".into(), 1), ("z2".into(), 1)])
        );
        assert_eq!(last[1].get("n2"), Some(&1));
        assert_eq!(last[1].get("n1"), Some(&0));
    }

    /// Upstream's case: zone1 contains 3 matching pods and zone2 contains 1, so maxSkew 1
    /// by zone admits only zone2's nodes.
    #[test]
    fn filter_by_zone_skew() {
        let nodes = [
            zone_node("node-a", "zone1"),
            zone_node("node-b", "zone1"),
            zone_node("node-x", "zone2"),
            zone_node("node-y", "zone2"),
        ];
        let pods = [
            foo_pod("p-a1", "node-a"),
            foo_pod("p-a2", "node-a"),
            foo_pod("p-b1", "node-b"),
            foo_pod("p-y1", "node-y"),
        ];
        let snapshot = Snapshot::new(&pods, &nodes);
        let p = spread_pod(json!([constraint(1, "zone", "DoNotSchedule")]));
        let plugin = plugin();
        let mut state = CycleState::new();
        assert!(plugin.pre_filter(&mut state, &p, &snapshot).is_success());
        let fits: Vec<bool> = snapshot
            .list()
            .iter()
            .map(|info| plugin.filter(&state, &p, info).is_success())
            .collect();
        assert_eq!(fits, [false, false, true, true]);
    }

    #[test]
    fn filter_rejects_node_without_key() {
        let nodes = [
            zone_node("a", "zone1"),
            Arc::new(node(json!({"metadata": {"name": "b"}}))),
        ];
        let snapshot = Snapshot::new(&[], &nodes);
        let p = spread_pod(json!([constraint(1, "zone", "DoNotSchedule")]));
        let plugin = plugin();
        let mut state = CycleState::new();
        plugin.pre_filter(&mut state, &p, &snapshot);
        assert!(plugin.filter(&state, &p, &snapshot.list()[0]).is_success());
        assert_eq!(
            plugin.filter(&state, &p, &snapshot.list()[1]),
            Status::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH)
        );
    }

    #[test]
    fn add_and_remove_pod_change_skew() {
        let nodes = [zone_node("a", "zone1"), zone_node("b", "zone2")];
        let snapshot = Snapshot::new(&[], &nodes);
        let p = spread_pod(json!([constraint(1, "zone", "DoNotSchedule")]));
        let plugin = plugin();
        let mut state = CycleState::new();
        plugin.pre_filter(&mut state, &p, &snapshot);
        let a = &snapshot.list()[0];
        let added = PodInfo::new(foo_pod("x", "a"));
        plugin.add_pod(&mut state, &p, &added, a);
        assert!(!plugin.filter(&state, &p, a).is_success());
        plugin.remove_pod(&mut state, &p, &added, a);
        assert!(plugin.filter(&state, &p, a).is_success());
    }

    /// Soft spreading by host: counts 2, 1, 0 score 33, 66, 100 after flipping.
    #[test]
    fn score_prefers_emptier_domains() {
        let nodes = [
            zone_node("a", "z"),
            zone_node("b", "z"),
            zone_node("c", "z"),
        ];
        let pods = [foo_pod("p1", "a"), foo_pod("p2", "a"), foo_pod("p3", "b")];
        let snapshot = Snapshot::new(&pods, &nodes);
        let p = spread_pod(json!([constraint(
            1,
            "kubernetes.io/hostname",
            "ScheduleAnyway"
        )]));
        let plugin = plugin();
        let mut state = CycleState::new();
        plugin.pre_score(&mut state, &p, snapshot.list(), &snapshot);
        let mut scores: Vec<NodeScore> = snapshot
            .list()
            .iter()
            .map(|info| NodeScore {
                name: info.node_name().to_string(),
                score: plugin.score(&state, &p, info).expect("score"),
            })
            .collect();
        assert_eq!(
            scores.iter().map(|s| s.score).collect::<Vec<_>>(),
            [2, 1, 0]
        );
        plugin.normalize_score(&state, &p, &mut scores);
        assert_eq!(
            scores.iter().map(|s| s.score).collect::<Vec<_>>(),
            [33, 66, 100]
        );
    }

    #[test]
    fn default_constraints_use_service_selector() {
        let cluster = Arc::new(ClusterState::default());
        let service: k8s_openapi::api::core::v1::Service = serde_json::from_value(json!({
            "metadata": {"name": "svc", "namespace": "default"},
            "spec": {"selector": {"foo": ""}}
        }))
        .expect("service");
        cluster
            .services
            .write()
            .expect("lock")
            .insert("default/svc".to_string(), Arc::new(service));
        let plugin = PodTopologySpread::new(Args::default(), cluster).expect("plugin");
        let p = named_pod("p", json!({"labels": {"foo": ""}}), json!({}));
        let constraints = plugin
            .constraints(&p, "ScheduleAnyway")
            .expect("constraints");
        assert_eq!(constraints.len(), 2);
        let unselected = named_pod("q", json!({"labels": {"bar": ""}}), json!({}));
        assert!(
            plugin
                .constraints(&unselected, "ScheduleAnyway")
                .expect("constraints")
                .is_empty()
        );
    }

    /// Places `p` against nodes `a` (zone1, holding `zone1_pods` matching pods) and `b`
    /// (zone2, `b_spec` applied) and returns which nodes fit.
    fn zone_fits(constraint: Value, p: Pod, zone1_pods: usize, b_spec: Value) -> Vec<bool> {
        let mut b = json!({"metadata": {"name": "b", "labels": {"zone": "zone2", "kubernetes.io/hostname": "b"}}});
        if let Some(extra) = b_spec.as_object() {
            for (key, value) in extra {
                b[key] = value.clone();
            }
        }
        let nodes = [zone_node("a", "zone1"), Arc::new(node(b))];
        let pods: Vec<Arc<Pod>> = (0..zone1_pods)
            .map(|i| foo_pod(&format!("e{i}"), "a"))
            .collect();
        let snapshot = Snapshot::new(&pods, &nodes);
        let mut p = p;
        p.spec.as_mut().expect("spec").topology_spread_constraints =
            Some(serde_json::from_value(json!([constraint])).expect("constraints"));
        let plugin = plugin();
        let mut state = CycleState::new();
        assert!(plugin.pre_filter(&mut state, &p, &snapshot).is_success());
        snapshot
            .list()
            .iter()
            .map(|info| plugin.filter(&state, &p, info).is_success())
            .collect()
    }

    fn with_field(mut constraint: Value, key: &str, value: Value) -> Value {
        constraint[key] = value;
        constraint
    }

    /// Upstream's minDomains cases: with fewer domains than minDomains the global
    /// minimum is 0, so even the emptier domain may exceed maxSkew.
    #[test]
    fn min_domains_zeroes_the_minimum() {
        let base = constraint(1, "zone", "DoNotSchedule");
        let incoming = || spread_pod(json!([]));
        // zone1: 1 pod, zone2: 0 pods.
        assert_eq!(
            zone_fits(base.clone(), incoming(), 1, json!({})),
            [false, true]
        );
        let nodes = [zone_node("a", "zone1"), zone_node("b", "zone2")];
        let pods = vec![foo_pod("e0", "a"), foo_pod("e1", "b")];
        let snapshot = Snapshot::new(&pods, &nodes);
        for (min_domains, fits) in [
            (None, [true, true]),
            (Some(2), [true, true]),
            (Some(3), [false, false]),
        ] {
            let mut c = base.clone();
            if let Some(min) = min_domains {
                c = with_field(c, "minDomains", json!(min));
            }
            let p = spread_pod(json!([c]));
            let plugin = plugin();
            let mut state = CycleState::new();
            assert!(plugin.pre_filter(&mut state, &p, &snapshot).is_success());
            let result: Vec<bool> = snapshot
                .list()
                .iter()
                .map(|info| plugin.filter(&state, &p, info).is_success())
                .collect();
            assert_eq!(result, fits, "minDomains {min_domains:?}");
        }
    }

    /// nodeAffinityPolicy Honor (the default) leaves out nodes the pod's selector
    /// excludes; Ignore counts them.
    #[test]
    fn node_affinity_policy() {
        let selective = || {
            named_pod(
                "p",
                json!({"labels": {"foo": ""}}),
                json!({"nodeSelector": {"zone": "zone1"}}),
            )
        };
        let honor = constraint(1, "zone", "DoNotSchedule");
        // Zone2 is not counted, so zone1 is its own minimum: 1 + 1 - 1 fits.
        assert_eq!(
            zone_fits(honor.clone(), selective(), 1, json!({})),
            [true, true]
        );
        let ignore = with_field(honor, "nodeAffinityPolicy", json!("Ignore"));
        assert_eq!(zone_fits(ignore, selective(), 1, json!({})), [false, true]);
    }

    /// nodeTaintsPolicy Honor leaves out nodes with untolerated taints; Ignore (the
    /// default) counts them.
    #[test]
    fn node_taints_policy() {
        let tainted =
            json!({"spec": {"taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]}});
        let ignore = constraint(1, "zone", "DoNotSchedule");
        assert_eq!(
            zone_fits(ignore.clone(), spread_pod(json!([])), 1, tainted.clone()),
            [false, true]
        );
        let honor = with_field(ignore, "nodeTaintsPolicy", json!("Honor"));
        assert_eq!(
            zone_fits(honor.clone(), spread_pod(json!([])), 1, tainted.clone()),
            [true, true]
        );
        // A toleration brings the node back.
        let tolerant = named_pod(
            "p",
            json!({"labels": {"foo": ""}}),
            json!({"tolerations": [{"key": "k", "operator": "Exists"}]}),
        );
        assert_eq!(zone_fits(honor, tolerant, 1, tainted), [false, true]);
    }

    /// matchLabelKeys narrows the selector to pods with the pod's values of those
    /// labels.
    #[test]
    fn match_label_keys_narrow_the_selector() {
        let nodes = [zone_node("a", "zone1"), zone_node("b", "zone2")];
        let old_revision = |name: &str| {
            Arc::new(named_pod(
                name,
                json!({"labels": {"foo": "", "version": "v1"}}),
                json!({"nodeName": "a"}),
            ))
        };
        let pods = vec![old_revision("e0"), old_revision("e1")];
        let snapshot = Snapshot::new(&pods, &nodes);
        let fits = |constraint: Value| -> Vec<bool> {
            let p = named_pod(
                "p",
                json!({"labels": {"foo": "", "version": "v2"}}),
                json!({"topologySpreadConstraints": [constraint]}),
            );
            let plugin = plugin();
            let mut state = CycleState::new();
            assert!(plugin.pre_filter(&mut state, &p, &snapshot).is_success());
            snapshot
                .list()
                .iter()
                .map(|info| plugin.filter(&state, &p, info).is_success())
                .collect()
        };
        let base = constraint(1, "zone", "DoNotSchedule");
        assert_eq!(fits(base.clone()), [false, true]);
        assert_eq!(
            fits(with_field(base, "matchLabelKeys", json!(["version"]))),
            [true, true]
        );
    }
}
