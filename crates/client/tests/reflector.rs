//! The reflector against a real kube-apiserver started in-process on a loopback port:
//! initial list, live events, pagination, relist after compaction, resync and
//! cancellation.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use client::cache::{
    BackoffOptions, CacheError, DeltaFIFO, DeltaFIFOOptions, DeltaType, Indexer, ObjectOrTombstone,
    PagedReplace, Reflector, ReflectorOptions, Store,
};
use client::config::{AuthConfig, RestConfig, TlsConfig};
use client::rest::RestClient;
use kube_apiserver::apiserver::{self, RunningServer};
use kube_apiserver::options::Options;
use serde_json::{Value, json};
use tokio::sync::watch;

/// A kube-apiserver on 127.0.0.1 with an embedded store in a temp dir.
struct TestServer {
    server: Option<RunningServer>,
    host: String,
    cert_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestServer {
    async fn start() -> TestServer {
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
        .expect("parse flags");
        let server = apiserver::start(options)
            .await
            .expect("start kube-apiserver");
        TestServer {
            host: format!("https://127.0.0.1:{}", server.address.port()),
            cert_file: server.certificate.cert_file.clone(),
            server: Some(server),
            _dir: dir,
        }
    }

    fn config(&self) -> RestConfig {
        RestConfig {
            host: self.host.clone(),
            tls: TlsConfig {
                ca_file: Some(self.cert_file.clone()),
                ..TlsConfig::default()
            },
            auth: AuthConfig {
                token: Some("test-token".to_string()),
                ..AuthConfig::default()
            },
            qps: 200.0,
            burst: 200,
            timeout: Some(Duration::from_secs(20)),
            user_agent: String::new(),
        }
    }

    async fn client(&self) -> RestClient {
        let client = RestClient::new(&self.config()).expect("build client");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = client.get("/readyz").send().await
                && response.status.is_success()
            {
                return client;
            }
            assert!(Instant::now() < deadline, "server not ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("server running")
    }

    async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

/// An indexer that counts replace and resync calls.
struct CountingStore {
    indexer: Indexer<Value>,
    replaces: AtomicUsize,
    resyncs: AtomicUsize,
}

impl CountingStore {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            indexer: Indexer::with_namespace_index(),
            replaces: AtomicUsize::new(0),
            resyncs: AtomicUsize::new(0),
        })
    }

    /// Returns name -> data of the configmaps held.
    fn contents(&self) -> BTreeMap<String, Value> {
        self.indexer
            .list()
            .into_iter()
            .map(|object| {
                let name = object["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                (name, object["data"].clone())
            })
            .collect()
    }
}

impl Store<Value> for CountingStore {
    fn add(&self, obj: Value) -> Result<(), CacheError> {
        self.indexer.add(obj)
    }

    fn update(&self, obj: Value) -> Result<(), CacheError> {
        self.indexer.update(obj)
    }

    fn delete(&self, obj: ObjectOrTombstone<Value>) -> Result<(), CacheError> {
        self.indexer.delete(obj)
    }

    fn replace(&self, list: Vec<Value>, resource_version: &str) -> Result<(), CacheError> {
        self.replaces.fetch_add(1, Ordering::SeqCst);
        self.indexer.replace(list, resource_version)
    }

    fn resync(&self) -> Result<(), CacheError> {
        self.resyncs.fetch_add(1, Ordering::SeqCst);
        self.indexer.resync()
    }

    fn list_keys(&self) -> Vec<String> {
        Store::list_keys(&self.indexer)
    }
}

async fn create(client: &RestClient, name: &str, value: &str) {
    let _: Value = client
        .post(CONFIGMAPS)
        .json(&json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name},
            "data": {"value": value},
        }))
        .request_json()
        .await
        .unwrap_or_else(|error| panic!("create {name}: {error}"));
}

async fn update(client: &RestClient, name: &str, value: &str) {
    let _: Value = client
        .patch(
            &format!("{CONFIGMAPS}/{name}"),
            client::rest::PatchType::Merge,
        )
        .json(&json!({"data": {"value": value}}))
        .request_json()
        .await
        .unwrap_or_else(|error| panic!("update {name}: {error}"));
}

async fn delete(client: &RestClient, name: &str) {
    let _: Value = client
        .delete(&format!("{CONFIGMAPS}/{name}"))
        .request_json()
        .await
        .unwrap_or_else(|error| panic!("delete {name}: {error}"));
}

/// Returns name -> data of the configmaps the server contains now.
async fn server_contents(client: &RestClient) -> BTreeMap<String, Value> {
    let list: Value = client
        .get(CONFIGMAPS)
        .request_json()
        .await
        .expect("list configmaps");
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|object| {
            (
                object["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                object["data"].clone(),
            )
        })
        .collect()
}

fn expected(pairs: &[(&str, &str)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), json!({"value": value})))
        .collect()
}

/// Waits up to 20 s for the store to hold exactly `want`.
async fn wait_for_contents(store: &CountingStore, want: &BTreeMap<String, Value>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let have = store.contents();
        if &have == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "store did not converge:\nhave {have:?}\nwant {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn short_watch_options() -> ReflectorOptions {
    ReflectorOptions {
        min_watch_timeout: Duration::from_secs(2),
        max_watch_timeout: Duration::from_secs(3),
        ..ReflectorOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_list_then_live_events() {
    let server = TestServer::start().await;
    let client = server.client().await;
    create(&client, "one", "1").await;
    create(&client, "two", "2").await;

    let store = CountingStore::new();
    let reflector = Reflector::new(
        client.clone(),
        CONFIGMAPS.to_string(),
        store.clone(),
        short_watch_options(),
    );
    let status = reflector.clone();
    let (cancel, cancelled) = watch::channel(false);
    let running = tokio::spawn(reflector.run(cancelled));

    wait_for_contents(&store, &expected(&[("one", "1"), ("two", "2")])).await;
    let listed_version = status.last_sync_resource_version();
    assert!(
        listed_version.parse::<u64>().is_ok(),
        "resourceVersion after the list: {listed_version:?}"
    );
    let listed = store.indexer.get_by_key("default/one").expect("one");
    assert_eq!(listed["kind"], "ConfigMap", "list items get their kind");

    create(&client, "three", "3").await;
    update(&client, "one", "1b").await;
    delete(&client, "two").await;
    wait_for_contents(&store, &expected(&[("one", "1b"), ("three", "3")])).await;
    let after_events = status.last_sync_resource_version();
    assert_ne!(
        after_events, listed_version,
        "watch events advance the version"
    );

    // Outlive the watch timeout so the reflector must watch again.
    tokio::time::sleep(Duration::from_secs(4)).await;
    create(&client, "four", "4").await;
    wait_for_contents(
        &store,
        &expected(&[("one", "1b"), ("three", "3"), ("four", "4")]),
    )
    .await;
    assert_eq!(
        store.replaces.load(Ordering::SeqCst),
        1,
        "a watch timeout restarts the watch without listing again"
    );

    cancel.send(true).expect("reflector is running");
    running.await.expect("reflector task");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paginated_list_holds_every_object() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let mut want = Vec::new();
    for index in 0..25 {
        let name = format!("page-{index:02}");
        create(&client, &name, &index.to_string()).await;
        want.push((name, index.to_string()));
    }
    let want: BTreeMap<String, Value> = want
        .iter()
        .map(|(name, value)| (name.clone(), json!({"value": value})))
        .collect();

    let store = CountingStore::new();
    let options = ReflectorOptions {
        page_size: Some(10),
        ..short_watch_options()
    };
    let reflector = Reflector::new(
        client.clone(),
        CONFIGMAPS.to_string(),
        store.clone(),
        options,
    );
    let (cancel, cancelled) = watch::channel(false);
    let running = tokio::spawn(reflector.run(cancelled));

    wait_for_contents(&store, &want).await;
    assert_eq!(
        store.replaces.load(Ordering::SeqCst),
        1,
        "one replace per list"
    );

    cancel.send(true).expect("reflector is running");
    running.await.expect("reflector task");
    server.stop().await;
}

/// A DeltaFIFO that records the paged replace calls the reflector makes.
struct PageRecorder {
    fifo: DeltaFIFO<Value>,
    calls: Mutex<Vec<String>>,
}

impl PageRecorder {
    fn record(&self, call: String) {
        self.calls.lock().expect("calls lock").push(call);
    }
}

impl Store<Value> for PageRecorder {
    fn add(&self, obj: Value) -> Result<(), CacheError> {
        self.fifo.add(obj)
    }
    fn update(&self, obj: Value) -> Result<(), CacheError> {
        self.fifo.update(obj)
    }
    fn delete(&self, obj: ObjectOrTombstone<Value>) -> Result<(), CacheError> {
        self.fifo.delete(obj)
    }
    fn replace(&self, list: Vec<Value>, resource_version: &str) -> Result<(), CacheError> {
        self.record(format!("replace {}", list.len()));
        self.fifo.replace(list, resource_version)
    }
    fn resync(&self) -> Result<(), CacheError> {
        self.fifo.resync()
    }
    fn list_keys(&self) -> Vec<String> {
        Store::list_keys(&self.fifo)
    }
    fn paged(&self) -> Option<&dyn PagedReplace<Value>> {
        Some(self)
    }
}

impl PagedReplace<Value> for PageRecorder {
    fn replace_page(
        &self,
        page: Vec<Value>,
        listed: &mut HashSet<String>,
    ) -> Result<(), CacheError> {
        self.record(format!("page {}", page.len()));
        self.fifo.paged().expect("paged").replace_page(page, listed)
    }
    fn finish_replace(
        &self,
        listed: HashSet<String>,
        resource_version: &str,
    ) -> Result<(), CacheError> {
        self.record(format!("finish {}", listed.len()));
        self.fifo
            .paged()
            .expect("paged")
            .finish_replace(listed, resource_version)
    }
}

/// Objects in the list of `first_list_reaches_a_delta_fifo_in_batches`: more
/// than two of the reflector's batches of 500.
const BATCHED_OBJECTS: usize = 1_100;

/// A DeltaFIFO takes the first list in batches while it arrives, although the server
/// sends that list (at resourceVersion 0) as one response. The queue reports synced
/// only once the last object is popped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_list_reaches_a_delta_fifo_in_batches() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let mut creators = tokio::task::JoinSet::new();
    for worker in 0..16 {
        let client = client.clone();
        creators.spawn(async move {
            for index in (worker..BATCHED_OBJECTS).step_by(16) {
                create(&client, &format!("fifo-{index:04}"), &index.to_string()).await;
            }
        });
    }
    while let Some(created) = creators.join_next().await {
        created.expect("creator task");
    }

    let known = Arc::new(Indexer::<Value>::with_namespace_index());
    let store = Arc::new(PageRecorder {
        fifo: DeltaFIFO::new(DeltaFIFOOptions {
            known_objects: Some(known.clone()),
            ..DeltaFIFOOptions::default()
        }),
        calls: Mutex::new(Vec::new()),
    });
    let reflector = Reflector::new(
        client.clone(),
        CONFIGMAPS.to_string(),
        store.clone(),
        short_watch_options(),
    );
    let (cancel, cancelled) = watch::channel(false);
    let running = tokio::spawn(reflector.run(cancelled));

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut popped_before_sync = 0;
    while !store.fifo.has_synced() {
        assert!(Instant::now() < deadline, "the queue never synced");
        let next = tokio::time::timeout(Duration::from_secs(10), store.fifo.pop(|_, _| Ok(())))
            .await
            .expect("a delta within 10 s")
            .expect("pop");
        for delta in next.iter() {
            assert_eq!(delta.delta_type, DeltaType::Replaced);
            let ObjectOrTombstone::Object(obj) = &delta.object else {
                panic!("no object is missing from the first list");
            };
            assert_eq!(obj["kind"], "ConfigMap", "items get the list's type");
            known.update(obj.clone()).expect("store the popped object");
        }
        popped_before_sync += 1;
    }
    assert_eq!(
        popped_before_sync, BATCHED_OBJECTS,
        "one key per listed object"
    );
    assert_eq!(known.list_keys().len(), BATCHED_OBJECTS);

    let calls = store.calls.lock().expect("calls lock").clone();
    let (finish, pages) = calls.split_last().expect("calls");
    assert_eq!(*finish, format!("finish {BATCHED_OBJECTS}"));
    let sizes: Vec<usize> = pages
        .iter()
        .map(|call| {
            call.strip_prefix("page ")
                .and_then(|size| size.parse().ok())
                .unwrap_or_else(|| panic!("unexpected call {call}"))
        })
        .collect();
    assert!(sizes.len() >= 3, "batches {sizes:?}");
    assert!(
        sizes[..sizes.len() - 1].iter().all(|size| *size >= 500),
        "batches {sizes:?}"
    );
    assert_eq!(sizes.iter().sum::<usize>(), BATCHED_OBJECTS);

    cancel.send(true).expect("reflector is running");
    running.await.expect("reflector task");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relist_after_compaction_drops_stale_objects() {
    let server = TestServer::start().await;
    let client = server.client().await;
    for name in ["keep", "change", "remove"] {
        create(&client, name, "before").await;
    }

    let store = CountingStore::new();
    let options = ReflectorOptions {
        page_size: Some(2),
        ..short_watch_options()
    };
    let reflector = Reflector::new(
        client.clone(),
        CONFIGMAPS.to_string(),
        store.clone(),
        options,
    );
    let status = reflector.clone();

    // First run: list and watch, then stop.
    let (cancel, cancelled) = watch::channel(false);
    let running = tokio::spawn(reflector.clone().run(cancelled));
    let before = expected(&[
        ("keep", "before"),
        ("change", "before"),
        ("remove", "before"),
    ]);
    wait_for_contents(&store, &before).await;
    cancel.send(true).expect("reflector is running");
    running.await.expect("reflector task");
    let stale_version = status.last_sync_resource_version();

    // While no reflector runs, change objects and compact the history the
    // reflector's resourceVersion points into.
    update(&client, "change", "after").await;
    delete(&client, "remove").await;
    create(&client, "added", "after").await;
    let backend = &server.server().backend;
    let revision = backend.current_revision().await.expect("current revision");
    backend.compact(revision).await.expect("compact");
    assert!(
        stale_version.parse::<i64>().expect("numeric version") < revision,
        "the reflector's version {stale_version} must predate the compaction at {revision}"
    );

    // The second run lists again at the stale version. This server serves that list
    // from its watch cache, so the 410 fallback paths are not reached here. The test
    // checks that the relist replaces stale objects.
    // NOTE: no test forces a 410 on a list or a continue token; the integration
    // test reflector_gone covers a watch resumed at a compacted version.
    let (cancel, cancelled) = watch::channel(false);
    let running = tokio::spawn(reflector.run(cancelled));
    let want = server_contents(&client).await;
    assert_eq!(
        want,
        expected(&[("keep", "before"), ("change", "after"), ("added", "after")])
    );
    wait_for_contents(&store, &want).await;
    assert!(
        status
            .last_sync_resource_version()
            .parse::<i64>()
            .expect("numeric version")
            >= revision,
        "the relist reached the compacted revision"
    );

    // Events after the relist still arrive, across a watch restart.
    tokio::time::sleep(Duration::from_secs(4)).await;
    delete(&client, "keep").await;
    let want = expected(&[("change", "after"), ("added", "after")]);
    wait_for_contents(&store, &want).await;

    cancel.send(true).expect("reflector is running");
    running.await.expect("reflector task");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_stops_run_and_resync() {
    let server = TestServer::start().await;
    let client = server.client().await;
    create(&client, "one", "1").await;

    let store = CountingStore::new();
    let options = ReflectorOptions {
        resync_period: Duration::from_millis(200),
        ..short_watch_options()
    };
    let reflector = Reflector::new(
        client.clone(),
        CONFIGMAPS.to_string(),
        store.clone(),
        options,
    );
    let (cancel, cancelled) = watch::channel(false);
    let running = tokio::spawn(reflector.run(cancelled));

    wait_for_contents(&store, &expected(&[("one", "1")])).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let resyncs = store.resyncs.load(Ordering::SeqCst);
    assert!(resyncs >= 2, "resync every 200 ms ran {resyncs} times");

    cancel.send(true).expect("reflector is running");
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("run returns promptly after cancellation")
        .expect("reflector task");

    let stopped_at = store.resyncs.load(Ordering::SeqCst);
    create(&client, "two", "2").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        store.resyncs.load(Ordering::SeqCst),
        stopped_at,
        "no resync after cancellation"
    );
    assert_eq!(
        store.contents(),
        expected(&[("one", "1")]),
        "no events applied after cancellation"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_list_keeps_retrying_until_cancelled() {
    let server = TestServer::start().await;
    let client = server.client().await;

    // An unknown resource: every list fails with 404.
    let store = CountingStore::new();
    let options = ReflectorOptions {
        backoff: BackoffOptions {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(200),
            ..BackoffOptions::default()
        },
        ..short_watch_options()
    };
    let reflector = Reflector::new(
        client.clone(),
        "/api/v1/namespaces/default/nothings".to_string(),
        store.clone(),
        options,
    );
    let status = reflector.clone();
    let (cancel, cancelled) = watch::channel(false);
    let running = tokio::spawn(reflector.run(cancelled));

    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!running.is_finished(), "run keeps retrying after errors");
    assert_eq!(store.replaces.load(Ordering::SeqCst), 0);
    assert_eq!(status.last_sync_resource_version(), "");

    cancel.send(true).expect("reflector is running");
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("run returns during a backoff")
        .expect("reflector task");
    server.stop().await;
}
