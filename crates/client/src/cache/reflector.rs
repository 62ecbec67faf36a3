//! The reflector, after client-go v1.18's `tools/cache/reflector.go` and
//! `tools/pager/pager.go`: it keeps a [`Store`] in step with one collection of the
//! API server by listing it, then watching it from the list's resourceVersion.
//!
//! Entry point: [`Reflector::new`], then [`Reflector::run`] until cancelled.
//!
//! One pass of the loop lists (paginated, the first list at resourceVersion "0" so the
//! server may serve it from its watch cache), replaces the store's contents with the
//! result, then watches with `allowWatchBookmarks=true` and a random `timeoutSeconds`.
//! A watch that ends normally is restarted from the last resourceVersion seen, BOOKMARK
//! events included. A 410 (Gone or Expired) from a watch starts a new list right away.
//! A list at a resourceVersion the server no longer has is retried at the latest
//! resourceVersion (""). Any other error waits a jittered exponential backoff, then
//! lists again.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use apimachinery::errors::StatusError;
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use super::{CacheError, Store};
use crate::rest::{ClientError, RestClient, WatchStream};

/// The page size client-go's pager uses when none is set.
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// client-go's `minWatchTimeout`: each watch requests a timeout between this and twice
/// this.
pub const DEFAULT_MIN_WATCH_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// A watch that ends sooner than this without any event counts as failed
/// (client-go's "very short watch").
const VERY_SHORT_WATCH: Duration = Duration::from_secs(1);

/// The wait before restarting a watch whose connection was refused; client-go assumes
/// the server is restarting and keeps its list.
const CONNECTION_REFUSED_WAIT: Duration = Duration::from_secs(1);

/// A jittered exponential backoff, client-go's `ExponentialBackoffManager` with the
/// reflector's settings by default.
#[derive(Clone, Debug, PartialEq)]
pub struct BackoffOptions {
    /// The first wait before jitter (800 ms by default).
    pub initial: Duration,
    /// The cap on the wait before jitter (30 s by default); jitter may add up to
    /// `jitter * max` on top.
    pub max: Duration,
    /// The growth factor between waits (2.0 by default).
    pub factor: f64,
    /// Each wait is lengthened by a random fraction in `[0, jitter)` of itself
    /// (1.0 by default).
    pub jitter: f64,
    /// After this long without a backoff the wait starts again at `initial`
    /// (2 minutes by default).
    pub reset_after: Duration,
}

impl Default for BackoffOptions {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(800),
            max: Duration::from_secs(30),
            factor: 2.0,
            jitter: 1.0,
            reset_after: Duration::from_secs(2 * 60),
        }
    }
}

/// The settings of a [`Reflector`].
#[derive(Clone, Debug, PartialEq)]
pub struct ReflectorOptions {
    /// A label selector sent with every list and watch.
    pub label_selector: Option<String>,
    /// A field selector sent with every list and watch.
    pub field_selector: Option<String>,
    /// The `limit` of each list page. `None` follows client-go: pages of
    /// [`DEFAULT_PAGE_SIZE`], except that a list at a specific resourceVersion is
    /// sent unpaginated so the watch cache can serve it, unless an earlier list
    /// came back paginated. `Some(0)` disables pagination.
    pub page_size: Option<u32>,
    /// How often [`Store::resync`] is called; zero disables resyncs.
    pub resync_period: Duration,
    /// The shortest `timeoutSeconds` asked of a watch, in whole seconds (at least 1).
    pub min_watch_timeout: Duration,
    /// The longest `timeoutSeconds` asked of a watch; each watch picks a random value
    /// between the two.
    pub max_watch_timeout: Duration,
    /// The wait after a failed list or watch.
    pub backoff: BackoffOptions,
    /// The Accept header of lists and watches, such as the one asking for
    /// `PartialObjectMetadata`; `None` for plain JSON.
    pub accept: Option<String>,
}

impl Default for ReflectorOptions {
    fn default() -> Self {
        Self {
            label_selector: None,
            field_selector: None,
            page_size: None,
            resync_period: Duration::ZERO,
            min_watch_timeout: DEFAULT_MIN_WATCH_TIMEOUT,
            max_watch_timeout: 2 * DEFAULT_MIN_WATCH_TIMEOUT,
            backoff: BackoffOptions::default(),
            accept: None,
        }
    }
}

/// The failure that ended one list-and-watch pass. The reflector logs it and
/// backs off.
#[derive(Debug, thiserror::Error)]
pub enum ReflectorError {
    /// A list request failed.
    #[error("failed to list {path}: {source}")]
    List {
        path: String,
        #[source]
        source: ClientError,
    },
    /// A list response was not a list: no `items` array.
    #[error("invalid list response from {path}: {reason}")]
    InvalidList { path: String, reason: String },
    /// A watch request failed before the stream started.
    #[error("failed to watch {path}: {source}")]
    Watch {
        path: String,
        #[source]
        source: ClientError,
    },
    /// The server sent an ERROR event other than 410.
    #[error("watch of {path} ended with an error: {source}")]
    WatchError {
        path: String,
        #[source]
        source: StatusError,
    },
    /// The watch ended within a second without a single event, which usually
    /// means the server closes watches at once.
    #[error("very short watch of {path}: the watch ended after {elapsed:?} without any event")]
    VeryShortWatch { path: String, elapsed: Duration },
    /// The store rejected the list result.
    #[error("failed to replace the store contents with the list of {path}: {source}")]
    Replace {
        path: String,
        #[source]
        source: CacheError,
    },
}

/// The state kept between passes, shared by all clones.
#[derive(Debug, Default)]
struct SyncState {
    /// The resourceVersion of the last list or event applied to the store.
    last_sync_resource_version: String,
    /// Set when a list at `last_sync_resource_version` returned 410, so the next list
    /// requests the latest data.
    last_sync_resource_version_expired: bool,
    /// Set once a list came back in more than one page.
    paginated_result: bool,
}

/// The way one watch ended.
enum WatchEnd {
    /// Timeout or end of stream: watch again from the last resourceVersion.
    Closed,
    /// A 410 from the server: list again.
    Expired,
}

/// Lists and watches one collection into a [`Store`]. Clones share the state that
/// [`Reflector::last_sync_resource_version`] reports, so keep a clone to read it while
/// another one runs.
#[derive(Clone)]
pub struct Reflector {
    client: RestClient,
    path: String,
    store: Arc<dyn Store<Value>>,
    options: ReflectorOptions,
    state: Arc<Mutex<SyncState>>,
}

impl Reflector {
    /// Creates a reflector for the collection at `path`, such as
    /// `/api/v1/namespaces/default/configmaps` or `/api/v1/pods`, feeding `store`.
    pub fn new(
        client: RestClient,
        path: String,
        store: Arc<dyn Store<Value>>,
        options: ReflectorOptions,
    ) -> Self {
        Self {
            client,
            path,
            store,
            options,
            state: Arc::new(Mutex::new(SyncState::default())),
        }
    }

    /// Returns the resourceVersion of the last list or watch event applied to the
    /// store, or "" before the first list finished.
    pub fn last_sync_resource_version(&self) -> String {
        self.lock_state().last_sync_resource_version.clone()
    }

    /// Lists and watches until `cancel` is `true` or its sender is dropped. Errors
    /// are logged and retried; this returns only on cancellation.
    pub async fn run(self, mut cancel: watch::Receiver<bool>) {
        tracing::info!(path = %self.path, "starting reflector");
        let _resync = self.start_resync();
        let mut backoff = Backoff::new(self.options.backoff.clone());

        loop {
            let pass = tokio::select! {
                result = self.list_and_watch() => result,
                _ = cancelled(&mut cancel) => break,
            };
            if let Err(error) = pass {
                let wait = backoff.next();
                tracing::warn!(path = %self.path, %error, wait_ms = wait.as_millis() as u64, "list and watch failed, backing off");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = cancelled(&mut cancel) => break,
                }
            }
        }
        tracing::info!(path = %self.path, "stopping reflector");
    }

    /// Lists into the store, then watches until the watch fails or returns 410.
    /// `Ok` means "list again now".
    async fn list_and_watch(&self) -> Result<(), ReflectorError> {
        self.list().await?;

        loop {
            let resource_version = self.last_sync_resource_version();
            let timeout = self.watch_timeout_seconds();
            let mut request = self
                .client
                .get(&self.path)
                .query("resourceVersion", &resource_version)
                .query("allowWatchBookmarks", "true")
                .query("timeoutSeconds", &timeout.to_string());
            request = self.with_selectors(request);

            let stream = match request.watch().await {
                Ok(stream) => stream,
                Err(ClientError::Api(error)) if is_expired(&error) => {
                    tracing::debug!(path = %self.path, %error, "watch start returned 410, listing again");
                    return Ok(());
                }
                Err(error) if is_connection_refused(&error) => {
                    // The server is probably restarting: keep the list and retry.
                    tracing::debug!(path = %self.path, %error, "watch connection refused, retrying");
                    tokio::time::sleep(CONNECTION_REFUSED_WAIT).await;
                    continue;
                }
                Err(source) => {
                    return Err(ReflectorError::Watch {
                        path: self.path.clone(),
                        source,
                    });
                }
            };

            match self.watch_handler(stream).await? {
                WatchEnd::Closed => {}
                WatchEnd::Expired => return Ok(()),
            }
        }
    }

    /// Lists the collection and replaces the store's contents. A 410 on a list at a
    /// specific resourceVersion is retried once at the latest one.
    async fn list(&self) -> Result<(), ReflectorError> {
        let resource_version = self.relist_resource_version();
        let page_size = self.page_size_for(&resource_version);

        let listed = match self.paged_list(&resource_version, page_size).await {
            Err(ReflectorError::List {
                source: ClientError::Api(error),
                ..
            }) if is_expired(&error) => {
                tracing::debug!(path = %self.path, resource_version, %error, "list returned 410, listing the latest data");
                self.lock_state().last_sync_resource_version_expired = true;
                let latest = self.relist_resource_version();
                self.paged_list(&latest, page_size).await?
            }
            other => other?,
        };

        {
            let mut state = self.lock_state();
            state.last_sync_resource_version_expired = false;
            state.paginated_result |= listed.paginated;
        }
        let count = listed.items.len();
        self.store
            .replace(listed.items, &listed.resource_version)
            .map_err(|source| ReflectorError::Replace {
                path: self.path.clone(),
                source,
            })?;
        self.lock_state().last_sync_resource_version = listed.resource_version.clone();
        tracing::debug!(path = %self.path, count, resource_version = %listed.resource_version, "listed");
        Ok(())
    }

    /// Lists page by page, as client-go's pager: continue pages drop the
    /// resourceVersion, and an expired continue token falls back to one unpaginated
    /// list.
    async fn paged_list(
        &self,
        resource_version: &str,
        page_size: u32,
    ) -> Result<ListResult, ReflectorError> {
        let mut result = ListResult::default();
        let mut resource_version = resource_version.to_string();
        let mut continue_token = String::new();
        let mut first = true;

        loop {
            let page = match self
                .list_page(&resource_version, page_size, &continue_token)
                .await
            {
                Ok(page) => page,
                Err(ClientError::Api(error))
                    if is_expired(&error) && !continue_token.is_empty() =>
                {
                    tracing::debug!(path = %self.path, %error, "continue token expired, listing without pagination");
                    let page = self
                        .list_page("", 0, "")
                        .await
                        .map_err(|source| self.list_error(source))?;
                    let mut full = self.parse_page(page)?;
                    full.paginated = true;
                    return Ok(full);
                }
                Err(source) => return Err(self.list_error(source)),
            };

            let page = self.parse_page(page)?;
            if first {
                result.resource_version = page.resource_version;
                first = false;
            }
            result.items.extend(page.items);
            let Some(token) = page.continue_token else {
                return Ok(result);
            };
            continue_token = token;
            resource_version.clear();
            result.paginated = true;
        }
    }

    async fn list_page(
        &self,
        resource_version: &str,
        page_size: u32,
        continue_token: &str,
    ) -> Result<Value, ClientError> {
        let mut request = self.client.get(&self.path);
        if !resource_version.is_empty() {
            request = request.query("resourceVersion", resource_version);
        }
        if page_size > 0 {
            request = request.query("limit", &page_size.to_string());
        }
        if !continue_token.is_empty() {
            request = request.query("continue", continue_token);
        }
        self.with_selectors(request).request_json::<Value>().await
    }

    fn parse_page(&self, page: Value) -> Result<ListResult, ReflectorError> {
        parse_list(page).map_err(|reason| ReflectorError::InvalidList {
            path: self.path.clone(),
            reason,
        })
    }

    fn list_error(&self, source: ClientError) -> ReflectorError {
        ReflectorError::List {
            path: self.path.clone(),
            source,
        }
    }

    /// Applies watch events to the store until the stream ends.
    async fn watch_handler(&self, mut stream: WatchStream) -> Result<WatchEnd, ReflectorError> {
        let started = Instant::now();
        let mut events = 0usize;

        while let Some(next) = stream.next().await {
            let event = match next {
                Ok(event) => event,
                Err(error) => {
                    // A broken stream ends this watch; the next one resumes from the
                    // last resourceVersion, as client-go's stream watcher does.
                    tracing::debug!(path = %self.path, %error, "watch stream failed");
                    return Ok(WatchEnd::Closed);
                }
            };

            if event.event_type == "ERROR" {
                let error = match serde_json::from_value(event.object) {
                    Ok(status) => StatusError::from_status(status),
                    Err(decode) => {
                        StatusError::internal_error(format!("undecodable ERROR event: {decode}"))
                    }
                };
                if is_expired(&error) {
                    tracing::debug!(path = %self.path, %error, "watch returned 410, listing again");
                    return Ok(WatchEnd::Expired);
                }
                return Err(ReflectorError::WatchError {
                    path: self.path.clone(),
                    source: error,
                });
            }

            let resource_version = object_resource_version(&event.object);
            let applied = match event.event_type.as_str() {
                "ADDED" => self.store.add(event.object),
                "MODIFIED" => self.store.update(event.object),
                "DELETED" => self.store.delete(event.object.into()),
                "BOOKMARK" => Ok(()),
                other => {
                    tracing::error!(path = %self.path, event_type = other, "unknown watch event type, ignoring it");
                    continue;
                }
            };
            if let Err(error) = applied {
                tracing::error!(path = %self.path, event_type = %event.event_type, %error, "failed to apply watch event to the store");
            }
            if let Some(resource_version) = resource_version {
                self.lock_state().last_sync_resource_version = resource_version;
            }
            events += 1;
        }

        let elapsed = started.elapsed();
        if events == 0 && elapsed < VERY_SHORT_WATCH {
            return Err(ReflectorError::VeryShortWatch {
                path: self.path.clone(),
                elapsed,
            });
        }
        tracing::debug!(path = %self.path, events, "watch closed");
        Ok(WatchEnd::Closed)
    }

    fn with_selectors(&self, mut request: crate::rest::Request) -> crate::rest::Request {
        if let Some(selector) = &self.options.label_selector {
            request = request.query("labelSelector", selector);
        }
        if let Some(selector) = &self.options.field_selector {
            request = request.query("fieldSelector", selector);
        }
        if let Some(accept) = &self.options.accept {
            match http::HeaderValue::from_str(accept) {
                Ok(value) => request = request.header(http::header::ACCEPT, value),
                Err(error) => {
                    tracing::error!(path = %self.path, accept, %error, "invalid Accept header, sending the default");
                }
            }
        }
        request
    }

    /// Returns the resourceVersion the next list requests (client-go's
    /// `relistResourceVersion`).
    fn relist_resource_version(&self) -> String {
        let state = self.lock_state();
        relist_resource_version(
            &state.last_sync_resource_version,
            state.last_sync_resource_version_expired,
        )
    }

    fn page_size_for(&self, resource_version: &str) -> u32 {
        page_size(
            self.options.page_size,
            self.lock_state().paginated_result,
            resource_version,
        )
    }

    fn watch_timeout_seconds(&self) -> u64 {
        let min = self.options.min_watch_timeout.as_secs().max(1);
        let max = self.options.max_watch_timeout.as_secs().max(min);
        let span = (max - min) as f64 * rand::random::<f64>();
        min + span as u64
    }

    /// Starts the periodic resync; the task stops when the guard is dropped.
    fn start_resync(&self) -> Option<AbortOnDrop> {
        let period = self.options.resync_period;
        if period.is_zero() {
            return None;
        }
        let store = self.store.clone();
        let path = self.path.clone();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
            loop {
                ticks.tick().await;
                if let Err(error) = store.resync() {
                    tracing::error!(path = %path, %error, "resync failed");
                }
            }
        });
        Some(AbortOnDrop(task))
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, SyncState> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Aborts a spawned task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The items of a list and the resourceVersion of its first page.
#[derive(Debug, Default)]
struct ListResult {
    items: Vec<Value>,
    resource_version: String,
    continue_token: Option<String>,
    paginated: bool,
}

/// Splits a list response into its items, resourceVersion and continue token. Items
/// get the `kind` (the list kind without `List`) and `apiVersion` of the list when
/// they lack them, as a decoded typed list would have.
fn parse_list(mut list: Value) -> Result<ListResult, String> {
    let items = match list.get_mut("items") {
        Some(Value::Array(items)) => std::mem::take(items),
        Some(Value::Null) => Vec::new(),
        Some(_) => return Err("items is not an array".to_string()),
        None => return Err("the response has no items".to_string()),
    };
    let resource_version = list
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let continue_token = list
        .pointer("/metadata/continue")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .map(str::to_string);

    let item_kind = list
        .get("kind")
        .and_then(Value::as_str)
        .and_then(|kind| kind.strip_suffix("List"))
        .filter(|kind| !kind.is_empty())
        .map(str::to_string);
    let api_version = list.get("apiVersion").cloned();
    let items = items
        .into_iter()
        .map(|mut item| {
            if let Value::Object(fields) = &mut item {
                if let Some(kind) = &item_kind {
                    fields
                        .entry("kind")
                        .or_insert_with(|| Value::String(kind.clone()));
                }
                if let Some(api_version) = &api_version {
                    fields
                        .entry("apiVersion")
                        .or_insert_with(|| api_version.clone());
                }
            }
            item
        })
        .collect();

    Ok(ListResult {
        items,
        resource_version,
        continue_token,
        paginated: false,
    })
}

fn object_resource_version(object: &Value) -> Option<String> {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|version| !version.is_empty())
        .map(str::to_string)
}

/// client-go's `relistResourceVersion`: "" after a 410, "0" before the first list
/// (any cached data will do), else the last synced version.
fn relist_resource_version(last_sync: &str, expired: bool) -> String {
    if expired {
        String::new()
    } else if last_sync.is_empty() {
        "0".to_string()
    } else {
        last_sync.to_string()
    }
}

/// Chooses the `limit` of a list at `resource_version`. Zero lists without pagination.
fn page_size(configured: Option<u32>, paginated_before: bool, resource_version: &str) -> u32 {
    match configured {
        Some(size) => size,
        None if paginated_before => DEFAULT_PAGE_SIZE,
        // The watch cache serves a list at a specific version only without a limit.
        None if !resource_version.is_empty() && resource_version != "0" => 0,
        None => DEFAULT_PAGE_SIZE,
    }
}

/// client-go's `isExpiredError`: reason Expired, or Gone (also a bare 410).
fn is_expired(error: &StatusError) -> bool {
    error.is_resource_expired() || error.is_gone()
}

fn is_connection_refused(error: &ClientError) -> bool {
    let ClientError::Request { source, .. } = error else {
        return false;
    };
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(source.as_ref());
    while let Some(current) = cause {
        if let Some(io_error) = current.downcast_ref::<std::io::Error>()
            && io_error.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        cause = current.source();
    }
    false
}

/// Waits until `cancel` is `true` or its sender is gone.
async fn cancelled(cancel: &mut watch::Receiver<bool>) {
    let _ = cancel.wait_for(|stop| *stop).await;
}

/// The waits between failed passes.
struct Backoff {
    options: BackoffOptions,
    /// The next wait before jitter.
    current: Duration,
    last_backoff: Option<Instant>,
}

impl Backoff {
    fn new(options: BackoffOptions) -> Self {
        Self {
            current: options.initial,
            options,
            last_backoff: None,
        }
    }

    /// Returns the next wait, with jitter.
    fn next(&mut self) -> Duration {
        self.next_with(Instant::now(), rand::random::<f64>())
    }

    /// Returns the next wait at `now`, with `random` in `[0, 1)` as the jitter draw.
    fn next_with(&mut self, now: Instant, random: f64) -> Duration {
        if let Some(last) = self.last_backoff
            && now.duration_since(last) > self.options.reset_after
        {
            self.current = self.options.initial;
        }
        self.last_backoff = Some(now);

        let base = self.current;
        let grown = base.as_secs_f64() * self.options.factor.max(1.0);
        self.current = Duration::from_secs_f64(grown.min(self.options.max.as_secs_f64()));
        let jitter = self.options.jitter.max(0.0);
        base + base.mul_f64(jitter * random.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn relist_resource_version_cases() {
        let cases = [
            // (last synced, expired, expected)
            ("", false, "0"),
            ("", true, ""),
            ("42", false, "42"),
            ("42", true, ""),
        ];
        for (last, expired, expected) in cases {
            assert_eq!(
                relist_resource_version(last, expired),
                expected,
                "last {last:?} expired {expired}"
            );
        }
    }

    #[test]
    fn page_size_cases() {
        let cases = [
            // (configured, paginated before, resourceVersion, expected)
            (None, false, "0", 500),
            (None, false, "", 500),
            (None, false, "42", 0),
            (None, true, "42", 500),
            (Some(10), false, "42", 10),
            (Some(0), false, "0", 0),
        ];
        for (configured, paginated, version, expected) in cases {
            assert_eq!(
                page_size(configured, paginated, version),
                expected,
                "configured {configured:?} paginated {paginated} version {version:?}"
            );
        }
    }

    #[test]
    fn backoff_grows_caps_and_resets() {
        let options = BackoffOptions {
            initial: Duration::from_millis(800),
            max: Duration::from_secs(3),
            factor: 2.0,
            jitter: 1.0,
            reset_after: Duration::from_secs(60),
        };
        let mut backoff = Backoff::new(options);
        let start = Instant::now();
        let waits: Vec<u128> = (0..4)
            .map(|step| {
                backoff
                    .next_with(start + Duration::from_secs(step), 0.0)
                    .as_millis()
            })
            .collect();
        assert_eq!(waits, vec![800, 1600, 3000, 3000]);

        let jittered = backoff.next_with(start + Duration::from_secs(5), 0.5);
        assert_eq!(jittered.as_millis(), 4500, "jitter adds half of the wait");

        let after_quiet = backoff.next_with(start + Duration::from_secs(120), 0.0);
        assert_eq!(
            after_quiet.as_millis(),
            800,
            "a quiet period resets the wait"
        );
    }

    #[test]
    fn parse_list_fills_kind_and_continue() {
        let list = json!({
            "kind": "ConfigMapList",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": "17", "continue": "abc"},
            "items": [{"metadata": {"name": "a"}}, {"kind": "Other", "metadata": {"name": "b"}}],
        });
        let result = parse_list(list).expect("a list");
        assert_eq!(result.resource_version, "17");
        assert_eq!(result.continue_token.as_deref(), Some("abc"));
        assert_eq!(result.items[0]["kind"], "ConfigMap");
        assert_eq!(result.items[0]["apiVersion"], "v1");
        assert_eq!(result.items[1]["kind"], "Other", "an item's own kind stays");
    }

    #[test]
    fn parse_list_rejects_non_lists() {
        let cases = [
            (json!({"metadata": {}}), "the response has no items"),
            (json!({"items": {}}), "items is not an array"),
        ];
        for (body, expected) in cases {
            assert_eq!(parse_list(body).unwrap_err(), expected);
        }
        let empty = parse_list(json!({"items": null, "metadata": {"continue": ""}}))
            .expect("null items is an empty list");
        assert!(empty.items.is_empty());
        assert_eq!(empty.continue_token, None);
    }

    #[test]
    fn expired_errors() {
        assert!(is_expired(&StatusError::gone("gone")));
        assert!(is_expired(&StatusError::resource_expired("expired")));
        assert!(is_expired(&StatusError::watch_resource_version_too_old()));
        assert!(!is_expired(&StatusError::bad_request("bad")));
    }
}
