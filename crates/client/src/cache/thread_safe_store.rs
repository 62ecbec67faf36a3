//! The thread-safe store: objects by key plus the indices named index functions build
//! over them.
//!
//! [`ThreadSafeStore`] does not compute keys itself. The [`Indexer`](super::Indexer)
//! wraps it with a key function, and that is what informers use.
//!
//! A store given a [`Packer`](super::Packer) keeps each object as the bytes the packer makes of it
//! and rebuilds the object on every read. A decoded pod takes about seven times the
//! memory of its JSON, so a packed cache of a large cluster takes a fraction of the
//! memory, at the price of a decode per object read.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::CacheError;
use super::index::{Index, IndexFunc, Indexers, Indices};
use super::packer::{ObjectSummary, Packer};

/// The indexed values of one object, one entry per index name.
type IndexValues = Vec<(String, Vec<String>)>;

/// A map from key to object whose indices every write keeps current. All methods take
/// `&self` and may be called from many tasks at once.
pub struct ThreadSafeStore<T> {
    state: RwLock<State<T>>,
}

struct State<T> {
    items: HashMap<String, Slot<T>>,
    indexers: Indexers<T>,
    indices: Indices,
    packer: Option<Arc<dyn Packer<T>>>,
}

/// The storage of one object: decoded, or packed with its summary.
enum Slot<T> {
    Object(T),
    Packed {
        bytes: Box<[u8]>,
        summary: Option<Box<ObjectSummary>>,
    },
}

/// The objects a filtered read looks at.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// Every stored object.
    All,
    /// The objects filed under the value (second) of the index (first).
    Indexed(&'a str, &'a str),
}

/// The previous object under a key, as far as its index entries are concerned.
enum Previous<'a, T> {
    Nothing,
    Object(&'a T),
    /// A packed object that no longer unpacks: its index values are unknown.
    Unreadable,
}

impl<T: Clone + Send + Sync + 'static> ThreadSafeStore<T> {
    /// Creates an empty store that maintains one index per entry of `indexers`.
    pub fn new(indexers: Indexers<T>) -> Self {
        Self {
            state: RwLock::new(State {
                items: HashMap::new(),
                indexers,
                indices: Indices::new(),
                packer: None,
            }),
        }
    }

    /// Keeps objects packed by `packer` from now on, and packs those already stored.
    pub fn set_packer(&self, packer: Arc<dyn Packer<T>>) {
        let mut state = self.write();
        let items = std::mem::take(&mut state.items);
        let mut repacked = HashMap::with_capacity(items.len());
        for (key, slot) in items {
            let slot = match slot {
                Slot::Object(obj) => pack(packer.as_ref(), &key, obj),
                packed @ Slot::Packed { .. } => packed,
            };
            repacked.insert(key, slot);
        }
        state.items = repacked;
        state.packer = Some(packer);
    }

    /// Returns true when objects are kept packed.
    pub fn is_packed(&self) -> bool {
        self.read().packer.is_some()
    }

    /// Stores `obj` under `key`, replacing any object there, and moves the key to the
    /// new object's index values.
    ///
    /// # Errors
    ///
    /// [`CacheError::IndexFunc`] when an index function fails on `obj`. The store is
    /// unchanged then (upstream panics instead).
    pub fn add(&self, key: &str, obj: T) -> Result<(), CacheError> {
        self.upsert(key, obj).map(|_| ())
    }

    /// Stores `obj` under `key` as [`ThreadSafeStore::add`] does and returns the
    /// object it replaced, read under the same lock.
    ///
    /// # Errors
    ///
    /// As [`ThreadSafeStore::add`].
    pub fn upsert(&self, key: &str, obj: T) -> Result<Option<T>, CacheError> {
        let mut state = self.write();
        let values = state.index_values(key, &obj)?;
        let slot = state.slot_for(key, obj);
        let old = match state.items.get_mut(key) {
            Some(held) => Some(std::mem::replace(held, slot)),
            None => state.items.insert(key.to_string(), slot),
        };
        let old = old.map(|slot| state.unslot(key, slot));
        let previous = match &old {
            None => Previous::Nothing,
            Some(Some(obj)) => Previous::Object(obj),
            Some(None) => Previous::Unreadable,
        };
        state.update_indices(previous, key, values);
        Ok(old.flatten())
    }

    /// Same as [`ThreadSafeStore::add`].
    ///
    /// # Errors
    ///
    /// As [`ThreadSafeStore::add`].
    pub fn update(&self, key: &str, obj: T) -> Result<(), CacheError> {
        self.add(key, obj)
    }

    /// Removes the object under `key` and its index entries. A missing key is a no-op.
    pub fn delete(&self, key: &str) {
        let mut state = self.write();
        if let Some(old) = state.items.remove(key) {
            match state.unslot(key, old) {
                Some(old) => state.delete_from_indices(&old, key),
                None => {
                    for index in state.indices.values_mut() {
                        remove_key_everywhere(index, key);
                    }
                }
            }
        }
    }

    /// Returns a copy of the object stored under `key`.
    pub fn get(&self, key: &str) -> Option<T> {
        let state = self.read();
        state
            .items
            .get(key)
            .and_then(|slot| state.read_slot(key, slot))
    }

    /// Returns copies of all objects, in no particular order.
    pub fn list(&self) -> Vec<T> {
        let state = self.read();
        state
            .items
            .iter()
            .filter_map(|(key, slot)| state.read_slot(key, slot))
            .collect()
    }

    /// Returns copies of the objects in `scope` that pass `select`. A packed object
    /// with a summary is skipped without decoding when `select_summary` rejects it;
    /// `select` must accept no object whose summary `select_summary` rejects.
    ///
    /// # Errors
    ///
    /// [`CacheError::IndexNotFound`] for an unknown index.
    pub fn filter(
        &self,
        scope: Scope<'_>,
        select_summary: &dyn Fn(&ObjectSummary) -> bool,
        select: &dyn Fn(&T) -> bool,
    ) -> Result<Vec<T>, CacheError> {
        let state = self.read();
        let pick = |key: &String, slot: &Slot<T>| {
            if let Slot::Packed {
                summary: Some(summary),
                ..
            } = slot
                && !select_summary(summary)
            {
                return None;
            }
            state.read_slot(key, slot).filter(|obj| select(obj))
        };
        match scope {
            Scope::All => Ok(state
                .items
                .iter()
                .filter_map(|(key, slot)| pick(key, slot))
                .collect()),
            Scope::Indexed(index_name, value) => {
                state.index_func(index_name)?;
                let Some(keys) = state
                    .indices
                    .get(index_name)
                    .and_then(|index| index.get(value))
                else {
                    return Ok(Vec::new());
                };
                Ok(keys
                    .iter()
                    .filter_map(|key| state.items.get(key).and_then(|slot| pick(key, slot)))
                    .collect())
            }
        }
    }

    /// Returns all keys, in no particular order.
    pub fn list_keys(&self) -> Vec<String> {
        self.read().items.keys().cloned().collect()
    }

    /// Replaces the whole contents with `items` and rebuilds every index from scratch.
    /// `resource_version` is accepted for symmetry with upstream and not stored.
    ///
    /// # Errors
    ///
    /// [`CacheError::IndexFunc`] when an index function fails on one of `items`. The
    /// store is unchanged then.
    pub fn replace(
        &self,
        items: HashMap<String, T>,
        _resource_version: &str,
    ) -> Result<(), CacheError> {
        let mut state = self.write();

        let mut all_values = Vec::with_capacity(items.len());
        for (key, obj) in &items {
            all_values.push((key.clone(), state.index_values(key, obj)?));
        }

        let mut slots = HashMap::with_capacity(items.len());
        for (key, obj) in items {
            let slot = state.slot_for(&key, obj);
            slots.insert(key, slot);
        }
        state.items = slots;
        state.indices = Indices::new();
        for (key, values) in all_values {
            state.update_indices(Previous::Nothing, &key, values);
        }
        Ok(())
    }

    /// Returns the objects that share at least one value of index `index_name` with
    /// `obj`. `obj` itself need not be stored.
    ///
    /// # Errors
    ///
    /// [`CacheError::IndexNotFound`] for an unknown index, [`CacheError::IndexValues`]
    /// when the index function fails on `obj`.
    pub fn index(&self, index_name: &str, obj: &T) -> Result<Vec<T>, CacheError> {
        let state = self.read();
        let index_func = state.index_func(index_name)?;
        let values = index_func(obj).map_err(|reason| CacheError::IndexValues {
            index: index_name.to_string(),
            reason,
        })?;

        let mut keys = BTreeSet::new();
        if let Some(index) = state.indices.get(index_name) {
            for value in &values {
                if let Some(set) = index.get(value) {
                    keys.extend(set.iter().cloned());
                }
            }
        }
        Ok(state.objects_for(keys.iter()))
    }

    /// Returns the sorted keys of the objects whose index `index_name` contains
    /// `indexed_value`.
    ///
    /// # Errors
    ///
    /// [`CacheError::IndexNotFound`] for an unknown index.
    pub fn index_keys(
        &self,
        index_name: &str,
        indexed_value: &str,
    ) -> Result<Vec<String>, CacheError> {
        let state = self.read();
        state.index_func(index_name)?;
        Ok(state
            .indices
            .get(index_name)
            .and_then(|index| index.get(indexed_value))
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default())
    }

    /// Returns every value index `index_name` currently holds, in no particular order,
    /// or nothing for an unknown index.
    pub fn list_index_func_values(&self, index_name: &str) -> Vec<String> {
        self.read()
            .indices
            .get(index_name)
            .map(|index| index.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Returns the objects whose index `index_name` contains `indexed_value`, ordered
    /// by key.
    ///
    /// # Errors
    ///
    /// [`CacheError::IndexNotFound`] for an unknown index.
    pub fn by_index(&self, index_name: &str, indexed_value: &str) -> Result<Vec<T>, CacheError> {
        let state = self.read();
        state.index_func(index_name)?;
        let Some(set) = state
            .indices
            .get(index_name)
            .and_then(|index| index.get(indexed_value))
        else {
            return Ok(Vec::new());
        };
        Ok(state.objects_for(set.iter()))
    }

    /// Returns a copy of the indexers map.
    pub fn get_indexers(&self) -> Indexers<T> {
        self.read().indexers.clone()
    }

    /// Adds more index functions. Only an empty store accepts them, because existing
    /// objects would not be indexed.
    ///
    /// # Errors
    ///
    /// [`CacheError::IndexersAfterItems`] when the store contains objects,
    /// [`CacheError::IndexerConflict`] when a name is already taken.
    pub fn add_indexers(&self, new_indexers: Indexers<T>) -> Result<(), CacheError> {
        let mut state = self.write();
        if !state.items.is_empty() {
            return Err(CacheError::IndexersAfterItems);
        }

        let mut conflicts: Vec<String> = new_indexers
            .keys()
            .filter(|name| state.indexers.contains_key(*name))
            .cloned()
            .collect();
        if !conflicts.is_empty() {
            conflicts.sort();
            return Err(CacheError::IndexerConflict { names: conflicts });
        }

        state.indexers.extend(new_indexers);
        Ok(())
    }

    /// Does nothing: a local store has nothing to resynchronize.
    pub fn resync(&self) {}

    fn read(&self) -> RwLockReadGuard<'_, State<T>> {
        // Every write leaves the state consistent before it can panic, so a poisoned
        // lock still guards valid data.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State<T>> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> State<T> {
    fn index_func(&self, index_name: &str) -> Result<&IndexFunc<T>, CacheError> {
        self.indexers
            .get(index_name)
            .ok_or_else(|| CacheError::IndexNotFound {
                name: index_name.to_string(),
            })
    }

    fn objects_for<'a>(&self, keys: impl Iterator<Item = &'a String>) -> Vec<T>
    where
        T: Clone,
    {
        keys.filter_map(|key| {
            self.items
                .get(key)
                .and_then(|slot| self.read_slot(key, slot))
        })
        .collect()
    }

    /// Wraps `obj` for storing: packed when the store packs and packing works.
    fn slot_for(&self, key: &str, obj: T) -> Slot<T> {
        match &self.packer {
            Some(packer) => pack(packer.as_ref(), key, obj),
            None => Slot::Object(obj),
        }
    }

    /// Returns a copy of the object `slot` holds, or `None` when it does not unpack.
    fn read_slot(&self, key: &str, slot: &Slot<T>) -> Option<T>
    where
        T: Clone,
    {
        match slot {
            Slot::Object(obj) => Some(obj.clone()),
            Slot::Packed { bytes, .. } => self.unpack(key, bytes),
        }
    }

    /// Returns the object `slot` holds, or `None` when it does not unpack.
    fn unslot(&self, key: &str, slot: Slot<T>) -> Option<T> {
        match slot {
            Slot::Object(obj) => Some(obj),
            Slot::Packed { bytes, .. } => self.unpack(key, &bytes),
        }
    }

    fn unpack(&self, key: &str, bytes: &[u8]) -> Option<T> {
        let packer = self.packer.as_ref()?;
        match packer.unpack(bytes) {
            Ok(obj) => Some(obj),
            Err(reason) => {
                tracing::error!(key, %reason, "a packed object in the cache does not unpack; skipping it");
                None
            }
        }
    }

    /// Computes the values of every index for `obj` before anything is changed, so a
    /// failing index function leaves the store as it was.
    fn index_values(&self, key: &str, obj: &T) -> Result<IndexValues, CacheError> {
        let mut values = Vec::with_capacity(self.indexers.len());
        for (name, index_func) in &self.indexers {
            let indexed = index_func(obj).map_err(|reason| CacheError::IndexFunc {
                key: key.to_string(),
                index: name.clone(),
                reason,
            })?;
            values.push((name.clone(), indexed));
        }
        Ok(values)
    }

    /// Moves `key` from the index values of `old` (when there was an object before) to
    /// the precomputed `values` of the new object. Values that both share keep their
    /// entry untouched, so the usual update, which changes no indexed field, stores
    /// no new key copies.
    fn update_indices(&mut self, old: Previous<'_, T>, key: &str, values: IndexValues) {
        for (name, new_values) in values {
            let old_values = match (&old, self.indexers.get(&name)) {
                (Previous::Object(old), Some(index_func)) => {
                    Some(stored_values(index_func, &name, old, key))
                }
                (Previous::Unreadable, _) => Some(None),
                _ => None,
            };
            let index = self.indices.entry(name).or_default();
            let old_values = match old_values {
                None => Vec::new(),
                Some(Some(old_values)) => old_values,
                Some(None) => {
                    remove_key_everywhere(index, key);
                    Vec::new()
                }
            };

            for value in old_values
                .iter()
                .filter(|value| !new_values.contains(value))
            {
                remove_key(index, value, key);
            }
            for value in new_values {
                if !old_values.contains(&value) {
                    index.entry(value).or_default().insert(key.to_string());
                }
            }
        }
    }

    /// Removes `key` from the index entries of `obj`, dropping sets that become empty
    /// so short-lived values do not pile up.
    fn delete_from_indices(&mut self, obj: &T, key: &str) {
        for (name, index_func) in &self.indexers {
            let Some(index) = self.indices.get_mut(name) else {
                continue;
            };
            match stored_values(index_func, name, obj, key) {
                Some(values) => {
                    for value in values {
                        remove_key(index, &value, key);
                    }
                }
                None => remove_key_everywhere(index, key),
            }
        }
    }
}

/// Returns the values `index_func` (of index `name`) gives the stored object `obj`,
/// or `None` when it now fails on it. It succeeded when the object was stored, so the
/// function is not deterministic, and the caller must scan the index instead.
fn stored_values<T>(
    index_func: &IndexFunc<T>,
    name: &str,
    obj: &T,
    key: &str,
) -> Option<Vec<String>> {
    match index_func(obj) {
        Ok(values) => Some(values),
        Err(reason) => {
            tracing::warn!(key, index = %name, %reason, "index function failed on a stored object; scanning the index");
            None
        }
    }
}

/// Packs `obj` with `packer`, or keeps it as it is when packing fails.
fn pack<T>(packer: &dyn Packer<T>, key: &str, obj: T) -> Slot<T> {
    match packer.pack(&obj) {
        Ok(bytes) => Slot::Packed {
            bytes: bytes.into_boxed_slice(),
            summary: packer.summarize(&obj).map(Box::new),
        },
        Err(reason) => {
            tracing::warn!(key, %reason, "cannot pack an object for the cache; keeping it unpacked");
            Slot::Object(obj)
        }
    }
}

/// Removes `key` from every set of `index`, for when its values are unknown.
fn remove_key_everywhere(index: &mut Index, key: &str) {
    let values: Vec<String> = index
        .iter()
        .filter(|(_, set)| set.contains(key))
        .map(|(value, _)| value.clone())
        .collect();
    for value in values {
        remove_key(index, &value, key);
    }
}

fn remove_key(index: &mut Index, value: &str, key: &str) {
    if let Some(set) = index.get_mut(value) {
        set.remove(key);
        if set.is_empty() {
            index.remove(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Objects are `(name, labels)`; the "label" index maps each label to its objects.
    type Labeled = (String, Vec<String>);

    fn store() -> ThreadSafeStore<Labeled> {
        let mut indexers: Indexers<Labeled> = Indexers::new();
        indexers.insert(
            "label".to_string(),
            Arc::new(|obj: &Labeled| Ok(obj.1.clone())),
        );
        ThreadSafeStore::new(indexers)
    }

    /// Packs `(name, labels)` as `name:label,label`. A name `unpackable` fails to
    /// pack; `broken` makes every unpack fail.
    #[derive(Default)]
    struct LinePacker {
        broken: std::sync::atomic::AtomicBool,
    }

    impl Packer<Labeled> for LinePacker {
        fn pack(&self, obj: &Labeled) -> Result<Vec<u8>, String> {
            if obj.0 == "unpackable" {
                return Err("refused".to_string());
            }
            Ok(format!("{}:{}", obj.0, obj.1.join(",")).into_bytes())
        }

        fn unpack(&self, bytes: &[u8]) -> Result<Labeled, String> {
            if self.broken.load(std::sync::atomic::Ordering::SeqCst) {
                return Err("broken".to_string());
            }
            let line = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
            let (name, labels) = line.split_once(':').ok_or("no colon")?;
            let labels = labels
                .split(',')
                .filter(|label| !label.is_empty())
                .map(str::to_string)
                .collect();
            Ok((name.to_string(), labels))
        }
    }

    /// The plain store and a packed one, for tests that must hold for both.
    fn both_stores() -> [(&'static str, ThreadSafeStore<Labeled>); 2] {
        let packed = store();
        packed.set_packer(Arc::new(LinePacker::default()));
        [("plain", store()), ("packed", packed)]
    }

    fn obj(name: &str, labels: &[&str]) -> Labeled {
        (
            name.to_string(),
            labels.iter().map(|label| label.to_string()).collect(),
        )
    }

    fn sorted(mut values: Vec<String>) -> Vec<String> {
        values.sort();
        values
    }

    #[test]
    fn index_maintenance_cases() {
        struct Case {
            name: &'static str,
            ops: Vec<(&'static str, Option<Labeled>)>,
            expected: Vec<(&'static str, Vec<&'static str>)>,
        }
        let cases = [
            Case {
                name: "add indexes every value",
                ops: vec![
                    ("a", Some(obj("a", &["x", "y"]))),
                    ("b", Some(obj("b", &["y"]))),
                ],
                expected: vec![("x", vec!["a"]), ("y", vec!["a", "b"])],
            },
            Case {
                name: "update moves key between values",
                ops: vec![("a", Some(obj("a", &["x"]))), ("a", Some(obj("a", &["z"])))],
                expected: vec![("z", vec!["a"])],
            },
            Case {
                name: "update keeps shared values and moves the others",
                ops: vec![
                    ("a", Some(obj("a", &["x", "y"]))),
                    ("b", Some(obj("b", &["y"]))),
                    ("a", Some(obj("a", &["y", "z"]))),
                ],
                expected: vec![("y", vec!["a", "b"]), ("z", vec!["a"])],
            },
            Case {
                name: "delete drops empty sets",
                ops: vec![
                    ("a", Some(obj("a", &["x", "y"]))),
                    ("b", Some(obj("b", &["y"]))),
                    ("a", None),
                ],
                expected: vec![("y", vec!["b"])],
            },
            Case {
                name: "delete of missing key is a no-op",
                ops: vec![("a", Some(obj("a", &["x"]))), ("nope", None)],
                expected: vec![("x", vec!["a"])],
            },
        ];

        for case in cases {
            for (mode, store) in both_stores() {
                check_case(&case, mode, &store);
            }
        }

        fn check_case(case: &Case, mode: &str, store: &ThreadSafeStore<Labeled>) {
            for (key, op) in &case.ops {
                match op {
                    Some(obj) => store.update(key, obj.clone()).unwrap(),
                    None => store.delete(key),
                }
            }

            let mut expected_values: Vec<String> =
                case.expected.iter().map(|(v, _)| v.to_string()).collect();
            expected_values.sort();
            assert_eq!(
                sorted(store.list_index_func_values("label")),
                expected_values,
                "case {} ({mode})",
                case.name
            );
            for (value, keys) in &case.expected {
                assert_eq!(
                    store.index_keys("label", value).unwrap(),
                    *keys,
                    "case {} ({mode}) value {value}",
                    case.name
                );
            }
        }
    }

    #[test]
    fn packed_store_reads_what_was_written() {
        let store = store();
        store.add("a", obj("a", &["x"])).unwrap();
        // Objects stored before the packer are packed too.
        store.set_packer(Arc::new(LinePacker::default()));
        assert!(store.is_packed());
        store.add("b", obj("b", &["x", "y"])).unwrap();
        store.add("u", obj("unpackable", &["y"])).unwrap();

        assert_eq!(store.get("a"), Some(obj("a", &["x"])));
        assert_eq!(store.get("u"), Some(obj("unpackable", &["y"])));
        assert_eq!(
            store.upsert("b", obj("b", &["z"])).unwrap(),
            Some(obj("b", &["x", "y"]))
        );
        assert_eq!(store.upsert("c", obj("c", &[])).unwrap(), None);
        assert_eq!(
            store.by_index("label", "y").unwrap(),
            vec![obj("unpackable", &["y"])]
        );
        let mut names: Vec<String> = store.list().into_iter().map(|o| o.0).collect();
        names.sort();
        assert_eq!(names, vec!["a", "b", "c", "unpackable"]);

        store
            .replace([("d".to_string(), obj("d", &["x"]))].into(), "7")
            .unwrap();
        assert_eq!(store.list(), vec![obj("d", &["x"])]);
        assert_eq!(store.index_keys("label", "x").unwrap(), vec!["d"]);
    }

    #[test]
    fn unreadable_packed_objects_leave_no_index_entries() {
        let packer = Arc::new(LinePacker::default());
        let store = store();
        store.set_packer(packer.clone());
        store.add("a", obj("a", &["x", "y"])).unwrap();
        store.add("b", obj("b", &["y"])).unwrap();
        store.add("c", obj("c", &["x"])).unwrap();
        packer
            .broken
            .store(true, std::sync::atomic::Ordering::SeqCst);

        // Reads skip what no longer unpacks.
        assert_eq!(store.get("a"), None);
        assert!(store.list().is_empty());
        assert_eq!(store.list_keys().len(), 3);

        // A write over it or its deletion still clears its old index values.
        assert_eq!(store.upsert("a", obj("a", &["z"])).unwrap(), None);
        store.delete("b");
        assert_eq!(
            sorted(store.list_index_func_values("label")),
            vec!["x", "z"]
        );
        assert_eq!(store.index_keys("label", "x").unwrap(), vec!["c"]);
        assert!(store.index_keys("label", "y").unwrap().is_empty());
    }

    #[test]
    fn queries_by_index() {
        for (mode, store) in both_stores() {
            check_queries(mode, &store);
        }
    }

    fn check_queries(mode: &str, store: &ThreadSafeStore<Labeled>) {
        store.add("a", obj("a", &["x"])).unwrap();
        store.add("b", obj("b", &["y"])).unwrap();
        store.add("c", obj("c", &["x", "y"])).unwrap();

        assert_eq!(
            store.by_index("label", "x").unwrap(),
            vec![obj("a", &["x"]), obj("c", &["x", "y"])],
            "{mode}"
        );
        assert!(store.by_index("label", "none").unwrap().is_empty());

        let mut names: Vec<String> = store
            .index("label", &obj("probe", &["x", "y"]))
            .unwrap()
            .into_iter()
            .map(|o| o.0)
            .collect();
        names.sort();
        assert_eq!(names, vec!["a", "b", "c"], "{mode}");
    }

    #[test]
    fn unknown_index_errors() {
        let store = store();
        let expected = CacheError::IndexNotFound {
            name: "nope".to_string(),
        };
        assert_eq!(store.index_keys("nope", "x").unwrap_err(), expected);
        assert_eq!(store.by_index("nope", "x").unwrap_err(), expected);
        assert_eq!(store.index("nope", &obj("a", &[])).unwrap_err(), expected);
        assert_eq!(expected.to_string(), "Index with name nope does not exist");
        assert!(store.list_index_func_values("nope").is_empty());
    }

    #[test]
    fn replace_rebuilds_indices() {
        let store = store();
        store.add("a", obj("a", &["x"])).unwrap();

        let items = HashMap::from([("b".to_string(), obj("b", &["y"]))]);
        store.replace(items, "5").unwrap();

        assert_eq!(store.list_keys(), vec!["b"]);
        assert_eq!(store.list_index_func_values("label"), vec!["y"]);
        assert!(store.get("a").is_none());
    }

    #[test]
    fn failing_index_func_leaves_store_unchanged() {
        let mut indexers: Indexers<Labeled> = Indexers::new();
        indexers.insert(
            "strict".to_string(),
            Arc::new(|obj: &Labeled| {
                if obj.1.is_empty() {
                    Err("no labels".to_string())
                } else {
                    Ok(obj.1.clone())
                }
            }),
        );
        let store = ThreadSafeStore::new(indexers);
        store.add("a", obj("a", &["x"])).unwrap();

        let err = store.update("a", obj("a", &[])).unwrap_err();
        assert_eq!(
            err,
            CacheError::IndexFunc {
                key: "a".to_string(),
                index: "strict".to_string(),
                reason: "no labels".to_string(),
            }
        );
        assert_eq!(store.get("a"), Some(obj("a", &["x"])));
        assert_eq!(store.index_keys("strict", "x").unwrap(), vec!["a"]);
    }

    #[test]
    fn add_indexers_rules() {
        let store = store();
        let extra = || {
            let mut indexers: Indexers<Labeled> = Indexers::new();
            indexers.insert(
                "name".to_string(),
                Arc::new(|o: &Labeled| Ok(vec![o.0.clone()])),
            );
            indexers
        };

        let mut conflicting: Indexers<Labeled> = Indexers::new();
        conflicting.insert("label".to_string(), Arc::new(|_: &Labeled| Ok(vec![])));
        assert_eq!(
            store.add_indexers(conflicting).unwrap_err(),
            CacheError::IndexerConflict {
                names: vec!["label".to_string()]
            }
        );

        store.add_indexers(extra()).unwrap();
        assert_eq!(store.get_indexers().len(), 2);

        store.add("a", obj("a", &[])).unwrap();
        assert_eq!(store.index_keys("name", "a").unwrap(), vec!["a"]);
        let mut late = extra();
        late.insert("other".to_string(), Arc::new(|_: &Labeled| Ok(vec![])));
        late.remove("name");
        assert_eq!(
            store.add_indexers(late).unwrap_err(),
            CacheError::IndexersAfterItems
        );
    }
}
