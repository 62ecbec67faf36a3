//! The resource endpoints: get, list, watch, create, update, patch, delete and
//! deletecollection of every registered resource, and the status subresource.

use apimachinery::decode::{FieldValidation, MediaType, decode_object};
use apimachinery::errors::StatusError;
use apimachinery::meta::GroupVersionKind;
use apimachinery::patch::{self, BuiltinSchema};
use apimachinery::protobuf;
use bytes::{BufMut, Bytes, BytesMut};
use http::header;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::Value;

use super::response::{
    ApiResponse, Representation, json, json_parts, negotiate, negotiate_format, reformat,
    status_error,
};
use super::{Handler, Query, backend_proxy, proxy, subresources, watch};
use crate::chain::UserInfo;
use crate::registry::fieldmanager;
use crate::registry::store::{
    DeleteOutcome, DeleteParams, ListParams, Store, UpdateScope, WriteParams,
};
use crate::request_info::RequestInfo;

/// Time a client has to send a request body, upstream's default request timeout.
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Maximum size of a request body, upstream's limit for JSON and YAML bodies.
pub const MAX_REQUEST_BODY_BYTES: usize = 3 * 1024 * 1024;

pub async fn serve(
    handler: &Handler,
    info: &RequestInfo,
    user: &UserInfo,
    parts: &http::request::Parts,
    body: Incoming,
    query: &Query,
    on_upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> ApiResponse {
    // The body is read before anything can fail, so that an early error response
    // never races a client that is still sending.
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(error) => return status_error(&error),
    };
    let format = negotiate_format(
        parts
            .headers
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok()),
    );
    let response = match serve_inner(handler, info, user, parts, body, query, on_upgrade).await {
        Ok(response) => response,
        Err(error) => {
            if error.code() >= 500 {
                tracing::warn!(verb = %info.verb, path = %info.path, error = %error.message(), "request failed");
            }
            status_error(&error)
        }
    };
    reformat(response, format)
}

async fn serve_inner(
    handler: &Handler,
    info: &RequestInfo,
    user: &UserInfo,
    parts: &http::request::Parts,
    body: Bytes,
    query: &Query,
    on_upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> Result<ApiResponse, StatusError> {
    let key = (
        info.api_group.clone(),
        info.api_version.clone(),
        info.resource.clone(),
    );
    if key.0.is_empty() && key.1 == "v1" && key.2 == "componentstatuses" {
        let Some(statuses) = handler.component_statuses.as_deref() else {
            return Ok(super::not_found());
        };
        let accept = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok());
        return statuses.serve(info, accept, query).await;
    }
    let Some(store) = handler.stores.get(&key) else {
        return Ok(super::not_found());
    };
    let store = store.as_ref();
    if !store.info.namespaced && !info.namespace.is_empty() && info.resource != "namespaces" {
        return Ok(super::not_found());
    }
    let namespace = if store.info.namespaced {
        info.namespace.as_str()
    } else {
        ""
    };
    let scope = match info.subresource.as_str() {
        "" => UpdateScope::Object,
        "status" if store.info.subresource("status").is_some() => UpdateScope::Status,
        "approval" if store.info.subresource("approval").is_some() => UpdateScope::Approval,
        "ephemeralcontainers" if store.info.subresource("ephemeralcontainers").is_some() => {
            UpdateScope::EphemeralContainers
        }
        other if subresources::served(store.info.group, store.info.resource).contains(&other) => {
            return serve_subresource(handler, store, info, namespace, parts, body, query).await;
        }
        "proxy" if matches!(store.info.resource, "pods" | "services") => {
            let store_for = |resource: &str| {
                handler
                    .stores
                    .get(&(String::new(), "v1".to_string(), resource.to_string()))
            };
            let (Some(pods), Some(services), Some(endpoints)) = (
                store_for("pods"),
                store_for("services"),
                store_for("endpoints"),
            ) else {
                return Ok(super::not_found());
            };
            return backend_proxy::serve(
                pods,
                services,
                endpoints,
                store.info.resource,
                namespace,
                &info.name,
                parts,
                body,
                on_upgrade,
            )
            .await;
        }
        other if proxy::served(store.info.group, store.info.resource).contains(&other) => {
            let nodes_key = (String::new(), "v1".to_string(), "nodes".to_string());
            let Some(nodes) = handler.stores.get(&nodes_key) else {
                return Ok(super::not_found());
            };
            // `nodes/<name>/proxy/<path>`: everything after `proxy` is the kubelet path.
            let proxy_path = info
                .parts
                .get(3..)
                .map(|rest| rest.join("/"))
                .unwrap_or_default();
            return proxy::serve(
                handler.kubelet.as_deref(),
                store,
                nodes,
                other,
                namespace,
                &info.name,
                &proxy_path,
                parts,
                body,
                query,
                on_upgrade,
            )
            .await;
        }
        _ => return Ok(super::not_found()),
    };

    if scope == UpdateScope::Object && !store.info.supports(&info.verb) {
        return Err(StatusError::method_not_supported(
            &store.info.group_resource(),
            &info.verb,
        ));
    }
    if scope == UpdateScope::EphemeralContainers
        && !matches!(info.verb.as_str(), "get" | "update" | "patch")
    {
        return Err(StatusError::method_not_supported(
            &store.info.group_resource(),
            &info.verb,
        ));
    }
    if store.info.namespaced && namespace.is_empty() {
        match info.verb.as_str() {
            "list" | "watch" => {}
            "create" | "deletecollection" => {
                return Err(StatusError::method_not_supported(
                    &store.info.group_resource(),
                    &info.verb,
                ));
            }
            _ => return Ok(super::not_found()),
        }
    }

    let accept = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    let representation = negotiate(accept).ok_or_else(|| {
        StatusError::not_acceptable(&[
            "application/json",
            "application/yaml",
            "application/json;as=Table;v=v1;g=meta.k8s.io",
        ])
    })?;

    match info.verb.as_str() {
        "get" => {
            let include_object = include_object(query)?;
            let resource_version = query.get("resourceVersion");
            let object = store
                .get_bytes_at(namespace, &info.name, resource_version)
                .await?;
            Ok(json(
                200,
                represent_object(store, object, representation, include_object)?,
            ))
        }
        "list" => {
            let include_object = include_object(query)?;
            let params = list_params(query)?;
            let output = store.list(namespace, &params).await?;
            Ok(json_parts(
                200,
                list_body(store, output, representation, include_object)?,
            ))
        }
        "watch" => {
            let params = list_params(query)?;
            let params = narrow_to_name(params, &info.name);
            watch::serve(handler, store, namespace, params, query, representation).await
        }
        "create" => {
            if !info.name.is_empty() || scope != UpdateScope::Object {
                return Err(StatusError::method_not_supported(
                    &store.info.group_resource(),
                    "create",
                ));
            }
            let params = write_params(query, parts, "CreateOptions")?;
            let validation = field_validation(query)?;
            let bytes = body.clone();
            let decoded = decode_body(store, parts, &bytes, validation)?;
            let mut object = decoded.object;
            check_body_namespace(&object, namespace)?;
            ensure_namespace_exists(handler, store, namespace).await?;
            // Upstream credits the manager with the defaulted request, before
            // admission plugins add their own fields.
            object = store.default_object(object)?;
            store.track_managed_fields(None, &mut object, UpdateScope::Object, &params);
            handler
                .chain
                .admission
                .mutate(user, info, &mut object)
                .await?;
            handler
                .chain
                .admission
                .validate(user, info, &object)
                .await?;
            let created = store.create_defaulted(namespace, object, &params).await?;
            Ok(with_warnings(
                json(201, to_bytes(&created)),
                &decoded.warnings,
            ))
        }
        "update" => {
            let params = write_params(query, parts, "UpdateOptions")?;
            let validation = field_validation(query)?;
            let bytes = body.clone();
            let decoded = decode_body(store, parts, &bytes, validation)?;
            let mut object = decoded.object;
            check_body_namespace(&object, namespace)?;
            handler
                .chain
                .admission
                .mutate(user, info, &mut object)
                .await?;
            handler
                .chain
                .admission
                .validate(user, info, &object)
                .await?;
            let (stored, created) = store
                .update(namespace, &info.name, object, scope, &params)
                .await?;
            let code = if created { 201 } else { 200 };
            Ok(with_warnings(
                json(code, to_bytes(&stored)),
                &decoded.warnings,
            ))
        }
        "patch" => {
            let params = write_params(query, parts, "PatchOptions")?;
            let patch_type = patch_type(parts)?;
            let bytes = body.clone();
            let patch_body = bytes.clone();
            let kind = GroupVersionKind::new(store.info.group, store.info.version, store.info.kind);
            let (stored, _) = store
                .update_with(namespace, &info.name, scope, &params, move |current| {
                    let Some(current) = current else {
                        return Err(StatusError::not_found(
                            &store.info.group_resource(),
                            &info.name,
                        ));
                    };
                    // The patched object is decoded like a request body, so fields
                    // a patch replaced get their defaults again.
                    let patched = apply_patch(patch_type, current, &patch_body, &kind)?;
                    store.decode(patched)
                })
                .await?;
            Ok(json(200, to_bytes(&stored)))
        }
        "delete" => {
            if store.info.group.is_empty()
                && store.info.resource == "namespaces"
                && crate::bootstrap::UNDELETABLE_NAMESPACES.contains(&info.name.as_str())
            {
                return Err(StatusError::forbidden(
                    &store.info.group_resource(),
                    &info.name,
                    "this namespace may not be deleted",
                ));
            }
            let bytes = body.clone();
            let params = delete_params(query, &bytes, is_protobuf(parts))?;
            match store.delete(namespace, &info.name, &params).await? {
                DeleteOutcome::Pending(object) => Ok(json(200, to_bytes(&object))),
                DeleteOutcome::Deleted(object) => {
                    if crate::openapi::OpenApi::delete_returns_object(
                        store.info.group,
                        store.info.resource,
                    ) {
                        Ok(json(200, to_bytes(&object)))
                    } else {
                        Ok(json(200, deleted_body(store, &object)))
                    }
                }
            }
        }
        "deletecollection" => {
            let bytes = body.clone();
            let params = delete_params(query, &bytes, is_protobuf(parts))?;
            let list = list_params(query)?;
            let deleted = store.delete_collection(namespace, &list, &params).await?;
            let items: Vec<Bytes> = deleted.iter().map(to_bytes).collect();
            let output = crate::registry::store::ListOutput {
                items,
                resource_version: 0,
                continue_token: None,
                remaining_item_count: None,
            };
            Ok(json_parts(
                200,
                list_body(
                    store,
                    output,
                    Representation::Object,
                    crate::tables::IncludeObject::Metadata,
                )?,
            ))
        }
        other => Err(StatusError::method_not_supported(
            &store.info.group_resource(),
            other,
        )),
    }
}

/// Serves `scale`, `pods/binding` and `pods/eviction`.
async fn serve_subresource(
    handler: &Handler,
    store: &Store,
    info: &RequestInfo,
    namespace: &str,
    parts: &http::request::Parts,
    body: Bytes,
    query: &Query,
) -> Result<ApiResponse, StatusError> {
    // Scale writes are credited to an entry with subresource `scale`. Other
    // subresource writes (binding, finalize) leave managedFields as they are.
    let options_kind = if info.verb == "patch" {
        "PatchOptions"
    } else {
        "UpdateOptions"
    };
    let mut params = write_params(query, parts, options_kind)?;
    if info.subresource == "scale" {
        params.subresource = "scale".to_string();
    } else {
        params.manager = None;
    }
    let name = info.name.as_str();
    match (info.subresource.as_str(), info.verb.as_str()) {
        ("scale", "get") => Ok(json(
            200,
            to_bytes(&subresources::get_scale(store, namespace, name).await?),
        )),
        ("scale", "update") => {
            let bytes = body.clone();
            let scale = decode_plain(parts, &bytes)?;
            let stored =
                subresources::update_scale(store, namespace, name, &params, |_| Ok(scale.clone()))
                    .await?;
            Ok(json(200, to_bytes(&stored)))
        }
        ("scale", "patch") => {
            let patch_type = patch_type(parts)?;
            let bytes = body.clone();
            let kind = GroupVersionKind::new("autoscaling", "v1", "Scale");
            let stored = subresources::update_scale(store, namespace, name, &params, |current| {
                apply_patch(patch_type, current, &bytes, &kind)
            })
            .await?;
            Ok(json(200, to_bytes(&stored)))
        }
        ("binding", "create") => {
            let bytes = body.clone();
            let binding = decode_plain(parts, &bytes)?;
            let status = subresources::bind(store, namespace, name, &binding, &params).await?;
            Ok(json(201, to_bytes(&status)))
        }
        ("finalize", "update") => {
            let bytes = body.clone();
            let namespace_object = decode_plain(parts, &bytes)?;
            let stored = subresources::finalize(store, name, &namespace_object, &params).await?;
            Ok(json(200, to_bytes(&stored)))
        }
        ("token", "create") => {
            let bytes = body.clone();
            let request = decode_plain(parts, &bytes)?;
            let issued =
                subresources::request_token(handler, store, namespace, name, &request).await?;
            Ok(json(201, to_bytes(&issued)))
        }
        ("eviction", "create") => {
            let bytes = body.clone();
            let eviction = decode_plain(parts, &bytes)?;
            let status = subresources::evict(handler, store, namespace, name, &eviction).await?;
            Ok(json(201, to_bytes(&status)))
        }
        (subresource, verb) => Err(StatusError::method_not_supported(
            &apimachinery::meta::GroupResource::new(
                store.info.group,
                format!("{}/{subresource}", store.info.resource),
            ),
            verb,
        )),
    }
}

/// Decodes a JSON, YAML or protobuf body of a subresource kind (Scale, Binding,
/// Eviction, TokenRequest).
fn decode_plain(parts: &http::request::Parts, body: &[u8]) -> Result<Value, StatusError> {
    if is_protobuf(parts) {
        return protobuf::decode(body)
            .map(|(_, object)| object)
            .map_err(|error| {
                StatusError::bad_request(format!("failed to decode the protobuf body: {error}"))
            });
    }
    match media_type(parts, body)? {
        MediaType::Json => apimachinery::decode::decode_json(body).map_err(|error| {
            StatusError::bad_request(format!(
                "couldn't get version/kind; json parse error: {error}"
            ))
        }),
        MediaType::Yaml => apimachinery::decode::decode_yaml(body).map_err(|error| {
            StatusError::bad_request(format!("error converting YAML to JSON: {error}"))
        }),
    }
}

/// Reads the body, rejecting bodies over [`MAX_REQUEST_BODY_BYTES`] with 413.
async fn read_body(body: Incoming) -> Result<Bytes, StatusError> {
    let collected = tokio::time::timeout(
        BODY_READ_TIMEOUT,
        Limited::new(body, MAX_REQUEST_BODY_BYTES).collect(),
    )
    .await;
    let Ok(collected) = collected else {
        return Err(StatusError::timeout(
            "request did not complete within the allowed duration: the body was not sent in time",
            0,
        ));
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error)
            if error
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(StatusError::request_entity_too_large(&format!(
                "limit is {MAX_REQUEST_BODY_BYTES}"
            )))
        }
        Err(error) => Err(StatusError::bad_request(format!(
            "failed to read the request body: {error}"
        ))),
    }
}

/// Returns whether the body is Kubernetes protobuf, as kubectl sends for built-in kinds.
fn is_protobuf(parts: &http::request::Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(protobuf::MEDIA_TYPE)
        })
}

fn media_type(parts: &http::request::Parts, body: &[u8]) -> Result<MediaType, StatusError> {
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match content_type.as_deref() {
        None | Some("") => Ok(MediaType::detect(body)),
        Some("application/json") => Ok(MediaType::Json),
        Some("application/yaml") => Ok(MediaType::Yaml),
        Some(_) => Err(StatusError::unsupported_media_type(&[
            "application/json",
            "application/yaml",
            "application/vnd.kubernetes.protobuf",
        ])),
    }
}

fn decode_body(
    store: &Store,
    parts: &http::request::Parts,
    body: &[u8],
    validation: FieldValidation,
) -> Result<apimachinery::decode::DecodedObject, StatusError> {
    if is_protobuf(parts) {
        let expected = GroupVersionKind::new(store.info.group, store.info.version, store.info.kind);
        let (gvk, object) = protobuf::decode(body).map_err(|error| {
            StatusError::bad_request(format!("failed to decode the protobuf body: {error}"))
        })?;
        if gvk.group != expected.group
            || gvk.version != expected.version
            || gvk.kind != expected.kind
        {
            return Err(StatusError::bad_request(format!(
                "the object in the body ({}, Kind={}) does not match the expected {}, Kind={}",
                gvk.group_version().api_version(),
                gvk.kind,
                expected.group_version().api_version(),
                expected.kind
            )));
        }
        // NOTE: unknown protobuf field numbers are skipped, so fieldValidation has
        // nothing to report for protobuf bodies.
        return Ok(apimachinery::decode::DecodedObject {
            object,
            gvk,
            warnings: Vec::new(),
        });
    }
    let media = media_type(parts, body)?;
    let expected = GroupVersionKind::new(store.info.group, store.info.version, store.info.kind);
    let decoded = decode_object(body, media, &expected, validation)?;
    Ok(decoded)
}

fn field_validation(query: &Query) -> Result<FieldValidation, StatusError> {
    FieldValidation::parse(query.get("fieldValidation").unwrap_or(""))
        .map_err(|error| StatusError::bad_request(error.to_string()))
}

/// Rejects a body whose namespace differs from the URL's.
fn check_body_namespace(object: &Value, namespace: &str) -> Result<(), StatusError> {
    let body_namespace = object
        .get("metadata")
        .and_then(|metadata| metadata.get("namespace"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if !namespace.is_empty() && !body_namespace.is_empty() && body_namespace != namespace {
        return Err(StatusError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

/// Runs the NamespaceLifecycle admission check: creating in a missing namespace is 404,
/// in a terminating one 403.
async fn ensure_namespace_exists(
    handler: &Handler,
    store: &Store,
    namespace: &str,
) -> Result<(), StatusError> {
    if !store.info.namespaced {
        return Ok(());
    }
    let key = (String::new(), "v1".to_string(), "namespaces".to_string());
    let Some(namespaces) = handler.stores.get(&key) else {
        return Ok(());
    };
    // The namespace lifecycle check of upstream's admission reads its informer,
    // not etcd: one storage read per create would double the writes' cost.
    let object = namespaces.get_cached("", namespace).await?;
    let terminating = object
        .get("metadata")
        .and_then(|metadata| metadata.get("deletionTimestamp"))
        .is_some()
        || object.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating");
    if terminating {
        return Err(StatusError::forbidden(
            &store.info.group_resource(),
            "",
            format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            ),
        ));
    }
    Ok(())
}

/// Reads dryRun and fieldManager. `options_kind` names the request's options
/// (`CreateOptions`, `UpdateOptions`, `PatchOptions`) in validation errors. Without a
/// fieldManager the manager is the User-Agent's prefix.
fn write_params(
    query: &Query,
    parts: &http::request::Parts,
    options_kind: &str,
) -> Result<WriteParams, StatusError> {
    let field_manager = query.get("fieldManager").map(str::to_string);
    if let Some(manager) = &field_manager {
        fieldmanager::validate_field_manager(manager, options_kind)?;
    }
    let manager = match &field_manager {
        Some(manager) if !manager.is_empty() => manager.clone(),
        _ => fieldmanager::manager_from_user_agent(
            parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default(),
        ),
    };
    Ok(WriteParams {
        dry_run: dry_run(query)?,
        field_manager,
        manager: Some(manager),
        subresource: String::new(),
    })
}

fn dry_run(query: &Query) -> Result<bool, StatusError> {
    let values = query.all("dryRun");
    for value in &values {
        if *value != "All" {
            return Err(StatusError::bad_request(format!(
                "dryRun: Unsupported value: \"{value}\": supported values: \"All\""
            )));
        }
    }
    Ok(!values.is_empty())
}

fn list_params(query: &Query) -> Result<ListParams, StatusError> {
    let limit = match query.get("limit") {
        None | Some("") => 0,
        Some(text) => text
            .parse::<i64>()
            .map_err(|_| StatusError::bad_request(format!("invalid limit: {text}")))?
            .max(0) as usize,
    };
    if let Some(text) = query.get("timeoutSeconds").filter(|text| !text.is_empty())
        && text.parse::<i64>().is_err()
    {
        return Err(StatusError::bad_request(format!(
            "invalid timeoutSeconds: {text}"
        )));
    }
    Ok(ListParams {
        label_selector: query.get("labelSelector").map(str::to_string),
        field_selector: query.get("fieldSelector").map(str::to_string),
        limit,
        continue_token: query
            .get("continue")
            .filter(|token| !token.is_empty())
            .map(str::to_string),
        resource_version: query.get("resourceVersion").map(str::to_string),
        resource_version_match: query.get("resourceVersionMatch").map(str::to_string),
        allow_bookmarks: query.flag("allowWatchBookmarks"),
    })
}

/// Narrows a watch of `/pods/<name>` to `metadata.name=<name>`, as upstream does.
fn narrow_to_name(mut params: ListParams, name: &str) -> ListParams {
    if name.is_empty() {
        return params;
    }
    let by_name = format!("metadata.name={name}");
    params.field_selector = Some(
        match params
            .field_selector
            .take()
            .filter(|selector| !selector.is_empty())
        {
            Some(selector) => format!("{selector},{by_name}"),
            None => by_name,
        },
    );
    params
}

fn delete_params(
    query: &Query,
    body: &[u8],
    protobuf_body: bool,
) -> Result<DeleteParams, StatusError> {
    let options: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else if protobuf_body {
        protobuf::decode_delete_options(body)
            .map_err(|error| StatusError::bad_request(format!("invalid DeleteOptions: {error}")))?
    } else {
        serde_json::from_slice(body)
            .map_err(|error| StatusError::bad_request(format!("invalid DeleteOptions: {error}")))?
    };
    let from_body = |field: &str| options.get(field).filter(|value| !value.is_null());

    let grace_period_seconds = match query.get("gracePeriodSeconds") {
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            StatusError::bad_request(format!("invalid gracePeriodSeconds: {text}"))
        })?),
        None => from_body("gracePeriodSeconds").and_then(Value::as_i64),
    };
    let mut propagation_policy = query
        .get("propagationPolicy")
        .map(str::to_string)
        .or_else(|| {
            from_body("propagationPolicy")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let orphan = query
        .get("orphanDependents")
        .map(|value| value == "true")
        .or_else(|| from_body("orphanDependents").and_then(Value::as_bool));
    if let Some(orphan) = orphan {
        if propagation_policy.is_some() {
            return Err(StatusError::bad_request(
                "orphanDependents and propagationPolicy cannot both be set",
            ));
        }
        propagation_policy = Some(if orphan {
            "Orphan".into()
        } else {
            "Background".into()
        });
    }
    if let Some(policy) = propagation_policy.as_deref()
        && !matches!(policy, "Orphan" | "Background" | "Foreground")
    {
        return Err(StatusError::bad_request(format!(
            "propagationPolicy: Unsupported value: \"{policy}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
        )));
    }
    let body_dry_run = from_body("dryRun")
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().any(|value| value == "All"));

    Ok(DeleteParams {
        dry_run: dry_run(query)? || body_dry_run,
        grace_period_seconds,
        propagation_policy,
        precondition_uid: options
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(str::to_string),
        precondition_resource_version: options
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// The kinds of PATCH bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PatchType {
    Json,
    Merge,
    Strategic,
}

fn patch_type(parts: &http::request::Parts) -> Result<PatchType, StatusError> {
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    match content_type.as_str() {
        "application/json-patch+json" => Ok(PatchType::Json),
        "application/merge-patch+json" => Ok(PatchType::Merge),
        "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => Err(
            StatusError::from_status(apimachinery::errors::Status::failure(
                415,
                apimachinery::errors::StatusReason::UnsupportedMediaType,
                "server-side apply (application/apply-patch+yaml) is not supported by this server yet; use client-side apply (kubectl apply --server-side=false) or another patch type",
            )),
        ),
        _ => Err(StatusError::unsupported_media_type(&[
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
        ])),
    }
}

fn apply_patch(
    patch_type: PatchType,
    current: &Value,
    body: &[u8],
    kind: &GroupVersionKind,
) -> Result<Value, StatusError> {
    let patch_error = |error: patch::PatchError| {
        let code = error.status_code();
        match code {
            422 => StatusError::from_status(apimachinery::errors::Status::failure(
                422,
                apimachinery::errors::StatusReason::Invalid,
                error.to_string(),
            )),
            413 => StatusError::request_entity_too_large(&error.to_string()),
            409 => StatusError::from_status(apimachinery::errors::Status::failure(
                409,
                apimachinery::errors::StatusReason::Conflict,
                error.to_string(),
            )),
            500 => StatusError::internal_error(error.to_string()),
            _ => StatusError::bad_request(error.to_string()),
        }
    };
    match patch_type {
        PatchType::Json => patch::apply_json_patch(current, body).map_err(patch_error),
        PatchType::Merge | PatchType::Strategic => {
            let patch_value: Value = serde_json::from_slice(body).map_err(|error| {
                StatusError::bad_request(format!("error decoding patch: {error}"))
            })?;
            if patch_type == PatchType::Merge {
                return patch::apply_merge_patch(current, &patch_value).map_err(patch_error);
            }
            let schema = BuiltinSchema::for_kind(&kind.group, &kind.version, &kind.kind)
                .unwrap_or_else(BuiltinSchema::unknown);
            patch::apply_strategic_merge_patch(current, &patch_value, &schema).map_err(patch_error)
        }
    }
}

/// Adds the `Warning` headers of field validation.
fn with_warnings(mut response: ApiResponse, warnings: &[String]) -> ApiResponse {
    for warning in warnings {
        let value = format!("299 - \"{}\"", warning.replace('"', "\\\""));
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    response
}

fn to_bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

/// The body of a delete that removed the object: a Status with the object's identity,
/// as upstream returns for kinds that do not return the deleted object.
fn deleted_body(store: &Store, object: &Value) -> Bytes {
    let name = object
        .pointer("/metadata/name")
        .cloned()
        .unwrap_or(Value::Null);
    let uid = object
        .pointer("/metadata/uid")
        .cloned()
        .unwrap_or(Value::Null);
    let status = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": name, "group": store.info.group, "kind": store.info.resource, "uid": uid},
    });
    to_bytes(&status)
}

/// Reads the `includeObject` table option, which sets what each Table row's
/// `object` carries (kubectl asks for `Object` when it sorts rows itself).
pub(super) fn include_object(query: &Query) -> Result<crate::tables::IncludeObject, StatusError> {
    query
        .get("includeObject")
        .unwrap_or("")
        .parse()
        .map_err(|error: crate::tables::UnsupportedIncludeObject| error.to_status_error())
}

/// Renders one object in the negotiated representation.
fn represent_object(
    store: &Store,
    object: Bytes,
    representation: Representation,
    include_object: crate::tables::IncludeObject,
) -> Result<Bytes, StatusError> {
    match representation {
        Representation::Object => Ok(object),
        Representation::Metadata => {
            let value: Value =
                serde_json::from_slice(&object).map_err(StatusError::internal_error)?;
            Ok(to_bytes(&partial_metadata(&value)))
        }
        Representation::Table => {
            let value: Value =
                serde_json::from_slice(&object).map_err(StatusError::internal_error)?;
            let list_meta = serde_json::json!({"resourceVersion": value.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null)});
            Ok(to_bytes(&crate::tables::table(
                store.info.group,
                store.info.resource,
                &[value],
                include_object,
                list_meta,
                std::time::SystemTime::now(),
            )))
        }
    }
}

pub(super) fn partial_metadata(object: &Value) -> Value {
    serde_json::json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| serde_json::json!({})),
    })
}

/// Most bytes of items gathered into one part of a list body.
const LIST_PART_BYTES: usize = 1 << 20;

/// Builds a list body from served item bytes without parsing them, in parts of
/// about [`LIST_PART_BYTES`], because one buffer of a large list would be
/// allocated and page-faulted afresh for every list.
pub fn list_body(
    store: &Store,
    output: crate::registry::store::ListOutput,
    representation: Representation,
    include_object: crate::tables::IncludeObject,
) -> Result<Vec<Bytes>, StatusError> {
    let mut metadata = serde_json::Map::new();
    metadata.insert(
        "resourceVersion".into(),
        Value::String(output.resource_version.to_string()),
    );
    if let Some(token) = &output.continue_token {
        metadata.insert("continue".into(), Value::String(token.clone()));
    }
    if let Some(remaining) = output.remaining_item_count {
        metadata.insert("remainingItemCount".into(), Value::from(remaining));
    }

    match representation {
        Representation::Object => {
            let api_version = store.info.group_version().api_version();
            let header = serde_json::json!({"kind": store.info.list_kind(), "apiVersion": api_version, "metadata": metadata});
            let header = serde_json::to_vec(&header).unwrap_or_default();
            let mut parts = Vec::new();
            let mut part = BytesMut::with_capacity(LIST_PART_BYTES + 4096);
            part.put_slice(&header[..header.len() - 1]);
            part.put_slice(b",\"items\":[");
            for (index, item) in output.items.iter().enumerate() {
                if index > 0 {
                    part.put_u8(b',');
                }
                if part.len() + item.len() > LIST_PART_BYTES {
                    parts.push(part.split().freeze());
                    part.reserve(LIST_PART_BYTES.max(item.len()) + 4096);
                }
                part.put_slice(item);
            }
            part.put_slice(b"]}");
            parts.push(part.freeze());
            Ok(parts)
        }
        Representation::Metadata => {
            let items: Vec<Value> = output
                .items
                .iter()
                .map(|item| {
                    serde_json::from_slice::<Value>(item).map(|value| partial_metadata(&value))
                })
                .collect::<Result<_, _>>()
                .map_err(StatusError::internal_error)?;
            Ok(vec![to_bytes(&serde_json::json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": metadata,
                "items": items,
            }))])
        }
        Representation::Table => {
            let items: Vec<Value> = output
                .items
                .iter()
                .map(|item| serde_json::from_slice::<Value>(item))
                .collect::<Result<_, _>>()
                .map_err(StatusError::internal_error)?;
            Ok(vec![to_bytes(&crate::tables::table(
                store.info.group,
                store.info.resource,
                &items,
                include_object,
                Value::Object(metadata),
                std::time::SystemTime::now(),
            ))])
        }
    }
}
