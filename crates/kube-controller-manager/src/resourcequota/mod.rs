//! The resource quota controller.
pub mod usage;
