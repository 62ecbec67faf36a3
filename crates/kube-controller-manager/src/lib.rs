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
pub mod cronjob;
pub mod daemon;
pub mod deployment;
pub mod disruption;
pub mod endpoint;
pub mod endpointslice;
pub mod endpointslicemirroring;
pub mod events;
pub mod garbagecollector;
pub mod history;
pub mod job;
pub mod namespace;
pub mod nodeipam;
pub mod nodelifecycle;
pub mod objectapi;
pub mod options;
pub mod podautoscaler;
pub mod podgc;
pub mod queueworker;
pub mod registry;
pub mod replicaset;
pub mod replication;
pub mod resourcequota;
pub mod rootcacertpublisher;
pub mod server;
pub mod serviceaccount;
pub mod statefulset;
pub mod ttlafterfinished;
pub mod worker;
