//! The generic store: create, get, list, watch, update, delete of one resource over
//! the storage layer, with the kind's [`ErasedStrategy`] for what differs per kind.
//!
//! Objects travel as JSON [`Value`]s. Writes go through the backend; reads of lists
//! and watches go through the resource's [`Cacher`], which decides by upstream's
//! rules whether memory or storage serves them.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use apimachinery::errors::{FieldError, StatusError};
use apimachinery::fields;
use apimachinery::labels;
use apimachinery::meta::{GroupKind, GroupResource, format_time, now_time};
use apimachinery::scheme::ResourceInfo;
use bytes::Bytes;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;
use storage::cacher::{
    AttrsFunc, CachedAttrs, Cacher, CacherConfig, FilterFunc, IndexLookup, ListRequest,
    ObjectAttrs, ResourceVersionMatch, WatchRequest, Watcher,
};
use storage::update::{UpdateDecision, UpdateError, guaranteed_update_from};
use storage::{Backend, KeyValue, continue_token};

use super::conversion::VersionConverter;
use super::encoding::{
    decode_stored, encode_for_storage, set_resource_version, with_resource_version,
};
use super::fieldmanager::FieldManager;
use super::hooks::StoreHooks;
use super::object_meta::{
    NameValidator, name_validator, validate_object_meta, validate_object_meta_update,
};
use super::strategy::{DeleteContext, ErasedStrategy};

/// Finalizer that makes the garbage collector orphan dependents before deletion.
pub const FINALIZER_ORPHAN: &str = "orphan";
/// Finalizer that makes the garbage collector delete dependents first.
pub const FINALIZER_FOREGROUND: &str = "foregroundDeletion";

/// How many times a create with `generateName` retries a name that is taken.
const GENERATE_NAME_ATTEMPTS: usize = 8;

/// Parameters of a list or watch request.
#[derive(Clone, Debug, Default)]
pub struct ListParams {
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub limit: usize,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<String>,
    pub allow_bookmarks: bool,
}

/// One page of a list: items as served JSON, in key order.
pub struct ListOutput {
    pub items: Vec<Bytes>,
    pub resource_version: i64,
    pub continue_token: Option<String>,
    pub remaining_item_count: Option<i64>,
}

/// The part of an object an update replaces, after the URL's subresource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateScope {
    /// The object itself, without its status.
    Object,
    /// The `status` subresource.
    Status,
    /// The `approval` subresource of CertificateSigningRequests: its conditions.
    Approval,
    /// The `ephemeralcontainers` subresource of pods: `spec.ephemeralContainers`.
    EphemeralContainers,
}

impl UpdateScope {
    /// Returns the subresource name that managedFields entries record.
    fn subresource(self) -> Option<&'static str> {
        match self {
            UpdateScope::Object => None,
            UpdateScope::Status => Some("status"),
            UpdateScope::Approval => Some("approval"),
            UpdateScope::EphemeralContainers => Some("ephemeralcontainers"),
        }
    }
}

/// Parameters of a write.
#[derive(Clone, Debug, Default)]
pub struct WriteParams {
    pub dry_run: bool,
    pub field_manager: Option<String>,
    /// Manager that `metadata.managedFields` credits with the write: the
    /// `fieldManager` query value or the User-Agent prefix. `None` leaves the entries
    /// untouched (internal writes, subresources other than status).
    pub manager: Option<String>,
    /// Subresource the write goes through (`scale`), recorded in the manager's
    /// entry. Status and approval writes are marked by their [`UpdateScope`] instead.
    pub subresource: String,
}

/// Parameters of a delete: the request's DeleteOptions.
#[derive(Clone, Debug, Default)]
pub struct DeleteParams {
    pub dry_run: bool,
    pub grace_period_seconds: Option<i64>,
    pub propagation_policy: Option<String>,
    pub precondition_uid: Option<String>,
    pub precondition_resource_version: Option<String>,
}

/// Outcome of a delete.
pub enum DeleteOutcome {
    /// The object is gone; the value is its last state.
    Deleted(Value),
    /// The object stays until its finalizers are removed or its grace period ends;
    /// the value is its state with `deletionTimestamp` set.
    Pending(Value),
}

/// The store of one resource.
pub struct Store {
    pub info: &'static ResourceInfo,
    pub strategy: Arc<dyn ErasedStrategy>,
    backend: Arc<dyn Backend>,
    cacher: Arc<Cacher>,
    /// Key prefix with a trailing slash, such as `/registry/pods/`.
    prefix: String,
    name_validator: NameValidator,
    hooks: Option<Arc<dyn StoreHooks>>,
    /// Set when the resource is served in another version than it is stored in.
    converter: Option<Arc<dyn VersionConverter>>,
    /// The served version's strategy of a converted resource: it defaults and
    /// validates requests in their own version, as upstream validates them with the
    /// rules of the request's version.
    served_strategy: Option<Arc<dyn ErasedStrategy>>,
}

impl Store {
    /// Creates the store and starts its cacher. `etcd_prefix` is `--etcd-prefix`
    /// (`/registry` by default).
    pub fn new(
        info: &'static ResourceInfo,
        strategy: Arc<dyn ErasedStrategy>,
        backend: Arc<dyn Backend>,
        etcd_prefix: &str,
    ) -> Store {
        let path = info.storage_path.unwrap_or(info.resource);
        let prefix = format!("{}/{path}/", etcd_prefix.trim_end_matches('/'));

        let attrs_strategy = strategy.clone();
        let attrs_func: AttrsFunc = Arc::new(move |kv: &KeyValue| {
            let object: Value =
                serde_json::from_slice(&kv.value).map_err(|error| error.to_string())?;
            Ok(object_attrs(attrs_strategy.as_ref(), &object))
        });
        let mut config = CacherConfig::new(prefix.clone(), attrs_func);
        if info.group.is_empty() && info.resource == "pods" {
            let by_node: storage::cacher::IndexFunc = Arc::new(|attrs: &ObjectAttrs| {
                attrs
                    .fields
                    .get("spec.nodeName")
                    .map(|node| vec![node.clone()])
                    .unwrap_or_default()
            });
            config = config.with_index("spec.nodeName", by_node);
        }
        let cacher = Arc::new(Cacher::new(backend.clone(), config));

        Store {
            info,
            strategy,
            backend,
            cacher,
            prefix,
            name_validator: name_validator(info.group, info.resource),
            hooks: None,
            converter: None,
            served_strategy: None,
        }
    }

    /// Serves the resource in `self.info`'s version over objects stored in another
    /// version; `strategy` must then be the storage kind's.
    pub fn with_converter(
        mut self,
        converter: Arc<dyn VersionConverter>,
        served_strategy: Option<Arc<dyn ErasedStrategy>>,
    ) -> Store {
        self.converter = Some(converter);
        self.served_strategy = served_strategy;
        self
    }

    /// Validates a stored-version object (and its old version on updates) with the
    /// served version's strategy when there is one, else the storage kind's.
    fn validate_kind(
        &self,
        new: &Value,
        old: Option<&Value>,
        scope: UpdateScope,
    ) -> Result<Vec<FieldError>, StatusError> {
        let (strategy, new, old) = match &self.served_strategy {
            Some(strategy) => (
                strategy.as_ref(),
                Cow::Owned(self.served(new.clone())),
                old.map(|old| Cow::Owned(self.served(old.clone()))),
            ),
            None => (
                self.strategy.as_ref(),
                Cow::Borrowed(new),
                old.map(Cow::Borrowed),
            ),
        };
        let result = match &old {
            None => strategy.validate(&new),
            Some(old) => strategy.validate_scoped_update(scope, &new, old),
        };
        result.map_err(|error| StatusError::bad_request(error.to_string()))
    }

    /// Converts a stored object to the served version.
    fn served(&self, object: Value) -> Value {
        match &self.converter {
            Some(converter) => converter.to_served(object),
            None => object,
        }
    }

    /// Converts a served object to the stored version.
    fn stored(&self, object: Value) -> Value {
        match &self.converter {
            Some(converter) => converter.to_stored(object),
            None => object,
        }
    }

    /// Returns the served JSON of a stored value at `revision`.
    pub fn served_kv_bytes(&self, stored: &[u8], revision: i64) -> Bytes {
        served_bytes(self.converter.as_deref(), stored, revision)
    }

    /// Returns the converter of a resource served in another version than stored.
    pub fn converter(&self) -> Option<Arc<dyn VersionConverter>> {
        self.converter.clone()
    }

    /// Adds hooks around writes (allocations of Services).
    pub fn with_hooks(mut self, hooks: Arc<dyn StoreHooks>) -> Store {
        self.hooks = Some(hooks);
        self
    }

    /// Returns the cacher, for readiness checks.
    pub fn cacher(&self) -> &Arc<Cacher> {
        &self.cacher
    }

    fn group_resource(&self) -> GroupResource {
        self.info.group_resource()
    }

    fn group_kind(&self) -> GroupKind {
        GroupKind::new(self.info.group, self.info.kind)
    }

    /// Returns the storage key of an object.
    pub fn key(&self, namespace: &str, name: &str) -> String {
        if self.info.namespaced {
            format!("{}{namespace}/{name}", self.prefix)
        } else {
            format!("{}{name}", self.prefix)
        }
    }

    /// Returns the key prefix of a namespace's objects, or of all objects.
    fn list_prefix(&self, namespace: &str) -> String {
        if self.info.namespaced && !namespace.is_empty() {
            format!("{}{namespace}/", self.prefix)
        } else {
            self.prefix.clone()
        }
    }

    /// Maps a storage error to the Status upstream returns.
    pub fn storage_error(&self, error: storage::Error, name: &str) -> StatusError {
        let resource = self.group_resource();
        match error {
            storage::Error::NotFound { .. } => StatusError::not_found(&resource, name),
            storage::Error::KeyExists { .. } => StatusError::already_exists(&resource, name),
            storage::Error::Conflict { .. } => StatusError::conflict(
                &resource,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            ),
            storage::Error::Compacted {
                requested,
                compacted,
            } => StatusError::too_old_resource_version(
                requested.max(0) as u64,
                compacted.max(0) as u64,
            ),
            storage::Error::FutureRevision { requested, current } => {
                StatusError::too_large_resource_version(
                    requested.max(0) as u64,
                    current.max(0) as u64,
                    1,
                )
            }
            storage::Error::ValueTooLarge { size, limit, .. } => {
                StatusError::request_entity_too_large(&format!(
                    "the object is {size} bytes, over the storage limit of {limit} bytes"
                ))
            }
            storage::Error::InvalidRequest(message) => StatusError::bad_request(message),
            storage::Error::Unavailable(message) => StatusError::service_unavailable(message),
            storage::Error::Timeout(message) => StatusError::timeout(&message, 1),
            storage::Error::Internal(message) => StatusError::internal_error(message),
        }
    }

    // ---- reads ----

    /// Returns the object, with its resourceVersion.
    pub async fn get(&self, namespace: &str, name: &str) -> Result<Value, StatusError> {
        let key = self.key(namespace, name);
        let kv = self
            .backend
            .get(&key)
            .await
            .map_err(|error| self.storage_error(error, name))?
            .ok_or_else(|| StatusError::not_found(&self.group_resource(), name))?;
        decode_stored(&kv.value, kv.mod_revision)
            .map(|object| self.served(object))
            .map_err(StatusError::internal_error)
    }

    /// Returns the object as served JSON bytes.
    pub async fn get_bytes(&self, namespace: &str, name: &str) -> Result<Bytes, StatusError> {
        let key = self.key(namespace, name);
        let kv = self
            .backend
            .get(&key)
            .await
            .map_err(|error| self.storage_error(error, name))?
            .ok_or_else(|| StatusError::not_found(&self.group_resource(), name))?;
        Ok(self.served_kv_bytes(&kv.value, kv.mod_revision))
    }

    /// Returns the object as served JSON bytes for a GET's `resourceVersion`, as
    /// upstream's cacher serves it. Unset or empty reads storage (a consistent
    /// read), `0` reads the watch cache, and `N` waits until the cache reached `N`.
    pub async fn get_bytes_at(
        &self,
        namespace: &str,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<Bytes, StatusError> {
        let revision = match resource_version {
            None | Some("") => return self.get_bytes(namespace, name).await,
            Some(text) => parse_resource_version(text)?,
        };
        let cached = self
            .cacher
            .get(&self.key(namespace, name), Some(revision))
            .await
            .map_err(|error| self.storage_error(error, name))?
            .ok_or_else(|| StatusError::not_found(&self.group_resource(), name))?;
        Ok(self.served_kv_bytes(&cached.kv.value, cached.kv.mod_revision))
    }

    /// Returns the watch cache's state of `key`, when the cache is ready and has the
    /// key, as the starting point of a guaranteed update. The update's conditional
    /// write catches a cached state that lags behind storage. Upstream's cacher passes
    /// its object down to etcd's update loop the same way.
    async fn cached_state(&self, key: &str) -> Option<KeyValue> {
        if !self.cacher.is_ready() {
            return None;
        }
        match self.cacher.get(key, Some(0)).await {
            Ok(cached) => cached.map(|cached| cached.kv.clone()),
            Err(_) => None,
        }
    }

    /// Returns the object from the watch cache, reading storage only when
    /// the cache does not have it (it may lag behind a create that just
    /// happened). For checks that tolerate a slightly stale object, as upstream's
    /// admission plugins read their informers.
    pub async fn get_cached(&self, namespace: &str, name: &str) -> Result<Value, StatusError> {
        let key = self.key(namespace, name);
        if self.cacher.is_ready()
            && let Ok(Some(cached)) = self.cacher.get(&key, Some(0)).await
        {
            return decode_stored(&cached.kv.value, cached.kv.mod_revision)
                .map(|object| self.served(object))
                .map_err(StatusError::internal_error);
        }
        self.get(namespace, name).await
    }

    /// Builds the predicate of a request's selectors, checking field names against
    /// the kind's selectable fields.
    pub fn selection(&self, params: &ListParams) -> Result<Selection, StatusError> {
        let label_selector = match params.label_selector.as_deref() {
            None | Some("") => None,
            Some(text) => Some(
                labels::parse(text).map_err(|error| StatusError::bad_request(error.to_string()))?,
            ),
        };
        let field_selector = match params.field_selector.as_deref() {
            None | Some("") => None,
            Some(text) => Some(
                fields::parse(text).map_err(|error| StatusError::bad_request(error.to_string()))?,
            ),
        };
        let field_selector = match (field_selector, &self.converter) {
            (Some(selector), Some(converter)) => Some(selector.transform(|field, value| {
                converter
                    .field_label(field)
                    .map(|label| (label, value.to_string()))
                    .ok_or_else(|| {
                        StatusError::bad_request(format!("field label not supported: {field}"))
                    })
            })?),
            (selector, _) => selector,
        };
        if let Some(selector) = &field_selector {
            let supported = self.strategy.selectable_field_names();
            for requirement in selector.requirements() {
                let field = requirement.field.as_str();
                if field != "metadata.name"
                    && field != "metadata.namespace"
                    && !supported.contains(&field)
                {
                    return Err(StatusError::bad_request(format!(
                        "field label not supported: {field}"
                    )));
                }
            }
        }
        Ok(Selection {
            label_selector,
            field_selector,
        })
    }

    /// Lists objects of a namespace (or all, for an empty namespace).
    pub async fn list(
        &self,
        namespace: &str,
        params: &ListParams,
    ) -> Result<ListOutput, StatusError> {
        let selection = self.selection(params)?;
        let index = selection.node_index();
        let filter = selection.filter();
        let prefix = self.list_prefix(namespace);

        let (resource_version, resource_version_match) = parse_resource_version_params(params)?;
        let mut request = ListRequest {
            prefix: prefix.clone(),
            resource_version,
            resource_version_match,
            filter,
            index: if self.info.group.is_empty() && self.info.resource == "pods" {
                index
            } else {
                None
            },
            limit: params.limit,
            continue_key: None,
        };

        if let Some(token) = params
            .continue_token
            .as_deref()
            .filter(|token| !token.is_empty())
        {
            if resource_version.is_some_and(|revision| revision != 0) {
                return Err(StatusError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            let position = continue_token::decode(&prefix, token)
                .map_err(|error| StatusError::bad_request(error.to_string()))?;
            request.resource_version = Some(position.revision);
            request.resource_version_match = Some(ResourceVersionMatch::Exact);
            request.continue_key = Some(position.start_key);
        }

        let response = self
            .cacher
            .list(request)
            .await
            .map_err(|error| match error {
                storage::Error::Compacted { .. } if params.continue_token.is_some() => {
                    StatusError::continue_expired(None)
                }
                other => self.storage_error(other, ""),
            })?;

        let continue_token = response.continue_key.as_ref().and_then(|_| {
            response
                .items
                .last()
                .map(|last| continue_token::encode(&prefix, last.key(), response.revision))
        });
        let items = response
            .items
            .iter()
            .map(|object| self.served_kv_bytes(&object.kv.value, object.kv.mod_revision))
            .collect();
        Ok(ListOutput {
            items,
            resource_version: response.revision,
            continue_token,
            remaining_item_count: response.remaining.filter(|remaining| *remaining > 0),
        })
    }

    /// Starts a watch of a namespace (or all, for an empty namespace). A `name`
    /// narrows it to one object, as `fieldSelector=metadata.name=` does.
    pub async fn watch(
        &self,
        namespace: &str,
        params: &ListParams,
    ) -> Result<Watcher, StatusError> {
        let selection = self.selection(params)?;
        let index = selection.node_index();
        let filter = selection.filter();
        let (resource_version, _) = parse_resource_version_params(params)?;

        // An unset resourceVersion starts "from now" with the current state, as 0 does.
        let request = WatchRequest {
            prefix: self.list_prefix(namespace),
            resource_version: resource_version.unwrap_or(0),
            filter,
            index: if self.info.group.is_empty() && self.info.resource == "pods" {
                index
            } else {
                None
            },
            allow_bookmarks: params.allow_bookmarks,
        };
        self.cacher
            .watch(request)
            .await
            .map_err(|error| self.storage_error(error, ""))
    }

    // ---- writes ----

    /// Creates an object in `namespace` (ignored for cluster-scoped kinds).
    pub async fn create(
        &self,
        namespace: &str,
        object: Value,
        params: &WriteParams,
    ) -> Result<Value, StatusError> {
        let object = self.decode(object)?;
        self.create_stored(namespace, object, params)
            .await
            .map(|created| self.served(created))
    }

    /// Creates an object that [`Store::default_object`] already decoded and
    /// defaulted, so the create skips a second decode. Admission's additions are
    /// not defaulted, because upstream's built-in plugins set every field they add.
    pub async fn create_defaulted(
        &self,
        namespace: &str,
        object: Value,
        params: &WriteParams,
    ) -> Result<Value, StatusError> {
        let object = self.stored(object);
        self.create_stored(namespace, object, params)
            .await
            .map(|created| self.served(created))
    }

    /// Creates a decoded and defaulted object in the storage version.
    async fn create_stored(
        &self,
        namespace: &str,
        mut object: Value,
        params: &WriteParams,
    ) -> Result<Value, StatusError> {
        let name = string_at(&object, "name");
        let generate_name = string_at(&object, "generateName");
        let attempts = if name.is_empty() && !generate_name.is_empty() {
            GENERATE_NAME_ATTEMPTS
        } else {
            1
        };

        self.prepare_metadata_for_create(&mut object, namespace)?;
        // With a fixed name, no hooks and one strategy, the kind's validation
        // cannot change between preparation and the write: one typed decode does
        // both.
        let kind_errors = if attempts == 1 && self.hooks.is_none() && self.served_strategy.is_none()
        {
            Some(
                self.strategy
                    .prepare_and_validate_create(&mut object)
                    .map_err(|error| StatusError::bad_request(error.to_string()))?,
            )
        } else {
            self.strategy
                .prepare_for_create(&mut object)
                .map_err(|error| StatusError::bad_request(error.to_string()))?;
            None
        };

        let allocations = match &self.hooks {
            Some(hooks) => hooks.before_create(&mut object, params.dry_run).await?,
            None => Vec::new(),
        };
        let result = self
            .create_attempts(object, &name, &generate_name, attempts, params, kind_errors)
            .await;
        if result.is_err()
            && let Some(hooks) = &self.hooks
        {
            hooks.release(allocations).await;
        }
        result
    }

    async fn create_attempts(
        &self,
        mut object: Value,
        name: &str,
        generate_name: &str,
        attempts: usize,
        params: &WriteParams,
        kind_errors: Option<Vec<FieldError>>,
    ) -> Result<Value, StatusError> {
        for attempt in 0..attempts {
            if name.is_empty() && !generate_name.is_empty() {
                set_meta(
                    &mut object,
                    "name",
                    Value::String(apimachinery::validation::generate_name(generate_name)),
                );
            }
            let object_name = string_at(&object, "name");
            self.validate_create(&object, &object_name, kind_errors.as_deref())?;

            if params.dry_run {
                return Ok(object);
            }

            let key = self.key(namespace_of(&object), &object_name);
            match self.backend.create(&key, encode_for_storage(&object)).await {
                Ok(kv) => {
                    set_resource_version(&mut object, kv.mod_revision);
                    return Ok(object);
                }
                Err(storage::Error::KeyExists { .. }) if attempt + 1 < attempts => {
                    tracing::debug!(resource = self.info.resource, name = %object_name, "generated name taken; retrying");
                    continue;
                }
                Err(storage::Error::KeyExists { .. }) if attempts > 1 => {
                    return Err(StatusError::generate_name_conflict(
                        &self.group_resource(),
                        &object_name,
                        1,
                    ));
                }
                Err(error) => return Err(self.storage_error(error, &object_name)),
            }
        }
        Err(StatusError::internal_error("create made no attempt"))
    }

    /// Decodes into the kind (400 when the JSON does not fit it) and applies defaults.
    pub(crate) fn decode(&self, object: Value) -> Result<Value, StatusError> {
        let kind = self.info.kind;
        let object = match &self.served_strategy {
            Some(strategy) => strategy.decode_and_default(object).map_err(|error| {
                StatusError::bad_request(format!(
                    "{kind} in version \"{}\" cannot be handled as a {kind}: {error}",
                    self.info.version
                ))
            })?,
            None => object,
        };
        let object = self.stored(object);
        self.strategy.decode_and_default(object).map_err(|error| {
            StatusError::bad_request(format!(
                "{kind} in version \"{}\" cannot be handled as a {kind}: {error}",
                self.info.version
            ))
        })
    }

    fn prepare_metadata_for_create(
        &self,
        object: &mut Value,
        namespace: &str,
    ) -> Result<(), StatusError> {
        if self.info.namespaced {
            set_meta(object, "namespace", Value::String(namespace.to_string()));
        } else {
            remove_meta(object, "namespace");
        }
        set_meta(
            object,
            "uid",
            Value::String(uuid::Uuid::new_v4().to_string()),
        );
        set_meta(
            object,
            "creationTimestamp",
            Value::String(format_time(now_time())),
        );
        for field in [
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "resourceVersion",
            "selfLink",
        ] {
            remove_meta(object, field);
        }
        if self.strategy.tracks_generation() {
            set_meta(object, "generation", Value::from(1));
        } else {
            remove_meta(object, "generation");
        }
        Ok(())
    }

    /// Validates a new object's metadata and kind; `kind_errors` are the kind's
    /// errors when the strategy already validated it.
    fn validate_create(
        &self,
        object: &Value,
        name: &str,
        kind_errors: Option<&[FieldError]>,
    ) -> Result<(), StatusError> {
        let meta = object_meta(object)?;
        let mut errors = validate_object_meta(&meta, self.info.namespaced, self.name_validator);
        match kind_errors {
            Some(kind_errors) => errors.extend_from_slice(kind_errors),
            None => errors.extend(self.validate_kind(object, None, UpdateScope::Object)?),
        }
        self.invalid_if_any(name, errors)
    }

    fn invalid_if_any(&self, name: &str, errors: Vec<FieldError>) -> Result<(), StatusError> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(StatusError::invalid(&self.group_kind(), name, &errors))
        }
    }

    /// Replaces an object, or the part of it `scope` names. Returns the stored object
    /// and whether the update created it.
    pub async fn update(
        &self,
        namespace: &str,
        name: &str,
        object: Value,
        scope: UpdateScope,
        params: &WriteParams,
    ) -> Result<(Value, bool), StatusError> {
        let mut requested = self.decode(object)?;
        if self.converter.is_some() {
            requested = self.served(requested);
        }
        let Some(hooks) = self.hooks.clone().filter(|_| scope == UpdateScope::Object) else {
            return self
                .update_with(namespace, name, scope, params, move |_| {
                    Ok(requested.clone())
                })
                .await;
        };

        let old = match self.get(namespace, name).await {
            Ok(old) => Some(old),
            Err(error) if error.code() == 404 => None,
            Err(error) => return Err(error),
        };
        let allocations = match &old {
            Some(old) => {
                hooks
                    .before_update(&mut requested, old, params.dry_run)
                    .await?
            }
            None => hooks.before_create(&mut requested, params.dry_run).await?,
        };
        let result = self
            .update_with(namespace, name, scope, params, move |_| {
                Ok(requested.clone())
            })
            .await;
        match &result {
            Err(_) => hooks.release(allocations).await,
            Ok((stored, _)) => {
                if let Some(old) = &old
                    && !params.dry_run
                {
                    hooks.release(hooks.freed_by_update(stored, old)).await;
                }
            }
        }
        result
    }

    /// Runs a guaranteed update whose new object `transform` computes from the
    /// current one (`None` when missing). Used by update, patch and the
    /// subresources. Returns the stored object and whether it was created.
    pub async fn update_with<F>(
        &self,
        namespace: &str,
        name: &str,
        scope: UpdateScope,
        params: &WriteParams,
        transform: F,
    ) -> Result<(Value, bool), StatusError>
    where
        F: FnMut(Option<&Value>) -> Result<Value, StatusError>,
    {
        self.update_with_stored(namespace, name, scope, params, transform)
            .await
            .map(|(object, created)| (self.served(object), created))
    }

    async fn update_with_stored<F>(
        &self,
        namespace: &str,
        name: &str,
        scope: UpdateScope,
        params: &WriteParams,
        mut transform: F,
    ) -> Result<(Value, bool), StatusError>
    where
        F: FnMut(Option<&Value>) -> Result<Value, StatusError>,
    {
        let key = self.key(namespace, name);
        let allow_create = self.strategy.allow_create_on_update() && scope == UpdateScope::Object;
        let mut outcome: Option<(Value, bool, bool)> = None;

        let suggestion = self.cached_state(&key).await;
        let result = guaranteed_update_from(
            self.backend.as_ref(),
            &key,
            allow_create,
            suggestion,
            |current| {
                let current_object = match current {
                    Some(kv) => Some(
                        decode_stored(&kv.value, kv.mod_revision)
                            .map_err(StatusError::internal_error)?,
                    ),
                    None => None,
                };
                let served_current = match (&self.converter, &current_object) {
                    (Some(converter), Some(object)) => Some(converter.to_served(object.clone())),
                    _ => None,
                };
                let current_view = served_current.as_ref().or(current_object.as_ref());
                let mut new = transform(current_view)?;
                self.track_managed_fields(current_view, &mut new, scope, params);
                let mut new = self.stored(new);
                self.check_identity(&new, namespace, name)?;

                let Some(old) = current_object else {
                    // Create on update.
                    let mut created = new;
                    self.prepare_metadata_for_create(&mut created, namespace)?;
                    self.strategy
                        .prepare_for_create(&mut created)
                        .map_err(|error| StatusError::bad_request(error.to_string()))?;
                    self.validate_create(&created, name, None)?;
                    let bytes = encode_for_storage(&created);
                    outcome = Some((created, true, params.dry_run));
                    return Ok(if params.dry_run {
                        UpdateDecision::Keep
                    } else {
                        UpdateDecision::Write(bytes)
                    });
                };

                self.check_resource_version(&new, &old, name)?;
                self.carry_server_metadata(&mut new, &old);
                if let Some(hooks) = &self.hooks {
                    hooks.carry_over(&mut new, &old);
                }

                let prepared = self
                    .strategy
                    .prepare_for_scoped_update(scope, &mut new, &old);
                prepared.map_err(|error| StatusError::bad_request(error.to_string()))?;
                if scope != UpdateScope::Object {
                    self.carry_server_metadata(&mut new, &old);
                }
                // An added ephemeral container is a spec change, so it counts as a new
                // generation like an update of the object does.
                if matches!(
                    scope,
                    UpdateScope::Object | UpdateScope::EphemeralContainers
                ) {
                    self.bump_generation(&mut new, &old);
                }
                let mut errors = validate_object_meta_update(
                    &object_meta(&new)?,
                    &object_meta(&old)?,
                    self.info.namespaced,
                    self.name_validator,
                );
                errors.extend(self.validate_kind(&new, Some(&old), scope)?);
                self.invalid_if_any(name, errors)?;

                let bytes = encode_for_storage(&new);
                let unchanged = bytes == encode_for_storage(&old);
                let finished = deletion_finished(&new);
                outcome = Some((new, false, params.dry_run || unchanged));
                if params.dry_run || (unchanged && !finished) {
                    return Ok(UpdateDecision::Keep);
                }
                Ok(UpdateDecision::Write(bytes))
            },
        )
        .await;

        match result {
            Ok(kv) => {
                let (mut object, created, kept) =
                    outcome.ok_or_else(|| StatusError::internal_error("update made no attempt"))?;
                if !kept || !params.dry_run {
                    set_resource_version(&mut object, kv.mod_revision);
                }
                if !params.dry_run && deletion_finished(&object) {
                    // The last finalizer is gone on an object being deleted: delete it now.
                    return match self.backend.delete(&key, Some(kv.mod_revision)).await {
                        Ok(_) => {
                            if let Some(hooks) = &self.hooks {
                                hooks.after_delete(&object).await;
                            }
                            Ok((object, created))
                        }
                        Err(storage::Error::NotFound { .. }) => Ok((object, created)),
                        Err(error) => Err(self.storage_error(error, name)),
                    };
                }
                Ok((object, created))
            }
            Err(UpdateError::Rejected(status)) => Err(status),
            Err(UpdateError::Storage(storage::Error::NotFound { .. })) => {
                Err(StatusError::not_found(&self.group_resource(), name))
            }
            Err(UpdateError::Storage(error)) => Err(self.storage_error(error, name)),
        }
    }

    /// Changes a stored object without the strategy's preparation and validation, as
    /// upstream's binding and status helpers write straight through storage. The
    /// object must exist; `transform` may run more than once.
    pub async fn update_unvalidated<F>(
        &self,
        namespace: &str,
        name: &str,
        params: &WriteParams,
        mut transform: F,
    ) -> Result<Value, StatusError>
    where
        F: FnMut(&Value) -> Result<Value, StatusError>,
    {
        let key = self.key(namespace, name);
        let mut result_object = None;
        let suggestion = self.cached_state(&key).await;
        let outcome =
            guaranteed_update_from(self.backend.as_ref(), &key, false, suggestion, |current| {
                let Some(kv) = current else {
                    return Err(StatusError::not_found(&self.group_resource(), name));
                };
                let old = decode_stored(&kv.value, kv.mod_revision)
                    .map_err(StatusError::internal_error)?;
                let mut new = transform(&old)?;
                self.carry_server_metadata(&mut new, &old);
                let bytes = encode_for_storage(&new);
                result_object = Some(new);
                Ok(if params.dry_run {
                    UpdateDecision::Keep
                } else {
                    UpdateDecision::Write(bytes)
                })
            })
            .await;
        match outcome {
            Ok(kv) => {
                let mut object = result_object
                    .ok_or_else(|| StatusError::internal_error("update made no attempt"))?;
                set_resource_version(&mut object, kv.mod_revision);
                Ok(object)
            }
            Err(UpdateError::Rejected(status)) => Err(status),
            Err(UpdateError::Storage(storage::Error::NotFound { .. })) => {
                Err(StatusError::not_found(&self.group_resource(), name))
            }
            Err(UpdateError::Storage(error)) => Err(self.storage_error(error, name)),
        }
    }

    /// Deletes an object whose deletion has nothing left to wait for (no finalizers,
    /// no grace period); returns whether it did. Used after a write that removed the
    /// last thing holding it.
    pub async fn delete_if_finished(
        &self,
        namespace: &str,
        name: &str,
        object: &Value,
    ) -> Result<bool, StatusError> {
        if !deletion_finished(object) {
            return Ok(false);
        }
        let revision = object
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .and_then(|text| text.parse::<i64>().ok());
        match self
            .backend
            .delete(&self.key(namespace, name), revision)
            .await
        {
            Ok(_) => {
                if let Some(hooks) = &self.hooks {
                    hooks.after_delete(object).await;
                }
                Ok(true)
            }
            Err(storage::Error::NotFound { .. }) => Ok(false),
            Err(error) => Err(self.storage_error(error, name)),
        }
    }

    /// Updates `new`'s `metadata.managedFields` for the change from `live` (`None` on
    /// create) when the write names a manager.
    pub fn track_managed_fields(
        &self,
        live: Option<&Value>,
        new: &mut Value,
        scope: UpdateScope,
        params: &WriteParams,
    ) {
        let Some(manager) = params.manager.as_deref() else {
            return;
        };
        let empty = Value::Object(serde_json::Map::new());
        FieldManager {
            group: self.info.group,
            version: self.info.version,
            kind: self.info.kind,
            manager,
            subresource: scope.subresource().unwrap_or(params.subresource.as_str()),
            has_status: self.info.subresource("status").is_some(),
        }
        .update(live.unwrap_or(&empty), new);
    }

    /// Decodes `object` as the kind and applies its defaults, as a create does first.
    ///
    /// # Errors
    ///
    /// 400 when the JSON does not fit the kind.
    pub fn default_object(&self, object: Value) -> Result<Value, StatusError> {
        self.decode(object).map(|object| self.served(object))
    }

    /// Checks that the body names the object the URL names.
    fn check_identity(
        &self,
        object: &Value,
        namespace: &str,
        name: &str,
    ) -> Result<(), StatusError> {
        let body_name = string_at(object, "name");
        if body_name != name {
            return Err(StatusError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        if self.info.namespaced {
            let body_namespace = string_at(object, "namespace");
            if !body_namespace.is_empty() && body_namespace != namespace {
                return Err(StatusError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
        Ok(())
    }

    /// Rejects an update whose resourceVersion is stale (409) or missing when the
    /// kind requires one (422).
    fn check_resource_version(
        &self,
        new: &Value,
        old: &Value,
        name: &str,
    ) -> Result<(), StatusError> {
        let requested = string_at(new, "resourceVersion");
        if requested.is_empty() {
            if self.strategy.allow_unconditional_update() {
                return Ok(());
            }
            let error = FieldError::invalid(
                &apimachinery::errors::FieldPath::new("metadata").child("resourceVersion"),
                apimachinery::errors::BadValue::Omitted,
                "must be specified for an update",
            );
            return Err(StatusError::invalid(&self.group_kind(), name, &[error]));
        }
        if requested != string_at(old, "resourceVersion") {
            return Err(StatusError::conflict(
                &self.group_resource(),
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            ));
        }
        Ok(())
    }

    /// Keeps the metadata only the server sets from the stored object.
    fn carry_server_metadata(&self, new: &mut Value, old: &Value) {
        for field in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ] {
            match old.get("metadata").and_then(|metadata| metadata.get(field)) {
                Some(value) => set_meta(new, field, value.clone()),
                None => remove_meta(new, field),
            }
        }
        if self.info.namespaced {
            let namespace = string_at(old, "namespace");
            set_meta(new, "namespace", Value::String(namespace));
        }
        remove_meta(new, "resourceVersion");
    }

    /// Increments `metadata.generation` when anything outside metadata and status
    /// changed, for kinds that track generations.
    fn bump_generation(&self, new: &mut Value, old: &Value) {
        if !self.strategy.tracks_generation() {
            return;
        }
        let spec_changed = {
            let strip = |object: &Value| -> Value {
                let mut copy = object.clone();
                if let Some(map) = copy.as_object_mut() {
                    map.remove("metadata");
                    map.remove("status");
                }
                copy
            };
            strip(new) != strip(old)
        };
        let old_generation = old
            .get("metadata")
            .and_then(|metadata| metadata.get("generation"))
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let generation = if spec_changed {
            old_generation + 1
        } else {
            old_generation
        };
        set_meta(new, "generation", Value::from(generation));
    }

    /// Deletes an object, gracefully or through finalizers when they apply.
    pub async fn delete(
        &self,
        namespace: &str,
        name: &str,
        params: &DeleteParams,
    ) -> Result<DeleteOutcome, StatusError> {
        Ok(match self.delete_stored(namespace, name, params).await? {
            DeleteOutcome::Deleted(object) => DeleteOutcome::Deleted(self.served(object)),
            DeleteOutcome::Pending(object) => DeleteOutcome::Pending(self.served(object)),
        })
    }

    async fn delete_stored(
        &self,
        namespace: &str,
        name: &str,
        params: &DeleteParams,
    ) -> Result<DeleteOutcome, StatusError> {
        let key = self.key(namespace, name);
        for _ in 0..storage::update::MAX_ATTEMPTS {
            let kv = self
                .backend
                .get(&key)
                .await
                .map_err(|error| self.storage_error(error, name))?
                .ok_or_else(|| StatusError::not_found(&self.group_resource(), name))?;
            let mut object =
                decode_stored(&kv.value, kv.mod_revision).map_err(StatusError::internal_error)?;
            self.check_delete_preconditions(&object, params, name)?;

            let grace = self
                .strategy
                .graceful_delete_seconds(
                    &object,
                    &DeleteContext {
                        grace_period_seconds: params.grace_period_seconds,
                    },
                )
                .map_err(|error| StatusError::internal_error(error.to_string()))?
                .filter(|seconds| *seconds > 0);
            let finalizers_changed =
                add_propagation_finalizer(&mut object, params.propagation_policy.as_deref());
            let held_by_kind = self
                .hooks
                .as_ref()
                .is_some_and(|hooks| hooks.holds_deletion(&mut object));
            let has_finalizers = !finalizers(&object).is_empty() || held_by_kind;

            if grace.is_none() && !has_finalizers {
                if params.dry_run {
                    return Ok(DeleteOutcome::Deleted(object));
                }
                match self.backend.delete(&key, Some(kv.mod_revision)).await {
                    Ok((_, revision)) => {
                        set_resource_version(&mut object, revision);
                        if let Some(hooks) = &self.hooks {
                            hooks.after_delete(&object).await;
                        }
                        return Ok(DeleteOutcome::Deleted(object));
                    }
                    Err(storage::Error::Conflict { .. }) => continue,
                    Err(storage::Error::NotFound { .. }) => {
                        return Err(StatusError::not_found(&self.group_resource(), name));
                    }
                    Err(error) => return Err(self.storage_error(error, name)),
                }
            }

            // Graceful or finalized deletion: mark the object and keep it.
            let already_deleting = object
                .get("metadata")
                .and_then(|m| m.get("deletionTimestamp"))
                .is_some();
            if already_deleting && !finalizers_changed && grace.is_none() {
                return Ok(DeleteOutcome::Pending(object));
            }
            let seconds = grace.unwrap_or(0);
            if !already_deleting || grace.is_some() {
                let deadline = now_time()
                    .checked_add(jiff_seconds(seconds))
                    .unwrap_or_else(|_| now_time());
                set_meta(
                    &mut object,
                    "deletionTimestamp",
                    Value::String(format_time(deadline)),
                );
                set_meta(
                    &mut object,
                    "deletionGracePeriodSeconds",
                    Value::from(seconds),
                );
            }
            if params.dry_run {
                return Ok(DeleteOutcome::Pending(object));
            }
            match self
                .backend
                .update(&key, encode_for_storage(&object), kv.mod_revision)
                .await
            {
                Ok(stored) => {
                    set_resource_version(&mut object, stored.mod_revision);
                    return Ok(DeleteOutcome::Pending(object));
                }
                Err(storage::Error::Conflict { .. }) => continue,
                Err(error) => return Err(self.storage_error(error, name)),
            }
        }
        Err(StatusError::conflict(
            &self.group_resource(),
            name,
            "the object kept changing during deletion; try again",
        ))
    }

    fn check_delete_preconditions(
        &self,
        object: &Value,
        params: &DeleteParams,
        name: &str,
    ) -> Result<(), StatusError> {
        self.check_preconditions(
            object,
            params.precondition_uid.as_deref(),
            params.precondition_resource_version.as_deref(),
            name,
        )
    }

    /// Checks a write's UID and resourceVersion preconditions against the stored
    /// object; a mismatch is a conflict with upstream's message.
    pub fn check_preconditions(
        &self,
        object: &Value,
        uid: Option<&str>,
        version: Option<&str>,
        name: &str,
    ) -> Result<(), StatusError> {
        if let Some(uid) = uid {
            let actual = string_at(object, "uid");
            if uid != actual {
                return Err(StatusError::conflict(
                    &self.group_resource(),
                    name,
                    format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"
                    ),
                ));
            }
        }
        if let Some(version) = version {
            let actual = string_at(object, "resourceVersion");
            if version != actual {
                return Err(StatusError::conflict(
                    &self.group_resource(),
                    name,
                    format!(
                        "Precondition failed: ResourceVersion in precondition: {version}, ResourceVersion in object meta: {actual}"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Deletes every object of a namespace matching the selectors. Returns the
    /// objects as the deletes left them.
    pub async fn delete_collection(
        &self,
        namespace: &str,
        list: &ListParams,
        params: &DeleteParams,
    ) -> Result<Vec<Value>, StatusError> {
        let mut list = list.clone();
        list.limit = 0;
        list.continue_token = None;
        let page = self.list(namespace, &list).await?;
        let mut deleted = Vec::with_capacity(page.items.len());
        for item in page.items {
            let object: Value =
                serde_json::from_slice(&item).map_err(StatusError::internal_error)?;
            let item_namespace = string_at(&object, "namespace");
            let item_name = string_at(&object, "name");
            match self
                .delete_stored(&item_namespace, &item_name, params)
                .await
            {
                Ok(DeleteOutcome::Deleted(object) | DeleteOutcome::Pending(object)) => {
                    deleted.push(object)
                }
                // Deleted by someone else meanwhile: nothing left to do.
                Err(error) if error.code() == 404 => {}
                Err(error) => return Err(error),
            }
        }
        Ok(deleted
            .into_iter()
            .map(|object| self.served(object))
            .collect())
    }
}

/// The selectors of a list or watch.
pub struct Selection {
    pub label_selector: Option<labels::Selector>,
    pub field_selector: Option<fields::Selector>,
}

impl Selection {
    /// Returns the predicate, or `None` when it selects everything.
    pub fn filter(&self) -> Option<FilterFunc> {
        if self.label_selector.is_none() && self.field_selector.is_none() {
            return None;
        }
        let label_selector = self.label_selector.clone();
        let field_selector = self.field_selector.clone();
        Some(Arc::new(move |_key: &str, attrs: &CachedAttrs| {
            label_selector
                .as_ref()
                .is_none_or(|selector| selector.matches(&attrs.labels))
                && field_selector
                    .as_ref()
                    .is_none_or(|selector| selector.matches(&attrs.fields))
        }))
    }

    /// Returns the pods-by-node index lookup a `spec.nodeName=` selector implies.
    pub fn node_index(&self) -> Option<IndexLookup> {
        let node = self
            .field_selector
            .as_ref()?
            .requires_exact_match("spec.nodeName")?;
        Some(IndexLookup::new("spec.nodeName", node))
    }
}

/// Returns the served JSON of a stored value at `revision`, converted to the served
/// version when the resource has a converter.
pub fn served_bytes(
    converter: Option<&dyn VersionConverter>,
    stored: &[u8],
    revision: i64,
) -> Bytes {
    let Some(converter) = converter else {
        return with_resource_version(stored, revision);
    };
    match decode_stored(stored, revision) {
        Ok(object) => {
            Bytes::from(serde_json::to_vec(&converter.to_served(object)).unwrap_or_default())
        }
        Err(_) => with_resource_version(stored, revision),
    }
}

/// Extracts the labels and selectable fields of an object.
pub fn object_attrs(strategy: &dyn ErasedStrategy, object: &Value) -> ObjectAttrs {
    let labels = object
        .get("metadata")
        .and_then(|metadata| metadata.get("labels"))
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(key, value)| {
                    value.as_str().map(|value| (key.clone(), value.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut fields: BTreeMap<String, String> = strategy.selectable_fields(object);
    fields.insert("metadata.name".into(), string_at(object, "name"));
    fields.insert("metadata.namespace".into(), string_at(object, "namespace"));
    ObjectAttrs { labels, fields }
}

/// Parses a non-empty `resourceVersion`: a revision of zero or more.
fn parse_resource_version(text: &str) -> Result<i64, StatusError> {
    text.parse::<i64>()
        .ok()
        .filter(|value| *value >= 0)
        .ok_or_else(|| StatusError::bad_request(format!("invalid resource version: {text}")))
}

/// Parses `resourceVersion` and `resourceVersionMatch` with upstream's errors.
fn parse_resource_version_params(
    params: &ListParams,
) -> Result<(Option<i64>, Option<ResourceVersionMatch>), StatusError> {
    let resource_version = match params.resource_version.as_deref() {
        None | Some("") => None,
        Some(text) => Some(parse_resource_version(text)?),
    };
    let resource_version_match = match params.resource_version_match.as_deref() {
        None | Some("") => None,
        Some("NotOlderThan") => Some(ResourceVersionMatch::NotOlderThan),
        Some("Exact") => Some(ResourceVersionMatch::Exact),
        Some(other) => {
            return Err(StatusError::bad_request(format!(
                "resourceVersionMatch: Unsupported value: \"{other}\": supported values: \"Exact\", \"NotOlderThan\""
            )));
        }
    };
    if resource_version_match.is_some() && resource_version.is_none() {
        return Err(StatusError::bad_request(
            "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
        ));
    }
    if resource_version_match == Some(ResourceVersionMatch::Exact) && resource_version == Some(0) {
        return Err(StatusError::bad_request(
            "resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
        ));
    }
    Ok((resource_version, resource_version_match))
}

fn jiff_seconds(seconds: i64) -> k8s_openapi::jiff::Span {
    k8s_openapi::jiff::Span::new().seconds(seconds)
}

/// Adds the finalizer a propagation policy requires. Returns whether it added one.
fn add_propagation_finalizer(object: &mut Value, policy: Option<&str>) -> bool {
    // A later delete with another policy replaces the earlier policy's finalizer.
    let (wanted, unwanted): (Option<&str>, &[&str]) = match policy {
        Some("Orphan") => (Some(FINALIZER_ORPHAN), &[FINALIZER_FOREGROUND]),
        Some("Foreground") => (Some(FINALIZER_FOREGROUND), &[FINALIZER_ORPHAN]),
        Some("Background") => (None, &[FINALIZER_ORPHAN, FINALIZER_FOREGROUND]),
        _ => return false,
    };
    let current = finalizers(object);
    let mut updated: Vec<String> = current
        .iter()
        .filter(|existing| !unwanted.contains(&existing.as_str()))
        .cloned()
        .collect();
    if let Some(wanted) = wanted
        && !updated.iter().any(|existing| existing == wanted)
    {
        updated.push(wanted.to_string());
    }
    if updated == current {
        return false;
    }
    set_meta(object, "finalizers", Value::from(updated));
    true
}

fn finalizers(object: &Value) -> Vec<String> {
    object
        .get("metadata")
        .and_then(|metadata| metadata.get("finalizers"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Returns whether an object being deleted has nothing left holding it: no finalizers, and
/// a grace period of zero.
fn deletion_finished(object: &Value) -> bool {
    let Some(metadata) = object.get("metadata") else {
        return false;
    };
    if metadata.get("deletionTimestamp").is_none() {
        return false;
    }
    let grace = metadata
        .get("deletionGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let spec_finalizers = object
        .pointer("/spec/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|list| !list.is_empty());
    finalizers(object).is_empty() && !spec_finalizers && grace == 0
}

fn object_meta(object: &Value) -> Result<ObjectMeta, StatusError> {
    match object.get("metadata") {
        None | Some(Value::Null) => Ok(ObjectMeta::default()),
        Some(metadata) => <ObjectMeta as serde::Deserialize>::deserialize(metadata)
            .map_err(|error| StatusError::bad_request(format!("invalid metadata: {error}"))),
    }
}

/// Reads a string field of `metadata`; empty when absent.
pub fn string_at(object: &Value, field: &str) -> String {
    object
        .get("metadata")
        .and_then(|metadata| metadata.get(field))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn namespace_of(object: &Value) -> &str {
    object
        .get("metadata")
        .and_then(|metadata| metadata.get("namespace"))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Sets a field of `metadata`, creating it when missing.
pub fn set_meta(object: &mut Value, field: &str, value: Value) {
    if let Some(map) = object.as_object_mut() {
        let metadata = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(metadata) = metadata.as_object_mut() {
            metadata.insert(field.to_string(), value);
        }
    }
}

/// Removes a field of `metadata`.
pub fn remove_meta(object: &mut Value, field: &str) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.shift_remove(field);
    }
}
