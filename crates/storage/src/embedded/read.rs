//! Reads of the embedded store, each inside one redb read transaction so that it
//! reads at one consistent revision.
//!
//! A list at an older revision starts from the current values and undoes the writes
//! made after that revision, using the previous value each log entry keeps.

use std::collections::BTreeMap;
use std::ops::Bound;

use redb::{Database, ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable};

use super::codec::{LogEntry, Record};
use super::{KV_TABLE, LOG_TABLE, META_COMPACTED, META_REVISION, META_TABLE, internal};
use crate::interface::{Error, Event, KeyValue, ListOptions, ListResult, prefix_range_end};

pub(crate) fn get(db: &Database, key: &str) -> Result<Option<KeyValue>, Error> {
    let txn = db.begin_read().map_err(internal)?;
    let kv = txn.open_table(KV_TABLE).map_err(internal)?;
    let found = kv.get(key).map_err(internal)?;
    match found {
        None => Ok(None),
        Some(bytes) => Ok(Some(
            Record::decode(key, bytes.value())?.into_key_value(key),
        )),
    }
}

pub(crate) fn count(db: &Database, prefix: &str) -> Result<i64, Error> {
    let txn = db.begin_read().map_err(internal)?;
    let kv = txn.open_table(KV_TABLE).map_err(internal)?;
    let end = prefix_range_end(prefix);
    let mut count = 0;
    for entry in kv.range(key_bounds(prefix, &end)).map_err(internal)? {
        let (key, _) = entry.map_err(internal)?;
        if !key.value().starts_with(prefix) {
            break;
        }
        count += 1;
    }
    Ok(count)
}

/// Revisions read from the meta table.
pub(crate) struct Meta {
    pub revision: i64,
    pub compacted: i64,
}

pub(crate) fn read_meta(txn: &ReadTransaction) -> Result<Meta, Error> {
    let meta = txn.open_table(META_TABLE).map_err(internal)?;
    let revision = meta
        .get(META_REVISION)
        .map_err(internal)?
        .map_or(0, |v| v.value());
    let compacted = meta
        .get(META_COMPACTED)
        .map_err(internal)?
        .map_or(0, |v| v.value());
    Ok(Meta {
        revision,
        compacted,
    })
}

pub(crate) fn list(db: &Database, options: &ListOptions) -> Result<ListResult, Error> {
    if !options.start_key.is_empty() && !options.start_key.starts_with(&options.prefix) {
        return Err(Error::InvalidRequest(format!(
            "start key {:?} is outside the prefix {:?}",
            options.start_key, options.prefix
        )));
    }

    let txn = db.begin_read().map_err(internal)?;
    let meta = read_meta(&txn)?;
    let revision = match options.revision {
        0 => meta.revision,
        requested if requested > meta.revision => {
            return Err(Error::FutureRevision {
                requested,
                current: meta.revision,
            });
        }
        requested if requested < meta.compacted => {
            return Err(Error::Compacted {
                requested,
                compacted: meta.compacted,
            });
        }
        requested => requested,
    };

    let start = if options.start_key.is_empty() {
        options.prefix.as_str()
    } else {
        options.start_key.as_str()
    };
    let end = prefix_range_end(&options.prefix);
    let kv = txn.open_table(KV_TABLE).map_err(internal)?;

    // State at `revision` of every key written after it: the previous value of the
    // first later write. `None` means the key did not exist at `revision`.
    let overlay = if revision < meta.revision {
        undo_overlay(&txn, revision, &options.prefix, start, &end)?
    } else {
        BTreeMap::new()
    };

    let limit = if options.limit == 0 {
        usize::MAX
    } else {
        options.limit
    };
    let mut items = Vec::new();
    let mut remaining: i64 = 0;
    let mut keep = |key: &str, record: Record| {
        if items.len() < limit {
            items.push(record.into_key_value(key));
        } else {
            remaining += 1;
        }
    };

    let mut overlay_iter = overlay.into_iter().peekable();
    for entry in kv.range(key_bounds(start, &end)).map_err(internal)? {
        let (key, value) = entry.map_err(internal)?;
        let key = key.value();
        if !key.starts_with(&options.prefix) {
            break;
        }

        // Keys that exist only in the past come before this one in key order.
        while let Some((past_key, _)) = overlay_iter.peek() {
            if past_key.as_str() >= key {
                break;
            }
            let (past_key, past) = overlay_iter.next().expect("peeked");
            if let Some(past) = past {
                keep(&past_key, past);
            }
        }

        match overlay_iter.peek() {
            Some((past_key, _)) if past_key == key => {
                let (past_key, past) = overlay_iter.next().expect("peeked");
                if let Some(past) = past {
                    keep(&past_key, past);
                }
            }
            _ => keep(key, Record::decode(key, value.value())?),
        }
    }
    for (past_key, past) in overlay_iter {
        if let Some(past) = past {
            keep(&past_key, past);
        }
    }

    Ok(ListResult {
        items,
        revision,
        more: remaining > 0,
        remaining,
    })
}

/// Collects, for every key in `[start, end)` written after `revision`, its state at
/// `revision`.
fn undo_overlay(
    txn: &ReadTransaction,
    revision: i64,
    prefix: &str,
    start: &str,
    end: &[u8],
) -> Result<BTreeMap<String, Option<Record>>, Error> {
    let log = txn.open_table(LOG_TABLE).map_err(internal)?;
    let mut overlay = BTreeMap::new();
    for entry in log.range((revision as u64 + 1)..).map_err(internal)? {
        let (entry_revision, bytes) = entry.map_err(internal)?;
        let entry = LogEntry::decode(entry_revision.value(), bytes.value())?;
        let in_range = entry.key.as_str() >= start
            && entry.key.starts_with(prefix)
            && (end.is_empty() || entry.key.as_bytes() < end);
        if in_range && !overlay.contains_key(&entry.key) {
            overlay.insert(entry.key, entry.prev);
        }
    }
    Ok(overlay)
}

/// Reads the events under `prefix` with revisions in `(after, upto]` from the log.
/// Fails with [`Error::Compacted`] when part of that range was compacted.
pub(crate) fn events_between(
    db: &Database,
    prefix: &str,
    after: i64,
    upto: Option<i64>,
) -> Result<(Vec<Event>, i64), Error> {
    let txn = db.begin_read().map_err(internal)?;
    let meta = read_meta(&txn)?;
    if after < meta.compacted {
        return Err(Error::Compacted {
            requested: after,
            compacted: meta.compacted,
        });
    }
    let upto = upto.unwrap_or(meta.revision).min(meta.revision);
    let log: ReadOnlyTable<u64, &[u8]> = txn.open_table(LOG_TABLE).map_err(internal)?;
    let mut events = Vec::new();
    if upto > after {
        for entry in log
            .range((after as u64 + 1)..=(upto as u64))
            .map_err(internal)?
        {
            let (entry_revision, bytes) = entry.map_err(internal)?;
            let entry_revision = entry_revision.value();
            let entry = LogEntry::decode(entry_revision, bytes.value())?;
            if entry.key.starts_with(prefix) {
                events.push(entry.into_event(entry_revision as i64));
            }
        }
    }
    Ok((events, upto))
}

fn key_bounds<'a>(start: &'a str, end: &'a [u8]) -> (Bound<&'a str>, Bound<&'a str>) {
    // redb compares `&str` keys bytewise. An end that is not valid UTF-8 (the prefix
    // ended in a multi-byte character) becomes unbounded, and callers stop at the first
    // key outside the prefix.
    let upper = match std::str::from_utf8(end) {
        Ok(end) if !end.is_empty() => Bound::Excluded(end),
        _ => Bound::Unbounded,
    };
    (Bound::Included(start), upper)
}
