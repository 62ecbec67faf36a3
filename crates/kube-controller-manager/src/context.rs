//! The controller context: the API client, the shared informers, an
//! event recorder factory and the flags.

use std::sync::Arc;

use client::events::EventBroadcaster;
use client::rest::RestClient;

use crate::events::EventRecorder;
use crate::options::ControllerManagerOptions;
use client::informer::SharedInformerFactory;

/// The resources whose informer caches are packed: the kinds whose count grows with
/// the workload. A decoded pod takes about seven times the memory of its JSON, so
/// at 100,000 objects decoded caches of these take gigabytes. Controllers read them
/// through summaries and indices that decode only the objects they select. Kinds
/// such as Services and Deployments stay decoded: controllers read all of a
/// namespace's on every pod event.
const PACKED_RESOURCES: &[&str] = &[
    "pods",
    "replicasets",
    "controllerrevisions",
    "jobs",
    "configmaps",
    "secrets",
    "endpoints",
    "endpointslices",
    "events",
];

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
                .with_packed_caches(|resource| {
                    PACKED_RESOURCES.contains(&resource.plural.as_str())
                }),
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
