//! The controller context: the API client, the shared informers, an
//! event recorder factory and the flags.

use std::sync::Arc;

use client::events::EventBroadcaster;
use client::rest::RestClient;

use crate::events::EventRecorder;
use crate::options::ControllerManagerOptions;
use client::informer::SharedInformerFactory;

/// The shared state handed to each controller's constructor.
#[derive(Clone)]
pub struct ControllerContext {
    pub client: RestClient,
    pub informers: Arc<SharedInformerFactory>,
    pub options: Arc<ControllerManagerOptions>,
    /// Posts the events of every controller's recorder.
    pub event_broadcaster: Arc<EventBroadcaster>,
}

impl ControllerContext {
    /// Builds a context whose informers list and watch through `client`.
    pub fn new(client: RestClient, options: Arc<ControllerManagerOptions>) -> Self {
        let informers = Arc::new(
            SharedInformerFactory::new(client.clone(), options.min_resync_period)
                .with_managed_fields_stripped()
                // At 100,000 objects decoded caches take gigabytes; packed ones a
                // fraction, and controllers read few objects per event.
                .with_packed_caches(),
        );
        let event_broadcaster = Arc::new(EventBroadcaster::new(client.clone()));
        Self {
            client,
            informers,
            options,
            event_broadcaster,
        }
    }

    /// Returns an event recorder whose events name `component` (such as
    /// `deployment-controller`) as their source.
    pub fn recorder(&self, component: &str) -> EventRecorder {
        EventRecorder::new(&self.event_broadcaster, component)
    }
}
