//! The storage interface every backend implements.
//!
//! The semantics are etcd v3's, so that the embedded store and etcd behave the same.
//! One global revision increases by one per write, and each key has a create and a
//! mod revision. Creates succeed only for absent keys, and updates and deletes are
//! guarded by the expected mod revision. Lists take a limit and a start key and read
//! at one consistent revision. Watches start from a revision and carry the previous
//! value of each change. After a compaction, reads and watches at older revisions
//! fail with [`Error::Compacted`].
//!
//! Keys are plain strings such as `/registry/pods/default/nginx`. A prefix passed to
//! [`Backend::list`], [`Backend::count`] or [`Backend::watch`] selects every key that
//! starts with it, so callers end directory prefixes with `/`.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::mpsc;

/// Maximum size of one stored value in bytes: 1.5 MiB, etcd's default
/// `--max-request-bytes`. Larger values are rejected with [`Error::ValueTooLarge`].
pub const MAX_VALUE_BYTES: usize = 1536 * 1024;

/// A stored key with its value and revisions.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Bytes,
    /// Revision of the write that created this key (the start of its current life).
    pub create_revision: i64,
    /// Revision of the last write to this key; the `resourceVersion` of the object.
    pub mod_revision: i64,
}

impl fmt::Debug for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyValue")
            .field("key", &self.key)
            .field("value_bytes", &self.value.len())
            .field("create_revision", &self.create_revision)
            .field("mod_revision", &self.mod_revision)
            .finish()
    }
}

/// Kind of change a watch event reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// The key did not exist before this write.
    Created,
    /// The key existed and was overwritten.
    Modified,
    /// The key was removed.
    Deleted,
}

/// One change to one key, as a watch delivers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub event_type: EventType,
    /// The key after the change. For [`EventType::Deleted`] the value is empty and
    /// `mod_revision` is the revision of the delete.
    pub kv: KeyValue,
    /// The key before the change; `None` for [`EventType::Created`].
    pub prev_kv: Option<KeyValue>,
}

impl Event {
    /// Returns the revision of the write this event reports.
    pub fn revision(&self) -> i64 {
        self.kv.mod_revision
    }
}

/// Message of a watch stream: a change, or a progress notification saying that every
/// change up to `revision` has been delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchMessage {
    Event(Event),
    Progress { revision: i64 },
}

/// A stream of watch messages. It ends with `Some(Err(..))` when the watch cannot go
/// on (for example [`Error::Compacted`] when the backend fell behind a compaction),
/// and with `None` when the backend closed it.
pub struct WatchStream {
    receiver: mpsc::Receiver<Result<WatchMessage, Error>>,
}

impl WatchStream {
    /// Creates a stream from the receiving end of a channel a backend feeds.
    pub fn new(receiver: mpsc::Receiver<Result<WatchMessage, Error>>) -> Self {
        WatchStream { receiver }
    }

    /// Receives the next message, or `None` once the stream is closed.
    pub async fn next(&mut self) -> Option<Result<WatchMessage, Error>> {
        self.receiver.recv().await
    }

    /// Receives the next message unless none arrives within `timeout`.
    pub async fn next_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<Result<WatchMessage, Error>>, tokio::time::error::Elapsed> {
        tokio::time::timeout(timeout, self.receiver.recv()).await
    }
}

/// Arguments of [`Backend::list`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Only keys starting with this prefix are returned.
    pub prefix: String,
    /// First key to return (inclusive); must start with `prefix`. Empty starts at the
    /// prefix itself. Continue tokens resume from the key after the last one returned.
    pub start_key: String,
    /// Maximum number of items; 0 means no limit.
    pub limit: usize,
    /// Revision to read at; 0 reads the latest. Older revisions must not be compacted.
    pub revision: i64,
}

/// Result of [`Backend::list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListResult {
    /// Items in key order.
    pub items: Vec<KeyValue>,
    /// Revision the list was read at. With `ListOptions::revision == 0` this is the
    /// store's current revision when the read happened.
    pub revision: i64,
    /// Whether keys past the last item remain under the prefix.
    pub more: bool,
    /// Number of keys past the last item; 0 when `more` is false.
    pub remaining: i64,
}

/// Errors of the storage layer. The apiserver maps them to Status errors.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// The key does not exist (404).
    #[error("key not found: {key}")]
    NotFound { key: String },

    /// A create found the key already present (409 AlreadyExists).
    #[error("key already exists: {key}")]
    KeyExists { key: String },

    /// The expected mod revision did not match the stored one (409 Conflict).
    /// `current_revision` is the key's mod revision now, 0 when it is gone.
    #[error("conflict on {key}: expected mod revision {expected}, current {current_revision}")]
    Conflict {
        key: String,
        expected: i64,
        current_revision: i64,
    },

    /// The requested revision has been compacted (410 Gone).
    #[error("revision {requested} is compacted; oldest available is {compacted}")]
    Compacted { requested: i64, compacted: i64 },

    /// The requested revision is newer than the store's current one.
    #[error("revision {requested} is in the future; current revision is {current}")]
    FutureRevision { requested: i64, current: i64 },

    /// A value exceeded [`MAX_VALUE_BYTES`] (413).
    #[error("value for {key} is {size} bytes, over the limit of {limit} bytes")]
    ValueTooLarge {
        key: String,
        size: usize,
        limit: usize,
    },

    /// The request itself is invalid (bad key, start key outside the prefix, ...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// The backend cannot be reached or is not ready; the request may be retried (503).
    #[error("storage unavailable: {0}")]
    Unavailable(String),

    /// The backend did not respond in time (504).
    #[error("storage request timed out: {0}")]
    Timeout(String),

    /// An unexpected failure inside the backend (500).
    #[error("storage internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Returns the HTTP status code the apiserver returns for this error.
    /// [`Error::FutureRevision`] is 504, as upstream returns for "Too large resource version".
    pub fn http_status(&self) -> u16 {
        match self {
            Error::NotFound { .. } => 404,
            Error::KeyExists { .. } | Error::Conflict { .. } => 409,
            Error::Compacted { .. } => 410,
            Error::ValueTooLarge { .. } => 413,
            Error::InvalidRequest(_) => 400,
            Error::Unavailable(_) => 503,
            Error::FutureRevision { .. } | Error::Timeout(_) => 504,
            Error::Internal(_) => 500,
        }
    }
}

/// A storage backend with etcd v3 semantics. Every method is safe to call
/// concurrently. Write methods return only after the write is durable.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Returns the key, or `None` when it does not exist.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, Error>;

    /// Lists keys under `options.prefix` in key order at one consistent revision.
    /// Fails with [`Error::Compacted`] when `options.revision` is older than the last
    /// compaction and with [`Error::FutureRevision`] when it is newer than the store.
    async fn list(&self, options: ListOptions) -> Result<ListResult, Error>;

    /// Counts the keys under `prefix` at the latest revision.
    async fn count(&self, prefix: &str) -> Result<i64, Error>;

    /// Creates the key; fails with [`Error::KeyExists`] if it exists. Returns the
    /// stored key with its new revisions.
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, Error>;

    /// Overwrites the key if its mod revision equals `expected_mod_revision`.
    /// Fails with [`Error::NotFound`] when the key is gone and with [`Error::Conflict`]
    /// when it was changed in between.
    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected_mod_revision: i64,
    ) -> Result<KeyValue, Error>;

    /// Deletes the key, if given only when its mod revision equals
    /// `expected_mod_revision`. Returns the deleted key as it was and the revision
    /// of the delete.
    async fn delete(
        &self,
        key: &str,
        expected_mod_revision: Option<i64>,
    ) -> Result<(KeyValue, i64), Error>;

    /// Watches keys under `prefix`, delivering every change with a revision greater
    /// than `after_revision` in revision order, each with its previous value. With
    /// `after_revision == 0` only changes after the call are delivered. Fails with
    /// [`Error::Compacted`] when changes after `after_revision` are no longer kept.
    async fn watch(&self, prefix: &str, after_revision: i64) -> Result<WatchStream, Error>;

    /// Discards history at and below `revision`: afterwards reads and watches at
    /// older revisions fail with [`Error::Compacted`]. Current values stay.
    async fn compact(&self, revision: i64) -> Result<(), Error>;

    /// Returns the store's current revision (the revision of the last write).
    async fn current_revision(&self) -> Result<i64, Error>;

    /// Returns the oldest revision that reads and watches can still start after.
    async fn compacted_revision(&self) -> Result<i64, Error>;
}

/// Checks a value against [`MAX_VALUE_BYTES`].
pub fn check_value_size(key: &str, value: &[u8]) -> Result<(), Error> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(Error::ValueTooLarge {
            key: key.to_string(),
            size: value.len(),
            limit: MAX_VALUE_BYTES,
        });
    }
    Ok(())
}

/// Returns the smallest key greater than every key starting with `prefix`, the end of
/// the half-open range `[prefix, end)`. Empty means no upper bound.
pub fn prefix_range_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_range_end_increments_last_byte() {
        assert_eq!(
            prefix_range_end("/registry/pods/"),
            b"/registry/pods0".to_vec()
        );
        assert_eq!(prefix_range_end("a"), b"b".to_vec());
        assert_eq!(prefix_range_end(""), Vec::<u8>::new());
    }

    #[test]
    fn check_value_size_rejects_over_limit() {
        assert!(check_value_size("k", &vec![0; MAX_VALUE_BYTES]).is_ok());
        let error = check_value_size("k", &vec![0; MAX_VALUE_BYTES + 1]).unwrap_err();
        assert!(matches!(error, Error::ValueTooLarge { size, .. } if size == MAX_VALUE_BYTES + 1));
    }
}
