//! The Kubernetes service proxy: watches Services and EndpointSlices and programs the
//! node so that traffic to a service's virtual IPs reaches its endpoints.
//!
//! Modes: [`iptables`] (default), [`ipvs`] (netlink IPVS) and [`userspace`]. The binary
//! wires them up in [`server`]; each mode implements [`provider::Provider`].

pub mod conntrack;
pub mod endpoints;
pub mod exec;
pub mod health;
pub mod iptables;
pub mod ipvs;
pub mod metrics;
pub mod net;
pub mod options;
pub mod provider;
pub mod runner;
pub mod server;
pub mod service;
pub mod userspace;

#[cfg(test)]
pub(crate) mod testing;
