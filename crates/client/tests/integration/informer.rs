//! Shared informers: delivery to several handlers, a slow handler, late handlers,
//! resync, sync tracking and the relist after an API server restart.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use client::api::{Api, DeleteParams, PostParams};
use client::cache::{CacheError, ReflectorOptions};
use client::informer::{
    DeletedObject, EventHandlerFuncs, InformerOptions, SharedInformerFactory, strip_managed_fields,
    wait_for_cache_sync,
};
use client::rest::PatchType;
use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::json;
use tokio::sync::watch;

use crate::api::config_map;
use crate::server::{TestServer, eventually};

type Log = Arc<Mutex<Vec<String>>>;

fn value(cm: &ConfigMap) -> String {
    cm.data
        .as_ref()
        .and_then(|d| d.get("value").cloned())
        .unwrap_or_default()
}

/// A handler that records "add name value initial", "update name old new" and
/// "delete name" lines, after an optional pause per notification.
fn recorder(log: Log, pause: Duration) -> EventHandlerFuncs<ConfigMap> {
    let (add_log, update_log, delete_log) = (log.clone(), log.clone(), log);
    EventHandlerFuncs::<ConfigMap>::new()
        .on_add(move |cm: &Arc<ConfigMap>, initial| {
            std::thread::sleep(pause);
            let name = cm.metadata.name.clone().unwrap_or_default();
            add_log
                .lock()
                .unwrap()
                .push(format!("add {name} {} {initial}", value(cm)));
        })
        .on_update(move |old: &Arc<ConfigMap>, new: &Arc<ConfigMap>| {
            std::thread::sleep(pause);
            let name = new.metadata.name.clone().unwrap_or_default();
            update_log
                .lock()
                .unwrap()
                .push(format!("update {name} {} {}", value(old), value(new)));
        })
        .on_delete(move |deleted: DeletedObject<ConfigMap>| {
            std::thread::sleep(pause);
            let kind = match &deleted {
                DeletedObject::Object(_) => "delete",
                DeletedObject::Tombstone { .. } => "tombstone",
            };
            delete_log
                .lock()
                .unwrap()
                .push(format!("{kind} {}", deleted.key()));
        })
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

pub fn short_watches() -> ReflectorOptions {
    ReflectorOptions {
        min_watch_timeout: Duration::from_secs(2),
        max_watch_timeout: Duration::from_secs(3),
        ..ReflectorOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_get_every_change_and_a_slow_one_blocks_nobody() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    cms.create(&config_map("a", &[], "1"), &PostParams::default())
        .await
        .expect("create a");

    let factory = SharedInformerFactory::new(client.clone(), Duration::ZERO)
        .with_reflector_options(short_watches());
    let informer = factory.informer::<ConfigMap>();
    assert!(
        Arc::ptr_eq(
            &informer.indexer(),
            &factory.informer::<ConfigMap>().indexer()
        ),
        "one informer per type"
    );
    let fast: Log = Log::default();
    let slow: Log = Log::default();
    let fast_reg = informer
        .add_event_handler(recorder(fast.clone(), Duration::ZERO))
        .expect("add fast handler");
    let slow_reg = informer
        .add_event_handler(recorder(slow.clone(), Duration::from_millis(1500)))
        .expect("add slow handler");

    let (stop, cancel) = watch::channel(false);
    factory.start(cancel.clone());
    assert!(factory.wait_for_cache_sync(cancel.clone()).await);
    assert!(informer.has_synced());
    assert!(wait_for_cache_sync(cancel.clone(), &[&informer, &fast_reg]).await);
    assert_eq!(lines(&fast), vec!["add a 1 true"]);
    assert!(
        !slow_reg.has_synced(),
        "the slow handler is still busy with its initial add"
    );

    cms.create(&config_map("b", &[], "1"), &PostParams::default())
        .await
        .expect("create b");
    cms.patch("a", PatchType::Merge, &json!({"data": {"value": "2"}}))
        .await
        .expect("update a");
    cms.delete("b", &DeleteParams::default())
        .await
        .expect("delete b");
    let want = vec![
        "add a 1 true",
        "add b 1 false",
        "update a 1 2",
        "delete default/b",
    ];
    eventually(Duration::from_secs(3), "the fast handler's events", || {
        lines(&fast) == want
    })
    .await;
    assert!(
        lines(&slow).len() < want.len(),
        "the fast handler finished before the slow one: {:?}",
        lines(&slow)
    );
    eventually(Duration::from_secs(15), "the slow handler's events", || {
        lines(&slow) == want
    })
    .await;
    assert!(slow_reg.has_synced());

    let lister = informer.lister();
    assert_eq!(lister.list().len(), 1);
    assert_eq!(value(&lister.namespaced("default").get("a").unwrap()), "2");
    assert!(lister.get("default/b").is_none());

    // A handler added late first gets the cache as initial adds.
    let late: Log = Log::default();
    let late_reg = informer
        .add_event_handler(recorder(late.clone(), Duration::ZERO))
        .expect("add late handler");
    eventually(Duration::from_secs(5), "the late handler to sync", || {
        late_reg.has_synced()
    })
    .await;
    assert_eq!(lines(&late), vec!["add a 2 true"]);

    stop.send(true).expect("informers running");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_reaches_only_handlers_that_asked() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    cms.create(&config_map("a", &[], "1"), &PostParams::default())
        .await
        .expect("create a");

    let factory = SharedInformerFactory::new(client.clone(), Duration::ZERO);
    let informer = factory.informer_with::<ConfigMap>(InformerOptions {
        namespace: Some("default".to_string()),
        ..InformerOptions::default()
    });
    let resyncing: Log = Log::default();
    let quiet: Log = Log::default();
    informer
        .add_event_handler_with_resync(
            recorder(resyncing.clone(), Duration::ZERO),
            Duration::from_secs(1),
        )
        .expect("add resyncing handler");
    informer
        .add_event_handler(recorder(quiet.clone(), Duration::ZERO))
        .expect("add quiet handler");
    let (stop, cancel) = watch::channel(false);
    factory.start(cancel.clone());
    assert!(factory.wait_for_cache_sync(cancel).await);

    eventually(Duration::from_secs(10), "two resyncs", || {
        lines(&resyncing)
            .iter()
            .filter(|line| *line == "update a 1 1")
            .count()
            >= 2
    })
    .await;
    assert_eq!(lines(&quiet), vec!["add a 1 true"]);
    stop.send(true).expect("informers running");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relists_after_the_server_restarts() {
    let mut server = TestServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for name in ["a", "b"] {
        cms.create(&config_map(name, &[], "1"), &PostParams::default())
            .await
            .expect("create");
    }

    let factory = SharedInformerFactory::new(client.clone(), Duration::ZERO)
        .with_reflector_options(short_watches());
    let informer = factory.informer::<ConfigMap>();
    let log: Log = Log::default();
    informer
        .add_event_handler(recorder(log.clone(), Duration::ZERO))
        .expect("add handler");
    let (stop, cancel) = watch::channel(false);
    factory.start(cancel.clone());
    assert!(factory.wait_for_cache_sync(cancel).await);

    server.restart(Duration::from_secs(2)).await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    cms.delete("a", &DeleteParams::default())
        .await
        .expect("delete a");
    cms.create(&config_map("c", &[], "1"), &PostParams::default())
        .await
        .expect("create c");

    let lister = informer.lister();
    eventually(
        Duration::from_secs(30),
        "the cache to match the server",
        || {
            let mut names: Vec<String> = lister
                .list()
                .iter()
                .filter_map(|cm| cm.metadata.name.clone())
                .collect();
            names.sort();
            names == ["b", "c"]
        },
    )
    .await;
    let seen = lines(&log);
    assert!(
        seen.iter()
            .any(|l| l == "delete default/a" || l == "tombstone default/a"),
        "{seen:?}"
    );
    assert!(seen.iter().any(|l| l == "add c 1 false"), "{seen:?}");
    assert!(
        !seen.iter().any(|l| l.starts_with("update b")),
        "an unchanged object is not reported as updated after the relist: {seen:?}"
    );
    stop.send(true).expect("informers running");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transform_applies_to_list_and_watch() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let created = cms
        .create(&config_map("a", &[], "1"), &PostParams::default())
        .await
        .expect("create a");
    assert!(
        created.metadata.managed_fields.is_some(),
        "the server records managedFields, which the transform must remove"
    );

    let factory = SharedInformerFactory::new(client.clone(), Duration::ZERO);
    let informer = factory.informer::<ConfigMap>();
    informer
        .set_transform(Arc::new(strip_managed_fields::<ConfigMap>))
        .expect("set before start");
    let seen: Log = Log::default();
    let (add_log, update_log) = (seen.clone(), seen.clone());
    let describe = |event: &str, cm: &ConfigMap| {
        format!(
            "{event} {} {} managedFields={}",
            cm.metadata.name.as_deref().unwrap_or_default(),
            value(cm),
            cm.metadata.managed_fields.is_some()
        )
    };
    informer
        .add_event_handler(
            EventHandlerFuncs::<ConfigMap>::new()
                .on_add(move |cm: &Arc<ConfigMap>, _| {
                    add_log.lock().unwrap().push(describe("add", cm));
                })
                .on_update(move |_, new: &Arc<ConfigMap>| {
                    update_log.lock().unwrap().push(describe("update", new));
                }),
        )
        .expect("add handler");
    let (stop, cancel) = watch::channel(false);
    factory.start(cancel.clone());
    assert!(factory.wait_for_cache_sync(cancel).await);
    assert_eq!(
        informer.set_transform(Arc::new(strip_managed_fields::<ConfigMap>)),
        Err(CacheError::AlreadyStarted)
    );

    cms.patch("a", PatchType::Merge, &json!({"data": {"value": "2"}}))
        .await
        .expect("patch a");
    cms.create(&config_map("b", &[], "1"), &PostParams::default())
        .await
        .expect("create b");
    eventually(
        Duration::from_secs(10),
        "the update and the new object",
        || lines(&seen).len() >= 3,
    )
    .await;
    assert_eq!(
        lines(&seen),
        vec![
            "add a 1 managedFields=false",
            "update a 2 managedFields=false",
            "add b 1 managedFields=false",
        ]
    );
    for cm in informer.lister().list() {
        assert_eq!(cm.metadata.managed_fields, None, "{:?}", cm.metadata.name);
    }
    stop.send(true).expect("informers running");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn factory_strips_managed_fields_and_updates_keep_them() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    cms.create(&config_map("a", &[], "1"), &PostParams::default())
        .await
        .expect("create a");

    let factory =
        SharedInformerFactory::new(client.clone(), Duration::ZERO).with_managed_fields_stripped();
    let informer = factory.informer::<ConfigMap>();
    let (stop, cancel) = watch::channel(false);
    factory.start(cancel.clone());
    assert!(factory.wait_for_cache_sync(cancel).await);

    let cached = informer
        .lister()
        .list()
        .into_iter()
        .find(|cm| cm.metadata.name.as_deref() == Some("a"))
        .expect("a is cached");
    assert_eq!(cached.metadata.managed_fields, None);

    // A controller writes back a changed copy of the cached object: the server keeps
    // the managedFields it stored instead of clearing them.
    let mut changed = (*cached).clone();
    changed
        .data
        .get_or_insert_with(Default::default)
        .insert("value".to_string(), "2".to_string());
    let updated = cms.replace("a", &changed).await.expect("update a");
    let managers: Vec<String> = updated
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|entry| entry.manager)
        .collect();
    assert!(
        !managers.is_empty(),
        "managedFields were dropped by the update"
    );

    eventually(Duration::from_secs(10), "the update in the cache", || {
        informer.lister().list().iter().any(|cm| {
            cm.metadata.name.as_deref() == Some("a")
                && cm
                    .data
                    .as_ref()
                    .and_then(|data| data.get("value"))
                    .map(String::as_str)
                    == Some("2")
                && cm.metadata.managed_fields.is_none()
        })
    })
    .await;
    stop.send(true).expect("informers running");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packed_caches_serve_what_plain_caches_serve() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let default: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let system: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-system");
    default
        .create(
            &config_map("a", &[("tier", "web")], "1"),
            &PostParams::default(),
        )
        .await
        .expect("create a");
    system
        .create(
            &config_map("s", &[("tier", "db")], "1"),
            &PostParams::default(),
        )
        .await
        .expect("create s");

    let plain =
        SharedInformerFactory::new(client.clone(), Duration::ZERO).with_managed_fields_stripped();
    let packed = SharedInformerFactory::new(client.clone(), Duration::ZERO)
        .with_managed_fields_stripped()
        .with_packed_caches(|resource| resource.plural == "configmaps");
    let plain_informer = plain.informer::<ConfigMap>();
    let packed_informer = packed.informer::<ConfigMap>();
    assert!(packed_informer.indexer().is_packed());
    assert!(!plain_informer.indexer().is_packed());
    let plain_log: Log = Log::default();
    let packed_log: Log = Log::default();
    plain_informer
        .add_event_handler(recorder(plain_log.clone(), Duration::ZERO))
        .expect("add plain handler");
    packed_informer
        .add_event_handler(recorder(packed_log.clone(), Duration::ZERO))
        .expect("add packed handler");

    let (stop, cancel) = watch::channel(false);
    plain.start(cancel.clone());
    packed.start(cancel.clone());
    assert!(plain.wait_for_cache_sync(cancel.clone()).await);
    assert!(packed.wait_for_cache_sync(cancel).await);

    default
        .create(
            &config_map("b", &[("tier", "web")], "1"),
            &PostParams::default(),
        )
        .await
        .expect("create b");
    default
        .patch("a", PatchType::Merge, &json!({"data": {"value": "2"}}))
        .await
        .expect("update a");
    default
        .delete("b", &DeleteParams::default())
        .await
        .expect("delete b");
    eventually(Duration::from_secs(10), "both handlers' events", || {
        lines(&packed_log).len() >= 5 && lines(&plain_log).len() >= 5
    })
    .await;
    // The update's old object comes out of the packed cache.
    let want = [
        "add a 1 true",
        "add s 1 true",
        "add b 1 false",
        "update a 1 2",
        "delete default/b",
    ];
    for log in [&plain_log, &packed_log] {
        let mut got = lines(log);
        got[..2].sort();
        assert_eq!(got, want);
    }

    // Listers give back equal objects, by key, namespace, selector and index.
    let web = apimachinery::labels::parse("tier=web").expect("selector");
    let (plain_lister, packed_lister) = (plain_informer.lister(), packed_informer.lister());
    let mut listed = packed_lister.list();
    listed.sort_by(|x, y| x.metadata.name.cmp(&y.metadata.name));
    let mut expected = plain_lister.list();
    expected.sort_by(|x, y| x.metadata.name.cmp(&y.metadata.name));
    assert_eq!(listed, expected);
    assert_eq!(listed.len(), 2);
    let live = default.get("a").await.expect("get a");
    let cached = packed_lister.get("default/a").expect("a is cached");
    assert_eq!(cached.data, live.data);
    assert_eq!(
        cached.metadata.resource_version,
        live.metadata.resource_version
    );
    assert_eq!(cached.metadata.managed_fields, None);
    assert_eq!(
        packed_lister.namespaced("default").list_selected(&web),
        vec![cached.clone()]
    );
    assert!(
        packed_lister
            .namespaced("kube-system")
            .list_selected(&web)
            .is_empty()
    );
    assert_eq!(
        packed_lister
            .by_index(client::cache::NAMESPACE_INDEX, "kube-system")
            .expect("namespace index")
            .len(),
        1
    );

    stop.send(true).expect("informers running");
    server.stop().await;
}
