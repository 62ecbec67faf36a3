//! Registry host configuration: mirrors, plain-HTTP (insecure) registries and whether a
//! failed mirror falls back to the registry itself. Loaded from a TOML or JSON file:
//!
//! ```toml
//! [registries."docker.io"]
//! mirrors = ["http://127.0.0.1:5000"]
//! fallback_to_upstream = false
//!
//! [registries."registry.example:5000"]
//! insecure = true
//! ```
//!
//! Entry point: [`RegistryConfig::load`], then [`RegistryConfig::endpoints`].

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::error::{ImageError, Result};

/// Base URL of the `docker.io` registry's API.
const DOCKER_HUB_ENDPOINT: &str = "https://registry-1.docker.io";

/// Settings for every registry host, keyed by host as it appears in references
/// (`docker.io`, `registry.k8s.io`, `127.0.0.1:5000`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    #[serde(default)]
    pub registries: BTreeMap<String, RegistryHost>,
}

/// Settings for one registry host.
// NOTE: there are no per-host CA or client certificates yet, so an HTTPS registry or
// mirror must present a certificate that chains to the system's roots.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryHost {
    /// Base URLs (`http://127.0.0.1:5000`) tried in order before the registry itself. The
    /// scheme is required; `http` means plain HTTP to that mirror.
    #[serde(default)]
    pub mirrors: Vec<String>,
    /// Talk plain HTTP to the registry itself.
    #[serde(default)]
    pub insecure: bool,
    /// Try the registry itself after every mirror failed with a not-found, server (5xx) or
    /// connection error. A digest mismatch or an authorization failure ends the pull at
    /// once.
    #[serde(default = "default_true")]
    pub fallback_to_upstream: bool,
}

fn default_true() -> bool {
    true
}

/// One base URL to try for a reference, in the order [`RegistryConfig::endpoints`] gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `scheme://host[:port][/prefix]` without a trailing slash.
    pub base: String,
    pub is_mirror: bool,
}

impl RegistryConfig {
    /// Reads `path` as JSON when it ends in `.json` or starts with `{`, else as TOML.
    ///
    /// # Errors
    /// [`ImageError::Config`] naming the path when it cannot be read or parsed, or a mirror
    /// URL lacks an `http://` or `https://` scheme.
    pub fn load(path: &Path) -> Result<Self> {
        let fail = |message: String| ImageError::Config {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let is_json =
            path.extension().is_some_and(|ext| ext == "json") || text.trim_start().starts_with('{');
        let config: RegistryConfig = if is_json {
            serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?
        } else {
            toml::from_str(&text).map_err(|e| fail(e.to_string()))?
        };
        config.validate().map_err(fail)?;
        Ok(config)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        for (host, settings) in &self.registries {
            for mirror in &settings.mirrors {
                if !(mirror.starts_with("http://") || mirror.starts_with("https://")) {
                    return Err(format!(
                        "mirror {mirror:?} of {host} needs an http:// or https:// scheme"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Base URLs to try for a registry `domain`: its mirrors, then the registry itself
    /// unless `fallback_to_upstream` is off. `docker.io` maps to `registry-1.docker.io`.
    /// Loopback hosts and hosts marked `insecure` get plain HTTP. Docker likewise treats
    /// registries on 127.0.0.0/8 as insecure, but tries HTTPS first.
    pub fn endpoints(&self, domain: &str) -> Vec<Endpoint> {
        let settings = self.registries.get(domain);
        let mut endpoints: Vec<Endpoint> = settings
            .map(|s| s.mirrors.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|mirror| Endpoint {
                base: mirror.trim_end_matches('/').to_string(),
                is_mirror: true,
            })
            .collect();

        let fallback = settings.is_none_or(|s| s.fallback_to_upstream);
        if endpoints.is_empty() || fallback {
            let insecure = settings.is_some_and(|s| s.insecure) || is_loopback_host(domain);
            let base = if domain == super::reference::DEFAULT_DOMAIN {
                DOCKER_HUB_ENDPOINT.to_string()
            } else if insecure {
                format!("http://{domain}")
            } else {
                format!("https://{domain}")
            };
            endpoints.push(Endpoint {
                base,
                is_mirror: false,
            });
        }
        endpoints
    }
}

/// Checks whether `domain` (`host[:port]`) is `localhost` or a loopback address.
fn is_loopback_host(domain: &str) -> bool {
    let host = if let Some(rest) = domain.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        domain.split(':').next().unwrap_or("")
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_put_mirrors_first() {
        let config: RegistryConfig = toml::from_str(
            r#"
            [registries."docker.io"]
            mirrors = ["http://127.0.0.1:5000/"]
            "#,
        )
        .unwrap();
        let bases: Vec<_> = config
            .endpoints("docker.io")
            .into_iter()
            .map(|e| e.base)
            .collect();
        assert_eq!(
            bases,
            ["http://127.0.0.1:5000", "https://registry-1.docker.io"]
        );
    }

    #[test]
    fn endpoints_skip_upstream_when_disabled() {
        let config: RegistryConfig = serde_json::from_str(
            r#"{"registries": {"docker.io": {"mirrors": ["http://127.0.0.1:5000"],
                "fallback_to_upstream": false}}}"#,
        )
        .unwrap();
        assert_eq!(config.endpoints("docker.io").len(), 1);
    }

    #[test]
    fn endpoints_choose_scheme() {
        let config: RegistryConfig = toml::from_str(
            r#"
            [registries."registry.example:5000"]
            insecure = true
            "#,
        )
        .unwrap();
        let base = |domain: &str| config.endpoints(domain)[0].base.clone();
        assert_eq!(
            base("registry.example:5000"),
            "http://registry.example:5000"
        );
        assert_eq!(base("localhost:5000"), "http://localhost:5000");
        assert_eq!(base("127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert_eq!(base("[::1]:5000"), "http://[::1]:5000");
        assert_eq!(base("registry.k8s.io"), "https://registry.k8s.io");
    }

    #[test]
    fn load_rejects_mirror_without_scheme() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registries.toml");
        std::fs::write(
            &path,
            "[registries.\"docker.io\"]\nmirrors = [\"127.0.0.1:5000\"]\n",
        )
        .unwrap();
        let err = RegistryConfig::load(&path).unwrap_err().to_string();
        assert!(err.contains("registries.toml"), "{err}");
        assert!(err.contains("scheme"), "{err}");
    }
}
