//! The [`ClusterClient`] of the daemon over the REST client: bindings, victim
//! deletions, status patches and events. Events go through a bounded channel to one
//! sender task, so recording never blocks a scheduling cycle.

use async_trait::async_trait;
use client::rest::{ClientError, PatchType, RestClient};
use k8s_openapi::api::core::v1::{Pod, PodCondition};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::framework::handle::{ApiError, ClusterClient};
use crate::framework::types::{pod_key, pod_namespace};

/// Events queued beyond this many are dropped (and logged) instead of blocking.
const EVENT_QUEUE_CAPACITY: usize = 1000;
/// The component name events carry, as upstream's default profile reports it.
pub const EVENT_SOURCE: &str = "default-scheduler";

/// The REST implementation of [`ClusterClient`].
pub struct RestClusterClient {
    client: RestClient,
    events: mpsc::Sender<Value>,
}

fn api_error(operation: String, error: ClientError) -> ApiError {
    let not_found = matches!(&error, ClientError::Api(status) if status.code() == 404);
    ApiError {
        operation,
        message: error.to_string(),
        not_found,
    }
}

fn pod_path(pod: &Pod) -> String {
    format!(
        "/api/v1/namespaces/{}/pods/{}",
        pod_namespace(pod),
        pod.metadata.name.as_deref().unwrap_or_default()
    )
}

impl RestClusterClient {
    /// Creates the client and starts its event sender on the current Tokio runtime.
    pub fn new(client: RestClient) -> RestClusterClient {
        let (sender, mut receiver) = mpsc::channel::<Value>(EVENT_QUEUE_CAPACITY);
        let event_client = client.clone();
        tokio::spawn(async move {
            while let Some(event) = receiver.recv().await {
                let namespace = event["metadata"]["namespace"].as_str().unwrap_or("default").to_string();
                let path = format!("/api/v1/namespaces/{namespace}/events");
                let result: Result<Value, ClientError> =
                    event_client.post(&path).json(&event).request_json().await;
                if let Err(error) = result {
                    tracing::warn!(%error, reason = %event["reason"], "failed to record event");
                }
            }
        });
        RestClusterClient {
            client,
            events: sender,
        }
    }
}

#[async_trait]
impl ClusterClient for RestClusterClient {
    async fn bind(&self, pod: &Pod, node_name: &str) -> Result<(), ApiError> {
        let binding = json!({
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {
                "name": pod.metadata.name,
                "namespace": pod_namespace(pod),
                "uid": pod.metadata.uid,
            },
            "target": {"apiVersion": "v1", "kind": "Node", "name": node_name},
        });
        let path = format!("{}/binding", pod_path(pod));
        let result: Result<Value, ClientError> = self.client.post(&path).json(&binding).request_json().await;
        result
            .map(|_| ())
            .map_err(|error| api_error(format!("bind pod {} to node {node_name}", pod_key(pod)), error))
    }

    async fn delete_pod(&self, pod: &Pod) -> Result<(), ApiError> {
        let options = json!({
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "preconditions": {"uid": pod.metadata.uid},
        });
        let result: Result<Value, ClientError> =
            self.client.delete(&pod_path(pod)).json(&options).request_json().await;
        result
            .map(|_| ())
            .map_err(|error| api_error(format!("delete pod {}", pod_key(pod)), error))
    }

    async fn update_pod_status(
        &self,
        pod: &Pod,
        condition: Option<PodCondition>,
        nominated_node_name: Option<&str>,
    ) -> Result<(), ApiError> {
        let mut status = serde_json::Map::new();
        if let Some(condition) = condition {
            let condition = serde_json::to_value(condition)
                .map_err(|error| api_error(format!("encode condition of pod {}", pod_key(pod)), ClientError::Encode(error)))?;
            status.insert("conditions".to_string(), json!([condition]));
        }
        match nominated_node_name {
            Some("") => {
                status.insert("nominatedNodeName".to_string(), Value::Null);
            }
            Some(node) => {
                status.insert("nominatedNodeName".to_string(), json!(node));
            }
            None => {}
        }
        let patch = json!({"status": status});
        let path = format!("{}/status", pod_path(pod));
        let result: Result<Value, ClientError> = self
            .client
            .patch(&path, PatchType::StrategicMerge)
            .json(&patch)
            .request_json()
            .await;
        result
            .map(|_| ())
            .map_err(|error| api_error(format!("patch status of pod {}", pod_key(pod)), error))
    }

    fn record_event(&self, pod: &Pod, event_type: &str, reason: &str, message: String) {
        let now = crate::framework::types::now();
        let name = format!(
            "{}.{:x}",
            pod.metadata.name.as_deref().unwrap_or_default(),
            now.as_nanosecond()
        );
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": pod_namespace(pod)},
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": pod.metadata.name,
                "namespace": pod_namespace(pod),
                "uid": pod.metadata.uid,
                "resourceVersion": pod.metadata.resource_version,
            },
            "reason": reason,
            "message": message,
            "type": event_type,
            "source": {"component": EVENT_SOURCE},
            "reportingComponent": EVENT_SOURCE,
            "firstTimestamp": now.to_string(),
            "lastTimestamp": now.to_string(),
            "count": 1,
        });
        if self.events.try_send(event).is_err() {
            tracing::warn!(pod = %pod_key(pod), reason, "event queue full; dropping event");
        }
    }
}
