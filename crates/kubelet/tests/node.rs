//! The kubelet against a real kube-apiserver (in-process, loopback) and a real
//! containerd that this test starts with its own root, state, socket, CNI config
//! and cgroup parent, inside a network namespace of its own with no route out.
//!
//! One test walks the node through registration, a running pod, container logs,
//! an ephemeral container, CrashLoopBackOff, a static pod with its mirror pod and
//! pod deletion, sharing the slow-to-start runtime. Cleanup (CRI sandboxes, processes, mounts, cgroups,
//! namespace) runs whether the scenario passes or not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use client::config::{AuthConfig, RestConfig, TlsConfig};
use client::rest::RestClient;
use cri::v1 as pb;
use kube_apiserver::apiserver::{self, RunningServer};
use kube_apiserver::options::Options;
use kubelet::config::KubeletConfiguration;
use serde_json::{Value, json};
use tokio::sync::watch;

const NODE: &str = "kt-node";
const IMAGE: &str = "docker.io/library/busybox:kubelet-test";
const PAUSE: &str = "docker.io/library/pause:kubelet-test";

fn run(cmd: &mut Command) -> Result<String, String> {
    let output = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn sha256(path: &Path) -> String {
    let out = run(Command::new("sha256sum").arg(path)).expect("sha256sum");
    out.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Writes an OCI archive with a busybox image and a "pause" image sharing one
/// layer made of Debian's static busybox and its applet symlinks.
fn build_images(dir: &Path) -> PathBuf {
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    std::fs::create_dir_all(rootfs.join("etc")).unwrap();
    std::fs::create_dir_all(rootfs.join("tmp")).unwrap();
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox"))
        .expect("copy /bin/busybox (busybox-static)");
    for applet in [
        "sh", "sleep", "echo", "cat", "ls", "true", "false", "env", "wget", "nc", "ps",
    ] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
    std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    let layout = dir.join("oci");
    let blobs = layout.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let layer = dir.join("layer.tar");
    run(Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("--owner=0")
        .arg("--group=0")
        .arg("-cf")
        .arg(&layer)
        .arg("."))
    .unwrap();
    let layer_digest = sha256(&layer);
    let layer_size = std::fs::metadata(&layer).unwrap().len();
    std::fs::rename(&layer, blobs.join(&layer_digest)).unwrap();

    let blob = |content: Vec<u8>| -> (String, usize) {
        let tmp = dir.join("blob.tmp");
        std::fs::write(&tmp, &content).unwrap();
        let digest = sha256(&tmp);
        std::fs::rename(&tmp, blobs.join(&digest)).unwrap();
        (digest, content.len())
    };
    let mut manifests = Vec::new();
    for (name, entrypoint, cmd) in [
        (IMAGE, json!(null), json!(["sh"])),
        (PAUSE, json!(["/bin/sleep"]), json!(["2147483647"])),
    ] {
        let config = json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/bin"], "Cmd": cmd, "Entrypoint": entrypoint},
            "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{layer_digest}")]},
        });
        let (config_digest, config_size) = blob(serde_json::to_vec(&config).unwrap());
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{config_digest}"), "size": config_size},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{layer_digest}"), "size": layer_size}],
        });
        let (manifest_digest, manifest_size) = blob(serde_json::to_vec(&manifest).unwrap());
        manifests.push(json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{manifest_digest}"),
            "size": manifest_size,
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name.rsplit(':').next().unwrap()},
        }));
    }
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": manifests})).unwrap(),
    )
    .unwrap();
    let archive = dir.join("images.tar");
    run(Command::new("tar")
        .arg("-C")
        .arg(&layout)
        .arg("-cf")
        .arg(&archive)
        .arg("."))
    .unwrap();
    archive
}

/// A containerd in a network namespace of its own. [`Containerd::cleanup`] removes
/// everything it made, and drop runs the same cleanup as a fallback.
struct Containerd {
    dir: PathBuf,
    netns: String,
    cgroup_root: String,
    child: Option<Child>,
    socket: PathBuf,
}

impl Containerd {
    fn start(dir: &Path) -> Containerd {
        let netns = format!("kubelet-it-{}", std::process::id());
        let cgroup_root = format!("/kubelet-it-{}", std::process::id());
        let mut this = Containerd {
            dir: dir.to_path_buf(),
            netns: netns.clone(),
            cgroup_root,
            child: None,
            socket: dir.join("containerd.sock"),
        };
        run(Command::new("ip").args(["netns", "add", &netns])).expect("create network namespace");
        run(Command::new("ip").args(["netns", "exec", &netns, "ip", "link", "set", "lo", "up"]))
            .expect("lo up");
        let cni = dir.join("cni");
        std::fs::create_dir_all(&cni).unwrap();
        let cni_conf = json!({
            "cniVersion": "0.4.0",
            "name": "kubelet-it",
            "plugins": [{
                "type": "bridge",
                "bridge": "kt-br0",
                "isGateway": true,
                "ipMasq": false,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": "10.244.77.0/24"}]],
                    "dataDir": dir.join("cni-ipam"),
                }
            }]
        });
        std::fs::write(cni.join("10-kubelet-it.conflist"), cni_conf.to_string()).unwrap();
        let config = format!(
            r#"version = 2
root = "{dir}/root"
state = "{dir}/state"
[grpc]
  address = "{dir}/containerd.sock"
[ttrpc]
  address = "{dir}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{dir}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE}"
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
            dir = dir.display()
        );
        std::fs::write(dir.join("containerd.toml"), config).unwrap();
        let log = std::fs::File::create(dir.join("containerd.log")).unwrap();
        let child = Command::new("nsenter")
            .arg(format!("--net=/var/run/netns/{netns}"))
            .arg("containerd")
            .arg("--config")
            .arg(dir.join("containerd.toml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start containerd");
        this.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !this.socket.exists() {
            assert!(
                Instant::now() < deadline,
                "containerd did not create its socket"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let archive = build_images(&dir.join("image"));
        let address = this.socket.to_string_lossy().into_owned();
        let mut imported = false;
        for _ in 0..50 {
            if run(Command::new("ctr")
                .args(["--address", &address, "-n", "k8s.io", "images", "import"])
                .arg(&archive))
            .is_ok()
            {
                imported = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        assert!(
            imported,
            "ctr images import failed; see {}",
            dir.join("containerd.log").display()
        );
        this
    }

    fn endpoint(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Stops and removes every sandbox through CRI, so that the CNI teardown and
    /// the runtime's own cleanup run.
    async fn remove_sandboxes(&self) {
        let Ok(runtime) = kubelet::remote::connect(&self.endpoint(), Duration::from_secs(30))
        else {
            return;
        };
        let mut rt = runtime.runtime;
        let Ok(list) = rt
            .list_pod_sandbox(pb::ListPodSandboxRequest { filter: None })
            .await
        else {
            return;
        };
        for sandbox in list.into_inner().items {
            // The runtime names the pod's network namespace in its verbose info;
            // remove it if the runtime leaves it behind.
            let netns = rt
                .pod_sandbox_status(pb::PodSandboxStatusRequest {
                    pod_sandbox_id: sandbox.id.clone(),
                    verbose: true,
                })
                .await
                .ok()
                .and_then(|r| r.into_inner().info.get("info").cloned())
                .and_then(|info| serde_json::from_str::<Value>(&info).ok())
                .and_then(|info| info["netNamespacePath"].as_str().map(str::to_string));
            let _ = rt
                .stop_pod_sandbox(pb::StopPodSandboxRequest {
                    pod_sandbox_id: sandbox.id.clone(),
                })
                .await;
            let _ = rt
                .remove_pod_sandbox(pb::RemovePodSandboxRequest {
                    pod_sandbox_id: sandbox.id,
                })
                .await;
            if let Some(path) = netns.filter(|p| {
                p.starts_with("/var/run/netns/cni-") || p.starts_with("/run/netns/cni-")
            }) && Path::new(&path).exists()
                && let Some(name) = Path::new(&path).file_name()
            {
                let _ = Command::new("ip")
                    .arg("netns")
                    .arg("delete")
                    .arg(name)
                    .status();
            }
        }
    }

    /// Kills containerd and the shims it started, unmounts what is left under the
    /// temp dir, removes the cgroups and the network namespace.
    fn cleanup(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let marker = self.dir.to_string_lossy().into_owned();
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.filter_map(Result::ok) {
                let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                    continue;
                };
                let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline);
                if cmdline.contains("containerd-shim") && cmdline.contains(&marker) {
                    // SAFETY: kill(2) on a shim this test's containerd started.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let mut targets: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|t| t.starts_with(&marker))
            .collect();
        targets.sort_by_key(|t| std::cmp::Reverse(t.len()));
        for target in targets {
            let _ = Command::new("umount").arg("-l").arg(target).status();
        }
        for controller in std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            let root = controller
                .path()
                .join(self.cgroup_root.trim_start_matches('/'));
            remove_cgroup_tree(&root);
        }
        // containerd 1.6 and libcni also create these outside the configured roots.
        // Only empty ones are removed, since another runtime may be using them.
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
        if Path::new("/var/run/netns").join(&self.netns).exists() {
            let _ = Command::new("ip")
                .args(["netns", "delete", &self.netns])
                .status();
        }
    }
}

fn remove_cgroup_tree(dir: &Path) {
    if !dir.is_dir() {
        return;
    }
    for entry in std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        if entry.path().is_dir() {
            remove_cgroup_tree(&entry.path());
        }
    }
    let _ = std::fs::remove_dir(dir);
}

impl Drop for Containerd {
    fn drop(&mut self) {
        self.cleanup();
    }
}

struct Apiserver {
    server: Option<RunningServer>,
    host: String,
    cert_file: PathBuf,
}

impl Apiserver {
    async fn start(dir: &Path) -> Apiserver {
        let data_dir = format!("--data-dir={}", dir.join("data").display());
        let cert_dir = format!("--cert-dir={}", dir.join("certs").display());
        let options = Options::try_parse_from([
            "kube-apiserver",
            "--bind-address=127.0.0.1",
            "--secure-port=0",
            data_dir.as_str(),
            cert_dir.as_str(),
        ])
        .expect("parse flags");
        let server = apiserver::start(options)
            .await
            .expect("start kube-apiserver");
        let this = Apiserver {
            host: format!("https://127.0.0.1:{}", server.address.port()),
            cert_file: server.certificate.cert_file.clone(),
            server: Some(server),
        };
        // The apiserver creates the system namespaces, "default" among them, after
        // start returns. /readyz fails until they exist.
        let client = this.client();
        eventually_ok("kube-apiserver /readyz", Duration::from_secs(30), || {
            let request = client.get("/readyz");
            async move {
                let response = request.send().await.map_err(|e| e.to_string())?;
                if response.status.is_success() {
                    Ok(())
                } else {
                    Err(format!(
                        "{}: {}",
                        response.status,
                        String::from_utf8_lossy(&response.body)
                    ))
                }
            }
        })
        .await;
        this
    }

    fn client(&self) -> RestClient {
        RestClient::new(&RestConfig {
            host: self.host.clone(),
            tls: TlsConfig {
                ca_file: Some(self.cert_file.clone()),
                ..TlsConfig::default()
            },
            auth: AuthConfig {
                token: Some("test-token".to_string()),
                ..AuthConfig::default()
            },
            qps: 200.0,
            burst: 200,
            timeout: Some(Duration::from_secs(20)),
            user_agent: String::new(),
        })
        .expect("client")
    }

    fn write_kubeconfig(&self, path: &Path) {
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: u\n  user:\n    token: test-token\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n",
            self.host,
            self.cert_file.display()
        );
        std::fs::write(path, text).unwrap();
    }
}

/// Polls `check` every 250 ms until it returns `Some` or `timeout` passes.
async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_ok(what, timeout, || {
        let attempt = check();
        async move { attempt.await.ok_or_else(|| "condition not met".to_string()) }
    })
    .await
}

/// Polls `check` every 250 ms until it returns `Ok` or `timeout` passes. The
/// timeout panic shows the last error, the elapsed time and the attempt count.
async fn eventually_ok<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let error = match check().await {
            Ok(value) => return value,
            Err(error) => error,
        };
        assert!(
            start.elapsed() < timeout,
            "timed out waiting for {what} after {:?} and {attempts} attempts; last error: {error}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// GETs `path` from the kubelet's HTTPS server with curl and returns the body.
///
/// The child runs through tokio::process because the kubelet and the apiserver
/// run on this test's runtime. Tokio (1.54) can run a task that its I/O and timer
/// driver woke on the worker that polled the driver, without waking another
/// worker. Were that task blocked in a synchronous child, nothing would poll the
/// driver: the kubelet would never accept curl's connection, and curl would give
/// up only after its 300 s default connect timeout.
async fn kubelet_get(port: u16, path: &str) -> Result<String, String> {
    let url = format!("https://127.0.0.1:{port}{path}");
    let output = tokio::process::Command::new("curl")
        .args(["--silent", "--show-error", "--insecure", "--fail-with-body"])
        .args(["--max-time", "10"])
        .arg(&url)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("failed to run curl: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "curl {url}: {}: {} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            String::from_utf8_lossy(&output.stdout).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

async fn get(client: &RestClient, path: &str) -> Option<Value> {
    kubelet::api::get::<Value>(client, path)
        .await
        .ok()
        .flatten()
}

fn pod(name: &str, command: &str, restart_policy: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "nodeName": NODE,
            "restartPolicy": restart_policy,
            "terminationGracePeriodSeconds": 2,
            "containers": [{
                "name": "c",
                "image": IMAGE,
                "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", command],
                "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            }],
        }
    })
}

fn condition(pod: &Value, type_: &str) -> Option<String> {
    pod["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .and_then(|c| c["status"].as_str())
        .map(str::to_string)
}

fn kubelet_config(
    dir: &Path,
    containerd: &Containerd,
    kubeconfig: PathBuf,
) -> KubeletConfiguration {
    KubeletConfiguration {
        root_dir: dir.join("kubelet"),
        pod_logs_dir: dir.join("pod-logs"),
        kubeconfig: Some(kubeconfig),
        hostname_override: Some(NODE.to_string()),
        node_ip: Some("10.244.77.1".parse().unwrap()),
        container_runtime_endpoint: containerd.endpoint(),
        cgroup_root: containerd.cgroup_root.clone(),
        static_pod_path: Some(dir.join("manifests")),
        file_check_frequency: Duration::from_secs(1),
        sync_frequency: Duration::from_secs(10),
        address: "127.0.0.1".parse().unwrap(),
        port: 0,
        healthz_port: 0,
        node_labels: BTreeMap::from([("kubelet-it".to_string(), "yes".to_string())]),
        // The build machines' disks can be nearly full; only a memory threshold
        // keeps this test's pods from being evicted for disk pressure.
        eviction_hard: BTreeMap::from([("memory.available".to_string(), "1Mi".to_string())]),
        ..KubeletConfiguration::default()
    }
}

/// Serves one static pod manifest over HTTP on loopback and returns its URL.
async fn serve_manifest() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/manifest.yaml", listener.local_addr().unwrap());
    let manifest = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: url-pod\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: c\n    image: {IMAGE}\n    imagePullPolicy: IfNotPresent\n    command: [\"sleep\", \"3600\"]\n"
    );
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut request = [0u8; 2048];
            let _ = conn.read(&mut request).await;
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/yaml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{manifest}",
                manifest.len()
            );
            let _ = conn.write_all(response.as_bytes()).await;
        }
    });
    url
}

async fn scenario(
    dir: PathBuf,
    client: RestClient,
    config: KubeletConfiguration,
    runtime_endpoint: String,
) {
    std::fs::create_dir_all(dir.join("manifests")).unwrap();
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let running = kubelet::kubelet::start(config.clone(), cancel_rx)
        .await
        .expect("start kubelet");
    let port = running.server_address.expect("server address").port();

    // Registration, node status and lease.
    let node = eventually("node Ready", Duration::from_secs(60), || async {
        get(&client, &format!("/api/v1/nodes/{NODE}"))
            .await
            .filter(|n| {
                n["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
            })
    })
    .await;
    assert_eq!(node["metadata"]["labels"]["kubernetes.io/hostname"], NODE);
    assert_eq!(node["metadata"]["labels"]["kubelet-it"], "yes");
    assert_eq!(node["status"]["capacity"]["pods"], "110");
    assert!(node["status"]["capacity"]["cpu"].as_str().is_some());
    assert!(node["status"]["allocatable"]["memory"].as_str().is_some());
    assert!(
        node["status"]["nodeInfo"]["containerRuntimeVersion"]
            .as_str()
            .unwrap_or_default()
            .starts_with("containerd://")
    );
    let lease = eventually("node lease", Duration::from_secs(20), || async {
        get(
            &client,
            &format!("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{NODE}"),
        )
        .await
    })
    .await;
    assert_eq!(lease["spec"]["holderIdentity"], NODE);

    // A deleted Node object is registered again.
    let first_uid = node["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    kubelet::api::delete(&client, &format!("/api/v1/nodes/{NODE}"), &json!({}))
        .await
        .expect("delete node");
    let again = eventually("node registered again", Duration::from_secs(30), || async {
        get(&client, &format!("/api/v1/nodes/{NODE}"))
            .await
            .filter(|n| n["metadata"]["uid"].as_str() != Some(first_uid.as_str()))
    })
    .await;
    assert_eq!(again["metadata"]["labels"]["kubernetes.io/os"], "linux");

    // A pod bound to the node, with a ConfigMap volume and env, an emptyDir, the
    // downward API and an exec readiness probe, runs and becomes Ready with an IP.
    let _: Value = kubelet::api::create(
        &client,
        "/api/v1/namespaces/default/configmaps",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-config"}, "data": {"greeting": "from-volume", "value": "from-env"}}),
    )
    .await
    .expect("create configmap");
    let mut web = pod(
        "web",
        "echo hello-from-$POD_NAME $CM_VALUE $(cat /cfg/greeting) $(cat /info/labels); touch /scratch/ready; exec sleep 3600",
        "Always",
    );
    web["metadata"]["labels"] = json!({"app": "web"});
    let container = &mut web["spec"]["containers"][0];
    container["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "CM_VALUE", "valueFrom": {"configMapKeyRef": {"name": "web-config", "key": "value"}}}));
    container["volumeMounts"] = json!([
        {"name": "cfg", "mountPath": "/cfg"},
        {"name": "scratch", "mountPath": "/scratch"},
        {"name": "info", "mountPath": "/info"},
    ]);
    container["readinessProbe"] =
        json!({"exec": {"command": ["cat", "/scratch/ready"]}, "periodSeconds": 1});
    web["spec"]["volumes"] = json!([
        {"name": "cfg", "configMap": {"name": "web-config"}},
        {"name": "scratch", "emptyDir": {}},
        {"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
    ]);
    let _: Value = kubelet::api::create(&client, "/api/v1/namespaces/default/pods", &web)
        .await
        .expect("create pod web");
    let web = eventually(
        "pod web Running and Ready",
        Duration::from_secs(90),
        || async {
            get(&client, "/api/v1/namespaces/default/pods/web")
                .await
                .filter(|p| {
                    p["status"]["phase"] == "Running"
                        && condition(p, "Ready").as_deref() == Some("True")
                })
        },
    )
    .await;
    let pod_ip = web["status"]["podIP"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(pod_ip.starts_with("10.244.77."), "podIP {pod_ip}");
    let container_id = web["status"]["containerStatuses"][0]["containerID"]
        .as_str()
        .unwrap_or_default();
    assert!(container_id.starts_with("containerd://"), "{container_id}");
    assert_eq!(web["status"]["containerStatuses"][0]["ready"], true);
    assert_eq!(web["status"]["hostIP"], "10.244.77.1");
    let started = eventually("Started event for web", Duration::from_secs(20), || async {
        let events = get(&client, "/api/v1/namespaces/default/events").await?;
        events["items"]
            .as_array()?
            .iter()
            .find(|e| e["involvedObject"]["name"] == "web" && e["reason"] == "Started")
            .cloned()
    })
    .await;
    assert_eq!(started["source"]["component"], "kubelet");
    assert_eq!(started["involvedObject"]["fieldPath"], "spec.containers{c}");

    // Container logs through the kubelet's HTTPS server.
    let logs = eventually_ok("container logs", Duration::from_secs(20), || async {
        let text = kubelet_get(port, "/containerLogs/default/web/c?tailLines=5").await?;
        if text.contains("hello-from-web") {
            Ok(text)
        } else {
            Err(format!("log without hello-from-web: {text:?}"))
        }
    })
    .await;
    assert_eq!(
        logs.trim(),
        "hello-from-web from-env from-volume app=\"web\""
    );

    // The pod's seccompProfile reaches the runtime: RuntimeDefault filters system
    // calls (mode 2 in /proc/self/status), a container's Unconfined overrides it.
    let mut filtered = pod(
        "seccomp",
        "grep Seccomp: /proc/self/status; exec sleep 3600",
        "Always",
    );
    filtered["spec"]["securityContext"] = json!({"seccompProfile": {"type": "RuntimeDefault"}});
    let mut unconfined = filtered["spec"]["containers"][0].clone();
    unconfined["name"] = json!("open");
    unconfined["securityContext"] = json!({"seccompProfile": {"type": "Unconfined"}});
    filtered["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(unconfined);
    let _: Value = kubelet::api::create(&client, "/api/v1/namespaces/default/pods", &filtered)
        .await
        .expect("create pod seccomp");
    for (container, mode) in [("c", "2"), ("open", "0")] {
        let line = eventually_ok(
            "seccomp mode in the log",
            Duration::from_secs(60),
            || async {
                let path = format!("/containerLogs/default/seccomp/{container}");
                let text = kubelet_get(port, &path).await?;
                if text.contains("Seccomp:") {
                    Ok(text)
                } else {
                    Err(format!("no Seccomp line yet: {text:?}"))
                }
            },
        )
        .await;
        assert_eq!(
            line.split_whitespace().collect::<Vec<_>>(),
            ["Seccomp:", mode],
            "container {container}"
        );
    }
    kubelet::api::delete(
        &client,
        "/api/v1/namespaces/default/pods/seccomp",
        &json!({"gracePeriodSeconds": 0}),
    )
    .await
    .expect("delete pod seccomp");

    // An ephemeral container added through the subresource runs once in the PID
    // namespace of its target, reports its status and keeps its logs.
    let _: Value = kubelet::api::merge_patch(
        &client,
        "/api/v1/namespaces/default/pods/web/ephemeralcontainers",
        &json!({"spec": {"ephemeralContainers": [{
            "name": "debugger",
            "image": IMAGE,
            "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", "echo ephemeral-ok; ps -o args"],
            "targetContainerName": "c",
        }]}}),
    )
    .await
    .expect("add ephemeral container debugger");
    let debugged = eventually(
        "ephemeral container debugger terminated",
        Duration::from_secs(60),
        || async {
            get(&client, "/api/v1/namespaces/default/pods/web")
                .await
                .filter(|p| {
                    p["status"]["ephemeralContainerStatuses"][0]["state"]["terminated"].is_object()
                })
        },
    )
    .await;
    let debugger = &debugged["status"]["ephemeralContainerStatuses"][0];
    assert_eq!(debugger["name"], "debugger");
    assert_eq!(debugger["state"]["terminated"]["exitCode"], 0);
    assert_eq!(debugger["restartCount"], 0);
    assert_eq!(debugger["ready"], false);
    let debugger_id = debugger["containerID"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(debugger_id.starts_with("containerd://"), "{debugger_id}");
    assert_eq!(debugged["status"]["phase"], "Running");
    let debugger_logs = kubelet_get(port, "/containerLogs/default/web/debugger")
        .await
        .expect("logs of debugger");
    assert!(debugger_logs.contains("ephemeral-ok"), "{debugger_logs}");
    assert!(
        debugger_logs.contains("sleep 3600"),
        "the target's process is not visible: {debugger_logs}"
    );

    // The summary API reports the pod's memory from the runtime's stats.
    let summary = eventually_ok("stats summary for web", Duration::from_secs(20), || async {
        let text = kubelet_get(port, "/stats/summary").await?;
        let summary: Value =
            serde_json::from_str(&text).map_err(|e| format!("invalid summary: {e}: {text}"))?;
        summary["pods"]
            .as_array()
            .and_then(|pods| pods.iter().find(|p| p["podRef"]["name"] == "web"))
            .cloned()
            .ok_or_else(|| format!("no pod web in the summary: {summary}"))
    })
    .await;
    assert!(
        summary["memory"]["workingSetBytes"].as_u64().unwrap_or(0) > 0,
        "{summary}"
    );
    let metrics = kubelet_get(port, "/metrics/resource")
        .await
        .expect("GET /metrics/resource");
    assert!(
        metrics.contains(
            "container_memory_working_set_bytes{container=\"c\",namespace=\"default\",pod=\"web\"}"
        ),
        "{metrics}"
    );

    // A changed ConfigMap reaches the files of a running container on a later
    // sync, through the volume's `..data` symlink swap.
    let mut watcher = pod(
        "cfg-watch",
        "while true; do echo \"greeting=$(cat /cfg/greeting)\"; sleep 1; done",
        "Always",
    );
    watcher["spec"]["containers"][0]["volumeMounts"] =
        json!([{"name": "cfg", "mountPath": "/cfg"}]);
    watcher["spec"]["volumes"] = json!([{"name": "cfg", "configMap": {"name": "web-config"}}]);
    let _: Value = kubelet::api::create(&client, "/api/v1/namespaces/default/pods", &watcher)
        .await
        .expect("create pod cfg-watch");
    let watcher_logs =
        || async { kubelet_get(port, "/containerLogs/default/cfg-watch/c?tailLines=3").await };
    eventually_ok(
        "cfg-watch reads the ConfigMap",
        Duration::from_secs(90),
        || async {
            let text = watcher_logs().await?;
            if text.contains("greeting=from-volume") {
                Ok(())
            } else {
                Err(format!("log without greeting=from-volume: {text:?}"))
            }
        },
    )
    .await;
    let mut config_map = get(&client, "/api/v1/namespaces/default/configmaps/web-config")
        .await
        .expect("configmap web-config");
    config_map["data"]["greeting"] = json!("updated");
    let _: Value = kubelet::api::replace(
        &client,
        "/api/v1/namespaces/default/configmaps/web-config",
        &config_map,
    )
    .await
    .expect("update configmap");
    eventually_ok(
        "cfg-watch sees the update",
        Duration::from_secs(60),
        || async {
            let text = watcher_logs().await?;
            if text.contains("greeting=updated") {
                Ok(())
            } else {
                Err(format!("log without greeting=updated: {text:?}"))
            }
        },
    )
    .await;

    // On the host, the volume's files are symlinks into `..data`, and the
    // kube-api-access volume holds a token from TokenRequest.
    let watcher = get(&client, "/api/v1/namespaces/default/pods/cfg-watch")
        .await
        .expect("pod cfg-watch");
    let volumes = dir
        .join("kubelet/pods")
        .join(watcher["metadata"]["uid"].as_str().unwrap_or_default())
        .join("volumes");
    let cfg = volumes.join("kubernetes.io~configmap/cfg");
    assert_eq!(
        std::fs::read_link(cfg.join("greeting")).expect("greeting symlink"),
        Path::new("..data/greeting")
    );
    assert!(std::fs::read_link(cfg.join("..data")).is_ok());
    let access = std::fs::read_dir(volumes.join("kubernetes.io~projected"))
        .expect("projected volumes")
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("kube-api-access-"))
        .expect("kube-api-access volume");
    let token = std::fs::read_to_string(access.join("token")).expect("token file");
    assert_eq!(token.split('.').count(), 3, "token is not a JWT: {token:?}");

    // fsGroup owns the pod's emptyDir and configMap volumes: a container running as
    // another user writes to the emptyDir, and new files take the group.
    let mut grouped = pod(
        "fs-group",
        "stat -c '%g %a' /scratch; touch /scratch/f && stat -c '%g' /scratch/f; stat -L -c '%g %a' /cfg/greeting; exec sleep 3600",
        "Always",
    );
    grouped["spec"]["securityContext"] = json!({"runAsUser": 1000, "fsGroup": 2000});
    grouped["spec"]["volumes"] = json!([
        {"name": "scratch", "emptyDir": {}},
        {"name": "cfg", "configMap": {"name": "web-config", "defaultMode": 0o400}},
    ]);
    grouped["spec"]["containers"][0]["volumeMounts"] = json!([
        {"name": "scratch", "mountPath": "/scratch"},
        {"name": "cfg", "mountPath": "/cfg"},
    ]);
    let _: Value = kubelet::api::create(&client, "/api/v1/namespaces/default/pods", &grouped)
        .await
        .expect("create pod fs-group");
    let printed = eventually_ok("fs-group log", Duration::from_secs(60), || async {
        let text = kubelet_get(port, "/containerLogs/default/fs-group/c").await?;
        if text.lines().count() >= 3 {
            Ok(text)
        } else {
            Err(format!("fewer than three lines: {text:?}"))
        }
    })
    .await;
    assert_eq!(
        printed.lines().collect::<Vec<_>>(),
        ["2000 2777", "2000", "2000 440"]
    );
    kubelet::api::delete(
        &client,
        "/api/v1/namespaces/default/pods/fs-group",
        &json!({"gracePeriodSeconds": 0}),
    )
    .await
    .expect("delete pod fs-group");

    // runAsNonRoot with an image that runs as root is rejected before the container
    // is created, and a runAsUser that is not root satisfies it.
    let mut non_root = pod("non-root", "exec sleep 3600", "Always");
    non_root["spec"]["securityContext"] = json!({"runAsNonRoot": true});
    let mut as_user = non_root["spec"]["containers"][0].clone();
    as_user["name"] = json!("as-user");
    as_user["securityContext"] = json!({"runAsUser": 1000});
    non_root["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(as_user);
    let _: Value = kubelet::api::create(&client, "/api/v1/namespaces/default/pods", &non_root)
        .await
        .expect("create pod non-root");
    let rejected = eventually("runAsNonRoot rejected", Duration::from_secs(60), || async {
        get(&client, "/api/v1/namespaces/default/pods/non-root")
            .await
            .filter(|p| {
                let statuses = p["status"]["containerStatuses"].as_array();
                let state = |name: &str| {
                    statuses
                        .and_then(|all| all.iter().find(|s| s["name"] == name))
                        .map(|s| s["state"].clone())
                        .unwrap_or_default()
                };
                state("c")["waiting"]["reason"] == "CreateContainerConfigError"
                    && state("as-user").get("running").is_some()
            })
    })
    .await;
    let waiting = rejected["status"]["containerStatuses"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == "c"))
        .map(|s| s["state"]["waiting"]["message"].clone())
        .unwrap_or_default();
    assert!(
        waiting
            .as_str()
            .unwrap_or_default()
            .starts_with("container has runAsNonRoot and image will run as root"),
        "{waiting}"
    );
    kubelet::api::delete(
        &client,
        "/api/v1/namespaces/default/pods/non-root",
        &json!({"gracePeriodSeconds": 0}),
    )
    .await
    .expect("delete pod non-root");

    // A crashing container backs off with a growing restart count.
    let _: Value = kubelet::api::create(
        &client,
        "/api/v1/namespaces/default/pods",
        &pod("crash", "echo crashing; exit 3", "Always"),
    )
    .await
    .expect("create pod crash");
    let crash = eventually("CrashLoopBackOff", Duration::from_secs(90), || async {
        get(&client, "/api/v1/namespaces/default/pods/crash")
            .await
            .filter(|p| {
                let s = &p["status"]["containerStatuses"][0];
                s["state"]["waiting"]["reason"] == "CrashLoopBackOff"
                    && s["restartCount"].as_i64().unwrap_or(0) >= 1
            })
    })
    .await;
    let status = &crash["status"]["containerStatuses"][0];
    assert_eq!(status["lastState"]["terminated"]["exitCode"], 3);
    assert_eq!(crash["status"]["phase"], "Running");
    assert_eq!(condition(&crash, "Ready").as_deref(), Some("False"));

    // A container failing its liveness probe is restarted.
    let mut live = pod("live", "exec sleep 3600", "Always");
    live["spec"]["containers"][0]["livenessProbe"] = json!({
        "exec": {"command": ["cat", "/tmp/alive"]},
        "periodSeconds": 1,
        "failureThreshold": 2,
    });
    let _: Value = kubelet::api::create(&client, "/api/v1/namespaces/default/pods", &live)
        .await
        .expect("create pod live");
    let restarted = eventually("liveness restart", Duration::from_secs(60), || async {
        get(&client, "/api/v1/namespaces/default/pods/live")
            .await
            .filter(|p| {
                p["status"]["containerStatuses"][0]["restartCount"]
                    .as_i64()
                    .unwrap_or(0)
                    >= 1
            })
    })
    .await;
    assert!(restarted["status"]["containerStatuses"][0]["lastState"]["terminated"].is_object());

    // A static pod gets a mirror pod that reports its status.
    std::fs::write(
        dir.join("manifests/static.yaml"),
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: static\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: c\n    image: {IMAGE}\n    imagePullPolicy: IfNotPresent\n    command: [\"sleep\", \"3600\"]\n"),
    )
    .unwrap();
    let mirror = eventually("mirror pod Running", Duration::from_secs(60), || async {
        get(
            &client,
            &format!("/api/v1/namespaces/default/pods/static-{NODE}"),
        )
        .await
        .filter(|p| p["status"]["phase"] == "Running")
    })
    .await;
    assert!(
        mirror["metadata"]["annotations"]["kubernetes.io/config.mirror"]
            .as_str()
            .is_some()
    );

    // A static pod from the manifest URL gets its mirror too.
    eventually(
        "URL mirror pod Running",
        Duration::from_secs(60),
        || async {
            get(
                &client,
                &format!("/api/v1/namespaces/default/pods/url-pod-{NODE}"),
            )
            .await
            .filter(|p| p["status"]["phase"] == "Running")
        },
    )
    .await;

    // Removing the manifest stops the static pod and removes its mirror.
    std::fs::remove_file(dir.join("manifests/static.yaml")).unwrap();
    eventually("mirror pod gone", Duration::from_secs(60), || async {
        get(
            &client,
            &format!("/api/v1/namespaces/default/pods/static-{NODE}"),
        )
        .await
        .is_none()
        .then_some(())
    })
    .await;

    // A restarted kubelet adopts the running pod instead of replacing it.
    let _ = cancel_tx.send(true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let _running = kubelet::kubelet::start(config, cancel_rx)
        .await
        .expect("restart kubelet");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let web_now = get(&client, "/api/v1/namespaces/default/pods/web")
        .await
        .expect("pod web");
    assert_eq!(
        web_now["status"]["containerStatuses"][0]["containerID"],
        web["status"]["containerStatuses"][0]["containerID"]
    );
    assert_eq!(web_now["status"]["containerStatuses"][0]["restartCount"], 0);
    // The exited ephemeral container was not started again by any sync since.
    assert_eq!(
        web_now["status"]["ephemeralContainerStatuses"][0]["containerID"],
        debugger_id.as_str()
    );

    // Deleting a pod stops its containers and the object disappears.
    let uid = web["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    kubelet::api::delete(&client, "/api/v1/namespaces/default/pods/web", &json!({}))
        .await
        .expect("delete pod web");
    eventually("pod web gone", Duration::from_secs(60), || async {
        get(&client, "/api/v1/namespaces/default/pods/web")
            .await
            .is_none()
            .then_some(())
    })
    .await;
    let runtime = kubelet::remote::connect(&runtime_endpoint, Duration::from_secs(10)).unwrap();
    let mut rt = runtime.runtime;
    let left = eventually("containers of web removed", Duration::from_secs(30), || {
        let mut rt = rt.clone();
        let uid = uid.clone();
        async move {
            let list = rt
                .list_containers(pb::ListContainersRequest {
                    filter: Some(pb::ContainerFilter {
                        label_selector: [("io.kubernetes.pod.uid".to_string(), uid)].into(),
                        ..Default::default()
                    }),
                })
                .await
                .ok()?
                .into_inner()
                .containers;
            list.is_empty().then_some(list.len())
        }
    })
    .await;
    assert_eq!(left, 0);
    let sandboxes = rt
        .list_pod_sandbox(pb::ListPodSandboxRequest { filter: None })
        .await
        .unwrap()
        .into_inner()
        .items;
    assert!(
        sandboxes
            .iter()
            .all(|s| s.labels.get("io.kubernetes.pod.uid") != Some(&uid))
    );

    let _ = cancel_tx.send(true);
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn node_runs_pods_on_containerd() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "kubelet=info".into()),
        )
        .with_test_writer()
        .try_init();
    let tmp = tempfile::Builder::new()
        .prefix("kubelet-it")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let dir = tmp.path().to_path_buf();
    let mut containerd = Containerd::start(&dir);
    let mut apiserver = Apiserver::start(&dir).await;
    let kubeconfig = dir.join("kubeconfig");
    apiserver.write_kubeconfig(&kubeconfig);
    let client = apiserver.client();
    // The controller manager publishes these in a cluster; pods mount both through
    // the kube-api-access volume the ServiceAccount admission plugin adds.
    let _: Value = kubelet::api::create(
        &client,
        "/api/v1/namespaces/default/serviceaccounts",
        &json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}),
    )
    .await
    .expect("create the default service account");
    let _: Value = kubelet::api::create(
        &client,
        "/api/v1/namespaces/default/configmaps",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt"},
                "data": {"ca.crt": "test CA"}}),
    )
    .await
    .expect("create the root CA config map");
    let mut config = kubelet_config(&dir, &containerd, kubeconfig);
    config.static_pod_url = Some(serve_manifest().await);
    config.http_check_frequency = Duration::from_secs(1);

    let outcome = tokio::spawn(scenario(dir.clone(), client, config, containerd.endpoint())).await;

    containerd.remove_sandboxes().await;
    containerd.cleanup();
    if let Some(server) = apiserver.server.take() {
        server.shutdown().await;
    }
    let _ = kubelet::volumes::teardown(&dir.join("kubelet"), "");
    if let Err(error) = outcome {
        if let Ok(log) = std::fs::read_to_string(dir.join("containerd.log")) {
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!(
                "containerd log tail:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        std::panic::resume_unwind(error.into_panic());
    }
}
