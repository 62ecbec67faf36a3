//! The EndpointSlice controller.
pub mod reconciler;
