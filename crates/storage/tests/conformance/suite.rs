//! The storage conformance suite: every case takes a fresh backend and checks one
//! part of the `Backend` contract. `main.rs` runs each case against every backend.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use storage::{Backend, Error, EventType, ListOptions, MAX_VALUE_BYTES, WatchMessage, WatchStream};

const WATCH_TIMEOUT: Duration = Duration::from_secs(10);

fn value(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

fn list_options(prefix: &str) -> ListOptions {
    ListOptions {
        prefix: prefix.to_string(),
        ..ListOptions::default()
    }
}

async fn next_event(stream: &mut WatchStream) -> storage::Event {
    loop {
        let message = stream
            .next_timeout(WATCH_TIMEOUT)
            .await
            .expect("watch event timed out")
            .expect("watch closed")
            .expect("watch failed");
        match message {
            WatchMessage::Event(event) => return event,
            WatchMessage::Progress { .. } => continue,
        }
    }
}

/// Returns the first error the stream yields, skipping events and progress.
async fn next_error(stream: &mut WatchStream) -> Error {
    loop {
        let message = stream
            .next_timeout(WATCH_TIMEOUT)
            .await
            .expect("watch error timed out")
            .expect("watch closed without an error");
        if let Err(error) = message {
            return error;
        }
    }
}

pub async fn create_then_get(backend: Arc<dyn Backend>) {
    let created = backend
        .create("/registry/pods/default/a", value("one"))
        .await
        .unwrap();
    assert_eq!(created.create_revision, created.mod_revision);
    assert_eq!(created.value, value("one"));

    let read = backend
        .get("/registry/pods/default/a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, created);

    assert_eq!(
        backend.get("/registry/pods/default/missing").await.unwrap(),
        None
    );
}

pub async fn create_existing_key_fails(backend: Arc<dyn Backend>) {
    let first = backend.create("/k/a", value("one")).await.unwrap();
    let error = backend.create("/k/a", value("two")).await.unwrap_err();
    assert!(
        matches!(error, Error::KeyExists { ref key } if key == "/k/a"),
        "{error:?}"
    );

    let read = backend.get("/k/a").await.unwrap().unwrap();
    assert_eq!(
        read.value,
        value("one"),
        "a failed create must not overwrite"
    );
    assert_eq!(
        backend.current_revision().await.unwrap(),
        first.mod_revision
    );
}

pub async fn revisions_increase_per_write(backend: Arc<dyn Backend>) {
    let start = backend.current_revision().await.unwrap();
    let a = backend.create("/k/a", value("1")).await.unwrap();
    let b = backend.create("/k/b", value("1")).await.unwrap();
    let a2 = backend
        .update("/k/a", value("2"), a.mod_revision)
        .await
        .unwrap();
    let (_, deleted_at) = backend.delete("/k/b", None).await.unwrap();

    assert_eq!(a.mod_revision, start + 1);
    assert_eq!(b.mod_revision, start + 2);
    assert_eq!(a2.mod_revision, start + 3);
    assert_eq!(a2.create_revision, a.create_revision);
    assert_eq!(deleted_at, start + 4);
    assert_eq!(backend.current_revision().await.unwrap(), start + 4);
}

pub async fn update_checks_mod_revision(backend: Arc<dyn Backend>) {
    let created = backend.create("/k/a", value("1")).await.unwrap();
    let updated = backend
        .update("/k/a", value("2"), created.mod_revision)
        .await
        .unwrap();
    assert!(updated.mod_revision > created.mod_revision);

    let error = backend
        .update("/k/a", value("3"), created.mod_revision)
        .await
        .unwrap_err();
    match error {
        Error::Conflict {
            expected,
            current_revision,
            ..
        } => {
            assert_eq!(expected, created.mod_revision);
            assert_eq!(current_revision, updated.mod_revision);
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    let read = backend.get("/k/a").await.unwrap().unwrap();
    assert_eq!(read.value, value("2"), "a stale update must not be applied");

    let error = backend
        .update("/k/missing", value("1"), 1)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

pub async fn delete_checks_mod_revision(backend: Arc<dyn Backend>) {
    let created = backend.create("/k/a", value("1")).await.unwrap();
    let updated = backend
        .update("/k/a", value("2"), created.mod_revision)
        .await
        .unwrap();

    let error = backend
        .delete("/k/a", Some(created.mod_revision))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Conflict { .. }), "{error:?}");
    assert!(
        backend.get("/k/a").await.unwrap().is_some(),
        "a stale delete must not apply"
    );

    let (previous, revision) = backend
        .delete("/k/a", Some(updated.mod_revision))
        .await
        .unwrap();
    assert_eq!(previous.value, value("2"));
    assert_eq!(previous.mod_revision, updated.mod_revision);
    assert!(revision > updated.mod_revision);
    assert_eq!(backend.get("/k/a").await.unwrap(), None);

    let error = backend.delete("/k/a", None).await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

pub async fn recreate_after_delete_starts_new_life(backend: Arc<dyn Backend>) {
    let first = backend.create("/k/a", value("1")).await.unwrap();
    backend.delete("/k/a", None).await.unwrap();
    let second = backend.create("/k/a", value("2")).await.unwrap();
    assert!(second.create_revision > first.create_revision);
    assert_eq!(second.create_revision, second.mod_revision);
}

pub async fn list_respects_prefix(backend: Arc<dyn Backend>) {
    for key in [
        "/registry/pods/a/1",
        "/registry/pods/a/2",
        "/registry/pods/ab/1",
        "/registry/podsx/1",
    ] {
        backend.create(key, value(key)).await.unwrap();
    }

    let keys = |result: storage::ListResult| -> Vec<String> {
        result.items.into_iter().map(|kv| kv.key).collect()
    };
    let namespace = backend
        .list(list_options("/registry/pods/a/"))
        .await
        .unwrap();
    assert_eq!(
        keys(namespace),
        vec!["/registry/pods/a/1", "/registry/pods/a/2"]
    );

    let all = backend.list(list_options("/registry/pods/")).await.unwrap();
    assert_eq!(all.items.len(), 3);
    assert!(!all.more);
    assert_eq!(all.remaining, 0);
    assert_eq!(all.revision, backend.current_revision().await.unwrap());

    assert_eq!(backend.count("/registry/pods/").await.unwrap(), 3);
    assert_eq!(backend.count("/registry/pods/a/").await.unwrap(), 2);
    assert_eq!(backend.count("/registry/none/").await.unwrap(), 0);
}

pub async fn list_pages_read_one_revision(backend: Arc<dyn Backend>) {
    for index in 0..10 {
        backend
            .create(&format!("/p/{index:02}"), value("v1"))
            .await
            .unwrap();
    }

    let first = backend
        .list(ListOptions {
            limit: 4,
            ..list_options("/p/")
        })
        .await
        .unwrap();
    assert_eq!(first.items.len(), 4);
    assert!(first.more);
    assert_eq!(first.remaining, 6);

    // Writes between pages must not show in later pages read at the first revision.
    let five = backend.get("/p/05").await.unwrap().unwrap();
    backend
        .update("/p/05", value("v2"), five.mod_revision)
        .await
        .unwrap();
    backend.delete("/p/06", None).await.unwrap();
    backend.create("/p/045", value("new")).await.unwrap();
    backend.delete("/p/00", None).await.unwrap();

    let mut keys: Vec<String> = first.items.iter().map(|kv| kv.key.clone()).collect();
    let mut start_key = format!("{}\0", keys.last().unwrap());
    loop {
        let page = backend
            .list(ListOptions {
                start_key: start_key.clone(),
                limit: 4,
                revision: first.revision,
                ..list_options("/p/")
            })
            .await
            .unwrap();
        assert_eq!(page.revision, first.revision);
        for kv in &page.items {
            if kv.key == "/p/05" {
                assert_eq!(kv.value, value("v1"), "page shows a later write");
            }
        }
        keys.extend(page.items.iter().map(|kv| kv.key.clone()));
        if !page.more {
            break;
        }
        start_key = format!("{}\0", page.items.last().unwrap().key);
    }
    let expected: Vec<String> = (0..10).map(|index| format!("/p/{index:02}")).collect();
    assert_eq!(keys, expected);

    let latest = backend.list(list_options("/p/")).await.unwrap();
    let latest_keys: Vec<&str> = latest.items.iter().map(|kv| kv.key.as_str()).collect();
    assert!(latest_keys.contains(&"/p/045"));
    assert!(!latest_keys.contains(&"/p/06"));
    assert!(!latest_keys.contains(&"/p/00"));
}

pub async fn list_at_future_revision_fails(backend: Arc<dyn Backend>) {
    backend.create("/k/a", value("1")).await.unwrap();
    let current = backend.current_revision().await.unwrap();
    let error = backend
        .list(ListOptions {
            revision: current + 100,
            ..list_options("/k/")
        })
        .await
        .unwrap_err();
    assert!(matches!(error, Error::FutureRevision { .. }), "{error:?}");
}

pub async fn start_key_outside_prefix_is_rejected(backend: Arc<dyn Backend>) {
    let error = backend
        .list(ListOptions {
            start_key: "/other/a".into(),
            ..list_options("/k/")
        })
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest(_)), "{error:?}");
}

pub async fn compaction_expires_old_revisions(backend: Arc<dyn Backend>) {
    // A first write, so that the watch below starts after a real revision, not at 0.
    backend.create("/first", value("0")).await.unwrap();
    let a = backend.create("/c/a", value("1")).await.unwrap();
    let a2 = backend
        .update("/c/a", value("2"), a.mod_revision)
        .await
        .unwrap();
    let b = backend.create("/c/b", value("1")).await.unwrap();

    backend.compact(a2.mod_revision).await.unwrap();
    assert_eq!(backend.compacted_revision().await.unwrap(), a2.mod_revision);

    let error = backend
        .list(ListOptions {
            revision: a.mod_revision,
            ..list_options("/c/")
        })
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Compacted { .. }), "{error:?}");

    // The compacted revision itself and everything newer stay readable.
    let at_compaction = backend
        .list(ListOptions {
            revision: a2.mod_revision,
            ..list_options("/c/")
        })
        .await
        .unwrap();
    assert_eq!(at_compaction.items.len(), 1);
    assert_eq!(at_compaction.items[0].value, value("2"));

    let latest = backend.list(list_options("/c/")).await.unwrap();
    assert_eq!(latest.items.len(), 2);
    assert_eq!(latest.items[1].mod_revision, b.mod_revision);

    let error = match backend.watch("/c/", a.mod_revision - 1).await {
        Err(error) => error,
        Ok(mut stream) => next_error(&mut stream).await,
    };
    assert!(matches!(error, Error::Compacted { .. }), "{error:?}");

    let error = backend.compact(a.mod_revision).await.unwrap_err();
    assert!(matches!(error, Error::Compacted { .. }), "{error:?}");
}

pub async fn watch_replays_history_with_previous_values(backend: Arc<dyn Backend>) {
    let before = backend.create("/w/before", value("0")).await.unwrap();
    let a = backend.create("/w/a", value("1")).await.unwrap();
    let a2 = backend
        .update("/w/a", value("2"), a.mod_revision)
        .await
        .unwrap();
    backend.create("/other/x", value("1")).await.unwrap();
    let (_, deleted_at) = backend.delete("/w/a", None).await.unwrap();

    let mut stream = backend.watch("/w/", before.mod_revision).await.unwrap();

    let created = next_event(&mut stream).await;
    assert_eq!(created.event_type, EventType::Created);
    assert_eq!(created.kv.key, "/w/a");
    assert_eq!(created.kv.mod_revision, a.mod_revision);
    assert_eq!(created.prev_kv, None);

    let modified = next_event(&mut stream).await;
    assert_eq!(modified.event_type, EventType::Modified);
    assert_eq!(modified.kv.value, value("2"));
    assert_eq!(modified.kv.mod_revision, a2.mod_revision);
    assert_eq!(modified.prev_kv.as_ref().unwrap().value, value("1"));

    let deleted = next_event(&mut stream).await;
    assert_eq!(deleted.event_type, EventType::Deleted);
    assert_eq!(deleted.kv.key, "/w/a");
    assert_eq!(deleted.kv.mod_revision, deleted_at);
    assert_eq!(deleted.prev_kv.as_ref().unwrap().value, value("2"));

    // Live events follow the history without a gap.
    let live = backend.create("/w/live", value("1")).await.unwrap();
    let event = next_event(&mut stream).await;
    assert_eq!(event.kv.key, "/w/live");
    assert_eq!(event.kv.mod_revision, live.mod_revision);
}

pub async fn watch_from_now_skips_history(backend: Arc<dyn Backend>) {
    backend.create("/w/old", value("1")).await.unwrap();
    let mut stream = backend.watch("/w/", 0).await.unwrap();
    let new = backend.create("/w/new", value("1")).await.unwrap();
    let event = next_event(&mut stream).await;
    assert_eq!(event.kv.key, "/w/new");
    assert_eq!(event.kv.mod_revision, new.mod_revision);
}

pub async fn watch_delivers_every_write_in_order(backend: Arc<dyn Backend>) {
    let start = backend.current_revision().await.unwrap();
    let mut stream = backend.watch("/order/", start).await.unwrap();

    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let backend = backend.clone();
            tokio::spawn(async move {
                for index in 0..50 {
                    backend
                        .create(&format!("/order/{writer}-{index}"), value("x"))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }

    let mut last = start;
    for _ in 0..200 {
        let event = next_event(&mut stream).await;
        assert!(
            event.revision() > last,
            "revision {} after {last}",
            event.revision()
        );
        last = event.revision();
    }
    assert_eq!(last, backend.current_revision().await.unwrap());
}

pub async fn oversized_value_is_rejected(backend: Arc<dyn Backend>) {
    let big = Bytes::from(vec![b'x'; MAX_VALUE_BYTES + 1]);
    let error = backend.create("/big/a", big.clone()).await.unwrap_err();
    assert!(matches!(error, Error::ValueTooLarge { .. }), "{error:?}");
    assert_eq!(backend.get("/big/a").await.unwrap(), None);

    let small = backend.create("/big/b", value("1")).await.unwrap();
    let error = backend
        .update("/big/b", big, small.mod_revision)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::ValueTooLarge { .. }), "{error:?}");
    assert_eq!(
        backend.get("/big/b").await.unwrap().unwrap().value,
        value("1")
    );

    let fits = Bytes::from(vec![b'y'; MAX_VALUE_BYTES]);
    backend.create("/big/c", fits.clone()).await.unwrap();
    assert_eq!(backend.get("/big/c").await.unwrap().unwrap().value, fits);
}

pub async fn concurrent_updates_lose_nothing(backend: Arc<dyn Backend>) {
    backend.create("/counter", value("0")).await.unwrap();
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let backend = backend.clone();
            tokio::spawn(async move {
                for _ in 0..10 {
                    // The read-modify-write loop of a guaranteed update.
                    loop {
                        let current = backend.get("/counter").await.unwrap().unwrap();
                        let number: u64 = std::str::from_utf8(&current.value)
                            .unwrap()
                            .parse()
                            .unwrap();
                        let next = value(&(number + 1).to_string());
                        match backend.update("/counter", next, current.mod_revision).await {
                            Ok(_) => break,
                            Err(Error::Conflict { .. }) => continue,
                            Err(other) => panic!("update failed: {other}"),
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let counter = backend.get("/counter").await.unwrap().unwrap();
    assert_eq!(counter.value, value("80"));
}
