//! Container start: the CRI config (command, env, mounts, resources, security
//! context, log path), CreateContainer, StartContainer and the postStart hook.
//! [`run_handler`] runs the lifecycle handlers (exec, httpGet, sleep) of both hooks.

use std::collections::HashMap;
use std::time::Duration;

use cri::v1 as pb;
use k8s_openapi::api::core::v1::{Container, LifecycleHandler, Pod};

use super::{RuntimeManager, SyncError, hash_container, labels, pod_full_name, pod_uid};

/// Creates and starts `container` in the sandbox, then runs its postStart hook;
/// a failed hook kills the container. With `target_id` (an ephemeral container's
/// target) the container joins that container's PID namespace.
///
/// # Errors
///
/// A [`SyncError`] with CreateContainerConfigError, CreateContainerError,
/// RunContainerError or PostStartHookError.
#[allow(clippy::too_many_arguments)]
pub async fn start(
    manager: &RuntimeManager,
    pod: &Pod,
    sandbox_id: &str,
    sandbox_config: &pb::PodSandboxConfig,
    container: &Container,
    image_ref: &str,
    restart_count: i32,
    pod_ip: &str,
    target_id: Option<&str>,
) -> Result<(), SyncError> {
    let config_error = |message| SyncError {
        reason: "CreateContainerConfigError".to_string(),
        message,
    };
    let image_user = image_user(manager, image_ref).await;
    super::security::verify_run_as_non_root(pod, container, &image_user).map_err(config_error)?;
    let config = container_config(
        manager,
        pod,
        container,
        image_ref,
        restart_count,
        pod_ip,
        target_id,
    )
    .await
    .map_err(config_error)?;
    let mut rt = manager.runtime.runtime.clone();
    let field = crate::events::container_field(pod, &container.name);
    let id = rt
        .create_container(pb::CreateContainerRequest {
            pod_sandbox_id: sandbox_id.to_string(),
            config: Some(config),
            sandbox_config: Some(sandbox_config.clone()),
        })
        .await
        .map_err(|s| SyncError {
            reason: "CreateContainerError".to_string(),
            message: s.message().to_string(),
        })?
        .into_inner()
        .container_id;
    manager.events.normal(
        pod,
        field.clone(),
        "Created",
        format!("Created container {}", container.name),
    );
    rt.start_container(pb::StartContainerRequest {
        container_id: id.clone(),
    })
    .await
    .map_err(|s| SyncError {
        reason: "RunContainerError".to_string(),
        message: s.message().to_string(),
    })?;
    tracing::info!(pod = %pod_full_name(pod), container = %container.name, container_id = %id, "started container");
    manager.events.normal(
        pod,
        field,
        "Started",
        format!("Started container {}", container.name),
    );

    if let Some(post_start) = container
        .lifecycle
        .as_ref()
        .and_then(|l| l.post_start.as_ref())
        && let Err(message) = run_handler(manager, pod, &id, post_start).await
    {
        tracing::warn!(pod = %pod_full_name(pod), container = %container.name, %message, "postStart hook failed, killing container");
        let _ = rt
            .stop_container(pb::StopContainerRequest {
                container_id: id,
                timeout: super::grace_period(pod),
            })
            .await;
        return Err(SyncError {
            reason: "PostStartHookError".to_string(),
            message,
        });
    }
    Ok(())
}

/// Returns the user `image_ref` runs as, from the runtime's image status. An image
/// the runtime cannot describe counts as running as root, as upstream treats it.
async fn image_user(manager: &RuntimeManager, image_ref: &str) -> super::security::ImageUser {
    let mut images = manager.runtime.image.clone();
    let status = images
        .image_status(pb::ImageStatusRequest {
            image: Some(pb::ImageSpec {
                image: image_ref.to_string(),
                ..Default::default()
            }),
            verbose: false,
        })
        .await;
    match status.map(|response| response.into_inner().image) {
        Ok(Some(image)) => super::security::ImageUser {
            uid: image.uid.map(|uid| uid.value),
            username: image.username,
        },
        Ok(None) => super::security::ImageUser::default(),
        Err(status) => {
            tracing::warn!(image = image_ref, error = %status.message(), "failed to read the image's user");
            super::security::ImageUser::default()
        }
    }
}

async fn container_config(
    manager: &RuntimeManager,
    pod: &Pod,
    container: &Container,
    image_ref: &str,
    restart_count: i32,
    pod_ip: &str,
    target_id: Option<&str>,
) -> Result<pb::ContainerConfig, String> {
    let env = super::env::make_environment(manager, pod, container, pod_ip).await?;
    let expand = |s: &String| super::env::expand(s, &env);
    let mut mounts = crate::volumes::container_mounts(&manager.config.root_dir, pod, container)?;

    let message_path = container
        .termination_message_path
        .clone()
        .unwrap_or_else(|| "/dev/termination-log".to_string());
    if !message_path.is_empty() {
        let dir = crate::volumes::pod_dir(&manager.config.root_dir, pod_uid(pod))
            .join("containers")
            .join(&container.name);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("failed to create {}: {e}", dir.display()))?;
        let file = dir.join(format!("{:08x}", rand::random::<u32>()));
        std::fs::write(&file, b"")
            .map_err(|e| format!("failed to create {}: {e}", file.display()))?;
        mounts.push(pb::Mount {
            container_path: message_path.clone(),
            host_path: file.to_string_lossy().into_owned(),
            ..Default::default()
        });
    }

    let mut container_labels = HashMap::new();
    container_labels.insert(
        labels::POD_NAME.to_string(),
        pod.metadata.name.clone().unwrap_or_default(),
    );
    container_labels.insert(
        labels::POD_NAMESPACE.to_string(),
        pod.metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string()),
    );
    container_labels.insert(labels::POD_UID.to_string(), pod_uid(pod).to_string());
    container_labels.insert(labels::CONTAINER_NAME.to_string(), container.name.clone());
    let mut annotations = HashMap::new();
    annotations.insert(
        labels::CONTAINER_HASH.to_string(),
        format!("{:x}", hash_container(container)),
    );
    annotations.insert(labels::RESTART_COUNT.to_string(), restart_count.to_string());
    annotations.insert(labels::TERMINATION_MESSAGE_PATH.to_string(), message_path);
    annotations.insert(
        labels::TERMINATION_MESSAGE_POLICY.to_string(),
        container
            .termination_message_policy
            .clone()
            .unwrap_or_else(|| "File".to_string()),
    );
    annotations.insert(
        labels::GRACE_PERIOD.to_string(),
        super::grace_period(pod).to_string(),
    );

    Ok(pb::ContainerConfig {
        metadata: Some(pb::ContainerMetadata {
            name: container.name.clone(),
            attempt: restart_count as u32,
        }),
        image: Some(pb::ImageSpec {
            image: image_ref.to_string(),
            ..Default::default()
        }),
        command: container.command.iter().flatten().map(expand).collect(),
        args: container.args.iter().flatten().map(expand).collect(),
        working_dir: container.working_dir.clone().unwrap_or_default(),
        envs: env
            .iter()
            .map(|(key, value)| pb::KeyValue {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
        mounts,
        labels: container_labels,
        annotations,
        log_path: format!("{}/{restart_count}.log", container.name),
        stdin: container.stdin.unwrap_or(false),
        stdin_once: container.stdin_once.unwrap_or(false),
        tty: container.tty.unwrap_or(false),
        linux: Some(linux_config(&manager.config, pod, container, target_id)),
        ..Default::default()
    })
}

fn linux_config(
    config: &crate::config::KubeletConfiguration,
    pod: &Pod,
    container: &Container,
    target_id: Option<&str>,
) -> pb::LinuxContainerConfig {
    let resources = container.resources.clone().unwrap_or_default();
    let requests = resources.requests.unwrap_or_default();
    let limits = resources.limits.unwrap_or_default();
    let cpu_request = crate::quantity::millicores(requests.get("cpu").or(limits.get("cpu")));
    let cpu_limit = crate::quantity::millicores(limits.get("cpu"));
    let memory_limit = crate::quantity::bytes(limits.get("memory"));
    // Upstream's conversions: shares = milli * 1024 / 1000 (min 2); quota over a
    // 100ms period.
    let cpu_shares = cpu_request.map(|m| (m * 1024 / 1000).max(2)).unwrap_or(2);
    let (cpu_period, cpu_quota) = match cpu_limit {
        Some(m) => (100_000, (m * 100_000 / 1000).max(1000)),
        None => (0, 0),
    };

    let pod_security = pod
        .spec
        .as_ref()
        .and_then(|s| s.security_context.clone())
        .unwrap_or_default();
    let security = container.security_context.clone().unwrap_or_default();
    let capabilities = security.capabilities.clone().unwrap_or_default();
    let namespace_mode = |on: Option<bool>| {
        if on.unwrap_or(false) {
            pb::NamespaceMode::Node as i32
        } else {
            pb::NamespaceMode::Pod as i32
        }
    };
    let spec = pod.spec.clone().unwrap_or_default();
    // A target only matters where the container would otherwise get a PID namespace
    // of its own, as in upstream's kubelet.
    let (pid_mode, pid_target) = if spec.host_pid.unwrap_or(false) {
        (pb::NamespaceMode::Node, "")
    } else if spec.share_process_namespace.unwrap_or(false) {
        (pb::NamespaceMode::Pod, "")
    } else if let Some(target) = target_id {
        (pb::NamespaceMode::Target, target)
    } else {
        (pb::NamespaceMode::Container, "")
    };
    pb::LinuxContainerConfig {
        resources: Some(pb::LinuxContainerResources {
            cpu_period,
            cpu_quota,
            cpu_shares,
            memory_limit_in_bytes: memory_limit.unwrap_or(0),
            ..Default::default()
        }),
        security_context: Some(pb::LinuxContainerSecurityContext {
            capabilities: Some(pb::Capability {
                add_capabilities: capabilities.add.unwrap_or_default(),
                drop_capabilities: capabilities.drop.unwrap_or_default(),
                ..Default::default()
            }),
            privileged: security.privileged.unwrap_or(false),
            namespace_options: Some(pb::NamespaceOption {
                network: namespace_mode(spec.host_network),
                pid: pid_mode as i32,
                ipc: namespace_mode(spec.host_ipc),
                target_id: pid_target.to_string(),
                ..Default::default()
            }),
            run_as_user: security
                .run_as_user
                .or(pod_security.run_as_user)
                .map(|value| pb::Int64Value { value }),
            run_as_group: security
                .run_as_group
                .or(pod_security.run_as_group)
                .map(|value| pb::Int64Value { value }),
            readonly_rootfs: security.read_only_root_filesystem.unwrap_or(false),
            supplemental_groups: pod_security
                .supplemental_groups
                .clone()
                .unwrap_or_default()
                .into_iter()
                .chain(pod_security.fs_group)
                .collect(),
            no_new_privs: security.allow_privilege_escalation == Some(false),
            seccomp: Some(super::security::container_seccomp(
                &config.root_dir,
                config.seccomp_default,
                pod,
                container,
            )),
            apparmor: super::security::container_apparmor(pod, container),
            ..Default::default()
        }),
    }
}

/// Runs a lifecycle handler (exec through CRI ExecSync, or httpGet against the pod).
///
/// # Errors
///
/// A message with the command's exit code and output, or the HTTP failure.
pub async fn run_handler(
    manager: &RuntimeManager,
    pod: &Pod,
    container_id: &str,
    handler: &LifecycleHandler,
) -> Result<(), String> {
    if let Some(exec) = &handler.exec {
        let mut rt = manager.runtime.runtime.clone();
        let response = rt
            .exec_sync(pb::ExecSyncRequest {
                container_id: container_id.to_string(),
                cmd: exec.command.clone().unwrap_or_default(),
                timeout: 0,
            })
            .await
            .map_err(|s| format!("exec hook failed: {}", s.message()))?
            .into_inner();
        if response.exit_code != 0 {
            return Err(format!(
                "command {:?} exited with {}: {}",
                exec.command.clone().unwrap_or_default(),
                response.exit_code,
                String::from_utf8_lossy(&response.stdout)
                    + String::from_utf8_lossy(&response.stderr)
            ));
        }
        return Ok(());
    }
    if let Some(http) = &handler.http_get {
        let pod_ip = pod
            .status
            .as_ref()
            .and_then(|s| s.pod_ip.clone())
            .unwrap_or_default();
        let host = http
            .host
            .clone()
            .filter(|h| !h.is_empty())
            .unwrap_or(pod_ip);
        let port = crate::prober::resolve_port(&http.port, pod, None)?;
        let path = http.path.clone().unwrap_or_else(|| "/".to_string());
        let https = http.scheme.as_deref() == Some("HTTPS");
        let code = crate::prober::http_get(&host, port, &path, &[], https, Duration::from_secs(10))
            .await?;
        if !(200..400).contains(&code) {
            return Err(format!("HTTP lifecycle hook returned status {code}"));
        }
        return Ok(());
    }
    if let Some(sleep) = &handler.sleep {
        tokio::time::sleep(Duration::from_secs(sleep.seconds.max(0) as u64)).await;
        return Ok(());
    }
    Err("lifecycle handler has no action".to_string())
}
