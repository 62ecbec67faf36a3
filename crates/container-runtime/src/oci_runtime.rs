//! The OCI runtime command line (runc or crun): start, kill, delete, state, update, exec.
//!
//! `create` is run by the [`crate::shim`], which must be the container's parent.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result};

/// Output of a process run inside a container by [`OciRuntime::exec`].
#[derive(Debug, Default)]
pub struct ExecOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
}

/// A process started by [`OciRuntime::spawn_exec`].
pub struct ExecProcess {
    pub child: tokio::process::Child,
    /// Master side of the session's pseudo-terminal, when one was requested.
    pub terminal: Option<std::fs::File>,
}

/// Sets the window size of the terminal whose master side is `terminal`.
pub fn resize_terminal(terminal: &std::fs::File, width: u16, height: u16) {
    use std::os::fd::AsRawFd;
    let size = libc::winsize {
        ws_row: height,
        ws_col: width,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize from a valid pointer.
    unsafe { libc::ioctl(terminal.as_raw_fd(), libc::TIOCSWINSZ, &size) };
}

/// One OCI runtime binary and its state directory.
#[derive(Clone, Debug)]
pub struct OciRuntime {
    pub binary: PathBuf,
    pub root: PathBuf,
}

impl OciRuntime {
    fn command(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.binary);
        command
            .arg("--root")
            .arg(&self.root)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    async fn run(&self, args: &[&str]) -> Result<()> {
        let output = self
            .command()
            .args(args)
            .output()
            .await
            .map_err(Error::io("failed to run OCI runtime", &self.binary))?;
        if output.status.success() {
            return Ok(());
        }
        Err(Error::Internal(format!(
            "{} {} failed ({}): {}",
            self.binary.display(),
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }

    /// Starts the user process of a created container.
    pub async fn start(&self, id: &str) -> Result<()> {
        self.run(&["start", id]).await
    }

    /// Sends `signal` (a number) to the container's init process.
    pub async fn kill(&self, id: &str, signal: i32) -> Result<()> {
        self.run(&["kill", id, &signal.to_string()]).await
    }

    /// Deletes the container's runtime state and cgroup, killing it if needed. A
    /// container the runtime does not know is not an error.
    pub async fn delete(&self, id: &str) -> Result<()> {
        match self.run(&["delete", "--force", id]).await {
            Err(Error::Internal(message))
                if message.contains("does not exist") || message.contains("not found") =>
            {
                Ok(())
            }
            other => other,
        }
    }

    /// Applies new cgroup limits (an OCI `LinuxResources` JSON document) to a container.
    pub async fn update(&self, id: &str, resources: &serde_json::Value) -> Result<()> {
        let mut child = self
            .command()
            .args(["update", "--resources", "-", id])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(Error::io("failed to run OCI runtime", &self.binary))?;
        if let Some(mut stdin) = child.stdin.take() {
            let body = serde_json::to_vec(resources).unwrap_or_default();
            stdin
                .write_all(&body)
                .await
                .map_err(Error::io("failed to write to OCI runtime", &self.binary))?;
        }
        let output = child
            .wait_with_output()
            .await
            .map_err(Error::io("failed to wait for OCI runtime", &self.binary))?;
        if !output.status.success() {
            return Err(Error::Internal(format!(
                "{} update failed: {}",
                self.binary.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(())
    }

    /// Starts `cmd` in the running container; the caller owns the child. Without `tty`,
    /// stdout and stderr (and stdin when `stdin` is set) are pipes. With `tty`, the OCI
    /// runtime runs in a new session whose controlling terminal is a pseudo-terminal
    /// created here. It relays that terminal to the one it allocates in the container,
    /// and the pseudo-terminal's master side is returned.
    pub fn spawn_exec(
        &self,
        id: &str,
        cmd: &[String],
        stdin: bool,
        tty: bool,
    ) -> Result<ExecProcess> {
        let mut command = self.command();
        command.arg("exec");
        if !tty {
            command
                .arg(id)
                .args(cmd)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            if stdin {
                command.stdin(Stdio::piped());
            }
            let child = command
                .spawn()
                .map_err(Error::io("failed to run OCI runtime", &self.binary))?;
            return Ok(ExecProcess {
                child,
                terminal: None,
            });
        }

        let pty = nix::pty::openpty(None, None).map_err(|errno| {
            Error::Internal(format!("failed to open a pseudo-terminal: {errno}"))
        })?;
        let slave = std::fs::File::from(pty.slave);
        let clone = |file: &std::fs::File| {
            file.try_clone()
                .map_err(Error::io("failed to duplicate", "/dev/ptmx"))
        };
        command
            .arg("--tty")
            .arg(id)
            .args(cmd)
            .stdin(Stdio::from(clone(&slave)?))
            .stdout(Stdio::from(clone(&slave)?))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls (setsid, ioctl) run between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .map_err(Error::io("failed to run OCI runtime", &self.binary))?;
        Ok(ExecProcess {
            child,
            terminal: Some(std::fs::File::from(pty.master)),
        })
    }

    /// Runs `cmd` in the running container and collects its output. With a `timeout`,
    /// the process is killed when it expires and [`Error::DeadlineExceeded`] returned.
    pub async fn exec(
        &self,
        id: &str,
        cmd: &[String],
        timeout: Option<Duration>,
        pid_file: PathBuf,
    ) -> Result<ExecOutput> {
        let _ = std::fs::remove_file(&pid_file);
        let child = self
            .command()
            .arg("exec")
            .arg("--pid-file")
            .arg(&pid_file)
            .arg(id)
            .args(cmd)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(Error::io("failed to run OCI runtime", &self.binary))?;

        let waited = child.wait_with_output();
        let output = match timeout {
            Some(limit) => match tokio::time::timeout(limit, waited).await {
                Ok(output) => output,
                Err(_) => {
                    // runc exec forwards signals, but SIGKILL cannot be forwarded, so
                    // the process it started is killed directly.
                    if let Some(pid) = std::fs::read_to_string(&pid_file)
                        .ok()
                        .and_then(|text| text.trim().parse::<i32>().ok())
                    {
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(pid),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    }
                    let _ = std::fs::remove_file(&pid_file);
                    return Err(Error::DeadlineExceeded(format!(
                        "command {cmd:?} in container {id} timed out after {}s",
                        limit.as_secs()
                    )));
                }
            },
            None => waited.await,
        };
        let _ = std::fs::remove_file(&pid_file);
        let output = output.map_err(Error::io("failed to wait for OCI runtime", &self.binary))?;
        let exit_code = output.status.code().unwrap_or(255);
        Ok(ExecOutput {
            stdout: output.stdout,
            stderr: output.stderr,
            exit_code,
        })
    }
}
