//! The registry: one generic store per resource plus the strategy of its kind.
//!
//! [`strategy`] defines what a kind contributes (defaults, validation, status
//! handling, graceful deletion, selectable fields).

pub mod allocator;
pub mod builtin;
pub mod encoding;
pub mod hooks;
pub mod object_meta;
pub mod store;
pub mod strategy;
