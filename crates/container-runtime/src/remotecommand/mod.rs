//! Exec and attach sessions of the streaming server, apart from their transport.
//!
//! A session reads [`ClientInput`] from a channel and writes [`SessionOutput`] to
//! another. The transports translate: [`websocket`] maps them to channel-tagged
//! WebSocket messages (`v5.channel.k8s.io`, `v4.channel.k8s.io`, `channel.k8s.io`),
//! and [`spdy`] to the SPDY/3.1 streams of upstream's remotecommand protocol
//! (`v4.channel.k8s.io` down to `channel.k8s.io`). Entry points: [`run_exec`] and
//! [`run_attach`], which the transports spawn once the client's streams are ready.
//!
//! The input channel closing means the client went away: an attach session then ends
//! at once, while an exec session lets its command run to completion.

pub mod spdy;
pub mod websocket;

use std::sync::Arc;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::runtime::Runtime;
use crate::streaming::{PendingAttach, PendingExec};

/// A terminal size in character cells, as kubectl sends it in JSON
/// (`{"Width":80,"Height":24}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TerminalSize {
    pub width: u16,
    pub height: u16,
}

/// Input from the client of an exec or attach session.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientInput {
    Stdin(Bytes),
    /// The client closed its stdin, so the process reads EOF.
    StdinClosed,
    Resize(TerminalSize),
}

/// Output of an exec or attach session, in the order the client receives it.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionOutput {
    Stdout(Bytes),
    Stderr(Bytes),
    /// The result of the session, sent last.
    Finished(Outcome),
}

/// The end of an exec or attach session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The command exited with this non-zero code.
    ExitCode(i32),
    /// The session failed before or while running the command.
    Failed(String),
}

impl Outcome {
    /// Builds the `metav1.Status` document that protocol v4 and later write on the
    /// error stream, in the shape upstream's kubelet uses. A non-zero exit has reason
    /// `NonZeroExitCode` and the code as the message of an `ExitCode` cause. Any other
    /// failure is an `InternalError`.
    pub fn status(&self) -> serde_json::Value {
        match self {
            Outcome::Success => serde_json::json!({ "metadata": {}, "status": "Success" }),
            Outcome::ExitCode(_) | Outcome::Failed(_) => {
                let message = self.message().unwrap_or_default();
                let (reason, code, cause) = match self {
                    Outcome::ExitCode(code) => (
                        "NonZeroExitCode",
                        None,
                        serde_json::json!({ "reason": "ExitCode", "message": code.to_string() }),
                    ),
                    _ => (
                        "InternalError",
                        Some(500),
                        serde_json::json!({ "message": message }),
                    ),
                };
                let mut status = serde_json::json!({
                    "metadata": {},
                    "status": "Failure",
                    "message": message,
                    "reason": reason,
                    "details": { "causes": [cause] },
                });
                if let Some(code) = code {
                    status["code"] = code.into();
                }
                status
            }
        }
    }

    /// Returns the plain message that protocols before v4 write on the error stream,
    /// or `None` on success, when they write nothing.
    pub fn message(&self) -> Option<String> {
        match self {
            Outcome::Success => None,
            Outcome::ExitCode(code) => Some(format!(
                "command terminated with non-zero exit code: error executing command, exit code {code}"
            )),
            Outcome::Failed(error) => Some(format!("Internal error occurred: {error}")),
        }
    }
}

/// Runs `exec.cmd` in its container, relaying its stdio, until the command exits.
/// Output of streams the request did not include is read and dropped.
pub async fn run_exec(
    runtime: Arc<Runtime>,
    exec: PendingExec,
    mut input: mpsc::Receiver<ClientInput>,
    output: mpsc::Sender<SessionOutput>,
) {
    let process = match runtime
        .spawn_exec(&exec.container_id, &exec.cmd, exec.stdin, exec.tty)
        .await
    {
        Ok(process) => process,
        Err(error) => {
            tracing::warn!(container_id = %exec.container_id, %error, "failed to start exec process");
            let outcome = Outcome::Failed(format!("error executing command in container: {error}"));
            let _ = output.send(SessionOutput::Finished(outcome)).await;
            return;
        }
    };
    let mut child = process.child;
    tracing::info!(container_id = %exec.container_id, tty = exec.tty, "exec session started");

    // A terminal merges stdout and stderr into its one output stream.
    let mut copies = Vec::new();
    let mut stdin: Option<Box<dyn tokio::io::AsyncWrite + Unpin + Send>> = None;
    let mut terminal_control = None;
    if let Some(terminal) = process.terminal {
        let (Ok(input), Ok(control)) = (terminal.try_clone(), terminal.try_clone()) else {
            tracing::warn!(container_id = %exec.container_id, "failed to duplicate the terminal");
            let _ = child.kill().await;
            let outcome = Outcome::Failed("failed to duplicate the terminal".to_string());
            let _ = output.send(SessionOutput::Finished(outcome)).await;
            return;
        };
        copies.push(tokio::spawn(copy_out(
            tokio::fs::File::from_std(terminal),
            exec.stdout.then(|| output.clone()),
            SessionOutput::Stdout,
        )));
        if exec.stdin {
            stdin = Some(Box::new(tokio::fs::File::from_std(input)));
        }
        terminal_control = Some(control);
    } else {
        if let Some(stdout) = child.stdout.take() {
            copies.push(tokio::spawn(copy_out(
                stdout,
                exec.stdout.then(|| output.clone()),
                SessionOutput::Stdout,
            )));
        }
        if let Some(stderr) = child.stderr.take() {
            copies.push(tokio::spawn(copy_out(
                stderr,
                exec.stderr.then(|| output.clone()),
                SessionOutput::Stderr,
            )));
        }
        if let Some(pipe) = child.stdin.take() {
            stdin = Some(Box::new(pipe));
        }
    }

    let relay = tokio::spawn(async move {
        while let Some(event) = input.recv().await {
            match event {
                ClientInput::Stdin(data) => {
                    if let Some(pipe) = stdin.as_mut()
                        && (pipe.write_all(&data).await.is_err() || pipe.flush().await.is_err())
                    {
                        stdin = None;
                    }
                }
                // Dropping the pipe closes it. A terminal stays open through its other
                // descriptors, as upstream runtimes leave it.
                ClientInput::StdinClosed => stdin = None,
                ClientInput::Resize(size) => {
                    if let Some(terminal) = &terminal_control {
                        crate::oci_runtime::resize_terminal(terminal, size.width, size.height);
                    }
                }
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
    relay.abort();
    let outcome = if exit_code == 0 {
        Outcome::Success
    } else {
        Outcome::ExitCode(exit_code)
    };
    let _ = output.send(SessionOutput::Finished(outcome)).await;
    tracing::info!(container_id = %exec.container_id, exit_code, "exec session ended");
}

/// Relays a container's output from its shim to the client, and the client's stdin
/// and terminal resizes back, until the container exits (the shim closes the socket)
/// or the client goes away.
pub async fn run_attach(
    attach: PendingAttach,
    mut input: mpsc::Receiver<ClientInput>,
    output: mpsc::Sender<SessionOutput>,
) {
    let shim = match tokio::net::UnixStream::connect(&attach.socket).await {
        Ok(shim) => shim,
        Err(error) => {
            let message = format!(
                "failed to attach to container {}: {error}",
                attach.container_id
            );
            tracing::warn!(container_id = %attach.container_id, %error, "failed to attach");
            let _ = output
                .send(SessionOutput::Finished(Outcome::Failed(message)))
                .await;
            return;
        }
    };
    let mut resizer = if attach.tty {
        connect_resize_socket(&attach).await
    } else {
        None
    };
    tracing::info!(container_id = %attach.container_id, tty = attach.tty, "attach session started");
    let (shim_read, shim_write) = shim.into_split();
    // Dropping the write half signals the shim that this client detached, which
    // closes the container's stdin when it has `stdinOnce`.
    let mut shim_write = Some(shim_write);

    let relay = relay_shim_output(shim_read, &attach, output.clone());
    tokio::pin!(relay);
    loop {
        tokio::select! {
            () = &mut relay => break,
            event = input.recv() => match event {
                Some(ClientInput::Stdin(data)) if attach.stdin => {
                    if let Some(pipe) = shim_write.as_mut()
                        && pipe.write_all(&data).await.is_err()
                    {
                        shim_write = None;
                    }
                }
                Some(ClientInput::StdinClosed) if attach.stdin => shim_write = None,
                Some(ClientInput::Stdin(_) | ClientInput::StdinClosed) => {}
                Some(ClientInput::Resize(size)) => {
                    if let Some(socket) = resizer.as_mut()
                        && socket.write_all(&crate::shim::resize_message(size.width, size.height)).await.is_err()
                    {
                        resizer = None;
                    }
                }
                None => {
                    tracing::info!(container_id = %attach.container_id, "attach client went away");
                    return;
                }
            },
        }
    }
    let _ = output.send(SessionOutput::Finished(Outcome::Success)).await;
    tracing::info!(container_id = %attach.container_id, "attach session ended");
}

/// Connects to the shim's resize socket. A shim started by an older daemon has none,
/// so its terminal keeps its size.
async fn connect_resize_socket(attach: &PendingAttach) -> Option<tokio::net::UnixStream> {
    let path = crate::shim::resize_socket_path(&attach.socket);
    match tokio::net::UnixStream::connect(&path).await {
        Ok(socket) => Some(socket),
        Err(error) => {
            tracing::warn!(container_id = %attach.container_id, path = %path.display(), %error, "terminal resize is unavailable for this attach session");
            None
        }
    }
}

/// Reads the shim's output frames (`[stream][length: u32 big-endian][bytes]`) and
/// forwards those of the streams the client requested, until the shim closes the
/// socket or the client stops reading.
async fn relay_shim_output(
    mut shim: tokio::net::unix::OwnedReadHalf,
    attach: &PendingAttach,
    output: mpsc::Sender<SessionOutput>,
) {
    let mut header = [0u8; 5];
    while shim.read_exact(&mut header).await.is_ok() {
        let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let mut data = vec![0u8; length];
        if shim.read_exact(&mut data).await.is_err() {
            break;
        }
        let message = match header[0] {
            1 if attach.stdout => SessionOutput::Stdout(data.into()),
            2 if attach.stderr => SessionOutput::Stderr(data.into()),
            _ => continue,
        };
        if output.send(message).await.is_err() {
            break;
        }
    }
}

/// Copies `source` to the client as `wrap(chunk)` messages until EOF. Without a
/// sender the output is read and dropped, so a full pipe does not stall the process.
async fn copy_out(
    mut source: impl tokio::io::AsyncRead + Unpin,
    output: Option<mpsc::Sender<SessionOutput>>,
    wrap: fn(Bytes) -> SessionOutput,
) {
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        match source.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(count) => {
                if let Some(output) = &output
                    && output
                        .send(wrap(Bytes::copy_from_slice(&buffer[..count])))
                        .await
                        .is_err()
                {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_status_carries_the_code_as_cause() {
        assert_eq!(Outcome::Success.status()["status"], "Success");
        let failure = Outcome::ExitCode(7).status();
        assert_eq!(failure["status"], "Failure");
        assert_eq!(failure["reason"], "NonZeroExitCode");
        assert_eq!(failure["details"]["causes"][0]["reason"], "ExitCode");
        assert_eq!(failure["details"]["causes"][0]["message"], "7");
        assert!(failure.get("code").is_none(), "{failure}");
    }

    #[test]
    fn failed_status_is_an_internal_error() {
        let status = Outcome::Failed("no such container".to_string()).status();
        assert_eq!(status["status"], "Failure");
        assert_eq!(status["reason"], "InternalError");
        assert_eq!(status["code"], 500);
        assert_eq!(
            status["message"],
            "Internal error occurred: no such container"
        );
    }

    #[test]
    fn plain_message_only_for_failures() {
        assert_eq!(Outcome::Success.message(), None);
        assert_eq!(
            Outcome::ExitCode(3).message().as_deref(),
            Some(
                "command terminated with non-zero exit code: error executing command, exit code 3"
            )
        );
    }
}
