//! The namespace controller.
pub mod deleter;
