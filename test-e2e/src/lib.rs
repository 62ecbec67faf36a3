//! Local clusters on this machine, and the end-to-end suite that drives them.
//!
//! [`cluster::Cluster::up`] is the one code path that `make run` (through the
//! `local-cluster` binary) and the end-to-end tests use to start a cluster: the
//! control plane on the host and each node in its own network namespace.

pub mod cleanup;
pub mod cluster;
pub mod kubeconfig;
pub mod network;
pub mod pki;
pub mod process;
