//! Cached objects and the watch events the cacher hands to watchers.
//!
//! A [`CachedObject`] is a stored key and value with the attributes (labels and
//! fields) and index values extracted once when the object entered the cache, kept
//! in compact form ([`super::attrs`]). Watchers receive [`CacheEvent`]s. The wire
//! frame of a recorded event is encoded at most once per encoder and event type,
//! however many watchers send it: see [`CacheEvent::encoded_frame`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;

use super::attrs::{CachedAttrs, StringMap};
use super::watch_cache::WatchCacheEvent;
use crate::interface::KeyValue;

/// Labels and fields of an object as the resource's [`AttrsFunc`] extracts them
/// (for a pod, fields such as `metadata.namespace`, `spec.nodeName`,
/// `status.phase`). The cache keeps them as [`CachedAttrs`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectAttrs {
    pub labels: BTreeMap<String, String>,
    pub fields: BTreeMap<String, String>,
}

/// Extracts an object's attributes from its stored form. Called once per stored
/// version of an object; an `Err` is logged and the object is cached with empty
/// attributes.
pub type AttrsFunc = Arc<dyn Fn(&KeyValue) -> Result<ObjectAttrs, String> + Send + Sync>;

/// Computes the values under which an object is indexed (for pods by node, the
/// `spec.nodeName` field). An empty vector leaves the object out of the index.
pub type IndexFunc = Arc<dyn Fn(&ObjectAttrs) -> Vec<String> + Send + Sync>;

/// Decides whether an object, given its key and attributes, matches a list or
/// watch request (the label and field selector predicate).
pub type FilterFunc = Arc<dyn Fn(&str, &CachedAttrs) -> bool + Send + Sync>;

/// Kind of a watch event, as the watch API names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WatchEventType {
    Added,
    Modified,
    Deleted,
    /// Carries no object change: every event up to the bookmark's revision has
    /// been delivered.
    Bookmark,
}

impl WatchEventType {
    /// Returns the name the watch API uses on the wire (`ADDED`, `MODIFIED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            WatchEventType::Added => "ADDED",
            WatchEventType::Modified => "MODIFIED",
            WatchEventType::Deleted => "DELETED",
            WatchEventType::Bookmark => "BOOKMARK",
        }
    }
}

/// One object held by the cacher: the stored key and value with the attributes
/// and index values computed when it was cached. Shared through `Arc` between the
/// store, the event history and every watcher.
pub struct CachedObject {
    pub kv: KeyValue,
    pub attrs: CachedAttrs,
    /// One entry per index value, named by its index.
    index_values: StringMap,
}

impl CachedObject {
    pub(crate) fn new(kv: KeyValue, attrs: CachedAttrs, index_values: StringMap) -> Self {
        CachedObject {
            kv,
            attrs,
            index_values,
        }
    }

    /// Builds the empty object a bookmark carries: no key, no value, and
    /// `mod_revision` set to the bookmark's revision.
    pub(crate) fn bookmark(revision: i64) -> Self {
        let kv = KeyValue {
            key: String::new(),
            value: Bytes::new(),
            create_revision: 0,
            mod_revision: revision,
        };
        CachedObject::new(kv, CachedAttrs::empty(), StringMap::empty())
    }

    /// Returns a copy of this object whose `mod_revision` is `revision`: the form
    /// in which a deletion (or an object leaving a watcher's filter) is reported.
    pub(crate) fn at_revision(&self, revision: i64) -> Self {
        let kv = KeyValue {
            mod_revision: revision,
            ..self.kv.clone()
        };
        CachedObject::new(kv, self.attrs.clone(), self.index_values.clone())
    }

    /// Returns the object's key.
    pub fn key(&self) -> &str {
        &self.kv.key
    }

    /// Returns the object's `resourceVersion`: the revision of its last write (of
    /// the delete for a deleted object, of the bookmark for a bookmark).
    pub fn resource_version(&self) -> i64 {
        self.kv.mod_revision
    }

    /// Returns the values under which the object is indexed by `index`; none for
    /// an unknown index.
    pub fn index_values<'a>(&'a self, index: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.index_values.get_all(index)
    }

    /// Returns every (index name, value) pair of the object.
    pub(crate) fn all_index_values(&self) -> impl Iterator<Item = (&str, &str)> {
        self.index_values.iter()
    }
}

impl fmt::Debug for CachedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedObject")
            .field("kv", &self.kv)
            .field("attrs", &self.attrs)
            .field("index_values", &self.index_values)
            .finish()
    }
}

/// A watch event as delivered to one watcher.
///
/// For `Deleted` the object is the last state before the deletion, or before the
/// object stopped matching the watcher's filter, with `mod_revision` set to the
/// event's revision, as upstream reports it. For `Bookmark` the object is empty
/// and only its revision counts.
#[derive(Clone)]
pub struct CacheEvent {
    pub event_type: WatchEventType,
    pub object: Arc<CachedObject>,
    /// The object before the write, when the event reports a change to an
    /// existing object. `None` for creations, bookmarks and the synthetic `Added`
    /// events a watch from revision 0 starts with.
    pub prev_object: Option<Arc<CachedObject>>,
    /// Revision of the write (or of the bookmark). For the synthetic `Added`
    /// events of a watch from revision 0 this is the cache's revision when the
    /// watch started.
    pub revision: i64,
    /// The recorded write this event reports, whose frames it shares; `None` for
    /// bookmarks and the synthetic `Added` events.
    pub(crate) recorded: Option<Arc<WatchCacheEvent>>,
}

impl CacheEvent {
    /// Returns the wire frame of this event for the encoder named `encoder`.
    ///
    /// For an event that reports a recorded write (a live event, or one replayed
    /// from the event window) `encode` runs only when no frame for this encoder
    /// and event type exists yet. The frame is kept with the recorded write, so N
    /// watchers that send the same write with the same encoder share one encoding,
    /// and the frame leaves memory with the write's place in the window. An
    /// encoding error is kept too and returned to every caller. Bookmarks and the
    /// `Added` events of a watch from revision 0 are encoded on every call: caching
    /// their frames would keep one copy of every object per watch encoding.
    pub fn encoded_frame<F>(&self, encoder: &str, encode: F) -> Result<Bytes, FrameEncodeError>
    where
        F: FnOnce(&CacheEvent) -> Result<Bytes, String>,
    {
        let encoded = match &self.recorded {
            Some(recorded) => recorded
                .frames
                .get_or_encode(encoder, self.event_type, || encode(self)),
            None => encode(self),
        };
        encoded.map_err(|message| FrameEncodeError {
            encoder: encoder.to_string(),
            message,
        })
    }
}

impl fmt::Debug for CacheEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheEvent")
            .field("event_type", &self.event_type)
            .field("object", &self.object)
            .field("prev_object", &self.prev_object)
            .field("revision", &self.revision)
            .finish_non_exhaustive()
    }
}

/// Failure of the encoder passed to [`CacheEvent::encoded_frame`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("encoding a watch event with encoder {encoder} failed: {message}")]
pub struct FrameEncodeError {
    pub encoder: String,
    pub message: String,
}

type FrameCell = Arc<OnceLock<Result<Bytes, String>>>;

/// Encoded frames of one recorded write, one per encoder and event type.
#[derive(Default)]
pub(crate) struct FrameCache {
    slots: Mutex<Vec<(String, WatchEventType, FrameCell)>>,
}

impl FrameCache {
    fn get_or_encode(
        &self,
        encoder: &str,
        event_type: WatchEventType,
        encode: impl FnOnce() -> Result<Bytes, String>,
    ) -> Result<Bytes, String> {
        // The slot lock is held only to find the cell, so the encoding runs
        // outside it. The cell lets exactly one of several concurrent callers encode.
        let cell = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            let existing = slots
                .iter()
                .find(|(name, kind, _)| name == encoder && *kind == event_type)
                .map(|(_, _, cell)| cell.clone());
            match existing {
                Some(cell) => cell,
                None => {
                    let cell = FrameCell::default();
                    slots.push((encoder.to_string(), event_type, cell.clone()));
                    cell
                }
            }
        };
        cell.get_or_init(encode).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn object(key: &str, revision: i64) -> Arc<CachedObject> {
        let kv = KeyValue {
            key: key.to_string(),
            value: Bytes::from_static(b"{}"),
            create_revision: revision,
            mod_revision: revision,
        };
        Arc::new(CachedObject::new(
            kv,
            CachedAttrs::empty(),
            StringMap::empty(),
        ))
    }

    /// Builds an event reporting `recorded` when given, else a synthetic one.
    fn event(
        event_type: WatchEventType,
        object: Arc<CachedObject>,
        recorded: Option<&Arc<WatchCacheEvent>>,
    ) -> CacheEvent {
        let revision = object.resource_version();
        CacheEvent {
            event_type,
            object,
            prev_object: None,
            revision,
            recorded: recorded.cloned(),
        }
    }

    fn recorded(object: &Arc<CachedObject>) -> Arc<WatchCacheEvent> {
        Arc::new(WatchCacheEvent::new(
            crate::interface::EventType::Created,
            object.clone(),
            None,
            object.resource_version(),
            std::time::Instant::now(),
        ))
    }

    #[test]
    fn encoded_frame_encodes_once_per_encoder_and_type() {
        let shared = object("/registry/pods/default/a", 5);
        let calls = AtomicUsize::new(0);
        let encode = |event: &CacheEvent| {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(Bytes::from(format!(
                "{} {}",
                event.event_type.as_str(),
                event.object.key()
            )))
        };

        // (encoder, event type, expected frame, expected total encoder calls)
        let cases = [
            (
                "json",
                WatchEventType::Added,
                "ADDED /registry/pods/default/a",
                1,
            ),
            (
                "json",
                WatchEventType::Added,
                "ADDED /registry/pods/default/a",
                1,
            ),
            (
                "json",
                WatchEventType::Modified,
                "MODIFIED /registry/pods/default/a",
                2,
            ),
            (
                "yaml",
                WatchEventType::Added,
                "ADDED /registry/pods/default/a",
                3,
            ),
            (
                "json",
                WatchEventType::Modified,
                "MODIFIED /registry/pods/default/a",
                3,
            ),
        ];
        let write = recorded(&shared);
        for (encoder, event_type, frame, total_calls) in cases {
            let delivered = event(event_type, shared.clone(), Some(&write));
            let encoded = delivered.encoded_frame(encoder, encode).unwrap();
            assert_eq!(encoded, Bytes::from(frame), "{encoder} {event_type:?}");
            assert_eq!(
                calls.load(Ordering::SeqCst),
                total_calls,
                "{encoder} {event_type:?}"
            );
        }
    }

    #[test]
    fn encoded_frame_caches_errors() {
        let shared = object("/registry/pods/default/a", 1);
        let write = recorded(&shared);
        let delivered = event(WatchEventType::Added, shared, Some(&write));
        let calls = AtomicUsize::new(0);
        for _ in 0..2 {
            let error = delivered
                .encoded_frame("json", |_| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Err("unsupported kind".to_string())
                })
                .unwrap_err();
            assert_eq!(error.encoder, "json");
            assert_eq!(error.message, "unsupported kind");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn encoded_frame_without_recorded_write_encodes_each_call() {
        let delivered = event(
            WatchEventType::Added,
            object("/registry/pods/default/a", 1),
            None,
        );
        let calls = AtomicUsize::new(0);
        for _ in 0..3 {
            let frame = delivered
                .encoded_frame("json", |_| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok(Bytes::from_static(b"frame"))
                })
                .unwrap();
            assert_eq!(frame, Bytes::from_static(b"frame"));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn at_revision_keeps_content_and_changes_revision() {
        let original = object("/registry/pods/default/a", 3);
        let deleted = original.at_revision(9);
        assert_eq!(deleted.key(), "/registry/pods/default/a");
        assert_eq!(deleted.kv.value, original.kv.value);
        assert_eq!(deleted.kv.create_revision, 3);
        assert_eq!(deleted.resource_version(), 9);
    }
}
