//! Time and memory to sync a pod cache and then follow updates: our shared informer
//! against kube-rs's reflector, each in a fresh child process against one in-process
//! kube-apiserver.
//!
//! Run: `cargo bench -p client --features bench-kube --bench informer_sync`.
//! `BENCH_PODS` sets the number of pods (2000 by default). `BENCH_UPDATE_RATE`
//! (updates per second, 1000 by default) and `BENCH_UPDATE_SECONDS` (10 by default)
//! set the update phase. `BENCH_STRIP_MANAGED_FIELDS=1` makes both clients drop
//! `metadata.managedFields` before caching (ours with an informer transform, kube-rs
//! with `WatchStreamExt::modify`), as upstream kube-controller-manager does.
//! A third client, "packed", is our informer with a packed cache
//! (`SharedInformerFactory::with_packed_caches`), as the controller manager runs it.
//!
//! Each child syncs its cache and reports the time from start to a synced cache and
//! its memory: resident (VmRSS), resident at peak (VmHWM), and the live and peak heap
//! that a counting global allocator sees. The parent then patches an annotation on
//! the pods at the update rate, stamping each patch with the wall-clock time it was
//! sent. The child measures each update's lag from that stamp to the moment its
//! handler (ours) or its reflector stream (kube-rs) sees the new object, and reports
//! the lag percentiles and its memory once every update has arrived.

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use client::api::{Api, PostParams};
use client::cache::Store;
use client::config::{AuthConfig, RestConfig, TlsConfig};
use client::informer::{EventHandlerFuncs, SharedInformerFactory, strip_managed_fields};
use client::rest::{PatchType, RestClient};
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_apiserver::apiserver;
use kube_apiserver::options::Options;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{Semaphore, watch};

const TOKEN: &str = "bench-token";

/// The annotation each update sets to `<round>:<unix nanoseconds when sent>`.
const SENT_AT: &str = "bench.k8s.io/sent-at";

/// How long a client may take to sync before its run counts as failed.
const CHILD_TIMEOUT: Duration = Duration::from_secs(300);

/// How long a child waits for the last updates after the parent stopped sending.
const FOLLOW_TIMEOUT: Duration = Duration::from_secs(60);

/// The most update requests in flight at once.
const UPDATE_CONCURRENCY: usize = 64;

/// Counts live and peak heap bytes on top of the system allocator.
struct CountingAllocator;

static HEAP_LIVE: AtomicUsize = AtomicUsize::new(0);
static HEAP_PEAK: AtomicUsize = AtomicUsize::new(0);

fn count_alloc(size: usize) {
    let live = HEAP_LIVE.fetch_add(size, Ordering::Relaxed) + size;
    HEAP_PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` with the caller's arguments; the
// counters do not affect the returned memory.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as received.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count_alloc(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as received.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count_alloc(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) };
        HEAP_LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as received.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            HEAP_LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            count_alloc(new_size);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// A child's memory at one moment, in KiB.
struct Memory {
    rss: u64,
    rss_peak: u64,
    heap: u64,
    heap_peak: u64,
}

impl Memory {
    fn now() -> Self {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|line| line.starts_with(name))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Self {
            rss: field("VmRSS:"),
            rss_peak: field("VmHWM:"),
            heap: (HEAP_LIVE.load(Ordering::Relaxed) / 1024) as u64,
            heap_peak: (HEAP_PEAK.load(Ordering::Relaxed) / 1024) as u64,
        }
    }

    fn fields(&self) -> String {
        format!(
            "{} {} {} {}",
            self.rss, self.rss_peak, self.heap, self.heap_peak
        )
    }
}

/// The update lags a child has seen, in microseconds.
#[derive(Clone, Default)]
struct Lags(Arc<Mutex<Vec<u64>>>);

impl Lags {
    /// Records the lag of `pod` if it carries a stamp of `round`.
    fn record(&self, pod: &Pod, round: &str) {
        let Some(stamp) = pod
            .metadata
            .annotations
            .as_ref()
            .and_then(|annotations| annotations.get(SENT_AT))
        else {
            return;
        };
        let Some((stamp_round, sent)) = stamp.split_once(':') else {
            return;
        };
        let Ok(sent) = sent.parse::<u128>() else {
            return;
        };
        if stamp_round != round {
            return;
        }
        let lag = unix_nanos().saturating_sub(sent) / 1000;
        self.0.lock().expect("lags").push(lag as u64);
    }

    fn len(&self) -> usize {
        self.0.lock().expect("lags").len()
    }

    /// Returns (p50, p99, max) in microseconds.
    fn percentiles(&self) -> (u64, u64, u64) {
        let mut lags = self.0.lock().expect("lags").clone();
        if lags.is_empty() {
            return (0, 0, 0);
        }
        lags.sort_unstable();
        let at = |q: f64| lags[((lags.len() - 1) as f64 * q).round() as usize];
        (at(0.50), at(0.99), lags[lags.len() - 1])
    }
}

fn unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if args.get(1).map(String::as_str) == Some("child") {
        runtime.block_on(child(&args[2..]));
        return;
    }
    runtime.block_on(parent());
}

/// Runs one client: `<which> <host> <ca> <kubeconfig> <pods> <round>`.
async fn child(args: &[String]) {
    let which = args[0].clone();
    let count: usize = args[4].parse().expect("pod count");
    let round = args[5].clone();
    let lags = Lags::default();

    let sync = async {
        match which.as_str() {
            "ours" => sync_ours(&args[1], &args[2], count, &round, &lags, false).await,
            "packed" => sync_ours(&args[1], &args[2], count, &round, &lags, true).await,
            "kube-rs" => sync_kube(&args[3], count, &round, &lags).await,
            other => panic!("unknown client {other}"),
        }
    };
    let (elapsed, _keep) = tokio::time::timeout(CHILD_TIMEOUT, sync)
        .await
        .unwrap_or_else(|_| panic!("{which} did not sync within {CHILD_TIMEOUT:?}"));
    println!("synced {} {}", elapsed.as_millis(), Memory::now().fields());

    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .expect("read the parent's done line");
        line
    })
    .await
    .expect("stdin reader");
    let sent: usize = line
        .trim()
        .strip_prefix("done ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("expected `done N`, got {line:?}"));
    let deadline = Instant::now() + FOLLOW_TIMEOUT;
    while lags.len() < sent && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (p50, p99, max) = lags.percentiles();
    println!(
        "followed {} {p50} {p99} {max} {}",
        lags.len(),
        Memory::now().fields()
    );
}

async fn parent() {
    let count = env_number("BENCH_PODS", 2000);
    let rate = env_number("BENCH_UPDATE_RATE", 1000).max(1);
    let seconds = env_number("BENCH_UPDATE_SECONDS", 10);
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
        "created {count} pods in {:.1} s; updates: {rate}/s for {seconds} s; managedFields {}",
        started.elapsed().as_secs_f64(),
        if strips_managed_fields() {
            "stripped"
        } else {
            "kept"
        }
    );

    let exe = std::env::current_exe().expect("current exe");
    println!(
        "{:<8} {:>8} {:>9} {:>9} {:>9} {:>9} | {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
        "client",
        "sync ms",
        "rss MiB",
        "hwm MiB",
        "heap MiB",
        "hpeak MiB",
        "sent/s",
        "seen",
        "p50 ms",
        "p99 ms",
        "max ms",
        "rss MiB",
        "heap MiB"
    );
    let order = ["ours", "packed", "kube-rs", "ours", "packed", "kube-rs"];
    for (round, which) in order.iter().enumerate() {
        let mut child = tokio::process::Command::new(&exe)
            .args([
                "child",
                which,
                &host,
                &ca,
                &kubeconfig.display().to_string(),
                &count.to_string(),
                &format!("round{round}"),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("run child");
        let mut stdin = child.stdin.take().expect("child stdin");
        let mut lines = BufReader::new(child.stdout.take().expect("child stdout")).lines();

        let Ok(Some(synced)) = lines.next_line().await else {
            let status = child.wait().await.expect("child exit");
            println!("{which:<8} failed before syncing: {status}");
            continue;
        };
        let update_started = Instant::now();
        let sent = send_updates(&client, count, rate, seconds, &format!("round{round}")).await;
        let sent_rate = sent as f64 / update_started.elapsed().as_secs_f64();
        stdin
            .write_all(format!("done {sent}\n").as_bytes())
            .await
            .expect("write to child");
        let followed = lines.next_line().await.ok().flatten().unwrap_or_default();
        let _ = child.wait().await;

        let synced: Vec<&str> = synced.split_whitespace().collect();
        let followed: Vec<&str> = followed.split_whitespace().collect();
        if synced.len() != 6 || followed.len() != 9 {
            println!("{which:<8} failed: {synced:?} {followed:?}");
            continue;
        }
        println!(
            "{:<8} {:>8} {:>9} {:>9} {:>9} {:>9} | {:>8.0} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
            which,
            synced[1],
            mib(synced[2]),
            mib(synced[3]),
            mib(synced[4]),
            mib(synced[5]),
            sent_rate,
            followed[1],
            millis(followed[2]),
            millis(followed[3]),
            millis(followed[4]),
            mib(followed[5]),
            mib(followed[7]),
        );
    }
    server.shutdown().await;
}

/// Returns true when both clients drop `metadata.managedFields`
/// (`BENCH_STRIP_MANAGED_FIELDS=1`).
fn strips_managed_fields() -> bool {
    env_number("BENCH_STRIP_MANAGED_FIELDS", 0) != 0
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Formats a KiB figure as MiB.
fn mib(kib: &str) -> String {
    format!("{:.1}", kib.parse::<f64>().unwrap_or(0.0) / 1024.0)
}

/// Formats a microsecond figure as milliseconds.
fn millis(micros: &str) -> String {
    format!("{:.1}", micros.parse::<f64>().unwrap_or(0.0) / 1000.0)
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

/// Patches `rate` pods a second for `seconds`, stamping each with `round` and the
/// time it is sent. Returns how many patches succeeded.
async fn send_updates(
    client: &RestClient,
    count: usize,
    rate: usize,
    seconds: usize,
    round: &str,
) -> usize {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let total = rate * seconds;
    let in_flight = Arc::new(Semaphore::new(UPDATE_CONCURRENCY));
    let succeeded = Arc::new(AtomicUsize::new(0));
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate as u32);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::with_capacity(total);

    for i in 0..total {
        ticks.tick().await;
        let permit = in_flight.clone().acquire_owned().await.expect("semaphore");
        let pods = pods.clone();
        let succeeded = succeeded.clone();
        let name = pod_name(i % count.max(1));
        let round = round.to_string();
        tasks.push(tokio::spawn(async move {
            let patch = serde_json::json!({
                "metadata": {"annotations": {SENT_AT: format!("{round}:{}", unix_nanos())}}
            });
            match pods.patch(&name, PatchType::Merge, &patch).await {
                Ok(_) => {
                    succeeded.fetch_add(1, Ordering::Relaxed);
                }
                Err(error) => eprintln!("update of {name} failed: {error}"),
            }
            drop(permit);
        }));
    }
    for task in tasks {
        task.await.expect("update task");
    }
    succeeded.load(Ordering::Relaxed)
}

fn pod_name(i: usize) -> String {
    format!("pod-{i:06}")
}

fn pod(i: usize) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(pod_name(i)),
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

/// Syncs our informer; the returned value keeps it running.
async fn sync_ours(
    host: &str,
    ca: &str,
    count: usize,
    round: &str,
    lags: &Lags,
    packed: bool,
) -> (Duration, Box<dyn Send>) {
    let client = rest_client(host, ca).await;
    let started = Instant::now();
    let mut factory = SharedInformerFactory::new(client, Duration::ZERO);
    if packed {
        factory = factory.with_packed_caches(|_| true);
    }
    let informer = factory.informer::<Pod>();
    if strips_managed_fields() {
        informer
            .set_transform(Arc::new(strip_managed_fields::<Pod>))
            .expect("transform before start");
    }
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let (lags, round) = (lags.clone(), round.to_string());
    let registration = informer
        .add_event_handler(
            EventHandlerFuncs::new()
                .on_add(move |_: &Arc<Pod>, _| {
                    counter.fetch_add(1, Ordering::Relaxed);
                })
                .on_update(move |_, new: &Arc<Pod>| lags.record(new, &round)),
        )
        .expect("handler");
    let (stop, cancel) = watch::channel(false);
    factory.start(cancel.clone());
    assert!(factory.wait_for_cache_sync(cancel).await);
    while !registration.has_synced() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    // Counting keys, not listed objects: a list would decode a packed cache whole
    // and make that the client's peak.
    assert_eq!(Store::list_keys(informer.indexer().as_ref()).len(), count);
    assert_eq!(seen.load(Ordering::Relaxed), count);
    (elapsed, Box::new((stop, factory)))
}

/// Syncs kube-rs's reflector; the returned value keeps its store alive.
async fn sync_kube(
    kubeconfig: &str,
    count: usize,
    round: &str,
    lags: &Lags,
) -> (Duration, Box<dyn Send>) {
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
    let strip = strips_managed_fields();
    let watch = watcher(api, watcher::Config::default()).modify(move |pod: &mut Pod| {
        if strip {
            pod.metadata.managed_fields = None;
        }
    });
    let stream = reflector(writer, watch);
    let (lags, round) = (lags.clone(), round.to_string());
    tokio::spawn(stream.for_each(move |event| {
        if let Ok(watcher::Event::Apply(pod)) = &event {
            lags.record(pod, &round);
        }
        futures_util::future::ready(())
    }));
    reader.wait_until_ready().await.expect("store ready");
    let elapsed = started.elapsed();
    assert_eq!(reader.state().len(), count);
    (elapsed, Box::new(reader))
}
