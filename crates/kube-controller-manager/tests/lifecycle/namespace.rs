//! Namespace deletion, the default ServiceAccount and the root CA ConfigMap.

use std::time::Duration;

use kube_controller_manager::garbagecollector::GarbageCollector;
use kube_controller_manager::namespace::NamespaceController;
use kube_controller_manager::options::ControllerManagerOptions;
use kube_controller_manager::rootcacertpublisher::Publisher;
use kube_controller_manager::serviceaccount::ServiceAccountsController;
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn namespace_lifecycle() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let (cancel, cancel_rx) = Cancel::new();
    let ctx = context(
        &client,
        ControllerManagerOptions {
            root_ca_file: Some(server.cert_file.clone()),
            ..ControllerManagerOptions::default()
        },
    );
    let namespaces = NamespaceController::new(&ctx);
    let accounts = ServiceAccountsController::new(&ctx);
    let publisher = Publisher::new(&ctx);
    ctx.informers.start(cancel_rx.clone());
    tokio::spawn(namespaces.run(2, cancel_rx.clone()));
    tokio::spawn(accounts.run(1, cancel_rx.clone()));
    tokio::spawn(publisher.run(1, cancel_rx.clone()));
    tokio::spawn(GarbageCollector::new(&ctx).run(1, cancel_rx));

    create(
        &client,
        "/api/v1/namespaces",
        &json!({"metadata": {"name": "doomed"}}),
    )
    .await;
    eventually(
        "default service account",
        Duration::from_secs(30),
        || async { get(&client, "/api/v1/namespaces/doomed/serviceaccounts/default").await },
    )
    .await;
    let bundle = std::fs::read_to_string(&server.cert_file).expect("read CA");
    let config_map = eventually("kube-root-ca.crt", Duration::from_secs(30), || async {
        get(
            &client,
            "/api/v1/namespaces/doomed/configmaps/kube-root-ca.crt",
        )
        .await
    })
    .await;
    assert_eq!(config_map["data"]["ca.crt"], bundle.as_str());

    // A deleted default service account comes back.
    delete(
        &client,
        "/api/v1/namespaces/doomed/serviceaccounts/default",
        &json!({}),
    )
    .await;
    eventually(
        "default service account recreated",
        Duration::from_secs(30),
        || async { get(&client, "/api/v1/namespaces/doomed/serviceaccounts/default").await },
    )
    .await;

    // Content, one object held by a finalizer.
    for name in ["one", "two"] {
        create(
            &client,
            "/api/v1/namespaces/doomed/configmaps",
            &json!({"metadata": {"name": name}}),
        )
        .await;
    }
    create(
        &client,
        "/api/v1/namespaces/doomed/secrets",
        &json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}),
    )
    .await;
    let mut pod = pod("p", None);
    pod["metadata"]["namespace"] = json!("doomed");
    create(&client, "/api/v1/namespaces/doomed/pods", &pod).await;

    delete(&client, "/api/v1/namespaces/doomed", &json!({})).await;
    let namespace = eventually(
        "the namespace reports content held by a finalizer",
        Duration::from_secs(30),
        || async {
            let namespace = get(&client, "/api/v1/namespaces/doomed").await?;
            let conditions = namespace["status"]["conditions"].as_array()?.clone();
            conditions
                .iter()
                .any(|c| c["type"] == "NamespaceFinalizersRemaining" && c["status"] == "True")
                .then_some(namespace)
        },
    )
    .await;
    assert_eq!(namespace["status"]["phase"], "Terminating");
    assert!(
        get(&client, "/api/v1/namespaces/doomed/configmaps/one")
            .await
            .is_none()
    );
    assert!(
        get(&client, "/api/v1/namespaces/doomed/pods/p")
            .await
            .is_none()
    );

    client
        .patch(
            "/api/v1/namespaces/doomed/secrets/held",
            client::rest::PatchType::Merge,
        )
        .json(&json!({"metadata": {"finalizers": null}}))
        .request_json::<Value>()
        .await
        .expect("release the secret");
    eventually("namespace removed", Duration::from_secs(60), || async {
        get(&client, "/api/v1/namespaces/doomed")
            .await
            .is_none()
            .then_some(())
    })
    .await;

    drop(cancel);
    server.stop().await;
}
