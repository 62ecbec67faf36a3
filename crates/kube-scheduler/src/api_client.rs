//! The [`ClusterClient`] of the daemon over the REST client: bindings, victim
//! deletions, status patches and volume binding writes, plus events through the shared
//! event recorder.

use async_trait::async_trait;
use client::events::{EventBroadcaster, EventRecorder, EventSource, EventType, object_reference};
use client::rest::{ClientError, PatchType, RestClient};
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod, PodCondition};
use serde_json::{Value, json};

use crate::framework::handle::{ApiError, ClusterClient};
use crate::framework::types::{pod_key, pod_namespace};

/// The component name events carry, as upstream's default profile reports it.
pub const EVENT_SOURCE: &str = "default-scheduler";

/// The REST implementation of [`ClusterClient`].
pub struct RestClusterClient {
    client: RestClient,
    recorder: EventRecorder,
    _broadcaster: EventBroadcaster,
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
    /// Creates the client and starts its event sink on the current Tokio runtime.
    pub fn new(client: RestClient) -> RestClusterClient {
        let broadcaster = EventBroadcaster::new(client.clone());
        let recorder = broadcaster.new_recorder(EventSource {
            component: EVENT_SOURCE.to_string(),
            host: None,
        });
        RestClusterClient {
            client,
            recorder,
            _broadcaster: broadcaster,
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
        let result: Result<Value, ClientError> =
            self.client.post(&path).json(&binding).request_json().await;
        result.map(|_| ()).map_err(|error| {
            api_error(
                format!("bind pod {} to node {node_name}", pod_key(pod)),
                error,
            )
        })
    }

    async fn delete_pod(&self, pod: &Pod) -> Result<(), ApiError> {
        let options = json!({
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "preconditions": {"uid": pod.metadata.uid},
        });
        let result: Result<Value, ClientError> = self
            .client
            .delete(&pod_path(pod))
            .json(&options)
            .request_json()
            .await;
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
            let condition = serde_json::to_value(condition).map_err(|error| {
                api_error(
                    format!("encode condition of pod {}", pod_key(pod)),
                    ClientError::Encode(error),
                )
            })?;
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

    async fn update_persistent_volume(
        &self,
        volume: &PersistentVolume,
    ) -> Result<PersistentVolume, ApiError> {
        let name = volume.metadata.name.as_deref().unwrap_or_default();
        let path = format!("/api/v1/persistentvolumes/{name}");
        self.client
            .put(&path)
            .json(volume)
            .request_json()
            .await
            .map_err(|error| api_error(format!("update persistentvolume {name}"), error))
    }

    async fn update_persistent_volume_claim(
        &self,
        claim: &PersistentVolumeClaim,
    ) -> Result<PersistentVolumeClaim, ApiError> {
        let namespace = claim.metadata.namespace.as_deref().unwrap_or("default");
        let name = claim.metadata.name.as_deref().unwrap_or_default();
        let path = format!("/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}");
        self.client
            .put(&path)
            .json(claim)
            .request_json()
            .await
            .map_err(|error| {
                api_error(
                    format!("update persistentvolumeclaim {namespace}/{name}"),
                    error,
                )
            })
    }

    fn record_event(&self, pod: &Pod, event_type: &str, reason: &str, message: String) {
        let event_type = if event_type == "Warning" {
            EventType::Warning
        } else {
            EventType::Normal
        };
        self.recorder
            .event(&object_reference(pod), event_type, reason, &message);
    }
}
