//! The single writer thread of the embedded store, with group commit.
//!
//! Every write goes through one OS thread. It takes the first queued request, then
//! every request already waiting behind it (up to [`MAX_BATCH`]), applies them in
//! order inside one redb write transaction, commits once with an fsync, and only then
//! answers each caller and publishes the events. Under concurrent load one fsync
//! covers many writes; a lone write pays one fsync as before.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc as std_mpsc;

use bytes::Bytes;
use redb::{Database, Durability, ReadableTable, WriteTransaction};
use tokio::sync::oneshot;

use super::codec::{LogEntry, Record};
use super::{KV_TABLE, LOG_TABLE, META_COMPACTED, META_REVISION, META_TABLE, Shared, internal};
use crate::interface::{Error, Event, EventType, KeyValue};

/// Maximum number of requests committed in one transaction.
const MAX_BATCH: usize = 512;

/// One write request.
pub(crate) enum WriteOp {
    Create {
        key: String,
        value: Bytes,
    },
    Update {
        key: String,
        value: Bytes,
        expected_mod_revision: i64,
    },
    Delete {
        key: String,
        expected_mod_revision: Option<i64>,
    },
    Compact {
        revision: i64,
    },
}

/// What a successful write returns to its caller.
pub(crate) enum WriteOutcome {
    Stored(KeyValue),
    Deleted(KeyValue, i64),
    Compacted,
}

pub(crate) struct WriteRequest {
    pub op: WriteOp,
    pub reply: oneshot::Sender<Result<WriteOutcome, Error>>,
}

/// Runs the writer loop until every sender of `requests` is dropped.
pub(crate) fn run(
    db: Arc<Database>,
    shared: Arc<Shared>,
    requests: std_mpsc::Receiver<WriteRequest>,
) {
    while let Ok(first) = requests.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match requests.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        commit_batch(&db, &shared, batch);
    }
    tracing::debug!("embedded store writer stopped");
}

fn commit_batch(db: &Database, shared: &Shared, batch: Vec<WriteRequest>) {
    let mut results = Vec::with_capacity(batch.len());
    let mut events = Vec::new();

    let committed = apply_batch(db, &batch, &mut results, &mut events);

    match committed {
        Ok(Some((revision, compacted))) => {
            shared.revision.store(revision, Ordering::SeqCst);
            shared.compacted.store(compacted, Ordering::SeqCst);
            if !events.is_empty() {
                // No receivers is fine: nobody watches yet.
                let _ = shared.events.send(Arc::new(events));
            }
            for (request, result) in batch.into_iter().zip(results) {
                let _ = request.reply.send(result);
            }
        }
        Ok(None) => {
            // Nothing changed: every request failed its own checks.
            for (request, result) in batch.into_iter().zip(results) {
                let _ = request.reply.send(result);
            }
        }
        Err(error) => {
            tracing::error!(error = %error, writes = batch.len(), "embedded store commit failed");
            for request in batch {
                let _ = request.reply.send(Err(error.clone()));
            }
        }
    }
}

/// Applies every request inside one transaction. Returns the new revision and
/// compacted revision when the transaction committed changes, `None` when nothing
/// changed, or the error that aborted the whole transaction.
fn apply_batch(
    db: &Database,
    batch: &[WriteRequest],
    results: &mut Vec<Result<WriteOutcome, Error>>,
    events: &mut Vec<Event>,
) -> Result<Option<(i64, i64)>, Error> {
    let mut txn = db.begin_write().map_err(internal)?;
    txn.set_durability(Durability::Immediate)
        .map_err(internal)?;

    let (start_revision, start_compacted) = read_meta(&txn)?;
    let mut revision = start_revision;
    let mut compacted = start_compacted;

    for request in batch {
        let result = apply_one(&txn, &request.op, &mut revision, &mut compacted, events);
        match result {
            Ok(outcome) => results.push(Ok(outcome)),
            Err(Fatal(error)) => return Err(error),
            Err(Rejected(error)) => results.push(Err(error)),
        }
    }

    if revision == start_revision && compacted == start_compacted {
        txn.abort().map_err(internal)?;
        return Ok(None);
    }

    {
        let mut meta = txn.open_table(META_TABLE).map_err(internal)?;
        meta.insert(META_REVISION, revision).map_err(internal)?;
        meta.insert(META_COMPACTED, compacted).map_err(internal)?;
    }
    txn.commit().map_err(internal)?;
    Ok(Some((revision, compacted)))
}

/// Why one request did not succeed: `Rejected` fails that request alone, `Fatal`
/// aborts the transaction for the whole batch.
enum Failure {
    Rejected(Error),
    Fatal(Error),
}
use Failure::{Fatal, Rejected};

fn fatal<E: std::fmt::Display>(error: E) -> Failure {
    Fatal(internal(error))
}

pub(crate) fn read_meta(txn: &WriteTransaction) -> Result<(i64, i64), Error> {
    let meta = txn.open_table(META_TABLE).map_err(internal)?;
    let revision = meta
        .get(META_REVISION)
        .map_err(internal)?
        .map_or(0, |v| v.value());
    let compacted = meta
        .get(META_COMPACTED)
        .map_err(internal)?
        .map_or(0, |v| v.value());
    Ok((revision, compacted))
}

fn apply_one(
    txn: &WriteTransaction,
    op: &WriteOp,
    revision: &mut i64,
    compacted: &mut i64,
    events: &mut Vec<Event>,
) -> Result<WriteOutcome, Failure> {
    match op {
        WriteOp::Create { key, value } => {
            let current = read_record(txn, key)?;
            if current.is_some() {
                return Err(Rejected(Error::KeyExists { key: key.clone() }));
            }
            let next = *revision + 1;
            let record = Record {
                create_revision: next,
                mod_revision: next,
                value: value.clone(),
            };
            write(
                txn,
                next,
                key,
                EventType::Created,
                Some(record.clone()),
                None,
                events,
            )?;
            *revision = next;
            Ok(WriteOutcome::Stored(record.into_key_value(key)))
        }

        WriteOp::Update {
            key,
            value,
            expected_mod_revision,
        } => {
            let Some(current) = read_record(txn, key)? else {
                return Err(Rejected(Error::NotFound { key: key.clone() }));
            };
            if current.mod_revision != *expected_mod_revision {
                return Err(Rejected(Error::Conflict {
                    key: key.clone(),
                    expected: *expected_mod_revision,
                    current_revision: current.mod_revision,
                }));
            }
            let next = *revision + 1;
            let record = Record {
                create_revision: current.create_revision,
                mod_revision: next,
                value: value.clone(),
            };
            write(
                txn,
                next,
                key,
                EventType::Modified,
                Some(record.clone()),
                Some(current),
                events,
            )?;
            *revision = next;
            Ok(WriteOutcome::Stored(record.into_key_value(key)))
        }

        WriteOp::Delete {
            key,
            expected_mod_revision,
        } => {
            let Some(current) = read_record(txn, key)? else {
                return Err(Rejected(Error::NotFound { key: key.clone() }));
            };
            if let Some(expected) = expected_mod_revision
                && current.mod_revision != *expected
            {
                return Err(Rejected(Error::Conflict {
                    key: key.clone(),
                    expected: *expected,
                    current_revision: current.mod_revision,
                }));
            }
            let next = *revision + 1;
            write(
                txn,
                next,
                key,
                EventType::Deleted,
                None,
                Some(current.clone()),
                events,
            )?;
            *revision = next;
            Ok(WriteOutcome::Deleted(current.into_key_value(key), next))
        }

        WriteOp::Compact { revision: target } => {
            if *target > *revision {
                return Err(Rejected(Error::FutureRevision {
                    requested: *target,
                    current: *revision,
                }));
            }
            if *target <= *compacted {
                return Err(Rejected(Error::Compacted {
                    requested: *target,
                    compacted: *compacted,
                }));
            }
            let mut log = txn.open_table(LOG_TABLE).map_err(fatal)?;
            log.retain_in(..=(*target as u64), |_, _| false)
                .map_err(fatal)?;
            *compacted = *target;
            Ok(WriteOutcome::Compacted)
        }
    }
}

fn read_record(txn: &WriteTransaction, key: &str) -> Result<Option<Record>, Failure> {
    let kv = txn.open_table(KV_TABLE).map_err(fatal)?;
    let found = kv.get(key).map_err(fatal)?;
    match found {
        None => Ok(None),
        Some(bytes) => Record::decode(key, bytes.value()).map(Some).map_err(Fatal),
    }
}

/// Stores the key's new state and the log entry at `revision`, and queues the event.
fn write(
    txn: &WriteTransaction,
    revision: i64,
    key: &str,
    event_type: EventType,
    record: Option<Record>,
    prev: Option<Record>,
    events: &mut Vec<Event>,
) -> Result<(), Failure> {
    {
        let mut kv = txn.open_table(KV_TABLE).map_err(fatal)?;
        match &record {
            Some(record) => {
                kv.insert(key, record.encode().as_slice()).map_err(fatal)?;
            }
            None => {
                kv.remove(key).map_err(fatal)?;
            }
        }
    }

    let entry = LogEntry {
        event_type,
        key: key.to_string(),
        record,
        prev,
    };
    {
        let mut log = txn.open_table(LOG_TABLE).map_err(fatal)?;
        log.insert(revision as u64, entry.encode().as_slice())
            .map_err(fatal)?;
    }
    events.push(entry.into_event(revision));
    Ok(())
}
