//! Strategies of the core/v1 resources: pods, namespaces, nodes, services, endpoints,
//! config maps, secrets, service accounts, events, limit ranges, resource quotas,
//! persistent volumes and claims, replication controllers and pod templates.
//!
//! Entry point: [`strategies`], which lists each resource with its strategy.
//! [`binding`] contains the rules of the `pods/binding` subresource.

use std::sync::Arc;

use crate::registry::strategy::ErasedStrategy;

pub mod binding;
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

/// Returns whether the strategy of a core resource checks `metadata.name` itself
/// because the kind's rule is stricter than the DNS subdomain most kinds use:
/// namespaces (DNS-1123 label) and services (DNS-1035 label). The store should skip
/// its generic name check for these, or a bad name gets two messages.
pub fn validates_own_name(resource: &str) -> bool {
    matches!(resource, "namespaces" | "services")
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

    #[test]
    fn pod_create_flow_through_json() {
        let strategies = strategies();
        let (_, _, pods) = strategies
            .iter()
            .find(|(_, resource, _)| *resource == "pods")
            .expect("pods strategy");
        let object = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]},
            "status": {"phase": "Running"}
        });
        let mut pod = pods.decode_and_default(object).expect("decodes");
        pods.prepare_for_create(&mut pod).expect("prepares");
        assert_eq!(pods.validate(&pod).expect("validates"), Vec::new());
        assert_eq!(
            pod["status"],
            json!({"phase": "Pending", "qosClass": "BestEffort"})
        );
        assert_eq!(
            pod["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        assert_eq!(pod["spec"]["containers"][0]["ports"][0]["protocol"], "TCP");
        assert!(pods.tracks_generation());

        let mut invalid =
            json!({"metadata": {"name": "bad"}, "spec": {"containers": [{"name": "app"}]}});
        invalid = pods.decode_and_default(invalid).expect("decodes");
        let errors: Vec<String> = pods
            .validate(&invalid)
            .expect("validates")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(errors, vec!["spec.containers[0].image: Required value"]);
    }

    #[test]
    fn every_group_lists_its_resources() {
        let listed: Vec<(&str, &str)> = strategies()
            .into_iter()
            .chain(crate::registry::apps::strategies())
            .chain(crate::registry::batch::strategies())
            .map(|(group, resource, _)| (group, resource))
            .collect();
        for expected in [
            ("", "pods"),
            ("", "services"),
            ("apps", "deployments"),
            ("apps", "statefulsets"),
            ("apps", "daemonsets"),
            ("apps", "replicasets"),
            ("apps", "controllerrevisions"),
            ("batch", "jobs"),
            ("batch", "cronjobs"),
        ] {
            assert!(listed.contains(&expected), "{expected:?} is listed");
        }
    }
}
