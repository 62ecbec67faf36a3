//! The strategy of every built-in resource this server stores.
//!
//! Kinds with upstream defaulting and validation get their own strategy; the rest
//! use [`PlainStrategy`] over their k8s-openapi type, which still decodes bodies
//! into the typed form (dropping unknown fields, rejecting wrong types).

use std::sync::Arc;

use k8s_openapi::api;

use super::strategy::{ErasedStrategy, PlainStrategy};

/// Returns the strategy for a resource at its storage version, or `None` for a
/// resource without one (not stored, or stored in another version).
pub fn strategy_for(group: &str, version: &str, resource: &str) -> Option<Arc<dyn ErasedStrategy>> {
    let specific = super::groups::versioned_strategies()
        .into_iter()
        .find(|entry| {
            entry.group == group && entry.version == version && entry.resource == resource
        });
    if let Some(entry) = specific {
        return Some(entry.strategy);
    }
    if version == "v1" {
        let workloads = super::core::strategies()
            .into_iter()
            .chain(super::apps::strategies())
            .chain(super::batch::strategies())
            .find(|(entry_group, entry_resource, _)| {
                *entry_group == group && *entry_resource == resource
            });
        if let Some((_, _, strategy)) = workloads {
            return Some(strategy);
        }
    }
    macro_rules! plain {
        ($kind:ty) => {
            Some(Arc::new(PlainStrategy::<$kind>::new()) as Arc<dyn ErasedStrategy>)
        };
        ($kind:ty, generation) => {
            Some(Arc::new(PlainStrategy::<$kind>::with_generation()) as Arc<dyn ErasedStrategy>)
        };
    }

    match (group, version, resource) {
        ("", "v1", "configmaps") => plain!(api::core::v1::ConfigMap),
        ("", "v1", "endpoints") => plain!(api::core::v1::Endpoints),
        ("", "v1", "events") => plain!(api::core::v1::Event),
        ("", "v1", "limitranges") => plain!(api::core::v1::LimitRange),
        ("", "v1", "namespaces") => plain!(api::core::v1::Namespace),
        ("", "v1", "nodes") => plain!(api::core::v1::Node),
        ("", "v1", "persistentvolumeclaims") => plain!(api::core::v1::PersistentVolumeClaim),
        ("", "v1", "persistentvolumes") => plain!(api::core::v1::PersistentVolume),
        ("", "v1", "pods") => plain!(api::core::v1::Pod),
        ("", "v1", "podtemplates") => plain!(api::core::v1::PodTemplate),
        ("", "v1", "replicationcontrollers") => {
            plain!(api::core::v1::ReplicationController, generation)
        }
        ("", "v1", "resourcequotas") => plain!(api::core::v1::ResourceQuota),
        ("", "v1", "secrets") => plain!(api::core::v1::Secret),
        ("", "v1", "serviceaccounts") => plain!(api::core::v1::ServiceAccount),
        ("", "v1", "services") => plain!(api::core::v1::Service),

        ("apps", "v1", "controllerrevisions") => plain!(api::apps::v1::ControllerRevision),
        ("apps", "v1", "daemonsets") => plain!(api::apps::v1::DaemonSet, generation),
        ("apps", "v1", "deployments") => plain!(api::apps::v1::Deployment, generation),
        ("apps", "v1", "replicasets") => plain!(api::apps::v1::ReplicaSet, generation),
        ("apps", "v1", "statefulsets") => plain!(api::apps::v1::StatefulSet, generation),

        ("autoscaling", "v2", "horizontalpodautoscalers") => {
            plain!(api::autoscaling::v2::HorizontalPodAutoscaler, generation)
        }
        ("batch", "v1", "cronjobs") => plain!(api::batch::v1::CronJob, generation),
        ("batch", "v1", "jobs") => plain!(api::batch::v1::Job, generation),
        ("coordination.k8s.io", "v1", "leases") => plain!(api::coordination::v1::Lease),
        ("discovery.k8s.io", "v1", "endpointslices") => plain!(api::discovery::v1::EndpointSlice),
        ("policy", "v1", "poddisruptionbudgets") => {
            plain!(api::policy::v1::PodDisruptionBudget, generation)
        }
        ("scheduling.k8s.io", "v1", "priorityclasses") => {
            plain!(api::scheduling::v1::PriorityClass)
        }

        ("storage.k8s.io", "v1", "storageclasses") => plain!(api::storage::v1::StorageClass),
        ("storage.k8s.io", "v1", "csidrivers") => plain!(api::storage::v1::CSIDriver),
        ("storage.k8s.io", "v1", "csinodes") => plain!(api::storage::v1::CSINode),
        ("storage.k8s.io", "v1", "volumeattachments") => plain!(api::storage::v1::VolumeAttachment),
        ("storage.k8s.io", "v1", "csistoragecapacities") => {
            plain!(api::storage::v1::CSIStorageCapacity)
        }

        ("networking.k8s.io", "v1", "networkpolicies") => {
            plain!(api::networking::v1::NetworkPolicy, generation)
        }
        ("networking.k8s.io", "v1", "ingresses") => {
            plain!(api::networking::v1::Ingress, generation)
        }
        ("networking.k8s.io", "v1", "ingressclasses") => plain!(api::networking::v1::IngressClass),
        ("networking.k8s.io", "v1", "ipaddresses") => plain!(api::networking::v1::IPAddress),
        ("networking.k8s.io", "v1", "servicecidrs") => plain!(api::networking::v1::ServiceCIDR),
        ("node.k8s.io", "v1", "runtimeclasses") => plain!(api::node::v1::RuntimeClass),

        ("rbac.authorization.k8s.io", "v1", "roles") => plain!(api::rbac::v1::Role),
        ("rbac.authorization.k8s.io", "v1", "rolebindings") => plain!(api::rbac::v1::RoleBinding),
        ("rbac.authorization.k8s.io", "v1", "clusterroles") => plain!(api::rbac::v1::ClusterRole),
        ("rbac.authorization.k8s.io", "v1", "clusterrolebindings") => {
            plain!(api::rbac::v1::ClusterRoleBinding)
        }

        ("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations") => {
            plain!(
                api::admissionregistration::v1::MutatingWebhookConfiguration,
                generation
            )
        }
        ("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations") => {
            plain!(
                api::admissionregistration::v1::ValidatingWebhookConfiguration,
                generation
            )
        }
        ("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies") => {
            plain!(
                api::admissionregistration::v1::ValidatingAdmissionPolicy,
                generation
            )
        }
        ("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings") => {
            plain!(
                api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
                generation
            )
        }
        ("certificates.k8s.io", "v1", "certificatesigningrequests") => {
            plain!(api::certificates::v1::CertificateSigningRequest)
        }
        ("flowcontrol.apiserver.k8s.io", "v1", "flowschemas") => {
            plain!(api::flowcontrol::v1::FlowSchema, generation)
        }
        ("flowcontrol.apiserver.k8s.io", "v1", "prioritylevelconfigurations") => {
            plain!(api::flowcontrol::v1::PriorityLevelConfiguration, generation)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apimachinery::scheme::RESOURCES;

    #[test]
    fn every_stored_resource_at_its_storage_version_has_a_strategy() {
        let mut missing = Vec::new();
        for info in RESOURCES {
            if info.storage_path.is_none() || info.storage_gvk() != info.gvk() {
                continue;
            }
            // Custom resources and aggregated APIs come with their own registries.
            if matches!(
                info.group,
                "apiextensions.k8s.io" | "apiregistration.k8s.io"
            ) {
                continue;
            }
            if strategy_for(info.group, info.version, info.resource).is_none() {
                missing.push(format!("{}/{}/{}", info.group, info.version, info.resource));
            }
        }
        assert!(
            missing.is_empty(),
            "resources without a strategy: {missing:?}"
        );
    }
}
