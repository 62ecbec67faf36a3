//! scheduling.k8s.io/v1: PriorityClasses.
//!
//! Entry point: [`strategies`]. Defaults set `preemptionPolicy` to
//! `PreemptLowerPriority`. Validation reserves the `system-` name prefix for the two
//! built-in classes and caps other values at [`HIGHEST_USER_DEFINABLE_PRIORITY`].
//! `value` and `preemptionPolicy` are immutable.
//!
//! NOTE: "at most one class with globalDefault" is upstream's Priority admission
//! plugin, not this strategy.

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use k8s_openapi::api::scheduling::v1::PriorityClass;

use super::validation::validate_immutable;
use super::{ResourceStrategy, entry};
use crate::registry::strategy::Strategy;

/// The largest value a class outside the `system-` prefix may have.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;

/// The name prefix reserved for the built-in classes.
pub const SYSTEM_PRIORITY_CLASS_PREFIX: &str = "system-";

/// The built-in classes: name, value and globalDefault.
pub const SYSTEM_PRIORITY_CLASSES: [(&str, i32, bool); 2] = [
    ("system-node-critical", 2_000_001_000, false),
    ("system-cluster-critical", 2_000_000_000, false),
];

const PREEMPTION_POLICIES: [&str; 2] = ["PreemptLowerPriority", "Never"];

/// Returns the strategies of the scheduling.k8s.io/v1 resources.
pub fn strategies() -> Vec<ResourceStrategy> {
    vec![entry(Arc::new(PriorityClassStrategy))]
}

/// Strategy of `priorityclasses`.
pub struct PriorityClassStrategy;

impl Strategy for PriorityClassStrategy {
    type Object = PriorityClass;

    fn default(&self, class: &mut PriorityClass) {
        if class.preemption_policy.is_none() {
            class.preemption_policy = Some("PreemptLowerPriority".to_string());
        }
    }

    fn validate(&self, class: &PriorityClass) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let name = class.metadata.name.as_deref().unwrap_or_default();
        if name.starts_with(SYSTEM_PRIORITY_CLASS_PREFIX) {
            let global_default = class.global_default.unwrap_or(false);
            if let Err(reason) = check_system_priority_class(name, class.value, global_default) {
                errors.push(FieldError::forbidden(
                    &FieldPath::from_names(["metadata", "name"]),
                    format!(
                        "priority class names with '{SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: {reason}"
                    ),
                ));
            }
        } else if class.value > HIGHEST_USER_DEFINABLE_PRIORITY {
            errors.push(FieldError::forbidden(
                &FieldPath::new("value"),
                format!(
                    "maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"
                ),
            ));
        }
        if let Some(policy) = &class.preemption_policy {
            errors.extend(validate_preemption_policy(
                policy,
                &FieldPath::new("preemptionPolicy"),
            ));
        }
        errors
    }

    fn validate_update(&self, class: &PriorityClass, old: &PriorityClass) -> Vec<FieldError> {
        // Upstream's update validation checks only metadata and the immutable fields.
        let mut errors = Vec::new();
        if class.value != old.value {
            errors.push(FieldError::forbidden(
                &FieldPath::new("value"),
                "may not be changed in an update.",
            ));
        }
        errors.extend(validate_immutable(
            &class.preemption_policy,
            &old.preemption_policy,
            &FieldPath::new("preemptionPolicy"),
        ));
        errors
    }
}

/// Upstream's `IsKnownSystemPriorityClass`: the name must be a built-in class with its
/// value and globalDefault.
fn check_system_priority_class(name: &str, value: i32, global_default: bool) -> Result<(), String> {
    let Some((_, known_value, known_default)) = SYSTEM_PRIORITY_CLASSES
        .iter()
        .find(|(known, _, _)| *known == name)
    else {
        return Err(format!("{name} is not a known system priority class"));
    };
    if *known_value != value {
        return Err(format!(
            "value of {name} PriorityClass must be {known_value}"
        ));
    }
    if *known_default != global_default {
        return Err(format!(
            "globalDefault of {name} PriorityClass must be {known_default}"
        ));
    }
    Ok(())
}

/// Upstream's `ValidatePreemptionPolicy` of the core group.
pub fn validate_preemption_policy(policy: &str, path: &FieldPath) -> Vec<FieldError> {
    if policy.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    if !PREEMPTION_POLICIES.contains(&policy) {
        return vec![FieldError::not_supported(
            path,
            policy,
            &PREEMPTION_POLICIES,
        )];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::groups::validation::testing::{defaulted, messages};
    use serde_json::json;

    fn class(name: &str, value: i32) -> PriorityClass {
        serde_json::from_value(json!({"metadata": {"name": name}, "value": value})).unwrap()
    }

    #[test]
    fn preemption_policy_default() {
        let object = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                            "metadata": {"name": "high"}, "value": 1000});
        let result = defaulted(&PriorityClassStrategy, object);
        assert_eq!(result["preemptionPolicy"], "PreemptLowerPriority");

        let never = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                           "metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never"});
        assert_eq!(
            defaulted(&PriorityClassStrategy, never)["preemptionPolicy"],
            "Never"
        );
    }

    #[test]
    fn validation_cases() {
        let mut bad_policy = class("high", 10);
        bad_policy.preemption_policy = Some("Sometimes".into());
        let cases = [
            (class("high", 1_000_000_000), vec![]),
            (class("system-node-critical", 2_000_001_000), vec![]),
            (
                class("high", 1_000_000_001),
                vec![
                    "value: Forbidden: maximum allowed value of a user defined priority is 1000000000",
                ],
            ),
            (
                class("system-mine", 10),
                vec![
                    "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
                ],
            ),
            (
                class("system-cluster-critical", 10),
                vec![
                    "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-cluster-critical PriorityClass must be 2000000000",
                ],
            ),
            (
                bad_policy,
                vec![
                    "preemptionPolicy: Unsupported value: \"Sometimes\": supported values: \"PreemptLowerPriority\", \"Never\"",
                ],
            ),
        ];
        for (object, expected) in cases {
            assert_eq!(messages(&PriorityClassStrategy.validate(&object)), expected);
        }
    }

    #[test]
    fn value_and_policy_immutable() {
        let mut old = class("high", 10);
        old.preemption_policy = Some("PreemptLowerPriority".into());
        let mut new = old.clone();
        new.description = Some("changed".into());
        assert!(PriorityClassStrategy.validate_update(&new, &old).is_empty());

        new.value = 11;
        new.preemption_policy = Some("Never".into());
        assert_eq!(
            messages(&PriorityClassStrategy.validate_update(&new, &old)),
            [
                "value: Forbidden: may not be changed in an update.",
                "preemptionPolicy: Invalid value: \"Never\": field is immutable",
            ]
        );
    }
}
