//! events.k8s.io/v1: Events.
//!
//! Entry point: [`strategies`]. Upstream serves events.k8s.io/v1 Events from the core
//! group's storage. Both APIs read and write the same `/registry/events` objects, which
//! are kept as core/v1 Events. The events.k8s.io fields map to core ones: `regarding`
//! is `involvedObject`, `note` is `message`, `deprecatedSource` is `source`, and
//! `deprecatedFirstTimestamp`, `deprecatedLastTimestamp` and `deprecatedCount` are
//! `firstTimestamp`, `lastTimestamp` and `count`. Upstream validates the core form, so
//! the error paths below use the core names, as upstream's do.
//!
//! This strategy defaults and validates events.k8s.io/v1 requests in their own form.
//! The store converts them to core/v1 Events (`registry::conversion`) and stores them
//! with the core strategy's preparation.

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation::is_dns1123_subdomain;
use k8s_openapi::api::events::v1::Event;

use super::validation::{invalid_each, rendered, validate_immutable, validate_qualified_name};
use super::{ResourceStrategy, entry};
use crate::registry::strategy::Strategy;

/// Maximum length of `reportingInstance`, in bytes.
pub const REPORTING_INSTANCE_LENGTH_LIMIT: usize = 128;
/// Maximum length of `action`, in bytes.
pub const ACTION_LENGTH_LIMIT: usize = 128;
/// Maximum length of `reason`, in bytes.
pub const REASON_LENGTH_LIMIT: usize = 128;
/// Maximum length of `note`, in bytes.
pub const NOTE_LENGTH_LIMIT: usize = 1024;

/// Returns the strategies of the events.k8s.io/v1 resources.
pub fn strategies() -> Vec<ResourceStrategy> {
    vec![entry(Arc::new(EventStrategy))]
}

/// Strategy of `events` in events.k8s.io/v1.
pub struct EventStrategy;

impl Strategy for EventStrategy {
    type Object = Event;

    fn validate(&self, event: &Event) -> Vec<FieldError> {
        let mut errors = validate_legacy(event);
        errors.extend(validate_series(event));
        if event.event_time.is_none() {
            errors.push(FieldError::required(&FieldPath::new("eventTime"), ""));
        }
        let event_type = event.type_.as_deref().unwrap_or_default();
        if event_type != "Normal" && event_type != "Warning" {
            errors.push(FieldError::invalid(
                &FieldPath::new("type"),
                "",
                format!("has invalid value: {event_type}"),
            ));
        }
        for (field, set) in [
            ("firstTimestamp", event.deprecated_first_timestamp.is_some()),
            ("lastTimestamp", event.deprecated_last_timestamp.is_some()),
            ("count", event.deprecated_count.unwrap_or(0) != 0),
            (
                "source",
                event.deprecated_source.as_ref().is_some_and(|source| {
                    !source.component.as_deref().unwrap_or_default().is_empty()
                        || !source.host.as_deref().unwrap_or_default().is_empty()
                }),
            ),
        ] {
            if set {
                errors.push(FieldError::invalid(
                    &FieldPath::new(field),
                    "",
                    "needs to be unset",
                ));
            }
        }
        errors
    }

    fn validate_update(&self, event: &Event, old: &Event) -> Vec<FieldError> {
        let mut errors = validate_legacy(event);
        if event.series != old.series {
            errors.extend(validate_series(event));
        }
        let immutable = |field: &str, new: serde_json::Value, old: serde_json::Value| {
            if new == old {
                Vec::new()
            } else {
                vec![FieldError::invalid(
                    &FieldPath::new(field),
                    rendered(&new),
                    "field is immutable",
                )]
            }
        };
        errors.extend(immutable(
            "involvedObject",
            json(&event.regarding),
            json(&old.regarding),
        ));
        errors.extend(validate_immutable(
            &event.reason,
            &old.reason,
            &FieldPath::new("reason"),
        ));
        errors.extend(validate_immutable(
            &event.note,
            &old.note,
            &FieldPath::new("message"),
        ));
        errors.extend(immutable(
            "source",
            json(&event.deprecated_source),
            json(&old.deprecated_source),
        ));
        errors.extend(immutable(
            "firstTimestamp",
            json(&event.deprecated_first_timestamp),
            json(&old.deprecated_first_timestamp),
        ));
        errors.extend(immutable(
            "lastTimestamp",
            json(&event.deprecated_last_timestamp),
            json(&old.deprecated_last_timestamp),
        ));
        errors.extend(validate_immutable(
            &event.deprecated_count.unwrap_or(0),
            &old.deprecated_count.unwrap_or(0),
            &FieldPath::new("count"),
        ));
        errors.extend(validate_immutable(
            &event.type_,
            &old.type_,
            &FieldPath::new("type"),
        ));
        errors.extend(immutable(
            "eventTime",
            json(&event.event_time),
            json(&old.event_time),
        ));
        errors.extend(validate_immutable(
            &event.action,
            &old.action,
            &FieldPath::new("action"),
        ));
        errors.extend(immutable(
            "related",
            json(&event.related),
            json(&old.related),
        ));
        errors.extend(validate_immutable(
            &event.reporting_controller,
            &old.reporting_controller,
            &FieldPath::new("reportingController"),
        ));
        errors.extend(validate_immutable(
            &event.reporting_instance,
            &old.reporting_instance,
            &FieldPath::new("reportingInstance"),
        ));
        errors
    }
}

/// Serializes a field for comparison and rendering; time and reference types have no
/// `PartialEq` that matches upstream's semantic equality.
fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// Upstream's `legacyValidateEvent` for an events.k8s.io request.
fn validate_legacy(event: &Event) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let namespace = event.metadata.namespace.as_deref().unwrap_or_default();
    let involved_namespace = event
        .regarding
        .as_ref()
        .and_then(|reference| reference.namespace.as_deref())
        .unwrap_or_default();
    let namespace_path = FieldPath::from_names(["involvedObject", "namespace"]);
    const MISMATCH: &str = "does not match event.namespace";

    if event.event_time.is_none() {
        let matches = if involved_namespace.is_empty() {
            namespace.is_empty() || namespace == "default"
        } else {
            namespace == involved_namespace
        };
        if !matches {
            errors.push(FieldError::invalid(
                &namespace_path,
                involved_namespace,
                MISMATCH,
            ));
        }
    } else {
        if involved_namespace.is_empty() && namespace != "default" && namespace != "kube-system" {
            errors.push(FieldError::invalid(
                &namespace_path,
                involved_namespace,
                MISMATCH,
            ));
        }
        let controller = event.reporting_controller.as_deref().unwrap_or_default();
        let controller_path = FieldPath::new("reportingController");
        if controller.is_empty() {
            errors.push(FieldError::required(&controller_path, ""));
        }
        errors.extend(validate_qualified_name(controller, &controller_path));
        for (field, value, limit) in [
            (
                "reportingInstance",
                &event.reporting_instance,
                REPORTING_INSTANCE_LENGTH_LIMIT,
            ),
            ("action", &event.action, ACTION_LENGTH_LIMIT),
            ("reason", &event.reason, REASON_LENGTH_LIMIT),
        ] {
            let value = value.as_deref().unwrap_or_default();
            if value.is_empty() {
                errors.push(FieldError::required(&FieldPath::new(field), ""));
            }
            if value.len() > limit {
                errors.push(FieldError::invalid(
                    &FieldPath::new(field),
                    "",
                    format!("can have at most {limit} characters"),
                ));
            }
        }
        if event.note.as_deref().unwrap_or_default().len() > NOTE_LENGTH_LIMIT {
            errors.push(FieldError::invalid(
                &FieldPath::new("message"),
                "",
                format!("can have at most {NOTE_LENGTH_LIMIT} characters"),
            ));
        }
    }

    errors.extend(invalid_each(
        &FieldPath::new("namespace"),
        namespace,
        is_dns1123_subdomain(namespace),
    ));
    errors
}

/// Upstream's `validateV1EventSeries`.
fn validate_series(event: &Event) -> Vec<FieldError> {
    let Some(series) = &event.series else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    if series.count < 2 {
        errors.push(FieldError::invalid(
            &FieldPath::new("series.count"),
            "",
            "should be at least 2",
        ));
    }
    if super::validation::is_zero_time(series.last_observed_time.0) {
        errors.push(FieldError::required(
            &FieldPath::new("series.lastObservedTime"),
            "",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::groups::validation::testing::messages;
    use serde_json::json;

    fn event(fields: serde_json::Value) -> Event {
        let mut object = json!({
            "metadata": {"name": "e", "namespace": "ns"},
            "eventTime": "2024-01-01T00:00:00.000000Z",
            "regarding": {"kind": "Pod", "name": "p", "namespace": "ns"},
            "reportingController": "example.com/controller",
            "reportingInstance": "controller-1",
            "action": "Binding",
            "reason": "Scheduled",
            "type": "Normal",
            "note": "assigned"
        });
        if let (Some(target), Some(source)) = (object.as_object_mut(), fields.as_object()) {
            for (key, value) in source {
                if value.is_null() {
                    target.remove(key);
                } else {
                    target.insert(key.clone(), value.clone());
                }
            }
        }
        serde_json::from_value(object).unwrap()
    }

    #[test]
    fn create_validation() {
        let cases = [
            (json!({}), vec![]),
            (
                json!({"reportingController": null, "reportingInstance": null, "action": null, "reason": null}),
                vec![
                    "reportingController: Required value",
                    "reportingController: Invalid value: \"\": name part must be non-empty",
                    "reportingController: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                    "reportingInstance: Required value",
                    "action: Required value",
                    "reason: Required value",
                ],
            ),
            (
                json!({"eventTime": null}),
                vec!["eventTime: Required value"],
            ),
            (
                json!({"type": "Info", "deprecatedCount": 3, "series": {"count": 1, "lastObservedTime": "2024-01-01T00:00:00.000000Z"}}),
                vec![
                    "series.count: Invalid value: \"\": should be at least 2",
                    "type: Invalid value: \"\": has invalid value: Info",
                    "count: Invalid value: \"\": needs to be unset",
                ],
            ),
            (
                json!({"regarding": {"kind": "Node", "name": "n1"}}),
                vec![
                    "involvedObject.namespace: Invalid value: \"\": does not match event.namespace",
                ],
            ),
            (
                json!({"action": "a".repeat(129)}),
                vec!["action: Invalid value: \"\": can have at most 128 characters"],
            ),
        ];
        for (fields, expected) in cases {
            assert_eq!(
                messages(&EventStrategy.validate(&event(fields.clone()))),
                expected,
                "{fields}"
            );
        }
    }

    #[test]
    fn update_immutables() {
        let old = event(json!({}));
        assert!(EventStrategy.validate_update(&old, &old).is_empty());
        let new = event(json!({"note": "changed", "reason": "Other"}));
        assert_eq!(
            messages(&EventStrategy.validate_update(&new, &old)),
            [
                "reason: Invalid value: \"Other\": field is immutable",
                "message: Invalid value: \"changed\": field is immutable",
            ]
        );
        let series = event(
            json!({"series": {"count": 5, "lastObservedTime": "2024-01-01T00:01:00.000000Z"}}),
        );
        assert!(EventStrategy.validate_update(&series, &old).is_empty());
    }
}
