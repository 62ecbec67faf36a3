//! Real etcd servers for tests and benchmarks.
//!
//! [`EtcdServer::start`] runs one `/usr/bin/etcd` member on loopback with its own
//! temporary data directory and free client and peer ports. [`EtcdCluster::start`] runs
//! several members that form one cluster. Both wait until every member reports healthy
//! on `/health`, and both kill their processes and remove their directories on drop,
//! also when a test panics.
//!
//! The API is blocking (std::process), so it works from benchmarks and from async tests
//! alike. In an async test, use a multi-thread runtime if background tasks such as a
//! watch must keep running while a member starts or stops.
//!
//! Each member writes its log (`--logger=zap --log-outputs=stderr`) to
//! `member-<index>.log` in the temporary directory; start failures include the log's
//! tail.
//!
//! [`MemberSpec`] (etcd's command line for one member) and [`probe_health`] are public
//! so that the local-cluster launcher starts its etcd members the same way.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::interface::MAX_VALUE_BYTES;

/// Path of the etcd binary the helpers run (Debian's etcd-server package).
pub const ETCD_BINARY: &str = "/usr/bin/etcd";

/// Time a member gets to become healthy after it is spawned.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Time a member gets to exit after SIGTERM before it is sent SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Interval between health probes and between exit checks.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Size of the log tail included in start errors, in bytes.
const LOG_TAIL_BYTES: u64 = 4096;

/// `--max-request-bytes` given to every member: room for a value of
/// [`MAX_VALUE_BYTES`] plus the key and the transaction around it, because etcd's
/// default (also 1.5 MiB) counts the whole request.
const MAX_REQUEST_BYTES: usize = MAX_VALUE_BYTES + 64 * 1024;

/// Failures of the test helpers.
#[derive(Debug, thiserror::Error)]
pub enum TestingError {
    /// A file system or process operation failed.
    #[error("{operation} failed: {source}")]
    Io {
        operation: String,
        #[source]
        source: std::io::Error,
    },

    /// The member exited before it became healthy.
    #[error("etcd member {name} exited during start with {status}; log tail:\n{log_tail}")]
    Exited {
        name: String,
        status: ExitStatus,
        log_tail: String,
    },

    /// The member did not report healthy within the start timeout.
    #[error("etcd member {name} was not healthy within {timeout:?}; log tail:\n{log_tail}")]
    StartTimedOut {
        name: String,
        timeout: Duration,
        log_tail: String,
    },

    /// A member index passed to [`EtcdCluster`] is out of range.
    #[error("no etcd member with index {index}; the cluster has {size} members")]
    NoSuchMember { index: usize, size: usize },
}

fn io_error(operation: impl Into<String>) -> impl FnOnce(std::io::Error) -> TestingError {
    let operation = operation.into();
    move |source| TestingError::Io { operation, source }
}

/// A temporary directory removed on drop.
#[derive(Debug)]
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh directory under the system temp directory.
    fn create(label: &str) -> Result<Self, TestingError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);

        let base = std::env::temp_dir();
        loop {
            let name = format!(
                "{label}-{}-{}-{:08x}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed),
                rand::random::<u32>()
            );
            let path = base.join(name);
            match fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(error) => {
                    return Err(io_error(format!("creating {}", path.display()))(error));
                }
            }
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(error) = fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), %error, "failed to remove temp dir");
        }
    }
}

/// Returns a loopback port that was free a moment ago.
///
/// NOTE: another process may take the port between this check and etcd's bind. etcd
/// then exits with "address already in use", and [`start_members`] retries with new
/// ports.
fn free_port() -> Result<u16, TestingError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(io_error("binding 127.0.0.1:0 to find a free port"))?;
    let port = listener
        .local_addr()
        .map_err(io_error("reading the bound port"))?
        .port();
    Ok(port)
}

/// The TLS files of an etcd member. One CA verifies both clients and peers, as in
/// the etcd that kubeadm sets up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberTls {
    /// The CA (`--trusted-ca-file`, `--peer-trusted-ca-file`).
    pub ca_file: PathBuf,
    /// The serving certificate for clients (`--cert-file`).
    pub cert_file: PathBuf,
    /// The key of `cert_file` (`--key-file`).
    pub key_file: PathBuf,
    /// The certificate for peer connections, valid for server and client
    /// authentication (`--peer-cert-file`).
    pub peer_cert_file: PathBuf,
    /// The key of `peer_cert_file` (`--peer-key-file`).
    pub peer_key_file: PathBuf,
}

/// One etcd member on 127.0.0.1: its name, data directory, ports and TLS files.
/// [`MemberSpec::args`] turns it into etcd's command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberSpec {
    /// The member name (`--name`), unique in the cluster.
    pub name: String,
    /// The data directory (`--data-dir`).
    pub data_dir: PathBuf,
    /// The port for client requests.
    pub client_port: u16,
    /// The port for peer traffic.
    pub peer_port: u16,
    /// The port of a plain HTTP listener for `/health` and `/metrics`
    /// (`--listen-metrics-urls`). A TLS member needs it, because the health probe
    /// speaks plain HTTP.
    pub metrics_port: Option<u16>,
    /// Client and peer TLS with client certificate authentication; `None` serves
    /// plain HTTP.
    pub tls: Option<MemberTls>,
}

impl MemberSpec {
    fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Returns the client URL, such as `https://127.0.0.1:2379`.
    pub fn client_url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.client_port)
    }

    /// Returns the peer URL, such as `https://127.0.0.1:2380`.
    pub fn peer_url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.peer_port)
    }

    /// Returns the address that serves `/health` over plain HTTP: the metrics port
    /// when set, the client port otherwise.
    pub fn health_address(&self) -> SocketAddr {
        let port = self.metrics_port.unwrap_or(self.client_port);
        SocketAddr::from((Ipv4Addr::LOCALHOST, port))
    }

    /// Returns etcd's flags for this member of `cluster` (every member, this one
    /// included), whose members share the `cluster_token`. The state is `new`, which
    /// etcd ignores when the data directory already holds a member, so the same flags
    /// restart a stopped member.
    pub fn args(&self, cluster: &[MemberSpec], cluster_token: &str) -> Vec<String> {
        let initial_cluster = cluster
            .iter()
            .map(|member| format!("{}={}", member.name, member.peer_url()))
            .collect::<Vec<_>>()
            .join(",");
        let client_url = self.client_url();
        let peer_url = self.peer_url();
        let mut args = vec![
            format!("--name={}", self.name),
            format!("--data-dir={}", self.data_dir.display()),
            format!("--listen-client-urls={client_url}"),
            format!("--advertise-client-urls={client_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster={initial_cluster}"),
            format!("--initial-cluster-token={cluster_token}"),
            "--initial-cluster-state=new".to_string(),
            format!("--max-request-bytes={MAX_REQUEST_BYTES}"),
            "--logger=zap".to_string(),
            "--log-outputs=stderr".to_string(),
        ];
        if let Some(port) = self.metrics_port {
            args.push(format!("--listen-metrics-urls=http://127.0.0.1:{port}"));
        }
        if let Some(tls) = &self.tls {
            args.extend([
                format!("--trusted-ca-file={}", tls.ca_file.display()),
                format!("--cert-file={}", tls.cert_file.display()),
                format!("--key-file={}", tls.key_file.display()),
                "--client-cert-auth=true".to_string(),
                format!("--peer-trusted-ca-file={}", tls.ca_file.display()),
                format!("--peer-cert-file={}", tls.peer_cert_file.display()),
                format!("--peer-key-file={}", tls.peer_key_file.display()),
                "--peer-client-cert-auth=true".to_string(),
            ]);
        }
        args
    }
}

/// One etcd process and the command line it is (re)started with.
#[derive(Debug)]
struct Member {
    spec: MemberSpec,
    log_path: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
}

impl Member {
    fn spawn(&mut self) -> Result<(), TestingError> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(io_error(format!("opening {}", self.log_path.display())))?;
        let log_for_stdout = log
            .try_clone()
            .map_err(io_error("duplicating the log file handle"))?;

        let child = Command::new(ETCD_BINARY)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_for_stdout))
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(io_error(format!("spawning {ETCD_BINARY}")))?;

        let client_url = self.spec.client_url();
        tracing::debug!(member = %self.spec.name, pid = child.id(), client_url, "started etcd");
        self.child = Some(child);
        Ok(())
    }

    /// Blocks until the member reports healthy on `/health`, or fails when it exits or
    /// the start timeout passes.
    fn wait_healthy(&mut self) -> Result<(), TestingError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                let status = child
                    .try_wait()
                    .map_err(io_error(format!("checking etcd member {}", self.spec.name)))?;
                if let Some(status) = status {
                    self.child = None;
                    return Err(TestingError::Exited {
                        name: self.spec.name.clone(),
                        status,
                        log_tail: read_log_tail(&self.log_path),
                    });
                }
            }

            if probe_health(self.spec.health_address()) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(TestingError::StartTimedOut {
                    name: self.spec.name.clone(),
                    timeout: START_TIMEOUT,
                    log_tail: read_log_tail(&self.log_path),
                });
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// Sends SIGTERM, waits for the exit and sends SIGKILL after [`STOP_TIMEOUT`].
    fn stop(&mut self) -> Result<(), TestingError> {
        // The child stays in `self.child` until it is reaped, so an early error return
        // leaves it to `kill` in `Drop`.
        let Some(child) = self.child.as_mut() else {
            return Ok(());
        };

        // A reaped child's PID may belong to another process by now, so signal only a
        // child that has not exited yet.
        let exited = child
            .try_wait()
            .map_err(io_error("checking the etcd process"))?;
        if exited.is_some() {
            self.child = None;
            return Ok(());
        }

        let pid = child.id().to_string();
        let terminated = Command::new("kill")
            .args(["-TERM", &pid])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        match terminated {
            Ok(status) if status.success() => {}
            Ok(status) => {
                tracing::warn!(pid, %status, "kill -TERM failed; sending SIGKILL");
                return self.kill();
            }
            Err(error) => {
                tracing::warn!(pid, %error, "running kill -TERM failed; sending SIGKILL");
                return self.kill();
            }
        }

        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            let status = child
                .try_wait()
                .map_err(io_error("waiting for the etcd process"))?;
            if status.is_some() {
                self.child = None;
                return Ok(());
            }
            thread::sleep(POLL_INTERVAL);
        }

        tracing::warn!(pid, timeout = ?STOP_TIMEOUT, "etcd ignored SIGTERM; sending SIGKILL");
        self.kill()
    }

    /// Sends SIGKILL and reaps the process.
    fn kill(&mut self) -> Result<(), TestingError> {
        match self.child.take() {
            Some(mut child) => kill_child(&mut child),
            None => Ok(()),
        }
    }

    fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if let Err(error) = self.kill() {
            tracing::warn!(member = %self.spec.name, %error, "failed to kill etcd");
        }
    }
}

fn kill_child(child: &mut Child) -> Result<(), TestingError> {
    // `Child::kill` sends SIGKILL only while the child is unreaped, so it cannot hit a
    // recycled PID.
    if let Err(error) = child.kill()
        && error.kind() != std::io::ErrorKind::InvalidInput
    {
        return Err(io_error("killing the etcd process")(error));
    }
    child
        .wait()
        .map_err(io_error("waiting for the killed etcd process"))?;
    Ok(())
}

/// Sends `GET /health` over plain HTTP to `address` (a member's client port
/// without TLS, or its metrics port) and returns true when etcd responds with
/// `"health":"true"`, which needs an elected leader.
pub fn probe_health(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else {
        return false;
    };
    let timeout = Some(Duration::from_secs(2));
    if stream.set_read_timeout(timeout).is_err() || stream.set_write_timeout(timeout).is_err() {
        return false;
    }

    let request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    if stream.read_to_string(&mut response).is_err() {
        return false;
    }
    is_healthy_response(&response)
}

fn is_healthy_response(response: &str) -> bool {
    let compact: String = response.chars().filter(|c| !c.is_whitespace()).collect();
    compact.starts_with("HTTP/1.1200") && compact.contains("\"health\":\"true\"")
}

fn read_log_tail(path: &Path) -> String {
    let Ok(mut file) = File::open(path) else {
        return format!("(cannot open {})", path.display());
    };
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = length.saturating_sub(LOG_TAIL_BYTES);
    let mut tail = Vec::new();
    let read = std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(start))
        .and_then(|_| file.read_to_end(&mut tail));
    match read {
        Ok(_) => String::from_utf8_lossy(&tail).into_owned(),
        Err(error) => format!("(cannot read {}: {error})", path.display()),
    }
}

/// Builds the specs of `size` members under `root` with fresh ports. TLS members
/// also get a metrics port for the health probe.
fn member_specs(
    root: &Path,
    size: usize,
    tls: Option<&MemberTls>,
) -> Result<Vec<MemberSpec>, TestingError> {
    (0..size)
        .map(|index| {
            Ok(MemberSpec {
                name: format!("member-{index}"),
                data_dir: root.join(format!("member-{index}.etcd")),
                client_port: free_port()?,
                peer_port: free_port()?,
                metrics_port: match tls {
                    Some(_) => Some(free_port()?),
                    None => None,
                },
                tls: tls.cloned(),
            })
        })
        .collect()
}

/// True when a start failure looks like a port taken by another process.
fn is_port_conflict(error: &TestingError) -> bool {
    match error {
        TestingError::Exited { log_tail, .. } => log_tail.contains("address already in use"),
        _ => false,
    }
}

/// Number of attempts with new ports when a port turned out to be taken.
const START_ATTEMPTS: usize = 3;

/// Starts a cluster of `size` members under `root`. Retries with new ports and new
/// data directories when a port was taken in between.
fn start_members(
    root: &Path,
    size: usize,
    tls: Option<&MemberTls>,
) -> Result<Vec<Member>, TestingError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let specs = member_specs(root, size, tls)?;
        let token = format!("etcd-test-{:016x}", rand::random::<u64>());
        let mut members: Vec<Member> = specs
            .iter()
            .enumerate()
            .map(|(index, spec)| Member {
                spec: spec.clone(),
                log_path: root.join(format!("member-{index}.log")),
                args: spec.args(&specs, &token),
                child: None,
            })
            .collect();

        let started = spawn_and_wait(&mut members);
        match started {
            Ok(()) => return Ok(members),
            Err(error) if attempt < START_ATTEMPTS && is_port_conflict(&error) => {
                tracing::info!(%error, attempt, "etcd port taken; retrying with new ports");
                drop(members);
                for index in 0..size {
                    let _ = fs::remove_dir_all(root.join(format!("member-{index}.etcd")));
                }
            }
            Err(error) => return Err(error),
        }
    }
}

fn spawn_and_wait(members: &mut [Member]) -> Result<(), TestingError> {
    for member in members.iter_mut() {
        member.spawn()?;
    }
    // Members of a new cluster become healthy only together (a leader needs a quorum),
    // so all are spawned before the first health wait.
    for member in members.iter_mut() {
        member.wait_healthy()?;
    }
    Ok(())
}

/// One etcd member on loopback for a test. Dropping it kills the process and removes
/// its data directory.
#[derive(Debug)]
pub struct EtcdServer {
    member: Member,
    // Declared after `member` so the process is gone before its directory is removed.
    root: TempDir,
}

impl EtcdServer {
    /// Starts a single-member etcd with a fresh data directory and returns once it
    /// reports healthy on `/health`.
    ///
    /// # Errors
    /// [`TestingError`] when the temp directory or the process cannot be created, or
    /// etcd exits or stays unhealthy for 30 s.
    pub fn start() -> Result<Self, TestingError> {
        Self::start_member(None)
    }

    /// Starts a single-member etcd like [`EtcdServer::start`] that serves clients
    /// and peers over TLS with `tls` and requires client certificates. Its health is
    /// probed on a plain HTTP metrics port.
    ///
    /// # Errors
    /// As [`EtcdServer::start`]; a TLS file etcd cannot load makes it exit.
    pub fn start_tls(tls: MemberTls) -> Result<Self, TestingError> {
        Self::start_member(Some(&tls))
    }

    fn start_member(tls: Option<&MemberTls>) -> Result<Self, TestingError> {
        let root = TempDir::create("etcd-server")?;
        let mut members = start_members(&root.path, 1, tls)?;
        let member = members
            .pop()
            .ok_or(TestingError::NoSuchMember { index: 0, size: 0 })?;
        Ok(EtcdServer { member, root })
    }

    /// Returns the client URLs, e.g. `["http://127.0.0.1:40123"]`, or `https://`
    /// ones for a TLS server.
    pub fn endpoints(&self) -> Vec<String> {
        vec![self.member.spec.client_url()]
    }

    /// Returns the directory holding the data directory and the log.
    pub fn dir(&self) -> &Path {
        &self.root.path
    }

    /// Returns the path of the member's log file.
    pub fn log_path(&self) -> &Path {
        &self.member.log_path
    }

    /// Returns true while the etcd process runs.
    pub fn is_running(&mut self) -> bool {
        self.member.is_running()
    }

    /// Stops etcd gracefully: SIGTERM, then SIGKILL if it has not exited after 10 s.
    /// Does nothing when it is not running.
    pub fn stop(&mut self) -> Result<(), TestingError> {
        self.member.stop()
    }

    /// Kills etcd with SIGKILL and reaps it. Does nothing when it is not running.
    pub fn kill(&mut self) -> Result<(), TestingError> {
        self.member.kill()
    }

    /// Starts etcd again with the same data directory and ports (stopping it first if
    /// it runs) and returns once it reports healthy on `/health`.
    ///
    /// # Errors
    /// As [`EtcdServer::start`]. A port taken while etcd was down is not retried.
    pub fn restart(&mut self) -> Result<(), TestingError> {
        self.member.stop()?;
        self.member.spawn()?;
        self.member.wait_healthy()
    }
}

/// Several etcd members on loopback forming one cluster. Dropping it kills every
/// process and removes the data directories.
#[derive(Debug)]
pub struct EtcdCluster {
    members: Vec<Member>,
    // Declared after `members` so the processes are gone before the directory is removed.
    root: TempDir,
}

impl EtcdCluster {
    /// Starts a new cluster of `size` members and returns once every member reports
    /// healthy on `/health`, which requires an elected leader.
    ///
    /// # Errors
    /// As [`EtcdServer::start`].
    pub fn start(size: usize) -> Result<Self, TestingError> {
        let root = TempDir::create("etcd-cluster")?;
        let members = start_members(&root.path, size, None)?;
        Ok(EtcdCluster { members, root })
    }

    /// Returns the number of members.
    pub fn size(&self) -> usize {
        self.members.len()
    }

    /// Returns the client URLs of all members in index order.
    pub fn endpoints(&self) -> Vec<String> {
        self.members
            .iter()
            .map(|member| member.spec.client_url())
            .collect()
    }

    /// Returns the client URL of one member.
    pub fn endpoint(&self, index: usize) -> Result<String, TestingError> {
        Ok(self.member(index)?.spec.client_url())
    }

    /// Returns the directory holding the members' data directories and logs.
    pub fn dir(&self) -> &Path {
        &self.root.path
    }

    /// Stops one member gracefully (SIGTERM, then SIGKILL after 10 s).
    pub fn stop_member(&mut self, index: usize) -> Result<(), TestingError> {
        self.member_mut(index)?.stop()
    }

    /// Kills one member with SIGKILL.
    pub fn kill_member(&mut self, index: usize) -> Result<(), TestingError> {
        self.member_mut(index)?.kill()
    }

    /// Starts a stopped member again with its data directory and ports and returns once
    /// it reports healthy on `/health`. A running member is stopped first.
    pub fn start_member(&mut self, index: usize) -> Result<(), TestingError> {
        let member = self.member_mut(index)?;
        member.stop()?;
        member.spawn()?;
        member.wait_healthy()
    }

    /// Returns true while the member's process runs.
    pub fn is_member_running(&mut self, index: usize) -> Result<bool, TestingError> {
        Ok(self.member_mut(index)?.is_running())
    }

    fn member(&self, index: usize) -> Result<&Member, TestingError> {
        let size = self.members.len();
        self.members
            .get(index)
            .ok_or(TestingError::NoSuchMember { index, size })
    }

    fn member_mut(&mut self, index: usize) -> Result<&mut Member, TestingError> {
        let size = self.members.len();
        self.members
            .get_mut(index)
            .ok_or(TestingError::NoSuchMember { index, size })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_response_parsing() {
        let cases = [
            (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"health\":\"true\"}",
                true,
            ),
            (
                "HTTP/1.1 503 Service Unavailable\r\n\r\n{\"health\":\"false\"}",
                false,
            ),
            ("HTTP/1.1 200 OK\r\n\r\n{\"health\":\"false\"}", false),
            ("", false),
        ];
        for (response, expected) in cases {
            assert_eq!(
                is_healthy_response(response),
                expected,
                "response: {response:?}"
            );
        }
    }

    #[test]
    fn initial_cluster_lists_every_peer() {
        let spec = |index: usize, peer_port: u16| MemberSpec {
            name: format!("member-{index}"),
            data_dir: PathBuf::from("/nonexistent"),
            client_port: 1,
            peer_port,
            metrics_port: None,
            tls: None,
        };
        let specs = [spec(0, 2380), spec(1, 2381)];
        let args = specs[1].args(&specs, "token");
        assert!(
            args.contains(
                &"--initial-cluster=member-0=http://127.0.0.1:2380,member-1=http://127.0.0.1:2381"
                    .to_string()
            ),
            "{args:?}"
        );
        assert!(args.contains(&"--listen-peer-urls=http://127.0.0.1:2381".to_string()));
        assert!(!args.iter().any(|arg| arg.starts_with("--cert-file")));
    }

    #[test]
    fn tls_member_uses_https_and_client_certificates() {
        let tls = MemberTls {
            ca_file: PathBuf::from("/pki/ca.crt"),
            cert_file: PathBuf::from("/pki/server.crt"),
            key_file: PathBuf::from("/pki/server.key"),
            peer_cert_file: PathBuf::from("/pki/peer.crt"),
            peer_key_file: PathBuf::from("/pki/peer.key"),
        };
        let spec = MemberSpec {
            name: "etcd-1".to_string(),
            data_dir: PathBuf::from("/data"),
            client_port: 2379,
            peer_port: 2380,
            metrics_port: Some(2381),
            tls: Some(tls),
        };
        let args = spec.args(std::slice::from_ref(&spec), "token");
        for expected in [
            "--listen-client-urls=https://127.0.0.1:2379",
            "--initial-cluster=etcd-1=https://127.0.0.1:2380",
            "--listen-metrics-urls=http://127.0.0.1:2381",
            "--client-cert-auth=true",
            "--peer-client-cert-auth=true",
            "--trusted-ca-file=/pki/ca.crt",
            "--peer-key-file=/pki/peer.key",
        ] {
            assert!(
                args.contains(&expected.to_string()),
                "{expected} in {args:?}"
            );
        }
        assert_eq!(spec.health_address().port(), 2381);
    }

    #[test]
    fn temp_dir_removed_on_drop() {
        let dir = TempDir::create("storage-testing-unit").expect("create temp dir");
        let path = dir.path.clone();
        assert!(path.is_dir());
        drop(dir);
        assert!(!path.exists());
    }
}
