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
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
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

/// The latest result of one probe: which container instance it is about,
/// whether it succeeded, and whether it failed its failure threshold. A startup
/// probe that has not succeeded yet is neither: only `failed` restarts a container.
#[derive(Clone, Debug)]
struct Outcome {
    container_id: String,
    success: bool,
    failed: bool,
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
            .filter(|(key, o)| key.0 == uid && key.2 != Kind::Readiness && o.failed)
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
                    self.record(&id, false, kind != Kind::Readiness);
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
        self.record(container_id, success, false);
    }

    /// Stores a result; `failed` marks a liveness or startup probe that reached its
    /// failure threshold, which restarts the container.
    fn record(&self, container_id: &str, success: bool, failed: bool) {
        let mut results = self.results.lock().unwrap_or_else(|e| e.into_inner());
        let changed = results.get(&self.key).is_none_or(|o| {
            o.container_id != container_id || o.success != success || o.failed != failed
        });
        results.insert(
            self.key.clone(),
            Outcome {
                container_id: container_id.to_string(),
                success,
                failed,
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
        let https = http.scheme.as_deref() == Some("HTTPS");
        let code = http_get(&host, port, &path, &headers, https, timeout).await?;
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

/// An HTTP/1.1 GET, over TLS when `https` is set; returns the status code.
///
/// Like upstream's prober, HTTPS probes do not verify the server's certificate:
/// a probe checks liveness, not identity.
///
/// # Errors
///
/// A message for connection failures, TLS handshake failures, timeouts and
/// malformed responses.
pub async fn http_get(
    host: &str,
    port: u16,
    path: &str,
    headers: &[(String, String)],
    https: bool,
    timeout: Duration,
) -> Result<u16, String> {
    let request = async {
        let stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| e.to_string())?;
        let mut text = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe/1.33\r\nAccept: */*\r\nConnection: close\r\n"
        );
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        if https {
            let name = rustls::pki_types::ServerName::try_from(host.to_string())
                .map_err(|e| format!("invalid probe host {host:?}: {e}"))?;
            let tls = tokio_rustls::TlsConnector::from(insecure_tls_config()?)
                .connect(name, stream)
                .await
                .map_err(|e| e.to_string())?;
            read_status(tls, text.as_bytes()).await
        } else {
            read_status(stream, text.as_bytes()).await
        }
    };
    tokio::time::timeout(timeout, request)
        .await
        .map_err(|_| "timeout".to_string())?
}

/// Writes `request` and parses the status code from the response's first line.
async fn read_status<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &[u8],
) -> Result<u16, String> {
    stream.write_all(request).await.map_err(|e| e.to_string())?;
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
}

fn insecure_tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Accepts every server certificate but still checks the handshake signatures.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(manager: &ProberManager, kind: Kind) -> Worker {
        Worker {
            key: ("uid".to_string(), "main".to_string(), kind),
            probe: Probe::default(),
            pod: Pod::default(),
            has_startup: true,
            runtime: manager.runtime.clone(),
            statuses: manager.statuses.clone(),
            results: manager.results.clone(),
            notify: manager.notify.clone(),
            cancel: manager.cancel.clone(),
            events: manager.events.clone(),
        }
    }

    #[tokio::test]
    async fn failed_threshold_alone_restarts_container() {
        let runtime =
            crate::remote::connect("unix:///nonexistent/cri.sock", Duration::from_secs(1))
                .expect("lazy connect");
        let (tx, _rx) = mpsc::unbounded_channel();
        let (_cancel_tx, cancel) = watch::channel(false);
        let events = crate::events::Recorder::new(None, "node".to_string(), cancel.clone());
        let manager = ProberManager::new(
            runtime,
            Arc::new(StatusManager::new(None)),
            tx,
            cancel,
            events,
        );
        let startup = worker(&manager, Kind::Startup);

        // A new instance: not started yet, which is no reason to restart it.
        startup.set("c1", false);
        assert!(!manager.is_started("uid", "main", "c1", true));
        assert!(!manager.failures("uid").should_restart("c1"));

        startup.record("c1", false, true);
        assert!(manager.failures("uid").should_restart("c1"));

        let readiness = worker(&manager, Kind::Readiness);
        readiness.set("c2", false);
        startup.set("c2", true);
        assert!(!manager.failures("uid").should_restart("c2"));
    }

    #[tokio::test]
    async fn https_probe_speaks_tls_without_verifying() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    let mut buffer = [0u8; 1024];
                    let _ = tls.read(&mut buffer).await;
                    let _ = tls
                        .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    let _ = tls.shutdown().await;
                }
            }
        });

        let timeout = Duration::from_secs(5);
        assert_eq!(
            http_get("127.0.0.1", port, "/livez", &[], true, timeout).await,
            Ok(204)
        );
        // Plain HTTP to a TLS port is no success.
        assert!(
            http_get("127.0.0.1", port, "/livez", &[], false, timeout)
                .await
                .is_err()
        );
    }
}
