//! Resource usage for `/stats/summary` and `/metrics/resource`: per-container CPU
//! and memory from CRI ListContainerStats, node figures from /proc and statvfs.
//!
//! [`collect`] reads the runtime once; [`summary`] and [`resource_metrics`] render
//! the two formats from the same [`Snapshot`].

use std::collections::BTreeMap;
use std::fmt::Write;

use cri::v1 as pb;
use serde_json::{Value, json};

use crate::kuberuntime::labels;
use crate::remote::{RemoteError, RemoteRuntime, call_error};

/// Usage of one container at one time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerUsage {
    pub name: String,
    /// Unix nanoseconds of the CPU sample.
    pub timestamp: i64,
    pub cpu_core_nanoseconds: Option<u64>,
    pub cpu_nano_cores: Option<u64>,
    pub memory_working_set_bytes: Option<u64>,
}

/// Usage of one pod's containers, keyed by (namespace, name, uid).
pub type PodUsage = BTreeMap<(String, String, String), Vec<ContainerUsage>>;

/// One reading of the node and its pods.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub node_name: String,
    pub pods: PodUsage,
    /// Node CPU time in seconds, from /proc/stat.
    pub node_cpu_seconds: Option<f64>,
    /// (MemTotal, MemAvailable) in bytes.
    pub node_memory: Option<(f64, f64)>,
    pub node_fs: Option<crate::node::FsStats>,
}

/// Reads the container stats from the runtime and the node figures from the host.
///
/// # Errors
///
/// [`RemoteError`] when ListContainerStats fails.
pub async fn collect(
    runtime: &RemoteRuntime,
    node_name: &str,
    root_dir: &std::path::Path,
) -> Result<Snapshot, RemoteError> {
    let stats = runtime
        .runtime
        .clone()
        .list_container_stats(pb::ListContainerStatsRequest { filter: None })
        .await
        .map_err(call_error("ListContainerStats"))?
        .into_inner()
        .stats;
    let mut pods = PodUsage::new();
    for s in stats {
        let Some(attributes) = &s.attributes else {
            continue;
        };
        let label = |key: &str| attributes.labels.get(key).cloned().unwrap_or_default();
        let uid = label(labels::POD_UID);
        if uid.is_empty() {
            continue;
        }
        let cpu = s.cpu.unwrap_or_default();
        pods.entry((label(labels::POD_NAMESPACE), label(labels::POD_NAME), uid))
            .or_default()
            .push(ContainerUsage {
                name: label(labels::CONTAINER_NAME),
                timestamp: cpu.timestamp,
                cpu_core_nanoseconds: cpu.usage_core_nano_seconds.map(|v| v.value),
                cpu_nano_cores: cpu.usage_nano_cores.map(|v| v.value),
                memory_working_set_bytes: s
                    .memory
                    .and_then(|m| m.working_set_bytes)
                    .map(|v| v.value),
            });
    }
    Ok(Snapshot {
        node_name: node_name.to_string(),
        pods,
        node_cpu_seconds: node_cpu_seconds(),
        node_memory: crate::eviction::meminfo(),
        node_fs: crate::node::statvfs(root_dir),
    })
}

/// Busy CPU time of the node (all but idle and iowait), assuming USER_HZ = 100.
fn node_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: f64 = fields.iter().take(8).sum();
    let idle = fields.get(3).copied().unwrap_or(0.0) + fields.get(4).copied().unwrap_or(0.0);
    Some((total - idle) / 100.0)
}

fn sum(values: impl Iterator<Item = Option<u64>>) -> Option<u64> {
    values.fold(None, |acc, v| match (acc, v) {
        (None, v) => v,
        (Some(a), Some(v)) => Some(a + v),
        (a, None) => a,
    })
}

/// Renders the summary API (`stats/v1alpha1` Summary).
pub fn summary(snapshot: &Snapshot) -> Value {
    let now = crate::now().to_string();
    let pods: Vec<Value> = snapshot
        .pods
        .iter()
        .map(|((namespace, name, uid), containers)| {
            let container_values: Vec<Value> = containers
                .iter()
                .map(|c| {
                    json!({
                        "name": c.name,
                        "cpu": {"time": now, "usageNanoCores": c.cpu_nano_cores, "usageCoreNanoSeconds": c.cpu_core_nanoseconds},
                        "memory": {"time": now, "workingSetBytes": c.memory_working_set_bytes},
                    })
                })
                .collect();
            json!({
                "podRef": {"name": name, "namespace": namespace, "uid": uid},
                "containers": container_values,
                "cpu": {
                    "time": now,
                    "usageNanoCores": sum(containers.iter().map(|c| c.cpu_nano_cores)),
                    "usageCoreNanoSeconds": sum(containers.iter().map(|c| c.cpu_core_nanoseconds)),
                },
                "memory": {"time": now, "workingSetBytes": sum(containers.iter().map(|c| c.memory_working_set_bytes))},
            })
        })
        .collect();
    json!({
        "node": {
            "nodeName": snapshot.node_name,
            "cpu": snapshot.node_cpu_seconds.map(|s| json!({"time": now, "usageCoreNanoSeconds": (s * 1e9) as u64})),
            "memory": snapshot.node_memory.map(|(total, available)| json!({
                "time": now,
                "availableBytes": available as u64,
                "workingSetBytes": (total - available) as u64,
            })),
            "fs": snapshot.node_fs.map(|f| json!({
                "time": now,
                "capacityBytes": f.capacity_bytes as u64,
                "availableBytes": f.available_bytes as u64,
                "usedBytes": (f.capacity_bytes - f.available_bytes) as u64,
                "inodes": f.inodes as u64,
                "inodesFree": f.inodes_free as u64,
            })),
        },
        "pods": pods,
    })
}

/// Renders `/metrics/resource` in the Prometheus text format, as metrics-server
/// reads it.
pub fn resource_metrics(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let ms = crate::now().as_millisecond();
    let _ = writeln!(
        out,
        "# HELP node_cpu_usage_seconds_total Cumulative cpu time consumed by the node in core-seconds\n# TYPE node_cpu_usage_seconds_total counter"
    );
    if let Some(s) = snapshot.node_cpu_seconds {
        let _ = writeln!(out, "node_cpu_usage_seconds_total {s} {ms}");
    }
    let _ = writeln!(
        out,
        "# HELP node_memory_working_set_bytes Current working set of the node in bytes\n# TYPE node_memory_working_set_bytes gauge"
    );
    if let Some((total, available)) = snapshot.node_memory {
        let _ = writeln!(
            out,
            "node_memory_working_set_bytes {} {ms}",
            total - available
        );
    }
    let _ = writeln!(
        out,
        "# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed by the container in core-seconds\n# TYPE container_cpu_usage_seconds_total counter"
    );
    for ((namespace, pod, _), containers) in &snapshot.pods {
        for c in containers {
            if let Some(ns) = c.cpu_core_nanoseconds {
                let _ = writeln!(
                    out,
                    "container_cpu_usage_seconds_total{{container=\"{}\",namespace=\"{namespace}\",pod=\"{pod}\"}} {} {ms}",
                    c.name,
                    ns as f64 / 1e9
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "# HELP container_memory_working_set_bytes Current working set of the container in bytes\n# TYPE container_memory_working_set_bytes gauge"
    );
    for ((namespace, pod, _), containers) in &snapshot.pods {
        for c in containers {
            if let Some(bytes) = c.memory_working_set_bytes {
                let _ = writeln!(
                    out,
                    "container_memory_working_set_bytes{{container=\"{}\",namespace=\"{namespace}\",pod=\"{pod}\"}} {bytes} {ms}",
                    c.name
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "# HELP scrape_error 1 if there was an error while getting container metrics, 0 otherwise\n# TYPE scrape_error gauge\nscrape_error 0"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_totals_and_prometheus_lines() {
        let mut snapshot = Snapshot {
            node_name: "n1".into(),
            ..Default::default()
        };
        snapshot.pods.insert(
            ("default".into(), "web".into(), "u1".into()),
            vec![
                ContainerUsage {
                    name: "a".into(),
                    cpu_core_nanoseconds: Some(2_000_000_000),
                    memory_working_set_bytes: Some(100),
                    ..Default::default()
                },
                ContainerUsage {
                    name: "b".into(),
                    cpu_core_nanoseconds: Some(1_000_000_000),
                    memory_working_set_bytes: None,
                    ..Default::default()
                },
            ],
        );
        let summary = summary(&snapshot);
        assert_eq!(summary["node"]["nodeName"], "n1");
        assert_eq!(summary["pods"][0]["podRef"]["name"], "web");
        assert_eq!(
            summary["pods"][0]["cpu"]["usageCoreNanoSeconds"],
            3_000_000_000u64
        );
        assert_eq!(summary["pods"][0]["memory"]["workingSetBytes"], 100);
        let metrics = resource_metrics(&snapshot);
        assert!(metrics.contains("container_cpu_usage_seconds_total{container=\"a\",namespace=\"default\",pod=\"web\"} 2 "));
        assert!(metrics.contains("container_memory_working_set_bytes{container=\"a\",namespace=\"default\",pod=\"web\"} 100 "));
        assert!(metrics.contains("scrape_error 0"));
    }
}
