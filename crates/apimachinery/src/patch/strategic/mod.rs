//! Strategic merge patch, the `application/strategic-merge-patch+json` patch type.
//!
//! A strategic merge patch is a JSON merge patch whose lists can be merged instead of
//! replaced: the schema ([`LookupPatchMeta`]) declares per field whether a list is merged by
//! a merge key (containers by `name`), merged as a set of scalars (finalizers), or
//! replaced. Patches may carry directives:
//! - `$patch: replace | delete` in a map, and `$patch: delete | replace` as a list item;
//! - `$setElementOrder/<list>`: the order of the merged list;
//! - `$deleteFromPrimitiveList/<list>`: scalars to remove from a list;
//! - `$retainKeys`: the keys a map keeps, every other key is cleared.
//!
//! Entry points: [`apply_strategic_merge_patch`] (server side),
//! [`create_two_way_merge_patch`] and [`create_three_way_merge_patch`] (what
//! `kubectl apply` sends). The semantics, including list ordering and the quirks of
//! items without merge keys, follow k8s.io/apimachinery's `strategicpatch` package.

mod apply;
mod conflict;
mod diff;
mod order;

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use super::error::{PatchError, json_kind};
use super::schema::LookupPatchMeta;
use apply::MergeOptions;
use diff::DiffOptions;

const DIRECTIVE_MARKER: &str = "$patch";
const DELETE_DIRECTIVE: &str = "delete";
const REPLACE_DIRECTIVE: &str = "replace";
const MERGE_DIRECTIVE: &str = "merge";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

/// Applies the strategic merge patch `patch` to `original` and returns the result.
///
/// `schema` describes `original`'s type, for example
/// `BuiltinSchema::for_kind("apps", "v1", "Deployment")`. A `null` document or patch
/// counts as `{}`.
///
/// A `null` value deletes the key. Keys the original lacks are added with their `null`
/// values and directives dropped. Lists with the `merge` strategy keep the items the
/// patch does not mention. The patch's items come first unless a `$setElementOrder` list
/// or the original's order places them otherwise.
///
/// # Errors
///
/// [`PatchError::InvalidDocument`] for a document or patch that is not an object, and
/// the directive and merge-key errors of [`PatchError`] for malformed patches.
pub fn apply_strategic_merge_patch<S: LookupPatchMeta>(
    original: &Value,
    patch: &Value,
    schema: &S,
) -> Result<Value, PatchError> {
    let original = object_or_empty(original, "original")?;
    let patch = object_or_empty(patch, "patch")?;
    let options = MergeOptions {
        merge_parallel_list: true,
        ignore_unmatched_nulls: true,
    };
    apply::merge_map(original, patch, schema, options, "").map(Value::Object)
}

/// Creates the strategic merge patch that turns `original` into `modified`.
///
/// The patch contains the added and changed fields and `null` for removed map keys.
/// Removed items of lists merged by key become `$patch: delete` items, and removed
/// scalars a `$deleteFromPrimitiveList`. A merged list whose content or order changed
/// gets a `$setElementOrder` list, and fields with the `retainKeys` strategy get
/// `$retainKeys`.
///
/// # Errors
///
/// [`PatchError::InvalidDocument`] for a document that is neither an object nor `null`,
/// and merge-key errors for list items without their merge key.
pub fn create_two_way_merge_patch<S: LookupPatchMeta>(
    original: &Value,
    modified: &Value,
    schema: &S,
) -> Result<Value, PatchError> {
    let original = object_or_empty(original, "original")?;
    let modified = object_or_empty(modified, "modified")?;
    let options = DiffOptions {
        set_element_order: true,
        ..DiffOptions::default()
    };
    diff::diff_maps(&original, &modified, schema, options, "").map(Value::Object)
}

/// Creates the patch `kubectl apply` sends: `original` is the last-applied
/// configuration, `modified` the new configuration and `current` the live object.
///
/// Additions and changes are computed from `current` to `modified`, deletions from
/// `original` to `modified`, so fields the user never applied (defaults, fields set by
/// controllers) are kept while fields removed from the configuration are deleted.
///
/// With `overwrite` false, a patch that changes a field differently from how it changed
/// between `original` and `current` is rejected; `kubectl apply` passes true.
///
/// # Errors
///
/// [`PatchError::Conflict`] for such a conflict, [`PatchError::InvalidDocument`] for a
/// document that is neither an object nor `null`, and the merge-key and directive errors
/// of [`PatchError`].
pub fn create_three_way_merge_patch<S: LookupPatchMeta>(
    original: &Value,
    modified: &Value,
    current: &Value,
    schema: &S,
    overwrite: bool,
) -> Result<Value, PatchError> {
    let original = object_or_empty(original, "original")?;
    let modified = object_or_empty(modified, "modified")?;
    let current = object_or_empty(current, "current")?;

    let delta_options = DiffOptions {
        ignore_deletions: true,
        set_element_order: true,
        ..DiffOptions::default()
    };
    let delta = diff::diff_maps(&current, &modified, schema, delta_options, "")?;

    let deletions_options = DiffOptions {
        ignore_changes_and_additions: true,
        set_element_order: true,
        ..DiffOptions::default()
    };
    let deletions = diff::diff_maps(&original, &modified, schema, deletions_options, "")?;

    // The delta is strictly additive relative to the deletions, so merging it into them
    // as a patch (keeping nulls and directives) yields one patch holding both.
    let merge_options = MergeOptions {
        merge_parallel_list: false,
        ignore_unmatched_nulls: false,
    };
    let patch = apply::merge_map(deletions, delta, schema, merge_options, "")?;

    if !overwrite {
        let changed = diff::diff_maps(&original, &current, schema, DiffOptions::default(), "")?;
        if conflict::merging_maps_have_conflicts(&patch, &changed, schema)? {
            return Err(PatchError::Conflict {
                patch: Value::Object(patch).to_string(),
                changed: Value::Object(changed).to_string(),
            });
        }
    }
    Ok(Value::Object(patch))
}

/// A condition a computed patch must meet before it is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// The patch must not change this top-level key.
    KeyUnchanged(&'static str),
    /// The patch must not change this key of `metadata`.
    MetadataKeyUnchanged(&'static str),
}

/// The preconditions `kubectl apply` checks on its three-way patch: `apiVersion`, `kind`
/// and `metadata.name` stay unchanged.
pub const APPLY_PRECONDITIONS: &[Precondition] = &[
    Precondition::KeyUnchanged("apiVersion"),
    Precondition::KeyUnchanged("kind"),
    Precondition::MetadataKeyUnchanged("name"),
];

impl Precondition {
    /// Reports whether `patch` meets this precondition. A key that is present in the patch
    /// counts as changed.
    pub fn holds(&self, patch: &Value) -> bool {
        match self {
            Self::KeyUnchanged(key) => patch.get(key).is_none(),
            Self::MetadataKeyUnchanged(key) => patch
                .get("metadata")
                .and_then(Value::as_object)
                .is_none_or(|metadata| !metadata.contains_key(*key)),
        }
    }
}

/// Checks every precondition against `patch`.
///
/// # Errors
///
/// [`PatchError::PreconditionFailed`] at the first precondition the patch breaks.
pub fn check_preconditions(
    patch: &Value,
    preconditions: &[Precondition],
) -> Result<(), PatchError> {
    if preconditions
        .iter()
        .all(|precondition| precondition.holds(patch))
    {
        Ok(())
    } else {
        Err(PatchError::PreconditionFailed {
            patch: patch.to_string(),
        })
    }
}

fn object_or_empty(value: &Value, role: &'static str) -> Result<Map<String, Value>, PatchError> {
    super::merge_patch::object_or_empty(value, role)
}

/// JSON kind of a value, compared where upstream compares Go types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueKind {
    Null,
    Bool,
    Number,
    String,
    List,
    Map,
}

fn value_kind(value: &Value) -> ValueKind {
    match value {
        Value::Null => ValueKind::Null,
        Value::Bool(_) => ValueKind::Bool,
        Value::Number(_) => ValueKind::Number,
        Value::String(_) => ValueKind::String,
        Value::Array(_) => ValueKind::List,
        Value::Object(_) => ValueKind::Map,
    }
}

/// Returns the kind shared by every element of `lists`, `None` when they are all empty.
fn element_kind(lists: &[&[Value]], path: &str) -> Result<Option<ValueKind>, PatchError> {
    let mut kind = None;
    for item in lists.iter().flat_map(|list| list.iter()) {
        let item_kind = value_kind(item);
        match kind {
            None if item_kind == ValueKind::List => {
                return Err(PatchError::ListOfLists {
                    path: display_path(path),
                });
            }
            None => kind = Some(item_kind),
            Some(kind) if kind != item_kind => {
                return Err(PatchError::MixedListElements {
                    path: display_path(path),
                });
            }
            Some(_) => {}
        }
    }
    Ok(kind)
}

/// Compares decoded JSON scalars as upstream's Go code does: numbers by value, whatever
/// their JSON spelling (`1` equals `1.0`).
fn scalar_eq(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(left), Value::Number(right)) => {
            left == right || left.as_f64() == right.as_f64()
        }
        _ => left == right,
    }
}

/// Formats a scalar as Go's `%v` does for decoded JSON, which upstream uses as the sort
/// key of lists and merge keys.
fn sort_key(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "<nil>".to_string(),
        // Rust's float formatting drops a zero fraction as Go's does (`80.0` -> `80`);
        // serde_json's would keep it.
        Value::Number(number) => match number.as_f64() {
            Some(float) if number.is_f64() => float.to_string(),
            _ => number.to_string(),
        },
        other => other.to_string(),
    }
}

fn sort_scalars(values: &mut [Value]) {
    values.sort_by_cached_key(sort_key);
}

/// Removes repeated scalars, keeping the first occurrence of each.
fn deduplicate_scalars(values: Vec<Value>) -> Vec<Value> {
    let mut unique: Vec<Value> = Vec::with_capacity(values.len());
    for value in values {
        if !unique.iter().any(|kept| scalar_eq(kept, &value)) {
            unique.push(value);
        }
    }
    unique
}

fn is_directive_key(key: &str) -> bool {
    key == DIRECTIVE_MARKER
        || key == RETAIN_KEYS_DIRECTIVE
        || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
}

fn child_path(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn item_path(path: &str, merge_key: &str, value: &Value) -> String {
    format!("{path}[{merge_key}={}]", sort_key(value))
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "the patch root".to_string()
    } else {
        path.to_string()
    }
}

fn unexpected_type(path: &str, expected: &'static str, value: &Value) -> PatchError {
    PatchError::UnexpectedType {
        path: display_path(path),
        expected,
        actual: json_kind(value),
    }
}

fn missing_merge_key(path: &str, merge_key: &str, item: &Value) -> PatchError {
    PatchError::MissingMergeKey {
        path: display_path(path),
        merge_key: merge_key.to_string(),
        item: item.to_string(),
    }
}

/// Returns the value of `merge_key` in a list item that must be a map holding it.
fn merge_key_value<'a>(
    item: &'a Value,
    merge_key: &str,
    path: &str,
) -> Result<&'a Value, PatchError> {
    let Value::Object(map) = item else {
        return Err(unexpected_type(path, "map", item));
    };
    map.get(merge_key)
        .ok_or_else(|| missing_merge_key(path, merge_key, item))
}

/// Compares two list items by merge key, or by value when `merge_key` is empty.
fn merge_key_value_equal(
    left: &Value,
    right: &Value,
    merge_key: &str,
    path: &str,
) -> Result<bool, PatchError> {
    if merge_key.is_empty() {
        return Ok(scalar_eq(left, right));
    }
    let left = merge_key_value(left, merge_key, path)?;
    let right = merge_key_value(right, merge_key, path)?;
    Ok(scalar_eq(left, right))
}
