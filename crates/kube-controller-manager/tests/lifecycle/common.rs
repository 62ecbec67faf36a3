//! A kube-apiserver on 127.0.0.1 with an embedded store in a temp dir, a client for
//! it, and polling helpers.

#![allow(dead_code)]

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use client::config::{AuthConfig, RestConfig, TlsConfig};
use client::rest::RestClient;
use kube_apiserver::apiserver::{self, RunningServer};
use kube_apiserver::options::Options;
use serde_json::Value;
use tokio::sync::watch;

pub struct TestServer {
    server: Option<RunningServer>,
    pub host: String,
    pub cert_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        // RUST_LOG=kube_controller_manager=debug shows the controllers' logs.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
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

    pub fn config(&self) -> RestConfig {
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
            qps: 500.0,
            burst: 500,
            timeout: Some(Duration::from_secs(20)),
            user_agent: String::new(),
        }
    }

    pub async fn client(&self) -> RestClient {
        let client = RestClient::new(&self.config()).expect("build client");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = client.get("/readyz").send().await
                && response.status.is_success()
            {
                return client;
            }
            assert!(Instant::now() < deadline, "server not ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Writes a kubeconfig for this server and the test bearer token into `dir`.
    pub fn write_kubeconfig(&self, dir: &std::path::Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        let config = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{ "name": "local", "cluster": {
                "server": self.host,
                "certificate-authority": self.cert_file.display().to_string(),
            }}],
            "users": [{ "name": "admin", "user": { "token": "test-token" } }],
            "contexts": [{ "name": "local", "context": { "cluster": "local", "user": "admin" } }],
            "current-context": "local"
        });
        std::fs::write(&path, config.to_string()).expect("write kubeconfig");
        path
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

/// Stops controllers when dropped, also when a test fails.
pub struct Cancel(pub watch::Sender<bool>);

impl Cancel {
    pub fn new() -> (Cancel, watch::Receiver<bool>) {
        let (sender, receiver) = watch::channel(false);
        (Cancel(sender), receiver)
    }
}

impl Drop for Cancel {
    fn drop(&mut self) {
        let _ = self.0.send(true);
    }
}

/// Polls `check` every 100 ms until it returns `Some`, failing after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn create(client: &RestClient, path: &str, body: &Value) -> Value {
    client
        .post(path)
        .json(body)
        .request_json()
        .await
        .unwrap_or_else(|error| panic!("create at {path}: {error}"))
}

/// Returns the object, or `None` on 404.
pub async fn get(client: &RestClient, path: &str) -> Option<Value> {
    match client.get(path).request_json::<Value>().await {
        Ok(object) => Some(object),
        Err(client::rest::ClientError::Api(status)) if status.code() == 404 => None,
        Err(error) => panic!("get {path}: {error}"),
    }
}

pub async fn delete(client: &RestClient, path: &str, options: &Value) {
    client
        .delete(path)
        .json(options)
        .request_json::<Value>()
        .await
        .unwrap_or_else(|error| panic!("delete {path}: {error}"));
}

pub fn uid(object: &Value) -> String {
    object["metadata"]["uid"].as_str().expect("uid").to_string()
}

/// Builds a pod owned by `owner` (apiVersion, kind, name, uid, blockOwnerDeletion),
/// or by nothing.
pub fn pod(name: &str, owner: Option<(&str, &str, &str, &str, bool)>) -> Value {
    let mut pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "busybox",
                 "ports": [{"name": "http", "containerPort": 8080}]}]},
    });
    if let Some((api_version, kind, owner_name, owner_uid, block)) = owner {
        pod["metadata"]["ownerReferences"] = serde_json::json!([{
            "apiVersion": api_version, "kind": kind, "name": owner_name, "uid": owner_uid,
            "controller": true, "blockOwnerDeletion": block,
        }]);
    }
    pod
}

/// Builds a controller context for the test server with `options`.
pub fn context(
    client: &RestClient,
    options: kube_controller_manager::options::ControllerManagerOptions,
) -> kube_controller_manager::context::ControllerContext {
    kube_controller_manager::context::ControllerContext::new(
        client.clone(),
        std::sync::Arc::new(options),
    )
}

/// Marks a pod Ready (or not) with a pod IP through the status subresource, as a
/// kubelet would.
pub async fn set_pod_status(
    client: &RestClient,
    namespace: &str,
    name: &str,
    ip: &str,
    ready: bool,
) {
    let path = format!("/api/v1/namespaces/{namespace}/pods/{name}/status");
    let status = if ready { "True" } else { "False" };
    let patch = serde_json::json!({"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
        "conditions": [{"type": "Ready", "status": status, "lastTransitionTime": "2024-01-01T00:00:00Z"}]}});
    client
        .patch(&path, client::rest::PatchType::Merge)
        .json(&patch)
        .request_json::<Value>()
        .await
        .unwrap_or_else(|error| panic!("patch status of {name}: {error}"));
}
