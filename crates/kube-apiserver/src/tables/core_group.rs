//! Printers of the core group ("" or `v1`) apart from pods and volumes: pod templates,
//! replication controllers, services, endpoints, nodes, events (also of events.k8s.io),
//! namespaces, secrets, service accounts, component statuses, config maps and resource
//! quotas.

use std::collections::BTreeSet;

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::descriptions as doc;
use super::duration::since;
use super::format::{
    container_cells, field, format_labels, integer, list, map_len, name, optional_string, quantity,
    string, string_map,
};
use super::{AGE, CONTAINERS, Column, IMAGES, NAME, Printer};

/// Returns the age of the object, measured from `metadata.creationTimestamp`.
fn age(object: &Value, now: Timestamp) -> String {
    since(field(object, &["metadata", "creationTimestamp"]), now)
}

/// Returns `text`, or `placeholder` when `text` is empty.
fn or_else(text: &str, placeholder: &str) -> String {
    if text.is_empty() {
        placeholder.to_string()
    } else {
        text.to_string()
    }
}

/// Columns and row of `podtemplates`.
pub(super) static POD_TEMPLATE: Printer = Printer {
    columns: &[
        NAME,
        Column::new(
            "Containers",
            "string",
            "Names of each container in the template.",
        ),
        Column::new(
            "Images",
            "string",
            "Images referenced by each container in the template.",
        ),
        Column::new("Pod Labels", "string", "The labels for the pod template."),
    ],
    print: print_pod_template,
};

fn print_pod_template(template: &Value, _now: Timestamp) -> Vec<Value> {
    let (names, images) = container_cells(list(template, &["template", "spec", "containers"]));
    let labels = string_map(template, &["template", "metadata", "labels"]);
    cells![name(template), names, images, format_labels(&labels)]
}

/// Columns and row of `replicationcontrollers`.
pub(super) static REPLICATION_CONTROLLER: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Desired", "integer", doc::RC_SPEC_REPLICAS),
        Column::new("Current", "integer", doc::RC_STATUS_REPLICAS),
        Column::new("Ready", "integer", doc::RC_STATUS_READY),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", doc::RC_SPEC_SELECTOR).wide(),
    ],
    print: print_replication_controller,
};

fn print_replication_controller(controller: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = container_cells(list(
        controller,
        &["spec", "template", "spec", "containers"],
    ));
    cells![
        name(controller),
        integer(controller, &["spec", "replicas"]),
        integer(controller, &["status", "replicas"]),
        integer(controller, &["status", "readyReplicas"]),
        age(controller, now),
        names,
        images,
        format_labels(&string_map(controller, &["spec", "selector"])),
    ]
}

/// Columns and row of `services`.
pub(super) static SERVICE: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Type", "string", doc::SVC_TYPE),
        Column::new("Cluster-IP", "string", doc::SVC_CLUSTER_IP),
        Column::new("External-IP", "string", doc::SVC_EXTERNAL_IPS),
        Column::new("Port(s)", "string", doc::SVC_PORTS),
        AGE,
        Column::new("Selector", "string", doc::SVC_SELECTOR).wide(),
    ],
    print: print_service,
};

fn print_service(service: &Value, now: Timestamp) -> Vec<Value> {
    let cluster_ip = list(service, &["spec", "clusterIPs"])
        .first()
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    let ports = or_else(&service_ports(service), "<none>");
    cells![
        name(service),
        string(service, &["spec", "type"]),
        cluster_ip,
        service_external_ip(service),
        ports,
        age(service, now),
        format_labels(&string_map(service, &["spec", "selector"])),
    ]
}

/// Prints the ports as `port/protocol`, or `port:nodePort/protocol` when a node port is
/// allocated, joined by ",".
fn service_ports(service: &Value) -> String {
    let ports: Vec<String> = list(service, &["spec", "ports"])
        .iter()
        .map(|port| {
            let number = integer(port, &["port"]);
            let protocol = string(port, &["protocol"]);
            match integer(port, &["nodePort"]) {
                node_port if node_port > 0 => format!("{number}:{node_port}/{protocol}"),
                _ => format!("{number}/{protocol}"),
            }
        })
        .collect();
    ports.join(",")
}

/// Returns the addresses of a load balancer status: the IP of each ingress point, or its
/// hostname when it has no IP, sorted and without duplicates. Upstream clips the list to
/// 16 characters unless the output is wide; the server always prints wide.
pub(super) fn load_balancer_addresses(status: &Value) -> Vec<String> {
    let addresses: BTreeSet<String> = list(status, &["ingress"])
        .iter()
        .filter_map(|ingress| {
            let ip = string(ingress, &["ip"]);
            let hostname = string(ingress, &["hostname"]);
            if !ip.is_empty() {
                Some(ip.to_string())
            } else if !hostname.is_empty() {
                Some(hostname.to_string())
            } else {
                None
            }
        })
        .collect();
    addresses.into_iter().collect()
}

/// Prints the EXTERNAL-IP cell: the external IPs for ClusterIP and NodePort services
/// (`<none>` without any), the load balancer addresses and external IPs for LoadBalancer
/// services (`<pending>` without any), and the external name for ExternalName services.
fn service_external_ip(service: &Value) -> String {
    let external_ips: Vec<&str> = list(service, &["spec", "externalIPs"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match string(service, &["spec", "type"]) {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_string()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let mut addresses = field(service, &["status", "loadBalancer"])
                .map(load_balancer_addresses)
                .unwrap_or_default();
            addresses.extend(external_ips.iter().map(|ip| ip.to_string()));
            if addresses.is_empty() {
                "<pending>".to_string()
            } else {
                addresses.join(",")
            }
        }
        "ExternalName" => string(service, &["spec", "externalName"]).to_string(),
        _ => "<unknown>".to_string(),
    }
}

/// Columns and row of `endpoints`.
pub(super) static ENDPOINTS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Endpoints", "string", doc::ENDPOINTS_SUBSETS),
        AGE,
    ],
    print: print_endpoints,
};

fn print_endpoints(endpoints: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(endpoints),
        format_endpoints(endpoints),
        age(endpoints, now)
    ]
}

/// Joins an IP and a port as Go's `net.JoinHostPort` does: IPv6 addresses in brackets.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Prints the first three `ip:port` endpoints of all subsets (plain IPs for subsets without
/// ports), then ` + N more...`; `<none>` without subsets.
fn format_endpoints(endpoints: &Value) -> String {
    const MAX: usize = 3;
    let subsets = list(endpoints, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }

    let mut shown: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for subset in subsets {
        let addresses = list(subset, &["addresses"]);
        let ports = list(subset, &["ports"]);
        if ports.is_empty() {
            // A headless service may have endpoints without ports.
            count += addresses.len();
            for address in addresses {
                if shown.len() == MAX {
                    more = true;
                    break;
                }
                shown.push(string(address, &["ip"]).to_string());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for address in addresses {
                if shown.len() == MAX {
                    more = true;
                    break;
                }
                shown.push(join_host_port(
                    string(address, &["ip"]),
                    integer(port, &["port"]),
                ));
            }
        }
    }

    let joined = shown.join(",");
    if more {
        return format!("{joined} + {} more...", count.saturating_sub(MAX));
    }
    joined
}

/// Columns and row of `nodes`.
pub(super) static NODE: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Status", "string", "The status of the node"),
        Column::new("Roles", "string", "The roles of the node"),
        AGE,
        Column::new("Version", "string", doc::NODE_KUBELET_VERSION),
        Column::new("Internal-IP", "string", doc::NODE_ADDRESSES).wide(),
        Column::new("External-IP", "string", doc::NODE_ADDRESSES).wide(),
        Column::new("OS-Image", "string", doc::NODE_OS_IMAGE).wide(),
        Column::new("Kernel-Version", "string", doc::NODE_KERNEL_VERSION).wide(),
        Column::new("Container-Runtime", "string", doc::NODE_CONTAINER_RUNTIME).wide(),
    ],
    print: print_node,
};

/// The label prefix that marks a node role: `node-role.kubernetes.io/<role>`.
const NODE_ROLE_LABEL_PREFIX: &str = "node-role.kubernetes.io/";

/// The older label that names a node's role in its value.
const NODE_ROLE_LABEL: &str = "kubernetes.io/role";

fn print_node(node: &Value, now: Timestamp) -> Vec<Value> {
    let info = |key: &str| or_else(string(node, &["status", "nodeInfo", key]), "<unknown>");
    cells![
        name(node),
        node_status(node),
        or_else(&node_roles(node).join(","), "<none>"),
        age(node, now),
        string(node, &["status", "nodeInfo", "kubeletVersion"]),
        node_address(node, "InternalIP"),
        node_address(node, "ExternalIP"),
        info("osImage"),
        info("kernelVersion"),
        info("containerRuntimeVersion"),
    ]
}

/// Prints `Ready` or `NotReady` from the node's Ready condition (the last one when it
/// repeats), `Unknown` without one, and appends `SchedulingDisabled` for a cordoned node.
fn node_status(node: &Value) -> String {
    let ready = list(node, &["status", "conditions"])
        .iter()
        .rev()
        .find(|condition| string(condition, &["type"]) == "Ready");
    let mut status = match ready {
        Some(condition) if string(condition, &["status"]) == "True" => "Ready".to_string(),
        Some(_) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    };
    if super::format::boolean(node, &["spec", "unschedulable"]) {
        status.push_str(",SchedulingDisabled");
    }
    status
}

/// Returns the node's roles, sorted: the suffix of each `node-role.kubernetes.io/<role>`
/// label and the value of a `kubernetes.io/role` label.
fn node_roles(node: &Value) -> Vec<String> {
    let mut roles = BTreeSet::new();
    for (key, value) in string_map(node, &["metadata", "labels"]) {
        if let Some(role) = key.strip_prefix(NODE_ROLE_LABEL_PREFIX) {
            if !role.is_empty() {
                roles.insert(role.to_string());
            }
        } else if key == NODE_ROLE_LABEL && !value.is_empty() {
            roles.insert(value);
        }
    }
    roles.into_iter().collect()
}

/// Returns the first address of `address_type`, or `<none>`.
fn node_address(node: &Value, address_type: &str) -> String {
    list(node, &["status", "addresses"])
        .iter()
        .find(|address| string(address, &["type"]) == address_type)
        .map_or_else(
            || "<none>".to_string(),
            |address| string(address, &["address"]).to_string(),
        )
}

/// Columns and row of `events` in the core group and in events.k8s.io.
pub(super) static EVENT: Printer = Printer {
    columns: &[
        Column::new("Last Seen", "string", doc::EVENT_LAST_TIMESTAMP),
        Column::new("Type", "string", doc::EVENT_TYPE),
        Column::new("Reason", "string", doc::EVENT_REASON),
        Column::new("Object", "string", doc::EVENT_INVOLVED_OBJECT),
        Column::new("Subobject", "string", doc::OBJECT_REFERENCE_FIELD_PATH).wide(),
        Column::new("Source", "string", doc::EVENT_SOURCE).wide(),
        Column::new("Message", "string", doc::EVENT_MESSAGE),
        Column::new("First Seen", "string", doc::EVENT_FIRST_TIMESTAMP).wide(),
        Column::new("Count", "string", doc::EVENT_COUNT).wide(),
        NAME.wide(),
    ],
    print: print_event,
};

/// The field names of an event in its API version: events.k8s.io/v1 renamed the core
/// fields (`regarding` for `involvedObject`, `note` for `message`, ...).
struct EventFields {
    involved_object: &'static str,
    message: &'static str,
    source: &'static str,
    first_timestamp: &'static str,
    last_timestamp: &'static str,
    count: &'static str,
    reporting_controller: &'static str,
}

const CORE_EVENT_FIELDS: EventFields = EventFields {
    involved_object: "involvedObject",
    message: "message",
    source: "source",
    first_timestamp: "firstTimestamp",
    last_timestamp: "lastTimestamp",
    count: "count",
    reporting_controller: "reportingComponent",
};

const EVENTS_API_FIELDS: EventFields = EventFields {
    involved_object: "regarding",
    message: "note",
    source: "deprecatedSource",
    first_timestamp: "deprecatedFirstTimestamp",
    last_timestamp: "deprecatedLastTimestamp",
    count: "deprecatedCount",
    reporting_controller: "reportingController",
};

/// Picks the field names by `apiVersion`, or by the presence of `regarding` or `note` when
/// the object carries no `apiVersion`.
fn event_fields(event: &Value) -> &'static EventFields {
    let events_api = match optional_string(event, &["apiVersion"]) {
        Some(api_version) => api_version.starts_with("events.k8s.io/"),
        None => event.get("regarding").is_some() || event.get("note").is_some(),
    };
    if events_api {
        &EVENTS_API_FIELDS
    } else {
        &CORE_EVENT_FIELDS
    }
}

fn print_event(event: &Value, now: Timestamp) -> Vec<Value> {
    let fields = event_fields(event);

    let first_timestamp_field = field(event, &[fields.first_timestamp]);
    let first_seen = if super::duration::timestamp_field(first_timestamp_field).is_some() {
        since(first_timestamp_field, now)
    } else {
        since(field(event, &["eventTime"]), now)
    };

    let last_timestamp_field = field(event, &[fields.last_timestamp]);
    let mut last_seen = if super::duration::timestamp_field(last_timestamp_field).is_some() {
        since(last_timestamp_field, now)
    } else {
        first_seen.clone()
    };

    let mut count = integer(event, &[fields.count]);
    let series = field(event, &["series"]).filter(|series| !series.is_null());
    if let Some(series) = series {
        last_seen = since(field(series, &["lastObservedTime"]), now);
        count = integer(series, &["count"]);
    } else if count == 0 {
        // Singleton events of the events.k8s.io API have no count.
        count = 1;
    }

    let involved = field(event, &[fields.involved_object]).unwrap_or(&Value::Null);
    let kind = string(involved, &["kind"]).to_lowercase();
    let involved_name = string(involved, &["name"]);
    let target = if involved_name.is_empty() {
        kind
    } else {
        format!("{kind}/{involved_name}")
    };

    cells![
        last_seen,
        string(event, &["type"]),
        string(event, &["reason"]),
        target,
        string(involved, &["fieldPath"]),
        event_source(event, fields),
        string(event, &[fields.message]).trim(),
        first_seen,
        count,
        name(event),
    ]
}

/// Prints the event's source as `component, host`, leaving out an empty host. The
/// reporting controller replaces an empty component and the reporting instance an empty
/// host.
fn event_source(event: &Value, fields: &EventFields) -> String {
    let first_non_empty = |preferred: &str, fallback: &str| -> String {
        if preferred.is_empty() {
            fallback.to_string()
        } else {
            preferred.to_string()
        }
    };
    let component = first_non_empty(
        string(event, &[fields.source, "component"]),
        string(event, &[fields.reporting_controller]),
    );
    let instance = first_non_empty(
        string(event, &[fields.source, "host"]),
        string(event, &["reportingInstance"]),
    );
    if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    }
}

/// Columns and row of `namespaces`.
pub(super) static NAMESPACE: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Status", "string", "The status of the namespace"),
        AGE,
    ],
    print: print_namespace,
};

fn print_namespace(namespace: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(namespace),
        string(namespace, &["status", "phase"]),
        age(namespace, now),
    ]
}

/// Columns and row of `secrets`.
pub(super) static SECRET: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Type", "string", doc::SECRET_TYPE),
        Column::new("Data", "string", doc::SECRET_DATA),
        AGE,
    ],
    print: print_secret,
};

fn print_secret(secret: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(secret),
        string(secret, &["type"]),
        map_len(secret, &["data"]),
        age(secret, now),
    ]
}

/// Columns and row of `serviceaccounts`.
pub(super) static SERVICE_ACCOUNT: Printer = Printer {
    columns: &[NAME, Column::new("Secrets", "string", doc::SA_SECRETS), AGE],
    print: print_service_account,
};

fn print_service_account(account: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(account),
        list(account, &["secrets"]).len(),
        age(account, now),
    ]
}

/// Columns and row of `componentstatuses`.
pub(super) static COMPONENT_STATUS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Status", "string", "Status of the component conditions"),
        Column::new("Message", "string", "Message of the component conditions"),
        Column::new("Error", "string", "Error of the component conditions"),
    ],
    print: print_component_status,
};

fn print_component_status(component: &Value, _now: Timestamp) -> Vec<Value> {
    let healthy = list(component, &["conditions"])
        .iter()
        .find(|condition| string(condition, &["type"]) == "Healthy");
    let (status, message, error) = match healthy {
        Some(condition) => {
            let status = if string(condition, &["status"]) == "True" {
                "Healthy"
            } else {
                "Unhealthy"
            };
            (
                status,
                string(condition, &["message"]),
                string(condition, &["error"]),
            )
        }
        None => ("Unknown", "", ""),
    };
    cells![name(component), status, message, error]
}

/// Columns and row of `configmaps`.
pub(super) static CONFIG_MAP: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Data", "string", doc::CONFIGMAP_DATA),
        AGE,
    ],
    print: print_config_map,
};

fn print_config_map(config_map: &Value, now: Timestamp) -> Vec<Value> {
    let entries = map_len(config_map, &["data"]) + map_len(config_map, &["binaryData"]);
    cells![name(config_map), entries, age(config_map, now)]
}

/// Columns and row of `resourcequotas`.
pub(super) static RESOURCE_QUOTA: Printer = Printer {
    columns: &[
        NAME,
        Column::new(
            "Request",
            "string",
            "Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        Column::new(
            "Limit",
            "string",
            "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
        ),
        AGE,
    ],
    print: print_resource_quota,
};

/// Prints `resource: used/hard` for each hard limit, sorted by resource name: `limits.*`
/// resources in the Limit cell, the others in the Request cell.
fn print_resource_quota(quota: &Value, now: Timestamp) -> Vec<Value> {
    let hard = field(quota, &["status", "hard"])
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut resources: Vec<&String> = hard.keys().collect();
    resources.sort();

    let mut requests = Vec::new();
    let mut limits = Vec::new();
    for resource in resources {
        let used = quantity(field(quota, &["status", "used", resource]));
        let limit = quantity(hard.get(resource));
        let entry = format!("{resource}: {used}/{limit}");
        let is_limit = resource
            .split_once('.')
            .is_some_and(|(prefix, _)| prefix == "limits");
        if is_limit {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    cells![
        name(quota),
        requests.join(", "),
        limits.join(", "),
        age(quota, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2024-05-10T12:00:00Z".parse().expect("valid timestamp")
    }

    /// Returns the RFC 3339 time `seconds` before [`now`].
    fn ago(seconds: i64) -> String {
        Timestamp::from_second(now().as_second() - seconds)
            .expect("time in range")
            .to_string()
    }

    #[test]
    fn pod_template_rows() {
        let cases = [
            (
                json!({"metadata": {"name": "pod-template-1"},
                    "template": {"spec": {"containers": []}}}),
                cells!["pod-template-1", "", "", "<none>"],
            ),
            (
                json!({"metadata": {"name": "pod-template-2"},
                "template": {"spec": {"containers": [
                    {"name": "fake-container1", "image": "fake-image1"},
                    {"name": "fake-container2", "image": "fake-image2"},
                ]}}}),
                cells![
                    "pod-template-2",
                    "fake-container1,fake-container2",
                    "fake-image1,fake-image2",
                    "<none>"
                ],
            ),
            (
                json!({"metadata": {"name": "pod-template-3"},
                    "template": {"metadata": {"labels": {"foo": "bar"}}, "spec": {"containers": []}}}),
                cells!["pod-template-3", "", "", "foo=bar"],
            ),
        ];
        for (template, expected) in cases {
            assert_eq!(print_pod_template(&template, now()), expected);
        }
    }

    #[test]
    fn replication_controller_rows() {
        let controller = json!({
            "metadata": {"name": "rc1"},
            "spec": {"replicas": 5, "selector": {"a": "b"},
                "template": {"spec": {"containers": [{"name": "test", "image": "test_image"}]}}},
            "status": {"replicas": 3, "readyReplicas": 1},
        });
        assert_eq!(
            print_replication_controller(&controller, now()),
            cells!["rc1", 5, 3, 1, "<unknown>", "test", "test_image", "a=b"]
        );
        let empty = json!({"spec": {"replicas": 0}});
        assert_eq!(
            print_replication_controller(&empty, now()),
            cells!["", 0, 0, 0, "<unknown>", "", "", "<none>"]
        );
    }

    #[test]
    fn service_rows() {
        let service = |spec: Value, status: Value| json!({"metadata": {"name": "svc"}, "spec": spec, "status": status});
        let cases = [
            (
                service(
                    json!({"type": "ClusterIP", "clusterIPs": ["10.9.8.7"],
                        "ports": [{"protocol": "TCP", "port": 80}], "selector": {"foo": "bar"}}),
                    json!({}),
                ),
                cells![
                    "svc",
                    "ClusterIP",
                    "10.9.8.7",
                    "<none>",
                    "80/TCP",
                    "<unknown>",
                    "foo=bar"
                ],
            ),
            (
                service(
                    json!({"type": "NodePort", "clusterIPs": ["10.9.8.7"],
                        "ports": [{"protocol": "TCP", "port": 80, "nodePort": 30080}]}),
                    json!({}),
                ),
                cells![
                    "svc",
                    "NodePort",
                    "10.9.8.7",
                    "<none>",
                    "80:30080/TCP",
                    "<unknown>",
                    "<none>"
                ],
            ),
            (
                service(
                    json!({"type": "LoadBalancer", "clusterIPs": ["1.3.4.5"], "ports": [
                        {"port": 80, "protocol": "TCP"}, {"port": 8090, "protocol": "UDP"},
                        {"port": 8000, "protocol": "TCP"}, {"port": 7777, "protocol": "SCTP"}]}),
                    json!({}),
                ),
                cells![
                    "svc",
                    "LoadBalancer",
                    "1.3.4.5",
                    "<pending>",
                    "80/TCP,8090/UDP,8000/TCP,7777/SCTP",
                    "<unknown>",
                    "<none>"
                ],
            ),
            (
                service(
                    json!({"type": "LoadBalancer", "clusterIPs": ["1.5.6.7"],
                        "ports": [{"port": 80, "protocol": "TCP"}]}),
                    json!({"loadBalancer": {"ingress": [
                        {"ip": "3.4.5.6"}, {"ip": "2.3.4.5"}, {"ip": "5.6.7.8", "hostname": "host5678"},
                        {"hostname": "lb.example.com"}]}}),
                ),
                cells![
                    "svc",
                    "LoadBalancer",
                    "1.5.6.7",
                    "2.3.4.5,3.4.5.6,5.6.7.8,lb.example.com",
                    "80/TCP",
                    "<unknown>",
                    "<none>"
                ],
            ),
            (
                service(
                    json!({"type": "LoadBalancer", "clusterIPs": ["10.9.8.7"],
                        "externalIPs": ["80.11.12.10", "80.11.12.11"],
                        "ports": [{"port": 8888, "protocol": "tcp"}]}),
                    json!({"loadBalancer": {"ingress": [
                        {"ip": "2.3.4.5", "hostname": "test.cluster.local"},
                        {"ip": "3.4.5.6", "hostname": "test.cluster.com"}]}}),
                ),
                cells![
                    "svc",
                    "LoadBalancer",
                    "10.9.8.7",
                    "2.3.4.5,3.4.5.6,80.11.12.10,80.11.12.11",
                    "8888/tcp",
                    "<unknown>",
                    "<none>"
                ],
            ),
            (
                service(
                    json!({"type": "ExternalName", "externalName": "my.database.example.com"}),
                    json!({}),
                ),
                cells![
                    "svc",
                    "ExternalName",
                    "<none>",
                    "my.database.example.com",
                    "<none>",
                    "<unknown>",
                    "<none>"
                ],
            ),
            (
                service(json!({"clusterIPs": ["10.0.0.1"]}), json!({})),
                cells![
                    "svc",
                    "",
                    "10.0.0.1",
                    "<unknown>",
                    "<none>",
                    "<unknown>",
                    "<none>"
                ],
            ),
        ];
        for (service, expected) in cases {
            assert_eq!(print_service(&service, now()), expected, "{service}");
        }
    }

    #[test]
    fn endpoints_rows() {
        let endpoints = |subsets: Value| json!({"metadata": {"name": "ep", "creationTimestamp": ago(300)}, "subsets": subsets});
        let cases = [
            (endpoints(Value::Null), "<none>"),
            (
                endpoints(json!([{"addresses": [{"ip": "1.2.3.4"}, {"ip": "5.6.7.8"}]}])),
                "1.2.3.4,5.6.7.8",
            ),
            (
                endpoints(json!([{"addresses": [{"ip": "1.2.3.4"}, {"ip": "5.6.7.8"}],
                    "ports": [{"port": 8001, "protocol": "TCP"}]}])),
                "1.2.3.4:8001,5.6.7.8:8001",
            ),
            (
                endpoints(json!([{"addresses": [
                        {"ip": "1.2.3.4"}, {"ip": "5.6.7.8"}, {"ip": "9.8.7.6"}, {"ip": "6.6.6.6"}],
                    "ports": [{"port": 8001, "protocol": "TCP"}]}])),
                "1.2.3.4:8001,5.6.7.8:8001,9.8.7.6:8001 + 1 more...",
            ),
            (
                endpoints(json!([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 53}]}])),
                "[fd00::1]:53",
            ),
        ];
        for (object, expected) in cases {
            assert_eq!(
                print_endpoints(&object, now()),
                cells!["ep", expected, "5m"]
            );
        }
    }

    #[test]
    fn node_rows() {
        let node = |labels: Value, spec: Value, conditions: Value| {
            json!({"metadata": {"name": "n", "labels": labels}, "spec": spec,
                "status": {"conditions": conditions}})
        };
        let cases = [
            (
                node(
                    json!({}),
                    json!({}),
                    json!([{"type": "Ready", "status": "True"}]),
                ),
                "Ready",
                "<none>",
            ),
            (
                node(
                    json!({}),
                    json!({"unschedulable": true}),
                    json!([{"type": "Ready", "status": "True"}]),
                ),
                "Ready,SchedulingDisabled",
                "<none>",
            ),
            (
                node(
                    json!({}),
                    json!({}),
                    json!([{"type": "Ready", "status": "False"}]),
                ),
                "NotReady",
                "<none>",
            ),
            (
                node(
                    json!({}),
                    json!({"unschedulable": true}),
                    json!([{"type": "Ready", "status": "Unknown"}]),
                ),
                "NotReady,SchedulingDisabled",
                "<none>",
            ),
            (
                node(
                    json!({}),
                    json!({}),
                    json!([{"type": "InvalidValue", "status": "True"}]),
                ),
                "Unknown",
                "<none>",
            ),
            (
                node(json!({}), json!({"unschedulable": true}), json!([{}])),
                "Unknown,SchedulingDisabled",
                "<none>",
            ),
            (
                node(
                    json!({"node-role.kubernetes.io/master": "",
                        "node-role.kubernetes.io/control-plane": "",
                        "node-role.kubernetes.io/proxy": "", "kubernetes.io/role": "node"}),
                    json!({}),
                    json!([]),
                ),
                "Unknown",
                "control-plane,master,node,proxy",
            ),
            (
                node(
                    json!({"kubernetes.io/role": "node", "node-role.kubernetes.io/": ""}),
                    json!({}),
                    json!([]),
                ),
                "Unknown",
                "node",
            ),
        ];
        for (object, status, roles) in cases {
            let cells = print_node(&object, now());
            assert_eq!(cells[1], json!(status), "{object}");
            assert_eq!(cells[2], json!(roles), "{object}");
        }
    }

    #[test]
    fn node_wide_cells() {
        let node = json!({
            "metadata": {"name": "foo3", "creationTimestamp": ago(10 * 86_400)},
            "status": {
                "addresses": [
                    {"type": "ExternalIP", "address": "2.2.2.2"},
                    {"type": "InternalIP", "address": "3.3.3.3"},
                    {"type": "ExternalIP", "address": "4.4.4.4"},
                ],
                "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "fake-os-image"},
            },
        });
        assert_eq!(
            print_node(&node, now()),
            cells![
                "foo3",
                "Unknown",
                "<none>",
                "10d",
                "v1.33.1",
                "3.3.3.3",
                "2.2.2.2",
                "fake-os-image",
                "<unknown>",
                "<unknown>"
            ]
        );
    }

    #[test]
    fn core_event_rows() {
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "event2"},
            "source": {"component": "kubelet", "host": "Node1"},
            "involvedObject": {"kind": "Deployment", "name": "Deployment Name",
                "fieldPath": "spec.containers{foo}"},
            "reason": "Event Reason",
            "message": "Message Data\n",
            "firstTimestamp": ago(3 * 86_400),
            "lastTimestamp": ago(2 * 86_400),
            "count": 6,
            "type": "Warning",
        });
        assert_eq!(
            print_event(&event, now()),
            cells![
                "2d",
                "Warning",
                "Event Reason",
                "deployment/Deployment Name",
                "spec.containers{foo}",
                "kubelet, Node1",
                "Message Data",
                "3d",
                6,
                "event2"
            ]
        );
    }

    #[test]
    fn event_time_fallbacks() {
        let base = json!({
            "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod", "name": "p"},
            "type": "Normal",
            "reportingComponent": "kubelet",
            "reportingInstance": "test",
        });
        let with = |extra: Value| {
            let mut event = base.clone();
            if let (Some(event), Some(extra)) = (event.as_object_mut(), extra.as_object()) {
                event.extend(extra.clone());
            }
            event
        };
        let cases = [
            // No first timestamp: the event time replaces it.
            (
                with(
                    json!({"eventTime": ago(3 * 86_400), "lastTimestamp": ago(3 * 86_400),
                    "count": 1}),
                ),
                ("3d", "3d", 1),
            ),
            // No last timestamp: the first seen time replaces it.
            (
                with(
                    json!({"eventTime": ago(3 * 86_400), "firstTimestamp": ago(3 * 86_400),
                    "count": 1}),
                ),
                ("3d", "3d", 1),
            ),
            // A series overrides last seen and count.
            (
                with(json!({"eventTime": ago(3 * 86_400),
                    "series": {"count": 2, "lastObservedTime": ago(2 * 86_400)}})),
                ("2d", "3d", 2),
            ),
            // A singleton without count counts once.
            (with(json!({"eventTime": ago(3 * 86_400)})), ("3d", "3d", 1)),
            // Nothing set at all.
            (with(json!({})), ("<unknown>", "<unknown>", 1)),
        ];
        for (event, (last, first, count)) in cases {
            let cells = print_event(&event, now());
            assert_eq!(cells[0], json!(last), "{event}");
            assert_eq!(cells[7], json!(first), "{event}");
            assert_eq!(cells[8], json!(count), "{event}");
            assert_eq!(cells[5], json!("kubelet, test"), "{event}");
            assert_eq!(cells[3], json!("pod/p"), "{event}");
        }
    }

    #[test]
    fn events_api_rows() {
        let event = json!({
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": "web.17c"},
            "eventTime": ago(300),
            "reportingController": "default-scheduler",
            "reportingInstance": "default-scheduler-node1",
            "action": "Binding",
            "reason": "Scheduled",
            "regarding": {"kind": "Pod", "name": "web", "namespace": "default"},
            "note": "Successfully assigned default/web to node1",
            "type": "Normal",
        });
        assert_eq!(
            print_event(&event, now()),
            cells![
                "5m",
                "Normal",
                "Scheduled",
                "pod/web",
                "",
                "default-scheduler, default-scheduler-node1",
                "Successfully assigned default/web to node1",
                "5m",
                1,
                "web.17c"
            ]
        );

        let without_api_version = json!({"regarding": {"kind": "Node"}, "note": "hello",
            "deprecatedCount": 4, "deprecatedSource": {"component": "kubelet"}});
        let cells = print_event(&without_api_version, now());
        assert_eq!(cells[3], json!("node"));
        assert_eq!(cells[5], json!("kubelet"));
        assert_eq!(cells[6], json!("hello"));
        assert_eq!(cells[8], json!(4));
    }

    #[test]
    fn simple_core_rows() {
        let created = ago(90);
        assert_eq!(
            print_namespace(
                &json!({"metadata": {"name": "ns1", "creationTimestamp": created},
                    "status": {"phase": "Active"}}),
                now()
            ),
            cells!["ns1", "Active", "90s"]
        );
        assert_eq!(
            print_namespace(&json!({"metadata": {"name": "ns2"}}), now()),
            cells!["ns2", "", "<unknown>"]
        );
        assert_eq!(
            print_secret(
                &json!({"metadata": {"name": "s"}, "type": "kubernetes.io/service-account-token",
                    "data": {"token": "c2VjcmV0"}}),
                now()
            ),
            cells!["s", "kubernetes.io/service-account-token", 1, "<unknown>"]
        );
        assert_eq!(
            print_service_account(
                &json!({"metadata": {"name": "sa1"}, "secrets": [{"name": "a"}, {"name": "b"}]}),
                now()
            ),
            cells!["sa1", 2, "<unknown>"]
        );
        assert_eq!(
            print_config_map(
                &json!({"metadata": {"name": "cm"}, "data": {"foo": "bar"},
                    "binaryData": {"bin": "YmluYXJ5"}}),
                now()
            ),
            cells!["cm", 2, "<unknown>"]
        );
    }

    #[test]
    fn component_status_rows() {
        let cases = [
            (
                json!({"metadata": {"name": "cs1"}, "conditions": []}),
                cells!["cs1", "Unknown", "", ""],
            ),
            (
                json!({"metadata": {"name": "cs2"}, "conditions": [{"type": "Healthy",
                    "status": "True", "message": "test message", "error": "test error"}]}),
                cells!["cs2", "Healthy", "test message", "test error"],
            ),
            (
                json!({"metadata": {"name": "cs3"}, "conditions": [{"type": "Healthy",
                    "status": "False", "message": "test message", "error": "test error"}]}),
                cells!["cs3", "Unhealthy", "test message", "test error"],
            ),
        ];
        for (status, expected) in cases {
            assert_eq!(print_component_status(&status, now()), expected);
        }
    }

    #[test]
    fn resource_quota_row() {
        let quota = json!({
            "metadata": {"name": "test-resourcequota", "creationTimestamp": ago(300)},
            "status": {
                "used": {"cpu": "1", "memory": "1Gi", "pods": "1", "services": "1",
                    "replicationcontrollers": "1", "resourcequotas": "1",
                    "limits.cpu": "2", "limits.memory": "2Gi"},
                "hard": {"cpu": "100", "memory": "4Gi", "pods": "10", "services": "10",
                    "replicationcontrollers": "10", "resourcequotas": "1",
                    "limits.cpu": "200", "limits.memory": "8Gi", "requests.storage": "1Ti"},
            },
        });
        assert_eq!(
            print_resource_quota(&quota, now()),
            cells![
                "test-resourcequota",
                "cpu: 1/100, memory: 1Gi/4Gi, pods: 1/10, replicationcontrollers: 1/10, requests.storage: 0/1Ti, resourcequotas: 1/1, services: 1/10",
                "limits.cpu: 2/200, limits.memory: 2Gi/8Gi",
                "5m"
            ]
        );
    }
}
