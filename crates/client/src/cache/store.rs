//! The store seam and the indexer, client-go's `Store`/`Indexer` pair.
//!
//! [`Store`] is the write side a reflector feeds (the [`DeltaFIFO`](super::DeltaFIFO)
//! and the [`Indexer`] both implement it). [`Indexer`] is the informer's local cache: a
//! [`ThreadSafeStore`] keyed by a key function. [`KeyListerGetter`] is what the
//! DeltaFIFO reads the indexer through.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::CacheError;
use super::index::{Indexers, NAMESPACE_INDEX};
use super::key::{KeyFunc, Object, ObjectOrTombstone, key_of, meta_namespace_key_func};
use super::packer::{ObjectSummary, Packer};
use super::thread_safe_store::{Scope, ThreadSafeStore};

/// The writes a reflector makes: one per watch event, `replace` per relist, `resync`
/// per resync period. Reads are inherent methods, because the DeltaFIFO returns deltas
/// where the indexer returns objects.
pub trait Store<T>: Send + Sync {
    /// Records that `obj` was added.
    ///
    /// # Errors
    ///
    /// [`CacheError::Key`] when no key can be computed, or an index function error.
    fn add(&self, obj: T) -> Result<(), CacheError>;

    /// Records that `obj` was updated.
    ///
    /// # Errors
    ///
    /// As [`Store::add`].
    fn update(&self, obj: T) -> Result<(), CacheError>;

    /// Records that an object was deleted. A tombstone is filed under its own key.
    ///
    /// # Errors
    ///
    /// [`CacheError::Key`] when no key can be computed.
    fn delete(&self, obj: ObjectOrTombstone<T>) -> Result<(), CacheError>;

    /// Replaces the contents with `list`, the result of a list at `resource_version`.
    ///
    /// # Errors
    ///
    /// As [`Store::add`], for any object of `list`.
    fn replace(&self, list: Vec<T>, resource_version: &str) -> Result<(), CacheError>;

    /// Resynchronizes: a no-op for the indexer, Sync deltas for the DeltaFIFO.
    ///
    /// # Errors
    ///
    /// [`CacheError::Key`] when a known object has no key.
    fn resync(&self) -> Result<(), CacheError>;

    /// Returns every key currently held, in no particular order.
    fn list_keys(&self) -> Vec<String>;

    /// Returns the store's paged form when it can take a list page by page. A
    /// reflector then writes each page as it arrives instead of holding the whole
    /// list; for other stores it collects the pages and calls [`Store::replace`].
    fn paged(&self) -> Option<&dyn PagedReplace<T>> {
        None
    }
}

/// A replace that arrives in pages: [`PagedReplace::replace_page`] for each page of
/// one list, then [`PagedReplace::finish_replace`] once the last page is in. The
/// result is that of one [`Store::replace`] with all pages, except that readers may
/// see the listed objects before the list ends. A list that fails midway leaves its
/// pages written and deletes nothing; the next complete list corrects the rest.
pub trait PagedReplace<T>: Send + Sync {
    /// Writes the objects of one page and adds their keys to `listed`.
    ///
    /// # Errors
    ///
    /// [`CacheError::Key`] when an object of `page` has no key; then nothing of
    /// `page` is written.
    fn replace_page(&self, page: Vec<T>, listed: &mut HashSet<String>) -> Result<(), CacheError>;

    /// Waits until at most `limit` written objects wait for the store's reader, so a
    /// list that arrives faster than it is consumed is not held whole in the store
    /// instead. Returns at once by default, for stores without a separate reader.
    fn wait_for_room(&self, _limit: usize) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(std::future::ready(()))
    }

    /// Ends the replace: every held object whose key is not in `listed` is deleted.
    ///
    /// # Errors
    ///
    /// [`CacheError::Key`] when a deleted object has no key.
    fn finish_replace(
        &self,
        listed: HashSet<String>,
        resource_version: &str,
    ) -> Result<(), CacheError>;
}

/// Lists keys and looks objects up by key: the view of the indexer the DeltaFIFO reads
/// (its "known objects").
pub trait KeyListerGetter<T>: Send + Sync {
    /// Returns every key, in no particular order.
    fn list_keys(&self) -> Vec<String>;

    /// Returns the object stored under `key`.
    fn get_by_key(&self, key: &str) -> Option<T>;
}

/// A [`ThreadSafeStore`] whose keys come from a key function: the informer's cache.
pub struct Indexer<T> {
    store: ThreadSafeStore<T>,
    key_func: KeyFunc<T>,
}

impl<T: Clone + Send + Sync + 'static> Indexer<T> {
    /// Creates an empty indexer that files objects under `key_func` and maintains
    /// `indexers`.
    pub fn new(key_func: KeyFunc<T>, indexers: Indexers<T>) -> Self {
        Self {
            store: ThreadSafeStore::new(indexers),
            key_func,
        }
    }

    /// Creates an empty indexer without indices, upstream's plain `Store`.
    pub fn new_store(key_func: KeyFunc<T>) -> Self {
        Self::new(key_func, Indexers::new())
    }

    /// Keeps objects packed by `packer`; see [`ThreadSafeStore::set_packer`].
    pub fn set_packer(&self, packer: Arc<dyn Packer<T>>) {
        self.store.set_packer(packer);
    }

    /// Returns true when objects are kept packed.
    pub fn is_packed(&self) -> bool {
        self.store.is_packed()
    }

    /// Stores `obj` and returns the object it replaced; see
    /// [`ThreadSafeStore::upsert`].
    ///
    /// # Errors
    ///
    /// [`CacheError::Key`] when no key can be computed, or an index function error.
    pub fn upsert(&self, obj: T) -> Result<Option<T>, CacheError> {
        let key = self.key_of(&obj)?;
        self.store.upsert(&key, obj)
    }

    /// Returns the key `obj` is filed under.
    ///
    /// # Errors
    ///
    /// [`CacheError::Key`] when the key function fails.
    pub fn key_of(&self, obj: &T) -> Result<String, CacheError> {
        (self.key_func)(obj).map_err(|reason| CacheError::Key { reason })
    }

    /// Returns copies of all objects, in no particular order.
    pub fn list(&self) -> Vec<T> {
        self.store.list()
    }

    /// Returns the stored object with the same key as `obj`.
    ///
    /// # Errors
    ///
    /// [`CacheError::Key`] when the key function fails.
    pub fn get(&self, obj: &T) -> Result<Option<T>, CacheError> {
        Ok(self.store.get(&self.key_of(obj)?))
    }

    /// Returns the object stored under `key`.
    pub fn get_by_key(&self, key: &str) -> Option<T> {
        self.store.get(key)
    }

    /// See [`ThreadSafeStore::index`].
    ///
    /// # Errors
    ///
    /// As [`ThreadSafeStore::index`].
    pub fn index(&self, index_name: &str, obj: &T) -> Result<Vec<T>, CacheError> {
        self.store.index(index_name, obj)
    }

    /// See [`ThreadSafeStore::index_keys`].
    ///
    /// # Errors
    ///
    /// As [`ThreadSafeStore::index_keys`].
    pub fn index_keys(
        &self,
        index_name: &str,
        indexed_value: &str,
    ) -> Result<Vec<String>, CacheError> {
        self.store.index_keys(index_name, indexed_value)
    }

    /// See [`ThreadSafeStore::list_index_func_values`].
    pub fn list_index_func_values(&self, index_name: &str) -> Vec<String> {
        self.store.list_index_func_values(index_name)
    }

    /// See [`ThreadSafeStore::by_index`].
    ///
    /// # Errors
    ///
    /// As [`ThreadSafeStore::by_index`].
    pub fn by_index(&self, index_name: &str, indexed_value: &str) -> Result<Vec<T>, CacheError> {
        self.store.by_index(index_name, indexed_value)
    }

    /// See [`ThreadSafeStore::filter`].
    ///
    /// # Errors
    ///
    /// As [`ThreadSafeStore::filter`].
    pub fn filter(
        &self,
        scope: Scope<'_>,
        select_summary: &dyn Fn(&ObjectSummary) -> bool,
        select: &dyn Fn(&T) -> bool,
    ) -> Result<Vec<T>, CacheError> {
        self.store.filter(scope, select_summary, select)
    }

    /// See [`ThreadSafeStore::get_indexers`].
    pub fn get_indexers(&self) -> Indexers<T> {
        self.store.get_indexers()
    }

    /// See [`ThreadSafeStore::add_indexers`].
    ///
    /// # Errors
    ///
    /// As [`ThreadSafeStore::add_indexers`].
    pub fn add_indexers(&self, new_indexers: Indexers<T>) -> Result<(), CacheError> {
        self.store.add_indexers(new_indexers)
    }
}

impl<T: Object> Indexer<T> {
    /// Creates an empty indexer keyed by `namespace/name` with the namespace index,
    /// what an informer starts with.
    pub fn with_namespace_index() -> Self {
        Self::new(
            meta_namespace_key_func(),
            super::index::namespace_indexers(),
        )
    }

    /// Returns true when the namespace index is maintained.
    pub fn has_namespace_index(&self) -> bool {
        self.store.get_indexers().contains_key(NAMESPACE_INDEX)
    }
}

impl<T: Clone + Send + Sync + 'static> Store<T> for Indexer<T> {
    fn add(&self, obj: T) -> Result<(), CacheError> {
        let key = self.key_of(&obj)?;
        self.store.add(&key, obj)
    }

    fn update(&self, obj: T) -> Result<(), CacheError> {
        let key = self.key_of(&obj)?;
        self.store.update(&key, obj)
    }

    fn delete(&self, obj: ObjectOrTombstone<T>) -> Result<(), CacheError> {
        let key = key_of(&self.key_func, &obj)?;
        self.store.delete(&key);
        Ok(())
    }

    fn replace(&self, list: Vec<T>, resource_version: &str) -> Result<(), CacheError> {
        let mut items = HashMap::with_capacity(list.len());
        for obj in list {
            items.insert(self.key_of(&obj)?, obj);
        }
        self.store.replace(items, resource_version)
    }

    fn resync(&self) -> Result<(), CacheError> {
        self.store.resync();
        Ok(())
    }

    fn list_keys(&self) -> Vec<String> {
        self.store.list_keys()
    }
}

impl<T: Clone + Send + Sync + 'static> KeyListerGetter<T> for Indexer<T> {
    fn list_keys(&self) -> Vec<String> {
        self.store.list_keys()
    }

    fn get_by_key(&self, key: &str) -> Option<T> {
        self.store.get(key)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::key::DeletedFinalStateUnknown;
    use super::*;

    fn pod(namespace: &str, name: &str) -> Value {
        json!({"metadata": {"namespace": namespace, "name": name}})
    }

    #[test]
    fn indexer_files_by_meta_namespace_key() {
        let indexer = Indexer::with_namespace_index();
        indexer.add(pod("a", "one")).unwrap();
        indexer.add(pod("b", "two")).unwrap();

        assert_eq!(indexer.get_by_key("a/one"), Some(pod("a", "one")));
        assert_eq!(
            indexer.get(&pod("b", "two")).unwrap(),
            Some(pod("b", "two"))
        );
        assert_eq!(
            indexer.index_keys(NAMESPACE_INDEX, "b").unwrap(),
            vec!["b/two"]
        );
        assert!(indexer.has_namespace_index());
    }

    #[test]
    fn delete_accepts_tombstones() {
        let indexer = Indexer::with_namespace_index();
        indexer.add(pod("a", "one")).unwrap();
        indexer.add(pod("a", "two")).unwrap();

        indexer.delete(pod("a", "one").into()).unwrap();
        indexer
            .delete(
                DeletedFinalStateUnknown {
                    key: "a/two".to_string(),
                    obj: None,
                }
                .into(),
            )
            .unwrap();

        assert!(Store::list_keys(&indexer).is_empty());
        assert!(indexer.list_index_func_values(NAMESPACE_INDEX).is_empty());
    }

    #[test]
    fn key_func_error_is_reported() {
        let indexer: Indexer<Value> = Indexer::new_store(std::sync::Arc::new(|_: &Value| {
            Err("object has no meta".to_string())
        }));
        let err = indexer.add(pod("a", "one")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "couldn't create key for object: object has no meta"
        );
    }

    #[test]
    fn replace_keys_every_object() {
        let indexer = Indexer::with_namespace_index();
        indexer.add(pod("a", "old")).unwrap();
        indexer
            .replace(vec![pod("a", "one"), pod("b", "two")], "10")
            .unwrap();

        let mut keys = Store::list_keys(&indexer);
        keys.sort();
        assert_eq!(keys, vec!["a/one", "b/two"]);
        assert_eq!(
            indexer.index_keys(NAMESPACE_INDEX, "a").unwrap(),
            vec!["a/one"]
        );
    }
}
