//! The informer machinery's stores, after client-go's `tools/cache` (v1.18).
//!
//! A reflector lists and watches the API server and writes into a [`DeltaFIFO`]
//! through the [`Store`] trait. The informer pops [`Deltas`] from it, applies them to
//! an [`Indexer`] (the local cache: a [`ThreadSafeStore`] plus named indices), and hands
//! them to event handlers. Listers read the indexer through [`list_all`] and
//! [`list_by_namespace`]. Objects are keyed by [`meta_namespace_key`].

mod delta_fifo;
mod heap_trim;
mod index;
mod key;
mod list_decoder;
mod listers;
mod packer;
pub mod reflector;
mod store;
mod thread_safe_store;

pub use delta_fifo::{
    BoxError, Delta, DeltaFIFO, DeltaFIFOOptions, DeltaType, Deltas, PopError, ProcessError,
};
pub use heap_trim::trim_if_due as trim_heap_if_due;
pub use index::{
    Index, IndexFunc, Indexers, Indices, NAMESPACE_INDEX, namespace_index_func, namespace_indexers,
};
pub use key::{
    DeletedFinalStateUnknown, KeyFunc, Object, ObjectOrTombstone,
    deletion_handling_meta_namespace_key, meta_namespace_key, meta_namespace_key_func,
    split_meta_namespace_key,
};
pub use listers::{list_all, list_by_namespace};
pub use packer::{JsonPacker, ObjectSummary, Packer};
pub use reflector::{
    BackoffOptions, ReflectedObject, Reflector, ReflectorError, ReflectorOptions, TransformFunc,
};
pub use store::{Indexer, KeyListerGetter, PagedReplace, Store};
pub use thread_safe_store::{Scope, ThreadSafeStore};

/// An error from a store, an index or the DeltaFIFO. Messages follow client-go's
/// wording where it has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// A key passed to [`split_meta_namespace_key`] has more than one `/`.
    #[error("unexpected key format: {key:?}")]
    InvalidKey {
        /// The rejected key.
        key: String,
    },

    /// The key function failed on an object.
    #[error("couldn't create key for object: {reason}")]
    Key {
        /// The key function's error.
        reason: String,
    },

    /// A query named an index that no index function was registered for.
    #[error("Index with name {name} does not exist")]
    IndexNotFound {
        /// The unknown index name.
        name: String,
    },

    /// An index function failed on an object being stored.
    #[error("unable to calculate an index entry for key {key:?} on index {index:?}: {reason}")]
    IndexFunc {
        /// The key of the object being stored.
        key: String,
        /// The index whose function failed.
        index: String,
        /// The index function's error.
        reason: String,
    },

    /// An index function failed on the object passed to an index query.
    #[error("unable to calculate the values of index {index:?}: {reason}")]
    IndexValues {
        /// The index whose function failed.
        index: String,
        /// The index function's error.
        reason: String,
    },

    /// Index functions were added to a store that already contains objects.
    #[error("cannot add indexers to running index")]
    IndexersAfterItems,

    /// Index functions were added under names already taken.
    #[error("indexer conflict: {names:?}")]
    IndexerConflict {
        /// The names registered twice, sorted.
        names: Vec<String>,
    },

    /// A transform was set on an informer that has already started.
    #[error("informer has already started")]
    AlreadyStarted,

    /// A [`Deltas`] without any delta was passed where a key is needed.
    #[error("0 length Deltas object; can't get key")]
    ZeroLengthDeltas,
}
