//! The owner/dependent graph of every object the collector watches, and how each
//! observed change moves work onto the attempt-to-delete and attempt-to-orphan
//! queues.
//!
//! Entry point: [`Graph::process`] with a [`GraphEvent`]; it returns the
//! [`Work`] the change calls for. Owners not yet observed become virtual nodes that
//! the collector verifies with a live read.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::Value;

/// The finalizer that makes the collector orphan an owner's dependents first.
pub const FINALIZER_ORPHAN: &str = "orphan";

/// The finalizer that makes the collector delete blocking dependents first.
pub const FINALIZER_FOREGROUND: &str = "foregroundDeletion";

/// Returns the shared copy of `text`. The graph keeps an identity per object, and
/// API versions, kinds and namespaces repeat across all of them, so each distinct
/// one is allocated once. NOTE: names stay interned after their last object goes;
/// they are few (kinds and namespaces).
pub fn intern(text: &str) -> Arc<str> {
    static INTERNED: LazyLock<Mutex<HashSet<Arc<str>>>> = LazyLock::new(Default::default);
    let mut interned = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(shared) = interned.get(text) {
        return shared.clone();
    }
    let shared: Arc<str> = Arc::from(text);
    interned.insert(shared.clone());
    shared
}

/// The identity of an object: enough to find it again through the API.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectIdentity {
    pub api_version: Arc<str>,
    pub kind: Arc<str>,
    /// Empty for cluster-scoped objects. For a virtual owner, the dependent's
    /// namespace (the owner's namespace if the owner kind is namespaced).
    pub namespace: Arc<str>,
    pub name: String,
    pub uid: String,
}

impl std::fmt::Display for ObjectIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}/{}, namespace: {}, name: {}, uid: {}]",
            self.api_version, self.kind, self.namespace, self.name, self.uid
        )
    }
}

/// An owner reference as the collector needs it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnerRef {
    pub api_version: Arc<str>,
    pub kind: Arc<str>,
    pub name: String,
    pub uid: String,
    pub block_owner_deletion: bool,
}

/// The metadata of an observed object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectMeta {
    pub identity: ObjectIdentity,
    pub owners: Vec<OwnerRef>,
    pub being_deleted: bool,
    pub finalizers: Vec<String>,
}

impl ObjectMeta {
    /// Reads the metadata of an object as JSON, with `api_version` and `kind` of the
    /// resource it was listed from. `None` when it has no uid.
    pub fn from_object(
        object: &Value,
        api_version: &Arc<str>,
        kind: &Arc<str>,
    ) -> Option<ObjectMeta> {
        let metadata = object.get("metadata")?;
        let text = |field: &str| {
            metadata
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let uid = text("uid");
        if uid.is_empty() {
            return None;
        }
        let owners = metadata
            .get("ownerReferences")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(owner_ref_from_json).collect())
            .unwrap_or_default();
        let finalizers = metadata
            .get("finalizers")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|item| item.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Some(ObjectMeta {
            identity: ObjectIdentity {
                api_version: api_version.clone(),
                kind: kind.clone(),
                namespace: intern(&text("namespace")),
                name: text("name"),
                uid,
            },
            owners,
            being_deleted: metadata
                .get("deletionTimestamp")
                .is_some_and(|v| !v.is_null()),
            finalizers,
        })
    }

    pub fn has_finalizer(&self, name: &str) -> bool {
        self.finalizers.iter().any(|finalizer| finalizer == name)
    }
}

/// Parses one `ownerReferences` entry.
pub fn owner_ref_from_json(value: &Value) -> Option<OwnerRef> {
    let text = |field: &str| value.get(field).and_then(Value::as_str).map(str::to_string);
    Some(OwnerRef {
        api_version: intern(&text("apiVersion")?),
        kind: intern(&text("kind")?),
        name: text("name")?,
        uid: text("uid")?,
        block_owner_deletion: value
            .get("blockOwnerDeletion")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// A change the monitors observed, or a deletion the collector verified itself.
#[derive(Debug, Clone)]
pub enum GraphEvent {
    /// An object was added or updated.
    Upsert(ObjectMeta),
    /// The object with this uid was deleted.
    Delete(String),
    /// A live read found that the object with this uid does not exist.
    VirtualDelete(String),
}

/// The work a graph change calls for: uids to enqueue.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Work {
    pub attempt_to_delete: BTreeSet<String>,
    pub attempt_to_orphan: BTreeSet<String>,
}

/// One object in the graph.
#[derive(Debug, Clone)]
pub struct Node {
    pub identity: ObjectIdentity,
    pub owners: Vec<OwnerRef>,
    /// Uids of the objects that name this one as an owner.
    pub dependents: BTreeSet<String>,
    /// Created from an owner reference; never observed by a monitor.
    pub virtual_node: bool,
    pub being_deleted: bool,
    /// Being deleted in the foreground: waits for its blocking dependents.
    pub deleting_dependents: bool,
}

/// The graph: nodes by uid.
#[derive(Debug, Default)]
pub struct Graph {
    nodes: HashMap<String, Node>,
}

impl Graph {
    /// Returns a copy of the node with `uid`.
    pub fn node(&self, uid: &str) -> Option<Node> {
        self.nodes.get(uid).cloned()
    }

    /// Returns how many nodes the graph holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Returns whether the graph is empty.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Returns the dependents of `uid` whose reference to it blocks its deletion.
    pub fn blocking_dependents(&self, uid: &str) -> Vec<Node> {
        let Some(node) = self.nodes.get(uid) else {
            return Vec::new();
        };
        node.dependents
            .iter()
            .filter_map(|dependent| self.nodes.get(dependent))
            .filter(|dependent| {
                dependent
                    .owners
                    .iter()
                    .any(|owner| owner.uid == uid && owner.block_owner_deletion)
            })
            .cloned()
            .collect()
    }

    /// Applies one event and returns the work it calls for.
    pub fn process(&mut self, event: GraphEvent) -> Work {
        let mut work = Work::default();
        match event {
            GraphEvent::Upsert(meta) => self.upsert(meta, &mut work),
            GraphEvent::Delete(uid) | GraphEvent::VirtualDelete(uid) => {
                self.remove(&uid, &mut work)
            }
        }
        work
    }

    fn upsert(&mut self, meta: ObjectMeta, work: &mut Work) {
        let uid = meta.identity.uid.clone();
        let old_owners = match self.nodes.get_mut(&uid) {
            Some(node) => {
                if node.virtual_node {
                    node.virtual_node = false;
                    node.identity = meta.identity.clone();
                }
                std::mem::replace(&mut node.owners, meta.owners.clone())
            }
            None => {
                self.nodes.insert(
                    uid.clone(),
                    Node {
                        identity: meta.identity.clone(),
                        owners: meta.owners.clone(),
                        dependents: BTreeSet::new(),
                        virtual_node: false,
                        being_deleted: false,
                        deleting_dependents: false,
                    },
                );
                Vec::new()
            }
        };

        // Owners added: link them, creating virtual owners to verify.
        for owner in &meta.owners {
            if old_owners.iter().any(|old| old.uid == owner.uid) {
                continue;
            }
            self.link(&meta.identity, owner, work);
        }
        // Owners removed: unlink; an owner waiting on its dependents may now proceed.
        for old in &old_owners {
            if meta.owners.iter().any(|owner| owner.uid == old.uid) {
                continue;
            }
            if let Some(owner) = self.nodes.get_mut(&old.uid) {
                owner.dependents.remove(&uid);
                if owner.deleting_dependents {
                    work.attempt_to_delete.insert(old.uid.clone());
                }
            }
        }
        // A dependent whose blockOwnerDeletion changed may unblock a waiting owner.
        for owner in &meta.owners {
            let unblocked = old_owners.iter().any(|old| {
                old.uid == owner.uid && old.block_owner_deletion && !owner.block_owner_deletion
            });
            if unblocked
                && self
                    .nodes
                    .get(&owner.uid)
                    .is_some_and(|node| node.deleting_dependents)
            {
                work.attempt_to_delete.insert(owner.uid.clone());
            }
        }

        let Some(node) = self.nodes.get_mut(&uid) else {
            return;
        };
        node.being_deleted = meta.being_deleted;
        if meta.being_deleted && meta.has_finalizer(FINALIZER_ORPHAN) {
            work.attempt_to_orphan.insert(uid.clone());
        }
        if meta.being_deleted && meta.has_finalizer(FINALIZER_FOREGROUND) {
            node.deleting_dependents = true;
            work.attempt_to_delete
                .extend(node.dependents.iter().cloned());
            work.attempt_to_delete.insert(uid.clone());
        } else {
            node.deleting_dependents = false;
        }
        // A being-deleted dependent of a foreground-deleting owner: the owner checks again.
        if meta.being_deleted {
            for owner in &meta.owners {
                if self
                    .nodes
                    .get(&owner.uid)
                    .is_some_and(|node| node.deleting_dependents)
                {
                    work.attempt_to_delete.insert(owner.uid.clone());
                }
            }
        }
    }

    fn link(&mut self, dependent: &ObjectIdentity, owner: &OwnerRef, work: &mut Work) {
        let node = self.nodes.entry(owner.uid.clone()).or_insert_with(|| {
            work.attempt_to_delete.insert(owner.uid.clone());
            Node {
                identity: ObjectIdentity {
                    api_version: owner.api_version.clone(),
                    kind: owner.kind.clone(),
                    namespace: dependent.namespace.clone(),
                    name: owner.name.clone(),
                    uid: owner.uid.clone(),
                },
                owners: Vec::new(),
                dependents: BTreeSet::new(),
                virtual_node: true,
                being_deleted: false,
                deleting_dependents: false,
            }
        });
        node.dependents.insert(dependent.uid.clone());
    }

    fn remove(&mut self, uid: &str, work: &mut Work) {
        let Some(node) = self.nodes.remove(uid) else {
            return;
        };
        // Dependents lost an owner: each is checked for deletion.
        for dependent in &node.dependents {
            if self.nodes.contains_key(dependent) {
                work.attempt_to_delete.insert(dependent.clone());
            }
        }
        // Owners forget this dependent; a foreground-deleting owner checks again.
        for owner in &node.owners {
            if let Some(owner_node) = self.nodes.get_mut(&owner.uid) {
                owner_node.dependents.remove(uid);
                if owner_node.deleting_dependents {
                    work.attempt_to_delete.insert(owner.uid.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(uid: &str, owners: &[(&str, bool)], deleting: bool, finalizers: &[&str]) -> ObjectMeta {
        ObjectMeta {
            identity: ObjectIdentity {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: "default".into(),
                name: uid.into(),
                uid: uid.into(),
            },
            owners: owners
                .iter()
                .map(|(owner, block)| OwnerRef {
                    api_version: "apps/v1".into(),
                    kind: "ReplicaSet".into(),
                    name: (*owner).into(),
                    uid: (*owner).into(),
                    block_owner_deletion: *block,
                })
                .collect(),
            being_deleted: deleting,
            finalizers: finalizers.iter().map(|f| f.to_string()).collect(),
        }
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    #[test]
    fn unseen_owner_becomes_virtual_and_is_verified() {
        let mut graph = Graph::default();
        let work = graph.process(GraphEvent::Upsert(meta("pod", &[("rs", true)], false, &[])));
        assert_eq!(work.attempt_to_delete, set(&["rs"]));
        let owner = graph.node("rs").expect("virtual owner");
        assert!(owner.virtual_node);
        assert_eq!(owner.dependents, set(&["pod"]));

        // The owner is observed: no longer virtual, and no new work.
        let mut rs = meta("rs", &[], false, &[]);
        rs.identity.kind = "ReplicaSet".into();
        let work = graph.process(GraphEvent::Upsert(rs));
        assert_eq!(work, Work::default());
        assert!(!graph.node("rs").expect("owner").virtual_node);
    }

    #[test]
    fn owner_deletion_enqueues_dependents() {
        let mut graph = Graph::default();
        graph.process(GraphEvent::Upsert(meta("rs", &[], false, &[])));
        graph.process(GraphEvent::Upsert(meta("a", &[("rs", true)], false, &[])));
        graph.process(GraphEvent::Upsert(meta("b", &[("rs", true)], false, &[])));
        let work = graph.process(GraphEvent::Delete("rs".to_string()));
        assert!(work.attempt_to_delete.is_superset(&set(&["a", "b"])));
        graph.process(GraphEvent::Delete("a".to_string()));
        graph.process(GraphEvent::Delete("b".to_string()));
        assert!(graph.is_empty(), "{graph:?}");
    }

    #[test]
    fn orphan_and_foreground_finalizers() {
        let mut graph = Graph::default();
        graph.process(GraphEvent::Upsert(meta("rs", &[], false, &[])));
        graph.process(GraphEvent::Upsert(meta("a", &[("rs", true)], false, &[])));
        graph.process(GraphEvent::Upsert(meta("b", &[("rs", false)], false, &[])));

        let work = graph.process(GraphEvent::Upsert(meta(
            "rs",
            &[],
            true,
            &[FINALIZER_ORPHAN],
        )));
        assert_eq!(work.attempt_to_orphan, set(&["rs"]));

        let work = graph.process(GraphEvent::Upsert(meta(
            "rs",
            &[],
            true,
            &[FINALIZER_FOREGROUND],
        )));
        assert_eq!(work.attempt_to_delete, set(&["a", "b", "rs"]));
        assert!(graph.node("rs").expect("owner").deleting_dependents);
        let blocking: Vec<String> = graph
            .blocking_dependents("rs")
            .into_iter()
            .map(|node| node.identity.uid)
            .collect();
        assert_eq!(blocking, ["a"]);

        // The blocking dependent goes away: the owner is checked again.
        let work = graph.process(GraphEvent::Delete("a".to_string()));
        assert!(work.attempt_to_delete.contains("rs"));
        assert!(graph.blocking_dependents("rs").is_empty());
    }

    #[test]
    fn removed_owner_reference_unlinks() {
        let mut graph = Graph::default();
        graph.process(GraphEvent::Upsert(meta(
            "rs",
            &[],
            true,
            &[FINALIZER_FOREGROUND],
        )));
        graph.process(GraphEvent::Upsert(meta("a", &[("rs", true)], false, &[])));
        let work = graph.process(GraphEvent::Upsert(meta("a", &[], false, &[])));
        assert!(work.attempt_to_delete.contains("rs"));
        assert!(graph.node("rs").expect("owner").dependents.is_empty());
    }

    #[test]
    fn object_meta_from_json() {
        let object = serde_json::json!({"metadata": {"name": "p", "namespace": "ns", "uid": "u1",
            "deletionTimestamp": "2024-01-01T00:00:00Z", "finalizers": ["orphan"],
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs",
                                 "uid": "u0", "blockOwnerDeletion": true}]}});
        let meta = ObjectMeta::from_object(&object, &intern("v1"), &intern("Pod")).expect("meta");
        assert!(meta.being_deleted);
        assert!(meta.has_finalizer(FINALIZER_ORPHAN));
        assert_eq!(meta.owners[0].uid, "u0");
        assert!(meta.owners[0].block_owner_deletion);
        assert!(
            ObjectMeta::from_object(
                &serde_json::json!({"metadata": {}}),
                &intern("v1"),
                &intern("Pod")
            )
            .is_none()
        );
    }
}
