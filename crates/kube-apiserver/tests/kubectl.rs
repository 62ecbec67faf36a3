//! The kubectl acceptance script: what users type, against a started server, each
//! step asserting kubectl's output.

mod common;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use common::TestServer;

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
    tier: frontend
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
      - name: sidecar
        image: busybox:1.36
";

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn version_and_discovery_commands() {
    let server = TestServer::start();
    let version = server.kubectl_ok(&["version"]);
    assert!(version.contains("Server Version: v1.33"), "{version}");

    let resources = server.kubectl_ok(&["api-resources"]);
    for line in [
        "pods",
        "po",
        "deployments",
        "deploy",
        "apps/v1",
        "Deployment",
        "namespaces",
        "ns",
    ] {
        assert!(
            resources.contains(line),
            "api-resources lacks {line}: {resources}"
        );
    }
    let versions = server.kubectl_ok(&["api-versions"]);
    for group_version in ["v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1"] {
        assert!(
            versions.lines().any(|line| line == group_version),
            "{versions}"
        );
    }

    let explain = server.kubectl_ok(&["explain", "pods.spec.containers"]);
    assert!(explain.contains("KIND:       Pod"), "{explain}");
    assert!(
        explain.contains("FIELD: containers <[]Container>"),
        "{explain}"
    );
    assert!(explain.contains("image\t<string>"), "{explain}");
}

#[test]
fn generators_create_objects() {
    let server = TestServer::start();
    assert_eq!(
        server.kubectl_ok(&["create", "namespace", "team-a"]),
        "namespace/team-a created\n"
    );
    assert_eq!(
        server.kubectl_ok(&[
            "create",
            "configmap",
            "settings",
            "--from-literal=mode=fast",
            "-n",
            "team-a"
        ]),
        "configmap/settings created\n"
    );
    assert_eq!(
        server.kubectl_ok(&[
            "create",
            "secret",
            "generic",
            "token",
            "--from-literal=key=s3cret",
            "-n",
            "team-a"
        ]),
        "secret/token created\n"
    );
    assert_eq!(
        server.kubectl_ok(&[
            "create",
            "deployment",
            "api",
            "--image=nginx:1.25",
            "--replicas=3",
            "-n",
            "team-a"
        ]),
        "deployment.apps/api created\n"
    );
    assert_eq!(
        server.kubectl_ok(&[
            "create",
            "service",
            "clusterip",
            "api",
            "--tcp=80:8080",
            "-n",
            "team-a"
        ]),
        "service/api created\n"
    );
    assert_eq!(
        server.kubectl_ok(&[
            "expose",
            "deployment",
            "api",
            "--port=81",
            "--name=api-exposed",
            "-n",
            "team-a"
        ]),
        "service/api-exposed exposed\n"
    );

    let mode = server.kubectl_ok(&[
        "get",
        "configmap",
        "settings",
        "-n",
        "team-a",
        "-o",
        "jsonpath={.data.mode}",
    ]);
    assert_eq!(mode, "fast");
    let key = server.kubectl_ok(&[
        "get",
        "secret",
        "token",
        "-n",
        "team-a",
        "-o",
        "jsonpath={.data.key}",
    ]);
    assert_eq!(key, "czNjcmV0", "base64 of s3cret");
    let selector = server.kubectl_ok(&[
        "get",
        "service",
        "api-exposed",
        "-n",
        "team-a",
        "-o",
        "jsonpath={.spec.selector.app}",
    ]);
    assert_eq!(selector, "api");
    let cluster_ip = server.kubectl_ok(&[
        "get",
        "service",
        "api",
        "-n",
        "team-a",
        "-o",
        "jsonpath={.spec.clusterIP}",
    ]);
    assert!(cluster_ip.starts_with("10.0.0."), "{cluster_ip}");
}

#[test]
fn apply_twice_runs_three_way_merge() {
    let server = TestServer::start();
    assert_eq!(
        server.kubectl_stdin_ok(&["apply", "-f", "-"], DEPLOYMENT),
        "deployment.apps/web created\n"
    );
    assert_eq!(
        server.kubectl_stdin_ok(&["apply", "-f", "-"], DEPLOYMENT),
        "deployment.apps/web unchanged\n"
    );

    // Someone else adds a label; the next apply must keep it.
    server.kubectl_ok(&["label", "deployment", "web", "owner=ops"]);

    // The manifest drops the tier label and the sidecar, and scales to 4.
    let changed = DEPLOYMENT
        .replace("    tier: frontend\n", "")
        .replace("replicas: 2", "replicas: 4")
        .replace("      - name: sidecar\n        image: busybox:1.36\n", "");
    assert_eq!(
        server.kubectl_stdin_ok(&["apply", "-f", "-"], &changed),
        "deployment.apps/web configured\n"
    );

    let state = server.kubectl_ok(&[
        "get", "deployment", "web", "-o",
        "jsonpath={.spec.replicas} {.metadata.generation} {.metadata.labels.tier}|{.metadata.labels.owner} {.spec.template.spec.containers[*].name}",
    ]);
    assert_eq!(state, "4 2 |ops nginx");
}

#[test]
fn get_output_formats() {
    let server = TestServer::start();
    server.kubectl_stdin_ok(&["apply", "-f", "-"], DEPLOYMENT);

    let table = server.kubectl_ok(&["get", "deployments"]);
    assert!(
        table.starts_with("NAME   READY   UP-TO-DATE   AVAILABLE   AGE"),
        "{table}"
    );
    let wide = server.kubectl_ok(&["get", "deployments", "-o", "wide"]);
    assert!(
        wide.contains("CONTAINERS") && wide.contains("nginx,sidecar") && wide.contains("app=web"),
        "{wide}"
    );
    let yaml = server.kubectl_ok(&["get", "deployment", "web", "-o", "yaml"]);
    assert!(
        yaml.contains("kind: Deployment") && yaml.contains("resourceVersion:"),
        "{yaml}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&server.kubectl_ok(&["get", "deployment", "web", "-o", "json"]))
            .unwrap();
    assert_eq!(
        json["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.25"
    );
    let columns = server.kubectl_ok(&[
        "get",
        "deployments",
        "-o",
        "custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas",
    ]);
    assert_eq!(columns, "NAME   REPLICAS\nweb    2\n");
    let names = server.kubectl_ok(&["get", "namespaces", "-o", "name"]);
    assert!(names.contains("namespace/kube-system"), "{names}");

    // Sorting by a field outside metadata makes kubectl request `includeObject=Object`
    // and sort the rows by the objects it gets back.
    for (name, value) in [("zeta", "1"), ("alpha", "3"), ("mid", "2")] {
        server.kubectl_ok(&[
            "create",
            "configmap",
            name,
            &format!("--from-literal=rank={value}"),
        ]);
    }
    let sorted = server.kubectl_ok(&[
        "get",
        "configmaps",
        "--sort-by=.data.rank",
        "-o",
        "custom-columns=NAME:.metadata.name",
    ]);
    let ranked: Vec<&str> = sorted
        .lines()
        .filter(|line| ["zeta", "mid", "alpha"].contains(line))
        .collect();
    assert_eq!(ranked, ["zeta", "mid", "alpha"], "{sorted}");
    let table = server.kubectl_ok(&["get", "configmaps", "--sort-by=.data.rank"]);
    let rows: Vec<&str> = table
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| ["zeta", "mid", "alpha"].contains(name))
        .collect();
    assert_eq!(rows, ["zeta", "mid", "alpha"], "{table}");

    let services = server.kubectl_ok(&["get", "services"]);
    assert!(
        services.contains("kubernetes   ClusterIP   10.0.0.1"),
        "{services}"
    );

    // Every listable built-in resource answers.
    for resource in [
        "pods",
        "services",
        "configmaps",
        "secrets",
        "serviceaccounts",
        "endpoints",
        "events",
        "limitranges",
        "resourcequotas",
        "persistentvolumes",
        "persistentvolumeclaims",
        "replicationcontrollers",
        "podtemplates",
        "nodes",
        "namespaces",
        "deployments",
        "replicasets",
        "statefulsets",
        "daemonsets",
        "controllerrevisions",
        "jobs",
        "cronjobs",
        "horizontalpodautoscalers",
        "leases",
        "endpointslices",
        "poddisruptionbudgets",
        "priorityclasses",
        "storageclasses",
        "csidrivers",
        "csinodes",
        "volumeattachments",
        "networkpolicies",
        "ingresses",
        "ingressclasses",
        "runtimeclasses",
        "roles",
        "rolebindings",
        "clusterroles",
        "clusterrolebindings",
        "certificatesigningrequests",
        "flowschemas",
        "prioritylevelconfigurations",
        "mutatingwebhookconfigurations",
        "validatingwebhookconfigurations",
    ] {
        let output = server.kubectl(&["get", resource, "--all-namespaces"]);
        assert!(
            output.status.success(),
            "kubectl get {resource}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn label_annotate_patch_and_edit() {
    let server = TestServer::start();
    server.kubectl_ok(&["create", "configmap", "cfg", "--from-literal=a=1"]);

    assert_eq!(
        server.kubectl_ok(&["label", "configmap", "cfg", "env=prod"]),
        "configmap/cfg labeled\n"
    );
    assert_eq!(
        server.kubectl_ok(&["annotate", "configmap", "cfg", "note=hello"]),
        "configmap/cfg annotated\n"
    );
    assert_eq!(
        server.kubectl_ok(&["label", "configmap", "cfg", "env-"]),
        "configmap/cfg unlabeled\n"
    );
    assert_eq!(
        server.kubectl_ok(&[
            "patch",
            "configmap",
            "cfg",
            "--type=merge",
            "-p",
            r#"{"data":{"b":"2"}}"#
        ]),
        "configmap/cfg patched\n"
    );
    assert_eq!(
        server.kubectl_ok(&[
            "patch",
            "configmap",
            "cfg",
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/data/a","value":"9"}]"#
        ]),
        "configmap/cfg patched\n"
    );
    assert_eq!(
        server.kubectl_ok(&[
            "patch",
            "configmap",
            "cfg",
            "--type=strategic",
            "-p",
            r#"{"data":{"c":"3"}}"#
        ]),
        "configmap/cfg patched\n"
    );

    let edited = std::process::Command::new("kubectl")
        .args(["edit", "configmap", "cfg"])
        .env("KUBECONFIG", server_kubeconfig(&server))
        .env("EDITOR", "sed -i s/hello/edited/")
        .output()
        .unwrap();
    assert!(edited.status.success(), "{}", stderr(&edited));
    assert_eq!(stdout(&edited), "configmap/cfg edited\n");

    let state = server.kubectl_ok(&[
        "get",
        "configmap",
        "cfg",
        "-o",
        "jsonpath={.data.a}{.data.b}{.data.c} {.metadata.labels} {.metadata.annotations.note}",
    ]);
    assert_eq!(state, "923  edited");

    let bad = server.kubectl(&[
        "patch",
        "configmap",
        "cfg",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/nope"}]"#,
    ]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("remove at path \"/nope\""),
        "{}",
        stderr(&bad)
    );
}

fn server_kubeconfig(server: &TestServer) -> std::path::PathBuf {
    server.kubeconfig_path().to_path_buf()
}

#[test]
fn scale_diff_and_describe() {
    let server = TestServer::start();
    server.kubectl_stdin_ok(&["apply", "-f", "-"], DEPLOYMENT);

    assert_eq!(
        server.kubectl_ok(&["scale", "deployment", "web", "--replicas=5"]),
        "deployment.apps/web scaled\n"
    );
    assert_eq!(
        server.kubectl_ok(&[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.replicas}"
        ]),
        "5"
    );

    // diff exits 1 when the live object differs from the manifest.
    let diff = server.kubectl_stdin(&["diff", "-f", "-"], DEPLOYMENT);
    assert_eq!(
        diff.status.code(),
        Some(1),
        "{}{}",
        stdout(&diff),
        stderr(&diff)
    );
    assert!(
        stdout(&diff).contains("-  replicas: 5") && stdout(&diff).contains("+  replicas: 2"),
        "{}",
        stdout(&diff)
    );

    let describe = server.kubectl_ok(&["describe", "deployment", "web"]);
    assert!(
        describe.contains("Name:") && describe.contains("web"),
        "{describe}"
    );
    assert!(describe.contains("Replicas:"), "{describe}");
    assert!(describe.contains("nginx:1.25"), "{describe}");
}

#[test]
fn delete_cascade_and_grace_options() {
    let server = TestServer::start();
    for name in ["orphan", "background", "foreground"] {
        server.kubectl_ok(&["create", "deployment", name, "--image=nginx"]);
    }

    assert_eq!(
        server.kubectl_ok(&["delete", "deployment", "background", "--cascade=background"]),
        "deployment.apps \"background\" deleted\n"
    );
    let gone = server.kubectl(&["get", "deployment", "background"]);
    assert!(stderr(&gone).contains("NotFound"), "{}", stderr(&gone));

    // Orphan and foreground wait for the garbage collector, which removes the finalizer.
    server.kubectl_ok(&[
        "delete",
        "deployment",
        "orphan",
        "--cascade=orphan",
        "--wait=false",
    ]);
    let finalizers = server.kubectl_ok(&[
        "get",
        "deployment",
        "orphan",
        "-o",
        "jsonpath={.metadata.finalizers}",
    ]);
    assert_eq!(finalizers, r#"["orphan"]"#);
    server.kubectl_ok(&[
        "delete",
        "deployment",
        "foreground",
        "--cascade=foreground",
        "--wait=false",
    ]);
    let finalizers = server.kubectl_ok(&[
        "get",
        "deployment",
        "foreground",
        "-o",
        "jsonpath={.metadata.finalizers}",
    ]);
    assert_eq!(finalizers, r#"["foregroundDeletion"]"#);

    // A pod that is not scheduled is deleted at once whatever the grace period.
    server.kubectl_ok(&["run", "p1", "--image=nginx"]);
    assert_eq!(
        server.kubectl_ok(&["delete", "pod", "p1", "--grace-period=30"]),
        "pod \"p1\" deleted\n"
    );
    assert!(stderr(&server.kubectl(&["get", "pod", "p1"])).contains("NotFound"));
}

#[test]
fn wait_for_condition_and_delete() {
    let server = TestServer::start();
    server.kubectl_ok(&["run", "p1", "--image=nginx"]);
    server.kubectl_ok(&[
        "patch",
        "pod",
        "p1",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#,
    ]);
    let ready = server.kubectl_ok(&["wait", "--for=condition=Ready", "pod/p1", "--timeout=10s"]);
    assert_eq!(ready, "pod/p1 condition met\n");

    server.kubectl_ok(&["create", "configmap", "temp"]);
    let deleter = {
        let kubeconfig = server_kubeconfig(&server);
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(500));
            std::process::Command::new("kubectl")
                .args(["delete", "configmap", "temp"])
                .env("KUBECONFIG", kubeconfig)
                .output()
                .unwrap()
        })
    };
    let waited = server.kubectl_ok(&["wait", "--for=delete", "configmap/temp", "--timeout=20s"]);
    assert_eq!(waited, "configmap/temp condition met\n");
    assert!(deleter.join().unwrap().status.success());
}

#[test]
fn get_watch_prints_changes() {
    let server = TestServer::start();
    let mut watcher = std::process::Command::new("kubectl")
        .args([
            "get",
            "configmaps",
            "-w",
            "-o",
            "name",
            "--request-timeout=0",
        ])
        .env("KUBECONFIG", server_kubeconfig(&server))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    server.kubectl_ok(&["create", "configmap", "watched"]);
    server.kubectl_ok(&["label", "configmap", "watched", "x=y"]);
    std::thread::sleep(std::time::Duration::from_millis(700));
    watcher.kill().unwrap();
    let output = watcher.wait_with_output().unwrap();
    let lines: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    assert!(
        lines
            .iter()
            .filter(|line| *line == "configmap/watched")
            .count()
            >= 2,
        "{lines:?}"
    );
}

#[test]
fn get_watch_prints_table_rows() {
    let server = TestServer::start();
    let mut watcher = std::process::Command::new("kubectl")
        .args(["get", "configmaps", "-w", "--request-timeout=0"])
        .env("KUBECONFIG", server_kubeconfig(&server))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    server.kubectl_ok(&["create", "configmap", "rows", "--from-literal=a=1"]);
    server.kubectl_ok(&["delete", "configmap", "rows"]);
    std::thread::sleep(std::time::Duration::from_millis(700));
    watcher.kill().unwrap();
    let output = watcher.wait_with_output().unwrap();
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines
            .first()
            .map(|line| line.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["NAME", "DATA", "AGE"]),
        "{text}"
    );
    let rows: Vec<&&str> = lines
        .iter()
        .filter(|line| line.starts_with("rows "))
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(
        rows.iter()
            .all(|row| row.split_whitespace().nth(1) == Some("1")),
        "{text}"
    );
}

/// A stand-in for a kubelet's HTTPS port: it records request heads, answers
/// `/containerLogs/...` with a fixed line, and upgrades `/exec/...` (`Upgrade:
/// test-stream`) and `/portForward/...` (`Upgrade: SPDY/3.1`) to an echo stream.
mod fake_kubelet {
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    pub const LOG_LINE: &str = "hello from the kubelet\n";

    pub async fn start() -> (u16, Arc<Mutex<Vec<String>>>) {
        let key = rcgen::KeyPair::generate().expect("generate key");
        let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        let certificate = params.self_signed(&key).expect("self-sign");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![certificate.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let Ok(mut stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    seen.lock().unwrap().push(head.clone());
                    if head.starts_with("GET /containerLogs/") {
                        let response = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{LOG_LINE}",
                            LOG_LINE.len()
                        );
                        let _ = stream.write_all(response.as_bytes()).await;
                    } else if let Some(upgrade) = upgrade_response(&head) {
                        let _ = stream.write_all(upgrade.as_bytes()).await;
                        let mut buffer = [0u8; 1024];
                        while let Ok(read) = stream.read(&mut buffer).await {
                            if read == 0 || stream.write_all(&buffer[..read]).await.is_err() {
                                break;
                            }
                        }
                    } else {
                        let body = "container not found";
                        let response = format!(
                            "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = stream.write_all(response.as_bytes()).await;
                    }
                    let _ = stream.shutdown().await;
                });
            }
        });
        (port, requests)
    }

    /// Returns the 101 response for an upgrade request this stand-in serves.
    fn upgrade_response(head: &str) -> Option<&'static str> {
        let lower = head.to_ascii_lowercase();
        if head.contains("/exec/") && lower.contains("upgrade: test-stream") {
            Some(
                "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test-stream\r\n\r\n",
            )
        } else if head.starts_with("POST /portForward/")
            && lower.contains("upgrade: spdy/3.1")
            && lower.contains("x-stream-protocol-version: portforward.k8s.io")
        {
            Some(
                "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n",
            )
        } else {
            None
        }
    }
}

/// Creates a node whose kubelet is the fake one and a pod bound to it.
fn node_and_pod_on_fake_kubelet(server: &TestServer, port: u16) {
    let node = r#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"fake-node"}}"#;
    server.kubectl_stdin_ok(&["create", "-f", "-"], node);
    let status = format!(
        r#"{{"status":{{"addresses":[{{"type":"InternalIP","address":"127.0.0.1"}}],"daemonEndpoints":{{"kubeletEndpoint":{{"Port":{port}}}}}}}}}"#
    );
    server.kubectl_ok(&[
        "patch",
        "node",
        "fake-node",
        "--subresource=status",
        "--type=merge",
        "-p",
        &status,
    ]);
    let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default"},
        "spec":{"nodeName":"fake-node","containers":[{"name":"app","image":"busybox"}]}}"#;
    server.kubectl_stdin_ok(&["create", "-f", "-"], pod);
}

#[test]
fn logs_are_proxied_to_the_kubelet() {
    let server = TestServer::start();
    let (port, requests) = server.block_on(fake_kubelet::start());
    node_and_pod_on_fake_kubelet(&server, port);

    let logs = server.kubectl_ok(&["logs", "web", "--tail=5", "--timestamps"]);
    assert_eq!(logs, fake_kubelet::LOG_LINE);
    let seen = requests.lock().unwrap().clone();
    assert!(
        seen.iter().any(|head| head
            .starts_with("GET /containerLogs/default/web/app?timestamps=true&tailLines=5 ")),
        "kubelet requests: {seen:?}"
    );
    assert!(
        !seen
            .iter()
            .any(|head| head.to_ascii_lowercase().contains("authorization:")),
        "credentials reached the kubelet: {seen:?}"
    );

    let output = server.kubectl(&["logs", "web", "-c", "db"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("container db is not valid for pod web"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn logs_of_unscheduled_pod_rejected() {
    let server = TestServer::start();
    let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pending"},
        "spec":{"containers":[{"name":"app","image":"busybox"}]}}"#;
    server.kubectl_stdin_ok(&["create", "-f", "-"], pod);
    let output = server.kubectl(&["logs", "pending"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("pod pending does not have a host assigned"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn exec_upgrade_is_spliced() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let server = TestServer::start();
    let (port, _requests) = server.block_on(fake_kubelet::start());
    node_and_pod_on_fake_kubelet(&server, port);

    let pem = std::fs::read(&server.cert_file).expect("read serving certificate");
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots
            .add(certificate.expect("parse certificate"))
            .expect("add root");
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let api_port = server.port;

    let (head, echoed) = server.block_on(async move {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", api_port)).await.expect("connect");
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("server name");
        let mut stream = connector.connect(name, tcp).await.expect("TLS handshake");
        let request = "POST /api/v1/namespaces/default/pods/web/exec?command=cat&stdin=true&stdout=true HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: test-stream\r\nContent-Length: 0\r\n\r\n";
        stream.write_all(request.as_bytes()).await.expect("send request");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_ne!(stream.read(&mut byte).await.expect("read head"), 0, "connection closed");
            head.push(byte[0]);
        }
        stream.write_all(b"ping").await.expect("send through the stream");
        let mut echoed = [0u8; 4];
        stream.read_exact(&mut echoed).await.expect("read echo");
        (String::from_utf8_lossy(&head).to_string(), echoed)
    });
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert_eq!(&echoed, b"ping");
}

/// Returns a TLS connector that trusts the test server's certificate.
fn tls_connector(server: &TestServer) -> tokio_rustls::TlsConnector {
    let pem = std::fs::read(&server.cert_file).expect("read serving certificate");
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots
            .add(certificate.expect("parse certificate"))
            .expect("add root");
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
}

#[test]
fn portforward_websocket_tunnels_spdy() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let server = TestServer::start();
    let (port, requests) = server.block_on(fake_kubelet::start());
    node_and_pod_on_fake_kubelet(&server, port);
    let connector = tls_connector(&server);
    let api_port = server.port;

    let (protocol, echoed, closed) = server.block_on(async move {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", api_port))
            .await
            .expect("connect");
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("server name");
        let stream = connector.connect(name, tcp).await.expect("TLS handshake");
        let mut request = format!(
            "wss://localhost:{api_port}/api/v1/namespaces/default/pods/web/portforward?ports=80"
        )
        .into_client_request()
        .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "SPDY/3.1+portforward.k8s.io".parse().unwrap(),
        );
        let (mut socket, response) = tokio_tungstenite::client_async(request, stream)
            .await
            .expect("WebSocket upgrade");
        let protocol = response.headers()["sec-websocket-protocol"]
            .to_str()
            .unwrap()
            .to_string();

        // A SPDY frame may arrive split across messages; the kubelet sees one stream.
        socket
            .send(Message::binary(b"\x80\x03".to_vec()))
            .await
            .unwrap();
        socket
            .send(Message::binary(b"\x00\x06".to_vec()))
            .await
            .unwrap();
        let mut echoed = Vec::new();
        while echoed.len() < 4 {
            match socket.next().await {
                Some(Ok(Message::Binary(data))) => echoed.extend_from_slice(&data),
                other => panic!("expected the echo, got {other:?}"),
            }
        }
        socket.close(None).await.unwrap();
        let mut closed = false;
        while let Some(Ok(message)) = socket.next().await {
            closed |= matches!(message, Message::Close(_));
        }
        (protocol, echoed, closed)
    });
    assert_eq!(protocol, "SPDY/3.1+portforward.k8s.io");
    assert_eq!(echoed, b"\x80\x03\x00\x06");
    assert!(closed, "the tunnel answers the client's close");
    let seen = requests.lock().unwrap().clone();
    let head = seen
        .iter()
        .find(|head| head.contains("/portForward/"))
        .expect("the kubelet got the port-forward request")
        .to_ascii_lowercase();
    assert!(
        head.starts_with("post /portforward/default/web?port=80 "),
        "{head}"
    );
    assert!(!head.contains("sec-websocket"), "{head}");
}

#[test]
fn exec_without_upgrade_rejected() {
    let server = TestServer::start();
    let (port, _requests) = server.block_on(fake_kubelet::start());
    node_and_pod_on_fake_kubelet(&server, port);
    let (code, status) = server.curl_json(&[
        "-X",
        "POST",
        "/api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true",
    ]);
    assert_eq!(code, 400);
    assert_eq!(status["message"], "Upgrade request required");
}

#[test]
fn managed_fields_show_with_show_managed_fields() {
    let server = TestServer::start();
    server.kubectl_ok(&["create", "deployment", "web", "--image=nginx:1.25"]);
    server.kubectl_ok(&["label", "deployment", "web", "tier=front"]);
    server.kubectl_ok(&["scale", "deployment", "web", "--replicas=3"]);

    let hidden = server.kubectl_ok(&["get", "deployment", "web", "-o", "yaml"]);
    assert!(!hidden.contains("managedFields"), "{hidden}");

    let shown = server.kubectl_ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "yaml",
        "--show-managed-fields",
    ]);
    for line in [
        "  managedFields:",
        "    manager: kubectl-create",
        "    manager: kubectl-label",
        "    operation: Update",
        "    fieldsType: FieldsV1",
        "          f:tier: {}",
        "              k:{\"name\":\"nginx\"}:",
        "        f:selector: {}",
        "    subresource: scale",
    ] {
        assert!(shown.contains(line), "missing {line:?} in\n{shown}");
    }
    // Non-pointer structs are never added as a whole, so they carry no ".".
    let spec = shown
        .split("      f:spec:\n")
        .nth(1)
        .expect("f:spec in the kubectl-create entry");
    assert!(!spec.starts_with("        .: {}"), "{shown}");
    assert!(
        !shown.contains("f:containers:\n              .: {}"),
        "{shown}"
    );
    let scale_entry = shown
        .split("  - apiVersion: ")
        .find(|entry| entry.contains("subresource: scale"))
        .expect("an entry of the scale subresource");
    assert!(
        scale_entry.contains("      f:spec:\n        f:replicas: {}\n"),
        "{scale_entry}"
    );
}

#[test]
fn get_componentstatuses_probes_components() {
    use kube_apiserver::endpoints::component_status::Component;

    // The "scheduler" is another API server: a real HTTPS server whose /healthz
    // answers "ok". Nothing listens on the "controller manager"'s port.
    let healthy = TestServer::start();
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let scheduler = format!("127.0.0.1:{}", healthy.port);
    let controller_manager = format!("127.0.0.1:{closed_port}");
    let server = TestServer::start_customized(&[], |options| {
        options.component_status_targets = Some(vec![
            Component::Https {
                name: "scheduler".to_string(),
                address: scheduler.clone(),
            },
            Component::Https {
                name: "controller-manager".to_string(),
                address: controller_manager.clone(),
            },
            Component::Storage {
                name: "embedded-store".to_string(),
            },
        ]);
    });

    let table = server.kubectl_ok(&["get", "componentstatuses"]);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["NAME", "STATUS", "MESSAGE", "ERROR"], "{table}");
    assert!(
        rows.contains(&vec!["scheduler", "Healthy", "ok"]),
        "{table}"
    );
    assert!(
        rows.contains(&vec!["embedded-store", "Healthy", "ok"]),
        "{table}"
    );
    let refused = format!(
        "controller-manager   Unhealthy   Get \"https://{controller_manager}/healthz\": dial tcp {controller_manager}:"
    );
    assert!(table.contains(&refused), "{table}");
    assert!(table.contains("refused"), "{table}");

    let object: serde_json::Value =
        serde_json::from_str(&server.kubectl_ok(&["get", "cs", "scheduler", "-o", "json"]))
            .expect("json");
    assert_eq!(object["kind"], "ComponentStatus");
    assert_eq!(object["metadata"]["name"], "scheduler");
    assert_eq!(object["conditions"][0]["type"], "Healthy");
    assert_eq!(object["conditions"][0]["status"], "True");
    assert_eq!(object["conditions"][0]["message"], "ok");

    let missing = server.kubectl(&["get", "componentstatus", "etcd-7"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("componentstatuses \"etcd-7\" not found"),
        "{}",
        stderr(&missing)
    );

    let (code, status) = server.curl_json(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"apiVersion":"v1","kind":"ComponentStatus","metadata":{"name":"x"}}"#,
        "/api/v1/componentstatuses",
    ]);
    assert_eq!(code, 405, "{status}");
    assert_eq!(status["reason"], "MethodNotAllowed");
}

#[test]
fn connect_subresources_are_discovered() {
    let server = TestServer::start();
    let core = server.kubectl_ok(&["get", "--raw", "/api/v1"]);
    for resource in [
        "\"pods/exec\"",
        "\"pods/log\"",
        "\"pods/proxy\"",
        "\"services/proxy\"",
        "\"nodes/proxy\"",
    ] {
        assert!(core.contains(resource), "{resource} in {core}");
    }
}

/// Returns a CertificateSigningRequest manifest named `name` around `request_pem`.
fn csr_manifest(name: &str, request_pem: &str) -> String {
    let encoded = STANDARD.encode(request_pem.as_bytes());
    format!(
        "apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: {name}
spec:
  request: {encoded}
  signerName: kubernetes.io/kube-apiserver-client
  usages: [client auth]
"
    )
}

#[test]
fn certificate_signing_request_approval() {
    let server = TestServer::start();
    let discovery = server.kubectl_ok(&["get", "--raw", "/apis/certificates.k8s.io/v1"]);
    for resource in [
        "\"certificatesigningrequests/approval\"",
        "\"certificatesigningrequests/status\"",
    ] {
        assert!(discovery.contains(resource), "{discovery}");
    }

    for (name, algorithm) in [
        ("jane-ecdsa", &rcgen::PKCS_ECDSA_P256_SHA256),
        ("jane-ed25519", &rcgen::PKCS_ED25519),
    ] {
        let key = rcgen::KeyPair::generate_for(algorithm).expect("generate key");
        let mut params = rcgen::CertificateParams::default();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "jane");
        let request = params
            .serialize_request(&key)
            .expect("serialize request")
            .pem()
            .expect("encode request");
        let created =
            server.kubectl_stdin_ok(&["create", "-f", "-"], &csr_manifest(name, &request));
        assert_eq!(
            created,
            format!("certificatesigningrequest.certificates.k8s.io/{name} created\n")
        );
        let approved = server.kubectl_ok(&["certificate", "approve", name]);
        assert_eq!(
            approved,
            format!("certificatesigningrequest.certificates.k8s.io/{name} approved\n")
        );
        let condition = server.kubectl_ok(&[
            "get",
            "csr",
            name,
            "-o",
            "jsonpath={.status.conditions[0].type}",
        ]);
        assert_eq!(condition, "Approved");
    }

    // A request whose signature was altered after signing is rejected as invalid.
    let key = rcgen::KeyPair::generate().expect("generate key");
    let genuine = rcgen::CertificateParams::new(vec!["jane".to_string()])
        .expect("params")
        .serialize_request(&key)
        .expect("serialize request");
    let mut der = genuine.der().to_vec();
    *der.last_mut().expect("non-empty request") ^= 0x01;
    let tampered = format!(
        "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
        STANDARD.encode(&der)
    );
    let output = server.kubectl_stdin(&["create", "-f", "-"], &csr_manifest("forged", &tampered));
    assert!(!output.status.success(), "the forged request was accepted");
    let message = stderr(&output);
    assert!(
        message.contains("is invalid: spec.request: Invalid value")
            && message.contains("signature does not verify"),
        "{message}"
    );
    let listed = server.kubectl_ok(&["get", "csr", "-o", "name"]);
    assert!(!listed.contains("forged"), "{listed}");
}

#[test]
fn service_account_issuer_discovery() {
    let server = TestServer::start();
    server.kubectl_ok(&["create", "serviceaccount", "builder"]);
    let token = server.kubectl_ok(&["create", "token", "builder"]);
    let header = token.split('.').next().expect("JWT header");
    let header = URL_SAFE_NO_PAD
        .decode(header.trim())
        .expect("base64url header");
    let header: serde_json::Value = serde_json::from_slice(&header).expect("header JSON");

    let configuration = server.kubectl_ok(&["get", "--raw", "/.well-known/openid-configuration"]);
    let configuration: serde_json::Value =
        serde_json::from_str(&configuration).expect("configuration JSON");
    let jwks = server.kubectl_ok(&["get", "--raw", "/openid/v1/jwks"]);
    let jwks: serde_json::Value = serde_json::from_str(&jwks).expect("JWKS JSON");

    assert_eq!(
        configuration["issuer"],
        "https://kubernetes.default.svc.cluster.local"
    );
    assert!(
        configuration["jwks_uri"]
            .as_str()
            .is_some_and(|uri| uri.ends_with("/openid/v1/jwks")),
        "{configuration}"
    );
    assert_eq!(jwks["keys"][0]["kid"], header["kid"]);
    assert_eq!(jwks["keys"][0]["alg"], header["alg"]);
}

#[test]
fn drain_evicts_pods() {
    let server = TestServer::start();
    node_and_pod_on_fake_kubelet(&server, 10250);

    let output = server.kubectl_ok(&[
        "drain",
        "fake-node",
        "--force",
        "--grace-period=0",
        "--timeout=30s",
    ]);

    assert!(output.contains("node/fake-node cordoned"), "{output}");
    assert!(output.contains("evicting pod default/web"), "{output}");
    assert!(output.contains("pod/web evicted"), "{output}");
    let unschedulable = server.kubectl_ok(&[
        "get",
        "node",
        "fake-node",
        "-o",
        "jsonpath={.spec.unschedulable}",
    ]);
    assert_eq!(unschedulable, "true");
    let pods = server.kubectl_ok(&["get", "pods", "-o", "name"]);
    assert_eq!(pods, "");
}

#[test]
fn debug_adds_ephemeral_container() {
    let server = TestServer::start();
    let discovery = server.kubectl_ok(&["get", "--raw", "/api/v1"]);
    assert!(
        discovery.contains("\"pods/ephemeralcontainers\""),
        "{discovery}"
    );
    server.kubectl_ok(&["run", "web", "--image=nginx"]);

    // kubectl debug sends a strategic merge patch to pods/ephemeralcontainers.
    let output = server.kubectl(&[
        "debug",
        "web",
        "--image=busybox",
        "--container=debugger",
        "--",
        "true",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let added = server.kubectl_ok(&[
        "get",
        "pod",
        "web",
        "-o",
        "jsonpath={.spec.ephemeralContainers[0].name} {.spec.ephemeralContainers[0].image} {.spec.ephemeralContainers[0].command}",
    ]);
    assert_eq!(added, "debugger busybox [\"true\"]");

    // The subresource returns the whole pod.
    let subresource = server.kubectl_ok(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/pods/web/ephemeralcontainers",
    ]);
    let pod: serde_json::Value = serde_json::from_str(&subresource).expect("pod JSON");
    assert_eq!(pod["kind"], "Pod");
    assert_eq!(pod["spec"]["ephemeralContainers"][0]["name"], "debugger");

    // A PUT may add a container, here one that targets the app container.
    let mut two = pod.clone();
    two["spec"]["ephemeralContainers"]
        .as_array_mut()
        .expect("list")
        .push(
            serde_json::json!({"name": "shell", "image": "busybox", "targetContainerName": "web"}),
        );
    let replaced = server.kubectl_stdin_ok(
        &[
            "replace",
            "--raw",
            "/api/v1/namespaces/default/pods/web/ephemeralcontainers",
            "-f",
            "-",
        ],
        &two.to_string(),
    );
    let replaced: serde_json::Value = serde_json::from_str(&replaced).expect("pod JSON");
    assert_eq!(
        replaced["spec"]["ephemeralContainers"][1]["targetContainerName"],
        "web"
    );
    assert_eq!(replaced["metadata"]["generation"], 3);

    // An existing ephemeral container may not change.
    let mut changed = replaced.clone();
    changed["spec"]["ephemeralContainers"][0]["image"] = serde_json::json!("alpine");
    let output = server.kubectl_stdin(
        &[
            "replace",
            "--raw",
            "/api/v1/namespaces/default/pods/web/ephemeralcontainers",
            "-f",
            "-",
        ],
        &changed.to_string(),
    );
    assert!(
        !output.status.success(),
        "a changed ephemeral container was accepted"
    );
    let message = stderr(&output);
    assert!(
        message.contains(
            "spec.ephemeralContainers.debugger: Forbidden: existing ephemeral containers \"debugger\" may not be changed"
        ),
        "{message}"
    );

    // Nor may it be removed, through the subresource or a plain update.
    let mut none = replaced.clone();
    none["spec"]["ephemeralContainers"] = serde_json::json!([]);
    let output = server.kubectl_stdin(
        &[
            "replace",
            "--raw",
            "/api/v1/namespaces/default/pods/web/ephemeralcontainers",
            "-f",
            "-",
        ],
        &none.to_string(),
    );
    assert!(!output.status.success(), "a removal was accepted");
    let message = stderr(&output);
    assert!(
        message.contains("existing ephemeral containers \"debugger\" may not be removed"),
        "{message}"
    );
    let output = server.kubectl_stdin(&["replace", "-f", "-"], &none.to_string());
    assert!(
        !output.status.success(),
        "a plain update changed ephemeral containers"
    );
    let message = stderr(&output);
    assert!(
        message.contains("spec: Forbidden: pod updates may not change fields other than"),
        "{message}"
    );

    // The subresource serves no other verb.
    let output = server.kubectl(&[
        "delete",
        "--raw",
        "/api/v1/namespaces/default/pods/web/ephemeralcontainers",
    ]);
    assert!(
        !output.status.success(),
        "DELETE of the subresource was accepted"
    );
}
