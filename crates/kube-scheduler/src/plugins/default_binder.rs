//! DefaultBinder: binds the pod by creating its `pods/binding` subresource.

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Pod;

use crate::framework::handle::Handle;
use crate::framework::interface::{BindPlugin, CycleState, Plugin, Status};

/// The plugin name.
pub const NAME: &str = "DefaultBinder";

/// The DefaultBinder plugin.
pub struct DefaultBinder {
    handle: Handle,
}

impl DefaultBinder {
    /// Builds the binder over the handle's client.
    pub fn new(handle: Handle) -> DefaultBinder {
        DefaultBinder { handle }
    }
}

impl Plugin for DefaultBinder {
    fn name(&self) -> &'static str {
        NAME
    }

    fn as_bind(&self) -> Option<&dyn BindPlugin> {
        Some(self)
    }
}

#[async_trait]
impl BindPlugin for DefaultBinder {
    async fn bind(&self, _state: &CycleState, pod: &Pod, node_name: &str) -> Status {
        match self.handle.client.bind(pod, node_name).await {
            Ok(()) => Status::success(),
            Err(error) => Status::error(error.to_string()),
        }
    }
}
