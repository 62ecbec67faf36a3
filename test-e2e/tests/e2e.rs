//! The end-to-end suite: one two-node cluster per run, started by the same launcher
//! as `make run`, driven with real kubectl the way users drive a cluster.
//!
//! The scenarios run in order against the one cluster, each printing its duration.
//! Manifests follow the Kubernetes documentation's examples; images are the local
//! stand-ins that hack/images/build.sh builds and the cluster's registry serves.
//! The suite needs root (network namespaces, cgroups, mounts) and the debug binaries
//! of the workspace; without root it is skipped with a message. `E2E_FOCUS=<text>`
//! runs only the scenarios whose names contain `<text>` (the cluster still starts).

use std::path::PathBuf;
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;
use test_e2e::cluster::{Cluster, ClusterSpec};

/// Returns the directory of the workspace's binaries; this test runs from
/// `<target>/debug/deps/`.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current executable");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .to_path_buf()
}

fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The port of the registry hack/registry.sh runs for the add-on push; the cluster
/// serves the same storage to its nodes itself.
const PUSH_REGISTRY_PORT: &str = "5044";

/// Builds the kube-dns image from the debug binary beside this test and pushes it
/// into the registry storage (`hack/registry.sh push-addons`), so the cluster's DNS
/// add-on runs the code under test.
fn push_addon_images() {
    let root = repository_root();
    let status = std::process::Command::new(root.join("hack/registry.sh"))
        .arg("push-addons")
        .env("BIN_DIR", bin_dir())
        .env("REGISTRY_PORT", PUSH_REGISTRY_PORT)
        .status()
        .expect("run hack/registry.sh push-addons");
    assert!(
        status.success(),
        "hack/registry.sh push-addons failed: {status}"
    );
}

struct Suite {
    cluster: Cluster,
}

impl Suite {
    fn kubectl(&self, args: &[&str]) -> Result<String, String> {
        self.cluster.kubectl(args)
    }

    fn kubectl_ok(&self, args: &[&str]) -> String {
        match self.kubectl(args) {
            Ok(output) => output,
            Err(error) => panic!("kubectl {} failed: {error}", args.join(" ")),
        }
    }

    fn apply(&self, manifest: &str) {
        let path = self.cluster.spec.dir.join("manifest.yaml");
        std::fs::write(&path, manifest).expect("write manifest");
        self.kubectl_ok(&["apply", "-f", &path.display().to_string()]);
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        serde_json::from_str(&self.kubectl_ok(&args)).expect("kubectl printed JSON")
    }

    /// Polls `check` every second until it returns `Some`, or panics with `what`
    /// and the last observation after `timeout`.
    fn wait<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut() -> Result<T, String>,
    ) -> T {
        let started = Instant::now();
        loop {
            match check() {
                Ok(value) => return value,
                Err(observed) if started.elapsed() > timeout => {
                    panic!(
                        "timed out after {timeout:?} waiting for {what}; last observed: {observed}"
                    )
                }
                Err(_) => sleep(Duration::from_secs(1)),
            }
        }
    }

    fn pods(&self, namespace: &str, selector: &str) -> Vec<Value> {
        let list = self.json(&["get", "pods", "-n", namespace, "-l", selector]);
        list["items"].as_array().cloned().unwrap_or_default()
    }

    fn wait_pods_ready(
        &self,
        namespace: &str,
        selector: &str,
        count: usize,
        timeout: Duration,
    ) -> Vec<Value> {
        self.wait(
            &format!("{count} ready pods with {selector}"),
            timeout,
            || {
                let pods = self.pods(namespace, selector);
                let ready: Vec<Value> = pods.iter().filter(|pod| is_ready(pod)).cloned().collect();
                if ready.len() == count && pods.len() == count {
                    Ok(ready)
                } else {
                    Err(format!(
                        "{} pods, {} ready: {}",
                        pods.len(),
                        ready.len(),
                        summarize(&pods)
                    ))
                }
            },
        )
    }

    /// Runs a busybox pod on `node` with `command`, waits for it to finish, and
    /// returns its log.
    fn run_on_node(&self, name: &str, node: &str, command: &str) -> String {
        let manifest = format!(
            "apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  nodeName: {node}
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: [\"sh\", \"-c\", {command:?}]
"
        );
        self.apply(&manifest);
        self.wait(
            &format!("pod {name} to finish"),
            Duration::from_secs(90),
            || {
                let pod = self.json(&["get", "pod", name]);
                match pod["status"]["phase"].as_str() {
                    Some("Succeeded") => Ok(()),
                    Some("Failed") => panic!(
                        "pod {name} failed; log: {:?}; status: {}",
                        self.kubectl(&["logs", name]),
                        pod["status"]
                    ),
                    other => Err(format!("phase {other:?}")),
                }
            },
        );
        let log = self.kubectl_ok(&["logs", name]);
        self.kubectl_ok(&["delete", "pod", name, "--wait=false"]);
        log
    }
}

fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|condition| condition["type"] == "Ready" && condition["status"] == "True")
        })
}

fn summarize(pods: &[Value]) -> String {
    pods.iter()
        .map(|pod| {
            format!(
                "{}={}@{}",
                pod["metadata"]["name"].as_str().unwrap_or("?"),
                pod["status"]["phase"].as_str().unwrap_or("?"),
                pod["spec"]["nodeName"].as_str().unwrap_or("-")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

const NGINX_DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
";

const NGINX_SERVICES: &str = "apiVersion: v1
kind: Service
metadata:
  name: my-service
spec:
  selector:
    app: nginx
  ports:
  - protocol: TCP
    port: 80
    targetPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: my-nodeport
spec:
  type: NodePort
  selector:
    app: nginx
  ports:
  - port: 80
    targetPort: 80
    nodePort: 30007
";

#[test]
fn cluster_end_to_end() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "skipping the end-to-end suite: it needs root for namespaces, cgroups and mounts"
        );
        return;
    }
    let registry = repository_root().join("_output/registry/storage");
    assert!(
        registry.is_dir(),
        "{} is missing: run hack/images/build.sh and hack/registry.sh start (make test does)",
        registry.display()
    );
    push_addon_images();
    let dir = tempfile_dir();
    let mut spec = ClusterSpec::new("e2e", &dir, &bin_dir(), 2);
    spec.cluster_dns = true;
    spec.bridge_octet = 241;
    spec.apiserver_port = 6444;
    spec.pod_octet = 245;
    spec.registry_storage = Some(registry);
    spec.apiserver_flags = vec![
        "--default-not-ready-toleration-seconds=10".to_string(),
        "--default-unreachable-toleration-seconds=10".to_string(),
    ];
    spec.controller_manager_flags = vec![
        "--node-monitor-grace-period=20s".to_string(),
        "--node-monitor-period=2s".to_string(),
    ];
    let cluster =
        Cluster::up(spec).unwrap_or_else(|error| panic!("the cluster did not start: {error}"));
    let mut suite = Suite { cluster };

    // E2E_FOCUS runs only the scenarios whose names contain it, like ginkgo's focus.
    let focus = std::env::var("E2E_FOCUS").unwrap_or_default();
    let mut failures = Vec::new();
    let mut run = |name: &str, scenario: &mut dyn FnMut()| {
        if !name.contains(&focus) {
            println!("--- {name}: skipped, not matching E2E_FOCUS={focus:?}");
            return;
        }
        let started = Instant::now();
        println!("--- {name}");
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(scenario));
        match result {
            Ok(()) => println!(
                "--- {name}: passed in {:.1}s",
                started.elapsed().as_secs_f64()
            ),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
                    .unwrap_or_default();
                println!(
                    "--- {name}: FAILED after {:.1}s: {message}",
                    started.elapsed().as_secs_f64()
                );
                failures.push(format!("{name}: {message}"));
            }
        }
    };

    run("nodes are ready", &mut || {
        assert_eq!(suite.cluster.ready_nodes(), 2)
    });
    run("cronjob is created", &mut || create_cronjob(&suite));
    run("deployment rollout, scale and undo", &mut || {
        deployment(&suite)
    });
    run("services reach pods across nodes", &mut || services(&suite));
    run("cluster DNS resolves services and pods", &mut || {
        cluster_dns(&suite)
    });
    run("configmap and secret in volumes and env", &mut || {
        configuration(&suite)
    });
    run("job runs to completion", &mut || job(&suite));
    run("daemonset covers every node", &mut || daemonset(&suite));
    run("statefulset starts in order", &mut || statefulset(&suite));
    run("liveness probe restarts a container", &mut || {
        liveness(&suite)
    });
    run("kubectl logs, exec, port-forward and cp", &mut || {
        streaming(&suite)
    });
    run("AppArmor pods on a host without AppArmor", &mut || {
        apparmor_admission(&suite)
    });
    run("kubectl debug adds ephemeral containers", &mut || {
        ephemeral_containers(&suite)
    });
    run("namespace deletion removes its contents", &mut || {
        namespace_deletion(&suite)
    });
    run("cascading deletes", &mut || cascading_deletes(&suite));
    run("cronjob fires", &mut || cronjob_fires(&suite));
    run("control plane restart keeps workloads", &mut || {
        control_plane_restart(&mut suite)
    });
    run("stopped kubelet: pods move to the other node", &mut || {
        node_failure(&mut suite)
    });

    drop(suite);
    assert!(
        failures.is_empty(),
        "failed scenarios (logs in {}):\n{}",
        dir.display(),
        failures.join("\n")
    );
    // The directory (certificates, data, logs) is kept only when a scenario failed.
    let _ = std::fs::remove_dir_all(&dir);
}

fn deployment(suite: &Suite) {
    suite.apply(NGINX_DEPLOYMENT);
    suite.kubectl_ok(&[
        "rollout",
        "status",
        "deployment/nginx-deployment",
        "--timeout=180s",
    ]);
    suite.wait_pods_ready("default", "app=nginx", 3, Duration::from_secs(60));

    suite.kubectl_ok(&["scale", "deployment/nginx-deployment", "--replicas=4"]);
    suite.wait_pods_ready("default", "app=nginx", 4, Duration::from_secs(120));

    suite.kubectl_ok(&[
        "set",
        "image",
        "deployment/nginx-deployment",
        "nginx=nginx:1.16.1",
    ]);
    suite.kubectl_ok(&[
        "rollout",
        "status",
        "deployment/nginx-deployment",
        "--timeout=180s",
    ]);
    let pods = suite.wait_pods_ready("default", "app=nginx", 4, Duration::from_secs(120));
    for pod in &pods {
        assert_eq!(
            pod["spec"]["containers"][0]["image"],
            "nginx:1.16.1",
            "{}",
            summarize(&pods)
        );
    }

    suite.kubectl_ok(&["rollout", "undo", "deployment/nginx-deployment"]);
    suite.kubectl_ok(&[
        "rollout",
        "status",
        "deployment/nginx-deployment",
        "--timeout=180s",
    ]);
    let pods = suite.wait_pods_ready("default", "app=nginx", 4, Duration::from_secs(120));
    for pod in &pods {
        assert_eq!(
            pod["spec"]["containers"][0]["image"],
            "nginx:1.14.2",
            "{}",
            summarize(&pods)
        );
    }
    let history = suite.kubectl_ok(&["rollout", "history", "deployment/nginx-deployment"]);
    assert!(history.contains('3'), "rollout history: {history}");
}

fn services(suite: &Suite) {
    suite.apply(NGINX_SERVICES);
    let service = suite.json(&["get", "service", "my-service"]);
    let cluster_ip = service["spec"]["clusterIP"]
        .as_str()
        .expect("clusterIP")
        .to_string();
    let node2 = suite.cluster.spec.node_name(2);
    let node1_address = suite.cluster.spec.node_address(1);

    let page = suite.run_on_node(
        "client-clusterip",
        &node2,
        &format!("timeout 10 wget -q -O - http://{cluster_ip}/"),
    );
    assert!(page.contains("nginx"), "page through the ClusterIP: {page}");

    let page = suite.run_on_node(
        "client-nodeport",
        &node2,
        &format!("timeout 10 wget -q -O - http://{node1_address}:30007/"),
    );
    assert!(page.contains("nginx"), "page through the NodePort: {page}");

    // The API server's proxy subresources reach the pods from the host namespace.
    let pods = suite.pods("default", "app=nginx");
    let pod = pods
        .iter()
        .find(|pod| is_ready(pod))
        .and_then(|pod| pod["metadata"]["name"].as_str())
        .expect("a ready nginx pod")
        .to_string();
    for path in [
        format!("/api/v1/namespaces/default/pods/{pod}/proxy/"),
        format!("/api/v1/namespaces/default/pods/http:{pod}:80/proxy/index.html"),
        "/api/v1/namespaces/default/services/my-service:80/proxy/".to_string(),
    ] {
        let page = suite.kubectl_ok(&["get", "--raw", &path]);
        assert!(page.contains("nginx"), "page through {path}: {page}");
    }
    let missing = suite
        .kubectl(&[
            "get",
            "--raw",
            "/api/v1/namespaces/default/services/my-service:81/proxy/",
        ])
        .expect_err("a port the service does not have");
    assert!(
        missing.contains("no service port 81 found for service"),
        "{missing}"
    );
}

const DNS_OBJECTS: &str = "apiVersion: v1
kind: Service
metadata:
  name: dns-web
spec:
  clusterIP: None
  selector:
    app: dns-web
  ports:
  - name: http
    port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: dns-svc
spec:
  selector:
    app: dns-web
  ports:
  - name: http
    port: 80
    protocol: TCP
---
apiVersion: v1
kind: Pod
metadata:
  name: dns-web-0
  labels:
    app: dns-web
spec:
  hostname: dns-web-0
  subdomain: dns-web
  containers:
  - name: web
    image: nginx
---
apiVersion: v1
kind: Pod
metadata:
  name: dns-client
spec:
  containers:
  - name: main
    image: busybox
    command: [\"sleep\", \"3600\"]
";

/// Runs `command` with sh in the client pod until its output (standard output and
/// error, then `exit=<status>`) contains every one of `expected`, and returns that
/// output. EndpointSlices reach the DNS server by watch, a moment after the pods
/// turn Ready, hence the retries.
fn in_dns_client(suite: &Suite, command: &str, expected: &[&str]) -> String {
    let script = format!("{command} 2>&1; echo exit=$?");
    suite.wait(
        &format!("`{command}` to print {expected:?}"),
        Duration::from_secs(30),
        || {
            let output = suite.kubectl(&["exec", "dns-client", "--", "sh", "-c", &script])?;
            if expected.iter().all(|text| output.contains(text)) {
                Ok(output)
            } else {
                Err(output)
            }
        },
    )
}

fn cluster_dns(suite: &Suite) {
    let dns = suite.json(&["get", "service", "kube-dns", "-n", "kube-system"]);
    assert_eq!(dns["spec"]["clusterIP"], "10.96.0.10");
    let dns_pods = suite.pods("kube-system", "k8s-app=kube-dns");
    assert!(dns_pods.iter().any(is_ready), "{}", summarize(&dns_pods));

    suite.apply(DNS_OBJECTS);
    suite.kubectl_ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/dns-web-0",
        "pod/dns-client",
        "--timeout=120s",
    ]);
    let kubernetes = suite.json(&["get", "service", "kubernetes"]);
    let kubernetes_ip = kubernetes["spec"]["clusterIP"]
        .as_str()
        .expect("clusterIP")
        .to_string();
    let service = suite.json(&["get", "service", "dns-svc"]);
    let service_ip = service["spec"]["clusterIP"]
        .as_str()
        .expect("clusterIP")
        .to_string();
    let pod = suite.json(&["get", "pod", "dns-web-0"]);
    let pod_ip = pod["status"]["podIP"].as_str().expect("podIP").to_string();

    let resolv_conf = suite.kubectl_ok(&["exec", "dns-client", "--", "cat", "/etc/resolv.conf"]);
    assert!(
        resolv_conf.contains("nameserver 10.96.0.10"),
        "{resolv_conf}"
    );

    // libc's resolver applies the search path (default.svc.cluster.local first) to
    // `kubernetes.default`; ping prints the address it resolved, and the ICMP echo
    // to a cluster IP is never answered. Busybox 1.35's nslookup applies no search
    // path to names with a dot, so it gets the full name.
    in_dns_client(
        suite,
        "ping -c 1 -W 1 kubernetes.default",
        &[&format!("PING kubernetes.default ({kubernetes_ip})")],
    );
    in_dns_client(
        suite,
        "nslookup kubernetes.default.svc.cluster.local",
        &[&format!("Address: {kubernetes_ip}"), "exit=0"],
    );
    // nslookup tries a name without a dot under every search domain and prints the
    // NXDOMAIN of the others, so only the answer matters here.
    in_dns_client(
        suite,
        "nslookup dns-svc",
        &[
            "Name:\tdns-svc.default.svc.cluster.local",
            &format!("Address: {service_ip}"),
        ],
    );
    in_dns_client(
        suite,
        "nslookup dns-web-0.dns-web.default.svc.cluster.local",
        &[&format!("Address: {pod_ip}"), "exit=0"],
    );
    in_dns_client(
        suite,
        "nslookup -type=srv _http._tcp.dns-svc.default.svc.cluster.local",
        &[
            "service = 0 100 80 dns-svc.default.svc.cluster.local",
            "exit=0",
        ],
    );
    in_dns_client(
        suite,
        "nslookup -type=srv _http._tcp.dns-web.default.svc.cluster.local",
        &["80 dns-web-0.dns-web.default.svc.cluster.local", "exit=0"],
    );
    in_dns_client(
        suite,
        &format!("nslookup {pod_ip}"),
        &[
            "name = dns-web-0.dns-web.default.svc.cluster.local",
            "exit=0",
        ],
    );
    in_dns_client(
        suite,
        "nslookup no-such-service.default.svc.cluster.local",
        &["NXDOMAIN", "exit=1"],
    );

    suite.kubectl_ok(&["delete", "pod", "dns-client", "dns-web-0", "--wait=false"]);
    suite.kubectl_ok(&["delete", "service", "dns-web", "dns-svc"]);
}

fn configuration(suite: &Suite) {
    suite.kubectl_ok(&[
        "create",
        "configmap",
        "game-config",
        "--from-literal=lives=3",
        "--from-literal=level=easy",
    ]);
    suite.kubectl_ok(&[
        "create",
        "secret",
        "generic",
        "db-user-pass",
        "--from-literal=username=admin",
        "--from-literal=password=s3cr3t",
    ]);
    suite.apply(
        "apiVersion: v1
kind: Pod
metadata:
  name: config-reader
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: [\"sh\", \"-c\", \"echo lives=$(cat /etc/config/lives) user=$(cat /etc/secret/username) env=$LEVEL/$PASSWORD\"]
    env:
    - name: LEVEL
      valueFrom:
        configMapKeyRef: {name: game-config, key: level}
    - name: PASSWORD
      valueFrom:
        secretKeyRef: {name: db-user-pass, key: password}
    volumeMounts:
    - {name: config, mountPath: /etc/config}
    - {name: secret, mountPath: /etc/secret, readOnly: true}
  volumes:
  - name: config
    configMap: {name: game-config}
  - name: secret
    secret: {secretName: db-user-pass}
",
    );
    wait_succeeded(suite, "config-reader");
    let log = suite.kubectl_ok(&["logs", "config-reader"]);
    assert_eq!(log.trim(), "lives=3 user=admin env=easy/s3cr3t");
}

fn wait_succeeded(suite: &Suite, name: &str) {
    suite.wait(
        &format!("pod {name} to succeed"),
        Duration::from_secs(90),
        || {
            let pod = suite.json(&["get", "pod", name]);
            match pod["status"]["phase"].as_str() {
                Some("Succeeded") => Ok(()),
                other => Err(format!("phase {other:?}: {}", pod["status"])),
            }
        },
    );
}

/// Checks that a kubelet on a host without AppArmor rejects at admission a pod that
/// requests the runtime's default AppArmor profile, as upstream's kubelet does.
fn apparmor_admission(suite: &Suite) {
    let host_enforces = std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|value| value.starts_with('Y'));
    if host_enforces {
        println!("skipping: this host has AppArmor enabled, so the pod would be admitted");
        return;
    }
    suite.apply(
        "apiVersion: v1
kind: Pod
metadata:
  name: apparmor-default
spec:
  restartPolicy: Never
  securityContext:
    appArmorProfile:
      type: RuntimeDefault
  containers:
  - name: main
    image: busybox
    command: [\"sleep\", \"3600\"]
",
    );
    let status = suite.wait(
        "pod apparmor-default to be rejected",
        Duration::from_secs(60),
        || {
            let pod = suite.json(&["get", "pod", "apparmor-default"]);
            match pod["status"]["phase"].as_str() {
                Some("Failed") => Ok(pod["status"].clone()),
                other => Err(format!("phase {other:?}: {}", pod["status"])),
            }
        },
    );
    assert_eq!(status["reason"], "AppArmor", "{status}");
    assert_eq!(
        status["message"],
        "Pod was rejected: Cannot enforce AppArmor: AppArmor is not enabled on the host",
        "{status}"
    );
    suite.kubectl_ok(&["delete", "pod", "apparmor-default", "--wait=false"]);
}

fn job(suite: &Suite) {
    suite.apply(
        "apiVersion: batch/v1
kind: Job
metadata:
  name: countdown
spec:
  completions: 2
  parallelism: 2
  backoffLimit: 4
  template:
    spec:
      containers:
      - name: counter
        image: busybox
        command: [\"sh\", \"-c\", \"for i in 3 2 1; do echo $i; done\"]
      restartPolicy: Never
",
    );
    suite.kubectl_ok(&[
        "wait",
        "--for=condition=complete",
        "job/countdown",
        "--timeout=120s",
    ]);
    let job = suite.json(&["get", "job", "countdown"]);
    assert_eq!(job["status"]["succeeded"], 2, "{}", job["status"]);
}

fn daemonset(suite: &Suite) {
    suite.apply(
        "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
spec:
  selector:
    matchLabels:
      name: node-agent
  template:
    metadata:
      labels:
        name: node-agent
    spec:
      containers:
      - name: agent
        image: busybox
        command: [\"sleep\", \"3600\"]
",
    );
    suite.kubectl_ok(&[
        "rollout",
        "status",
        "daemonset/node-agent",
        "--timeout=120s",
    ]);
    let pods = suite.wait_pods_ready("default", "name=node-agent", 2, Duration::from_secs(60));
    let mut nodes: Vec<String> = pods
        .iter()
        .map(|pod| pod["spec"]["nodeName"].as_str().unwrap_or("").to_string())
        .collect();
    nodes.sort();
    assert_eq!(
        nodes,
        vec![
            suite.cluster.spec.node_name(1),
            suite.cluster.spec.node_name(2)
        ]
    );
}

fn statefulset(suite: &Suite) {
    suite.apply(
        "apiVersion: v1
kind: Service
metadata:
  name: nginx
  labels:
    app: nginx-sts
spec:
  ports:
  - port: 80
    name: web
  clusterIP: None
  selector:
    app: nginx-sts
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: nginx-sts
  serviceName: nginx
  replicas: 2
  template:
    metadata:
      labels:
        app: nginx-sts
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
          name: web
",
    );
    suite.kubectl_ok(&["rollout", "status", "statefulset/web", "--timeout=180s"]);
    let web0 = suite.json(&["get", "pod", "web-0"]);
    let web1 = suite.json(&["get", "pod", "web-1"]);
    let ready_at = web0["status"]["conditions"]
        .as_array()
        .and_then(|conditions| {
            conditions
                .iter()
                .find(|condition| condition["type"] == "Ready")
        })
        .and_then(|condition| condition["lastTransitionTime"].as_str())
        .expect("web-0 has a Ready condition")
        .to_string();
    let created_at = web1["metadata"]["creationTimestamp"]
        .as_str()
        .expect("creationTimestamp")
        .to_string();
    // RFC 3339 timestamps in UTC with whole seconds compare as strings.
    assert!(
        ready_at <= created_at,
        "web-1 created at {created_at}, before web-0 was ready at {ready_at}"
    );
}

fn liveness(suite: &Suite) {
    suite.apply(
        "apiVersion: v1
kind: Pod
metadata:
  labels:
    test: liveness
  name: liveness-exec
spec:
  containers:
  - name: liveness
    image: busybox
    args:
    - /bin/sh
    - -c
    - touch /tmp/healthy; sleep 10; rm -f /tmp/healthy; sleep 600
    livenessProbe:
      exec:
        command:
        - cat
        - /tmp/healthy
      initialDelaySeconds: 5
      periodSeconds: 5
",
    );
    suite.wait("a liveness restart", Duration::from_secs(120), || {
        let pod = suite.json(&["get", "pod", "liveness-exec"]);
        let restarts = pod["status"]["containerStatuses"][0]["restartCount"]
            .as_i64()
            .unwrap_or(0);
        if restarts >= 1 {
            Ok(())
        } else {
            Err(format!("restartCount {restarts}"))
        }
    });
    let events = suite.kubectl_ok(&[
        "get",
        "events",
        "--field-selector=involvedObject.name=liveness-exec",
    ]);
    assert!(events.contains("Unhealthy"), "events: {events}");
}

fn streaming(suite: &Suite) {
    suite.apply(
        "apiVersion: v1
kind: Pod
metadata:
  name: shell
spec:
  containers:
  - name: main
    image: busybox
    command: [\"sh\", \"-c\", \"i=0; while true; do echo line $i; i=$((i+1)); sleep 1; done\"]
",
    );
    suite.kubectl_ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/shell",
        "--timeout=90s",
    ]);

    let output = std::process::Command::new("timeout")
        .args(["5", "kubectl"])
        .arg(format!(
            "--kubeconfig={}",
            suite.cluster.spec.admin_kubeconfig().display()
        ))
        .args(["logs", "-f", "shell"])
        .output()
        .expect("run kubectl logs -f");
    let streamed = String::from_utf8_lossy(&output.stdout);
    assert!(
        streamed.lines().count() >= 3,
        "kubectl logs -f printed: {streamed}"
    );

    let echoed = suite.kubectl_ok(&["exec", "shell", "--", "echo", "hello from exec"]);
    assert_eq!(echoed.trim(), "hello from exec");

    let local = suite.cluster.spec.dir.join("copied.txt");
    std::fs::write(&local, "copied into the pod\n").expect("write local file");
    suite.kubectl_ok(&["cp", &local.display().to_string(), "shell:/tmp/copied.txt"]);
    let inside = suite.kubectl_ok(&["exec", "shell", "--", "cat", "/tmp/copied.txt"]);
    assert_eq!(inside, "copied into the pod\n");

    let back = suite.cluster.spec.dir.join("copied-back.txt");
    suite.kubectl_ok(&["cp", "shell:/tmp/copied.txt", &back.display().to_string()]);
    let copied_back = std::fs::read_to_string(&back).expect("read the file copied out");
    assert_eq!(copied_back, "copied into the pod\n");

    streaming_over_spdy(suite);
    port_forward(suite);
}

/// Runs kubectl with exec, attach and cp over SPDY/3.1 instead of WebSocket, as
/// kubectl 1.29 and older always do, feeding `stdin` to it.
fn kubectl_spdy(suite: &Suite, args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;

    let mut child = std::process::Command::new("kubectl")
        .arg(format!(
            "--kubeconfig={}",
            suite.cluster.spec.admin_kubeconfig().display()
        ))
        .args(args)
        .env("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", "false")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kubectl");
    let mut pipe = child.stdin.take().expect("kubectl stdin");
    let input = stdin.to_vec();
    // Writing from another thread avoids a deadlock with the output pipes.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let output = child.wait_with_output().expect("wait for kubectl");
    let _ = writer.join();
    output
}

/// exec with an exit code, exec with stdin and cp in both directions over SPDY,
/// through the API server and the kubelet to the runtime's streaming server.
fn streaming_over_spdy(suite: &Suite) {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();

    let failed = kubectl_spdy(
        suite,
        &[
            "exec",
            "shell",
            "--",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 7",
        ],
        b"",
    );
    assert_eq!(failed.status.code(), Some(7), "{}", text(&failed.stderr));
    assert_eq!(text(&failed.stdout), "out\n");
    assert!(
        text(&failed.stderr).contains("err\n"),
        "{}",
        text(&failed.stderr)
    );

    let piped = kubectl_spdy(
        suite,
        &[
            "exec",
            "-i",
            "shell",
            "--",
            "sh",
            "-c",
            "tr a-z A-Z; echo end",
        ],
        b"over spdy\n",
    );
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    assert_eq!(text(&piped.stdout), "OVER SPDY\nend\n");

    // A file larger than one SPDY frame (64 KiB) goes into the pod and back.
    let content: String = (0..20_000).map(|line| format!("line {line}\n")).collect();
    let local = suite.cluster.spec.dir.join("spdy-in.txt");
    std::fs::write(&local, &content).expect("write local file");
    let copied_in = kubectl_spdy(
        suite,
        &["cp", &local.display().to_string(), "shell:/tmp/spdy.txt"],
        b"",
    );
    assert!(copied_in.status.success(), "{}", text(&copied_in.stderr));
    let back = suite.cluster.spec.dir.join("spdy-out.txt");
    let copied_out = kubectl_spdy(
        suite,
        &["cp", "shell:/tmp/spdy.txt", &back.display().to_string()],
        b"",
    );
    assert!(copied_out.status.success(), "{}", text(&copied_out.stderr));
    let round_trip = std::fs::read_to_string(&back).expect("read the file copied out");
    assert!(
        round_trip == content,
        "the file changed on its way through the pod"
    );
}

/// Waits until the ephemeral container `name` of pod `pod` has terminated and
/// returns its status.
fn wait_ephemeral_terminated(suite: &Suite, pod: &str, name: &str) -> Value {
    suite.wait(
        &format!("ephemeral container {name} terminated"),
        Duration::from_secs(90),
        || {
            let pod = suite.json(&["get", "pod", pod]);
            let status = pod["status"]["ephemeralContainerStatuses"]
                .as_array()
                .and_then(|statuses| statuses.iter().find(|s| s["name"] == name))
                .cloned();
            match status {
                Some(status) if status["state"]["terminated"].is_object() => Ok(status),
                other => Err(format!("{other:?}")),
            }
        },
    )
}

fn ephemeral_containers(suite: &Suite) {
    suite.apply(
        "apiVersion: v1
kind: Pod
metadata:
  name: debug-target
spec:
  containers:
  - name: main
    image: busybox
    command: [\"sleep\", \"3600\"]
",
    );
    suite.kubectl_ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/debug-target",
        "--timeout=90s",
    ]);

    suite.kubectl_ok(&[
        "debug",
        "debug-target",
        "--image=busybox",
        "--container=echoer",
        "--",
        "sh",
        "-c",
        "echo ephemeral-ok",
    ]);
    let status = wait_ephemeral_terminated(suite, "debug-target", "echoer");
    assert_eq!(status["state"]["terminated"]["exitCode"], 0, "{status}");
    assert_eq!(status["restartCount"], 0, "{status}");
    let logs = suite.kubectl_ok(&["logs", "debug-target", "-c", "echoer"]);
    assert_eq!(logs, "ephemeral-ok\n");

    // With --target the debug container runs in the PID namespace of the target, so
    // ps lists the target container's processes.
    suite.kubectl_ok(&[
        "debug",
        "debug-target",
        "--image=busybox",
        "--container=lister",
        "--target=main",
        "--",
        "ps",
        "-o",
        "args",
    ]);
    wait_ephemeral_terminated(suite, "debug-target", "lister");
    let processes = suite.kubectl_ok(&["logs", "debug-target", "-c", "lister"]);
    assert!(processes.contains("sleep 3600"), "ps printed: {processes}");

    // `kubectl debug -i` attaches to the new container's stdin and output.
    let mut attach = std::process::Command::new("kubectl")
        .arg(format!(
            "--kubeconfig={}",
            suite.cluster.spec.admin_kubeconfig().display()
        ))
        .args([
            "debug",
            "-i",
            "debug-target",
            "--image=busybox",
            "--container=reader",
            "--",
            "sh",
            "-c",
            "read line; echo got-$line",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run kubectl debug -i");
    {
        use std::io::Write;
        let mut stdin = attach.stdin.take().expect("stdin");
        stdin
            .write_all(b"hello\n")
            .expect("write to kubectl debug -i");
    }
    let output = attach
        .wait_with_output()
        .expect("wait for kubectl debug -i");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains("got-hello"),
        "kubectl debug -i printed {printed:?}, stderr {:?}",
        String::from_utf8_lossy(&output.stderr)
    );

    suite.kubectl_ok(&["delete", "pod", "debug-target", "--grace-period=1"]);
}

/// A `kubectl port-forward` process, interrupted by PID when dropped so a failed
/// assertion leaves no process behind.
struct PortForward {
    child: std::process::Child,
    stderr: std::sync::mpsc::Receiver<String>,
}

impl PortForward {
    /// Starts `kubectl port-forward <target> <local>:<remote>` and waits until it
    /// prints that it listens on 127.0.0.1. Without `websockets`, kubectl skips the
    /// WebSocket tunnel and sends a plain SPDY upgrade, as kubectl 1.30 and older do.
    fn start(
        suite: &Suite,
        target: &str,
        local: u16,
        remote: u16,
        websockets: bool,
    ) -> PortForward {
        use std::io::BufRead;
        use std::process::Stdio;

        let mut child = std::process::Command::new("kubectl")
            .arg(format!(
                "--kubeconfig={}",
                suite.cluster.spec.admin_kubeconfig().display()
            ))
            .args(["port-forward", target, &format!("{local}:{remote}")])
            .env(
                "KUBECTL_PORT_FORWARD_WEBSOCKETS",
                if websockets { "true" } else { "false" },
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kubectl port-forward");
        let (lines, stdout) = std::sync::mpsc::channel();
        let reader = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        // The thread drains stdout to its end: once the pipe closed, kubectl's next
        // "Handling connection" line would kill it with SIGPIPE.
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let (text, stderr) = std::sync::mpsc::channel();
        let mut error_reader = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            let mut output = String::new();
            let _ = std::io::Read::read_to_string(&mut error_reader, &mut output);
            let _ = text.send(output);
        });
        let forward = PortForward { child, stderr };

        let expected = format!("Forwarding from 127.0.0.1:{local} -> {remote}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match stdout.recv_timeout(remaining) {
                Ok(line) if line.contains(&expected) => return forward,
                Ok(_) => {}
                Err(_) => panic!("kubectl port-forward did not print {expected:?} within 30 s"),
            }
        }
    }

    /// Interrupts kubectl as Ctrl-C would and returns its exit status and stderr.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        self.interrupt();
        let status = self.child.wait().expect("wait for kubectl port-forward");
        let stderr = self
            .stderr
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_default();
        (status, stderr)
    }

    fn interrupt(&self) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) with a PID this test started and has not yet reaped.
        unsafe { libc::kill(pid, libc::SIGINT) };
    }
}

impl Drop for PortForward {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
fn free_local_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

fn curl(url: &str, output: Option<&std::path::Path>) -> Result<String, String> {
    let mut command = std::process::Command::new("curl");
    command.args(["-sS", "--max-time", "20"]);
    if let Some(path) = output {
        command.arg("-o").arg(path);
    }
    let result = command.arg(url).output().expect("run curl");
    if result.status.success() {
        Ok(String::from_utf8_lossy(&result.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&result.stderr).into_owned())
    }
}

/// kubectl 1.31 and later tunnel SPDY through a WebSocket to the API server, which
/// sends a SPDY upgrade through the kubelet to the runtime's streaming server.
fn port_forward(suite: &Suite) {
    suite.apply(
        "apiVersion: v1
kind: Pod
metadata:
  name: forwarded
spec:
  containers:
  - name: web
    image: nginx
    ports:
    - containerPort: 80
",
    );
    suite.kubectl_ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/forwarded",
        "--timeout=90s",
    ]);
    // One MiB, well past SPDY's 64 KiB initial flow control window.
    suite.kubectl_ok(&[
        "exec",
        "forwarded",
        "--",
        "sh",
        "-c",
        "head -c 1048576 /dev/urandom > /usr/share/nginx/html/large.bin",
    ]);
    let inside = suite.kubectl_ok(&[
        "exec",
        "forwarded",
        "--",
        "sha256sum",
        "/usr/share/nginx/html/large.bin",
    ]);
    let expected_digest = inside
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string();

    let local = free_local_port();
    let forward = PortForward::start(suite, "pod/forwarded", local, 80, true);
    for request in 0..3 {
        let page = curl(&format!("http://127.0.0.1:{local}/"), None)
            .unwrap_or_else(|error| panic!("request {request} through port-forward: {error}"));
        assert!(
            page.contains("Welcome to nginx!"),
            "request {request}: {page}"
        );
    }
    let download = suite.cluster.spec.dir.join("large.bin");
    curl(
        &format!("http://127.0.0.1:{local}/large.bin"),
        Some(&download),
    )
    .unwrap_or_else(|error| panic!("download through port-forward: {error}"));
    let digest = std::process::Command::new("sha256sum")
        .arg(&download)
        .output()
        .expect("run sha256sum");
    let digest = String::from_utf8_lossy(&digest.stdout);
    assert_eq!(
        digest.split_whitespace().next(),
        Some(expected_digest.as_str()),
        "the file downloaded through port-forward differs"
    );

    let (status, stderr) = forward.stop();
    assert!(
        status.success(),
        "kubectl port-forward exited with {status}: {stderr}"
    );
    assert!(
        !stderr.contains("error") && !stderr.contains("lost connection"),
        "kubectl port-forward reported: {stderr}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", local)).is_err(),
        "port {local} still accepts connections after kubectl stopped"
    );

    let local = free_local_port();
    let forward = PortForward::start(suite, "pod/forwarded", local, 80, false);
    let page = curl(&format!("http://127.0.0.1:{local}/"), None)
        .unwrap_or_else(|error| panic!("request through SPDY port-forward: {error}"));
    assert!(page.contains("Welcome to nginx!"), "{page}");
    let (status, stderr) = forward.stop();
    assert!(
        status.success(),
        "kubectl port-forward exited with {status}: {stderr}"
    );
}

fn namespace_deletion(suite: &Suite) {
    suite.kubectl_ok(&["create", "namespace", "doomed"]);
    suite.kubectl_ok(&[
        "create",
        "configmap",
        "settings",
        "-n",
        "doomed",
        "--from-literal=a=b",
    ]);
    suite.kubectl_ok(&[
        "create",
        "deployment",
        "sleeper",
        "-n",
        "doomed",
        "--image=busybox",
        "--",
        "sleep",
        "3600",
    ]);
    suite.wait_pods_ready("doomed", "app=sleeper", 1, Duration::from_secs(90));
    suite.kubectl_ok(&["delete", "namespace", "doomed", "--wait=false"]);
    suite.wait(
        "namespace doomed to disappear",
        Duration::from_secs(120),
        || match suite.kubectl(&["get", "namespace", "doomed"]) {
            Err(error) if error.contains("NotFound") => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    let left = suite.kubectl_ok(&[
        "get",
        "configmaps,deployments,pods",
        "-n",
        "doomed",
        "-o",
        "name",
    ]);
    assert_eq!(left.trim(), "", "objects left in the deleted namespace");
}

fn cascading_deletes(suite: &Suite) {
    suite.kubectl_ok(&[
        "create",
        "deployment",
        "orphaned",
        "--image=busybox",
        "--",
        "sleep",
        "3600",
    ]);
    suite.wait_pods_ready("default", "app=orphaned", 1, Duration::from_secs(90));
    suite.kubectl_ok(&["delete", "deployment", "orphaned", "--cascade=orphan"]);
    let replicasets = suite.kubectl_ok(&["get", "replicasets", "-l", "app=orphaned", "-o", "name"]);
    assert_eq!(
        replicasets.lines().count(),
        1,
        "the ReplicaSet survives an orphaning delete"
    );
    suite.kubectl_ok(&[
        "delete",
        "replicasets",
        "-l",
        "app=orphaned",
        "--cascade=foreground",
    ]);
    suite.wait(
        "pods of the deleted ReplicaSet to go",
        Duration::from_secs(90),
        || {
            let pods = suite.pods("default", "app=orphaned");
            if pods.is_empty() {
                Ok(())
            } else {
                Err(summarize(&pods))
            }
        },
    );

    suite.kubectl_ok(&[
        "create",
        "deployment",
        "cascaded",
        "--image=busybox",
        "--",
        "sleep",
        "3600",
    ]);
    suite.wait_pods_ready("default", "app=cascaded", 1, Duration::from_secs(90));
    suite.kubectl_ok(&["delete", "deployment", "cascaded", "--cascade=background"]);
    suite.wait(
        "ReplicaSets and pods of the deleted Deployment to go",
        Duration::from_secs(90),
        || {
            let replicasets =
                suite.kubectl_ok(&["get", "replicasets", "-l", "app=cascaded", "-o", "name"]);
            let pods = suite.pods("default", "app=cascaded");
            if replicasets.trim().is_empty() && pods.is_empty() {
                Ok(())
            } else {
                Err(format!("{replicasets} {}", summarize(&pods)))
            }
        },
    );
}

fn create_cronjob(suite: &Suite) {
    suite.apply(
        "apiVersion: batch/v1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: \"* * * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox
            imagePullPolicy: IfNotPresent
            command:
            - /bin/sh
            - -c
            - date; echo Hello from the Kubernetes cluster
          restartPolicy: OnFailure
",
    );
}

fn cronjob_fires(suite: &Suite) {
    suite.wait(
        "a job of the cronjob to complete",
        Duration::from_secs(150),
        || {
            let jobs = suite.json(&["get", "jobs"]);
            let completed = jobs["items"].as_array().into_iter().flatten().any(|job| {
                job["metadata"]["name"]
                    .as_str()
                    .is_some_and(|name| name.starts_with("hello-"))
                    && job["status"]["succeeded"].as_i64() == Some(1)
            });
            if completed {
                Ok(())
            } else {
                Err("no completed hello-* job yet".to_string())
            }
        },
    );
    let cronjob = suite.json(&["get", "cronjob", "hello"]);
    assert!(
        cronjob["status"]["lastScheduleTime"].is_string(),
        "{}",
        cronjob["status"]
    );
}

fn control_plane_restart(suite: &mut Suite) {
    let before = suite.pods("default", "app=nginx");
    let uids: Vec<String> = before
        .iter()
        .map(|pod| pod["metadata"]["uid"].as_str().unwrap_or("").to_string())
        .collect();
    for daemon in [
        "kube-scheduler",
        "kube-controller-manager",
        "kube-apiserver",
    ] {
        suite.cluster.stop_daemon(daemon);
    }
    for daemon in [
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
    ] {
        suite
            .cluster
            .restart_daemon(daemon)
            .expect("restart the control plane");
    }
    suite.wait(
        "the API server after its restart",
        Duration::from_secs(60),
        || suite.kubectl(&["get", "--raw", "/readyz"]).map(drop),
    );
    let after = suite.wait_pods_ready(
        "default",
        "app=nginx",
        before.len(),
        Duration::from_secs(60),
    );
    let mut after_uids: Vec<String> = after
        .iter()
        .map(|pod| pod["metadata"]["uid"].as_str().unwrap_or("").to_string())
        .collect();
    let mut uids = uids;
    uids.sort();
    after_uids.sort();
    assert_eq!(uids, after_uids, "pods were replaced across the restart");
    for pod in &after {
        assert_eq!(
            pod["status"]["containerStatuses"][0]["restartCount"], 0,
            "{}",
            pod["metadata"]["name"]
        );
    }
    suite.kubectl_ok(&["get", "deployment", "nginx-deployment"]);
    suite.kubectl_ok(&["get", "service", "my-service"]);
}

fn node_failure(suite: &mut Suite) {
    let node2 = suite.cluster.spec.node_name(2);
    let node1 = suite.cluster.spec.node_name(1);
    suite.cluster.stop_daemon(&format!("kubelet-{node2}"));
    suite.wait("node 2 to go NotReady", Duration::from_secs(90), || {
        let node = suite.json(&["get", "node", &node2]);
        let ready = node["status"]["conditions"]
            .as_array()
            .and_then(|conditions| {
                conditions
                    .iter()
                    .find(|condition| condition["type"] == "Ready")
            })
            .map(|condition| condition["status"].as_str().unwrap_or("").to_string())
            .unwrap_or_default();
        if ready != "True" {
            Ok(())
        } else {
            Err(format!("Ready={ready}"))
        }
    });
    suite.wait(
        "every nginx replica to run on node 1",
        Duration::from_secs(180),
        || {
            let pods = suite.pods("default", "app=nginx");
            let live: Vec<&Value> = pods
                .iter()
                .filter(|pod| pod["metadata"]["deletionTimestamp"].is_null())
                .collect();
            let on_node1 = live
                .iter()
                .filter(|pod| pod["spec"]["nodeName"] == node1.as_str() && is_ready(pod))
                .count();
            if live.len() == 4 && on_node1 == 4 {
                Ok(())
            } else {
                Err(summarize(&pods))
            }
        },
    );
    suite
        .cluster
        .restart_daemon(&format!("kubelet-{node2}"))
        .expect("restart the kubelet");
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("e2e-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the cluster directory");
    dir
}
