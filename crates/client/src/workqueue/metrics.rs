//! Metrics hooks of the workqueue. A [`MetricsProvider`] creates one set of metrics
//! per named queue, and the queue reports to them at the same points as client-go's
//! workqueue (v1.18): depth and adds on add, queue latency on get, work duration on
//! done, retries on every delayed add, and the unfinished work and longest running
//! processor gauges every 500 ms.
//!
//! Nothing is recorded unless a queue has a name and a provider, given in
//! [`QueueConfig`](super::QueueConfig) or installed process-wide with [`set_provider`].

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A gauge that goes up and down by one.
pub trait GaugeMetric: Send + Sync {
    /// Adds one.
    fn inc(&self);
    /// Subtracts one.
    fn dec(&self);
}

/// A gauge set to an absolute value.
pub trait SettableGaugeMetric: Send + Sync {
    /// Sets the gauge to `value`.
    fn set(&self, value: f64);
}

/// A counter that only goes up.
pub trait CounterMetric: Send + Sync {
    /// Adds one.
    fn inc(&self);
}

/// A distribution of observed values, such as a histogram.
pub trait HistogramMetric: Send + Sync {
    /// Records one observation.
    fn observe(&self, value: f64);
}

/// A metric that discards every update.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopMetric;

impl GaugeMetric for NoopMetric {
    fn inc(&self) {}
    fn dec(&self) {}
}

impl SettableGaugeMetric for NoopMetric {
    fn set(&self, _value: f64) {}
}

impl CounterMetric for NoopMetric {
    fn inc(&self) {}
}

impl HistogramMetric for NoopMetric {
    fn observe(&self, _value: f64) {}
}

/// The factory of a queue's metrics. Each method is called once when a named queue
/// is created, with the queue's name. Every method defaults to a [`NoopMetric`], so
/// a provider implements only the metrics it exports.
pub trait MetricsProvider: Send + Sync {
    /// Creates the gauge of the number of items waiting to be processed
    /// (`workqueue_depth` upstream).
    fn new_depth_metric(&self, _name: &str) -> Arc<dyn GaugeMetric> {
        Arc::new(NoopMetric)
    }

    /// Creates the counter of adds that were not collapsed into a queued item
    /// (`workqueue_adds_total`).
    fn new_adds_metric(&self, _name: &str) -> Arc<dyn CounterMetric> {
        Arc::new(NoopMetric)
    }

    /// Creates the histogram of the seconds an item waits in the queue before a
    /// worker gets it (`workqueue_queue_duration_seconds`).
    fn new_latency_metric(&self, _name: &str) -> Arc<dyn HistogramMetric> {
        Arc::new(NoopMetric)
    }

    /// Creates the histogram of the seconds from get to done
    /// (`workqueue_work_duration_seconds`).
    fn new_work_duration_metric(&self, _name: &str) -> Arc<dyn HistogramMetric> {
        Arc::new(NoopMetric)
    }

    /// Creates the gauge of the summed seconds that all items now in processing
    /// have been in processing (`workqueue_unfinished_work_seconds`).
    fn new_unfinished_work_seconds_metric(&self, _name: &str) -> Arc<dyn SettableGaugeMetric> {
        Arc::new(NoopMetric)
    }

    /// Creates the gauge of the seconds the longest running item has been in
    /// processing (`workqueue_longest_running_processor_seconds`).
    fn new_longest_running_processor_seconds_metric(
        &self,
        _name: &str,
    ) -> Arc<dyn SettableGaugeMetric> {
        Arc::new(NoopMetric)
    }

    /// Creates the counter of delayed and rate-limited adds (`workqueue_retries_total`).
    fn new_retries_metric(&self, _name: &str) -> Arc<dyn CounterMetric> {
        Arc::new(NoopMetric)
    }
}

/// The provider that records nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopMetricsProvider;

impl MetricsProvider for NoopMetricsProvider {}

static GLOBAL_PROVIDER: OnceLock<Arc<dyn MetricsProvider>> = OnceLock::new();

/// Installs the process-wide metrics provider that named queues use when their
/// configuration names none. Only the first call takes effect, as in client-go.
/// Returns false when a provider was already installed and `provider` was dropped.
pub fn set_provider(provider: Arc<dyn MetricsProvider>) -> bool {
    GLOBAL_PROVIDER.set(provider).is_ok()
}

pub(crate) fn global_provider() -> Option<Arc<dyn MetricsProvider>> {
    GLOBAL_PROVIDER.get().cloned()
}

/// How often a queue with metrics refreshes its unfinished work and longest running
/// processor gauges (client-go's `defaultUnfinishedWorkUpdatePeriod`).
pub const UNFINISHED_WORK_UPDATE_PERIOD: Duration = Duration::from_millis(500);

/// The per-queue metrics state. It lives under the queue's lock, so the metrics
/// receive updates in the order of the queue's events.
pub(crate) struct QueueMetrics<T> {
    recorder: Option<Recorder<T>>,
}

struct Recorder<T> {
    depth: Arc<dyn GaugeMetric>,
    adds: Arc<dyn CounterMetric>,
    latency: Arc<dyn HistogramMetric>,
    work_duration: Arc<dyn HistogramMetric>,
    unfinished_work_seconds: Arc<dyn SettableGaugeMetric>,
    longest_running_processor: Arc<dyn SettableGaugeMetric>,
    add_times: HashMap<T, Instant>,
    processing_start_times: HashMap<T, Instant>,
}

impl<T: Clone + Eq + Hash> QueueMetrics<T> {
    /// Creates the metrics of the queue `name`. An empty name records nothing.
    pub(crate) fn new(name: &str, provider: Option<&dyn MetricsProvider>) -> Self {
        let recorder = match provider {
            Some(provider) if !name.is_empty() => Some(Recorder {
                depth: provider.new_depth_metric(name),
                adds: provider.new_adds_metric(name),
                latency: provider.new_latency_metric(name),
                work_duration: provider.new_work_duration_metric(name),
                unfinished_work_seconds: provider.new_unfinished_work_seconds_metric(name),
                longest_running_processor: provider
                    .new_longest_running_processor_seconds_metric(name),
                add_times: HashMap::new(),
                processing_start_times: HashMap::new(),
            }),
            _ => None,
        };
        QueueMetrics { recorder }
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.recorder.is_some()
    }

    /// Records an add that made `item` dirty; `at` is when it became ready.
    pub(crate) fn add(&mut self, item: &T, at: Instant) {
        let Some(recorder) = self.recorder.as_mut() else {
            return;
        };
        recorder.adds.inc();
        recorder.depth.inc();
        if !recorder.add_times.contains_key(item) {
            recorder.add_times.insert(item.clone(), at);
        }
    }

    /// Records that a worker got `item`.
    pub(crate) fn get(&mut self, item: &T, now: Instant) {
        let Some(recorder) = self.recorder.as_mut() else {
            return;
        };
        recorder.depth.dec();
        recorder.processing_start_times.insert(item.clone(), now);
        if let Some(added_at) = recorder.add_times.remove(item) {
            recorder.latency.observe(seconds_since(added_at, now));
        }
    }

    /// Records that a worker finished `item`.
    pub(crate) fn done(&mut self, item: &T, now: Instant) {
        let Some(recorder) = self.recorder.as_mut() else {
            return;
        };
        if let Some(started_at) = recorder.processing_start_times.remove(item) {
            recorder
                .work_duration
                .observe(seconds_since(started_at, now));
        }
    }

    /// Sets the unfinished work and longest running processor gauges.
    pub(crate) fn update_unfinished_work(&self, now: Instant) {
        let Some(recorder) = self.recorder.as_ref() else {
            return;
        };
        let mut total = 0.0;
        let mut longest: f64 = 0.0;
        for started_at in recorder.processing_start_times.values() {
            let age = seconds_since(*started_at, now);
            total += age;
            longest = longest.max(age);
        }
        recorder.unfinished_work_seconds.set(total);
        recorder.longest_running_processor.set(longest);
    }
}

/// The retries counter of a delaying queue.
pub(crate) struct RetryMetrics {
    retries: Option<Arc<dyn CounterMetric>>,
}

impl RetryMetrics {
    pub(crate) fn new(name: &str, provider: Option<&dyn MetricsProvider>) -> Self {
        let retries = match provider {
            Some(provider) if !name.is_empty() => Some(provider.new_retries_metric(name)),
            _ => None,
        };
        RetryMetrics { retries }
    }

    pub(crate) fn disabled() -> Self {
        RetryMetrics { retries: None }
    }

    pub(crate) fn retry(&self) {
        if let Some(retries) = &self.retries {
            retries.inc();
        }
    }
}

fn seconds_since(start: Instant, now: Instant) -> f64 {
    now.saturating_duration_since(start).as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnamed_queue_records_nothing() {
        let metrics: QueueMetrics<u32> = QueueMetrics::new("", Some(&NoopMetricsProvider));
        assert!(!metrics.is_enabled());

        let metrics: QueueMetrics<u32> = QueueMetrics::new("named", None);
        assert!(!metrics.is_enabled());

        let metrics: QueueMetrics<u32> = QueueMetrics::new("named", Some(&NoopMetricsProvider));
        assert!(metrics.is_enabled());
    }

    #[test]
    fn seconds_since_clamps_backwards_time() {
        let now = Instant::now();
        let cases = [
            (now, now, 0.0),
            (now, now + Duration::from_millis(1500), 1.5),
            (now + Duration::from_secs(1), now, 0.0),
        ];
        for (start, end, expected) in cases {
            assert_eq!(seconds_since(start, end), expected);
        }
    }
}
