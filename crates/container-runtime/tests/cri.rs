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

use container_runtime::images::{ImageConfig, LocalImageStore};
use cri::v1;
use cri::v1::image_service_client::ImageServiceClient;
use cri::v1::runtime_service_client::RuntimeServiceClient;
use tonic::transport::Channel;

const IMAGE: &str = "localhost/busybox:test";

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
        build_busybox_image(&node.path("root/local-images"));
        node
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn socket(&self) -> PathBuf {
        self.path("run/cri.sock")
    }

    /// Starts the daemon in the node namespace and connects both clients.
    async fn start(&mut self) -> (RuntimeServiceClient<Channel>, ImageServiceClient<Channel>) {
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
        unmount_below(self.dir.path());
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.netns])
            .output();
        remove_cgroups(&self.cgroup_root);
    }
}

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Unmounts everything mounted below `dir`, deepest first.
fn unmount_below(dir: &Path) {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let prefix = dir.display().to_string();
    let mut points: Vec<String> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .filter(|point| point.starts_with(&prefix))
        .map(str::to_string)
        .collect();
    points.sort_by_key(|point| std::cmp::Reverse(point.len()));
    for point in points {
        let _ = nix::mount::umount2(point.as_str(), nix::mount::MntFlags::MNT_DETACH);
    }
}

/// Removes the test's cgroup subtree from every cgroup v1 hierarchy, leaves first.
fn remove_cgroups(root: &str) {
    let Ok(controllers) = std::fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    for controller in controllers.flatten() {
        let top = controller.path().join(root);
        let mut dirs = Vec::new();
        let mut pending = vec![top.clone()];
        while let Some(dir) = pending.pop() {
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for entry in entries.flatten() {
                    if entry.file_type().map(|kind| kind.is_dir()).unwrap_or(false) {
                        pending.push(entry.path());
                    }
                }
                dirs.push(dir);
            }
        }
        dirs.sort_by_key(|dir| std::cmp::Reverse(dir.as_os_str().len()));
        for dir in dirs {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Writes an image directory whose rootfs holds Debian's static busybox and its applets.
fn build_busybox_image(images: &Path) {
    let config = ImageConfig {
        cmd: vec!["sh".into()],
        env: vec!["IMAGE_VAR=from-image".into()],
        ..Default::default()
    };
    let rootfs = LocalImageStore::add(images, IMAGE, &config).expect("add image");
    for dir in ["bin", "proc", "sys", "dev", "etc", "tmp"] {
        std::fs::create_dir_all(rootfs.join(dir)).unwrap();
    }
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
    for applet in [
        "sh", "echo", "sleep", "cat", "hostname", "ip", "true", "ls", "id",
    ] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    std::fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(rootfs.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").unwrap();
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

    let script = "echo $GREETING $IMAGE_VAR; echo oops >&2; exit 3";
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
            .any(|r| r.1 == "stdout" && r.2 == "F" && r.3 == "hello from-image"),
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
            "trap 'exit 0' TERM; while true; do sleep 0.1; done",
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

    let started = Instant::now();
    let timed_out = exec(&mut client, &polite, &["sleep", "30"], 1)
        .await
        .expect_err("exec past its timeout");
    assert_eq!(timed_out.code(), tonic::Code::DeadlineExceeded);
    assert!(started.elapsed() < Duration::from_secs(10));

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

    let pulled = images
        .pull_image(v1::PullImageRequest {
            image: Some(v1::ImageSpec {
                image: IMAGE.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(pulled.image_ref.starts_with("sha256:"));
    let absent = images
        .pull_image(v1::PullImageRequest {
            image: Some(v1::ImageSpec {
                image: "localhost/absent:1".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await;
    assert_eq!(absent.unwrap_err().code(), tonic::Code::NotFound);
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
}
