//! The kubelet's settings: command-line flags and the `KubeletConfiguration` file
//! (`kubelet.config.k8s.io/v1beta1`) they override.
//!
//! [`Flags`] is what `main` parses; [`load`] reads `--config` when given, applies the
//! upstream defaults and then every flag that was set, and returns the
//! [`KubeletConfiguration`] the rest of the kubelet reads.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The kubelet's command-line flags, named as upstream names them. Flags that also
/// exist in the configuration file are `Option`s so that only the ones given override
/// the file.
#[derive(Clone, Debug, Default, clap::Parser)]
#[command(name = "kubelet", about = "The Kubernetes node agent")]
pub struct Flags {
    /// Path to a KubeletConfiguration file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Path to a kubeconfig file for the API server. Without it the kubelet runs in
    /// standalone mode (static pods only).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The node name to register instead of the hostname.
    #[arg(long)]
    pub hostname_override: Option<String>,
    /// The IP address to report as the node's InternalIP.
    #[arg(long)]
    pub node_ip: Option<IpAddr>,
    /// The CRI runtime endpoint, such as `unix:///run/containerd/containerd.sock`.
    #[arg(long)]
    pub container_runtime_endpoint: Option<String>,
    /// The directory for the kubelet's files (volumes, plugin state).
    #[arg(long, default_value = "/var/lib/kubelet")]
    pub root_dir: PathBuf,
    /// The root cgroup for pods.
    #[arg(long)]
    pub cgroup_root: Option<String>,
    /// The cgroup driver: `cgroupfs` or `systemd`.
    #[arg(long)]
    pub cgroup_driver: Option<String>,
    /// The directory of static pod manifests.
    #[arg(long)]
    pub pod_manifest_path: Option<PathBuf>,
    /// A URL serving a static pod manifest or a list of them.
    #[arg(long)]
    pub manifest_url: Option<String>,
    /// The maximum number of pods this node runs.
    #[arg(long)]
    pub max_pods: Option<u32>,
    /// Use the runtime's default seccomp profile for containers without one.
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub seccomp_default: Option<bool>,
    /// The pod CIDR, used when no other source sets one.
    #[arg(long)]
    pub pod_cidr: Option<String>,
    /// Comma-separated cluster DNS server addresses.
    #[arg(long, value_delimiter = ',')]
    pub cluster_dns: Option<Vec<IpAddr>>,
    /// The cluster's DNS domain, such as `cluster.local`.
    #[arg(long)]
    pub cluster_domain: Option<String>,
    /// Labels to add when registering the node: `key=value,key2=value2`.
    #[arg(long, value_delimiter = ',')]
    pub node_labels: Vec<String>,
    /// Taints to register the node with: `key=value:Effect,...`.
    #[arg(long, value_delimiter = ',')]
    pub register_with_taints: Vec<String>,
    /// The port of the kubelet's HTTPS server.
    #[arg(long)]
    pub port: Option<u16>,
    /// The port of the healthz server on the loopback address; 0 disables it.
    #[arg(long)]
    pub healthz_port: Option<u16>,
    /// The port of the read-only HTTP server; 0 disables it.
    #[arg(long)]
    pub read_only_port: Option<u16>,
    /// The address the HTTPS server listens on.
    #[arg(long)]
    pub address: Option<IpAddr>,
    /// The directory of the kubelet's pod logs.
    #[arg(long)]
    pub pod_logs_dir: Option<PathBuf>,
    /// Log format: `text` or `json`.
    #[arg(long, default_value = "text")]
    pub logging_format: String,
    /// The minimum age of a dead container before garbage collection may remove
    /// it, as a duration such as `1m`.
    #[arg(long, value_parser = duration_string::parse)]
    pub minimum_container_ttl_duration: Option<Duration>,
    /// The maximum number of dead instances kept per container of a pod; a
    /// negative value disables the limit.
    #[arg(long, allow_negative_numbers = true)]
    pub maximum_dead_containers_per_container: Option<i32>,
    /// The maximum number of dead containers kept on the node; a negative value
    /// disables the limit.
    #[arg(long, allow_negative_numbers = true)]
    pub maximum_dead_containers: Option<i32>,
}

/// An error reading or validating the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("failed to read kubelet config file {path}: {source}", path = .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to decode kubelet config file {path}: {message}", path = .path.display())]
    Decode { path: PathBuf, message: String },
    #[error("invalid kubelet configuration: {0}")]
    Invalid(String),
}

/// The group/version of the configuration file.
pub const API_VERSION: &str = "kubelet.config.k8s.io/v1beta1";

/// `KubeletConfiguration` with the fields this kubelet reads, in the file's field
/// names. Unknown fields are ignored, as upstream's lenient decoding does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KubeletConfiguration {
    pub api_version: String,
    pub kind: String,
    pub static_pod_path: Option<PathBuf>,
    #[serde(rename = "staticPodURL")]
    pub static_pod_url: Option<String>,
    #[serde(with = "duration_string")]
    pub sync_frequency: Duration,
    #[serde(with = "duration_string")]
    pub file_check_frequency: Duration,
    #[serde(with = "duration_string")]
    pub http_check_frequency: Duration,
    pub address: IpAddr,
    pub port: u16,
    pub read_only_port: u16,
    pub healthz_port: u16,
    pub healthz_bind_address: IpAddr,
    pub tls_cert_file: Option<PathBuf>,
    pub tls_private_key_file: Option<PathBuf>,
    pub cluster_domain: String,
    #[serde(rename = "clusterDNS")]
    pub cluster_dns: Vec<IpAddr>,
    #[serde(with = "duration_string")]
    pub node_status_update_frequency: Duration,
    #[serde(with = "duration_string")]
    pub node_status_report_frequency: Duration,
    pub node_lease_duration_seconds: i32,
    pub image_gc_high_threshold_percent: i32,
    pub image_gc_low_threshold_percent: i32,
    pub cgroup_root: String,
    pub cgroup_driver: String,
    pub max_pods: u32,
    #[serde(rename = "podCIDR")]
    pub pod_cidr: String,
    pub serialize_image_pulls: bool,
    /// Sustained rate of the API server client in requests per second; 0 takes the
    /// client's own default of 5.
    #[serde(rename = "kubeAPIQPS")]
    pub kube_api_qps: i32,
    /// Requests the API server client may send at once above `kube_api_qps`.
    #[serde(rename = "kubeAPIBurst")]
    pub kube_api_burst: i32,
    /// Sustained rate of Event writes per second; 0 means no limit.
    #[serde(rename = "eventRecordQPS")]
    pub event_record_qps: i32,
    /// Event writes allowed at once above `event_record_qps`.
    pub event_burst: i32,
    pub eviction_hard: BTreeMap<String, String>,
    /// Soft eviction thresholds by signal. Each needs a grace period.
    pub eviction_soft: BTreeMap<String, String>,
    /// How long a soft threshold must stay crossed before a pod is evicted, as Go
    /// duration strings by signal.
    pub eviction_soft_grace_period: BTreeMap<String, String>,
    /// The maximum grace period in seconds of a pod evicted for a soft threshold.
    /// Zero or less leaves the pod's own.
    pub eviction_max_pod_grace_period: i32,
    pub register_node: bool,
    pub register_with_taints: Vec<k8s_openapi::api::core::v1::Taint>,
    pub container_runtime_endpoint: String,
    #[serde(with = "duration_string")]
    pub runtime_request_timeout: Duration,
    pub pod_logs_dir: PathBuf,
    pub resolv_conf: PathBuf,
    pub fail_swap_on: bool,
    /// Whether containers without a seccomp profile get the runtime's default profile
    /// instead of running unconfined.
    pub seccomp_default: bool,
    /// Whether the kubelet creates the QoS and pod cgroups.
    #[serde(rename = "cgroupsPerQOS")]
    pub cgroups_per_qos: bool,
    /// Resources reserved for the OS (quantities by resource name).
    pub system_reserved: BTreeMap<String, String>,
    /// Resources reserved for the Kubernetes daemons (quantities by resource name).
    pub kube_reserved: BTreeMap<String, String>,
    /// The targets node allocatable is enforced on. `pods` limits the `kubepods`
    /// cgroup.
    pub enforce_node_allocatable: Vec<String>,
    /// Whether CPU limits become CFS quotas.
    #[serde(rename = "cpuCFSQuota")]
    pub cpu_cfs_quota: bool,

    /// Set from flags only (not part of the upstream file).
    #[serde(skip)]
    pub root_dir: PathBuf,
    #[serde(skip)]
    pub kubeconfig: Option<PathBuf>,
    #[serde(skip)]
    pub hostname_override: Option<String>,
    #[serde(skip)]
    pub node_ip: Option<IpAddr>,
    #[serde(skip)]
    pub node_labels: BTreeMap<String, String>,
    /// The container garbage collection limits.
    #[serde(skip)]
    pub container_gc: crate::kuberuntime::gc::ContainerGcPolicy,
}

impl Default for KubeletConfiguration {
    /// Upstream's v1beta1 defaults.
    fn default() -> Self {
        let eviction_hard = [
            ("memory.available", "100Mi"),
            ("nodefs.available", "10%"),
            ("nodefs.inodesFree", "5%"),
            ("imagefs.available", "15%"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Self {
            api_version: API_VERSION.to_string(),
            kind: "KubeletConfiguration".to_string(),
            static_pod_path: None,
            static_pod_url: None,
            sync_frequency: Duration::from_secs(60),
            file_check_frequency: Duration::from_secs(20),
            http_check_frequency: Duration::from_secs(20),
            address: IpAddr::from([0, 0, 0, 0]),
            port: 10250,
            read_only_port: 0,
            healthz_port: 10248,
            healthz_bind_address: IpAddr::from([127, 0, 0, 1]),
            tls_cert_file: None,
            tls_private_key_file: None,
            cluster_domain: String::new(),
            cluster_dns: Vec::new(),
            node_status_update_frequency: Duration::from_secs(10),
            node_status_report_frequency: Duration::from_secs(5 * 60),
            node_lease_duration_seconds: 40,
            image_gc_high_threshold_percent: 85,
            image_gc_low_threshold_percent: 80,
            cgroup_root: String::new(),
            cgroup_driver: "cgroupfs".to_string(),
            max_pods: 110,
            pod_cidr: String::new(),
            serialize_image_pulls: true,
            kube_api_qps: 50,
            kube_api_burst: 100,
            event_record_qps: 50,
            event_burst: 100,
            eviction_hard,
            eviction_soft: BTreeMap::new(),
            eviction_soft_grace_period: BTreeMap::new(),
            eviction_max_pod_grace_period: 0,
            register_node: true,
            register_with_taints: Vec::new(),
            container_runtime_endpoint: "unix:///run/containerd/containerd.sock".to_string(),
            runtime_request_timeout: Duration::from_secs(120),
            pod_logs_dir: PathBuf::from("/var/log/pods"),
            resolv_conf: PathBuf::from("/etc/resolv.conf"),
            fail_swap_on: true,
            seccomp_default: false,
            cgroups_per_qos: true,
            system_reserved: BTreeMap::new(),
            kube_reserved: BTreeMap::new(),
            enforce_node_allocatable: vec!["pods".to_string()],
            cpu_cfs_quota: true,
            root_dir: PathBuf::from("/var/lib/kubelet"),
            kubeconfig: None,
            hostname_override: None,
            node_ip: None,
            node_labels: BTreeMap::new(),
            // Upstream's flag defaults: no minimum age, one dead instance per
            // container, no node-wide limit.
            container_gc: crate::kuberuntime::gc::ContainerGcPolicy {
                min_age: Duration::ZERO,
                max_per_pod_container: 1,
                max_containers: -1,
            },
        }
    }
}

/// Reads `flags.config` when set, fills defaults, applies the flags that were given
/// and validates the result.
///
/// # Errors
///
/// [`ConfigError`] when the file cannot be read or decoded, or a value is invalid.
pub fn load(flags: &Flags) -> Result<KubeletConfiguration, ConfigError> {
    let mut config = match &flags.config {
        Some(path) => read_file(path)?,
        None => KubeletConfiguration::default(),
    };
    apply_flags(&mut config, flags)?;
    validate(&config)?;
    Ok(config)
}

/// Decodes a configuration file (YAML or JSON). Relative paths in it are resolved
/// against the file's directory, as upstream does.
///
/// # Errors
///
/// [`ConfigError::Read`], [`ConfigError::Decode`] for bad syntax or another kind.
pub fn read_file(path: &Path) -> Result<KubeletConfiguration, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut config = parse(&text).map_err(|message| ConfigError::Decode {
        path: path.to_path_buf(),
        message,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    for field in [
        &mut config.static_pod_path,
        &mut config.tls_cert_file,
        &mut config.tls_private_key_file,
    ] {
        if let Some(value) = field.as_mut()
            && value.is_relative()
        {
            *value = base.join(&*value);
        }
    }
    Ok(config)
}

/// Decodes configuration text, checking `kind` and `apiVersion`.
///
/// # Errors
///
/// A message naming the syntax error or the unexpected kind or version.
pub fn parse(text: &str) -> Result<KubeletConfiguration, String> {
    let config: KubeletConfiguration = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    if config.kind != "KubeletConfiguration" {
        return Err(format!(
            "kind {:?} is not KubeletConfiguration",
            config.kind
        ));
    }
    if config.api_version != API_VERSION {
        return Err(format!(
            "apiVersion {:?} is not {API_VERSION}",
            config.api_version
        ));
    }
    Ok(config)
}

fn apply_flags(config: &mut KubeletConfiguration, flags: &Flags) -> Result<(), ConfigError> {
    config.root_dir = flags.root_dir.clone();
    config.kubeconfig = flags.kubeconfig.clone();
    config.hostname_override = flags.hostname_override.clone();
    config.node_ip = flags.node_ip;
    if let Some(v) = flags.minimum_container_ttl_duration {
        config.container_gc.min_age = v;
    }
    if let Some(v) = flags.maximum_dead_containers_per_container {
        config.container_gc.max_per_pod_container = v;
    }
    if let Some(v) = flags.maximum_dead_containers {
        config.container_gc.max_containers = v;
    }
    if let Some(v) = &flags.container_runtime_endpoint {
        config.container_runtime_endpoint = v.clone();
    }
    if let Some(v) = &flags.cgroup_root {
        config.cgroup_root = v.clone();
    }
    if let Some(v) = &flags.cgroup_driver {
        config.cgroup_driver = v.clone();
    }
    if let Some(v) = &flags.pod_manifest_path {
        config.static_pod_path = Some(v.clone());
    }
    if let Some(v) = &flags.manifest_url {
        config.static_pod_url = Some(v.clone());
    }
    if let Some(v) = flags.max_pods {
        config.max_pods = v;
    }
    if let Some(v) = flags.seccomp_default {
        config.seccomp_default = v;
    }
    if let Some(v) = &flags.pod_cidr {
        config.pod_cidr = v.clone();
    }
    if let Some(v) = &flags.cluster_dns {
        config.cluster_dns = v.clone();
    }
    if let Some(v) = &flags.cluster_domain {
        config.cluster_domain = v.clone();
    }
    if let Some(v) = flags.port {
        config.port = v;
    }
    if let Some(v) = flags.healthz_port {
        config.healthz_port = v;
    }
    if let Some(v) = flags.read_only_port {
        config.read_only_port = v;
    }
    if let Some(v) = flags.address {
        config.address = v;
    }
    if let Some(v) = &flags.pod_logs_dir {
        config.pod_logs_dir = v.clone();
    }
    for label in &flags.node_labels {
        let (key, value) = label.split_once('=').ok_or_else(|| {
            ConfigError::Invalid(format!("--node-labels entry {label:?} is not key=value"))
        })?;
        config
            .node_labels
            .insert(key.to_string(), value.to_string());
    }
    if !flags.register_with_taints.is_empty() {
        config.register_with_taints = flags
            .register_with_taints
            .iter()
            .map(|t| parse_taint(t))
            .collect::<Result<_, _>>()?;
    }
    Ok(())
}

/// Parses a taint written `key[=value]:Effect`.
///
/// # Errors
///
/// [`ConfigError::Invalid`] for a missing or unknown effect.
pub fn parse_taint(text: &str) -> Result<k8s_openapi::api::core::v1::Taint, ConfigError> {
    let (key_value, effect) = text
        .rsplit_once(':')
        .ok_or_else(|| ConfigError::Invalid(format!("taint {text:?} has no effect")))?;
    if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
        return Err(ConfigError::Invalid(format!(
            "taint {text:?} has unknown effect {effect:?}"
        )));
    }
    let (key, value) = match key_value.split_once('=') {
        Some((k, v)) => (k, Some(v.to_string())),
        None => (key_value, None),
    };
    if key.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "taint {text:?} has an empty key"
        )));
    }
    Ok(k8s_openapi::api::core::v1::Taint {
        key: key.to_string(),
        value,
        effect: effect.to_string(),
        time_added: None,
    })
}

fn validate(config: &KubeletConfiguration) -> Result<(), ConfigError> {
    if !matches!(config.cgroup_driver.as_str(), "cgroupfs" | "systemd") {
        return Err(ConfigError::Invalid(format!(
            "cgroupDriver {:?} is neither cgroupfs nor systemd",
            config.cgroup_driver
        )));
    }
    if config.max_pods == 0 {
        return Err(ConfigError::Invalid("maxPods must be positive".to_string()));
    }
    for (field, value) in [
        ("kubeAPIQPS", config.kube_api_qps),
        ("kubeAPIBurst", config.kube_api_burst),
        ("eventRecordQPS", config.event_record_qps),
        ("eventBurst", config.event_burst),
    ] {
        if value < 0 {
            return Err(ConfigError::Invalid(format!(
                "{field} ({value}) must not be negative"
            )));
        }
    }
    for (field, reserved) in [
        ("systemReserved", &config.system_reserved),
        ("kubeReserved", &config.kube_reserved),
    ] {
        for (resource, quantity) in reserved {
            crate::quantity::parse(quantity)
                .map_err(|e| ConfigError::Invalid(format!("{field}[{resource}]: {e}")))?;
        }
    }
    for target in &config.enforce_node_allocatable {
        if !matches!(
            target.as_str(),
            "pods" | "none" | "system-reserved" | "kube-reserved"
        ) {
            return Err(ConfigError::Invalid(format!(
                "enforceNodeAllocatable has unknown option {target:?}"
            )));
        }
    }
    let (low, high) = (
        config.image_gc_low_threshold_percent,
        config.image_gc_high_threshold_percent,
    );
    if !(0..=100).contains(&high) || !(0..=100).contains(&low) || low > high {
        return Err(ConfigError::Invalid(format!(
            "imageGCLowThresholdPercent ({low}) and imageGCHighThresholdPercent ({high}) must be within 0-100, low <= high"
        )));
    }
    for (signal, value) in &config.eviction_soft {
        crate::eviction::parse_threshold(signal, value).map_err(ConfigError::Invalid)?;
        let grace = config.eviction_soft_grace_period.get(signal).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "evictionSoft[{signal}] has no evictionSoftGracePeriod; set one for every soft threshold"
            ))
        })?;
        duration_string::parse(grace)
            .map_err(|e| ConfigError::Invalid(format!("evictionSoftGracePeriod[{signal}]: {e}")))?;
    }
    for (signal, value) in &config.eviction_hard {
        crate::eviction::parse_threshold(signal, value).map_err(ConfigError::Invalid)?;
    }
    Ok(())
}

/// Go `time.Duration` strings ("10s", "1m30s", "500ms", "1h") as [`Duration`].
pub mod duration_string {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}ms", value.as_millis()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }

    /// Parses a sequence of `<number><unit>` with units h, m, s, ms, us, ns.
    ///
    /// # Errors
    ///
    /// A message naming the malformed text.
    pub fn parse(text: &str) -> Result<Duration, String> {
        let bad = || format!("invalid duration {text:?}");
        if text == "0" {
            return Ok(Duration::ZERO);
        }
        let mut rest = text;
        let mut total = 0f64;
        if rest.is_empty() {
            return Err(bad());
        }
        while !rest.is_empty() {
            let number_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(bad)?;
            let number: f64 = rest[..number_len].parse().map_err(|_| bad())?;
            rest = &rest[number_len..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let seconds = match &rest[..unit_len] {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 1e-3,
                "us" | "µs" => 1e-6,
                "ns" => 1e-9,
                _ => return Err(bad()),
            };
            total += number * seconds;
            rest = &rest[unit_len..];
        }
        Ok(Duration::from_secs_f64(total))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn defaults_match_upstream() {
        let config = load(&Flags::parse_from(["kubelet"])).unwrap();
        assert_eq!(config.port, 10250);
        assert_eq!(config.healthz_port, 10248);
        assert_eq!(config.read_only_port, 0);
        assert_eq!(config.max_pods, 110);
        assert_eq!(config.root_dir, PathBuf::from("/var/lib/kubelet"));
        assert!(config.serialize_image_pulls);
        assert_eq!(config.eviction_hard["memory.available"], "100Mi");
        assert_eq!(config.image_gc_high_threshold_percent, 85);
        assert_eq!(config.file_check_frequency, Duration::from_secs(20));
    }

    #[test]
    fn file_values_apply_and_flags_override_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(
            &path,
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
             staticPodPath: manifests\nmaxPods: 20\nclusterDNS: [10.96.0.10]\n\
             clusterDomain: cluster.local\nsyncFrequency: 1m30s\nport: 11250\n\
             evictionHard:\n  memory.available: 200Mi\nunknownField: true\n",
        )
        .unwrap();
        let flags = Flags::parse_from([
            "kubelet",
            "--config",
            path.to_str().unwrap(),
            "--max-pods=30",
            "--node-labels=a=b,c=d",
            "--register-with-taints=k=v:NoSchedule",
        ]);
        let config = load(&flags).unwrap();
        assert_eq!(config.static_pod_path, Some(dir.path().join("manifests")));
        assert_eq!(config.max_pods, 30);
        assert_eq!(config.port, 11250);
        assert_eq!(config.sync_frequency, Duration::from_secs(90));
        assert_eq!(
            config.cluster_dns,
            vec!["10.96.0.10".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(config.eviction_hard["memory.available"], "200Mi");
        assert_eq!(config.node_labels["c"], "d");
        assert_eq!(config.register_with_taints[0].effect, "NoSchedule");
        assert_eq!(config.register_with_taints[0].value.as_deref(), Some("v"));
    }

    #[test]
    fn api_rate_limits_default_and_parse() {
        let defaults = KubeletConfiguration::default();
        assert_eq!(defaults.kube_api_qps, 50);
        assert_eq!(defaults.kube_api_burst, 100);
        assert_eq!(defaults.event_record_qps, 50);
        assert_eq!(defaults.event_burst, 100);

        let config = parse(
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
             kubeAPIQPS: 20\nkubeAPIBurst: 40\neventRecordQPS: 0\neventBurst: 7\n",
        )
        .unwrap();
        assert_eq!(config.kube_api_qps, 20);
        assert_eq!(config.kube_api_burst, 40);
        assert_eq!(config.event_record_qps, 0);
        assert_eq!(config.event_burst, 7);
    }

    #[test]
    fn negative_api_rate_limit_is_invalid() {
        let config = KubeletConfiguration {
            kube_api_qps: -1,
            ..KubeletConfiguration::default()
        };
        let error = validate(&config).unwrap_err().to_string();
        assert!(error.contains("kubeAPIQPS (-1)"), "{error}");
    }

    #[test]
    fn bad_input_is_an_error() {
        let cases = [
            "apiVersion: v1\nkind: KubeletConfiguration\n",
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: Pod\n",
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nsyncFrequency: 10x\n",
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPods: many\n",
        ];
        for case in cases {
            assert!(parse(case).is_err(), "{case}");
        }
        assert!(parse_taint("novalue").is_err());
        assert!(parse_taint("k=v:Sometimes").is_err());
        let mut config = KubeletConfiguration {
            cgroup_driver: "other".into(),
            ..Default::default()
        };
        assert!(validate(&config).is_err());
        config.cgroup_driver = "cgroupfs".into();
        config.image_gc_low_threshold_percent = 90;
        assert!(validate(&config).is_err());
    }

    #[test]
    fn durations_parse_like_go() {
        use duration_string::parse;
        assert_eq!(parse("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse("1h2m3s").unwrap(), Duration::from_secs(3723));
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("0").unwrap(), Duration::ZERO);
        assert!(parse("").is_err());
        assert!(parse("5").is_err());
    }
}
