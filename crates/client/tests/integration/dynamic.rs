//! Discovery (aggregated and legacy), the dynamic client and metadata-only informers.

use std::time::Duration;

use apimachinery::meta::GroupVersionResource;
use client::api::{Api, ApiResource, ListParams, PostParams};
use client::discovery::DiscoveryClient;
use client::dynamic::DynamicClient;
use client::informer::{InformerOptions, SharedInformerFactory};
use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::json;
use tokio::sync::watch;

use crate::api::config_map;
use crate::server::{TestServer, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_aggregated_and_legacy_agree() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let discovery = DiscoveryClient::new(client.clone());

    let aggregated = discovery.resources().await.expect("discovery");
    assert!(
        aggregated.aggregated,
        "the server offers aggregated discovery"
    );
    let legacy = discovery.refresh_legacy().await.expect("legacy discovery");
    assert!(!legacy.aggregated);

    for found in [&aggregated, &legacy] {
        let pods = found
            .resolve(&GroupVersionResource::new("", "v1", "pods"))
            .expect("pods are served");
        assert_eq!(pods.resource.kind, "Pod");
        assert!(pods.resource.namespaced);
        assert!(pods.supports("watch"));
        assert!(pods.subresources.iter().any(|s| s == "status"), "{pods:?}");
        let nodes = found
            .resolve_kind("", "v1", "Node")
            .expect("nodes are served");
        assert!(!nodes.resource.namespaced);
        let deployments = found
            .resolve(&GroupVersionResource::new("apps", "v1", "deployments"))
            .expect("deployments are served");
        assert_eq!(deployments.resource.kind, "Deployment");
        assert!(deployments.subresources.iter().any(|s| s == "scale"));
        assert!(
            found
                .preferred_resources()
                .iter()
                .any(|r| r.resource.plural == "leases")
        );
    }
    let names = |d: &client::discovery::Discovery| {
        let mut names: Vec<String> = d
            .all_resources()
            .map(|r| format!("{}/{}", r.resource.api_version(), r.resource.plural))
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&aggregated), names(&legacy));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_client_and_metadata_informer() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let dynamic = DynamicClient::new(client.clone());
    let gvr = GroupVersionResource::new("", "v1", "configmaps");
    let cms = dynamic
        .resource(&gvr, Some("default"))
        .await
        .expect("configmaps resolve");
    let object = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "dyn", "labels": {"app": "web"}},
        "data": {"value": "1"},
    }))
    .expect("dynamic object");
    let created = cms
        .create(&object, &PostParams::default())
        .await
        .expect("create");
    assert_eq!(created.data["data"]["value"], "1");
    assert_eq!(
        cms.get("dyn").await.expect("get").metadata.name.as_deref(),
        Some("dyn")
    );

    let unknown = dynamic
        .resource(
            &GroupVersionResource::new("example.com", "v1", "widgets"),
            None,
        )
        .await
        .err()
        .expect("an unknown resource is an error");
    assert!(unknown.is_not_found());

    // Metadata-only reads come back as PartialObjectMetadata.
    let metadata = dynamic
        .metadata(&gvr, Some("default"))
        .await
        .expect("metadata client");
    let list = metadata
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("metadata list");
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].kind, "PartialObjectMetadata");
    assert_eq!(list.items[0].metadata.name.as_deref(), Some("dyn"));

    let factory = SharedInformerFactory::new(client.clone(), Duration::ZERO);
    let informer =
        factory.metadata_informer(ApiResource::of::<ConfigMap>(), InformerOptions::default());
    let dynamic_informer =
        factory.dynamic_informer(ApiResource::of::<ConfigMap>(), InformerOptions::default());
    let (stop, cancel) = watch::channel(false);
    factory.start(cancel.clone());
    assert!(factory.wait_for_cache_sync(cancel).await);
    let cached = informer
        .lister()
        .namespaced("default")
        .get("dyn")
        .expect("cached");
    assert_eq!(cached.kind, "PartialObjectMetadata");
    assert_eq!(
        dynamic_informer
            .lister()
            .get("default/dyn")
            .expect("cached")
            .data["data"]["value"],
        "1"
    );

    let typed: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    typed
        .create(
            &config_map("later", &[("app", "db")], "2"),
            &PostParams::default(),
        )
        .await
        .expect("create later");
    eventually(
        Duration::from_secs(10),
        "the watch to deliver metadata",
        || {
            informer
                .lister()
                .get("default/later")
                .is_some_and(|m| m.metadata.labels.as_ref().is_some_and(|l| l["app"] == "db"))
        },
    )
    .await;
    stop.send(true).expect("informers running");
    server.stop().await;
}
