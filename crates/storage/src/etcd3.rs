//! The etcd3 storage backend: [`Etcd3Backend`] implements [`Backend`] over etcd's v3
//! gRPC API with the etcd-client crate.
//!
//! Enter through [`Etcd3Backend::connect`] with the `--etcd-servers` URLs. The client
//! balances requests over every listed member and connects lazily, so the backend can
//! be created before etcd is up. Each call retries within its request timeout.
//!
//! Writes are single transactions guarded by compares on the key's create or mod
//! revision, so a precondition failure and the key's current state come back in one
//! round trip. Calls retry on connection failures; reads also retry on etcd's
//! transient errors, while a write whose outcome is unknown is not repeated.
//!
//! Watches run in a background task per [`WatchStream`]. When the connection to etcd
//! breaks, the task reconnects with jittered backoff and resumes after the last
//! revision it delivered, so the caller sees no gap and no duplicate; if that revision
//! has been compacted meanwhile, the stream ends with [`Error::Compacted`].
//!
//! etcd's "required revision has been compacted" error does not carry the compact
//! revision, so [`Etcd3Backend::compacted_revision`] finds it with range probes (see
//! there) and remembers the highest value seen.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use etcd_client::{
    Certificate, Client, CompactionOptions, Compare, CompareOp, ConnectOptions, DeleteOptions,
    GetOptions, Identity, KvClient, PutOptions, TlsOptions, Txn, TxnOp, TxnOpResponse, WatchClient,
    WatchOptions,
};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::interface::{
    Backend, Error, Event, EventType, KeyValue, ListOptions, ListResult, MAX_VALUE_BYTES,
    WatchMessage, WatchStream, check_value_size, prefix_range_end,
};

/// Capacity of the channel between a watch task and its [`WatchStream`], in messages.
const WATCH_CHANNEL_CAPACITY: usize = 1024;

/// Largest gRPC message the client accepts: 2 GiB - 1, etcd's own send limit. The
/// tonic default of 4 MiB is too small for large lists and watch batches.
const MAX_DECODING_MESSAGE_BYTES: usize = i32::MAX as usize;

/// Key read by requests that only need a response header or a revision check. The
/// requests count it and never return its value, so whether it exists does not matter.
const PROBE_KEY: &str = "/";

/// Settings of the etcd client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Etcd3Options {
    /// Maximum time to establish a TCP connection to one member.
    pub dial_timeout: Duration,
    /// Maximum time for one backend call, retries included. A call still running when
    /// it expires fails with [`Error::Timeout`].
    pub request_timeout: Duration,
    /// Interval of HTTP/2 keepalive pings, which detect a member that stopped responding.
    /// etcd closes connections that ping more often than its `--grpc-keepalive-min-time`
    /// (5 s by default), so shorter intervals break requests and watches.
    pub keepalive_interval: Duration,
    /// Time a keepalive ping may go unanswered before the connection is closed.
    pub keepalive_timeout: Duration,
    /// First delay before a broken watch reconnects. Later delays double.
    pub watch_retry_initial: Duration,
    /// Maximum delay between watch reconnect attempts.
    pub watch_retry_max: Duration,
    /// TLS settings for `https://` members; `None` for plain `http://` members.
    pub tls: Option<Etcd3Tls>,
}

/// The files for TLS to etcd, as kube-apiserver's `--etcd-cafile`, `--etcd-certfile`
/// and `--etcd-keyfile` name them. All are PEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Etcd3Tls {
    /// The CA bundle that verifies the members' serving certificates. System roots
    /// are never used, so it is required.
    pub ca_file: PathBuf,
    /// The client certificate and its private key, for members started with
    /// `--client-cert-auth`.
    pub client: Option<(PathBuf, PathBuf)>,
}

impl Etcd3Tls {
    /// Reads the files into the client's TLS settings.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] naming the file that cannot be read.
    fn load(&self) -> Result<TlsOptions, Error> {
        let read = |path: &Path, what: &str| {
            std::fs::read(path).map_err(|error| {
                Error::InvalidRequest(format!(
                    "failed to read the etcd {what} {}: {error}",
                    path.display()
                ))
            })
        };
        let ca = read(&self.ca_file, "CA file")?;
        let mut tls = TlsOptions::new().ca_certificate(Certificate::from_pem(ca));
        if let Some((cert_file, key_file)) = &self.client {
            let cert = read(cert_file, "client certificate")?;
            let key = read(key_file, "client key")?;
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        Ok(tls)
    }
}

impl Default for Etcd3Options {
    /// Dial timeout and keepalive follow the upstream apiserver's etcd3 client (20 s,
    /// 30 s, 10 s). The request timeout matches the apiserver's default
    /// `--request-timeout` of 60 s.
    fn default() -> Self {
        Etcd3Options {
            dial_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(60),
            keepalive_interval: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(10),
            watch_retry_initial: Duration::from_millis(100),
            watch_retry_max: Duration::from_secs(5),
            tls: None,
        }
    }
}

/// First delay between retries of a failed call.
const CALL_RETRY_INITIAL: Duration = Duration::from_millis(25);

/// Maximum delay between retries of a failed call.
const CALL_RETRY_MAX: Duration = Duration::from_millis(500);

/// A storage backend that stores keys in an etcd v3 cluster.
///
/// Cloning is cheap and shares the connections and the compacted-revision cache.
#[derive(Clone)]
pub struct Etcd3Backend {
    connection: Arc<Connection>,
}

/// State shared by the backend and its watch tasks.
struct Connection {
    kv: KvClient,
    watch: WatchClient,
    options: Etcd3Options,
    /// Highest compact revision seen so far: from [`Backend::compact`] calls, watch
    /// compaction responses and probes. etcd's value may be higher.
    compacted: AtomicI64,
}

impl std::fmt::Debug for Etcd3Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Etcd3Backend")
            .field("options", &self.connection.options)
            .field(
                "compacted",
                &self.connection.compacted.load(Ordering::Relaxed),
            )
            .finish_non_exhaustive()
    }
}

impl Etcd3Backend {
    /// Creates a backend for the etcd members at `endpoints` (URLs as in
    /// `--etcd-servers`): `http://host:port` without [`Etcd3Options::tls`], and
    /// `https://host:port` with it.
    ///
    /// No connection is made here: the client dials members on the first request
    /// and again after failures, so this succeeds while etcd is still down.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when `endpoints` is empty, a URL is invalid, a URL's
    /// scheme does not match the TLS setting, or a TLS file cannot be read or parsed.
    pub async fn connect(endpoints: &[String], options: Etcd3Options) -> Result<Self, Error> {
        if endpoints.is_empty() {
            return Err(Error::InvalidRequest(
                "no etcd endpoints given; pass at least one http://host:port URL".to_string(),
            ));
        }
        check_schemes(endpoints, options.tls.is_some())?;

        let mut connect_options = ConnectOptions::new()
            .with_connect_timeout(options.dial_timeout)
            .with_keep_alive(options.keepalive_interval, options.keepalive_timeout)
            .with_keep_alive_while_idle(true)
            .with_require_leader(true);
        if let Some(tls) = &options.tls {
            connect_options = connect_options.with_tls(tls.load()?);
        }
        let client = Client::connect(endpoints, Some(connect_options))
            .await
            .map_err(|error| {
                Error::InvalidRequest(format!(
                    "invalid etcd endpoints {endpoints:?} or TLS files: {error}"
                ))
            })?;

        tracing::info!(
            ?endpoints,
            tls = options.tls.is_some(),
            "created etcd3 storage backend"
        );
        let connection = Connection {
            kv: client
                .kv_client()
                .max_decoding_message_size(MAX_DECODING_MESSAGE_BYTES),
            watch: client
                .watch_client()
                .max_decoding_message_size(MAX_DECODING_MESSAGE_BYTES),
            options,
            compacted: AtomicI64::new(0),
        };
        Ok(Etcd3Backend {
            connection: Arc::new(connection),
        })
    }
}

/// Rejects an `http://` endpoint when TLS is set and an `https://` one when it is
/// not, so a mismatch fails at start-up instead of on every request. An endpoint
/// without a scheme gets the one that matches the TLS setting.
fn check_schemes(endpoints: &[String], tls: bool) -> Result<(), Error> {
    for url in endpoints {
        if tls && url.starts_with("http://") {
            return Err(Error::InvalidRequest(format!(
                "invalid etcd endpoint {url}: TLS files are set, so it must be https://"
            )));
        }
        if !tls && url.starts_with("https://") {
            return Err(Error::InvalidRequest(format!(
                "invalid etcd endpoint {url}: https:// needs the etcd CA file (--etcd-cafile)"
            )));
        }
    }
    Ok(())
}

#[async_trait]
impl Backend for Etcd3Backend {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, Error> {
        check_key(key)?;
        let connection = &self.connection;
        let mut response = connection
            .call("get", Mode::Read, || {
                let mut kv = connection.kv.clone();
                async move { kv.get(key, None).await }
            })
            .await
            .map_err(|failure| failure.into_error("get", key))?;

        match response.take_kvs().into_iter().next() {
            Some(kv) => Ok(Some(convert_kv(kv)?)),
            None => Ok(None),
        }
    }

    async fn list(&self, options: ListOptions) -> Result<ListResult, Error> {
        let range = ListRange::new(&options)?;
        let connection = &self.connection;
        let result = connection
            .call("list", Mode::Read, || {
                let mut kv = connection.kv.clone();
                let get_options = GetOptions::new()
                    .with_range(range.end.clone())
                    .with_limit(range.limit)
                    .with_revision(options.revision);
                let start = range.start.clone();
                async move { kv.get(start, Some(get_options)).await }
            })
            .await;

        let mut response = match result {
            Ok(response) => response,
            Err(failure) => {
                return Err(connection
                    .revision_error(failure, options.revision, "list", &options.prefix)
                    .await);
            }
        };

        let revision = if options.revision > 0 {
            options.revision
        } else {
            header_revision(response.header())?
        };
        let more = response.more();
        let count = response.count();
        let items = response
            .take_kvs()
            .into_iter()
            .map(convert_kv)
            .collect::<Result<Vec<_>, _>>()?;
        let remaining = remaining_count(more, count, items.len());
        Ok(ListResult {
            items,
            revision,
            more,
            remaining,
        })
    }

    async fn count(&self, prefix: &str) -> Result<i64, Error> {
        let (start, end) = prefix_bounds(prefix);
        let connection = &self.connection;
        let response = connection
            .call("count", Mode::Read, || {
                let mut kv = connection.kv.clone();
                let get_options = GetOptions::new().with_range(end.clone()).with_count_only();
                let start = start.clone();
                async move { kv.get(start, Some(get_options)).await }
            })
            .await
            .map_err(|failure| failure.into_error("count", prefix))?;
        Ok(response.count())
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, Error> {
        check_key(key)?;
        check_value_size(key, &value)?;

        // Put only if the key has no create revision, that is, does not exist.
        let txn = Txn::new()
            .when([Compare::create_revision(key, CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, value.to_vec(), None)]);
        let response = self.connection.txn("create", key, &value, txn).await?;

        if !response.succeeded() {
            return Err(Error::KeyExists {
                key: key.to_string(),
            });
        }
        let revision = header_revision(response.header())?;
        Ok(KeyValue {
            key: key.to_string(),
            value,
            create_revision: revision,
            mod_revision: revision,
        })
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected_mod_revision: i64,
    ) -> Result<KeyValue, Error> {
        check_key(key)?;
        check_value_size(key, &value)?;

        // The create-revision compare keeps a missing key missing even when the
        // expected mod revision is 0, which is what etcd reports for absent keys.
        let txn = Txn::new()
            .when([
                Compare::create_revision(key, CompareOp::Greater, 0),
                Compare::mod_revision(key, CompareOp::Equal, expected_mod_revision),
            ])
            .and_then([TxnOp::put(
                key,
                value.to_vec(),
                Some(PutOptions::new().with_prev_key()),
            )])
            .or_else([TxnOp::get(key, None)]);
        let response = self.connection.txn("update", key, &value, txn).await?;

        if !response.succeeded() {
            return Err(precondition_failure(
                key,
                expected_mod_revision,
                &response.op_responses(),
            ));
        }
        let revision = header_revision(response.header())?;
        let create_revision = response
            .op_responses()
            .into_iter()
            .find_map(|op| match op {
                TxnOpResponse::Put(put) => put.prev_key().map(|kv| kv.create_revision()),
                _ => None,
            })
            .ok_or_else(|| {
                Error::Internal(format!(
                    "etcd update of {key} succeeded without returning the previous key"
                ))
            })?;
        Ok(KeyValue {
            key: key.to_string(),
            value,
            create_revision,
            mod_revision: revision,
        })
    }

    async fn delete(
        &self,
        key: &str,
        expected_mod_revision: Option<i64>,
    ) -> Result<(KeyValue, i64), Error> {
        check_key(key)?;

        let mut compares = vec![Compare::create_revision(key, CompareOp::Greater, 0)];
        if let Some(expected) = expected_mod_revision {
            compares.push(Compare::mod_revision(key, CompareOp::Equal, expected));
        }
        let txn = Txn::new()
            .when(compares)
            .and_then([TxnOp::delete(
                key,
                Some(DeleteOptions::new().with_prev_key()),
            )])
            .or_else([TxnOp::get(key, None)]);
        let response = self.connection.txn("delete", key, &[], txn).await?;

        if !response.succeeded() {
            return Err(precondition_failure(
                key,
                expected_mod_revision.unwrap_or(0),
                &response.op_responses(),
            ));
        }
        let revision = header_revision(response.header())?;
        let previous = response
            .op_responses()
            .into_iter()
            .find_map(|op| match op {
                TxnOpResponse::Delete(mut delete) => delete.take_prev_kvs().into_iter().next(),
                _ => None,
            })
            .ok_or_else(|| {
                Error::Internal(format!(
                    "etcd delete of {key} succeeded without returning the deleted key"
                ))
            })?;
        Ok((convert_kv(previous)?, revision))
    }

    async fn watch(&self, prefix: &str, after_revision: i64) -> Result<WatchStream, Error> {
        if after_revision < 0 {
            return Err(Error::InvalidRequest(format!(
                "watch revision must not be negative, got {after_revision}"
            )));
        }
        let (sender, receiver) = mpsc::channel(WATCH_CHANNEL_CAPACITY);

        // A watch "from now" starts after the current revision read here, so every
        // write that completes after this call returns is delivered.
        let from_now = after_revision == 0;
        let after_revision = if from_now {
            self.current_revision().await?
        } else {
            after_revision
        };

        let task = WatchTask {
            connection: Arc::clone(&self.connection),
            prefix: prefix.to_string(),
            sender,
            delivered: after_revision,
        };
        match task.open(!from_now).await {
            Ok(stream) => {
                tracing::debug!(prefix, after_revision, "started etcd watch");
                tokio::spawn(task.run(stream));
            }
            Err(error @ Error::Compacted { .. }) => {
                // The stream reports the compaction as its only message, and then ends.
                let _ = task.sender.send(Err(error)).await;
            }
            Err(error) => return Err(error),
        }
        Ok(WatchStream::new(receiver))
    }

    /// Compacts etcd's history at `revision` and waits until the old revisions are
    /// physically removed. Compacting at or below an earlier compaction succeeds
    /// without effect.
    async fn compact(&self, revision: i64) -> Result<(), Error> {
        if revision <= 0 {
            return Err(Error::InvalidRequest(format!(
                "compact revision must be positive, got {revision}"
            )));
        }
        let connection = &self.connection;
        let result = connection
            .call("compact", Mode::Write, || {
                let mut kv = connection.kv.clone();
                async move {
                    kv.compact(revision, Some(CompactionOptions::new().with_physical()))
                        .await
                }
            })
            .await;

        match result {
            Ok(_) => {
                connection.note_compacted(revision);
                tracing::info!(revision, "compacted etcd");
                Ok(())
            }
            Err(failure) if failure.kind == FailureKind::Compacted => {
                // etcd rejects a compaction at or below its compact revision; the
                // contract reports it as the embedded store does.
                connection.note_compacted(revision);
                let compacted = connection.compacted_revision().await.unwrap_or(revision);
                tracing::debug!(
                    revision,
                    compacted,
                    "etcd was already compacted at or above revision"
                );
                Err(Error::Compacted {
                    requested: revision,
                    compacted,
                })
            }
            Err(failure) => Err(connection
                .revision_error(failure, revision, "compact", PROBE_KEY)
                .await),
        }
    }

    async fn current_revision(&self) -> Result<i64, Error> {
        self.connection.current_revision().await
    }

    /// Finds etcd's compact revision with range requests at old revisions.
    ///
    /// A range at revision `r` fails with "required revision has been compacted"
    /// exactly when `r` is below the compact revision. A binary search between the
    /// highest compact revision seen and the current revision therefore finds it. When
    /// the cached value is still current this costs two requests, otherwise about
    /// log2(current - cached) more. A store that was never compacted reports 0.
    async fn compacted_revision(&self) -> Result<i64, Error> {
        self.connection.compacted_revision().await
    }
}

impl Connection {
    /// Runs one etcd request, retrying failures that `mode` allows until the request
    /// timeout, with jittered exponential backoff between attempts.
    async fn call<T, F, Fut>(
        &self,
        operation: &str,
        mode: Mode,
        mut attempt: F,
    ) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        let timeout = self.options.request_timeout;
        let deadline = Instant::now() + timeout;
        let mut backoff = Backoff::new(CALL_RETRY_INITIAL, CALL_RETRY_MAX);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let error = match tokio::time::timeout_at(deadline, attempt()).await {
                Ok(Ok(response)) => return Ok(response),
                Ok(Err(error)) => error,
                Err(_) => {
                    return Err(Failure {
                        kind: FailureKind::Deadline,
                        message: format!("timed out after {timeout:?} ({attempts} attempts)"),
                    });
                }
            };

            let failure = Failure::from_etcd(&error);
            let delay = backoff.next_delay();
            if !failure.kind.is_retryable(mode) || Instant::now() + delay >= deadline {
                return Err(failure);
            }
            tracing::debug!(
                operation,
                attempts,
                error = %failure.message,
                ?delay,
                "etcd request failed; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Runs a write transaction and maps its failures, naming `key` in errors.
    async fn txn(
        &self,
        operation: &str,
        key: &str,
        value: &[u8],
        txn: Txn,
    ) -> Result<etcd_client::TxnResponse, Error> {
        self.call(operation, Mode::Write, || {
            let mut kv = self.kv.clone();
            let txn = txn.clone();
            async move { kv.txn(txn).await }
        })
        .await
        .map_err(|failure| match failure.kind {
            FailureKind::TooLarge => Error::InvalidRequest(format!(
                "etcd rejected the {operation} of {key} ({} byte value) as too large. \
                 Raise etcd's --max-request-bytes above {MAX_VALUE_BYTES} bytes plus the key size",
                value.len()
            )),
            _ => failure.into_error(operation, key),
        })
    }

    /// Maps a failed read at `requested` to [`Error::Compacted`] or
    /// [`Error::FutureRevision`] with the store's current bounds, or to the general
    /// error for other failures.
    async fn revision_error(
        &self,
        failure: Failure,
        requested: i64,
        operation: &str,
        key: &str,
    ) -> Error {
        match failure.kind {
            FailureKind::Compacted => {
                let compacted = match self.compacted_revision().await {
                    Ok(compacted) => compacted,
                    Err(error) => {
                        tracing::warn!(%error, "failed to read etcd's compact revision");
                        self.compacted.load(Ordering::Acquire)
                    }
                };
                Error::Compacted {
                    requested,
                    compacted,
                }
            }
            FailureKind::FutureRevision => {
                let current = match self.current_revision().await {
                    Ok(current) => current,
                    Err(error) => {
                        tracing::warn!(%error, "failed to read etcd's current revision");
                        0
                    }
                };
                Error::FutureRevision { requested, current }
            }
            _ => failure.into_error(operation, key),
        }
    }

    async fn current_revision(&self) -> Result<i64, Error> {
        let response = self
            .call("current revision", Mode::Read, || {
                let mut kv = self.kv.clone();
                async move {
                    kv.get(PROBE_KEY, Some(GetOptions::new().with_count_only()))
                        .await
                }
            })
            .await
            .map_err(|failure| failure.into_error("current revision", PROBE_KEY))?;
        header_revision(response.header())
    }

    /// Returns whether a read at `revision` is allowed, that is, `revision` is not
    /// below etcd's compact revision. Revisions in the future count as allowed.
    async fn is_readable_at(&self, key: &str, revision: i64) -> Result<bool, Error> {
        let result = self
            .call("revision probe", Mode::Read, || {
                let mut kv = self.kv.clone();
                let options = GetOptions::new().with_revision(revision).with_count_only();
                async move { kv.get(key, Some(options)).await }
            })
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(failure) => match failure.kind {
                FailureKind::Compacted => Ok(false),
                FailureKind::FutureRevision => Ok(true),
                _ => Err(failure.into_error("revision probe", key)),
            },
        }
    }

    async fn compacted_revision(&self) -> Result<i64, Error> {
        let cached = self.compacted.load(Ordering::Acquire);
        let current = self.current_revision().await?;

        // Smallest revision in [low, high] that is readable: `high` always is.
        let mut low = cached.max(1);
        let mut high = current.max(low);
        if self.is_readable_at(PROBE_KEY, low).await? {
            return Ok(cached);
        }
        low += 1;
        while low < high {
            let middle = low + (high - low) / 2;
            if self.is_readable_at(PROBE_KEY, middle).await? {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        self.note_compacted(low);
        Ok(self.compacted.load(Ordering::Acquire))
    }

    fn note_compacted(&self, revision: i64) {
        self.compacted.fetch_max(revision, Ordering::AcqRel);
    }
}

/// Whether a call may be repeated after a failure whose outcome is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Repeating the request has no effect beyond its first success.
    Read,
    /// The request changes the store, so it is repeated only when it cannot have been
    /// applied.
    Write,
}

/// Classes of failed etcd requests, by what a retry may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FailureKind {
    /// No connection to a member could be made, so the request was never sent.
    NotSent,
    /// etcd rejected the request before applying it (no leader, too many requests).
    Rejected,
    /// The request failed in a way that leaves its outcome unknown (connection lost,
    /// leader changed, server stopping).
    Unavailable,
    /// etcd gave up waiting for the request to be committed; it may still apply.
    TimedOut,
    /// The backend's request timeout expired.
    Deadline,
    /// "mvcc: required revision has been compacted".
    Compacted,
    /// "mvcc: required revision is a future revision".
    FutureRevision,
    /// "request is too large": over etcd's `--max-request-bytes`.
    TooLarge,
    /// Anything else: invalid requests, permission errors, corrupt responses.
    Other,
}

impl FailureKind {
    fn is_retryable(self, mode: Mode) -> bool {
        match self {
            FailureKind::NotSent | FailureKind::Rejected => true,
            FailureKind::Unavailable | FailureKind::TimedOut => mode == Mode::Read,
            _ => false,
        }
    }
}

/// gRPC status codes used by the classification (from the gRPC specification).
mod code {
    pub const CANCELLED: i32 = 1;
    pub const UNKNOWN: i32 = 2;
    pub const DEADLINE_EXCEEDED: i32 = 4;
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    pub const OUT_OF_RANGE: i32 = 11;
    pub const UNAVAILABLE: i32 = 14;
}

/// Messages of the etcd v3 server errors the backend distinguishes, as etcd 3.4 sends
/// them (etcdserver/api/v3rpc/rpctypes/error.go).
mod message {
    pub const COMPACTED: &str = "etcdserver: mvcc: required revision has been compacted";
    pub const FUTURE_REVISION: &str = "etcdserver: mvcc: required revision is a future revision";
    pub const REQUEST_TOO_LARGE: &str = "etcdserver: request is too large";
    pub const NO_LEADER: &str = "etcdserver: no leader";
    pub const TOO_MANY_REQUESTS: &str = "etcdserver: too many requests";
    /// Prefix of "request timed out" and its variants (leader failure, connection lost,
    /// applied index).
    pub const TIMED_OUT_PREFIX: &str = "etcdserver: request timed out";
}

/// Classifies a failure from its gRPC status code and message. `connect_failed` is
/// true when the error chain shows that the TCP connection was never established.
fn classify(code: Option<i32>, message: &str, connect_failed: bool) -> FailureKind {
    if connect_failed {
        return FailureKind::NotSent;
    }
    let Some(code) = code else {
        return FailureKind::Other;
    };
    match (code, message) {
        // hyper cancels a request that was still queued for a connection when that
        // connection closed, so the request never left the client.
        (code::CANCELLED, message) if message.starts_with(HYPER_CANCELED_PREFIX) => {
            FailureKind::NotSent
        }
        (code::OUT_OF_RANGE, message::COMPACTED) => FailureKind::Compacted,
        (code::OUT_OF_RANGE, message::FUTURE_REVISION) => FailureKind::FutureRevision,
        (_, message::REQUEST_TOO_LARGE) => FailureKind::TooLarge,
        (code::UNAVAILABLE, message::NO_LEADER) => FailureKind::Rejected,
        (code::RESOURCE_EXHAUSTED, message::TOO_MANY_REQUESTS) => FailureKind::Rejected,
        (code::UNAVAILABLE, message) if message.starts_with(message::TIMED_OUT_PREFIX) => {
            FailureKind::TimedOut
        }
        (code::UNAVAILABLE, _) => FailureKind::Unavailable,
        // tonic reports a connection lost mid-request as Unknown. etcd's own errors
        // carry the "etcdserver:" prefix.
        (code::UNKNOWN, message) if !message.starts_with("etcdserver:") => FailureKind::Unavailable,
        (code::DEADLINE_EXCEEDED, _) => FailureKind::TimedOut,
        _ => FailureKind::Other,
    }
}

/// Start of the message of hyper 1's canceled-request error, which tonic passes on
/// as a Cancelled status.
const HYPER_CANCELED_PREFIX: &str = "operation was canceled";

/// Returns whether an error chain shows a failed TCP connect.
///
/// NOTE: unsent requests are recognized by error texts of hyper-util 0.1 ("tcp
/// connect error"), hyper 1 ("operation was canceled") and by a refused connect's
/// io::Error. An unsent request reported any other way is classified as
/// [`FailureKind::Unavailable`], so a write is then not retried.
fn is_connect_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        if error.to_string() == "tcp connect error" {
            return true;
        }
        current = error.source();
    }
    false
}

/// A failed etcd call, classified.
#[derive(Debug)]
struct Failure {
    kind: FailureKind,
    message: String,
}

impl Failure {
    fn from_etcd(error: &etcd_client::Error) -> Self {
        let (code, message, connect_failed) = match error {
            etcd_client::Error::GRpcStatus(status) => (
                Some(i32::from(status.code())),
                status.message().to_string(),
                is_connect_failure(status),
            ),
            // tonic turns channel failures into statuses, so a transport error is rare.
            // It has no status code but is still a failure to reach etcd.
            etcd_client::Error::TransportError(transport) => (
                Some(code::UNAVAILABLE),
                transport.to_string(),
                is_connect_failure(transport),
            ),
            other => (None, other.to_string(), false),
        };
        let kind = classify(code, &message, connect_failed);
        let message = if message.is_empty() {
            error.to_string()
        } else {
            message
        };
        Failure { kind, message }
    }

    /// Maps the failure to the storage error returned to the caller.
    fn into_error(self, operation: &str, key: &str) -> Error {
        let context = format!("etcd {operation} of {key:?} failed: {}", self.message);
        match self.kind {
            FailureKind::NotSent | FailureKind::Rejected | FailureKind::Unavailable => {
                Error::Unavailable(context)
            }
            FailureKind::TimedOut | FailureKind::Deadline => Error::Timeout(context),
            FailureKind::TooLarge => Error::InvalidRequest(context),
            FailureKind::Compacted | FailureKind::FutureRevision | FailureKind::Other => {
                Error::Internal(context)
            }
        }
    }
}

/// Jittered exponential backoff: each delay is the current step times a random factor
/// in [0.5, 1.5), and the step doubles up to a maximum.
#[derive(Debug)]
struct Backoff {
    step: Duration,
    max: Duration,
}

impl Backoff {
    fn new(initial: Duration, max: Duration) -> Self {
        Backoff { step: initial, max }
    }

    fn next_delay(&mut self) -> Duration {
        let delay = self.step.mul_f64(rand::random_range(0.5..1.5));
        self.step = (self.step * 2).min(self.max);
        delay
    }
}

fn check_key(key: &str) -> Result<(), Error> {
    if key.is_empty() {
        return Err(Error::InvalidRequest("key must not be empty".to_string()));
    }
    Ok(())
}

/// Returns the etcd range `[start, end)` selecting every key under `prefix`. etcd has
/// no empty key, so an empty prefix starts at "\0" and ends at "\0" (no upper bound).
fn prefix_bounds(prefix: &str) -> (Vec<u8>, Vec<u8>) {
    let start = if prefix.is_empty() {
        vec![0]
    } else {
        prefix.as_bytes().to_vec()
    };
    let mut end = prefix_range_end(prefix);
    if end.is_empty() {
        end = vec![0];
    }
    (start, end)
}

/// The etcd range request a [`ListOptions`] turns into.
#[derive(Debug, PartialEq, Eq)]
struct ListRange {
    start: Vec<u8>,
    end: Vec<u8>,
    /// etcd's limit: 0 means none.
    limit: i64,
}

impl ListRange {
    fn new(options: &ListOptions) -> Result<Self, Error> {
        if options.revision < 0 {
            return Err(Error::InvalidRequest(format!(
                "list revision must not be negative, got {}",
                options.revision
            )));
        }
        if !options.start_key.is_empty() && !options.start_key.starts_with(&options.prefix) {
            return Err(Error::InvalidRequest(format!(
                "start key {:?} is outside the prefix {:?}",
                options.start_key, options.prefix
            )));
        }

        let (prefix_start, end) = prefix_bounds(&options.prefix);
        let start = if options.start_key.is_empty() {
            prefix_start
        } else {
            options.start_key.as_bytes().to_vec()
        };
        let limit = i64::try_from(options.limit).unwrap_or(i64::MAX);
        Ok(ListRange { start, end, limit })
    }
}

/// Returns the number of keys after a list page: etcd's `count` covers the whole
/// range from the start key, the page included.
fn remaining_count(more: bool, count: i64, returned: usize) -> i64 {
    if !more {
        return 0;
    }
    let returned = i64::try_from(returned).unwrap_or(i64::MAX);
    count.saturating_sub(returned).max(0)
}

fn header_revision(header: Option<&etcd_client::ResponseHeader>) -> Result<i64, Error> {
    header
        .map(|header| header.revision())
        .ok_or_else(|| Error::Internal("etcd response has no header".to_string()))
}

fn convert_kv(kv: etcd_client::KeyValue) -> Result<KeyValue, Error> {
    let create_revision = kv.create_revision();
    let mod_revision = kv.mod_revision();
    let (key, value) = kv.into_key_value();
    let key = String::from_utf8(key).map_err(|error| {
        Error::Internal(format!(
            "etcd returned a key that is not valid UTF-8: {:?}",
            String::from_utf8_lossy(error.as_bytes())
        ))
    })?;
    Ok(KeyValue {
        key,
        value: Bytes::from(value),
        create_revision,
        mod_revision,
    })
}

fn convert_kv_ref(kv: &etcd_client::KeyValue) -> Result<KeyValue, Error> {
    let key = std::str::from_utf8(kv.key()).map_err(|_| {
        Error::Internal(format!(
            "etcd returned a key that is not valid UTF-8: {:?}",
            String::from_utf8_lossy(kv.key())
        ))
    })?;
    Ok(KeyValue {
        key: key.to_string(),
        value: Bytes::copy_from_slice(kv.value()),
        create_revision: kv.create_revision(),
        mod_revision: kv.mod_revision(),
    })
}

/// Builds the error for a failed write precondition from the failure branch's get.
fn precondition_failure(key: &str, expected: i64, op_responses: &[TxnOpResponse]) -> Error {
    let current = op_responses.iter().find_map(|op| match op {
        TxnOpResponse::Get(get) => get.kvs().first().map(|kv| kv.mod_revision()),
        _ => None,
    });
    match current {
        None => Error::NotFound {
            key: key.to_string(),
        },
        Some(current_revision) => Error::Conflict {
            key: key.to_string(),
            expected,
            current_revision,
        },
    }
}

/// Returns the event type of a put or delete: a put is a creation when the key's
/// create revision equals its mod revision.
fn event_type(is_delete: bool, create_revision: i64, mod_revision: i64) -> EventType {
    if is_delete {
        EventType::Deleted
    } else if create_revision == mod_revision {
        EventType::Created
    } else {
        EventType::Modified
    }
}

fn convert_event(event: &etcd_client::Event) -> Result<Event, Error> {
    let kv = event
        .kv()
        .ok_or_else(|| Error::Internal("etcd watch event has no key".to_string()))?;
    let kv = convert_kv_ref(kv)?;
    let is_delete = event.event_type() == etcd_client::EventType::Delete;
    let event_type = event_type(is_delete, kv.create_revision, kv.mod_revision);

    let prev_kv = match event.prev_kv() {
        Some(prev) => Some(convert_kv_ref(prev)?),
        None => None,
    };
    // etcd omits the previous value when its revision was compacted before the event
    // was sent. Callers such as the cacher need it, so the watch ends instead, as the
    // upstream apiserver's etcd3 watcher does.
    if event_type != EventType::Created && prev_kv.is_none() {
        return Err(Error::Internal(format!(
            "etcd watch event for {} at revision {} has no previous value",
            kv.key, kv.mod_revision
        )));
    }
    Ok(Event {
        event_type,
        kv,
        prev_kv,
    })
}

/// The background half of one [`Backend::watch`] call.
struct WatchTask {
    connection: Arc<Connection>,
    prefix: String,
    sender: mpsc::Sender<Result<WatchMessage, Error>>,
    /// Every change under the prefix up to this revision has been delivered.
    delivered: i64,
}

/// Reason a watch task stopped reading one etcd watch stream.
enum StreamEnd {
    /// The [`WatchStream`] was dropped.
    ReceiverGone,
    /// The watch cannot go on, and the error is the stream's last message.
    Failed(Error),
    /// The connection broke or etcd canceled the watch, so a new watch may resume it.
    Broken(String),
}

impl WatchTask {
    /// Opens an etcd watch for changes after `self.delivered` and waits for etcd to
    /// confirm it.
    ///
    /// # Errors
    /// [`Error::Compacted`] when `self.delivered` is below the compact revision. etcd
    /// alone would accept a start exactly at the compact revision, whose changes are
    /// gone, so a range probe at `self.delivered` checks first unless `probe` is false
    /// (for a revision just read as the current one).
    async fn open(&self, probe: bool) -> Result<etcd_client::WatchStream, Error> {
        let connection = &self.connection;
        let after = self.delivered;
        let (start, end) = prefix_bounds(&self.prefix);

        if probe && !connection.is_readable_at(PROBE_KEY, after).await? {
            let compacted = connection.compacted_revision().await?;
            return Err(Error::Compacted {
                requested: after,
                compacted,
            });
        }

        let result = connection
            .call("watch", Mode::Read, || {
                let mut watch = connection.watch.clone();
                let options = WatchOptions::new()
                    .with_range(end.clone())
                    .with_start_revision(after + 1)
                    .with_prev_key()
                    .with_progress_notify();
                let start = start.clone();
                async move {
                    let mut stream = watch.watch(start, Some(options)).await?;
                    let created = stream.message().await?;
                    Ok((stream, created))
                }
            })
            .await
            .map_err(|failure| failure.into_error("watch", &self.prefix))?;

        match result {
            (stream, Some(created)) if created.created() && !created.canceled() => Ok(stream),
            (_, Some(response)) => Err(Error::Unavailable(format!(
                "etcd did not create the watch on {:?}: {}",
                self.prefix,
                response.cancel_reason()
            ))),
            (_, None) => Err(Error::Unavailable(format!(
                "etcd closed the watch stream on {:?} before creating the watch",
                self.prefix
            ))),
        }
    }

    /// Forwards etcd's watch responses until the receiver goes away or the watch ends,
    /// reconnecting whenever the connection breaks.
    async fn run(mut self, mut stream: etcd_client::WatchStream) {
        loop {
            let reason = match self.forward(&mut stream).await {
                StreamEnd::ReceiverGone => {
                    tracing::debug!(prefix = %self.prefix, "watch receiver dropped; stopping");
                    return;
                }
                StreamEnd::Failed(error) => {
                    tracing::info!(prefix = %self.prefix, %error, "etcd watch ended");
                    let _ = self.sender.send(Err(error)).await;
                    return;
                }
                StreamEnd::Broken(reason) => reason,
            };

            tracing::warn!(
                prefix = %self.prefix,
                revision = self.delivered,
                reason,
                "etcd watch broke; reconnecting"
            );
            match self.reconnect().await {
                Some(new_stream) => stream = new_stream,
                None => return,
            }
        }
    }

    async fn forward(&mut self, stream: &mut etcd_client::WatchStream) -> StreamEnd {
        loop {
            let message = tokio::select! {
                biased;
                _ = self.sender.closed() => return StreamEnd::ReceiverGone,
                message = stream.message() => message,
            };
            let response = match message {
                Ok(Some(response)) => response,
                Ok(None) => return StreamEnd::Broken("etcd closed the watch stream".to_string()),
                Err(error) => return StreamEnd::Broken(error.to_string()),
            };

            if response.compact_revision() > 0 {
                self.connection.note_compacted(response.compact_revision());
                return StreamEnd::Failed(Error::Compacted {
                    requested: self.delivered,
                    compacted: response.compact_revision(),
                });
            }
            if response.canceled() {
                return StreamEnd::Broken(format!(
                    "etcd canceled the watch: {}",
                    response.cancel_reason()
                ));
            }
            if response.created() {
                continue;
            }

            if response.events().is_empty() {
                // A progress notification: every change up to the header's revision
                // has been sent.
                let Some(revision) = response.header().map(|header| header.revision()) else {
                    continue;
                };
                if revision < self.delivered {
                    continue;
                }
                self.delivered = revision;
                if self
                    .sender
                    .send(Ok(WatchMessage::Progress { revision }))
                    .await
                    .is_err()
                {
                    return StreamEnd::ReceiverGone;
                }
                continue;
            }

            // etcd never splits one revision across responses (without fragmenting,
            // which this watch does not request), so events at or below the revision
            // delivered before this response are repeats from a resumed watch.
            let floor = self.delivered;
            for event in response.events() {
                let event = match convert_event(event) {
                    Ok(event) => event,
                    Err(error) => return StreamEnd::Failed(error),
                };
                let revision = event.revision();
                if revision <= floor {
                    continue;
                }
                if self
                    .sender
                    .send(Ok(WatchMessage::Event(event)))
                    .await
                    .is_err()
                {
                    return StreamEnd::ReceiverGone;
                }
                self.delivered = self.delivered.max(revision);
            }
        }
    }

    /// Opens a new etcd watch after `self.delivered`, retrying with backoff. Returns
    /// `None` when the task should stop because the receiver is gone or the resume
    /// point was compacted. In the second case the stream's last message is the
    /// compaction error.
    async fn reconnect(&mut self) -> Option<etcd_client::WatchStream> {
        let options = &self.connection.options;
        let mut backoff = Backoff::new(options.watch_retry_initial, options.watch_retry_max);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let delay = backoff.next_delay();
            tokio::select! {
                _ = self.sender.closed() => return None,
                _ = tokio::time::sleep(delay) => {}
            }

            let opened = tokio::select! {
                _ = self.sender.closed() => return None,
                opened = self.open(true) => opened,
            };
            match opened {
                Ok(stream) => {
                    tracing::info!(
                        prefix = %self.prefix,
                        revision = self.delivered,
                        attempts,
                        "etcd watch resumed"
                    );
                    return Some(stream);
                }
                Err(error @ Error::Compacted { .. }) => {
                    tracing::info!(prefix = %self.prefix, %error, "etcd watch cannot resume");
                    let _ = self.sender.send(Err(error)).await;
                    return None;
                }
                Err(error) => {
                    // Logs the first failure and then every tenth, since an outage can
                    // last long.
                    if attempts == 1 || attempts.is_multiple_of(10) {
                        tracing::warn!(
                            prefix = %self.prefix,
                            attempts,
                            %error,
                            "etcd watch reconnect failed; retrying"
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_schemes_match_tls() {
        let cases = [
            ("http://127.0.0.1:2379", false, true),
            ("127.0.0.1:2379", false, true),
            ("https://127.0.0.1:2379", false, false),
            ("https://127.0.0.1:2379", true, true),
            ("127.0.0.1:2379", true, true),
            ("http://127.0.0.1:2379", true, false),
        ];
        for (url, tls, accepted) in cases {
            let result = check_schemes(&[url.to_string()], tls);
            assert_eq!(result.is_ok(), accepted, "{url} with tls={tls}: {result:?}");
        }
    }

    #[test]
    fn classify_failures() {
        let cases = [
            (Some(11), message::COMPACTED, false, FailureKind::Compacted),
            (
                Some(11),
                message::FUTURE_REVISION,
                false,
                FailureKind::FutureRevision,
            ),
            (
                Some(3),
                message::REQUEST_TOO_LARGE,
                false,
                FailureKind::TooLarge,
            ),
            (Some(14), message::NO_LEADER, false, FailureKind::Rejected),
            (
                Some(8),
                message::TOO_MANY_REQUESTS,
                false,
                FailureKind::Rejected,
            ),
            (
                Some(14),
                "etcdserver: request timed out",
                false,
                FailureKind::TimedOut,
            ),
            (
                Some(14),
                "etcdserver: request timed out, possibly due to previous leader failure",
                false,
                FailureKind::TimedOut,
            ),
            (
                Some(14),
                "etcdserver: leader changed",
                false,
                FailureKind::Unavailable,
            ),
            (Some(14), "tcp connect error", true, FailureKind::NotSent),
            (
                Some(1),
                "operation was canceled: connection closed",
                false,
                FailureKind::NotSent,
            ),
            (Some(1), "context canceled", false, FailureKind::Other),
            (
                Some(14),
                "connection reset",
                false,
                FailureKind::Unavailable,
            ),
            (
                Some(2),
                "h2 protocol error: connection closed",
                false,
                FailureKind::Unavailable,
            ),
            (
                Some(2),
                "etcdserver: unexpected failure",
                false,
                FailureKind::Other,
            ),
            (Some(4), "deadline exceeded", false, FailureKind::TimedOut),
            (
                Some(7),
                "etcdserver: permission denied",
                false,
                FailureKind::Other,
            ),
            (None, "invalid uri", false, FailureKind::Other),
        ];
        for (code, message, connect_failed, expected) in cases {
            assert_eq!(
                classify(code, message, connect_failed),
                expected,
                "code {code:?}, message {message:?}"
            );
        }
    }

    #[test]
    fn retry_policy_by_mode() {
        let cases = [
            (FailureKind::NotSent, true, true),
            (FailureKind::Rejected, true, true),
            (FailureKind::Unavailable, true, false),
            (FailureKind::TimedOut, true, false),
            (FailureKind::Deadline, false, false),
            (FailureKind::Compacted, false, false),
            (FailureKind::Other, false, false),
        ];
        for (kind, read, write) in cases {
            assert_eq!(kind.is_retryable(Mode::Read), read, "{kind:?} read");
            assert_eq!(kind.is_retryable(Mode::Write), write, "{kind:?} write");
        }
    }

    #[test]
    fn failure_maps_to_storage_error() {
        let failure = |kind| Failure {
            kind,
            message: "boom".to_string(),
        };
        assert!(matches!(
            failure(FailureKind::NotSent).into_error("get", "/a"),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            failure(FailureKind::Deadline).into_error("get", "/a"),
            Error::Timeout(_)
        ));
        assert!(matches!(
            failure(FailureKind::TimedOut).into_error("get", "/a"),
            Error::Timeout(_)
        ));
        assert!(matches!(
            failure(FailureKind::Other).into_error("get", "/a"),
            Error::Internal(message) if message.contains("/a") && message.contains("boom")
        ));
    }

    #[test]
    fn connect_failure_detected_in_chain() {
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("transport error")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }

        let refused = Wrapper(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(is_connect_failure(&refused));
        let reset = Wrapper(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(!is_connect_failure(&reset));
    }

    #[test]
    fn list_range_from_options() {
        let options = |prefix: &str, start_key: &str, limit: usize| ListOptions {
            prefix: prefix.to_string(),
            start_key: start_key.to_string(),
            limit,
            revision: 0,
        };
        let cases = [
            (
                options("/registry/pods/", "", 0),
                b"/registry/pods/".to_vec(),
                b"/registry/pods0".to_vec(),
                0,
            ),
            (
                options("/registry/pods/", "/registry/pods/b", 10),
                b"/registry/pods/b".to_vec(),
                b"/registry/pods0".to_vec(),
                10,
            ),
            (options("", "", 5), vec![0], vec![0], 5),
        ];
        for (options, start, end, limit) in cases {
            let range = ListRange::new(&options).expect("valid options");
            assert_eq!(range, ListRange { start, end, limit }, "{options:?}");
        }
    }

    #[test]
    fn list_range_rejects_invalid_options() {
        let outside = ListOptions {
            prefix: "/registry/pods/".to_string(),
            start_key: "/registry/services/a".to_string(),
            ..ListOptions::default()
        };
        assert!(matches!(
            ListRange::new(&outside),
            Err(Error::InvalidRequest(_))
        ));

        let negative = ListOptions {
            prefix: "/a/".to_string(),
            revision: -1,
            ..ListOptions::default()
        };
        assert!(matches!(
            ListRange::new(&negative),
            Err(Error::InvalidRequest(_))
        ));
    }

    #[test]
    fn remaining_count_after_page() {
        let cases = [
            (false, 3, 3, 0),
            (true, 10, 3, 7),
            (true, 4, 3, 1),
            (false, 0, 0, 0),
        ];
        for (more, count, returned, expected) in cases {
            assert_eq!(
                remaining_count(more, count, returned),
                expected,
                "more {more}, count {count}, returned {returned}"
            );
        }
    }

    #[test]
    fn event_type_from_revisions() {
        assert_eq!(event_type(false, 5, 5), EventType::Created);
        assert_eq!(event_type(false, 5, 7), EventType::Modified);
        assert_eq!(event_type(true, 0, 9), EventType::Deleted);
    }

    #[test]
    fn backoff_grows_to_max_with_jitter() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(400));
        let bounds = [(50, 150), (100, 300), (200, 600), (200, 600), (200, 600)];
        for (low, high) in bounds {
            let delay = backoff.next_delay();
            assert!(
                delay >= Duration::from_millis(low) && delay < Duration::from_millis(high),
                "delay {delay:?} outside [{low}, {high}) ms"
            );
        }
    }

    #[test]
    fn empty_key_rejected() {
        assert!(matches!(check_key(""), Err(Error::InvalidRequest(_))));
        assert!(check_key("/a").is_ok());
    }

    #[tokio::test]
    async fn connect_validates_endpoints() {
        let none = Etcd3Backend::connect(&[], Etcd3Options::default()).await;
        assert!(matches!(none, Err(Error::InvalidRequest(_))));

        let tls = Etcd3Backend::connect(
            &["https://127.0.0.1:2379".to_string()],
            Etcd3Options::default(),
        )
        .await;
        assert!(
            matches!(&tls, Err(Error::InvalidRequest(message)) if message.contains("--etcd-cafile")),
            "https:// without TLS settings: {tls:?}"
        );

        let plain =
            Etcd3Backend::connect(&["http://127.0.0.1:1".to_string()], Etcd3Options::default())
                .await;
        assert!(plain.is_ok(), "connect must not dial: {:?}", plain.err());
    }
}
