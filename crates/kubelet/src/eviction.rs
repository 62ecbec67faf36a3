//! The eviction manager's observations and thresholds: `memory.available` from
//! /proc/meminfo and `nodefs.available`/`nodefs.inodesFree` from the root
//! directory's filesystem, compared with `evictionHard`.
//!
//! [`Observer::pressure`] feeds the node's MemoryPressure, DiskPressure and
//! PIDPressure conditions. Under memory or disk pressure [`run`] evicts one pod per
//! 10 s, chosen by [`rank_for_eviction`].
//! NOTE: only `evictionHard` is applied (no soft thresholds or grace periods), and
//! disk pressure evicts pods without first reclaiming images or dead containers.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// An eviction threshold: a quantity or a percentage of capacity.
#[derive(Clone, Debug, PartialEq)]
pub enum Threshold {
    Quantity(f64),
    Percentage(f64),
}

impl Threshold {
    fn crossed(&self, available: f64, capacity: f64) -> bool {
        match self {
            Threshold::Quantity(q) => available < *q,
            Threshold::Percentage(p) => available < capacity * p / 100.0,
        }
    }
}

/// Parses one `evictionHard` entry.
///
/// # Errors
///
/// A message naming an unknown signal or a malformed value.
pub fn parse_threshold(signal: &str, value: &str) -> Result<Threshold, String> {
    const SIGNALS: [&str; 7] = [
        "memory.available",
        "nodefs.available",
        "nodefs.inodesFree",
        "imagefs.available",
        "imagefs.inodesFree",
        "pid.available",
        "allocatableMemory.available",
    ];
    if !SIGNALS.contains(&signal) {
        return Err(format!("unknown eviction signal {signal:?}"));
    }
    if let Some(percent) = value.strip_suffix('%') {
        let p: f64 = percent
            .parse()
            .map_err(|_| format!("invalid eviction threshold {signal}={value}"))?;
        if !(0.0..=100.0).contains(&p) {
            return Err(format!(
                "eviction threshold {signal}={value} is out of range"
            ));
        }
        return Ok(Threshold::Percentage(p));
    }
    crate::quantity::parse(value)
        .map(Threshold::Quantity)
        .map_err(|e| format!("invalid eviction threshold {signal}={value}: {e}"))
}

/// The pressure conditions of the node at one observation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pressure {
    pub memory: bool,
    pub disk: bool,
    pub pid: bool,
}

/// Reads the node's signals and compares them with the thresholds.
pub struct Observer {
    thresholds: BTreeMap<String, Threshold>,
    root_dir: PathBuf,
}

impl Observer {
    /// Builds an observer from validated `evictionHard` entries; malformed ones are
    /// skipped (validation rejects them earlier).
    pub fn new(eviction_hard: &BTreeMap<String, String>, root_dir: PathBuf) -> Self {
        let thresholds = eviction_hard
            .iter()
            .filter_map(|(k, v)| parse_threshold(k, v).ok().map(|t| (k.clone(), t)))
            .collect();
        Self {
            thresholds,
            root_dir,
        }
    }

    /// Returns the memory threshold in bytes, subtracted from capacity for
    /// allocatable.
    pub fn memory_reserve(&self, capacity: f64) -> f64 {
        match self.thresholds.get("memory.available") {
            Some(Threshold::Quantity(q)) => *q,
            Some(Threshold::Percentage(p)) => capacity * p / 100.0,
            None => 0.0,
        }
    }

    /// Observes every signal now. A signal that cannot be read is not under pressure.
    pub fn pressure(&self) -> Pressure {
        let mut pressure = Pressure::default();
        if let Some(t) = self.thresholds.get("memory.available")
            && let Some((total, available)) = meminfo()
        {
            pressure.memory = t.crossed(available, total);
        }
        if let Some(fs) = crate::node::statvfs(&self.root_dir) {
            if let Some(t) = self.thresholds.get("nodefs.available") {
                pressure.disk |= t.crossed(fs.available_bytes, fs.capacity_bytes);
            }
            if let Some(t) = self.thresholds.get("nodefs.inodesFree") {
                pressure.disk |= t.crossed(fs.inodes_free, fs.inodes);
            }
        }
        if let Some(t) = self.thresholds.get("pid.available")
            && let Some((max, used)) = pids()
        {
            pressure.pid = t.crossed(max - used, max);
        }
        pressure
    }
}

/// (MemTotal, MemAvailable) in bytes.
pub fn meminfo() -> Option<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024.0)
    };
    Some((field("MemTotal:")?, field("MemAvailable:")?))
}

fn pids() -> Option<(f64, f64)> {
    let max: f64 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let used = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .count() as f64;
    Some((max, used))
}

/// Orders pods for eviction, first to evict first: BestEffort before Burstable
/// before Guaranteed, then lower priority, then higher memory working set. Static,
/// mirror, system-critical (priority 2000000000 and up), terminating and finished
/// pods are left out.
pub fn rank_for_eviction(
    pods: &[std::sync::Arc<k8s_openapi::api::core::v1::Pod>],
    memory: &std::collections::HashMap<String, u64>,
    phases: &std::collections::HashMap<String, String>,
) -> Vec<std::sync::Arc<k8s_openapi::api::core::v1::Pod>> {
    let mut candidates: Vec<_> = pods
        .iter()
        .filter(|p| !crate::sources::is_static(p) && !crate::sources::is_mirror(p))
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| p.spec.as_ref().and_then(|s| s.priority).unwrap_or(0) < 2_000_000_000)
        .filter(|p| {
            phases
                .get(crate::kuberuntime::pod_uid(p))
                .is_none_or(|phase| phase != "Succeeded" && phase != "Failed")
        })
        .cloned()
        .collect();
    candidates.sort_by_key(|p| {
        let qos = match crate::kuberuntime::sandbox::qos_class(p) {
            "BestEffort" => 0,
            "Burstable" => 1,
            _ => 2,
        };
        let priority = p.spec.as_ref().and_then(|s| s.priority).unwrap_or(0);
        let usage = memory
            .get(crate::kuberuntime::pod_uid(p))
            .copied()
            .unwrap_or(0);
        (qos, priority, std::cmp::Reverse(usage))
    });
    candidates
}

/// Checks the thresholds every 10 s and evicts the first ranked pod while the node
/// is under memory or disk pressure, until cancelled.
pub async fn run(
    kubelet: std::sync::Arc<crate::kubelet::Kubelet>,
    observer: Observer,
    mut cancel: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(10)) => {}
            _ = crate::cancelled(&mut cancel) => return,
        }
        let pressure = observer.pressure();
        let resource = match (pressure.memory, pressure.disk) {
            (true, _) => "memory",
            (false, true) => "ephemeral-storage",
            _ => continue,
        };
        let pods = kubelet
            .pod_manager
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pods();
        let mut memory = std::collections::HashMap::new();
        if let Ok(snapshot) = crate::stats::collect(
            &kubelet.runtime,
            &kubelet.node_name,
            &kubelet.config.root_dir,
        )
        .await
        {
            for ((_, _, uid), containers) in snapshot.pods {
                let total = containers
                    .iter()
                    .filter_map(|c| c.memory_working_set_bytes)
                    .sum();
                memory.insert(uid, total);
            }
        }
        let phases = pods
            .iter()
            .filter_map(|p| {
                let uid = crate::kuberuntime::pod_uid(p).to_string();
                kubelet
                    .status
                    .cached_status(&uid)
                    .and_then(|s| s.phase)
                    .map(|phase| (uid, phase))
            })
            .collect();
        match rank_for_eviction(&pods, &memory, &phases).first() {
            Some(pod) => kubelet.evict(pod, &format!("The node was low on resource: {resource}. ")),
            None => tracing::warn!(resource, "node under pressure but no pod can be evicted"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        assert_eq!(
            parse_threshold("memory.available", "100Mi").unwrap(),
            Threshold::Quantity(104857600.0)
        );
        assert_eq!(
            parse_threshold("nodefs.available", "10%").unwrap(),
            Threshold::Percentage(10.0)
        );
        assert!(parse_threshold("cpu.available", "1").is_err());
        assert!(parse_threshold("nodefs.available", "120%").is_err());
        let t = Threshold::Percentage(10.0);
        assert!(t.crossed(5.0, 100.0));
        assert!(!t.crossed(50.0, 100.0));
    }

    #[test]
    fn eviction_order() {
        use std::collections::HashMap;
        use std::sync::Arc;

        use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, ResourceRequirements};
        use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

        let pod = |uid: &str, requests: Option<&str>, priority: i32| {
            let resources = requests.map(|cpu| ResourceRequirements {
                requests: Some([("cpu".to_string(), Quantity(cpu.to_string()))].into()),
                ..Default::default()
            });
            Arc::new(Pod {
                metadata: ObjectMeta {
                    uid: Some(uid.into()),
                    ..Default::default()
                },
                spec: Some(PodSpec {
                    priority: Some(priority),
                    containers: vec![Container {
                        name: "c".into(),
                        resources,
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                ..Default::default()
            })
        };
        let pods = vec![
            pod("burstable", Some("100m"), 0),
            pod("critical", None, 2_000_000_000),
            pod("besteffort-small", None, 0),
            pod("besteffort-big", None, 0),
            pod("done", None, 0),
        ];
        let memory = HashMap::from([
            ("besteffort-big".to_string(), 500),
            ("besteffort-small".to_string(), 10),
        ]);
        let phases = HashMap::from([("done".to_string(), "Failed".to_string())]);
        let order: Vec<String> = rank_for_eviction(&pods, &memory, &phases)
            .iter()
            .map(|p| p.metadata.uid.clone().unwrap_or_default())
            .collect();
        assert_eq!(
            order,
            vec!["besteffort-big", "besteffort-small", "burstable"]
        );
    }
}
