//! Container operations of [`Runtime`]: create, start, stop, remove, status, list, stats,
//! resource updates, log reopening and synchronous exec.

use std::str::FromStr;
use std::time::Duration;

use cri::v1;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use tokio::io::AsyncBufReadExt;

use crate::error::{Error, Result};
use crate::oci::{self, SpecInput};
use crate::runtime::{Runtime, labels_match, new_id};
use crate::store::{ContainerRecord, ExitRecord, MountRecord, SandboxState, now_nanos};

/// How long StartContainer waits for the shim to report the created container.
const SHIM_REPORT_TIMEOUT: Duration = Duration::from_secs(60);

/// How long StopContainer waits for the exit record after SIGKILL.
const KILL_WAIT: Duration = Duration::from_secs(10);

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

fn process_alive(pid: Option<i32>) -> bool {
    pid.is_some_and(|pid| nix::sys::signal::kill(Pid::from_raw(pid), None).is_ok())
}

/// A container's state derived from its record, the shim's exit record and liveness.
pub(crate) struct Observed {
    pub state: v1::ContainerState,
    pub exit: Option<ExitRecord>,
    pub reason: String,
    pub message: String,
}

impl Runtime {
    pub(crate) fn container(&self, id: &str) -> Result<ContainerRecord> {
        lock(&self.containers)
            .get(id)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("container {id:?} not found")))
    }

    fn save_container(&self, record: ContainerRecord) -> Result<()> {
        self.store.save_container(&record)?;
        lock(&self.containers).insert(record.id.clone(), record);
        Ok(())
    }

    pub(crate) fn observe(&self, record: &ContainerRecord) -> Observed {
        if let Some(exit) = self.store.load_exit(&record.id) {
            let reason = if exit.oom_killed {
                "OOMKilled"
            } else if exit.exit_code == 0 {
                "Completed"
            } else {
                "Error"
            };
            return Observed {
                state: v1::ContainerState::ContainerExited,
                exit: Some(exit),
                reason: reason.into(),
                message: String::new(),
            };
        }
        if let Some(error) = &record.start_error {
            let exit = ExitRecord {
                exit_code: 128,
                finished_at: record.created_at,
                oom_killed: false,
            };
            return Observed {
                state: v1::ContainerState::ContainerExited,
                exit: Some(exit),
                reason: "StartError".into(),
                message: error.clone(),
            };
        }
        if record.started_at == 0 {
            return Observed {
                state: v1::ContainerState::ContainerCreated,
                exit: None,
                reason: String::new(),
                message: String::new(),
            };
        }
        if process_alive(record.shim_pid) || process_alive(record.pid) {
            return Observed {
                state: v1::ContainerState::ContainerRunning,
                exit: None,
                reason: String::new(),
                message: String::new(),
            };
        }
        Observed {
            state: v1::ContainerState::ContainerExited,
            exit: Some(ExitRecord {
                exit_code: 255,
                finished_at: now_nanos(),
                oom_killed: false,
            }),
            reason: "Unknown".into(),
            message: "the container's shim exited without recording an exit status".into(),
        }
    }

    /// Prepares a container: root filesystem from the image and an OCI bundle.
    pub async fn create_container(
        &self,
        sandbox_id: &str,
        config: &v1::ContainerConfig,
    ) -> Result<String> {
        let sandbox = self.sandbox(sandbox_id)?;
        if sandbox.state != SandboxState::Ready {
            return Err(Error::FailedPrecondition(format!(
                "pod sandbox {sandbox_id} is not ready"
            )));
        }
        let metadata = config
            .metadata
            .clone()
            .ok_or_else(|| Error::InvalidArgument("container config metadata is missing".into()))?;
        if metadata.name.is_empty() {
            return Err(Error::InvalidArgument(
                "container metadata.name is empty".into(),
            ));
        }
        let image = config
            .image
            .as_ref()
            .map(|image| image.image.clone())
            .unwrap_or_default();
        if image.is_empty() {
            return Err(Error::InvalidArgument(
                "container config image is empty".into(),
            ));
        }
        if let Some(existing) = lock(&self.containers).values().find(|record| {
            record.sandbox_id == sandbox_id
                && record.name == metadata.name
                && record.attempt == metadata.attempt
        }) {
            return Err(Error::AlreadyExists(format!(
                "container name {}_{} in sandbox {sandbox_id} is reserved for {}",
                metadata.name, metadata.attempt, existing.id
            )));
        }

        let id = new_id();
        let dir = self.store.container_dir(&id);
        std::fs::create_dir_all(&dir).map_err(Error::io("failed to create", &dir))?;
        let rootfs = dir.join("rootfs");
        let result = self
            .build_container(&id, &sandbox, config, &image, &rootfs)
            .await;
        match result {
            Ok(record) => {
                tracing::info!(pod_sandbox_id = sandbox_id, container = %metadata.name, container_id = %id, "created container");
                self.save_container(record)?;
                Ok(id)
            }
            Err(error) => {
                if let Err(cleanup) = self.images.remove_rootfs(&id, &rootfs).await {
                    tracing::warn!(container_id = %id, error = %cleanup, "failed to remove rootfs");
                }
                let _ = self.store.remove_container(&id);
                Err(error)
            }
        }
    }

    /// Resolves the PID namespace a new container joins: the pod's with
    /// `NamespaceMode::POD`, the target container's with `TARGET`, and none (a new one
    /// or the host's) otherwise.
    fn pid_namespace(
        &self,
        sandbox: &crate::store::SandboxRecord,
        config: &v1::ContainerConfig,
    ) -> Result<Option<std::path::PathBuf>> {
        let options = config
            .linux
            .as_ref()
            .and_then(|linux| linux.security_context.as_ref())
            .and_then(|context| context.namespace_options.clone())
            .unwrap_or_default();
        match v1::NamespaceMode::try_from(options.pid) {
            // POD is also the protobuf default, which clients that set no namespace
            // options send. A sandbox without an init has no PID namespace to share, so
            // such a container gets its own, as with CONTAINER.
            Ok(v1::NamespaceMode::Pod) => match &sandbox.pod_init {
                Some(init) => crate::pod_init::namespace_path(init).map(Some),
                None => Ok(None),
            },
            Ok(v1::NamespaceMode::Target) => {
                let target = self.container(&options.target_id).map_err(|_| {
                    Error::NotFound(format!(
                        "target container {:?} of the PID namespace not found",
                        options.target_id
                    ))
                })?;
                if target.sandbox_id != sandbox.id {
                    return Err(Error::InvalidArgument(format!(
                        "target container {:?} belongs to another sandbox",
                        options.target_id
                    )));
                }
                match target.pid.filter(|_| process_alive(target.pid)) {
                    Some(pid) => Ok(Some(format!("/proc/{pid}/ns/pid").into())),
                    None => Err(Error::FailedPrecondition(format!(
                        "target container {:?} is not running",
                        options.target_id
                    ))),
                }
            }
            _ => Ok(None),
        }
    }

    async fn build_container(
        &self,
        id: &str,
        sandbox: &crate::store::SandboxRecord,
        config: &v1::ContainerConfig,
        image: &str,
        rootfs: &std::path::Path,
    ) -> Result<ContainerRecord> {
        let metadata = config.metadata.clone().unwrap_or_default();
        let info = self.images.prepare_rootfs(image, id, rootfs).await?;
        let parent = if sandbox.cgroup_parent.is_empty() {
            "/container-runtime"
        } else {
            sandbox.cgroup_parent.as_str()
        };
        let cgroup_path = format!("/{}/{id}", parent.trim_matches('/'));

        let spec = oci::container_spec(&SpecInput {
            config,
            sandbox,
            sandbox_files: &self.sandbox_files(&sandbox.id),
            image: &info.config,
            rootfs,
            cgroup_path: &cgroup_path,
            pid_namespace: self.pid_namespace(sandbox, config)?,
            apparmor: &crate::apparmor::Host::detect(),
        })?;
        let bundle_config = self.store.container_dir(id).join("config.json");
        spec.save(&bundle_config).map_err(|error| {
            Error::Internal(format!(
                "failed to write {}: {error}",
                bundle_config.display()
            ))
        })?;

        let log_path = if config.log_path.is_empty() || sandbox.log_directory.is_empty() {
            String::new()
        } else {
            std::path::Path::new(&sandbox.log_directory)
                .join(&config.log_path)
                .display()
                .to_string()
        };
        Ok(ContainerRecord {
            id: id.to_string(),
            sandbox_id: sandbox.id.clone(),
            name: metadata.name,
            attempt: metadata.attempt,
            image: image.to_string(),
            image_ref: info.id,
            labels: config.labels.clone().into_iter().collect(),
            annotations: config.annotations.clone().into_iter().collect(),
            created_at: now_nanos(),
            started_at: 0,
            log_path,
            mounts: config
                .mounts
                .iter()
                .map(|mount| MountRecord {
                    container_path: mount.container_path.clone(),
                    host_path: mount.host_path.clone(),
                    readonly: mount.readonly,
                    propagation: mount.propagation,
                })
                .collect(),
            cgroup_path,
            stop_signal: stop_signal(config.stop_signal, &info.config.stop_signal),
            shim_pid: None,
            pid: None,
            start_error: None,
            stdin: config.stdin,
            stdin_once: config.stdin_once,
            tty: config.tty,
        })
    }

    /// Starts a created container through its shim and the OCI runtime.
    pub async fn start_container(&self, id: &str) -> Result<()> {
        let mut record = self.container(id)?;
        let observed = self.observe(&record);
        if observed.state != v1::ContainerState::ContainerCreated {
            return Err(Error::FailedPrecondition(format!(
                "container {id} is not in created state"
            )));
        }
        match self.launch(&mut record).await {
            Ok(()) => {
                tracing::info!(container_id = id, pid = record.pid, "started container");
                self.save_container(record)
            }
            Err(error) => {
                tracing::warn!(container_id = id, %error, "container failed to start");
                let _ = self.oci.delete(id).await;
                record.start_error = Some(error.to_string());
                self.save_container(record)?;
                Err(error)
            }
        }
    }

    async fn launch(&self, record: &mut ContainerRecord) -> Result<()> {
        let dir = self.store.container_dir(&record.id);
        let shim_log = dir.join("shim.log");
        let stderr =
            std::fs::File::create(&shim_log).map_err(Error::io("failed to create", &shim_log))?;
        let mut child = tokio::process::Command::new(&self.config.shim_binary)
            .arg("shim")
            .arg("--id")
            .arg(&record.id)
            .arg("--bundle")
            .arg(&dir)
            .arg("--runtime")
            .arg(&self.config.oci_runtime)
            .arg("--runtime-root")
            .arg(self.config.oci_runtime_root())
            .arg("--log-path")
            .arg(&record.log_path)
            .arg("--container-dir")
            .arg(&dir)
            .arg("--cgroup-path")
            .arg(&record.cgroup_path)
            .args(record.stdin.then_some("--stdin"))
            .args(record.stdin_once.then_some("--stdin-once"))
            .args(record.tty.then_some("--tty"))
            .arg("--attach-socket")
            .arg(self.attach_socket_path(&record.id))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .map_err(Error::io("failed to start shim", &self.config.shim_binary))?;
        record.shim_pid = child.id().map(|pid| pid as i32);

        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| Error::Internal("shim stdout missing".into()))?;
        let mut line = String::new();
        let read = tokio::time::timeout(
            SHIM_REPORT_TIMEOUT,
            tokio::io::BufReader::new(stdout).read_line(&mut line),
        )
        .await;
        // The shim is our child only until we exit; reap it whenever it ends.
        tokio::spawn(async move {
            let _ = child.wait().await;
        });
        match read {
            Err(_) => {
                return Err(Error::DeadlineExceeded(format!(
                    "shim did not report within {SHIM_REPORT_TIMEOUT:?}"
                )));
            }
            Ok(Err(error)) => {
                return Err(Error::Internal(format!(
                    "failed to read shim report: {error}"
                )));
            }
            Ok(Ok(_)) => {}
        }
        let line = line.trim();
        let pid = match line.strip_prefix("ok ") {
            Some(pid) => pid
                .parse::<i32>()
                .map_err(|_| Error::Internal(format!("invalid shim report {line:?}")))?,
            None if line.is_empty() => {
                let detail = std::fs::read_to_string(&shim_log).unwrap_or_default();
                return Err(Error::Internal(format!(
                    "shim exited without a report: {}",
                    detail.trim()
                )));
            }
            None => {
                return Err(Error::Internal(
                    line.trim_start_matches("error: ").to_string(),
                ));
            }
        };
        record.pid = Some(pid);
        // Taken before the start call: a short-lived process may exit before it returns.
        let started_at = now_nanos();
        self.oci.start(&record.id).await?;
        record.started_at = started_at;
        Ok(())
    }

    async fn wait_exit(&self, id: &str, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let Ok(record) = self.container(id) else {
                return true;
            };
            if self.observe(&record).state != v1::ContainerState::ContainerRunning {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops a running container: its stop signal, then SIGKILL after `timeout` seconds.
    /// Stopping a container that is not running succeeds.
    pub async fn stop_container(&self, id: &str, timeout: i64) -> Result<()> {
        let record = self.container(id)?;
        if self.observe(&record).state != v1::ContainerState::ContainerRunning {
            return Ok(());
        }
        if timeout > 0 {
            tracing::info!(
                container_id = id,
                signal = record.stop_signal,
                timeout,
                "stopping container"
            );
            if let Err(error) = self.oci.kill(id, record.stop_signal).await {
                tracing::warn!(container_id = id, %error, "stop signal failed");
            }
            if self
                .wait_exit(id, Duration::from_secs(timeout as u64))
                .await
            {
                return Ok(());
            }
        }
        tracing::info!(container_id = id, "killing container");
        if let Err(error) = self.oci.kill(id, Signal::SIGKILL as i32).await {
            tracing::warn!(container_id = id, %error, "SIGKILL failed");
        }
        if self.wait_exit(id, KILL_WAIT).await {
            Ok(())
        } else {
            Err(Error::Internal(format!(
                "container {id} did not exit within {KILL_WAIT:?} of SIGKILL"
            )))
        }
    }

    /// Removes a container, killing it first if it runs. Removing an unknown container
    /// succeeds.
    pub async fn remove_container(&self, id: &str) -> Result<()> {
        let Ok(record) = self.container(id) else {
            return Ok(());
        };
        self.stop_container(id, 0).await?;
        self.oci.delete(id).await?;
        let rootfs = self.store.container_dir(id).join("rootfs");
        self.images.remove_rootfs(id, &rootfs).await?;
        let attach_socket = self.attach_socket_path(id);
        let _ = std::fs::remove_file(crate::shim::resize_socket_path(&attach_socket));
        let _ = std::fs::remove_file(attach_socket);
        self.store.remove_container(id)?;
        lock(&self.containers).remove(id);
        tracing::info!(container_id = id, pod_sandbox_id = %record.sandbox_id, "removed container");
        Ok(())
    }

    /// Lists containers matching `filter`.
    pub fn list_containers(&self, filter: Option<&v1::ContainerFilter>) -> Vec<v1::Container> {
        let records: Vec<ContainerRecord> = lock(&self.containers).values().cloned().collect();
        let mut containers: Vec<v1::Container> = records
            .into_iter()
            .filter(|record| {
                let Some(filter) = filter else { return true };
                (filter.id.is_empty() || record.id.starts_with(&filter.id))
                    && (filter.pod_sandbox_id.is_empty()
                        || record.sandbox_id.starts_with(&filter.pod_sandbox_id))
                    && labels_match(&record.labels, &filter.label_selector)
            })
            .map(|record| {
                let state = self.observe(&record).state;
                v1::Container {
                    id: record.id.clone(),
                    pod_sandbox_id: record.sandbox_id.clone(),
                    metadata: Some(v1::ContainerMetadata {
                        name: record.name.clone(),
                        attempt: record.attempt,
                    }),
                    image: Some(v1::ImageSpec {
                        image: record.image.clone(),
                        ..Default::default()
                    }),
                    image_ref: record.image_ref.clone(),
                    state: state as i32,
                    created_at: record.created_at,
                    labels: record.labels.clone().into_iter().collect(),
                    annotations: record.annotations.clone().into_iter().collect(),
                    image_id: record.image_ref.clone(),
                }
            })
            .filter(|container| {
                filter
                    .and_then(|filter| filter.state.as_ref())
                    .is_none_or(|state| state.state == container.state)
            })
            .collect();
        containers.sort_by_key(|container| container.created_at);
        containers
    }

    /// Returns the container's status message.
    pub fn container_status(&self, id: &str) -> Result<v1::ContainerStatus> {
        let record = self.container(id)?;
        let observed = self.observe(&record);
        let exit = observed.exit.clone();
        Ok(v1::ContainerStatus {
            id: record.id.clone(),
            metadata: Some(v1::ContainerMetadata {
                name: record.name.clone(),
                attempt: record.attempt,
            }),
            state: observed.state as i32,
            created_at: record.created_at,
            started_at: record.started_at,
            finished_at: exit.as_ref().map_or(0, |exit| exit.finished_at),
            exit_code: exit.as_ref().map_or(0, |exit| exit.exit_code),
            image: Some(v1::ImageSpec {
                image: record.image.clone(),
                ..Default::default()
            }),
            image_ref: record.image_ref.clone(),
            reason: observed.reason,
            message: observed.message,
            labels: record.labels.clone().into_iter().collect(),
            annotations: record.annotations.clone().into_iter().collect(),
            mounts: record
                .mounts
                .iter()
                .map(|mount| v1::Mount {
                    container_path: mount.container_path.clone(),
                    host_path: mount.host_path.clone(),
                    readonly: mount.readonly,
                    propagation: mount.propagation,
                    ..Default::default()
                })
                .collect(),
            log_path: record.log_path.clone(),
            image_id: record.image_ref.clone(),
            ..Default::default()
        })
    }

    /// Applies new CPU and memory limits to a running container.
    pub async fn update_container_resources(
        &self,
        id: &str,
        resources: &v1::LinuxContainerResources,
    ) -> Result<()> {
        let record = self.container(id)?;
        if self.observe(&record).state != v1::ContainerState::ContainerRunning {
            // NOTE: limits of a container that is not running are not rewritten into its
            // bundle; they apply from the next UpdateContainerResources while it runs.
            return Err(Error::FailedPrecondition(format!(
                "container {id} is not running"
            )));
        }
        let update = oci::update_resources(resources)?;
        let value =
            serde_json::to_value(&update).map_err(|error| Error::Internal(error.to_string()))?;
        self.oci.update(id, &value).await
    }

    /// Makes the shim reopen the container's log file after the kubelet rotated it.
    pub async fn reopen_container_log(&self, id: &str) -> Result<()> {
        let record = self.container(id)?;
        if self.observe(&record).state != v1::ContainerState::ContainerRunning {
            return Err(Error::FailedPrecondition(format!(
                "container {id} is not running"
            )));
        }
        let shim = record
            .shim_pid
            .ok_or_else(|| Error::FailedPrecondition(format!("container {id} has no shim")))?;
        nix::sys::signal::kill(Pid::from_raw(shim), Signal::SIGUSR1)
            .map_err(|errno| Error::Internal(format!("failed to signal shim {shim}: {errno}")))?;
        let path = std::path::Path::new(&record.log_path);
        for _ in 0..100 {
            if record.log_path.is_empty() || path.exists() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(Error::Internal(format!(
            "log file {} was not reopened",
            record.log_path
        )))
    }

    /// Runs `cmd` in a running container and returns its output and exit code.
    pub async fn exec_sync(
        &self,
        id: &str,
        cmd: &[String],
        timeout: i64,
    ) -> Result<crate::oci_runtime::ExecOutput> {
        if cmd.is_empty() {
            return Err(Error::InvalidArgument("exec command is empty".into()));
        }
        let record = self.container(id)?;
        if self.observe(&record).state != v1::ContainerState::ContainerRunning {
            return Err(Error::FailedPrecondition(format!(
                "container {id} is not running"
            )));
        }
        let limit = (timeout > 0).then(|| Duration::from_secs(timeout as u64));
        let pid_file = self
            .store
            .container_dir(id)
            .join(format!("exec-{}.pid", uuid::Uuid::new_v4().simple()));
        self.oci.exec(id, cmd, limit, pid_file).await
    }

    /// Starts `cmd` in a running container with piped stdout and stderr (and stdin when
    /// `stdin` is set) for a streaming exec session, in a terminal when `tty` is set.
    pub async fn spawn_exec(
        &self,
        id: &str,
        cmd: &[String],
        stdin: bool,
        tty: bool,
    ) -> Result<crate::oci_runtime::ExecProcess> {
        if cmd.is_empty() {
            return Err(Error::InvalidArgument("exec command is empty".into()));
        }
        let record = self.container(id)?;
        if self.observe(&record).state != v1::ContainerState::ContainerRunning {
            return Err(Error::FailedPrecondition(format!(
                "container {id} is not running"
            )));
        }
        self.oci.spawn_exec(id, cmd, stdin, tty)
    }

    /// Returns where the shim of container `id` listens for attach clients. The path is
    /// kept short because unix socket paths are limited to 107 bytes.
    pub(crate) fn attach_socket_path(&self, id: &str) -> std::path::PathBuf {
        let short = id.get(..32).unwrap_or(id);
        self.config
            .state
            .join("attach")
            .join(format!("{short}.sock"))
    }

    /// Returns the shim's attach socket of a running container.
    pub fn attach_socket(&self, id: &str) -> Result<std::path::PathBuf> {
        let record = self.container(id)?;
        if self.observe(&record).state != v1::ContainerState::ContainerRunning {
            return Err(Error::FailedPrecondition(format!(
                "container {id} is not running"
            )));
        }
        Ok(self.attach_socket_path(id))
    }

    /// Returns the container's resource usage from its cgroup.
    pub fn container_stats(&self, id: &str) -> Result<v1::ContainerStats> {
        let record = self.container(id)?;
        let usage = crate::cgroups::usage(&record.cgroup_path);
        Ok(v1::ContainerStats {
            attributes: Some(v1::ContainerAttributes {
                id: record.id.clone(),
                metadata: Some(v1::ContainerMetadata {
                    name: record.name.clone(),
                    attempt: record.attempt,
                }),
                labels: record.labels.clone().into_iter().collect(),
                annotations: record.annotations.clone().into_iter().collect(),
            }),
            cpu: Some(cpu_usage(&usage)),
            memory: Some(memory_usage(&usage)),
            // NOTE: writable layer usage is not measured yet.
            writable_layer: None,
            swap: None,
            io: None,
        })
    }

    /// Lists stats of containers matching `filter`.
    pub fn list_container_stats(
        &self,
        filter: Option<&v1::ContainerStatsFilter>,
    ) -> Vec<v1::ContainerStats> {
        let ids: Vec<String> = lock(&self.containers)
            .values()
            .filter(|record| {
                let Some(filter) = filter else { return true };
                (filter.id.is_empty() || record.id.starts_with(&filter.id))
                    && (filter.pod_sandbox_id.is_empty()
                        || record.sandbox_id.starts_with(&filter.pod_sandbox_id))
                    && labels_match(&record.labels, &filter.label_selector)
            })
            .map(|record| record.id.clone())
            .collect();
        ids.iter()
            .filter_map(|id| self.container_stats(id).ok())
            .collect()
    }
}

pub(crate) fn cpu_usage(usage: &crate::cgroups::Usage) -> v1::CpuUsage {
    v1::CpuUsage {
        timestamp: usage.timestamp,
        usage_core_nano_seconds: usage.cpu_nanos.map(|value| v1::UInt64Value { value }),
        // NOTE: usage_nano_cores needs two samples; the kubelet computes it when absent.
        usage_nano_cores: None,
        psi: None,
    }
}

pub(crate) fn memory_usage(usage: &crate::cgroups::Usage) -> v1::MemoryUsage {
    let value = |field: Option<u64>| field.map(|value| v1::UInt64Value { value });
    v1::MemoryUsage {
        timestamp: usage.timestamp,
        working_set_bytes: value(usage.working_set),
        available_bytes: value(usage.available),
        usage_bytes: value(usage.memory_usage),
        rss_bytes: value(usage.rss),
        page_faults: value(usage.page_faults),
        major_page_faults: value(usage.major_page_faults),
        psi: None,
    }
}

/// Picks the stop signal: the kubelet's, else the image's, else SIGTERM.
fn stop_signal(requested: i32, image_signal: &str) -> i32 {
    let from_request = v1::Signal::try_from(requested)
        .ok()
        .filter(|signal| *signal != v1::Signal::RuntimeDefault)
        .and_then(|signal| Signal::from_str(signal.as_str_name()).ok());
    let from_image = || {
        let name = image_signal.to_uppercase();
        let name = if name.starts_with("SIG") {
            name
        } else {
            format!("SIG{name}")
        };
        Signal::from_str(&name).ok().or_else(|| {
            image_signal
                .parse::<i32>()
                .ok()
                .and_then(|number| Signal::try_from(number).ok())
        })
    };
    from_request.or_else(from_image).unwrap_or(Signal::SIGTERM) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_signal_prefers_request_then_image() {
        assert_eq!(
            stop_signal(v1::Signal::Sigquit as i32, "SIGINT"),
            Signal::SIGQUIT as i32
        );
        assert_eq!(stop_signal(0, "SIGINT"), Signal::SIGINT as i32);
        assert_eq!(stop_signal(0, "usr1"), Signal::SIGUSR1 as i32);
        assert_eq!(stop_signal(0, "9"), Signal::SIGKILL as i32);
        assert_eq!(stop_signal(0, ""), Signal::SIGTERM as i32);
    }
}
