//! NodeUnschedulable: rejects nodes with `spec.unschedulable` unless the pod tolerates
//! the `node.kubernetes.io/unschedulable:NoSchedule` taint.

use k8s_openapi::api::core::v1::{Pod, Taint};

use super::helper::{pod_tolerations, tolerations_tolerate};
use crate::framework::interface::{CycleState, FilterPlugin, Plugin, Status};
use crate::framework::types::NodeInfo;

/// The plugin name.
pub const NAME: &str = "NodeUnschedulable";
/// The filter failure reason.
pub const ERR_REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";
/// The failure reason when the node object is unknown.
pub const ERR_REASON_UNKNOWN_NODE: &str = "node(s) had unknown conditions";

/// The NodeUnschedulable plugin.
pub struct NodeUnschedulable;

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        NAME
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeUnschedulable {
    fn filter(&self, _state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
        let Some(node) = node_info.node.as_ref() else {
            return Status::unresolvable(ERR_REASON_UNKNOWN_NODE);
        };
        let unschedulable = node
            .spec
            .as_ref()
            .and_then(|spec| spec.unschedulable)
            .unwrap_or(false);
        if !unschedulable {
            return Status::success();
        }
        let taint = Taint {
            key: "node.kubernetes.io/unschedulable".to_string(),
            effect: "NoSchedule".to_string(),
            value: None,
            time_added: None,
        };
        if tolerations_tolerate(pod_tolerations(pod), &taint) {
            return Status::success();
        }
        Status::unresolvable(ERR_REASON_UNSCHEDULABLE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node_info, pod};
    use serde_json::json;

    #[test]
    fn filter_table() {
        let plain = pod(json!({}));
        let tolerating = pod(json!({"tolerations": [
            {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}
        ]}));
        let cordoned = node_info(json!({"metadata": {"name": "n"}, "spec": {"unschedulable": true}}), &[]);
        let open = node_info(json!({"metadata": {"name": "n"}}), &[]);
        let state = CycleState::new();
        assert!(NodeUnschedulable.filter(&state, &plain, &open).is_success());
        assert_eq!(
            NodeUnschedulable.filter(&state, &plain, &cordoned),
            Status::unresolvable(ERR_REASON_UNSCHEDULABLE)
        );
        assert!(NodeUnschedulable.filter(&state, &tolerating, &cordoned).is_success());
    }
}
