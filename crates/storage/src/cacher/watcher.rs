//! The watcher: one watch served by the cacher.
//!
//! A [`Watcher`] first yields its initial events (the current state as `Added`
//! events for a watch from revision 0, or the recorded events after the requested
//! revision), then the live events the dispatcher pushes into its bounded channel.
//! [`WatchFilter::convert`] turns a recorded event into the event a watcher
//! receives, the same way for initial and live events.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

use crate::interface::{Error, EventType};

use super::attrs::CachedAttrs;
use super::dispatcher::WatcherRegistry;
use super::object::{CacheEvent, CachedObject, FilterFunc, WatchEventType};
use super::watch_cache::WatchCacheEvent;

/// The key prefix and predicate one list or watch selects objects with.
#[derive(Clone)]
pub(crate) struct WatchFilter {
    pub prefix: String,
    pub predicate: Option<FilterFunc>,
}

impl WatchFilter {
    pub fn matches(&self, key: &str, attrs: &CachedAttrs) -> bool {
        if !key.starts_with(&self.prefix) {
            return false;
        }
        match &self.predicate {
            Some(predicate) => predicate(key, attrs),
            None => true,
        }
    }

    /// Turns a recorded event into the event this watcher receives, or `None` when
    /// neither the object before nor after the write matches. A modification
    /// that makes an object match is reported as `Added`; one that makes it stop
    /// matching is reported as `Deleted` with the object's previous state.
    pub fn convert(&self, event: &Arc<WatchCacheEvent>) -> Option<CacheEvent> {
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
            recorded: Some(event.clone()),
        })
    }
}

/// State a watcher shares with the dispatcher.
#[derive(Default)]
pub(crate) struct WatcherShared {
    /// Error that ended this watch, yielded once the channel is drained.
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
    ///   events this watcher needed are lost, so the client must list again;
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
                    recorded: None,
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Instant;

    use bytes::Bytes;

    use super::*;
    use crate::cacher::object::{AttrsFunc, ObjectAttrs};
    use crate::cacher::watch_cache::{HistoryLimits, ObjectBuilder, WatchCache};
    use crate::interface::{Event, KeyValue};

    /// Values are the object's `app` label, or empty for no label.
    fn cache() -> WatchCache {
        let attrs_func: AttrsFunc = Arc::new(|kv: &KeyValue| {
            let mut attrs = ObjectAttrs::default();
            if !kv.value.is_empty() {
                let app = String::from_utf8_lossy(&kv.value).into_owned();
                attrs.labels.insert("app".to_string(), app);
            }
            Ok(attrs)
        });
        let limits = HistoryLimits {
            window: std::time::Duration::from_secs(75),
            min_capacity: 16,
            max_capacity: 16,
        };
        WatchCache::new(ObjectBuilder::new(attrs_func, BTreeMap::new()), limits)
    }

    fn kv(key: &str, app: &str, mod_revision: i64) -> KeyValue {
        KeyValue {
            key: key.to_string(),
            value: Bytes::from(app.to_string()),
            create_revision: 1,
            mod_revision,
        }
    }

    fn web_filter(prefix: &str) -> WatchFilter {
        let predicate: FilterFunc = Arc::new(|_: &str, attrs: &CachedAttrs| {
            attrs.labels.get("app").is_some_and(|app| app == "web")
        });
        WatchFilter {
            prefix: prefix.to_string(),
            predicate: Some(predicate),
        }
    }

    #[test]
    fn convert_reports_selector_transitions() {
        // (storage event type, app before, app after, expected watch event type, expected object value)
        type Case = (
            EventType,
            Option<&'static str>,
            &'static str,
            Option<WatchEventType>,
            &'static str,
        );
        let cases: [Case; 8] = [
            (
                EventType::Created,
                None,
                "web",
                Some(WatchEventType::Added),
                "web",
            ),
            (EventType::Created, None, "db", None, ""),
            (
                EventType::Modified,
                Some("web"),
                "web",
                Some(WatchEventType::Modified),
                "web",
            ),
            (
                EventType::Modified,
                Some("db"),
                "web",
                Some(WatchEventType::Added),
                "web",
            ),
            (
                EventType::Modified,
                Some("web"),
                "db",
                Some(WatchEventType::Deleted),
                "web",
            ),
            (EventType::Modified, Some("db"), "db", None, ""),
            (
                EventType::Deleted,
                Some("web"),
                "",
                Some(WatchEventType::Deleted),
                "web",
            ),
            (EventType::Deleted, Some("db"), "", None, ""),
        ];
        let filter = web_filter("/registry/pods/");
        for (index, (event_type, before, after, expected_type, expected_value)) in
            cases.into_iter().enumerate()
        {
            let mut cache = cache();
            let existing = before.map(|app| kv("/registry/pods/ns/a", app, 2));
            cache.replace(existing.clone().into_iter().collect(), 2);
            let event = Event {
                event_type,
                kv: kv("/registry/pods/ns/a", after, 3),
                prev_kv: existing,
            };
            let recorded = cache.apply(event, Instant::now()).unwrap();

            let converted = filter.convert(&recorded);
            assert_eq!(
                converted.as_ref().map(|e| e.event_type),
                expected_type,
                "case {index}"
            );
            if let Some(converted) = converted {
                assert_eq!(
                    converted.object.kv.value,
                    Bytes::from(expected_value),
                    "case {index}"
                );
                assert_eq!(converted.object.resource_version(), 3, "case {index}");
                assert_eq!(converted.revision, 3, "case {index}");
            }
        }
    }

    #[test]
    fn convert_skips_keys_outside_prefix() {
        let mut cache = cache();
        cache.replace(vec![], 1);
        let event = Event {
            event_type: EventType::Created,
            kv: kv("/registry/pods/other/a", "web", 2),
            prev_kv: None,
        };
        let recorded = cache.apply(event, Instant::now()).unwrap();
        assert!(
            web_filter("/registry/pods/ns/")
                .convert(&recorded)
                .is_none()
        );
        assert!(web_filter("/registry/pods/").convert(&recorded).is_some());
    }
}
