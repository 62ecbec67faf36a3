//! The cacher: the apiserver's watch cache for one resource.
//!
//! [`Cacher::new`] starts one storage watch for a resource prefix such as
//! `/registry/pods/` and keeps the resource's current state, secondary indexes and
//! a window of recent events in memory. It serves
//! - lists at `resourceVersion` "0" or "not older than N" from memory
//!   ([`Cacher::list`]; the other lists go to storage, see [`ListRequest`]);
//! - watches from revision 0 (current state first) or from a recent revision,
//!   fanning each event out to every interested [`Watcher`] with one shared
//!   encoding per event ([`CacheEvent::encoded_frame`]);
//! - bookmarks for watchers that allow them.
//!
//! Inside, a reflector task lists and watches storage and feeds the watch cache.
//! A dispatcher task sends each event to the watchers' bounded channels and ends
//! the watchers that do not keep up. The design follows upstream Kubernetes' cacher
//! (k8s.io/apiserver/pkg/storage/cacher) of v1.18, with the event window sizing
//! of later versions.

mod attrs;
mod dispatcher;
mod object;
mod reflector;
mod watch_cache;
mod watcher;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::interface::{Backend, Error, Event, KeyValue, ListOptions};

pub use attrs::{CachedAttrs, StringMap};
pub use object::{
    AttrsFunc, CacheEvent, CachedObject, FilterFunc, FrameEncodeError, IndexFunc, ObjectAttrs,
    WatchEventType,
};
pub use watcher::Watcher;

use dispatcher::{DispatcherSettings, WatcherEntry, WatcherRegistry};
use watch_cache::{HistoryLimits, ObjectBuilder, ReplaceOutcome, WatchCache, WatchCacheEvent};
use watcher::{InitialEvent, WatchFilter, WatcherShared};

/// How long events stay resumable by default: upstream's 75 s, the bookmark
/// frequency of one minute plus a margin.
pub const DEFAULT_HISTORY_WINDOW: Duration = Duration::from_secs(75);
/// Default minimum capacity of the event window (upstream: 100).
pub const DEFAULT_HISTORY_MIN_CAPACITY: usize = 100;
/// Default maximum capacity of the event window (upstream: 100 * 1024).
pub const DEFAULT_HISTORY_MAX_CAPACITY: usize = 100 * 1024;
/// How long a request at a revision newer than the cache waits for the cache to
/// catch up before failing with "Too large resource version" (upstream: 3 s).
pub const DEFAULT_FRESH_TIMEOUT: Duration = Duration::from_secs(3);
/// Default interval between bookmarks to one watcher (upstream: one minute).
pub const DEFAULT_BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);
/// Name of the index of pods by `spec.nodeName`, the index upstream uses to
/// route pod events to the kubelet watching that node.
pub const POD_NODE_NAME_INDEX: &str = "spec.nodeName";

/// Settings of one cacher. [`CacherConfig::new`] fills in upstream's defaults.
#[derive(Clone)]
pub struct CacherConfig {
    /// Key prefix of the resource, ending with `/` (`/registry/pods/`).
    pub resource_prefix: String,
    /// Extracts labels and fields from a stored object, once per version.
    pub attrs_func: AttrsFunc,
    /// Secondary indexes by name. An index also routes events to watchers whose
    /// [`WatchRequest::index`] names it.
    pub indexers: BTreeMap<String, IndexFunc>,
    /// How long recorded events should stay resumable.
    pub history_window: Duration,
    /// Capacity the event window starts with and never shrinks below.
    pub history_min_capacity: usize,
    /// Capacity the event window never grows beyond.
    pub history_max_capacity: usize,
    /// Interval between bookmarks to one watcher that allows them.
    pub bookmark_interval: Duration,
    /// How long a request at a revision ahead of the cache waits for it.
    pub fresh_timeout: Duration,
    /// How long a request waits for the cache to become ready (after start and
    /// during a relist) before failing with [`Error::Unavailable`].
    pub ready_timeout: Duration,
    /// Maximum time budget for waiting on full watcher channels (upstream: 100 ms).
    pub dispatch_budget_max: Duration,
    /// Rate at which that budget refills, per second (upstream: 50 ms).
    pub dispatch_budget_refresh_per_second: Duration,
    /// Channel capacity of a watcher routed by an index, or of any watcher when
    /// the resource has no index (upstream: 10).
    pub watcher_channel_size: usize,
    /// Channel capacity of a watcher without an index trigger on a resource that
    /// has indexes; such watchers receive every event (upstream: 1000).
    pub untriggered_watcher_channel_size: usize,
    /// First delay before retrying a failed list or watch of storage.
    pub backoff_initial: Duration,
    /// Maximum delay between such retries.
    pub backoff_max: Duration,
}

impl CacherConfig {
    /// Creates a configuration with upstream's defaults and no index.
    pub fn new(resource_prefix: impl Into<String>, attrs_func: AttrsFunc) -> Self {
        CacherConfig {
            resource_prefix: resource_prefix.into(),
            attrs_func,
            indexers: BTreeMap::new(),
            history_window: DEFAULT_HISTORY_WINDOW,
            history_min_capacity: DEFAULT_HISTORY_MIN_CAPACITY,
            history_max_capacity: DEFAULT_HISTORY_MAX_CAPACITY,
            bookmark_interval: DEFAULT_BOOKMARK_INTERVAL,
            fresh_timeout: DEFAULT_FRESH_TIMEOUT,
            // NOTE: upstream waits for readiness as long as the request's context
            // allows; one minute is the apiserver's default request timeout.
            ready_timeout: Duration::from_secs(60),
            dispatch_budget_max: Duration::from_millis(100),
            dispatch_budget_refresh_per_second: Duration::from_millis(50),
            watcher_channel_size: 10,
            untriggered_watcher_channel_size: 1000,
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
        }
    }

    /// Adds a secondary index.
    pub fn with_index(mut self, name: impl Into<String>, index: IndexFunc) -> Self {
        self.indexers.insert(name.into(), index);
        self
    }
}

impl fmt::Debug for CacherConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacherConfig")
            .field("resource_prefix", &self.resource_prefix)
            .field("indexers", &self.indexers.keys().collect::<Vec<_>>())
            .field("history_window", &self.history_window)
            .field("history_min_capacity", &self.history_min_capacity)
            .field("history_max_capacity", &self.history_max_capacity)
            .field("bookmark_interval", &self.bookmark_interval)
            .field("fresh_timeout", &self.fresh_timeout)
            .field("ready_timeout", &self.ready_timeout)
            .finish_non_exhaustive()
    }
}

/// Match rule for a list's `resourceVersion` (`resourceVersionMatch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceVersionMatch {
    /// Data at least as new as the revision.
    NotOlderThan,
    /// Data at exactly the revision, which only storage can serve.
    Exact,
}

/// An index lookup: objects indexed under `value` by the index `name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexLookup {
    pub name: String,
    pub value: String,
}

impl IndexLookup {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        IndexLookup {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// Arguments of [`Cacher::list`].
#[derive(Clone, Default)]
pub struct ListRequest {
    /// Keys to list: the resource prefix or a sub-prefix such as one namespace's
    /// `/registry/pods/default/`. Must start with the resource prefix.
    pub prefix: String,
    /// The request's `resourceVersion`: `None` for unset (a consistent read from
    /// storage), `Some(0)` for any data from the cache, `Some(n)` for data not
    /// older than `n`, or exactly `n` with [`ResourceVersionMatch::Exact`].
    pub resource_version: Option<i64>,
    pub resource_version_match: Option<ResourceVersionMatch>,
    /// The selector predicate; `None` selects everything under the prefix.
    pub filter: Option<FilterFunc>,
    /// Index lookup the predicate implies (for example `spec.nodeName=node-1`);
    /// narrows the candidates, and the filter still applies.
    pub index: Option<IndexLookup>,
    /// Maximum number of items, 0 for no limit. Ignored for lists served from the
    /// cache, as upstream does for `resourceVersion` "0".
    pub limit: usize,
    /// Key to resume from, decoded from a continue token; the list then reads
    /// storage at `resource_version`, the token's revision.
    pub continue_key: Option<String>,
}

impl ListRequest {
    /// Returns whether the cache can serve this list, by upstream's rules: an
    /// unset `resourceVersion`, [`ResourceVersionMatch::Exact`], a continue key,
    /// or a limit with a `resourceVersion` other than "0" go to storage.
    pub fn served_from_cache(&self) -> bool {
        let Some(revision) = self.resource_version else {
            return false;
        };
        if self.resource_version_match == Some(ResourceVersionMatch::Exact) {
            return false;
        }
        if self.continue_key.is_some() {
            return false;
        }
        !(self.limit > 0 && revision != 0)
    }
}

impl fmt::Debug for ListRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListRequest")
            .field("prefix", &self.prefix)
            .field("resource_version", &self.resource_version)
            .field("resource_version_match", &self.resource_version_match)
            .field("filtered", &self.filter.is_some())
            .field("index", &self.index)
            .field("limit", &self.limit)
            .field("continue_key", &self.continue_key)
            .finish()
    }
}

/// Result of [`Cacher::list`].
#[derive(Clone, Debug)]
pub struct ListResponse {
    /// Matching objects in key order.
    pub items: Vec<Arc<CachedObject>>,
    /// Revision the list reflects (the list's `resourceVersion`).
    pub revision: i64,
    /// Key to continue from when a storage list stopped at its limit.
    pub continue_key: Option<String>,
    /// Keys left after this page, when known: only for a storage list without a
    /// filter, as upstream reports `remainingItemCount`.
    pub remaining: Option<i64>,
}

/// Arguments of [`Cacher::watch`].
#[derive(Clone, Default)]
pub struct WatchRequest {
    /// Keys to watch; must start with the resource prefix.
    pub prefix: String,
    /// 0 starts with `Added` events for the current state and continues with
    /// live events; `n` replays the recorded events after `n`, then live ones.
    pub resource_version: i64,
    /// The selector predicate, applied to the object before and after each write.
    pub filter: Option<FilterFunc>,
    /// An index value the filter requires (a kubelet's `spec.nodeName=<node>`).
    /// Routes only events of objects indexed under that value, before or after the
    /// write, to this watcher. The caller must set it only when the filter rejects
    /// every object without that value.
    pub index: Option<IndexLookup>,
    /// Whether the watcher wants bookmarks (`allowWatchBookmarks`).
    pub allow_bookmarks: bool,
}

impl fmt::Debug for WatchRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchRequest")
            .field("prefix", &self.prefix)
            .field("resource_version", &self.resource_version)
            .field("filtered", &self.filter.is_some())
            .field("index", &self.index)
            .field("allow_bookmarks", &self.allow_bookmarks)
            .finish()
    }
}

/// State shared by the cacher's handle, its reflector task and its watchers.
pub(crate) struct CacherState {
    prefix: String,
    backend: Arc<dyn Backend>,
    builder: ObjectBuilder,
    cache: RwLock<WatchCache>,
    revision: watch::Sender<i64>,
    ready: watch::Sender<bool>,
}

impl CacherState {
    fn read(&self) -> RwLockReadGuard<'_, WatchCache> {
        self.cache.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, WatchCache> {
        self.cache.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn revision(&self) -> i64 {
        self.read().revision()
    }

    pub(crate) fn set_ready(&self, ready: bool) {
        self.ready.send_replace(ready);
    }

    pub(crate) fn replace(&self, items: Vec<KeyValue>, revision: i64) -> ReplaceOutcome {
        let mut cache = self.write();
        let outcome = cache.replace(items, revision);
        self.revision.send_replace(cache.revision());
        outcome
    }

    pub(crate) fn apply(&self, event: Event) -> Option<Arc<WatchCacheEvent>> {
        let mut cache = self.write();
        let recorded = cache.apply(event, std::time::Instant::now());
        self.revision.send_replace(cache.revision());
        recorded
    }

    /// Applies a progress notification and returns the cache's revision after it.
    pub(crate) fn progress(&self, revision: i64) -> i64 {
        let mut cache = self.write();
        if cache.progress(revision) {
            self.revision.send_replace(cache.revision());
        }
        cache.revision()
    }
}

/// The watch cache of one resource; see the module documentation.
///
/// Dropping the cacher (or calling [`Cacher::stop`]) stops its tasks and ends
/// every watch.
pub struct Cacher {
    state: Arc<CacherState>,
    registry: Arc<WatcherRegistry>,
    config: CacherConfig,
    tasks: Vec<JoinHandle<()>>,
}

impl Cacher {
    /// Creates the cacher and starts its reflector and dispatcher tasks. Must be
    /// called within a Tokio runtime. The cache becomes ready once the first list
    /// of `config.resource_prefix` completes; see [`Cacher::ready`].
    pub fn new(backend: Arc<dyn Backend>, config: CacherConfig) -> Cacher {
        let builder = ObjectBuilder::new(config.attrs_func.clone(), config.indexers.clone());
        let limits = HistoryLimits {
            window: config.history_window,
            min_capacity: config.history_min_capacity,
            max_capacity: config.history_max_capacity,
        };
        let state = Arc::new(CacherState {
            prefix: config.resource_prefix.clone(),
            backend,
            builder: builder.clone(),
            cache: RwLock::new(WatchCache::new(builder, limits)),
            revision: watch::Sender::new(0),
            ready: watch::Sender::new(false),
        });
        let registry = Arc::new(WatcherRegistry::default());

        // Upstream queues up to 100 events between the watch cache and the
        // dispatcher.
        let (items_tx, items_rx) = mpsc::channel(100);
        let settings = DispatcherSettings {
            budget_max: config.dispatch_budget_max,
            budget_refresh_per_second: config.dispatch_budget_refresh_per_second,
            bookmark_interval: config.bookmark_interval,
        };
        let dispatcher = tokio::spawn(dispatcher::run_dispatcher(
            items_rx,
            registry.clone(),
            settings,
            config.resource_prefix.clone(),
        ));
        let backoff = reflector::Backoff::new(config.backoff_initial, config.backoff_max);
        let reflector = tokio::spawn(reflector::run_reflector(state.clone(), items_tx, backoff));

        Cacher {
            state,
            registry,
            config,
            tasks: vec![reflector, dispatcher],
        }
    }

    /// Waits until the cache contains a complete list, at most `ready_timeout`.
    /// Fails with [`Error::Unavailable`] when it does not, or at once when the
    /// cacher is stopped.
    pub async fn ready(&self) -> Result<(), Error> {
        if self.registry.is_closed() {
            return Err(Error::Unavailable(format!(
                "the watch cache for {} is stopped",
                self.state.prefix
            )));
        }
        let mut ready = self.state.ready.subscribe();
        match tokio::time::timeout(self.config.ready_timeout, ready.wait_for(|ready| *ready)).await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(Error::Unavailable(format!(
                "storage is (re)initializing: the watch cache for {} is not ready",
                self.state.prefix
            ))),
        }
    }

    /// Returns whether the cache currently contains a complete list.
    pub fn is_ready(&self) -> bool {
        *self.state.ready.borrow()
    }

    /// Returns the revision up to which the cache reflects storage.
    pub fn resource_version(&self) -> i64 {
        self.state.revision()
    }

    /// Returns the number of registered watchers.
    pub fn watcher_count(&self) -> usize {
        self.registry.len()
    }

    /// Reads one object. With `resource_version` `None` the read goes to storage
    /// (a consistent read). With `Some(n)` the cache serves it once it reached
    /// revision `n`, or at once for 0. Fails like [`Cacher::list`].
    pub async fn get(
        &self,
        key: &str,
        resource_version: Option<i64>,
    ) -> Result<Option<Arc<CachedObject>>, Error> {
        self.check_prefix(key)?;
        let Some(revision) = resource_version else {
            let kv = self.state.backend.get(key).await?;
            return Ok(kv.map(|kv| Arc::new(self.state.builder.build(kv))));
        };
        self.ready().await?;
        self.wait_until_fresh(revision).await?;
        Ok(self.state.read().get(key))
    }

    /// Lists objects. Requests for which [`ListRequest::served_from_cache`] is true
    /// are served from memory, after waiting up to `fresh_timeout` for the cache
    /// to reach the requested revision; the others read storage.
    ///
    /// Errors: [`Error::InvalidRequest`] for a prefix outside the resource or an
    /// unknown index; [`Error::Timeout`] ("Too large resource version") when the
    /// cache does not reach the revision in time; [`Error::Unavailable`] when the
    /// cache is not ready within `ready_timeout`; storage errors for storage reads.
    pub async fn list(&self, request: ListRequest) -> Result<ListResponse, Error> {
        self.check_prefix(&request.prefix)?;
        if let Some(index) = &request.index {
            self.check_index(index)?;
        }
        if !request.served_from_cache() {
            return self.list_from_storage(request).await;
        }

        self.ready().await?;
        let revision = request.resource_version.unwrap_or(0);
        self.wait_until_fresh(revision).await?;

        let filter = WatchFilter {
            prefix: request.prefix,
            predicate: request.filter,
        };
        let index = request
            .index
            .as_ref()
            .map(|index| (index.name.as_str(), index.value.as_str()));
        let cache = self.state.read();
        let items = cache
            .list(&filter.prefix, index)
            .into_iter()
            .filter(|object| filter.matches(object.key(), &object.attrs))
            .collect();
        Ok(ListResponse {
            items,
            revision: cache.revision(),
            continue_key: None,
            remaining: None,
        })
    }

    /// Lists from storage: at the latest revision for an unset or "not older
    /// than" `resourceVersion`, at exactly the revision for
    /// [`ResourceVersionMatch::Exact`] or a continue key. Pages through storage
    /// until `limit` objects pass the filter.
    async fn list_from_storage(&self, request: ListRequest) -> Result<ListResponse, Error> {
        let exact = request.resource_version_match == Some(ResourceVersionMatch::Exact)
            || request.continue_key.is_some();
        let requested = request.resource_version.unwrap_or(0);
        let filter = WatchFilter {
            prefix: request.prefix.clone(),
            predicate: request.filter.clone(),
        };
        let index = request.index.as_ref();
        let mut options = ListOptions {
            prefix: request.prefix.clone(),
            start_key: request.continue_key.clone().unwrap_or_default(),
            limit: request.limit,
            revision: if exact { requested } else { 0 },
        };

        let mut items = Vec::new();
        loop {
            let page = self.state.backend.list(options.clone()).await?;
            options.revision = page.revision;
            let page_len = page.items.len();
            let page_last_key = page.items.last().map(|kv| kv.key.clone());
            let mut stopped_at = None;

            for (position, kv) in page.items.into_iter().enumerate() {
                let key = kv.key.clone();
                let object = self.state.builder.build(kv);
                let indexed = index.is_none_or(|index| {
                    object
                        .index_values(&index.name)
                        .any(|value| value == index.value)
                });
                if indexed && filter.matches(object.key(), &object.attrs) {
                    items.push(Arc::new(object));
                }
                if request.limit > 0 && items.len() == request.limit {
                    stopped_at = Some((position, key));
                    break;
                }
            }

            if let Some((position, last_key)) = stopped_at {
                let more = position + 1 < page_len || page.more;
                let remaining = (request.filter.is_none() && index.is_none())
                    .then_some(page.remaining + (page_len - position - 1) as i64);
                return Ok(ListResponse {
                    items,
                    revision: page.revision,
                    continue_key: more.then(|| format!("{last_key}\0")),
                    remaining: remaining.filter(|_| more),
                });
            }
            let Some(page_last_key) = page_last_key.filter(|_| page.more) else {
                if !exact && page.revision < requested {
                    return Err(too_large_resource_version(requested, page.revision));
                }
                return Ok(ListResponse {
                    items,
                    revision: page.revision,
                    continue_key: None,
                    remaining: None,
                });
            };
            options.start_key = format!("{page_last_key}\0");
        }
    }

    /// Starts a watch; see [`WatchRequest`] for the starting point.
    ///
    /// The watcher's channel holds `watcher_channel_size` events (or
    /// `untriggered_watcher_channel_size` for a watcher without index trigger on
    /// a resource with indexes). A watcher that leaves it full beyond the
    /// dispatch budget is ended with [`Error::Timeout`].
    ///
    /// Errors: [`Error::Compacted`] (410 Gone, "too old resource version") when
    /// events after `resource_version` are no longer in the window;
    /// [`Error::InvalidRequest`] for a prefix outside the resource or an unknown
    /// index; [`Error::Unavailable`] when the cache is not ready in time or the
    /// cacher stopped.
    pub async fn watch(&self, request: WatchRequest) -> Result<Watcher, Error> {
        self.check_prefix(&request.prefix)?;
        if let Some(index) = &request.index {
            self.check_index(index)?;
        }
        self.ready().await?;

        let filter = WatchFilter {
            prefix: request.prefix,
            predicate: request.filter,
        };
        let trigger = request.index.map(|index| (index.name, index.value));
        let channel_size = if trigger.is_none() && self.state.builder.has_indexers() {
            self.config.untriggered_watcher_channel_size
        } else {
            self.config.watcher_channel_size
        };
        let (sender, receiver) = mpsc::channel(channel_size.max(1));
        let shared = Arc::new(WatcherShared::default());

        // The cache stays read-locked until the watcher is registered, so that
        // every event after its starting point reaches it through the dispatcher.
        let cache = self.state.read();
        let (initial, start_revision) = if request.resource_version == 0 {
            let revision = cache.revision();
            let index = trigger
                .as_ref()
                .map(|(name, value)| (name.as_str(), value.as_str()));
            let initial: VecDeque<InitialEvent> = cache
                .list(&filter.prefix, index)
                .into_iter()
                .map(|object| InitialEvent::Existing { object, revision })
                .collect();
            (initial, revision)
        } else {
            let events = cache.events_since(request.resource_version)?;
            let start = events
                .last()
                .map_or(request.resource_version, |event| event.revision);
            (
                events.into_iter().map(InitialEvent::Replayed).collect(),
                start,
            )
        };
        let entry = WatcherEntry {
            sender,
            shared: shared.clone(),
            filter: filter.clone(),
            trigger,
            start_revision,
            allow_bookmarks: request.allow_bookmarks,
            next_bookmark_at: tokio::time::Instant::now() + self.config.bookmark_interval,
        };
        let id = self.registry.add(entry).ok_or_else(|| {
            Error::Unavailable(format!(
                "the watch cache for {} is stopped",
                self.state.prefix
            ))
        })?;
        drop(cache);

        Ok(Watcher::new(
            id,
            filter,
            initial,
            receiver,
            shared,
            self.registry.clone(),
        ))
    }

    /// Stops the cacher's tasks and ends every watch. Later requests served from
    /// the cache fail with [`Error::Unavailable`].
    pub fn stop(&self) {
        for task in &self.tasks {
            task.abort();
        }
        self.registry.close();
        self.state.set_ready(false);
    }

    async fn wait_until_fresh(&self, revision: i64) -> Result<(), Error> {
        if revision <= 0 {
            return Ok(());
        }
        let mut current = self.state.revision.subscribe();
        let caught_up = tokio::time::timeout(
            self.config.fresh_timeout,
            current.wait_for(|current| *current >= revision),
        )
        .await;
        match caught_up {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(too_large_resource_version(revision, self.state.revision())),
        }
    }

    fn check_prefix(&self, prefix: &str) -> Result<(), Error> {
        if prefix.starts_with(&self.state.prefix) {
            return Ok(());
        }
        Err(Error::InvalidRequest(format!(
            "key or prefix {prefix:?} is outside the cached resource prefix {:?}",
            self.state.prefix
        )))
    }

    fn check_index(&self, index: &IndexLookup) -> Result<(), Error> {
        if self.state.builder.has_index(&index.name) {
            return Ok(());
        }
        Err(Error::InvalidRequest(format!(
            "index {:?} does not exist for {}",
            index.name, self.state.prefix
        )))
    }
}

impl Drop for Cacher {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for Cacher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cacher")
            .field("prefix", &self.state.prefix)
            .field("ready", &self.is_ready())
            .field("resource_version", &self.resource_version())
            .field("watchers", &self.watcher_count())
            .finish()
    }
}

/// The error for a request at a revision the cache or storage has not reached,
/// with upstream's message. The apiserver returns it as 504 with Retry-After 1.
fn too_large_resource_version(requested: i64, current: i64) -> Error {
    Error::Timeout(format!(
        "Too large resource version: {requested}, current: {current}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_from_cache_follows_upstream_rules() {
        use ResourceVersionMatch::{Exact, NotOlderThan};
        // (resourceVersion, match, limit, continue key, served from cache)
        let cases = [
            (None, None, 0, false, false),
            (None, None, 500, false, false),
            (Some(0), None, 0, false, true),
            (Some(0), None, 500, false, true),
            (Some(0), Some(NotOlderThan), 500, false, true),
            (Some(7), None, 0, false, true),
            (Some(7), Some(NotOlderThan), 0, false, true),
            (Some(7), Some(NotOlderThan), 500, false, false),
            (Some(7), Some(Exact), 0, false, false),
            (Some(7), None, 500, true, false),
        ];
        for (resource_version, resource_version_match, limit, continued, expected) in cases {
            let request = ListRequest {
                prefix: "/registry/pods/".to_string(),
                resource_version,
                resource_version_match,
                limit,
                continue_key: continued.then(|| "/registry/pods/default/a\0".to_string()),
                ..ListRequest::default()
            };
            assert_eq!(request.served_from_cache(), expected, "{request:?}");
        }
    }
}
