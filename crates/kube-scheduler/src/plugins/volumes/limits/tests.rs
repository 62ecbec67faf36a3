use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};

use super::*;
use crate::plugins::testing::node_info;
use crate::plugins::volumes::testing::{
    add_claim, add_class, add_csi_node, add_volume, claims_pod, volumes_pod,
};

fn ebs(id: &str) -> Value {
    json!({"name": format!("ebs-{id}"), "awsElasticBlockStore": {"volumeID": id}})
}

fn gce(id: &str) -> Value {
    json!({"name": format!("gce-{id}"), "gcePersistentDisk": {"pdName": id}})
}

/// A cluster with EBS-backed, CSI-backed and host-path claims, as upstream's tests
/// build them.
fn cluster() -> Arc<ClusterState> {
    let cluster = Arc::new(ClusterState::default());
    add_class(
        &cluster,
        "ebs-class",
        json!({"provisioner": "kubernetes.io/aws-ebs"}),
    );
    add_class(
        &cluster,
        "csi-class",
        json!({"provisioner": "ebs.csi.aws.com"}),
    );
    add_volume(
        &cluster,
        "ebs-pv",
        json!({}),
        json!({"awsElasticBlockStore": {"volumeID": "ebsVol"}}),
        "Bound",
    );
    add_volume(
        &cluster,
        "host-pv",
        json!({}),
        json!({"hostPath": {"path": "/tmp"}}),
        "Bound",
    );
    for i in 0..4 {
        add_volume(
            &cluster,
            &format!("csi-pv-{i}"),
            json!({}),
            json!({"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": format!("handle-{i}")}}),
            "Bound",
        );
        add_claim(
            &cluster,
            &format!("csi-{i}"),
            json!({}),
            json!({"volumeName": format!("csi-pv-{i}")}),
        );
    }
    add_claim(
        &cluster,
        "ebs-claim",
        json!({}),
        json!({"volumeName": "ebs-pv"}),
    );
    add_claim(
        &cluster,
        "host-claim",
        json!({}),
        json!({"volumeName": "host-pv"}),
    );
    add_claim(
        &cluster,
        "unbound-ebs",
        json!({}),
        json!({"storageClassName": "ebs-class"}),
    );
    add_claim(
        &cluster,
        "unbound-csi",
        json!({}),
        json!({"storageClassName": "csi-class"}),
    );
    add_claim(
        &cluster,
        "missing-pv",
        json!({}),
        json!({"volumeName": "gone", "storageClassName": "ebs-class"}),
    );
    cluster
}

fn node_with(pods: &[Pod], allocatable: Value, labels: Value) -> NodeInfo {
    node_info(
        json!({"metadata": {"name": "node-1", "labels": labels}, "status": {"allocatable": allocatable}}),
        pods,
    )
}

fn ebs_plugin(cluster: &Arc<ClusterState>) -> InTreeLimits {
    InTreeLimits::new(InTreeVolume::AwsEbs, cluster.clone())
}

/// Upstream's non-CSI cases with an EBS limit of 4 (or 2) set through the node's
/// allocatable `attachable-volumes-aws-ebs`.
#[test]
fn ebs_limits_table() {
    let cluster = cluster();
    let one_new = volumes_pod("new", "", json!([ebs("ovl1")]));
    let two_new = volumes_pod("new", "", json!([ebs("ovl1"), ebs("ovl2")]));
    let existing_two = volumes_pod("e", "node-1", json!([ebs("tvol1"), ebs("tvol2")]));
    let existing_three = volumes_pod(
        "e",
        "node-1",
        json!([ebs("tvol1"), ebs("tvol2"), ebs("tvol3")]),
    );
    let cases: Vec<(&str, Pod, Vec<Pod>, i64, bool)> = vec![
        (
            "fits when the node has room",
            one_new.clone(),
            vec![existing_two.clone()],
            4,
            true,
        ),
        (
            "doesn't fit past the limit",
            two_new.clone(),
            vec![existing_three.clone()],
            4,
            false,
        ),
        (
            "ignores other volume types in the new pod",
            volumes_pod("new", "", json!([gce("g1"), gce("g2"), ebs("ovl1")])),
            vec![existing_three.clone()],
            4,
            true,
        ),
        (
            "ignores other volume types on the node",
            one_new.clone(),
            vec![volumes_pod(
                "e",
                "node-1",
                json!([gce("g1"), gce("g2"), gce("g3"), gce("g4")]),
            )],
            1,
            true,
        ),
        (
            "counts claims bound to EBS volumes",
            claims_pod("new", "", &["ebs-claim"]),
            vec![existing_three.clone()],
            3,
            false,
        ),
        (
            "ignores claims bound to other volumes",
            claims_pod("new", "", &["host-claim"]),
            vec![existing_three.clone()],
            3,
            true,
        ),
        (
            "counts existing claims bound to EBS volumes",
            one_new.clone(),
            vec![
                claims_pod("e", "node-1", &["ebs-claim"]),
                existing_two.clone(),
            ],
            3,
            false,
        ),
        (
            "counts the same volume once",
            volumes_pod("new", "", json!([ebs("tvol1")])),
            vec![existing_three.clone()],
            3,
            true,
        ),
        (
            "counts an unbound claim of the EBS class",
            claims_pod("new", "", &["unbound-ebs"]),
            vec![existing_three.clone()],
            3,
            false,
        ),
        (
            "counts a claim whose volume is missing",
            claims_pod("new", "", &["missing-pv"]),
            vec![existing_three.clone()],
            3,
            false,
        ),
        (
            "counts two pods missing the same volume once",
            claims_pod("new", "", &["missing-pv"]),
            vec![
                claims_pod("e", "node-1", &["missing-pv"]),
                existing_two.clone(),
            ],
            3,
            true,
        ),
        (
            "ignores an unbound claim of another class",
            claims_pod("new", "", &["unbound-csi"]),
            vec![existing_three.clone()],
            3,
            true,
        ),
    ];
    let plugin = ebs_plugin(&cluster);
    for (name, pod, existing, limit, fits) in cases {
        let info = node_with(
            &existing,
            json!({"attachable-volumes-aws-ebs": limit.to_string()}),
            json!({}),
        );
        let status = plugin.filter(&CycleState::new(), &pod, &info);
        assert_eq!(status.is_success(), fits, "{name}: {status}");
        if !fits {
            assert_eq!(
                status,
                Status::unschedulable(ERR_REASON_MAX_VOLUME_COUNT),
                "{name}"
            );
        }
    }
}

#[test]
fn in_tree_default_limits() {
    let cluster = cluster();
    let node = |labels: Value| {
        let ids: Vec<Value> = (0..25).map(|i| ebs(&format!("v{i}"))).collect();
        node_with(
            &[volumes_pod("e", "node-1", Value::Array(ids))],
            json!({}),
            labels,
        )
    };
    let plugin = ebs_plugin(&cluster);
    let new = volumes_pod("new", "", json!([ebs("extra")]));
    assert!(
        plugin
            .filter(&CycleState::new(), &new, &node(json!({})))
            .is_success(),
        "39 EBS volumes by default"
    );
    for instance in ["m5.large", "c5.xlarge", "t3.micro", "z1d.large"] {
        let info = node(json!({"node.kubernetes.io/instance-type": instance}));
        assert!(
            !plugin.filter(&CycleState::new(), &new, &info).is_success(),
            "{instance} allows 25"
        );
    }

    let gce_plugin = InTreeLimits::new(InTreeVolume::GcePd, cluster.clone());
    let sixteen: Vec<Value> = (0..16).map(|i| gce(&format!("g{i}"))).collect();
    let info = node_with(
        &[volumes_pod("e", "node-1", Value::Array(sixteen))],
        json!({}),
        json!({}),
    );
    assert!(
        !gce_plugin
            .filter(
                &CycleState::new(),
                &volumes_pod("new", "", json!([gce("x")])),
                &info
            )
            .is_success()
    );
}

#[test]
fn migrated_plugins_count_under_their_csi_driver() {
    let cluster = cluster();
    add_csi_node(
        &cluster,
        "node-1",
        json!({ANN_MIGRATED_PLUGINS: "kubernetes.io/aws-ebs"}),
        json!([{"name": "ebs.csi.aws.com", "nodeID": "n1", "allocatable": {"count": 2}}]),
    );
    let existing = volumes_pod("e", "node-1", json!([ebs("a"), ebs("b")]));
    let info = node_with(
        &[existing],
        json!({"attachable-volumes-aws-ebs": "10"}),
        json!({}),
    );
    let new = volumes_pod("new", "", json!([ebs("c")]));
    // The in-tree plugin defers to the CSI count, which allows only two.
    assert!(
        ebs_plugin(&cluster)
            .filter(&CycleState::new(), &new, &info)
            .is_success()
    );
    let limits = NodeVolumeLimits::new(cluster.clone());
    assert_eq!(
        limits.filter(&CycleState::new(), &new, &info),
        Status::unschedulable(ERR_REASON_MAX_VOLUME_COUNT)
    );
}

/// Upstream's CSI cases with a CSINode limit for `ebs.csi.aws.com`.
#[test]
fn csi_limits_table() {
    let cluster = cluster();
    let limits = NodeVolumeLimits::new(cluster.clone());
    // (name, incoming pod, existing pods, CSINode limit, fits)
    type Case<'a> = (&'a str, Pod, Vec<Pod>, Option<i32>, bool);
    let cases: Vec<Case> = vec![
        (
            "fits under the limit",
            claims_pod("new", "", &["csi-2", "csi-3"]),
            vec![claims_pod("e", "node-1", &["csi-0", "csi-1"])],
            Some(4),
            true,
        ),
        (
            "doesn't fit past the limit",
            claims_pod("new", "", &["csi-2", "csi-3"]),
            vec![claims_pod("e", "node-1", &["csi-0", "csi-1"])],
            Some(2),
            false,
        ),
        (
            "counts volumes already attached once",
            claims_pod("new", "", &["csi-0", "csi-1"]),
            vec![claims_pod("e", "node-1", &["csi-0", "csi-1"])],
            Some(2),
            true,
        ),
        (
            "counts an unbound claim of a CSI class",
            claims_pod("new", "", &["unbound-csi"]),
            vec![claims_pod("e", "node-1", &["csi-0", "csi-1"])],
            Some(2),
            false,
        ),
        (
            "has no limit without a CSINode entry",
            claims_pod("new", "", &["csi-2", "csi-3"]),
            vec![claims_pod("e", "node-1", &["csi-0", "csi-1"])],
            None,
            true,
        ),
        (
            "ignores non-CSI volumes",
            claims_pod("new", "", &["host-claim"]),
            vec![claims_pod("e", "node-1", &["csi-0", "csi-1"])],
            Some(2),
            true,
        ),
    ];
    for (name, pod, existing, limit, fits) in cases {
        let drivers = match limit {
            Some(count) => {
                json!([{"name": "ebs.csi.aws.com", "nodeID": "n1", "allocatable": {"count": count}}])
            }
            None => json!([]),
        };
        add_csi_node(&cluster, "node-1", json!({}), drivers);
        let info = node_with(&existing, json!({}), json!({}));
        let status = limits.filter(&CycleState::new(), &pod, &info);
        assert_eq!(status.is_success(), fits, "{name}: {status}");
    }
}

#[test]
fn csi_limit_from_node_allocatable() {
    let cluster = cluster();
    let limits = NodeVolumeLimits::new(cluster.clone());
    let existing = claims_pod("e", "node-1", &["csi-0"]);
    let info = node_with(
        &[existing],
        json!({"attachable-volumes-csi-ebs.csi.aws.com": "1"}),
        json!({}),
    );
    assert!(
        !limits
            .filter(
                &CycleState::new(),
                &claims_pod("new", "", &["csi-1"]),
                &info
            )
            .is_success()
    );
}

#[test]
fn long_driver_names_are_hashed() {
    assert_eq!(
        csi_attach_limit_key("ebs.csi.aws.com"),
        "attachable-volumes-csi-ebs.csi.aws.com"
    );
    let long = "a-very-long-csi-driver-name.storage.example.com";
    let key = csi_attach_limit_key(long);
    assert!(
        key.starts_with("attachable-volumes-csi-a-very-long-csi-driver"),
        "{key}"
    );
    assert_eq!(key.len(), CSI_ATTACH_LIMIT_PREFIX.len() + 23 + 16);
}

#[test]
fn missing_claim_rejects_the_new_pod() {
    let cluster = cluster();
    let limits = NodeVolumeLimits::new(cluster.clone());
    let info = node_with(&[], json!({}), json!({}));
    assert_eq!(
        limits.filter(&CycleState::new(), &claims_pod("new", "", &["nope"]), &info),
        Status::unresolvable("persistentvolumeclaim \"nope\" not found")
    );
}
