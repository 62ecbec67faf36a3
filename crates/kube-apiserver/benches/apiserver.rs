//! API server benchmark: pod create, get, update, list and watch latency through the
//! whole server (TLS, HTTP/2, decoding, validation, storage) with 100 concurrent
//! clients. It runs on the embedded store and on etcd, beside the raw backend, in one
//! run, and then measures the server's memory per stored pod.
//!
//! Run with `make bench` or `cargo bench -p kube-apiserver --bench apiserver`.
//! `APISERVER_BENCH_SCALE=small` runs a quick pass.

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
        let pem = std::fs::read(&server.certificate.cert_file).expect("read certificate");
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
            let tcp = TcpStream::connect(server.address).await.expect("connect");
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
            base: format!("https://127.0.0.1:{}", server.address.port()),
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

fn percentile(samples: &mut [Duration], percent: f64) -> Duration {
    samples.sort();
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((percent / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

fn report(backend: &str, operation: &str, mut samples: Vec<Duration>, elapsed: Option<Duration>) {
    let rate = elapsed.map_or("-".to_string(), |elapsed| {
        format!("{:.0}", samples.len() as f64 / elapsed.as_secs_f64())
    });
    let p50 = percentile(&mut samples, 50.0);
    let p99 = percentile(&mut samples, 99.0);
    println!(
        "| {backend} | {operation} | {:.2} ms | {:.2} ms | {rate} |",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
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
    let extra = scale.list_pods.saturating_sub(scale.operations);
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
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(30), body.frame())
                .await
                .expect("watch event timed out")
                .expect("watch ended")
                .expect("watch failed");
            if let Ok(data) = frame.into_data() {
                pending.extend_from_slice(&data);
                if String::from_utf8_lossy(&pending).contains(&format!("\"{marker}\"")) {
                    pending.clear();
                    break;
                }
            }
        }
        samples.push(begin.elapsed());
    }
    report(name, "write to watch event", samples, None);
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// Stores many pods through the server and reports resident memory per pod beyond
/// the pods' JSON size.
async fn memory(server: &RunningServer, scale: Scale) {
    let client = Client::connect(server, 4).await;
    let before = rss_bytes();
    let sample = pod("m-0000000");
    let creator = client.clone();
    concurrently(scale.clients, scale.memory_pods, move |index| {
        let client = creator.clone();
        async move {
            let (status, _) = client
                .request(
                    index,
                    "POST",
                    "/api/v1/namespaces/kube-public/pods",
                    Some(&pod(&format!("m-{index:07}"))),
                )
                .await;
            assert_eq!(status, 201);
        }
    })
    .await;
    let (_, stored) = client
        .request(
            0,
            "GET",
            "/api/v1/namespaces/kube-public/pods/m-0000000",
            None,
        )
        .await;
    let after = rss_bytes();
    let per_pod = after.saturating_sub(before) as f64 / scale.memory_pods as f64;
    let _ = sample;
    println!(
        "\nRSS: {:.1} MiB before, {:.1} MiB after {} pods: {:.0} bytes per pod; one stored pod is {} bytes of JSON, so {:.0} bytes of overhead per pod (in-process: the benchmark's client shares the process)",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        scale.memory_pods,
        per_pod,
        stored.len(),
        per_pod - stored.len() as f64
    );
}

fn main() {
    let scale = Scale::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        println!(
            "apiserver bench: {} clients, {} operations, lists of {} pods",
            scale.clients, scale.operations, scale.list_pods
        );
        println!("\n| backend | operation | p50 | p99 | requests/s |\n|---|---|---|---|---|");

        let dir = tempfile::tempdir().expect("temp dir");
        let server = start_server(dir.path(), None).await;
        raw_backend("embedded", &server.backend, scale).await;
        api_workloads("embedded", &server, scale).await;
        server.shutdown().await;

        let etcd = tokio::task::spawn_blocking(storage::testing::EtcdServer::start)
            .await
            .expect("join")
            .expect("start etcd");
        let etcd_dir = tempfile::tempdir().expect("temp dir");
        let server = start_server(etcd_dir.path(), Some(&etcd.endpoints().join(","))).await;
        raw_backend("etcd", &server.backend, scale).await;
        api_workloads("etcd", &server, scale).await;
        server.shutdown().await;

        let memory_dir = tempfile::tempdir().expect("temp dir");
        let server = start_server(memory_dir.path(), None).await;
        memory(&server, scale).await;
        server.shutdown().await;
    });
}
