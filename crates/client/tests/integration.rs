//! The typed client, shared informers, leader election, events and the dynamic
//! client against a real kube-apiserver started in-process on a loopback port.

#[path = "integration/server.rs"]
mod server;

#[path = "integration/api.rs"]
mod api;
#[path = "integration/informer.rs"]
mod informer;
#[path = "integration/leaderelection.rs"]
mod leaderelection;
