//! Pod startup latency and the kubelet's own cost on one real node.
//!
//! The launcher starts a kube-apiserver on the host and one node (our
//! container-runtime, runc and the CNI bridge in a network namespace of its own,
//! the kubelet as its own process) from the release binaries beside this bench.
//! A warm-up pod pulls busybox and pause from the launcher's local registry, so
//! the measured pods find their image present. The bench then:
//!
//! 1. creates [`MEASURED_PODS`] `sleep` pods bound to the node, [`CONCURRENCY`]
//!    requests in flight, and times each from just before its POST to the watch
//!    event that first shows it `Running`;
//! 2. creates more pods until [`TOTAL_PODS`] run (the kubelet's default
//!    `maxPods`), waits [`QUIET`] for the node to settle, and samples the
//!    kubelet's VmRSS and its utime + stime over [`SAMPLE`];
//! 3. runs upstream's node-throughput test (clusterloader2's
//!    `testing/node-throughput`: 100 pods on a one-node cluster, created at 5
//!    per second, p99 startup threshold 5 s). It deletes [`LATENCY_PODS`] of the
//!    running pods to make room and waits until they are gone and the node is
//!    quiet. Then it creates [`LATENCY_PODS`] pods one at a time,
//!    [`LATENCY_INTERVAL`] apart, and times each as in step 1. The saturation
//!    burst of step 1 measures how fast the node starts pods it gets all at
//!    once. This phase measures each pod's startup at upstream's steady rate.
//!
//! Usage: `cargo bench -p test-e2e --bench pod_startup` as root, after the
//! release build of kube-apiserver, kubelet and container-runtime and after
//! `hack/images/build.sh` and `hack/registry.sh` filled `_output/registry`.
//! With `POD_STARTUP_LOG_DIR` set, the daemons' logs are copied there at the end.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use client::config::kubeconfig::{ConfigOverrides, Kubeconfig};
use client::rest::RestClient;
use serde_json::{Value, json};
use test_e2e::cluster::{Cluster, ClusterSpec, NodeComponents};
use tokio::sync::{Mutex, Notify};

/// Pods timed from creation to Running.
const MEASURED_PODS: usize = 100;
/// Pod creations in flight at once.
const CONCURRENCY: usize = 10;
/// Pods running on the node while its resource use is sampled (the warm-up pod
/// included).
const TOTAL_PODS: usize = 110;
/// How long the node settles after the last pod runs, before sampling.
const QUIET: Duration = Duration::from_secs(20);
/// How long the kubelet's CPU time is sampled.
const SAMPLE: Duration = Duration::from_secs(60);
/// Pods deleted, then created one at a time, in the latency phase (upstream's
/// node-throughput `POD_COUNT`).
const LATENCY_PODS: usize = 100;
/// The pause between two creations in the latency phase: 5 pods per second,
/// upstream's node-throughput `POD_THROUGHPUT` for containerd.
const LATENCY_INTERVAL: Duration = Duration::from_millis(200);
/// How long any one phase may take before the bench gives up.
const PHASE_TIMEOUT: Duration = Duration::from_secs(600);

const NAMESPACE_PODS: &str = "/api/v1/namespaces/default/pods";

/// Returns the directory of the workspace's binaries, the parent of the
/// `<target>/release/deps/` directory that benches run from.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current executable");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .to_path_buf()
}

fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn main() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "skipping the pod startup benchmark: it needs root for namespaces, cgroups and mounts"
        );
        return;
    }
    let registry = repository_root().join("_output/registry/storage");
    if !registry.is_dir() {
        eprintln!(
            "skipping the pod startup benchmark: {} is missing; run hack/images/build.sh and \
             hack/registry.sh start (make bench does)",
            registry.display()
        );
        return;
    }
    for binary in ["kube-apiserver", "kubelet", "container-runtime"] {
        if !bin_dir().join(binary).is_file() {
            eprintln!(
                "skipping the pod startup benchmark: {} is missing; run \
                 `cargo build --release -p kube-apiserver -p kubelet -p container-runtime`",
                bin_dir().join(binary).display()
            );
            return;
        }
    }

    let dir = std::env::temp_dir().join(format!("kubelet-bench-{}", std::process::id()));
    let mut spec = ClusterSpec::new("kbn", &dir, &bin_dir(), 1);
    spec.bridge_octet = 237;
    spec.apiserver_port = 6449;
    spec.pod_octet = 237;
    spec.registry_storage = Some(registry);
    // Pods are bound by name and mount no service account token, so neither the
    // scheduler nor the controller manager is needed, and neither is kube-proxy.
    spec.controllers = false;
    spec.node_components = NodeComponents {
        runtime: true,
        kubelet: true,
        proxy: false,
    };
    let node = spec.node_name(1);
    let kubeconfig = spec.admin_kubeconfig();
    // Dropping the cluster, also while a panic unwinds, stops its daemons and
    // removes its namespaces, mounts and cgroups.
    let cluster =
        Cluster::up(spec).unwrap_or_else(|error| panic!("the node did not start: {error}"));
    let kubelet_pid = cluster
        .daemons()
        .iter()
        .find(|daemon| daemon.name.starts_with("kubelet-"))
        .map(|daemon| daemon.pid())
        .expect("the launcher started a kubelet");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(measure(&kubeconfig, &node, kubelet_pid));
    drop(runtime);
    drop(cluster);
    if let Some(target) = std::env::var_os("POD_STARTUP_LOG_DIR") {
        copy_logs(&dir.join("logs"), Path::new(&target));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

async fn measure(kubeconfig: &Path, node: &str, kubelet_pid: u32) {
    let mut rest = Kubeconfig::read_file(kubeconfig)
        .and_then(|config| config.rest_config(&ConfigOverrides::default()))
        .expect("admin kubeconfig")
        .rest;
    rest.qps = 1000.0;
    rest.burst = 1000;
    let client = Arc::new(RestClient::new(&rest).expect("client"));
    let running = RunningPods::watch(client.clone()).await;

    let started = Instant::now();
    create_pod(&client, "warmup", node).await;
    running.wait_for(&["warmup".to_string()]).await;
    println!(
        "warm-up pod Running after {:.1} s (image pull included)",
        started.elapsed().as_secs_f64()
    );

    let names: Vec<String> = (0..MEASURED_PODS).map(|i| format!("bench-{i}")).collect();
    let created = create_pods(&client, &names, node).await;
    let seen = running.wait_for(&names).await;
    let mut latencies: Vec<Duration> = names
        .iter()
        .map(|name| seen[name].saturating_duration_since(created[name]))
        .collect();
    latencies.sort();
    println!(
        "pod startup, {MEASURED_PODS} pods, {CONCURRENCY} creations in flight: \
         p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        millis(percentile(&latencies, 50)),
        millis(percentile(&latencies, 99)),
        millis(*latencies.last().expect("measured pods")),
    );

    let extra: Vec<String> = (MEASURED_PODS..TOTAL_PODS - 1)
        .map(|i| format!("bench-{i}"))
        .collect();
    create_pods(&client, &extra, node).await;
    running.wait_for(&extra).await;
    println!(
        "{TOTAL_PODS} pods Running; waiting {} s for quiet",
        QUIET.as_secs()
    );
    tokio::time::sleep(QUIET).await;

    let rss_before = vm_rss_kib(kubelet_pid);
    let ticks_before = cpu_ticks(kubelet_pid);
    let sample_started = Instant::now();
    tokio::time::sleep(SAMPLE).await;
    let ticks = cpu_ticks(kubelet_pid) - ticks_before;
    let elapsed = sample_started.elapsed().as_secs_f64();
    let rss_after = vm_rss_kib(kubelet_pid);
    // SAFETY: sysconf has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let cpu_percent = 100.0 * ticks as f64 / ticks_per_second / elapsed;
    println!(
        "kubelet with {TOTAL_PODS} pods: VmRSS {:.1} MiB before and {:.1} MiB after \
         {elapsed:.0} s idle; CPU {cpu_percent:.2}% of one core",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
    );
    println!(
        "kubelet with {TOTAL_PODS} pods: RssAnon {:.1} MiB, RssFile {:.1} MiB, {} threads",
        status_field(kubelet_pid, "RssAnon") as f64 / 1024.0,
        status_field(kubelet_pid, "RssFile") as f64 / 1024.0,
        status_field(kubelet_pid, "Threads"),
    );

    measure_latency_phase(&client, &running, node).await;
}

/// Makes room for [`LATENCY_PODS`] pods, then creates them one at a time,
/// [`LATENCY_INTERVAL`] apart, and prints their startup latency.
async fn measure_latency_phase(client: &Arc<RestClient>, running: &RunningPods, node: &str) {
    let victims: Vec<String> = (TOTAL_PODS - 1 - LATENCY_PODS..TOTAL_PODS - 1)
        .map(|i| format!("bench-{i}"))
        .collect();
    for name in &victims {
        client
            .delete(&format!("{NAMESPACE_PODS}/{name}"))
            .request_json::<Value>()
            .await
            .unwrap_or_else(|error| panic!("deleting pod {name}: {error}"));
    }
    wait_until_gone(client, &victims).await;
    println!(
        "{LATENCY_PODS} pods deleted and gone; waiting {} s for quiet",
        QUIET.as_secs()
    );
    tokio::time::sleep(QUIET).await;

    let names: Vec<String> = (0..LATENCY_PODS).map(|i| format!("latency-{i}")).collect();
    let mut created = HashMap::new();
    let mut pace = tokio::time::interval(LATENCY_INTERVAL);
    for name in &names {
        pace.tick().await;
        created.insert(name.clone(), Instant::now());
        create_pod(client, name, node).await;
    }
    let seen = running.wait_for(&names).await;
    let mut latencies: Vec<Duration> = names
        .iter()
        .map(|name| seen[name].saturating_duration_since(created[name]))
        .collect();
    latencies.sort();
    println!(
        "pod startup, latency phase, {LATENCY_PODS} pods created {} ms apart beside {} \
         running: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        LATENCY_INTERVAL.as_millis(),
        TOTAL_PODS - LATENCY_PODS,
        millis(percentile(&latencies, 50)),
        millis(percentile(&latencies, 99)),
        millis(*latencies.last().expect("latency pods")),
    );
}

/// Waits until none of the pods `names` exists in the API any more.
async fn wait_until_gone(client: &RestClient, names: &[String]) {
    let deadline = Instant::now() + PHASE_TIMEOUT;
    loop {
        let list: Value = client
            .get(NAMESPACE_PODS)
            .query("labelSelector", "app=pod-startup-bench")
            .request_json()
            .await
            .expect("list pods");
        let left = list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|pod| pod["metadata"]["name"].as_str())
            .filter(|name| names.iter().any(|victim| victim == name))
            .count();
        if left == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out: {left} deleted pods still exist after {} s",
            PHASE_TIMEOUT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Copies the files of `from` into `to`, which is created when missing.
fn copy_logs(from: &Path, to: &Path) {
    if let Err(error) = std::fs::create_dir_all(to) {
        eprintln!("failed to create {}: {error}", to.display());
        return;
    }
    let Ok(entries) = std::fs::read_dir(from) else {
        eprintln!("no logs to copy in {}", from.display());
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let target = to.join(entry.file_name());
        if let Err(error) = std::fs::copy(entry.path(), &target) {
            eprintln!(
                "failed to copy {} to {}: {error}",
                entry.path().display(),
                target.display()
            );
        }
    }
    println!("daemon logs copied to {}", to.display());
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Returns the nearest-rank percentile of sorted `values`.
fn percentile(values: &[Duration], percent: usize) -> Duration {
    let rank = (percent * values.len()).div_ceil(100).max(1);
    values[rank - 1]
}

/// Returns VmRSS of `pid` in KiB.
fn vm_rss_kib(pid: u32) -> u64 {
    status_field(pid, "VmRSS")
}

/// Returns the number in the `name` line of /proc/PID/status (KiB for sizes).
fn status_field(pid: u32, name: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|error| panic!("reading /proc/{pid}/status: {error}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("/proc/{pid}/status has no {name} line"))
}

/// Returns utime + stime of `pid` in clock ticks (fields 14 and 15 of
/// /proc/PID/stat).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_else(|error| panic!("reading /proc/{pid}/stat: {error}"));
    // The command name in field 2 may contain spaces, so count from its ')'.
    let after_name = &stat[stat.rfind(')').expect("stat has a command name") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |number: usize| -> u64 {
        fields[number - 3]
            .parse()
            .unwrap_or_else(|_| panic!("field {number} of /proc/{pid}/stat is not a number"))
    };
    field(14) + field(15)
}

fn pod(name: &str, node: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "pod-startup-bench"}},
        "spec": {
            "nodeName": node,
            "automountServiceAccountToken": false,
            "terminationGracePeriodSeconds": 0,
            "containers": [{
                "name": "sleep",
                "image": "busybox",
                "imagePullPolicy": "IfNotPresent",
                "command": ["sleep", "3600"],
            }],
        },
    })
}

async fn create_pod(client: &RestClient, name: &str, node: &str) {
    client
        .post(NAMESPACE_PODS)
        .json(&pod(name, node))
        .request_json::<Value>()
        .await
        .unwrap_or_else(|error| panic!("creating pod {name}: {error}"));
}

/// Creates the pods `names`, [`CONCURRENCY`] at a time, and returns the instant
/// just before each one's POST.
async fn create_pods(
    client: &Arc<RestClient>,
    names: &[String],
    node: &str,
) -> HashMap<String, Instant> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for name in names {
        let permit = semaphore.clone().acquire_owned().await.expect("semaphore");
        let client = client.clone();
        let name = name.clone();
        let node = node.to_string();
        tasks.spawn(async move {
            let _permit = permit;
            let before = Instant::now();
            create_pod(&client, &name, &node).await;
            (name, before)
        });
    }
    let mut created = HashMap::new();
    while let Some(result) = tasks.join_next().await {
        let (name, before) = result.expect("creation task");
        created.insert(name, before);
    }
    created
}

/// The instant a watch first reported each bench pod in phase `Running`.
struct RunningPods {
    seen: Arc<Mutex<HashMap<String, Instant>>>,
    /// The error that ended the watch, if one did.
    failure: Arc<Mutex<Option<String>>>,
    changed: Arc<Notify>,
}

impl RunningPods {
    /// Lists the bench pods and keeps a watch on them from that list's
    /// resourceVersion, restarting it from the last one seen when the server ends it.
    async fn watch(client: Arc<RestClient>) -> RunningPods {
        let selector = "app=pod-startup-bench";
        let list: Value = client
            .get(NAMESPACE_PODS)
            .query("labelSelector", selector)
            .request_json()
            .await
            .expect("list pods");
        let mut resource_version = list["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let seen = Arc::new(Mutex::new(HashMap::new()));
        let failure = Arc::new(Mutex::new(None));
        let changed = Arc::new(Notify::new());
        let (task_seen, task_failure, task_changed) =
            (seen.clone(), failure.clone(), changed.clone());
        tokio::spawn(async move {
            loop {
                let mut stream = match client
                    .get(NAMESPACE_PODS)
                    .query("labelSelector", selector)
                    .query("resourceVersion", &resource_version)
                    .query("allowWatchBookmarks", "true")
                    .watch()
                    .await
                {
                    Ok(stream) => stream,
                    Err(error) => {
                        *task_failure.lock().await = Some(format!("watching pods failed: {error}"));
                        task_changed.notify_waiters();
                        return;
                    }
                };
                while let Some(event) = stream.next().await {
                    let event = match event {
                        Ok(event) => event,
                        Err(error) => {
                            *task_failure.lock().await =
                                Some(format!("the pod watch failed: {error}"));
                            task_changed.notify_waiters();
                            return;
                        }
                    };
                    let object = &event.object;
                    if let Some(version) = object["metadata"]["resourceVersion"].as_str() {
                        resource_version = version.to_string();
                    }
                    if object["status"]["phase"] == "Running"
                        && let Some(name) = object["metadata"]["name"].as_str()
                    {
                        let now = Instant::now();
                        task_seen
                            .lock()
                            .await
                            .entry(name.to_string())
                            .or_insert(now);
                        task_changed.notify_waiters();
                    }
                }
            }
        });
        RunningPods {
            seen,
            failure,
            changed,
        }
    }

    /// Waits until every pod in `names` was seen Running, and returns the instants.
    async fn wait_for(&self, names: &[String]) -> HashMap<String, Instant> {
        let deadline = Instant::now() + PHASE_TIMEOUT;
        loop {
            let notified = self.changed.notified();
            if let Some(failure) = self.failure.lock().await.as_ref() {
                panic!("{failure}");
            }
            {
                let seen = self.seen.lock().await;
                let missing = names
                    .iter()
                    .filter(|name| !seen.contains_key(*name))
                    .count();
                if missing == 0 {
                    return seen.clone();
                }
                assert!(
                    Instant::now() < deadline,
                    "timed out: {missing} of {} pods not Running after {} s",
                    names.len(),
                    PHASE_TIMEOUT.as_secs()
                );
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), notified).await;
        }
    }
}
