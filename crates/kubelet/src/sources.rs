//! Pod sources (upstream's kubelet config package): the API server (pods bound to
//! this node), the static pod directory and the manifest URL. Each source sends the
//! full set of its pods on every change as a [`SourceUpdate`]; the kubelet diffs
//! consecutive sets.
//!
//! Static pods (file and URL) get their name suffixed with the node name, a UID
//! derived from their content, and the `kubernetes.io/config.*` annotations.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client::cache::{CacheError, ObjectOrTombstone, Reflector, ReflectorOptions, Store};
use client::rest::RestClient;
use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;
use tokio::sync::{mpsc, watch};

pub const CONFIG_SOURCE: &str = "kubernetes.io/config.source";
pub const CONFIG_HASH: &str = "kubernetes.io/config.hash";
pub const CONFIG_SEEN: &str = "kubernetes.io/config.seen";
pub const CONFIG_MIRROR: &str = "kubernetes.io/config.mirror";

/// The source a pod came from.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Source {
    Api,
    File,
    Http,
}

/// The complete set of pods of one source.
#[derive(Clone, Debug)]
pub struct SourceUpdate {
    pub source: Source,
    pub pods: Vec<Arc<Pod>>,
}

/// True for pods from the file or URL source.
pub fn is_static(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(CONFIG_SOURCE))
        .is_some_and(|s| s != "api")
}

/// True for the API server's copy of a static pod.
pub fn is_mirror(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(CONFIG_MIRROR))
}

/// A store that sends its whole content on every change: the reflector's target
/// for the API source (upstream's UndeltaStore).
///
/// Pods are decoded once, when they arrive, and shared by `Arc` with the pod
/// manager and the pod workers, so an update of one pod copies no other pod.
/// `metadata.managedFields` is dropped because the kubelet never reads it, and it
/// is often the largest part of a pod.
struct UndeltaStore {
    items: Mutex<HashMap<String, Arc<Pod>>>,
    tx: mpsc::UnboundedSender<SourceUpdate>,
}

impl UndeltaStore {
    /// Decodes `obj` into a pod of the API source, or `None` when it does not decode as one.
    fn decode(obj: Value) -> Option<(String, Arc<Pod>)> {
        let key = client::cache::meta_namespace_key(&obj);
        match serde_json::from_value::<Pod>(obj) {
            Ok(mut pod) => {
                pod.metadata.managed_fields = None;
                pod.metadata
                    .annotations
                    .get_or_insert_with(BTreeMap::new)
                    .entry(CONFIG_SOURCE.to_string())
                    .or_insert_with(|| "api".to_string());
                Some((key, Arc::new(pod)))
            }
            Err(error) => {
                tracing::warn!(%error, %key, "ignoring a pod that does not decode");
                None
            }
        }
    }

    fn push(&self, items: &HashMap<String, Arc<Pod>>) {
        let _ = self.tx.send(SourceUpdate {
            source: Source::Api,
            pods: items.values().cloned().collect(),
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Pod>>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store<Value> for UndeltaStore {
    fn add(&self, obj: Value) -> Result<(), CacheError> {
        let Some((key, pod)) = Self::decode(obj) else {
            return Ok(());
        };
        let mut items = self.lock();
        items.insert(key, pod);
        self.push(&items);
        Ok(())
    }

    fn update(&self, obj: Value) -> Result<(), CacheError> {
        self.add(obj)
    }

    fn delete(&self, obj: ObjectOrTombstone<Value>) -> Result<(), CacheError> {
        let key = match obj {
            ObjectOrTombstone::Object(o) => client::cache::meta_namespace_key(&o),
            ObjectOrTombstone::Tombstone(tombstone) => tombstone.key,
        };
        let mut items = self.lock();
        items.remove(&key);
        self.push(&items);
        Ok(())
    }

    fn replace(&self, list: Vec<Value>, _resource_version: &str) -> Result<(), CacheError> {
        let decoded: HashMap<String, Arc<Pod>> =
            list.into_iter().filter_map(Self::decode).collect();
        let mut items = self.lock();
        *items = decoded;
        self.push(&items);
        Ok(())
    }

    fn resync(&self) -> Result<(), CacheError> {
        Ok(())
    }

    fn list_keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }
}

/// Lists and watches the pods bound to `node_name` until cancelled.
pub async fn run_api_source(
    client: RestClient,
    node_name: String,
    tx: mpsc::UnboundedSender<SourceUpdate>,
    cancel: watch::Receiver<bool>,
) {
    let store = Arc::new(UndeltaStore {
        items: Mutex::default(),
        tx,
    });
    let options = ReflectorOptions {
        field_selector: Some(format!("spec.nodeName={node_name}")),
        ..Default::default()
    };
    Reflector::new(client, "/api/v1/pods".to_string(), store, options)
        .run(cancel)
        .await;
}

/// Hashes bytes into 32 hex digits, stable across runs.
fn content_hash(parts: &[&[u8]]) -> String {
    let mut a: u64 = 0xcbf29ce484222325;
    let mut b: u64 = 0x84222325cbf29ce4;
    for part in parts {
        for byte in part.iter() {
            a ^= u64::from(*byte);
            a = a.wrapping_mul(0x100000001b3);
            b = b
                .wrapping_add(u64::from(*byte))
                .wrapping_mul(0x9e3779b97f4a7c15);
        }
    }
    format!("{a:016x}{b:016x}")
}

/// Decodes static pod manifests (a Pod, or a PodList from a URL) and applies the
/// static pod defaults.
///
/// # Errors
///
/// A message for syntax errors or other kinds.
pub fn decode_manifest(text: &str, node_name: &str, source: &str) -> Result<Vec<Pod>, String> {
    let value: Value = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let raw_pods: Vec<Value> = match value.get("kind").and_then(Value::as_str) {
        Some("Pod") => vec![value],
        Some("PodList") => value
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        other => {
            return Err(format!(
                "manifest kind {other:?} is neither Pod nor PodList"
            ));
        }
    };
    raw_pods
        .into_iter()
        .map(|raw| {
            let canonical = serde_json::to_vec(&raw).map_err(|e| e.to_string())?;
            let mut pod: Pod =
                serde_json::from_value(raw).map_err(|e| format!("invalid pod: {e}"))?;
            let name = pod
                .metadata
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .ok_or("static pod has no name")?;
            let hash = content_hash(&[&canonical, node_name.as_bytes()]);
            pod.metadata.name = Some(format!("{name}-{node_name}"));
            pod.metadata.namespace = Some(
                pod.metadata
                    .namespace
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "default".to_string()),
            );
            pod.metadata.uid = Some(hash.clone());
            let annotations = pod.metadata.annotations.get_or_insert_with(BTreeMap::new);
            annotations.insert(CONFIG_SOURCE.to_string(), source.to_string());
            annotations.insert(CONFIG_HASH.to_string(), hash);
            annotations.insert(CONFIG_SEEN.to_string(), crate::now().to_string());
            let spec = pod.spec.get_or_insert_with(Default::default);
            spec.node_name = Some(node_name.to_string());
            Ok(pod)
        })
        .collect()
}

fn read_manifest_dir(dir: &Path, node_name: &str) -> Vec<Pod> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    let mut pods = Vec::new();
    for file in files {
        match std::fs::read_to_string(&file)
            .map_err(|e| e.to_string())
            .and_then(|t| decode_manifest(&t, node_name, "file"))
        {
            Ok(found) => pods.extend(found),
            Err(error) => {
                tracing::warn!(path = %file.display(), %error, "could not process manifest file")
            }
        }
    }
    pods
}

/// Re-reads the static pod directory every `period` (and at start) until cancelled.
pub async fn run_file_source(
    dir: PathBuf,
    node_name: String,
    period: Duration,
    tx: mpsc::UnboundedSender<SourceUpdate>,
    mut cancel: watch::Receiver<bool>,
) {
    let mut last: Option<Vec<Option<String>>> = None;
    loop {
        let pods = read_manifest_dir(&dir, &node_name);
        let uids: Vec<Option<String>> = pods.iter().map(|p| p.metadata.uid.clone()).collect();
        if last.as_ref() != Some(&uids) {
            last = Some(uids);
            let _ = tx.send(SourceUpdate {
                source: Source::File,
                pods: pods.into_iter().map(Arc::new).collect(),
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = crate::cancelled(&mut cancel) => return,
        }
    }
}

/// Fetches the manifest URL every `period` until cancelled. A failed fetch keeps
/// the previous set.
pub async fn run_http_source(
    url: String,
    node_name: String,
    period: Duration,
    tx: mpsc::UnboundedSender<SourceUpdate>,
    mut cancel: watch::Receiver<bool>,
) {
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let mut last: Option<Vec<Option<String>>> = None;
    loop {
        match fetch(&http, &url)
            .await
            .and_then(|t| decode_manifest(&t, &node_name, "http"))
        {
            Ok(pods) => {
                let uids: Vec<Option<String>> =
                    pods.iter().map(|p| p.metadata.uid.clone()).collect();
                if last.as_ref() != Some(&uids) {
                    last = Some(uids);
                    let _ = tx.send(SourceUpdate {
                        source: Source::Http,
                        pods: pods.into_iter().map(Arc::new).collect(),
                    });
                }
            }
            Err(error) => tracing::warn!(%url, %error, "failed to read pods from URL"),
        }
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = crate::cancelled(&mut cancel) => return,
        }
    }
}

async fn fetch(
    http: &hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Empty<bytes::Bytes>,
    >,
    url: &str,
) -> Result<String, String> {
    use http_body_util::BodyExt;
    let uri: http::Uri = url.parse().map_err(|e| format!("invalid URL: {e}"))?;
    let response = tokio::time::timeout(Duration::from_secs(10), http.get(uri))
        .await
        .map_err(|_| "timeout".to_string())?
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    String::from_utf8(body.to_vec()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_pod_defaults() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: c\n    image: busybox\n";
        let pods = decode_manifest(text, "node1", "file").unwrap();
        let pod = &pods[0];
        assert_eq!(pod.metadata.name.as_deref(), Some("web-node1"));
        assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
        assert!(is_static(pod));
        let again = decode_manifest(text, "node1", "file").unwrap();
        assert_eq!(again[0].metadata.uid, pod.metadata.uid);
        let other = decode_manifest(&text.replace("busybox", "nginx"), "node1", "file").unwrap();
        assert_ne!(other[0].metadata.uid, pod.metadata.uid);
        assert!(decode_manifest("kind: Service\n", "n", "file").is_err());
        assert!(decode_manifest("kind: Pod\nmetadata: {}\n", "n", "file").is_err());
    }
}
