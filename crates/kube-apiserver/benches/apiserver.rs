//! API server benchmark: pod create, get, update, list and watch latency through the
//! whole server (TLS, HTTP/2, decoding, validation, storage) with 100 concurrent
//! clients. It runs on the embedded store and on etcd, beside the raw backend, in one
//! run. Then it measures the resident memory per stored pod of the `kube-apiserver`
//! binary as a process of its own, loaded by this process over the API, once on the
//! embedded store and once on etcd.
//!
//! Run with `make bench` or `cargo bench -p kube-apiserver --bench apiserver`;
//! `-- memory` runs only the memory measurement, `-- latency` only the latency one. `APISERVER_BENCH_SCALE=small` runs
//! a quick pass. `APISERVER_BENCH_SERVER_ARGS` adds server flags (both parts),
//! `APISERVER_BENCH_BINARY` runs another build for the memory part, and
//! `APISERVER_BENCH_BACKENDS=embedded` (or `etcd`) limits both parts to one backend.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kube_apiserver::apiserver::{self, RunningServer};
use kube_apiserver::options::Options;
use serde_json::{Value, json};
use storage::Backend;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

const PODS: &str = "/api/v1/namespaces/default/pods";

/// The binary's allocator, so that the in-process part measures what ships.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Clone, Copy)]
struct Scale {
    clients: usize,
    operations: usize,
    list_pods: usize,
    lists: usize,
    watch_updates: usize,
    memory_pods: usize,
}

impl Scale {
    fn from_env() -> Scale {
        match std::env::var("APISERVER_BENCH_SCALE").as_deref() {
            Ok("small") => Scale {
                clients: 20,
                operations: 400,
                list_pods: 1_000,
                lists: 5,
                watch_updates: 50,
                memory_pods: 2_000,
            },
            _ => Scale {
                clients: 100,
                operations: 4_000,
                list_pods: 10_000,
                lists: 10,
                watch_updates: 200,
                memory_pods: 100_000,
            },
        }
    }
}

/// Builds a pod as a user would create it, about 1 KiB of JSON once defaulted.
fn pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench", "tier": "web"}},
        "spec": {"containers": [{
            "name": "web", "image": "nginx:1.25",
            "ports": [{"containerPort": 80}],
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
        }]},
    })
}

/// An HTTP/2 client pool over TLS that trusts the server's own certificate.
#[derive(Clone)]
struct Client {
    senders: Vec<http2::SendRequest<Full<Bytes>>>,
    base: String,
}

impl Client {
    async fn connect(server: &RunningServer, connections: usize) -> Client {
        Client::connect_to(server.address, &server.certificate.cert_file, connections).await
    }

    async fn connect_to(address: SocketAddr, cert_file: &Path, connections: usize) -> Client {
        let pem = std::fs::read(cert_file).expect("read certificate");
        let mut roots = rustls::RootCertStore::empty();
        for certificate in rustls_pemfile::certs(&mut pem.as_slice()) {
            roots.add(certificate.expect("certificate")).expect("root");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec()];
        let connector = TlsConnector::from(Arc::new(config));

        let mut senders = Vec::new();
        for _ in 0..connections {
            let tcp = TcpStream::connect(address).await.expect("connect");
            // Without it, a request's body frame waits for the ACK of its headers frame.
            tcp.set_nodelay(true).expect("set TCP_NODELAY");
            let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
            let tls = connector.connect(name, tcp).await.expect("TLS");
            let (sender, connection) = http2::Builder::new(TokioExecutor::new())
                .initial_stream_window_size(4 << 20)
                .initial_connection_window_size(16 << 20)
                .handshake(TokioIo::new(tls))
                .await
                .expect("HTTP/2 handshake");
            tokio::spawn(connection);
            senders.push(sender);
        }
        Client {
            senders,
            base: format!("https://127.0.0.1:{}", address.port()),
        }
    }

    async fn request(
        &self,
        index: usize,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Bytes) {
        let mut sender = self.senders[index % self.senders.len()].clone();
        let payload = body
            .map(|body| Bytes::from(body.to_string()))
            .unwrap_or_default();
        let request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(Full::new(payload))
            .expect("request");
        sender.ready().await.expect("connection ready");
        let response = sender.send_request(request).await.expect("send request");
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("read body")
            .to_bytes();
        (status, body)
    }
}

/// Creates the namespace's `default` ServiceAccount, as the controller manager does
/// in a cluster, so that pod admission finds it in the watch cache.
async fn create_default_service_account(client: &Client, namespace: &str) {
    let account =
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}});
    let path = format!("/api/v1/namespaces/{namespace}/serviceaccounts");
    let (status, body) = client.request(0, "POST", &path, Some(&account)).await;
    assert!(
        status == 201 || status == 409,
        "{status}: {}",
        String::from_utf8_lossy(&body)
    );
}

fn percentile(samples: &mut [Duration], percent: f64) -> Duration {
    samples.sort();
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((percent / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

fn report(backend: &str, operation: &str, samples: Vec<Duration>, elapsed: Option<Duration>) {
    println!("{}", report_row(backend, operation, samples, elapsed));
}

/// Formats one latency table row: p50, p99 and, given the wall time, requests per
/// second.
fn report_row(
    backend: &str,
    operation: &str,
    mut samples: Vec<Duration>,
    elapsed: Option<Duration>,
) -> String {
    let rate = elapsed.map_or("-".to_string(), |elapsed| {
        format!("{:.0}", samples.len() as f64 / elapsed.as_secs_f64())
    });
    let p50 = percentile(&mut samples, 50.0);
    let p99 = percentile(&mut samples, 99.0);
    format!(
        "| {backend} | {operation} | {:.2} ms | {:.2} ms | {rate} |",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    )
}

/// Request rate of the paced runs: the goal's 2,000 requests per second.
const PACED_RATE: u32 = 2_000;

/// Starts `count` operations at `rate` per second whatever their latency (an open
/// loop), and returns each one's time from its scheduled start to its end, so that a
/// late start counts against the server, with the wall time.
async fn paced<F, Fut>(rate: u32, count: usize, operation: F) -> (Vec<Duration>, Duration)
where
    F: Fn(usize) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let period = Duration::from_secs(1) / rate;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for index in 0..count {
        let scheduled = started + period * index as u32;
        tokio::time::sleep_until(scheduled.into()).await;
        let work = operation(index);
        tasks.push(tokio::spawn(async move {
            work.await;
            scheduled.elapsed()
        }));
    }
    let mut samples = Vec::with_capacity(count);
    for task in tasks {
        samples.push(task.await.expect("paced task"));
    }
    (samples, started.elapsed())
}

/// Runs `count` operations spread over `clients` tasks; returns latencies and wall time.
async fn concurrently<F, Fut>(
    clients: usize,
    count: usize,
    operation: F,
) -> (Vec<Duration>, Duration)
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let operation = operation.clone();
            tokio::spawn(async move {
                let mut samples = Vec::new();
                let mut index = client;
                while index < count {
                    let begin = Instant::now();
                    operation(index).await;
                    samples.push(begin.elapsed());
                    index += clients;
                }
                samples
            })
        })
        .collect();
    let mut samples = Vec::with_capacity(count);
    for task in tasks {
        samples.extend(task.await.expect("client task"));
    }
    (samples, started.elapsed())
}

async fn start_server(dir: &std::path::Path, etcd: Option<&str>) -> RunningServer {
    let data_dir = format!("--data-dir={}", dir.join("data").display());
    let cert_dir = format!("--cert-dir={}", dir.join("certs").display());
    let mut args = vec![
        "kube-apiserver".to_string(),
        "--bind-address=127.0.0.1".into(),
        "--secure-port=0".into(),
        "--max-requests-inflight=1000".into(),
        "--max-mutating-requests-inflight=1000".into(),
        data_dir,
        cert_dir,
    ];
    if let Some(endpoints) = etcd {
        args.push(format!("--etcd-servers={endpoints}"));
    }
    if let Ok(extra) = std::env::var("APISERVER_BENCH_SERVER_ARGS") {
        args.extend(extra.split_whitespace().map(str::to_string));
    }
    let server = apiserver::start(Options::try_parse_from(args).expect("flags"))
        .await
        .expect("start");
    // Wait for the namespaces and the caches.
    for _ in 0..200 {
        if server
            .backend
            .count("/registry/namespaces/")
            .await
            .unwrap_or(0)
            >= 4
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server
}

async fn raw_backend(name: &str, backend: &Arc<dyn Backend>, scale: Scale) {
    let value = Bytes::from(pod("raw").to_string());
    let backend_for_writes = backend.clone();
    let (samples, elapsed) = concurrently(scale.clients, scale.operations, move |index| {
        let backend = backend_for_writes.clone();
        let value = value.clone();
        async move {
            backend
                .create(&format!("/raw-bench/{index:07}"), value)
                .await
                .expect("raw create");
        }
    })
    .await;
    report(name, "raw backend create", samples, Some(elapsed));
}

async fn api_workloads(name: &str, server: &RunningServer, scale: Scale) {
    let client = Client::connect(server, 4).await;
    create_default_service_account(&client, "default").await;

    let creator = client.clone();
    let (samples, elapsed) = concurrently(scale.clients, scale.operations, move |index| {
        let client = creator.clone();
        async move {
            let (status, body) = client
                .request(index, "POST", PODS, Some(&pod(&format!("p-{index:07}"))))
                .await;
            assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        }
    })
    .await;
    report(name, "pod create", samples, Some(elapsed));

    let getter = client.clone();
    let (samples, elapsed) = concurrently(scale.clients, scale.operations, move |index| {
        let client = getter.clone();
        async move {
            let (status, _) = client
                .request(index, "GET", &format!("{PODS}/p-{index:07}"), None)
                .await;
            assert_eq!(status, 200);
        }
    })
    .await;
    report(name, "pod get", samples, Some(elapsed));

    // The goal's form: single-object calls at a fixed 2,000 requests per second,
    // each timed from its scheduled start.
    let creator = client.clone();
    let (samples, elapsed) = paced(PACED_RATE, scale.operations, move |index| {
        let client = creator.clone();
        async move {
            let (status, body) = client
                .request(index, "POST", PODS, Some(&pod(&format!("r-{index:07}"))))
                .await;
            assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        }
    })
    .await;
    report(name, "pod create at 2,000/s", samples, Some(elapsed));
    let getter = client.clone();
    let (samples, elapsed) = paced(PACED_RATE, scale.operations, move |index| {
        let client = getter.clone();
        async move {
            let (status, _) = client
                .request(index, "GET", &format!("{PODS}/r-{index:07}"), None)
                .await;
            assert_eq!(status, 200);
        }
    })
    .await;
    report(name, "pod get at 2,000/s", samples, Some(elapsed));

    // Updates at the same rate. Each pod is read first, untimed, so that the timed
    // request is the PUT alone.
    let reader = client.clone();
    let mut current = Vec::with_capacity(scale.operations);
    for index in 0..scale.operations {
        let (status, body) = reader
            .request(index, "GET", &format!("{PODS}/r-{index:07}"), None)
            .await;
        assert_eq!(status, 200);
        let mut object: Value = serde_json::from_slice(&body).expect("pod JSON");
        object["metadata"]["labels"]["updated"] = json!("paced");
        current.push(object);
    }
    let current = Arc::new(current);
    let updater = client.clone();
    let (samples, elapsed) = paced(PACED_RATE, scale.operations, move |index| {
        let client = updater.clone();
        let current = current.clone();
        async move {
            let path = format!("{PODS}/r-{index:07}");
            let (status, body) = client
                .request(index, "PUT", &path, Some(&current[index]))
                .await;
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        }
    })
    .await;
    report(name, "pod update (put) at 2,000/s", samples, Some(elapsed));

    let updater = client.clone();
    let (samples, elapsed) = concurrently(scale.clients, scale.operations / 2, move |index| {
        let client = updater.clone();
        async move {
            let path = format!("{PODS}/p-{index:07}");
            let (_, body) = client.request(index, "GET", &path, None).await;
            let mut object: Value = serde_json::from_slice(&body).expect("pod JSON");
            object["metadata"]["labels"]["updated"] = json!("yes");
            let (status, body) = client.request(index, "PUT", &path, Some(&object)).await;
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        }
    })
    .await;
    report(name, "pod update (get + put)", samples, Some(elapsed));

    // Fill up to the list size, then list from the cache and from storage.
    let filler = client.clone();
    // The creates above stored 2 * operations pods.
    let extra = scale.list_pods.saturating_sub(2 * scale.operations);
    concurrently(scale.clients, extra, move |index| {
        let client = filler.clone();
        async move {
            client
                .request(index, "POST", PODS, Some(&pod(&format!("fill-{index:07}"))))
                .await;
        }
    })
    .await;
    for (label, query) in [
        ("list from cache (rv=0)", "?resourceVersion=0"),
        ("list from storage", ""),
    ] {
        let mut samples = Vec::new();
        for index in 0..scale.lists {
            let begin = Instant::now();
            let (status, body) = client
                .request(index, "GET", &format!("{PODS}{query}"), None)
                .await;
            samples.push(begin.elapsed());
            assert_eq!(status, 200);
            let list: Value = serde_json::from_slice(&body).expect("list JSON");
            assert!(list["items"].as_array().map_or(0, Vec::len) >= scale.list_pods);
        }
        report(
            name,
            &format!("{label}, {} pods", scale.list_pods),
            samples,
            None,
        );
    }

    watch_latency(name, &client, scale).await;
}

/// Times each update from the PUT until a watcher receives the event.
async fn watch_latency(name: &str, client: &Client, scale: Scale) {
    let mut sender = client.senders[0].clone();
    let request = hyper::Request::get(format!("{}{PODS}?watch=1&timeoutSeconds=600", client.base))
        .body(Full::new(Bytes::new()))
        .expect("request");
    sender.ready().await.expect("ready");
    let response = sender.send_request(request).await.expect("watch");
    let mut body = response.into_body();
    let mut samples = Vec::with_capacity(scale.watch_updates);
    let mut pending = Vec::new();
    for index in 0..scale.watch_updates {
        let path = format!("{PODS}/p-{index:07}");
        let marker = format!("mark-{index}");
        let patch = json!({"metadata": {"annotations": {"bench": marker}}});
        let begin = Instant::now();
        let mut patcher = client.senders[1 % client.senders.len()].clone();
        let request = hyper::Request::patch(format!("{}{path}", client.base))
            .header("content-type", "application/merge-patch+json")
            .body(Full::new(Bytes::from(patch.to_string())))
            .expect("request");
        patcher.ready().await.expect("ready");
        let response = patcher.send_request(request).await.expect("patch");
        assert_eq!(response.status(), 200);
        let _ = response.into_body().collect().await;
        let needle = format!("\"{marker}\"").into_bytes();
        let mut found = false;
        while !found {
            let frame = tokio::time::timeout(Duration::from_secs(30), body.frame())
                .await
                .expect("watch event timed out")
                .expect("watch ended")
                .expect("watch failed");
            let Ok(data) = frame.into_data() else {
                continue;
            };
            pending.extend_from_slice(&data);
            // Each event ends with a newline; look at each complete line once, so
            // that the initial events of every stored pod cost linear time.
            let mut start = 0;
            while let Some(length) = pending[start..].iter().position(|&byte| byte == b'\n') {
                let line = &pending[start..start + length];
                start += length + 1;
                if line
                    .windows(needle.len())
                    .any(|window| window == needle.as_slice())
                {
                    found = true;
                    break;
                }
            }
            pending.drain(..start);
        }
        samples.push(begin.elapsed());
    }
    report(name, "write to watch event", samples, None);
}

/// Resident memory of one process, from `/proc/PID/status` and `/proc/PID/smaps_rollup`.
#[derive(Clone, Copy, Debug, Default)]
struct ProcessMemory {
    /// `VmRSS`: every resident page of the process.
    rss: u64,
    /// `RssAnon`: resident anonymous pages (the heap and thread stacks).
    rss_anon: u64,
    /// `RssFile`: resident pages of mapped files (the binary and libraries).
    rss_file: u64,
    /// `Private_Dirty` of smaps_rollup: pages only this process wrote.
    private_dirty: u64,
}

impl ProcessMemory {
    fn read(pid: u32) -> ProcessMemory {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        ProcessMemory {
            rss: kib_field(&status, "VmRSS:"),
            rss_anon: kib_field(&status, "RssAnon:"),
            rss_file: kib_field(&status, "RssFile:"),
            private_dirty: kib_field(&rollup, "Private_Dirty:"),
        }
    }
}

/// Returns the value of a `Name:   123 kB` line in bytes, 0 when absent.
fn kib_field(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|line| line.starts_with(name))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

/// The release `kube-apiserver` binary running as its own process, so that its
/// resident memory excludes the benchmark's client. Dropping it kills the process.
struct ServerProcess {
    child: Child,
    address: SocketAddr,
    cert_file: PathBuf,
    log_file: PathBuf,
}

impl ServerProcess {
    /// Starts the binary on a free loopback port with its data and certificates in
    /// `dir`, and waits until `/readyz` returns 200 and the system namespaces exist.
    /// `APISERVER_BENCH_SERVER_ARGS` (whitespace-separated) adds flags, and
    /// `APISERVER_BENCH_BINARY` runs another build of the binary, for comparisons.
    async fn start(dir: &Path, etcd: Option<&str>) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("find a free port")
            .port();
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let log_file = dir.join("kube-apiserver.log");
        let log = std::fs::File::create(&log_file).expect("create the server log");
        let binary = std::env::var("APISERVER_BENCH_BINARY")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_kube-apiserver").to_string());
        let mut command = Command::new(binary);
        command
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--secure-port={port}"))
            .arg("--max-requests-inflight=1000")
            .arg("--max-mutating-requests-inflight=1000")
            .arg(format!("--data-dir={}", dir.join("data").display()))
            .arg(format!("--cert-dir={}", dir.join("certs").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(endpoints) = etcd {
            command.arg(format!("--etcd-servers={endpoints}"));
        }
        if let Ok(extra) = std::env::var("APISERVER_BENCH_SERVER_ARGS") {
            command.args(extra.split_whitespace());
        }
        let child = command.spawn().expect("start the kube-apiserver binary");
        let mut server = ServerProcess {
            child,
            address,
            cert_file: dir.join("certs").join("apiserver.crt"),
            log_file,
        };
        server.wait_ready().await;
        server
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "kube-apiserver exited with {status} before it was ready; log:\n{}",
                    std::fs::read_to_string(&self.log_file).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "kube-apiserver was not ready within 60 s; log: {}",
                self.log_file.display()
            );
            if self.cert_file.exists() && TcpStream::connect(self.address).await.is_ok() {
                let client = Client::connect_to(self.address, &self.cert_file, 1).await;
                let (ready, _) = client.request(0, "GET", "/readyz", None).await;
                let (namespace, _) = client
                    .request(0, "GET", "/api/v1/namespaces/kube-public", None)
                    .await;
                if ready == 200 && namespace == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Stores `scale.memory_pods` pods through a `kube-apiserver` process and reports
/// its resident memory per pod beyond the pods' JSON size. Returns latency rows for
/// the load's creates and for gets and updates of pods spread over the full store,
/// timed after the memory reading so that they do not change it.
async fn memory(name: &str, dir: &Path, etcd: Option<&str>, scale: Scale) -> Vec<String> {
    let server = ServerProcess::start(dir, etcd).await;
    let client = Client::connect_to(server.address, &server.cert_file, 4).await;
    create_default_service_account(&client, "kube-public").await;
    // Let start-up work (bootstrap objects, cache fills) finish first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = ProcessMemory::read(server.pid());

    let creator = client.clone();
    let started = Instant::now();
    let (load_samples, _) = concurrently(scale.clients, scale.memory_pods, move |index| {
        let client = creator.clone();
        async move {
            let (status, body) = client
                .request(
                    index,
                    "POST",
                    "/api/v1/namespaces/kube-public/pods",
                    Some(&pod(&format!("m-{index:07}"))),
                )
                .await;
            assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        }
    })
    .await;
    let load_time = started.elapsed();
    let (status, stored) = client
        .request(
            0,
            "GET",
            "/api/v1/namespaces/kube-public/pods/m-0000000",
            None,
        )
        .await;
    assert_eq!(status, 200);
    // Let the watch cache apply the last events, and the server hand the heap freed by
    // the load back to the system (it trims a second or two after a burst of
    // requests), before reading memory.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = ProcessMemory::read(server.pid());

    let pods = scale.memory_pods as f64;
    let per_pod = after.rss.saturating_sub(before.rss) as f64 / pods;
    println!(
        "| {name} | {} | {} | {} | {} | {} | {:.0} | {:.0} |",
        mib(before.rss),
        mib(after.rss),
        mib(after.rss_anon.saturating_sub(before.rss_anon)),
        mib(after.private_dirty.saturating_sub(before.private_dirty)),
        mib(after.rss_file),
        per_pod,
        per_pod - stored.len() as f64,
    );
    eprintln!(
        "{name}: {} pods loaded in {:.1} s; one stored pod is {} bytes of JSON",
        scale.memory_pods,
        load_time.as_secs_f64(),
        stored.len()
    );

    let mut rows = vec![report_row(
        name,
        &format!("pod create while loading {} pods", scale.memory_pods),
        load_samples,
        Some(load_time),
    )];
    // Spread the reads and writes over the whole store, so that most miss the
    // embedded store's page cache.
    let spread = move |index: usize| (index * 7_919) % scale.memory_pods;
    let getter = client.clone();
    let (samples, elapsed) = concurrently(scale.clients, scale.operations, move |index| {
        let client = getter.clone();
        async move {
            let path = format!("/api/v1/namespaces/kube-public/pods/m-{:07}", spread(index));
            let (status, _) = client.request(index, "GET", &path, None).await;
            assert_eq!(status, 200);
        }
    })
    .await;
    rows.push(report_row(
        name,
        "pod get, full store",
        samples,
        Some(elapsed),
    ));
    let updater = client.clone();
    let (samples, elapsed) = concurrently(scale.clients, scale.operations / 2, move |index| {
        let client = updater.clone();
        async move {
            let path = format!("/api/v1/namespaces/kube-public/pods/m-{:07}", spread(index));
            let (_, body) = client.request(index, "GET", &path, None).await;
            let mut object: Value = serde_json::from_slice(&body).expect("pod JSON");
            object["metadata"]["labels"]["updated"] = json!("yes");
            let (status, body) = client.request(index, "PUT", &path, Some(&object)).await;
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        }
    })
    .await;
    rows.push(report_row(
        name,
        "pod update (get + put), full store",
        samples,
        Some(elapsed),
    ));
    rows
}

/// Runs the memory measurement on both backends: the embedded store inside the
/// server process, and etcd in a process of its own.
async fn memory_on_both_backends(scale: Scale) {
    println!(
        "\nkube-apiserver process holding {} pods (RSS from /proc/PID/status, dirty pages from smaps_rollup):\n",
        scale.memory_pods
    );
    println!(
        "| backend | RSS before | RSS after | anonymous RSS added | private dirty added | file RSS after | bytes per pod | overhead per pod beyond its JSON |"
    );
    println!("|---|---|---|---|---|---|---|---|");

    let mut rows = Vec::new();
    if runs_backend("embedded") {
        let embedded_dir = tempfile::tempdir().expect("temp dir");
        rows.extend(memory("embedded", embedded_dir.path(), None, scale).await);
    }
    if runs_backend("etcd") {
        let etcd = tokio::task::spawn_blocking(storage::testing::EtcdServer::start)
            .await
            .expect("join")
            .expect("start etcd");
        let etcd_dir = tempfile::tempdir().expect("temp dir");
        rows.extend(
            memory(
                "etcd",
                etcd_dir.path(),
                Some(&etcd.endpoints().join(",")),
                scale,
            )
            .await,
        );
    }
    println!(
        "\nLatency through the same processes, {} clients:\n",
        scale.clients
    );
    println!("| backend | operation | p50 | p99 | requests/s |\n|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
}

/// Returns whether the memory measurement runs on `backend`, as chosen by
/// `APISERVER_BENCH_BACKENDS` (comma-separated, `embedded` and `etcd` by default).
fn runs_backend(backend: &str) -> bool {
    std::env::var("APISERVER_BENCH_BACKENDS").map_or(true, |backends| {
        backends.split(',').any(|name| name.trim() == backend)
    })
}

fn main() {
    let scale = Scale::from_env();
    // `cargo bench ... -- memory` runs only the memory measurement, `-- latency`
    // only the latency one.
    let memory_only = std::env::args().skip(1).any(|arg| arg == "memory");
    let latency_only = std::env::args().skip(1).any(|arg| arg == "latency");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        if !memory_only {
            latency_on_both_backends(scale).await;
        }
        if !latency_only {
            memory_on_both_backends(scale).await;
        }
    });
}

async fn latency_on_both_backends(scale: Scale) {
    println!(
        "apiserver bench: {} clients, {} operations, lists of {} pods",
        scale.clients, scale.operations, scale.list_pods
    );
    println!("\n| backend | operation | p50 | p99 | requests/s |\n|---|---|---|---|---|");

    if runs_backend("embedded") {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = start_server(dir.path(), None).await;
        raw_backend("embedded", &server.backend, scale).await;
        api_workloads("embedded", &server, scale).await;
        server.shutdown().await;
    }
    if !runs_backend("etcd") {
        return;
    }

    let etcd = tokio::task::spawn_blocking(storage::testing::EtcdServer::start)
        .await
        .expect("join")
        .expect("start etcd");
    let etcd_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(etcd_dir.path(), Some(&etcd.endpoints().join(","))).await;
    raw_backend("etcd", &server.backend, scale).await;
    api_workloads("etcd", &server, scale).await;
    server.shutdown().await;
}
