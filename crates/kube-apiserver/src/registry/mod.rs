//! The registry: one generic store per resource plus the strategy of its kind.
//!
//! [`strategy`] defines what a kind contributes (defaults, validation, status
//! handling, graceful deletion, selectable fields).

pub mod groups;
pub mod strategy;
