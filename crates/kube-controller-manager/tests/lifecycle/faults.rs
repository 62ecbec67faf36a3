//! Faults of the controller manager itself. The crate's binary runs as a child
//! process against the in-process API server, and the tests kill it with SIGKILL.
//! One kills it in the middle of a Deployment rollout. The other kills the leader
//! of two instances that share the kube-system/kube-controller-manager Lease.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client::rest::RestClient;
use serde_json::{Value, json};

use crate::common::*;

const PODS: &str = "/api/v1/namespaces/default/pods";
const REPLICA_SETS: &str = "/apis/apps/v1/namespaces/default/replicasets";
const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";
const LEASE: &str =
    "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager";

/// The kube-controller-manager binary of this crate as a child process, with its
/// log in a file. Dropping it kills the process.
struct ControllerManagerProcess {
    child: Child,
    log_file: PathBuf,
}

impl ControllerManagerProcess {
    /// Starts the binary with `--kubeconfig=kubeconfig`, HTTPS off and `flags`.
    fn start(kubeconfig: &Path, log_file: PathBuf, flags: &[&str]) -> ControllerManagerProcess {
        let log = std::fs::File::create(&log_file).expect("create the controller manager log");
        let child = Command::new(env!("CARGO_BIN_EXE_kube-controller-manager"))
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .arg("--bind-address=127.0.0.1")
            .arg("--secure-port=0")
            .args(flags)
            // The leader election tests read the identity from the info-level log.
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the kube-controller-manager binary");
        ControllerManagerProcess { child, log_file }
    }

    /// Sends SIGKILL and waits for the process to exit, so that it sends nothing
    /// afterwards.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// Returns the leader election identity the process logged, once it did.
    fn identity(&self) -> Option<String> {
        let log = self.log();
        let start = log.find("identity=")? + "identity=".len();
        let identity: String = log[start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        (!identity.is_empty()).then_some(identity)
    }

    /// Returns whether the process has started its controllers, which only a
    /// leader does.
    fn started_controllers(&self) -> bool {
        self.log().contains("started controllers")
    }
}

impl Drop for ControllerManagerProcess {
    fn drop(&mut self) {
        self.kill();
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

fn is_deleting(object: &Value) -> bool {
    !object["metadata"]["deletionTimestamp"].is_null()
}

fn controller_name(object: &Value) -> Option<String> {
    object["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|reference| reference["controller"] == true)
        .and_then(|reference| reference["name"].as_str())
        .map(str::to_string)
}

fn items(list: &Value) -> Vec<Value> {
    list["items"].as_array().cloned().unwrap_or_default()
}

async fn list(client: &RestClient, path: &str, selector: &str) -> Vec<Value> {
    let list: Value = client
        .get(path)
        .query("labelSelector", selector)
        .request_json()
        .await
        .unwrap_or_else(|error| panic!("list {path}: {error}"));
    items(&list)
}

/// Plays the kubelet for pods matching `selector` while `enabled` is true: marks
/// one pod Running and Ready every `interval`, so that a rollout advances slowly
/// enough to be interrupted.
async fn mark_ready(
    client: RestClient,
    selector: &'static str,
    interval: Duration,
    enabled: Arc<AtomicBool>,
) {
    let mut next_ip = 1u32;
    loop {
        tokio::time::sleep(interval).await;
        if !enabled.load(Ordering::SeqCst) {
            continue;
        }
        let Ok(list) = client
            .get(PODS)
            .query("labelSelector", selector)
            .request_json::<Value>()
            .await
        else {
            continue;
        };
        let pending = items(&list)
            .into_iter()
            .find(|pod| !is_ready(pod) && !is_deleting(pod));
        if let Some(pod) = pending {
            let name = pod["metadata"]["name"].as_str().unwrap_or_default();
            let ip = format!("10.0.{}.{}", next_ip / 250, next_ip % 250 + 1);
            next_ip += 1;
            let path = format!("{PODS}/{name}/status");
            let patch = json!({"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                "conditions": [{"type": "Ready", "status": "True",
                    "lastTransitionTime": "2024-01-01T00:00:00Z"}]}});
            // A pod deleted since the list returns 404; the next round moves on.
            let _ = client
                .patch(&path, client::rest::PatchType::Merge)
                .json(&patch)
                .request_json::<Value>()
                .await;
        }
    }
}

/// What a watch on a Deployment's pods and ReplicaSets saw over a whole test.
#[derive(Default)]
struct RolloutObservation {
    /// Live pods (not being deleted) by uid, with the name of the owning
    /// ReplicaSet.
    live_pods: HashMap<String, String>,
    /// The maximum of live pods at one time, over all ReplicaSets.
    max_total_pods: usize,
    /// The maximum of live pods at one time, by ReplicaSet.
    max_pods: HashMap<String, usize>,
    /// The current `spec.replicas` by ReplicaSet.
    replicas: HashMap<String, i64>,
    /// The largest `spec.replicas` each ReplicaSet ever had.
    max_replicas: HashMap<String, i64>,
    /// The largest sum of `spec.replicas` over the ReplicaSets.
    max_total_replicas: i64,
    /// Uids of every pod ever seen.
    created: std::collections::HashSet<String>,
    failure: Option<String>,
}

impl RolloutObservation {
    fn pod_event(&mut self, event_type: &str, pod: &Value) {
        let uid = pod["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.created.insert(uid.clone());
        if event_type == "DELETED" || is_deleting(pod) {
            self.live_pods.remove(&uid);
            return;
        }
        let owner = controller_name(pod).unwrap_or_default();
        self.live_pods.insert(uid, owner);
        self.max_total_pods = self.max_total_pods.max(self.live_pods.len());
        let mut by_owner: HashMap<&str, usize> = HashMap::new();
        for owner in self.live_pods.values() {
            *by_owner.entry(owner.as_str()).or_default() += 1;
        }
        for (owner, count) in by_owner {
            let max = self.max_pods.entry(owner.to_string()).or_default();
            *max = (*max).max(count);
        }
    }

    fn replica_set_event(&mut self, event_type: &str, rs: &Value) {
        let name = rs["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if event_type == "DELETED" {
            self.replicas.remove(&name);
            return;
        }
        let replicas = rs["spec"]["replicas"].as_i64().unwrap_or(1);
        self.replicas.insert(name.clone(), replicas);
        let max = self.max_replicas.entry(name).or_default();
        *max = (*max).max(replicas);
        self.max_total_replicas = self.max_total_replicas.max(self.replicas.values().sum());
    }
}

/// Watches `path` for objects matching `selector` from now on and hands every
/// event to `observe`. A watch the server ends is resumed from the last
/// resourceVersion.
async fn watch_into(
    client: RestClient,
    path: &'static str,
    selector: &'static str,
    observation: Arc<Mutex<RolloutObservation>>,
    observe: fn(&mut RolloutObservation, &str, &Value),
) {
    let list: Value = match client
        .get(path)
        .query("labelSelector", selector)
        .request_json()
        .await
    {
        Ok(list) => list,
        Err(error) => {
            observation.lock().unwrap().failure = Some(format!("list {path}: {error}"));
            return;
        }
    };
    for object in items(&list) {
        observe(&mut observation.lock().unwrap(), "ADDED", &object);
    }
    let mut resource_version = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    loop {
        let mut stream = match client
            .get(path)
            .query("labelSelector", selector)
            .query("resourceVersion", &resource_version)
            .query("allowWatchBookmarks", "true")
            .watch()
            .await
        {
            Ok(stream) => stream,
            Err(error) => {
                observation.lock().unwrap().failure = Some(format!("watch {path}: {error}"));
                return;
            }
        };
        while let Some(event) = stream.next().await {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    observation.lock().unwrap().failure =
                        Some(format!("watch {path} failed: {error}"));
                    return;
                }
            };
            if let Some(version) = event.object["metadata"]["resourceVersion"].as_str() {
                resource_version = version.to_string();
            }
            match event.event_type.as_str() {
                "ADDED" | "MODIFIED" | "DELETED" => {
                    observe(
                        &mut observation.lock().unwrap(),
                        &event.event_type,
                        &event.object,
                    );
                }
                "ERROR" => {
                    observation.lock().unwrap().failure =
                        Some(format!("watch {path} returned {}", event.object));
                    return;
                }
                _ => {}
            }
        }
    }
}

fn image_of(object: &Value) -> &str {
    object["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or_default()
}

/// A Deployment of 10 replicas is rolled to a new image. When the new ReplicaSet
/// has 4 pods, the controller manager is killed with SIGKILL; the stand-in kubelet
/// keeps marking pods Ready while it is down, then a new process finishes the
/// rollout. A watch over the whole test shows that no ReplicaSet ever had more
/// pods than its largest `spec.replicas`, and that there were never more than
/// replicas + maxSurge pods.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rollout_survives_controller_manager_kill() {
    const REPLICAS: usize = 10;
    const MAX_SURGE: usize = 2;
    let server = TestServer::start().await;
    let client = server.client().await;
    let dir = tempfile::tempdir().expect("create temp dir");
    let kubeconfig = server.write_kubeconfig(dir.path());
    let flags = [
        "--leader-elect=false",
        "--controllers=deployment,replicaset",
    ];

    let observation = Arc::new(Mutex::new(RolloutObservation::default()));
    let pod_watch = tokio::spawn(watch_into(
        client.clone(),
        PODS,
        "app=roll",
        observation.clone(),
        RolloutObservation::pod_event,
    ));
    let rs_watch = tokio::spawn(watch_into(
        client.clone(),
        REPLICA_SETS,
        "app=roll",
        observation.clone(),
        RolloutObservation::replica_set_event,
    ));
    let kubelet_enabled = Arc::new(AtomicBool::new(true));
    let kubelet = tokio::spawn(mark_ready(
        client.clone(),
        "app=roll",
        Duration::from_millis(150),
        kubelet_enabled.clone(),
    ));

    let mut first =
        ControllerManagerProcess::start(&kubeconfig, dir.path().join("first.log"), &flags);
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "roll", "labels": {"app": "roll"}},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": {"app": "roll"}},
            "strategy": {"type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": MAX_SURGE, "maxUnavailable": 1}},
            "template": {"metadata": {"labels": {"app": "roll"}},
                "spec": {"containers": [{"name": "c", "image": "image:v1"}]}}
        }
    });
    create(&client, DEPLOYMENTS, &deployment).await;
    wait_complete(&client, "image:v1", REPLICAS).await;

    client
        .patch(
            &format!("{DEPLOYMENTS}/roll"),
            client::rest::PatchType::StrategicMerge,
        )
        .json(&json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "image:v2"}]}}}}))
        .request_json::<Value>()
        .await
        .expect("update the template");
    let new_rs = eventually(
        "the new ReplicaSet with 4 pods",
        Duration::from_secs(60),
        || async {
            let rss = list(&client, REPLICA_SETS, "app=roll").await;
            let new_rs = rss.iter().find(|rs| image_of(rs) == "image:v2")?;
            let name = new_rs["metadata"]["name"].as_str()?.to_string();
            let observed = observation.lock().unwrap();
            let pods = observed
                .live_pods
                .values()
                .filter(|owner| **owner == name)
                .count();
            (pods >= 4).then_some(name)
        },
    )
    .await;
    first.kill();
    let pods_at_kill = list(&client, PODS, "app=roll").await;
    assert!(
        pods_at_kill
            .iter()
            .any(|pod| controller_name(pod).as_deref() != Some(new_rs.as_str())),
        "the rollout finished before the kill, so the test interrupted nothing"
    );

    // The kubelet stand-in goes on while no controller manager runs, so the restarted
    // one starts from a state that moved since the kill.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let second =
        ControllerManagerProcess::start(&kubeconfig, dir.path().join("second.log"), &flags);
    wait_complete(&client, "image:v2", REPLICAS).await;

    // The state holds: no late creations after the rollout completed.
    tokio::time::sleep(Duration::from_secs(2)).await;
    kubelet_enabled.store(false, Ordering::SeqCst);
    let pods: Vec<Value> = list(&client, PODS, "app=roll")
        .await
        .into_iter()
        .filter(|pod| !is_deleting(pod))
        .collect();
    assert_eq!(pods.len(), REPLICAS, "live pods after the rollout");
    for pod in &pods {
        assert_eq!(
            controller_name(pod).as_deref(),
            Some(new_rs.as_str()),
            "pod {} belongs to the new ReplicaSet",
            pod["metadata"]["name"]
        );
        assert_eq!(pod["spec"]["containers"][0]["image"], "image:v2");
    }

    let logs = format!(
        "log of the killed controller manager:\n{}\nlog of the restarted one:\n{}",
        first.log(),
        second.log()
    );
    pod_watch.abort();
    rs_watch.abort();
    kubelet.abort();
    let observed = std::mem::take(&mut *observation.lock().unwrap());
    assert_eq!(observed.failure, None, "the watches failed");
    for (rs, max_pods) in &observed.max_pods {
        let max_replicas = observed.max_replicas.get(rs).copied().unwrap_or(0);
        assert!(
            *max_pods as i64 <= max_replicas,
            "ReplicaSet {rs} had {max_pods} pods at once but never more than {max_replicas} replicas; {logs}"
        );
    }
    assert!(
        observed.max_total_replicas <= (REPLICAS + MAX_SURGE) as i64,
        "the ReplicaSets asked for {} pods at once, more than replicas + maxSurge; {logs}",
        observed.max_total_replicas
    );
    assert!(
        observed.max_total_pods <= REPLICAS + MAX_SURGE,
        "{} pods existed at once, more than replicas + maxSurge; {logs}",
        observed.max_total_pods
    );
    // Ten v1 pods, then one new pod for each of the ten v2 slots.
    assert_eq!(
        observed.created.len(),
        2 * REPLICAS,
        "pods ever created; {logs}"
    );
    server.stop().await;
}

/// Waits until the Deployment `roll` reports `replicas` updated and available pods
/// of `image`, and its old ReplicaSets are scaled to 0.
async fn wait_complete(client: &RestClient, image: &str, replicas: usize) {
    let replicas = replicas as i64;
    eventually(
        &format!("the rollout to {image}"),
        Duration::from_secs(90),
        || async {
            let deployment = get(client, &format!("{DEPLOYMENTS}/roll")).await?;
            let status = &deployment["status"];
            let complete = status["observedGeneration"] == deployment["metadata"]["generation"]
                && status["updatedReplicas"].as_i64() == Some(replicas)
                && status["availableReplicas"].as_i64() == Some(replicas)
                && status["replicas"].as_i64() == Some(replicas);
            let rss = list(client, REPLICA_SETS, "app=roll").await;
            let scaled = rss.iter().all(|rs| {
                let expected = if image_of(rs) == image { replicas } else { 0 };
                rs["spec"]["replicas"].as_i64() == Some(expected)
                    && rs["status"]["replicas"].as_i64().unwrap_or(0) == expected
            });
            (complete && image_of(&deployment) == image && scaled).then_some(())
        },
    )
    .await;
}

fn replica_set(name: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"set": name}},
                 "template": {"metadata": {"labels": {"set": name}},
                              "spec": {"containers": [{"name": "c", "image": "busybox"}]}}},
    })
}

/// Returns the live pods of the ReplicaSet `name`.
async fn pods_of(client: &RestClient, name: &str) -> Vec<Value> {
    list(client, PODS, &format!("set={name}"))
        .await
        .into_iter()
        .filter(|pod| !is_deleting(pod))
        .collect()
}

/// Checks for a second that the ReplicaSet `name` keeps exactly `replicas` pods.
async fn assert_stays_at(client: &RestClient, name: &str, replicas: usize) {
    for _ in 0..10 {
        assert_eq!(
            pods_of(client, name).await.len(),
            replicas,
            "pods of ReplicaSet {name}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn micro_time(value: &Value) -> jiff::Timestamp {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("{value} is not a timestamp"))
}

/// Two instances with leader election: only the holder of the Lease runs
/// controllers. When it is killed with SIGKILL, so that it cannot release the
/// Lease, the other takes over only after the lease duration and creates the pods
/// of a new ReplicaSet without duplicating those of the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn standby_takes_over_from_killed_leader() {
    const LEASE_SECONDS: i64 = 4;
    let server = TestServer::start().await;
    let client = server.client().await;
    let dir = tempfile::tempdir().expect("create temp dir");
    let kubeconfig = server.write_kubeconfig(dir.path());
    let lease_duration = format!("--leader-elect-lease-duration={LEASE_SECONDS}s");
    let flags = [
        "--leader-elect=true",
        lease_duration.as_str(),
        "--leader-elect-renew-deadline=3s",
        "--leader-elect-retry-period=1s",
        "--controllers=replicaset",
    ];
    let mut instances = [
        ControllerManagerProcess::start(&kubeconfig, dir.path().join("a.log"), &flags),
        ControllerManagerProcess::start(&kubeconfig, dir.path().join("b.log"), &flags),
    ];

    let identities: Vec<String> = eventually(
        "both instances logging their identity",
        Duration::from_secs(30),
        || async {
            instances
                .iter()
                .map(ControllerManagerProcess::identity)
                .collect::<Option<Vec<String>>>()
        },
    )
    .await;
    assert_ne!(identities[0], identities[1], "identities are unique");
    let holder = eventually("a Lease holder", Duration::from_secs(30), || async {
        let lease = get(&client, LEASE).await?;
        let holder = lease["spec"]["holderIdentity"].as_str()?.to_string();
        (!holder.is_empty()).then_some(holder)
    })
    .await;
    let leader = identities
        .iter()
        .position(|identity| *identity == holder)
        .unwrap_or_else(|| panic!("the holder {holder} is neither instance {identities:?}"));
    let standby = 1 - leader;

    create(&client, REPLICA_SETS, &replica_set("first", 3)).await;
    eventually("3 pods of first", Duration::from_secs(30), || async {
        (pods_of(&client, "first").await.len() == 3).then_some(())
    })
    .await;
    assert_stays_at(&client, "first", 3).await;
    assert!(
        instances[leader].started_controllers(),
        "the leader runs its controllers"
    );
    assert!(
        !instances[standby].started_controllers(),
        "the standby started controllers while the other held the Lease:\n{}",
        instances[standby].log()
    );

    instances[leader].kill();
    let last = get(&client, LEASE).await.expect("the Lease exists");
    let last_renew = micro_time(&last["spec"]["renewTime"]);
    let transitions = last["spec"]["leaseTransitions"].as_i64().unwrap_or(0);
    assert_eq!(
        last["spec"]["holderIdentity"].as_str(),
        Some(holder.as_str()),
        "a killed leader does not release the Lease"
    );

    let taken = eventually(
        "the standby holding the Lease",
        Duration::from_secs(60),
        || async {
            let lease = get(&client, LEASE).await?;
            (lease["spec"]["holderIdentity"].as_str() == Some(identities[standby].as_str()))
                .then_some(lease)
        },
    )
    .await;
    let acquired = micro_time(&taken["spec"]["acquireTime"]);
    let waited = acquired.duration_since(last_renew);
    eprintln!("the standby acquired the Lease {waited} after the leader's last renewal");
    assert!(
        waited >= jiff::SignedDuration::from_secs(LEASE_SECONDS),
        "the standby took the Lease {waited} after the last renewal, before it expired"
    );
    assert_eq!(
        taken["spec"]["leaseTransitions"].as_i64(),
        Some(transitions + 1),
        "leaseTransitions counts the takeover"
    );

    create(&client, REPLICA_SETS, &replica_set("second", 3)).await;
    eventually("3 pods of second", Duration::from_secs(30), || async {
        (pods_of(&client, "second").await.len() == 3).then_some(())
    })
    .await;
    assert!(
        instances[standby].started_controllers(),
        "the new leader runs its controllers"
    );
    assert_stays_at(&client, "second", 3).await;
    assert_stays_at(&client, "first", 3).await;
    server.stop().await;
}
