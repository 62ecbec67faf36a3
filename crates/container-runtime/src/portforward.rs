//! Port forwarding over the streaming server's WebSocket: each requested port `i` gets
//! data channel `2i` and error channel `2i + 1`. The first message on each of those
//! channels carries the port number as two little-endian bytes, as upstream's kubelet
//! sends it. After that, data messages are raw TCP bytes to and from `localhost:<port>`
//! in the pod's network namespace.

use std::path::PathBuf;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::streaming::channel_frame;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_ports_reads_every_port() {
        assert_eq!(query_ports("port=80&port=443"), vec![80, 443]);
        assert_eq!(query_ports("x=1&port=bad"), Vec::<u16>::new());
    }
}
