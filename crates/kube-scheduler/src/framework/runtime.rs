//! The framework of one profile: its plugins ordered per extension point and the methods
//! that run them with upstream's semantics. Build one with [`Framework::new`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;

use super::handle::Handle;
use super::interface::{
    Code, CycleState, MAX_NODE_SCORE, MIN_NODE_SCORE, NodeScore, Plugin, PostFilterResult,
    ScorePlugin, Status,
};
use super::parallelize::parallelize;
use super::types::{NodeInfo, PodInfo, pod_key, pod_priority};
use crate::cache::Snapshot;
use crate::queue::QueuedPodInfo;

/// An extension point name, its plugins and the test that a plugin implements it.
type PointCheck<'a> = (&'static str, &'a [EnabledPlugin], fn(&dyn Plugin) -> bool);

/// A plugin enabled at one extension point, with its score weight.
#[derive(Clone)]
pub struct EnabledPlugin {
    /// The plugin.
    pub plugin: Arc<dyn Plugin>,
    /// The score weight (Score only; 1 elsewhere).
    pub weight: i64,
}

/// The plugins of each extension point, in run order.
#[derive(Clone, Default)]
pub struct ExtensionPoints {
    /// QueueSort (exactly one).
    pub queue_sort: Vec<EnabledPlugin>,
    /// PreFilter.
    pub pre_filter: Vec<EnabledPlugin>,
    /// Filter.
    pub filter: Vec<EnabledPlugin>,
    /// PostFilter.
    pub post_filter: Vec<EnabledPlugin>,
    /// PreScore.
    pub pre_score: Vec<EnabledPlugin>,
    /// Score.
    pub score: Vec<EnabledPlugin>,
    /// Reserve.
    pub reserve: Vec<EnabledPlugin>,
    /// Permit.
    pub permit: Vec<EnabledPlugin>,
    /// PreBind.
    pub pre_bind: Vec<EnabledPlugin>,
    /// Bind.
    pub bind: Vec<EnabledPlugin>,
    /// PostBind.
    pub post_bind: Vec<EnabledPlugin>,
}

/// The framework of one scheduler profile.
pub struct Framework {
    profile_name: String,
    points: ExtensionPoints,
    handle: Handle,
    parallelism: usize,
}

impl Framework {
    /// Builds a framework. Fails when QueueSort or Bind has no plugin, a plugin is
    /// listed at an extension point it does not implement, or the score weights could
    /// overflow the total score.
    ///
    /// # Errors
    ///
    /// A message naming the profile and the offending extension point.
    pub fn new(
        profile_name: &str,
        points: ExtensionPoints,
        handle: Handle,
        parallelism: usize,
    ) -> Result<Framework, String> {
        if points.queue_sort.len() != 1 {
            return Err(format!(
                "profile {profile_name:?}: exactly one queueSort plugin must be enabled, found {}",
                points.queue_sort.len()
            ));
        }
        if points.bind.is_empty() {
            return Err(format!(
                "profile {profile_name:?}: at least one bind plugin must be enabled"
            ));
        }
        let checks: [PointCheck<'_>; 11] = [
            ("queueSort", &points.queue_sort, |p| {
                p.as_queue_sort().is_some()
            }),
            ("preFilter", &points.pre_filter, |p| {
                p.as_pre_filter().is_some()
            }),
            ("filter", &points.filter, |p| p.as_filter().is_some()),
            ("postFilter", &points.post_filter, |p| {
                p.as_post_filter().is_some()
            }),
            ("preScore", &points.pre_score, |p| {
                p.as_pre_score().is_some()
            }),
            ("score", &points.score, |p| p.as_score().is_some()),
            ("reserve", &points.reserve, |p| p.as_reserve().is_some()),
            ("permit", &points.permit, |p| p.as_permit().is_some()),
            ("preBind", &points.pre_bind, |p| p.as_pre_bind().is_some()),
            ("bind", &points.bind, |p| p.as_bind().is_some()),
            ("postBind", &points.post_bind, |p| {
                p.as_post_bind().is_some()
            }),
        ];
        for (point, plugins, implements) in checks {
            for enabled in plugins {
                if !implements(enabled.plugin.as_ref()) {
                    return Err(format!(
                        "profile {profile_name:?}: plugin {} does not implement the {point} extension point",
                        enabled.plugin.name()
                    ));
                }
            }
        }
        let mut total: i64 = 0;
        for enabled in &points.score {
            total = enabled
                .weight
                .checked_mul(MAX_NODE_SCORE)
                .and_then(|score| total.checked_add(score))
                .ok_or_else(|| {
                    format!("profile {profile_name:?}: total score of Score plugins could overflow")
                })?;
        }
        Ok(Framework {
            profile_name: profile_name.to_string(),
            points,
            handle,
            parallelism: parallelism.max(1),
        })
    }

    /// Returns the profile's schedulerName.
    pub fn profile_name(&self) -> &str {
        &self.profile_name
    }

    /// Returns the handle the plugins were built with.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Returns the number of worker threads for Filter and Score.
    pub fn parallelism(&self) -> usize {
        self.parallelism
    }

    /// Returns the enabled plugins per extension point.
    pub fn extension_points(&self) -> &ExtensionPoints {
        &self.points
    }

    /// Returns whether `a` sorts before `b` in the active queue.
    pub fn queue_sort_less(&self, a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool {
        let plugin = &self.points.queue_sort[0].plugin;
        plugin.as_queue_sort().is_some_and(|sort| sort.less(a, b))
    }

    /// Runs the PreFilter plugins; the first non-success status ends the run.
    pub fn run_pre_filter_plugins(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        snapshot: &Snapshot,
    ) -> Status {
        for enabled in &self.points.pre_filter {
            let Some(plugin) = enabled.plugin.as_pre_filter() else {
                continue;
            };
            let status = plugin.pre_filter(state, pod, snapshot);
            if !status.is_success() {
                let name = enabled.plugin.name();
                if status.is_unschedulable() {
                    return status.with_plugin(name);
                }
                let message = format!("running PreFilter plugin {name:?}: {}", status.message());
                return Status::error(message).with_plugin(name);
            }
        }
        Status::success()
    }

    /// Runs every PreFilter plugin's AddPod extension.
    pub fn run_pre_filter_add_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        pod_to_add: &PodInfo,
        node_info: &NodeInfo,
    ) -> Status {
        for enabled in &self.points.pre_filter {
            if let Some(plugin) = enabled.plugin.as_pre_filter() {
                let status = plugin.add_pod(state, pod, pod_to_add, node_info);
                if !status.is_success() {
                    return status.with_plugin(enabled.plugin.name());
                }
            }
        }
        Status::success()
    }

    /// Runs every PreFilter plugin's RemovePod extension.
    pub fn run_pre_filter_remove_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        pod_to_remove: &PodInfo,
        node_info: &NodeInfo,
    ) -> Status {
        for enabled in &self.points.pre_filter {
            if let Some(plugin) = enabled.plugin.as_pre_filter() {
                let status = plugin.remove_pod(state, pod, pod_to_remove, node_info);
                if !status.is_success() {
                    return status.with_plugin(enabled.plugin.name());
                }
            }
        }
        Status::success()
    }

    /// Runs the Filter plugins for one node; the first non-success status is returned.
    pub fn run_filter_plugins(
        &self,
        state: &CycleState,
        pod: &Pod,
        node_info: &NodeInfo,
    ) -> Status {
        for enabled in &self.points.filter {
            let Some(plugin) = enabled.plugin.as_filter() else {
                continue;
            };
            let status = plugin.filter(state, pod, node_info);
            if !status.is_success() {
                let name = enabled.plugin.name();
                if status.is_unschedulable() {
                    return status.with_plugin(name);
                }
                let message = format!("running {name:?} filter plugin: {}", status.message());
                return Status::error(message).with_plugin(name);
            }
        }
        Status::success()
    }

    /// Runs Filter for one node counting the pods nominated to it with at least the
    /// pod's priority as already there. As upstream does, the filters run twice when
    /// such pods exist: with them (so the pod does not take their room) and without
    /// (so affinity to them is not assumed).
    pub fn run_filter_with_nominated_pods(
        &self,
        state: &CycleState,
        pod: &Pod,
        node_info: &NodeInfo,
    ) -> Status {
        let nominated: Vec<Arc<Pod>> = self
            .handle
            .nominator
            .nominated_pods_for_node(node_info.node_name())
            .into_iter()
            .filter(|other| {
                pod_priority(other) >= pod_priority(pod) && pod_key(other) != pod_key(pod)
            })
            .collect();
        if nominated.is_empty() {
            return self.run_filter_plugins(state, pod, node_info);
        }

        let mut state_with = state.clone();
        let mut info_with = node_info.clone();
        for other in nominated {
            let other_info = PodInfo::new(other);
            info_with.add_pod_info(other_info.clone());
            let status = self.run_pre_filter_add_pod(&mut state_with, pod, &other_info, &info_with);
            if !status.is_success() {
                return status;
            }
        }
        let status = self.run_filter_plugins(&state_with, pod, &info_with);
        if !status.is_success() {
            return status;
        }
        self.run_filter_plugins(state, pod, node_info)
    }

    /// Runs the PostFilter plugins until one succeeds.
    pub async fn run_post_filter_plugins(
        &self,
        state: &CycleState,
        pod: &Pod,
        statuses: &HashMap<String, Status>,
        snapshot: &Snapshot,
    ) -> (Option<PostFilterResult>, Status) {
        let mut reasons = Vec::new();
        for enabled in &self.points.post_filter {
            let Some(plugin) = enabled.plugin.as_post_filter() else {
                continue;
            };
            let (result, status) = plugin.post_filter(state, pod, statuses, snapshot).await;
            if status.is_success() {
                return (result, status);
            }
            if !status.is_unschedulable() {
                return (None, status.with_plugin(enabled.plugin.name()));
            }
            reasons.extend(status.reasons);
        }
        (None, Status::new(Code::Unschedulable, reasons))
    }

    /// Runs the PreScore plugins.
    pub fn run_pre_score_plugins(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status {
        for enabled in &self.points.pre_score {
            if let Some(plugin) = enabled.plugin.as_pre_score() {
                let status = plugin.pre_score(state, pod, nodes, snapshot);
                if !status.is_success() {
                    let name = enabled.plugin.name();
                    return Status::error(format!(
                        "running PreScore plugin {name:?}: {}",
                        status.message()
                    ))
                    .with_plugin(name);
                }
            }
        }
        Status::success()
    }

    /// Runs Score in parallel over `nodes`, then NormalizeScore, and returns the
    /// weighted total per node in the order of `nodes`.
    ///
    /// # Errors
    ///
    /// The first failing plugin's status, or a normalized score out of range.
    pub fn run_score_plugins(
        &self,
        state: &CycleState,
        pod: &Pod,
        nodes: &[Arc<NodeInfo>],
    ) -> Result<Vec<NodeScore>, Status> {
        let plugins: Vec<(&EnabledPlugin, &dyn ScorePlugin)> = self
            .points
            .score
            .iter()
            .filter_map(|enabled| enabled.plugin.as_score().map(|plugin| (enabled, plugin)))
            .collect();

        // One parallel pass scores every plugin on a node, so worker threads start
        // once per cycle rather than once per plugin.
        let per_node = parallelize(
            self.parallelism,
            nodes.len(),
            |i| {
                let scores: Result<Vec<i64>, (usize, Status)> = plugins
                    .iter()
                    .enumerate()
                    .map(|(p, (_, plugin))| {
                        plugin
                            .score(state, pod, &nodes[i])
                            .map_err(|status| (p, status))
                    })
                    .collect();
                Some(scores)
            },
            || false,
        );
        let mut raw: Vec<Vec<i64>> = Vec::with_capacity(nodes.len());
        for (_, scores) in per_node {
            match scores {
                Ok(scores) => raw.push(scores),
                Err((p, status)) => {
                    let name = plugins[p].0.plugin.name();
                    return Err(Status::error(format!(
                        "running Score plugin {name:?}: {}",
                        status.message()
                    ))
                    .with_plugin(name));
                }
            }
        }

        // One list of node names serves every plugin's normalization. Each plugin's
        // raw scores are written into it in turn, and the weighted sums kept apart.
        let mut scores: Vec<NodeScore> = nodes
            .iter()
            .map(|info| NodeScore {
                name: info.node_name().to_string(),
                score: 0,
            })
            .collect();
        let mut totals = vec![0; nodes.len()];
        for (p, (enabled, plugin)) in plugins.iter().enumerate() {
            let name = enabled.plugin.name();
            for (score, node_scores) in scores.iter_mut().zip(&raw) {
                score.score = node_scores[p];
            }
            let status = plugin.normalize_score(state, pod, &mut scores);
            if !status.is_success() {
                return Err(Status::error(format!(
                    "running Normalize on Score plugin {name:?}: {}",
                    status.message()
                ))
                .with_plugin(name));
            }
            for (total, score) in totals.iter_mut().zip(&scores) {
                if !(MIN_NODE_SCORE..=MAX_NODE_SCORE).contains(&score.score) {
                    return Err(Status::error(format!(
                        "plugin {name:?} returns an invalid score {} for node {:?}, it should be in [{MIN_NODE_SCORE}, {MAX_NODE_SCORE}] after normalizing",
                        score.score, score.name
                    ))
                    .with_plugin(name));
                }
                *total += score.score * enabled.weight;
            }
        }
        for (score, total) in scores.iter_mut().zip(totals) {
            score.score = total;
        }
        Ok(scores)
    }

    /// Runs the Reserve plugins; on failure the caller runs [`Framework::run_unreserve_plugins`].
    pub fn run_reserve_plugins(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        node_name: &str,
    ) -> Status {
        for enabled in &self.points.reserve {
            if let Some(plugin) = enabled.plugin.as_reserve() {
                let status = plugin.reserve(state, pod, node_name);
                if !status.is_success() {
                    let name = enabled.plugin.name();
                    return Status::error(format!(
                        "running Reserve plugin {name:?}: {}",
                        status.message()
                    ))
                    .with_plugin(name);
                }
            }
        }
        Status::success()
    }

    /// Runs Unreserve on every Reserve plugin in reverse order.
    pub fn run_unreserve_plugins(&self, state: &mut CycleState, pod: &Pod, node_name: &str) {
        for enabled in self.points.reserve.iter().rev() {
            if let Some(plugin) = enabled.plugin.as_reserve() {
                plugin.unreserve(state, pod, node_name);
            }
        }
    }

    /// Runs the Permit plugins. Returns success, a rejection, or `Wait` with the
    /// shortest timeout, in which case the binding cycle calls [`Framework::wait_on_permit`] with the names of the
    /// plugins that asked to wait.
    pub fn run_permit_plugins(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        node_name: &str,
    ) -> (Status, Duration, Vec<String>) {
        let mut waiting = Vec::new();
        let mut timeout = Duration::MAX;
        for enabled in &self.points.permit {
            let Some(plugin) = enabled.plugin.as_permit() else {
                continue;
            };
            let name = enabled.plugin.name();
            let (status, wait) = plugin.permit(state, pod, node_name);
            match status.code {
                Code::Success | Code::Skip => {}
                Code::Wait => {
                    // Upstream caps every wait at 15 minutes.
                    let wait = wait.min(Duration::from_secs(15 * 60));
                    timeout = timeout.min(wait);
                    waiting.push(name.to_string());
                }
                Code::Unschedulable | Code::UnschedulableAndUnresolvable => {
                    return (status.with_plugin(name), Duration::ZERO, Vec::new());
                }
                Code::Error => {
                    return (
                        Status::error(format!(
                            "running Permit plugin {name:?}: {}",
                            status.message()
                        ))
                        .with_plugin(name),
                        Duration::ZERO,
                        Vec::new(),
                    );
                }
            }
        }
        if waiting.is_empty() {
            return (Status::success(), Duration::ZERO, waiting);
        }
        (
            Status::new(Code::Wait, Vec::<String>::new()),
            timeout,
            waiting,
        )
    }

    /// Parks a pod that Permit asked to wait and waits until it is allowed, rejected or
    /// `timeout` passes (a rejection).
    pub async fn wait_on_permit(
        &self,
        pod: &Pod,
        plugins: Vec<String>,
        timeout: Duration,
    ) -> Status {
        let key = pod_key(pod);
        let receiver = self.handle.waiting_pods.add(pod, plugins);
        match tokio::time::timeout(timeout, receiver).await {
            Ok(Ok(status)) => status,
            Ok(Err(_)) => Status::error(format!("waiting pod {key} was dropped")),
            Err(_) => {
                let message =
                    format!("rejected due to timeout after waiting {timeout:?} at permit");
                self.handle.waiting_pods.reject(&key, "", &message);
                Status::unschedulable(message)
            }
        }
    }

    /// Runs the PreBind plugins; the first failure ends the run.
    pub async fn run_pre_bind_plugins(
        &self,
        state: &CycleState,
        pod: &Pod,
        node_name: &str,
    ) -> Status {
        for enabled in &self.points.pre_bind {
            if let Some(plugin) = enabled.plugin.as_pre_bind() {
                let status = plugin.pre_bind(state, pod, node_name).await;
                if !status.is_success() {
                    let name = enabled.plugin.name();
                    return Status::error(format!(
                        "running PreBind plugin {name:?}: {}",
                        status.message()
                    ))
                    .with_plugin(name);
                }
            }
        }
        Status::success()
    }

    /// Runs the Bind plugins until one returns other than `Skip`.
    pub async fn run_bind_plugins(&self, state: &CycleState, pod: &Pod, node_name: &str) -> Status {
        for enabled in &self.points.bind {
            if let Some(plugin) = enabled.plugin.as_bind() {
                let status = plugin.bind(state, pod, node_name).await;
                if status.code == Code::Skip {
                    continue;
                }
                return status.with_plugin(enabled.plugin.name());
            }
        }
        Status::new(Code::Skip, ["no bind plugin bound the pod"])
    }

    /// Runs the PostBind plugins.
    pub fn run_post_bind_plugins(&self, state: &CycleState, pod: &Pod, node_name: &str) {
        for enabled in &self.points.post_bind {
            if let Some(plugin) = enabled.plugin.as_post_bind() {
                plugin.post_bind(state, pod, node_name);
            }
        }
    }

    /// Returns whether any Score plugin is enabled.
    pub fn has_score_plugins(&self) -> bool {
        !self.points.score.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use async_trait::async_trait;
    use serde_json::json;

    use super::*;
    use crate::framework::handle::{ApiError, ClusterClient, ClusterState, Nominator, WaitingPods};
    use crate::framework::interface::{FilterPlugin, PermitPlugin};
    use crate::plugins::testing::{named_pod, node_info, pod_with_requests};

    struct NoopClient;

    #[async_trait]
    impl ClusterClient for NoopClient {
        async fn bind(&self, _pod: &Pod, _node_name: &str) -> Result<(), ApiError> {
            Ok(())
        }
        async fn delete_pod(&self, _pod: &Pod) -> Result<(), ApiError> {
            Ok(())
        }
        async fn update_pod_status(
            &self,
            _pod: &Pod,
            _condition: Option<k8s_openapi::api::core::v1::PodCondition>,
            _nominated_node_name: Option<&str>,
        ) -> Result<(), ApiError> {
            Ok(())
        }
        fn record_event(&self, _pod: &Pod, _event_type: &str, _reason: &str, _message: String) {}
    }

    fn handle() -> Handle {
        Handle {
            client: Arc::new(NoopClient),
            cluster: Arc::new(ClusterState::default()),
            nominator: Arc::new(Nominator::default()),
            waiting_pods: Arc::new(WaitingPods::default()),
            framework: Arc::new(OnceLock::new()),
        }
    }

    /// A plugin that scores a fixed value per node name and waits at Permit.
    struct Fixed {
        name: &'static str,
        scores: HashMap<String, i64>,
        wait: Option<Duration>,
    }

    impl Plugin for Fixed {
        fn name(&self) -> &'static str {
            self.name
        }
        fn as_score(&self) -> Option<&dyn ScorePlugin> {
            Some(self)
        }
        fn as_permit(&self) -> Option<&dyn PermitPlugin> {
            Some(self)
        }
        fn as_filter(&self) -> Option<&dyn FilterPlugin> {
            Some(self)
        }
    }

    impl ScorePlugin for Fixed {
        fn score(
            &self,
            _state: &CycleState,
            _pod: &Pod,
            node_info: &NodeInfo,
        ) -> Result<i64, Status> {
            Ok(self.scores.get(node_info.node_name()).copied().unwrap_or(0))
        }
    }

    impl PermitPlugin for Fixed {
        fn permit(
            &self,
            _state: &mut CycleState,
            _pod: &Pod,
            _node_name: &str,
        ) -> (Status, Duration) {
            match self.wait {
                Some(wait) => (Status::new(Code::Wait, Vec::<String>::new()), wait),
                None => (Status::success(), Duration::ZERO),
            }
        }
    }

    impl FilterPlugin for Fixed {
        fn filter(&self, _state: &CycleState, _pod: &Pod, node_info: &NodeInfo) -> Status {
            if node_info.pods.len() > 1 {
                Status::unschedulable("too crowded")
            } else {
                Status::success()
            }
        }
    }

    fn framework(plugins: Vec<(Arc<dyn Plugin>, i64)>) -> Framework {
        let enabled: Vec<EnabledPlugin> = plugins
            .into_iter()
            .map(|(plugin, weight)| EnabledPlugin { plugin, weight })
            .collect();
        let points = ExtensionPoints {
            queue_sort: vec![EnabledPlugin {
                plugin: Arc::new(crate::plugins::queue_sort::PrioritySort),
                weight: 1,
            }],
            bind: vec![EnabledPlugin {
                plugin: Arc::new(crate::plugins::default_binder::DefaultBinder::new(handle())),
                weight: 1,
            }],
            score: enabled.clone(),
            permit: enabled.clone(),
            filter: enabled,
            ..ExtensionPoints::default()
        };
        Framework::new("test", points, handle(), 4).expect("framework")
    }

    fn fixed(
        name: &'static str,
        scores: &[(&str, i64)],
        wait: Option<Duration>,
    ) -> Arc<dyn Plugin> {
        Arc::new(Fixed {
            name,
            scores: scores.iter().map(|(n, s)| (n.to_string(), *s)).collect(),
            wait,
        })
    }

    #[test]
    fn score_totals_are_weighted() {
        let framework = framework(vec![
            (fixed("a", &[("n1", 10), ("n2", 50)], None), 1),
            (fixed("b", &[("n1", 100), ("n2", 0)], None), 3),
        ]);
        let nodes: Vec<Arc<NodeInfo>> = ["n1", "n2"]
            .iter()
            .map(|name| Arc::new(node_info(json!({"metadata": {"name": name}}), &[])))
            .collect();
        let totals = framework
            .run_score_plugins(
                &CycleState::new(),
                &named_pod("p", json!({}), json!({})),
                &nodes,
            )
            .expect("scores");
        assert_eq!(
            totals.iter().map(|s| s.score).collect::<Vec<_>>(),
            [310, 50]
        );
    }

    #[test]
    fn out_of_range_score_is_an_error() {
        let framework = framework(vec![(fixed("a", &[("n1", 101)], None), 1)]);
        let nodes = vec![Arc::new(node_info(
            json!({"metadata": {"name": "n1"}}),
            &[],
        ))];
        let error = framework
            .run_score_plugins(
                &CycleState::new(),
                &named_pod("p", json!({}), json!({})),
                &nodes,
            )
            .expect_err("invalid score");
        assert_eq!(error.code, Code::Error);
    }

    #[tokio::test]
    async fn permit_wait_is_allowed_rejected_or_times_out() {
        let framework = framework(vec![(fixed("gate", &[], Some(Duration::from_secs(5))), 1)]);
        let pod = named_pod("p", json!({}), json!({}));
        let (status, timeout, waiting) =
            framework.run_permit_plugins(&mut CycleState::new(), &pod, "n1");
        assert_eq!(status.code, Code::Wait);
        assert_eq!(timeout, Duration::from_secs(5));
        assert_eq!(waiting, ["gate"]);

        let waiting_pods = framework.handle().waiting_pods.clone();
        let allow = tokio::spawn(async move {
            while !waiting_pods.allow("default/p", "gate") {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let status = framework
            .wait_on_permit(&pod, waiting.clone(), timeout)
            .await;
        allow.await.expect("allow task");
        assert!(status.is_success(), "{status}");

        let waiting_pods = framework.handle().waiting_pods.clone();
        let reject = tokio::spawn(async move {
            while !waiting_pods.reject("default/p", "gate", "no room") {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let status = framework
            .wait_on_permit(&pod, waiting.clone(), timeout)
            .await;
        reject.await.expect("reject task");
        assert_eq!(status.code, Code::Unschedulable);
        assert_eq!(status.reasons, ["no room"]);

        let status = framework
            .wait_on_permit(&pod, waiting, Duration::from_millis(20))
            .await;
        assert_eq!(status.code, Code::Unschedulable);
        assert!(framework.handle().waiting_pods.keys().is_empty());
    }

    #[test]
    fn nominated_pods_take_room_for_lower_priority() {
        let framework = framework(vec![(fixed("crowd", &[], None), 1)]);
        let existing = pod_with_requests("e", "n1", &[(100, 100)]);
        let info = node_info(json!({"metadata": {"name": "n1"}}), &[existing]);
        let mut nominated = named_pod("nominated", json!({}), json!({"priority": 10}));
        nominated.status =
            Some(serde_json::from_value(json!({"nominatedNodeName": "n1"})).expect("status"));
        framework.handle().nominator.add(Arc::new(nominated), None);

        let low = named_pod("low", json!({}), json!({"priority": 1}));
        let high = named_pod("high", json!({}), json!({"priority": 100}));
        let state = CycleState::new();
        assert!(
            !framework
                .run_filter_with_nominated_pods(&state, &low, &info)
                .is_success()
        );
        assert!(
            framework
                .run_filter_with_nominated_pods(&state, &high, &info)
                .is_success()
        );
    }

    #[test]
    fn queue_sort_and_bind_are_required() {
        let error = Framework::new("empty", ExtensionPoints::default(), handle(), 1)
            .err()
            .expect("rejected");
        assert!(error.contains("queueSort"), "{error}");
    }
}
