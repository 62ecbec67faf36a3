//! Reading object fields out of JSON and the formatting helpers that upstream's printers
//! share: label maps, label selectors, container name and image lists, "+ N more..."
//! lists, quantities and optional booleans.
//!
//! The readers return no errors: a missing or wrongly typed field reads as the Go zero
//! value (`""`, `0`, `false`, empty list), which is what upstream's printers see for an
//! unset field.

use std::collections::BTreeMap;

use apimachinery::labels::label_selector_as_selector;
use apimachinery::quantity::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::Value;

/// Returns the value at `path` (object keys) inside `value`, if every step exists.
pub(super) fn field<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |current, key| current.get(key))
}

/// Returns `value` unless it is missing or JSON `null`, which upstream decodes alike.
pub(super) fn non_null(value: Option<&Value>) -> Option<&Value> {
    value.filter(|value| !value.is_null())
}

/// Returns the string at `path`, or `""` when it is missing or not a string.
pub(super) fn string<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    field(value, path)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Returns the string at `path` when it is present, including when it is empty.
pub(super) fn optional_string<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    field(value, path).and_then(Value::as_str)
}

/// Returns the integer at `path`, or 0 when it is missing or not an integer.
pub(super) fn integer(value: &Value, path: &[&str]) -> i64 {
    field(value, path)
        .and_then(Value::as_i64)
        .unwrap_or_default()
}

/// Returns the integer at `path` when it is present.
pub(super) fn optional_integer(value: &Value, path: &[&str]) -> Option<i64> {
    field(value, path).and_then(Value::as_i64)
}

/// Returns the boolean at `path`, or `false` when it is missing or not a boolean.
pub(super) fn boolean(value: &Value, path: &[&str]) -> bool {
    field(value, path)
        .and_then(Value::as_bool)
        .unwrap_or_default()
}

/// Returns the boolean at `path` when it is present.
pub(super) fn optional_boolean(value: &Value, path: &[&str]) -> Option<bool> {
    field(value, path).and_then(Value::as_bool)
}

/// Returns the list at `path`, or an empty slice when it is missing or not a list.
pub(super) fn list<'a>(value: &'a Value, path: &[&str]) -> &'a [Value] {
    field(value, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Returns the number of entries of the map at `path`, 0 when it is missing.
pub(super) fn map_len(value: &Value, path: &[&str]) -> usize {
    field(value, path)
        .and_then(Value::as_object)
        .map_or(0, serde_json::Map::len)
}

/// Returns the string-to-string map at `path`; entries whose value is not a string are
/// skipped.
pub(super) fn string_map(value: &Value, path: &[&str]) -> BTreeMap<String, String> {
    let Some(map) = field(value, path).and_then(Value::as_object) else {
        return BTreeMap::new();
    };
    map.iter()
        .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_string())))
        .collect()
}

/// Returns the annotation `key` of the object's metadata.
pub(super) fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    optional_string(object, &["metadata", "annotations", key])
}

/// Returns `metadata.name`.
pub(super) fn name(object: &Value) -> &str {
    string(object, &["metadata", "name"])
}

/// Returns whether `metadata.deletionTimestamp` is set.
pub(super) fn is_deleting(object: &Value) -> bool {
    field(object, &["metadata", "deletionTimestamp"]).is_some_and(|value| !value.is_null())
}

/// Formats a label map as `key=value` pairs joined by ",", or `<none>` when empty
/// (upstream's `labels.FormatLabels`). The pairs are sorted as whole `key=value` strings, as
/// upstream sorts them.
pub(super) fn format_labels(labels: &BTreeMap<String, String>) -> String {
    let mut pairs: Vec<String> = labels
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        return "<none>".to_string();
    }
    pairs.join(",")
}

/// Converts a `LabelSelector` in JSON to its canonical string, as upstream's
/// `LabelSelectorAsSelector(...).String()`: a missing selector and an empty selector both
/// print as `""`. Returns `None` when the selector does not decode or has an invalid key,
/// value or operator, the selectors upstream's conversion rejects.
pub(super) fn label_selector_string(selector: Option<&Value>) -> Option<String> {
    let selector: Option<LabelSelector> = match selector {
        None | Some(Value::Null) => None,
        Some(value) => Some(serde::Deserialize::deserialize(value).ok()?),
    };
    let converted = label_selector_as_selector(selector.as_ref()).ok()?;
    Some(converted.to_string())
}

/// Formats a label selector as upstream's `metav1.FormatLabelSelector`: the canonical
/// string, `<none>` when it selects everything or nothing, `<error>` when it is invalid.
pub(super) fn format_label_selector(selector: Option<&Value>) -> String {
    match label_selector_string(selector) {
        Some(text) if text.is_empty() => "<none>".to_string(),
        Some(text) => text,
        None => "<error>".to_string(),
    }
}

/// Lays out the names and the images of `containers`, each joined by "," (upstream's
/// `layoutContainerCells`).
pub(super) fn container_cells(containers: &[Value]) -> (String, String) {
    let names: Vec<&str> = containers
        .iter()
        .map(|container| string(container, &["name"]))
        .collect();
    let images: Vec<&str> = containers
        .iter()
        .map(|container| string(container, &["image"]))
        .collect();
    (names.join(","), images.join(","))
}

/// Joins the first entries of a capped list with ",", appending ` + N more...` when `more`
/// is set (N is `count - max`), and prints `<unset>` for an empty list (upstream's
/// `listWithMoreString`).
pub(super) fn list_with_more(list: &[String], more: bool, count: usize, max: usize) -> String {
    let joined = list.join(",");
    if more {
        return format!("{joined} + {} more...", count.saturating_sub(max));
    }
    if joined.is_empty() {
        return "<unset>".to_string();
    }
    joined
}

/// Prints a quantity field as upstream's `Quantity.String()`; a missing quantity is the
/// zero quantity, `0`. A string that does not parse is printed as it is.
pub(super) fn quantity(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => Quantity::default().to_string(),
        Some(Value::String(text)) => match Quantity::parse(text) {
            Ok(parsed) => parsed.to_string(),
            Err(_) => text.clone(),
        },
        Some(Value::Number(number)) => match Quantity::parse(&number.to_string()) {
            Ok(parsed) => parsed.to_string(),
            Err(_) => number.to_string(),
        },
        Some(other) => other.to_string(),
    }
}

/// Prints an optional quantity the way upstream prints a nil `*Quantity`: `<nil>`.
pub(super) fn quantity_pointer(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "<nil>".to_string(),
        present => quantity(present),
    }
}

/// Prints an optional boolean as `True`, `False` or `<unset>` (upstream's `printBoolPtr`).
pub(super) fn bool_pointer(value: Option<bool>) -> String {
    match value {
        Some(true) => "True".to_string(),
        Some(false) => "False".to_string(),
        None => "<unset>".to_string(),
    }
}

/// Prints an `IntOrString` field: a number in decimal, a string as it is.
pub(super) fn int_or_string(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => String::new(),
    }
}

/// Returns the API group of an `apiVersion` such as `apps/v1` (`apps`) or `v1` (`""`).
/// Returns `None` for a value with more than one "/", which upstream fails to parse.
pub(super) fn api_group(api_version: &str) -> Option<&str> {
    match api_version.split_once('/') {
        None => Some(""),
        Some((group, version)) if !version.contains('/') => Some(group),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn format_labels_cases() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "<none>"),
            (&[("app", "web")], "app=web"),
            (&[("b", "2"), ("a", "1")], "a=1,b=2"),
            // Sorted as "key=value" strings: '.' sorts before '='.
            (&[("a", "1"), ("a.b", "2")], "a.b=2,a=1"),
        ];
        for (pairs, expected) in cases {
            let labels = pairs
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect();
            assert_eq!(format_labels(&labels), *expected);
        }
    }

    #[test]
    fn format_label_selector_cases() {
        let cases = [
            (None, "<none>"),
            (Some(json!({})), "<none>"),
            (Some(json!({"matchLabels": {"foo": "bar"}})), "foo=bar"),
            (
                Some(json!({
                    "matchLabels": {"b": "2"},
                    "matchExpressions": [
                        {"key": "a", "operator": "In", "values": ["y", "x"]},
                        {"key": "c", "operator": "DoesNotExist"},
                    ],
                })),
                "a in (x,y),b=2,!c",
            ),
            (
                Some(json!({"matchExpressions": [{"key": "a", "operator": "Bogus"}]})),
                "<error>",
            ),
            (Some(json!({"matchLabels": {"bad key!": "x"}})), "<error>"),
            (Some(json!("not a selector")), "<error>"),
        ];
        for (selector, expected) in cases {
            assert_eq!(
                format_label_selector(selector.as_ref()),
                expected,
                "{selector:?}"
            );
        }
    }

    #[test]
    fn label_selector_string_of_missing_selector_is_empty() {
        assert_eq!(label_selector_string(None), Some(String::new()));
        assert_eq!(
            label_selector_string(Some(&Value::Null)),
            Some(String::new())
        );
    }

    #[test]
    fn container_cells_join_names_and_images() {
        let containers = [
            json!({"name": "a", "image": "img-a"}),
            json!({"name": "b", "image": "img-b"}),
        ];
        assert_eq!(
            container_cells(&containers),
            ("a,b".to_string(), "img-a,img-b".to_string())
        );
        assert_eq!(container_cells(&[]), (String::new(), String::new()));
    }

    #[test]
    fn list_with_more_cases() {
        let three = ["a".to_string(), "b".to_string(), "c".to_string()];
        assert_eq!(list_with_more(&three, true, 5, 3), "a,b,c + 2 more...");
        assert_eq!(list_with_more(&three, false, 3, 3), "a,b,c");
        assert_eq!(list_with_more(&[], false, 0, 3), "<unset>");
    }

    #[test]
    fn quantity_cases() {
        assert_eq!(quantity(None), "0");
        assert_eq!(quantity(Some(&json!("4Gi"))), "4Gi");
        assert_eq!(quantity(Some(&json!("0.1"))), "100m");
        assert_eq!(quantity(Some(&json!(5))), "5");
        assert_eq!(quantity(Some(&json!("garbage"))), "garbage");
        assert_eq!(quantity_pointer(None), "<nil>");
        assert_eq!(quantity_pointer(Some(&json!("100m"))), "100m");
    }

    #[test]
    fn api_group_cases() {
        assert_eq!(api_group("v1"), Some(""));
        assert_eq!(api_group("apps/v1"), Some("apps"));
        assert_eq!(api_group(""), Some(""));
        assert_eq!(api_group("a/b/c"), None);
    }

    #[test]
    fn readers_default_to_zero_values() {
        let object = json!({"spec": {"replicas": 3, "paused": true, "name": "x"}});
        assert_eq!(integer(&object, &["spec", "replicas"]), 3);
        assert_eq!(integer(&object, &["spec", "missing"]), 0);
        assert_eq!(integer(&object, &["spec", "name"]), 0);
        assert!(boolean(&object, &["spec", "paused"]));
        assert!(!boolean(&object, &["status", "ready"]));
        assert_eq!(string(&object, &["spec", "replicas"]), "");
        assert!(list(&object, &["spec", "items"]).is_empty());
        assert_eq!(bool_pointer(None), "<unset>");
        assert_eq!(bool_pointer(Some(false)), "False");
    }
}
