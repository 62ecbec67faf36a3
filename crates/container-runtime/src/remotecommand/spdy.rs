//! Exec and attach over SPDY/3.1, the transport of kubectl 1.29 and older (and of later
//! ones run with `KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false`).
//!
//! After the upgrade the client opens one stream per channel, named by its `streamtype`
//! header: `error`, `stdin`, `stdout`, `stderr` and, with a terminal from v3 on,
//! `resize`. The server replies to each stream and starts the session once every
//! stream the request calls for is open, or gives up after
//! [`STREAM_CREATION_TIMEOUT`]. The client's FIN on the stdin stream closes the
//! process's stdin, and the resize stream carries one JSON terminal size after
//! another. At the end the server closes stdout and stderr, writes the outcome on the
//! error stream (a `metav1.Status` document from v4 on, before that a plain message
//! and only for a failure), closes it and ends the session with GOAWAY.
//!
//! Entry point: [`serve`], after [`spdy::negotiate`] picked the protocol version.

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{ClientInput, Outcome, SessionOutput, TerminalSize};
use crate::spdy;

/// The stream protocols served over SPDY, in the server's order. The WebSocket-only
/// `v5.channel.k8s.io` is not among them.
pub const PROTOCOLS: &[&str] = &[
    "v4.channel.k8s.io",
    "v3.channel.k8s.io",
    "v2.channel.k8s.io",
    "channel.k8s.io",
];

/// How long the client may take to open all its streams, as upstream's streaming
/// server allows by default.
pub const STREAM_CREATION_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest resize data buffered without a complete JSON object in it.
const MAX_RESIZE_BUFFER: usize = 4096;

/// A version of the remotecommand stream protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// `channel.k8s.io`, served as v2: its quirks (the server closing stdin at the
    /// start) are not reproduced.
    V1,
    V2,
    /// Adds the resize stream.
    V3,
    /// Writes the outcome as a `metav1.Status` document carrying the exit code.
    V4,
}

impl Version {
    /// Returns the version of a protocol name from [`PROTOCOLS`].
    pub fn from_protocol(protocol: &str) -> Option<Version> {
        match protocol {
            "v4.channel.k8s.io" => Some(Version::V4),
            "v3.channel.k8s.io" => Some(Version::V3),
            "v2.channel.k8s.io" => Some(Version::V2),
            "channel.k8s.io" => Some(Version::V1),
            _ => None,
        }
    }

    fn supports_resize(self) -> bool {
        self >= Version::V3
    }
}

/// The streams a session's request calls for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamOptions {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

impl StreamOptions {
    /// Returns the options of a request. A terminal has one output stream, so with
    /// `tty` no stderr stream is expected, as upstream ignores stderr then.
    pub fn new(stdin: bool, stdout: bool, stderr: bool, tty: bool) -> StreamOptions {
        StreamOptions {
            stdin,
            stdout,
            stderr: stderr && !tty,
            tty,
        }
    }

    fn expects(self, kind: StreamKind, version: Version) -> bool {
        match kind {
            StreamKind::Error => true,
            StreamKind::Stdin => self.stdin,
            StreamKind::Stdout => self.stdout,
            StreamKind::Stderr => self.stderr,
            StreamKind::Resize => self.tty && version.supports_resize(),
        }
    }
}

/// The `streamtype` header values of remotecommand streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StreamKind {
    Error,
    Stdin,
    Stdout,
    Stderr,
    Resize,
}

impl StreamKind {
    const ALL: [StreamKind; 5] = [
        StreamKind::Error,
        StreamKind::Stdin,
        StreamKind::Stdout,
        StreamKind::Stderr,
        StreamKind::Resize,
    ];

    fn from_header(value: &str) -> Option<StreamKind> {
        StreamKind::ALL
            .into_iter()
            .find(|kind| kind.name() == value)
    }

    fn name(self) -> &'static str {
        match self {
            StreamKind::Error => "error",
            StreamKind::Stdin => "stdin",
            StreamKind::Stdout => "stdout",
            StreamKind::Stderr => "stderr",
            StreamKind::Resize => "resize",
        }
    }
}

/// The streams of one session, as they arrive.
#[derive(Default)]
struct Streams {
    error: Option<spdy::Stream>,
    stdin: Option<spdy::Stream>,
    stdout: Option<spdy::Stream>,
    stderr: Option<spdy::Stream>,
    resize: Option<spdy::Stream>,
}

impl Streams {
    fn slot(&mut self, kind: StreamKind) -> &mut Option<spdy::Stream> {
        match kind {
            StreamKind::Error => &mut self.error,
            StreamKind::Stdin => &mut self.stdin,
            StreamKind::Stdout => &mut self.stdout,
            StreamKind::Stderr => &mut self.stderr,
            StreamKind::Resize => &mut self.resize,
        }
    }

    /// Returns whether every stream that `options` calls for is open.
    fn complete(&mut self, options: StreamOptions, version: Version) -> bool {
        StreamKind::ALL
            .into_iter()
            .filter(|kind| options.expects(*kind, version))
            .all(|kind| self.slot(kind).is_some())
    }
}

/// Serves one exec or attach session on an upgraded SPDY/3.1 connection. `session` is
/// [`super::run_exec`] or [`super::run_attach`] with its request bound; it starts
/// once the client's streams are open.
pub async fn serve<IO, F>(
    io: IO,
    version: Version,
    options: StreamOptions,
    session: impl FnOnce(mpsc::Receiver<ClientInput>, mpsc::Sender<SessionOutput>) -> F,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let mut connection = spdy::Session::server(io);
    let mut streams = Streams::default();
    if let Err(error) = wait_for_streams(&mut connection, &mut streams, options, version).await {
        tracing::warn!(%error, ?version, "remotecommand streams were not set up");
        if let Some(stream) = &streams.error {
            write_outcome(&stream.writer(), version, &Outcome::Failed(error)).await;
        }
        connection.close().await;
        return;
    }

    let (input, input_receiver) = mpsc::channel(16);
    let (output_sender, mut output) = mpsc::channel(16);
    // An exec command keeps running after its client left, so the session task is
    // not awaited.
    tokio::spawn(session(input_receiver, output_sender));

    // Only stdin and resize are read. The receivers of the other streams are dropped,
    // so data the client sends on them is discarded instead of queueing up.
    let writer = |stream: Option<spdy::Stream>| stream.map(|stream| stream.split().1);
    let error = writer(streams.error.take());
    let stdout = writer(streams.stdout.take());
    let stderr = writer(streams.stderr.take());
    if let Some(stream) = streams.stdin.take().filter(|_| options.stdin) {
        tokio::spawn(relay_stdin(stream, input.clone()));
    }
    if let Some(stream) = streams.resize.take().filter(|_| options.tty) {
        tokio::spawn(relay_resizes(stream, input.clone()));
    }

    // This sender keeps the input open until the connection ends, which signals an
    // attach session that its client went away.
    let mut input = Some(input);
    let mut connection_ended = false;
    loop {
        tokio::select! {
            message = output.recv() => match message {
                Some(SessionOutput::Stdout(data)) => write_to(&stdout, &data).await,
                Some(SessionOutput::Stderr(data)) => write_to(&stderr, &data).await,
                Some(SessionOutput::Finished(outcome)) => {
                    for writer in [&stdout, &stderr].into_iter().flatten() {
                        writer.close().await;
                    }
                    if let Some(error) = &error {
                        write_outcome(error, version, &outcome).await;
                    }
                }
                None => break,
            },
            stream = connection.accept(), if !connection_ended => match stream {
                Some(stream) => {
                    tracing::debug!(stream_id = stream.id(), "rejected a stream opened after the session started");
                    stream.refuse().await;
                }
                None => {
                    connection_ended = true;
                    input = None;
                }
            },
        }
    }
    drop(input);
    connection.close().await;
}

/// Accepts the client's streams until `options` are met. Streams of a known type
/// that the request does not call for are accepted and ignored, as upstream does.
async fn wait_for_streams(
    connection: &mut spdy::Session,
    streams: &mut Streams,
    options: StreamOptions,
    version: Version,
) -> Result<(), String> {
    let deadline = tokio::time::sleep(STREAM_CREATION_TIMEOUT);
    tokio::pin!(deadline);
    while !streams.complete(options, version) {
        let stream = tokio::select! {
            stream = connection.accept() => stream.ok_or_else(|| {
                "the connection ended before the client opened its streams".to_string()
            })?,
            () = &mut deadline => {
                return Err("timed out waiting for client to create streams".to_string());
            }
        };
        let stream_type = stream.headers().get("streamtype").unwrap_or_default();
        let Some(kind) = StreamKind::from_header(stream_type) else {
            tracing::warn!(
                stream_id = stream.id(),
                stream_type,
                "refused a remotecommand stream of unknown type"
            );
            stream.refuse().await;
            continue;
        };
        let slot = streams.slot(kind);
        if slot.is_some() {
            tracing::warn!(
                stream_id = stream.id(),
                stream_type,
                "reset a second remotecommand stream of the same type"
            );
            stream.writer().reset(spdy::frame::PROTOCOL_ERROR).await;
            continue;
        }
        stream
            .reply()
            .await
            .map_err(|error| format!("failed to accept stream {}: {error}", stream.id()))?;
        *slot = Some(stream);
    }
    Ok(())
}

async fn write_to(writer: &Option<spdy::StreamWriter>, data: &[u8]) {
    if let Some(writer) = writer
        && let Err(error) = writer.write(data).await
    {
        tracing::debug!(%error, "dropped remotecommand output");
    }
}

/// Writes the outcome in the form of `version` on the error stream, then closes it.
async fn write_outcome(error: &spdy::StreamWriter, version: Version, outcome: &Outcome) {
    let payload = if version >= Version::V4 {
        Some(outcome.status().to_string())
    } else {
        outcome.message()
    };
    if let Some(payload) = payload
        && let Err(error) = error.write(payload.as_bytes()).await
    {
        tracing::debug!(%error, "failed to write the remotecommand outcome");
    }
    error.close().await;
}

/// Passes the client's stdin to the session. The stream's end (FIN, reset or the end
/// of the connection) closes the process's stdin.
async fn relay_stdin(mut stream: spdy::Stream, input: mpsc::Sender<ClientInput>) {
    while let Some(data) = stream.read().await {
        if input.send(ClientInput::Stdin(data)).await.is_err() {
            return;
        }
    }
    let _ = input.send(ClientInput::StdinClosed).await;
}

/// Passes terminal sizes to the session. kubectl writes each as a JSON object
/// followed by a newline, and a DATA frame may hold part of one or several.
async fn relay_resizes(mut stream: spdy::Stream, input: mpsc::Sender<ClientInput>) {
    let mut pending = Vec::new();
    while let Some(data) = stream.read().await {
        pending.extend_from_slice(&data);
        let (sizes, consumed) = match parse_sizes(&pending) {
            Ok(parsed) => parsed,
            Err(error) => {
                tracing::warn!(%error, "invalid terminal size on the resize stream; ignoring further resizes");
                return;
            }
        };
        pending.drain(..consumed);
        if pending.len() > MAX_RESIZE_BUFFER {
            tracing::warn!(
                bytes = pending.len(),
                "resize stream data is not a terminal size; ignoring further resizes"
            );
            return;
        }
        for size in sizes {
            if input.send(ClientInput::Resize(size)).await.is_err() {
                return;
            }
        }
    }
}

/// Parses the complete terminal sizes at the start of `buffer` and returns them with
/// the number of bytes they took. An incomplete object at the end is left for later.
fn parse_sizes(buffer: &[u8]) -> Result<(Vec<TerminalSize>, usize), serde_json::Error> {
    let mut parser = serde_json::Deserializer::from_slice(buffer).into_iter::<TerminalSize>();
    let mut sizes = Vec::new();
    let mut consumed = 0;
    loop {
        match parser.next() {
            Some(Ok(size)) => {
                sizes.push(size);
                consumed = parser.byte_offset();
            }
            Some(Err(error)) if error.is_eof() => break,
            Some(Err(error)) => return Err(error),
            None => {
                consumed = parser.byte_offset();
                break;
            }
        }
    }
    Ok((sizes, consumed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_prefers_the_client_order() {
        let offered: Vec<String> = [
            "v5.channel.k8s.io",
            "v3.channel.k8s.io",
            "v4.channel.k8s.io",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            spdy::negotiate(&offered, PROTOCOLS),
            Some("v3.channel.k8s.io")
        );
        let unknown = vec!["v5.channel.k8s.io".to_string()];
        assert_eq!(spdy::negotiate(&unknown, PROTOCOLS), None);
        for protocol in PROTOCOLS {
            assert!(Version::from_protocol(protocol).is_some(), "{protocol}");
        }
    }

    #[test]
    fn expected_streams_follow_options_and_version() {
        let tty = StreamOptions::new(true, true, true, true);
        assert!(!tty.stderr, "a terminal has no stderr stream");
        assert!(tty.expects(StreamKind::Resize, Version::V4));
        assert!(tty.expects(StreamKind::Resize, Version::V3));
        assert!(!tty.expects(StreamKind::Resize, Version::V2));
        let plain = StreamOptions::new(false, true, true, false);
        assert!(plain.expects(StreamKind::Error, Version::V1));
        assert!(!plain.expects(StreamKind::Stdin, Version::V4));
        assert!(plain.expects(StreamKind::Stderr, Version::V4));
        assert!(!plain.expects(StreamKind::Resize, Version::V4));
    }

    #[test]
    fn parse_sizes_keeps_a_partial_object() {
        let (sizes, consumed) =
            parse_sizes(b"{\"Width\":80,\"Height\":24}\n{\"Width\":100,\"Hei").unwrap();
        assert_eq!(
            sizes,
            vec![TerminalSize {
                width: 80,
                height: 24
            }]
        );
        assert_eq!(consumed, 24);
        let (sizes, consumed) = parse_sizes(b"\n").unwrap();
        assert!(sizes.is_empty());
        assert_eq!(consumed, 1);
        assert!(parse_sizes(b"{\"Width\":-1,\"Height\":24}").is_err());
    }

    /// Opens a stream of `stream_type` from the client side of an in-memory
    /// connection.
    fn syn_stream(stream_id: u32, stream_type: &str) -> spdy::Frame {
        let mut headers = spdy::Headers::new();
        headers.add("streamType", stream_type);
        spdy::Frame::SynStream {
            stream_id,
            associated_to: 0,
            priority: 0,
            flags: 0,
            headers,
        }
    }

    /// Runs [`serve`] with a session that echoes stdin to stdout in upper case and
    /// exits with code 3, and returns every frame the server sent.
    async fn echo_session(version: Version, input: &[spdy::Frame]) -> Vec<spdy::Frame> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let (mut client, server) = tokio::io::duplex(1 << 16);
        let options = StreamOptions::new(true, true, true, false);
        let served = tokio::spawn(serve(
            server,
            version,
            options,
            |mut input, output| async move {
                while let Some(event) = input.recv().await {
                    match event {
                        ClientInput::Stdin(data) => {
                            let upper = data.to_ascii_uppercase().into();
                            let _ = output.send(SessionOutput::Stdout(upper)).await;
                        }
                        ClientInput::StdinClosed => break,
                        ClientInput::Resize(_) => {}
                    }
                }
                let _ = output
                    .send(SessionOutput::Finished(Outcome::ExitCode(3)))
                    .await;
            },
        ));

        let mut encoder = spdy::frame::Encoder::new();
        let mut bytes = Vec::new();
        for frame in input {
            encoder.encode(frame, &mut bytes).unwrap();
        }
        client.write_all(&bytes).await.unwrap();
        let mut received = bytes::BytesMut::new();
        client.read_buf(&mut received).await.unwrap();
        while client.read_buf(&mut received).await.unwrap() > 0 {}
        served.await.unwrap();

        let mut decoder = spdy::frame::Decoder::new();
        let mut frames = Vec::new();
        while let Some(frame) = decoder.decode(&mut received).unwrap() {
            frames.push(frame);
        }
        frames
    }

    fn data_of(frames: &[spdy::Frame], stream: u32) -> (Vec<u8>, bool) {
        let mut data = Vec::new();
        let mut fin = false;
        for frame in frames {
            if let spdy::Frame::Data {
                stream_id,
                fin: last,
                data: chunk,
            } = frame
                && *stream_id == stream
            {
                data.extend_from_slice(chunk);
                fin |= *last;
            }
        }
        (data, fin)
    }

    #[tokio::test]
    async fn session_relays_stdin_and_writes_status() {
        let frames = echo_session(
            Version::V4,
            &[
                syn_stream(1, "error"),
                syn_stream(3, "stdin"),
                syn_stream(5, "stdout"),
                syn_stream(7, "stderr"),
                spdy::Frame::Data {
                    stream_id: 3,
                    fin: true,
                    data: bytes::Bytes::from_static(b"hello"),
                },
            ],
        )
        .await;
        let replies: Vec<u32> = frames
            .iter()
            .filter_map(|frame| match frame {
                spdy::Frame::SynReply { stream_id, .. } => Some(*stream_id),
                _ => None,
            })
            .collect();
        assert_eq!(replies, vec![1, 3, 5, 7]);
        assert_eq!(data_of(&frames, 5), (b"HELLO".to_vec(), true));
        assert_eq!(data_of(&frames, 7), (Vec::new(), true));
        let (status, fin) = data_of(&frames, 1);
        assert!(fin, "the error stream ends with FIN");
        let status: serde_json::Value = serde_json::from_slice(&status).unwrap();
        assert_eq!(status["reason"], "NonZeroExitCode", "{status}");
        assert_eq!(status["details"]["causes"][0]["message"], "3", "{status}");
        assert!(
            matches!(frames.last(), Some(spdy::Frame::GoAway { .. })),
            "{frames:?}"
        );
    }

    #[tokio::test]
    async fn older_versions_write_a_plain_message() {
        let frames = echo_session(
            Version::V2,
            &[
                syn_stream(1, "error"),
                syn_stream(3, "stdin"),
                syn_stream(5, "stdout"),
                syn_stream(7, "stderr"),
                spdy::Frame::Data {
                    stream_id: 3,
                    fin: true,
                    data: bytes::Bytes::new(),
                },
            ],
        )
        .await;
        let (message, _) = data_of(&frames, 1);
        assert_eq!(
            String::from_utf8(message).unwrap(),
            "command terminated with non-zero exit code: error executing command, exit code 3"
        );
    }

    #[tokio::test]
    async fn unknown_and_duplicate_streams_are_rejected() {
        let frames = echo_session(
            Version::V4,
            &[
                syn_stream(1, "error"),
                syn_stream(3, "bogus"),
                syn_stream(5, "error"),
                syn_stream(7, "stdin"),
                syn_stream(9, "stdout"),
                syn_stream(11, "stderr"),
                spdy::Frame::Data {
                    stream_id: 7,
                    fin: true,
                    data: bytes::Bytes::new(),
                },
            ],
        )
        .await;
        let resets: Vec<(u32, u32)> = frames
            .iter()
            .filter_map(|frame| match frame {
                spdy::Frame::RstStream { stream_id, status } => Some((*stream_id, *status)),
                _ => None,
            })
            .collect();
        assert_eq!(
            resets,
            vec![
                (3, spdy::frame::REFUSED_STREAM),
                (5, spdy::frame::PROTOCOL_ERROR)
            ]
        );
        let (status, _) = data_of(&frames, 1);
        assert!(
            !status.is_empty(),
            "the session ran on the first error stream"
        );
    }
}
