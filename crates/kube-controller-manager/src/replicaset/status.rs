//! The status of a ReplicaSet or ReplicationController, computed from its pods.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ReplicaOwner;
use crate::controller_utils::{is_pod_available, is_pod_ready};

/// A condition of a replica owner's status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The status fields ReplicaSets and ReplicationControllers share.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaStatus {
    #[serde(default)]
    pub replicas: i32,
    #[serde(default)]
    pub fully_labeled_replicas: i32,
    #[serde(default)]
    pub ready_replicas: i32,
    #[serde(default)]
    pub available_replicas: i32,
    #[serde(default)]
    pub observed_generation: i64,
    #[serde(default)]
    pub conditions: Vec<ReplicaCondition>,
}

impl ReplicaStatus {
    /// Reads the status of any object whose `status` has these fields.
    pub fn from_object<K: serde::Serialize>(object: &K) -> Self {
        serde_json::to_value(object)
            .ok()
            .and_then(|value| value.get("status").cloned())
            .and_then(|status| serde_json::from_value(status).ok())
            .unwrap_or_default()
    }

    /// Returns the status as JSON for a merge patch. Conditions are always present
    /// so that an empty list removes old ones.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Computes the status from the owner's active `pods`. A failed create or delete
/// (`manage_error`) sets the ReplicaFailure condition (reason FailedCreate when
/// replicas were missing, FailedDelete otherwise); a clean sync removes it.
pub fn calculate_status<K: ReplicaOwner>(
    owner: &K,
    pods: &[Pod],
    manage_error: Option<&str>,
    now: Timestamp,
) -> ReplicaStatus {
    let template_labels = owner
        .template()
        .and_then(|template| template.metadata.as_ref())
        .and_then(|meta| meta.labels.clone())
        .unwrap_or_default();
    let min_ready_seconds = owner.min_ready_seconds();

    let mut status = owner.replica_status();
    status.replicas = pods.len() as i32;
    status.fully_labeled_replicas = pods
        .iter()
        .filter(|pod| {
            let labels = pod.metadata.labels.as_ref();
            template_labels
                .iter()
                .all(|(key, value)| labels.and_then(|labels| labels.get(key)) == Some(value))
        })
        .count() as i32;
    status.ready_replicas = pods.iter().filter(|pod| is_pod_ready(pod)).count() as i32;
    status.available_replicas = pods
        .iter()
        .filter(|pod| is_pod_available(pod, min_ready_seconds, now))
        .count() as i32;
    status.observed_generation = owner.metadata().generation.unwrap_or(0);

    let existing = status
        .conditions
        .iter()
        .position(|condition| condition.type_ == "ReplicaFailure");
    match (manage_error, existing) {
        (Some(message), None) => {
            let reason = if (pods.len() as i32) < owner.replicas() {
                "FailedCreate"
            } else {
                "FailedDelete"
            };
            status.conditions.push(ReplicaCondition {
                type_: "ReplicaFailure".to_string(),
                status: "True".to_string(),
                last_transition_time: Some(crate::controller_utils::format_time(now)),
                reason: Some(reason.to_string()),
                message: Some(message.to_string()),
            });
        }
        (None, Some(index)) => {
            status.conditions.remove(index);
        }
        _ => {}
    }
    status
}
