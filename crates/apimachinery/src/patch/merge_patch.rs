//! JSON merge patch (RFC 7386), the `application/merge-patch+json` patch type.
//!
//! Entry points: [`apply_merge_patch`] on the server, [`create_merge_patch`] (two-way
//! diff) and [`create_three_way_json_merge_patch`] on clients. The three-way form is
//! what `kubectl apply` sends for types without patch metadata, such as custom
//! resources: lists are always replaced whole.

use serde_json::{Map, Value};

use super::error::{PatchError, json_kind};

/// Applies the merge patch `patch` to `doc` and returns the result.
///
/// Keys set to `null` in the patch are removed, objects are merged recursively, and every
/// other value (lists included) replaces the target value.
///
/// # Errors
///
/// [`PatchError::InvalidMergePatch`] when `patch` is not a JSON object. RFC 7386 lets a
/// non-object patch replace the whole document, but no Kubernetes object can be written
/// that way, so the apiserver rejects such patches as bad requests.
pub fn apply_merge_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    if !patch.is_object() {
        return Err(PatchError::InvalidMergePatch {
            actual: json_kind(patch),
        });
    }
    let mut merged = doc.clone();
    json_patch::merge(&mut merged, patch);
    Ok(merged)
}

/// Creates the merge patch that turns `original` into `modified`.
///
/// When both are objects the patch contains the changed and added keys and `null` for each
/// removed key; otherwise the patch is `modified` itself. A `null` value inside `modified`
/// cannot be expressed by a merge patch: applying the result removes that key instead.
pub fn create_merge_patch(original: &Value, modified: &Value) -> Value {
    match (original, modified) {
        (Value::Object(original), Value::Object(modified)) => {
            Value::Object(diff_objects(original, modified))
        }
        _ => modified.clone(),
    }
}

fn diff_objects(
    original: &Map<String, Value>,
    modified: &Map<String, Value>,
) -> Map<String, Value> {
    let mut patch = Map::new();
    for (key, modified_value) in modified {
        match (original.get(key), modified_value) {
            (None, _) => {
                patch.insert(key.clone(), modified_value.clone());
            }
            (Some(Value::Object(original_child)), Value::Object(modified_child)) => {
                let child = diff_objects(original_child, modified_child);
                if !child.is_empty() {
                    patch.insert(key.clone(), Value::Object(child));
                }
            }
            (Some(original_value), _) if original_value != modified_value => {
                patch.insert(key.clone(), modified_value.clone());
            }
            (Some(_), _) => {}
        }
    }
    for key in original.keys() {
        if !modified.contains_key(key) {
            patch.insert(key.clone(), Value::Null);
        }
    }
    patch
}

/// Creates the patch `kubectl apply` sends for a type without strategic merge metadata.
///
/// `original` is the last-applied configuration, `modified` the new configuration and
/// `current` the live object. Additions and changes come from `current` to `modified`,
/// deletions (keys set to `null`) from `original` to `modified`, so fields set only by
/// the server survive. A `null` or empty document counts as `{}`.
///
/// # Errors
///
/// [`PatchError::InvalidDocument`] when a document is neither an object nor `null`, and
/// [`PatchError::Conflict`] when the additions and the deletions touch the same key.
pub fn create_three_way_json_merge_patch(
    original: &Value,
    modified: &Value,
    current: &Value,
) -> Result<Value, PatchError> {
    let original = object_or_empty(original, "original")?;
    let modified = object_or_empty(modified, "modified")?;
    let current = object_or_empty(current, "current")?;

    let additions_and_changes = keep_or_delete_nulls(&diff_objects(&current, &modified), false);
    let deletions = keep_or_delete_nulls(&diff_objects(&original, &modified), true);

    let additions_and_changes = Value::Object(additions_and_changes);
    let mut patch = Value::Object(deletions);
    if has_conflicts(&additions_and_changes, &patch) {
        return Err(PatchError::Conflict {
            patch: additions_and_changes.to_string(),
            changed: patch.to_string(),
        });
    }

    json_patch::merge(&mut patch, &additions_and_changes);
    Ok(patch)
}

pub(crate) fn object_or_empty(
    value: &Value,
    role: &'static str,
) -> Result<Map<String, Value>, PatchError> {
    match value {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map.clone()),
        other => Err(PatchError::InvalidDocument {
            role,
            actual: json_kind(other),
        }),
    }
}

/// Keeps only the `null` values of a merge patch (`keep_nulls`), or drops them all.
///
/// An explicitly empty object is a value, not an empty patch: it survives when nulls are
/// dropped and disappears when only nulls are kept.
fn keep_or_delete_nulls(patch: &Map<String, Value>, keep_nulls: bool) -> Map<String, Value> {
    let mut filtered = Map::new();
    for (key, value) in patch {
        match value {
            Value::Null => {
                if keep_nulls {
                    filtered.insert(key.clone(), Value::Null);
                }
            }
            Value::Object(child) if child.is_empty() => {
                if !keep_nulls {
                    filtered.insert(key.clone(), value.clone());
                }
            }
            Value::Object(child) => {
                let child = keep_or_delete_nulls(child, keep_nulls);
                if !child.is_empty() {
                    filtered.insert(key.clone(), Value::Object(child));
                }
            }
            _ => {
                if !keep_nulls {
                    filtered.insert(key.clone(), value.clone());
                }
            }
        }
    }
    filtered
}

/// Reports whether two merge patches set an overlapping key to different values.
///
/// Lists must match element by element; a key present in only one patch is no conflict.
pub fn has_conflicts(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Object(left), Value::Object(right)) => left.iter().any(|(key, left_value)| {
            right
                .get(key)
                .is_some_and(|right_value| has_conflicts(left_value, right_value))
        }),
        (Value::Array(left), Value::Array(right)) => {
            left.len() != right.len()
                || left
                    .iter()
                    .zip(right)
                    .any(|(left, right)| has_conflicts(left, right))
        }
        (Value::Object(_), _) | (Value::Array(_), _) => true,
        (left, right) => left != right,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let cases = [
            (
                "change scalar",
                json!({"a": "b"}),
                json!({"a": "c"}),
                json!({"a": "c"}),
            ),
            (
                "add key",
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (
                "null removes",
                json!({"a": "b"}),
                json!({"a": null}),
                json!({}),
            ),
            (
                "null removes nested only",
                json!({"a": "b", "b": "c"}),
                json!({"a": null}),
                json!({"b": "c"}),
            ),
            (
                "list replaced",
                json!({"a": ["b"]}),
                json!({"a": "c"}),
                json!({"a": "c"}),
            ),
            (
                "scalar replaced by list",
                json!({"a": "c"}),
                json!({"a": ["b"]}),
                json!({"a": ["b"]}),
            ),
            (
                "nested merge",
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                "lists are never merged",
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (
                "nulls dropped from new object",
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ];
        for (name, doc, patch, expected) in cases {
            let merged = apply_merge_patch(&doc, &patch).expect(name);
            assert_eq!(merged, expected, "{name}");
        }
    }

    #[test]
    fn merge_patch_rejects_non_object_patch() {
        for patch in [json!(null), json!([1]), json!("x")] {
            let err = apply_merge_patch(&json!({}), &patch).expect_err("non-object patch");
            assert_eq!(err.status_code(), 400);
        }
    }

    #[test]
    fn create_merge_patch_diffs_objects() {
        let original = json!({"a": 1, "b": {"c": 1, "d": 2}, "e": [1, 2], "f": "x"});
        let modified = json!({"a": 1, "b": {"c": 3}, "e": [1], "g": true});
        let patch = create_merge_patch(&original, &modified);
        assert_eq!(
            patch,
            json!({"b": {"c": 3, "d": null}, "e": [1], "g": true, "f": null})
        );
        assert_eq!(create_merge_patch(&original, &original), json!({}));
        assert_eq!(create_merge_patch(&json!([1]), &json!([2])), json!([2]));
    }

    #[test]
    fn three_way_json_merge_patch_keeps_server_fields() {
        let original = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": 1}});
        let modified = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"x": 2}});
        let current = json!({
            "metadata": {"labels": {"a": "1", "b": "2"}, "uid": "u1"},
            "spec": {"x": 1, "defaulted": true}
        });
        let patch = create_three_way_json_merge_patch(&original, &modified, &current).unwrap();
        assert_eq!(
            patch,
            json!({"metadata": {"labels": {"b": null}}, "spec": {"x": 2}})
        );
        let result = apply_merge_patch(&current, &patch).unwrap();
        assert_eq!(
            result,
            json!({"metadata": {"labels": {"a": "1"}, "uid": "u1"}, "spec": {"x": 2, "defaulted": true}})
        );
    }

    #[test]
    fn three_way_merge_patch_null_documents() {
        let patch =
            create_three_way_json_merge_patch(&Value::Null, &json!({"a": {}}), &Value::Null)
                .unwrap();
        assert_eq!(patch, json!({"a": {}}));
        let err = create_three_way_json_merge_patch(&json!(1), &json!({}), &json!({}))
            .expect_err("scalar original");
        assert!(matches!(
            err,
            PatchError::InvalidDocument {
                role: "original",
                ..
            }
        ));
    }

    #[test]
    fn merge_patch_conflicts() {
        let cases = [
            (json!({"a": 1}), json!({"b": 2}), false),
            (json!({"a": 1}), json!({"a": 1}), false),
            (json!({"a": 1}), json!({"a": null}), true),
            (json!({"a": {"b": 1}}), json!({"a": {"c": 1}}), false),
            (json!({"a": [1, 2]}), json!({"a": [1]}), true),
            (json!({"a": {"b": 1}}), json!({"a": "x"}), true),
        ];
        for (left, right, expected) in cases {
            assert_eq!(has_conflicts(&left, &right), expected, "{left} vs {right}");
        }
    }

    /// JSON documents without `null` values, which a merge patch cannot set.
    pub(crate) fn arb_document() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Value::from),
            (-5i64..5).prop_map(Value::from),
            "[a-c]{0,2}".prop_map(Value::from),
        ];
        let value = leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                prop::collection::btree_map("[a-d]", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        });
        prop::collection::btree_map("[a-e]", value, 0..5)
            .prop_map(|map| Value::Object(map.into_iter().collect()))
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn created_merge_patch_reproduces_modified(a in arb_document(), b in arb_document()) {
            let patch = create_merge_patch(&a, &b);
            let applied = apply_merge_patch(&a, &patch).unwrap();
            prop_assert_eq!(applied, b);
        }
    }
}
