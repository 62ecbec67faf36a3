//! The DeltaFIFO: a queue of per-object change lists between a reflector and an
//! informer, after client-go v1.18.
//!
//! The reflector writes through [`Store`]; each write appends a [`Delta`] to the
//! object's [`Deltas`], and a key enters the queue once however many deltas pile up
//! behind it. [`DeltaFIFO::pop`] hands the informer one key's whole history at a time,
//! oldest key first. The indexer the informer fills is the DeltaFIFO's "known
//! objects": a relist turns keys the indexer contains but the list lacks into
//! tombstones, and a resync replays the indexer as Sync deltas.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use super::CacheError;
use super::key::{
    DeletedFinalStateUnknown, KeyFunc, Object, ObjectOrTombstone, key_of, meta_namespace_key_func,
};
use super::store::{KeyListerGetter, PagedReplace, Store};

/// The queue capacity above which a drained queue gives its memory back.
const SHRINK_ABOVE: usize = 1024;

/// The kind of change a [`Delta`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeltaType {
    /// The object was created.
    Added,
    /// The object was changed.
    Updated,
    /// The object was deleted; the delta carries its final state or a tombstone.
    Deleted,
    /// A relist returned the object; it may or may not have changed.
    Replaced,
    /// A periodic resync replayed the object from the known objects, or a relist
    /// returned it while Replaced deltas are switched off.
    Sync,
}

impl DeltaType {
    /// Returns the upstream name: `Added`, `Updated`, `Deleted`, `Replaced` or `Sync`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "Added",
            Self::Updated => "Updated",
            Self::Deleted => "Deleted",
            Self::Replaced => "Replaced",
            Self::Sync => "Sync",
        }
    }
}

impl fmt::Display for DeltaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change to one object: its type and the object's state after it (for a
/// deletion, the last state before it).
#[derive(Debug, Clone, PartialEq)]
pub struct Delta<T> {
    /// The kind of change.
    pub delta_type: DeltaType,
    /// The object, or a tombstone for a deletion seen only through a relist.
    pub object: ObjectOrTombstone<T>,
}

/// The changes queued for one object, oldest first. Never empty when popped.
#[derive(Debug, Clone, PartialEq)]
pub struct Deltas<T>(Vec<Delta<T>>);

impl<T> Deltas<T> {
    /// Returns the oldest delta, if any.
    pub fn oldest(&self) -> Option<&Delta<T>> {
        self.0.first()
    }

    /// Returns the newest delta, if any.
    pub fn newest(&self) -> Option<&Delta<T>> {
        self.0.last()
    }

    /// Returns the deltas as a vector, oldest first.
    pub fn into_vec(self) -> Vec<Delta<T>> {
        self.0
    }
}

impl<T> From<Vec<Delta<T>>> for Deltas<T> {
    fn from(deltas: Vec<Delta<T>>) -> Self {
        Self(deltas)
    }
}

impl<T> Deref for Deltas<T> {
    type Target = [Delta<T>];

    fn deref(&self) -> &[Delta<T>] {
        &self.0
    }
}

impl<T> IntoIterator for Deltas<T> {
    type Item = Delta<T>;
    type IntoIter = std::vec::IntoIter<Delta<T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A boxed error from a pop's process function.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The failure a pop's process function reports.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// Processing failed and the deltas go back into the queue, unless new deltas for
    /// the same key arrived meanwhile (upstream's `ErrRequeue`).
    #[error("{0}")]
    Requeue(BoxError),
    /// Processing failed and the deltas are dropped.
    #[error("{0}")]
    Failed(BoxError),
}

/// An error from [`DeltaFIFO::pop`].
#[derive(Debug, thiserror::Error)]
pub enum PopError {
    /// The queue was closed and is empty.
    #[error("DeltaFIFO: manipulating with closed queue")]
    Closed,
    /// The process function failed on the deltas of `key`.
    #[error("processing deltas of {key:?} failed (requeued: {requeued}): {source}")]
    Process {
        /// The key whose deltas were being processed.
        key: String,
        /// Whether the deltas went back into the queue.
        requeued: bool,
        /// The process function's error.
        source: BoxError,
    },
}

/// Construction options, upstream's `DeltaFIFOOptions`.
pub struct DeltaFIFOOptions<T> {
    /// Computes the key of an object; [`meta_namespace_key_func`] by default.
    pub key_function: KeyFunc<T>,
    /// The indexer the popped deltas are applied to. Without one, deletions and
    /// relists are judged against the queue alone and resync does nothing.
    pub known_objects: Option<Arc<dyn KeyListerGetter<T>>>,
    /// Whether a relist queues Replaced deltas (true, the default) or Sync deltas as
    /// clients before v1.18 expect.
    pub emit_delta_type_replaced: bool,
}

impl<T: Object> Default for DeltaFIFOOptions<T> {
    fn default() -> Self {
        Self {
            key_function: meta_namespace_key_func(),
            known_objects: None,
            emit_delta_type_replaced: true,
        }
    }
}

/// The queue between a reflector and an informer. All methods take `&self` and may
/// be called from many tasks at once.
pub struct DeltaFIFO<T> {
    state: Mutex<State<T>>,
    notify: Notify,
    /// Woken after every pop, for writers that wait for room.
    popped: Notify,
    key_func: KeyFunc<T>,
    known_objects: Option<Arc<dyn KeyListerGetter<T>>>,
    emit_delta_type_replaced: bool,
}

struct State<T> {
    /// Queued deltas by key. A key is here exactly when it is in `queue`.
    items: HashMap<String, Vec<Delta<T>>>,
    /// Keys in the order their first pending delta arrived.
    queue: VecDeque<String>,
    /// Whether anything was written yet (the first replace or any add, update,
    /// delete or requeue).
    populated: bool,
    /// How many queue entries of the first replace are still to be popped.
    initial_population_count: usize,
    /// Whether the first replace is arriving in pages and has not finished yet.
    first_replace_in_pages: bool,
    closed: bool,
}

impl<T: Clone + Send + Sync + 'static> DeltaFIFO<T> {
    /// Creates an empty, open queue.
    pub fn new(options: DeltaFIFOOptions<T>) -> Self {
        Self {
            state: Mutex::new(State {
                items: HashMap::new(),
                queue: VecDeque::new(),
                populated: false,
                initial_population_count: 0,
                first_replace_in_pages: false,
                closed: false,
            }),
            notify: Notify::new(),
            popped: Notify::new(),
            key_func: options.key_function,
            known_objects: options.known_objects,
            emit_delta_type_replaced: options.emit_delta_type_replaced,
        }
    }

    /// Returns the key of an object, or a tombstone's own key.
    ///
    /// # Errors
    ///
    /// [`CacheError::Key`] when the key function fails.
    pub fn key_of(&self, obj: &ObjectOrTombstone<T>) -> Result<String, CacheError> {
        key_of(&self.key_func, obj)
    }

    /// Returns true once the first [`Store::replace`] (or paged replace) has been
    /// popped entirely, or when an add, update, delete or requeue came before any
    /// replace.
    pub fn has_synced(&self) -> bool {
        self.lock().synced()
    }

    /// Closes the queue: pops that find it empty return [`PopError::Closed`], waiting
    /// pops wake up. Deltas still queued can be popped.
    pub fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
    }

    /// Returns true after [`DeltaFIFO::close`].
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Queues `deltas` unless deltas for the same key are already queued; this is how
    /// a failed pop hands its deltas back.
    ///
    /// # Errors
    ///
    /// [`CacheError::ZeroLengthDeltas`] for empty deltas, [`CacheError::Key`] when the
    /// newest object has no key.
    pub fn add_if_not_present(&self, deltas: Deltas<T>) -> Result<(), CacheError> {
        let newest = deltas.newest().ok_or(CacheError::ZeroLengthDeltas)?;
        let key = self.key_of(&newest.object)?;
        let mut state = self.lock();
        self.add_if_not_present_locked(&mut state, key, deltas.into_vec());
        Ok(())
    }

    /// Returns the newest object of every queued key, in no particular order.
    pub fn list(&self) -> Vec<ObjectOrTombstone<T>> {
        self.lock()
            .items
            .values()
            .filter_map(|deltas| deltas.last().map(|delta| delta.object.clone()))
            .collect()
    }

    /// Returns a copy of the deltas queued under the key of `obj`.
    ///
    /// # Errors
    ///
    /// [`CacheError::Key`] when the key function fails.
    pub fn get(&self, obj: &T) -> Result<Option<Deltas<T>>, CacheError> {
        let key = (self.key_func)(obj).map_err(|reason| CacheError::Key { reason })?;
        Ok(self.get_by_key(&key))
    }

    /// Returns a copy of the deltas queued under `key`.
    pub fn get_by_key(&self, key: &str) -> Option<Deltas<T>> {
        self.lock().items.get(key).cloned().map(Deltas)
    }

    /// Waits until a key is queued, removes it with its deltas and calls `process`
    /// on them, with whether they belong to the first list (the queue had not synced
    /// before this pop). Keys come out in the order their first pending delta arrived.
    ///
    /// `process` runs while the queue is locked, so no delta for the key can slip in
    /// between the pop and a requeue. It must not call this DeltaFIFO, or it
    /// deadlocks. Cancelling a waiting pop loses nothing.
    ///
    /// # Errors
    ///
    /// [`PopError::Closed`] when the queue is closed and empty.
    /// [`PopError::Process`] when `process` fails; after [`ProcessError::Requeue`] the
    /// deltas are queued again unless newer ones for the key are already queued.
    pub async fn pop<F>(&self, process: F) -> Result<Deltas<T>, PopError>
    where
        F: FnOnce(&Deltas<T>, bool) -> Result<(), ProcessError>,
    {
        loop {
            // Register for a wake-up before looking, so a write between the look and
            // the wait is not missed.
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();

            {
                let mut state = self.lock();
                // Whether these deltas belong to the first list, decided before they
                // count against it.
                let in_initial_list = !state.synced();
                if let Some((key, deltas)) = state.take_next() {
                    self.popped.notify_waiters();
                    let deltas = Deltas(deltas);
                    return match process(&deltas, in_initial_list) {
                        Ok(()) => Ok(deltas),
                        Err(ProcessError::Requeue(source)) => {
                            self.add_if_not_present_locked(&mut state, key.clone(), deltas.0);
                            Err(PopError::Process {
                                key,
                                requeued: true,
                                source,
                            })
                        }
                        Err(ProcessError::Failed(source)) => Err(PopError::Process {
                            key,
                            requeued: false,
                            source,
                        }),
                    };
                }
                if state.closed {
                    return Err(PopError::Closed);
                }
            }

            notified.await;
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Each write leaves the state consistent before calling out, so a lock poisoned
        // by a panicking process function still guards valid data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn add_if_not_present_locked(&self, state: &mut State<T>, key: String, deltas: Vec<Delta<T>>) {
        state.populated = true;
        if state.items.contains_key(&key) {
            return;
        }
        state.queue.push_back(key.clone());
        state.items.insert(key, deltas);
        self.notify.notify_waiters();
    }

    /// Appends a delta under `key`, merges a trailing pair of deletions, and queues
    /// the key if it had no pending deltas.
    fn queue_action_locked(
        &self,
        state: &mut State<T>,
        key: String,
        delta_type: DeltaType,
        object: ObjectOrTombstone<T>,
    ) {
        let delta = Delta { delta_type, object };
        match state.items.get_mut(&key) {
            Some(deltas) => {
                deltas.push(delta);
                dedup_deltas(deltas);
            }
            None => {
                state.queue.push_back(key.clone());
                state.items.insert(key, vec![delta]);
            }
        }
        self.notify.notify_waiters();
    }

    /// Queues a Sync delta for `key` from the known objects, unless deltas for it are
    /// pending: those are newer than what the indexer holds.
    fn sync_key_locked(
        &self,
        state: &mut State<T>,
        known_objects: &dyn KeyListerGetter<T>,
        key: &str,
    ) -> Result<(), CacheError> {
        let Some(obj) = known_objects.get_by_key(key) else {
            tracing::info!(
                key,
                "key does not exist in known objects store, unable to queue object for sync"
            );
            return Ok(());
        };

        let obj = ObjectOrTombstone::Object(obj);
        let id = self.key_of(&obj)?;
        if state
            .items
            .get(&id)
            .is_some_and(|deltas| !deltas.is_empty())
        {
            return Ok(());
        }
        self.queue_action_locked(state, id, DeltaType::Sync, obj);
        Ok(())
    }
}

impl<T> State<T> {
    /// See [`DeltaFIFO::has_synced`].
    fn synced(&self) -> bool {
        self.populated && !self.first_replace_in_pages && self.initial_population_count == 0
    }

    /// Removes the oldest queued key with its deltas, counting it against the first
    /// replace.
    fn take_next(&mut self) -> Option<(String, Vec<Delta<T>>)> {
        while let Some(key) = self.queue.pop_front() {
            self.initial_population_count = self.initial_population_count.saturating_sub(1);
            if let Some(deltas) = self.items.remove(&key) {
                self.shrink_when_drained();
                return Some((key, deltas));
            }
        }
        None
    }

    /// Frees the room a relist made once it has been popped: the queue is
    /// usually short between relists, and neither collection shrinks by itself.
    fn shrink_when_drained(&mut self) {
        if self.queue.is_empty() && self.queue.capacity() > SHRINK_ABOVE {
            self.queue.shrink_to_fit();
            self.items.shrink_to_fit();
        }
    }
}

/// Merges the two newest deltas when both are deletions (a watch event and a relist
/// can report the same deletion), keeping the one with more information: the older
/// one, unless it is a tombstone.
fn dedup_deltas<T>(deltas: &mut Vec<Delta<T>>) {
    let n = deltas.len();
    if n < 2 {
        return;
    }
    let newer = &deltas[n - 1];
    let older = &deltas[n - 2];
    if newer.delta_type != DeltaType::Deleted || older.delta_type != DeltaType::Deleted {
        return;
    }

    if older.object.is_tombstone() {
        deltas.swap_remove(n - 2);
    } else {
        deltas.pop();
    }
}

impl<T: Clone + Send + Sync + 'static> Store<T> for DeltaFIFO<T> {
    fn add(&self, obj: T) -> Result<(), CacheError> {
        let obj = ObjectOrTombstone::Object(obj);
        let key = self.key_of(&obj)?;
        let mut state = self.lock();
        state.populated = true;
        self.queue_action_locked(&mut state, key, DeltaType::Added, obj);
        Ok(())
    }

    fn update(&self, obj: T) -> Result<(), CacheError> {
        let obj = ObjectOrTombstone::Object(obj);
        let key = self.key_of(&obj)?;
        let mut state = self.lock();
        state.populated = true;
        self.queue_action_locked(&mut state, key, DeltaType::Updated, obj);
        Ok(())
    }

    /// Queues a Deleted delta, but ignores an object that neither the known objects
    /// nor the queue hold: a relist already reported its deletion.
    fn delete(&self, obj: ObjectOrTombstone<T>) -> Result<(), CacheError> {
        let key = self.key_of(&obj)?;
        let mut state = self.lock();
        state.populated = true;

        let queued = state.items.contains_key(&key);
        let known = match &self.known_objects {
            Some(known_objects) => known_objects.get_by_key(&key).is_some(),
            None => false,
        };
        if !queued && !known {
            return Ok(());
        }

        self.queue_action_locked(&mut state, key, DeltaType::Deleted, obj);
        Ok(())
    }

    /// Queues a Replaced (or Sync) delta for every object of `list`, then a Deleted
    /// tombstone for every known key that `list` lacks. The known keys are those of
    /// the known objects, or of the queue when there are none, and the tombstone
    /// carries the last object known for the key.
    fn replace(&self, list: Vec<T>, _resource_version: &str) -> Result<(), CacheError> {
        let delta_type = self.replace_delta_type();

        // Compute every key before changing anything, so a key error leaves the queue
        // as it was.
        let mut keyed = Vec::with_capacity(list.len());
        for obj in list {
            let obj = ObjectOrTombstone::Object(obj);
            keyed.push((self.key_of(&obj)?, obj));
        }

        let mut state = self.lock();
        // Queuing the listed objects changes neither which known keys the list lacks
        // nor their last objects, so the tombstones can be built first, while the
        // listed keys can still be borrowed.
        let (deletions, listed_count) = {
            let listed: HashSet<&str> = keyed.iter().map(|(key, _)| key.as_str()).collect();
            (
                self.missing_from_list(&state, |key| listed.contains(key), false),
                listed.len(),
            )
        };
        for (key, obj) in keyed {
            self.queue_action_locked(&mut state, key, delta_type, obj);
        }

        let queued_deletions = deletions.len();
        for tombstone in deletions {
            let key = tombstone.key.clone();
            self.queue_action_locked(&mut state, key, DeltaType::Deleted, tombstone.into());
        }

        if !state.populated {
            state.populated = true;
            // NOTE: upstream v1.18 counts `len(list)` here, which never reaches zero
            // when the list repeats a key. Later releases count distinct keys, as here.
            state.initial_population_count = listed_count + queued_deletions;
        }
        Ok(())
    }

    /// Queues a Sync delta for every known object without pending deltas. Does
    /// nothing without known objects.
    fn resync(&self) -> Result<(), CacheError> {
        let Some(known_objects) = &self.known_objects else {
            return Ok(());
        };
        let mut state = self.lock();
        for key in known_objects.list_keys() {
            self.sync_key_locked(&mut state, known_objects.as_ref(), &key)?;
        }
        Ok(())
    }

    fn list_keys(&self) -> Vec<String> {
        self.lock().items.keys().cloned().collect()
    }

    fn paged(&self) -> Option<&dyn PagedReplace<T>> {
        Some(self)
    }
}

/// A paged replace queues each page's Replaced deltas as the page arrives, so the
/// informer packs and dispatches the first pages while later ones are still being
/// listed. The tombstones wait for the last page.
impl<T: Clone + Send + Sync + 'static> PagedReplace<T> for DeltaFIFO<T> {
    fn replace_page(&self, page: Vec<T>, listed: &mut HashSet<String>) -> Result<(), CacheError> {
        let delta_type = self.replace_delta_type();
        let mut keyed = Vec::with_capacity(page.len());
        for obj in page {
            let obj = ObjectOrTombstone::Object(obj);
            keyed.push((self.key_of(&obj)?, obj));
        }

        let mut state = self.lock();
        if !state.populated {
            state.first_replace_in_pages = true;
        }
        for (key, obj) in keyed {
            listed.insert(key.clone());
            self.queue_action_locked(&mut state, key, delta_type, obj);
        }
        Ok(())
    }

    fn wait_for_room(&self, limit: usize) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            loop {
                let popped = self.popped.notified();
                tokio::pin!(popped);
                popped.as_mut().enable();
                {
                    let state = self.lock();
                    if state.queue.len() <= limit || state.closed {
                        return;
                    }
                }
                popped.await;
            }
        })
    }

    fn finish_replace(
        &self,
        listed: HashSet<String>,
        _resource_version: &str,
    ) -> Result<(), CacheError> {
        let mut state = self.lock();
        // Pages written before a restart of the list may be queued and not yet
        // known: what the list lacks of them is deleted too.
        let deletions = self.missing_from_list(&state, |key| listed.contains(key), true);
        let queued_deletions = deletions.len();
        for tombstone in deletions {
            let key = tombstone.key.clone();
            self.queue_action_locked(&mut state, key, DeltaType::Deleted, tombstone.into());
        }

        if !state.populated || state.first_replace_in_pages {
            state.populated = true;
            state.first_replace_in_pages = false;
            // Pops before this point did not count: the count starts at what is left.
            let still_queued = listed
                .iter()
                .filter(|key| state.items.contains_key(key.as_str()))
                .count();
            state.initial_population_count = still_queued + queued_deletions;
        }
        Ok(())
    }
}

impl<T: Clone + Send + Sync + 'static> DeltaFIFO<T> {
    /// Returns the delta type a replace queues for each listed object.
    fn replace_delta_type(&self) -> DeltaType {
        if self.emit_delta_type_replaced {
            DeltaType::Replaced
        } else {
            DeltaType::Sync
        }
    }

    /// Builds the tombstones a replace queues: one per known key that `listed`
    /// rejects, and with `include_queued` also one per queued key that `listed`
    /// rejects and the known objects lack.
    fn missing_from_list(
        &self,
        state: &State<T>,
        listed: impl Fn(&str) -> bool,
        include_queued: bool,
    ) -> Vec<DeletedFinalStateUnknown<T>> {
        let Some(known_objects) = &self.known_objects else {
            return state
                .items
                .iter()
                .filter(|(key, _)| !listed(key))
                .map(|(key, deltas)| queued_tombstone(key, deltas))
                .collect();
        };
        let known_keys = known_objects.list_keys();
        let mut tombstones: Vec<_> = known_keys
            .iter()
            .filter(|key| !listed(key))
            .map(|key| {
                let obj = known_objects.get_by_key(key);
                if obj.is_none() {
                    tracing::info!(key, "key does not exist in known objects store, placing DeletedFinalStateUnknown marker without object");
                }
                DeletedFinalStateUnknown {
                    key: key.clone(),
                    obj,
                }
            })
            .collect();
        if include_queued {
            let unlisted: Vec<_> = state.items.iter().filter(|(key, _)| !listed(key)).collect();
            if !unlisted.is_empty() {
                let known: HashSet<&str> = known_keys.iter().map(String::as_str).collect();
                tombstones.extend(
                    unlisted
                        .into_iter()
                        .filter(|(key, _)| !known.contains(key.as_str()))
                        .map(|(key, deltas)| queued_tombstone(key, deltas)),
                );
            }
        }
        tombstones
    }
}

/// Builds a tombstone for a queued key that carries the newest object queued for
/// it. A tombstone's own object is unwrapped so tombstones never nest.
fn queued_tombstone<T: Clone>(key: &str, deltas: &[Delta<T>]) -> DeletedFinalStateUnknown<T> {
    DeletedFinalStateUnknown {
        key: key.to_string(),
        obj: deltas
            .last()
            .and_then(|delta| delta.object.object().cloned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::store::Indexer;
    use super::*;

    fn pod(name: &str, rv: &str) -> Value {
        json!({"metadata": {"namespace": "ns", "name": name, "resourceVersion": rv}})
    }

    fn fifo(known: Option<Arc<Indexer<Value>>>) -> DeltaFIFO<Value> {
        DeltaFIFO::new(DeltaFIFOOptions {
            known_objects: known.map(|k| k as Arc<dyn KeyListerGetter<Value>>),
            ..DeltaFIFOOptions::default()
        })
    }

    /// Renders deltas as `Type:rv`, with `Type:tombstone(rv)` for tombstones.
    fn render(deltas: &Deltas<Value>) -> Vec<String> {
        deltas
            .iter()
            .map(|delta| match &delta.object {
                ObjectOrTombstone::Object(obj) => {
                    format!("{}:{}", delta.delta_type, obj.resource_version())
                }
                ObjectOrTombstone::Tombstone(t) => format!(
                    "{}:tombstone({})",
                    delta.delta_type,
                    t.obj.as_ref().map_or("none", |o| o.resource_version())
                ),
            })
            .collect()
    }

    async fn pop_ok(fifo: &DeltaFIFO<Value>) -> Deltas<Value> {
        fifo.pop(|_, _| Ok(())).await.unwrap()
    }

    #[test]
    fn dedup_deltas_cases() {
        let real = |rv: &str| Delta {
            delta_type: DeltaType::Deleted,
            object: ObjectOrTombstone::Object(pod("a", rv)),
        };
        let tombstone = |rv: &str| Delta {
            delta_type: DeltaType::Deleted,
            object: ObjectOrTombstone::Tombstone(DeletedFinalStateUnknown {
                key: "ns/a".to_string(),
                obj: Some(pod("a", rv)),
            }),
        };
        let added = |rv: &str| Delta {
            delta_type: DeltaType::Added,
            object: ObjectOrTombstone::Object(pod("a", rv)),
        };

        let cases = [
            (
                "two real deletions keep the older",
                vec![real("1"), real("2")],
                vec!["Deleted:1"],
            ),
            (
                "tombstone then real keeps real",
                vec![tombstone("1"), real("2")],
                vec!["Deleted:2"],
            ),
            (
                "real then tombstone keeps real",
                vec![real("1"), tombstone("2")],
                vec!["Deleted:1"],
            ),
            (
                "two tombstones keep the newer",
                vec![tombstone("1"), tombstone("2")],
                vec!["Deleted:tombstone(2)"],
            ),
            (
                "added then deleted stays",
                vec![added("1"), real("2")],
                vec!["Added:1", "Deleted:2"],
            ),
            (
                "only the newest pair merges",
                vec![added("1"), real("2"), real("3")],
                vec!["Added:1", "Deleted:2"],
            ),
        ];
        for (case, mut deltas, expected) in cases {
            dedup_deltas(&mut deltas);
            assert_eq!(render(&Deltas(deltas)), expected, "case {case}");
        }
    }

    #[tokio::test]
    async fn deltas_coalesce_per_key_in_order() {
        let fifo = fifo(None);
        fifo.add(pod("a", "1")).unwrap();
        fifo.add(pod("b", "1")).unwrap();
        fifo.update(pod("a", "2")).unwrap();
        fifo.delete(pod("a", "3").into()).unwrap();

        let mut keys = fifo.list_keys();
        keys.sort();
        assert_eq!(keys, vec!["ns/a", "ns/b"]);

        let first = pop_ok(&fifo).await;
        assert_eq!(render(&first), vec!["Added:1", "Updated:2", "Deleted:3"]);
        let second = pop_ok(&fifo).await;
        assert_eq!(render(&second), vec!["Added:1"]);
        assert!(fifo.list_keys().is_empty());
    }

    #[tokio::test]
    async fn delete_of_unknown_object_is_ignored() {
        let fifo = fifo(None);
        fifo.delete(pod("a", "1").into()).unwrap();
        assert!(fifo.list_keys().is_empty());

        let known = Arc::new(Indexer::with_namespace_index());
        known.add(pod("b", "1")).unwrap();
        let fifo = self::fifo(Some(known));
        fifo.delete(pod("a", "1").into()).unwrap();
        fifo.delete(pod("b", "2").into()).unwrap();
        assert_eq!(fifo.list_keys(), vec!["ns/b"]);
        assert_eq!(render(&pop_ok(&fifo).await), vec!["Deleted:2"]);
    }

    #[tokio::test]
    async fn replace_tombstones_missing_known_objects() {
        let known = Arc::new(Indexer::with_namespace_index());
        known.add(pod("a", "1")).unwrap();
        known.add(pod("b", "1")).unwrap();
        let fifo = fifo(Some(known));

        fifo.replace(vec![pod("a", "2")], "10").unwrap();

        assert_eq!(
            render(&fifo.get_by_key("ns/a").unwrap()),
            vec!["Replaced:2"]
        );
        assert_eq!(
            render(&fifo.get_by_key("ns/b").unwrap()),
            vec!["Deleted:tombstone(1)"]
        );
    }

    #[tokio::test]
    async fn replace_without_known_objects_uses_queue() {
        let fifo = DeltaFIFO::new(DeltaFIFOOptions {
            emit_delta_type_replaced: false,
            ..DeltaFIFOOptions::default()
        });
        fifo.add(pod("a", "1")).unwrap();
        fifo.update(pod("b", "1")).unwrap();

        fifo.replace(vec![pod("a", "2")], "10").unwrap();

        assert_eq!(
            render(&fifo.get_by_key("ns/a").unwrap()),
            vec!["Added:1", "Sync:2"]
        );
        assert_eq!(
            render(&fifo.get_by_key("ns/b").unwrap()),
            vec!["Updated:1", "Deleted:tombstone(1)"]
        );

        // A second relist's tombstone merges with the first instead of nesting.
        fifo.replace(vec![pod("a", "3")], "11").unwrap();
        assert_eq!(
            render(&fifo.get_by_key("ns/b").unwrap()),
            vec!["Updated:1", "Deleted:tombstone(1)"]
        );
    }

    #[tokio::test]
    async fn resync_does_not_override_pending_deltas() {
        let known = Arc::new(Indexer::with_namespace_index());
        known.add(pod("a", "1")).unwrap();
        known.add(pod("b", "1")).unwrap();
        let fifo = fifo(Some(known));
        fifo.update(pod("a", "2")).unwrap();

        fifo.resync().unwrap();

        assert_eq!(render(&fifo.get_by_key("ns/a").unwrap()), vec!["Updated:2"]);
        assert_eq!(render(&fifo.get_by_key("ns/b").unwrap()), vec!["Sync:1"]);
    }

    #[tokio::test]
    async fn resync_without_known_objects_does_nothing() {
        let fifo = fifo(None);
        fifo.resync().unwrap();
        assert!(fifo.list_keys().is_empty());
    }

    #[tokio::test]
    async fn requeue_puts_deltas_back() {
        let fifo = fifo(None);
        fifo.add(pod("a", "1")).unwrap();

        let err = fifo
            .pop(|_, _| Err(ProcessError::Requeue("try later".into())))
            .await
            .unwrap_err();
        assert!(
            matches!(err, PopError::Process { requeued: true, .. }),
            "{err}"
        );
        assert_eq!(render(&fifo.get_by_key("ns/a").unwrap()), vec!["Added:1"]);

        let err = fifo
            .pop(|_, _| Err(ProcessError::Failed("broken".into())))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                PopError::Process {
                    requeued: false,
                    ..
                }
            ),
            "{err}"
        );
        assert!(fifo.get_by_key("ns/a").is_none());
    }

    #[tokio::test]
    async fn add_if_not_present_keeps_newer_deltas() {
        let fifo = fifo(None);
        fifo.add(pod("a", "2")).unwrap();
        let stale = Deltas(vec![Delta {
            delta_type: DeltaType::Added,
            object: pod("a", "1").into(),
        }]);
        fifo.add_if_not_present(stale).unwrap();
        assert_eq!(render(&fifo.get_by_key("ns/a").unwrap()), vec!["Added:2"]);

        assert_eq!(
            fifo.add_if_not_present(Deltas(Vec::new())).unwrap_err(),
            CacheError::ZeroLengthDeltas
        );
    }

    #[tokio::test]
    async fn drained_relist_gives_memory_back() {
        let fifo = fifo(None);
        let count = 3 * SHRINK_ABOVE;
        let list = (0..count).map(|i| pod(&format!("p{i}"), "1")).collect();
        fifo.replace(list, "5").unwrap();
        assert!(fifo.lock().queue.capacity() >= count);

        for _ in 0..count {
            pop_ok(&fifo).await;
        }
        let state = fifo.lock();
        assert!(
            state.queue.capacity() < SHRINK_ABOVE,
            "queue capacity {}",
            state.queue.capacity()
        );
        assert!(
            state.items.capacity() < SHRINK_ABOVE,
            "items capacity {}",
            state.items.capacity()
        );
    }

    #[tokio::test]
    async fn has_synced_after_initial_replace_popped() {
        let fifo = fifo(None);
        assert!(!fifo.has_synced());

        fifo.replace(vec![pod("a", "1"), pod("b", "1"), pod("a", "2")], "5")
            .unwrap();
        assert!(!fifo.has_synced());

        pop_ok(&fifo).await;
        assert!(!fifo.has_synced());
        pop_ok(&fifo).await;
        assert!(fifo.has_synced());
    }

    #[tokio::test]
    async fn paged_replace_tombstones_after_last_page() {
        let known = Arc::new(Indexer::with_namespace_index());
        known.add(pod("a", "1")).unwrap();
        known.add(pod("b", "1")).unwrap();
        let fifo = fifo(Some(known.clone()));
        let paged = fifo.paged().expect("a DeltaFIFO takes pages");

        let mut listed = HashSet::new();
        paged
            .replace_page(vec![pod("a", "2")], &mut listed)
            .unwrap();
        assert_eq!(
            render(&fifo.get_by_key("ns/a").unwrap()),
            vec!["Replaced:2"]
        );
        assert!(
            fifo.get_by_key("ns/b").is_none(),
            "no tombstone before the last page"
        );

        // The informer stores a page while the next one is still being listed.
        pop_ok(&fifo).await;
        known.update(pod("a", "2")).unwrap();
        paged
            .replace_page(vec![pod("c", "2")], &mut listed)
            .unwrap();
        paged.finish_replace(listed, "10").unwrap();

        assert!(fifo.get_by_key("ns/a").is_none());
        assert_eq!(
            render(&fifo.get_by_key("ns/b").unwrap()),
            vec!["Deleted:tombstone(1)"]
        );
        assert_eq!(
            render(&fifo.get_by_key("ns/c").unwrap()),
            vec!["Replaced:2"]
        );
    }

    #[tokio::test]
    async fn restarted_paged_replace() {
        let known = Arc::new(Indexer::with_namespace_index());
        let fifo = fifo(Some(known));
        let paged = fifo.paged().expect("a DeltaFIFO takes pages");

        let mut listed = HashSet::new();
        paged
            .replace_page(vec![pod("a", "1"), pod("b", "1")], &mut listed)
            .unwrap();
        // The continue token expired; the full list no longer has "b".
        listed.clear();
        paged
            .replace_page(vec![pod("a", "2")], &mut listed)
            .unwrap();
        paged.finish_replace(listed, "10").unwrap();

        assert_eq!(
            render(&fifo.get_by_key("ns/a").unwrap()),
            vec!["Replaced:1", "Replaced:2"]
        );
        assert_eq!(
            render(&fifo.get_by_key("ns/b").unwrap()),
            vec!["Replaced:1", "Deleted:tombstone(1)"]
        );
    }

    #[tokio::test]
    async fn has_synced_after_last_page() {
        let fifo = fifo(None);
        let paged = fifo.paged().expect("a DeltaFIFO takes pages");

        let mut listed = HashSet::new();
        paged
            .replace_page(vec![pod("a", "1"), pod("b", "1")], &mut listed)
            .unwrap();
        pop_ok(&fifo).await;
        pop_ok(&fifo).await;
        assert!(!fifo.has_synced(), "the list has more pages");

        paged
            .replace_page(vec![pod("c", "1")], &mut listed)
            .unwrap();
        paged.finish_replace(listed, "5").unwrap();
        assert!(!fifo.has_synced(), "the last page is still queued");
        pop_ok(&fifo).await;
        assert!(fifo.has_synced());

        // A later paged relist does not take the synced state back.
        let mut listed = HashSet::new();
        paged
            .replace_page(vec![pod("a", "2")], &mut listed)
            .unwrap();
        assert!(fifo.has_synced());
    }

    #[tokio::test]
    async fn paged_replace_with_bad_key() {
        let fifo = DeltaFIFO::new(DeltaFIFOOptions {
            key_function: Arc::new(|obj: &Value| match obj["metadata"]["name"].as_str() {
                Some(name) => Ok(format!("ns/{name}")),
                None => Err("no name".to_string()),
            }),
            ..DeltaFIFOOptions::default()
        });
        let paged = fifo.paged().expect("a DeltaFIFO takes pages");
        let mut listed = HashSet::new();
        let nameless = json!({"metadata": {"namespace": "ns"}});
        assert!(matches!(
            paged.replace_page(vec![pod("a", "1"), nameless], &mut listed),
            Err(CacheError::Key { .. })
        ));
        assert!(fifo.get_by_key("ns/a").is_none());
        assert!(listed.is_empty());
    }

    #[tokio::test]
    async fn pop_tells_first_list_from_later_deltas() {
        let fifo = fifo(None);
        let paged = fifo.paged().expect("a DeltaFIFO takes pages");
        let pop_flag = || async {
            let mut flag = None;
            fifo.pop(|_, in_initial_list| {
                flag = Some(in_initial_list);
                Ok(())
            })
            .await
            .unwrap();
            flag.expect("process called")
        };

        let mut listed = HashSet::new();
        paged
            .replace_page(vec![pod("a", "1"), pod("b", "1")], &mut listed)
            .unwrap();
        assert!(pop_flag().await, "a page of the first list");
        paged.finish_replace(listed, "5").unwrap();
        assert!(pop_flag().await, "the last object of the first list");
        fifo.add(pod("c", "6")).unwrap();
        assert!(!pop_flag().await, "a watch event after the sync");
    }

    #[tokio::test]
    async fn paged_writer_waits_for_room() {
        let fifo = fifo(None);
        let paged = fifo.paged().expect("a DeltaFIFO takes pages");
        let mut listed = HashSet::new();
        paged
            .replace_page(
                vec![pod("a", "1"), pod("b", "1"), pod("c", "1")],
                &mut listed,
            )
            .unwrap();
        let short = std::time::Duration::from_millis(50);
        assert!(
            tokio::time::timeout(short, paged.wait_for_room(1))
                .await
                .is_err(),
            "three queued, room for one"
        );

        let waiting = paged.wait_for_room(1);
        tokio::pin!(waiting);
        assert!(tokio::time::timeout(short, waiting.as_mut()).await.is_err());
        pop_ok(&fifo).await;
        assert!(tokio::time::timeout(short, waiting.as_mut()).await.is_err());
        pop_ok(&fifo).await;
        tokio::time::timeout(short, waiting)
            .await
            .expect("one left once two were popped");

        fifo.close();
        tokio::time::timeout(short, paged.wait_for_room(0))
            .await
            .expect("a closed queue never makes a writer wait");
    }

    #[tokio::test]
    async fn has_synced_after_empty_replace_or_add() {
        let empty = fifo(None);
        empty.replace(Vec::new(), "1").unwrap();
        assert!(empty.has_synced());

        let added = fifo(None);
        added.add(pod("a", "1")).unwrap();
        assert!(added.has_synced());
    }

    #[tokio::test]
    async fn pop_waits_for_add_and_close_wakes() {
        let fifo = Arc::new(fifo(None));

        let popper = tokio::spawn({
            let fifo = Arc::clone(&fifo);
            async move { fifo.pop(|_, _| Ok(())).await.map(|d| render(&d)) }
        });
        tokio::task::yield_now().await;
        fifo.add(pod("a", "1")).unwrap();
        assert_eq!(popper.await.unwrap().unwrap(), vec!["Added:1"]);

        let waiter = tokio::spawn({
            let fifo = Arc::clone(&fifo);
            async move { fifo.pop(|_, _| Ok(())).await.map(|d| render(&d)) }
        });
        tokio::task::yield_now().await;
        fifo.close();
        assert!(matches!(waiter.await.unwrap(), Err(PopError::Closed)));
        assert!(fifo.is_closed());
    }

    #[tokio::test]
    async fn closed_queue_drains_before_reporting_closed() {
        let fifo = fifo(None);
        fifo.add(pod("a", "1")).unwrap();
        fifo.close();

        assert_eq!(render(&pop_ok(&fifo).await), vec!["Added:1"]);
        assert!(matches!(
            fifo.pop(|_, _| Ok(())).await,
            Err(PopError::Closed)
        ));
    }
}
