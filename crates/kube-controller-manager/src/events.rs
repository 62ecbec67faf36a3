//! Event recording: controllers report what they did to an object as core/v1 Events.
//!
//! Entry point: [`EventRecorder::event`]. Events are posted on a background task so
//! a slow or failing API server never blocks a sync; failures are logged.

use client::rest::RestClient;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};

use crate::local_client::{Api, Resource};

/// The type of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// Posts events on behalf of one component (such as `replicaset-controller`).
#[derive(Clone)]
pub struct EventRecorder {
    client: RestClient,
    component: String,
}

impl EventRecorder {
    /// A recorder whose events name `component` as their source.
    pub fn new(client: RestClient, component: &str) -> Self {
        Self {
            client,
            component: component.to_string(),
        }
    }

    /// Records an event about `object` in the object's namespace (`default` for a
    /// cluster-scoped object).
    pub fn event<K: Resource>(
        &self,
        object: &K,
        event_type: EventType,
        reason: &str,
        message: &str,
    ) {
        self.event_for(object_reference(object), event_type, reason, message);
    }

    /// Records an event about the object `reference` points at.
    pub fn event_for(
        &self,
        reference: ObjectReference,
        event_type: EventType,
        reason: &str,
        message: &str,
    ) {
        tracing::debug!(
            component = %self.component,
            kind = reference.kind.as_deref().unwrap_or_default(),
            object = reference.name.as_deref().unwrap_or_default(),
            reason,
            message,
            "event"
        );
        let namespace = reference
            .namespace
            .clone()
            .filter(|namespace| !namespace.is_empty())
            .unwrap_or_else(|| "default".to_string());
        let now = crate::controller_utils::now();
        let event = Event {
            metadata: ObjectMeta {
                name: Some(format!(
                    "{}.{:x}",
                    reference.name.as_deref().unwrap_or("object"),
                    now.as_nanosecond()
                )),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: reference,
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            type_: Some(event_type.as_str().to_string()),
            source: Some(EventSource {
                component: Some(self.component.clone()),
                host: None,
            }),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            event_time: Some(MicroTime(now)),
            reporting_component: Some(self.component.clone()),
            reporting_instance: Some(self.component.clone()),
            action: Some(reason.to_string()),
            count: Some(1),
            ..Event::default()
        };
        let events: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        tokio::spawn(async move {
            if let Err(err) = events.create(&event).await {
                tracing::warn!(error = %err, reason = event.reason.as_deref().unwrap_or_default(), "failed to record event");
            }
        });
    }
}

/// Builds a reference to `object` for events and owner lookups.
pub fn object_reference<K: Resource>(object: &K) -> ObjectReference {
    let meta = object.metadata();
    ObjectReference {
        api_version: Some(K::API_VERSION.to_string()),
        kind: Some(K::KIND.to_string()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        field_path: None,
    }
}
