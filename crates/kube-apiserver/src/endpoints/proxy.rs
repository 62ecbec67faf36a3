//! The connect subresources that the API server forwards to a node's kubelet:
//! `pods/log`, `pods/exec`, `pods/attach`, `pods/portforward` and `nodes/proxy`.
//! `pods/proxy` and `services/proxy` go to the pod itself, in `backend_proxy`.
//!
//! [`serve`] finds the node from the pod's `spec.nodeName` or from the URL. It picks
//! the node's address by `--kubelet-preferred-address-types` and its port from
//! `status.daemonEndpoints.kubeletEndpoint`. The request goes to the kubelet over TLS
//! with the API server's kubelet client certificate. A request that upgrades the
//! connection (exec, attach and port-forward over WebSocket or SPDY) is answered with
//! the kubelet's `101 Switching Protocols` and then both connections are spliced, so
//! the streaming protocol passes through unchanged. Other responses are streamed back.
//!
//! One upgrade is translated instead: a port-forward WebSocket that offers a subprotocol
//! `SPDY/3.1+<protocol>` (kubectl 1.31 and later) tunnels raw SPDY bytes in binary
//! messages. The kubelet gets a plain `Upgrade: SPDY/3.1` request for `<protocol>`, and
//! after both upgrades [`bridge_tunnel`] moves the message payloads to and from the
//! kubelet's connection as a byte stream.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use apimachinery::errors::StatusError;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use super::Query;
use super::body::ApiBody;
use super::response::ApiResponse;
use crate::registry::store::Store;

/// The kubelet port used when a node does not report one.
const DEFAULT_KUBELET_PORT: u16 = 10250;

/// How long connecting to a kubelet (TCP and TLS) may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(10);

/// The prefix of WebSocket subprotocols that tunnel SPDY, as in
/// `SPDY/3.1+portforward.k8s.io`.
const SPDY_TUNNEL_PREFIX: &str = "SPDY/3.1+";

/// The `Upgrade` value of a SPDY/3.1 connection.
const SPDY_UPGRADE: &str = "SPDY/3.1";

/// The header that carries the negotiated stream protocol of a SPDY upgrade.
const STREAM_PROTOCOL_VERSION: &str = "x-stream-protocol-version";

/// A client WebSocket that tunnels SPDY, to be answered once the kubelet upgraded.
pub(super) struct SpdyTunnel {
    /// The client's `Sec-WebSocket-Key`.
    key: String,
}

/// The address types tried in order when the flag is not given. This is kubeadm's
/// setting; upstream's built-in default puts Hostname first, which needs node names
/// that resolve.
pub const DEFAULT_PREFERRED_ADDRESS_TYPES: &str = "InternalIP,ExternalIP,Hostname";

/// Returns the connect subresources this module serves for a resource.
pub fn served(group: &str, resource: &str) -> &'static [&'static str] {
    match (group, resource) {
        ("", "pods") => &["log", "exec", "attach", "portforward", "proxy"],
        ("", "nodes") => &["proxy"],
        ("", "services") => &["proxy"],
        _ => &[],
    }
}

/// A failure to set up the kubelet client from the flags.
#[derive(Debug, thiserror::Error)]
pub enum KubeletClientError {
    /// A certificate or key file could not be read or parsed.
    #[error("failed to load {path}: {message}")]
    Load {
        /// The file.
        path: String,
        /// The reason.
        message: String,
    },
    /// rustls rejected the certificate and key.
    #[error("invalid kubelet client certificate: {0}")]
    Tls(#[from] rustls::Error),
}

/// The API server's client for kubelet connections.
pub struct KubeletClient {
    connector: TlsConnector,
    preferred_address_types: Vec<String>,
}

impl KubeletClient {
    /// Builds the client from `--kubelet-client-certificate`/`--kubelet-client-key`
    /// (both or neither), `--kubelet-certificate-authority` and
    /// `--kubelet-preferred-address-types`. Without a CA the kubelet's serving
    /// certificate is not verified, which is upstream's default too.
    pub fn new(
        client_certificate: Option<&Path>,
        client_key: Option<&Path>,
        certificate_authority: Option<&Path>,
        preferred_address_types: &str,
    ) -> Result<KubeletClient, KubeletClientError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let builder = match certificate_authority {
            Some(path) => {
                let mut roots = rustls::RootCertStore::empty();
                for certificate in read_certificates(path)? {
                    roots.add(certificate)?;
                }
                builder.with_root_certificates(roots)
            }
            None => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(UnverifiedKubelet { provider })),
        };
        let config = match (client_certificate, client_key) {
            (Some(certificate), Some(key)) => {
                builder.with_client_auth_cert(read_certificates(certificate)?, read_key(key)?)?
            }
            _ => builder.with_no_client_auth(),
        };
        Ok(KubeletClient {
            connector: TlsConnector::from(Arc::new(config)),
            preferred_address_types: preferred_address_types
                .split(',')
                .map(|kind| kind.trim().to_string())
                .filter(|kind| !kind.is_empty())
                .collect(),
        })
    }

    /// Returns the host and port of the node's kubelet.
    fn location(&self, node: &Value) -> Result<(String, u16), StatusError> {
        let name = node
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let addresses = node
            .pointer("/status/addresses")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let host = self
            .preferred_address_types
            .iter()
            .find_map(|kind| {
                addresses.iter().find_map(|address| {
                    (address["type"] == kind.as_str())
                        .then(|| address["address"].as_str().map(str::to_string))
                        .flatten()
                })
            })
            .ok_or_else(|| {
                StatusError::bad_request(format!(
                    "no preferred addresses found; known addresses: {}",
                    serde_json::to_string(&addresses).unwrap_or_default()
                ))
            })?;
        let port = node
            .pointer("/status/daemonEndpoints/kubeletEndpoint/Port")
            .and_then(Value::as_u64)
            .and_then(|port| u16::try_from(port).ok())
            .filter(|port| *port != 0)
            .unwrap_or(DEFAULT_KUBELET_PORT);
        tracing::trace!(node = name, %host, port, "kubelet location");
        Ok((host, port))
    }

    /// Sends one request to the kubelet at `host:port` and relays the response.
    async fn forward(
        &self,
        host: &str,
        port: u16,
        request: Request<Full<Bytes>>,
        on_upgrade: Option<OnUpgrade>,
        relay_errors: bool,
        tunnel: Option<SpdyTunnel>,
    ) -> Result<ApiResponse, StatusError> {
        let unreachable = |error: &dyn std::fmt::Display| {
            StatusError::internal_error(format!("error dialing backend: {error}"))
        };
        let dial = async {
            let tcp = TcpStream::connect((host, port)).await?;
            let server_name = ServerName::try_from(host.to_string())
                .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidInput, error))?;
            self.connector.connect(server_name, tcp).await
        };
        let tls = tokio::time::timeout(DIAL_TIMEOUT, dial)
            .await
            .map_err(|_| unreachable(&"timed out"))?
            .map_err(|error| unreachable(&error))?;
        relay(
            tls,
            request,
            on_upgrade,
            relay_errors,
            tunnel,
            ResponseHeaders::Kubelet,
        )
        .await
    }
}

/// The set of response headers that [`relay`] passes back to the client.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ResponseHeaders {
    /// Content-Type, Cache-Control and Location, all a kubelet response needs.
    Kubelet,
    /// Every header but the hop-by-hop ones, as a generic HTTP proxy passes them.
    EndToEnd,
}

/// Sends `request` over `io`, an established connection to the backend, and relays
/// the response: an upgrade is spliced (or bridged for a SPDY tunnel), an error is
/// turned into a Status unless `relay_errors`, anything else is streamed back.
pub(super) async fn relay<S>(
    io: S,
    request: Request<Full<Bytes>>,
    on_upgrade: Option<OnUpgrade>,
    relay_errors: bool,
    tunnel: Option<SpdyTunnel>,
    response_headers: ResponseHeaders,
) -> Result<ApiResponse, StatusError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let unreachable = |error: &dyn std::fmt::Display| {
        StatusError::internal_error(format!("error dialing backend: {error}"))
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|error| unreachable(&error))?;
    tokio::spawn(async move {
        if let Err(error) = connection.with_upgrades().await {
            tracing::debug!(%error, "kubelet connection ended");
        }
    });

    let mut response = sender
        .send_request(request)
        .await
        .map_err(|error| unreachable(&error))?;

    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        let Some(client) = on_upgrade else {
            return Err(StatusError::internal_error(
                "the kubelet upgraded a connection that the client did not ask to upgrade",
            ));
        };
        let backend = hyper::upgrade::on(&mut response);
        if let Some(tunnel) = tunnel {
            let relayed = tunnel_response(response.headers(), &tunnel)?;
            tokio::spawn(bridge_tunnel(client, backend));
            return Ok(relayed);
        }
        tokio::spawn(splice(client, backend));
        let mut relayed = http::Response::new(ApiBody::empty());
        *relayed.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        *relayed.headers_mut() = response.headers().clone();
        return Ok(relayed);
    }

    let status = response.status();
    if !status.is_success() && !relay_errors {
        let body = response
            .into_body()
            .collect()
            .await
            .map(|body| body.to_bytes());
        let message = body
            .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
            .unwrap_or_default();
        return Err(kubelet_error(status, message));
    }

    let headers = response.headers().clone();
    let (sender, receiver) = mpsc::channel(16);
    let mut body = response.into_body();
    tokio::spawn(async move {
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { break };
            if let Ok(data) = frame.into_data()
                && sender.send(data).await.is_err()
            {
                break;
            }
        }
    });
    let mut relayed = http::Response::new(ApiBody::Stream(receiver));
    *relayed.status_mut() = status;
    match response_headers {
        ResponseHeaders::Kubelet => {
            for name in [
                header::CONTENT_TYPE,
                header::CACHE_CONTROL,
                header::LOCATION,
            ] {
                if let Some(value) = headers.get(&name) {
                    relayed.headers_mut().insert(name, value.clone());
                }
            }
        }
        ResponseHeaders::EndToEnd => {
            for (name, value) in &headers {
                if !is_hop_by_hop(name) && *name != header::CONTENT_LENGTH {
                    relayed.headers_mut().append(name.clone(), value.clone());
                }
            }
        }
    }
    Ok(relayed)
}

/// Maps a kubelet error response onto the Status the client gets.
fn kubelet_error(status: StatusCode, message: String) -> StatusError {
    let message = if message.is_empty() {
        format!("the kubelet returned {status}")
    } else {
        message
    };
    match status {
        StatusCode::BAD_REQUEST => StatusError::bad_request(message),
        StatusCode::NOT_FOUND => StatusError::from_status(apimachinery::errors::Status::failure(
            404,
            apimachinery::errors::StatusReason::NotFound,
            message,
        )),
        _ => StatusError::internal_error(message),
    }
}

/// Copies bytes both ways between the client's and the kubelet's upgraded
/// connections until either side closes.
async fn splice(client: OnUpgrade, backend: OnUpgrade) {
    let (client, backend) = match tokio::try_join!(client, backend) {
        Ok(pair) => pair,
        Err(error) => {
            tracing::debug!(%error, "connection upgrade failed");
            return;
        }
    };
    let mut client = TokioIo::new(client);
    let mut backend = TokioIo::new(backend);
    if let Err(error) = tokio::io::copy_bidirectional(&mut client, &mut backend).await {
        tracing::debug!(%error, "streaming connection ended");
    }
}

/// Returns the SPDY protocols a WebSocket request tunnels: its `SPDY/3.1+` subprotocols
/// for Kubernetes stream protocols, without the prefix. Empty for any other request.
fn spdy_tunnel_protocols(headers: &HeaderMap) -> Vec<String> {
    let websocket = headers
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
    if !websocket {
        return Vec::new();
    }
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter_map(|protocol| protocol.strip_prefix(SPDY_TUNNEL_PREFIX))
        .filter(|protocol| protocol.ends_with(".k8s.io"))
        .map(str::to_string)
        .collect()
}

/// Rewrites the kubelet request of a tunnel into a SPDY upgrade for `protocols`.
fn spdy_upgrade_headers(headers: &mut HeaderMap, protocols: &[String]) {
    for name in [
        header::SEC_WEBSOCKET_PROTOCOL,
        header::SEC_WEBSOCKET_KEY,
        header::SEC_WEBSOCKET_VERSION,
        header::SEC_WEBSOCKET_EXTENSIONS,
        header::UPGRADE,
        header::CONNECTION,
        HeaderName::from_static(STREAM_PROTOCOL_VERSION),
    ] {
        headers.remove(name);
    }
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static(SPDY_UPGRADE));
    for protocol in protocols {
        if let Ok(value) = HeaderValue::from_str(protocol) {
            headers.append(STREAM_PROTOCOL_VERSION, value);
        }
    }
}

/// Builds the client's `101 Switching Protocols` to WebSocket from the kubelet's SPDY
/// upgrade, carrying the protocol the kubelet chose as `SPDY/3.1+<protocol>`.
fn tunnel_response(backend: &HeaderMap, tunnel: &SpdyTunnel) -> Result<ApiResponse, StatusError> {
    let value = |name: &str| {
        backend
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    if !value("connection").to_ascii_lowercase().contains("upgrade")
        || !value("upgrade")
            .to_ascii_lowercase()
            .contains(&SPDY_UPGRADE.to_ascii_lowercase())
    {
        return Err(StatusError::internal_error(
            "unable to upgrade: missing upgrade headers in the kubelet's response",
        ));
    }
    let mut relayed = http::Response::new(ApiBody::empty());
    *relayed.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = relayed.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(tunnel.key.as_bytes())) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    let protocol = value(STREAM_PROTOCOL_VERSION);
    if !protocol.trim().is_empty()
        && let Ok(protocol) =
            HeaderValue::from_str(&format!("{SPDY_TUNNEL_PREFIX}{}", protocol.trim()))
    {
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    Ok(relayed)
}

/// Moves bytes between the client's WebSocket and the kubelet's SPDY connection: each
/// binary message's payload goes to the kubelet, and each read from the kubelet goes
/// back as one binary message. SPDY frames may span messages, so message boundaries
/// carry no meaning. A close from the client half-closes the kubelet connection, and
/// the kubelet's EOF closes the WebSocket with status 1000.
async fn bridge_tunnel(client: OnUpgrade, backend: OnUpgrade) {
    let (client, backend) = match tokio::try_join!(client, backend) {
        Ok(pair) => pair,
        Err(error) => {
            tracing::debug!(%error, "connection upgrade failed");
            return;
        }
    };
    let socket = WebSocketStream::from_raw_socket(TokioIo::new(client), Role::Server, None).await;
    let (mut sink, mut messages) = socket.split();
    let (mut backend_read, mut backend_write) = tokio::io::split(TokioIo::new(backend));

    let to_kubelet = async {
        while let Some(message) = messages.next().await {
            match message {
                Ok(Message::Binary(data)) => {
                    if backend_write.write_all(&data).await.is_err() {
                        break;
                    }
                }
                Ok(Message::Close(_)) => break,
                Ok(Message::Text(_)) => {
                    tracing::debug!("text message in a SPDY tunnel; closing it");
                    break;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::debug!(%error, "SPDY tunnel read failed");
                    break;
                }
            }
        }
        let _ = backend_write.shutdown().await;
    };
    let to_client = async {
        let mut buffer = vec![0u8; 32 * 1024];
        loop {
            match backend_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(count) => {
                    if sink
                        .send(Message::binary(buffer[..count].to_vec()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
        let close = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        let _ = sink.send(Message::Close(Some(close))).await;
        let _ = sink.close().await;
    };
    tokio::pin!(to_kubelet, to_client);
    // After the client's close the kubelet still finishes its side; after the
    // kubelet's EOF nothing more can reach the client.
    tokio::select! {
        _ = &mut to_kubelet => to_client.await,
        _ = &mut to_client => {}
    }
}

/// Serves a connect subresource of a pod or node.
#[allow(clippy::too_many_arguments)]
pub async fn serve(
    kubelet: Option<&KubeletClient>,
    pods_or_nodes: &Store,
    nodes: &Store,
    subresource: &str,
    namespace: &str,
    name: &str,
    proxy_path: &str,
    parts: &http::request::Parts,
    body: Bytes,
    query: &Query,
    on_upgrade: Option<OnUpgrade>,
) -> Result<ApiResponse, StatusError> {
    let Some(kubelet) = kubelet else {
        return Err(StatusError::service_unavailable(
            "the API server has no kubelet client configured",
        ));
    };
    let object = pods_or_nodes.get(namespace, name).await?;

    let (node_name, path, relay_errors) = if subresource == "proxy" {
        let path = format!("/{}", proxy_path.trim_start_matches('/'));
        (name.to_string(), with_query(&path, parts.uri.query()), true)
    } else {
        let node_name = object
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .filter(|node| !node.is_empty())
            .ok_or_else(|| {
                StatusError::bad_request(format!("pod {name} does not have a host assigned"))
            })?
            .to_string();
        let path = pod_stream_path(&object, subresource, namespace, name, query)?;
        (node_name, path, false)
    };

    let node = nodes.get("", &node_name).await?;
    let (host, port) = kubelet.location(&node)?;

    let upgrading = parts
        .headers
        .get(header::CONNECTION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("upgrade"));
    if matches!(subresource, "exec" | "attach" | "portforward") && !upgrading {
        return Err(StatusError::bad_request("Upgrade request required"));
    }

    let tunnel_protocols = if subresource == "portforward" && upgrading {
        spdy_tunnel_protocols(&parts.headers)
    } else {
        Vec::new()
    };
    let tunnel = (!tunnel_protocols.is_empty()).then(|| SpdyTunnel {
        key: parts
            .headers
            .get(header::SEC_WEBSOCKET_KEY)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_string(),
    });
    if tunnel.as_ref().is_some_and(|tunnel| tunnel.key.is_empty()) {
        return Err(StatusError::bad_request("Sec-WebSocket-Key is missing"));
    }

    // A SPDY upgrade is a POST, as upstream's tunnelling handler sends it.
    let method = if tunnel.is_some() {
        Method::POST
    } else if subresource == "proxy" || upgrading {
        parts.method.clone()
    } else {
        Method::GET
    };
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .body(Full::new(if subresource == "proxy" {
            body
        } else {
            Bytes::new()
        }))
        .map_err(|error| StatusError::bad_request(format!("invalid proxy request: {error}")))?;
    copy_headers(&parts.headers, request.headers_mut(), upgrading);
    if tunnel.is_some() {
        spdy_upgrade_headers(request.headers_mut(), &tunnel_protocols);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("{host}:{port}")) {
        request.headers_mut().insert(header::HOST, value);
    }

    tracing::debug!(node = %node_name, subresource, namespace, name, "forwarding to the kubelet");
    kubelet
        .forward(
            &host,
            port,
            request,
            upgrading.then_some(on_upgrade).flatten(),
            relay_errors,
            tunnel,
        )
        .await
}

/// Builds the kubelet path of a pod stream from the request's options, validating
/// the container name as upstream does.
fn pod_stream_path(
    pod: &Value,
    subresource: &str,
    namespace: &str,
    name: &str,
    query: &Query,
) -> Result<String, StatusError> {
    let mut params: Vec<(String, String)> = Vec::new();
    let path = match subresource {
        "portforward" => {
            for port in query.all("ports") {
                params.push(("port".to_string(), port.to_string()));
            }
            format!("/portForward/{namespace}/{name}")
        }
        "log" => {
            let container = container_name(pod, name, query.get("container"))?;
            for flag in ["follow", "previous", "timestamps"] {
                if query.flag(flag) {
                    params.push((flag.to_string(), "true".to_string()));
                }
            }
            for option in ["sinceSeconds", "sinceTime", "tailLines", "limitBytes"] {
                if let Some(value) = query.get(option) {
                    params.push((option.to_string(), value.to_string()));
                }
            }
            format!("/containerLogs/{namespace}/{name}/{container}")
        }
        "exec" | "attach" => {
            let container = container_name(pod, name, query.get("container"))?;
            // The kubelet's streaming options are named input, output, error and tty.
            for (option, kubelet_option) in [
                ("stdin", "input"),
                ("stdout", "output"),
                ("stderr", "error"),
                ("tty", "tty"),
            ] {
                if query.flag(option) {
                    params.push((kubelet_option.to_string(), "1".to_string()));
                }
            }
            if subresource == "exec" {
                let commands = query.all("command");
                if commands.is_empty() {
                    return Err(StatusError::bad_request(
                        "you must specify at least 1 command",
                    ));
                }
                for command in commands {
                    params.push(("command".to_string(), command.to_string()));
                }
            }
            format!("/{subresource}/{namespace}/{name}/{container}")
        }
        other => {
            return Err(StatusError::bad_request(format!(
                "unsupported pod subresource {other}"
            )));
        }
    };
    let encoded: Vec<String> = params
        .iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect();
    Ok(if encoded.is_empty() {
        path
    } else {
        format!("{path}?{}", encoded.join("&"))
    })
}

/// Returns the container a pod stream is for: the named one, or the only one.
fn container_name(
    pod: &Value,
    pod_name: &str,
    requested: Option<&str>,
) -> Result<String, StatusError> {
    let names = |field: &str| -> Vec<String> {
        pod.pointer(&format!("/spec/{field}"))
            .and_then(Value::as_array)
            .map(|containers| {
                containers
                    .iter()
                    .filter_map(|container| container["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let containers = names("containers");
    let init_containers = names("initContainers");
    let ephemeral_containers = names("ephemeralContainers");

    match requested.filter(|name| !name.is_empty()) {
        Some(name) => {
            let known = containers
                .iter()
                .chain(&init_containers)
                .chain(&ephemeral_containers)
                .any(|container| container == name);
            if known {
                Ok(name.to_string())
            } else {
                Err(StatusError::bad_request(format!(
                    "container {name} is not valid for pod {pod_name}"
                )))
            }
        }
        None if containers.len() == 1 => Ok(containers[0].clone()),
        None => {
            let mut message = format!(
                "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                containers.join(" ")
            );
            if !init_containers.is_empty() {
                message.push_str(&format!(
                    " or one of the init containers: [{}]",
                    init_containers.join(" ")
                ));
            }
            Err(StatusError::bad_request(message))
        }
    }
}

/// Copies the request headers the kubelet needs. Hop-by-hop headers are dropped
/// unless the connection is being upgraded, and credentials meant for the API server
/// never reach the kubelet.
pub(super) fn copy_headers(from: &HeaderMap, to: &mut HeaderMap, upgrading: bool) {
    for (name, value) in from {
        if (is_hop_by_hop(name) && !upgrading)
            || *name == header::AUTHORIZATION
            || *name == header::HOST
            || *name == header::CONTENT_LENGTH
            || name.as_str().starts_with("impersonate-")
        {
            continue;
        }
        to.append(HeaderName::clone(name), value.clone());
    }
}

/// Returns whether a header describes one connection rather than the message.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "upgrade"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
    )
}

pub(super) fn with_query(path: &str, query: Option<&str>) -> String {
    match query {
        Some(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path.to_string(),
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
fn encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, KubeletClientError> {
    let load_error = |message: String| KubeletClientError::Load {
        path: path.display().to_string(),
        message,
    };
    let pem = std::fs::read(path).map_err(|error| load_error(error.to_string()))?;
    let certificates: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|error| load_error(error.to_string()))?;
    if certificates.is_empty() {
        return Err(load_error("no certificate found".to_string()));
    }
    Ok(certificates)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, KubeletClientError> {
    let load_error = |message: String| KubeletClientError::Load {
        path: path.display().to_string(),
        message,
    };
    let pem = std::fs::read(path).map_err(|error| load_error(error.to_string()))?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|error| load_error(error.to_string()))?
        .ok_or_else(|| load_error("no private key found".to_string()))
}

/// A TLS connector that accepts any server certificate, for health probes of
/// components whose serving certificates the API server has no CA for.
pub fn unverified_connector() -> TlsConnector {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(UnverifiedKubelet { provider }))
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// Accepts any kubelet serving certificate while still checking the handshake
/// signatures, as upstream does when `--kubelet-certificate-authority` is not set.
#[derive(Debug)]
struct UnverifiedKubelet {
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for UnverifiedKubelet {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod() -> Value {
        json!({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "nodeName": "node1",
                "containers": [{"name": "app"}, {"name": "sidecar"}],
                "initContainers": [{"name": "setup"}],
            }
        })
    }

    #[test]
    fn container_required_when_several() {
        let error = container_name(&pod(), "web", None).unwrap_err();
        assert_eq!(error.code(), 400);
        assert_eq!(
            error.message(),
            "a container name must be specified for pod web, choose one of: [app sidecar] or one of the init containers: [setup]"
        );
    }

    #[test]
    fn container_unknown_rejected() {
        let error = container_name(&pod(), "web", Some("db")).unwrap_err();
        assert_eq!(error.message(), "container db is not valid for pod web");
    }

    #[test]
    fn init_container_accepted() {
        assert_eq!(
            container_name(&pod(), "web", Some("setup")).unwrap(),
            "setup"
        );
    }

    #[test]
    fn exec_path_carries_kubelet_options() {
        let query = Query::parse(
            "command=sh&command=-c&command=echo%20hi&stdout=true&stderr=true&container=app",
        );
        let path = pod_stream_path(&pod(), "exec", "default", "web", &query).unwrap();
        assert_eq!(
            path,
            "/exec/default/web/app?output=1&error=1&command=sh&command=-c&command=echo%20hi"
        );
    }

    #[test]
    fn exec_without_command_rejected() {
        let query = Query::parse("stdout=true&container=app");
        let error = pod_stream_path(&pod(), "exec", "default", "web", &query).unwrap_err();
        assert_eq!(error.code(), 400);
    }

    #[test]
    fn log_path_carries_options() {
        let query = Query::parse("container=app&follow=true&tailLines=10&timestamps=true");
        let path = pod_stream_path(&pod(), "log", "default", "web", &query).unwrap();
        assert_eq!(
            path,
            "/containerLogs/default/web/app?follow=true&timestamps=true&tailLines=10"
        );
    }

    #[test]
    fn portforward_path_lists_ports() {
        let query = Query::parse("ports=80&ports=8080");
        let path = pod_stream_path(&pod(), "portforward", "default", "web", &query).unwrap();
        assert_eq!(path, "/portForward/default/web?port=80&port=8080");
    }

    #[test]
    fn tunnel_protocols_strip_the_spdy_prefix() {
        let mut headers = HeaderMap::new();
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(
                "SPDY/3.1+portforward.k8s.io, v4.channel.k8s.io, SPDY/3.1+other.example",
            ),
        );
        assert_eq!(spdy_tunnel_protocols(&headers), vec!["portforward.k8s.io"]);

        headers.insert(header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
        assert!(spdy_tunnel_protocols(&headers).is_empty());
    }

    #[test]
    fn tunnel_request_becomes_spdy_upgrade() {
        let mut headers = HeaderMap::new();
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(header::SEC_WEBSOCKET_KEY, HeaderValue::from_static("a2V5"));
        headers.insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("SPDY/3.1+portforward.k8s.io"),
        );
        headers.insert(header::USER_AGENT, HeaderValue::from_static("kubectl"));
        spdy_upgrade_headers(&mut headers, &["portforward.k8s.io".to_string()]);
        assert_eq!(headers[header::UPGRADE], "SPDY/3.1");
        assert_eq!(headers[header::CONNECTION], "Upgrade");
        assert_eq!(headers[STREAM_PROTOCOL_VERSION], "portforward.k8s.io");
        assert_eq!(headers[header::USER_AGENT], "kubectl");
        for name in [
            "sec-websocket-key",
            "sec-websocket-version",
            "sec-websocket-protocol",
        ] {
            assert!(!headers.contains_key(name), "{name} reached the kubelet");
        }
    }

    #[test]
    fn tunnel_response_answers_the_websocket() {
        let mut backend = HeaderMap::new();
        backend.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        backend.insert(header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
        backend.insert(
            STREAM_PROTOCOL_VERSION,
            HeaderValue::from_static("portforward.k8s.io"),
        );
        let tunnel = SpdyTunnel {
            // The sample key of RFC 6455, section 1.3.
            key: "dGhlIHNhbXBsZSBub25jZQ==".to_string(),
        };
        let response = tunnel_response(&backend, &tunnel).unwrap();
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        let headers = response.headers();
        assert_eq!(headers[header::UPGRADE], "websocket");
        assert_eq!(
            headers[header::SEC_WEBSOCKET_ACCEPT],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(
            headers[header::SEC_WEBSOCKET_PROTOCOL],
            "SPDY/3.1+portforward.k8s.io"
        );

        backend.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        let Err(error) = tunnel_response(&backend, &tunnel) else {
            panic!("a response without Upgrade: SPDY/3.1 was accepted");
        };
        assert_eq!(error.code(), 500);
    }

    #[test]
    fn location_prefers_internal_ip() {
        let client = KubeletClient::new(None, None, None, DEFAULT_PREFERRED_ADDRESS_TYPES).unwrap();
        let node = json!({
            "metadata": {"name": "node1"},
            "status": {
                "addresses": [
                    {"type": "Hostname", "address": "node1"},
                    {"type": "InternalIP", "address": "10.0.0.5"}
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10255}}
            }
        });
        assert_eq!(
            client.location(&node).unwrap(),
            ("10.0.0.5".to_string(), 10255)
        );
    }

    #[test]
    fn location_without_addresses_rejected() {
        let client = KubeletClient::new(None, None, None, DEFAULT_PREFERRED_ADDRESS_TYPES).unwrap();
        let error = client
            .location(&json!({"metadata": {"name": "n"}}))
            .unwrap_err();
        assert_eq!(error.code(), 400);
    }
}
