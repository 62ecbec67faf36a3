//! The scheduler against a real kube-apiserver started in-process on a loopback port.
//! The tests cover placement by resources, taints and affinity, the PodScheduled
//! condition and the retry when a node arrives, preemption, and the secure port's
//! health and metrics endpoints.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use clap::Parser;
use client::config::{RestConfig, TlsConfig};
use client::rest::RestClient;
use common::{Cluster, cpu_pod, rest_config};
use kube_scheduler::app;
use kube_scheduler::server::{ServingState, serve};
use serde_json::{Value, json};
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binds_by_resources_taints_and_affinity() {
    let cluster = Cluster::start().await;
    cluster
        .create_node("n1", "2", json!({"zone": "a"}), json!([]))
        .await;
    cluster
        .create_node(
            "n2",
            "4",
            json!({"zone": "a", "role": "special"}),
            json!([{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]),
        )
        .await;
    cluster
        .create_node("n3", "1", json!({"zone": "b"}), json!([]))
        .await;

    let mut zoned = cpu_pod("1500m");
    zoned["nodeSelector"] = json!({"zone": "a"});
    cluster.create_pod("zoned", zoned).await;
    assert_eq!(
        cluster.wait_bound("zoned").await,
        "n1",
        "only n1 is in zone a, untainted and big enough"
    );

    let mut tolerating = cpu_pod("100m");
    tolerating["tolerations"] =
        json!([{"key": "dedicated", "operator": "Equal", "value": "x", "effect": "NoSchedule"}]);
    tolerating["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "role", "operator": "In", "values": ["special"]}]}]}}});
    cluster.create_pod("tolerating", tolerating).await;
    assert_eq!(cluster.wait_bound("tolerating").await, "n2");

    // 900m fits nowhere but n3: n1 has 500m left and n2's taint is not tolerated.
    cluster.create_pod("plain", cpu_pod("900m")).await;
    assert_eq!(cluster.wait_bound("plain").await, "n3");

    // Anti-affinity to "zoned" keeps this pod out of zone a.
    let mut anti = cpu_pod("50m");
    anti["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
        "labelSelector": {"matchLabels": {"app": "zoned"}}, "topologyKey": "zone"}]}});
    cluster.create_pod("anti", anti).await;
    assert_eq!(cluster.wait_bound("anti").await, "n3");

    let event = cluster.wait_event("zoned", "Scheduled").await;
    assert_eq!(
        event["message"],
        "Successfully assigned default/zoned to n1"
    );
    assert_eq!(event["type"], "Normal");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unschedulable_pod_gets_condition_then_node() {
    let cluster = Cluster::start().await;
    cluster
        .create_node("small", "1", json!({}), json!([]))
        .await;
    cluster
        .create_node(
            "tainted",
            "8",
            json!({}),
            json!([{"key": "k", "value": "v", "effect": "NoSchedule"}]),
        )
        .await;
    cluster.create_pod("big", cpu_pod("3")).await;

    let condition = cluster
        .wait_pod("big", "PodScheduled=False", |pod| {
            pod["status"]["conditions"]
                .as_array()?
                .iter()
                .find(|condition| {
                    condition["type"] == "PodScheduled" && condition["status"] == "False"
                })
                .cloned()
        })
        .await;
    assert_eq!(condition["reason"], "Unschedulable");
    assert_eq!(
        condition["message"],
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had taints that the pod didn't tolerate."
    );
    let event = cluster.wait_event("big", "FailedScheduling").await;
    assert_eq!(event["type"], "Warning");
    assert_eq!(event["message"], condition["message"]);
    assert!(cluster.pod("big").await.expect("pod")["spec"]["nodeName"].is_null());

    cluster
        .create_node("large", "4", json!({}), json!([]))
        .await;
    assert_eq!(cluster.wait_bound("big").await, "large");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preemption_evicts_lower_priority_pod() {
    let cluster = Cluster::start().await;
    cluster.create_node("only", "1", json!({}), json!([])).await;

    let mut low = cpu_pod("800m");
    low["priority"] = json!(0);
    cluster.create_pod("low", low).await;
    assert_eq!(cluster.wait_bound("low").await, "only");

    // The Priority admission plugin sets spec.priority from the PriorityClass.
    cluster
        .create(
            "/apis/scheduling.k8s.io/v1/priorityclasses",
            json!({
                "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": "high"}, "value": 1000,
            }),
        )
        .await;
    let mut high = cpu_pod("800m");
    high["priorityClassName"] = json!("high");
    cluster.create_pod("high", high).await;

    let nominated = cluster
        .wait_pod("high", "nominated", |pod| {
            pod["status"]["nominatedNodeName"]
                .as_str()
                .map(str::to_string)
        })
        .await;
    assert_eq!(nominated, "only");

    // The victim is deleted; without a kubelet a graceful delete leaves it terminating,
    // so finish the deletion as the kubelet would.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match cluster.pod("low").await {
            Err(error) if error.to_string().contains("not found") => break,
            Ok(pod) if !pod["metadata"]["deletionTimestamp"].is_null() => {
                let _: Result<Value, _> = cluster
                    .client
                    .delete("/api/v1/namespaces/default/pods/low")
                    .json(&json!({"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0}))
                    .request_json()
                    .await;
            }
            _ => {}
        }
        assert!(Instant::now() < deadline, "victim was not deleted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    assert_eq!(cluster.wait_bound("high").await, "only");
    let event = cluster.wait_event("low", "Preempted").await;
    assert!(
        event["message"]
            .as_str()
            .unwrap_or_default()
            .contains("on node only")
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_port_serves_health_and_metrics() {
    let cluster = Cluster::start().await;
    cluster.create_node("n", "2", json!({}), json!([])).await;
    cluster.create_pod("p", cpu_pod("100m")).await;
    cluster.wait_bound("p").await;

    let scheduler = &cluster.scheduler.as_ref().expect("scheduler").scheduler;
    let state = Arc::new(ServingState {
        metrics: scheduler.metrics.clone(),
        queue: scheduler.queue.clone(),
        synced: Arc::new(AtomicBool::new(true)),
    });
    let (_stop, stop) = watch::channel(false);
    let (address, task) = serve("127.0.0.1:0".parse().expect("address"), state, stop)
        .await
        .expect("serve");
    let probe = RestClient::new(&RestConfig {
        tls: TlsConfig {
            insecure: true,
            ..TlsConfig::default()
        },
        ..rest_config(format!("https://{address}"), PathBuf::new())
    })
    .expect("probe client");

    for path in ["/healthz", "/livez", "/readyz"] {
        let response = probe.get(path).send().await.expect("health request");
        assert!(response.status.is_success(), "{path}: {}", response.status);
        assert_eq!(&response.body[..], b"ok");
    }
    let metrics = probe.get("/metrics").send().await.expect("metrics request");
    let text = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(
        text.contains("scheduler_schedule_attempts_total{result=\"scheduled\",profile=\"default-scheduler\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("scheduler_pending_pods{queue=\"active\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("scheduler_e2e_scheduling_duration_seconds_count"),
        "{text}"
    );
    task.abort();
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_and_gated_pods_stay_pending() {
    let cluster = Cluster::start().await;
    cluster.create_node("n", "2", json!({}), json!([])).await;
    let mut foreign = cpu_pod("100m");
    foreign["schedulerName"] = json!("someone-else");
    cluster.create_pod("foreign", foreign).await;
    let mut gated = cpu_pod("100m");
    gated["schedulingGates"] = json!([{"name": "example.com/wait"}]);
    cluster.create_pod("gated", gated).await;
    cluster.create_pod("ours", cpu_pod("100m")).await;
    assert_eq!(cluster.wait_bound("ours").await, "n");
    tokio::time::sleep(Duration::from_millis(500)).await;

    let pod = cluster.pod("foreign").await.expect("pod");
    assert!(pod["spec"]["nodeName"].is_null());
    assert!(pod["status"]["conditions"].is_null(), "{}", pod["status"]);
    let condition = cluster
        .wait_pod("gated", "SchedulingGated condition", |pod| {
            pod["status"]["conditions"]
                .as_array()?
                .iter()
                .find(|condition| condition["type"] == "PodScheduled")
                .cloned()
        })
        .await;
    assert_eq!(condition["status"], "False");
    assert_eq!(condition["reason"], "SchedulingGated");
    let pod = cluster.pod("gated").await.expect("pod");
    assert!(pod["spec"]["nodeName"].is_null());

    let _: Value = cluster
        .client
        .patch(
            "/api/v1/namespaces/default/pods/gated",
            client::rest::PatchType::Merge,
        )
        .json(&json!({"spec": {"schedulingGates": null}}))
        .request_json()
        .await
        .expect("remove gates");
    assert_eq!(cluster.wait_bound("gated").await, "n");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_runs_with_kubeconfig_and_leader_election() {
    let cluster = Cluster::start().await;
    let kubeconfig = cluster.write_kubeconfig();
    // A profile of its own, so that the pod cannot be bound by the test's scheduler.
    let config = cluster._dir.path().join("scheduler.yaml");
    std::fs::write(
        &config,
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: daemon-scheduler\n",
    )
    .expect("write config");
    let options = kube_scheduler::options::Options::try_parse_from([
        "kube-scheduler",
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8 path"),
        "--config",
        config.to_str().expect("utf-8 path"),
        "--secure-port=0",
        "--bind-address=127.0.0.1",
        "--leader-elect",
        "--leader-elect-resource-name=second-scheduler",
    ])
    .expect("parse flags");
    let (stop, cancel) = watch::channel(false);
    let daemon = tokio::spawn(app::run(options, cancel));

    let mut own = cpu_pod("100m");
    own["schedulerName"] = json!("daemon-scheduler");
    cluster.create_node("n", "2", json!({}), json!([])).await;
    cluster.create_pod("p", own).await;
    assert_eq!(cluster.wait_bound("p").await, "n");
    let lease: Value = cluster
        .client
        .get("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/second-scheduler")
        .request_json()
        .await
        .expect("lease");
    assert!(
        lease["spec"]["holderIdentity"]
            .as_str()
            .is_some_and(|holder| !holder.is_empty()),
        "{lease}"
    );

    stop.send(true).expect("stop daemon");
    let result = tokio::time::timeout(Duration::from_secs(20), daemon)
        .await
        .expect("daemon stops")
        .expect("daemon task");
    assert!(result.is_ok(), "{result:?}");
    cluster.stop().await;
}
