//! Event recording for controllers: a thin layer over the shared client's
//! recorder that takes the object itself instead of a reference to it.

use client::events::{EventSource, object_reference};

pub use client::events::EventType;

use crate::client_ext::Resource;

/// Records events on behalf of one component (such as `replicaset-controller`).
#[derive(Clone)]
pub struct EventRecorder {
    recorder: client::events::EventRecorder,
}

impl EventRecorder {
    /// A recorder sending through `broadcaster`, naming `component` as the source.
    pub fn new(broadcaster: &client::events::EventBroadcaster, component: &str) -> Self {
        Self {
            recorder: broadcaster.new_recorder(EventSource {
                component: component.to_string(),
                host: None,
            }),
        }
    }

    /// Records an event about `object`; the broadcaster posts it in the background.
    pub fn event<K: Resource>(
        &self,
        object: &K,
        event_type: EventType,
        reason: &str,
        message: &str,
    ) {
        self.recorder
            .event(&object_reference(object), event_type, reason, message);
    }
}
