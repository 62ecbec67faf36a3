//! The test fixture shared by the integration tests: a kube-apiserver started
//! in-process on a loopback port with an embedded store in a temp dir, a scheduler
//! against it, and helpers to create and watch objects.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use clap::Parser;
use client::config::{AuthConfig, RestConfig, TlsConfig};
use client::rest::{ClientError, RestClient};
use kube_apiserver::apiserver::{self, RunningServer};
use kube_apiserver::options::Options;
use kube_scheduler::app::{self, RunningScheduler};
use kube_scheduler::config::KubeSchedulerConfiguration;
use serde_json::{Value, json};
use tokio::sync::watch;

/// A kube-apiserver on 127.0.0.1 with an embedded store in a temp dir, and a scheduler
/// against it.
pub struct Cluster {
    pub server: Option<RunningServer>,
    pub client: RestClient,
    pub host: String,
    pub cert_file: PathBuf,
    pub scheduler: Option<RunningScheduler>,
    pub stop: watch::Sender<bool>,
    pub _dir: tempfile::TempDir,
}

pub fn rest_config(host: String, cert_file: PathBuf) -> RestConfig {
    RestConfig {
        host,
        tls: TlsConfig {
            ca_file: Some(cert_file),
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

impl Cluster {
    /// Starts the API server and a scheduler with the default configuration.
    pub async fn start() -> Cluster {
        Cluster::start_with(&KubeSchedulerConfiguration::default()).await
    }

    /// Starts the API server and a scheduler with `config`.
    pub async fn start_with(config: &KubeSchedulerConfiguration) -> Cluster {
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
        let host = format!("https://127.0.0.1:{}", server.address.port());
        let cert_file = server.certificate.cert_file.clone();
        let rest = rest_config(host.clone(), cert_file.clone());
        let client = RestClient::new(&rest).expect("build client");
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

        let (stop, cancel) = watch::channel(false);
        let scheduler = app::start(
            config,
            client.clone(),
            Arc::new(AtomicBool::new(false)),
            cancel,
        )
        .await
        .expect("start scheduler");
        Cluster {
            server: Some(server),
            client,
            host,
            cert_file,
            scheduler: Some(scheduler),
            stop,
            _dir: dir,
        }
    }

    pub async fn create(&self, path: &str, body: Value) -> Value {
        self.client
            .post(path)
            .json(&body)
            .request_json()
            .await
            .unwrap_or_else(|error| panic!("create in {path}: {error}"))
    }

    pub async fn create_node(&self, name: &str, cpu: &str, labels: Value, taints: Value) {
        self.create(
            "/api/v1/nodes",
            json!({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": labels},
                "spec": {"taints": taints},
            }),
        )
        .await;
        // Allocatable lives in status, which create resets.
        let status = json!({"status": {
            "capacity": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        }});
        let _: Value = self
            .client
            .patch(
                &format!("/api/v1/nodes/{name}/status"),
                client::rest::PatchType::Merge,
            )
            .json(&status)
            .request_json()
            .await
            .unwrap_or_else(|error| panic!("set status of node {name}: {error}"));
    }

    pub async fn create_pod(&self, name: &str, spec: Value) {
        self.create(
            "/api/v1/namespaces/default/pods",
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
                "spec": spec,
            }),
        )
        .await;
    }

    /// Merge-patches the status subresource at `path`, as the controllers that own
    /// the status would.
    pub async fn patch_status(&self, path: &str, status: Value) {
        let _: Value = self
            .client
            .patch(&format!("{path}/status"), client::rest::PatchType::Merge)
            .json(&json!({ "status": status }))
            .request_json()
            .await
            .unwrap_or_else(|error| panic!("patch status of {path}: {error}"));
    }

    /// Writes a kubeconfig for the API server into the temp dir and returns its path.
    pub fn write_kubeconfig(&self) -> PathBuf {
        let path = self._dir.path().join("scheduler.kubeconfig");
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: scheduler\n  user:\n    token: test-token\ncontexts:\n- name: local\n  context:\n    cluster: local\n    user: scheduler\ncurrent-context: local\n",
                self.host,
                self.cert_file.display()
            ),
        )
        .expect("write kubeconfig");
        path
    }

    /// Returns the object at `path`.
    pub async fn get(&self, path: &str) -> Value {
        self.client
            .get(path)
            .request_json()
            .await
            .unwrap_or_else(|error| panic!("get {path}: {error}"))
    }

    pub async fn pod(&self, name: &str) -> Result<Value, ClientError> {
        self.client
            .get(&format!("/api/v1/namespaces/default/pods/{name}"))
            .request_json()
            .await
    }

    /// Waits until `check` returns `Some` for the pod, or panics after 30 s.
    pub async fn wait_pod<T>(
        &self,
        name: &str,
        what: &str,
        check: impl Fn(&Value) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(pod) = self.pod(name).await
                && let Some(value) = check(&pod)
            {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for pod {name}: {what}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn wait_bound(&self, name: &str) -> String {
        self.wait_pod(name, "bound", |pod| {
            pod["spec"]["nodeName"].as_str().map(str::to_string)
        })
        .await
    }

    pub async fn events_for(&self, name: &str) -> Vec<Value> {
        let list: Value = self
            .client
            .get("/api/v1/namespaces/default/events")
            .request_json()
            .await
            .expect("list events");
        list["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|event| event["involvedObject"]["name"] == name)
            .collect()
    }

    pub async fn wait_event(&self, name: &str, reason: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(event) = self
                .events_for(name)
                .await
                .into_iter()
                .find(|event| event["reason"] == reason)
            {
                return event;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for event {reason} on {name}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(scheduler) = self.scheduler.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), scheduler.task).await;
        }
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

pub fn cpu_pod(cpu: &str) -> Value {
    json!({"containers": [{"name": "c", "image": "busybox",
        "resources": {"requests": {"cpu": cpu, "memory": "100Mi"}}}]})
}
