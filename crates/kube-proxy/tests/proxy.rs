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
    use kube_proxy::iptables::ruleset::RulesConfig;
    use kube_proxy::iptables::{Proxier, ProxierConfig};
    use kube_proxy::metrics::ProxyMetrics;
    use kube_proxy::net::IpFamily;
    use kube_proxy::provider::Provider;

    use crate::netns::{self, EchoServer, NodeAndPod, UdpEchoServer};

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

mod ipvs_mode {
    use kube_proxy::ipvs::netlink::{IpvsError, NetlinkIpvs};

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

        server.shutdown().await;
    }
}

mod scale {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use kube_proxy::iptables::ruleset::RulesConfig;
    use kube_proxy::iptables::{Proxier, ProxierConfig};
    use kube_proxy::metrics::ProxyMetrics;
    use kube_proxy::net::IpFamily;
    use kube_proxy::provider::Provider;

    use crate::netns::{self, NodeAndPod};

    /// Prints full and partial sync times for 1000 services with 2 endpoints each.
    /// Run with `cargo test -p kube-proxy --test proxy scale -- --ignored --nocapture`.
    #[test]
    #[ignore = "measurement, not a check"]
    fn sync_time_for_1000_services() {
        let node = NodeAndPod::create("scale");
        let proxier = Proxier::new(
            ProxierConfig {
                hostname: "node1".to_string(),
                family: IpFamily::V4,
                rules: RulesConfig {
                    cluster_cidr: Some("10.244.0.0/16".parse().unwrap()),
                    ..RulesConfig::default()
                },
                min_sync_period: Duration::ZERO,
                sync_period: Duration::from_secs(30),
            },
            Arc::new(node.node_executor()),
            Arc::new(ProxyMetrics::new()),
        );
        for index in 0..1000 {
            let name = format!("svc{index}");
            let ip = format!("10.96.{}.{}", index / 250, index % 250 + 1);
            proxier.on_service_add(&netns::service(&name, &ip, 80, 8080));
            let first = format!("10.244.{}.{}", index / 250 + 10, index % 250 + 1);
            let second = format!("10.244.{}.{}", index / 250 + 20, index % 250 + 1);
            proxier.on_endpoint_slice_add(&netns::slice(&name, &[&first, &second], 8080));
        }
        proxier.on_services_synced();
        proxier.on_endpoint_slices_synced();

        let started = Instant::now();
        let report = proxier.sync_proxy_rules().unwrap().unwrap();
        println!(
            "full sync: {:?}, {} nat rules",
            started.elapsed(),
            report.ruleset.nat_rules
        );

        proxier.on_endpoint_slice_add(&netns::slice("svc7", &["10.244.99.1"], 8080));
        let started = Instant::now();
        let report = proxier.sync_proxy_rules().unwrap().unwrap();
        assert!(!report.full);
        println!(
            "partial sync: {:?}, {} nat rules",
            started.elapsed(),
            report.ruleset.nat_rules
        );
    }
}
