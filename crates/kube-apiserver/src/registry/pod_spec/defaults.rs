//! Upstream's defaulting of pod specs (`pkg/apis/core/v1/defaults.go` and the generated
//! `SetObjectDefaults_*` walks of Kubernetes v1.33).
//!
//! [`default_pod_spec`] applies what every embedded pod spec gets (pods, templates of
//! workloads); [`default_pod_only`] adds what only a Pod object gets (requests from
//! limits, `enableServiceLinks`, host ports under host networking).

use std::collections::BTreeMap;

use apimachinery::quantity::Quantity;
use k8s_openapi::api::core::v1::{
    Container, EphemeralContainer, HTTPGetAction, Lifecycle, LifecycleHandler,
    PersistentVolumeClaimSpec, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, Volume,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as OpenApiQuantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// `terminationGracePeriodSeconds` when none is given.
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;

/// `schedulerName` when none is given.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// `defaultMode` of secret, config map, downward API and projected volumes (0644).
pub const DEFAULT_VOLUME_MODE: i32 = 0o644;

/// `terminationMessagePath` when none is given.
pub const TERMINATION_MESSAGE_PATH_DEFAULT: &str = "/dev/termination-log";

/// `expirationSeconds` of a projected service account token when none is given.
pub const DEFAULT_TOKEN_EXPIRATION_SECONDS: i64 = 3600;

/// Applies the defaults of a pod template: its pod spec gets [`default_pod_spec`].
pub fn default_pod_template_spec(template: &mut PodTemplateSpec) {
    if let Some(spec) = template.spec.as_mut() {
        default_pod_spec(spec);
    }
}

/// Applies the defaults every pod spec gets, embedded or not: DNS and restart policy,
/// security context, grace period, scheduler, and the defaults of containers, probes
/// and volumes.
pub fn default_pod_spec(spec: &mut PodSpec) {
    set_if_empty(&mut spec.dns_policy, "ClusterFirst");
    set_if_empty(&mut spec.restart_policy, "Always");
    if spec.security_context.is_none() {
        spec.security_context = Some(Default::default());
    }
    spec.termination_grace_period_seconds
        .get_or_insert(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
    set_if_empty(&mut spec.scheduler_name, DEFAULT_SCHEDULER_NAME);

    for volume in spec.volumes.iter_mut().flatten() {
        default_volume(volume);
    }
    for container in spec.init_containers.iter_mut().flatten() {
        default_container(container);
    }
    for container in &mut spec.containers {
        default_container(container);
    }
    for container in spec.ephemeral_containers.iter_mut().flatten() {
        default_ephemeral_container(container);
    }
    round_resource_list(spec.overhead.as_mut());
    round_resource_requirements(spec.resources.as_mut());
}

/// Applies what only a Pod object gets on top of [`default_pod_spec`]: container
/// requests default to their limits, `enableServiceLinks` to true, and with host
/// networking each container port's `hostPort` to its `containerPort`.
pub fn default_pod_only(spec: &mut PodSpec) {
    for container in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        if let Some(resources) = container.resources.as_mut() {
            default_requests_from_limits(resources);
        }
    }

    spec.enable_service_links.get_or_insert(true);

    if spec.host_network == Some(true) {
        for container in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
        {
            for port in container.ports.iter_mut().flatten() {
                if port.host_port.unwrap_or(0) == 0 {
                    port.host_port = Some(port.container_port);
                }
            }
        }
    }
}

// NOTE: upstream also defaults pod-level resources from the containers' resources
// (`PodLevelResources`), which is not done here.
fn default_requests_from_limits(resources: &mut ResourceRequirements) {
    let Some(limits) = resources.limits.as_ref() else {
        return;
    };
    let requests = resources.requests.get_or_insert_with(BTreeMap::new);
    for (name, value) in limits {
        requests
            .entry(name.clone())
            .or_insert_with(|| value.clone());
    }
}

/// Rounds every quantity of a resource list up to milli precision and writes it in
/// canonical form, as upstream's `SetDefaults_ResourceList` and its encoder do: `1n`
/// becomes `1m` and `0.5` becomes `500m`. Text that does not parse is left for
/// validation to reject.
pub fn round_resource_list(list: Option<&mut BTreeMap<String, OpenApiQuantity>>) {
    for quantity in list.into_iter().flat_map(|list| list.values_mut()) {
        let Ok(parsed) = Quantity::try_from(&*quantity) else {
            continue;
        };
        let rounded = Quantity::new_milli(parsed.milli_value(), parsed.format());
        let canonical = if rounded == parsed { parsed } else { rounded };
        *quantity = OpenApiQuantity(canonical.to_string());
    }
}

/// Rounds the limits and requests of a resource requirement, see [`round_resource_list`].
pub fn round_resource_requirements(resources: Option<&mut ResourceRequirements>) {
    if let Some(resources) = resources {
        round_resource_list(resources.limits.as_mut());
        round_resource_list(resources.requests.as_mut());
    }
}

fn set_if_empty(field: &mut Option<String>, default: &str) {
    if field.as_deref().is_none_or(str::is_empty) {
        *field = Some(default.to_string());
    }
}

/// Returns the pull policy upstream defaults for an image: `Always` for the `latest` tag,
/// or for no tag and no digest, `IfNotPresent` otherwise (an empty image included).
pub fn default_pull_policy(image: &str) -> &'static str {
    let tag = image_tag(image);
    let has_digest = image.contains('@');
    let latest = match tag {
        Some(tag) => tag == "latest",
        // Without a tag the reference means `latest`, unless a digest pins it.
        None => !has_digest && !image.is_empty(),
    };
    if latest { "Always" } else { "IfNotPresent" }
}

/// Returns the tag of an image reference: the text after the last ':' that follows the
/// last '/' (so a registry port is not a tag), or `None` without one.
fn image_tag(image: &str) -> Option<&str> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last_segment = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last_segment.rsplit_once(':').map(|(_, tag)| tag)
}

fn default_container(container: &mut Container) {
    if container
        .image_pull_policy
        .as_deref()
        .is_none_or(str::is_empty)
    {
        let image = container.image.as_deref().unwrap_or_default();
        container.image_pull_policy = Some(default_pull_policy(image).to_string());
    }
    set_if_empty(
        &mut container.termination_message_path,
        TERMINATION_MESSAGE_PATH_DEFAULT,
    );
    set_if_empty(&mut container.termination_message_policy, "File");

    for port in container.ports.iter_mut().flatten() {
        set_if_empty(&mut port.protocol, "TCP");
    }
    round_resource_requirements(container.resources.as_mut());
    for env in container.env.iter_mut().flatten() {
        if let Some(field_ref) = env
            .value_from
            .as_mut()
            .and_then(|from| from.field_ref.as_mut())
        {
            set_if_empty(&mut field_ref.api_version, "v1");
        }
    }
    for probe in [
        container.liveness_probe.as_mut(),
        container.readiness_probe.as_mut(),
        container.startup_probe.as_mut(),
    ]
    .into_iter()
    .flatten()
    {
        default_probe(probe);
    }
    if let Some(lifecycle) = container.lifecycle.as_mut() {
        default_lifecycle(lifecycle);
    }
}

fn default_ephemeral_container(container: &mut EphemeralContainer) {
    // An ephemeral container has the fields of a container plus a target; default it by
    // round-tripping through the container type so both share one walk.
    let Ok(value) = serde_json::to_value(&*container) else {
        return;
    };
    let target = container.target_container_name.clone();
    let Ok(mut common) = serde_json::from_value::<Container>(value) else {
        return;
    };
    default_container(&mut common);
    if let Ok(value) = serde_json::to_value(&common)
        && let Ok(mut defaulted) = serde_json::from_value::<EphemeralContainer>(value)
    {
        defaulted.target_container_name = target;
        *container = defaulted;
    }
}

fn default_probe(probe: &mut Probe) {
    zero_to(&mut probe.timeout_seconds, 1);
    zero_to(&mut probe.period_seconds, 10);
    zero_to(&mut probe.success_threshold, 1);
    zero_to(&mut probe.failure_threshold, 3);
    if let Some(http_get) = probe.http_get.as_mut() {
        default_http_get(http_get);
    }
    if let Some(grpc) = probe.grpc.as_mut() {
        grpc.service.get_or_insert_with(String::new);
    }
}

fn zero_to(field: &mut Option<i32>, default: i32) {
    if field.unwrap_or(0) == 0 {
        *field = Some(default);
    }
}

fn default_lifecycle(lifecycle: &mut Lifecycle) {
    for handler in [lifecycle.post_start.as_mut(), lifecycle.pre_stop.as_mut()]
        .into_iter()
        .flatten()
    {
        default_lifecycle_handler(handler);
    }
}

fn default_lifecycle_handler(handler: &mut LifecycleHandler) {
    if let Some(http_get) = handler.http_get.as_mut() {
        default_http_get(http_get);
    }
}

fn default_http_get(action: &mut HTTPGetAction) {
    set_if_empty(&mut action.path, "/");
    set_if_empty(&mut action.scheme, "HTTP");
}

/// Returns whether no volume source is set.
fn has_no_source(volume: &Volume) -> bool {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(volume) else {
        return false;
    };
    map.keys().all(|key| key == "name")
}

fn default_volume(volume: &mut Volume) {
    if has_no_source(volume) {
        volume.empty_dir = Some(Default::default());
    }
    if let Some(host_path) = volume.host_path.as_mut() {
        host_path.type_.get_or_insert_with(String::new);
    }
    if let Some(secret) = volume.secret.as_mut() {
        secret.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
    }
    if let Some(config_map) = volume.config_map.as_mut() {
        config_map.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
    }
    if let Some(downward_api) = volume.downward_api.as_mut() {
        downward_api.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
        for item in downward_api.items.iter_mut().flatten() {
            if let Some(field_ref) = item.field_ref.as_mut() {
                set_if_empty(&mut field_ref.api_version, "v1");
            }
        }
    }
    if let Some(projected) = volume.projected.as_mut() {
        projected.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
        for source in projected.sources.iter_mut().flatten() {
            if let Some(downward_api) = source.downward_api.as_mut() {
                for item in downward_api.items.iter_mut().flatten() {
                    if let Some(field_ref) = item.field_ref.as_mut() {
                        set_if_empty(&mut field_ref.api_version, "v1");
                    }
                }
            }
            if let Some(token) = source.service_account_token.as_mut() {
                token
                    .expiration_seconds
                    .get_or_insert(DEFAULT_TOKEN_EXPIRATION_SECONDS);
            }
        }
    }
    if let Some(iscsi) = volume.iscsi.as_mut() {
        set_if_empty(&mut iscsi.iscsi_interface, "default");
    }
    if let Some(rbd) = volume.rbd.as_mut() {
        set_if_empty(&mut rbd.pool, "rbd");
        set_if_empty(&mut rbd.user, "admin");
        set_if_empty(&mut rbd.keyring, "/etc/ceph/keyring");
    }
    if let Some(azure_disk) = volume.azure_disk.as_mut() {
        set_if_empty(&mut azure_disk.caching_mode, "ReadWrite");
        set_if_empty(&mut azure_disk.fs_type, "ext4");
        azure_disk.read_only.get_or_insert(false);
        set_if_empty(&mut azure_disk.kind, "Shared");
    }
    if let Some(scale_io) = volume.scale_io.as_mut() {
        set_if_empty(&mut scale_io.storage_mode, "ThinProvisioned");
        set_if_empty(&mut scale_io.fs_type, "xfs");
    }
    if let Some(image) = volume.image.as_mut()
        && image.pull_policy.as_deref().is_none_or(str::is_empty)
    {
        let reference = image.reference.as_deref().unwrap_or_default();
        let policy = if image_tag(reference) == Some("latest") {
            "Always"
        } else {
            "IfNotPresent"
        };
        image.pull_policy = Some(policy.to_string());
    }
    if let Some(template) = volume
        .ephemeral
        .as_mut()
        .and_then(|ephemeral| ephemeral.volume_claim_template.as_mut())
    {
        default_persistent_volume_claim_spec(&mut template.spec);
    }
}

/// Applies the defaults of a claim spec: `volumeMode` Filesystem and rounded resources.
pub fn default_persistent_volume_claim_spec(spec: &mut PersistentVolumeClaimSpec) {
    set_if_empty(&mut spec.volume_mode, "Filesystem");
    if let Some(resources) = spec.resources.as_mut() {
        round_resource_list(resources.limits.as_mut());
        round_resource_list(resources.requests.as_mut());
    }
}

/// Returns whether an int-or-string is the zero value (`0` or `""`), as upstream's
/// service defaulting checks a target port.
pub fn int_or_string_is_zero(value: &IntOrString) -> bool {
    match value {
        IntOrString::Int(number) => *number == 0,
        IntOrString::String(text) => text.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    fn defaulted_pod(spec: serde_json::Value) -> serde_json::Value {
        let mut pod: Pod = serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec}))
            .expect("test pod decodes");
        let spec = pod.spec.as_mut().expect("spec");
        default_pod_spec(spec);
        default_pod_only(spec);
        serde_json::to_value(&pod).expect("encodes")["spec"].clone()
    }

    #[test]
    fn pod_spec_defaults_match_upstream() {
        let spec = defaulted_pod(json!({"containers": [{"name": "c", "image": "nginx"}]}));
        assert_eq!(
            spec,
            json!({
                "containers": [{
                    "name": "c", "image": "nginx", "imagePullPolicy": "Always",
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"
                }],
                "dnsPolicy": "ClusterFirst",
                "enableServiceLinks": true,
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "terminationGracePeriodSeconds": 30
            })
        );
    }

    #[test]
    fn pull_policy_by_tag() {
        let cases = [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.25", "IfNotPresent"),
            ("registry:5000/nginx", "Always"),
            ("registry:5000/nginx:1.0", "IfNotPresent"),
            ("nginx@sha256:abcd", "IfNotPresent"),
            ("nginx:latest@sha256:abcd", "Always"),
            ("", "IfNotPresent"),
        ];
        for (image, expected) in cases {
            assert_eq!(default_pull_policy(image), expected, "image {image}");
        }
    }

    #[test]
    fn container_parts_get_defaults() {
        let spec = defaulted_pod(json!({
            "containers": [{
                "name": "c", "image": "nginx:1", "imagePullPolicy": "Never",
                "ports": [{"containerPort": 80}],
                "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "resources": {"limits": {"cpu": "1"}, "requests": {"memory": "1Gi"}},
                "livenessProbe": {"httpGet": {"port": 80}},
                "lifecycle": {"preStop": {"httpGet": {"port": 80}}}
            }]
        }));
        let container = &spec["containers"][0];
        assert_eq!(container["imagePullPolicy"], "Never");
        assert_eq!(container["ports"][0]["protocol"], "TCP");
        assert_eq!(
            container["env"][0]["valueFrom"]["fieldRef"]["apiVersion"],
            "v1"
        );
        assert_eq!(
            container["resources"]["requests"],
            json!({"cpu": "1", "memory": "1Gi"})
        );
        assert_eq!(
            container["livenessProbe"],
            json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
                   "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
        );
        assert_eq!(container["lifecycle"]["preStop"]["httpGet"]["path"], "/");
    }

    #[test]
    fn volume_defaults() {
        let spec = defaulted_pod(json!({
            "containers": [{"name": "c", "image": "i"}],
            "volumes": [
                {"name": "a"},
                {"name": "b", "configMap": {"name": "cm"}},
                {"name": "c", "secret": {"secretName": "s"}},
                {"name": "d", "hostPath": {"path": "/tmp"}},
                {"name": "e", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}
            ]
        }));
        let volumes = &spec["volumes"];
        assert_eq!(volumes[0], json!({"name": "a", "emptyDir": {}}));
        assert_eq!(volumes[1]["configMap"]["defaultMode"], 420);
        assert_eq!(volumes[2]["secret"]["defaultMode"], 420);
        assert_eq!(volumes[3]["hostPath"]["type"], "");
        assert_eq!(volumes[4]["projected"]["defaultMode"], 420);
        assert_eq!(
            volumes[4]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
            3600
        );
    }

    #[test]
    fn template_spec_skips_pod_only_defaults() {
        let mut template: PodTemplateSpec = serde_json::from_value(json!({
            "spec": {"containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": "1"}}}]}
        }))
        .expect("decodes");
        default_pod_template_spec(&mut template);
        let spec = serde_json::to_value(&template).expect("encodes")["spec"].clone();
        assert!(spec.get("enableServiceLinks").is_none());
        assert!(spec["containers"][0]["resources"].get("requests").is_none());
        assert_eq!(spec["restartPolicy"], "Always");
    }

    #[test]
    fn resource_quantities_round_to_milli() {
        let spec = defaulted_pod(json!({
            "containers": [{"name": "c", "image": "i", "resources": {
                "limits": {"cpu": "0.5", "memory": "1Gi"}, "requests": {"cpu": "1n", "memory": "1024Mi"}}}]
        }));
        let resources = &spec["containers"][0]["resources"];
        assert_eq!(resources["limits"], json!({"cpu": "500m", "memory": "1Gi"}));
        assert_eq!(resources["requests"], json!({"cpu": "1m", "memory": "1Gi"}));
    }

    #[test]
    fn host_network_defaults_host_ports() {
        let spec = defaulted_pod(json!({
            "hostNetwork": true,
            "containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 8080}]}]
        }));
        assert_eq!(spec["containers"][0]["ports"][0]["hostPort"], 8080);
    }
}
