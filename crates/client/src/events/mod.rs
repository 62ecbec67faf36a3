//! Event recording, after client-go's `tools/record` (v1.18): components report
//! what they did to an object as core/v1 Events.
//!
//! Entry point: [`EventBroadcaster::new`] starts the sink that writes events to the
//! API server; [`EventBroadcaster::new_recorder`] gives an [`EventRecorder`] per
//! component. Recording never blocks: events are queued (up to
//! [`MAX_QUEUED_EVENTS`], beyond which they are dropped with a log line) and written
//! by one task through the [`EventCorrelator`], which counts repeats, combines
//! floods of similar events and drops spam.

mod correlator;

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Event, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tokio::sync::{mpsc, watch};

pub use correlator::{
    AGGREGATE_INTERVAL, AGGREGATE_MAX_EVENTS, AGGREGATE_PREFIX, Correlated, EventCorrelator,
    SPAM_BURST, SPAM_QPS,
};

use crate::api::{Api, ApiResource, KubeObject, PostParams};
use crate::rest::{ClientError, PatchType, RestClient};

/// Events waiting for the sink beyond this are dropped.
pub const MAX_QUEUED_EVENTS: usize = 1000;

/// Attempts to write one event before giving up (client-go's `maxTriesPerEvent`).
pub const MAX_TRIES_PER_EVENT: u32 = 12;

/// The wait between attempts (client-go's `defaultSleepDuration`).
pub const RETRY_SLEEP: Duration = Duration::from_secs(10);

/// The type of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Something expected happened.
    Normal,
    /// Something may need attention.
    Warning,
}

impl EventType {
    /// Returns `Normal` or `Warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

/// The component (and host) that reports events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventSource {
    /// The component name, such as `kube-scheduler`.
    pub component: String,
    /// The node name, for node components.
    pub host: Option<String>,
}

/// Returns a reference to `obj` for an event's `involvedObject`.
pub fn object_reference<K>(obj: &K) -> ObjectReference
where
    K: KubeObject + k8s_openapi::Resource,
{
    let meta = obj.meta();
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

/// Owns the task that writes events to the API server. Dropping every recorder and
/// the broadcaster lets the task finish the queue and stop.
pub struct EventBroadcaster {
    sender: mpsc::Sender<Event>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl EventBroadcaster {
    /// Starts the sink task on the current tokio runtime.
    pub fn new(client: RestClient) -> Self {
        Self::with_retry_sleep(client, RETRY_SLEEP)
    }

    /// As [`EventBroadcaster::new`], with another wait between write attempts.
    pub fn with_retry_sleep(client: RestClient, retry_sleep: Duration) -> Self {
        let (sender, receiver) = mpsc::channel(MAX_QUEUED_EVENTS);
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(sink(client, receiver, stopped, retry_sleep));
        Self { sender, stop, task }
    }

    /// Returns a recorder that reports as `source`.
    pub fn new_recorder(&self, source: EventSource) -> EventRecorder {
        EventRecorder {
            sender: self.sender.clone(),
            source,
        }
    }

    /// Stops the sink after the event being written; queued events are dropped.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Records events about objects. Cloning is cheap.
#[derive(Clone)]
pub struct EventRecorder {
    sender: mpsc::Sender<Event>,
    source: EventSource,
}

impl EventRecorder {
    /// Records an event about the object `reference` points to. `reason` is a short
    /// UpperCamelCase word (`Scheduled`); `message` is for humans. Never blocks; when
    /// the queue is full the event is dropped and logged.
    pub fn event(
        &self,
        reference: &ObjectReference,
        event_type: EventType,
        reason: &str,
        message: &str,
    ) {
        let event = self.make_event(reference, event_type, reason, message);
        tracing::debug!(
            kind = reference.kind.as_deref().unwrap_or(""),
            namespace = reference.namespace.as_deref().unwrap_or(""),
            name = reference.name.as_deref().unwrap_or(""),
            r#type = event_type.as_str(),
            reason,
            message,
            "event occurred"
        );
        if let Err(error) = self.sender.try_send(event) {
            tracing::warn!(reason, %error, "dropping event: the event queue is full or closed");
        }
    }

    fn make_event(
        &self,
        reference: &ObjectReference,
        event_type: EventType,
        reason: &str,
        message: &str,
    ) -> Event {
        let now = now_time();
        let namespace = reference
            .namespace
            .clone()
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| "default".to_string());
        let mut event = Event {
            involved_object: reference.clone(),
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            count: Some(1),
            type_: Some(event_type.as_str().to_string()),
            source: Some(k8s_openapi::api::core::v1::EventSource {
                component: Some(self.source.component.clone()),
                host: self.source.host.clone(),
            }),
            ..Event::default()
        };
        event.metadata.name = Some(correlator::event_name(
            reference.name.as_deref().unwrap_or(""),
        ));
        event.metadata.namespace = Some(namespace);
        event
    }
}

fn now_time() -> Time {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    Time(
        k8s_openapi::jiff::Timestamp::from_second(seconds)
            .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
    )
}

/// Writes queued events one at a time until stopped or every sender is gone.
async fn sink(
    client: RestClient,
    mut receiver: mpsc::Receiver<Event>,
    mut stop: watch::Receiver<bool>,
    retry_sleep: Duration,
) {
    let mut correlator = EventCorrelator::new();
    loop {
        let event = tokio::select! {
            event = receiver.recv() => match event {
                Some(event) => event,
                None => return,
            },
            _ = stopped(&mut stop) => return,
        };
        let Some(correlated) = correlator.correlate(event, Instant::now()) else {
            continue;
        };
        for attempt in 1..=MAX_TRIES_PER_EVENT {
            match write_event(&client, &correlated).await {
                Ok(written) => {
                    correlator.update_state(&written);
                    break;
                }
                Err(error) if error.status().is_some() => {
                    // The server refused it; retrying would not help.
                    if error.is_already_exists() {
                        tracing::info!(%error, "server rejected event (will not retry)");
                    } else {
                        tracing::error!(%error, "server rejected event (will not retry)");
                    }
                    break;
                }
                Err(error) => {
                    if attempt == MAX_TRIES_PER_EVENT {
                        tracing::error!(%error, "unable to write event; giving up");
                        break;
                    }
                    tracing::warn!(%error, attempt, "unable to write event; will retry");
                    let wait = if attempt == 1 {
                        retry_sleep.mul_f64(rand::random::<f64>())
                    } else {
                        retry_sleep
                    };
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stopped(&mut stop) => return,
                    }
                }
            }
        }
    }
}

/// Waits for a shutdown request; a dropped broadcaster is not one, so recorders keep
/// working after it.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Patches the existing event for a repeat (creating it if it is gone), otherwise
/// creates a new one.
async fn write_event(client: &RestClient, correlated: &Correlated) -> Result<Event, ClientError> {
    let event = &correlated.event;
    let namespace = event.metadata.namespace.as_deref().unwrap_or("default");
    let events: Api<Event> =
        Api::with_resource(client.clone(), ApiResource::of::<Event>(), Some(namespace));
    if let (Some(patch), Some(name)) = (&correlated.patch, event.metadata.name.as_deref()) {
        match events.patch(name, PatchType::StrategicMerge, patch).await {
            Ok(patched) => return Ok(patched),
            Err(error) if error.is_not_found() => {}
            Err(error) => return Err(error),
        }
    }
    let mut fresh = event.clone();
    fresh.metadata.resource_version = None;
    events.create(&fresh, &PostParams::default()).await
}
