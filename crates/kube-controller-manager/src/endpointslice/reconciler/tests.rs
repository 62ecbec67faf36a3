use k8s_openapi::api::core::v1::{Pod, Service};
use serde_json::json;

use super::*;

fn service() -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "svc-uid", "labels": {"team": "a"}},
        "spec": {"selector": {"app": "web"}, "clusterIP": "10.0.0.1",
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
    }))
    .expect("valid service")
}

fn pod(index: usize, ready: bool, terminating: bool) -> Pod {
    let mut metadata = json!({"name": format!("p{index}"), "namespace": "default",
        "uid": format!("uid-{index}"), "labels": {"app": "web"}});
    if terminating {
        metadata["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
    }
    serde_json::from_value(json!({
        "metadata": metadata,
        "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": "Running", "podIP": format!("10.1.{}.{}", index / 256, index % 256),
                   "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]},
    }))
    .expect("valid pod")
}

fn zone(node: &str) -> Option<String> {
    (node == "node-1").then(|| "zone-a".to_string())
}

/// Applies a plan to a fake set of slices, naming created slices in order.
fn apply(existing: &[EndpointSlice], plan: Plan, counter: &mut usize) -> Vec<EndpointSlice> {
    let mut slices: Vec<EndpointSlice> = existing
        .iter()
        .filter(|slice| {
            !plan
                .delete
                .contains(slice.metadata.name.as_ref().expect("name"))
        })
        .cloned()
        .collect();
    for updated in plan.update {
        let position = slices
            .iter()
            .position(|slice| slice.metadata.name == updated.metadata.name)
            .expect("updated slice exists");
        slices[position] = updated;
    }
    for mut created in plan.create {
        *counter += 1;
        created.metadata.name = Some(format!("web-{counter}"));
        slices.push(created);
    }
    slices
}

#[test]
fn conditions_zone_and_metadata() {
    let svc = service();
    let pods = [
        pod(1, true, false),
        pod(2, false, false),
        pod(3, true, true),
    ];
    let desired = desired_endpoints(&svc, &pods, zone);
    let group = desired.values().next().expect("one port group");
    let conditions = |ip: &str| {
        let c = group.endpoints[ip].conditions.clone().expect("conditions");
        (c.ready, c.serving, c.terminating)
    };
    assert_eq!(
        conditions("10.1.0.1"),
        (Some(true), Some(true), Some(false))
    );
    assert_eq!(
        conditions("10.1.0.2"),
        (Some(false), Some(false), Some(false))
    );
    assert_eq!(
        conditions("10.1.0.3"),
        (Some(false), Some(true), Some(true))
    );
    assert_eq!(group.endpoints["10.1.0.1"].zone.as_deref(), Some("zone-a"));
    assert_eq!(group.ports[0].port, Some(8080));

    let plan = reconcile(&svc, &desired, &[], 100, Some("2024-01-01T00:00:00Z"));
    assert_eq!(plan.create.len(), 1);
    let slice = &plan.create[0];
    let labels = slice.metadata.labels.as_ref().expect("labels");
    assert_eq!(labels[SERVICE_NAME_LABEL], "web");
    assert_eq!(labels[MANAGED_BY_LABEL], CONTROLLER_NAME);
    assert_eq!(labels["team"], "a");
    assert_eq!(slice.address_type, "IPv4");
    assert_eq!(slice.metadata.generate_name.as_deref(), Some("web-"));
    let owner = &slice.metadata.owner_references.as_ref().expect("owner")[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str()),
        ("Service", "svc-uid")
    );
}

#[test]
fn packs_at_most_max_per_slice_and_is_stable() {
    let svc = service();
    let pods: Vec<Pod> = (0..250).map(|i| pod(i, true, false)).collect();
    let desired = desired_endpoints(&svc, &pods, zone);
    let mut counter = 0;
    let plan = reconcile(&svc, &desired, &[], 100, None);
    let sizes: Vec<usize> = plan.create.iter().map(|s| s.endpoints.len()).collect();
    assert_eq!(sizes, [100, 100, 50]);
    let slices = apply(&[], plan, &mut counter);

    // Nothing changed: nothing to write.
    assert!(reconcile(&svc, &desired, &slices, 100, None).is_empty());

    // One pod turns not ready: exactly one slice is rewritten.
    let mut changed_pods = pods.clone();
    changed_pods[5] = pod(5, false, false);
    let desired = desired_endpoints(&svc, &changed_pods, zone);
    let plan = reconcile(&svc, &desired, &slices, 100, None);
    assert_eq!(
        (plan.create.len(), plan.update.len(), plan.delete.len()),
        (0, 1, 0)
    );

    // Ten pods go away and twenty come: the new ones fill existing room first.
    let mut next: Vec<Pod> = pods[10..].to_vec();
    next.extend((250..270).map(|i| pod(i, true, false)));
    let desired = desired_endpoints(&svc, &next, zone);
    let plan = reconcile(&svc, &desired, &slices, 100, None);
    assert!(plan.create.is_empty(), "room in existing slices: {plan:?}");
    let slices = apply(&slices, plan, &mut counter);
    assert_eq!(addresses(&slices).len(), 260);
    assert!(slices.iter().all(|s| s.endpoints.len() <= 100));
}

#[test]
fn no_endpoints_keeps_one_empty_slice() {
    let svc = service();
    let mut counter = 0;
    let pods = [pod(1, true, false)];
    let slices = apply(
        &[],
        reconcile(&svc, &desired_endpoints(&svc, &pods, zone), &[], 100, None),
        &mut counter,
    );
    let plan = reconcile(
        &svc,
        &desired_endpoints(&svc, &[], zone),
        &slices,
        100,
        None,
    );
    assert_eq!(plan.delete, ["web-1"]);
    assert_eq!(plan.create.len(), 1);
    assert!(plan.create[0].endpoints.is_empty());
    let slices = apply(&slices, plan, &mut counter);
    assert!(
        reconcile(
            &svc,
            &desired_endpoints(&svc, &[], zone),
            &slices,
            100,
            None
        )
        .is_empty()
    );
}
