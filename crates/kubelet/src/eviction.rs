//! The eviction manager's observations and thresholds: `memory.available` from
//! /proc/meminfo and `nodefs.available`/`nodefs.inodesFree` from the root
//! directory's filesystem, compared with `evictionHard` and `evictionSoft`.
//!
//! [`Observer::pressure`] feeds the node's MemoryPressure, DiskPressure and
//! PIDPressure conditions. Under memory or disk pressure [`run`] evicts one pod per
//! 10 s, chosen by [`rank_for_eviction`].
//! A soft threshold (`evictionSoft`) evicts only after it stayed crossed for its
//! `evictionSoftGracePeriod`, and its victim stops gracefully.
//! NOTE: disk pressure evicts pods without first reclaiming images or dead
//! containers, and conditions do not wait `evictionPressureTransitionPeriod`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

impl Pressure {
    /// Returns the node condition types that are under pressure, in the order the
    /// node reports them.
    pub fn conditions(&self) -> Vec<&'static str> {
        let mut conditions = Vec::new();
        if self.memory {
            conditions.push("MemoryPressure");
        }
        if self.disk {
            conditions.push("DiskPressure");
        }
        if self.pid {
            conditions.push("PIDPressure");
        }
        conditions
    }
}

/// Runs the eviction manager's admit handler. Under memory pressure alone it
/// rejects BestEffort pods, unless they tolerate the
/// `node.kubernetes.io/memory-pressure` taint. Under any other pressure it rejects
/// every pod. Critical pods (static, mirror, or priority 2000000000 and up) are
/// always admitted.
pub fn admit(
    pod: &k8s_openapi::api::core::v1::Pod,
    pressure: Pressure,
) -> Result<(), crate::admission::Rejection> {
    let conditions = pressure.conditions();
    if conditions.is_empty() || is_critical(pod) {
        return Ok(());
    }
    if conditions == ["MemoryPressure"] {
        if crate::kuberuntime::sandbox::qos_class(pod) != "BestEffort" {
            return Ok(());
        }
        let taint = k8s_openapi::api::core::v1::Taint {
            key: "node.kubernetes.io/memory-pressure".to_string(),
            effect: "NoSchedule".to_string(),
            ..Default::default()
        };
        let tolerations = pod.spec.as_ref().and_then(|s| s.tolerations.as_deref());
        if tolerations
            .unwrap_or_default()
            .iter()
            .any(|t| crate::admission::tolerates(t, &taint))
        {
            return Ok(());
        }
    }
    Err(crate::admission::Rejection {
        reason: "Evicted".to_string(),
        message: format!("The node had condition: [{}]. ", conditions.join(" ")),
    })
}

fn is_critical(pod: &k8s_openapi::api::core::v1::Pod) -> bool {
    crate::sources::is_static(pod)
        || crate::sources::is_mirror(pod)
        || pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0) >= 2_000_000_000
}

/// One observed signal: its name as in `evictionHard`, the amount available and
/// the capacity, in the same unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Signal {
    pub name: &'static str,
    pub available: f64,
    pub capacity: f64,
}

/// The result of one observation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Observation {
    /// Conditions from every threshold crossed now, hard or soft, grace periods
    /// not yet counted.
    pub pressure: Pressure,
    /// The resource to reclaim, when a hard threshold is crossed or a soft one has
    /// stayed crossed for its grace period.
    pub reclaim: Option<Reclaim>,
}

/// A resource to reclaim by evicting a pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reclaim {
    /// `memory` or `ephemeral-storage`.
    pub resource: &'static str,
    /// True when only soft thresholds demand it: the evicted pod then gets its
    /// termination grace period, capped by `evictionMaxPodGracePeriod`.
    pub soft: bool,
}

/// Reads the node's signals and compares them with the hard and soft thresholds.
pub struct Observer {
    thresholds: BTreeMap<String, Threshold>,
    /// Soft thresholds with their grace periods.
    soft: BTreeMap<String, (Threshold, Duration)>,
    /// When each soft threshold was first seen crossed without a break since.
    soft_since: Mutex<BTreeMap<String, Instant>>,
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
            soft: BTreeMap::new(),
            soft_since: Mutex::default(),
            root_dir,
        }
    }

    /// Builds an observer from the configuration's `evictionHard`, `evictionSoft`
    /// and `evictionSoftGracePeriod`. A soft threshold without a valid grace period
    /// is skipped (validation rejects it earlier).
    pub fn from_config(config: &crate::config::KubeletConfiguration) -> Self {
        let mut observer = Self::new(&config.eviction_hard, config.root_dir.clone());
        observer.soft = config
            .eviction_soft
            .iter()
            .filter_map(|(signal, value)| {
                let threshold = parse_threshold(signal, value).ok()?;
                let grace = config.eviction_soft_grace_period.get(signal)?;
                let grace = crate::config::duration_string::parse(grace).ok()?;
                Some((signal.clone(), (threshold, grace)))
            })
            .collect();
        observer
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

    /// Reads every signal now. A signal that cannot be read is left out.
    pub fn signals(&self) -> Vec<Signal> {
        let mut signals = Vec::new();
        if let Some((total, available)) = meminfo() {
            signals.push(Signal {
                name: "memory.available",
                available,
                capacity: total,
            });
        }
        if let Some(fs) = crate::node::statvfs(&self.root_dir) {
            signals.push(Signal {
                name: "nodefs.available",
                available: fs.available_bytes,
                capacity: fs.capacity_bytes,
            });
            signals.push(Signal {
                name: "nodefs.inodesFree",
                available: fs.inodes_free,
                capacity: fs.inodes,
            });
        }
        if let Some((max, used)) = pids() {
            signals.push(Signal {
                name: "pid.available",
                available: max - used,
                capacity: max,
            });
        }
        signals
    }

    /// Observes every signal now; see [`Observer::evaluate`].
    pub fn pressure(&self) -> Pressure {
        self.evaluate(&self.signals(), Instant::now()).pressure
    }

    /// Compares `signals` with the thresholds at `now`, and remembers since when
    /// each soft threshold is crossed. Memory is reclaimed before disk.
    pub fn evaluate(&self, signals: &[Signal], now: Instant) -> Observation {
        let mut observation = Observation::default();
        let mut hard_reclaim: Option<&'static str> = None;
        let mut soft_reclaim: Option<&'static str> = None;
        let mut since = self.soft_since.lock().unwrap_or_else(|e| e.into_inner());
        for signal in signals {
            let hard = self
                .thresholds
                .get(signal.name)
                .is_some_and(|t| t.crossed(signal.available, signal.capacity));
            let mut soft = false;
            let mut soft_due = false;
            match self.soft.get(signal.name) {
                Some((t, grace)) if t.crossed(signal.available, signal.capacity) => {
                    soft = true;
                    let first = *since.entry(signal.name.to_string()).or_insert(now);
                    soft_due = now.duration_since(first) >= *grace;
                }
                _ => {
                    since.remove(signal.name);
                }
            }
            if !(hard || soft) {
                continue;
            }
            let resource = match signal.name {
                "memory.available" => {
                    observation.pressure.memory = true;
                    Some("memory")
                }
                "nodefs.available" | "nodefs.inodesFree" => {
                    observation.pressure.disk = true;
                    Some("ephemeral-storage")
                }
                "pid.available" => {
                    observation.pressure.pid = true;
                    None
                }
                _ => None,
            };
            let choose = |current: Option<&'static str>, candidate: &'static str| match current {
                Some("memory") => Some("memory"),
                _ => Some(candidate),
            };
            if let Some(resource) = resource {
                if hard {
                    hard_reclaim = choose(hard_reclaim, resource);
                } else if soft_due {
                    soft_reclaim = choose(soft_reclaim, resource);
                }
            }
        }
        observation.reclaim = match (hard_reclaim, soft_reclaim) {
            (Some(resource), _) => Some(Reclaim {
                resource,
                soft: false,
            }),
            (None, Some(resource)) => Some(Reclaim {
                resource,
                soft: true,
            }),
            (None, None) => None,
        };
        observation
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

/// Returns the grace period in seconds for an evicted pod: none for a hard
/// threshold, and for a soft one the pod's `terminationGracePeriodSeconds`
/// (default 30) capped by `evictionMaxPodGracePeriod` when that is positive.
pub fn eviction_grace_period(
    pod: &k8s_openapi::api::core::v1::Pod,
    soft: bool,
    max_pod_grace_period: i32,
) -> i64 {
    if !soft {
        return 0;
    }
    let own = pod
        .spec
        .as_ref()
        .and_then(|s| s.termination_grace_period_seconds)
        .unwrap_or(30);
    if max_pod_grace_period > 0 {
        own.min(i64::from(max_pod_grace_period))
    } else {
        own
    }
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
        let observation = observer.evaluate(&observer.signals(), Instant::now());
        let Some(Reclaim { resource, soft }) = observation.reclaim else {
            continue;
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
            Some(pod) => {
                let grace =
                    eviction_grace_period(pod, soft, kubelet.config.eviction_max_pod_grace_period);
                kubelet.evict(
                    pod,
                    &format!("The node was low on resource: {resource}. "),
                    grace,
                )
            }
            None => tracing::warn!(resource, "node under pressure but no pod can be evicted"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_threshold_waits_for_grace_period() {
        let config = crate::config::KubeletConfiguration {
            eviction_hard: [("memory.available".to_string(), "100Mi".to_string())].into(),
            eviction_soft: [
                ("memory.available".to_string(), "1Gi".to_string()),
                ("nodefs.available".to_string(), "20%".to_string()),
            ]
            .into(),
            eviction_soft_grace_period: [
                ("memory.available".to_string(), "1m30s".to_string()),
                ("nodefs.available".to_string(), "10s".to_string()),
            ]
            .into(),
            ..Default::default()
        };
        let observer = Observer::from_config(&config);
        let memory = |available: f64| Signal {
            name: "memory.available",
            available,
            capacity: 8e9,
        };
        let disk = |available: f64| Signal {
            name: "nodefs.available",
            available,
            capacity: 100.0,
        };
        let start = Instant::now();
        let at = |seconds: u64| start + Duration::from_secs(seconds);

        // Crossed but within the grace period: a condition, no eviction yet.
        let first = observer.evaluate(&[memory(5e8), disk(50.0)], at(0));
        assert!(first.pressure.memory);
        assert!(!first.pressure.disk);
        assert_eq!(first.reclaim, None);
        let later = observer.evaluate(&[memory(5e8), disk(50.0)], at(89));
        assert_eq!(later.reclaim, None);
        let due = observer.evaluate(&[memory(5e8), disk(50.0)], at(90));
        assert_eq!(
            due.reclaim,
            Some(Reclaim {
                resource: "memory",
                soft: true
            })
        );

        // Recovering restarts the grace period.
        let recovered = observer.evaluate(&[memory(2e9), disk(50.0)], at(91));
        assert_eq!(recovered.pressure, Pressure::default());
        assert_eq!(
            observer
                .evaluate(&[memory(5e8), disk(50.0)], at(100))
                .reclaim,
            None
        );

        // A hard threshold acts at once.
        let hard = observer.evaluate(&[memory(5e7), disk(50.0)], at(101));
        assert_eq!(
            hard.reclaim,
            Some(Reclaim {
                resource: "memory",
                soft: false
            })
        );

        let disk_due = observer.evaluate(&[memory(2e9), disk(10.0)], at(200));
        assert!(disk_due.pressure.disk);
        assert_eq!(disk_due.reclaim, None);
        let disk_due = observer.evaluate(&[memory(2e9), disk(10.0)], at(210));
        assert_eq!(
            disk_due.reclaim,
            Some(Reclaim {
                resource: "ephemeral-storage",
                soft: true
            })
        );
    }

    #[test]
    fn grace_period_for_evicted_pods() {
        use k8s_openapi::api::core::v1::{Pod, PodSpec};
        let pod = Pod {
            spec: Some(PodSpec {
                termination_grace_period_seconds: Some(60),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(eviction_grace_period(&pod, false, 20), 0);
        assert_eq!(eviction_grace_period(&pod, true, 20), 20);
        assert_eq!(eviction_grace_period(&pod, true, 0), 60);
        assert_eq!(eviction_grace_period(&Pod::default(), true, 90), 30);
    }

    #[test]
    fn admission_under_pressure() {
        use k8s_openapi::api::core::v1::{Pod, PodSpec, Toleration};
        let best_effort = Pod {
            spec: Some(PodSpec::default()),
            ..Default::default()
        };
        let mut burstable = best_effort.clone();
        burstable.spec.as_mut().unwrap().containers = vec![crate::resource::tests::container(
            "c",
            &[("memory", "1Mi")],
            &[],
        )];
        let memory = Pressure {
            memory: true,
            ..Default::default()
        };
        let rejection = admit(&best_effort, memory).unwrap_err();
        assert_eq!(rejection.reason, "Evicted");
        assert_eq!(
            rejection.message,
            "The node had condition: [MemoryPressure]. "
        );
        assert!(admit(&burstable, memory).is_ok());
        assert!(admit(&best_effort, Pressure::default()).is_ok());

        let mut tolerating = best_effort.clone();
        tolerating.spec.as_mut().unwrap().tolerations = Some(vec![Toleration {
            key: Some("node.kubernetes.io/memory-pressure".to_string()),
            operator: Some("Exists".to_string()),
            effect: Some("NoSchedule".to_string()),
            ..Default::default()
        }]);
        assert!(admit(&tolerating, memory).is_ok());

        let disk = Pressure {
            memory: true,
            disk: true,
            ..Default::default()
        };
        let rejection = admit(&burstable, disk).unwrap_err();
        assert_eq!(
            rejection.message,
            "The node had condition: [MemoryPressure DiskPressure]. "
        );
        let mut critical = burstable.clone();
        critical.spec.as_mut().unwrap().priority = Some(2_000_000_000);
        assert!(admit(&critical, disk).is_ok());
    }

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
