//! API semantics and bad input against a started kube-apiserver, driven with curl and
//! kubectl as clients drive it.

mod common;

use common::TestServer;
use serde_json::{Value, json};

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

fn post_json(server: &TestServer, path: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    server.curl_json(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &body,
        path,
    ])
}

fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

#[test]
fn create_get_update_delete_round_trip() {
    let server = TestServer::start();

    let (code, created) = post_json(&server, CONFIGMAPS, &configmap("a"));
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["metadata"]["namespace"], "default");
    assert!(
        created["metadata"]["uid"]
            .as_str()
            .is_some_and(|uid| uid.len() == 36)
    );
    assert!(created["metadata"]["creationTimestamp"].is_string());
    let version = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();

    let (code, read) = server.curl_json(&[&format!("{CONFIGMAPS}/a")]);
    assert_eq!(code, 200);
    assert_eq!(read, created);
    // A GET at the create's resourceVersion waits for the watch cache and reads it.
    let (code, cached) = server.curl_json(&[&format!("{CONFIGMAPS}/a?resourceVersion={version}")]);
    assert_eq!(code, 200, "{cached}");
    assert_eq!(cached, created);
    let (code, any) = server.curl_json(&[&format!("{CONFIGMAPS}/a?resourceVersion=0")]);
    assert_eq!((code, &any), (200, &created));
    let (code, status) = server.curl_json(&[&format!("{CONFIGMAPS}/a?resourceVersion=xyz")]);
    assert_eq!(code, 400, "{status}");
    assert_eq!(status["message"], "invalid resource version: xyz");

    let mut changed = read.clone();
    changed["data"]["k"] = json!("w");
    let (code, updated) = server.curl_json(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &changed.to_string(),
        &format!("{CONFIGMAPS}/a"),
    ]);
    assert_eq!(code, 200, "{updated}");
    assert_eq!(updated["data"]["k"], "w");
    assert_ne!(
        updated["metadata"]["resourceVersion"].as_str().unwrap(),
        version
    );
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);

    let (code, deleted) = server.curl_json(&["-X", "DELETE", &format!("{CONFIGMAPS}/a")]);
    assert_eq!(code, 200, "{deleted}");
    let (code, missing) = server.curl_json(&[&format!("{CONFIGMAPS}/a")]);
    assert_eq!(code, 404);
    assert_eq!(missing["reason"], "NotFound");
    assert_eq!(missing["message"], "configmaps \"a\" not found");
    let (_, list) = server.curl_json(&[CONFIGMAPS]);
    let after_delete = list["metadata"]["resourceVersion"].as_str().unwrap();
    let (code, missing) =
        server.curl_json(&[&format!("{CONFIGMAPS}/a?resourceVersion={after_delete}")]);
    assert_eq!(code, 404, "{missing}");
}

#[test]
fn malformed_json_is_bad_request() {
    let server = TestServer::start();
    let (code, status) = server.curl_json(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        "{\"metadata\": {",
        CONFIGMAPS,
    ]);
    assert_eq!(code, 400);
    assert_eq!(status["reason"], "BadRequest");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("json parse error"),
        "{status}"
    );
}

#[test]
fn malformed_yaml_is_bad_request() {
    let server = TestServer::start();
    let (code, status) = server.curl_json(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/yaml",
        "--data-binary",
        "metadata:\n  name: [a\n",
        CONFIGMAPS,
    ]);
    assert_eq!(code, 400, "{status}");
    assert_eq!(status["reason"], "BadRequest");
}

#[test]
fn wrong_kind_for_url_is_bad_request() {
    let server = TestServer::start();
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
    let (code, status) = post_json(&server, CONFIGMAPS, &secret);
    assert_eq!(code, 400, "{status}");

    let wrong_version =
        json!({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    let (code, status) = post_json(&server, CONFIGMAPS, &wrong_version);
    assert_eq!(code, 400, "{status}");
}

#[test]
fn invalid_object_lists_every_cause() {
    let server = TestServer::start();
    let body = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "Bad_Name", "labels": {"bad key": "ok"}},
    });
    let (code, status) = post_json(&server, CONFIGMAPS, &body);
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["reason"], "Invalid");
    let fields: Vec<&str> = status["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cause| cause["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["metadata.name", "metadata.labels"]);
    let (code, _) = server.curl_json(&[&format!("{CONFIGMAPS}/Bad_Name")]);
    assert_eq!(code, 404, "nothing is stored for an invalid object");
}

#[test]
fn duplicate_create_is_already_exists() {
    let server = TestServer::start();
    assert_eq!(post_json(&server, CONFIGMAPS, &configmap("a")).0, 201);
    let (code, status) = post_json(&server, CONFIGMAPS, &configmap("a"));
    assert_eq!(code, 409);
    assert_eq!(status["reason"], "AlreadyExists");
    assert_eq!(status["message"], "configmaps \"a\" already exists");
}

#[test]
fn stale_resource_version_is_conflict() {
    let server = TestServer::start();
    let (_, created) = post_json(&server, CONFIGMAPS, &configmap("a"));
    let mut first = created.clone();
    first["data"]["k"] = json!("1");
    let put = |object: &Value| {
        server.curl_json(&[
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &object.to_string(),
            &format!("{CONFIGMAPS}/a"),
        ])
    };
    assert_eq!(put(&first).0, 200);

    let mut stale = created.clone();
    stale["data"]["k"] = json!("2");
    let (code, status) = put(&stale);
    assert_eq!(code, 409);
    assert_eq!(status["reason"], "Conflict");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .starts_with("Operation cannot be fulfilled on configmaps \"a\""),
        "{status}"
    );

    let (_, read) = server.curl_json(&[&format!("{CONFIGMAPS}/a")]);
    assert_eq!(read["data"]["k"], "1", "the stale write was not applied");
}

#[test]
fn unknown_resource_is_not_found_status() {
    let server = TestServer::start();
    let (code, status) = server.curl_json(&["/api/v1/namespaces/default/widgets"]);
    assert_eq!(code, 404);
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "NotFound");
    let (code, _) = server.curl_json(&["/apis/nope.example.com/v1/things"]);
    assert_eq!(code, 404);
}

#[test]
fn oversized_body_is_rejected_with_413() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let big = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"k": "x".repeat(3 * 1024 * 1024)}});
    let path = common::manifest(dir.path(), "big.json", &big.to_string());
    let (code, status) = server.curl_json(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &format!("@{}", path.display()),
        CONFIGMAPS,
    ]);
    assert_eq!(code, 413, "{status}");
    assert_eq!(status["reason"], "RequestEntityTooLarge");

    // Under the request limit but over the storage limit of 1.5 MiB, in a kind
    // whose validation sets no size limit of its own.
    let mut large = deployment("large", 1);
    large["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "BIG", "value": "x".repeat(2 * 1024 * 1024)}]);
    let path = common::manifest(dir.path(), "large.json", &large.to_string());
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    let (code, status) = server.curl_json(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &format!("@{}", path.display()),
        deployments,
    ]);
    assert_eq!(code, 413, "{status}");
    let (code, _) = server.curl_json(&[&format!("{deployments}/large")]);
    assert_eq!(code, 404, "nothing is stored");

    // A ConfigMap over its own 1 MiB limit is invalid before it reaches storage.
    let configmap = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "large"}, "data": {"k": "x".repeat(2 * 1024 * 1024)}});
    let path = common::manifest(dir.path(), "configmap.json", &configmap.to_string());
    let (code, status) = server.curl_json(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &format!("@{}", path.display()),
        CONFIGMAPS,
    ]);
    assert_eq!(code, 422, "{status}");
}

#[test]
fn server_side_apply_gets_415_with_message() {
    let server = TestServer::start();
    post_json(&server, CONFIGMAPS, &configmap("a"));
    let (code, status) = server.curl_json(&[
        "-X",
        "PATCH",
        "-H",
        "Content-Type: application/apply-patch+yaml",
        "--data-binary",
        "data: {k: w}",
        &format!("{CONFIGMAPS}/a?fieldManager=test"),
    ]);
    assert_eq!(code, 415);
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("server-side apply"),
        "{status}"
    );
}

#[test]
fn patch_types_apply() {
    let server = TestServer::start();
    post_json(&server, CONFIGMAPS, &configmap("a"));
    let patch = |content_type: &str, body: &str| {
        server.curl_json(&[
            "-X",
            "PATCH",
            "-H",
            &format!("Content-Type: {content_type}"),
            "--data-binary",
            body,
            &format!("{CONFIGMAPS}/a"),
        ])
    };
    let (code, merged) = patch("application/merge-patch+json", r#"{"data":{"m":"1"}}"#);
    assert_eq!(code, 200, "{merged}");
    assert_eq!(merged["data"]["m"], "1");
    let (code, patched) = patch(
        "application/json-patch+json",
        r#"[{"op":"remove","path":"/data/k"}]"#,
    );
    assert_eq!(code, 200, "{patched}");
    assert!(patched["data"].get("k").is_none());
    let (code, strategic) = patch(
        "application/strategic-merge-patch+json",
        r#"{"metadata":{"labels":{"s":"1"}}}"#,
    );
    assert_eq!(code, 200, "{strategic}");
    assert_eq!(strategic["metadata"]["labels"]["s"], "1");
    let (code, failed) = patch(
        "application/json-patch+json",
        r#"[{"op":"remove","path":"/data/missing"}]"#,
    );
    assert_eq!(code, 422, "{failed}");
}

#[test]
fn list_pages_with_continue_tokens() {
    let server = TestServer::start();
    for index in 0..25 {
        assert_eq!(
            post_json(&server, CONFIGMAPS, &configmap(&format!("cm-{index:02}"))).0,
            201
        );
    }
    let mut names = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let path = format!("{CONFIGMAPS}?limit=10&continue={token}");
        let (code, page) = server.curl_json(&[&path]);
        assert_eq!(code, 200, "{page}");
        pages += 1;
        names.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["metadata"]["name"].as_str().unwrap().to_string()),
        );
        match page["metadata"]["continue"].as_str() {
            Some(next) if !next.is_empty() => token = next.to_string(),
            _ => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..25).map(|index| format!("cm-{index:02}")).collect();
    assert_eq!(names, expected);

    let (code, status) = server.curl_json(&[&format!("{CONFIGMAPS}?limit=10&continue=garbage")]);
    assert_eq!(code, 400, "{status}");
}

#[test]
fn label_and_field_selectors_filter() {
    let server = TestServer::start();
    let mut labelled = configmap("web");
    labelled["metadata"]["labels"] = json!({"app": "web"});
    post_json(&server, CONFIGMAPS, &labelled);
    post_json(&server, CONFIGMAPS, &configmap("other"));

    let names = |query: &str| -> Vec<String> {
        let (code, list) = server.curl_json(&[&format!("{CONFIGMAPS}?{query}")]);
        assert_eq!(code, 200, "{list}");
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("labelSelector=app%3Dweb"), vec!["web"]);
    assert_eq!(names("labelSelector=app%20notin%20(web)"), vec!["other"]);
    assert_eq!(names("fieldSelector=metadata.name%3Dother"), vec!["other"]);
    assert_eq!(names("resourceVersion=0&labelSelector=app"), vec!["web"]);

    let (code, status) = server.curl_json(&[&format!("{CONFIGMAPS}?fieldSelector=spec.bogus%3Dx")]);
    assert_eq!(code, 400);
    assert_eq!(status["message"], "field label not supported: spec.bogus");
    let (code, _) = server.curl_json(&[&format!("{CONFIGMAPS}?labelSelector=a%20in%20(")]);
    assert_eq!(code, 400);
}

#[test]
fn watch_streams_events_in_order() {
    let server = TestServer::start();
    let (_, created) = post_json(&server, CONFIGMAPS, &configmap("a"));
    let start = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let mut changed = created.clone();
    changed["data"]["k"] = json!("w");
    server.curl_json(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &changed.to_string(),
        &format!("{CONFIGMAPS}/a"),
    ]);
    server.curl_json(&["-X", "DELETE", &format!("{CONFIGMAPS}/a")]);

    let output = server.curl(&[&format!(
        "{CONFIGMAPS}?watch=1&resourceVersion={start}&timeoutSeconds=2"
    )]);
    let events: Vec<Value> = output
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let types: Vec<&str> = events
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["MODIFIED", "DELETED"]);
    assert_eq!(events[0]["object"]["data"]["k"], "w");
}

#[test]
fn watch_from_compacted_revision_is_gone() {
    let server = TestServer::start();
    let (_, first) = post_json(&server, CONFIGMAPS, &configmap("a"));
    for index in 0..3 {
        post_json(&server, CONFIGMAPS, &configmap(&format!("b{index}")));
    }
    let revision: i64 = first["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let backend = server.backend.clone();
    server.block_on(async move {
        let current = backend.current_revision().await.unwrap();
        backend.compact(current).await.unwrap();
    });
    // The watch cache keeps its own window; restart-free check through storage lists.
    let (code, status) = server.curl_json(&[&format!(
        "{CONFIGMAPS}?resourceVersion={revision}&resourceVersionMatch=Exact"
    )]);
    assert_eq!(code, 410, "{status}");
    assert_eq!(status["reason"], "Expired");
}

#[test]
fn finalizers_hold_deletion_until_removed() {
    let server = TestServer::start();
    let mut object = configmap("held");
    object["metadata"]["finalizers"] = json!(["example.com/hold"]);
    assert_eq!(post_json(&server, CONFIGMAPS, &object).0, 201);

    let (code, pending) = server.curl_json(&["-X", "DELETE", &format!("{CONFIGMAPS}/held")]);
    assert_eq!(code, 200, "{pending}");
    assert!(
        pending["metadata"]["deletionTimestamp"].is_string(),
        "{pending}"
    );
    let (code, still) = server.curl_json(&[&format!("{CONFIGMAPS}/held")]);
    assert_eq!(code, 200);
    assert!(still["metadata"]["deletionTimestamp"].is_string());

    let (code, _) = server.curl_json(&[
        "-X",
        "PATCH",
        "-H",
        "Content-Type: application/merge-patch+json",
        "--data-binary",
        r#"{"metadata":{"finalizers":null}}"#,
        &format!("{CONFIGMAPS}/held"),
    ]);
    assert_eq!(code, 200);
    let (code, _) = server.curl_json(&[&format!("{CONFIGMAPS}/held")]);
    assert_eq!(
        code, 404,
        "the object is gone once its last finalizer is removed"
    );
}

#[test]
fn dry_run_stores_nothing() {
    let server = TestServer::start();
    let (code, created) = post_json(
        &server,
        &format!("{CONFIGMAPS}?dryRun=All"),
        &configmap("dry"),
    );
    assert_eq!(code, 201, "{created}");
    let (code, _) = server.curl_json(&[&format!("{CONFIGMAPS}/dry")]);
    assert_eq!(code, 404);
    let (code, _) = post_json(
        &server,
        &format!("{CONFIGMAPS}?dryRun=Bogus"),
        &configmap("dry"),
    );
    assert_eq!(code, 400);
}

#[test]
fn create_in_missing_namespace_is_not_found() {
    let server = TestServer::start();
    let (code, status) = post_json(
        &server,
        "/api/v1/namespaces/nope/configmaps",
        &configmap("a"),
    );
    assert_eq!(code, 404, "{status}");
    assert_eq!(status["message"], "namespaces \"nope\" not found");
}

#[test]
fn discovery_and_health_documents() {
    let server = TestServer::start();
    let (code, version) = server.curl_json(&["/version"]);
    assert_eq!(code, 200);
    assert_eq!(version["major"], "1");
    assert_eq!(version["minor"], "33");

    let (_, groups) = server.curl_json(&["/apis"]);
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|group| group["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"apps")
            && names.contains(&"batch")
            && names.contains(&"rbac.authorization.k8s.io"),
        "{names:?}"
    );

    let (code, aggregated) = server.curl_json(&[
        "-H",
        "Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        "/api",
    ]);
    assert_eq!(code, 200);
    assert_eq!(aggregated["kind"], "APIGroupDiscoveryList");

    let verbose = server.curl(&["/readyz?verbose"]);
    assert!(verbose.contains("[+]etcd ok"), "{verbose}");
    assert!(verbose.contains("readyz check passed"), "{verbose}");
    let metrics = server.curl(&["/metrics"]);
    assert!(metrics.contains("apiserver_request_total"), "{metrics}");
}

#[test]
fn system_namespaces_exist_after_start() {
    let server = TestServer::start();
    let output = server.kubectl_ok(&["get", "namespaces", "-o", "name"]);
    for namespace in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(
            output.contains(&format!("namespace/{namespace}")),
            "{output}"
        );
    }
    let classes = server.kubectl_ok(&["get", "priorityclasses", "-o", "name"]);
    assert!(classes.contains("system-node-critical"), "{classes}");

    let (code, levels) =
        server.curl_json(&["/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations"]);
    assert_eq!(code, 200, "{levels}");
    let names: Vec<&str> = levels["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|item| item["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["catch-all", "exempt"]);
    let (code, catch_all) =
        server.curl_json(&["/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas/catch-all"]);
    assert_eq!(code, 200, "{catch_all}");
    assert_eq!(catch_all["spec"]["matchingPrecedence"], 10000);
    assert_eq!(
        catch_all["spec"]["priorityLevelConfiguration"]["name"],
        "catch-all"
    );
    assert_eq!(
        catch_all["metadata"]["annotations"]["apf.kubernetes.io/autoupdate-spec"],
        "true"
    );
    let schemas = server.kubectl_ok(&["get", "flowschemas", "-o", "name"]);
    assert!(
        schemas.contains("flowschema.flowcontrol.apiserver.k8s.io/exempt"),
        "{schemas}"
    );
}

fn deployment(name: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
        },
    })
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
}

#[test]
fn scale_subresource_reads_and_writes_replicas() {
    let server = TestServer::start();
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    assert_eq!(
        post_json(&server, deployments, &deployment("web", 2)).0,
        201
    );

    let (code, scale) = server.curl_json(&[&format!("{deployments}/web/scale")]);
    assert_eq!(code, 200, "{scale}");
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 2);
    assert_eq!(scale["status"]["selector"], "app=web");

    let (code, patched) = server.curl_json(&[
        "-X",
        "PATCH",
        "-H",
        "Content-Type: application/merge-patch+json",
        "--data-binary",
        r#"{"spec":{"replicas":5}}"#,
        &format!("{deployments}/web/scale"),
    ]);
    assert_eq!(code, 200, "{patched}");
    assert_eq!(patched["spec"]["replicas"], 5);

    server.kubectl_ok(&["scale", "deployment/web", "--replicas=3"]);
    let replicas = server.kubectl_ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.replicas}",
    ]);
    assert_eq!(replicas, "3");

    let (code, status) = server.curl_json(&[
        "-X",
        "PATCH",
        "-H",
        "Content-Type: application/merge-patch+json",
        "--data-binary",
        r#"{"spec":{"replicas":-1}}"#,
        &format!("{deployments}/web/scale"),
    ]);
    assert_eq!(code, 422, "{status}");
}

#[test]
fn binding_assigns_a_node_once() {
    let server = TestServer::start();
    let pods = "/api/v1/namespaces/default/pods";
    assert_eq!(post_json(&server, pods, &pod("p")).0, 201);
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"}, "target": {"kind": "Node", "name": "node-1"}});
    let (code, status) = post_json(&server, &format!("{pods}/p/binding"), &binding);
    assert_eq!(code, 201, "{status}");
    let (_, bound) = server.curl_json(&[&format!("{pods}/p")]);
    assert_eq!(bound["spec"]["nodeName"], "node-1");
    assert_eq!(bound["status"]["conditions"][0]["type"], "PodScheduled");

    let (code, status) = post_json(&server, &format!("{pods}/p/binding"), &binding);
    assert_eq!(code, 409, "{status}");
    assert_eq!(
        status["message"],
        "Operation cannot be fulfilled on pods/binding \"p\": pod p is already assigned to node \"node-1\""
    );

    // A gated pod, a wrong target kind, a name that differs from the URL's and a stale
    // UID are rejected, and the pod keeps no node.
    let mut gated = pod("gated");
    gated["spec"]["schedulingGates"] = json!([{"name": "example.com/wait"}]);
    assert_eq!(post_json(&server, pods, &gated).0, 201);
    let to_node = |name: &str, extra: Value| {
        let mut binding = json!({"apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": name}, "target": {"kind": "Node", "name": "node-1"}});
        if let (Some(binding), Some(extra)) = (binding.as_object_mut(), extra.as_object()) {
            binding.extend(extra.clone());
        }
        binding
    };
    let (code, status) = post_json(
        &server,
        &format!("{pods}/gated/binding"),
        &to_node("gated", json!({})),
    );
    assert_eq!(code, 409, "{status}");
    assert_eq!(
        status["message"],
        "Operation cannot be fulfilled on pods/binding \"gated\": pod gated has non-empty .spec.schedulingGates"
    );
    let kind = json!({"target": {"kind": "Pod", "name": "node-1"}});
    let (code, status) = post_json(
        &server,
        &format!("{pods}/gated/binding"),
        &to_node("gated", kind),
    );
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["details"]["causes"][0]["field"], "target.kind");
    let no_target = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "gated"}});
    let (code, status) = post_json(&server, &format!("{pods}/gated/binding"), &no_target);
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["details"]["causes"][0]["field"], "target.name");
    let (code, status) = post_json(
        &server,
        &format!("{pods}/gated/binding"),
        &to_node("other", json!({})),
    );
    assert_eq!(code, 400, "{status}");
    assert_eq!(
        status["message"],
        "name in URL does not match name in Binding object"
    );
    let stale = json!({"metadata": {"name": "gated", "uid": "not-the-uid"}});
    let (code, status) = post_json(
        &server,
        &format!("{pods}/gated/binding"),
        &to_node("gated", stale),
    );
    assert_eq!(code, 409, "{status}");
    assert!(
        status["message"].as_str().is_some_and(
            |message| message.contains("Precondition failed: UID in precondition: not-the-uid")
        ),
        "{status}"
    );
    let (_, gated) = server.curl_json(&[&format!("{pods}/gated")]);
    assert!(gated["spec"].get("nodeName").is_none(), "{gated}");

    let (_, on_node) = server.curl_json(&["/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1"]);
    assert_eq!(
        on_node["items"].as_array().map(Vec::len),
        Some(1),
        "{on_node}"
    );
}

#[test]
fn eviction_deletes_unprotected_pod() {
    let server = TestServer::start();
    let pods = "/api/v1/namespaces/default/pods";
    assert_eq!(post_json(&server, pods, &pod("victim")).0, 201);
    let eviction =
        json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "victim"}});
    let (code, status) = post_json(&server, &format!("{pods}/victim/eviction"), &eviction);
    assert_eq!(code, 201, "{status}");
    let (code, _) = server.curl_json(&[&format!("{pods}/victim")]);
    assert_eq!(code, 404);
}

fn service(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})
}

#[test]
fn services_get_cluster_ips_and_node_ports() {
    let server = TestServer::start_with(&[
        "--service-cluster-ip-range=10.96.0.0/24",
        "--service-node-port-range=30000-30010",
    ]);
    let services = "/api/v1/namespaces/default/services";

    let (code, kubernetes) = server.curl_json(&[&format!("{services}/kubernetes")]);
    assert_eq!(code, 200, "{kubernetes}");
    assert_eq!(kubernetes["spec"]["clusterIP"], "10.96.0.1");

    let ports = json!([{"port": 80, "targetPort": 8080}]);
    let (code, web) = post_json(
        &server,
        services,
        &service("web", json!({"selector": {"app": "web"}, "ports": ports})),
    );
    assert_eq!(code, 201, "{web}");
    let ip = web["spec"]["clusterIP"].as_str().unwrap().to_string();
    assert!(ip.starts_with("10.96.0.") && ip != "10.96.0.1", "{ip}");
    assert_eq!(web["spec"]["clusterIPs"], json!([ip]));

    let (code, taken) = post_json(
        &server,
        services,
        &service("copy", json!({"clusterIP": ip, "ports": [{"port": 80}]})),
    );
    assert_eq!(code, 422, "{taken}");
    let (code, outside) = post_json(
        &server,
        services,
        &service(
            "far",
            json!({"clusterIP": "192.0.2.1", "ports": [{"port": 80}]}),
        ),
    );
    assert_eq!(code, 422, "{outside}");

    let (code, node_port) = post_json(
        &server,
        services,
        &service("np", json!({"type": "NodePort", "ports": [{"port": 80}]})),
    );
    assert_eq!(code, 201, "{node_port}");
    let allocated = node_port["spec"]["ports"][0]["nodePort"].as_i64().unwrap();
    assert!((30000..=30010).contains(&allocated), "{allocated}");

    let (code, headless) = post_json(
        &server,
        services,
        &service(
            "headless",
            json!({"clusterIP": "None", "ports": [{"port": 80}]}),
        ),
    );
    assert_eq!(code, 201, "{headless}");
    assert_eq!(headless["spec"]["clusterIP"], "None");

    // Deleting releases the address, so it can be requested again.
    server.curl_json(&["-X", "DELETE", &format!("{services}/web")]);
    let (code, reused) = post_json(
        &server,
        services,
        &service("again", json!({"clusterIP": ip, "ports": [{"port": 80}]})),
    );
    assert_eq!(code, 201, "{reused}");

    // An update that leaves out the server-assigned fields keeps them.
    let mut update = reused.clone();
    update["spec"].as_object_mut().unwrap().remove("clusterIP");
    update["spec"].as_object_mut().unwrap().remove("clusterIPs");
    let (code, updated) = server.curl_json(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &update.to_string(),
        &format!("{services}/again"),
    ]);
    assert_eq!(code, 200, "{updated}");
    assert_eq!(updated["spec"]["clusterIP"], json!(ip));
}

#[test]
fn huge_watch_timeout_is_capped_not_a_panic() {
    let server = TestServer::start();
    let output = server.curl(&[
        "--max-time",
        "2",
        &format!("{CONFIGMAPS}?watch=1&timeoutSeconds=18446744073709551615"),
    ]);
    assert!(output.trim_end().ends_with("400"), "{output}");
    let output = server.curl(&[
        "--max-time",
        "2",
        &format!("{CONFIGMAPS}?watch=1&timeoutSeconds=9223372036854775807"),
    ]);
    assert!(output.trim_end().ends_with("200"), "{output}");
    assert!(server.curl(&["/readyz"]).starts_with("ok"));
}

#[test]
fn namespaces_cannot_be_deleted_by_collection_or_when_protected() {
    let server = TestServer::start();
    let (code, status) = server.curl_json(&["-X", "DELETE", "/api/v1/namespaces"]);
    assert_eq!(code, 405, "{status}");
    for protected in ["default", "kube-system", "kube-public"] {
        let (code, status) =
            server.curl_json(&["-X", "DELETE", &format!("/api/v1/namespaces/{protected}")]);
        assert_eq!(code, 403, "{status}");
        assert_eq!(
            status["message"],
            format!("namespaces \"{protected}\" is forbidden: this namespace may not be deleted")
        );
    }
    let (code, status) = post_json(&server, "/api/v1/configmaps", &configmap("nowhere"));
    assert_eq!(code, 405, "{status}");
}

#[test]
fn deleted_namespace_terminates_until_finalized() {
    let server = TestServer::start();
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}});
    let (code, created) = post_json(&server, "/api/v1/namespaces", &namespace);
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(created["status"]["phase"], "Active");

    let (code, deleting) = server.curl_json(&["-X", "DELETE", "/api/v1/namespaces/team"]);
    assert_eq!(code, 200, "{deleting}");
    assert_eq!(deleting["status"]["phase"], "Terminating");
    let (code, status) = post_json(
        &server,
        "/api/v1/namespaces/team/configmaps",
        &configmap("late"),
    );
    assert_eq!(code, 403, "{status}");

    let mut finalized = deleting.clone();
    finalized["spec"]["finalizers"] = json!([]);
    let (code, _) = server.curl_json(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &finalized.to_string(),
        "/api/v1/namespaces/team/finalize",
    ]);
    assert_eq!(code, 200);
    let (code, _) = server.curl_json(&["/api/v1/namespaces/team"]);
    assert_eq!(code, 404, "the namespace is gone once finalized");
}

#[test]
fn percent_encoded_names_are_decoded() {
    let server = TestServer::start();
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:tester"}});
    let roles = "/apis/rbac.authorization.k8s.io/v1/clusterroles";
    assert_eq!(post_json(&server, roles, &role).0, 201);
    let (code, read) = server.curl_json(&[&format!("{roles}/system%3Atester")]);
    assert_eq!(code, 200, "{read}");
    assert_eq!(read["metadata"]["name"], "system:tester");
}

#[test]
fn head_requests_work_over_http2() {
    let server = TestServer::start();
    let output = server.curl(&["--http2", "-I", "/healthz"]);
    assert!(output.starts_with("HTTP/2 200"), "{output}");
}

#[test]
fn later_delete_policy_replaces_finalizer() {
    let server = TestServer::start();
    assert_eq!(post_json(&server, CONFIGMAPS, &configmap("policy")).0, 201);
    let delete = |policy: &str| {
        server.curl_json(&[
            "-X",
            "DELETE",
            &format!("{CONFIGMAPS}/policy?propagationPolicy={policy}"),
        ])
    };
    let (_, first) = delete("Orphan");
    assert_eq!(first["metadata"]["finalizers"], json!(["orphan"]));
    let (_, second) = delete("Foreground");
    assert_eq!(
        second["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    let (code, _) = delete("Background");
    assert_eq!(code, 200);
    let (code, _) = server.curl_json(&[&format!("{CONFIGMAPS}/policy")]);
    assert_eq!(
        code, 404,
        "Background drops the finalizers and the object goes"
    );
}

#[test]
fn malformed_list_parameters_are_bad_requests() {
    let server = TestServer::start();
    for query in [
        "limit=abc",
        "timeoutSeconds=abc",
        "resourceVersion=xyz",
        "resourceVersionMatch=Sometimes&resourceVersion=1",
    ] {
        let (code, status) = server.curl_json(&[&format!("{CONFIGMAPS}?{query}")]);
        assert_eq!(code, 400, "{query}: {status}");
        assert_eq!(status["reason"], "BadRequest", "{query}");
    }
}

fn decode_jwt_payload(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON payload")
}

#[test]
fn token_request_issues_bound_token() {
    let server = TestServer::start();
    let (code, _) = post_json(
        &server,
        "/api/v1/namespaces/default/serviceaccounts",
        &json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder"}}),
    );
    assert_eq!(code, 201);
    let (code, pod) = post_json(
        &server,
        "/api/v1/namespaces/default/pods",
        &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                "spec": {"serviceAccountName": "builder", "containers": [{"name": "app", "image": "busybox"}]}}),
    );
    assert_eq!(code, 201, "{pod}");
    let pod_uid = pod["metadata"]["uid"].as_str().expect("uid").to_string();

    let request = json!({
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "spec": {"audiences": ["api"], "expirationSeconds": 1200,
                 "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "web", "uid": pod_uid}}
    });
    let (code, issued) = post_json(
        &server,
        "/api/v1/namespaces/default/serviceaccounts/builder/token",
        &request,
    );
    assert_eq!(code, 201, "{issued}");
    assert_eq!(issued["kind"], "TokenRequest");
    assert!(
        issued["status"]["expirationTimestamp"].is_string(),
        "{issued}"
    );
    let claims = decode_jwt_payload(issued["status"]["token"].as_str().expect("token"));
    assert_eq!(claims["sub"], "system:serviceaccount:default:builder");
    assert_eq!(claims["aud"], json!(["api"]));
    assert_eq!(claims["kubernetes.io"]["pod"]["uid"], json!(pod_uid));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        1200
    );
}

#[test]
fn token_request_rejects_bad_input() {
    let server = TestServer::start();
    let path = "/api/v1/namespaces/default/serviceaccounts/missing/token";
    let (code, status) = post_json(
        &server,
        path,
        &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}),
    );
    assert_eq!(code, 404, "{status}");

    post_json(
        &server,
        "/api/v1/namespaces/default/serviceaccounts",
        &json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "short"}}),
    );
    let (code, status) = post_json(
        &server,
        "/api/v1/namespaces/default/serviceaccounts/short/token",
        &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 60}}),
    );
    assert_eq!(code, 422, "{status}");
    assert_eq!(
        status["details"]["causes"][0]["field"],
        "spec.expirationSeconds"
    );

    let (code, status) = post_json(
        &server,
        "/api/v1/namespaces/default/serviceaccounts/short/token",
        &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "spec": {"boundObjectRef": {"kind": "Pod", "name": "absent"}}}),
    );
    assert_eq!(code, 404, "{status}");
}

#[test]
fn pod_admission_defaults() {
    let server = TestServer::start();
    let (code, pod) = post_json(
        &server,
        "/api/v1/namespaces/default/pods",
        &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "admitted"},
                "spec": {"priorityClassName": "system-node-critical",
                         "containers": [{"name": "app", "image": "busybox"}]}}),
    );
    assert_eq!(code, 201, "{pod}");
    assert_eq!(pod["spec"]["serviceAccountName"], "default");
    assert_eq!(pod["spec"]["priority"], 2000001000);
    assert_eq!(pod["spec"]["preemptionPolicy"], "PreemptLowerPriority");
    let volume = &pod["spec"]["volumes"][0];
    assert!(
        volume["name"]
            .as_str()
            .unwrap()
            .starts_with("kube-api-access-"),
        "{volume}"
    );
    assert_eq!(
        volume["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
        3607
    );
    assert_eq!(
        pod["spec"]["containers"][0]["volumeMounts"][0]["mountPath"],
        "/var/run/secrets/kubernetes.io/serviceaccount"
    );
    let tolerations = pod["spec"]["tolerations"].as_array().expect("tolerations");
    assert!(
        tolerations.iter().any(
            |toleration| toleration["key"] == "node.kubernetes.io/unreachable"
                && toleration["tolerationSeconds"] == 300
        ),
        "{tolerations:?}"
    );

    let (code, status) = post_json(
        &server,
        "/api/v1/namespaces/default/pods",
        &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "unknown-class"},
                "spec": {"priorityClassName": "gold", "containers": [{"name": "app", "image": "busybox"}]}}),
    );
    assert_eq!(code, 403, "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("no PriorityClass with name gold was found"),
        "{status}"
    );

    let (code, pod) = post_json(
        &server,
        "/api/v1/namespaces/default/pods",
        &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "no-token"},
                "spec": {"automountServiceAccountToken": false, "containers": [{"name": "app", "image": "busybox"}]}}),
    );
    assert_eq!(code, 201, "{pod}");
    assert!(pod["spec"].get("volumes").is_none(), "{pod}");
}

#[test]
fn merge_patch_replacing_containers_gets_defaults() {
    let server = TestServer::start();
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "patched"},
        "spec": {"selector": {"matchLabels": {"app": "p"}},
                 "template": {"metadata": {"labels": {"app": "p"}},
                              "spec": {"containers": [{"name": "a", "image": "busybox"}]}}}
    });
    let (code, _) = post_json(
        &server,
        "/apis/apps/v1/namespaces/default/deployments",
        &deployment,
    );
    assert_eq!(code, 201);
    let patch = r#"{"spec":{"template":{"spec":{"containers":[{"name":"b","image":"nginx"}]}}}}"#;
    let (code, patched) = server.curl_json(&[
        "-X",
        "PATCH",
        "-H",
        "Content-Type: application/merge-patch+json",
        "--data",
        patch,
        "/apis/apps/v1/namespaces/default/deployments/patched",
    ]);
    assert_eq!(code, 200, "{patched}");
    let container = &patched["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["name"], "b");
    // An image without a tag means :latest, which defaults to pulling always.
    assert_eq!(container["imagePullPolicy"], "Always");
    assert_eq!(container["terminationMessagePolicy"], "File");
}

fn put_json(server: &TestServer, path: &str, body: &Value) -> (u16, Value) {
    server.curl_json(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &body.to_string(),
        path,
    ])
}

fn entry<'a>(object: &'a Value, manager: &str) -> Option<&'a Value> {
    object["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|entry| entry["manager"] == manager)
}

#[test]
fn managed_fields_follow_creates_updates_and_status_writes() {
    let server = TestServer::start();

    let (code, created) = post_json(
        &server,
        &format!("{CONFIGMAPS}?fieldManager=creator"),
        &configmap("owned"),
    );
    assert_eq!(code, 201, "{created}");
    let creator = entry(&created, "creator").expect("creator entry");
    assert_eq!(creator["operation"], "Update");
    assert_eq!(creator["apiVersion"], "v1");
    assert_eq!(creator["fieldsType"], "FieldsV1");
    assert!(creator["time"].is_string(), "{creator}");
    assert_eq!(creator["fieldsV1"], json!({"f:data": {".": {}, "f:k": {}}}));

    // Without fieldManager the manager is the User-Agent's prefix; the changed field
    // moves to it.
    let mut changed = created.clone();
    changed["data"]["k"] = json!("w");
    changed["metadata"]["labels"] = json!({"team": "a"});
    let (code, updated) = put_json(&server, &format!("{CONFIGMAPS}/owned"), &changed);
    assert_eq!(code, 200, "{updated}");
    assert_eq!(
        entry(&updated, "creator").unwrap()["fieldsV1"],
        json!({"f:data": {}})
    );
    assert_eq!(
        entry(&updated, "curl").unwrap()["fieldsV1"],
        json!({"f:data": {"f:k": {}}, "f:metadata": {"f:labels": {".": {}, "f:team": {}}}})
    );

    // Removing what a manager owned empties its entry, which then disappears.
    let mut removed = updated.clone();
    removed.as_object_mut().unwrap().remove("data");
    let (code, removed) = put_json(&server, &format!("{CONFIGMAPS}/owned"), &removed);
    assert_eq!(code, 200, "{removed}");
    assert!(entry(&removed, "creator").is_none(), "{removed}");
    assert!(entry(&removed, "curl").is_some(), "labels stay owned");

    // An empty list resets the entries.
    let mut reset = removed.clone();
    reset["metadata"]["managedFields"] = json!([]);
    let (code, reset) = put_json(&server, &format!("{CONFIGMAPS}/owned"), &reset);
    assert_eq!(code, 200, "{reset}");
    assert!(reset["metadata"].get("managedFields").is_none(), "{reset}");

    // A list that does not decode is replaced by the stored one.
    let mut labelled = reset.clone();
    labelled["metadata"]["labels"]["tier"] = json!("web");
    labelled["metadata"]["managedFields"] = json!([{"manager": "x", "operation": "Bogus"}]);
    let (code, labelled) = put_json(
        &server,
        &format!("{CONFIGMAPS}/owned?fieldManager=labeller"),
        &labelled,
    );
    assert_eq!(code, 200, "{labelled}");
    let entries = labelled["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{labelled}");
    assert_eq!(
        entries[0]["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:tier": {}}}})
    );

    // Status writes get an entry of their own.
    let pods = "/api/v1/namespaces/default/pods";
    let (code, created) = post_json(&server, &format!("{pods}?fieldManager=runner"), &pod("p"));
    assert_eq!(code, 201, "{created}");
    let runner = entry(&created, "runner").unwrap();
    assert_eq!(
        runner["fieldsV1"]["f:spec"]["f:containers"]["k:{\"name\":\"c\"}"]["."],
        json!({}),
        "{runner}"
    );
    assert!(runner["fieldsV1"].get("f:status").is_none(), "{runner}");
    let mut status = created.clone();
    status["status"]["phase"] = json!("Running");
    let (code, written) = put_json(
        &server,
        &format!("{pods}/p/status?fieldManager=kubelet"),
        &status,
    );
    assert_eq!(code, 200, "{written}");
    let kubelet = entry(&written, "kubelet").unwrap();
    assert_eq!(kubelet["subresource"], "status");
    assert_eq!(kubelet["fieldsV1"], json!({"f:status": {"f:phase": {}}}));
}

#[test]
fn invalid_field_manager_is_rejected() {
    let server = TestServer::start();
    let long = "m".repeat(129);
    let (code, status) = post_json(
        &server,
        &format!("{CONFIGMAPS}?fieldManager={long}"),
        &configmap("x"),
    );
    assert_eq!(code, 422, "{status}");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.starts_with("CreateOptions.meta.k8s.io \"\" is invalid: fieldManager: Too long"),
        "{message}"
    );
}

#[test]
fn yaml_and_protobuf_responses_follow_accept() {
    let server = TestServer::start();
    let yaml_accept = "Accept: application/yaml";

    let body = configmap("yml").to_string();
    let created = server.curl(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-H",
        yaml_accept,
        "--data-binary",
        &body,
        CONFIGMAPS,
    ]);
    assert!(created.ends_with("\n201"), "{created}");
    assert!(
        created.starts_with("apiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n"),
        "{created}"
    );
    assert!(created.contains("  creationTimestamp: \""), "{created}");

    let got = server.curl(&["-H", yaml_accept, &format!("{CONFIGMAPS}/yml")]);
    assert!(got.contains("  name: yml\n  namespace: default\n"), "{got}");
    let list = server.curl(&["-H", yaml_accept, CONFIGMAPS]);
    assert!(
        list.starts_with("apiVersion: v1\nitems:\n- apiVersion: v1\n"),
        "{list}"
    );
    assert!(list.contains("kind: ConfigMapList\n"), "{list}");

    let missing = server.curl(&["-H", yaml_accept, &format!("{CONFIGMAPS}/none")]);
    assert!(missing.contains("reason: NotFound\n"), "{missing}");
    assert!(missing.contains("kind: Status\n"), "{missing}");
    assert!(missing.ends_with("\n404"), "{missing}");

    let file = std::env::temp_dir().join(format!("apiserver-proto-{}", std::process::id()));
    let path = file.to_string_lossy().into_owned();
    let code = server.curl(&[
        "-H",
        "Accept: application/vnd.kubernetes.protobuf, application/json",
        "-o",
        &path,
        &format!("{CONFIGMAPS}/yml"),
    ]);
    assert_eq!(code.trim(), "200");
    let bytes = std::fs::read(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    let (gvk, object) = apimachinery::protobuf::decode(&bytes).expect("protobuf body");
    assert_eq!(gvk.kind, "ConfigMap");
    assert_eq!(object["data"]["k"], "v");
    assert_eq!(object["metadata"]["name"], "yml");
}

#[test]
fn autoscaling_v1_is_served_over_v2_storage() {
    let server = TestServer::start();
    let v1 = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers";
    let v2 = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";
    let target = json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"});

    let hpa = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": target, "maxReplicas": 4, "targetCPUUtilizationPercentage": 60}});
    let (code, created) = post_json(&server, v1, &hpa);
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["apiVersion"], "autoscaling/v1");
    assert_eq!(created["spec"]["targetCPUUtilizationPercentage"], 60);
    assert_eq!(created["spec"]["minReplicas"], 1, "v2 defaults apply");

    let (code, stored) = server.curl_json(&[&format!("{v2}/web")]);
    assert_eq!(code, 200, "{stored}");
    assert_eq!(stored["apiVersion"], "autoscaling/v2");
    assert_eq!(
        stored["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}}])
    );

    // What v1 cannot express travels in annotations.
    let pods_metric = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "qps"},
        "spec": {"scaleTargetRef": target, "maxReplicas": 3, "metrics": [
            {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}}]}});
    assert_eq!(post_json(&server, v2, &pods_metric).0, 201);
    let (code, served) = server.curl_json(&[&format!("{v1}/qps")]);
    assert_eq!(code, 200, "{served}");
    let annotation = served["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/metrics"]
        .as_str()
        .expect("metrics annotation");
    let metrics: Value = serde_json::from_str(annotation).unwrap();
    assert_eq!(
        metrics,
        json!([{"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "10"}}])
    );
    assert!(
        served["spec"]
            .get("targetCPUUtilizationPercentage")
            .is_none()
    );

    // A v1 update keeps the metric it cannot show.
    let mut changed = served.clone();
    changed["spec"]["maxReplicas"] = json!(5);
    let (code, updated) = put_json(&server, &format!("{v1}/qps"), &changed);
    assert_eq!(code, 200, "{updated}");
    let (_, stored) = server.curl_json(&[&format!("{v2}/qps")]);
    assert_eq!(stored["spec"]["maxReplicas"], 5);
    assert_eq!(
        stored["spec"]["metrics"][0]["pods"]["metric"]["name"],
        "qps"
    );
    assert!(stored["metadata"].get("annotations").is_none(), "{stored}");

    // v1 defaults apply to v1 requests: no target means 80% CPU.
    let plain = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "plain"}, "spec": {"scaleTargetRef": target, "maxReplicas": 2}});
    let (code, created) = post_json(&server, v1, &plain);
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["spec"]["targetCPUUtilizationPercentage"], 80);

    let (code, list) = server.curl_json(&[v1]);
    assert_eq!(code, 200);
    assert_eq!(list["kind"], "HorizontalPodAutoscalerList");
    assert_eq!(list["items"][0]["apiVersion"], "autoscaling/v1");

    let (code, resources) = server.curl_json(&["/apis/autoscaling/v1"]);
    assert_eq!(code, 200, "{resources}");
    assert!(
        resources
            .to_string()
            .contains("horizontalpodautoscalers/status"),
        "{resources}"
    );
}

#[test]
fn events_k8s_io_is_served_over_core_events() {
    let server = TestServer::start();
    let events = "/apis/events.k8s.io/v1/namespaces/default/events";
    let event = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "e1"},
        "eventTime": "2024-01-02T03:04:05.000000Z",
        "reportingController": "example.com/controller", "reportingInstance": "one",
        "action": "Scale", "reason": "Scaled", "type": "Normal", "note": "scaled up",
        "regarding": {"kind": "Deployment", "name": "web", "namespace": "default"}});
    let (code, created) = post_json(&server, events, &event);
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["apiVersion"], "events.k8s.io/v1");
    assert_eq!(created["note"], "scaled up");

    // Requests are validated with the rules of their own version.
    let mut untimed = event.clone();
    untimed["metadata"]["name"] = json!("e2");
    untimed.as_object_mut().unwrap().remove("eventTime");
    let (code, invalid) = post_json(&server, events, &untimed);
    assert_eq!(code, 422, "{invalid}");
    assert_eq!(
        invalid["details"]["causes"][0]["field"], "eventTime",
        "{invalid}"
    );

    let (code, core) = server.curl_json(&["/api/v1/namespaces/default/events/e1"]);
    assert_eq!(code, 200, "{core}");
    assert_eq!(core["message"], "scaled up");
    assert_eq!(core["involvedObject"]["name"], "web");
    assert_eq!(core["reportingComponent"], "example.com/controller");

    let (code, list) = server.curl_json(&[events]);
    assert_eq!(code, 200, "{list}");
    assert_eq!(list["items"][0]["regarding"]["kind"], "Deployment");
    assert_eq!(list["items"][0]["apiVersion"], "events.k8s.io/v1");

    let (code, selected) = server.curl_json(&[&format!(
        "{events}?fieldSelector=regarding.name%3Dweb,reportingController%3Dexample.com/controller"
    )]);
    assert_eq!(code, 200, "{selected}");
    assert_eq!(selected["items"].as_array().unwrap().len(), 1, "{selected}");
    let (code, none) =
        server.curl_json(&[&format!("{events}?fieldSelector=regarding.name%3Dother")]);
    assert_eq!(code, 200, "{none}");
    assert!(none["items"].as_array().unwrap().is_empty(), "{none}");
    let (code, rejected) =
        server.curl_json(&[&format!("{events}?fieldSelector=involvedObject.name%3Dweb")]);
    assert_eq!(code, 400, "{rejected}");

    let watch = server.curl(&["--max-time", "2", &format!("{events}?watch=true")]);
    assert!(watch.contains("\"note\":\"scaled up\""), "{watch}");
    assert!(!watch.contains("\"message\""), "{watch}");

    let listed = server.kubectl_ok(&["get", "events.v1.events.k8s.io", "-o", "name"]);
    assert!(listed.contains("event.events.k8s.io/e1"), "{listed}");
}
