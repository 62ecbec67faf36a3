//! Drives a real `container-runtime` daemon over its unix socket with the CRI gRPC
//! client: runc containers from a busybox root filesystem, bridge + host-local CNI.
//!
//! Each test starts a daemon inside its own network namespace (the "node"), which has
//! only loopback and the CNI bridge and no route out. [`Node`]'s Drop kills the daemon,
//! shims and containers, and removes mounts, cgroups and the namespace even when an
//! assertion fails. Needs root, runc, busybox-static and containernetworking-plugins.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use cri::v1;
use cri::v1::image_service_client::ImageServiceClient;
use cri::v1::runtime_service_client::RuntimeServiceClient;
use tonic::transport::Channel;

#[path = "support/cleanup.rs"]
mod cleanup;
use cleanup::{remove_cgroups, run, unmount_below};

const IMAGE: &str = "docker.io/library/busybox:latest";

/// A node network namespace with its own daemon, state directories and cgroup root.
struct Node {
    dir: tempfile::TempDir,
    netns: String,
    cgroup_root: String,
    daemon: Option<Child>,
}

impl Node {
    fn new() -> Node {
        assert!(
            nix::unistd::Uid::effective().is_root(),
            "these tests need root"
        );
        for tool in [
            "/usr/sbin/runc",
            "/bin/busybox",
            "/usr/lib/cni/bridge",
            "/usr/lib/cni/host-local",
        ] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing; run hack/install-deps.sh"
            );
        }
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let dir = tempfile::Builder::new()
            .prefix("cri-test-")
            .tempdir()
            .expect("temp dir");
        let node = Node {
            dir,
            netns: format!("crt-{suffix}"),
            cgroup_root: format!("crt-{suffix}"),
            daemon: None,
        };
        run("ip", &["netns", "add", &node.netns]);
        run("ip", &["-n", &node.netns, "link", "set", "lo", "up"]);

        let conf_dir = node.path("cni");
        std::fs::create_dir_all(&conf_dir).unwrap();
        let conf = serde_json::json!({
            "cniVersion": "1.0.0",
            "name": "crt-net",
            "plugins": [{
                "type": "bridge",
                "bridge": "crt0",
                "isGateway": true,
                "ipMasq": false,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{ "subnet": "10.199.7.0/24" }]],
                    "dataDir": node.path("ipam"),
                }
            }]
        });
        std::fs::write(conf_dir.join("10-crt.conflist"), conf.to_string()).unwrap();
        node
    }

    /// Builds the busybox OCI layout with hack/images/build.sh and imports it into the
    /// daemon's image store before the daemon opens it.
    async fn import_busybox(&self) {
        let layouts = self.path("layouts");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hack/images/build.sh");
        let output = Command::new("bash")
            .arg(&script)
            .arg("busybox")
            .env("OUT", &layouts)
            .output()
            .expect("run hack/images/build.sh");
        assert!(
            output.status.success(),
            "build.sh: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let store = container_runtime::image::ImageStore::open(
            self.path("root/images"),
            Default::default(),
        )
        .expect("open image store");
        store
            .import(&layouts.join("busybox"))
            .await
            .expect("import busybox");
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn socket(&self) -> PathBuf {
        self.path("run/cri.sock")
    }

    /// Starts the daemon in the node namespace and connects both clients.
    async fn start(&mut self) -> (RuntimeServiceClient<Channel>, ImageServiceClient<Channel>) {
        if !self.path("root/images").exists() {
            self.import_busybox().await;
        }
        let daemon_log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("daemon.log"))
            .unwrap();
        let child = Command::new("nsenter")
            .arg(format!("--net=/var/run/netns/{}", self.netns))
            .arg(env!("CARGO_BIN_EXE_container-runtime"))
            .arg("--listen")
            .arg(self.socket())
            .arg("--root")
            .arg(self.path("root"))
            .arg("--state")
            .arg(self.path("state"))
            .arg("--cni-conf-dir")
            .arg(self.path("cni"))
            .env("RUST_LOG", "debug")
            .stderr(daemon_log)
            .spawn()
            .expect("start container-runtime");
        self.daemon = Some(child);

        let endpoint = format!("unix://{}", self.socket().display());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self.socket().exists()
                && let Ok(channel) = cri::connect_unix(&endpoint).await
            {
                return (
                    RuntimeServiceClient::new(channel.clone()),
                    ImageServiceClient::new(channel),
                );
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not listen: {}",
                self.daemon_log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the daemon with SIGTERM, as an operator restart would; containers stay.
    fn stop_daemon(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let _ = child.wait();
        }
    }

    fn daemon_log(&self) -> String {
        std::fs::read_to_string(self.path("daemon.log")).unwrap_or_default()
    }

    fn sandbox_config(&self, name: &str) -> v1::PodSandboxConfig {
        let uid = uuid::Uuid::new_v4().to_string();
        v1::PodSandboxConfig {
            metadata: Some(v1::PodSandboxMetadata {
                name: name.into(),
                uid: uid.clone(),
                namespace: "default".into(),
                attempt: 0,
            }),
            hostname: name.into(),
            log_directory: self.path(&format!("logs/{uid}")).display().to_string(),
            dns_config: Some(v1::DnsConfig {
                servers: vec!["10.96.0.10".into()],
                searches: vec!["default.svc.cluster.local".into()],
                options: vec!["ndots:5".into()],
            }),
            labels: [("app".to_string(), name.to_string())].into(),
            linux: Some(v1::LinuxPodSandboxConfig {
                cgroup_parent: format!("/{}/pod{uid}", self.cgroup_root),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let oci_root = self.path("state/oci");
        let containers = std::fs::read_dir(self.path("root/containers"))
            .into_iter()
            .flatten()
            .flatten();
        for entry in containers {
            let record: serde_json::Value = std::fs::read(entry.path().join("container.json"))
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .unwrap_or_default();
            for key in ["pid", "shim_pid"] {
                if let Some(pid) = record[key].as_i64() {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid as i32),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
            let id = entry.file_name().to_string_lossy().into_owned();
            let _ = Command::new("runc")
                .arg("--root")
                .arg(&oci_root)
                .args(["delete", "--force", &id])
                .output();
        }
        for entry in std::fs::read_dir(self.path("root/sandboxes"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let record: serde_json::Value = std::fs::read(entry.path().join("sandbox.json"))
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .unwrap_or_default();
            let init = &record["pod_init"];
            if let (Some(pid), Some(start_time)) =
                (init["pid"].as_i64(), init["start_time"].as_u64())
                && process_start_time(pid as i32) == Some(start_time)
            {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        unmount_below(self.dir.path());
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.netns])
            .output();
        remove_cgroups(&self.cgroup_root);
    }
}

/// Reads field 22 of `/proc/<pid>/stat`, the start time in clock ticks since boot, so
/// that cleanup never signals a process that reused a recorded PID.
fn process_start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

fn container_config(name: &str, script: &str) -> v1::ContainerConfig {
    v1::ContainerConfig {
        metadata: Some(v1::ContainerMetadata {
            name: name.into(),
            attempt: 0,
        }),
        image: Some(v1::ImageSpec {
            image: IMAGE.into(),
            ..Default::default()
        }),
        command: vec!["sh".into(), "-c".into(), script.into()],
        envs: vec![v1::KeyValue {
            key: "GREETING".into(),
            value: "hello".into(),
        }],
        log_path: format!("{name}/0.log"),
        labels: [("container".to_string(), name.to_string())].into(),
        ..Default::default()
    }
}

async fn run_sandbox(
    client: &mut RuntimeServiceClient<Channel>,
    config: &v1::PodSandboxConfig,
) -> String {
    client
        .run_pod_sandbox(v1::RunPodSandboxRequest {
            config: Some(config.clone()),
            runtime_handler: String::new(),
        })
        .await
        .expect("RunPodSandbox")
        .into_inner()
        .pod_sandbox_id
}

async fn create_and_start(
    client: &mut RuntimeServiceClient<Channel>,
    sandbox_id: &str,
    sandbox: &v1::PodSandboxConfig,
    config: v1::ContainerConfig,
) -> String {
    let id = client
        .create_container(v1::CreateContainerRequest {
            pod_sandbox_id: sandbox_id.into(),
            config: Some(config),
            sandbox_config: Some(sandbox.clone()),
        })
        .await
        .expect("CreateContainer")
        .into_inner()
        .container_id;
    client
        .start_container(v1::StartContainerRequest {
            container_id: id.clone(),
        })
        .await
        .expect("StartContainer");
    id
}

async fn status(client: &mut RuntimeServiceClient<Channel>, id: &str) -> v1::ContainerStatus {
    client
        .container_status(v1::ContainerStatusRequest {
            container_id: id.into(),
            verbose: false,
        })
        .await
        .expect("ContainerStatus")
        .into_inner()
        .status
        .expect("status")
}

async fn wait_exited(client: &mut RuntimeServiceClient<Channel>, id: &str) -> v1::ContainerStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = status(client, id).await;
        if status.state == v1::ContainerState::ContainerExited as i32 {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "container {id} did not exit: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn exec(
    client: &mut RuntimeServiceClient<Channel>,
    id: &str,
    cmd: &[&str],
    timeout: i64,
) -> Result<v1::ExecSyncResponse, tonic::Status> {
    client
        .exec_sync(v1::ExecSyncRequest {
            container_id: id.into(),
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            timeout,
        })
        .await
        .map(|response| response.into_inner())
}

/// Opens a TCP connection from inside the node namespace, where the daemon's streaming
/// server listens on loopback.
fn connect_in_netns(netns: &str, address: std::net::SocketAddr) -> tokio::net::TcpStream {
    let path = format!("/var/run/netns/{netns}");
    let stream = std::thread::spawn(move || {
        let namespace = std::fs::File::open(&path).expect("open node namespace");
        // setns(2) changes only this thread, which ends right after connecting.
        nix::sched::setns(namespace, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        std::net::TcpStream::connect(address).expect("connect to streaming server")
    })
    .join()
    .expect("connect thread");
    stream.set_nonblocking(true).unwrap();
    tokio::net::TcpStream::from_std(stream).unwrap()
}

/// Runs one exec session over the URL and returns stdout, stderr and the status document.
async fn stream_exec(
    netns: &str,
    url: &str,
    stdin: &[u8],
) -> Result<(Vec<u8>, Vec<u8>, serde_json::Value), String> {
    stream_exec_sized(netns, url, stdin, None).await
}

/// Like [`stream_exec`], first sending a terminal resize when `size` is given.
async fn stream_exec_sized(
    netns: &str,
    url: &str,
    stdin: &[u8],
    size: Option<(u16, u16)>,
) -> Result<(Vec<u8>, Vec<u8>, serde_json::Value), String> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let (mut socket, response) = websocket_in_netns(netns, url, "v5.channel.k8s.io").await?;
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "v5.channel.k8s.io"
    );

    if let Some((width, height)) = size {
        let mut resize = vec![4u8];
        resize.extend_from_slice(
            serde_json::json!({ "Width": width, "Height": height })
                .to_string()
                .as_bytes(),
        );
        socket.send(Message::binary(resize)).await.unwrap();
    }
    let mut input = vec![0u8];
    input.extend_from_slice(stdin);
    socket.send(Message::binary(input)).await.unwrap();
    socket.send(Message::binary(vec![255u8, 0])).await.unwrap();

    let (mut stdout, mut stderr, mut status) = (Vec::new(), Vec::new(), serde_json::Value::Null);
    while let Some(Ok(message)) = socket.next().await {
        let Message::Binary(data) = message else {
            continue;
        };
        match data.split_first() {
            Some((1, rest)) => stdout.extend_from_slice(rest),
            Some((2, rest)) => stderr.extend_from_slice(rest),
            Some((3, rest)) => status = serde_json::from_slice(rest).unwrap(),
            _ => {}
        }
    }
    Ok((stdout, stderr, status))
}

/// A WebSocket client connection to the streaming server.
type StreamingSocket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Opens a WebSocket to the streaming URL `url` from inside `netns`, offering the
/// subprotocol `protocol`.
async fn websocket_in_netns(
    netns: &str,
    url: &str,
    protocol: &str,
) -> Result<
    (
        StreamingSocket,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    String,
> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let address: std::net::SocketAddr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut request = url
        .replace("http://", "ws://")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().unwrap());
    let stream = connect_in_netns(netns, address);
    tokio_tungstenite::client_async(request, stream)
        .await
        .map_err(|error| error.to_string())
}

/// Opens a port-forward session and returns what the pod's port sent, after checking
/// the port-number preamble on the data and error channels.
async fn port_forward_once(netns: &str, url: &str) -> Result<Vec<u8>, String> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let (mut socket, _) = websocket_in_netns(netns, url, "v4.channel.k8s.io").await?;

    let mut preamble = Vec::new();
    let mut data = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, socket.next()).await {
        let Message::Binary(frame) = message else {
            continue;
        };
        if preamble.len() < 2 {
            preamble.push(frame.to_vec());
            continue;
        }
        match frame.split_first() {
            Some((0, rest)) => {
                data.extend_from_slice(rest);
                if data.ends_with(b"\n") {
                    break;
                }
            }
            Some((1, rest)) => return Err(String::from_utf8_lossy(rest).into_owned()),
            _ => {}
        }
    }
    assert_eq!(
        preamble,
        vec![vec![0u8, 0x90, 0x1f], vec![1u8, 0x90, 0x1f]],
        "port 8080 preamble"
    );
    Ok(data)
}

/// A minimal SPDY/3.1 client. For port-forward it does what kubectl does per
/// connection: an error stream it half-closes at once, a data stream, a ping, then its
/// FIN. For exec and attach it opens the remotecommand streams as client-go does.
struct SpdyClient {
    stream: tokio::net::TcpStream,
    encoder: container_runtime::spdy::frame::Encoder,
    decoder: container_runtime::spdy::frame::Decoder,
    buffer: bytes::BytesMut,
}

/// What an exec or attach session over SPDY returned on each stream.
#[derive(Debug, Default)]
struct RemoteCommandOutput {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    error: Vec<u8>,
}

impl SpdyClient {
    /// Sends a port-forward upgrade request and checks the `101 Switching Protocols`
    /// response.
    async fn upgrade(netns: &str, url: &str) -> Result<SpdyClient, String> {
        let (client, protocol) =
            SpdyClient::upgrade_offering(netns, url, "portforward.k8s.io").await?;
        assert_eq!(protocol, "portforward.k8s.io");
        Ok(client)
    }

    /// Sends an upgrade request offering `protocols` (comma-separated) and returns the
    /// client with the protocol the server chose, or the response head when the
    /// server did not switch protocols.
    async fn upgrade_offering(
        netns: &str,
        url: &str,
        protocols: &str,
    ) -> Result<(SpdyClient, String), String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let rest = url.trim_start_matches("http://");
        let (authority, path) = rest.split_once('/').unwrap();
        let mut stream = connect_in_netns(netns, authority.parse().unwrap());
        let request = format!(
            "POST /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: {protocols}\r\nContent-Length: 0\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.unwrap() == 0 {
                return Err(format!(
                    "closed in the response head: {}",
                    String::from_utf8_lossy(&head)
                ));
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        if !head.starts_with("http/1.1 101") {
            return Err(head);
        }
        assert!(head.contains("upgrade: spdy/3.1"), "{head}");
        let protocol = head
            .lines()
            .find_map(|line| line.strip_prefix("x-stream-protocol-version:"))
            .map(|value| value.trim().to_string())
            .unwrap_or_default();
        let client = SpdyClient {
            stream,
            encoder: Default::default(),
            decoder: Default::default(),
            buffer: Default::default(),
        };
        Ok((client, protocol))
    }

    /// Opens the remotecommand streams in client-go's order (error, stdin, stdout,
    /// stderr without a terminal, resize with one) and waits for every SYN_REPLY.
    /// Returns the ids of the error, stdin, stdout, stderr and resize streams.
    async fn open_remote_command(&mut self, stdin: bool, tty: bool) -> [Option<u32>; 5] {
        use container_runtime::spdy::Frame;

        let kinds = [
            ("error", true),
            ("stdin", stdin),
            ("stdout", true),
            ("stderr", !tty),
            ("resize", tty),
        ];
        let mut ids = [None; 5];
        let mut next = 1;
        for (index, (kind, wanted)) in kinds.into_iter().enumerate() {
            if !wanted {
                continue;
            }
            let mut headers = container_runtime::spdy::Headers::new();
            headers.add("streamType", kind);
            self.send(Frame::SynStream {
                stream_id: next,
                associated_to: 0,
                priority: 0,
                flags: 0,
                headers,
            })
            .await;
            match self.receive().await {
                Some(Frame::SynReply { stream_id, .. }) => assert_eq!(stream_id, next),
                other => panic!("expected SYN_REPLY for the {kind} stream, got {other:?}"),
            }
            ids[index] = Some(next);
            next += 2;
        }
        ids
    }

    /// Sends `data` on `stream_id`, ending it with FIN when `fin` is set.
    async fn send_data(&mut self, stream_id: u32, data: &[u8], fin: bool) {
        self.send(container_runtime::spdy::Frame::Data {
            stream_id,
            fin,
            data: bytes::Bytes::copy_from_slice(data),
        })
        .await;
    }

    /// Collects the data of each stream until the server sends GOAWAY or closes the
    /// connection.
    async fn collect(&mut self, ids: [Option<u32>; 5]) -> RemoteCommandOutput {
        use container_runtime::spdy::Frame;

        let mut output = RemoteCommandOutput::default();
        while let Some(frame) = self.receive().await {
            match frame {
                Frame::Data {
                    stream_id, data, ..
                } => {
                    let target = if Some(stream_id) == ids[0] {
                        &mut output.error
                    } else if Some(stream_id) == ids[2] {
                        &mut output.stdout
                    } else if Some(stream_id) == ids[3] {
                        &mut output.stderr
                    } else {
                        panic!("data on unexpected stream {stream_id}");
                    };
                    target.extend_from_slice(&data);
                }
                Frame::GoAway { .. } => break,
                Frame::RstStream { stream_id, status } => {
                    panic!("stream {stream_id} reset with status {status}")
                }
                _ => {}
            }
        }
        output
    }

    /// Runs a whole exec or attach session: opens the streams, sends `resize`, then
    /// `stdin` and its FIN, and collects the output.
    async fn remote_command(
        &mut self,
        stdin: Option<&[u8]>,
        tty: bool,
        resize: Option<(u16, u16)>,
    ) -> RemoteCommandOutput {
        let ids = self.open_remote_command(stdin.is_some(), tty).await;
        if let (Some((width, height)), Some(resize_id)) = (resize, ids[4]) {
            let size = serde_json::json!({ "Width": width, "Height": height });
            self.send_data(resize_id, format!("{size}\n").as_bytes(), false)
                .await;
        }
        if let (Some(input), Some(stdin_id)) = (stdin, ids[1]) {
            self.send_data(stdin_id, input, true).await;
        }
        self.collect(ids).await
    }

    async fn send(&mut self, frame: container_runtime::spdy::Frame) {
        use tokio::io::AsyncWriteExt;
        let mut bytes = Vec::new();
        self.encoder.encode(&frame, &mut bytes).unwrap();
        self.stream.write_all(&bytes).await.unwrap();
    }

    /// Returns the next frame, or `None` when the server closed the connection.
    async fn receive(&mut self) -> Option<container_runtime::spdy::Frame> {
        use tokio::io::AsyncReadExt;
        loop {
            if let Some(frame) = self.decoder.decode(&mut self.buffer).unwrap() {
                return Some(frame);
            }
            let read = tokio::time::timeout(
                Duration::from_secs(10),
                self.stream.read_buf(&mut self.buffer),
            )
            .await
            .expect("a SPDY frame within 10 s")
            .unwrap();
            if read == 0 {
                return None;
            }
        }
    }

    async fn open(&mut self, stream_id: u32, stream_type: &str, port: u16, request_id: u32) {
        let mut headers = container_runtime::spdy::Headers::new();
        headers.add("streamtype", stream_type);
        headers.add("port", &port.to_string());
        headers.add("requestid", &request_id.to_string());
        self.send(container_runtime::spdy::Frame::SynStream {
            stream_id,
            associated_to: 0,
            priority: 0,
            flags: 0,
            headers,
        })
        .await;
    }

    /// Forwards one connection to `port` on streams `first` (error) and `first + 2`
    /// (data), sends `input` and FIN, and returns what came back on each stream until
    /// both ended with FIN.
    async fn forward(&mut self, first: u32, port: u16, input: &[u8]) -> (Vec<u8>, Vec<u8>) {
        use container_runtime::spdy::Frame;

        let (error, data) = (first, first + 2);
        self.open(error, "error", port, first).await;
        self.send(Frame::Data {
            stream_id: error,
            fin: true,
            data: Default::default(),
        })
        .await;
        self.open(data, "data", port, first).await;
        self.send(Frame::Ping { id: first }).await;
        self.send(Frame::Data {
            stream_id: data,
            fin: true,
            data: bytes::Bytes::copy_from_slice(input),
        })
        .await;

        let mut replies = Vec::new();
        let mut pong = false;
        let (mut error_text, mut received) = (Vec::new(), Vec::new());
        let (mut error_fin, mut data_fin) = (false, false);
        while !(error_fin && data_fin) {
            match self.receive().await.expect("the session stays open") {
                Frame::SynReply { stream_id, .. } => replies.push(stream_id),
                Frame::Ping { id } => pong = id == first,
                Frame::Data {
                    stream_id,
                    fin,
                    data: bytes,
                } => {
                    let (buffer, done) = if stream_id == error {
                        (&mut error_text, &mut error_fin)
                    } else {
                        (&mut received, &mut data_fin)
                    };
                    buffer.extend_from_slice(&bytes);
                    *done |= fin;
                }
                other => panic!("unexpected frame {other:?}"),
            }
        }
        assert_eq!(replies, vec![error, data], "SYN_REPLY for both streams");
        assert!(pong, "the ping was echoed");
        (error_text, received)
    }
}

async fn remove_sandbox(client: &mut RuntimeServiceClient<Channel>, id: &str) {
    client
        .stop_pod_sandbox(v1::StopPodSandboxRequest {
            pod_sandbox_id: id.into(),
        })
        .await
        .expect("StopPodSandbox");
    client
        .remove_pod_sandbox(v1::RemovePodSandboxRequest {
            pod_sandbox_id: id.into(),
        })
        .await
        .expect("RemovePodSandbox");
}

#[tokio::test]
async fn container_runs_logs_and_exits() {
    let mut node = Node::new();
    let (mut client, _) = node.start().await;
    let sandbox = node.sandbox_config("logs");
    let sandbox_id = run_sandbox(&mut client, &sandbox).await;

    let pod = client
        .pod_sandbox_status(v1::PodSandboxStatusRequest {
            pod_sandbox_id: sandbox_id.clone(),
            verbose: false,
        })
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap();
    assert_eq!(pod.state, v1::PodSandboxState::SandboxReady as i32);
    let ip = pod.network.unwrap().ip;
    assert!(
        ip.starts_with("10.199.7."),
        "pod IP {ip:?} not from the host-local range"
    );

    let script = "echo $GREETING; echo oops >&2; exit 3";
    let id = create_and_start(
        &mut client,
        &sandbox_id,
        &sandbox,
        container_config("writer", script),
    )
    .await;
    let exited = wait_exited(&mut client, &id).await;
    assert_eq!(exited.exit_code, 3);
    assert_eq!(exited.reason, "Error");
    assert!(exited.started_at > 0);
    assert!(exited.finished_at >= exited.started_at);

    let log_path = PathBuf::from(&exited.log_path);
    assert!(log_path.starts_with(&sandbox.log_directory), "{log_path:?}");
    let log = std::fs::read_to_string(&log_path).expect("container log");
    let records: Vec<(&str, &str, &str, &str)> = log
        .lines()
        .map(|line| {
            let mut fields = line.splitn(4, ' ');
            (
                fields.next().unwrap(),
                fields.next().unwrap(),
                fields.next().unwrap(),
                fields.next().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        records
            .iter()
            .all(|(time, _, _, _)| time.parse::<jiff::Timestamp>().is_ok()),
        "{log}"
    );
    assert!(
        records
            .iter()
            .any(|r| r.1 == "stdout" && r.2 == "F" && r.3 == "hello"),
        "{log}"
    );
    assert!(
        records
            .iter()
            .any(|r| r.1 == "stderr" && r.2 == "F" && r.3 == "oops"),
        "{log}"
    );

    let listed = client
        .list_containers(v1::ListContainersRequest {
            filter: Some(v1::ContainerFilter {
                pod_sandbox_id: sandbox_id.clone(),
                state: Some(v1::ContainerStateValue {
                    state: v1::ContainerState::ContainerExited as i32,
                }),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .containers;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id);

    let by_label = client
        .list_pod_sandbox(v1::ListPodSandboxRequest {
            filter: Some(v1::PodSandboxFilter {
                label_selector: [("app".to_string(), "logs".to_string())].into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .items;
    assert_eq!(by_label.len(), 1);
    let by_other_label = client
        .list_pod_sandbox(v1::ListPodSandboxRequest {
            filter: Some(v1::PodSandboxFilter {
                label_selector: [("app".to_string(), "other".to_string())].into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .items;
    assert!(by_other_label.is_empty());

    remove_sandbox(&mut client, &sandbox_id).await;
    let containers = client
        .list_containers(v1::ListContainersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .containers;
    assert!(containers.is_empty(), "{containers:?}");
    assert!(
        !node
            .path(&format!("state/sandboxes/{sandbox_id}/net"))
            .exists()
    );
}

#[tokio::test]
async fn exec_and_stop_with_grace_period() {
    let mut node = Node::new();
    let (mut client, _) = node.start().await;
    let sandbox = node.sandbox_config("exec");
    let sandbox_id = run_sandbox(&mut client, &sandbox).await;

    let polite = create_and_start(
        &mut client,
        &sandbox_id,
        &sandbox,
        container_config(
            "polite",
            "trap 'exit 0' TERM; while true; do echo tick; sleep 0.1; done",
        ),
    )
    .await;
    assert_eq!(
        status(&mut client, &polite).await.state,
        v1::ContainerState::ContainerRunning as i32
    );

    let hello = exec(&mut client, &polite, &["echo", "hi"], 10)
        .await
        .expect("ExecSync");
    assert_eq!(hello.stdout, b"hi\n");
    assert_eq!(hello.exit_code, 0);
    let failing = exec(
        &mut client,
        &polite,
        &["sh", "-c", "echo bad >&2; exit 7"],
        10,
    )
    .await
    .expect("ExecSync");
    assert_eq!(failing.exit_code, 7);
    assert_eq!(failing.stderr, b"bad\n");
    let hostname = exec(&mut client, &polite, &["hostname"], 10).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&hostname.stdout).trim(), "exec");
    let resolv = exec(&mut client, &polite, &["cat", "/etc/resolv.conf"], 10)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&resolv.stdout).contains("nameserver 10.96.0.10"));
    let addresses = exec(
        &mut client,
        &polite,
        &["ip", "-4", "addr", "show", "eth0"],
        10,
    )
    .await
    .unwrap();
    assert!(
        String::from_utf8_lossy(&addresses.stdout).contains("10.199.7."),
        "{addresses:?}"
    );

    let url = client
        .exec(v1::ExecRequest {
            container_id: polite.clone(),
            cmd: [
                "sh",
                "-c",
                "read line; echo got:$line; echo err >&2; exit 5",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            tty: false,
            stdin: true,
            stdout: true,
            stderr: true,
        })
        .await
        .expect("Exec")
        .into_inner()
        .url;
    let (stdout, stderr, exit) = stream_exec(&node.netns, &url, b"hello\n")
        .await
        .expect("exec session");
    assert_eq!(String::from_utf8_lossy(&stdout), "got:hello\n");
    assert_eq!(String::from_utf8_lossy(&stderr), "err\n");
    assert_eq!(exit["reason"], "NonZeroExitCode", "{exit}");
    assert_eq!(exit["details"]["causes"][0]["message"], "5", "{exit}");
    let tty_url = client
        .exec(v1::ExecRequest {
            container_id: polite.clone(),
            cmd: vec!["tty".into()],
            tty: true,
            stdin: true,
            stdout: true,
            stderr: false,
        })
        .await
        .expect("Exec with tty")
        .into_inner()
        .url;
    let (tty_out, _, tty_exit) = stream_exec(&node.netns, &tty_url, b"")
        .await
        .expect("tty exec session");
    assert!(
        String::from_utf8_lossy(&tty_out).contains("/dev/pts/"),
        "{:?}",
        String::from_utf8_lossy(&tty_out)
    );
    assert_eq!(tty_exit["status"], "Success", "{tty_exit}");
    let sized_url = client
        .exec(v1::ExecRequest {
            container_id: polite.clone(),
            cmd: ["sh", "-c", "sleep 1; stty size"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            tty: true,
            stdin: true,
            stdout: true,
            stderr: false,
        })
        .await
        .expect("Exec with tty")
        .into_inner()
        .url;
    let (sized_out, _, _) = stream_exec_sized(&node.netns, &sized_url, b"", Some((100, 40)))
        .await
        .expect("sized tty exec session");
    assert!(
        String::from_utf8_lossy(&sized_out).contains("40 100"),
        "{:?}",
        String::from_utf8_lossy(&sized_out)
    );
    let reused = stream_exec(&node.netns, &url, b"").await;
    assert!(reused.is_err(), "an exec URL must work once");

    // Port-forward reaches a server listening on the pod's loopback.
    let server = create_and_start(
        &mut client,
        &sandbox_id,
        &sandbox,
        container_config("server", "while true; do echo pong | nc -l -p 8080; done"),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let received = loop {
        let url = client
            .port_forward(v1::PortForwardRequest {
                pod_sandbox_id: sandbox_id.clone(),
                port: vec![8080],
            })
            .await
            .expect("PortForward")
            .into_inner()
            .url;
        match port_forward_once(&node.netns, &url).await {
            Ok(data) if !data.is_empty() => break data,
            other => {
                assert!(Instant::now() < deadline, "port-forward got {other:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert_eq!(received, b"pong\n");

    // The same over SPDY/3.1, as kubectl port-forward connects, retried while nc
    // restarts after the connection above.
    let spdy_url = client
        .port_forward(v1::PortForwardRequest {
            pod_sandbox_id: sandbox_id.clone(),
            port: vec![],
        })
        .await
        .expect("PortForward")
        .into_inner()
        .url;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut first = 1;
    let mut spdy = SpdyClient::upgrade(&node.netns, &spdy_url)
        .await
        .expect("SPDY upgrade");
    loop {
        let (error_text, received) = spdy.forward(first, 8080, b"ping\n").await;
        first += 4;
        if received == b"pong\n" {
            assert!(
                error_text.is_empty(),
                "{}",
                String::from_utf8_lossy(&error_text)
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "SPDY port-forward got {:?}, error {:?}",
            String::from_utf8_lossy(&received),
            String::from_utf8_lossy(&error_text)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A closed port is reported on the error stream, and the session goes on.
    let (error_text, received) = spdy.forward(first, 1, b"").await;
    assert!(received.is_empty());
    let error_text = String::from_utf8_lossy(&error_text);
    assert!(
        error_text.contains("error forwarding port 1 to pod")
            && error_text.contains("Connection refused"),
        "{error_text}"
    );
    spdy.send(container_runtime::spdy::Frame::GoAway {
        last_good_stream_id: 0,
        status: 0,
    })
    .await;
    assert_eq!(spdy.receive().await, None, "GOAWAY ends the session");
    let reused = SpdyClient::upgrade(&node.netns, &spdy_url).await;
    assert!(
        reused
            .as_ref()
            .err()
            .is_some_and(|head| head.contains(" 404 ")),
        "a port-forward URL must work once"
    );

    client
        .remove_container(v1::RemoveContainerRequest {
            container_id: server,
        })
        .await
        .expect("RemoveContainer");

    let started = Instant::now();
    let timed_out = exec(&mut client, &polite, &["sleep", "30"], 1)
        .await
        .expect_err("exec past its timeout");
    assert_eq!(timed_out.code(), tonic::Code::DeadlineExceeded);
    assert!(started.elapsed() < Duration::from_secs(10));

    // Resource updates reach the container's cgroup.
    client
        .update_container_resources(v1::UpdateContainerResourcesRequest {
            container_id: polite.clone(),
            linux: Some(v1::LinuxContainerResources {
                memory_limit_in_bytes: 64 << 20,
                cpu_shares: 512,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("UpdateContainerResources");
    let cgroup_parent = sandbox.linux.as_ref().unwrap().cgroup_parent.clone();
    let memory_limit = std::fs::read_to_string(format!(
        "/sys/fs/cgroup/memory{cgroup_parent}/{polite}/memory.limit_in_bytes"
    ))
    .expect("container memory cgroup");
    assert_eq!(memory_limit.trim(), (64u64 << 20).to_string());
    let shares = std::fs::read_to_string(format!(
        "/sys/fs/cgroup/cpu{cgroup_parent}/{polite}/cpu.shares"
    ))
    .expect("container cpu cgroup");
    assert_eq!(shares.trim(), "512");

    let stats = client
        .container_stats(v1::ContainerStatsRequest {
            container_id: polite.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .stats
        .unwrap();
    assert!(stats.cpu.unwrap().usage_core_nano_seconds.unwrap().value > 0);
    assert!(stats.memory.unwrap().working_set_bytes.unwrap().value > 0);
    let pod_stats = client
        .pod_sandbox_stats(v1::PodSandboxStatsRequest {
            pod_sandbox_id: sandbox_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .stats
        .unwrap()
        .linux
        .unwrap();
    assert!(
        pod_stats
            .cpu
            .unwrap()
            .usage_core_nano_seconds
            .unwrap()
            .value
            > 0
    );
    assert_eq!(pod_stats.containers.len(), 1);

    // After the kubelet renames the log, ReopenContainerLog starts a new file.
    let log_path = status(&mut client, &polite).await.log_path;
    let rotated = format!("{log_path}.1");
    std::fs::rename(&log_path, &rotated).unwrap();
    client
        .reopen_container_log(v1::ReopenContainerLogRequest {
            container_id: polite.clone(),
        })
        .await
        .expect("ReopenContainerLog");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log_path)
        .unwrap_or_default()
        .contains("stdout F tick")
    {
        assert!(Instant::now() < deadline, "no output in the reopened log");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        std::fs::read_to_string(&rotated)
            .unwrap()
            .contains("stdout F tick")
    );

    client
        .stop_container(v1::StopContainerRequest {
            container_id: polite.clone(),
            timeout: 10,
        })
        .await
        .expect("StopContainer");
    let stopped = status(&mut client, &polite).await;
    assert_eq!(stopped.state, v1::ContainerState::ContainerExited as i32);
    assert_eq!(stopped.exit_code, 0);
    assert_eq!(stopped.reason, "Completed");

    let stubborn = create_and_start(
        &mut client,
        &sandbox_id,
        &sandbox,
        container_config("stubborn", "trap '' TERM; while true; do sleep 0.1; done"),
    )
    .await;
    let started = Instant::now();
    client
        .stop_container(v1::StopContainerRequest {
            container_id: stubborn.clone(),
            timeout: 2,
        })
        .await
        .expect("StopContainer");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(2),
        "SIGKILL came before the grace period: {elapsed:?}"
    );
    let killed = status(&mut client, &stubborn).await;
    assert_eq!(killed.exit_code, 137, "{killed:?}");

    let stats = client
        .container_stats(v1::ContainerStatsRequest {
            container_id: stubborn.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .stats
        .unwrap();
    assert_eq!(stats.attributes.unwrap().id, stubborn);

    remove_sandbox(&mut client, &sandbox_id).await;
}

#[tokio::test]
async fn restart_keeps_sandboxes_and_containers() {
    let mut node = Node::new();
    let (mut client, _) = node.start().await;
    let sandbox = node.sandbox_config("restart");
    let sandbox_id = run_sandbox(&mut client, &sandbox).await;
    let id = create_and_start(
        &mut client,
        &sandbox_id,
        &sandbox,
        container_config("sleeper", "echo before; while true; do sleep 0.1; done"),
    )
    .await;
    let ip_before = client
        .pod_sandbox_status(v1::PodSandboxStatusRequest {
            pod_sandbox_id: sandbox_id.clone(),
            verbose: false,
        })
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap()
        .network
        .unwrap()
        .ip;

    drop(client);
    node.stop_daemon();
    let (mut client, _) = node.start().await;

    let sandboxes = client
        .list_pod_sandbox(v1::ListPodSandboxRequest::default())
        .await
        .unwrap()
        .into_inner()
        .items;
    assert_eq!(sandboxes.len(), 1);
    assert_eq!(sandboxes[0].id, sandbox_id);
    assert_eq!(sandboxes[0].state, v1::PodSandboxState::SandboxReady as i32);
    let pod = client
        .pod_sandbox_status(v1::PodSandboxStatusRequest {
            pod_sandbox_id: sandbox_id.clone(),
            verbose: false,
        })
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap();
    assert_eq!(pod.network.unwrap().ip, ip_before);

    assert_eq!(
        status(&mut client, &id).await.state,
        v1::ContainerState::ContainerRunning as i32
    );
    let output = exec(&mut client, &id, &["echo", "after"], 10)
        .await
        .expect("ExecSync after restart");
    assert_eq!(output.stdout, b"after\n");

    client
        .stop_container(v1::StopContainerRequest {
            container_id: id.clone(),
            timeout: 1,
        })
        .await
        .expect("StopContainer");
    let stopped = status(&mut client, &id).await;
    assert_eq!(stopped.state, v1::ContainerState::ContainerExited as i32);
    remove_sandbox(&mut client, &sandbox_id).await;
}

#[tokio::test]
async fn bad_requests_return_grpc_errors() {
    let mut node = Node::new();
    let (mut client, mut images) = node.start().await;
    let unknown = "0".repeat(64);

    let version = client
        .version(v1::VersionRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(version.runtime_api_version, "v1");
    let runtime_status = client
        .status(v1::StatusRequest::default())
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap();
    assert!(
        runtime_status
            .conditions
            .iter()
            .all(|condition| condition.status),
        "{runtime_status:?}"
    );

    let code = |result: Result<tonic::Response<_>, tonic::Status>| -> tonic::Code {
        match result {
            Ok(tonic::Response { .. }) => tonic::Code::Ok,
            Err(status) => status.code(),
        }
    };
    let missing_status = client
        .container_status(v1::ContainerStatusRequest {
            container_id: unknown.clone(),
            verbose: false,
        })
        .await;
    assert_eq!(missing_status.unwrap_err().code(), tonic::Code::NotFound);
    let missing_sandbox = client
        .pod_sandbox_status(v1::PodSandboxStatusRequest {
            pod_sandbox_id: unknown.clone(),
            verbose: false,
        })
        .await;
    assert_eq!(missing_sandbox.unwrap_err().code(), tonic::Code::NotFound);
    let missing_start = client
        .start_container(v1::StartContainerRequest {
            container_id: unknown.clone(),
        })
        .await;
    assert_eq!(
        code(missing_start.map(|r| r.map(|_| ()))),
        tonic::Code::NotFound
    );
    let no_metadata = client
        .run_pod_sandbox(v1::RunPodSandboxRequest {
            config: Some(v1::PodSandboxConfig::default()),
            runtime_handler: String::new(),
        })
        .await;
    assert_eq!(
        no_metadata.unwrap_err().code(),
        tonic::Code::InvalidArgument
    );
    let empty_id = client
        .stop_container(v1::StopContainerRequest {
            container_id: String::new(),
            timeout: 0,
        })
        .await;
    assert_eq!(empty_id.unwrap_err().code(), tonic::Code::InvalidArgument);

    let sandbox = node.sandbox_config("bad");
    let sandbox_id = run_sandbox(&mut client, &sandbox).await;
    let duplicate = client
        .run_pod_sandbox(v1::RunPodSandboxRequest {
            config: Some(sandbox.clone()),
            runtime_handler: String::new(),
        })
        .await;
    assert_eq!(duplicate.unwrap_err().code(), tonic::Code::AlreadyExists);

    let mut no_image = container_config("noimage", "true");
    no_image.image = None;
    let created = client
        .create_container(v1::CreateContainerRequest {
            pod_sandbox_id: sandbox_id.clone(),
            config: Some(no_image),
            sandbox_config: None,
        })
        .await;
    assert_eq!(created.unwrap_err().code(), tonic::Code::InvalidArgument);
    let mut unknown_image = container_config("unknownimage", "true");
    unknown_image.image = Some(v1::ImageSpec {
        image: "localhost/absent:1".into(),
        ..Default::default()
    });
    let created = client
        .create_container(v1::CreateContainerRequest {
            pod_sandbox_id: sandbox_id.clone(),
            config: Some(unknown_image),
            sandbox_config: None,
        })
        .await;
    assert_eq!(created.unwrap_err().code(), tonic::Code::NotFound);
    let created = client
        .create_container(v1::CreateContainerRequest {
            pod_sandbox_id: unknown.clone(),
            config: Some(container_config("x", "true")),
            sandbox_config: None,
        })
        .await;
    assert_eq!(created.unwrap_err().code(), tonic::Code::NotFound);

    let id = create_and_start(
        &mut client,
        &sandbox_id,
        &sandbox,
        container_config("short", "true"),
    )
    .await;
    wait_exited(&mut client, &id).await;
    let empty_cmd = exec(&mut client, &id, &[], 1).await.unwrap_err();
    assert_eq!(empty_cmd.code(), tonic::Code::InvalidArgument);
    let exited_exec = exec(&mut client, &id, &["true"], 1).await.unwrap_err();
    assert_eq!(exited_exec.code(), tonic::Code::FailedPrecondition);
    let restart = client
        .start_container(v1::StartContainerRequest {
            container_id: id.clone(),
        })
        .await;
    assert_eq!(restart.unwrap_err().code(), tonic::Code::FailedPrecondition);

    // The imported image is found without a pull; pulls would leave the node namespace.
    let present = images
        .image_status(v1::ImageStatusRequest {
            image: Some(v1::ImageSpec {
                image: "busybox".into(),
                ..Default::default()
            }),
            verbose: false,
        })
        .await
        .unwrap()
        .into_inner()
        .image
        .expect("imported busybox");
    assert!(present.id.starts_with("sha256:"), "{present:?}");
    assert!(
        present.repo_tags.contains(&IMAGE.to_string()),
        "{present:?}"
    );
    let listed = images
        .list_images(v1::ListImagesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .images;
    assert_eq!(listed.len(), 1);
    let invalid = images
        .pull_image(v1::PullImageRequest {
            image: Some(v1::ImageSpec {
                image: "Not A Reference".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await;
    assert_eq!(invalid.unwrap_err().code(), tonic::Code::InvalidArgument);
    let image_status = images
        .image_status(v1::ImageStatusRequest {
            image: Some(v1::ImageSpec {
                image: "localhost/absent:1".into(),
                ..Default::default()
            }),
            verbose: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(image_status.image.is_none());

    // Remove is idempotent.
    remove_sandbox(&mut client, &sandbox_id).await;
    client
        .remove_pod_sandbox(v1::RemovePodSandboxRequest {
            pod_sandbox_id: sandbox_id.clone(),
        })
        .await
        .expect("second remove");
    client
        .remove_container(v1::RemoveContainerRequest {
            container_id: unknown.clone(),
        })
        .await
        .expect("remove unknown container");

    // Without a CNI configuration the network is not ready and sandboxes are refused.
    std::fs::remove_file(node.path("cni/10-crt.conflist")).unwrap();
    let runtime_status = client
        .status(v1::StatusRequest::default())
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap();
    let network = runtime_status
        .conditions
        .iter()
        .find(|condition| condition.r#type == "NetworkReady")
        .expect("NetworkReady condition");
    assert!(!network.status);
    assert_eq!(network.reason, "NetworkPluginNotReady");
    let refused = client
        .run_pod_sandbox(v1::RunPodSandboxRequest {
            config: Some(node.sandbox_config("nonet")),
            runtime_handler: String::new(),
        })
        .await;
    assert_eq!(refused.unwrap_err().code(), tonic::Code::FailedPrecondition);
    assert!(
        node.path("state/sandboxes")
            .read_dir()
            .unwrap()
            .next()
            .is_none(),
        "failed sandbox left state"
    );
}

#[tokio::test]
async fn host_network_sandbox_with_security_context() {
    let mut node = Node::new();
    let (mut client, _) = node.start().await;
    let mut sandbox = node.sandbox_config("hostnet");
    let linux = sandbox.linux.get_or_insert_with(Default::default);
    linux.security_context = Some(v1::LinuxSandboxSecurityContext {
        namespace_options: Some(v1::NamespaceOption {
            network: v1::NamespaceMode::Node as i32,
            ..Default::default()
        }),
        ..Default::default()
    });
    let sandbox_id = run_sandbox(&mut client, &sandbox).await;
    let pod = client
        .pod_sandbox_status(v1::PodSandboxStatusRequest {
            pod_sandbox_id: sandbox_id.clone(),
            verbose: false,
        })
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap();
    assert_eq!(
        pod.network.unwrap().ip,
        "",
        "host-network pods get no CNI address"
    );
    let options = pod.linux.unwrap().namespaces.unwrap().options.unwrap();
    assert_eq!(options.network, v1::NamespaceMode::Node as i32);
    assert!(
        !node
            .path(&format!("state/sandboxes/{sandbox_id}/net"))
            .exists()
    );

    let mut config = container_config("restricted", "while true; do sleep 0.1; done");
    config.linux = Some(v1::LinuxContainerConfig {
        security_context: Some(v1::LinuxContainerSecurityContext {
            run_as_user: Some(v1::Int64Value { value: 65534 }),
            run_as_group: Some(v1::Int64Value { value: 65534 }),
            readonly_rootfs: true,
            capabilities: Some(v1::Capability {
                drop_capabilities: vec!["ALL".into()],
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    let id = create_and_start(&mut client, &sandbox_id, &sandbox, config).await;

    let ids = exec(&mut client, &id, &["id"], 10).await.unwrap();
    let ids = String::from_utf8_lossy(&ids.stdout).to_string();
    assert!(
        ids.contains("uid=65534") && ids.contains("gid=65534"),
        "{ids}"
    );
    let write = exec(&mut client, &id, &["touch", "/written"], 10)
        .await
        .unwrap();
    assert_ne!(write.exit_code, 0, "the root filesystem is read-only");
    assert!(
        String::from_utf8_lossy(&write.stderr).contains("Read-only file system"),
        "{write:?}"
    );
    let capabilities = exec(
        &mut client,
        &id,
        &["sh", "-c", "grep CapBnd /proc/self/status"],
        10,
    )
    .await
    .unwrap();
    assert!(
        String::from_utf8_lossy(&capabilities.stdout).contains("0000000000000000"),
        "{capabilities:?}"
    );
    // No CNI ADD ran, so the node's namespace, which the container shares, has no eth0.
    let links = exec(&mut client, &id, &["ip", "-o", "link"], 10)
        .await
        .unwrap();
    let links = String::from_utf8_lossy(&links.stdout).to_string();
    assert!(!links.contains("eth0"), "{links}");

    remove_sandbox(&mut client, &sandbox_id).await;
}

#[tokio::test]
async fn attach_feeds_stdin_and_streams_output() {
    let mut node = Node::new();
    let (mut client, _) = node.start().await;
    let sandbox = node.sandbox_config("attach");
    let sandbox_id = run_sandbox(&mut client, &sandbox).await;
    let mut config = container_config("reader", "read line; echo got:$line; echo bye >&2");
    config.stdin = true;
    config.stdin_once = true;
    let id = create_and_start(&mut client, &sandbox_id, &sandbox, config).await;

    let url = client
        .attach(v1::AttachRequest {
            container_id: id.clone(),
            stdin: true,
            tty: false,
            stdout: true,
            stderr: true,
        })
        .await
        .expect("Attach")
        .into_inner()
        .url;
    assert!(url.contains("/attach/"), "{url}");
    let (stdout, stderr, status) = stream_exec(&node.netns, &url, b"hi\n")
        .await
        .expect("attach session");
    assert_eq!(String::from_utf8_lossy(&stdout), "got:hi\n");
    assert_eq!(String::from_utf8_lossy(&stderr), "bye\n");
    assert_eq!(status["status"], "Success", "{status}");

    let exited = wait_exited(&mut client, &id).await;
    assert_eq!(exited.exit_code, 0);
    let log = std::fs::read_to_string(&exited.log_path).unwrap();
    assert!(log.contains("stdout F got:hi"), "{log}");

    let attach_exited = client
        .attach(v1::AttachRequest {
            container_id: id.clone(),
            stdin: false,
            tty: false,
            stdout: true,
            stderr: false,
        })
        .await;
    assert_eq!(
        attach_exited.unwrap_err().code(),
        tonic::Code::FailedPrecondition
    );
    remove_sandbox(&mut client, &sandbox_id).await;
}

/// Asks the runtime for an exec URL.
async fn exec_url(
    client: &mut RuntimeServiceClient<Channel>,
    id: &str,
    script: &str,
    stdin: bool,
    tty: bool,
) -> String {
    client
        .exec(v1::ExecRequest {
            container_id: id.into(),
            cmd: ["sh", "-c", script].map(String::from).to_vec(),
            tty,
            stdin,
            stdout: true,
            stderr: true,
        })
        .await
        .expect("Exec")
        .into_inner()
        .url
}

/// kubectl 1.29 and older, and later ones with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false,
/// run exec and attach over SPDY/3.1 with one stream per channel.
#[tokio::test]
async fn exec_and_attach_over_spdy() {
    let mut node = Node::new();
    let (mut client, _) = node.start().await;
    let sandbox = node.sandbox_config("spdy");
    let sandbox_id = run_sandbox(&mut client, &sandbox).await;
    let shell = create_and_start(
        &mut client,
        &sandbox_id,
        &sandbox,
        container_config("shell", "while true; do sleep 0.1; done"),
    )
    .await;
    let offered = "v4.channel.k8s.io,v3.channel.k8s.io,v2.channel.k8s.io,channel.k8s.io";

    // stdout, stderr and a non-zero exit code, as a v4 Status.
    let url = exec_url(
        &mut client,
        &shell,
        "echo out; echo err >&2; exit 5",
        false,
        false,
    )
    .await;
    let (mut spdy, protocol) = SpdyClient::upgrade_offering(&node.netns, &url, offered)
        .await
        .expect("SPDY upgrade");
    assert_eq!(protocol, "v4.channel.k8s.io");
    let output = spdy.remote_command(None, false, None).await;
    assert_eq!(String::from_utf8_lossy(&output.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "err\n");
    let outcome: serde_json::Value = serde_json::from_slice(&output.error).expect("Status JSON");
    assert_eq!(outcome["status"], "Failure", "{outcome}");
    assert_eq!(outcome["reason"], "NonZeroExitCode", "{outcome}");
    assert_eq!(
        outcome["details"]["causes"][0]["reason"], "ExitCode",
        "{outcome}"
    );
    assert_eq!(outcome["details"]["causes"][0]["message"], "5", "{outcome}");

    // stdin reaches the command, and its FIN is the command's EOF.
    let url = exec_url(&mut client, &shell, "cat; echo done", true, false).await;
    let (mut spdy, _) = SpdyClient::upgrade_offering(&node.netns, &url, offered)
        .await
        .expect("SPDY upgrade");
    let output = spdy
        .remote_command(Some(b"line one\nline two\n"), false, None)
        .await;
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "line one\nline two\ndone\n"
    );
    let outcome: serde_json::Value = serde_json::from_slice(&output.error).expect("Status JSON");
    assert_eq!(outcome["status"], "Success", "{outcome}");

    // A terminal takes the size sent on the resize stream.
    let url = exec_url(&mut client, &shell, "sleep 1; stty size", true, true).await;
    let (mut spdy, _) = SpdyClient::upgrade_offering(&node.netns, &url, offered)
        .await
        .expect("SPDY upgrade");
    let output = spdy.remote_command(Some(b""), true, Some((100, 40))).await;
    let terminal = String::from_utf8_lossy(&output.stdout);
    assert!(terminal.contains("40 100"), "{terminal:?}");
    assert!(output.stderr.is_empty());

    // Before v4 the error stream carries only a failure's message.
    let url = exec_url(&mut client, &shell, "exit 3", false, false).await;
    let (mut spdy, protocol) = SpdyClient::upgrade_offering(&node.netns, &url, "v2.channel.k8s.io")
        .await
        .expect("SPDY upgrade");
    assert_eq!(protocol, "v2.channel.k8s.io");
    let output = spdy.remote_command(None, false, None).await;
    assert_eq!(
        String::from_utf8_lossy(&output.error),
        "command terminated with non-zero exit code: error executing command, exit code 3"
    );

    // v5 is WebSocket-only, so a SPDY client offering only v5 is rejected.
    let url = exec_url(&mut client, &shell, "true", false, false).await;
    let rejected = SpdyClient::upgrade_offering(&node.netns, &url, "v5.channel.k8s.io").await;
    let head = rejected.err().expect("v5 over SPDY is rejected");
    assert!(head.starts_with("http/1.1 403"), "{head}");
    assert!(
        head.contains("x-accepted-stream-protocol-versions: v4.channel.k8s.io"),
        "{head}"
    );

    // Attach relays stdin and both output streams of the container's main process.
    let mut config = container_config("reader", "read line; echo got:$line; echo bye >&2");
    config.stdin = true;
    config.stdin_once = true;
    let reader = create_and_start(&mut client, &sandbox_id, &sandbox, config).await;
    let url = client
        .attach(v1::AttachRequest {
            container_id: reader.clone(),
            stdin: true,
            tty: false,
            stdout: true,
            stderr: true,
        })
        .await
        .expect("Attach")
        .into_inner()
        .url;
    let (mut spdy, _) = SpdyClient::upgrade_offering(&node.netns, &url, offered)
        .await
        .expect("SPDY upgrade");
    let output = spdy.remote_command(Some(b"hi\n"), false, None).await;
    assert_eq!(String::from_utf8_lossy(&output.stdout), "got:hi\n");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "bye\n");
    let outcome: serde_json::Value = serde_json::from_slice(&output.error).expect("Status JSON");
    assert_eq!(outcome["status"], "Success", "{outcome}");

    // Attach to a terminal container resizes its terminal.
    let mut config = container_config("terminal", "while read line; do stty size; done");
    config.tty = true;
    config.stdin = true;
    let terminal = create_and_start(&mut client, &sandbox_id, &sandbox, config).await;
    let url = client
        .attach(v1::AttachRequest {
            container_id: terminal.clone(),
            stdin: true,
            tty: true,
            stdout: true,
            stderr: true,
        })
        .await
        .expect("Attach")
        .into_inner()
        .url;
    let (mut spdy, _) = SpdyClient::upgrade_offering(&node.netns, &url, offered)
        .await
        .expect("SPDY upgrade");
    let ids = spdy.open_remote_command(true, true).await;
    let (stdin_id, stdout_id, resize_id) = (ids[1].unwrap(), ids[2].unwrap(), ids[4].unwrap());
    spdy.send_data(resize_id, b"{\"Width\":120,\"Height\":33}\n", false)
        .await;
    // The resize and the input reach the shim on separate sockets, so the line is
    // sent again until the shell reports the new size.
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&seen).contains("33 120") {
        assert!(
            Instant::now() < deadline,
            "no resized terminal in {:?}",
            String::from_utf8_lossy(&seen)
        );
        spdy.send_data(stdin_id, b"size\n", false).await;
        loop {
            match spdy.receive().await {
                Some(container_runtime::spdy::Frame::Data {
                    stream_id, data, ..
                }) if stream_id == stdout_id => {
                    seen.extend_from_slice(&data);
                    if seen.ends_with(b"\n") {
                        break;
                    }
                }
                Some(_) => {}
                None => panic!("the attach session ended"),
            }
        }
    }
    spdy.send(container_runtime::spdy::Frame::GoAway {
        last_good_stream_id: 0,
        status: 0,
    })
    .await;
    assert_eq!(
        status(&mut client, &terminal).await.state,
        v1::ContainerState::ContainerRunning as i32,
        "detaching leaves the container running"
    );

    remove_sandbox(&mut client, &sandbox_id).await;
}

#[tokio::test]
async fn seccomp_runtime_default_blocks_unshare() {
    let mut node = Node::new();
    let (mut client, _) = node.start().await;
    let sandbox = node.sandbox_config("seccomp");
    let sandbox_id = run_sandbox(&mut client, &sandbox).await;

    let confined = |name: &str, kind: v1::security_profile::ProfileType| {
        let mut config = container_config(name, "while true; do sleep 0.1; done");
        config.linux = Some(v1::LinuxContainerConfig {
            security_context: Some(v1::LinuxContainerSecurityContext {
                seccomp: Some(v1::SecurityProfile {
                    profile_type: kind as i32,
                    localhost_ref: String::new(),
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
        config
    };
    let default_id = create_and_start(
        &mut client,
        &sandbox_id,
        &sandbox,
        confined("default", v1::security_profile::ProfileType::RuntimeDefault),
    )
    .await;
    let unconfined_id = create_and_start(
        &mut client,
        &sandbox_id,
        &sandbox,
        confined("unconfined", v1::security_profile::ProfileType::Unconfined),
    )
    .await;

    // A new user namespace needs no capability, so only the filter can refuse it.
    let script = "grep '^Seccomp:' /proc/self/status; unshare -U true && echo unshare=ok";
    let default = exec(&mut client, &default_id, &["sh", "-c", script], 10)
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&default.stdout).to_string();
    let stderr = String::from_utf8_lossy(&default.stderr).to_string();
    assert!(stdout.contains("Seccomp:\t2"), "filter mode: {stdout}");
    assert!(!stdout.contains("unshare=ok"), "{stdout}");
    assert!(stderr.contains("Operation not permitted"), "{stderr}");

    let unconfined = exec(&mut client, &unconfined_id, &["sh", "-c", script], 10)
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&unconfined.stdout).to_string();
    assert!(stdout.contains("Seccomp:\t0"), "filter mode: {stdout}");
    assert!(
        stdout.contains("unshare=ok"),
        "{stdout} {}",
        String::from_utf8_lossy(&unconfined.stderr)
    );

    remove_sandbox(&mut client, &sandbox_id).await;
}

#[tokio::test]
async fn tty_container_logs_terminal_output() {
    let mut node = Node::new();
    let (mut client, _) = node.start().await;
    let sandbox = node.sandbox_config("tty");
    let sandbox_id = run_sandbox(&mut client, &sandbox).await;

    let mut config = container_config(
        "terminal",
        "tty; [ -t 1 ] && echo stdout-is-a-terminal; echo oops >&2; sleep 1000",
    );
    config.tty = true;
    config.stdin = true;
    let id = create_and_start(&mut client, &sandbox_id, &sandbox, config).await;
    let log_path = status(&mut client, &id).await.log_path;

    // The terminal merges stderr into its one output, which the log records as stdout.
    let deadline = Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if log.contains("oops") {
            break log;
        }
        assert!(Instant::now() < deadline, "no terminal output in {log:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let streams: Vec<&str> = log
        .lines()
        .filter_map(|line| line.split(' ').nth(1))
        .collect();
    assert!(streams.iter().all(|stream| *stream == "stdout"), "{log}");
    assert!(log.contains("/dev/pts/0"), "{log}");
    assert!(log.contains("stdout-is-a-terminal"), "{log}");

    let url = client
        .exec(v1::ExecRequest {
            container_id: id.clone(),
            cmd: vec![
                "sh".into(),
                "-c".into(),
                "tty; [ -t 0 ] && echo stdin-is-a-terminal".into(),
            ],
            tty: true,
            stdin: true,
            stdout: true,
            stderr: false,
        })
        .await
        .expect("Exec with tty")
        .into_inner()
        .url;
    let (output, _, exit) = stream_exec(&node.netns, &url, b"")
        .await
        .expect("tty exec session");
    let output = String::from_utf8_lossy(&output).to_string();
    assert!(output.contains("/dev/pts/"), "{output:?}");
    assert!(output.contains("stdin-is-a-terminal"), "{output:?}");
    assert_eq!(exit["status"], "Success", "{exit}");

    remove_sandbox(&mut client, &sandbox_id).await;
}

fn with_pid_mode(
    mut config: v1::ContainerConfig,
    mode: v1::NamespaceMode,
    target_id: &str,
) -> v1::ContainerConfig {
    config.linux = Some(v1::LinuxContainerConfig {
        security_context: Some(v1::LinuxContainerSecurityContext {
            namespace_options: Some(v1::NamespaceOption {
                pid: mode as i32,
                target_id: target_id.into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    config
}

fn with_namespace_options(
    mut config: v1::PodSandboxConfig,
    options: v1::NamespaceOption,
) -> v1::PodSandboxConfig {
    let linux = config.linux.get_or_insert_with(Default::default);
    linux.security_context = Some(v1::LinuxSandboxSecurityContext {
        namespace_options: Some(options),
        ..Default::default()
    });
    config
}

/// Returns the command lines that `ps` lists inside a container.
async fn processes(client: &mut RuntimeServiceClient<Channel>, id: &str) -> String {
    let output = exec(client, id, &["ps", "-o", "args"], 10)
        .await
        .expect("ExecSync ps");
    assert_eq!(output.exit_code, 0, "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn sandbox_record(node: &Node, id: &str) -> serde_json::Value {
    let path = node.path(&format!("root/sandboxes/{id}/sandbox.json"));
    serde_json::from_slice(&std::fs::read(&path).expect("sandbox record")).expect("JSON")
}

/// Reports whether a process runs and is not a zombie, so an init that was killed but
/// not yet reaped by its adopter counts as gone.
fn process_running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let rest = stat[stat.rfind(')')? + 1..].to_string();
            rest.split_whitespace().next().map(|state| state != "Z")
        })
        .unwrap_or(false)
}

#[tokio::test]
async fn pod_pid_namespace_is_shared() {
    let mut node = Node::new();
    let (mut client, _) = node.start().await;
    let shared = with_namespace_options(
        node.sandbox_config("shared"),
        v1::NamespaceOption {
            pid: v1::NamespaceMode::Pod as i32,
            ..Default::default()
        },
    );
    let shared_id = run_sandbox(&mut client, &shared).await;
    let isolated = with_namespace_options(
        node.sandbox_config("isolated"),
        v1::NamespaceOption {
            pid: v1::NamespaceMode::Container as i32,
            ..Default::default()
        },
    );
    let isolated_id = run_sandbox(&mut client, &isolated).await;

    let mut ids = Vec::new();
    for (sandbox_id, sandbox, name, mode) in [
        (&shared_id, &shared, "one", v1::NamespaceMode::Pod),
        (&shared_id, &shared, "two", v1::NamespaceMode::Pod),
        (
            &isolated_id,
            &isolated,
            "three",
            v1::NamespaceMode::Container,
        ),
        (
            &isolated_id,
            &isolated,
            "four",
            v1::NamespaceMode::Container,
        ),
    ] {
        let seconds = 1001 + ids.len();
        let config = with_pid_mode(
            container_config(name, &format!("exec sleep {seconds}")),
            mode,
            "",
        );
        ids.push(create_and_start(&mut client, sandbox_id, sandbox, config).await);
    }

    let seen_by_two = processes(&mut client, &ids[1]).await;
    assert!(seen_by_two.contains("sleep 1001"), "{seen_by_two}");
    assert!(seen_by_two.contains("sleep 1002"), "{seen_by_two}");
    assert!(!seen_by_two.contains("sleep 1003"), "{seen_by_two}");
    let init = exec(&mut client, &ids[1], &["cat", "/proc/1/cmdline"], 10)
        .await
        .expect("ExecSync cat");
    assert!(
        String::from_utf8_lossy(&init.stdout).contains("pod-init"),
        "{init:?}"
    );

    let seen_by_four = processes(&mut client, &ids[3]).await;
    assert!(seen_by_four.contains("sleep 1004"), "{seen_by_four}");
    assert!(!seen_by_four.contains("sleep 1003"), "{seen_by_four}");
    assert!(!seen_by_four.contains("sleep 1001"), "{seen_by_four}");

    // An ephemeral container targeting "three" sees its processes.
    let debug = with_pid_mode(
        container_config("debug", "exec sleep 1005"),
        v1::NamespaceMode::Target,
        &ids[2],
    );
    let debug_id = create_and_start(&mut client, &isolated_id, &isolated, debug).await;
    let seen_by_debug = processes(&mut client, &debug_id).await;
    assert!(seen_by_debug.contains("sleep 1003"), "{seen_by_debug}");
    assert!(!seen_by_debug.contains("sleep 1004"), "{seen_by_debug}");

    // The init outlives a daemon restart, and new containers join it.
    drop(client);
    node.stop_daemon();
    let (mut client, _) = node.start().await;
    let pod = client
        .pod_sandbox_status(v1::PodSandboxStatusRequest {
            pod_sandbox_id: shared_id.clone(),
            verbose: false,
        })
        .await
        .expect("PodSandboxStatus")
        .into_inner()
        .status
        .expect("status");
    assert_eq!(pod.state, v1::PodSandboxState::SandboxReady as i32);
    let late = with_pid_mode(
        container_config("late", "exec sleep 1006"),
        v1::NamespaceMode::Pod,
        "",
    );
    let late_id = create_and_start(&mut client, &shared_id, &shared, late).await;
    let seen_by_late = processes(&mut client, &late_id).await;
    assert!(seen_by_late.contains("sleep 1001"), "{seen_by_late}");

    let init_pid = sandbox_record(&node, &shared_id)["pod_init"]["pid"]
        .as_i64()
        .expect("pod_init.pid in the sandbox record") as i32;
    assert!(process_running(init_pid));
    assert!(sandbox_record(&node, &isolated_id)["pod_init"].is_null());
    remove_sandbox(&mut client, &shared_id).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while process_running(init_pid) {
        assert!(Instant::now() < deadline, "pod init {init_pid} still runs");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    remove_sandbox(&mut client, &isolated_id).await;

    // A sandbox whose init dies is reported not ready.
    let doomed = with_namespace_options(
        node.sandbox_config("doomed"),
        v1::NamespaceOption {
            pid: v1::NamespaceMode::Pod as i32,
            ..Default::default()
        },
    );
    let doomed_id = run_sandbox(&mut client, &doomed).await;
    let init = &sandbox_record(&node, &doomed_id)["pod_init"];
    let doomed_pid = init["pid"].as_i64().expect("pod_init.pid") as i32;
    assert_eq!(
        process_start_time(doomed_pid),
        init["start_time"].as_u64(),
        "pod init {doomed_pid} is not the recorded process"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(doomed_pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill pod init");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = client
            .pod_sandbox_status(v1::PodSandboxStatusRequest {
                pod_sandbox_id: doomed_id.clone(),
                verbose: false,
            })
            .await
            .expect("PodSandboxStatus")
            .into_inner()
            .status
            .expect("status")
            .state;
        if state == v1::PodSandboxState::SandboxNotready as i32 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sandbox stays ready without its init"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    remove_sandbox(&mut client, &doomed_id).await;
}

#[tokio::test]
async fn pod_dev_shm_is_shared() {
    let mut node = Node::new();
    let (mut client, _) = node.start().await;
    let first = node.sandbox_config("first");
    let first_id = run_sandbox(&mut client, &first).await;
    let second = node.sandbox_config("second");
    let second_id = run_sandbox(&mut client, &second).await;
    let host_ipc = with_namespace_options(
        node.sandbox_config("host-ipc"),
        v1::NamespaceOption {
            ipc: v1::NamespaceMode::Node as i32,
            pid: v1::NamespaceMode::Container as i32,
            ..Default::default()
        },
    );
    let host_ipc_id = run_sandbox(&mut client, &host_ipc).await;

    let mut ids = Vec::new();
    for (sandbox_id, sandbox, name) in [
        (&first_id, &first, "writer"),
        (&first_id, &first, "reader"),
        (&second_id, &second, "stranger"),
        (&host_ipc_id, &host_ipc, "host"),
    ] {
        let config = container_config(name, "exec sleep 1000");
        ids.push(create_and_start(&mut client, sandbox_id, sandbox, config).await);
    }

    let write = exec(
        &mut client,
        &ids[0],
        &["sh", "-c", "echo shared > /dev/shm/probe"],
        10,
    )
    .await
    .expect("ExecSync write");
    assert_eq!(write.exit_code, 0, "{write:?}");
    let read = exec(&mut client, &ids[1], &["cat", "/dev/shm/probe"], 10)
        .await
        .expect("ExecSync read");
    assert_eq!(read.stdout, b"shared\n", "{read:?}");
    let stranger = exec(&mut client, &ids[2], &["cat", "/dev/shm/probe"], 10)
        .await
        .expect("ExecSync stranger");
    assert_ne!(stranger.exit_code, 0, "{stranger:?}");

    let mounts = exec(&mut client, &ids[1], &["cat", "/proc/mounts"], 10)
        .await
        .expect("ExecSync mounts");
    let mounts = String::from_utf8_lossy(&mounts.stdout).into_owned();
    let shm_line = mounts
        .lines()
        .find(|line| line.split(' ').nth(1) == Some("/dev/shm"))
        .unwrap_or_else(|| panic!("no /dev/shm in {mounts}"));
    assert!(shm_line.contains("tmpfs"), "{shm_line}");
    assert!(shm_line.contains("size=65536k"), "{shm_line}");
    let mode = exec(&mut client, &ids[1], &["stat", "-c", "%a", "/dev/shm"], 10)
        .await
        .expect("ExecSync stat");
    assert_eq!(mode.stdout, b"1777\n", "{mode:?}");

    // A host IPC pod sees the host's /dev/shm.
    let host_file = format!("container-runtime-test-{}", uuid::Uuid::new_v4());
    let host_path = Path::new("/dev/shm").join(&host_file);
    std::fs::write(&host_path, "host\n").expect("write host /dev/shm");
    let host_read = exec(
        &mut client,
        &ids[3],
        &["cat", &format!("/dev/shm/{host_file}")],
        10,
    )
    .await;
    let _ = std::fs::remove_file(&host_path);
    assert_eq!(host_read.expect("ExecSync host").stdout, b"host\n");

    let shm_dir = node.path(&format!("state/sandboxes/{first_id}/shm"));
    let mounted = |dir: &Path| {
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .any(|line| line.split(' ').nth(4) == Some(&*dir.to_string_lossy()))
    };
    assert!(mounted(&shm_dir), "{} is not mounted", shm_dir.display());
    remove_sandbox(&mut client, &first_id).await;
    assert!(!mounted(&shm_dir), "{} is still mounted", shm_dir.display());
    assert!(!shm_dir.exists());

    remove_sandbox(&mut client, &second_id).await;
    remove_sandbox(&mut client, &host_ipc_id).await;
}
