//! The scheduler cache: every node with the pods bound or assumed to it, kept current by
//! the informers, plus the per-cycle [`Snapshot`] that plugins read.
//!
//! A pod is assumed as soon as the scheduling cycle picks its node, so the next cycle
//! already counts it. The informer's add event for the bound pod confirms it. An assumed
//! pod whose binding finished but was never confirmed expires after the TTL.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod};

use crate::framework::types::{
    ImageStateSummary, NodeInfo, normalized_image_name, pod_key, pod_node_name,
};

/// An error of a cache operation that breaks the assume/confirm protocol.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The pod was assumed or added before.
    #[error("pod {0} is in the cache, so can't be assumed")]
    AlreadyPresent(String),
    /// The pod is neither assumed nor added.
    #[error("pod {0} wasn't assumed so cannot be forgotten")]
    NotAssumed(String),
    /// The pod has no node name.
    #[error("pod {0} has no node name")]
    NoNode(String),
}

/// The nodes of one scheduling cycle, immutable while the cycle runs.
#[derive(Clone)]
pub struct Snapshot {
    node_info_map: HashMap<String, Arc<NodeInfo>>,
    node_info_list: Vec<Arc<NodeInfo>>,
    have_pods_with_affinity: Vec<Arc<NodeInfo>>,
    have_pods_with_required_anti_affinity: Vec<Arc<NodeInfo>>,
    /// Index of each node in `node_info_list`.
    positions: HashMap<String, usize>,
    generation: i64,
    /// The changes of the last update, for plugins that carry work over from the
    /// previous cycle.
    last_update: SnapshotUpdate,
}

/// The changes one [`SchedulerCache::update_snapshot`] call brought into a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotUpdate {
    /// Tells snapshots apart: a copy keeps it, a new snapshot gets its own.
    pub snapshot_id: u64,
    /// The snapshot's generation before the update.
    pub from: i64,
    /// The snapshot's generation after the update.
    pub to: i64,
    /// The nodes whose infos were replaced. When nodes were added or removed, this
    /// is `None`: a plugin then starts over from the whole list.
    pub changed: Option<Vec<String>>,
}

impl Default for Snapshot {
    fn default() -> Snapshot {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Snapshot {
            node_info_map: HashMap::new(),
            node_info_list: Vec::new(),
            have_pods_with_affinity: Vec::new(),
            have_pods_with_required_anti_affinity: Vec::new(),
            positions: HashMap::new(),
            generation: 0,
            last_update: SnapshotUpdate {
                snapshot_id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                from: 0,
                to: 0,
                changed: None,
            },
        }
    }
}

impl Snapshot {
    /// Builds a snapshot from nodes and the pods bound to them, for tests and tools.
    pub fn new(pods: &[Arc<Pod>], nodes: &[Arc<Node>]) -> Snapshot {
        let mut map: HashMap<String, NodeInfo> = HashMap::new();
        for node in nodes {
            map.insert(
                node.metadata.name.clone().unwrap_or_default(),
                NodeInfo::new(node.clone()),
            );
        }
        for pod in pods {
            if let Some(name) = pod_node_name(pod) {
                map.entry(name.to_string())
                    .or_default()
                    .add_pod(pod.clone());
            }
        }
        let images = image_existence(map.values());
        let mut snapshot = Snapshot {
            node_info_map: map
                .into_iter()
                .map(|(name, mut info)| {
                    refresh_image_states(&mut info, &images);
                    (name, Arc::new(info))
                })
                .collect(),
            ..Snapshot::default()
        };
        snapshot.rebuild_lists();
        snapshot
    }

    /// Returns the nodes that exist, sorted by name.
    pub fn list(&self) -> &[Arc<NodeInfo>] {
        &self.node_info_list
    }

    /// Returns the nodes with at least one pod with affinity terms.
    pub fn have_pods_with_affinity(&self) -> &[Arc<NodeInfo>] {
        &self.have_pods_with_affinity
    }

    /// Returns the nodes with at least one pod with required anti-affinity terms.
    pub fn have_pods_with_required_anti_affinity(&self) -> &[Arc<NodeInfo>] {
        &self.have_pods_with_required_anti_affinity
    }

    /// Returns a node by name.
    pub fn get(&self, node_name: &str) -> Option<&Arc<NodeInfo>> {
        self.node_info_map.get(node_name)
    }

    /// Returns what the last update from the cache changed.
    pub fn last_update(&self) -> &SnapshotUpdate {
        &self.last_update
    }

    /// Returns the number of existing nodes.
    pub fn num_nodes(&self) -> usize {
        self.node_info_list.len()
    }

    fn rebuild_lists(&mut self) {
        let mut list: Vec<Arc<NodeInfo>> = self
            .node_info_map
            .values()
            .filter(|info| info.node.is_some())
            .cloned()
            .collect();
        list.sort_by(|a, b| a.node_name().cmp(b.node_name()));
        self.positions = list
            .iter()
            .enumerate()
            .map(|(i, info)| (info.node_name().to_string(), i))
            .collect();
        self.node_info_list = list;
        self.rebuild_affinity_lists();
    }

    /// Replaces changed nodes in the sorted lists without sorting again; valid only
    /// when no node was added or removed.
    fn update_in_place(&mut self, changed: &[String]) {
        for name in changed {
            if let (Some(&i), Some(info)) = (self.positions.get(name), self.node_info_map.get(name))
            {
                self.node_info_list[i] = info.clone();
                place(
                    &mut self.have_pods_with_affinity,
                    info,
                    !info.pods_with_affinity.is_empty(),
                );
                place(
                    &mut self.have_pods_with_required_anti_affinity,
                    info,
                    !info.pods_with_required_anti_affinity.is_empty(),
                );
            }
        }
    }

    fn rebuild_affinity_lists(&mut self) {
        let list = &self.node_info_list;
        self.have_pods_with_affinity = list
            .iter()
            .filter(|info| !info.pods_with_affinity.is_empty())
            .cloned()
            .collect();
        self.have_pods_with_required_anti_affinity = list
            .iter()
            .filter(|info| !info.pods_with_required_anti_affinity.is_empty())
            .cloned()
            .collect();
    }
}

/// Puts `info` into, or takes it out of, a list of nodes sorted by name.
fn place(list: &mut Vec<Arc<NodeInfo>>, info: &Arc<NodeInfo>, member: bool) {
    match (
        list.binary_search_by(|other| other.node_name().cmp(info.node_name())),
        member,
    ) {
        (Ok(i), true) => list[i] = info.clone(),
        (Ok(i), false) => {
            list.remove(i);
        }
        (Err(i), true) => list.insert(i, info.clone()),
        (Err(_), false) => {}
    }
}

fn image_existence<'a>(
    infos: impl Iterator<Item = &'a NodeInfo>,
) -> HashMap<String, (i64, HashSet<String>)> {
    let mut images: HashMap<String, (i64, HashSet<String>)> = HashMap::new();
    for info in infos {
        let Some(node) = info.node.as_ref() else {
            continue;
        };
        let name = info.node_name().to_string();
        for image in node
            .status
            .as_ref()
            .and_then(|status| status.images.as_ref())
            .into_iter()
            .flatten()
        {
            for image_name in image.names.iter().flatten() {
                let entry = images
                    .entry(normalized_image_name(image_name))
                    .or_insert((image.size_bytes.unwrap_or(0), HashSet::new()));
                entry.1.insert(name.clone());
            }
        }
    }
    images
}

fn refresh_image_states(info: &mut NodeInfo, images: &HashMap<String, (i64, HashSet<String>)>) {
    info.image_states.clear();
    let Some(node) = info.node.clone() else {
        return;
    };
    for image in node
        .status
        .as_ref()
        .and_then(|status| status.images.as_ref())
        .into_iter()
        .flatten()
    {
        for image_name in image.names.iter().flatten() {
            let name = normalized_image_name(image_name);
            let num_nodes = images.get(&name).map(|(_, nodes)| nodes.len()).unwrap_or(1);
            info.image_states.insert(
                name,
                ImageStateSummary {
                    size: image.size_bytes.unwrap_or(0),
                    num_nodes,
                },
            );
        }
    }
}

struct PodState {
    pod: Arc<Pod>,
    deadline: Option<Instant>,
    binding_finished: bool,
}

#[derive(Default)]
struct CacheInner {
    nodes: HashMap<String, Arc<NodeInfo>>,
    pod_states: HashMap<String, PodState>,
    assumed: HashSet<String>,
    generation: i64,
    /// The nodes stamped with each generation after `logged_after`, oldest first, so
    /// that a snapshot update visits only the nodes changed since the last one.
    changes: VecDeque<(i64, String)>,
    logged_after: i64,
    removed_nodes: bool,
    images_changed: bool,
}

impl CacheInner {
    fn next_generation(&mut self) -> i64 {
        self.generation += 1;
        self.generation
    }

    /// Returns a new generation for a change to node `name`, and logs the change.
    /// The log keeps at most twice as many entries as there are nodes (at least
    /// 1,024). A snapshot older than the log updates by looking at every node.
    fn stamp(&mut self, name: &str) -> i64 {
        let generation = self.next_generation();
        self.changes.push_back((generation, name.to_string()));
        let limit = (2 * self.nodes.len()).max(1024);
        while self.changes.len() > limit {
            if let Some((dropped, _)) = self.changes.pop_front() {
                self.logged_after = dropped;
            }
        }
        generation
    }

    fn add_pod_to_node(&mut self, pod: Arc<Pod>) {
        let Some(node) = pod_node_name(&pod).map(str::to_string) else {
            return;
        };
        let generation = self.stamp(&node);
        let info = self.nodes.entry(node).or_default();
        let info = Arc::make_mut(info);
        info.add_pod(pod);
        info.generation = generation;
    }

    fn remove_pod_from_node(&mut self, pod: &Pod) {
        let Some(node) = pod_node_name(pod).map(str::to_string) else {
            return;
        };
        let generation = self.stamp(&node);
        let Some(info) = self.nodes.get_mut(&node) else {
            return;
        };
        let info = Arc::make_mut(info);
        info.remove_pod(pod);
        info.generation = generation;
        if info.node.is_none() && info.pods.is_empty() {
            self.nodes.remove(&node);
            self.removed_nodes = true;
        }
    }
}

/// The scheduler cache. All methods lock one mutex and are cheap.
pub struct SchedulerCache {
    inner: Mutex<CacheInner>,
    ttl: Duration,
}

impl SchedulerCache {
    /// Creates a cache whose assumed pods expire `ttl` after their binding finished.
    pub fn new(ttl: Duration) -> SchedulerCache {
        SchedulerCache {
            inner: Mutex::new(CacheInner::default()),
            ttl,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a pod whose `spec.nodeName` the scheduler just chose, before binding.
    ///
    /// # Errors
    ///
    /// [`CacheError::AlreadyPresent`] when the pod is known, [`CacheError::NoNode`]
    /// without a node name.
    pub fn assume_pod(&self, pod: Arc<Pod>) -> Result<(), CacheError> {
        let key = pod_key(&pod);
        if pod_node_name(&pod).is_none() {
            return Err(CacheError::NoNode(key));
        }
        let mut inner = self.lock();
        if inner.pod_states.contains_key(&key) {
            return Err(CacheError::AlreadyPresent(key));
        }
        inner.add_pod_to_node(pod.clone());
        inner.pod_states.insert(
            key.clone(),
            PodState {
                pod,
                deadline: None,
                binding_finished: false,
            },
        );
        inner.assumed.insert(key);
        Ok(())
    }

    /// Starts the expiry clock of an assumed pod after its bind request finished.
    pub fn finish_binding(&self, pod: &Pod) {
        let key = pod_key(pod);
        let ttl = self.ttl;
        let mut inner = self.lock();
        if inner.assumed.contains(&key)
            && let Some(state) = inner.pod_states.get_mut(&key)
        {
            state.binding_finished = true;
            state.deadline = Some(Instant::now() + ttl);
        }
    }

    /// Removes an assumed pod after a failed binding.
    ///
    /// # Errors
    ///
    /// [`CacheError::NotAssumed`] when the pod is not assumed.
    pub fn forget_pod(&self, pod: &Pod) -> Result<(), CacheError> {
        let key = pod_key(pod);
        let mut inner = self.lock();
        if !inner.assumed.contains(&key) {
            return Err(CacheError::NotAssumed(key));
        }
        if let Some(state) = inner.pod_states.remove(&key) {
            inner.remove_pod_from_node(&state.pod);
        }
        inner.assumed.remove(&key);
        Ok(())
    }

    /// Records a bound pod reported by the informer, confirming it when assumed.
    pub fn add_pod(&self, pod: Arc<Pod>) {
        let key = pod_key(&pod);
        let mut inner = self.lock();
        if let Some(state) = inner.pod_states.remove(&key) {
            // Assumed, or seen before a relist: replace the earlier version.
            inner.remove_pod_from_node(&state.pod);
        }
        inner.assumed.remove(&key);
        inner.add_pod_to_node(pod.clone());
        inner.pod_states.insert(
            key,
            PodState {
                pod,
                deadline: None,
                binding_finished: false,
            },
        );
    }

    /// Replaces a bound pod's old version.
    pub fn update_pod(&self, new: Arc<Pod>) {
        self.add_pod(new);
    }

    /// Removes a bound pod.
    pub fn remove_pod(&self, pod: &Pod) {
        let key = pod_key(pod);
        let mut inner = self.lock();
        if let Some(state) = inner.pod_states.remove(&key) {
            inner.remove_pod_from_node(&state.pod);
        }
        inner.assumed.remove(&key);
    }

    /// Returns whether a pod is assumed and not yet confirmed.
    pub fn is_assumed_pod(&self, pod: &Pod) -> bool {
        self.lock().assumed.contains(&pod_key(pod))
    }

    /// Returns the cached version of a pod.
    pub fn get_pod(&self, pod: &Pod) -> Option<Arc<Pod>> {
        self.lock()
            .pod_states
            .get(&pod_key(pod))
            .map(|state| state.pod.clone())
    }

    /// Adds or replaces a node.
    pub fn add_node(&self, node: Arc<Node>) {
        let name = node.metadata.name.clone().unwrap_or_default();
        let mut inner = self.lock();
        let generation = inner.stamp(&name);
        let images_changed = inner
            .nodes
            .get(&name)
            .and_then(|info| info.node.as_ref())
            .map(|old| {
                old.status.as_ref().and_then(|s| s.images.as_ref())
                    != node.status.as_ref().and_then(|s| s.images.as_ref())
            })
            .unwrap_or(true);
        let info = Arc::make_mut(inner.nodes.entry(name).or_default());
        info.set_node(node);
        info.generation = generation;
        inner.images_changed |= images_changed;
    }

    /// Replaces a node.
    pub fn update_node(&self, node: Arc<Node>) {
        self.add_node(node);
    }

    /// Removes a node. Its pods stay until their own delete events arrive.
    pub fn remove_node(&self, node: &Node) {
        let name = node.metadata.name.clone().unwrap_or_default();
        let mut inner = self.lock();
        let generation = inner.stamp(&name);
        let Some(info) = inner.nodes.get_mut(&name) else {
            return;
        };
        if info.pods.is_empty() {
            inner.nodes.remove(&name);
        } else {
            let info = Arc::make_mut(info);
            info.node = None;
            info.generation = generation;
        }
        inner.removed_nodes = true;
        inner.images_changed = true;
    }

    /// Brings `snapshot` up to date, copying only the nodes changed since its last
    /// update.
    pub fn update_snapshot(&self, snapshot: &mut Snapshot) {
        let mut inner = self.lock();
        let mut structural = false;

        if inner.images_changed {
            let images = image_existence(inner.nodes.values().map(Arc::as_ref));
            let generation = inner.next_generation();
            for info in inner.nodes.values_mut() {
                let info = Arc::make_mut(info);
                refresh_image_states(info, &images);
                info.generation = generation;
            }
            // Every node changed: the log starts afresh after this generation.
            inner.changes.clear();
            inner.logged_after = generation;
            inner.images_changed = false;
        }

        let newer = |info: &Arc<NodeInfo>| info.generation > snapshot.generation;
        let changed: Vec<String> = if snapshot.generation >= inner.logged_after {
            let start = inner
                .changes
                .partition_point(|(generation, _)| *generation <= snapshot.generation);
            let mut names: Vec<String> = inner
                .changes
                .range(start..)
                .map(|(_, name)| name.clone())
                .collect();
            names.sort_unstable();
            names.dedup();
            names.retain(|name| inner.nodes.get(name).is_some_and(newer));
            names
        } else {
            inner
                .nodes
                .iter()
                .filter(|(_, info)| newer(info))
                .map(|(name, _)| name.clone())
                .collect()
        };
        for name in &changed {
            let info = &inner.nodes[name];
            let previous = snapshot.node_info_map.insert(name.clone(), info.clone());
            let existed = previous.is_some_and(|previous| previous.node.is_some());
            structural |= existed != info.node.is_some();
        }
        if inner.removed_nodes || snapshot.node_info_map.len() != inner.nodes.len() {
            snapshot
                .node_info_map
                .retain(|name, _| inner.nodes.contains_key(name));
            inner.removed_nodes = false;
            structural = true;
        }
        snapshot.last_update.from = snapshot.generation;
        snapshot.last_update.to = inner.generation;
        snapshot.generation = inner.generation;
        if structural {
            snapshot.rebuild_lists();
            snapshot.last_update.changed = None;
        } else {
            if !changed.is_empty() {
                snapshot.update_in_place(&changed);
            }
            snapshot.last_update.changed = Some(changed);
        }
    }

    /// Removes assumed pods whose binding finished more than the TTL ago without the
    /// informer confirming them. Returns the expired pods.
    pub fn cleanup_expired_assumed_pods(&self, now: Instant) -> Vec<Arc<Pod>> {
        let mut inner = self.lock();
        let expired: Vec<String> = inner
            .assumed
            .iter()
            .filter(|key| {
                inner.pod_states.get(*key).is_some_and(|state| {
                    state.binding_finished && state.deadline.is_some_and(|deadline| now > deadline)
                })
            })
            .cloned()
            .collect();
        let mut pods = Vec::new();
        for key in expired {
            if let Some(state) = inner.pod_states.remove(&key) {
                inner.remove_pod_from_node(&state.pod);
                pods.push(state.pod);
            }
            inner.assumed.remove(&key);
        }
        pods
    }

    /// Returns the number of nodes and pods cached.
    pub fn counts(&self) -> (usize, usize) {
        let inner = self.lock();
        (
            inner
                .nodes
                .values()
                .filter(|info| info.node.is_some())
                .count(),
            inner.pod_states.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str) -> Arc<Node> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name},
                "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                    "images": [{"names": ["nginx:1"], "sizeBytes": 1000}]}
            }))
            .expect("node"),
        )
    }

    fn pod(name: &str, node: &str) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"nodeName": node, "containers": [{"name": "c",
                    "resources": {"requests": {"cpu": "1"}}}]}
            }))
            .expect("pod"),
        )
    }

    #[test]
    fn assume_confirm_and_forget() {
        let cache = SchedulerCache::new(Duration::from_secs(30));
        cache.add_node(node("n1"));
        let p = pod("p", "n1");
        cache.assume_pod(p.clone()).expect("assume");
        assert!(cache.is_assumed_pod(&p));
        assert!(cache.assume_pod(p.clone()).is_err());

        let mut snapshot = Snapshot::default();
        cache.update_snapshot(&mut snapshot);
        assert_eq!(snapshot.get("n1").expect("n1").requested.milli_cpu, 1000);

        cache.forget_pod(&p).expect("forget");
        cache.update_snapshot(&mut snapshot);
        assert_eq!(snapshot.get("n1").expect("n1").requested.milli_cpu, 0);

        cache.assume_pod(p.clone()).expect("assume again");
        cache.add_pod(p.clone());
        assert!(!cache.is_assumed_pod(&p));
        assert!(cache.forget_pod(&p).is_err());
    }

    #[test]
    fn assumed_pod_expires_after_binding() {
        let cache = SchedulerCache::new(Duration::from_secs(30));
        cache.add_node(node("n1"));
        let p = pod("p", "n1");
        cache.assume_pod(p.clone()).expect("assume");
        assert!(
            cache
                .cleanup_expired_assumed_pods(Instant::now() + Duration::from_secs(60))
                .is_empty()
        );
        cache.finish_binding(&p);
        assert!(
            cache
                .cleanup_expired_assumed_pods(Instant::now())
                .is_empty()
        );
        let expired = cache.cleanup_expired_assumed_pods(Instant::now() + Duration::from_secs(31));
        assert_eq!(expired.len(), 1);
        assert_eq!(cache.counts(), (1, 0));
    }

    fn pod_with_anti_affinity(name: &str, node: &str) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "default", "labels": {"app": "a"}},
                "spec": {"nodeName": node, "containers": [{"name": "c"}],
                    "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": {"app": "a"}},
                         "topologyKey": "kubernetes.io/hostname"}]}}}
            }))
            .expect("pod"),
        )
    }

    fn names(list: &[Arc<NodeInfo>]) -> Vec<&str> {
        list.iter().map(|info| info.node_name()).collect()
    }

    #[test]
    fn snapshot_affinity_lists_in_place() {
        let cache = SchedulerCache::new(Duration::from_secs(30));
        for name in ["n1", "n2", "n3"] {
            cache.add_node(node(name));
        }
        let mut snapshot = Snapshot::default();
        cache.update_snapshot(&mut snapshot);
        assert!(snapshot.have_pods_with_required_anti_affinity().is_empty());

        let on_n3 = pod_with_anti_affinity("a3", "n3");
        let on_n1 = pod_with_anti_affinity("a1", "n1");
        cache.assume_pod(on_n3.clone()).expect("assume");
        cache.update_snapshot(&mut snapshot);
        cache.assume_pod(on_n1.clone()).expect("assume");
        cache.assume_pod(pod("plain", "n2")).expect("assume");
        cache.update_snapshot(&mut snapshot);
        assert_eq!(
            names(snapshot.have_pods_with_required_anti_affinity()),
            ["n1", "n3"]
        );
        assert_eq!(names(snapshot.have_pods_with_affinity()), ["n1", "n3"]);
        // The lists hold the nodes' current infos, not the ones of the first update.
        assert_eq!(
            snapshot.have_pods_with_affinity()[0].pods.len(),
            snapshot.get("n1").expect("n1").pods.len()
        );

        cache.forget_pod(&on_n3).expect("forget");
        cache.update_snapshot(&mut snapshot);
        assert_eq!(
            names(snapshot.have_pods_with_required_anti_affinity()),
            ["n1"]
        );
        assert_eq!(names(snapshot.have_pods_with_affinity()), ["n1"]);
    }

    #[test]
    fn snapshot_older_than_change_log() {
        let cache = SchedulerCache::new(Duration::from_secs(30));
        cache.add_node(node("n1"));
        cache.add_node(node("n2"));
        let mut old = Snapshot::default();
        cache.update_snapshot(&mut old);
        let mut recent = Snapshot::default();
        cache.update_snapshot(&mut recent);

        // Far more changes than the log keeps (1,024 entries for two nodes).
        for i in 0..3000 {
            let node = if i % 3 == 0 { "n1" } else { "n2" };
            cache
                .assume_pod(pod(&format!("p{i}"), node))
                .expect("assume");
            if i % 100 == 0 {
                cache.update_snapshot(&mut recent);
            }
        }
        cache.update_snapshot(&mut old);
        cache.update_snapshot(&mut recent);
        for snapshot in [&old, &recent] {
            assert_eq!(snapshot.get("n1").expect("n1").pods.len(), 1000);
            assert_eq!(snapshot.get("n2").expect("n2").pods.len(), 2000);
            assert_eq!(snapshot.list()[1].pods.len(), 2000);
        }
    }

    #[test]
    fn snapshot_is_incremental() {
        let cache = SchedulerCache::new(Duration::from_secs(30));
        cache.add_node(node("n1"));
        cache.add_node(node("n2"));
        let mut snapshot = Snapshot::default();
        cache.update_snapshot(&mut snapshot);
        assert_eq!(snapshot.num_nodes(), 2);
        assert_eq!(
            snapshot.get("n1").expect("n1").image_states["nginx:1"].num_nodes,
            2
        );
        let n2_before = snapshot.get("n2").expect("n2").clone();

        cache.add_pod(pod("p", "n1"));
        cache.update_snapshot(&mut snapshot);
        assert!(Arc::ptr_eq(&n2_before, snapshot.get("n2").expect("n2")));
        assert_eq!(snapshot.get("n1").expect("n1").pods.len(), 1);
        assert_eq!(
            snapshot.list()[0].pods.len(),
            1,
            "the sorted list sees the new pod"
        );
        assert!(Arc::ptr_eq(&n2_before, &snapshot.list()[1]));

        cache.remove_node(&node("n2"));
        cache.update_snapshot(&mut snapshot);
        assert_eq!(snapshot.num_nodes(), 1);
        assert_eq!(
            snapshot.get("n1").expect("n1").image_states["nginx:1"].num_nodes,
            1
        );
    }
}
