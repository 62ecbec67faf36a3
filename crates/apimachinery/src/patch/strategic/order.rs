//! Ordering of merged lists.
//!
//! After a merge, the items named by the patch (or by its `$setElementOrder` list) keep
//! the patch's order and the items only the server has keep the server's order. The two
//! sequences are then interleaved: a server-only item goes before a patch item when the
//! server list has it earlier, and patch items the server does not know come first.

use serde_json::Value;

use super::{
    DELETE_DIRECTIVE, DIRECTIVE_MARKER, ValueKind, merge_key_value, scalar_eq, unexpected_type,
};
use crate::patch::error::PatchError;

/// Splits `merged` into the items present in `partition_by` and the others, keeping their
/// relative order. Items are matched by `merge_key`, or by value when it is empty.
pub(super) fn partition_by_presence(
    merged: Vec<Value>,
    partition_by: &[Value],
    merge_key: &str,
    path: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut present = Vec::with_capacity(merged.len());
    let mut absent = Vec::with_capacity(merged.len());

    for item in merged {
        let found = if merge_key.is_empty() {
            partition_by
                .iter()
                .any(|candidate| scalar_eq(candidate, &item))
        } else {
            let key_value = merge_key_value(&item, merge_key, path)?;
            let mut found = false;
            for candidate in partition_by {
                let Value::Object(map) = candidate else {
                    return Err(unexpected_type(path, "map", candidate));
                };
                if map
                    .get(merge_key)
                    .is_some_and(|value| scalar_eq(value, key_value))
                {
                    found = true;
                    break;
                }
            }
            found
        };

        if found {
            present.push(item);
        } else {
            absent.push(item);
        }
    }
    Ok((present, absent))
}

/// Sorts `patch_items` by `patch_order` and `server_only` by `server_order`, then
/// interleaves them (see the module documentation).
pub(super) fn normalize_element_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: ValueKind,
    path: &str,
) -> Result<Vec<Value>, PatchError> {
    let patch_items = normalize_slice_order(patch_items, patch_order, merge_key, kind, path)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, kind, path)?;
    Ok(merge_sorted_slices(
        server_only,
        patch_items,
        server_order,
        merge_key,
        kind,
    ))
}

/// Sorts `items` by their position in `order`, stably. For lists of maps every item must
/// carry the merge key, and `$patch: delete` items move to the end.
pub(super) fn normalize_slice_order(
    items: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: ValueKind,
    path: &str,
) -> Result<Vec<Value>, PatchError> {
    let (items, deletions) = if kind == ValueKind::Map {
        for item in items.iter().chain(order) {
            merge_key_value(item, merge_key, path)?;
        }
        items.into_iter().partition(|item| !is_delete_item(item))
    } else {
        (items, Vec::new())
    };

    // Items missing from `order` cannot occur for lists built by the merge code; they
    // sort last rather than arbitrarily.
    let mut keyed: Vec<(usize, Value)> = items
        .into_iter()
        .map(|item| {
            let position = index_of(order, &item, merge_key, kind).unwrap_or(usize::MAX);
            (position, item)
        })
        .collect();
    keyed.sort_by_key(|(position, _)| *position);

    let mut sorted: Vec<Value> = keyed.into_iter().map(|(_, item)| item).collect();
    sorted.extend(deletions);
    Ok(sorted)
}

fn is_delete_item(item: &Value) -> bool {
    item.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE)
}

/// Interleaves two sorted lists. An item of `left` is taken before the next item of
/// `right` only when `server_order` has both and puts the `left` item first.
fn merge_sorted_slices(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    kind: ValueKind,
) -> Vec<Value> {
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();

    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(left_item), Some(right_item)) => {
                let left_index = index_of(server_order, left_item, merge_key, kind);
                let right_index = index_of(server_order, right_item, merge_key, kind);
                matches!((left_index, right_index), (Some(l), Some(r)) if l < r)
            }
        };
        let next = if take_left { left.next() } else { right.next() };
        merged.extend(next);
    }
    merged
}

/// Returns the position of `item` in `list`, comparing maps by merge key (two maps that
/// both lack it count as equal, as upstream compares two nil values) and other values by
/// value.
fn index_of(list: &[Value], item: &Value, merge_key: &str, kind: ValueKind) -> Option<usize> {
    if kind != ValueKind::Map {
        return list.iter().position(|candidate| scalar_eq(candidate, item));
    }

    fn key_of<'a>(value: &'a Value, merge_key: &str) -> Option<&'a Value> {
        value.as_object().and_then(|map| map.get(merge_key))
    }
    let target = key_of(item, merge_key);
    list.iter()
        .position(|candidate| match (key_of(candidate, merge_key), target) {
            (None, None) => true,
            (Some(candidate), Some(target)) => scalar_eq(candidate, target),
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items(names: &[&str]) -> Vec<Value> {
        names.iter().map(|name| json!({"name": name})).collect()
    }

    #[test]
    fn interleave_puts_unknown_patch_items_first() {
        let server = items(&["a", "b"]);
        let merged = merge_sorted_slices(
            server.clone(),
            items(&["c"]),
            &server,
            "name",
            ValueKind::Map,
        );
        assert_eq!(merged, items(&["c", "a", "b"]));
    }

    #[test]
    fn interleave_keeps_server_positions() {
        let server = items(&["a", "b", "c"]);
        let merged = merge_sorted_slices(
            items(&["b"]),
            items(&["c", "a"]),
            &server,
            "name",
            ValueKind::Map,
        );
        assert_eq!(merged, items(&["b", "c", "a"]));
    }

    #[test]
    fn slice_order_moves_deletions_last() {
        let list = vec![
            json!({"name": "b", "$patch": "delete"}),
            json!({"name": "c"}),
            json!({"name": "a"}),
        ];
        let order = items(&["a", "b", "c"]);
        let sorted = normalize_slice_order(list, &order, "name", ValueKind::Map, "x").unwrap();
        assert_eq!(
            sorted,
            vec![
                json!({"name": "a"}),
                json!({"name": "c"}),
                json!({"name": "b", "$patch": "delete"})
            ]
        );
    }

    #[test]
    fn slice_order_requires_merge_key() {
        let err =
            normalize_slice_order(vec![json!({"other": 1})], &[], "name", ValueKind::Map, "x")
                .expect_err("item without merge key");
        assert!(matches!(err, PatchError::MissingMergeKey { .. }));
    }
}
