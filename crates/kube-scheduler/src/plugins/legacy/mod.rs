//! Plugins that Kubernetes 1.18 had and later releases removed. The legacy scheduler
//! Policy ([`crate::policy`]) maps its predicates and priorities onto them, as the 1.18
//! legacy registry did; profiles may enable them by name too.
//!
//! - [`node_label`]: `NodeLabel`, presence or absence of node labels.
//! - [`service_affinity`]: `ServiceAffinity`, co-locating a Service's pods by node
//!   label and spreading them by another.
//! - [`selector_spread`]: `DefaultPodTopologySpread`, spreading the pods of a Service
//!   or controller over nodes and zones (later called SelectorSpread).
//! - [`node_prefer_avoid_pods`]: `NodePreferAvoidPods`, the node annotation that asks
//!   to keep a controller's pods away.
//! - [`resource_scores`]: `NodeResourcesLeastAllocated`, `NodeResourcesMostAllocated`
//!   and `RequestedToCapacityRatio`, the scoring strategies of NodeResourcesFit as
//!   plugins of their own.

pub mod node_label;
pub mod node_prefer_avoid_pods;
pub mod resource_scores;
pub mod selector_spread;
pub mod service_affinity;
