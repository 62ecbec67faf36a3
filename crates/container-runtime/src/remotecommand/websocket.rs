//! Exec and attach over WebSocket, in the channel protocol (`v5.channel.k8s.io`,
//! `v4.channel.k8s.io`, `channel.k8s.io`).
//!
//! Each binary message starts with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 error
//! and 4 terminal resize. The error channel carries a `metav1.Status` JSON document with
//! the exit code, sent once at the end. In v5, channel 255 closes a stream: the next
//! byte names the channel the client closed.

use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::{ClientInput, SessionOutput, TerminalSize};
use crate::streaming::{channel_frame, normal_close};

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
const CLOSE: u8 = 255;

/// How long the server waits for the client's Close after sending its own.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// Serves one exec or attach session on an upgraded WebSocket. `session` is
/// [`super::run_exec`] or [`super::run_attach`] with its request bound.
pub async fn serve<S, F>(
    socket: WebSocketStream<S>,
    session: impl FnOnce(mpsc::Receiver<ClientInput>, mpsc::Sender<SessionOutput>) -> F,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let (mut sink, mut source) = socket.split();
    let (input, input_receiver) = mpsc::channel(16);
    let (output_sender, mut output) = mpsc::channel(16);
    // An exec command keeps running after its client left, so the session task is
    // not awaited.
    tokio::spawn(session(input_receiver, output_sender));

    // The reader ends, and with it the input channel, when the client closes the
    // WebSocket or the connection breaks. Once the session stops taking input, the
    // reader still reads (and drops) what the client sends until its Close.
    let reader = tokio::spawn(async move {
        let mut input = Some(input);
        while let Some(Ok(message)) = source.next().await {
            let data = match message {
                Message::Binary(data) => data,
                Message::Close(_) => break,
                _ => continue,
            };
            if let (Some(sender), Some(event)) = (&input, parse_input(&data))
                && sender.send(event).await.is_err()
            {
                input = None;
            }
        }
    });

    while let Some(message) = output.recv().await {
        let frame = match message {
            SessionOutput::Stdout(data) => channel_frame(STDOUT, &data),
            SessionOutput::Stderr(data) => channel_frame(STDERR, &data),
            SessionOutput::Finished(outcome) => {
                channel_frame(ERROR, outcome.status().to_string().as_bytes())
            }
        };
        if sink.send(Message::binary(frame)).await.is_err() {
            break;
        }
    }
    let _ = sink.send(normal_close()).await;
    // Closing a socket with unread input resets the connection, and a client that
    // gets the reset before it read the status loses the status. So the reader gets
    // a moment to read up to the client's Close before the socket goes.
    let reader_abort = reader.abort_handle();
    if tokio::time::timeout(CLOSE_WAIT, reader).await.is_err() {
        reader_abort.abort();
    }
}

/// Parses one binary message from the client. Messages of other channels, resizes
/// that are not valid JSON and empty messages are ignored.
fn parse_input(data: &[u8]) -> Option<ClientInput> {
    match data.split_first()? {
        (&STDIN, rest) => Some(ClientInput::Stdin(bytes::Bytes::copy_from_slice(rest))),
        (&RESIZE, rest) => serde_json::from_slice::<TerminalSize>(rest)
            .ok()
            .map(ClientInput::Resize),
        (&CLOSE, [STDIN, ..]) => Some(ClientInput::StdinClosed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_input_reads_each_channel() {
        assert_eq!(
            parse_input(b"\x00hi"),
            Some(ClientInput::Stdin(bytes::Bytes::from_static(b"hi")))
        );
        assert_eq!(
            parse_input(b"\x04{\"Width\":80,\"Height\":24}"),
            Some(ClientInput::Resize(TerminalSize {
                width: 80,
                height: 24
            }))
        );
        assert_eq!(parse_input(&[CLOSE, STDIN]), Some(ClientInput::StdinClosed));
        assert_eq!(parse_input(b"\x04not json"), None);
        assert_eq!(parse_input(&[CLOSE, STDOUT]), None);
        assert_eq!(parse_input(b""), None);
    }
}
