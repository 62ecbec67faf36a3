//! Port forwarding through the streaming server, over WebSocket ([`run`]) or SPDY/3.1
//! ([`run_spdy`]). Either way the bytes go to and from `localhost:<port>` in the pod's
//! network namespace.
//!
//! Over WebSocket each requested port `i` gets data channel `2i` and error channel
//! `2i + 1`. The first message on each of those channels carries the port number as two
//! little-endian bytes, as upstream's kubelet sends it. After that, data messages are
//! raw TCP bytes.
//!
//! Over SPDY (protocol `portforward.k8s.io`, what kubectl port-forward uses) the client
//! opens two streams per forwarded connection, with the headers `streamtype` (`error`
//! or `data`), `port` and `requestid`. Once both streams of a request id are open, the
//! runtime connects to the port and copies bytes on the data stream. A failure is
//! written as text on the error stream, and both streams end with FIN.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::spdy;
use crate::streaming::channel_frame;

/// The SPDY stream protocols served, in order of preference.
pub const SPDY_PROTOCOLS: &[&str] = &["portforward.k8s.io"];

/// How long the second stream of a pair may take to arrive after the first, as
/// upstream's streaming server allows by default.
const STREAM_CREATION_TIMEOUT: Duration = Duration::from_secs(30);

/// A port-forward request waiting for its client to connect.
#[derive(Clone, Debug)]
pub struct PendingPortForward {
    pub sandbox_id: String,
    /// The pod's pinned network namespace.
    pub netns: PathBuf,
    /// Ports from the CRI request, used when the URL's query names none.
    pub ports: Vec<u16>,
}

/// Parses `port=<n>` query parameters.
fn query_ports(query: &str) -> Vec<u16> {
    query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("port="))
        .filter_map(|port| port.parse().ok())
        .collect()
}

/// Connects to `localhost:port` from inside the namespace at `netns`.
async fn connect(netns: PathBuf, port: u16) -> std::io::Result<tokio::net::TcpStream> {
    let stream = tokio::task::spawn_blocking(move || -> std::io::Result<std::net::TcpStream> {
        // A blocking-pool thread may serve other tasks later, so it returns to its own
        // namespace; the socket keeps the pod's.
        let own = std::fs::File::open("/proc/thread-self/ns/net")?;
        let pod = std::fs::File::open(&netns)?;
        nix::sched::setns(pod, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(std::io::Error::from)?;
        let stream = std::net::TcpStream::connect(("127.0.0.1", port));
        nix::sched::setns(own, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(std::io::Error::from)?;
        stream
    })
    .await
    .map_err(std::io::Error::other)??;
    stream.set_nonblocking(true)?;
    tokio::net::TcpStream::from_std(stream)
}

/// Runs a port-forward session until the client closes the WebSocket.
pub async fn run<S>(socket: WebSocketStream<S>, forward: PendingPortForward, query: &str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut ports = query_ports(query);
    if ports.is_empty() {
        ports = forward.ports.clone();
    }
    let (mut sink, mut source) = socket.split();
    let (frames, mut outgoing) = mpsc::channel::<Vec<u8>>(16);
    let writer = tokio::spawn(async move {
        while let Some(frame) = outgoing.recv().await {
            if sink.send(Message::binary(frame)).await.is_err() {
                break;
            }
        }
        let _ = sink.send(crate::streaming::normal_close()).await;
    });
    tracing::info!(pod_sandbox_id = %forward.sandbox_id, ?ports, "port-forward session started");

    let mut writers = Vec::new();
    let mut readers = Vec::new();
    for (index, port) in ports.iter().enumerate() {
        let data = (2 * index) as u8;
        let error = data + 1;
        let _ = frames.send(channel_frame(data, &port.to_le_bytes())).await;
        let _ = frames.send(channel_frame(error, &port.to_le_bytes())).await;
        match connect(forward.netns.clone(), *port).await {
            Ok(stream) => {
                let (mut read, write) = stream.into_split();
                writers.push(Some(write));
                let frames = frames.clone();
                readers.push(tokio::spawn(async move {
                    let mut buffer = vec![0u8; 32 * 1024];
                    while let Ok(count) = read.read(&mut buffer).await {
                        if count == 0
                            || frames
                                .send(channel_frame(data, &buffer[..count]))
                                .await
                                .is_err()
                        {
                            break;
                        }
                    }
                }));
            }
            Err(connect_error) => {
                let message = format!(
                    "failed to connect to localhost:{port} in pod {}: {connect_error}",
                    forward.sandbox_id
                );
                let _ = frames.send(channel_frame(error, message.as_bytes())).await;
                writers.push(None);
            }
        }
    }

    while let Some(Ok(message)) = source.next().await {
        let data = match message {
            Message::Binary(data) => data.to_vec(),
            Message::Close(_) => break,
            _ => continue,
        };
        let Some((&channel, rest)) = data.split_first() else {
            continue;
        };
        if channel % 2 != 0 {
            continue;
        }
        if let Some(Some(write)) = writers.get_mut(usize::from(channel / 2))
            && write.write_all(rest).await.is_err()
        {
            writers[usize::from(channel / 2)] = None;
        }
    }
    for reader in readers {
        reader.abort();
    }
    drop(frames);
    let _ = writer.await;
    tracing::info!(pod_sandbox_id = %forward.sandbox_id, "port-forward session ended");
}

/// The error and data streams of one forwarded connection, as they arrive.
#[derive(Default)]
struct StreamPair {
    error: Option<spdy::Stream>,
    data: Option<spdy::Stream>,
}

/// Runs a SPDY port-forward session until the client closes the connection. Each pair
/// of streams is forwarded on its own task.
pub async fn run_spdy<IO>(io: IO, forward: PendingPortForward)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    tracing::info!(pod_sandbox_id = %forward.sandbox_id, "SPDY port-forward session started");
    let mut session = spdy::Session::server(io);
    let mut pairs: HashMap<String, StreamPair> = HashMap::new();
    let (expired_sender, mut expired) = mpsc::unbounded_channel::<String>();
    // Dropping the set when the session ends aborts the connections still open.
    let mut forwards = JoinSet::new();
    loop {
        let stream = tokio::select! {
            stream = session.accept() => match stream {
                Some(stream) => stream,
                None => break,
            },
            Some(request_id) = expired.recv() => {
                if let Some(pair) = pairs.remove(&request_id) {
                    abandon(pair, &request_id).await;
                }
                continue;
            }
            Some(_) = forwards.join_next(), if !forwards.is_empty() => continue,
        };

        let Some((stream_type, port)) = validate(&stream) else {
            stream.refuse().await;
            continue;
        };
        if stream.reply().await.is_err() {
            break;
        }
        let request_id = request_id(&stream, stream_type);
        let pair = pairs.entry(request_id.clone()).or_insert_with(|| {
            let expired = expired_sender.clone();
            let request_id = request_id.clone();
            tokio::spawn(async move {
                tokio::time::sleep(STREAM_CREATION_TIMEOUT).await;
                let _ = expired.send(request_id);
            });
            StreamPair::default()
        });
        let slot = match stream_type {
            StreamType::Error => &mut pair.error,
            StreamType::Data => &mut pair.data,
        };
        if slot.is_some() {
            let message = format!(
                "error processing stream for request {request_id}: {} stream already assigned",
                stream_type.name()
            );
            tracing::warn!(pod_sandbox_id = %forward.sandbox_id, %message);
            if let Some(error) = &pair.error {
                let _ = error.writer().write(message.as_bytes()).await;
            }
            stream.writer().reset(spdy::frame::PROTOCOL_ERROR).await;
            continue;
        }
        *slot = Some(stream);

        if pair.error.is_some() && pair.data.is_some() {
            let StreamPair {
                error: Some(error),
                data: Some(data),
            } = pairs.remove(&request_id).unwrap_or_default()
            else {
                continue;
            };
            let forward = forward.clone();
            forwards.spawn(async move {
                forward_pair(error, data, port, &forward).await;
            });
        }
    }
    tracing::info!(pod_sandbox_id = %forward.sandbox_id, "SPDY port-forward session ended");
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StreamType {
    Error,
    Data,
}

impl StreamType {
    fn name(self) -> &'static str {
        match self {
            StreamType::Error => "error",
            StreamType::Data => "data",
        }
    }
}

/// Checks the `streamtype` and `port` headers of a new stream.
fn validate(stream: &spdy::Stream) -> Option<(StreamType, u16)> {
    let headers = stream.headers();
    let port = headers.get("port").unwrap_or_default();
    let port = match port.parse::<u16>() {
        Ok(port) if port > 0 => port,
        _ => {
            tracing::warn!(
                stream_id = stream.id(),
                port,
                "port-forward stream has an invalid port header"
            );
            return None;
        }
    };
    match headers.get("streamtype") {
        Some("error") => Some((StreamType::Error, port)),
        Some("data") => Some((StreamType::Data, port)),
        other => {
            tracing::warn!(stream_id = stream.id(), stream_type = ?other, "port-forward stream has an invalid streamtype header");
            None
        }
    }
}

/// Returns the request id that pairs the error and data streams. Clients older than
/// the `requestid` header open the two streams back to back, error first, so their
/// ids differ by two.
fn request_id(stream: &spdy::Stream, stream_type: StreamType) -> String {
    if let Some(request_id) = stream.headers().get("requestid") {
        return request_id.to_string();
    }
    match stream_type {
        StreamType::Error => stream.id().to_string(),
        StreamType::Data => stream.id().saturating_sub(2).to_string(),
    }
}

/// Ends a pair whose second stream never arrived.
async fn abandon(pair: StreamPair, request_id: &str) {
    tracing::warn!(
        request_id,
        "timed out waiting for the port-forward stream pair"
    );
    if let Some(error) = pair.error {
        let writer = error.writer();
        let message = format!("timed out waiting for streams of request {request_id}");
        let _ = writer.write(message.as_bytes()).await;
        writer.close().await;
    }
    if let Some(data) = pair.data {
        data.writer().reset(spdy::frame::CANCEL).await;
    }
}

/// Connects to the port and copies bytes both ways until the pod closes its side, the
/// client resets the data stream, or the session ends. The client's FIN only
/// half-closes the connection to the pod, so a response still arrives.
async fn forward_pair(
    error: spdy::Stream,
    data: spdy::Stream,
    port: u16,
    forward: &PendingPortForward,
) {
    let error = error.writer();
    let (mut from_client, to_client) = data.split();
    let stream = match connect(forward.netns.clone(), port).await {
        Ok(stream) => stream,
        Err(connect_error) => {
            let message = format!(
                "error forwarding port {port} to pod {}: failed to connect to localhost:{port} in the pod's network namespace: {connect_error}",
                forward.sandbox_id
            );
            tracing::warn!(pod_sandbox_id = %forward.sandbox_id, port, error = %connect_error, "port-forward connect failed");
            let _ = error.write(message.as_bytes()).await;
            to_client.close().await;
            error.close().await;
            return;
        }
    };
    tracing::debug!(pod_sandbox_id = %forward.sandbox_id, port, "port-forward connection opened");
    let (mut pod_read, mut pod_write) = stream.into_split();

    let to_pod = async {
        while let Some(chunk) = from_client.recv().await {
            pod_write.write_all(&chunk).await?;
        }
        pod_write.shutdown().await
    };
    let from_pod = async {
        let mut buffer = vec![0u8; 32 * 1024];
        loop {
            let count = pod_read.read(&mut buffer).await?;
            if count == 0 {
                return Ok(());
            }
            to_client
                .write(&buffer[..count])
                .await
                .map_err(std::io::Error::other)?;
        }
    };
    tokio::pin!(to_pod, from_pod);
    let mut client_finished = false;
    let outcome: std::io::Result<()> = loop {
        tokio::select! {
            result = &mut to_pod, if !client_finished => {
                client_finished = true;
                if result.is_err() {
                    break result;
                }
            }
            result = &mut from_pod => break result,
            _ = to_client.ended() => break Ok(()),
        }
    };
    if let Err(copy_error) = outcome {
        // kubectl drops the whole session when the error stream carries text, so a
        // connection the pod resets is only logged, as upstream runtimes do.
        tracing::debug!(pod_sandbox_id = %forward.sandbox_id, port, error = %copy_error, "port-forward copy ended");
    }
    to_client.close().await;
    error.close().await;
    tracing::debug!(pod_sandbox_id = %forward.sandbox_id, port, "port-forward connection closed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_ports_reads_every_port() {
        assert_eq!(query_ports("port=80&port=443"), vec![80, 443]);
        assert_eq!(query_ports("x=1&port=bad"), Vec::<u16>::new());
    }
}
