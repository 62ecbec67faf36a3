//! Daemon configuration, filled from the command line in `main.rs`.

use std::path::PathBuf;

/// Daemon settings: state directories and the external programs it runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Unix socket the CRI gRPC server listens on.
    pub listen: PathBuf,
    /// Persistent state: sandbox and container records, bundles, container rootfs.
    pub root: PathBuf,
    /// Volatile state: pinned namespaces and the OCI runtime's own state directory.
    pub state: PathBuf,
    /// The OCI runtime binary (runc or crun), a path or a name looked up in PATH.
    pub oci_runtime: PathBuf,
    /// Directory holding the CNI plugin binaries.
    pub cni_bin_dir: PathBuf,
    /// Directory holding CNI network configurations (`*.conf`, `*.conflist`, `*.json`).
    pub cni_conf_dir: PathBuf,
    /// Cgroup driver; only `cgroupfs` is supported.
    pub cgroup_driver: String,
    /// Address (`host:port`) of the exec streaming server; port 0 picks a free port.
    pub stream_address: String,
    /// The program started as the per-container shim (this binary, `shim` subcommand).
    pub shim_binary: PathBuf,
}

impl Config {
    /// Returns the state directory the OCI runtime is pointed at with `--root`.
    pub fn oci_runtime_root(&self) -> PathBuf {
        self.state.join("oci")
    }
}
