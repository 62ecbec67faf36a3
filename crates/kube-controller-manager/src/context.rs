//! The controller context: the API client, the shared informers and the controller
//! manager's options that every controller is built from.

use std::sync::Arc;
use std::time::Duration;

/// The shared parts each controller's `new` takes.
pub struct ControllerContext {
    pub client: client::rest::RestClient,
    pub informers: client::informer::SharedInformerFactory,
    pub options: Arc<ControllerManagerOptions>,
}

/// The options the lifecycle and networking controllers read; names follow the
/// upstream flags.
#[derive(Debug, Clone)]
pub struct ControllerManagerOptions {
    /// `--cluster-cidr`: the CIDR node pod ranges are carved from.
    pub cluster_cidr: Option<String>,
    /// `--allocate-node-cidrs`: whether the node IPAM controller assigns podCIDRs.
    pub allocate_node_cidrs: bool,
    /// `--node-cidr-mask-size`; unset means 24 for an IPv4 and 64 for an IPv6
    /// cluster CIDR.
    pub node_cidr_mask_size: Option<u8>,
    /// `--node-monitor-grace-period` (40 s): how long a node may go without a
    /// heartbeat before it is marked unreachable.
    pub node_monitor_grace_period: Duration,
    /// `--node-monitor-period` (5 s): how often node health is checked.
    pub node_monitor_period: Duration,
    /// `--node-startup-grace-period` (60 s): the grace of a node that never posted
    /// a status.
    pub node_startup_grace_period: Duration,
    /// `--root-ca-file`: the CA bundle published as `kube-root-ca.crt`.
    pub root_ca_file: Option<std::path::PathBuf>,
    /// `--terminated-pod-gc-threshold` (12500; 0 or less disables).
    pub terminated_pod_gc_threshold: i64,
    /// `--max-endpoints-per-slice` (100).
    pub max_endpoints_per_slice: usize,
    /// `--resource-quota-sync-period` (5 min).
    pub resource_quota_sync_period: Duration,
}

impl Default for ControllerManagerOptions {
    fn default() -> Self {
        Self {
            cluster_cidr: None,
            allocate_node_cidrs: false,
            node_cidr_mask_size: None,
            node_monitor_grace_period: Duration::from_secs(40),
            node_monitor_period: Duration::from_secs(5),
            node_startup_grace_period: Duration::from_secs(60),
            root_ca_file: None,
            terminated_pod_gc_threshold: 12500,
            max_endpoints_per_slice: 100,
            resource_quota_sync_period: Duration::from_secs(300),
        }
    }
}
