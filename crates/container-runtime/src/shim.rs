//! The per-container shim: the parent of one container's process.
//!
//! StartContainer runs `container-runtime shim ...`. The shim makes itself a child
//! subreaper, runs `<oci-runtime> create` with its own pipes as the container's stdout
//! and stderr (or, with `--tty`, receives the master side of the container's
//! pseudo-terminal over a console socket and logs its output as stdout), and reports `ok <pid>` (or `error: <message>`) on its stdout. The daemon
//! then runs `<oci-runtime> start`. From there the shim copies output into the CRI log
//! and to clients of its attach socket. With `--stdin` it feeds their input to the
//! container's stdin pipe. It reopens the log on SIGUSR1 (ReopenContainerLog), reaps
//! the container's process and writes `exit.json` before exiting. Because the shim runs in its own process group and
//! is not tied to the daemon, containers keep running and report their exit across
//! daemon restarts.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::logs::{LogFile, copy_stream};
use crate::store::{ExitRecord, now_nanos, write_json};

/// Command line of the `shim` subcommand; the daemon fills it in, not users.
#[derive(clap::Args, Debug, Clone)]
pub struct ShimArgs {
    /// Container id as known to the OCI runtime.
    #[arg(long)]
    pub id: String,
    /// OCI bundle directory holding config.json.
    #[arg(long)]
    pub bundle: PathBuf,
    /// OCI runtime binary.
    #[arg(long)]
    pub runtime: PathBuf,
    /// OCI runtime state directory (`--root` of runc).
    #[arg(long)]
    pub runtime_root: PathBuf,
    /// CRI log file; empty drops the output.
    #[arg(long, default_value = "")]
    pub log_path: PathBuf,
    /// Directory for exit.json, container.pid and the OCI runtime's log.
    #[arg(long)]
    pub container_dir: PathBuf,
    /// Container cgroup relative to the cgroup v1 hierarchy roots, for OOM detection.
    #[arg(long, default_value = "")]
    pub cgroup_path: String,
    /// Give the container a stdin pipe fed by attached clients.
    #[arg(long)]
    pub stdin: bool,
    /// Close stdin when the first attached client detaches.
    #[arg(long)]
    pub stdin_once: bool,
    /// The container's stdio is a pseudo-terminal that the OCI runtime allocates and
    /// sends to the shim over a console socket next to the attach socket.
    #[arg(long)]
    pub tty: bool,
    /// Unix socket for attach clients. A client receives output as frames of
    /// `[stream: 1 stdout | 2 stderr][length: u32 big-endian][bytes]` and may write raw
    /// bytes, which go to the container's stdin. With `--tty`, a second socket beside
    /// it ([`resize_socket_path`]) takes terminal sizes ([`resize_message`]).
    #[arg(long)]
    pub attach_socket: PathBuf,
}

/// Returns the socket on which the shim of a terminal container takes resize
/// messages, next to its attach socket.
pub fn resize_socket_path(attach_socket: &Path) -> PathBuf {
    attach_socket.with_extension("resize")
}

/// Encodes a terminal size for the resize socket: width then height in character
/// cells, each a big-endian u16.
pub fn resize_message(width: u16, height: u16) -> [u8; 4] {
    let [w0, w1] = width.to_be_bytes();
    let [h0, h1] = height.to_be_bytes();
    [w0, w1, h0, h1]
}

/// Attached clients receiving the container's output.
type Clients = Arc<Mutex<Vec<UnixStream>>>;

/// Runs the shim to completion and returns its exit status.
pub fn run(args: ShimArgs) -> i32 {
    match supervise(&args) {
        Ok(()) => 0,
        Err(message) => {
            println!("error: {message}");
            let _ = std::io::stdout().flush();
            1
        }
    }
}

fn supervise(args: &ShimArgs) -> Result<(), String> {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes an integer and touches no memory.
    let subreaper = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    if subreaper != 0 {
        return Err(format!(
            "prctl(PR_SET_CHILD_SUBREAPER) failed: {}",
            std::io::Error::last_os_error()
        ));
    }

    // Block SIGUSR1 before any thread starts so only the signal thread receives it.
    let mut reopen_signal = SigSet::empty();
    reopen_signal.add(Signal::SIGUSR1);
    reopen_signal
        .thread_block()
        .map_err(|errno| format!("failed to block SIGUSR1: {errno}"))?;

    let log = LogFile::open(&args.log_path)
        .map_err(|error| format!("failed to open log {}: {error}", args.log_path.display()))?;
    let clients: Clients = Arc::new(Mutex::new(Vec::new()));
    let pid_file = args.container_dir.join("container.pid");
    let runtime_log = args.container_dir.join("oci-runtime.log");
    let mut create = Command::new(&args.runtime);
    create
        .arg("--root")
        .arg(&args.runtime_root)
        .arg("--log")
        .arg(&runtime_log)
        .arg("create")
        .arg("--bundle")
        .arg(&args.bundle)
        .arg("--pid-file")
        .arg(&pid_file);

    let mut copiers = Vec::new();
    let mut stdin_writer = None;
    let mut console = None;
    let mut resize_target = None;
    if args.tty {
        let path = args.attach_socket.with_extension("console");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path)
            .map_err(|error| format!("failed to bind {}: {error}", path.display()))?;
        create
            .arg("--console-socket")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        console = Some((listener, path));
    } else {
        let (stdout_read, stdout_write) =
            nix::unistd::pipe().map_err(|errno| format!("pipe failed: {errno}"))?;
        let (stderr_read, stderr_write) =
            nix::unistd::pipe().map_err(|errno| format!("pipe failed: {errno}"))?;
        copiers.push(spawn_copier(stdout_read, "stdout", &log, &clients));
        copiers.push(spawn_copier(stderr_read, "stderr", &log, &clients));
        let stdin_read = if args.stdin {
            let (read, write) =
                nix::unistd::pipe().map_err(|errno| format!("pipe failed: {errno}"))?;
            stdin_writer = Some(std::fs::File::from(write));
            Stdio::from(read)
        } else {
            Stdio::null()
        };
        create
            .stdin(stdin_read)
            .stdout(Stdio::from(stdout_write))
            .stderr(Stdio::from(stderr_write));
    }

    let status = create
        .arg(&args.id)
        .status()
        .map_err(|error| format!("failed to run {}: {error}", args.runtime.display()))?;
    // The command keeps the write ends of the output pipes open, and the copiers see
    // EOF only after the container's copies are the last ones.
    drop(create);
    if !status.success() {
        let detail = std::fs::read_to_string(&runtime_log).unwrap_or_default();
        let last = detail.lines().last().unwrap_or("").to_string();
        return Err(format!(
            "{} create failed ({status}): {last}",
            args.runtime.display()
        ));
    }

    if let Some((listener, path)) = console {
        // The OCI runtime has sent the terminal before `create` exits, so the
        // connection is already queued.
        let terminal = receive_terminal(&listener);
        let _ = std::fs::remove_file(&path);
        let terminal = terminal?;
        let output = terminal
            .try_clone()
            .map_err(|error| format!("failed to duplicate the terminal: {error}"))?;
        copiers.push(spawn_copier(output, "stdout", &log, &clients));
        resize_target =
            Some(std::fs::File::from(terminal.try_clone().map_err(
                |error| format!("failed to duplicate the terminal: {error}"),
            )?));
        if args.stdin {
            stdin_writer = Some(std::fs::File::from(terminal));
        }
    }
    let stdin_writer = Arc::new(Mutex::new(stdin_writer));
    spawn_attach_listener(args, &clients, &stdin_writer)?;
    if let Some(terminal) = resize_target {
        spawn_resize_listener(&resize_socket_path(&args.attach_socket), terminal)?;
    }

    let pid: i32 = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .ok_or_else(|| format!("no pid in {}", pid_file.display()))?;
    println!("ok {pid}");
    let _ = std::io::stdout().flush();
    detach_stdout();

    spawn_reopen_thread(reopen_signal, log.clone());
    let exit_code = wait_for(Pid::from_raw(pid));
    let finished_at = now_nanos();

    // Output written just before the exit may still sit in the pipes, so wait for EOF.
    // The wait is bounded because a process outside the container's PID namespace may
    // keep the pipes open.
    for copier in copiers {
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while !copier.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    let record = ExitRecord {
        exit_code,
        finished_at,
        oom_killed: oom_killed(&args.cgroup_path),
    };
    write_json(&args.container_dir.join("exit.json"), &record)
        .map_err(|error| error.to_string())?;
    Ok(())
}

/// Accepts the OCI runtime's connection on the console socket and receives the
/// master side of the container's pseudo-terminal, passed as SCM_RIGHTS.
fn receive_terminal(listener: &UnixListener) -> Result<OwnedFd, String> {
    listener
        .set_nonblocking(true)
        .map_err(|error| format!("console socket: {error}"))?;
    let (stream, _) = listener
        .accept()
        .map_err(|error| format!("the OCI runtime sent no terminal: {error}"))?;
    stream
        .set_nonblocking(false)
        .map_err(|error| format!("console socket: {error}"))?;

    // runc sends the terminal's name as data; only the descriptor matters here.
    let mut name = [0u8; 4096];
    // u64 elements keep the control buffer aligned for cmsghdr.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: name.as_mut_ptr().cast(),
        iov_len: name.len(),
    };
    // SAFETY: an all-zero msghdr is valid; the pointers set below outlive the call.
    let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
    header.msg_iov = &mut iov;
    header.msg_iovlen = 1;
    header.msg_control = control.as_mut_ptr().cast();
    header.msg_controllen = std::mem::size_of_val(&control);
    // SAFETY: recvmsg writes only into the buffers that `header` describes.
    let received =
        unsafe { libc::recvmsg(stream.as_raw_fd(), &mut header, libc::MSG_CMSG_CLOEXEC) };
    if received < 0 {
        return Err(format!(
            "failed to receive the terminal: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: CMSG_FIRSTHDR reads the header filled in by recvmsg above.
    let message = unsafe { libc::CMSG_FIRSTHDR(&header) };
    // SAFETY: a non-null `message` points into `control`, filled in by the kernel.
    let rights = !message.is_null()
        && unsafe { (*message).cmsg_level == libc::SOL_SOCKET }
        && unsafe { (*message).cmsg_type == libc::SCM_RIGHTS };
    if !rights {
        return Err("the console socket message carries no file descriptor".to_string());
    }
    // SAFETY: an SCM_RIGHTS message contains at least one descriptor, now owned by us.
    let fd = unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(message).cast::<i32>()) };
    // SAFETY: the kernel installed `fd` in this process for us alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn spawn_copier(
    source: OwnedFd,
    stream: &'static str,
    log: &LogFile,
    clients: &Clients,
) -> std::thread::JoinHandle<()> {
    let log = log.clone();
    let clients = clients.clone();
    let tag: u8 = if stream == "stdout" { 1 } else { 2 };
    std::thread::spawn(move || {
        let forward = |chunk: &[u8]| {
            let mut frame = Vec::with_capacity(chunk.len() + 5);
            frame.push(tag);
            frame.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
            frame.extend_from_slice(chunk);
            let mut clients = clients.lock().unwrap_or_else(|poison| poison.into_inner());
            clients.retain_mut(|client| client.write_all(&frame).is_ok());
        };
        copy_stream(std::fs::File::from(source), stream, &log, &forward)
    })
}

/// Accepts attach clients: each gets the output from now on, and its bytes go to the
/// container's stdin. With `--stdin-once`, stdin closes when the first client leaves.
fn spawn_attach_listener(
    args: &ShimArgs,
    clients: &Clients,
    stdin: &Arc<Mutex<Option<std::fs::File>>>,
) -> Result<(), String> {
    let path = &args.attach_socket;
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)
        .map_err(|error| format!("failed to bind {}: {error}", path.display()))?;
    let clients = clients.clone();
    let stdin = stdin.clone();
    let stdin_once = args.stdin_once;
    std::thread::spawn(move || {
        for connection in listener.incoming().flatten() {
            if let Ok(output) = connection.try_clone() {
                clients
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner())
                    .push(output);
            }
            let stdin = stdin.clone();
            std::thread::spawn(move || forward_stdin(connection, &stdin, stdin_once));
        }
    });
    Ok(())
}

/// Accepts resize clients: each sends [`resize_message`] records, and every record
/// sets the window size of the container's terminal.
fn spawn_resize_listener(path: &Path, terminal: std::fs::File) -> Result<(), String> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)
        .map_err(|error| format!("failed to bind {}: {error}", path.display()))?;
    let terminal = Arc::new(terminal);
    std::thread::spawn(move || {
        for mut connection in listener.incoming().flatten() {
            let terminal = terminal.clone();
            std::thread::spawn(move || {
                let mut record = [0u8; 4];
                while connection.read_exact(&mut record).is_ok() {
                    let width = u16::from_be_bytes([record[0], record[1]]);
                    let height = u16::from_be_bytes([record[2], record[3]]);
                    crate::oci_runtime::resize_terminal(&terminal, width, height);
                }
            });
        }
    });
    Ok(())
}

fn forward_stdin(
    mut connection: UnixStream,
    stdin: &Mutex<Option<std::fs::File>>,
    stdin_once: bool,
) {
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        let count = match connection.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(count) => count,
        };
        let mut pipe = stdin.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some(file) = pipe.as_mut()
            && file.write_all(&buffer[..count]).is_err()
        {
            *pipe = None;
        }
    }
    if stdin_once {
        *stdin.lock().unwrap_or_else(|poison| poison.into_inner()) = None;
    }
}

fn spawn_reopen_thread(signals: SigSet, log: LogFile) {
    std::thread::spawn(move || {
        while signals.wait().is_ok() {
            let _ = log.reopen();
        }
    });
}

/// Points stdout at /dev/null so the daemon's read of the report pipe reaches EOF.
fn detach_stdout() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        // SAFETY: dup2 onto fd 1 with a valid open descriptor.
        unsafe { libc::dup2(null.as_raw_fd(), 1) };
    }
}

/// Reaps children until `pid` exits and returns its exit code (128 + signal if killed).
fn wait_for(pid: Pid) -> i32 {
    loop {
        match waitpid(None, None) {
            Ok(WaitStatus::Exited(reaped, code)) if reaped == pid => return code,
            Ok(WaitStatus::Signaled(reaped, signal, _)) if reaped == pid => {
                return 128 + signal as i32;
            }
            Ok(_) => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            // No children left: the process vanished without being reaped by us.
            Err(_) => return 255,
        }
    }
}

/// Reports whether the kernel OOM killer ran in the container's memory cgroup.
fn oom_killed(cgroup_path: &str) -> bool {
    if cgroup_path.is_empty() {
        return false;
    }
    let path = format!(
        "/sys/fs/cgroup/memory/{}/memory.oom_control",
        cgroup_path.trim_start_matches('/')
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    text.lines()
        .filter_map(|line| line.strip_prefix("oom_kill "))
        .any(|count| count.trim().parse::<u64>().unwrap_or(0) > 0)
}
