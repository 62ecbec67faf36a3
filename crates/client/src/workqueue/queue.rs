//! The basic workqueue, client-go's `workqueue.Type`: a FIFO of keys with a dirty
//! set and a processing set, so that no key is processed by two workers at once and
//! a key added while processed runs again after [`Queue::done`].
//!
//! The queue state also holds the waiting set of the delaying queue, so that
//! promoting a ready item and handing it to a worker happen under one lock.

use std::collections::{HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::clock::{Clock, RealClock};
use super::metrics::{
    self, MetricsProvider, QueueMetrics, RetryMetrics, UNFINISHED_WORK_UPDATE_PERIOD,
};
use super::waiting::Waiting;

/// The maximum delay of a delayed add, about 136 years. Longer delays are shortened
/// to it, which keeps `Instant` arithmetic from overflowing.
pub const MAX_DELAY: Duration = Duration::from_secs(u32::MAX as u64);

/// The options of a queue.
#[derive(Clone)]
pub struct QueueConfig {
    /// The queue's name, which labels its metrics. An empty name records no metrics.
    pub name: String,
    /// The metrics provider. `None` uses the provider installed with
    /// [`set_provider`](super::set_provider), if any.
    pub metrics_provider: Option<Arc<dyn MetricsProvider>>,
    /// The clock for delays and metrics.
    pub clock: Arc<dyn Clock>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            name: String::new(),
            metrics_provider: None,
            clock: Arc::new(RealClock),
        }
    }
}

impl QueueConfig {
    /// Returns the default options with the queue name `name`.
    pub fn named(name: impl Into<String>) -> Self {
        QueueConfig {
            name: name.into(),
            ..QueueConfig::default()
        }
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the metrics provider.
    pub fn with_metrics_provider(mut self, provider: Arc<dyn MetricsProvider>) -> Self {
        self.metrics_provider = Some(provider);
        self
    }
}

/// A work queue of keys. Cloning returns another handle to the same queue.
///
/// Contract, as client-go's workqueue:
/// - an item added while it is queued is not queued twice;
/// - an item a worker got stays in processing until [`Queue::done`], and no other
///   worker gets it meanwhile;
/// - an add during processing queues the item again at `done`;
/// - after [`Queue::shut_down`], adds are ignored, and [`Queue::get`] still returns
///   the queued items until none are left, then `None`.
pub struct Queue<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            shared: Arc::clone(&self.shared),
        }
    }
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Woken with `notify_one` for each queued item, and with `notify_waiters` when
    /// the queue shuts down or the earliest waiting instant moves earlier.
    changed: Notify,
    clock: Arc<dyn Clock>,
}

struct State<T> {
    queue: VecDeque<T>,
    /// Items that need processing: queued ones, and those added while processed.
    dirty: HashSet<T>,
    /// Items a worker got and has not marked done.
    processing: HashSet<T>,
    shutting_down: bool,
    waiting: Waiting<T>,
    metrics: QueueMetrics<T>,
    retry_metrics: RetryMetrics,
}

impl<T: Clone + Eq + Hash + Send + 'static> Queue<T> {
    /// Creates an unnamed queue, which records no metrics.
    pub fn new() -> Self {
        Self::with_config(QueueConfig::default())
    }

    /// Creates a queue whose metrics carry `name`.
    pub fn new_named(name: impl Into<String>) -> Self {
        Self::with_config(QueueConfig::named(name))
    }

    /// Creates a queue from `config`.
    ///
    /// When the queue records metrics, this starts a task on the current tokio
    /// runtime that refreshes the unfinished work gauges every 500 ms until the
    /// queue shuts down. Outside a runtime those two gauges stay unset.
    pub fn with_config(config: QueueConfig) -> Self {
        Self::build(config, false)
    }

    pub(crate) fn build(config: QueueConfig, delaying: bool) -> Self {
        let provider = config.metrics_provider.or_else(metrics::global_provider);
        let provider = provider.as_deref();
        let retry_metrics = if delaying {
            RetryMetrics::new(&config.name, provider)
        } else {
            RetryMetrics::disabled()
        };
        let metrics = QueueMetrics::new(&config.name, provider);
        let metrics_enabled = metrics.is_enabled();

        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                dirty: HashSet::new(),
                processing: HashSet::new(),
                shutting_down: false,
                waiting: Waiting::new(),
                metrics,
                retry_metrics,
            }),
            changed: Notify::new(),
            clock: config.clock,
        });

        if metrics_enabled {
            start_unfinished_work_updates(&shared, &config.name);
        }
        Queue { shared }
    }

    /// Marks `item` as needing processing. Does nothing when the item is already
    /// queued or the queue is shutting down. An item in processing is queued again
    /// when its worker calls [`Queue::done`].
    pub fn add(&self, item: T) {
        let mut state = self.shared.lock();
        let now = self.shared.clock.now();
        self.shared.promote_ready(&mut state, now);
        self.shared.add_locked(&mut state, item, now);
    }

    /// Returns the number of queued items, not counting items in processing or
    /// items a delayed add still holds back.
    pub fn len(&self) -> usize {
        let mut state = self.shared.lock();
        let now = self.shared.clock.now();
        self.shared.promote_ready(&mut state, now);
        state.queue.len()
    }

    /// Returns true when no item is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for the next queued item and moves it into processing. The caller must
    /// call [`Queue::done`] with it when finished.
    ///
    /// Returns `None` once the queue is shutting down and no item is queued. The
    /// future is cancel safe: dropping it takes no item.
    pub async fn get(&self) -> Option<T> {
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            // Register before looking at the state, so a wake-up between the
            // check and the wait is not lost.
            changed.as_mut().enable();

            let next_ready_at = {
                let mut state = self.shared.lock();
                let now = self.shared.clock.now();
                self.shared.promote_ready(&mut state, now);

                if let Some(item) = state.queue.pop_front() {
                    state.metrics.get(&item, now);
                    state.dirty.remove(&item);
                    state.processing.insert(item.clone());
                    return Some(item);
                }
                if state.shutting_down {
                    return None;
                }
                state.waiting.next_ready_at()
            };

            match next_ready_at {
                Some(ready_at) => {
                    let sleep = self.shared.clock.sleep_until(ready_at);
                    tokio::select! {
                        _ = &mut changed => {}
                        _ = sleep => {}
                    }
                }
                None => changed.await,
            }
        }
    }

    /// Marks `item` as finished. If it was added again while in processing, it is
    /// queued again now.
    ///
    /// Unlike client-go, calling `done` for an item that is not in processing does
    /// not queue a second copy of it.
    pub fn done(&self, item: &T) {
        let mut state = self.shared.lock();
        let now = self.shared.clock.now();
        state.metrics.done(item, now);

        if state.processing.remove(item) && state.dirty.contains(item) {
            state.queue.push_back(item.clone());
            self.shared.changed.notify_one();
        }
    }

    /// Starts shutting the queue down: further adds are ignored, items held back by
    /// delayed adds are dropped, and every waiting [`Queue::get`] returns the queued
    /// items and then `None`. Calling it again does nothing.
    pub fn shut_down(&self) {
        let mut state = self.shared.lock();
        state.shutting_down = true;
        state.waiting.clear();
        self.shared.changed.notify_waiters();
    }

    /// Returns true once [`Queue::shut_down`] was called.
    pub fn shutting_down(&self) -> bool {
        self.shared.lock().shutting_down
    }

    /// Adds `item` after `delay`; a zero delay adds it at once. An item already
    /// waiting keeps the earlier of its two ready instants.
    pub(crate) fn add_after(&self, item: T, delay: Duration) {
        let mut state = self.shared.lock();
        if state.shutting_down {
            return;
        }
        state.retry_metrics.retry();

        let now = self.shared.clock.now();
        self.shared.promote_ready(&mut state, now);
        if delay.is_zero() {
            self.shared.add_locked(&mut state, item, now);
            return;
        }

        let ready_at = ready_instant(now, delay);
        if state.waiting.insert(item, ready_at) {
            // Waiting workers sleep until the old earliest instant; wake them to
            // sleep until the new one.
            self.shared.changed.notify_waiters();
        }
    }

    /// Returns the number of items that delayed adds still hold back.
    pub(crate) fn waiting_len(&self) -> usize {
        self.shared.lock().waiting.len()
    }
}

impl<T: Clone + Eq + Hash + Send + 'static> Default for Queue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Eq + Hash> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // The state stays consistent even if a metrics hook panicked under the lock.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds `item`, which became ready at `ready_at`, following client-go's `Add`.
    fn add_locked(&self, state: &mut State<T>, item: T, ready_at: Instant) {
        if state.shutting_down || state.dirty.contains(&item) {
            return;
        }
        state.metrics.add(&item, ready_at);
        state.dirty.insert(item.clone());
        if state.processing.contains(&item) {
            return;
        }
        state.queue.push_back(item);
        self.changed.notify_one();
    }

    /// Moves every waiting item whose ready instant has come into the queue, in
    /// ready order, as client-go's waiting loop would have done by `now`.
    fn promote_ready(&self, state: &mut State<T>, now: Instant) {
        while let Some((item, ready_at)) = state.waiting.pop_ready(now) {
            self.add_locked(state, item, ready_at);
        }
    }
}

fn ready_instant(now: Instant, delay: Duration) -> Instant {
    let mut delay = delay.min(MAX_DELAY);
    loop {
        if let Some(ready_at) = now.checked_add(delay) {
            return ready_at;
        }
        // Only a platform with a narrow `Instant` gets here; a zero delay always fits.
        delay /= 2;
    }
}

/// Starts the task that refreshes the unfinished work gauges. The task holds only a
/// weak reference, so it ends when the queue shuts down or is dropped.
fn start_unfinished_work_updates<T>(shared: &Arc<Shared<T>>, name: &str)
where
    T: Clone + Eq + Hash + Send + 'static,
{
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!(
            queue = name,
            "workqueue created outside a tokio runtime; unfinished work metrics are not updated"
        );
        return;
    };

    let weak: Weak<Shared<T>> = Arc::downgrade(shared);
    let clock = Arc::clone(&shared.clock);
    let mut next = clock.now() + UNFINISHED_WORK_UPDATE_PERIOD;
    runtime.spawn(async move {
        loop {
            clock.sleep_until(next).await;
            // Like a ticker that drops missed ticks.
            next = clock.now() + UNFINISHED_WORK_UPDATE_PERIOD;

            let Some(shared) = weak.upgrade() else {
                return;
            };
            let state = shared.lock();
            if state.shutting_down {
                return;
            }
            state.metrics.update_unfinished_work(shared.clock.now());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::super::clock::FakeClock;
    use super::super::metrics::{CounterMetric, GaugeMetric, HistogramMetric, SettableGaugeMetric};
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    /// Takes the next item without waiting; `None` when nothing is queued.
    fn try_get<T: Clone + Eq + Hash + Send + 'static>(queue: &Queue<T>) -> Option<T> {
        let get = queue.get();
        tokio::pin!(get);
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        match std::future::Future::poll(get.as_mut(), &mut context) {
            std::task::Poll::Ready(item) => item,
            std::task::Poll::Pending => None,
        }
    }

    #[derive(Clone, Copy, Debug)]
    enum Step {
        Add(&'static str),
        Get(Option<&'static str>),
        Done(&'static str),
        ShutDown,
        Len(usize),
    }

    #[tokio::test]
    async fn queue_semantics_table() {
        use Step::*;
        let cases: [(&str, &[Step]); 8] = [
            (
                "fifo order",
                &[
                    Add("a"),
                    Add("b"),
                    Add("c"),
                    Get(Some("a")),
                    Get(Some("b")),
                    Get(Some("c")),
                    Get(None),
                ],
            ),
            (
                "duplicate adds collapse",
                &[
                    Add("a"),
                    Add("b"),
                    Add("a"),
                    Len(2),
                    Get(Some("a")),
                    Get(Some("b")),
                    Get(None),
                ],
            ),
            (
                "re-add while processing waits for done",
                &[
                    Add("a"),
                    Get(Some("a")),
                    Add("a"),
                    Len(0),
                    Get(None),
                    Done("a"),
                    Len(1),
                    Get(Some("a")),
                ],
            ),
            (
                "adds while processing collapse",
                &[
                    Add("a"),
                    Get(Some("a")),
                    Add("a"),
                    Add("a"),
                    Done("a"),
                    Len(1),
                    Get(Some("a")),
                    Done("a"),
                    Len(0),
                ],
            ),
            (
                "done without re-add drops item",
                &[Add("a"), Get(Some("a")), Done("a"), Len(0), Get(None)],
            ),
            (
                "done of queued item keeps one copy",
                &[Add("a"), Done("a"), Len(1), Get(Some("a")), Get(None)],
            ),
            (
                "shutdown drains then ends",
                &[
                    Add("a"),
                    Add("b"),
                    ShutDown,
                    Add("c"),
                    Len(2),
                    Get(Some("a")),
                    Get(Some("b")),
                    Get(None),
                ],
            ),
            (
                "done after shutdown re-queues dirty item",
                &[
                    Add("a"),
                    Get(Some("a")),
                    Add("a"),
                    ShutDown,
                    Done("a"),
                    Get(Some("a")),
                    Done("a"),
                    Get(None),
                ],
            ),
        ];

        for (name, steps) in cases {
            let queue: Queue<&str> = Queue::new();
            for (index, step) in steps.iter().enumerate() {
                match *step {
                    Add(item) => queue.add(item),
                    Get(expected) => {
                        assert_eq!(try_get(&queue), expected, "case {name}, step {index}")
                    }
                    Done(item) => queue.done(&item),
                    ShutDown => queue.shut_down(),
                    Len(expected) => assert_eq!(queue.len(), expected, "case {name}, step {index}"),
                }
            }
        }
    }

    #[tokio::test]
    async fn get_returns_none_after_shutdown() {
        let queue: Queue<u32> = Queue::new();
        assert!(!queue.shutting_down());

        let waiter = tokio::spawn({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        tokio::task::yield_now().await;
        queue.shut_down();

        let got = tokio::time::timeout(Duration::from_secs(5), waiter).await;
        assert!(
            matches!(got, Ok(Ok(None))),
            "waiting get did not end: {got:?}"
        );
        assert!(queue.shutting_down());
    }

    #[tokio::test]
    async fn cancelled_get_takes_nothing() {
        let queue: Queue<u32> = Queue::new();
        let timed_out = tokio::time::timeout(Duration::from_millis(10), queue.get()).await;
        assert!(timed_out.is_err());

        queue.add(1);
        let waiter = tokio::spawn({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        let got = tokio::time::timeout(Duration::from_secs(5), waiter).await;
        assert!(matches!(got, Ok(Ok(Some(1)))), "get after cancel: {got:?}");
    }

    #[test]
    fn ready_instant_caps_delay() {
        let now = Instant::now();
        assert_eq!(
            ready_instant(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
        assert_eq!(ready_instant(now, Duration::MAX), now + MAX_DELAY);
    }

    /// Records every metric update as an integer (seconds times 1000 for the
    /// observations and settable gauges).
    #[derive(Default)]
    struct Recorded {
        depth: AtomicI64,
        adds: AtomicI64,
        latency_ms: AtomicI64,
        work_duration_ms: AtomicI64,
        unfinished_ms: AtomicI64,
        longest_ms: AtomicI64,
        retries: AtomicI64,
    }

    struct Gauge(Arc<Recorded>);
    impl GaugeMetric for Gauge {
        fn inc(&self) {
            self.0.depth.fetch_add(1, Ordering::SeqCst);
        }
        fn dec(&self) {
            self.0.depth.fetch_sub(1, Ordering::SeqCst);
        }
    }

    struct Counter(Arc<Recorded>, bool);
    impl CounterMetric for Counter {
        fn inc(&self) {
            let counter = if self.1 {
                &self.0.retries
            } else {
                &self.0.adds
            };
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }

    struct Histogram(Arc<Recorded>, bool);
    impl HistogramMetric for Histogram {
        fn observe(&self, value: f64) {
            let sum = if self.1 {
                &self.0.work_duration_ms
            } else {
                &self.0.latency_ms
            };
            sum.fetch_add((value * 1000.0).round() as i64, Ordering::SeqCst);
        }
    }

    struct Settable(Arc<Recorded>, bool);
    impl SettableGaugeMetric for Settable {
        fn set(&self, value: f64) {
            let gauge = if self.1 {
                &self.0.longest_ms
            } else {
                &self.0.unfinished_ms
            };
            gauge.store((value * 1000.0).round() as i64, Ordering::SeqCst);
        }
    }

    struct RecordingProvider(Arc<Recorded>);
    impl MetricsProvider for RecordingProvider {
        fn new_depth_metric(&self, _name: &str) -> Arc<dyn GaugeMetric> {
            Arc::new(Gauge(self.0.clone()))
        }
        fn new_adds_metric(&self, _name: &str) -> Arc<dyn CounterMetric> {
            Arc::new(Counter(self.0.clone(), false))
        }
        fn new_latency_metric(&self, _name: &str) -> Arc<dyn HistogramMetric> {
            Arc::new(Histogram(self.0.clone(), false))
        }
        fn new_work_duration_metric(&self, _name: &str) -> Arc<dyn HistogramMetric> {
            Arc::new(Histogram(self.0.clone(), true))
        }
        fn new_unfinished_work_seconds_metric(&self, _name: &str) -> Arc<dyn SettableGaugeMetric> {
            Arc::new(Settable(self.0.clone(), false))
        }
        fn new_longest_running_processor_seconds_metric(
            &self,
            _name: &str,
        ) -> Arc<dyn SettableGaugeMetric> {
            Arc::new(Settable(self.0.clone(), true))
        }
        fn new_retries_metric(&self, _name: &str) -> Arc<dyn CounterMetric> {
            Arc::new(Counter(self.0.clone(), true))
        }
    }

    fn value(counter: &AtomicI64) -> i64 {
        counter.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn metrics_follow_queue_events() {
        let recorded = Arc::new(Recorded::default());
        let clock = FakeClock::shared();
        let config = QueueConfig::named("test")
            .with_clock(clock.clone())
            .with_metrics_provider(Arc::new(RecordingProvider(recorded.clone())));
        let queue: Queue<&str> = Queue::build(config, true);

        queue.add("a");
        queue.add("a");
        queue.add("b");
        assert_eq!(value(&recorded.adds), 2);
        assert_eq!(value(&recorded.depth), 2);

        clock.step(Duration::from_millis(1500));
        assert_eq!(try_get(&queue), Some("a"));
        assert_eq!(value(&recorded.depth), 1);
        assert_eq!(value(&recorded.latency_ms), 1500);

        clock.step(Duration::from_millis(250));
        queue.done(&"a");
        assert_eq!(value(&recorded.work_duration_ms), 250);

        // A delayed add counts a retry, and its latency starts at its ready instant.
        queue.add_after("c", Duration::from_secs(1));
        assert_eq!(value(&recorded.retries), 1);
        assert_eq!(value(&recorded.adds), 2);
        clock.step(Duration::from_secs(3));
        assert_eq!(try_get(&queue), Some("b"));
        assert_eq!(try_get(&queue), Some("c"));
        assert_eq!(value(&recorded.adds), 3);
        assert_eq!(value(&recorded.depth), 0);
        assert_eq!(value(&recorded.latency_ms), 1500 + 4750 + 2000);

        // "b" and "c" have been in processing for 2.5 s each when the periodic task runs.
        clock.step(UNFINISHED_WORK_UPDATE_PERIOD * 5);
        let deadline = Instant::now() + Duration::from_secs(5);
        while value(&recorded.longest_ms) == 0 && Instant::now() < deadline {
            tokio::task::yield_now().await;
        }
        assert!(
            value(&recorded.longest_ms) >= 2500,
            "longest: {}",
            value(&recorded.longest_ms)
        );
        assert_eq!(
            value(&recorded.unfinished_ms),
            2 * value(&recorded.longest_ms)
        );

        queue.shut_down();
    }
}
