//! kube-apiserver: the Kubernetes API over the storage layer.
//!
//! [`apiserver::start`] wires the server from its [`options::Options`]. Requests enter
//! through [`server`] (TLS, HTTP/1.1 and HTTP/2), pass the [`chain`] and reach the
//! [`endpoints`], which serve discovery, health, metrics and the resources of the
//! [`registry`].

pub mod admission;
pub mod apiserver;
pub mod bootstrap;
pub mod certs;
pub mod chain;
pub mod discovery;
pub mod endpoints;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod options;
pub mod registry;
pub mod request_info;
pub mod server;
pub mod serviceaccount;
pub mod tables;
