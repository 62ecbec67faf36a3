//! Time and memory to sync a pod cache: our shared informer against kube-rs's
//! reflector, each in a fresh child process against one in-process kube-apiserver.
//!
//! Run: `cargo bench -p client --features bench-kube --bench informer_sync`.
//! `BENCH_PODS` sets the number of pods (2000 by default). Each child prints the
//! time from start to a synced cache and its resident memory afterwards (VmRSS)
//! and at peak (VmHWM).

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use client::api::{Api, PostParams};
use client::config::{AuthConfig, RestConfig, TlsConfig};
use client::informer::{EventHandlerFuncs, SharedInformerFactory};
use client::rest::RestClient;
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_apiserver::apiserver;
use kube_apiserver::options::Options;
use tokio::sync::watch;

const TOKEN: &str = "bench-token";

/// How long a client may take to sync before its run counts as failed.
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if args.get(1).map(String::as_str) == Some("child") {
        let which = args[2].clone();
        let host = args[3].clone();
        let ca = args[4].clone();
        let kubeconfig = args[5].clone();
        let count: usize = args[6].parse().expect("pod count");
        let elapsed = runtime.block_on(async move {
            let sync = async {
                match which.as_str() {
                    "ours" => sync_ours(&host, &ca, count).await,
                    "kube-rs" => sync_kube(&kubeconfig, count).await,
                    other => panic!("unknown client {other}"),
                }
            };
            tokio::time::timeout(CHILD_TIMEOUT, sync)
                .await
                .unwrap_or_else(|_| panic!("{which} did not sync within {CHILD_TIMEOUT:?}"))
        });
        let (rss, peak) = memory_kib();
        println!("{} {} {}", elapsed.as_millis(), rss, peak);
        return;
    }
    runtime.block_on(parent());
}

async fn parent() {
    let count: usize = std::env::var("BENCH_PODS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().expect("temp dir");
    let options = Options::try_parse_from([
        "kube-apiserver".to_string(),
        "--bind-address=127.0.0.1".to_string(),
        "--secure-port=0".to_string(),
        format!("--data-dir={}", dir.path().join("data").display()),
        format!("--cert-dir={}", dir.path().join("certs").display()),
    ])
    .expect("flags");
    let server = apiserver::start(options)
        .await
        .expect("start kube-apiserver");
    let host = format!("https://127.0.0.1:{}", server.address.port());
    let ca = server.certificate.cert_file.display().to_string();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: bench\n  cluster:\n    server: {host}\n    certificate-authority: {ca}\nusers:\n- name: bench\n  user:\n    token: {TOKEN}\ncontexts:\n- name: bench\n  context:\n    cluster: bench\n    user: bench\ncurrent-context: bench\n"
        ),
    )
    .expect("write kubeconfig");

    let client = rest_client(&host, &ca).await;
    let started = Instant::now();
    create_pods(&client, count).await;
    println!(
        "created {count} pods in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let exe = std::env::current_exe().expect("current exe");
    println!(
        "{:<8} {:>10} {:>12} {:>12}",
        "client", "sync ms", "rss KiB", "peak KiB"
    );
    for which in ["ours", "kube-rs", "ours", "kube-rs"] {
        let output = Command::new(&exe)
            .args([
                "child",
                which,
                &host,
                &ca,
                &kubeconfig.display().to_string(),
                &count.to_string(),
            ])
            .output()
            .expect("run child");
        if !output.status.success() {
            println!(
                "{which:<8} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
            continue;
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let fields: Vec<&str> = text.split_whitespace().collect();
        println!(
            "{:<8} {:>10} {:>12} {:>12}",
            which, fields[0], fields[1], fields[2]
        );
    }
    server.shutdown().await;
}

async fn rest_client(host: &str, ca: &str) -> RestClient {
    let config = RestConfig {
        host: host.to_string(),
        tls: TlsConfig {
            ca_file: Some(ca.into()),
            ..TlsConfig::default()
        },
        auth: AuthConfig {
            token: Some(TOKEN.to_string()),
            ..AuthConfig::default()
        },
        qps: -1.0,
        burst: 0,
        timeout: Some(Duration::from_secs(60)),
        user_agent: String::new(),
    };
    let client = RestClient::new(&config).expect("client");
    for _ in 0..600 {
        if let Ok(response) = client.get("/readyz").send().await
            && response.status.is_success()
        {
            return client;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server not ready");
}

async fn create_pods(client: &RestClient, count: usize) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let pods = pods.clone();
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return;
                }
                pods.create(&pod(i), &PostParams::default())
                    .await
                    .expect("create pod");
            }
        }));
    }
    for worker in workers {
        worker.await.expect("worker");
    }
}

fn pod(i: usize) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(format!("pod-{i:06}")),
            labels: Some([("app".to_string(), format!("app-{}", i % 10))].into()),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            node_name: Some(format!("node-{}", i % 50)),
            containers: vec![Container {
                name: "main".to_string(),
                image: Some("registry.example/app:1.0".to_string()),
                args: Some(vec!["--serve".to_string(), "--port=8080".to_string()]),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

async fn sync_ours(host: &str, ca: &str, count: usize) -> Duration {
    let client = rest_client(host, ca).await;
    let started = Instant::now();
    let factory = SharedInformerFactory::new(client, Duration::ZERO);
    let informer = factory.informer::<Pod>();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let registration = informer
        .add_event_handler(EventHandlerFuncs::new().on_add(move |_: &Arc<Pod>, _| {
            counter.fetch_add(1, Ordering::Relaxed);
        }))
        .expect("handler");
    let (_stop, cancel) = watch::channel(false);
    factory.start(cancel.clone());
    assert!(factory.wait_for_cache_sync(cancel).await);
    while !registration.has_synced() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    assert_eq!(informer.lister().list().len(), count);
    assert_eq!(seen.load(Ordering::Relaxed), count);
    elapsed
}

async fn sync_kube(kubeconfig: &str, count: usize) -> Duration {
    use futures_util::StreamExt;
    use kube::runtime::{WatchStreamExt, reflector, watcher};

    let kubeconfig = kube::config::Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("kube config");
    let client = kube::Client::try_from(config).expect("kube client");
    let started = Instant::now();
    let api: kube::Api<Pod> = kube::Api::all(client);
    let (reader, writer) = reflector::store();
    let stream = reflector(writer, watcher(api, watcher::Config::default())).applied_objects();
    tokio::spawn(stream.for_each(|_| futures_util::future::ready(())));
    reader.wait_until_ready().await.expect("store ready");
    let elapsed = started.elapsed();
    assert_eq!(reader.state().len(), count);
    elapsed
}

/// Returns (VmRSS, VmHWM) of this process in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
