//! Event handlers and the per-handler listener that feeds them.
//!
//! Each handler gets its own listener: an unbounded queue drained by a dedicated
//! thread, so a slow handler delays only itself.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::Duration;

use tokio::time::Instant;

use crate::cache::{ObjectOrTombstone, meta_namespace_key};

/// The object of a delete notification: the final state the watch reported, or a
/// tombstone when the deletion was only noticed through a relist.
#[derive(Debug, Clone)]
pub enum DeletedObject<K> {
    /// The object as the watch's DELETED event carried it.
    Object(Arc<K>),
    /// A deletion missed by the watch; `last_known` is the cache's last state of
    /// the object, which may be stale.
    Tombstone {
        /// The key the object was cached under (`namespace/name`).
        key: String,
        /// The last state the cache held, if any.
        last_known: Option<Arc<K>>,
    },
}

impl<K: crate::api::KubeObject> DeletedObject<K> {
    /// Returns the object, or the last known object of a tombstone.
    pub fn object(&self) -> Option<&Arc<K>> {
        match self {
            Self::Object(obj) => Some(obj),
            Self::Tombstone { last_known, .. } => last_known.as_ref(),
        }
    }

    /// Returns the cache key of the deleted object.
    pub fn key(&self) -> String {
        match self {
            Self::Object(obj) => meta_namespace_key(obj),
            Self::Tombstone { key, .. } => key.clone(),
        }
    }

    pub(crate) fn from_delta(obj: ObjectOrTombstone<Arc<K>>) -> Self {
        match obj {
            ObjectOrTombstone::Object(obj) => Self::Object(obj),
            ObjectOrTombstone::Tombstone(tombstone) => Self::Tombstone {
                key: tombstone.key,
                last_known: tombstone.obj,
            },
        }
    }
}

/// Receives the changes an informer observes. Methods run on the handler's own
/// thread (inside the tokio runtime's context), one notification at a time, in the
/// order the informer saw them. They should be quick: queue a key and return.
pub trait ResourceEventHandler<K>: Send + Sync + 'static {
    /// An object appeared. `is_in_initial_list` is true for objects of the
    /// informer's first list (or of the cache when the handler was added late).
    fn on_add(&self, obj: &Arc<K>, is_in_initial_list: bool);

    /// An object changed, or a resync replayed it (then `old` and `new` are equal).
    fn on_update(&self, old: &Arc<K>, new: &Arc<K>);

    /// An object was deleted.
    fn on_delete(&self, obj: DeletedObject<K>);
}

type AddFn<K> = Box<dyn Fn(&Arc<K>, bool) + Send + Sync>;
type UpdateFn<K> = Box<dyn Fn(&Arc<K>, &Arc<K>) + Send + Sync>;
type DeleteFn<K> = Box<dyn Fn(DeletedObject<K>) + Send + Sync>;

/// A [`ResourceEventHandler`] built from closures; a missing closure ignores its
/// notifications.
pub struct EventHandlerFuncs<K> {
    add: Option<AddFn<K>>,
    update: Option<UpdateFn<K>>,
    delete: Option<DeleteFn<K>>,
}

impl<K> Default for EventHandlerFuncs<K> {
    fn default() -> Self {
        Self {
            add: None,
            update: None,
            delete: None,
        }
    }
}

impl<K> EventHandlerFuncs<K> {
    /// A handler that ignores everything until closures are set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the add closure.
    pub fn on_add(mut self, f: impl Fn(&Arc<K>, bool) + Send + Sync + 'static) -> Self {
        self.add = Some(Box::new(f));
        self
    }

    /// Sets the update closure.
    pub fn on_update(mut self, f: impl Fn(&Arc<K>, &Arc<K>) + Send + Sync + 'static) -> Self {
        self.update = Some(Box::new(f));
        self
    }

    /// Sets the delete closure.
    pub fn on_delete(mut self, f: impl Fn(DeletedObject<K>) + Send + Sync + 'static) -> Self {
        self.delete = Some(Box::new(f));
        self
    }
}

impl<K: Send + Sync + 'static> ResourceEventHandler<K> for EventHandlerFuncs<K> {
    fn on_add(&self, obj: &Arc<K>, is_in_initial_list: bool) {
        if let Some(f) = &self.add {
            f(obj, is_in_initial_list);
        }
    }

    fn on_update(&self, old: &Arc<K>, new: &Arc<K>) {
        if let Some(f) = &self.update {
            f(old, new);
        }
    }

    fn on_delete(&self, obj: DeletedObject<K>) {
        if let Some(f) = &self.delete {
            f(obj);
        }
    }
}

/// One notification on its way to a handler.
pub(crate) enum Notification<K> {
    Add { obj: Arc<K>, initial: bool },
    Update { old: Arc<K>, new: Arc<K> },
    Delete(DeletedObject<K>),
}

/// Counters shared between a listener and its registration.
#[derive(Default)]
pub(crate) struct Progress {
    pub(crate) sent: AtomicU64,
    pub(crate) handled: AtomicU64,
    /// The `sent` count when the informer was first seen synced.
    pub(crate) sync_target: OnceLock<u64>,
}

/// A handler with its queue and resync schedule.
pub(crate) struct Listener<K> {
    pub(crate) id: u64,
    sender: mpsc::Sender<Notification<K>>,
    pub(crate) progress: Arc<Progress>,
    /// Zero: never resynced.
    pub(crate) resync_period: Duration,
    pub(crate) next_resync: Instant,
}

impl<K: Send + Sync + 'static> Listener<K> {
    /// Starts the listener's thread. The thread ends when the listener is dropped.
    pub(crate) fn spawn(
        id: u64,
        name: &str,
        handler: Arc<dyn ResourceEventHandler<K>>,
        resync_period: Duration,
    ) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel::<Notification<K>>();
        let progress = Arc::new(Progress::default());
        let runtime = tokio::runtime::Handle::try_current().ok();
        let thread_progress = progress.clone();
        let thread_name = format!("informer-{name}-{id}");
        std::thread::Builder::new()
            .name(thread_name.chars().take(15).collect())
            .spawn(move || {
                let _runtime = runtime.as_ref().map(tokio::runtime::Handle::enter);
                while let Ok(notification) = receiver.recv() {
                    let result =
                        std::panic::catch_unwind(AssertUnwindSafe(|| match notification {
                            Notification::Add { obj, initial } => handler.on_add(&obj, initial),
                            Notification::Update { old, new } => handler.on_update(&old, &new),
                            Notification::Delete(obj) => handler.on_delete(obj),
                        }));
                    if result.is_err() {
                        tracing::error!(
                            handler = thread_name,
                            "event handler panicked; continuing with the next notification"
                        );
                    }
                    thread_progress.handled.fetch_add(1, Ordering::Release);
                }
            })?;
        Ok(Self {
            id,
            sender,
            progress,
            resync_period,
            next_resync: Instant::now() + resync_period,
        })
    }

    pub(crate) fn send(&self, notification: Notification<K>) {
        self.progress.sent.fetch_add(1, Ordering::AcqRel);
        if self.sender.send(notification).is_err() {
            // The thread only ends after a panic outside catch_unwind; count the
            // notification as handled so has_synced does not hang.
            self.progress.handled.fetch_add(1, Ordering::Release);
        }
    }

    /// Returns whether the resync is due at `now`, and schedules the next one.
    pub(crate) fn should_resync(&mut self, now: Instant) -> bool {
        if self.resync_period.is_zero() || now < self.next_resync {
            return false;
        }
        self.next_resync = now + self.resync_period;
        true
    }
}
