//! The cacher under load: a list of many pods served from memory, and one write
//! delivered to many watchers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use storage::Backend;
use storage::cacher::{AttrsFunc, Cacher, CacherConfig, ListRequest, ObjectAttrs, WatchRequest};

use crate::Scale;
use crate::report::Report;

/// A pod's JSON of about the size the benchmark uses elsewhere, with labels.
fn pod_json(index: usize, value_bytes: usize) -> Bytes {
    let padding = "x".repeat(value_bytes.saturating_sub(200));
    Bytes::from(format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"pod-{index:06}","namespace":"bench","labels":{{"app":"web","shard":"{}"}}}},"spec":{{"nodeName":"node-{}","padding":"{padding}"}}}}"#,
        index % 10,
        index % 100
    ))
}

fn attrs_func() -> AttrsFunc {
    Arc::new(|kv| {
        let object: serde_json::Value =
            serde_json::from_slice(&kv.value).map_err(|error| error.to_string())?;
        let mut attrs = ObjectAttrs::default();
        if let Some(labels) = object
            .pointer("/metadata/labels")
            .and_then(|labels| labels.as_object())
        {
            for (key, value) in labels {
                attrs
                    .labels
                    .insert(key.clone(), value.as_str().unwrap_or_default().to_string());
            }
        }
        if let Some(node) = object
            .pointer("/spec/nodeName")
            .and_then(|node| node.as_str())
        {
            attrs
                .fields
                .insert("spec.nodeName".into(), node.to_string());
        }
        Ok(attrs)
    })
}

pub async fn cacher_workloads(
    name: &str,
    backend: Arc<dyn Backend>,
    scale: Scale,
    watchers: usize,
    report: &mut Report,
) {
    let prefix = format!("/registry/pods-cacher-{name}/");
    let writers: Vec<_> = (0..scale.clients)
        .map(|client| {
            let backend = backend.clone();
            let prefix = prefix.clone();
            tokio::spawn(async move {
                let mut index = client;
                while index < scale.list_objects {
                    let key = format!("{prefix}bench/pod-{index:06}");
                    backend
                        .create(&key, pod_json(index, scale.value_bytes))
                        .await
                        .expect("create");
                    index += scale.clients;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer task");
    }

    let cacher = Cacher::new(
        backend.clone(),
        CacherConfig::new(prefix.clone(), attrs_func()),
    );
    cacher.ready().await.expect("cacher ready");

    let mut samples = Vec::with_capacity(scale.lists);
    for _ in 0..scale.lists {
        let begin = Instant::now();
        let listed = cacher
            .list(ListRequest {
                prefix: prefix.clone(),
                resource_version: Some(0),
                ..ListRequest::default()
            })
            .await
            .expect("list from cache");
        assert_eq!(listed.items.len(), scale.list_objects);
        samples.push(begin.elapsed());
    }
    let operation = format!("cacher list {} pods (rv=0)", scale.list_objects);
    report.latencies(name, &operation, samples, None);

    watch_fan_out(name, &backend, &cacher, &prefix, watchers, scale, report).await;
}

/// Opens `watchers` watches, makes one write, and times its arrival at each.
async fn watch_fan_out(
    name: &str,
    backend: &Arc<dyn Backend>,
    cacher: &Cacher,
    prefix: &str,
    watchers: usize,
    scale: Scale,
    report: &mut Report,
) {
    let revision = cacher.resource_version();
    let (ready_sender, mut ready_receiver) = tokio::sync::mpsc::channel::<()>(watchers);
    let start_gate = Arc::new(tokio::sync::OnceCell::<Instant>::new());
    let mut tasks = Vec::with_capacity(watchers);
    for _ in 0..watchers {
        let mut watcher = cacher
            .watch(WatchRequest {
                prefix: prefix.to_string(),
                resource_version: revision,
                ..WatchRequest::default()
            })
            .await
            .expect("watch");
        let ready = ready_sender.clone();
        let start_gate = start_gate.clone();
        tasks.push(tokio::spawn(async move {
            ready.send(()).await.ok();
            let event = watcher.next_timeout(Duration::from_secs(30)).await;
            let received = Instant::now();
            assert!(matches!(event, Ok(Some(Ok(_)))), "watcher got {event:?}");
            let started = *start_gate
                .get()
                .expect("write time is set before the write");
            received - started
        }));
    }
    for _ in 0..watchers {
        ready_receiver.recv().await;
    }

    start_gate.set(Instant::now()).expect("set once");
    backend
        .create(
            &format!("{prefix}bench/fan-out"),
            pod_json(0, scale.value_bytes),
        )
        .await
        .expect("create");

    let mut samples = Vec::with_capacity(watchers);
    for task in tasks {
        samples.push(task.await.expect("watcher task"));
    }
    let operation = format!("one write to {watchers} watchers");
    report.latencies(name, &operation, samples, None);
}
