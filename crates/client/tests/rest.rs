//! The REST client against a real kube-apiserver started in-process on a loopback
//! port, and against a small local HTTP responder for the retry cases.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use client::config::{AuthConfig, RestConfig, TlsConfig};
use client::rest::{ClientError, PatchType, RestClient, WatchEvent, WatchStream};
use k8s_openapi::api::core::v1::ConfigMap;
use kube_apiserver::apiserver::{self, RunningServer};
use kube_apiserver::options::Options;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A kube-apiserver on 127.0.0.1 with an embedded store in a temp dir.
struct TestServer {
    server: Option<RunningServer>,
    host: String,
    cert_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestServer {
    async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("create temp dir");
        let data_dir = format!("--data-dir={}", dir.path().join("data").display());
        let cert_dir = format!("--cert-dir={}", dir.path().join("certs").display());
        let options = Options::try_parse_from([
            "kube-apiserver",
            "--bind-address=127.0.0.1",
            "--secure-port=0",
            data_dir.as_str(),
            cert_dir.as_str(),
        ])
        .expect("parse flags");
        let server = apiserver::start(options)
            .await
            .expect("start kube-apiserver");
        TestServer {
            host: format!("https://127.0.0.1:{}", server.address.port()),
            cert_file: server.certificate.cert_file.clone(),
            server: Some(server),
            _dir: dir,
        }
    }

    /// Builds a config that verifies the server with its own certificate file.
    fn config(&self) -> RestConfig {
        RestConfig {
            host: self.host.clone(),
            tls: TlsConfig {
                ca_file: Some(self.cert_file.clone()),
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
        }
    }

    async fn wait_ready(&self, client: &RestClient) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = client.get("/readyz").send().await
                && response.status.is_success()
            {
                return;
            }
            assert!(Instant::now() < deadline, "server not ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_verification_modes() {
    let server = TestServer::start().await;
    let client = RestClient::new(&server.config()).expect("build client");
    server.wait_ready(&client).await;

    let response = client.get("/version").send().await.expect("GET /version");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.version,
        http::Version::HTTP_2,
        "ALPN should pick h2"
    );

    // A CA that did not sign the serving certificate.
    let other_key = rcgen::KeyPair::generate().expect("generate key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let other_ca = params.self_signed(&other_key).expect("self-sign CA");
    let mut wrong = server.config();
    wrong.tls.ca_file = None;
    wrong.tls.ca_data = Some(other_ca.pem().into_bytes());
    let wrong_client = RestClient::new(&wrong).expect("build client");
    let result = wrong_client.get("/version").send().await;
    let error = result.expect_err("a wrong CA must fail verification");
    assert!(
        matches!(error, ClientError::Request { .. }),
        "unexpected error {error}"
    );
    assert!(
        error.to_string().contains("UnknownIssuer"),
        "unexpected error {error}"
    );

    let mut insecure = server.config();
    insecure.tls.ca_file = None;
    insecure.tls.insecure = true;
    let insecure_client = RestClient::new(&insecure).expect("build client");
    let response = insecure_client
        .get("/version")
        .send()
        .await
        .expect("insecure GET /version");
    assert_eq!(response.status, 200);

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configmap_create_get_patch_delete() {
    let server = TestServer::start().await;
    let client = RestClient::new(&server.config()).expect("build client");
    server.wait_ready(&client).await;

    let created: ConfigMap = client
        .post(CONFIGMAPS)
        .json(&json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "rest-test"},
            "data": {"a": "1"},
        }))
        .request_json()
        .await
        .expect("create configmap");
    assert_eq!(created.metadata.name.as_deref(), Some("rest-test"));
    assert!(created.metadata.resource_version.is_some());

    let fetched: ConfigMap = client
        .get(&format!("{CONFIGMAPS}/rest-test"))
        .request_json()
        .await
        .expect("get configmap");
    assert_eq!(fetched.metadata.uid, created.metadata.uid);

    let patched: ConfigMap = client
        .patch(&format!("{CONFIGMAPS}/rest-test"), PatchType::Merge)
        .json(&json!({"data": {"b": "2"}}))
        .request_json()
        .await
        .expect("patch configmap");
    let data = patched.data.expect("data after patch");
    assert_eq!(data.get("a").map(String::as_str), Some("1"));
    assert_eq!(data.get("b").map(String::as_str), Some("2"));

    // Creating the same name again is a 409 AlreadyExists from the server.
    let conflict = client
        .post(CONFIGMAPS)
        .json(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "rest-test"}}))
        .request_json::<ConfigMap>()
        .await
        .expect_err("duplicate create must fail");
    let ClientError::Api(status) = conflict else {
        panic!("expected an API error, got {conflict}");
    };
    assert_eq!(status.code(), 409);
    assert_eq!(status.reason().as_str(), "AlreadyExists");
    assert_eq!(status.message(), "configmaps \"rest-test\" already exists");

    let _: serde_json::Value = client
        .delete(&format!("{CONFIGMAPS}/rest-test"))
        .request_json()
        .await
        .expect("delete configmap");

    let missing = client
        .get(&format!("{CONFIGMAPS}/rest-test"))
        .request_json::<ConfigMap>()
        .await
        .expect_err("get after delete must fail");
    let ClientError::Api(status) = missing else {
        panic!("expected an API error, got {missing}");
    };
    assert_eq!(status.code(), 404);
    assert!(status.is_not_found());
    assert_eq!(status.message(), "configmaps \"rest-test\" not found");

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_delivers_added_then_modified() {
    let server = TestServer::start().await;
    let client = RestClient::new(&server.config()).expect("build client");
    server.wait_ready(&client).await;

    let list: serde_json::Value = client
        .get(CONFIGMAPS)
        .request_json()
        .await
        .expect("list configmaps");
    let resource_version = list["metadata"]["resourceVersion"]
        .as_str()
        .expect("list resourceVersion")
        .to_string();

    let mut watch = client
        .get(CONFIGMAPS)
        .query("resourceVersion", &resource_version)
        .query("fieldSelector", "metadata.name=watched")
        .watch()
        .await
        .expect("start watch");

    let _: ConfigMap = client
        .post(CONFIGMAPS)
        .json(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "watched"}}))
        .request_json()
        .await
        .expect("create configmap");
    let _: ConfigMap = client
        .patch(&format!("{CONFIGMAPS}/watched"), PatchType::Merge)
        .json(&json!({"data": {"k": "v"}}))
        .request_json()
        .await
        .expect("patch configmap");

    let added = next_event(&mut watch).await;
    assert_eq!(added.event_type, "ADDED");
    assert_eq!(added.object["metadata"]["name"], "watched");
    let modified = next_event(&mut watch).await;
    assert_eq!(modified.event_type, "MODIFIED");
    assert_eq!(modified.object["data"]["k"], "v");

    drop(watch);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limiter_spaces_requests() {
    let server = TestServer::start().await;
    let fast = RestClient::new(&server.config()).expect("build client");
    server.wait_ready(&fast).await;

    let mut config = server.config();
    config.qps = 20.0;
    config.burst = 1;
    let limited = RestClient::new(&config).expect("build client");

    let start = Instant::now();
    for _ in 0..10 {
        let response = limited.get("/version").send().await.expect("GET /version");
        assert_eq!(response.status, 200);
    }
    let elapsed = start.elapsed();

    // The first request uses the burst token; nine more wait 50 ms each.
    assert!(
        elapsed >= Duration::from_millis(430),
        "10 requests at qps 20 took only {elapsed:?}"
    );

    server.stop().await;
}

async fn next_event(watch: &mut WatchStream) -> WatchEvent {
    tokio::time::timeout(Duration::from_secs(10), watch.next())
        .await
        .expect("watch event within 10 s")
        .expect("stream still open")
        .expect("valid event")
}

/// Serves plain HTTP/1.1 on 127.0.0.1: the first `failures` requests get 429 with
/// `Retry-After: 1` (or, with `reset`, a closed connection and no response), later
/// ones get 200 with `{"ok":true}`. Returns the address and a handle that yields the
/// arrival time of each request.
async fn start_responder(
    failures: usize,
    reset: bool,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<Vec<Instant>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("local address");
    let handle = tokio::spawn(async move {
        let mut arrivals = Vec::new();
        while arrivals.len() <= failures {
            let Ok(Ok((mut socket, _))) =
                tokio::time::timeout(Duration::from_secs(10), listener.accept()).await
            else {
                break;
            };
            // Each connection serves one request, then closes.
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            arrivals.push(Instant::now());
            if reset && arrivals.len() <= failures {
                drop(socket);
                continue;
            }
            let response: &[u8] = if arrivals.len() <= failures {
                b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\nslow"
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}"
            };
            let _ = socket.write_all(response).await;
            let _ = socket.shutdown().await;
        }
        arrivals
    });
    (address, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_honors_retry_after() {
    let (address, responder) = start_responder(1, false).await;
    let config = RestConfig {
        host: format!("http://{address}"),
        timeout: Some(Duration::from_secs(20)),
        ..RestConfig::default()
    };
    let client = RestClient::new(&config).expect("build client");

    // A POST is retried too: client-go retries any verb on Retry-After.
    let body: serde_json::Value = client
        .post("/api/v1/namespaces/default/configmaps")
        .json(&json!({}))
        .request_json()
        .await
        .expect("request succeeds after one retry");
    assert_eq!(body, json!({"ok": true}));

    let arrivals = responder.await.expect("responder task");
    assert_eq!(arrivals.len(), 2, "one 429 and one retry");
    let gap = arrivals[1] - arrivals[0];
    assert!(
        gap >= Duration::from_millis(950),
        "retry came {gap:?} after the 429, before Retry-After: 1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_exhaustion_returns_429() {
    // More failures than retries (10): the 11th response is returned as an error.
    let (address, responder) = start_responder(20, false).await;
    let config = RestConfig {
        host: format!("http://{address}"),
        ..RestConfig::default()
    };
    let client = RestClient::new(&config).expect("build client");

    let start = Instant::now();
    let error = client
        .get("/api")
        .request_json::<serde_json::Value>()
        .await
        .expect_err("every attempt gets 429");
    let elapsed = start.elapsed();
    responder.abort();

    let ClientError::Api(status) = error else {
        panic!("expected an API error, got {error}");
    };
    assert_eq!(status.code(), 429);
    assert_eq!(status.reason().as_str(), "TooManyRequests");
    assert!(elapsed >= Duration::from_secs(10), "took only {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_lost_connection_only_for_get() {
    let (address, responder) = start_responder(1, true).await;
    let config = RestConfig {
        host: format!("http://{address}"),
        timeout: Some(Duration::from_secs(20)),
        ..RestConfig::default()
    };
    let client = RestClient::new(&config).expect("build client");

    let body: serde_json::Value = client
        .get("/api")
        .request_json()
        .await
        .expect("GET succeeds after the connection is lost once");
    assert_eq!(body, json!({"ok": true}));
    let arrivals = responder.await.expect("responder task");
    assert_eq!(arrivals.len(), 2, "one lost connection and one retry");

    // A POST is not idempotent, so a lost connection fails it at once.
    let (address, responder) = start_responder(1, true).await;
    let config = RestConfig {
        host: format!("http://{address}"),
        ..RestConfig::default()
    };
    let client = RestClient::new(&config).expect("build client");
    let error = client
        .post("/api")
        .json(&json!({}))
        .send()
        .await
        .expect_err("POST fails on a lost connection");
    responder.abort();
    assert!(
        matches!(error, ClientError::Request { .. }),
        "unexpected error {error}"
    );
}

/// Serves plain HTTP/1.1 on 127.0.0.1, one request per connection, answering with
/// the given status codes in turn; returns each request's Authorization header.
async fn start_header_recorder(
    statuses: Vec<u16>,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("local address");
    let handle = tokio::spawn(async move {
        let mut seen = Vec::new();
        for status in statuses {
            let Ok(Ok((mut socket, _))) =
                tokio::time::timeout(Duration::from_secs(10), listener.accept()).await
            else {
                break;
            };
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let text = String::from_utf8_lossy(&request).to_string();
            let authorization = text
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("authorization")
                        .then(|| value.trim().to_string())
                })
                .unwrap_or_default();
            seen.push(authorization);
            let response = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
        seen
    });
    (address, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_plugin_token_is_sent_and_refreshed_after_401() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().expect("temp dir");
    let counter = dir.path().join("runs");
    let plugin = dir.path().join("plugin.sh");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\necho x >> {counter}\nn=$(wc -l < {counter})\nprintf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"tok-%s\"}}}}' $n\n",
            counter = counter.display()
        ),
    )
    .expect("write plugin");
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    let (address, recorder) = start_header_recorder(vec![401, 200, 200]).await;
    let config = RestConfig {
        host: format!("http://{address}"),
        timeout: Some(Duration::from_secs(20)),
        auth: AuthConfig {
            exec: Some(client::config::ExecConfig {
                command: plugin.display().to_string(),
                api_version: "client.authentication.k8s.io/v1".to_string(),
                interactive_mode: "Never".to_string(),
                ..client::config::ExecConfig::default()
            }),
            ..AuthConfig::default()
        },
        ..RestConfig::default()
    };
    let client = RestClient::new(&config).expect("build client");
    let first = client.get("/api").request_json::<serde_json::Value>().await;
    assert!(
        matches!(&first, Err(ClientError::Api(error)) if error.code() == 401),
        "{first:?}"
    );
    for _ in 0..2 {
        client
            .get("/api")
            .request_json::<serde_json::Value>()
            .await
            .expect("authorized request");
    }
    let seen = recorder.await.expect("recorder task");
    assert_eq!(seen, vec!["Bearer tok-1", "Bearer tok-2", "Bearer tok-2"]);
}
