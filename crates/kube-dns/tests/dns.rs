//! kube-dns against a real kube-apiserver started in-process, queried over real UDP
//! and TCP sockets on 127.0.0.1. The test creates Services and EndpointSlices
//! through the API and checks the records the server returns for them, also after
//! changes that arrive by watch.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use clap::Parser;
use client::config::{AuthConfig, RestConfig, TlsConfig};
use client::rest::RestClient;
use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use kube_apiserver::apiserver::{self, RunningServer};
use kube_dns::app::{self, RunningServer as RunningDns};
use kube_dns::options::Options;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::watch;

const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

struct Cluster {
    apiserver: Option<RunningServer>,
    client: RestClient,
    dns: Option<RunningDns>,
    stop: watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    async fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("create temp dir");
        let data_dir = format!("--data-dir={}", dir.path().join("data").display());
        let cert_dir = format!("--cert-dir={}", dir.path().join("certs").display());
        let options = kube_apiserver::options::Options::try_parse_from([
            "kube-apiserver",
            "--bind-address=127.0.0.1",
            "--secure-port=0",
            data_dir.as_str(),
            cert_dir.as_str(),
        ])
        .expect("parse apiserver flags");
        let apiserver = apiserver::start(options)
            .await
            .expect("start kube-apiserver");
        let config = RestConfig {
            host: format!("https://127.0.0.1:{}", apiserver.address.port()),
            tls: TlsConfig {
                ca_file: Some(apiserver.certificate.cert_file.clone()),
                ..TlsConfig::default()
            },
            auth: AuthConfig {
                token: Some("test-token".to_string()),
                ..AuthConfig::default()
            },
            qps: 500.0,
            burst: 500,
            timeout: Some(Duration::from_secs(20)),
            user_agent: String::new(),
        };
        let client = RestClient::new(&config).expect("build client");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = client.get("/readyz").send().await
                && response.status.is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "apiserver not ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (stop, _) = watch::channel(false);
        Cluster {
            apiserver: Some(apiserver),
            client,
            dns: None,
            stop,
            _dir: dir,
        }
    }

    /// Starts kube-dns on 127.0.0.1 with an ephemeral DNS port and the health server
    /// on `health_port`.
    async fn start_dns(&mut self, health_port: u16) -> SocketAddr {
        let health_flag = format!("--healthz-port={health_port}");
        let options = Options::try_parse_from([
            "kube-dns",
            "--dns-bind-address=127.0.0.1",
            "--dns-port=0",
            health_flag.as_str(),
        ])
        .expect("parse kube-dns flags");
        let dns = app::start(&options, self.client.clone(), self.stop.subscribe())
            .await
            .expect("start kube-dns");
        let address = dns.dns_address;
        self.dns = Some(dns);
        address
    }

    async fn create(&self, path: &str, body: Value) -> Value {
        self.client
            .post(path)
            .json(&body)
            .request_json()
            .await
            .unwrap_or_else(|error| panic!("create in {path}: {error}"))
    }

    async fn delete(&self, path: &str) {
        let _: Value = self
            .client
            .delete(path)
            .request_json()
            .await
            .unwrap_or_else(|error| panic!("delete {path}: {error}"));
    }

    async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(dns) = self.dns.take() {
            dns.wait().await;
        }
        if let Some(apiserver) = self.apiserver.take() {
            apiserver.shutdown().await;
        }
    }
}

fn query_bytes(name: &str, record_type: RecordType, id: u16) -> Vec<u8> {
    let mut message = Message::query();
    message.metadata.id = id;
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(Name::from_ascii(name).unwrap(), record_type));
    message.to_vec().unwrap()
}

async fn udp_exchange(server: SocketAddr, request: &[u8]) -> Message {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind UDP");
    socket
        .send_to(request, server)
        .await
        .expect("send UDP query");
    let mut buffer = vec![0u8; 65535];
    let (length, _) = tokio::time::timeout(QUERY_TIMEOUT, socket.recv_from(&mut buffer))
        .await
        .expect("UDP response in time")
        .expect("receive UDP response");
    Message::from_vec(&buffer[..length]).expect("response parses")
}

async fn udp_query(server: SocketAddr, name: &str, record_type: RecordType) -> Message {
    let response = udp_exchange(server, &query_bytes(name, record_type, 7)).await;
    assert_eq!(response.metadata.id, 7);
    response
}

async fn tcp_query(server: SocketAddr, name: &str, record_type: RecordType) -> Message {
    let mut stream = TcpStream::connect(server).await.expect("connect TCP");
    let request = query_bytes(name, record_type, 9);
    let mut framed = (request.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&request);
    stream.write_all(&framed).await.expect("send TCP query");
    let length = tokio::time::timeout(QUERY_TIMEOUT, stream.read_u16())
        .await
        .expect("TCP response in time")
        .expect("read length");
    let mut buffer = vec![0u8; usize::from(length)];
    stream.read_exact(&mut buffer).await.expect("read response");
    Message::from_vec(&buffer).expect("response parses")
}

fn answer_data(response: &Message) -> Vec<String> {
    let mut data: Vec<String> = response
        .answers
        .iter()
        .map(|record| record.data.to_string())
        .collect();
    data.sort();
    data
}

/// Queries until the answer data equals `expected` (the store follows the API by
/// watch, so a change shows after a moment) and panics after 10 s.
async fn wait_for_answer(
    server: SocketAddr,
    name: &str,
    record_type: RecordType,
    expected: &[&str],
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = udp_query(server, name, record_type).await;
        if answer_data(&response) == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} {record_type}: expected {expected:?}, last answer {response:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_code(server: SocketAddr, name: &str, code: ResponseCode) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = udp_query(server, name, RecordType::A).await;
        if response.metadata.response_code == code {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name}: expected {code}, last {response:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("find a free port")
}

async fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

fn slice(name: &str, service: &str, endpoints: Value, ports: Value) -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": name, "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": ports,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_cluster_records_over_udp_and_tcp() {
    let mut cluster = Cluster::start().await;
    cluster
        .create(
            "/api/v1/namespaces",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}),
        )
        .await;
    let web = cluster
        .create(
            "/api/v1/namespaces/apps/services",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                   "spec": {"ports": [{"name": "http", "port": 80, "protocol": "TCP"},
                                      {"name": "dns", "port": 53, "protocol": "UDP"}]}}),
        )
        .await;
    let web_ip = web["spec"]["clusterIP"]
        .as_str()
        .expect("allocated cluster IP")
        .to_string();
    cluster
        .create(
            "/api/v1/namespaces/apps/services",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
                   "spec": {"clusterIP": "None", "ports": [{"name": "pg", "port": 5432}]}}),
        )
        .await;
    cluster
        .create(
            "/apis/discovery.k8s.io/v1/namespaces/apps/endpointslices",
            slice(
                "db-1",
                "db",
                json!([
                    {"addresses": ["10.244.1.10"], "hostname": "db-0", "conditions": {"ready": true}},
                    {"addresses": ["10.244.2.11"], "hostname": "db-1", "conditions": {"ready": true}},
                    {"addresses": ["10.244.2.12"], "hostname": "db-2", "conditions": {"ready": false}},
                ]),
                json!([{"name": "pg", "port": 5432, "protocol": "TCP"}]),
            ),
        )
        .await;
    cluster
        .create(
            "/api/v1/namespaces/apps/services",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
                   "spec": {"type": "ExternalName", "externalName": "db.example.com"}}),
        )
        .await;
    let kubernetes: Value = cluster
        .client
        .get("/api/v1/namespaces/default/services/kubernetes")
        .request_json()
        .await
        .expect("get the kubernetes Service");
    let kubernetes_ip = kubernetes["spec"]["clusterIP"]
        .as_str()
        .unwrap()
        .to_string();

    let health_port = free_port();
    let server = cluster.start_dns(health_port).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    while http_status(health_port, "/readyz").await != Some(200) {
        assert!(Instant::now() < deadline, "kube-dns never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(http_status(health_port, "/healthz").await, Some(200));

    // Everything listed before readiness is in the store once /readyz says so.
    let response = udp_query(
        server,
        "kubernetes.default.svc.cluster.local.",
        RecordType::A,
    )
    .await;
    assert_eq!(response.metadata.response_code, ResponseCode::NoError);
    assert!(response.metadata.authoritative);
    assert_eq!(answer_data(&response), [kubernetes_ip.as_str()]);

    let response = tcp_query(server, "web.apps.svc.cluster.local.", RecordType::A).await;
    assert_eq!(answer_data(&response), [web_ip.as_str()]);

    let response = udp_query(server, "db.apps.svc.cluster.local.", RecordType::A).await;
    assert_eq!(answer_data(&response), ["10.244.1.10", "10.244.2.11"]);
    let response = udp_query(server, "db-1.db.apps.svc.cluster.local.", RecordType::A).await;
    assert_eq!(answer_data(&response), ["10.244.2.11"]);

    let response = udp_query(
        server,
        "_pg._tcp.db.apps.svc.cluster.local.",
        RecordType::SRV,
    )
    .await;
    assert_eq!(
        answer_data(&response),
        [
            "0 50 5432 db-0.db.apps.svc.cluster.local.",
            "0 50 5432 db-1.db.apps.svc.cluster.local."
        ]
    );
    let response = tcp_query(
        server,
        "_dns._udp.web.apps.svc.cluster.local.",
        RecordType::SRV,
    )
    .await;
    assert_eq!(
        answer_data(&response),
        ["0 100 53 web.apps.svc.cluster.local."]
    );

    let octets: Vec<&str> = web_ip.split('.').rev().collect();
    let reverse = format!("{}.in-addr.arpa.", octets.join("."));
    let response = udp_query(server, &reverse, RecordType::PTR).await;
    assert_eq!(answer_data(&response), ["web.apps.svc.cluster.local."]);

    let response = udp_query(server, "ext.apps.svc.cluster.local.", RecordType::A).await;
    assert_eq!(answer_data(&response), ["db.example.com."]);

    let response = udp_query(server, "dns-version.cluster.local.", RecordType::TXT).await;
    assert_eq!(answer_data(&response), ["1.1.0"]);

    let response = udp_query(server, "nope.apps.svc.cluster.local.", RecordType::A).await;
    assert_eq!(response.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(response.authorities.len(), 1, "SOA with NXDOMAIN");
    let response = udp_query(server, "www.example.com.", RecordType::A).await;
    assert_eq!(response.metadata.response_code, ResponseCode::Refused);

    // A malformed query gets FORMERR, and the server goes on answering.
    let garbage = [0x55, 0x66, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0x30, b'x'];
    let response = udp_exchange(server, &garbage).await;
    assert_eq!(response.metadata.id, 0x5566);
    assert_eq!(response.metadata.response_code, ResponseCode::FormErr);

    // Changes arrive by watch.
    let added = cluster
        .create(
            "/api/v1/namespaces/apps/services",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "late"},
                   "spec": {"ports": [{"port": 8080}]}}),
        )
        .await;
    let late_ip = added["spec"]["clusterIP"].as_str().unwrap().to_string();
    wait_for_answer(
        server,
        "late.apps.svc.cluster.local.",
        RecordType::A,
        &[&late_ip],
    )
    .await;
    cluster
        .delete("/api/v1/namespaces/apps/services/late")
        .await;
    wait_for_code(
        server,
        "late.apps.svc.cluster.local.",
        ResponseCode::NXDomain,
    )
    .await;

    // An answer too large for 512 bytes comes truncated over UDP and whole over TCP.
    let endpoints: Vec<Value> = (1..=60)
        .map(|i| json!({"addresses": [format!("10.244.3.{i}")]}))
        .collect();
    cluster
        .create(
            "/apis/discovery.k8s.io/v1/namespaces/apps/endpointslices",
            slice("db-2", "db", json!(endpoints), json!([])),
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = udp_query(server, "db.apps.svc.cluster.local.", RecordType::A).await;
        if response.metadata.truncation {
            assert!(response.answers.is_empty());
            break;
        }
        assert!(Instant::now() < deadline, "never truncated: {response:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let response = tcp_query(server, "db.apps.svc.cluster.local.", RecordType::A).await;
    assert!(!response.metadata.truncation);
    assert_eq!(response.answers.len(), 62);
    assert!(
        response
            .answers
            .iter()
            .all(|record| record.data.to_string().parse::<IpAddr>().is_ok())
    );

    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_failure_names_the_address() {
    let cluster = Cluster::start().await;
    let taken = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = taken.local_addr().unwrap().port();
    let port_flag = format!("--dns-port={port}");
    let options = Options::try_parse_from([
        "kube-dns",
        "--dns-bind-address=127.0.0.1",
        port_flag.as_str(),
        "--healthz-port=0",
    ])
    .unwrap();
    let error = match app::start(&options, cluster.client.clone(), cluster.stop.subscribe()).await {
        Ok(_) => panic!("bound a port that is in use"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    cluster.shutdown().await;
}
