//! The dispatcher: fans each cached event out to the interested watchers.
//!
//! [`run_dispatcher`] reads the reflector's items, in revision order, from a
//! bounded queue. For each event it selects the watchers through the registry.
//! It takes every watcher without an index trigger, plus the watchers whose
//! trigger value (for pods, the node name of a kubelet's watch) equals an index
//! value of the object before or after the write. Each watcher gets the event
//! through its own bounded channel. Watchers whose channel is full get a shared time budget to make
//! room; the budget refills at 50 ms per second up to 100 ms by default, like
//! upstream's. A watcher still full when the budget runs out is terminated, so
//! one slow client cannot stall the others.
//!
//! The dispatcher also sends bookmarks: periodically to every watcher that allows
//! them, and to all of them at once on a progress notification from storage.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::interface::Error;

use super::object::{CacheEvent, CachedObject, WatchEventType};
use super::watch_cache::WatchCacheEvent;
use super::watcher::{WatchFilter, WatcherShared};

/// Least time a blocked watcher gets to make room, even when the shared budget is
/// empty. Bounds the dispatcher's stall per blocked event while the budget is spent.
const MIN_BLOCKED_WAIT: Duration = Duration::from_millis(25);

/// An item the reflector queues for the dispatcher, in revision order.
pub(crate) enum DispatchItem {
    /// A write recorded in the watch cache.
    Event(Arc<WatchCacheEvent>),
    /// Storage reported that every change up to this revision was delivered.
    Progress(i64),
    /// The cache was replaced by a list at `revision`. When `changed`, watchers
    /// positioned before `revision` missed events and are terminated with Gone.
    Replaced { revision: i64, changed: bool },
}

/// A registered watcher: its channel and the data that routes events to it.
pub(crate) struct WatcherEntry {
    pub sender: mpsc::Sender<CacheEvent>,
    pub shared: Arc<WatcherShared>,
    pub filter: WatchFilter,
    /// Index name and value the watcher's filter requires, used to route events.
    pub trigger: Option<(String, String)>,
    /// Events at or below this revision reached the watcher as initial events.
    pub start_revision: i64,
    pub allow_bookmarks: bool,
    pub next_bookmark_at: Instant,
}

#[derive(Default)]
struct RegistryInner {
    next_id: u64,
    watchers: HashMap<u64, WatcherEntry>,
    untriggered: HashSet<u64>,
    /// index name -> index value -> watcher ids
    triggered: HashMap<String, HashMap<String, HashSet<u64>>>,
    closed: bool,
}

impl RegistryInner {
    fn remove(&mut self, id: u64) -> Option<WatcherEntry> {
        let entry = self.watchers.remove(&id)?;
        match &entry.trigger {
            None => {
                self.untriggered.remove(&id);
            }
            Some((name, value)) => {
                if let Some(values) = self.triggered.get_mut(name) {
                    if let Some(ids) = values.get_mut(value) {
                        ids.remove(&id);
                        if ids.is_empty() {
                            values.remove(value);
                        }
                    }
                    if values.is_empty() {
                        self.triggered.remove(name);
                    }
                }
            }
        }
        Some(entry)
    }

    fn terminate(&mut self, id: u64, error: Error) {
        if let Some(entry) = self.remove(id) {
            entry.shared.terminate(error);
        }
    }

    /// Collects the ids of the watchers an event may interest, each once.
    fn candidates(&self, event: &WatchCacheEvent) -> Vec<u64> {
        let mut ids: Vec<u64> = self.untriggered.iter().copied().collect();
        if self.triggered.is_empty() {
            return ids;
        }
        let objects = std::iter::once(&event.object).chain(event.prev_object.as_ref());
        let first_triggered = ids.len();
        for object in objects {
            for (name, value) in object.all_index_values() {
                let Some(watchers_by_value) = self.triggered.get(name) else {
                    continue;
                };
                if let Some(watchers) = watchers_by_value.get(value) {
                    ids.extend(watchers.iter().copied());
                }
            }
        }
        // A watcher may match both the object and its previous state.
        let mut triggered = ids.split_off(first_triggered);
        triggered.sort_unstable();
        triggered.dedup();
        ids.extend(triggered);
        ids
    }
}

/// The set of live watchers of one cacher, shared by the cacher (which adds
/// them), the watchers (which remove themselves on drop) and the dispatcher.
#[derive(Default)]
pub(crate) struct WatcherRegistry {
    inner: Mutex<RegistryInner>,
}

impl WatcherRegistry {
    fn lock(&self) -> MutexGuard<'_, RegistryInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a watcher and returns its id, or `None` once the cacher stopped.
    pub fn add(&self, entry: WatcherEntry) -> Option<u64> {
        let mut inner = self.lock();
        if inner.closed {
            return None;
        }
        let id = inner.next_id;
        inner.next_id += 1;
        match &entry.trigger {
            None => {
                inner.untriggered.insert(id);
            }
            Some((name, value)) => {
                inner
                    .triggered
                    .entry(name.clone())
                    .or_default()
                    .entry(value.clone())
                    .or_default()
                    .insert(id);
            }
        }
        inner.watchers.insert(id, entry);
        Some(id)
    }

    pub fn remove(&self, id: u64) {
        self.lock().remove(id);
    }

    pub fn len(&self) -> usize {
        self.lock().watchers.len()
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Drops every watcher's channel, so each watch ends, and rejects new ones.
    pub fn close(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        inner.watchers.clear();
        inner.untriggered.clear();
        inner.triggered.clear();
    }
}

/// Settings of the dispatcher.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DispatcherSettings {
    pub budget_max: Duration,
    pub budget_refresh_per_second: Duration,
    pub bookmark_interval: Duration,
}

/// A time budget that refills at a steady rate up to a maximum, for blocking on
/// full watcher channels.
#[derive(Debug)]
pub(crate) struct TimeBudget {
    available: Duration,
    max: Duration,
    refresh_per_second: Duration,
    refreshed_at: Instant,
}

impl TimeBudget {
    pub fn new(max: Duration, refresh_per_second: Duration, now: Instant) -> Self {
        TimeBudget {
            available: max,
            max,
            refresh_per_second,
            refreshed_at: now,
        }
    }

    fn refresh(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refreshed_at);
        let refill = self.refresh_per_second.mul_f64(elapsed.as_secs_f64());
        self.available = (self.available + refill).min(self.max);
        self.refreshed_at = now;
    }

    /// Takes the whole available budget.
    pub fn take_available(&mut self, now: Instant) -> Duration {
        self.refresh(now);
        std::mem::take(&mut self.available)
    }

    /// Gives back the part of a taken budget that was not spent.
    pub fn return_unused(&mut self, unused: Duration, now: Instant) {
        self.refresh(now);
        self.available = (self.available + unused).min(self.max);
    }
}

struct Dispatcher {
    registry: Arc<WatcherRegistry>,
    settings: DispatcherSettings,
    budget: TimeBudget,
    /// Revision of the last item handled; bookmarks carry it.
    last_revision: i64,
    prefix: String,
}

/// Runs the dispatch loop until the reflector's queue closes, then closes the
/// registry so that every watch ends.
pub(crate) async fn run_dispatcher(
    mut items: mpsc::Receiver<DispatchItem>,
    registry: Arc<WatcherRegistry>,
    settings: DispatcherSettings,
    prefix: String,
) {
    let now = Instant::now();
    let mut dispatcher = Dispatcher {
        registry,
        settings,
        budget: TimeBudget::new(settings.budget_max, settings.budget_refresh_per_second, now),
        last_revision: 0,
        prefix,
    };
    let tick_period = settings
        .bookmark_interval
        .min(Duration::from_secs(1))
        .max(Duration::from_millis(10));
    let mut bookmark_tick = tokio::time::interval(tick_period);
    bookmark_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        tokio::select! {
            item = items.recv() => match item {
                Some(DispatchItem::Event(event)) => dispatcher.dispatch_event(&event).await,
                Some(DispatchItem::Progress(revision)) => dispatcher.progress(revision),
                Some(DispatchItem::Replaced { revision, changed }) => dispatcher.replaced(revision, changed),
                None => break,
            },
            _ = bookmark_tick.tick() => dispatcher.send_due_bookmarks(),
        }
    }
    dispatcher.registry.close();
}

impl Dispatcher {
    async fn dispatch_event(&mut self, event: &Arc<WatchCacheEvent>) {
        self.last_revision = self.last_revision.max(event.revision);
        let mut blocked = Vec::new();

        {
            let mut inner = self.registry.lock();
            let mut closed = Vec::new();
            for id in inner.candidates(event) {
                let Some(entry) = inner.watchers.get(&id) else {
                    continue;
                };
                if event.revision <= entry.start_revision {
                    continue;
                }
                let Some(delivered) = entry.filter.convert(event) else {
                    continue;
                };
                match entry.sender.try_send(delivered) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(delivered)) => {
                        blocked.push((id, entry.sender.clone(), delivered));
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => closed.push(id),
                }
            }
            for id in closed {
                inner.remove(id);
            }
        }

        if !blocked.is_empty() {
            self.dispatch_to_blocked(blocked).await;
        }
    }

    /// Waits for room in full channels while the budget lasts, then terminates
    /// the watchers that still have none. Every other watcher waits meanwhile,
    /// which the budget bounds.
    async fn dispatch_to_blocked(
        &mut self,
        blocked: Vec<(u64, mpsc::Sender<CacheEvent>, CacheEvent)>,
    ) {
        let taken = self.budget.take_available(Instant::now());
        // A watcher blocked right after a slow one emptied the shared budget still gets
        // a short wait: a burst of queued events fills even a fast reader's channel
        // for a moment, and terminating it then would punish it for the slow one.
        let budget = taken.max(MIN_BLOCKED_WAIT);
        let deadline = Instant::now() + budget;
        let mut too_slow = Vec::new();
        let mut closed = Vec::new();

        for (id, sender, event) in blocked {
            match tokio::time::timeout_at(deadline, sender.send(event)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => closed.push(id),
                Err(_) => too_slow.push(id),
            }
        }

        let now = Instant::now();
        let unused = deadline.saturating_duration_since(now).min(taken);
        self.budget.return_unused(unused, now);

        let mut inner = self.registry.lock();
        for id in closed {
            inner.remove(id);
        }
        for id in too_slow {
            tracing::warn!(prefix = %self.prefix, watcher = id, budget_ms = budget.as_millis() as u64,
                "cacher: terminating unresponsive watcher whose channel stayed full");
            inner.terminate(
                id,
                Error::Timeout(
                    "watch terminated because the client did not read events fast enough; \
                     watch again from the last received resourceVersion"
                        .to_string(),
                ),
            );
        }
    }

    /// Sends every bookmark watcher a bookmark when a progress notification
    /// moved the revision forward.
    fn progress(&mut self, revision: i64) {
        if revision <= self.last_revision {
            return;
        }
        self.last_revision = revision;
        self.send_bookmarks(|_| true);
    }

    fn replaced(&mut self, revision: i64, changed: bool) {
        let position = self.last_revision;
        self.last_revision = self.last_revision.max(revision);
        if !changed {
            return;
        }

        let mut inner = self.registry.lock();
        let invalidated: Vec<(u64, i64)> = inner
            .watchers
            .iter()
            .filter(|(_, entry)| entry.start_revision < revision)
            .map(|(id, entry)| (*id, entry.start_revision.max(position)))
            .collect();
        if !invalidated.is_empty() {
            tracing::info!(prefix = %self.prefix, resource_version = revision, watchers = invalidated.len(),
                "cacher: relist changed the cached state; terminating watchers that missed events");
        }
        for (id, requested) in invalidated {
            inner.terminate(
                id,
                Error::Compacted {
                    requested,
                    compacted: revision,
                },
            );
        }
    }

    fn send_due_bookmarks(&mut self) {
        let now = Instant::now();
        self.send_bookmarks(|entry| entry.next_bookmark_at <= now);
    }

    /// Sends a bookmark at the last revision to each watcher that allows
    /// bookmarks, is selected by `due`, and has its position at or below it. A
    /// full channel skips the bookmark: the watcher has events to read anyway,
    /// and the next tick tries again.
    fn send_bookmarks(&mut self, due: impl Fn(&WatcherEntry) -> bool) {
        let revision = self.last_revision;
        if revision == 0 {
            return;
        }
        let now = Instant::now();
        let bookmark = Arc::new(CachedObject::bookmark(revision));
        let interval = self.settings.bookmark_interval;

        let mut inner = self.registry.lock();
        let mut closed = Vec::new();
        for (id, entry) in inner.watchers.iter_mut() {
            if !entry.allow_bookmarks || entry.start_revision > revision || !due(entry) {
                continue;
            }
            let event = CacheEvent {
                event_type: WatchEventType::Bookmark,
                object: bookmark.clone(),
                prev_object: None,
                revision,
                recorded: None,
            };
            match entry.sender.try_send(event) {
                Ok(()) => entry.next_bookmark_at = now + interval,
                Err(mpsc::error::TrySendError::Full(_)) => {}
                Err(mpsc::error::TrySendError::Closed(_)) => closed.push(*id),
            }
        }
        for id in closed {
            inner.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn time_budget_refills_and_caps() {
        let start = Instant::now();
        // (step, milliseconds since start, expected budget taken or available after)
        enum Step {
            Take,
            Return(Duration),
        }
        let cases = [
            (Step::Take, 0, 100 * MS),
            (Step::Take, 0, Duration::ZERO),
            (Step::Take, 1000, 50 * MS),
            (Step::Return(30 * MS), 1000, 30 * MS),
            (Step::Take, 1500, 55 * MS),
            (Step::Return(90 * MS), 1500, 90 * MS),
            (Step::Return(Duration::ZERO), 5000, 100 * MS),
        ];
        let mut budget = TimeBudget::new(100 * MS, 50 * MS, start);
        for (index, (step, at_ms, expected)) in cases.into_iter().enumerate() {
            let now = start + at_ms * MS;
            let observed = match step {
                Step::Take => budget.take_available(now),
                Step::Return(unused) => {
                    budget.return_unused(unused, now);
                    budget.available
                }
            };
            assert_eq!(observed, expected, "step {index}");
        }
    }
}
