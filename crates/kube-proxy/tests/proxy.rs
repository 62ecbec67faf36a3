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
        let server = apiserver::start(options).await.expect("start kube-apiserver");
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
        let _factory = kube_proxy::server::start_informers(client.clone(), Arc::clone(&proxier) as Arc<dyn Provider>, Duration::ZERO, cancel_rx.clone())
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
        let cluster_ip = service["spec"]["clusterIP"].as_str().expect("allocated cluster IP").to_string();
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
        eventually("the cluster IP to reach the echo server", move || reaching.echo_via(address, "api").is_ok_and(|reply| reply == "api")).await;
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
            rejecting.echo_via(address, "x").is_err_and(|error| error.kind() == std::io::ErrorKind::ConnectionRefused)
        })
        .await;

        cancel_tx.send(true).expect("cancel");
        sync_loop.await.expect("sync loop stops");
        server.shutdown().await;
    }
}
