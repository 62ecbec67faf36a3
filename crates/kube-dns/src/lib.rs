//! kube-dns: the cluster DNS add-on. It watches Services and EndpointSlices and
//! serves the records of the Kubernetes DNS-based service discovery specification
//! over UDP and TCP.
//!
//! [`resolver`] contains the record logic, [`store`] the cluster state it reads,
//! [`server`] the wire protocol and sockets, [`watch`] the informers that keep the
//! store current, and [`app`] wires them together.

pub mod app;
pub mod health;
pub mod options;
pub mod resolver;
pub mod server;
pub mod store;
pub mod watch;

#[cfg(test)]
mod testing;
