use k8s_openapi::api::core::v1::{Pod, Service};
use serde_json::json;

use super::*;

pub(crate) fn service(spec: serde_json::Value) -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "svc-uid"},
        "spec": spec,
    }))
    .expect("valid service")
}

pub(crate) fn pod(name: &str, ip: &str, ready: bool, extra: serde_json::Value) -> Pod {
    let mut value = json!({
        "metadata": {"name": name, "namespace": "default", "uid": format!("{name}-uid"),
                     "labels": {"app": "web"}},
        "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "i",
                 "ports": [{"name": "http", "containerPort": 8080}]}]},
        "status": {"phase": "Running", "podIP": ip,
                   "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]},
    });
    merge(&mut value, extra);
    serde_json::from_value(value).expect("valid pod")
}

fn merge(base: &mut serde_json::Value, extra: serde_json::Value) {
    match (base, extra) {
        (serde_json::Value::Object(base), serde_json::Value::Object(extra)) => {
            for (key, value) in extra {
                merge(base.entry(key).or_insert(serde_json::Value::Null), value);
            }
        }
        (base, extra) => *base = extra,
    }
}

fn ips(list: &Option<Vec<EndpointAddress>>) -> Vec<&str> {
    list.iter().flatten().map(|a| a.ip.as_str()).collect()
}

#[test]
fn ready_and_not_ready_pods_by_named_port() {
    let svc = service(json!({"selector": {"app": "web"}, "clusterIP": "10.0.0.1",
        "ports": [{"name": "web", "port": 80, "targetPort": "http"}]}));
    let pods = [
        pod("a", "10.1.0.2", true, json!({})),
        pod("b", "10.1.0.1", false, json!({})),
        pod(
            "other",
            "10.1.0.3",
            true,
            json!({"metadata": {"labels": {"app": "db"}}}),
        ),
        pod("no-ip", "", true, json!({})),
    ];
    let desired = desired_subsets(&svc, &pods);
    assert!(!desired.truncated);
    assert_eq!(desired.subsets.len(), 1);
    let subset = &desired.subsets[0];
    assert_eq!(ips(&subset.addresses), ["10.1.0.2"]);
    assert_eq!(ips(&subset.not_ready_addresses), ["10.1.0.1"]);
    let ports = subset.ports.as_ref().expect("ports");
    assert_eq!(ports[0].port, 8080);
    assert_eq!(ports[0].name.as_deref(), Some("web"));
    let address = &subset.addresses.as_ref().expect("addresses")[0];
    assert_eq!(address.node_name.as_deref(), Some("node-1"));
    assert_eq!(
        address.target_ref.as_ref().and_then(|r| r.name.as_deref()),
        Some("a")
    );
}

#[test]
fn exclusion_rules() {
    let svc = service(json!({"selector": {"app": "web"},
        "ports": [{"port": 80, "targetPort": 8080}]}));
    let cases = [
        // (pod, expected ready, expected not ready)
        (pod("p", "10.1.0.1", true, json!({})), 1, 0),
        (
            pod(
                "p",
                "10.1.0.1",
                true,
                json!({"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}}),
            ),
            0,
            0,
        ),
        (
            pod(
                "p",
                "10.1.0.1",
                false,
                json!({"spec": {"restartPolicy": "Never"}, "status": {"phase": "Failed"}}),
            ),
            0,
            0,
        ),
        (
            pod(
                "p",
                "10.1.0.1",
                false,
                json!({"spec": {"restartPolicy": "OnFailure"}, "status": {"phase": "Failed"}}),
            ),
            0,
            1,
        ),
        (
            pod(
                "p",
                "10.1.0.1",
                false,
                json!({"spec": {"restartPolicy": "OnFailure"}, "status": {"phase": "Succeeded"}}),
            ),
            0,
            0,
        ),
    ];
    for (index, (pod, ready, not_ready)) in cases.into_iter().enumerate() {
        let desired = desired_subsets(&svc, [&pod]);
        let got_ready: usize = desired.subsets.iter().map(|s| count(&s.addresses)).sum();
        let got_not_ready: usize = desired
            .subsets
            .iter()
            .map(|s| count(&s.not_ready_addresses))
            .sum();
        assert_eq!(
            (got_ready, got_not_ready),
            (ready, not_ready),
            "case {index}"
        );
    }
}

#[test]
fn publish_not_ready_addresses_lists_everything_ready() {
    let svc = service(
        json!({"selector": {"app": "web"}, "publishNotReadyAddresses": true,
        "ports": [{"port": 80}]}),
    );
    let pods = [
        pod("a", "10.1.0.1", false, json!({})),
        pod(
            "b",
            "10.1.0.2",
            true,
            json!({"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}}),
        ),
    ];
    let desired = desired_subsets(&svc, &pods);
    assert_eq!(ips(&desired.subsets[0].addresses), ["10.1.0.1", "10.1.0.2"]);
    assert_eq!(
        desired.subsets[0].ports.as_ref().expect("ports")[0].port,
        80
    );
}

#[test]
fn pods_group_by_resolved_ports_and_hostname() {
    let svc = service(json!({"selector": {"app": "web"}, "clusterIP": "None",
        "ports": [{"name": "a", "port": 80, "targetPort": "http"},
                  {"name": "b", "port": 81, "targetPort": "metrics"}]}));
    let with_metrics = pod(
        "m",
        "10.1.0.2",
        true,
        json!({"spec": {"hostname": "m0", "subdomain": "web", "containers": [{"name": "c", "image": "i",
            "ports": [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}]}]}}),
    );
    let plain = pod(
        "p",
        "10.1.0.1",
        true,
        json!({"spec": {"hostname": "p0", "subdomain": "other"}}),
    );
    let desired = desired_subsets(&svc, [&with_metrics, &plain]);
    assert_eq!(desired.subsets.len(), 2);
    let by_port_count: Vec<(usize, Vec<&str>)> = desired
        .subsets
        .iter()
        .map(|s| (s.ports.as_ref().map_or(0, Vec::len), ips(&s.addresses)))
        .collect();
    assert!(by_port_count.contains(&(2, vec!["10.1.0.2"])));
    assert!(by_port_count.contains(&(1, vec!["10.1.0.1"])));
    let hostnames: Vec<Option<&str>> = desired
        .subsets
        .iter()
        .flat_map(|s| s.addresses.iter().flatten())
        .map(|a| a.hostname.as_deref())
        .collect();
    assert!(hostnames.contains(&Some("m0")));
    assert!(hostnames.contains(&None));
}

#[test]
fn headless_without_ports_keeps_addresses() {
    let svc = service(json!({"selector": {"app": "web"}, "clusterIP": "None"}));
    let desired = desired_subsets(&svc, [&pod("a", "10.1.0.1", true, json!({}))]);
    assert_eq!(ips(&desired.subsets[0].addresses), ["10.1.0.1"]);
    assert!(desired.subsets[0].ports.is_none());
}

#[test]
fn service_without_selector_selects_nothing() {
    let svc = service(json!({"ports": [{"port": 80}]}));
    let desired = desired_subsets(&svc, [&pod("a", "10.1.0.1", true, json!({}))]);
    assert!(desired.subsets.is_empty());
}

#[test]
fn truncation_keeps_ready_first() {
    let svc = service(json!({"selector": {"app": "web"}, "ports": [{"port": 80}]}));
    let pods: Vec<Pod> = (0..1100)
        .map(|i| {
            pod(
                &format!("p{i}"),
                &format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256),
                i < 900,
                json!({}),
            )
        })
        .collect();
    let desired = desired_subsets(&svc, &pods);
    assert!(desired.truncated);
    let subset = &desired.subsets[0];
    assert_eq!(count(&subset.addresses), 900);
    assert_eq!(count(&subset.not_ready_addresses), 100);
}

#[test]
fn proportional_share_cases() {
    assert_eq!(proportional_shares(&[600, 600], 1000), vec![500, 500]);
    assert_eq!(proportional_shares(&[3, 1], 3), vec![3, 0]);
    assert_eq!(proportional_shares(&[1, 1, 1], 2), vec![1, 1, 0]);
    assert_eq!(proportional_shares(&[0, 0], 5), vec![0, 0]);
}

#[test]
fn ipv6_service_uses_ipv6_pod_ip() {
    let svc = service(
        json!({"selector": {"app": "web"}, "ipFamilies": ["IPv6"], "ports": [{"port": 80}]}),
    );
    let dual = pod(
        "a",
        "10.1.0.1",
        true,
        json!({"status": {"podIPs": [{"ip": "10.1.0.1"}, {"ip": "fd00::1"}]}}),
    );
    let desired = desired_subsets(&svc, [&dual]);
    assert_eq!(ips(&desired.subsets[0].addresses), ["fd00::1"]);
}
