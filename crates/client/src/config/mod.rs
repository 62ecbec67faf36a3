//! Client configuration: where the API server is and how to reach and authenticate
//! to it ([`RestConfig`]), built from kubeconfig files or the in-cluster environment.

use std::path::PathBuf;
use std::time::Duration;

/// How to reach and authenticate to one API server, the counterpart of client-go's
/// `rest.Config`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RestConfig {
    /// Base URL of the server, such as `https://127.0.0.1:6443`.
    pub host: String,
    pub tls: TlsConfig,
    pub auth: AuthConfig,
    /// Sustained client-side rate limit in requests per second; 0 means the
    /// component's default (client-go's default is 5).
    pub qps: f32,
    /// Requests allowed at once above `qps` (client-go's default is 10).
    pub burst: u32,
    /// Timeout of each request; `None` leaves requests unbounded (watches).
    pub timeout: Option<Duration>,
    /// The User-Agent header; empty means `<binary>/<version> (<os>/<arch>)`.
    pub user_agent: String,
}

/// TLS settings of a [`RestConfig`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// Skips server certificate verification (`insecure-skip-tls-verify`).
    pub insecure: bool,
    /// PEM bundle of the certificate authorities to trust; `None` uses none but
    /// `ca_file` (and the system roots are never used, as client-go does).
    pub ca_data: Option<Vec<u8>>,
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key, PEM, inline or in files.
    pub cert_data: Option<Vec<u8>>,
    pub cert_file: Option<PathBuf>,
    pub key_data: Option<Vec<u8>>,
    pub key_file: Option<PathBuf>,
    /// Overrides the server name used for verification (`tls-server-name`).
    pub server_name: Option<String>,
}

/// Credentials of a [`RestConfig`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuthConfig {
    /// A bearer token.
    pub token: Option<String>,
    /// A file holding a bearer token, re-read periodically (service account tokens
    /// rotate).
    pub token_file: Option<PathBuf>,
    /// Basic authentication.
    pub username: Option<String>,
    pub password: Option<String>,
    /// An exec credential plugin (client.authentication.k8s.io/v1).
    pub exec: Option<ExecConfig>,
    /// Impersonation headers (`Impersonate-User`, `Impersonate-Group`).
    pub impersonate_user: Option<String>,
    pub impersonate_groups: Vec<String>,
}

/// An exec credential plugin as a kubeconfig user's `exec` section describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecConfig {
    pub command: String,
    pub args: Vec<String>,
    /// Extra environment variables as (name, value).
    pub env: Vec<(String, String)>,
    /// `client.authentication.k8s.io/v1` or `v1beta1`.
    pub api_version: String,
    /// Whether the plugin needs the cluster information in KUBERNETES_EXEC_INFO.
    pub provide_cluster_info: bool,
    /// `Never`, `IfAvailable` or `Always`.
    pub interactive_mode: String,
}

pub mod exec;
pub mod in_cluster;
pub mod kubeconfig;
