//! The launcher: brings a whole cluster up on this machine and tears it down again.
//!
//! [`Cluster::up`] runs the steps in order, printing one line per step with its
//! duration: certificates and kubeconfigs, the bridge and one network namespace per
//! node, the control plane on the host (kube-apiserver, kube-controller-manager,
//! kube-scheduler, bound to the bridge address), then per node the container runtime,
//! the kubelet and kube-proxy inside the node's namespace, and finally a wait until
//! every node is Ready. With [`ControlPlaneMode::StaticPods`] the control plane runs
//! instead as kubeadm-style static pods of node 1's kubelet, from the templates in
//! the repository's `manifests/` directory. With [`ClusterSpec::etcd`] the API server
//! stores objects in etcd over TLS instead of its embedded store: three members on
//! 127.0.0.1 started before it, or with static pods one member as a static pod
//! beside it, as kubeadm runs it. Dropping the [`Cluster`] (or [`teardown`] with the
//! state file of a cluster another process left running) stops every process and
//! removes every namespace, mount and cgroup the cluster made, and the etcd data.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use storage::testing::{ETCD_BINARY, MemberSpec, MemberTls, probe_health};

use crate::cleanup::{remove_cgroup_tree, unmount_below};
use crate::kubeconfig::{write_embedded_kubeconfig, write_kubeconfig};
use crate::network::{self, NodeNetwork, netns_prefix};
use crate::pki::{Pki, PkiSpec};
use crate::process::{Daemon, DaemonRecord, stop_pid};

/// The port of the registry the launcher serves to nodes on the bridge address.
pub const REGISTRY_PORT: u16 = 5000;

/// A failed launcher step.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// Certificates could not be generated.
    #[error(transparent)]
    Pki(#[from] crate::pki::PkiError),
    /// A network command failed.
    #[error(transparent)]
    Network(#[from] network::NetworkError),
    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// The launcher step that failed.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A component did not become ready in time.
    #[error("{what} was not ready after {waited:?}; see {log}")]
    Timeout {
        /// The awaited condition.
        what: String,
        /// How long the launcher waited.
        waited: Duration,
        /// The log file to read.
        log: String,
    },
    /// A cluster add-on could not be deployed or did not become ready.
    #[error("{what}: {message}")]
    Addon {
        /// The add-on step that failed.
        what: String,
        /// What went wrong, with the state seen last.
        message: String,
    },
    /// A daemon exited during start-up.
    #[error("{name} exited during start-up with {status}; see {log}")]
    Exited {
        /// The daemon.
        name: String,
        /// Its exit status.
        status: String,
        /// Its log file.
        log: String,
    },
}

fn io_error(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> LaunchError {
    let context = context.into();
    move |source| LaunchError::Io { context, source }
}

/// The place the control plane runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ControlPlaneMode {
    /// kube-apiserver, kube-controller-manager and kube-scheduler run as processes
    /// on the host, bound to the bridge address.
    #[default]
    Host,
    /// Node 1's kubelet runs them as static pods with host networking in node 1's
    /// network namespace, from the filled `manifests/kube-*.yaml` templates and the
    /// `registry.k8s.io/kube-*:v1.33.0` images, which the registry must hold (see
    /// hack/registry.sh). The API server address is node 1's address. Needs at least
    /// one node with the runtime and the kubelet, and [`ClusterSpec::registry_storage`].
    StaticPods,
}

/// The kubeadm-style manifest templates and the file names they get in the
/// kubelet's static pod directory.
const STATIC_POD_TEMPLATES: [(&str, &str); 3] = [
    (
        "kube-apiserver.yaml",
        include_str!("../../manifests/kube-apiserver.yaml"),
    ),
    (
        "kube-controller-manager.yaml",
        include_str!("../../manifests/kube-controller-manager.yaml"),
    ),
    (
        "kube-scheduler.yaml",
        include_str!("../../manifests/kube-scheduler.yaml"),
    ),
];

/// The cluster DNS add-on template (kube-dns as kubeadm names CoreDNS's objects).
const CLUSTER_DNS_TEMPLATE: &str = include_str!("../../manifests/addons/kube-dns.yaml");

/// The image the DNS add-on runs, as hack/images/build.sh names it.
const CLUSTER_DNS_IMAGE_REPOSITORY: &str = "kube-dns";
const CLUSTER_DNS_IMAGE_TAG: &str = "v1.33.0";

/// The cluster domain the kubelets and the DNS add-on use.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// The kubeadm-style etcd manifest template, used with static pods in etcd mode.
const ETCD_TEMPLATE: &str = include_str!("../../manifests/etcd.yaml");

/// The number of etcd members on the host in etcd mode.
pub const HOST_ETCD_MEMBERS: usize = 3;

/// The client port of the etcd static pod on node 1 (etcd's default).
const STATIC_ETCD_CLIENT_PORT: u16 = 2379;

/// The set of daemons each node runs. A daemon left out makes a partial cluster,
/// for when a component is not built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeComponents {
    /// Our CRI runtime, `container-runtime`.
    pub runtime: bool,
    /// The kubelet; it needs the runtime.
    pub kubelet: bool,
    /// kube-proxy.
    pub proxy: bool,
}

/// Everything [`Cluster::up`] needs to know.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// A short name (at most 6 characters) that prefixes the bridge, namespaces,
    /// interfaces, cgroups and node names, so two clusters can run side by side.
    pub name: String,
    /// The directory for certificates, kubeconfigs, data, logs and the state file.
    pub dir: PathBuf,
    /// The directory containing the component binaries.
    pub bin_dir: PathBuf,
    /// The number of nodes.
    pub nodes: usize,
    /// The second octet of the bridge subnet `10.<bridge_octet>.0.0/24`: the host
    /// is `.1` and node `i` (from 1) is `.<10 + i>`.
    pub bridge_octet: u8,
    /// The API server's secure port.
    pub apiserver_port: u16,
    /// The Service IP range; its first address is the `kubernetes` Service and its
    /// tenth is reserved for cluster DNS.
    pub service_cidr: String,
    /// The pod range `10.<pod_octet>.0.0/16`; node `i` (from 1) gets `10.<pod_octet>.<i>.0/24`.
    pub pod_octet: u8,
    /// The daemons the nodes run.
    pub node_components: NodeComponents,
    /// Whether the control plane's controller manager and scheduler run.
    pub controllers: bool,
    /// The place the control plane runs.
    pub control_plane: ControlPlaneMode,
    /// The storage directory of the local registry that hack/registry.sh fills. When
    /// set, the launcher serves it read-only on the bridge address, port
    /// [`REGISTRY_PORT`], as the nodes' mirror for docker.io and registry.k8s.io.
    pub registry_storage: Option<PathBuf>,
    /// Extra flags for the API server (such as shorter default toleration seconds
    /// in tests).
    pub apiserver_flags: Vec<String>,
    /// Extra flags for the controller manager (such as a shorter
    /// `--node-monitor-grace-period` in tests).
    pub controller_manager_flags: Vec<String>,
    /// Whether the API server stores objects in etcd instead of its embedded store.
    /// etcd serves TLS and requires client certificates from the etcd CA in
    /// `pki/etcd/`. With [`ControlPlaneMode::Host`], [`HOST_ETCD_MEMBERS`] members run
    /// on 127.0.0.1 (ports from [`ClusterSpec::etcd_member`]); with
    /// [`ControlPlaneMode::StaticPods`], one member runs as a static pod on node 1
    /// from `manifests/etcd.yaml`. Data directories are under `etcd/`.
    pub etcd: bool,
    /// Whether the launcher deploys the cluster DNS add-on (kube-dns behind the
    /// Service `kube-system/kube-dns` at [`ClusterSpec::dns_service_ip`]) once the
    /// nodes are Ready, and waits for its pod to be Ready. Needs
    /// [`ClusterSpec::registry_storage`] holding the `registry.k8s.io/kube-dns`
    /// image (hack/registry.sh pushes it) and nodes with the kubelet.
    pub cluster_dns: bool,
}

impl ClusterSpec {
    /// Returns a spec with the defaults `make run` uses, for `nodes` nodes.
    pub fn new(name: &str, dir: &Path, bin_dir: &Path, nodes: usize) -> ClusterSpec {
        ClusterSpec {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            bin_dir: bin_dir.to_path_buf(),
            nodes,
            bridge_octet: 240,
            apiserver_port: 6443,
            service_cidr: "10.96.0.0/16".to_string(),
            pod_octet: 244,
            node_components: NodeComponents {
                runtime: true,
                kubelet: true,
                proxy: true,
            },
            controllers: true,
            control_plane: ControlPlaneMode::Host,
            registry_storage: None,
            apiserver_flags: Vec::new(),
            controller_manager_flags: Vec::new(),
            etcd: false,
            cluster_dns: false,
        }
    }

    /// Returns the host's address on the cluster bridge; the control plane binds it.
    pub fn host_address(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, self.bridge_octet, 0, 1)
    }

    /// Returns the address of node `index` (from 1) on the bridge.
    pub fn node_address(&self, index: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, self.bridge_octet, 0, 10 + index as u8)
    }

    /// Returns the name of node `index` (from 1).
    pub fn node_name(&self, index: usize) -> String {
        format!("{}-node{index}", self.name)
    }

    /// Returns the pod CIDR of node `index` (from 1).
    pub fn pod_cidr(&self, index: usize) -> String {
        format!("10.{}.{index}.0/24", self.pod_octet)
    }

    /// Returns the cluster-wide pod CIDR.
    pub fn cluster_cidr(&self) -> String {
        format!("10.{}.0.0/16", self.pod_octet)
    }

    /// Returns the address of the `kubernetes` Service: the first of the range.
    pub fn kubernetes_service_ip(&self) -> Ipv4Addr {
        offset_of_range(&self.service_cidr, 1)
    }

    /// Returns the address reserved for cluster DNS: the tenth of the range.
    pub fn dns_service_ip(&self) -> Ipv4Addr {
        offset_of_range(&self.service_cidr, 10)
    }

    /// Returns the API server's address: the bridge address, or node 1's address
    /// when the control plane runs as static pods.
    pub fn apiserver_address(&self) -> Ipv4Addr {
        match self.control_plane {
            ControlPlaneMode::Host => self.host_address(),
            ControlPlaneMode::StaticPods => self.node_address(1),
        }
    }

    /// Returns the API server URL clients on the host and in nodes use.
    pub fn server_url(&self) -> String {
        format!(
            "https://{}:{}",
            self.apiserver_address(),
            self.apiserver_port
        )
    }

    /// Returns the administrator's kubeconfig path.
    pub fn admin_kubeconfig(&self) -> PathBuf {
        self.dir.join("admin.kubeconfig")
    }

    /// Returns the host's etcd member `index` (from 1 to [`HOST_ETCD_MEMBERS`]) with
    /// its ports on 127.0.0.1. The ports are `20000 + 10 * bridge_octet` and up, three
    /// per member (client, peer, metrics): clusters that run side by side need
    /// different bridges, so they get different ports, and all stay below Linux's
    /// default ephemeral range (32768 and up), where the storage tests pick theirs.
    /// The member's name (`etcd-<index>`) also names its daemon and log file.
    pub fn etcd_member(&self, index: usize, tls: Option<MemberTls>) -> MemberSpec {
        let base = 20_000 + 10 * u16::from(self.bridge_octet) + 3 * (index as u16 - 1);
        let name = format!("etcd-{index}");
        MemberSpec {
            data_dir: self.etcd_dir().join(&name),
            name,
            client_port: base,
            peer_port: base + 1,
            metrics_port: Some(base + 2),
            tls,
        }
    }

    /// Returns the etcd client URLs the API server gets as `--etcd-servers`.
    pub fn etcd_servers(&self) -> Vec<String> {
        match self.control_plane {
            ControlPlaneMode::Host => (1..=HOST_ETCD_MEMBERS)
                .map(|index| self.etcd_member(index, None).client_port)
                .map(|port| format!("https://127.0.0.1:{port}"))
                .collect(),
            ControlPlaneMode::StaticPods => {
                vec![format!("https://127.0.0.1:{STATIC_ETCD_CLIENT_PORT}")]
            }
        }
    }

    /// Returns the directory that holds every etcd member's data directory.
    pub fn etcd_dir(&self) -> PathBuf {
        self.dir.join("etcd")
    }

    fn bridge(&self) -> String {
        format!("{}0", self.name)
    }

    fn node_network(&self, index: usize) -> NodeNetwork {
        NodeNetwork {
            netns: self.node_name(index),
            host_veth: format!("{}-v{index}", self.name),
            address: self.node_address(index),
            prefix: 24,
        }
    }

    fn node_dir(&self, index: usize) -> PathBuf {
        self.dir.join("nodes").join(self.node_name(index))
    }

    fn node_cgroup(&self, index: usize) -> String {
        format!("/{}", self.node_name(index))
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join("cluster.json")
    }
}

/// Replaces every `{{NAME}}` in `template` with its value; returns the name of a
/// placeholder that has no value as the error.
/// Fills manifests/addons/kube-dns.yaml for `spec`.
fn fill_cluster_dns_template(spec: &ClusterSpec) -> Result<String, String> {
    fill_template(
        CLUSTER_DNS_TEMPLATE,
        &[
            ("DNS_SERVICE_IP", spec.dns_service_ip().to_string()),
            ("CLUSTER_DOMAIN", CLUSTER_DOMAIN.to_string()),
        ],
    )
    .map_err(|placeholder| {
        format!("manifests/addons/kube-dns.yaml: no value for {{{{{placeholder}}}}}")
    })
}

/// Returns whether a docker-registry filesystem storage contains `repository:tag`.
fn registry_has_tag(storage: &Path, repository: &str, tag: &str) -> bool {
    storage
        .join("docker/registry/v2/repositories")
        .join(repository)
        .join("_manifests/tags")
        .join(tag)
        .is_dir()
}

fn fill_template(template: &str, values: &[(&str, String)]) -> Result<String, String> {
    let mut filled = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        filled.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(after.to_string());
        };
        let name = &after[..end];
        let value = values
            .iter()
            .find(|(key, _)| *key == name)
            .ok_or_else(|| name.to_string())?;
        filled.push_str(&value.1);
        rest = &after[end + 2..];
    }
    filled.push_str(rest);
    Ok(filled)
}

fn offset_of_range(cidr: &str, offset: u32) -> Ipv4Addr {
    let base = cidr
        .split('/')
        .next()
        .and_then(|address| address.parse::<Ipv4Addr>().ok())
        .unwrap_or(Ipv4Addr::new(10, 96, 0, 0));
    Ipv4Addr::from(u32::from(base) + offset)
}

/// The record of what a running cluster made, written to `cluster.json` so that
/// [`teardown`] can undo it from another process.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ClusterState {
    /// Daemons in start order.
    pub daemons: Vec<DaemonRecord>,
    /// Node network namespaces.
    pub netns: Vec<String>,
    /// The host bridge, once created.
    pub bridge: Option<String>,
    /// Node cgroup roots such as `/local-node1`.
    pub cgroups: Vec<String>,
    /// Directories below which every mount is the cluster's.
    pub mount_roots: Vec<PathBuf>,
    /// Data directories removed once every process is stopped: etcd's.
    #[serde(default)]
    pub data_dirs: Vec<PathBuf>,
}

/// A running cluster. Dropping it tears everything down.
pub struct Cluster {
    /// The spec it was started from.
    pub spec: ClusterSpec,
    /// The generated certificates.
    pub pki: Option<Pki>,
    daemons: Vec<Daemon>,
    state: ClusterState,
}

impl Cluster {
    /// Starts a cluster and waits until every node is Ready. On failure everything
    /// started so far is torn down before the error returns.
    pub fn up(spec: ClusterSpec) -> Result<Cluster, LaunchError> {
        let mut cluster = Cluster {
            spec,
            pki: None,
            daemons: Vec::new(),
            state: ClusterState::default(),
        };
        cluster.run_steps()?;
        Ok(cluster)
    }

    /// Returns the daemons that are running, in start order.
    pub fn daemons(&self) -> &[Daemon] {
        &self.daemons
    }

    /// Stops the daemon called `name` (such as `kubelet-local-node2`); the rest of
    /// the cluster keeps running.
    pub fn stop_daemon(&mut self, name: &str) -> bool {
        match self.daemons.iter_mut().find(|daemon| daemon.name == name) {
            Some(daemon) => {
                daemon.stop();
                true
            }
            None => false,
        }
    }

    /// Starts the daemon called `name` again with its original command.
    pub fn restart_daemon(&mut self, name: &str) -> Result<(), LaunchError> {
        let Some(daemon) = self.daemons.iter_mut().find(|daemon| daemon.name == name) else {
            return Err(LaunchError::Io {
                context: format!("restarting {name}"),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such daemon"),
            });
        };
        daemon
            .restart()
            .map_err(io_error(format!("restarting {name}")))?;
        self.save_state()
    }

    /// Returns the name of a daemon that has exited, if any did.
    pub fn exited_daemon(&mut self) -> Option<(String, String)> {
        self.daemons.iter_mut().find_map(|daemon| {
            daemon
                .exited()
                .map(|status| (daemon.name.clone(), status.to_string()))
        })
    }

    fn run_steps(&mut self) -> Result<(), LaunchError> {
        let spec = self.spec.clone();
        fs::create_dir_all(&spec.dir)
            .map_err(io_error(format!("creating {}", spec.dir.display())))?;
        if spec.state_path().exists() {
            step("removing the leftovers of an earlier run", || {
                teardown(&spec.state_path());
                Ok(())
            })?;
        }

        let pki = step("generating certificates and kubeconfigs", || {
            self.write_pki()
        })?;
        self.pki = Some(pki);

        step("creating the bridge and node network namespaces", || {
            self.create_network()
        })?;

        if spec.registry_storage.is_some() {
            step("starting the image registry for the nodes", || {
                self.start_registry()
            })?;
        }
        let first_node = match spec.control_plane {
            ControlPlaneMode::Host => {
                if spec.etcd {
                    let title =
                        format!("starting etcd: {HOST_ETCD_MEMBERS} members on 127.0.0.1 with TLS");
                    step(&title, || self.start_etcd())?;
                }
                step("starting kube-apiserver", || self.start_apiserver())?;
                if spec.controllers {
                    step(
                        "starting kube-controller-manager and kube-scheduler",
                        || self.start_controllers(),
                    )?;
                }
                1
            }
            ControlPlaneMode::StaticPods => {
                self.check_static_pods_spec()?;
                step("writing the control plane's static pod manifests", || {
                    self.write_static_pods()
                })?;
                let title = format!(
                    "starting node {} with the control plane as static pods",
                    spec.node_name(1)
                );
                step(&title, || self.start_node(1))?;
                step("waiting for the static kube-apiserver", || {
                    self.wait_apiserver(Duration::from_secs(240))
                })?;
                2
            }
        };
        for index in first_node..=spec.nodes {
            let title = format!("starting node {}", spec.node_name(index));
            step(&title, || self.start_node(index))?;
        }
        if spec.node_components.kubelet && spec.nodes > 0 {
            step("waiting for every node to be Ready", || {
                self.wait_nodes_ready(Duration::from_secs(120))
            })?;
        }
        if spec.cluster_dns {
            step("deploying the cluster DNS add-on", || {
                self.deploy_cluster_dns()
            })?;
            step("waiting for the cluster DNS pod to be Ready", || {
                self.wait_cluster_dns_ready(Duration::from_secs(120))
            })?;
        }
        Ok(())
    }

    /// Applies manifests/addons/kube-dns.yaml, filled for this cluster.
    fn deploy_cluster_dns(&mut self) -> Result<(), LaunchError> {
        let spec = self.spec.clone();
        let what = "deploying the cluster DNS add-on".to_string();
        let problem = if spec.nodes == 0 || !spec.node_components.kubelet {
            Some("it needs nodes with the kubelet".to_string())
        } else {
            match &spec.registry_storage {
                None => Some("it needs registry_storage holding its image".to_string()),
                Some(storage)
                    if !registry_has_tag(
                        storage,
                        CLUSTER_DNS_IMAGE_REPOSITORY,
                        CLUSTER_DNS_IMAGE_TAG,
                    ) =>
                {
                    Some(format!(
                        "{} contains no {CLUSTER_DNS_IMAGE_REPOSITORY}:{CLUSTER_DNS_IMAGE_TAG}; build \
                     kube-dns and run hack/registry.sh push-addons (BIN_DIR={})",
                        storage.display(),
                        spec.bin_dir.display()
                    ))
                }
                Some(_) => None,
            }
        };
        if let Some(message) = problem {
            return Err(LaunchError::Addon { what, message });
        }

        let manifest = fill_cluster_dns_template(&spec).map_err(|message| LaunchError::Addon {
            what: what.clone(),
            message,
        })?;
        let path = spec.dir.join("kube-dns.yaml");
        fs::write(&path, manifest).map_err(io_error(format!("writing {}", path.display())))?;
        self.kubectl(&["apply", "-f", &path.display().to_string()])
            .map_err(|message| LaunchError::Addon { what, message })?;
        Ok(())
    }

    /// Waits until a pod of the DNS add-on (label `k8s-app=kube-dns`) is Ready.
    fn wait_cluster_dns_ready(&mut self, timeout: Duration) -> Result<(), LaunchError> {
        let get_pods = [
            "-n",
            "kube-system",
            "get",
            "pods",
            "-l",
            "k8s-app=kube-dns",
            "-o",
            "json",
        ];
        let result = self.wait_for("cluster DNS", timeout, |cluster| {
            cluster
                .kubectl(&get_pods)
                .ok()
                .and_then(|output| serde_json::from_str::<serde_json::Value>(&output).ok())
                .is_some_and(|list| {
                    list["items"].as_array().is_some_and(|pods| {
                        pods.iter().any(|pod| {
                            pod["status"]["conditions"]
                                .as_array()
                                .is_some_and(|conditions| {
                                    conditions.iter().any(|condition| {
                                        condition["type"] == "Ready"
                                            && condition["status"] == "True"
                                    })
                                })
                        })
                    })
                })
        });
        match result {
            Err(LaunchError::Timeout { waited, .. }) => {
                let status = self
                    .kubectl(&[
                        "-n",
                        "kube-system",
                        "get",
                        "pods",
                        "-l",
                        "k8s-app=kube-dns",
                        "-o",
                        "wide",
                    ])
                    .unwrap_or_else(|error| error);
                Err(LaunchError::Addon {
                    what: format!("the cluster DNS pod was not Ready after {waited:?}"),
                    message: status,
                })
            }
            other => other,
        }
    }

    fn save_state(&mut self) -> Result<(), LaunchError> {
        self.state.daemons = self.daemons.iter().map(Daemon::record).collect();
        let text = serde_json::to_string_pretty(&self.state).expect("state serializes");
        fs::write(self.spec.state_path(), text).map_err(io_error(format!(
            "writing {}",
            self.spec.state_path().display()
        )))
    }

    fn write_pki(&mut self) -> Result<Pki, LaunchError> {
        let spec = &self.spec;
        let pki = Pki::generate(
            &spec.dir.join("pki"),
            &PkiSpec {
                apiserver_ips: vec![
                    spec.host_address().into(),
                    spec.apiserver_address().into(),
                    Ipv4Addr::LOCALHOST.into(),
                    spec.kubernetes_service_ip().into(),
                ],
                nodes: (1..=spec.nodes)
                    .map(|index| (spec.node_name(index), spec.node_address(index).into()))
                    .collect(),
                cluster_domain: "cluster.local".to_string(),
                etcd_name: match spec.control_plane {
                    ControlPlaneMode::Host => spec.name.clone(),
                    ControlPlaneMode::StaticPods => spec.node_name(1),
                },
                etcd_ips: match spec.control_plane {
                    ControlPlaneMode::Host => vec![Ipv4Addr::LOCALHOST.into()],
                    ControlPlaneMode::StaticPods => {
                        vec![Ipv4Addr::LOCALHOST.into(), spec.node_address(1).into()]
                    }
                }
                .into_iter()
                .chain([IpAddr::V6(Ipv6Addr::LOCALHOST)])
                .collect(),
            },
        )?;
        let server = spec.server_url();
        let kubeconfigs = [
            ("admin.kubeconfig", "kubernetes-admin", &pki.admin),
            (
                "controller-manager.kubeconfig",
                "system:kube-controller-manager",
                &pki.controller_manager,
            ),
            (
                "scheduler.kubeconfig",
                "system:kube-scheduler",
                &pki.scheduler,
            ),
            (
                "kube-proxy.kubeconfig",
                "system:kube-proxy",
                &pki.kube_proxy,
            ),
        ];
        for (file, user, pair) in kubeconfigs {
            write_kubeconfig(&spec.dir.join(file), &server, &pki.ca.cert, user, pair)
                .map_err(io_error(format!("writing {file}")))?;
        }
        for node in &pki.nodes {
            let path = spec.dir.join(format!("kubelet-{}.kubeconfig", node.name));
            write_kubeconfig(
                &path,
                &server,
                &pki.ca.cert,
                &format!("system:node:{}", node.name),
                &node.client,
            )
            .map_err(io_error(format!("writing {}", path.display())))?;
        }
        Ok(pki)
    }

    fn create_network(&mut self) -> Result<(), LaunchError> {
        let spec = self.spec.clone();
        network::create_bridge(&spec.bridge(), spec.host_address(), 24)?;
        self.state.bridge = Some(spec.bridge());
        self.save_state()?;

        for index in 1..=spec.nodes {
            let node = spec.node_network(index);
            self.state.netns.push(node.netns.clone());
            self.state.cgroups.push(spec.node_cgroup(index));
            self.state.mount_roots.push(spec.node_dir(index));
            self.save_state()?;
            node.create(&spec.bridge())?;

            // Pods on other nodes are reached through their node; Service addresses
            // need a route so that kube-proxy's DNAT sees the node's own connections.
            for peer in (1..=spec.nodes).filter(|peer| *peer != index) {
                node.add_route(&spec.pod_cidr(peer), Some(spec.node_address(peer)))?;
            }
            node.add_route(&spec.service_cidr, None)?;
            // The API server, in the host namespace, dials pods for the proxy
            // subresources.
            network::add_bridge_route(
                &spec.bridge(),
                &spec.pod_cidr(index),
                spec.node_address(index),
            )?;
        }
        Ok(())
    }

    fn binary(&self, name: &str) -> String {
        self.spec.bin_dir.join(name).display().to_string()
    }

    fn start(&mut self, name: &str, command: Vec<String>) -> Result<(), LaunchError> {
        let log = self.spec.dir.join("logs").join(format!("{name}.log"));
        let daemon =
            Daemon::start(name, &command, &log).map_err(io_error(format!("starting {name}")))?;
        tracing::info!(daemon = name, pid = daemon.pid(), log = %log.display(), "started");
        self.daemons.push(daemon);
        self.save_state()
    }

    /// Serves the registry storage on the bridge address, read-only, and writes the
    /// mirror configuration the nodes' runtimes read.
    fn start_registry(&mut self) -> Result<(), LaunchError> {
        let spec = self.spec.clone();
        let storage = spec
            .registry_storage
            .clone()
            .expect("checked by the caller");
        let address = format!("{}:{REGISTRY_PORT}", spec.host_address());
        let config = format!(
            "version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {}
  maintenance:
    readonly:
      enabled: true
http:
  addr: {address}
",
            storage.display()
        );
        let config_path = spec.dir.join("registry.yml");
        fs::write(&config_path, config).map_err(io_error("writing the registry configuration"))?;
        let mirrors = format!(
            "[registries.\"docker.io\"]
mirrors = [\"http://{address}\"]
fallback_to_upstream = false

[registries.\"registry.k8s.io\"]
mirrors = [\"http://{address}\"]
fallback_to_upstream = false
"
        );
        fs::write(spec.dir.join("registries.toml"), mirrors)
            .map_err(io_error("writing the registry mirror configuration"))?;

        self.start(
            "registry",
            vec![
                "docker-registry".to_string(),
                "serve".to_string(),
                config_path.display().to_string(),
            ],
        )?;
        self.wait_for("registry", Duration::from_secs(30), |_| {
            std::net::TcpStream::connect(&address).is_ok()
        })
    }

    /// Returns the host's etcd members with their TLS files; empty unless the
    /// cluster runs etcd on the host.
    pub fn etcd_members(&self) -> Vec<MemberSpec> {
        let spec = &self.spec;
        let Some(pki) = &self.pki else {
            return Vec::new();
        };
        if !spec.etcd || spec.control_plane != ControlPlaneMode::Host {
            return Vec::new();
        }
        let tls = MemberTls {
            ca_file: pki.etcd.ca.cert.clone(),
            cert_file: pki.etcd.server.cert.clone(),
            key_file: pki.etcd.server.key.clone(),
            peer_cert_file: pki.etcd.peer.cert.clone(),
            peer_key_file: pki.etcd.peer.key.clone(),
        };
        (1..=HOST_ETCD_MEMBERS)
            .map(|index| spec.etcd_member(index, Some(tls.clone())))
            .collect()
    }

    /// Starts the host's etcd members with fresh data directories and waits until
    /// each reports healthy.
    fn start_etcd(&mut self) -> Result<(), LaunchError> {
        let members = self.etcd_members();
        self.prepare_etcd_dir()?;
        let token = format!("{}-etcd", self.spec.name);
        for member in &members {
            let mut command = vec![ETCD_BINARY.to_string()];
            command.extend(member.args(&members, &token));
            self.start(&member.name, command)?;
        }
        self.wait_etcd_healthy(Duration::from_secs(60))
    }

    /// Removes the etcd directory of an earlier run, whose members would otherwise
    /// come back with that run's objects, and records the new one for teardown.
    fn prepare_etcd_dir(&mut self) -> Result<(), LaunchError> {
        let etcd_dir = self.spec.etcd_dir();
        if etcd_dir.exists() {
            fs::remove_dir_all(&etcd_dir)
                .map_err(io_error(format!("removing {}", etcd_dir.display())))?;
        }
        fs::create_dir_all(&etcd_dir)
            .map_err(io_error(format!("creating {}", etcd_dir.display())))?;
        self.state.data_dirs.push(etcd_dir);
        self.save_state()
    }

    /// Waits until every etcd member on the host reports healthy on its metrics
    /// port, which needs an elected leader. A member that is stopped counts as not
    /// healthy.
    pub fn wait_etcd_healthy(&mut self, timeout: Duration) -> Result<(), LaunchError> {
        let members = self.etcd_members();
        let started = Instant::now();
        loop {
            self.check_alive()?;
            let unhealthy = members
                .iter()
                .find(|member| !probe_health(member.health_address()));
            let Some(unhealthy) = unhealthy else {
                return Ok(());
            };
            if started.elapsed() > timeout {
                return Err(LaunchError::Timeout {
                    what: format!("etcd member {}", unhealthy.name),
                    waited: started.elapsed(),
                    log: self.log_of(&unhealthy.name),
                });
            }
            sleep(Duration::from_millis(100));
        }
    }

    fn start_apiserver(&mut self) -> Result<(), LaunchError> {
        let spec = self.spec.clone();
        let pki = self.pki.clone().expect("certificates are generated first");
        let storage_flags = if spec.etcd {
            vec![
                format!("--etcd-servers={}", spec.etcd_servers().join(",")),
                format!("--etcd-cafile={}", pki.etcd.ca.cert.display()),
                format!(
                    "--etcd-certfile={}",
                    pki.apiserver_etcd_client.cert.display()
                ),
                format!("--etcd-keyfile={}", pki.apiserver_etcd_client.key.display()),
            ]
        } else {
            vec![format!("--data-dir={}", spec.dir.join("data").display())]
        };
        let mut command = vec![
            self.binary("kube-apiserver"),
            format!("--bind-address={}", spec.host_address()),
            format!("--advertise-address={}", spec.host_address()),
            format!("--secure-port={}", spec.apiserver_port),
        ];
        command.extend(storage_flags);
        command.extend([
            format!("--cert-dir={}", spec.dir.join("pki").display()),
            format!("--tls-cert-file={}", pki.apiserver.cert.display()),
            format!("--tls-private-key-file={}", pki.apiserver.key.display()),
            format!("--client-ca-file={}", pki.ca.cert.display()),
            format!("--service-cluster-ip-range={}", spec.service_cidr),
            format!(
                "--service-account-key-file={}",
                pki.service_account.cert.display()
            ),
            format!(
                "--service-account-signing-key-file={}",
                pki.service_account.key.display()
            ),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".to_string(),
            format!(
                "--kubelet-client-certificate={}",
                pki.apiserver_kubelet_client.cert.display()
            ),
            format!(
                "--kubelet-client-key={}",
                pki.apiserver_kubelet_client.key.display()
            ),
        ]);
        command.extend(spec.apiserver_flags.iter().cloned());
        self.start("kube-apiserver", command)?;
        self.wait_apiserver(Duration::from_secs(60))
    }

    /// Waits until the API server returns `ok` from `/readyz`.
    fn wait_apiserver(&mut self, timeout: Duration) -> Result<(), LaunchError> {
        let result = self.wait_for("kube-apiserver", timeout, |cluster| {
            cluster
                .kubectl(&["get", "--raw", "/readyz"])
                .is_ok_and(|output| output.trim() == "ok")
        });
        match (result, self.spec.control_plane) {
            (Err(LaunchError::Timeout { what, waited, .. }), ControlPlaneMode::StaticPods) => {
                Err(LaunchError::Timeout {
                    what,
                    waited,
                    log: self.log_of(&format!("kubelet-{}", self.spec.node_name(1))),
                })
            }
            (other, _) => other,
        }
    }

    fn check_static_pods_spec(&self) -> Result<(), LaunchError> {
        let spec = &self.spec;
        let problem = if spec.nodes == 0 {
            Some("static pods need at least one node")
        } else if !spec.node_components.runtime || !spec.node_components.kubelet {
            Some("static pods need the runtime and the kubelet on node 1")
        } else if spec.registry_storage.is_none() {
            Some("static pods need registry_storage holding the control plane images")
        } else {
            None
        };
        match problem {
            Some(problem) => Err(LaunchError::Io {
                context: "checking the cluster spec".to_string(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, problem),
            }),
            None => Ok(()),
        }
    }

    /// Fills the manifest templates and writes them into node 1's static pod
    /// directory. The controller manager and scheduler are left out when
    /// [`ClusterSpec::controllers`] is false; etcd is added when [`ClusterSpec::etcd`]
    /// is true.
    fn write_static_pods(&mut self) -> Result<(), LaunchError> {
        if self.spec.etcd {
            self.prepare_etcd_dir()?;
        }
        let spec = &self.spec;
        let pki = self.pki.as_ref().expect("certificates are generated first");
        let manifests = spec.node_dir(1).join("manifests");
        fs::create_dir_all(&manifests).map_err(io_error("creating the static pod directory"))?;
        let data_dir = spec.dir.join("data");
        fs::create_dir_all(&data_dir)
            .map_err(io_error("creating the API server data directory"))?;
        let etcd_template = ("etcd.yaml", ETCD_TEMPLATE);
        let templates = STATIC_POD_TEMPLATES
            .iter()
            .chain(spec.etcd.then_some(&etcd_template));
        for &(file, template) in templates {
            if !spec.controllers && file != "kube-apiserver.yaml" && file != etcd_template.0 {
                continue;
            }
            // kubeadm's controller-manager.conf and scheduler.conf: certificates
            // embedded, since the containers do not see the host's PKI paths.
            let (conf, user, pair) = match file {
                "kube-controller-manager.yaml" => (
                    "controller-manager.conf",
                    "system:kube-controller-manager",
                    &pki.controller_manager,
                ),
                _ => ("scheduler.conf", "system:kube-scheduler", &pki.scheduler),
            };
            let kubeconfig = spec.dir.join(conf);
            write_embedded_kubeconfig(&kubeconfig, &spec.server_url(), &pki.ca.cert, user, pair)
                .map_err(io_error(format!("writing {}", kubeconfig.display())))?;
            let filled = fill_template(
                template,
                &[
                    ("ADVERTISE_ADDRESS", spec.apiserver_address().to_string()),
                    ("SECURE_PORT", spec.apiserver_port.to_string()),
                    ("SERVICE_CIDR", spec.service_cidr.clone()),
                    ("CLUSTER_CIDR", spec.cluster_cidr()),
                    ("PKI_DIR", pki.dir.display().to_string()),
                    ("DATA_DIR", data_dir.display().to_string()),
                    ("KUBECONFIG", kubeconfig.display().to_string()),
                    // An empty list keeps the API server on its embedded store.
                    (
                        "ETCD_SERVERS",
                        if spec.etcd {
                            spec.etcd_servers().join(",")
                        } else {
                            String::new()
                        },
                    ),
                    ("NODE_NAME", spec.node_name(1)),
                    ("ETCD_PKI_DIR", pki.etcd.dir.display().to_string()),
                    (
                        "ETCD_DATA_DIR",
                        spec.etcd_dir()
                            .join(spec.node_name(1))
                            .display()
                            .to_string(),
                    ),
                ],
            )
            .map_err(|missing| LaunchError::Io {
                context: format!("filling manifests/{file}"),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("no value for the placeholder {{{{{missing}}}}}"),
                ),
            })?;
            let path = manifests.join(file);
            fs::write(&path, filled).map_err(io_error(format!("writing {}", path.display())))?;
        }
        Ok(())
    }

    fn start_controllers(&mut self) -> Result<(), LaunchError> {
        let spec = self.spec.clone();
        let pki = self.pki.clone().expect("certificates are generated first");
        let mut controller_manager = vec![
            self.binary("kube-controller-manager"),
            format!(
                "--kubeconfig={}",
                spec.dir.join("controller-manager.kubeconfig").display()
            ),
            format!("--bind-address={}", spec.host_address()),
            format!("--cluster-cidr={}", spec.cluster_cidr()),
            "--allocate-node-cidrs=false".to_string(),
            format!("--service-cluster-ip-range={}", spec.service_cidr),
            format!(
                "--service-account-private-key-file={}",
                pki.service_account.key.display()
            ),
            format!("--root-ca-file={}", pki.ca.cert.display()),
            "--leader-elect=true".to_string(),
        ];
        controller_manager.extend(spec.controller_manager_flags.iter().cloned());
        self.start("kube-controller-manager", controller_manager)?;

        let scheduler = vec![
            self.binary("kube-scheduler"),
            format!(
                "--kubeconfig={}",
                spec.dir.join("scheduler.kubeconfig").display()
            ),
            format!("--bind-address={}", spec.host_address()),
            "--leader-elect=true".to_string(),
        ];
        self.start("kube-scheduler", scheduler)?;
        self.check_alive()
    }

    fn start_node(&mut self, index: usize) -> Result<(), LaunchError> {
        let spec = self.spec.clone();
        let name = spec.node_name(index);
        let node_dir = spec.node_dir(index);
        let prefix = netns_prefix(&name);
        let socket = node_dir.join("container-runtime.sock");
        fs::create_dir_all(node_dir.join("manifests"))
            .map_err(io_error("creating the node directory"))?;

        if spec.node_components.runtime {
            let cni_dir = self.write_cni_config(index)?;
            let mut command = prefix.clone();
            command.extend([
                self.binary("container-runtime"),
                format!("--listen={}", socket.display()),
                format!("--root={}", node_dir.join("runtime").display()),
                format!("--state={}", node_dir.join("runtime-state").display()),
                format!("--cni-conf-dir={}", cni_dir.display()),
                "--cni-bin-dir=/usr/lib/cni".to_string(),
                // The kubelet proxies streams to the runtime inside the node, so the
                // streaming server stays on the node's loopback (containerd's port).
                "--stream-address=127.0.0.1:10010".to_string(),
            ]);
            if spec.registry_storage.is_some() {
                command.push(format!(
                    "--registry-config={}",
                    spec.dir.join("registries.toml").display()
                ));
            }
            self.start(&format!("container-runtime-{name}"), command)?;
            let waited = Instant::now();
            while !socket.exists() {
                self.check_alive()?;
                if waited.elapsed() > Duration::from_secs(30) {
                    return Err(LaunchError::Timeout {
                        what: format!("the runtime socket {}", socket.display()),
                        waited: waited.elapsed(),
                        log: self.log_of(&format!("container-runtime-{name}")),
                    });
                }
                sleep(Duration::from_millis(100));
            }
        }

        if spec.node_components.kubelet {
            let config = self.write_kubelet_config(index)?;
            let mut command = prefix.clone();
            command.extend([
                self.binary("kubelet"),
                format!("--config={}", config.display()),
                format!(
                    "--kubeconfig={}",
                    spec.dir
                        .join(format!("kubelet-{name}.kubeconfig"))
                        .display()
                ),
                format!("--hostname-override={name}"),
                format!("--node-ip={}", spec.node_address(index)),
                format!("--container-runtime-endpoint=unix://{}", socket.display()),
                format!("--root-dir={}", node_dir.join("kubelet").display()),
            ]);
            self.start(&format!("kubelet-{name}"), command)?;
        }

        if spec.node_components.proxy {
            let mut command = prefix;
            command.extend([
                self.binary("kube-proxy"),
                format!(
                    "--kubeconfig={}",
                    spec.dir.join("kube-proxy.kubeconfig").display()
                ),
                format!("--hostname-override={name}"),
                format!("--cluster-cidr={}", spec.cluster_cidr()),
                "--proxy-mode=iptables".to_string(),
                format!("--healthz-bind-address={}:10256", spec.node_address(index)),
                "--metrics-bind-address=127.0.0.1:10249".to_string(),
            ]);
            self.start(&format!("kube-proxy-{name}"), command)?;
        }
        self.check_alive()
    }

    /// Writes the node's KubeletConfiguration: serving certificate, static pod
    /// directory, cgroup root, pod CIDR, cluster DNS and a pod log directory of its
    /// own, since every node shares the host's file system.
    fn write_kubelet_config(&self, index: usize) -> Result<PathBuf, LaunchError> {
        let spec = &self.spec;
        let pki = self.pki.as_ref().expect("certificates are generated first");
        let name = spec.node_name(index);
        let node = pki.node(&name).expect("every node has certificates");
        let node_dir = spec.node_dir(index);
        // Pods with dnsPolicy Default get this file: no name server, because nothing
        // outside the machine may be reached.
        let resolv_conf = node_dir.join("resolv.conf");
        fs::write(
            &resolv_conf,
            "# local cluster node: no upstream name servers\n",
        )
        .map_err(io_error("writing the node's resolv.conf"))?;
        let config = serde_json::json!({
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": spec.node_address(index).to_string(),
            "port": 10250,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": 10248,
            "tlsCertFile": node.serving.cert.display().to_string(),
            "tlsPrivateKeyFile": node.serving.key.display().to_string(),
            "authentication": {"x509": {"clientCAFile": pki.ca.cert.display().to_string()}},
            "staticPodPath": node_dir.join("manifests").display().to_string(),
            "cgroupRoot": spec.node_cgroup(index),
            "cgroupDriver": "cgroupfs",
            "podCIDR": spec.pod_cidr(index),
            "clusterDNS": [spec.dns_service_ip().to_string()],
            "clusterDomain": CLUSTER_DOMAIN,
            "podLogsDir": node_dir.join("pod-logs").display().to_string(),
            "resolvConf": resolv_conf.display().to_string(),
            "failSwapOn": false,
        });
        let path = node_dir.join("kubelet-config.yaml");
        // JSON is valid YAML, so the kubelet reads this file as its YAML config.
        fs::write(
            &path,
            serde_json::to_vec_pretty(&config).expect("JSON serializes"),
        )
        .map_err(io_error(format!("writing {}", path.display())))?;
        Ok(path)
    }

    /// Writes the node's CNI configuration: a bridge `cni0` with host-local
    /// addresses from the node's pod CIDR, kept under the node's directory so nodes
    /// never share IPAM state, plus portmap for hostPort.
    fn write_cni_config(&self, index: usize) -> Result<PathBuf, LaunchError> {
        let spec = &self.spec;
        let node_dir = spec.node_dir(index);
        let conf_dir = node_dir.join("cni").join("net.d");
        fs::create_dir_all(&conf_dir).map_err(io_error("creating the CNI directory"))?;
        let config = serde_json::json!({
            "cniVersion": "1.0.0",
            "name": format!("{}-pods", spec.name),
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": "cni0",
                    "isGateway": true,
                    "ipMasq": true,
                    "hairpinMode": true,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{ "subnet": spec.pod_cidr(index) }]],
                        "routes": [{ "dst": "0.0.0.0/0" }],
                        "dataDir": node_dir.join("cni").join("ipam").display().to_string(),
                    },
                },
                { "type": "portmap", "capabilities": { "portMappings": true } },
            ],
        });
        let path = conf_dir.join("10-bridge.conflist");
        fs::write(
            &path,
            serde_json::to_vec_pretty(&config).expect("JSON serializes"),
        )
        .map_err(io_error(format!("writing {}", path.display())))?;
        Ok(conf_dir)
    }

    fn log_of(&self, name: &str) -> String {
        self.spec
            .dir
            .join("logs")
            .join(format!("{name}.log"))
            .display()
            .to_string()
    }

    fn check_alive(&mut self) -> Result<(), LaunchError> {
        match self.exited_daemon() {
            Some((name, status)) => Err(LaunchError::Exited {
                log: self.log_of(&name),
                name,
                status,
            }),
            None => Ok(()),
        }
    }

    fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        mut ready: impl FnMut(&Cluster) -> bool,
    ) -> Result<(), LaunchError> {
        let started = Instant::now();
        loop {
            self.check_alive()?;
            if ready(self) {
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(LaunchError::Timeout {
                    what: what.to_string(),
                    waited: started.elapsed(),
                    log: self.log_of(what),
                });
            }
            sleep(Duration::from_millis(250));
        }
    }

    /// Waits until the API server lists every node as Ready.
    pub fn wait_nodes_ready(&mut self, timeout: Duration) -> Result<(), LaunchError> {
        let expected = self.spec.nodes;
        let first_kubelet = format!("kubelet-{}", self.spec.node_name(1));
        let result = self.wait_for("every node Ready", timeout, |cluster| {
            cluster.ready_nodes() == expected
        });
        match result {
            Err(LaunchError::Timeout { what, waited, .. }) => Err(LaunchError::Timeout {
                what,
                waited,
                log: self.log_of(&first_kubelet),
            }),
            other => other,
        }
    }

    /// Returns how many nodes have the Ready condition True.
    pub fn ready_nodes(&self) -> usize {
        let Ok(output) = self.kubectl(&["get", "nodes", "-o", "json"]) else {
            return 0;
        };
        let Ok(list) = serde_json::from_str::<serde_json::Value>(&output) else {
            return 0;
        };
        list["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter(|node| {
                        node["status"]["conditions"]
                            .as_array()
                            .is_some_and(|conditions| {
                                conditions.iter().any(|condition| {
                                    condition["type"] == "Ready" && condition["status"] == "True"
                                })
                            })
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    /// Runs kubectl with the admin kubeconfig and returns its standard output, or
    /// its standard error as the error.
    pub fn kubectl(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new("kubectl")
            .arg(format!(
                "--kubeconfig={}",
                self.spec.admin_kubeconfig().display()
            ))
            .args(args)
            .output()
            .map_err(|error| format!("failed to run kubectl: {error}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Stops every daemon (nodes first, in reverse start order) and removes every
    /// namespace, mount and cgroup of the cluster.
    pub fn down(&mut self) {
        while let Some(mut daemon) = self.daemons.pop() {
            daemon.stop();
        }
        undo(&self.state);
        let _ = fs::remove_file(self.spec.state_path());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.down();
    }
}

/// Tears down the cluster recorded in the state file at `state_path`, as left by a
/// launcher that did not finish its own teardown. A missing file is not an error.
pub fn teardown(state_path: &Path) {
    let Ok(text) = fs::read_to_string(state_path) else {
        return;
    };
    let state: ClusterState = match serde_json::from_str(&text) {
        Ok(state) => state,
        Err(error) => {
            tracing::warn!(path = %state_path.display(), %error, "ignoring an unreadable state file");
            return;
        }
    };
    for daemon in state.daemons.iter().rev() {
        if stop_pid(daemon) {
            tracing::info!(daemon = %daemon.name, pid = daemon.pid, "stopped");
        }
    }
    undo(&state);
    let _ = fs::remove_file(state_path);
}

fn undo(state: &ClusterState) {
    for cgroup in &state.cgroups {
        remove_cgroup_tree(cgroup);
    }
    for root in &state.mount_roots {
        unmount_below(root);
    }
    for netns in &state.netns {
        if network::netns_path(netns).exists()
            && let Err(error) = network::delete_netns(netns)
        {
            tracing::warn!(%netns, %error, "failed to delete network namespace");
        }
    }
    if let Some(bridge) = &state.bridge
        && network::link_exists(bridge)
        && let Err(error) = network::delete_link(bridge)
    {
        tracing::warn!(%bridge, %error, "failed to delete bridge");
    }
    for dir in &state.data_dirs {
        if dir.exists()
            && let Err(error) = fs::remove_dir_all(dir)
        {
            tracing::warn!(path = %dir.display(), %error, "failed to remove data directory");
        }
    }
}

/// Runs one launcher step, printing its title and then its duration or failure.
fn step<T>(title: &str, run: impl FnOnce() -> Result<T, LaunchError>) -> Result<T, LaunchError> {
    use std::io::Write;

    let started = Instant::now();
    print!("  {title} ... ");
    let _ = std::io::stdout().flush();
    let result = run();
    match &result {
        Ok(_) => println!("done ({:.1}s)", started.elapsed().as_secs_f64()),
        Err(_) => println!("FAILED ({:.1}s)", started.elapsed().as_secs_f64()),
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_template_replaces_every_placeholder() {
        let values = [("A", "1".to_string()), ("B", "two".to_string())];
        assert_eq!(
            fill_template("x={{A}} y={{B}}{{A}}", &values).as_deref(),
            Ok("x=1 y=two1")
        );
        assert_eq!(
            fill_template("{{C}}", &values),
            Err("C".to_string()),
            "an unknown placeholder is an error"
        );
        assert!(fill_template("{{A", &values).is_err());
    }

    #[test]
    fn static_pod_manifests_fill_completely() {
        let spec = ClusterSpec {
            control_plane: ControlPlaneMode::StaticPods,
            ..ClusterSpec::new("t", Path::new("/tmp/t"), Path::new("/bin"), 1)
        };
        let values: Vec<(&str, String)> = [
            "ADVERTISE_ADDRESS",
            "SECURE_PORT",
            "SERVICE_CIDR",
            "CLUSTER_CIDR",
            "PKI_DIR",
            "DATA_DIR",
            "KUBECONFIG",
            "ETCD_SERVERS",
            "NODE_NAME",
            "ETCD_PKI_DIR",
            "ETCD_DATA_DIR",
        ]
        .into_iter()
        .map(|name| (name, format!("<{name}>")))
        .collect();
        let etcd = ("etcd.yaml", ETCD_TEMPLATE);
        for (file, template) in STATIC_POD_TEMPLATES.iter().chain([&etcd]) {
            let filled = fill_template(template, &values)
                .unwrap_or_else(|missing| panic!("{file}: no value for {missing}"));
            assert!(filled.contains("hostNetwork: true"), "{file}");
            assert!(filled.contains("namespace: kube-system"), "{file}");
            assert!(filled.contains("image: registry.k8s.io/"), "{file}");
        }
        assert_eq!(spec.server_url(), "https://10.240.0.11:6443");
        assert_eq!(spec.etcd_servers(), ["https://127.0.0.1:2379"]);
    }

    #[test]
    fn cluster_dns_manifest_fills_completely() {
        let spec = ClusterSpec::new("t", Path::new("/tmp/t"), Path::new("/bin"), 1);
        let filled = fill_cluster_dns_template(&spec).expect("every placeholder has a value");
        assert!(!filled.contains("{{"), "{filled}");
        assert!(filled.contains("clusterIP: 10.96.0.10"), "{filled}");
        assert!(filled.contains("--domain=cluster.local."), "{filled}");
        assert!(
            filled.contains("image: registry.k8s.io/kube-dns:v1.33.0"),
            "{filled}"
        );
    }

    #[test]
    fn host_etcd_ports_differ_between_clusters() {
        let mut ports = Vec::new();
        // make run's bridge, the end-to-end suites' bridges, and the largest octet.
        for octet in [240, 241, 242, 243, 255] {
            let spec = ClusterSpec {
                bridge_octet: octet,
                ..ClusterSpec::new("t", Path::new("/tmp/t"), Path::new("/bin"), 1)
            };
            for index in 1..=HOST_ETCD_MEMBERS {
                let member = spec.etcd_member(index, None);
                assert_eq!(member.name, format!("etcd-{index}"));
                assert!(member.data_dir.starts_with("/tmp/t/etcd"));
                let metrics = member.metrics_port.expect("a metrics port");
                ports.extend([member.client_port, member.peer_port, metrics]);
            }
            assert_eq!(spec.etcd_servers().len(), HOST_ETCD_MEMBERS);
        }
        assert!(ports.iter().all(|port| *port < 32768), "{ports:?}");
        let count = ports.len();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), count, "every port is used once");
    }
}
