//! Runs the storage conformance suite against every backend: the embedded store in a
//! temporary directory, and etcd3 against a real etcd server started per test.

mod suite;

use std::sync::Arc;

use storage::Backend;
use storage::embedded::EmbeddedBackend;
use storage::etcd3::{Etcd3Backend, Etcd3Options};
use storage::testing::EtcdServer;

/// A backend for one test, with whatever must live as long as it.
struct Fixture {
    backend: Arc<dyn Backend>,
    _guard: Box<dyn std::any::Any + Send>,
}

async fn embedded() -> Fixture {
    let dir = tempfile::tempdir().expect("create temp dir");
    let backend = EmbeddedBackend::open(&dir.path().join("store.redb"))
        .await
        .expect("open embedded store");
    Fixture {
        backend: Arc::new(backend),
        _guard: Box::new(dir),
    }
}

async fn etcd3() -> Fixture {
    // Starting etcd blocks for a moment; keep it off the runtime's worker threads.
    let server = tokio::task::spawn_blocking(EtcdServer::start)
        .await
        .expect("join etcd start")
        .expect("start etcd");
    let backend = Etcd3Backend::connect(&server.endpoints(), Etcd3Options::default())
        .await
        .expect("connect to etcd");
    Fixture {
        backend: Arc::new(backend),
        _guard: Box::new(server),
    }
}

macro_rules! conformance {
    ($backend:ident: $($case:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let fixture = super::$backend().await;
                    super::suite::$case(fixture.backend.clone()).await;
                }
            )*
        }
    };
}

macro_rules! all_cases {
    ($backend:ident) => {
        conformance!($backend:
            create_then_get,
            create_existing_key_fails,
            revisions_increase_per_write,
            update_checks_mod_revision,
            delete_checks_mod_revision,
            recreate_after_delete_starts_new_life,
            list_respects_prefix,
            list_pages_read_one_revision,
            list_at_future_revision_fails,
            start_key_outside_prefix_is_rejected,
            compaction_expires_old_revisions,
            watch_replays_history_with_previous_values,
            watch_from_now_skips_history,
            watch_delivers_every_write_in_order,
            oversized_value_is_rejected,
            concurrent_updates_lose_nothing,
        );
    };
}

all_cases!(embedded);
all_cases!(etcd3);
