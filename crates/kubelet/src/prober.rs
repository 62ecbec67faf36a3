//! The prober manager: one task per (pod, container, probe kind) that runs
//! liveness, readiness and startup probes (exec through CRI ExecSync, httpGet,
//! tcpSocket) with their delays, periods, timeouts and thresholds.
//!
//! [`ProberManager::add_pod`] starts the tasks of a pod and
//! [`ProberManager::remove_pod`] stops them. The pod workers read liveness and
//! startup failures through [`ProberManager::failures`], and status generation reads
//! [`ProberManager::is_ready`] and [`ProberManager::is_started`]. A changed result
//! sends the pod's UID on the channel given to [`ProberManager::new`].
//!
//! NOTE: gRPC probes are not run. They count as successful.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cri::v1 as pb;
use k8s_openapi::api::core::v1::{Pod, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::kuberuntime::{actions::ProbeFailures, pod_uid};
use crate::remote::RemoteRuntime;
use crate::status::StatusManager;

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Kind {
    Liveness,
    Readiness,
    Startup,
}

type Key = (String, String, Kind);

/// The latest result of one probe: which container instance it is about and
/// whether it succeeded.
#[derive(Clone, Debug)]
struct Outcome {
    container_id: String,
    success: bool,
}

pub struct ProberManager {
    runtime: RemoteRuntime,
    statuses: Arc<StatusManager>,
    results: Arc<Mutex<HashMap<Key, Outcome>>>,
    workers: Mutex<HashMap<Key, JoinHandle<()>>>,
    notify: mpsc::UnboundedSender<String>,
    cancel: watch::Receiver<bool>,
    events: crate::events::Recorder,
}

impl ProberManager {
    /// `notify` receives a pod UID whenever one of its probe results changes.
    pub fn new(
        runtime: RemoteRuntime,
        statuses: Arc<StatusManager>,
        notify: mpsc::UnboundedSender<String>,
        cancel: watch::Receiver<bool>,
        events: crate::events::Recorder,
    ) -> Self {
        Self {
            events,
            runtime,
            statuses,
            results: Arc::default(),
            workers: Mutex::default(),
            notify,
            cancel,
        }
    }

    fn lock_results(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Outcome>> {
        self.results.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts probe tasks for the containers of `pod` that have probes and no task yet.
    pub fn add_pod(&self, pod: &Pod) {
        let uid = pod_uid(pod).to_string();
        let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        for container in pod.spec.iter().flat_map(|s| s.containers.iter()) {
            let has_startup = container.startup_probe.is_some();
            for (kind, probe) in [
                (Kind::Liveness, &container.liveness_probe),
                (Kind::Readiness, &container.readiness_probe),
                (Kind::Startup, &container.startup_probe),
            ] {
                let Some(probe) = probe.clone() else { continue };
                let key = (uid.clone(), container.name.clone(), kind);
                if workers.contains_key(&key) {
                    continue;
                }
                let worker = Worker {
                    key: key.clone(),
                    probe,
                    pod: pod.clone(),
                    has_startup,
                    runtime: self.runtime.clone(),
                    statuses: self.statuses.clone(),
                    results: self.results.clone(),
                    notify: self.notify.clone(),
                    cancel: self.cancel.clone(),
                    events: self.events.clone(),
                };
                workers.insert(key, tokio::spawn(worker.run()));
            }
        }
    }

    /// Stops the probe tasks of the pod and drops its results.
    pub fn remove_pod(&self, uid: &str) {
        let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        workers.retain(|key, handle| {
            if key.0 == uid {
                handle.abort();
                false
            } else {
                true
            }
        });
        self.lock_results().retain(|key, _| key.0 != uid);
    }

    /// Returns the readiness of a running container: its readiness result, or true
    /// without a probe.
    pub fn is_ready(
        &self,
        uid: &str,
        container: &str,
        container_id: &str,
        has_probe: bool,
    ) -> bool {
        if !has_probe {
            return true;
        }
        self.lock_results()
            .get(&(uid.to_string(), container.to_string(), Kind::Readiness))
            .is_some_and(|o| o.container_id == container_id && o.success)
    }

    /// Returns whether a running container has started: its startup result, or true
    /// without a startup probe.
    pub fn is_started(
        &self,
        uid: &str,
        container: &str,
        container_id: &str,
        has_probe: bool,
    ) -> bool {
        if !has_probe {
            return true;
        }
        self.lock_results()
            .get(&(uid.to_string(), container.to_string(), Kind::Startup))
            .is_some_and(|o| o.container_id == container_id && o.success)
    }

    /// Collects the [`ProbeFailures`] of one pod.
    pub fn failures(&self, uid: &str) -> PodProbeFailures {
        let failed = self
            .lock_results()
            .iter()
            .filter(|(key, o)| key.0 == uid && key.2 != Kind::Readiness && !o.success)
            .map(|(_, o)| o.container_id.clone())
            .collect();
        PodProbeFailures { failed }
    }
}

/// Container IDs that failed a liveness or startup probe.
pub struct PodProbeFailures {
    failed: Vec<String>,
}

impl ProbeFailures for PodProbeFailures {
    fn should_restart(&self, container_id: &str) -> bool {
        self.failed.iter().any(|id| id == container_id)
    }
}

struct Worker {
    key: Key,
    probe: Probe,
    pod: Pod,
    has_startup: bool,
    runtime: RemoteRuntime,
    statuses: Arc<StatusManager>,
    results: Arc<Mutex<HashMap<Key, Outcome>>>,
    notify: mpsc::UnboundedSender<String>,
    cancel: watch::Receiver<bool>,
    events: crate::events::Recorder,
}

impl Worker {
    async fn run(mut self) {
        let (uid, name, kind) = self.key.clone();
        let period = Duration::from_secs(self.probe.period_seconds.unwrap_or(10).max(1) as u64);
        let success_threshold = self.probe.success_threshold.unwrap_or(1).max(1);
        let failure_threshold = self.probe.failure_threshold.unwrap_or(3).max(1);
        let initial_delay = self.probe.initial_delay_seconds.unwrap_or(0).max(0);
        let mut container_id = String::new();
        let mut successes = 0;
        let mut failures = 0;
        let mut on_hold = false;
        // Start within a second so results show up soon after the container starts.
        let mut wait = Duration::from_millis(rand::random::<u64>() % 1000);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = crate::cancelled(&mut self.cancel) => return,
            }
            wait = period;
            let Some(status) = self.statuses.cached_status(&uid) else {
                wait = Duration::from_secs(1);
                continue;
            };
            let running = status
                .container_statuses
                .iter()
                .flatten()
                .find(|c| c.name == name)
                .filter(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()))
                .cloned();
            let Some(running) = running else {
                wait = Duration::from_secs(1);
                continue;
            };
            let id = running.container_id.clone().unwrap_or_default();
            let id = id.split("://").nth(1).unwrap_or(&id).to_string();
            if id != container_id {
                container_id = id.clone();
                successes = 0;
                failures = 0;
                on_hold = false;
                // A new instance starts not ready, live and not started.
                self.set(&id, kind == Kind::Liveness);
            }
            if on_hold {
                continue;
            }
            if kind != Kind::Startup && self.has_startup && !running.started.unwrap_or(false) {
                wait = Duration::from_secs(1);
                continue;
            }
            let started_at = running
                .state
                .as_ref()
                .and_then(|s| s.running.as_ref())
                .and_then(|r| r.started_at.as_ref())
                .map(|t| t.0.as_second())
                .unwrap_or(0);
            let now = crate::now().as_second();
            if now - started_at < i64::from(initial_delay) {
                wait = Duration::from_secs(1);
                continue;
            }
            let pod_ip = status.pod_ip.clone().unwrap_or_default();
            let outcome = run_probe(&self.runtime, &self.probe, &self.pod, &id, &pod_ip).await;
            if let Err(message) = &outcome {
                let kind_name = match kind {
                    Kind::Liveness => "Liveness",
                    Kind::Readiness => "Readiness",
                    Kind::Startup => "Startup",
                };
                self.events.warning(
                    &self.pod,
                    crate::events::container_field(&self.pod, &name),
                    "Unhealthy",
                    format!("{kind_name} probe failed: {message}"),
                );
                tracing::debug!(pod = %crate::kuberuntime::pod_full_name(&self.pod), container = %name, ?kind, %message, "probe failed");
            }
            if outcome.is_ok() {
                successes += 1;
                failures = 0;
                if successes >= success_threshold {
                    self.set(&id, true);
                }
            } else {
                failures += 1;
                successes = 0;
                if failures >= failure_threshold {
                    self.set(&id, false);
                    if kind != Kind::Readiness {
                        // Wait for the restarted instance.
                        on_hold = true;
                        tracing::info!(pod = %crate::kuberuntime::pod_full_name(&self.pod), container = %name, ?kind, "probe failed, container will be restarted");
                    }
                }
            }
            if kind == Kind::Startup
                && self
                    .results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&self.key)
                    .is_some_and(|o| o.success)
            {
                // A startup probe stops once it succeeded for this instance.
                on_hold = true;
            }
        }
    }

    fn set(&self, container_id: &str, success: bool) {
        let mut results = self.results.lock().unwrap_or_else(|e| e.into_inner());
        let changed = results
            .get(&self.key)
            .is_none_or(|o| o.container_id != container_id || o.success != success);
        results.insert(
            self.key.clone(),
            Outcome {
                container_id: container_id.to_string(),
                success,
            },
        );
        drop(results);
        if changed {
            let _ = self.notify.send(self.key.0.clone());
        }
    }
}

async fn run_probe(
    runtime: &RemoteRuntime,
    probe: &Probe,
    pod: &Pod,
    container_id: &str,
    pod_ip: &str,
) -> Result<(), String> {
    let timeout = Duration::from_secs(probe.timeout_seconds.unwrap_or(1).max(1) as u64);
    if let Some(exec) = &probe.exec {
        let mut rt = runtime.runtime.clone();
        let response = rt
            .exec_sync(pb::ExecSyncRequest {
                container_id: container_id.to_string(),
                cmd: exec.command.clone().unwrap_or_default(),
                timeout: timeout.as_secs() as i64,
            })
            .await
            .map_err(|s| s.message().to_string())?
            .into_inner();
        return if response.exit_code == 0 {
            Ok(())
        } else {
            Err(format!("exit code {}", response.exit_code))
        };
    }
    if let Some(http) = &probe.http_get {
        let host = http
            .host
            .clone()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| pod_ip.to_string());
        let port = resolve_port(&http.port, pod, None)?;
        let path = http.path.clone().unwrap_or_else(|| "/".to_string());
        let headers: Vec<(String, String)> = http
            .http_headers
            .iter()
            .flatten()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect();
        let code = http_get(&host, port, &path, &headers, timeout).await?;
        return if (200..400).contains(&code) {
            Ok(())
        } else {
            Err(format!("HTTP probe failed with statuscode: {code}"))
        };
    }
    if let Some(tcp) = &probe.tcp_socket {
        let host = tcp
            .host
            .clone()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| pod_ip.to_string());
        let port = resolve_port(&tcp.port, pod, None)?;
        return match tokio::time::timeout(
            timeout,
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timeout".to_string()),
        };
    }
    Ok(())
}

/// Resolves a numeric or named port against the pod's container ports.
///
/// # Errors
///
/// A message when a named port is not declared or the number is out of range.
pub fn resolve_port(port: &IntOrString, pod: &Pod, container: Option<&str>) -> Result<u16, String> {
    match port {
        IntOrString::Int(p) => u16::try_from(*p).map_err(|_| format!("invalid port {p}")),
        IntOrString::String(name) => {
            if let Ok(p) = name.parse::<u16>() {
                return Ok(p);
            }
            pod.spec
                .iter()
                .flat_map(|s| s.containers.iter())
                .filter(|c| container.is_none_or(|n| c.name == n))
                .flat_map(|c| c.ports.iter().flatten())
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .and_then(|p| u16::try_from(p.container_port).ok())
                .ok_or_else(|| format!("port {name:?} not found"))
        }
    }
}

/// A plain HTTP/1.1 GET; returns the status code.
///
/// # Errors
///
/// A message for connection failures, timeouts and malformed responses.
pub async fn http_get(
    host: &str,
    port: u16,
    path: &str,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<u16, String> {
    let request = async {
        let mut stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| e.to_string())?;
        let mut text = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe/1.33\r\nAccept: */*\r\nConnection: close\r\n"
        );
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        stream
            .write_all(text.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut buffer = vec![0u8; 1024];
        let mut read = 0;
        while read < 16 {
            let n = stream
                .read(&mut buffer[read..])
                .await
                .map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            read += n;
        }
        let head = String::from_utf8_lossy(&buffer[..read]);
        head.split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| format!("malformed HTTP response {head:?}"))
    };
    tokio::time::timeout(timeout, request)
        .await
        .map_err(|_| "timeout".to_string())?
}
