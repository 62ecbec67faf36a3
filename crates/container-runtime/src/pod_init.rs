//! Pod init: PID 1 of the PID namespace that the containers of a pod share when the
//! kubelet requests `NamespaceMode::POD` (`shareProcessNamespace: true`).
//!
//! Network, IPC and UTS namespaces outlive their processes through bind mounts (see
//! `namespaces`), but a PID namespace cannot: once its PID 1 exits, the kernel kills the
//! rest and refuses new members. So only sandboxes that share a PID namespace get a
//! long-lived process, and other sandboxes keep running without one. The init is this
//! binary in `pod-init` mode rather than a pause image, so a sandbox needs no image pull
//! and no OCI runtime call: it unshares the PID namespace, forks its PID 1, prints that
//! child's PID and exits. The child reaps the orphans that containers leave behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus};
use nix::unistd::{ForkResult, Pid};

use crate::error::{Error, Result};
use crate::store::PodInit;

/// Runs the `pod-init` mode. It must be called before any thread starts, because it
/// forks. Returns the exit status of the parent, and the forked init never returns.
pub fn run() -> i32 {
    if let Err(errno) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWPID) {
        eprintln!("unshare(CLONE_NEWPID) failed: {errno}");
        return 1;
    }
    // SAFETY: the process is single-threaded here (main calls this before starting any
    // thread or runtime), so the child may run ordinary code after fork.
    match unsafe { nix::unistd::fork() } {
        Ok(ForkResult::Parent { child }) => {
            println!("{child}");
            let _ = std::io::stdout().flush();
            0
        }
        Ok(ForkResult::Child) => reap_forever(),
        Err(errno) => {
            eprintln!("fork failed: {errno}");
            1
        }
    }
}

/// Runs PID 1 until SIGTERM or SIGINT: waits for SIGCHLD and reaps every exited child.
/// Like the pause process, the init exits on those signals even when a process of the
/// pod sends them, which ends the pod's PID namespace.
fn reap_forever() -> ! {
    let _ = nix::unistd::setsid();
    let _ = std::env::set_current_dir("/");
    // The daemon reads the parent's output until EOF, so the init must let go of the
    // inherited pipes even when /dev/null cannot be opened.
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null");
    for fd in 0..=2 {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 and close act on the standard descriptors only, which no Rust
        // object in this process owns.
        unsafe {
            match &null {
                Ok(null) => libc::dup2(null.as_raw_fd(), fd),
                Err(_) => libc::close(fd),
            };
        }
    }

    let mut signals = SigSet::empty();
    for signal in [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGINT] {
        signals.add(signal);
    }
    if signals.thread_block().is_err() {
        std::process::exit(1);
    }
    loop {
        match signals.wait() {
            Ok(Signal::SIGCHLD) => reap_exited(),
            Ok(_) => std::process::exit(0),
            Err(_) => continue,
        }
    }
}

fn reap_exited() {
    loop {
        match nix::sys::wait::waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(_) => continue,
        }
    }
}

/// Starts a pod init by running `binary pod-init` and returns its host PID and start
/// time.
///
/// NOTE: the init stays in the daemon's cgroup, not under the pod's cgroup parent.
pub async fn start(binary: &Path) -> Result<PodInit> {
    let output = tokio::process::Command::new(binary)
        .arg("pod-init")
        .stdin(std::process::Stdio::null())
        .process_group(0)
        .output()
        .await
        .map_err(Error::io("failed to start pod init", binary))?;
    if !output.status.success() {
        return Err(Error::Internal(format!(
            "pod init failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let pid: i32 = stdout
        .trim()
        .parse()
        .map_err(|_| Error::Internal(format!("pod init printed {stdout:?} instead of a PID")))?;
    let start_time = start_time(pid)
        .ok_or_else(|| Error::Internal(format!("pod init {pid} exited right after it started")))?;
    Ok(PodInit { pid, start_time })
}

/// Reports whether the init still runs, checked by PID and start time so that a reused
/// PID does not count.
pub fn is_running(init: &PodInit) -> bool {
    start_time(init.pid) == Some(init.start_time)
}

/// Returns the PID namespace file of a running init.
pub fn namespace_path(init: &PodInit) -> Result<PathBuf> {
    if !is_running(init) {
        return Err(Error::FailedPrecondition(format!(
            "the pod's PID namespace is gone: its init (PID {}) is not running",
            init.pid
        )));
    }
    Ok(PathBuf::from(format!("/proc/{}/ns/pid", init.pid)))
}

/// Kills the init, which ends the PID namespace and every process left in it. An init
/// that already exited is fine. The init is not a child of the daemon, so whichever
/// process adopted it reaps it.
pub fn stop(init: &PodInit) {
    if !is_running(init) {
        return;
    }
    if let Err(errno) = nix::sys::signal::kill(Pid::from_raw(init.pid), Signal::SIGKILL) {
        tracing::warn!(pid = init.pid, %errno, "failed to kill pod init");
    }
}

/// Reads the start time of a process in clock ticks since boot (field 22 of
/// `/proc/<pid>/stat`), or `None` when the process does not exist.
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces, so fields are
    // counted after the last ')'. That rest starts with field 3.
    let rest = &stat[stat.rfind(')')? + 1..];
    let state = rest.split_whitespace().next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_of_own_process_is_stable() {
        let pid = std::process::id() as i32;
        let first = start_time(pid).expect("own start time");
        assert_eq!(start_time(pid), Some(first));
        assert!(is_running(&PodInit {
            pid,
            start_time: first
        }));
        assert!(!is_running(&PodInit {
            pid,
            start_time: first + 1
        }));
    }
}
