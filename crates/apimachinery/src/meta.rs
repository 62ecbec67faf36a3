//! Object metadata: group/version/kind/resource identifiers, `TypeMeta` and `ObjectMeta`
//! access on objects held as `serde_json::Value` (the form the apiserver handles), helpers
//! over k8s-openapi types, resourceVersion parsing, RFC 3339 timestamps, and object and
//! storage keys.
//!
//! Entry points: [`GroupVersionKind`], [`GroupVersionResource`] and [`GroupVersion`] for
//! identifiers, [`TypeMeta::from_value`], the [`ObjectMetaAccess`] trait on `Value`,
//! [`parse_resource_version`], [`format_time`], [`object_key`] and
//! [`namespaced_storage_key`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    ManagedFieldsEntry, ObjectMeta, OwnerReference,
};
use k8s_openapi::jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::errors::{FieldError, FieldPath, StatusError, go_quote};

/// Errors from reading or writing metadata and identifiers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetaError {
    /// The object itself is not a JSON object.
    #[error("object accessor error: the object is {found}, expected an object")]
    NotAnObject {
        /// JSON type found, such as `array`.
        found: &'static str,
    },

    /// `metadata` exists but is not a JSON object.
    #[error(".metadata accessor error: metadata is {found}, expected an object")]
    MetadataNotObject {
        /// JSON type found.
        found: &'static str,
    },

    /// A field has the wrong JSON type, for example a numeric `metadata.name`.
    #[error(".{field} accessor error: value is {found}, expected {expected}")]
    FieldType {
        /// Dotted path of the field, such as `metadata.labels.app`.
        field: String,
        /// Expected type, such as `string`.
        expected: &'static str,
        /// JSON type found.
        found: &'static str,
    },

    /// An apiVersion with more than one `/`, rejected as upstream's `ParseGroupVersion` does.
    #[error("unexpected GroupVersion string: {0}")]
    InvalidGroupVersion(String),

    /// A timestamp that is not RFC 3339.
    #[error("invalid timestamp {} in {field}: {reason}", go_quote(.value))]
    InvalidTime {
        /// Field that held the value.
        field: String,
        /// The rejected text.
        value: String,
        /// Parser message.
        reason: String,
    },

    /// A field holds JSON that does not fit the k8s-openapi type, such as a malformed
    /// owner reference.
    #[error(".{field} accessor error: {reason}")]
    Decode {
        /// Dotted path of the field.
        field: String,
        /// serde message.
        reason: String,
    },

    /// A key that is neither `name` nor `namespace/name`.
    #[error("unexpected key format: {}", go_quote(.0))]
    InvalidKey(String),
}

/// Returns the JSON type name of a value as Go's encoding/json names it in
/// "cannot unmarshal" messages (`object`, `array`, `string`, `number`, `bool`, `null`).
pub(crate) fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An API group and version, such as `apps/v1` or `v1` for the core group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupVersion {
    /// API group. Empty for the core group.
    pub group: String,
    /// Version within the group, such as `v1`.
    pub version: String,
}

impl GroupVersion {
    /// Builds a group/version pair.
    pub fn new(group: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
        }
    }

    /// Parses an `apiVersion` string the way upstream's `ParseGroupVersion` does: `""` and
    /// `"/"` give an empty pair, `v1` gives the core group, `apps/v1` splits at the slash.
    ///
    /// # Errors
    /// [`MetaError::InvalidGroupVersion`] when the string has more than one `/`.
    pub fn parse(api_version: &str) -> Result<Self, MetaError> {
        if api_version.is_empty() || api_version == "/" {
            return Ok(Self::default());
        }
        match api_version.matches('/').count() {
            0 => Ok(Self::new("", api_version)),
            1 => {
                let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
                Ok(Self::new(group, version))
            }
            _ => Err(MetaError::InvalidGroupVersion(api_version.to_string())),
        }
    }

    /// Returns whether both group and version are empty.
    pub fn is_empty(&self) -> bool {
        self.group.is_empty() && self.version.is_empty()
    }

    /// Returns the `apiVersion` form (same as `Display`).
    pub fn api_version(&self) -> String {
        self.to_string()
    }

    /// Adds a kind.
    pub fn with_kind(&self, kind: impl Into<String>) -> GroupVersionKind {
        GroupVersionKind::new(self.group.clone(), self.version.clone(), kind)
    }

    /// Adds a resource.
    pub fn with_resource(&self, resource: impl Into<String>) -> GroupVersionResource {
        GroupVersionResource::new(self.group.clone(), self.version.clone(), resource)
    }
}

impl fmt::Display for GroupVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.version)
        } else {
            write!(f, "{}/{}", self.group, self.version)
        }
    }
}

impl FromStr for GroupVersion {
    type Err = MetaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A group, version and kind, such as `apps/v1, Kind=Deployment`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupVersionKind {
    /// API group. Empty for the core group.
    pub group: String,
    /// Version within the group.
    pub version: String,
    /// Kind in CamelCase, such as `Deployment`.
    pub kind: String,
}

impl GroupVersionKind {
    /// Builds a GVK.
    pub fn new(
        group: impl Into<String>,
        version: impl Into<String>,
        kind: impl Into<String>,
    ) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    /// Builds a GVK from an object's `apiVersion` and `kind`.
    ///
    /// # Errors
    /// [`MetaError::InvalidGroupVersion`] for an apiVersion with more than one `/`.
    pub fn from_api_version(api_version: &str, kind: &str) -> Result<Self, MetaError> {
        Ok(GroupVersion::parse(api_version)?.with_kind(kind))
    }

    /// Returns the GVK of a k8s-openapi resource type.
    pub fn of<K: k8s_openapi::Resource>() -> Self {
        Self::new(K::GROUP, K::VERSION, K::KIND)
    }

    /// Returns the group and version.
    pub fn group_version(&self) -> GroupVersion {
        GroupVersion::new(self.group.clone(), self.version.clone())
    }

    /// Returns the group and kind.
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::new(self.group.clone(), self.kind.clone())
    }

    /// Returns the `apiVersion` string, such as `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        self.group_version().to_string()
    }
}

impl fmt::Display for GroupVersionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}, Kind={}", self.group, self.version, self.kind)
    }
}

/// A group, version and resource (plural, lower case), such as `apps/v1, Resource=deployments`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupVersionResource {
    /// API group. Empty for the core group.
    pub group: String,
    /// Version within the group.
    pub version: String,
    /// Resource name, plural and lower case, such as `deployments`.
    pub resource: String,
}

impl GroupVersionResource {
    /// Builds a GVR.
    pub fn new(
        group: impl Into<String>,
        version: impl Into<String>,
        resource: impl Into<String>,
    ) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
        }
    }

    /// Returns the group and version.
    pub fn group_version(&self) -> GroupVersion {
        GroupVersion::new(self.group.clone(), self.version.clone())
    }

    /// Returns the group and resource.
    pub fn group_resource(&self) -> GroupResource {
        GroupResource::new(self.group.clone(), self.resource.clone())
    }
}

impl fmt::Display for GroupVersionResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}, Resource={}",
            self.group, self.version, self.resource
        )
    }
}

/// A group-qualified resource, displayed as `deployments.apps` (or `pods` for core),
/// which is how upstream error messages name resources.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupResource {
    /// API group. Empty for the core group.
    pub group: String,
    /// Resource name, plural and lower case.
    pub resource: String,
}

impl GroupResource {
    /// Builds a group-qualified resource.
    pub fn new(group: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            resource: resource.into(),
        }
    }

    /// Parses `resource.group` the way upstream's `ParseGroupResource` does: the text before
    /// the first `.` is the resource and the rest is the group.
    pub fn parse(text: &str) -> Self {
        match text.split_once('.') {
            Some((resource, group)) => Self::new(group, resource),
            None => Self::new("", text),
        }
    }

    /// Returns whether both group and resource are empty.
    pub fn is_empty(&self) -> bool {
        self.group.is_empty() && self.resource.is_empty()
    }
}

impl fmt::Display for GroupResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.resource)
        } else {
            write!(f, "{}.{}", self.resource, self.group)
        }
    }
}

/// A group-qualified kind, displayed as `Deployment.apps` (or `Pod` for core).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKind {
    /// API group. Empty for the core group.
    pub group: String,
    /// Kind in CamelCase.
    pub kind: String,
}

impl GroupKind {
    /// Builds a group-qualified kind.
    pub fn new(group: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            kind: kind.into(),
        }
    }
}

impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

/// The `apiVersion` and `kind` of a serialized object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeMeta {
    /// `apiVersion`, such as `apps/v1`. Empty when absent.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    /// `kind`, such as `Deployment`. Empty when absent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
}

impl TypeMeta {
    /// Reads `apiVersion` and `kind` from an object. Absent or null fields read as empty.
    ///
    /// # Errors
    /// [`MetaError::NotAnObject`] when `object` is not a JSON object and
    /// [`MetaError::FieldType`] when either field is not a string.
    pub fn from_value(object: &Value) -> Result<Self, MetaError> {
        let map = as_object(object)?;
        Ok(Self {
            api_version: string_field(map, "apiVersion", "apiVersion")?.to_string(),
            kind: string_field(map, "kind", "kind")?.to_string(),
        })
    }

    /// Returns the group, version and kind.
    ///
    /// # Errors
    /// [`MetaError::InvalidGroupVersion`] for an apiVersion with more than one `/`.
    pub fn group_version_kind(&self) -> Result<GroupVersionKind, MetaError> {
        GroupVersionKind::from_api_version(&self.api_version, &self.kind)
    }

    /// Writes `apiVersion` and `kind` into an object, placing them first as the apiserver
    /// serializes them.
    ///
    /// # Errors
    /// [`MetaError::NotAnObject`] when `object` is not a JSON object.
    pub fn write_to(&self, object: &mut Value) -> Result<(), MetaError> {
        let found = json_type_name(object);
        let map = object
            .as_object_mut()
            .ok_or(MetaError::NotAnObject { found })?;
        map.shift_insert(
            0,
            "apiVersion".to_string(),
            Value::String(self.api_version.clone()),
        );
        map.shift_insert(1, "kind".to_string(), Value::String(self.kind.clone()));
        Ok(())
    }
}

fn as_object(object: &Value) -> Result<&Map<String, Value>, MetaError> {
    object.as_object().ok_or(MetaError::NotAnObject {
        found: json_type_name(object),
    })
}

/// Reads a string field. Absent and null read as "".
fn string_field<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str, MetaError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(text)) => Ok(text),
        Some(other) => Err(MetaError::FieldType {
            field: path.to_string(),
            expected: "string",
            found: json_type_name(other),
        }),
    }
}

/// Metadata accessors on an object held as JSON, mirroring upstream's `metav1.Object`
/// getters and setters on unstructured objects.
///
/// Getters read an absent `metadata` or field as empty. Setters create `metadata` when it is
/// absent and remove a field when given an empty value, as upstream's unstructured setters do.
/// Every method fails when the object is not a JSON object, when `metadata` is not an
/// object, or when the field has the wrong JSON type.
pub trait ObjectMetaAccess {
    /// Returns `metadata` as a map, or `None` when it is absent or null.
    fn metadata_map(&self) -> Result<Option<&Map<String, Value>>, MetaError>;
    /// Returns `metadata` as a mutable map, creating it when absent or null.
    fn metadata_map_mut(&mut self) -> Result<&mut Map<String, Value>, MetaError>;

    /// Returns `metadata.name`.
    fn name(&self) -> Result<&str, MetaError> {
        self.metadata_string("name")
    }
    /// Sets `metadata.name`.
    fn set_name(&mut self, name: &str) -> Result<(), MetaError> {
        self.set_metadata_string("name", name)
    }
    /// Returns `metadata.generateName`.
    fn generate_name(&self) -> Result<&str, MetaError> {
        self.metadata_string("generateName")
    }
    /// Sets `metadata.generateName`.
    fn set_generate_name(&mut self, prefix: &str) -> Result<(), MetaError> {
        self.set_metadata_string("generateName", prefix)
    }
    /// Returns `metadata.namespace`.
    fn namespace(&self) -> Result<&str, MetaError> {
        self.metadata_string("namespace")
    }
    /// Sets `metadata.namespace`.
    fn set_namespace(&mut self, namespace: &str) -> Result<(), MetaError> {
        self.set_metadata_string("namespace", namespace)
    }
    /// Returns `metadata.uid`.
    fn uid(&self) -> Result<&str, MetaError> {
        self.metadata_string("uid")
    }
    /// Sets `metadata.uid`.
    fn set_uid(&mut self, uid: &str) -> Result<(), MetaError> {
        self.set_metadata_string("uid", uid)
    }
    /// Returns `metadata.resourceVersion` as stored (a decimal string or empty).
    fn resource_version(&self) -> Result<&str, MetaError> {
        self.metadata_string("resourceVersion")
    }
    /// Sets `metadata.resourceVersion`.
    fn set_resource_version(&mut self, resource_version: &str) -> Result<(), MetaError> {
        self.set_metadata_string("resourceVersion", resource_version)
    }

    /// Returns `metadata.generation`, 0 when absent.
    fn generation(&self) -> Result<i64, MetaError> {
        self.metadata_i64("generation")
    }
    /// Sets `metadata.generation`, removing it for 0.
    fn set_generation(&mut self, generation: i64) -> Result<(), MetaError> {
        self.set_metadata_i64("generation", generation)
    }
    /// Returns `metadata.deletionGracePeriodSeconds`.
    fn deletion_grace_period_seconds(&self) -> Result<Option<i64>, MetaError> {
        let Some(meta) = self.metadata_map()? else {
            return Ok(None);
        };
        match meta.get("deletionGracePeriodSeconds") {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_i64()
                .map(Some)
                .ok_or_else(|| MetaError::FieldType {
                    field: "metadata.deletionGracePeriodSeconds".to_string(),
                    expected: "integer",
                    found: json_type_name(value),
                }),
        }
    }
    /// Sets or removes `metadata.deletionGracePeriodSeconds`.
    fn set_deletion_grace_period_seconds(&mut self, seconds: Option<i64>) -> Result<(), MetaError> {
        let meta = self.metadata_map_mut()?;
        match seconds {
            Some(seconds) => {
                meta.insert(
                    "deletionGracePeriodSeconds".to_string(),
                    Value::from(seconds),
                );
            }
            None => {
                meta.shift_remove("deletionGracePeriodSeconds");
            }
        }
        Ok(())
    }

    /// Returns `metadata.labels`.
    fn labels(&self) -> Result<BTreeMap<String, String>, MetaError> {
        self.metadata_string_map("labels")
    }
    /// Replaces `metadata.labels`. An empty map removes the field.
    fn set_labels(&mut self, labels: &BTreeMap<String, String>) -> Result<(), MetaError> {
        self.set_metadata_string_map("labels", labels)
    }
    /// Returns `metadata.annotations`.
    fn annotations(&self) -> Result<BTreeMap<String, String>, MetaError> {
        self.metadata_string_map("annotations")
    }
    /// Replaces `metadata.annotations`. An empty map removes the field.
    fn set_annotations(&mut self, annotations: &BTreeMap<String, String>) -> Result<(), MetaError> {
        self.set_metadata_string_map("annotations", annotations)
    }

    /// Returns `metadata.finalizers` in order.
    fn finalizers(&self) -> Result<Vec<String>, MetaError> {
        self.metadata_typed("finalizers")
    }
    /// Replaces `metadata.finalizers`. An empty list removes the field.
    fn set_finalizers(&mut self, finalizers: &[String]) -> Result<(), MetaError> {
        self.set_metadata_typed("finalizers", finalizers, finalizers.is_empty())
    }
    /// Returns `metadata.ownerReferences`.
    fn owner_references(&self) -> Result<Vec<OwnerReference>, MetaError> {
        self.metadata_typed("ownerReferences")
    }
    /// Replaces `metadata.ownerReferences`. An empty list removes the field.
    fn set_owner_references(&mut self, references: &[OwnerReference]) -> Result<(), MetaError> {
        self.set_metadata_typed("ownerReferences", references, references.is_empty())
    }
    /// Returns `metadata.managedFields`.
    fn managed_fields(&self) -> Result<Vec<ManagedFieldsEntry>, MetaError> {
        self.metadata_typed("managedFields")
    }
    /// Replaces `metadata.managedFields`. An empty list removes the field.
    fn set_managed_fields(&mut self, entries: &[ManagedFieldsEntry]) -> Result<(), MetaError> {
        self.set_metadata_typed("managedFields", entries, entries.is_empty())
    }

    /// Returns `metadata.creationTimestamp`.
    fn creation_timestamp(&self) -> Result<Option<Timestamp>, MetaError> {
        self.metadata_time("creationTimestamp")
    }
    /// Sets `metadata.creationTimestamp` with seconds precision, or removes it.
    fn set_creation_timestamp(&mut self, time: Option<Timestamp>) -> Result<(), MetaError> {
        self.set_metadata_time("creationTimestamp", time)
    }
    /// Returns `metadata.deletionTimestamp`.
    fn deletion_timestamp(&self) -> Result<Option<Timestamp>, MetaError> {
        self.metadata_time("deletionTimestamp")
    }
    /// Sets `metadata.deletionTimestamp` with seconds precision, or removes it.
    fn set_deletion_timestamp(&mut self, time: Option<Timestamp>) -> Result<(), MetaError> {
        self.set_metadata_time("deletionTimestamp", time)
    }

    /// Reads a string field of `metadata`. Absent and null read as "".
    fn metadata_string(&self, key: &str) -> Result<&str, MetaError> {
        match self.metadata_map()? {
            None => Ok(""),
            Some(meta) => string_field(meta, key, &format!("metadata.{key}")),
        }
    }
    /// Writes a string field of `metadata`, removing it for "".
    fn set_metadata_string(&mut self, key: &str, value: &str) -> Result<(), MetaError> {
        let meta = self.metadata_map_mut()?;
        if value.is_empty() {
            meta.shift_remove(key);
        } else {
            meta.insert(key.to_string(), Value::String(value.to_string()));
        }
        Ok(())
    }
    /// Reads an integer field of `metadata`. Absent and null read as 0.
    fn metadata_i64(&self, key: &str) -> Result<i64, MetaError> {
        let Some(meta) = self.metadata_map()? else {
            return Ok(0);
        };
        match meta.get(key) {
            None | Some(Value::Null) => Ok(0),
            Some(value) => value.as_i64().ok_or_else(|| MetaError::FieldType {
                field: format!("metadata.{key}"),
                expected: "integer",
                found: json_type_name(value),
            }),
        }
    }
    /// Writes an integer field of `metadata`, removing it for 0.
    fn set_metadata_i64(&mut self, key: &str, value: i64) -> Result<(), MetaError> {
        let meta = self.metadata_map_mut()?;
        if value == 0 {
            meta.shift_remove(key);
        } else {
            meta.insert(key.to_string(), Value::from(value));
        }
        Ok(())
    }
    /// Reads a map of strings from `metadata`, such as labels.
    fn metadata_string_map(&self, key: &str) -> Result<BTreeMap<String, String>, MetaError> {
        let Some(meta) = self.metadata_map()? else {
            return Ok(BTreeMap::new());
        };
        let entries = match meta.get(key) {
            None | Some(Value::Null) => return Ok(BTreeMap::new()),
            Some(Value::Object(entries)) => entries,
            Some(other) => {
                return Err(MetaError::FieldType {
                    field: format!("metadata.{key}"),
                    expected: "object",
                    found: json_type_name(other),
                });
            }
        };
        let mut result = BTreeMap::new();
        for (name, value) in entries {
            let Value::String(text) = value else {
                return Err(MetaError::FieldType {
                    field: format!("metadata.{key}.{name}"),
                    expected: "string",
                    found: json_type_name(value),
                });
            };
            result.insert(name.clone(), text.clone());
        }
        Ok(result)
    }
    /// Writes a map of strings into `metadata`. An empty map removes the field.
    fn set_metadata_string_map(
        &mut self,
        key: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<(), MetaError> {
        let meta = self.metadata_map_mut()?;
        if values.is_empty() {
            meta.shift_remove(key);
            return Ok(());
        }
        let entries = values
            .iter()
            .map(|(name, value)| (name.clone(), Value::String(value.clone())));
        meta.insert(key.to_string(), Value::Object(entries.collect()));
        Ok(())
    }
    /// Deserializes a field of `metadata` into a k8s-openapi or std type. Absent and null
    /// read as the default.
    fn metadata_typed<T: serde::de::DeserializeOwned + Default>(
        &self,
        key: &str,
    ) -> Result<T, MetaError> {
        let Some(meta) = self.metadata_map()? else {
            return Ok(T::default());
        };
        match meta.get(key) {
            None | Some(Value::Null) => Ok(T::default()),
            Some(value) => T::deserialize(value).map_err(|error| MetaError::Decode {
                field: format!("metadata.{key}"),
                reason: error.to_string(),
            }),
        }
    }
    /// Serializes a value into a field of `metadata`, or removes the field when `remove`.
    fn set_metadata_typed<T: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &T,
        remove: bool,
    ) -> Result<(), MetaError> {
        let encoded = serde_json::to_value(value).map_err(|error| MetaError::Decode {
            field: format!("metadata.{key}"),
            reason: error.to_string(),
        })?;
        let meta = self.metadata_map_mut()?;
        if remove {
            meta.shift_remove(key);
        } else {
            meta.insert(key.to_string(), encoded);
        }
        Ok(())
    }
    /// Reads an RFC 3339 timestamp field of `metadata`.
    fn metadata_time(&self, key: &str) -> Result<Option<Timestamp>, MetaError> {
        let text = self.metadata_string(key)?;
        if text.is_empty() {
            return Ok(None);
        }
        parse_time(text).map(Some).map_err(|error| match error {
            MetaError::InvalidTime { value, reason, .. } => MetaError::InvalidTime {
                field: format!("metadata.{key}"),
                value,
                reason,
            },
            other => other,
        })
    }
    /// Writes a timestamp field of `metadata` with seconds precision, or removes it.
    fn set_metadata_time(&mut self, key: &str, time: Option<Timestamp>) -> Result<(), MetaError> {
        match time {
            Some(time) => self.set_metadata_string(key, &format_time(time)),
            None => self.set_metadata_string(key, ""),
        }
    }
}

impl ObjectMetaAccess for Value {
    fn metadata_map(&self) -> Result<Option<&Map<String, Value>>, MetaError> {
        match as_object(self)?.get("metadata") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(meta)) => Ok(Some(meta)),
            Some(other) => Err(MetaError::MetadataNotObject {
                found: json_type_name(other),
            }),
        }
    }

    fn metadata_map_mut(&mut self) -> Result<&mut Map<String, Value>, MetaError> {
        let found = json_type_name(self);
        let map = self
            .as_object_mut()
            .ok_or(MetaError::NotAnObject { found })?;
        let slot = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if slot.is_null() {
            *slot = Value::Object(Map::new());
        }
        let found = json_type_name(slot);
        slot.as_object_mut()
            .ok_or(MetaError::MetadataNotObject { found })
    }
}

/// Decodes the whole `metadata` of a JSON object into the k8s-openapi `ObjectMeta`.
///
/// # Errors
/// Fails as the accessors do, and with [`MetaError::Decode`] when a field does not fit
/// `ObjectMeta` (for example a numeric label value).
pub fn object_meta(object: &Value) -> Result<ObjectMeta, MetaError> {
    match object.metadata_map()? {
        None => Ok(ObjectMeta::default()),
        Some(meta) => ObjectMeta::deserialize(&Value::Object(meta.clone())).map_err(|error| {
            MetaError::Decode {
                field: "metadata".to_string(),
                reason: error.to_string(),
            }
        }),
    }
}

/// Replaces the `metadata` of a JSON object with the serialized `ObjectMeta`.
///
/// # Errors
/// [`MetaError::NotAnObject`] when `object` is not a JSON object.
pub fn set_object_meta(object: &mut Value, meta: &ObjectMeta) -> Result<(), MetaError> {
    let encoded = serde_json::to_value(meta).map_err(|error| MetaError::Decode {
        field: "metadata".to_string(),
        reason: error.to_string(),
    })?;
    let found = json_type_name(object);
    let map = object
        .as_object_mut()
        .ok_or(MetaError::NotAnObject { found })?;
    map.insert("metadata".to_string(), encoded);
    Ok(())
}

/// Returns the cache key (`namespace/name`, or `name` when cluster-scoped) of a
/// k8s-openapi object, as upstream's `MetaNamespaceKeyFunc` builds it.
pub fn key_of<K>(object: &K) -> String
where
    K: k8s_openapi::Metadata<Ty = ObjectMeta>,
{
    let meta = object.metadata();
    object_key(
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or(""),
    )
}

/// Builds the cache key `namespace/name`, or `name` when the namespace is empty.
pub fn object_key(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

/// Splits a cache key into namespace and name. A key without `/` is cluster-scoped.
///
/// # Errors
/// [`MetaError::InvalidKey`] for a key with more than one `/`.
pub fn split_object_key(key: &str) -> Result<(String, String), MetaError> {
    let parts: Vec<&str> = key.split('/').collect();
    match parts.as_slice() {
        [name] => Ok((String::new(), (*name).to_string())),
        [namespace, name] => Ok(((*namespace).to_string(), (*name).to_string())),
        _ => Err(MetaError::InvalidKey(key.to_string())),
    }
}

/// Checks that a name can be one path segment of a URL or storage key, returning one
/// message per violation as upstream's `IsValidPathSegmentName` does.
pub fn validate_path_segment_name(name: &str) -> Vec<String> {
    for illegal in [".", ".."] {
        if name == illegal {
            return vec![format!("may not be '{illegal}'")];
        }
    }
    ["/", "%"]
        .into_iter()
        .filter(|illegal| name.contains(illegal))
        .map(|illegal| format!("may not contain '{illegal}'"))
        .collect()
}

fn check_key_name(name: &str) -> Result<(), StatusError> {
    if name.is_empty() {
        return Err(StatusError::bad_request("Name parameter required."));
    }
    let problems = validate_path_segment_name(name);
    if !problems.is_empty() {
        return Err(StatusError::bad_request(format!(
            "Name parameter invalid: {}: {}",
            go_quote(name),
            problems.join(";")
        )));
    }
    Ok(())
}

/// Builds the storage key `<prefix>/<namespace>/<name>` of a namespaced object, where
/// `prefix` is the resource's storage prefix such as `/registry/pods`.
///
/// # Errors
/// A 400 BadRequest with upstream's text for an empty namespace ("Namespace parameter
/// required."), an empty name, or a name that cannot be a path segment.
pub fn namespaced_storage_key(
    prefix: &str,
    namespace: &str,
    name: &str,
) -> Result<String, StatusError> {
    if namespace.is_empty() {
        return Err(StatusError::bad_request("Namespace parameter required."));
    }
    check_key_name(name)?;
    Ok(format!("{prefix}/{namespace}/{name}"))
}

/// Builds the storage key `<prefix>/<name>` of a cluster-scoped object.
///
/// # Errors
/// A 400 BadRequest for an empty name or a name that cannot be a path segment.
pub fn cluster_storage_key(prefix: &str, name: &str) -> Result<String, StatusError> {
    check_key_name(name)?;
    Ok(format!("{prefix}/{name}"))
}

/// Returns the key prefix that lists a resource: `<prefix>/<namespace>` inside a namespace,
/// `<prefix>` across all namespaces or for a cluster-scoped resource.
pub fn storage_key_root(prefix: &str, namespace: &str) -> String {
    if namespace.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}/{namespace}")
    }
}

/// A resourceVersion that is not a decimal unsigned integer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("resourceVersion: Invalid value: {}: {reason}", go_quote(.value))]
pub struct ResourceVersionError {
    /// The rejected text.
    pub value: String,
    /// Go's `strconv.ParseUint` message, such as
    /// `strconv.ParseUint: parsing "x": invalid syntax`.
    pub reason: String,
}

impl ResourceVersionError {
    /// Returns the field error that upstream storage wraps in its invalid-object error.
    pub fn to_field_error(&self) -> FieldError {
        FieldError::invalid(
            &FieldPath::new("resourceVersion"),
            self.value.as_str(),
            self.reason.clone(),
        )
    }
}

/// Parses a resourceVersion as upstream storage does: `""` and `"0"` mean 0, anything else
/// must be a base-10 unsigned 64-bit integer (leading zeros allowed, no sign).
///
/// # Errors
/// [`ResourceVersionError`] with Go's `invalid syntax` or `value out of range` reason.
pub fn parse_resource_version(resource_version: &str) -> Result<u64, ResourceVersionError> {
    if resource_version.is_empty() || resource_version == "0" {
        return Ok(0);
    }
    let fail = |what: &str| ResourceVersionError {
        value: resource_version.to_string(),
        reason: format!(
            "strconv.ParseUint: parsing {}: {what}",
            go_quote(resource_version)
        ),
    };

    // Go reports whichever problem it meets first while scanning left to right.
    let mut value: u64 = 0;
    for byte in resource_version.bytes() {
        if !byte.is_ascii_digit() {
            return Err(fail("invalid syntax"));
        }
        value = value
            .checked_mul(10)
            .and_then(|shifted| shifted.checked_add(u64::from(byte - b'0')))
            .ok_or_else(|| fail("value out of range"))?;
    }
    Ok(value)
}

/// Formats a resourceVersion for `metadata.resourceVersion`. 0 becomes "" as upstream's
/// versioner writes it.
pub fn format_resource_version(resource_version: u64) -> String {
    if resource_version == 0 {
        String::new()
    } else {
        resource_version.to_string()
    }
}

/// Formats a timestamp as a meta/v1 `Time`: UTC, seconds precision, such as
/// `2024-01-02T03:04:05Z`. Sub-second digits are truncated.
pub fn format_time(time: Timestamp) -> String {
    let whole = Timestamp::from_second(time.as_second()).unwrap_or(time);
    whole.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Formats a timestamp as a meta/v1 `MicroTime`: UTC with six fractional digits, such as
/// `2024-01-02T03:04:05.123456Z`. Digits beyond microseconds are truncated.
pub fn format_micro_time(time: Timestamp) -> String {
    let micros = Timestamp::from_microsecond(time.as_microsecond()).unwrap_or(time);
    micros.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses an RFC 3339 timestamp such as `2024-01-02T03:04:05Z` or
/// `2024-01-02T05:04:05.5+02:00`.
///
/// # Errors
/// [`MetaError::InvalidTime`] when the text is not RFC 3339 with an offset.
pub fn parse_time(text: &str) -> Result<Timestamp, MetaError> {
    text.parse::<Timestamp>()
        .map_err(|error| MetaError::InvalidTime {
            field: "time".to_string(),
            value: text.to_string(),
            reason: error.to_string(),
        })
}

/// Returns the current time truncated to whole seconds, the precision a `Time` keeps.
pub fn now_time() -> Timestamp {
    let seconds = i64::try_from(since_unix_epoch().as_secs()).unwrap_or(i64::MAX);
    Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Returns the current time truncated to microseconds, the precision a `MicroTime` keeps.
pub fn now_micro_time() -> Timestamp {
    let micros = i64::try_from(since_unix_epoch().as_micros()).unwrap_or(i64::MAX);
    Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Reads the system clock. A clock set before 1970 reads as the epoch. The jiff build that
/// k8s-openapi enables has no clock access of its own.
fn since_unix_epoch() -> std::time::Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    #[test]
    fn group_version_parse_cases() {
        let cases = [
            ("v1", Some(("", "v1"))),
            ("apps/v1", Some(("apps", "v1"))),
            ("", Some(("", ""))),
            ("/", Some(("", ""))),
            ("a/b/c", None),
        ];
        for (input, expected) in cases {
            let parsed = GroupVersion::parse(input);
            match expected {
                Some((group, version)) => {
                    assert_eq!(
                        parsed,
                        Ok(GroupVersion::new(group, version)),
                        "input {input:?}"
                    );
                }
                None => {
                    assert_eq!(
                        parsed.map_err(|error| error.to_string()),
                        Err("unexpected GroupVersion string: a/b/c".to_string())
                    );
                }
            }
        }
    }

    #[test]
    fn identifiers_display_as_upstream() {
        assert_eq!(GroupVersion::new("apps", "v1").to_string(), "apps/v1");
        assert_eq!(GroupVersion::new("", "v1").to_string(), "v1");
        assert_eq!(
            GroupVersionKind::new("apps", "v1", "Deployment").to_string(),
            "apps/v1, Kind=Deployment"
        );
        assert_eq!(GroupVersionKind::new("", "v1", "Pod").api_version(), "v1");
        assert_eq!(
            GroupVersionResource::new("apps", "v1", "deployments").to_string(),
            "apps/v1, Resource=deployments"
        );
        assert_eq!(
            GroupResource::new("apps", "deployments").to_string(),
            "deployments.apps"
        );
        assert_eq!(GroupResource::new("", "pods").to_string(), "pods");
        assert_eq!(
            GroupKind::new("apps", "Deployment").to_string(),
            "Deployment.apps"
        );
        assert_eq!(GroupKind::new("", "Pod").to_string(), "Pod");
        assert_eq!(
            GroupVersionKind::of::<Pod>(),
            GroupVersionKind::new("", "v1", "Pod")
        );
    }

    #[test]
    fn group_resource_parse() {
        assert_eq!(
            GroupResource::parse("deployments.apps"),
            GroupResource::new("apps", "deployments")
        );
        assert_eq!(
            GroupResource::parse("leases.coordination.k8s.io"),
            GroupResource::new("coordination.k8s.io", "leases")
        );
        assert_eq!(GroupResource::parse("pods"), GroupResource::new("", "pods"));
    }

    #[test]
    fn type_meta_from_value() {
        let object = json!({"apiVersion": "apps/v1", "kind": "Deployment"});
        let type_meta = TypeMeta::from_value(&object).expect("object");
        assert_eq!(
            type_meta.group_version_kind(),
            Ok(GroupVersionKind::new("apps", "v1", "Deployment"))
        );
        assert_eq!(TypeMeta::from_value(&json!({})), Ok(TypeMeta::default()));
        assert_eq!(
            TypeMeta::from_value(&json!({"apiVersion": 1})).map_err(|error| error.to_string()),
            Err(".apiVersion accessor error: value is number, expected string".to_string())
        );
        assert_eq!(
            TypeMeta::from_value(&json!([])),
            Err(MetaError::NotAnObject { found: "array" })
        );
    }

    #[test]
    fn type_meta_write_places_fields_first() {
        let mut object = json!({"metadata": {"name": "a"}});
        TypeMeta {
            api_version: "v1".into(),
            kind: "Pod".into(),
        }
        .write_to(&mut object)
        .expect("object");
        assert_eq!(
            serde_json::to_string(&object).expect("json"),
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}"#
        );
    }

    #[test]
    fn metadata_string_accessors() {
        let mut object = json!({"kind": "Pod"});
        assert_eq!(object.name(), Ok(""));
        object.set_name("nginx").expect("set");
        object.set_namespace("default").expect("set");
        object.set_uid("1234").expect("set");
        object.set_resource_version("42").expect("set");
        object.set_generate_name("web-").expect("set");
        assert_eq!(object.name(), Ok("nginx"));
        assert_eq!(object.namespace(), Ok("default"));
        assert_eq!(object.uid(), Ok("1234"));
        assert_eq!(object.resource_version(), Ok("42"));
        assert_eq!(object.generate_name(), Ok("web-"));

        object.set_uid("").expect("set");
        assert_eq!(object["metadata"].get("uid"), None);
    }

    #[test]
    fn metadata_type_errors() {
        let not_object = json!({"metadata": "x"});
        assert_eq!(
            not_object.name(),
            Err(MetaError::MetadataNotObject { found: "string" })
        );
        let mut array = json!([1]);
        assert_eq!(
            array.set_name("a"),
            Err(MetaError::NotAnObject { found: "array" })
        );
        let numeric_name = json!({"metadata": {"name": 5}});
        assert_eq!(
            numeric_name.name().map_err(|error| error.to_string()),
            Err(".metadata.name accessor error: value is number, expected string".to_string())
        );
        let bad_label = json!({"metadata": {"labels": {"app": 1}}});
        assert_eq!(
            bad_label.labels().map_err(|error| error.to_string()),
            Err(
                ".metadata.labels.app accessor error: value is number, expected string".to_string()
            )
        );
        let bad_owner = json!({"metadata": {"ownerReferences": [{"name": 1}]}});
        assert!(matches!(
            bad_owner.owner_references(),
            Err(MetaError::Decode { .. })
        ));
    }

    #[test]
    fn metadata_null_is_created_on_write() {
        let mut object = json!({"metadata": null});
        assert_eq!(object.namespace(), Ok(""));
        object.set_namespace("kube-system").expect("set");
        assert_eq!(object["metadata"]["namespace"], "kube-system");
    }

    #[test]
    fn metadata_maps_lists_and_numbers() {
        let mut object = json!({"metadata": {}});
        let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
        object.set_labels(&labels).expect("set");
        object
            .set_annotations(&BTreeMap::from([("a".to_string(), "b".to_string())]))
            .expect("set");
        object
            .set_finalizers(&["kubernetes".to_string()])
            .expect("set");
        object.set_generation(3).expect("set");
        object
            .set_deletion_grace_period_seconds(Some(30))
            .expect("set");
        let owner = OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: "web-1".into(),
            uid: "u1".into(),
            controller: Some(true),
            ..Default::default()
        };
        object
            .set_owner_references(std::slice::from_ref(&owner))
            .expect("set");

        assert_eq!(object.labels(), Ok(labels));
        assert_eq!(
            object
                .annotations()
                .expect("get")
                .get("a")
                .map(String::as_str),
            Some("b")
        );
        assert_eq!(object.finalizers(), Ok(vec!["kubernetes".to_string()]));
        assert_eq!(object.generation(), Ok(3));
        assert_eq!(object.deletion_grace_period_seconds(), Ok(Some(30)));
        assert_eq!(object.owner_references(), Ok(vec![owner]));
        assert_eq!(object.managed_fields(), Ok(vec![]));

        object.set_labels(&BTreeMap::new()).expect("set");
        object.set_finalizers(&[]).expect("set");
        object.set_generation(0).expect("set");
        assert_eq!(object["metadata"].get("labels"), None);
        assert_eq!(object["metadata"].get("finalizers"), None);
        assert_eq!(object["metadata"].get("generation"), None);
    }

    #[test]
    fn metadata_timestamps() {
        let mut object = json!({});
        let time = parse_time("2024-01-02T03:04:05.9Z").expect("time");
        object.set_creation_timestamp(Some(time)).expect("set");
        assert_eq!(
            object["metadata"]["creationTimestamp"],
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(
            object.creation_timestamp(),
            Ok(Some(parse_time("2024-01-02T03:04:05Z").expect("time")))
        );
        assert_eq!(object.deletion_timestamp(), Ok(None));

        let broken = json!({"metadata": {"deletionTimestamp": "yesterday"}});
        assert!(matches!(
            broken.deletion_timestamp(),
            Err(MetaError::InvalidTime { ref field, .. }) if field == "metadata.deletionTimestamp"
        ));
    }

    #[test]
    fn object_meta_round_trip() {
        let mut object = json!({"metadata": {"name": "a", "labels": {"x": "y"}}});
        let mut meta = object_meta(&object).expect("meta");
        assert_eq!(meta.name.as_deref(), Some("a"));
        meta.namespace = Some("ns".into());
        set_object_meta(&mut object, &meta).expect("set");
        assert_eq!(object.namespace(), Ok("ns"));
        assert_eq!(
            object
                .labels()
                .expect("labels")
                .get("x")
                .map(String::as_str),
            Some("y")
        );
    }

    #[test]
    fn time_formats() {
        let time = parse_time("2024-01-02T03:04:05.123456789Z").expect("time");
        assert_eq!(format_time(time), "2024-01-02T03:04:05Z");
        assert_eq!(format_micro_time(time), "2024-01-02T03:04:05.123456Z");
        let whole = parse_time("2024-01-02T03:04:05Z").expect("time");
        assert_eq!(format_micro_time(whole), "2024-01-02T03:04:05.000000Z");
        let offset = parse_time("2024-01-02T05:04:05+02:00").expect("time");
        assert_eq!(format_time(offset), "2024-01-02T03:04:05Z");
        assert!(parse_time("2024-01-02 03:04:05").is_err());
        assert_eq!(now_time().subsec_nanosecond(), 0);
        assert_eq!(now_micro_time().subsec_nanosecond() % 1000, 0);
    }

    #[test]
    fn resource_version_parse_cases() {
        let cases: [(&str, Result<u64, &str>); 8] = [
            ("", Ok(0)),
            ("0", Ok(0)),
            ("1", Ok(1)),
            ("007", Ok(7)),
            ("18446744073709551615", Ok(u64::MAX)),
            (
                "abc",
                Err(
                    r#"resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax"#,
                ),
            ),
            (
                "-1",
                Err(
                    r#"resourceVersion: Invalid value: "-1": strconv.ParseUint: parsing "-1": invalid syntax"#,
                ),
            ),
            (
                "18446744073709551616",
                Err(
                    r#"resourceVersion: Invalid value: "18446744073709551616": strconv.ParseUint: parsing "18446744073709551616": value out of range"#,
                ),
            ),
        ];
        for (input, expected) in cases {
            let parsed = parse_resource_version(input).map_err(|error| error.to_string());
            assert_eq!(parsed, expected.map_err(str::to_string), "input {input:?}");
        }
        assert_eq!(format_resource_version(0), "");
        assert_eq!(format_resource_version(15), "15");
    }

    #[test]
    fn resource_version_field_error() {
        let error = parse_resource_version("x1").expect_err("invalid");
        let field_error = error.to_field_error();
        assert_eq!(field_error.to_string(), error.to_string());
    }

    #[test]
    fn object_keys() {
        assert_eq!(object_key("default", "nginx"), "default/nginx");
        assert_eq!(object_key("", "node-1"), "node-1");
        assert_eq!(
            split_object_key("default/nginx"),
            Ok(("default".into(), "nginx".into()))
        );
        assert_eq!(
            split_object_key("node-1"),
            Ok((String::new(), "node-1".into()))
        );
        assert_eq!(
            split_object_key("a/b/c").map_err(|error| error.to_string()),
            Err(r#"unexpected key format: "a/b/c""#.to_string())
        );
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some("ns".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(key_of(&pod), "ns/p");
    }

    #[test]
    fn storage_keys() {
        assert_eq!(
            namespaced_storage_key("/registry/pods", "default", "nginx"),
            Ok("/registry/pods/default/nginx".to_string())
        );
        assert_eq!(
            cluster_storage_key("/registry/minions", "node-1"),
            Ok("/registry/minions/node-1".to_string())
        );
        assert_eq!(
            storage_key_root("/registry/pods", "default"),
            "/registry/pods/default"
        );
        assert_eq!(storage_key_root("/registry/pods", ""), "/registry/pods");

        let cases = [
            (
                namespaced_storage_key("/registry/pods", "", "a"),
                "Namespace parameter required.",
            ),
            (
                cluster_storage_key("/registry/nodes", ""),
                "Name parameter required.",
            ),
            (
                cluster_storage_key("/registry/nodes", ".."),
                r#"Name parameter invalid: "..": may not be '..'"#,
            ),
            (
                cluster_storage_key("/registry/nodes", "a/b%"),
                r#"Name parameter invalid: "a/b%": may not contain '/';may not contain '%'"#,
            ),
        ];
        for (result, message) in cases {
            let error = result.expect_err("invalid key");
            assert_eq!(error.code(), 400);
            assert_eq!(error.message(), message);
        }
    }
}
