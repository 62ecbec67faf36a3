//! The `KubeSchedulerConfiguration` file (`kubescheduler.config.k8s.io/v1`): decoding,
//! defaulting, and building one [`Framework`] per profile from it.
//!
//! Plugin sets follow the v1 rules. A profile starts from the default `multiPoint`
//! plugins, and `multiPoint.disabled` removes them (`*` removes all). `multiPoint.enabled`
//! adds plugins at every extension point they implement. The per-extension-point lists
//! then disable and enable plugins at that point only. The legacy scheduler Policy
//! ([`crate::policy`]) replaces a profile's plugin sets before they are resolved.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::Deserialize;

use crate::framework::handle::Handle;
use crate::framework::interface::Plugin;
use crate::framework::runtime::{EnabledPlugin, ExtensionPoints, Framework};
use crate::plugins::{Registry, default_multi_point};

/// The default scheduler name of pods and of the first profile.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// A failure to read or apply the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("failed to read scheduler configuration {path}: {source}")]
    Read {
        /// The file path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The YAML or JSON could not be decoded.
    #[error("failed to decode scheduler configuration: {0}")]
    Decode(String),
    /// A value is invalid.
    #[error("invalid scheduler configuration: {0}")]
    Invalid(String),
}

/// A plugin reference in a plugin set.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct PluginRef {
    /// The plugin name, or `*` in `disabled` for every plugin.
    pub name: String,
    /// The score weight; 0 means the default.
    #[serde(default)]
    pub weight: i64,
}

/// Enabled and disabled plugins of one extension point.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct PluginSet {
    /// Plugins added.
    #[serde(default)]
    pub enabled: Vec<PluginRef>,
    /// Plugins removed.
    #[serde(default)]
    pub disabled: Vec<PluginRef>,
}

/// The plugin sets of a profile.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Plugins {
    /// Plugins enabled at every extension point they implement.
    #[serde(default)]
    pub multi_point: PluginSet,
    /// QueueSort.
    #[serde(default)]
    pub queue_sort: PluginSet,
    /// PreFilter.
    #[serde(default)]
    pub pre_filter: PluginSet,
    /// Filter.
    #[serde(default)]
    pub filter: PluginSet,
    /// PostFilter.
    #[serde(default)]
    pub post_filter: PluginSet,
    /// PreScore.
    #[serde(default)]
    pub pre_score: PluginSet,
    /// Score.
    #[serde(default)]
    pub score: PluginSet,
    /// Reserve.
    #[serde(default)]
    pub reserve: PluginSet,
    /// Permit.
    #[serde(default)]
    pub permit: PluginSet,
    /// PreBind.
    #[serde(default)]
    pub pre_bind: PluginSet,
    /// Bind.
    #[serde(default)]
    pub bind: PluginSet,
    /// PostBind.
    #[serde(default)]
    pub post_bind: PluginSet,
}

/// Args for one plugin.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct PluginConfig {
    /// The plugin name.
    pub name: String,
    /// The plugin's args object.
    #[serde(default)]
    pub args: serde_json::Value,
}

/// One scheduling profile.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The `spec.schedulerName` the profile serves.
    #[serde(default = "default_scheduler_name")]
    pub scheduler_name: String,
    /// Overrides the global percentage for this profile.
    #[serde(default)]
    pub percentage_of_nodes_to_score: Option<i32>,
    /// The plugin sets.
    #[serde(default)]
    pub plugins: Option<Plugins>,
    /// Plugin args.
    #[serde(default)]
    pub plugin_config: Vec<PluginConfig>,
}

fn default_scheduler_name() -> String {
    DEFAULT_SCHEDULER_NAME.to_string()
}

/// The leader election settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LeaderElection {
    /// Whether to elect a leader before scheduling.
    #[serde(default = "default_true")]
    pub leader_elect: bool,
    /// How long a lease is valid, such as `15s`.
    #[serde(default = "default_lease_duration")]
    pub lease_duration: String,
    /// How long the leader retries renewing before giving up, such as `10s`.
    #[serde(default = "default_renew_deadline")]
    pub renew_deadline: String,
    /// The wait between attempts, such as `2s`.
    #[serde(default = "default_retry_period")]
    pub retry_period: String,
    /// The lock kind; only `leases` is supported.
    #[serde(default = "default_resource_lock")]
    pub resource_lock: String,
    /// The Lease name.
    #[serde(default = "default_resource_name")]
    pub resource_name: String,
    /// The Lease namespace.
    #[serde(default = "default_resource_namespace")]
    pub resource_namespace: String,
}

fn default_true() -> bool {
    true
}
fn default_lease_duration() -> String {
    "15s".to_string()
}
fn default_renew_deadline() -> String {
    "10s".to_string()
}
fn default_retry_period() -> String {
    "2s".to_string()
}
fn default_resource_lock() -> String {
    "leases".to_string()
}
fn default_resource_name() -> String {
    "kube-scheduler".to_string()
}
fn default_resource_namespace() -> String {
    "kube-system".to_string()
}

impl Default for LeaderElection {
    fn default() -> Self {
        LeaderElection {
            leader_elect: true,
            lease_duration: default_lease_duration(),
            renew_deadline: default_renew_deadline(),
            retry_period: default_retry_period(),
            resource_lock: default_resource_lock(),
            resource_name: default_resource_name(),
            resource_namespace: default_resource_namespace(),
        }
    }
}

/// The client connection settings.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClientConnection {
    /// The kubeconfig path.
    #[serde(default)]
    pub kubeconfig: String,
    /// Requests per second.
    #[serde(default)]
    pub qps: Option<f32>,
    /// The burst above `qps`.
    #[serde(default)]
    pub burst: Option<u32>,
}

/// The decoded `KubeSchedulerConfiguration`, with defaults applied.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KubeSchedulerConfiguration {
    /// Must be `kubescheduler.config.k8s.io/v1`.
    #[serde(default)]
    pub api_version: String,
    /// Must be `KubeSchedulerConfiguration`.
    #[serde(default)]
    pub kind: String,
    /// Worker threads for Filter and Score (16 by default).
    #[serde(default = "default_parallelism")]
    pub parallelism: usize,
    /// Percentage of nodes to find feasible before scoring; 0 picks adaptively.
    #[serde(default)]
    pub percentage_of_nodes_to_score: Option<i32>,
    /// The backoff after the first failed attempt, in seconds (1 by default).
    #[serde(default = "default_initial_backoff")]
    pub pod_initial_backoff_seconds: u64,
    /// The cap on the backoff, in seconds (10 by default).
    #[serde(default = "default_max_backoff")]
    pub pod_max_backoff_seconds: u64,
    /// Leader election.
    #[serde(default)]
    pub leader_election: LeaderElection,
    /// The client connection.
    #[serde(default)]
    pub client_connection: ClientConnection,
    /// The profiles; one default profile when empty.
    #[serde(default)]
    pub profiles: Vec<Profile>,
}

fn default_parallelism() -> usize {
    16
}
fn default_initial_backoff() -> u64 {
    1
}
fn default_max_backoff() -> u64 {
    10
}

impl Default for KubeSchedulerConfiguration {
    fn default() -> Self {
        let mut config = KubeSchedulerConfiguration {
            api_version: "kubescheduler.config.k8s.io/v1".to_string(),
            kind: "KubeSchedulerConfiguration".to_string(),
            parallelism: default_parallelism(),
            percentage_of_nodes_to_score: None,
            pod_initial_backoff_seconds: default_initial_backoff(),
            pod_max_backoff_seconds: default_max_backoff(),
            leader_election: LeaderElection::default(),
            client_connection: ClientConnection::default(),
            profiles: Vec::new(),
        };
        config.set_defaults();
        config
    }
}

impl KubeSchedulerConfiguration {
    /// Reads and validates a configuration file (YAML or JSON).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] on a read, decode or validation failure.
    pub fn from_file(path: &str) -> Result<KubeSchedulerConfiguration, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_string(),
            source,
        })?;
        Self::from_yaml(&text)
    }

    /// Decodes and validates a configuration document (YAML or JSON).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Decode`] or [`ConfigError::Invalid`].
    pub fn from_yaml(text: &str) -> Result<KubeSchedulerConfiguration, ConfigError> {
        let value: serde_json::Value =
            serde_saphyr::from_str(text).map_err(|error| ConfigError::Decode(error.to_string()))?;
        let mut config: KubeSchedulerConfiguration = serde_json::from_value(value)
            .map_err(|error| ConfigError::Decode(error.to_string()))?;
        if config.kind != "KubeSchedulerConfiguration" {
            return Err(ConfigError::Invalid(format!(
                "kind: Invalid value: {:?}: must be KubeSchedulerConfiguration",
                config.kind
            )));
        }
        if config.api_version != "kubescheduler.config.k8s.io/v1" {
            return Err(ConfigError::Invalid(format!(
                "apiVersion: Invalid value: {:?}: only kubescheduler.config.k8s.io/v1 is supported",
                config.api_version
            )));
        }
        config.set_defaults();
        config.validate()?;
        Ok(config)
    }

    fn set_defaults(&mut self) {
        if self.profiles.is_empty() {
            self.profiles.push(Profile {
                scheduler_name: DEFAULT_SCHEDULER_NAME.to_string(),
                percentage_of_nodes_to_score: None,
                plugins: None,
                plugin_config: Vec::new(),
            });
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.parallelism == 0 {
            return Err(ConfigError::Invalid(
                "parallelism: Invalid value: 0: should be an integer value greater than zero"
                    .to_string(),
            ));
        }
        if let Some(percentage) = self.percentage_of_nodes_to_score
            && !(0..=100).contains(&percentage)
        {
            return Err(ConfigError::Invalid(format!(
                "percentageOfNodesToScore: Invalid value: {percentage}: not in valid range [0-100]"
            )));
        }
        if self.pod_initial_backoff_seconds == 0 {
            return Err(ConfigError::Invalid(
                "podInitialBackoffSeconds: Invalid value: 0: must be greater than 0".to_string(),
            ));
        }
        if self.pod_max_backoff_seconds < self.pod_initial_backoff_seconds {
            return Err(ConfigError::Invalid(format!(
                "podMaxBackoffSeconds: Invalid value: {}: must be greater than or equal to PodInitialBackoffSeconds",
                self.pod_max_backoff_seconds
            )));
        }
        let mut names = std::collections::HashSet::new();
        for profile in &self.profiles {
            if profile.scheduler_name.is_empty() {
                return Err(ConfigError::Invalid(
                    "profiles[].schedulerName: Required value".to_string(),
                ));
            }
            if !names.insert(profile.scheduler_name.clone()) {
                return Err(ConfigError::Invalid(format!(
                    "profiles[].schedulerName: Duplicate value: {:?}",
                    profile.scheduler_name
                )));
            }
        }
        for duration in [
            &self.leader_election.lease_duration,
            &self.leader_election.renew_deadline,
            &self.leader_election.retry_period,
        ] {
            parse_duration(duration).map_err(ConfigError::Invalid)?;
        }
        Ok(())
    }
}

/// Parses a Go duration such as `15s`, `1m30s` or `500ms`.
///
/// # Errors
///
/// A message naming the invalid text.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid duration {text:?}");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(invalid)?;
        let number: f64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return Err(invalid()),
        };
        total += Duration::from_secs_f64(number * seconds);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// The extension point names and accessors used to resolve plugin sets.
const POINTS: [&str; 11] = [
    "queueSort",
    "preFilter",
    "filter",
    "postFilter",
    "preScore",
    "score",
    "reserve",
    "permit",
    "preBind",
    "bind",
    "postBind",
];

fn implements(plugin: &dyn Plugin, point: &str) -> bool {
    match point {
        "queueSort" => plugin.as_queue_sort().is_some(),
        "preFilter" => plugin.as_pre_filter().is_some(),
        "filter" => plugin.as_filter().is_some(),
        "postFilter" => plugin.as_post_filter().is_some(),
        "preScore" => plugin.as_pre_score().is_some(),
        "score" => plugin.as_score().is_some(),
        "reserve" => plugin.as_reserve().is_some(),
        "permit" => plugin.as_permit().is_some(),
        "preBind" => plugin.as_pre_bind().is_some(),
        "bind" => plugin.as_bind().is_some(),
        "postBind" => plugin.as_post_bind().is_some(),
        _ => false,
    }
}

fn point_set<'a>(plugins: &'a Plugins, point: &str) -> &'a PluginSet {
    match point {
        "queueSort" => &plugins.queue_sort,
        "preFilter" => &plugins.pre_filter,
        "filter" => &plugins.filter,
        "postFilter" => &plugins.post_filter,
        "preScore" => &plugins.pre_score,
        "score" => &plugins.score,
        "reserve" => &plugins.reserve,
        "permit" => &plugins.permit,
        "preBind" => &plugins.pre_bind,
        "bind" => &plugins.bind,
        _ => &plugins.post_bind,
    }
}

fn point_list<'a>(points: &'a mut ExtensionPoints, point: &str) -> &'a mut Vec<EnabledPlugin> {
    match point {
        "queueSort" => &mut points.queue_sort,
        "preFilter" => &mut points.pre_filter,
        "filter" => &mut points.filter,
        "postFilter" => &mut points.post_filter,
        "preScore" => &mut points.pre_score,
        "score" => &mut points.score,
        "reserve" => &mut points.reserve,
        "permit" => &mut points.permit,
        "preBind" => &mut points.pre_bind,
        "bind" => &mut points.bind,
        _ => &mut points.post_bind,
    }
}

/// Builds the framework of one profile with plugins from `registry`.
///
/// # Errors
///
/// An unknown plugin, invalid args, or an invalid extension point set.
pub fn build_framework(
    profile: &Profile,
    registry: &Registry,
    handle: Handle,
    parallelism: usize,
) -> Result<Arc<Framework>, ConfigError> {
    let plugins = profile.plugins.clone().unwrap_or_default();
    let args: HashMap<&str, &serde_json::Value> = profile
        .plugin_config
        .iter()
        .map(|config| (config.name.as_str(), &config.args))
        .collect();

    let disable_all = plugins.multi_point.disabled.iter().any(|p| p.name == "*");
    let mut multi_point: Vec<(String, i64)> = if disable_all {
        Vec::new()
    } else {
        default_multi_point()
            .into_iter()
            .filter(|(name, _)| !plugins.multi_point.disabled.iter().any(|p| p.name == *name))
            .map(|(name, weight)| (name.to_string(), weight))
            .collect()
    };
    for enabled in &plugins.multi_point.enabled {
        multi_point.retain(|(name, _)| *name != enabled.name);
        multi_point.push((enabled.name.clone(), enabled.weight));
    }

    let mut instances: BTreeMap<String, Arc<dyn Plugin>> = BTreeMap::new();
    let mut instantiate = |name: &str| -> Result<Arc<dyn Plugin>, ConfigError> {
        if let Some(plugin) = instances.get(name) {
            return Ok(plugin.clone());
        }
        let factory = registry.get(name).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "profile {:?}: plugin {name:?} does not exist",
                profile.scheduler_name
            ))
        })?;
        let null = serde_json::Value::Null;
        let plugin_args = args.get(name).copied().unwrap_or(&null);
        let plugin = factory(plugin_args, &handle).map_err(|error| {
            ConfigError::Invalid(format!(
                "profile {:?}: initializing plugin {name:?}: {error}",
                profile.scheduler_name
            ))
        })?;
        instances.insert(name.to_string(), plugin.clone());
        Ok(plugin)
    };

    let mut points = ExtensionPoints::default();
    for point in POINTS {
        let set = point_set(&plugins, point);
        let disable_point = set.disabled.iter().any(|p| p.name == "*");
        let mut list: Vec<EnabledPlugin> = Vec::new();
        if !disable_point {
            for (name, weight) in &multi_point {
                if set.disabled.iter().any(|p| p.name == *name) {
                    continue;
                }
                let plugin = instantiate(name)?;
                if implements(plugin.as_ref(), point) {
                    list.push(EnabledPlugin {
                        plugin,
                        weight: if point == "score" && *weight > 0 {
                            *weight
                        } else {
                            1
                        },
                    });
                }
            }
        }
        for enabled in &set.enabled {
            let plugin = instantiate(&enabled.name)?;
            list.retain(|existing| existing.plugin.name() != enabled.name);
            list.push(EnabledPlugin {
                plugin,
                weight: if point == "score" && enabled.weight > 0 {
                    enabled.weight
                } else {
                    1
                },
            });
        }
        *point_list(&mut points, point) = list;
    }

    for name in args.keys() {
        if !instances.contains_key(*name) && registry.contains_key(*name) {
            tracing::warn!(plugin = %name, profile = %profile.scheduler_name, "pluginConfig for a plugin that is not enabled");
        }
    }

    let framework_cell = handle.framework.clone();
    let framework = Arc::new(
        Framework::new(&profile.scheduler_name, points, handle, parallelism)
            .map_err(ConfigError::Invalid)?,
    );
    let _ = framework_cell.set(Arc::downgrade(&framework));
    Ok(framework)
}

/// Builds a handle with a fresh framework slot from shared parts.
pub fn profile_handle(base: &Handle) -> Handle {
    Handle {
        framework: Arc::new(OnceLock::new()),
        ..base.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    use async_trait::async_trait;
    use k8s_openapi::api::core::v1::{Pod, PodCondition};

    use crate::framework::handle::{ApiError, ClusterClient, ClusterState, Nominator, WaitingPods};
    use crate::plugins::in_tree_registry;

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
            _condition: Option<PodCondition>,
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

    fn names(plugins: &[EnabledPlugin]) -> Vec<(&'static str, i64)> {
        plugins
            .iter()
            .map(|p| (p.plugin.name(), p.weight))
            .collect()
    }

    fn profile(yaml: &str) -> Profile {
        let text = format!(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n{yaml}"
        );
        KubeSchedulerConfiguration::from_yaml(&text)
            .expect("config")
            .profiles
            .remove(0)
    }

    #[test]
    fn default_profile_has_upstream_weights() {
        let framework = build_framework(
            &profile("- schedulerName: a\n"),
            &in_tree_registry(),
            handle(),
            4,
        )
        .expect("framework");
        let points = framework.extension_points();
        assert_eq!(
            names(&points.score),
            [
                ("TaintToleration", 3),
                ("NodeAffinity", 2),
                ("NodeResourcesFit", 1),
                ("PodTopologySpread", 2),
                ("InterPodAffinity", 2),
                ("NodeResourcesBalancedAllocation", 1),
                ("ImageLocality", 1),
            ]
        );
        assert_eq!(names(&points.post_filter), [("DefaultPreemption", 1)]);
        assert_eq!(names(&points.bind), [("DefaultBinder", 1)]);
        assert_eq!(names(&points.queue_sort), [("PrioritySort", 1)]);
        assert!(
            framework.handle().framework().is_some(),
            "the handle points back to its framework"
        );
    }

    #[test]
    fn plugin_sets_disable_and_enable() {
        let yaml = "- schedulerName: a\n  plugins:\n    score:\n      disabled:\n      - name: '*'\n      enabled:\n      - name: NodeResourcesFit\n        weight: 5\n    multiPoint:\n      disabled:\n      - name: DefaultPreemption\n";
        let framework =
            build_framework(&profile(yaml), &in_tree_registry(), handle(), 4).expect("framework");
        let points = framework.extension_points();
        assert_eq!(names(&points.score), [("NodeResourcesFit", 5)]);
        assert!(points.post_filter.is_empty());
        assert!(names(&points.filter).contains(&("TaintToleration", 1)));
    }

    #[test]
    fn invalid_plugin_sets_are_rejected() {
        let cases = [
            "- schedulerName: a\n  plugins:\n    filter:\n      enabled:\n      - name: Bogus\n",
            "- schedulerName: a\n  plugins:\n    filter:\n      enabled:\n      - name: ImageLocality\n",
            "- schedulerName: a\n  plugins:\n    bind:\n      disabled:\n      - name: '*'\n",
            "- schedulerName: a\n  pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: Bogus\n",
            "- schedulerName: a\n  pluginConfig:\n  - name: DefaultPreemption\n    args:\n      minCandidateNodesPercentage: 200\n",
        ];
        for (i, yaml) in cases.iter().enumerate() {
            assert!(
                build_framework(&profile(yaml), &in_tree_registry(), handle(), 4).is_err(),
                "case {i}"
            );
        }
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn decodes_profiles_and_defaults() {
        let config = KubeSchedulerConfiguration::from_yaml(
            r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
leaderElection:
  leaderElect: false
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packing
  plugins:
    score:
      disabled:
      - name: NodeResourcesBalancedAllocation
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
"#,
        )
        .expect("config");
        assert_eq!(config.profiles.len(), 2);
        assert_eq!(config.parallelism, 16);
        assert_eq!(config.pod_initial_backoff_seconds, 1);
        assert_eq!(config.pod_max_backoff_seconds, 10);
        assert_eq!(config.percentage_of_nodes_to_score, Some(30));
        assert!(!config.leader_election.leader_elect);
        assert_eq!(config.leader_election.resource_namespace, "kube-system");
    }

    #[test]
    fn rejects_bad_documents() {
        let cases = [
            "apiVersion: kubescheduler.config.k8s.io/v1beta9\nkind: KubeSchedulerConfiguration\n",
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: Other\n",
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nparallelism: 0\n",
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: a\n- schedulerName: a\n",
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npodInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 2\n",
        ];
        for (i, text) in cases.iter().enumerate() {
            assert!(
                KubeSchedulerConfiguration::from_yaml(text).is_err(),
                "case {i}"
            );
        }
    }
}
