//! Byte layouts of the embedded store's two tables.
//!
//! The `kv` table maps a key to its current [`Record`]; the `log` table maps a
//! revision to the [`LogEntry`] written at that revision. Integers are big-endian so
//! the layouts are stable across machines.

use bytes::Bytes;

use crate::interface::{Error, Event, EventType, KeyValue};

/// Current state of one key: its revisions and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub create_revision: i64,
    pub mod_revision: i64,
    pub value: Bytes,
}

impl Record {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.value.len());
        out.extend_from_slice(&self.create_revision.to_be_bytes());
        out.extend_from_slice(&self.mod_revision.to_be_bytes());
        out.extend_from_slice(&self.value);
        out
    }

    pub fn decode(key: &str, bytes: &[u8]) -> Result<Record, Error> {
        let mut reader = Reader::new(key, bytes);
        let create_revision = reader.i64()?;
        let mod_revision = reader.i64()?;
        let value = Bytes::copy_from_slice(reader.rest());
        Ok(Record {
            create_revision,
            mod_revision,
            value,
        })
    }

    pub fn into_key_value(self, key: &str) -> KeyValue {
        KeyValue {
            key: key.to_string(),
            value: self.value,
            create_revision: self.create_revision,
            mod_revision: self.mod_revision,
        }
    }
}

/// One write as the log keeps it: enough to replay it as a watch event and to undo it
/// when a list reads at an older revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LogEntry {
    pub event_type: EventType,
    pub key: String,
    /// The key's state after the write; `None` for a delete.
    pub record: Option<Record>,
    /// The key's state before the write; `None` for a create.
    pub prev: Option<Record>,
}

const TYPE_CREATED: u8 = 1;
const TYPE_MODIFIED: u8 = 2;
const TYPE_DELETED: u8 = 3;

impl LogEntry {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            64 + self.key.len()
                + self.record.as_ref().map_or(0, |r| r.value.len())
                + self.prev.as_ref().map_or(0, |r| r.value.len()),
        );
        out.push(match self.event_type {
            EventType::Created => TYPE_CREATED,
            EventType::Modified => TYPE_MODIFIED,
            EventType::Deleted => TYPE_DELETED,
        });
        put_bytes(&mut out, self.key.as_bytes());
        put_optional_record(&mut out, self.record.as_ref());
        put_optional_record(&mut out, self.prev.as_ref());
        out
    }

    pub fn decode(revision: u64, bytes: &[u8]) -> Result<LogEntry, Error> {
        let context = format!("log revision {revision}");
        let mut reader = Reader::new(&context, bytes);
        let event_type = match reader.u8()? {
            TYPE_CREATED => EventType::Created,
            TYPE_MODIFIED => EventType::Modified,
            TYPE_DELETED => EventType::Deleted,
            other => return Err(corrupt(&context, &format!("unknown event type {other}"))),
        };
        let key = String::from_utf8(reader.bytes()?.to_vec())
            .map_err(|_| corrupt(&context, "key is not UTF-8"))?;
        let record = reader.optional_record()?;
        let prev = reader.optional_record()?;
        Ok(LogEntry {
            event_type,
            key,
            record,
            prev,
        })
    }

    /// Converts the entry written at `revision` into the event a watch delivers.
    pub fn into_event(self, revision: i64) -> Event {
        let prev_kv = self.prev.map(|prev| prev.into_key_value(&self.key));
        let kv = match self.record {
            Some(record) => record.into_key_value(&self.key),
            // A delete event carries the key and the delete's revision only, as etcd's.
            None => KeyValue {
                key: self.key,
                value: Bytes::new(),
                create_revision: 0,
                mod_revision: revision,
            },
        };
        Event {
            event_type: self.event_type,
            kv,
            prev_kv,
        }
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Keys and values are bounded by MAX_VALUE_BYTES, far below u32::MAX.
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn put_optional_record(out: &mut Vec<u8>, record: Option<&Record>) {
    match record {
        None => out.push(0),
        Some(record) => {
            out.push(1);
            out.extend_from_slice(&record.create_revision.to_be_bytes());
            out.extend_from_slice(&record.mod_revision.to_be_bytes());
            put_bytes(out, &record.value);
        }
    }
}

fn corrupt(context: &str, detail: &str) -> Error {
    Error::Internal(format!(
        "corrupt embedded store record at {context}: {detail}"
    ))
}

/// Bounds-checked reader over one encoded record.
struct Reader<'a> {
    context: &'a str,
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(context: &'a str, bytes: &'a [u8]) -> Self {
        Reader { context, bytes }
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], Error> {
        if self.bytes.len() < count {
            return Err(corrupt(self.context, "record is truncated"));
        }
        let (head, tail) = self.bytes.split_at(count);
        self.bytes = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    fn i64(&mut self) -> Result<i64, Error> {
        let mut buffer = [0u8; 8];
        buffer.copy_from_slice(self.take(8)?);
        Ok(i64::from_be_bytes(buffer))
    }

    fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let mut buffer = [0u8; 4];
        buffer.copy_from_slice(self.take(4)?);
        let length = u32::from_be_bytes(buffer) as usize;
        self.take(length)
    }

    fn optional_record(&mut self) -> Result<Option<Record>, Error> {
        match self.u8()? {
            0 => Ok(None),
            1 => {
                let create_revision = self.i64()?;
                let mod_revision = self.i64()?;
                let value = Bytes::copy_from_slice(self.bytes()?);
                Ok(Some(Record {
                    create_revision,
                    mod_revision,
                    value,
                }))
            }
            other => Err(corrupt(self.context, &format!("bad presence flag {other}"))),
        }
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(create: i64, modified: i64, value: &str) -> Record {
        Record {
            create_revision: create,
            mod_revision: modified,
            value: Bytes::copy_from_slice(value.as_bytes()),
        }
    }

    #[test]
    fn record_round_trip() {
        let original = record(3, 7, "{\"kind\":\"Pod\"}");
        let decoded = Record::decode("k", &original.encode()).unwrap();
        assert_eq!(decoded, original);
    }

    #[test]
    fn log_entry_round_trip() {
        let cases = [
            LogEntry {
                event_type: EventType::Created,
                key: "/registry/pods/default/a".into(),
                record: Some(record(5, 5, "new")),
                prev: None,
            },
            LogEntry {
                event_type: EventType::Modified,
                key: "/registry/pods/default/a".into(),
                record: Some(record(5, 6, "newer")),
                prev: Some(record(5, 5, "new")),
            },
            LogEntry {
                event_type: EventType::Deleted,
                key: "/registry/pods/default/a".into(),
                record: None,
                prev: Some(record(5, 6, "newer")),
            },
        ];
        for (index, entry) in cases.into_iter().enumerate() {
            let decoded = LogEntry::decode(index as u64, &entry.encode()).unwrap();
            assert_eq!(decoded, entry, "case {index}");
        }
    }

    #[test]
    fn truncated_log_entry_is_an_error() {
        let entry = LogEntry {
            event_type: EventType::Created,
            key: "k".into(),
            record: Some(record(1, 1, "value")),
            prev: None,
        };
        let encoded = entry.encode();
        for cut in 0..encoded.len() {
            assert!(
                LogEntry::decode(1, &encoded[..cut]).is_err(),
                "cut at {cut} decoded"
            );
        }
    }

    #[test]
    fn delete_event_carries_delete_revision() {
        let entry = LogEntry {
            event_type: EventType::Deleted,
            key: "k".into(),
            record: None,
            prev: Some(record(1, 2, "old")),
        };
        let event = entry.into_event(9);
        assert_eq!(event.kv.mod_revision, 9);
        assert!(event.kv.value.is_empty());
        assert_eq!(event.prev_kv.unwrap().mod_revision, 2);
    }
}
