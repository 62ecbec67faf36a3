//! The Rust types behind the published definitions: one k8s-openapi type per served kind
//! (resources and the kinds their subresources take), plus the meta types that operations
//! refer to (`DeleteOptions`, `Status`, `WatchEvent`, `Patch`, discovery documents).
//!
//! Entry points: [`kinds`] for the kinds and [`supporting_types`] for the other types. Their
//! schemas come from the `schemars::JsonSchema` implementations that k8s-openapi generates
//! from the upstream OpenAPI definitions, so descriptions, types, formats and `required`
//! lists are upstream's.

use std::borrow::Cow;

use k8s_openapi::Resource;
use k8s_openapi::schemars::{JsonSchema, Schema, SchemaGenerator};

/// Adds the schema of one type (and of every type it refers to) to a generator.
pub(super) type AddSchema = fn(&mut SchemaGenerator) -> Schema;

/// One served kind and the type that defines it.
pub(super) struct KindSchema {
    /// API group, `""` for the core group.
    pub(super) group: &'static str,
    /// Version within the group.
    pub(super) version: &'static str,
    /// Kind, such as `Deployment`.
    pub(super) kind: &'static str,
    /// OpenAPI definition name, such as `io.k8s.api.apps.v1.Deployment`.
    pub(super) definition: Cow<'static, str>,
    /// Adds the schema to a generator.
    pub(super) add_schema: AddSchema,
}

impl KindSchema {
    fn of<T: Resource + JsonSchema>() -> Self {
        Self {
            group: T::GROUP,
            version: T::VERSION,
            kind: T::KIND,
            definition: T::schema_name(),
            add_schema: SchemaGenerator::subschema_for::<T>,
        }
    }
}

macro_rules! kinds {
    ($($ty:ty),+ $(,)?) => {
        vec![$(KindSchema::of::<$ty>()),+]
    };
}

/// Returns every kind that a resource or subresource in `apimachinery::scheme::RESOURCES`
/// takes or returns, except the connect options (`PodExecOptions`, ...), which upstream
/// does not publish as definitions either.
pub(super) fn kinds() -> Vec<KindSchema> {
    use k8s_openapi::api::{
        admissionregistration, apps, authentication, authorization, autoscaling, batch,
        certificates, coordination, core, discovery, events, flowcontrol, networking, node, policy,
        rbac, scheduling, storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration;

    kinds![
        core::v1::Binding,
        core::v1::ComponentStatus,
        core::v1::ConfigMap,
        core::v1::Endpoints,
        core::v1::Event,
        core::v1::LimitRange,
        core::v1::Namespace,
        core::v1::Node,
        core::v1::PersistentVolume,
        core::v1::PersistentVolumeClaim,
        core::v1::Pod,
        core::v1::PodTemplate,
        core::v1::ReplicationController,
        core::v1::ResourceQuota,
        core::v1::Secret,
        core::v1::Service,
        core::v1::ServiceAccount,
        apiregistration::v1::APIService,
        apps::v1::ControllerRevision,
        apps::v1::DaemonSet,
        apps::v1::Deployment,
        apps::v1::ReplicaSet,
        apps::v1::StatefulSet,
        events::v1::Event,
        authentication::v1::SelfSubjectReview,
        authentication::v1::TokenRequest,
        authentication::v1::TokenReview,
        authorization::v1::LocalSubjectAccessReview,
        authorization::v1::SelfSubjectAccessReview,
        authorization::v1::SelfSubjectRulesReview,
        authorization::v1::SubjectAccessReview,
        autoscaling::v1::HorizontalPodAutoscaler,
        autoscaling::v1::Scale,
        autoscaling::v2::HorizontalPodAutoscaler,
        batch::v1::CronJob,
        batch::v1::Job,
        certificates::v1::CertificateSigningRequest,
        networking::v1::IPAddress,
        networking::v1::Ingress,
        networking::v1::IngressClass,
        networking::v1::NetworkPolicy,
        networking::v1::ServiceCIDR,
        policy::v1::Eviction,
        policy::v1::PodDisruptionBudget,
        rbac::v1::ClusterRole,
        rbac::v1::ClusterRoleBinding,
        rbac::v1::Role,
        rbac::v1::RoleBinding,
        storage::v1::CSIDriver,
        storage::v1::CSINode,
        storage::v1::CSIStorageCapacity,
        storage::v1::StorageClass,
        storage::v1::VolumeAttachment,
        admissionregistration::v1::MutatingWebhookConfiguration,
        admissionregistration::v1::ValidatingAdmissionPolicy,
        admissionregistration::v1::ValidatingAdmissionPolicyBinding,
        admissionregistration::v1::ValidatingWebhookConfiguration,
        apiextensions::v1::CustomResourceDefinition,
        scheduling::v1::PriorityClass,
        coordination::v1::Lease,
        node::v1::RuntimeClass,
        discovery::v1::EndpointSlice,
        flowcontrol::v1::FlowSchema,
        flowcontrol::v1::PriorityLevelConfiguration,
    ]
}

/// Definition names of the meta types that operations refer to.
pub(super) mod meta {
    pub(in crate::openapi) const API_GROUP: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup";
    pub(in crate::openapi) const API_GROUP_LIST: &str =
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList";
    pub(in crate::openapi) const API_RESOURCE_LIST: &str =
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList";
    pub(in crate::openapi) const API_VERSIONS: &str =
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions";
    pub(in crate::openapi) const DELETE_OPTIONS: &str =
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
    pub(in crate::openapi) const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
    pub(in crate::openapi) const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
    pub(in crate::openapi) const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
    pub(in crate::openapi) const VERSION_INFO: &str = "io.k8s.apimachinery.pkg.version.Info";
    pub(in crate::openapi) const WATCH_EVENT: &str =
        "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
}

/// Returns the schema adders of the meta types that operations refer to. Their names are
/// the constants in [`meta`].
pub(super) fn supporting_types() -> [AddSchema; 10] {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta_v1;
    use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
    use k8s_openapi::apimachinery::pkg::version::Info;

    [
        SchemaGenerator::subschema_for::<meta_v1::APIGroup>,
        SchemaGenerator::subschema_for::<meta_v1::APIGroupList>,
        SchemaGenerator::subschema_for::<meta_v1::APIResourceList>,
        SchemaGenerator::subschema_for::<meta_v1::APIVersions>,
        SchemaGenerator::subschema_for::<meta_v1::DeleteOptions>,
        SchemaGenerator::subschema_for::<meta_v1::ListMeta>,
        SchemaGenerator::subschema_for::<meta_v1::Patch>,
        SchemaGenerator::subschema_for::<meta_v1::Status>,
        SchemaGenerator::subschema_for::<meta_v1::WatchEvent<RawExtension>>,
        SchemaGenerator::subschema_for::<Info>,
    ]
}

/// Returns the kind with that group, version and kind.
pub(super) fn find<'a>(
    kinds: &'a [KindSchema],
    group: &str,
    version: &str,
    kind: &str,
) -> Option<&'a KindSchema> {
    kinds
        .iter()
        .find(|entry| entry.group == group && entry.version == version && entry.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use apimachinery::scheme::RESOURCES;

    #[test]
    fn every_served_kind_has_a_type() {
        let kinds = kinds();
        for resource in RESOURCES {
            assert!(
                find(&kinds, resource.group, resource.version, resource.kind).is_some(),
                "{}/{} {} has no type",
                resource.group,
                resource.version,
                resource.kind
            );
            for subresource in resource.subresources {
                if subresource.kind.ends_with("Options") {
                    continue;
                }
                let (group, version) = if subresource.group.is_empty() {
                    (resource.group, resource.version)
                } else {
                    (subresource.group, subresource.version)
                };
                assert!(
                    find(&kinds, group, version, subresource.kind).is_some(),
                    "{}/{} has no type for {group}/{version} {}",
                    resource.resource,
                    subresource.name,
                    subresource.kind
                );
            }
        }
    }

    #[test]
    fn kinds_are_unique() {
        let kinds = kinds();
        for (index, entry) in kinds.iter().enumerate() {
            let duplicates = kinds[index + 1..]
                .iter()
                .filter(|other| other.definition == entry.definition)
                .count();
            assert_eq!(duplicates, 0, "{} is listed twice", entry.definition);
        }
    }

    #[test]
    fn kinds_are_served() {
        for entry in kinds() {
            let served_as_resource = RESOURCES.iter().any(|resource| {
                (resource.group, resource.version, resource.kind)
                    == (entry.group, entry.version, entry.kind)
            });
            let served_as_subresource = RESOURCES
                .iter()
                .flat_map(|resource| resource.subresources)
                .any(|subresource| subresource.kind == entry.kind);
            assert!(
                served_as_resource || served_as_subresource,
                "{} is not served",
                entry.definition
            );
        }
    }
}
