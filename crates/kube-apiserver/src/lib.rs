//! kube-apiserver: the Kubernetes API over the storage layer.
//!
//! [`options`] holds the flags, [`certs`] the serving certificate, [`request_info`]
//! the parsing of request paths, [`health`] and [`metrics`] the operational endpoints.

pub mod certs;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod options;
pub mod registry;
pub mod request_info;
