//! computePodActions: what one sync must do to move a pod's containers from what the
//! runtime reports toward its spec.
//!
//! [`compute_pod_actions`] is a pure function of the pod, the runtime's view of it
//! and the liveness/startup results, so it is unit-tested without a runtime.

use k8s_openapi::api::core::v1::{Container, EphemeralContainer, Pod};

use super::{ContainerInfo, ContainerState, RuntimePodStatus};

/// The result of [`compute_pod_actions`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodActions {
    /// Stop every container and the sandbox (before creating a new sandbox when
    /// `create_sandbox` is also set).
    pub kill_pod: bool,
    pub create_sandbox: bool,
    /// The sandbox to start containers in, when one is kept.
    pub sandbox_id: String,
    /// The attempt number of the sandbox to create.
    pub attempt: u32,
    /// The index into `spec.initContainers` to start next.
    pub next_init_container: Option<usize>,
    /// Indexes into `spec.containers` to start.
    pub containers_to_start: Vec<usize>,
    /// Indexes into `spec.ephemeralContainers` to start: those the runtime has no
    /// instance of.
    // NOTE: an ephemeral container whose exited instance container GC removed starts
    // again, as in upstream's kubelet.
    pub ephemeral_containers_to_start: Vec<usize>,
    /// Running containers to stop: (container id, name, message).
    pub containers_to_kill: Vec<(String, String, String)>,
}

/// Probe failures that make a running container restart.
pub trait ProbeFailures: Send + Sync {
    /// True when the container with this id failed its liveness or startup probe.
    fn should_restart(&self, container_id: &str) -> bool;
}

impl ProbeFailures for () {
    fn should_restart(&self, _: &str) -> bool {
        false
    }
}

/// Returns the restart policy, defaulted to Always.
pub fn restart_policy(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always")
}

fn should_restart_on_failure(pod: &Pod) -> bool {
    restart_policy(pod) != "Never"
}

/// Whether a container that is not running should be started (again).
pub fn should_container_be_restarted(
    container: &Container,
    pod: &Pod,
    status: &RuntimePodStatus,
) -> bool {
    let Some(latest) = status.latest(&container.name) else {
        return true;
    };
    match latest.state {
        ContainerState::Running => false,
        ContainerState::Created | ContainerState::Unknown => true,
        ContainerState::Exited => match restart_policy(pod) {
            "Never" => false,
            "OnFailure" => latest.exit_code != 0,
            _ => true,
        },
    }
}

/// Finds the next init container to run. Returns (the last init container's status,
/// the index to start, done). `done` is true once every init container succeeded.
pub fn find_next_init_container<'a>(
    pod: &Pod,
    status: &'a RuntimePodStatus,
) -> (Option<&'a ContainerInfo>, Option<usize>, bool) {
    let inits = init_containers(pod);
    if inits.is_empty() {
        return (None, None, true);
    }
    // A running or created init container means nothing new starts yet, unless an
    // app container already runs (then initialization finished earlier).
    for c in app_containers(pod) {
        if status
            .latest(&c.name)
            .is_some_and(|s| s.state == ContainerState::Running)
        {
            return (None, None, true);
        }
    }
    for (i, c) in inits.iter().enumerate().rev() {
        let Some(s) = status.latest(&c.name) else {
            continue;
        };
        match s.state {
            ContainerState::Running | ContainerState::Created => return (Some(s), None, false),
            ContainerState::Exited if s.exit_code != 0 => return (Some(s), Some(i), false),
            ContainerState::Unknown => return (Some(s), Some(i), false),
            ContainerState::Exited => {
                if i == inits.len() - 1 {
                    return (Some(s), None, true);
                }
                return (Some(s), Some(i + 1), false);
            }
        }
    }
    (None, Some(0), false)
}

pub fn init_containers(pod: &Pod) -> &[Container] {
    pod.spec
        .as_ref()
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or(&[])
}

pub fn app_containers(pod: &Pod) -> &[Container] {
    pod.spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[])
}

pub fn ephemeral_containers(pod: &Pod) -> &[EphemeralContainer] {
    pod.spec
        .as_ref()
        .and_then(|s| s.ephemeral_containers.as_deref())
        .unwrap_or(&[])
}

/// Converts an ephemeral container to a container with the same fields, the form
/// the rest of the runtime manager starts. `targetContainerName` has no counterpart
/// and is read from the ephemeral container itself.
pub fn ephemeral_as_container(ephemeral: &EphemeralContainer) -> Container {
    Container {
        args: ephemeral.args.clone(),
        command: ephemeral.command.clone(),
        env: ephemeral.env.clone(),
        env_from: ephemeral.env_from.clone(),
        image: ephemeral.image.clone(),
        image_pull_policy: ephemeral.image_pull_policy.clone(),
        lifecycle: ephemeral.lifecycle.clone(),
        liveness_probe: ephemeral.liveness_probe.clone(),
        name: ephemeral.name.clone(),
        ports: ephemeral.ports.clone(),
        readiness_probe: ephemeral.readiness_probe.clone(),
        resize_policy: ephemeral.resize_policy.clone(),
        resources: ephemeral.resources.clone(),
        restart_policy: ephemeral.restart_policy.clone(),
        security_context: ephemeral.security_context.clone(),
        startup_probe: ephemeral.startup_probe.clone(),
        stdin: ephemeral.stdin,
        stdin_once: ephemeral.stdin_once,
        termination_message_path: ephemeral.termination_message_path.clone(),
        termination_message_policy: ephemeral.termination_message_policy.clone(),
        tty: ephemeral.tty,
        volume_devices: ephemeral.volume_devices.clone(),
        volume_mounts: ephemeral.volume_mounts.clone(),
        working_dir: ephemeral.working_dir.clone(),
    }
}

fn host_network(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.host_network)
        .unwrap_or(false)
}

/// Whether the sandbox must be (re)created: none exists, the latest is not ready,
/// or a pod network sandbox has no IP. Returns (changed, attempt, sandbox id).
pub fn sandbox_changed(pod: &Pod, status: &RuntimePodStatus) -> (bool, u32, String) {
    let Some(latest) = status.sandboxes.first() else {
        return (true, 0, String::new());
    };
    let ready = status.sandboxes.iter().filter(|s| s.ready).count();
    if ready > 1 || !latest.ready {
        return (true, latest.attempt + 1, latest.id.clone());
    }
    if !host_network(pod) && latest.ip.is_empty() {
        return (true, latest.attempt + 1, latest.id.clone());
    }
    (false, latest.attempt, latest.id.clone())
}

/// Decides what a sync does. `hash` computes a container's spec hash.
pub fn compute_pod_actions(
    pod: &Pod,
    status: &RuntimePodStatus,
    probes: &dyn ProbeFailures,
    hash: &dyn Fn(&Container) -> u64,
) -> PodActions {
    let (create_sandbox, attempt, sandbox_id) = sandbox_changed(pod, status);
    let mut actions = PodActions {
        kill_pod: create_sandbox,
        create_sandbox,
        sandbox_id,
        attempt,
        ..Default::default()
    };

    if create_sandbox {
        if !should_restart_on_failure(pod) && attempt != 0 && !status.containers.is_empty() {
            // A Never pod whose sandbox died is not started again.
            actions.create_sandbox = false;
            return actions;
        }
        if !init_containers(pod).is_empty() {
            actions.next_init_container = Some(0);
            return actions;
        }
        for (i, c) in app_containers(pod).iter().enumerate() {
            let succeeded = status
                .latest(&c.name)
                .is_some_and(|s| s.state == ContainerState::Exited && s.exit_code == 0);
            if succeeded && restart_policy(pod) == "OnFailure" {
                continue;
            }
            actions.containers_to_start.push(i);
        }
        return actions;
    }

    // Ephemeral containers start even while init containers run, and never again once
    // the runtime has an instance of them.
    for (i, c) in ephemeral_containers(pod).iter().enumerate() {
        if status.latest(&c.name).is_none() {
            actions.ephemeral_containers_to_start.push(i);
        }
    }

    let (last_init, next_init, init_done) = find_next_init_container(pod, status);
    if !init_done {
        if let Some(next) = next_init {
            let failed =
                last_init.is_some_and(|s| s.state == ContainerState::Exited && s.exit_code != 0);
            if failed && !should_restart_on_failure(pod) {
                actions.kill_pod = true;
            } else {
                actions.next_init_container = Some(next);
            }
        }
        return actions;
    }

    let mut keep = 0;
    for (i, c) in app_containers(pod).iter().enumerate() {
        let latest = status.latest(&c.name);
        let running = latest.filter(|s| s.state == ContainerState::Running);
        let Some(running) = running else {
            if should_container_be_restarted(c, pod, status) {
                actions.containers_to_start.push(i);
            }
            continue;
        };
        let message = if running.hash != hash(c) {
            Some(format!("Container {} definition changed", c.name))
        } else if probes.should_restart(&running.id) {
            Some(format!("Container {} failed liveness probe", c.name))
        } else {
            None
        };
        match message {
            Some(message) => {
                if restart_policy(pod) != "Never" || running.hash != hash(c) {
                    actions.containers_to_start.push(i);
                }
                actions
                    .containers_to_kill
                    .push((running.id.clone(), c.name.clone(), message));
            }
            None => keep += 1,
        }
    }
    if keep == 0 && actions.containers_to_start.is_empty() {
        actions.kill_pod = true;
    }
    actions
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::PodSpec;

    use super::*;
    use crate::kuberuntime::SandboxInfo;

    fn pod(policy: &str, inits: &[&str], apps: &[&str]) -> Pod {
        let container = |n: &&str| Container {
            name: n.to_string(),
            image: Some("busybox".into()),
            ..Default::default()
        };
        Pod {
            spec: Some(PodSpec {
                restart_policy: Some(policy.into()),
                init_containers: (!inits.is_empty()).then(|| inits.iter().map(container).collect()),
                containers: apps.iter().map(container).collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn sandbox(ready: bool) -> SandboxInfo {
        SandboxInfo {
            id: "sb1".into(),
            ready,
            attempt: 0,
            ip: "10.0.0.2".into(),
            ..Default::default()
        }
    }

    fn c(name: &str, state: ContainerState, exit: i32) -> ContainerInfo {
        ContainerInfo {
            id: format!("id-{name}-{exit}"),
            name: name.into(),
            state,
            exit_code: exit,
            hash: 1,
            ..Default::default()
        }
    }

    fn status(ready: Option<bool>, containers: Vec<ContainerInfo>) -> RuntimePodStatus {
        RuntimePodStatus {
            sandboxes: ready.map(sandbox).into_iter().collect(),
            containers,
        }
    }

    struct Fails(&'static str);
    impl ProbeFailures for Fails {
        fn should_restart(&self, id: &str) -> bool {
            id == self.0
        }
    }

    #[test]
    fn table() {
        use ContainerState::*;
        let hash1 = |_: &Container| 1u64;
        struct Case {
            name: &'static str,
            pod: Pod,
            status: RuntimePodStatus,
            probes: &'static str,
            want: PodActions,
        }
        let mut cases = vec![
            Case {
                name: "new pod creates sandbox and starts all",
                pod: pod("Always", &[], &["a", "b"]),
                status: status(None, vec![]),
                probes: "",
                want: PodActions {
                    kill_pod: true,
                    create_sandbox: true,
                    containers_to_start: vec![0, 1],
                    ..Default::default()
                },
            },
            Case {
                name: "running pod is left alone",
                pod: pod("Always", &[], &["a"]),
                status: status(Some(true), vec![c("a", Running, 0)]),
                probes: "",
                want: PodActions {
                    sandbox_id: "sb1".into(),
                    ..Default::default()
                },
            },
            Case {
                name: "exited container restarts under Always",
                pod: pod("Always", &[], &["a", "b"]),
                status: status(Some(true), vec![c("a", Exited, 0), c("b", Running, 0)]),
                probes: "",
                want: PodActions {
                    sandbox_id: "sb1".into(),
                    containers_to_start: vec![0],
                    ..Default::default()
                },
            },
            Case {
                name: "OnFailure restarts only failures",
                pod: pod("OnFailure", &[], &["a", "b"]),
                status: status(Some(true), vec![c("a", Exited, 0), c("b", Exited, 2)]),
                probes: "",
                want: PodActions {
                    sandbox_id: "sb1".into(),
                    containers_to_start: vec![1],
                    ..Default::default()
                },
            },
            Case {
                name: "Never with everything exited kills the pod",
                pod: pod("Never", &[], &["a"]),
                status: status(Some(true), vec![c("a", Exited, 1)]),
                probes: "",
                want: PodActions {
                    sandbox_id: "sb1".into(),
                    kill_pod: true,
                    ..Default::default()
                },
            },
            Case {
                name: "dead sandbox of a Never pod is not recreated",
                pod: pod("Never", &[], &["a"]),
                status: status(Some(false), vec![c("a", Exited, 0)]),
                probes: "",
                want: PodActions {
                    kill_pod: true,
                    attempt: 1,
                    sandbox_id: "sb1".into(),
                    ..Default::default()
                },
            },
            Case {
                name: "dead sandbox is recreated with the next attempt",
                pod: pod("Always", &[], &["a"]),
                status: status(Some(false), vec![c("a", Exited, 0)]),
                probes: "",
                want: PodActions {
                    kill_pod: true,
                    create_sandbox: true,
                    attempt: 1,
                    sandbox_id: "sb1".into(),
                    containers_to_start: vec![0],
                    ..Default::default()
                },
            },
            Case {
                name: "spec hash change restarts",
                pod: pod("Always", &[], &["a"]),
                status: status(
                    Some(true),
                    vec![ContainerInfo {
                        hash: 7,
                        ..c("a", Running, 0)
                    }],
                ),
                probes: "",
                want: PodActions {
                    sandbox_id: "sb1".into(),
                    containers_to_start: vec![0],
                    containers_to_kill: vec![(
                        "id-a-0".into(),
                        "a".into(),
                        "Container a definition changed".into(),
                    )],
                    ..Default::default()
                },
            },
            Case {
                name: "liveness failure restarts",
                pod: pod("Always", &[], &["a"]),
                status: status(Some(true), vec![c("a", Running, 0)]),
                probes: "id-a-0",
                want: PodActions {
                    sandbox_id: "sb1".into(),
                    containers_to_start: vec![0],
                    containers_to_kill: vec![(
                        "id-a-0".into(),
                        "a".into(),
                        "Container a failed liveness probe".into(),
                    )],
                    ..Default::default()
                },
            },
            Case {
                name: "new pod with init containers starts the first",
                pod: pod("Always", &["i1", "i2"], &["a"]),
                status: status(None, vec![]),
                probes: "",
                want: PodActions {
                    kill_pod: true,
                    create_sandbox: true,
                    next_init_container: Some(0),
                    ..Default::default()
                },
            },
            Case {
                name: "init containers run in order",
                pod: pod("Always", &["i1", "i2"], &["a"]),
                status: status(Some(true), vec![c("i1", Exited, 0)]),
                probes: "",
                want: PodActions {
                    sandbox_id: "sb1".into(),
                    next_init_container: Some(1),
                    ..Default::default()
                },
            },
            Case {
                name: "running init container is waited for",
                pod: pod("Always", &["i1"], &["a"]),
                status: status(Some(true), vec![c("i1", Running, 0)]),
                probes: "",
                want: PodActions {
                    sandbox_id: "sb1".into(),
                    ..Default::default()
                },
            },
            Case {
                name: "failed init container is retried",
                pod: pod("Always", &["i1"], &["a"]),
                status: status(Some(true), vec![c("i1", Exited, 1)]),
                probes: "",
                want: PodActions {
                    sandbox_id: "sb1".into(),
                    next_init_container: Some(0),
                    ..Default::default()
                },
            },
            Case {
                name: "failed init container of a Never pod kills it",
                pod: pod("Never", &["i1"], &["a"]),
                status: status(Some(true), vec![c("i1", Exited, 1)]),
                probes: "",
                want: PodActions {
                    sandbox_id: "sb1".into(),
                    kill_pod: true,
                    ..Default::default()
                },
            },
            Case {
                name: "after init the app containers start",
                pod: pod("Always", &["i1"], &["a"]),
                status: status(Some(true), vec![c("i1", Exited, 0)]),
                probes: "",
                want: PodActions {
                    sandbox_id: "sb1".into(),
                    containers_to_start: vec![0],
                    ..Default::default()
                },
            },
        ];
        let with_ephemeral = |mut pod: Pod| {
            let spec = pod.spec.as_mut().expect("spec");
            spec.ephemeral_containers = Some(vec![EphemeralContainer {
                name: "debugger".into(),
                image: Some("busybox".into()),
                ..Default::default()
            }]);
            pod
        };
        cases.extend([
            Case {
                name: "new ephemeral container starts",
                pod: with_ephemeral(pod("Always", &[], &["a"])),
                status: status(Some(true), vec![c("a", Running, 0)]),
                probes: "",
                want: PodActions {
                    sandbox_id: "sb1".into(),
                    ephemeral_containers_to_start: vec![0],
                    ..Default::default()
                },
            },
            Case {
                name: "exited ephemeral container is not restarted",
                pod: with_ephemeral(pod("Always", &[], &["a"])),
                status: status(
                    Some(true),
                    vec![c("a", Running, 0), c("debugger", Exited, 1)],
                ),
                probes: "",
                want: PodActions {
                    sandbox_id: "sb1".into(),
                    ..Default::default()
                },
            },
            Case {
                name: "ephemeral container starts during initialization",
                pod: with_ephemeral(pod("Always", &["i1"], &["a"])),
                status: status(Some(true), vec![c("i1", Running, 0)]),
                probes: "",
                want: PodActions {
                    sandbox_id: "sb1".into(),
                    ephemeral_containers_to_start: vec![0],
                    ..Default::default()
                },
            },
            Case {
                name: "recreated sandbox starts no ephemeral container",
                pod: with_ephemeral(pod("Always", &[], &["a"])),
                status: status(Some(false), vec![c("a", Exited, 0)]),
                probes: "",
                want: PodActions {
                    kill_pod: true,
                    create_sandbox: true,
                    attempt: 1,
                    sandbox_id: "sb1".into(),
                    containers_to_start: vec![0],
                    ..Default::default()
                },
            },
        ]);
        for case in cases {
            let got = compute_pod_actions(&case.pod, &case.status, &Fails(case.probes), &hash1);
            assert_eq!(got, case.want, "{}", case.name);
        }
    }
}
