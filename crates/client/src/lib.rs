//! The shared client every component uses, in client-go's role.
//!
//! [`cache`] holds the informer machinery's stores (the thread-safe store, the
//! indexer, the DeltaFIFO); [`workqueue`] holds the queues controllers process keys
//! from.

pub mod cache;
pub mod workqueue;
