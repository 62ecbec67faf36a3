//! Hollow nodes (the kubelet over the in-memory CRI runtime) against an
//! in-process kube-apiserver on loopback: they register and become Ready, run a
//! pod bound to them, and reject one that does not fit.

use std::time::{Duration, Instant};

use clap::Parser;
use client::config::{AuthConfig, RestConfig, TlsConfig};
use client::rest::RestClient;
use kube_apiserver::apiserver;
use kube_apiserver::options::Options;
use serde_json::{Value, json};

/// Returns the number of hollow nodes: 3, or `HOLLOW_NODES` when larger, to
/// measure scale.
fn node_count() -> usize {
    std::env::var("HOLLOW_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(3)
}

/// Polls `check` every 250 ms until it returns `Ok` or `timeout` passes, then
/// panics with the last error.
async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    loop {
        let error = match check().await {
            Ok(value) => return value,
            Err(error) => error,
        };
        assert!(
            start.elapsed() < timeout,
            "timed out waiting for {what}; last error: {error}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn get_json(client: &RestClient, path: &str) -> Result<Value, String> {
    kubelet::api::get::<Value>(client, path)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{path} not found"))
}

fn pod(name: &str, node: &str, cpu: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            // No controller manager publishes kube-root-ca.crt here.
            "automountServiceAccountToken": false,
            "nodeName": node,
            "containers": [{
                "name": "c",
                "image": "registry.invalid/pause:1",
                "resources": {"requests": {"cpu": cpu}},
            }],
        },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hollow_nodes_register_and_run_pods() {
    let dir = tempfile::tempdir().unwrap();
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
        qps: 200.0,
        burst: 200,
        timeout: Some(Duration::from_secs(20)),
        user_agent: String::new(),
    })
    .expect("client");
    eventually("namespace default", Duration::from_secs(30), || {
        get_json(&client, "/api/v1/namespaces/default")
    })
    .await;

    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {host}\n    certificate-authority: {}\nusers:\n- name: u\n  user:\n    token: test-token\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n",
            cert_file.display()
        ),
    )
    .unwrap();

    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
    let count = node_count();
    let started = Instant::now();
    let mut nodes = Vec::new();
    for index in 0..count {
        let node = kubelet::hollow::start_hollow_node(
            index,
            &dir.path().join("nodes"),
            kubeconfig.clone(),
            cancel_rx.clone(),
        )
        .await
        .expect("start hollow node");
        nodes.push(node);
    }

    for index in 0..count {
        let path = format!("/api/v1/nodes/hollow-node-{index}");
        let node = eventually(
            &format!("{path} Ready"),
            Duration::from_secs(60),
            || async {
                let node = get_json(&client, &path).await?;
                let ready = node["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True");
                if ready {
                    Ok(node)
                } else {
                    Err(format!("not Ready: {}", node["status"]))
                }
            },
        )
        .await;
        assert!(node["status"]["allocatable"]["cpu"].as_str().is_some());
    }

    eprintln!("{count} hollow nodes Ready after {:?}", started.elapsed());

    let _: Value = kubelet::api::create(
        &client,
        "/api/v1/namespaces/default/pods",
        &pod("fits", "hollow-node-1", "100m"),
    )
    .await
    .expect("create pod");
    let running = eventually("pod fits Running", Duration::from_secs(60), || async {
        let pod = get_json(&client, "/api/v1/namespaces/default/pods/fits").await?;
        if pod["status"]["phase"] == "Running" && pod["status"]["podIP"].is_string() {
            Ok(pod)
        } else {
            Err(format!("status: {}", pod["status"]))
        }
    })
    .await;
    assert_eq!(running["status"]["containerStatuses"][0]["ready"], true);
    assert_eq!(nodes[1].runtime.ready_sandboxes(), 1);

    let _: Value = kubelet::api::create(
        &client,
        "/api/v1/namespaces/default/pods",
        &pod("too-big", "hollow-node-2", "1000"),
    )
    .await
    .expect("create pod");
    let rejected = eventually("pod too-big Failed", Duration::from_secs(60), || async {
        let pod = get_json(&client, "/api/v1/namespaces/default/pods/too-big").await?;
        if pod["status"]["phase"] == "Failed" {
            Ok(pod)
        } else {
            Err(format!("status: {}", pod["status"]))
        }
    })
    .await;
    assert_eq!(rejected["status"]["reason"], "OutOfcpu");
    let message = rejected["status"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Pod was rejected: Node didn't have enough resource: cpu, requested: 1000000, used: 0, capacity: "),
        "{message}"
    );
    assert_eq!(nodes[2].runtime.ready_sandboxes(), 0);

    let _ = cancel_tx.send(true);
    drop(nodes);
    drop(server);
}
