//! The runtime core: pod sandboxes and their bookkeeping. Container operations live in
//! [`crate::container`]; the gRPC layer in [`crate::service`] only translates messages.
//!
//! Entry point: [`Runtime::new`], which also recovers records written by an earlier run.
//! Records sit in memory behind a mutex that is never held across an await; every change
//! is written to the [`Store`] before the call returns.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cri::v1;

use crate::cni::{Cni, PodNetwork};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::images::ImageStore;
use crate::namespaces::{self, NamespaceRequest};
use crate::oci::SandboxFiles;
use crate::oci_runtime::OciRuntime;
use crate::pod_init;
use crate::store::{ContainerRecord, SandboxRecord, SandboxState, Store, now_nanos};

/// Name reported in `VersionResponse.runtime_name`.
pub const RUNTIME_NAME: &str = "container-runtime";

/// The runtime's state and the tools it drives.
pub struct Runtime {
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) images: Arc<dyn ImageStore>,
    pub(crate) cni: Cni,
    pub(crate) oci: OciRuntime,
    pub(crate) sandboxes: Mutex<HashMap<String, SandboxRecord>>,
    pub(crate) containers: Mutex<HashMap<String, ContainerRecord>>,
}

/// Creates a new 64-hex-digit object id, the form containerd and crictl expect.
pub fn new_id() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

impl Runtime {
    /// Opens the state directories and loads the records of an earlier run. Sandboxes
    /// whose pinned network namespace is gone (after a reboot) come back not ready.
    pub fn new(config: Config, images: Arc<dyn ImageStore>) -> Result<Runtime> {
        let store = Store::open(&config.root)?;
        for dir in [
            config.state.clone(),
            config.state.join("attach"),
            config.oci_runtime_root(),
        ] {
            std::fs::create_dir_all(&dir).map_err(Error::io("failed to create", &dir))?;
        }

        let mut sandboxes = HashMap::new();
        for mut record in store.load_sandboxes() {
            let lost = record
                .namespaces
                .net
                .as_ref()
                .is_some_and(|path| !namespaces::is_pinned(path));
            if record.state == SandboxState::Ready && lost {
                tracing::warn!(pod_sandbox_id = %record.id, "network namespace is gone; marking sandbox not ready");
                record.state = SandboxState::NotReady;
                store.save_sandbox(&record)?;
            }
            let init_lost = record
                .pod_init
                .as_ref()
                .is_some_and(|init| !pod_init::is_running(init));
            if record.state == SandboxState::Ready && init_lost {
                tracing::warn!(pod_sandbox_id = %record.id, "shared PID namespace is gone; marking sandbox not ready");
                record.state = SandboxState::NotReady;
                store.save_sandbox(&record)?;
            }
            sandboxes.insert(record.id.clone(), record);
        }
        let containers: HashMap<String, ContainerRecord> = store
            .load_containers()
            .into_iter()
            .map(|record| (record.id.clone(), record))
            .collect();
        tracing::info!(
            sandboxes = sandboxes.len(),
            containers = containers.len(),
            "recovered state"
        );

        Ok(Runtime {
            cni: Cni {
                bin_dir: config.cni_bin_dir.clone(),
                conf_dir: config.cni_conf_dir.clone(),
            },
            oci: OciRuntime {
                binary: config.oci_runtime.clone(),
                root: config.oci_runtime_root(),
            },
            config,
            store,
            images,
            sandboxes: Mutex::new(sandboxes),
            containers: Mutex::new(containers),
        })
    }

    /// Returns the daemon configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Returns the image store.
    pub fn images(&self) -> &Arc<dyn ImageStore> {
        &self.images
    }

    /// Reports whether a CNI network configuration exists, with the reason if not.
    pub fn network_ready(&self) -> std::result::Result<(), String> {
        match self.cni.load_network() {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(format!(
                "no network config found in {}",
                self.config.cni_conf_dir.display()
            )),
            Err(error) => Err(error.to_string()),
        }
    }

    pub(crate) fn sandbox(&self, id: &str) -> Result<SandboxRecord> {
        lock(&self.sandboxes)
            .get(id)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("pod sandbox {id:?} not found")))
    }

    pub(crate) fn sandbox_files(&self, id: &str) -> SandboxFiles {
        let dir = self.store.sandbox_dir(id);
        SandboxFiles {
            hosts: dir.join("hosts"),
            resolv_conf: dir.join("resolv.conf"),
            hostname: dir.join("hostname"),
        }
    }

    fn save_sandbox(&self, record: SandboxRecord) -> Result<()> {
        self.store.save_sandbox(&record)?;
        lock(&self.sandboxes).insert(record.id.clone(), record);
        Ok(())
    }

    /// Lists sandbox records matching `filter`.
    pub fn sandboxes(&self, filter: Option<&v1::PodSandboxFilter>) -> Vec<SandboxRecord> {
        let mut records: Vec<SandboxRecord> = lock(&self.sandboxes)
            .values()
            .filter(|record| {
                let Some(filter) = filter else { return true };
                if !filter.id.is_empty() && !record.id.starts_with(&filter.id) {
                    return false;
                }
                if let Some(state) = &filter.state
                    && sandbox_state(record) as i32 != state.state
                {
                    return false;
                }
                labels_match(&record.labels, &filter.label_selector)
            })
            .cloned()
            .collect();
        records.sort_by_key(|record| record.created_at);
        records
    }

    /// Creates a pod sandbox: pinned namespaces, the /dev/shm tmpfs, an init for a shared
    /// PID namespace, hostname, resolv.conf and hosts files, and the CNI network. Everything made so far is undone when a step fails.
    pub async fn run_pod_sandbox(
        &self,
        config: &v1::PodSandboxConfig,
        runtime_handler: &str,
    ) -> Result<String> {
        let metadata = config
            .metadata
            .clone()
            .ok_or_else(|| Error::InvalidArgument("sandbox config metadata is missing".into()))?;
        for (field, value) in [
            ("name", &metadata.name),
            ("namespace", &metadata.namespace),
            ("uid", &metadata.uid),
        ] {
            if value.is_empty() {
                return Err(Error::InvalidArgument(format!(
                    "sandbox metadata.{field} is empty"
                )));
            }
        }
        if !runtime_handler.is_empty() && runtime_handler != "runc" {
            return Err(Error::InvalidArgument(format!(
                "unknown runtime handler {runtime_handler:?}; only \"runc\" or empty"
            )));
        }
        if let Some(existing) = lock(&self.sandboxes).values().find(|record| {
            record.name == metadata.name
                && record.namespace == metadata.namespace
                && record.uid == metadata.uid
                && record.attempt == metadata.attempt
        }) {
            return Err(Error::AlreadyExists(format!(
                "sandbox name {}_{}_{}_{} is reserved for {}",
                metadata.name, metadata.namespace, metadata.uid, metadata.attempt, existing.id
            )));
        }

        let linux = config.linux.clone().unwrap_or_default();
        let options = linux
            .security_context
            .as_ref()
            .and_then(|context| context.namespace_options.clone())
            .unwrap_or_default();
        let host_network = options.network == v1::NamespaceMode::Node as i32;
        let host_ipc = options.ipc == v1::NamespaceMode::Node as i32;
        let host_pid = options.pid == v1::NamespaceMode::Node as i32;

        let id = new_id();
        let hostname = if config.hostname.is_empty() || host_network {
            nix::unistd::gethostname()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default()
        } else {
            config.hostname.clone()
        };
        let mut record = SandboxRecord {
            id: id.clone(),
            name: metadata.name.clone(),
            uid: metadata.uid.clone(),
            namespace: metadata.namespace.clone(),
            attempt: metadata.attempt,
            labels: config.labels.clone().into_iter().collect(),
            annotations: config.annotations.clone().into_iter().collect(),
            created_at: now_nanos(),
            state: SandboxState::Ready,
            hostname: hostname.clone(),
            log_directory: config.log_directory.clone(),
            cgroup_parent: linux.cgroup_parent.clone(),
            runtime_handler: runtime_handler.to_string(),
            host_network,
            host_ipc,
            host_pid,
            sysctls: linux.sysctls.clone().into_iter().collect(),
            namespaces: Default::default(),
            pod_init: None,
            shm: None,
            ip: String::new(),
            additional_ips: Vec::new(),
            cni_config: None,
            cni_result: None,
        };
        tracing::info!(pod = %format!("{}/{}", record.namespace, record.name), pod_sandbox_id = %id, "running pod sandbox");

        // Only an explicit POD mode starts an init. POD is also the protobuf default, so
        // a config without namespace options would otherwise start one for every pod.
        let share_pid = linux
            .security_context
            .as_ref()
            .and_then(|context| context.namespace_options.as_ref())
            .is_some_and(|options| options.pid == v1::NamespaceMode::Pod as i32);
        let result = self.set_up_sandbox(&mut record, config, share_pid).await;
        if let Err(error) = result {
            tracing::warn!(pod_sandbox_id = %id, %error, "pod sandbox setup failed; cleaning up");
            self.tear_down_network(&record).await;
            release_local_resources(&record);
            let _ = std::fs::remove_dir_all(self.namespace_dir(&id));
            let _ = self.store.remove_sandbox(&id);
            return Err(error);
        }
        self.save_sandbox(record)?;
        Ok(id)
    }

    fn namespace_dir(&self, id: &str) -> PathBuf {
        self.config.state.join("sandboxes").join(id)
    }

    async fn set_up_sandbox(
        &self,
        record: &mut SandboxRecord,
        config: &v1::PodSandboxConfig,
        share_pid: bool,
    ) -> Result<()> {
        let network = if record.host_network {
            None
        } else {
            let network = self.cni.load_network()?.ok_or_else(|| {
                Error::FailedPrecondition(format!(
                    "network is not ready: no CNI configuration in {}",
                    self.config.cni_conf_dir.display()
                ))
            })?;
            Some(network)
        };

        let request = NamespaceRequest {
            net: !record.host_network,
            ipc: !record.host_ipc,
            uts: !record.host_network,
        };
        record.namespaces =
            namespaces::pin(&self.namespace_dir(&record.id), request, &record.hostname)?;
        if !record.host_ipc {
            record.shm = Some(namespaces::mount_shm(
                &self.namespace_dir(&record.id).join("shm"),
            )?);
        }
        if share_pid {
            record.pod_init = Some(pod_init::start(&self.config.shim_binary).await?);
        }
        self.write_sandbox_files(record, config)?;

        if let (Some(network), Some(netns)) = (network, record.namespaces.net.clone()) {
            record.cni_config = Some(network.clone());
            let pod = pod_network(record, &netns, config);
            let result = self.cni.add(&network, &pod).await?;
            let ips = crate::cni::result_ips(&result);
            record.cni_result = Some(result);
            record.ip = ips.first().cloned().unwrap_or_default();
            record.additional_ips = ips.into_iter().skip(1).collect();
            self.write_hosts(record)?;
        }
        Ok(())
    }

    fn write_sandbox_files(
        &self,
        record: &SandboxRecord,
        config: &v1::PodSandboxConfig,
    ) -> Result<()> {
        let files = self.sandbox_files(&record.id);
        let write = |path: &PathBuf, contents: String| -> Result<()> {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(Error::io("failed to create", parent))?;
            }
            std::fs::write(path, contents).map_err(Error::io("failed to write", path))
        };
        write(&files.hostname, format!("{}\n", record.hostname))?;

        let resolv = match &config.dns_config {
            Some(dns)
                if !dns.servers.is_empty()
                    || !dns.searches.is_empty()
                    || !dns.options.is_empty() =>
            {
                resolv_conf(dns)
            }
            _ => std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
        };
        write(&files.resolv_conf, resolv)?;
        self.write_hosts(record)
    }

    fn write_hosts(&self, record: &SandboxRecord) -> Result<()> {
        let path = self.sandbox_files(&record.id).hosts;
        let mut hosts =
            String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        if !record.ip.is_empty() {
            hosts.push_str(&format!("{}\t{}\n", record.ip, record.hostname));
        }
        std::fs::write(&path, hosts).map_err(Error::io("failed to write", &path))
    }

    async fn tear_down_network(&self, record: &SandboxRecord) {
        let (Some(network), Some(netns)) = (&record.cni_config, &record.namespaces.net) else {
            return;
        };
        let config = v1::PodSandboxConfig::default();
        let pod = pod_network(record, netns, &config);
        if let Err(error) = self
            .cni
            .del(network, &pod, record.cni_result.as_ref())
            .await
        {
            tracing::warn!(pod_sandbox_id = %record.id, %error, "CNI DEL failed");
        }
    }

    /// Stops every container of the sandbox, detaches it from the network and releases
    /// its network namespace. Stopping a stopped sandbox succeeds.
    pub async fn stop_pod_sandbox(&self, id: &str) -> Result<()> {
        let mut record = self.sandbox(id)?;
        for container in self.containers_of(id) {
            self.stop_container(&container, 0).await?;
        }
        if record.state == SandboxState::NotReady {
            return Ok(());
        }
        tracing::info!(pod_sandbox_id = id, "stopping pod sandbox");
        self.tear_down_network(&record).await;
        if let Some(net) = record.namespaces.net.take() {
            namespaces::unpin_one(&net);
        }
        if let Some(init) = &record.pod_init {
            pod_init::stop(init);
        }
        record.state = SandboxState::NotReady;
        self.save_sandbox(record)
    }

    /// Removes the sandbox and its containers. Removing an unknown sandbox succeeds.
    pub async fn remove_pod_sandbox(&self, id: &str) -> Result<()> {
        let Ok(record) = self.sandbox(id) else {
            return Ok(());
        };
        if record.state == SandboxState::Ready {
            self.stop_pod_sandbox(id).await?;
        }
        for container in self.containers_of(id) {
            self.remove_container(&container).await?;
        }
        let record = self.sandbox(id)?;
        release_local_resources(&record);
        let _ = std::fs::remove_dir_all(self.namespace_dir(id));
        self.store.remove_sandbox(id)?;
        lock(&self.sandboxes).remove(id);
        tracing::info!(pod_sandbox_id = id, "removed pod sandbox");
        Ok(())
    }

    pub(crate) fn containers_of(&self, sandbox_id: &str) -> Vec<String> {
        lock(&self.containers)
            .values()
            .filter(|record| record.sandbox_id == sandbox_id)
            .map(|record| record.id.clone())
            .collect()
    }

    /// Returns the pinned network namespace of a ready sandbox; host-network sandboxes
    /// have none and are rejected.
    pub fn sandbox_netns(&self, id: &str) -> Result<PathBuf> {
        let record = self.sandbox(id)?;
        if record.state != SandboxState::Ready {
            return Err(Error::FailedPrecondition(format!(
                "pod sandbox {id} is not ready"
            )));
        }
        record.namespaces.net.ok_or_else(|| {
            // NOTE: port-forward to host-network pods would connect in the runtime's own
            // namespace; it is rejected instead.
            Error::FailedPrecondition(format!("pod sandbox {id} uses the host network"))
        })
    }

    /// Returns the sandbox's status message.
    pub fn pod_sandbox_status(&self, id: &str) -> Result<v1::PodSandboxStatus> {
        let record = self.sandbox(id)?;
        let mode = |host: bool| if host { v1::NamespaceMode::Node } else { v1::NamespaceMode::Pod } as i32;
        Ok(v1::PodSandboxStatus {
            id: record.id.clone(),
            metadata: Some(sandbox_metadata(&record)),
            state: sandbox_state(&record) as i32,
            created_at: record.created_at,
            network: Some(v1::PodSandboxNetworkStatus {
                ip: record.ip.clone(),
                additional_ips: record
                    .additional_ips
                    .iter()
                    .map(|ip| v1::PodIp { ip: ip.clone() })
                    .collect(),
            }),
            linux: Some(v1::LinuxPodSandboxStatus {
                namespaces: Some(v1::Namespace {
                    options: Some(v1::NamespaceOption {
                        network: mode(record.host_network),
                        pid: if record.host_pid {
                            v1::NamespaceMode::Node
                        } else {
                            v1::NamespaceMode::Container
                        } as i32,
                        ipc: mode(record.host_ipc),
                        ..Default::default()
                    }),
                }),
            }),
            labels: record.labels.clone().into_iter().collect(),
            annotations: record.annotations.clone().into_iter().collect(),
            runtime_handler: record.runtime_handler.clone(),
        })
    }

    /// Returns the stats of the sandbox's pod cgroup and its containers.
    pub fn pod_sandbox_stats(&self, id: &str) -> Result<v1::PodSandboxStats> {
        let record = self.sandbox(id)?;
        let usage = crate::cgroups::usage(&record.cgroup_parent);
        let containers = self
            .containers_of(id)
            .iter()
            .filter_map(|container| self.container_stats(container).ok())
            .collect();
        Ok(v1::PodSandboxStats {
            attributes: Some(v1::PodSandboxAttributes {
                id: record.id.clone(),
                metadata: Some(sandbox_metadata(&record)),
                labels: record.labels.clone().into_iter().collect(),
                annotations: record.annotations.clone().into_iter().collect(),
            }),
            linux: Some(v1::LinuxPodSandboxStats {
                cpu: Some(crate::container::cpu_usage(&usage)),
                memory: Some(crate::container::memory_usage(&usage)),
                process: Some(v1::ProcessUsage {
                    timestamp: usage.timestamp,
                    process_count: usage.process_count.map(|value| v1::UInt64Value { value }),
                }),
                containers,
                ..Default::default()
            }),
            windows: None,
        })
    }
}

/// Releases what a sandbox holds on this host besides its network: the pinned
/// namespaces, the /dev/shm tmpfs and the PID namespace init.
fn release_local_resources(record: &SandboxRecord) {
    namespaces::unpin(&record.namespaces);
    if let Some(shm) = &record.shm {
        namespaces::unmount_shm(shm);
    }
    if let Some(init) = &record.pod_init {
        pod_init::stop(init);
    }
}

pub(crate) fn sandbox_metadata(record: &SandboxRecord) -> v1::PodSandboxMetadata {
    v1::PodSandboxMetadata {
        name: record.name.clone(),
        uid: record.uid.clone(),
        namespace: record.namespace.clone(),
        attempt: record.attempt,
    }
}

/// Returns the CRI state of a sandbox. A sandbox whose PID namespace init died is not
/// ready, so the kubelet replaces it as it would after a pause container exit.
pub(crate) fn sandbox_state(record: &SandboxRecord) -> v1::PodSandboxState {
    let init_lost = record
        .pod_init
        .as_ref()
        .is_some_and(|init| !pod_init::is_running(init));
    match record.state {
        SandboxState::Ready if !init_lost => v1::PodSandboxState::SandboxReady,
        _ => v1::PodSandboxState::SandboxNotready,
    }
}

/// Reports whether every selector label is present with the same value.
pub(crate) fn labels_match(
    labels: &BTreeMap<String, String>,
    selector: &HashMap<String, String>,
) -> bool {
    selector
        .iter()
        .all(|(key, value)| labels.get(key) == Some(value))
}

fn pod_network<'a>(
    record: &'a SandboxRecord,
    netns: &'a std::path::Path,
    config: &v1::PodSandboxConfig,
) -> PodNetwork<'a> {
    let port_mappings = config
        .port_mappings
        .iter()
        .filter(|mapping| mapping.host_port > 0)
        .map(|mapping| {
            let protocol = match v1::Protocol::try_from(mapping.protocol) {
                Ok(v1::Protocol::Udp) => "udp",
                Ok(v1::Protocol::Sctp) => "sctp",
                _ => "tcp",
            };
            serde_json::json!({
                "hostPort": mapping.host_port,
                "containerPort": mapping.container_port,
                "protocol": protocol,
                "hostIP": mapping.host_ip,
            })
        })
        .collect();
    PodNetwork {
        sandbox_id: &record.id,
        netns,
        name: &record.name,
        namespace: &record.namespace,
        uid: &record.uid,
        port_mappings,
    }
}

fn resolv_conf(dns: &v1::DnsConfig) -> String {
    let mut text = String::new();
    if !dns.searches.is_empty() {
        text.push_str(&format!("search {}\n", dns.searches.join(" ")));
    }
    for server in &dns.servers {
        text.push_str(&format!("nameserver {server}\n"));
    }
    if !dns.options.is_empty() {
        text.push_str(&format!("options {}\n", dns.options.join(" ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_lists_search_servers_options() {
        let dns = v1::DnsConfig {
            servers: vec!["10.96.0.10".into()],
            searches: vec![
                "default.svc.cluster.local".into(),
                "svc.cluster.local".into(),
            ],
            options: vec!["ndots:5".into()],
        };
        assert_eq!(
            resolv_conf(&dns),
            "search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
        );
    }

    #[test]
    fn labels_match_requires_every_selector_label() {
        let labels: BTreeMap<String, String> = [
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
        ]
        .into();
        assert!(labels_match(&labels, &HashMap::new()));
        assert!(labels_match(
            &labels,
            &[("a".to_string(), "1".to_string())].into()
        ));
        assert!(!labels_match(
            &labels,
            &[("a".to_string(), "2".to_string())].into()
        ));
        assert!(!labels_match(
            &labels,
            &[("c".to_string(), "1".to_string())].into()
        ));
    }

    #[test]
    fn new_id_is_64_hex_digits() {
        let id = new_id();
        assert_eq!(id.len(), 64);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
