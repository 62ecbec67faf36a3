//! The scheduling framework: the plugin contracts ([`interface`]), what plugins can
//! reach ([`handle`]), the per-node aggregate they read ([`types`]) and the runner of
//! one profile ([`runtime::Framework`]).

pub mod handle;
pub mod interface;
pub mod parallelize;
pub mod runtime;
pub mod types;
