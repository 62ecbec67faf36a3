//! The event recorder: Events about pods (Pulling, Pulled, Created, Started,
//! Killing, BackOff, Unhealthy, FailedMount, Evicted) posted to the API server by a
//! background task.
//!
//! A repeat of the same reason and message for the same object within the
//! recorder's lifetime increments `count` on the existing Event instead of creating
//! a new one, as upstream's correlator does for identical events.

use std::collections::{HashMap, VecDeque};

use client::rest::RestClient;
use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::api;

/// One event to record.
#[derive(Clone, Debug)]
struct Record {
    namespace: String,
    involved: Value,
    event_type: &'static str,
    reason: String,
    message: String,
}

/// Sends Events about pods; cloning is cheap. Without an API server connection the
/// events are only logged.
#[derive(Clone)]
pub struct Recorder {
    tx: Option<mpsc::UnboundedSender<Record>>,
}

impl Recorder {
    /// Starts the sending task for `client`, or a log-only recorder for `None`.
    pub fn new(client: Option<RestClient>, node: String, cancel: watch::Receiver<bool>) -> Self {
        let Some(client) = client else {
            return Self { tx: None };
        };
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(send_events(client, node, rx, cancel));
        Self { tx: Some(tx) }
    }

    /// Records a Normal event about `pod`.
    pub fn normal(&self, pod: &Pod, field_path: Option<String>, reason: &str, message: String) {
        self.record(pod, field_path, "Normal", reason, message);
    }

    /// Records a Warning event about `pod`.
    pub fn warning(&self, pod: &Pod, field_path: Option<String>, reason: &str, message: String) {
        self.record(pod, field_path, "Warning", reason, message);
    }

    fn record(
        &self,
        pod: &Pod,
        field_path: Option<String>,
        event_type: &'static str,
        reason: &str,
        message: String,
    ) {
        let Some(tx) = &self.tx else { return };
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string());
        let involved = json!({
            "kind": "Pod",
            "apiVersion": "v1",
            "namespace": namespace,
            "name": pod.metadata.name,
            "uid": pod.metadata.uid,
            "fieldPath": field_path,
        });
        let _ = tx.send(Record {
            namespace,
            involved,
            event_type,
            reason: reason.to_string(),
            message,
        });
    }
}

/// Returns the fieldPath of a container in a pod, as events name it.
pub fn container_field(pod: &Pod, name: &str) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if spec.containers.iter().any(|c| c.name == name) {
        Some(format!("spec.containers{{{name}}}"))
    } else if spec
        .ephemeral_containers
        .iter()
        .flatten()
        .any(|c| c.name == name)
    {
        Some(format!("spec.ephemeralContainers{{{name}}}"))
    } else {
        Some(format!("spec.initContainers{{{name}}}"))
    }
}

/// The identity of a repeated event: involved UID, fieldPath, reason and message.
type EventKey = (String, String, String, String);

/// How many distinct events the recorder remembers for counting repeats, the size of
/// client-go's event correlator cache. Without a bound the map would grow with every
/// pod the kubelet ever ran.
const MAX_CORRELATED_EVENTS: usize = 4096;

async fn send_events(
    client: RestClient,
    node: String,
    mut rx: mpsc::UnboundedReceiver<Record>,
    mut cancel: watch::Receiver<bool>,
) {
    // (involved uid, fieldPath, reason, message) -> (event name, count), and the
    // keys in insertion order so that the oldest is forgotten first.
    let mut seen: HashMap<EventKey, (String, i64)> = HashMap::new();
    let mut order: VecDeque<EventKey> = VecDeque::new();
    loop {
        let record = tokio::select! {
            Some(record) = rx.recv() => record,
            _ = crate::cancelled(&mut cancel) => return,
            else => return,
        };
        let now = crate::now().to_string();
        let key = (
            record.involved["uid"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            record.involved["fieldPath"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            record.reason.clone(),
            record.message.clone(),
        );
        let path = format!("/api/v1/namespaces/{}/events", record.namespace);
        if let Some((name, count)) = seen.get_mut(&key) {
            *count += 1;
            let patch = json!({"count": *count, "lastTimestamp": now});
            match api::merge_patch::<Value>(&client, &format!("{path}/{name}"), &patch).await {
                Ok(_) => continue,
                Err(error) => tracing::debug!(%error, "failed to update event, creating a new one"),
            }
        }
        let object_name = record.involved["name"].as_str().unwrap_or("pod");
        let name = format!("{object_name}.{:016x}", rand::random::<u64>());
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": record.namespace},
            "involvedObject": record.involved,
            "reason": record.reason,
            "message": record.message,
            "type": record.event_type,
            "source": {"component": "kubelet", "host": node},
            "reportingComponent": "kubelet",
            "reportingInstance": node,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        });
        match api::create::<Value, _>(&client, &path, &event).await {
            Ok(_) => {
                if seen.insert(key.clone(), (name, 1)).is_none() {
                    order.push_back(key);
                }
                while order.len() > MAX_CORRELATED_EVENTS {
                    if let Some(oldest) = order.pop_front() {
                        seen.remove(&oldest);
                    }
                }
            }
            Err(error) => tracing::warn!(reason = %record.reason, %error, "failed to record event"),
        }
    }
}
