//! The garbage collector: deletes objects whose owners are gone, orphans the
//! dependents of owners deleted with the `orphan` finalizer, and deletes blocking
//! dependents first for owners deleted with `foregroundDeletion`.
//!
//! Entry point: [`GarbageCollector::new`] and [`GarbageCollector::run`]. Monitors
//! (one reflector per deletable resource that discovery finds, rediscovered every
//! [`RESOURCE_RESYNC_PERIOD`]) feed the [`graph::Graph`]; its changes fill the
//! attempt-to-delete and attempt-to-orphan queues, whose workers verify owners with
//! live reads before they delete or patch anything.

pub mod discovery;
pub mod graph;
mod monitor;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use client::rest::{ClientError, PatchType, RestClient};
use client::workqueue::{RateLimitingQueue, default_controller_rate_limiter};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::context::ControllerContext;
use crate::objectapi::{delete_path, is_conflict, is_not_found};
use crate::queueworker::{sleep_or_cancel, wait_cancelled};
use discovery::{ApiResource, RestMapper};
use graph::{FINALIZER_FOREGROUND, FINALIZER_ORPHAN, Graph, GraphEvent, ObjectIdentity, OwnerRef};

/// How often discovery runs again to monitor newly served resources.
pub const RESOURCE_RESYNC_PERIOD: Duration = Duration::from_secs(30);

/// How long workers wait for the first lists of the monitors before they start.
const INITIAL_SYNC_TIMEOUT: Duration = Duration::from_secs(60);

/// Resources the collector never monitors: events carry no owners worth tracking
/// and are numerous.
const IGNORED_RESOURCES: &[(&str, &str)] = &[("", "events"), ("events.k8s.io", "events")];

/// An error of one attempt; the item is retried with backoff.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error("{0}")]
    Client(#[from] ClientError),
    #[error("no resource serves {api_version} {kind}")]
    UnknownKind { api_version: String, kind: String },
    #[error("{0} still has dependents to wait for")]
    Waiting(String),
}

/// The garbage collector controller.
pub struct GarbageCollector {
    inner: Arc<Inner>,
    events: mpsc::UnboundedReceiver<GraphEvent>,
}

struct Inner {
    client: RestClient,
    graph: Mutex<Graph>,
    mapper: RwLock<RestMapper>,
    events: mpsc::UnboundedSender<GraphEvent>,
    attempt_to_delete: RateLimitingQueue<String>,
    attempt_to_orphan: RateLimitingQueue<String>,
    monitors: Mutex<Vec<Arc<monitor::MonitorStore>>>,
    monitored: Mutex<HashSet<(String, String)>>,
    /// When discovery last ran, to rediscover early (at most every
    /// [`MIN_REDISCOVERY_INTERVAL`]) when an owner's kind is unknown.
    last_discovery: Mutex<Option<tokio::time::Instant>>,
    cancel: Mutex<Option<watch::Receiver<bool>>>,
}

/// The shortest interval between two discoveries started by unknown kinds.
const MIN_REDISCOVERY_INTERVAL: Duration = Duration::from_secs(5);

impl GarbageCollector {
    /// Creates the collector; monitors start in [`GarbageCollector::run`].
    pub fn new(ctx: &ControllerContext) -> Self {
        Self::with_client(ctx.client.clone())
    }

    /// Creates the collector from a client alone.
    pub fn with_client(client: RestClient) -> Self {
        let (sender, events) = mpsc::unbounded_channel();
        Self {
            inner: Arc::new(Inner {
                client,
                graph: Mutex::new(Graph::default()),
                mapper: RwLock::new(RestMapper::default()),
                events: sender,
                attempt_to_delete: RateLimitingQueue::new_named(
                    Arc::new(default_controller_rate_limiter()),
                    "garbage_collector_attempt_to_delete",
                ),
                attempt_to_orphan: RateLimitingQueue::new_named(
                    Arc::new(default_controller_rate_limiter()),
                    "garbage_collector_attempt_to_orphan",
                ),
                monitors: Mutex::new(Vec::new()),
                monitored: Mutex::new(HashSet::new()),
                last_discovery: Mutex::new(None),
                cancel: Mutex::new(None),
            }),
            events,
        }
    }

    /// Runs monitors, the graph builder and `workers` workers per queue until
    /// `cancel` turns true or its sender is dropped.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        tracing::info!("starting garbage collector controller");
        let inner = self.inner;
        *inner.cancel.lock().unwrap_or_else(|p| p.into_inner()) = Some(cancel.clone());

        let graph_inner = inner.clone();
        let mut events = self.events;
        let graph_task = tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                graph_inner.process_event(event);
            }
        });

        // Discovery must succeed once before anything else runs.
        let mut backoff = Duration::from_millis(500);
        loop {
            match inner.sync_monitors(&cancel).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::warn!(%error, "garbage collector discovery failed; retrying");
                }
            }
            if sleep_or_cancel(backoff, &cancel).await {
                graph_task.abort();
                return;
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }

        let deadline = tokio::time::Instant::now() + INITIAL_SYNC_TIMEOUT;
        while !inner.monitors_synced() && tokio::time::Instant::now() < deadline {
            if sleep_or_cancel(Duration::from_millis(100), &cancel).await {
                graph_task.abort();
                return;
            }
        }
        tracing::info!("garbage collector: all resource monitors have synced");

        let mut tasks = Vec::new();
        for _ in 0..workers.max(1) {
            let worker = inner.clone();
            tasks.push(tokio::spawn(
                async move { worker.run_delete_worker().await },
            ));
            let worker = inner.clone();
            tasks.push(tokio::spawn(
                async move { worker.run_orphan_worker().await },
            ));
        }

        let resync = inner.clone();
        let resync_cancel = cancel.clone();
        tasks.push(tokio::spawn(async move {
            while !sleep_or_cancel(RESOURCE_RESYNC_PERIOD, &resync_cancel).await {
                if let Err(error) = resync.sync_monitors(&resync_cancel).await {
                    tracing::warn!(%error, "garbage collector rediscovery failed");
                }
            }
        }));

        let mut cancel = cancel;
        wait_cancelled(&mut cancel).await;
        inner.attempt_to_delete.shut_down();
        inner.attempt_to_orphan.shut_down();
        graph_task.abort();
        for task in tasks {
            task.abort();
        }
        tracing::info!("shutting down garbage collector controller");
    }
}

/// Returns whether the collector monitors a resource: it can be listed, watched and
/// deleted, and is not ignored.
/// Removes `metadata.managedFields` from an object a monitor decoded.
fn drop_managed_fields(object: &mut Value) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
}

fn is_deletable(resource: &ApiResource) -> bool {
    resource.preferred
        && resource.supports(&["list", "watch", "delete"])
        && !IGNORED_RESOURCES
            .iter()
            .any(|(group, plural)| resource.group == *group && resource.plural == *plural)
}

impl Inner {
    async fn sync_monitors(&self, cancel: &watch::Receiver<bool>) -> Result<(), ClientError> {
        *self
            .last_discovery
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(tokio::time::Instant::now());
        let found = discovery::discover(&self.client).await?;
        for (group_version, error) in &found.failed {
            tracing::warn!(
                group_version,
                error,
                "garbage collector skips a group version"
            );
        }
        *self.mapper.write().unwrap_or_else(|p| p.into_inner()) =
            RestMapper::new(found.resources.clone());

        for resource in found.resources.iter().filter(|r| is_deletable(r)) {
            let key = (resource.group.clone(), resource.plural.clone());
            let is_new = self
                .monitored
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key);
            if !is_new {
                continue;
            }
            let store = Arc::new(monitor::MonitorStore::new(
                resource.api_version(),
                resource.kind.clone(),
                self.events.clone(),
            ));
            self.monitors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(store.clone());
            // The graph needs only metadata, so the monitors list and watch
            // PartialObjectMetadata as upstream's metadata informers do, which keeps
            // whole objects (pods, secrets) out of the collector's first lists.
            // managedFields are dropped as each object is decoded: the graph never
            // reads them, and they are often the larger part of the metadata.
            let reflector = client::cache::Reflector::new(
                self.client.clone(),
                resource.collection(""),
                store,
                client::cache::ReflectorOptions {
                    accept: Some(client::api::PARTIAL_OBJECT_METADATA_ACCEPT.to_string()),
                    ..client::cache::ReflectorOptions::default()
                },
            )
            .with_transform(Arc::new(drop_managed_fields));
            tracing::debug!(resource = %resource.group_resource(), "garbage collector monitors resource");
            tokio::spawn(reflector.run(cancel.clone()));
        }
        // NOTE: monitors of resources that disappear from discovery keep running
        // (their watches fail and back off) until the controller stops.
        Ok(())
    }

    fn monitors_synced(&self) -> bool {
        self.monitors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .all(|store| store.has_synced())
    }

    fn process_event(&self, event: GraphEvent) {
        let work = self
            .graph
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .process(event);
        for uid in work.attempt_to_delete {
            self.attempt_to_delete.add(uid);
        }
        for uid in work.attempt_to_orphan {
            self.attempt_to_orphan.add(uid);
        }
    }

    fn node(&self, uid: &str) -> Option<graph::Node> {
        self.graph
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .node(uid)
    }

    fn resource_for(&self, api_version: &str, kind: &str) -> Result<ApiResource, AttemptError> {
        self.mapper
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .resource_for(api_version, kind)
            .cloned()
            .ok_or_else(|| AttemptError::UnknownKind {
                api_version: api_version.to_string(),
                kind: kind.to_string(),
            })
    }

    /// Reads an object live; `None` when it is absent or has another uid.
    async fn get_live(
        &self,
        identity: &ObjectIdentity,
    ) -> Result<Option<(ApiResource, Value)>, AttemptError> {
        let resource = self.resource_for(&identity.api_version, &identity.kind)?;
        let path = resource.object_path(&identity.namespace, &identity.name);
        match self.client.get(&path).request_json::<Value>().await {
            Ok(object) => {
                let uid = object
                    .pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if uid == identity.uid {
                    Ok(Some((resource, object)))
                } else {
                    Ok(None)
                }
            }
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    async fn run_delete_worker(&self) {
        while let Some(uid) = self.attempt_to_delete.get().await {
            match self.attempt_to_delete_item(&uid).await {
                Ok(()) => self.attempt_to_delete.forget(&uid),
                Err(AttemptError::Waiting(_)) => {
                    self.attempt_to_delete.add_rate_limited(uid.clone());
                }
                Err(error @ AttemptError::UnknownKind { .. }) => {
                    tracing::info!(uid, %error, "garbage collector rediscovers resources");
                    self.rediscover_soon().await;
                    self.attempt_to_delete.add_rate_limited(uid.clone());
                }
                Err(error) => {
                    tracing::warn!(uid, %error, "garbage collector failed to process item; retrying");
                    self.attempt_to_delete.add_rate_limited(uid.clone());
                }
            }
            self.attempt_to_delete.done(&uid);
        }
    }

    async fn run_orphan_worker(&self) {
        while let Some(uid) = self.attempt_to_orphan.get().await {
            match self.orphan_dependents(&uid).await {
                Ok(()) => self.attempt_to_orphan.forget(&uid),
                Err(error) => {
                    tracing::warn!(uid, %error, "garbage collector failed to orphan dependents; retrying");
                    self.attempt_to_orphan.add_rate_limited(uid.clone());
                }
            }
            self.attempt_to_orphan.done(&uid);
        }
    }

    /// Decides what to do with one object whose owners (or dependents) changed.
    async fn attempt_to_delete_item(&self, uid: &str) -> Result<(), AttemptError> {
        let Some(node) = self.node(uid) else {
            return Ok(());
        };

        // A virtual node or a node whose object vanished: confirm and drop it.
        let Some((resource, live)) = self.get_live(&node.identity).await? else {
            tracing::debug!(object = %node.identity, "object is absent; removing it from the graph");
            let _ = self.events.send(GraphEvent::VirtualDelete(uid.to_string()));
            return Ok(());
        };
        if node.virtual_node {
            // The owner exists; its monitor reports it (or it is of a kind no monitor
            // covers, which is fine: it is a solid owner).
            return Ok(());
        }

        let meta =
            graph::ObjectMeta::from_object(&live, &node.identity.api_version, &node.identity.kind)
                .unwrap_or_else(|| graph::ObjectMeta {
                    identity: node.identity.clone(),
                    owners: Vec::new(),
                    being_deleted: false,
                    finalizers: Vec::new(),
                });

        if meta.being_deleted && meta.has_finalizer(FINALIZER_FOREGROUND) {
            return self
                .process_deleting_dependents(&node, &resource, &live)
                .await;
        }
        if meta.being_deleted {
            return Ok(());
        }
        if meta.owners.is_empty() {
            return Ok(());
        }

        let mut solid = Vec::new();
        let mut dangling = Vec::new();
        let mut waiting = Vec::new();
        for owner in &meta.owners {
            match self.classify_owner(&meta.identity, owner).await? {
                OwnerState::Solid => solid.push(owner.clone()),
                OwnerState::Dangling => dangling.push(owner.clone()),
                OwnerState::WaitingForDependents => waiting.push(owner.clone()),
            }
        }
        tracing::debug!(
            object = %meta.identity,
            solid = solid.len(),
            dangling = dangling.len(),
            waiting = waiting.len(),
            "classified owner references"
        );

        if !solid.is_empty() {
            if dangling.is_empty() && waiting.is_empty() {
                return Ok(());
            }
            let removed: Vec<String> = dangling
                .iter()
                .chain(&waiting)
                .map(|owner| owner.uid.clone())
                .collect();
            return self
                .remove_owner_references(&resource, &meta.identity, &removed)
                .await;
        }

        if !waiting.is_empty() && !node.dependents.is_empty() {
            // A dependent that itself waits for its dependents may close a circle of
            // blocking references; unblocking this object's references breaks it.
            let in_circle = {
                let graph = self.graph.lock().unwrap_or_else(|p| p.into_inner());
                node.dependents
                    .iter()
                    .filter_map(|dependent| graph.node(dependent))
                    .any(|dependent| dependent.deleting_dependents)
            };
            if in_circle {
                self.unblock_owner_references(&resource, &meta.identity)
                    .await?;
            }
        }

        let policy = if !waiting.is_empty() && !node.dependents.is_empty() {
            "Foreground"
        } else if meta.has_finalizer(FINALIZER_ORPHAN) {
            "Orphan"
        } else if meta.has_finalizer(FINALIZER_FOREGROUND) {
            "Foreground"
        } else {
            "Background"
        };
        tracing::info!(object = %meta.identity, policy, "deleting object whose owners are gone");
        let options =
            json!({"propagationPolicy": policy, "preconditions": {"uid": meta.identity.uid}});
        let path = resource.object_path(&meta.identity.namespace, &meta.identity.name);
        match delete_path(&self.client, &path, &options).await {
            Ok(()) => Ok(()),
            Err(error) if is_not_found(&error) || is_conflict(&error) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    async fn classify_owner(
        &self,
        dependent: &ObjectIdentity,
        owner: &OwnerRef,
    ) -> Result<OwnerState, AttemptError> {
        let resource = self.resource_for(&owner.api_version, &owner.kind)?;
        let identity = ObjectIdentity {
            api_version: owner.api_version.clone(),
            kind: owner.kind.clone(),
            namespace: if resource.namespaced {
                dependent.namespace.clone()
            } else {
                graph::intern("")
            },
            name: owner.name.clone(),
            uid: owner.uid.clone(),
        };
        match self.get_live(&identity).await? {
            None => Ok(OwnerState::Dangling),
            Some((_, object)) => {
                let being_deleted = object
                    .pointer("/metadata/deletionTimestamp")
                    .is_some_and(|v| !v.is_null());
                let foreground = object
                    .pointer("/metadata/finalizers")
                    .and_then(Value::as_array)
                    .is_some_and(|list| {
                        list.iter()
                            .any(|f| f.as_str() == Some(FINALIZER_FOREGROUND))
                    });
                if being_deleted && foreground {
                    Ok(OwnerState::WaitingForDependents)
                } else {
                    Ok(OwnerState::Solid)
                }
            }
        }
    }

    /// Handles an owner deleted in the foreground: once no dependent blocks it, the
    /// `foregroundDeletion` finalizer goes; until then each blocking dependent is
    /// queued for deletion.
    async fn process_deleting_dependents(
        &self,
        node: &graph::Node,
        resource: &ApiResource,
        live: &Value,
    ) -> Result<(), AttemptError> {
        let blocking = self
            .graph
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .blocking_dependents(&node.identity.uid);
        if blocking.is_empty() {
            tracing::info!(object = %node.identity, "no blocking dependents left; removing the foregroundDeletion finalizer");
            return self
                .remove_finalizer(resource, live, FINALIZER_FOREGROUND)
                .await;
        }
        for dependent in &blocking {
            if !dependent.being_deleted {
                self.attempt_to_delete.add(dependent.identity.uid.clone());
            }
        }
        Err(AttemptError::Waiting(node.identity.to_string()))
    }

    /// Removes the owner references with the given uids from an object.
    async fn remove_owner_references(
        &self,
        resource: &ApiResource,
        identity: &ObjectIdentity,
        owner_uids: &[String],
    ) -> Result<(), AttemptError> {
        let path = resource.object_path(&identity.namespace, &identity.name);
        let live: Value = match self.client.get(&path).request_json().await {
            Ok(object) => object,
            Err(error) if is_not_found(&error) => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        if live.pointer("/metadata/uid").and_then(Value::as_str) != Some(identity.uid.as_str()) {
            return Ok(());
        }
        let owners: Vec<Value> = live
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let kept: Vec<Value> = owners
            .iter()
            .filter(|owner| {
                let uid = owner.get("uid").and_then(Value::as_str).unwrap_or_default();
                !owner_uids.iter().any(|removed| removed == uid)
            })
            .cloned()
            .collect();
        if kept.len() == owners.len() {
            return Ok(());
        }
        let resource_version = live
            .pointer("/metadata/resourceVersion")
            .cloned()
            .unwrap_or(Value::Null);
        let patch = json!({"metadata": {
            "ownerReferences": if kept.is_empty() { Value::Null } else { Value::Array(kept) },
            "resourceVersion": resource_version,
        }});
        tracing::info!(object = %identity, owners = ?owner_uids, "removing owner references");
        match self
            .client
            .patch(&path, PatchType::Merge)
            .json(&patch)
            .request_json::<Value>()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if is_not_found(&error) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Runs discovery now unless it ran within [`MIN_REDISCOVERY_INTERVAL`], so that
    /// owners of newly served kinds (custom resources) resolve without waiting for
    /// the periodic resync.
    async fn rediscover_soon(&self) {
        let recent = self
            .last_discovery
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|last| last.elapsed() < MIN_REDISCOVERY_INTERVAL);
        let cancel = self
            .cancel
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(cancel) = cancel.filter(|_| !recent) else {
            return;
        };
        if let Err(error) = self.sync_monitors(&cancel).await {
            tracing::warn!(%error, "garbage collector rediscovery failed");
        }
    }

    /// Sets `blockOwnerDeletion` to false on every owner reference of an object.
    async fn unblock_owner_references(
        &self,
        resource: &ApiResource,
        identity: &ObjectIdentity,
    ) -> Result<(), AttemptError> {
        let path = resource.object_path(&identity.namespace, &identity.name);
        let live: Value = match self.client.get(&path).request_json().await {
            Ok(object) => object,
            Err(error) if is_not_found(&error) => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        let mut owners: Vec<Value> = live
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut changed = false;
        for owner in &mut owners {
            if owner.get("blockOwnerDeletion") == Some(&Value::Bool(true)) {
                owner["blockOwnerDeletion"] = Value::Bool(false);
                changed = true;
            }
        }
        if !changed {
            return Ok(());
        }
        tracing::info!(object = %identity, "unblocking owner references to break a dependency circle");
        let patch = json!({"metadata": {
            "ownerReferences": owners,
            "resourceVersion": live.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null),
        }});
        match self
            .client
            .patch(&path, PatchType::Merge)
            .json(&patch)
            .request_json::<Value>()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if is_not_found(&error) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Removes one finalizer from an object, guarded by its resourceVersion.
    async fn remove_finalizer(
        &self,
        resource: &ApiResource,
        live: &Value,
        finalizer: &str,
    ) -> Result<(), AttemptError> {
        let namespace = live
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = live
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let path = resource.object_path(namespace, name);
        let finalizers: Vec<Value> = live
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let kept: Vec<Value> = finalizers
            .iter()
            .filter(|item| item.as_str() != Some(finalizer))
            .cloned()
            .collect();
        if kept.len() == finalizers.len() {
            return Ok(());
        }
        let patch = json!({"metadata": {
            "finalizers": if kept.is_empty() { Value::Null } else { Value::Array(kept) },
            "resourceVersion": live.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null),
        }});
        match self
            .client
            .patch(&path, PatchType::Merge)
            .json(&patch)
            .request_json::<Value>()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if is_not_found(&error) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Removes an owner's references from all its dependents, then its `orphan`
    /// finalizer.
    // NOTE: only dependents already in the graph are orphaned, as upstream does. A
    // dependent created just before the owner's deletion whose event is still in
    // flight is collected as dangling afterwards.
    async fn orphan_dependents(&self, uid: &str) -> Result<(), AttemptError> {
        let Some(node) = self.node(uid) else {
            return Ok(());
        };
        for dependent_uid in &node.dependents {
            let Some(dependent) = self.node(dependent_uid) else {
                continue;
            };
            let resource =
                self.resource_for(&dependent.identity.api_version, &dependent.identity.kind)?;
            self.remove_owner_references(&resource, &dependent.identity, &[uid.to_string()])
                .await?;
        }
        let Some((resource, live)) = self.get_live(&node.identity).await? else {
            return Ok(());
        };
        tracing::info!(object = %node.identity, dependents = node.dependents.len(), "orphaned dependents; removing the orphan finalizer");
        self.remove_finalizer(&resource, &live, FINALIZER_ORPHAN)
            .await
    }
}

/// The state of the owner a dependent's owner reference points at.
enum OwnerState {
    /// The owner exists and is not waiting for its dependents.
    Solid,
    /// The owner does not exist (or has another uid).
    Dangling,
    /// The owner is being deleted in the foreground.
    WaitingForDependents,
}
