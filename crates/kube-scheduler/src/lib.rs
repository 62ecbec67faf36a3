//! The Kubernetes scheduler: scheduling queue, cache and framework with the default
//! plugins.
//!
//! [`app::start`] wires everything against an API server, and [`scheduler::Scheduler`]
//! is the scheduling loop. [`framework`] contains the plugin contracts and [`plugins`]
//! the in-tree plugins.

pub mod algorithm;
pub mod api_client;
pub mod app;
pub mod cache;
pub mod config;
pub mod event_handlers;
pub mod framework;
pub mod informers;
pub mod metrics;
pub mod options;
pub mod plugins;
pub mod policy;
pub mod queue;
pub mod scheduler;
pub mod server;
