//! The watcher: one watch served by the cacher.
//!
//! A [`Watcher`] first yields its initial events (the current state as `Added`
//! events for a watch from revision 0, or the recorded events after the requested
//! revision), then the live events the dispatcher pushes into its bounded channel.
//! [`WatchFilter::convert`] turns a recorded event into what this watcher sees,
//! the same way for initial and live events.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

use crate::interface::{Error, EventType};

use super::dispatcher::WatcherRegistry;
use super::object::{CacheEvent, CachedObject, FilterFunc, ObjectAttrs, WatchEventType};
use super::watch_cache::WatchCacheEvent;

/// The key prefix and predicate one list or watch selects objects with.
#[derive(Clone)]
pub(crate) struct WatchFilter {
    pub prefix: String,
    pub predicate: Option<FilterFunc>,
}

impl WatchFilter {
    pub fn matches(&self, key: &str, attrs: &ObjectAttrs) -> bool {
        if !key.starts_with(&self.prefix) {
            return false;
        }
        match &self.predicate {
            Some(predicate) => predicate(key, attrs),
            None => true,
        }
    }

    /// Turns a recorded event into the event this watcher sees, or `None` when
    /// neither the object before nor after the write matches. A modification
    /// that makes an object match is reported as `Added`; one that makes it stop
    /// matching is reported as `Deleted` with the object's previous state.
    pub fn convert(&self, event: &WatchCacheEvent) -> Option<CacheEvent> {
        let key = event.key();
        let current_matches =
            event.event_type != EventType::Deleted && self.matches(key, &event.object.attrs);
        let previous_matches = event
            .prev_object
            .as_ref()
            .is_some_and(|prev| self.matches(key, &prev.attrs));

        let (event_type, object) = match (current_matches, previous_matches) {
            (true, false) => (WatchEventType::Added, event.object.clone()),
            (true, true) => (WatchEventType::Modified, event.object.clone()),
            (false, true) => (WatchEventType::Deleted, event.deleted_object()),
            (false, false) => return None,
        };
        Some(CacheEvent {
            event_type,
            object,
            prev_object: event.prev_object.clone(),
            revision: event.revision,
        })
    }
}

/// State a watcher shares with the dispatcher.
#[derive(Default)]
pub(crate) struct WatcherShared {
    /// Why the dispatcher ended this watch; yielded once the channel is drained.
    termination: Mutex<Option<Error>>,
}

impl WatcherShared {
    pub fn terminate(&self, error: Error) {
        let mut termination = self
            .termination
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        termination.get_or_insert(error);
    }

    fn take_termination(&self) -> Option<Error> {
        self.termination
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// An event the watcher yields before its live events.
pub(crate) enum InitialEvent {
    /// A recorded event replayed from the window.
    Replayed(Arc<WatchCacheEvent>),
    /// An object of the current state, reported as `Added` at `revision`.
    Existing {
        object: Arc<CachedObject>,
        revision: i64,
    },
}

/// A watch served from the cacher's memory; see [`super::Cacher::watch`].
///
/// Dropping the watcher unregisters it.
pub struct Watcher {
    id: u64,
    filter: WatchFilter,
    initial: VecDeque<InitialEvent>,
    receiver: mpsc::Receiver<CacheEvent>,
    shared: Arc<WatcherShared>,
    registry: Arc<WatcherRegistry>,
    finished: bool,
}

impl Watcher {
    pub(crate) fn new(
        id: u64,
        filter: WatchFilter,
        initial: VecDeque<InitialEvent>,
        receiver: mpsc::Receiver<CacheEvent>,
        shared: Arc<WatcherShared>,
        registry: Arc<WatcherRegistry>,
    ) -> Self {
        Watcher {
            id,
            filter,
            initial,
            receiver,
            shared,
            registry,
            finished: false,
        }
    }

    /// Receives the next event.
    ///
    /// Returns `Some(Err(..))` once when the cacher ended the watch, after the
    /// events already queued for it:
    /// - [`Error::Compacted`] (410 Gone) when a relist replaced the cache and
    ///   events this watcher needed are lost; the client must list again;
    /// - [`Error::Timeout`] when the watcher did not keep up: its channel stayed
    ///   full beyond the dispatch budget.
    ///
    /// Returns `None` when the watch is over (after such an error, or when the
    /// cacher stopped).
    pub async fn next(&mut self) -> Option<Result<CacheEvent, Error>> {
        while let Some(initial) = self.initial.pop_front() {
            if let Some(event) = self.convert_initial(initial) {
                return Some(Ok(event));
            }
        }
        if self.finished {
            return None;
        }
        match self.receiver.recv().await {
            Some(event) => Some(Ok(event)),
            None => {
                self.finished = true;
                self.shared.take_termination().map(Err)
            }
        }
    }

    /// Receives the next event unless none arrives within `timeout`.
    pub async fn next_timeout(
        &mut self,
        timeout: std::time::Duration,
    ) -> Result<Option<Result<CacheEvent, Error>>, tokio::time::error::Elapsed> {
        tokio::time::timeout(timeout, self.next()).await
    }

    fn convert_initial(&self, initial: InitialEvent) -> Option<CacheEvent> {
        match initial {
            InitialEvent::Replayed(event) => self.filter.convert(&event),
            InitialEvent::Existing { object, revision } => {
                if !self.filter.matches(object.key(), &object.attrs) {
                    return None;
                }
                Some(CacheEvent {
                    event_type: WatchEventType::Added,
                    object,
                    prev_object: None,
                    revision,
                })
            }
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.registry.remove(self.id);
    }
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("id", &self.id)
            .field("prefix", &self.filter.prefix)
            .field("initial_events", &self.initial.len())
            .field("finished", &self.finished)
            .finish()
    }
}
