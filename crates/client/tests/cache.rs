//! Property tests for the cache stores: indices always equal a rebuild from scratch,
//! and the DeltaFIFO hands out each key's deltas in arrival order without repeated
//! deletions.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use client::cache::{
    Delta, DeltaFIFO, DeltaFIFOOptions, DeltaType, Deltas, IndexFunc, Indexer, Indexers,
    KeyListerGetter, NAMESPACE_INDEX, Object, ObjectOrTombstone, PopError, Store,
    namespace_indexers,
};
use proptest::prelude::*;
use serde_json::{Value, json};

const LABEL_INDEX: &str = "label";

fn object(namespace: &str, name: &str, labels: &[&str], resource_version: u64) -> Value {
    let labels: serde_json::Map<String, Value> = labels
        .iter()
        .map(|label| (label.to_string(), json!("true")))
        .collect();
    json!({"metadata": {
        "namespace": namespace,
        "name": name,
        "labels": labels,
        "resourceVersion": resource_version.to_string(),
    }})
}

/// Indexes an object by each of its label names: zero, one or many values.
fn label_index_func() -> IndexFunc<Value> {
    Arc::new(|obj: &Value| {
        Ok(obj
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|labels| labels.keys().cloned().collect())
            .unwrap_or_default())
    })
}

fn indexer() -> Indexer<Value> {
    let mut indexers: Indexers<Value> = namespace_indexers();
    indexers.insert(LABEL_INDEX.to_string(), label_index_func());
    Indexer::new(client::cache::meta_namespace_key_func(), indexers)
}

fn arb_object() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["", "x", "y"]),
        prop::sample::select(vec!["a", "b", "c", "d"]),
        prop::sample::subsequence(vec!["l1", "l2", "l3"], 0..=3),
        0u64..1000,
    )
        .prop_map(|(namespace, name, labels, rv)| object(namespace, name, &labels, rv))
}

#[derive(Debug, Clone)]
enum IndexerOp {
    Add(Value),
    Update(Value),
    Delete(Value),
    Replace(Vec<Value>),
}

fn arb_indexer_op() -> impl Strategy<Value = IndexerOp> {
    prop_oneof![
        3 => arb_object().prop_map(IndexerOp::Add),
        3 => arb_object().prop_map(IndexerOp::Update),
        2 => arb_object().prop_map(IndexerOp::Delete),
        1 => prop::collection::vec(arb_object(), 0..5).prop_map(IndexerOp::Replace),
    ]
}

/// Rebuilds index `name` from the indexer's current objects.
fn rebuilt_index(indexer: &Indexer<Value>, name: &str) -> BTreeMap<String, BTreeSet<String>> {
    let indexers = indexer.get_indexers();
    let mut index: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for obj in indexer.list() {
        let key = indexer.key_of(&obj).unwrap();
        for value in indexers[name](&obj).unwrap() {
            index.entry(value).or_default().insert(key.clone());
        }
    }
    index
}

/// Reads index `name` back through the public query methods.
fn current_index(indexer: &Indexer<Value>, name: &str) -> BTreeMap<String, BTreeSet<String>> {
    indexer
        .list_index_func_values(name)
        .into_iter()
        .map(|value| {
            let keys = indexer.index_keys(name, &value).unwrap();
            (value, keys.into_iter().collect())
        })
        .collect()
}

proptest! {
    #[test]
    fn indices_equal_rebuild(ops in prop::collection::vec(arb_indexer_op(), 0..40)) {
        let indexer = indexer();
        for op in ops {
            match op {
                IndexerOp::Add(obj) => indexer.add(obj).unwrap(),
                IndexerOp::Update(obj) => indexer.update(obj).unwrap(),
                IndexerOp::Delete(obj) => indexer.delete(obj.into()).unwrap(),
                IndexerOp::Replace(list) => indexer.replace(list, "1").unwrap(),
            }

            for name in [NAMESPACE_INDEX, LABEL_INDEX] {
                let current = current_index(&indexer, name);
                prop_assert_eq!(&current, &rebuilt_index(&indexer, name), "index {}", name);
                prop_assert!(current.values().all(|keys| !keys.is_empty()));
            }
        }
    }
}

#[derive(Debug, Clone)]
enum FifoOp {
    Add(&'static str),
    Update(&'static str),
    Delete(&'static str),
    Replace(Vec<&'static str>),
    Resync,
    Pop,
}

fn arb_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["a", "b", "c"])
}

fn arb_fifo_op() -> impl Strategy<Value = FifoOp> {
    prop_oneof![
        3 => arb_name().prop_map(FifoOp::Add),
        3 => arb_name().prop_map(FifoOp::Update),
        3 => arb_name().prop_map(FifoOp::Delete),
        1 => prop::collection::vec(arb_name(), 0..4).prop_map(FifoOp::Replace),
        1 => Just(FifoOp::Resync),
        2 => Just(FifoOp::Pop),
    ]
}

/// Applies popped deltas to the indexer as an informer does.
fn apply(indexer: &Indexer<Value>, deltas: &Deltas<Value>) {
    for delta in deltas.iter() {
        match (&delta.delta_type, &delta.object) {
            (DeltaType::Deleted, object) => indexer.delete(object.clone()).unwrap(),
            (_, ObjectOrTombstone::Object(obj)) => {
                if indexer.get(obj).unwrap().is_some() {
                    indexer.update(obj.clone()).unwrap();
                } else {
                    indexer.add(obj.clone()).unwrap();
                }
            }
            (_, ObjectOrTombstone::Tombstone(_)) => {
                panic!("only Deleted deltas carry tombstones: {delta:?}")
            }
        }
    }
}

fn resource_version(delta: &Delta<Value>) -> Option<u64> {
    match &delta.object {
        ObjectOrTombstone::Object(obj) => obj.resource_version().parse().ok(),
        ObjectOrTombstone::Tombstone(_) => None,
    }
}

/// The key and delta type each resource version was issued with.
type IssuedVersions = HashMap<u64, (String, DeltaType)>;

/// Runs `ops` against a DeltaFIFO whose known objects are an indexer fed by the pops,
/// then drains it. Returns every popped Deltas in pop order, and the delta type each
/// resource version was issued with.
fn run_fifo(ops: Vec<FifoOp>) -> (Vec<(String, Deltas<Value>)>, IssuedVersions) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let known = Arc::new(indexer());
    let fifo = DeltaFIFO::new(DeltaFIFOOptions {
        known_objects: Some(Arc::clone(&known) as Arc<dyn KeyListerGetter<Value>>),
        ..DeltaFIFOOptions::default()
    });

    let popped = Mutex::new(Vec::new());
    let pop = |fifo: &DeltaFIFO<Value>| -> Result<(), PopError> {
        let deltas = runtime.block_on(fifo.pop(|deltas, _| {
            apply(&known, deltas);
            Ok(())
        }))?;
        let key = fifo.key_of(&deltas.newest().unwrap().object).unwrap();
        popped.lock().unwrap().push((key, deltas));
        Ok(())
    };

    let mut issued = HashMap::new();
    let mut next_rv = 0u64;
    let mut issue = |name: &str, delta_type: DeltaType| {
        next_rv += 1;
        issued.insert(next_rv, (format!("ns/{name}"), delta_type));
        object("ns", name, &[], next_rv)
    };

    for op in ops {
        match op {
            FifoOp::Add(name) => fifo.add(issue(name, DeltaType::Added)).unwrap(),
            FifoOp::Update(name) => fifo.update(issue(name, DeltaType::Updated)).unwrap(),
            FifoOp::Delete(name) => fifo.delete(issue(name, DeltaType::Deleted).into()).unwrap(),
            FifoOp::Replace(names) => {
                let list = names
                    .iter()
                    .map(|name| issue(name, DeltaType::Replaced))
                    .collect();
                fifo.replace(list, "1").unwrap();
            }
            FifoOp::Resync => fifo.resync().unwrap(),
            FifoOp::Pop => {
                if !fifo.list_keys().is_empty() {
                    pop(&fifo).unwrap();
                }
            }
        }
    }

    fifo.close();
    while pop(&fifo).is_ok() {}
    assert!(fifo.list_keys().is_empty());

    (popped.into_inner().unwrap(), issued)
}

proptest! {
    #[test]
    fn fifo_pops_deltas_in_arrival_order(ops in prop::collection::vec(arb_fifo_op(), 0..40)) {
        let (popped, issued) = run_fifo(ops);
        let mut last_rv: HashMap<String, u64> = HashMap::new();

        for (key, deltas) in &popped {
            prop_assert!(!deltas.is_empty());
            for pair in deltas.windows(2) {
                prop_assert!(
                    !(pair[0].delta_type == DeltaType::Deleted && pair[1].delta_type == DeltaType::Deleted),
                    "consecutive deletions for {}: {:?}", key, deltas
                );
            }

            for delta in deltas.iter() {
                if let ObjectOrTombstone::Tombstone(tombstone) = &delta.object {
                    prop_assert_eq!(delta.delta_type, DeltaType::Deleted);
                    prop_assert_eq!(&tombstone.key, key);
                    continue;
                }
                let rv = resource_version(delta).unwrap();
                let (issued_key, issued_type) = &issued[&rv];
                prop_assert_eq!(issued_key, key);
                if delta.delta_type == DeltaType::Sync {
                    // A resync replays what the indexer holds, an older version.
                    continue;
                }
                prop_assert_eq!(*issued_type, delta.delta_type);
                let previous = last_rv.insert(key.clone(), rv).unwrap_or(0);
                prop_assert!(previous < rv, "{} came out of order: {} after {}", key, rv, previous);
            }
        }
    }
}
