//! Records of sandboxes and containers persisted under `--root`, so a restarted daemon
//! recovers what it created.
//!
//! Layout: `<root>/sandboxes/<id>/sandbox.json` and `<root>/containers/<id>/container.json`,
//! each written atomically (temporary file, then rename). The shim writes
//! `<root>/containers/<id>/exit.json` when the container's process exits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Whether a sandbox can run containers (`SANDBOX_READY`) or was stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SandboxState {
    Ready,
    NotReady,
}

/// Namespace files a sandbox's containers join; `None` means the host's namespace.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PinnedNamespaces {
    pub net: Option<PathBuf>,
    pub ipc: Option<PathBuf>,
    pub uts: Option<PathBuf>,
}

/// The PID 1 of a sandbox's shared PID namespace, see `pod_init`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodInit {
    pub pid: i32,
    /// Clock ticks since boot, which distinguish the init from a later process with the
    /// same PID.
    pub start_time: u64,
}

/// A pod sandbox as the runtime remembers it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SandboxRecord {
    pub id: String,
    pub name: String,
    pub uid: String,
    pub namespace: String,
    pub attempt: u32,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Nanoseconds since the Unix epoch.
    pub created_at: i64,
    pub state: SandboxState,
    pub hostname: String,
    pub log_directory: String,
    pub cgroup_parent: String,
    pub runtime_handler: String,
    pub host_network: bool,
    pub host_ipc: bool,
    pub host_pid: bool,
    /// Namespaced sysctls every container of the pod gets.
    pub sysctls: BTreeMap<String, String>,
    pub namespaces: PinnedNamespaces,
    /// Init of the shared PID namespace, present only with `NamespaceMode::POD`.
    #[serde(default)]
    pub pod_init: Option<PodInit>,
    /// The pod's /dev/shm tmpfs, absent with host IPC.
    #[serde(default)]
    pub shm: Option<PathBuf>,
    /// The pod IP from the CNI result, empty with host networking.
    pub ip: String,
    pub additional_ips: Vec<String>,
    /// Serialized CNI network configuration list used for ADD, replayed on DEL.
    pub cni_config: Option<serde_json::Value>,
    /// Raw CNI ADD result, passed as `prevResult` on DEL.
    pub cni_result: Option<serde_json::Value>,
}

/// A bind mount as reported in `ContainerStatus.mounts`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MountRecord {
    pub container_path: String,
    pub host_path: String,
    pub readonly: bool,
    pub propagation: i32,
}

/// A container as the runtime remembers it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    pub sandbox_id: String,
    pub name: String,
    pub attempt: u32,
    /// The image as the kubelet named it in `ContainerConfig.image`.
    pub image: String,
    /// The image id the store resolved that name to.
    pub image_ref: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Nanoseconds since the Unix epoch; `started_at` stays 0 until StartContainer.
    pub created_at: i64,
    pub started_at: i64,
    /// Absolute path of the CRI log file, empty when the kubelet gave none.
    pub log_path: String,
    pub mounts: Vec<MountRecord>,
    /// Cgroup path relative to each cgroup v1 hierarchy root.
    pub cgroup_path: String,
    /// Signal number StopContainer sends first.
    pub stop_signal: i32,
    pub shim_pid: Option<i32>,
    pub pid: Option<i32>,
    /// A failure to start, reported as the exit reason when no exit record exists.
    pub start_error: Option<String>,
    /// Whether the container's stdin is a pipe that attached clients write to.
    #[serde(default)]
    pub stdin: bool,
    /// Whether stdin closes when the first attached client detaches.
    #[serde(default)]
    pub stdin_once: bool,
    /// Whether the container's stdio is a pseudo-terminal that its shim holds.
    #[serde(default)]
    pub tty: bool,
}

/// The end of a container's process (exit code, time, OOM kill), written by the shim.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExitRecord {
    /// The exit status, or 128 + the signal number when a signal ended the process.
    pub exit_code: i32,
    /// Nanoseconds since the Unix epoch.
    pub finished_at: i64,
    pub oom_killed: bool,
}

/// File-backed store of sandbox and container records.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens (and creates) the record directories under `root`.
    pub fn open(root: &Path) -> Result<Store> {
        for dir in ["sandboxes", "containers"] {
            let path = root.join(dir);
            std::fs::create_dir_all(&path).map_err(Error::io("failed to create", &path))?;
        }
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    pub fn sandbox_dir(&self, id: &str) -> PathBuf {
        self.root.join("sandboxes").join(id)
    }

    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.root.join("containers").join(id)
    }

    pub fn exit_file(&self, id: &str) -> PathBuf {
        self.container_dir(id).join("exit.json")
    }

    pub fn save_sandbox(&self, record: &SandboxRecord) -> Result<()> {
        write_json(&self.sandbox_dir(&record.id).join("sandbox.json"), record)
    }

    pub fn save_container(&self, record: &ContainerRecord) -> Result<()> {
        write_json(
            &self.container_dir(&record.id).join("container.json"),
            record,
        )
    }

    /// Loads every sandbox record; unreadable ones are logged and skipped.
    pub fn load_sandboxes(&self) -> Vec<SandboxRecord> {
        load_all(&self.root.join("sandboxes"), "sandbox.json")
    }

    /// Loads every container record; unreadable ones are logged and skipped.
    pub fn load_containers(&self) -> Vec<ContainerRecord> {
        load_all(&self.root.join("containers"), "container.json")
    }

    /// Reads the shim's exit record of a container, `None` while it is still running.
    pub fn load_exit(&self, id: &str) -> Option<ExitRecord> {
        let path = self.exit_file(id);
        let bytes = std::fs::read(&path).ok()?;
        match serde_json::from_slice(&bytes) {
            Ok(record) => Some(record),
            Err(error) => {
                tracing::warn!(container = id, %error, "invalid exit record");
                None
            }
        }
    }

    pub fn remove_sandbox(&self, id: &str) -> Result<()> {
        remove_dir(&self.sandbox_dir(id))
    }

    pub fn remove_container(&self, id: &str) -> Result<()> {
        remove_dir(&self.container_dir(id))
    }
}

fn remove_dir(path: &Path) -> Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io("failed to remove", path)(error))
        }
        _ => Ok(()),
    }
}

/// Writes `value` as JSON to `path` through a temporary file and a rename, so readers
/// never see a half-written record.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(Error::io("failed to create", parent))?;
    }
    let bytes = serde_json::to_vec_pretty(value).map_err(|error| {
        Error::Internal(format!("failed to encode {}: {error}", path.display()))
    })?;
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, bytes).map_err(Error::io("failed to write", &temporary))?;
    std::fs::rename(&temporary, path).map_err(Error::io("failed to rename", path))?;
    Ok(())
}

fn load_all<T: DeserializeOwned>(dir: &Path, file: &str) -> Vec<T> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut records = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path().join(file);
        let parsed = std::fs::read(&path)
            .map_err(|error| error.to_string())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|error| error.to_string()));
        match parsed {
            Ok(record) => records.push(record),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "skipping unreadable record")
            }
        }
    }
    records
}

/// Returns the current time in nanoseconds since the Unix epoch.
pub fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as i64)
        .unwrap_or(0)
}
