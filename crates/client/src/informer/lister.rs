//! Listers: read-only views of an informer's cache, by namespace, name, selector or
//! index.

use std::sync::Arc;

use apimachinery::labels::Selector;

use crate::api::KubeObject;
use crate::cache::{CacheError, Indexer, list_all, list_by_namespace};

/// Reads an informer's cache. Cloning is cheap.
pub struct Lister<K> {
    indexer: Arc<Indexer<Arc<K>>>,
}

impl<K> Clone for Lister<K> {
    fn clone(&self) -> Self {
        Self {
            indexer: self.indexer.clone(),
        }
    }
}

impl<K: KubeObject> Lister<K> {
    /// Wraps an indexer.
    pub fn new(indexer: Arc<Indexer<Arc<K>>>) -> Self {
        Self { indexer }
    }

    /// Returns every cached object.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.indexer.list()
    }

    /// Returns the cached objects whose labels match `selector`.
    pub fn list_selected(&self, selector: &Selector) -> Vec<Arc<K>> {
        list_all(&self.indexer, |obj| selector.matches(&obj.meta().labels))
    }

    /// Returns the object cached under `key` (`namespace/name`, or `name` for a
    /// cluster-scoped object).
    pub fn get(&self, key: &str) -> Option<Arc<K>> {
        self.indexer.get_by_key(key)
    }

    /// Returns a lister of one namespace.
    pub fn namespaced(&self, namespace: &str) -> NamespaceLister<K> {
        NamespaceLister {
            indexer: self.indexer.clone(),
            namespace: namespace.to_string(),
        }
    }

    /// Returns the objects whose index `index_name` holds `value`.
    ///
    /// # Errors
    /// [`CacheError::IndexNotFound`] for an unknown index.
    pub fn by_index(&self, index_name: &str, value: &str) -> Result<Vec<Arc<K>>, CacheError> {
        self.indexer.by_index(index_name, value)
    }
}

/// Reads one namespace of an informer's cache.
pub struct NamespaceLister<K> {
    indexer: Arc<Indexer<Arc<K>>>,
    namespace: String,
}

impl<K: KubeObject> NamespaceLister<K> {
    /// Returns every cached object of the namespace.
    pub fn list(&self) -> Vec<Arc<K>> {
        list_by_namespace(&self.indexer, &self.namespace, |_| true)
    }

    /// Returns the namespace's objects whose labels match `selector`.
    pub fn list_selected(&self, selector: &Selector) -> Vec<Arc<K>> {
        list_by_namespace(&self.indexer, &self.namespace, |obj| {
            selector.matches(&obj.meta().labels)
        })
    }

    /// Returns the object `name` of the namespace.
    pub fn get(&self, name: &str) -> Option<Arc<K>> {
        self.indexer
            .get_by_key(&format!("{}/{}", self.namespace, name))
    }
}
