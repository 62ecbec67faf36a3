//! The watch cache: the current state of one resource prefix in memory, its
//! secondary indexes, and a sliding window of recent events.
//!
//! [`WatchCache`] is plain data guarded by the cacher's lock. The reflector feeds
//! it with [`WatchCache::replace`] after each list and [`WatchCache::apply`] for
//! each watch event; lists read [`WatchCache::list`] and watches start from
//! [`WatchCache::events_since`].
//!
//! The event window resizes itself as upstream's does. When it is full and its
//! oldest event is younger than the time window (75 s by default), its capacity
//! doubles up to the maximum. When the oldest event of its newest quarter is
//! already older than the window, it halves down to the minimum.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::interface::{Error, Event, EventType, KeyValue};

use super::attrs::{CachedAttrs, NameInterner, StringMap};
use super::object::{AttrsFunc, CachedObject, FrameCache, IndexFunc, ObjectAttrs};

/// One change to one key as the watch cache records it.
pub(crate) struct WatchCacheEvent {
    pub event_type: EventType,
    /// The object after the write. For [`EventType::Deleted`] the last state
    /// before the delete, with `mod_revision` set to the delete's revision.
    pub object: Arc<CachedObject>,
    /// The cached object before the write; `None` for creations.
    pub prev_object: Option<Arc<CachedObject>>,
    pub revision: i64,
    pub recorded_at: Instant,
    /// The previous object at this event's revision, built once on demand for
    /// watchers whose filter the object leaves with this write.
    leaving_object: OnceLock<Arc<CachedObject>>,
    /// Wire frames of this write, shared by every watcher that sends it.
    pub(crate) frames: FrameCache,
}

impl WatchCacheEvent {
    pub fn new(
        event_type: EventType,
        object: Arc<CachedObject>,
        prev_object: Option<Arc<CachedObject>>,
        revision: i64,
        recorded_at: Instant,
    ) -> Self {
        WatchCacheEvent {
            event_type,
            object,
            prev_object,
            revision,
            recorded_at,
            leaving_object: OnceLock::new(),
            frames: FrameCache::default(),
        }
    }

    pub fn key(&self) -> &str {
        self.object.key()
    }

    /// Returns the object a `Deleted` watch event for this write carries: the
    /// object as it was before the write, at this event's revision.
    pub fn deleted_object(&self) -> Arc<CachedObject> {
        if self.event_type == EventType::Deleted {
            return self.object.clone();
        }
        let prev = match &self.prev_object {
            Some(prev) => prev,
            None => return self.object.clone(),
        };
        self.leaving_object
            .get_or_init(|| Arc::new(prev.at_revision(self.revision)))
            .clone()
    }
}

/// Builds cached objects: extracts attributes and index values once per version.
#[derive(Clone)]
pub(crate) struct ObjectBuilder {
    attrs_func: AttrsFunc,
    indexers: BTreeMap<String, IndexFunc>,
    /// Shares the label, field and index names between the resource's objects.
    names: Arc<NameInterner>,
}

impl ObjectBuilder {
    pub fn new(attrs_func: AttrsFunc, indexers: BTreeMap<String, IndexFunc>) -> Self {
        ObjectBuilder {
            attrs_func,
            indexers,
            names: Arc::default(),
        }
    }

    pub fn has_index(&self, name: &str) -> bool {
        self.indexers.contains_key(name)
    }

    pub fn has_indexers(&self) -> bool {
        !self.indexers.is_empty()
    }

    pub fn build(&self, kv: KeyValue) -> CachedObject {
        let attrs = match (self.attrs_func)(&kv) {
            Ok(attrs) => attrs,
            Err(error) => {
                // NOTE: an object whose attributes cannot be extracted stays in the
                // cache with empty labels and fields, so selectors that need them
                // do not match it. Upstream drops such an event instead, which
                // leaves a stale object behind.
                tracing::warn!(key = %kv.key, resource_version = kv.mod_revision, %error,
                    "cacher: cannot extract object attributes; caching it without labels and fields");
                ObjectAttrs::default()
            }
        };
        let index_values: Vec<(&str, String)> = self
            .indexers
            .iter()
            .flat_map(|(name, index)| {
                index(&attrs)
                    .into_iter()
                    .map(move |value| (name.as_str(), value))
            })
            .collect();
        let index_values = StringMap::from_pairs(
            &self.names,
            index_values
                .iter()
                .map(|(name, value)| (*name, value.as_str())),
        );
        CachedObject::new(kv, CachedAttrs::new(&self.names, &attrs), index_values)
    }
}

/// A cached object ordered and looked up by its key, so that sets of objects need
/// no separate copy of the key.
#[derive(Clone)]
struct ByKey(Arc<CachedObject>);

impl Borrow<str> for ByKey {
    fn borrow(&self) -> &str {
        self.0.key()
    }
}

impl PartialEq for ByKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.key() == other.0.key()
    }
}

impl Eq for ByKey {}

impl PartialOrd for ByKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ByKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.key().cmp(other.0.key())
    }
}

/// Whether a relist changed the cached state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReplaceOutcome {
    /// Some key was added, removed or changed since the cached state. Watchers
    /// positioned before the list cannot continue then, because the events in
    /// between are lost.
    pub changed: bool,
}

pub(crate) struct WatchCache {
    builder: ObjectBuilder,
    objects: BTreeSet<ByKey>,
    /// index name -> index value -> objects
    indexes: HashMap<String, HashMap<String, BTreeSet<ByKey>>>,
    revision: i64,
    initialized: bool,
    history: EventHistory,
}

impl WatchCache {
    pub fn new(builder: ObjectBuilder, history: HistoryLimits) -> Self {
        WatchCache {
            builder,
            objects: BTreeSet::new(),
            indexes: HashMap::new(),
            revision: 0,
            initialized: false,
            history: EventHistory::new(history),
        }
    }

    /// Returns the revision up to which the cache reflects the backend.
    pub fn revision(&self) -> i64 {
        self.revision
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Replaces the whole state with a list read at `revision`.
    ///
    /// When nothing changed since the cached state (same keys with the same mod
    /// revisions), the cached objects and the event window stay, and only the
    /// revision advances. Otherwise the window restarts at `revision`: watches can
    /// resume only from `revision` on.
    pub fn replace(&mut self, items: Vec<KeyValue>, revision: i64) -> ReplaceOutcome {
        let unchanged = self.initialized
            && items.len() == self.objects.len()
            && items.iter().all(|kv| {
                self.objects
                    .get(kv.key.as_str())
                    .is_some_and(|cached| cached.0.kv.mod_revision == kv.mod_revision)
            });
        if unchanged {
            self.revision = self.revision.max(revision);
            return ReplaceOutcome { changed: false };
        }

        self.objects.clear();
        self.indexes.clear();
        for kv in items {
            let object = Arc::new(self.builder.build(kv));
            self.index_insert(&object);
            self.objects.replace(ByKey(object));
        }
        self.revision = revision;
        self.history.reset(revision);
        let changed = self.initialized;
        self.initialized = true;
        ReplaceOutcome { changed }
    }

    /// Applies one watch event from the backend and records it in the window.
    /// Returns `None` for an event at or below the cached revision (a duplicate
    /// after a re-watch) and for the deletion of a key the cache never held.
    pub fn apply(&mut self, event: Event, now: Instant) -> Option<Arc<WatchCacheEvent>> {
        let revision = event.revision();
        if revision <= self.revision {
            return None;
        }
        let prev_object = match self.objects.get(event.kv.key.as_str()) {
            Some(cached) => Some(cached.0.clone()),
            None => event.prev_kv.map(|prev| Arc::new(self.builder.build(prev))),
        };

        let object = match event.event_type {
            EventType::Created | EventType::Modified => {
                let object = Arc::new(self.builder.build(event.kv));
                if let Some(prev) = &prev_object {
                    self.index_remove(prev);
                }
                self.index_insert(&object);
                self.objects.replace(ByKey(object.clone()));
                object
            }
            EventType::Deleted => {
                self.revision = revision;
                let Some(prev) = &prev_object else {
                    tracing::warn!(key = %event.kv.key, resource_version = revision,
                        "cacher: delete event for a key not in the cache; skipping it");
                    return None;
                };
                self.index_remove(prev);
                self.objects.remove(prev.key());
                Arc::new(prev.at_revision(revision))
            }
        };

        self.revision = revision;
        let recorded = Arc::new(WatchCacheEvent::new(
            event.event_type,
            object,
            prev_object,
            revision,
            now,
        ));
        self.history.push(recorded.clone(), now);
        Some(recorded)
    }

    /// Advances the revision on a progress notification: the backend has
    /// delivered every change up to `revision`.
    pub fn progress(&mut self, revision: i64) -> bool {
        if revision > self.revision {
            self.revision = revision;
            return true;
        }
        false
    }

    /// Returns the cached object under `key`.
    pub fn get(&self, key: &str) -> Option<Arc<CachedObject>> {
        self.objects.get(key).map(|cached| cached.0.clone())
    }

    /// Returns the objects whose keys start with `prefix`, in key order, limited
    /// to those indexed under `index = (name, value)` when given. The index must
    /// exist (callers check [`ObjectBuilder::has_index`]).
    pub fn list(&self, prefix: &str, index: Option<(&str, &str)>) -> Vec<Arc<CachedObject>> {
        match index {
            Some((name, value)) => self
                .indexes
                .get(name)
                .and_then(|values| values.get(value))
                .into_iter()
                .flatten()
                .filter(|object| object.0.key().starts_with(prefix))
                .map(|object| object.0.clone())
                .collect(),
            None => self
                .objects
                .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
                .take_while(|object| object.0.key().starts_with(prefix))
                .map(|object| object.0.clone())
                .collect(),
        }
    }

    /// Returns the recorded events after `revision`, oldest first. Fails with
    /// [`Error::Compacted`] ("too old resource version", 410 Gone) when events
    /// after `revision` have already left the window.
    pub fn events_since(&self, revision: i64) -> Result<Vec<Arc<WatchCacheEvent>>, Error> {
        self.history.events_since(revision)
    }

    fn index_insert(&mut self, object: &Arc<CachedObject>) {
        for (name, value) in object.all_index_values() {
            if !self.indexes.contains_key(name) {
                self.indexes.insert(name.to_string(), HashMap::new());
            }
            let Some(index) = self.indexes.get_mut(name) else {
                continue;
            };
            if !index.contains_key(value) {
                index.insert(value.to_string(), BTreeSet::new());
            }
            if let Some(objects) = index.get_mut(value) {
                objects.replace(ByKey(object.clone()));
            }
        }
    }

    fn index_remove(&mut self, object: &CachedObject) {
        for (name, value) in object.all_index_values() {
            let Some(index) = self.indexes.get_mut(name) else {
                continue;
            };
            if let Some(objects) = index.get_mut(value) {
                objects.remove(object.key());
                if objects.is_empty() {
                    index.remove(value);
                }
            }
        }
    }
}

/// Bounds of the event window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HistoryLimits {
    /// How long events should stay resumable.
    pub window: Duration,
    /// Capacity the window starts with and never shrinks below.
    pub min_capacity: usize,
    /// Capacity the window never grows beyond.
    pub max_capacity: usize,
}

/// The sliding window of recent events.
struct EventHistory {
    events: VecDeque<Arc<WatchCacheEvent>>,
    capacity: usize,
    limits: HistoryLimits,
    /// Every event after this revision is still in `events`.
    oldest_resumable: i64,
}

impl EventHistory {
    fn new(limits: HistoryLimits) -> Self {
        let min_capacity = limits.min_capacity.max(1);
        let limits = HistoryLimits {
            min_capacity,
            max_capacity: limits.max_capacity.max(min_capacity),
            ..limits
        };
        EventHistory {
            events: VecDeque::with_capacity(min_capacity),
            capacity: min_capacity,
            limits,
            oldest_resumable: 0,
        }
    }

    fn reset(&mut self, revision: i64) {
        self.events.clear();
        self.oldest_resumable = revision;
    }

    fn push(&mut self, event: Arc<WatchCacheEvent>, now: Instant) {
        if self.events.len() >= self.capacity {
            self.resize(now);
        }
        while self.events.len() >= self.capacity {
            if let Some(evicted) = self.events.pop_front() {
                self.oldest_resumable = evicted.revision;
            }
        }
        self.events.push_back(event);
    }

    fn resize(&mut self, now: Instant) {
        let window = self.limits.window;

        let oldest_is_fresh = self
            .events
            .front()
            .is_some_and(|oldest| now.saturating_duration_since(oldest.recorded_at) < window);
        if oldest_is_fresh {
            self.capacity = (self.capacity * 2).min(self.limits.max_capacity);
            return;
        }

        let quarter = self.capacity / 4;
        let newest_quarter_is_stale = quarter > 0
            && self
                .events
                .get(self.events.len().saturating_sub(quarter))
                .is_some_and(|event| now.saturating_duration_since(event.recorded_at) > window);
        if newest_quarter_is_stale {
            self.capacity = (self.capacity / 2).max(self.limits.min_capacity);
        }
    }

    fn events_since(&self, revision: i64) -> Result<Vec<Arc<WatchCacheEvent>>, Error> {
        if revision < self.oldest_resumable {
            return Err(Error::Compacted {
                requested: revision,
                compacted: self.oldest_resumable,
            });
        }
        let first = self
            .events
            .partition_point(|event| event.revision <= revision);
        Ok(self.events.range(first..).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    const WINDOW: Duration = Duration::from_secs(75);

    fn builder() -> ObjectBuilder {
        let attrs_func: AttrsFunc = Arc::new(|kv: &KeyValue| {
            let node = std::str::from_utf8(&kv.value).map_err(|error| error.to_string())?;
            let mut attrs = ObjectAttrs::default();
            attrs
                .fields
                .insert("spec.nodeName".to_string(), node.to_string());
            Ok(attrs)
        });
        let by_node: IndexFunc = Arc::new(|attrs: &ObjectAttrs| {
            attrs
                .fields
                .get("spec.nodeName")
                .cloned()
                .into_iter()
                .collect()
        });
        ObjectBuilder::new(attrs_func, BTreeMap::from([("node".to_string(), by_node)]))
    }

    fn limits(min_capacity: usize, max_capacity: usize) -> HistoryLimits {
        HistoryLimits {
            window: WINDOW,
            min_capacity,
            max_capacity,
        }
    }

    fn kv(key: &str, node: &str, create_revision: i64, mod_revision: i64) -> KeyValue {
        KeyValue {
            key: key.to_string(),
            value: Bytes::from(node.to_string()),
            create_revision,
            mod_revision,
        }
    }

    fn created(key: &str, node: &str, revision: i64) -> Event {
        Event {
            event_type: EventType::Created,
            kv: kv(key, node, revision, revision),
            prev_kv: None,
        }
    }

    fn history_event(revision: i64, recorded_at: Instant) -> Arc<WatchCacheEvent> {
        let object = Arc::new(builder().build(kv("/k", "n", revision, revision)));
        Arc::new(WatchCacheEvent::new(
            EventType::Created,
            object,
            None,
            revision,
            recorded_at,
        ))
    }

    #[test]
    fn apply_tracks_objects_indexes_and_revision() {
        let mut cache = WatchCache::new(builder(), limits(10, 10));
        cache.replace(vec![kv("/pods/a", "node-1", 2, 2)], 4);
        let now = Instant::now();

        cache.apply(created("/pods/b", "node-1", 5), now).unwrap();
        let moved = Event {
            event_type: EventType::Modified,
            kv: kv("/pods/a", "node-2", 2, 6),
            prev_kv: Some(kv("/pods/a", "node-1", 2, 2)),
        };
        let event = cache.apply(moved, now).unwrap();
        assert_eq!(event.prev_object.as_ref().unwrap().resource_version(), 2);
        assert_eq!(
            event.object.index_values("node").collect::<Vec<_>>(),
            ["node-2"]
        );

        fn on(cache: &WatchCache, node: &str) -> Vec<String> {
            cache
                .list("/pods/", Some(("node", node)))
                .iter()
                .map(|object| object.key().to_string())
                .collect()
        }
        assert_eq!(on(&cache, "node-1"), ["/pods/b"]);
        assert_eq!(on(&cache, "node-2"), ["/pods/a"]);
        assert_eq!(cache.revision(), 6);

        let deleted = Event {
            event_type: EventType::Deleted,
            kv: kv("/pods/b", "", 0, 7),
            prev_kv: Some(kv("/pods/b", "node-1", 5, 5)),
        };
        let event = cache.apply(deleted, now).unwrap();
        assert_eq!(event.object.resource_version(), 7);
        assert_eq!(event.object.kv.value, Bytes::from("node-1"));
        assert!(on(&cache, "node-1").is_empty());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn apply_skips_duplicates_and_unknown_deletes() {
        let mut cache = WatchCache::new(builder(), limits(10, 10));
        cache.replace(vec![], 10);
        let now = Instant::now();

        assert!(cache.apply(created("/pods/a", "n", 10), now).is_none());
        let unknown_delete = Event {
            event_type: EventType::Deleted,
            kv: kv("/pods/x", "", 0, 11),
            prev_kv: None,
        };
        assert!(cache.apply(unknown_delete, now).is_none());
        assert_eq!(cache.revision(), 11);
        assert!(cache.events_since(10).unwrap().is_empty());
    }

    #[test]
    fn list_filters_by_prefix() {
        let mut cache = WatchCache::new(builder(), limits(10, 10));
        let items = vec![
            kv("/pods/default/a", "n", 1, 1),
            kv("/pods/default/b", "n", 2, 2),
            kv("/pods/kube-system/c", "n", 3, 3),
        ];
        cache.replace(items, 3);
        let keys = |prefix: &str| -> Vec<String> {
            cache
                .list(prefix, None)
                .iter()
                .map(|object| object.key().to_string())
                .collect()
        };
        assert_eq!(
            keys("/pods/default/"),
            ["/pods/default/a", "/pods/default/b"]
        );
        assert_eq!(keys("/pods/kube-system/"), ["/pods/kube-system/c"]);
        assert_eq!(keys("/pods/").len(), 3);
        assert!(keys("/pods/other/").is_empty());
    }

    #[test]
    fn replace_keeps_window_when_unchanged() {
        let mut cache = WatchCache::new(builder(), limits(10, 10));
        let first = cache.replace(vec![kv("/pods/a", "n", 1, 1)], 1);
        assert!(!first.changed, "the first list invalidates nothing");
        cache
            .apply(created("/pods/b", "n", 2), Instant::now())
            .unwrap();

        let same = cache.replace(vec![kv("/pods/a", "n", 1, 1), kv("/pods/b", "n", 2, 2)], 9);
        assert!(!same.changed);
        assert_eq!(cache.revision(), 9);
        assert_eq!(cache.events_since(1).unwrap().len(), 1);

        let different = cache.replace(vec![kv("/pods/a", "n", 1, 1)], 12);
        assert!(different.changed);
        assert_eq!(cache.revision(), 12);
        assert!(matches!(
            cache.events_since(9),
            Err(Error::Compacted {
                requested: 9,
                compacted: 12
            })
        ));
        assert!(cache.events_since(12).unwrap().is_empty());
    }

    #[test]
    fn events_since_returns_later_events_or_gone() {
        let mut history = EventHistory::new(limits(3, 3));
        history.reset(10);
        let now = Instant::now();
        for revision in [12, 14, 15, 17] {
            history.push(history_event(revision, now), now);
        }

        // (requested revision, expected revisions or None for Gone)
        let cases: [(i64, Option<&[i64]>); 6] = [
            (10, None),
            (11, None),
            (12, Some(&[14, 15, 17])),
            (13, Some(&[14, 15, 17])),
            (15, Some(&[17])),
            (20, Some(&[])),
        ];
        for (requested, expected) in cases {
            let result = history.events_since(requested);
            match expected {
                Some(revisions) => {
                    let got: Vec<i64> = result.unwrap().iter().map(|e| e.revision).collect();
                    assert_eq!(got, revisions, "events since {requested}");
                }
                None => assert!(
                    matches!(result, Err(Error::Compacted { compacted: 12, .. })),
                    "events since {requested} should be gone"
                ),
            }
        }
    }

    #[test]
    fn history_grows_while_events_are_fresh() {
        let mut history = EventHistory::new(limits(4, 16));
        let start = Instant::now();
        for revision in 1..=20 {
            history.push(history_event(revision, start), start);
        }
        assert_eq!(history.capacity, 16);
        assert_eq!(history.events.len(), 16);
        assert_eq!(history.oldest_resumable, 4);
    }

    #[test]
    fn history_evicts_stale_events_and_shrinks() {
        let mut history = EventHistory::new(limits(4, 64));
        let start = Instant::now();
        for revision in 1..=32 {
            history.push(history_event(revision, start), start);
        }
        assert_eq!(history.capacity, 32);

        // The window halves on a full push while the oldest event of its newest
        // quarter is stale, and stops once that quarter contains fresh events.
        let later = start + WINDOW + Duration::from_secs(1);
        for revision in 33..=40 {
            history.push(history_event(revision, later), later);
        }
        assert_eq!(history.capacity, 8);
        assert_eq!(history.events.front().unwrap().revision, 33);
        assert_eq!(history.oldest_resumable, 32);

        let much_later = later + WINDOW + Duration::from_secs(1);
        history.push(history_event(41, much_later), much_later);
        assert_eq!(history.capacity, 4);
        assert_eq!(history.events.len(), 4);
        assert_eq!(history.events.front().unwrap().revision, 38);
        assert_eq!(history.oldest_resumable, 37);
    }

    #[test]
    fn history_full_of_mixed_ages_keeps_capacity() {
        let mut history = EventHistory::new(limits(8, 64));
        let start = Instant::now();
        let later = start + WINDOW + Duration::from_secs(1);
        for revision in 1..=4 {
            history.push(history_event(revision, start), start);
        }
        for revision in 5..=8 {
            history.push(history_event(revision, later), later);
        }
        history.push(history_event(9, later), later);
        assert_eq!(
            history.capacity, 8,
            "oldest is stale but the newest quarter is fresh"
        );
        assert_eq!(history.events.front().unwrap().revision, 2);
    }

    #[test]
    fn deleted_object_uses_prev_at_event_revision() {
        let mut cache = WatchCache::new(builder(), limits(10, 10));
        cache.replace(vec![kv("/pods/a", "node-1", 1, 1)], 1);
        let modified = Event {
            event_type: EventType::Modified,
            kv: kv("/pods/a", "node-2", 1, 5),
            prev_kv: Some(kv("/pods/a", "node-1", 1, 1)),
        };
        let event = cache.apply(modified, Instant::now()).unwrap();
        let leaving = event.deleted_object();
        assert_eq!(leaving.resource_version(), 5);
        assert_eq!(leaving.kv.value, Bytes::from("node-1"));
        assert!(Arc::ptr_eq(&leaving, &event.deleted_object()), "built once");
    }
}
