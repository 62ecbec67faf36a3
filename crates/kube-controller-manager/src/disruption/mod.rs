//! The disruption controller.
pub mod status;
