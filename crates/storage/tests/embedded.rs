//! Tests of the embedded backend beyond the shared conformance suite: durability
//! across kill -9 of a writer process, reopening, and watches that fall behind.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use storage::embedded::{EmbeddedBackend, EmbeddedOptions};
use storage::{Backend, ListOptions, WatchMessage};

const WRITER_PATH_VARIABLE: &str = "EMBEDDED_STORE_WRITER_PATH";

/// Entry point of the child process that `acknowledged_writes_survive_kill_9` starts
/// and kills. It writes keys as fast as it can and prints each acknowledged one.
#[tokio::test]
#[ignore = "run only as the child process of acknowledged_writes_survive_kill_9"]
async fn writer_process() {
    let path = std::env::var(WRITER_PATH_VARIABLE).expect("writer path variable is set");
    let backend = EmbeddedBackend::open(path.as_ref()).await.unwrap();
    let mut stdout = std::io::stdout();
    for index in 0.. {
        let key = format!("/registry/configmaps/default/cm-{index:06}");
        let value = Bytes::from(format!("{{\"index\":{index}}}"));
        let stored = backend.create(&key, value).await.unwrap();
        writeln!(stdout, "acked {index} {}", stored.mod_revision).unwrap();
        stdout.flush().unwrap();
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "writer_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WRITER_PATH_VARIABLE, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let mut acknowledged = Vec::new();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines() {
        let line = line.unwrap();
        let Some(rest) = line.strip_prefix("acked ") else {
            continue;
        };
        let mut parts = rest.split(' ');
        let index: u64 = parts.next().unwrap().parse().unwrap();
        let revision: i64 = parts.next().unwrap().parse().unwrap();
        acknowledged.push((index, revision));
        if acknowledged.len() == 300 {
            // Child::kill sends SIGKILL: no destructor, no flush, no clean close.
            child.kill().unwrap();
            break;
        }
    }
    child.wait().unwrap();
    assert_eq!(acknowledged.len(), 300, "the writer stopped early");

    let backend = EmbeddedBackend::open(&path).await.unwrap();
    for (index, revision) in &acknowledged {
        let key = format!("/registry/configmaps/default/cm-{index:06}");
        let stored = backend.get(&key).await.unwrap();
        let stored = stored.unwrap_or_else(|| panic!("acknowledged write {key} was lost"));
        assert_eq!(stored.mod_revision, *revision);
        assert_eq!(stored.value, Bytes::from(format!("{{\"index\":{index}}}")));
    }
    let last_revision = acknowledged.last().unwrap().1;
    assert!(backend.current_revision().await.unwrap() >= last_revision);
}

#[tokio::test]
async fn reopen_keeps_data_and_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("store.redb");

    let backend = EmbeddedBackend::open(&path).await.unwrap();
    let a = backend
        .create("/k/a", Bytes::from_static(b"1"))
        .await
        .unwrap();
    let a2 = backend
        .update("/k/a", Bytes::from_static(b"2"), a.mod_revision)
        .await
        .unwrap();
    backend
        .create("/k/b", Bytes::from_static(b"1"))
        .await
        .unwrap();
    backend.compact(a2.mod_revision).await.unwrap();
    let revision = backend.current_revision().await.unwrap();
    backend.close().await;
    drop(backend);

    let reopened = EmbeddedBackend::open(&path).await.unwrap();
    assert_eq!(reopened.current_revision().await.unwrap(), revision);
    assert_eq!(
        reopened.compacted_revision().await.unwrap(),
        a2.mod_revision
    );
    assert_eq!(reopened.get("/k/a").await.unwrap().unwrap(), a2);

    let next = reopened
        .create("/k/c", Bytes::from_static(b"1"))
        .await
        .unwrap();
    assert_eq!(next.mod_revision, revision + 1);
}

#[tokio::test]
async fn second_open_of_same_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let _first = EmbeddedBackend::open(&path).await.unwrap();
    let error = EmbeddedBackend::open(&path)
        .await
        .err()
        .expect("second open succeeded");
    assert!(error.to_string().contains("store.redb"), "{error}");
}

#[tokio::test]
async fn writes_after_close_are_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let backend = EmbeddedBackend::open(&dir.path().join("store.redb"))
        .await
        .unwrap();
    backend.close().await;
    let error = backend
        .create("/k/a", Bytes::from_static(b"1"))
        .await
        .unwrap_err();
    assert!(matches!(error, storage::Error::Unavailable(_)), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_watch_catches_up_without_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let options = EmbeddedOptions {
        event_buffer_batches: 4,
        watch_channel_capacity: 8,
        ..EmbeddedOptions::default()
    };
    let backend = EmbeddedBackend::open_with_options(&dir.path().join("store.redb"), options)
        .await
        .unwrap();

    // The watch is not read while 200 writes commit, far past both buffers.
    let mut stream = backend.watch("/lag/", 0).await.unwrap();
    let start = backend.current_revision().await.unwrap();
    for index in 0..200 {
        backend
            .create(&format!("/lag/{index:04}"), Bytes::from_static(b"x"))
            .await
            .unwrap();
        if index % 50 == 0 {
            backend
                .create("/unwatched/x", Bytes::from_static(b"x"))
                .await
                .ok();
        }
    }

    let mut expected_index = 0;
    while expected_index < 200 {
        let message = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("watch timed out")
            .expect("watch closed")
            .expect("watch failed");
        let WatchMessage::Event(event) = message else {
            continue;
        };
        assert!(event.revision() > start);
        assert_eq!(event.kv.key, format!("/lag/{expected_index:04}"));
        expected_index += 1;
    }
}

#[tokio::test]
async fn lagging_watch_past_compaction_gets_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let options = EmbeddedOptions {
        event_buffer_batches: 2,
        watch_channel_capacity: 2,
        ..EmbeddedOptions::default()
    };
    let backend = EmbeddedBackend::open_with_options(&dir.path().join("store.redb"), options)
        .await
        .unwrap();

    let mut stream = backend.watch("/lag/", 0).await.unwrap();
    for index in 0..50 {
        backend
            .create(&format!("/lag/{index:04}"), Bytes::from_static(b"x"))
            .await
            .unwrap();
    }
    let current = backend.current_revision().await.unwrap();
    backend.compact(current).await.unwrap();

    let mut saw_compacted = false;
    while let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(10), stream.next()).await
    {
        if let Err(error) = message {
            assert!(
                matches!(error, storage::Error::Compacted { .. }),
                "{error:?}"
            );
            saw_compacted = true;
            break;
        }
    }
    assert!(
        saw_compacted,
        "a watch that fell behind a compaction must fail"
    );
}

#[tokio::test]
async fn list_at_old_revision_undoes_later_writes() {
    let dir = tempfile::tempdir().unwrap();
    let backend = EmbeddedBackend::open(&dir.path().join("store.redb"))
        .await
        .unwrap();
    let a = backend
        .create("/k/a", Bytes::from_static(b"a1"))
        .await
        .unwrap();
    let b = backend
        .create("/k/b", Bytes::from_static(b"b1"))
        .await
        .unwrap();
    let snapshot = b.mod_revision;

    backend
        .update("/k/a", Bytes::from_static(b"a2"), a.mod_revision)
        .await
        .unwrap();
    backend.delete("/k/b", None).await.unwrap();
    backend
        .create("/k/c", Bytes::from_static(b"c1"))
        .await
        .unwrap();
    backend
        .create("/k/b", Bytes::from_static(b"b2"))
        .await
        .unwrap();

    let old = backend
        .list(ListOptions {
            prefix: "/k/".into(),
            revision: snapshot,
            ..ListOptions::default()
        })
        .await
        .unwrap();
    let items: Vec<(&str, &[u8])> = old
        .items
        .iter()
        .map(|kv| (kv.key.as_str(), kv.value.as_ref()))
        .collect();
    assert_eq!(
        items,
        vec![("/k/a", b"a1".as_ref()), ("/k/b", b"b1".as_ref())]
    );
    assert_eq!(old.items[1].mod_revision, b.mod_revision);
}

mod guaranteed_update {
    use std::sync::Arc;

    use bytes::Bytes;
    use storage::embedded::EmbeddedBackend;
    use storage::update::{UpdateDecision, UpdateError, guaranteed_update, guaranteed_update_from};
    use storage::{Backend, Error};

    async fn open() -> (tempfile::TempDir, Arc<EmbeddedBackend>) {
        let dir = tempfile::tempdir().unwrap();
        let backend = EmbeddedBackend::open(&dir.path().join("store.redb"))
            .await
            .unwrap();
        (dir, Arc::new(backend))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_increments_all_apply() {
        let (_dir, backend) = open().await;
        backend
            .create("/n", Bytes::from_static(b"0"))
            .await
            .unwrap();

        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let backend = backend.clone();
                tokio::spawn(async move {
                    for _ in 0..10 {
                        guaranteed_update(backend.as_ref(), "/n", false, |current| {
                            let text = std::str::from_utf8(&current.unwrap().value).unwrap();
                            let number: u64 = text.parse().unwrap();
                            Ok::<_, ()>(UpdateDecision::Write(Bytes::from(
                                (number + 1).to_string(),
                            )))
                        })
                        .await
                        .unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(
            backend.get("/n").await.unwrap().unwrap().value,
            Bytes::from_static(b"80")
        );
    }

    /// Appends `+` to the value, or rejects the update when the value is not `expected`
    /// yet (a precondition the caller checks on the state it is given).
    fn append<'a>(
        expected: &'static [u8],
        calls: &'a std::cell::Cell<usize>,
    ) -> impl FnMut(Option<&storage::KeyValue>) -> Result<UpdateDecision, &'static str> + 'a {
        move |current| {
            calls.set(calls.get() + 1);
            let value = &current.expect("key exists").value;
            if value.as_ref() != expected {
                return Err("unexpected value");
            }
            let mut next = value.to_vec();
            next.push(b'+');
            Ok(UpdateDecision::Write(Bytes::from(next)))
        }
    }

    #[tokio::test]
    async fn fresh_suggestion_writes_without_a_read() {
        let (_dir, backend) = open().await;
        let created = backend
            .create("/s", Bytes::from_static(b"a"))
            .await
            .unwrap();
        let calls = std::cell::Cell::new(0);
        let stored = guaranteed_update_from(
            backend.as_ref(),
            "/s",
            false,
            Some(created.clone()),
            append(b"a", &calls),
        )
        .await
        .unwrap();
        assert_eq!(stored.value, Bytes::from_static(b"a+"));
        assert!(stored.mod_revision > created.mod_revision);
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test]
    async fn stale_suggestion_is_read_again() {
        let (_dir, backend) = open().await;
        let stale = backend
            .create("/s", Bytes::from_static(b"a"))
            .await
            .unwrap();
        backend
            .update("/s", Bytes::from_static(b"b"), stale.mod_revision)
            .await
            .unwrap();

        // The conditional write fails on the stale revision; the retry reads "b".
        let calls = std::cell::Cell::new(0);
        let mut saw = Vec::new();
        let stored = guaranteed_update_from(
            backend.as_ref(),
            "/s",
            false,
            Some(stale.clone()),
            |current| {
                calls.set(calls.get() + 1);
                let value = current.expect("key exists").value.clone();
                saw.push(value.clone());
                let mut next = value.to_vec();
                next.push(b'+');
                Ok::<_, ()>(UpdateDecision::Write(Bytes::from(next)))
            },
        )
        .await
        .unwrap();
        assert_eq!(stored.value, Bytes::from_static(b"b+"));
        assert_eq!(saw, [Bytes::from_static(b"a"), Bytes::from_static(b"b")]);
        assert_eq!(calls.get(), 2);

        // A rejection of the stale state is not final: storage is read again first.
        let stale = backend.get("/s").await.unwrap().unwrap();
        backend
            .update("/s", Bytes::from_static(b"c"), stale.mod_revision)
            .await
            .unwrap();
        let calls = std::cell::Cell::new(0);
        let stored = guaranteed_update_from(
            backend.as_ref(),
            "/s",
            false,
            Some(stale),
            append(b"c", &calls),
        )
        .await
        .unwrap();
        assert_eq!(stored.value, Bytes::from_static(b"c+"));
        assert_eq!(calls.get(), 2);

        // A rejection of the stored state is final.
        let current = backend.get("/s").await.unwrap().unwrap();
        let calls = std::cell::Cell::new(0);
        let result = guaranteed_update_from(
            backend.as_ref(),
            "/s",
            false,
            Some(current),
            append(b"x", &calls),
        )
        .await;
        assert!(matches!(
            result,
            Err(UpdateError::Rejected("unexpected value"))
        ));
        assert_eq!(calls.get(), 2);
    }

    #[tokio::test]
    async fn stale_suggestion_of_no_change_is_checked() {
        let (_dir, backend) = open().await;
        let stale = backend
            .create("/s", Bytes::from_static(b"a"))
            .await
            .unwrap();
        let newer = backend
            .update("/s", Bytes::from_static(b"b"), stale.mod_revision)
            .await
            .unwrap();
        // Writing the suggested value back is a no-op on the suggestion but not on
        // the stored key, so the update goes through with the stored revision.
        let stored = guaranteed_update_from(backend.as_ref(), "/s", false, Some(stale), |_| {
            Ok::<_, ()>(UpdateDecision::Write(Bytes::from_static(b"a")))
        })
        .await
        .unwrap();
        assert_eq!(stored.value, Bytes::from_static(b"a"));
        assert!(stored.mod_revision > newer.mod_revision);
    }

    #[tokio::test]
    async fn missing_key_is_not_found() {
        let (_dir, backend) = open().await;
        let result = guaranteed_update(backend.as_ref(), "/missing", false, |_| {
            Ok::<_, ()>(UpdateDecision::Write(Bytes::from_static(b"x")))
        })
        .await;
        assert!(matches!(
            result,
            Err(UpdateError::Storage(Error::NotFound { .. }))
        ));
    }

    #[tokio::test]
    async fn missing_key_is_created_when_ignored() {
        let (_dir, backend) = open().await;
        let stored = guaranteed_update(backend.as_ref(), "/new", true, |current| {
            assert!(current.is_none());
            Ok::<_, ()>(UpdateDecision::Write(Bytes::from_static(b"x")))
        })
        .await
        .unwrap();
        assert_eq!(stored.create_revision, stored.mod_revision);
    }

    #[tokio::test]
    async fn same_value_is_not_written() {
        let (_dir, backend) = open().await;
        let created = backend
            .create("/k", Bytes::from_static(b"same"))
            .await
            .unwrap();
        let stored = guaranteed_update(backend.as_ref(), "/k", false, |_| {
            Ok::<_, ()>(UpdateDecision::Write(Bytes::from_static(b"same")))
        })
        .await
        .unwrap();
        assert_eq!(stored.mod_revision, created.mod_revision);
        assert_eq!(
            backend.current_revision().await.unwrap(),
            created.mod_revision
        );
    }

    #[tokio::test]
    async fn rejection_is_returned_unchanged() {
        let (_dir, backend) = open().await;
        backend
            .create("/k", Bytes::from_static(b"v"))
            .await
            .unwrap();
        let result =
            guaranteed_update(backend.as_ref(), "/k", false, |_| Err("invalid object")).await;
        assert!(matches!(
            result,
            Err(UpdateError::Rejected("invalid object"))
        ));
        assert_eq!(
            backend.get("/k").await.unwrap().unwrap().value,
            Bytes::from_static(b"v")
        );
    }
}
