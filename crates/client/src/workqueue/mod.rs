//! The workqueue controllers process keys from, with client-go's semantics
//! (`k8s.io/client-go/util/workqueue`, v1.18 design).
//!
//! Three layers, each a handle that clones cheaply and is shared by many tokio tasks:
//! - [`Queue`]: a FIFO that collapses duplicate adds and never hands one key to two
//!   workers at once. A key is in processing from `get` until `done`.
//! - [`DelayingQueue`]: adds `add_after`, which keeps an item back for a delay.
//! - [`RateLimitingQueue`]: adds `add_rate_limited`, whose delay comes from a
//!   [`RateLimiter`]; controllers use [`default_controller_rate_limiter`].
//!
//! A typical worker:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use client::workqueue::{default_controller_rate_limiter, RateLimitingQueue};
//! # async fn sync(_key: &str) -> Result<(), ()> { Ok(()) }
//! # async fn worker() {
//! let queue: RateLimitingQueue<String> =
//!     RateLimitingQueue::new_named(Arc::new(default_controller_rate_limiter()), "deployment");
//! while let Some(key) = queue.get().await {
//!     match sync(&key).await {
//!         Ok(()) => queue.forget(&key),
//!         Err(()) => queue.add_rate_limited(key.clone()),
//!     }
//!     queue.done(&key);
//! }
//! # }
//! ```
//!
//! Time comes from a [`Clock`]; tests pass a [`FakeClock`] in [`QueueConfig`].
//! Metrics go to a [`MetricsProvider`]; none is installed by default.

mod clock;
mod delaying;
mod metrics;
mod queue;
mod rate_limiter;
mod rate_limiting;
mod waiting;

pub use clock::{Clock, FakeClock, RealClock, Sleep};
pub use delaying::DelayingQueue;
pub use metrics::{
    CounterMetric, GaugeMetric, HistogramMetric, MetricsProvider, NoopMetric, NoopMetricsProvider,
    SettableGaugeMetric, UNFINISHED_WORK_UPDATE_PERIOD, set_provider,
};
pub use queue::{MAX_DELAY, Queue, QueueConfig};
pub use rate_limiter::{
    BucketRateLimiter, DEFAULT_CONTROLLER_BASE_DELAY, DEFAULT_CONTROLLER_BURST,
    DEFAULT_CONTROLLER_QPS, DEFAULT_MAX_DELAY, ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter, MaxOfRateLimiter, RateLimiter, default_controller_rate_limiter,
    default_item_based_rate_limiter,
};
pub use rate_limiting::RateLimitingQueue;
