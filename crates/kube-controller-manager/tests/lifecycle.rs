//! The lifecycle and networking controllers against a real kube-apiserver started
//! in-process on a loopback port, and the controller manager binary's own faults.

#[path = "lifecycle/common.rs"]
mod common;
#[path = "lifecycle/faults.rs"]
mod faults;
#[path = "lifecycle/gc.rs"]
mod gc;
#[path = "lifecycle/housekeeping.rs"]
mod housekeeping;
#[path = "lifecycle/namespace.rs"]
mod namespace;
#[path = "lifecycle/networking.rs"]
mod networking;
#[path = "lifecycle/nodes.rs"]
mod nodes;
#[path = "lifecycle/podautoscaler.rs"]
mod podautoscaler;
