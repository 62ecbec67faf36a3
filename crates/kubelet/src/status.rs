//! The status manager. [`generate_pod_status`] builds the API status of a pod from
//! the runtime's view of it. [`StatusManager`] caches that status, patches changes
//! to `pods/status` in the background ([`StatusManager::run`]) and issues the final
//! deletion of terminated pods.
//!
//! Static pods report through their mirror pod, which has the same name and
//! namespace.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use client::rest::RestClient;
use k8s_openapi::api::core::v1::{
    Container, ContainerState as ApiState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::api;
use crate::kuberuntime::actions::{
    ephemeral_as_container, ephemeral_containers, init_containers, restart_policy,
};
use crate::kuberuntime::{ContainerInfo, ContainerState, RuntimePodStatus, SyncResult};

/// Readiness and startup results, as the prober manager keeps them.
pub trait ProbeResults: Send + Sync {
    fn is_ready(&self, uid: &str, container: &str, container_id: &str, has_probe: bool) -> bool;
    fn is_started(&self, uid: &str, container: &str, container_id: &str, has_probe: bool) -> bool;
}

impl ProbeResults for crate::prober::ProberManager {
    fn is_ready(&self, uid: &str, container: &str, container_id: &str, has_probe: bool) -> bool {
        crate::prober::ProberManager::is_ready(self, uid, container, container_id, has_probe)
    }
    fn is_started(&self, uid: &str, container: &str, container_id: &str, has_probe: bool) -> bool {
        crate::prober::ProberManager::is_started(self, uid, container, container_id, has_probe)
    }
}

fn time(nanos: i64) -> Option<Time> {
    (nanos > 0)
        .then(|| Timestamp::from_nanosecond(i128::from(nanos)).ok().map(Time))
        .flatten()
}

/// Inputs of [`generate_pod_status`] besides the pod and the runtime's view.
pub struct StatusInputs<'a> {
    pub runtime_name: &'a str,
    pub host_ip: &'a str,
    pub sync: &'a SyncResult,
    pub probes: &'a dyn ProbeResults,
    pub previous: Option<&'a PodStatus>,
    pub now: Time,
}

fn termination_message(info: &ContainerInfo) -> Option<String> {
    let from_file = info
        .termination_message_file
        .as_ref()
        .and_then(|f| std::fs::read(f).ok())
        .map(|mut b| {
            b.truncate(4096);
            String::from_utf8_lossy(&b).into_owned()
        })
        .filter(|s| !s.is_empty());
    if from_file.is_some() {
        return from_file;
    }
    if info.termination_message_policy == "FallbackToLogsOnError" && info.exit_code != 0 {
        let text = std::fs::read_to_string(&info.log_path).ok()?;
        let lines: Vec<String> = text
            .lines()
            .filter_map(|l| crate::server::parse_cri_log_line(l).map(|p| p.content.to_string()))
            .collect();
        let start = lines.len().saturating_sub(80);
        let mut message = lines[start..].join("\n");
        message.truncate(2048);
        return Some(message);
    }
    None
}

fn terminated(info: &ContainerInfo, runtime_name: &str) -> ApiState {
    let reason = if !info.reason.is_empty() {
        info.reason.clone()
    } else if info.exit_code == 0 {
        "Completed".to_string()
    } else {
        "Error".to_string()
    };
    ApiState {
        terminated: Some(ContainerStateTerminated {
            exit_code: info.exit_code,
            reason: Some(reason),
            message: termination_message(info)
                .or_else(|| (!info.message.is_empty()).then(|| info.message.clone())),
            started_at: time(info.started_at),
            finished_at: time(info.finished_at),
            container_id: Some(format!("{runtime_name}://{}", info.id)),
            signal: None,
        }),
        ..Default::default()
    }
}

fn waiting(reason: &str, message: Option<String>) -> ApiState {
    ApiState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_string()),
            message,
        }),
        ..Default::default()
    }
}

fn container_status(
    uid: &str,
    spec: &Container,
    rt: &RuntimePodStatus,
    inputs: &StatusInputs<'_>,
    default_waiting: &str,
) -> ContainerStatus {
    let mut instances = rt.instances(&spec.name);
    let latest = instances.next();
    let previous = instances.find(|c| c.state == ContainerState::Exited);
    let mut status = ContainerStatus {
        name: spec.name.clone(),
        image: spec.image.clone().unwrap_or_default(),
        ready: false,
        started: Some(false),
        ..Default::default()
    };
    let error = inputs.sync.errors.get(&spec.name);
    let Some(latest) = latest else {
        status.state = Some(match error {
            Some(e) => waiting(&e.reason, Some(e.message.clone())),
            None => waiting(default_waiting, None),
        });
        return status;
    };
    status.container_id = Some(format!("{}://{}", inputs.runtime_name, latest.id));
    status.image_id = latest.image_ref.clone();
    status.restart_count = latest.restart_count;
    status.last_state = previous.map(|p| terminated(p, inputs.runtime_name));
    status.state = Some(match latest.state {
        ContainerState::Running => {
            let started =
                inputs
                    .probes
                    .is_started(uid, &spec.name, &latest.id, spec.startup_probe.is_some());
            status.started = Some(started);
            status.ready = started
                && inputs.probes.is_ready(
                    uid,
                    &spec.name,
                    &latest.id,
                    spec.readiness_probe.is_some(),
                );
            ApiState {
                running: Some(ContainerStateRunning {
                    started_at: time(latest.started_at),
                }),
                ..Default::default()
            }
        }
        ContainerState::Exited => match error {
            Some(e) => {
                status.last_state = Some(terminated(latest, inputs.runtime_name));
                waiting(&e.reason, Some(e.message.clone()))
            }
            None => terminated(latest, inputs.runtime_name),
        },
        ContainerState::Created | ContainerState::Unknown => waiting("ContainerCreating", None),
    });
    status
}

/// Computes the pod phase from its container statuses (upstream's getPhase).
pub fn pod_phase(pod: &Pod, init: &[ContainerStatus], apps: &[ContainerStatus]) -> &'static str {
    let policy = restart_policy(pod);
    let mut pending_init = 0;
    let mut failed_init = 0;
    for s in init {
        match s.state.as_ref() {
            Some(ApiState {
                terminated: Some(t),
                ..
            }) if t.exit_code == 0 => {}
            Some(ApiState {
                terminated: Some(_),
                ..
            }) => {
                pending_init += 1;
                failed_init += 1;
            }
            Some(ApiState {
                waiting: Some(_), ..
            }) if s
                .last_state
                .as_ref()
                .is_some_and(|l| l.terminated.as_ref().is_some_and(|t| t.exit_code != 0)) =>
            {
                pending_init += 1;
                failed_init += 1;
            }
            _ => pending_init += 1,
        }
    }
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for s in apps {
        match s.state.as_ref() {
            Some(ApiState {
                running: Some(_), ..
            }) => running += 1,
            Some(ApiState {
                terminated: Some(t),
                ..
            }) => {
                stopped += 1;
                if t.exit_code == 0 {
                    succeeded += 1;
                }
            }
            Some(ApiState {
                waiting: Some(_), ..
            }) => {
                if s.last_state
                    .as_ref()
                    .is_some_and(|l| l.terminated.is_some())
                {
                    stopped += 1;
                } else {
                    waiting += 1;
                }
            }
            _ => waiting += 1,
        }
    }
    if failed_init > 0 && policy == "Never" {
        return "Failed";
    }
    if running == 0 && pending_init > 0 {
        return "Pending";
    }
    if waiting > 0 {
        return "Pending";
    }
    if running > 0 {
        return "Running";
    }
    if stopped > 0 {
        return match policy {
            "Always" => "Running",
            "OnFailure" if stopped == succeeded => "Succeeded",
            "OnFailure" => "Running",
            _ if stopped == succeeded => "Succeeded",
            _ => "Failed",
        };
    }
    "Pending"
}

/// Builds the API status of `pod`.
pub fn generate_pod_status(
    pod: &Pod,
    rt: &RuntimePodStatus,
    inputs: &StatusInputs<'_>,
) -> PodStatus {
    let uid = crate::kuberuntime::pod_uid(pod);
    let spec = pod.spec.clone().unwrap_or_default();
    let init_statuses: Vec<ContainerStatus> = init_containers(pod)
        .iter()
        .map(|c| container_status(uid, c, rt, inputs, "PodInitializing"))
        .collect();
    let init_done = init_statuses.iter().all(|s| {
        s.state
            .as_ref()
            .and_then(|st| st.terminated.as_ref())
            .is_some_and(|t| t.exit_code == 0)
    });
    let app_waiting = if init_done {
        "ContainerCreating"
    } else {
        "PodInitializing"
    };
    let app_statuses: Vec<ContainerStatus> = spec
        .containers
        .iter()
        .map(|c| container_status(uid, c, rt, inputs, app_waiting))
        .collect();
    // As upstream, an ephemeral container waits as PodInitializing in a pod with init
    // containers, and is never ready.
    let ephemeral_waiting = if init_containers(pod).is_empty() {
        "ContainerCreating"
    } else {
        "PodInitializing"
    };
    let ephemeral_statuses: Vec<ContainerStatus> = ephemeral_containers(pod)
        .iter()
        .map(|ephemeral| {
            let container = ephemeral_as_container(ephemeral);
            ContainerStatus {
                ready: false,
                ..container_status(uid, &container, rt, inputs, ephemeral_waiting)
            }
        })
        .collect();
    let phase = pod_phase(pod, &init_statuses, &app_statuses);
    // Init containers that ran once and were pruned count as done once apps run.
    let initialized = init_done || app_statuses.iter().any(|s| s.container_id.is_some());

    let previous = inputs.previous;
    let condition = |type_: &str, ok: bool, reason: Option<&str>, message: Option<String>| {
        let status = if ok { "True" } else { "False" }.to_string();
        let old = previous
            .and_then(|p| p.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == type_));
        let transition = match old {
            Some(old) if old.status == status => old.last_transition_time.clone(),
            _ => Some(inputs.now.clone()),
        };
        PodCondition {
            type_: type_.to_string(),
            status,
            reason: reason.map(str::to_string),
            message,
            last_transition_time: transition,
            last_probe_time: None,
            observed_generation: None,
        }
    };
    let unready: Vec<&str> = app_statuses
        .iter()
        .filter(|s| !s.ready)
        .map(|s| s.name.as_str())
        .collect();
    let incomplete: Vec<&str> = init_statuses
        .iter()
        .filter(|s| {
            s.state
                .as_ref()
                .and_then(|st| st.terminated.as_ref())
                .is_none_or(|t| t.exit_code != 0)
        })
        .map(|s| s.name.as_str())
        .collect();
    let sandbox_ready = rt.sandboxes.first().is_some_and(|s| s.ready)
        && (spec.host_network.unwrap_or(false) || !rt.pod_ips().is_empty());
    let terminal = phase == "Succeeded" || phase == "Failed";
    let containers_ready = unready.is_empty() && !terminal;
    let gates_ok = spec.readiness_gates.iter().flatten().all(|gate| {
        pod.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == gate.condition_type && c.status == "True")
            })
    });
    let (ready_reason, ready_message) = if terminal {
        (Some("PodCompleted"), None)
    } else if !containers_ready {
        (
            Some("ContainersNotReady"),
            Some(format!(
                "containers with unready status: [{}]",
                unready.join(" ")
            )),
        )
    } else if !gates_ok {
        (
            Some("ReadinessGatesNotReady"),
            Some("the status of pod readiness gate is not \"True\"".to_string()),
        )
    } else {
        (None, None)
    };
    let conditions = vec![
        condition("PodReadyToStartContainers", sandbox_ready, None, None),
        condition(
            "Initialized",
            initialized,
            (!initialized).then_some("ContainersNotInitialized"),
            (!initialized).then(|| {
                format!(
                    "containers with incomplete status: [{}]",
                    incomplete.join(" ")
                )
            }),
        ),
        condition(
            "Ready",
            containers_ready && gates_ok,
            ready_reason,
            ready_message.clone(),
        ),
        condition(
            "ContainersReady",
            containers_ready,
            if terminal {
                Some("PodCompleted")
            } else {
                (!containers_ready).then_some("ContainersNotReady")
            },
            (!containers_ready && !terminal)
                .then(|| format!("containers with unready status: [{}]", unready.join(" "))),
        ),
        condition("PodScheduled", true, None, None),
    ];

    let mut ips = rt.pod_ips();
    if ips.is_empty()
        && let Some(old) = previous
    {
        ips = old.pod_ips.iter().flatten().map(|p| p.ip.clone()).collect();
    }
    let host_ip = (!inputs.host_ip.is_empty()).then(|| inputs.host_ip.to_string());
    PodStatus {
        phase: Some(phase.to_string()),
        conditions: Some(conditions),
        host_ip: host_ip.clone(),
        host_ips: host_ip.map(|ip| vec![HostIP { ip }]),
        pod_ip: ips.first().cloned(),
        pod_ips: (!ips.is_empty()).then(|| ips.into_iter().map(|ip| PodIP { ip }).collect()),
        start_time: previous
            .and_then(|p| p.start_time.clone())
            .or_else(|| Some(inputs.now.clone())),
        init_container_statuses: (!init_statuses.is_empty()).then_some(init_statuses),
        container_statuses: Some(app_statuses),
        ephemeral_container_statuses: (!ephemeral_statuses.is_empty())
            .then_some(ephemeral_statuses),
        qos_class: Some(crate::kuberuntime::sandbox::qos_class(pod).to_string()),
        ..Default::default()
    }
}

/// The cached status of one pod and where it is reported.
#[derive(Clone)]
struct Entry {
    namespace: String,
    name: String,
    /// The UID to require when patching; `None` for static pods.
    uid_precondition: Option<String>,
    status: PodStatus,
    /// The status last patched successfully.
    sent: Option<PodStatus>,
}

/// Caches pod statuses and patches changes to the API server.
pub struct StatusManager {
    client: Option<RestClient>,
    entries: Mutex<HashMap<String, Entry>>,
    notify: mpsc::UnboundedSender<()>,
    wakeup: Mutex<Option<mpsc::UnboundedReceiver<()>>>,
}

impl StatusManager {
    pub fn new(client: Option<RestClient>) -> Self {
        let (notify, wakeup) = mpsc::unbounded_channel();
        Self {
            client,
            entries: Mutex::default(),
            notify,
            wakeup: Mutex::new(Some(wakeup)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Returns the last status set for the pod with this UID.
    pub fn cached_status(&self, uid: &str) -> Option<PodStatus> {
        self.lock().get(uid).map(|e| e.status.clone())
    }

    /// Records the status of `pod`; a change is patched by [`StatusManager::run`].
    /// `is_static` reports through the mirror pod, without a UID precondition.
    pub fn set_pod_status(&self, pod: &Pod, status: PodStatus, is_static: bool) {
        let uid = crate::kuberuntime::pod_uid(pod).to_string();
        let mut entries = self.lock();
        let entry = entries.entry(uid.clone()).or_insert_with(|| Entry {
            namespace: pod
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".to_string()),
            name: pod.metadata.name.clone().unwrap_or_default(),
            uid_precondition: (!is_static).then_some(uid),
            status: status.clone(),
            sent: None,
        });
        entry.status = status;
        drop(entries);
        let _ = self.notify.send(());
    }

    /// Patches the pod's cached status again even if it was sent before, such as
    /// to a mirror pod that was deleted and created anew.
    pub fn resend(&self, uid: &str) {
        if let Some(entry) = self.lock().get_mut(uid) {
            entry.sent = None;
        }
        let _ = self.notify.send(());
    }

    /// Forgets a pod.
    pub fn remove(&self, uid: &str) {
        self.lock().remove(uid);
    }

    /// Deletes the API object of a terminated pod with grace period 0, guarded by
    /// its UID. A 404 counts as done.
    ///
    /// # Errors
    ///
    /// The client error of the request.
    pub async fn delete_pod(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
    ) -> Result<(), client::rest::ClientError> {
        let Some(client) = &self.client else {
            return Ok(());
        };
        self.sync_one(uid).await;
        let body = json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0, "preconditions": {"uid": uid}});
        api::delete(client, &api::pod_path(namespace, name), &body).await?;
        tracing::info!(pod = %format!("{namespace}/{name}"), "pod deleted from the API server");
        Ok(())
    }

    /// Patches every changed status, on each change and every 10 s, until cancelled.
    pub async fn run(&self, mut cancel: watch::Receiver<bool>) {
        let Some(mut wakeup) = self.wakeup.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        loop {
            let uids: Vec<String> = self.lock().keys().cloned().collect();
            for uid in uids {
                self.sync_one(&uid).await;
            }
            tokio::select! {
                _ = wakeup.recv() => {}
                _ = tokio::time::sleep(Duration::from_secs(10)) => {}
                _ = crate::cancelled(&mut cancel) => return,
            }
            while wakeup.try_recv().is_ok() {}
        }
    }

    async fn sync_one(&self, uid: &str) {
        let Some(client) = &self.client else { return };
        let Some(entry) = self.lock().get(uid).cloned() else {
            return;
        };
        if entry.sent.as_ref() == Some(&entry.status) {
            return;
        }
        let mut status = serde_json::to_value(&entry.status).unwrap_or(Value::Null);
        // A merge patch leaves absent fields alone; clear them explicitly.
        if let Value::Object(map) = &mut status {
            for key in [
                "podIP",
                "podIPs",
                "reason",
                "message",
                "initContainerStatuses",
                "hostIP",
                "hostIPs",
            ] {
                map.entry(key).or_insert(Value::Null);
            }
        }
        let mut patch = json!({ "status": status });
        if let Some(uid) = &entry.uid_precondition {
            patch["metadata"] = json!({ "uid": uid });
        }
        let path = format!("{}/status", api::pod_path(&entry.namespace, &entry.name));
        match api::merge_patch::<Value>(client, &path, &patch).await {
            Ok(_) => {
                if let Some(e) = self.lock().get_mut(uid) {
                    e.sent = Some(entry.status.clone());
                }
                tracing::debug!(pod = %format!("{}/{}", entry.namespace, entry.name), phase = ?entry.status.phase, "patched pod status");
            }
            Err(error) if api::is_not_found(&error) => {
                tracing::debug!(pod = %format!("{}/{}", entry.namespace, entry.name), "pod not found while patching status");
            }
            Err(error) => {
                tracing::warn!(pod = %format!("{}/{}", entry.namespace, entry.name), %error, "failed to patch pod status");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{Container, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;
    use crate::kuberuntime::{SandboxInfo, SyncError};

    struct AllReady;
    impl ProbeResults for AllReady {
        fn is_ready(&self, _: &str, _: &str, _: &str, _: bool) -> bool {
            true
        }
        fn is_started(&self, _: &str, _: &str, _: &str, _: bool) -> bool {
            true
        }
    }

    fn pod(policy: &str, inits: &[&str], apps: &[&str]) -> Pod {
        let c = |n: &&str| Container {
            name: n.to_string(),
            image: Some("busybox".into()),
            ..Default::default()
        };
        Pod {
            metadata: ObjectMeta {
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                restart_policy: Some(policy.into()),
                init_containers: (!inits.is_empty()).then(|| inits.iter().map(c).collect()),
                containers: apps.iter().map(c).collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn info(
        name: &str,
        state: ContainerState,
        exit: i32,
        created: i64,
        restarts: i32,
    ) -> ContainerInfo {
        ContainerInfo {
            id: format!("{name}-{created}"),
            name: name.into(),
            state,
            exit_code: exit,
            created_at: created,
            started_at: created,
            finished_at: if state == ContainerState::Exited {
                created + 1
            } else {
                0
            },
            restart_count: restarts,
            image_ref: "sha256:abc".into(),
            ..Default::default()
        }
    }

    fn runtime(containers: Vec<ContainerInfo>) -> RuntimePodStatus {
        RuntimePodStatus {
            sandboxes: vec![SandboxInfo {
                id: "s".into(),
                ready: true,
                ip: "10.1.0.5".into(),
                ..Default::default()
            }],
            containers,
        }
    }

    fn generate(pod: &Pod, rt: &RuntimePodStatus, sync: &SyncResult) -> PodStatus {
        generate_pod_status(
            pod,
            rt,
            &StatusInputs {
                runtime_name: "containerd",
                host_ip: "192.0.2.1",
                sync,
                probes: &AllReady,
                previous: None,
                now: Time(crate::now()),
            },
        )
    }

    fn condition<'a>(status: &'a PodStatus, type_: &str) -> &'a PodCondition {
        status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == type_)
            .unwrap()
    }

    #[test]
    fn running_pod_is_ready() {
        use ContainerState::*;
        let pod = pod("Always", &[], &["a"]);
        let status = generate(
            &pod,
            &runtime(vec![info("a", Running, 0, 5, 0)]),
            &SyncResult::default(),
        );
        assert_eq!(status.phase.as_deref(), Some("Running"));
        assert_eq!(status.pod_ip.as_deref(), Some("10.1.0.5"));
        assert_eq!(status.host_ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(condition(&status, "Ready").status, "True");
        assert_eq!(
            condition(&status, "PodReadyToStartContainers").status,
            "True"
        );
        let c = &status.container_statuses.as_ref().unwrap()[0];
        assert_eq!(c.container_id.as_deref(), Some("containerd://a-5"));
        assert!(c.ready);
        assert_eq!(c.started, Some(true));
        assert_eq!(status.qos_class.as_deref(), Some("BestEffort"));
    }

    #[test]
    fn crash_loop_shows_waiting_with_last_termination() {
        use ContainerState::*;
        let pod = pod("Always", &[], &["a"]);
        let mut sync = SyncResult::default();
        sync.errors.insert(
            "a".into(),
            SyncError {
                reason: "CrashLoopBackOff".into(),
                message: "back-off 10s".into(),
            },
        );
        let rt = runtime(vec![info("a", Exited, 3, 9, 2), info("a", Exited, 3, 5, 1)]);
        let status = generate(&pod, &rt, &sync);
        let c = &status.container_statuses.as_ref().unwrap()[0];
        assert_eq!(
            c.state
                .as_ref()
                .unwrap()
                .waiting
                .as_ref()
                .unwrap()
                .reason
                .as_deref(),
            Some("CrashLoopBackOff")
        );
        let last = c.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!(last.exit_code, 3);
        assert_eq!(last.reason.as_deref(), Some("Error"));
        assert_eq!(c.restart_count, 2);
        assert!(!c.ready);
        assert_eq!(status.phase.as_deref(), Some("Running"));
        assert_eq!(
            condition(&status, "Ready").reason.as_deref(),
            Some("ContainersNotReady")
        );
    }

    #[test]
    fn pending_init_containers() {
        use ContainerState::*;
        let pod = pod("Always", &["i1", "i2"], &["a"]);
        let status = generate(
            &pod,
            &runtime(vec![
                info("i1", Exited, 0, 5, 0),
                info("i2", Running, 0, 6, 0),
            ]),
            &SyncResult::default(),
        );
        assert_eq!(status.phase.as_deref(), Some("Pending"));
        assert_eq!(condition(&status, "Initialized").status, "False");
        assert_eq!(
            condition(&status, "Initialized").message.as_deref(),
            Some("containers with incomplete status: [i2]")
        );
        let app = &status.container_statuses.as_ref().unwrap()[0];
        assert_eq!(
            app.state
                .as_ref()
                .unwrap()
                .waiting
                .as_ref()
                .unwrap()
                .reason
                .as_deref(),
            Some("PodInitializing")
        );
    }

    #[test]
    fn phases_follow_restart_policy() {
        use ContainerState::*;
        let cases = [
            ("Never", vec![info("a", Exited, 0, 5, 0)], "Succeeded"),
            ("Never", vec![info("a", Exited, 1, 5, 0)], "Failed"),
            ("OnFailure", vec![info("a", Exited, 0, 5, 0)], "Succeeded"),
            ("OnFailure", vec![info("a", Exited, 1, 5, 0)], "Running"),
            ("Always", vec![info("a", Exited, 0, 5, 0)], "Running"),
            ("Always", vec![], "Pending"),
        ];
        for (policy, containers, want) in cases {
            let status = generate(
                &pod(policy, &[], &["a"]),
                &runtime(containers),
                &SyncResult::default(),
            );
            assert_eq!(status.phase.as_deref(), Some(want), "{policy}");
        }
        let succeeded = generate(
            &pod("Never", &[], &["a"]),
            &runtime(vec![info("a", Exited, 0, 5, 0)]),
            &SyncResult::default(),
        );
        assert_eq!(
            condition(&succeeded, "Ready").reason.as_deref(),
            Some("PodCompleted")
        );
        let failed_init = generate(
            &pod("Never", &["i"], &["a"]),
            &runtime(vec![info("i", Exited, 1, 5, 0)]),
            &SyncResult::default(),
        );
        assert_eq!(failed_init.phase.as_deref(), Some("Failed"));
    }
}
