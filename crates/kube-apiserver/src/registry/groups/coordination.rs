//! coordination.k8s.io/v1: Leases.
//!
//! Entry point: [`strategies`]. Leases have no defaults; validation checks the
//! duration, transitions and coordinated leader election fields.

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation::is_qualified_name;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};

use super::validation::invalid_each;
use super::{ResourceStrategy, entry};
use crate::registry::strategy::Strategy;

/// The coordinated leader election strategies defined by Kubernetes.
const LEASE_STRATEGIES: [&str; 1] = ["OldestEmulationVersion"];

/// Returns the strategies of the coordination.k8s.io/v1 resources.
pub fn strategies() -> Vec<ResourceStrategy> {
    vec![entry(Arc::new(LeaseStrategy))]
}

/// Strategy of `leases`.
///
/// `spec.strategy` and `spec.preferredHolder` belong to the CoordinatedLeaderElection
/// feature, which v1.33 ships disabled: they are dropped on write unless the stored
/// Lease already uses them, as upstream's strategy does with the gate off.
pub struct LeaseStrategy;

impl Strategy for LeaseStrategy {
    type Object = Lease;

    fn prepare_for_create(&self, lease: &mut Lease) {
        drop_coordinated_fields(lease, None);
    }

    fn prepare_for_update(&self, lease: &mut Lease, old: &Lease) {
        drop_coordinated_fields(lease, Some(old));
    }

    fn validate(&self, lease: &Lease) -> Vec<FieldError> {
        match &lease.spec {
            Some(spec) => validate_lease_spec(spec, &FieldPath::new("spec")),
            None => Vec::new(),
        }
    }
}

fn drop_coordinated_fields(lease: &mut Lease, old: Option<&Lease>) {
    let in_use = old
        .and_then(|old| old.spec.as_ref())
        .is_some_and(|spec| spec.strategy.is_some() || spec.preferred_holder.is_some());
    if in_use {
        return;
    }
    if let Some(spec) = &mut lease.spec {
        spec.strategy = None;
        spec.preferred_holder = None;
    }
}

/// Upstream's `ValidateLeaseSpec`.
fn validate_lease_spec(spec: &LeaseSpec, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(duration) = spec.lease_duration_seconds
        && duration <= 0
    {
        errors.push(FieldError::invalid(
            &path.child("leaseDurationSeconds"),
            duration,
            "must be greater than 0",
        ));
    }
    if let Some(transitions) = spec.lease_transitions
        && transitions < 0
    {
        errors.push(FieldError::invalid(
            &path.child("leaseTransitions"),
            transitions,
            "must be greater than or equal to 0",
        ));
    }
    if let Some(strategy) = &spec.strategy {
        errors.extend(validate_coordinated_lease_strategy(
            strategy,
            &path.child("strategy"),
        ));
    }
    let has_preferred_holder = spec
        .preferred_holder
        .as_deref()
        .is_some_and(|holder| !holder.is_empty());
    let has_strategy = spec
        .strategy
        .as_deref()
        .is_some_and(|strategy| !strategy.is_empty());
    if has_preferred_holder && !has_strategy {
        errors.push(FieldError::forbidden(
            &path.child("preferredHolder"),
            "may only be specified if `strategy` is defined",
        ));
    }
    errors
}

/// Upstream's `ValidateCoordinatedLeaseStrategy`: a Kubernetes-defined name, or a
/// qualified name with a domain prefix.
fn validate_coordinated_lease_strategy(strategy: &str, path: &FieldPath) -> Vec<FieldError> {
    // Upstream appends "strategy" to a path that already ends in it, so its errors
    // read `spec.strategy.strategy`; clients see that path, so it is kept.
    let reported = path.child("strategy");
    if !strategy.contains('/') {
        if LEASE_STRATEGIES.contains(&strategy) {
            return Vec::new();
        }
        return vec![FieldError::not_supported(
            &reported,
            strategy,
            &LEASE_STRATEGIES,
        )];
    }
    invalid_each(&reported, strategy, is_qualified_name(strategy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::groups::validation::testing::messages;
    use serde_json::json;

    fn lease(spec: serde_json::Value) -> Lease {
        serde_json::from_value(
            json!({"metadata": {"name": "l", "namespace": "kube-system"}, "spec": spec}),
        )
        .unwrap()
    }

    #[test]
    fn spec_validation() {
        let cases = [
            (
                json!({"holderIdentity": "a", "leaseDurationSeconds": 15}),
                vec![],
            ),
            (
                json!({"leaseDurationSeconds": 0, "leaseTransitions": -1}),
                vec![
                    "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
                    "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
                ],
            ),
            (
                json!({"preferredHolder": "b"}),
                vec![
                    "spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined",
                ],
            ),
            (
                json!({"strategy": "Newest"}),
                vec![
                    "spec.strategy.strategy: Unsupported value: \"Newest\": supported values: \"OldestEmulationVersion\"",
                ],
            ),
            (json!({"strategy": "example.com/mine"}), vec![]),
        ];
        for (spec, expected) in cases {
            assert_eq!(
                messages(&LeaseStrategy.validate(&lease(spec.clone()))),
                expected,
                "{spec}"
            );
        }
    }

    #[test]
    fn coordinated_fields_dropped_unless_in_use() {
        let mut new = lease(json!({"strategy": "OldestEmulationVersion", "preferredHolder": "a"}));
        LeaseStrategy.prepare_for_create(&mut new);
        let spec = new.spec.as_ref().unwrap();
        assert!(spec.strategy.is_none());
        assert!(spec.preferred_holder.is_none());

        let old = lease(json!({"strategy": "OldestEmulationVersion"}));
        let mut update =
            lease(json!({"strategy": "OldestEmulationVersion", "preferredHolder": "a"}));
        LeaseStrategy.prepare_for_update(&mut update, &old);
        assert_eq!(update.spec.unwrap().preferred_holder.as_deref(), Some("a"));
    }
}
