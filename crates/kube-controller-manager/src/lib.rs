//! The Kubernetes controller manager: workload, networking and lifecycle controllers.

pub mod context;
pub mod disruption;
pub mod endpoint;
pub mod endpointslice;
pub mod endpointslicemirroring;
pub mod garbagecollector;
pub mod namespace;
pub mod nodeipam;
pub mod nodelifecycle;
pub mod objectapi;
pub mod podgc;
pub mod queueworker;
pub mod resourcequota;
pub mod rootcacertpublisher;
pub mod serviceaccount;
pub mod ttlafterfinished;
