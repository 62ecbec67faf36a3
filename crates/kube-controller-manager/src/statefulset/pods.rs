//! The pods and claims of a StatefulSet: stable names, identity labels, and the
//! PersistentVolumeClaims of each ordinal.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodSpec, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::controller_utils::{new_controller_ref, pod_from_template};
use crate::history::CONTROLLER_REVISION_HASH_LABEL;

/// The label with a pod's own name, which a per-pod Service can select.
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// The label with a pod's ordinal.
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// Returns the ordinal of a pod named `<set>-<ordinal>`.
pub fn ordinal_of(pod: &Pod, set_name: &str) -> Option<i32> {
    pod.metadata
        .name
        .as_deref()?
        .strip_prefix(set_name)?
        .strip_prefix('-')?
        .parse()
        .ok()
        .filter(|ordinal: &i32| *ordinal >= 0)
}

/// Returns the revision name a pod was created from.
pub fn pod_revision(pod: &Pod) -> Option<&str> {
    pod.metadata
        .labels
        .as_ref()?
        .get(CONTROLLER_REVISION_HASH_LABEL)
        .map(String::as_str)
}

/// Returns whether the pod is Running with its Ready condition True.
pub fn is_running_and_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        == Some("Running")
        && crate::controller_utils::is_pod_ready(pod)
}

/// Returns the claim name of `template_name` for `ordinal`.
pub fn claim_name(template_name: &str, set_name: &str, ordinal: i32) -> String {
    format!("{template_name}-{set_name}-{ordinal}")
}

/// Builds the claims of `ordinal` from the volumeClaimTemplates, labelled with the
/// set's selector labels.
pub fn claims_for(set: &StatefulSet, ordinal: i32) -> Vec<PersistentVolumeClaim> {
    let set_name = set.metadata.name.clone().unwrap_or_default();
    let spec = set.spec.clone().unwrap_or_default();
    let selector_labels = spec.selector.match_labels.clone().unwrap_or_default();
    spec.volume_claim_templates
        .unwrap_or_default()
        .into_iter()
        .map(|template| {
            let template_name = template.metadata.name.clone().unwrap_or_default();
            let mut labels = template.metadata.labels.clone().unwrap_or_default();
            labels.extend(selector_labels.clone());
            PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some(claim_name(&template_name, &set_name, ordinal)),
                    namespace: set.metadata.namespace.clone(),
                    labels: Some(labels),
                    annotations: template.metadata.annotations.clone(),
                    ..ObjectMeta::default()
                },
                spec: template.spec.clone(),
                status: None,
            }
        })
        .collect()
}

/// Builds the pod of `ordinal` from `template` (the template of `revision`):
/// name `<set>-<ordinal>`, hostname and subdomain for the governing Service,
/// identity and revision labels, and a volume per claim template.
pub fn new_stateful_pod(
    set: &StatefulSet,
    template: &PodTemplateSpec,
    ordinal: i32,
    revision: &str,
) -> Pod {
    let set_name = set.metadata.name.clone().unwrap_or_default();
    let namespace = set.metadata.namespace.clone().unwrap_or_default();
    let pod_name = format!("{set_name}-{ordinal}");
    let mut pod = pod_from_template(template, &namespace, &set_name, new_controller_ref(set));
    pod.metadata.generate_name = None;
    pod.metadata.name = Some(pod_name.clone());

    let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(POD_NAME_LABEL.to_string(), pod_name.clone());
    labels.insert(POD_INDEX_LABEL.to_string(), ordinal.to_string());
    labels.insert(
        CONTROLLER_REVISION_HASH_LABEL.to_string(),
        revision.to_string(),
    );

    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    spec.hostname = Some(pod_name);
    if let Some(service) = set
        .spec
        .as_ref()
        .and_then(|spec| spec.service_name.clone())
        .filter(|name| !name.is_empty())
    {
        spec.subdomain = Some(service);
    }
    for claim_template in set
        .spec
        .as_ref()
        .and_then(|spec| spec.volume_claim_templates.clone())
        .unwrap_or_default()
    {
        let volume_name = claim_template.metadata.name.clone().unwrap_or_default();
        let volumes = spec.volumes.get_or_insert_with(Vec::new);
        volumes.retain(|volume| volume.name != volume_name);
        volumes.push(Volume {
            name: volume_name.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim_name(&volume_name, &set_name, ordinal),
                read_only: None,
            }),
            ..Volume::default()
        });
    }
    pod
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::StatefulSetSpec;

    fn set() -> StatefulSet {
        serde_json::from_value(serde_json::json!({
            "metadata": { "name": "web", "namespace": "default", "uid": "u1" },
            "spec": {
                "serviceName": "nginx",
                "selector": { "matchLabels": { "app": "web" } },
                "template": { "metadata": { "labels": { "app": "web" } }, "spec": { "containers": [] } },
                "volumeClaimTemplates": [{ "metadata": { "name": "www" }, "spec": {} }]
            }
        }))
        .expect("valid stateful set")
    }

    #[test]
    fn pods_get_stable_identity() {
        let set = set();
        let template = set
            .spec
            .as_ref()
            .map(|spec: &StatefulSetSpec| spec.template.clone())
            .unwrap();
        let pod = new_stateful_pod(&set, &template, 2, "web-abc");
        assert_eq!(pod.metadata.name.as_deref(), Some("web-2"));
        assert_eq!(ordinal_of(&pod, "web"), Some(2));
        assert_eq!(pod_revision(&pod), Some("web-abc"));
        let spec = pod.spec.unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("web-2"));
        assert_eq!(spec.subdomain.as_deref(), Some("nginx"));
        let volume = &spec.volumes.unwrap()[0];
        assert_eq!(
            volume.persistent_volume_claim.as_ref().unwrap().claim_name,
            "www-web-2"
        );
        let claims = claims_for(&set, 2);
        assert_eq!(claims[0].metadata.name.as_deref(), Some("www-web-2"));
        assert_eq!(claims[0].metadata.labels.as_ref().unwrap()["app"], "web");
    }

    #[test]
    fn ordinals_need_the_set_prefix() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web-10".into());
        assert_eq!(ordinal_of(&pod, "web"), Some(10));
        assert_eq!(ordinal_of(&pod, "we"), None);
        pod.metadata.name = Some("web-x".into());
        assert_eq!(ordinal_of(&pod, "web"), None);
    }
}
