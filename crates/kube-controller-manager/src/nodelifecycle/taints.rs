//! Which taints a node's conditions call for, and when a pod on a tainted node must
//! be evicted according to its tolerations.
//!
//! Entry points: [`condition_taints`] for the NoSchedule and NoExecute taints of a
//! node, [`reconcile_taints`] to merge them into the node's own taints, and
//! [`eviction_for`] for the taint manager's decision about one pod.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Taint, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
pub const TAINT_MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
pub const TAINT_DISK_PRESSURE: &str = "node.kubernetes.io/disk-pressure";
pub const TAINT_PID_PRESSURE: &str = "node.kubernetes.io/pid-pressure";
pub const TAINT_NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";

/// The taint keys this controller manages; taints with other keys are left alone.
const MANAGED_KEYS: &[&str] = &[
    TAINT_NOT_READY,
    TAINT_UNREACHABLE,
    TAINT_UNSCHEDULABLE,
    TAINT_MEMORY_PRESSURE,
    TAINT_DISK_PRESSURE,
    TAINT_PID_PRESSURE,
    TAINT_NETWORK_UNAVAILABLE,
];

/// Returns the status of a node condition, or `None` when it is absent.
pub fn condition_status<'a>(node: &'a Node, type_: &str) -> Option<&'a str> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|condition| condition.type_ == type_)
        .map(|condition| condition.status.as_str())
}

fn taint(key: &str, effect: &str, now: &Time) -> Taint {
    Taint {
        key: key.to_string(),
        effect: effect.to_string(),
        value: None,
        time_added: (effect == "NoExecute").then(|| now.clone()),
    }
}

/// Returns the managed taints the node should carry: NoSchedule taints for its
/// conditions and `spec.unschedulable`, and a NoExecute taint while `Ready` is
/// `False` (not-ready) or `Unknown` (unreachable). `now` stamps new NoExecute taints.
pub fn condition_taints(node: &Node, now: &Time) -> Vec<Taint> {
    let mut taints = Vec::new();
    match condition_status(node, "Ready") {
        Some("False") => {
            taints.push(taint(TAINT_NOT_READY, "NoSchedule", now));
            taints.push(taint(TAINT_NOT_READY, "NoExecute", now));
        }
        Some("Unknown") => {
            taints.push(taint(TAINT_UNREACHABLE, "NoSchedule", now));
            taints.push(taint(TAINT_UNREACHABLE, "NoExecute", now));
        }
        _ => {}
    }
    let pressure = [
        ("MemoryPressure", TAINT_MEMORY_PRESSURE),
        ("DiskPressure", TAINT_DISK_PRESSURE),
        ("PIDPressure", TAINT_PID_PRESSURE),
        ("NetworkUnavailable", TAINT_NETWORK_UNAVAILABLE),
    ];
    for (condition, key) in pressure {
        if condition_status(node, condition) == Some("True") {
            taints.push(taint(key, "NoSchedule", now));
        }
    }
    if node
        .spec
        .as_ref()
        .and_then(|spec| spec.unschedulable)
        .unwrap_or(false)
    {
        taints.push(taint(TAINT_UNSCHEDULABLE, "NoSchedule", now));
    }
    taints
}

/// Merges the wanted managed taints into the node's taints: foreign taints stay,
/// managed taints not wanted go, wanted ones already present keep their
/// `timeAdded`. Returns `None` when nothing changes.
pub fn reconcile_taints(current: &[Taint], wanted: &[Taint]) -> Option<Vec<Taint>> {
    let same = |a: &Taint, b: &Taint| a.key == b.key && a.effect == b.effect;
    let mut result: Vec<Taint> = current
        .iter()
        .filter(|taint| {
            !MANAGED_KEYS.contains(&taint.key.as_str()) || wanted.iter().any(|w| same(w, taint))
        })
        .cloned()
        .collect();
    for taint in wanted {
        if !result.iter().any(|existing| same(existing, taint)) {
            result.push(taint.clone());
        }
    }
    let unchanged = result.len() == current.len()
        && result
            .iter()
            .all(|taint| current.iter().any(|c| same(c, taint)));
    (!unchanged).then_some(result)
}

/// Returns whether a toleration tolerates a taint.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect_matches = toleration
        .effect
        .as_deref()
        .is_none_or(|effect| effect.is_empty() || effect == taint.effect);
    if !effect_matches {
        return false;
    }
    let operator = toleration.operator.as_deref().unwrap_or("Equal");
    let key = toleration.key.as_deref().unwrap_or_default();
    if key.is_empty() {
        return operator == "Exists";
    }
    if key != taint.key {
        return false;
    }
    match operator {
        "Exists" => true,
        _ => {
            toleration.value.as_deref().unwrap_or_default()
                == taint.value.as_deref().unwrap_or_default()
        }
    }
}

/// The taint manager's decision about one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eviction {
    /// The pod tolerates every NoExecute taint forever (or there are none).
    Never,
    /// The pod must go now: some NoExecute taint is not tolerated.
    Now,
    /// The pod may stay this long after the earliest taint's `timeAdded`
    /// (the smallest `tolerationSeconds` among the matching tolerations).
    After(Duration),
}

/// Decides when a pod with `tolerations` is evicted from a node with `taints`.
/// Only NoExecute taints count.
pub fn eviction_for(tolerations: &[Toleration], taints: &[Taint]) -> Eviction {
    let mut smallest: Option<i64> = None;
    for taint in taints.iter().filter(|taint| taint.effect == "NoExecute") {
        let matching: Vec<&Toleration> = tolerations
            .iter()
            .filter(|toleration| tolerates(toleration, taint))
            .collect();
        if matching.is_empty() {
            return Eviction::Now;
        }
        // A matching toleration without seconds tolerates this taint forever.
        if matching.iter().any(|t| t.toleration_seconds.is_none()) {
            continue;
        }
        for toleration in matching {
            let seconds = toleration.toleration_seconds.unwrap_or_default().max(0);
            smallest = Some(smallest.map_or(seconds, |current| current.min(seconds)));
        }
    }
    match smallest {
        None => Eviction::Never,
        Some(seconds) => Eviction::After(Duration::from_secs(seconds as u64)),
    }
}

/// Returns the earliest `timeAdded` among the NoExecute taints, as Unix seconds.
pub fn earliest_no_execute(taints: &[Taint]) -> Option<i64> {
    taints
        .iter()
        .filter(|taint| taint.effect == "NoExecute")
        .filter_map(|taint| taint.time_added.as_ref())
        .map(|time| time.0.as_second())
        .min()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn node(value: serde_json::Value) -> Node {
        serde_json::from_value(value).expect("valid node")
    }

    fn now() -> Time {
        crate::objectapi::now_time()
    }

    fn toleration(value: serde_json::Value) -> Toleration {
        serde_json::from_value(value).expect("valid toleration")
    }

    fn keys(taints: &[Taint]) -> Vec<(String, String)> {
        let mut keys: Vec<(String, String)> = taints
            .iter()
            .map(|t| (t.key.clone(), t.effect.clone()))
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn taints_follow_conditions() {
        let unknown = node(json!({"metadata": {"name": "n"}, "status": {"conditions": [
            {"type": "Ready", "status": "Unknown"}, {"type": "DiskPressure", "status": "True"}]}}));
        assert_eq!(
            keys(&condition_taints(&unknown, &now())),
            [
                (TAINT_DISK_PRESSURE.to_string(), "NoSchedule".to_string()),
                (TAINT_UNREACHABLE.to_string(), "NoExecute".to_string()),
                (TAINT_UNREACHABLE.to_string(), "NoSchedule".to_string()),
            ]
        );
        let not_ready = node(
            json!({"metadata": {"name": "n"}, "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
        );
        assert_eq!(
            keys(&condition_taints(&not_ready, &now())),
            [
                (TAINT_NOT_READY.to_string(), "NoExecute".to_string()),
                (TAINT_NOT_READY.to_string(), "NoSchedule".to_string()),
                (TAINT_UNSCHEDULABLE.to_string(), "NoSchedule".to_string()),
            ]
        );
        let ready = node(
            json!({"metadata": {"name": "n"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
        );
        assert!(condition_taints(&ready, &now()).is_empty());
    }

    #[test]
    fn reconcile_keeps_foreign_taints_and_time_added() {
        let foreign = Taint {
            key: "example.com/gpu".into(),
            effect: "NoSchedule".into(),
            ..Taint::default()
        };
        let old_time = Time(k8s_openapi::jiff::Timestamp::from_second(1000).expect("time"));
        let stale = Taint {
            key: TAINT_UNREACHABLE.into(),
            effect: "NoExecute".into(),
            time_added: Some(old_time.clone()),
            value: None,
        };
        let current = vec![foreign.clone(), stale.clone()];
        assert_eq!(
            reconcile_taints(&current, std::slice::from_ref(&stale)),
            None
        );
        let wanted = vec![taint(TAINT_NOT_READY, "NoExecute", &now())];
        let result = reconcile_taints(&current, &wanted).expect("changed");
        assert_eq!(
            keys(&result),
            [
                ("example.com/gpu".to_string(), "NoSchedule".to_string()),
                (TAINT_NOT_READY.to_string(), "NoExecute".to_string()),
            ]
        );
        assert_eq!(
            reconcile_taints(&current, &[]).map(|t| keys(&t)),
            Some(keys(&[foreign]))
        );
    }

    #[test]
    fn eviction_decisions() {
        let unreachable = vec![taint(TAINT_UNREACHABLE, "NoExecute", &now())];
        let cases = [
            (vec![], Eviction::Now),
            (
                vec![toleration(
                    json!({"key": TAINT_UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}),
                )],
                Eviction::After(Duration::from_secs(300)),
            ),
            (
                vec![
                    toleration(
                        json!({"key": TAINT_UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}),
                    ),
                    toleration(
                        json!({"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 20}),
                    ),
                ],
                Eviction::After(Duration::from_secs(20)),
            ),
            (
                vec![toleration(json!({"operator": "Exists"}))],
                Eviction::Never,
            ),
            (
                vec![toleration(
                    json!({"key": TAINT_NOT_READY, "operator": "Exists", "effect": "NoExecute"}),
                )],
                Eviction::Now,
            ),
            (
                vec![toleration(
                    json!({"key": TAINT_UNREACHABLE, "operator": "Equal", "value": "x", "effect": "NoExecute"}),
                )],
                Eviction::Now,
            ),
        ];
        for (index, (tolerations, expected)) in cases.into_iter().enumerate() {
            assert_eq!(
                eviction_for(&tolerations, &unreachable),
                expected,
                "case {index}"
            );
        }
        assert_eq!(eviction_for(&[], &[]), Eviction::Never);
    }
}
