//! Validation helpers shared by every kind: labels, annotations, label selectors,
//! non-negative numbers, immutable fields, names and resource quantities.
//!
//! Each helper returns upstream's field errors (`k8s.io/apimachinery` and
//! `pkg/apis/core/validation` of Kubernetes v1.33) for one value at one path.

use std::collections::BTreeMap;

use apimachinery::errors::{BadValue, FieldError, FieldPath};
use apimachinery::quantity::Quantity;
use apimachinery::validation;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as OpenApiQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;

/// Upstream's message for a negative number.
pub const IS_NEGATIVE_ERROR_MSG: &str = "must be greater than or equal to 0";

/// Upstream's message for a change to an immutable field.
pub const FIELD_IMMUTABLE_ERROR_MSG: &str = "field is immutable";

/// Upstream's message for a number that must be positive.
pub const IS_NOT_POSITIVE_ERROR_MSG: &str = "must be greater than zero";

/// The largest total size of an object's annotations, in bytes.
pub const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES: usize = 256 * 1024;

/// Renders a string map as upstream's field errors of v1.33 show composite values: as
/// JSON (`{"app":"web"}`), or `null` when absent.
pub fn go_string_map(map: Option<&BTreeMap<String, String>>) -> BadValue {
    match map {
        Some(map) => json_value(map),
        None => BadValue::Null,
    }
}

/// Renders any serializable value as compact JSON, the form upstream's field errors use
/// for structs, maps and slices.
pub fn json_value<T: Serialize>(value: &T) -> BadValue {
    match serde_json::to_value(value) {
        Ok(json) => BadValue::Raw(json.to_string()),
        Err(_) => BadValue::Omitted,
    }
}

/// Renders a string list as JSON (`["a","b"]`).
pub fn go_string_slice(values: &[String]) -> BadValue {
    json_value(&values)
}

/// Turns the messages of an `is_*` check into `Invalid value` errors at `path`.
pub fn invalid_each(path: &FieldPath, value: &str, messages: Vec<String>) -> Vec<FieldError> {
    messages
        .into_iter()
        .map(|message| FieldError::invalid(path, value, message))
        .collect()
}

/// Checks a DNS-1123 label (container, volume and port names, hostnames).
pub fn validate_dns1123_label(value: &str, path: &FieldPath) -> Vec<FieldError> {
    invalid_each(path, value, validation::is_dns1123_label(value))
}

/// Checks a DNS-1123 subdomain.
pub fn validate_dns1123_subdomain(value: &str, path: &FieldPath) -> Vec<FieldError> {
    invalid_each(path, value, validation::is_dns1123_subdomain(value))
}

/// Checks a qualified name (label keys, condition types, app protocols).
pub fn validate_qualified_name(value: &str, path: &FieldPath) -> Vec<FieldError> {
    invalid_each(path, value, validation::is_qualified_name(value))
}

/// Checks an object name against upstream's `NameIsDNSSubdomain`; with `prefix` the name
/// is a `generateName` prefix and may end in '-'.
pub fn name_is_dns_subdomain(name: &str, prefix: bool) -> Vec<String> {
    validation::is_dns1123_subdomain(&mask_trailing_dash(name, prefix))
}

/// Checks an object name against upstream's `NameIsDNSLabel` (namespaces).
pub fn name_is_dns_label(name: &str, prefix: bool) -> Vec<String> {
    validation::is_dns1123_label(&mask_trailing_dash(name, prefix))
}

/// Checks an object name against upstream's `NameIsDNS1035Label` (services).
pub fn name_is_dns1035_label(name: &str, prefix: bool) -> Vec<String> {
    validation::is_dns1035_label(&mask_trailing_dash(name, prefix))
}

/// Replaces a trailing '-' of a name prefix with 'a', as upstream's `maskTrailingDash`.
fn mask_trailing_dash(name: &str, prefix: bool) -> String {
    if prefix && name.len() > 1 && name.ends_with('-') {
        let mut masked = name[..name.len() - 1].to_string();
        masked.push('a');
        masked
    } else {
        name.to_string()
    }
}

/// Checks a label key, as upstream's `ValidateLabelName`.
pub fn validate_label_name(key: &str, path: &FieldPath) -> Vec<FieldError> {
    validate_qualified_name(key, path)
}

/// Checks a label map, as upstream's `ValidateLabels`: each key is a qualified name and
/// each value a label value. The errors carry the map's own path, as upstream's do.
pub fn validate_labels(
    labels: Option<&BTreeMap<String, String>>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (key, value) in labels.into_iter().flatten() {
        errors.extend(validate_label_name(key, path));
        errors.extend(invalid_each(
            path,
            value,
            validation::is_valid_label_value(value),
        ));
    }
    errors
}

/// Checks an annotation map: keys are qualified names (compared in lower case) and the
/// keys and values together hold at most 256 KiB.
pub fn validate_annotations(
    annotations: Option<&BTreeMap<String, String>>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut total_size = 0usize;
    for (key, value) in annotations.into_iter().flatten() {
        for message in validation::is_qualified_name(&key.to_lowercase()) {
            errors.push(FieldError::invalid(path, key.as_str(), message));
        }
        total_size += key.len() + value.len();
    }
    if total_size > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES {
        errors.push(FieldError::too_long(
            path,
            Some(TOTAL_ANNOTATION_SIZE_LIMIT_BYTES),
        ));
    }
    errors
}

/// Checks a label selector, as upstream's `ValidateLabelSelector` with invalid label
/// values rejected.
pub fn validate_label_selector(
    selector: Option<&LabelSelector>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let Some(selector) = selector else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    let expressions_path = path.child("matchExpressions");
    for (index, expression) in selector.match_expressions.iter().flatten().enumerate() {
        let expression_path = expressions_path.index(index);
        let values = expression.values.as_deref().unwrap_or_default();
        match expression.operator.as_str() {
            "In" | "NotIn" => {
                if values.is_empty() {
                    errors.push(FieldError::required(
                        &expression_path.child("values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    errors.push(FieldError::forbidden(
                        &expression_path.child("values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            other => errors.push(FieldError::invalid(
                &expression_path.child("operator"),
                other,
                "not a valid selector operator",
            )),
        }
        errors.extend(validate_label_name(
            &expression.key,
            &expression_path.child("key"),
        ));
        for (value_index, value) in values.iter().enumerate() {
            errors.extend(invalid_each(
                &expression_path.child("values").index(value_index),
                value,
                validation::is_valid_label_value(value),
            ));
        }
    }
    errors.extend(validate_labels(
        selector.match_labels.as_ref(),
        &path.child("matchLabels"),
    ));
    errors
}

/// Returns whether a selector has neither `matchLabels` nor `matchExpressions`.
pub fn label_selector_is_empty(selector: &LabelSelector) -> bool {
    selector
        .match_labels
        .as_ref()
        .is_none_or(BTreeMap::is_empty)
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(Vec::is_empty)
}

/// Checks that a number is not negative.
pub fn validate_nonnegative(value: i64, path: &FieldPath) -> Vec<FieldError> {
    if value < 0 {
        vec![FieldError::invalid(path, value, IS_NEGATIVE_ERROR_MSG)]
    } else {
        Vec::new()
    }
}

/// Checks that an optional number, when set, is not negative.
pub fn validate_optional_nonnegative(value: Option<i64>, path: &FieldPath) -> Vec<FieldError> {
    value.map_or_else(Vec::new, |value| validate_nonnegative(value, path))
}

/// Rejects a change of an immutable field with `Invalid value: <new>: field is immutable`.
pub fn validate_immutable<T: PartialEq + Serialize>(
    new: &T,
    old: &T,
    path: &FieldPath,
) -> Vec<FieldError> {
    if new == old {
        return Vec::new();
    }
    vec![FieldError::invalid(
        path,
        bad_value_of(new),
        FIELD_IMMUTABLE_ERROR_MSG,
    )]
}

/// Renders a serializable value the way upstream's field errors show it: strings
/// quoted, numbers and booleans plain, absent values as `null`, anything else as JSON.
pub fn bad_value_of<T: Serialize>(value: &T) -> BadValue {
    match serde_json::to_value(value) {
        Ok(json) => BadValue::from(&json),
        Err(_) => BadValue::Omitted,
    }
}

/// Parses a k8s-openapi quantity; `None` when the text is not a quantity.
pub fn parse_quantity(quantity: &OpenApiQuantity) -> Option<Quantity> {
    Quantity::try_from(quantity).ok()
}

/// Checks that a quantity parses and is not negative, as upstream's
/// `ValidateNonnegativeQuantity` on an already decoded quantity.
// NOTE: upstream rejects an unparsable quantity while decoding the request (400); here
// it becomes an `Invalid value` field error because k8s-openapi keeps quantities as text.
pub fn validate_nonnegative_quantity(
    quantity: &OpenApiQuantity,
    path: &FieldPath,
) -> Vec<FieldError> {
    match Quantity::try_from(quantity) {
        Err(error) => vec![FieldError::invalid(
            path,
            quantity.0.as_str(),
            error.to_string(),
        )],
        Ok(parsed) if parsed.signum() < 0 => vec![FieldError::invalid(
            path,
            parsed.to_string(),
            IS_NEGATIVE_ERROR_MSG,
        )],
        Ok(_) => Vec::new(),
    }
}

/// Checks that a quantity parses and is greater than zero.
pub fn validate_positive_quantity(quantity: &OpenApiQuantity, path: &FieldPath) -> Vec<FieldError> {
    match Quantity::try_from(quantity) {
        Err(error) => vec![FieldError::invalid(
            path,
            quantity.0.as_str(),
            error.to_string(),
        )],
        Ok(parsed) if parsed.signum() <= 0 => vec![FieldError::invalid(
            path,
            parsed.to_string(),
            IS_NOT_POSITIVE_ERROR_MSG,
        )],
        Ok(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn messages(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn labels_report_key_and_value_at_map_path() {
        let labels = BTreeMap::from([("bad key".to_string(), "ok".to_string())]);
        let errors = validate_labels(
            Some(&labels),
            &FieldPath::from_names(["metadata", "labels"]),
        );
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].to_string().starts_with(
                "metadata.labels: Invalid value: \"bad key\": name part must consist of"
            )
        );

        let labels = BTreeMap::from([("k".to_string(), "-x".to_string())]);
        let errors = validate_labels(Some(&labels), &FieldPath::new("labels"));
        assert!(
            errors[0]
                .to_string()
                .starts_with("labels: Invalid value: \"-x\": a valid label must be")
        );
    }

    #[test]
    fn selector_operators_and_values() {
        let cases: Vec<(&str, Option<Vec<String>>, &str)> = vec![
            (
                "In",
                None,
                "selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
            ),
            (
                "Exists",
                Some(vec!["a".into()]),
                "selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
            (
                "Bogus",
                None,
                "selector.matchExpressions[0].operator: Invalid value: \"Bogus\": not a valid selector operator",
            ),
        ];
        for (operator, values, expected) in cases {
            let selector = LabelSelector {
                match_expressions: Some(vec![LabelSelectorRequirement {
                    key: "app".into(),
                    operator: operator.into(),
                    values,
                }]),
                ..Default::default()
            };
            let errors = validate_label_selector(Some(&selector), &FieldPath::new("selector"));
            assert_eq!(
                messages(&errors),
                vec![expected.to_string()],
                "operator {operator}"
            );
        }
    }

    #[test]
    fn immutable_and_nonnegative_messages() {
        let path = FieldPath::from_names(["spec", "replicas"]);
        assert_eq!(
            messages(&validate_nonnegative(-1, &path)),
            vec!["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]
        );
        assert!(validate_nonnegative(0, &path).is_empty());
        let path = FieldPath::new("type");
        assert_eq!(
            messages(&validate_immutable(
                &Some("a".to_string()),
                &Some("b".to_string()),
                &path
            )),
            vec!["type: Invalid value: \"a\": field is immutable"]
        );
        assert!(validate_immutable(&1, &1, &path).is_empty());
    }

    #[test]
    fn composite_values_render_as_json() {
        let map = BTreeMap::from([
            ("a".to_string(), "b".to_string()),
            ("c".to_string(), "d".to_string()),
        ]);
        assert_eq!(
            go_string_map(Some(&map)),
            BadValue::Raw("{\"a\":\"b\",\"c\":\"d\"}".into())
        );
        assert_eq!(go_string_map(None), BadValue::Null);
        assert_eq!(
            go_string_slice(&["None".to_string()]),
            BadValue::Raw("[\"None\"]".into())
        );
    }

    #[test]
    fn quantities_negative_and_unparsable() {
        let path = FieldPath::new("q");
        assert_eq!(
            messages(&validate_nonnegative_quantity(
                &OpenApiQuantity("-1".into()),
                &path
            )),
            vec!["q: Invalid value: \"-1\": must be greater than or equal to 0"]
        );
        assert_eq!(
            validate_nonnegative_quantity(&OpenApiQuantity("x".into()), &path).len(),
            1
        );
        assert!(validate_nonnegative_quantity(&OpenApiQuantity("100m".into()), &path).is_empty());
        assert_eq!(
            validate_positive_quantity(&OpenApiQuantity("0".into()), &path).len(),
            1
        );
    }
}
