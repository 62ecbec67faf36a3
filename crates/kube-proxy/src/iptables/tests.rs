//! Golden iptables-restore text for representative services, and the proxier's
//! command sequence against a recording executor.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::ruleset::{self, RulesConfig, RulesetInput, ServiceRules, probability};
use super::*;
use crate::endpoints::EndpointsChangeTracker;
use crate::exec::fake::FakeExecutor;
use crate::exec::{Cmd, CmdOutput};
use crate::service::ServiceChangeTracker;
use crate::testing::{service, slice, spec_mut, with_affinity, with_load_balancer, with_node_port};

fn rules_config() -> RulesConfig {
    RulesConfig {
        cluster_cidr: Some("10.0.0.0/8".parse().unwrap()),
        ..RulesConfig::default()
    }
}

/// Builds the maps from objects, as the trackers do during a sync.
fn maps(services: &[Service], slices: &[EndpointSlice]) -> (ServicePortMap, EndpointsMap) {
    let mut service_tracker = ServiceChangeTracker::new(IpFamily::V4);
    let mut endpoints_tracker = EndpointsChangeTracker::new("node1", IpFamily::V4);
    for service in services {
        service_tracker.update(None, Some(service));
    }
    for slice in slices {
        endpoints_tracker.endpoint_slice_update(slice, false);
    }
    let mut service_map = ServicePortMap::new();
    let mut endpoints_map = EndpointsMap::new();
    service_tracker.apply(&mut service_map);
    endpoints_tracker.apply(&mut endpoints_map);
    (service_map, endpoints_map)
}

fn build_full(config: &RulesConfig, services: &[Service], slices: &[EndpointSlice]) -> Ruleset {
    let (service_map, endpoints_map) = maps(services, slices);
    ruleset::build(&RulesetInput {
        config,
        services: &service_map,
        endpoints: &endpoints_map,
        changed: None,
        previous: &BTreeMap::new(),
        existing_chains: &BTreeSet::new(),
        missing_jumps: &[],
        chunk_chains: None,
    })
}

/// Returns the per-service chains of `ruleset`, sorted.
fn active_chains(ruleset: &Ruleset) -> Vec<&str> {
    let mut chains: Vec<&str> = ruleset.chains().collect();
    chains.sort_unstable();
    chains
}

/// Returns the lines of `text` that mention `needle`.
fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|line| line.contains(needle)).collect()
}

const FIXED_FILTER: &str = "\
*filter
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
";

#[test]
fn probability_has_ten_decimals() {
    assert_eq!(probability(2), "0.5000000000");
    assert_eq!(probability(3), "0.3333333333");
    assert_eq!(probability(7), "0.1428571429");
}

#[test]
fn cluster_ip_with_two_endpoints() {
    let services = [service("ns1", "svc1", "172.30.0.41", ("p80", 80, "TCP"))];
    let slices = [slice(
        "ns1",
        "svc1-a",
        "svc1",
        ("p80", 80, "TCP"),
        &[("10.180.0.1", true, "node2"), ("10.180.0.2", true, "node2")],
    )];
    let ruleset = build_full(&rules_config(), &services, &slices);

    assert_eq!(ruleset.filter, format!("{FIXED_FILTER}COMMIT\n"));
    let expected_nat = "\
*nat
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
:KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
:KUBE-SEP-LXVODXWDISEETFEF - [0:0]
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-SXIVWICOYRO3J4NJ
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> 10.180.0.2:80\" -j KUBE-SEP-LXVODXWDISEETFEF
-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
-A KUBE-SEP-LXVODXWDISEETFEF -m comment --comment ns1/svc1:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
-A KUBE-SEP-LXVODXWDISEETFEF -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
COMMIT
";
    assert_eq!(ruleset.nat, expected_nat);
    assert_eq!(ruleset.filter_rules, 3);
    assert_eq!(ruleset.nat_rules, 13);
    assert_eq!(
        active_chains(&ruleset),
        [
            "KUBE-SEP-LXVODXWDISEETFEF",
            "KUBE-SEP-SXIVWICOYRO3J4NJ",
            "KUBE-SVC-XPGD46QRK7WJZT7O"
        ]
    );
}

#[test]
fn masquerade_all_drops_source_match() {
    let config = RulesConfig {
        masquerade_all: true,
        ..rules_config()
    };
    let services = [service("ns1", "svc1", "172.30.0.41", ("p80", 80, "TCP"))];
    let slices = [slice(
        "ns1",
        "svc1-a",
        "svc1",
        ("p80", 80, "TCP"),
        &[("10.180.0.1", true, "node2")],
    )];
    let ruleset = build_full(&config, &services, &slices);
    assert_eq!(
        lines_with(&ruleset.nat, "-A KUBE-SVC-XPGD46QRK7WJZT7O"),
        [
            "-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-MARK-MASQ",
            "-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -j KUBE-SEP-SXIVWICOYRO3J4NJ",
        ]
    );

    let no_cidr = RulesConfig::default();
    let ruleset = build_full(&no_cidr, &services, &slices);
    assert!(
        lines_with(&ruleset.nat, "KUBE-MARK-MASQ")
            .iter()
            .all(|line| !line.starts_with("-A KUBE-SVC-"))
    );
}

#[test]
fn service_without_endpoints_is_rejected() {
    let services = [with_node_port(
        service("ns3", "svc3", "172.30.0.43", ("dns", 53, "UDP")),
        3003,
    )];
    let ruleset = build_full(&rules_config(), &services, &[]);
    assert_eq!(
        ruleset.filter,
        format!(
            "{FIXED_FILTER}\
-A KUBE-SERVICES -m comment --comment \"ns3/svc3:dns has no endpoints\" -m udp -p udp -d 172.30.0.43 --dport 53 -j REJECT
-A KUBE-EXTERNAL-SERVICES -m comment --comment \"ns3/svc3:dns has no endpoints\" -m addrtype --dst-type LOCAL -m udp -p udp --dport 3003 -j REJECT
COMMIT
"
        )
    );
    assert!(
        lines_with(&ruleset.nat, "EK2QZI4NA6E4SMMQ").is_empty(),
        "no nat chains for a service without endpoints"
    );
    assert!(active_chains(&ruleset).is_empty());
}

#[test]
fn not_ready_endpoints_count_as_none() {
    let services = [service("ns1", "svc1", "172.30.0.41", ("p80", 80, "TCP"))];
    let slices = [slice(
        "ns1",
        "svc1-a",
        "svc1",
        ("p80", 80, "TCP"),
        &[("10.180.0.1", false, "node1")],
    )];
    let ruleset = build_full(&rules_config(), &services, &slices);
    assert_eq!(lines_with(&ruleset.filter, "has no endpoints").len(), 1);
    assert!(active_chains(&ruleset).is_empty());
}

#[test]
fn session_affinity_uses_recent() {
    let services = [with_affinity(
        service("ns4", "svc4", "172.30.0.44", ("p80", 80, "TCP")),
        None,
    )];
    let slices = [slice(
        "ns4",
        "svc4-a",
        "svc4",
        ("p80", 80, "TCP"),
        &[("10.180.0.6", true, "node2"), ("10.180.0.7", true, "node2")],
    )];
    let ruleset = build_full(&rules_config(), &services, &slices);
    assert_eq!(
        lines_with(
            &ruleset.nat,
            "-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 ->"
        ),
        [
            "-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 -> 10.180.0.6:80\" -m recent --name KUBE-SEP-ULL74CTELUH2BDLI --rcheck --seconds 10800 --reap -j KUBE-SEP-ULL74CTELUH2BDLI",
            "-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 -> 10.180.0.7:80\" -m recent --name KUBE-SEP-KV4FMR6WJFBQE3OH --rcheck --seconds 10800 --reap -j KUBE-SEP-KV4FMR6WJFBQE3OH",
            "-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 -> 10.180.0.6:80\" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-ULL74CTELUH2BDLI",
            "-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment \"ns4/svc4:p80 -> 10.180.0.7:80\" -j KUBE-SEP-KV4FMR6WJFBQE3OH",
        ]
    );
    assert_eq!(
        lines_with(&ruleset.nat, "-A KUBE-SEP-ULL74CTELUH2BDLI"),
        [
            "-A KUBE-SEP-ULL74CTELUH2BDLI -m comment --comment ns4/svc4:p80 -s 10.180.0.6 -j KUBE-MARK-MASQ",
            "-A KUBE-SEP-ULL74CTELUH2BDLI -m comment --comment ns4/svc4:p80 -m recent --name KUBE-SEP-ULL74CTELUH2BDLI --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.6:80",
        ]
    );

    let custom = [with_affinity(
        service("ns4", "svc4", "172.30.0.44", ("p80", 80, "TCP")),
        Some(60),
    )];
    let ruleset = build_full(&rules_config(), &custom, &slices);
    assert_eq!(
        lines_with(&ruleset.nat, "--rcheck --seconds 60 --reap").len(),
        2
    );
}

#[test]
fn external_destinations_with_local_policy() {
    let mut svc2 = with_load_balancer(
        service("ns2", "svc2", "172.30.0.42", ("p80", 80, "TCP")),
        3001,
        "1.2.3.4",
    );
    {
        let spec = spec_mut(&mut svc2);
        spec.external_ips = Some(vec!["192.168.99.11".to_string()]);
        spec.external_traffic_policy = Some("Local".to_string());
        spec.health_check_node_port = Some(30000);
    }
    let slices = [slice(
        "ns2",
        "svc2-a",
        "svc2",
        ("p80", 80, "TCP"),
        &[("10.180.0.3", true, "node1"), ("10.180.0.4", true, "node2")],
    )];
    let ruleset = build_full(&rules_config(), &[svc2], &slices);

    assert_eq!(
        lines_with(
            &ruleset.nat,
            "-A KUBE-SERVICES -m comment --comment \"ns2/svc2"
        ),
        [
            "-A KUBE-SERVICES -m comment --comment \"ns2/svc2:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT",
            "-A KUBE-SERVICES -m comment --comment \"ns2/svc2:p80 external IP\" -m tcp -p tcp -d 192.168.99.11 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT",
            "-A KUBE-SERVICES -m comment --comment \"ns2/svc2:p80 loadbalancer IP\" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT",
        ]
    );
    assert_eq!(
        lines_with(&ruleset.nat, "-A KUBE-NODEPORTS"),
        [
            "-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT"
        ]
    );
    assert_eq!(
        lines_with(&ruleset.nat, "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT"),
        [
            "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment \"pod traffic for ns2/svc2:p80 external destinations\" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT",
            "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment \"masquerade LOCAL traffic for ns2/svc2:p80 external destinations\" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ",
            "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment \"route LOCAL traffic for ns2/svc2:p80 external destinations\" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT",
            "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -j KUBE-SVL-GNZBNJ2PO5MGZ6GT",
        ]
    );
    assert_eq!(
        lines_with(&ruleset.nat, "-A KUBE-SVL-GNZBNJ2PO5MGZ6GT"),
        [
            "-A KUBE-SVL-GNZBNJ2PO5MGZ6GT -m comment --comment \"ns2/svc2:p80 -> 10.180.0.3:80\" -j KUBE-SEP-2GOKER2KF7NAANZN"
        ]
    );
    assert_eq!(
        lines_with(&ruleset.nat, "-A KUBE-SVC-GNZBNJ2PO5MGZ6GT").len(),
        3,
        "masquerade rule plus two endpoints"
    );
    assert_eq!(
        lines_with(&ruleset.filter, "health check node port"),
        [
            "-A KUBE-NODEPORTS -m comment --comment \"ns2/svc2:p80 health check node port\" -m tcp -p tcp --dport 30000 -j ACCEPT"
        ]
    );
    assert!(ruleset.has_chain("KUBE-SEP-G33XYM2U7DNPVRY2"));
}

#[test]
fn external_destinations_with_cluster_policy() {
    let mut svc2 = with_node_port(
        service("ns2", "svc2", "172.30.0.42", ("p80", 80, "TCP")),
        3001,
    );
    spec_mut(&mut svc2).external_ips = Some(vec!["192.168.99.11".to_string()]);
    let slices = [slice(
        "ns2",
        "svc2-a",
        "svc2",
        ("p80", 80, "TCP"),
        &[("10.180.0.4", true, "node2")],
    )];
    let ruleset = build_full(&rules_config(), &[svc2], &slices);
    assert_eq!(
        lines_with(&ruleset.nat, "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT"),
        [
            "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment \"masquerade traffic for ns2/svc2:p80 external destinations\" -j KUBE-MARK-MASQ",
            "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -j KUBE-SVC-GNZBNJ2PO5MGZ6GT",
        ]
    );
    assert!(lines_with(&ruleset.nat, "KUBE-SVL-").is_empty());
}

#[test]
fn local_policy_without_local_endpoints_drops() {
    let mut svc2 = with_node_port(
        service("ns2", "svc2", "172.30.0.42", ("p80", 80, "TCP")),
        3001,
    );
    spec_mut(&mut svc2).external_traffic_policy = Some("Local".to_string());
    spec_mut(&mut svc2).internal_traffic_policy = Some("Local".to_string());
    let slices = [slice(
        "ns2",
        "svc2-a",
        "svc2",
        ("p80", 80, "TCP"),
        &[("10.180.0.4", true, "node2")],
    )];
    let ruleset = build_full(&rules_config(), &[svc2], &slices);
    assert_eq!(
        lines_with(&ruleset.filter, "ns2/svc2"),
        [
            "-A KUBE-SERVICES -m comment --comment \"ns2/svc2:p80 has no local endpoints\" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j DROP",
            "-A KUBE-EXTERNAL-SERVICES -m comment --comment \"ns2/svc2:p80 has no local endpoints\" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP",
        ]
    );
    assert!(active_chains(&ruleset).is_empty());
}

#[test]
fn load_balancer_source_ranges_use_firewall_chain() {
    let mut svc5 = with_load_balancer(
        service("ns5", "svc5", "172.30.0.45", ("p80", 80, "TCP")),
        3005,
        "5.6.7.8",
    );
    spec_mut(&mut svc5).load_balancer_source_ranges = Some(vec!["203.0.113.0/25".to_string()]);
    let slices = [slice(
        "ns5",
        "svc5-a",
        "svc5",
        ("p80", 80, "TCP"),
        &[("10.180.0.8", true, "node2")],
    )];
    let ruleset = build_full(&rules_config(), &[svc5], &slices);
    let firewall = chains::firewall_chain(&crate::service::ServicePortName::new(
        "ns5",
        "svc5",
        "p80",
        Protocol::Tcp,
    ));
    let external = chains::external_chain(&crate::service::ServicePortName::new(
        "ns5",
        "svc5",
        "p80",
        Protocol::Tcp,
    ));
    assert_eq!(
        lines_with(&ruleset.nat, "loadbalancer IP"),
        [
            format!(
                "-A KUBE-SERVICES -m comment --comment \"ns5/svc5:p80 loadbalancer IP\" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j {firewall}"
            ),
            format!(
                "-A {firewall} -m comment --comment \"ns5/svc5:p80 loadbalancer IP\" -s 203.0.113.0/25 -j {external}"
            ),
        ]
    );
    assert_eq!(
        lines_with(&ruleset.filter, "KUBE-PROXY-FIREWALL -m"),
        [format!(
            "-A KUBE-PROXY-FIREWALL -m comment --comment \"ns5/svc5:p80 traffic not accepted by {firewall}\" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP"
        )]
    );
}

#[test]
fn node_port_addresses_limit_nodeports_jump() {
    let config = RulesConfig {
        node_port_ips: vec!["192.168.0.10".parse().unwrap()],
        ..rules_config()
    };
    let ruleset = build_full(&config, &[], &[]);
    assert_eq!(
        lines_with(&ruleset.nat, "-j KUBE-NODEPORTS"),
        [
            "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -d 192.168.0.10 -j KUBE-NODEPORTS"
        ]
    );
}

/// Applies the per-service updates of `ruleset` to `rules`, as the proxier does after
/// a successful sync.
fn apply_updates(rules: &mut BTreeMap<NamespacedName, ServiceRules>, ruleset: &Ruleset) {
    for (service, update) in &ruleset.services {
        match update {
            Some(update) => rules.insert(service.clone(), update.clone()),
            None => rules.remove(service),
        };
    }
}

fn build_partial(
    services: &[Service],
    slices: &[EndpointSlice],
    changed: &[NamespacedName],
    previous: &BTreeMap<NamespacedName, ServiceRules>,
) -> Ruleset {
    let (service_map, endpoints_map) = maps(services, slices);
    let changed: BTreeSet<NamespacedName> = changed.iter().cloned().collect();
    ruleset::build(&RulesetInput {
        config: &rules_config(),
        services: &service_map,
        endpoints: &endpoints_map,
        changed: Some(&changed),
        previous,
        existing_chains: &BTreeSet::new(),
        missing_jumps: &[],
        chunk_chains: None,
    })
}

#[test]
fn partial_build_writes_only_changed_chains() {
    let svc1 = service("ns1", "svc1", "172.30.0.41", ("p80", 80, "TCP"));
    let svc4 = service("ns4", "svc4", "172.30.0.44", ("p80", 80, "TCP"));
    let svc4_slice = slice(
        "ns4",
        "svc4-a",
        "svc4",
        ("p80", 80, "TCP"),
        &[("10.180.0.6", true, "node2")],
    );
    let svc1_slice = |ip: &str| {
        slice(
            "ns1",
            "svc1-a",
            "svc1",
            ("p80", 80, "TCP"),
            &[(ip, true, "node2")],
        )
    };
    let full = build_full(
        &rules_config(),
        &[svc1.clone(), svc4.clone()],
        &[svc1_slice("10.180.0.2"), svc4_slice.clone()],
    );
    let mut previous = BTreeMap::new();
    apply_updates(&mut previous, &full);

    // An endpoint change rewrites the service's own chains only.
    let ruleset = build_partial(
        &[svc1.clone(), svc4.clone()],
        &[svc1_slice("10.180.0.1"), svc4_slice.clone()],
        &[NamespacedName::new("ns1", "svc1")],
        &previous,
    );
    let declared: Vec<&str> = ruleset
        .nat
        .lines()
        .filter(|line| line.starts_with(':'))
        .collect();
    assert_eq!(
        declared,
        [
            ":KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]",
            ":KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]",
            ":KUBE-SEP-LXVODXWDISEETFEF - [0:0]",
        ]
    );
    assert_eq!(
        lines_with(&ruleset.nat, "-X "),
        ["-X KUBE-SEP-LXVODXWDISEETFEF"],
        "only the stale endpoint chain is deleted"
    );
    assert!(
        lines_with(&ruleset.nat, "svc4").is_empty(),
        "the unchanged service is left alone:\n{}",
        ruleset.nat
    );
    assert!(
        lines_with(&ruleset.nat, "KUBE-SERVICES").is_empty(),
        "the cluster IP rule did not change, so KUBE-SERVICES is not touched:\n{}",
        ruleset.nat
    );
    assert!(
        ruleset
            .nat
            .ends_with("-X KUBE-SEP-LXVODXWDISEETFEF\nCOMMIT\n")
    );
    assert_eq!(ruleset.filter, full.filter, "the filter text is unchanged");
    assert_eq!(
        ruleset.nat_rules, 4,
        "masquerade and endpoint jump in KUBE-SVC, two rules in KUBE-SEP"
    );
    apply_updates(&mut previous, &ruleset);

    // A new cluster IP replaces the service's KUBE-SERVICES rule in place.
    let moved = service("ns1", "svc1", "172.30.0.51", ("p80", 80, "TCP"));
    let ruleset = build_partial(
        &[moved.clone(), svc4.clone()],
        &[svc1_slice("10.180.0.1"), svc4_slice.clone()],
        &[NamespacedName::new("ns1", "svc1")],
        &previous,
    );
    assert_eq!(
        lines_with(&ruleset.nat, " KUBE-SERVICES "),
        [
            "-D KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O",
            "-I KUBE-SERVICES 1 -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.51 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O",
        ]
    );
    apply_updates(&mut previous, &ruleset);

    // A deleted service loses its KUBE-SERVICES rule and all of its chains.
    let ruleset = build_partial(
        std::slice::from_ref(&moved),
        &[svc1_slice("10.180.0.1")],
        &[NamespacedName::new("ns4", "svc4")],
        &previous,
    );
    assert_eq!(
        lines_with(&ruleset.nat, " KUBE-SERVICES "),
        [
            "-D KUBE-SERVICES -m comment --comment \"ns4/svc4:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK"
        ]
    );
    assert_eq!(
        lines_with(&ruleset.nat, "-X "),
        [
            "-X KUBE-SVC-4SW47YFZTEDKD3PK",
            "-X KUBE-SEP-ULL74CTELUH2BDLI"
        ]
    );
    assert_eq!(
        ruleset.services.get(&NamespacedName::new("ns4", "svc4")),
        Some(&None)
    );
    apply_updates(&mut previous, &ruleset);
    assert_eq!(previous.len(), 1);

    // A reported service whose rules did not change gets its chains rewritten, and
    // nothing else.
    let ruleset = build_partial(
        std::slice::from_ref(&moved),
        &[svc1_slice("10.180.0.1")],
        &[NamespacedName::new("ns1", "svc1")],
        &previous,
    );
    assert!(lines_with(&ruleset.nat, "KUBE-SERVICES").is_empty());
    assert!(lines_with(&ruleset.nat, "-X ").is_empty());

    // A service that exists neither before nor now writes no nat input at all.
    let ruleset = build_partial(
        std::slice::from_ref(&moved),
        &[svc1_slice("10.180.0.1")],
        &[NamespacedName::new("ns9", "gone")],
        &previous,
    );
    assert_eq!(ruleset.nat, "", "no nat input without a change");
}

#[test]
fn partial_build_keeps_filter_rules_of_unchanged_services() {
    let empty = service("ns3", "svc3", "172.30.0.43", ("dns", 53, "UDP"));
    let svc1 = service("ns1", "svc1", "172.30.0.41", ("p80", 80, "TCP"));
    let full = build_full(&rules_config(), &[empty.clone(), svc1.clone()], &[]);
    assert_eq!(lines_with(&full.filter, "has no endpoints").len(), 2);
    let mut previous = BTreeMap::new();
    apply_updates(&mut previous, &full);

    let svc1_slice = slice(
        "ns1",
        "svc1-a",
        "svc1",
        ("p80", 80, "TCP"),
        &[("10.180.0.1", true, "node2")],
    );
    let ruleset = build_partial(
        &[empty, svc1],
        &[svc1_slice],
        &[NamespacedName::new("ns1", "svc1")],
        &previous,
    );
    assert_eq!(
        lines_with(&ruleset.filter, "has no endpoints"),
        [
            "-A KUBE-SERVICES -m comment --comment \"ns3/svc3:dns has no endpoints\" -m udp -p udp -d 172.30.0.43 --dport 53 -j REJECT"
        ]
    );
    assert_eq!(
        lines_with(&ruleset.nat, " KUBE-SERVICES "),
        [
            "-I KUBE-SERVICES 1 -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O"
        ]
    );
}

#[test]
fn full_build_in_chunks_fills_service_chains_first() {
    let services: Vec<Service> = (1..=3)
        .map(|i| {
            service(
                "ns",
                &format!("svc{i}"),
                &format!("172.30.0.{i}"),
                ("p80", 80, "TCP"),
            )
        })
        .collect();
    let slices: Vec<EndpointSlice> = (1..=3)
        .map(|i| {
            slice(
                "ns",
                &format!("svc{i}-a"),
                &format!("svc{i}"),
                ("p80", 80, "TCP"),
                &[(&format!("10.180.0.{i}"), true, "node2")],
            )
        })
        .collect();
    let (service_map, endpoints_map) = maps(&services, &slices);
    let existing: BTreeSet<String> = ["KUBE-SEP-STALE".to_string()].into();
    let missing = ruleset::missing_jumps("", "nat");
    let ruleset = ruleset::build(&RulesetInput {
        config: &rules_config(),
        services: &service_map,
        endpoints: &endpoints_map,
        changed: None,
        previous: &BTreeMap::new(),
        existing_chains: &existing,
        missing_jumps: &missing,
        chunk_chains: Some(4),
    });
    assert_eq!(ruleset.nat_chunks.len(), 2, "{:?}", ruleset.nat_chunks);
    assert_eq!(
        lines_with(&ruleset.nat_chunks[0], ":KUBE-").len(),
        5,
        "KUBE-MARK-MASQ and two services of two chains each"
    );
    assert!(
        ruleset.nat_chunks[0].starts_with(
            "*nat\n:KUBE-MARK-MASQ - [0:0]\n-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n"
        ),
        "the chain that endpoint chains jump to comes first"
    );
    assert!(ruleset.nat_chunks[1].contains(":KUBE-SVC-"));
    assert!(lines_with(&ruleset.nat, "-A KUBE-SVC-").is_empty());
    assert_eq!(lines_with(&ruleset.nat, "-A KUBE-SERVICES").len(), 4);
    assert_eq!(lines_with(&ruleset.nat, "-X "), ["-X KUBE-SEP-STALE"]);
    assert_eq!(
        lines_with(&ruleset.nat, "-I "),
        [
            "-I OUTPUT 1 -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
            "-I PREROUTING 1 -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
            "-I POSTROUTING 1 -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING",
        ]
    );
    assert_eq!(
        ruleset.nat_rules,
        1 + 4 + 4 + 3 * 4,
        "KUBE-MARK-MASQ in the first chunk, fixed, KUBE-SERVICES, chains"
    );
}

#[test]
fn jumps_found_in_save_output() {
    let save = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS\n-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\nCOMMIT\n";
    let missing: Vec<String> = ruleset::missing_jumps(save, "filter")
        .iter()
        .map(|jump| format!("{} {}", jump.from, jump.to))
        .collect();
    assert_eq!(
        missing,
        [
            "INPUT KUBE-EXTERNAL-SERVICES",
            "FORWARD KUBE-EXTERNAL-SERVICES",
            "FORWARD KUBE-SERVICES",
            "OUTPUT KUBE-SERVICES",
            "FORWARD KUBE-FORWARD",
            "OUTPUT KUBE-PROXY-FIREWALL",
            "FORWARD KUBE-PROXY-FIREWALL",
        ]
    );
}

#[test]
fn service_chains_found_in_save_output() {
    let save = "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-AAAA - [0:0]\n:KUBE-SEP-BBBB - [3:180]\n:KUBE-MARK-MASQ - [0:0]\n-A KUBE-SVC-AAAA -j KUBE-SEP-BBBB\nCOMMIT\n";
    let chains: Vec<String> = ruleset::service_chains_in_save(save).into_iter().collect();
    assert_eq!(chains, ["KUBE-SEP-BBBB", "KUBE-SVC-AAAA"]);
}

fn proxier(fake: &Arc<FakeExecutor>) -> Proxier {
    let config = ProxierConfig {
        hostname: "node1".to_string(),
        family: IpFamily::V4,
        rules: rules_config(),
        min_sync_period: Duration::from_secs(1),
        sync_period: Duration::from_secs(30),
        backend: client::Backend::System,
    };
    Proxier::new(
        config,
        Arc::clone(fake) as Arc<dyn Executor>,
        Arc::new(ProxyMetrics::new()),
    )
}

fn restores(commands: &[Cmd]) -> Vec<String> {
    commands
        .iter()
        .filter(|cmd| cmd.program == "iptables-restore")
        .map(|cmd| String::from_utf8(cmd.stdin.clone().unwrap_or_default()).unwrap())
        .collect()
}

#[test]
fn proxier_waits_for_informers() {
    let fake = Arc::new(FakeExecutor::default());
    let proxier = proxier(&fake);
    proxier.on_services_synced();
    assert!(proxier.sync_proxy_rules().unwrap().is_none());
    assert!(fake.take().is_empty());
}

#[test]
fn proxier_full_then_partial_sync() {
    let fake = Arc::new(FakeExecutor::default());
    let proxier = proxier(&fake);
    let svc1 = service("ns1", "svc1", "172.30.0.41", ("p80", 80, "TCP"));
    let svc4 = service("ns4", "svc4", "172.30.0.44", ("p80", 80, "TCP"));
    proxier.on_service_add(&svc1);
    proxier.on_service_add(&svc4);
    let slice1 = slice(
        "ns1",
        "svc1-a",
        "svc1",
        ("p80", 80, "TCP"),
        &[("10.180.0.1", true, "node2")],
    );
    proxier.on_endpoint_slice_add(&slice1);
    proxier.on_endpoint_slice_add(&slice(
        "ns4",
        "svc4-a",
        "svc4",
        ("p80", 80, "TCP"),
        &[("10.180.0.6", true, "node2")],
    ));
    proxier.on_services_synced();
    proxier.on_endpoint_slices_synced();

    let report = proxier.sync_proxy_rules().unwrap().unwrap();
    assert!(report.full);
    let commands = fake.take();
    let lines: Vec<String> = commands.iter().map(Cmd::display).collect();
    assert_eq!(
        lines,
        [
            "iptables --version",
            "iptables-save -t filter",
            "iptables-save -t nat",
            "iptables-restore --noflush --counters",
            "iptables-restore --noflush --counters",
        ],
        "one full sync runs five commands however many jumps are missing"
    );
    let full = restores(&commands);
    assert_eq!(full.len(), 2);
    assert!(full[0].starts_with("*filter\n"));
    assert!(full[0].contains(
        "-I INPUT 1 -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n"
    ));
    assert!(full[1].starts_with("*nat\n"));
    assert!(full[1].contains(":KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]"));
    assert!(full[1].contains(
        "-I POSTROUTING 1 -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n"
    ));

    let slice1_more = slice(
        "ns1",
        "svc1-a",
        "svc1",
        ("p80", 80, "TCP"),
        &[("10.180.0.1", true, "node2"), ("10.180.0.2", true, "node2")],
    );
    proxier.on_endpoint_slice_update(&slice1, &slice1_more);
    let report = proxier.sync_proxy_rules().unwrap().unwrap();
    assert!(!report.full);
    let commands = fake.take();
    assert!(
        commands.iter().all(|cmd| cmd.program == "iptables-restore"),
        "a partial sync neither saves nor checks jumps"
    );
    let partial = restores(&commands);
    assert_eq!(
        partial.len(),
        1,
        "the unchanged filter table is not restored"
    );
    assert!(partial[0].contains(":KUBE-SEP-LXVODXWDISEETFEF - [0:0]"));
    assert!(!partial[0].contains(":KUBE-SVC-4SW47YFZTEDKD3PK"));
    assert!(!partial[0].contains("KUBE-SERVICES"));

    proxier.on_service_delete(&svc4);
    proxier.sync_proxy_rules().unwrap();
    let partial = restores(&fake.take());
    assert_eq!(partial.len(), 1);
    assert!(partial[0].contains("-D KUBE-SERVICES "), "{}", partial[0]);
    assert!(partial[0].contains("-X KUBE-SVC-4SW47YFZTEDKD3PK\n"));

    proxier.on_service_delete(&svc1);
    proxier.sync_proxy_rules().unwrap();
    let partial = restores(&fake.take());
    assert_eq!(partial.len(), 1);
    assert!(partial[0].contains("-X KUBE-SVC-XPGD46QRK7WJZT7O\n"));
}

#[test]
fn proxier_restore_failure_forces_full_sync() {
    let fake = Arc::new(FakeExecutor::default());
    let proxier = proxier(&fake);
    proxier.on_services_synced();
    proxier.on_endpoint_slices_synced();
    proxier.sync_proxy_rules().unwrap();
    fake.take();

    // A service without endpoints changes the filter table, so the next sync restores it.
    proxier.on_service_add(&service("ns1", "svc1", "172.30.0.41", ("p80", 80, "TCP")));
    fake.respond(
        "iptables-restore",
        CmdOutput {
            code: Some(2),
            stdout: String::new(),
            stderr: "iptables-restore: line 3 failed".to_string(),
        },
    );
    let error = proxier.sync_proxy_rules().unwrap_err();
    assert!(error.to_string().contains("filter table"), "{error}");
    fake.take();

    let report = proxier.sync_proxy_rules().unwrap().unwrap();
    assert!(report.full);
}

#[test]
fn proxier_clears_conntrack_for_removed_udp_endpoint() {
    let fake = Arc::new(FakeExecutor::default());
    let proxier = proxier(&fake);
    let dns = with_node_port(
        service("ns3", "svc3", "172.30.0.43", ("dns", 53, "UDP")),
        3003,
    );
    proxier.on_service_add(&dns);
    proxier.on_services_synced();
    proxier.on_endpoint_slices_synced();
    proxier.sync_proxy_rules().unwrap();
    fake.take();

    let two = slice(
        "ns3",
        "svc3-a",
        "svc3",
        ("dns", 53, "UDP"),
        &[("10.180.0.5", true, "node2"), ("10.180.0.9", true, "node2")],
    );
    proxier.on_endpoint_slice_add(&two);
    proxier.sync_proxy_rules().unwrap();
    let conntrack: Vec<String> = fake
        .take()
        .iter()
        .filter(|cmd| cmd.program == "conntrack")
        .map(Cmd::display)
        .collect();
    assert_eq!(
        conntrack,
        [
            "conntrack -D --orig-dst 172.30.0.43 -p udp",
            "conntrack -D -p udp --dport 3003"
        ],
        "the cached rejection is cleared"
    );

    let one = slice(
        "ns3",
        "svc3-a",
        "svc3",
        ("dns", 53, "UDP"),
        &[("10.180.0.5", true, "node2")],
    );
    proxier.on_endpoint_slice_update(&two, &one);
    proxier.sync_proxy_rules().unwrap();
    let conntrack: Vec<String> = fake
        .take()
        .iter()
        .filter(|cmd| cmd.program == "conntrack")
        .map(Cmd::display)
        .collect();
    assert_eq!(
        conntrack,
        [
            "conntrack -D --orig-dst 172.30.0.43 --dst-nat 10.180.0.9 -p udp",
            "conntrack -D -p udp --dport 3003 --dst-nat 10.180.0.9",
        ]
    );
}
