//! NodeAffinity: Filter enforces `nodeSelector` and required node affinity; Score sums
//! the weights of the matching preferred terms, normalized to 0..=100. The
//! `addedAffinity` argument applies its own required and preferred terms to every pod
//! of the profile on top of the pod's.

use k8s_openapi::api::core::v1::{
    NodeSelectorRequirement, NodeSelectorTerm, Pod, PreferredSchedulingTerm,
};
use serde::Deserialize;

use super::helper::{
    default_normalize_score, node_selector_term_matches, node_selector_terms_match,
    pod_matches_node_selector_and_affinity,
};
use crate::framework::interface::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, NodeScore, Plugin, ScorePlugin, Status,
};
use crate::framework::types::NodeInfo;

/// The plugin name.
pub const NAME: &str = "NodeAffinity";
/// The filter failure reason of the pod's own selector and affinity.
pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";
/// The filter failure reason of `addedAffinity`.
pub const ERR_REASON_ENFORCED: &str = "node(s) didn't match scheduler-enforced node affinity";

/// The `NodeAffinityArgs` of `pluginConfig`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Args {
    /// Ignored type information.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Ignored type information.
    #[serde(default)]
    pub kind: Option<String>,
    /// Node affinity added to every pod of the profile.
    #[serde(default)]
    pub added_affinity: Option<k8s_openapi::api::core::v1::NodeAffinity>,
}

/// Parses and validates `NodeAffinityArgs` (`null` adds nothing).
///
/// # Errors
///
/// A decode message, or an invalid requirement of `addedAffinity`.
pub fn parse_args(args: &serde_json::Value) -> Result<Args, String> {
    if args.is_null() {
        return Ok(Args::default());
    }
    let args: Args = serde_json::from_value(args.clone())
        .map_err(|error| format!("NodeAffinityArgs: {error}"))?;
    if let Some(added) = &args.added_affinity {
        if let Some(required) = &added.required_during_scheduling_ignored_during_execution {
            if required.node_selector_terms.is_empty() {
                return Err("addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term".to_string());
            }
            for (i, term) in required.node_selector_terms.iter().enumerate() {
                validate_term(
                    term,
                    &format!(
                        "addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}]"
                    ),
                )?;
            }
        }
        for (i, preferred) in added
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .enumerate()
        {
            let path =
                format!("addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
            if !(1..=100).contains(&preferred.weight) {
                return Err(format!(
                    "{path}.weight: Invalid value: {}: must be in the range 1-100",
                    preferred.weight
                ));
            }
            validate_term(&preferred.preference, &format!("{path}.preference"))?;
        }
    }
    Ok(args)
}

fn validate_term(term: &NodeSelectorTerm, path: &str) -> Result<(), String> {
    for (i, requirement) in term.match_expressions.iter().flatten().enumerate() {
        validate_requirement(requirement, &format!("{path}.matchExpressions[{i}]"))?;
    }
    for (i, requirement) in term.match_fields.iter().flatten().enumerate() {
        let path = format!("{path}.matchFields[{i}]");
        if requirement.key != "metadata.name" {
            return Err(format!(
                "{path}.key: Invalid value: {:?}: not a valid field selector key",
                requirement.key
            ));
        }
        validate_requirement(requirement, &path)?;
    }
    Ok(())
}

fn validate_requirement(requirement: &NodeSelectorRequirement, path: &str) -> Result<(), String> {
    let values = requirement.values.as_deref().unwrap_or_default();
    match requirement.operator.as_str() {
        "In" | "NotIn" if values.is_empty() => Err(format!(
            "{path}.values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
        )),
        "Exists" | "DoesNotExist" if !values.is_empty() => Err(format!(
            "{path}.values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
        )),
        "Gt" | "Lt" if values.len() != 1 || values[0].parse::<i64>().is_err() => Err(format!(
            "{path}.values: Required value: must be specified single value when `operator` is 'Lt' or 'Gt'"
        )),
        "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt" => Ok(()),
        other => Err(format!(
            "{path}.operator: Invalid value: {other:?}: not a valid selector operator"
        )),
    }
}

/// The NodeAffinity plugin.
#[derive(Default)]
pub struct NodeAffinity {
    added_required: Option<Vec<NodeSelectorTerm>>,
    added_preferred: Vec<PreferredSchedulingTerm>,
}

impl NodeAffinity {
    /// Builds the plugin from validated args.
    pub fn new(args: Args) -> NodeAffinity {
        let added = args.added_affinity.unwrap_or_default();
        NodeAffinity {
            added_required: added
                .required_during_scheduling_ignored_during_execution
                .map(|selector| selector.node_selector_terms),
            added_preferred: added
                .preferred_during_scheduling_ignored_during_execution
                .unwrap_or_default(),
        }
    }
}

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        NAME
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }

    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeAffinity {
    fn filter(&self, _state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
        let Some(node) = node_info.node.as_ref() else {
            return Status::error("node not found");
        };
        if let Some(terms) = &self.added_required
            && !node_selector_terms_match(terms, node)
        {
            return Status::unresolvable(ERR_REASON_ENFORCED);
        }
        if pod_matches_node_selector_and_affinity(pod, node) {
            Status::success()
        } else {
            Status::unresolvable(ERR_REASON_POD)
        }
    }
}

impl ScorePlugin for NodeAffinity {
    fn score(&self, _state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status> {
        let Some(node) = node_info.node.as_ref() else {
            return Err(Status::error("node not found"));
        };
        let preferred = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.affinity.as_ref())
            .and_then(|affinity| affinity.node_affinity.as_ref())
            .and_then(|affinity| {
                affinity
                    .preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            });
        let score = preferred
            .into_iter()
            .flatten()
            .chain(&self.added_preferred)
            .filter(|term| term.weight != 0 && node_selector_term_matches(&term.preference, node))
            .map(|term| i64::from(term.weight))
            .sum();
        Ok(score)
    }

    fn normalize_score(&self, _state: &CycleState, _pod: &Pod, scores: &mut [NodeScore]) -> Status {
        default_normalize_score(MAX_NODE_SCORE, false, scores);
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node_info, pod};
    use serde_json::json;

    #[test]
    fn filter_table() {
        let state = CycleState::new();
        let node = node_info(
            json!({"metadata": {"name": "n1", "labels": {"zone": "a", "gen": "5"}}}),
            &[],
        );
        let expr = |key: &str, op: &str, values: serde_json::Value| {
            json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": key, "operator": op, "values": values}]}]}}}})
        };
        let cases = [
            (json!({}), true),
            (json!({"nodeSelector": {"zone": "a"}}), true),
            (json!({"nodeSelector": {"zone": "b"}}), false),
            (expr("zone", "In", json!(["a", "b"])), true),
            (expr("zone", "NotIn", json!(["a"])), false),
            (expr("gpu", "DoesNotExist", json!([])), true),
            (expr("gen", "Gt", json!(["4"])), true),
            (expr("gen", "Lt", json!(["4"])), false),
            (
                json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}}),
                true,
            ),
            (
                json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": []}}}}),
                false,
            ),
        ];
        for (i, (spec, fits)) in cases.into_iter().enumerate() {
            let status = NodeAffinity::default().filter(&state, &pod(spec), &node);
            assert_eq!(status.is_success(), fits, "case {i}: {status}");
        }
    }

    /// Upstream's case: weights 2, 4 and 5 on labels that nodes match in part.
    #[test]
    fn score_sums_matching_weights() {
        let p = pod(
            json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 2, "preference": {"matchExpressions": [{"key": "foo", "operator": "In", "values": ["bar"]}]}},
                {"weight": 4, "preference": {"matchExpressions": [{"key": "key", "operator": "In", "values": ["value"]}]}},
                {"weight": 5, "preference": {"matchExpressions": [
                    {"key": "foo", "operator": "In", "values": ["bar"]},
                    {"key": "key", "operator": "In", "values": ["value"]},
                    {"key": "az", "operator": "In", "values": ["az1"]}]}},
            ]}}}),
        );
        let nodes = [
            node_info(
                json!({"metadata": {"name": "m1", "labels": {"foo": "bar"}}}),
                &[],
            ),
            node_info(
                json!({"metadata": {"name": "m2", "labels": {"foo": "bar", "key": "value", "az": "az1"}}}),
                &[],
            ),
            node_info(
                json!({"metadata": {"name": "m3", "labels": {"key": "value"}}}),
                &[],
            ),
        ];
        let state = CycleState::new();
        let mut scores: Vec<NodeScore> = nodes
            .iter()
            .map(|info| NodeScore {
                name: info.node_name().to_string(),
                score: NodeAffinity::default()
                    .score(&state, &p, info)
                    .expect("score"),
            })
            .collect();
        NodeAffinity::default().normalize_score(&state, &p, &mut scores);
        assert_eq!(
            scores.iter().map(|s| s.score).collect::<Vec<_>>(),
            [18, 100, 36]
        );
    }

    /// Upstream's addedAffinity cases: the added required terms apply on top of the
    /// pod's, and the added preferred terms add to the pod's score.
    #[test]
    fn added_affinity_filters_and_scores() {
        let args = parse_args(&json!({"addedAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["foo"]}]}]},
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 5, "preference": {"matchExpressions": [
                    {"key": "gpu", "operator": "Exists"}]}}]}}))
        .expect("args");
        let plugin = NodeAffinity::new(args);
        let state = CycleState::new();
        let in_zone = node_info(
            json!({"metadata": {"name": "a", "labels": {"zone": "foo", "gpu": "1"}}}),
            &[],
        );
        let out_of_zone = node_info(
            json!({"metadata": {"name": "b", "labels": {"zone": "bar"}}}),
            &[],
        );
        let plain = pod(json!({}));
        assert!(plugin.filter(&state, &plain, &in_zone).is_success());
        assert_eq!(
            plugin.filter(&state, &plain, &out_of_zone),
            Status::unresolvable(ERR_REASON_ENFORCED)
        );
        let selective = pod(json!({"nodeSelector": {"zone": "other"}}));
        assert_eq!(
            plugin.filter(&state, &selective, &in_zone),
            Status::unresolvable(ERR_REASON_POD)
        );
        assert_eq!(plugin.score(&state, &plain, &in_zone).expect("score"), 5);
        assert_eq!(
            plugin.score(&state, &plain, &out_of_zone).expect("score"),
            0
        );
    }

    #[test]
    fn invalid_added_affinity_is_rejected() {
        let cases = [
            json!({"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}),
            json!({"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "a", "operator": "In"}]}]}}}),
            json!({"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}]}}}),
            json!({"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.uid", "operator": "In", "values": ["x"]}]}]}}}),
            json!({"addedAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 0, "preference": {"matchExpressions": [{"key": "a", "operator": "Exists"}]}}]}}),
            json!({"bogus": true}),
        ];
        for (i, args) in cases.iter().enumerate() {
            assert!(parse_args(args).is_err(), "case {i}");
        }
    }
}
