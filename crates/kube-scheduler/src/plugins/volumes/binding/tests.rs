use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::framework::interface::Code;
use crate::plugins::testing::{RecordingClient, handle_with, node_info};
use crate::plugins::volumes::ANN_BIND_COMPLETED;
use crate::plugins::volumes::testing::{add_claim, add_class, add_volume, claims_pod};

struct Fixture {
    cluster: Arc<ClusterState>,
    client: Arc<RecordingClient>,
    plugin: VolumeBinding,
}

fn fixture(args: BindingArgs) -> Fixture {
    let cluster = Arc::new(ClusterState::default());
    let client = Arc::new(RecordingClient::default());
    add_class(
        &cluster,
        "wait",
        json!({"provisioner": NO_PROVISIONER, "volumeBindingMode": "WaitForFirstConsumer"}),
    );
    add_class(
        &cluster,
        "immediate",
        json!({"provisioner": NO_PROVISIONER, "volumeBindingMode": "Immediate"}),
    );
    add_class(
        &cluster,
        "provisioned",
        json!({"provisioner": "example.com/disk", "volumeBindingMode": "WaitForFirstConsumer",
            "allowedTopologies": [{"matchLabelExpressions": [{"key": "zone", "values": ["a"]}]}]}),
    );
    let handle = handle_with(cluster.clone(), client.clone());
    let plugin = VolumeBinding::new(args, &handle);
    Fixture {
        cluster,
        client,
        plugin,
    }
}

fn zone_node(name: &str, zone: &str) -> NodeInfo {
    node_info(
        json!({"metadata": {"name": name, "labels": {"zone": zone}}}),
        &[],
    )
}

fn zone_affinity(zone: &str) -> Value {
    json!({"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "zone", "operator": "In", "values": [zone]}]}]}})
}

fn storage_claim(
    fixture: &Fixture,
    name: &str,
    class: &str,
    size: &str,
    extra: Value,
) -> Arc<PersistentVolumeClaim> {
    let mut spec = json!({"storageClassName": class, "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": size}}});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            spec.insert(key.clone(), value.clone());
        }
    }
    add_claim(&fixture.cluster, name, json!({}), spec)
}

fn available_volume(
    fixture: &Fixture,
    name: &str,
    size: &str,
    affinity: Option<Value>,
    extra: Value,
) {
    let mut spec = json!({"storageClassName": "wait", "accessModes": ["ReadWriteOnce"],
        "capacity": {"storage": size}, "hostPath": {"path": "/tmp"}});
    if let Some(affinity) = affinity {
        spec["nodeAffinity"] = affinity;
    }
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            spec.insert(key.clone(), value.clone());
        }
    }
    add_volume(&fixture.cluster, name, json!({}), spec, "Available");
}

fn pre_filter(fixture: &Fixture, pod: &Pod) -> (CycleState, Status) {
    let mut state = CycleState::new();
    let status = fixture
        .plugin
        .pre_filter(&mut state, pod, &Snapshot::default());
    (state, status)
}

/// Returns the volume Filter chose for `claim` on the node.
fn chosen_volume(state: &CycleState, node: &str, claim: &str) -> Option<String> {
    let pre = state.read::<PreFilterState>(PRE_FILTER_KEY)?;
    let by_node = pre.by_node.lock().expect("lock");
    by_node
        .get(node)?
        .static_bindings
        .iter()
        .find_map(|(volume, bound_claim)| {
            (bound_claim.metadata.name.as_deref() == Some(claim))
                .then(|| volume.metadata.name.clone().unwrap_or_default())
        })
}

#[test]
fn pod_without_claims_passes() {
    let fixture = fixture(BindingArgs::default());
    let pod = claims_pod("p", "", &[]);
    let (state, status) = pre_filter(&fixture, &pod);
    assert!(status.is_success());
    assert!(
        fixture
            .plugin
            .filter(&state, &pod, &zone_node("a", "a"))
            .is_success()
    );
}

#[test]
fn pre_filter_rejects_missing_lost_deleting_and_immediate_claims() {
    let fixture = fixture(BindingArgs::default());
    storage_claim(&fixture, "immediate", "immediate", "1Gi", json!({}));
    add_claim(
        &fixture.cluster,
        "no-class",
        json!({}),
        json!({"resources": {"requests": {"storage": "1Gi"}}}),
    );
    add_claim(
        &fixture.cluster,
        "lost",
        json!({}),
        json!({"volumeName": "gone"}),
    );
    {
        let mut claims = fixture.cluster.pvcs.write().expect("lock");
        let lost = claims.get_mut("default/lost").expect("lost");
        Arc::make_mut(lost).status =
            Some(serde_json::from_value(json!({"phase": "Lost"})).expect("status"));
    }
    add_claim(
        &fixture.cluster,
        "deleting",
        json!({"deletionTimestamp": "2024-01-01T00:00:00Z"}),
        json!({}),
    );
    // A claim naming a volume whose claimRef does not point back is pre-bound and
    // waits for the PV controller, like an immediate claim.
    add_claim(
        &fixture.cluster,
        "pre-bound",
        json!({}),
        json!({"volumeName": "pv-free", "storageClassName": "wait"}),
    );
    available_volume(&fixture, "pv-free", "1Gi", None, json!({}));

    let cases = [
        (
            "missing",
            Status::unresolvable("persistentvolumeclaim \"missing\" not found"),
        ),
        (
            "immediate",
            Status::unresolvable(ERR_REASON_UNBOUND_IMMEDIATE),
        ),
        (
            "no-class",
            Status::unresolvable(ERR_REASON_UNBOUND_IMMEDIATE),
        ),
        (
            "lost",
            Status::unresolvable(
                "persistentvolumeclaim \"lost\" bound to non-existent persistentvolume \"gone\"",
            ),
        ),
        (
            "deleting",
            Status::unresolvable("persistentvolumeclaim \"deleting\" is being deleted"),
        ),
        (
            "pre-bound",
            Status::unresolvable(ERR_REASON_UNBOUND_IMMEDIATE),
        ),
    ];
    for (claim, expected) in cases {
        let (_, status) = pre_filter(&fixture, &claims_pod("p", "", &[claim]));
        assert_eq!(status, expected, "{claim}");
    }
}

#[test]
fn bound_claims_check_volume_node_affinity() {
    let fixture = fixture(BindingArgs::default());
    add_volume(
        &fixture.cluster,
        "pv-a",
        json!({}),
        json!({"capacity": {"storage": "1Gi"}, "nodeAffinity": zone_affinity("a"),
            "claimRef": {"namespace": "default", "name": "bound", "uid": "uid-bound"}}),
        "Bound",
    );
    add_claim(
        &fixture.cluster,
        "bound",
        json!({}),
        json!({"volumeName": "pv-a"}),
    );
    add_claim(
        &fixture.cluster,
        "dangling",
        json!({"annotations": {ANN_BIND_COMPLETED: "yes"}}),
        json!({"volumeName": "pv-missing"}),
    );

    let pod = claims_pod("p", "", &["bound"]);
    let (state, status) = pre_filter(&fixture, &pod);
    assert!(status.is_success(), "{status}");
    assert!(
        fixture
            .plugin
            .filter(&state, &pod, &zone_node("a", "a"))
            .is_success()
    );
    assert_eq!(
        fixture.plugin.filter(&state, &pod, &zone_node("b", "b")),
        Status::unresolvable(ERR_REASON_NODE_CONFLICT)
    );

    let pod = claims_pod("p", "", &["dangling"]);
    let (state, status) = pre_filter(&fixture, &pod);
    assert!(status.is_success(), "{status}");
    assert_eq!(
        fixture.plugin.filter(&state, &pod, &zone_node("a", "a")),
        Status::unresolvable(ERR_REASON_PV_NOT_EXIST)
    );
}

#[test]
fn unbound_claim_takes_smallest_fitting_volume_per_node() {
    let fixture = fixture(BindingArgs::default());
    storage_claim(&fixture, "data", "wait", "3Gi", json!({}));
    available_volume(
        &fixture,
        "pv-a-5g",
        "5Gi",
        Some(zone_affinity("a")),
        json!({}),
    );
    available_volume(
        &fixture,
        "pv-a-4g",
        "4Gi",
        Some(zone_affinity("a")),
        json!({}),
    );
    available_volume(&fixture, "pv-any-10g", "10Gi", None, json!({}));
    // None of these may be chosen.
    available_volume(&fixture, "pv-small", "1Gi", None, json!({}));
    available_volume(
        &fixture,
        "pv-other-class",
        "3Gi",
        None,
        json!({"storageClassName": "other"}),
    );
    available_volume(
        &fixture,
        "pv-rwx-only",
        "3Gi",
        None,
        json!({"accessModes": ["ReadWriteMany"]}),
    );
    available_volume(
        &fixture,
        "pv-block",
        "3Gi",
        None,
        json!({"volumeMode": "Block"}),
    );
    available_volume(
        &fixture,
        "pv-claimed",
        "3Gi",
        None,
        json!({"claimRef": {"namespace": "default", "name": "someone-else"}}),
    );
    add_volume(
        &fixture.cluster,
        "pv-pending",
        json!({}),
        json!({"storageClassName": "wait", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "3Gi"}}),
        "Pending",
    );

    let pod = claims_pod("p", "", &["data"]);
    let (state, status) = pre_filter(&fixture, &pod);
    assert!(status.is_success(), "{status}");
    for (node, zone, expected) in [("node-a", "a", "pv-a-4g"), ("node-b", "b", "pv-any-10g")] {
        let status = fixture.plugin.filter(&state, &pod, &zone_node(node, zone));
        assert!(status.is_success(), "{node}: {status}");
        assert_eq!(
            chosen_volume(&state, node, "data").as_deref(),
            Some(expected),
            "{node}"
        );
    }
}

#[test]
fn claim_without_matching_volume_or_provisioner_is_a_bind_conflict() {
    let fixture = fixture(BindingArgs::default());
    storage_claim(
        &fixture,
        "data",
        "wait",
        "3Gi",
        json!({"selector": {"matchLabels": {"tier": "gold"}}}),
    );
    available_volume(&fixture, "pv-silver", "5Gi", None, json!({}));
    let pod = claims_pod("p", "", &["data"]);
    let (state, status) = pre_filter(&fixture, &pod);
    assert!(status.is_success(), "{status}");
    let status = fixture.plugin.filter(&state, &pod, &zone_node("a", "a"));
    assert_eq!(status, Status::unresolvable(ERR_REASON_BIND_CONFLICT));
    assert_eq!(status.code, Code::UnschedulableAndUnresolvable);
}

#[test]
fn two_claims_get_distinct_volumes() {
    let fixture = fixture(BindingArgs::default());
    storage_claim(&fixture, "big", "wait", "8Gi", json!({}));
    storage_claim(&fixture, "small", "wait", "1Gi", json!({}));
    available_volume(&fixture, "pv-2g", "2Gi", None, json!({}));
    available_volume(&fixture, "pv-9g", "9Gi", None, json!({}));
    let pod = claims_pod("p", "", &["big", "small"]);
    let (state, status) = pre_filter(&fixture, &pod);
    assert!(status.is_success(), "{status}");
    assert!(
        fixture
            .plugin
            .filter(&state, &pod, &zone_node("n", "a"))
            .is_success()
    );
    assert_eq!(
        chosen_volume(&state, "n", "small").as_deref(),
        Some("pv-2g")
    );
    assert_eq!(chosen_volume(&state, "n", "big").as_deref(), Some("pv-9g"));

    // With only one volume large enough for both, the pod does not fit.
    fixture.cluster.pvs.write().expect("lock").remove("pv-2g");
    let (state, _) = pre_filter(&fixture, &pod);
    assert_eq!(
        fixture.plugin.filter(&state, &pod, &zone_node("n", "a")),
        Status::unresolvable(ERR_REASON_BIND_CONFLICT)
    );
}

#[tokio::test]
async fn reserve_assumes_and_pre_bind_writes_both_sides() {
    let fixture = fixture(BindingArgs::default());
    storage_claim(&fixture, "first", "wait", "1Gi", json!({}));
    storage_claim(&fixture, "second", "wait", "1Gi", json!({}));
    available_volume(&fixture, "pv-1", "1Gi", None, json!({}));
    available_volume(&fixture, "pv-2", "2Gi", None, json!({}));
    let node = zone_node("n", "a");

    let first = claims_pod("first-pod", "", &["first"]);
    let (mut state, _) = pre_filter(&fixture, &first);
    assert!(fixture.plugin.filter(&state, &first, &node).is_success());
    assert!(fixture.plugin.reserve(&mut state, &first, "n").is_success());

    // The next cycle sees pv-1 taken and the first claim bound, before any API write.
    let second = claims_pod("second-pod", "", &["second"]);
    let (second_state, _) = pre_filter(&fixture, &second);
    assert!(
        fixture
            .plugin
            .filter(&second_state, &second, &node)
            .is_success()
    );
    assert_eq!(
        chosen_volume(&second_state, "n", "second").as_deref(),
        Some("pv-2")
    );
    let sharer = claims_pod("sharer", "", &["first"]);
    let (sharer_state, status) = pre_filter(&fixture, &sharer);
    assert!(status.is_success(), "{status}");
    let pre = sharer_state
        .read::<PreFilterState>(PRE_FILTER_KEY)
        .expect("state");
    assert_eq!(pre.bound.len(), 1, "the assumed binding counts as bound");

    let status = fixture.plugin.pre_bind(&state, &first, "n").await;
    assert!(status.is_success(), "{status}");
    assert_eq!(
        fixture.client.calls(),
        [
            "update persistentvolume pv-1",
            "update persistentvolumeclaim default/first"
        ]
    );
    let volume = fixture.client.volumes.lock().expect("lock")["pv-1"].clone();
    let reference = volume
        .spec
        .as_ref()
        .and_then(|spec| spec.claim_ref.clone())
        .expect("claimRef");
    assert_eq!(reference.name.as_deref(), Some("first"));
    assert_eq!(reference.namespace.as_deref(), Some("default"));
    assert_eq!(reference.uid.as_deref(), Some("uid-first"));
    assert_eq!(reference.kind.as_deref(), Some("PersistentVolumeClaim"));
    assert_eq!(
        volume
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANN_BOUND_BY_CONTROLLER))
            .map(String::as_str),
        Some("yes")
    );
    assert_eq!(
        volume.metadata.resource_version.as_deref(),
        Some("2"),
        "the update carried version 1"
    );
    let claim = fixture.client.claims.lock().expect("lock")["default/first"].clone();
    assert_eq!(claim_volume_name(&claim), "pv-1");
}

#[test]
fn unreserve_drops_the_assumptions() {
    let fixture = fixture(BindingArgs::default());
    storage_claim(&fixture, "data", "wait", "1Gi", json!({}));
    available_volume(&fixture, "pv-1", "1Gi", None, json!({}));
    let node = zone_node("n", "a");
    let pod = claims_pod("p", "", &["data"]);
    let (mut state, _) = pre_filter(&fixture, &pod);
    assert!(fixture.plugin.filter(&state, &pod, &node).is_success());
    assert!(fixture.plugin.reserve(&mut state, &pod, "n").is_success());
    let other = claims_pod("other", "", &["data"]);
    let (other_state, _) = pre_filter(&fixture, &other);
    assert_eq!(
        other_state
            .read::<PreFilterState>(PRE_FILTER_KEY)
            .expect("state")
            .bound
            .len(),
        1
    );

    fixture.plugin.unreserve(&mut state, &pod, "n");
    let (other_state, _) = pre_filter(&fixture, &other);
    let pre = other_state
        .read::<PreFilterState>(PRE_FILTER_KEY)
        .expect("state");
    assert!(pre.bound.is_empty());
    assert_eq!(pre.to_bind.len(), 1);
}

#[test]
fn informer_update_replaces_an_assumed_volume() {
    let fixture = fixture(BindingArgs::default());
    storage_claim(&fixture, "data", "wait", "1Gi", json!({}));
    available_volume(&fixture, "pv-1", "1Gi", None, json!({}));
    let pod = claims_pod("p", "", &["data"]);
    let (mut state, _) = pre_filter(&fixture, &pod);
    assert!(
        fixture
            .plugin
            .filter(&state, &pod, &zone_node("n", "a"))
            .is_success()
    );
    assert!(fixture.plugin.reserve(&mut state, &pod, "n").is_success());

    // The API server stored a different change (version 2): the informer's copy wins.
    add_volume(
        &fixture.cluster,
        "pv-1",
        json!({"resourceVersion": "2"}),
        json!({"storageClassName": "wait", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}),
        "Available",
    );
    let volume = fixture
        .plugin
        .view
        .volume(&fixture.cluster, "pv-1")
        .expect("volume");
    assert!(
        volume
            .spec
            .as_ref()
            .and_then(|spec| spec.claim_ref.as_ref())
            .is_none()
    );
}

#[tokio::test]
async fn failed_volume_write_fails_pre_bind() {
    let fixture = fixture(BindingArgs::default());
    storage_claim(&fixture, "data", "wait", "1Gi", json!({}));
    available_volume(&fixture, "pv-1", "1Gi", None, json!({}));
    *fixture.client.fail_volume_writes.lock().expect("lock") = Some("conflict".to_string());
    let pod = claims_pod("p", "", &["data"]);
    let (mut state, _) = pre_filter(&fixture, &pod);
    assert!(
        fixture
            .plugin
            .filter(&state, &pod, &zone_node("n", "a"))
            .is_success()
    );
    assert!(fixture.plugin.reserve(&mut state, &pod, "n").is_success());
    let status = fixture.plugin.pre_bind(&state, &pod, "n").await;
    assert_eq!(status.code, Code::Error);
    assert!(status.message().contains("conflict"), "{status}");
    assert_eq!(fixture.client.calls(), ["update persistentvolume pv-1"]);
}

#[tokio::test]
async fn provisioning_selects_node_and_waits_for_binding() {
    let fixture = fixture(BindingArgs {
        bind_timeout: Duration::from_secs(20),
    });
    storage_claim(&fixture, "fresh", "provisioned", "1Gi", json!({}));
    let pod = claims_pod("p", "", &["fresh"]);
    let (mut state, status) = pre_filter(&fixture, &pod);
    assert!(status.is_success(), "{status}");
    assert_eq!(
        fixture
            .plugin
            .filter(&state, &pod, &zone_node("node-b", "b")),
        Status::unresolvable(ERR_REASON_BIND_CONFLICT),
        "allowedTopologies exclude zone b"
    );
    let node_a = zone_node("node-a", "a");
    assert!(fixture.plugin.filter(&state, &pod, &node_a).is_success());
    assert!(
        fixture
            .plugin
            .reserve(&mut state, &pod, "node-a")
            .is_success()
    );

    // A provisioner reacts to the selected-node annotation: it creates a volume and
    // binds the claim.
    let cluster = fixture.cluster.clone();
    let client = fixture.client.clone();
    let provisioner = tokio::spawn(async move {
        loop {
            let written = client
                .claims
                .lock()
                .expect("lock")
                .get("default/fresh")
                .cloned();
            if let Some(mut claim) = written {
                add_volume(
                    &cluster,
                    "pv-fresh",
                    json!({}),
                    json!({"capacity": {"storage": "1Gi"}, "nodeAffinity": zone_affinity("a"),
                        "claimRef": {"namespace": "default", "name": "fresh", "uid": "uid-fresh"}}),
                    "Bound",
                );
                claim.spec.get_or_insert_with(Default::default).volume_name =
                    Some("pv-fresh".into());
                cluster
                    .pvcs
                    .write()
                    .expect("lock")
                    .insert("default/fresh".into(), Arc::new(claim));
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let status = fixture.plugin.pre_bind(&state, &pod, "node-a").await;
    provisioner.await.expect("provisioner");
    assert!(status.is_success(), "{status}");
    let written = fixture.client.claims.lock().expect("lock")["default/fresh"].clone();
    assert_eq!(
        written
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANN_SELECTED_NODE))
            .map(String::as_str),
        Some("node-a")
    );
}

#[tokio::test]
async fn provisioning_times_out() {
    let fixture = fixture(BindingArgs {
        bind_timeout: Duration::from_millis(300),
    });
    storage_claim(&fixture, "fresh", "provisioned", "1Gi", json!({}));
    let pod = claims_pod("p", "", &["fresh"]);
    let (mut state, _) = pre_filter(&fixture, &pod);
    assert!(
        fixture
            .plugin
            .filter(&state, &pod, &zone_node("node-a", "a"))
            .is_success()
    );
    assert!(
        fixture
            .plugin
            .reserve(&mut state, &pod, "node-a")
            .is_success()
    );
    // The claim the API server stored must carry the annotation for the wait to go on.
    let mut annotated = (*fixture.cluster.claim("default", "fresh").expect("claim")).clone();
    annotated
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(ANN_SELECTED_NODE.into(), "node-a".into());
    fixture
        .cluster
        .pvcs
        .write()
        .expect("lock")
        .insert("default/fresh".into(), Arc::new(annotated));
    let status = fixture.plugin.pre_bind(&state, &pod, "node-a").await;
    assert_eq!(status.code, Code::Error);
    assert!(status.message().contains("timed out"), "{status}");
}

#[test]
fn selected_node_annotation_pins_the_claim() {
    let fixture = fixture(BindingArgs::default());
    storage_claim(&fixture, "pinned", "wait", "1Gi", json!({}));
    {
        let mut claims = fixture.cluster.pvcs.write().expect("lock");
        let claim = claims.get_mut("default/pinned").expect("claim");
        Arc::make_mut(claim)
            .metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(ANN_SELECTED_NODE.into(), "node-a".into());
    }
    let pod = claims_pod("p", "", &["pinned"]);
    let (state, _) = pre_filter(&fixture, &pod);
    assert!(
        fixture
            .plugin
            .filter(&state, &pod, &zone_node("node-a", "a"))
            .is_success()
    );
    assert_eq!(
        fixture
            .plugin
            .filter(&state, &pod, &zone_node("node-b", "a")),
        Status::unresolvable(ERR_REASON_BIND_CONFLICT)
    );
}

#[test]
fn args_parse_and_validate() {
    assert_eq!(parse_binding_args(&Value::Null), Ok(BindingArgs::default()));
    assert_eq!(
        parse_binding_args(&json!({"bindTimeoutSeconds": 30})),
        Ok(BindingArgs {
            bind_timeout: Duration::from_secs(30)
        })
    );
    assert!(parse_binding_args(&json!({"bindTimeoutSeconds": -1})).is_err());
    assert!(parse_binding_args(&json!({"bogus": 1})).is_err());
}
