//! `componentstatuses`: the deprecated core/v1 resource that reports whether the
//! scheduler, the controller manager and the storage answer their health checks.
//!
//! Nothing is stored. Every get or list probes the components afresh, as upstream
//! does: the scheduler and the controller manager over HTTPS at `/healthz` on
//! 127.0.0.1 and their default secure ports, without verifying their serving
//! certificates, and the storage backend by reading its current revision.

use std::sync::Arc;
use std::time::Duration;

use apimachinery::errors::StatusError;
use apimachinery::meta::GroupResource;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use serde_json::{Value, json};
use storage::Backend;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::resource::{include_object, partial_metadata};
use super::response::{ApiResponse, Representation, json as json_response, negotiate};
use super::{Query, not_found};
use crate::request_info::RequestInfo;
use crate::tables::IncludeObject;

/// Upstream's probe timeout for component health checks.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// The storage check gives up sooner: a healthy backend answers in milliseconds.
const STORAGE_TIMEOUT: Duration = Duration::from_secs(2);

/// A probe response body longer than this is cut, as upstream's HTTP prober cuts it.
const MAX_MESSAGE_BYTES: usize = 10 * 1024;

/// One component whose health is reported.
#[derive(Clone, Debug)]
pub enum Component {
    /// A component probed with `GET https://<address>/healthz`.
    Https { name: String, address: String },
    /// The storage backend the server itself uses.
    Storage { name: String },
}

impl Component {
    fn name(&self) -> &str {
        match self {
            Component::Https { name, .. } | Component::Storage { name } => name,
        }
    }
}

/// Returns the components upstream checks: the scheduler on 10259, the controller manager on
/// 10257 (both on loopback), and the storage. `etcd-0` names the first etcd storage
/// configuration upstream; the embedded store is reported as `embedded-store`.
pub fn default_components(uses_etcd: bool) -> Vec<Component> {
    vec![
        Component::Https {
            name: "scheduler".to_string(),
            address: "127.0.0.1:10259".to_string(),
        },
        Component::Https {
            name: "controller-manager".to_string(),
            address: "127.0.0.1:10257".to_string(),
        },
        Component::Storage {
            name: if uses_etcd {
                "etcd-0"
            } else {
                "embedded-store"
            }
            .to_string(),
        },
    ]
}

/// Probes the components on request.
pub struct ComponentStatuses {
    components: Vec<Component>,
    backend: Arc<dyn Backend>,
    connector: TlsConnector,
}

/// The outcome of one probe, in the terms of a `Healthy` condition.
struct Probe {
    status: &'static str,
    message: String,
    error: String,
}

impl ComponentStatuses {
    pub fn new(
        components: Vec<Component>,
        backend: Arc<dyn Backend>,
        connector: TlsConnector,
    ) -> ComponentStatuses {
        ComponentStatuses {
            components,
            backend,
            connector,
        }
    }

    /// Serves `get` and `list`; every other verb gets 405, as upstream.
    pub async fn serve(
        &self,
        info: &RequestInfo,
        accept: Option<&str>,
        query: &Query,
    ) -> Result<ApiResponse, StatusError> {
        if !info.namespace.is_empty() || !info.subresource.is_empty() {
            return Ok(not_found());
        }
        let representation = negotiate(accept).ok_or_else(|| {
            StatusError::not_acceptable(&[
                "application/json",
                "application/yaml",
                "application/json;as=Table;v=v1;g=meta.k8s.io",
            ])
        })?;
        let include_object = include_object(query)?;
        match info.verb.as_str() {
            "get" => {
                let Some(component) = self
                    .components
                    .iter()
                    .find(|component| component.name() == info.name)
                else {
                    return Err(StatusError::not_found(&resource(), &info.name));
                };
                let mut item = status_object(component.name(), self.probe(component).await);
                let body = match representation {
                    Representation::Object => {
                        item["kind"] = json!("ComponentStatus");
                        item["apiVersion"] = json!("v1");
                        item
                    }
                    Representation::Metadata => partial_metadata(&item),
                    Representation::Table => table(&[item], include_object),
                };
                Ok(json_response(200, to_bytes(&body)))
            }
            "list" => {
                let probes = futures_util::future::join_all(
                    self.components
                        .iter()
                        .map(|component| self.probe(component)),
                )
                .await;
                let items: Vec<Value> = self
                    .components
                    .iter()
                    .zip(probes)
                    .map(|(component, probe)| status_object(component.name(), probe))
                    .collect();
                let body = match representation {
                    Representation::Object => json!({
                        "kind": "ComponentStatusList",
                        "apiVersion": "v1",
                        "metadata": {},
                        "items": items,
                    }),
                    Representation::Metadata => json!({
                        "kind": "PartialObjectMetadataList",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": {},
                        "items": items.iter().map(partial_metadata).collect::<Vec<_>>(),
                    }),
                    Representation::Table => table(&items, include_object),
                };
                Ok(json_response(200, to_bytes(&body)))
            }
            other => Err(StatusError::method_not_supported(&resource(), other)),
        }
    }

    async fn probe(&self, component: &Component) -> Probe {
        match component {
            Component::Storage { .. } => {
                match tokio::time::timeout(STORAGE_TIMEOUT, self.backend.current_revision()).await {
                    Ok(Ok(_)) => Probe {
                        status: "True",
                        message: "ok".to_string(),
                        error: String::new(),
                    },
                    Ok(Err(error)) => Probe {
                        status: "False",
                        message: String::new(),
                        error: error.to_string(),
                    },
                    Err(_) => Probe {
                        status: "False",
                        message: String::new(),
                        error: format!(
                            "storage did not answer within {}s",
                            STORAGE_TIMEOUT.as_secs()
                        ),
                    },
                }
            }
            Component::Https { address, .. } => {
                let url = format!("https://{address}/healthz");
                match tokio::time::timeout(PROBE_TIMEOUT, self.get(address)).await {
                    Ok(Ok((code, body))) if (200..400).contains(&code) => Probe {
                        status: "True",
                        message: body,
                        error: String::new(),
                    },
                    Ok(Ok((code, _))) => Probe {
                        status: "False",
                        message: format!("HTTP probe failed with statuscode: {code}"),
                        error: String::new(),
                    },
                    // A component that cannot be reached is unhealthy, not unknown:
                    // upstream's prober reports the connection error as the message.
                    Ok(Err(error)) => Probe {
                        status: "False",
                        message: format!("Get \"{url}\": {error}"),
                        error: String::new(),
                    },
                    Err(_) => Probe {
                        status: "False",
                        message: format!(
                            "Get \"{url}\": no response within {}s",
                            PROBE_TIMEOUT.as_secs()
                        ),
                        error: String::new(),
                    },
                }
            }
        }
    }

    /// `GET /healthz` over HTTPS on `address`; returns the status code and the body,
    /// cut to [`MAX_MESSAGE_BYTES`].
    async fn get(&self, address: &str) -> Result<(u16, String), String> {
        let stream = TcpStream::connect(address)
            .await
            .map_err(|error| format!("dial tcp {address}: {error}"))?;
        let host = address
            .rsplit_once(':')
            .map(|(host, _)| host)
            .unwrap_or(address)
            .trim_matches(|c| c == '[' || c == ']');

        let server_name = ServerName::try_from(host.to_string())
            .map_err(|error| format!("invalid host {host}: {error}"))?;
        let tls = self
            .connector
            .connect(server_name, stream)
            .await
            .map_err(|error| format!("tls: {error}"))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(tls))
                .await
                .map_err(|error| error.to_string())?;
        tokio::spawn(connection);

        let request = http::Request::get("/healthz")
            .header(http::header::HOST, address)
            .header(http::header::USER_AGENT, "kube-probe/1.33")
            .body(Empty::new())
            .map_err(|error| error.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|error| error.to_string())?;
        let code = response.status().as_u16();
        // Reading stops at the limit; a longer body is reported by its first bytes.
        let mut body = Vec::new();
        let mut incoming = response.into_body();
        while let Some(frame) = incoming.frame().await {
            let Ok(frame) = frame else { break };
            if let Ok(data) = frame.into_data() {
                body.extend_from_slice(&data);
                if body.len() >= MAX_MESSAGE_BYTES {
                    body.truncate(MAX_MESSAGE_BYTES);
                    break;
                }
            }
        }
        Ok((code, String::from_utf8_lossy(&body).into_owned()))
    }
}

fn resource() -> GroupResource {
    GroupResource::new("", "componentstatuses")
}

fn status_object(name: &str, probe: Probe) -> Value {
    let mut condition = json!({"type": "Healthy", "status": probe.status});
    if !probe.message.is_empty() {
        condition["message"] = json!(probe.message);
    }
    if !probe.error.is_empty() {
        condition["error"] = json!(probe.error);
    }
    json!({"metadata": {"name": name}, "conditions": [condition]})
}

fn table(items: &[Value], include_object: IncludeObject) -> Value {
    // Table rows embed the object with its type, as a get would return it.
    let typed: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut item = item.clone();
            item["kind"] = json!("ComponentStatus");
            item["apiVersion"] = json!("v1");
            item
        })
        .collect();
    crate::tables::table(
        "",
        "componentstatuses",
        &typed,
        include_object,
        json!({}),
        std::time::SystemTime::now(),
    )
}

fn to_bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}
