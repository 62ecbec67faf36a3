//! Index vocabulary shared by the thread-safe store and the indexer: index functions,
//! the indexers map that names them, and the indices they maintain.
//!
//! [`namespace_index_func`] is the built-in index under [`NAMESPACE_INDEX`] that the
//! listers use for per-namespace lists.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::key::Object;

/// Computes the indexed values of an object. An object may have zero, one or many
/// values. The error string explains why the values could not be computed.
pub type IndexFunc<T> = Arc<dyn Fn(&T) -> Result<Vec<String>, String> + Send + Sync>;

/// Maps an index name to the function computing its values.
pub type Indexers<T> = HashMap<String, IndexFunc<T>>;

/// Maps an indexed value to the keys of the objects that have it. A value whose set
/// would be empty is removed.
pub type Index = HashMap<String, BTreeSet<String>>;

/// Maps an index name to its index.
pub type Indices = HashMap<String, Index>;

/// The name of the index built by [`namespace_index_func`].
pub const NAMESPACE_INDEX: &str = "namespace";

/// Indexes an object by its namespace; a cluster-scoped object is indexed under `""`.
pub fn namespace_index_func<T: Object>() -> IndexFunc<T> {
    Arc::new(|obj: &T| Ok(vec![obj.namespace().unwrap_or("").to_string()]))
}

/// Returns indexers holding only the namespace index, the set every informer starts
/// with.
pub fn namespace_indexers<T: Object>() -> Indexers<T> {
    let mut indexers = Indexers::new();
    indexers.insert(NAMESPACE_INDEX.to_string(), namespace_index_func());
    indexers
}
