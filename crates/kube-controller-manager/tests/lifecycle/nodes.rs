//! Node lifecycle: a node whose Lease stops being renewed goes Unknown, is tainted,
//! and its pods are marked not ready or evicted by their tolerations.

use std::time::Duration;

use client::rest::RestClient;
use kube_controller_manager::nodelifecycle::NodeLifecycleController;
use kube_controller_manager::options::ControllerManagerOptions;
use serde_json::{Value, json};

use crate::common::*;

fn micro_time_now() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970");
    let seconds = k8s_openapi::jiff::Timestamp::from_second(since.as_secs() as i64).expect("time");
    format!(
        "{}.{:06}Z",
        seconds.strftime("%Y-%m-%dT%H:%M:%S"),
        since.subsec_micros()
    )
}

async fn renew_lease(client: &RestClient) {
    let path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1";
    client
        .patch(path, client::rest::PatchType::Merge)
        .json(&json!({"spec": {"renewTime": micro_time_now()}}))
        .request_json::<Value>()
        .await
        .expect("renew lease");
}

fn taint_keys(node: &Value) -> Vec<String> {
    let mut keys: Vec<String> = node["spec"]["taints"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|taint| {
            format!(
                "{}:{}",
                taint["key"].as_str().unwrap_or_default(),
                taint["effect"].as_str().unwrap_or_default()
            )
        })
        .collect();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn node_goes_unknown_when_its_lease_stops() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let (cancel, cancel_rx) = Cancel::new();

    create(
        &client,
        "/api/v1/nodes",
        &json!({"metadata": {"name": "node-1"}}),
    )
    .await;
    client
        .patch("/api/v1/nodes/node-1/status", client::rest::PatchType::Merge)
        .json(&json!({"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
            "lastHeartbeatTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"}]}}))
        .request_json::<Value>()
        .await
        .expect("node ready");
    create(&client, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", &json!({
        "metadata": {"name": "node-1"},
        "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40, "renewTime": micro_time_now()},
    }))
    .await;
    let mut tolerant = pod("tolerant", None);
    tolerant["spec"]["nodeName"] = json!("node-1");
    tolerant["spec"]["tolerations"] = json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
        "effect": "NoExecute", "tolerationSeconds": 3600}]);
    create(&client, "/api/v1/namespaces/default/pods", &tolerant).await;
    set_pod_status(&client, "default", "tolerant", "10.244.0.5", true).await;
    // Tolerates unreachable for one second only; the DefaultTolerationSeconds
    // admission plugin leaves an explicit toleration alone.
    let mut short = pod("short", None);
    short["spec"]["nodeName"] = json!("node-1");
    short["spec"]["tolerations"] = json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
        "effect": "NoExecute", "tolerationSeconds": 1}]);
    create(&client, "/api/v1/namespaces/default/pods", &short).await;

    let ctx = context(
        &client,
        ControllerManagerOptions {
            node_monitor_grace_period: Duration::from_secs(2),
            node_monitor_period: Duration::from_millis(200),
            ..ControllerManagerOptions::default()
        },
    );
    let controller = NodeLifecycleController::new(&ctx);
    ctx.informers.start(cancel_rx.clone());
    tokio::spawn(controller.run(1, cancel_rx));

    // While the lease is renewed, the node stays Ready and untainted.
    for _ in 0..8 {
        renew_lease(&client).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let node = get(&client, "/api/v1/nodes/node-1").await.expect("node");
    assert_eq!(node["status"]["conditions"][0]["status"], "True", "{node}");
    assert!(taint_keys(&node).is_empty(), "{node}");

    // The lease stops: Unknown, unreachable taints, pods handled by tolerations.
    let node = eventually(
        "node tainted unreachable",
        Duration::from_secs(20),
        || async {
            let node = get(&client, "/api/v1/nodes/node-1").await?;
            (taint_keys(&node)
                == [
                    "node.kubernetes.io/unreachable:NoExecute",
                    "node.kubernetes.io/unreachable:NoSchedule",
                ])
            .then_some(node)
        },
    )
    .await;
    let ready = node["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready").cloned())
        .expect("ready condition");
    assert_eq!(ready["status"], "Unknown");
    assert_eq!(ready["reason"], "NodeStatusUnknown");

    eventually(
        "short-toleration pod evicted",
        Duration::from_secs(20),
        || async {
            let pod = get(&client, "/api/v1/namespaces/default/pods/short").await;
            pod.is_none_or(|pod| pod["metadata"].get("deletionTimestamp").is_some())
                .then_some(())
        },
    )
    .await;
    eventually(
        "tolerant pod marked not ready",
        Duration::from_secs(20),
        || async {
            let pod = get(&client, "/api/v1/namespaces/default/pods/tolerant").await?;
            let ready = pod["status"]["conditions"]
                .as_array()?
                .iter()
                .find(|c| c["type"] == "Ready")?
                .clone();
            (ready["status"] == "False").then_some(())
        },
    )
    .await;
    let tolerant = get(&client, "/api/v1/namespaces/default/pods/tolerant")
        .await
        .expect("tolerant pod stays");
    assert!(tolerant["metadata"].get("deletionTimestamp").is_none());

    // Heartbeats resume: Ready again from the kubelet, taints removed.
    renew_lease(&client).await;
    client
        .patch("/api/v1/nodes/node-1/status", client::rest::PatchType::Merge)
        .json(&json!({"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
            "lastHeartbeatTime": "2024-01-02T00:00:00Z", "lastTransitionTime": "2024-01-02T00:00:00Z"}]}}))
        .request_json::<Value>()
        .await
        .expect("node ready again");
    eventually("taints removed", Duration::from_secs(20), || async {
        let node = get(&client, "/api/v1/nodes/node-1").await?;
        taint_keys(&node).is_empty().then_some(())
    })
    .await;

    drop(cancel);
    server.stop().await;
}
