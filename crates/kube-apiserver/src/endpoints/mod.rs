//! The HTTP handler: the filters every request passes (in-flight limits, the
//! authn/authz chain, metrics, gzip), then the routes: health, version, metrics,
//! discovery, OpenAPI, and the resource endpoints in [`resource`].

mod backend_proxy;
pub mod body;
pub mod component_status;
pub mod proxy;
mod resource;
pub mod response;
pub mod subresources;
mod watch;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use apimachinery::errors::StatusError;
use bytes::Bytes;
use http::{Method, header};
use hyper::body::Incoming;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::chain::Chain;
use crate::discovery::{self, Discovery};
use crate::health::{HealthEndpoint, query_pairs};
use crate::metrics::{DurationLabels, Metrics};
use crate::registry::store::Store;
use crate::request_info::RequestInfo;
use response::{ApiResponse, json, json_with_type, maybe_gzip, status_error, text};

/// Everything a request may reach.
pub struct Handler {
    /// Stores by (group, version, resource).
    pub stores: HashMap<(String, String, String), Arc<Store>>,
    pub discovery: Discovery,
    pub healthz: HealthEndpoint,
    pub livez: HealthEndpoint,
    pub readyz: HealthEndpoint,
    pub metrics: Arc<Metrics>,
    pub chain: Chain,
    pub version: Bytes,
    /// The client that forwards connect subresources to kubelets; without it they get 503.
    pub kubelet: Option<Arc<proxy::KubeletClient>>,
    /// The signer of service account tokens; without it TokenRequests get 503.
    pub token_signer: Option<Arc<crate::serviceaccount::TokenSigner>>,
    /// The service account issuer discovery documents; without them both paths are
    /// not found.
    pub openid_metadata: Option<crate::serviceaccount::OpenIdMetadata>,
    /// The prober behind `componentstatuses`; without it the resource is not found.
    pub component_statuses: Option<Arc<component_status::ComponentStatuses>>,
    readonly_slots: Arc<Semaphore>,
    mutating_slots: Arc<Semaphore>,
}

/// The parsed query string.
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(query: &str) -> Query {
        Query {
            pairs: query_pairs(query),
        }
    }

    /// Returns the first value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Returns every value of a parameter.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// Reads a boolean parameter the way upstream's query decoder does.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1" | "True" | "TRUE"))
    }
}

impl Handler {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        stores: HashMap<(String, String, String), Arc<Store>>,
        discovery: Discovery,
        healthz: HealthEndpoint,
        livez: HealthEndpoint,
        readyz: HealthEndpoint,
        metrics: Arc<Metrics>,
        max_requests_inflight: usize,
        max_mutating_requests_inflight: usize,
    ) -> Handler {
        Handler {
            stores,
            discovery,
            healthz,
            livez,
            readyz,
            metrics,
            chain: Chain::default(),
            version: version_document(),
            kubelet: None,
            token_signer: None,
            openid_metadata: None,
            component_statuses: None,
            readonly_slots: Arc::new(Semaphore::new(max_requests_inflight.max(1))),
            mutating_slots: Arc::new(Semaphore::new(max_mutating_requests_inflight.max(1))),
        }
    }

    /// Serves one request. Errors become Status responses, so the caller always gets a response.
    pub async fn handle(&self, request: hyper::Request<Incoming>, peer: SocketAddr) -> ApiResponse {
        let started = Instant::now();
        let (mut parts, body) = request.into_parts();
        let on_upgrade = parts.extensions.remove::<hyper::upgrade::OnUpgrade>();
        let query = Query::parse(parts.uri.query().unwrap_or(""));
        let watch = query.flag("watch");
        let info = RequestInfo::parse(&parts.method, parts.uri.path(), watch);
        let accept_encoding = parts
            .headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);

        let long_running = info.verb == "watch"
            || matches!(
                info.subresource.as_str(),
                "exec" | "attach" | "portforward" | "proxy"
            )
            || (info.subresource == "log" && query.flag("follow"));

        let response = match self.acquire_slot(&info, long_running) {
            Err(error) => status_error(&error),
            Ok(_permit) => match self.chain.admit_request(&parts.headers, &info) {
                Err(error) => status_error(&error),
                Ok(user) => {
                    if info.is_resource_request {
                        resource::serve(self, &info, &user, &parts, body, &query, on_upgrade).await
                    } else {
                        self.serve_non_resource(&info, &parts, &query).await
                    }
                }
            },
        };

        let code = response.status().as_u16();
        if !long_running {
            self.record(&info, code, started);
        }
        tracing::debug!(
            verb = %info.verb,
            path = %info.path,
            code,
            peer = %peer,
            latency_ms = started.elapsed().as_secs_f64() * 1e3,
            "request served"
        );
        let response = maybe_gzip(response, accept_encoding.as_deref());
        if parts.method == Method::HEAD {
            // A HEAD response carries the headers of GET and no body; HTTP/2 rejects one.
            let (head, _) = response.into_parts();
            return http::Response::from_parts(head, body::ApiBody::empty());
        }
        response
    }

    /// Takes an in-flight slot, or returns 429 as upstream's max-in-flight filter
    /// does. Long-running requests take none.
    fn acquire_slot(
        &self,
        info: &RequestInfo,
        long_running: bool,
    ) -> Result<Option<OwnedSemaphorePermit>, StatusError> {
        if long_running {
            return Ok(None);
        }
        let mutating = matches!(
            info.verb.as_str(),
            "create" | "update" | "patch" | "delete" | "deletecollection"
        ) || matches!(info.verb.as_str(), "post" | "put" | "delete");
        let (slots, kind) = if mutating {
            (&self.mutating_slots, "mutating")
        } else {
            (&self.readonly_slots, "readOnly")
        };
        match slots.clone().try_acquire_owned() {
            Ok(permit) => Ok(Some(permit)),
            Err(_) => {
                tracing::warn!(request_kind = kind, path = %info.path, "too many requests in flight");
                Err(StatusError::too_many_requests(
                    "Too many requests, please try again later.",
                    1,
                ))
            }
        }
    }

    fn record(&self, info: &RequestInfo, code: u16, started: Instant) {
        let scope = if !info.is_resource_request {
            ""
        } else if !info.name.is_empty() {
            "resource"
        } else if !info.namespace.is_empty() {
            "namespace"
        } else {
            "cluster"
        };
        let labels = DurationLabels {
            verb: info.verb.to_ascii_uppercase(),
            group: info.api_group.clone(),
            version: info.api_version.clone(),
            resource: info.resource.clone(),
            subresource: info.subresource.clone(),
            scope: scope.to_string(),
            component: "apiserver".to_string(),
        };
        self.metrics
            .observe_request(labels, code, started.elapsed());
    }

    async fn serve_non_resource(
        &self,
        info: &RequestInfo,
        parts: &http::request::Parts,
        query: &Query,
    ) -> ApiResponse {
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return status_error(&StatusError::method_not_supported(
                &apimachinery::meta::GroupResource::new("", ""),
                parts.method.as_str(),
            ));
        }
        if let Some(response) =
            crate::openapi::OpenApi::shared().respond(&parts.method, &parts.uri, &parts.headers)
        {
            let (head, body) = response.into_parts();
            return http::Response::from_parts(head, body::ApiBody::full(body));
        }
        let path = info.path.trim_end_matches('/');
        let accept = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        let raw_query = parts.uri.query().unwrap_or("");

        for endpoint in [&self.healthz, &self.livez, &self.readyz] {
            let root = format!("/{}", endpoint.name);
            if path == root || path.starts_with(&format!("{root}/")) {
                let check = path
                    .strip_prefix(&root)
                    .unwrap_or("")
                    .trim_start_matches('/');
                let health = endpoint.respond(check, raw_query).await;
                return text(health.code, health.body);
            }
        }

        match path {
            "/version" => json(200, self.version.clone()),
            "/metrics" => text(200, self.metrics.render()),
            "/api" => match discovery::aggregated_version(accept) {
                Some(version) => json_with_type(
                    200,
                    self.discovery.aggregated_legacy[version].clone(),
                    aggregated_type(version),
                ),
                None => json(200, self.discovery.api_versions.clone()),
            },
            "/apis" => match discovery::aggregated_version(accept) {
                Some(version) => json_with_type(
                    200,
                    self.discovery.aggregated_apis[version].clone(),
                    aggregated_type(version),
                ),
                None => json(200, self.discovery.api_group_list.clone()),
            },
            "/.well-known/openid-configuration" | "/openid/v1/jwks" => {
                let Some(metadata) = &self.openid_metadata else {
                    return not_found();
                };
                let (body, content_type) = if path == "/openid/v1/jwks" {
                    (metadata.jwks.clone(), "application/jwk-set+json")
                } else {
                    (metadata.configuration.clone(), "application/json")
                };
                let mut response = json_with_type(200, body, content_type);
                response.headers_mut().insert(
                    header::CACHE_CONTROL,
                    http::HeaderValue::from_static("public, max-age=3600"),
                );
                response
            }
            "" | "/" => json(200, root_paths(self)),
            _ => self.serve_group_discovery(path, query),
        }
    }

    fn serve_group_discovery(&self, path: &str, _query: &Query) -> ApiResponse {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match segments.as_slice() {
            ["api", version] => self.resource_list(version),
            ["apis", group] => match self.discovery.groups.get(*group) {
                Some(document) => json(200, document.clone()),
                None => not_found(),
            },
            ["apis", group, version] => self.resource_list(&format!("{group}/{version}")),
            _ => not_found(),
        }
    }

    fn resource_list(&self, group_version: &str) -> ApiResponse {
        match self.discovery.resource_lists.get(group_version) {
            Some(document) => json(200, document.clone()),
            None => not_found(),
        }
    }
}

fn aggregated_type(version: &str) -> &'static str {
    if version == "v2" {
        discovery::AGGREGATED_V2
    } else {
        discovery::AGGREGATED_V2BETA1
    }
}

/// Returns the 404 Status upstream returns for an unknown path.
pub fn not_found() -> ApiResponse {
    status_error(&StatusError::from_status(
        apimachinery::errors::Status::failure(
            404,
            apimachinery::errors::StatusReason::NotFound,
            "the server could not find the requested resource",
        ),
    ))
}

fn root_paths(handler: &Handler) -> Bytes {
    let mut paths: Vec<String> = vec![
        "/api".into(),
        "/api/v1".into(),
        "/apis".into(),
        "/healthz".into(),
        "/livez".into(),
        "/metrics".into(),
        "/readyz".into(),
        "/version".into(),
    ];
    if handler.openid_metadata.is_some() {
        paths.push("/.well-known/openid-configuration".into());
        paths.push("/openid/v1/jwks".into());
    }
    for group in handler.discovery.groups.keys() {
        paths.push(format!("/apis/{group}"));
    }
    for group_version in handler.discovery.resource_lists.keys() {
        if group_version.contains('/') {
            paths.push(format!("/apis/{group_version}"));
        }
    }
    paths.sort();
    Bytes::from(serde_json::to_vec(&serde_json::json!({ "paths": paths })).unwrap_or_default())
}

/// The `/version` document: the Kubernetes version whose API this server serves.
fn version_document() -> Bytes {
    let document = serde_json::json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.0",
        "gitCommit": option_env!("KUBE_RS_GIT_COMMIT").unwrap_or("unknown"),
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "rust",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, go_arch()),
    });
    Bytes::from(serde_json::to_vec(&document).unwrap_or_default())
}

/// Returns the architecture under Go's name, as clients expect in `platform`.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}
