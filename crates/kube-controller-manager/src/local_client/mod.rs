//! A typed client and shared informers over `client::rest` and `client::cache`.
//!
//! NOTE: the shared client crate is getting its own typed `Api` and
//! `SharedInformerFactory` with the same method names. Once those land, this module
//! goes away and the imports switch to `client::api` and `client::informer`.

pub mod api;
pub mod informer;

pub use api::{Api, DeleteParams, ListParams, Resource};
pub use informer::{DeletedObject, SharedIndexInformer, SharedInformerFactory};
