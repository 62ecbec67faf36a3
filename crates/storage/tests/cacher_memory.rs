//! Heap bytes the cacher keeps per cached object, counted by a global allocator.
//!
//! A fake backend lists half of the pods and delivers the other half as watch
//! events, so the count covers the cached state, the secondary index and the event
//! window. Every pod's stored JSON is the same size, so the bytes beyond that size
//! are the cacher's overhead per object. The test prints the figures and fails when
//! the overhead grows past [`MAX_OVERHEAD_PER_OBJECT`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use storage::cacher::{AttrsFunc, Cacher, CacherConfig, IndexFunc, ListRequest, ObjectAttrs};
use storage::{
    Backend, Error, Event, EventType, KeyValue, ListOptions, ListResult, WatchMessage, WatchStream,
};
use tokio::sync::mpsc;

/// Counts the bytes requested from the system allocator that are still allocated,
/// and the number of live allocations.
struct CountingAllocator;

static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
static LIVE_ALLOCATIONS: AtomicI64 = AtomicI64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counters
// only observe the layouts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as i64, Ordering::Relaxed);
            LIVE_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        LIVE_BYTES.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        LIVE_ALLOCATIONS.fetch_sub(1, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            LIVE_BYTES.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Heap usage at one moment.
#[derive(Clone, Copy, Debug)]
struct HeapUsage {
    bytes: i64,
    allocations: i64,
}

fn heap_usage() -> HeapUsage {
    HeapUsage {
        bytes: LIVE_BYTES.load(Ordering::SeqCst),
        allocations: LIVE_ALLOCATIONS.load(Ordering::SeqCst),
    }
}

const PODS: &str = "/registry/pods/";
/// Pods in the first list; as many again arrive as watch events.
const LISTED: usize = 10_000;
/// Requested heap bytes per cached object beyond its stored JSON. glibc adds up to
/// 16 bytes of its own per allocation, which the figures printed by the test
/// include as an estimate.
const MAX_OVERHEAD_PER_OBJECT: i64 = 800;

/// A pod's stored JSON as the API server stores a small pod (about 750 bytes), with
/// `name` in its metadata. Every generated name has the same length.
fn pod_json(name: &str) -> Vec<u8> {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": "kube-public",
            "uid": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            "creationTimestamp": "2026-12-04T10:00:00Z",
            "labels": {"app": "bench", "tier": "web"},
        },
        "spec": {
            "containers": [{
                "name": "web", "image": "nginx:1.25",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent",
            }],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst", "serviceAccountName": "default",
            "securityContext": {}, "schedulerName": "default-scheduler",
            "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority",
            "priority": 0,
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 300},
            ],
        },
        "status": {"phase": "Pending", "qosClass": "Burstable"},
    })
    .to_string()
    .into_bytes()
}

/// Extracts what the API server extracts from a pod: its labels and ten fields.
fn pod_attrs() -> AttrsFunc {
    Arc::new(|kv: &KeyValue| {
        let pod: serde_json::Value =
            serde_json::from_slice(&kv.value).map_err(|error| error.to_string())?;
        let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_string();
        let mut attrs = ObjectAttrs::default();
        if let Some(labels) = pod["metadata"]["labels"].as_object() {
            for (name, value) in labels {
                attrs.labels.insert(name.clone(), text(value));
            }
        }
        let fields = [
            ("metadata.name", text(&pod["metadata"]["name"])),
            ("metadata.namespace", text(&pod["metadata"]["namespace"])),
            ("spec.nodeName", text(&pod["spec"]["nodeName"])),
            ("spec.restartPolicy", text(&pod["spec"]["restartPolicy"])),
            ("spec.schedulerName", text(&pod["spec"]["schedulerName"])),
            (
                "spec.serviceAccountName",
                text(&pod["spec"]["serviceAccountName"]),
            ),
            ("spec.hostNetwork", "false".to_string()),
            ("status.phase", text(&pod["status"]["phase"])),
            ("status.podIP", text(&pod["status"]["podIP"])),
            (
                "status.nominatedNodeName",
                text(&pod["status"]["nominatedNodeName"]),
            ),
        ];
        for (name, value) in fields {
            attrs.fields.insert(name.to_string(), value);
        }
        Ok(attrs)
    })
}

/// The API server's index of pods by node, which includes unscheduled pods under "".
fn node_index() -> IndexFunc {
    Arc::new(|attrs: &ObjectAttrs| {
        attrs
            .fields
            .get("spec.nodeName")
            .cloned()
            .into_iter()
            .collect()
    })
}

/// A backend whose list returns prepared items and whose watch delivers prepared
/// events once, then stays open.
struct PreparedBackend {
    items: Mutex<Vec<KeyValue>>,
    revision: i64,
    events: Mutex<VecDeque<Event>>,
    /// Keeps each watch open after its events.
    watch_senders: Mutex<Vec<mpsc::Sender<Result<WatchMessage, Error>>>>,
}

#[async_trait]
impl Backend for PreparedBackend {
    async fn get(&self, _key: &str) -> Result<Option<KeyValue>, Error> {
        Ok(None)
    }

    async fn list(&self, _options: ListOptions) -> Result<ListResult, Error> {
        let items = std::mem::take(&mut *self.items.lock().unwrap());
        Ok(ListResult {
            items,
            revision: self.revision,
            more: false,
            remaining: 0,
        })
    }

    async fn count(&self, _prefix: &str) -> Result<i64, Error> {
        Ok(0)
    }

    async fn create(&self, _key: &str, _value: Bytes) -> Result<KeyValue, Error> {
        Err(Error::InvalidRequest("read-only test backend".into()))
    }

    async fn update(&self, _key: &str, _value: Bytes, _expected: i64) -> Result<KeyValue, Error> {
        Err(Error::InvalidRequest("read-only test backend".into()))
    }

    async fn delete(&self, _key: &str, _expected: Option<i64>) -> Result<(KeyValue, i64), Error> {
        Err(Error::InvalidRequest("read-only test backend".into()))
    }

    async fn watch(&self, _prefix: &str, _after_revision: i64) -> Result<WatchStream, Error> {
        let events: Vec<Event> = self.events.lock().unwrap().drain(..).collect();
        let (sender, receiver) = mpsc::channel(events.len().max(1));
        for event in events {
            sender
                .try_send(Ok(WatchMessage::Event(event)))
                .expect("channel sized for every event");
        }
        self.watch_senders.lock().unwrap().push(sender);
        Ok(WatchStream::new(receiver))
    }

    async fn compact(&self, _revision: i64) -> Result<(), Error> {
        Ok(())
    }

    async fn current_revision(&self) -> Result<i64, Error> {
        Ok(self.revision)
    }

    async fn compacted_revision(&self) -> Result<i64, Error> {
        Ok(0)
    }
}

fn key_value(index: usize, revision: i64) -> KeyValue {
    let name = format!("m-{index:07}");
    KeyValue {
        key: format!("{PODS}kube-public/{name}"),
        // An exact-size buffer, as a backend that decodes a response allocates it.
        value: Bytes::from(pod_json(&name).into_boxed_slice()),
        create_revision: revision,
        mod_revision: revision,
    }
}

fn print_usage(stage: &str, objects: usize, json_bytes: usize, added: HeapUsage) {
    let per_object = added.bytes as f64 / objects as f64;
    let allocations = added.allocations as f64 / objects as f64;
    println!(
        "{stage}: {per_object:.0} bytes in {allocations:.1} allocations per object; \
         {:.0} bytes beyond the {json_bytes} bytes of JSON, about {:.0} with 16 bytes of \
         allocator overhead per allocation",
        per_object - json_bytes as f64,
        per_object - json_bytes as f64 + 16.0 * allocations,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cacher_overhead_per_object() {
    let json_bytes = pod_json("m-0000000").len();
    let attrs_func = pod_attrs();
    let index = node_index();

    // Warm up the runtime, the allocator's tables and the tracing machinery with a
    // small cacher first, so that one-time allocations do not count below.
    let warm_up = Arc::new(PreparedBackend {
        items: Mutex::new((0..10).map(|index| key_value(index, 1)).collect()),
        revision: 1,
        events: Mutex::new(VecDeque::new()),
        watch_senders: Mutex::new(Vec::new()),
    });
    let config =
        CacherConfig::new(PODS, attrs_func.clone()).with_index("spec.nodeName", index.clone());
    let cacher = Cacher::new(warm_up, config);
    cacher.ready().await.expect("warm-up cacher ready");
    drop(cacher);

    let start = heap_usage();
    // Listed pods have revisions 1..=LISTED; events bring LISTED more.
    let items: Vec<KeyValue> = (0..LISTED)
        .map(|index| key_value(index, index as i64 + 1))
        .collect();
    let revision = LISTED as i64;
    let events: VecDeque<Event> = (LISTED..2 * LISTED)
        .map(|index| Event {
            event_type: EventType::Created,
            kv: key_value(index, index as i64 + 1),
            prev_kv: None,
        })
        .collect();
    let backend = Arc::new(PreparedBackend {
        items: Mutex::new(items),
        revision,
        events: Mutex::new(events),
        watch_senders: Mutex::new(Vec::new()),
    });
    let prepared = heap_usage();
    let input = HeapUsage {
        bytes: prepared.bytes - start.bytes,
        allocations: prepared.allocations - start.allocations,
    };

    let config = CacherConfig::new(PODS, attrs_func).with_index("spec.nodeName", index);
    let cacher = Cacher::new(backend.clone(), config);
    cacher.ready().await.expect("cacher ready");
    // A debug build on a loaded machine may take longer than the cacher's fresh
    // timeout to apply every event, so wait on the revision first.
    let last = 2 * LISTED as i64;
    for _ in 0..1200 {
        if cacher.resource_version() >= last {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let request = ListRequest {
        prefix: PODS.to_string(),
        resource_version: Some(last),
        ..ListRequest::default()
    };
    let listed = cacher
        .list(request)
        .await
        .expect("list at the last revision");
    assert_eq!(listed.items.len(), 2 * LISTED);
    drop(listed);
    // Let the dispatcher drain its queue.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let cached = heap_usage();
    // The input's keys and event envelopes were consumed; what remains beyond the
    // start is the cache, holding the values the input allocated.
    let added = HeapUsage {
        bytes: cached.bytes - start.bytes,
        allocations: cached.allocations - start.allocations,
    };
    let objects = 2 * LISTED;
    print_usage("input (keys, values, events)", objects, json_bytes, input);
    print_usage("cacher with event window", objects, json_bytes, added);

    let overhead = added.bytes / objects as i64 - json_bytes as i64;
    assert!(
        overhead <= MAX_OVERHEAD_PER_OBJECT,
        "the cacher keeps {overhead} bytes per object beyond its JSON, more than {MAX_OVERHEAD_PER_OBJECT}"
    );
    drop(cacher);
    drop(backend);
}
