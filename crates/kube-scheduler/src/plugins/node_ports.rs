//! NodePorts: rejects nodes where a requested host port (IP, protocol, port) is taken.

use k8s_openapi::api::core::v1::Pod;

use crate::cache::Snapshot;
use crate::framework::interface::{CycleState, FilterPlugin, Plugin, PreFilterPlugin, Status};
use crate::framework::types::{HostPort, NodeInfo, host_ports_conflict, pod_host_ports};

/// The plugin name.
pub const NAME: &str = "NodePorts";
/// The filter failure reason.
pub const ERR_REASON: &str = "node(s) didn't have free ports for the requested pod ports";
const PRE_FILTER_KEY: &str = "PreFilterNodePorts";

#[derive(Clone)]
struct PreFilterState(Vec<HostPort>);

/// The NodePorts plugin.
pub struct NodePorts;

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        NAME
    }

    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl PreFilterPlugin for NodePorts {
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, _snapshot: &Snapshot) -> Status {
        state.write(PRE_FILTER_KEY, PreFilterState(pod_host_ports(pod)));
        Status::success()
    }
}

impl FilterPlugin for NodePorts {
    fn filter(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Status {
        let computed;
        let wanted = match state.read::<PreFilterState>(PRE_FILTER_KEY) {
            Some(pre) => &pre.0,
            None => {
                computed = pod_host_ports(pod);
                &computed
            }
        };
        let conflict = wanted
            .iter()
            .any(|port| node_info.used_ports.iter().any(|used| host_ports_conflict(port, used)));
        if conflict {
            Status::unschedulable(ERR_REASON)
        } else {
            Status::success()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{named_pod, node_info, pod};
    use serde_json::json;

    fn port_pod(ports: serde_json::Value) -> k8s_openapi::api::core::v1::Pod {
        pod(json!({"containers": [{"name": "c", "ports": ports}]}))
    }

    #[test]
    fn filter_table() {
        let existing = |ports: serde_json::Value| {
            named_pod("e", json!({}), json!({"nodeName": "n", "containers": [{"name": "c", "ports": ports}]}))
        };
        let cases = [
            (json!([{"containerPort": 80, "hostPort": 8080}]), json!([{"containerPort": 80, "hostPort": 8081}]), true),
            (json!([{"containerPort": 80, "hostPort": 8080}]), json!([{"containerPort": 80, "hostPort": 8080}]), false),
            (json!([{"containerPort": 80, "hostPort": 8080, "protocol": "UDP"}]), json!([{"containerPort": 80, "hostPort": 8080}]), true),
            (json!([{"containerPort": 80, "hostPort": 8080, "hostIP": "127.0.0.1"}]), json!([{"containerPort": 80, "hostPort": 8080, "hostIP": "127.0.0.2"}]), true),
            (json!([{"containerPort": 80, "hostPort": 8080, "hostIP": "127.0.0.1"}]), json!([{"containerPort": 80, "hostPort": 8080}]), false),
            (json!([{"containerPort": 80}]), json!([{"containerPort": 80}]), true),
        ];
        for (i, (wanted, used, fits)) in cases.into_iter().enumerate() {
            let p = port_pod(wanted);
            let info = node_info(json!({"metadata": {"name": "n"}}), &[existing(used)]);
            let mut state = CycleState::new();
            NodePorts.pre_filter(&mut state, &p, &Snapshot::default());
            assert_eq!(NodePorts.filter(&state, &p, &info).is_success(), fits, "case {i}");
        }
    }
}
