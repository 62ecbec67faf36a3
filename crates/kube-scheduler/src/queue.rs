//! The scheduling queue (upstream `PriorityQueue`) has three parts. The activeQ is a
//! heap ordered by the QueueSort plugin, and [`SchedulingQueue::pop`] serves from it.
//! The backoffQ contains pods waiting out their per-attempt backoff. The unschedulableQ
//! contains pods that failed and wait for a cluster event that may make them fit.
//!
//! Call [`SchedulingQueue::run`] to start the periodic flushes: backoffQ to activeQ every
//! second, and unschedulable pods older than 60 seconds every 30 seconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use tokio::sync::{Notify, watch};

use crate::framework::handle::Nominator;
use crate::framework::types::{NamespaceLabels, pod_key};

/// How long a pod may stay in the unschedulableQ before it is retried anyway.
pub const UNSCHEDULABLE_Q_TIME_INTERVAL: Duration = Duration::from_secs(60);

/// A pod in the queue with its attempt bookkeeping.
#[derive(Clone, Debug)]
pub struct QueuedPodInfo {
    /// The pod.
    pub pod: Arc<Pod>,
    /// When the pod was last added to a queue.
    pub timestamp: Instant,
    /// The number of scheduling attempts so far.
    pub attempts: u32,
    /// When the pod was first added, for the end-to-end latency.
    pub initial_attempt_timestamp: Instant,
}

impl QueuedPodInfo {
    fn new(pod: Arc<Pod>, now: Instant) -> QueuedPodInfo {
        QueuedPodInfo {
            pod,
            timestamp: now,
            attempts: 0,
            initial_attempt_timestamp: now,
        }
    }
}

/// The ordering of a heap: returns whether the first item pops before the second.
pub type LessFn = Arc<dyn Fn(&QueuedPodInfo, &QueuedPodInfo) -> bool + Send + Sync>;

/// A binary heap keyed by `namespace/name` that supports update and delete by key.
struct Heap {
    items: Vec<QueuedPodInfo>,
    keys: Vec<String>,
    index: HashMap<String, usize>,
    less: LessFn,
}

impl Heap {
    fn new(less: LessFn) -> Heap {
        Heap {
            items: Vec::new(),
            keys: Vec::new(),
            index: HashMap::new(),
            less,
        }
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn contains(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    fn get(&self, key: &str) -> Option<&QueuedPodInfo> {
        self.index.get(key).map(|i| &self.items[*i])
    }

    fn peek(&self) -> Option<&QueuedPodInfo> {
        self.items.first()
    }

    /// Inserts or replaces the item with the same key.
    fn add_or_update(&mut self, item: QueuedPodInfo) {
        let key = pod_key(&item.pod);
        if let Some(&i) = self.index.get(&key) {
            self.items[i] = item;
            self.fix(i);
            return;
        }
        self.items.push(item);
        self.keys.push(key.clone());
        let i = self.items.len() - 1;
        self.index.insert(key, i);
        self.up(i);
    }

    fn delete(&mut self, key: &str) -> Option<QueuedPodInfo> {
        let i = self.index.remove(key)?;
        let last = self.items.len() - 1;
        self.swap(i, last);
        self.index.remove(key);
        self.keys.pop();
        let item = self.items.pop();
        if i < self.items.len() {
            let moved = self.keys[i].clone();
            self.index.insert(moved, i);
            self.fix(i);
        }
        item
    }

    fn pop(&mut self) -> Option<QueuedPodInfo> {
        let key = self.keys.first()?.clone();
        self.delete(&key)
    }

    fn list(&self) -> Vec<QueuedPodInfo> {
        self.items.clone()
    }

    fn swap(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        self.items.swap(a, b);
        self.keys.swap(a, b);
        self.index.insert(self.keys[a].clone(), a);
        self.index.insert(self.keys[b].clone(), b);
    }

    fn fix(&mut self, i: usize) {
        if !self.down(i) {
            self.up(i);
        }
    }

    fn up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !(self.less)(&self.items[i], &self.items[parent]) {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn down(&mut self, start: usize) -> bool {
        let mut i = start;
        let n = self.items.len();
        loop {
            let left = 2 * i + 1;
            if left >= n {
                break;
            }
            let mut child = left;
            let right = left + 1;
            if right < n && (self.less)(&self.items[right], &self.items[left]) {
                child = right;
            }
            if !(self.less)(&self.items[child], &self.items[i]) {
                break;
            }
            self.swap(i, child);
            i = child;
        }
        i > start
    }
}

/// The cluster events that move unschedulable pods back to the active or backoff queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterEvent {
    /// A node was added.
    NodeAdd,
    /// A node's labels, taints, allocatable, conditions or schedulability changed.
    NodeUpdate,
    /// A bound pod was deleted, freeing resources.
    AssignedPodDelete,
    /// A PersistentVolume was added or updated.
    PvChange,
    /// A PersistentVolumeClaim was added or updated.
    PvcChange,
    /// A Service was added, updated or deleted.
    ServiceChange,
    /// A StorageClass was added.
    StorageClassAdd,
    /// A CSINode was added.
    CsiNodeAdd,
    /// A CSINode's drivers or limits changed.
    CsiNodeUpdate,
    /// Unschedulable pods waited longer than the flush interval.
    UnschedulableTimeout,
}

impl ClusterEvent {
    /// Returns the metric label of the event, as upstream names it.
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterEvent::NodeAdd => "NodeAdd",
            ClusterEvent::NodeUpdate => "NodeUpdate",
            ClusterEvent::AssignedPodDelete => "AssignedPodDelete",
            ClusterEvent::PvChange => "PvChange",
            ClusterEvent::PvcChange => "PvcChange",
            ClusterEvent::ServiceChange => "ServiceChange",
            ClusterEvent::StorageClassAdd => "StorageClassAdd",
            ClusterEvent::CsiNodeAdd => "CSINodeAdd",
            ClusterEvent::CsiNodeUpdate => "CSINodeUpdate",
            ClusterEvent::UnschedulableTimeout => "UnschedulableTimeout",
        }
    }
}

struct QueueInner {
    active_q: Heap,
    backoff_q: Heap,
    unschedulable_q: HashMap<String, QueuedPodInfo>,
    scheduling_cycle: i64,
    move_request_cycle: i64,
    closed: bool,
}

/// The backoff settings of the queue.
#[derive(Clone, Copy, Debug)]
pub struct BackoffConfig {
    /// The backoff after the first failed attempt (1 s by default).
    pub initial: Duration,
    /// The cap on the backoff (10 s by default).
    pub max: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(10),
        }
    }
}

/// The number of pods in each sub-queue, for the `pending_pods` metric.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PendingCounts {
    /// Pods in the activeQ.
    pub active: usize,
    /// Pods in the backoffQ.
    pub backoff: usize,
    /// Pods in the unschedulableQ.
    pub unschedulable: usize,
}

/// The scheduling queue shared by the event handlers and the scheduling loop.
pub struct SchedulingQueue {
    inner: Mutex<QueueInner>,
    notify: Notify,
    backoff: BackoffConfig,
    nominator: Arc<Nominator>,
}

fn backoff_duration(backoff: BackoffConfig, attempts: u32) -> Duration {
    let mut duration = backoff.initial;
    for _ in 1..attempts {
        duration = duration.saturating_mul(2);
        if duration > backoff.max {
            return backoff.max;
        }
    }
    duration.min(backoff.max)
}

fn backoff_time(backoff: BackoffConfig, info: &QueuedPodInfo) -> Instant {
    info.timestamp + backoff_duration(backoff, info.attempts)
}

/// Returns whether an update changed what scheduling reads: labels, annotations or
/// spec. Status-only updates, such as the scheduler's own condition, do not count.
fn is_pod_updated(old: &Pod, new: &Pod) -> bool {
    old.metadata.labels != new.metadata.labels
        || old.metadata.annotations != new.metadata.annotations
        || old.spec != new.spec
}

impl SchedulingQueue {
    /// Creates a queue whose activeQ is ordered by `less`.
    pub fn new(less: LessFn, backoff: BackoffConfig, nominator: Arc<Nominator>) -> SchedulingQueue {
        let backoff_less: LessFn =
            Arc::new(move |a, b| backoff_time(backoff, a) < backoff_time(backoff, b));
        SchedulingQueue {
            inner: Mutex::new(QueueInner {
                active_q: Heap::new(less),
                backoff_q: Heap::new(backoff_less),
                unschedulable_q: HashMap::new(),
                scheduling_cycle: 0,
                move_request_cycle: -1,
                closed: false,
            }),
            notify: Notify::new(),
            backoff,
            nominator,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Returns the nominator shared with the framework.
    pub fn nominator(&self) -> &Arc<Nominator> {
        &self.nominator
    }

    /// Adds a new pending pod to the activeQ, removing it from the other queues.
    pub fn add(&self, pod: Arc<Pod>) {
        let key = pod_key(&pod);
        let mut inner = self.lock();
        inner.unschedulable_q.remove(&key);
        inner.backoff_q.delete(&key);
        let info = QueuedPodInfo::new(pod.clone(), Instant::now());
        inner.active_q.add_or_update(info);
        drop(inner);
        self.nominator.add(pod, None);
        self.notify.notify_one();
    }

    /// Puts back a pod whose attempt failed in `pod_scheduling_cycle`. When a move
    /// request arrived during that cycle the pod goes to the backoffQ (the event may
    /// have made it fit), else to the unschedulableQ. Does nothing if the pod is
    /// already queued.
    pub fn add_unschedulable_if_not_present(&self, info: QueuedPodInfo, pod_scheduling_cycle: i64) {
        let key = pod_key(&info.pod);
        let mut inner = self.lock();
        if inner.unschedulable_q.contains_key(&key)
            || inner.active_q.contains(&key)
            || inner.backoff_q.contains(&key)
        {
            return;
        }
        let pod = info.pod.clone();
        let mut info = info;
        info.timestamp = Instant::now();
        if inner.move_request_cycle >= pod_scheduling_cycle {
            inner.backoff_q.add_or_update(info);
        } else {
            inner.unschedulable_q.insert(key, info);
        }
        drop(inner);
        self.nominator.add(pod, None);
    }

    /// Waits for the next pod of the activeQ and starts a scheduling cycle. Returns
    /// `None` once the queue is closed.
    pub async fn pop(&self) -> Option<QueuedPodInfo> {
        loop {
            let notified = self.notify.notified();
            {
                let mut inner = self.lock();
                if inner.closed {
                    return None;
                }
                if let Some(mut info) = inner.active_q.pop() {
                    info.attempts += 1;
                    inner.scheduling_cycle += 1;
                    return Some(info);
                }
            }
            notified.await;
        }
    }

    /// Returns the number of the current scheduling cycle.
    pub fn scheduling_cycle(&self) -> i64 {
        self.lock().scheduling_cycle
    }

    /// Applies an update of a pending pod. A pod in the unschedulableQ whose spec or
    /// labels changed moves to the backoffQ while backing off, else to the activeQ.
    pub fn update(&self, old: &Pod, new: Arc<Pod>) {
        let key = pod_key(&new);
        let mut inner = self.lock();
        self.nominator.add(new.clone(), None);
        if let Some(existing) = inner.active_q.get(&key).cloned() {
            inner.active_q.add_or_update(QueuedPodInfo {
                pod: new,
                ..existing
            });
            return;
        }
        if let Some(existing) = inner.backoff_q.get(&key).cloned() {
            inner.backoff_q.add_or_update(QueuedPodInfo {
                pod: new,
                ..existing
            });
            return;
        }
        if let Some(existing) = inner.unschedulable_q.get(&key).cloned() {
            let updated = QueuedPodInfo {
                pod: new.clone(),
                ..existing
            };
            if is_pod_updated(old, &new) {
                inner.unschedulable_q.remove(&key);
                if backoff_time(self.backoff, &updated) > Instant::now() {
                    inner.backoff_q.add_or_update(updated);
                } else {
                    inner.active_q.add_or_update(updated);
                    drop(inner);
                    self.notify.notify_one();
                }
            } else {
                inner.unschedulable_q.insert(key, updated);
            }
            return;
        }
        inner
            .active_q
            .add_or_update(QueuedPodInfo::new(new, Instant::now()));
        drop(inner);
        self.notify.notify_one();
    }

    /// Removes a pod from every queue and the nominator.
    pub fn delete(&self, pod: &Pod) {
        let key = pod_key(pod);
        let mut inner = self.lock();
        inner.active_q.delete(&key);
        inner.backoff_q.delete(&key);
        inner.unschedulable_q.remove(&key);
        drop(inner);
        self.nominator.delete(pod);
    }

    /// Moves every unschedulable pod to the backoffQ or activeQ after a cluster event
    /// that may make them fit, and records the move request for pods in flight.
    pub fn move_all_to_active_or_backoff_queue(&self, event: ClusterEvent) {
        let mut inner = self.lock();
        let pods: Vec<QueuedPodInfo> = inner
            .unschedulable_q
            .drain()
            .map(|(_, info)| info)
            .collect();
        self.move_pods_locked(&mut inner, pods);
        inner.move_request_cycle = inner.scheduling_cycle;
        drop(inner);
        tracing::trace!(event = event.as_str(), "moving unschedulable pods");
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// Moves the unschedulable pods whose required pod affinity matches a newly bound
    /// pod, as upstream does on an assigned pod's add or update. `namespace_labels`
    /// serves terms with a `namespaceSelector`.
    pub fn assigned_pod_added(&self, pod: &Pod, namespace_labels: &NamespaceLabels) {
        let mut inner = self.lock();
        let keys: Vec<String> = inner
            .unschedulable_q
            .iter()
            .filter(|(_, info)| {
                let parsed = crate::framework::types::PodInfo::new(info.pod.clone());
                parsed
                    .required_affinity_terms
                    .iter()
                    .any(|term| term.matches(pod, namespace_labels))
            })
            .map(|(key, _)| key.clone())
            .collect();
        if keys.is_empty() {
            return;
        }
        let pods: Vec<QueuedPodInfo> = keys
            .iter()
            .filter_map(|key| inner.unschedulable_q.remove(key))
            .collect();
        self.move_pods_locked(&mut inner, pods);
        inner.move_request_cycle = inner.scheduling_cycle;
        drop(inner);
        self.notify.notify_one();
    }

    fn move_pods_locked(&self, inner: &mut QueueInner, pods: Vec<QueuedPodInfo>) {
        let now = Instant::now();
        for info in pods {
            if backoff_time(self.backoff, &info) > now {
                inner.backoff_q.add_or_update(info);
            } else {
                inner.active_q.add_or_update(info);
            }
        }
    }

    /// Moves pods whose backoff expired from the backoffQ to the activeQ.
    pub fn flush_backoff_q_completed(&self) {
        let now = Instant::now();
        let mut inner = self.lock();
        let mut moved = false;
        while let Some(head) = inner.backoff_q.peek() {
            if backoff_time(self.backoff, head) > now {
                break;
            }
            if let Some(info) = inner.backoff_q.pop() {
                inner.active_q.add_or_update(info);
                moved = true;
            }
        }
        drop(inner);
        if moved {
            self.notify.notify_one();
        }
    }

    /// Moves pods that stayed in the unschedulableQ longer than
    /// [`UNSCHEDULABLE_Q_TIME_INTERVAL`] to the backoffQ or activeQ.
    pub fn flush_unschedulable_q_leftover(&self) {
        let now = Instant::now();
        let mut inner = self.lock();
        let keys: Vec<String> = inner
            .unschedulable_q
            .iter()
            .filter(|(_, info)| now.duration_since(info.timestamp) > UNSCHEDULABLE_Q_TIME_INTERVAL)
            .map(|(key, _)| key.clone())
            .collect();
        let pods: Vec<QueuedPodInfo> = keys
            .iter()
            .filter_map(|key| inner.unschedulable_q.remove(key))
            .collect();
        if pods.is_empty() {
            return;
        }
        self.move_pods_locked(&mut inner, pods);
        drop(inner);
        self.notify.notify_one();
    }

    /// Returns the sizes of the three queues.
    pub fn pending_counts(&self) -> PendingCounts {
        let inner = self.lock();
        PendingCounts {
            active: inner.active_q.len(),
            backoff: inner.backoff_q.len(),
            unschedulable: inner.unschedulable_q.len(),
        }
    }

    /// Returns every queued pod.
    pub fn pending_pods(&self) -> Vec<Arc<Pod>> {
        let inner = self.lock();
        inner
            .active_q
            .list()
            .into_iter()
            .chain(inner.backoff_q.list())
            .chain(inner.unschedulable_q.values().cloned())
            .map(|info| info.pod)
            .collect()
    }

    /// Closes the queue; [`SchedulingQueue::pop`] returns `None` from now on.
    pub fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// Runs the periodic flushes until `cancel` fires.
    pub async fn run(self: Arc<Self>, mut cancel: watch::Receiver<bool>) {
        let mut backoff_tick = tokio::time::interval(Duration::from_secs(1));
        let mut unschedulable_tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tokio::select! {
                _ = backoff_tick.tick() => self.flush_backoff_q_completed(),
                _ = unschedulable_tick.tick() => self.flush_unschedulable_q_leftover(),
                changed = cancel.changed() => {
                    if changed.is_err() || *cancel.borrow() {
                        self.close();
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::queue_sort::priority_less;
    use serde_json::json;

    fn pod(name: &str, priority: i32) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"priority": priority, "containers": [{"name": "c"}]}
            }))
            .expect("pod"),
        )
    }

    fn queue() -> SchedulingQueue {
        SchedulingQueue::new(
            Arc::new(priority_less),
            BackoffConfig::default(),
            Arc::new(Nominator::default()),
        )
    }

    #[tokio::test]
    async fn pops_by_priority_then_age() {
        let queue = queue();
        queue.add(pod("low", 1));
        queue.add(pod("high", 10));
        queue.add(pod("mid-a", 5));
        queue.add(pod("mid-b", 5));
        let mut order = Vec::new();
        for _ in 0..4 {
            let info = queue.pop().await.expect("pod");
            order.push(info.pod.metadata.name.clone().unwrap_or_default());
        }
        assert_eq!(order, ["high", "mid-a", "mid-b", "low"]);
    }

    #[test]
    fn backoff_doubles_up_to_max() {
        let config = BackoffConfig::default();
        let seconds: Vec<u64> = (1..=6)
            .map(|attempts| backoff_duration(config, attempts).as_secs())
            .collect();
        assert_eq!(seconds, [1, 2, 4, 8, 10, 10]);
    }

    #[tokio::test]
    async fn unschedulable_pod_moves_on_event() {
        let queue = queue();
        queue.add(pod("p", 0));
        let info = queue.pop().await.expect("pod");
        let cycle = queue.scheduling_cycle();
        queue.add_unschedulable_if_not_present(info, cycle);
        assert_eq!(queue.pending_counts().unschedulable, 1);

        queue.move_all_to_active_or_backoff_queue(ClusterEvent::NodeAdd);
        let counts = queue.pending_counts();
        assert_eq!(counts.unschedulable, 0);
        assert_eq!(counts.backoff, 1, "one attempt means one second of backoff");
    }

    #[tokio::test]
    async fn move_request_during_cycle_sends_pod_to_backoff() {
        let queue = queue();
        queue.add(pod("p", 0));
        let info = queue.pop().await.expect("pod");
        let cycle = queue.scheduling_cycle();
        queue.move_all_to_active_or_backoff_queue(ClusterEvent::NodeAdd);
        queue.add_unschedulable_if_not_present(info, cycle);
        let counts = queue.pending_counts();
        assert_eq!(counts.unschedulable, 0);
        assert_eq!(counts.backoff, 1);
    }

    #[tokio::test]
    async fn status_only_update_keeps_pod_unschedulable() {
        let queue = queue();
        let p = pod("p", 0);
        queue.add(p.clone());
        let info = queue.pop().await.expect("pod");
        queue.add_unschedulable_if_not_present(info, queue.scheduling_cycle());

        let mut with_status = (*p).clone();
        with_status.status = Some(Default::default());
        queue.update(&p, Arc::new(with_status.clone()));
        assert_eq!(queue.pending_counts().unschedulable, 1);

        let mut relabeled = with_status.clone();
        relabeled.metadata.labels = Some([("a".to_string(), "b".to_string())].into());
        queue.update(&with_status, Arc::new(relabeled));
        assert_eq!(queue.pending_counts().unschedulable, 0);
    }

    #[tokio::test]
    async fn delete_removes_from_every_queue() {
        let queue = queue();
        let p = pod("p", 0);
        queue.add(p.clone());
        queue.delete(&p);
        assert_eq!(queue.pending_counts(), PendingCounts::default());
    }

    #[test]
    fn heap_update_and_delete_keep_order() {
        let mut heap = Heap::new(Arc::new(priority_less));
        for (i, name) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            let mut info = QueuedPodInfo::new(pod(name, i as i32), Instant::now());
            info.timestamp = Instant::now();
            heap.add_or_update(info);
        }
        heap.delete("default/e");
        heap.add_or_update(QueuedPodInfo::new(pod("a", 100), Instant::now()));
        let order: Vec<String> = std::iter::from_fn(|| heap.pop())
            .map(|info| info.pod.metadata.name.clone().unwrap_or_default())
            .collect();
        assert_eq!(order, ["a", "d", "c", "b"]);
    }
}
