//! The horizontal pod autoscaler against a real kube-apiserver started in-process
//! on a loopback port, with the ReplicaSet and Deployment controllers. There is no
//! kubelet: a task of the test marks pods Running and Ready through pods/status.
//!
//! The kube-apiserver serves no metrics APIs (there is no aggregated
//! metrics-server), so the first test shows what the production metric source
//! reports then. The other two feed PodMetrics from a test metric source through
//! the [`MetricsClient`] trait. They show scaling up, the maxReplicas clamp and a
//! scale down held by the stabilization window, and that an autoscaler made by
//! `kubectl autoscale` scales its Deployment.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use apimachinery::labels::Selector;
use async_trait::async_trait;
use client::api::{Api, ListParams, PostParams};
use client::rest::{PatchType, RestClient};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition,
};
use k8s_openapi::api::core::v1::{Event, Pod, PodCondition, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube_controller_manager::context::ControllerContext;
use kube_controller_manager::controller_utils::now;
use kube_controller_manager::options::ControllerManagerOptions;
use kube_controller_manager::podautoscaler::HorizontalController;
use kube_controller_manager::podautoscaler::metrics::{
    MetricsClient, MetricsError, PodMetric, PodMetricsInfo,
};
use kube_controller_manager::registry::start_controllers;
use serde_json::json;
use tokio::sync::watch;

use crate::common::{self, TestServer};

/// A kube-apiserver on 127.0.0.1 with an embedded store in a temp dir, the
/// controller manager running against it, and a kubeconfig for kubectl.
struct Cluster {
    server: TestServer,
    client: RestClient,
    stop: watch::Sender<bool>,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts the cluster with the `controllers` of the registry and, when
    /// `cpu_usage` is set, a horizontal pod autoscaler controller reading a
    /// [`TestMetrics`] source that reports it.
    async fn start(controllers: &str, cpu_usage: Option<Arc<AtomicI64>>) -> Cluster {
        let server = TestServer::start().await;
        let client = server.client().await;
        let dir = tempfile::tempdir().expect("create temp dir");
        let kubeconfig = server.write_kubeconfig(dir.path());

        let mut options = ControllerManagerOptions::for_tests();
        options.controllers = controllers.split(',').map(str::to_string).collect();
        // One sync per second keeps the test short; the algorithm does not depend on it.
        options.horizontal_pod_autoscaler_sync_period = Duration::from_secs(1);
        let ctx = ControllerContext::new(client.clone(), Arc::new(options));
        let (stop, cancel) = watch::channel(false);
        if let Some(usage) = cpu_usage {
            let metrics = Arc::new(TestMetrics {
                client: client.clone(),
                usage,
            });
            let controller = HorizontalController::with_metrics_client(&ctx, metrics);
            tokio::spawn(controller.run(2, cancel.clone()));
        }
        // Starts the informers too, including those of the controller above.
        start_controllers(&ctx, cancel.clone());
        tokio::spawn(play_kubelet(client.clone(), cancel));

        Cluster {
            server,
            client,
            stop,
            kubeconfig,
            _dir: dir,
        }
    }

    fn api<K: kube_controller_manager::client_ext::Resource>(&self) -> Api<K> {
        kube_controller_manager::client_ext::api_in(self.client.clone(), "default")
    }

    /// Runs kubectl against this cluster and returns its output, failing the test
    /// when it exits with an error.
    async fn kubectl(&self, args: &[&str]) -> String {
        let kubeconfig = self.kubeconfig.clone();
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new("kubectl")
                .args(&args)
                .env("KUBECONFIG", kubeconfig)
                .env_remove("KUBERNETES_SERVICE_HOST")
                .output()
                .expect("run kubectl: is kubectl installed?")
        })
        .await
        .expect("join kubectl");
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(
            output.status.success(),
            "kubectl failed: {}{stdout}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        self.server.stop().await;
    }
}

/// Marks every pod without a Running phase Running and Ready, with a start time.
async fn play_kubelet(client: RestClient, cancel: watch::Receiver<bool>) {
    let pods: Api<Pod> = Api::namespaced(client, "default");
    while !*cancel.borrow() {
        if let Ok(list) = pods.list(&ListParams::default()).await {
            for pod in list.items {
                let phase = pod.status.as_ref().and_then(|status| status.phase.clone());
                if phase.as_deref() == Some("Running") || pod.metadata.deletion_timestamp.is_some()
                {
                    continue;
                }
                let mut updated = pod.clone();
                let status = updated.status.get_or_insert_with(PodStatus::default);
                status.phase = Some("Running".to_string());
                status.start_time = Some(Time(now()));
                status.conditions = Some(vec![PodCondition {
                    type_: "Ready".to_string(),
                    status: "True".to_string(),
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

/// Polls `check` every 100 ms until it returns `Some`, failing after 90 s.
async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    common::eventually(what, Duration::from_secs(90), check).await
}

fn condition(
    autoscaler: &HorizontalPodAutoscaler,
    condition_type: &str,
) -> Option<HorizontalPodAutoscalerCondition> {
    autoscaler
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|condition| condition.type_ == condition_type)
        .cloned()
}

/// Waits for the condition `condition_type` of the autoscaler `name` to have
/// `reason`, and returns it.
async fn wait_condition(
    cluster: &Cluster,
    name: &str,
    condition_type: &str,
    reason: &str,
) -> HorizontalPodAutoscalerCondition {
    let api = cluster.api::<HorizontalPodAutoscaler>();
    eventually(&format!("{name} {condition_type} {reason}"), || async {
        let autoscaler = api.get(name).await.ok()?;
        condition(&autoscaler, condition_type).filter(|c| c.reason.as_deref() == Some(reason))
    })
    .await
}

/// Waits for an event of the autoscaler `name` with `reason` and returns its
/// message. `message_contains` selects among several events with that reason.
async fn wait_event(cluster: &Cluster, name: &str, reason: &str, message_contains: &str) -> Event {
    let api = cluster.api::<Event>();
    eventually(&format!("{reason} event of {name}"), || async {
        let events = api.list(&ListParams::default()).await.ok()?.items;
        events.into_iter().find(|event| {
            event.involved_object.kind.as_deref() == Some("HorizontalPodAutoscaler")
                && event.involved_object.name.as_deref() == Some(name)
                && event.reason.as_deref() == Some(reason)
                && event
                    .message
                    .as_deref()
                    .is_some_and(|message| message.contains(message_contains))
        })
    })
    .await
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": { "name": name, "namespace": "default" },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": { "containers": [{
                    "name": "c",
                    "image": "busybox",
                    "resources": { "requests": { "cpu": "100m" } }
                }] }
            }
        }
    }))
    .expect("valid deployment")
}

fn replica_set(name: &str, replicas: i32) -> ReplicaSet {
    serde_json::from_value(json!({
        "metadata": { "name": name, "namespace": "default" },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": { "containers": [{
                    "name": "c",
                    "image": "busybox",
                    "resources": { "requests": { "cpu": "100m" } }
                }] }
            }
        }
    }))
    .expect("valid replica set")
}

/// The error upstream reports for a cpu utilization metric when no metrics API is
/// served.
const CPU_METRICS_MISSING: &str = "failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autoscaler_without_metrics_api_reports_it() {
    let cluster = Cluster::start("deployment,replicaset,horizontalpodautoscaling", None).await;
    cluster
        .api::<Deployment>()
        .create(&deployment("x", 2), &PostParams::default())
        .await
        .expect("create deployment");
    let output = cluster
        .kubectl(&[
            "autoscale",
            "deployment",
            "x",
            "--cpu-percent=50",
            "--min=1",
            "--max=5",
        ])
        .await;
    assert!(output.contains("autoscaled"), "{output}");

    let active = wait_condition(&cluster, "x", "ScalingActive", "FailedGetResourceMetric").await;
    assert_eq!(active.status, "False");
    let message = active.message.unwrap_or_default();
    assert_eq!(
        message,
        format!("the HPA was unable to compute the replica count: {CPU_METRICS_MISSING}")
    );
    let able = wait_condition(&cluster, "x", "AbleToScale", "SucceededGetScale").await;
    assert_eq!(able.status, "True");

    let event = wait_event(
        &cluster,
        "x",
        "FailedGetResourceMetric",
        "resource metrics API",
    )
    .await;
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert_eq!(event.message.as_deref(), Some(CPU_METRICS_MISSING));
    assert_eq!(
        event.source.and_then(|source| source.component).as_deref(),
        Some("horizontal-pod-autoscaler")
    );
    let event = wait_event(&cluster, "x", "FailedComputeMetricsReplicas", "").await;
    let message = event.message.unwrap_or_default();
    assert_eq!(
        message,
        format!(
            "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: {CPU_METRICS_MISSING}"
        )
    );

    let autoscaler = cluster
        .api::<HorizontalPodAutoscaler>()
        .get("x")
        .await
        .expect("get autoscaler");
    let status = autoscaler.status.expect("status written");
    assert_eq!(status.current_replicas, Some(2));
    assert_eq!(status.last_scale_time, None);
    let replicas = cluster
        .api::<Deployment>()
        .get("x")
        .await
        .expect("get deployment")
        .spec
        .and_then(|spec| spec.replicas);
    assert_eq!(replicas, Some(2), "the target must not be scaled");

    // An External metric reports the external metrics API as missing.
    cluster
        .api::<Deployment>()
        .create(&deployment("queue", 1), &PostParams::default())
        .await
        .expect("create deployment");
    let external: HorizontalPodAutoscaler = serde_json::from_value(json!({
        "metadata": { "name": "queue", "namespace": "default" },
        "spec": {
            "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": "queue" },
            "minReplicas": 1,
            "maxReplicas": 3,
            "metrics": [{
                "type": "External",
                "external": {
                    "metric": { "name": "queue_depth" },
                    "target": { "type": "AverageValue", "averageValue": "30" }
                }
            }]
        }
    }))
    .expect("valid autoscaler");
    cluster
        .api::<HorizontalPodAutoscaler>()
        .create(&external, &PostParams::default())
        .await
        .expect("create autoscaler");
    let active = wait_condition(
        &cluster,
        "queue",
        "ScalingActive",
        "FailedGetExternalMetric",
    )
    .await;
    let message = active.message.unwrap_or_default();
    assert!(
        message.contains("unable to fetch metrics from external metrics API: the server could not find the requested resource (get queue_depth.external.metrics.k8s.io)"),
        "{message}"
    );

    // A Pods metric reports the custom metrics API as missing.
    cluster
        .api::<Deployment>()
        .create(&deployment("requests", 1), &PostParams::default())
        .await
        .expect("create deployment");
    create_autoscaler(
        &cluster,
        json!({
            "metadata": { "name": "requests", "namespace": "default" },
            "spec": {
                "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": "requests" },
                "maxReplicas": 3,
                "metrics": [{
                    "type": "Pods",
                    "pods": {
                        "metric": { "name": "requests_per_second" },
                        "target": { "type": "AverageValue", "averageValue": "10" }
                    }
                }]
            }
        }),
    )
    .await;
    let active = wait_condition(&cluster, "requests", "ScalingActive", "FailedGetPodsMetric").await;
    let message = active.message.unwrap_or_default();
    assert!(
        message.contains("unable to get metric requests_per_second: unable to fetch metrics from custom metrics API: the server could not find the requested resource (get pods.custom.metrics.k8s.io)"),
        "{message}"
    );

    // A kind that no API serves cannot be scaled.
    create_autoscaler(
        &cluster,
        json!({
            "metadata": { "name": "ghost", "namespace": "default" },
            "spec": {
                "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Ghost", "name": "x" },
                "maxReplicas": 3
            }
        }),
    )
    .await;
    let able = wait_condition(&cluster, "ghost", "AbleToScale", "FailedGetScale").await;
    assert_eq!(able.status, "False");
    assert_eq!(
        able.message.as_deref(),
        Some(
            "the HPA controller was unable to get the target's current scale: no matches for kind \"Ghost\" in group \"apps\""
        )
    );
    wait_event(&cluster, "ghost", "FailedGetScale", "no matches for kind").await;

    // kubectl shows what the controller wrote.
    let table = cluster.kubectl(&["get", "hpa", "x"]).await;
    assert!(table.contains("Deployment/x"), "{table}");
    assert!(table.contains("cpu: <unknown>/50%"), "{table}");
    let description = cluster.kubectl(&["describe", "hpa", "x"]).await;
    assert!(description.contains("SucceededGetScale"), "{description}");
    assert!(
        description.contains("FailedComputeMetricsReplicas"),
        "{description}"
    );

    // A second autoscaler of the same pods makes both ambiguous.
    create_autoscaler(
        &cluster,
        json!({
            "metadata": { "name": "x-copy", "namespace": "default" },
            "spec": {
                "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": "x" },
                "maxReplicas": 3
            }
        }),
    )
    .await;
    for name in ["x", "x-copy"] {
        let active = wait_condition(&cluster, name, "ScalingActive", "AmbiguousSelector").await;
        assert_eq!(
            active.message.as_deref(),
            Some(
                "pods by selector app=x are controlled by multiple HPAs: [default/x default/x-copy]"
            )
        );
    }
    cluster.stop().await;
}

async fn create_autoscaler(cluster: &Cluster, manifest: serde_json::Value) {
    let autoscaler: HorizontalPodAutoscaler =
        serde_json::from_value(manifest).expect("valid autoscaler");
    cluster
        .api::<HorizontalPodAutoscaler>()
        .create(&autoscaler, &PostParams::default())
        .await
        .expect("create autoscaler");
}

/// A metric source that reports `usage` millicores of cpu for every running pod
/// matching the selector, sampled now over a one-second window. Pods, Object and
/// External metrics are not served.
struct TestMetrics {
    client: RestClient,
    usage: Arc<AtomicI64>,
}

#[async_trait]
impl MetricsClient for TestMetrics {
    async fn resource_metric(
        &self,
        resource: &str,
        namespace: &str,
        selector: &Selector,
        _container: &str,
    ) -> Result<(PodMetricsInfo, Timestamp), MetricsError> {
        if resource != "cpu" {
            return Err(MetricsError::Invalid(format!(
                "no {resource} samples in this test"
            )));
        }
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let list = pods
            .list(&ListParams::default().labels(&selector.to_string()))
            .await
            .map_err(|err| MetricsError::Invalid(err.to_string()))?;
        let sampled = now();
        let metrics: PodMetricsInfo = list
            .items
            .iter()
            .filter(|pod| {
                pod.status
                    .as_ref()
                    .and_then(|status| status.phase.as_deref())
                    == Some("Running")
            })
            .map(|pod| {
                let metric = PodMetric {
                    timestamp: sampled,
                    window: Duration::from_secs(1),
                    value: self.usage.load(Ordering::SeqCst),
                };
                (pod.metadata.name.clone().unwrap_or_default(), metric)
            })
            .collect();
        if metrics.is_empty() {
            return Err(MetricsError::Empty {
                api: "resource metrics API",
            });
        }
        Ok((metrics, sampled))
    }

    async fn pods_metric(
        &self,
        _metric_name: &str,
        _namespace: &str,
        _selector: &Selector,
        _metric_selector: &Selector,
    ) -> Result<(PodMetricsInfo, Timestamp), MetricsError> {
        Err(MetricsError::Invalid("no pods metrics in this test".into()))
    }

    async fn object_metric(
        &self,
        _metric_name: &str,
        _namespace: &str,
        _object: &CrossVersionObjectReference,
        _metric_selector: &Selector,
    ) -> Result<(i64, Timestamp), MetricsError> {
        Err(MetricsError::Invalid(
            "no object metrics in this test".into(),
        ))
    }

    async fn external_metric(
        &self,
        _metric_name: &str,
        _namespace: &str,
        _metric_selector: &Selector,
    ) -> Result<(Vec<i64>, Timestamp), MetricsError> {
        Err(MetricsError::Invalid(
            "no external metrics in this test".into(),
        ))
    }
}

async fn replicas_of(cluster: &Cluster, name: &str) -> Option<i32> {
    cluster
        .api::<ReplicaSet>()
        .get(name)
        .await
        .ok()?
        .spec?
        .replicas
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autoscaler_scales_on_test_metrics() {
    let usage = Arc::new(AtomicI64::new(100));
    let cluster = Cluster::start("replicaset", Some(usage.clone())).await;
    cluster
        .api::<ReplicaSet>()
        .create(&replica_set("web", 2), &PostParams::default())
        .await
        .expect("create replica set");
    // 100m of a 100m request is 200% of the 50% target.
    let autoscaler: HorizontalPodAutoscaler = serde_json::from_value(json!({
        "metadata": { "name": "web", "namespace": "default" },
        "spec": {
            "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web" },
            "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": [{
                "type": "Resource",
                "resource": { "name": "cpu", "target": { "type": "Utilization", "averageUtilization": 50 } }
            }],
            "behavior": { "scaleDown": { "stabilizationWindowSeconds": 10 } }
        }
    }))
    .expect("valid autoscaler");
    cluster
        .api::<HorizontalPodAutoscaler>()
        .create(&autoscaler, &PostParams::default())
        .await
        .expect("create autoscaler");

    let event = wait_event(&cluster, "web", "SuccessfulRescale", "New size: 4;").await;
    assert_eq!(
        event.message.as_deref(),
        Some("New size: 4; reason: cpu resource utilization (percentage of request) above target")
    );

    // With four pods at 200% the proposal is 8, clamped to maxReplicas.
    let limited = wait_condition(&cluster, "web", "ScalingLimited", "TooManyReplicas").await;
    assert_eq!(limited.status, "True");
    assert_eq!(
        limited.message.as_deref(),
        Some("the desired replica count is more than the maximum replica count")
    );
    let scaled = eventually("replica set at 5", || async {
        (replicas_of(&cluster, "web").await == Some(5)).then_some(())
    })
    .await;
    assert_eq!(scaled, ());
    let (generation, status) = eventually("status at 5 replicas", || async {
        let autoscaler = cluster
            .api::<HorizontalPodAutoscaler>()
            .get("web")
            .await
            .ok()?;
        let status = autoscaler.status?;
        (status.current_replicas == Some(5)).then_some((autoscaler.metadata.generation, status))
    })
    .await;
    assert_eq!(status.desired_replicas, 5);
    assert!(status.last_scale_time.is_some());
    assert_eq!(status.observed_generation, generation);
    let metric = status
        .current_metrics
        .and_then(|metrics| metrics.into_iter().next())
        .and_then(|metric| metric.resource)
        .expect("a cpu metric status");
    assert_eq!(metric.current.average_utilization, Some(100));
    assert_eq!(
        metric
            .current
            .average_value
            .map(|quantity| quantity.0)
            .as_deref(),
        Some("100m")
    );
    let active = condition(
        &cluster
            .api::<HorizontalPodAutoscaler>()
            .get("web")
            .await
            .expect("get autoscaler"),
        "ScalingActive",
    )
    .expect("ScalingActive set");
    assert_eq!(active.reason.as_deref(), Some("ValidMetricFound"));

    // 20m of 100m is 20%, 0.4 of the 50% target: the proposal is 2, held for the
    // 10 s window by the recent proposals of 10.
    usage.store(20, Ordering::SeqCst);
    let held = eventually("a held scale down", || async {
        let autoscaler = cluster
            .api::<HorizontalPodAutoscaler>()
            .get("web")
            .await
            .ok()?;
        let able = condition(&autoscaler, "AbleToScale")?;
        (able.reason.as_deref() == Some("ScaleDownStabilized")).then_some(())
    })
    .await;
    assert_eq!(held, ());
    assert_eq!(replicas_of(&cluster, "web").await, Some(5));

    let event = wait_event(&cluster, "web", "SuccessfulRescale", "New size: 2;").await;
    assert_eq!(
        event.message.as_deref(),
        Some("New size: 2; reason: All metrics below target")
    );
    assert_eq!(replicas_of(&cluster, "web").await, Some(2));

    // Scaling the target to zero turns autoscaling off.
    cluster
        .api::<ReplicaSet>()
        .patch("web", PatchType::Merge, &json!({"spec": {"replicas": 0}}))
        .await
        .expect("scale to zero");
    let disabled = wait_condition(&cluster, "web", "ScalingActive", "ScalingDisabled").await;
    assert_eq!(disabled.status, "False");
    assert_eq!(
        disabled.message.as_deref(),
        Some("scaling is disabled since the replica count of the target is zero")
    );
    assert_eq!(replicas_of(&cluster, "web").await, Some(0));
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_autoscale_scales_deployment() {
    let usage = Arc::new(AtomicI64::new(100));
    let cluster = Cluster::start("deployment,replicaset", Some(usage)).await;
    cluster
        .api::<Deployment>()
        .create(&deployment("web", 2), &PostParams::default())
        .await
        .expect("create deployment");
    cluster
        .kubectl(&[
            "autoscale",
            "deployment",
            "web",
            "--cpu-percent=50",
            "--min=1",
            "--max=3",
        ])
        .await;

    // Two pods at 200% of the target propose 4. Without spec.behavior the limit is
    // max(2 * 2, 4), so maxReplicas is what clamps.
    let event = wait_event(&cluster, "web", "SuccessfulRescale", "New size: 3;").await;
    assert_eq!(
        event.message.as_deref(),
        Some("New size: 3; reason: cpu resource utilization (percentage of request) above target")
    );
    let limited = wait_condition(&cluster, "web", "ScalingLimited", "TooManyReplicas").await;
    assert_eq!(limited.status, "True");
    let replicas = cluster
        .api::<Deployment>()
        .get("web")
        .await
        .expect("get deployment")
        .spec
        .and_then(|spec| spec.replicas);
    assert_eq!(replicas, Some(3));
    cluster.stop().await;
}
