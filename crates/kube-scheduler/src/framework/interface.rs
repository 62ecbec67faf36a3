//! The plugin contracts of the scheduling framework: [`Status`], [`CycleState`] and one
//! trait per extension point. A plugin implements [`Plugin`] and returns itself from the
//! `as_*` method of each extension point it serves.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Pod;

use super::handle::Handle;
use super::types::{NodeInfo, PodInfo};
use crate::cache::Snapshot;
use crate::queue::QueuedPodInfo;

/// The highest score a Score plugin may return after normalization.
pub const MAX_NODE_SCORE: i64 = 100;
/// The lowest score a Score plugin may return after normalization.
pub const MIN_NODE_SCORE: i64 = 0;

/// The outcome class of a plugin call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// The call passed.
    Success,
    /// An internal error; the pod is retried with backoff.
    Error,
    /// The pod does not fit now; preemption may make it fit.
    Unschedulable,
    /// The pod does not fit and preemption on this node cannot change that.
    UnschedulableAndUnresolvable,
    /// A Permit plugin requests that the binding cycle wait.
    Wait,
    /// The plugin does not apply (Bind: let the next binder handle it).
    Skip,
}

/// The result of a plugin call: a code, the reasons shown to the user, and the plugin
/// that produced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The outcome class.
    pub code: Code,
    /// Human-readable reasons, such as `Insufficient cpu`.
    pub reasons: Vec<String>,
    /// The plugin that returned the status, filled in by the framework.
    pub plugin: String,
}

impl Status {
    /// Builds a success.
    pub fn success() -> Status {
        Status::new(Code::Success, Vec::<String>::new())
    }

    /// Builds a status with a code and reasons.
    pub fn new<S: Into<String>>(code: Code, reasons: impl IntoIterator<Item = S>) -> Status {
        Status {
            code,
            reasons: reasons.into_iter().map(Into::into).collect(),
            plugin: String::new(),
        }
    }

    /// Builds an internal error with one message.
    pub fn error(message: impl Into<String>) -> Status {
        Status::new(Code::Error, [message.into()])
    }

    /// Builds an `Unschedulable` status with one reason.
    pub fn unschedulable(reason: impl Into<String>) -> Status {
        Status::new(Code::Unschedulable, [reason.into()])
    }

    /// Builds an `UnschedulableAndUnresolvable` status with one reason.
    pub fn unresolvable(reason: impl Into<String>) -> Status {
        Status::new(Code::UnschedulableAndUnresolvable, [reason.into()])
    }

    /// Returns whether the code is `Success`.
    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }

    /// Returns whether the code is one of the two unschedulable codes.
    pub fn is_unschedulable(&self) -> bool {
        matches!(
            self.code,
            Code::Unschedulable | Code::UnschedulableAndUnresolvable
        )
    }

    /// Returns the reasons joined with `, `.
    pub fn message(&self) -> String {
        self.reasons.join(", ")
    }

    pub(crate) fn with_plugin(mut self, plugin: &str) -> Status {
        if self.plugin.is_empty() {
            self.plugin = plugin.to_string();
        }
        self
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message())
    }
}

/// Data a plugin keeps in the [`CycleState`] between extension points.
pub trait StateData: Any + Send + Sync {
    /// Returns a deep copy, used when preemption or nominated pods need a private state.
    fn clone_data(&self) -> Box<dyn StateData>;
    /// Returns `self` for downcasting.
    fn as_any(&self) -> &dyn Any;
    /// Returns `self` for mutable downcasting.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any + Clone + Send + Sync> StateData for T {
    fn clone_data(&self) -> Box<dyn StateData> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Per-pod scheduling-cycle storage shared by the plugins, keyed by a plugin's own key.
/// Filter and Score run in parallel over nodes and only read it.
///
/// The entries sit in a vector searched linearly: a cycle holds about a dozen, and
/// Filter and Score read them for every node, where comparing short keys costs less
/// than hashing them.
#[derive(Default)]
pub struct CycleState {
    data: Vec<(String, Box<dyn StateData>)>,
    /// Whether Score plugins should skip (set when only one node is feasible).
    pub skip_score: bool,
}

impl Clone for CycleState {
    fn clone(&self) -> Self {
        CycleState {
            data: self
                .data
                .iter()
                .map(|(key, value)| (key.clone(), value.as_ref().clone_data()))
                .collect(),
            skip_score: self.skip_score,
        }
    }
}

impl CycleState {
    /// Creates an empty state.
    pub fn new() -> CycleState {
        CycleState::default()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.data.iter().position(|(existing, _)| existing == key)
    }

    /// Stores `value` under `key`, replacing any earlier value.
    pub fn write<T: StateData>(&mut self, key: &str, value: T) {
        match self.position(key) {
            Some(i) => self.data[i].1 = Box::new(value),
            None => self.data.push((key.to_string(), Box::new(value))),
        }
    }

    /// Returns the value under `key` if it has type `T`.
    pub fn read<T: 'static>(&self, key: &str) -> Option<&T> {
        let i = self.position(key)?;
        self.data[i].1.as_ref().as_any().downcast_ref()
    }

    /// Returns the value under `key` mutably if it has type `T`.
    pub fn read_mut<T: 'static>(&mut self, key: &str) -> Option<&mut T> {
        let i = self.position(key)?;
        self.data[i].1.as_mut().as_any_mut().downcast_mut()
    }
}

/// A node name and its score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeScore {
    /// The node.
    pub name: String,
    /// The score.
    pub score: i64,
}

/// The base trait of every plugin.
pub trait Plugin: Send + Sync {
    /// Returns the upstream plugin name, as profiles enable it.
    fn name(&self) -> &'static str;

    /// Returns the QueueSort extension, if the plugin serves it.
    fn as_queue_sort(&self) -> Option<&dyn QueueSortPlugin> {
        None
    }
    /// Returns the PreFilter extension, if the plugin serves it.
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        None
    }
    /// Returns the Filter extension, if the plugin serves it.
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        None
    }
    /// Returns the PostFilter extension, if the plugin serves it.
    fn as_post_filter(&self) -> Option<&dyn PostFilterPlugin> {
        None
    }
    /// Returns the PreScore extension, if the plugin serves it.
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        None
    }
    /// Returns the Score extension, if the plugin serves it.
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        None
    }
    /// Returns the Reserve extension, if the plugin serves it.
    fn as_reserve(&self) -> Option<&dyn ReservePlugin> {
        None
    }
    /// Returns the Permit extension, if the plugin serves it.
    fn as_permit(&self) -> Option<&dyn PermitPlugin> {
        None
    }
    /// Returns the PreBind extension, if the plugin serves it.
    fn as_pre_bind(&self) -> Option<&dyn PreBindPlugin> {
        None
    }
    /// Returns the Bind extension, if the plugin serves it.
    fn as_bind(&self) -> Option<&dyn BindPlugin> {
        None
    }
    /// Returns the PostBind extension, if the plugin serves it.
    fn as_post_bind(&self) -> Option<&dyn PostBindPlugin> {
        None
    }
}

/// Orders the active queue. Exactly one is enabled per profile.
pub trait QueueSortPlugin: Send + Sync {
    /// Returns whether `a` should be scheduled before `b`.
    fn less(&self, a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool;
}

/// Runs once per scheduling cycle before any Filter. A non-success status ends the
/// cycle: the pod is unschedulable on every node.
pub trait PreFilterPlugin: Send + Sync {
    /// Computes state for the Filter calls.
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, snapshot: &Snapshot) -> Status;

    /// Updates the state as if `pod_to_add` ran on `node_info`'s node; used for nominated
    /// pods and preemption dry runs. The default does nothing.
    fn add_pod(
        &self,
        _state: &mut CycleState,
        _pod_to_schedule: &Pod,
        _pod_to_add: &PodInfo,
        _node_info: &NodeInfo,
    ) -> Status {
        Status::success()
    }

    /// Updates the state as if `pod_to_remove` left `node_info`'s node. The default does
    /// nothing.
    fn remove_pod(
        &self,
        _state: &mut CycleState,
        _pod_to_schedule: &Pod,
        _pod_to_remove: &PodInfo,
        _node_info: &NodeInfo,
    ) -> Status {
        Status::success()
    }
}

/// Decides whether the pod fits one node. Called in parallel for many nodes; the first
/// non-success status for a node stops the remaining Filter plugins for that node.
pub trait FilterPlugin: Send + Sync {
    /// Returns success when the pod fits `node_info`'s node.
    fn filter(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status;
}

/// The outcome of a PostFilter that made room for the pod.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostFilterResult {
    /// The node the pod is nominated to once victims leave.
    pub nominated_node_name: String,
}

/// Runs when no node passed Filter, such as preemption. Plugins run in order until one
/// returns success.
#[async_trait]
pub trait PostFilterPlugin: Send + Sync {
    /// Tries to make the pod schedulable. `statuses` contains each node's filter failure.
    async fn post_filter(
        &self,
        state: &CycleState,
        pod: &Pod,
        statuses: &HashMap<String, Status>,
        snapshot: &Snapshot,
    ) -> (Option<PostFilterResult>, Status);
}

/// Runs once before Score with the feasible nodes.
pub trait PreScorePlugin: Send + Sync {
    /// Computes state for the Score calls.
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status;
}

/// Ranks feasible nodes. Called in parallel for many nodes.
pub trait ScorePlugin: Send + Sync {
    /// Returns the raw score of one node.
    fn score(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status>;

    /// Rescales raw scores into [`MIN_NODE_SCORE`]..=[`MAX_NODE_SCORE`]; the default
    /// leaves them unchanged.
    fn normalize_score(
        &self,
        _state: &CycleState,
        _pod: &Pod,
        _scores: &mut [NodeScore],
    ) -> Status {
        Status::success()
    }
}

/// Updates plugin-held state when a pod is assumed on a node. Unreserve runs on every
/// later failure, in reverse order, and must be idempotent.
pub trait ReservePlugin: Send + Sync {
    /// Reserves resources for the pod on `node_name`.
    fn reserve(&self, state: &mut CycleState, pod: &Pod, node_name: &str) -> Status;
    /// Releases what [`ReservePlugin::reserve`] took.
    fn unreserve(&self, state: &mut CycleState, pod: &Pod, node_name: &str);
}

/// Approves, rejects or delays the binding of a pod. A `Wait` status with a timeout
/// parks the pod until some component allows or rejects it through the framework's
/// waiting pods, or the timeout rejects it.
pub trait PermitPlugin: Send + Sync {
    /// Returns success, an unschedulable status, or `Wait` with the longest wait.
    fn permit(&self, state: &mut CycleState, pod: &Pod, node_name: &str) -> (Status, Duration);
}

/// Runs before Bind, for example to provision volumes. A failure unreserves the pod.
#[async_trait]
pub trait PreBindPlugin: Send + Sync {
    /// Prepares the binding.
    async fn pre_bind(&self, state: &CycleState, pod: &Pod, node_name: &str) -> Status;
}

/// Binds the pod. Binders run in order until one returns other than `Skip`.
#[async_trait]
pub trait BindPlugin: Send + Sync {
    /// Binds the pod to the node.
    async fn bind(&self, state: &CycleState, pod: &Pod, node_name: &str) -> Status;
}

/// Informational hook after a successful bind.
pub trait PostBindPlugin: Send + Sync {
    /// Observes a successful bind.
    fn post_bind(&self, state: &CycleState, pod: &Pod, node_name: &str);
}

/// Builds a plugin from its `pluginConfig` args (JSON, `null` when none) and the
/// framework handle.
pub type PluginFactory =
    fn(args: &serde_json::Value, handle: &Handle) -> Result<Arc<dyn Plugin>, String>;
