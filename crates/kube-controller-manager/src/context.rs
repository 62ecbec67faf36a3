//! What every controller is built from: the API client, the shared informers, an
//! event recorder factory and the flags.

use std::sync::Arc;

use client::rest::RestClient;

use crate::events::EventRecorder;
use crate::local_client::SharedInformerFactory;
use crate::options::ControllerManagerOptions;

/// The shared state handed to each controller's constructor.
#[derive(Clone)]
pub struct ControllerContext {
    pub client: RestClient,
    pub informers: SharedInformerFactory,
    pub options: Arc<ControllerManagerOptions>,
}

impl ControllerContext {
    /// Builds a context whose informers list and watch through `client`.
    pub fn new(client: RestClient, options: Arc<ControllerManagerOptions>) -> Self {
        let informers = SharedInformerFactory::new(client.clone(), options.min_resync_period);
        Self {
            client,
            informers,
            options,
        }
    }

    /// Returns an event recorder whose events name `component` (such as
    /// `deployment-controller`) as their source.
    pub fn recorder(&self, component: &str) -> EventRecorder {
        EventRecorder::new(self.client.clone(), component)
    }
}
