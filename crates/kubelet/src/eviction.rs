//! The eviction manager's observations and thresholds: `memory.available` from
//! /proc/meminfo and `nodefs.available`/`nodefs.inodesFree` from the root
//! directory's filesystem, compared with `evictionHard`.
//!
//! [`Observer::pressure`] feeds the node's MemoryPressure, DiskPressure and
//! PIDPressure conditions.
//! NOTE: the manager reports pressure only; it does not evict pods or reclaim
//! images when a threshold is crossed.

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

    /// The memory threshold in bytes, subtracted from capacity for allocatable.
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
}
