//! Workloads over the `Backend` interface, the same for every backend.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use storage::{Backend, Error, ListOptions, WatchMessage};

use crate::Scale;
use crate::report::Report;

pub async fn backend_workloads(
    name: &str,
    backend: Arc<dyn Backend>,
    scale: Scale,
    report: &mut Report,
) {
    let value = Bytes::from(vec![b'x'; scale.value_bytes]);
    let prefix = format!("/registry/pods/{name}/");

    let mut samples = Vec::with_capacity(scale.operations);
    let started = Instant::now();
    for index in 0..scale.operations {
        let key = format!("{prefix}pod-{index:06}");
        let begin = Instant::now();
        backend.create(&key, value.clone()).await.expect("create");
        samples.push(begin.elapsed());
    }
    report.latencies(
        name,
        "create (sequential)",
        samples,
        Some(started.elapsed()),
    );

    let samples = concurrent_creates(
        &backend,
        &format!("/registry/pods/{name}-concurrent/"),
        &value,
        scale,
    )
    .await;
    let (samples, elapsed) = samples;
    let operation = format!("create ({} clients)", scale.clients);
    report.latencies(name, &operation, samples, Some(elapsed));

    let mut samples = Vec::with_capacity(scale.operations);
    let started = Instant::now();
    for index in 0..scale.operations {
        let key = format!("{prefix}pod-{:06}", (index * 7919) % scale.operations);
        let begin = Instant::now();
        let found = backend.get(&key).await.expect("get");
        assert!(found.is_some());
        samples.push(begin.elapsed());
    }
    report.latencies(name, "get", samples, Some(started.elapsed()));

    let mut samples = Vec::with_capacity(scale.operations);
    let started = Instant::now();
    for index in 0..scale.operations {
        let key = format!("{prefix}pod-{:06}", index % scale.operations);
        let begin = Instant::now();
        guaranteed_update(backend.as_ref(), &key, &value).await;
        samples.push(begin.elapsed());
    }
    report.latencies(
        name,
        "guaranteed update (get + CAS)",
        samples,
        Some(started.elapsed()),
    );

    list_workload(name, &backend, &value, scale, report).await;
    watch_workload(name, &backend, &value, scale, report).await;
}

async fn concurrent_creates(
    backend: &Arc<dyn Backend>,
    prefix: &str,
    value: &Bytes,
    scale: Scale,
) -> (Vec<Duration>, Duration) {
    let per_client = scale.operations.div_ceil(scale.clients);
    let started = Instant::now();
    let clients: Vec<_> = (0..scale.clients)
        .map(|client| {
            let backend = backend.clone();
            let value = value.clone();
            let prefix = prefix.to_string();
            tokio::spawn(async move {
                let mut samples = Vec::with_capacity(per_client);
                for index in 0..per_client {
                    let key = format!("{prefix}c{client:03}-{index:06}");
                    let begin = Instant::now();
                    backend.create(&key, value.clone()).await.expect("create");
                    samples.push(begin.elapsed());
                }
                samples
            })
        })
        .collect();
    let mut samples = Vec::with_capacity(per_client * scale.clients);
    for client in clients {
        samples.extend(client.await.expect("client task"));
    }
    (samples, started.elapsed())
}

/// Reads, then writes with the read's mod revision, retrying on conflict: the loop
/// of the apiserver's guaranteed update.
async fn guaranteed_update(backend: &dyn Backend, key: &str, value: &Bytes) {
    loop {
        let current = backend.get(key).await.expect("get").expect("key exists");
        match backend
            .update(key, value.clone(), current.mod_revision)
            .await
        {
            Ok(_) => return,
            Err(Error::Conflict { .. }) => continue,
            Err(other) => panic!("update of {key} failed: {other}"),
        }
    }
}

async fn list_workload(
    name: &str,
    backend: &Arc<dyn Backend>,
    value: &Bytes,
    scale: Scale,
    report: &mut Report,
) {
    let prefix = format!("/registry/pods/{name}-list/");
    fill(backend, &prefix, value, scale.list_objects, scale.clients).await;

    let mut samples = Vec::with_capacity(scale.lists);
    for _ in 0..scale.lists {
        let begin = Instant::now();
        let result = backend
            .list(ListOptions {
                prefix: prefix.clone(),
                ..ListOptions::default()
            })
            .await
            .expect("list");
        assert_eq!(result.items.len(), scale.list_objects);
        samples.push(begin.elapsed());
    }
    let operation = format!("list {} objects", scale.list_objects);
    report.latencies(name, &operation, samples, None);
}

/// Creates `count` keys under `prefix` from `clients` concurrent writers.
pub async fn fill(
    backend: &Arc<dyn Backend>,
    prefix: &str,
    value: &Bytes,
    count: usize,
    clients: usize,
) {
    let per_client = count.div_ceil(clients);
    let writers: Vec<_> = (0..clients)
        .map(|client| {
            let backend = backend.clone();
            let value = value.clone();
            let prefix = prefix.to_string();
            tokio::spawn(async move {
                let first = client * per_client;
                let last = ((client + 1) * per_client).min(count);
                for index in first..last {
                    backend
                        .create(&format!("{prefix}pod-{index:06}"), value.clone())
                        .await
                        .expect("create");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer task");
    }
}

/// Times each write from the call to its event reaching a watcher.
async fn watch_workload(
    name: &str,
    backend: &Arc<dyn Backend>,
    value: &Bytes,
    scale: Scale,
    report: &mut Report,
) {
    let prefix = format!("/registry/pods/{name}-watch/");
    let mut stream = backend.watch(&prefix, 0).await.expect("watch");
    let writes = scale.operations / 2;
    let mut samples = Vec::with_capacity(writes);
    for index in 0..writes {
        let key = format!("{prefix}pod-{index:06}");
        let begin = Instant::now();
        backend.create(&key, value.clone()).await.expect("create");
        loop {
            let message = stream
                .next_timeout(Duration::from_secs(10))
                .await
                .expect("watch event timed out")
                .expect("watch closed")
                .expect("watch failed");
            if let WatchMessage::Event(event) = message
                && event.kv.key == key
            {
                break;
            }
        }
        samples.push(begin.elapsed());
    }
    report.latencies(name, "write to watch event", samples, None);
}
