//! Strategies of the core/v1 resources: pods, namespaces, nodes, services, endpoints,
//! config maps, secrets, service accounts, events, limit ranges, resource quotas,
//! persistent volumes and claims, replication controllers and pod templates.
//!
//! Entry point: [`strategies`], which lists each resource with its strategy.

use std::sync::Arc;

use crate::registry::strategy::ErasedStrategy;

pub mod config;
pub mod controller;
pub mod namespace;
pub mod pod;
pub mod quota;
pub mod service;
pub mod volume;

/// Returns every core/v1 resource this module covers as `("", resource, strategy)`.
pub fn strategies() -> Vec<(&'static str, &'static str, Arc<dyn ErasedStrategy>)> {
    vec![
        ("", "pods", Arc::new(pod::PodStrategy)),
        ("", "namespaces", Arc::new(namespace::NamespaceStrategy)),
        ("", "nodes", Arc::new(namespace::NodeStrategy)),
        ("", "services", Arc::new(service::ServiceStrategy)),
        ("", "endpoints", Arc::new(config::EndpointsStrategy)),
        ("", "configmaps", Arc::new(config::ConfigMapStrategy)),
        ("", "secrets", Arc::new(config::SecretStrategy)),
        (
            "",
            "serviceaccounts",
            Arc::new(config::ServiceAccountStrategy),
        ),
        ("", "events", Arc::new(config::EventStrategy)),
        ("", "limitranges", Arc::new(quota::LimitRangeStrategy)),
        ("", "resourcequotas", Arc::new(quota::ResourceQuotaStrategy)),
        (
            "",
            "persistentvolumes",
            Arc::new(volume::PersistentVolumeStrategy),
        ),
        (
            "",
            "persistentvolumeclaims",
            Arc::new(volume::PersistentVolumeClaimStrategy),
        ),
        (
            "",
            "replicationcontrollers",
            Arc::new(controller::ReplicationControllerStrategy),
        ),
        (
            "",
            "podtemplates",
            Arc::new(controller::PodTemplateStrategy),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_strategy_defaults_a_minimal_object() {
        let names: Vec<&str> = strategies()
            .iter()
            .map(|(_, resource, _)| *resource)
            .collect();
        assert_eq!(names.len(), 15);
        for (_, resource, strategy) in strategies() {
            let object = json!({"metadata": {"name": "a", "namespace": "default"}});
            let defaulted = strategy.decode_and_default(object);
            assert!(defaulted.is_ok(), "{resource}: {defaulted:?}");
        }
    }
}
