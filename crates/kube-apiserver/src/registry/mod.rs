//! The registry: one generic store per resource plus the strategy of its kind.
//!
//! [`strategy`] defines what a kind contributes (defaults, validation, status
//! handling, graceful deletion, selectable fields).

pub mod strategy;
pub mod core;
pub mod apps;
pub mod batch;
pub mod pod_spec;
