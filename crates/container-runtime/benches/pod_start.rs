//! Pod start latency and throughput through CRI, for this crate's `container-runtime`
//! daemon and for Debian's containerd with runc, in one run on the same machine.
//!
//! Each runtime gets its own network namespace (loopback plus a CNI bridge, no route
//! out), state directories, unix socket and cgroup root, with the busybox image already
//! imported. A pod start is RunPodSandbox, CreateContainer and StartContainer of one
//! `sleep` container, timed from the first request until StartContainer returns.
//! The latency series starts pods one after another. Each throughput batch starts its
//! pods at once and divides the batch size by the time until the last one runs.
//!
//! Run as root: `cargo bench -p container-runtime --bench pod_start -- [pods] [batch]`
//! (defaults 100 pods, batches of 20, three batches per runtime). Needs runc,
//! containerd, ctr, gcc, busybox-static and containernetworking-plugins.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cri::v1;
use cri::v1::runtime_service_client::RuntimeServiceClient;
use futures_util::FutureExt;
use tonic::transport::Channel;

#[path = "../tests/support/cleanup.rs"]
mod cleanup;
use cleanup::{remove_cgroups, run, unmount_below};

const IMAGE: &str = "docker.io/library/busybox:latest";
const PAUSE_IMAGE: &str = "registry.k8s.io/pause:3.9";
const BATCHES: usize = 3;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Ours,
    Containerd,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Ours => "container-runtime",
            Kind::Containerd => "containerd 1.6 + runc",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::Containerd => "ctrd",
        }
    }
}

/// One runtime daemon under test with everything it owns. [`Daemon::cleanup`] runs from
/// Drop as well, so a failed run still removes processes, mounts, cgroups and the
/// network namespace.
struct Daemon {
    kind: Kind,
    dir: PathBuf,
    netns: String,
    cgroup_root: String,
    child: Option<Child>,
}

impl Daemon {
    fn socket(&self) -> PathBuf {
        self.dir.join("cri.sock")
    }

    fn endpoint(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// Creates the namespace, CNI config and image store, then starts the daemon.
    fn start(kind: Kind, base: &Path, layouts: &Path, index: u8) -> Daemon {
        let dir = base.join(kind.short());
        std::fs::create_dir_all(&dir).unwrap();
        let suffix = format!("{}-{}", kind.short(), std::process::id());
        let mut daemon = Daemon {
            kind,
            dir,
            netns: format!("rtbench-{suffix}"),
            cgroup_root: format!("rtbench-{suffix}"),
            child: None,
        };
        run("ip", &["netns", "add", &daemon.netns]);
        run("ip", &["-n", &daemon.netns, "link", "set", "lo", "up"]);
        daemon.write_cni_config(index);
        match kind {
            Kind::Ours => daemon.start_ours(layouts),
            Kind::Containerd => daemon.start_containerd(layouts),
        }
        daemon
    }

    fn write_cni_config(&self, index: u8) {
        let conf_dir = self.dir.join("cni");
        std::fs::create_dir_all(&conf_dir).unwrap();
        let conf = serde_json::json!({
            "cniVersion": "0.4.0",
            "name": format!("rtbench-{}", self.kind.short()),
            "plugins": [{
                "type": "bridge",
                "bridge": format!("rtb{index}"),
                "isGateway": true,
                "ipMasq": false,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{ "subnet": format!("10.198.{index}.0/24") }]],
                    "dataDir": self.dir.join("ipam"),
                }
            }]
        });
        std::fs::write(conf_dir.join("10-rtbench.conflist"), conf.to_string()).unwrap();
    }

    fn start_ours(&mut self, layouts: &Path) {
        let store = container_runtime::image::ImageStore::open(
            self.dir.join("root/images"),
            Default::default(),
        )
        .expect("open image store");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime
            .block_on(store.import(&layouts.join("busybox")))
            .expect("import busybox");

        let log = std::fs::File::create(self.dir.join("daemon.log")).unwrap();
        let child = Command::new("nsenter")
            .arg(format!("--net=/var/run/netns/{}", self.netns))
            .arg(env!("CARGO_BIN_EXE_container-runtime"))
            .arg("--listen")
            .arg(self.socket())
            .arg("--root")
            .arg(self.dir.join("root"))
            .arg("--state")
            .arg(self.dir.join("state"))
            .arg("--cni-conf-dir")
            .arg(self.dir.join("cni"))
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_string()),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start container-runtime");
        self.child = Some(child);
    }

    /// Starts containerd with its own root, state, socket and runc root, in the manner
    /// of the kubelet's node test, and imports busybox and the pause image with ctr.
    fn start_containerd(&mut self, layouts: &Path) {
        let dir = self.dir.display();
        let socket = self.socket();
        let config = format!(
            r#"version = 2
root = "{dir}/root"
state = "{dir}/state"
[grpc]
  address = "{socket}"
[ttrpc]
  address = "{socket}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{dir}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{dir}/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "{dir}/runc"
"#,
            socket = socket.display(),
        );
        std::fs::write(self.dir.join("containerd.toml"), config).unwrap();
        let log = std::fs::File::create(self.dir.join("daemon.log")).unwrap();
        let child = Command::new("nsenter")
            .arg(format!("--net=/var/run/netns/{}", self.netns))
            .arg("containerd")
            .arg("--config")
            .arg(self.dir.join("containerd.toml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start containerd");
        self.child = Some(child);

        let deadline = Instant::now() + Duration::from_secs(30);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "containerd did not create {}; see {}",
                socket.display(),
                self.dir.join("daemon.log").display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        for image in ["busybox", "pause"] {
            let archive = self.dir.join(format!("{image}.tar"));
            run(
                "tar",
                &[
                    "-C",
                    &layouts.join(image).display().to_string(),
                    "-cf",
                    &archive.display().to_string(),
                    ".",
                ],
            );
            let address = socket.display().to_string();
            let archive = archive.display().to_string();
            // The CRI plugin registers the k8s.io namespace shortly after the socket
            // appears, so the first imports may fail.
            let mut last_error = String::new();
            let imported = (0..50).any(|_| {
                let output = Command::new("ctr")
                    .args(["--address", &address, "-n", "k8s.io", "images", "import"])
                    .arg(&archive)
                    .output()
                    .expect("run ctr");
                if output.status.success() {
                    return true;
                }
                last_error = String::from_utf8_lossy(&output.stderr).into_owned();
                std::thread::sleep(Duration::from_millis(200));
                false
            });
            assert!(imported, "ctr images import {archive} failed: {last_error}");
        }
    }

    async fn connect(&self) -> RuntimeServiceClient<Channel> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.socket().exists()
                && let Ok(channel) = cri::connect_unix(&self.endpoint()).await
            {
                let mut client = RuntimeServiceClient::new(channel);
                if client.version(v1::VersionRequest::default()).await.is_ok() {
                    return client;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{} did not serve CRI on {}; see {}",
                self.kind.name(),
                self.socket().display(),
                self.dir.join("daemon.log").display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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
            log_directory: self.dir.join(format!("logs/{uid}")).display().to_string(),
            linux: Some(v1::LinuxPodSandboxConfig {
                cgroup_parent: format!("/{}/pod{uid}", self.cgroup_root),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Stops and removes every sandbox through CRI, so that CNI teardown runs and
    /// containerd deletes the network namespaces it made under /var/run/netns.
    async fn remove_all_sandboxes(&self, client: &mut RuntimeServiceClient<Channel>) {
        let Ok(list) = client
            .list_pod_sandbox(v1::ListPodSandboxRequest { filter: None })
            .await
        else {
            return;
        };
        for sandbox in list.into_inner().items {
            let _ = client
                .stop_pod_sandbox(v1::StopPodSandboxRequest {
                    pod_sandbox_id: sandbox.id.clone(),
                })
                .await;
            let _ = client
                .remove_pod_sandbox(v1::RemovePodSandboxRequest {
                    pod_sandbox_id: sandbox.id,
                })
                .await;
        }
    }

    /// Kills the daemon and the shims it started, unmounts everything below its
    /// directory and removes its cgroups and network namespace.
    fn cleanup(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        match self.kind {
            Kind::Ours => self.kill_our_containers(),
            Kind::Containerd => self.kill_containerd_shims(),
        }
        unmount_below(&self.dir);
        remove_cgroups(&self.cgroup_root);
        if Path::new("/var/run/netns").join(&self.netns).exists() {
            let _ = Command::new("ip")
                .args(["netns", "delete", &self.netns])
                .output();
        }
        if self.kind == Kind::Containerd {
            // containerd 1.6 and libcni also create these outside the configured
            // roots. Only empty ones are removed, since another runtime may use them.
            for shared in [
                "/run/containerd/runc/k8s.io",
                "/run/containerd/runc",
                "/run/containerd/s",
                "/run/containerd",
                "/var/lib/cni/results",
                "/var/lib/cni",
            ] {
                let _ = std::fs::remove_dir(shared);
            }
        }
    }

    /// Kills the shim and container process recorded for each container, then lets
    /// runc delete what is left of it.
    fn kill_our_containers(&self) {
        let oci_root = self.dir.join("state/oci");
        let containers = std::fs::read_dir(self.dir.join("root/containers"))
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
                    kill(pid as i32);
                }
            }
            let id = entry.file_name().to_string_lossy().into_owned();
            let _ = Command::new("runc")
                .arg("--root")
                .arg(&oci_root)
                .args(["delete", "--force", &id])
                .output();
        }
    }

    /// Kills the containerd shims whose command line names this daemon's socket; the
    /// containers die with their PID namespaces.
    fn kill_containerd_shims(&self) {
        let marker = self.socket().display().to_string();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            if cmdline.contains("containerd-shim") && cmdline.contains(&marker) {
                kill(pid);
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        let runc_root = self.dir.join("runc/k8s.io");
        for entry in std::fs::read_dir(&runc_root)
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = Command::new("runc")
                .arg("--root")
                .arg(&runc_root)
                .args(["delete", "--force"])
                .arg(entry.file_name())
                .output();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.cleanup();
    }
}

fn kill(pid: i32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// Durations of the three CRI calls of one pod start.
#[derive(Clone, Copy)]
struct PodTiming {
    sandbox: Duration,
    create: Duration,
    start: Duration,
}

impl PodTiming {
    fn total(&self) -> Duration {
        self.sandbox + self.create + self.start
    }
}

/// Starts one pod with a single `sleep` container and returns how long each call took.
async fn start_pod(
    daemon: &Daemon,
    mut client: RuntimeServiceClient<Channel>,
    name: &str,
) -> PodTiming {
    let sandbox = daemon.sandbox_config(name);
    let container = v1::ContainerConfig {
        metadata: Some(v1::ContainerMetadata {
            name: "sleep".into(),
            attempt: 0,
        }),
        image: Some(v1::ImageSpec {
            image: IMAGE.into(),
            ..Default::default()
        }),
        command: vec!["sleep".into(), "3600".into()],
        log_path: "sleep/0.log".into(),
        ..Default::default()
    };

    let began = Instant::now();
    let sandbox_id = client
        .run_pod_sandbox(v1::RunPodSandboxRequest {
            config: Some(sandbox.clone()),
            runtime_handler: String::new(),
        })
        .await
        .unwrap_or_else(|status| panic!("{}: RunPodSandbox: {status}", daemon.kind.name()))
        .into_inner()
        .pod_sandbox_id;
    let sandbox_done = Instant::now();
    let container_id = client
        .create_container(v1::CreateContainerRequest {
            pod_sandbox_id: sandbox_id,
            config: Some(container),
            sandbox_config: Some(sandbox),
        })
        .await
        .unwrap_or_else(|status| panic!("{}: CreateContainer: {status}", daemon.kind.name()))
        .into_inner()
        .container_id;
    let create_done = Instant::now();
    client
        .start_container(v1::StartContainerRequest {
            container_id: container_id.clone(),
        })
        .await
        .unwrap_or_else(|status| panic!("{}: StartContainer: {status}", daemon.kind.name()));
    let start_done = Instant::now();

    let state = client
        .container_status(v1::ContainerStatusRequest {
            container_id,
            verbose: false,
        })
        .await
        .expect("ContainerStatus")
        .into_inner()
        .status
        .map(|status| status.state);
    assert_eq!(
        state,
        Some(v1::ContainerState::ContainerRunning as i32),
        "{}: the container of {name} is not running after StartContainer",
        daemon.kind.name()
    );
    PodTiming {
        sandbox: sandbox_done - began,
        create: create_done - sandbox_done,
        start: start_done - create_done,
    }
}

/// Nearest-rank percentile of sorted durations, in milliseconds.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

struct Figures {
    p50: f64,
    p99: f64,
    sandbox_p50: f64,
    create_p50: f64,
    start_p50: f64,
    pods_per_second: Vec<f64>,
}

/// Runs the latency series and the throughput batches against one daemon.
async fn measure(daemon: &Daemon, pods: usize, batch: usize) -> Figures {
    let mut client = daemon.connect().await;

    // One unmeasured pod warms up the page cache, the image unpack path and CNI.
    start_pod(daemon, client.clone(), "warmup").await;
    daemon.remove_all_sandboxes(&mut client).await;

    let mut timings = Vec::with_capacity(pods);
    for i in 0..pods {
        timings.push(start_pod(daemon, client.clone(), &format!("latency-{i}")).await);
    }
    daemon.remove_all_sandboxes(&mut client).await;

    let sorted = |pick: fn(&PodTiming) -> Duration| {
        let mut values: Vec<Duration> = timings.iter().map(pick).collect();
        values.sort();
        values
    };
    let totals = sorted(PodTiming::total);

    let mut pods_per_second = Vec::new();
    for round in 0..BATCHES {
        let began = Instant::now();
        let starts = (0..batch).map(|i| {
            let client = client.clone();
            async move { start_pod(daemon, client, &format!("batch-{round}-{i}")).await }
        });
        futures_util::future::join_all(starts).await;
        pods_per_second.push(batch as f64 / began.elapsed().as_secs_f64());
        daemon.remove_all_sandboxes(&mut client).await;
    }

    Figures {
        p50: percentile(&totals, 0.50),
        p99: percentile(&totals, 0.99),
        sandbox_p50: percentile(&sorted(|t| t.sandbox), 0.50),
        create_p50: percentile(&sorted(|t| t.create), 0.50),
        start_p50: percentile(&sorted(|t| t.start), 0.50),
        pods_per_second,
    }
}

/// Builds the busybox and pause OCI layouts with hack/images/build.sh.
fn build_images(out: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hack/images/build.sh");
    let output = Command::new("bash")
        .arg(&script)
        .args(["busybox", "pause"])
        .env("OUT", out)
        .output()
        .expect("run hack/images/build.sh");
    assert!(
        output.status.success(),
        "hack/images/build.sh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn parse_arg(args: &[String], index: usize, default: usize) -> usize {
    match args.get(index) {
        None => default,
        Some(value) => value.parse().unwrap_or_else(|_| {
            eprintln!("pod_start: invalid count {value:?}; expected a positive integer");
            std::process::exit(2);
        }),
    }
}

fn main() {
    // cargo bench passes --bench; only positional numbers are ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let pods = parse_arg(&args, 0, 100).max(1);
    let batch = parse_arg(&args, 1, 20).max(1);
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("pod_start: needs root (network namespaces, runc, cgroups)");
        std::process::exit(2);
    }
    for tool in [
        "/usr/sbin/runc",
        "/usr/bin/containerd",
        "/usr/bin/ctr",
        "/bin/busybox",
        "/usr/lib/cni/bridge",
        "/usr/lib/cni/host-local",
    ] {
        if !Path::new(tool).exists() {
            eprintln!("pod_start: {tool} is missing; run hack/install-deps.sh");
            std::process::exit(2);
        }
    }

    let base = tempfile::Builder::new()
        .prefix("rtbench-")
        .tempdir()
        .expect("create temp dir");
    let layouts = base.path().join("layouts");
    build_images(&layouts);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut results = Vec::new();
    for (index, kind) in [Kind::Ours, Kind::Containerd].into_iter().enumerate() {
        let mut daemon = Daemon::start(kind, base.path(), &layouts, 71 + index as u8);
        let outcome = runtime.block_on(async {
            let measured = std::panic::AssertUnwindSafe(measure(&daemon, pods, batch))
                .catch_unwind()
                .await;
            let mut client = daemon.connect().await;
            daemon.remove_all_sandboxes(&mut client).await;
            measured
        });
        daemon.cleanup();
        match outcome {
            Ok(figures) => results.push((kind, figures)),
            Err(panic) => {
                eprintln!(
                    "pod_start: {} failed; its log was {}",
                    kind.name(),
                    daemon.dir.join("daemon.log").display()
                );
                drop(daemon);
                std::panic::resume_unwind(panic);
            }
        }
    }

    println!("pod start, {pods} pods one at a time (ms; sandbox/create/start are p50 per call)");
    println!(
        "{:<24} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "runtime", "p50", "p99", "sandbox", "create", "start"
    );
    for (kind, figures) in &results {
        println!(
            "{:<24} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
            kind.name(),
            figures.p50,
            figures.p99,
            figures.sandbox_p50,
            figures.create_p50,
            figures.start_p50
        );
    }
    println!("throughput, {BATCHES} batches of {batch} pods started at once (pods/s)");
    for (kind, figures) in &results {
        let rounds: Vec<String> = figures
            .pods_per_second
            .iter()
            .map(|rate| format!("{rate:.1}"))
            .collect();
        println!("{:<24} {}", kind.name(), rounds.join("  "));
    }
}
