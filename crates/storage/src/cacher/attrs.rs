//! Compact, read-only string maps for what the cacher keeps of each object: its
//! labels, its selectable fields and its index values.
//!
//! The objects of one resource mostly have the same field names, and often the same
//! label names, so a [`StringMap`] keeps its names in a list shared through a
//! [`NameInterner`] and its values in one allocation of its own. A pod's ten fields
//! and two labels then take two pointers and two small allocations, where two
//! `BTreeMap<String, String>` took about 2 KiB.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use super::object::ObjectAttrs;

/// A read-only map from names to values in compact form. One name may appear more
/// than once (index values keep one entry per value); [`StringMap::get`] returns the
/// first.
#[derive(Clone)]
pub struct StringMap {
    names: Arc<NameList>,
    values: PackedValues,
}

impl StringMap {
    /// Builds a map of `pairs`, in the order given, with its name list taken from
    /// `interner`.
    pub(crate) fn from_pairs<'a, I>(interner: &NameInterner, pairs: I) -> StringMap
    where
        I: Iterator<Item = (&'a str, &'a str)> + Clone,
    {
        StringMap {
            names: interner.intern(pairs.clone().map(|(name, _)| name)),
            values: PackedValues::pack(pairs.map(|(_, value)| value)),
        }
    }

    /// Returns a map without entries.
    pub(crate) fn empty() -> StringMap {
        StringMap {
            names: Arc::new(NameList(Box::default())),
            values: PackedValues::default(),
        }
    }

    /// Returns the value of the first entry named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        let position = self.names.0.iter().position(|entry| &**entry == name)?;
        Some(self.values.get(position, self.len()))
    }

    /// Returns the values of every entry named `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.iter()
            .filter(move |(entry, _)| *entry == name)
            .map(|(_, value)| value)
    }

    /// Returns whether an entry named `name` exists.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Returns the entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.names
            .0
            .iter()
            .enumerate()
            .map(|(position, name)| (&**name, self.values.get(position, self.len())))
    }

    /// Returns the number of entries.
    pub fn len(&self) -> usize {
        self.names.0.len()
    }

    /// Returns whether the map has no entry.
    pub fn is_empty(&self) -> bool {
        self.names.0.is_empty()
    }
}

impl fmt::Debug for StringMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialEq for StringMap {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for StringMap {}

/// Looks a value up as `BTreeMap` indexing does.
///
/// # Panics
/// When no entry is named `name`.
impl std::ops::Index<&str> for StringMap {
    type Output = str;

    fn index(&self, name: &str) -> &str {
        match self.get(name) {
            Some(value) => value,
            None => panic!("no entry named {name:?} in the map"),
        }
    }
}

impl apimachinery::labels::Labels for StringMap {
    fn get(&self, key: &str) -> Option<&str> {
        StringMap::get(self, key)
    }
}

impl apimachinery::fields::Fields for StringMap {
    fn get(&self, field: &str) -> Option<&str> {
        StringMap::get(self, field)
    }
}

/// The labels and fields of a cached object, as label and field selectors see
/// them. Built from the [`ObjectAttrs`] the resource's attribute function returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedAttrs {
    pub labels: StringMap,
    pub fields: StringMap,
}

impl CachedAttrs {
    pub(crate) fn new(interner: &NameInterner, attrs: &ObjectAttrs) -> CachedAttrs {
        let pairs = |map: &'_ std::collections::BTreeMap<String, String>| {
            StringMap::from_pairs(
                interner,
                map.iter()
                    .map(|(name, value)| (name.as_str(), value.as_str())),
            )
        };
        CachedAttrs {
            labels: pairs(&attrs.labels),
            fields: pairs(&attrs.fields),
        }
    }

    /// Returns attributes with no label and no field.
    pub fn empty() -> CachedAttrs {
        CachedAttrs {
            labels: StringMap::empty(),
            fields: StringMap::empty(),
        }
    }
}

/// The names of a [`StringMap`], shared by every map with the same names.
#[derive(PartialEq, Eq)]
struct NameList(Box<[Box<str>]>);

/// Values in one allocation: a width byte (2 or 4), one little-endian end offset
/// of that width per value, then the values' UTF-8 bytes. Empty when every value
/// is empty, which then takes no allocation.
#[derive(Clone, Default)]
struct PackedValues(Box<[u8]>);

impl PackedValues {
    fn pack<'a>(values: impl Iterator<Item = &'a str> + Clone) -> PackedValues {
        let count = values.clone().count();
        let total: usize = values.clone().map(str::len).sum();
        if total == 0 {
            return PackedValues::default();
        }
        let width = if total <= usize::from(u16::MAX) { 2 } else { 4 };
        let mut packed = Vec::with_capacity(1 + count * width + total);
        packed.push(width as u8);
        let mut end = 0usize;
        for value in values.clone() {
            end += value.len();
            // NOTE: a value set above 4 GiB would wrap here; objects are limited to
            // a few MiB by the storage layer's value size check.
            let bytes = (end as u32).to_le_bytes();
            packed.extend_from_slice(&bytes[..width]);
        }
        for value in values {
            packed.extend_from_slice(value.as_bytes());
        }
        PackedValues(packed.into_boxed_slice())
    }

    /// Returns the value at `position` of `count` values; "" past the end or when
    /// every value is empty.
    fn get(&self, position: usize, count: usize) -> &str {
        let Some(&width) = self.0.first() else {
            return "";
        };
        let width = usize::from(width);
        let end_at = |position: usize| -> usize {
            let start = 1 + position * width;
            let mut buffer = [0u8; 4];
            if let Some(bytes) = self.0.get(start..start + width) {
                buffer[..width].copy_from_slice(bytes);
            }
            u32::from_le_bytes(buffer) as usize
        };
        if position >= count {
            return "";
        }
        let begin = if position == 0 {
            0
        } else {
            end_at(position - 1)
        };
        let end = end_at(position);
        let data = self.0.get(1 + count * width..).unwrap_or_default();
        // The bytes were copied from `&str` values at the boundaries the offsets
        // mark, so each slice is valid UTF-8.
        data.get(begin..end)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or_default()
    }
}

/// Shares the name lists of [`StringMap`]s: maps with the same names in the same
/// order get the same list. Lists no map uses any more are dropped when the
/// interner has doubled in size since its last sweep.
pub(crate) struct NameInterner {
    state: Mutex<InternerState>,
}

struct InternerState {
    lists: HashMap<u64, Vec<Arc<NameList>>>,
    len: usize,
    sweep_at: usize,
}

/// Number of lists below which the interner never sweeps.
const MIN_SWEEP_AT: usize = 1024;

impl Default for NameInterner {
    fn default() -> Self {
        NameInterner {
            state: Mutex::new(InternerState {
                lists: HashMap::new(),
                len: 0,
                sweep_at: MIN_SWEEP_AT,
            }),
        }
    }
}

impl NameInterner {
    fn intern<'a>(&self, names: impl Iterator<Item = &'a str> + Clone) -> Arc<NameList> {
        let mut hasher = DefaultHasher::new();
        for name in names.clone() {
            name.hash(&mut hasher);
        }
        let hash = hasher.finish();

        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(list) = state.lists.get(&hash).and_then(|lists| {
            lists
                .iter()
                .find(|list| list.0.iter().map(|name| &**name).eq(names.clone()))
        }) {
            return list.clone();
        }

        let list = Arc::new(NameList(names.map(Box::from).collect()));
        state.lists.entry(hash).or_default().push(list.clone());
        state.len += 1;
        if state.len >= state.sweep_at {
            state.sweep();
        }
        list
    }
}

impl InternerState {
    /// Drops the lists only the interner still holds.
    fn sweep(&mut self) {
        self.lists.retain(|_, lists| {
            lists.retain(|list| Arc::strong_count(list) > 1);
            !lists.is_empty()
        });
        self.len = self.lists.values().map(Vec::len).sum();
        self.sweep_at = (self.len * 2).max(MIN_SWEEP_AT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(interner: &NameInterner, pairs: &[(&str, &str)]) -> StringMap {
        StringMap::from_pairs(interner, pairs.iter().copied())
    }

    #[test]
    fn get_returns_each_value() {
        let interner = NameInterner::default();
        let long = "x".repeat(70_000);
        // (entries, lookups with expected values)
        type Entries<'a> = Vec<(&'a str, &'a str)>;
        type Lookups<'a> = Vec<(&'a str, Option<&'a str>)>;
        let cases: Vec<(Entries, Lookups)> = vec![
            (vec![], vec![("a", None)]),
            (vec![("a", "")], vec![("a", Some("")), ("b", None)]),
            (
                vec![("a", ""), ("b", "two"), ("c", ""), ("d", "four")],
                vec![
                    ("a", Some("")),
                    ("b", Some("two")),
                    ("c", Some("")),
                    ("d", Some("four")),
                    ("e", None),
                ],
            ),
            (
                vec![("a", "ü"), ("b", &long), ("c", "end")],
                vec![("a", Some("ü")), ("b", Some(&long)), ("c", Some("end"))],
            ),
        ];
        for (entries, lookups) in cases {
            let built = map(&interner, &entries);
            assert_eq!(built.len(), entries.len());
            assert_eq!(built.iter().collect::<Vec<_>>(), entries);
            for (name, expected) in lookups {
                assert_eq!(built.get(name), expected, "{name} in {entries:?}");
            }
        }
    }

    #[test]
    fn get_all_returns_repeated_names() {
        let interner = NameInterner::default();
        let built = map(&interner, &[("node", "a"), ("node", "b"), ("zone", "z")]);
        assert_eq!(built.get_all("node").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(built.get("node"), Some("a"));
        assert_eq!(built.get_all("other").count(), 0);
    }

    #[test]
    fn same_names_share_one_list() {
        let interner = NameInterner::default();
        let first = map(&interner, &[("app", "web"), ("tier", "front")]);
        let second = map(&interner, &[("app", "db"), ("tier", "back")]);
        let other = map(&interner, &[("app", "db")]);
        assert!(Arc::ptr_eq(&first.names, &second.names));
        assert!(!Arc::ptr_eq(&first.names, &other.names));
        assert_eq!(second["app"], *"db");
    }

    #[test]
    fn interner_sweeps_unused_lists() {
        let interner = NameInterner::default();
        let kept = map(&interner, &[("kept", "1")]);
        for index in 0..3 * MIN_SWEEP_AT {
            let name = format!("name-{index}");
            drop(map(&interner, &[(name.as_str(), "v")]));
        }
        let state = interner.state.lock().unwrap();
        assert!(state.len < 2 * MIN_SWEEP_AT, "{} lists kept", state.len);
        drop(state);
        let again = map(&interner, &[("kept", "2")]);
        assert!(Arc::ptr_eq(&kept.names, &again.names));
    }
}
