//! Resource usage read from cgroup v1 files (`cpuacct`, `memory`, `pids` hierarchies
//! under `/sys/fs/cgroup`).

use std::path::PathBuf;

/// Usage of one cgroup at one moment. Missing files leave fields `None`.
#[derive(Clone, Debug, Default)]
pub struct Usage {
    /// Nanoseconds since the Unix epoch when the files were read.
    pub timestamp: i64,
    /// Cumulative CPU time in nanoseconds (`cpuacct.usage`).
    pub cpu_nanos: Option<u64>,
    /// `memory.usage_in_bytes`.
    pub memory_usage: Option<u64>,
    /// Usage minus inactive file pages, as the kubelet's eviction manager counts it.
    pub working_set: Option<u64>,
    pub rss: Option<u64>,
    pub page_faults: Option<u64>,
    pub major_page_faults: Option<u64>,
    /// Limit minus working set, `None` without a limit.
    pub available: Option<u64>,
    pub process_count: Option<u64>,
}

/// The cgroup v1 mount point.
pub const ROOT: &str = "/sys/fs/cgroup";

fn file(controller: &str, cgroup: &str, name: &str) -> PathBuf {
    PathBuf::from(ROOT)
        .join(controller)
        .join(cgroup.trim_start_matches('/'))
        .join(name)
}

fn read_u64(controller: &str, cgroup: &str, name: &str) -> Option<u64> {
    std::fs::read_to_string(file(controller, cgroup, name))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Reads the usage of `cgroup` (a path relative to each hierarchy root).
pub fn usage(cgroup: &str) -> Usage {
    let mut usage = Usage {
        timestamp: crate::store::now_nanos(),
        cpu_nanos: read_u64("cpuacct", cgroup, "cpuacct.usage"),
        memory_usage: read_u64("memory", cgroup, "memory.usage_in_bytes"),
        ..Usage::default()
    };

    let stat = std::fs::read_to_string(file("memory", cgroup, "memory.stat")).unwrap_or_default();
    let field = |key: &str| {
        stat.lines()
            .filter_map(|line| line.split_once(' '))
            .find(|(name, _)| *name == key)
            .and_then(|(_, value)| value.trim().parse::<u64>().ok())
    };
    usage.rss = field("total_rss");
    usage.page_faults = field("total_pgfault");
    usage.major_page_faults = field("total_pgmajfault");
    if let Some(memory_usage) = usage.memory_usage {
        let inactive = field("total_inactive_file").unwrap_or(0);
        let working_set = memory_usage.saturating_sub(inactive);
        usage.working_set = Some(working_set);

        // The kernel reports "no limit" as a huge page-aligned number.
        let limit =
            read_u64("memory", cgroup, "memory.limit_in_bytes").filter(|limit| *limit < (1 << 62));
        usage.available = limit.map(|limit| limit.saturating_sub(working_set));
    }
    usage.process_count = read_u64("pids", cgroup, "pids.current");
    usage
}
