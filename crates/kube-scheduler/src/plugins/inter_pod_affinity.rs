//! InterPodAffinity: required pod affinity and anti-affinity (both the incoming pod's
//! terms and existing pods' anti-affinity towards it) as a filter, preferred terms and
//! existing pods' terms as a score, all per topology domain (`topologyKey` and the
//! node's value for it).

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;

use crate::cache::Snapshot;
use crate::framework::handle::ClusterState;
use crate::framework::interface::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, NodeScore, Plugin, PreFilterPlugin, PreScorePlugin,
    ScorePlugin, Status,
};
use crate::framework::types::{AffinityTerm, NamespaceLabels, NodeInfo, PodInfo};

/// The plugin name.
pub const NAME: &str = "InterPodAffinity";
/// Failure reason: an existing pod's required anti-affinity forbids the node.
pub const ERR_REASON_EXISTING_ANTI_AFFINITY: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";
/// Failure reason: the pod's required affinity is not met.
pub const ERR_REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// Failure reason: the pod's required anti-affinity is violated.
pub const ERR_REASON_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
const PRE_FILTER_KEY: &str = "PreFilterInterPodAffinity";
const PRE_SCORE_KEY: &str = "PreScoreInterPodAffinity";

/// The `InterPodAffinityArgs` of `pluginConfig`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// The score weight of an existing pod's required affinity term that matches the
    /// incoming pod (1 by default).
    #[serde(default = "default_hard_weight")]
    pub hard_pod_affinity_weight: i32,
}

fn default_hard_weight() -> i32 {
    1
}

impl Default for Args {
    fn default() -> Self {
        Args {
            hard_pod_affinity_weight: 1,
        }
    }
}

/// Matching pods per topology pair, kept by key and then value so that a node's
/// labels are looked up without building a pair for each.
#[derive(Clone, Default)]
struct TopologyCounts(HashMap<String, HashMap<String, i64>>);

impl TopologyCounts {
    fn add(&mut self, key: &str, value: &str, delta: i64) {
        let values = self.0.entry(key.to_string()).or_default();
        let count = values.entry(value.to_string()).or_default();
        *count += delta;
        if *count == 0 {
            values.remove(value);
            if values.is_empty() {
                self.0.remove(key);
            }
        }
    }

    fn get(&self, key: &str, value: &str) -> i64 {
        self.0
            .get(key)
            .and_then(|values| values.get(value))
            .copied()
            .unwrap_or(0)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Clone)]
struct PreFilterState {
    pod_info: PodInfo,
    namespace_labels: Arc<NamespaceLabels>,
    existing_anti_affinity_counts: TopologyCounts,
    affinity_counts: TopologyCounts,
    anti_affinity_counts: TopologyCounts,
}

#[derive(Clone)]
struct PreScoreState {
    topology_score: HashMap<String, HashMap<String, i64>>,
}

/// The InterPodAffinity plugin.
pub struct InterPodAffinity {
    args: Args,
    cluster: Arc<ClusterState>,
}

impl InterPodAffinity {
    /// Builds the plugin.
    ///
    /// # Errors
    ///
    /// A hard pod affinity weight outside 0..=100.
    pub fn new(args: Args, cluster: Arc<ClusterState>) -> Result<InterPodAffinity, String> {
        if !(0..=100).contains(&args.hard_pod_affinity_weight) {
            return Err(format!(
                "hardPodAffinityWeight: Invalid value: {}: not in valid range [0-100]",
                args.hard_pod_affinity_weight
            ));
        }
        Ok(InterPodAffinity { args, cluster })
    }
}

fn label<'a>(node_info: &'a NodeInfo, key: &str) -> Option<&'a String> {
    node_info.node_labels().and_then(|labels| labels.get(key))
}

fn add_count(counts: &mut TopologyCounts, term: &AffinityTerm, node_info: &NodeInfo, delta: i64) {
    if let Some(value) = label(node_info, &term.topology_key) {
        counts.add(&term.topology_key, value, delta);
    }
}

impl PreFilterState {
    /// Counts `existing` (on `node_info`'s node) with weight `delta`.
    fn update_with_pod(&mut self, existing: &PodInfo, node_info: &NodeInfo, delta: i64) {
        let incoming = self.pod_info.pod.clone();
        let namespaces = self.namespace_labels.clone();
        for term in &existing.required_anti_affinity_terms {
            if term.matches(&incoming, &namespaces) {
                add_count(
                    &mut self.existing_anti_affinity_counts,
                    term,
                    node_info,
                    delta,
                );
            }
        }
        let affinity_terms = self.pod_info.required_affinity_terms.clone();
        for term in &affinity_terms {
            if term.matches(&existing.pod, &namespaces) {
                add_count(&mut self.affinity_counts, term, node_info, delta);
            }
        }
        let anti_terms = self.pod_info.required_anti_affinity_terms.clone();
        for term in &anti_terms {
            if term.matches(&existing.pod, &namespaces) {
                add_count(&mut self.anti_affinity_counts, term, node_info, delta);
            }
        }
    }
}

impl Plugin for InterPodAffinity {
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

impl PreFilterPlugin for InterPodAffinity {
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, snapshot: &Snapshot) -> Status {
        let pod_info = PodInfo::new(Arc::new(pod.clone()));
        if let Some(error) = pod_info.parse_error.as_ref() {
            return Status::unresolvable(format!("invalid pod affinity term: {error}"));
        }
        let namespaces = self.cluster.namespace_labels();
        let mut pre = PreFilterState {
            pod_info,
            namespace_labels: namespaces.clone(),
            existing_anti_affinity_counts: TopologyCounts::default(),
            affinity_counts: TopologyCounts::default(),
            anti_affinity_counts: TopologyCounts::default(),
        };

        for node_info in snapshot.have_pods_with_required_anti_affinity() {
            for existing in &node_info.pods_with_required_anti_affinity {
                for term in &existing.required_anti_affinity_terms {
                    if term.matches(pod, &namespaces) {
                        add_count(&mut pre.existing_anti_affinity_counts, term, node_info, 1);
                    }
                }
            }
        }

        let has_required = !pre.pod_info.required_affinity_terms.is_empty()
            || !pre.pod_info.required_anti_affinity_terms.is_empty();
        if has_required {
            let affinity_terms = pre.pod_info.required_affinity_terms.clone();
            let anti_terms = pre.pod_info.required_anti_affinity_terms.clone();
            for node_info in snapshot.list() {
                for existing in &node_info.pods {
                    for term in &affinity_terms {
                        if term.matches(&existing.pod, &namespaces) {
                            add_count(&mut pre.affinity_counts, term, node_info, 1);
                        }
                    }
                    for term in &anti_terms {
                        if term.matches(&existing.pod, &namespaces) {
                            add_count(&mut pre.anti_affinity_counts, term, node_info, 1);
                        }
                    }
                }
            }
        }
        state.write(PRE_FILTER_KEY, pre);
        Status::success()
    }

    fn add_pod(
        &self,
        state: &mut CycleState,
        _pod_to_schedule: &Pod,
        pod_to_add: &PodInfo,
        node_info: &NodeInfo,
    ) -> Status {
        match state.read_mut::<PreFilterState>(PRE_FILTER_KEY) {
            Some(pre) => {
                pre.update_with_pod(pod_to_add, node_info, 1);
                Status::success()
            }
            None => Status::error("InterPodAffinity prefilter state not found"),
        }
    }

    fn remove_pod(
        &self,
        state: &mut CycleState,
        _pod_to_schedule: &Pod,
        pod_to_remove: &PodInfo,
        node_info: &NodeInfo,
    ) -> Status {
        match state.read_mut::<PreFilterState>(PRE_FILTER_KEY) {
            Some(pre) => {
                pre.update_with_pod(pod_to_remove, node_info, -1);
                Status::success()
            }
            None => Status::error("InterPodAffinity prefilter state not found"),
        }
    }
}

impl FilterPlugin for InterPodAffinity {
    fn filter(&self, state: &CycleState, _pod: &Pod, node_info: &NodeInfo) -> Status {
        let Some(pre) = state.read::<PreFilterState>(PRE_FILTER_KEY) else {
            return Status::error("InterPodAffinity prefilter state not found");
        };
        let existing_conflict = !pre.existing_anti_affinity_counts.is_empty()
            && node_info
                .node_labels()
                .into_iter()
                .flatten()
                .any(|(key, value)| pre.existing_anti_affinity_counts.get(key, value) > 0);
        if existing_conflict {
            return Status::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
        }

        let anti_conflict = pre
            .pod_info
            .required_anti_affinity_terms
            .iter()
            .any(|term| {
                label(node_info, &term.topology_key).is_some_and(|value| {
                    pre.anti_affinity_counts.get(&term.topology_key, value) > 0
                })
            });
        if anti_conflict {
            return Status::unschedulable(ERR_REASON_ANTI_AFFINITY);
        }

        if !satisfies_pod_affinity(pre, node_info) {
            return Status::unresolvable(ERR_REASON_AFFINITY);
        }
        Status::success()
    }
}

fn satisfies_pod_affinity(pre: &PreFilterState, node_info: &NodeInfo) -> bool {
    let mut pods_exist = true;
    for term in &pre.pod_info.required_affinity_terms {
        let Some(value) = label(node_info, &term.topology_key) else {
            return false;
        };
        if pre.affinity_counts.get(&term.topology_key, value) <= 0 {
            pods_exist = false;
        }
    }
    if pods_exist {
        return true;
    }
    // The first pod of a group with affinity to itself: allowed when no pod anywhere
    // matches the terms and the pod matches its own terms.
    pre.affinity_counts.is_empty()
        && pre
            .pod_info
            .required_affinity_terms
            .iter()
            .all(|term| term.matches(&pre.pod_info.pod, &pre.namespace_labels))
}

impl InterPodAffinity {
    fn process_existing_pod(
        &self,
        scores: &mut HashMap<String, HashMap<String, i64>>,
        incoming: &PodInfo,
        existing: &PodInfo,
        node_info: &NodeInfo,
        namespaces: &NamespaceLabels,
    ) {
        let mut add = |term: &AffinityTerm, weight: i64| {
            if let Some(value) = label(node_info, &term.topology_key) {
                *scores
                    .entry(term.topology_key.clone())
                    .or_default()
                    .entry(value.clone())
                    .or_default() += weight;
            }
        };
        for weighted in &incoming.preferred_affinity_terms {
            if weighted.term.matches(&existing.pod, namespaces) {
                add(&weighted.term, i64::from(weighted.weight));
            }
        }
        for weighted in &incoming.preferred_anti_affinity_terms {
            if weighted.term.matches(&existing.pod, namespaces) {
                add(&weighted.term, -i64::from(weighted.weight));
            }
        }
        if self.args.hard_pod_affinity_weight > 0 {
            for term in &existing.required_affinity_terms {
                if term.matches(&incoming.pod, namespaces) {
                    add(term, i64::from(self.args.hard_pod_affinity_weight));
                }
            }
        }
        for weighted in &existing.preferred_affinity_terms {
            if weighted.term.matches(&incoming.pod, namespaces) {
                add(&weighted.term, i64::from(weighted.weight));
            }
        }
        for weighted in &existing.preferred_anti_affinity_terms {
            if weighted.term.matches(&incoming.pod, namespaces) {
                add(&weighted.term, -i64::from(weighted.weight));
            }
        }
    }
}

impl PreScorePlugin for InterPodAffinity {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        _nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status {
        let incoming = PodInfo::new(Arc::new(pod.clone()));
        let has_preferred = !incoming.preferred_affinity_terms.is_empty()
            || !incoming.preferred_anti_affinity_terms.is_empty();
        let candidates = if has_preferred {
            snapshot.list()
        } else {
            snapshot.have_pods_with_affinity()
        };
        let namespaces = self.cluster.namespace_labels();
        let mut topology_score = HashMap::new();
        for node_info in candidates {
            let existing_pods = if has_preferred {
                &node_info.pods
            } else {
                &node_info.pods_with_affinity
            };
            for existing in existing_pods {
                self.process_existing_pod(
                    &mut topology_score,
                    &incoming,
                    existing,
                    node_info,
                    &namespaces,
                );
            }
        }
        state.write(PRE_SCORE_KEY, PreScoreState { topology_score });
        Status::success()
    }
}

impl ScorePlugin for InterPodAffinity {
    fn score(&self, state: &CycleState, _pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status> {
        let Some(pre) = state.read::<PreScoreState>(PRE_SCORE_KEY) else {
            return Err(Status::error("InterPodAffinity prescore state not found"));
        };
        let mut score = 0;
        for (key, values) in &pre.topology_score {
            if let Some(value) = label(node_info, key) {
                score += values.get(value).copied().unwrap_or(0);
            }
        }
        Ok(score)
    }

    fn normalize_score(&self, state: &CycleState, _pod: &Pod, scores: &mut [NodeScore]) -> Status {
        let empty = state
            .read::<PreScoreState>(PRE_SCORE_KEY)
            .is_none_or(|pre| pre.topology_score.is_empty());
        if empty {
            return Status::success();
        }
        let max = scores.iter().map(|s| s.score).max().unwrap_or(0);
        let min = scores.iter().map(|s| s.score).min().unwrap_or(0);
        let diff = max - min;
        for score in scores.iter_mut() {
            score.score = if diff > 0 {
                (MAX_NODE_SCORE as f64 * ((score.score - min) as f64 / diff as f64)) as i64
            } else {
                0
            };
        }
        Status::success()
    }
}

/// Parses `InterPodAffinityArgs` from JSON (`null` gives the defaults).
///
/// # Errors
///
/// A decode message.
pub fn parse_args(args: &serde_json::Value) -> Result<Args, String> {
    if args.is_null() {
        return Ok(Args::default());
    }
    serde_json::from_value(args.clone()).map_err(|error| format!("InterPodAffinityArgs: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{named_pod, node};
    use serde_json::{Value, json};

    fn zone_node(name: &str, zone: &str) -> Arc<k8s_openapi::api::core::v1::Node> {
        Arc::new(node(
            json!({"metadata": {"name": name, "labels": {"zone": zone, "kubernetes.io/hostname": name}}}),
        ))
    }

    fn labeled(name: &str, labels: Value, node_name: &str, spec: Value) -> Pod {
        let mut spec = spec;
        if !node_name.is_empty() {
            spec["nodeName"] = json!(node_name);
        }
        named_pod(name, json!({"labels": labels}), spec)
    }

    fn term(key: &str, value: &str, topology: &str) -> Value {
        json!({"labelSelector": {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]},
            "topologyKey": topology})
    }

    fn run_filter(
        pod: &Pod,
        existing: &[Pod],
        nodes: &[Arc<k8s_openapi::api::core::v1::Node>],
    ) -> Vec<Status> {
        let pods: Vec<Arc<Pod>> = existing.iter().cloned().map(Arc::new).collect();
        let snapshot = Snapshot::new(&pods, nodes);
        let plugin = InterPodAffinity::new(Args::default(), Arc::default()).expect("plugin");
        let mut state = CycleState::new();
        assert!(plugin.pre_filter(&mut state, pod, &snapshot).is_success());
        snapshot
            .list()
            .iter()
            .map(|info| plugin.filter(&state, pod, info))
            .collect()
    }

    #[test]
    fn required_affinity_follows_zone() {
        let nodes = [
            zone_node("n1", "a"),
            zone_node("n2", "a"),
            zone_node("n3", "b"),
        ];
        let existing = [labeled("db", json!({"app": "db"}), "n1", json!({}))];
        let p = labeled(
            "web",
            json!({}),
            "",
            json!({"affinity": {"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term("app", "db", "zone")]}}}),
        );
        let fits: Vec<bool> = run_filter(&p, &existing, &nodes)
            .iter()
            .map(Status::is_success)
            .collect();
        assert_eq!(fits, [true, true, false]);
    }

    #[test]
    fn required_anti_affinity_and_existing_anti_affinity() {
        let nodes = [zone_node("n1", "a"), zone_node("n2", "b")];
        let existing = [labeled("db", json!({"app": "db"}), "n1", json!({}))];
        let anti = labeled(
            "web",
            json!({}),
            "",
            json!({"affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term("app", "db", "zone")]}}}),
        );
        let statuses = run_filter(&anti, &existing, &nodes);
        assert_eq!(statuses[0], Status::unschedulable(ERR_REASON_ANTI_AFFINITY));
        assert!(statuses[1].is_success());

        let guarded = [labeled(
            "guard",
            json!({}),
            "n2",
            json!({"affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term("app", "web", "kubernetes.io/hostname")]}}}),
        )];
        let web = labeled("web", json!({"app": "web"}), "", json!({}));
        let statuses = run_filter(&web, &guarded, &nodes);
        assert!(statuses[0].is_success());
        assert_eq!(
            statuses[1],
            Status::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY)
        );
    }

    #[test]
    fn first_pod_with_self_affinity_is_allowed() {
        let nodes = [zone_node("n1", "a")];
        let p = labeled(
            "web",
            json!({"app": "web"}),
            "",
            json!({"affinity": {"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term("app", "web", "zone")]}}}),
        );
        assert!(run_filter(&p, &[], &nodes)[0].is_success());
        let other = labeled(
            "web",
            json!({"app": "other"}),
            "",
            json!({"affinity": {"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term("app", "web", "zone")]}}}),
        );
        assert_eq!(
            run_filter(&other, &[], &nodes)[0],
            Status::unresolvable(ERR_REASON_AFFINITY)
        );
    }

    #[test]
    fn add_pod_updates_anti_affinity_counts() {
        let nodes = [zone_node("n1", "a")];
        let anti = labeled(
            "web",
            json!({}),
            "",
            json!({"affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term("app", "db", "zone")]}}}),
        );
        let snapshot = Snapshot::new(&[], &nodes);
        let plugin = InterPodAffinity::new(Args::default(), Arc::default()).expect("plugin");
        let mut state = CycleState::new();
        plugin.pre_filter(&mut state, &anti, &snapshot);
        let info = &snapshot.list()[0];
        assert!(plugin.filter(&state, &anti, info).is_success());
        let db = PodInfo::new(Arc::new(labeled(
            "db",
            json!({"app": "db"}),
            "n1",
            json!({}),
        )));
        plugin.add_pod(&mut state, &anti, &db, info);
        assert!(!plugin.filter(&state, &anti, info).is_success());
        plugin.remove_pod(&mut state, &anti, &db, info);
        assert!(plugin.filter(&state, &anti, info).is_success());
    }

    /// Upstream-style case: preferred affinity of weight 5 towards `security=S1` pods in
    /// the same region; the node in that region scores 100, others 0.
    #[test]
    fn preferred_affinity_scores() {
        let nodes = [
            Arc::new(node(
                json!({"metadata": {"name": "m1", "labels": {"region": "China"}}}),
            )),
            Arc::new(node(
                json!({"metadata": {"name": "m2", "labels": {"region": "India"}}}),
            )),
            Arc::new(node(
                json!({"metadata": {"name": "m3", "labels": {"az": "az1"}}}),
            )),
        ];
        let existing: Vec<Arc<Pod>> = vec![
            Arc::new(labeled("s1", json!({"security": "S1"}), "m1", json!({}))),
            Arc::new(labeled("s2", json!({"security": "S2"}), "m2", json!({}))),
        ];
        let p = labeled(
            "p",
            json!({}),
            "",
            json!({"affinity": {"podAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 5, "podAffinityTerm": term("security", "S1", "region")}]}}}),
        );
        let snapshot = Snapshot::new(&existing, &nodes);
        let plugin = InterPodAffinity::new(Args::default(), Arc::default()).expect("plugin");
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
        plugin.normalize_score(&state, &p, &mut scores);
        assert_eq!(
            scores.iter().map(|s| s.score).collect::<Vec<_>>(),
            [100, 0, 0]
        );
    }

    /// Upstream's namespaceSelector cases: a term selects pods in the namespaces whose
    /// labels match, an empty selector every namespace, and without one only the
    /// owner's namespace.
    #[test]
    fn namespace_selector_matches_namespace_labels() {
        let cluster = Arc::new(ClusterState::default());
        cluster.set_namespace_labels(
            "team-a",
            Some([("team".to_string(), "a".to_string())].into()),
        );
        cluster.set_namespace_labels(
            "team-b",
            Some([("team".to_string(), "b".to_string())].into()),
        );
        let nodes = [zone_node("n1", "z1"), zone_node("n2", "z2")];
        let mut db = labeled("db", json!({"app": "db"}), "n1", json!({}));
        db.metadata.namespace = Some("team-a".to_string());
        let snapshot = Snapshot::new(&[Arc::new(db)], &nodes);
        let plugin = InterPodAffinity::new(Args::default(), cluster).expect("plugin");

        let with_term = |namespace_selector: Option<Value>| {
            let mut affinity_term = term("app", "db", "zone");
            if let Some(selector) = namespace_selector {
                affinity_term["namespaceSelector"] = selector;
            }
            labeled(
                "web",
                json!({}),
                "",
                json!({"affinity": {"podAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [affinity_term]}}}),
            )
        };
        let fits = |pod: &Pod| -> Vec<bool> {
            let mut state = CycleState::new();
            assert!(plugin.pre_filter(&mut state, pod, &snapshot).is_success());
            snapshot
                .list()
                .iter()
                .map(|info| plugin.filter(&state, pod, info).is_success())
                .collect()
        };
        let cases = [
            (Some(json!({"matchLabels": {"team": "a"}})), [true, false]),
            (Some(json!({})), [true, false]),
            (Some(json!({"matchLabels": {"team": "b"}})), [false, false]),
            (None, [false, false]),
        ];
        for (selector, expected) in cases {
            assert_eq!(fits(&with_term(selector.clone())), expected, "{selector:?}");
        }
    }
}
