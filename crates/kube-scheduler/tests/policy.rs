//! The legacy scheduler Policy through the daemon's flags against a real
//! kube-apiserver. A Policy file's label presence predicate decides placement, a
//! Policy in a ConfigMap decides it by a label preference priority, and a missing
//! ConfigMap stops the daemon with upstream's message.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use common::{Cluster, cpu_pod};
use kube_scheduler::app::{self, AppError};
use serde_json::json;
use tokio::sync::watch;

/// The profile the daemon serves; the fixture's own scheduler serves
/// `default-scheduler`, so the daemon alone places these pods.
const SCHEDULER_NAME: &str = "policy-scheduler";

fn write_config(cluster: &Cluster) -> PathBuf {
    let path = cluster._dir.path().join("scheduler.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nleaderElection:\n  leaderElect: false\nprofiles:\n- schedulerName: {SCHEDULER_NAME}\n"
        ),
    )
    .expect("write config");
    path
}

/// Starts the daemon with the given extra flags.
fn start_daemon(
    cluster: &Cluster,
    flags: &[String],
) -> (
    watch::Sender<bool>,
    tokio::task::JoinHandle<Result<(), AppError>>,
) {
    let kubeconfig = cluster.write_kubeconfig();
    let config = write_config(cluster);
    let mut args = vec![
        "kube-scheduler".to_string(),
        format!("--kubeconfig={}", kubeconfig.display()),
        format!("--config={}", config.display()),
        "--secure-port=0".to_string(),
        "--bind-address=127.0.0.1".to_string(),
    ];
    args.extend_from_slice(flags);
    let options = kube_scheduler::options::Options::try_parse_from(args).expect("parse flags");
    let (stop, cancel) = watch::channel(false);
    (stop, tokio::spawn(app::run(options, cancel)))
}

async fn stop_daemon(
    stop: watch::Sender<bool>,
    daemon: tokio::task::JoinHandle<Result<(), AppError>>,
) {
    stop.send(true).expect("stop daemon");
    let result = tokio::time::timeout(Duration::from_secs(20), daemon)
        .await
        .expect("daemon stops")
        .expect("daemon task");
    assert!(result.is_ok(), "{result:?}");
}

fn policy_pod() -> serde_json::Value {
    let mut spec = cpu_pod("100m");
    spec["schedulerName"] = json!(SCHEDULER_NAME);
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_file_predicates_decide_placement() {
    let cluster = Cluster::start().await;
    cluster
        .create_node("plain", "4", json!({}), json!([]))
        .await;
    cluster
        .create_node("ready", "1", json!({"ready": "yes"}), json!([]))
        .await;
    let policy = cluster._dir.path().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"kind": "Policy", "apiVersion": "v1",
            "predicates": [{"name": "GeneralPredicates"},
                {"name": "NeedsReady", "argument": {"labelsPresence": {"labels": ["ready"], "presence": true}}}],
            "priorities": [{"name": "LeastRequestedPriority", "weight": 1}]}"#,
    )
    .expect("write policy");
    let (stop, daemon) = start_daemon(
        &cluster,
        &[format!("--policy-config-file={}", policy.display())],
    );

    // LeastRequested alone would prefer the larger node; the predicate forbids it.
    for name in ["a", "b"] {
        cluster.create_pod(name, policy_pod()).await;
        assert_eq!(cluster.wait_bound(name).await, "ready", "pod {name}");
    }
    stop_daemon(stop, daemon).await;
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_config_map_priorities_decide_placement() {
    let cluster = Cluster::start().await;
    cluster.create_node("slow", "4", json!({}), json!([])).await;
    cluster
        .create_node("fast", "1", json!({"disk": "ssd"}), json!([]))
        .await;
    let policy = r#"{"kind": "Policy", "apiVersion": "v1",
        "priorities": [{"name": "LeastRequestedPriority", "weight": 1},
            {"name": "PreferSsd", "weight": 10, "argument": {"labelPreference": {"label": "disk", "presence": true}}}]}"#;
    cluster
        .create(
            "/api/v1/namespaces/kube-system/configmaps",
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "scheduler-policy", "namespace": "kube-system"},
                "data": {"policy.cfg": policy}}),
        )
        .await;
    let (stop, daemon) = start_daemon(
        &cluster,
        &[
            "--policy-configmap=scheduler-policy".to_string(),
            "--policy-configmap-namespace=kube-system".to_string(),
        ],
    );
    cluster.create_pod("p", policy_pod()).await;
    assert_eq!(cluster.wait_bound("p").await, "fast");
    stop_daemon(stop, daemon).await;
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_policy_config_map_stops_the_daemon() {
    let cluster = Cluster::start().await;
    let (_stop, daemon) = start_daemon(&cluster, &["--policy-configmap=absent".to_string()]);
    let result = tokio::time::timeout(Duration::from_secs(30), daemon)
        .await
        .expect("daemon exits")
        .expect("daemon task");
    let error = result
        .expect_err("a missing ConfigMap is an error")
        .to_string();
    assert!(
        error.contains("couldn't get policy config map kube-system/absent"),
        "{error}"
    );
    cluster.stop().await;
}
