//! Conflict detection between two strategic merge patches, used by three-way patch
//! creation when overwriting is not allowed.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{
    DIRECTIVE_MARKER, RETAIN_KEYS_DIRECTIVE, ValueKind, deduplicate_scalars, element_kind,
    merge_key_value, sort_scalars,
};
use crate::patch::error::PatchError;
use crate::patch::schema::{LookupPatchMeta, PatchStrategy};

/// Reports whether `left` and `right` set an overlapping field to different values.
///
/// Lists merged by key are compared item by item (by merge key), merged scalar lists
/// never conflict, and other lists must be equal as a whole (scalar lists ignoring order
/// and repeats). A `$patch` directive on one side only is a conflict.
pub(super) fn merging_maps_have_conflicts<S: LookupPatchMeta>(
    left: &Map<String, Value>,
    right: &Map<String, Value>,
    schema: &S,
) -> Result<bool, PatchError> {
    maps_have_conflicts(left, right, schema)
}

fn fields_have_conflicts<S: LookupPatchMeta>(
    left: &Value,
    right: &Value,
    schema: &S,
    strategy: PatchStrategy,
    merge_key: &str,
) -> Result<bool, PatchError> {
    match (left, right) {
        (Value::Object(left_map), Value::Object(right_map)) => {
            let left_directive = left_map.get(DIRECTIVE_MARKER);
            let right_directive = right_map.get(DIRECTIVE_MARKER);
            if (left_directive.is_some() || right_directive.is_some())
                && left_directive != right_directive
            {
                return Ok(true);
            }
            if strategy == PatchStrategy::Replace {
                return Ok(false);
            }
            maps_have_conflicts(left_map, right_map, schema)
        }
        (Value::Array(left_list), Value::Array(right_list)) => {
            lists_have_conflicts(left_list, right_list, schema, strategy, merge_key)
        }
        (Value::Object(_), _) | (Value::Array(_), _) => Ok(true),
        (left, right) => Ok(left != right),
    }
}

fn maps_have_conflicts<S: LookupPatchMeta>(
    left: &Map<String, Value>,
    right: &Map<String, Value>,
    schema: &S,
) -> Result<bool, PatchError> {
    for (key, left_value) in left {
        if key == DIRECTIVE_MARKER || key == RETAIN_KEYS_DIRECTIVE {
            continue;
        }
        let Some(right_value) = right.get(key) else {
            continue;
        };

        let conflict = if left_value.is_object() || left_value.is_array() {
            let (subschema, meta) = schema.lookup(key)?;
            fields_have_conflicts(
                left_value,
                right_value,
                &subschema,
                meta.strategy,
                meta.merge_key(),
            )?
        } else {
            left_value != right_value
        };
        if conflict {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lists_have_conflicts<S: LookupPatchMeta>(
    left: &[Value],
    right: &[Value],
    schema: &S,
    strategy: PatchStrategy,
    merge_key: &str,
) -> Result<bool, PatchError> {
    let Some(kind) = element_kind(&[left, right], "")? else {
        return Ok(false);
    };

    if strategy == PatchStrategy::Merge {
        if kind != ValueKind::Map {
            return Ok(false);
        }
        let left_items = items_by_merge_key(left, merge_key)?;
        let right_items = items_by_merge_key(right, merge_key)?;
        for (key, left_item) in &left_items {
            if let Some(right_item) = right_items.get(key)
                && fields_have_conflicts(left_item, right_item, schema, PatchStrategy::Default, "")?
            {
                return Ok(true);
            }
        }
        return Ok(false);
    }

    if left.len() != right.len() {
        return Ok(true);
    }
    let (left, right) = if kind == ValueKind::Map {
        (left.to_vec(), right.to_vec())
    } else {
        (sorted_unique(left), sorted_unique(right))
    };
    if left.len() != right.len() {
        return Ok(true);
    }
    for (left_item, right_item) in left.iter().zip(&right) {
        if fields_have_conflicts(left_item, right_item, schema, PatchStrategy::Default, "")? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn sorted_unique(values: &[Value]) -> Vec<Value> {
    let mut unique = deduplicate_scalars(values.to_vec());
    sort_scalars(&mut unique);
    unique
}

fn items_by_merge_key<'a>(
    items: &'a [Value],
    merge_key: &str,
) -> Result<BTreeMap<String, &'a Value>, PatchError> {
    let mut keyed = BTreeMap::new();
    for item in items {
        let key_value = merge_key_value(item, merge_key, "")?;
        keyed.insert(super::sort_key(key_value), item);
    }
    Ok(keyed)
}
