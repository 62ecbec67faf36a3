//! Strategies of the batch/v1 resources: jobs and cron jobs.
//!
//! Entry point: [`strategies`], which lists each resource with its strategy.

use std::sync::Arc;

use crate::registry::strategy::ErasedStrategy;

pub mod cron;
pub mod job;

/// Returns every batch/v1 resource this module covers as `("batch", resource, strategy)`.
pub fn strategies() -> Vec<(&'static str, &'static str, Arc<dyn ErasedStrategy>)> {
    vec![
        ("batch", "jobs", Arc::new(job::JobStrategy)),
        ("batch", "cronjobs", Arc::new(job::CronJobStrategy)),
    ]
}
