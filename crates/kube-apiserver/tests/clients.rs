//! Real client libraries against a started server: the official Python client.
//!
//! The Python client lives in the virtualenv `hack/python-client.sh` creates (which
//! `make test` runs first); `KUBE_PYTHON` overrides the interpreter.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::TestServer;

fn python() -> PathBuf {
    if let Ok(python) = std::env::var("KUBE_PYTHON") {
        return PathBuf::from(python);
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = workspace.join("_output/venv/bin/python");
    assert!(
        python.exists(),
        "the Python client is missing: run hack/python-client.sh (make test does) or set KUBE_PYTHON"
    );
    python
}

#[test]
fn python_client_crud_watch_and_errors() {
    let server = TestServer::start();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/client_check.py");
    let output = Command::new(python())
        .arg(script)
        .arg(server.kubeconfig_path())
        .output()
        .expect("run the Python client check");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python client check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
}
