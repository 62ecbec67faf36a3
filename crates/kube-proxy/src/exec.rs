//! The seam between the proxy and the host's command-line tools (iptables-save,
//! iptables-restore, iptables, conntrack). [`Executor`] runs one command; the real
//! [`CommandExecutor`] runs it in the caller's network namespace, and unit tests use
//! a recording fake.

use std::io::Write;
use std::process::{Command, Stdio};

/// One command to run: program, arguments and optional standard input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cmd {
    pub program: String,
    pub args: Vec<String>,
    pub stdin: Option<Vec<u8>>,
}

impl Cmd {
    pub fn new(program: &str, args: &[&str]) -> Self {
        Cmd {
            program: program.to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
            stdin: None,
        }
    }

    pub fn with_stdin(mut self, stdin: Vec<u8>) -> Self {
        self.stdin = Some(stdin);
        self
    }

    /// Formats the command line as a shell would show it, for logs and errors.
    pub fn display(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The exit code and output of a finished command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CmdOutput {
    /// The exit code; `None` when a signal ended the process.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CmdOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// A command that could not run or exited non-zero.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("failed to run {command}: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{command} exited with {code:?}: {stderr}")]
    Failed {
        command: String,
        code: Option<i32>,
        stderr: String,
    },
}

/// Runs commands. Implementations must be usable from any thread.
pub trait Executor: Send + Sync {
    /// Runs `cmd` to completion and returns its output. An `Err` means the program
    /// could not be started; a non-zero exit is reported in [`CmdOutput::code`].
    fn run(&self, cmd: &Cmd) -> Result<CmdOutput, ExecError>;

    /// Runs `cmd` and turns a non-zero exit into [`ExecError::Failed`].
    fn run_checked(&self, cmd: &Cmd) -> Result<CmdOutput, ExecError> {
        let output = self.run(cmd)?;
        if output.success() {
            return Ok(output);
        }
        Err(ExecError::Failed {
            command: cmd.display(),
            code: output.code,
            stderr: output.stderr.trim().to_string(),
        })
    }
}

/// Runs commands as child processes of this process, so in the network namespace of
/// the calling thread.
#[derive(Clone, Debug, Default)]
pub struct CommandExecutor;

impl Executor for CommandExecutor {
    fn run(&self, cmd: &Cmd) -> Result<CmdOutput, ExecError> {
        let spawn_error = |source| ExecError::Spawn {
            command: cmd.display(),
            source,
        };
        let mut child = Command::new(&cmd.program)
            .args(&cmd.args)
            .stdin(if cmd.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        if let (Some(input), Some(mut pipe)) = (cmd.stdin.as_ref(), child.stdin.take()) {
            pipe.write_all(input).map_err(spawn_error)?;
        }
        let output = child.wait_with_output().map_err(spawn_error)?;
        Ok(CmdOutput {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

#[cfg(test)]
pub(crate) mod fake {
    use super::*;
    use std::sync::Mutex;

    /// Records every command and returns canned outputs matched by command-line prefix.
    /// Unknown commands succeed with empty output.
    #[derive(Default)]
    pub struct FakeExecutor {
        pub commands: Mutex<Vec<Cmd>>,
        pub outputs: Mutex<Vec<(String, CmdOutput)>>,
    }

    impl FakeExecutor {
        pub fn take(&self) -> Vec<Cmd> {
            std::mem::take(&mut *self.commands.lock().unwrap())
        }

        /// Returns `output` for the next command whose display starts with `prefix`.
        pub fn respond(&self, prefix: &str, output: CmdOutput) {
            self.outputs
                .lock()
                .unwrap()
                .push((prefix.to_string(), output));
        }
    }

    impl Executor for FakeExecutor {
        fn run(&self, cmd: &Cmd) -> Result<CmdOutput, ExecError> {
            self.commands.lock().unwrap().push(cmd.clone());
            let display = cmd.display();
            let mut outputs = self.outputs.lock().unwrap();
            if let Some(index) = outputs
                .iter()
                .position(|(prefix, _)| display.starts_with(prefix.as_str()))
            {
                return Ok(outputs.remove(index).1);
            }
            Ok(CmdOutput {
                code: Some(0),
                ..CmdOutput::default()
            })
        }
    }
}
