//! The AppArmor admit handler (upstream's `lifecycle.NewAppArmorAdmitHandler` over
//! the `apparmor` validator): a pod that requests an AppArmor profile other than
//! `Unconfined` is rejected when the host cannot enforce AppArmor.
//!
//! A pod requests a profile through `securityContext.appArmorProfile` (pod or
//! container level) or the deprecated annotation
//! `container.apparmor.security.beta.kubernetes.io/<container>`. Entry point:
//! [`Validator::admit`], with the host checked once by [`Validator::from_host`].

use k8s_openapi::api::core::v1::{AppArmorProfile, Container, Pod};

use crate::admission::Rejection;

/// The deprecated per-container annotation prefix; its value is `runtime/default`,
/// `localhost/<profile>` or `unconfined`.
const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// The kernel's flag for whether the AppArmor module is enabled (`Y` or `N`).
const ENABLED_PARAMETER: &str = "/sys/module/apparmor/parameters/enabled";

/// Decides whether pods that ask for AppArmor can run on this host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    /// The reason the host cannot enforce AppArmor, or `None` when it can.
    host_error: Option<String>,
}

impl Validator {
    /// Checks the host once, as upstream's validator does at kubelet start: AppArmor
    /// is enabled when the kernel module's `enabled` parameter starts with `Y`.
    pub fn from_host() -> Validator {
        let enabled =
            std::fs::read_to_string(ENABLED_PARAMETER).is_ok_and(|value| value.starts_with('Y'));
        Validator::new(enabled)
    }

    /// Returns a validator for a host with AppArmor `enabled` or not.
    pub fn new(enabled: bool) -> Validator {
        Validator {
            host_error: (!enabled).then(|| "AppArmor is not enabled on the host".to_string()),
        }
    }

    /// Admits `pod` unless it requests AppArmor and the host cannot enforce it, or a
    /// `Localhost` profile has no name. The rejection has reason `AppArmor` and the
    /// message "Cannot enforce AppArmor: <why>", as upstream's.
    ///
    /// Only pending pods are checked, so a pod that already runs keeps running
    /// across a kubelet restart.
    pub fn admit(&self, pod: &Pod) -> Result<(), Rejection> {
        let phase = pod
            .status
            .as_ref()
            .and_then(|status| status.phase.as_deref());
        if phase.is_some_and(|phase| phase != "Pending") {
            return Ok(());
        }
        self.validate(pod).map_err(|error| Rejection {
            reason: "AppArmor".to_string(),
            message: format!("Cannot enforce AppArmor: {error}"),
        })
    }

    fn validate(&self, pod: &Pod) -> Result<(), String> {
        if !requires_apparmor(pod) {
            return Ok(());
        }
        if let Some(error) = &self.host_error {
            return Err(error.clone());
        }
        for container in containers(pod) {
            if let Some(profile) = container_profile(pod, container)
                && profile.type_ == "Localhost"
                && profile
                    .localhost_profile
                    .as_deref()
                    .is_none_or(|name| name.trim().is_empty())
            {
                return Err(format!(
                    "invalid empty AppArmor profile name for container {:?}",
                    container.name
                ));
            }
        }
        Ok(())
    }
}

/// Returns the pod's init and regular containers.
fn containers(pod: &Pod) -> Vec<&Container> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .collect()
}

/// Reports whether any profile other than `Unconfined` is requested, at pod level,
/// on a container (ephemeral ones included), or in an annotation.
fn requires_apparmor(pod: &Pod) -> bool {
    let confined = |profile: Option<&AppArmorProfile>| {
        profile.is_some_and(|profile| profile.type_ != "Unconfined")
    };
    let spec = pod.spec.as_ref();
    let pod_level = spec
        .and_then(|spec| spec.security_context.as_ref())
        .and_then(|context| context.app_armor_profile.as_ref());
    if confined(pod_level) {
        return true;
    }
    let container_level = containers(pod).into_iter().any(|container| {
        confined(
            container
                .security_context
                .as_ref()
                .and_then(|context| context.app_armor_profile.as_ref()),
        )
    });
    let ephemeral_level = spec
        .and_then(|spec| spec.ephemeral_containers.as_ref())
        .into_iter()
        .flatten()
        .any(|container| {
            confined(
                container
                    .security_context
                    .as_ref()
                    .and_then(|context| context.app_armor_profile.as_ref()),
            )
        });
    if container_level || ephemeral_level {
        return true;
    }
    pod.metadata
        .annotations
        .iter()
        .flatten()
        .any(|(key, value)| key.starts_with(ANNOTATION_PREFIX) && value != "unconfined")
}

/// Returns the profile a container runs with: its own field, else its annotation,
/// else the pod's field.
pub(crate) fn container_profile(pod: &Pod, container: &Container) -> Option<AppArmorProfile> {
    if let Some(profile) = container
        .security_context
        .as_ref()
        .and_then(|context| context.app_armor_profile.clone())
    {
        return Some(profile);
    }
    let annotation =
        pod.metadata.annotations.as_ref().and_then(|annotations| {
            annotations.get(&format!("{ANNOTATION_PREFIX}{}", container.name))
        });
    if let Some(value) = annotation {
        return Some(match value.as_str() {
            "runtime/default" => AppArmorProfile {
                type_: "RuntimeDefault".to_string(),
                localhost_profile: None,
            },
            "unconfined" => AppArmorProfile {
                type_: "Unconfined".to_string(),
                localhost_profile: None,
            },
            other => AppArmorProfile {
                type_: "Localhost".to_string(),
                localhost_profile: other.strip_prefix("localhost/").map(str::to_string),
            },
        });
    }
    pod.spec
        .as_ref()
        .and_then(|spec| spec.security_context.as_ref())
        .and_then(|context| context.app_armor_profile.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSecurityContext, PodSpec, SecurityContext};

    fn profile(kind: &str, name: Option<&str>) -> AppArmorProfile {
        AppArmorProfile {
            type_: kind.to_string(),
            localhost_profile: name.map(str::to_string),
        }
    }

    fn pod(
        pod_profile: Option<AppArmorProfile>,
        container_profile: Option<AppArmorProfile>,
        annotations: &[(&str, &str)],
    ) -> Pod {
        let mut pod = Pod {
            spec: Some(PodSpec {
                security_context: Some(PodSecurityContext {
                    app_armor_profile: pod_profile,
                    ..Default::default()
                }),
                containers: vec![Container {
                    name: "main".to_string(),
                    security_context: Some(SecurityContext {
                        app_armor_profile: container_profile,
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        if !annotations.is_empty() {
            pod.metadata.annotations = Some(
                annotations
                    .iter()
                    .map(|(key, value)| (key.to_string(), value.to_string()))
                    .collect(),
            );
        }
        pod
    }

    #[test]
    fn disabled_host_rejects_confined_pods() {
        let validator = Validator::new(false);
        let annotation = format!("{ANNOTATION_PREFIX}main");
        let confined = [
            pod(Some(profile("RuntimeDefault", None)), None, &[]),
            pod(
                None,
                Some(profile("Localhost", Some("k8s-deny-write"))),
                &[],
            ),
            pod(None, None, &[(annotation.as_str(), "runtime/default")]),
        ];
        for pod in &confined {
            let rejection = validator.admit(pod).expect_err("a confined pod");
            assert_eq!(rejection.reason, "AppArmor");
            assert_eq!(
                rejection.message,
                "Cannot enforce AppArmor: AppArmor is not enabled on the host"
            );
        }
    }

    #[test]
    fn disabled_host_admits_unconfined_pods() {
        let validator = Validator::new(false);
        let annotation = format!("{ANNOTATION_PREFIX}main");
        let unconfined = [
            pod(None, None, &[]),
            pod(Some(profile("Unconfined", None)), None, &[]),
            pod(None, Some(profile("Unconfined", None)), &[]),
            pod(None, None, &[(annotation.as_str(), "unconfined")]),
            pod(
                None,
                None,
                &[("seccomp.security.alpha.kubernetes.io/pod", "x")],
            ),
        ];
        for pod in &unconfined {
            assert_eq!(validator.admit(pod), Ok(()), "{pod:?}");
        }
    }

    #[test]
    fn enabled_host_rejects_an_empty_localhost_name() {
        let validator = Validator::new(true);
        assert_eq!(
            validator.admit(&pod(Some(profile("RuntimeDefault", None)), None, &[])),
            Ok(())
        );
        let named = pod(
            None,
            Some(profile("Localhost", Some("k8s-deny-write"))),
            &[],
        );
        assert_eq!(validator.admit(&named), Ok(()));
        let empty = pod(Some(profile("Localhost", Some(" "))), None, &[]);
        let rejection = validator.admit(&empty).expect_err("an empty profile name");
        assert_eq!(rejection.reason, "AppArmor");
        assert!(
            rejection
                .message
                .contains("invalid empty AppArmor profile name"),
            "{}",
            rejection.message
        );
    }
}
