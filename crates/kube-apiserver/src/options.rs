//! Command-line flags of kube-apiserver, named and defaulted as upstream's.
//!
//! Boolean flags take pflag's forms: a bare `--flag` means true and `--flag=false`
//! is accepted. Flags that kubeadm manifests pass but this server does not implement yet are
//! accepted so that the binary starts from an unmodified manifest; [`Options::warn_ignored`]
//! logs each one that was set.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};
use storage::etcd3::Etcd3Tls;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "kube-apiserver",
    about = "The Kubernetes API server validates and configures data for the api objects",
    disable_version_flag = true
)]
pub struct Options {
    /// List of etcd servers to connect with (scheme://ip:port), comma separated. When
    /// empty, objects are kept in the embedded store under --data-dir.
    #[arg(long, value_delimiter = ',', default_value = "")]
    pub etcd_servers: Vec<String>,

    /// The prefix to prepend to all resource paths in etcd.
    #[arg(long, default_value = "/registry")]
    pub etcd_prefix: String,

    /// Interval of the requests that compact storage history. 0 disables compaction.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub etcd_compaction_interval: Duration,

    /// Directory of the embedded store, used when --etcd-servers is empty.
    #[arg(long, default_value = "/var/lib/kube-apiserver")]
    pub data_dir: PathBuf,

    /// Memory the embedded store may use for its page cache, in bytes. The watch
    /// cache already keeps every object in memory, so a small cache suffices.
    #[arg(long, default_value_t = storage::embedded::DEFAULT_CACHE_SIZE_BYTES)]
    pub embedded_store_cache_bytes: usize,

    /// The port on which to serve HTTPS with authentication and authorization.
    #[arg(long, default_value_t = 6443)]
    pub secure_port: u16,

    /// The IP address on which to listen for the --secure-port port.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,

    /// The IP address on which to advertise the apiserver to members of the cluster.
    /// When empty, --bind-address is used, or 127.0.0.1 when that is unspecified.
    #[arg(long)]
    pub advertise_address: Option<IpAddr>,

    /// File containing the default x509 certificate for HTTPS (CA certificate, if
    /// any, concatenated after the server certificate).
    #[arg(long)]
    pub tls_cert_file: Option<PathBuf>,

    /// File containing the default x509 private key matching --tls-cert-file.
    #[arg(long)]
    pub tls_private_key_file: Option<PathBuf>,

    /// The directory where the self-signed TLS certificate is written when
    /// --tls-cert-file and --tls-private-key-file are not given.
    #[arg(long, default_value = "/var/run/kubernetes")]
    pub cert_dir: PathBuf,

    /// A CIDR notation IP range from which to assign service cluster IPs.
    #[arg(long, default_value = "10.0.0.0/24")]
    pub service_cluster_ip_range: String,

    /// A port range to reserve for services with NodePort visibility, e.g. 30000-32767.
    #[arg(long, default_value = "30000-32767")]
    pub service_node_port_range: String,

    /// The maximum number of non-mutating requests in flight at a given time.
    #[arg(long, default_value_t = 400)]
    pub max_requests_inflight: usize,

    /// The maximum number of mutating requests in flight at a given time.
    #[arg(long, default_value_t = 200)]
    pub max_mutating_requests_inflight: usize,

    /// The components `componentstatuses` reports; `None` means upstream's fixed
    /// set. Not a flag: tests point the probes at servers they start.
    #[arg(skip)]
    pub component_status_targets: Option<Vec<crate::endpoints::component_status::Component>>,

    /// Enables the watch cache.
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub watch_cache: bool,

    /// Sets the log format: text or json.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub logging_format: String,

    /// Number for the log level verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,

    /// Accepted for compatibility with kubeadm manifests; not implemented yet.
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub allow_privileged: Option<bool>,
    /// Accepted for compatibility; authorization is not enforced yet.
    #[arg(long)]
    pub authorization_mode: Option<String>,
    /// Accepted for compatibility; client certificates are not verified yet.
    #[arg(long)]
    pub client_ca_file: Option<PathBuf>,
    /// Admission plugins to turn on beside the default ones, comma separated. Only
    /// ServiceAccount, DefaultTolerationSeconds and Priority exist; other names are
    /// accepted with a warning.
    #[arg(long)]
    pub enable_admission_plugins: Option<String>,
    /// Accepted for compatibility; bootstrap tokens are not implemented yet.
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub enable_bootstrap_token_auth: Option<bool>,
    /// SSL Certificate Authority file used to secure etcd communication. Required
    /// for https:// etcd servers, because system roots are not used.
    #[arg(long)]
    pub etcd_cafile: Option<PathBuf>,
    /// SSL certification file used to secure etcd communication.
    #[arg(long)]
    pub etcd_certfile: Option<PathBuf>,
    /// SSL key file used to secure etcd communication.
    #[arg(long)]
    pub etcd_keyfile: Option<PathBuf>,
    /// The client certificate the API server presents to kubelets for logs, exec,
    /// attach, port-forward and node proxy.
    #[arg(long)]
    pub kubelet_client_certificate: Option<PathBuf>,
    /// The key of `--kubelet-client-certificate`.
    #[arg(long)]
    pub kubelet_client_key: Option<PathBuf>,
    /// The CA that signs kubelet serving certificates; without it they are not verified.
    #[arg(long)]
    pub kubelet_certificate_authority: Option<PathBuf>,
    /// The node address types tried in order to reach a kubelet.
    #[arg(long)]
    pub kubelet_preferred_address_types: Option<String>,
    /// Accepted for compatibility; API aggregation is not implemented yet.
    #[arg(long)]
    pub proxy_client_cert_file: Option<PathBuf>,
    /// Accepted for compatibility; API aggregation is not implemented yet.
    #[arg(long)]
    pub proxy_client_key_file: Option<PathBuf>,
    /// Accepted for compatibility; request-header authentication is not implemented yet.
    #[arg(long)]
    pub requestheader_allowed_names: Option<String>,
    /// Accepted for compatibility; request-header authentication is not implemented yet.
    #[arg(long)]
    pub requestheader_client_ca_file: Option<PathBuf>,
    /// Accepted for compatibility; request-header authentication is not implemented yet.
    #[arg(long)]
    pub requestheader_extra_headers_prefix: Option<String>,
    /// Accepted for compatibility; request-header authentication is not implemented yet.
    #[arg(long)]
    pub requestheader_group_headers: Option<String>,
    /// Accepted for compatibility; request-header authentication is not implemented yet.
    #[arg(long)]
    pub requestheader_username_headers: Option<String>,
    /// The `iss` claim of service account tokens; the first value is used.
    #[arg(long, default_value = "https://kubernetes.default.svc.cluster.local")]
    pub service_account_issuer: String,
    /// Accepted for compatibility; service account tokens are not implemented yet.
    #[arg(long)]
    pub service_account_key_file: Option<PathBuf>,
    /// The `jwks_uri` of the OpenID discovery document. Without it the document
    /// points at `/openid/v1/jwks` on the advertised address and secure port.
    #[arg(long)]
    pub service_account_jwks_uri: Option<String>,
    /// The private key (RSA or ECDSA P-256, PEM) that signs service account tokens.
    /// Without it a key is generated at start-up, so tokens do not survive a restart.
    #[arg(long)]
    pub service_account_signing_key_file: Option<PathBuf>,
    /// The toleration seconds added to pods without a `node.kubernetes.io/not-ready`
    /// NoExecute toleration (DefaultTolerationSeconds admission).
    #[arg(long, default_value_t = 300)]
    pub default_not_ready_toleration_seconds: i64,
    /// The toleration seconds added to pods without a `node.kubernetes.io/unreachable`
    /// NoExecute toleration (DefaultTolerationSeconds admission).
    #[arg(long, default_value_t = 300)]
    pub default_unreachable_toleration_seconds: i64,
    /// Admission plugins to turn off, comma separated.
    #[arg(long, value_delimiter = ',')]
    pub disable_admission_plugins: Vec<String>,
}

impl Options {
    /// Returns the address advertised to cluster members, as upstream derives it.
    pub fn advertise_address(&self) -> IpAddr {
        if let Some(address) = self.advertise_address {
            return address;
        }
        if self.bind_address.is_unspecified() {
            IpAddr::from([127, 0, 0, 1])
        } else {
            self.bind_address
        }
    }

    /// Returns the etcd endpoints, or an empty list for the embedded store.
    pub fn etcd_endpoints(&self) -> Vec<String> {
        self.etcd_servers
            .iter()
            .map(|server| server.trim().to_string())
            .filter(|server| !server.is_empty())
            .collect()
    }

    /// Returns the TLS files for etcd, or `None` when no `--etcd-*file` flag is set
    /// and etcd is reached over plain HTTP.
    ///
    /// # Errors
    /// A message naming the flags when only one of `--etcd-certfile` and
    /// `--etcd-keyfile` is set, or a client certificate comes without `--etcd-cafile`.
    pub fn etcd_tls(&self) -> Result<Option<Etcd3Tls>, String> {
        let client = match (&self.etcd_certfile, &self.etcd_keyfile) {
            (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
            (None, None) => None,
            _ => {
                return Err("--etcd-certfile and --etcd-keyfile must be given together".to_string());
            }
        };
        match (&self.etcd_cafile, client) {
            (Some(ca_file), client) => Ok(Some(Etcd3Tls {
                ca_file: ca_file.clone(),
                client,
            })),
            (None, None) => Ok(None),
            (None, Some(_)) => Err(
                "--etcd-certfile needs --etcd-cafile, because system roots are not used"
                    .to_string(),
            ),
        }
    }

    /// Logs one warning for each set flag that is accepted but not implemented.
    pub fn warn_ignored(&self) {
        let ignored: [(&str, bool); 13] = [
            ("--allow-privileged", self.allow_privileged.is_some()),
            ("--authorization-mode", self.authorization_mode.is_some()),
            ("--client-ca-file", self.client_ca_file.is_some()),
            (
                "--enable-bootstrap-token-auth",
                self.enable_bootstrap_token_auth.is_some(),
            ),
            (
                "--proxy-client-cert-file",
                self.proxy_client_cert_file.is_some(),
            ),
            (
                "--proxy-client-key-file",
                self.proxy_client_key_file.is_some(),
            ),
            (
                "--requestheader-allowed-names",
                self.requestheader_allowed_names.is_some(),
            ),
            (
                "--requestheader-client-ca-file",
                self.requestheader_client_ca_file.is_some(),
            ),
            (
                "--requestheader-extra-headers-prefix",
                self.requestheader_extra_headers_prefix.is_some(),
            ),
            (
                "--requestheader-group-headers",
                self.requestheader_group_headers.is_some(),
            ),
            (
                "--requestheader-username-headers",
                self.requestheader_username_headers.is_some(),
            ),
            (
                "--service-account-key-file",
                self.service_account_key_file.is_some(),
            ),
            ("--watch-cache=false", !self.watch_cache),
        ];
        for (flag, set) in ignored {
            if set {
                tracing::warn!(
                    flag,
                    "flag accepted but not implemented yet; it has no effect"
                );
            }
        }
    }
}

/// Parses a Go-style duration such as `5m`, `30s`, `1h30m` or `0`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return Err("invalid duration \"\": expected a number and a unit such as 5m".into());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| {
                format!("invalid duration {text:?}: missing unit (ns, us, ms, s, m, h)")
            })?;
        let (number, tail) = rest.split_at(digits);
        let number: f64 = number
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: {number:?} is not a number"))?;
        let unit_length = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_length);
        let seconds = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(format!("invalid duration {text:?}: unknown unit {unit:?}")),
        };
        total += Duration::from_secs_f64(number * seconds);
        rest = tail;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_duration_cases() {
        let cases = [
            ("0", Some(Duration::ZERO)),
            ("5m", Some(Duration::from_secs(300))),
            ("1h30m", Some(Duration::from_secs(5400))),
            ("1.5s", Some(Duration::from_millis(1500))),
            ("250ms", Some(Duration::from_millis(250))),
            ("", None),
            ("5", None),
            ("5x", None),
            ("m", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text).ok(), expected, "{text:?}");
        }
    }

    #[test]
    fn etcd_tls_flags_combine() {
        let parse = |flags: &[&str]| {
            let mut args = vec!["kube-apiserver", "--etcd-servers=https://127.0.0.1:2379"];
            args.extend_from_slice(flags);
            Options::try_parse_from(args).unwrap().etcd_tls()
        };
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(
            parse(&[
                "--etcd-cafile=/pki/etcd/ca.crt",
                "--etcd-certfile=/pki/apiserver-etcd-client.crt",
                "--etcd-keyfile=/pki/apiserver-etcd-client.key",
            ]),
            Ok(Some(Etcd3Tls {
                ca_file: PathBuf::from("/pki/etcd/ca.crt"),
                client: Some((
                    PathBuf::from("/pki/apiserver-etcd-client.crt"),
                    PathBuf::from("/pki/apiserver-etcd-client.key"),
                )),
            }))
        );
        assert_eq!(
            parse(&["--etcd-cafile=/pki/etcd/ca.crt"]),
            Ok(Some(Etcd3Tls {
                ca_file: PathBuf::from("/pki/etcd/ca.crt"),
                client: None,
            }))
        );
        assert!(parse(&["--etcd-cafile=/ca", "--etcd-certfile=/c"]).is_err());
        assert!(parse(&["--etcd-certfile=/c", "--etcd-keyfile=/k"]).is_err());
    }

    #[test]
    fn kubeadm_style_flags_parse() {
        let options = Options::try_parse_from([
            "kube-apiserver",
            "--advertise-address=192.0.2.10",
            "--allow-privileged=true",
            "--authorization-mode=Node,RBAC",
            "--etcd-servers=https://127.0.0.1:2379,https://127.0.0.1:22379",
            "--secure-port=6443",
            "--service-cluster-ip-range=10.96.0.0/12",
            "--enable-bootstrap-token-auth",
        ])
        .unwrap();
        assert_eq!(options.etcd_endpoints().len(), 2);
        assert_eq!(options.allow_privileged, Some(true));
        assert_eq!(options.enable_bootstrap_token_auth, Some(true));
        assert_eq!(options.advertise_address().to_string(), "192.0.2.10");
    }

    #[test]
    fn defaults_match_upstream() {
        let options = Options::try_parse_from(["kube-apiserver"]).unwrap();
        assert_eq!(options.secure_port, 6443);
        assert!(options.etcd_endpoints().is_empty());
        assert_eq!(options.service_node_port_range, "30000-32767");
        assert_eq!(options.max_requests_inflight, 400);
        assert_eq!(options.etcd_compaction_interval, Duration::from_secs(300));
        assert!(options.watch_cache);
    }
}
