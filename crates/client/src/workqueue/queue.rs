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

/// The longest delay a delayed add honours; longer delays are shortened to this
/// (about 136 years), which keeps `Instant` arithmetic from overflowing.
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
///   worker gets it meanwhile; an add during processing queues it again at `done`;
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
    runtime.spawn(async move {
        let mut next = clock.now() + UNFINISHED_WORK_UPDATE_PERIOD;
        loop {
            clock.sleep_until(next).await;
            next += UNFINISHED_WORK_UPDATE_PERIOD;

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
