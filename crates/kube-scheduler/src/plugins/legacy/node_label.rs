//! NodeLabel (Kubernetes 1.18): Filter requires the `presentLabels` on the node and
//! forbids the `absentLabels`; Score gives 100 for each preferred label present (or
//! preferred-absent label absent), averaged over the preferences.

use k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;

use crate::framework::interface::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, ScorePlugin, Status,
};
use crate::framework::types::NodeInfo;

/// The plugin name.
pub const NAME: &str = "NodeLabel";
/// The filter failure reason.
pub const ERR_REASON_PRESENCE_VIOLATED: &str = "node(s) didn't have the requested labels";

/// The `NodeLabelArgs` of `pluginConfig`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// Labels a node must have.
    #[serde(default)]
    pub present_labels: Vec<String>,
    /// Labels a node must not have.
    #[serde(default)]
    pub absent_labels: Vec<String>,
    /// Labels whose presence raises the score.
    #[serde(default)]
    pub present_labels_preference: Vec<String>,
    /// Labels whose absence raises the score.
    #[serde(default)]
    pub absent_labels_preference: Vec<String>,
}

/// Parses and validates `NodeLabelArgs` (`null` gives empty lists).
///
/// # Errors
///
/// A decode message, or a label both required present and absent.
pub fn parse_args(args: &serde_json::Value) -> Result<Args, String> {
    let args: Args = if args.is_null() {
        Args::default()
    } else {
        let mut object = args.clone();
        if let Some(map) = object.as_object_mut() {
            map.remove("apiVersion");
            map.remove("kind");
        }
        serde_json::from_value(object).map_err(|error| format!("NodeLabelArgs: {error}"))?
    };
    check_no_conflict(&args.present_labels, &args.absent_labels)?;
    check_no_conflict(
        &args.present_labels_preference,
        &args.absent_labels_preference,
    )?;
    Ok(args)
}

fn check_no_conflict(present: &[String], absent: &[String]) -> Result<(), String> {
    match present.iter().find(|label| absent.contains(label)) {
        Some(label) => Err(format!(
            "detecting at least one label (e.g., {label:?}) that exist in both the present({present:?}) and absent({absent:?}) label list"
        )),
        None => Ok(()),
    }
}

/// The NodeLabel plugin.
pub struct NodeLabel {
    args: Args,
}

impl NodeLabel {
    /// Builds the plugin from validated args.
    pub fn new(args: Args) -> NodeLabel {
        NodeLabel { args }
    }
}

impl Plugin for NodeLabel {
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

fn has_label(node_info: &NodeInfo, label: &str) -> bool {
    node_info
        .node_labels()
        .is_some_and(|labels| labels.contains_key(label))
}

impl FilterPlugin for NodeLabel {
    fn filter(&self, _state: &CycleState, _pod: &Pod, node_info: &NodeInfo) -> Status {
        if node_info.node.is_none() {
            return Status::error("node not found");
        }
        let present = self
            .args
            .present_labels
            .iter()
            .all(|label| has_label(node_info, label));
        let absent = self
            .args
            .absent_labels
            .iter()
            .all(|label| !has_label(node_info, label));
        if present && absent {
            Status::success()
        } else {
            Status::unresolvable(ERR_REASON_PRESENCE_VIOLATED)
        }
    }
}

impl ScorePlugin for NodeLabel {
    fn score(&self, _state: &CycleState, _pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status> {
        let preferences =
            self.args.present_labels_preference.len() + self.args.absent_labels_preference.len();
        if preferences == 0 {
            return Ok(0);
        }
        let mut score = 0;
        for label in &self.args.present_labels_preference {
            if has_label(node_info, label) {
                score += MAX_NODE_SCORE;
            }
        }
        for label in &self.args.absent_labels_preference {
            if !has_label(node_info, label) {
                score += MAX_NODE_SCORE;
            }
        }
        Ok(score / preferences as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node_info, pod};
    use serde_json::json;

    fn labels(list: &[&str]) -> Vec<String> {
        list.iter().map(|label| label.to_string()).collect()
    }

    /// Upstream's filter cases over a node labelled foo and bar.
    #[test]
    fn filter_table() {
        let node = node_info(
            json!({"metadata": {"name": "n", "labels": {"foo": "any", "bar": "any"}}}),
            &[],
        );
        let cases = [
            (labels(&["baz"]), labels(&[]), false),
            (labels(&[]), labels(&["baz"]), true),
            (labels(&["foo", "bar"]), labels(&[]), true),
            (labels(&[]), labels(&["foo", "bar"]), false),
            (labels(&["foo"]), labels(&["baz"]), true),
            (labels(&["foo"]), labels(&["bar"]), false),
        ];
        for (i, (present, absent, fits)) in cases.into_iter().enumerate() {
            let plugin = NodeLabel::new(Args {
                present_labels: present,
                absent_labels: absent,
                ..Args::default()
            });
            let status = plugin.filter(&CycleState::new(), &pod(json!({})), &node);
            assert_eq!(status.is_success(), fits, "case {i}: {status}");
            if !fits {
                assert_eq!(status, Status::unresolvable(ERR_REASON_PRESENCE_VIOLATED));
            }
        }
    }

    /// Upstream's score cases: the average over the preferences of 100 per satisfied
    /// preference.
    #[test]
    fn score_table() {
        let node = node_info(
            json!({"metadata": {"name": "n", "labels": {"foo": "", "bar": ""}}}),
            &[],
        );
        let cases = [
            (labels(&["baz"]), labels(&[]), 0),
            (labels(&["foo"]), labels(&[]), 100),
            (labels(&["foo", "bar"]), labels(&[]), 100),
            (labels(&["foo", "baz"]), labels(&[]), 50),
            (labels(&[]), labels(&["baz"]), 100),
            (labels(&[]), labels(&["foo"]), 0),
            (labels(&["foo"]), labels(&["somelabel"]), 100),
            (labels(&["foo", "somelabel"]), labels(&["somelabel"]), 66),
        ];
        for (i, (present, absent, expected)) in cases.into_iter().enumerate() {
            let plugin = NodeLabel::new(Args {
                present_labels_preference: present,
                absent_labels_preference: absent,
                ..Args::default()
            });
            let score = plugin
                .score(&CycleState::new(), &pod(json!({})), &node)
                .expect("score");
            assert_eq!(score, expected, "case {i}");
        }
    }

    #[test]
    fn conflicting_args_are_rejected() {
        assert!(parse_args(&json!({"presentLabels": ["a"], "absentLabels": ["a"]})).is_err());
        assert!(
            parse_args(&json!({"presentLabelsPreference": ["a"], "absentLabelsPreference": ["a"]}))
                .is_err()
        );
        assert!(parse_args(&json!({"presentLabels": ["a"], "absentLabels": ["b"]})).is_ok());
    }
}
