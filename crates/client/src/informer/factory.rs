//! The shared informer factory: one informer per resource and options, started
//! together.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use super::shared::{CacheSynced, InformerOptions, SharedIndexInformer, strip_managed_fields};
use crate::api::{
    ApiResource, DynamicObject, KubeObject, PARTIAL_OBJECT_METADATA_ACCEPT, PartialObjectMetadata,
    ScopeKind,
};
use crate::cache::ReflectorOptions;
use crate::rest::RestClient;

/// Chooses the resources whose informers keep packed caches.
type PackFilter = Box<dyn Fn(&ApiResource) -> bool + Send + Sync>;

/// How often [`wait_for_cache_sync`] checks the informers.
const SYNC_POLL: Duration = Duration::from_millis(100);

/// Hands out shared informers: asking twice for the same resource and options
/// returns the same informer. [`SharedInformerFactory::start`] runs every informer
/// requested so far that is not running yet.
pub struct SharedInformerFactory {
    client: RestClient,
    default_resync: Duration,
    reflector_options: ReflectorOptions,
    strip_managed_fields: bool,
    pack_caches: Option<PackFilter>,
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    informer: Box<dyn Any + Send + Sync>,
    start: Box<dyn Fn(watch::Receiver<bool>) + Send + Sync>,
    synced: Arc<dyn CacheSynced>,
    started: bool,
}

impl SharedInformerFactory {
    /// Creates a factory whose informers resync their handlers every
    /// `default_resync` (zero: never) unless an informer or handler sets its own.
    pub fn new(client: RestClient, default_resync: Duration) -> Self {
        Self {
            client,
            default_resync,
            reflector_options: ReflectorOptions::default(),
            strip_managed_fields: false,
            pack_caches: None,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the reflector settings (watch timeouts, backoff, page size) of the
    /// informers created afterwards; selectors come from each informer's options.
    pub fn with_reflector_options(mut self, options: ReflectorOptions) -> Self {
        self.reflector_options = options;
        self
    }

    /// Drops `metadata.managedFields` from the objects of the informers created
    /// afterwards, as upstream's controller manager and scheduler do: they never read
    /// it, and it is often the largest part of a cached object. An update built from a
    /// cached object then carries no `managedFields`, which keeps the stored ones.
    pub fn with_managed_fields_stripped(mut self) -> Self {
        self.strip_managed_fields = true;
        self
    }

    /// Packs the caches of the informers created afterwards whose resource `pack`
    /// accepts (see [`SharedIndexInformer::pack_cache`]): for the kinds a process
    /// caches many objects of and reads few of per event, such as the controller
    /// manager's pods. Kinds read whole on every event of another kind stay faster
    /// decoded.
    pub fn with_packed_caches(
        mut self,
        pack: impl Fn(&ApiResource) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.pack_caches = Some(Box::new(pack));
        self
    }

    /// Returns the REST client informers use.
    pub fn client(&self) -> &RestClient {
        &self.client
    }

    /// Returns the informer of `K` across all namespaces.
    pub fn informer<K>(&self) -> SharedIndexInformer<K>
    where
        K: KubeObject + k8s_openapi::Resource,
        K::Scope: ScopeKind,
    {
        self.informer_with::<K>(InformerOptions::default())
    }

    /// Returns the informer of `K` with `options` (namespace, selectors, resync).
    pub fn informer_with<K>(&self, options: InformerOptions) -> SharedIndexInformer<K>
    where
        K: KubeObject + k8s_openapi::Resource,
        K::Scope: ScopeKind,
    {
        self.informer_for::<K>(ApiResource::of::<K>(), options, None)
    }

    /// Returns the informer of any resource with objects as [`DynamicObject`].
    pub fn dynamic_informer(
        &self,
        resource: ApiResource,
        options: InformerOptions,
    ) -> SharedIndexInformer<DynamicObject> {
        self.informer_for::<DynamicObject>(resource, options, None)
    }

    /// Returns the informer of any resource that caches only metadata
    /// ([`PartialObjectMetadata`]), what the garbage collector and quota use.
    ///
    /// NOTE: this repository's kube-apiserver honours the metadata Accept header on
    /// lists but sends whole objects on watches. They are decoded down to metadata,
    /// but their `kind` is the object's kind rather than `PartialObjectMetadata`.
    pub fn metadata_informer(
        &self,
        resource: ApiResource,
        options: InformerOptions,
    ) -> SharedIndexInformer<PartialObjectMetadata> {
        self.informer_for::<PartialObjectMetadata>(
            resource,
            options,
            Some(PARTIAL_OBJECT_METADATA_ACCEPT.to_string()),
        )
    }

    /// Returns the informer of `resource` decoded as `K`, creating it on first use.
    pub fn informer_for<K: KubeObject>(
        &self,
        resource: ApiResource,
        mut options: InformerOptions,
        accept: Option<String>,
    ) -> SharedIndexInformer<K> {
        if options.resync.is_none() {
            options.resync = Some(self.default_resync);
        }
        let key = format!(
            "{:?}|{}|{}|{:?}|{:?}|{:?}|{:?}",
            TypeId::of::<K>(),
            resource.api_version(),
            resource.plural,
            options.namespace,
            options.label_selector,
            options.field_selector,
            accept,
        );
        let mut entries = self.lock();
        if let Some(entry) = entries.get(&key)
            && let Some(informer) = entry.informer.downcast_ref::<SharedIndexInformer<K>>()
        {
            return informer.clone();
        }
        let informer = SharedIndexInformer::<K>::with_settings(
            self.client.clone(),
            resource,
            options,
            self.reflector_options.clone(),
            accept,
        );
        if self.strip_managed_fields {
            // A new informer has not started, so the transform is always accepted.
            let _ = informer.set_transform(Arc::new(strip_managed_fields::<K>));
        }
        if let Some(pack) = &self.pack_caches
            && pack(informer.resource())
        {
            informer.pack_cache();
        }
        let runner = informer.clone();
        entries.insert(
            key,
            Entry {
                informer: Box::new(informer.clone()),
                start: Box::new(move |cancel| {
                    let runner = runner.clone();
                    tokio::spawn(async move { runner.run(cancel).await });
                }),
                synced: Arc::new(informer.clone()),
                started: false,
            },
        );
        informer
    }

    /// Starts every informer requested so far that is not running yet; each runs
    /// until `cancel` is true or its sender is dropped. Call within a tokio runtime.
    pub fn start(&self, cancel: watch::Receiver<bool>) {
        for entry in self.lock().values_mut() {
            if !entry.started {
                entry.started = true;
                (entry.start)(cancel.clone());
            }
        }
    }

    /// Waits until every started informer has synced. Returns false when `cancel`
    /// fired first.
    pub async fn wait_for_cache_sync(&self, cancel: watch::Receiver<bool>) -> bool {
        let synced: Vec<Arc<dyn CacheSynced>> = self
            .lock()
            .values()
            .filter(|entry| entry.started)
            .map(|entry| entry.synced.clone())
            .collect();
        let refs: Vec<&dyn CacheSynced> = synced.iter().map(|s| s.as_ref()).collect();
        wait_for_cache_sync(cancel, &refs).await
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Waits until every one of `informers` has synced. Returns false when `cancel`
/// became true (or its sender was dropped) first.
pub async fn wait_for_cache_sync(
    mut cancel: watch::Receiver<bool>,
    informers: &[&dyn CacheSynced],
) -> bool {
    loop {
        if informers.iter().all(|informer| informer.has_synced()) {
            return true;
        }
        if *cancel.borrow() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(SYNC_POLL) => {}
            changed = cancel.changed() => {
                if changed.is_err() {
                    return false;
                }
            }
        }
    }
}
