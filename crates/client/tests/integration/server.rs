//! A kube-apiserver on 127.0.0.1 with an embedded store in a temp dir, restartable on
//! the same port and data.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use client::config::{AuthConfig, RestConfig, TlsConfig};
use client::rest::RestClient;
use kube_apiserver::apiserver::{self, RunningServer};
use kube_apiserver::options::Options;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Clients reach the server through a loopback TCP proxy, so that a restart closes
/// their connections as a real server restart would.
///
/// NOTE: `RunningServer::shutdown` stops accepting but leaves open connections
/// (watches, pooled HTTP/2) running, which would keep clients on the old server.
pub struct TestServer {
    server: Option<RunningServer>,
    proxy: Option<Proxy>,
    proxy_port: u16,
    cert_file: PathBuf,
    dir: tempfile::TempDir,
}

/// Forwards every connection on a loopback port to the server; dropping it closes
/// the listener and every forwarded connection.
struct Proxy {
    tasks: Arc<Mutex<JoinSet<()>>>,
}

impl Proxy {
    async fn start(port: u16, upstream: u16) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let tasks = Arc::new(Mutex::new(JoinSet::new()));
        let connections = tasks.clone();
        tasks.lock().unwrap().spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                connections.lock().unwrap().spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", upstream)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Ok(Proxy { tasks })
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.tasks.lock().unwrap().abort_all();
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("create temp dir");
        let server = Self::launch(&dir, 0).await;
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("find a free port");
        let proxy_port = probe.local_addr().expect("local address").port();
        drop(probe);
        let proxy = Proxy::start(proxy_port, server.address.port())
            .await
            .expect("start proxy");
        TestServer {
            proxy: Some(proxy),
            proxy_port,
            cert_file: server.certificate.cert_file.clone(),
            server: Some(server),
            dir,
        }
    }

    async fn launch(dir: &tempfile::TempDir, port: u16) -> RunningServer {
        Self::try_launch(dir, port)
            .await
            .expect("start kube-apiserver")
    }

    async fn try_launch(
        dir: &tempfile::TempDir,
        port: u16,
    ) -> Result<RunningServer, apiserver::StartError> {
        let data_dir = format!("--data-dir={}", dir.path().join("data").display());
        let cert_dir = format!("--cert-dir={}", dir.path().join("certs").display());
        let port = format!("--secure-port={port}");
        let options = Options::try_parse_from([
            "kube-apiserver",
            "--bind-address=127.0.0.1",
            port.as_str(),
            data_dir.as_str(),
            cert_dir.as_str(),
        ])
        .expect("parse flags");
        apiserver::start(options).await
    }

    /// Stops the server and cuts every client connection, waits `down_for`, and
    /// starts it again on the same data directory behind the same address.
    pub async fn restart(&mut self, down_for: Duration) {
        self.proxy = None;
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        tokio::time::sleep(down_for).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // The old listener's port or store lock can take a moment to be freed.
            match Self::try_launch(&self.dir, 0).await {
                Ok(server) => {
                    let proxy = Proxy::start(self.proxy_port, server.address.port())
                        .await
                        .expect("restart proxy");
                    self.proxy = Some(proxy);
                    self.server = Some(server);
                    return;
                }
                Err(error) => {
                    assert!(Instant::now() < deadline, "restart failed: {error}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }

    pub fn config(&self) -> RestConfig {
        RestConfig {
            host: format!("https://127.0.0.1:{}", self.proxy_port),
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

    #[allow(dead_code)]
    pub fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("server running")
    }

    pub async fn stop(mut self) {
        self.proxy = None;
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

/// Polls `check` every 20 ms until it returns true or `within` passes.
pub async fn eventually(within: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
