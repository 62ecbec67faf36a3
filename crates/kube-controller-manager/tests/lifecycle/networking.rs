//! Endpoints and EndpointSlices follow the readiness of a Service's pods.

use std::time::Duration;

use kube_controller_manager::endpoint::EndpointController;
use kube_controller_manager::endpointslice::EndpointSliceController;
use kube_controller_manager::endpointslicemirroring::EndpointSliceMirroringController;
use kube_controller_manager::options::ControllerManagerOptions;
use serde_json::{Value, json};

use crate::common::*;

const PODS: &str = "/api/v1/namespaces/default/pods";

fn ready_ips(endpoints: &Value) -> (Vec<String>, Vec<String>) {
    let collect = |field: &str| {
        let mut ips: Vec<String> = endpoints["subsets"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|subset| subset[field].as_array().cloned().unwrap_or_default())
            .filter_map(|address| address["ip"].as_str().map(str::to_string))
            .collect();
        ips.sort();
        ips
    };
    (collect("addresses"), collect("notReadyAddresses"))
}

/// (address, ready) of every endpoint in the Service's slices.
async fn slice_endpoints(client: &client::rest::RestClient) -> Vec<(String, bool)> {
    let list: Value = client
        .get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices")
        .query("labelSelector", "kubernetes.io/service-name=web")
        .request_json()
        .await
        .expect("list slices");
    let mut endpoints: Vec<(String, bool)> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|slice| slice["endpoints"].as_array().cloned().unwrap_or_default())
        .map(|endpoint| {
            (
                endpoint["addresses"][0]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                endpoint["conditions"]["ready"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    endpoints.sort();
    endpoints
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn endpoints_follow_pod_readiness() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let (cancel, cancel_rx) = Cancel::new();
    let ctx = context(&client, ControllerManagerOptions::default());
    let endpoints = EndpointController::new(&ctx);
    let slices = EndpointSliceController::new(&ctx);
    ctx.informers.start(cancel_rx.clone());
    tokio::spawn(endpoints.run(2, cancel_rx.clone()));
    tokio::spawn(slices.run(2, cancel_rx));

    create(&client, "/api/v1/namespaces/default/services", &json!({
        "metadata": {"name": "web", "labels": {"team": "a"}},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }))
    .await;
    for name in ["a", "b"] {
        create(&client, PODS, &pod(name, None)).await;
    }
    set_pod_status(&client, "default", "a", "10.244.0.10", true).await;
    set_pod_status(&client, "default", "b", "10.244.0.11", false).await;

    let endpoints = eventually(
        "endpoints with one ready and one not-ready pod",
        Duration::from_secs(30),
        || async {
            let endpoints = get(&client, "/api/v1/namespaces/default/endpoints/web").await?;
            (ready_ips(&endpoints)
                == (
                    vec!["10.244.0.10".to_string()],
                    vec!["10.244.0.11".to_string()],
                ))
                .then_some(endpoints)
        },
    )
    .await;
    assert_eq!(endpoints["subsets"][0]["ports"][0]["port"], 8080);
    assert_eq!(endpoints["metadata"]["labels"]["team"], "a");
    assert!(
        endpoints["metadata"]["annotations"]["endpoints.kubernetes.io/last-change-trigger-time"]
            .is_string()
    );
    eventually(
        "slices with one ready and one not-ready endpoint",
        Duration::from_secs(30),
        || async {
            (slice_endpoints(&client).await
                == [
                    ("10.244.0.10".to_string(), true),
                    ("10.244.0.11".to_string(), false),
                ])
            .then_some(())
        },
    )
    .await;

    // b turns ready, a goes away.
    set_pod_status(&client, "default", "b", "10.244.0.11", true).await;
    delete(
        &client,
        &format!("{PODS}/a"),
        &json!({"gracePeriodSeconds": 0}),
    )
    .await;
    eventually(
        "endpoints with only b ready",
        Duration::from_secs(30),
        || async {
            let endpoints = get(&client, "/api/v1/namespaces/default/endpoints/web").await?;
            (ready_ips(&endpoints) == (vec!["10.244.0.11".to_string()], vec![])).then_some(())
        },
    )
    .await;
    eventually(
        "slices with only b ready",
        Duration::from_secs(30),
        || async {
            (slice_endpoints(&client).await == [("10.244.0.11".to_string(), true)]).then_some(())
        },
    )
    .await;
    let slices: Value = client
        .get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices")
        .request_json()
        .await
        .expect("list slices");
    let slice = &slices["items"][0];
    assert_eq!(
        slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io"
    );
    assert_eq!(slice["metadata"]["ownerReferences"][0]["kind"], "Service");
    assert_eq!(slice["ports"][0]["port"], 8080);

    // The Service goes: its Endpoints follow.
    delete(
        &client,
        "/api/v1/namespaces/default/services/web",
        &json!({}),
    )
    .await;
    eventually(
        "endpoints deleted with the service",
        Duration::from_secs(30),
        || async {
            get(&client, "/api/v1/namespaces/default/endpoints/web")
                .await
                .is_none()
                .then_some(())
        },
    )
    .await;

    drop(cancel);
    server.stop().await;
}

/// Lists the addresses of the slices mirrored from the `ext` Endpoints.
async fn mirrored_addresses(client: &client::rest::RestClient) -> Vec<String> {
    let list: Value = client
        .get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices")
        .query(
            "labelSelector",
            "kubernetes.io/service-name=ext,endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io",
        )
        .request_json()
        .await
        .expect("list slices");
    let mut addresses: Vec<String> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|slice| slice["endpoints"].as_array().cloned().unwrap_or_default())
        .filter_map(|endpoint| endpoint["addresses"][0].as_str().map(str::to_string))
        .collect();
    addresses.sort();
    addresses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn custom_endpoints_are_mirrored() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let (cancel, cancel_rx) = Cancel::new();
    let ctx = context(&client, ControllerManagerOptions::default());
    let endpoints = EndpointController::new(&ctx);
    let mirroring = EndpointSliceMirroringController::new(&ctx);
    ctx.informers.start(cancel_rx.clone());
    tokio::spawn(endpoints.run(1, cancel_rx.clone()));
    tokio::spawn(mirroring.run(1, cancel_rx));

    create(
        &client,
        "/api/v1/namespaces/default/services",
        &json!({
            "metadata": {"name": "ext"}, "spec": {"ports": [{"name": "http", "port": 80}]},
        }),
    )
    .await;
    create(&client, "/api/v1/namespaces/default/endpoints", &json!({
        "metadata": {"name": "ext"},
        "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"name": "http", "port": 8080}]}],
    }))
    .await;
    eventually("mirrored slice", Duration::from_secs(30), || async {
        (mirrored_addresses(&client).await == ["192.0.2.10"]).then_some(())
    })
    .await;

    let mut updated = get(&client, "/api/v1/namespaces/default/endpoints/ext")
        .await
        .expect("endpoints");
    updated["subsets"][0]["addresses"] = json!([{"ip": "192.0.2.11"}, {"ip": "192.0.2.12"}]);
    client
        .put("/api/v1/namespaces/default/endpoints/ext")
        .json(&updated)
        .request_json::<Value>()
        .await
        .expect("update endpoints");
    eventually(
        "mirrored slice follows the update",
        Duration::from_secs(30),
        || async {
            (mirrored_addresses(&client).await == ["192.0.2.11", "192.0.2.12"]).then_some(())
        },
    )
    .await;

    delete(
        &client,
        "/api/v1/namespaces/default/endpoints/ext",
        &json!({}),
    )
    .await;
    eventually(
        "mirrored slices deleted",
        Duration::from_secs(30),
        || async { mirrored_addresses(&client).await.is_empty().then_some(()) },
    )
    .await;

    drop(cancel);
    server.stop().await;
}
