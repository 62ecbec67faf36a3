//! The node lifecycle controller. It watches node heartbeats (the node's Lease in
//! `kube-node-lease` and its `Ready` condition) and marks the conditions of silent
//! nodes `Unknown`. It taints nodes by their conditions and marks pods on
//! unreachable nodes not ready. As the taint manager, it evicts pods from
//! NoExecute-tainted nodes once their tolerations run out.
//!
//! Entry point: [`NodeLifecycleController::new`] and
//! [`NodeLifecycleController::run`]. Every `--node-monitor-period` one pass checks
//! all nodes, then one pass evicts pods.
//!
//! NOTE: upstream's zone-aware eviction rate limits (`--node-eviction-rate`,
//! `--unhealthy-zone-threshold`) are not applied. Pods are evicted as their
//! tolerations expire, at the granularity of the monitor period.
//!
//! Pods normally carry 300 s not-ready and unreachable tolerations, which the
//! apiserver's DefaultTolerationSeconds admission plugin adds. A pod without them
//! (the plugin disabled) is evicted as soon as its node is tainted NoExecute.

pub mod taints;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client::api::{Api, DeleteParams, Preconditions};
use client::informer::{InformerOptions, SharedIndexInformer};
use client::rest::RestClient;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tokio::sync::watch;

use crate::context::ControllerContext;
use crate::controller_utils::{POD_NODE_NAME_INDEX, add_pod_indexers, pods_by_index};
use crate::objectapi::{is_not_found, now_time};
use crate::queueworker::sleep_or_cancel;
use taints::{Eviction, condition_taints, earliest_no_execute, eviction_for, reconcile_taints};

/// The namespace of node heartbeat Leases.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// The conditions set to Unknown when a node stops posting status.
const MONITORED_CONDITIONS: &[&str] = &["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/// The last observed heartbeats of a node, and when they last changed.
#[derive(Debug, Clone)]
struct NodeHealth {
    /// When a heartbeat last changed, by this process's clock.
    probe_timestamp: Instant,
    ready_heartbeat: Option<Time>,
    ready_transition: Option<Time>,
    lease_renew: Option<String>,
}

/// The node lifecycle controller.
pub struct NodeLifecycleController {
    client: RestClient,
    nodes: SharedIndexInformer<Node>,
    leases: SharedIndexInformer<Lease>,
    pods: SharedIndexInformer<Pod>,
    grace_period: Duration,
    startup_grace_period: Duration,
    monitor_period: Duration,
    health: Mutex<HashMap<String, NodeHealth>>,
}

impl NodeLifecycleController {
    /// Requests the node, Lease and pod informers.
    pub fn new(ctx: &ControllerContext) -> Self {
        Self {
            client: ctx.client.clone(),
            nodes: ctx.informers.informer::<Node>(),
            leases: ctx.informers.informer_with::<Lease>(InformerOptions {
                namespace: Some(NODE_LEASE_NAMESPACE.to_string()),
                ..InformerOptions::default()
            }),
            pods: {
                let pods = ctx.informers.informer::<Pod>();
                add_pod_indexers(&pods);
                pods
            },
            grace_period: ctx.options.node_monitor_grace_period,
            startup_grace_period: ctx.options.node_startup_grace_period,
            monitor_period: ctx.options.node_monitor_period,
            health: Mutex::new(HashMap::new()),
        }
    }

    /// Monitors nodes until `cancel` turns true. `workers` is unused: one pass at a
    /// time checks every node.
    pub async fn run(self, _workers: usize, cancel: watch::Receiver<bool>) {
        tracing::info!("starting node lifecycle controller");
        if !client::informer::wait_for_cache_sync(
            cancel.clone(),
            &[&self.nodes, &self.leases, &self.pods],
        )
        .await
        {
            return;
        }
        loop {
            self.monitor_node_health().await;
            self.evict_tainted_pods().await;
            if sleep_or_cancel(self.monitor_period, &cancel).await {
                break;
            }
        }
        tracing::info!("shutting down node lifecycle controller");
    }

    async fn monitor_node_health(&self) {
        let nodes = self.nodes.lister().list();
        {
            let names: Vec<String> = nodes
                .iter()
                .filter_map(|n| n.metadata.name.clone())
                .collect();
            self.health
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|name, _| names.contains(name));
        }
        for node in nodes {
            let name = node.metadata.name.clone().unwrap_or_default();
            if let Err(error) = self.check_node(&node).await {
                tracing::warn!(node = name, %error, "failed to update node health");
            }
        }
    }

    /// Records heartbeats and returns whether the node has been silent too long.
    fn observe(&self, node: &Node) -> bool {
        let name = node.metadata.name.clone().unwrap_or_default();
        let ready = find_condition(node, "Ready");
        let ready_heartbeat = ready.and_then(|c| c.last_heartbeat_time.clone());
        let ready_transition = ready.and_then(|c| c.last_transition_time.clone());
        let lease_renew = self
            .leases
            .lister()
            .namespaced(NODE_LEASE_NAMESPACE)
            .get(&name)
            .and_then(|lease| {
                lease
                    .spec
                    .as_ref()?
                    .renew_time
                    .as_ref()
                    .map(|t| format!("{:?}", t.0))
            });

        let now = Instant::now();
        let mut health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        let entry = health.entry(name).or_insert_with(|| NodeHealth {
            probe_timestamp: now,
            ready_heartbeat: ready_heartbeat.clone(),
            ready_transition: ready_transition.clone(),
            lease_renew: lease_renew.clone(),
        });
        if entry.ready_heartbeat != ready_heartbeat || entry.ready_transition != ready_transition {
            entry.ready_heartbeat = ready_heartbeat;
            entry.ready_transition = ready_transition;
            entry.probe_timestamp = now;
        }
        if entry.lease_renew != lease_renew {
            entry.lease_renew = lease_renew;
            entry.probe_timestamp = now;
        }
        let grace = if ready.is_none() {
            self.startup_grace_period
        } else {
            self.grace_period
        };
        now.duration_since(entry.probe_timestamp) > grace
    }

    async fn check_node(&self, node: &Arc<Node>) -> Result<(), client::rest::ClientError> {
        let name = node.metadata.name.clone().unwrap_or_default();
        let api: Api<Node> = Api::all(self.client.clone());
        let mut current: Node = (**node).clone();

        if self.observe(node) {
            if let Some(updated) = mark_unknown(&current) {
                tracing::info!(
                    node = name,
                    "node stopped posting status; marking its conditions Unknown"
                );
                current = api.replace_status(&name, &updated).await?;
            }
            // Repeated every pass while the node is silent, so a failed pod write is
            // retried; pods already not ready are skipped.
            self.mark_pods_not_ready(&name).await;
        }

        let wanted = condition_taints(&current, &now_time());
        let existing = current
            .spec
            .as_ref()
            .and_then(|spec| spec.taints.clone())
            .unwrap_or_default();
        if let Some(taints) = reconcile_taints(&existing, &wanted) {
            tracing::info!(node = name, taints = ?taints.iter().map(|t| format!("{}:{}", t.key, t.effect)).collect::<Vec<_>>(), "updating node taints");
            let mut updated = current.clone();
            updated.spec.get_or_insert_with(Default::default).taints =
                (!taints.is_empty()).then_some(taints);
            match api.replace(&name, &updated).await {
                Ok(_) => {}
                Err(error) if is_not_found(&error) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// Sets the Ready condition of every pod on the node to False.
    async fn mark_pods_not_ready(&self, node_name: &str) {
        for pod in pods_by_index(&self.pods, POD_NODE_NAME_INDEX, node_name) {
            let mut updated = (*pod).clone();
            let status = updated.status.get_or_insert_with(Default::default);
            let conditions = status.conditions.get_or_insert_with(Vec::new);
            let mut changed = false;
            match conditions.iter_mut().find(|c| c.type_ == "Ready") {
                Some(ready) if ready.status != "False" => {
                    ready.status = "False".to_string();
                    ready.last_transition_time = Some(now_time());
                    changed = true;
                }
                Some(_) => {}
                None => {
                    conditions.push(PodCondition {
                        type_: "Ready".to_string(),
                        status: "False".to_string(),
                        last_transition_time: Some(now_time()),
                        ..PodCondition::default()
                    });
                    changed = true;
                }
            }
            if !changed {
                continue;
            }
            let namespace = pod.metadata.namespace.clone().unwrap_or_default();
            let name = pod.metadata.name.clone().unwrap_or_default();
            let api: Api<Pod> = Api::namespaced(self.client.clone(), &namespace);
            match api.replace_status(&name, &updated).await {
                Ok(_) => tracing::info!(
                    pod = format!("{namespace}/{name}"),
                    node = node_name,
                    "marked pod not ready"
                ),
                Err(error) if is_not_found(&error) => {}
                Err(error) => {
                    tracing::warn!(pod = format!("{namespace}/{name}"), %error, "failed to mark pod not ready")
                }
            }
        }
    }

    /// Deletes pods whose NoExecute tolerations ran out (the taint manager's pass).
    async fn evict_tainted_pods(&self) {
        let now_seconds = now_time().0.as_second();
        let tainted: HashMap<String, Vec<k8s_openapi::api::core::v1::Taint>> = self
            .nodes
            .lister()
            .list()
            .iter()
            .filter_map(|node| {
                let taints: Vec<_> = node
                    .spec
                    .as_ref()?
                    .taints
                    .clone()?
                    .into_iter()
                    .filter(|taint| taint.effect == "NoExecute")
                    .collect();
                (!taints.is_empty())
                    .then(|| (node.metadata.name.clone().unwrap_or_default(), taints))
            })
            .collect();
        if tainted.is_empty() {
            return;
        }
        let on_tainted_nodes = tainted
            .keys()
            .flat_map(|node| pods_by_index(&self.pods, POD_NODE_NAME_INDEX, node));
        for pod in on_tainted_nodes {
            if pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.as_ref()) else {
                continue;
            };
            let Some(taints) = tainted.get(node) else {
                continue;
            };
            let tolerations = pod
                .spec
                .as_ref()
                .and_then(|s| s.tolerations.clone())
                .unwrap_or_default();
            let due = match eviction_for(&tolerations, taints) {
                Eviction::Never => false,
                Eviction::Now => true,
                Eviction::After(wait) => {
                    let since = earliest_no_execute(taints).unwrap_or(now_seconds);
                    now_seconds >= since + wait.as_secs() as i64
                }
            };
            if !due {
                continue;
            }
            let namespace = pod.metadata.namespace.clone().unwrap_or_default();
            let name = pod.metadata.name.clone().unwrap_or_default();
            let api: Api<Pod> = Api::namespaced(self.client.clone(), &namespace);
            let options = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: pod.metadata.uid.clone(),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            match api.delete(&name, &options).await {
                Ok(_) => tracing::info!(
                    pod = format!("{namespace}/{name}"),
                    node,
                    "evicting pod from tainted node"
                ),
                Err(error) if is_not_found(&error) => {}
                Err(error) => {
                    tracing::warn!(pod = format!("{namespace}/{name}"), %error, "failed to evict pod")
                }
            }
        }
    }
}

fn find_condition<'a>(node: &'a Node, type_: &str) -> Option<&'a NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// Returns the node with its monitored conditions set to Unknown, or `None` when
/// they already are.
fn mark_unknown(node: &Node) -> Option<Node> {
    let mut updated = node.clone();
    let now = now_time();
    let status = updated.status.get_or_insert_with(Default::default);
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    let mut changed = false;
    for type_ in MONITORED_CONDITIONS {
        match conditions.iter_mut().find(|c| c.type_ == *type_) {
            Some(condition) if condition.status != "Unknown" => {
                condition.status = "Unknown".to_string();
                condition.reason = Some("NodeStatusUnknown".to_string());
                condition.message = Some("Kubelet stopped posting node status.".to_string());
                condition.last_transition_time = Some(now.clone());
                changed = true;
            }
            Some(_) => {}
            None => {
                conditions.push(NodeCondition {
                    type_: type_.to_string(),
                    status: "Unknown".to_string(),
                    reason: Some("NodeStatusNeverUpdated".to_string()),
                    message: Some("Kubelet never posted node status.".to_string()),
                    last_heartbeat_time: Some(now.clone()),
                    last_transition_time: Some(now.clone()),
                });
                changed = true;
            }
        }
    }
    changed.then_some(updated)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn mark_unknown_sets_monitored_conditions_once() {
        let node: Node =
            serde_json::from_value(json!({"metadata": {"name": "n"}, "status": {"conditions": [
            {"type": "Ready", "status": "True", "lastHeartbeatTime": "2024-01-01T00:00:00Z"},
            {"type": "MemoryPressure", "status": "False"}]}}))
            .expect("valid node");
        let updated = mark_unknown(&node).expect("changed");
        let ready = find_condition(&updated, "Ready").expect("ready");
        assert_eq!(ready.status, "Unknown");
        assert_eq!(ready.reason.as_deref(), Some("NodeStatusUnknown"));
        assert!(ready.last_heartbeat_time.is_some());
        let disk = find_condition(&updated, "DiskPressure").expect("added");
        assert_eq!(disk.reason.as_deref(), Some("NodeStatusNeverUpdated"));
        assert!(mark_unknown(&updated).is_none());
    }
}
