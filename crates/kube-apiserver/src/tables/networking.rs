//! Printers of networking.k8s.io (ingresses, ingress classes, network policies, service
//! CIDRs, IP addresses) and discovery.k8s.io (endpoint slices).

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::core_group::load_balancer_addresses;
use super::descriptions as doc;
use super::duration::since;
use super::format::{
    field, format_label_selector, list, list_with_more, name, optional_string, string,
};
use super::{AGE, Column, NAME, Printer};

/// Returns the age of the object, measured from `metadata.creationTimestamp`.
fn age(object: &Value, now: Timestamp) -> String {
    since(field(object, &["metadata", "creationTimestamp"]), now)
}

/// Columns and row of `ingresses`.
pub(super) static INGRESS: Printer = Printer {
    columns: &[
        NAME,
        Column::new(
            "Class",
            "string",
            "The name of the IngressClass resource that should be used for additional configuration",
        ),
        Column::new(
            "Hosts",
            "string",
            "Hosts that incoming requests are matched against before the ingress rule",
        ),
        Column::new(
            "Address",
            "string",
            "Address is a list containing ingress points for the load-balancer",
        ),
        Column::new("Ports", "string", "Ports of TLS configurations that open"),
        AGE,
    ],
    print: print_ingress,
};

fn print_ingress(ingress: &Value, now: Timestamp) -> Vec<Value> {
    let class = optional_string(ingress, &["spec", "ingressClassName"]).unwrap_or("<none>");
    let address = field(ingress, &["status", "loadBalancer"])
        .map(load_balancer_addresses)
        .unwrap_or_default()
        .join(",");
    let ports = if list(ingress, &["spec", "tls"]).is_empty() {
        "80"
    } else {
        "80, 443"
    };
    cells![
        name(ingress),
        class,
        ingress_hosts(list(ingress, &["spec", "rules"])),
        address,
        ports,
        age(ingress, now),
    ]
}

/// Prints the hosts of the first three rules that name one, then ` + N more...` where N
/// counts the remaining rules. Without any host it prints `*`.
fn ingress_hosts(rules: &[Value]) -> String {
    const MAX: usize = 3;
    let mut hosts: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if hosts.len() == MAX {
            more = true;
        }
        let host = string(rule, &["host"]);
        if !more && !host.is_empty() {
            hosts.push(host);
        }
    }
    if hosts.is_empty() {
        return "*".to_string();
    }
    let joined = hosts.join(",");
    if more {
        return format!("{joined} + {} more...", rules.len().saturating_sub(MAX));
    }
    joined
}

/// Columns and row of `ingressclasses`.
pub(super) static INGRESS_CLASS: Printer = Printer {
    columns: &[
        NAME,
        Column::new(
            "Controller",
            "string",
            "Controller that is responsible for handling this class",
        ),
        Column::new(
            "Parameters",
            "string",
            "A reference to a resource with additional parameters",
        ),
        AGE,
    ],
    print: print_ingress_class,
};

/// Prints the parameters reference as `kind.apiGroup/name`, or `kind/name` without an API
/// group; `<none>` without parameters.
fn print_ingress_class(class: &Value, now: Timestamp) -> Vec<Value> {
    let parameters = match field(class, &["spec", "parameters"]).filter(|value| !value.is_null()) {
        None => "<none>".to_string(),
        Some(parameters) => {
            let mut reference = string(parameters, &["kind"]).to_string();
            if let Some(group) = optional_string(parameters, &["apiGroup"]) {
                reference.push('.');
                reference.push_str(group);
            }
            format!("{reference}/{}", string(parameters, &["name"]))
        }
    };
    cells![
        name(class),
        string(class, &["spec", "controller"]),
        parameters,
        age(class, now),
    ]
}

/// Columns and row of `networkpolicies`.
pub(super) static NETWORK_POLICY: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Pod-Selector", "string", doc::NETPOL_POD_SELECTOR),
        AGE,
    ],
    print: print_network_policy,
};

fn print_network_policy(policy: &Value, now: Timestamp) -> Vec<Value> {
    // The pod selector is not a pointer upstream: a missing one is the empty selector.
    let selector = field(policy, &["spec", "podSelector"])
        .filter(|value| !value.is_null())
        .cloned()
        .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
    cells![
        name(policy),
        format_label_selector(Some(&selector)),
        age(policy, now),
    ]
}

/// Columns and row of `servicecidrs`.
pub(super) static SERVICE_CIDR: Printer = Printer {
    columns: &[NAME, Column::new("CIDRs", "string", doc::SCIDR_CIDRS), AGE],
    print: print_service_cidr,
};

fn print_service_cidr(cidr: &Value, now: Timestamp) -> Vec<Value> {
    let cidrs: Vec<&str> = list(cidr, &["spec", "cidrs"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    cells![name(cidr), cidrs.join(","), age(cidr, now)]
}

/// Columns and row of `ipaddresses`. Upstream declares no `Age` column here but still
/// sends the age as a third cell; clients ignore cells beyond the columns.
pub(super) static IP_ADDRESS: Printer = Printer {
    columns: &[NAME, Column::new("ParentRef", "string", doc::IPADDR_PARENT)],
    print: print_ip_address,
};

/// Prints the parent reference as `resource.group/namespace/name` in lower case
/// (`resource/name` parts without a group or namespace); `<none>` without one.
fn print_ip_address(address: &Value, now: Timestamp) -> Vec<Value> {
    let parent = match field(address, &["spec", "parentRef"]).filter(|value| !value.is_null()) {
        None => "<none>".to_string(),
        Some(parent) => {
            let resource = string(parent, &["resource"]);
            let group = string(parent, &["group"]);
            let mut reference = if group.is_empty() {
                resource.to_lowercase()
            } else {
                format!("{resource}.{group}").to_lowercase()
            };
            let namespace = string(parent, &["namespace"]);
            if !namespace.is_empty() {
                reference.push('/');
                reference.push_str(namespace);
            }
            format!("{reference}/{}", string(parent, &["name"]))
        }
    };
    cells![name(address), parent, age(address, now)]
}

/// Columns and row of `endpointslices`.
pub(super) static ENDPOINT_SLICE: Printer = Printer {
    columns: &[
        NAME,
        Column::new("AddressType", "string", doc::SLICE_ADDRESS_TYPE),
        Column::new("Ports", "string", doc::SLICE_PORTS),
        Column::new("Endpoints", "string", doc::SLICE_ENDPOINTS),
        AGE,
    ],
    print: print_endpoint_slice,
};

fn print_endpoint_slice(slice: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(slice),
        string(slice, &["addressType"]),
        slice_ports(list(slice, &["ports"])),
        slice_endpoints(list(slice, &["endpoints"])),
        age(slice, now),
    ]
}

/// Prints the first three port numbers (the port name, or `*`, for a port without a
/// number), then ` + N more...`; `<unset>` without ports.
fn slice_ports(ports: &[Value]) -> String {
    const MAX: usize = 3;
    let mut shown = Vec::new();
    let mut more = false;
    for port in ports {
        if shown.len() < MAX {
            let number = field(port, &["port"]).and_then(Value::as_i64);
            let port_name = optional_string(port, &["name"]);
            shown.push(match (number, port_name) {
                (Some(number), _) => number.to_string(),
                (None, Some(port_name)) => port_name.to_string(),
                (None, None) => "*".to_string(),
            });
        } else if shown.len() == MAX {
            more = true;
        }
    }
    list_with_more(&shown, more, ports.len(), MAX)
}

/// Prints the first three addresses over all endpoints, then ` + N more...`; `<unset>`
/// without addresses.
fn slice_endpoints(endpoints: &[Value]) -> String {
    const MAX: usize = 3;
    let mut shown = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for endpoint in endpoints {
        for address in list(endpoint, &["addresses"]) {
            if shown.len() < MAX {
                shown.push(address.as_str().unwrap_or_default().to_string());
            } else if shown.len() == MAX {
                more = true;
            }
            count += 1;
        }
    }
    list_with_more(&shown, more, count, MAX)
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

    const TEN_YEARS: i64 = 10 * 365 * 86_400;

    #[test]
    fn ingress_rows() {
        let ingress = json!({
            "metadata": {"name": "test1", "creationTimestamp": ago(TEN_YEARS)},
            "spec": {"ingressClassName": "foo",
                "defaultBackend": {"service": {"name": "default-backend", "port": {"number": 80}}}},
            "status": {"loadBalancer": {"ingress": [
                {"ip": "2.3.4.5", "hostname": "localhost.localdomain"}]}},
        });
        assert_eq!(
            print_ingress(&ingress, now()),
            cells!["test1", "foo", "*", "2.3.4.5", "80", "10y"]
        );

        let with_rules = json!({
            "metadata": {"name": "web"},
            "spec": {"tls": [{"hosts": ["a.example.com"]}], "rules": [
                {"host": "a.example.com"}, {}, {"host": "b.example.com"},
                {"host": "c.example.com"}, {"host": "d.example.com"}, {"host": "e.example.com"}]},
        });
        assert_eq!(
            print_ingress(&with_rules, now()),
            cells![
                "web",
                "<none>",
                "a.example.com,b.example.com,c.example.com + 3 more...",
                "",
                "80, 443",
                "<unknown>"
            ]
        );
    }

    #[test]
    fn ingress_class_rows() {
        let class = |parameters: Value, seconds: i64| {
            json!({"metadata": {"name": "test1", "creationTimestamp": ago(seconds)},
                "spec": {"controller": "example.com/controller", "parameters": parameters}})
        };
        let cases = [
            (
                class(json!({"kind": "customgroup", "name": "example"}), TEN_YEARS),
                "customgroup/example",
                "10y",
            ),
            (
                class(
                    json!({"apiGroup": "example.com", "kind": "customgroup", "name": "example"}),
                    TEN_YEARS,
                ),
                "customgroup.example.com/example",
                "10y",
            ),
            (class(Value::Null, 11 * 365 * 86_400), "<none>", "11y"),
        ];
        for (object, parameters, age) in cases {
            assert_eq!(
                print_ingress_class(&object, now()),
                cells!["test1", "example.com/controller", parameters, age]
            );
        }
    }

    #[test]
    fn network_policy_rows() {
        let cases = [
            (
                json!({"metadata": {"name": "policy1"}, "spec": {}}),
                "<none>",
            ),
            (
                json!({"metadata": {"name": "policy1"}, "spec": {"podSelector": {}}}),
                "<none>",
            ),
            (
                json!({"metadata": {"name": "policy1"},
                    "spec": {"podSelector": {"matchLabels": {"foo": "bar"}}}}),
                "foo=bar",
            ),
        ];
        for (policy, selector) in cases {
            assert_eq!(
                print_network_policy(&policy, now()),
                cells!["policy1", selector, "<unknown>"]
            );
        }
    }

    #[test]
    fn service_cidr_rows() {
        let cidr = json!({"metadata": {"name": "test9"},
            "spec": {"cidrs": ["10.1.0.0/16", "fd00:1:1::/64"]}});
        assert_eq!(
            print_service_cidr(&cidr, now()),
            cells!["test9", "10.1.0.0/16,fd00:1:1::/64", "<unknown>"]
        );
    }

    #[test]
    fn ip_address_rows() {
        let address = json!({
            "metadata": {"name": "192.168.2.2", "creationTimestamp": ago(TEN_YEARS)},
            "spec": {"parentRef": {"group": "mygroup", "resource": "myresource",
                "namespace": "mynamespace", "name": "myname"}},
        });
        assert_eq!(
            print_ip_address(&address, now()),
            cells![
                "192.168.2.2",
                "myresource.mygroup/mynamespace/myname",
                "10y"
            ]
        );
        let service_ip = json!({"metadata": {"name": "10.96.0.1"},
            "spec": {"parentRef": {"resource": "services", "namespace": "default",
                "name": "kubernetes"}}});
        assert_eq!(
            print_ip_address(&service_ip, now())[1],
            json!("services/default/kubernetes")
        );
        let orphan = json!({"metadata": {"name": "10.96.0.2"}, "spec": {}});
        assert_eq!(print_ip_address(&orphan, now())[1], json!("<none>"));
    }

    #[test]
    fn endpoint_slice_rows() {
        let slice = |ports: Value, endpoints: Value| {
            json!({"metadata": {"name": "abcslice.123", "creationTimestamp": ago(300)},
                "addressType": "IPv4", "ports": ports, "endpoints": endpoints})
        };
        let cases = [
            (
                slice(
                    json!([{"name": "http", "port": 80, "protocol": "TCP"}]),
                    json!([{"addresses": ["10.1.2.3", "2001:db8::1234:5678"]}]),
                ),
                ("80", "10.1.2.3,2001:db8::1234:5678"),
            ),
            (
                slice(
                    json!([{"name": "http", "port": 80}, {"name": "https", "port": 443},
                        {"name": "extra1", "port": 3000}, {"name": "extra2", "port": 3001}]),
                    json!([{"addresses": ["10.1.2.3", "2001:db8::1234:5678"]},
                        {"addresses": ["10.2.3.4", "2001:db8::2345:6789"]}]),
                ),
                (
                    "80,443,3000 + 1 more...",
                    "10.1.2.3,2001:db8::1234:5678,10.2.3.4 + 1 more...",
                ),
            ),
            (
                slice(json!([{"name": "dns"}, {}]), Value::Null),
                ("dns,*", "<unset>"),
            ),
            (slice(Value::Null, json!([])), ("<unset>", "<unset>")),
        ];
        for (object, (ports, endpoints)) in cases {
            assert_eq!(
                print_endpoint_slice(&object, now()),
                cells!["abcslice.123", "IPv4", ports, endpoints, "5m"]
            );
        }
    }
}
