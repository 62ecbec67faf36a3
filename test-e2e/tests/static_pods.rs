//! The control plane as kubeadm-style static pods: one node whose kubelet runs
//! etcd, kube-apiserver, kube-controller-manager and kube-scheduler from the filled
//! `manifests/` templates, on our runtime, from images of our own binaries and of
//! Debian's etcd. The API server stores objects in that one etcd member over TLS, as
//! in a kubeadm cluster.
//!
//! The test builds the control plane images from the workspace's debug binaries
//! (hack/registry.sh push-control-plane, or start when the registry is not running),
//! boots the cluster, checks the mirror pods in kube-system, deletes one and waits for
//! the kubelet to create it again. It prints the boot-to-ready times. It needs root,
//! and without root or without the binaries it is skipped with a message.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;
use test_e2e::cluster::{Cluster, ClusterSpec, ControlPlaneMode};

/// The port of the host-side registry that hack/registry.sh fills; the cluster serves
/// the same storage to its nodes itself.
const PUSH_REGISTRY_PORT: &str = "5043";

const COMPONENTS: [&str; 3] = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
];

/// The workspace's binaries: this test runs from `<target>/debug/deps/`.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current executable");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .to_path_buf()
}

fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn registry_sh(root: &Path, bin_dir: &Path, command: &str) -> bool {
    Command::new(root.join("hack/registry.sh"))
        .arg(command)
        .env("BIN_DIR", bin_dir)
        .env("REGISTRY_PORT", PUSH_REGISTRY_PORT)
        .status()
        .is_ok_and(|status| status.success())
}

/// Builds the control plane images from `bin_dir` and pushes them into the registry
/// storage. A registry this test started is stopped again; the cluster serves the
/// storage on its own.
fn push_images(root: &Path, bin_dir: &Path) {
    let running = registry_sh(root, bin_dir, "status");
    let command = if running {
        "push-control-plane"
    } else {
        "start"
    };
    assert!(
        registry_sh(root, bin_dir, command),
        "hack/registry.sh {command} failed"
    );
    if !running {
        registry_sh(root, bin_dir, "stop");
    }
}

fn kubectl_json(cluster: &Cluster, args: &[&str]) -> Result<Value, String> {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    let output = cluster.kubectl(&args)?;
    serde_json::from_str(&output).map_err(|error| format!("{error}: {output}"))
}

fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|condition| condition["type"] == "Ready" && condition["status"] == "True")
        })
}

/// Polls `check` every second until it succeeds or `timeout` passes, then panics
/// with `what` and the last observation.
fn wait<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Result<T, String>) -> T {
    let started = Instant::now();
    loop {
        match check() {
            Ok(value) => return value,
            Err(observed) if started.elapsed() > timeout => {
                panic!("timed out after {timeout:?} waiting for {what}; last observed: {observed}")
            }
            Err(_) => sleep(Duration::from_secs(1)),
        }
    }
}

/// Returns the mirror pod `name` once it is Running and Ready.
fn running_mirror(cluster: &Cluster, name: &str) -> Result<Value, String> {
    let pod = kubectl_json(cluster, &["get", "pod", "-n", "kube-system", name])?;
    let mirror = pod["metadata"]["annotations"]["kubernetes.io/config.mirror"].is_string();
    let phase = pod["status"]["phase"].as_str().unwrap_or("?");
    if mirror && phase == "Running" && is_ready(&pod) {
        Ok(pod)
    } else {
        Err(format!(
            "{name}: mirror={mirror} phase={phase} ready={}",
            is_ready(&pod)
        ))
    }
}

#[test]
fn control_plane_as_static_pods() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping the static pod test: it needs root for namespaces, cgroups and mounts");
        return;
    }
    let bin_dir = bin_dir();
    let missing: Vec<&str> = COMPONENTS
        .iter()
        .chain(&["kubelet", "container-runtime"])
        .copied()
        .filter(|name| !bin_dir.join(name).exists())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "skipping the static pod test: {} missing in {}; run cargo build --workspace",
            missing.join(", "),
            bin_dir.display()
        );
        return;
    }
    let root = repository_root();
    let pushing = Instant::now();
    push_images(&root, &bin_dir);
    println!(
        "control plane images built and pushed in {:.1}s",
        pushing.elapsed().as_secs_f64()
    );

    let dir = std::env::temp_dir().join(format!("static-pods-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the cluster directory");
    // Declared before the cluster, so it is dropped after the cluster's teardown.
    let _remove_dir = RemoveDir(dir.clone());
    let mut spec = ClusterSpec::new("sp", &dir, &bin_dir, 1);
    spec.bridge_octet = 243;
    spec.pod_octet = 247;
    spec.control_plane = ControlPlaneMode::StaticPods;
    spec.node_components.proxy = false;
    spec.registry_storage = Some(root.join("_output/registry/storage"));
    spec.etcd = true;
    let node = spec.node_name(1);
    let etcd_data = spec.etcd_dir().join(&node);

    let booting = Instant::now();
    let cluster =
        Cluster::up(spec).unwrap_or_else(|error| panic!("the cluster did not start: {error}"));
    let node_ready = booting.elapsed();

    let mirrors: Vec<String> = COMPONENTS
        .iter()
        .chain(&["etcd"])
        .map(|component| format!("{component}-{node}"))
        .collect();
    for name in &mirrors {
        let pod = wait(
            &format!("mirror pod {name} Running"),
            Duration::from_secs(180),
            || running_mirror(&cluster, name),
        );
        assert_eq!(pod["spec"]["nodeName"], node.as_str());
        assert_eq!(pod["spec"]["hostNetwork"], true);
        assert_eq!(pod["spec"]["priorityClassName"], "system-node-critical");
    }
    let all_running = booting.elapsed();
    assert!(
        etcd_data.join("member").is_dir(),
        "the etcd static pod keeps its data in {}",
        etcd_data.display()
    );
    let listing = cluster
        .kubectl(&["get", "pods", "-n", "kube-system", "-o", "wide"])
        .expect("kubectl get pods");
    println!("{listing}");
    println!(
        "boot to node Ready: {:.1}s; to all control plane mirror pods Running: {:.1}s",
        node_ready.as_secs_f64(),
        all_running.as_secs_f64()
    );

    let scheduler = &mirrors[2];
    let old = running_mirror(&cluster, scheduler).expect("scheduler mirror");
    let old_uid = old["metadata"]["uid"].as_str().expect("uid").to_string();
    cluster
        .kubectl(&[
            "delete",
            "pod",
            "-n",
            "kube-system",
            scheduler,
            "--wait=false",
        ])
        .expect("delete the mirror pod");
    let deleted = Instant::now();
    let new = wait(
        &format!("mirror pod {scheduler} recreated"),
        Duration::from_secs(60),
        || {
            let pod = running_mirror(&cluster, scheduler)?;
            if pod["metadata"]["uid"] == old_uid.as_str() {
                Err(format!("{scheduler} still has the old UID"))
            } else {
                Ok(pod)
            }
        },
    );
    println!(
        "mirror pod {scheduler} recreated in {:.1}s (UID {old_uid} -> {})",
        deleted.elapsed().as_secs_f64(),
        new["metadata"]["uid"]
    );
    // The static pod itself kept running: its container did not restart.
    assert_eq!(
        new["status"]["containerStatuses"][0]["restartCount"],
        old["status"]["containerStatuses"][0]["restartCount"],
        "deleting the mirror pod must not restart the static pod"
    );
}

/// Removes the cluster directory when the test ends, also when it fails. The static
/// pod cluster keeps its etcd data, images and logs there, about 380 MiB a run.
struct RemoveDir(std::path::PathBuf);

impl Drop for RemoveDir {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.0) {
            eprintln!("failed to remove {}: {error}", self.0.display());
        }
    }
}
