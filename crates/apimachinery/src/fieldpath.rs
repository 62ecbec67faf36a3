//! Field sets and object comparison for `metadata.managedFields`.
//!
//! A [`FieldSet`] names fields of an object by paths of encoded path elements, as
//! upstream's structured-merge-diff does. `f:<name>` is a field of a map, `k:<json>` an
//! item of a list keyed by its map keys, `v:<json>` an item of a set and `i:<index>`
//! any other list item. [`FieldSet::to_fields_v1`] and
//! [`FieldSet::from_fields_v1`] convert to and from the `FieldsV1` JSON form, where a
//! node that is itself in the set and has children carries a `"."` entry.
//!
//! [`compare`] walks two versions of a built-in object with the schema of
//! [`crate::patch::merge_keys`] and returns the fields added, modified and removed.
//! Atomic lists and atomic structs count as one leaf; maps and lists of items
//! identified by key are walked item by item.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::patch::merge_keys::{self, FieldShape, ListType};

/// One path: encoded path elements from the root.
pub type Path = Vec<String>;

/// A set of field paths. A path of a map or list item that is itself in the set means
/// the item as a whole (its `"."` in `FieldsV1`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    paths: BTreeSet<Path>,
}

impl FieldSet {
    /// Returns an empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a path.
    pub fn insert(&mut self, path: Path) {
        self.paths.insert(path);
    }

    /// Returns whether the path is in the set.
    pub fn contains(&self, path: &[String]) -> bool {
        self.paths.contains(path)
    }

    /// Returns whether the set has no paths.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Returns the paths, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.paths.iter()
    }

    /// Returns the paths in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        FieldSet {
            paths: self.paths.union(&other.paths).cloned().collect(),
        }
    }

    /// Returns the paths of `self` that are not in `other` (exact matches only).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        FieldSet {
            paths: self.paths.difference(&other.paths).cloned().collect(),
        }
    }

    /// Adds every path of `other`, taking them over.
    pub fn absorb(&mut self, other: FieldSet) {
        if self.paths.is_empty() {
            self.paths = other.paths;
        } else {
            self.paths.extend(other.paths);
        }
    }

    /// Removes the paths that are in `other` (exact matches only), in place.
    pub fn remove_all(&mut self, other: &FieldSet) {
        if other.paths.len() < self.paths.len() {
            for path in &other.paths {
                self.paths.remove(path);
            }
        } else {
            self.paths.retain(|path| !other.paths.contains(path));
        }
    }

    /// Removes the paths that are in `prefixes` or lie below one, in place.
    pub fn remove_under(&mut self, prefixes: &FieldSet) {
        if prefixes.paths.is_empty() {
            return;
        }
        self.paths.retain(|path| {
            !(0..=path.len()).any(|length| prefixes.paths.contains(&path[..length]))
        });
    }

    /// Returns the paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        FieldSet {
            paths: self.paths.intersection(&other.paths).cloned().collect(),
        }
    }

    /// Returns the paths of `self` that neither are in `prefixes` nor lie below one.
    pub fn recursive_difference(&self, prefixes: &FieldSet) -> FieldSet {
        FieldSet {
            paths: self
                .paths
                .iter()
                .filter(|path| {
                    !(0..=path.len()).any(|length| prefixes.paths.contains(&path[..length]))
                })
                .cloned()
                .collect(),
        }
    }

    /// Encodes the set as `FieldsV1` JSON.
    pub fn to_fields_v1(&self) -> Value {
        #[derive(Default)]
        struct Node {
            member: bool,
            children: BTreeMap<(u8, String), Node>,
        }
        fn rank(element: &str) -> u8 {
            match element.as_bytes().first() {
                Some(b'f') => 0,
                Some(b'k') => 1,
                Some(b'v') => 2,
                _ => 3,
            }
        }
        fn encode(node: &Node) -> Value {
            let mut map = Map::new();
            if node.member && !node.children.is_empty() {
                map.insert(".".to_string(), Value::Object(Map::new()));
            }
            for ((_, element), child) in &node.children {
                map.insert(element.clone(), encode(child));
            }
            Value::Object(map)
        }

        let mut root = Node::default();
        for path in &self.paths {
            let mut node = &mut root;
            for element in path {
                node = node
                    .children
                    .entry((rank(element), element.clone()))
                    .or_default();
            }
            node.member = true;
        }
        encode(&root)
    }

    /// Decodes `FieldsV1` JSON.
    ///
    /// # Errors
    ///
    /// A message naming the first node that is not a JSON object or whose key is not
    /// an encoded path element.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, String> {
        fn walk(value: &Value, path: &mut Path, set: &mut FieldSet) -> Result<(), String> {
            let Some(map) = value.as_object() else {
                return Err(format!("expected an object at {}", path.join(".")));
            };
            for (key, child) in map {
                if key == "." {
                    if !path.is_empty() {
                        set.insert(path.clone());
                    }
                    continue;
                }
                let valid =
                    key.len() > 2 && matches!(key.get(..2), Some("f:" | "k:" | "v:" | "i:"));
                if !valid {
                    return Err(format!("unknown path element {key:?}"));
                }
                path.push(key.clone());
                match child.as_object() {
                    Some(children) if children.is_empty() => set.insert(path.clone()),
                    Some(_) => walk(child, path, set)?,
                    None => return Err(format!("expected an object at {}", path.join("."))),
                }
                path.pop();
            }
            Ok(())
        }
        let mut set = FieldSet::new();
        walk(value, &mut Vec::new(), &mut set)?;
        Ok(set)
    }
}

/// Result of [`compare`]. No path is in more than one set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Paths present only in the new object.
    pub added: FieldSet,
    /// Paths of leaves present in both objects with different values.
    pub modified: FieldSet,
    /// Paths present only in the old object.
    pub removed: FieldSet,
}

impl Comparison {
    /// Returns whether the objects were equal.
    pub fn is_same(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }
}

/// Schema position of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    /// Nothing known: maps are walked, lists are atomic.
    Unknown,
    /// An object of the named OpenAPI definition.
    Type(&'static str),
    /// A map whose values are objects of the named definition.
    MapOf(&'static str),
}

/// Identity rule of a list's items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListKind {
    Atomic,
    Set,
    Keyed(&'static [&'static str]),
    /// Keyed by a single patch merge key (lists without a declared list type).
    MergeKey(&'static str),
}

/// Schema facts of one field.
#[derive(Clone, Copy, Debug)]
struct FieldSchema {
    node: Node,
    list: ListKind,
    atomic: bool,
}

/// Fields whose value upstream declares atomic (`+structType=atomic` or
/// `+mapType=atomic`), recognised by name wherever they appear.
// NOTE: recognised by field name, not by type: the built-in type table only follows
// types with patch metadata below them, so a field of an unlisted type is matched by
// name alone.
const ATOMIC_FIELDS: &[&str] = &[
    "configMapKeyRef",
    "configMapRef",
    "fieldRef",
    "labelSelector",
    "namespaceSelector",
    "nodeSelector",
    "podSelector",
    "resourceFieldRef",
    "roleRef",
    "secretKeyRef",
    "secretRef",
    "selector",
];

/// Fields that are non-pointer structs in upstream's Go types. Upstream compares a
/// new object against Go's zero value, where such a struct is present and empty, so
/// its own path is never reported as added.
const ALWAYS_PRESENT_STRUCTS: &[&str] = &[
    "daemonEndpoints",
    "jobTemplate",
    "loadBalancer",
    "metadata",
    "nodeInfo",
    "resources",
    "spec",
    "status",
    "strategy",
    "template",
    "updateStrategy",
];

/// List fields without `omitempty` in upstream's Go types: Go's zero value encodes
/// them as `null`, so, like [`ALWAYS_PRESENT_STRUCTS`], their own path is never added.
const ALWAYS_PRESENT_LISTS: &[&str] = &["containers"];

fn field_schema(parent: Node, field: &str) -> FieldSchema {
    let atomic = ATOMIC_FIELDS.contains(&field);
    let type_name = match parent {
        Node::Unknown => {
            return FieldSchema {
                node: Node::Unknown,
                list: ListKind::Atomic,
                atomic,
            };
        }
        Node::MapOf(value_type) => {
            return FieldSchema {
                node: Node::Type(value_type),
                list: ListKind::Atomic,
                atomic: false,
            };
        }
        Node::Type(type_name) => type_name,
    };
    let list = match merge_keys::patch_meta(type_name, field) {
        Some(meta) => match meta.list_type {
            Some(ListType::Map) if !meta.list_map_keys.is_empty() => {
                ListKind::Keyed(meta.list_map_keys)
            }
            Some(ListType::Set) => ListKind::Set,
            Some(_) => ListKind::Atomic,
            None if meta.patch_strategy.is_some_and(|s| s.contains("merge")) => {
                match meta.patch_merge_key {
                    Some(key) => ListKind::MergeKey(key),
                    None => ListKind::Set,
                }
            }
            None => ListKind::Atomic,
        },
        None => ListKind::Atomic,
    };
    let node = match merge_keys::field_type(type_name, field) {
        Some(entry) => match entry.shape {
            FieldShape::Object | FieldShape::List => Node::Type(entry.value_type),
            FieldShape::Map => Node::MapOf(entry.value_type),
        },
        None => Node::Unknown,
    };
    FieldSchema { node, list, atomic }
}

/// Compares two versions of an object of a built-in kind (`group` `""` for core).
/// Kinds the schema table does not know are walked without list keys: every list is
/// one leaf.
pub fn compare(group: &str, version: &str, kind: &str, old: &Value, new: &Value) -> Comparison {
    let node = merge_keys::root_type_for_kind(group, version, kind)
        .map(Node::Type)
        .unwrap_or(Node::Unknown);
    let schema = FieldSchema {
        node,
        list: ListKind::Atomic,
        atomic: false,
    };
    let mut comparison = Comparison::default();
    walk(
        &mut Vec::new(),
        Some(old),
        Some(new),
        schema,
        &mut comparison,
    );
    comparison
}

fn leaf(path: &[String], old: Option<&Value>, new: Option<&Value>, out: &mut Comparison) {
    match (old, new) {
        (None, Some(_)) => out.added.insert(path.to_vec()),
        (Some(_), None) => out.removed.insert(path.to_vec()),
        (Some(old), Some(new)) if old != new => out.modified.insert(path.to_vec()),
        _ => {}
    }
}

fn walk(
    path: &mut Path,
    old: Option<&Value>,
    new: Option<&Value>,
    schema: FieldSchema,
    out: &mut Comparison,
) {
    let is_map = |value: Option<&Value>| value.is_none_or(Value::is_object);
    let is_list = |value: Option<&Value>| value.is_none_or(Value::is_array);
    let present = old.or(new);

    let descended = match present {
        Some(Value::Object(_)) if !schema.atomic && is_map(old) && is_map(new) => {
            walk_map(path, old, new, schema.node, out)
        }
        Some(Value::Array(_)) if !schema.atomic && is_list(old) && is_list(new) => {
            walk_list(path, old, new, schema, out)
        }
        _ => false,
    };
    if !descended {
        leaf(path, old, new, out);
        return;
    }
    if path.is_empty() {
        return;
    }
    match (old, new) {
        (None, Some(_)) => out.added.insert(path.clone()),
        (Some(_), None) => out.removed.insert(path.clone()),
        _ => {}
    }
}

/// Walks the fields of two maps; returns false when both are empty (a leaf).
fn walk_map(
    path: &mut Path,
    old: Option<&Value>,
    new: Option<&Value>,
    node: Node,
    out: &mut Comparison,
) -> bool {
    let empty = Map::new();
    let old_map = old.and_then(Value::as_object);
    let new_map = new.and_then(Value::as_object);
    if old_map.is_none_or(Map::is_empty) && new_map.is_none_or(Map::is_empty) {
        return false;
    }
    let zero = (Value::Object(Map::new()), Value::Array(Vec::new()));
    fn side<'v>(
        map: Option<&'v Map<String, Value>>,
        other: Option<&Value>,
        key: &str,
        zero: &'v (Value, Value),
    ) -> Option<&'v Value> {
        let map = map?;
        match map.get(key) {
            Some(value) => Some(value),
            None if ALWAYS_PRESENT_STRUCTS.contains(&key)
                && other.is_some_and(Value::is_object) =>
            {
                Some(&zero.0)
            }
            None if ALWAYS_PRESENT_LISTS.contains(&key) && other.is_some_and(Value::is_array) => {
                Some(&zero.1)
            }
            None => None,
        }
    }

    let mut keys: Vec<&String> = old_map.unwrap_or(&empty).keys().collect();
    for key in new_map.unwrap_or(&empty).keys() {
        if !old_map.is_some_and(|map| map.contains_key(key)) {
            keys.push(key);
        }
    }
    for key in keys {
        let raw_old = old_map.and_then(|map| map.get(key));
        let raw_new = new_map.and_then(|map| map.get(key));
        let child_old = side(old_map, raw_new, key, &zero);
        let child_new = side(new_map, raw_old, key, &zero);
        path.push(format!("f:{key}"));
        walk(path, child_old, child_new, field_schema(node, key), out);
        path.pop();
    }
    true
}

/// Walks the items of two lists; returns false when the list is atomic or both are
/// empty (a leaf).
fn walk_list(
    path: &mut Path,
    old: Option<&Value>,
    new: Option<&Value>,
    schema: FieldSchema,
    out: &mut Comparison,
) -> bool {
    let empty = Vec::new();
    let old_items = old.and_then(Value::as_array).unwrap_or(&empty);
    let new_items = new.and_then(Value::as_array).unwrap_or(&empty);
    if schema.list == ListKind::Atomic || (old_items.is_empty() && new_items.is_empty()) {
        return false;
    }

    let index = |items: &[Value]| -> Vec<(String, Option<Value>)> {
        let mut seen = BTreeMap::new();
        for (position, item) in items.iter().enumerate() {
            let element = item_element(schema.list, position, item);
            seen.entry(element)
                .and_modify(|slot: &mut (usize, Option<Value>)| slot.1 = None)
                .or_insert((position, Some(item.clone())));
        }
        let mut ordered: Vec<(usize, String, Option<Value>)> = seen
            .into_iter()
            .map(|(element, (position, item))| (position, element, item))
            .collect();
        ordered.sort_by_key(|entry| entry.0);
        ordered
            .into_iter()
            .map(|(_, element, item)| (element, item))
            .collect()
    };
    let old_index = index(old_items);
    let new_index = index(new_items);
    let item_schema = FieldSchema {
        node: schema.node,
        list: ListKind::Atomic,
        atomic: matches!(schema.list, ListKind::Set),
    };

    let mut elements: Vec<&String> = old_index.iter().map(|(element, _)| element).collect();
    for (element, _) in &new_index {
        if !old_index.iter().any(|(other, _)| other == element) {
            elements.push(element);
        }
    }
    for element in elements {
        let old_item = old_index.iter().find(|(other, _)| other == element);
        let new_item = new_index.iter().find(|(other, _)| other == element);
        path.push(element.clone());
        match (old_item, new_item) {
            // Duplicate keys: the items count as one changed leaf.
            (Some((_, None)), _) | (_, Some((_, None))) => {
                out.modified.insert(path.clone());
            }
            _ => walk(
                path,
                old_item.and_then(|(_, item)| item.as_ref()),
                new_item.and_then(|(_, item)| item.as_ref()),
                item_schema,
                out,
            ),
        }
        path.pop();
    }
    true
}

/// Encodes the path element of a list item.
fn item_element(list: ListKind, position: usize, item: &Value) -> String {
    let keys: &[&str] = match list {
        ListKind::Keyed(keys) => keys,
        ListKind::MergeKey(key) => &[key][..],
        ListKind::Set => {
            return format!("v:{}", serde_json::to_string(item).unwrap_or_default());
        }
        ListKind::Atomic => return format!("i:{position}"),
    };
    let Some(object) = item.as_object() else {
        return format!("i:{position}");
    };
    let mut sorted: Vec<&str> = keys.to_vec();
    sorted.sort_unstable();
    let mut key = Map::new();
    for name in sorted {
        if let Some(value) = object.get(name) {
            key.insert(name.to_string(), value.clone());
        }
    }
    if key.is_empty() {
        return format!("i:{position}");
    }
    format!(
        "k:{}",
        serde_json::to_string(&Value::Object(key)).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(elements: &[&str]) -> Path {
        elements.iter().map(|element| element.to_string()).collect()
    }

    #[test]
    fn fields_v1_round_trips_with_dot_for_members_with_children() {
        let mut set = FieldSet::new();
        set.insert(path(&["f:metadata", "f:labels"]));
        set.insert(path(&["f:metadata", "f:labels", "f:app"]));
        set.insert(path(&["f:spec", "f:replicas"]));
        let encoded = set.to_fields_v1();
        assert_eq!(
            encoded,
            json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:spec": {"f:replicas": {}}})
        );
        assert_eq!(FieldSet::from_fields_v1(&encoded), Ok(set));
        assert!(FieldSet::from_fields_v1(&json!({"x": {}})).is_err());
        assert!(FieldSet::from_fields_v1(&json!({"f:a": 1})).is_err());
        assert!(FieldSet::from_fields_v1(&json!({"fé": {}})).is_err());
    }

    #[test]
    fn compare_on_create_reports_keyed_items_and_leaves() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "labels": {"run": "p"}},
            "spec": {
                "containers": [{"name": "c", "image": "busybox", "resources": {},
                                "ports": [{"containerPort": 80, "protocol": "TCP"}]}],
                "nodeSelector": {"disk": "ssd"},
                "dnsPolicy": "ClusterFirst"
            }
        });
        let comparison = compare("", "v1", "Pod", &json!({}), &pod);
        let added = comparison.added;
        assert!(added.contains(&path(&["f:metadata", "f:labels"])));
        assert!(added.contains(&path(&["f:metadata", "f:labels", "f:run"])));
        assert!(
            !added.contains(&path(&["f:spec"])),
            "spec is always present"
        );
        let container = r#"k:{"name":"c"}"#;
        assert!(!added.contains(&path(&["f:spec", "f:containers"])));
        assert!(added.contains(&path(&["f:spec", "f:containers", container])));
        assert!(added.contains(&path(&["f:spec", "f:containers", container, "f:image"])));
        assert!(added.contains(&path(&["f:spec", "f:containers", container, "f:resources"])));
        let port = r#"k:{"containerPort":80,"protocol":"TCP"}"#;
        assert!(added.contains(&path(&[
            "f:spec",
            "f:containers",
            container,
            "f:ports",
            port,
            "f:protocol"
        ])));
        assert!(added.contains(&path(&["f:spec", "f:nodeSelector"])));
        assert!(!added.contains(&path(&["f:spec", "f:nodeSelector", "f:disk"])));
    }

    #[test]
    fn compare_on_update_reports_modified_and_removed() {
        let old = json!({"metadata": {"labels": {"a": "1", "b": "2"}},
                         "spec": {"finalizers": ["x"], "containers": [{"name": "c", "image": "one"}]}});
        let new = json!({"metadata": {"labels": {"a": "9"}},
                         "spec": {"finalizers": ["x", "y"], "containers": [{"name": "c", "image": "two"}]}});
        let comparison = compare("", "v1", "Pod", &old, &new);
        assert!(
            comparison
                .modified
                .contains(&path(&["f:metadata", "f:labels", "f:a"]))
        );
        assert!(
            comparison
                .removed
                .contains(&path(&["f:metadata", "f:labels", "f:b"]))
        );
        assert!(comparison.modified.contains(&path(&[
            "f:spec",
            "f:containers",
            r#"k:{"name":"c"}"#,
            "f:image"
        ])));
        assert!(comparison.is_same() == (old == new));
        let same = compare("", "v1", "Pod", &old, &old);
        assert!(same.is_same());
    }

    #[test]
    fn recursive_difference_drops_paths_below_prefixes() {
        let mut set = FieldSet::new();
        set.insert(path(&["f:status", "f:phase"]));
        set.insert(path(&["f:spec", "f:x"]));
        let mut ignored = FieldSet::new();
        ignored.insert(path(&["f:status"]));
        let rest = set.recursive_difference(&ignored);
        assert!(rest.contains(&path(&["f:spec", "f:x"])));
        assert!(!rest.contains(&path(&["f:status", "f:phase"])));

        let mut in_place = set.clone();
        in_place.remove_under(&ignored);
        assert_eq!(in_place, rest);
    }

    #[test]
    fn in_place_operations_match_the_copying_ones() {
        let set = |paths: &[&[&str]]| {
            let mut set = FieldSet::new();
            for elements in paths {
                set.insert(path(elements));
            }
            set
        };
        let big = set(&[&["f:a"], &["f:b"], &["f:c", "f:d"], &["f:e"]]);
        let small = set(&[&["f:b"], &["f:c", "f:d"], &["f:z"]]);
        for (left, right) in [(&big, &small), (&small, &big)] {
            let mut removed = left.clone();
            removed.remove_all(right);
            assert_eq!(removed, left.difference(right));
            let mut joined = left.clone();
            joined.absorb(right.clone());
            assert_eq!(joined, left.union(right));
        }
        let mut into_empty = FieldSet::new();
        into_empty.absorb(big.clone());
        assert_eq!(into_empty, big);
    }
}
