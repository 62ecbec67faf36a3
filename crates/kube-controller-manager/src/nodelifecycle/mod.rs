//! The node lifecycle controller.
pub mod taints;
