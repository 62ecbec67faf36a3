//! Builds a container's OCI runtime spec (`config.json`) from the kubelet's
//! `ContainerConfig`, the sandbox it belongs to and the image configuration.
//!
//! Entry point: [`container_spec`]. Containers join the sandbox's pinned network, IPC
//! and UTS namespaces and get their own mount and PID namespaces.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use cri::v1;
use oci_spec::runtime::{
    Capabilities, Capability, LinuxBuilder, LinuxCpu, LinuxDeviceBuilder, LinuxDeviceCgroupBuilder,
    LinuxDeviceType, LinuxMemory, LinuxNamespaceBuilder, LinuxNamespaceType, LinuxResources, Mount,
    MountBuilder, Spec,
};

use crate::error::{Error, Result};
use crate::images::ImageConfig;
use crate::store::SandboxRecord;

/// Capabilities a non-privileged container gets unless the kubelet adds or drops some,
/// the same set Docker and containerd grant.
const DEFAULT_CAPABILITIES: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// Every capability of Linux 6.x, for `ALL` and privileged containers.
const ALL_CAPABILITIES: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Files the runtime writes per sandbox and bind-mounts into every container.
#[derive(Clone, Debug)]
pub struct SandboxFiles {
    pub hosts: PathBuf,
    pub resolv_conf: PathBuf,
    pub hostname: PathBuf,
}

/// Everything [`container_spec`] needs besides the kubelet's config.
pub struct SpecInput<'a> {
    pub config: &'a v1::ContainerConfig,
    pub sandbox: &'a SandboxRecord,
    pub sandbox_files: &'a SandboxFiles,
    pub image: &'a ImageConfig,
    pub rootfs: &'a Path,
    pub cgroup_path: &'a str,
    /// PID namespace to join (the pod's or a target container's); `None` creates a new
    /// one unless the container uses the host's.
    pub pid_namespace: Option<PathBuf>,
    /// Whether the host enforces AppArmor, and its loaded profiles.
    pub apparmor: &'a crate::apparmor::Host,
}

/// Builds the OCI spec of a container. Errors are [`Error::InvalidArgument`] for
/// requests that cannot be run (no command, unknown capability, bad user).
pub fn container_spec(input: &SpecInput<'_>) -> Result<Spec> {
    let config = input.config;
    let linux_config = config.linux.clone().unwrap_or_default();
    let security = linux_config.security_context.clone().unwrap_or_default();
    let privileged = security.privileged;

    let mut spec = Spec::default();
    spec.set_hostname(None);
    spec.set_annotations(None);

    let mut root = spec.root().clone().unwrap_or_default();
    root.set_path(input.rootfs.to_path_buf());
    root.set_readonly(Some(security.readonly_rootfs));
    spec.set_root(Some(root));

    let mut process = spec.process().clone().unwrap_or_default();
    process.set_args(Some(command_line(config, input.image)?));
    process.set_env(Some(environment(config, input.image)));
    let working_dir = if !config.working_dir.is_empty() {
        config.working_dir.clone()
    } else if !input.image.working_dir.is_empty() {
        input.image.working_dir.clone()
    } else {
        "/".to_string()
    };
    process.set_cwd(PathBuf::from(working_dir));
    process.set_user(user(&security, input.image, input.rootfs)?);
    process.set_apparmor_profile(crate::apparmor::container_profile(
        &security,
        input.apparmor,
    )?);
    process.set_no_new_privileges(Some(security.no_new_privs));
    let capabilities = capabilities(security.capabilities.as_ref(), privileged)?;
    let seccomp = crate::seccomp::seccomp_profile(
        &security,
        &capabilities.bounding().clone().unwrap_or_default(),
    )?;
    process.set_capabilities(Some(capabilities));
    process.set_terminal(Some(config.tty));
    let resources = linux_config.resources.clone().unwrap_or_default();
    process.set_oom_score_adj(Some(clamp_oom_score_adj(resources.oom_score_adj)));
    spec.set_process(Some(process));

    spec.set_mounts(Some(mounts(input, privileged)));

    let mut namespaces = vec![
        LinuxNamespaceBuilder::default()
            .typ(LinuxNamespaceType::Mount)
            .build()
            .map_err(internal)?,
    ];
    let namespace_options = security.namespace_options.clone().unwrap_or_default();
    if namespace_options.pid != v1::NamespaceMode::Node as i32 {
        let mut pid = LinuxNamespaceBuilder::default().typ(LinuxNamespaceType::Pid);
        if let Some(path) = &input.pid_namespace {
            pid = pid.path(path.clone());
        }
        namespaces.push(pid.build().map_err(internal)?);
    }
    let pinned = &input.sandbox.namespaces;
    for (kind, path) in [
        (LinuxNamespaceType::Network, &pinned.net),
        (LinuxNamespaceType::Ipc, &pinned.ipc),
        (LinuxNamespaceType::Uts, &pinned.uts),
    ] {
        if let Some(path) = path {
            namespaces.push(
                LinuxNamespaceBuilder::default()
                    .typ(kind)
                    .path(path.clone())
                    .build()
                    .map_err(internal)?,
            );
        }
    }

    let mut linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .cgroups_path(PathBuf::from(input.cgroup_path))
        .resources(linux_resources(&resources, privileged)?)
        .build()
        .map_err(internal)?;
    if !privileged {
        let defaults = oci_spec::runtime::Linux::default();
        linux.set_masked_paths(defaults.masked_paths().clone());
        linux.set_readonly_paths(defaults.readonly_paths().clone());
    }
    linux.set_devices(Some(devices(&config.devices)?));
    linux.set_seccomp(seccomp);
    if !input.sandbox.sysctls.is_empty() {
        linux.set_sysctl(Some(input.sandbox.sysctls.clone().into_iter().collect()));
    }
    spec.set_linux(Some(linux));
    Ok(spec)
}

fn internal(error: impl std::fmt::Display) -> Error {
    Error::Internal(format!("failed to build OCI spec: {error}"))
}

/// Resolves the process arguments the way Docker does: the kubelet's command replaces
/// the image entrypoint, and its args replace the image cmd.
fn command_line(config: &v1::ContainerConfig, image: &ImageConfig) -> Result<Vec<String>> {
    let mut args = if config.command.is_empty() {
        image.entrypoint.clone()
    } else {
        config.command.clone()
    };
    if !config.args.is_empty() {
        args.extend(config.args.iter().cloned());
    } else if config.command.is_empty() {
        args.extend(image.cmd.iter().cloned());
    }
    if args.is_empty() {
        return Err(Error::InvalidArgument(
            "no command specified: set command or use an image with one".to_string(),
        ));
    }
    Ok(args)
}

/// Merges image and container environment; the container's value wins for a key.
fn environment(config: &v1::ContainerConfig, image: &ImageConfig) -> Vec<String> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |key: &str, value: &str| {
        if let Some(entry) = env.iter_mut().find(|(existing, _)| existing == key) {
            entry.1 = value.to_string();
        } else {
            env.push((key.to_string(), value.to_string()));
        }
    };
    set(
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    );
    for pair in &image.env {
        let (key, value) = pair.split_once('=').unwrap_or((pair.as_str(), ""));
        set(key, value);
    }
    for pair in &config.envs {
        set(&pair.key, &pair.value);
    }
    env.into_iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect()
}

fn user(
    security: &v1::LinuxContainerSecurityContext,
    image: &ImageConfig,
    rootfs: &Path,
) -> Result<oci_spec::runtime::User> {
    let (mut uid, mut gid) = (0u32, None::<u32>);
    if let Some(run_as) = &security.run_as_user {
        uid = u32::try_from(run_as.value)
            .map_err(|_| Error::InvalidArgument(format!("invalid run_as_user {}", run_as.value)))?;
    } else if !security.run_as_username.is_empty() {
        uid = lookup_id(&rootfs.join("etc/passwd"), &security.run_as_username)?;
    } else if !image.user.is_empty() {
        let (user_part, group_part) = image
            .user
            .split_once(':')
            .map_or((image.user.as_str(), None), |(u, g)| (u, Some(g)));
        uid = match user_part.parse() {
            Ok(uid) => uid,
            Err(_) => lookup_id(&rootfs.join("etc/passwd"), user_part)?,
        };
        if let Some(group) = group_part {
            gid = Some(match group.parse() {
                Ok(gid) => gid,
                Err(_) => lookup_id(&rootfs.join("etc/group"), group)?,
            });
        }
    }
    if let Some(run_as_group) = &security.run_as_group {
        gid = Some(u32::try_from(run_as_group.value).map_err(|_| {
            Error::InvalidArgument(format!("invalid run_as_group {}", run_as_group.value))
        })?);
    }
    let gid = match gid {
        Some(gid) => gid,
        None => primary_gid(&rootfs.join("etc/passwd"), uid).unwrap_or(0),
    };
    let additional: Vec<u32> = security
        .supplemental_groups
        .iter()
        .filter_map(|group| u32::try_from(*group).ok())
        .collect();

    let mut user = oci_spec::runtime::User::default();
    user.set_uid(uid);
    user.set_gid(gid);
    user.set_additional_gids(if additional.is_empty() {
        None
    } else {
        Some(additional)
    });
    Ok(user)
}

/// Finds the numeric id of `name` in an `/etc/passwd` or `/etc/group` style file.
fn lookup_id(file: &Path, name: &str) -> Result<u32> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.len() > 2 && fields[0] == name)
        .and_then(|fields| fields[2].parse().ok())
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "user or group {name:?} not found in {}",
                file.display()
            ))
        })
}

fn primary_gid(passwd: &Path, uid: u32) -> Option<u32> {
    let text = std::fs::read_to_string(passwd).ok()?;
    text.lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.len() > 3 && fields[2].parse() == Ok(uid))
        .and_then(|fields| fields[3].parse().ok())
}

fn parse_capability(name: &str) -> Result<Capability> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|_| Error::InvalidArgument(format!("unknown capability {name:?}")))
}

fn capabilities(
    requested: Option<&v1::Capability>,
    privileged: bool,
) -> Result<oci_spec::runtime::LinuxCapabilities> {
    let mut names: Vec<String> = if privileged {
        ALL_CAPABILITIES
            .iter()
            .map(|name| name.to_string())
            .collect()
    } else {
        DEFAULT_CAPABILITIES
            .iter()
            .map(|name| name.to_string())
            .collect()
    };
    if let Some(requested) = requested.filter(|_| !privileged) {
        let normalize = |name: &String| name.to_uppercase().trim_start_matches("CAP_").to_string();
        for add in requested.add_capabilities.iter().map(normalize) {
            if add == "ALL" {
                names = ALL_CAPABILITIES
                    .iter()
                    .map(|name| name.to_string())
                    .collect();
            } else if !names.contains(&add) {
                names.push(add);
            }
        }
        for drop in requested.drop_capabilities.iter().map(normalize) {
            if drop == "ALL" {
                names.clear();
            } else {
                names.retain(|name| *name != drop);
            }
        }
        // Adds win over drops, so `drop: [ALL], add: [X]` keeps X.
        for add in requested.add_capabilities.iter().map(normalize) {
            if add != "ALL" && !names.contains(&add) {
                names.push(add);
            }
        }
    }
    let set: Capabilities = names
        .iter()
        .map(|name| parse_capability(name))
        .collect::<Result<HashSet<_>>>()?;
    let mut capabilities = oci_spec::runtime::LinuxCapabilities::default();
    capabilities.set_bounding(Some(set.clone()));
    capabilities.set_effective(Some(set.clone()));
    capabilities.set_permitted(Some(set));
    capabilities.set_inheritable(None);
    capabilities.set_ambient(None);
    Ok(capabilities)
}

static OOM_CLAMP_LOGGED: AtomicBool = AtomicBool::new(false);

/// Clamps a negative `oom_score_adj` to 0: lowering the score needs CAP_SYS_RESOURCE,
/// which a runtime inside a restricted host may lack, and the OCI runtime would then
/// fail the whole container. Logged once per daemon.
fn clamp_oom_score_adj(requested: i64) -> i32 {
    let value = requested.clamp(-1000, 1000) as i32;
    if value >= 0 {
        return value;
    }
    if !OOM_CLAMP_LOGGED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            oom_score_adj = value,
            "clamping negative oom_score_adj to 0; further clamps are not logged"
        );
    }
    0
}

fn linux_resources(
    resources: &v1::LinuxContainerResources,
    privileged: bool,
) -> Result<LinuxResources> {
    let mut cpu = LinuxCpu::default();
    if resources.cpu_shares > 0 {
        cpu.set_shares(Some(resources.cpu_shares as u64));
    }
    if resources.cpu_quota > 0 {
        cpu.set_quota(Some(resources.cpu_quota));
    }
    if resources.cpu_period > 0 {
        cpu.set_period(Some(resources.cpu_period as u64));
    }
    if !resources.cpuset_cpus.is_empty() {
        cpu.set_cpus(Some(resources.cpuset_cpus.clone()));
    }
    if !resources.cpuset_mems.is_empty() {
        cpu.set_mems(Some(resources.cpuset_mems.clone()));
    }

    let mut memory = LinuxMemory::default();
    if resources.memory_limit_in_bytes > 0 {
        memory.set_limit(Some(resources.memory_limit_in_bytes));
        let swap = if resources.memory_swap_limit_in_bytes > 0 {
            resources.memory_swap_limit_in_bytes
        } else {
            resources.memory_limit_in_bytes
        };
        memory.set_swap(Some(swap));
    }

    let mut linux_resources = LinuxResources::default();
    linux_resources.set_cpu(Some(cpu));
    linux_resources.set_memory(Some(memory));
    let device_rule = LinuxDeviceCgroupBuilder::default()
        .allow(privileged)
        .access("rwm")
        .build()
        .map_err(internal)?;
    linux_resources.set_devices(Some(vec![device_rule]));
    Ok(linux_resources)
}

/// Resources for `runc update`, from UpdateContainerResources.
pub fn update_resources(resources: &v1::LinuxContainerResources) -> Result<LinuxResources> {
    let mut update = linux_resources(resources, false)?;
    update.set_devices(None);
    Ok(update)
}

fn devices(requested: &[v1::Device]) -> Result<Vec<oci_spec::runtime::LinuxDevice>> {
    use nix::sys::stat::{SFlag, major, minor, stat};
    let mut devices = Vec::new();
    for device in requested {
        let info = stat(device.host_path.as_str()).map_err(|errno| {
            Error::InvalidArgument(format!("device {}: {errno}", device.host_path))
        })?;
        let kind = SFlag::from_bits_truncate(info.st_mode & SFlag::S_IFMT.bits());
        let typ = if kind == SFlag::S_IFBLK {
            LinuxDeviceType::B
        } else if kind == SFlag::S_IFCHR {
            LinuxDeviceType::C
        } else {
            return Err(Error::InvalidArgument(format!(
                "{} is not a device",
                device.host_path
            )));
        };
        devices.push(
            LinuxDeviceBuilder::default()
                .path(PathBuf::from(&device.container_path))
                .typ(typ)
                .major(major(info.st_rdev) as i64)
                .minor(minor(info.st_rdev) as i64)
                .file_mode(info.st_mode & 0o777)
                .build()
                .map_err(internal)?,
        );
    }
    Ok(devices)
}

fn bind_mount(destination: &str, source: &Path, options: Vec<String>) -> Mount {
    let mut mount = Mount::default();
    mount.set_destination(PathBuf::from(destination));
    mount.set_typ(Some("bind".to_string()));
    mount.set_source(Some(source.to_path_buf()));
    mount.set_options(Some(options));
    mount
}

/// Lists the default filesystem mounts, the sandbox files, then the kubelet's mounts.
/// A kubelet mount replaces a default one at the same destination.
fn mounts(input: &SpecInput<'_>, privileged: bool) -> Vec<Mount> {
    let mut mounts = oci_spec::runtime::get_default_mounts();
    let cgroup = MountBuilder::default()
        .destination("/sys/fs/cgroup")
        .typ("cgroup")
        .source("cgroup")
        .options(vec![
            "ro".into(),
            "nosuid".into(),
            "noexec".into(),
            "nodev".into(),
        ])
        .build();
    if let Ok(cgroup) = cgroup {
        mounts.push(cgroup);
    }
    if privileged {
        for mount in mounts
            .iter_mut()
            .filter(|mount| mount.destination() == Path::new("/sys"))
        {
            let options: Vec<String> = mount
                .options()
                .clone()
                .unwrap_or_default()
                .into_iter()
                .filter(|option| option != "ro")
                .collect();
            mount.set_options(Some(options));
        }
    }

    // Containers share the /dev/shm of the IPC namespace they are in: the pod's tmpfs, or
    // the host's with host IPC. Records from before pods had a tmpfs keep the default.
    let shm = if input.sandbox.host_ipc {
        Some(Path::new("/dev/shm"))
    } else {
        input.sandbox.shm.as_deref()
    };
    if let Some(source) = shm {
        mounts.retain(|existing| existing.destination() != Path::new("/dev/shm"));
        mounts.push(bind_mount(
            "/dev/shm",
            source,
            vec!["rbind".into(), "rprivate".into(), "rw".into()],
        ));
    }

    // NOTE: privileged containers see no host devices.
    let files = input.sandbox_files;
    for (destination, source) in [
        ("/etc/hosts", &files.hosts),
        ("/etc/resolv.conf", &files.resolv_conf),
        ("/etc/hostname", &files.hostname),
    ] {
        mounts.push(bind_mount(
            destination,
            source,
            vec!["rbind".into(), "rprivate".into(), "rw".into()],
        ));
    }

    for requested in &input.config.mounts {
        let propagation = match v1::MountPropagation::try_from(requested.propagation) {
            Ok(v1::MountPropagation::PropagationHostToContainer) => "rslave",
            Ok(v1::MountPropagation::PropagationBidirectional) => "rshared",
            _ => "rprivate",
        };
        let access = if requested.readonly { "ro" } else { "rw" };
        let mount = bind_mount(
            &requested.container_path,
            Path::new(&requested.host_path),
            vec!["rbind".into(), propagation.into(), access.into()],
        );
        mounts.retain(|existing| existing.destination() != mount.destination());
        mounts.push(mount);
    }
    mounts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(command: &[&str], args: &[&str]) -> v1::ContainerConfig {
        v1::ContainerConfig {
            command: command.iter().map(|s| s.to_string()).collect(),
            args: args.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn command_line_follows_docker_rules() {
        let image = ImageConfig {
            entrypoint: vec!["ep".into()],
            cmd: vec!["cmd".into()],
            ..Default::default()
        };
        let cases: &[(&[&str], &[&str], &[&str])] = &[
            (&[], &[], &["ep", "cmd"]),
            (&[], &["a"], &["ep", "a"]),
            (&["c"], &[], &["c"]),
            (&["c"], &["a"], &["c", "a"]),
        ];
        for (command, args, expected) in cases {
            assert_eq!(
                command_line(&config(command, args), &image).unwrap(),
                *expected,
                "{command:?} {args:?}"
            );
        }
        assert!(command_line(&config(&[], &[]), &ImageConfig::default()).is_err());
    }

    #[test]
    fn capabilities_add_and_drop() {
        let requested = v1::Capability {
            add_capabilities: vec!["NET_ADMIN".into()],
            drop_capabilities: vec!["KILL".into()],
            ..Default::default()
        };
        let caps = capabilities(Some(&requested), false).unwrap();
        let bounding = caps.bounding().clone().unwrap();
        assert!(bounding.contains(&Capability::NetAdmin));
        assert!(!bounding.contains(&Capability::Kill));
        assert!(bounding.contains(&Capability::Chown));

        let all_dropped = v1::Capability {
            drop_capabilities: vec!["ALL".into()],
            ..Default::default()
        };
        assert!(
            capabilities(Some(&all_dropped), false)
                .unwrap()
                .bounding()
                .clone()
                .unwrap()
                .is_empty()
        );

        let unknown = v1::Capability {
            add_capabilities: vec!["NOPE".into()],
            ..Default::default()
        };
        assert!(capabilities(Some(&unknown), false).is_err());
    }

    #[test]
    fn environment_container_overrides_image() {
        let image = ImageConfig {
            env: vec!["A=1".into(), "B=2".into()],
            ..Default::default()
        };
        let mut container = config(&["x"], &[]);
        container.envs = vec![v1::KeyValue {
            key: "B".into(),
            value: "3".into(),
        }];
        let env = environment(&container, &image);
        assert!(env.contains(&"A=1".to_string()));
        assert!(env.contains(&"B=3".to_string()));
        assert!(!env.contains(&"B=2".to_string()));
    }

    #[test]
    fn negative_oom_score_adj_is_clamped() {
        assert_eq!(clamp_oom_score_adj(-998), 0);
        assert_eq!(clamp_oom_score_adj(500), 500);
        assert_eq!(clamp_oom_score_adj(5000), 1000);
    }

    /// Builds the spec of a container asking for `profile` on a host with AppArmor
    /// enabled and `k8s-deny-write` loaded.
    fn spec_with_apparmor(profile: v1::SecurityProfile) -> Result<Spec> {
        let dir = tempfile::tempdir().unwrap();
        let profiles_file = dir.path().join("profiles");
        std::fs::write(&profiles_file, "k8s-deny-write (enforce)\n").unwrap();
        let host = crate::apparmor::Host {
            enabled: true,
            profiles_file,
        };
        let sandbox: SandboxRecord = serde_json::from_value(serde_json::json!({
            "id": "sandbox", "name": "pod", "uid": "uid", "namespace": "default",
            "attempt": 0, "labels": {}, "annotations": {}, "created_at": 0,
            "state": "Ready", "hostname": "pod", "log_directory": "",
            "cgroup_parent": "", "runtime_handler": "", "host_network": false,
            "host_ipc": false, "host_pid": false, "sysctls": {}, "namespaces": {},
            "ip": "", "additional_ips": [], "cni_config": null, "cni_result": null,
        }))
        .expect("a sandbox record");
        let mut container = config(&["sleep", "1"], &[]);
        container.linux = Some(v1::LinuxContainerConfig {
            security_context: Some(v1::LinuxContainerSecurityContext {
                apparmor: Some(profile),
                ..Default::default()
            }),
            ..Default::default()
        });
        container_spec(&SpecInput {
            config: &container,
            sandbox: &sandbox,
            sandbox_files: &SandboxFiles {
                hosts: dir.path().join("hosts"),
                resolv_conf: dir.path().join("resolv.conf"),
                hostname: dir.path().join("hostname"),
            },
            image: &ImageConfig::default(),
            rootfs: dir.path(),
            cgroup_path: "/pod/container",
            pid_namespace: None,
            apparmor: &host,
        })
    }

    #[test]
    fn apparmor_profile_reaches_the_process() {
        let spec = spec_with_apparmor(v1::SecurityProfile {
            profile_type: v1::security_profile::ProfileType::Localhost as i32,
            localhost_ref: "k8s-deny-write".to_string(),
        })
        .expect("a spec");
        let process = spec.process().clone().expect("a process");
        assert_eq!(
            process.apparmor_profile().as_deref(),
            Some("k8s-deny-write")
        );
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["process"]["apparmorProfile"], "k8s-deny-write");

        let missing = spec_with_apparmor(v1::SecurityProfile {
            profile_type: v1::security_profile::ProfileType::Localhost as i32,
            localhost_ref: "not-loaded".to_string(),
        });
        assert!(
            matches!(missing, Err(Error::InvalidArgument(ref message)) if message.contains("\"not-loaded\" for Localhost is not loaded")),
            "{missing:?}"
        );
    }
}
