//! Child processes of the launcher: the daemons of the control plane and the nodes.
//!
//! A [`Daemon`] owns its child: standard output and error go to a log file, and
//! [`Daemon::stop`] (also run on drop) sends SIGTERM, waits, then sends SIGKILL.
//! [`stop_pid`] does the same for a process recorded by an earlier launcher run, and
//! checks its start time first so a reused PID is never signalled.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long a daemon gets between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// A running daemon started by the launcher.
#[derive(Debug)]
pub struct Daemon {
    /// The name shown in progress lines and used for the log file.
    pub name: String,
    /// The log file that receives standard output and error.
    pub log: PathBuf,
    /// The command line, program first, so the daemon can be started again.
    pub command: Vec<String>,
    child: Option<Child>,
    pid: u32,
    start_time: u64,
}

/// A daemon as recorded in the cluster's state file.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DaemonRecord {
    /// The daemon's name.
    pub name: String,
    /// Its process ID.
    pub pid: u32,
    /// Its start time in clock ticks since boot (field 22 of /proc/PID/stat).
    pub start_time: u64,
}

impl Daemon {
    /// Starts `command` (program first) with its output appended to `log`.
    pub fn start(name: &str, command: &[String], log: &Path) -> std::io::Result<Daemon> {
        if let Some(parent) = log.parent() {
            fs::create_dir_all(parent)?;
        }
        let output = File::options().create(true).append(true).open(log)?;
        let child = Command::new(&command[0])
            .args(&command[1..])
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .spawn()
            .map_err(|error| {
                std::io::Error::new(
                    error.kind(),
                    format!("failed to start {}: {error}", command[0]),
                )
            })?;
        let pid = child.id();
        Ok(Daemon {
            name: name.to_string(),
            log: log.to_path_buf(),
            command: command.to_vec(),
            start_time: process_start_time(pid).unwrap_or_default(),
            child: Some(child),
            pid,
        })
    }

    /// Returns the process ID.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Returns the record written to the state file.
    pub fn record(&self) -> DaemonRecord {
        DaemonRecord {
            name: self.name.clone(),
            pid: self.pid,
            start_time: self.start_time,
        }
    }

    /// Starts the daemon again with the same command after it stopped.
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.stop();
        let started = Daemon::start(&self.name, &self.command, &self.log)?;
        *self = started;
        Ok(())
    }

    /// Returns the exit status if the daemon has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten())
    }

    /// Stops the daemon: SIGTERM, then SIGKILL after [`STOP_GRACE`]; reaps it.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        signal(self.pid, libc::SIGTERM);
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            sleep(Duration::from_millis(50));
        }
        tracing::warn!(daemon = %self.name, pid = self.pid, "daemon ignored SIGTERM; sending SIGKILL");
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Stops a process recorded by an earlier launcher run, if it is still the same
/// process: SIGTERM, then SIGKILL after [`STOP_GRACE`]. Returns whether it was running.
pub fn stop_pid(record: &DaemonRecord) -> bool {
    if !same_process(record) {
        return false;
    }
    signal(record.pid, libc::SIGTERM);
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline {
        if !same_process(record) {
            return true;
        }
        sleep(Duration::from_millis(50));
    }
    signal(record.pid, libc::SIGKILL);
    true
}

/// Returns whether the recorded process still runs: its PID has the recorded start
/// time and it is not a zombie that exited and waits to be reaped.
pub fn is_running(record: &DaemonRecord) -> bool {
    same_process(record)
}

fn same_process(record: &DaemonRecord) -> bool {
    process_start_time(record.pid) == Some(record.start_time) && !is_zombie(record.pid)
}

fn is_zombie(pid: u32) -> bool {
    stat_fields(pid).is_some_and(|fields| fields.first().is_some_and(|state| state == "Z"))
}

/// Sends `signal` to `pid`, ignoring a process that is already gone.
pub fn signal(pid: u32, signal: i32) {
    let Ok(pid) = i32::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) has no memory-safety preconditions; a stale PID fails with ESRCH.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Returns field 22 of /proc/PID/stat (the start time in clock ticks since boot).
pub fn process_start_time(pid: u32) -> Option<u64> {
    stat_fields(pid)?.get(19)?.parse().ok()
}

/// Returns the fields of /proc/PID/stat after the command name, starting at the state.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    Some(after_name.split_whitespace().map(str::to_string).collect())
}
