//! The reflector, after client-go v1.18's `tools/cache/reflector.go` and
//! `tools/pager/pager.go`: it keeps a [`Store`] in step with one collection of the
//! API server by listing it, then watching it from the list's resourceVersion.
//!
//! Entry point: [`Reflector::new`], then [`Reflector::run`] until cancelled.
//!
//! One pass of the loop lists (paginated, the first list at resourceVersion "0" so the
//! server may serve it from its watch cache), replaces the store's contents with the
//! result, then watches with `allowWatchBookmarks=true` and a random `timeoutSeconds`.
//! List items and watch objects are decoded straight from the response bytes into the
//! store's object type ([`ReflectedObject`]). A list page is decoded while it arrives,
//! so neither its body nor a JSON tree of it is ever held whole.
//! A watch that ends normally is restarted from the last resourceVersion seen, BOOKMARK
//! events included. A 410 (Gone or Expired) from a watch starts a new list right away.
//! A list at a resourceVersion the server no longer has is retried at the latest
//! resourceVersion (""). Any other error waits a jittered exponential backoff, then
//! lists again.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apimachinery::errors::StatusError;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use super::heap_trim;
use super::list_decoder::ListDecoder;
use super::{CacheError, Object, PagedReplace, Store};
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

/// How many decoded list items a reflector hands a store that takes pages at once.
const LIST_BATCH: usize = 500;

/// An object type a [`Reflector`] decodes list items and watch event objects into.
/// `serde_json::Value` implements it, and so does `Arc<K>` for every
/// [`KubeObject`](crate::api::KubeObject), which is what informers store.
pub trait ReflectedObject: Object {
    /// The type the JSON text is decoded into, which a [`TransformFunc`] changes
    /// before it becomes `Self`.
    type Decoded: DeserializeOwned;

    /// Turns a decoded (and possibly transformed) object into the stored form.
    fn from_decoded(decoded: Self::Decoded) -> Self;

    /// Decodes one object from its JSON text.
    ///
    /// # Errors
    /// The decoder's error when the text is not JSON or not an object of this type.
    fn from_json(json: &[u8]) -> Result<Self, serde_json::Error> {
        decode(json, None)
    }

    /// Gives a list item the `kind` and `apiVersion` of the list's items where it
    /// lacks them, as a decoded typed list would have. An empty argument is unknown
    /// and sets nothing.
    fn set_list_type(&mut self, kind: &str, api_version: &str);
}

/// client-go's `TransformFunc`: changes each object a reflector decodes before it
/// reaches the store, typically to drop fields the caller never reads (such as
/// `metadata.managedFields`) so the cache holds less.
pub type TransformFunc<T> = Arc<dyn Fn(&mut T) + Send + Sync>;

/// Decodes `json` as `T::Decoded`, applies `transform`, and converts the result.
fn decode<T: ReflectedObject>(
    json: &[u8],
    transform: Option<&TransformFunc<T::Decoded>>,
) -> Result<T, serde_json::Error> {
    let mut decoded = serde_json::from_slice::<T::Decoded>(json)?;
    if let Some(transform) = transform {
        transform(&mut decoded);
    }
    Ok(T::from_decoded(decoded))
}

impl ReflectedObject for Value {
    type Decoded = Value;

    fn from_decoded(decoded: Value) -> Self {
        decoded
    }

    fn set_list_type(&mut self, kind: &str, api_version: &str) {
        let Value::Object(fields) = self else {
            return;
        };
        if !kind.is_empty() {
            fields
                .entry("kind")
                .or_insert_with(|| Value::String(kind.to_string()));
        }
        if !api_version.is_empty() {
            fields
                .entry("apiVersion")
                .or_insert_with(|| Value::String(api_version.to_string()));
        }
    }
}

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
    /// A list response was not a list: no `items` array, or not JSON around it.
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

/// Lists and watches one collection into a [`Store`] of `T`. Clones share the state
/// that [`Reflector::last_sync_resource_version`] reports, so keep a clone to read it
/// while another one runs.
#[derive(Clone)]
pub struct Reflector<T: ReflectedObject = Value> {
    client: RestClient,
    path: String,
    store: Arc<dyn Store<T>>,
    options: ReflectorOptions,
    transform: Option<TransformFunc<T::Decoded>>,
    state: Arc<Mutex<SyncState>>,
}

impl<T: ReflectedObject> Reflector<T> {
    /// Creates a reflector for the collection at `path`, such as
    /// `/api/v1/namespaces/default/configmaps` or `/api/v1/pods`, feeding `store`.
    pub fn new(
        client: RestClient,
        path: String,
        store: Arc<dyn Store<T>>,
        options: ReflectorOptions,
    ) -> Self {
        Self {
            client,
            path,
            store,
            options,
            transform: None,
            state: Arc::new(Mutex::new(SyncState::default())),
        }
    }

    /// Applies `transform` to every list item and watch event object after decoding
    /// and before the store gets it.
    pub fn with_transform(mut self, transform: TransformFunc<T::Decoded>) -> Self {
        self.transform = Some(transform);
        self
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
    /// specific resourceVersion is retried once at the latest one. A store that
    /// takes pages gets each page as it arrives; others get the whole list at once.
    async fn list(&self) -> Result<(), ReflectorError> {
        let resource_version = self.relist_resource_version();
        let page_size = self.page_size_for(&resource_version);
        let mut sink = ListSink::new(self.store.as_ref());

        let listed = match self
            .paged_list(&resource_version, page_size, &mut sink)
            .await
        {
            Err(ReflectorError::List {
                source: ClientError::Api(error),
                ..
            }) if is_expired(&error) => {
                tracing::debug!(path = %self.path, resource_version, %error, "list returned 410, listing the latest data");
                self.lock_state().last_sync_resource_version_expired = true;
                let latest = self.relist_resource_version();
                sink.restart();
                self.paged_list(&latest, page_size, &mut sink).await?
            }
            other => other?,
        };

        {
            let mut state = self.lock_state();
            state.last_sync_resource_version_expired = false;
            state.paginated_result |= listed.paginated;
        }
        let count = sink
            .finish(self.store.as_ref(), &listed.resource_version)
            .map_err(|source| self.replace_error(source))?;
        self.lock_state().last_sync_resource_version = listed.resource_version.clone();
        tracing::debug!(path = %self.path, count, resource_version = %listed.resource_version, "listed");
        heap_trim::trim_if_due();
        Ok(())
    }

    /// Lists page by page, as client-go's pager, and hands the items to `sink`:
    /// continue pages drop the resourceVersion, and an expired continue token falls
    /// back to one unpaginated list. Returns the list's resourceVersion.
    async fn paged_list(
        &self,
        resource_version: &str,
        page_size: u32,
        sink: &mut ListSink<'_, T>,
    ) -> Result<ListResult, ReflectorError> {
        let mut result = ListResult::default();
        let mut resource_version = resource_version.to_string();
        let mut continue_token = String::new();
        let mut first = true;

        loop {
            let page = match self
                .list_page(&resource_version, page_size, &continue_token, sink)
                .await
            {
                Ok(page) => page,
                Err(ReflectorError::List {
                    source: ClientError::Api(error),
                    ..
                }) if is_expired(&error) && !continue_token.is_empty() => {
                    tracing::debug!(path = %self.path, %error, "continue token expired, listing without pagination");
                    // The full list supersedes the earlier pages.
                    sink.restart();
                    let mut full = self.list_page("", 0, "", sink).await?;
                    full.paginated = true;
                    return Ok(full);
                }
                Err(error) => return Err(error),
            };

            if first {
                result.resource_version = page.resource_version;
                first = false;
            }
            let Some(token) = page.continue_token else {
                return Ok(result);
            };
            continue_token = token;
            resource_version.clear();
            result.paginated = true;
        }
    }

    fn replace_error(&self, source: CacheError) -> ReflectorError {
        ReflectorError::Replace {
            path: self.path.clone(),
            source,
        }
    }

    /// Requests one page, decodes its items as the body arrives and hands them to
    /// `sink` in batches of [`LIST_BATCH`] once the list's type is known (the API
    /// server sends it before the items), the rest when the page ends. So a store
    /// that takes pages never gets the whole list at once, even when the server
    /// ignores the limit (as it does for lists served from its watch cache). Items
    /// that do not decode are left out and logged, so one bad object does not stop
    /// the reflector.
    async fn list_page(
        &self,
        resource_version: &str,
        page_size: u32,
        continue_token: &str,
        sink: &mut ListSink<'_, T>,
    ) -> Result<ListResult, ReflectorError> {
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
        let mut body = self
            .with_selectors(request)
            .stream()
            .await
            .map_err(|source| self.list_error(source))?;

        let mut decoder = ListDecoder::default();
        let mut items = Vec::new();
        let mut item_type: Option<(String, String)> = None;
        while let Some(chunk) = body.next_chunk().await {
            let chunk = chunk.map_err(|source| self.list_error(source))?;
            decoder.feed(&chunk, &mut |item: &[u8]| {
                heap_trim::record(item.len());
                match decode::<T>(item, self.transform.as_ref()) {
                    Ok(obj) => items.push(obj),
                    Err(error) => {
                        tracing::error!(path = %self.path, %error, "leaving an undecodable object out of the list");
                    }
                }
            });
            if items.len() < LIST_BATCH || !sink.is_paged() {
                continue;
            }
            if item_type.is_none() {
                item_type = decoder
                    .type_before_items()
                    .map(|(kind, api_version)| (item_kind(&kind).to_string(), api_version));
            }
            if let Some((kind, api_version)) = &item_type {
                for item in &mut items {
                    item.set_list_type(kind, api_version);
                }
                sink.page(std::mem::take(&mut items))
                    .map_err(|source| self.replace_error(source))?;
                // Decode more only once the reader took most of what it was given.
                sink.wait_for_room(LIST_BATCH).await;
            }
        }
        let envelope = decoder
            .finish()
            .map_err(|reason| ReflectorError::InvalidList {
                path: self.path.clone(),
                reason,
            })?;

        for item in &mut items {
            item.set_list_type(item_kind(&envelope.kind), &envelope.api_version);
        }
        sink.page(items)
            .map_err(|source| self.replace_error(source))?;
        Ok(ListResult {
            resource_version: envelope.resource_version,
            continue_token: envelope.continue_token,
            paginated: false,
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

        while let Some(next) = stream.next_raw().await {
            let event = match next {
                Ok(event) => event,
                Err(error) => {
                    // A broken stream ends this watch; the next one resumes from the
                    // last resourceVersion, as client-go's stream watcher does.
                    tracing::debug!(path = %self.path, %error, "watch stream failed");
                    return Ok(WatchEnd::Closed);
                }
            };
            let object = event.object.get().as_bytes();

            let resource_version = match event.event_type.as_str() {
                "ERROR" => {
                    let error = match serde_json::from_slice(object) {
                        Ok(status) => StatusError::from_status(status),
                        Err(decode) => StatusError::internal_error(format!(
                            "undecodable ERROR event: {decode}"
                        )),
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
                "BOOKMARK" => resource_version_of(object),
                event_type @ ("ADDED" | "MODIFIED" | "DELETED") => {
                    self.apply_event(event_type, object)
                }
                other => {
                    tracing::error!(path = %self.path, event_type = other, "unknown watch event type, ignoring it");
                    continue;
                }
            };
            if let Some(resource_version) = resource_version.filter(|rv| !rv.is_empty()) {
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

    /// Decodes the object of an ADDED, MODIFIED or DELETED event and applies it to the
    /// store. Returns the object's resourceVersion, also when it does not decode as
    /// `T`: the watch has moved past it either way.
    fn apply_event(&self, event_type: &str, object: &[u8]) -> Option<String> {
        heap_trim::record(object.len());
        heap_trim::trim_if_due();
        let obj = match decode::<T>(object, self.transform.as_ref()) {
            Ok(obj) => obj,
            Err(error) => {
                tracing::error!(path = %self.path, event_type, %error, "failed to decode the object of a watch event, skipping it");
                return resource_version_of(object);
            }
        };
        let resource_version = obj.resource_version().to_string();
        let applied = match event_type {
            "ADDED" => self.store.add(obj),
            "MODIFIED" => self.store.update(obj),
            _ => self.store.delete(obj.into()),
        };
        if let Err(error) = applied {
            tracing::error!(path = %self.path, event_type, %error, "failed to apply watch event to the store");
        }
        Some(resource_version)
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
/// The destination of one list's items: a store that takes pages, or a buffer
/// that replaces the store's contents once the list is complete.
enum ListSink<'a, T> {
    Paged {
        store: &'a dyn PagedReplace<T>,
        listed: HashSet<String>,
    },
    Buffered {
        items: Vec<T>,
    },
}

impl<'a, T> ListSink<'a, T> {
    fn new(store: &'a dyn Store<T>) -> Self {
        match store.paged() {
            Some(store) => Self::Paged {
                store,
                listed: HashSet::new(),
            },
            None => Self::Buffered { items: Vec::new() },
        }
    }

    /// Waits until a paged store's reader has taken all but `limit` objects.
    async fn wait_for_room(&self, limit: usize) {
        if let Self::Paged { store, .. } = self {
            store.wait_for_room(limit).await;
        }
    }

    fn is_paged(&self) -> bool {
        matches!(self, Self::Paged { .. })
    }

    fn page(&mut self, page: Vec<T>) -> Result<(), CacheError> {
        match self {
            Self::Paged { store, listed } => store.replace_page(page, listed),
            Self::Buffered { items } => {
                items.extend(page);
                Ok(())
            }
        }
    }

    /// Starts the list over. Pages already written stay, but only the pages after
    /// this count as listed, so what the new list lacks is deleted at the end.
    fn restart(&mut self) {
        match self {
            Self::Paged { listed, .. } => listed.clear(),
            // Free the earlier pages before the new list arrives.
            Self::Buffered { items } => *items = Vec::new(),
        }
    }

    /// Completes the replace and returns how many objects the list had.
    fn finish(self, store: &dyn Store<T>, resource_version: &str) -> Result<usize, CacheError> {
        match self {
            Self::Paged { store, listed } => {
                let count = listed.len();
                store.finish_replace(listed, resource_version)?;
                Ok(count)
            }
            Self::Buffered { items } => {
                let count = items.len();
                store.replace(items, resource_version)?;
                Ok(count)
            }
        }
    }
}

#[derive(Debug, Default)]
struct ListResult {
    resource_version: String,
    continue_token: Option<String>,
    paginated: bool,
}

/// Returns the kind of a list's items: `Pod` for `PodList`, empty when unknown.
fn item_kind(list_kind: &str) -> &str {
    list_kind.strip_suffix("List").unwrap_or_default()
}

/// Reads `metadata.resourceVersion` of an object in JSON, whatever its type.
fn resource_version_of(object: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Object {
        #[serde(default)]
        metadata: Metadata,
    }
    #[derive(Default, Deserialize)]
    struct Metadata {
        #[serde(default, rename = "resourceVersion")]
        resource_version: String,
    }

    serde_json::from_slice::<Object>(object)
        .ok()
        .map(|object| object.metadata.resource_version)
        .filter(|version| !version.is_empty())
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
    fn value_takes_the_list_type_when_missing() {
        let mut bare = json!({"metadata": {"name": "a"}});
        bare.set_list_type("ConfigMap", "v1");
        assert_eq!(bare["kind"], "ConfigMap");
        assert_eq!(bare["apiVersion"], "v1");

        let mut own = json!({"kind": "Other", "metadata": {"name": "b"}});
        own.set_list_type("ConfigMap", "");
        assert_eq!(own["kind"], "Other", "an item's own kind stays");
        assert!(
            own.get("apiVersion").is_none(),
            "an unknown apiVersion is not set"
        );
    }

    #[test]
    fn decode_applies_the_transform() {
        let transform: TransformFunc<Value> = Arc::new(|obj: &mut Value| {
            obj["metadata"]
                .as_object_mut()
                .expect("metadata")
                .remove("managedFields");
        });
        let json = br#"{"metadata": {"name": "a", "managedFields": [{"manager": "m"}]}}"#;

        let transformed: Value = decode(json, Some(&transform)).expect("decodes");
        assert_eq!(transformed, json!({"metadata": {"name": "a"}}));
        let plain: Value = decode(json, None).expect("decodes");
        assert_eq!(plain["metadata"]["managedFields"][0]["manager"], "m");
    }

    #[test]
    fn resource_version_of_any_object() {
        let cases: [(&[u8], Option<&str>); 4] = [
            (
                br#"{"kind": "Pod", "metadata": {"resourceVersion": "12"}}"#,
                Some("12"),
            ),
            (br#"{"metadata": {"resourceVersion": ""}}"#, None),
            (br#"{"spec": {}}"#, None),
            (b"[1]", None),
        ];
        for (object, expected) in cases {
            assert_eq!(
                resource_version_of(object).as_deref(),
                expected,
                "{}",
                String::from_utf8_lossy(object)
            );
        }
    }

    #[test]
    fn expired_errors() {
        assert!(is_expired(&StatusError::gone("gone")));
        assert!(is_expired(&StatusError::resource_expired("expired")));
        assert!(is_expired(&StatusError::watch_resource_version_too_old()));
        assert!(!is_expired(&StatusError::bad_request("bad")));
    }
}
