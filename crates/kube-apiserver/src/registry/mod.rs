//! The registry: one generic store per resource plus the strategy of its kind.
//!
//! [`strategy`] defines what a kind contributes (defaults, validation, status
//! handling, graceful deletion, selectable fields); [`builtin`] picks the strategy of
//! each built-in resource; [`store`] is the generic store.

pub mod allocator;
pub mod apps;
pub mod batch;
pub mod builtin;
pub mod conversion;
pub mod core;
pub mod encoding;
pub mod fieldmanager;
pub mod groups;
pub mod hooks;
pub mod object_meta;
pub mod pod_spec;
pub mod store;
pub mod strategy;
