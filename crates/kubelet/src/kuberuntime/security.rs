//! The seccomp and AppArmor profiles a container or sandbox requests from the runtime,
//! from the pod and container `securityContext`, as upstream's kubelet computes them.
//!
//! A container's own profile wins over the pod's. Without either, seccomp falls back
//! to `RuntimeDefault` when the kubelet runs with `seccompDefault`, else to
//! `Unconfined`, and AppArmor is left to the runtime. A `Localhost` seccomp profile
//! names a file below `<root-dir>/seccomp`.

use std::path::Path;

use cri::v1 as pb;
use k8s_openapi::api::core::v1::{AppArmorProfile, Container, Pod, SeccompProfile};

/// The directory below the kubelet's root directory that `Localhost` seccomp
/// profiles are relative to.
const SECCOMP_DIR: &str = "seccomp";

fn profile(
    profile_type: pb::security_profile::ProfileType,
    localhost_ref: String,
) -> pb::SecurityProfile {
    pb::SecurityProfile {
        profile_type: profile_type as i32,
        localhost_ref,
    }
}

/// Maps an API seccomp profile onto its CRI form. An unknown type is treated as
/// `Unconfined`, which API validation never lets through.
fn seccomp(root_dir: &Path, requested: &SeccompProfile) -> pb::SecurityProfile {
    use pb::security_profile::ProfileType;
    match requested.type_.as_str() {
        "RuntimeDefault" => profile(ProfileType::RuntimeDefault, String::new()),
        "Localhost" => {
            let name = requested.localhost_profile.as_deref().unwrap_or_default();
            let path = root_dir.join(SECCOMP_DIR).join(name);
            profile(ProfileType::Localhost, path.display().to_string())
        }
        _ => profile(ProfileType::Unconfined, String::new()),
    }
}

/// Returns the default used when neither the pod nor the container sets a profile.
fn seccomp_fallback(seccomp_default: bool) -> pb::SecurityProfile {
    use pb::security_profile::ProfileType;
    if seccomp_default {
        profile(ProfileType::RuntimeDefault, String::new())
    } else {
        profile(ProfileType::Unconfined, String::new())
    }
}

fn pod_seccomp_request(pod: &Pod) -> Option<&SeccompProfile> {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.security_context.as_ref())
        .and_then(|context| context.seccomp_profile.as_ref())
}

/// Returns the seccomp profile of `container`.
pub fn container_seccomp(
    root_dir: &Path,
    seccomp_default: bool,
    pod: &Pod,
    container: &Container,
) -> pb::SecurityProfile {
    let requested = container
        .security_context
        .as_ref()
        .and_then(|context| context.seccomp_profile.as_ref())
        .or_else(|| pod_seccomp_request(pod));
    match requested {
        Some(requested) => seccomp(root_dir, requested),
        None => seccomp_fallback(seccomp_default),
    }
}

/// Returns the seccomp profile of the pod's sandbox.
pub fn sandbox_seccomp(root_dir: &Path, seccomp_default: bool, pod: &Pod) -> pb::SecurityProfile {
    match pod_seccomp_request(pod) {
        Some(requested) => seccomp(root_dir, requested),
        None => seccomp_fallback(seccomp_default),
    }
}

/// Returns the AppArmor profile of `container`, or `None` to leave it to the runtime.
/// An unknown type is passed as `None` too, because API validation rejects it.
pub fn container_apparmor(pod: &Pod, container: &Container) -> Option<pb::SecurityProfile> {
    use pb::security_profile::ProfileType;
    let requested: AppArmorProfile = crate::apparmor::container_profile(pod, container)?;
    match requested.type_.as_str() {
        "RuntimeDefault" => Some(profile(ProfileType::RuntimeDefault, String::new())),
        "Unconfined" => Some(profile(ProfileType::Unconfined, String::new())),
        "Localhost" => Some(profile(
            ProfileType::Localhost,
            requested.localhost_profile.unwrap_or_default(),
        )),
        _ => None,
    }
}

/// The user an image runs as when the container does not set one: a numeric id,
/// a user name, or neither (root).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImageUser {
    pub uid: Option<i64>,
    pub username: String,
}

/// Checks `runAsNonRoot` as upstream's kubelet does before creating a container: a
/// runAsUser of 0 breaks it, and without a runAsUser the image must name a non-zero
/// numeric user. Returns the CreateContainerConfigError message on failure.
pub fn verify_run_as_non_root(
    pod: &Pod,
    container: &Container,
    image_user: &ImageUser,
) -> Result<(), String> {
    let pod_context = pod
        .spec
        .as_ref()
        .and_then(|spec| spec.security_context.as_ref());
    let context = container.security_context.as_ref();
    let run_as_non_root = context
        .and_then(|context| context.run_as_non_root)
        .or_else(|| pod_context.and_then(|context| context.run_as_non_root));
    if run_as_non_root != Some(true) {
        return Ok(());
    }
    let pod_name = format!("{}({})", super::pod_full_name(pod), super::pod_uid(pod));
    let run_as_user = context
        .and_then(|context| context.run_as_user)
        .or_else(|| pod_context.and_then(|context| context.run_as_user));
    if let Some(user) = run_as_user {
        if user == 0 {
            return Err(format!(
                "container's runAsUser breaks non-root policy (pod: {pod_name:?}, container: {})",
                container.name
            ));
        }
        return Ok(());
    }
    match (image_user.uid, image_user.username.as_str()) {
        (Some(0), _) | (None, "") => Err(format!(
            "container has runAsNonRoot and image will run as root (pod: {pod_name:?}, container: {})",
            container.name
        )),
        (None, username) => Err(format!(
            "container has runAsNonRoot and image has non-numeric user ({username}), cannot verify user is non-root (pod: {pod_name:?}, container: {})",
            container.name
        )),
        (Some(_), _) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb::security_profile::ProfileType;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
    }

    fn first_container(pod: &Pod) -> Container {
        pod.spec.as_ref().unwrap().containers[0].clone()
    }

    #[test]
    fn seccomp_defaults_to_unconfined() {
        let pod = pod(json!({"containers": [{"name": "c"}]}));
        let root = Path::new("/var/lib/kubelet");

        let unset = container_seccomp(root, false, &pod, &first_container(&pod));
        let defaulted = container_seccomp(root, true, &pod, &first_container(&pod));

        assert_eq!(unset.profile_type, ProfileType::Unconfined as i32);
        assert_eq!(defaulted.profile_type, ProfileType::RuntimeDefault as i32);
    }

    #[test]
    fn container_seccomp_overrides_pod() {
        let pod = pod(json!({
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "securityContext": {"seccompProfile": {
                "type": "Localhost", "localhostProfile": "profiles/audit.json"}}}]
        }));
        let root = Path::new("/var/lib/kubelet");

        let container = container_seccomp(root, false, &pod, &first_container(&pod));
        let sandbox = sandbox_seccomp(root, false, &pod);

        assert_eq!(container.profile_type, ProfileType::Localhost as i32);
        assert_eq!(
            container.localhost_ref,
            "/var/lib/kubelet/seccomp/profiles/audit.json"
        );
        assert_eq!(sandbox.profile_type, ProfileType::RuntimeDefault as i32);
    }

    #[test]
    fn run_as_non_root_checks_user() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
            "spec": {"securityContext": {"runAsNonRoot": true}, "containers": [
                {"name": "root-image"},
                {"name": "explicit", "securityContext": {"runAsUser": 1000}},
                {"name": "zero", "securityContext": {"runAsUser": 0}},
                {"name": "allowed", "securityContext": {"runAsNonRoot": false}}
            ]}
        }))
        .unwrap();
        let containers = &pod.spec.as_ref().unwrap().containers;
        let root = ImageUser::default();
        let named = ImageUser {
            uid: None,
            username: "nginx".to_string(),
        };
        let numeric = ImageUser {
            uid: Some(101),
            username: String::new(),
        };

        assert_eq!(
            verify_run_as_non_root(&pod, &containers[0], &root),
            Err("container has runAsNonRoot and image will run as root (pod: \"p_ns(u1)\", container: root-image)".to_string())
        );
        assert_eq!(
            verify_run_as_non_root(&pod, &containers[0], &named),
            Err("container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is non-root (pod: \"p_ns(u1)\", container: root-image)".to_string())
        );
        assert_eq!(
            verify_run_as_non_root(&pod, &containers[0], &numeric),
            Ok(())
        );
        assert_eq!(verify_run_as_non_root(&pod, &containers[1], &root), Ok(()));
        assert_eq!(
            verify_run_as_non_root(&pod, &containers[2], &numeric),
            Err(
                "container's runAsUser breaks non-root policy (pod: \"p_ns(u1)\", container: zero)"
                    .to_string()
            )
        );
        assert_eq!(verify_run_as_non_root(&pod, &containers[3], &root), Ok(()));
    }

    #[test]
    fn apparmor_from_annotation_and_field() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "annotations": {
                "container.apparmor.security.beta.kubernetes.io/a": "localhost/k8s-deny-write"}},
            "spec": {"containers": [
                {"name": "a"},
                {"name": "b", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}},
                {"name": "c"}
            ]}
        }))
        .unwrap();
        let containers = &pod.spec.as_ref().unwrap().containers;

        let a = container_apparmor(&pod, &containers[0]).expect("annotated");
        let b = container_apparmor(&pod, &containers[1]).expect("field");

        assert_eq!(a.profile_type, ProfileType::Localhost as i32);
        assert_eq!(a.localhost_ref, "k8s-deny-write");
        assert_eq!(b.profile_type, ProfileType::Unconfined as i32);
        assert_eq!(container_apparmor(&pod, &containers[2]), None);
    }
}
