//! The pod garbage collector: every [`GC_CHECK_PERIOD`] it deletes terminated pods
//! beyond `--terminated-pod-gc-threshold` (oldest first), pods bound to nodes that
//! no longer exist, and terminating pods that were never scheduled.
//!
//! Entry point: [`PodGcController::new`] and [`PodGcController::run`]; the choice of
//! pods is [`terminated_to_delete`] and [`orphaned`].

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use client::api::{Api, DeleteParams, Preconditions};
use client::informer::SharedIndexInformer;
use client::rest::RestClient;
use k8s_openapi::api::core::v1::{Node, Pod};
use tokio::sync::watch;

use crate::context::ControllerContext;
use crate::controller_utils::{
    POD_GC_INDEX, POD_NODE_NAME_INDEX, TERMINATED, UNSCHEDULED_TERMINATING, add_pod_indexers,
    pod_index_values, pods_by_index,
};
use crate::objectapi::is_not_found;
use crate::queueworker::sleep_or_cancel;

/// How often the pod garbage collector runs.
pub const GC_CHECK_PERIOD: Duration = Duration::from_secs(20);

/// The pod garbage collector.
pub struct PodGcController {
    client: RestClient,
    pods: SharedIndexInformer<Pod>,
    nodes: SharedIndexInformer<Node>,
    threshold: usize,
    period: Duration,
}

fn is_terminated(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Returns the terminated pods to delete so that at most `threshold` remain, oldest
/// (by creation) first. A threshold of 0 deletes none.
pub fn terminated_to_delete(pods: &[Arc<Pod>], threshold: usize) -> Vec<Arc<Pod>> {
    if threshold == 0 {
        return Vec::new();
    }
    let mut terminated: Vec<Arc<Pod>> = pods
        .iter()
        .filter(|pod| is_terminated(pod))
        .cloned()
        .collect();
    if terminated.len() <= threshold {
        return Vec::new();
    }
    terminated.sort_by(|a, b| {
        let time = |pod: &Pod| pod.metadata.creation_timestamp.as_ref().map(|t| t.0);
        time(a)
            .cmp(&time(b))
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
    let excess = terminated.len() - threshold;
    terminated.truncate(excess);
    terminated
}

/// Returns the pods bound to a node not in `nodes`, and the terminating pods that
/// were never scheduled.
pub fn orphaned(pods: &[Arc<Pod>], nodes: &HashSet<String>) -> Vec<Arc<Pod>> {
    pods.iter()
        .filter(
            |pod| match pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
                Some(node) if !node.is_empty() => !nodes.contains(node),
                _ => pod.metadata.deletion_timestamp.is_some(),
            },
        )
        .cloned()
        .collect()
}

impl PodGcController {
    pub fn new(ctx: &ControllerContext) -> Self {
        let pods = ctx.informers.informer::<Pod>();
        add_pod_indexers(&pods);
        Self {
            client: ctx.client.clone(),
            pods,
            nodes: ctx.informers.informer::<Node>(),
            threshold: usize::try_from(ctx.options.terminated_pod_gc_threshold).unwrap_or(0),
            period: GC_CHECK_PERIOD,
        }
    }

    /// Sets the period between passes (tests use a short one).
    pub fn with_period(mut self, period: Duration) -> Self {
        self.period = period;
        self
    }

    /// Runs a pass every period until `cancel` turns true.
    pub async fn run(self, _workers: usize, cancel: watch::Receiver<bool>) {
        tracing::info!("starting pod garbage collector controller");
        if !client::informer::wait_for_cache_sync(cancel.clone(), &[&self.pods, &self.nodes]).await
        {
            return;
        }
        while !sleep_or_cancel(self.period, &cancel).await {
            self.gc().await;
        }
    }

    async fn gc(&self) {
        // The indices give the terminated pods and the pods by node, so a pass
        // decodes only those from the packed cache.
        let terminated = pods_by_index(&self.pods, POD_GC_INDEX, TERMINATED);
        for pod in terminated_to_delete(&terminated, self.threshold) {
            self.force_delete(&pod, "terminated pod over the threshold")
                .await;
        }
        let nodes: HashSet<String> = self
            .nodes
            .lister()
            .list()
            .iter()
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        let candidates: Vec<Arc<Pod>> = match pod_index_values(&self.pods, POD_NODE_NAME_INDEX) {
            Some(node_names) => node_names
                .iter()
                .filter(|node| !nodes.contains(*node))
                .flat_map(|node| pods_by_index(&self.pods, POD_NODE_NAME_INDEX, node))
                .chain(pods_by_index(
                    &self.pods,
                    POD_GC_INDEX,
                    UNSCHEDULED_TERMINATING,
                ))
                .collect(),
            None => self.pods.lister().list(),
        };
        for pod in orphaned(&candidates, &nodes) {
            // The informer may lag: confirm that the node is really gone.
            if let Some(node) = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .filter(|n| !n.is_empty())
            {
                let nodes_api: Api<Node> = Api::all(self.client.clone());
                match nodes_api.get_opt(node).await {
                    Ok(None) => {}
                    Ok(Some(_)) => continue,
                    Err(error) => {
                        tracing::warn!(node, %error, "pod gc: cannot check node");
                        continue;
                    }
                }
            }
            self.force_delete(&pod, "orphaned or unscheduled terminating pod")
                .await;
        }
    }

    async fn force_delete(&self, pod: &Pod, why: &str) {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &namespace);
        let options = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: pod.metadata.uid.clone(),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match api.delete(&name, &options).await {
            Ok(_) => tracing::info!(
                pod = format!("{namespace}/{name}"),
                reason = why,
                "pod gc deleted pod"
            ),
            Err(error) if is_not_found(&error) => {}
            Err(error) => {
                tracing::warn!(pod = format!("{namespace}/{name}"), %error, "pod gc failed to delete pod")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(name: &str, phase: &str, node: Option<&str>, created: i64, deleting: bool) -> Arc<Pod> {
        let mut value = json!({"metadata": {"name": name, "namespace": "default",
            "creationTimestamp": format!("2024-01-01T00:00:{created:02}Z")},
            "spec": {"containers": []}, "status": {"phase": phase}});
        if let Some(node) = node {
            value["spec"]["nodeName"] = json!(node);
        }
        if deleting {
            value["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:01:00Z");
        }
        Arc::new(serde_json::from_value(value).expect("valid pod"))
    }

    fn names(pods: &[Arc<Pod>]) -> Vec<String> {
        pods.iter()
            .filter_map(|p| p.metadata.name.clone())
            .collect()
    }

    #[test]
    fn oldest_terminated_pods_over_threshold() {
        let pods = vec![
            pod("new", "Succeeded", Some("n"), 30, false),
            pod("old", "Failed", Some("n"), 10, false),
            pod("mid", "Succeeded", Some("n"), 20, false),
            pod("running", "Running", Some("n"), 0, false),
        ];
        assert_eq!(names(&terminated_to_delete(&pods, 1)), ["old", "mid"]);
        assert!(terminated_to_delete(&pods, 3).is_empty());
        assert!(terminated_to_delete(&pods, 0).is_empty());
    }

    #[test]
    fn orphaned_and_unscheduled_terminating() {
        let pods = vec![
            pod("on-live", "Running", Some("live"), 0, false),
            pod("on-gone", "Running", Some("gone"), 0, false),
            pod("pending", "Pending", None, 0, false),
            pod("pending-deleting", "Pending", None, 0, true),
        ];
        let nodes = HashSet::from(["live".to_string()]);
        assert_eq!(
            names(&orphaned(&pods, &nodes)),
            ["on-gone", "pending-deleting"]
        );
    }
}
