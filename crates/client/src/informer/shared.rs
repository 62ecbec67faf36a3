//! The shared index informer: one reflector, one DeltaFIFO, one indexer, many
//! handlers.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::handler::{DeletedObject, Listener, Notification, Progress, ResourceEventHandler};
use super::lister::Lister;
use crate::api::{ApiResource, KubeObject};
use crate::cache::{
    CacheError, DeltaFIFO, DeltaFIFOOptions, DeltaType, Deltas, Indexer, Indexers, JsonPacker,
    KeyListerGetter, Object, ObjectOrTombstone, Reflector, ReflectorOptions, Store, TransformFunc,
};
use crate::rest::RestClient;

/// The shortest resync period a handler may ask for; shorter ones are raised to it.
pub const MINIMUM_RESYNC_PERIOD: Duration = Duration::from_secs(1);

/// How often the resync loop looks for handlers whose resync is due.
const RESYNC_POLL: Duration = Duration::from_secs(1);

/// The selection and resync settings of an informer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InformerOptions {
    /// One namespace, or all namespaces when `None`.
    pub namespace: Option<String>,
    /// A label selector for the list and watch.
    pub label_selector: Option<String>,
    /// A field selector for the list and watch.
    pub field_selector: Option<String>,
    /// The resync period of handlers added without their own; `None` takes the
    /// factory's default.
    pub resync: Option<Duration>,
}

/// Something that can report whether its cache has synced.
pub trait CacheSynced: Send + Sync {
    /// Returns true once the initial list has been delivered.
    fn has_synced(&self) -> bool;
}

/// A handle on an added handler.
#[derive(Clone)]
pub struct HandlerRegistration {
    id: u64,
    progress: Arc<Progress>,
    informer_synced: Arc<dyn Fn() -> bool + Send + Sync>,
}

impl HandlerRegistration {
    /// Returns true once the informer has synced and this handler has processed every
    /// notification sent to it up to then.
    pub fn has_synced(&self) -> bool {
        if !(self.informer_synced)() {
            return false;
        }
        let target = *self
            .progress
            .sync_target
            .get_or_init(|| self.progress.sent.load(Ordering::Acquire));
        self.progress.handled.load(Ordering::Acquire) >= target
    }
}

impl CacheSynced for HandlerRegistration {
    fn has_synced(&self) -> bool {
        HandlerRegistration::has_synced(self)
    }
}

/// An informer shared by every handler of one resource (with one set of options):
/// it lists and watches once, keeps an indexed cache of `Arc<K>`, and tells each
/// handler about every change. Clones share everything.
///
/// Start it with [`SharedIndexInformer::run`] (or through a
/// [`SharedInformerFactory`](super::SharedInformerFactory)).
pub struct SharedIndexInformer<K: KubeObject> {
    inner: Arc<Inner<K>>,
}

impl<K: KubeObject> Clone for SharedIndexInformer<K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<K: KubeObject> {
    client: RestClient,
    resource: ApiResource,
    options: InformerOptions,
    reflector_options: ReflectorOptions,
    accept: Option<String>,
    default_resync: Duration,
    indexer: Arc<Indexer<Arc<K>>>,
    fifo: Arc<DeltaFIFO<Arc<K>>>,
    processor: Mutex<Processor<K>>,
    transform: Mutex<Option<TransformFunc<K>>>,
    started: AtomicBool,
    next_id: AtomicU64,
}

struct Processor<K> {
    listeners: Vec<Listener<K>>,
    /// Ids of the listeners whose resync is under way.
    syncing: Vec<u64>,
    started: bool,
}

impl<K: KubeObject> SharedIndexInformer<K> {
    /// Creates an informer of `resource` decoding objects as `K`. `default_resync`
    /// is the resync period of handlers added without one (zero: none).
    pub fn new(client: RestClient, resource: ApiResource, options: InformerOptions) -> Self {
        Self::with_settings(client, resource, options, ReflectorOptions::default(), None)
    }

    /// Creates an informer with explicit reflector settings (watch timeouts,
    /// backoff) and Accept header; selectors come from `options`.
    pub fn with_settings(
        client: RestClient,
        resource: ApiResource,
        options: InformerOptions,
        reflector_options: ReflectorOptions,
        accept: Option<String>,
    ) -> Self {
        let indexer: Arc<Indexer<Arc<K>>> = Arc::new(Indexer::with_namespace_index());
        let known: Arc<dyn KeyListerGetter<Arc<K>>> = indexer.clone();
        let fifo = Arc::new(DeltaFIFO::new(DeltaFIFOOptions {
            known_objects: Some(known),
            ..DeltaFIFOOptions::default()
        }));
        let default_resync = options.resync.unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                client,
                resource,
                options,
                reflector_options,
                accept,
                default_resync,
                indexer,
                fifo,
                processor: Mutex::new(Processor {
                    listeners: Vec::new(),
                    syncing: Vec::new(),
                    started: false,
                }),
                transform: Mutex::new(None),
                started: AtomicBool::new(false),
                next_id: AtomicU64::new(0),
            }),
        }
    }

    /// Returns the resource this informer watches.
    pub fn resource(&self) -> &ApiResource {
        &self.inner.resource
    }

    /// Returns the local cache. Treat its objects as read-only.
    pub fn indexer(&self) -> Arc<Indexer<Arc<K>>> {
        self.inner.indexer.clone()
    }

    /// Returns a lister over the local cache.
    pub fn lister(&self) -> Lister<K> {
        Lister::new(self.inner.indexer.clone())
    }

    /// Returns true once the first list has been applied to the cache and handed to
    /// the handlers (not necessarily handled by them; see
    /// [`HandlerRegistration::has_synced`]).
    pub fn has_synced(&self) -> bool {
        self.inner.fifo.has_synced()
    }

    /// Returns true once [`SharedIndexInformer::run`] was called.
    pub fn is_started(&self) -> bool {
        self.inner.started.load(Ordering::Acquire)
    }

    /// Adds index functions. Call before the informer starts.
    ///
    /// # Errors
    /// [`CacheError::IndexersAfterItems`] once the cache contains objects,
    /// [`CacheError::IndexerConflict`] for a name already taken.
    pub fn add_indexers(&self, indexers: Indexers<Arc<K>>) -> Result<(), CacheError> {
        self.inner.indexer.add_indexers(indexers)
    }

    /// Sets client-go's transform: `transform` changes every object after it is
    /// decoded and before the cache, the handlers and the listers see it. Call it
    /// before the informer starts. [`strip_managed_fields`] is the usual one.
    ///
    /// # Errors
    /// [`CacheError::AlreadyStarted`] once [`SharedIndexInformer::run`] was called.
    pub fn set_transform(&self, transform: TransformFunc<K>) -> Result<(), CacheError> {
        let mut slot = self
            .inner
            .transform
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Checked under the lock that `run` takes to read the transform, so a
        // transform is either rejected or used.
        if self.is_started() {
            return Err(CacheError::AlreadyStarted);
        }
        *slot = Some(transform);
        Ok(())
    }

    /// Keeps the cache's objects as JSON bytes and decodes them on every read. A
    /// decoded pod takes about seven times the memory of its JSON, so the cache of a
    /// large cluster shrinks to a fraction. In exchange each lister read and each
    /// update's old object costs a decode of a few microseconds. Handlers still
    /// receive the decoded objects the watch delivers. May be called at any time.
    pub fn pack_cache(&self) {
        self.inner
            .indexer
            .set_packer(Arc::new(JsonPacker::<K>::new()));
    }

    /// Adds a handler with the informer's default resync period.
    pub fn add_event_handler(
        &self,
        handler: impl ResourceEventHandler<K>,
    ) -> std::io::Result<HandlerRegistration> {
        self.add_event_handler_with_resync(handler, self.inner.default_resync)
    }

    /// Adds a handler that also gets an update for every cached object each
    /// `resync_period` (zero: never; raised to [`MINIMUM_RESYNC_PERIOD`]). A
    /// handler added after the start first gets an add for every cached object.
    ///
    /// # Errors
    /// When the handler's thread cannot be started.
    pub fn add_event_handler_with_resync(
        &self,
        handler: impl ResourceEventHandler<K>,
        resync_period: Duration,
    ) -> std::io::Result<HandlerRegistration> {
        let resync_period = if resync_period.is_zero() {
            resync_period
        } else {
            resync_period.max(MINIMUM_RESYNC_PERIOD)
        };
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let listener = Listener::spawn(
            id,
            &self.inner.resource.plural,
            Arc::new(handler),
            resync_period,
        )?;
        let registration = HandlerRegistration {
            id,
            progress: listener.progress.clone(),
            informer_synced: {
                let fifo = self.inner.fifo.clone();
                Arc::new(move || fifo.has_synced())
            },
        };

        // Holding the processor blocks delta handling, so the replay below and the
        // live notifications neither overlap nor leave a gap.
        let mut processor = self.inner.lock_processor();
        if processor.started {
            for obj in self.inner.indexer.list() {
                listener.send(Notification::Add { obj, initial: true });
            }
        }
        processor.listeners.push(listener);
        Ok(registration)
    }

    /// Removes a handler; it gets no further notifications.
    pub fn remove_event_handler(&self, registration: &HandlerRegistration) {
        let mut processor = self.inner.lock_processor();
        processor.listeners.retain(|l| l.id != registration.id);
    }

    /// Lists, watches and dispatches until `cancel` is true or its sender is dropped.
    /// A second call returns at once.
    pub async fn run(&self, mut cancel: watch::Receiver<bool>) {
        if self.inner.started.swap(true, Ordering::AcqRel) {
            tracing::warn!(resource = %self.inner.resource.plural, "informer already started");
            return;
        }
        self.inner.lock_processor().started = true;

        let path = self
            .inner
            .resource
            .collection_path(self.inner.options.namespace.as_deref());
        let mut reflector_options = self.inner.reflector_options.clone();
        reflector_options.label_selector = self.inner.options.label_selector.clone();
        reflector_options.field_selector = self.inner.options.field_selector.clone();
        reflector_options.resync_period = Duration::ZERO;
        if reflector_options.accept.is_none() {
            reflector_options.accept = self.inner.accept.clone();
        }
        // The reflector decodes straight into `Arc<K>`, so the object it queues is the
        // one the indexer stores and the handlers receive.
        let fifo: Arc<dyn Store<Arc<K>>> = self.inner.fifo.clone();
        let mut reflector =
            Reflector::new(self.inner.client.clone(), path, fifo, reflector_options);
        let transform = self
            .inner
            .transform
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if let Some(transform) = transform {
            reflector = reflector.with_transform(transform);
        }
        let reflector_task = tokio::spawn(reflector.run(cancel.clone()));
        let resync_task = tokio::spawn(resync_loop(self.inner.clone(), cancel.clone()));

        loop {
            let was_synced = self.inner.fifo.has_synced();
            let inner = self.inner.clone();
            let popped = tokio::select! {
                popped = self.inner.fifo.pop(move |deltas, in_initial_list| {
                    inner.handle_deltas(deltas, in_initial_list);
                    Ok(())
                }) => popped,
                _ = cancelled(&mut cancel) => break,
            };
            if let Err(error) = popped {
                tracing::error!(resource = %self.inner.resource.plural, %error, "processing deltas failed");
                if self.inner.fifo.is_closed() {
                    break;
                }
            }
            if !was_synced && self.inner.fifo.has_synced() && self.inner.indexer.is_packed() {
                // The first list's decoded objects are packed now: without a trim,
                // the freed ones stay resident until later events trigger one.
                tokio::task::spawn_blocking(apimachinery::heap::trim);
            }
        }

        self.inner.fifo.close();
        resync_task.abort();
        let _ = reflector_task.await;
        // Dropping the listeners ends their threads once their queues drain.
        self.inner.lock_processor().listeners.clear();
    }
}

/// Clears `metadata.managedFields`, a transform for informers whose users never read
/// it. Upstream kube-controller-manager and kube-scheduler drop it from their
/// caches because it is often a large part of an object: 4,420 of the 14,600 heap
/// bytes of a decoded pod in the informer benchmark.
pub fn strip_managed_fields<K: KubeObject>(obj: &mut K) {
    obj.meta_mut().managed_fields = None;
}

impl<K: KubeObject> CacheSynced for SharedIndexInformer<K> {
    fn has_synced(&self) -> bool {
        SharedIndexInformer::has_synced(self)
    }
}

impl<K: KubeObject> Inner<K> {
    fn lock_processor(&self) -> MutexGuard<'_, Processor<K>> {
        self.processor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies one key's deltas to the cache and notifies the handlers. Runs while the
    /// DeltaFIFO is locked.
    fn handle_deltas(&self, deltas: &Deltas<Arc<K>>, initial: bool) {
        let processor = self.lock_processor();
        for delta in deltas.iter() {
            match delta.delta_type {
                DeltaType::Deleted => {
                    if let Err(error) = self.indexer.delete(delta.object.clone()) {
                        tracing::error!(%error, "failed to delete from the informer cache");
                    }
                    let deleted = DeletedObject::from_delta(delta.object.clone());
                    for listener in &processor.listeners {
                        listener.send(Notification::Delete(deleted.clone()));
                    }
                }
                delta_type => {
                    let ObjectOrTombstone::Object(obj) = &delta.object else {
                        continue;
                    };
                    // One call stores the object and returns the one it replaces, so a
                    // packed cache decodes the old object once.
                    let old = match self.indexer.upsert(obj.clone()) {
                        Ok(old) => old,
                        Err(error) => {
                            tracing::error!(%error, "failed to store the object in the informer cache, dropping it");
                            continue;
                        }
                    };
                    match old {
                        Some(old) => {
                            let is_sync = delta_type == DeltaType::Sync
                                || (delta_type == DeltaType::Replaced
                                    && !obj.resource_version().is_empty()
                                    && old.resource_version() == obj.resource_version());
                            for listener in &processor.listeners {
                                if is_sync && !processor.syncing.contains(&listener.id) {
                                    continue;
                                }
                                listener.send(Notification::Update {
                                    old: old.clone(),
                                    new: obj.clone(),
                                });
                            }
                        }
                        None => {
                            for listener in &processor.listeners {
                                listener.send(Notification::Add {
                                    obj: obj.clone(),
                                    initial,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Marks, each poll, the handlers whose resync is due and queues Sync deltas for the
/// whole cache when any is.
async fn resync_loop<K: KubeObject>(inner: Arc<Inner<K>>, mut cancel: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(RESYNC_POLL) => {}
            _ = cancelled(&mut cancel) => return,
        }
        let due = {
            let mut processor = inner.lock_processor();
            let now = Instant::now();
            let mut syncing = Vec::new();
            for listener in processor.listeners.iter_mut() {
                if listener.should_resync(now) {
                    syncing.push(listener.id);
                }
            }
            let due = !syncing.is_empty();
            processor.syncing = syncing;
            due
        };
        if due && let Err(error) = inner.fifo.resync() {
            tracing::error!(resource = %inner.resource.plural, %error, "resync failed");
        }
    }
}

async fn cancelled(cancel: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which also means stop.
    let _ = cancel.wait_for(|stop| *stop).await;
}
