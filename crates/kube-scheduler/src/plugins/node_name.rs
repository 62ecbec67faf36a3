//! NodeName: a pod that names a node in `spec.nodeName` fits only that node.

use k8s_openapi::api::core::v1::Pod;

use crate::framework::interface::{CycleState, FilterPlugin, Plugin, Status};
use crate::framework::types::{NodeInfo, pod_node_name};

/// The plugin name.
pub const NAME: &str = "NodeName";
/// The filter failure reason.
pub const ERR_REASON: &str = "node(s) didn't match the requested node name";

/// The NodeName plugin.
pub struct NodeName;

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        NAME
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeName {
    fn filter(&self, _state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
        match pod_node_name(pod) {
            Some(name) if name != node_info.node_name() => Status::unresolvable(ERR_REASON),
            _ => Status::success(),
        }
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
        let n1 = node_info(json!({"metadata": {"name": "n1"}}), &[]);
        assert!(NodeName.filter(&state, &pod(json!({})), &n1).is_success());
        assert!(NodeName.filter(&state, &pod(json!({"nodeName": "n1"})), &n1).is_success());
        assert_eq!(
            NodeName.filter(&state, &pod(json!({"nodeName": "n2"})), &n1),
            Status::unresolvable(ERR_REASON)
        );
    }
}
