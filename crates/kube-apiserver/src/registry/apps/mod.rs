//! Strategies of the apps/v1 resources: deployments, replica sets, stateful sets,
//! daemon sets and controller revisions.
//!
//! Entry point: [`strategies`], which lists each resource with its strategy.

use std::sync::Arc;

use crate::registry::strategy::ErasedStrategy;

pub mod deployment;
pub mod stateful;
pub mod workload;

/// Returns every apps/v1 resource this module covers as `("apps", resource, strategy)`.
pub fn strategies() -> Vec<(&'static str, &'static str, Arc<dyn ErasedStrategy>)> {
    vec![
        (
            "apps",
            "deployments",
            Arc::new(deployment::DeploymentRegistryStrategy),
        ),
        (
            "apps",
            "replicasets",
            Arc::new(deployment::ReplicaSetStrategy),
        ),
        (
            "apps",
            "statefulsets",
            Arc::new(stateful::StatefulSetStrategy),
        ),
        ("apps", "daemonsets", Arc::new(stateful::DaemonSetStrategy)),
        (
            "apps",
            "controllerrevisions",
            Arc::new(stateful::ControllerRevisionStrategy),
        ),
    ]
}
