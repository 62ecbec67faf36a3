//! Pod specs as every workload embeds them: upstream's defaulting and validation of
//! `PodSpec` and `PodTemplateSpec`, shared by pods, pod templates, replication
//! controllers, the apps workloads and jobs.
//!
//! Entry points: [`defaults::default_pod_spec`] and [`defaults::default_pod_only`] for
//! defaulting, [`validation::validate_pod_spec_for_pod`] and
//! [`validation::validate_pod_template_spec`] for validation, [`qos::compute_qos_class`]
//! for a pod's QoS class. [`common`] contains the helpers every kind uses (labels,
//! selectors, immutable fields).

pub mod common;
pub mod container;
pub mod defaults;
pub mod qos;
pub mod resources;
pub mod validation;
pub mod volume;

#[cfg(test)]
mod tests;
