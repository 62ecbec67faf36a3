//! The Kubernetes storage layer.
//!
//! [`interface::Backend`] is the contract with etcd v3 semantics; [`embedded`] is the
//! default backend (a file under the apiserver's `--data-dir`), [`etcd3`] talks to an
//! etcd cluster. [`cacher`] sits above either backend and serves watches and lists
//! from memory, as the apiserver's watch cache does upstream. [`update`] holds the
//! guaranteed-update loop that every apiserver write goes through.

pub mod cacher;
pub mod continue_token;
pub mod embedded;
pub mod etcd3;
pub mod interface;
pub mod testing;
pub mod update;

pub use interface::{
    Backend, Error, Event, EventType, KeyValue, ListOptions, ListResult, MAX_VALUE_BYTES,
    WatchMessage, WatchStream,
};
