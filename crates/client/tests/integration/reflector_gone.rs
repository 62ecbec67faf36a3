//! The reflector's 410 path: a watch resumed at a compacted resourceVersion gets 410
//! and the reflector lists again, dropping an object whose deletion it never saw.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use client::api::{Api, PostParams};
use client::cache::{CacheError, Indexer, ObjectOrTombstone, Reflector, Store};
use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::Value;
use tokio::sync::watch;

use crate::api::config_map;
use crate::informer::short_watches;
use crate::server::{TestServer, eventually};

/// An indexer that counts lists (replace calls).
struct CountingStore {
    indexer: Indexer<Value>,
    replaces: AtomicUsize,
}

impl CountingStore {
    fn names(&self) -> BTreeSet<String> {
        self.indexer
            .list()
            .iter()
            .filter_map(|o| o.pointer("/metadata/name")?.as_str().map(str::to_string))
            .collect()
    }
}

impl Store<Value> for CountingStore {
    fn add(&self, obj: Value) -> Result<(), CacheError> {
        self.indexer.add(obj)
    }
    fn update(&self, obj: Value) -> Result<(), CacheError> {
        self.indexer.update(obj)
    }
    fn delete(&self, obj: ObjectOrTombstone<Value>) -> Result<(), CacheError> {
        self.indexer.delete(obj)
    }
    fn replace(&self, list: Vec<Value>, resource_version: &str) -> Result<(), CacheError> {
        self.replaces.fetch_add(1, Ordering::SeqCst);
        self.indexer.replace(list, resource_version)
    }
    fn resync(&self) -> Result<(), CacheError> {
        Ok(())
    }
    fn list_keys(&self) -> Vec<String> {
        Store::list_keys(&self.indexer)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_resume_after_compaction_relists() {
    let mut server = TestServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for name in ["keep", "remove"] {
        cms.create(&config_map(name, &[], "1"), &PostParams::default())
            .await
            .expect("create");
    }

    let store = Arc::new(CountingStore {
        indexer: Indexer::with_namespace_index(),
        replaces: AtomicUsize::new(0),
    });
    let reflector = Reflector::new(
        client.clone(),
        "/api/v1/namespaces/default/configmaps".to_string(),
        store.clone(),
        short_watches(),
    );
    let status = reflector.clone();
    let (stop, cancel) = watch::channel(false);
    let running = tokio::spawn(reflector.run(cancel));
    eventually(Duration::from_secs(10), "the first list", || {
        store.replaces.load(Ordering::SeqCst) == 1 && store.names().len() == 2
    })
    .await;
    let synced_at: i64 = status
        .last_sync_resource_version()
        .parse()
        .expect("numeric version");

    // Behind the stopped server's back: delete an object and compact history, so
    // the reflector's resourceVersion is gone and it never sees the DELETED event.
    let backend = server.take_down().await;
    backend
        .delete("/registry/configmaps/default/remove", None)
        .await
        .expect("delete in storage");
    let revision = backend.current_revision().await.expect("revision");
    backend.compact(revision).await.expect("compact");
    assert!(synced_at < revision);
    drop(backend);
    server.bring_up().await;

    eventually(
        Duration::from_secs(30),
        "a relist without the deleted object",
        || store.names() == BTreeSet::from(["keep".to_string()]),
    )
    .await;
    assert!(
        store.replaces.load(Ordering::SeqCst) >= 2,
        "the object left through a relist"
    );
    assert!(
        status
            .last_sync_resource_version()
            .parse::<i64>()
            .expect("numeric version")
            >= revision
    );

    // Events after the relist still arrive.
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    cms.create(&config_map("after", &[], "1"), &PostParams::default())
        .await
        .expect("create after");
    eventually(Duration::from_secs(10), "the new object", || {
        store.names().contains("after")
    })
    .await;

    stop.send(true).expect("reflector running");
    running.await.expect("reflector task");
    server.stop().await;
}
