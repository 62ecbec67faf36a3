//! Storage benchmark: each backend beside the raw engine under it, in one run.
//!
//! Run with `make bench` (or `cargo bench -p storage --bench storage`). It prints one
//! table of latencies (p50/p99) and rates. Compare rows of the same run only: the
//! machines these run on are shared and noisy. Set `STORAGE_BENCH_SCALE=small` for a
//! quick pass with fewer operations.

mod cacher;
mod raw;
mod report;
mod workloads;

use std::sync::Arc;

use report::Report;
use storage::Backend;
use storage::embedded::EmbeddedBackend;
use storage::etcd3::{Etcd3Backend, Etcd3Options};
use storage::testing::EtcdServer;

/// Sizes of one benchmark run.
#[derive(Clone, Copy)]
pub struct Scale {
    /// Sequential single-object operations per measurement.
    pub operations: usize,
    /// Concurrent clients for the throughput measurement.
    pub clients: usize,
    /// Objects in the list measurement.
    pub list_objects: usize,
    /// Lists timed per measurement.
    pub lists: usize,
    /// Size of each stored value in bytes, about a pod's JSON.
    pub value_bytes: usize,
    /// Watchers that one write is delivered to through the cacher.
    pub watchers: usize,
}

impl Scale {
    fn from_env() -> Scale {
        match std::env::var("STORAGE_BENCH_SCALE").as_deref() {
            Ok("small") => Scale {
                operations: 200,
                clients: 16,
                list_objects: 1_000,
                lists: 5,
                value_bytes: 2048,
                watchers: 1_000,
            },
            _ => Scale {
                operations: 2_000,
                clients: 64,
                list_objects: 10_000,
                lists: 20,
                value_bytes: 2048,
                watchers: 10_000,
            },
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("build the tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    let scale = Scale::from_env();
    let mut report = Report::new();
    let dir = tempfile::tempdir().expect("create temp dir");

    println!(
        "storage bench: {} operations, {} clients, list of {} objects, {}-byte values",
        scale.operations, scale.clients, scale.list_objects, scale.value_bytes
    );

    // The raw engine first, then the backend over it, so their rows sit together.
    raw::redb_workloads(&dir.path().join("raw.redb"), scale, &mut report);

    let embedded: Arc<dyn Backend> = Arc::new(
        EmbeddedBackend::open(&dir.path().join("embedded.redb"))
            .await
            .expect("open the embedded store"),
    );
    workloads::backend_workloads("embedded", embedded.clone(), scale, &mut report).await;
    cacher::cacher_workloads("embedded", embedded, scale, scale.watchers, &mut report).await;

    let etcd = tokio::task::spawn_blocking(EtcdServer::start)
        .await
        .expect("join etcd start")
        .expect("start etcd");
    raw::etcd_workloads(&etcd.endpoints(), scale, &mut report).await;
    let etcd_backend: Arc<dyn Backend> = Arc::new(
        Etcd3Backend::connect(&etcd.endpoints(), Etcd3Options::default())
            .await
            .expect("connect to etcd"),
    );
    workloads::backend_workloads("etcd3", etcd_backend.clone(), scale, &mut report).await;
    cacher::cacher_workloads("etcd3", etcd_backend, scale, scale.watchers, &mut report).await;

    report.print();
}
