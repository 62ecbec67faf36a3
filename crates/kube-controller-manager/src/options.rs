//! Command-line flags of kube-controller-manager, named and defaulted as upstream's.
//!
//! Boolean flags take pflag's forms: a bare `--flag` means true and `--flag=false` is
//! accepted. Flags that kubeadm manifests pass but this binary does not implement are
//! accepted so that it starts from an unmodified manifest; [`ControllerManagerOptions::warn_ignored`]
//! logs each one that was set.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};

/// The flags of kube-controller-manager.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "kube-controller-manager",
    about = "The Kubernetes controller manager is a daemon that embeds the core control loops",
    disable_version_flag = true
)]
pub struct ControllerManagerOptions {
    /// Path to a kubeconfig file with authorization and master location information.
    /// When empty, the in-cluster configuration is used.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,

    /// A list of controllers to enable. '*' enables all on-by-default controllers,
    /// 'foo' enables the controller named 'foo', '-foo' disables the controller named
    /// 'foo'.
    #[arg(long, value_delimiter = ',', default_value = "*")]
    pub controllers: Vec<String>,

    /// Start a leader election client and gain leadership before executing the main
    /// loop.
    #[arg(long, default_value = "true", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub leader_elect: bool,

    /// The duration that non-leader candidates wait after observing a leadership
    /// renewal before trying to acquire leadership.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub leader_elect_lease_duration: Duration,

    /// The interval between attempts by the acting leader to renew its leadership.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub leader_elect_renew_deadline: Duration,

    /// The duration clients wait between attempts to acquire or renew leadership.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub leader_elect_retry_period: Duration,

    /// The namespace of the Lease object used for leader election.
    #[arg(long, default_value = "kube-system")]
    pub leader_elect_resource_namespace: String,

    /// The name of the Lease object used for leader election.
    #[arg(long, default_value = "kube-controller-manager")]
    pub leader_elect_resource_name: String,

    /// The number of deployment objects that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_deployment_syncs: usize,

    /// The number of replica sets that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_replicaset_syncs: usize,

    /// The number of replication controllers that are allowed to sync concurrently.
    #[arg(
        long = "concurrent_rc_syncs",
        alias = "concurrent-rc-syncs",
        default_value_t = 5
    )]
    pub concurrent_rc_syncs: usize,

    /// The number of statefulset objects that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_statefulset_syncs: usize,

    /// The number of daemonset objects that are allowed to sync concurrently.
    #[arg(long, default_value_t = 2)]
    pub concurrent_daemonset_syncs: usize,

    /// The number of job objects that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_job_syncs: usize,

    /// The number of cronjob objects that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_cron_job_syncs: usize,

    /// The number of garbage collector workers that are allowed to sync concurrently.
    #[arg(long, default_value_t = 20)]
    pub concurrent_gc_syncs: usize,

    /// The number of namespace objects that are allowed to sync concurrently.
    #[arg(long, default_value_t = 10)]
    pub concurrent_namespace_syncs: usize,

    /// The number of endpoint syncing operations done concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_endpoint_syncs: usize,

    /// The number of service endpoint syncing operations done concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_service_endpoint_syncs: usize,

    /// The number of service account token objects that are allowed to sync
    /// concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_serviceaccount_token_syncs: usize,

    /// The number of resource quotas that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_resource_quota_syncs: usize,

    /// The number of TTL-after-finished controller workers that are allowed to sync
    /// concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_ttl_after_finished_syncs: usize,

    /// The number of horizontal pod autoscaler objects that are allowed to sync
    /// concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_horizontal_pod_autoscaler_syncs: usize,

    /// The period for syncing the number of pods in horizontal pod autoscaler.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub horizontal_pod_autoscaler_sync_period: Duration,

    /// The minimum change (from 1.0) in the desired-to-actual metrics ratio for the
    /// horizontal pod autoscaler to consider scaling.
    #[arg(long, default_value_t = 0.1)]
    pub horizontal_pod_autoscaler_tolerance: f64,

    /// The period for which autoscaler will look backwards and not scale down below
    /// any recommendation it made during that period.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub horizontal_pod_autoscaler_downscale_stabilization: Duration,

    /// The period after pod start when CPU samples might be skipped.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub horizontal_pod_autoscaler_cpu_initialization_period: Duration,

    /// The period after pod start during which readiness changes will be treated as
    /// initial readiness.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub horizontal_pod_autoscaler_initial_readiness_delay: Duration,

    /// Number of terminated pods that can exist before the terminated pod garbage
    /// collector starts deleting terminated pods. If <= 0, it is disabled.
    #[arg(long, default_value_t = 12500)]
    pub terminated_pod_gc_threshold: i64,

    /// CIDR range for pods in the cluster.
    #[arg(long)]
    pub cluster_cidr: Option<String>,

    /// CIDR range for services in the cluster.
    #[arg(long)]
    pub service_cluster_ip_range: Option<String>,

    /// Whether CIDRs for pods should be allocated and set on nodes.
    #[arg(long, default_value = "false", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub allocate_node_cidrs: bool,

    /// Mask size for the node CIDR in the cluster. The default is 24 for IPv4 and 64
    /// for IPv6.
    #[arg(long)]
    pub node_cidr_mask_size: Option<u8>,

    /// Amount of time a running node may be unresponsive before it is marked
    /// unhealthy.
    #[arg(long, default_value = "40s", value_parser = parse_duration)]
    pub node_monitor_grace_period: Duration,

    /// The period for syncing NodeStatus in the node lifecycle controller.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub node_monitor_period: Duration,

    /// Amount of time a starting node may be unresponsive before it is marked
    /// unhealthy.
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    pub node_startup_grace_period: Duration,

    /// The maximum number of endpoints added to an EndpointSlice.
    #[arg(long, default_value_t = 100)]
    pub max_endpoints_per_slice: usize,

    /// The period for syncing quota usage status in the system.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub resource_quota_sync_period: Duration,

    /// Filename containing a PEM-encoded private RSA or ECDSA key used to sign service
    /// account tokens.
    #[arg(long)]
    pub service_account_private_key_file: Option<PathBuf>,

    /// If set, this root certificate authority is included in service account token
    /// secrets and in the kube-root-ca.crt config maps.
    #[arg(long)]
    pub root_ca_file: Option<PathBuf>,

    /// QPS to use while talking with kubernetes apiserver.
    #[arg(long, default_value_t = 20.0)]
    pub kube_api_qps: f32,

    /// Burst to use while talking with kubernetes apiserver.
    #[arg(long, default_value_t = 30)]
    pub kube_api_burst: u32,

    /// The port on which to serve HTTPS with authentication and authorization. 0
    /// disables HTTPS.
    #[arg(long, default_value_t = 10257)]
    pub secure_port: u16,

    /// The IP address on which to listen for the --secure-port port.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,

    /// Minimum period between two informer resyncs.
    #[arg(long, default_value = "12h", value_parser = parse_duration)]
    pub min_resync_period: Duration,

    /// Log format: "text" or "json".
    #[arg(long, default_value = "text")]
    pub logging_format: String,

    /// Number for the log level verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,

    #[arg(long, hide = true)]
    pub authentication_kubeconfig: Option<String>,
    #[arg(long, hide = true)]
    pub authorization_kubeconfig: Option<String>,
    #[arg(long, hide = true)]
    pub client_ca_file: Option<String>,
    #[arg(long, hide = true)]
    pub cluster_name: Option<String>,
    #[arg(long, hide = true)]
    pub cluster_signing_cert_file: Option<String>,
    #[arg(long, hide = true)]
    pub cluster_signing_key_file: Option<String>,
    #[arg(long, hide = true)]
    pub requestheader_client_ca_file: Option<String>,
    #[arg(long, hide = true)]
    pub use_service_account_credentials: Option<String>,
    #[arg(long, hide = true)]
    pub profiling: Option<String>,
    #[arg(long, hide = true)]
    pub feature_gates: Option<String>,
    #[arg(long, hide = true)]
    pub tls_cert_file: Option<String>,
    #[arg(long, hide = true)]
    pub tls_private_key_file: Option<String>,
}

impl ControllerManagerOptions {
    /// Logs one warning for each set flag that is accepted but has no effect.
    pub fn warn_ignored(&self) {
        let ignored = [
            (
                "--authentication-kubeconfig",
                self.authentication_kubeconfig.is_some(),
            ),
            (
                "--authorization-kubeconfig",
                self.authorization_kubeconfig.is_some(),
            ),
            ("--client-ca-file", self.client_ca_file.is_some()),
            ("--cluster-name", self.cluster_name.is_some()),
            (
                "--cluster-signing-cert-file",
                self.cluster_signing_cert_file.is_some(),
            ),
            (
                "--cluster-signing-key-file",
                self.cluster_signing_key_file.is_some(),
            ),
            (
                "--requestheader-client-ca-file",
                self.requestheader_client_ca_file.is_some(),
            ),
            (
                "--use-service-account-credentials",
                self.use_service_account_credentials.is_some(),
            ),
            ("--profiling", self.profiling.is_some()),
            ("--feature-gates", self.feature_gates.is_some()),
            ("--tls-cert-file", self.tls_cert_file.is_some()),
            (
                "--tls-private-key-file",
                self.tls_private_key_file.is_some(),
            ),
        ];
        for (flag, set) in ignored {
            if set {
                tracing::warn!(flag, "flag accepted but not implemented; it has no effect");
            }
        }
    }

    /// Returns the options a test or an embedding program starts from: the upstream
    /// defaults with leader election and the secure port off.
    pub fn for_tests() -> Self {
        let mut options = Self::parse_from(["kube-controller-manager"]);
        options.leader_elect = false;
        options.secure_port = 0;
        options
    }
}

/// Parses a Go-style duration such as `5m`, `30s`, `1h30m`, `500ms` or `0`.
///
/// # Errors
/// A message naming the text when a number or unit is missing or invalid.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err("invalid duration \"\": expected a number and a unit such as 5m".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let unit_start = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| {
                format!("invalid duration {text:?}: missing unit (ns, us, ms, s, m, h)")
            })?;
        let (number, tail) = rest.split_at(unit_start);
        let number: f64 = number
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: {number:?} is not a number"))?;
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_end);
        let seconds = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            other => return Err(format!("invalid duration {text:?}: unknown unit {other:?}")),
        };
        total += Duration::from_secs_f64(number * seconds);
        rest = next;
    }
    Ok(total)
}

impl Default for ControllerManagerOptions {
    fn default() -> Self {
        Self::parse_from(["kube-controller-manager"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("40s"), Ok(Duration::from_secs(40)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5x").is_err());
    }

    #[test]
    fn defaults_match_upstream() {
        let options = ControllerManagerOptions::parse_from(["kube-controller-manager"]);
        assert_eq!(options.concurrent_deployment_syncs, 5);
        assert_eq!(options.concurrent_replicaset_syncs, 5);
        assert_eq!(options.secure_port, 10257);
        assert_eq!(options.kube_api_qps, 20.0);
        assert_eq!(options.kube_api_burst, 30);
        assert_eq!(options.node_monitor_grace_period, Duration::from_secs(40));
        assert!(options.leader_elect);
        assert_eq!(options.controllers, vec!["*".to_string()]);
        assert_eq!(options.concurrent_horizontal_pod_autoscaler_syncs, 5);
        assert_eq!(
            options.horizontal_pod_autoscaler_sync_period,
            Duration::from_secs(15)
        );
        assert_eq!(options.horizontal_pod_autoscaler_tolerance, 0.1);
        assert_eq!(
            options.horizontal_pod_autoscaler_downscale_stabilization,
            Duration::from_secs(300)
        );
        assert_eq!(
            options.horizontal_pod_autoscaler_cpu_initialization_period,
            Duration::from_secs(300)
        );
        assert_eq!(
            options.horizontal_pod_autoscaler_initial_readiness_delay,
            Duration::from_secs(30)
        );
    }

    #[test]
    fn kubeadm_flags_are_accepted() {
        let options = ControllerManagerOptions::try_parse_from([
            "kube-controller-manager",
            "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
            "--use-service-account-credentials=true",
            "--leader-elect=false",
            "--controllers=*,bootstrapsigner,tokencleaner",
            "--allocate-node-cidrs=true",
        ])
        .expect("parse kubeadm flags");
        assert!(!options.leader_elect);
        assert!(options.allocate_node_cidrs);
        assert_eq!(options.controllers.len(), 3);
    }
}
