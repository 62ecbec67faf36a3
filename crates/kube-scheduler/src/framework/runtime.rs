//! The framework of one profile: its plugins ordered per extension point and the methods
//! that run them with upstream's semantics. Build one with [`Framework::new`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;

use super::handle::Handle;
use super::interface::{
    Code, CycleState, NodeScore, Plugin, PostFilterResult, Status, MAX_NODE_SCORE,
    MIN_NODE_SCORE,
};
use super::parallelize::parallelize;
use super::types::{NodeInfo, PodInfo, pod_key, pod_priority};
use crate::cache::Snapshot;
use crate::queue::QueuedPodInfo;

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
    /// Builds a framework. Fails when QueueSort or Bind has no plugin, or a plugin is
    /// listed at an extension point it does not implement.
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
        let checks: [(&str, &[EnabledPlugin], fn(&dyn Plugin) -> bool); 11] = [
            ("queueSort", &points.queue_sort, |p| p.as_queue_sort().is_some()),
            ("preFilter", &points.pre_filter, |p| p.as_pre_filter().is_some()),
            ("filter", &points.filter, |p| p.as_filter().is_some()),
            ("postFilter", &points.post_filter, |p| p.as_post_filter().is_some()),
            ("preScore", &points.pre_score, |p| p.as_pre_score().is_some()),
            ("score", &points.score, |p| p.as_score().is_some()),
            ("reserve", &points.reserve, |p| p.as_reserve().is_some()),
            ("permit", &points.permit, |p| p.as_permit().is_some()),
            ("preBind", &points.pre_bind, |p| p.as_pre_bind().is_some()),
            ("bind", &points.bind, |p| p.as_bind().is_some()),
            ("postBind", &points.post_bind, |p| p.as_post_bind().is_some()),
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
        Ok(Framework {
            profile_name: profile_name.to_string(),
            points,
            handle,
            parallelism: parallelism.max(1),
        })
    }

    /// The profile's schedulerName.
    pub fn profile_name(&self) -> &str {
        &self.profile_name
    }

    /// The handle the plugins were built with.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The number of worker threads for Filter and Score.
    pub fn parallelism(&self) -> usize {
        self.parallelism
    }

    /// The enabled plugins per extension point.
    pub fn extension_points(&self) -> &ExtensionPoints {
        &self.points
    }

    /// Returns whether `a` sorts before `b` in the active queue.
    pub fn queue_sort_less(&self, a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool {
        let plugin = &self.points.queue_sort[0].plugin;
        plugin
            .as_queue_sort()
            .is_some_and(|sort| sort.less(a, b))
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
    pub fn run_filter_plugins(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
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
            .filter(|other| pod_priority(other) >= pod_priority(pod) && pod_key(other) != pod_key(pod))
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
        let mut totals: Vec<NodeScore> = nodes
            .iter()
            .map(|info| NodeScore {
                name: info.node_name().to_string(),
                score: 0,
            })
            .collect();
        for enabled in &self.points.score {
            let Some(plugin) = enabled.plugin.as_score() else {
                continue;
            };
            let name = enabled.plugin.name();
            let results = parallelize(
                self.parallelism,
                nodes.len(),
                |i| Some(plugin.score(state, pod, &nodes[i])),
                || false,
            );
            let mut scores = Vec::with_capacity(nodes.len());
            for (i, result) in results {
                let score = result.map_err(|status| {
                    Status::error(format!("running Score plugin {name:?}: {}", status.message()))
                        .with_plugin(name)
                })?;
                scores.push(NodeScore {
                    name: nodes[i].node_name().to_string(),
                    score,
                });
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
                total.score += score.score * enabled.weight;
            }
        }
        Ok(totals)
    }

    /// Runs the Reserve plugins; on failure the caller runs [`Framework::run_unreserve_plugins`].
    pub fn run_reserve_plugins(&self, state: &mut CycleState, pod: &Pod, node_name: &str) -> Status {
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
        (Status::new(Code::Wait, Vec::<String>::new()), timeout, waiting)
    }

    /// Parks a pod that Permit asked to wait and waits until it is allowed, rejected or
    /// `timeout` passes (a rejection).
    pub async fn wait_on_permit(&self, pod: &Pod, plugins: Vec<String>, timeout: Duration) -> Status {
        let key = pod_key(pod);
        let receiver = self.handle.waiting_pods.add(pod, plugins);
        match tokio::time::timeout(timeout, receiver).await {
            Ok(Ok(status)) => status,
            Ok(Err(_)) => Status::error(format!("waiting pod {key} was dropped")),
            Err(_) => {
                let message = format!("rejected due to timeout after waiting {timeout:?} at permit");
                self.handle.waiting_pods.reject(&key, "", &message);
                Status::unschedulable(message)
            }
        }
    }

    /// Runs the PreBind plugins; the first failure ends the run.
    pub async fn run_pre_bind_plugins(&self, state: &CycleState, pod: &Pod, node_name: &str) -> Status {
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
