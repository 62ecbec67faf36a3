//! policy/v1: PodDisruptionBudgets.
//!
//! Entry point: [`strategies`]. PodDisruptionBudgets have no defaults; validation
//! allows either `minAvailable` or `maxUnavailable`, each a non-negative integer or a
//! percentage up to 100%, and checks the selector. The kind has a status subresource
//! and counts generations.

use std::sync::Arc;

use apimachinery::errors::{BadValue, FieldError, FieldPath};
use k8s_openapi::api::policy::v1::{
    PodDisruptionBudget, PodDisruptionBudgetSpec, PodDisruptionBudgetStatus,
};

use super::validation::{
    is_not_more_than_100_percent, rendered, validate_conditions, validate_label_selector,
    validate_nonnegative, validate_positive_int_or_percent,
};
use super::{ResourceStrategy, entry};
use crate::registry::strategy::Strategy;

const UNHEALTHY_POD_EVICTION_POLICIES: [&str; 2] = ["AlwaysAllow", "IfHealthyBudget"];

/// Returns the strategies of the policy/v1 resources.
pub fn strategies() -> Vec<ResourceStrategy> {
    vec![entry(Arc::new(PodDisruptionBudgetStrategy))]
}

/// Strategy of `poddisruptionbudgets`.
pub struct PodDisruptionBudgetStrategy;

impl Strategy for PodDisruptionBudgetStrategy {
    type Object = PodDisruptionBudget;

    fn prepare_for_create(&self, budget: &mut PodDisruptionBudget) {
        budget.status = None;
    }

    fn prepare_for_update(&self, budget: &mut PodDisruptionBudget, old: &PodDisruptionBudget) {
        budget.status = old.status.clone();
    }

    fn validate(&self, budget: &PodDisruptionBudget) -> Vec<FieldError> {
        validate_spec(budget.spec.as_ref(), false)
    }

    fn validate_update(
        &self,
        budget: &PodDisruptionBudget,
        old: &PodDisruptionBudget,
    ) -> Vec<FieldError> {
        // A stored selector with invalid label values stays updatable.
        let old_selector = old.spec.as_ref().and_then(|spec| spec.selector.as_ref());
        let allow_invalid =
            !validate_label_selector(old_selector, false, &FieldPath::default()).is_empty();
        validate_spec(budget.spec.as_ref(), allow_invalid)
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn validate_status_update(
        &self,
        budget: &PodDisruptionBudget,
        _old: &PodDisruptionBudget,
    ) -> Vec<FieldError> {
        match &budget.status {
            Some(status) => validate_status(status, &FieldPath::new("status")),
            None => Vec::new(),
        }
    }
}

/// Upstream's `ValidatePodDisruptionBudgetSpec`.
fn validate_spec(
    spec: Option<&PodDisruptionBudgetSpec>,
    allow_invalid_label_values: bool,
) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    let default_spec = PodDisruptionBudgetSpec::default();
    let spec = spec.unwrap_or(&default_spec);
    let mut errors = Vec::new();

    if spec.min_available.is_some() && spec.max_unavailable.is_some() {
        errors.push(FieldError::invalid(
            &path,
            rendered(spec),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for (field, value) in [
        ("minAvailable", &spec.min_available),
        ("maxUnavailable", &spec.max_unavailable),
    ] {
        if let Some(value) = value {
            let field_path = path.child(field);
            errors.extend(validate_positive_int_or_percent(value, &field_path));
            errors.extend(is_not_more_than_100_percent(value, &field_path));
        }
    }

    errors.extend(validate_label_selector(
        spec.selector.as_ref(),
        allow_invalid_label_values,
        &path.child("selector"),
    ));

    if let Some(policy) = &spec.unhealthy_pod_eviction_policy
        && !UNHEALTHY_POD_EVICTION_POLICIES.contains(&policy.as_str())
    {
        errors.push(FieldError::not_supported(
            &path.child("unhealthyPodEvictionPolicy"),
            BadValue::from(policy),
            &UNHEALTHY_POD_EVICTION_POLICIES,
        ));
    }
    errors
}

/// Upstream's `ValidatePodDisruptionBudgetStatusUpdate` for policy/v1.
fn validate_status(status: &PodDisruptionBudgetStatus, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_conditions(
        status.conditions.as_deref().unwrap_or_default(),
        &path.child("conditions"),
    );
    for (field, value) in [
        ("disruptionsAllowed", status.disruptions_allowed),
        ("currentHealthy", status.current_healthy),
        ("desiredHealthy", status.desired_healthy),
        ("expectedPods", status.expected_pods),
    ] {
        errors.extend(validate_nonnegative(i64::from(value), &path.child(field)));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::groups::validation::testing::messages;
    use crate::registry::strategy::Strategy;
    use serde_json::json;

    fn budget(spec: serde_json::Value) -> PodDisruptionBudget {
        serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": spec}))
            .unwrap()
    }

    #[test]
    fn spec_validation() {
        let cases = [
            (
                json!({"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}),
                vec![],
            ),
            (json!({"maxUnavailable": "50%"}), vec![]),
            (
                json!({"minAvailable": 1, "maxUnavailable": 1}),
                vec![
                    "spec: Invalid value: {\"maxUnavailable\":1,\"minAvailable\":1}: minAvailable and maxUnavailable cannot be both set",
                ],
            ),
            (
                json!({"minAvailable": -1}),
                vec!["spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"],
            ),
            (
                json!({"maxUnavailable": "120%"}),
                vec![
                    "spec.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"120%\"}: must not be greater than 100%",
                ],
            ),
            (
                json!({"minAvailable": 1, "unhealthyPodEvictionPolicy": "Never"}),
                vec![
                    "spec.unhealthyPodEvictionPolicy: Unsupported value: \"Never\": supported values: \"AlwaysAllow\", \"IfHealthyBudget\"",
                ],
            ),
        ];
        for (spec, expected) in cases {
            let errors = PodDisruptionBudgetStrategy.validate(&budget(spec.clone()));
            assert_eq!(messages(&errors), expected, "{spec}");
        }
    }

    #[test]
    fn status_cleared_then_kept() {
        let mut created = budget(json!({"minAvailable": 1}));
        created.status = Some(PodDisruptionBudgetStatus {
            expected_pods: 3,
            ..Default::default()
        });
        PodDisruptionBudgetStrategy.prepare_for_create(&mut created);
        assert!(created.status.is_none());

        let mut old = budget(json!({"minAvailable": 1}));
        old.status = Some(PodDisruptionBudgetStatus {
            expected_pods: 3,
            ..Default::default()
        });
        let mut updated = budget(json!({"minAvailable": 2}));
        PodDisruptionBudgetStrategy.prepare_for_update(&mut updated, &old);
        assert_eq!(updated.status.unwrap().expected_pods, 3);
        assert!(PodDisruptionBudgetStrategy.tracks_generation());
    }

    #[test]
    fn status_validation() {
        let old = budget(json!({"minAvailable": 1}));
        let mut new = old.clone();
        new.status = Some(PodDisruptionBudgetStatus {
            disruptions_allowed: -1,
            expected_pods: -2,
            ..Default::default()
        });
        assert_eq!(
            messages(&PodDisruptionBudgetStrategy.validate_status_update(&new, &old)),
            [
                "status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0",
                "status.expectedPods: Invalid value: -2: must be greater than or equal to 0",
            ]
        );
    }
}
