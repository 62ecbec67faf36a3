//! The pod row: READY `ready/total`, STATUS with the reason `kubectl get pods` shows
//! (`Init:1/2`, `Init:CrashLoopBackOff`, `ContainerCreating`, `Completed`, `NotReady`,
//! `Terminating`, ...), RESTARTS with the age of the last restart, and the wide columns.
//!
//! [`print_pod`] follows upstream's `printPod` (pkg/printers/internalversion, v1.33) step
//! by step; [`pod_row_conditions`] gives the row conditions upstream sets for pods that
//! finished.

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::descriptions as doc;
use super::duration::{elapsed, human_duration, since, timestamp_field};
use super::format::{field, integer, is_deleting, list, name, optional_boolean, string};
use super::{AGE, Column, NAME, Printer};

const COLUMNS: [Column; 9] = [
    NAME,
    Column::new(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    Column::new(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    Column::new(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    Column::new("IP", "string", doc::POD_IP).wide(),
    Column::new("Node", "string", doc::POD_NODE_NAME).wide(),
    Column::new("Nominated Node", "string", doc::POD_NOMINATED).wide(),
    Column::new("Readiness Gates", "string", doc::POD_READINESS_GATES).wide(),
];

/// Columns and row of `pods`.
pub(super) static POD: Printer = Printer {
    columns: &COLUMNS,
    print: print_pod,
};

/// The pod reason upstream prints for a pod that the node controller marked as lost.
const NODE_UNREACHABLE_POD_REASON: &str = "NodeLost";

/// The latest time a container last terminated, with the restarts counted so far.
#[derive(Default)]
struct Restarts {
    count: i64,
    last: Option<Timestamp>,
}

impl Restarts {
    /// Adds a container status: its restart count and the end of its last termination.
    fn add(&mut self, status: &Value) {
        self.count += integer(status, &["restartCount"]);
        let finished = timestamp_field(field(status, &["lastState", "terminated", "finishedAt"]));
        if let Some(finished) = finished
            && self.last.is_none_or(|last| last < finished)
        {
            self.last = Some(finished);
        }
    }

    /// Prints the count, followed by the age of the last restart when there was one:
    /// `3 (10s ago)`.
    fn print(&self, now: Timestamp) -> String {
        match self.last {
            Some(last) if self.count != 0 => {
                format!(
                    "{} ({} ago)",
                    self.count,
                    human_duration(elapsed(last, now))
                )
            }
            _ => self.count.to_string(),
        }
    }
}

/// Returns whether an init container runs beside the regular containers (a sidecar),
/// which its `restartPolicy` of `Always` marks.
fn is_restartable_init_container(container: Option<&Value>) -> bool {
    container.is_some_and(|container| string(container, &["restartPolicy"]) == "Always")
}

/// Returns whether the pod has a condition of `condition_type` with status `True`. Only
/// the first condition of that type counts.
fn has_true_condition(pod: &Value, condition_type: &str) -> bool {
    list(pod, &["status", "conditions"])
        .iter()
        .find(|condition| string(condition, &["type"]) == condition_type)
        .is_some_and(|condition| string(condition, &["status"]) == "True")
}

/// Returns whether any condition of `condition_type` has status `True`.
fn has_any_true_condition(pod: &Value, condition_type: &str) -> bool {
    list(pod, &["status", "conditions"])
        .iter()
        .any(|condition| {
            string(condition, &["type"]) == condition_type
                && string(condition, &["status"]) == "True"
        })
}

/// Prints the reason of a terminated container that has none: `Signal:9` or `ExitCode:1`,
/// after `prefix`.
fn terminated_without_reason(terminated: &Value, prefix: &str) -> String {
    let signal = integer(terminated, &["signal"]);
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        format!("{prefix}ExitCode:{}", integer(terminated, &["exitCode"]))
    }
}

/// Builds the cells of a pod row: name, ready, status, restarts, age, IP, node, nominated
/// node and readiness gates.
fn print_pod(pod: &Value, now: Timestamp) -> Vec<Value> {
    let containers = list(pod, &["spec", "containers"]);
    let init_containers = list(pod, &["spec", "initContainers"]);
    let find_init_container = |container_name: &str| {
        init_containers
            .iter()
            .find(|container| string(container, &["name"]) == container_name)
    };

    let restartable_init_count = init_containers
        .iter()
        .filter(|container| is_restartable_init_container(Some(container)))
        .count();
    let total_containers = containers.len() + restartable_init_count;
    let mut ready_containers = 0usize;

    let phase = string(pod, &["status", "phase"]);
    let mut reason = match string(pod, &["status", "reason"]) {
        "" => phase.to_string(),
        pod_reason => pod_reason.to_string(),
    };
    let scheduling_gated = list(pod, &["status", "conditions"])
        .iter()
        .any(|condition| {
            string(condition, &["type"]) == "PodScheduled"
                && string(condition, &["reason"]) == "SchedulingGated"
        });
    if scheduling_gated {
        reason = "SchedulingGated".to_string();
    }

    // Init containers: the first one that has not completed decides the status.
    let mut restarts = Restarts::default();
    let mut sidecar_restarts = Restarts::default();
    let mut initializing = false;
    let init_statuses = list(pod, &["status", "initContainerStatuses"]);
    for (index, status) in init_statuses.iter().enumerate() {
        restarts.add(status);
        let restartable =
            is_restartable_init_container(find_init_container(string(status, &["name"])));
        if restartable {
            sidecar_restarts.add(status);
        }

        let terminated = field(status, &["state", "terminated"]).filter(|value| !value.is_null());
        let waiting_reason = string(status, &["state", "waiting", "reason"]);
        if terminated.is_some_and(|terminated| integer(terminated, &["exitCode"]) == 0) {
            continue;
        }
        if restartable && optional_boolean(status, &["started"]) == Some(true) {
            if optional_boolean(status, &["ready"]) == Some(true) {
                ready_containers += 1;
            }
            continue;
        }
        if let Some(terminated) = terminated {
            reason = match string(terminated, &["reason"]) {
                "" => terminated_without_reason(terminated, "Init:"),
                terminated_reason => format!("Init:{terminated_reason}"),
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{index}/{}", init_containers.len());
        }
        initializing = true;
        break;
    }

    // Regular containers, once initialization is over: the first container in the list
    // with a waiting or terminated reason decides the status.
    if !initializing || has_true_condition(pod, "Initialized") {
        restarts = sidecar_restarts;
        let mut has_running = false;
        for status in list(pod, &["status", "containerStatuses"]).iter().rev() {
            restarts.add(status);
            let waiting_reason = string(status, &["state", "waiting", "reason"]);
            let terminated =
                field(status, &["state", "terminated"]).filter(|value| !value.is_null());
            let running =
                field(status, &["state", "running"]).is_some_and(|value| !value.is_null());
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(terminated) = terminated {
                reason = match string(terminated, &["reason"]) {
                    "" => terminated_without_reason(terminated, ""),
                    terminated_reason => terminated_reason.to_string(),
                };
            } else if optional_boolean(status, &["ready"]) == Some(true) && running {
                has_running = true;
                ready_containers += 1;
            }
        }

        // A pod whose containers partly completed while others still run is running.
        if reason == "Completed" && has_running {
            reason = if has_any_true_condition(pod, "Ready") {
                "Running".to_string()
            } else {
                "NotReady".to_string()
            };
        }
    }

    let deleting = is_deleting(pod);
    let terminal = phase == "Succeeded" || phase == "Failed";
    if deleting && string(pod, &["status", "reason"]) == NODE_UNREACHABLE_POD_REASON {
        reason = "Unknown".to_string();
    } else if deleting && !terminal {
        reason = "Terminating".to_string();
    }

    let mut cells = cells![
        name(pod),
        format!("{ready_containers}/{total_containers}"),
        reason,
        restarts.print(now),
        since(field(pod, &["metadata", "creationTimestamp"]), now),
    ];
    cells.extend(wide_cells(pod));
    cells
}

/// Builds the wide cells: the first pod IP, the node, the nominated node and how many
/// readiness gates are satisfied.
fn wide_cells(pod: &Value) -> Vec<Value> {
    let pod_ip = list(pod, &["status", "podIPs"])
        .first()
        .map(|entry| string(entry, &["ip"]))
        .unwrap_or_else(|| string(pod, &["status", "podIP"]));
    let or_none = |text: &str| {
        if text.is_empty() {
            "<none>".to_string()
        } else {
            text.to_string()
        }
    };

    let gates = list(pod, &["spec", "readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let satisfied = gates
            .iter()
            .filter(|gate| has_true_condition(pod, string(gate, &["conditionType"])))
            .count();
        format!("{satisfied}/{}", gates.len())
    };

    cells![
        or_none(pod_ip),
        or_none(string(pod, &["spec", "nodeName"])),
        or_none(string(pod, &["status", "nominatedNodeName"])),
        readiness_gates,
    ]
}

/// Returns the row conditions of a pod row: `Completed` with reason `Succeeded` or `Failed`
/// for a pod in a terminal phase, none otherwise.
pub(super) fn pod_row_conditions(pod: &Value) -> Option<Value> {
    let (reason, message) = match string(pod, &["status", "phase"]) {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(json!([{
        "type": "Completed",
        "status": "True",
        "reason": reason,
        "message": message,
    }]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2024-05-10T12:00:00Z".parse().expect("valid timestamp")
    }

    /// Returns the RFC 3339 time `seconds` before [`now`].
    fn ago(seconds: i64) -> String {
        let at = now().as_second() - seconds;
        Timestamp::from_second(at)
            .expect("time in range")
            .to_string()
    }

    fn containers(count: usize) -> Value {
        Value::Array(
            (0..count)
                .map(|index| json!({"name": format!("c{index}"), "image": "img"}))
                .collect(),
        )
    }

    /// Returns name, ready, status and restarts of the pod row.
    fn summary(pod: &Value) -> (String, String, String, String) {
        let cells = print_pod(pod, now());
        let text = |index: usize| cells[index].as_str().unwrap_or_default().to_string();
        (text(0), text(1), text(2), text(3))
    }

    #[test]
    fn pod_status_cases() {
        let cases: Vec<(&str, Value, (&str, &str, &str))> = vec![
            (
                "restarts and readiness of containers",
                json!({
                    "spec": {"containers": containers(2)},
                    "status": {"phase": "podPhase", "containerStatuses": [
                        {"ready": true, "restartCount": 3, "state": {"running": {}}},
                        {"restartCount": 3},
                    ]},
                }),
                ("1/2", "podPhase", "6"),
            ),
            (
                "waiting reason overrides the phase",
                json!({
                    "spec": {"containers": containers(2)},
                    "status": {"phase": "Pending", "containerStatuses": [
                        {"ready": true, "restartCount": 3, "state": {"running": {}}},
                        {"restartCount": 3, "state": {"waiting": {"reason": "ContainerCreating"}}},
                    ]},
                }),
                ("1/2", "ContainerCreating", "6"),
            ),
            (
                "first container's reason wins",
                json!({
                    "spec": {"containers": containers(2)},
                    "status": {"phase": "Running", "containerStatuses": [
                        {"restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
                        {"restartCount": 3, "state": {"terminated": {"reason": "Error", "exitCode": 1}}},
                    ]},
                }),
                ("0/2", "CrashLoopBackOff", "6"),
            ),
            (
                "ready without running is not ready",
                json!({
                    "spec": {"containers": containers(2)},
                    "status": {"phase": "podPhase", "containerStatuses": [
                        {"ready": true, "restartCount": 3, "state": {"running": {}}},
                        {"ready": true, "restartCount": 3},
                    ]},
                }),
                ("1/2", "podPhase", "6"),
            ),
            (
                "pod reason overrides the phase",
                json!({
                    "spec": {"containers": containers(2)},
                    "status": {"phase": "Failed", "reason": "Evicted"},
                }),
                ("0/2", "Evicted", "0"),
            ),
            (
                "completed and running container without ready condition",
                json!({
                    "spec": {"containers": containers(2)},
                    "status": {"phase": "Running", "containerStatuses": [
                        {"ready": true, "restartCount": 3, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}},
                        {"ready": true, "restartCount": 3, "state": {"running": {}}},
                    ]},
                }),
                ("1/2", "NotReady", "6"),
            ),
            (
                "completed and running container with ready condition",
                json!({
                    "spec": {"containers": containers(2)},
                    "status": {"phase": "Running",
                        "conditions": [{"type": "Ready", "status": "True"}],
                        "containerStatuses": [
                            {"ready": true, "restartCount": 3, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}},
                            {"ready": true, "restartCount": 3, "state": {"running": {}}},
                        ]},
                }),
                ("1/2", "Running", "6"),
            ),
            (
                "terminated without reason prints the signal",
                json!({
                    "spec": {"containers": containers(1)},
                    "status": {"phase": "Running", "containerStatuses": [
                        {"state": {"terminated": {"signal": 9, "exitCode": 137}}},
                    ]},
                }),
                ("0/1", "Signal:9", "0"),
            ),
            (
                "terminated without reason prints the exit code",
                json!({
                    "spec": {"containers": containers(1)},
                    "status": {"phase": "Running", "containerStatuses": [
                        {"state": {"terminated": {"exitCode": 2}}},
                    ]},
                }),
                ("0/1", "ExitCode:2", "0"),
            ),
            (
                "succeeded pod shows Completed",
                json!({
                    "spec": {"containers": containers(1)},
                    "status": {"phase": "Succeeded", "containerStatuses": [
                        {"state": {"terminated": {"reason": "Completed", "exitCode": 0}}},
                    ]},
                }),
                ("0/1", "Completed", "0"),
            ),
            (
                "scheduling gated",
                json!({
                    "spec": {"containers": containers(2)},
                    "status": {"phase": "Pending", "conditions": [
                        {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"},
                    ]},
                }),
                ("0/2", "SchedulingGated", "0"),
            ),
            (
                "missing status",
                json!({"spec": {"containers": containers(1)}}),
                ("0/1", "", "0"),
            ),
        ];
        for (case, pod, (ready, status, restarts)) in cases {
            let (_, got_ready, got_status, got_restarts) = summary(&pod);
            assert_eq!(got_ready, ready, "{case}: ready");
            assert_eq!(got_status, status, "{case}: status");
            assert_eq!(got_restarts, restarts, "{case}: restarts");
        }
    }

    #[test]
    fn init_container_status_cases() {
        let cases: Vec<(&str, Value, (&str, &str, String))> = vec![
            (
                "restarting init container",
                json!({
                    "spec": {"initContainers": containers(1), "containers": containers(1)},
                    "status": {"phase": "Pending",
                        "initContainerStatuses": [{"restartCount": 3, "state": {"running": {}},
                            "lastState": {"terminated": {"finishedAt": ago(10)}}}],
                        "containerStatuses": [{"state": {"waiting": {}}}]},
                }),
                ("0/1", "Init:0/1", "3 (10s ago)".to_string()),
            ),
            (
                "first init container done, second restarting",
                json!({
                    "spec": {"initContainers": containers(2), "containers": containers(1)},
                    "status": {"phase": "Pending",
                        "initContainerStatuses": [
                            {"restartCount": 2, "state": {"terminated": {}},
                                "lastState": {"terminated": {"finishedAt": ago(120)}}},
                            {"restartCount": 3, "state": {"running": {}},
                                "lastState": {"terminated": {"finishedAt": ago(10)}}},
                        ],
                        "containerStatuses": [{"state": {"waiting": {}}}]},
                }),
                ("0/1", "Init:1/2", "5 (10s ago)".to_string()),
            ),
            (
                "init container failed with a reason",
                json!({
                    "spec": {"initContainers": containers(1), "containers": containers(1)},
                    "status": {"phase": "Pending",
                        "initContainerStatuses": [{"state": {"terminated": {"reason": "Error", "exitCode": 1}}}]},
                }),
                ("0/1", "Init:Error", "0".to_string()),
            ),
            (
                "init container failed without a reason",
                json!({
                    "spec": {"initContainers": containers(1), "containers": containers(1)},
                    "status": {"phase": "Pending",
                        "initContainerStatuses": [{"state": {"terminated": {"exitCode": 3}}}]},
                }),
                ("0/1", "Init:ExitCode:3", "0".to_string()),
            ),
            (
                "init container killed by a signal",
                json!({
                    "spec": {"initContainers": containers(1), "containers": containers(1)},
                    "status": {"phase": "Pending",
                        "initContainerStatuses": [{"state": {"terminated": {"signal": 15, "exitCode": 143}}}]},
                }),
                ("0/1", "Init:Signal:15", "0".to_string()),
            ),
            (
                "init container waiting with a reason",
                json!({
                    "spec": {"initContainers": containers(1), "containers": containers(1)},
                    "status": {"phase": "Pending",
                        "initContainerStatuses": [{"restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]},
                }),
                ("0/1", "Init:CrashLoopBackOff", "4".to_string()),
            ),
            (
                "PodInitializing is not an init reason",
                json!({
                    "spec": {"initContainers": containers(2), "containers": containers(1)},
                    "status": {"phase": "Pending",
                        "initContainerStatuses": [
                            {"state": {"terminated": {"exitCode": 0}}},
                            {"state": {"waiting": {"reason": "PodInitializing"}}},
                        ]},
                }),
                ("0/1", "Init:1/2", "0".to_string()),
            ),
            (
                "init done: only container restarts count",
                json!({
                    "spec": {"initContainers": containers(1), "containers": containers(1)},
                    "status": {"phase": "Running",
                        "initContainerStatuses": [{"restartCount": 2, "state": {"terminated": {}},
                            "lastState": {"terminated": {"finishedAt": ago(120)}}}],
                        "containerStatuses": [{"restartCount": 4, "state": {"running": {}},
                            "lastState": {"terminated": {"finishedAt": ago(20)}}}]},
                }),
                ("0/1", "Running", "4 (20s ago)".to_string()),
            ),
            (
                "restart days ago",
                json!({
                    "spec": {"containers": containers(2)},
                    "status": {"phase": "Running", "containerStatuses": [
                        {"ready": true, "restartCount": 6, "state": {"running": {}},
                            "lastState": {"terminated": {"finishedAt": ago(5 * 86_400)}}},
                        {"ready": true, "restartCount": 3, "state": {"running": {}},
                            "lastState": {"terminated": {"finishedAt": ago(20 * 86_400)}}},
                    ]},
                }),
                ("2/2", "Running", "9 (5d ago)".to_string()),
            ),
        ];
        for (case, pod, (ready, status, restarts)) in cases {
            let (_, got_ready, got_status, got_restarts) = summary(&pod);
            assert_eq!(got_ready, ready, "{case}: ready");
            assert_eq!(got_status, status, "{case}: status");
            assert_eq!(got_restarts, restarts, "{case}: restarts");
        }
    }

    #[test]
    fn restartable_init_container_cases() {
        let sidecars = json!([
            {"name": "restartable-init-1", "restartPolicy": "Always"},
            {"name": "restartable-init-2", "restartPolicy": "Always"},
        ]);
        let cases: Vec<(&str, Value, (&str, &str, String))> = vec![
            (
                "first sidecar running but not started",
                json!({
                    "spec": {"initContainers": sidecars.clone(), "containers": containers(1)},
                    "status": {"phase": "Pending",
                        "initContainerStatuses": [
                            {"name": "restartable-init-1", "restartCount": 3, "started": false,
                                "state": {"running": {}},
                                "lastState": {"terminated": {"finishedAt": ago(10)}}},
                            {"name": "restartable-init-2", "started": false, "state": {"waiting": {}}},
                        ],
                        "containerStatuses": [{"state": {"waiting": {}}}],
                        "conditions": [{"type": "Initialized", "status": "False"}]},
                }),
                ("0/3", "Init:0/2", "3 (10s ago)".to_string()),
            ),
            (
                "first sidecar started",
                json!({
                    "spec": {"initContainers": sidecars.clone(), "containers": containers(1)},
                    "status": {"phase": "Pending",
                        "initContainerStatuses": [
                            {"name": "restartable-init-1", "restartCount": 3, "started": true,
                                "state": {"running": {}},
                                "lastState": {"terminated": {"finishedAt": ago(10)}}},
                            {"name": "restartable-init-2", "started": false, "state": {"running": {}}},
                        ],
                        "containerStatuses": [{"state": {"waiting": {}}}],
                        "conditions": [{"type": "Initialized", "status": "False"}]},
                }),
                ("0/3", "Init:1/2", "3 (10s ago)".to_string()),
            ),
            (
                "sidecars started and container running",
                json!({
                    "spec": {"initContainers": sidecars.clone(), "containers": containers(1)},
                    "status": {"phase": "Running",
                        "initContainerStatuses": [
                            {"name": "restartable-init-1", "restartCount": 3, "started": true,
                                "state": {"running": {}},
                                "lastState": {"terminated": {"finishedAt": ago(10)}}},
                            {"name": "restartable-init-2", "started": true, "state": {"running": {}}},
                        ],
                        "containerStatuses": [{"ready": true, "restartCount": 4,
                            "state": {"running": {}},
                            "lastState": {"terminated": {"finishedAt": ago(20)}}}],
                        "conditions": [{"type": "Initialized", "status": "True"}]},
                }),
                ("1/3", "Running", "7 (10s ago)".to_string()),
            ),
            (
                "sidecars killed after the container completed",
                json!({
                    "spec": {"initContainers": sidecars.clone(), "containers": containers(1)},
                    "status": {"phase": "Succeeded",
                        "initContainerStatuses": [
                            {"name": "restartable-init-1", "restartCount": 3, "started": false,
                                "state": {"terminated": {"reason": "Error", "exitCode": 137}},
                                "lastState": {"terminated": {"finishedAt": ago(10)}}},
                            {"name": "restartable-init-2", "started": false,
                                "state": {"terminated": {"reason": "Error", "exitCode": 137}}},
                        ],
                        "containerStatuses": [{"restartCount": 4,
                            "state": {"terminated": {"reason": "Completed", "exitCode": 0}},
                            "lastState": {"terminated": {"finishedAt": ago(20)}}}],
                        "conditions": [{"type": "Initialized", "status": "True"}]},
                }),
                ("0/3", "Completed", "7 (10s ago)".to_string()),
            ),
            (
                "statuses of unknown containers",
                json!({
                    "spec": {
                        "initContainers": [
                            {"name": "init1", "image": "initimage"},
                            {"name": "sidecar1", "image": "sidecarimage", "restartPolicy": "Always"},
                        ],
                        "containers": [{"name": "container1", "image": "containerimage"}],
                    },
                    "status": {"phase": "Running",
                        "initContainerStatuses": [
                            {"name": "initinvalid"}, {"name": "init1"}, {"name": "sidecar1"},
                        ],
                        "containerStatuses": [{"name": "containerinvalid"}, {"name": "container1"}]},
                }),
                ("0/2", "Init:0/2", "0".to_string()),
            ),
        ];
        for (case, pod, (ready, status, restarts)) in cases {
            let (_, got_ready, got_status, got_restarts) = summary(&pod);
            assert_eq!(got_ready, ready, "{case}: ready");
            assert_eq!(got_status, status, "{case}: status");
            assert_eq!(got_restarts, restarts, "{case}: restarts");
        }
    }

    #[test]
    fn deletion_status_cases() {
        let deleted = ago(10);
        let cases = [
            ("Succeeded", json!({}), "Completed"),
            ("Running", json!({}), "Terminating"),
            ("Pending", json!({}), "Terminating"),
            ("Failed", json!({"reason": "Evicted"}), "Evicted"),
            ("Running", json!({"reason": "NodeLost"}), "Unknown"),
        ];
        for (phase, extra, expected) in cases {
            let mut status = json!({"phase": phase});
            if let (Some(status), Some(extra)) = (status.as_object_mut(), extra.as_object()) {
                status.extend(extra.clone());
            }
            if phase == "Succeeded" {
                status["containerStatuses"] =
                    json!([{"state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]);
            }
            let pod = json!({
                "metadata": {"name": "p", "deletionTimestamp": deleted},
                "spec": {"containers": containers(1)},
                "status": status,
            });
            assert_eq!(summary(&pod).2, expected, "phase {phase}");
        }
    }

    #[test]
    fn pod_wide_cells() {
        let pod = json!({
            "metadata": {"name": "test1", "creationTimestamp": ago(5 * 60 + 3)},
            "spec": {
                "containers": containers(2),
                "nodeName": "node-a",
                "readinessGates": [
                    {"conditionType": "condition1"},
                    {"conditionType": "condition2"},
                    {"conditionType": "condition3"},
                ],
            },
            "status": {
                "phase": "podPhase",
                "podIP": "1.1.1.1",
                "podIPs": [{"ip": "1.1.1.1"}, {"ip": "2001:db8::"}],
                "nominatedNodeName": "node1",
                "conditions": [
                    {"type": "condition1", "status": "False"},
                    {"type": "condition2", "status": "True"},
                ],
                "containerStatuses": [
                    {"ready": true, "restartCount": 3, "state": {"running": {}}},
                    {"restartCount": 3},
                ],
            },
        });
        assert_eq!(
            print_pod(&pod, now()),
            cells![
                "test1", "1/2", "podPhase", "6", "5m3s", "1.1.1.1", "node-a", "node1", "1/3"
            ]
        );

        let bare = json!({"metadata": {"name": "test2"}, "spec": {"containers": containers(1)}});
        assert_eq!(
            print_pod(&bare, now()),
            cells![
                "test2",
                "0/1",
                "",
                "0",
                "<unknown>",
                "<none>",
                "<none>",
                "<none>",
                "<none>"
            ]
        );

        let single_stack = json!({"status": {"podIP": "10.0.0.9"}});
        assert_eq!(wide_cells(&single_stack)[0], json!("10.0.0.9"));
    }

    #[test]
    fn pod_row_conditions_cases() {
        assert_eq!(
            pod_row_conditions(&json!({"status": {"phase": "Succeeded"}})),
            Some(
                json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
                "message": "The pod has completed successfully."}])
            )
        );
        assert_eq!(
            pod_row_conditions(&json!({"status": {"phase": "Failed"}})),
            Some(
                json!([{"type": "Completed", "status": "True", "reason": "Failed",
                "message": "The pod failed."}])
            )
        );
        assert_eq!(
            pod_row_conditions(&json!({"status": {"phase": "Running"}})),
            None
        );
    }
}
