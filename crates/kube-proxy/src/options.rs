//! Command-line flags and the KubeProxyConfiguration file
//! (`kubeproxy.config.k8s.io/v1alpha1`), merged into one validated [`ProxyConfig`].
//!
//! Entry point: [`Options::resolve`]. Values come from upstream's defaults, then the
//! `--config` file, then flags given explicitly on the command line.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};
use serde::Deserialize;

use crate::net::{Cidr, InvalidCidr};

pub const CONFIG_API_VERSION: &str = "kubeproxy.config.k8s.io/v1alpha1";
pub const CONFIG_KIND: &str = "KubeProxyConfiguration";

/// IPVS schedulers this proxy accepts.
pub const IPVS_SCHEDULERS: [&str; 6] = ["rr", "lc", "dh", "sh", "sed", "nq"];

/// Flags of kube-proxy, with upstream's names and defaults.
#[derive(Debug, Parser)]
#[command(
    name = "kube-proxy",
    about = "The Kubernetes network proxy runs on each node."
)]
pub struct Options {
    /// Path to a KubeProxyConfiguration file. Flags given explicitly override its values.
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// The proxy mode: iptables, ipvs or userspace.
    #[arg(long, default_value = "iptables")]
    pub proxy_mode: String,

    /// The CIDR range of pods in the cluster. Traffic to a cluster IP from outside this
    /// range is masqueraded.
    #[arg(long, default_value = "")]
    pub cluster_cidr: String,

    /// If non-empty, use this string as the node name instead of the hostname.
    #[arg(long, default_value = "")]
    pub hostname_override: String,

    /// SNAT all traffic sent via service cluster IPs.
    #[arg(long)]
    pub masquerade_all: bool,

    /// The bit of the fwmark space that marks packets for SNAT, 0 to 31.
    #[arg(long, default_value_t = 14)]
    pub iptables_masquerade_bit: u32,

    /// The maximum interval between full refreshes of iptables rules (e.g. 5s, 1m, 2h22m).
    #[arg(long, default_value = "30s")]
    pub iptables_sync_period: String,

    /// The minimum interval between iptables rule resyncs as endpoints and services change.
    #[arg(long, default_value = "1s")]
    pub iptables_min_sync_period: String,

    /// The IPVS scheduler: rr, lc, dh, sh, sed or nq. Empty means rr.
    #[arg(long, default_value = "")]
    pub ipvs_scheduler: String,

    /// The maximum interval between full refreshes of IPVS rules.
    #[arg(long, default_value = "30s")]
    pub ipvs_sync_period: String,

    /// The minimum interval between IPVS rule resyncs.
    #[arg(long, default_value = "0s")]
    pub ipvs_min_sync_period: String,

    /// Comma-separated CIDRs whose local addresses serve node ports. Empty means all
    /// local addresses.
    #[arg(long, value_delimiter = ',')]
    pub nodeport_addresses: Vec<String>,

    /// Remove every rule this proxy created, then exit.
    #[arg(long)]
    pub cleanup: bool,

    /// Path to a kubeconfig file with authorization and the API server location.
    #[arg(long, default_value = "")]
    pub kubeconfig: String,

    /// The address and port of the health check server; empty disables it.
    #[arg(long, default_value = "0.0.0.0:10256")]
    pub healthz_bind_address: String,

    /// The address and port of the metrics server; empty disables it.
    #[arg(long, default_value = "127.0.0.1:10249")]
    pub metrics_bind_address: String,

    /// The address the userspace proxy listens on for service traffic.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: String,

    /// How often the informers resync their caches with the proxy.
    #[arg(long, default_value = "15m")]
    pub config_sync_period: String,

    /// Log format: text or json.
    #[arg(long, default_value = "text")]
    pub logging_format: String,
}

/// The proxy mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyMode {
    Iptables,
    Ipvs,
    Userspace,
}

impl ProxyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyMode::Iptables => "iptables",
            ProxyMode::Ipvs => "ipvs",
            ProxyMode::Userspace => "userspace",
        }
    }
}

/// The validated settings the proxy runs with.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    pub mode: ProxyMode,
    pub cluster_cidr: Option<Cidr>,
    pub hostname_override: String,
    pub masquerade_all: bool,
    pub masquerade_bit: u8,
    pub iptables_sync_period: Duration,
    pub iptables_min_sync_period: Duration,
    /// One of [`IPVS_SCHEDULERS`].
    pub ipvs_scheduler: String,
    pub ipvs_sync_period: Duration,
    pub ipvs_min_sync_period: Duration,
    pub nodeport_addresses: Vec<Cidr>,
    pub cleanup: bool,
    pub kubeconfig: Option<PathBuf>,
    pub healthz_bind_address: Option<SocketAddr>,
    pub metrics_bind_address: Option<SocketAddr>,
    pub bind_address: IpAddr,
    pub config_sync_period: Duration,
    pub qps: f32,
    pub burst: u32,
    pub logging_format: String,
}

/// Invalid flags or configuration file.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    #[error("failed to read configuration file {path}: {source}")]
    ReadConfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid configuration file {path}: {message}")]
    ParseConfig { path: PathBuf, message: String },
    #[error("invalid {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Cidr(#[from] InvalidCidr),
}

fn invalid(field: &'static str, message: impl Into<String>) -> OptionsError {
    OptionsError::Invalid {
        field,
        message: message.into(),
    }
}

/// The subset of KubeProxyConfiguration this proxy reads. Unknown fields are accepted
/// and ignored so that upstream configuration files load.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KubeProxyConfiguration {
    pub api_version: String,
    pub kind: String,
    pub bind_address: Option<String>,
    pub healthz_bind_address: Option<String>,
    pub metrics_bind_address: Option<String>,
    #[serde(rename = "clusterCIDR")]
    pub cluster_cidr: Option<String>,
    pub hostname_override: Option<String>,
    pub client_connection: Option<ClientConnection>,
    pub mode: Option<String>,
    pub iptables: Option<IptablesConfiguration>,
    pub ipvs: Option<IpvsConfiguration>,
    pub node_port_addresses: Option<Vec<String>>,
    pub config_sync_period: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientConnection {
    pub kubeconfig: Option<String>,
    pub qps: Option<f32>,
    pub burst: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IptablesConfiguration {
    pub masquerade_all: Option<bool>,
    pub masquerade_bit: Option<u32>,
    pub sync_period: Option<String>,
    pub min_sync_period: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IpvsConfiguration {
    pub scheduler: Option<String>,
    pub sync_period: Option<String>,
    pub min_sync_period: Option<String>,
}

impl KubeProxyConfiguration {
    /// Parses a configuration file's YAML or JSON text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let config: KubeProxyConfiguration =
            serde_saphyr::from_str(text).map_err(|error| error.to_string())?;
        if config.kind != CONFIG_KIND {
            return Err(format!("kind is {:?}, expected {CONFIG_KIND}", config.kind));
        }
        if config.api_version != CONFIG_API_VERSION {
            return Err(format!(
                "apiVersion is {:?}, expected {CONFIG_API_VERSION}",
                config.api_version
            ));
        }
        Ok(config)
    }
}

/// Parses a Go duration such as `30s`, `1m30s`, `500ms` or `2h`; `0` is zero.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let text = value.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return Err(format!("invalid duration {value:?}"));
    }
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("missing unit in duration {value:?}"))?;
        let number: f64 = rest[..number_end]
            .parse()
            .map_err(|_| format!("invalid duration {value:?}"))?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            unit => return Err(format!("unknown unit {unit:?} in duration {value:?}")),
        };
        total += Duration::from_secs_f64(number * seconds);
        rest = &rest[unit_end..];
    }
    Ok(total)
}

impl Options {
    /// Parses flags from `args` (the first item is the program name).
    pub fn parse_from_args<I, T>(args: I) -> Result<(Options, ArgMatches), clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Options::command().try_get_matches_from(args)?;
        let options = Options::from_arg_matches(&matches)?;
        Ok((options, matches))
    }

    /// Merges the configuration file (if any) under the explicitly given flags and
    /// validates the result.
    pub fn resolve(self, matches: &ArgMatches) -> Result<ProxyConfig, OptionsError> {
        let file = match &self.config {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| OptionsError::ReadConfig {
                        path: path.clone(),
                        source,
                    })?;
                KubeProxyConfiguration::parse(&text).map_err(|message| {
                    OptionsError::ParseConfig {
                        path: path.clone(),
                        message,
                    }
                })?
            }
            None => KubeProxyConfiguration::default(),
        };
        let explicit = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
        let pick = |id: &str, flag: &String, from_file: Option<&String>| -> String {
            match from_file {
                Some(value) if !explicit(id) => value.clone(),
                _ => flag.clone(),
            }
        };
        let iptables = file.iptables.unwrap_or_default();
        let ipvs = file.ipvs.unwrap_or_default();
        let client = file.client_connection.unwrap_or_default();

        let mode_text = pick(
            "proxy_mode",
            &self.proxy_mode,
            file.mode.as_ref().filter(|m| !m.is_empty()),
        );
        let mode = match mode_text.as_str() {
            "iptables" | "" => ProxyMode::Iptables,
            "ipvs" => ProxyMode::Ipvs,
            "userspace" => ProxyMode::Userspace,
            other => {
                return Err(invalid(
                    "proxy mode",
                    format!("{other:?}; expected iptables, ipvs or userspace"),
                ));
            }
        };

        let cluster_cidr_text = pick(
            "cluster_cidr",
            &self.cluster_cidr,
            file.cluster_cidr.as_ref(),
        );
        let cluster_cidr = if cluster_cidr_text.is_empty() {
            None
        } else {
            // Upstream accepts a comma-separated dual-stack pair; the first CIDR is
            // this proxier's family.
            Some(
                cluster_cidr_text
                    .split(',')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .parse::<Cidr>()?,
            )
        };

        let masquerade_all = if explicit("masquerade_all") {
            self.masquerade_all
        } else {
            iptables.masquerade_all.unwrap_or(self.masquerade_all)
        };
        let masquerade_bit = if explicit("iptables_masquerade_bit") {
            self.iptables_masquerade_bit
        } else {
            iptables
                .masquerade_bit
                .unwrap_or(self.iptables_masquerade_bit)
        };
        let masquerade_bit = u8::try_from(masquerade_bit)
            .ok()
            .filter(|bit| *bit <= 31)
            .ok_or_else(|| {
                invalid(
                    "iptables masquerade bit",
                    format!("{masquerade_bit}; must be 0 to 31"),
                )
            })?;

        let duration = |field: &'static str, text: String| {
            parse_duration(&text).map_err(|message| invalid(field, message))
        };
        let iptables_sync_period = duration(
            "iptables sync period",
            pick(
                "iptables_sync_period",
                &self.iptables_sync_period,
                iptables.sync_period.as_ref(),
            ),
        )?;
        let iptables_min_sync_period = duration(
            "iptables min sync period",
            pick(
                "iptables_min_sync_period",
                &self.iptables_min_sync_period,
                iptables.min_sync_period.as_ref(),
            ),
        )?;
        let ipvs_sync_period = duration(
            "ipvs sync period",
            pick(
                "ipvs_sync_period",
                &self.ipvs_sync_period,
                ipvs.sync_period.as_ref(),
            ),
        )?;
        let ipvs_min_sync_period = duration(
            "ipvs min sync period",
            pick(
                "ipvs_min_sync_period",
                &self.ipvs_min_sync_period,
                ipvs.min_sync_period.as_ref(),
            ),
        )?;
        let config_sync_period = duration(
            "config sync period",
            pick(
                "config_sync_period",
                &self.config_sync_period,
                file.config_sync_period.as_ref(),
            ),
        )?;
        if iptables_sync_period.is_zero() {
            return Err(invalid("iptables sync period", "must be greater than 0"));
        }
        if iptables_min_sync_period > iptables_sync_period {
            return Err(invalid(
                "iptables min sync period",
                format!(
                    "{iptables_min_sync_period:?} is longer than the sync period {iptables_sync_period:?}"
                ),
            ));
        }
        if ipvs_sync_period.is_zero() {
            return Err(invalid("ipvs sync period", "must be greater than 0"));
        }

        let mut ipvs_scheduler = pick(
            "ipvs_scheduler",
            &self.ipvs_scheduler,
            ipvs.scheduler.as_ref(),
        );
        if ipvs_scheduler.is_empty() {
            ipvs_scheduler = "rr".to_string();
        }
        if !IPVS_SCHEDULERS.contains(&ipvs_scheduler.as_str()) {
            return Err(invalid(
                "ipvs scheduler",
                format!(
                    "{ipvs_scheduler:?}; expected one of {}",
                    IPVS_SCHEDULERS.join(", ")
                ),
            ));
        }

        let nodeport_texts = if explicit("nodeport_addresses") {
            self.nodeport_addresses.clone()
        } else {
            file.node_port_addresses
                .clone()
                .unwrap_or_else(|| self.nodeport_addresses.clone())
        };
        let nodeport_addresses = nodeport_texts
            .iter()
            .map(|text| text.trim())
            .filter(|text| !text.is_empty())
            .map(|text| text.parse::<Cidr>())
            .collect::<Result<Vec<_>, _>>()?;

        let kubeconfig_text = pick("kubeconfig", &self.kubeconfig, client.kubeconfig.as_ref());
        let address =
            |field: &'static str, text: String| -> Result<Option<SocketAddr>, OptionsError> {
                if text.is_empty() {
                    return Ok(None);
                }
                text.parse::<SocketAddr>().map(Some).map_err(|_| {
                    invalid(
                        field,
                        format!("{text:?}; expected IP:PORT such as 0.0.0.0:10256"),
                    )
                })
            };
        let healthz_bind_address = address(
            "healthz bind address",
            pick(
                "healthz_bind_address",
                &self.healthz_bind_address,
                file.healthz_bind_address.as_ref(),
            ),
        )?;
        let metrics_bind_address = address(
            "metrics bind address",
            pick(
                "metrics_bind_address",
                &self.metrics_bind_address,
                file.metrics_bind_address.as_ref(),
            ),
        )?;
        let bind_text = pick(
            "bind_address",
            &self.bind_address,
            file.bind_address.as_ref(),
        );
        let bind_address = bind_text.parse::<IpAddr>().map_err(|_| {
            invalid(
                "bind address",
                format!("{bind_text:?} is not an IP address"),
            )
        })?;

        if !matches!(self.logging_format.as_str(), "text" | "json") {
            return Err(invalid(
                "logging format",
                format!("{:?}; expected text or json", self.logging_format),
            ));
        }

        Ok(ProxyConfig {
            mode,
            cluster_cidr,
            hostname_override: pick(
                "hostname_override",
                &self.hostname_override,
                file.hostname_override.as_ref(),
            ),
            masquerade_all,
            masquerade_bit,
            iptables_sync_period,
            iptables_min_sync_period,
            ipvs_scheduler,
            ipvs_sync_period,
            ipvs_min_sync_period,
            nodeport_addresses,
            cleanup: self.cleanup,
            kubeconfig: (!kubeconfig_text.is_empty()).then(|| PathBuf::from(kubeconfig_text)),
            healthz_bind_address,
            metrics_bind_address,
            bind_address,
            config_sync_period,
            qps: client.qps.unwrap_or(5.0),
            burst: client.burst.unwrap_or(10),
            logging_format: self.logging_format,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(args: &[&str]) -> Result<ProxyConfig, OptionsError> {
        let mut all = vec!["kube-proxy"];
        all.extend_from_slice(args);
        let (options, matches) = Options::parse_from_args(all).expect("flags parse");
        options.resolve(&matches)
    }

    #[test]
    fn defaults_match_upstream() {
        let config = resolve(&[]).unwrap();
        assert_eq!(config.mode, ProxyMode::Iptables);
        assert_eq!(config.iptables_sync_period, Duration::from_secs(30));
        assert_eq!(config.iptables_min_sync_period, Duration::from_secs(1));
        assert_eq!(config.masquerade_bit, 14);
        assert_eq!(
            config.healthz_bind_address,
            Some("0.0.0.0:10256".parse().unwrap())
        );
        assert_eq!(
            config.metrics_bind_address,
            Some("127.0.0.1:10249".parse().unwrap())
        );
        assert_eq!(config.ipvs_scheduler, "rr");
        assert!(config.nodeport_addresses.is_empty());
    }

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("30").is_err());
        assert!(parse_duration("3d").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn invalid_values_are_rejected() {
        assert!(
            resolve(&["--proxy-mode", "kernelspace"])
                .unwrap_err()
                .to_string()
                .contains("proxy mode")
        );
        assert!(
            resolve(&["--ipvs-scheduler", "wrr2"])
                .unwrap_err()
                .to_string()
                .contains("ipvs scheduler")
        );
        assert!(resolve(&["--cluster-cidr", "10.0.0.0"]).is_err());
        assert!(resolve(&["--iptables-min-sync-period", "1m"]).is_err());
        assert!(resolve(&["--healthz-bind-address", "nonsense"]).is_err());
        assert!(resolve(&["--iptables-masquerade-bit", "32"]).is_err());
    }

    #[test]
    fn config_file_under_explicit_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(
            &path,
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nclusterCIDR: 10.244.0.0/16\nipvs:\n  scheduler: lc\niptables:\n  syncPeriod: 1m0s\n  masqueradeAll: true\nclientConnection:\n  kubeconfig: /etc/kube-proxy.conf\n  qps: 20\nnodePortAddresses: [\"192.168.0.0/24\"]\nconntrack:\n  maxPerCore: 32768\n",
        )
        .unwrap();
        let path_text = path.to_str().unwrap();
        let config = resolve(&["--config", path_text]).unwrap();
        assert_eq!(config.mode, ProxyMode::Ipvs);
        assert_eq!(config.cluster_cidr, Some("10.244.0.0/16".parse().unwrap()));
        assert_eq!(config.ipvs_scheduler, "lc");
        assert_eq!(config.iptables_sync_period, Duration::from_secs(60));
        assert!(config.masquerade_all);
        assert_eq!(
            config.kubeconfig,
            Some(PathBuf::from("/etc/kube-proxy.conf"))
        );
        assert_eq!(config.qps, 20.0);
        assert_eq!(
            config.nodeport_addresses,
            vec!["192.168.0.0/24".parse::<Cidr>().unwrap()]
        );

        let config = resolve(&["--config", path_text, "--proxy-mode", "iptables"]).unwrap();
        assert_eq!(
            config.mode,
            ProxyMode::Iptables,
            "an explicit flag wins over the file"
        );

        std::fs::write(&path, "apiVersion: v1\nkind: KubeProxyConfiguration\n").unwrap();
        assert!(
            resolve(&["--config", path_text])
                .unwrap_err()
                .to_string()
                .contains("apiVersion")
        );
    }
}
