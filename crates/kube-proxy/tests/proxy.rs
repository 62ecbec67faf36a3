//! kube-proxy against the real kernel: every test builds its own node and pod network
//! namespaces (joined by a veth pair, no default route), applies the proxier's rules
//! inside the node namespace with the real iptables tools, and sends real traffic.
//!
//! Needs root, `ip`, `nsenter`, the iptables tools and `conntrack`.

mod netns;

mod iptables_mode {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::Duration;

    use kube_proxy::iptables::ruleset::RulesConfig;
    use kube_proxy::iptables::{Proxier, ProxierConfig};
    use kube_proxy::metrics::ProxyMetrics;
    use kube_proxy::net::IpFamily;
    use kube_proxy::provider::Provider;

    use crate::netns::{self, EchoServer, NodeAndPod};

    fn proxier(node: &NodeAndPod) -> Proxier {
        let config = ProxierConfig {
            hostname: "node1".to_string(),
            family: IpFamily::V4,
            rules: RulesConfig {
                cluster_cidr: Some("10.244.0.0/16".parse().unwrap()),
                ..RulesConfig::default()
            },
            min_sync_period: Duration::ZERO,
            sync_period: Duration::from_secs(30),
        };
        Proxier::new(
            config,
            Arc::new(node.node_executor()),
            Arc::new(ProxyMetrics::new()),
        )
    }

    #[test]
    fn cluster_ip_reaches_endpoint_and_empty_service_is_rejected() {
        let node = NodeAndPod::create("ip");
        let _echo = EchoServer::start(&node.pod, "10.244.1.2:8080".parse().unwrap());
        let proxier = proxier(&node);

        proxier.on_service_add(&netns::service("web", "10.96.0.10", 80, 8080));
        proxier.on_service_add(&netns::service("empty", "10.96.0.11", 80, 8080));
        proxier.on_endpoint_slice_add(&netns::slice("web", &["10.244.1.2"], 8080));
        proxier.on_services_synced();
        proxier.on_endpoint_slices_synced();
        let report = proxier
            .sync_proxy_rules()
            .expect("first sync")
            .expect("informers synced");
        assert!(report.full);

        let web: SocketAddr = "10.96.0.10:80".parse().unwrap();
        assert_eq!(
            node.echo_via(web, "hello")
                .expect("connect to the cluster IP"),
            "hello"
        );

        let empty: SocketAddr = "10.96.0.11:80".parse().unwrap();
        let error = node
            .echo_via(empty, "hello")
            .expect_err("a service without endpoints");
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::ConnectionRefused,
            "REJECT answers with port unreachable: {error}"
        );
        let filter = node.iptables_save("filter");
        assert!(
            filter.contains("\"default/empty:http has no endpoints\""),
            "{filter}"
        );
    }

    #[test]
    fn second_sync_rewrites_only_changed_service() {
        let node = NodeAndPod::create("partial");
        let _echo = EchoServer::start(&node.pod, "10.244.1.2:8080".parse().unwrap());
        let proxier = proxier(&node);

        proxier.on_service_add(&netns::service("web", "10.96.0.10", 80, 8080));
        proxier.on_service_add(&netns::service("late", "10.96.0.12", 80, 8080));
        proxier.on_endpoint_slice_add(&netns::slice("web", &["10.244.1.2"], 8080));
        proxier.on_services_synced();
        proxier.on_endpoint_slices_synced();
        proxier.sync_proxy_rules().expect("first sync");

        let web: SocketAddr = "10.96.0.10:80".parse().unwrap();
        assert_eq!(node.echo_via(web, "one").unwrap(), "one");
        let web_dnat = "-A KUBE-SEP-";
        let counters_before = node.counters_of(web_dnat, "default/web:http");
        assert!(
            counters_before.iter().any(|(packets, _)| *packets > 0),
            "the DNAT rule counted the connection: {counters_before:?}"
        );

        proxier.on_endpoint_slice_add(&netns::slice("late", &["10.244.1.2"], 8080));
        let report = proxier
            .sync_proxy_rules()
            .expect("second sync")
            .expect("synced");
        assert!(!report.full);
        assert!(
            report.ruleset.nat.contains(":KUBE-SEP-"),
            "the new service's endpoint chain is written"
        );
        assert!(
            !report.ruleset.nat.contains("default/web:http -> "),
            "the unchanged service's chains are not in the input:\n{}",
            report.ruleset.nat
        );

        let counters_after = node.counters_of(web_dnat, "default/web:http");
        assert_eq!(
            counters_before, counters_after,
            "counters of untouched chains survive the partial sync"
        );
        let late: SocketAddr = "10.96.0.12:80".parse().unwrap();
        assert_eq!(node.echo_via(late, "two").unwrap(), "two");
        assert_eq!(node.echo_via(web, "three").unwrap(), "three");
    }

    #[test]
    fn removed_service_chains_are_deleted() {
        let node = NodeAndPod::create("stale");
        let proxier = proxier(&node);
        let web = netns::service("web", "10.96.0.10", 80, 8080);
        let slice = netns::slice("web", &["10.244.1.2"], 8080);
        proxier.on_service_add(&web);
        proxier.on_endpoint_slice_add(&slice);
        proxier.on_services_synced();
        proxier.on_endpoint_slices_synced();
        proxier.sync_proxy_rules().expect("first sync");
        assert!(node.iptables_save("nat").contains(":KUBE-SEP-"));

        proxier.on_service_delete(&web);
        proxier.on_endpoint_slice_delete(&slice);
        proxier.sync_proxy_rules().expect("second sync");
        let nat = node.iptables_save("nat");
        assert!(
            !nat.contains("KUBE-SEP-") && !nat.contains("KUBE-SVC-"),
            "{nat}"
        );

        assert!(!proxier.cleanup(), "cleanup succeeds");
        let nat = node.iptables_save("nat");
        assert!(
            !nat.contains("KUBE-"),
            "cleanup removes every kube-proxy chain and jump:\n{nat}"
        );
        let filter = node.iptables_save("filter");
        assert!(!filter.contains("KUBE-"), "{filter}");
    }
}
