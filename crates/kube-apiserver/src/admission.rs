//! The built-in admission plugins, run between decoding and the registry.
//!
//! [`BuiltinAdmission::new`] assembles the enabled plugins in upstream's order:
//! ServiceAccount (default service account and the `kube-api-access-*` projected token
//! volume), DefaultTolerationSeconds (NoExecute tolerations for the not-ready and
//! unreachable taints) and Priority (resolving `priorityClassName` into
//! `spec.priority`). All three act on pod creation only, as upstream's do.

use std::sync::Arc;

use apimachinery::errors::StatusError;
use apimachinery::meta::GroupResource;
use rand::Rng;
use serde_json::{Value, json};

use crate::chain::{Admission, UserInfo};
use crate::registry::store::Store;
use crate::request_info::RequestInfo;

/// The plugins this server implements, by upstream name.
pub const IMPLEMENTED: &[&str] = &["ServiceAccount", "DefaultTolerationSeconds", "Priority"];

/// The mount path of the projected service account volume in every container.
pub const SERVICE_ACCOUNT_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The annotation that marks a kubelet's mirror pod of a static pod.
const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// The token lifetime upstream requests in `kube-api-access-*` volumes: one hour
/// plus seven seconds, so the kubelet can tell these tokens apart.
const PROJECTED_TOKEN_EXPIRATION_SECONDS: i64 = 3607;

/// The enabled built-in plugins.
pub struct BuiltinAdmission {
    service_accounts: Option<Arc<Store>>,
    tolerations: Option<(i64, i64)>,
    priority_classes: Option<Arc<Store>>,
}

impl BuiltinAdmission {
    /// Enables every implemented plugin except those in `disabled`.
    /// `not_ready_seconds` and `unreachable_seconds` are the tolerations the
    /// DefaultTolerationSeconds plugin adds.
    pub fn new(
        disabled: &[String],
        service_accounts: Option<Arc<Store>>,
        priority_classes: Option<Arc<Store>>,
        not_ready_seconds: i64,
        unreachable_seconds: i64,
    ) -> BuiltinAdmission {
        let enabled = |name: &str| !disabled.iter().any(|disabled| disabled == name);
        BuiltinAdmission {
            service_accounts: service_accounts.filter(|_| enabled("ServiceAccount")),
            tolerations: enabled("DefaultTolerationSeconds")
                .then_some((not_ready_seconds, unreachable_seconds)),
            priority_classes: priority_classes.filter(|_| enabled("Priority")),
        }
    }
}

#[async_trait::async_trait]
impl Admission for BuiltinAdmission {
    async fn mutate(
        &self,
        _user: &UserInfo,
        request: &RequestInfo,
        object: &mut Value,
    ) -> Result<(), StatusError> {
        let pod_create = request.verb == "create"
            && request.api_group.is_empty()
            && request.resource == "pods"
            && request.subresource.is_empty();
        if !pod_create || !object.is_object() {
            return Ok(());
        }
        if let Some(store) = &self.service_accounts {
            admit_service_account(store, &request.namespace, object).await?;
        }
        if let Some((not_ready, unreachable)) = self.tolerations {
            add_default_tolerations(object, not_ready, unreachable);
        }
        if let Some(store) = &self.priority_classes {
            resolve_priority(store, object).await?;
        }
        Ok(())
    }
}

async fn admit_service_account(
    store: &Store,
    namespace: &str,
    pod: &mut Value,
) -> Result<(), StatusError> {
    if pod
        .pointer(&format!(
            "/metadata/annotations/{}",
            MIRROR_POD_ANNOTATION.replace('/', "~1")
        ))
        .is_some()
    {
        return Ok(());
    }
    let spec = ensure_object(pod, "spec");
    let name = match spec.get("serviceAccountName").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => {
            spec["serviceAccountName"] = json!("default");
            "default".to_string()
        }
    };

    // NOTE: upstream rejects a pod whose service account does not exist (403) until
    // the service account controller has created it. This server admits the pod and
    // relies on the pod's own automountServiceAccountToken only, so that pods can be
    // created in clusters without a controller manager.
    // Read the watch cache first and storage only on a miss, as upstream reads its
    // informer and looks the account up live only when the informer lacks it.
    let account = store.get_cached(namespace, &name).await.ok();
    let automount = spec
        .get("automountServiceAccountToken")
        .and_then(Value::as_bool)
        .or_else(|| {
            account
                .as_ref()
                .and_then(|account| account.get("automountServiceAccountToken"))
                .and_then(Value::as_bool)
        })
        .unwrap_or(true);
    if !automount || mounts_service_account_path(spec) {
        return Ok(());
    }

    let volume_name = format!("kube-api-access-{}", random_suffix());
    let volumes = ensure_array(spec, "volumes");
    volumes.push(json!({
        "name": volume_name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {
                    "expirationSeconds": PROJECTED_TOKEN_EXPIRATION_SECONDS,
                    "path": "token",
                }},
                {"configMap": {
                    "name": "kube-root-ca.crt",
                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                }},
                {"downwardAPI": {
                    "items": [{
                        "path": "namespace",
                        "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                    }],
                }},
            ],
        },
    }));
    for field in ["initContainers", "containers"] {
        if let Some(containers) = spec.get_mut(field).and_then(Value::as_array_mut) {
            for container in containers {
                ensure_array(container, "volumeMounts").push(json!({
                    "name": volume_name,
                    "readOnly": true,
                    "mountPath": SERVICE_ACCOUNT_MOUNT_PATH,
                }));
            }
        }
    }
    Ok(())
}

fn mounts_service_account_path(spec: &Value) -> bool {
    ["initContainers", "containers"].iter().any(|field| {
        spec.get(*field)
            .and_then(Value::as_array)
            .is_some_and(|containers| {
                containers.iter().any(|container| {
                    container
                        .get("volumeMounts")
                        .and_then(Value::as_array)
                        .is_some_and(|mounts| {
                            mounts
                                .iter()
                                .any(|mount| mount["mountPath"] == SERVICE_ACCOUNT_MOUNT_PATH)
                        })
                })
            })
    })
}

/// Returns five characters from the alphabet upstream uses for generated names.
fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut random = rand::rng();
    (0..5)
        .map(|_| ALPHABET[random.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn add_default_tolerations(pod: &mut Value, not_ready: i64, unreachable: i64) {
    let spec = ensure_object(pod, "spec");
    let tolerations = ensure_array(spec, "tolerations");
    for (key, seconds) in [
        ("node.kubernetes.io/not-ready", not_ready),
        ("node.kubernetes.io/unreachable", unreachable),
    ] {
        let tolerated = tolerations.iter().any(|toleration| {
            let toleration_key = toleration.get("key").and_then(Value::as_str).unwrap_or("");
            let effect = toleration
                .get("effect")
                .and_then(Value::as_str)
                .unwrap_or("");
            (toleration_key == key || toleration_key.is_empty())
                && (effect == "NoExecute" || effect.is_empty())
        });
        if !tolerated {
            tolerations.push(json!({
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": seconds,
            }));
        }
    }
}

async fn resolve_priority(store: &Store, pod: &mut Value) -> Result<(), StatusError> {
    let spec = ensure_object(pod, "spec");
    let class_name = spec
        .get("priorityClassName")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .map(str::to_string);
    let resource = GroupResource::new("", "pods");

    let class = match &class_name {
        Some(name) => Some(store.get_cached("", name).await.map_err(|error| {
            if error.code() == 404 {
                StatusError::forbidden(
                    &resource,
                    "",
                    format!("no PriorityClass with name {name} was found"),
                )
            } else {
                error
            }
        })?),
        None => default_priority_class(store).await?,
    };
    let (value, preemption) = match &class {
        Some(class) => (
            class.get("value").and_then(Value::as_i64).unwrap_or(0),
            class
                .get("preemptionPolicy")
                .and_then(Value::as_str)
                .unwrap_or("PreemptLowerPriority")
                .to_string(),
        ),
        None => (0, "PreemptLowerPriority".to_string()),
    };
    if let Some(given) = spec.get("priority").and_then(Value::as_i64)
        && given != value
    {
        return Err(StatusError::forbidden(
            &resource,
            "",
            format!(
                "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {value} from the given PriorityClass name"
            ),
        ));
    }
    if let Some(class) = &class
        && class_name.is_none()
        && let Some(name) = class.pointer("/metadata/name").and_then(Value::as_str)
    {
        spec["priorityClassName"] = json!(name);
    }
    spec["priority"] = json!(value);
    if spec.get("preemptionPolicy").is_none_or(Value::is_null) {
        spec["preemptionPolicy"] = json!(preemption);
    }
    Ok(())
}

/// Returns the PriorityClass marked `globalDefault`, the one with the lowest value
/// when several are, as upstream picks.
async fn default_priority_class(store: &Store) -> Result<Option<Value>, StatusError> {
    let params = crate::registry::store::ListParams {
        resource_version: Some("0".to_string()),
        ..Default::default()
    };
    let listed = store.list("", &params).await?;
    Ok(listed
        .items
        .iter()
        .filter_map(|item| serde_json::from_slice::<Value>(item).ok())
        .filter(|class| class.get("globalDefault").and_then(Value::as_bool) == Some(true))
        .min_by_key(|class| class.get("value").and_then(Value::as_i64).unwrap_or(0)))
}

fn ensure_object<'a>(value: &'a mut Value, field: &str) -> &'a mut Value {
    if !value.get(field).is_some_and(Value::is_object) {
        value[field] = json!({});
    }
    &mut value[field]
}

fn ensure_array<'a>(value: &'a mut Value, field: &str) -> &'a mut Vec<Value> {
    if !value.get(field).is_some_and(Value::is_array) {
        value[field] = json!([]);
    }
    value[field].as_array_mut().expect("just made an array")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerations_added_once() {
        let mut pod = json!({"spec": {"containers": []}});
        add_default_tolerations(&mut pod, 300, 60);
        add_default_tolerations(&mut pod, 300, 60);
        let tolerations = pod["spec"]["tolerations"].as_array().unwrap();
        assert_eq!(tolerations.len(), 2);
        assert_eq!(tolerations[0]["key"], "node.kubernetes.io/not-ready");
        assert_eq!(tolerations[0]["tolerationSeconds"], 300);
        assert_eq!(tolerations[1]["key"], "node.kubernetes.io/unreachable");
        assert_eq!(tolerations[1]["tolerationSeconds"], 60);
    }

    #[test]
    fn wildcard_toleration_suppresses_defaults() {
        let mut pod = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
        add_default_tolerations(&mut pod, 300, 300);
        assert_eq!(pod["spec"]["tolerations"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn explicit_mount_detected() {
        let spec =
            json!({"containers": [{"volumeMounts": [{"mountPath": SERVICE_ACCOUNT_MOUNT_PATH}]}]});
        assert!(mounts_service_account_path(&spec));
        assert!(!mounts_service_account_path(&json!({"containers": [{}]})));
    }

    #[test]
    fn suffix_uses_upstream_alphabet() {
        let suffix = random_suffix();
        assert_eq!(suffix.len(), 5);
        assert!(
            suffix
                .chars()
                .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)),
            "{suffix}"
        );
    }
}
