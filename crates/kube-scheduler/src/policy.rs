//! The legacy scheduler Policy (`kind: Policy`, `apiVersion: v1`): lists of predicates
//! and weighted priorities, read from `--policy-config-file` or from the `policy.cfg`
//! key of the ConfigMap named by `--policy-configmap`.
//!
//! Kubernetes removed the Policy in 1.23 in favor of profiles. It is accepted here for
//! compatibility with the 1.18 design this scheduler follows: [`apply_policy`] turns a
//! Policy into the plugin sets of a profile the way the 1.18 legacy registry mapped
//! each predicate and priority onto framework plugins. Plugins whose Filter or Score
//! reads state from their own PreFilter or PreScore are enabled there too, because
//! here that state is required. Extenders are not supported.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::{ConfigError, PluginConfig, PluginRef, PluginSet, Plugins, Profile};
use crate::framework::interface::MAX_NODE_SCORE;
use crate::plugins::legacy::{
    node_label, node_prefer_avoid_pods, resource_scores, selector_spread, service_affinity,
};
use crate::plugins::{
    default_binder, default_preemption, image_locality, inter_pod_affinity, node_affinity,
    node_name, node_ports, node_resources, node_unschedulable, pod_topology_spread, queue_sort,
    taint_toleration, volumes,
};

/// The ConfigMap key that contains the Policy.
pub const POLICY_CONFIG_MAP_KEY: &str = "policy.cfg";

/// The largest priority weight (upstream `MaxWeight`: the largest total score divided
/// by the 1.18 maximum priority of 10).
const MAX_WEIGHT: i64 = i64::MAX / 10;

/// A predicate of the Policy.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct PredicatePolicy {
    /// The predicate name, or any name for a custom predicate with an argument.
    pub name: String,
    /// The argument of a custom predicate.
    #[serde(default)]
    pub argument: Option<PredicateArgument>,
}

/// The argument of a custom predicate; exactly one field is set.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PredicateArgument {
    /// Pods of a Service share the values of these node labels.
    #[serde(default)]
    pub service_affinity: Option<ServiceAffinityArgument>,
    /// Nodes must (or must not) carry these labels.
    #[serde(default)]
    pub labels_presence: Option<LabelsPresence>,
}

/// The labels a Service's pods share.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ServiceAffinityArgument {
    /// The node labels.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// Node labels that must be present or absent.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct LabelsPresence {
    /// The node labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Whether the labels must be present (true) or absent (false).
    #[serde(default)]
    pub presence: bool,
}

/// A priority of the Policy.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct PriorityPolicy {
    /// The priority name, or any name for a custom priority with an argument.
    pub name: String,
    /// The weight, positive.
    #[serde(default)]
    pub weight: i64,
    /// The argument of a custom priority.
    #[serde(default)]
    pub argument: Option<PriorityArgument>,
}

/// The argument of a custom priority; exactly one field is set.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PriorityArgument {
    /// Spread a Service's pods over the values of a node label.
    #[serde(default)]
    pub service_anti_affinity: Option<ServiceAntiAffinity>,
    /// Prefer nodes with (or without) a label.
    #[serde(default)]
    pub label_preference: Option<LabelPreference>,
    /// Score by the requested-to-capacity ratio along a shape.
    #[serde(default)]
    pub requested_to_capacity_ratio_arguments: Option<RequestedToCapacityRatioArguments>,
}

/// The label a Service's pods spread over.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ServiceAntiAffinity {
    /// The node label.
    #[serde(default)]
    pub label: String,
}

/// A preferred node label.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct LabelPreference {
    /// The node label.
    #[serde(default)]
    pub label: String,
    /// Whether presence (true) or absence (false) is preferred.
    #[serde(default)]
    pub presence: bool,
}

/// The arguments of a RequestedToCapacityRatio priority.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct RequestedToCapacityRatioArguments {
    /// Points of utilization (0 to 100) and score (0 to 10).
    #[serde(default)]
    pub shape: Vec<Value>,
    /// Resources and weights; CPU and memory with weight 1 when empty.
    #[serde(default)]
    pub resources: Vec<Value>,
}

/// The decoded Policy.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// `Policy`.
    #[serde(default)]
    pub kind: String,
    /// `v1`.
    #[serde(default)]
    pub api_version: String,
    /// The predicates; `None` selects the 1.18 defaults, an empty list none but the
    /// mandatory ones.
    #[serde(default)]
    pub predicates: Option<Vec<PredicatePolicy>>,
    /// The priorities; `None` selects the 1.18 defaults.
    #[serde(default)]
    pub priorities: Option<Vec<PriorityPolicy>>,
    /// Scheduler extenders, which are rejected.
    #[serde(default)]
    pub extenders: Vec<Value>,
    /// The weight of the preferred term implied by each required affinity term of an
    /// existing pod, 0 to 100; 0 keeps InterPodAffinity's default of 1.
    #[serde(default)]
    pub hard_pod_affinity_symmetric_weight: i32,
    /// Accepted and ignored: the framework stops at the first failing Filter.
    #[serde(default)]
    pub always_check_all_predicates: bool,
}

impl Policy {
    /// Decodes a Policy document (JSON or YAML) and validates it.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Decode`] or [`ConfigError::Invalid`].
    pub fn from_text(text: &str) -> Result<Policy, ConfigError> {
        let value: Value = serde_saphyr::from_str(text)
            .map_err(|error| ConfigError::Decode(format!("scheduler Policy: {error}")))?;
        let policy: Policy = serde_json::from_value(value)
            .map_err(|error| ConfigError::Decode(format!("scheduler Policy: {error}")))?;
        if policy.kind != "Policy" {
            return Err(ConfigError::Invalid(format!(
                "kind: Invalid value: {:?}: the scheduler Policy must have kind Policy",
                policy.kind
            )));
        }
        if !matches!(
            policy.api_version.as_str(),
            "v1" | "kubescheduler.config.k8s.io/v1"
        ) {
            return Err(ConfigError::Invalid(format!(
                "apiVersion: Invalid value: {:?}: the scheduler Policy must have apiVersion v1",
                policy.api_version
            )));
        }
        policy.validate()?;
        Ok(policy)
    }

    /// Validates the Policy as upstream's `ValidatePolicy` does, reporting every
    /// problem.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] listing the problems.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut errors = Vec::new();
        let mut custom: BTreeMap<&str, &PriorityPolicy> = BTreeMap::new();
        for priority in self.priorities.iter().flatten() {
            if priority.weight <= 0 || priority.weight >= MAX_WEIGHT {
                errors.push(format!(
                    "priority {} should have a positive weight applied to it or it has overflown",
                    priority.name
                ));
            }
            let Some(argument) = &priority.argument else {
                continue;
            };
            let kind = if argument.label_preference.is_some() {
                "LabelPreference"
            } else if argument.service_anti_affinity.is_some() {
                "ServiceAntiAffinity"
            } else if argument.requested_to_capacity_ratio_arguments.is_some() {
                "RequestedToCapacityRatio"
            } else {
                errors.push(format!(
                    "no priority arguments set for priority {}",
                    priority.name
                ));
                continue;
            };
            match custom.get(kind) {
                Some(existing) if kind == "RequestedToCapacityRatio" => errors.push(format!(
                    "priority {:?} redeclares custom priority {kind:?}, from: {:?}",
                    priority.name, existing.name
                )),
                Some(existing) if existing.weight != priority.weight => errors.push(format!(
                    "{kind} priority {:?} has a different weight with {:?}",
                    priority.name, existing.name
                )),
                _ => {
                    custom.insert(kind, priority);
                }
            }
        }
        if !self.extenders.is_empty() {
            errors.push("extenders: Forbidden: scheduler extenders are not supported".to_string());
        }
        if !(0..=100).contains(&self.hard_pod_affinity_symmetric_weight) {
            errors.push(format!(
                "hardPodAffinitySymmetricWeight: Invalid value: {}: not in valid range [0-100]",
                self.hard_pod_affinity_symmetric_weight
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(errors.join(", ")))
        }
    }
}

const PRE_FILTER: &str = "preFilter";
const FILTER: &str = "filter";
const PRE_SCORE: &str = "preScore";
const SCORE: &str = "score";
const RESERVE: &str = "reserve";
const PRE_BIND: &str = "preBind";

/// The predicates in the order their plugins run (upstream `predicateOrdering`).
const PREDICATE_ORDERING: [&str; 19] = [
    "CheckNodeUnschedulable",
    "GeneralPredicates",
    "HostName",
    "PodFitsHostPorts",
    "MatchNodeSelector",
    "PodFitsResources",
    "NoDiskConflict",
    "PodToleratesNodeTaints",
    "CheckNodeLabelPresence",
    "CheckServiceAffinity",
    "MaxEBSVolumeCount",
    "MaxGCEPDVolumeCount",
    "MaxCSIVolumeCountPred",
    "MaxAzureDiskVolumeCount",
    "MaxCinderVolumeCount",
    "CheckVolumeBinding",
    "NoVolumeZoneConflict",
    "EvenPodsSpread",
    "MatchInterPodAffinity",
];

/// The predicates every Policy gets.
const MANDATORY_PREDICATES: [&str; 2] = ["PodToleratesNodeTaints", "CheckNodeUnschedulable"];

/// The predicates of a Policy without a `predicates` list (1.18, EvenPodsSpread on).
const DEFAULT_PREDICATES: [&str; 12] = [
    "NoVolumeZoneConflict",
    "MaxEBSVolumeCount",
    "MaxGCEPDVolumeCount",
    "MaxAzureDiskVolumeCount",
    "MaxCSIVolumeCountPred",
    "MatchInterPodAffinity",
    "NoDiskConflict",
    "GeneralPredicates",
    "PodToleratesNodeTaints",
    "CheckVolumeBinding",
    "CheckNodeUnschedulable",
    "EvenPodsSpread",
];

/// The priorities and weights of a Policy without a `priorities` list (1.18).
const DEFAULT_PRIORITIES: [(&str, i64); 9] = [
    ("SelectorSpreadPriority", 1),
    ("InterPodAffinityPriority", 1),
    ("LeastRequestedPriority", 1),
    ("BalancedResourceAllocation", 1),
    ("NodePreferAvoidPodsPriority", 10000),
    ("NodeAffinityPriority", 1),
    ("TaintTolerationPriority", 1),
    ("ImageLocalityPriority", 1),
    ("EvenPodsSpreadPriority", 1),
];

/// Returns the extension points and plugins a predicate enables.
fn predicate_plugins(name: &str) -> Option<Vec<(&'static str, &'static str)>> {
    let fit = node_resources::FIT_NAME;
    let plugins = match name {
        "GeneralPredicates" => vec![
            (PRE_FILTER, fit),
            (FILTER, fit),
            (FILTER, node_name::NAME),
            (PRE_FILTER, node_ports::NAME),
            (FILTER, node_ports::NAME),
            (FILTER, node_affinity::NAME),
        ],
        "PodToleratesNodeTaints" => vec![(FILTER, taint_toleration::NAME)],
        "PodFitsResources" => vec![(PRE_FILTER, fit), (FILTER, fit)],
        "HostName" => vec![(FILTER, node_name::NAME)],
        "PodFitsHostPorts" => vec![(PRE_FILTER, node_ports::NAME), (FILTER, node_ports::NAME)],
        "MatchNodeSelector" => vec![(FILTER, node_affinity::NAME)],
        "CheckNodeUnschedulable" => vec![(FILTER, node_unschedulable::NAME)],
        "CheckVolumeBinding" => vec![
            (PRE_FILTER, volumes::BINDING_NAME),
            (FILTER, volumes::BINDING_NAME),
            (RESERVE, volumes::BINDING_NAME),
            (PRE_BIND, volumes::BINDING_NAME),
        ],
        "NoDiskConflict" => vec![(FILTER, volumes::RESTRICTIONS_NAME)],
        "NoVolumeZoneConflict" => vec![(FILTER, volumes::ZONE_NAME)],
        "MaxCSIVolumeCountPred" => vec![(FILTER, volumes::LIMITS_NAME)],
        "MaxEBSVolumeCount" => vec![(FILTER, volumes::EBS_LIMITS_NAME)],
        "MaxGCEPDVolumeCount" => vec![(FILTER, volumes::GCE_PD_LIMITS_NAME)],
        "MaxAzureDiskVolumeCount" => vec![(FILTER, volumes::AZURE_DISK_LIMITS_NAME)],
        "MaxCinderVolumeCount" => vec![(FILTER, volumes::CINDER_LIMITS_NAME)],
        "MatchInterPodAffinity" => vec![
            (PRE_FILTER, inter_pod_affinity::NAME),
            (FILTER, inter_pod_affinity::NAME),
        ],
        "CheckNodeLabelPresence" => vec![(FILTER, node_label::NAME)],
        "CheckServiceAffinity" => vec![
            (PRE_FILTER, service_affinity::NAME),
            (FILTER, service_affinity::NAME),
        ],
        "EvenPodsSpread" => vec![
            (PRE_FILTER, pod_topology_spread::NAME),
            (FILTER, pod_topology_spread::NAME),
        ],
        _ => return None,
    };
    Some(plugins)
}

/// Returns the plugin of a priority and whether it needs its PreScore.
fn priority_plugin(name: &str) -> Option<(&'static str, bool)> {
    let plugin = match name {
        "SelectorSpreadPriority" => (selector_spread::NAME, true),
        "TaintTolerationPriority" => (taint_toleration::NAME, true),
        "NodeAffinityPriority" => (node_affinity::NAME, false),
        "ImageLocalityPriority" => (image_locality::NAME, true),
        "InterPodAffinityPriority" => (inter_pod_affinity::NAME, true),
        "NodePreferAvoidPodsPriority" => (node_prefer_avoid_pods::NAME, false),
        "MostRequestedPriority" => (resource_scores::MOST_ALLOCATED_NAME, true),
        "BalancedResourceAllocation" => (node_resources::BALANCED_NAME, true),
        "LeastRequestedPriority" => (resource_scores::LEAST_ALLOCATED_NAME, true),
        "RequestedToCapacityRatio" => (resource_scores::REQUESTED_TO_CAPACITY_RATIO_NAME, true),
        "NodeLabel" => (node_label::NAME, false),
        "ServiceAffinity" => (service_affinity::NAME, true),
        "EvenPodsSpreadPriority" => (pod_topology_spread::NAME, true),
        _ => return None,
    };
    Some(plugin)
}

/// The plugin sets being built, per extension point in enable order.
#[derive(Default)]
struct PluginSets {
    points: BTreeMap<&'static str, Vec<PluginRef>>,
}

impl PluginSets {
    /// Enables `plugin` at `point`; a plugin enabled twice keeps the larger weight.
    fn add(&mut self, point: &'static str, plugin: &str, weight: i64) {
        let list = self.points.entry(point).or_default();
        match list.iter_mut().find(|existing| existing.name == plugin) {
            Some(existing) => existing.weight = existing.weight.max(weight),
            None => list.push(PluginRef {
                name: plugin.to_string(),
                weight,
            }),
        }
    }

    fn take(&mut self, point: &str) -> Vec<PluginRef> {
        self.points.remove(point).unwrap_or_default()
    }
}

/// The custom arguments collected from the Policy (upstream `ConfigProducerArgs`).
#[derive(Default)]
struct ProducerArgs {
    node_label: node_label::Args,
    service_affinity: service_affinity::Args,
    requested_to_capacity_ratio: Option<Value>,
}

/// Resolves a predicate to its registered name, collecting a custom predicate's
/// argument (upstream `ProcessPredicatePolicy`).
fn process_predicate(
    predicate: &PredicatePolicy,
    args: &mut ProducerArgs,
) -> Result<String, ConfigError> {
    if let Some(argument) = &predicate.argument {
        let count = usize::from(argument.service_affinity.is_some())
            + usize::from(argument.labels_presence.is_some());
        if count != 1 {
            return Err(ConfigError::Invalid(format!(
                "exactly 1 predicate argument is required, numArgs: {count}, predicate: {}",
                predicate.name
            )));
        }
    }
    // "PodFitsPorts" is the name before 1.10, still accepted.
    let name = if predicate.name == "PodFitsPorts" {
        "PodFitsHostPorts"
    } else {
        predicate.name.as_str()
    };
    if predicate_plugins(name).is_some() {
        return Ok(name.to_string());
    }
    let Some(argument) = &predicate.argument else {
        return Err(ConfigError::Invalid(format!(
            "predicate type not found for {name:?}"
        )));
    };
    if let Some(affinity) = &argument.service_affinity {
        args.service_affinity
            .affinity_labels
            .extend(affinity.labels.iter().cloned());
        return Ok("CheckServiceAffinity".to_string());
    }
    if let Some(presence) = &argument.labels_presence {
        let target = if presence.presence {
            &mut args.node_label.present_labels
        } else {
            &mut args.node_label.absent_labels
        };
        target.extend(presence.labels.iter().cloned());
    }
    Ok("CheckNodeLabelPresence".to_string())
}

/// Resolves a priority to its registered name, collecting a custom priority's
/// argument (upstream `ProcessPriorityPolicy`).
fn process_priority(
    priority: &PriorityPolicy,
    args: &mut ProducerArgs,
) -> Result<String, ConfigError> {
    if let Some(argument) = &priority.argument {
        let count = usize::from(argument.service_anti_affinity.is_some())
            + usize::from(argument.label_preference.is_some())
            + usize::from(argument.requested_to_capacity_ratio_arguments.is_some());
        if count != 1 {
            return Err(ConfigError::Invalid(format!(
                "exactly 1 priority argument is required, numArgs: {count}, priority: {}",
                priority.name
            )));
        }
    }
    // "ServiceSpreadingPriority" is the name before 1.6, still accepted.
    let name = if priority.name == "ServiceSpreadingPriority" {
        "SelectorSpreadPriority"
    } else {
        priority.name.as_str()
    };
    if priority_plugin(name).is_some() {
        return Ok(name.to_string());
    }
    let Some(argument) = &priority.argument else {
        return Err(ConfigError::Invalid(format!(
            "priority type not found for {name:?}"
        )));
    };
    if let Some(anti_affinity) = &argument.service_anti_affinity {
        args.service_affinity
            .anti_affinity_labels_preference
            .push(anti_affinity.label.clone());
        return Ok("ServiceAffinity".to_string());
    }
    if let Some(preference) = &argument.label_preference {
        let target = if preference.presence {
            &mut args.node_label.present_labels_preference
        } else {
            &mut args.node_label.absent_labels_preference
        };
        target.push(preference.label.clone());
        return Ok("NodeLabel".to_string());
    }
    let ratio = argument
        .requested_to_capacity_ratio_arguments
        .as_ref()
        .map(requested_to_capacity_ratio_args)
        .unwrap_or_default();
    args.requested_to_capacity_ratio = Some(ratio);
    Ok("RequestedToCapacityRatio".to_string())
}

/// Converts RequestedToCapacityRatio arguments into the plugin's args: a weight of 0
/// becomes 1, as 1.18 converted it.
fn requested_to_capacity_ratio_args(arguments: &RequestedToCapacityRatioArguments) -> Value {
    let resources: Vec<Value> = arguments
        .resources
        .iter()
        .map(|resource| {
            let mut resource = resource.clone();
            if resource.get("weight").and_then(Value::as_i64).unwrap_or(0) == 0 {
                resource["weight"] = json!(1);
            }
            resource
        })
        .collect();
    json!({"shape": arguments.shape, "resources": resources})
}

/// Replaces the plugins of `profile` with those the Policy selects, with the profile's
/// own plugin sets applied on top (upstream `createFromConfig`). The profile keeps its
/// name and percentage; its `pluginConfig` overrides the Policy's args for the same
/// plugin.
///
/// # Errors
///
/// An unknown predicate or priority, or a malformed custom argument.
pub fn apply_policy(policy: &Policy, profile: &mut Profile) -> Result<(), ConfigError> {
    let mut args = ProducerArgs::default();

    let mut predicate_keys: BTreeSet<String> = match &policy.predicates {
        None => DEFAULT_PREDICATES
            .iter()
            .map(|name| name.to_string())
            .collect(),
        Some(predicates) => predicates
            .iter()
            .map(|predicate| process_predicate(predicate, &mut args))
            .collect::<Result<_, _>>()?,
    };
    predicate_keys.extend(MANDATORY_PREDICATES.iter().map(|name| name.to_string()));

    let mut priority_keys: BTreeMap<String, i64> = BTreeMap::new();
    match &policy.priorities {
        None => {
            for (name, weight) in DEFAULT_PRIORITIES {
                priority_keys.insert(name.to_string(), weight);
            }
        }
        Some(priorities) => {
            for priority in priorities {
                if priority.name == "EqualPriority" {
                    continue;
                }
                let name = process_priority(priority, &mut args)?;
                priority_keys.insert(name, priority.weight);
            }
        }
    }

    let mut sets = PluginSets::default();
    let mut ordered: Vec<&String> = PREDICATE_ORDERING
        .iter()
        .filter_map(|name| predicate_keys.get(*name))
        .collect();
    ordered.extend(
        predicate_keys
            .iter()
            .filter(|name| !PREDICATE_ORDERING.contains(&name.as_str())),
    );
    for name in ordered {
        let plugins = predicate_plugins(name).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "no framework config producer registered for {name:?}"
            ))
        })?;
        for (point, plugin) in plugins {
            sets.add(point, plugin, 1);
        }
    }
    for (name, weight) in &priority_keys {
        let (plugin, pre_score) = priority_plugin(name).ok_or_else(|| {
            ConfigError::Invalid(format!("no config producer registered for {name:?}"))
        })?;
        // One NodeLabel or ServiceAffinity plugin serves every label, each scoring its
        // share, so the weight scales with the number of labels.
        let labels = match plugin {
            node_label::NAME => {
                args.node_label.present_labels_preference.len()
                    + args.node_label.absent_labels_preference.len()
            }
            service_affinity::NAME => args.service_affinity.anti_affinity_labels_preference.len(),
            _ => 1,
        };
        if pre_score {
            sets.add(PRE_SCORE, plugin, 1);
        }
        sets.add(SCORE, plugin, weight.saturating_mul(labels.max(1) as i64));
    }
    check_total_weight(&sets)?;

    let mut plugin_config = policy_plugin_config(policy, &args, &priority_keys, &predicate_keys)?;
    let own = profile.plugins.take().unwrap_or_default();
    profile.plugins = Some(merge_plugins(&mut sets, &own));
    // The profile's own args come last, so they win.
    plugin_config.append(&mut profile.plugin_config);
    profile.plugin_config = plugin_config;
    Ok(())
}

/// Rejects weights whose total score could overflow (upstream checks this in
/// `NewFramework`).
fn check_total_weight(sets: &PluginSets) -> Result<(), ConfigError> {
    let mut total: i64 = 0;
    for plugin in sets.points.get(SCORE).into_iter().flatten() {
        total = plugin
            .weight
            .checked_mul(MAX_NODE_SCORE)
            .and_then(|score| total.checked_add(score))
            .ok_or_else(|| {
                ConfigError::Invalid("total score of Score plugins could overflow".to_string())
            })?;
    }
    Ok(())
}

/// Builds the `pluginConfig` entries the Policy's arguments call for.
fn policy_plugin_config(
    policy: &Policy,
    args: &ProducerArgs,
    priority_keys: &BTreeMap<String, i64>,
    predicate_keys: &BTreeSet<String>,
) -> Result<Vec<PluginConfig>, ConfigError> {
    let mut config = Vec::new();
    if policy.hard_pod_affinity_symmetric_weight != 0 {
        config.push(PluginConfig {
            name: inter_pod_affinity::NAME.to_string(),
            args: json!({"hardPodAffinityWeight": policy.hard_pod_affinity_symmetric_weight}),
        });
    }
    if predicate_keys.contains("CheckNodeLabelPresence") || priority_keys.contains_key("NodeLabel")
    {
        config.push(PluginConfig {
            name: node_label::NAME.to_string(),
            args: encode(&args.node_label)?,
        });
    }
    if predicate_keys.contains("CheckServiceAffinity")
        || priority_keys.contains_key("ServiceAffinity")
    {
        config.push(PluginConfig {
            name: service_affinity::NAME.to_string(),
            args: encode(&args.service_affinity)?,
        });
    }
    if let Some(ratio) = &args.requested_to_capacity_ratio {
        config.push(PluginConfig {
            name: resource_scores::REQUESTED_TO_CAPACITY_RATIO_NAME.to_string(),
            args: ratio.clone(),
        });
    }
    if predicate_keys.contains("EvenPodsSpread")
        || priority_keys.contains_key("EvenPodsSpreadPriority")
    {
        // 1.18 applied no default constraints: a pod spreads only by its own.
        config.push(PluginConfig {
            name: pod_topology_spread::NAME.to_string(),
            args: json!({"defaultingType": "List"}),
        });
    }
    Ok(config)
}

fn encode<T: serde::Serialize>(args: &T) -> Result<Value, ConfigError> {
    serde_json::to_value(args)
        .map_err(|error| ConfigError::Invalid(format!("encoding plugin args: {error}")))
}

/// Combines the Policy's plugin sets with a profile's own: the profile's `disabled`
/// entries remove the Policy's plugins at that point (`*` all of them) and its
/// `enabled` entries are added after them. QueueSort, PostFilter (preemption, which
/// 1.18 ran without a plugin) and Bind get the default plugins; the default
/// `multiPoint` set is disabled.
fn merge_plugins(sets: &mut PluginSets, own: &Plugins) -> Plugins {
    sets.add("queueSort", queue_sort::NAME, 1);
    sets.add("postFilter", default_preemption::NAME, 1);
    sets.add("bind", default_binder::NAME, 1);
    let mut merge = |point: &str, own: &PluginSet| -> PluginSet {
        let mut enabled = sets.take(point);
        if own.disabled.iter().any(|plugin| plugin.name == "*") {
            enabled.clear();
        }
        enabled.retain(|plugin| {
            !own.disabled
                .iter()
                .any(|disabled| disabled.name == plugin.name)
        });
        for plugin in &own.enabled {
            enabled.retain(|existing| existing.name != plugin.name);
            enabled.push(plugin.clone());
        }
        PluginSet {
            enabled,
            disabled: Vec::new(),
        }
    };
    Plugins {
        multi_point: PluginSet {
            enabled: own.multi_point.enabled.clone(),
            disabled: vec![PluginRef {
                name: "*".to_string(),
                weight: 0,
            }],
        },
        queue_sort: merge("queueSort", &own.queue_sort),
        pre_filter: merge(PRE_FILTER, &own.pre_filter),
        filter: merge(FILTER, &own.filter),
        post_filter: merge("postFilter", &own.post_filter),
        pre_score: merge(PRE_SCORE, &own.pre_score),
        score: merge(SCORE, &own.score),
        reserve: merge(RESERVE, &own.reserve),
        permit: merge("permit", &own.permit),
        pre_bind: merge(PRE_BIND, &own.pre_bind),
        bind: merge("bind", &own.bind),
        post_bind: merge("postBind", &own.post_bind),
    }
}

#[cfg(test)]
mod tests;
