//! The streaming server behind `Exec`, `Attach` and `PortForward`. Each CRI call
//! returns a one-time URL on this server. The kubelet, or any client given the URL, upgrades it to a WebSocket that
//! carries the process's streams in the Kubernetes channel protocol
//! (`v5.channel.k8s.io`, `v4.channel.k8s.io`, `channel.k8s.io`).
//!
//! Each binary message starts with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 error
//! and 4 terminal resize. The error channel carries a `metav1.Status` JSON document with
//! the exit code, sent once at the end. In v5, channel 255 closes a stream: the next byte
//! names the channel the client closed.
//!
//! Attach sessions relay the output and stdin of a container's main process through its
//! shim. Port-forward sessions use the same framing, or SPDY/3.1 after an
//! `Upgrade: SPDY/3.1` request (see [`crate::portforward`]).
//!
//! Entry points: [`StreamingServer::bind`], then [`StreamingServer::serve`]; the CRI
//! service calls [`StreamingServer::exec_url`], [`StreamingServer::attach_url`] and
//! [`StreamingServer::port_forward_url`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::error::{Error, Result};
use crate::runtime::Runtime;

/// How long an exec URL stays valid, as upstream's streaming server allows.
const TOKEN_TTL: Duration = Duration::from_secs(60);

/// Subprotocols in order of preference.
const PROTOCOLS: &[&str] = &["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"];

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
const CLOSE: u8 = 255;

/// A terminal resize message, as kubectl sends it on the resize channel.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TerminalSize {
    width: u16,
    height: u16,
}

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
            return self.upgrade_spdy(request, kind, token);
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
                    match session {
                        Session::Exec(exec) => {
                            run_exec(socket, runtime, exec, &session_protocol).await
                        }
                        Session::Attach(attach) => run_attach(socket, attach).await,
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
        // TODO: exec and attach over SPDY (v4.channel.k8s.io streams) for clients that
        // cannot use WebSocket; kubectl 1.30 and later use WebSocket for both.
        if kind != "portforward" {
            return reply(
                StatusCode::BAD_REQUEST,
                format!(
                    "unable to upgrade: {kind} is served over WebSocket only (v5.channel.k8s.io or v4.channel.k8s.io); SPDY/3.1 is served for port-forward"
                ),
            );
        }
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
        let supported = crate::portforward::SPDY_PROTOCOLS;
        let Some(protocol) = offered
            .iter()
            .find(|protocol| supported.contains(&protocol.as_str()))
            .cloned()
        else {
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
        let Some(Session::PortForward(forward)) = self.take(kind, token) else {
            return reply(
                StatusCode::NOT_FOUND,
                "unknown or expired streaming token".to_string(),
            );
        };

        let upgrade = hyper::upgrade::on(&mut request);
        tokio::spawn(async move {
            match upgrade.await {
                Ok(upgraded) => crate::portforward::run_spdy(TokioIo::new(upgraded), forward).await,
                Err(error) => tracing::warn!(%error, "streaming upgrade failed"),
            }
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

/// Builds the `metav1.Status` document sent on the error channel at the end.
pub fn exit_status(exit_code: i32) -> serde_json::Value {
    if exit_code == 0 {
        return serde_json::json!({ "metadata": {}, "status": "Success" });
    }
    serde_json::json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("command terminated with non-zero exit code: error executing command, exit code {exit_code}"),
        "reason": "NonZeroExitCode",
        "details": { "causes": [{ "reason": "ExitCode", "message": exit_code.to_string() }] },
    })
}

async fn run_exec<S>(
    socket: WebSocketStream<S>,
    runtime: Arc<Runtime>,
    exec: PendingExec,
    protocol: &str,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut source) = socket.split();
    let (frames, mut outgoing) = mpsc::channel::<Vec<u8>>(16);
    let writer = tokio::spawn(async move {
        while let Some(frame) = outgoing.recv().await {
            if sink.send(Message::binary(frame)).await.is_err() {
                break;
            }
        }
        let _ = sink.send(normal_close()).await;
    });

    let process = match runtime
        .spawn_exec(&exec.container_id, &exec.cmd, exec.stdin, exec.tty)
        .await
    {
        Ok(process) => process,
        Err(error) => {
            let status = serde_json::json!({ "metadata": {}, "status": "Failure", "message": error.to_string() });
            let _ = frames
                .send(channel_frame(ERROR, status.to_string().as_bytes()))
                .await;
            drop(frames);
            let _ = writer.await;
            return;
        }
    };
    let mut child = process.child;
    tracing::info!(container_id = %exec.container_id, protocol, tty = exec.tty, "exec session started");

    // A terminal merges stdout and stderr into its one output stream.
    let mut copies = Vec::new();
    let mut stdin: Option<Box<dyn tokio::io::AsyncWrite + Unpin + Send>> = None;
    let mut resizer = None;
    if let Some(terminal) = process.terminal {
        let (Ok(input), Ok(control)) = (terminal.try_clone(), terminal.try_clone()) else {
            tracing::warn!(container_id = %exec.container_id, "failed to duplicate the terminal");
            let _ = child.kill().await;
            return;
        };
        copies.push(tokio::spawn(copy_out(
            tokio::fs::File::from_std(terminal),
            STDOUT,
            true,
            frames.clone(),
        )));
        if exec.stdin {
            stdin = Some(Box::new(tokio::fs::File::from_std(input)));
        }
        resizer = Some(control);
    } else {
        if let Some(stdout) = child.stdout.take() {
            copies.push(tokio::spawn(copy_out(
                stdout,
                STDOUT,
                exec.stdout,
                frames.clone(),
            )));
        }
        if let Some(stderr) = child.stderr.take() {
            copies.push(tokio::spawn(copy_out(
                stderr,
                STDERR,
                exec.stderr,
                frames.clone(),
            )));
        }
        if let Some(pipe) = child.stdin.take() {
            stdin = Some(Box::new(pipe));
        }
    }

    let input = tokio::spawn(async move {
        while let Some(Ok(message)) = source.next().await {
            let data = match message {
                Message::Binary(data) => data.to_vec(),
                Message::Close(_) => break,
                _ => continue,
            };
            match data.split_first() {
                Some((&STDIN, rest)) => {
                    if let Some(pipe) = stdin.as_mut()
                        && (pipe.write_all(rest).await.is_err() || pipe.flush().await.is_err())
                    {
                        stdin = None;
                    }
                }
                Some((&RESIZE, rest)) => {
                    if let (Some(terminal), Ok(size)) =
                        (&resizer, serde_json::from_slice::<TerminalSize>(rest))
                    {
                        crate::oci_runtime::resize_terminal(terminal, size.width, size.height);
                    }
                }
                Some((&CLOSE, [STDIN, ..])) => stdin = None,
                _ => {}
            }
        }
    });

    let exit_code = match child.wait().await {
        Ok(status) => status.code().unwrap_or(255),
        Err(error) => {
            tracing::warn!(container_id = %exec.container_id, %error, "failed to wait for exec process");
            255
        }
    };
    for copy in copies {
        let _ = copy.await;
    }
    input.abort();
    let _ = frames
        .send(channel_frame(
            ERROR,
            exit_status(exit_code).to_string().as_bytes(),
        ))
        .await;
    drop(frames);
    let _ = writer.await;
    tracing::info!(container_id = %exec.container_id, exit_code, "exec session ended");
}

/// Relays a container's output from its shim to the client and the client's stdin back,
/// until the container exits (the shim closes the socket) or the client leaves.
async fn run_attach<S>(socket: WebSocketStream<S>, attach: PendingAttach)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut source) = socket.split();
    let shim = match tokio::net::UnixStream::connect(&attach.socket).await {
        Ok(shim) => shim,
        Err(error) => {
            let message = format!(
                "failed to attach to container {}: {error}",
                attach.container_id
            );
            let status =
                serde_json::json!({ "metadata": {}, "status": "Failure", "message": message });
            let _ = sink
                .send(Message::binary(channel_frame(
                    ERROR,
                    status.to_string().as_bytes(),
                )))
                .await;
            let _ = sink.send(normal_close()).await;
            return;
        }
    };
    tracing::info!(container_id = %attach.container_id, "attach session started");
    let (mut shim_read, mut shim_write) = shim.into_split();

    let wants_stdin = attach.stdin;
    let input = tokio::spawn(async move {
        while let Some(Ok(message)) = source.next().await {
            let data = match message {
                Message::Binary(data) => data.to_vec(),
                Message::Close(_) => break,
                _ => continue,
            };
            match data.split_first() {
                Some((&STDIN, rest))
                    if wants_stdin && shim_write.write_all(rest).await.is_err() =>
                {
                    break;
                }
                Some((&CLOSE, [STDIN, ..])) => break,
                _ => {}
            }
        }
        // Dropping the write half signals the shim that this client detached.
    });

    let mut header = [0u8; 5];
    while shim_read.read_exact(&mut header).await.is_ok() {
        let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let mut data = vec![0u8; length];
        if shim_read.read_exact(&mut data).await.is_err() {
            break;
        }
        let wanted = match header[0] {
            STDOUT => attach.stdout,
            STDERR => attach.stderr,
            _ => false,
        };
        if wanted
            && sink
                .send(Message::binary(channel_frame(header[0], &data)))
                .await
                .is_err()
        {
            break;
        }
    }
    input.abort();
    let status = serde_json::json!({ "metadata": {}, "status": "Success" });
    let _ = sink
        .send(Message::binary(channel_frame(
            ERROR,
            status.to_string().as_bytes(),
        )))
        .await;
    let _ = sink.send(normal_close()).await;
    tracing::info!(container_id = %attach.container_id, "attach session ended");
}

pub(crate) fn channel_frame(channel: u8, data: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(data.len() + 1);
    frame.push(channel);
    frame.extend_from_slice(data);
    frame
}

async fn copy_out(
    mut source: impl tokio::io::AsyncRead + Unpin,
    channel: u8,
    forward: bool,
    frames: mpsc::Sender<Vec<u8>>,
) {
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        match source.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(count) => {
                if forward
                    && frames
                        .send(channel_frame(channel, &buffer[..count]))
                        .await
                        .is_err()
                {
                    break;
                }
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_reports_code_as_cause() {
        assert_eq!(exit_status(0)["status"], "Success");
        let failure = exit_status(7);
        assert_eq!(failure["status"], "Failure");
        assert_eq!(failure["reason"], "NonZeroExitCode");
        assert_eq!(failure["details"]["causes"][0]["message"], "7");
    }
}
