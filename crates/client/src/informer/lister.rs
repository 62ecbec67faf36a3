//! Listers: read-only views of an informer's cache, by namespace, name, selector or
//! index.

use std::sync::Arc;

use apimachinery::labels::Selector;

use crate::api::KubeObject;
use crate::cache::{CacheError, Indexer, NAMESPACE_INDEX, ObjectSummary, Scope};

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

    /// Returns the cached objects whose labels match `selector`. A packed cache
    /// decodes only those.
    pub fn list_selected(&self, selector: &Selector) -> Vec<Arc<K>> {
        self.list_where(&|summary| selector.matches(summary), &|obj| {
            selector.matches(&obj.meta().labels)
        })
    }

    /// Returns the cached objects that pass `select`. A packed cache first tests
    /// each object's summary (labels and controller) with `select_summary` and
    /// decodes only the objects it accepts. So `select_summary` must accept every
    /// object that `select` accepts.
    pub fn list_where(
        &self,
        select_summary: &dyn Fn(&ObjectSummary) -> bool,
        select: &dyn Fn(&Arc<K>) -> bool,
    ) -> Vec<Arc<K>> {
        // The whole cache is always a valid scope.
        self.indexer
            .filter(Scope::All, select_summary, select)
            .unwrap_or_default()
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

    /// Returns the objects whose index `index_name` contains `value`.
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
        self.list_where(&|_| true, &|_| true)
    }

    /// Returns the namespace's objects whose labels match `selector`. A packed
    /// cache decodes only those.
    pub fn list_selected(&self, selector: &Selector) -> Vec<Arc<K>> {
        self.list_where(&|summary| selector.matches(summary), &|obj| {
            selector.matches(&obj.meta().labels)
        })
    }

    /// Returns the namespace's objects that pass `select`, asking `select_summary`
    /// first as [`Lister::list_where`] does.
    pub fn list_where(
        &self,
        select_summary: &dyn Fn(&ObjectSummary) -> bool,
        select: &dyn Fn(&Arc<K>) -> bool,
    ) -> Vec<Arc<K>> {
        let scope = Scope::Indexed(NAMESPACE_INDEX, &self.namespace);
        match self.indexer.filter(scope, select_summary, select) {
            Ok(objects) => objects,
            Err(error) => {
                tracing::warn!(namespace = %self.namespace, %error, "cannot list objects through the namespace index; scanning every object");
                let in_namespace = |obj: &Arc<K>| {
                    obj.meta().namespace.as_deref().unwrap_or("") == self.namespace && select(obj)
                };
                self.indexer
                    .filter(Scope::All, select_summary, &in_namespace)
                    .unwrap_or_default()
            }
        }
    }

    /// Returns the object `name` of the namespace.
    pub fn get(&self, name: &str) -> Option<Arc<K>> {
        self.indexer
            .get_by_key(&format!("{}/{}", self.namespace, name))
    }
}
