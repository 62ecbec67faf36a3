//! Subresources beyond status: `scale` of the workload kinds, `pods/binding` (how
//! the scheduler assigns a node) and `pods/eviction` (a delete that respects
//! PodDisruptionBudgets).

use apimachinery::errors::StatusError;
use apimachinery::labels;
use k8s_openapi::api::core::v1::Binding;
use serde_json::{Value, json};

use super::Handler;
use crate::registry::store::{DeleteOutcome, DeleteParams, Store, UpdateScope, WriteParams};

/// Returns the subresources this module serves for a resource.
pub fn served(group: &str, resource: &str) -> &'static [&'static str] {
    match (group, resource) {
        ("apps", "deployments" | "replicasets" | "statefulsets")
        | ("", "replicationcontrollers") => &["scale"],
        ("", "pods") => &["binding", "eviction"],
        ("", "namespaces") => &["finalize"],
        ("", "serviceaccounts") => &["token"],
        _ => &[],
    }
}

/// Builds the autoscaling/v1 Scale of a workload object.
pub fn scale_of(store: &Store, object: &Value) -> Value {
    let metadata = object.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let keep = [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ];
    let metadata: serde_json::Map<String, Value> = metadata
        .as_object()
        .map(|map| {
            map.iter()
                .filter(|(key, _)| keep.contains(&key.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let replicas = object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let status_replicas = object
        .pointer("/status/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let selector = selector_string(store, object);
    let mut status = json!({"replicas": status_replicas});
    if !selector.is_empty() {
        status["selector"] = json!(selector);
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": replicas},
        "status": status,
    })
}

/// Renders the object's selector as upstream's Scale does: the string form.
fn selector_string(store: &Store, object: &Value) -> String {
    let Some(selector) = object.pointer("/spec/selector") else {
        return String::new();
    };
    if store.info.resource == "replicationcontrollers" {
        // A ReplicationController selects with a plain map of labels.
        let Some(map) = selector.as_object() else {
            return String::new();
        };
        let mut pairs: Vec<String> = map
            .iter()
            .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
            .collect();
        pairs.sort();
        return pairs.join(",");
    }
    match serde_json::from_value::<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>(
        selector.clone(),
    ) {
        Ok(selector) => labels::label_selector_as_selector(Some(&selector))
            .map(|selector| selector.to_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Reads the Scale of a workload.
pub async fn get_scale(store: &Store, namespace: &str, name: &str) -> Result<Value, StatusError> {
    let object = store.get(namespace, name).await?;
    Ok(scale_of(store, &object))
}

/// Writes `spec.replicas` from a Scale computed by `transform` from the current one.
pub async fn update_scale<F>(
    store: &Store,
    namespace: &str,
    name: &str,
    params: &WriteParams,
    mut transform: F,
) -> Result<Value, StatusError>
where
    F: FnMut(&Value) -> Result<Value, StatusError>,
{
    let (stored, _) = store
        .update_with(namespace, name, UpdateScope::Object, params, |current| {
            let Some(current) = current else {
                return Err(StatusError::not_found(&store.info.group_resource(), name));
            };
            let scale = transform(&scale_of(store, current))?;
            let replicas = scale
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if replicas < 0 {
                let error = apimachinery::errors::FieldError::invalid(
                    &apimachinery::errors::FieldPath::new("spec").child("replicas"),
                    replicas,
                    "must be greater than or equal to 0",
                );
                return Err(StatusError::invalid(
                    &apimachinery::meta::GroupKind::new("autoscaling", "Scale"),
                    name,
                    &[error],
                ));
            }
            // A Scale's resourceVersion is the parent's: a precondition on the update.
            let requested = scale
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            let mut updated = current.clone();
            if requested.is_empty() {
                if let Some(metadata) = updated.get_mut("metadata").and_then(Value::as_object_mut) {
                    metadata.shift_remove("resourceVersion");
                }
            } else if let Some(metadata) =
                updated.get_mut("metadata").and_then(Value::as_object_mut)
            {
                metadata.insert("resourceVersion".into(), json!(requested));
            }
            updated["spec"]["replicas"] = json!(replicas);
            Ok(updated)
        })
        .await?;
    Ok(scale_of(store, &stored))
}

/// Assigns a pod to a node, as the scheduler does through `pods/binding`. The
/// binding's `metadata.uid` and `metadata.resourceVersion`, when set, must match the
/// stored pod's.
pub async fn bind(
    store: &Store,
    namespace: &str,
    name: &str,
    binding: &Value,
    params: &WriteParams,
) -> Result<Value, StatusError> {
    // A missing target is a validation error (422), as upstream reports it, not a
    // decoding one.
    let mut body = binding.clone();
    if let Some(object) = body.as_object_mut() {
        object.entry("target").or_insert_with(|| json!({}));
    }
    let typed: Binding = serde_json::from_value(body)
        .map_err(|error| StatusError::bad_request(format!("invalid Binding: {error}")))?;
    if typed
        .metadata
        .name
        .as_deref()
        .is_some_and(|binding_name| !binding_name.is_empty() && binding_name != name)
    {
        return Err(StatusError::bad_request(
            "name in URL does not match name in Binding object",
        ));
    }
    let errors = crate::registry::core::binding::validate_binding(&typed);
    if !errors.is_empty() {
        return Err(StatusError::invalid(
            &apimachinery::meta::GroupKind::new("", "Binding"),
            name,
            &errors,
        ));
    }
    let node = typed.target.name.unwrap_or_default();
    let annotations = typed.metadata.annotations;
    let uid = typed.metadata.uid.filter(|uid| !uid.is_empty());
    let version = typed
        .metadata
        .resource_version
        .filter(|version| !version.is_empty());
    let binding_resource = apimachinery::meta::GroupResource::new("", "pods/binding");

    store
        .update_unvalidated(namespace, name, params, |current| {
            store.check_preconditions(current, uid.as_deref(), version.as_deref(), name)?;
            let mut pod = current.clone();
            crate::registry::core::binding::assign_pod(&mut pod, &node, annotations.as_ref())
                .map_err(|error| StatusError::conflict(&binding_resource, name, error))?;
            Ok(pod)
        })
        .await?;
    Ok(success_status())
}

/// Replaces a namespace's `spec.finalizers` (the `finalize` subresource), and removes
/// the namespace when it is being deleted and nothing holds it any more.
pub async fn finalize(
    store: &Store,
    name: &str,
    namespace_object: &Value,
    params: &WriteParams,
) -> Result<Value, StatusError> {
    let finalizers = namespace_object
        .pointer("/spec/finalizers")
        .cloned()
        .unwrap_or_else(|| json!([]));
    let stored = store
        .update_unvalidated("", name, params, |current| {
            let mut updated = current.clone();
            if !updated.get("spec").is_some_and(Value::is_object) {
                updated["spec"] = json!({});
            }
            updated["spec"]["finalizers"] = finalizers.clone();
            Ok(updated)
        })
        .await?;
    if !params.dry_run {
        store.delete_if_finished("", name, &stored).await?;
    }
    Ok(stored)
}

/// Evicts a pod: deletes it unless a PodDisruptionBudget forbids it (429).
pub async fn evict(
    handler: &Handler,
    store: &Store,
    namespace: &str,
    name: &str,
    eviction: &Value,
) -> Result<Value, StatusError> {
    let pod = store.get(namespace, name).await?;
    let pod_labels: std::collections::BTreeMap<String, String> = pod
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();

    let budgets_key = (
        "policy".to_string(),
        "v1".to_string(),
        "poddisruptionbudgets".to_string(),
    );
    let terminal = matches!(
        pod.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    );
    if let (Some(budgets), false) = (handler.stores.get(&budgets_key), terminal) {
        let list = budgets.list(namespace, &Default::default()).await?;
        for item in list.items {
            let budget: Value =
                serde_json::from_slice(&item).map_err(StatusError::internal_error)?;
            let Some(selector) = budget.pointer("/spec/selector") else {
                continue;
            };
            let Ok(selector) = serde_json::from_value::<
                k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
            >(selector.clone()) else {
                continue;
            };
            let Ok(selector) = labels::label_selector_as_selector(Some(&selector)) else {
                continue;
            };
            if !selector.matches(&pod_labels) {
                continue;
            }
            let allowed = budget
                .pointer("/status/disruptionsAllowed")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if allowed <= 0 {
                let budget_name = budget
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let mut status = StatusError::too_many_requests(
                    "Cannot evict pod as it would violate the pod's disruption budget.",
                    10,
                )
                .into_status();
                let details = status.details.get_or_insert_with(Default::default);
                details.causes.push(apimachinery::errors::StatusCause {
                    reason: "DisruptionBudget".into(),
                    message: format!(
                        "The disruption budget {budget_name} needs {} healthy pods and has {} currently",
                        budget.pointer("/status/desiredHealthy").and_then(Value::as_i64).unwrap_or(0),
                        budget.pointer("/status/currentHealthy").and_then(Value::as_i64).unwrap_or(0)
                    ),
                    field: String::new(),
                });
                return Err(StatusError::from_status(status));
            }
        }
    }

    let options = eviction
        .get("deleteOptions")
        .cloned()
        .unwrap_or(Value::Null);
    let params = DeleteParams {
        dry_run: options
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|values| values.iter().any(|v| v == "All")),
        grace_period_seconds: options.get("gracePeriodSeconds").and_then(Value::as_i64),
        propagation_policy: options
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .map(str::to_string),
        precondition_uid: options
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(str::to_string),
        precondition_resource_version: options
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    match store.delete(namespace, name, &params).await? {
        DeleteOutcome::Deleted(_) | DeleteOutcome::Pending(_) => Ok(success_status()),
    }
}

fn success_status() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
}

/// The shortest `spec.expirationSeconds` a TokenRequest may ask for.
const MIN_TOKEN_EXPIRATION_SECONDS: i64 = 600;

/// The longest `spec.expirationSeconds` a TokenRequest may ask for: 2^32 seconds.
const MAX_TOKEN_EXPIRATION_SECONDS: i64 = 1 << 32;

/// Issues a token for a service account (`serviceaccounts/<name>/token`), returning
/// the TokenRequest with `status.token` and `status.expirationTimestamp` set.
pub async fn request_token(
    handler: &Handler,
    service_accounts: &Store,
    namespace: &str,
    name: &str,
    request: &Value,
) -> Result<Value, StatusError> {
    use apimachinery::errors::{FieldError, FieldPath};
    use apimachinery::meta::GroupKind;

    let Some(signer) = handler.token_signer.as_ref() else {
        return Err(StatusError::service_unavailable(
            "the API server has no service account signing key",
        ));
    };
    let account = service_accounts.get(namespace, name).await?;
    let spec = request.get("spec").cloned().unwrap_or_else(|| json!({}));

    let mut errors = Vec::new();
    let expiration = spec
        .get("expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(3600);
    let expiration_path = FieldPath::from_names(["spec", "expirationSeconds"]);
    if expiration < MIN_TOKEN_EXPIRATION_SECONDS {
        errors.push(FieldError::invalid(
            &expiration_path,
            expiration,
            "may not specify a duration less than 10 minutes",
        ));
    }
    if expiration > MAX_TOKEN_EXPIRATION_SECONDS {
        errors.push(FieldError::invalid(
            &expiration_path,
            expiration,
            "may not specify a duration larger than 2^32 seconds",
        ));
    }
    let bound = spec.get("boundObjectRef").filter(|bound| !bound.is_null());
    if let Some(bound) = bound {
        let kind = bound.get("kind").and_then(Value::as_str).unwrap_or("");
        if !matches!(kind, "Pod" | "Secret" | "Node") {
            errors.push(FieldError::not_supported(
                &FieldPath::from_names(["spec", "boundObjectRef", "kind"]),
                kind,
                &["Pod", "Node", "Secret"],
            ));
        }
    }
    if !errors.is_empty() {
        return Err(StatusError::invalid(
            &GroupKind::new("authentication.k8s.io", "TokenRequest"),
            name,
            &errors,
        ));
    }

    // A bound token names an object that must exist with the given uid.
    let mut bound_object = None;
    let mut node = None;
    if let Some(bound) = bound {
        let kind = bound["kind"].as_str().unwrap_or("");
        let object_name = bound.get("name").and_then(Value::as_str).unwrap_or("");
        let (resource, object_namespace) = match kind {
            "Pod" => ("pods", namespace),
            "Secret" => ("secrets", namespace),
            _ => ("nodes", ""),
        };
        let key = (String::new(), "v1".to_string(), resource.to_string());
        let store = handler
            .stores
            .get(&key)
            .ok_or_else(|| StatusError::internal_error(format!("no store for {resource}")))?;
        let object = store.get(object_namespace, object_name).await?;
        let uid = object
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if let Some(expected) = bound
            .get("uid")
            .and_then(Value::as_str)
            .filter(|uid| !uid.is_empty())
            && expected != uid
        {
            return Err(StatusError::conflict(
                &apimachinery::meta::GroupResource::new("", resource),
                object_name,
                format!(
                    "the UID in the bound object reference ({expected}) does not match the UID in record. The object might have been deleted and then recreated"
                ),
            ));
        }
        if kind == "Pod"
            && let Some(node_name) = object.pointer("/spec/nodeName").and_then(Value::as_str)
        {
            let nodes_key = (String::new(), "v1".to_string(), "nodes".to_string());
            if let Some(nodes) = handler.stores.get(&nodes_key)
                && let Ok(node_object) = nodes.get("", node_name).await
            {
                let node_uid = node_object
                    .pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                node = Some((node_name.to_string(), node_uid));
            }
        }
        bound_object = Some((kind.to_string(), object_name.to_string(), uid));
    }

    let audiences: Vec<String> = match spec.get("audiences").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => list
            .iter()
            .filter_map(|audience| audience.as_str().map(str::to_string))
            .collect(),
        _ => vec![signer.issuer.clone()],
    };
    let now = apimachinery::meta::now_time();
    let token = signer.issue(
        &crate::serviceaccount::TokenClaims {
            namespace,
            name,
            uid: account
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or(""),
            audiences: &audiences,
            expiration_seconds: expiration,
            bound_object: bound_object
                .as_ref()
                .map(|(kind, name, uid)| (kind.as_str(), name.as_str(), uid.as_str())),
            node: node
                .as_ref()
                .map(|(name, uid)| (name.as_str(), uid.as_str())),
        },
        now.as_second(),
    );
    let expires = apimachinery::meta::format_time(
        now.checked_add(k8s_openapi::jiff::SignedDuration::from_secs(expiration))
            .unwrap_or(now),
    );

    let mut response_spec = spec;
    response_spec["audiences"] = json!(audiences);
    response_spec["expirationSeconds"] = json!(expiration);
    if response_spec
        .get("boundObjectRef")
        .is_some_and(Value::is_null)
    {
        response_spec
            .as_object_mut()
            .map(|object| object.remove("boundObjectRef"));
    }
    Ok(json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "creationTimestamp": apimachinery::meta::format_time(now),
        },
        "spec": response_spec,
        "status": {"token": token, "expirationTimestamp": expires},
    }))
}
