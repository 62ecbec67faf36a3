//! A monitor's store: it receives one resource's list and watch results from a
//! reflector and turns them into [`GraphEvent`]s for the graph builder.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use client::cache::{CacheError, ObjectOrTombstone, Store, meta_namespace_key};
use serde_json::Value;
use tokio::sync::mpsc;

use super::graph::{GraphEvent, ObjectMeta};

/// The reflector's store for one resource.
pub struct MonitorStore {
    api_version: String,
    kind: String,
    known: Mutex<HashMap<String, ObjectMeta>>,
    events: mpsc::UnboundedSender<GraphEvent>,
    synced: AtomicBool,
}

impl MonitorStore {
    pub fn new(
        api_version: String,
        kind: String,
        events: mpsc::UnboundedSender<GraphEvent>,
    ) -> Self {
        Self {
            api_version,
            kind,
            known: Mutex::new(HashMap::new()),
            events,
            synced: AtomicBool::new(false),
        }
    }

    /// Returns whether the first list has been delivered.
    pub fn has_synced(&self) -> bool {
        self.synced.load(Ordering::SeqCst)
    }

    fn meta(&self, object: &Value) -> Option<ObjectMeta> {
        ObjectMeta::from_object(object, &self.api_version, &self.kind)
    }

    fn upsert(&self, object: &Value) {
        let Some(meta) = self.meta(object) else {
            return;
        };
        let key = meta_namespace_key(object);
        let previous = {
            let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            known.insert(key, meta.clone())
        };
        // The name now belongs to a new object: the old one is gone.
        if let Some(old) = &previous
            && old.identity.uid != meta.identity.uid
        {
            let _ = self.events.send(GraphEvent::Delete(old.clone()));
        }
        if previous.as_ref() != Some(&meta) {
            let _ = self.events.send(GraphEvent::Upsert(meta));
        }
    }
}

impl Store<Value> for MonitorStore {
    fn add(&self, obj: Value) -> Result<(), CacheError> {
        self.upsert(&obj);
        Ok(())
    }

    fn update(&self, obj: Value) -> Result<(), CacheError> {
        self.upsert(&obj);
        Ok(())
    }

    fn delete(&self, obj: ObjectOrTombstone<Value>) -> Result<(), CacheError> {
        let key = match &obj {
            ObjectOrTombstone::Object(object) => meta_namespace_key(object),
            ObjectOrTombstone::Tombstone(tombstone) => tombstone.key.clone(),
        };
        let removed = self
            .known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
        let meta = obj
            .object()
            .and_then(|object| self.meta(object))
            .or(removed);
        if let Some(meta) = meta {
            let _ = self.events.send(GraphEvent::Delete(meta));
        }
        Ok(())
    }

    fn replace(&self, list: Vec<Value>, _resource_version: &str) -> Result<(), CacheError> {
        let listed: HashMap<String, &Value> = list
            .iter()
            .map(|object| (meta_namespace_key(object), object))
            .collect();
        let gone: Vec<ObjectMeta> = {
            let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            let keys: Vec<String> = known
                .keys()
                .filter(|key| !listed.contains_key(*key))
                .cloned()
                .collect();
            keys.iter().filter_map(|key| known.remove(key)).collect()
        };
        for meta in gone {
            let _ = self.events.send(GraphEvent::Delete(meta));
        }
        for object in &list {
            self.upsert(object);
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
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}
