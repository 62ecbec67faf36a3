use std::sync::Arc;

use serde_json::{Value, json};

use super::*;
use crate::plugins::testing::{named_pod, node};

fn cluster_with_service(namespace: &str) -> Arc<ClusterState> {
    let cluster = Arc::new(ClusterState::default());
    let service: k8s_openapi::api::core::v1::Service = serde_json::from_value(json!({
        "metadata": {"name": "svc", "namespace": namespace},
        "spec": {"selector": {"foo": "bar"}}
    }))
    .expect("service");
    cluster
        .services
        .write()
        .expect("lock")
        .insert(format!("{namespace}/svc"), Arc::new(service));
    cluster
}

fn nodes() -> Vec<Arc<k8s_openapi::api::core::v1::Node>> {
    [
        ("machine1", "r1", "z11"),
        ("machine2", "r1", "z12"),
        ("machine3", "r2", "z21"),
        ("machine4", "r2", "z22"),
        ("machine5", "r1", "z11"),
    ]
    .iter()
    .map(|(name, region, zone)| {
        Arc::new(node(json!({"metadata": {"name": name,
            "labels": {"region": region, "zone": zone}}})))
    })
    .collect()
}

fn service_pod(name: &str, namespace: &str, node_name: &str) -> Arc<Pod> {
    let mut pod = named_pod(
        name,
        json!({"labels": {"foo": "bar"}}),
        json!({"nodeName": node_name}),
    );
    pod.metadata.namespace = Some(namespace.to_string());
    Arc::new(pod)
}

fn incoming(namespace: &str, labels: Value, node_selector: Value) -> Pod {
    let mut pod = named_pod(
        "p",
        json!({"labels": labels}),
        json!({"nodeSelector": node_selector}),
    );
    pod.metadata.namespace = Some(namespace.to_string());
    pod
}

/// Upstream's filter cases: the node selector fixes some labels, and the node of the
/// first pod with the pod's labels fixes the rest when a Service selects the pod.
#[test]
fn filter_table() {
    let region = vec!["region".to_string()];
    let region_zone = vec!["region".to_string(), "zone".to_string()];
    // (name, incoming pod, existing pods, Service namespace, node, labels, fits)
    type Case<'a> = (
        &'a str,
        Pod,
        Vec<Arc<Pod>>,
        &'a str,
        &'a str,
        Vec<String>,
        bool,
    );
    let cases: Vec<Case> = vec![
        (
            "nothing scheduled",
            incoming("default", json!({}), json!({})),
            vec![],
            "default",
            "machine1",
            region.clone(),
            true,
        ),
        (
            "node selector region matches",
            incoming("default", json!({}), json!({"region": "r1"})),
            vec![],
            "default",
            "machine1",
            region.clone(),
            true,
        ),
        (
            "node selector region differs",
            incoming("default", json!({}), json!({"region": "r2"})),
            vec![],
            "default",
            "machine1",
            region.clone(),
            false,
        ),
        (
            "service pod on the same node",
            incoming("default", json!({"foo": "bar"}), json!({})),
            vec![service_pod("s", "default", "machine1")],
            "default",
            "machine1",
            region.clone(),
            true,
        ),
        (
            "service pod elsewhere in the region",
            incoming("default", json!({"foo": "bar"}), json!({})),
            vec![service_pod("s", "default", "machine2")],
            "default",
            "machine1",
            region.clone(),
            true,
        ),
        (
            "service pod in another region",
            incoming("default", json!({"foo": "bar"}), json!({})),
            vec![service_pod("s", "default", "machine3")],
            "default",
            "machine1",
            region.clone(),
            false,
        ),
        (
            "service in another namespace",
            incoming("ns2", json!({"foo": "bar"}), json!({})),
            vec![service_pod("s", "ns1", "machine3")],
            "ns1",
            "machine1",
            region.clone(),
            true,
        ),
        (
            "pod in another namespace",
            incoming("ns1", json!({"foo": "bar"}), json!({})),
            vec![service_pod("s", "ns2", "machine3")],
            "ns1",
            "machine1",
            region.clone(),
            true,
        ),
        (
            "service and pod share the namespace",
            incoming("ns1", json!({"foo": "bar"}), json!({})),
            vec![service_pod("s", "ns1", "machine3")],
            "ns1",
            "machine1",
            region.clone(),
            false,
        ),
        (
            "several labels, not all match",
            incoming("default", json!({"foo": "bar"}), json!({})),
            vec![service_pod("s", "default", "machine2")],
            "default",
            "machine1",
            region_zone.clone(),
            false,
        ),
        (
            "several labels, all match",
            incoming("default", json!({"foo": "bar"}), json!({})),
            vec![service_pod("s", "default", "machine5")],
            "default",
            "machine1",
            region_zone.clone(),
            true,
        ),
    ];
    for (name, pod, pods, service_namespace, node_name, labels, fits) in cases {
        let snapshot = Snapshot::new(&pods, &nodes());
        let plugin = ServiceAffinity::new(
            Args {
                affinity_labels: labels,
                ..Args::default()
            },
            cluster_with_service(service_namespace),
        );
        let mut state = CycleState::new();
        assert!(
            plugin.pre_filter(&mut state, &pod, &snapshot).is_success(),
            "{name}"
        );
        let info = snapshot.get(node_name).expect("node");
        let status = plugin.filter(&state, &pod, info);
        assert_eq!(status.is_success(), fits, "{name}: {status}");
        if !fits {
            assert_eq!(status, Status::unschedulable(ERR_REASON), "{name}");
        }
    }
}

#[test]
fn removing_the_followed_pod_frees_the_node() {
    let pods = vec![service_pod("s", "default", "machine3")];
    let snapshot = Snapshot::new(&pods, &nodes());
    let plugin = ServiceAffinity::new(
        Args {
            affinity_labels: vec!["region".into()],
            ..Args::default()
        },
        cluster_with_service("default"),
    );
    let pod = incoming("default", json!({"foo": "bar"}), json!({}));
    let mut state = CycleState::new();
    plugin.pre_filter(&mut state, &pod, &snapshot);
    let machine1 = snapshot.get("machine1").expect("node");
    assert!(!plugin.filter(&state, &pod, machine1).is_success());
    let removed = PodInfo::new(pods[0].clone());
    plugin.remove_pod(
        &mut state,
        &pod,
        &removed,
        snapshot.get("machine3").expect("node"),
    );
    assert!(plugin.filter(&state, &pod, machine1).is_success());
}

/// Service pods per zone: zone1 has 3 of 4, zone2 1 of 4 and zone3 none. An
/// unlabelled node scores 0.
#[test]
fn score_spreads_over_zones() {
    let zone_nodes: Vec<Arc<k8s_openapi::api::core::v1::Node>> = [
        ("z1-a", Some("zone1")),
        ("z1-b", Some("zone1")),
        ("z2-a", Some("zone2")),
        ("z3-a", Some("zone3")),
        ("plain", None),
    ]
    .iter()
    .map(|(name, zone)| {
        let labels = match zone {
            Some(zone) => json!({"zone": zone}),
            None => json!({}),
        };
        Arc::new(node(json!({"metadata": {"name": name, "labels": labels}})))
    })
    .collect();
    let pods = vec![
        service_pod("a1", "default", "z1-a"),
        service_pod("a2", "default", "z1-a"),
        service_pod("b1", "default", "z1-b"),
        service_pod("c1", "default", "z2-a"),
    ];
    let snapshot = Snapshot::new(&pods, &zone_nodes);
    let plugin = ServiceAffinity::new(
        Args {
            anti_affinity_labels_preference: vec!["zone".into()],
            ..Args::default()
        },
        cluster_with_service("default"),
    );
    let pod = incoming("default", json!({"foo": "bar"}), json!({}));
    let mut state = CycleState::new();
    assert!(
        plugin
            .pre_score(&mut state, &pod, snapshot.list(), &snapshot)
            .is_success()
    );
    let mut scores: Vec<NodeScore> = snapshot
        .list()
        .iter()
        .map(|info| NodeScore {
            name: info.node_name().to_string(),
            score: plugin.score(&state, &pod, info).expect("score"),
        })
        .collect();
    assert!(
        plugin
            .normalize_score(&state, &pod, &mut scores)
            .is_success()
    );
    let by_name: HashMap<String, i64> = scores.into_iter().map(|s| (s.name, s.score)).collect();
    assert_eq!(by_name["z1-a"], 25);
    assert_eq!(by_name["z1-b"], 25);
    assert_eq!(by_name["z2-a"], 75);
    assert_eq!(by_name["z3-a"], 100);
    assert_eq!(by_name["plain"], 0);
}
