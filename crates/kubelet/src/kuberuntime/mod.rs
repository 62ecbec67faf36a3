//! The runtime manager (upstream's kuberuntime): turns a pod spec into CRI calls.
//!
//! [`RuntimeManager::get_pod_status`] reads what the runtime has for a pod.
//! [`RuntimeManager::sync_pod`] runs [`actions::compute_pod_actions`] and carries the
//! actions out: sandbox, ephemeral containers, init containers one at a time, app
//! containers, with image pulls, backoff and lifecycle hooks. [`RuntimeManager::kill_pod`] stops everything
//! of a pod within its grace period.

pub mod actions;
pub mod container;
pub mod env;
pub mod gc;
pub mod sandbox;
pub mod security;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use client::rest::RestClient;
use cri::v1 as pb;
use k8s_openapi::api::core::v1::{Container, EphemeralContainer, Pod};

use crate::backoff::Backoff;
use crate::config::KubeletConfiguration;
use crate::images::ImageManager;
use crate::remote::{RemoteError, RemoteRuntime, call_error};

/// Labels and annotations the kubelet puts on sandboxes and containers.
pub mod labels {
    pub const POD_NAME: &str = "io.kubernetes.pod.name";
    pub const POD_NAMESPACE: &str = "io.kubernetes.pod.namespace";
    pub const POD_UID: &str = "io.kubernetes.pod.uid";
    pub const CONTAINER_NAME: &str = "io.kubernetes.container.name";
    pub const CONTAINER_HASH: &str = "io.kubernetes.container.hash";
    pub const RESTART_COUNT: &str = "io.kubernetes.container.restartCount";
    pub const TERMINATION_MESSAGE_PATH: &str = "io.kubernetes.container.terminationMessagePath";
    pub const TERMINATION_MESSAGE_POLICY: &str = "io.kubernetes.container.terminationMessagePolicy";
    pub const GRACE_PERIOD: &str = "io.kubernetes.pod.terminationGracePeriod";
    pub const PRE_STOP: &str = "io.kubernetes.container.preStopHandler";
}

/// A sandbox as the runtime reports it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SandboxInfo {
    pub id: String,
    pub ready: bool,
    pub attempt: u32,
    pub created_at: i64,
    pub ip: String,
    pub additional_ips: Vec<String>,
}

/// The state of a container, as CRI names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContainerState {
    Created,
    Running,
    Exited,
    #[default]
    Unknown,
}

/// One container instance as the runtime reports it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerInfo {
    pub id: String,
    pub name: String,
    pub sandbox_id: String,
    pub state: ContainerState,
    /// Unix nanoseconds; zero when unset.
    pub created_at: i64,
    pub started_at: i64,
    pub finished_at: i64,
    pub exit_code: i32,
    pub reason: String,
    pub message: String,
    pub image: String,
    pub image_ref: String,
    pub hash: u64,
    pub restart_count: i32,
    pub log_path: String,
    /// The host file mounted at the termination message path, if any.
    pub termination_message_file: Option<String>,
    pub termination_message_policy: String,
}

/// Everything the runtime holds for one pod, newest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuntimePodStatus {
    pub sandboxes: Vec<SandboxInfo>,
    pub containers: Vec<ContainerInfo>,
}

impl RuntimePodStatus {
    /// Returns the newest instance of the container `name`.
    pub fn latest(&self, name: &str) -> Option<&ContainerInfo> {
        self.containers.iter().find(|c| c.name == name)
    }

    /// Returns every instance of `name`, newest first.
    pub fn instances<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a ContainerInfo> + 'a {
        self.containers.iter().filter(move |c| c.name == name)
    }

    /// Returns the pod IPs of the newest sandbox if it is ready.
    pub fn pod_ips(&self) -> Vec<String> {
        match self.sandboxes.first() {
            Some(s) if s.ready && !s.ip.is_empty() => {
                let mut ips = vec![s.ip.clone()];
                ips.extend(s.additional_ips.iter().cloned());
                ips
            }
            _ => Vec::new(),
        }
    }
}

/// A failure of one container during a sync, shown as its waiting reason.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncError {
    pub reason: String,
    pub message: String,
}

/// The outcome of one [`RuntimeManager::sync_pod`].
#[derive(Clone, Debug, Default)]
pub struct SyncResult {
    /// Per container name: the reason it is not running (CrashLoopBackOff,
    /// ErrImagePull, ...).
    pub errors: HashMap<String, SyncError>,
    /// A sandbox failure.
    pub sandbox_error: Option<String>,
    /// When to sync again for a backoff to expire.
    pub requeue_after: Option<Duration>,
}

/// Hashes a container's spec (FNV-1a over its JSON). A changed hash restarts the
/// container.
pub fn hash_container(container: &Container) -> u64 {
    let text = serde_json::to_string(container).unwrap_or_default();
    // FNV-1a, 64 bit.
    let mut hash: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x100000001b3);
    }
    hash
}

/// `name_namespace`, upstream's pod full name.
pub fn pod_full_name(pod: &Pod) -> String {
    format!(
        "{}_{}",
        pod.metadata.name.as_deref().unwrap_or_default(),
        pod.metadata.namespace.as_deref().unwrap_or("default")
    )
}

pub fn pod_uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or_default()
}

/// The runtime manager. Cloning shares everything.
#[derive(Clone)]
pub struct RuntimeManager {
    pub runtime: RemoteRuntime,
    pub config: Arc<KubeletConfiguration>,
    pub node_name: String,
    pub client: Option<RestClient>,
    pub images: Arc<ImageManager>,
    pub crash_backoff: Arc<Backoff>,
    /// The node's IP, for status.hostIP and the downward API.
    pub host_ip: String,
    pub events: crate::events::Recorder,
}

fn state_of(state: i32) -> ContainerState {
    match pb::ContainerState::try_from(state) {
        Ok(pb::ContainerState::ContainerCreated) => ContainerState::Created,
        Ok(pb::ContainerState::ContainerRunning) => ContainerState::Running,
        Ok(pb::ContainerState::ContainerExited) => ContainerState::Exited,
        _ => ContainerState::Unknown,
    }
}

impl RuntimeManager {
    /// Lists the sandboxes and containers labelled with `uid`, with their status.
    ///
    /// # Errors
    ///
    /// [`RemoteError`] when a list call fails; a container that vanishes between the
    /// list and its status call is skipped.
    pub async fn get_pod_status(&self, uid: &str) -> Result<RuntimePodStatus, RemoteError> {
        let mut rt = self.runtime.runtime.clone();
        let selector = HashMap::from([(labels::POD_UID.to_string(), uid.to_string())]);
        let sandboxes = rt
            .list_pod_sandbox(pb::ListPodSandboxRequest {
                filter: Some(pb::PodSandboxFilter {
                    label_selector: selector.clone(),
                    ..Default::default()
                }),
            })
            .await
            .map_err(call_error("ListPodSandbox"))?
            .into_inner()
            .items;
        let mut status = RuntimePodStatus::default();
        for sandbox in sandboxes {
            let Ok(response) = rt
                .pod_sandbox_status(pb::PodSandboxStatusRequest {
                    pod_sandbox_id: sandbox.id.clone(),
                    verbose: false,
                })
                .await
            else {
                continue;
            };
            let Some(s) = response.into_inner().status else {
                continue;
            };
            let network = s.network.unwrap_or_default();
            status.sandboxes.push(SandboxInfo {
                id: s.id,
                ready: s.state == pb::PodSandboxState::SandboxReady as i32,
                attempt: s.metadata.map(|m| m.attempt).unwrap_or_default(),
                created_at: s.created_at,
                ip: network.ip,
                additional_ips: network.additional_ips.into_iter().map(|ip| ip.ip).collect(),
            });
        }
        status
            .sandboxes
            .sort_by_key(|s| std::cmp::Reverse(s.created_at));

        let containers = rt
            .list_containers(pb::ListContainersRequest {
                filter: Some(pb::ContainerFilter {
                    label_selector: selector,
                    ..Default::default()
                }),
            })
            .await
            .map_err(call_error("ListContainers"))?
            .into_inner()
            .containers;
        for c in containers {
            let Ok(response) = rt
                .container_status(pb::ContainerStatusRequest {
                    container_id: c.id.clone(),
                    verbose: false,
                })
                .await
            else {
                continue;
            };
            let Some(s) = response.into_inner().status else {
                continue;
            };
            let annotation = |key: &str| s.annotations.get(key).cloned().unwrap_or_default();
            let message_path = annotation(labels::TERMINATION_MESSAGE_PATH);
            let termination_message_file = s
                .mounts
                .iter()
                .find(|m| !message_path.is_empty() && m.container_path == message_path)
                .map(|m| m.host_path.clone());
            status.containers.push(ContainerInfo {
                id: s.id.clone(),
                name: s
                    .labels
                    .get(labels::CONTAINER_NAME)
                    .cloned()
                    .unwrap_or_default(),
                sandbox_id: c.pod_sandbox_id.clone(),
                state: state_of(s.state),
                created_at: s.created_at,
                started_at: s.started_at,
                finished_at: s.finished_at,
                exit_code: s.exit_code,
                reason: s.reason.clone(),
                message: s.message.clone(),
                image: s
                    .image
                    .as_ref()
                    .map(|i| i.image.clone())
                    .unwrap_or_default(),
                image_ref: s.image_ref.clone(),
                hash: u64::from_str_radix(&annotation(labels::CONTAINER_HASH), 16).unwrap_or(0),
                restart_count: annotation(labels::RESTART_COUNT).parse().unwrap_or(0),
                log_path: self.absolute_log_path(&s),
                termination_message_file,
                termination_message_policy: annotation(labels::TERMINATION_MESSAGE_POLICY),
            });
        }
        status
            .containers
            .sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(status)
    }

    /// Returns the container's log file. Runtimes report either the full path or
    /// the path relative to the sandbox's log directory, as the config gave it.
    fn absolute_log_path(&self, status: &pb::ContainerStatus) -> String {
        if status.log_path.is_empty() || status.log_path.starts_with('/') {
            return status.log_path.clone();
        }
        let label = |key: &str| status.labels.get(key).cloned().unwrap_or_default();
        self.config
            .pod_logs_dir
            .join(format!(
                "{}_{}_{}",
                label(labels::POD_NAMESPACE),
                label(labels::POD_NAME),
                label(labels::POD_UID)
            ))
            .join(&status.log_path)
            .to_string_lossy()
            .into_owned()
    }

    /// Moves the pod toward its spec. Container failures land in the result rather
    /// than failing the whole sync.
    pub async fn sync_pod(
        &self,
        pod: &Pod,
        status: &RuntimePodStatus,
        probes: &dyn actions::ProbeFailures,
    ) -> SyncResult {
        let mut result = SyncResult::default();
        let plan = actions::compute_pod_actions(pod, status, probes, &hash_container);
        let uid = pod_uid(pod);
        let pod_name = pod_full_name(pod);
        if plan != actions::PodActions::default() {
            tracing::debug!(pod = %pod_name, ?plan, "computed pod actions");
        }

        if plan.kill_pod {
            if let Err(error) = self.kill_pod(Some(pod), status, None).await {
                tracing::warn!(pod = %pod_name, %error, "failed to kill pod");
                result.sandbox_error = Some(error.to_string());
                return result;
            }
            if plan.create_sandbox {
                self.remove_dead(status).await;
            } else {
                return result;
            }
        } else {
            for (id, name, message) in &plan.containers_to_kill {
                tracing::info!(pod = %pod_name, container = %name, %message, "killing container");
                let container = actions::app_containers(pod)
                    .iter()
                    .find(|c| &c.name == name);
                self.kill_container(pod, container, id, None, message).await;
            }
        }

        let mut sandbox_id = plan.sandbox_id.clone();
        let sandbox_config = sandbox::sandbox_config(self, pod, plan.attempt);
        let mut pod_ips = status.pod_ips();
        if plan.create_sandbox {
            match self.create_sandbox(pod, &sandbox_config).await {
                Ok((id, ips)) => {
                    sandbox_id = id;
                    pod_ips = ips;
                }
                Err(message) => {
                    tracing::warn!(pod = %pod_name, %message, "failed to create pod sandbox");
                    result.sandbox_error = Some(message);
                    result.requeue_after = Some(Duration::from_secs(5));
                    return result;
                }
            }
        }
        let pod_ip = pod_ips.first().cloned().unwrap_or_default();

        for index in &plan.ephemeral_containers_to_start {
            let ephemeral = &actions::ephemeral_containers(pod)[*index];
            if let Err(error) = self
                .start_ephemeral_container(
                    pod,
                    &sandbox_id,
                    &sandbox_config,
                    ephemeral,
                    status,
                    &pod_ip,
                    &mut result,
                )
                .await
            {
                tracing::info!(pod = %pod_name, container = %ephemeral.name, reason = %error.reason, message = %error.message, "ephemeral container not started");
                result.errors.insert(ephemeral.name.clone(), error);
            }
        }

        if let Some(index) = plan.next_init_container {
            let container = &actions::init_containers(pod)[index];
            if let Err(error) = self
                .start_container(
                    pod,
                    uid,
                    &sandbox_id,
                    &sandbox_config,
                    container,
                    status,
                    &pod_ip,
                    None,
                    &mut result,
                )
                .await
            {
                result.errors.insert(container.name.clone(), error);
            }
            return result;
        }
        for index in plan.containers_to_start {
            let container = &actions::app_containers(pod)[index];
            if let Err(error) = self
                .start_container(
                    pod,
                    uid,
                    &sandbox_id,
                    &sandbox_config,
                    container,
                    status,
                    &pod_ip,
                    None,
                    &mut result,
                )
                .await
            {
                tracing::info!(pod = %pod_name, container = %container.name, reason = %error.reason, message = %error.message, "container not started");
                result.errors.insert(container.name.clone(), error);
            }
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn start_container(
        &self,
        pod: &Pod,
        uid: &str,
        sandbox_id: &str,
        sandbox_config: &pb::PodSandboxConfig,
        container: &Container,
        status: &RuntimePodStatus,
        pod_ip: &str,
        target_id: Option<&str>,
        result: &mut SyncResult,
    ) -> Result<(), SyncError> {
        let latest = status.latest(&container.name);
        if let Some(last) = latest.filter(|c| c.state == ContainerState::Exited) {
            let key = format!("{uid}_{}_{:x}", container.name, hash_container(container));
            let finished =
                SystemTime::UNIX_EPOCH + Duration::from_nanos(last.finished_at.max(0) as u64);
            let now = SystemTime::now();
            if let Some(left) = self.crash_backoff.in_backoff_since(&key, finished, now) {
                let delay = self.crash_backoff.get(&key);
                self.events.warning(
                    pod,
                    crate::events::container_field(pod, &container.name),
                    "BackOff",
                    format!(
                        "Back-off restarting failed container {} in pod {}",
                        container.name,
                        pod_full_name(pod)
                    ),
                );
                result.requeue_after = Some(result.requeue_after.map_or(left, |r| r.min(left)));
                return Err(SyncError {
                    reason: "CrashLoopBackOff".to_string(),
                    message: format!(
                        "back-off {}s restarting failed container={} pod={}({uid})",
                        delay.as_secs(),
                        container.name,
                        pod_full_name(pod)
                    ),
                });
            }
            self.crash_backoff.next(&key, now);
        }

        let image_ref = match self
            .images
            .ensure_image(pod, container, sandbox_config)
            .await
        {
            Ok(image_ref) => image_ref,
            Err(error) => {
                if let Some(left) = error.retry_after {
                    result.requeue_after = Some(result.requeue_after.map_or(left, |r| r.min(left)));
                }
                return Err(SyncError {
                    reason: error.reason,
                    message: error.message,
                });
            }
        };
        let restart_count = latest.map(|c| c.restart_count + 1).unwrap_or(0);
        container::start(
            self,
            pod,
            sandbox_id,
            sandbox_config,
            container,
            &image_ref,
            restart_count,
            pod_ip,
            target_id,
        )
        .await
    }

    /// Starts an ephemeral container, in the PID namespace of its target container
    /// when it names one.
    ///
    /// # Errors
    ///
    /// CreateContainerConfigError when the target has no running instance, else
    /// what [`RuntimeManager::start_container`] returns.
    #[allow(clippy::too_many_arguments)]
    async fn start_ephemeral_container(
        &self,
        pod: &Pod,
        sandbox_id: &str,
        sandbox_config: &pb::PodSandboxConfig,
        ephemeral: &EphemeralContainer,
        status: &RuntimePodStatus,
        pod_ip: &str,
        result: &mut SyncResult,
    ) -> Result<(), SyncError> {
        let target = ephemeral
            .target_container_name
            .as_deref()
            .filter(|name| !name.is_empty());
        let target_id = match target {
            Some(name) => match status
                .latest(name)
                .filter(|c| c.state == ContainerState::Running)
            {
                Some(running) => Some(running.id.as_str()),
                None => {
                    return Err(SyncError {
                        reason: "CreateContainerConfigError".to_string(),
                        message: format!("target container {name} is not running"),
                    });
                }
            },
            None => None,
        };
        let container = actions::ephemeral_as_container(ephemeral);
        self.start_container(
            pod,
            pod_uid(pod),
            sandbox_id,
            sandbox_config,
            &container,
            status,
            pod_ip,
            target_id,
            result,
        )
        .await
    }

    async fn create_sandbox(
        &self,
        pod: &Pod,
        config: &pb::PodSandboxConfig,
    ) -> Result<(String, Vec<String>), String> {
        let log_dir = std::path::Path::new(&config.log_directory);
        if let Err(error) = std::fs::create_dir_all(log_dir) {
            return Err(format!(
                "failed to create pod log directory {}: {error}",
                log_dir.display()
            ));
        }
        let mut rt = self.runtime.runtime.clone();
        let runtime_handler = pod
            .spec
            .as_ref()
            .and_then(|s| s.runtime_class_name.clone())
            .unwrap_or_default();
        let id = rt
            .run_pod_sandbox(pb::RunPodSandboxRequest {
                config: Some(config.clone()),
                runtime_handler,
            })
            .await
            .map_err(|s| format!("RunPodSandbox failed: {}", s.message()))?
            .into_inner()
            .pod_sandbox_id;
        tracing::info!(pod = %pod_full_name(pod), sandbox = %id, "created pod sandbox");
        let status = rt
            .pod_sandbox_status(pb::PodSandboxStatusRequest {
                pod_sandbox_id: id.clone(),
                verbose: false,
            })
            .await
            .map_err(|s| format!("PodSandboxStatus failed: {}", s.message()))?
            .into_inner()
            .status
            .unwrap_or_default();
        let network = status.network.unwrap_or_default();
        let mut ips = Vec::new();
        if !network.ip.is_empty() {
            ips.push(network.ip);
        }
        ips.extend(network.additional_ips.into_iter().map(|i| i.ip));
        Ok((id, ips))
    }

    /// Stops every running container of the pod (preStop hooks first, in
    /// parallel) and then its sandboxes. `grace_override` replaces the pod's grace
    /// period. `pod` is `None` for a pod no longer in the pod manager.
    ///
    /// # Errors
    ///
    /// The first StopPodSandbox failure.
    pub async fn kill_pod(
        &self,
        pod: Option<&Pod>,
        status: &RuntimePodStatus,
        grace_override: Option<i64>,
    ) -> Result<(), RemoteError> {
        let mut stops = Vec::new();
        for c in status
            .containers
            .iter()
            .filter(|c| c.state == ContainerState::Running)
        {
            let spec: Option<Container> = pod.and_then(|p| {
                actions::app_containers(p)
                    .iter()
                    .chain(actions::init_containers(p))
                    .find(|s| s.name == c.name)
                    .cloned()
            });
            let this = self.clone();
            let pod = pod.cloned();
            let id = c.id.clone();
            stops.push(tokio::spawn(async move {
                match &pod {
                    Some(pod) => {
                        this.kill_container(
                            pod,
                            spec.as_ref(),
                            &id,
                            grace_override,
                            "Stopping container",
                        )
                        .await
                    }
                    None => this.stop_container(&id, grace_override.unwrap_or(30)).await,
                }
            }));
        }
        for stop in stops {
            let _ = stop.await;
        }
        let mut rt = self.runtime.runtime.clone();
        for s in &status.sandboxes {
            if s.ready {
                rt.stop_pod_sandbox(pb::StopPodSandboxRequest {
                    pod_sandbox_id: s.id.clone(),
                })
                .await
                .map_err(call_error("StopPodSandbox"))?;
            }
        }
        Ok(())
    }

    async fn kill_container(
        &self,
        pod: &Pod,
        spec: Option<&Container>,
        id: &str,
        grace_override: Option<i64>,
        message: &str,
    ) {
        let grace = grace_override.unwrap_or_else(|| grace_period(pod));
        let started = std::time::Instant::now();
        if let Some(pre_stop) = spec
            .and_then(|s| s.lifecycle.as_ref())
            .and_then(|l| l.pre_stop.as_ref())
        {
            let hook = container::run_handler(self, pod, id, pre_stop);
            if tokio::time::timeout(Duration::from_secs(grace.max(0) as u64), hook)
                .await
                .is_err()
            {
                tracing::info!(pod = %pod_full_name(pod), container_id = %id, "preStop hook did not finish within the grace period");
            }
        }
        let left = (grace - started.elapsed().as_secs() as i64).max(2);
        if let Some(spec) = spec {
            self.events.normal(
                pod,
                crate::events::container_field(pod, &spec.name),
                "Killing",
                format!("Stopping container {}", spec.name),
            );
        }
        tracing::info!(pod = %pod_full_name(pod), container_id = %id, grace_period = left, %message, "killing container");
        self.stop_container(id, left).await;
    }

    async fn stop_container(&self, id: &str, timeout: i64) {
        let mut rt = self.runtime.runtime.clone();
        if let Err(status) = rt
            .stop_container(pb::StopContainerRequest {
                container_id: id.to_string(),
                timeout,
            })
            .await
        {
            tracing::warn!(container_id = %id, %status, "StopContainer failed");
        }
    }

    /// Removes exited containers and not-ready sandboxes of a pod from the runtime.
    pub async fn remove_dead(&self, status: &RuntimePodStatus) {
        let mut rt = self.runtime.runtime.clone();
        for c in status
            .containers
            .iter()
            .filter(|c| c.state != ContainerState::Running)
        {
            if let Err(status) = rt
                .remove_container(pb::RemoveContainerRequest {
                    container_id: c.id.clone(),
                })
                .await
            {
                tracing::warn!(container_id = %c.id, %status, "RemoveContainer failed");
            }
        }
        for s in status.sandboxes.iter().filter(|s| !s.ready) {
            if let Err(status) = rt
                .remove_pod_sandbox(pb::RemovePodSandboxRequest {
                    pod_sandbox_id: s.id.clone(),
                })
                .await
            {
                tracing::warn!(sandbox = %s.id, %status, "RemovePodSandbox failed");
            }
        }
    }

    /// Removes exited instances beyond the newest `keep` per container name (the
    /// per-pod part of container GC, run on each pod sync; the node-wide part is
    /// [`RuntimeManager::garbage_collect_containers`]).
    pub async fn prune_containers(&self, status: &RuntimePodStatus, keep: usize) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut rt = self.runtime.runtime.clone();
        for c in &status.containers {
            let count = seen.entry(c.name.as_str()).or_default();
            *count += 1;
            if *count > keep + 1 && c.state == ContainerState::Exited {
                let _ = rt
                    .remove_container(pb::RemoveContainerRequest {
                        container_id: c.id.clone(),
                    })
                    .await;
            }
        }
    }
}

/// Returns the pod's grace period in seconds: the deletion's, else the spec's,
/// else 30.
pub fn grace_period(pod: &Pod) -> i64 {
    pod.metadata
        .deletion_grace_period_seconds
        .or_else(|| {
            pod.spec
                .as_ref()
                .and_then(|s| s.termination_grace_period_seconds)
        })
        .unwrap_or(30)
}
