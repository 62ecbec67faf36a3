//! Garbage collection: background deletion of a ReplicaSet's pods, orphaning and
//! foreground deletion.

use std::time::Duration;

use kube_controller_manager::garbagecollector::GarbageCollector;
use serde_json::{Value, json};

use crate::common::*;

const RS: &str = "/apis/apps/v1/namespaces/default/replicasets";
const PODS: &str = "/api/v1/namespaces/default/pods";
const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

fn replica_set(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "c", "image": "busybox"}]}}},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn garbage_collection() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let (cancel, cancel_rx) = Cancel::new();
    tokio::spawn(GarbageCollector::with_client(client.clone()).run(2, cancel_rx));

    // Background: a ReplicaSet -> pod -> configmap chain goes away with its root.
    let rs = create(&client, RS, &replica_set("bg")).await;
    let bg_pod = create(
        &client,
        PODS,
        &pod(
            "bg-pod",
            Some(("apps/v1", "ReplicaSet", "bg", &uid(&rs), true)),
        ),
    )
    .await;
    let mut leaf = json!({"metadata": {"name": "bg-leaf"}, "data": {}});
    leaf["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "v1", "kind": "Pod", "name": "bg-pod", "uid": uid(&bg_pod)}]);
    create(&client, CONFIGMAPS, &leaf).await;
    delete(
        &client,
        &format!("{RS}/bg"),
        &json!({"propagationPolicy": "Background"}),
    )
    .await;
    eventually(
        "background deletion of the pod and its configmap",
        Duration::from_secs(30),
        || async {
            let pod_gone = get(&client, &format!("{PODS}/bg-pod")).await.is_none();
            let leaf_gone = get(&client, &format!("{CONFIGMAPS}/bg-leaf"))
                .await
                .is_none();
            (pod_gone && leaf_gone).then_some(())
        },
    )
    .await;

    // A dependent whose owner never existed is collected too.
    create(
        &client,
        PODS,
        &pod(
            "dangling",
            Some(("apps/v1", "ReplicaSet", "ghost", "no-such-uid", false)),
        ),
    )
    .await;
    eventually("dangling pod deleted", Duration::from_secs(30), || async {
        get(&client, &format!("{PODS}/dangling"))
            .await
            .is_none()
            .then_some(())
    })
    .await;

    // Orphan: the pod stays, without its owner reference, and the RS goes.
    let rs = create(&client, RS, &replica_set("orphan")).await;
    create(
        &client,
        PODS,
        &pod(
            "orphan-pod",
            Some(("apps/v1", "ReplicaSet", "orphan", &uid(&rs), true)),
        ),
    )
    .await;
    // The collector orphans the dependents it has observed, so give its pod monitor
    // time to see the new pod first (upstream's e2e test waits for the pods too).
    tokio::time::sleep(Duration::from_secs(1)).await;
    delete(
        &client,
        &format!("{RS}/orphan"),
        &json!({"propagationPolicy": "Orphan"}),
    )
    .await;
    eventually(
        "orphaned owner deleted",
        Duration::from_secs(30),
        || async {
            get(&client, &format!("{RS}/orphan"))
                .await
                .is_none()
                .then_some(())
        },
    )
    .await;
    let orphan = get(&client, &format!("{PODS}/orphan-pod"))
        .await
        .expect("orphaned pod stays");
    assert!(
        orphan["metadata"]
            .get("ownerReferences")
            .is_none_or(|refs| refs.as_array().is_some_and(Vec::is_empty)),
        "{orphan}"
    );

    // Foreground: the owner waits, with its finalizer, until the blocking pod is gone.
    let rs = create(&client, RS, &replica_set("fg")).await;
    let blocking = pod(
        "fg-pod",
        Some(("apps/v1", "ReplicaSet", "fg", &uid(&rs), true)),
    );
    let mut blocking = blocking;
    blocking["metadata"]["finalizers"] = json!(["example.com/hold"]);
    create(&client, PODS, &blocking).await;
    delete(
        &client,
        &format!("{RS}/fg"),
        &json!({"propagationPolicy": "Foreground"}),
    )
    .await;
    eventually(
        "blocking pod marked for deletion",
        Duration::from_secs(30),
        || async {
            let fg_pod = get(&client, &format!("{PODS}/fg-pod")).await?;
            fg_pod["metadata"].get("deletionTimestamp").map(|_| ())
        },
    )
    .await;
    let owner = get(&client, &format!("{RS}/fg"))
        .await
        .expect("owner waits for its dependent");
    assert_eq!(
        owner["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    client
        .patch(&format!("{PODS}/fg-pod"), client::rest::PatchType::Merge)
        .json(&json!({"metadata": {"finalizers": null}}))
        .request_json::<Value>()
        .await
        .expect("release the pod's finalizer");
    eventually(
        "foreground owner deleted after its dependent",
        Duration::from_secs(30),
        || async {
            get(&client, &format!("{RS}/fg"))
                .await
                .is_none()
                .then_some(())
        },
    )
    .await;

    // A circle of blocking owner references does not block a foreground deletion.
    let mut uids = Vec::new();
    for name in ["c1", "c2", "c3"] {
        let object = create(&client, CONFIGMAPS, &json!({"metadata": {"name": name}})).await;
        uids.push(uid(&object));
    }
    // c1 is owned by c3, c2 by c1, c3 by c2.
    for (index, name) in ["c1", "c2", "c3"].iter().enumerate() {
        let owner = (index + 2) % 3;
        let patch = json!({"metadata": {"ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap",
            "name": format!("c{}", owner + 1), "uid": uids[owner], "blockOwnerDeletion": true}]}});
        client
            .patch(
                &format!("{CONFIGMAPS}/{name}"),
                client::rest::PatchType::Merge,
            )
            .json(&patch)
            .request_json::<Value>()
            .await
            .expect("set owner reference");
    }
    delete(
        &client,
        &format!("{CONFIGMAPS}/c1"),
        &json!({"propagationPolicy": "Foreground"}),
    )
    .await;
    eventually("circle deleted", Duration::from_secs(60), || async {
        for name in ["c1", "c2", "c3"] {
            if get(&client, &format!("{CONFIGMAPS}/{name}"))
                .await
                .is_some()
            {
                return None;
            }
        }
        Some(())
    })
    .await;

    drop(cancel);
    server.stop().await;
}
