//! Command-line flags of the kube-scheduler, with upstream names and defaults.

use std::net::IpAddr;

use clap::Parser;

/// The kube-scheduler's flags.
#[derive(Clone, Debug, Parser)]
#[command(name = "kube-scheduler", about = "The Kubernetes scheduler: assigns pending pods to nodes.")]
pub struct Options {
    /// Path to a kubeconfig file with the API server address and credentials; the
    /// KUBECONFIG files or the in-cluster configuration when empty.
    #[arg(long, default_value = "")]
    pub kubeconfig: String,

    /// Path to a KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1).
    #[arg(long, default_value = "")]
    pub config: String,

    /// Elect a leader through a Lease before scheduling; overrides the configuration
    /// file's leaderElection.leaderElect.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: Option<bool>,

    /// The namespace of the leader election Lease.
    #[arg(long, default_value = "kube-system")]
    pub leader_elect_resource_namespace: String,

    /// The name of the leader election Lease.
    #[arg(long, default_value = "kube-scheduler")]
    pub leader_elect_resource_name: String,

    /// The HTTPS port for /healthz, /livez, /readyz and /metrics; 0 picks a free port.
    #[arg(long, default_value_t = 10259)]
    pub secure_port: u16,

    /// The IP address the secure port listens on.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,

    /// Log format: `text` or `json`.
    #[arg(long, default_value = "text")]
    pub logging_format: String,

    /// Log verbosity (0-10), mapped onto tracing levels when RUST_LOG is unset.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
}
