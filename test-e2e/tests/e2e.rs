//! The end-to-end suite: one two-node cluster per run, started by the same launcher
//! as `make run`, driven with real kubectl the way users drive a cluster.
//!
//! The scenarios run in order against the one cluster, each printing its duration.
//! Manifests follow the Kubernetes documentation's examples; images are the local
//! stand-ins that hack/images/build.sh builds and the cluster's registry serves.
//! The suite needs root (network namespaces, cgroups, mounts) and the debug binaries
//! of the workspace; without root it is skipped with a message.

use std::path::PathBuf;
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;
use test_e2e::cluster::{Cluster, ClusterSpec};

/// The workspace's binaries: this test runs from `<target>/debug/deps/`.
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
                    Some("Failed") => Err(format!("pod failed: {}", pod["status"])),
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

fn scenario(name: &str, run: impl FnOnce()) {
    let started = Instant::now();
    println!("--- {name}");
    run();
    println!(
        "--- {name}: passed in {:.1}s",
        started.elapsed().as_secs_f64()
    );
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
    let dir = tempfile_dir();
    let mut spec = ClusterSpec::new("e2e", &dir, &bin_dir(), 2);
    spec.bridge_octet = 241;
    spec.apiserver_port = 6444;
    spec.pod_octet = 245;
    spec.registry_storage = Some(repository_root().join("_output/registry/storage"));
    spec.controller_manager_flags = vec![
        "--node-monitor-grace-period=20s".to_string(),
        "--node-monitor-period=2s".to_string(),
    ];
    let cluster =
        Cluster::up(spec).unwrap_or_else(|error| panic!("the cluster did not start: {error}"));
    let suite = Suite { cluster };

    scenario("nodes are ready", || {
        assert_eq!(suite.cluster.ready_nodes(), 2);
    });
    scenario("deployment rollout, scale and undo", || deployment(&suite));
    scenario("services reach pods across nodes", || services(&suite));
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
        &format!("wget -q -T 5 -O - http://{cluster_ip}/"),
    );
    assert!(page.contains("nginx"), "page through the ClusterIP: {page}");

    let page = suite.run_on_node(
        "client-nodeport",
        &node2,
        &format!("wget -q -T 5 -O - http://{node1_address}:30007/"),
    );
    assert!(page.contains("nginx"), "page through the NodePort: {page}");
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("e2e-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the cluster directory");
    dir
}
