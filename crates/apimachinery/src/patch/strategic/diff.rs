//! Computing a strategic merge patch between two documents: [`diff_maps`].

use serde_json::{Map, Value};

use super::order::normalize_slice_order;
use super::{
    DELETE_DIRECTIVE, DELETE_FROM_PRIMITIVE_LIST_PREFIX, DIRECTIVE_MARKER, RETAIN_KEYS_DIRECTIVE,
    SET_ELEMENT_ORDER_PREFIX, ValueKind, child_path, display_path, element_kind, item_path,
    merge_key_value, merge_key_value_equal, sort_key, sort_scalars, unexpected_type, value_kind,
};
use crate::patch::error::PatchError;
use crate::patch::schema::{LookupPatchMeta, PatchStrategy};

type Object = Map<String, Value>;

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct DiffOptions {
    /// Emit `$setElementOrder` lists for merged lists.
    pub set_element_order: bool,
    /// Leave additions and changes out of the patch.
    pub ignore_changes_and_additions: bool,
    /// Leave deletions out of the patch.
    pub ignore_deletions: bool,
    /// Emit a `$retainKeys` list for this map (its field has the `retainKeys` strategy).
    pub build_retain_keys_directive: bool,
}

/// Returns the patch that turns `original` into `modified`, restricted by `options`.
pub(super) fn diff_maps<S: LookupPatchMeta>(
    original: &Object,
    modified: &Object,
    schema: &S,
    options: DiffOptions,
    path: &str,
) -> Result<Object, PatchError> {
    let mut patch = Object::new();
    let mut retained_keys = Vec::new();

    for (key, modified_value) in modified {
        if options.build_retain_keys_directive && !modified_value.is_null() {
            retained_keys.push(Value::String(key.clone()));
        }

        let Some(original_value) = original.get(key) else {
            if !options.ignore_changes_and_additions {
                patch.insert(key.clone(), modified_value.clone());
            }
            continue;
        };

        if key == DIRECTIVE_MARKER {
            diff_directive_marker(original_value, modified_value, &mut patch, path)?;
            continue;
        }

        if value_kind(original_value) != value_kind(modified_value) {
            if !options.ignore_changes_and_additions {
                patch.insert(key.clone(), modified_value.clone());
            }
            continue;
        }

        match (original_value, modified_value) {
            (Value::Object(original_map), Value::Object(modified_map)) => {
                diff_map_field(
                    key,
                    original_map,
                    modified_map,
                    &mut patch,
                    schema,
                    options,
                    path,
                )?;
            }
            (Value::Array(original_list), Value::Array(modified_list)) => {
                diff_list_field(
                    key,
                    original_list,
                    modified_list,
                    &mut patch,
                    schema,
                    options,
                    path,
                )?;
            }
            _ => replace_if_changed(key, original_value, modified_value, &mut patch, options),
        }
    }

    if !options.ignore_deletions {
        for key in original.keys() {
            if !modified.contains_key(key) {
                patch.insert(key.clone(), Value::Null);
            }
        }
    }

    // `$retainKeys` is needed when something changes, or when the original has a field
    // the modified document dropped (for example a field the server defaulted).
    if !retained_keys.is_empty() && (!patch.is_empty() || has_additional_field(original, modified))
    {
        sort_scalars(&mut retained_keys);
        patch.insert(
            RETAIN_KEYS_DIRECTIVE.to_string(),
            Value::Array(retained_keys),
        );
    }
    Ok(patch)
}

fn diff_directive_marker(
    original: &Value,
    modified: &Value,
    patch: &mut Object,
    path: &str,
) -> Result<(), PatchError> {
    let (Some(original_directive), Some(modified_directive)) =
        (original.as_str(), modified.as_str())
    else {
        return Err(PatchError::BadPatchDirective {
            path: display_path(path),
            directive: format!("{original} / {modified}"),
        });
    };
    if original_directive != modified_directive {
        patch.insert(DIRECTIVE_MARKER.to_string(), modified.clone());
    }
    Ok(())
}

fn replace_if_changed(
    key: &str,
    original: &Value,
    modified: &Value,
    patch: &mut Object,
    options: DiffOptions,
) {
    if !options.ignore_changes_and_additions && original != modified {
        patch.insert(key.to_string(), modified.clone());
    }
}

fn has_additional_field(original: &Object, modified: &Object) -> bool {
    original
        .iter()
        .any(|(key, value)| !value.is_null() && !modified.contains_key(key))
}

fn diff_map_field<S: LookupPatchMeta>(
    key: &str,
    original: &Object,
    modified: &Object,
    patch: &mut Object,
    schema: &S,
    options: DiffOptions,
    path: &str,
) -> Result<(), PatchError> {
    let (subschema, meta) = schema.lookup(key)?;
    let options = DiffOptions {
        build_retain_keys_directive: meta.retain_keys,
        ..options
    };

    if meta.strategy == PatchStrategy::Replace {
        // Upstream sends the whole map for `replace` fields, changed or not.
        if !options.ignore_changes_and_additions {
            patch.insert(key.to_string(), Value::Object(modified.clone()));
        }
        return Ok(());
    }

    let child = diff_maps(
        original,
        modified,
        &subschema,
        options,
        &child_path(path, key),
    )?;
    if !child.is_empty() {
        patch.insert(key.to_string(), Value::Object(child));
    }
    Ok(())
}

fn diff_list_field<S: LookupPatchMeta>(
    key: &str,
    original: &[Value],
    modified: &[Value],
    patch: &mut Object,
    schema: &S,
    options: DiffOptions,
    path: &str,
) -> Result<(), PatchError> {
    let (subschema, meta) = schema.lookup(key)?;
    if meta.strategy != PatchStrategy::Merge {
        if !options.ignore_changes_and_additions && original != modified {
            patch.insert(key.to_string(), Value::Array(modified.to_vec()));
        }
        return Ok(());
    }

    let options = DiffOptions {
        build_retain_keys_directive: meta.retain_keys,
        ..options
    };
    let field_path = child_path(path, key);
    let diff = diff_lists(
        original,
        modified,
        &subschema,
        meta.merge_key(),
        options,
        &field_path,
    )?;

    if !diff.patch.is_empty() {
        patch.insert(key.to_string(), Value::Array(diff.patch));
    }
    if !diff.deletions.is_empty() {
        patch.insert(
            format!("{DELETE_FROM_PRIMITIVE_LIST_PREFIX}/{key}"),
            Value::Array(diff.deletions),
        );
    }
    if !diff.order.is_empty() {
        patch.insert(
            format!("{SET_ELEMENT_ORDER_PREFIX}/{key}"),
            Value::Array(diff.order),
        );
    }
    Ok(())
}

/// The patch of one merged list: items to merge, scalars to delete and the element order.
struct ListDiff {
    patch: Vec<Value>,
    deletions: Vec<Value>,
    order: Vec<Value>,
}

fn diff_lists<S: LookupPatchMeta>(
    original: &[Value],
    modified: &[Value],
    schema: &S,
    merge_key: &str,
    options: DiffOptions,
    path: &str,
) -> Result<ListDiff, PatchError> {
    let mut diff = ListDiff {
        patch: Vec::new(),
        deletions: Vec::new(),
        order: Vec::new(),
    };
    if original.is_empty() {
        if !modified.is_empty() && !options.ignore_changes_and_additions {
            diff.patch = modified.to_vec();
        }
        return Ok(diff);
    }

    let Some(kind) = element_kind(&[original, modified], path)? else {
        return Ok(diff);
    };

    if kind == ValueKind::Map {
        let (changes, deletions) =
            diff_lists_of_maps(original, modified, schema, merge_key, options, path)?;
        let mut patch = normalize_slice_order(changes, modified, merge_key, kind, path)?;
        let order_same = is_order_same(original, modified, merge_key, path)?;
        patch.extend(deletions);

        let wants_order = (!options.ignore_changes_and_additions
            && (!patch.is_empty() || !order_same))
            || (!options.ignore_deletions && !patch.is_empty());
        if options.set_element_order && wants_order {
            diff.order = modified
                .iter()
                .map(|item| {
                    let mut entry = Object::new();
                    let key_value = item.get(merge_key).cloned().unwrap_or(Value::Null);
                    entry.insert(merge_key.to_string(), key_value);
                    Value::Object(entry)
                })
                .collect();
        }
        diff.patch = patch;
    } else {
        let (additions, deletions) = diff_lists_of_scalars(original, modified, options);
        diff.patch = normalize_slice_order(additions, modified, "", kind, path)?;

        // NOTE: upstream compares a sorted copy of the original here (its sort works in
        // place), so it sends no order when the new order is the sorted one and sends one
        // for unchanged unsorted lists. Comparing the lists as given makes the patch
        // reproduce the modified order in every case.
        let wants_order = (!options.ignore_deletions && !deletions.is_empty())
            || (!options.ignore_changes_and_additions && original != modified);
        if options.set_element_order && wants_order {
            diff.order = modified.to_vec();
        }
        diff.deletions = deletions;
    }
    Ok(diff)
}

/// Reports whether both lists name the same merge keys in the same positions.
fn is_order_same(
    original: &[Value],
    modified: &[Value],
    merge_key: &str,
    path: &str,
) -> Result<bool, PatchError> {
    if original.len() != modified.len() {
        return Ok(false);
    }
    for (original_item, modified_item) in original.iter().zip(modified) {
        if !merge_key_value_equal(original_item, modified_item, merge_key, path)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Returns the scalars `modified` adds and those it removes (deduplicated). Both lists
/// are compared as sorted multisets.
fn diff_lists_of_scalars(
    original: &[Value],
    modified: &[Value],
    options: DiffOptions,
) -> (Vec<Value>, Vec<Value>) {
    let mut original = original.to_vec();
    let mut modified = modified.to_vec();
    sort_scalars(&mut original);
    sort_scalars(&mut modified);

    let mut additions = Vec::new();
    let mut deletions = Vec::new();
    let (mut original_index, mut modified_index) = (0, 0);
    loop {
        let original_key = original.get(original_index).map(sort_key);
        let modified_key = modified.get(modified_index).map(sort_key);
        match (original_key, modified_key) {
            (None, None) => break,
            (Some(original_key), Some(modified_key)) if original_key == modified_key => {
                original_index += 1;
                modified_index += 1;
            }
            (Some(original_key), Some(modified_key)) if original_key < modified_key => {
                if !options.ignore_deletions {
                    deletions.push(original[original_index].clone());
                }
                original_index += 1;
            }
            (Some(_), None) => {
                if !options.ignore_deletions {
                    deletions.push(original[original_index].clone());
                }
                original_index += 1;
            }
            (_, Some(_)) => {
                if !options.ignore_changes_and_additions {
                    additions.push(modified[modified_index].clone());
                }
                modified_index += 1;
            }
        }
    }
    (additions, super::deduplicate_scalars(deletions))
}

/// Returns the patch items for a list of maps merged by `merge_key`: changed items (only
/// their changes, plus the merge key), added items in full, and `$patch: delete` items
/// for removed ones (returned separately).
fn diff_lists_of_maps<S: LookupPatchMeta>(
    original: &[Value],
    modified: &[Value],
    schema: &S,
    merge_key: &str,
    options: DiffOptions,
    path: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let original = sorted_by_merge_key(original, merge_key, path)?;
    let modified = sorted_by_merge_key(modified, merge_key, path)?;

    let mut patch = Vec::new();
    let mut deletions = Vec::new();
    let (mut original_index, mut modified_index) = (0, 0);
    loop {
        let original_item = original.get(original_index);
        let modified_item = modified.get(modified_index);
        match (original_item, modified_item) {
            (None, None) => break,
            (Some(original_item), Some(modified_item))
                if original_item.sort_key == modified_item.sort_key =>
            {
                let item_path = item_path(path, merge_key, modified_item.key_value);
                let mut changes = diff_maps(
                    original_item.map,
                    modified_item.map,
                    schema,
                    options,
                    &item_path,
                )?;
                if !changes.is_empty() {
                    changes.shift_insert(0, merge_key.to_string(), modified_item.key_value.clone());
                    patch.push(Value::Object(changes));
                }
                original_index += 1;
                modified_index += 1;
            }
            (Some(original_item), Some(modified_item))
                if original_item.sort_key < modified_item.sort_key =>
            {
                if !options.ignore_deletions {
                    deletions.push(delete_directive(merge_key, original_item.key_value));
                }
                original_index += 1;
            }
            (Some(original_item), None) => {
                if !options.ignore_deletions {
                    deletions.push(delete_directive(merge_key, original_item.key_value));
                }
                original_index += 1;
            }
            (_, Some(modified_item)) => {
                if !options.ignore_changes_and_additions {
                    patch.push(Value::Object(modified_item.map.clone()));
                }
                modified_index += 1;
            }
        }
    }
    Ok((patch, deletions))
}

struct KeyedItem<'a> {
    map: &'a Object,
    key_value: &'a Value,
    sort_key: String,
}

fn sorted_by_merge_key<'a>(
    items: &'a [Value],
    merge_key: &str,
    path: &str,
) -> Result<Vec<KeyedItem<'a>>, PatchError> {
    let mut keyed = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(map) = item else {
            return Err(unexpected_type(path, "map", item));
        };
        let key_value = merge_key_value(item, merge_key, path)?;
        keyed.push(KeyedItem {
            map,
            key_value,
            sort_key: sort_key(key_value),
        });
    }
    keyed.sort_by(|left, right| left.sort_key.cmp(&right.sort_key));
    Ok(keyed)
}

fn delete_directive(merge_key: &str, key_value: &Value) -> Value {
    let mut directive = Object::new();
    directive.insert(merge_key.to_string(), key_value.clone());
    directive.insert(
        DIRECTIVE_MARKER.to_string(),
        Value::String(DELETE_DIRECTIVE.to_string()),
    );
    Value::Object(directive)
}
