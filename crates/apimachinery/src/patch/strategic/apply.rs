//! Merging a strategic merge patch into a document: [`merge_map`].
//!
//! The same code merges two patches into one when a three-way patch is built. In that
//! mode the [`MergeOptions`] keep `null` values and parallel-list directives instead of
//! executing them.

use serde_json::{Map, Value};

use super::order::{normalize_element_order, partition_by_presence};
use super::{
    DELETE_DIRECTIVE, DELETE_FROM_PRIMITIVE_LIST_PREFIX, DIRECTIVE_MARKER, MERGE_DIRECTIVE,
    REPLACE_DIRECTIVE, RETAIN_KEYS_DIRECTIVE, SET_ELEMENT_ORDER_PREFIX, ValueKind, child_path,
    display_path, element_kind, is_directive_key, item_path, merge_key_value,
    merge_key_value_equal, missing_merge_key, scalar_eq, unexpected_type, value_kind,
};
use crate::patch::error::PatchError;
use crate::patch::schema::{LookupPatchMeta, PatchMeta, PatchStrategy};

type Object = Map<String, Value>;

#[derive(Clone, Copy, Debug)]
pub(super) struct MergeOptions {
    /// Execute `$deleteFromPrimitiveList` and `$retainKeys` (applying a patch), instead
    /// of carrying them into the result (merging two patches).
    pub merge_parallel_list: bool,
    /// Drop `null` values the original has no key for (applying a patch), instead of
    /// keeping them so the merged patch still deletes.
    pub ignore_unmatched_nulls: bool,
}

/// Merges `patch` into `original` and returns the result. `path` names `original` in
/// error messages.
pub(super) fn merge_map<S: LookupPatchMeta>(
    mut original: Object,
    mut patch: Object,
    schema: &S,
    options: MergeOptions,
    path: &str,
) -> Result<Object, PatchError> {
    if let Some(directive) = patch.get(DIRECTIVE_MARKER) {
        return match directive.as_str() {
            Some(REPLACE_DIRECTIVE) => {
                patch.shift_remove(DIRECTIVE_MARKER);
                Ok(patch)
            }
            Some(DELETE_DIRECTIVE) => Ok(Object::new()),
            _ => Err(PatchError::BadPatchDirective {
                path: display_path(path),
                directive: directive.to_string(),
            }),
        };
    }

    apply_retain_keys_directive(&mut original, &mut patch, options, path)?;
    merge_ordered_lists(&mut original, &mut patch, schema, options, path)?;

    for (key, patch_value) in patch {
        merge_field(&mut original, key, patch_value, schema, options, path)?;
    }
    Ok(original)
}

/// Merges one key of the patch into `original`.
fn merge_field<S: LookupPatchMeta>(
    original: &mut Object,
    key: String,
    patch_value: Value,
    schema: &S,
    options: MergeOptions,
    path: &str,
) -> Result<(), PatchError> {
    let mut key = key;
    let mut is_delete_list = false;
    if key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
        if !options.merge_parallel_list {
            original.insert(key, patch_value);
            return Ok(());
        }
        key = directive_target(&key, DELETE_FROM_PRIMITIVE_LIST_PREFIX, path)?.to_string();
        is_delete_list = true;
    }

    if patch_value.is_null() {
        original.shift_remove(&key);
        if options.ignore_unmatched_nulls {
            return Ok(());
        }
    }

    let Some(slot) = original.get_mut(&key) else {
        // A key the original lacks takes the patch value; a deletion list for a missing
        // list deletes nothing.
        if !is_delete_list && let Some(value) = new_value(patch_value, options) {
            original.insert(key, value);
        }
        return Ok(());
    };

    if value_kind(slot) != value_kind(&patch_value) {
        if !is_delete_list {
            match new_value(patch_value, options) {
                Some(value) => *slot = value,
                None => {
                    original.shift_remove(&key);
                }
            }
        }
        return Ok(());
    }

    let field_path = child_path(path, &key);
    match patch_value {
        Value::Object(patch_map) => {
            let (subschema, meta) = schema.lookup(&key)?;
            if meta.strategy == PatchStrategy::Replace {
                *slot = Value::Object(patch_map);
            } else if let Value::Object(original_map) = slot {
                let taken = std::mem::take(original_map);
                *original_map = merge_map(taken, patch_map, &subschema, options, &field_path)?;
            }
        }
        Value::Array(patch_list) => {
            let (subschema, meta) = schema.lookup(&key)?;
            if let Value::Array(original_list) = slot {
                let taken = std::mem::take(original_list);
                *original_list = merge_list_field(
                    taken,
                    patch_list,
                    &subschema,
                    &meta,
                    is_delete_list,
                    options,
                    &field_path,
                )?
                .items;
            }
        }
        scalar => *slot = scalar,
    }
    Ok(())
}

/// Prepares a patch value stored where the original has nothing to merge it with.
///
/// Maps carrying `$patch` are dropped, as upstream does, and so are list items carrying
/// it. When applying (not merging patches), `null` values and the remaining directive keys
/// are removed too, because they are not fields of any object.
fn new_value(mut value: Value, options: MergeOptions) -> Option<Value> {
    if options.ignore_unmatched_nulls {
        discard_null_values(&mut value);
    }
    remove_directives(value, options.merge_parallel_list)
}

fn discard_null_values(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, child| !child.is_null());
            map.values_mut().for_each(discard_null_values);
        }
        Value::Array(items) => items.iter_mut().for_each(discard_null_values),
        _ => {}
    }
}

fn remove_directives(value: Value, strip_directive_keys: bool) -> Option<Value> {
    match value {
        Value::Object(map) => {
            if map.contains_key(DIRECTIVE_MARKER) {
                return None;
            }
            let cleaned = map
                .into_iter()
                .filter(|(key, _)| !(strip_directive_keys && is_directive_key(key)))
                .filter_map(|(key, child)| {
                    remove_directives(child, strip_directive_keys).map(|child| (key, child))
                })
                .collect();
            Some(Value::Object(cleaned))
        }
        Value::Array(items) => Some(Value::Array(
            items
                .into_iter()
                .filter_map(|item| remove_directives(item, strip_directive_keys))
                .collect(),
        )),
        scalar => Some(scalar),
    }
}

/// Returns the field named by a `$setElementOrder/<field>` or
/// `$deleteFromPrimitiveList/<field>` key.
fn directive_target<'a>(key: &'a str, prefix: &str, path: &str) -> Result<&'a str, PatchError> {
    match key.split_once('/') {
        Some((head, field)) if head == prefix => Ok(field),
        _ => {
            let reason = format!("key {key:?} must have the form {prefix}/<field>");
            if prefix == SET_ELEMENT_ORDER_PREFIX {
                Err(PatchError::BadSetElementOrderDirective {
                    path: display_path(path),
                    reason,
                })
            } else {
                Err(PatchError::BadPrimitiveListDirective {
                    path: display_path(path),
                    reason,
                })
            }
        }
    }
}

/// Executes (or, when merging patches, carries over) the `$retainKeys` directive: keys of
/// `original` it does not list are cleared.
fn apply_retain_keys_directive(
    original: &mut Object,
    patch: &mut Object,
    options: MergeOptions,
    path: &str,
) -> Result<(), PatchError> {
    let Some(retain_keys) = patch.shift_remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };

    if !options.merge_parallel_list {
        return match original.get(RETAIN_KEYS_DIRECTIVE) {
            Some(existing) if *existing != retain_keys => Err(PatchError::DirectiveMismatch {
                path: display_path(path),
                directive: RETAIN_KEYS_DIRECTIVE.to_string(),
                left: existing.to_string(),
                right: retain_keys.to_string(),
            }),
            Some(_) => Ok(()),
            None => {
                original.insert(RETAIN_KEYS_DIRECTIVE.to_string(), retain_keys);
                Ok(())
            }
        };
    }

    let Value::Array(retained) = retain_keys else {
        return Err(PatchError::BadRetainKeysDirective {
            path: display_path(path),
            reason: format!("the value must be a list, got {retain_keys}"),
        });
    };
    let is_retained = |key: &str| retained.iter().any(|item| item.as_str() == Some(key));

    for (key, value) in patch.iter() {
        if value.is_null()
            || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
        {
            continue;
        }
        if !is_retained(key) {
            return Err(PatchError::BadRetainKeysDirective {
                path: display_path(path),
                reason: format!("the patch sets field {key:?}, which $retainKeys does not list"),
            });
        }
    }

    original.retain(|key, _| is_retained(key));
    Ok(())
}

/// Processes every `$setElementOrder/<field>` directive of `patch`: merges `<field>` from
/// the patch into the original and orders the result by the directive, keeping items
/// only the original has in their original relative order.
///
/// When merging patches the directive is also copied into `original`.
fn merge_ordered_lists<S: LookupPatchMeta>(
    original: &mut Object,
    patch: &mut Object,
    schema: &S,
    options: MergeOptions,
    path: &str,
) -> Result<(), PatchError> {
    let directive_keys: Vec<String> = patch
        .keys()
        .filter(|key| key.starts_with(SET_ELEMENT_ORDER_PREFIX))
        .cloned()
        .collect();

    for directive_key in directive_keys {
        let Some(order_value) = patch.shift_remove(&directive_key) else {
            continue;
        };
        if !options.merge_parallel_list {
            carry_set_element_order(original, &directive_key, &order_value, path)?;
        }

        let field = directive_target(&directive_key, SET_ELEMENT_ORDER_PREFIX, path)?.to_string();
        let field_path = child_path(path, &field);
        let Value::Array(order) = order_value else {
            return Err(PatchError::BadSetElementOrderDirective {
                path: display_path(&field_path),
                reason: format!("the value must be a list, got {order_value}"),
            });
        };
        let original_list = list_field(original, &field, &field_path)?;
        let patch_list = list_field(patch, &field, &field_path)?;

        let (subschema, meta) = schema.lookup(&field)?;
        validate_patch_with_set_order_list(
            patch_list.as_deref().unwrap_or_default(),
            &order,
            meta.merge_key(),
            &field_path,
        )?;

        let original_items = original_list.clone().unwrap_or_default();
        let (merged, server_order) = match (original_list, patch_list.clone()) {
            (Some(original_items), None) => (original_items.clone(), original_items),
            (None, Some(patch_items)) => match new_value(Value::Array(patch_items), options) {
                Some(Value::Array(items)) => (items, Vec::new()),
                _ => continue,
            },
            (Some(original_items), Some(patch_items)) => {
                let merged = merge_list_field(
                    original_items.clone(),
                    patch_items,
                    &subschema,
                    &meta,
                    false,
                    options,
                    &field_path,
                )?;
                let server_order = merged.original_view.unwrap_or(original_items);
                (merged.items, server_order)
            }
            (None, None) => continue,
        };

        let kind = element_kind(
            &[&original_items, patch_list.as_deref().unwrap_or_default()],
            &field_path,
        )?;
        let ordered = match kind {
            Some(kind) => order_merged(
                merged,
                &order,
                &server_order,
                meta.merge_key(),
                kind,
                &field_path,
            )?,
            None => merged,
        };

        original.insert(field.clone(), Value::Array(ordered));
        patch.shift_remove(&field);
    }
    Ok(())
}

/// Copies a `$setElementOrder` directive into the patch being merged into, which must
/// not hold a different one.
fn carry_set_element_order(
    original: &mut Object,
    directive_key: &str,
    order_value: &Value,
    path: &str,
) -> Result<(), PatchError> {
    match original.get(directive_key) {
        Some(existing) if existing != order_value => Err(PatchError::DirectiveMismatch {
            path: display_path(path),
            directive: directive_key.to_string(),
            left: existing.to_string(),
            right: order_value.to_string(),
        }),
        Some(_) => Ok(()),
        None => {
            original.insert(directive_key.to_string(), order_value.clone());
            Ok(())
        }
    }
}

fn list_field(map: &Object, field: &str, path: &str) -> Result<Option<Vec<Value>>, PatchError> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items.clone())),
        Some(other) => Err(unexpected_type(path, "list", other)),
    }
}

/// Checks that the items of the patch list (without deletions) appear in the
/// `$setElementOrder` list, in the same relative order.
fn validate_patch_with_set_order_list(
    patch_list: &[Value],
    order: &[Value],
    merge_key: &str,
    path: &str,
) -> Result<(), PatchError> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }

    let items: Vec<&Value> = if merge_key.is_empty() {
        patch_list.iter().collect()
    } else {
        let mut kept = Vec::with_capacity(patch_list.len());
        for item in patch_list {
            let Value::Object(map) = item else {
                return Err(unexpected_type(path, "map", item));
            };
            if map.get(DIRECTIVE_MARKER).and_then(Value::as_str) != Some(DELETE_DIRECTIVE) {
                kept.push(item);
            }
        }
        kept
    };

    let (mut patch_index, mut order_index) = (0, 0);
    while patch_index < items.len() && order_index < order.len() {
        let item = items[patch_index];
        if item
            .as_object()
            .is_some_and(|map| map.contains_key(DIRECTIVE_MARKER))
        {
            patch_index += 1;
            continue;
        }
        if merge_key_value_equal(item, &order[order_index], merge_key, path)? {
            patch_index += 1;
        }
        order_index += 1;
    }

    if patch_index < items.len() {
        return Err(PatchError::BadSetElementOrderDirective {
            path: display_path(path),
            reason: format!(
                "the order in the patch list {} doesn't match the $setElementOrder list {}",
                Value::Array(patch_list.to_vec()),
                Value::Array(order.to_vec())
            ),
        });
    }
    Ok(())
}

/// A merged list, and the original list as upstream's merge leaves it in memory.
struct MergedList {
    items: Vec<Value>,
    /// See [`OriginalView`]; `None` when the merge does not modify the original.
    original_view: Option<Vec<Value>>,
}

/// The original list as upstream's Go code leaves it after a merge.
///
/// Upstream deletes items from the original list and appends new items to it inside the
/// list's backing array, then its `$setElementOrder` step orders the items only the
/// server has by that array, read at the original length. Reproducing the array keeps
/// merged lists in upstream's order, for example when one patch deletes one item and adds
/// another.
struct OriginalView {
    slots: Vec<Value>,
    len: usize,
}

impl OriginalView {
    fn new(original: &[Value]) -> Self {
        Self {
            slots: original.to_vec(),
            len: original.len(),
        }
    }

    /// Mirrors removing the live item at `index`: later items shift left and the last
    /// live slot keeps its old value.
    fn remove(&mut self, index: usize) {
        for slot in index..self.len.saturating_sub(1) {
            self.slots[slot] = self.slots[slot + 1].clone();
        }
        self.len = self.len.saturating_sub(1);
    }

    /// Mirrors appending an item: it lands in the next slot if that is still within the
    /// original length, where it is visible.
    fn push(&mut self, item: &Value) {
        if let Some(slot) = self.slots.get_mut(self.len) {
            *slot = item.clone();
        }
        self.len += 1;
    }
}

/// Merges a list field according to its strategy: merged for `merge` (and for deletion
/// lists), replaced by the patch list otherwise.
fn merge_list_field<S: LookupPatchMeta>(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: &S,
    meta: &PatchMeta,
    is_delete_list: bool,
    options: MergeOptions,
    path: &str,
) -> Result<MergedList, PatchError> {
    if meta.strategy == PatchStrategy::Merge || is_delete_list {
        merge_list(
            original,
            patch,
            schema,
            meta.merge_key(),
            options,
            is_delete_list,
            path,
        )
    } else {
        Ok(MergedList {
            items: patch,
            original_view: None,
        })
    }
}

/// Merges two lists: scalars as a set, maps by `merge_key` (honouring `$patch` items),
/// then orders the result (see [`normalize_element_order`]).
fn merge_list<S: LookupPatchMeta>(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: &S,
    merge_key: &str,
    options: MergeOptions,
    is_delete_list: bool,
    path: &str,
) -> Result<MergedList, PatchError> {
    let Some(kind) = element_kind(&[&original, &patch], path)? else {
        return Ok(MergedList {
            items: original,
            original_view: None,
        });
    };

    if kind != ValueKind::Map {
        if options.merge_parallel_list && is_delete_list {
            let items = original
                .into_iter()
                .filter(|item| !patch.iter().any(|deleted| scalar_eq(item, deleted)))
                .collect();
            return Ok(MergedList {
                items,
                original_view: None,
            });
        }
        let mut both = original.clone();
        both.extend(patch.iter().cloned());
        let merged = super::deduplicate_scalars(both);
        let items = order_merged(merged, &patch, &original, merge_key, kind, path)?;
        return Ok(MergedList {
            items,
            original_view: None,
        });
    }

    if merge_key.is_empty() {
        return Err(PatchError::NoMergeKey {
            path: format!("{} ({})", display_path(path), schema.name()),
        });
    }
    let mut view = OriginalView::new(&original);
    let directives = apply_list_directives(original, patch, merge_key, &mut view, path)?;
    let appends_to_view = if directives.replaced {
        None
    } else {
        Some(&mut view)
    };
    let merged = merge_items_by_key(
        directives.original.clone(),
        &directives.patch,
        merge_key,
        schema,
        options,
        appends_to_view,
        path,
    )?;
    let items = order_merged(
        merged,
        &directives.patch,
        &directives.original,
        merge_key,
        kind,
        path,
    )?;
    Ok(MergedList {
        items,
        original_view: Some(view.slots),
    })
}

/// Orders a merged list: the items named in `patch` (a patch list or a
/// `$setElementOrder` list) in its order, the others as in `server_order`.
fn order_merged(
    merged: Vec<Value>,
    patch: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: ValueKind,
    path: &str,
) -> Result<Vec<Value>, PatchError> {
    let (patch_items, server_only) = partition_by_presence(merged, patch, merge_key, path)?;
    normalize_element_order(
        patch_items,
        server_only,
        patch,
        server_order,
        merge_key,
        kind,
        path,
    )
}

/// Result of executing the `$patch` items of a patch list.
struct ListDirectives {
    /// The original list after deletions, or the patch items after `$patch: replace`.
    original: Vec<Value>,
    /// Patch items left to merge.
    patch: Vec<Value>,
    /// Whether the patch list held `$patch: replace`.
    replaced: bool,
}

/// Executes the `$patch` items of a patch list of maps: `delete` removes every original
/// item with that merge key, `replace` makes the rest of the patch list the whole result.
fn apply_list_directives(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
    view: &mut OriginalView,
    path: &str,
) -> Result<ListDirectives, PatchError> {
    let mut remaining = Vec::with_capacity(patch.len());
    let mut replaced = false;

    for item in patch {
        let directive = match &item {
            Value::Object(map) => map.get(DIRECTIVE_MARKER).cloned(),
            other => return Err(unexpected_type(path, "map", other)),
        };
        let Some(directive) = directive else {
            remaining.push(item);
            continue;
        };
        match directive.as_str() {
            Some(DELETE_DIRECTIVE) => {
                let Some(deleted_key) = item.get(merge_key) else {
                    return Err(missing_merge_key(path, merge_key, &item));
                };
                let matches = |candidate: &Value| {
                    candidate
                        .get(merge_key)
                        .is_some_and(|value| scalar_eq(value, deleted_key))
                };
                while let Some(index) = original.iter().position(matches) {
                    original.remove(index);
                    view.remove(index);
                }
            }
            Some(REPLACE_DIRECTIVE) => replaced = true,
            // Upstream rejects `$patch: merge` in lists ("merging lists cannot yet be
            // specified in the patch") and any unknown directive.
            Some(MERGE_DIRECTIVE) | Some(_) | None => {
                return Err(PatchError::BadPatchDirective {
                    path: display_path(path),
                    directive: directive.to_string(),
                });
            }
        }
    }

    if replaced {
        Ok(ListDirectives {
            original: remaining,
            patch: Vec::new(),
            replaced,
        })
    } else {
        Ok(ListDirectives {
            original,
            patch: remaining,
            replaced,
        })
    }
}

/// Merges each patch item into the original item with the same merge key, appending
/// items the original lacks (and mirroring the appends in `view`).
fn merge_items_by_key<S: LookupPatchMeta>(
    mut original: Vec<Value>,
    patch: &[Value],
    merge_key: &str,
    schema: &S,
    options: MergeOptions,
    mut view: Option<&mut OriginalView>,
    path: &str,
) -> Result<Vec<Value>, PatchError> {
    for item in patch {
        let key_value = merge_key_value(item, merge_key, path)?;
        let position = original.iter().position(|candidate| {
            candidate
                .get(merge_key)
                .is_some_and(|value| scalar_eq(value, key_value))
        });
        let Value::Object(item_map) = item else {
            return Err(unexpected_type(path, "map", item));
        };

        let Some(index) = position else {
            if let Some(view) = view.as_deref_mut() {
                view.push(item);
            }
            if !options.merge_parallel_list {
                // Merging two patches keeps the item as written.
                original.push(item.clone());
            } else if let Some(value) = new_value(item.clone(), options) {
                original.push(value);
            }
            continue;
        };

        if let Value::Object(original_item) = &mut original[index] {
            let taken = std::mem::take(original_item);
            let item_path = item_path(path, merge_key, key_value);
            *original_item = merge_map(taken, item_map.clone(), schema, options, &item_path)?;
        }
    }
    Ok(original)
}
