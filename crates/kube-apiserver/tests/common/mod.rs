//! A kube-apiserver started in-process on a loopback port, with a kubeconfig for
//! kubectl and helpers that run kubectl and curl against it.

// Each test binary uses a different subset of the helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use kube_apiserver::apiserver::{self, RunningServer};
use kube_apiserver::options::Options;
use storage::Backend;

pub struct TestServer {
    pub port: u16,
    /// The serving certificate chain (PEM), to verify the server with.
    pub cert_file: PathBuf,
    pub backend: Arc<dyn Backend>,
    kubeconfig: PathBuf,
    runtime: Option<tokio::runtime::Runtime>,
    server: Option<RunningServer>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server on the embedded store and waits until it is ready.
    pub fn start() -> TestServer {
        Self::start_with(&[])
    }

    /// Starts a server with extra flags.
    pub fn start_with(extra: &[&str]) -> TestServer {
        Self::start_customized(extra, |_| {})
    }

    /// Starts a server with extra flags and options that have no flag.
    pub fn start_customized(extra: &[&str], customize: impl FnOnce(&mut Options)) -> TestServer {
        let dir = tempfile::tempdir().expect("create temp dir");
        let data_dir = format!("--data-dir={}", dir.path().join("data").display());
        let cert_dir = format!("--cert-dir={}", dir.path().join("certs").display());
        let mut args = vec![
            "kube-apiserver",
            "--bind-address=127.0.0.1",
            "--secure-port=0",
            data_dir.as_str(),
            cert_dir.as_str(),
        ];
        args.extend_from_slice(extra);
        let mut options = Options::try_parse_from(args).expect("parse flags");
        customize(&mut options);

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("build runtime");
        let server = runtime
            .block_on(apiserver::start(options))
            .expect("start kube-apiserver");
        let port = server.address.port();
        let cert_file = server.certificate.cert_file.clone();
        let backend = server.backend.clone();

        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, kubeconfig_text(port)).expect("write kubeconfig");

        let test_server = TestServer {
            port,
            cert_file,
            backend,
            kubeconfig,
            runtime: Some(runtime),
            server: Some(server),
            _dir: dir,
        };
        test_server.wait_ready();
        test_server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let output = self.curl(&["/readyz"]);
            if output.contains("ok") && !output.contains("failed") {
                return;
            }
            assert!(Instant::now() < deadline, "server not ready: {output}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Returns the path of the kubeconfig that points at this server.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// Runs the async work on the server's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.as_ref().expect("runtime").block_on(future)
    }

    /// Spawns a task on the server's runtime.
    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime.as_ref().expect("runtime").spawn(future)
    }

    /// Runs kubectl with this server's kubeconfig.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .output()
            .expect("run kubectl: is kubectl installed?")
    }

    /// Runs kubectl with stdin.
    pub fn kubectl_stdin(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut child = Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run kubectl: is kubectl installed?");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("wait for kubectl")
    }

    /// Runs kubectl and returns stdout, failing the test when kubectl fails.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs kubectl with stdin and returns stdout, failing the test when it fails.
    pub fn kubectl_stdin_ok(&self, args: &[&str], input: &str) -> String {
        let output = self.kubectl_stdin(args, input);
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs curl against the server; `args` end with the path. Returns the body
    /// followed by a last line with the status code.
    pub fn curl(&self, args: &[&str]) -> String {
        let (path, options) = args.split_last().expect("a path");
        let output = Command::new("curl")
            .args(["-sk", "--max-time", "20", "-w", "\n%{http_code}"])
            .args(options)
            .arg(self.url(path))
            .output()
            .expect("run curl");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs curl and splits the status code from the JSON body.
    pub fn curl_json(&self, args: &[&str]) -> (u16, serde_json::Value) {
        let output = self.curl(args);
        let (body, code) = output.rsplit_once('\n').unwrap_or(("", &output));
        let code = code.trim().parse().unwrap_or(0);
        let value =
            serde_json::from_str(body).unwrap_or(serde_json::Value::String(body.to_string()));
        (code, value)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let (Some(runtime), Some(server)) = (self.runtime.as_ref(), self.server.take()) {
            runtime.block_on(server.shutdown());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

fn kubeconfig_text(port: u16) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://127.0.0.1:{port}
    insecure-skip-tls-verify: true
  name: test
contexts:
- context:
    cluster: test
    user: test
  name: test
current-context: test
users:
- name: test
  user:
    token: test-token
"
    )
}

/// Writes a manifest into a temp file and returns its path.
pub fn manifest(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write manifest");
    path
}
