//! The shape of the schema table: which protobuf messages exist, what each field number
//! means and how a message maps to JSON. The table itself is in `messages.rs`, and this
//! module contains its types and the lookup of a kind's root message ([`find_kind`]).
//!
//! Kubernetes protos are proto2 files written by go-to-protobuf: every field is
//! `optional`, `repeated` or a `map<string, V>`, scalars are `string`, `bool`, `int32`,
//! `int64`, `double` or `bytes`, and enumerations travel as strings.

use std::fmt;

use crate::meta::GroupVersionKind;

/// A protobuf message and how it maps to JSON.
pub struct Message {
    /// Proto package, such as `k8s.io.api.core.v1`.
    pub package: &'static str,
    /// Message name, which is also the kind for root messages (`Pod`).
    pub name: &'static str,
    /// JSON representation.
    pub repr: Repr,
    /// Fields sorted by number.
    pub fields: &'static [Field],
}

impl Message {
    /// Returns the field with that number.
    pub fn field(&self, number: u32) -> Option<&'static Field> {
        self.fields
            .binary_search_by_key(&number, |field| field.number)
            .ok()
            .map(|index| &self.fields[index])
    }
}

// Written by hand because messages refer to each other in cycles (JSONSchemaProps), which a
// derived Debug would follow forever.
impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.package, self.name)
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

/// JSON representation of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repr {
    /// A JSON object with one member per field.
    Object,
    /// `metav1.Time`: `{1: seconds, 2: nanos}` on the wire, an RFC 3339 string with whole
    /// seconds in JSON. An empty message is the zero time, which JSON leaves out.
    Time,
    /// `metav1.MicroTime`: like [`Repr::Time`] with six fractional digits.
    MicroTime,
    /// `resource.Quantity`: `{1: string}`, the string in JSON.
    Quantity,
    /// `intstr.IntOrString`: `{1: type, 2: intVal, 3: strVal}`, a number (type 0) or a
    /// string (type 1) in JSON.
    IntOrString,
    /// Embedded JSON in field 1 (`runtime.RawExtension`, `metav1.FieldsV1`,
    /// apiextensions `JSON`).
    RawJson,
    /// A named string slice such as `ExtraValue` or `Verbs`: `{repeated string items = 1}`,
    /// a JSON array.
    StringList,
    /// apiextensions `JSONSchemaPropsOrArray`: `{1: schema, 2: repeated schemas}`, an
    /// object or an array in JSON.
    SchemaOrArray,
    /// apiextensions `JSONSchemaPropsOrBool`: `{1: allows, 2: schema}`, an object or a
    /// boolean in JSON.
    SchemaOrBool,
    /// apiextensions `JSONSchemaPropsOrStringArray`: `{1: schema, 2: repeated string}`, an
    /// object or an array of strings in JSON.
    SchemaOrStringArray,
}

/// A field's scalar type or message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Type {
    /// `string`: a JSON string.
    Str,
    /// `bool`: a varint, a JSON boolean.
    Bool,
    /// `int32`: a varint, a JSON number.
    Int32,
    /// `int64`: a varint, a JSON number.
    Int64,
    /// `double`: eight little-endian bytes, a JSON number.
    Double,
    /// `bytes`: a base64 JSON string, as Go encodes `[]byte`.
    Bytes,
    /// A nested message.
    Msg(&'static Message),
}

impl Type {
    /// Returns whether the type travels as a varint or fixed-size value, so a repeated
    /// field of it may arrive packed.
    pub fn is_packable(self) -> bool {
        matches!(self, Type::Bool | Type::Int32 | Type::Int64 | Type::Double)
    }
}

/// Occurrence of a field and the place of its JSON member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// At most once, and present in JSON whenever present on the wire.
    Single,
    /// At most once, a Go value field with `omitempty`: JSON leaves out its zero value
    /// (`""`, `0`, `false`, empty bytes) even when the wire carries it, as Go's
    /// marshalling writes every value field.
    OmitEmpty,
    /// Any number of times, a JSON array.
    Repeated,
    /// `map<string, V>`: repeated entries `{1: key, 2: value}`, a JSON object.
    Map,
    /// A Go struct embedded with `json:",inline"`: its fields appear in the parent's JSON
    /// object.
    Inline,
}

/// One field of a message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// Field number.
    pub number: u32,
    /// JSON member name, empty for [`Cardinality::Inline`].
    pub json_name: &'static str,
    /// Scalar type or message (the value type for maps).
    pub ty: Type,
    /// Occurrence and JSON placement.
    pub cardinality: Cardinality,
}

/// Builds a singular field.
pub const fn one(number: u32, json_name: &'static str, ty: Type) -> Field {
    Field {
        number,
        json_name,
        ty,
        cardinality: Cardinality::Single,
    }
}

/// Builds a singular scalar field whose zero value JSON leaves out.
pub const fn omitempty(number: u32, json_name: &'static str, ty: Type) -> Field {
    Field {
        number,
        json_name,
        ty,
        cardinality: Cardinality::OmitEmpty,
    }
}

/// Builds a repeated field.
pub const fn rep(number: u32, json_name: &'static str, ty: Type) -> Field {
    Field {
        number,
        json_name,
        ty,
        cardinality: Cardinality::Repeated,
    }
}

/// Builds a `map<string, ty>` field.
pub const fn map(number: u32, json_name: &'static str, ty: Type) -> Field {
    Field {
        number,
        json_name,
        ty,
        cardinality: Cardinality::Map,
    }
}

/// Builds an inlined message field.
pub const fn inline(number: u32, ty: Type) -> Field {
    Field {
        number,
        json_name: "",
        ty,
        cardinality: Cardinality::Inline,
    }
}

/// The kinds (root messages) of one group version.
pub struct GroupVersionKinds {
    /// API group, empty for core.
    pub group: &'static str,
    /// Version.
    pub version: &'static str,
    /// Root messages, named as their kinds.
    pub kinds: &'static [&'static Message],
}

/// Group and version whose kinds every served group version also accepts.
const META_GROUP: &str = "meta.k8s.io";

/// Kinds of `meta.k8s.io/v1` that upstream registers in every group version, so that a
/// client may send `apps/v1, Kind=DeleteOptions`.
const SHARED_META_KINDS: &[&str] = &[
    "CreateOptions",
    "DeleteOptions",
    "GetOptions",
    "ListOptions",
    "PatchOptions",
    "Status",
    "UpdateOptions",
    "WatchEvent",
];

/// Finds the root message of a kind: a runtime.Object of that group version, or one of the
/// option kinds and Status that every group version shares with `meta.k8s.io/v1`.
pub fn find_kind(gvk: &GroupVersionKind) -> Option<&'static Message> {
    let in_group = find_in_group_version(&gvk.group, &gvk.version, &gvk.kind);
    if in_group.is_some() {
        return in_group;
    }

    let served = super::messages::GROUP_VERSIONS
        .iter()
        .any(|entry| entry.group == gvk.group && entry.version == gvk.version);
    if served && SHARED_META_KINDS.contains(&gvk.kind.as_str()) {
        return find_in_group_version(META_GROUP, "v1", &gvk.kind);
    }
    None
}

fn find_in_group_version(group: &str, version: &str, kind: &str) -> Option<&'static Message> {
    super::messages::GROUP_VERSIONS
        .iter()
        .filter(|entry| entry.group == group && entry.version == version)
        .flat_map(|entry| entry.kinds.iter().copied())
        .find(|message| message.name == kind)
}

/// Returns the `meta.k8s.io/v1` DeleteOptions message.
pub fn delete_options() -> &'static Message {
    &super::messages::META_V1_DELETE_OPTIONS
}
