//! Strategies of the built-in API groups other than core/v1, apps/v1 and batch/v1:
//! their defaults, validation, status handling and generation tracking, as the
//! Kubernetes v1.33 apiserver applies them.
//!
//! Entry points: [`strategies`] lists every covered resource for the generic store,
//! [`versioned_strategies`] adds the version (autoscaling is served as v1 and v2), and
//! [`name_validation`] returns the rule `metadata.name` follows per resource, because
//! upstream's name rules differ by kind and the store validates object metadata.
//!
//! Each submodule holds one API group and follows upstream's
//! `pkg/apis/<group>/validation`, `pkg/apis/<group>/<version>/defaults.go` and
//! `pkg/registry/<group>/*/strategy.go`. Field paths and messages are upstream's.

use std::sync::Arc;

use apimachinery::validation::{is_dns1123_subdomain, is_valid_path_segment_name};

use crate::registry::strategy::{ErasedStrategy, Strategy};

pub mod admissionregistration;
pub mod autoscaling;
pub mod certificates;
pub mod coordination;
pub mod discovery;
pub mod events;
pub mod flowcontrol;
pub mod networking;
pub mod node;
pub mod policy;
pub mod rbac;
pub mod scheduling;
pub mod storage;
pub mod validation;

/// One resource's strategy with the group, version and resource it serves.
pub struct ResourceStrategy {
    /// API group, empty for the core group.
    pub group: &'static str,
    /// API version within the group, such as `v1`.
    pub version: &'static str,
    /// Plural resource name, such as `clusterroles`.
    pub resource: &'static str,
    /// The strategy, called by the generic store.
    pub strategy: Arc<dyn ErasedStrategy>,
}

/// Builds the entry of a strategy from its object type's group, version and resource.
pub(crate) fn entry<S: Strategy>(strategy: Arc<S>) -> ResourceStrategy {
    ResourceStrategy {
        group: <S::Object as k8s_openapi::Resource>::GROUP,
        version: <S::Object as k8s_openapi::Resource>::VERSION,
        resource: <S::Object as k8s_openapi::Resource>::URL_PATH_SEGMENT,
        strategy,
    }
}

/// Returns every covered resource's strategy with its version. A resource served in
/// several versions (autoscaling `horizontalpodautoscalers`) has one entry per
/// version, the storage version first.
pub fn versioned_strategies() -> Vec<ResourceStrategy> {
    let mut all = Vec::new();
    all.extend(rbac::strategies());
    all.extend(policy::strategies());
    all.extend(scheduling::strategies());
    all.extend(coordination::strategies());
    all.extend(discovery::strategies());
    all.extend(storage::strategies());
    all.extend(networking::strategies());
    all.extend(autoscaling::strategies());
    all.extend(node::strategies());
    all.extend(certificates::strategies());
    all.extend(events::strategies());
    all.extend(flowcontrol::strategies());
    all.extend(admissionregistration::strategies());
    all
}

/// Returns `(group, resource, strategy)` for every covered resource. A resource served
/// in several versions appears once per version, the storage version first.
/// [`versioned_strategies`] gives the version of each entry.
pub fn strategies() -> Vec<(&'static str, &'static str, Arc<dyn ErasedStrategy>)> {
    versioned_strategies()
        .into_iter()
        .map(|entry| (entry.group, entry.resource, entry.strategy))
        .collect()
}

/// The rule an object name must follow, per resource (upstream's name validation
/// function passed to `ValidateObjectMeta`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameValidation {
    /// A DNS-1123 subdomain (`NameIsDNSSubdomain`), the rule of most kinds.
    DnsSubdomain,
    /// Only a valid path segment: no `/` or `%`, not `.` or `..` (RBAC kinds).
    PathSegment,
    /// Any name; the storage key still needs a valid path segment
    /// (CertificateSigningRequests).
    Any,
}

impl NameValidation {
    /// Checks `name` and returns upstream's messages. `prefix` is true for a
    /// `generateName` prefix, where a trailing '-' is allowed.
    pub fn validate(self, name: &str, prefix: bool) -> Vec<String> {
        match self {
            NameValidation::DnsSubdomain => {
                let checked = if prefix {
                    name.strip_suffix('-').unwrap_or(name)
                } else {
                    name
                };
                if prefix && checked.is_empty() {
                    return Vec::new();
                }
                is_dns1123_subdomain(checked)
            }
            NameValidation::PathSegment => {
                if prefix {
                    apimachinery::validation::is_valid_path_segment_prefix(name)
                } else {
                    is_valid_path_segment_name(name)
                }
            }
            NameValidation::Any => Vec::new(),
        }
    }
}

/// Returns the name rule of a resource of these groups; resources not listed here use
/// DNS-1123 subdomain names.
pub fn name_validation(group: &str, resource: &str) -> NameValidation {
    match (group, resource) {
        (rbac::GROUP_NAME, _) => NameValidation::PathSegment,
        ("certificates.k8s.io", "certificatesigningrequests") => NameValidation::Any,
        _ => NameValidation::DnsSubdomain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn entries_are_unique_per_version() {
        let mut seen = BTreeSet::new();
        for entry in versioned_strategies() {
            assert!(
                seen.insert((entry.group, entry.version, entry.resource)),
                "duplicate {}/{} {}",
                entry.group,
                entry.version,
                entry.resource
            );
        }
        assert_eq!(strategies().len(), seen.len());

        let autoscaling: Vec<&str> = versioned_strategies()
            .into_iter()
            .filter(|entry| entry.resource == "horizontalpodautoscalers")
            .map(|entry| entry.version)
            .collect();
        assert_eq!(autoscaling, ["v2", "v1"]);
    }

    #[test]
    fn listed_resources() {
        let listed: BTreeSet<(&str, &str)> = strategies()
            .into_iter()
            .map(|(group, resource, _)| (group, resource))
            .collect();
        for expected in [
            ("rbac.authorization.k8s.io", "roles"),
            ("rbac.authorization.k8s.io", "rolebindings"),
            ("rbac.authorization.k8s.io", "clusterroles"),
            ("rbac.authorization.k8s.io", "clusterrolebindings"),
            ("policy", "poddisruptionbudgets"),
            ("scheduling.k8s.io", "priorityclasses"),
            ("coordination.k8s.io", "leases"),
            ("discovery.k8s.io", "endpointslices"),
            ("storage.k8s.io", "storageclasses"),
            ("storage.k8s.io", "csidrivers"),
            ("storage.k8s.io", "csinodes"),
            ("storage.k8s.io", "volumeattachments"),
            ("storage.k8s.io", "csistoragecapacities"),
            ("networking.k8s.io", "networkpolicies"),
            ("networking.k8s.io", "ingresses"),
            ("networking.k8s.io", "ingressclasses"),
            ("autoscaling", "horizontalpodautoscalers"),
            ("node.k8s.io", "runtimeclasses"),
            ("certificates.k8s.io", "certificatesigningrequests"),
            ("events.k8s.io", "events"),
            ("flowcontrol.apiserver.k8s.io", "flowschemas"),
            (
                "flowcontrol.apiserver.k8s.io",
                "prioritylevelconfigurations",
            ),
        ] {
            assert!(listed.contains(&expected), "{expected:?} missing");
        }
    }

    #[test]
    fn name_rules_by_resource() {
        let rbac = name_validation("rbac.authorization.k8s.io", "clusterroles");
        assert!(rbac.validate("system:node", false).is_empty());
        assert!(!rbac.validate("a/b", false).is_empty());

        let subdomain = name_validation("scheduling.k8s.io", "priorityclasses");
        assert!(!subdomain.validate("system:node", false).is_empty());
        assert!(subdomain.validate("web-", true).is_empty());
        assert!(!subdomain.validate("web-", false).is_empty());

        let any = name_validation("certificates.k8s.io", "certificatesigningrequests");
        assert!(any.validate("csr:Node_1", false).is_empty());
    }
}
