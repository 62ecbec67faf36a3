//! Registers the scheduler's event handlers on the shared informers of the objects it
//! reads: pods and nodes feed the cache and the queue, and the objects plugins read
//! (volumes, claims, classes, CSINodes, Services, PDBs, controllers and namespace
//! labels) feed [`ClusterState`]. Entry point:
//! [`start_informers`].
//!
//! [`ClusterState`]: crate::framework::handle::ClusterState

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use client::api::{KubeObject, ScopeKind};
use client::informer::{EventHandlerFuncs, SharedInformerFactory};
use client::rest::RestClient;
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, ReplicationController, Service,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::{CSINode, StorageClass};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use tokio::sync::watch;

use crate::queue::ClusterEvent;
use crate::scheduler::Scheduler;

/// Objects by `namespace/name` (or name for cluster-scoped kinds).
type ObjectMap<K> = RwLock<HashMap<String, Arc<K>>>;

/// A typed change of one object.
pub enum Change<K> {
    /// The object appeared.
    Add(Arc<K>),
    /// The object changed from the first to the second state.
    Update(Arc<K>, Arc<K>),
    /// The object was deleted; its last known state.
    Delete(Arc<K>),
}

/// The started informers.
pub struct Informers {
    factory: SharedInformerFactory,
}

impl Informers {
    /// Waits until every informer listed its objects, or `cancel` fires. Returns
    /// whether all synced.
    pub async fn wait_for_cache_sync(&self, cancel: &watch::Receiver<bool>) -> bool {
        self.factory.wait_for_cache_sync(cancel.clone()).await
    }
}

fn on_change<K>(
    factory: &SharedInformerFactory,
    handler: impl Fn(Change<K>) + Send + Sync + 'static,
) where
    K: KubeObject + k8s_openapi::Resource,
    K::Scope: ScopeKind,
{
    let handler = Arc::new(handler);
    let (add, update, delete) = (handler.clone(), handler.clone(), handler);
    let funcs = EventHandlerFuncs::new()
        .on_add(move |object: &Arc<K>, _| add(Change::Add(object.clone())))
        .on_update(move |old: &Arc<K>, new: &Arc<K>| {
            update(Change::Update(old.clone(), new.clone()))
        })
        .on_delete(move |deleted| {
            if let Some(object) = deleted.object() {
                delete(Change::Delete(object.clone()));
            }
        });
    if let Err(error) = factory.informer::<K>().add_event_handler(funcs) {
        tracing::error!(kind = K::KIND, %error, "failed to add an event handler");
    }
}

fn object_key(metadata: &ObjectMeta) -> String {
    match metadata.namespace.as_deref() {
        Some(namespace) => format!(
            "{namespace}/{}",
            metadata.name.as_deref().unwrap_or_default()
        ),
        None => metadata.name.clone().unwrap_or_default(),
    }
}

/// Mirrors an informer into one of the [`crate::framework::handle::ClusterState`] maps
/// and optionally moves unschedulable pods on every change.
fn mirror<K>(
    factory: &SharedInformerFactory,
    scheduler: &Arc<Scheduler>,
    map: fn(&Scheduler) -> &ObjectMap<K>,
    event: Option<ClusterEvent>,
) where
    K: KubeObject + k8s_openapi::Resource,
    K::Scope: ScopeKind,
{
    let scheduler = scheduler.clone();
    on_change::<K>(factory, move |change| {
        mirror_change(map(&scheduler), change);
        if let Some(event) = event {
            scheduler.on_cluster_object_change(event);
        }
    });
}

/// Applies one change to a lister map.
fn mirror_change<K>(objects: &ObjectMap<K>, change: Change<K>)
where
    K: KubeObject,
{
    let mut objects = objects.write().unwrap_or_else(|e| e.into_inner());
    match change {
        Change::Add(object) | Change::Update(_, object) => {
            objects.insert(object_key(object.meta()), object);
        }
        Change::Delete(object) => {
            objects.remove(&object_key(object.meta()));
        }
    }
}

/// Starts shared informers for pods, nodes and the objects plugins read, feeding
/// `scheduler`. They stop when `cancel` fires. Call
/// [`Informers::wait_for_cache_sync`] before scheduling.
pub fn start_informers(
    client: &RestClient,
    scheduler: &Arc<Scheduler>,
    cancel: &watch::Receiver<bool>,
) -> Informers {
    let factory =
        SharedInformerFactory::new(client.clone(), Duration::ZERO).with_managed_fields_stripped();

    let pods = scheduler.clone();
    on_change::<Pod>(&factory, move |change| match change {
        Change::Add(pod) => pods.on_pod_add(pod),
        Change::Update(old, new) => pods.on_pod_update(old, new),
        Change::Delete(pod) => pods.on_pod_delete(pod),
    });
    let nodes = scheduler.clone();
    on_change::<Node>(&factory, move |change| match change {
        Change::Add(node) => nodes.on_node_add(node),
        Change::Update(old, new) => nodes.on_node_update(old, new),
        Change::Delete(node) => nodes.on_node_delete(node),
    });

    mirror::<PersistentVolume>(
        &factory,
        scheduler,
        |s| &s.cluster.pvs,
        Some(ClusterEvent::PvChange),
    );
    mirror::<PersistentVolumeClaim>(
        &factory,
        scheduler,
        |s| &s.cluster.pvcs,
        Some(ClusterEvent::PvcChange),
    );
    mirror::<Service>(
        &factory,
        scheduler,
        |s| &s.cluster.services,
        Some(ClusterEvent::ServiceChange),
    );
    mirror::<PodDisruptionBudget>(&factory, scheduler, |s| &s.cluster.pdbs, None);
    mirror::<ReplicationController>(
        &factory,
        scheduler,
        |s| &s.cluster.replication_controllers,
        None,
    );
    mirror::<ReplicaSet>(&factory, scheduler, |s| &s.cluster.replica_sets, None);
    mirror::<StatefulSet>(&factory, scheduler, |s| &s.cluster.stateful_sets, None);

    // Only a new class can unblock pods: the binding mode of a class is immutable.
    let classes = scheduler.clone();
    on_change::<StorageClass>(&factory, move |change| {
        let added = matches!(change, Change::Add(_));
        mirror_change(&classes.cluster.storage_classes, change);
        if added {
            classes.on_cluster_object_change(ClusterEvent::StorageClassAdd);
        }
    });
    let csi_nodes = scheduler.clone();
    on_change::<CSINode>(&factory, move |change| {
        let event = match &change {
            Change::Add(_) => Some(ClusterEvent::CsiNodeAdd),
            Change::Update(..) => Some(ClusterEvent::CsiNodeUpdate),
            Change::Delete(_) => None,
        };
        mirror_change(&csi_nodes.cluster.csi_nodes, change);
        if let Some(event) = event {
            csi_nodes.on_cluster_object_change(event);
        }
    });

    // Pod affinity terms with a namespaceSelector match namespace labels.
    let namespaces = scheduler.clone();
    on_change::<Namespace>(&factory, move |change| {
        let (namespace, labels) = match change {
            Change::Add(namespace) | Change::Update(_, namespace) => {
                let labels = namespace.metadata.labels.clone().unwrap_or_default();
                (namespace, Some(labels))
            }
            Change::Delete(namespace) => (namespace, None),
        };
        let name = namespace.metadata.name.as_deref().unwrap_or_default();
        namespaces.cluster.set_namespace_labels(name, labels);
    });

    factory.start(cancel.clone());
    Informers { factory }
}
