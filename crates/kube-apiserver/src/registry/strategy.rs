//! The strategy of a resource: what the generic store cannot know about a kind.
//!
//! A [`Strategy`] works on the typed object (a k8s-openapi struct). The generic store
//! calls it through [`ErasedStrategy`], which converts between the JSON the store
//! keeps and the typed form: decoding into the struct drops unknown fields and fails
//! on wrongly typed ones, as upstream's decoding into Go structs does.
//!
//! The order of calls on create is: `default`, `prepare_for_create`, `validate`; on
//! update: `default`, `prepare_for_update`, `validate_update`; on a status update:
//! `prepare_for_status_update`, `validate_status_update`. The generic store handles
//! object metadata (uid, timestamps, generation, resourceVersion) itself.

use std::collections::BTreeMap;

use crate::registry::store::UpdateScope;
use apimachinery::errors::FieldError;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Options of a delete request that strategies look at.
#[derive(Clone, Debug, Default)]
pub struct DeleteContext {
    /// `gracePeriodSeconds` of the request's DeleteOptions.
    pub grace_period_seconds: Option<i64>,
}

/// Per-kind behaviour of the generic store. Every method has the behaviour of a
/// plain resource (no defaults, no validation beyond object metadata) by default.
pub trait Strategy: Send + Sync + 'static {
    type Object: k8s_openapi::Resource
        + k8s_openapi::Metadata<Ty = ObjectMeta>
        + DeserializeOwned
        + Serialize
        + Clone
        + Send
        + Sync;

    /// Applies upstream's defaults (the `SetDefaults_*` functions) to a decoded object.
    fn default(&self, _object: &mut Self::Object) {}

    /// Prepares a new object before validation: for example clears `status` when
    /// the kind has a status subresource.
    fn prepare_for_create(&self, _object: &mut Self::Object) {}

    /// Prepares an update before validation: for example keeps `status` from `old`
    /// when the kind has a status subresource.
    fn prepare_for_update(&self, _object: &mut Self::Object, _old: &Self::Object) {}

    /// Validates a new object beyond its metadata. Returns every problem found.
    fn validate(&self, _object: &Self::Object) -> Vec<FieldError> {
        Vec::new()
    }

    /// Validates an update, including immutable fields, beyond metadata.
    fn validate_update(&self, object: &Self::Object, _old: &Self::Object) -> Vec<FieldError> {
        self.validate(object)
    }

    /// Whether `metadata.generation` starts at 1 and grows on every change outside
    /// metadata and status.
    fn tracks_generation(&self) -> bool {
        false
    }

    /// Whether a PUT of a missing object creates it.
    fn allow_create_on_update(&self) -> bool {
        false
    }

    /// Whether an update without `metadata.resourceVersion` overwrites whatever is
    /// stored; when false such an update is rejected as invalid.
    fn allow_unconditional_update(&self) -> bool {
        true
    }

    /// Prepares a write to the status subresource: keeps everything but status and
    /// metadata from `old`, by default.
    fn prepare_for_status_update(&self, object: &mut Self::Object, old: &Self::Object) {
        keep_all_but_status(object, old);
    }

    /// Validates a write to the status subresource.
    fn validate_status_update(
        &self,
        _object: &Self::Object,
        _old: &Self::Object,
    ) -> Vec<FieldError> {
        Vec::new()
    }

    /// Prepares a write to the `approval` subresource, which only
    /// CertificateSigningRequests have: keeps everything but status and metadata from
    /// `old`, by default.
    fn prepare_for_approval_update(&self, object: &mut Self::Object, old: &Self::Object) {
        keep_all_but_status(object, old);
    }

    /// Validates a write to the `approval` subresource.
    fn validate_approval_update(
        &self,
        _object: &Self::Object,
        _old: &Self::Object,
    ) -> Vec<FieldError> {
        Vec::new()
    }

    /// Prepares a write to the `ephemeralcontainers` subresource, which only pods have:
    /// keeps everything from `old`, by default, so the write changes nothing.
    fn prepare_for_ephemeral_containers_update(
        &self,
        object: &mut Self::Object,
        old: &Self::Object,
    ) {
        *object = old.clone();
    }

    /// Validates a write to the `ephemeralcontainers` subresource.
    fn validate_ephemeral_containers_update(
        &self,
        _object: &Self::Object,
        _old: &Self::Object,
    ) -> Vec<FieldError> {
        Vec::new()
    }

    /// Decides whether a delete is graceful. Returning `Some(seconds)` with
    /// seconds > 0 keeps the object with `deletionTimestamp` set `seconds` ahead;
    /// `None` or `Some(0)` deletes at once (when no finalizers remain).
    fn graceful_delete_seconds(
        &self,
        _object: &Self::Object,
        _delete: &DeleteContext,
    ) -> Option<i64> {
        None
    }

    /// Returns the fields field selectors may use, with their values for `object`
    /// as JSON. `metadata.name` and `metadata.namespace` are added by the store.
    fn selectable_fields(&self, _object: &Value) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// Names of the fields [`Strategy::selectable_fields`] returns, beyond
    /// `metadata.name` and `metadata.namespace`.
    fn selectable_field_names(&self) -> &'static [&'static str] {
        &[]
    }
}

/// Replaces everything in `object` except `status` and `metadata` with `old`'s, the
/// default of a status update (upstream's status strategies copy the old spec).
fn keep_all_but_status<K: Serialize + DeserializeOwned + Clone>(object: &mut K, old: &K) {
    let (Ok(new_value), Ok(old_value)) =
        (serde_json::to_value(&*object), serde_json::to_value(old))
    else {
        return;
    };
    let mut merged = old_value;
    if let (Some(map), Value::Object(mut new_map)) = (merged.as_object_mut(), new_value) {
        for field in ["status", "metadata"] {
            match new_map.remove(field) {
                Some(value) => {
                    map.insert(field.to_string(), value);
                }
                None => {
                    map.remove(field);
                }
            }
        }
    }
    if let Ok(converted) = serde_json::from_value(merged) {
        *object = converted;
    }
}

/// A decode failure of the JSON into the typed object: 400 BadRequest upstream.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

/// The strategy as the generic store calls it: on JSON values.
pub trait ErasedStrategy: Send + Sync {
    /// Decodes, defaults and re-encodes `object`; fails when it does not decode as
    /// the kind.
    fn decode_and_default(&self, object: Value) -> Result<Value, DecodeError>;
    fn prepare_for_create(&self, object: &mut Value) -> Result<(), DecodeError>;
    fn validate(&self, object: &Value) -> Result<Vec<FieldError>, DecodeError>;
    /// Prepares a new object and validates the result, with one decode for both.
    fn prepare_and_validate_create(
        &self,
        object: &mut Value,
    ) -> Result<Vec<FieldError>, DecodeError>;
    /// Prepares an update of the part of the object that `scope` names, with the
    /// typed strategy's hook for that scope.
    fn prepare_for_scoped_update(
        &self,
        scope: UpdateScope,
        object: &mut Value,
        old: &Value,
    ) -> Result<(), DecodeError>;
    /// Validates an update of the part of the object that `scope` names.
    fn validate_scoped_update(
        &self,
        scope: UpdateScope,
        object: &Value,
        old: &Value,
    ) -> Result<Vec<FieldError>, DecodeError>;
    fn graceful_delete_seconds(
        &self,
        object: &Value,
        delete: &DeleteContext,
    ) -> Result<Option<i64>, DecodeError>;
    fn tracks_generation(&self) -> bool;
    fn allow_create_on_update(&self) -> bool;
    fn allow_unconditional_update(&self) -> bool;
    fn selectable_fields(&self, object: &Value) -> BTreeMap<String, String>;
    fn selectable_field_names(&self) -> &'static [&'static str];
}

fn decode<K: DeserializeOwned>(object: &Value) -> Result<K, DecodeError> {
    K::deserialize(object).map_err(|error| DecodeError(error.to_string()))
}

fn encode<K: Serialize>(object: &K) -> Result<Value, DecodeError> {
    serde_json::to_value(object)
        .map_err(|error| DecodeError(format!("failed to encode the object: {error}")))
}

impl<S: Strategy> ErasedStrategy for S {
    fn decode_and_default(&self, object: Value) -> Result<Value, DecodeError> {
        let mut typed: S::Object = decode(&object)?;
        Strategy::default(self, &mut typed);
        encode(&typed)
    }

    fn prepare_for_create(&self, object: &mut Value) -> Result<(), DecodeError> {
        let mut typed: S::Object = decode(object)?;
        Strategy::prepare_for_create(self, &mut typed);
        *object = encode(&typed)?;
        Ok(())
    }

    fn validate(&self, object: &Value) -> Result<Vec<FieldError>, DecodeError> {
        let typed: S::Object = decode(object)?;
        Ok(Strategy::validate(self, &typed))
    }

    fn prepare_and_validate_create(
        &self,
        object: &mut Value,
    ) -> Result<Vec<FieldError>, DecodeError> {
        let mut typed: S::Object = decode(object)?;
        Strategy::prepare_for_create(self, &mut typed);
        *object = encode(&typed)?;
        Ok(Strategy::validate(self, &typed))
    }

    fn prepare_for_scoped_update(
        &self,
        scope: UpdateScope,
        object: &mut Value,
        old: &Value,
    ) -> Result<(), DecodeError> {
        let mut typed: S::Object = decode(object)?;
        let old: S::Object = decode(old)?;
        match scope {
            UpdateScope::Object => Strategy::prepare_for_update(self, &mut typed, &old),
            UpdateScope::Status => Strategy::prepare_for_status_update(self, &mut typed, &old),
            UpdateScope::Approval => Strategy::prepare_for_approval_update(self, &mut typed, &old),
            UpdateScope::EphemeralContainers => {
                Strategy::prepare_for_ephemeral_containers_update(self, &mut typed, &old)
            }
        }
        *object = encode(&typed)?;
        Ok(())
    }

    fn validate_scoped_update(
        &self,
        scope: UpdateScope,
        object: &Value,
        old: &Value,
    ) -> Result<Vec<FieldError>, DecodeError> {
        let typed: S::Object = decode(object)?;
        let old: S::Object = decode(old)?;
        Ok(match scope {
            UpdateScope::Object => Strategy::validate_update(self, &typed, &old),
            UpdateScope::Status => Strategy::validate_status_update(self, &typed, &old),
            UpdateScope::Approval => Strategy::validate_approval_update(self, &typed, &old),
            UpdateScope::EphemeralContainers => {
                Strategy::validate_ephemeral_containers_update(self, &typed, &old)
            }
        })
    }

    fn graceful_delete_seconds(
        &self,
        object: &Value,
        delete: &DeleteContext,
    ) -> Result<Option<i64>, DecodeError> {
        let typed: S::Object = decode(object)?;
        Ok(Strategy::graceful_delete_seconds(self, &typed, delete))
    }

    fn tracks_generation(&self) -> bool {
        Strategy::tracks_generation(self)
    }

    fn allow_create_on_update(&self) -> bool {
        Strategy::allow_create_on_update(self)
    }

    fn allow_unconditional_update(&self) -> bool {
        Strategy::allow_unconditional_update(self)
    }

    fn selectable_fields(&self, object: &Value) -> BTreeMap<String, String> {
        Strategy::selectable_fields(self, object)
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        Strategy::selectable_field_names(self)
    }
}

/// The strategy of a kind with no behaviour of its own (no defaults, no validation
/// beyond metadata). `K` is the k8s-openapi type.
pub struct PlainStrategy<K> {
    tracks_generation: bool,
    _kind: std::marker::PhantomData<fn() -> K>,
}

impl<K> PlainStrategy<K> {
    pub fn new() -> Self {
        PlainStrategy {
            tracks_generation: false,
            _kind: std::marker::PhantomData,
        }
    }

    /// A plain strategy whose kind has a spec and counts generations.
    pub fn with_generation() -> Self {
        PlainStrategy {
            tracks_generation: true,
            _kind: std::marker::PhantomData,
        }
    }
}

impl<K> Default for PlainStrategy<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K> Strategy for PlainStrategy<K>
where
    K: k8s_openapi::Resource
        + k8s_openapi::Metadata<Ty = ObjectMeta>
        + DeserializeOwned
        + Serialize
        + Clone
        + Send
        + Sync
        + 'static,
{
    type Object = K;

    fn tracks_generation(&self) -> bool {
        self.tracks_generation
    }
}

/// Reads a string at a dotted JSON path such as `spec.nodeName`; empty when absent
/// or not a string. Booleans and numbers render as their JSON text.
pub fn field_at(object: &Value, path: &str) -> String {
    let mut current = object;
    for part in path.split('.') {
        match current.get(part) {
            Some(next) => current = next,
            None => return String::new(),
        }
    }
    match current {
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ConfigMap, Pod};

    #[test]
    fn decode_drops_unknown_fields_and_rejects_wrong_types() {
        let strategy = PlainStrategy::<ConfigMap>::new();
        let object = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a"}, "data": {"k": "v"}, "bogus": 1
        });
        let decoded = strategy.decode_and_default(object).unwrap();
        assert_eq!(decoded["data"]["k"], "v");
        assert!(decoded.get("bogus").is_none());

        let wrong = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": 5}});
        assert!(strategy.decode_and_default(wrong).is_err());
    }

    #[test]
    fn status_update_keeps_spec_from_old() {
        let strategy = PlainStrategy::<Pod>::new();
        let old = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "old"}]}
        });
        let mut new = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "new"}]},
            "status": {"phase": "Running"}
        });
        ErasedStrategy::prepare_for_scoped_update(&strategy, UpdateScope::Status, &mut new, &old)
            .unwrap();
        assert_eq!(new["spec"]["containers"][0]["image"], "old");
        assert_eq!(new["status"]["phase"], "Running");
    }

    #[test]
    fn field_at_reads_nested_values() {
        let object = serde_json::json!({"spec": {"nodeName": "n1", "hostNetwork": true}});
        assert_eq!(field_at(&object, "spec.nodeName"), "n1");
        assert_eq!(field_at(&object, "spec.hostNetwork"), "true");
        assert_eq!(field_at(&object, "status.phase"), "");
    }
}
