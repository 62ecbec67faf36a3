//! Integration tests of the cacher against the embedded backend.
//!
//! Objects are pods stored as small JSON documents
//! (`{"labels":{...},"nodeName":"...","phase":"..."}`) under `/registry/pods/`.
//! [`FaultyBackend`] wraps the embedded backend where a test must count storage
//! reads or make storage fail. Every read and write still goes to the real store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use storage::cacher::{
    AttrsFunc, CacheEvent, CachedAttrs, Cacher, CacherConfig, FilterFunc, IndexFunc, IndexLookup,
    ListRequest, ObjectAttrs, POD_NODE_NAME_INDEX, ResourceVersionMatch, WatchEventType,
    WatchRequest, Watcher,
};
use storage::embedded::EmbeddedBackend;
use storage::{Backend, Error, KeyValue, ListOptions, ListResult, WatchStream};
use tempfile::TempDir;
use tokio::sync::mpsc;

const PODS: &str = "/registry/pods/";
const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// Fixtures

async fn open_store() -> (TempDir, Arc<EmbeddedBackend>) {
    let dir = tempfile::tempdir().expect("create temp dir");
    let backend = EmbeddedBackend::open(&dir.path().join("store.redb"))
        .await
        .expect("open embedded store");
    (dir, Arc::new(backend))
}

/// Extracts labels and the fields `metadata.namespace`, `metadata.name`,
/// `spec.nodeName` and `status.phase` from a pod's key and JSON value.
fn pod_attrs() -> AttrsFunc {
    Arc::new(|kv: &KeyValue| {
        let document: serde_json::Value =
            serde_json::from_slice(&kv.value).map_err(|error| error.to_string())?;
        let mut attrs = ObjectAttrs::default();
        if let Some(labels) = document["labels"].as_object() {
            for (name, value) in labels {
                attrs
                    .labels
                    .insert(name.clone(), value.as_str().unwrap_or_default().to_string());
            }
        }
        let mut parts = kv.key.trim_start_matches(PODS).splitn(2, '/');
        let namespace = parts.next().unwrap_or_default();
        let name = parts.next().unwrap_or_default();
        let fields = [
            ("metadata.namespace", namespace),
            ("metadata.name", name),
            (
                "spec.nodeName",
                document["nodeName"].as_str().unwrap_or_default(),
            ),
            (
                "status.phase",
                document["phase"].as_str().unwrap_or_default(),
            ),
        ];
        for (field, value) in fields {
            attrs.fields.insert(field.to_string(), value.to_string());
        }
        Ok(attrs)
    })
}

fn node_index() -> IndexFunc {
    Arc::new(|attrs: &ObjectAttrs| {
        attrs
            .fields
            .get("spec.nodeName")
            .filter(|node| !node.is_empty())
            .cloned()
            .into_iter()
            .collect()
    })
}

fn config() -> CacherConfig {
    let mut config = CacherConfig::new(PODS, pod_attrs());
    config.ready_timeout = Duration::from_secs(5);
    config.backoff_initial = Duration::from_millis(20);
    config.backoff_max = Duration::from_millis(200);
    config
}

fn pod_value(app: &str, node: &str) -> Bytes {
    Bytes::from(
        serde_json::json!({"labels": {"app": app}, "nodeName": node, "phase": "Running"})
            .to_string(),
    )
}

fn pod_key(namespace: &str, name: &str) -> String {
    format!("{PODS}{namespace}/{name}")
}

async fn create_pod(backend: &dyn Backend, name: &str, app: &str, node: &str) -> KeyValue {
    backend
        .create(&pod_key("default", name), pod_value(app, node))
        .await
        .expect("create pod")
}

async fn update_pod(backend: &dyn Backend, name: &str, app: &str, node: &str) -> KeyValue {
    let key = pod_key("default", name);
    let current = backend
        .get(&key)
        .await
        .expect("get pod")
        .expect("pod exists");
    backend
        .update(&key, pod_value(app, node), current.mod_revision)
        .await
        .expect("update pod")
}

async fn delete_pod(backend: &dyn Backend, name: &str) -> i64 {
    backend
        .delete(&pod_key("default", name), None)
        .await
        .expect("delete pod")
        .1
}

async fn start_cacher(backend: Arc<dyn Backend>, config: CacherConfig) -> Cacher {
    let cacher = Cacher::new(backend, config);
    cacher.ready().await.expect("cacher becomes ready");
    cacher
}

/// Waits until the cacher has caught up with `revision`.
async fn wait_for_revision(cacher: &Cacher, revision: i64) {
    let request = ListRequest {
        prefix: PODS.to_string(),
        resource_version: Some(revision),
        ..ListRequest::default()
    };
    cacher.list(request).await.expect("cacher reaches revision");
}

fn label_filter(app: &'static str) -> FilterFunc {
    Arc::new(move |_: &str, attrs: &CachedAttrs| attrs.labels.get("app").is_some_and(|v| v == app))
}

fn node_filter(node: &'static str) -> FilterFunc {
    Arc::new(move |_: &str, attrs: &CachedAttrs| {
        attrs.fields.get("spec.nodeName").is_some_and(|v| v == node)
    })
}

fn watch_request(resource_version: i64) -> WatchRequest {
    WatchRequest {
        prefix: PODS.to_string(),
        resource_version,
        ..WatchRequest::default()
    }
}

async fn next_event(watcher: &mut Watcher) -> CacheEvent {
    match watcher.next_timeout(WAIT).await {
        Ok(Some(Ok(event))) => event,
        Ok(Some(Err(error))) => panic!("watch ended with error: {error}"),
        Ok(None) => panic!("watch ended"),
        Err(_) => panic!("no watch event within {WAIT:?}"),
    }
}

/// Asserts that no event arrives within `quiet`.
async fn assert_no_event(watcher: &mut Watcher, quiet: Duration) {
    if let Ok(received) = watcher.next_timeout(quiet).await {
        panic!("expected no event, got {received:?}");
    }
}

fn names(items: &[Arc<storage::cacher::CachedObject>]) -> Vec<String> {
    items
        .iter()
        .map(|object| object.key().trim_start_matches(PODS).to_string())
        .collect()
}

/// The embedded backend with fault injection: counts lists, can fail lists, and
/// can hold watches (end the open ones with a transient error and refuse new
/// ones).
struct FaultyBackend {
    inner: Arc<EmbeddedBackend>,
    lists: AtomicUsize,
    fail_lists: AtomicBool,
    hold_watches: Arc<AtomicBool>,
}

impl FaultyBackend {
    fn new(inner: Arc<EmbeddedBackend>) -> Self {
        FaultyBackend {
            inner,
            lists: AtomicUsize::new(0),
            fail_lists: AtomicBool::new(false),
            hold_watches: Arc::new(AtomicBool::new(false)),
        }
    }
}

#[async_trait]
impl Backend for FaultyBackend {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, Error> {
        self.inner.get(key).await
    }

    async fn list(&self, options: ListOptions) -> Result<ListResult, Error> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        if self.fail_lists.load(Ordering::SeqCst) {
            return Err(Error::Unavailable("list failed by the test".to_string()));
        }
        self.inner.list(options).await
    }

    async fn count(&self, prefix: &str) -> Result<i64, Error> {
        self.inner.count(prefix).await
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, Error> {
        self.inner.create(key, value).await
    }

    async fn update(&self, key: &str, value: Bytes, expected: i64) -> Result<KeyValue, Error> {
        self.inner.update(key, value, expected).await
    }

    async fn delete(&self, key: &str, expected: Option<i64>) -> Result<(KeyValue, i64), Error> {
        self.inner.delete(key, expected).await
    }

    async fn watch(&self, prefix: &str, after_revision: i64) -> Result<WatchStream, Error> {
        if self.hold_watches.load(Ordering::SeqCst) {
            return Err(Error::Unavailable("watch held by the test".to_string()));
        }
        let mut inner = self.inner.watch(prefix, after_revision).await?;
        let hold = self.hold_watches.clone();
        let (sender, receiver) = mpsc::channel(16);
        tokio::spawn(async move {
            loop {
                if hold.load(Ordering::SeqCst) {
                    let error = Error::Unavailable("watch cut by the test".to_string());
                    let _ = sender.send(Err(error)).await;
                    return;
                }
                let message = match inner.next_timeout(Duration::from_millis(10)).await {
                    Ok(Some(message)) => message,
                    Ok(None) => return,
                    Err(_) => continue,
                };
                if sender.send(message).await.is_err() {
                    return;
                }
            }
        });
        Ok(WatchStream::new(receiver))
    }

    async fn compact(&self, revision: i64) -> Result<(), Error> {
        self.inner.compact(revision).await
    }

    async fn current_revision(&self) -> Result<i64, Error> {
        self.inner.current_revision().await
    }

    async fn compacted_revision(&self) -> Result<i64, Error> {
        self.inner.compacted_revision().await
    }
}

// ---------------------------------------------------------------------------
// Lists

#[tokio::test]
async fn list_at_zero_served_from_memory() {
    let (_dir, store) = open_store().await;
    let backend = Arc::new(FaultyBackend::new(store.clone()));
    create_pod(&*store, "a", "web", "node-1").await;
    create_pod(&*store, "b", "db", "node-2").await;
    let other = store
        .create(&pod_key("kube-system", "c"), pod_value("dns", "node-1"))
        .await
        .unwrap();
    let cacher = start_cacher(backend.clone(), config()).await;
    let lists_after_start = backend.lists.load(Ordering::SeqCst);

    let all = cacher
        .list(ListRequest {
            prefix: PODS.to_string(),
            resource_version: Some(0),
            ..ListRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(
        names(&all.items),
        ["default/a", "default/b", "kube-system/c"]
    );
    assert_eq!(all.revision, other.mod_revision);

    let web_in_default = cacher
        .list(ListRequest {
            prefix: pod_key("default", ""),
            resource_version: Some(0),
            filter: Some(label_filter("web")),
            limit: 1,
            ..ListRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&web_in_default.items), ["default/a"]);
    assert_eq!(web_in_default.items[0].attrs.labels.get("app"), Some("web"));
    assert_eq!(web_in_default.continue_key, None);

    assert_eq!(
        backend.lists.load(Ordering::SeqCst),
        lists_after_start,
        "lists at resourceVersion 0 must not read storage"
    );
}

#[tokio::test]
async fn list_not_older_than_waits_for_cache() {
    let (_dir, store) = open_store().await;
    let first = create_pod(&*store, "a", "web", "node-1").await;
    let cacher = Arc::new(start_cacher(store.clone(), config()).await);

    let waiting = {
        let cacher = cacher.clone();
        tokio::spawn(async move {
            cacher
                .list(ListRequest {
                    prefix: PODS.to_string(),
                    resource_version: Some(first.mod_revision + 1),
                    resource_version_match: Some(ResourceVersionMatch::NotOlderThan),
                    ..ListRequest::default()
                })
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !waiting.is_finished(),
        "list must wait for the newer revision"
    );

    let second = create_pod(&*store, "b", "web", "node-1").await;
    let listed = waiting.await.unwrap().unwrap();
    assert_eq!(names(&listed.items), ["default/a", "default/b"]);
    assert_eq!(listed.revision, second.mod_revision);
}

#[tokio::test]
async fn list_too_large_resource_version_times_out() {
    let (_dir, store) = open_store().await;
    let created = create_pod(&*store, "a", "web", "node-1").await;
    let mut config = config();
    config.fresh_timeout = Duration::from_millis(300);
    let cacher = start_cacher(store.clone(), config).await;

    let requested = created.mod_revision + 100;
    let started = std::time::Instant::now();
    let error = cacher
        .list(ListRequest {
            prefix: PODS.to_string(),
            resource_version: Some(requested),
            ..ListRequest::default()
        })
        .await
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        error,
        Error::Timeout(format!(
            "Too large resource version: {requested}, current: {}",
            created.mod_revision
        ))
    );
}

#[tokio::test]
async fn list_unset_resource_version_reads_storage() {
    let (_dir, store) = open_store().await;
    let backend = Arc::new(FaultyBackend::new(store.clone()));
    for (name, app) in [
        ("a", "web"),
        ("b", "db"),
        ("c", "web"),
        ("d", "web"),
        ("e", "db"),
    ] {
        create_pod(&*store, name, app, "node-1").await;
    }
    let cacher = start_cacher(backend.clone(), config()).await;
    let lists_before = backend.lists.load(Ordering::SeqCst);

    let first_page = cacher
        .list(ListRequest {
            prefix: PODS.to_string(),
            resource_version: None,
            filter: Some(label_filter("web")),
            limit: 2,
            ..ListRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&first_page.items), ["default/a", "default/c"]);
    let continue_key = first_page.continue_key.clone().expect("more pages");
    assert!(
        backend.lists.load(Ordering::SeqCst) > lists_before,
        "read storage"
    );

    // The next page reads at the first page's revision even after a write.
    create_pod(&*store, "f", "web", "node-1").await;
    let second_page = cacher
        .list(ListRequest {
            prefix: PODS.to_string(),
            resource_version: Some(first_page.revision),
            filter: Some(label_filter("web")),
            limit: 2,
            continue_key: Some(continue_key),
            ..ListRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&second_page.items), ["default/d"]);
    assert_eq!(second_page.revision, first_page.revision);
    assert_eq!(second_page.continue_key, None);

    let exact = cacher
        .list(ListRequest {
            prefix: PODS.to_string(),
            resource_version: Some(first_page.revision),
            resource_version_match: Some(ResourceVersionMatch::Exact),
            ..ListRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(exact.items.len(), 5);
    assert_eq!(exact.revision, first_page.revision);

    let unfiltered = cacher
        .list(ListRequest {
            prefix: PODS.to_string(),
            resource_version: None,
            limit: 4,
            ..ListRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(unfiltered.items.len(), 4);
    assert_eq!(unfiltered.remaining, Some(2));
}

#[tokio::test]
async fn list_and_get_reject_foreign_prefix() {
    let (_dir, store) = open_store().await;
    let cacher = start_cacher(store.clone(), config()).await;
    let error = cacher
        .list(ListRequest {
            prefix: "/registry/services/".to_string(),
            resource_version: Some(0),
            ..ListRequest::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest(_)), "{error}");
    let error = cacher
        .get("/registry/secrets/default/x", Some(0))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest(_)), "{error}");
}

#[tokio::test]
async fn get_reads_cache_or_storage() {
    let (_dir, store) = open_store().await;
    let created = create_pod(&*store, "a", "web", "node-1").await;
    let cacher = start_cacher(store.clone(), config()).await;

    let cached = cacher
        .get(&created.key, Some(created.mod_revision))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cached.kv, created);
    assert_eq!(cached.attrs.fields.get("metadata.name"), Some("a"));
    let missing = cacher
        .get(&pod_key("default", "zz"), Some(0))
        .await
        .unwrap();
    assert!(missing.is_none());
    let consistent = cacher.get(&created.key, None).await.unwrap().unwrap();
    assert_eq!(consistent.kv, created);
}

#[tokio::test]
async fn requests_wait_until_ready_then_time_out() {
    let (_dir, store) = open_store().await;
    create_pod(&*store, "a", "web", "node-1").await;
    let backend = Arc::new(FaultyBackend::new(store.clone()));
    backend.fail_lists.store(true, Ordering::SeqCst);
    let mut config = config();
    config.ready_timeout = Duration::from_millis(300);
    let cacher = Cacher::new(backend.clone(), config);

    let zero = ListRequest {
        prefix: PODS.to_string(),
        resource_version: Some(0),
        ..ListRequest::default()
    };
    let error = cacher.list(zero.clone()).await.unwrap_err();
    assert!(
        matches!(&error, Error::Unavailable(message) if message.contains("(re)initializing")),
        "{error}"
    );
    let error = cacher.watch(watch_request(0)).await.unwrap_err();
    assert!(matches!(error, Error::Unavailable(_)), "{error}");
    assert!(!cacher.is_ready());

    backend.fail_lists.store(false, Ordering::SeqCst);
    for _ in 0..20 {
        if cacher.ready().await.is_ok() {
            break;
        }
    }
    assert!(cacher.is_ready());
    assert_eq!(
        names(&cacher.list(zero).await.unwrap().items),
        ["default/a"]
    );
}

// ---------------------------------------------------------------------------
// Watches

#[tokio::test]
async fn watch_from_zero_starts_with_current_state() {
    let (_dir, store) = open_store().await;
    create_pod(&*store, "a", "web", "node-1").await;
    let b = create_pod(&*store, "b", "web", "node-1").await;
    let cacher = start_cacher(store.clone(), config()).await;
    let mut watcher = cacher.watch(watch_request(0)).await.unwrap();

    for name in ["a", "b"] {
        let event = next_event(&mut watcher).await;
        assert_eq!(event.event_type, WatchEventType::Added);
        assert_eq!(event.object.key(), pod_key("default", name));
        assert_eq!(
            event.revision, b.mod_revision,
            "synthetic events carry the cache revision"
        );
    }

    let c = create_pod(&*store, "c", "web", "node-2").await;
    let event = next_event(&mut watcher).await;
    assert_eq!(event.event_type, WatchEventType::Added);
    assert_eq!(event.object.kv, c);

    let updated = update_pod(&*store, "c", "web", "node-3").await;
    let event = next_event(&mut watcher).await;
    assert_eq!(event.event_type, WatchEventType::Modified);
    assert_eq!(event.object.kv, updated);
    assert_eq!(event.prev_object.as_ref().unwrap().kv, c);

    let deleted_at = delete_pod(&*store, "c").await;
    let event = next_event(&mut watcher).await;
    assert_eq!(event.event_type, WatchEventType::Deleted);
    assert_eq!(event.revision, deleted_at);
    assert_eq!(event.object.resource_version(), deleted_at);
    assert_eq!(
        event.object.kv.value, updated.value,
        "a deletion carries the last state"
    );
}

#[tokio::test]
async fn watch_from_revision_replays_history() {
    let (_dir, store) = open_store().await;
    let cacher = start_cacher(store.clone(), config()).await;
    let a = create_pod(&*store, "a", "web", "node-1").await;
    let b = create_pod(&*store, "b", "web", "node-1").await;
    let b2 = update_pod(&*store, "b", "db", "node-1").await;
    wait_for_revision(&cacher, b2.mod_revision).await;

    let mut watcher = cacher.watch(watch_request(a.mod_revision)).await.unwrap();
    let event = next_event(&mut watcher).await;
    assert_eq!(
        (event.event_type, event.object.kv.clone()),
        (WatchEventType::Added, b)
    );
    let event = next_event(&mut watcher).await;
    assert_eq!(
        (event.event_type, event.object.kv.clone()),
        (WatchEventType::Modified, b2.clone())
    );

    let c = create_pod(&*store, "c", "web", "node-1").await;
    let event = next_event(&mut watcher).await;
    assert_eq!(
        (event.event_type, event.object.kv.clone()),
        (WatchEventType::Added, c.clone())
    );

    // A watch from the newest revision replays nothing.
    let mut latest = cacher.watch(watch_request(c.mod_revision)).await.unwrap();
    let d = create_pod(&*store, "d", "web", "node-1").await;
    let event = next_event(&mut latest).await;
    assert_eq!(event.object.kv, d);
}

#[tokio::test]
async fn watch_too_old_resource_version_is_gone() {
    let (_dir, store) = open_store().await;
    let early = create_pod(&*store, "early", "web", "node-1").await;
    let listed = create_pod(&*store, "listed", "web", "node-1").await;
    let mut config = config();
    config.history_min_capacity = 4;
    config.history_max_capacity = 4;
    let cacher = start_cacher(store.clone(), config).await;

    // The window starts at the cacher's first list.
    let error = cacher
        .watch(watch_request(early.mod_revision))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        Error::Compacted {
            requested: early.mod_revision,
            compacted: listed.mod_revision
        }
    );
    assert!(
        cacher
            .watch(watch_request(listed.mod_revision))
            .await
            .is_ok()
    );

    let mut revisions = Vec::new();
    for index in 0..10 {
        revisions.push(
            create_pod(&*store, &format!("p{index}"), "web", "node-1")
                .await
                .mod_revision,
        );
    }
    wait_for_revision(&cacher, *revisions.last().unwrap()).await;

    // Four events fit: the oldest resumable position is the fifth-newest event.
    let error = cacher.watch(watch_request(revisions[4])).await.unwrap_err();
    assert!(
        matches!(error, Error::Compacted { requested, compacted } if requested == revisions[4] && compacted == revisions[5]),
        "{error}"
    );
    let mut watcher = cacher.watch(watch_request(revisions[5])).await.unwrap();
    for expected in &revisions[6..] {
        assert_eq!(next_event(&mut watcher).await.revision, *expected);
    }
}

#[tokio::test]
async fn watch_reports_selector_transitions() {
    let (_dir, store) = open_store().await;
    let cacher = start_cacher(store.clone(), config()).await;
    let mut watcher = cacher
        .watch(WatchRequest {
            filter: Some(label_filter("web")),
            ..watch_request(0)
        })
        .await
        .unwrap();

    create_pod(&*store, "a", "db", "node-1").await;
    let entered = update_pod(&*store, "a", "web", "node-1").await;
    let changed = update_pod(&*store, "a", "web", "node-2").await;
    let left = update_pod(&*store, "a", "db", "node-2").await;
    delete_pod(&*store, "a").await;
    let other = create_pod(&*store, "b", "web", "node-1").await;

    let event = next_event(&mut watcher).await;
    assert_eq!(
        event.event_type,
        WatchEventType::Added,
        "entering the selector"
    );
    assert_eq!(event.object.kv, entered);

    let event = next_event(&mut watcher).await;
    assert_eq!(event.event_type, WatchEventType::Modified);
    assert_eq!(event.object.kv, changed);

    let event = next_event(&mut watcher).await;
    assert_eq!(
        event.event_type,
        WatchEventType::Deleted,
        "leaving the selector"
    );
    assert_eq!(event.revision, left.mod_revision);
    assert_eq!(event.object.resource_version(), left.mod_revision);
    assert_eq!(
        event.object.kv.value, changed.value,
        "the last matching state"
    );

    // The delete of an object outside the selector is not reported.
    let event = next_event(&mut watcher).await;
    assert_eq!(
        (event.event_type, event.object.kv.clone()),
        (WatchEventType::Added, other)
    );
}

#[tokio::test]
async fn watch_sends_periodic_bookmarks() {
    let (_dir, store) = open_store().await;
    let mut config = config();
    config.bookmark_interval = Duration::from_millis(200);
    let cacher = start_cacher(store.clone(), config).await;
    let mut with_bookmarks = cacher
        .watch(WatchRequest {
            allow_bookmarks: true,
            ..watch_request(0)
        })
        .await
        .unwrap();
    let mut without = cacher.watch(watch_request(0)).await.unwrap();

    let created = create_pod(&*store, "a", "web", "node-1").await;
    assert_eq!(
        next_event(&mut with_bookmarks).await.event_type,
        WatchEventType::Added
    );
    assert_eq!(
        next_event(&mut without).await.event_type,
        WatchEventType::Added
    );

    for _ in 0..2 {
        let bookmark = next_event(&mut with_bookmarks).await;
        assert_eq!(bookmark.event_type, WatchEventType::Bookmark);
        assert_eq!(bookmark.revision, created.mod_revision);
        assert_eq!(bookmark.object.resource_version(), created.mod_revision);
        assert_eq!(bookmark.object.key(), "");
    }
    assert_no_event(&mut without, Duration::from_millis(600)).await;
}

#[tokio::test]
async fn watch_bookmarks_on_storage_progress() {
    let (_dir, store) = open_store().await;
    let cacher = start_cacher(store.clone(), config()).await;
    let mut watcher = cacher
        .watch(WatchRequest {
            allow_bookmarks: true,
            ..watch_request(0)
        })
        .await
        .unwrap();

    // A write to another resource advances the revision. Storage reports the
    // progress to the pods watch, and the cacher turns it into a bookmark.
    let service = store
        .create("/registry/services/default/web", Bytes::from_static(b"{}"))
        .await
        .unwrap();
    let bookmark = next_event(&mut watcher).await;
    assert_eq!(bookmark.event_type, WatchEventType::Bookmark);
    assert_eq!(bookmark.revision, service.mod_revision);
    assert_eq!(cacher.resource_version(), service.mod_revision);
}

#[tokio::test]
async fn index_lookup_and_routing() {
    let (_dir, store) = open_store().await;
    let config = config().with_index(POD_NODE_NAME_INDEX, node_index());
    create_pod(&*store, "a", "web", "node-1").await;
    create_pod(&*store, "b", "web", "node-2").await;
    create_pod(&*store, "c", "db", "node-1").await;
    let cacher = start_cacher(store.clone(), config).await;

    let on_node_1 = cacher
        .list(ListRequest {
            prefix: PODS.to_string(),
            resource_version: Some(0),
            filter: Some(node_filter("node-1")),
            index: Some(IndexLookup::new(POD_NODE_NAME_INDEX, "node-1")),
            ..ListRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&on_node_1.items), ["default/a", "default/c"]);

    let error = cacher
        .list(ListRequest {
            prefix: PODS.to_string(),
            resource_version: Some(0),
            index: Some(IndexLookup::new("status.phase", "Running")),
            ..ListRequest::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest(_)), "{error}");

    // The watcher's filter accepts every pod, so only the index routing keeps the
    // events of node-2 away from it.
    let accept_all: FilterFunc = Arc::new(|_: &str, _: &CachedAttrs| true);
    let mut kubelet = cacher
        .watch(WatchRequest {
            filter: Some(accept_all),
            index: Some(IndexLookup::new(POD_NODE_NAME_INDEX, "node-1")),
            ..watch_request(0)
        })
        .await
        .unwrap();
    for name in ["a", "c"] {
        assert_eq!(
            next_event(&mut kubelet).await.object.key(),
            pod_key("default", name)
        );
    }

    create_pod(&*store, "d", "web", "node-2").await;
    let bound = create_pod(&*store, "e", "web", "node-1").await;
    let event = next_event(&mut kubelet).await;
    assert_eq!(
        (event.event_type, event.object.kv.clone()),
        (WatchEventType::Added, bound)
    );

    // An object moving away from the node still reaches the node's watcher.
    let moved = update_pod(&*store, "a", "web", "node-2").await;
    let event = next_event(&mut kubelet).await;
    assert_eq!(event.event_type, WatchEventType::Modified);
    assert_eq!(event.object.kv, moved);
    assert_no_event(&mut kubelet, Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_watcher_dropped_fast_watchers_get_all() {
    const WATCHERS: usize = 1000;
    const EVENTS: usize = 30;
    let (_dir, store) = open_store().await;
    let cacher = Arc::new(start_cacher(store.clone(), config()).await);

    let mut slow = cacher.watch(watch_request(0)).await.unwrap();
    let mut consumers = Vec::new();
    for _ in 0..WATCHERS {
        let mut watcher = cacher.watch(watch_request(0)).await.unwrap();
        consumers.push(tokio::spawn(async move {
            let mut revisions = Vec::with_capacity(EVENTS);
            while revisions.len() < EVENTS {
                match watcher.next_timeout(Duration::from_secs(30)).await {
                    Ok(Some(Ok(event))) => revisions.push(event.revision),
                    other => return Err(format!("after {} events: {other:?}", revisions.len())),
                }
            }
            Ok(revisions)
        }));
    }
    assert_eq!(cacher.watcher_count(), WATCHERS + 1);

    // Writes come at 50 per second, and a fast watcher keeps up with that rate.
    // After the slow watcher used up the dispatch budget, a burst faster than
    // 1000 consumers can drain on a loaded machine would end fast watchers too.
    // Upstream's budget policy behaves the same way.
    let mut written = Vec::new();
    for index in 0..EVENTS {
        written.push(
            create_pod(&*store, &format!("p{index}"), "web", "node-1")
                .await
                .mod_revision,
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for consumer in consumers {
        let received = consumer
            .await
            .unwrap()
            .expect("fast watcher got every event");
        assert_eq!(received, written);
    }

    // The slow watcher gets what its channel held, then the termination.
    let mut buffered = 0;
    let error = loop {
        match slow.next_timeout(WAIT).await.expect("slow watcher ends") {
            Some(Ok(_)) => buffered += 1,
            Some(Err(error)) => break error,
            None => panic!("slow watcher ended without an error"),
        }
    };
    assert!(matches!(error, Error::Timeout(_)), "{error}");
    assert!(
        buffered < EVENTS,
        "the slow watcher received {buffered} events"
    );
    assert!(slow.next().await.is_none());
    assert_eq!(
        cacher.watcher_count(),
        0,
        "fast watchers were dropped by their tasks"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_encoding_per_event() {
    const WATCHERS: usize = 1000;
    const EVENTS: usize = 5;
    let (_dir, store) = open_store().await;
    let cacher = start_cacher(store.clone(), config()).await;
    let encodings = Arc::new(AtomicUsize::new(0));

    let mut consumers = Vec::new();
    for _ in 0..WATCHERS {
        let mut watcher = cacher.watch(watch_request(0)).await.unwrap();
        let encodings = encodings.clone();
        consumers.push(tokio::spawn(async move {
            let mut frames = Vec::new();
            for _ in 0..EVENTS {
                let event = next_event(&mut watcher).await;
                let frame = event
                    .encoded_frame("json", |event| {
                        encodings.fetch_add(1, Ordering::SeqCst);
                        let frame = serde_json::json!({
                            "type": event.event_type.as_str(),
                            "object": serde_json::from_slice::<serde_json::Value>(&event.object.kv.value)
                                .map_err(|error| error.to_string())?,
                        });
                        Ok(Bytes::from(frame.to_string()))
                    })
                    .unwrap();
                frames.push(frame);
            }
            frames
        }));
    }

    create_pod(&*store, "a", "web", "node-1").await;
    update_pod(&*store, "a", "web", "node-2").await;
    create_pod(&*store, "b", "db", "node-1").await;
    update_pod(&*store, "b", "db", "node-2").await;
    delete_pod(&*store, "a").await;

    let mut all_frames = Vec::new();
    for consumer in consumers {
        all_frames.push(consumer.await.unwrap());
    }
    assert_eq!(
        encodings.load(Ordering::SeqCst),
        EVENTS,
        "one encoding per event"
    );
    assert!(all_frames.iter().all(|frames| *frames == all_frames[0]));
    let first: serde_json::Value = serde_json::from_slice(&all_frames[0][0]).unwrap();
    assert_eq!(first["type"], "ADDED");
    let last: serde_json::Value = serde_json::from_slice(&all_frames[0][4]).unwrap();
    assert_eq!(last["type"], "DELETED");
}

#[tokio::test]
async fn relist_after_compaction_replaces_cache() {
    let (_dir, store) = open_store().await;
    let backend = Arc::new(FaultyBackend::new(store.clone()));
    create_pod(&*store, "a", "web", "node-1").await;
    create_pod(&*store, "b", "web", "node-1").await;
    let cacher = start_cacher(backend.clone(), config()).await;
    let position = cacher.resource_version();
    let mut old_watcher = cacher.watch(watch_request(0)).await.unwrap();
    for _ in 0..2 {
        next_event(&mut old_watcher).await;
    }

    // Cut the cacher off storage, change the data and compact the history the
    // cacher would need to resume.
    backend.hold_watches.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    delete_pod(&*store, "a").await;
    create_pod(&*store, "c", "web", "node-2").await;
    let latest = store.current_revision().await.unwrap();
    store.compact(latest).await.unwrap();
    let lists_before = backend.lists.load(Ordering::SeqCst);
    backend.hold_watches.store(false, Ordering::SeqCst);

    // The re-watch from the old position fails as compacted; the relist replaces
    // the cache and ends the old watcher with Gone.
    let error = match old_watcher
        .next_timeout(WAIT)
        .await
        .expect("old watcher ends")
    {
        Some(Ok(event)) => panic!("unexpected event after the cut: {event:?}"),
        Some(Err(error)) => error,
        None => panic!("old watcher ended without an error"),
    };
    assert!(
        matches!(error, Error::Compacted { requested, compacted } if requested == position && compacted == latest),
        "{error}"
    );
    assert!(
        backend.lists.load(Ordering::SeqCst) > lists_before,
        "the cacher listed again"
    );

    cacher.ready().await.unwrap();
    let listed = cacher
        .list(ListRequest {
            prefix: PODS.to_string(),
            resource_version: Some(latest),
            ..ListRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&listed.items), ["default/b", "default/c"]);
    assert_eq!(listed.revision, latest);

    let error = cacher.watch(watch_request(position)).await.unwrap_err();
    assert!(matches!(error, Error::Compacted { .. }), "{error}");

    let mut watcher = cacher.watch(watch_request(latest)).await.unwrap();
    let d = create_pod(&*store, "d", "web", "node-1").await;
    let event = next_event(&mut watcher).await;
    assert_eq!(
        (event.event_type, event.object.kv.clone()),
        (WatchEventType::Added, d)
    );
}

#[tokio::test]
async fn rewatch_without_changes_keeps_watchers() {
    let (_dir, store) = open_store().await;
    let backend = Arc::new(FaultyBackend::new(store.clone()));
    // On a store without any write the cacher cannot resume (a watch after
    // revision 0 starts at the call), so give it one.
    store
        .create("/registry/namespaces/default", Bytes::from_static(b"{}"))
        .await
        .unwrap();
    let cacher = start_cacher(backend.clone(), config()).await;
    let mut watcher = cacher.watch(watch_request(0)).await.unwrap();

    backend.hold_watches.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let created = create_pod(&*store, "a", "web", "node-1").await;
    backend.hold_watches.store(false, Ordering::SeqCst);

    // The cacher resumes its storage watch from its revision, so the write made
    // while it was cut off still arrives and the watcher goes on.
    let event = next_event(&mut watcher).await;
    assert_eq!(
        (event.event_type, event.object.kv.clone()),
        (WatchEventType::Added, created)
    );
}

#[tokio::test]
async fn stop_ends_watches() {
    let (_dir, store) = open_store().await;
    let cacher = start_cacher(store.clone(), config()).await;
    let mut watcher = cacher.watch(watch_request(0)).await.unwrap();
    cacher.stop();
    assert!(matches!(watcher.next_timeout(WAIT).await, Ok(None)));
    let error = cacher.watch(watch_request(0)).await.unwrap_err();
    assert!(matches!(error, Error::Unavailable(_)), "{error}");
}
