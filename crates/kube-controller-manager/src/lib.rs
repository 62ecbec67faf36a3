//! The Kubernetes controller manager: the control loops that drive workloads
//! (ReplicaSets, Deployments, StatefulSets, DaemonSets, Jobs, CronJobs) and the
//! cluster's lifecycle objects toward their specs.
//!
//! [`app::run`] is what the binary calls. Each controller lives in a module named
//! as upstream names it, built from a [`context::ControllerContext`] and selected
//! through [`registry`].

pub mod app;
pub mod client_ext;
pub mod context;
pub mod controller_utils;
pub mod deployment;
pub mod events;
pub mod job;
pub mod options;
pub mod registry;
pub mod replicaset;
pub mod replication;
pub mod server;
pub mod worker;
