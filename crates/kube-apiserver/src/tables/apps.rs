//! Printers of workloads and their helpers: deployments, replica sets, stateful sets,
//! daemon sets and controller revisions (apps), jobs and cron jobs (batch), horizontal pod
//! autoscalers (autoscaling v1 and v2), pod disruption budgets (policy), and the `scale`
//! subresource.

use k8s_openapi::jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::descriptions as doc;
use super::duration::{elapsed, human_duration, since, timestamp_field};
use super::format::{
    api_group, bool_pointer, container_cells, field, format_label_selector, format_labels,
    int_or_string, integer, is_deleting, label_selector_string, list, name, non_null,
    optional_boolean, optional_integer, quantity_pointer, string, string_map,
};
use super::{AGE, CONTAINERS, Column, IMAGES, NAME, Printer};

/// Returns the age of the object, measured from `metadata.creationTimestamp`.
fn age(object: &Value, now: Timestamp) -> String {
    since(field(object, &["metadata", "creationTimestamp"]), now)
}

/// Returns the container names and images of the pod template at `spec.template`.
fn template_containers(object: &Value) -> (String, String) {
    container_cells(list(object, &["spec", "template", "spec", "containers"]))
}

/// The `Ready` column of deployments and stateful sets.
const READY_PODS: Column = Column::new("Ready", "string", "Number of the pod with ready state");

/// Columns and row of `deployments`.
pub(super) static DEPLOYMENT: Printer = Printer {
    columns: &[
        NAME,
        READY_PODS,
        Column::new("Up-to-date", "string", doc::DEPLOY_UPDATED),
        Column::new("Available", "string", doc::DEPLOY_AVAILABLE),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", doc::DEPLOY_SELECTOR).wide(),
    ],
    print: print_deployment,
};

fn print_deployment(deployment: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = template_containers(deployment);
    let selector = label_selector_string(field(deployment, &["spec", "selector"]))
        .unwrap_or_else(|| "<invalid>".to_string());
    cells![
        name(deployment),
        format!(
            "{}/{}",
            integer(deployment, &["status", "readyReplicas"]),
            integer(deployment, &["spec", "replicas"])
        ),
        integer(deployment, &["status", "updatedReplicas"]),
        integer(deployment, &["status", "availableReplicas"]),
        age(deployment, now),
        names,
        images,
        selector,
    ]
}

/// Columns and row of `replicasets`.
pub(super) static REPLICA_SET: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Desired", "integer", doc::RS_SPEC_REPLICAS),
        Column::new("Current", "integer", doc::RS_STATUS_REPLICAS),
        Column::new("Ready", "integer", doc::RS_STATUS_READY),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", doc::RS_SPEC_SELECTOR).wide(),
    ],
    print: print_replica_set,
};

fn print_replica_set(replica_set: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = template_containers(replica_set);
    cells![
        name(replica_set),
        integer(replica_set, &["spec", "replicas"]),
        integer(replica_set, &["status", "replicas"]),
        integer(replica_set, &["status", "readyReplicas"]),
        age(replica_set, now),
        names,
        images,
        format_label_selector(field(replica_set, &["spec", "selector"])),
    ]
}

/// Columns and row of `statefulsets`.
pub(super) static STATEFUL_SET: Printer = Printer {
    columns: &[NAME, READY_PODS, AGE, CONTAINERS, IMAGES],
    print: print_stateful_set,
};

fn print_stateful_set(stateful_set: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = template_containers(stateful_set);
    cells![
        name(stateful_set),
        format!(
            "{}/{}",
            integer(stateful_set, &["status", "readyReplicas"]),
            integer(stateful_set, &["spec", "replicas"])
        ),
        age(stateful_set, now),
        names,
        images,
    ]
}

/// Columns and row of `daemonsets`.
pub(super) static DAEMON_SET: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Desired", "integer", doc::DS_DESIRED),
        Column::new("Current", "integer", doc::DS_CURRENT),
        Column::new("Ready", "integer", doc::DS_READY),
        Column::new("Up-to-date", "integer", doc::DS_UPDATED),
        Column::new("Available", "integer", doc::DS_AVAILABLE),
        Column::new("Node Selector", "string", doc::POD_NODE_SELECTOR),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", doc::DS_SELECTOR).wide(),
    ],
    print: print_daemon_set,
};

fn print_daemon_set(daemon_set: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = template_containers(daemon_set);
    let status = |key: &str| integer(daemon_set, &["status", key]);
    let node_selector = string_map(daemon_set, &["spec", "template", "spec", "nodeSelector"]);
    cells![
        name(daemon_set),
        status("desiredNumberScheduled"),
        status("currentNumberScheduled"),
        status("numberReady"),
        status("updatedNumberScheduled"),
        status("numberAvailable"),
        format_labels(&node_selector),
        age(daemon_set, now),
        names,
        images,
        format_label_selector(field(daemon_set, &["spec", "selector"])),
    ]
}

/// Columns and row of `controllerrevisions`.
pub(super) static CONTROLLER_REVISION: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Controller", "string", "Controller of the object"),
        Column::new("Revision", "string", doc::CONTROLLER_REVISION_REVISION),
        AGE,
    ],
    print: print_controller_revision,
};

fn print_controller_revision(revision: &Value, now: Timestamp) -> Vec<Value> {
    let controller = list(revision, &["metadata", "ownerReferences"])
        .iter()
        .find(|owner| optional_boolean(owner, &["controller"]) == Some(true))
        .map_or_else(|| "<none>".to_string(), controller_name);
    cells![
        name(revision),
        controller,
        integer(revision, &["revision"]),
        age(revision, now),
    ]
}

/// Prints a controller reference as `kind.group/name` in lower case (`daemonset.apps/foo`),
/// or `kind/name` for the core group.
// NOTE: upstream fails the whole table when the owner's apiVersion has more than one "/";
// this prints the reference without a group instead.
fn controller_name(owner: &Value) -> String {
    let kind = string(owner, &["kind"]);
    let group = api_group(string(owner, &["apiVersion"])).unwrap_or_default();
    let owner_name = string(owner, &["name"]);
    let group_kind = match (group, kind) {
        ("", "") => return owner_name.to_string(),
        ("", kind) => kind.to_string(),
        (group, kind) => format!("{kind}.{group}"),
    };
    format!("{}/{owner_name}", group_kind.to_lowercase())
}

/// Columns and row of `jobs`.
pub(super) static JOB: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Status", "string", "Status of the job."),
        Column::new("Completions", "string", doc::JOB_SUCCEEDED),
        Column::new("Duration", "string", "Time required to complete the job."),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", doc::JOB_SELECTOR).wide(),
    ],
    print: print_job,
};

/// Returns whether the first job condition of `condition_type` has status `True`.
fn has_job_condition(job: &Value, condition_type: &str) -> bool {
    list(job, &["status", "conditions"])
        .iter()
        .find(|condition| string(condition, &["type"]) == condition_type)
        .is_some_and(|condition| string(condition, &["status"]) == "True")
}

fn print_job(job: &Value, now: Timestamp) -> Vec<Value> {
    let succeeded = integer(job, &["status", "succeeded"]);
    let completions = match optional_integer(job, &["spec", "completions"]) {
        Some(completions) => format!("{succeeded}/{completions}"),
        None => match integer(job, &["spec", "parallelism"]) {
            parallelism if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
            _ => format!("{succeeded}/1"),
        },
    };

    let started = timestamp_field(field(job, &["status", "startTime"]));
    let completed = timestamp_field(field(job, &["status", "completionTime"]));
    let duration = match (started, completed) {
        (None, _) => String::new(),
        (Some(started), None) => human_duration(elapsed(started, now)),
        (Some(started), Some(completed)) => human_duration(elapsed(started, completed)),
    };

    let status = if has_job_condition(job, "Complete") {
        "Complete"
    } else if has_job_condition(job, "Failed") {
        "Failed"
    } else if is_deleting(job) {
        "Terminating"
    } else if has_job_condition(job, "Suspended") {
        "Suspended"
    } else if has_job_condition(job, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };

    let (names, images) = template_containers(job);
    cells![
        name(job),
        status,
        completions,
        duration,
        age(job, now),
        names,
        images,
        format_label_selector(field(job, &["spec", "selector"])),
    ]
}

/// Columns and row of `cronjobs`.
pub(super) static CRON_JOB: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Schedule", "string", doc::CRONJOB_SCHEDULE),
        Column::new("Timezone", "string", doc::CRONJOB_TIME_ZONE),
        Column::new("Suspend", "boolean", doc::CRONJOB_SUSPEND),
        Column::new("Active", "integer", doc::CRONJOB_ACTIVE),
        Column::new("Last Schedule", "string", doc::CRONJOB_LAST_SCHEDULE),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", doc::JOB_SELECTOR).wide(),
    ],
    print: print_cron_job,
};

fn print_cron_job(cron_job: &Value, now: Timestamp) -> Vec<Value> {
    let last_schedule = match field(cron_job, &["status", "lastScheduleTime"]) {
        None | Some(Value::Null) => "<none>".to_string(),
        time => since(time, now),
    };
    let time_zone =
        super::format::optional_string(cron_job, &["spec", "timeZone"]).unwrap_or("<none>");
    let job_spec = field(cron_job, &["spec", "jobTemplate", "spec"]).unwrap_or(&Value::Null);
    let (names, images) = container_cells(list(job_spec, &["template", "spec", "containers"]));
    cells![
        name(cron_job),
        string(cron_job, &["spec", "schedule"]),
        time_zone,
        bool_pointer(optional_boolean(cron_job, &["spec", "suspend"])),
        list(cron_job, &["status", "active"]).len(),
        last_schedule,
        age(cron_job, now),
        names,
        images,
        format_label_selector(field(job_spec, &["selector"])),
    ]
}

/// Columns and row of `horizontalpodautoscalers` in autoscaling/v1 and v2.
pub(super) static HORIZONTAL_POD_AUTOSCALER: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Reference", "string", doc::HPA_SCALE_TARGET_REF),
        Column::new("Targets", "string", doc::HPA_METRICS),
        Column::new("MinPods", "string", doc::HPA_MIN_REPLICAS),
        Column::new("MaxPods", "string", doc::HPA_MAX_REPLICAS),
        Column::new("Replicas", "string", doc::HPA_CURRENT_REPLICAS),
        AGE,
    ],
    print: print_horizontal_pod_autoscaler,
};

fn print_horizontal_pod_autoscaler(autoscaler: &Value, now: Timestamp) -> Vec<Value> {
    let reference = format!(
        "{}/{}",
        string(autoscaler, &["spec", "scaleTargetRef", "kind"]),
        string(autoscaler, &["spec", "scaleTargetRef", "name"])
    );
    let (specs, statuses) = if is_autoscaling_v1(autoscaler) {
        v1_metrics(autoscaler)
    } else {
        (
            list(autoscaler, &["spec", "metrics"]).to_vec(),
            list(autoscaler, &["status", "currentMetrics"]).to_vec(),
        )
    };
    let min_pods = optional_integer(autoscaler, &["spec", "minReplicas"])
        .map_or_else(|| "<unset>".to_string(), |min| min.to_string());
    cells![
        name(autoscaler),
        reference,
        format_metrics(&specs, &statuses),
        min_pods,
        integer(autoscaler, &["spec", "maxReplicas"]),
        integer(autoscaler, &["status", "currentReplicas"]),
        age(autoscaler, now),
    ]
}

/// Returns whether the object is an autoscaling/v1 autoscaler, judged by `apiVersion`, or
/// by its CPU target field when it carries no `apiVersion`.
fn is_autoscaling_v1(autoscaler: &Value) -> bool {
    match super::format::optional_string(autoscaler, &["apiVersion"]) {
        Some(api_version) => api_version == "autoscaling/v1",
        None => field(autoscaler, &["spec", "targetCPUUtilizationPercentage"]).is_some(),
    }
}

/// The annotation in which autoscaling/v1 keeps the metrics it has no fields for.
const METRIC_SPECS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";

/// The annotation in which autoscaling/v1 keeps the current values of those metrics.
const METRIC_STATUSES_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";

/// Converts an autoscaling/v1 autoscaler's metrics to the autoscaling/v2 form, as
/// upstream's conversion does: the metrics of the annotation, then the CPU utilization
/// target. The current metrics of the annotation replace the CPU status when present.
fn v1_metrics(autoscaler: &Value) -> (Vec<Value>, Vec<Value>) {
    let annotation_list = |key: &str| -> Option<Vec<Value>> {
        let text = super::format::annotation(autoscaler, key)?;
        serde_json::from_str::<Vec<Value>>(text).ok()
    };

    let mut specs: Vec<Value> = annotation_list(METRIC_SPECS_ANNOTATION)
        .unwrap_or_default()
        .iter()
        .map(v1_metric_spec_to_v2)
        .collect();
    if let Some(target) = field(autoscaler, &["spec", "targetCPUUtilizationPercentage"])
        .filter(|value| !value.is_null())
    {
        specs.push(json!({"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": target}}}));
    }

    let statuses = match annotation_list(METRIC_STATUSES_ANNOTATION) {
        Some(statuses) => statuses.iter().map(v1_metric_status_to_v2).collect(),
        None => match field(autoscaler, &["status", "currentCPUUtilizationPercentage"])
            .filter(|value| !value.is_null())
        {
            Some(current) => vec![json!({"type": "Resource", "resource": {"name": "cpu",
                "current": {"averageUtilization": current}}})],
            None => Vec::new(),
        },
    };
    (specs, statuses)
}

/// Builds a JSON object from the entries whose value is present.
fn object_of(entries: &[(&str, Option<&Value>)]) -> Value {
    let map: Map<String, Value> = entries
        .iter()
        .filter_map(|(key, value)| {
            value
                .filter(|value| !value.is_null())
                .map(|value| (key.to_string(), value.clone()))
        })
        .collect();
    Value::Object(map)
}

/// Converts one autoscaling/v1 (annotation) metric spec to the autoscaling/v2 form.
fn v1_metric_spec_to_v2(spec: &Value) -> Value {
    let get = |path: &[&str]| field(spec, path);
    match string(spec, &["type"]) {
        "Object" => {
            let average = get(&["object", "averageValue"]).filter(|value| !value.is_null());
            let target_type = Value::from(if average.is_some() {
                "AverageValue"
            } else {
                "Value"
            });
            let target = object_of(&[
                ("type", Some(&target_type)),
                ("value", get(&["object", "targetValue"])),
                ("averageValue", average),
            ]);
            json!({"type": "Object", "object": {"target": target}})
        }
        "Pods" => {
            let target = object_of(&[
                ("type", Some(&Value::from("AverageValue"))),
                ("averageValue", get(&["pods", "targetAverageValue"])),
            ]);
            json!({"type": "Pods", "pods": {"target": target}})
        }
        source @ ("Resource" | "ContainerResource") => {
            let key = if source == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let utilization =
                get(&[key, "targetAverageUtilization"]).filter(|value| !value.is_null());
            let target_type = Value::from(if utilization.is_some() {
                "Utilization"
            } else {
                "AverageValue"
            });
            let target = object_of(&[
                ("type", Some(&target_type)),
                ("averageUtilization", utilization),
                ("averageValue", get(&[key, "targetAverageValue"])),
            ]);
            let mut converted = Map::new();
            converted.insert("type".to_string(), Value::from(source));
            converted.insert(
                key.to_string(),
                json!({"name": string(spec, &[key, "name"]), "target": target}),
            );
            Value::Object(converted)
        }
        "External" => {
            let target = object_of(&[
                ("value", get(&["external", "targetValue"])),
                ("averageValue", get(&["external", "targetAverageValue"])),
            ]);
            json!({"type": "External", "external": {"target": target}})
        }
        other => json!({"type": other}),
    }
}

/// Converts one autoscaling/v1 (annotation) metric status to the autoscaling/v2 form.
fn v1_metric_status_to_v2(status: &Value) -> Value {
    let get = |path: &[&str]| field(status, path);
    match string(status, &["type"]) {
        "Object" => {
            let current = object_of(&[
                ("value", get(&["object", "currentValue"])),
                ("averageValue", get(&["object", "averageValue"])),
            ]);
            json!({"type": "Object", "object": {"current": current}})
        }
        "Pods" => {
            let current = object_of(&[("averageValue", get(&["pods", "currentAverageValue"]))]);
            json!({"type": "Pods", "pods": {"current": current}})
        }
        source @ ("Resource" | "ContainerResource") => {
            let key = if source == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let current = object_of(&[
                (
                    "averageUtilization",
                    get(&[key, "currentAverageUtilization"]),
                ),
                ("averageValue", get(&[key, "currentAverageValue"])),
            ]);
            let mut converted = Map::new();
            converted.insert("type".to_string(), Value::from(source));
            converted.insert(
                key.to_string(),
                json!({"name": string(status, &[key, "name"]), "current": current}),
            );
            Value::Object(converted)
        }
        "External" => {
            let current = object_of(&[
                ("value", get(&["external", "currentValue"])),
                ("averageValue", get(&["external", "currentAverageValue"])),
            ]);
            json!({"type": "External", "external": {"current": current}})
        }
        other => json!({"type": other}),
    }
}

/// Prints the TARGETS cell from metrics in the autoscaling/v2 form: `current/target` for
/// at most two metrics, then ` + N more...`. A metric without a measurement shows
/// `<unknown>` as its current value, and no metrics print as `<none>`. The status of a
/// metric is the entry at the same index, as upstream pairs them.
fn format_metrics(specs: &[Value], statuses: &[Value]) -> String {
    const MAX: usize = 2;
    if specs.is_empty() {
        return "<none>".to_string();
    }

    let mut printed: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(index, spec)| format_metric(spec, statuses.get(index)))
        .collect();
    let count = printed.len();
    if count > MAX {
        printed.truncate(MAX);
        return format!("{} + {} more...", printed.join(", "), count - MAX);
    }
    printed.join(", ")
}

/// Prints one metric of the TARGETS cell.
fn format_metric(spec: &Value, status: Option<&Value>) -> String {
    // The status's source of the same type, when the status is of the spec's type.
    let status_source = |key: &str| status.and_then(|status| non_null(field(status, &[key])));

    match string(spec, &["type"]) {
        source_type @ ("External" | "Object") => {
            let key = if source_type == "External" {
                "external"
            } else {
                "object"
            };
            let target = field(spec, &[key, "target"]).unwrap_or(&Value::Null);
            if let Some(average) = non_null(field(target, &["averageValue"])) {
                let current = status_source(key)
                    .and_then(|source| non_null(field(source, &["current", "averageValue"])))
                    .map_or_else(
                        || "<unknown>".to_string(),
                        |value| quantity_pointer(Some(value)),
                    );
                format!("{current}/{} (avg)", quantity_pointer(Some(average)))
            } else {
                let current = status_source(key).map_or_else(
                    || "<unknown>".to_string(),
                    |source| quantity_pointer(field(source, &["current", "value"])),
                );
                format!("{current}/{}", quantity_pointer(field(target, &["value"])))
            }
        }
        "Pods" => {
            let current = status_source("pods").map_or_else(
                || "<unknown>".to_string(),
                |source| quantity_pointer(field(source, &["current", "averageValue"])),
            );
            let target = quantity_pointer(field(spec, &["pods", "target", "averageValue"]));
            format!("{current}/{target}")
        }
        source_type @ ("Resource" | "ContainerResource") => {
            let key = if source_type == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let resource_name = string(spec, &[key, "name"]);
            let target = field(spec, &[key, "target"]).unwrap_or(&Value::Null);
            if let Some(average) = non_null(field(target, &["averageValue"])) {
                let current = status_source(key).map_or_else(
                    || "<unknown>".to_string(),
                    |source| quantity_pointer(field(source, &["current", "averageValue"])),
                );
                format!(
                    "{resource_name}: {current}/{}",
                    quantity_pointer(Some(average))
                )
            } else {
                let current = status_source(key)
                    .and_then(|source| optional_integer(source, &["current", "averageUtilization"]))
                    .map_or_else(
                        || "<unknown>".to_string(),
                        |utilization| format!("{utilization}%"),
                    );
                let target = optional_integer(target, &["averageUtilization"]).map_or_else(
                    || "<auto>".to_string(),
                    |utilization| format!("{utilization}%"),
                );
                format!("{resource_name}: {current}/{target}")
            }
        }
        _ => "<unknown type>".to_string(),
    }
}

/// Columns and row of `poddisruptionbudgets`.
pub(super) static POD_DISRUPTION_BUDGET: Printer = Printer {
    columns: &[
        NAME,
        Column::new(
            "Min Available",
            "string",
            "The minimum number of pods that must be available.",
        ),
        Column::new(
            "Max Unavailable",
            "string",
            "The maximum number of pods that may be unavailable.",
        ),
        Column::new(
            "Allowed Disruptions",
            "integer",
            "Calculated number of pods that may be disrupted at this time.",
        ),
        AGE,
    ],
    print: print_pod_disruption_budget,
};

fn print_pod_disruption_budget(budget: &Value, now: Timestamp) -> Vec<Value> {
    let bound = |key: &str| match field(budget, &["spec", key]) {
        None | Some(Value::Null) => "N/A".to_string(),
        Some(value) => int_or_string(value),
    };
    cells![
        name(budget),
        bound("minAvailable"),
        bound("maxUnavailable"),
        integer(budget, &["status", "disruptionsAllowed"]),
        age(budget, now),
    ]
}

/// Columns and row of the `scale` subresource.
pub(super) static SCALE: Printer = Printer {
    columns: &[
        Column::new("Name", "string", doc::META_NAME),
        Column::new("Desired", "integer", doc::SCALE_SPEC_REPLICAS),
        Column::new("Available", "integer", doc::SCALE_STATUS_REPLICAS),
        AGE,
    ],
    print: print_scale,
};

fn print_scale(scale: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(scale),
        integer(scale, &["spec", "replicas"]),
        integer(scale, &["status", "replicas"]),
        age(scale, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2024-05-10T12:00:00Z".parse().expect("valid timestamp")
    }

    /// Returns the RFC 3339 time `seconds` before [`now`] (after it when negative).
    fn ago(seconds: i64) -> String {
        Timestamp::from_second(now().as_second() - seconds)
            .expect("time in range")
            .to_string()
    }

    fn two_containers() -> Value {
        json!([
            {"name": "fake-container1", "image": "fake-image1"},
            {"name": "fake-container2", "image": "fake-image2"},
        ])
    }

    #[test]
    fn deployment_rows() {
        let deployment = json!({
            "metadata": {"name": "test1", "creationTimestamp": ago(-1)},
            "spec": {"replicas": 5, "selector": {"matchLabels": {"foo": "bar"}},
                "template": {"spec": {"containers": two_containers()}}},
            "status": {"replicas": 10, "updatedReplicas": 2, "availableReplicas": 1,
                "unavailableReplicas": 4},
        });
        assert_eq!(
            print_deployment(&deployment, now()),
            cells![
                "test1",
                "0/5",
                2,
                1,
                "0s",
                "fake-container1,fake-container2",
                "fake-image1,fake-image2",
                "foo=bar"
            ]
        );

        let ready = json!({"metadata": {"name": "web"},
            "spec": {"replicas": 3, "selector": {"matchExpressions": [
                {"key": "app", "operator": "Bad"}]}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
        let cells = print_deployment(&ready, now());
        assert_eq!(cells[1], json!("2/3"));
        assert_eq!(cells[7], json!("<invalid>"));

        let without_selector = json!({"metadata": {"name": "web"}});
        assert_eq!(print_deployment(&without_selector, now())[7], json!(""));
    }

    #[test]
    fn replica_set_rows() {
        let replica_set = json!({
            "metadata": {"name": "test1", "creationTimestamp": ago(-1)},
            "spec": {"replicas": 5, "selector": {"matchLabels": {"foo": "bar"}},
                "template": {"spec": {"containers": two_containers()}}},
            "status": {"replicas": 5, "readyReplicas": 2},
        });
        assert_eq!(
            print_replica_set(&replica_set, now()),
            cells![
                "test1",
                5,
                5,
                2,
                "0s",
                "fake-container1,fake-container2",
                "fake-image1,fake-image2",
                "foo=bar"
            ]
        );
    }

    #[test]
    fn stateful_set_rows() {
        let stateful_set = json!({
            "metadata": {"name": "test1", "creationTimestamp": ago(-1)},
            "spec": {"replicas": 5, "template": {"spec": {"containers": two_containers()}}},
            "status": {"replicas": 5, "readyReplicas": 2},
        });
        assert_eq!(
            print_stateful_set(&stateful_set, now()),
            cells![
                "test1",
                "2/5",
                "0s",
                "fake-container1,fake-container2",
                "fake-image1,fake-image2"
            ]
        );
    }

    #[test]
    fn daemon_set_rows() {
        let daemon_set = json!({
            "metadata": {"name": "test1", "creationTimestamp": ago(-1)},
            "spec": {"selector": {"matchLabels": {"foo": "bar"}},
                "template": {"spec": {"containers": two_containers(),
                    "nodeSelector": {"kubernetes.io/os": "linux"}}}},
            "status": {"currentNumberScheduled": 2, "desiredNumberScheduled": 3,
                "numberReady": 1, "updatedNumberScheduled": 2, "numberAvailable": 0},
        });
        assert_eq!(
            print_daemon_set(&daemon_set, now()),
            cells![
                "test1",
                3,
                2,
                1,
                2,
                0,
                "kubernetes.io/os=linux",
                "0s",
                "fake-container1,fake-container2",
                "fake-image1,fake-image2",
                "foo=bar"
            ]
        );
        let bare = json!({"metadata": {"name": "daemonset2"}, "spec": {"template": {}}});
        assert_eq!(print_daemon_set(&bare, now())[6], json!("<none>"));
        assert_eq!(print_daemon_set(&bare, now())[10], json!("<none>"));
    }

    #[test]
    fn controller_revision_rows() {
        let revision = |owners: Value, number: i64| {
            json!({"metadata": {"name": "test", "creationTimestamp": ago(-1),
                "ownerReferences": owners}, "revision": number})
        };
        let cases = [
            (
                revision(
                    json!([{"controller": true, "apiVersion": "apps/v1", "kind": "DaemonSet",
                        "name": "foo"}]),
                    1,
                ),
                "daemonset.apps/foo",
            ),
            (
                revision(
                    json!([{"controller": false, "kind": "ABC", "name": "foo"}]),
                    2,
                ),
                "<none>",
            ),
            (revision(json!([]), 3), "<none>"),
            (revision(Value::Null, 4), "<none>"),
            (
                revision(
                    json!([{"controller": true, "apiVersion": "v1", "kind": "Pod", "name": "p"}]),
                    5,
                ),
                "pod/p",
            ),
        ];
        for (object, controller) in cases {
            let cells = print_controller_revision(&object, now());
            assert_eq!(cells[1], json!(controller), "{object}");
            assert_eq!(cells[2], object["revision"], "{object}");
            assert_eq!(cells[3], json!("0s"), "{object}");
        }
    }

    #[test]
    fn job_rows() {
        let job = |spec: Value, status: Value, metadata: Value| json!({"metadata": metadata, "spec": spec, "status": status});
        let recent = json!({"name": "job", "creationTimestamp": ago(-1)});
        let cases = [
            (
                job(
                    json!({"completions": 2}),
                    json!({"succeeded": 1}),
                    recent.clone(),
                ),
                ("Running", "1/2", ""),
            ),
            (
                job(json!({}), json!({}), recent.clone()),
                ("Running", "0/1", ""),
            ),
            (
                job(
                    json!({"parallelism": 3}),
                    json!({"succeeded": 1}),
                    recent.clone(),
                ),
                ("Running", "1/1 of 3", ""),
            ),
            (
                job(
                    json!({}),
                    json!({"startTime": ago(20 * 60)}),
                    recent.clone(),
                ),
                ("Running", "0/1", "20m"),
            ),
            (
                job(
                    json!({}),
                    json!({"startTime": ago(-60), "completionTime": ago(-31 * 60)}),
                    recent.clone(),
                ),
                ("Running", "0/1", "30m"),
            ),
            (
                job(
                    json!({}),
                    json!({"conditions": [{"type": "Complete", "status": "True"}]}),
                    recent.clone(),
                ),
                ("Complete", "0/1", ""),
            ),
            (
                job(
                    json!({}),
                    json!({"conditions": [{"type": "Failed", "status": "True"}]}),
                    recent.clone(),
                ),
                ("Failed", "0/1", ""),
            ),
            (
                job(
                    json!({}),
                    json!({"conditions": [{"type": "Suspended", "status": "True"}]}),
                    recent.clone(),
                ),
                ("Suspended", "0/1", ""),
            ),
            (
                job(
                    json!({}),
                    json!({"conditions": [{"type": "FailureTarget", "status": "True"}]}),
                    recent.clone(),
                ),
                ("FailureTarget", "0/1", ""),
            ),
            (
                job(
                    json!({}),
                    json!({"conditions": [{"type": "Suspended", "status": "True"}]}),
                    json!({"name": "job", "creationTimestamp": ago(-1),
                        "deletionTimestamp": ago(-1)}),
                ),
                ("Terminating", "0/1", ""),
            ),
            (
                job(
                    json!({}),
                    json!({"conditions": [{"type": "Complete", "status": "False"}]}),
                    recent.clone(),
                ),
                ("Running", "0/1", ""),
            ),
        ];
        for (object, (status, completions, duration)) in cases {
            let cells = print_job(&object, now());
            assert_eq!(cells[1], json!(status), "{object}");
            assert_eq!(cells[2], json!(completions), "{object}");
            assert_eq!(cells[3], json!(duration), "{object}");
            assert_eq!(cells[4], json!("0s"), "{object}");
        }
    }

    #[test]
    fn job_wide_cells() {
        let job = json!({
            "metadata": {"name": "job1", "creationTimestamp": ago(10 * 365 * 86_400)},
            "spec": {"completions": 2,
                "selector": {"matchLabels": {"job-label": "job-label-value"}},
                "template": {"spec": {"containers": [
                    {"name": "fake-job-container1", "image": "fake-job-image1"},
                    {"name": "fake-job-container2", "image": "fake-job-image2"},
                ]}}},
            "status": {"succeeded": 1},
        });
        assert_eq!(
            print_job(&job, now()),
            cells![
                "job1",
                "Running",
                "1/2",
                "",
                "10y",
                "fake-job-container1,fake-job-container2",
                "fake-job-image1,fake-job-image2",
                "job-label=job-label-value"
            ]
        );
    }

    #[test]
    fn cron_job_rows() {
        let cron_job = json!({
            "metadata": {"name": "cronjob1", "creationTimestamp": ago(300)},
            "spec": {"schedule": "0/5 * * * ?", "suspend": false,
                "jobTemplate": {"spec": {"completions": 2,
                    "selector": {"matchLabels": {"a": "b"}},
                    "template": {"spec": {"containers": [
                        {"name": "fake-job-container1", "image": "fake-job-image1"}]}}}}},
            "status": {"lastScheduleTime": ago(30), "active": [{"name": "j"}]},
        });
        assert_eq!(
            print_cron_job(&cron_job, now()),
            cells![
                "cronjob1",
                "0/5 * * * ?",
                "<none>",
                "False",
                1,
                "30s",
                "5m",
                "fake-job-container1",
                "fake-job-image1",
                "a=b"
            ]
        );

        let zoned = json!({"metadata": {"name": "cronjob3"},
            "spec": {"schedule": "4/5 1 1 1 ?", "timeZone": "LOCAL"}});
        let cells = print_cron_job(&zoned, now());
        assert_eq!(cells[2], json!("LOCAL"));
        assert_eq!(cells[3], json!("<unset>"));
        assert_eq!(cells[4], json!(0));
        assert_eq!(cells[5], json!("<none>"));
        assert_eq!(cells[9], json!("<none>"));
    }

    /// Wraps v2 metrics into an autoscaler of apiVersion autoscaling/v2.
    fn hpa_v2(metrics: Value, current: Value) -> Value {
        json!({
            "apiVersion": "autoscaling/v2",
            "metadata": {"name": "some-hpa"},
            "spec": {"scaleTargetRef": {"kind": "ReplicationController", "name": "some-rc"},
                "minReplicas": 2, "maxReplicas": 10, "metrics": metrics},
            "status": {"currentReplicas": 4, "desiredReplicas": 5, "currentMetrics": current},
        })
    }

    #[test]
    fn hpa_v2_targets() {
        let external_average = json!([{"type": "External", "external": {
            "metric": {"name": "some-external-metric"},
            "target": {"type": "AverageValue", "averageValue": "100m"}}}]);
        let external_value = json!([{"type": "External", "external": {
            "metric": {"name": "some-external-metric"},
            "target": {"type": "Value", "value": "100m"}}}]);
        let pods = json!([{"type": "Pods", "pods": {"metric": {"name": "some-pods-metric"},
            "target": {"type": "AverageValue", "averageValue": "100m"}}}]);
        let object = json!([{"type": "Object", "object": {
            "describedObject": {"kind": "Service", "name": "some-service"},
            "metric": {"name": "some-service-metric"},
            "target": {"type": "Value", "value": "100m"}}}]);
        let resource_value = json!([{"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "AverageValue", "averageValue": "100m"}}}]);
        let resource_utilization = json!([{"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 80}}}]);
        let container_utilization = json!([{"type": "ContainerResource", "containerResource": {
            "name": "cpu", "container": "application",
            "target": {"type": "Utilization", "averageUtilization": 80}}}]);

        let cases = [
            (Value::Null, Value::Null, "<none>"),
            (
                external_average.clone(),
                Value::Null,
                "<unknown>/100m (avg)",
            ),
            (
                external_average,
                json!([{"type": "External", "external": {"current": {"averageValue": "50m"}}}]),
                "50m/100m (avg)",
            ),
            (external_value.clone(), Value::Null, "<unknown>/100m"),
            (
                external_value,
                json!([{"type": "External", "external": {"current": {"value": "50m"}}}]),
                "50m/100m",
            ),
            (pods.clone(), Value::Null, "<unknown>/100m"),
            (
                pods,
                json!([{"type": "Pods", "pods": {"current": {"averageValue": "50m"}}}]),
                "50m/100m",
            ),
            (object.clone(), Value::Null, "<unknown>/100m"),
            (
                object,
                json!([{"type": "Object", "object": {"current": {"value": "50m"}}}]),
                "50m/100m",
            ),
            (resource_value.clone(), Value::Null, "cpu: <unknown>/100m"),
            (
                resource_value,
                json!([{"type": "Resource", "resource": {"name": "cpu",
                    "current": {"averageValue": "50m"}}}]),
                "cpu: 50m/100m",
            ),
            (
                resource_utilization.clone(),
                Value::Null,
                "cpu: <unknown>/80%",
            ),
            (
                resource_utilization,
                json!([{"type": "Resource", "resource": {"name": "cpu",
                    "current": {"averageUtilization": 50, "averageValue": "40m"}}}]),
                "cpu: 50%/80%",
            ),
            (
                container_utilization.clone(),
                Value::Null,
                "cpu: <unknown>/80%",
            ),
            (
                container_utilization,
                json!([{"type": "ContainerResource", "containerResource": {"name": "cpu",
                    "container": "application",
                    "current": {"averageUtilization": 50, "averageValue": "40m"}}}]),
                "cpu: 50%/80%",
            ),
            (
                json!([{"type": "Resource", "resource": {"name": "memory",
                    "target": {"type": "Utilization"}}}]),
                Value::Null,
                "memory: <unknown>/<auto>",
            ),
            (json!([{"type": "Bogus"}]), Value::Null, "<unknown type>"),
            (
                json!([
                    {"type": "Pods", "pods": {"metric": {"name": "some-pods-metric"},
                        "target": {"type": "AverageValue", "averageValue": "100m"}}},
                    {"type": "Resource", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 80}}},
                    {"type": "Pods", "pods": {"metric": {"name": "other-pods-metric"},
                        "target": {"type": "AverageValue", "averageValue": "400m"}}},
                ]),
                json!([
                    {"type": "Pods", "pods": {"current": {"averageValue": "50m"}}},
                    {"type": "Resource", "resource": {"name": "cpu",
                        "current": {"averageUtilization": 50, "averageValue": "40m"}}},
                ]),
                "50m/100m, cpu: 50%/80% + 1 more...",
            ),
        ];
        for (metrics, current, expected) in cases {
            let autoscaler = hpa_v2(metrics, current);
            assert_eq!(
                print_horizontal_pod_autoscaler(&autoscaler, now()),
                cells![
                    "some-hpa",
                    "ReplicationController/some-rc",
                    expected,
                    "2",
                    10,
                    4,
                    "<unknown>"
                ],
                "{autoscaler}"
            );
        }
    }

    #[test]
    fn hpa_v2_without_min_replicas() {
        let autoscaler = json!({
            "apiVersion": "autoscaling/v2",
            "metadata": {"name": "some-hpa"},
            "spec": {"scaleTargetRef": {"kind": "ReplicationController", "name": "some-rc"},
                "maxReplicas": 10},
            "status": {"currentReplicas": 4},
        });
        assert_eq!(
            print_horizontal_pod_autoscaler(&autoscaler, now()),
            cells![
                "some-hpa",
                "ReplicationController/some-rc",
                "<none>",
                "<unset>",
                10,
                4,
                "<unknown>"
            ]
        );
    }

    #[test]
    fn hpa_v1_targets() {
        let autoscaler = |spec_extra: Value, status: Value, annotations: Value| {
            let mut spec = json!({"scaleTargetRef": {"kind": "Deployment", "name": "web"},
                "minReplicas": 1, "maxReplicas": 5});
            if let (Some(spec), Some(extra)) = (spec.as_object_mut(), spec_extra.as_object()) {
                spec.extend(extra.clone());
            }
            json!({"apiVersion": "autoscaling/v1",
                "metadata": {"name": "web", "annotations": annotations},
                "spec": spec, "status": status})
        };
        let cases = [
            (
                autoscaler(
                    json!({"targetCPUUtilizationPercentage": 60}),
                    json!({"currentReplicas": 2, "currentCPUUtilizationPercentage": 35}),
                    json!({}),
                ),
                "cpu: 35%/60%",
            ),
            (
                autoscaler(
                    json!({"targetCPUUtilizationPercentage": 60}),
                    json!({"currentReplicas": 2}),
                    json!({}),
                ),
                "cpu: <unknown>/60%",
            ),
            (autoscaler(json!({}), json!({}), json!({})), "<none>"),
            (
                autoscaler(
                    json!({"targetCPUUtilizationPercentage": 60}),
                    json!({"currentCPUUtilizationPercentage": 35}),
                    json!({
                        METRIC_SPECS_ANNOTATION: r#"[{"type":"Pods","pods":{"metricName":"qps","targetAverageValue":"10"}}]"#,
                        METRIC_STATUSES_ANNOTATION: r#"[{"type":"Pods","pods":{"metricName":"qps","currentAverageValue":"7"}}]"#,
                    }),
                ),
                "7/10, cpu: <unknown>/60%",
            ),
            (
                autoscaler(
                    json!({}),
                    json!({}),
                    json!({
                        METRIC_SPECS_ANNOTATION: r#"[{"type":"External","external":{"metricName":"queue","targetAverageValue":"30"}},{"type":"Resource","resource":{"name":"memory","targetAverageValue":"100Mi"}},{"type":"Object","object":{"metricName":"hits","targetValue":"1k","target":{"kind":"Service","name":"s"}}}]"#,
                        METRIC_STATUSES_ANNOTATION: r#"[{"type":"External","external":{"metricName":"queue","currentValue":"0","currentAverageValue":"12"}}]"#,
                    }),
                ),
                "12/30 (avg), memory: <unknown>/100Mi + 1 more...",
            ),
        ];
        for (object, expected) in cases {
            let cells = print_horizontal_pod_autoscaler(&object, now());
            assert_eq!(cells[1], json!("Deployment/web"), "{object}");
            assert_eq!(cells[2], json!(expected), "{object}");
        }
    }

    #[test]
    fn pod_disruption_budget_rows() {
        let cases = [
            (
                json!({"metadata": {"name": "pdb1", "creationTimestamp": ago(-1)},
                    "spec": {"minAvailable": 22}, "status": {"disruptionsAllowed": 5}}),
                cells!["pdb1", "22", "N/A", 5, "0s"],
            ),
            (
                json!({"metadata": {"name": "pdb2", "creationTimestamp": ago(-1)},
                    "spec": {"maxUnavailable": "10%"}, "status": {"disruptionsAllowed": 5}}),
                cells!["pdb2", "N/A", "10%", 5, "0s"],
            ),
        ];
        for (budget, expected) in cases {
            assert_eq!(print_pod_disruption_budget(&budget, now()), expected);
        }
    }

    #[test]
    fn scale_row() {
        let scale = json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": "test-autoscaling", "creationTimestamp": ago(-1)},
            "spec": {"replicas": 2}, "status": {"replicas": 1}});
        assert_eq!(
            print_scale(&scale, now()),
            cells!["test-autoscaling", 2, 1, "0s"]
        );
    }
}
