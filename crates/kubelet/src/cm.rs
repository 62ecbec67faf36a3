//! The container manager's cgroup tree (upstream's `pkg/kubelet/cm`): node
//! allocatable on `kubepods`, the QoS cgroups `kubepods/burstable` and
//! `kubepods/besteffort`, and one cgroup per pod (`pod<uid>`) with the pod's CPU
//! shares, CFS quota and memory limit.
//!
//! [`ContainerManager::start`] creates the node-level cgroups;
//! [`ContainerManager::ensure_pod`] runs before a pod's sandbox starts, and its
//! cgroup goes to the runtime as the sandbox's `cgroup_parent`;
//! [`ContainerManager::remove_pod`] deletes it once the pod is gone.
//!
//! With `--cgroup-driver=systemd` the same tree uses slice names
//! (`kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice`).
//! NOTE: the systemd driver writes the slice directories directly instead of asking
//! systemd over D-Bus, and cgroup v2 paths are implemented but untested here (this
//! machine kind runs cgroup v1).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;

use crate::config::KubeletConfiguration;
use crate::resource::{ResourceList, all_containers_limit, pod_limits, pod_requests};

/// The minimum `cpu.shares` the kernel accepts, given to BestEffort.
pub const MIN_SHARES: u64 = 2;
/// The maximum `cpu.shares` the kernel accepts.
pub const MAX_SHARES: u64 = 262_144;
const SHARES_PER_CPU: i64 = 1024;
/// The CFS period in microseconds (upstream's default `cpuCFSQuotaPeriod`, 100 ms).
pub const QUOTA_PERIOD: i64 = 100_000;
/// The smallest CFS quota in microseconds the kernel accepts.
const MIN_QUOTA: i64 = 1000;

/// Converts a CPU request in millicores to `cpu.shares`.
pub fn milli_cpu_to_shares(milli_cpu: i64) -> u64 {
    if milli_cpu <= 0 {
        return MIN_SHARES;
    }
    let shares = (milli_cpu * SHARES_PER_CPU / 1000) as u64;
    shares.clamp(MIN_SHARES, MAX_SHARES)
}

/// Converts a CPU limit in millicores to a CFS quota in microseconds per `period`.
/// Zero means no limit.
pub fn milli_cpu_to_quota(milli_cpu: i64, period: i64) -> i64 {
    if milli_cpu <= 0 {
        return 0;
    }
    (milli_cpu * period / 1000).max(MIN_QUOTA)
}

/// Converts cgroup v1 `cpu.shares` to cgroup v2 `cpu.weight` (1..10000).
pub fn shares_to_weight(shares: u64) -> u64 {
    1 + (shares.saturating_sub(2) * 9999) / 262_142
}

/// The limits the kubelet writes on one cgroup. `None` leaves a value as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceConfig {
    pub cpu_shares: Option<u64>,
    /// CFS quota in microseconds, or -1 for none.
    pub cpu_quota: Option<i64>,
    /// CFS period in microseconds.
    pub cpu_period: Option<i64>,
    /// Memory limit in bytes.
    pub memory: Option<i64>,
}

/// Computes the pod cgroup's limits as upstream's `ResourceConfigForPod` does.
/// Shares come from the CPU requests. Guaranteed pods, and Burstable pods whose
/// every container sets the limit, also get the CFS quota from the CPU limits and
/// the memory limit from the memory limits. BestEffort pods get the minimum
/// shares. With `enforce_cpu_limits` false (`cpuCFSQuota: false`) there is no quota.
pub fn pod_resource_config(pod: &Pod, enforce_cpu_limits: bool) -> ResourceConfig {
    let requests = pod_requests(pod);
    let limits = pod_limits(pod);
    let cpu_shares = milli_cpu_to_shares(requests.get("cpu").copied().unwrap_or(0));
    let mut cpu_quota = milli_cpu_to_quota(limits.get("cpu").copied().unwrap_or(0), QUOTA_PERIOD);
    if !enforce_cpu_limits {
        cpu_quota = -1;
    }
    let memory = limits.get("memory").copied();

    match crate::kuberuntime::sandbox::qos_class(pod) {
        "Guaranteed" => ResourceConfig {
            cpu_shares: Some(cpu_shares),
            cpu_quota: Some(cpu_quota),
            cpu_period: Some(QUOTA_PERIOD),
            memory,
        },
        "Burstable" => {
            let mut config = ResourceConfig {
                cpu_shares: Some(cpu_shares),
                ..Default::default()
            };
            if all_containers_limit(pod, "cpu") {
                config.cpu_quota = Some(cpu_quota);
                config.cpu_period = Some(QUOTA_PERIOD);
            }
            if all_containers_limit(pod, "memory") {
                config.memory = memory;
            }
            config
        }
        _ => ResourceConfig {
            cpu_shares: Some(MIN_SHARES),
            ..Default::default()
        },
    }
}

/// A cgroup named by its components below the cgroup root, such as
/// `["kubepods", "burstable", "pod<uid>"]`, independent of the driver.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CgroupName(pub Vec<String>);

impl CgroupName {
    fn child(&self, component: &str) -> CgroupName {
        let mut components = self.0.clone();
        components.push(component.to_string());
        CgroupName(components)
    }

    /// Returns the path below the hierarchy's mount point: `<root>/a/b/c` for
    /// cgroupfs, `a.slice/a-b.slice/a-b-c.slice` for systemd (dashes inside a
    /// component become underscores, as systemd reserves them for nesting).
    pub fn to_path(&self, cgroup_root: &str, systemd: bool) -> String {
        if !systemd {
            let mut path = cgroup_root.trim_end_matches('/').to_string();
            for component in &self.0 {
                path.push('/');
                path.push_str(component);
            }
            return path;
        }
        let mut path = String::new();
        let mut prefix = String::new();
        for component in &self.0 {
            let escaped = component.replace('-', "_");
            prefix = if prefix.is_empty() {
                escaped
            } else {
                format!("{prefix}-{escaped}")
            };
            path.push('/');
            path.push_str(&prefix);
            path.push_str(".slice");
        }
        path
    }

    /// Returns the name the runtime gets as `cgroup_parent`: the path for
    /// cgroupfs, the last slice's name for systemd.
    pub fn to_runtime(&self, cgroup_root: &str, systemd: bool) -> String {
        let path = self.to_path(cgroup_root, systemd);
        if systemd {
            return path.rsplit('/').next().unwrap_or_default().to_string();
        }
        path
    }
}

/// Returns the name of the QoS cgroup of `qos_class` (`kubepods` itself for
/// Guaranteed).
pub fn qos_cgroup_name(qos_class: &str) -> CgroupName {
    let root = CgroupName(vec!["kubepods".to_string()]);
    match qos_class {
        "Burstable" => root.child("burstable"),
        "BestEffort" => root.child("besteffort"),
        _ => root,
    }
}

/// Returns the name of the pod's cgroup.
pub fn pod_cgroup_name(pod: &Pod) -> CgroupName {
    let qos = crate::kuberuntime::sandbox::qos_class(pod);
    qos_cgroup_name(qos).child(&format!("pod{}", crate::kuberuntime::pod_uid(pod)))
}

/// The cgroup version of the mounted hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CgroupVersion {
    V1,
    V2,
}

/// An error creating, writing or removing a cgroup; it names the path.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("failed to create cgroup {path}: {source}", path = .path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write {value:?} to {path}: {source}", path = .path.display())]
    Write {
        path: PathBuf,
        value: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to remove cgroup {path}: {source}", path = .path.display())]
    Remove {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

const CGROUP_SUPER_MAGIC: i64 = 0x27e0eb;
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

fn fs_magic(path: &Path) -> Option<i64> {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: c_path is a valid C string and stat a writable statfs.
    let rc = unsafe { libc::statfs(c_path.as_ptr(), &mut stat) };
    (rc == 0).then_some(stat.f_type as i64)
}

/// Creates, updates and removes cgroups by name in every hierarchy that matters.
#[derive(Clone, Debug)]
pub struct CgroupManager {
    /// Where the hierarchies are mounted, normally /sys/fs/cgroup.
    pub mount_root: PathBuf,
    pub version: CgroupVersion,
    pub cgroup_root: String,
    pub systemd: bool,
}

impl CgroupManager {
    /// Detects the cgroup version at `mount_root` (v2 when it is a cgroup2 mount).
    pub fn new(mount_root: PathBuf, cgroup_root: &str, systemd: bool) -> Self {
        let version = if fs_magic(&mount_root) == Some(CGROUP2_SUPER_MAGIC) {
            CgroupVersion::V2
        } else {
            CgroupVersion::V1
        };
        CgroupManager {
            mount_root,
            version,
            cgroup_root: cgroup_root.to_string(),
            systemd,
        }
    }

    /// Returns the directories of `name`: one per v1 hierarchy (named
    /// hierarchies and the empty v2 mount of a hybrid setup left out), or one on v2.
    pub fn paths(&self, name: &CgroupName) -> Vec<PathBuf> {
        self.hierarchy_paths(name)
            .into_iter()
            .map(|(_, path)| path)
            .collect()
    }

    /// Returns (hierarchy, directory) pairs; the hierarchy is empty on v2.
    fn hierarchy_paths(&self, name: &CgroupName) -> Vec<(String, PathBuf)> {
        let relative = name.to_path(&self.cgroup_root, self.systemd);
        let relative = relative.trim_start_matches('/');
        if self.version == CgroupVersion::V2 {
            return vec![(String::new(), self.mount_root.join(relative))];
        }
        let Ok(entries) = std::fs::read_dir(&self.mount_root) else {
            return Vec::new();
        };
        let mut paths: Vec<(String, PathBuf)> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .filter(|(hierarchy, _)| {
                !matches!(hierarchy.as_str(), "unified" | "systemd" | "rdma" | "misc")
            })
            .map(|(hierarchy, path)| (hierarchy, path.join(relative)))
            .collect();
        paths.sort();
        paths
    }

    /// Returns true when the cgroup exists (judged by its first hierarchy).
    pub fn exists(&self, name: &CgroupName) -> bool {
        self.paths(name).first().is_some_and(|p| p.is_dir())
    }

    /// Creates the cgroup and its missing ancestors, then applies `config`.
    ///
    /// # Errors
    ///
    /// [`CgroupError`] naming the directory or file that failed.
    pub fn create(&self, name: &CgroupName, config: &ResourceConfig) -> Result<(), CgroupError> {
        for (hierarchy, path) in self.hierarchy_paths(name) {
            if self.version == CgroupVersion::V2 {
                self.enable_v2_controllers(&path)?;
            }
            if hierarchy == "cpuset" {
                self.create_cpuset(&path)?;
            }
            std::fs::create_dir_all(&path).map_err(|source| CgroupError::Create {
                path: path.clone(),
                source,
            })?;
        }
        self.update(name, config)
    }

    /// On v2, a controller works in a cgroup only when its parent lists it in
    /// `cgroup.subtree_control`; enables cpu, memory and pids from the cgroup root
    /// down, leaving the cgroups above the root untouched.
    fn enable_v2_controllers(&self, path: &Path) -> Result<(), CgroupError> {
        let root = self
            .mount_root
            .join(self.cgroup_root.trim_start_matches('/'));
        let mut ancestors: Vec<&Path> = path
            .ancestors()
            .skip(1)
            .take_while(|a| a.starts_with(&root))
            .collect();
        ancestors.reverse();
        for dir in ancestors {
            std::fs::create_dir_all(dir).map_err(|source| CgroupError::Create {
                path: dir.to_path_buf(),
                source,
            })?;
            write(&dir.join("cgroup.subtree_control"), "+cpu +memory +pids")?;
        }
        Ok(())
    }

    /// Writes `config` into the existing cgroup.
    ///
    /// # Errors
    ///
    /// [`CgroupError::Write`] naming the file.
    pub fn update(&self, name: &CgroupName, config: &ResourceConfig) -> Result<(), CgroupError> {
        for (hierarchy, path) in self.hierarchy_paths(name) {
            match self.version {
                CgroupVersion::V1 => write_v1(&hierarchy, &path, config)?,
                CgroupVersion::V2 => write_v2(&path, config)?,
            }
        }
        Ok(())
    }

    /// Removes the cgroup with every cgroup below it, deepest first, in every
    /// hierarchy. A cgroup that still has processes cannot be removed and returns
    /// an error.
    ///
    /// # Errors
    ///
    /// [`CgroupError::Remove`] naming the directory.
    pub fn destroy(&self, name: &CgroupName) -> Result<(), CgroupError> {
        // Every hierarchy is tried, so that one busy hierarchy does not keep the
        // others; the first failure is returned.
        let mut result = Ok(());
        for path in self.paths(name) {
            if path.is_dir()
                && let Err(error) = remove_tree(&path)
                && result.is_ok()
            {
                result = Err(error);
            }
        }
        result
    }

    /// Lists the pod cgroups (`pod<uid>`) below the QoS cgroups in any hierarchy,
    /// as (UID, name) pairs.
    pub fn pod_cgroups(&self) -> Vec<(String, CgroupName)> {
        let mut found = Vec::new();
        for qos in ["Guaranteed", "Burstable", "BestEffort"] {
            let parent = qos_cgroup_name(qos);
            let entries = self
                .paths(&parent)
                .into_iter()
                .filter_map(|dir| std::fs::read_dir(dir).ok())
                .flatten();
            for entry in entries.flatten() {
                let file_name = entry.file_name();
                let file_name = file_name.to_string_lossy();
                let component = file_name.trim_end_matches(".slice");
                let component = component.rsplit('-').next().unwrap_or(component);
                if let Some(uid) = component.strip_prefix("pod")
                    && entry.file_type().is_ok_and(|t| t.is_dir())
                {
                    // The systemd driver turned the UID's dashes into underscores.
                    let uid = if self.systemd {
                        uid.replace('_', "-")
                    } else {
                        uid.to_string()
                    };
                    let name = parent.child(&format!("pod{uid}"));
                    if !found.iter().any(|(_, n)| *n == name) {
                        found.push((uid, name));
                    }
                }
            }
        }
        found
    }
}

fn write(path: &Path, value: &str) -> Result<(), CgroupError> {
    std::fs::write(path, value).map_err(|source| CgroupError::Write {
        path: path.to_path_buf(),
        value: value.to_string(),
        source,
    })
}

fn write_v1(hierarchy: &str, path: &Path, config: &ResourceConfig) -> Result<(), CgroupError> {
    // "cpu,cpuacct" is the combined mount of some distributions.
    if matches!(hierarchy, "cpu" | "cpu,cpuacct") {
        if let Some(shares) = config.cpu_shares {
            write(&path.join("cpu.shares"), &shares.to_string())?;
        }
        // The period goes first: the kernel checks a quota against the period.
        if let Some(period) = config.cpu_period {
            write(&path.join("cpu.cfs_period_us"), &period.to_string())?;
        }
        if let Some(quota) = config.cpu_quota {
            let quota = if quota == 0 { -1 } else { quota };
            write(&path.join("cpu.cfs_quota_us"), &quota.to_string())?;
        }
    }
    if hierarchy == "memory"
        && let Some(memory) = config.memory
    {
        write(&path.join("memory.limit_in_bytes"), &memory.to_string())?;
    }
    Ok(())
}

fn write_v2(path: &Path, config: &ResourceConfig) -> Result<(), CgroupError> {
    if let Some(shares) = config.cpu_shares {
        write(
            &path.join("cpu.weight"),
            &shares_to_weight(shares).to_string(),
        )?;
    }
    if config.cpu_quota.is_some() || config.cpu_period.is_some() {
        let period = config.cpu_period.unwrap_or(QUOTA_PERIOD);
        let quota = match config.cpu_quota {
            Some(q) if q > 0 => q.to_string(),
            _ => "max".to_string(),
        };
        write(&path.join("cpu.max"), &format!("{quota} {period}"))?;
    }
    if let Some(memory) = config.memory {
        write(&path.join("memory.max"), &memory.to_string())?;
    }
    Ok(())
}

impl CgroupManager {
    /// Creates a v1 cpuset cgroup one level at a time. A new cpuset cgroup starts
    /// with empty `cpuset.cpus` and `cpuset.mems`, and no process or child can use
    /// it until they are set, so each new level copies them from its parent.
    fn create_cpuset(&self, path: &Path) -> Result<(), CgroupError> {
        let mut missing: Vec<&Path> = path.ancestors().take_while(|a| !a.exists()).collect();
        missing.reverse();
        for dir in missing {
            std::fs::create_dir(dir).map_err(|source| CgroupError::Create {
                path: dir.to_path_buf(),
                source,
            })?;
            inherit_cpuset(dir)?;
        }
        Ok(())
    }
}

fn inherit_cpuset(path: &Path) -> Result<(), CgroupError> {
    let Some(parent) = path.parent() else {
        return Ok(());
    };
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let own = std::fs::read_to_string(path.join(file)).unwrap_or_default();
        if !own.trim().is_empty() {
            continue;
        }
        let inherited = std::fs::read_to_string(parent.join(file)).unwrap_or_default();
        if !inherited.trim().is_empty() {
            write(&path.join(file), inherited.trim())?;
        }
    }
    Ok(())
}

fn remove_tree(path: &Path) -> Result<(), CgroupError> {
    let error = |source| CgroupError::Remove {
        path: path.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(path).map_err(error)?.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&entry.path())?;
        }
    }
    // On a cgroup file system the control files vanish with the directory.
    // Anywhere else (a test's plain directory) the files are removed first.
    if fs_magic(path) != Some(CGROUP_SUPER_MAGIC) && fs_magic(path) != Some(CGROUP2_SUPER_MAGIC) {
        return std::fs::remove_dir_all(path).map_err(error);
    }
    std::fs::remove_dir(path).map_err(error)
}

/// Subtracts `reserved` (quantities by resource) from `capacity`, not below zero.
pub fn subtract_reserved(
    capacity: &ResourceList,
    reserved: &[&std::collections::BTreeMap<String, String>],
) -> ResourceList {
    let mut result = capacity.clone();
    for list in reserved {
        for (resource, quantity) in list.iter() {
            let quantity =
                k8s_openapi::apimachinery::pkg::api::resource::Quantity(quantity.clone());
            if let (Some(value), Some(entry)) = (
                crate::resource::to_units(resource, &quantity),
                result.get_mut(resource),
            ) {
                *entry = (*entry - value).max(0);
            }
        }
    }
    result
}

/// The container manager: owns the node's cgroup tree.
pub struct ContainerManager {
    pub cgroups: CgroupManager,
    config: Arc<KubeletConfiguration>,
}

impl ContainerManager {
    pub fn new(config: Arc<KubeletConfiguration>, mount_root: PathBuf) -> Self {
        let cgroups = CgroupManager::new(
            mount_root,
            &config.cgroup_root,
            config.cgroup_driver == "systemd",
        );
        ContainerManager { cgroups, config }
    }

    /// Returns the node allocatable that bounds `kubepods`: `capacity` (cpu in
    /// millicores, memory in bytes) minus `systemReserved` and `kubeReserved`.
    /// The eviction threshold is not subtracted here, unlike the allocatable the
    /// Node reports, so that pods can use memory up to eviction.
    pub fn pods_allocatable(&self, capacity: &ResourceList) -> ResourceList {
        subtract_reserved(
            capacity,
            &[&self.config.system_reserved, &self.config.kube_reserved],
        )
    }

    /// Creates `kubepods` (limited to node allocatable when `enforceNodeAllocatable`
    /// lists `pods`) and the Burstable and BestEffort cgroups.
    ///
    /// # Errors
    ///
    /// [`CgroupError`] for the first cgroup that could not be created or written.
    pub fn start(&self, capacity: &ResourceList) -> Result<(), CgroupError> {
        let mut node = ResourceConfig::default();
        if self
            .config
            .enforce_node_allocatable
            .iter()
            .any(|e| e == "pods")
        {
            let allocatable = self.pods_allocatable(capacity);
            node.cpu_shares = allocatable.get("cpu").map(|m| milli_cpu_to_shares(*m));
            node.memory = allocatable.get("memory").copied();
        }
        self.cgroups.create(&qos_cgroup_name("Guaranteed"), &node)?;
        let min = ResourceConfig {
            cpu_shares: Some(MIN_SHARES),
            ..Default::default()
        };
        self.cgroups.create(&qos_cgroup_name("Burstable"), &min)?;
        self.cgroups.create(&qos_cgroup_name("BestEffort"), &min)?;
        tracing::info!(cgroup_root = %self.config.cgroup_root, driver = %self.config.cgroup_driver, "created the QoS cgroups");
        Ok(())
    }

    /// Creates the pod's cgroup with its limits unless it exists, as upstream's
    /// `EnsureExists`: limits are set once, at creation.
    ///
    /// # Errors
    ///
    /// [`CgroupError`] naming the path that failed.
    pub fn ensure_pod(&self, pod: &Pod) -> Result<(), CgroupError> {
        let name = pod_cgroup_name(pod);
        if self.cgroups.exists(&name) {
            return Ok(());
        }
        let config = pod_resource_config(pod, self.config.cpu_cfs_quota);
        self.cgroups.create(&name, &config)?;
        tracing::debug!(pod = %crate::kuberuntime::pod_full_name(pod), ?config, "created pod cgroup");
        Ok(())
    }

    /// Sets the Burstable cgroup's shares from the CPU requests of the active
    /// Burstable pods, so that Burstable pods together get their requested share
    /// against BestEffort.
    ///
    /// # Errors
    ///
    /// [`CgroupError::Write`] naming the file.
    pub fn update_qos_cgroups(&self, active: &[&Pod]) -> Result<(), CgroupError> {
        let burstable_milli_cpu: i64 = active
            .iter()
            .filter(|p| crate::kuberuntime::sandbox::qos_class(p) == "Burstable")
            .map(|p| pod_requests(p).get("cpu").copied().unwrap_or(0))
            .sum();
        let config = ResourceConfig {
            cpu_shares: Some(milli_cpu_to_shares(burstable_milli_cpu)),
            ..Default::default()
        };
        self.cgroups.update(&qos_cgroup_name("Burstable"), &config)
    }

    /// Removes the cgroup of the pod with `uid`, in whichever QoS class it is.
    ///
    /// # Errors
    ///
    /// [`CgroupError::Remove`] while processes are still in it.
    pub fn remove_pod(&self, uid: &str) -> Result<(), CgroupError> {
        for qos in ["Guaranteed", "Burstable", "BestEffort"] {
            let name = qos_cgroup_name(qos).child(&format!("pod{uid}"));
            self.cgroups.destroy(&name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::PodSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;
    use crate::resource::tests::container;

    fn pod(containers: Vec<k8s_openapi::api::core::v1::Container>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                uid: Some("1234-abcd".to_string()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn shares_and_quota_conversions() {
        assert_eq!(milli_cpu_to_shares(0), 2);
        assert_eq!(milli_cpu_to_shares(1), 2);
        assert_eq!(milli_cpu_to_shares(100), 102);
        assert_eq!(milli_cpu_to_shares(1000), 1024);
        assert_eq!(milli_cpu_to_shares(1_000_000), MAX_SHARES);
        assert_eq!(milli_cpu_to_quota(0, QUOTA_PERIOD), 0);
        assert_eq!(milli_cpu_to_quota(5, QUOTA_PERIOD), 1000);
        assert_eq!(milli_cpu_to_quota(250, QUOTA_PERIOD), 25_000);
        assert_eq!(milli_cpu_to_quota(2000, QUOTA_PERIOD), 200_000);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(MAX_SHARES), 10_000);
    }

    #[test]
    fn pod_resource_config_per_qos() {
        let guaranteed = pod(vec![
            container("a", &[], &[("cpu", "500m"), ("memory", "128Mi")]),
            container("b", &[], &[("cpu", "250m"), ("memory", "64Mi")]),
        ]);
        assert_eq!(
            pod_resource_config(&guaranteed, true),
            ResourceConfig {
                cpu_shares: Some(768),
                cpu_quota: Some(75_000),
                cpu_period: Some(QUOTA_PERIOD),
                memory: Some(192 << 20),
            }
        );
        assert_eq!(pod_resource_config(&guaranteed, false).cpu_quota, Some(-1));

        // One container without a memory limit: no pod memory limit.
        let burstable = pod(vec![
            container(
                "a",
                &[("cpu", "100m")],
                &[("cpu", "200m"), ("memory", "64Mi")],
            ),
            container("b", &[("cpu", "100m")], &[("cpu", "300m")]),
        ]);
        assert_eq!(
            pod_resource_config(&burstable, true),
            ResourceConfig {
                cpu_shares: Some(204),
                cpu_quota: Some(50_000),
                cpu_period: Some(QUOTA_PERIOD),
                memory: None,
            }
        );

        let best_effort = pod(vec![container("a", &[], &[])]);
        assert_eq!(
            pod_resource_config(&best_effort, true),
            ResourceConfig {
                cpu_shares: Some(MIN_SHARES),
                ..Default::default()
            }
        );
    }

    #[test]
    fn cgroup_names_per_driver() {
        let name = pod_cgroup_name(&pod(vec![container("a", &[("cpu", "1")], &[])]));
        assert_eq!(
            name.to_path("/root", false),
            "/root/kubepods/burstable/pod1234-abcd"
        );
        assert_eq!(
            name.to_path("/", true),
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_abcd.slice"
        );
        assert_eq!(
            name.to_runtime("/", true),
            "kubepods-burstable-pod1234_abcd.slice"
        );
        let guaranteed = pod(vec![container(
            "a",
            &[],
            &[("cpu", "1"), ("memory", "1Gi")],
        )]);
        assert_eq!(
            pod_cgroup_name(&guaranteed).to_runtime("", false),
            "/kubepods/pod1234-abcd"
        );
    }

    #[test]
    fn v1_tree_in_plain_directories() {
        let dir = tempfile::tempdir().unwrap();
        for hierarchy in ["cpu", "memory", "pids", "unified"] {
            std::fs::create_dir(dir.path().join(hierarchy)).unwrap();
        }
        let config = Arc::new(KubeletConfiguration {
            cgroup_root: "/test".to_string(),
            system_reserved: [("memory".to_string(), "1Gi".to_string())].into(),
            kube_reserved: [("cpu".to_string(), "500m".to_string())].into(),
            ..Default::default()
        });
        let manager = ContainerManager {
            cgroups: CgroupManager {
                mount_root: dir.path().to_path_buf(),
                version: CgroupVersion::V1,
                cgroup_root: "/test".to_string(),
                systemd: false,
            },
            config,
        };
        let capacity =
            ResourceList::from([("cpu".to_string(), 2000), ("memory".to_string(), 4 << 30)]);
        manager.start(&capacity).unwrap();
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
        assert_eq!(read("cpu/test/kubepods/cpu.shares"), "1536");
        assert_eq!(
            read("memory/test/kubepods/memory.limit_in_bytes"),
            (3u64 << 30).to_string()
        );
        assert_eq!(read("cpu/test/kubepods/besteffort/cpu.shares"), "2");
        assert!(!dir.path().join("unified/test").exists());

        let guaranteed = pod(vec![container(
            "a",
            &[],
            &[("cpu", "250m"), ("memory", "64Mi")],
        )]);
        manager.ensure_pod(&guaranteed).unwrap();
        assert_eq!(read("cpu/test/kubepods/pod1234-abcd/cpu.shares"), "256");
        assert_eq!(
            read("cpu/test/kubepods/pod1234-abcd/cpu.cfs_quota_us"),
            "25000"
        );
        assert_eq!(
            read("cpu/test/kubepods/pod1234-abcd/cpu.cfs_period_us"),
            "100000"
        );
        assert_eq!(
            read("memory/test/kubepods/pod1234-abcd/memory.limit_in_bytes"),
            (64u64 << 20).to_string()
        );
        assert!(dir.path().join("pids/test/kubepods/pod1234-abcd").is_dir());

        let burstable = pod(vec![container("a", &[("cpu", "300m")], &[])]);
        manager
            .update_qos_cgroups(&[&guaranteed, &burstable, &burstable])
            .unwrap();
        assert_eq!(read("cpu/test/kubepods/burstable/cpu.shares"), "614");

        manager.remove_pod("1234-abcd").unwrap();
        assert!(!dir.path().join("cpu/test/kubepods/pod1234-abcd").exists());
        assert!(
            !dir.path()
                .join("memory/test/kubepods/pod1234-abcd")
                .exists()
        );
        assert!(dir.path().join("cpu/test/kubepods/burstable").is_dir());
    }
}
