//! The embedded storage backend, the default when no `--etcd-servers` is given.
//!
//! One redb file holds three tables: `kv` (each key's current value and revisions),
//! `log` (every write by revision, with the previous value, for watches and for reads
//! at older revisions) and `meta` (the current and the compacted revision). Writes go
//! through one writer thread that commits in groups with an fsync before it answers
//! (see [`writer`]), so an acknowledged write survives kill -9 and power loss.
//!
//! Enter through [`EmbeddedBackend::open`]. redb was chosen over SQLite by measurement;
//! docs/benchmarks.md records the figures.

mod codec;
mod read;
mod watch;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::thread::JoinHandle;

use async_trait::async_trait;
use bytes::Bytes;
use redb::{Database, TableDefinition};
use tokio::sync::{broadcast, oneshot};

use crate::interface::{
    Backend, Error, Event, KeyValue, ListOptions, ListResult, WatchStream, check_value_size,
};
use writer::{WriteOp, WriteOutcome, WriteRequest};

pub(crate) const KV_TABLE: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
pub(crate) const LOG_TABLE: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
pub(crate) const META_TABLE: TableDefinition<&str, i64> = TableDefinition::new("meta");
pub(crate) const META_REVISION: &str = "revision";
pub(crate) const META_COMPACTED: &str = "compacted";

/// Default size of redb's page cache: [`EmbeddedOptions::cache_size_bytes`]. In the
/// API server's benchmark with 100,000 pods, 8 MiB kept 833 bytes per stored pod
/// beyond its JSON against 1,155 with 32 MiB, at the same create, get and update
/// rates and latencies.
pub const DEFAULT_CACHE_SIZE_BYTES: usize = 8 << 20;

/// Tuning of an [`EmbeddedBackend`]; the defaults suit an apiserver.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// Number of committed batches a watch may fall behind before it catches up from
    /// the log on disk instead of from memory.
    pub event_buffer_batches: usize,
    /// Capacity of each watch's channel to its consumer, in messages.
    pub watch_channel_capacity: usize,
    /// Memory redb may use for its page cache, read and write buffers together, in
    /// bytes. redb's own default is 1 GiB, which duplicates what the API server's
    /// watch cache already keeps; pages beyond the cache are read from the file,
    /// usually from the kernel's page cache.
    pub cache_size_bytes: usize,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            event_buffer_batches: 4096,
            watch_channel_capacity: 1024,
            cache_size_bytes: DEFAULT_CACHE_SIZE_BYTES,
        }
    }
}

/// State shared by the writer thread, readers and watchers.
pub(crate) struct Shared {
    pub options: EmbeddedOptions,
    /// Revision of the last committed write.
    pub revision: AtomicI64,
    /// Revision of the last compaction; history at or below it is gone.
    pub compacted: AtomicI64,
    /// Events of each committed batch, in revision order.
    pub events: broadcast::Sender<Arc<Vec<Event>>>,
}

/// The embedded backend: a durable single-file store with etcd v3 semantics.
pub struct EmbeddedBackend {
    db: Arc<Database>,
    shared: Arc<Shared>,
    path: PathBuf,
    writer: Mutex<Option<std_mpsc::Sender<WriteRequest>>>,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
}

impl EmbeddedBackend {
    /// Opens the store at `path`, creating the file and its parent directory if
    /// missing. Fails with [`Error::Internal`] when the file is corrupt or already open
    /// by another process.
    pub async fn open(path: &Path) -> Result<EmbeddedBackend, Error> {
        Self::open_with_options(path, EmbeddedOptions::default()).await
    }

    /// Opens the store at `path` as [`EmbeddedBackend::open`] does, with `options`.
    pub async fn open_with_options(
        path: &Path,
        options: EmbeddedOptions,
    ) -> Result<EmbeddedBackend, Error> {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(path, options))
            .await
            .map_err(internal)?
    }

    fn open_blocking(path: PathBuf, options: EmbeddedOptions) -> Result<EmbeddedBackend, Error> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|error| {
                Error::Internal(format!(
                    "failed to create directory {}: {error}",
                    parent.display()
                ))
            })?;
        }
        let db = Database::builder()
            .set_cache_size(options.cache_size_bytes)
            .create(&path)
            .map_err(|error| {
                Error::Internal(format!(
                    "failed to open embedded store {}: {error}",
                    path.display()
                ))
            })?;

        // Create the tables so that read transactions find them.
        let txn = db.begin_write().map_err(internal)?;
        txn.open_table(KV_TABLE).map_err(internal)?;
        txn.open_table(LOG_TABLE).map_err(internal)?;
        txn.open_table(META_TABLE).map_err(internal)?;
        let (revision, compacted) = writer::read_meta(&txn)?;
        txn.commit().map_err(internal)?;

        let (events, _) = broadcast::channel(options.event_buffer_batches.max(1));
        let shared = Arc::new(Shared {
            options,
            revision: AtomicI64::new(revision),
            compacted: AtomicI64::new(compacted),
            events,
        });
        let db = Arc::new(db);

        let (sender, receiver) = std_mpsc::channel();
        let writer_db = db.clone();
        let writer_shared = shared.clone();
        let writer_thread = std::thread::Builder::new()
            .name("embedded-store-writer".into())
            .spawn(move || writer::run(writer_db, writer_shared, receiver))
            .map_err(|error| {
                Error::Internal(format!("failed to start the writer thread: {error}"))
            })?;

        tracing::info!(path = %path.display(), revision, compacted, "opened embedded store");
        Ok(EmbeddedBackend {
            db,
            shared,
            path,
            writer: Mutex::new(Some(sender)),
            writer_thread: Mutex::new(Some(writer_thread)),
        })
    }

    /// Returns the path of the store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the writer after the writes already queued and waits for it, so that the
    /// file can be opened again in this process once every clone of the backend's
    /// handles is gone. Later writes fail with [`Error::Unavailable`].
    pub async fn close(&self) {
        let sender = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(sender);
        let thread = self
            .writer_thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }

    async fn submit(&self, op: WriteOp) -> Result<WriteOutcome, Error> {
        let (reply, response) = oneshot::channel();
        {
            let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            let Some(writer) = writer.as_ref() else {
                return Err(Error::Unavailable("embedded store is closed".into()));
            };
            writer
                .send(WriteRequest { op, reply })
                .map_err(|_| Error::Unavailable("embedded store writer stopped".into()))?;
        }
        response
            .await
            .map_err(|_| Error::Unavailable("embedded store writer stopped".into()))?
    }

    async fn read<T, F>(&self, read: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, Error> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || read(&db))
            .await
            .map_err(internal)?
    }
}

impl Drop for EmbeddedBackend {
    fn drop(&mut self) {
        // Dropping the sender stops the writer thread once its queue is drained.
        if let Ok(mut writer) = self.writer.lock() {
            writer.take();
        }
    }
}

#[async_trait]
impl Backend for EmbeddedBackend {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, Error> {
        // A point read touches a few cached pages; it runs inline because a trip
        // through the blocking pool costs more than the read (25 µs against 1 µs).
        read::get(&self.db, key)
    }

    async fn list(&self, options: ListOptions) -> Result<ListResult, Error> {
        self.read(move |db| read::list(db, &options)).await
    }

    async fn count(&self, prefix: &str) -> Result<i64, Error> {
        let prefix = prefix.to_string();
        self.read(move |db| read::count(db, &prefix)).await
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, Error> {
        check_key(key)?;
        check_value_size(key, &value)?;
        match self
            .submit(WriteOp::Create {
                key: key.to_string(),
                value,
            })
            .await?
        {
            WriteOutcome::Stored(kv) => Ok(kv),
            _ => Err(Error::Internal("unexpected outcome of create".into())),
        }
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected_mod_revision: i64,
    ) -> Result<KeyValue, Error> {
        check_key(key)?;
        check_value_size(key, &value)?;
        let op = WriteOp::Update {
            key: key.to_string(),
            value,
            expected_mod_revision,
        };
        match self.submit(op).await? {
            WriteOutcome::Stored(kv) => Ok(kv),
            _ => Err(Error::Internal("unexpected outcome of update".into())),
        }
    }

    async fn delete(
        &self,
        key: &str,
        expected_mod_revision: Option<i64>,
    ) -> Result<(KeyValue, i64), Error> {
        check_key(key)?;
        let op = WriteOp::Delete {
            key: key.to_string(),
            expected_mod_revision,
        };
        match self.submit(op).await? {
            WriteOutcome::Deleted(kv, revision) => Ok((kv, revision)),
            _ => Err(Error::Internal("unexpected outcome of delete".into())),
        }
    }

    async fn watch(&self, prefix: &str, after_revision: i64) -> Result<WatchStream, Error> {
        watch::start(
            Arc::downgrade(&self.db),
            self.shared.clone(),
            prefix.to_string(),
            after_revision,
        )
        .await
    }

    async fn compact(&self, revision: i64) -> Result<(), Error> {
        match self.submit(WriteOp::Compact { revision }).await? {
            WriteOutcome::Compacted => Ok(()),
            _ => Err(Error::Internal("unexpected outcome of compact".into())),
        }
    }

    async fn current_revision(&self) -> Result<i64, Error> {
        Ok(self.shared.revision.load(Ordering::SeqCst))
    }

    async fn compacted_revision(&self) -> Result<i64, Error> {
        Ok(self.shared.compacted.load(Ordering::SeqCst))
    }
}

fn check_key(key: &str) -> Result<(), Error> {
    if key.is_empty() {
        return Err(Error::InvalidRequest("key must not be empty".into()));
    }
    Ok(())
}

/// Wraps an engine failure as [`Error::Internal`].
pub(crate) fn internal<E: std::fmt::Display>(error: E) -> Error {
    Error::Internal(format!("embedded store: {error}"))
}
