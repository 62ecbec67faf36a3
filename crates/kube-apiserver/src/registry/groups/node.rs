//! node.k8s.io/v1: RuntimeClasses.
//!
//! Entry point: [`strategies`]. The handler must be a DNS-1123 label and never
//! changes; the scheduling node selector must hold valid labels.
//!
//! TODO: validate `overhead.podFixed` quantities and `scheduling.tolerations` with the
//! core group's resource and toleration checks once they exist.

use std::collections::BTreeSet;
use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use k8s_openapi::api::node::v1::RuntimeClass;

use super::validation::{rendered, validate_dns1123_label, validate_immutable, validate_labels};
use super::{ResourceStrategy, entry};
use crate::registry::strategy::Strategy;

/// Returns the strategies of the node.k8s.io/v1 resources.
pub fn strategies() -> Vec<ResourceStrategy> {
    vec![entry(Arc::new(RuntimeClassStrategy))]
}

/// Strategy of `runtimeclasses`.
pub struct RuntimeClassStrategy;

impl Strategy for RuntimeClassStrategy {
    type Object = RuntimeClass;

    fn validate(&self, class: &RuntimeClass) -> Vec<FieldError> {
        let mut errors = validate_dns1123_label(&class.handler, &FieldPath::new("handler"));
        if let Some(scheduling) = &class.scheduling {
            let path = FieldPath::new("scheduling");
            errors.extend(validate_labels(
                scheduling.node_selector.as_ref(),
                &path.child("nodeSelector"),
            ));
            // Upstream rejects a toleration listed twice.
            let tolerations_path = path.child("tolerations");
            let mut seen = BTreeSet::new();
            for (index, toleration) in scheduling.tolerations.iter().flatten().enumerate() {
                let key = serde_json::to_string(toleration).unwrap_or_default();
                if !seen.insert(key) {
                    errors.push(FieldError::duplicate(
                        &tolerations_path.index(index),
                        rendered(toleration),
                    ));
                }
            }
        }
        errors
    }

    fn validate_update(&self, class: &RuntimeClass, old: &RuntimeClass) -> Vec<FieldError> {
        // Upstream's update validation checks only metadata and the handler.
        validate_immutable(&class.handler, &old.handler, &FieldPath::new("handler"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::groups::validation::testing::messages;
    use serde_json::json;

    fn class(value: serde_json::Value) -> RuntimeClass {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn handler_rules() {
        assert!(
            RuntimeClassStrategy
                .validate(&class(
                    json!({"metadata": {"name": "gvisor"}, "handler": "runsc"})
                ))
                .is_empty()
        );
        let errors = messages(&RuntimeClassStrategy.validate(&class(
            json!({"metadata": {"name": "x"}, "handler": "Run_SC"}),
        )));
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("handler: Invalid value: \"Run_SC\": a lowercase RFC 1123 label")
        );
        let errors = messages(
            &RuntimeClassStrategy
                .validate(&class(json!({"metadata": {"name": "x"}, "handler": ""}))),
        );
        assert!(errors[0].starts_with("handler: Invalid value: \"\": a lowercase RFC 1123 label"));

        let old = class(json!({"metadata": {"name": "x"}, "handler": "runc"}));
        let new = class(json!({"metadata": {"name": "x"}, "handler": "crun"}));
        assert_eq!(
            messages(&RuntimeClassStrategy.validate_update(&new, &old)),
            ["handler: Invalid value: \"crun\": field is immutable"]
        );
    }

    #[test]
    fn scheduling_rules() {
        let object = class(
            json!({"metadata": {"name": "x"}, "handler": "runc", "scheduling": {
            "nodeSelector": {"-bad": "v"},
            "tolerations": [{"key": "a", "operator": "Exists"}, {"key": "a", "operator": "Exists"}]}}),
        );
        let errors = messages(&RuntimeClassStrategy.validate(&object));
        assert!(errors[0].starts_with("scheduling.nodeSelector: Invalid value: \"-bad\""));
        assert_eq!(
            errors[1],
            "scheduling.tolerations[1]: Duplicate value: {\"key\":\"a\",\"operator\":\"Exists\"}"
        );
        assert_eq!(errors.len(), 2);
    }
}
