//! Leader election: three candidates, the leader killed without releasing, and a
//! release on cancel.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client::api::Api;
use client::leaderelection::{LeaderCallbacks, LeaderElectionConfig, LeaderElector};
use client::rest::RestClient;
use k8s_openapi::api::coordination::v1::Lease;
use tokio::sync::watch;

use crate::server::TestServer;

const LEASE: Duration = Duration::from_millis(2000);
const RENEW: Duration = Duration::from_millis(1500);
const RETRY: Duration = Duration::from_millis(250);

struct Candidate {
    identity: String,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// Tracks how many candidates believe they lead, and the most at once.
#[derive(Default)]
struct Leading {
    now: AtomicUsize,
    most: AtomicUsize,
    who: Mutex<Vec<String>>,
}

fn start_candidate(
    client: &RestClient,
    identity: &str,
    release_on_cancel: bool,
    leading: Arc<Leading>,
) -> Candidate {
    let config = LeaderElectionConfig {
        lease_duration: LEASE,
        renew_deadline: RENEW,
        retry_period: RETRY,
        release_on_cancel,
        ..LeaderElectionConfig::new("default", "test-lease", identity)
    };
    let elector = LeaderElector::new(config, client.clone()).expect("valid config");
    let name = identity.to_string();
    let started = leading.clone();
    let callbacks = LeaderCallbacks::new(
        move |mut stop: watch::Receiver<bool>| async move {
            let now = started.now.fetch_add(1, Ordering::SeqCst) + 1;
            started.most.fetch_max(now, Ordering::SeqCst);
            started.who.lock().unwrap().push(name);
            let _ = stop.wait_for(|s| *s).await;
            started.now.fetch_sub(1, Ordering::SeqCst);
        },
        || {},
    );
    let (stop, cancel) = watch::channel(false);
    let task = tokio::spawn(elector.run(callbacks, cancel));
    Candidate {
        identity: identity.to_string(),
        stop,
        task,
    }
}

/// Polls the Lease and records each (holder, acquireTime, last renewTime) run.
async fn watch_lease(
    leases: Api<Lease>,
    history: Arc<Mutex<Vec<(String, i64, i64)>>>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if let Ok(Some(lease)) = leases.get_opt("test-lease").await {
            let spec = lease.spec.unwrap_or_default();
            let holder = spec.holder_identity.unwrap_or_default();
            let micros = |t: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime>| {
                t.map(|t| t.0.as_microsecond()).unwrap_or(0)
            };
            let acquired = micros(spec.acquire_time);
            let renewed = micros(spec.renew_time);
            let mut history = history.lock().unwrap();
            match history.last_mut() {
                Some(last) if last.0 == holder && last.1 == acquired => last.2 = renewed,
                _ => history.push((holder, acquired, renewed)),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn wait_for_leader(leases: &Api<Lease>, not: &str, within: Duration) -> (String, Duration) {
    let start = Instant::now();
    loop {
        if let Ok(Some(lease)) = leases.get_opt("test-lease").await {
            let holder = lease
                .spec
                .and_then(|s| s.holder_identity)
                .unwrap_or_default();
            if !holder.is_empty() && holder != not {
                return (holder, start.elapsed());
            }
        }
        assert!(start.elapsed() < within, "no new leader within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_leader_is_replaced_and_never_two_lead() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), "default");
    let leading = Arc::new(Leading::default());
    let history = Arc::new(Mutex::new(Vec::new()));
    let (stop_watch, watch_rx) = watch::channel(false);
    let watcher = tokio::spawn(watch_lease(leases.clone(), history.clone(), watch_rx));

    let mut candidates: Vec<Candidate> = ["c0", "c1", "c2"]
        .iter()
        .map(|id| start_candidate(&client, id, false, leading.clone()))
        .collect();
    let (first, _) = wait_for_leader(&leases, "", Duration::from_secs(10)).await;
    // Let the others observe the leader renewing for a while.
    tokio::time::sleep(LEASE).await;
    assert_eq!(leading.now.load(Ordering::SeqCst), 1);

    // Kill the leader: it stops renewing and does not release.
    let index = candidates
        .iter()
        .position(|c| c.identity == first)
        .expect("leader is a candidate");
    let killed = candidates.remove(index);
    killed.stop.send(true).expect("candidate running");
    killed.task.await.expect("candidate task");

    // The lease expires one lease duration after another candidate last saw it
    // change; seeing it and trying again each take up to 1.2 retry periods.
    let bound = LEASE + RETRY.mul_f64(2.4) + Duration::from_millis(300);
    let (second, took) = wait_for_leader(&leases, &first, bound).await;
    assert_ne!(second, first);
    assert!(took <= bound, "took {took:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;

    assert_eq!(
        leading.most.load(Ordering::SeqCst),
        1,
        "never two leaders at once: {:?}",
        leading.who.lock().unwrap()
    );
    let _ = stop_watch.send(true);
    watcher.await.expect("watcher");
    let history = history.lock().unwrap().clone();
    let holders: Vec<&str> = history.iter().map(|h| h.0.as_str()).collect();
    assert_eq!(
        holders,
        vec![first.as_str(), second.as_str()],
        "{history:?}"
    );
    // The new holder acquired only after the old record had aged a lease duration.
    let lease_micros = i64::try_from(LEASE.as_micros()).unwrap();
    assert!(
        history[1].1 >= history[0].2 + lease_micros,
        "acquired at {} but the old lease was renewed at {}",
        history[1].1,
        history[0].2
    );

    for candidate in candidates {
        let _ = candidate.stop.send(true);
        candidate.task.await.expect("candidate task");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_leader_releases_the_lease() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), "default");
    let leading = Arc::new(Leading::default());
    let a = start_candidate(&client, "a", true, leading.clone());
    wait_for_leader(&leases, "", Duration::from_secs(10)).await;
    let b = start_candidate(&client, "b", true, leading.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;

    a.stop.send(true).expect("candidate running");
    a.task.await.expect("candidate task");
    let (next, took) = wait_for_leader(&leases, "a", LEASE).await;
    assert_eq!(next, "b");
    assert!(
        took < LEASE,
        "a released lease is taken at once, took {took:?}"
    );
    let _ = b.stop.send(true);
    b.task.await.expect("candidate task");
    server.stop().await;
}
