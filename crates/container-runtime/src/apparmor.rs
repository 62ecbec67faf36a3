//! AppArmor profiles of containers: the name that the OCI spec's
//! `process.apparmorProfile` carries, chosen from the CRI security context.
//!
//! On a host with AppArmor enabled, `RuntimeDefault` selects [`DEFAULT_PROFILE`] and
//! `Localhost` the named profile, and either must already be loaded in the kernel, or
//! CreateContainer fails with an error that names it. `Unconfined`, an unset profile and
//! a privileged container with `RuntimeDefault` get none, as in containerd. On a host
//! without AppArmor the request is ignored, because the kubelet rejects pods that ask
//! for a confined profile there.
//!
//! NOTE: containerd loads its default profile itself when it is missing; this runtime
//! does not, so `RuntimeDefault` needs [`DEFAULT_PROFILE`] loaded by the operator
//! (`apparmor_parser -r`). An unset profile stays unconfined, where containerd
//! applies its default.
//!
//! Entry point: [`container_profile`], with the host from [`Host::detect`].

use std::collections::HashSet;
use std::path::PathBuf;

use cri::v1;

use crate::error::{Error, Result};

/// The profile that `RuntimeDefault` selects.
pub const DEFAULT_PROFILE: &str = "container-runtime-default";

/// The kernel's flag for whether the AppArmor module is enabled (`Y` or `N`).
const ENABLED_PARAMETER: &str = "/sys/module/apparmor/parameters/enabled";

/// The kernel's list of loaded profiles, one `name (mode)` a line.
const PROFILES_FILE: &str = "/sys/kernel/security/apparmor/profiles";

/// The host's AppArmor state.
#[derive(Clone, Debug)]
pub struct Host {
    pub enabled: bool,
    /// The kernel's list of loaded profiles.
    pub profiles_file: PathBuf,
}

impl Host {
    /// Reads whether the kernel has AppArmor enabled.
    pub fn detect() -> Host {
        Host {
            enabled: std::fs::read_to_string(ENABLED_PARAMETER)
                .is_ok_and(|value| value.starts_with('Y')),
            profiles_file: PathBuf::from(PROFILES_FILE),
        }
    }

    /// Returns the names of the loaded profiles. A namespaced profile keeps its
    /// `namespace://` prefix as part of its name, as upstream's kubelet reads it.
    fn loaded_profiles(&self) -> Result<HashSet<String>> {
        let text = std::fs::read_to_string(&self.profiles_file).map_err(|error| {
            Error::Internal(format!(
                "failed to read the loaded AppArmor profiles from {}: {error}",
                self.profiles_file.display()
            ))
        })?;
        Ok(text
            .lines()
            .filter_map(|line| line.split_once('('))
            .map(|(name, _)| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .collect())
    }

    fn require_loaded(&self, profile: &str, purpose: &str) -> Result<()> {
        if self.loaded_profiles()?.contains(profile) {
            return Ok(());
        }
        Err(Error::InvalidArgument(format!(
            "AppArmor profile {profile:?} for {purpose} is not loaded on this host; load it with apparmor_parser first"
        )))
    }
}

/// The profile a CRI request names.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Requested {
    Unset,
    Unconfined,
    RuntimeDefault,
    Localhost(String),
}

/// Reads the `apparmor` field, or the deprecated `apparmor_profile` string
/// (`runtime/default`, `unconfined`, `localhost/<name>`) when the field is unset.
// The deprecated field is read because older kubelets send only it.
#[allow(deprecated)]
fn requested(security: &v1::LinuxContainerSecurityContext) -> Result<Requested> {
    if let Some(profile) = &security.apparmor {
        return match v1::security_profile::ProfileType::try_from(profile.profile_type) {
            Ok(v1::security_profile::ProfileType::RuntimeDefault) => Ok(Requested::RuntimeDefault),
            Ok(v1::security_profile::ProfileType::Unconfined) => Ok(Requested::Unconfined),
            Ok(v1::security_profile::ProfileType::Localhost) => {
                // Older kubelets passed the name with its `localhost/` prefix.
                let name = profile.localhost_ref.trim_start_matches("localhost/");
                if name.trim().is_empty() {
                    return Err(Error::InvalidArgument(
                        "AppArmor profile type Localhost needs a profile name in localhost_ref"
                            .to_string(),
                    ));
                }
                Ok(Requested::Localhost(name.to_string()))
            }
            Err(_) => Err(Error::InvalidArgument(format!(
                "invalid AppArmor profile type {}: expected RuntimeDefault, Unconfined or Localhost",
                profile.profile_type
            ))),
        };
    }
    match security.apparmor_profile.as_str() {
        "" => Ok(Requested::Unset),
        "unconfined" => Ok(Requested::Unconfined),
        "runtime/default" => Ok(Requested::RuntimeDefault),
        other => match other.strip_prefix("localhost/") {
            Some(name) if !name.trim().is_empty() => Ok(Requested::Localhost(name.to_string())),
            _ => Err(Error::InvalidArgument(format!(
                "invalid AppArmor profile {other:?}: expected runtime/default, unconfined or localhost/<name>"
            ))),
        },
    }
}

/// Returns the AppArmor profile for a container's `process.apparmorProfile`, or
/// `None` to leave the process unconfined.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for a malformed request, and on a host with AppArmor
/// for a profile that is not loaded.
pub fn container_profile(
    security: &v1::LinuxContainerSecurityContext,
    host: &Host,
) -> Result<Option<String>> {
    let requested = requested(security)?;
    if !host.enabled {
        if requested != Requested::Unset && requested != Requested::Unconfined {
            tracing::debug!(
                ?requested,
                "ignoring the AppArmor profile: AppArmor is not enabled on this host"
            );
        }
        return Ok(None);
    }
    match requested {
        Requested::Unset | Requested::Unconfined => Ok(None),
        Requested::RuntimeDefault if security.privileged => Ok(None),
        Requested::RuntimeDefault => {
            host.require_loaded(DEFAULT_PROFILE, "RuntimeDefault")?;
            Ok(Some(DEFAULT_PROFILE.to_string()))
        }
        Requested::Localhost(name) => {
            host.require_loaded(&name, "Localhost")?;
            Ok(Some(name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn security(
        kind: v1::security_profile::ProfileType,
        name: &str,
    ) -> v1::LinuxContainerSecurityContext {
        v1::LinuxContainerSecurityContext {
            apparmor: Some(v1::SecurityProfile {
                profile_type: kind as i32,
                localhost_ref: name.to_string(),
            }),
            ..Default::default()
        }
    }

    #[allow(deprecated)]
    fn deprecated(profile: &str) -> v1::LinuxContainerSecurityContext {
        v1::LinuxContainerSecurityContext {
            apparmor_profile: profile.to_string(),
            ..Default::default()
        }
    }

    /// Returns an enabled host whose kernel lists `loaded`, in the kernel's line format.
    fn enabled_host(dir: &tempfile::TempDir, loaded: &[&str]) -> Host {
        let profiles_file = dir.path().join("profiles");
        let lines: String = loaded
            .iter()
            .map(|name| format!("{name} (enforce)\n"))
            .collect();
        std::fs::write(&profiles_file, lines).unwrap();
        Host {
            enabled: true,
            profiles_file,
        }
    }

    #[test]
    fn enabled_host_names_loaded_profiles() {
        use v1::security_profile::ProfileType;

        let dir = tempfile::tempdir().unwrap();
        let host = enabled_host(&dir, &[DEFAULT_PROFILE, "k8s-deny-write"]);
        let cases = [
            (
                security(ProfileType::RuntimeDefault, ""),
                Some(DEFAULT_PROFILE),
            ),
            (
                security(ProfileType::Localhost, "k8s-deny-write"),
                Some("k8s-deny-write"),
            ),
            (
                security(ProfileType::Localhost, "localhost/k8s-deny-write"),
                Some("k8s-deny-write"),
            ),
            (security(ProfileType::Unconfined, ""), None),
            (deprecated("runtime/default"), Some(DEFAULT_PROFILE)),
            (
                deprecated("localhost/k8s-deny-write"),
                Some("k8s-deny-write"),
            ),
            (deprecated("unconfined"), None),
            (deprecated(""), None),
        ];
        for (context, expected) in cases {
            let profile = container_profile(&context, &host).expect("a valid request");
            assert_eq!(profile.as_deref(), expected, "{context:?}");
        }

        let mut privileged = security(ProfileType::RuntimeDefault, "");
        privileged.privileged = true;
        assert_eq!(container_profile(&privileged, &host).unwrap(), None);
    }

    #[test]
    fn enabled_host_rejects_profiles_not_loaded() {
        use v1::security_profile::ProfileType;

        let dir = tempfile::tempdir().unwrap();
        let host = enabled_host(&dir, &["other"]);
        let error = container_profile(&security(ProfileType::Localhost, "k8s-deny-write"), &host)
            .expect_err("a profile that is not loaded");
        assert_eq!(
            error.to_string(),
            Error::InvalidArgument(
                "AppArmor profile \"k8s-deny-write\" for Localhost is not loaded on this host; load it with apparmor_parser first".to_string()
            )
            .to_string()
        );
        let error = container_profile(&security(ProfileType::RuntimeDefault, ""), &host)
            .expect_err("the default profile is not loaded");
        assert!(error.to_string().contains(DEFAULT_PROFILE), "{error}");
    }

    #[test]
    fn disabled_host_ignores_profiles() {
        use v1::security_profile::ProfileType;

        let host = Host {
            enabled: false,
            profiles_file: PathBuf::from("/nonexistent/profiles"),
        };
        for context in [
            security(ProfileType::RuntimeDefault, ""),
            security(ProfileType::Localhost, "k8s-deny-write"),
            deprecated("localhost/k8s-deny-write"),
        ] {
            assert_eq!(
                container_profile(&context, &host).unwrap(),
                None,
                "{context:?}"
            );
        }
    }

    #[test]
    fn malformed_requests_are_rejected() {
        use v1::security_profile::ProfileType;

        let host = Host {
            enabled: false,
            profiles_file: PathBuf::from("/nonexistent/profiles"),
        };
        for context in [
            security(ProfileType::Localhost, ""),
            deprecated("localhost/"),
            deprecated("docker-default"),
        ] {
            assert!(
                matches!(
                    container_profile(&context, &host),
                    Err(Error::InvalidArgument(_))
                ),
                "{context:?}"
            );
        }
    }
}
