//! Checks that the OpenAPI documents under `api/openapi-spec/` are the ones the server
//! builds, and regenerates them on request:
//!
//! ```text
//! UPDATE_API_DOCS=1 cargo test -p kube-apiserver --test openapi_drift
//! ```
//!
//! The files are the served JSON, indented with two spaces: `swagger.json` for
//! `/openapi/v2` and `v3/<path with / as __>_openapi.json` for each `/openapi/v3/<path>`,
//! as upstream lays them out.
//!
//! The ignored test `kubectl_explain_reads_documents` serves the documents and a minimal
//! discovery on 127.0.0.1 and runs `kubectl explain` against them (kubectl must be on
//! PATH, or named by `KUBECTL`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use kube_apiserver::openapi::OpenApi;
use serde_json::Value;

const REGENERATE: &str = "UPDATE_API_DOCS=1 cargo test -p kube-apiserver --test openapi_drift";

fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../api/openapi-spec")
}

fn pretty(body: &[u8]) -> String {
    let value: Value = serde_json::from_slice(body).expect("served documents are JSON");
    let mut text = serde_json::to_string_pretty(&value).expect("JSON values serialize");
    text.push('\n');
    text
}

/// Returns the expected content of every file, by path relative to `api/openapi-spec/`.
fn expected_files(openapi: &OpenApi) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    files.insert("swagger.json".to_string(), pretty(openapi.v2()));
    for path in openapi.v3_paths() {
        let (_, body) = openapi
            .v3_group_version(path)
            .expect("listed paths have documents");
        let name = format!("v3/{}_openapi.json", path.replace('/', "__"));
        files.insert(name, pretty(body));
    }
    files
}

/// Returns the v3 files now on disk, by path relative to `api/openapi-spec/`.
fn existing_v3_files(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir.join("v3")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with("_openapi.json"))
        .map(|name| format!("v3/{name}"))
        .collect();
    names.sort();
    names
}

#[test]
fn documents_match_checked_in_files() {
    let dir = spec_dir();
    let expected = expected_files(&OpenApi::build());

    if std::env::var("UPDATE_API_DOCS").as_deref() == Ok("1") {
        fs::create_dir_all(dir.join("v3")).expect("create api/openapi-spec/v3");
        for stale in existing_v3_files(&dir) {
            if !expected.contains_key(&stale) {
                fs::remove_file(dir.join(&stale)).expect("remove a stale document");
            }
        }
        for (name, content) in &expected {
            fs::write(dir.join(name), content).expect("write a document");
        }
        return;
    }

    let mut problems = Vec::new();
    for (name, content) in &expected {
        match fs::read_to_string(dir.join(name)) {
            Ok(found) if &found == content => {}
            Ok(_) => problems.push(format!("{name} differs")),
            Err(error) => problems.push(format!("{name} cannot be read: {error}")),
        }
    }
    for name in existing_v3_files(&dir) {
        if !expected.contains_key(&name) {
            problems.push(format!("{name} is no longer served"));
        }
    }
    assert!(
        problems.is_empty(),
        "api/openapi-spec is out of date with the server ({}); regenerate it with `{REGENERATE}`",
        problems.join(", ")
    );
}

#[test]
fn build_time() {
    let started = std::time::Instant::now();
    let openapi = OpenApi::build();
    let elapsed = started.elapsed();
    let v3_bytes: usize = openapi
        .v3_paths()
        .filter_map(|path| openapi.v3_group_version(path))
        .map(|(_, body)| body.len())
        .sum();
    println!(
        "OpenApi::build took {elapsed:?}: v2 {} bytes, {} v3 documents with {v3_bytes} bytes",
        openapi.v2().len(),
        openapi.v3_paths().count()
    );
    assert!(openapi.v2().len() > 1_000_000, "v2 is suspiciously small");
}

/// A loopback HTTP server with the OpenAPI documents, enough discovery for kubectl's REST
/// mapper, and one pod (`default/web`) that records the writes it receives.
mod loopback {
    use std::convert::Infallible;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};

    use apimachinery::scheme::{API_GROUPS, RESOURCES};
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper::body::Incoming;
    use hyper::service::service_fn;
    use hyper::{Method, Request, Response, StatusCode};
    use hyper_util::rt::TokioIo;
    use kube_apiserver::openapi::OpenApi;
    use serde_json::{Value, json};
    use tokio::net::TcpListener;

    /// One request the server received.
    #[derive(Clone, Debug)]
    pub struct Recorded {
        pub method: Method,
        pub path_and_query: String,
        pub content_type: String,
        pub body: String,
    }

    pub struct Server {
        pub address: SocketAddr,
        pub requests: Arc<Mutex<Vec<Recorded>>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    /// Returns the live pod, whose last-applied configuration has one container.
    pub fn live_pod() -> Value {
        let applied = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": { "name": "web", "namespace": "default" },
            "spec": { "containers": [{ "name": "a", "image": "busybox" }] },
        });
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "web",
                "namespace": "default",
                "uid": "6b7a3c2e-0000-4000-8000-000000000001",
                "resourceVersion": "7",
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": applied.to_string(),
                },
            },
            "spec": { "containers": [{ "name": "a", "image": "busybox" }] },
        })
    }

    pub async fn start(openapi: Arc<OpenApi>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let address = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));

        let recorded = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (openapi, recorded) = (openapi.clone(), recorded.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let (openapi, recorded) = (openapi.clone(), recorded.clone());
                        async move {
                            Ok::<_, Infallible>(handle(request, &openapi, &recorded, address).await)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Server {
            address,
            requests,
            task,
        }
    }

    async fn handle(
        request: Request<Incoming>,
        openapi: &OpenApi,
        recorded: &Mutex<Vec<Recorded>>,
        address: SocketAddr,
    ) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|collected| collected.to_bytes())
            .unwrap_or_default();
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if let Ok(mut requests) = recorded.lock() {
            requests.push(Recorded {
                method: parts.method.clone(),
                path_and_query: parts.uri.to_string(),
                content_type,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }

        if let Some(response) = openapi.respond(&parts.method, &parts.uri, &parts.headers) {
            return response.map(Full::new);
        }
        let path = parts.uri.path().trim_end_matches('/');
        let pod_path = "/api/v1/namespaces/default/pods/web";
        match (&parts.method, path) {
            (&Method::GET, "/version") => json_response(StatusCode::OK, version()),
            (&Method::GET, "/api") => json_response(StatusCode::OK, api_versions(address)),
            (&Method::GET, "/apis") => json_response(StatusCode::OK, api_groups()),
            (&Method::GET, pod) if pod == pod_path => json_response(StatusCode::OK, live_pod()),
            (&Method::PATCH, pod) if pod == pod_path => json_response(StatusCode::OK, live_pod()),
            (&Method::POST, "/api/v1/namespaces/default/pods") => {
                let created = serde_json::from_slice(&body).unwrap_or(Value::Null);
                json_response(StatusCode::CREATED, created)
            }
            (&Method::GET, path) => match resource_list(path) {
                Some(list) => json_response(StatusCode::OK, list),
                None => not_found(path),
            },
            (_, path) => not_found(path),
        }
    }

    fn json_response(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        response
    }

    fn not_found(path: &str) -> Response<Full<Bytes>> {
        json_response(
            StatusCode::NOT_FOUND,
            json!({
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "message": format!("the server could not find the requested resource ({path})"),
                "reason": "NotFound",
                "code": 404,
            }),
        )
    }

    fn version() -> Value {
        json!({
            "major": "1",
            "minor": "33",
            "gitVersion": "v1.33.0",
            "gitCommit": "",
            "gitTreeState": "clean",
            "buildDate": "2025-04-23T00:00:00Z",
            "goVersion": "go1.24.2",
            "compiler": "gc",
            "platform": "linux/amd64",
        })
    }

    fn api_versions(address: SocketAddr) -> Value {
        json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                { "clientCIDR": "0.0.0.0/0", "serverAddress": address.to_string() },
            ],
        })
    }

    fn api_groups() -> Value {
        let groups: Vec<Value> = API_GROUPS
            .iter()
            .filter(|group| !group.name.is_empty())
            .map(|group| {
                let versions: Vec<Value> = group
                    .versions
                    .iter()
                    .map(|version| {
                        json!({ "groupVersion": format!("{}/{version}", group.name), "version": version })
                    })
                    .collect();
                json!({
                    "name": group.name,
                    "versions": versions,
                    "preferredVersion": versions.first(),
                })
            })
            .collect();
        json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
    }

    fn resource_list(path: &str) -> Option<Value> {
        let group_version = match path.trim_start_matches('/').split('/').collect::<Vec<_>>()[..] {
            ["api", version] => ("", version),
            ["apis", group, version] => (group, version),
            _ => return None,
        };
        let mut resources = Vec::new();
        for resource in RESOURCES
            .iter()
            .filter(|resource| (resource.group, resource.version) == group_version)
        {
            resources.push(json!({
                "name": resource.resource,
                "singularName": resource.singular,
                "namespaced": resource.namespaced,
                "kind": resource.kind,
                "verbs": resource.verbs,
                "shortNames": resource.short_names,
                "categories": resource.categories,
            }));
            for subresource in resource.subresources {
                resources.push(json!({
                    "name": format!("{}/{}", resource.resource, subresource.name),
                    "singularName": "",
                    "namespaced": resource.namespaced,
                    "kind": subresource.kind,
                    "verbs": subresource.verbs,
                }));
            }
        }
        if resources.is_empty() {
            return None;
        }
        let (group, version) = group_version;
        let group_version = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        Some(json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": resources,
        }))
    }
}

/// Output of one kubectl run.
struct KubectlOutput {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Runs kubectl against `server` with a throwaway home and kubeconfig, killing it after
/// 60 seconds.
fn kubectl(server: &std::net::SocketAddr, home: &Path, args: &[&str]) -> KubectlOutput {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let program = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_string());
    let mut child = Command::new(&program)
        .arg(format!("--server=http://{server}"))
        .arg("--request-timeout=20s")
        .args(args)
        .env("HOME", home)
        .env("KUBECONFIG", home.join("kubeconfig"))
        .env("KUBECACHEDIR", home.join("cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {program}: {error}; set KUBECTL"));

    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().ok().flatten().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("collect kubectl output");
    KubectlOutput {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
#[ignore = "runs kubectl (1.27 or newer) against a loopback server; set KUBECTL to choose one"]
fn kubectl_explain_reads_documents() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let home = tempfile::tempdir().expect("temporary home");
    let openapi = std::sync::Arc::new(OpenApi::build());
    let server = runtime.block_on(loopback::start(openapi));

    let containers = kubectl(
        &server.address,
        home.path(),
        &["explain", "pods.spec.containers"],
    );
    println!(
        "$ kubectl explain pods.spec.containers\n{}{}",
        containers.stdout, containers.stderr
    );
    assert!(
        containers.success,
        "kubectl explain failed: {}",
        containers.stderr
    );
    assert!(
        containers.stdout.contains("KIND:       Pod"),
        "{}",
        containers.stdout
    );
    assert!(
        containers.stdout.contains("VERSION:    v1"),
        "{}",
        containers.stdout
    );
    assert!(
        containers
            .stdout
            .contains("FIELD: containers <[]Container>"),
        "{}",
        containers.stdout
    );
    assert!(
        containers.stdout.contains("image\t<string>"),
        "{}",
        containers.stdout
    );
    assert!(
        containers.stdout.contains("name\t<string> -required-"),
        "{}",
        containers.stdout
    );
    assert!(
        containers
            .stdout
            .contains("resources\t<ResourceRequirements>"),
        "{}",
        containers.stdout
    );

    let max_surge = kubectl(
        &server.address,
        home.path(),
        &[
            "explain",
            "deployments.spec.strategy.rollingUpdate.maxSurge",
        ],
    );
    println!(
        "$ kubectl explain deployments.spec.strategy.rollingUpdate.maxSurge\n{}{}",
        max_surge.stdout, max_surge.stderr
    );
    assert!(
        max_surge.success,
        "kubectl explain failed: {}",
        max_surge.stderr
    );
    assert!(
        max_surge.stdout.contains("GROUP:      apps"),
        "{}",
        max_surge.stdout
    );
    assert!(
        max_surge.stdout.contains("FIELD: maxSurge <IntOrString>"),
        "{}",
        max_surge.stdout
    );

    // The v2 document, which client-go fetches as protobuf.
    let v2 = kubectl(
        &server.address,
        home.path(),
        &[
            "explain",
            "pods.spec.containers.ports",
            "--output=plaintext-openapiv2",
        ],
    );
    println!(
        "$ kubectl explain pods.spec.containers.ports --output=plaintext-openapiv2\n{}{}",
        v2.stdout, v2.stderr
    );
    assert!(v2.success, "kubectl explain failed: {}", v2.stderr);
    assert!(
        v2.stdout.contains("RESOURCE: ports <[]Object>"),
        "{}",
        v2.stdout
    );
    assert!(
        v2.stdout.contains("containerPort\t<integer> -required-"),
        "{}",
        v2.stdout
    );
}

#[test]
#[ignore = "runs kubectl (1.27 or newer) against a loopback server; set KUBECTL to choose one"]
fn kubectl_apply_uses_patch_metadata() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let home = tempfile::tempdir().expect("temporary home");
    let openapi = std::sync::Arc::new(OpenApi::build());
    let server = runtime.block_on(loopback::start(openapi));

    let manifest = home.path().join("web.yaml");
    fs::write(
        &manifest,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: default\nspec:\n  \
         containers:\n  - name: a\n    image: busybox\n  - name: b\n    image: busybox\n",
    )
    .expect("write manifest");
    let manifest = manifest.to_string_lossy().into_owned();

    let applied = kubectl(&server.address, home.path(), &["apply", "-f", &manifest]);
    println!(
        "$ kubectl apply -f web.yaml\n{}{}",
        applied.stdout, applied.stderr
    );
    assert!(applied.success, "kubectl apply failed: {}", applied.stderr);
    assert!(!applied.stderr.contains("warning"), "{}", applied.stderr);

    // kubectl 1.29 and newer read the v3 document of api/v1; older ones read v2, which
    // client-go requests as protobuf only.
    let requests = server.requests.lock().expect("requests").clone();
    let read_openapi: Vec<&str> = requests
        .iter()
        .map(|request| request.path_and_query.as_str())
        .filter(|path| {
            path.starts_with("/openapi/v3/api/v1?hash=") || path.starts_with("/openapi/v2")
        })
        .collect();
    println!("OpenAPI documents read: {read_openapi:?}");
    assert!(
        !read_openapi.is_empty(),
        "kubectl read no OpenAPI document: {requests:#?}"
    );
    let patch = requests
        .iter()
        .find(|request| request.method == hyper::Method::PATCH)
        .expect("kubectl sent a PATCH");
    assert_eq!(patch.content_type, "application/strategic-merge-patch+json");
    // Server-side field validation, which kubectl only asks for when the OpenAPI document
    // lists the parameter on the PATCH operation of the kind; otherwise it validates on
    // the client and sends no fieldValidation.
    assert!(
        patch.path_and_query.contains("fieldValidation=Strict"),
        "{}",
        patch.path_and_query
    );
    let body: Value = serde_json::from_str(&patch.body).expect("patch is JSON");
    assert_eq!(
        body["spec"]["$setElementOrder/containers"],
        serde_json::json!([{ "name": "a" }, { "name": "b" }]),
        "{body}"
    );
}
