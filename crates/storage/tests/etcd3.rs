//! Integration tests of the etcd3 backend against real etcd servers.
//!
//! Each test starts its own `/usr/bin/etcd` through `storage::testing`, so the tests
//! run in parallel and clean up after themselves. Besides the basics, they cover what
//! only a real etcd shows: outages, restarts and a member lost from a cluster.

use std::time::{Duration, Instant};

use bytes::Bytes;
use storage::etcd3::{Etcd3Backend, Etcd3Options};
use storage::testing::{EtcdCluster, EtcdServer};
use storage::{
    Backend, Error, Event, EventType, ListOptions, MAX_VALUE_BYTES, WatchMessage, WatchStream,
};

/// Time a watch gets to deliver an expected message.
const WATCH_WAIT: Duration = Duration::from_secs(20);

fn options(request_timeout: Duration) -> Etcd3Options {
    Etcd3Options {
        dial_timeout: Duration::from_secs(1),
        request_timeout,
        // etcd closes connections that ping more often than its
        // --grpc-keepalive-min-time (5 s by default).
        keepalive_interval: Duration::from_secs(10),
        keepalive_timeout: Duration::from_secs(2),
        watch_retry_initial: Duration::from_millis(50),
        watch_retry_max: Duration::from_millis(500),
        tls: None,
    }
}

fn start_server() -> EtcdServer {
    EtcdServer::start().expect("start etcd")
}

async fn connect(endpoints: &[String], request_timeout: Duration) -> Etcd3Backend {
    Etcd3Backend::connect(endpoints, options(request_timeout))
        .await
        .expect("connect to etcd")
}

fn value(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

/// Receives the next watch event, failing the test on errors, closed streams and
/// timeouts. Progress notifications are skipped.
async fn next_event(stream: &mut WatchStream) -> Event {
    let deadline = Instant::now() + WATCH_WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match stream.next_timeout(left).await {
            Ok(Some(Ok(WatchMessage::Event(event)))) => return event,
            Ok(Some(Ok(WatchMessage::Progress { .. }))) => continue,
            Ok(Some(Err(error))) => panic!("watch failed: {error}"),
            Ok(None) => panic!("watch closed unexpectedly"),
            Err(_) => panic!("no watch event within {WATCH_WAIT:?}"),
        }
    }
}

/// Asserts that no event arrives within `wait`.
async fn assert_no_event(stream: &mut WatchStream, wait: Duration) {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match stream.next_timeout(left).await {
            Err(_) => return,
            Ok(Some(Ok(WatchMessage::Progress { .. }))) => continue,
            Ok(other) => panic!("expected no watch message, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_and_key_exists() {
    let server = start_server();
    let backend = connect(&server.endpoints(), Duration::from_secs(5)).await;

    let before = backend.current_revision().await.expect("current revision");
    let created = backend
        .create("/registry/pods/default/a", value("one"))
        .await
        .expect("create");
    assert_eq!(created.key, "/registry/pods/default/a");
    assert_eq!(created.value, value("one"));
    assert_eq!(created.create_revision, before + 1);
    assert_eq!(created.mod_revision, before + 1);

    let fetched = backend.get("/registry/pods/default/a").await.expect("get");
    assert_eq!(fetched, Some(created.clone()));

    let again = backend
        .create("/registry/pods/default/a", value("two"))
        .await;
    assert_eq!(
        again,
        Err(Error::KeyExists {
            key: "/registry/pods/default/a".to_string()
        })
    );
    let unchanged = backend.get("/registry/pods/default/a").await.expect("get");
    assert_eq!(unchanged, Some(created));

    let missing = backend
        .get("/registry/pods/default/missing")
        .await
        .expect("get");
    assert_eq!(missing, None);

    let empty_key = backend.create("", value("x")).await;
    assert!(
        matches!(empty_key, Err(Error::InvalidRequest(_))),
        "{empty_key:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_conflict_and_not_found() {
    let server = start_server();
    let backend = connect(&server.endpoints(), Duration::from_secs(5)).await;

    let created = backend.create("/k", value("v1")).await.expect("create");
    let updated = backend
        .update("/k", value("v2"), created.mod_revision)
        .await
        .expect("update");
    assert_eq!(updated.value, value("v2"));
    assert_eq!(updated.create_revision, created.create_revision);
    assert_eq!(updated.mod_revision, created.mod_revision + 1);

    let stale = backend
        .update("/k", value("v3"), created.mod_revision)
        .await;
    assert_eq!(
        stale,
        Err(Error::Conflict {
            key: "/k".to_string(),
            expected: created.mod_revision,
            current_revision: updated.mod_revision,
        })
    );
    let stored = backend.get("/k").await.expect("get").expect("key exists");
    assert_eq!(stored.value, value("v2"));

    let missing = backend.update("/missing", value("x"), 0).await;
    assert_eq!(
        missing,
        Err(Error::NotFound {
            key: "/missing".to_string()
        })
    );
    assert_eq!(backend.get("/missing").await.expect("get"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_with_precondition() {
    let server = start_server();
    let backend = connect(&server.endpoints(), Duration::from_secs(5)).await;

    let created = backend.create("/k", value("v1")).await.expect("create");
    let conflict = backend.delete("/k", Some(created.mod_revision + 100)).await;
    assert_eq!(
        conflict,
        Err(Error::Conflict {
            key: "/k".to_string(),
            expected: created.mod_revision + 100,
            current_revision: created.mod_revision,
        })
    );
    assert!(backend.get("/k").await.expect("get").is_some());

    let (deleted, revision) = backend
        .delete("/k", Some(created.mod_revision))
        .await
        .expect("delete");
    assert_eq!(deleted, created);
    assert_eq!(revision, created.mod_revision + 1);
    assert_eq!(
        backend.current_revision().await.expect("revision"),
        revision
    );
    assert_eq!(backend.get("/k").await.expect("get"), None);

    let second_delete = backend.delete("/k", None).await;
    assert_eq!(
        second_delete,
        Err(Error::NotFound {
            key: "/k".to_string()
        })
    );

    let other = backend.create("/other", value("x")).await.expect("create");
    let (deleted, _) = backend.delete("/other", None).await.expect("delete");
    assert_eq!(deleted, other);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_at_consistent_revision() {
    let server = start_server();
    let backend = connect(&server.endpoints(), Duration::from_secs(5)).await;

    let prefix = "/registry/pods/default/";
    let mut expected = Vec::new();
    for index in 0..10 {
        let key = format!("{prefix}pod-{index:02}");
        expected.push(
            backend
                .create(&key, value(&format!("v{index}")))
                .await
                .expect("create"),
        );
    }
    backend
        .create("/registry/pods/kube-system/x", value("x"))
        .await
        .expect("create");
    backend
        .create("/registry/pods/default", value("no slash"))
        .await
        .expect("create");

    let mut pages = Vec::new();
    let mut items = Vec::new();
    let mut start_key = String::new();
    let mut revision = 0;
    loop {
        let page = backend
            .list(ListOptions {
                prefix: prefix.to_string(),
                start_key: start_key.clone(),
                limit: 3,
                revision,
            })
            .await
            .expect("list page");
        revision = page.revision;
        pages.push((page.items.len(), page.more, page.remaining));
        items.extend(page.items.iter().cloned());
        if !page.more {
            break;
        }
        let last = page.items.last().expect("a page with more has items");
        start_key = format!("{}\0", last.key);

        // Writes between pages must not show up in later pages.
        let next = format!("{prefix}pod-{:02}", items.len());
        let current = backend.get(&next).await.expect("get").expect("exists");
        backend
            .update(&next, value("changed"), current.mod_revision)
            .await
            .expect("update");
        backend.delete(&format!("{prefix}pod-00"), None).await.ok();
        backend
            .create(&format!("{prefix}pod-{:02}-new", items.len()), value("new"))
            .await
            .expect("create");
    }

    assert_eq!(
        pages,
        vec![(3, true, 7), (3, true, 4), (3, true, 1), (1, false, 0)]
    );
    assert_eq!(items, expected);

    let latest = backend
        .list(ListOptions {
            prefix: prefix.to_string(),
            ..ListOptions::default()
        })
        .await
        .expect("list latest");
    assert!(latest.revision > revision);
    assert_eq!(latest.items.len(), 12, "10 - 1 deleted + 3 created");
    assert!(!latest.more);
    assert_eq!(latest.remaining, 0);

    let future = backend
        .list(ListOptions {
            prefix: prefix.to_string(),
            revision: latest.revision + 100,
            ..ListOptions::default()
        })
        .await;
    assert_eq!(
        future,
        Err(Error::FutureRevision {
            requested: latest.revision + 100,
            current: latest.revision,
        })
    );

    let outside = backend
        .list(ListOptions {
            prefix: prefix.to_string(),
            start_key: "/registry/services/a".to_string(),
            ..ListOptions::default()
        })
        .await;
    assert!(
        matches!(outside, Err(Error::InvalidRequest(_))),
        "{outside:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_under_prefix() {
    let server = start_server();
    let backend = connect(&server.endpoints(), Duration::from_secs(5)).await;

    for index in 0..4 {
        backend
            .create(&format!("/a/{index}"), value("x"))
            .await
            .expect("create");
    }
    backend.create("/b/0", value("x")).await.expect("create");

    assert_eq!(backend.count("/a/").await.expect("count"), 4);
    assert_eq!(backend.count("/b/").await.expect("count"), 1);
    assert_eq!(backend.count("/c/").await.expect("count"), 0);
    assert_eq!(backend.count("").await.expect("count"), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compact_then_old_reads_fail() {
    let server = start_server();
    let backend = connect(&server.endpoints(), Duration::from_secs(5)).await;

    assert_eq!(backend.compacted_revision().await.expect("compacted"), 0);
    let first = backend.create("/c/a", value("1")).await.expect("create");
    let mut last = first.clone();
    for round in 2..6 {
        last = backend
            .update("/c/a", value(&round.to_string()), last.mod_revision)
            .await
            .expect("update");
    }
    let compact_at = last.mod_revision - 1;
    backend.compact(compact_at).await.expect("compact");
    assert_eq!(
        backend.compacted_revision().await.expect("compacted"),
        compact_at
    );

    let old = ListOptions {
        prefix: "/c/".to_string(),
        revision: first.mod_revision,
        ..ListOptions::default()
    };
    assert_eq!(
        backend.list(old).await,
        Err(Error::Compacted {
            requested: first.mod_revision,
            compacted: compact_at,
        })
    );
    let at_compaction = ListOptions {
        prefix: "/c/".to_string(),
        revision: compact_at,
        ..ListOptions::default()
    };
    let page = backend
        .list(at_compaction)
        .await
        .expect("list at compact revision");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].value, value("4"));

    // The change at the compact revision is gone, so a watch after the revision before
    // it fails, and the stream ends after the error.
    let mut stale = backend.watch("/c/", compact_at - 1).await.expect("watch");
    match stale.next_timeout(WATCH_WAIT).await {
        Ok(Some(Err(Error::Compacted {
            requested,
            compacted,
        }))) => {
            assert_eq!(requested, compact_at - 1);
            assert_eq!(compacted, compact_at);
        }
        other => panic!("expected a compacted error, got {other:?}"),
    }
    assert!(matches!(stale.next_timeout(WATCH_WAIT).await, Ok(None)));

    let mut fresh = backend.watch("/c/", compact_at).await.expect("watch");
    let event = next_event(&mut fresh).await;
    assert_eq!(event.kv, last);

    let again = backend.compact(compact_at).await;
    assert!(
        matches!(again, Err(Error::Compacted { .. })),
        "compacting again: {again:?}"
    );
    let below = backend.compact(compact_at - 1).await;
    assert!(
        matches!(below, Err(Error::Compacted { .. })),
        "compacting below: {below:?}"
    );
    assert_eq!(
        backend.compacted_revision().await.expect("compacted"),
        compact_at
    );

    // A second client learns the compact revision from etcd, not from its cache.
    let other = connect(&server.endpoints(), Duration::from_secs(5)).await;
    assert_eq!(
        other.compacted_revision().await.expect("compacted"),
        compact_at
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_delivers_changes_with_previous_values() {
    let server = start_server();
    let backend = connect(&server.endpoints(), Duration::from_secs(5)).await;

    let earlier = backend
        .create("/w/early", value("e"))
        .await
        .expect("create");
    let mut stream = backend.watch("/w/", 0).await.expect("watch");

    let created = backend.create("/w/a", value("1")).await.expect("create");
    backend
        .create("/other/a", value("ignored"))
        .await
        .expect("create");
    let updated = backend
        .update("/w/a", value("2"), created.mod_revision)
        .await
        .expect("update");
    let (_, deleted_at) = backend
        .delete("/w/a", Some(updated.mod_revision))
        .await
        .expect("delete");

    let event = next_event(&mut stream).await;
    assert_eq!(event.event_type, EventType::Created);
    assert_eq!(event.kv, created);
    assert_eq!(event.prev_kv, None);

    let event = next_event(&mut stream).await;
    assert_eq!(event.event_type, EventType::Modified);
    assert_eq!(event.kv, updated);
    assert_eq!(event.prev_kv, Some(created.clone()));

    let event = next_event(&mut stream).await;
    assert_eq!(event.event_type, EventType::Deleted);
    assert_eq!(event.kv.key, "/w/a");
    assert!(event.kv.value.is_empty());
    assert_eq!(event.kv.mod_revision, deleted_at);
    assert_eq!(event.prev_kv, Some(updated.clone()));
    assert_no_event(&mut stream, Duration::from_millis(300)).await;

    // A watch from a past revision replays history from there.
    let mut replay = backend
        .watch("/w/", earlier.mod_revision)
        .await
        .expect("watch");
    let revisions = [
        next_event(&mut replay).await.revision(),
        next_event(&mut replay).await.revision(),
        next_event(&mut replay).await.revision(),
    ];
    assert_eq!(
        revisions,
        [created.mod_revision, updated.mod_revision, deleted_at]
    );
    assert_no_event(&mut replay, Duration::from_millis(300)).await;
}

/// Returns etcd's `etcd_debugging_mvcc_watcher_total` gauge: the number of watchers
/// the server has open.
async fn watcher_count(endpoint: &str) -> i64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let address = endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect to etcd's metrics");
    let request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send metrics request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("read metrics");

    let line = response
        .lines()
        .find(|line| line.starts_with("etcd_debugging_mvcc_watcher_total "))
        .expect("watcher gauge in metrics");
    let value = line.rsplit(' ').next().expect("gauge value");
    value.parse::<f64>().expect("numeric gauge") as i64
}

/// Polls [`watcher_count`] until it equals `expected`, failing after 10 s.
async fn wait_for_watchers(endpoint: &str, expected: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let count = watcher_count(endpoint).await;
        if count == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "etcd has {count} watchers, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_closed_when_stream_dropped() {
    let server = start_server();
    let endpoint = server.endpoints()[0].clone();
    let backend = connect(&server.endpoints(), Duration::from_secs(5)).await;

    let first = backend.watch("/d/", 0).await.expect("watch");
    let second = backend.watch("/e/", 0).await.expect("watch");
    wait_for_watchers(&endpoint, 2).await;

    drop(first);
    wait_for_watchers(&endpoint, 1).await;

    // The remaining watch still works after the other one was closed.
    let mut second = second;
    let created = backend.create("/e/a", value("1")).await.expect("create");
    assert_eq!(next_event(&mut second).await.kv, created);

    drop(second);
    wait_for_watchers(&endpoint, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn value_over_limit_rejected() {
    let server = start_server();
    let backend = connect(&server.endpoints(), Duration::from_secs(10)).await;

    let before = backend.current_revision().await.expect("revision");
    let too_large = Bytes::from(vec![b'x'; MAX_VALUE_BYTES + 1]);
    let result = backend.create("/big", too_large.clone()).await;
    assert_eq!(
        result,
        Err(Error::ValueTooLarge {
            key: "/big".to_string(),
            size: MAX_VALUE_BYTES + 1,
            limit: MAX_VALUE_BYTES,
        })
    );
    assert_eq!(backend.current_revision().await.expect("revision"), before);

    let at_limit = Bytes::from(vec![b'y'; MAX_VALUE_BYTES]);
    let created = backend
        .create("/big", at_limit.clone())
        .await
        .expect("create at limit");
    let fetched = backend.get("/big").await.expect("get").expect("exists");
    assert_eq!(fetched.value.len(), MAX_VALUE_BYTES);

    let result = backend
        .update("/big", too_large, created.mod_revision)
        .await;
    assert!(
        matches!(result, Err(Error::ValueTooLarge { .. })),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_fails_fast_and_watch_resumes() {
    let mut server = start_server();
    let request_timeout = Duration::from_secs(2);
    let backend = connect(&server.endpoints(), request_timeout).await;

    let mut stream = backend.watch("/f/", 0).await.expect("watch");
    let mut written = Vec::new();
    for index in 0..5 {
        let key = format!("/f/before-{index}");
        written.push(backend.create(&key, value("b")).await.expect("create"));
    }

    server.stop().expect("stop etcd");
    let bound = request_timeout + Duration::from_secs(2);

    let started = Instant::now();
    let read = backend.get("/f/before-0").await;
    assert!(
        matches!(read, Err(Error::Unavailable(_)) | Err(Error::Timeout(_))),
        "{read:?}"
    );
    assert!(
        started.elapsed() < bound,
        "get took {:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let write = backend.create("/f/during", value("d")).await;
    assert!(
        matches!(write, Err(Error::Unavailable(_)) | Err(Error::Timeout(_))),
        "{write:?}"
    );
    assert!(
        started.elapsed() < bound,
        "create took {:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let opened = backend.watch("/f/", 0).await;
    assert!(
        matches!(opened, Err(Error::Unavailable(_)) | Err(Error::Timeout(_))),
        "watch during outage: {:?}",
        opened.err()
    );
    assert!(
        started.elapsed() < bound,
        "watch took {:?}",
        started.elapsed()
    );

    server.restart().expect("restart etcd");
    for index in 0..5 {
        let key = format!("/f/after-{index}");
        written.push(
            backend
                .create(&key, value("a"))
                .await
                .expect("create after restart"),
        );
    }
    assert_eq!(backend.get("/f/during").await.expect("get"), None);

    for expected in &written {
        let event = next_event(&mut stream).await;
        assert_eq!(event.event_type, EventType::Created);
        assert_eq!(&event.kv, expected);
    }
    assert_no_event(&mut stream, Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_resumes_after_kill() {
    let mut server = start_server();
    let backend = connect(&server.endpoints(), Duration::from_secs(2)).await;

    let mut stream = backend.watch("/k/", 0).await.expect("watch");
    let first = backend.create("/k/a", value("1")).await.expect("create");
    assert_eq!(next_event(&mut stream).await.kv, first);

    server.kill().expect("kill etcd");
    server.restart().expect("restart etcd");

    let second = backend
        .update("/k/a", value("2"), first.mod_revision)
        .await
        .expect("update after restart");
    let event = next_event(&mut stream).await;
    assert_eq!(event.kv, second);
    assert_eq!(event.prev_kv, Some(first));
    assert_no_event(&mut stream, Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_created_before_etcd() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let backend = connect(
        &[format!("http://127.0.0.1:{port}")],
        Duration::from_secs(1),
    )
    .await;

    let started = Instant::now();
    let result = backend.current_revision().await;
    assert!(matches!(result, Err(Error::Unavailable(_))), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

/// Returns the index of the cluster member that is the raft leader.
async fn leader_index(cluster: &EtcdCluster) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        for (index, endpoint) in cluster.endpoints().iter().enumerate() {
            let Ok(mut client) = etcd_client::Client::connect([endpoint], None).await else {
                continue;
            };
            let Ok(status) = client.status().await else {
                continue;
            };
            let member_id = status.header().map(|header| header.member_id());
            if member_id == Some(status.leader()) {
                return index;
            }
        }
        assert!(Instant::now() < deadline, "no etcd leader within 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates `key`, retrying failed attempts, and returns its revision. Fails the test
/// unless the key exists before `deadline`.
///
/// A write proposed while the leader is gone can time out with an unknown outcome
/// (etcd may still apply it), and the backend does not repeat such writes. A retry
/// that then finds the key present means the earlier attempt was applied.
async fn create_until(backend: &Etcd3Backend, key: &str, deadline: Instant) -> i64 {
    let mut last_error = None;
    loop {
        let revision = match backend.create(key, value("v")).await {
            Ok(kv) => Some(kv.mod_revision),
            Err(Error::KeyExists { .. }) if last_error.is_some() => {
                let kv = backend.get(key).await.expect("get").expect("exists");
                Some(kv.mod_revision)
            }
            Err(error) => {
                last_error = Some(error);
                None
            }
        };
        assert!(
            Instant::now() < deadline,
            "create {key} did not succeed in time; last error: {last_error:?}"
        );
        if let Some(revision) = revision {
            return revision;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Writes ten keys `{name}-{index}` right after a member was lost. The first write must
/// succeed within `recovery`, retried as in [`create_until`], because a write that
/// raced the closing connection can fail with an unknown outcome. The other nine must
/// succeed on the first call.
async fn write_after_loss(
    backend: &Etcd3Backend,
    name: &str,
    recovery: Duration,
    revisions: &mut Vec<i64>,
) {
    let lost = Instant::now();
    let revision = create_until(backend, &format!("{name}-0"), lost + recovery).await;
    revisions.push(revision);

    for index in 1..10 {
        let kv = backend
            .create(&format!("{name}-{index}"), value("v"))
            .await
            .expect("create after a member loss");
        revisions.push(kv.mod_revision);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_survives_member_loss() {
    let mut cluster = EtcdCluster::start(3).expect("start etcd cluster");
    let backend = connect(&cluster.endpoints(), Duration::from_secs(3)).await;
    let mut stream = backend.watch("/m/", 0).await.expect("watch");
    let mut revisions = Vec::new();

    // Losing a follower: the client moves to the other members at once.
    let leader = leader_index(&cluster).await;
    let follower = (leader + 1) % cluster.size();
    cluster.kill_member(follower).expect("kill follower");
    write_after_loss(
        &backend,
        "/m/follower",
        Duration::from_secs(5),
        &mut revisions,
    )
    .await;
    cluster.start_member(follower).expect("restart follower");

    // Losing the leader: writes resume after the election.
    let leader = leader_index(&cluster).await;
    cluster.kill_member(leader).expect("kill leader");
    write_after_loss(
        &backend,
        "/m/leader",
        Duration::from_secs(10),
        &mut revisions,
    )
    .await;

    // The watch receives every write once, in order, whichever member served it.
    for expected in &revisions {
        let event = next_event(&mut stream).await;
        assert_eq!(event.revision(), *expected);
    }
    assert_no_event(&mut stream, Duration::from_millis(500)).await;
}
