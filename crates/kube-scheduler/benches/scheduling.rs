//! Scheduling throughput in-process: M nodes and N pending pods fed to the scheduler
//! through its event handlers, with a client that confirms each binding at once as the
//! informer would. Prints pods per second.
//!
//! Run: `cargo bench -p kube-scheduler --bench scheduling -- [nodes] [pods]`
//! (defaults 500 nodes, 2000 pods).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use k8s_openapi::api::core::v1::{Node, Pod, PodCondition};
use kube_scheduler::config::KubeSchedulerConfiguration;
use kube_scheduler::framework::handle::{ApiError, ClusterClient};
use kube_scheduler::plugins::in_tree_registry;
use kube_scheduler::scheduler::Scheduler;
use serde_json::json;
use tokio::sync::{Notify, watch};

/// Confirms bindings through the scheduler's own update handler.
struct LoopbackClient {
    scheduler: OnceLock<Weak<Scheduler>>,
    bound: AtomicUsize,
    done: Notify,
    target: usize,
}

#[async_trait]
impl ClusterClient for LoopbackClient {
    async fn bind(&self, pod: &Pod, node_name: &str) -> Result<(), ApiError> {
        let mut bound = pod.clone();
        if let Some(spec) = bound.spec.as_mut() {
            spec.node_name = Some(node_name.to_string());
        }
        if let Some(scheduler) = self.scheduler.get().and_then(Weak::upgrade) {
            let mut old = pod.clone();
            if let Some(spec) = old.spec.as_mut() {
                spec.node_name = None;
            }
            scheduler.on_pod_update(Arc::new(old), Arc::new(bound));
        }
        if self.bound.fetch_add(1, Ordering::SeqCst) + 1 == self.target {
            self.done.notify_one();
        }
        Ok(())
    }

    async fn delete_pod(&self, _pod: &Pod) -> Result<(), ApiError> {
        Ok(())
    }

    async fn update_pod_status(
        &self,
        _pod: &Pod,
        _condition: Option<PodCondition>,
        _nominated_node_name: Option<&str>,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    fn record_event(&self, _pod: &Pod, _event_type: &str, _reason: &str, _message: String) {}
}

fn node(i: usize) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": format!("node-{i}"), "labels": {
            "kubernetes.io/hostname": format!("node-{i}"),
            "topology.kubernetes.io/zone": format!("zone-{}", i % 3),
        }},
        "status": {"allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"}},
    }))
    .expect("node")
}

fn pod(i: usize) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": format!("pod-{i}"), "namespace": "default", "uid": format!("uid-{i}"),
            "labels": {"app": format!("app-{}", i % 10)}},
        "spec": {"containers": [{"name": "c", "image": "busybox",
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]},
    }))
    .expect("pod")
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let nodes = args.first().copied().unwrap_or(500);
    let pods = args.get(1).copied().unwrap_or(2000);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // SCHEDULER_PERF_PARALLELISM sets the configuration's `parallelism`, as in
    // scheduler_perf.
    let mut configuration = KubeSchedulerConfiguration::default();
    if let Some(parallelism) = std::env::var("SCHEDULER_PERF_PARALLELISM")
        .ok()
        .and_then(|value| value.parse().ok())
    {
        configuration.parallelism = parallelism;
    }
    runtime.block_on(async move {
        let client = Arc::new(LoopbackClient {
            scheduler: OnceLock::new(),
            bound: AtomicUsize::new(0),
            done: Notify::new(),
            target: pods,
        });
        let scheduler =
            Scheduler::new(&configuration, client.clone(), &in_tree_registry()).expect("scheduler");
        let _ = client.scheduler.set(Arc::downgrade(&scheduler));
        for i in 0..nodes {
            scheduler.on_node_add(Arc::new(node(i)));
        }

        let (stop, cancel) = watch::channel(false);
        let task = tokio::spawn(scheduler.clone().run(cancel));
        let start = Instant::now();
        for i in 0..pods {
            scheduler.on_pod_add(Arc::new(pod(i)));
        }
        let finished = tokio::time::timeout(Duration::from_secs(600), client.done.notified()).await;
        let elapsed = start.elapsed();
        let _ = stop.send(true);
        let _ = task.await;
        if finished.is_err() {
            eprintln!(
                "timed out: {} of {pods} pods bound",
                client.bound.load(Ordering::SeqCst)
            );
            std::process::exit(1);
        }
        println!(
            "scheduled {pods} pods on {nodes} nodes in {:.2?}: {:.0} pods/s",
            elapsed,
            pods as f64 / elapsed.as_secs_f64()
        );
    });
}
