//! Real client libraries against a started server: the official Python client.
//!
//! The Python client lives in the virtualenv `hack/python-client.sh` creates (which
//! `make test` runs first); `KUBE_PYTHON` overrides the interpreter.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::TestServer;

fn python() -> PathBuf {
    if let Ok(python) = std::env::var("KUBE_PYTHON") {
        return PathBuf::from(python);
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = workspace.join("_output/venv/bin/python");
    assert!(
        python.exists(),
        "the Python client is missing: run hack/python-client.sh (make test does) or set KUBE_PYTHON"
    );
    python
}

#[test]
fn python_client_crud_watch_and_errors() {
    let server = TestServer::start();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/client_check.py");
    let output = Command::new(python())
        .arg(script)
        .arg(server.kubeconfig_path())
        .output()
        .expect("run the Python client check");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python client check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
}

mod kube_rs {
    use std::time::Duration;

    use futures_util::StreamExt;
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{ConfigMap, Pod};
    use kube::api::{
        Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
    };
    use kube::config::{KubeConfigOptions, Kubeconfig};

    use super::common::TestServer;

    async fn client(server: &TestServer) -> kube::Client {
        let kubeconfig = Kubeconfig::read_from(server.kubeconfig_path()).expect("read kubeconfig");
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .expect("build kube config");
        kube::Client::try_from(config).expect("build kube client")
    }

    fn object<K: serde::de::DeserializeOwned>(value: serde_json::Value) -> K {
        serde_json::from_value(value).expect("valid object")
    }

    #[test]
    fn kube_rs_crud_watch_and_errors() {
        let server = TestServer::start();
        server.block_on(async {
            let client = client(&server).await;
            let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
            let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
            let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");

            let start = configmaps.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
            let mut events = configmaps
                .watch(&WatchParams::default().timeout(10), &start)
                .await
                .unwrap()
                .boxed();

            let cm: ConfigMap = object(serde_json::json!({"metadata": {"name": "rs-cm", "labels": {"app": "rs"}}, "data": {"k": "v"}}));
            let created = configmaps.create(&PostParams::default(), &cm).await.unwrap();
            assert!(created.metadata.uid.is_some());
            let read = configmaps.get("rs-cm").await.unwrap();
            assert_eq!(read.data.unwrap()["k"], "v");

            let selected = configmaps.list(&ListParams::default().labels("app=rs")).await.unwrap();
            assert_eq!(selected.items.len(), 1);
            let by_field = configmaps.list(&ListParams::default().fields("metadata.name=rs-cm")).await.unwrap();
            assert_eq!(by_field.items.len(), 1);

            let patch = serde_json::json!({"data": {"extra": "1"}});
            let patched = configmaps.patch("rs-cm", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
            assert_eq!(patched.data.unwrap().len(), 2);

            let error = configmaps.create(&PostParams::default(), &cm).await.unwrap_err();
            assert!(matches!(&error, kube::Error::Api(status) if status.code == 409), "{error:?}");

            configmaps.delete("rs-cm", &DeleteParams::default()).await.unwrap();
            let mut seen = Vec::new();
            while seen.len() < 3 {
                let event = tokio::time::timeout(Duration::from_secs(10), events.next())
                    .await
                    .expect("watch event timed out")
                    .expect("watch ended")
                    .expect("watch error");
                match event {
                    WatchEvent::Added(_) => seen.push("ADDED"),
                    WatchEvent::Modified(_) => seen.push("MODIFIED"),
                    WatchEvent::Deleted(_) => seen.push("DELETED"),
                    WatchEvent::Bookmark(_) => {}
                    WatchEvent::Error(error) => panic!("watch error event: {error:?}"),
                }
            }
            assert_eq!(seen, vec!["ADDED", "MODIFIED", "DELETED"]);

            let pod: Pod = object(serde_json::json!({"metadata": {"name": "rs-pod"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}));
            let created = pods.create(&PostParams::default(), &pod).await.unwrap();
            assert_eq!(created.spec.unwrap().restart_policy.as_deref(), Some("Always"));
            let labels = serde_json::json!({"metadata": {"labels": {"via": "strategic"}}});
            pods.patch("rs-pod", &PatchParams::default(), &Patch::Strategic(&labels)).await.unwrap();
            pods.delete("rs-pod", &DeleteParams::default().grace_period(0)).await.unwrap();

            let deployment: Deployment = object(serde_json::json!({
                "metadata": {"name": "rs-web"},
                "spec": {"selector": {"matchLabels": {"app": "rs-web"}},
                         "template": {"metadata": {"labels": {"app": "rs-web"}}, "spec": {"containers": [{"name": "w", "image": "nginx"}]}}},
            }));
            let created = deployments.create(&PostParams::default(), &deployment).await.unwrap();
            assert_eq!(created.spec.unwrap().replicas, Some(1), "replicas default to 1");
            let listed = deployments.list(&ListParams::default()).await.unwrap();
            assert_eq!(listed.items.len(), 1);
            deployments.delete("rs-web", &DeleteParams::default()).await.unwrap();
            let error = deployments.get("rs-web").await.unwrap_err();
            assert!(matches!(&error, kube::Error::Api(status) if status.code == 404), "{error:?}");
        });
    }
}
