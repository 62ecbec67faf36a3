//! Golden iptables-restore text for representative services, and the proxier's
//! command sequence against a recording executor.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use super::ruleset::{self, RulesConfig, RulesetInput, probability};
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
        existing_chains: &BTreeSet::new(),
    })
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
    let active: Vec<&str> = ruleset.active_chains.iter().map(String::as_str).collect();
    assert_eq!(
        active,
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
    assert!(ruleset.active_chains.is_empty());
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
    assert!(ruleset.active_chains.is_empty());
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
    assert!(ruleset.active_chains.contains("KUBE-SEP-G33XYM2U7DNPVRY2"));
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
    assert!(ruleset.active_chains.is_empty());
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

#[test]
fn partial_build_writes_only_changed_chains() {
    let services = [
        service("ns1", "svc1", "172.30.0.41", ("p80", 80, "TCP")),
        service("ns4", "svc4", "172.30.0.44", ("p80", 80, "TCP")),
    ];
    let slices = [
        slice(
            "ns1",
            "svc1-a",
            "svc1",
            ("p80", 80, "TCP"),
            &[("10.180.0.1", true, "node2")],
        ),
        slice(
            "ns4",
            "svc4-a",
            "svc4",
            ("p80", 80, "TCP"),
            &[("10.180.0.6", true, "node2")],
        ),
    ];
    let (service_map, endpoints_map) = maps(&services, &slices);
    let changed: BTreeSet<NamespacedName> = [NamespacedName::new("ns1", "svc1")].into();
    let existing: BTreeSet<String> = [
        "KUBE-SVC-XPGD46QRK7WJZT7O",
        "KUBE-SEP-LXVODXWDISEETFEF",
        "KUBE-SVC-4SW47YFZTEDKD3PK",
        "KUBE-SEP-ULL74CTELUH2BDLI",
    ]
    .map(String::from)
    .into();
    let ruleset = ruleset::build(&RulesetInput {
        config: &rules_config(),
        services: &service_map,
        endpoints: &endpoints_map,
        changed: Some(&changed),
        existing_chains: &existing,
    });

    let declared: Vec<&str> = ruleset
        .nat
        .lines()
        .filter(|line| line.starts_with(':'))
        .collect();
    assert_eq!(
        declared,
        [
            ":KUBE-SERVICES - [0:0]",
            ":KUBE-NODEPORTS - [0:0]",
            ":KUBE-POSTROUTING - [0:0]",
            ":KUBE-MARK-MASQ - [0:0]",
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
        lines_with(&ruleset.nat, "-A KUBE-SVC-4SW47YFZTEDKD3PK").is_empty(),
        "the unchanged service's chain is left alone"
    );
    assert_eq!(
        lines_with(
            &ruleset.nat,
            "-A KUBE-SERVICES -m comment --comment \"ns4/svc4:p80 cluster IP\""
        ),
        [
            "-A KUBE-SERVICES -m comment --comment \"ns4/svc4:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK"
        ],
        "KUBE-SERVICES is always rewritten in full"
    );
    assert!(ruleset.active_chains.contains("KUBE-SVC-4SW47YFZTEDKD3PK"));
    assert!(
        ruleset
            .nat
            .ends_with("-X KUBE-SEP-LXVODXWDISEETFEF\nCOMMIT\n")
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
    assert_eq!(lines[0], "iptables -w -t filter -N KUBE-EXTERNAL-SERVICES");
    assert_eq!(
        lines[1],
        "iptables -w -t filter -C INPUT -m conntrack --ctstate NEW -m comment --comment kubernetes externally-visible service portals -j KUBE-EXTERNAL-SERVICES"
    );
    assert_eq!(
        commands[1].args[12], "kubernetes externally-visible service portals",
        "the comment is one argument"
    );
    assert!(lines.contains(&"iptables -w -t nat -C POSTROUTING -m comment --comment kubernetes postrouting rules -j KUBE-POSTROUTING".to_string()));
    assert_eq!(
        lines
            .iter()
            .filter(|line| line.starts_with("iptables-save"))
            .count(),
        1
    );
    let full = restores(&commands);
    assert_eq!(full.len(), 2);
    assert!(full[0].starts_with("*filter\n"));
    assert!(full[1].starts_with("*nat\n"));
    assert!(full[1].contains(":KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]"));

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
    assert!(partial[1].contains(":KUBE-SEP-LXVODXWDISEETFEF - [0:0]"));
    assert!(!partial[1].contains(":KUBE-SVC-4SW47YFZTEDKD3PK"));
}

#[test]
fn proxier_restore_failure_forces_full_sync() {
    let fake = Arc::new(FakeExecutor::default());
    let proxier = proxier(&fake);
    proxier.on_services_synced();
    proxier.on_endpoint_slices_synced();
    proxier.sync_proxy_rules().unwrap();
    fake.take();

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
