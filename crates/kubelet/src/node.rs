//! The node status manager: registers the Node, keeps its status current and renews
//! its Lease in `kube-node-lease`.
//!
//! [`NodeStatusManager::run`] registers (again whenever the Node disappears), then
//! computes the status every `nodeStatusUpdateFrequency` and patches it when it
//! changed or `nodeStatusReportFrequency` has passed. [`run_lease`] renews the
//! Lease every quarter of its duration.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use client::rest::RestClient;
use cri::v1 as pb;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{
    ContainerImage, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSpec, NodeStatus,
    NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference, Time};
use serde_json::json;
use tokio::sync::watch;

use crate::api;
use crate::config::KubeletConfiguration;
use crate::eviction::Observer;
use crate::remote::RemoteRuntime;

/// The version the kubelet reports in nodeInfo.
pub const KUBELET_VERSION: &str = "v1.33.0";

/// Filesystem usage of one mount, in bytes and inodes.
#[derive(Clone, Copy, Debug)]
pub struct FsStats {
    pub capacity_bytes: f64,
    pub available_bytes: f64,
    pub inodes: f64,
    pub inodes_free: f64,
}

/// statvfs(2) of `path`, or of its closest existing ancestor.
pub fn statvfs(path: &Path) -> Option<FsStats> {
    let mut path = path;
    while !path.exists() {
        path = path.parent()?;
    }
    let c_path = CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct; the path is NUL-terminated.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) } != 0 {
        return None;
    }
    let block = stat.f_frsize as f64;
    Some(FsStats {
        capacity_bytes: stat.f_blocks as f64 * block,
        available_bytes: stat.f_bavail as f64 * block,
        inodes: stat.f_files as f64,
        inodes_free: stat.f_ffree as f64,
    })
}

/// Returns the node name: `--hostname-override`, else the lowercased hostname.
pub fn node_name(config: &KubeletConfiguration) -> String {
    if let Some(name) = &config.hostname_override {
        return name.to_lowercase();
    }
    hostname().to_lowercase()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".to_string())
}

/// Finds the first IPv4 address of an up, non-loopback interface.
pub fn default_node_ip() -> Option<IpAddr> {
    let mut addrs: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills a linked list that freeifaddrs releases below.
    if unsafe { libc::getifaddrs(&mut addrs) } != 0 {
        return None;
    }
    let mut found = None;
    let mut cursor = addrs;
    while !cursor.is_null() {
        // SAFETY: cursor walks the list getifaddrs returned.
        let entry = unsafe { &*cursor };
        cursor = entry.ifa_next;
        let up = entry.ifa_flags & libc::IFF_UP as u32 != 0;
        let loopback = entry.ifa_flags & libc::IFF_LOOPBACK as u32 != 0;
        if !up || loopback || entry.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: ifa_addr is non-null, and its family gives the sockaddr type.
        if unsafe { (*entry.ifa_addr).sa_family } as i32 == libc::AF_INET {
            let sin = unsafe { &*(entry.ifa_addr as *const libc::sockaddr_in) };
            found = Some(IpAddr::from(
                u32::from_be(sin.sin_addr.s_addr).to_be_bytes(),
            ));
            break;
        }
    }
    // SAFETY: addrs came from getifaddrs.
    unsafe { libc::freeifaddrs(addrs) };
    found
}

/// Host facts gathered once at start.
#[derive(Clone, Debug)]
pub struct HostInfo {
    pub cpus: usize,
    pub memory_bytes: f64,
    pub system_info: NodeSystemInfo,
}

/// Reads CPU count, memory and the nodeInfo fields from the host.
pub fn host_info() -> HostInfo {
    // SAFETY: sysconf has no preconditions.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize;
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let os_image = read("/etc/os-release")
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| "Linux".to_string());
    let architecture = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    HostInfo {
        cpus,
        memory_bytes: crate::eviction::meminfo().map(|m| m.0).unwrap_or(0.0),
        system_info: NodeSystemInfo {
            machine_id: read("/etc/machine-id"),
            system_uuid: read("/sys/class/dmi/id/product_uuid"),
            boot_id: read("/proc/sys/kernel/random/boot_id"),
            kernel_version: read("/proc/sys/kernel/osrelease"),
            os_image,
            operating_system: "linux".to_string(),
            architecture: architecture.to_string(),
            kubelet_version: KUBELET_VERSION.to_string(),
            kube_proxy_version: KUBELET_VERSION.to_string(),
            container_runtime_version: String::new(),
            swap: None,
        },
    }
}

/// Builds the Node object the kubelet registers.
pub fn initial_node(config: &KubeletConfiguration, name: &str, host: &HostInfo) -> Node {
    let mut labels: BTreeMap<String, String> = config.node_labels.clone();
    labels.insert("kubernetes.io/hostname".to_string(), name.to_string());
    labels.insert("kubernetes.io/os".to_string(), "linux".to_string());
    labels.insert(
        "kubernetes.io/arch".to_string(),
        host.system_info.architecture.clone(),
    );
    labels.insert("beta.kubernetes.io/os".to_string(), "linux".to_string());
    labels.insert(
        "beta.kubernetes.io/arch".to_string(),
        host.system_info.architecture.clone(),
    );
    Node {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([(
                "volumes.kubernetes.io/controller-managed-attach-detach".to_string(),
                "true".to_string(),
            )])),
            ..Default::default()
        },
        spec: Some(NodeSpec {
            pod_cidr: (!config.pod_cidr.is_empty()).then(|| config.pod_cidr.clone()),
            pod_cidrs: (!config.pod_cidr.is_empty()).then(|| vec![config.pod_cidr.clone()]),
            taints: (!config.register_with_taints.is_empty())
                .then(|| config.register_with_taints.clone()),
            ..Default::default()
        }),
        status: None,
    }
}

/// Builds the Node from local facts alone, with the status computed as if the
/// runtime were ready: what admission uses before the first status update.
pub fn local_node(config: &KubeletConfiguration, name: &str, host: &HostInfo) -> Node {
    let mut node = initial_node(config, name, host);
    let observer = Observer::from_config(config);
    node.status = Some(compute_status(
        config,
        name,
        host,
        &observer,
        &RuntimeState::default(),
        None,
        Time(crate::now()),
    ));
    node
}

/// Runtime facts for [`compute_status`]: readiness, version and images.
#[derive(Clone, Debug, Default)]
pub struct RuntimeState {
    /// `Some(reason)` when the runtime is down or its network is not ready.
    pub not_ready: Option<String>,
    pub runtime_version: String,
    pub images: Vec<pb::Image>,
}

/// Computes the node's status. `previous` supplies the transition times of
/// conditions whose status did not change.
pub fn compute_status(
    config: &KubeletConfiguration,
    name: &str,
    host: &HostInfo,
    observer: &Observer,
    runtime: &RuntimeState,
    previous: Option<&NodeStatus>,
    now: Time,
) -> NodeStatus {
    let mut capacity = BTreeMap::new();
    capacity.insert("cpu".to_string(), Quantity(host.cpus.to_string()));
    let memory_kib = (host.memory_bytes / 1024.0) as i64;
    capacity.insert("memory".to_string(), Quantity(format!("{memory_kib}Ki")));
    capacity.insert("pods".to_string(), Quantity(config.max_pods.to_string()));
    let fs = statvfs(&config.root_dir);
    if let Some(fs) = fs {
        let kib = (fs.capacity_bytes / 1024.0) as i64;
        capacity.insert(
            "ephemeral-storage".to_string(),
            Quantity(format!("{kib}Ki")),
        );
    }
    capacity.insert("hugepages-2Mi".to_string(), Quantity("0".to_string()));

    // Allocatable is capacity minus systemReserved and kubeReserved, and for
    // memory also minus the hard eviction threshold.
    let mut allocatable = capacity.clone();
    let reserved = |resource: &str| -> f64 {
        [&config.system_reserved, &config.kube_reserved]
            .iter()
            .filter_map(|r| r.get(resource))
            .filter_map(|q| crate::quantity::parse(q).ok())
            .sum()
    };
    let reserve = observer.memory_reserve(host.memory_bytes) + reserved("memory");
    let memory_alloc = ((host.memory_bytes - reserve).max(0.0) / 1024.0) as i64;
    allocatable.insert("memory".to_string(), Quantity(format!("{memory_alloc}Ki")));
    let cpu_alloc = ((host.cpus as f64 - reserved("cpu")).max(0.0) * 1000.0).round() as i64;
    let cpu_text = if cpu_alloc % 1000 == 0 {
        (cpu_alloc / 1000).to_string()
    } else {
        format!("{cpu_alloc}m")
    };
    allocatable.insert("cpu".to_string(), Quantity(cpu_text));
    if let (Some(fs), Some(crate::eviction::Threshold::Percentage(p))) = (
        fs,
        crate::eviction::parse_threshold(
            "nodefs.available",
            config
                .eviction_hard
                .get("nodefs.available")
                .map(String::as_str)
                .unwrap_or("0%"),
        )
        .ok(),
    ) {
        let bytes = fs.capacity_bytes * (1.0 - p / 100.0);
        allocatable.insert(
            "ephemeral-storage".to_string(),
            Quantity(format!("{}", bytes as i64)),
        );
    }

    let pressure = observer.pressure();
    let condition = |type_: &str, status: bool, reason: &str, message: &str| {
        let status = if status { "True" } else { "False" }.to_string();
        let old = previous
            .and_then(|p| p.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == type_));
        let transition = match old {
            Some(old) if old.status == status => old.last_transition_time.clone(),
            _ => Some(now.clone()),
        };
        NodeCondition {
            type_: type_.to_string(),
            status,
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            last_heartbeat_time: Some(now.clone()),
            last_transition_time: transition,
        }
    };
    let conditions = vec![
        if pressure.memory {
            condition(
                "MemoryPressure",
                true,
                "KubeletHasInsufficientMemory",
                "kubelet has insufficient memory available",
            )
        } else {
            condition(
                "MemoryPressure",
                false,
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            )
        },
        if pressure.disk {
            condition(
                "DiskPressure",
                true,
                "KubeletHasDiskPressure",
                "kubelet has disk pressure",
            )
        } else {
            condition(
                "DiskPressure",
                false,
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
            )
        },
        if pressure.pid {
            condition(
                "PIDPressure",
                true,
                "KubeletHasInsufficientPID",
                "kubelet has insufficient PID available",
            )
        } else {
            condition(
                "PIDPressure",
                false,
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            )
        },
        match &runtime.not_ready {
            None => condition(
                "Ready",
                true,
                "KubeletReady",
                "kubelet is posting ready status",
            ),
            Some(reason) => condition("Ready", false, "KubeletNotReady", reason),
        },
    ];

    let mut addresses = Vec::new();
    let node_ip = config.node_ip.or_else(default_node_ip);
    if let Some(ip) = node_ip {
        addresses.push(NodeAddress {
            type_: "InternalIP".to_string(),
            address: ip.to_string(),
        });
    }
    addresses.push(NodeAddress {
        type_: "Hostname".to_string(),
        address: name.to_string(),
    });

    let mut images: Vec<ContainerImage> = runtime
        .images
        .iter()
        .map(|image| {
            let mut names = image.repo_digests.clone();
            names.extend(image.repo_tags.iter().cloned());
            ContainerImage {
                names: Some(names),
                size_bytes: Some(image.size as i64),
            }
        })
        .collect();
    images.sort_by_key(|i| std::cmp::Reverse(i.size_bytes));
    images.truncate(50);

    let mut system_info = host.system_info.clone();
    system_info.container_runtime_version = runtime.runtime_version.clone();

    NodeStatus {
        capacity: Some(capacity),
        allocatable: Some(allocatable),
        conditions: Some(conditions),
        addresses: Some(addresses),
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(k8s_openapi::api::core::v1::DaemonEndpoint {
                port: i32::from(config.port),
            }),
        }),
        node_info: Some(system_info),
        images: Some(images),
        ..Default::default()
    }
}

/// Status equality ignoring heartbeat times.
fn status_changed(a: &NodeStatus, b: &NodeStatus) -> bool {
    let strip = |s: &NodeStatus| {
        let mut s = s.clone();
        for c in s.conditions.iter_mut().flatten() {
            c.last_heartbeat_time = None;
        }
        s
    };
    strip(a) != strip(b)
}

/// Registers the node and keeps its status current.
pub struct NodeStatusManager {
    pub client: RestClient,
    pub config: Arc<KubeletConfiguration>,
    pub name: String,
    pub host: HostInfo,
    pub observer: Observer,
    pub runtime: RemoteRuntime,
    /// Receives the Node's UID after every registration, for the Lease owner.
    pub node_uid: watch::Sender<Option<String>>,
    /// Receives the Node with the status just computed, for admission.
    pub node_info: Arc<std::sync::Mutex<Node>>,
}

impl NodeStatusManager {
    /// Runs until `cancel` turns true. Failures are logged and retried on the next tick.
    pub async fn run(mut self, mut cancel: watch::Receiver<bool>) {
        let mut registered = false;
        let mut last: Option<(NodeStatus, Instant)> = None;
        loop {
            if !registered {
                match self.register().await {
                    Ok(uid) => {
                        registered = true;
                        last = None;
                        let _ = self.node_uid.send(Some(uid));
                    }
                    Err(error) => {
                        tracing::warn!(node = %self.name, %error, "unable to register node, retrying");
                    }
                }
            }
            if registered {
                match self.update_status(&mut last).await {
                    Ok(()) => {}
                    Err(error) if api::is_not_found(&error) => {
                        tracing::warn!(node = %self.name, "node object is gone, registering again");
                        registered = false;
                        continue;
                    }
                    Err(error) => {
                        tracing::warn!(node = %self.name, %error, "unable to update node status");
                    }
                }
            }
            let wait = if registered {
                self.config.node_status_update_frequency
            } else {
                Duration::from_secs(1)
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = crate::cancelled(&mut cancel) => return,
            }
        }
    }

    async fn register(&mut self) -> Result<String, client::rest::ClientError> {
        let node = initial_node(&self.config, &self.name, &self.host);
        let path = format!("/api/v1/nodes/{}", self.name);
        match api::create::<Node, _>(&self.client, "/api/v1/nodes", &node).await {
            Ok(created) => {
                tracing::info!(node = %self.name, "successfully registered node");
                Ok(created.metadata.uid.unwrap_or_default())
            }
            Err(error) if api::status_code(&error) == Some(409) => {
                // Reconcile the labels we own on an existing Node.
                let existing: Node = self.client.get(&path).request_json().await?;
                let patch = json!({"metadata": {"labels": node.metadata.labels}});
                let _: Node = api::merge_patch(&self.client, &path, &patch).await?;
                tracing::info!(node = %self.name, "node was previously registered");
                Ok(existing.metadata.uid.unwrap_or_default())
            }
            Err(error) => Err(error),
        }
    }

    async fn runtime_state(&mut self) -> RuntimeState {
        let mut state = RuntimeState::default();
        match self.runtime.version().await {
            Ok(v) => {
                state.runtime_version = format!("{}://{}", v.runtime_name, v.runtime_version);
            }
            Err(error) => {
                state.not_ready = Some(format!("container runtime is down: {error}"));
                return state;
            }
        }
        match self
            .runtime
            .runtime
            .status(pb::StatusRequest { verbose: false })
            .await
        {
            Ok(response) => {
                let conditions = response
                    .into_inner()
                    .status
                    .map(|s| s.conditions)
                    .unwrap_or_default();
                for c in conditions {
                    if !c.status {
                        state.not_ready = Some(match c.r#type.as_str() {
                            "NetworkReady" => format!(
                                "container runtime network not ready: {}: {}",
                                c.reason, c.message
                            ),
                            _ => {
                                format!("container runtime not ready: {}: {}", c.reason, c.message)
                            }
                        });
                    }
                }
            }
            Err(status) => {
                state.not_ready = Some(format!("container runtime status check failed: {status}"));
            }
        }
        if let Ok(images) = self
            .runtime
            .image
            .list_images(pb::ListImagesRequest { filter: None })
            .await
        {
            state.images = images.into_inner().images;
        }
        state
    }

    async fn update_status(
        &mut self,
        last: &mut Option<(NodeStatus, Instant)>,
    ) -> Result<(), client::rest::ClientError> {
        // Reading the Node each tick finds a deleted object even when the status
        // has not changed and no patch would be sent.
        let node_path = format!("/api/v1/nodes/{}", self.name);
        let mut node: Node = self.client.get(&node_path).request_json().await?;
        let runtime = self.runtime_state().await;
        let now = Time(crate::now());
        let status = compute_status(
            &self.config,
            &self.name,
            &self.host,
            &self.observer,
            &runtime,
            last.as_ref().map(|l| &l.0),
            now,
        );
        node.status = Some(status.clone());
        *self.node_info.lock().unwrap_or_else(|e| e.into_inner()) = node;
        if let Some((previous, at)) = last
            && !status_changed(previous, &status)
            && at.elapsed() < self.config.node_status_report_frequency
        {
            return Ok(());
        }
        let path = format!("/api/v1/nodes/{}/status", self.name);
        let _: Node = api::merge_patch(&self.client, &path, &json!({ "status": status })).await?;
        tracing::debug!(node = %self.name, "updated node status");
        *last = Some((status, Instant::now()));
        Ok(())
    }
}

/// Renews the node's Lease in `kube-node-lease` every quarter of
/// `nodeLeaseDurationSeconds`, creating it when missing, until `cancel` turns true.
pub async fn run_lease(
    client: RestClient,
    name: String,
    duration_seconds: i32,
    node_uid: watch::Receiver<Option<String>>,
    mut cancel: watch::Receiver<bool>,
) {
    let interval = Duration::from_secs_f64(f64::from(duration_seconds) * 0.25);
    loop {
        if let Err(error) = renew_lease(&client, &name, duration_seconds, &node_uid).await {
            tracing::warn!(node = %name, %error, "failed to renew node lease");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = crate::cancelled(&mut cancel) => return,
        }
    }
}

async fn renew_lease(
    client: &RestClient,
    name: &str,
    duration_seconds: i32,
    node_uid: &watch::Receiver<Option<String>>,
) -> Result<(), client::rest::ClientError> {
    let path = format!("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}");
    let now = MicroTime(crate::now());
    let owner = node_uid.borrow().clone().map(|uid| {
        vec![OwnerReference {
            api_version: "v1".to_string(),
            kind: "Node".to_string(),
            name: name.to_string(),
            uid,
            ..Default::default()
        }]
    });
    match api::get::<Lease>(client, &path).await? {
        Some(mut lease) => {
            let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
            spec.renew_time = Some(now);
            spec.holder_identity = Some(name.to_string());
            spec.lease_duration_seconds = Some(duration_seconds);
            if lease.metadata.owner_references.is_none() {
                lease.metadata.owner_references = owner;
            }
            let _: Lease = api::replace(client, &path, &lease).await?;
        }
        None => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(name.to_string()),
                    namespace: Some("kube-node-lease".to_string()),
                    owner_references: owner,
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(name.to_string()),
                    lease_duration_seconds: Some(duration_seconds),
                    renew_time: Some(now),
                    ..Default::default()
                }),
            };
            let _: Lease = api::create(
                client,
                "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                &lease,
            )
            .await?;
        }
    }
    Ok(())
}
