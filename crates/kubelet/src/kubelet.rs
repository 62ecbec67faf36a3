//! The kubelet's main loop and pod workers.
//!
//! [`start`] wires the managers and the pod sources together and runs until
//! cancelled. Every pod gets one worker task ([`Kubelet::dispatch`]) that syncs it
//! serially whenever a source, the PLEG or a probe reports a change, and when a
//! backoff or the sync period expires. A worker ends once its pod is gone from
//! every source and from the runtime.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client::config::RestConfig;
use client::rest::RestClient;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{OwnerReference, Time};
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::api;
use crate::backoff::Backoff;
use crate::config::KubeletConfiguration;
use crate::images::ImageManager;
use crate::kuberuntime::{RuntimeManager, RuntimePodStatus, SyncResult, pod_full_name};
use crate::pod_manager::PodManager;
use crate::prober::ProberManager;
use crate::remote::RemoteRuntime;
use crate::sources::{self, Source, SourceUpdate};
use crate::status::{StatusInputs, StatusManager};

struct Worker {
    tx: mpsc::UnboundedSender<()>,
}

/// The running kubelet, shared by its tasks.
pub struct Kubelet {
    pub config: Arc<KubeletConfiguration>,
    pub node_name: String,
    pub client: Option<RestClient>,
    pub runtime: RemoteRuntime,
    pub runtime_manager: RuntimeManager,
    pub status: Arc<StatusManager>,
    pub prober: Arc<ProberManager>,
    pub pod_manager: Mutex<PodManager>,
    workers: Mutex<HashMap<String, Worker>>,
    /// Last known pod per UID, kept for termination after a pod left its source.
    last_known: Mutex<HashMap<String, Arc<Pod>>>,
    /// Service account tokens of projected volumes.
    tokens: crate::token::TokenManager,
    /// The time of the last PLEG relist, for /healthz.
    pub pleg_healthy: watch::Receiver<Option<Instant>>,
    host_ip: String,
    /// Stops the pod workers.
    cancel: watch::Receiver<bool>,
    pub events: crate::events::Recorder,
    /// UIDs of the pods that passed admission, in admission order. Its lock
    /// also serializes admission, so that two pods cannot both take the last room.
    admitted: Mutex<HashSet<String>>,
    /// The Node as last read and computed by the node status manager, or the
    /// locally built one before the first update: admission checks pods against it.
    pub node_info: Arc<Mutex<Node>>,
    /// Observes the eviction signals for the eviction manager's admit handler.
    pressure: crate::eviction::Observer,
    /// The AppArmor admit handler, with the host checked at start.
    apparmor: crate::apparmor::Validator,
    /// Grace periods in seconds for evicted pods, by UID, overriding their own.
    eviction_grace: Mutex<HashMap<String, i64>>,
    /// The QoS and pod cgroups; `None` with `cgroupsPerQOS: false`.
    pub container_manager: Option<Arc<crate::cm::ContainerManager>>,
}

/// The next step of a worker after a sync.
enum Next {
    /// Sync again after this long, or on the next notification.
    Wait(Duration),
    /// The pod is gone and cleaned up.
    Done,
}

impl Kubelet {
    fn lock_pods(&self) -> std::sync::MutexGuard<'_, PodManager> {
        self.pod_manager.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks the worker of `uid` to sync, starting one when needed.
    pub fn dispatch(self: &Arc<Self>, uid: &str) {
        let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(worker) = workers.get(uid)
            && worker.tx.send(()).is_ok()
        {
            return;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        workers.insert(uid.to_string(), Worker { tx });
        let this = self.clone();
        let uid = uid.to_string();
        tokio::spawn(async move { this.pod_worker(uid, rx).await });
    }

    async fn pod_worker(self: Arc<Self>, uid: String, mut rx: mpsc::UnboundedReceiver<()>) {
        let mut cancel = self.cancel.clone();
        loop {
            if *cancel.borrow() {
                return;
            }
            while rx.try_recv().is_ok() {}
            let pod = self.lock_pods().get(&uid);
            if let Some(pod) = &pod {
                self.last_known
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(uid.clone(), pod.clone());
            }
            let next = self.sync(&uid, pod).await;
            crate::heap::record_sync();
            let wait = match next {
                Next::Done => {
                    let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
                    if self.lock_pods().get(&uid).is_none() && rx.is_empty() {
                        workers.remove(&uid);
                        self.last_known
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&uid);
                        self.admitted
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&uid);
                        self.eviction_grace
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&uid);
                        return;
                    }
                    Duration::ZERO
                }
                Next::Wait(wait) => wait,
            };
            tokio::select! {
                _ = rx.recv() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = crate::cancelled(&mut cancel) => return,
            }
        }
    }

    async fn sync(self: &Arc<Self>, uid: &str, pod: Option<Arc<Pod>>) -> Next {
        let rt_status = match self.runtime_manager.get_pod_status(uid).await {
            Ok(status) => status,
            Err(error) => {
                tracing::warn!(pod_uid = %uid, %error, "failed to read pod status from the runtime");
                return Next::Wait(Duration::from_secs(2));
            }
        };
        match pod {
            Some(pod) if pod.metadata.deletion_timestamp.is_none() => {
                self.sync_running(&pod, rt_status).await
            }
            Some(pod) => {
                self.terminate(uid, Some(&pod), &rt_status).await;
                if !sources::is_static(&pod)
                    && let Err(error) = self
                        .status
                        .delete_pod(
                            pod.metadata.namespace.as_deref().unwrap_or("default"),
                            pod.metadata.name.as_deref().unwrap_or_default(),
                            uid,
                        )
                        .await
                {
                    tracing::warn!(pod = %pod_full_name(&pod), %error, "failed to delete pod");
                }
                Next::Wait(Duration::from_secs(2))
            }
            None => {
                let last = self
                    .last_known
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(uid)
                    .cloned();
                self.terminate(uid, last.as_deref(), &rt_status).await;
                Next::Done
            }
        }
    }

    async fn sync_running(self: &Arc<Self>, pod: &Arc<Pod>, rt_status: RuntimePodStatus) -> Next {
        let uid = crate::kuberuntime::pod_uid(pod);
        let is_static = sources::is_static(pod);
        let ctx = crate::volumes::VolumeContext {
            root: &self.config.root_dir,
            client: self.client.as_ref(),
            node_name: &self.node_name,
            host_ip: &self.host_ip,
            tokens: &self.tokens,
        };
        let mut result = SyncResult::default();
        // The API's phase counts too, so a restarted kubelet does not run a finished
        // pod again.
        let terminal = self
            .status
            .cached_status(uid)
            .or_else(|| pod.status.clone())
            .and_then(|s| s.phase)
            .is_some_and(|p| p == "Succeeded" || p == "Failed");
        let mut next = Next::Wait(self.config.sync_frequency);
        if !terminal && let Err(rejection) = self.admit(pod) {
            self.reject(pod, rejection);
            return next;
        }
        if !terminal && let Err(message) = crate::volumes::setup(&ctx, pod).await {
            tracing::warn!(pod = %pod_full_name(pod), %message, "unable to attach or mount volumes");
            self.events
                .warning(pod, None, "FailedMount", message.clone());
            for c in pod.spec.iter().flat_map(|s| {
                s.containers
                    .iter()
                    .chain(s.init_containers.iter().flatten())
            }) {
                result.errors.insert(
                    c.name.clone(),
                    crate::kuberuntime::SyncError {
                        reason: "ContainerCreating".to_string(),
                        message: message.clone(),
                    },
                );
            }
            next = Next::Wait(Duration::from_secs(2));
        } else if terminal {
            // A terminal pod (completed or evicted) never runs again.
            let running = rt_status.sandboxes.iter().any(|s| s.ready)
                || rt_status
                    .containers
                    .iter()
                    .any(|c| c.state == crate::kuberuntime::ContainerState::Running);
            let grace = self
                .eviction_grace
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(uid)
                .copied();
            if running
                && let Err(error) = self
                    .runtime_manager
                    .kill_pod(Some(pod), &rt_status, grace)
                    .await
            {
                tracing::warn!(pod = %pod_full_name(pod), %error, "failed to stop terminal pod");
            }
        } else if let Err(error) = self.ensure_pod_cgroups(pod) {
            tracing::warn!(pod = %pod_full_name(pod), %error, "failed to create pod cgroup");
            self.events
                .warning(pod, None, "FailedCreatePodContainer", error.to_string());
            next = Next::Wait(Duration::from_secs(2));
        } else {
            self.prober.add_pod(pod);
            let failures = self.prober.failures(uid);
            result = self
                .runtime_manager
                .sync_pod(pod, &rt_status, &failures)
                .await;
            if let Some(after) = result.requeue_after {
                next = Next::Wait(after.max(Duration::from_millis(200)));
            }
        }
        let rt_status = match self.runtime_manager.get_pod_status(uid).await {
            Ok(s) => s,
            Err(_) => rt_status,
        };
        // The per-pod limit applies right away unless dead containers must reach
        // a minimum age first; the periodic container GC covers that case.
        let gc = self.config.container_gc;
        if gc.max_per_pod_container >= 0 && gc.min_age.is_zero() {
            self.runtime_manager
                .prune_containers(&rt_status, gc.max_per_pod_container as usize)
                .await;
        }
        let previous = self
            .status
            .cached_status(uid)
            .or_else(|| pod.status.clone());
        let mut status = crate::status::generate_pod_status(
            pod,
            &rt_status,
            &StatusInputs {
                runtime_name: self.runtime.runtime_name(),
                host_ip: &self.host_ip,
                sync: &result,
                probes: self.prober.as_ref(),
                previous: previous.as_ref(),
                now: Time(crate::now()),
            },
        );
        if terminal && let Some(previous) = &previous {
            status.phase = previous.phase.clone();
            status.reason = previous.reason.clone();
            status.message = previous.message.clone();
        }
        self.status.set_pod_status(pod, status, is_static);
        next
    }

    /// Runs the admit handlers once per pod: the eviction manager's, the predicates
    /// against the Node and the pods admitted before, then AppArmor's.
    fn admit(&self, pod: &Pod) -> Result<(), crate::admission::Rejection> {
        let uid = crate::kuberuntime::pod_uid(pod);
        let mut admitted = self.admitted.lock().unwrap_or_else(|e| e.into_inner());
        if admitted.contains(uid) {
            return Ok(());
        }
        crate::eviction::admit(pod, self.pressure.pressure())?;

        let active = self.active_pods(&admitted);
        let others: Vec<&Pod> = active.iter().map(|p| p.as_ref()).collect();
        let node = self
            .node_info
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        crate::admission::admit(pod, &node, &others)?;
        self.apparmor.admit(pod)?;

        admitted.insert(uid.to_string());
        Ok(())
    }

    /// Returns the admitted pods that are still in the pod manager and not finished.
    fn active_pods(&self, admitted: &HashSet<String>) -> Vec<Arc<Pod>> {
        self.lock_pods()
            .pods()
            .into_iter()
            .filter(|p| admitted.contains(crate::kuberuntime::pod_uid(p)))
            .filter(|p| {
                let phase = self
                    .status
                    .cached_status(crate::kuberuntime::pod_uid(p))
                    .or_else(|| p.status.clone())
                    .and_then(|s| s.phase);
                !matches!(phase.as_deref(), Some("Succeeded" | "Failed"))
            })
            .collect()
    }

    /// Creates the pod's cgroup before its sandbox, and updates the Burstable
    /// cgroup's shares for the pods now active.
    fn ensure_pod_cgroups(&self, pod: &Pod) -> Result<(), crate::cm::CgroupError> {
        let Some(manager) = &self.container_manager else {
            return Ok(());
        };
        manager.ensure_pod(pod)?;
        let admitted = self
            .admitted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let active = self.active_pods(&admitted);
        let active: Vec<&Pod> = active.iter().map(|p| p.as_ref()).collect();
        manager.update_qos_cgroups(&active)
    }

    /// Removes the cgroups of pods that are neither in the pod manager nor running
    /// a worker (upstream's orphaned pod cgroup cleanup). A cgroup that still has
    /// processes stays until a later pass.
    fn cleanup_orphaned_pod_cgroups(&self) {
        let Some(manager) = &self.container_manager else {
            return;
        };
        for (uid, name) in manager.cgroups.pod_cgroups() {
            let known = self.lock_pods().get(&uid).is_some()
                || self
                    .workers
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .contains_key(&uid);
            if known {
                continue;
            }
            match manager.cgroups.destroy(&name) {
                Ok(()) => tracing::info!(pod_uid = %uid, "removed orphaned pod cgroup"),
                Err(error) => {
                    tracing::debug!(pod_uid = %uid, %error, "orphaned pod cgroup not removed yet")
                }
            }
        }
    }

    /// Marks `pod` Failed with the admission failure; its containers never start.
    fn reject(&self, pod: &Pod, rejection: crate::admission::Rejection) {
        let uid = crate::kuberuntime::pod_uid(pod);
        tracing::warn!(pod = %pod_full_name(pod), reason = %rejection.reason, message = %rejection.message, "pod rejected by admission");
        self.events
            .warning(pod, None, &rejection.reason, rejection.message.clone());
        let mut status = self
            .status
            .cached_status(uid)
            .or_else(|| pod.status.clone())
            .unwrap_or_default();
        status.phase = Some("Failed".to_string());
        status.reason = Some(rejection.reason);
        status.message = Some(format!("Pod was rejected: {}", rejection.message));
        status.qos_class = Some(crate::kuberuntime::sandbox::qos_class(pod).to_string());
        self.status
            .set_pod_status(pod, status, sources::is_static(pod));
    }

    /// Marks `pod` Failed with reason Evicted and has its worker stop it within
    /// `grace_period` seconds.
    pub fn evict(self: &Arc<Self>, pod: &Pod, message: &str, grace_period: i64) {
        let uid = crate::kuberuntime::pod_uid(pod);
        self.eviction_grace
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(uid.to_string(), grace_period);
        let mut status = self
            .status
            .cached_status(uid)
            .or_else(|| pod.status.clone())
            .unwrap_or_default();
        status.phase = Some("Failed".to_string());
        status.reason = Some("Evicted".to_string());
        status.message = Some(message.to_string());
        tracing::warn!(pod = %pod_full_name(pod), %message, "evicting pod");
        self.events
            .warning(pod, None, "Evicted", message.to_string());
        self.status
            .set_pod_status(pod, status, sources::is_static(pod));
        self.dispatch(uid);
    }

    /// Stops everything of the pod, removes its containers and sandboxes, and
    /// tears its volumes down.
    async fn terminate(&self, uid: &str, pod: Option<&Pod>, rt_status: &RuntimePodStatus) {
        let grace = pod.and_then(|p| p.metadata.deletion_grace_period_seconds);
        if let Err(error) = self.runtime_manager.kill_pod(pod, rt_status, grace).await {
            tracing::warn!(pod_uid = %uid, %error, "failed to kill pod");
            return;
        }
        self.prober.remove_pod(uid);
        if let Ok(after) = self.runtime_manager.get_pod_status(uid).await {
            if let Some(pod) = pod {
                let previous = self.status.cached_status(uid);
                let status = crate::status::generate_pod_status(
                    pod,
                    &after,
                    &StatusInputs {
                        runtime_name: self.runtime.runtime_name(),
                        host_ip: &self.host_ip,
                        sync: &SyncResult::default(),
                        probes: self.prober.as_ref(),
                        previous: previous.as_ref(),
                        now: Time(crate::now()),
                    },
                );
                self.status
                    .set_pod_status(pod, status, sources::is_static(pod));
            }
            self.runtime_manager.remove_dead(&after).await;
            let deleted = pod.is_none_or(|p| p.metadata.deletion_timestamp.is_some());
            if deleted
                && let Some(manager) = &self.container_manager
                && let Err(error) = manager.remove_pod(uid)
            {
                tracing::debug!(pod_uid = %uid, %error, "pod cgroup not removed yet");
            }
        }
        if let Err(error) = crate::volumes::teardown(&self.config.root_dir, uid) {
            tracing::warn!(pod_uid = %uid, %error, "failed to tear down pod volumes");
        }
        self.tokens.delete_pod_tokens(uid);
        if let Some(pod) = pod {
            let log_dir = crate::kuberuntime::sandbox::pod_log_dir(&self.config, pod);
            let _ = std::fs::remove_dir_all(log_dir);
        }
        self.runtime_manager
            .crash_backoff
            .forget_prefix(&format!("{uid}_"));
        if pod.is_none() {
            self.status.remove(uid);
        }
        tracing::info!(pod_uid = %uid, "pod terminated");
    }

    /// Creates missing mirror pods for static pods and deletes outdated or orphaned
    /// ones.
    async fn sync_mirror_pods(&self) {
        let Some(client) = &self.client else { return };
        let (statics, mirrors): (Vec<Arc<Pod>>, HashMap<String, Arc<Pod>>) = {
            let pods = self.lock_pods();
            (
                pods.pods
                    .values()
                    .filter(|p| sources::is_static(p))
                    .cloned()
                    .collect(),
                pods.mirrors.clone(),
            )
        };
        let mut wanted = HashMap::new();
        for pod in statics {
            let full_name = pod_full_name(&pod);
            let hash = annotation(&pod, sources::CONFIG_HASH);
            wanted.insert(full_name.clone(), ());
            let existing = mirrors.get(&full_name);
            if let Some(mirror) = existing {
                if annotation(mirror, sources::CONFIG_MIRROR) == hash
                    && mirror.metadata.deletion_timestamp.is_none()
                {
                    continue;
                }
                self.delete_mirror(client, mirror).await;
            }
            if let Err(error) = self.create_mirror(client, &pod, &hash).await
                && api::status_code(&error) != Some(409)
            {
                tracing::warn!(pod = %full_name, %error, "failed creating a mirror pod");
            }
        }
        for (full_name, mirror) in &mirrors {
            if !wanted.contains_key(full_name) && mirror.metadata.deletion_timestamp.is_none() {
                self.delete_mirror(client, mirror).await;
            }
        }
    }

    async fn create_mirror(
        &self,
        client: &RestClient,
        pod: &Pod,
        hash: &str,
    ) -> Result<(), client::rest::ClientError> {
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string());
        let mut annotations = pod.metadata.annotations.clone().unwrap_or_default();
        annotations.insert(sources::CONFIG_MIRROR.to_string(), hash.to_string());
        let node_uid = api::get::<k8s_openapi::api::core::v1::Node>(
            client,
            &format!("/api/v1/nodes/{}", self.node_name),
        )
        .await
        .ok()
        .flatten()
        .and_then(|n| n.metadata.uid);
        let mirror = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod.metadata.name,
                "namespace": namespace,
                "labels": pod.metadata.labels.clone().unwrap_or_default(),
                "annotations": annotations,
                "ownerReferences": node_uid.map(|uid| vec![OwnerReference {
                    api_version: "v1".to_string(),
                    kind: "Node".to_string(),
                    name: self.node_name.clone(),
                    uid,
                    controller: Some(true),
                    ..Default::default()
                }]),
            },
            "spec": pod.spec,
        });
        let _: serde_json::Value = api::create(
            client,
            &format!("/api/v1/namespaces/{namespace}/pods"),
            &mirror,
        )
        .await?;
        tracing::info!(pod = %pod_full_name(pod), "created mirror pod");
        // A recreated mirror pod starts without status; send the cached one again.
        self.status.resend(crate::kuberuntime::pod_uid(pod));
        Ok(())
    }

    async fn delete_mirror(&self, client: &RestClient, mirror: &Pod) {
        let body = json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0, "preconditions": {"uid": mirror.metadata.uid}});
        let path = api::pod_path(
            mirror.metadata.namespace.as_deref().unwrap_or("default"),
            mirror.metadata.name.as_deref().unwrap_or_default(),
        );
        match api::delete(client, &path, &body).await {
            Ok(()) => tracing::info!(pod = %pod_full_name(mirror), "deleted mirror pod"),
            Err(error) => {
                tracing::warn!(pod = %pod_full_name(mirror), %error, "failed deleting a mirror pod")
            }
        }
    }

    /// Returns the desired pods with their current status, for `/pods`.
    pub fn running_pods(&self) -> Vec<Pod> {
        let pods = self.lock_pods().pods();
        pods.into_iter()
            .map(|p| {
                let mut pod = (*p).clone();
                if let Some(status) = self.status.cached_status(crate::kuberuntime::pod_uid(&p)) {
                    pod.status = Some(status);
                }
                pod
            })
            .collect()
    }
}

fn annotation(pod: &Pod, key: &str) -> String {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a: &BTreeMap<String, String>| a.get(key))
        .cloned()
        .unwrap_or_default()
}

/// An error starting the kubelet.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Runtime(#[from] crate::remote::RemoteError),
    #[error("failed to load kubeconfig {path}: {message}", path = .path.display())]
    Kubeconfig {
        path: std::path::PathBuf,
        message: String,
    },
    #[error(transparent)]
    Client(#[from] client::rest::ClientError),
    #[error("failed to create {path}: {source}", path = .path.display())]
    Dir {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to start the kubelet server: {0}")]
    Server(String),
    #[error("failed to create the QoS cgroups: {0}")]
    Cgroups(#[from] crate::cm::CgroupError),
}

/// Builds the REST config from `--kubeconfig`.
///
/// # Errors
///
/// [`StartError::Kubeconfig`] when the file cannot be loaded.
pub fn rest_config(path: &std::path::Path) -> Result<RestConfig, StartError> {
    let file = client::config::kubeconfig::Kubeconfig::read_file(path).map_err(|e| {
        StartError::Kubeconfig {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    })?;
    let resolved = file
        .rest_config(&Default::default())
        .map_err(|e| StartError::Kubeconfig {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(resolved.rest)
}

/// A started kubelet: its shared state and the server addresses.
pub struct Running {
    pub kubelet: Arc<Kubelet>,
    pub server_address: Option<std::net::SocketAddr>,
    pub healthz_address: Option<std::net::SocketAddr>,
}

/// Runs node-wide container garbage collection once a minute (upstream's
/// ContainerGCPeriod) until `cancel`.
fn start_container_gc(kubelet: Arc<Kubelet>, mut cancel: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut period = tokio::time::interval(Duration::from_secs(60));
        period.tick().await;
        loop {
            tokio::select! {
                _ = period.tick() => {
                    let policy = kubelet.config.container_gc;
                    kubelet.runtime_manager.garbage_collect_containers(&policy).await;
                }
                _ = crate::cancelled(&mut cancel) => return,
            }
        }
    });
}

/// Starts every task of the kubelet; they stop when `cancel` turns true.
///
/// # Errors
///
/// [`StartError`] for a bad runtime endpoint, kubeconfig, or a port in use.
pub async fn start(
    config: KubeletConfiguration,
    cancel: watch::Receiver<bool>,
) -> Result<Running, StartError> {
    let config = Arc::new(config);
    let node_name = crate::node::node_name(&config);
    for dir in [config.root_dir.join("pods"), config.pod_logs_dir.clone()] {
        std::fs::create_dir_all(&dir).map_err(|source| StartError::Dir {
            path: dir.clone(),
            source,
        })?;
    }
    // Events get a client and rate limit of their own, as upstream's kubelet does,
    // so that a burst of events does not delay status updates.
    let (client, event_client) = match &config.kubeconfig {
        Some(path) => {
            let rest = rest_config(path)?;
            let mut api_rest = rest.clone();
            api_rest.qps = config.kube_api_qps as f32;
            api_rest.burst = config.kube_api_burst as u32;
            let mut event_rest = rest;
            // RestConfig reads qps 0 as the client default and a negative qps as no
            // limit, whereas eventRecordQPS 0 means no limit.
            event_rest.qps = match config.event_record_qps {
                0 => -1.0,
                qps => qps as f32,
            };
            event_rest.burst = config.event_burst as u32;
            (
                Some(RestClient::new(&api_rest)?),
                Some(RestClient::new(&event_rest)?),
            )
        }
        None => (None, None),
    };
    let mut runtime = crate::remote::connect(
        &config.container_runtime_endpoint,
        config.runtime_request_timeout,
    )?;
    // The runtime name goes into container IDs; wait briefly for it.
    for _ in 0..50 {
        match runtime.version().await {
            Ok(v) => {
                tracing::info!(runtime = %v.runtime_name, version = %v.runtime_version, "connected to the container runtime");
                break;
            }
            Err(error) => {
                tracing::warn!(%error, "container runtime not reachable yet");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    let host_ip = config
        .node_ip
        .or_else(crate::node::default_node_ip)
        .map(|ip| ip.to_string())
        .unwrap_or_default();

    let events = crate::events::Recorder::new(event_client, node_name.clone(), cancel.clone());
    let status = Arc::new(StatusManager::new(client.clone()));
    let (probe_tx, mut probe_rx) = mpsc::unbounded_channel();
    let prober = Arc::new(ProberManager::new(
        runtime.clone(),
        status.clone(),
        probe_tx,
        cancel.clone(),
        events.clone(),
    ));
    let runtime_manager = RuntimeManager {
        runtime: runtime.clone(),
        config: config.clone(),
        node_name: node_name.clone(),
        client: client.clone(),
        images: Arc::new(ImageManager::new(
            runtime.clone(),
            client.clone(),
            config.serialize_image_pulls,
            events.clone(),
        )),
        crash_backoff: Arc::new(Backoff::new(
            Duration::from_secs(10),
            Duration::from_secs(300),
        )),
        host_ip: host_ip.clone(),
        events: events.clone(),
    };
    let host = crate::node::host_info();
    let container_manager = if config.cgroups_per_qos {
        let manager = crate::cm::ContainerManager::new(config.clone(), "/sys/fs/cgroup".into());
        let capacity = crate::resource::ResourceList::from([
            ("cpu".to_string(), host.cpus as i64 * 1000),
            ("memory".to_string(), host.memory_bytes as i64),
        ]);
        manager.start(&capacity)?;
        Some(Arc::new(manager))
    } else {
        None
    };
    let node_info = Arc::new(Mutex::new(crate::node::local_node(
        &config, &node_name, &host,
    )));
    let (pleg_tx, mut pleg_rx) = mpsc::unbounded_channel();
    let (healthy_tx, pleg_healthy) = watch::channel(None);
    let kubelet = Arc::new(Kubelet {
        config: config.clone(),
        node_name: node_name.clone(),
        client: client.clone(),
        runtime: runtime.clone(),
        runtime_manager,
        status: status.clone(),
        prober,
        pod_manager: Mutex::default(),
        workers: Mutex::default(),
        last_known: Mutex::default(),
        tokens: crate::token::TokenManager::default(),
        pleg_healthy,
        host_ip,
        cancel: cancel.clone(),
        events,
        admitted: Mutex::default(),
        node_info: node_info.clone(),
        pressure: crate::eviction::Observer::from_config(&config),
        apparmor: crate::apparmor::Validator::from_host(),
        eviction_grace: Mutex::default(),
        container_manager,
    });

    let (server_address, healthz_address) = crate::server::start(kubelet.clone(), cancel.clone())
        .await
        .map_err(StartError::Server)?;

    let (source_tx, mut source_rx) = mpsc::unbounded_channel::<SourceUpdate>();
    if let Some(client) = &client {
        if config.register_node {
            let (uid_tx, uid_rx) = watch::channel(None);
            tokio::spawn(crate::eviction::run(
                kubelet.clone(),
                crate::eviction::Observer::from_config(&config),
                cancel.clone(),
            ));
            let manager = crate::node::NodeStatusManager {
                client: client.clone(),
                config: config.clone(),
                name: node_name.clone(),
                host,
                observer: crate::eviction::Observer::from_config(&config),
                runtime: runtime.clone(),
                node_uid: uid_tx,
                node_info,
            };
            tokio::spawn(manager.run(cancel.clone()));
            tokio::spawn(crate::node::run_lease(
                client.clone(),
                node_name.clone(),
                config.node_lease_duration_seconds,
                uid_rx,
                cancel.clone(),
            ));
        }
        tokio::spawn(sources::run_api_source(
            client.clone(),
            node_name.clone(),
            source_tx.clone(),
            cancel.clone(),
        ));
        let status = status.clone();
        let status_cancel = cancel.clone();
        tokio::spawn(async move { status.run(status_cancel).await });
    }
    if let Some(dir) = &config.static_pod_path {
        tokio::spawn(sources::run_file_source(
            dir.clone(),
            node_name.clone(),
            config.file_check_frequency,
            source_tx.clone(),
            cancel.clone(),
        ));
    }
    if let Some(url) = &config.static_pod_url {
        tokio::spawn(sources::run_http_source(
            url.clone(),
            node_name.clone(),
            config.http_check_frequency,
            source_tx.clone(),
            cancel.clone(),
        ));
    }
    tokio::spawn(crate::image_gc::run(
        runtime.clone(),
        config.image_gc_high_threshold_percent,
        config.image_gc_low_threshold_percent,
        cancel.clone(),
    ));
    tokio::spawn(crate::pleg::run(
        runtime,
        Duration::from_secs(1),
        pleg_tx,
        healthy_tx,
        cancel.clone(),
    ));

    // Runtime pods unknown to the pod manager are cleaned up only once every source
    // has reported, so that a restarted kubelet does not kill pods it will be
    // given again.
    let mut pending_sources: std::collections::HashSet<Source> = std::collections::HashSet::new();
    if client.is_some() {
        pending_sources.insert(Source::Api);
    }
    if config.static_pod_path.is_some() {
        pending_sources.insert(Source::File);
    }
    if config.static_pod_url.is_some() {
        pending_sources.insert(Source::Http);
    }
    start_container_gc(kubelet.clone(), cancel.clone());
    tokio::spawn(crate::heap::run(cancel.clone()));
    let main = kubelet.clone();
    let mut main_cancel = cancel;
    tokio::spawn(async move {
        let mut housekeeping = tokio::time::interval(Duration::from_secs(2));
        let mut unknown: Vec<String> = Vec::new();
        loop {
            tokio::select! {
                Some(update) = source_rx.recv() => {
                    let source = update.source;
                    let changed = main.lock_pods().apply(update);
                    if !changed.is_empty() {
                        tracing::debug!(?source, pods = changed.len(), "pod source changed");
                    }
                    for uid in changed {
                        main.dispatch(&uid);
                    }
                    if pending_sources.remove(&source) && pending_sources.is_empty() {
                        tracing::info!("all pod sources are ready");
                        for uid in unknown.drain(..) {
                            main.dispatch(&uid);
                        }
                    }
                }
                Some(uid) = pleg_rx.recv() => {
                    if pending_sources.is_empty() || main.lock_pods().get(&uid).is_some() {
                        main.dispatch(&uid);
                    } else if !unknown.contains(&uid) {
                        unknown.push(uid);
                    }
                }
                Some(uid) = probe_rx.recv() => main.dispatch(&uid),
                _ = housekeeping.tick() => {
                    main.sync_mirror_pods().await;
                    if pending_sources.is_empty() {
                        main.cleanup_orphaned_pod_cgroups();
                    }
                }
                _ = crate::cancelled(&mut main_cancel) => break,
            }
        }
        tracing::info!("kubelet main loop stopped");
    });

    Ok(Running {
        kubelet,
        server_address,
        healthz_address,
    })
}
