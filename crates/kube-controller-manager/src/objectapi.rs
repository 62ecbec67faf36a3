//! REST helpers of the lifecycle and networking controllers for what the typed
//! client does not cover: resource paths of discovered (dynamic) resources, a
//! DELETE with a raw DeleteOptions body, status code predicates and the current
//! time as a meta/v1 Time.

use client::rest::{ClientError, RestClient};
use serde_json::Value;

/// Returns `/api/v1` or `/apis/{group}/{version}`.
pub fn group_version_prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// Returns the collection path of a resource, in `namespace` when it is not empty.
pub fn collection_path(group: &str, version: &str, namespace: &str, plural: &str) -> String {
    let prefix = group_version_prefix(group, version);
    if namespace.is_empty() {
        format!("{prefix}/{plural}")
    } else {
        format!("{prefix}/namespaces/{namespace}/{plural}")
    }
}

/// Sends a DELETE with a DeleteOptions body and checks the status.
///
/// # Errors
/// [`ClientError::Api`] for a non-2xx response, or a transport error.
pub async fn delete_path(
    client: &RestClient,
    path: &str,
    options: &Value,
) -> Result<(), ClientError> {
    let mut body = options.clone();
    if let Some(object) = body.as_object_mut() {
        object.insert("kind".into(), Value::from("DeleteOptions"));
        object.insert("apiVersion".into(), Value::from("v1"));
    }
    client
        .delete(path)
        .json(&body)
        .request_json::<Value>()
        .await
        .map(|_| ())
}

/// Returns whether the server responded 404 Not Found.
pub fn is_not_found(error: &ClientError) -> bool {
    matches!(error, ClientError::Api(status) if status.code() == 404)
}

/// Returns whether the server responded 409 (conflict or already exists).
pub fn is_conflict(error: &ClientError) -> bool {
    matches!(error, ClientError::Api(status) if status.code() == 409)
}

/// Returns whether the server responded 409 AlreadyExists.
pub fn is_already_exists(error: &ClientError) -> bool {
    matches!(error, ClientError::Api(status) if status.code() == 409 && status.reason().as_str() == "AlreadyExists")
}

/// Returns whether the server responded 405 Method Not Allowed.
pub fn is_method_not_supported(error: &ClientError) -> bool {
    matches!(error, ClientError::Api(status) if status.code() == 405)
}

/// Returns the current time as a meta/v1 Time (whole seconds, as the API stores it).
pub fn now_time() -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or_default();
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::from_second(seconds).unwrap_or_default(),
    )
}
