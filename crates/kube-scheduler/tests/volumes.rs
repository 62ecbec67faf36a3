//! The volume plugins against a real kube-apiserver: a WaitForFirstConsumer claim is
//! bound to the static volume reachable from the chosen node through the API, an
//! unbound immediate claim leaves the pod unschedulable with upstream's message, a
//! bound volume's zone label steers the pod, and a CSINode limit keeps CSI volumes off
//! a full node.

mod common;

use std::time::{Duration, Instant};

use common::{Cluster, cpu_pod};
use serde_json::{Value, json};

async fn create_class(cluster: &Cluster, name: &str, mode: &str) {
    cluster
        .create(
            "/apis/storage.k8s.io/v1/storageclasses",
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": {"name": name}, "provisioner": "kubernetes.io/no-provisioner",
                "volumeBindingMode": mode}),
        )
        .await;
}

/// Creates a volume and sets its phase, as the PV controller would once it saw it.
async fn create_volume(cluster: &Cluster, name: &str, spec: Value, labels: Value, phase: &str) {
    cluster
        .create(
            "/api/v1/persistentvolumes",
            json!({"apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": name, "labels": labels}, "spec": spec}),
        )
        .await;
    cluster
        .patch_status(
            &format!("/api/v1/persistentvolumes/{name}"),
            json!({"phase": phase}),
        )
        .await;
}

async fn create_claim(cluster: &Cluster, name: &str, spec: Value) {
    cluster
        .create(
            "/api/v1/namespaces/default/persistentvolumeclaims",
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": name, "namespace": "default"}, "spec": spec}),
        )
        .await;
}

fn claim_pod(claim: &str) -> Value {
    let mut spec = cpu_pod("100m");
    spec["volumes"] = json!([{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]);
    spec
}

fn local_volume(zone: &str, class: &str) -> Value {
    json!({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
        "storageClassName": class, "persistentVolumeReclaimPolicy": "Retain",
        "local": {"path": "/mnt/disk"},
        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "zone", "operator": "In", "values": [zone]}]}]}}})
}

async fn wait_unschedulable_message(cluster: &Cluster, pod: &str) -> String {
    cluster
        .wait_pod(pod, "PodScheduled=False", |pod| {
            pod["status"]["conditions"]
                .as_array()?
                .iter()
                .find(|condition| {
                    condition["type"] == "PodScheduled" && condition["status"] == "False"
                })
                .and_then(|condition| condition["message"].as_str().map(str::to_string))
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_first_consumer_claim_binds_static_volume() {
    let cluster = Cluster::start().await;
    cluster
        .create_node("n1", "2", json!({"zone": "a"}), json!([]))
        .await;
    cluster
        .create_node("n2", "2", json!({"zone": "b"}), json!([]))
        .await;
    create_class(&cluster, "local", "WaitForFirstConsumer").await;
    create_volume(
        &cluster,
        "pv-b",
        local_volume("b", "local"),
        json!({}),
        "Available",
    )
    .await;
    // Pending volumes are not offered; only pv-b can be chosen.
    create_volume(
        &cluster,
        "pv-a",
        local_volume("a", "local"),
        json!({}),
        "Pending",
    )
    .await;
    create_claim(
        &cluster,
        "data",
        json!({"storageClassName": "local", "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "500Mi"}}}),
    )
    .await;

    cluster.create_pod("consumer", claim_pod("data")).await;
    assert_eq!(
        cluster.wait_bound("consumer").await,
        "n2",
        "the only available volume is reachable from zone b"
    );

    let claim = cluster
        .get("/api/v1/namespaces/default/persistentvolumeclaims/data")
        .await;
    assert_eq!(claim["spec"]["volumeName"], "pv-b");
    let volume = cluster.get("/api/v1/persistentvolumes/pv-b").await;
    assert_eq!(volume["spec"]["claimRef"]["name"], "data");
    assert_eq!(volume["spec"]["claimRef"]["namespace"], "default");
    assert_eq!(volume["spec"]["claimRef"]["uid"], claim["metadata"]["uid"]);
    assert_eq!(
        volume["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"],
        "yes"
    );

    // A second pod of the same claim follows the bound volume to zone b.
    cluster.create_pod("second", claim_pod("data")).await;
    assert_eq!(cluster.wait_bound("second").await, "n2");

    // Another claim finds no available volume left.
    create_claim(
        &cluster,
        "more",
        json!({"storageClassName": "local", "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "500Mi"}}}),
    )
    .await;
    cluster.create_pod("starved", claim_pod("more")).await;
    let message = wait_unschedulable_message(&cluster, "starved").await;
    assert_eq!(
        message,
        "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind."
    );

    // A volume that becomes available unblocks it.
    create_volume(
        &cluster,
        "pv-a2",
        local_volume("a", "local"),
        json!({}),
        "Available",
    )
    .await;
    assert_eq!(cluster.wait_bound("starved").await, "n1");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbound_immediate_claim_keeps_pod_pending() {
    let cluster = Cluster::start().await;
    cluster
        .create_node("n1", "2", json!({"zone": "a"}), json!([]))
        .await;
    cluster
        .create_node("n2", "2", json!({"zone": "b"}), json!([]))
        .await;
    create_class(&cluster, "fast", "Immediate").await;
    create_claim(
        &cluster,
        "immediate",
        json!({"storageClassName": "fast", "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}),
    )
    .await;
    cluster.create_pod("waiting", claim_pod("immediate")).await;
    let message = wait_unschedulable_message(&cluster, "waiting").await;
    assert_eq!(
        message,
        "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims."
    );

    cluster
        .create_pod("orphan", claim_pod("does-not-exist"))
        .await;
    let message = wait_unschedulable_message(&cluster, "orphan").await;
    assert_eq!(
        message,
        "0/2 nodes are available: persistentvolumeclaim \"does-not-exist\" not found."
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zone_labels_and_csi_limits_steer_pods() {
    let cluster = Cluster::start().await;
    cluster
        .create_node(
            "n1",
            "2",
            json!({"topology.kubernetes.io/zone": "z1"}),
            json!([]),
        )
        .await;
    cluster
        .create_node(
            "n2",
            "2",
            json!({"topology.kubernetes.io/zone": "z2"}),
            json!([]),
        )
        .await;

    // A claim bound on both sides to a volume labelled for zone z2.
    let csi = |handle: &str| {
        json!({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
            "csi": {"driver": "csi.example.com", "volumeHandle": handle},
            "claimRef": {"namespace": "default", "name": handle}})
    };
    create_volume(
        &cluster,
        "zoned",
        csi("zoned"),
        json!({"topology.kubernetes.io/zone": "z2"}),
        "Bound",
    )
    .await;
    create_claim(
        &cluster,
        "zoned",
        json!({"volumeName": "zoned", "storageClassName": "", "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}),
    )
    .await;
    cluster.create_pod("zoned-pod", claim_pod("zoned")).await;
    assert_eq!(cluster.wait_bound("zoned-pod").await, "n2");

    // n2 attaches at most one volume of the driver, which zoned-pod uses.
    cluster
        .create(
            "/apis/storage.k8s.io/v1/csinodes",
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSINode",
                "metadata": {"name": "n2"},
                "spec": {"drivers": [{"name": "csi.example.com", "nodeID": "n2",
                    "allocatable": {"count": 1}}]}}),
        )
        .await;
    create_volume(&cluster, "free", csi("free"), json!({}), "Bound").await;
    create_claim(
        &cluster,
        "free",
        json!({"volumeName": "free", "storageClassName": "", "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}),
    )
    .await;
    // Wait until the scheduler's informer has the CSINode, then place a pod that
    // prefers n2 by node affinity.
    let scheduler = &cluster.scheduler.as_ref().expect("scheduler").scheduler;
    let deadline = Instant::now() + Duration::from_secs(30);
    while scheduler.cluster.csi_node("n2").is_none() {
        assert!(
            Instant::now() < deadline,
            "the CSINode never reached the scheduler"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut limited = claim_pod("free");
    limited["affinity"] = json!({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "preference": {"matchExpressions": [
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["z2"]}]}}]}});
    cluster.create_pod("limited", limited).await;
    assert_eq!(
        cluster.wait_bound("limited").await,
        "n1",
        "n2 reached its CSI volume limit"
    );
    cluster.stop().await;
}
