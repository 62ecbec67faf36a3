//! A one-node cluster whose API server stores objects in a three-member etcd cluster
//! (the launcher's etcd mode), and what the loss of one member does to it.
//!
//! The test creates a Deployment with kubectl and waits for its pods. It finds the
//! etcd leader with etcdctl and stops it by PID, then shows that the API still takes
//! writes and that the controllers still act on them. It starts the member again and
//! waits until the member holds the write made without it. Last, it checks that
//! teardown from the state file, as `make stop` runs it, stopped every etcd process
//! and removed their data. It prints the boot
//! time and the time to the first write after the leader stopped. It needs root, and
//! without root it is skipped with a message.

use std::path::PathBuf;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;
use test_e2e::cluster::{Cluster, ClusterSpec, HOST_ETCD_MEMBERS, teardown};
use test_e2e::process::is_running;

/// Returns the directory of the workspace's binaries; this test runs from
/// `<target>/debug/deps/`.
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

/// Runs etcdctl (v3 API) against `endpoints` with the cluster's health check client
/// certificate and returns its standard output, or its standard error as the error.
fn etcdctl(cluster: &Cluster, endpoints: &[String], args: &[&str]) -> Result<String, String> {
    let pki = &cluster.pki.as_ref().expect("certificates").etcd;
    let output = Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={}", endpoints.join(",")))
        .arg(format!("--cacert={}", pki.ca.cert.display()))
        .arg(format!("--cert={}", pki.healthcheck_client.cert.display()))
        .arg(format!("--key={}", pki.healthcheck_client.key.display()))
        .args(["--dial-timeout=2s", "--command-timeout=5s"])
        .args(args)
        .output()
        .map_err(|error| format!("failed to run etcdctl: {error}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Returns the index (from 1) of the member that reports itself as the leader.
fn leader_index(cluster: &Cluster) -> Result<usize, String> {
    let endpoints = cluster.spec.etcd_servers();
    let output = etcdctl(cluster, &endpoints, &["endpoint", "status", "-w", "json"])?;
    let statuses: Vec<Value> =
        serde_json::from_str(&output).map_err(|error| format!("{error}: {output}"))?;
    let leader = statuses.iter().find(|status| {
        let status = &status["Status"];
        status["leader"].as_u64().is_some() && status["leader"] == status["header"]["member_id"]
    });
    let endpoint = leader
        .and_then(|status| status["Endpoint"].as_str())
        .ok_or_else(|| format!("no member reports itself as leader: {output}"))?;
    endpoints
        .iter()
        .position(|url| url == endpoint)
        .map(|position| position + 1)
        .ok_or_else(|| format!("the leader {endpoint} is not one of {endpoints:?}"))
}

/// Returns the names of the Running pods with label `app=<app>`, or a summary of
/// what is there when fewer than `expected` run.
fn running_pods(cluster: &Cluster, app: &str, expected: usize) -> Result<Vec<String>, String> {
    let output = cluster.kubectl(&["get", "pods", "-l", &format!("app={app}"), "-o", "json"])?;
    let list: Value = serde_json::from_str(&output).map_err(|error| error.to_string())?;
    let pods = list["items"].as_array().cloned().unwrap_or_default();
    let running: Vec<String> = pods
        .iter()
        .filter(|pod| {
            pod["status"]["phase"] == "Running" && pod["metadata"]["deletionTimestamp"].is_null()
        })
        .filter_map(|pod| pod["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    if running.len() == expected {
        Ok(running)
    } else {
        let phases: Vec<String> = pods
            .iter()
            .map(|pod| format!("{}={}", pod["metadata"]["name"], pod["status"]["phase"]))
            .collect();
        Err(format!(
            "{} of {expected} Running: {}",
            running.len(),
            phases.join(", ")
        ))
    }
}

#[test]
fn cluster_on_etcd_survives_member_loss() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "skipping the etcd cluster test: it needs root for namespaces, cgroups and mounts"
        );
        return;
    }
    let registry = repository_root().join("_output/registry/storage");
    assert!(
        registry.is_dir(),
        "{} is missing: run hack/images/build.sh and hack/registry.sh start (make test does)",
        registry.display()
    );
    let dir = std::env::temp_dir().join(format!("etcd-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the cluster directory");
    let mut spec = ClusterSpec::new("etcd", &dir, &bin_dir(), 1);
    spec.bridge_octet = 242;
    spec.pod_octet = 246;
    spec.apiserver_port = 6445;
    spec.registry_storage = Some(registry);
    spec.etcd = true;
    let etcd_dir = spec.etcd_dir();

    let booting = Instant::now();
    let mut cluster =
        Cluster::up(spec).unwrap_or_else(|error| panic!("the cluster did not start: {error}"));
    println!(
        "etcd-mode cluster: boot to node Ready in {:.1}s",
        booting.elapsed().as_secs_f64()
    );

    cluster
        .kubectl(&[
            "create",
            "deployment",
            "web",
            "--image=nginx:1.14.2",
            "--replicas=2",
        ])
        .expect("create the deployment");
    wait("2 web pods Running", Duration::from_secs(180), || {
        running_pods(&cluster, "web", 2)
    });
    let keys = etcdctl(
        &cluster,
        &cluster.spec.etcd_servers(),
        &["get", "/registry/deployments/default/web", "--keys-only"],
    )
    .expect("etcdctl get");
    assert_eq!(
        keys.trim(),
        "/registry/deployments/default/web",
        "the deployment is stored in etcd"
    );

    let leader = wait("an etcd leader", Duration::from_secs(30), || {
        leader_index(&cluster)
    });
    let member = format!("etcd-{leader}");
    let record = cluster
        .daemons()
        .iter()
        .find(|daemon| daemon.name == member)
        .expect("the leader's daemon")
        .record();
    assert!(cluster.stop_daemon(&member), "stop {member}");
    assert!(
        !is_running(&record),
        "{member} (PID {}) is still running",
        record.pid
    );
    let stopped = Instant::now();

    wait(
        "a write after the leader stopped",
        Duration::from_secs(60),
        || {
            cluster.kubectl(&[
                "create",
                "configmap",
                "written-without-leader",
                "--from-literal=member=stopped",
            ])
        },
    );
    println!(
        "first write {:.1}s after stopping the leader {member}",
        stopped.elapsed().as_secs_f64()
    );
    wait("the scale to 3 replicas", Duration::from_secs(60), || {
        cluster.kubectl(&["scale", "deployment", "web", "--replicas=3"])
    });
    wait(
        "3 web pods Running with one member down",
        Duration::from_secs(120),
        || running_pods(&cluster, "web", 3),
    );

    cluster
        .restart_daemon(&member)
        .unwrap_or_else(|error| panic!("restart {member}: {error}"));
    cluster
        .wait_etcd_healthy(Duration::from_secs(60))
        .unwrap_or_else(|error| panic!("etcd after restarting {member}: {error}"));
    let member_url = cluster.spec.etcd_servers()[leader - 1].clone();
    // A serializable read returns the member's own copy, so this shows it caught up.
    wait(
        "the restarted member to hold the write made without it",
        Duration::from_secs(30),
        || {
            let keys = etcdctl(
                &cluster,
                std::slice::from_ref(&member_url),
                &[
                    "get",
                    "/registry/configmaps/default/written-without-leader",
                    "--keys-only",
                    "--consistency=s",
                ],
            )?;
            if keys.trim().is_empty() {
                Err(format!("{member} has no such key yet"))
            } else {
                Ok(())
            }
        },
    );

    let records: Vec<_> = cluster
        .daemons()
        .iter()
        .filter(|daemon| daemon.name.starts_with("etcd-"))
        .map(|daemon| daemon.record())
        .collect();
    assert_eq!(records.len(), HOST_ETCD_MEMBERS);
    assert!(etcd_dir.is_dir());
    // `make stop` tears down from the state file alone, so this test does the same
    // before the cluster's own teardown runs on drop.
    teardown(&dir.join("cluster.json"));
    for record in records {
        assert!(
            !is_running(&record),
            "{} (PID {}) survived teardown",
            record.name,
            record.pid
        );
    }
    assert!(
        !etcd_dir.exists(),
        "teardown removes the etcd data in {}",
        etcd_dir.display()
    );
    drop(cluster);
    let _ = std::fs::remove_dir_all(&dir);
}
