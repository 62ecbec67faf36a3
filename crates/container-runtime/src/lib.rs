//! A CRI v1 container runtime (containerd's role on a node).
//!
//! [`server::serve`] listens on a unix socket and serves the kubelet's
//! `runtime.v1.RuntimeService` and `runtime.v1.ImageService` calls. The work happens in
//! [`runtime::Runtime`]: pod sandboxes are pinned namespaces plus a CNI network, and each
//! container runs under an OCI runtime (runc or crun) supervised by a small per-container
//! [`shim`] process that outlives daemon restarts. [`streaming`] serves Exec, Attach and
//! PortForward sessions.

pub mod apparmor;
pub mod cgroups;
pub mod cni;
pub mod config;
pub mod container;
pub mod error;
pub mod image;
pub mod images;
pub mod logs;
pub mod namespaces;
pub mod oci;
pub mod oci_runtime;
pub mod pod_init;
pub mod portforward;
pub mod remotecommand;
pub mod runtime;
pub mod seccomp;
pub mod server;
pub mod service;
pub mod shim;
pub mod spdy;
pub mod store;
pub mod streaming;
