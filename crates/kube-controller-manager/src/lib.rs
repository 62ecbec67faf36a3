//! The Kubernetes controller manager: workload, networking and lifecycle controllers.

pub mod endpoint;
pub mod endpointslice;
pub mod nodeipam;
pub mod objectapi;
