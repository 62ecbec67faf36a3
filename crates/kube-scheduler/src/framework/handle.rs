//! The state plugins may reach beyond their arguments: the API writes the scheduler
//! makes ([`ClusterClient`]), the listers of non-pod objects ([`ClusterState`]), the
//! nominator and the waiting pods of Permit.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};

use async_trait::async_trait;
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    PersistentVolume, PersistentVolumeClaim, Pod, PodCondition, ReplicationController, Service,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::{CSINode, StorageClass};
use tokio::sync::oneshot;

use super::interface::{Code, Status};
use super::runtime::Framework;
use super::types::{NamespaceLabels, pod_key, pod_priority};

/// A failed API call made on the scheduler's behalf.
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed: {message}")]
pub struct ApiError {
    /// The operation, such as `bind pod default/web to node-1`.
    pub operation: String,
    /// The error from the client or the server.
    pub message: String,
    /// Whether the server returned 404 Not Found.
    pub not_found: bool,
}

/// The API writes of the scheduler. The daemon implements it over the REST client; unit
/// tests fake it.
#[async_trait]
pub trait ClusterClient: Send + Sync {
    /// Creates the `pods/binding` subresource that assigns `pod` to `node_name`.
    async fn bind(&self, pod: &Pod, node_name: &str) -> Result<(), ApiError>;

    /// Deletes a pod (a preemption victim).
    async fn delete_pod(&self, pod: &Pod) -> Result<(), ApiError>;

    /// Patches the pod's status: sets `condition` when given and sets
    /// `status.nominatedNodeName` when given (an empty string clears it).
    async fn update_pod_status(
        &self,
        pod: &Pod,
        condition: Option<PodCondition>,
        nominated_node_name: Option<&str>,
    ) -> Result<(), ApiError>;

    /// Queues an event about a pod without waiting for the API call. The sink logs
    /// failures.
    fn record_event(&self, pod: &Pod, event_type: &str, reason: &str, message: String);

    /// Replaces a PersistentVolume (VolumeBinding sets `spec.claimRef`). The object's
    /// `resourceVersion` is the precondition. Returns the stored object. The default
    /// fails, for clients of tests that never bind volumes.
    async fn update_persistent_volume(
        &self,
        volume: &PersistentVolume,
    ) -> Result<PersistentVolume, ApiError> {
        Err(unsupported(format!(
            "update persistentvolume {}",
            volume.metadata.name.as_deref().unwrap_or_default()
        )))
    }

    /// Replaces a PersistentVolumeClaim (VolumeBinding sets `spec.volumeName` or the
    /// selected-node annotation). The object's `resourceVersion` is the precondition.
    /// Returns the stored object. The default fails, like
    /// [`ClusterClient::update_persistent_volume`].
    async fn update_persistent_volume_claim(
        &self,
        claim: &PersistentVolumeClaim,
    ) -> Result<PersistentVolumeClaim, ApiError> {
        Err(unsupported(format!(
            "update persistentvolumeclaim {}/{}",
            claim.metadata.namespace.as_deref().unwrap_or_default(),
            claim.metadata.name.as_deref().unwrap_or_default()
        )))
    }
}

fn unsupported(operation: String) -> ApiError {
    ApiError {
        operation,
        message: "this client does not support the call".to_string(),
        not_found: false,
    }
}

/// Listers of the non-pod objects the plugins read, kept current by the informers.
#[derive(Default)]
pub struct ClusterState {
    /// PodDisruptionBudgets by `namespace/name`.
    pub pdbs: RwLock<HashMap<String, Arc<PodDisruptionBudget>>>,
    /// PersistentVolumeClaims by `namespace/name`.
    pub pvcs: RwLock<HashMap<String, Arc<PersistentVolumeClaim>>>,
    /// PersistentVolumes by name.
    pub pvs: RwLock<HashMap<String, Arc<PersistentVolume>>>,
    /// Services by `namespace/name`.
    pub services: RwLock<HashMap<String, Arc<Service>>>,
    /// ReplicaSets by `namespace/name`.
    pub replica_sets: RwLock<HashMap<String, Arc<ReplicaSet>>>,
    /// StatefulSets by `namespace/name`.
    pub stateful_sets: RwLock<HashMap<String, Arc<StatefulSet>>>,
    /// ReplicationControllers by `namespace/name`.
    pub replication_controllers: RwLock<HashMap<String, Arc<ReplicationController>>>,
    /// StorageClasses by name.
    pub storage_classes: RwLock<HashMap<String, Arc<StorageClass>>>,
    /// CSINodes by name, which is the name of their node.
    pub csi_nodes: RwLock<HashMap<String, Arc<CSINode>>>,
    /// The labels of every namespace, replaced as a whole on each change so a
    /// scheduling cycle takes a consistent copy by cloning the `Arc`.
    pub namespace_labels: RwLock<Arc<NamespaceLabels>>,
}

impl ClusterState {
    /// Returns the claim `namespace/name`.
    pub fn claim(&self, namespace: &str, name: &str) -> Option<Arc<PersistentVolumeClaim>> {
        read_map(&self.pvcs)
            .get(&format!("{namespace}/{name}"))
            .cloned()
    }

    /// Returns the PersistentVolume `name`.
    pub fn volume(&self, name: &str) -> Option<Arc<PersistentVolume>> {
        read_map(&self.pvs).get(name).cloned()
    }

    /// Returns the StorageClass `name`.
    pub fn storage_class(&self, name: &str) -> Option<Arc<StorageClass>> {
        read_map(&self.storage_classes).get(name).cloned()
    }

    /// Returns the labels of every namespace.
    pub fn namespace_labels(&self) -> Arc<NamespaceLabels> {
        self.namespace_labels
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records a namespace's labels, or forgets the namespace when `labels` is `None`.
    pub fn set_namespace_labels(&self, namespace: &str, labels: Option<BTreeMap<String, String>>) {
        let mut current = self
            .namespace_labels
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let mut updated = (**current).clone();
        match labels {
            Some(labels) => {
                updated.insert(namespace.to_string(), labels);
            }
            None => {
                updated.remove(namespace);
            }
        }
        *current = Arc::new(updated);
    }

    /// Returns the CSINode of the node `node_name`.
    pub fn csi_node(&self, node_name: &str) -> Option<Arc<CSINode>> {
        read_map(&self.csi_nodes).get(node_name).cloned()
    }
}

/// Locks a lister map for reading; a writer that panicked left the map usable.
pub fn read_map<K>(
    map: &RwLock<HashMap<String, Arc<K>>>,
) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<K>>> {
    map.read().unwrap_or_else(|e| e.into_inner())
}

/// Pods nominated to nodes by preemption, which Filter treats as already running there
/// when they have at least the incoming pod's priority.
#[derive(Default)]
pub struct Nominator {
    inner: Mutex<NominatorInner>,
    /// The number of nominated pods, read without the lock by Filter, which asks for
    /// every node in every cycle while nominations are rare.
    count: std::sync::atomic::AtomicUsize,
}

#[derive(Default)]
struct NominatorInner {
    by_node: HashMap<String, Vec<Arc<Pod>>>,
    node_of_pod: HashMap<String, String>,
}

impl Nominator {
    /// Records `pod` as nominated to `node_name`, or to its `status.nominatedNodeName`
    /// when `node_name` is `None`; an empty nomination removes the pod.
    pub fn add(&self, pod: Arc<Pod>, node_name: Option<&str>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = pod_key(&pod);
        remove_locked(&mut inner, &key);
        self.count.store(
            inner.node_of_pod.len(),
            std::sync::atomic::Ordering::Release,
        );
        let node = node_name
            .map(str::to_string)
            .or_else(|| {
                pod.status
                    .as_ref()
                    .and_then(|status| status.nominated_node_name.clone())
            })
            .unwrap_or_default();
        if node.is_empty() {
            return;
        }
        inner.node_of_pod.insert(key, node.clone());
        inner.by_node.entry(node).or_default().push(pod);
        self.count.store(
            inner.node_of_pod.len(),
            std::sync::atomic::Ordering::Release,
        );
    }

    /// Forgets the nomination of a pod.
    pub fn delete(&self, pod: &Pod) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        remove_locked(&mut inner, &pod_key(pod));
        self.count.store(
            inner.node_of_pod.len(),
            std::sync::atomic::Ordering::Release,
        );
    }

    /// Returns the pods nominated to a node.
    pub fn nominated_pods_for_node(&self, node_name: &str) -> Vec<Arc<Pod>> {
        if self.count.load(std::sync::atomic::Ordering::Acquire) == 0 {
            return Vec::new();
        }
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.by_node.get(node_name).cloned().unwrap_or_default()
    }

    /// Returns the node a pod is nominated to.
    pub fn nominated_node(&self, pod: &Pod) -> Option<String> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.node_of_pod.get(&pod_key(pod)).cloned()
    }

    /// Returns the pods nominated to `node_name` with priority below `priority`.
    pub fn lower_priority_nominated(&self, node_name: &str, priority: i32) -> Vec<Arc<Pod>> {
        self.nominated_pods_for_node(node_name)
            .into_iter()
            .filter(|pod| pod_priority(pod) < priority)
            .collect()
    }
}

fn remove_locked(inner: &mut NominatorInner, key: &str) {
    if let Some(node) = inner.node_of_pod.remove(key)
        && let Some(pods) = inner.by_node.get_mut(&node)
    {
        pods.retain(|pod| pod_key(pod) != key);
        if pods.is_empty() {
            inner.by_node.remove(&node);
        }
    }
}

/// A pod parked by a Permit plugin's `Wait`.
struct WaitingPod {
    pending_plugins: Vec<String>,
    done: Option<oneshot::Sender<Status>>,
}

/// Pods waiting on Permit, by `namespace/name`.
#[derive(Default)]
pub struct WaitingPods {
    pods: Mutex<HashMap<String, WaitingPod>>,
}

impl WaitingPods {
    /// Parks a pod until every plugin in `plugins` allows it or one rejects it. The
    /// caller enforces the timeout. Returns the receiver of the final status.
    pub(crate) fn add(&self, pod: &Pod, plugins: Vec<String>) -> oneshot::Receiver<Status> {
        let (sender, receiver) = oneshot::channel();
        self.pods.lock().unwrap_or_else(|e| e.into_inner()).insert(
            pod_key(pod),
            WaitingPod {
                pending_plugins: plugins,
                done: Some(sender),
            },
        );
        receiver
    }

    /// Returns the keys of the waiting pods.
    pub fn keys(&self) -> Vec<String> {
        self.pods
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Records that `plugin` allows the pod `key`; the pod proceeds once every waiting
    /// plugin allowed it. Returns whether the pod was waiting.
    pub fn allow(&self, key: &str, plugin: &str) -> bool {
        let mut pods = self.pods.lock().unwrap_or_else(|e| e.into_inner());
        let Some(waiting) = pods.get_mut(key) else {
            return false;
        };
        waiting.pending_plugins.retain(|name| name != plugin);
        if waiting.pending_plugins.is_empty()
            && let Some(mut waiting) = pods.remove(key)
            && let Some(done) = waiting.done.take()
        {
            let _ = done.send(Status::success());
        }
        true
    }

    /// Rejects the pod `key` with `message`. Returns whether the pod was waiting.
    pub fn reject(&self, key: &str, plugin: &str, message: &str) -> bool {
        let mut pods = self.pods.lock().unwrap_or_else(|e| e.into_inner());
        let Some(mut waiting) = pods.remove(key) else {
            return false;
        };
        if let Some(done) = waiting.done.take() {
            let status =
                Status::new(Code::Unschedulable, [message.to_string()]).with_plugin(plugin);
            let _ = done.send(status);
        }
        true
    }
}

/// The handle passed to plugin factories.
#[derive(Clone)]
pub struct Handle {
    /// API writes.
    pub client: Arc<dyn ClusterClient>,
    /// Listers of non-pod objects.
    pub cluster: Arc<ClusterState>,
    /// Nominated pods.
    pub nominator: Arc<Nominator>,
    /// Pods waiting on Permit.
    pub waiting_pods: Arc<WaitingPods>,
    /// The framework of the profile, set once it is built, for plugins that run other
    /// plugins (preemption's dry runs).
    pub framework: Arc<OnceLock<Weak<Framework>>>,
}

impl Handle {
    /// Returns the profile's framework once built.
    pub fn framework(&self) -> Option<Arc<Framework>> {
        self.framework.get().and_then(Weak::upgrade)
    }
}
