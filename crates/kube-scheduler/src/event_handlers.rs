//! The scheduler's informer event handlers (upstream `eventhandlers.go`): unbound pods
//! of our profiles go to the queue, bound pods and nodes to the cache, and events that
//! may make pending pods fit move them out of the unschedulableQ.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};

use crate::framework::types::{pod_key, pod_node_name};
use crate::queue::ClusterEvent;
use crate::scheduler::Scheduler;

impl Scheduler {
    /// Handles a pod add.
    pub fn on_pod_add(&self, pod: Arc<Pod>) {
        self.remember_pod(&pod);
        if pod_node_name(&pod).is_some() {
            self.cache.add_pod(pod.clone());
            self.queue
                .assigned_pod_added(&pod, &self.cluster.namespace_labels());
        } else if self.responsible_for(&pod) && !is_finished(&pod) {
            if is_gated(&pod) {
                self.report_gated(&pod);
            } else {
                self.queue.add(pod);
            }
        }
    }

    /// Handles a pod update, including the transition from unbound to bound.
    pub fn on_pod_update(&self, old: Arc<Pod>, new: Arc<Pod>) {
        self.remember_pod(&new);
        let was_assigned = pod_node_name(&old).is_some();
        let is_assigned = pod_node_name(&new).is_some();
        if is_assigned {
            if !was_assigned {
                self.queue.delete(&new);
            }
            if is_finished(&new) {
                self.cache.remove_pod(&new);
                self.queue
                    .move_all_to_active_or_backoff_queue(ClusterEvent::AssignedPodDelete);
            } else {
                self.cache.update_pod(new.clone());
                self.queue
                    .assigned_pod_added(&new, &self.cluster.namespace_labels());
            }
            return;
        }
        if !self.responsible_for(&new) {
            return;
        }
        if is_finished(&new) {
            self.queue.delete(&new);
            return;
        }
        if is_gated(&new) {
            self.queue.delete(&new);
            self.report_gated(&new);
            return;
        }
        if self.cache.is_assumed_pod(&new) {
            return;
        }
        self.queue.update(&old, new);
    }

    /// Handles a pod delete.
    pub fn on_pod_delete(&self, pod: Arc<Pod>) {
        let key = pod_key(&pod);
        self.pods
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        if pod_node_name(&pod).is_some() {
            self.cache.remove_pod(&pod);
            self.queue
                .move_all_to_active_or_backoff_queue(ClusterEvent::AssignedPodDelete);
        } else {
            self.queue.delete(&pod);
            for framework in self.profiles.values() {
                framework
                    .handle()
                    .waiting_pods
                    .reject(&key, "", "pod was deleted");
            }
        }
    }

    /// Handles a node add.
    pub fn on_node_add(&self, node: Arc<Node>) {
        self.cache.add_node(node);
        self.queue
            .move_all_to_active_or_backoff_queue(ClusterEvent::NodeAdd);
    }

    /// Handles a node update; only changes that can make pods fit move them.
    pub fn on_node_update(&self, old: Arc<Node>, new: Arc<Node>) {
        let relevant = node_scheduling_properties_changed(&old, &new);
        self.cache.update_node(new);
        if relevant {
            self.queue
                .move_all_to_active_or_backoff_queue(ClusterEvent::NodeUpdate);
        }
    }

    /// Handles a node delete.
    pub fn on_node_delete(&self, node: Arc<Node>) {
        self.cache.remove_node(&node);
    }

    /// Handles a change of an object that can unblock pods (PV, PVC, Service,
    /// StorageClass).
    pub fn on_cluster_object_change(&self, event: ClusterEvent) {
        self.queue.move_all_to_active_or_backoff_queue(event);
    }

    fn remember_pod(&self, pod: &Arc<Pod>) {
        self.pods
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(pod_key(pod), pod.clone());
    }
}

/// Returns whether `spec.schedulingGates` keeps the pod from scheduling.
fn is_gated(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.scheduling_gates.as_ref())
        .is_some_and(|gates| !gates.is_empty())
}

fn is_finished(pod: &Pod) -> bool {
    matches!(
        pod.status
            .as_ref()
            .and_then(|status| status.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Returns whether a node update changed what scheduling reads: schedulability,
/// allocatable, labels, taints or conditions.
fn node_scheduling_properties_changed(old: &Node, new: &Node) -> bool {
    let spec = |node: &Node| {
        node.spec
            .as_ref()
            .map(|spec| (spec.unschedulable, spec.taints.clone()))
    };
    let status = |node: &Node| {
        node.status.as_ref().map(|status| {
            (
                status.allocatable.clone(),
                status.conditions.as_ref().map(|c| {
                    c.iter()
                        .map(|c| (c.type_.clone(), c.status.clone()))
                        .collect::<Vec<_>>()
                }),
            )
        })
    };
    old.metadata.labels != new.metadata.labels
        || spec(old) != spec(new)
        || status(old) != status(new)
}
