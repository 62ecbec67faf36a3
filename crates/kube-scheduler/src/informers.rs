//! Watches the API objects the scheduler reads and turns the reflector's store writes
//! into typed add, update and delete callbacks. Entry point: [`start_informers`].

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use client::cache::{CacheError, ObjectOrTombstone, Reflector, ReflectorOptions, Store};
use client::rest::RestClient;
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    Node, PersistentVolume, PersistentVolumeClaim, Pod, ReplicationController, Service,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::StorageClass;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::queue::ClusterEvent;
use crate::scheduler::Scheduler;

/// A typed change of one object.
pub enum Change<K> {
    /// The object appeared.
    Add(Arc<K>),
    /// The object changed from the first to the second state.
    Update(Arc<K>, Arc<K>),
    /// The object was deleted; the last known state.
    Delete(Arc<K>),
}

type Handler<K> = Box<dyn Fn(Change<K>) + Send + Sync>;

/// A reflector store that keeps the last state per key and reports typed changes.
pub struct TypedDispatch<K> {
    known: Mutex<HashMap<String, Arc<K>>>,
    handler: Handler<K>,
    synced: AtomicBool,
    _kind: PhantomData<K>,
}

fn key_of(value: &Value) -> String {
    let metadata = &value["metadata"];
    let name = metadata["name"].as_str().unwrap_or_default();
    match metadata["namespace"].as_str() {
        Some(namespace) if !namespace.is_empty() => format!("{namespace}/{name}"),
        _ => name.to_string(),
    }
}

impl<K: DeserializeOwned + Send + Sync + 'static> TypedDispatch<K> {
    /// Creates a dispatcher calling `handler` for every change.
    pub fn new(handler: impl Fn(Change<K>) + Send + Sync + 'static) -> Arc<TypedDispatch<K>> {
        Arc::new(TypedDispatch {
            known: Mutex::new(HashMap::new()),
            handler: Box::new(handler),
            synced: AtomicBool::new(false),
            _kind: PhantomData,
        })
    }

    /// Returns whether the first list was applied.
    pub fn has_synced(&self) -> bool {
        self.synced.load(Ordering::SeqCst)
    }

    fn decode(&self, value: Value) -> Result<(String, Arc<K>), CacheError> {
        let key = key_of(&value);
        let object: K = serde_json::from_value(value)
            .map_err(|error| CacheError::Key {
                reason: format!("failed to decode {key}: {error}"),
            })?;
        Ok((key, Arc::new(object)))
    }

    fn upsert(&self, value: Value) -> Result<(), CacheError> {
        let (key, object) = self.decode(value)?;
        let old = self
            .known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, object.clone());
        match old {
            Some(old) => (self.handler)(Change::Update(old, object)),
            None => (self.handler)(Change::Add(object)),
        }
        Ok(())
    }
}

impl<K: DeserializeOwned + Send + Sync + 'static> Store<Value> for TypedDispatch<K> {
    fn add(&self, obj: Value) -> Result<(), CacheError> {
        self.upsert(obj)
    }

    fn update(&self, obj: Value) -> Result<(), CacheError> {
        self.upsert(obj)
    }

    fn delete(&self, obj: ObjectOrTombstone<Value>) -> Result<(), CacheError> {
        let key = match &obj {
            ObjectOrTombstone::Object(value) => key_of(value),
            ObjectOrTombstone::Tombstone(tombstone) => tombstone.key.clone(),
        };
        let old = self
            .known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        let last = match (old, obj) {
            (_, ObjectOrTombstone::Object(value)) => Some(self.decode(value)?.1),
            (Some(old), _) => Some(old),
            (None, _) => None,
        };
        if let Some(last) = last {
            (self.handler)(Change::Delete(last));
        }
        Ok(())
    }

    fn replace(&self, list: Vec<Value>, _resource_version: &str) -> Result<(), CacheError> {
        let mut seen = std::collections::HashSet::new();
        for value in list {
            seen.insert(key_of(&value));
            self.upsert(value)?;
        }
        let gone: Vec<Arc<K>> = {
            let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
            let keys: Vec<String> = known.keys().filter(|key| !seen.contains(*key)).cloned().collect();
            keys.iter().filter_map(|key| known.remove(key)).collect()
        };
        for object in gone {
            (self.handler)(Change::Delete(object));
        }
        self.synced.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn resync(&self) -> Result<(), CacheError> {
        Ok(())
    }

    fn list_keys(&self) -> Vec<String> {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}

/// The running informers and their sync state.
pub struct Informers {
    /// The reflector tasks.
    pub tasks: Vec<JoinHandle<()>>,
    synced: Vec<Arc<dyn Fn() -> bool + Send + Sync>>,
}

impl Informers {
    /// Returns whether every informer applied its first list.
    pub fn has_synced(&self) -> bool {
        self.synced.iter().all(|synced| synced())
    }

    /// Waits until every informer synced or `cancel` fires. Returns whether synced.
    pub async fn wait_for_cache_sync(&self, cancel: &watch::Receiver<bool>) -> bool {
        loop {
            if self.has_synced() {
                return true;
            }
            if *cancel.borrow() {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

fn spawn<K: DeserializeOwned + Send + Sync + 'static>(
    informers: &mut Informers,
    client: &RestClient,
    path: &str,
    handler: impl Fn(Change<K>) + Send + Sync + 'static,
    cancel: &watch::Receiver<bool>,
) {
    let dispatch = TypedDispatch::<K>::new(handler);
    let reflector = Reflector::new(
        client.clone(),
        path.to_string(),
        dispatch.clone(),
        ReflectorOptions::default(),
    );
    informers.tasks.push(tokio::spawn(reflector.run(cancel.clone())));
    informers
        .synced
        .push(Arc::new(move || dispatch.has_synced()));
}

fn keep<K>(map: &RwLock<HashMap<String, Arc<K>>>, key: String, change: Option<Arc<K>>) {
    let mut map = map.write().unwrap_or_else(|e| e.into_inner());
    match change {
        Some(object) => {
            map.insert(key, object);
        }
        None => {
            map.remove(&key);
        }
    }
}

fn object_key(metadata: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    match metadata.namespace.as_deref() {
        Some(namespace) => format!("{namespace}/{}", metadata.name.as_deref().unwrap_or_default()),
        None => metadata.name.clone().unwrap_or_default(),
    }
}

macro_rules! lister {
    ($informers:expr, $client:expr, $cancel:expr, $scheduler:expr, $kind:ty, $path:expr, $field:ident, $event:expr) => {{
        let scheduler = $scheduler.clone();
        spawn::<$kind>($informers, $client, $path, move |change| {
            let event: Option<ClusterEvent> = $event;
            match change {
                Change::Add(object) | Change::Update(_, object) => {
                    keep(&scheduler.cluster.$field, object_key(&object.metadata), Some(object));
                }
                Change::Delete(object) => keep(&scheduler.cluster.$field, object_key(&object.metadata), None),
            }
            if let Some(event) = event {
                scheduler.on_cluster_object_change(event);
            }
        }, $cancel);
    }};
}

/// Starts reflectors for pods, nodes, and the objects plugins read, feeding
/// `scheduler`. Call [`Informers::wait_for_cache_sync`] before scheduling.
pub fn start_informers(
    client: &RestClient,
    scheduler: &Arc<Scheduler>,
    cancel: &watch::Receiver<bool>,
) -> Informers {
    let mut informers = Informers {
        tasks: Vec::new(),
        synced: Vec::new(),
    };

    let pods = scheduler.clone();
    spawn::<Pod>(&mut informers, client, "/api/v1/pods", move |change| match change {
        Change::Add(pod) => pods.on_pod_add(pod),
        Change::Update(old, new) => pods.on_pod_update(old, new),
        Change::Delete(pod) => pods.on_pod_delete(pod),
    }, cancel);

    let nodes = scheduler.clone();
    spawn::<Node>(&mut informers, client, "/api/v1/nodes", move |change| match change {
        Change::Add(node) => nodes.on_node_add(node),
        Change::Update(old, new) => nodes.on_node_update(old, new),
        Change::Delete(node) => nodes.on_node_delete(node),
    }, cancel);

    lister!(&mut informers, client, cancel, scheduler, PersistentVolume, "/api/v1/persistentvolumes", pvs, Some(ClusterEvent::PvChange));
    lister!(&mut informers, client, cancel, scheduler, PersistentVolumeClaim, "/api/v1/persistentvolumeclaims", pvcs, Some(ClusterEvent::PvcChange));
    lister!(&mut informers, client, cancel, scheduler, Service, "/api/v1/services", services, Some(ClusterEvent::ServiceChange));
    lister!(&mut informers, client, cancel, scheduler, PodDisruptionBudget, "/apis/policy/v1/poddisruptionbudgets", pdbs, None);
    lister!(&mut informers, client, cancel, scheduler, ReplicationController, "/api/v1/replicationcontrollers", replication_controllers, None);
    lister!(&mut informers, client, cancel, scheduler, ReplicaSet, "/apis/apps/v1/replicasets", replica_sets, None);
    lister!(&mut informers, client, cancel, scheduler, StatefulSet, "/apis/apps/v1/statefulsets", stateful_sets, None);

    let classes = scheduler.clone();
    spawn::<StorageClass>(&mut informers, client, "/apis/storage.k8s.io/v1/storageclasses", move |change| {
        if let Change::Add(_) = change {
            classes.on_cluster_object_change(ClusterEvent::StorageClassAdd);
        }
    }, cancel);
    informers
}
