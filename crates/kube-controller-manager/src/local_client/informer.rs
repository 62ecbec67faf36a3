//! Shared informers: one reflector per resource type feeding a typed cache whose
//! changes are handed to registered event handlers.
//!
//! Entry point: [`SharedInformerFactory::informer`] during controller construction,
//! then [`SharedInformerFactory::start`] and
//! [`SharedInformerFactory::wait_for_cache_sync`].
//!
//! Handlers run on the reflector's task, so they must only enqueue keys. A relist
//! is diffed against the cache: new objects become adds, changed ones updates and
//! missing ones deletes.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use client::cache::{CacheError, ObjectOrTombstone, Reflector, ReflectorOptions, Store};
use client::rest::RestClient;
use serde_json::Value;
use tokio::sync::watch;

use super::api::{Resource, collection_path};

/// A deleted object as a handler sees it.
#[derive(Clone, Debug)]
pub enum DeletedObject<K> {
    /// The object's last state.
    Object(Arc<K>),
    /// The deletion was noticed on a relist; `last_known` is the cached state.
    Tombstone {
        key: String,
        last_known: Option<Arc<K>>,
    },
}

impl<K> DeletedObject<K> {
    /// Returns the last known state of the object, if any.
    pub fn object(&self) -> Option<&Arc<K>> {
        match self {
            DeletedObject::Object(object) => Some(object),
            DeletedObject::Tombstone { last_known, .. } => last_known.as_ref(),
        }
    }
}

type AddFn<K> = Box<dyn Fn(&Arc<K>) + Send + Sync>;
type UpdateFn<K> = Box<dyn Fn(&Arc<K>, &Arc<K>) + Send + Sync>;
type DeleteFn<K> = Box<dyn Fn(&DeletedObject<K>) + Send + Sync>;

/// Callbacks for cache changes; unset ones do nothing.
pub struct EventHandlerFuncs<K> {
    on_add: Option<AddFn<K>>,
    on_update: Option<UpdateFn<K>>,
    on_delete: Option<DeleteFn<K>>,
}

impl<K> Default for EventHandlerFuncs<K> {
    fn default() -> Self {
        Self {
            on_add: None,
            on_update: None,
            on_delete: None,
        }
    }
}

impl<K> EventHandlerFuncs<K> {
    /// Handlers that do nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the add callback.
    pub fn on_add(mut self, f: impl Fn(&Arc<K>) + Send + Sync + 'static) -> Self {
        self.on_add = Some(Box::new(f));
        self
    }

    /// Sets the update callback, called with the old and the new object. It is also
    /// called on relists for unchanged objects, as resyncs do upstream.
    pub fn on_update(mut self, f: impl Fn(&Arc<K>, &Arc<K>) + Send + Sync + 'static) -> Self {
        self.on_update = Some(Box::new(f));
        self
    }

    /// Sets the delete callback.
    pub fn on_delete(mut self, f: impl Fn(&DeletedObject<K>) + Send + Sync + 'static) -> Self {
        self.on_delete = Some(Box::new(f));
        self
    }
}

struct InformerState<K> {
    objects: RwLock<HashMap<String, Arc<K>>>,
    handlers: RwLock<Vec<EventHandlerFuncs<K>>>,
    synced: AtomicBool,
}

/// The cache and handlers of one resource type. Clones share them.
pub struct SharedIndexInformer<K> {
    state: Arc<InformerState<K>>,
}

impl<K> Clone for SharedIndexInformer<K> {
    fn clone(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
        }
    }
}

/// Returns `namespace/name`, or `name` for a cluster-scoped object.
pub fn object_key<K: Resource>(object: &K) -> String {
    let meta = object.metadata();
    match meta.namespace.as_deref() {
        Some(namespace) if !namespace.is_empty() => {
            format!("{namespace}/{}", meta.name.as_deref().unwrap_or_default())
        }
        _ => meta.name.clone().unwrap_or_default(),
    }
}

impl<K: Resource> SharedIndexInformer<K> {
    fn new() -> Self {
        Self {
            state: Arc::new(InformerState {
                objects: RwLock::new(HashMap::new()),
                handlers: RwLock::new(Vec::new()),
                synced: AtomicBool::new(false),
            }),
        }
    }

    /// Registers handlers. Objects already cached are delivered to the new handlers
    /// as adds.
    pub fn add_event_handler(&self, handlers: EventHandlerFuncs<K>) {
        if let Some(on_add) = &handlers.on_add {
            for object in self.list() {
                on_add(&object);
            }
        }
        self.state
            .handlers
            .write()
            .unwrap_or_else(|poison| poison.into_inner())
            .push(handlers);
    }

    /// Whether the first list has been applied.
    pub fn has_synced(&self) -> bool {
        self.state.synced.load(Ordering::Acquire)
    }

    /// Returns every cached object.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.read().values().cloned().collect()
    }

    /// Returns the cached objects of `namespace`.
    pub fn list_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        self.read()
            .values()
            .filter(|object| object.metadata().namespace.as_deref() == Some(namespace))
            .cloned()
            .collect()
    }

    /// Returns the cached object `namespace/name` (`name` alone when `namespace` is
    /// empty).
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        let key = if namespace.is_empty() {
            name.to_string()
        } else {
            format!("{namespace}/{name}")
        };
        self.get_by_key(&key)
    }

    /// Returns the cached object under `key`.
    pub fn get_by_key(&self, key: &str) -> Option<Arc<K>> {
        self.read().get(key).cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<K>>> {
        self.state
            .objects
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn handlers(&self) -> std::sync::RwLockReadGuard<'_, Vec<EventHandlerFuncs<K>>> {
        self.state
            .handlers
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn decode(value: Value) -> Result<Arc<K>, CacheError> {
        serde_json::from_value::<K>(value)
            .map(Arc::new)
            .map_err(|err| CacheError::Key {
                reason: format!("object is not a valid {}: {err}", K::KIND),
            })
    }

    fn upsert(&self, object: Arc<K>) {
        let key = object_key(object.as_ref());
        let old = self
            .state
            .objects
            .write()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(key, Arc::clone(&object));
        for handler in self.handlers().iter() {
            match (&old, &handler.on_add, &handler.on_update) {
                (None, Some(on_add), _) => on_add(&object),
                (Some(old), _, Some(on_update)) => on_update(old, &object),
                _ => {}
            }
        }
    }

    fn remove(&self, key: &str, tombstone: bool) {
        let old = self
            .state
            .objects
            .write()
            .unwrap_or_else(|poison| poison.into_inner())
            .remove(key);
        let deleted = match (old, tombstone) {
            (Some(object), false) => DeletedObject::Object(object),
            (last_known, _) => DeletedObject::Tombstone {
                key: key.to_string(),
                last_known,
            },
        };
        for handler in self.handlers().iter() {
            if let Some(on_delete) = &handler.on_delete {
                on_delete(&deleted);
            }
        }
    }
}

impl<K: Resource> Store<Value> for SharedIndexInformer<K> {
    fn add(&self, obj: Value) -> Result<(), CacheError> {
        self.upsert(Self::decode(obj)?);
        Ok(())
    }

    fn update(&self, obj: Value) -> Result<(), CacheError> {
        self.upsert(Self::decode(obj)?);
        Ok(())
    }

    fn delete(&self, obj: ObjectOrTombstone<Value>) -> Result<(), CacheError> {
        match obj {
            ObjectOrTombstone::Object(value) => {
                let object = Self::decode(value)?;
                self.remove(&object_key(object.as_ref()), false);
            }
            ObjectOrTombstone::Tombstone(tombstone) => self.remove(&tombstone.key, true),
        }
        Ok(())
    }

    fn replace(&self, list: Vec<Value>, _resource_version: &str) -> Result<(), CacheError> {
        let mut listed = HashMap::new();
        for value in list {
            match Self::decode(value) {
                Ok(object) => {
                    listed.insert(object_key(object.as_ref()), object);
                }
                Err(err) => {
                    tracing::warn!(kind = K::KIND, error = %err, "skipping undecodable object in list")
                }
            }
        }
        let gone: Vec<String> = self
            .read()
            .keys()
            .filter(|key| !listed.contains_key(*key))
            .cloned()
            .collect();
        for key in gone {
            self.remove(&key, true);
        }
        for object in listed.into_values() {
            self.upsert(object);
        }
        self.state.synced.store(true, Ordering::Release);
        Ok(())
    }

    fn resync(&self) -> Result<(), CacheError> {
        for object in self.list() {
            for handler in self.handlers().iter() {
                if let Some(on_update) = &handler.on_update {
                    on_update(&object, &object);
                }
            }
        }
        Ok(())
    }

    fn list_keys(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }
}

type Starter = Box<dyn FnOnce(RestClient, Duration, watch::Receiver<bool>) + Send>;

struct Registered {
    informer: Box<dyn Any + Send + Sync>,
    has_synced: Box<dyn Fn() -> bool + Send + Sync>,
}

/// Hands out one [`SharedIndexInformer`] per resource type and runs their
/// reflectors.
#[derive(Clone)]
pub struct SharedInformerFactory {
    client: RestClient,
    resync: Duration,
    informers: Arc<Mutex<HashMap<TypeId, Registered>>>,
    pending: Arc<Mutex<Vec<Starter>>>,
}

impl SharedInformerFactory {
    /// A factory whose informers list and watch through `client`; `resync` is the
    /// period of update callbacks for unchanged objects (zero disables them).
    pub fn new(client: RestClient, resync: Duration) -> Self {
        Self {
            client,
            resync,
            informers: Arc::new(Mutex::new(HashMap::new())),
            pending: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Returns the informer of `K` across all namespaces, creating it on first use.
    /// It starts with the next [`SharedInformerFactory::start`].
    pub fn informer<K: Resource>(&self) -> SharedIndexInformer<K> {
        let mut informers = self
            .informers
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(registered) = informers.get(&TypeId::of::<K>())
            && let Some(informer) = registered.informer.downcast_ref::<SharedIndexInformer<K>>()
        {
            return informer.clone();
        }

        let informer = SharedIndexInformer::<K>::new();
        let synced = informer.clone();
        informers.insert(
            TypeId::of::<K>(),
            Registered {
                informer: Box::new(informer.clone()),
                has_synced: Box::new(move || synced.has_synced()),
            },
        );
        let store = informer.clone();
        self.pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .push(Box::new(move |client, resync, cancel| {
                let options = ReflectorOptions {
                    resync_period: resync,
                    ..ReflectorOptions::default()
                };
                let reflector =
                    Reflector::new(client, collection_path::<K>(None), Arc::new(store), options);
                tokio::spawn(reflector.run(cancel));
            }));
        informer
    }

    /// Starts the reflectors of every informer requested since the last call.
    pub fn start(&self, cancel: watch::Receiver<bool>) {
        let pending: Vec<Starter> = std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(|poison| poison.into_inner()),
        );
        for start in pending {
            start(self.client.clone(), self.resync, cancel.clone());
        }
    }

    /// Waits until every informer requested so far has applied its first list.
    /// Returns false when `cancel` fires first.
    pub async fn wait_for_cache_sync(&self, mut cancel: watch::Receiver<bool>) -> bool {
        loop {
            let all_synced = self
                .informers
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .values()
                .all(|registered| (registered.has_synced)());
            if all_synced {
                return true;
            }
            if *cancel.borrow() {
                return false;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                changed = cancel.changed() => {
                    if changed.is_err() {
                        return false;
                    }
                }
            }
        }
    }
}
