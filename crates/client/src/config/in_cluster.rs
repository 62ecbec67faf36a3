//! The in-cluster configuration of a process running in a pod: the API server from
//! the `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` variables, and the
//! service account's token, CA bundle and namespace mounted under
//! `/var/run/secrets/kubernetes.io/serviceaccount`.
//!
//! Entry point: [`in_cluster`]; [`in_cluster_from`] takes the filesystem root and
//! the environment so tests can supply their own.

use std::path::{Path, PathBuf};

use super::kubeconfig::{ConfigError, DEFAULT_NAMESPACE, ResolvedConfig};
use super::{AuthConfig, RestConfig, TlsConfig};

/// Directory of the mounted service account credentials, relative to the root.
pub const SERVICE_ACCOUNT_DIR: &str = "var/run/secrets/kubernetes.io/serviceaccount";

const HOST_ENV: &str = "KUBERNETES_SERVICE_HOST";
const PORT_ENV: &str = "KUBERNETES_SERVICE_PORT";
/// Overrides the namespace file, as client-go's in-cluster client config allows.
const POD_NAMESPACE_ENV: &str = "POD_NAMESPACE";

/// Loads the in-cluster configuration from the real environment and `/`.
///
/// Errors: [`ConfigError::NotInCluster`] when either variable is unset or empty,
/// [`ConfigError::ReadFile`] when the token cannot be read.
pub fn in_cluster() -> Result<ResolvedConfig, ConfigError> {
    in_cluster_from(Path::new("/"), |name| std::env::var(name).ok())
}

/// Reports whether [`in_cluster`] can work: both variables set and the token file
/// present (client-go's `inClusterClientConfig.Possible`).
pub fn is_possible() -> bool {
    is_possible_from(Path::new("/"), |name| std::env::var(name).ok())
}

/// [`is_possible`] with an injected root directory and environment.
pub fn is_possible_from(root: &Path, env: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name| env(name).is_some_and(|v| !v.is_empty());
    set(HOST_ENV) && set(PORT_ENV) && token_path(root).is_file()
}

/// [`in_cluster`] with an injected root directory and environment lookup.
///
/// The server is `https://host:port`, with an IPv6 host in brackets. The token is
/// read now and also recorded as `token_file` so the transport re-reads it after
/// rotation. A CA bundle that is missing or contains no PEM certificate is logged
/// and left out, as client-go does. The namespace comes from `POD_NAMESPACE`,
/// else the namespace file, else `default`.
pub fn in_cluster_from(
    root: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<ResolvedConfig, ConfigError> {
    let host = env(HOST_ENV).filter(|v| !v.is_empty());
    let port = env(PORT_ENV).filter(|v| !v.is_empty());
    let (Some(host), Some(port)) = (host, port) else {
        return Err(ConfigError::NotInCluster);
    };

    let token_file = token_path(root);
    let token = std::fs::read_to_string(&token_file).map_err(|source| ConfigError::ReadFile {
        path: token_file.clone(),
        source,
    })?;

    let ca_file = root.join(SERVICE_ACCOUNT_DIR).join("ca.crt");
    let ca_file = match std::fs::read_to_string(&ca_file) {
        Ok(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => Some(ca_file),
        Ok(_) => {
            tracing::error!(path = %ca_file.display(), "invalid in-cluster root CA file: no PEM certificate found");
            None
        }
        Err(err) => {
            tracing::error!(path = %ca_file.display(), error = %err, "failed to load in-cluster root CA file");
            None
        }
    };

    let rest = RestConfig {
        host: format!("https://{}", join_host_port(&host, &port)),
        tls: TlsConfig {
            ca_file,
            ..TlsConfig::default()
        },
        auth: AuthConfig {
            token: Some(token.trim().to_string()),
            token_file: Some(token_file),
            ..AuthConfig::default()
        },
        ..RestConfig::default()
    };
    let namespace = namespace(root, &env);
    Ok(ResolvedConfig { rest, namespace })
}

fn token_path(root: &Path) -> PathBuf {
    root.join(SERVICE_ACCOUNT_DIR).join("token")
}

fn namespace(root: &Path, env: &impl Fn(&str) -> Option<String>) -> String {
    if let Some(namespace) = env(POD_NAMESPACE_ENV).filter(|v| !v.is_empty()) {
        return namespace;
    }
    let path = root.join(SERVICE_ACCOUNT_DIR).join("namespace");
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => text.trim().to_string(),
        _ => DEFAULT_NAMESPACE.to_string(),
    }
}

/// Joins a host and port as Go's `net.JoinHostPort`: a host containing `:` (IPv6)
/// goes in brackets.
fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const CA_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn write_service_account(root: &Path, ca: Option<&str>, namespace: Option<&str>) {
        let dir = root.join(SERVICE_ACCOUNT_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("token"), "sa-token\n").unwrap();
        if let Some(ca) = ca {
            std::fs::write(dir.join("ca.crt"), ca).unwrap();
        }
        if let Some(namespace) = namespace {
            std::fs::write(dir.join("namespace"), namespace).unwrap();
        }
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn in_cluster_cases() {
        struct Case {
            name: &'static str,
            env: Vec<(&'static str, &'static str)>,
            ca: Option<&'static str>,
            namespace_file: Option<&'static str>,
            host: &'static str,
            namespace: &'static str,
            has_ca: bool,
        }
        let cases = [
            Case {
                name: "ipv4 with CA and namespace",
                env: vec![(HOST_ENV, "10.96.0.1"), (PORT_ENV, "443")],
                ca: Some(CA_PEM),
                namespace_file: Some("kube-system\n"),
                host: "https://10.96.0.1:443",
                namespace: "kube-system",
                has_ca: true,
            },
            Case {
                name: "ipv6 host in brackets",
                env: vec![(HOST_ENV, "fd00::1"), (PORT_ENV, "6443")],
                ca: Some(CA_PEM),
                namespace_file: None,
                host: "https://[fd00::1]:6443",
                namespace: "default",
                has_ca: true,
            },
            Case {
                name: "CA without certificate is skipped",
                env: vec![(HOST_ENV, "10.0.0.1"), (PORT_ENV, "443")],
                ca: Some("not a certificate"),
                namespace_file: Some("ns"),
                host: "https://10.0.0.1:443",
                namespace: "ns",
                has_ca: false,
            },
            Case {
                name: "POD_NAMESPACE overrides file",
                env: vec![
                    (HOST_ENV, "10.0.0.1"),
                    (PORT_ENV, "443"),
                    (POD_NAMESPACE_ENV, "from-env"),
                ],
                ca: None,
                namespace_file: Some("from-file"),
                host: "https://10.0.0.1:443",
                namespace: "from-env",
                has_ca: false,
            },
        ];

        for case in cases {
            let root = tempfile::tempdir().unwrap();
            write_service_account(root.path(), case.ca, case.namespace_file);
            let resolved = in_cluster_from(root.path(), env_of(&case.env)).unwrap();

            let dir = root.path().join(SERVICE_ACCOUNT_DIR);
            assert_eq!(resolved.rest.host, case.host, "{}", case.name);
            assert_eq!(resolved.namespace, case.namespace, "{}", case.name);
            assert_eq!(
                resolved.rest.auth.token.as_deref(),
                Some("sa-token"),
                "{}",
                case.name
            );
            assert_eq!(
                resolved.rest.auth.token_file,
                Some(dir.join("token")),
                "{}",
                case.name
            );
            let expected_ca = case.has_ca.then(|| dir.join("ca.crt"));
            assert_eq!(resolved.rest.tls.ca_file, expected_ca, "{}", case.name);
            assert!(
                is_possible_from(root.path(), env_of(&case.env)),
                "{}",
                case.name
            );
        }
    }

    #[test]
    fn in_cluster_missing_env() {
        let root = tempfile::tempdir().unwrap();
        write_service_account(root.path(), Some(CA_PEM), None);

        for env in [
            vec![],
            vec![(HOST_ENV, "10.0.0.1")],
            vec![(HOST_ENV, ""), (PORT_ENV, "443")],
        ] {
            let err = in_cluster_from(root.path(), env_of(&env)).unwrap_err();
            assert_eq!(
                err.to_string(),
                "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"
            );
            assert!(!is_possible_from(root.path(), env_of(&env)));
        }
    }

    #[test]
    fn in_cluster_missing_token() {
        let root = tempfile::tempdir().unwrap();
        let env = [(HOST_ENV, "10.0.0.1"), (PORT_ENV, "443")];

        let err = in_cluster_from(root.path(), env_of(&env)).unwrap_err();
        assert!(matches!(err, ConfigError::ReadFile { .. }), "{err}");
        assert!(!is_possible_from(root.path(), env_of(&env)));
    }
}
