//! The controller manager's cost at scale. The release kube-controller-manager and
//! kube-apiserver binaries run as processes of their own on loopback, the API
//! server with its embedded store in a temp dir. No kubelet runs, so the bench
//! marks pods Running and Ready itself through a client of its own.
//!
//! Phases:
//! 1. scale: a Deployment scaled from 0 to `CM_BENCH_REPLICAS` pods, timed until
//!    its status reports them all updated and available;
//! 2. rollout: the same Deployment rolled to a new image, timed the same way;
//! 3. idle: with the controller manager stopped, the bench fills the API server up
//!    to about `CM_BENCH_OBJECTS` objects (pods owned by ReplicaSets, ReplicaSets,
//!    Deployments, ConfigMaps, Secrets, Services). It then starts a new controller
//!    manager, waits until it stops sending requests, and samples it for
//!    `CM_BENCH_IDLE_SECONDS`.
//!
//! For each phase it prints the wall time, the requests the controller manager
//! sent, its VmRSS and VmHWM (`/proc/PID/status`) and its utime + stime
//! (`/proc/PID/stat`). The requests are the API server's `apiserver_request_total`
//! minus the requests the bench counted for itself, without watches (the server
//! counts a watch when it ends).
//!
//! Usage: `cargo build --release -p kube-apiserver && cargo bench -p
//! kube-controller-manager --bench controller_manager`. Environment:
//! `CM_BENCH_REPLICAS` (10000), `CM_BENCH_OBJECTS` (100000), `CM_BENCH_QPS` and
//! `CM_BENCH_BURST` (the controller manager's `--kube-api-qps` and
//! `--kube-api-burst`, 200 and 200), `CM_BENCH_IDLE_SECONDS` (60), and
//! `CM_BENCH_BINARY` to run another build of the controller manager, for
//! comparisons. With `CM_BENCH_COMPARE_BINARY` set, the idle phase then restarts
//! that build and the bench's own build once more each, in this order, on the same
//! objects, so the two builds' idle cost is compared within one run.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use client::config::{AuthConfig, RestConfig, TlsConfig};
use client::rest::{PatchType, RestClient};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

/// How long one phase may take before the bench gives up.
const PHASE_TIMEOUT: Duration = Duration::from_secs(3600);
/// Requests in flight on each of the bench's clients while it creates objects.
const CREATE_CONCURRENCY: usize = 32;
/// The bench's clients, each with connections of its own.
const CLIENTS: usize = 4;
/// Pods of each ReplicaSet the bench creates for the idle phase.
const PODS_PER_REPLICA_SET: usize = 10;
/// Namespaces the idle phase's objects are spread over.
const NAMESPACES: usize = 10;
const DEPLOYMENT: &str = "/apis/apps/v1/namespaces/default/deployments/scale";

/// One kind of request as `apiserver_request_total` labels it: verb, resource and
/// subresource.
type RequestKind = (String, String, String);

/// Requests the bench sent itself, by kind, to subtract from the API server's
/// counter, which does not separate clients.
static BENCH_REQUESTS: LazyLock<Mutex<BTreeMap<RequestKind, u64>>> =
    LazyLock::new(|| Mutex::new(BTreeMap::new()));

fn count_bench_request(verb: &str, resource: &str, subresource: &str) {
    let kind = (
        verb.to_string(),
        resource.to_string(),
        subresource.to_string(),
    );
    *BENCH_REQUESTS
        .lock()
        .expect("lock")
        .entry(kind)
        .or_default() += 1;
}

struct Settings {
    replicas: usize,
    objects: usize,
    qps: f32,
    burst: u32,
    idle: Duration,
}

impl Settings {
    fn from_env() -> Settings {
        fn read<T: std::str::FromStr>(name: &str, default: T) -> T {
            match std::env::var(name) {
                Ok(text) => text.parse().unwrap_or_else(|_| {
                    eprintln!("invalid {name}={text:?}: expected a number");
                    std::process::exit(2);
                }),
                Err(_) => default,
            }
        }
        Settings {
            replicas: read("CM_BENCH_REPLICAS", 10_000),
            objects: read("CM_BENCH_OBJECTS", 100_000),
            qps: read("CM_BENCH_QPS", 200.0),
            burst: read("CM_BENCH_BURST", 200),
            idle: Duration::from_secs(read("CM_BENCH_IDLE_SECONDS", 60)),
        }
    }
}

/// Returns the directory of the workspace's release binaries, the parent of the
/// `<target>/release/deps/` directory that benches run from.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current executable");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .to_path_buf()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("find a free port")
        .port()
}

/// A daemon of the bench as a child process with its log in a file. Dropping it
/// kills the process.
struct Daemon {
    name: &'static str,
    child: Child,
    log_file: PathBuf,
}

impl Daemon {
    fn start(name: &'static str, binary: &Path, args: &[String], log_file: PathBuf) -> Daemon {
        let log = std::fs::File::create(&log_file).expect("create a daemon log");
        let child = Command::new(binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("start {}: {error}", binary.display()));
        Daemon {
            name,
            child,
            log_file,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Panics with the log's tail when the process has exited.
    fn check_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let log = std::fs::read_to_string(&self.log_file).unwrap_or_default();
            let tail: String = log
                .lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            panic!("{} exited with {status}; log tail:\n{tail}", self.name);
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// VmRSS and VmHWM of a process in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|error| panic!("reading /proc/{pid}/status: {error}"));
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|value| value.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// utime + stime of a process in seconds (fields 14 and 15 of /proc/PID/stat).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_else(|error| panic!("reading /proc/{pid}/stat: {error}"));
    // The command name in field 2 may contain spaces, so count from its ')'.
    let after_name = &stat[stat.rfind(')').expect("stat has a command name") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 =
        fields[14 - 3].parse::<u64>().unwrap_or(0) + fields[15 - 3].parse::<u64>().unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks as f64 / per_second
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn rest_config(host: &str, cert_file: &Path) -> RestConfig {
    RestConfig {
        host: host.to_string(),
        tls: TlsConfig {
            ca_file: Some(cert_file.to_path_buf()),
            ..TlsConfig::default()
        },
        auth: AuthConfig {
            token: Some("bench-token".to_string()),
            ..AuthConfig::default()
        },
        // A negative qps turns the client's rate limiter off.
        qps: -1.0,
        burst: 0,
        timeout: Some(Duration::from_secs(120)),
        user_agent: "controller-manager-bench".to_string(),
    }
}

/// The API server process and the bench's clients of it.
struct ApiServer {
    daemon: Daemon,
    host: String,
    cert_file: PathBuf,
    clients: Vec<RestClient>,
}

impl ApiServer {
    async fn start(dir: &Path) -> ApiServer {
        let port = free_port();
        let args = vec![
            "--bind-address=127.0.0.1".to_string(),
            format!("--secure-port={port}"),
            "--max-requests-inflight=1000".to_string(),
            "--max-mutating-requests-inflight=1000".to_string(),
            // Room for the idle phase's ClusterIP Services.
            "--service-cluster-ip-range=10.96.0.0/16".to_string(),
            format!("--data-dir={}", dir.join("data").display()),
            format!("--cert-dir={}", dir.join("certs").display()),
        ];
        let mut daemon = Daemon::start(
            "kube-apiserver",
            &bin_dir().join("kube-apiserver"),
            &args,
            dir.join("kube-apiserver.log"),
        );
        let host = format!("https://127.0.0.1:{port}");
        let cert_file = dir.join("certs").join("apiserver.crt");
        let deadline = Instant::now() + Duration::from_secs(120);
        while !cert_file.exists() {
            daemon.check_running();
            assert!(
                Instant::now() < deadline,
                "kube-apiserver wrote no certificate"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let clients: Vec<RestClient> = (0..CLIENTS)
            .map(|_| RestClient::new(&rest_config(&host, &cert_file)).expect("build client"))
            .collect();
        loop {
            daemon.check_running();
            assert!(Instant::now() < deadline, "kube-apiserver not ready");
            let ready = clients[0]
                .get("/readyz")
                .send()
                .await
                .is_ok_and(|response| response.status.is_success());
            let namespace = clients[0]
                .get("/api/v1/namespaces/kube-system")
                .send()
                .await
                .is_ok_and(|response| response.status.is_success());
            if ready && namespace {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ApiServer {
            daemon,
            host,
            cert_file,
            clients,
        }
    }

    fn client(&self) -> &RestClient {
        &self.clients[0]
    }

    /// Returns `apiserver_request_total` summed by verb, resource and subresource.
    async fn request_totals(&self) -> BTreeMap<RequestKind, f64> {
        count_bench_request("GET", "", "");
        let response = self
            .client()
            .get("/metrics")
            .send()
            .await
            .expect("get /metrics");
        let text = String::from_utf8_lossy(&response.body);
        let mut totals = BTreeMap::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("apiserver_request_total{") else {
                continue;
            };
            let Some((labels, value)) = rest.rsplit_once("} ") else {
                continue;
            };
            let label = |name: &str| {
                let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
                let end = labels[start..].find('"')? + start;
                Some(labels[start..end].to_string())
            };
            let kind = (
                label("verb").unwrap_or_default(),
                label("resource").unwrap_or_default(),
                label("subresource").unwrap_or_default(),
            );
            *totals.entry(kind).or_default() += value.trim().parse::<f64>().unwrap_or(0.0);
        }
        totals
    }

    /// Counts the objects at `path` from a list of one item and its
    /// `remainingItemCount`.
    async fn count(&self, path: &str) -> u64 {
        let list: Value = self
            .client()
            .get(path)
            .query("limit", "1")
            .request_json()
            .await
            .unwrap_or_else(|error| panic!("list {path}: {error}"));
        let items = list["items"].as_array().map_or(0, Vec::len) as u64;
        items + list["metadata"]["remainingItemCount"].as_u64().unwrap_or(0)
    }
}

fn write_kubeconfig(server: &ApiServer, dir: &Path) -> PathBuf {
    let path = dir.join("kubeconfig");
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": "local", "cluster": {
            "server": server.host,
            "certificate-authority": server.cert_file.display().to_string(),
        }}],
        "users": [{ "name": "controller-manager", "user": { "token": "bench-token" } }],
        "contexts": [{ "name": "local", "context": { "cluster": "local", "user": "controller-manager" } }],
        "current-context": "local"
    });
    std::fs::write(&path, config.to_string()).expect("write kubeconfig");
    path
}

/// Starts the controller manager with every default controller, no leader
/// election and the bench's rate limit, and waits until `/readyz` returns 200
/// (its informers synced).
async fn start_controller_manager(
    kubeconfig: &Path,
    dir: &Path,
    settings: &Settings,
    run: usize,
    binary: &Path,
) -> Daemon {
    let port = free_port();
    let args = vec![
        format!("--kubeconfig={}", kubeconfig.display()),
        "--leader-elect=false".to_string(),
        "--bind-address=127.0.0.1".to_string(),
        format!("--secure-port={port}"),
        format!("--kube-api-qps={}", settings.qps),
        format!("--kube-api-burst={}", settings.burst),
    ];
    let mut daemon = Daemon::start(
        "kube-controller-manager",
        binary,
        &args,
        dir.join(format!("kube-controller-manager-{run}.log")),
    );
    let health = RestClient::new(&RestConfig {
        host: format!("https://127.0.0.1:{port}"),
        tls: TlsConfig {
            insecure: true,
            ..TlsConfig::default()
        },
        ..RestConfig::default()
    })
    .expect("build health client");
    let deadline = Instant::now() + PHASE_TIMEOUT;
    loop {
        daemon.check_running();
        assert!(
            Instant::now() < deadline,
            "kube-controller-manager not ready"
        );
        if health
            .get("/readyz")
            .send()
            .await
            .is_ok_and(|response| response.status.is_success())
        {
            return daemon;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The controller manager's figures at one instant.
struct Sample {
    at: Instant,
    cpu_seconds: f64,
    rss_kib: u64,
    hwm_kib: u64,
    requests: BTreeMap<RequestKind, f64>,
    bench_requests: BTreeMap<RequestKind, u64>,
}

async fn sample(server: &ApiServer, pid: u32) -> Sample {
    let requests = server.request_totals().await;
    let bench_requests = BENCH_REQUESTS.lock().expect("lock").clone();
    let (rss_kib, hwm_kib) = memory_kib(pid);
    Sample {
        at: Instant::now(),
        cpu_seconds: cpu_seconds(pid),
        rss_kib,
        hwm_kib,
        requests,
        bench_requests,
    }
}

/// Returns the controller manager's requests between two samples by kind: every
/// request except watches, less the bench's own. Non-resource requests (discovery)
/// have an empty resource.
fn controller_manager_requests(before: &Sample, after: &Sample) -> BTreeMap<RequestKind, u64> {
    let mut requests = BTreeMap::new();
    for (kind, total) in &after.requests {
        let (verb, _, _) = kind;
        if verb == "WATCH" {
            continue;
        }
        let server_delta = total - before.requests.get(kind).copied().unwrap_or(0.0);
        let bench_delta = after.bench_requests.get(kind).copied().unwrap_or(0)
            - before.bench_requests.get(kind).copied().unwrap_or(0);
        let delta = (server_delta as i64 - bench_delta as i64).max(0) as u64;
        if delta > 0 {
            requests.insert(kind.clone(), delta);
        }
    }
    requests
}

fn report(phase: &str, before: &Sample, after: &Sample, settings: &Settings) {
    let elapsed = after.at.duration_since(before.at).as_secs_f64();
    let requests = controller_manager_requests(before, after);
    let total: u64 = requests.values().sum();
    let cpu = after.cpu_seconds - before.cpu_seconds;
    println!(
        "{phase}: {elapsed:.1} s; controller manager: {total} requests ({:.0}/s at \
         --kube-api-qps={} --kube-api-burst={}), CPU {cpu:.1} s ({:.2} % of one core), \
         VmRSS {:.1} MiB at the end, VmHWM {:.1} MiB",
        total as f64 / elapsed,
        settings.qps,
        settings.burst,
        100.0 * cpu / elapsed,
        after.rss_kib as f64 / 1024.0,
        after.hwm_kib as f64 / 1024.0,
    );
    let mut by_count: Vec<(&RequestKind, &u64)> = requests.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1));
    let listed: Vec<String> = by_count
        .iter()
        .take(8)
        .map(|((verb, resource, subresource), count)| {
            let resource = if resource.is_empty() {
                "non-resource paths".to_string()
            } else if subresource.is_empty() {
                resource.clone()
            } else {
                format!("{resource}/{subresource}")
            };
            format!("{verb} {resource} {count}")
        })
        .collect();
    println!("  requests by kind: {}", listed.join(", "));
    println!("  load average: {}", load_average());
}

fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|condition| condition["type"] == "Ready" && condition["status"] == "True")
        })
}

/// Plays the kubelet for pods labelled `app=cm-bench`: a watch hands every pod that
/// is not Ready to a pool of tasks that patch it Running and Ready.
fn start_kubelet_stand_in(server: &ApiServer) -> tokio::task::JoinHandle<()> {
    let watcher = server.client().clone();
    let patchers = server.clients.clone();
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        let permits = Arc::new(Semaphore::new(CREATE_CONCURRENCY * CLIENTS));
        let mut index: u64 = 0;
        while let Some(name) = receiver.recv().await {
            let permit = permits.clone().acquire_owned().await.expect("semaphore");
            let client = patchers[index as usize % patchers.len()].clone();
            let ip = format!(
                "10.{}.{}.{}",
                100 + index / 62_500,
                index / 250 % 250,
                index % 250 + 1
            );
            index += 1;
            tokio::spawn(async move {
                let _permit = permit;
                let patch = json!({"status": {"phase": "Running", "podIP": ip,
                    "podIPs": [{"ip": ip}],
                    "conditions": [{"type": "Ready", "status": "True",
                        "lastTransitionTime": "2026-01-01T00:00:00Z"}]}});
                count_bench_request("PATCH", "pods", "status");
                // A pod deleted in the meantime returns 404, which is fine.
                let _ = client
                    .patch(
                        &format!("/api/v1/namespaces/default/pods/{name}/status"),
                        PatchType::Merge,
                    )
                    .json(&patch)
                    .request_json::<Value>()
                    .await;
            });
        }
    });
    tokio::spawn(async move {
        let path = "/api/v1/namespaces/default/pods";
        let selector = "app=cm-bench";
        let mut patched: HashSet<String> = HashSet::new();
        let mut resource_version = String::new();
        loop {
            if resource_version.is_empty() {
                count_bench_request("LIST", "pods", "");
                let list: Value = match watcher
                    .get(path)
                    .query("labelSelector", selector)
                    .request_json()
                    .await
                {
                    Ok(list) => list,
                    Err(error) => {
                        eprintln!("kubelet stand-in: list pods failed: {error}");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                for pod in list["items"].as_array().into_iter().flatten() {
                    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
                    if !is_ready(pod) && patched.insert(name.to_string()) {
                        let _ = sender.send(name.to_string());
                    }
                }
                resource_version = list["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
            }
            let mut stream = match watcher
                .get(path)
                .query("labelSelector", selector)
                .query("resourceVersion", &resource_version)
                .query("allowWatchBookmarks", "true")
                .watch()
                .await
            {
                Ok(stream) => stream,
                Err(error) => {
                    eprintln!("kubelet stand-in: watch pods failed: {error}");
                    resource_version.clear();
                    continue;
                }
            };
            while let Some(event) = stream.next().await {
                let Ok(event) = event else {
                    resource_version.clear();
                    break;
                };
                if event.event_type == "ERROR" {
                    // Too old a resourceVersion: list again.
                    resource_version.clear();
                    break;
                }
                let pod = &event.object;
                if let Some(version) = pod["metadata"]["resourceVersion"].as_str() {
                    resource_version = version.to_string();
                }
                let name = pod["metadata"]["name"].as_str().unwrap_or_default();
                if event.event_type == "ADDED"
                    && !is_ready(pod)
                    && pod["metadata"]["deletionTimestamp"].is_null()
                    && patched.insert(name.to_string())
                {
                    let _ = sender.send(name.to_string());
                }
            }
        }
    })
}

/// Polls the bench Deployment until its status reports `replicas` updated,
/// available pods of `image` and no others.
async fn wait_deployment_complete(
    server: &ApiServer,
    controller_manager: &mut Daemon,
    image: &str,
    replicas: usize,
) {
    let replicas = replicas as i64;
    let deadline = Instant::now() + PHASE_TIMEOUT;
    loop {
        controller_manager.check_running();
        count_bench_request("GET", "deployments", "");
        let deployment: Value = server
            .client()
            .get(DEPLOYMENT)
            .request_json()
            .await
            .expect("get the bench Deployment");
        let status = &deployment["status"];
        let current_image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .unwrap_or_default();
        let complete = status["observedGeneration"] == deployment["metadata"]["generation"]
            && current_image == image
            && status["replicas"].as_i64().unwrap_or(0) == replicas
            && status["updatedReplicas"].as_i64().unwrap_or(0) == replicas
            && status["availableReplicas"].as_i64().unwrap_or(0) == replicas;
        if complete {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the Deployment did not converge: {status}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn patch_deployment(server: &ApiServer, patch: Value) {
    count_bench_request("PATCH", "deployments", "");
    server
        .client()
        .patch(DEPLOYMENT, PatchType::StrategicMerge)
        .json(&patch)
        .request_json::<Value>()
        .await
        .expect("patch the bench Deployment");
}

/// Creates the objects `(path, body)` over every client with `concurrency`
/// requests in flight, counting each as a bench request for `resource`, and
/// returns their uids in order.
async fn create_all(
    server: &ApiServer,
    resource: &str,
    objects: Vec<(String, Value)>,
    concurrency: usize,
) -> Vec<String> {
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, (path, body)) in objects.into_iter().enumerate() {
        let permit = permits.clone().acquire_owned().await.expect("semaphore");
        let client = server.clients[index % server.clients.len()].clone();
        count_bench_request("CREATE", resource, "");
        tasks.spawn(async move {
            let _permit = permit;
            let created: Value = client
                .post(&path)
                .json(&body)
                .request_json()
                .await
                .unwrap_or_else(|error| panic!("create in {path}: {error}"));
            let uid = created["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (index, uid)
        });
    }
    let mut uids = Vec::new();
    while let Some(result) = tasks.join_next().await {
        uids.push(result.expect("create task"));
    }
    uids.sort();
    uids.into_iter().map(|(_, uid)| uid).collect()
}

fn deployment_body(name: &str, replicas: usize) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "cm-bench", "deployment": name}},
            "template": {
                "metadata": {"labels": {"app": "cm-bench", "deployment": name}},
                "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}
            }
        }
    })
}

/// How many objects of each kind the idle phase adds, out of `objects` in total.
struct Mix {
    replica_sets: usize,
    deployments: usize,
    services: usize,
    config_maps: usize,
    secrets: usize,
}

impl Mix {
    /// Splits what is left of `objects` after the scale phase's pods: 44 % pods in
    /// groups of ten under ReplicaSets, 25 % ConfigMaps and 25 % Secrets. 1 % are
    /// Deployments of 0 replicas, whose ReplicaSets the controller manager
    /// creates, and 1 % Services, whose Endpoints and EndpointSlices it creates.
    fn for_total(objects: usize, existing: usize) -> Mix {
        let left = objects.saturating_sub(existing);
        Mix {
            replica_sets: left * 4 / 100,
            deployments: left / 100,
            services: left / 100,
            config_maps: left / 4,
            secrets: left / 4,
        }
    }
}

async fn fill(server: &ApiServer, mix: &Mix) {
    const BULK: usize = CREATE_CONCURRENCY * CLIENTS;
    let namespace = |index: usize| format!("bench-{}", index % NAMESPACES);
    let namespaces = (0..NAMESPACES)
        .map(|index| {
            (
                "/api/v1/namespaces".to_string(),
                json!({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": namespace(index)}}),
            )
        })
        .collect();
    create_all(server, "namespaces", namespaces, BULK).await;

    let replica_sets = (0..mix.replica_sets)
        .map(|index| {
            let name = format!("rs-{index}");
            (
                format!("/apis/apps/v1/namespaces/{}/replicasets", namespace(index)),
                json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": name},
                    "spec": {"replicas": PODS_PER_REPLICA_SET,
                        "selector": {"matchLabels": {"set": name}},
                        "template": {"metadata": {"labels": {"set": name}},
                            "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}}}}),
            )
        })
        .collect();
    let uids = create_all(server, "replicasets", replica_sets, BULK).await;

    let pods = uids
        .iter()
        .enumerate()
        .flat_map(|(index, uid)| {
            let owner = format!("rs-{index}");
            (0..PODS_PER_REPLICA_SET).map(move |ordinal| {
                (
                    format!("/api/v1/namespaces/{}/pods", namespace(index)),
                    json!({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": format!("{owner}-{ordinal}"), "labels": {"set": owner},
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                "name": owner, "uid": uid, "controller": true,
                                "blockOwnerDeletion": true}]},
                        "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}}),
                )
            })
        })
        .collect();
    create_all(server, "pods", pods, BULK).await;

    let deployments = (0..mix.deployments)
        .map(|index| {
            (
                format!("/apis/apps/v1/namespaces/{}/deployments", namespace(index)),
                deployment_body(&format!("idle-{index}"), 0),
            )
        })
        .collect();
    create_all(server, "deployments", deployments, BULK).await;

    let services = (0..mix.services)
        .map(|index| {
            (
                format!("/api/v1/namespaces/{}/services", namespace(index)),
                json!({"apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": format!("svc-{index}")},
                    "spec": {"selector": {"set": format!("rs-{index}")},
                        "ports": [{"port": 80, "targetPort": 8080}]}}),
            )
        })
        .collect();
    create_all(server, "services", services, BULK).await;

    // 256 bytes of data each, a small but not empty object.
    let payload = "x".repeat(256);
    let config_maps = (0..mix.config_maps)
        .map(|index| {
            (
                format!("/api/v1/namespaces/{}/configmaps", namespace(index)),
                json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": format!("cm-{index}")}, "data": {"value": payload}}),
            )
        })
        .collect();
    create_all(server, "configmaps", config_maps, BULK).await;
    let secrets = (0..mix.secrets)
        .map(|index| {
            (
                format!("/api/v1/namespaces/{}/secrets", namespace(index)),
                json!({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": format!("secret-{index}")},
                    "stringData": {"value": payload}}),
            )
        })
        .collect();
    create_all(server, "secrets", secrets, BULK).await;
}

/// Counts the objects of the kinds the controller manager's informers hold.
async fn count_objects(server: &ApiServer) -> (u64, Vec<String>) {
    let paths = [
        ("pods", "/api/v1/pods"),
        ("replicasets", "/apis/apps/v1/replicasets"),
        ("deployments", "/apis/apps/v1/deployments"),
        ("configmaps", "/api/v1/configmaps"),
        ("secrets", "/api/v1/secrets"),
        ("services", "/api/v1/services"),
        ("endpoints", "/api/v1/endpoints"),
        ("endpointslices", "/apis/discovery.k8s.io/v1/endpointslices"),
        ("events", "/api/v1/events"),
        ("serviceaccounts", "/api/v1/serviceaccounts"),
        ("namespaces", "/api/v1/namespaces"),
    ];
    let mut total = 0;
    let mut listed = Vec::new();
    for (name, path) in paths {
        count_bench_request("LIST", name, "");
        let count = server.count(path).await;
        total += count;
        listed.push(format!("{name} {count}"));
    }
    (total, listed)
}

/// Waits until the controller manager sent fewer than 5 requests in each of two
/// consecutive 5-second windows, and returns when that began.
async fn wait_quiet(server: &ApiServer, controller_manager: &mut Daemon) -> Instant {
    let deadline = Instant::now() + PHASE_TIMEOUT;
    let pid = controller_manager.pid();
    let mut previous = sample(server, pid).await;
    let mut quiet_windows = 0;
    let mut quiet_since = previous.at;
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        controller_manager.check_running();
        let current = sample(server, pid).await;
        let sent: u64 = controller_manager_requests(&previous, &current)
            .values()
            .sum();
        if sent < 5 {
            if quiet_windows == 0 {
                quiet_since = previous.at;
            }
            quiet_windows += 1;
            if quiet_windows == 2 {
                return quiet_since;
            }
        } else {
            quiet_windows = 0;
        }
        assert!(
            Instant::now() < deadline,
            "the controller manager never went quiet"
        );
        previous = current;
    }
}

async fn run(settings: Settings) {
    let binary = std::env::var_os("CM_BENCH_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_kube-controller-manager")));
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ApiServer::start(dir.path()).await;
    let kubeconfig = write_kubeconfig(&server, dir.path());
    println!(
        "controller manager bench: {} replicas, about {} objects, --kube-api-qps={} \
         --kube-api-burst={}, load average {}",
        settings.replicas,
        settings.objects,
        settings.qps,
        settings.burst,
        load_average()
    );

    let mut controller_manager =
        start_controller_manager(&kubeconfig, dir.path(), &settings, 1, &binary).await;
    let pid = controller_manager.pid();
    let kubelet = start_kubelet_stand_in(&server);
    count_bench_request("CREATE", "deployments", "");
    let _: Value = server
        .client()
        .post("/apis/apps/v1/namespaces/default/deployments")
        .json(&deployment_body("scale", 0))
        .request_json()
        .await
        .expect("create the bench Deployment");
    wait_deployment_complete(
        &server,
        &mut controller_manager,
        "registry.k8s.io/pause:3.10",
        0,
    )
    .await;

    let before = sample(&server, pid).await;
    patch_deployment(&server, json!({"spec": {"replicas": settings.replicas}})).await;
    wait_deployment_complete(
        &server,
        &mut controller_manager,
        "registry.k8s.io/pause:3.10",
        settings.replicas,
    )
    .await;
    let after = sample(&server, pid).await;
    report(
        &format!("scale 0 to {}", settings.replicas),
        &before,
        &after,
        &settings,
    );

    let before = sample(&server, pid).await;
    patch_deployment(
        &server,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]}}}}),
    )
    .await;
    wait_deployment_complete(
        &server,
        &mut controller_manager,
        "registry.k8s.io/pause:3.9",
        settings.replicas,
    )
    .await;
    let after = sample(&server, pid).await;
    report(
        &format!("rollout of {}", settings.replicas),
        &before,
        &after,
        &settings,
    );
    kubelet.abort();
    drop(controller_manager);

    let (existing, _) = count_objects(&server).await;
    let mix = Mix::for_total(settings.objects, existing as usize);
    let started = Instant::now();
    fill(&server, &mix).await;
    println!(
        "idle setup: {} ReplicaSets with {} pods, {} Deployments, {} Services, {} ConfigMaps, \
         {} Secrets created in {:.0} s with the controller manager stopped",
        mix.replica_sets,
        mix.replica_sets * PODS_PER_REPLICA_SET,
        mix.deployments,
        mix.services,
        mix.config_maps,
        mix.secrets,
        started.elapsed().as_secs_f64()
    );

    restart_and_idle(&server, &kubeconfig, dir.path(), &settings, 2, &binary, "").await;
    if let Some(other) = std::env::var_os("CM_BENCH_COMPARE_BINARY") {
        let other = PathBuf::from(other);
        let label = format!(" [{}]", other.display());
        restart_and_idle(
            &server,
            &kubeconfig,
            dir.path(),
            &settings,
            3,
            &other,
            &label,
        )
        .await;
        let label = format!(" [{}]", binary.display());
        restart_and_idle(
            &server,
            &kubeconfig,
            dir.path(),
            &settings,
            4,
            &binary,
            &label,
        )
        .await;
    }
    server.daemon.check_running();
}

/// Starts controller manager `binary` on the filled API server, reports its work
/// until it goes quiet and then its idle cost, and stops it. `label` marks the runs
/// of different builds in the report.
async fn restart_and_idle(
    server: &ApiServer,
    kubeconfig: &Path,
    dir: &Path,
    settings: &Settings,
    run: usize,
    binary: &Path,
    label: &str,
) {
    // The new process starts from zero CPU time, so the restart is counted from a
    // sample of the API server's counters alone.
    let restart = Sample {
        at: Instant::now(),
        cpu_seconds: 0.0,
        rss_kib: 0,
        hwm_kib: 0,
        requests: server.request_totals().await,
        bench_requests: BENCH_REQUESTS.lock().expect("lock").clone(),
    };
    let mut controller_manager =
        start_controller_manager(kubeconfig, dir, settings, run, binary).await;
    let pid = controller_manager.pid();
    let synced = restart.at.elapsed();
    let quiet_since = wait_quiet(server, &mut controller_manager).await;
    let settled = sample(server, pid).await;
    let (total, listed) = count_objects(server).await;
    println!("objects: {total} ({})", listed.join(", "));
    println!(
        "restart{label}: caches synced after {:.1} s, requests stopped after {:.1} s",
        synced.as_secs_f64(),
        quiet_since.duration_since(restart.at).as_secs_f64()
    );
    report(
        &format!("restart until 10 s without requests{label}"),
        &restart,
        &settled,
        settings,
    );

    let before = sample(server, pid).await;
    tokio::time::sleep(settings.idle).await;
    controller_manager.check_running();
    let after = sample(server, pid).await;
    report(
        &format!(
            "idle for {} s with {total} objects{label}",
            settings.idle.as_secs()
        ),
        &before,
        &after,
        settings,
    );
}

fn main() {
    let settings = Settings::from_env();
    let apiserver = bin_dir().join("kube-apiserver");
    if !apiserver.is_file() {
        eprintln!(
            "skipping the controller manager benchmark: {} is missing; run \
             `cargo build --release -p kube-apiserver` first",
            apiserver.display()
        );
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(settings));
}
