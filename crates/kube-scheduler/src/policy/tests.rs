use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::config::build_framework;
use crate::framework::runtime::{EnabledPlugin, Framework};
use crate::plugins::in_tree_registry;
use crate::plugins::testing::{RecordingClient, handle_with};

fn profile() -> Profile {
    Profile {
        scheduler_name: "default-scheduler".to_string(),
        percentage_of_nodes_to_score: None,
        plugins: None,
        plugin_config: Vec::new(),
    }
}

fn framework(policy: &str) -> Arc<Framework> {
    let policy = Policy::from_text(policy).expect("policy");
    let mut profile = profile();
    apply_policy(&policy, &mut profile).expect("apply");
    let handle = handle_with(Arc::default(), Arc::new(RecordingClient::default()));
    build_framework(&profile, &in_tree_registry(), handle, 2).expect("framework")
}

fn names(plugins: &[EnabledPlugin]) -> Vec<&'static str> {
    plugins
        .iter()
        .map(|enabled| enabled.plugin.name())
        .collect()
}

fn weighted(plugins: &[EnabledPlugin]) -> Vec<(&'static str, i64)> {
    plugins
        .iter()
        .map(|enabled| (enabled.plugin.name(), enabled.weight))
        .collect()
}

/// A Policy without lists gets the 1.18 default predicates and priorities, in the
/// order 1.18 ran them.
#[test]
fn default_policy_maps_like_1_18() {
    let framework = framework(r#"{"kind": "Policy", "apiVersion": "v1"}"#);
    let points = framework.extension_points();
    assert_eq!(names(&points.queue_sort), ["PrioritySort"]);
    assert_eq!(
        names(&points.pre_filter),
        [
            "NodeResourcesFit",
            "NodePorts",
            "VolumeBinding",
            "PodTopologySpread",
            "InterPodAffinity"
        ]
    );
    assert_eq!(
        names(&points.filter),
        [
            "NodeUnschedulable",
            "NodeResourcesFit",
            "NodeName",
            "NodePorts",
            "NodeAffinity",
            "VolumeRestrictions",
            "TaintToleration",
            "EBSLimits",
            "GCEPDLimits",
            "NodeVolumeLimits",
            "AzureDiskLimits",
            "VolumeBinding",
            "VolumeZone",
            "PodTopologySpread",
            "InterPodAffinity",
        ]
    );
    assert_eq!(names(&points.post_filter), ["DefaultPreemption"]);
    assert_eq!(
        weighted(&points.score),
        [
            ("NodeResourcesBalancedAllocation", 1),
            ("PodTopologySpread", 1),
            ("ImageLocality", 1),
            ("InterPodAffinity", 1),
            ("NodeResourcesLeastAllocated", 1),
            ("NodeAffinity", 1),
            ("NodePreferAvoidPods", 10000),
            ("DefaultPodTopologySpread", 1),
            ("TaintToleration", 1),
        ]
    );
    assert_eq!(names(&points.reserve), ["VolumeBinding"]);
    assert_eq!(names(&points.pre_bind), ["VolumeBinding"]);
    assert_eq!(names(&points.bind), ["DefaultBinder"]);
}

/// Upstream's compatibility case of custom predicates and priorities: names from
/// before 1.10, custom arguments, EqualPriority skipped, and label weights scaled.
#[test]
fn custom_policy_maps_arguments() {
    let text = r#"
kind: Policy
apiVersion: v1
predicates:
- name: MatchNodeSelector
- name: PodFitsResources
- name: PodFitsPorts
- name: TestServiceAffinity
  argument: {serviceAffinity: {labels: [region]}}
- name: TestLabelsPresence
  argument: {labelsPresence: {labels: [foo], presence: true}}
priorities:
- {name: EqualPriority, weight: 2}
- {name: LeastRequestedPriority, weight: 2}
- {name: ServiceSpreadingPriority, weight: 1}
- name: TestServiceAntiAffinity
  weight: 3
  argument: {serviceAntiAffinity: {label: zone}}
- name: TestLabelPreference1
  weight: 4
  argument: {labelPreference: {label: bar, presence: true}}
- name: TestLabelPreference2
  weight: 4
  argument: {labelPreference: {label: baz, presence: false}}
"#;
    let policy = Policy::from_text(text).expect("policy");
    let mut profile = profile();
    apply_policy(&policy, &mut profile).expect("apply");
    let args: BTreeMap<&str, &Value> = profile
        .plugin_config
        .iter()
        .map(|config| (config.name.as_str(), &config.args))
        .collect();
    assert_eq!(
        args["NodeLabel"],
        &json!({"presentLabels": ["foo"], "absentLabels": [],
            "presentLabelsPreference": ["bar"], "absentLabelsPreference": ["baz"]})
    );
    assert_eq!(
        args["ServiceAffinity"],
        &json!({"affinityLabels": ["region"], "antiAffinityLabelsPreference": ["zone"]})
    );

    let handle = handle_with(Arc::default(), Arc::new(RecordingClient::default()));
    let framework = build_framework(&profile, &in_tree_registry(), handle, 2).expect("framework");
    let points = framework.extension_points();
    assert_eq!(
        names(&points.filter),
        [
            "NodeUnschedulable",
            "NodePorts",
            "NodeAffinity",
            "NodeResourcesFit",
            "TaintToleration",
            "NodeLabel",
            "ServiceAffinity",
        ]
    );
    assert_eq!(
        names(&points.pre_filter),
        ["NodePorts", "NodeResourcesFit", "ServiceAffinity"]
    );
    assert_eq!(
        weighted(&points.score),
        [
            ("NodeResourcesLeastAllocated", 2),
            ("NodeLabel", 8),
            ("DefaultPodTopologySpread", 1),
            ("ServiceAffinity", 3),
        ]
    );
}

#[test]
fn empty_lists_keep_only_mandatory_predicates() {
    let framework =
        framework(r#"{"kind": "Policy", "apiVersion": "v1", "predicates": [], "priorities": []}"#);
    let points = framework.extension_points();
    assert_eq!(
        names(&points.filter),
        ["NodeUnschedulable", "TaintToleration"]
    );
    assert!(points.pre_filter.is_empty());
    assert!(points.score.is_empty());
}

#[test]
fn arguments_reach_plugins() {
    let text = r#"{"kind": "Policy", "apiVersion": "v1",
        "hardPodAffinitySymmetricWeight": 10,
        "predicates": [{"name": "EvenPodsSpread"}],
        "priorities": [{"name": "InterPodAffinityPriority", "weight": 1},
            {"name": "MyRatio", "weight": 5, "argument": {"requestedToCapacityRatioArguments": {
                "shape": [{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}],
                "resources": [{"name": "cpu", "weight": 0}]}}}]}"#;
    let policy = Policy::from_text(text).expect("policy");
    let mut profile = profile();
    apply_policy(&policy, &mut profile).expect("apply");
    let args: BTreeMap<&str, &Value> = profile
        .plugin_config
        .iter()
        .map(|config| (config.name.as_str(), &config.args))
        .collect();
    assert_eq!(
        args["InterPodAffinity"],
        &json!({"hardPodAffinityWeight": 10})
    );
    assert_eq!(
        args["PodTopologySpread"],
        &json!({"defaultingType": "List"})
    );
    assert_eq!(
        args["RequestedToCapacityRatio"]["resources"],
        json!([{"name": "cpu", "weight": 1}])
    );
    let handle = handle_with(Arc::default(), Arc::new(RecordingClient::default()));
    let framework = build_framework(&profile, &in_tree_registry(), handle, 2).expect("framework");
    assert!(
        weighted(&framework.extension_points().score).contains(&("RequestedToCapacityRatio", 5))
    );
}

#[test]
fn profile_plugins_apply_on_top() {
    let policy = Policy::from_text(
        r#"{"kind": "Policy", "apiVersion": "v1",
            "predicates": [{"name": "Presence", "argument": {"labelsPresence": {"labels": ["a"], "presence": true}}}],
            "priorities": [{"name": "NodeAffinityPriority", "weight": 2}]}"#,
    )
    .expect("policy");
    let mut profile = profile();
    profile.plugins = Some(
        serde_json::from_value(json!({
            "filter": {"disabled": [{"name": "NodeLabel"}]},
            "score": {"enabled": [{"name": "ImageLocality", "weight": 5}]},
        }))
        .expect("plugins"),
    );
    profile.plugin_config = vec![PluginConfig {
        name: "NodeLabel".to_string(),
        args: json!({"presentLabels": ["b"]}),
    }];
    apply_policy(&policy, &mut profile).expect("apply");
    assert_eq!(
        profile.plugin_config.last().map(|config| &config.args),
        Some(&json!({"presentLabels": ["b"]})),
        "the profile's args come last"
    );
    let handle = handle_with(Arc::default(), Arc::new(RecordingClient::default()));
    let framework = build_framework(&profile, &in_tree_registry(), handle, 2).expect("framework");
    let points = framework.extension_points();
    assert_eq!(
        names(&points.filter),
        ["NodeUnschedulable", "TaintToleration"]
    );
    assert_eq!(
        weighted(&points.score),
        [("NodeAffinity", 2), ("ImageLocality", 5)]
    );
}

#[test]
fn invalid_policies_are_rejected() {
    let cases = [
        (r#"{"kind": "Other", "apiVersion": "v1"}"#, "kind"),
        (r#"{"kind": "Policy", "apiVersion": "v2"}"#, "apiVersion"),
        (
            r#"{"kind": "Policy", "apiVersion": "v1", "priorities": [{"name": "NodeAffinityPriority", "weight": 0}]}"#,
            "positive weight",
        ),
        (
            r#"{"kind": "Policy", "apiVersion": "v1", "hardPodAffinitySymmetricWeight": 101}"#,
            "hardPodAffinitySymmetricWeight",
        ),
        (
            r#"{"kind": "Policy", "apiVersion": "v1", "extenders": [{"urlPrefix": "http://127.0.0.1:1"}]}"#,
            "extenders",
        ),
        (
            r#"{"kind": "Policy", "apiVersion": "v1", "priorities": [
                {"name": "a", "weight": 1, "argument": {"labelPreference": {"label": "x"}}},
                {"name": "b", "weight": 2, "argument": {"labelPreference": {"label": "y"}}}]}"#,
            "different weight",
        ),
        (
            r#"{"kind": "Policy", "apiVersion": "v1", "priorities": [
                {"name": "a", "weight": 1, "argument": {"requestedToCapacityRatioArguments": {"shape": []}}},
                {"name": "b", "weight": 1, "argument": {"requestedToCapacityRatioArguments": {"shape": []}}}]}"#,
            "redeclares",
        ),
        (
            r#"{"kind": "Policy", "apiVersion": "v1", "priorities": [{"name": "x", "weight": 1, "argument": {}}]}"#,
            "no priority arguments",
        ),
    ];
    for (text, expected) in cases {
        let error = Policy::from_text(text).expect_err(text).to_string();
        assert!(error.contains(expected), "{text}: {error}");
    }

    let unknown = [
        (
            r#"{"kind": "Policy", "apiVersion": "v1", "predicates": [{"name": "Bogus"}]}"#,
            "predicate type not found for \"Bogus\"",
        ),
        (
            r#"{"kind": "Policy", "apiVersion": "v1", "priorities": [{"name": "Bogus", "weight": 1}]}"#,
            "priority type not found for \"Bogus\"",
        ),
        (
            r#"{"kind": "Policy", "apiVersion": "v1", "priorities": [{"name": "ResourceLimitsPriority", "weight": 1}]}"#,
            "priority type not found",
        ),
        (
            r#"{"kind": "Policy", "apiVersion": "v1", "predicates": [{"name": "Two", "argument": {
                "serviceAffinity": {"labels": ["a"]}, "labelsPresence": {"labels": ["b"]}}}]}"#,
            "exactly 1 predicate argument",
        ),
    ];
    for (text, expected) in unknown {
        let policy = Policy::from_text(text).expect("valid document");
        let error = apply_policy(&policy, &mut profile())
            .expect_err(text)
            .to_string();
        assert!(error.contains(expected), "{text}: {error}");
    }
}
