//! The container manager on the real cgroup file system (needs root): the QoS
//! tree, node allocatable on `kubepods`, a pod cgroup with its limits, a process
//! inside it, and removal. Everything lives under a cgroup root of this test's own,
//! removed at the end whether the test passes or not.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubelet::cm::{CgroupVersion, ContainerManager};
use kubelet::config::KubeletConfiguration;
use kubelet::resource::ResourceList;

const MOUNT: &str = "/sys/fs/cgroup";

/// Removes the test's cgroup root from every hierarchy, deepest first, on drop.
struct CgroupRoot {
    root: String,
}

impl Drop for CgroupRoot {
    fn drop(&mut self) {
        for hierarchy in std::fs::read_dir(MOUNT).into_iter().flatten().flatten() {
            remove_tree(&hierarchy.path().join(self.root.trim_start_matches('/')));
        }
    }
}

fn remove_tree(dir: &Path) {
    if !dir.is_dir() {
        return;
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().is_dir() {
            remove_tree(&entry.path());
        }
    }
    let _ = std::fs::remove_dir(dir);
}

fn pod(uid: &str, requests: &[(&str, &str)], limits: &[(&str, &str)]) -> Pod {
    let to_map = |items: &[(&str, &str)]| {
        Some(
            items
                .iter()
                .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                .collect(),
        )
    };
    Pod {
        metadata: ObjectMeta {
            name: Some(uid.to_string()),
            namespace: Some("default".to_string()),
            uid: Some(uid.to_string()),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "c".to_string(),
                resources: Some(ResourceRequirements {
                    requests: to_map(requests),
                    limits: to_map(limits),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_string()
}

#[test]
fn qos_tree_on_cgroupfs() {
    let root = format!("/kubelet-cm-{}", std::process::id());
    let _guard = CgroupRoot { root: root.clone() };
    let config = Arc::new(KubeletConfiguration {
        cgroup_root: root.clone(),
        system_reserved: [("memory".to_string(), "256Mi".to_string())].into(),
        kube_reserved: [("cpu".to_string(), "500m".to_string())].into(),
        ..Default::default()
    });
    let manager = ContainerManager::new(config, MOUNT.into());
    assert_eq!(
        manager.cgroups.version,
        CgroupVersion::V1,
        "this test covers the cgroup v1 layout"
    );
    let at = |hierarchy: &str, rest: &str| {
        Path::new(MOUNT)
            .join(hierarchy)
            .join(root.trim_start_matches('/'))
            .join(rest)
    };

    let capacity = ResourceList::from([("cpu".to_string(), 2000), ("memory".to_string(), 2 << 30)]);
    manager.start(&capacity).unwrap();
    assert_eq!(read(at("cpu", "kubepods/cpu.shares")), "1536");
    assert_eq!(
        read(at("memory", "kubepods/memory.limit_in_bytes")),
        ((2u64 << 30) - (256 << 20)).to_string()
    );
    assert_eq!(read(at("cpu", "kubepods/burstable/cpu.shares")), "2");
    assert_eq!(read(at("cpu", "kubepods/besteffort/cpu.shares")), "2");
    assert!(at("pids", "kubepods/besteffort").is_dir());
    // A new cpuset cgroup needs cpus and mems before anything can use it.
    assert!(!read(at("cpuset", "kubepods/besteffort/cpuset.cpus")).is_empty());

    let guaranteed = pod("g-1", &[], &[("cpu", "250m"), ("memory", "64Mi")]);
    let burstable = pod("b-1", &[("cpu", "300m")], &[("memory", "32Mi")]);
    let best_effort = pod("e-1", &[], &[]);
    for p in [&guaranteed, &burstable, &best_effort] {
        manager.ensure_pod(p).unwrap();
    }
    manager
        .update_qos_cgroups(&[&guaranteed, &burstable, &best_effort])
        .unwrap();

    assert_eq!(read(at("cpu", "kubepods/podg-1/cpu.shares")), "256");
    assert_eq!(read(at("cpu", "kubepods/podg-1/cpu.cfs_quota_us")), "25000");
    assert_eq!(
        read(at("cpu", "kubepods/podg-1/cpu.cfs_period_us")),
        "100000"
    );
    assert_eq!(
        read(at("memory", "kubepods/podg-1/memory.limit_in_bytes")),
        (64u64 << 20).to_string()
    );
    assert_eq!(
        read(at("cpu", "kubepods/burstable/podb-1/cpu.shares")),
        "307"
    );
    assert_eq!(
        read(at("cpu", "kubepods/burstable/podb-1/cpu.cfs_quota_us")),
        "-1"
    );
    assert_eq!(
        read(at(
            "memory",
            "kubepods/burstable/podb-1/memory.limit_in_bytes"
        )),
        (32u64 << 20).to_string()
    );
    assert_eq!(read(at("cpu", "kubepods/burstable/cpu.shares")), "307");
    assert_eq!(
        read(at("cpu", "kubepods/besteffort/pode-1/cpu.shares")),
        "2"
    );

    // A process in the pod's cgroup keeps it; removal succeeds once it is gone.
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let procs = at("memory", "kubepods/podg-1/cgroup.procs");
    std::fs::write(&procs, child.id().to_string()).unwrap();
    assert!(manager.remove_pod("g-1").is_err());
    child.kill().unwrap();
    child.wait().unwrap();
    manager.remove_pod("g-1").unwrap();
    for hierarchy in ["cpu", "memory", "pids", "cpuset"] {
        assert!(!at(hierarchy, "kubepods/podg-1").exists(), "{hierarchy}");
    }

    manager.remove_pod("b-1").unwrap();
    manager.remove_pod("e-1").unwrap();
    assert!(!at("cpu", "kubepods/burstable/podb-1").exists());
    assert!(!at("cpu", "kubepods/besteffort/pode-1").exists());
    assert!(at("cpu", "kubepods/burstable").is_dir());
}
