//! The shared client every component uses, in client-go's role.
//!
//! [`config`] describes how to reach an API server.
//! [`cache`] contains the informer machinery's stores (the thread-safe store, the
//! indexer, the DeltaFIFO); [`workqueue`] contains the queues controllers process keys
//! from.

pub mod api;
pub mod cache;
pub mod config;
pub mod informer;
pub mod leaderelection;
pub mod rest;
pub mod workqueue;
