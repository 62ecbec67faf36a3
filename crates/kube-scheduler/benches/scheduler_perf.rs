//! Scheduling throughput through a real API server, after upstream's scheduler_perf.
//! An in-process kube-apiserver runs with the embedded store, nodes are created as
//! objects, a scheduler starts as the daemon starts it (informers, REST bindings), and
//! pods are created through the API while it runs. For each workload the benchmark creates the
//! nodes and the initial pods, waits until those are bound, then creates the measured
//! pods and times them until every one is bound.
//!
//! It prints, per workload, the measured pods per second, the p50 and p99 of the
//! scheduler's attempt duration (scheduling cycle plus binding, from its
//! `scheduler_scheduling_attempt_duration_seconds` histogram over the measured phase)
//! and the p50 and p99 of the time from a pod's creation to its binding as the
//! benchmark's own informer sees it, which includes the time the pod waited in the
//! queue.
//!
//! Run: `cargo bench -p kube-scheduler --bench scheduler_perf -- [WORKLOAD] [NODES]
//! [MEASURED_PODS] [INITIAL_PODS]`. WORKLOAD is `SchedulingBasic`,
//! `SchedulingPodAntiAffinity`, `TopologySpreading`, `PreemptionBasic` or `all`
//! (the default); the sizes default to each workload's upstream size.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use client::config::{AuthConfig, RestConfig, TlsConfig};
use client::informer::{EventHandlerFuncs, SharedInformerFactory};
use client::rest::{PatchType, RestClient};
use k8s_openapi::api::core::v1::Pod;
use kube_apiserver::apiserver;
use kube_apiserver::options::Options;
use kube_scheduler::app;
use kube_scheduler::config::KubeSchedulerConfiguration;
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore, watch};

/// The allocator of both binaries, so that the measurement matches what ships.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Requests the benchmark keeps in flight while creating objects.
const CREATE_CONCURRENCY: usize = 64;
/// How long one phase may take before the benchmark gives up.
const PHASE_TIMEOUT: Duration = Duration::from_secs(1800);

/// A workload: what the nodes and pods look like and how many of each.
#[derive(Clone, Copy)]
struct Workload {
    name: &'static str,
    nodes: usize,
    initial_pods: usize,
    measured_pods: usize,
    /// The node labels beyond the hostname.
    node_labels: fn(usize) -> Value,
    initial_pod: fn() -> Value,
    measured_pod: fn() -> Value,
    initial_namespace: &'static str,
    measured_namespace: &'static str,
}

fn container(cpu: &str) -> Value {
    json!([{"name": "pause", "image": "registry.k8s.io/pause:3.10",
        "ports": [{"containerPort": 80}],
        "resources": {"requests": {"cpu": cpu, "memory": "500Mi"},
            "limits": {"cpu": cpu, "memory": "500Mi"}}}])
}

fn no_labels(_: usize) -> Value {
    json!({})
}

fn zone_labels(i: usize) -> Value {
    json!({"topology.kubernetes.io/zone": format!("moon-{}", i % 3 + 1)})
}

/// Upstream's `pod-default.yaml`.
fn default_pod() -> Value {
    json!({"metadata": {"generateName": "pod-"}, "spec": {"containers": container("100m")}})
}

/// Upstream's `pod-with-pod-anti-affinity.yaml`: green pods, at most one per node.
fn anti_affinity_pod() -> Value {
    json!({"metadata": {"generateName": "anti-affinity-pod-", "labels": {"color": "green"}},
        "spec": {"containers": container("100m"), "affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{
                "labelSelector": {"matchLabels": {"color": "green"}},
                "topologyKey": "kubernetes.io/hostname",
                "namespaces": ["sched-0", "sched-1"]}]}}}})
}

/// Upstream's `pod-with-topology-spreading.yaml`: blue pods, zones within 5 of each
/// other.
fn spreading_pod() -> Value {
    json!({"metadata": {"generateName": "spreading-pod-", "labels": {"color": "blue"}},
        "spec": {"containers": container("100m"), "topologySpreadConstraints": [{
            "maxSkew": 5, "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"color": "blue"}}}]}})
}

/// Upstream's `pod-low-priority.yaml`: four fill a 4-CPU node.
fn low_priority_pod() -> Value {
    json!({"metadata": {"generateName": "low-"}, "spec": {"containers": container("900m"),
        "priorityClassName": "bench-low", "terminationGracePeriodSeconds": 0}})
}

/// Upstream's `pod-high-priority.yaml`: each needs three low-priority pods evicted.
fn high_priority_pod() -> Value {
    json!({"metadata": {"generateName": "high-"}, "spec": {"containers": container("3000m"),
        "priorityClassName": "bench-high"}})
}

fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "SchedulingBasic",
            nodes: 5000,
            initial_pods: 1000,
            measured_pods: 10000,
            node_labels: no_labels,
            initial_pod: default_pod,
            measured_pod: default_pod,
            initial_namespace: "default",
            measured_namespace: "default",
        },
        Workload {
            name: "SchedulingPodAntiAffinity",
            nodes: 5000,
            initial_pods: 1000,
            measured_pods: 1000,
            node_labels: no_labels,
            initial_pod: anti_affinity_pod,
            measured_pod: anti_affinity_pod,
            initial_namespace: "sched-0",
            measured_namespace: "sched-1",
        },
        Workload {
            name: "TopologySpreading",
            nodes: 5000,
            initial_pods: 5000,
            measured_pods: 5000,
            node_labels: zone_labels,
            initial_pod: default_pod,
            measured_pod: spreading_pod,
            initial_namespace: "default",
            measured_namespace: "default",
        },
        Workload {
            name: "PreemptionBasic",
            nodes: 5000,
            initial_pods: 20000,
            measured_pods: 5000,
            node_labels: no_labels,
            initial_pod: low_priority_pod,
            measured_pod: high_priority_pod,
            initial_namespace: "default",
            measured_namespace: "default",
        },
    ]
}

fn rest_config(host: String, cert_file: std::path::PathBuf, qps: f32, burst: u32) -> RestConfig {
    RestConfig {
        host,
        tls: TlsConfig {
            ca_file: Some(cert_file),
            ..TlsConfig::default()
        },
        auth: AuthConfig {
            token: Some("bench-token".to_string()),
            ..AuthConfig::default()
        },
        qps,
        burst,
        timeout: Some(Duration::from_secs(60)),
        user_agent: String::new(),
    }
}

/// Creates `count` objects built by `body(i)` at `path` with bounded concurrency.
/// Returns each object's name and the instant its create returned.
async fn create_all(
    client: &RestClient,
    path: &str,
    count: usize,
    body: impl Fn(usize) -> Value,
) -> Vec<(String, Instant)> {
    let permits = Arc::new(Semaphore::new(CREATE_CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let permit = permits.clone().acquire_owned().await.expect("semaphore");
        let client = client.clone();
        let path = path.to_string();
        let body = body(i);
        tasks.spawn(async move {
            let created: Value = client
                .post(&path)
                .json(&body)
                .request_json()
                .await
                .unwrap_or_else(|error| panic!("create in {path}: {error}"));
            drop(permit);
            let name = created["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (name, Instant::now())
        });
    }
    let mut created = Vec::with_capacity(count);
    while let Some(result) = tasks.join_next().await {
        created.push(result.expect("create task"));
    }
    created
}

async fn create_nodes(client: &RestClient, workload: &Workload) {
    let labels = workload.node_labels;
    let created = create_all(client, "/api/v1/nodes", workload.nodes, |i| {
        let name = format!("node-{i}");
        let mut node_labels = labels(i);
        node_labels["kubernetes.io/hostname"] = json!(name);
        json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": node_labels}})
    })
    .await;
    // Allocatable lives in status, which a create resets (upstream's node-default.yaml).
    let permits = Arc::new(Semaphore::new(CREATE_CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for (name, _) in created {
        let permit = permits.clone().acquire_owned().await.expect("semaphore");
        let client = client.clone();
        tasks.spawn(async move {
            let status = json!({"status": {
                "capacity": {"pods": "110", "cpu": "4", "memory": "32Gi"},
                "allocatable": {"pods": "110", "cpu": "4", "memory": "32Gi"},
                "conditions": [{"type": "Ready", "status": "True"}],
                "phase": "Running"}});
            let _: Value = client
                .patch(&format!("/api/v1/nodes/{name}/status"), PatchType::Merge)
                .json(&status)
                .request_json()
                .await
                .unwrap_or_else(|error| panic!("set status of node {name}: {error}"));
            drop(permit);
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.expect("node status task");
    }
}

/// Observes pod bindings through an informer of the benchmark's own.
struct BindingWatch {
    bound: Mutex<HashMap<String, Instant>>,
    count: AtomicUsize,
    target: AtomicUsize,
    namespace: Mutex<String>,
    done: Notify,
}

impl BindingWatch {
    fn record(&self, pod: &Pod) {
        let assigned = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.node_name.as_deref())
            .is_some_and(|name| !name.is_empty());
        let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
        if !assigned || *self.namespace.lock().expect("lock") != namespace {
            return;
        }
        let name = pod.metadata.name.clone().unwrap_or_default();
        let mut bound = self.bound.lock().expect("lock");
        if bound.insert(name, Instant::now()).is_none() {
            let count = self.count.fetch_add(1, Ordering::SeqCst) + 1;
            if count >= self.target.load(Ordering::SeqCst) {
                self.done.notify_one();
            }
        }
    }

    /// Starts counting bound pods of `namespace` until `target` of them are bound.
    fn reset(&self, namespace: &str, target: usize) {
        *self.namespace.lock().expect("lock") = namespace.to_string();
        self.bound.lock().expect("lock").clear();
        self.count.store(0, Ordering::SeqCst);
        self.target.store(target, Ordering::SeqCst);
    }

    async fn wait(&self, what: &str) {
        let deadline = Instant::now() + PHASE_TIMEOUT;
        while self.count.load(Ordering::SeqCst) < self.target.load(Ordering::SeqCst) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "timed out waiting for {what}: {} of {} pods bound",
                    self.count.load(Ordering::SeqCst),
                    self.target.load(Ordering::SeqCst)
                );
            }
            let _ =
                tokio::time::timeout(left.min(Duration::from_secs(1)), self.done.notified()).await;
        }
    }
}

/// Returns the cumulative bucket counts of the attempt duration histogram of
/// scheduled attempts, by upper bound in seconds.
fn attempt_buckets(metrics_text: &str) -> Vec<(f64, f64)> {
    let mut buckets = Vec::new();
    for line in metrics_text.lines() {
        if !line.starts_with("scheduler_scheduling_attempt_duration_seconds_bucket")
            || !line.contains("result=\"scheduled\"")
        {
            continue;
        }
        let Some(le_start) = line.find("le=\"") else {
            continue;
        };
        let rest = &line[le_start + 4..];
        let Some(le_end) = rest.find('"') else {
            continue;
        };
        let bound = match &rest[..le_end] {
            "+Inf" => f64::INFINITY,
            value => value.parse().unwrap_or(f64::INFINITY),
        };
        let count = line
            .rsplit(' ')
            .next()
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or(0.0);
        buckets.push((bound, count));
    }
    buckets
}

/// Estimates a quantile from cumulative buckets by linear interpolation inside the
/// bucket, as Prometheus' `histogram_quantile` does.
fn histogram_quantile(quantile: f64, buckets: &[(f64, f64)]) -> f64 {
    let Some(&(_, total)) = buckets.last() else {
        return f64::NAN;
    };
    if total == 0.0 {
        return f64::NAN;
    }
    let rank = quantile * total;
    let mut previous = (0.0, 0.0);
    for &(bound, count) in buckets {
        if count >= rank {
            if bound.is_infinite() {
                return previous.0;
            }
            let within = if count > previous.1 {
                (rank - previous.1) / (count - previous.1)
            } else {
                0.0
            };
            return previous.0 + (bound - previous.0) * within;
        }
        previous = (bound, count);
    }
    previous.0
}

fn percentile(sorted: &[Duration], quantile: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * quantile).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

async fn run(workload: Workload) {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = Options::try_parse_from([
        "kube-apiserver".to_string(),
        "--bind-address=127.0.0.1".to_string(),
        "--secure-port=0".to_string(),
        format!("--data-dir={}", dir.path().join("data").display()),
        format!("--cert-dir={}", dir.path().join("certs").display()),
    ])
    .expect("apiserver flags");
    let server = apiserver::start(options)
        .await
        .expect("start kube-apiserver");
    let host = format!("https://127.0.0.1:{}", server.address.port());
    let cert_file = server.certificate.cert_file.clone();
    let client =
        RestClient::new(&rest_config(host.clone(), cert_file.clone(), -1.0, 0)).expect("client");
    while !client
        .get("/readyz")
        .send()
        .await
        .is_ok_and(|response| response.status.is_success())
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    for namespace in ["sched-0", "sched-1"] {
        let _: Value = client
            .post("/api/v1/namespaces")
            .json(
                &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
            )
            .request_json()
            .await
            .expect("create namespace");
    }
    for (name, value) in [("bench-low", 0), ("bench-high", 10)] {
        let _: Value = client
            .post("/apis/scheduling.k8s.io/v1/priorityclasses")
            .json(
                &json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": name}, "value": value}),
            )
            .request_json()
            .await
            .expect("create priority class");
    }

    let start = Instant::now();
    create_nodes(&client, &workload).await;
    let nodes_took = start.elapsed();

    // The scheduler's client has upstream scheduler_perf's limits: 5000 QPS, burst
    // 5000.
    let scheduler_client =
        RestClient::new(&rest_config(host, cert_file, 5000.0, 5000)).expect("scheduler client");
    let (stop, cancel) = watch::channel(false);
    // SCHEDULER_PERF_PARALLELISM sets the configuration's `parallelism` (default 16)
    // to compare the scheduling cycle on fewer threads.
    let mut configuration = KubeSchedulerConfiguration::default();
    if let Some(parallelism) = std::env::var("SCHEDULER_PERF_PARALLELISM")
        .ok()
        .and_then(|value| value.parse().ok())
    {
        configuration.parallelism = parallelism;
    }
    let running = app::start(
        &configuration,
        scheduler_client,
        Arc::new(AtomicBool::new(false)),
        cancel.clone(),
    )
    .await
    .expect("start scheduler");

    let bindings = Arc::new(BindingWatch {
        bound: Mutex::new(HashMap::new()),
        count: AtomicUsize::new(0),
        target: AtomicUsize::new(usize::MAX),
        namespace: Mutex::new(String::new()),
        done: Notify::new(),
    });
    let factory = SharedInformerFactory::new(client.clone(), Duration::ZERO);
    let on_add = bindings.clone();
    let on_update = bindings.clone();
    factory
        .informer::<Pod>()
        .add_event_handler(
            EventHandlerFuncs::new()
                .on_add(move |pod: &Arc<Pod>, _| on_add.record(pod))
                .on_update(move |_, pod: &Arc<Pod>| on_update.record(pod)),
        )
        .expect("pod handler");
    factory.start(cancel.clone());
    factory.wait_for_cache_sync(cancel.clone()).await;

    let start = Instant::now();
    bindings.reset(workload.initial_namespace, workload.initial_pods);
    let initial = workload.initial_pod;
    create_all(
        &client,
        &format!("/api/v1/namespaces/{}/pods", workload.initial_namespace),
        workload.initial_pods,
        |_| initial(),
    )
    .await;
    bindings.wait("the initial pods").await;
    let initial_took = start.elapsed();

    let metrics_before = running.scheduler.metrics.encode();
    bindings.reset(workload.measured_namespace, workload.measured_pods);
    let measured = workload.measured_pod;
    eprintln!(
        "{}: measuring {} pods",
        workload.name, workload.measured_pods
    );
    let start = Instant::now();
    let created = create_all(
        &client,
        &format!("/api/v1/namespaces/{}/pods", workload.measured_namespace),
        workload.measured_pods,
        |_| measured(),
    )
    .await;
    let created_took = start.elapsed();
    bindings.wait("the measured pods").await;
    let elapsed = start.elapsed();
    let metrics_after = running.scheduler.metrics.encode();

    let bound = bindings.bound.lock().expect("lock").clone();
    let mut latencies: Vec<Duration> = created
        .iter()
        .filter_map(|(name, created_at)| {
            bound
                .get(name)
                .map(|bound_at| bound_at.saturating_duration_since(*created_at))
        })
        .collect();
    latencies.sort();
    let before = attempt_buckets(&metrics_before);
    let after = attempt_buckets(&metrics_after);
    let delta: Vec<(f64, f64)> = after
        .iter()
        .map(|(bound, count)| {
            let earlier = before
                .iter()
                .find(|(other, _)| other == bound)
                .map(|(_, count)| *count)
                .unwrap_or(0.0);
            (*bound, count - earlier)
        })
        .collect();

    println!(
        "{}: {} nodes, {} initial pods, {} measured pods",
        workload.name, workload.nodes, workload.initial_pods, workload.measured_pods
    );
    println!(
        "  setup: nodes {:.1?}, initial pods bound in {:.1?}; measured pods created in {:.1?}",
        nodes_took, initial_took, created_took
    );
    println!(
        "  throughput: {:.0} pods/s ({} pods in {:.2?})",
        workload.measured_pods as f64 / elapsed.as_secs_f64(),
        workload.measured_pods,
        elapsed
    );
    println!(
        "  attempt duration p50 {:.1} ms, p99 {:.1} ms; creation to binding p50 {:.1?}, p99 {:.1?}",
        histogram_quantile(0.5, &delta) * 1000.0,
        histogram_quantile(0.99, &delta) * 1000.0,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );

    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(30), running.task).await;
    drop(factory);
    server.shutdown().await;
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| arg != "--bench")
        .collect();
    let name = args.first().map(String::as_str).unwrap_or("all");
    let sizes: Vec<usize> = args
        .iter()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let selected: Vec<Workload> = workloads()
        .into_iter()
        .filter(|workload| name == "all" || workload.name == name)
        .map(|mut workload| {
            if let Some(nodes) = sizes.first() {
                workload.nodes = *nodes;
            }
            if let Some(measured) = sizes.get(1) {
                workload.measured_pods = *measured;
            }
            if let Some(initial) = sizes.get(2) {
                workload.initial_pods = *initial;
            }
            workload
        })
        .collect();
    if selected.is_empty() {
        eprintln!(
            "unknown workload {name:?}; expected SchedulingBasic, SchedulingPodAntiAffinity, TopologySpreading, PreemptionBasic or all"
        );
        std::process::exit(2);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for workload in selected {
        runtime.block_on(run(workload));
    }
}
