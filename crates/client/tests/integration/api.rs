//! The typed client: CRUD, conditional writes, subresources and error helpers.

use std::collections::BTreeMap;

use client::api::{Api, DeleteParams, ListParams, PostParams};
use client::rest::PatchType;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Container, Node, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::json;

use crate::server::TestServer;

pub fn config_map(name: &str, labels: &[(&str, &str)], value: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([("value".to_string(), value.to_string())])),
        ..ConfigMap::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_crud_and_errors() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    let created = cms
        .create(
            &config_map("a", &[("app", "web")], "1"),
            &PostParams::default(),
        )
        .await
        .expect("create a");
    assert_eq!(created.metadata.namespace.as_deref(), Some("default"));
    cms.create(
        &config_map("b", &[("app", "db")], "1"),
        &PostParams::default(),
    )
    .await
    .expect("create b");
    let again = cms
        .create(&config_map("a", &[], "1"), &PostParams::default())
        .await
        .expect_err("second create of a");
    assert!(again.is_already_exists(), "{again}");
    assert_eq!(again.status_code(), Some(409));

    let missing = cms.get("nope").await.expect_err("get of a missing object");
    assert!(missing.is_not_found());
    assert!(cms.get_opt("nope").await.expect("get_opt").is_none());

    let web = cms
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("list");
    let names: Vec<_> = web.items.iter().map(|c| c.metadata.name.clone()).collect();
    assert_eq!(names, vec![Some("a".to_string())]);
    assert!(web.metadata.resource_version.is_some());

    // A replace with a stale resourceVersion conflicts.
    let mut stale = created.clone();
    let patched = cms
        .patch("a", PatchType::Merge, &json!({"data": {"value": "2"}}))
        .await
        .expect("patch");
    assert_eq!(patched.data.as_ref().unwrap()["value"], "2");
    stale.data = Some(BTreeMap::from([("value".to_string(), "3".to_string())]));
    let conflict = cms.replace("a", &stale).await.expect_err("stale replace");
    assert!(conflict.is_conflict(), "{conflict}");
    let mut fresh = patched.clone();
    fresh.data = Some(BTreeMap::from([("value".to_string(), "3".to_string())]));
    let replaced = cms.replace("a", &fresh).await.expect("fresh replace");
    assert_eq!(replaced.data.unwrap()["value"], "3");

    cms.delete("a", &DeleteParams::default())
        .await
        .expect("delete a");
    assert!(cms.get_opt("a").await.expect("get_opt").is_none());
    cms.delete_collection(&DeleteParams::default(), &ListParams::default())
        .await
        .expect("delete collection");
    assert!(
        cms.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // Cluster-scoped resources have no namespace in their path.
    let nodes: Api<Node> = Api::all(client.clone());
    let node = Node {
        metadata: ObjectMeta {
            name: Some("node-1".to_string()),
            ..ObjectMeta::default()
        },
        ..Node::default()
    };
    nodes
        .create(&node, &PostParams::default())
        .await
        .expect("create node");
    let status = nodes
        .patch_status(
            "node-1",
            PatchType::Merge,
            &json!({"status": {"phase": "Running"}}),
        )
        .await
        .expect("patch node status");
    assert_eq!(
        status.status.and_then(|s| s.phase).as_deref(),
        Some("Running")
    );

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_subresource() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let deployments: Api<Deployment> = Api::namespaced(client, "default");
    let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
    let deployment = Deployment {
        metadata: ObjectMeta {
            name: Some("web".to_string()),
            ..ObjectMeta::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "web".to_string(),
                        image: Some("busybox".to_string()),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    };
    deployments
        .create(&deployment, &PostParams::default())
        .await
        .expect("create deployment");
    let mut scale = deployments.get_scale("web").await.expect("get scale");
    assert_eq!(scale.spec.as_ref().and_then(|s| s.replicas), Some(1));
    scale.spec.as_mut().unwrap().replicas = Some(3);
    deployments
        .replace_scale("web", &scale)
        .await
        .expect("replace scale");
    let updated = deployments.get("web").await.expect("get deployment");
    assert_eq!(updated.spec.unwrap().replicas, Some(3));
    server.stop().await;
}
