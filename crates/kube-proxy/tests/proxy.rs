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

    use kube_proxy::exec::{Cmd, Executor};
    use kube_proxy::iptables::client::Backend;
    use kube_proxy::iptables::ruleset::RulesConfig;
    use kube_proxy::iptables::{Proxier, ProxierConfig};
    use kube_proxy::metrics::ProxyMetrics;
    use kube_proxy::net::IpFamily;
    use kube_proxy::provider::Provider;

    use crate::netns::{self, EchoServer, NodeAndPod, UdpEchoServer};

    fn proxier(node: &NodeAndPod) -> Proxier {
        proxier_with_backend(node, Backend::System)
    }

    fn proxier_with_backend(node: &NodeAndPod, backend: Backend) -> Proxier {
        let config = ProxierConfig {
            hostname: "node1".to_string(),
            family: IpFamily::V4,
            rules: RulesConfig {
                cluster_cidr: Some("10.244.0.0/16".parse().unwrap()),
                ..RulesConfig::default()
            },
            min_sync_period: Duration::ZERO,
            sync_period: Duration::from_secs(30),
            backend,
        };
        Proxier::new(
            config,
            Arc::new(node.node_executor()),
            Arc::new(ProxyMetrics::new()),
        )
    }

    #[test]
    fn cluster_ip_and_empty_service() {
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

        // Every rule went through one backend (the iptables alternatives), so the
        // other backend's tables in this namespace stay empty.
        let executor = node.node_executor();
        let version = executor
            .run_checked(&Cmd::new("iptables", &["--version"]))
            .expect("iptables --version")
            .stdout;
        let other = if version.contains("nf_tables") {
            "iptables-legacy-save"
        } else {
            "iptables-nft-save"
        };
        let other_rules = executor
            .run(&Cmd::new(other, &[]))
            .expect("run the other backend's save")
            .stdout;
        assert!(
            !other_rules.contains("KUBE-"),
            "{other} shows kube-proxy rules:\n{other_rules}"
        );
    }

    /// A pod that connects to its own service gets DNATed back to itself; only the
    /// masquerade of KUBE-SEP's hairpin rule makes the reply come back the same way.
    #[test]
    fn hairpin_traffic_is_masqueraded() {
        let node = NodeAndPod::create("hairpin");
        node.enable_pod_to_service();
        let _echo = EchoServer::start(&node.pod, "10.244.1.2:8080".parse().unwrap());
        let proxier = proxier(&node);
        proxier.on_service_add(&netns::service("web", "10.96.0.10", 80, 8080));
        proxier.on_endpoint_slice_add(&netns::slice("web", &["10.244.1.2"], 8080));
        proxier.on_services_synced();
        proxier.on_endpoint_slices_synced();
        proxier.sync_proxy_rules().expect("sync");

        let web: SocketAddr = "10.96.0.10:80".parse().unwrap();
        assert_eq!(
            node.echo_from_pod(web, "hairpin")
                .expect("pod reaches its own service"),
            "hairpin"
        );
        let masquerade = node.counters_of("-A KUBE-POSTROUTING", "MASQUERADE");
        assert_eq!(masquerade.len(), 1);
        assert!(
            masquerade[0].0 > 0,
            "the hairpin connection was masqueraded: {masquerade:?}"
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
    fn udp_endpoint_removal_clears_conntrack() {
        let node = NodeAndPod::create("udp");
        let _echo = UdpEchoServer::start(&node.pod, "10.244.1.2:5353".parse().unwrap());
        let proxier = proxier(&node);
        let mut dns = netns::service("dns", "10.96.0.53", 53, 5353);
        let port = &mut dns.spec.as_mut().unwrap().ports.as_mut().unwrap()[0];
        port.protocol = Some("UDP".to_string());
        let mut slice = netns::slice("dns", &["10.244.1.2"], 5353);
        slice.ports.as_mut().unwrap()[0].protocol = Some("UDP".to_string());
        proxier.on_service_add(&dns);
        proxier.on_endpoint_slice_add(&slice);
        proxier.on_services_synced();
        proxier.on_endpoint_slices_synced();
        proxier.sync_proxy_rules().expect("first sync");

        let address: SocketAddr = "10.96.0.53:53".parse().unwrap();
        assert_eq!(
            node.udp_echo_via(address, "query")
                .expect("UDP through the cluster IP"),
            "query"
        );
        let entries = node.udp_conntrack_entries("10.96.0.53");
        assert_eq!(entries.len(), 1, "one flow to the cluster IP: {entries:?}");
        assert!(
            entries[0].contains("src=10.244.1.2"),
            "the reply side is the endpoint: {entries:?}"
        );

        proxier.on_endpoint_slice_delete(&slice);
        proxier.sync_proxy_rules().expect("second sync");
        let entries = node.udp_conntrack_entries("10.96.0.53");
        assert!(
            entries.is_empty(),
            "the flow to the removed endpoint is gone: {entries:?}"
        );
    }

    /// Applies one ruleset with every rule shape the proxier writes, so that
    /// iptables-restore in this environment has to accept all of them.
    #[test]
    fn every_rule_shape_is_accepted() {
        let node = NodeAndPod::create("shapes");
        let proxier = proxier(&node);

        let mut external = netns::service("external", "10.96.0.20", 80, 8080);
        {
            let spec = external.spec.as_mut().unwrap();
            spec.type_ = Some("LoadBalancer".to_string());
            spec.ports.as_mut().unwrap()[0].node_port = Some(30080);
            spec.external_ips = Some(vec!["192.0.2.10".to_string()]);
            spec.external_traffic_policy = Some("Local".to_string());
            spec.health_check_node_port = Some(30256);
            spec.load_balancer_source_ranges = Some(vec!["198.51.100.0/24".to_string()]);
            spec.session_affinity = Some("ClientIP".to_string());
        }
        external.status = Some(k8s_openapi::api::core::v1::ServiceStatus {
            load_balancer: Some(k8s_openapi::api::core::v1::LoadBalancerStatus {
                ingress: Some(vec![k8s_openapi::api::core::v1::LoadBalancerIngress {
                    ip: Some("203.0.113.7".to_string()),
                    ..Default::default()
                }]),
            }),
            conditions: None,
        });
        let mut local_slice = netns::slice("external", &["10.244.1.2", "10.244.1.3"], 8080);
        local_slice.endpoints[0].node_name = Some("node1".to_string());

        let mut empty_udp = netns::service("empty-udp", "10.96.0.21", 53, 53);
        {
            let spec = empty_udp.spec.as_mut().unwrap();
            spec.type_ = Some("NodePort".to_string());
            let port = &mut spec.ports.as_mut().unwrap()[0];
            port.protocol = Some("UDP".to_string());
            port.node_port = Some(30053);
        }
        let mut internal_local = netns::service("internal-local", "10.96.0.22", 80, 8080);
        internal_local
            .spec
            .as_mut()
            .unwrap()
            .internal_traffic_policy = Some("Local".to_string());

        proxier.on_service_add(&external);
        proxier.on_service_add(&empty_udp);
        proxier.on_service_add(&internal_local);
        proxier.on_endpoint_slice_add(&local_slice);
        proxier.on_endpoint_slice_add(&netns::slice("internal-local", &["10.244.1.4"], 8080));
        proxier.on_services_synced();
        proxier.on_endpoint_slices_synced();
        let report = proxier
            .sync_proxy_rules()
            .expect("the kernel accepts every rule shape")
            .expect("synced");

        let nat = node.iptables_save("nat");
        for chain in [
            "KUBE-EXT-",
            "KUBE-FW-",
            "KUBE-SVL-",
            "KUBE-SVC-",
            "KUBE-SEP-",
        ] {
            assert!(
                nat.contains(&format!(":{chain}")),
                "{chain} chain missing:\n{nat}"
            );
        }
        assert!(nat.contains("--rcheck --seconds 10800 --reap"), "{nat}");
        let filter = node.iptables_save("filter");
        assert!(
            filter.contains("\"default/empty-udp:http has no endpoints\""),
            "{filter}"
        );
        assert!(
            filter.contains("\"default/internal-local:http has no local endpoints\""),
            "{filter}"
        );
        assert!(filter.contains("-A KUBE-PROXY-FIREWALL"), "{filter}");
        assert!(filter.contains("--dport 30256"), "{filter}");
        let kube_filter_rules = filter
            .lines()
            .filter(|line| line.contains("-A KUBE-"))
            .count();
        assert_eq!(
            report.ruleset.filter_rules, kube_filter_rules,
            "the rule count metric matches the kernel"
        );
    }

    /// A restarted proxier finds the jumps from the built-in chains in iptables-save
    /// and must not insert them again, with either backend's save format.
    #[test]
    fn restart_keeps_one_jump_per_builtin_chain() {
        for backend in [Backend::Nft, Backend::Legacy] {
            let node = NodeAndPod::create("jumps");
            for _ in 0..2 {
                let proxier = proxier_with_backend(&node, backend);
                proxier.on_service_add(&netns::service("web", "10.96.0.10", 80, 8080));
                proxier.on_endpoint_slice_add(&netns::slice("web", &["10.244.1.2"], 8080));
                proxier.on_services_synced();
                proxier.on_endpoint_slices_synced();
                let report = proxier.sync_proxy_rules().expect("sync").expect("synced");
                assert!(report.full);
            }
            let save_program = match backend {
                Backend::Legacy => "iptables-legacy-save",
                _ => "iptables-nft-save",
            };
            let executor = node.node_executor();
            for (table, builtin) in [
                ("filter", &["INPUT", "FORWARD", "OUTPUT"][..]),
                ("nat", &["PREROUTING", "OUTPUT", "POSTROUTING"][..]),
            ] {
                let save = executor
                    .run_checked(&Cmd::new(save_program, &["-t", table]))
                    .expect("save")
                    .stdout;
                for chain in builtin {
                    let jumps: Vec<&str> = save
                        .lines()
                        .filter(|line| line.starts_with(&format!("-A {chain} ")))
                        .collect();
                    let mut unique = jumps.clone();
                    unique.sort_unstable();
                    unique.dedup();
                    assert_eq!(
                        jumps.len(),
                        unique.len(),
                        "{backend:?} {table} {chain} has a jump twice:\n{save}"
                    );
                    assert!(!jumps.is_empty(), "{backend:?} {table} {chain}:\n{save}");
                }
            }
            let nat = executor
                .run_checked(&Cmd::new(save_program, &["-t", "nat"]))
                .expect("save")
                .stdout;
            assert!(
                nat.lines()
                    .find(|line| line.starts_with("-A POSTROUTING"))
                    .is_some_and(|line| line.contains("-j KUBE-POSTROUTING")),
                "{backend:?}: the KUBE-POSTROUTING jump is first in POSTROUTING:\n{nat}"
            );
        }
    }

    /// A partial sync replaces a service's KUBE-SERVICES rule with `-D` and `-I`, so
    /// the jump to KUBE-NODEPORTS stays last and other services keep their rules.
    #[test]
    fn partial_sync_moves_cluster_ip_rule() {
        let node = NodeAndPod::create("move");
        let _echo = EchoServer::start(&node.pod, "10.244.1.2:8080".parse().unwrap());
        let proxier = proxier(&node);
        let web = netns::service("web", "10.96.0.10", 80, 8080);
        proxier.on_service_add(&web);
        proxier.on_service_add(&netns::service("other", "10.96.0.12", 80, 8080));
        proxier.on_endpoint_slice_add(&netns::slice("web", &["10.244.1.2"], 8080));
        proxier.on_endpoint_slice_add(&netns::slice("other", &["10.244.1.2"], 8080));
        proxier.on_services_synced();
        proxier.on_endpoint_slices_synced();
        proxier.sync_proxy_rules().expect("first sync");

        let moved = netns::service("web", "10.96.0.30", 80, 8080);
        proxier.on_service_update(&web, &moved);
        let report = proxier
            .sync_proxy_rules()
            .expect("partial sync")
            .expect("synced");
        assert!(!report.full);
        assert!(report.ruleset.nat.contains("-D KUBE-SERVICES "));

        let nat = node.iptables_save("nat");
        let services: Vec<&str> = nat
            .lines()
            .filter_map(|line| line.split_once("] ").map(|(_, rule)| rule))
            .filter(|rule| rule.starts_with("-A KUBE-SERVICES "))
            .collect();
        assert_eq!(services.len(), 3, "{nat}");
        assert!(services[2].contains("-j KUBE-NODEPORTS"), "{nat}");
        assert!(!nat.contains("10.96.0.10/32"), "{nat}");
        let moved_address: SocketAddr = "10.96.0.30:80".parse().unwrap();
        assert_eq!(node.echo_via(moved_address, "moved").unwrap(), "moved");
        let other: SocketAddr = "10.96.0.12:80".parse().unwrap();
        assert_eq!(node.echo_via(other, "other").unwrap(), "other");
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

mod apiserver {
    use std::net::SocketAddr;
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use clap::Parser;
    use client::config::{AuthConfig, RestConfig, TlsConfig};
    use client::rest::RestClient;
    use kube_apiserver::apiserver::{self, RunningServer};
    use kube_apiserver::options::Options;
    use kube_proxy::iptables::ruleset::RulesConfig;
    use kube_proxy::iptables::{Proxier, ProxierConfig};
    use kube_proxy::metrics::ProxyMetrics;
    use kube_proxy::net::IpFamily;
    use kube_proxy::provider::Provider;
    use serde_json::{Value, json};
    use tokio::sync::watch;

    use crate::netns::{EchoServer, NodeAndPod};

    async fn start_apiserver(dir: &tempfile::TempDir) -> (RunningServer, RestConfig) {
        let data_dir = format!("--data-dir={}", dir.path().join("data").display());
        let cert_dir = format!("--cert-dir={}", dir.path().join("certs").display());
        let options = Options::try_parse_from([
            "kube-apiserver",
            "--bind-address=127.0.0.1",
            "--secure-port=0",
            "--service-cluster-ip-range=10.96.0.0/16",
            data_dir.as_str(),
            cert_dir.as_str(),
        ])
        .expect("parse flags");
        let server = apiserver::start(options)
            .await
            .expect("start kube-apiserver");
        let config = RestConfig {
            host: format!("https://127.0.0.1:{}", server.address.port()),
            tls: TlsConfig {
                ca_file: Some(PathBuf::from(&server.certificate.cert_file)),
                ..TlsConfig::default()
            },
            auth: AuthConfig {
                token: Some("test-token".to_string()),
                ..AuthConfig::default()
            },
            qps: 100.0,
            burst: 100,
            timeout: Some(Duration::from_secs(20)),
            user_agent: String::new(),
        };
        (server, config)
    }

    async fn wait_ready(client: &RestClient) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = client.get("/readyz").send().await
                && response.status.is_success()
            {
                return;
            }
            assert!(Instant::now() < deadline, "kube-apiserver not ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls `check` every 100 ms for up to 20 s.
    async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !check() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn objects_created_through_api_become_rules() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (server, rest_config) = start_apiserver(&dir).await;
        let client = RestClient::new(&rest_config).expect("client");
        wait_ready(&client).await;

        let node = Arc::new(NodeAndPod::create("api"));
        let _echo = EchoServer::start(&node.pod, "10.244.1.2:8080".parse().unwrap());
        let proxier = Arc::new(Proxier::new(
            ProxierConfig {
                hostname: "node1".to_string(),
                family: IpFamily::V4,
                rules: RulesConfig {
                    cluster_cidr: Some("10.244.0.0/16".parse().unwrap()),
                    ..RulesConfig::default()
                },
                min_sync_period: Duration::from_millis(100),
                sync_period: Duration::from_secs(30),
                backend: kube_proxy::iptables::client::Backend::System,
            },
            Arc::new(node.node_executor()),
            Arc::new(ProxyMetrics::new()),
        ));
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let _factory = kube_proxy::server::start_informers(
            client.clone(),
            Arc::clone(&proxier) as Arc<dyn Provider>,
            Duration::ZERO,
            cancel_rx.clone(),
        )
        .expect("start informers");
        let sync_loop = tokio::spawn(Arc::clone(&proxier).sync_loop(cancel_rx));

        let service: Value = client
            .post("/api/v1/namespaces/default/services")
            .json(&json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web"},
                "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]},
            }))
            .request_json()
            .await
            .expect("create service");
        let cluster_ip = service["spec"]["clusterIP"]
            .as_str()
            .expect("allocated cluster IP")
            .to_string();
        let _: Value = client
            .post("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices")
            .json(&json!({
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {"name": "web-abc", "labels": {"kubernetes.io/service-name": "web"}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": ["10.244.1.2"], "conditions": {"ready": true}, "nodeName": "node2"}],
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            }))
            .request_json()
            .await
            .expect("create endpoint slice");

        let address: SocketAddr = format!("{cluster_ip}:80").parse().unwrap();
        let reaching = Arc::clone(&node);
        eventually("the cluster IP to reach the echo server", move || {
            reaching
                .echo_via(address, "api")
                .is_ok_and(|reply| reply == "api")
        })
        .await;
        let nat = node.iptables_save("nat");
        assert!(nat.contains(&format!("-d {cluster_ip}/32")), "{nat}");
        assert!(nat.contains("\"default/web:http cluster IP\""), "{nat}");

        let _: Value = client
            .delete("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc")
            .request_json()
            .await
            .expect("delete endpoint slice");
        let rejecting = Arc::clone(&node);
        eventually("the service without endpoints to be rejected", move || {
            rejecting
                .echo_via(address, "x")
                .is_err_and(|error| error.kind() == std::io::ErrorKind::ConnectionRefused)
        })
        .await;

        cancel_tx.send(true).expect("cancel");
        sync_loop.await.expect("sync loop stops");
        server.shutdown().await;
    }
}

mod userspace_mode {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::Duration;

    use kube_proxy::exec::CommandExecutor;
    use kube_proxy::net::IpFamily;
    use kube_proxy::provider::Provider;
    use kube_proxy::userspace::{UserspaceConfig, UserspaceProxier};

    use crate::netns::{self, EchoServer, NodeAndPod, UdpEchoServer};

    #[test]
    fn proxy_socket_forwards_cluster_ip_traffic() {
        let node = Arc::new(NodeAndPod::create("user"));
        let _echo = EchoServer::start(&node.pod, "10.244.1.2:8080".parse().unwrap());
        let _udp_echo = UdpEchoServer::start(&node.pod, "10.244.1.2:5353".parse().unwrap());
        let thread_node = Arc::clone(&node);
        // The proxier opens sockets and runs iptables from the calling thread, so the
        // whole runtime lives on a thread inside the node namespace. Threads that it
        // spawns inherit that namespace.
        let result = std::thread::spawn(move || {
            thread_node.node.enter_current_thread();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let proxier = UserspaceProxier::new(
                    UserspaceConfig {
                        listen_ip: "0.0.0.0".parse().unwrap(),
                        family: IpFamily::V4,
                        sync_period: Duration::from_secs(30),
                        min_sync_period: Duration::ZERO,
                    },
                    Arc::new(CommandExecutor),
                );
                proxier.on_service_add(&netns::service("web", "10.96.0.10", 80, 8080));
                proxier.on_endpoint_slice_add(&netns::slice("web", &["10.244.1.2"], 8080));
                let mut dns = netns::service("dns", "10.96.0.53", 53, 5353);
                dns.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].protocol =
                    Some("UDP".to_string());
                let mut dns_slice = netns::slice("dns", &["10.244.1.2"], 5353);
                dns_slice.ports.as_mut().unwrap()[0].protocol = Some("UDP".to_string());
                proxier.on_service_add(&dns);
                proxier.on_endpoint_slice_add(&dns_slice);
                proxier.on_services_synced();
                proxier.on_endpoint_slices_synced();
                assert!(proxier.sync_proxy_rules().expect("sync"));

                let web: SocketAddr = "10.96.0.10:80".parse().unwrap();
                let client_node = Arc::clone(&thread_node);
                let reply = tokio::task::spawn_blocking(move || {
                    client_node.echo_via(web, "through userspace")
                })
                .await
                .expect("client");
                let nat = thread_node.iptables_save("nat");
                assert!(nat.contains("-A KUBE-PORTALS-HOST"), "{nat}");
                assert!(
                    !kube_proxy::userspace::cleanup(&CommandExecutor),
                    "cleanup succeeds"
                );
                assert!(
                    !thread_node.iptables_save("nat").contains("KUBE-PORTALS"),
                    "cleanup removes the portal chains"
                );
                reply
            })
        })
        .join()
        .expect("proxy thread");
        assert_eq!(
            result.expect("connect through the proxy socket"),
            "through userspace"
        );
    }
}

mod userspace_node_ports {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::Duration;

    use kube_proxy::exec::CommandExecutor;
    use kube_proxy::net::IpFamily;
    use kube_proxy::provider::Provider;
    use kube_proxy::service::{Protocol, ServicePortName};
    use kube_proxy::userspace::{UserspaceConfig, UserspaceProxier};

    use crate::netns::{self, EchoServer, NodeAndPod};

    /// Traffic from a pod to the node's address on the node port is redirected to the
    /// service's proxy socket. The node port itself is bound by a socket of its own.
    #[test]
    fn node_port_reaches_endpoint() {
        let node = Arc::new(NodeAndPod::create("usernp"));
        let _echo = EchoServer::start(&node.pod, "10.244.1.2:8080".parse().unwrap());
        let thread_node = Arc::clone(&node);
        std::thread::spawn(move || {
            thread_node.node.enter_current_thread();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let proxier = UserspaceProxier::new(
                    UserspaceConfig {
                        listen_ip: "0.0.0.0".parse().unwrap(),
                        family: IpFamily::V4,
                        sync_period: Duration::from_secs(30),
                        min_sync_period: Duration::ZERO,
                    },
                    Arc::new(CommandExecutor),
                );
                let mut web = netns::service("web", "10.96.0.10", 80, 8080);
                {
                    let spec = web.spec.as_mut().unwrap();
                    spec.type_ = Some("NodePort".to_string());
                    spec.ports.as_mut().unwrap()[0].node_port = Some(30080);
                }
                proxier.on_service_add(&web);
                proxier.on_endpoint_slice_add(&netns::slice("web", &["10.244.1.2"], 8080));
                proxier.on_services_synced();
                proxier.on_endpoint_slices_synced();
                assert!(proxier.sync_proxy_rules().expect("sync"));
                let name = ServicePortName::new("default", "web", "http", Protocol::Tcp);
                assert!(
                    proxier.node_port_open(&name),
                    "the node port socket is open"
                );

                let client = Arc::clone(&thread_node);
                let from_pod = tokio::task::spawn_blocking(move || {
                    let address: SocketAddr = "10.244.1.1:30080".parse().unwrap();
                    client.echo_from_pod(address, "pod to node port")
                })
                .await
                .expect("client");
                assert_eq!(
                    from_pod.expect("connect from the pod to the node port"),
                    "pod to node port"
                );
                let redirected = thread_node.counters_of("-A KUBE-NODEPORT-CONTAINER", "30080");
                assert_eq!(redirected.len(), 1);
                assert!(
                    redirected[0].0 > 0,
                    "the pod's connection went through the redirect rule: {redirected:?}"
                );

                let client = Arc::clone(&thread_node);
                let from_node = tokio::task::spawn_blocking(move || {
                    let address: SocketAddr = "127.0.0.1:30080".parse().unwrap();
                    client.echo_via(address, "node to node port")
                })
                .await
                .expect("client");
                assert_eq!(
                    from_node.expect("connect from the node to its node port"),
                    "node to node port"
                );
                let filter = thread_node.iptables_save("filter");
                assert!(filter.contains("-A KUBE-NODEPORT-NON-LOCAL"), "{filter}");

                assert!(
                    !kube_proxy::userspace::cleanup(&CommandExecutor),
                    "cleanup succeeds"
                );
                let nat = thread_node.iptables_save("nat");
                assert!(
                    !nat.contains("KUBE-"),
                    "cleanup removes every chain:\n{nat}"
                );
                let filter = thread_node.iptables_save("filter");
                assert!(!filter.contains("KUBE-"), "{filter}");
            });
        })
        .join()
        .expect("proxy thread");
    }
}

mod ipvs_mode {
    use std::net::IpAddr;
    use std::process::Command;

    use kube_proxy::ipvs::device::{DUMMY_DEVICE, LinkError, LinkHandle, Rtnetlink};
    use kube_proxy::ipvs::netlink::{IpvsError, NetlinkIpvs};

    use crate::netns::Netns;

    fn ip(netns: &Netns, args: &[&str]) -> std::process::Output {
        let mut all = vec!["-n", netns.name.as_str()];
        all.extend_from_slice(args);
        Command::new("ip").args(&all).output().expect("run ip")
    }

    /// Returns the device kind to test with: `dummy` where the kernel has the driver. This
    /// kernel has none (`ip link add ... type dummy` fails too), so the address
    /// handling runs on a bridge there, which also keeps its addresses while down.
    fn device_kind(netns: &Netns, link: &mut Rtnetlink) -> &'static str {
        match link.ensure_link(DUMMY_DEVICE, "dummy") {
            Ok(_) => "dummy",
            Err(LinkError::KindNotSupported { kind }) => {
                assert_eq!(kind, "dummy");
                let by_hand = ip(netns, &["link", "add", "probe0", "type", "dummy"]);
                assert!(
                    !by_hand.status.success(),
                    "ip creates a dummy interface, so rtnetlink should too"
                );
                "bridge"
            }
            Err(error) => panic!("ensure {DUMMY_DEVICE}: {error}"),
        }
    }

    /// kube-ipvs0 in a test namespace: created, addresses bound and unbound, deleted.
    #[test]
    fn dummy_device_holds_service_addresses() {
        let netns = Netns::create(format!("kp-ipvs0-{}", std::process::id()));
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    netns.enter_current_thread();
                    let mut link = Rtnetlink::connect().expect("rtnetlink socket");
                    let kind = device_kind(&netns, &mut link);
                    let index = link.ensure_link(DUMMY_DEVICE, kind).expect("create");
                    assert_eq!(
                        link.ensure_link(DUMMY_DEVICE, kind).expect("again"),
                        index,
                        "an existing interface is reused"
                    );

                    let first: IpAddr = "10.96.0.10".parse().unwrap();
                    let second: IpAddr = "10.96.0.11".parse().unwrap();
                    link.add_address(index, first).expect("add");
                    link.add_address(index, second).expect("add");
                    link.add_address(index, first)
                        .expect("adding twice is fine");
                    let mut bound = link.list_addresses(index).expect("list");
                    bound.sort();
                    assert_eq!(bound, [first, second]);
                    let shown = ip(&netns, &["addr", "show", "dev", DUMMY_DEVICE]);
                    let shown = String::from_utf8_lossy(&shown.stdout);
                    assert!(shown.contains("inet 10.96.0.10/32 scope host"), "{shown}");
                    let route = ip(&netns, &["route", "get", "10.96.0.11"]);
                    let route = String::from_utf8_lossy(&route.stdout);
                    assert!(
                        route.starts_with("local 10.96.0.11"),
                        "the address is local: {route}"
                    );

                    link.delete_address(index, first).expect("delete");
                    link.delete_address(index, first)
                        .expect("deleting twice is fine");
                    assert_eq!(link.list_addresses(index).expect("list"), [second]);

                    assert!(
                        !kube_proxy::ipvs::cleanup(&mut link, None),
                        "cleanup succeeds"
                    );
                    assert_eq!(link.find_link(DUMMY_DEVICE).expect("look up"), None);
                    let shown = ip(&netns, &["link", "show", DUMMY_DEVICE]);
                    assert!(!shown.status.success(), "the interface is gone");
                    assert!(!link.delete_link(DUMMY_DEVICE).expect("delete again"));
                })
                .join()
                .expect("test thread");
        });
    }

    #[test]
    fn missing_ipvs_is_a_clear_error() {
        let kernel_has_ipvs = std::path::Path::new("/proc/net/ip_vs").exists();
        match NetlinkIpvs::connect() {
            Err(IpvsError::NotAvailable) => assert!(
                !kernel_has_ipvs,
                "/proc/net/ip_vs exists but the family was not found"
            ),
            Ok(_) => assert!(
                kernel_has_ipvs,
                "the IPVS family resolved without /proc/net/ip_vs"
            ),
            Err(other) => panic!("unexpected error: {other}"),
        }
        if kernel_has_ipvs {
            return;
        }

        let output = std::process::Command::new(env!("CARGO_BIN_EXE_kube-proxy"))
            .args([
                "--proxy-mode",
                "ipvs",
                "--hostname-override",
                "node1",
                "--healthz-bind-address=",
                "--metrics-bind-address=",
            ])
            .output()
            .expect("run kube-proxy");
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("IPVS is not available in this kernel"),
            "{stderr}"
        );
    }
}

mod servers {
    use std::sync::Arc;
    use std::time::Duration;

    use kube_proxy::health::{self, Endpoints, ProxierHealth};
    use kube_proxy::metrics::ProxyMetrics;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::watch;

    /// Sends `GET path` over HTTP/1.1 and returns the status line and the body.
    async fn get(address: std::net::SocketAddr, path: &str) -> (String, String) {
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("write request");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .await
            .expect("read response");
        let status = response.lines().next().unwrap_or_default().to_string();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default();
        (status, body)
    }

    #[tokio::test]
    async fn healthz_follows_sync_state() {
        let proxier_health = Arc::new(ProxierHealth::new(Duration::from_millis(200)));
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let (address, serve) = health::serve(
            "127.0.0.1:0".parse().unwrap(),
            Endpoints::Health(Arc::clone(&proxier_health)),
            cancel_rx,
        )
        .await
        .expect("bind healthz");
        let server = tokio::spawn(serve);

        let (status, body) = get(address, "/healthz").await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        let json: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
        assert!(
            json["currentTime"]
                .as_str()
                .is_some_and(|time| time.ends_with('Z')),
            "{body}"
        );

        proxier_health.queued_update();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (status, _) = get(address, "/healthz").await;
        assert_eq!(
            status, "HTTP/1.1 503 Service Unavailable",
            "a change waited longer than the timeout"
        );

        proxier_health.updated();
        let (status, body) = get(address, "/livez").await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(body.contains("lastUpdated\":\"20"), "{body}");

        let (status, _) = get(address, "/nothing").await;
        assert_eq!(status, "HTTP/1.1 404 Not Found");
        cancel_tx.send(true).expect("cancel");
        server.await.expect("server stops");
    }

    #[tokio::test]
    async fn metrics_server_exposes_sync_metrics() {
        let metrics = Arc::new(ProxyMetrics::new());
        metrics.record_sync(
            Duration::from_millis(20),
            &[std::time::SystemTime::now() - Duration::from_secs(2)],
        );
        metrics.set_rules("nat", 13);
        let (_cancel_tx, cancel_rx) = watch::channel(false);
        let endpoints = Endpoints::Metrics {
            metrics,
            mode: "iptables",
        };
        let (address, serve) = health::serve("127.0.0.1:0".parse().unwrap(), endpoints, cancel_rx)
            .await
            .expect("bind metrics");
        tokio::spawn(serve);

        let (status, body) = get(address, "/metrics").await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(
            body.contains("kubeproxy_sync_proxy_rules_duration_seconds_count 1"),
            "{body}"
        );
        assert!(
            body.contains("kubeproxy_network_programming_duration_seconds_count 1"),
            "{body}"
        );
        assert!(
            body.contains("kubeproxy_sync_proxy_rules_iptables_total{table=\"nat\"} 13"),
            "{body}"
        );
        let (_, mode) = get(address, "/proxyMode").await;
        assert_eq!(mode, "iptables");
    }
}

mod binary {
    use std::net::SocketAddr;
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use clap::Parser;
    use client::config::{AuthConfig, RestConfig, TlsConfig};
    use client::rest::RestClient;
    use kube_apiserver::apiserver;
    use kube_apiserver::options::Options;
    use serde_json::{Value, json};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use crate::netns::{EchoServer, NodeAndPod};

    /// The kube-proxy child process, killed on drop.
    struct Daemon(Child);

    impl Drop for Daemon {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    async fn http_get(address: &str, path: &str) -> String {
        let Ok(mut stream) = tokio::net::TcpStream::connect(address).await else {
            return String::new();
        };
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        if stream.write_all(request.as_bytes()).await.is_err() {
            return String::new();
        }
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response).await;
        response
    }

    /// The kube-proxy binary, inside a node namespace that also hosts the API server
    /// on its loopback, programs a Service created through the API.
    #[test]
    fn daemon_programs_service_from_api() {
        let node = Arc::new(NodeAndPod::create("bin"));
        let _echo = EchoServer::start(&node.pod, "10.244.1.2:8080".parse().unwrap());
        let thread_node = Arc::clone(&node);
        std::thread::spawn(move || {
            // Everything below, including the API server's listener, the child process
            // and the runtime's worker threads, lives in the node namespace.
            thread_node.node.enter_current_thread();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(run_in_node(thread_node));
        })
        .join()
        .expect("test thread");
    }

    async fn run_in_node(node: Arc<NodeAndPod>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = format!("--data-dir={}", dir.path().join("data").display());
        let cert_dir = format!("--cert-dir={}", dir.path().join("certs").display());
        let options = Options::try_parse_from([
            "kube-apiserver",
            "--bind-address=127.0.0.1",
            "--secure-port=0",
            "--service-cluster-ip-range=10.96.0.0/16",
            data_dir.as_str(),
            cert_dir.as_str(),
        ])
        .expect("parse flags");
        let server = apiserver::start(options)
            .await
            .expect("start kube-apiserver");
        let host = format!("https://127.0.0.1:{}", server.address.port());
        let cert_file = PathBuf::from(&server.certificate.cert_file);
        let client = RestClient::new(&RestConfig {
            host: host.clone(),
            tls: TlsConfig {
                ca_file: Some(cert_file.clone()),
                ..TlsConfig::default()
            },
            auth: AuthConfig {
                token: Some("test-token".to_string()),
                ..AuthConfig::default()
            },
            qps: 100.0,
            burst: 100,
            timeout: Some(Duration::from_secs(20)),
            user_agent: String::new(),
        })
        .expect("client");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = client.get("/readyz").send().await
                && response.status.is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "kube-apiserver not ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let kubeconfig = dir.path().join("kube-proxy.conf");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: {host}\n    certificate-authority: {}\nusers:\n- name: proxy\n  user:\n    token: test-token\ncontexts:\n- name: local\n  context:\n    cluster: local\n    user: proxy\ncurrent-context: local\n",
                cert_file.display()
            ),
        )
        .expect("write kubeconfig");
        let config = dir.path().join("config.yaml");
        std::fs::write(
            &config,
            format!(
                "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16\nclientConnection:\n  kubeconfig: {}\niptables:\n  minSyncPeriod: 100ms\n",
                kubeconfig.display()
            ),
        )
        .expect("write config");
        let daemon = Daemon(
            Command::new(env!("CARGO_BIN_EXE_kube-proxy"))
                .args([
                    "--config",
                    config.to_str().unwrap(),
                    "--hostname-override",
                    "node1",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start kube-proxy"),
        );

        let service: Value = client
            .post("/api/v1/namespaces/default/services")
            .json(&json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web"},
                "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
            }))
            .request_json()
            .await
            .expect("create service");
        let cluster_ip = service["spec"]["clusterIP"]
            .as_str()
            .expect("cluster IP")
            .to_string();
        let _: Value = client
            .post("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices")
            .json(&json!({
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {"name": "web-abc", "labels": {"kubernetes.io/service-name": "web"}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": ["10.244.1.2"], "conditions": {"ready": true}}],
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            }))
            .request_json()
            .await
            .expect("create endpoint slice");

        let address: SocketAddr = format!("{cluster_ip}:80").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let probe = Arc::clone(&node);
            let reply = tokio::task::spawn_blocking(move || probe.echo_via(address, "daemon"))
                .await
                .expect("probe");
            if reply.as_deref().ok() == Some("daemon") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the daemon never programmed {address}: {reply:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }

        let healthz = http_get("127.0.0.1:10256", "/healthz").await;
        assert!(healthz.starts_with("HTTP/1.1 200"), "{healthz}");
        let metrics = http_get("127.0.0.1:10249", "/metrics").await;
        assert!(
            metrics.contains("kubeproxy_sync_proxy_rules_last_timestamp_seconds"),
            "{metrics}"
        );
        assert!(
            metrics.contains("kubeproxy_network_programming_duration_seconds"),
            "{metrics}"
        );

        drop(daemon);
        // An interface named as the IPVS mode names its own; a bridge, because this
        // kernel has no dummy driver. --cleanup deletes it by name.
        let made = Command::new("ip")
            .args(["link", "add", "kube-ipvs0", "type", "bridge"])
            .status()
            .expect("run ip");
        assert!(made.success());
        let cleanup = Command::new(env!("CARGO_BIN_EXE_kube-proxy"))
            .args(["--cleanup", "--hostname-override", "node1"])
            .output()
            .expect("run kube-proxy --cleanup");
        assert!(
            cleanup.status.success(),
            "{}",
            String::from_utf8_lossy(&cleanup.stderr)
        );
        let nat = node.iptables_save("nat");
        assert!(
            !nat.contains("KUBE-"),
            "--cleanup removes every kube-proxy chain:\n{nat}"
        );
        let shown = Command::new("ip")
            .args(["link", "show", "kube-ipvs0"])
            .output()
            .expect("run ip");
        assert!(!shown.status.success(), "--cleanup deletes kube-ipvs0");

        server.shutdown().await;
    }
}
