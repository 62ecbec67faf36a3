//! Typed requests over the shared REST client: the few calls the kubelet makes
//! (nodes, leases, pods, their status, configmaps, secrets, services).

use client::rest::{ClientError, PatchType, RestClient};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Returns the HTTP status code of an API error, or `None` for transport errors.
pub fn status_code(error: &ClientError) -> Option<i32> {
    match error {
        ClientError::Api(status) => Some(status.code()),
        _ => None,
    }
}

/// True for a 404 from the server.
pub fn is_not_found(error: &ClientError) -> bool {
    status_code(error) == Some(404)
}

/// GETs `path`; `Ok(None)` on 404.
///
/// # Errors
///
/// Any other [`ClientError`].
pub async fn get<T: DeserializeOwned>(
    client: &RestClient,
    path: &str,
) -> Result<Option<T>, ClientError> {
    match client.get(path).request_json::<T>().await {
        Ok(value) => Ok(Some(value)),
        Err(error) if is_not_found(&error) => Ok(None),
        Err(error) => Err(error),
    }
}

/// POSTs `body` to the collection at `path`.
///
/// # Errors
///
/// The [`ClientError`] of the request.
pub async fn create<T: DeserializeOwned, B: Serialize>(
    client: &RestClient,
    path: &str,
    body: &B,
) -> Result<T, ClientError> {
    client.post(path).json(body).request_json().await
}

/// PUTs `body` at `path`.
///
/// # Errors
///
/// The [`ClientError`] of the request (409 on a stale resourceVersion).
pub async fn replace<T: DeserializeOwned, B: Serialize>(
    client: &RestClient,
    path: &str,
    body: &B,
) -> Result<T, ClientError> {
    client.put(path).json(body).request_json().await
}

/// PATCHes `path` with a JSON merge patch.
///
/// # Errors
///
/// The [`ClientError`] of the request.
pub async fn merge_patch<T: DeserializeOwned>(
    client: &RestClient,
    path: &str,
    patch: &Value,
) -> Result<T, ClientError> {
    client
        .patch(path, PatchType::Merge)
        .json(patch)
        .request_json()
        .await
}

/// DELETEs `path` with `options` (a DeleteOptions body); a 404 counts as success.
///
/// # Errors
///
/// Any other [`ClientError`].
pub async fn delete(client: &RestClient, path: &str, options: &Value) -> Result<(), ClientError> {
    match client
        .delete(path)
        .json(options)
        .request_json::<Value>()
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if is_not_found(&error) => Ok(()),
        Err(error) => Err(error),
    }
}

/// Returns the API path of a namespaced pod.
pub fn pod_path(namespace: &str, name: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/pods/{name}")
}
