//! A monitor's store: it receives one resource's list and watch results from a
//! reflector and turns them into [`GraphEvent`]s for the graph builder.
//!
//! The graph keeps each object's metadata, so the store keeps only what it needs to
//! tell changes apart: per key, the uid and a hash of the metadata the graph uses.
//! At 100,000 objects that is about 150 bytes each instead of a second copy of the
//! metadata.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use client::cache::{CacheError, ObjectOrTombstone, PagedReplace, Store, meta_namespace_key};
use serde_json::Value;
use tokio::sync::mpsc;

use super::graph::{GraphEvent, ObjectMeta, intern};

/// The reflector's store for one resource.
pub struct MonitorStore {
    api_version: Arc<str>,
    kind: Arc<str>,
    known: Mutex<HashMap<String, Seen>>,
    events: mpsc::UnboundedSender<GraphEvent>,
    synced: AtomicBool,
}

/// The record the store keeps of one object.
#[derive(Debug, PartialEq)]
struct Seen {
    uid: String,
    /// The hash of the object's [`ObjectMeta`]: an unchanged hash means nothing the
    /// graph uses changed.
    fingerprint: u64,
}

impl Seen {
    fn of(meta: &ObjectMeta) -> Self {
        let mut hasher = DefaultHasher::new();
        meta.hash(&mut hasher);
        Seen {
            uid: meta.identity.uid.clone(),
            fingerprint: hasher.finish(),
        }
    }
}

impl MonitorStore {
    pub fn new(
        api_version: String,
        kind: String,
        events: mpsc::UnboundedSender<GraphEvent>,
    ) -> Self {
        Self {
            api_version: intern(&api_version),
            kind: intern(&kind),
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
        let seen = Seen::of(&meta);
        let fingerprint = seen.fingerprint;
        let previous = {
            let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            match known.get_mut(&key) {
                Some(slot) => Some(std::mem::replace(slot, seen)),
                None => known.insert(key, seen),
            }
        };
        let changed = match &previous {
            // The name now belongs to a new object: the old one is gone.
            Some(old) if old.uid != meta.identity.uid => {
                let _ = self.events.send(GraphEvent::Delete(old.uid.clone()));
                true
            }
            Some(old) => old.fingerprint != fingerprint,
            None => true,
        };
        if changed {
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
        let uid = obj
            .object()
            .and_then(|object| self.meta(object))
            .map(|meta| meta.identity.uid)
            .or(removed.map(|seen| seen.uid));
        if let Some(uid) = uid {
            let _ = self.events.send(GraphEvent::Delete(uid));
        }
        Ok(())
    }

    fn replace(&self, list: Vec<Value>, resource_version: &str) -> Result<(), CacheError> {
        let mut listed = HashSet::new();
        self.replace_page(list, &mut listed)?;
        self.finish_replace(listed, resource_version)
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

    fn paged(&self) -> Option<&dyn PagedReplace<Value>> {
        Some(self)
    }
}

/// Batched lists for a monitor, so the collector never keeps a whole list of
/// metadata in memory. Each batch becomes graph events right away, and the objects
/// missing from the list are deleted once the last batch is in.
impl PagedReplace<Value> for MonitorStore {
    fn replace_page(
        &self,
        page: Vec<Value>,
        listed: &mut HashSet<String>,
    ) -> Result<(), CacheError> {
        for object in &page {
            listed.insert(meta_namespace_key(object));
            self.upsert(object);
        }
        Ok(())
    }

    fn finish_replace(
        &self,
        listed: HashSet<String>,
        _resource_version: &str,
    ) -> Result<(), CacheError> {
        let deleted: Vec<Seen> = {
            let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            let keys: Vec<String> = known
                .keys()
                .filter(|key| !listed.contains(*key))
                .cloned()
                .collect();
            keys.iter().filter_map(|key| known.remove(key)).collect()
        };
        for seen in deleted {
            let _ = self.events.send(GraphEvent::Delete(seen.uid));
        }
        self.synced.store(true, Ordering::SeqCst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use client::cache::DeletedFinalStateUnknown;
    use serde_json::json;

    use super::*;

    fn pod(name: &str, uid: &str, owner: Option<&str>, resource_version: &str) -> Value {
        let owners: Vec<Value> = owner
            .map(|owner| {
                json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner, "uid": owner})
            })
            .into_iter()
            .collect();
        json!({"metadata": {
            "namespace": "default", "name": name, "uid": uid,
            "resourceVersion": resource_version, "ownerReferences": owners,
        }})
    }

    /// Drains the events sent so far as `upsert UID` and `delete UID` lines.
    fn drain(events: &mut mpsc::UnboundedReceiver<GraphEvent>) -> Vec<String> {
        let mut lines = Vec::new();
        while let Ok(event) = events.try_recv() {
            lines.push(match event {
                GraphEvent::Upsert(meta) => {
                    format!("upsert {} owners {}", meta.identity.uid, meta.owners.len())
                }
                GraphEvent::Delete(uid) => format!("delete {uid}"),
                GraphEvent::VirtualDelete(uid) => format!("virtual delete {uid}"),
            });
        }
        lines
    }

    #[test]
    fn only_changes_the_graph_uses_become_events() {
        let (sender, mut events) = mpsc::unbounded_channel();
        let store = MonitorStore::new("v1".to_string(), "Pod".to_string(), sender);

        store
            .replace(
                vec![pod("a", "u1", None, "1"), pod("b", "u2", None, "1")],
                "1",
            )
            .unwrap();
        assert!(store.has_synced());
        let mut first = drain(&mut events);
        first.sort();
        assert_eq!(first, vec!["upsert u1 owners 0", "upsert u2 owners 0"]);

        // A new resourceVersion alone changes nothing the graph keeps.
        store.update(pod("a", "u1", None, "2")).unwrap();
        assert!(drain(&mut events).is_empty());
        store.update(pod("a", "u1", Some("rs"), "3")).unwrap();
        assert_eq!(drain(&mut events), vec!["upsert u1 owners 1"]);

        // The name taken by a new object: the old uid is deleted first.
        store.update(pod("a", "u3", None, "4")).unwrap();
        assert_eq!(drain(&mut events), vec!["delete u1", "upsert u3 owners 0"]);

        // A tombstone without the object still names the uid.
        store
            .delete(ObjectOrTombstone::Tombstone(DeletedFinalStateUnknown {
                key: "default/b".to_string(),
                obj: None,
            }))
            .unwrap();
        assert_eq!(drain(&mut events), vec!["delete u2"]);

        // A relist without an object deletes it.
        store.add(pod("c", "u4", None, "5")).unwrap();
        drain(&mut events);
        store.replace(vec![pod("c", "u4", None, "5")], "6").unwrap();
        assert_eq!(drain(&mut events), vec!["delete u3"]);
        assert_eq!(store.list_keys(), vec!["default/c"]);
    }

    #[test]
    fn paged_list_syncs_after_the_last_page() {
        let (sender, mut events) = mpsc::unbounded_channel();
        let store = MonitorStore::new("v1".to_string(), "Pod".to_string(), sender);
        store.add(pod("old", "u0", None, "1")).unwrap();
        drain(&mut events);
        let paged = store.paged().expect("a monitor takes pages");

        let mut listed = HashSet::new();
        paged
            .replace_page(vec![pod("a", "u1", None, "2")], &mut listed)
            .unwrap();
        assert_eq!(drain(&mut events), vec!["upsert u1 owners 0"]);
        assert!(!store.has_synced());
        paged
            .replace_page(vec![pod("b", "u2", Some("rs"), "2")], &mut listed)
            .unwrap();
        paged.finish_replace(listed, "2").unwrap();
        assert!(store.has_synced());
        assert_eq!(drain(&mut events), vec!["upsert u2 owners 1", "delete u0"]);
        let mut keys = store.list_keys();
        keys.sort();
        assert_eq!(keys, vec!["default/a", "default/b"]);
    }
}
