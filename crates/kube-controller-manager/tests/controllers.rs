//! The workload controllers against a real kube-apiserver started in-process on a
//! loopback port. There is no kubelet: a task of the test plays its part by
//! marking pods Running and Ready through pods/status.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use client::api::{Api, DeleteParams, ListParams, PostParams};
use client::config::{AuthConfig, RestConfig, TlsConfig};
use client::rest::{PatchType, RestClient};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, PodCondition, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube_apiserver::apiserver::{self, RunningServer};
use kube_apiserver::options::Options;
use kube_controller_manager::context::ControllerContext;
use kube_controller_manager::controller_utils::{controller_ref, now};
use kube_controller_manager::options::ControllerManagerOptions;
use kube_controller_manager::registry::start_controllers;
use serde_json::json;
use tokio::sync::watch;

/// A kube-apiserver on 127.0.0.1 with an embedded store in a temp dir, and the
/// controller manager running against it.
struct Cluster {
    server: Option<RunningServer>,
    client: RestClient,
    stop: watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    async fn start(controllers: &str) -> Cluster {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
            )
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().expect("create temp dir");
        let data_dir = format!("--data-dir={}", dir.path().join("data").display());
        let cert_dir = format!("--cert-dir={}", dir.path().join("certs").display());
        let options = Options::try_parse_from([
            "kube-apiserver",
            "--bind-address=127.0.0.1",
            "--secure-port=0",
            data_dir.as_str(),
            cert_dir.as_str(),
        ])
        .expect("parse apiserver flags");
        let server = apiserver::start(options)
            .await
            .expect("start kube-apiserver");
        let config = RestConfig {
            host: format!("https://127.0.0.1:{}", server.address.port()),
            tls: TlsConfig {
                ca_file: Some(PathBuf::from(&server.certificate.cert_file)),
                ..TlsConfig::default()
            },
            auth: AuthConfig {
                token: Some("test-token".to_string()),
                ..AuthConfig::default()
            },
            qps: 500.0,
            burst: 500,
            timeout: Some(Duration::from_secs(20)),
            user_agent: String::new(),
        };
        let client = RestClient::new(&config).expect("build client");
        wait_ready(&client).await;

        let mut options = ControllerManagerOptions::for_tests();
        options.controllers = controllers.split(',').map(str::to_string).collect();
        let ctx = ControllerContext::new(client.clone(), Arc::new(options));
        let (stop, cancel) = watch::channel(false);
        start_controllers(&ctx, cancel.clone());
        tokio::spawn(play_kubelet(client.clone(), cancel));

        Cluster {
            server: Some(server),
            client,
            stop,
            _dir: dir,
        }
    }

    fn api<K: kube_controller_manager::client_ext::Resource>(&self) -> Api<K> {
        kube_controller_manager::client_ext::api_in(self.client.clone(), "default")
    }

    async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

async fn wait_ready(client: &RestClient) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = client.get("/readyz").send().await
            && response.status.is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "kube-apiserver not ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Marks every pod without a Ready condition Running and Ready, except pods
/// labelled `hold=true`, and finishes pods labelled `complete=true` as Succeeded.
async fn play_kubelet(client: RestClient, cancel: watch::Receiver<bool>) {
    let pods: Api<Pod> = Api::namespaced(client, "default");
    while !*cancel.borrow() {
        if let Ok(list) = pods.list(&ListParams::default()).await {
            for pod in list.items {
                let labels = pod.metadata.labels.clone().unwrap_or_default();
                let phase = pod.status.as_ref().and_then(|status| status.phase.clone());
                let target = if labels.get("complete").map(String::as_str) == Some("true") {
                    "Succeeded"
                } else if labels.get("hold").map(String::as_str) == Some("true") {
                    continue;
                } else {
                    "Running"
                };
                if phase.as_deref() == Some(target) || pod.metadata.deletion_timestamp.is_some() {
                    continue;
                }
                let mut updated = pod.clone();
                let status = updated.status.get_or_insert_with(PodStatus::default);
                status.phase = Some(target.to_string());
                status.conditions = Some(vec![PodCondition {
                    type_: "Ready".to_string(),
                    status: if target == "Running" { "True" } else { "False" }.to_string(),
                    last_transition_time: Some(Time(now())),
                    ..PodCondition::default()
                }]);
                let name = pod.metadata.name.clone().unwrap_or_default();
                if let Err(err) = pods.replace_status(&name, &updated).await {
                    eprintln!("kubelet stand-in: failed to update pod {name}: {err}");
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `check` every 100 ms until it returns `Some`, failing after 60 s.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn active(pods: Vec<Pod>) -> Vec<Pod> {
    pods.into_iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .filter(|pod| {
            !matches!(
                pod.status
                    .as_ref()
                    .and_then(|status| status.phase.as_deref()),
                Some("Succeeded") | Some("Failed")
            )
        })
        .collect()
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|condition| condition.type_ == "Ready" && condition.status == "True")
        })
}

async fn pods_with(cluster: &Cluster, selector: &str) -> Vec<Pod> {
    active(
        cluster
            .api::<Pod>()
            .list(&ListParams::default().labels(selector))
            .await
            .expect("list pods")
            .items,
    )
}

fn replica_set(name: &str, replicas: i32, labels: &[(&str, &str)]) -> ReplicaSet {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    serde_json::from_value(json!({
        "metadata": { "name": name, "namespace": "default" },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": labels["app"] } },
            "template": {
                "metadata": { "labels": labels },
                "spec": { "containers": [{ "name": "c", "image": "busybox" }] }
            }
        }
    }))
    .expect("valid replica set")
}

fn deployment(name: &str, replicas: i32, image: &str) -> Deployment {
    serde_json::from_value(json!({
        "metadata": { "name": name, "namespace": "default" },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": { "maxSurge": 1, "maxUnavailable": 1 }
            },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": { "containers": [{ "name": "c", "image": image }] }
            }
        }
    }))
    .expect("valid deployment")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_set_creates_and_replaces_pods() {
    let cluster = Cluster::start("replicaset").await;
    let rs_api = cluster.api::<ReplicaSet>();
    rs_api
        .create(
            &replica_set("web", 3, &[("app", "web"), ("hold", "true")]),
            &PostParams::default(),
        )
        .await
        .expect("create replica set");

    let pods = eventually("3 pods", || async {
        let pods = pods_with(&cluster, "app=web").await;
        (pods.len() == 3).then_some(pods)
    })
    .await;
    for pod in &pods {
        let reference = controller_ref(&pod.metadata).expect("pod has a controller");
        assert_eq!(reference.kind, "ReplicaSet");
        assert_eq!(reference.name, "web");
    }

    let victim = pods[0].metadata.name.clone().unwrap();
    cluster
        .api::<Pod>()
        .delete(&victim, &DeleteParams::default())
        .await
        .expect("delete pod");
    let replaced = eventually("a replacement pod", || async {
        let pods = pods_with(&cluster, "app=web").await;
        let names: HashSet<String> = pods
            .iter()
            .filter_map(|pod| pod.metadata.name.clone())
            .collect();
        (pods.len() == 3 && !names.contains(&victim)).then_some(pods)
    })
    .await;
    assert_eq!(replaced.len(), 3);

    // Expectations keep the controller from creating twice for one missing pod.
    for _ in 0..10 {
        assert_eq!(pods_with(&cluster, "app=web").await.len(), 3);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let status = eventually("status.replicas 3", || async {
        let rs = rs_api.get("web").await.ok()?;
        let status = rs.status?;
        (status.replicas == 3 && status.observed_generation == Some(1)).then_some(status)
    })
    .await;
    assert_eq!(status.fully_labeled_replicas, Some(3));
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_set_scale_down_deletes_unready_first() {
    let cluster = Cluster::start("replicaset").await;
    let rs_api = cluster.api::<ReplicaSet>();
    rs_api
        .create(
            &replica_set("rank", 3, &[("app", "rank")]),
            &PostParams::default(),
        )
        .await
        .expect("create replica set");
    eventually("3 ready pods", || async {
        let pods = pods_with(&cluster, "app=rank").await;
        (pods.len() == 3 && pods.iter().all(is_ready)).then_some(())
    })
    .await;

    // One pod becomes not ready; the kubelet task leaves it alone.
    let pods = pods_with(&cluster, "app=rank").await;
    let unready = pods[1].clone();
    let unready_name = unready.metadata.name.clone().unwrap();
    let pod_api = cluster.api::<Pod>();
    pod_api
        .patch(
            &unready_name,
            PatchType::Merge,
            &json!({"metadata": {"labels": {"hold": "true"}}}),
        )
        .await
        .expect("label pod");
    let mut held = pod_api.get(&unready_name).await.expect("get pod");
    let status = held.status.get_or_insert_with(PodStatus::default);
    status.conditions = Some(vec![PodCondition {
        type_: "Ready".to_string(),
        status: "False".to_string(),
        ..PodCondition::default()
    }]);
    pod_api
        .replace_status(&unready_name, &held)
        .await
        .expect("mark pod unready");
    eventually("the replica set sees 2 ready pods", || async {
        let status = rs_api.get("rank").await.ok()?.status?;
        (status.ready_replicas == Some(2)).then_some(())
    })
    .await;

    rs_api
        .patch("rank", PatchType::Merge, &json!({"spec": {"replicas": 2}}))
        .await
        .expect("scale down");
    let remaining = eventually("2 pods", || async {
        let pods = pods_with(&cluster, "app=rank").await;
        (pods.len() == 2).then_some(pods)
    })
    .await;
    assert!(
        remaining
            .iter()
            .all(|pod| pod.metadata.name.as_deref() != Some(unready_name.as_str())),
        "the unready pod {unready_name} should have been deleted first"
    );
    cluster.stop().await;
}

/// Active pods of the Deployment `name` and how many of them are ready.
async fn pod_counts(cluster: &Cluster, name: &str) -> (usize, usize) {
    let pods = pods_with(cluster, &format!("app={name}")).await;
    let ready = pods.iter().filter(|pod| is_ready(pod)).count();
    (pods.len(), ready)
}

async fn replica_sets_of(cluster: &Cluster, name: &str) -> Vec<ReplicaSet> {
    cluster
        .api::<ReplicaSet>()
        .list(&ListParams::default().labels(&format!("app={name}")))
        .await
        .expect("list replica sets")
        .items
}

fn image_of(rs: &ReplicaSet) -> String {
    rs.spec
        .as_ref()
        .and_then(|spec| spec.template.as_ref())
        .and_then(|template| template.spec.as_ref())
        .map(|spec| spec.containers[0].image.clone().unwrap_or_default())
        .unwrap_or_default()
}

async fn wait_rollout_complete(cluster: &Cluster, name: &str, image: &str, replicas: i32) {
    eventually(
        &format!("deployment {name} complete on {image}"),
        || async {
            let d = cluster.api::<Deployment>().get(name).await.ok()?;
            let status = d.status?;
            let complete = status.updated_replicas == Some(replicas)
                && status.available_replicas == Some(replicas)
                && status.replicas == Some(replicas)
                && status.observed_generation == d.metadata.generation;
            let rss = replica_sets_of(cluster, name).await;
            let current = rss.iter().any(|rs| {
                image_of(rs) == image
                    && rs.spec.as_ref().and_then(|spec| spec.replicas) == Some(replicas)
            });
            (complete && current).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_rollout_and_rollback() {
    let cluster = Cluster::start("replicaset,deployment").await;
    let d_api = cluster.api::<Deployment>();
    d_api
        .create(&deployment("roll", 4, "image:v1"), &PostParams::default())
        .await
        .expect("create deployment");
    wait_rollout_complete(&cluster, "roll", "image:v1", 4).await;
    let first = replica_sets_of(&cluster, "roll").await;
    assert_eq!(first.len(), 1);
    let hash = first[0].metadata.labels.as_ref().unwrap()["pod-template-hash"].clone();
    assert_eq!(
        first[0].metadata.name.as_deref(),
        Some(format!("roll-{hash}").as_str())
    );

    // Roll out v2; with maxSurge 1 and maxUnavailable 1 there are never more than 5
    // pods and never fewer than 3 ready ones.
    d_api
        .patch(
            "roll",
            PatchType::StrategicMerge,
            &json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "image:v2"}]}}}}),
        )
        .await
        .expect("update template");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut max_pods = 0;
    let mut min_ready = usize::MAX;
    loop {
        let (pods, ready) = pod_counts(&cluster, "roll").await;
        max_pods = max_pods.max(pods);
        min_ready = min_ready.min(ready);
        let rss = replica_sets_of(&cluster, "roll").await;
        let total: i32 = rss
            .iter()
            .map(|rs| rs.spec.as_ref().and_then(|spec| spec.replicas).unwrap_or(0))
            .sum();
        assert!(
            total <= 5,
            "replica sets ask for {total} pods, more than replicas + maxSurge"
        );
        let done = rss.iter().any(|rs| {
            image_of(rs) == "image:v2"
                && rs.status.as_ref().and_then(|s| s.available_replicas) == Some(4)
        }) && rss.iter().all(|rs| {
            image_of(rs) == "image:v2" || rs.spec.as_ref().and_then(|s| s.replicas) == Some(0)
        });
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "rollout to v2 did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        max_pods <= 5,
        "saw {max_pods} pods, more than replicas + maxSurge"
    );
    assert!(
        min_ready >= 3,
        "saw {min_ready} ready pods, fewer than replicas - maxUnavailable"
    );
    wait_rollout_complete(&cluster, "roll", "image:v2", 4).await;

    let revisions: BTreeMap<String, String> = replica_sets_of(&cluster, "roll")
        .await
        .into_iter()
        .map(|rs| {
            (
                image_of(&rs),
                rs.metadata.annotations.unwrap()["deployment.kubernetes.io/revision"].clone(),
            )
        })
        .collect();
    assert_eq!(revisions["image:v1"], "1");
    assert_eq!(revisions["image:v2"], "2");

    // Rollback as `kubectl rollout undo` does it: write the old template back.
    d_api
        .patch(
            "roll",
            PatchType::StrategicMerge,
            &json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "image:v1"}]}}}}),
        )
        .await
        .expect("roll back template");
    wait_rollout_complete(&cluster, "roll", "image:v1", 4).await;
    let rss = replica_sets_of(&cluster, "roll").await;
    assert_eq!(rss.len(), 2, "rollback reuses the old replica set");
    let v1 = rss.iter().find(|rs| image_of(rs) == "image:v1").unwrap();
    assert_eq!(
        v1.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"],
        "3"
    );
    let d = eventually("deployment revision 3", || async {
        let d = d_api.get("roll").await.ok()?;
        (d.metadata
            .annotations
            .as_ref()?
            .get("deployment.kubernetes.io/revision")?
            == "3")
            .then_some(d)
    })
    .await;
    let conditions = d.status.unwrap().conditions.unwrap();
    assert!(
        conditions
            .iter()
            .any(|c| c.type_ == "Available" && c.status == "True")
    );
    assert!(
        conditions
            .iter()
            .any(|c| c.type_ == "Progressing"
                && c.reason.as_deref() == Some("NewReplicaSetAvailable"))
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_runs_to_completion() {
    let cluster = Cluster::start("job").await;
    let job: Job = serde_json::from_value(json!({
        "metadata": { "name": "batch", "namespace": "default" },
        "spec": {
            "completions": 3,
            "parallelism": 2,
            "template": {
                "metadata": { "labels": { "complete": "true" } },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{ "name": "c", "image": "busybox" }]
                }
            }
        }
    }))
    .expect("valid job");
    let jobs = cluster.api::<Job>();
    jobs.create(&job, &PostParams::default())
        .await
        .expect("create job");

    let status = eventually("job complete", || async {
        let job = jobs.get("batch").await.ok()?;
        let status = job.status?;
        let complete = status
            .conditions
            .as_ref()?
            .iter()
            .any(|c| c.type_ == "Complete" && c.status == "True");
        complete.then_some(status)
    })
    .await;
    assert_eq!(status.succeeded, Some(3));
    assert!(status.completion_time.is_some());

    let pods = cluster
        .api::<Pod>()
        .list(&ListParams::default().labels("complete=true"))
        .await
        .expect("list pods")
        .items;
    let succeeded = pods
        .iter()
        .filter(|pod| pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded"))
        .count();
    assert_eq!(succeeded, 3, "exactly completions pods ran");
    for pod in &pods {
        let finalizers = pod.metadata.finalizers.clone().unwrap_or_default();
        assert!(
            !finalizers.contains(&"batch.kubernetes.io/job-tracking".to_string()),
            "finished pods lose the tracking finalizer"
        );
    }
    cluster.stop().await;
}
