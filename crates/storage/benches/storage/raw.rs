//! The raw engines under our backends, driven directly: redb with one durable
//! transaction per write, as the embedded backend commits.

use std::path::Path;
use std::time::{Duration, Instant};

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use crate::Scale;
use crate::report::Report;

const TABLE: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");

pub fn redb_workloads(path: &Path, scale: Scale, report: &mut Report) {
    let db = Database::create(path).expect("create the raw redb file");
    let value = vec![b'x'; scale.value_bytes];

    let mut samples = Vec::with_capacity(scale.operations);
    let started = Instant::now();
    for index in 0..scale.operations {
        let key = format!("/registry/pods/default/raw-{index:06}");
        let begin = Instant::now();
        put(&db, &key, &value);
        samples.push(begin.elapsed());
    }
    report.latencies(
        "raw redb",
        "put (durable, sequential)",
        samples,
        Some(started.elapsed()),
    );

    let mut samples = Vec::with_capacity(scale.operations);
    let started = Instant::now();
    for index in 0..scale.operations {
        let key = format!(
            "/registry/pods/default/raw-{:06}",
            (index * 7919) % scale.operations
        );
        let begin = Instant::now();
        let txn = db.begin_read().expect("begin read");
        let table = txn.open_table(TABLE).expect("open table");
        let found = table.get(key.as_str()).expect("get");
        assert!(found.is_some());
        samples.push(begin.elapsed());
    }
    report.latencies("raw redb", "get", samples, Some(started.elapsed()));

    // Fill to the list size in large transactions; only the scan is timed.
    let txn = db.begin_write().expect("begin write");
    {
        let mut table = txn.open_table(TABLE).expect("open table");
        for index in 0..scale.list_objects {
            let key = format!("/registry/pods/list/raw-{index:06}");
            table
                .insert(key.as_str(), value.as_slice())
                .expect("insert");
        }
    }
    txn.commit().expect("commit");

    let mut samples = Vec::with_capacity(scale.lists);
    for _ in 0..scale.lists {
        let begin = Instant::now();
        let txn = db.begin_read().expect("begin read");
        let table = txn.open_table(TABLE).expect("open table");
        let mut items: Vec<(String, Vec<u8>)> = Vec::with_capacity(scale.list_objects);
        for entry in table
            .range("/registry/pods/list/".."/registry/pods/list0")
            .expect("range")
        {
            let (key, value) = entry.expect("entry");
            items.push((key.value().to_string(), value.value().to_vec()));
        }
        assert_eq!(items.len(), scale.list_objects);
        samples.push(begin.elapsed());
    }
    let operation = format!("list {} objects", scale.list_objects);
    report.latencies("raw redb", &operation, samples, None);
}

fn put(db: &Database, key: &str, value: &[u8]) -> Duration {
    let begin = Instant::now();
    let mut txn = db.begin_write().expect("begin write");
    txn.set_durability(Durability::Immediate)
        .expect("set durability");
    {
        let mut table = txn.open_table(TABLE).expect("open table");
        table.insert(key, value).expect("insert");
    }
    txn.commit().expect("commit");
    begin.elapsed()
}

/// etcd driven straight through etcd-client: the floor under the etcd3 backend.
pub async fn etcd_workloads(endpoints: &[String], scale: Scale, report: &mut Report) {
    let client = etcd_client::Client::connect(endpoints, None)
        .await
        .expect("connect to etcd");
    // A list of thousands of pods is far over gRPC's 4 MiB default message limit.
    let mut client = client
        .kv_client()
        .max_decoding_message_size(usize::MAX >> 1);
    let value = vec![b'x'; scale.value_bytes];

    let mut samples = Vec::with_capacity(scale.operations);
    let started = Instant::now();
    for index in 0..scale.operations {
        let key = format!("/registry/pods/raw-etcd/pod-{index:06}");
        let begin = Instant::now();
        client.put(key, value.clone(), None).await.expect("put");
        samples.push(begin.elapsed());
    }
    report.latencies(
        "raw etcd",
        "put (sequential)",
        samples,
        Some(started.elapsed()),
    );

    let mut samples = Vec::with_capacity(scale.operations);
    let started = Instant::now();
    for index in 0..scale.operations {
        let key = format!(
            "/registry/pods/raw-etcd/pod-{:06}",
            (index * 7919) % scale.operations
        );
        let begin = Instant::now();
        let response = client.get(key, None).await.expect("get");
        assert_eq!(response.kvs().len(), 1);
        samples.push(begin.elapsed());
    }
    report.latencies("raw etcd", "get", samples, Some(started.elapsed()));

    let prefix = "/registry/pods/raw-etcd-list/";
    for index in 0..scale.list_objects {
        client
            .put(format!("{prefix}pod-{index:06}"), value.clone(), None)
            .await
            .expect("put");
    }
    let mut samples = Vec::with_capacity(scale.lists);
    for _ in 0..scale.lists {
        let begin = Instant::now();
        let response = client
            .get(prefix, Some(etcd_client::GetOptions::new().with_prefix()))
            .await
            .expect("range");
        assert_eq!(response.kvs().len(), scale.list_objects);
        samples.push(begin.elapsed());
    }
    let operation = format!("list {} objects", scale.list_objects);
    report.latencies("raw etcd", &operation, samples, None);
}
