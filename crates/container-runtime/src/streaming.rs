//! The streaming server behind `Exec`, `Attach` and `PortForward`. Each CRI call
//! returns a one-time URL on this server. The kubelet, or any client given the URL,
//! upgrades it to a WebSocket (`v5.channel.k8s.io`, `v4.channel.k8s.io`,
//! `channel.k8s.io`) or to SPDY/3.1 (`v4.channel.k8s.io` down to `channel.k8s.io` for
//! exec and attach, `portforward.k8s.io` for port-forward).
//!
//! Exec and attach sessions run in [`crate::remotecommand`], whatever the transport;
//! port-forward sessions in [`crate::portforward`].
//!
//! Entry points: [`StreamingServer::bind`], then [`StreamingServer::serve`]; the CRI
//! service calls [`StreamingServer::exec_url`], [`StreamingServer::attach_url`] and
//! [`StreamingServer::port_forward_url`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::error::{Error, Result};
use crate::remotecommand;
use crate::runtime::Runtime;

/// How long an exec URL stays valid, as upstream's streaming server allows.
const TOKEN_TTL: Duration = Duration::from_secs(60);

/// Subprotocols in order of preference.
const PROTOCOLS: &[&str] = &["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"];

/// A streaming session waiting for its client to connect.
#[derive(Clone, Debug)]
pub enum Session {
    Exec(PendingExec),
    PortForward(crate::portforward::PendingPortForward),
    Attach(PendingAttach),
}

/// An attach request waiting for its client to connect.
#[derive(Clone, Debug)]
pub struct PendingAttach {
    pub container_id: String,
    /// The shim's attach socket.
    pub socket: std::path::PathBuf,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// The container runs in a terminal, which attach clients may resize.
    pub tty: bool,
}

impl Session {
    fn path(&self) -> &'static str {
        match self {
            Session::Exec(_) => "exec",
            Session::PortForward(_) => "portforward",
            Session::Attach(_) => "attach",
        }
    }
}

/// An exec request waiting for its client to connect.
#[derive(Clone, Debug)]
pub struct PendingExec {
    pub container_id: String,
    pub cmd: Vec<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

/// The HTTP server that runs exec sessions for one-time tokens.
pub struct StreamingServer {
    address: SocketAddr,
    pending: Mutex<HashMap<String, (Session, Instant)>>,
}

impl StreamingServer {
    /// Binds `address` (`host:port`, port 0 picks a free one).
    pub async fn bind(address: &str) -> Result<(Arc<StreamingServer>, tokio::net::TcpListener)> {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|error| {
                Error::Internal(format!(
                    "failed to bind streaming server to {address}: {error}"
                ))
            })?;
        let address = listener
            .local_addr()
            .map_err(|error| Error::Internal(error.to_string()))?;
        tracing::info!(%address, "streaming server listening");
        Ok((
            Arc::new(StreamingServer {
                address,
                pending: Mutex::new(HashMap::new()),
            }),
            listener,
        ))
    }

    /// Registers an exec session and returns its one-time URL.
    pub fn exec_url(&self, request: PendingExec) -> String {
        self.register(Session::Exec(request))
    }

    /// Registers a port-forward session and returns its one-time URL.
    pub fn port_forward_url(&self, request: crate::portforward::PendingPortForward) -> String {
        self.register(Session::PortForward(request))
    }

    /// Registers an attach session and returns its one-time URL.
    pub fn attach_url(&self, request: PendingAttach) -> String {
        self.register(Session::Attach(request))
    }

    fn register(&self, session: Session) -> String {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let path = session.path();
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        pending.retain(|_, (_, created)| created.elapsed() < TOKEN_TTL);
        pending.insert(token.clone(), (session, Instant::now()));
        format!("http://{}/{path}/{token}", self.address)
    }

    fn take(&self, path: &str, token: &str) -> Option<Session> {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if pending
            .get(token)
            .is_none_or(|(session, _)| session.path() != path)
        {
            return None;
        }
        let (session, created) = pending.remove(token)?;
        (created.elapsed() < TOKEN_TTL).then_some(session)
    }

    /// Accepts connections until the listener fails.
    pub async fn serve(self: Arc<Self>, listener: tokio::net::TcpListener, runtime: Arc<Runtime>) {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "streaming server accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let server = self.clone();
            let runtime = runtime.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let server = server.clone();
                    let runtime = runtime.clone();
                    async move { Ok::<_, std::convert::Infallible>(server.handle(request, runtime)) }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades();
                if let Err(error) = connection.await {
                    tracing::debug!(%peer, %error, "streaming connection ended with an error");
                }
            });
        }
    }

    fn handle(&self, request: Request<Incoming>, runtime: Arc<Runtime>) -> Response<Full<Bytes>> {
        let reply = |status: StatusCode, message: &str| {
            let mut response = Response::new(Full::new(Bytes::from(format!("{message}\n"))));
            *response.status_mut() = status;
            response
        };
        let path = request.uri().path().to_string();
        let Some((kind, token)) = path.trim_start_matches('/').split_once('/') else {
            return reply(StatusCode::NOT_FOUND, "not found");
        };
        let query = request.uri().query().unwrap_or_default().to_string();
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("")
        };
        if header("upgrade")
            .to_ascii_lowercase()
            .contains(&crate::spdy::UPGRADE.to_ascii_lowercase())
        {
            return self.upgrade_spdy(request, kind, token, runtime);
        }
        if !header("upgrade").eq_ignore_ascii_case("websocket") {
            return reply(
                StatusCode::BAD_REQUEST,
                "unable to upgrade: expected Upgrade: websocket (v4/v5.channel.k8s.io) or SPDY/3.1",
            );
        }
        let offered: Vec<&str> = header("sec-websocket-protocol")
            .split(',')
            .map(str::trim)
            .collect();
        let Some(protocol) = PROTOCOLS.iter().find(|protocol| offered.contains(protocol)) else {
            return reply(
                StatusCode::BAD_REQUEST,
                "no supported subprotocol; offer v5.channel.k8s.io or v4.channel.k8s.io",
            );
        };
        let key = header("sec-websocket-key").to_string();
        if key.is_empty() {
            return reply(StatusCode::BAD_REQUEST, "Sec-WebSocket-Key is missing");
        }
        let Some(session) = self.take(kind, token) else {
            return reply(StatusCode::NOT_FOUND, "unknown or expired streaming token");
        };

        let protocol = protocol.to_string();
        let mut request = request;
        let upgrade = hyper::upgrade::on(&mut request);
        let session_protocol = protocol.clone();
        tokio::spawn(async move {
            match upgrade.await {
                Ok(upgraded) => {
                    let socket = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        None,
                    )
                    .await;
                    tracing::info!(protocol = %session_protocol, kind = session.path(), "WebSocket streaming session upgraded");
                    match session {
                        Session::Exec(exec) => {
                            remotecommand::websocket::serve(socket, |input, output| {
                                remotecommand::run_exec(runtime, exec, input, output)
                            })
                            .await
                        }
                        Session::Attach(attach) => {
                            remotecommand::websocket::serve(socket, |input, output| {
                                remotecommand::run_attach(attach, input, output)
                            })
                            .await
                        }
                        Session::PortForward(forward) => {
                            crate::portforward::run(socket, forward, &query).await
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "streaming upgrade failed"),
            }
        });

        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert("connection", "Upgrade".parse().expect("static header"));
        headers.insert("upgrade", "websocket".parse().expect("static header"));
        if let Ok(accept) = derive_accept_key(key.as_bytes()).parse() {
            headers.insert("sec-websocket-accept", accept);
        }
        if let Ok(protocol) = protocol.parse() {
            headers.insert("sec-websocket-protocol", protocol);
        }
        response
    }
}

impl StreamingServer {
    /// Upgrades an `Upgrade: SPDY/3.1` request. It negotiates the stream protocol from the
    /// `X-Stream-Protocol-Version` headers as upstream's `httpstream.Handshake` does,
    /// then switches protocols and serves the session.
    fn upgrade_spdy(
        &self,
        mut request: Request<Incoming>,
        kind: &str,
        token: &str,
        runtime: Arc<Runtime>,
    ) -> Response<Full<Bytes>> {
        let reply = |status: StatusCode, message: String| {
            let mut response = Response::new(Full::new(Bytes::from(format!("{message}\n"))));
            *response.status_mut() = status;
            response
        };
        let connection_upgrade = request
            .headers()
            .get_all(hyper::header::CONNECTION)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .any(|value| value.to_ascii_lowercase().contains("upgrade"));
        if !connection_upgrade {
            return reply(
                StatusCode::BAD_REQUEST,
                "unable to upgrade: missing Connection: Upgrade".to_string(),
            );
        }
        let supported = match kind {
            "portforward" => crate::portforward::SPDY_PROTOCOLS,
            "exec" | "attach" => remotecommand::spdy::PROTOCOLS,
            _ => return reply(StatusCode::NOT_FOUND, "not found".to_string()),
        };
        let offered: Vec<String> = request
            .headers()
            .get_all(crate::spdy::PROTOCOL_VERSION_HEADER)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|protocol| protocol.trim().to_string())
            .filter(|protocol| !protocol.is_empty())
            .collect();
        if offered.is_empty() {
            return reply(
                StatusCode::BAD_REQUEST,
                format!(
                    "unable to upgrade: {} is required",
                    crate::spdy::PROTOCOL_VERSION_HEADER
                ),
            );
        }
        let Some(protocol) = crate::spdy::negotiate(&offered, supported).map(str::to_string) else {
            let mut response = reply(
                StatusCode::FORBIDDEN,
                format!(
                    "unable to upgrade: unable to negotiate protocol: client supports {offered:?}, server accepts {supported:?}"
                ),
            );
            for protocol in supported {
                response.headers_mut().append(
                    crate::spdy::ACCEPTED_PROTOCOL_VERSIONS_HEADER,
                    hyper::header::HeaderValue::from_static(protocol),
                );
            }
            return response;
        };
        let Some(session) = self.take(kind, token) else {
            return reply(
                StatusCode::NOT_FOUND,
                "unknown or expired streaming token".to_string(),
            );
        };

        let upgrade = hyper::upgrade::on(&mut request);
        let session_protocol = protocol.clone();
        tokio::spawn(async move {
            let io = match upgrade.await {
                Ok(upgraded) => TokioIo::new(upgraded),
                Err(error) => {
                    tracing::warn!(%error, "streaming upgrade failed");
                    return;
                }
            };
            serve_spdy(io, session, &session_protocol, runtime).await;
        });

        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert("connection", "Upgrade".parse().expect("static header"));
        headers.insert(
            "upgrade",
            crate::spdy::UPGRADE.parse().expect("static header"),
        );
        if let Ok(protocol) = protocol.parse() {
            headers.insert(crate::spdy::PROTOCOL_VERSION_HEADER, protocol);
        }
        response
    }
}

/// Serves a session on an upgraded SPDY/3.1 connection, in the negotiated `protocol`.
async fn serve_spdy<IO>(io: IO, session: Session, protocol: &str, runtime: Arc<Runtime>)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    use remotecommand::spdy::{StreamOptions, Version};

    let version = Version::from_protocol(protocol);
    tracing::info!(
        protocol,
        kind = session.path(),
        "SPDY streaming session upgraded"
    );
    match (session, version) {
        (Session::PortForward(forward), _) => crate::portforward::run_spdy(io, forward).await,
        (Session::Exec(exec), Some(version)) => {
            let options = StreamOptions::new(exec.stdin, exec.stdout, exec.stderr, exec.tty);
            remotecommand::spdy::serve(io, version, options, |input, output| {
                remotecommand::run_exec(runtime, exec, input, output)
            })
            .await
        }
        (Session::Attach(attach), Some(version)) => {
            let options =
                StreamOptions::new(attach.stdin, attach.stdout, attach.stderr, attach.tty);
            remotecommand::spdy::serve(io, version, options, |input, output| {
                remotecommand::run_attach(attach, input, output)
            })
            .await
        }
        (session, None) => {
            tracing::warn!(
                protocol,
                kind = session.path(),
                "no SPDY handler for the negotiated protocol"
            );
        }
    }
}

pub(crate) fn channel_frame(channel: u8, data: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(data.len() + 1);
    frame.push(channel);
    frame.extend_from_slice(data);
    frame
}

/// Returns a close frame with status 1000 (normal closure). client-go reports a close
/// without a status code (1005) as an error, so kubectl exec would fail after the
/// command succeeded.
pub(crate) fn normal_close() -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }))
}
