//! The ReplicationController manager: the replica manager of the `replicaset`
//! module applied to core/v1 ReplicationControllers, whose selector is a plain
//! label map.
//!
//! Entry point: [`ReplicationManager::new`] then [`ReplicationManager::run`].

use apimachinery::labels::Selector;
use k8s_openapi::api::core::v1::{PodTemplateSpec, ReplicationController};
use tokio::sync::watch;

use crate::context::ControllerContext;
use crate::replicaset::{ReplicaManager, ReplicaOwner, ReplicaStatus};

impl ReplicaOwner for ReplicationController {
    const CONTROLLER_NAME: &'static str = "replication-controller";

    fn replicas(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|spec| spec.replicas)
            .unwrap_or(1)
    }

    fn min_ready_seconds(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|spec| spec.min_ready_seconds)
            .unwrap_or(0)
    }

    /// The selector map, or the template's labels when it is empty (the default
    /// the API server also applies).
    fn selector(&self) -> Result<Selector, String> {
        let spec = self.spec.as_ref();
        let selector = spec
            .and_then(|spec| spec.selector.clone())
            .filter(|selector| !selector.is_empty())
            .or_else(|| {
                self.template()
                    .and_then(|template| template.metadata.as_ref())
                    .and_then(|meta| meta.labels.clone())
            })
            .unwrap_or_default();
        if selector.is_empty() {
            return Ok(Selector::nothing());
        }
        Selector::validated_from_set(&selector).map_err(|err| format!("invalid selector: {err}"))
    }

    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref().and_then(|spec| spec.template.as_ref())
    }

    fn replica_status(&self) -> ReplicaStatus {
        ReplicaStatus::from_object(self)
    }
}

/// The ReplicationController controller.
pub struct ReplicationManager {
    manager: ReplicaManager<ReplicationController>,
}

impl ReplicationManager {
    /// Builds the controller and registers its informer handlers.
    pub fn new(ctx: &ControllerContext) -> Self {
        Self {
            manager: ReplicaManager::new(ctx),
        }
    }

    /// Syncs with `workers` workers until `cancel` fires.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        self.manager.run(workers, cancel).await;
    }
}
