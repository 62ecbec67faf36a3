//! Prometheus metrics served on `/metrics`, named as upstream's scheduler names them:
//! scheduling attempts by result and profile, the end-to-end and per-attempt
//! latencies, and pending pods per sub-queue.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::queue::PendingCounts;

/// Labels of a scheduling attempt.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AttemptLabels {
    /// `scheduled`, `unschedulable` or `error`.
    pub result: String,
    /// The profile's schedulerName.
    pub profile: String,
}

/// Labels of the pending pods gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    /// `active`, `backoff` or `unschedulable`.
    pub queue: String,
}

/// The scheduler's metrics.
pub struct Metrics {
    registry: Registry,
    schedule_attempts: Family<AttemptLabels, Counter>,
    attempt_duration: Family<AttemptLabels, Histogram>,
    e2e_duration: Family<AttemptLabels, Histogram>,
    pending_pods: Family<QueueLabels, Gauge>,
    preemption_attempts: Counter,
    preemption_victims: Counter,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let schedule_attempts = Family::<AttemptLabels, Counter>::default();
        let attempt_duration =
            Family::<AttemptLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        let e2e_duration =
            Family::<AttemptLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        let pending_pods = Family::<QueueLabels, Gauge>::default();
        let preemption_attempts = Counter::default();
        let preemption_victims = Counter::default();
        registry.register(
            "scheduler_schedule_attempts",
            "Number of attempts to schedule pods, by the result.",
            schedule_attempts.clone(),
        );
        registry.register(
            "scheduler_scheduling_attempt_duration_seconds",
            "Scheduling attempt latency in seconds (scheduling algorithm + binding).",
            attempt_duration.clone(),
        );
        registry.register(
            "scheduler_e2e_scheduling_duration_seconds",
            "E2e scheduling latency in seconds, from the pod's first queueing to its binding.",
            e2e_duration.clone(),
        );
        registry.register(
            "scheduler_pending_pods",
            "Number of pending pods, by the queue type.",
            pending_pods.clone(),
        );
        registry.register(
            "scheduler_preemption_attempts",
            "Total preemption attempts in the cluster till now.",
            preemption_attempts.clone(),
        );
        registry.register(
            "scheduler_preemption_victims",
            "Number of selected preemption victims.",
            preemption_victims.clone(),
        );
        Metrics {
            registry,
            schedule_attempts,
            attempt_duration,
            e2e_duration,
            pending_pods,
            preemption_attempts,
            preemption_victims,
        }
    }

    /// Records one scheduling attempt and its latency in seconds.
    pub fn observe_attempt(&self, result: &str, profile: &str, seconds: f64) {
        let labels = AttemptLabels {
            result: result.to_string(),
            profile: profile.to_string(),
        };
        self.schedule_attempts.get_or_create(&labels).inc();
        self.attempt_duration.get_or_create(&labels).observe(seconds);
    }

    /// Records the end-to-end latency of a scheduled pod in seconds.
    pub fn observe_e2e(&self, profile: &str, seconds: f64) {
        let labels = AttemptLabels {
            result: "scheduled".to_string(),
            profile: profile.to_string(),
        };
        self.e2e_duration.get_or_create(&labels).observe(seconds);
    }

    /// Records a preemption attempt and its victims.
    pub fn observe_preemption(&self, victims: u64) {
        self.preemption_attempts.inc();
        self.preemption_victims.inc_by(victims);
    }

    /// Sets the pending pods gauges.
    pub fn set_pending(&self, counts: PendingCounts) {
        for (queue, value) in [
            ("active", counts.active),
            ("backoff", counts.backoff),
            ("unschedulable", counts.unschedulable),
        ] {
            self.pending_pods
                .get_or_create(&QueueLabels {
                    queue: queue.to_string(),
                })
                .set(value as i64);
        }
    }

    /// Returns the number of attempts recorded with `result` for `profile`.
    pub fn attempts(&self, result: &str, profile: &str) -> u64 {
        self.schedule_attempts
            .get_or_create(&AttemptLabels {
                result: result.to_string(),
                profile: profile.to_string(),
            })
            .get()
    }

    /// Encodes every metric in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(error) = encode(&mut text, &self.registry) {
            tracing::warn!(%error, "failed to encode metrics");
        }
        text
    }
}
