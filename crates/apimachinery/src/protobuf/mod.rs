//! The Kubernetes protobuf serialization (`application/vnd.kubernetes.protobuf`) of built-in
//! kinds, converted to and from the JSON form (`serde_json::Value`) the rest of this crate
//! works with.
//!
//! Entry points: [`decode`] for request bodies, [`decode_delete_options`] for DELETE bodies
//! and [`encode`] for producing bodies.
//!
//! A body is the magic bytes `k8s\0` followed by a `runtime.Unknown` message:
//! `{1: typeMeta {1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding, 4: contentType}`,
//! where `raw` is the object's own message. A schema table generated from the Kubernetes
//! v1.33 `generated.proto` files and Go struct tags drives the codec. JSON member names and
//! the handling of empty values therefore match the JSON that a v1.33 apiserver writes
//! after decoding the same bytes:
//!
//! * fields absent on the wire are absent in JSON;
//! * a Go value field tagged `omitempty` (most of ObjectMeta, for instance) is left out when
//!   it carries its zero value, because Go writes those fields even when they are empty;
//! * `metav1.Time` becomes an RFC 3339 string with whole seconds, `metav1.MicroTime` one
//!   with six fractional digits, and an empty time message is left out (Go writes `null`);
//! * `resource.Quantity` becomes its string, `intstr.IntOrString` a number or a string,
//!   `bytes` a base64 string, and `runtime.RawExtension`, `metav1.FieldsV1` and the
//!   apiextensions `JSON` the JSON they embed.
//!
//! Unknown field numbers are skipped, as protobuf requires.

mod decode;
mod encode;
mod messages;
mod path;
mod schema;
mod time;
mod wire;

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};
use thiserror::Error;

use crate::meta::{GroupVersion, GroupVersionKind};

pub use self::wire::{WireError, WireType};

/// Media type of the Kubernetes protobuf serialization.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Bytes every Kubernetes protobuf body starts with.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// Deepest nesting of messages the codec follows. A custom resource schema uses two levels
/// per level of its JSON schema, so this allows schemas well over a hundred levels deep.
pub const MAX_NESTING: usize = 256;

/// Error from decoding a protobuf body or encoding an object as one.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ProtobufError {
    /// The body does not start with [`MAGIC`].
    #[error("protobuf body does not start with the magic bytes \"k8s\\x00\"")]
    MissingMagic,
    /// The `runtime.Unknown` envelope is malformed.
    #[error("invalid runtime.Unknown envelope at byte {offset}: {source}")]
    InvalidEnvelope {
        /// Offset in the body.
        offset: usize,
        /// Cause.
        source: DecodeReason,
    },
    /// The envelope carries no kind.
    #[error("protobuf body has no kind (apiVersion {api_version:?})")]
    MissingKind {
        /// The envelope's apiVersion.
        api_version: String,
    },
    /// The envelope's apiVersion has more than one `/`.
    #[error("invalid apiVersion {0:?} in protobuf body")]
    InvalidApiVersion(String),
    /// No message of the schema table belongs to the kind.
    #[error("no protobuf schema is known for {api_version}, Kind={kind}")]
    UnknownKind {
        /// The envelope's apiVersion.
        api_version: String,
        /// The envelope's kind.
        kind: String,
    },
    /// The envelope names a content encoding, but only the empty (identity) encoding exists.
    #[error("unsupported content encoding {0:?} in protobuf body")]
    UnsupportedContentEncoding(String),
    /// A DELETE body carries another kind than DeleteOptions.
    #[error("expected kind DeleteOptions in the request body, got {0:?}")]
    NotDeleteOptions(String),
    /// The object's message is malformed.
    #[error("invalid protobuf for {kind} at byte {offset}, field {path}: {reason}")]
    Decode {
        /// Kind being decoded.
        kind: String,
        /// JSON path of the field, `<root>` for the message itself.
        path: String,
        /// Offset in the body.
        offset: usize,
        /// Cause.
        reason: DecodeReason,
    },
    /// A JSON member cannot be encoded.
    #[error("cannot encode {kind} field {path} as protobuf: {reason}")]
    Encode {
        /// Kind being encoded.
        kind: String,
        /// JSON path of the member.
        path: String,
        /// Cause.
        reason: EncodeReason,
    },
}

/// Cause of a decoding error.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DecodeReason {
    /// The wire format itself is broken.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The wire type does not fit the field's type.
    #[error("wire type {found:?} does not fit a {expected} field")]
    WireTypeMismatch {
        /// The field's protobuf type.
        expected: &'static str,
        /// The wire type found.
        found: WireType,
    },
    /// A double is NaN or infinite, which JSON cannot carry.
    #[error("double {0} has no JSON representation")]
    NonFiniteDouble(f64),
    /// A time lies outside the years 0000 to 9999, which RFC 3339 cannot carry.
    #[error("time of {0} Unix seconds is outside the years 0000 to 9999")]
    TimeOutOfRange(i64),
    /// An IntOrString carries a type other than 0 (int) and 1 (string).
    #[error("IntOrString type {0} is neither 0 (int) nor 1 (string)")]
    InvalidIntOrStringType(i64),
    /// Embedded JSON (RawExtension, FieldsV1, JSON) does not parse.
    #[error("embedded JSON is invalid: {0}")]
    InvalidEmbeddedJson(String),
    /// Embedded protobuf (a RawExtension holding a protobuf object) does not decode.
    #[error("embedded object: {0}")]
    InvalidEmbeddedObject(Box<ProtobufError>),
    /// Messages nest deeper than [`MAX_NESTING`].
    #[error("messages nest deeper than {MAX_NESTING} levels")]
    TooDeep,
}

/// Cause of an encoding error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeReason {
    /// The schema has no field of that name.
    #[error("unknown field")]
    UnknownField,
    /// The JSON type does not fit the field.
    #[error("expected {expected}, got {found}")]
    WrongType {
        /// JSON type the field takes.
        expected: &'static str,
        /// JSON type of the member.
        found: &'static str,
    },
    /// A number does not fit the field's integer type.
    #[error("number {value} does not fit {expected}")]
    OutOfRange {
        /// The number as written.
        value: String,
        /// The field's protobuf type.
        expected: &'static str,
    },
    /// A bytes field is not valid base64.
    #[error("invalid base64: {0}")]
    InvalidBase64(String),
    /// A time is not an RFC 3339 timestamp.
    #[error("invalid RFC 3339 time {0:?}")]
    InvalidTime(String),
    /// Objects nest deeper than [`MAX_NESTING`].
    #[error("objects nest deeper than {MAX_NESTING} levels")]
    TooDeep,
}

/// Decodes a protobuf request body into its kind and its JSON form, with `apiVersion` and
/// `kind` set from the envelope.
///
/// # Errors
/// [`ProtobufError::MissingMagic`], [`ProtobufError::InvalidEnvelope`],
/// [`ProtobufError::MissingKind`], [`ProtobufError::InvalidApiVersion`],
/// [`ProtobufError::UnsupportedContentEncoding`], [`ProtobufError::UnknownKind`] for a kind
/// outside the schema table, and [`ProtobufError::Decode`] with the field path and byte
/// offset for a malformed object.
pub fn decode(body: &[u8]) -> Result<(GroupVersionKind, Value), ProtobufError> {
    decode::decode_body(body, 0, 0)
}

/// Decodes the body of a DELETE request, a `DeleteOptions` of any group version (clients
/// send it in the group version of the resource, such as `apps/v1`), into its JSON form.
/// An envelope without a kind is taken as DeleteOptions. The result carries `apiVersion`
/// and `kind` when the envelope does.
///
/// # Errors
/// The envelope errors of [`decode`], [`ProtobufError::NotDeleteOptions`] for another
/// kind, and [`ProtobufError::Decode`] for malformed options.
pub fn decode_delete_options(body: &[u8]) -> Result<Value, ProtobufError> {
    decode::decode_delete_options(body)
}

/// Encodes an object in its JSON form as a protobuf body of kind `gvk`. The object's own
/// `apiVersion` and `kind` members are not consulted, because the envelope carries `gvk`.
///
/// # Errors
/// [`ProtobufError::UnknownKind`] for a kind outside the schema table, and
/// [`ProtobufError::Encode`] for a member the schema does not know, a JSON type that does
/// not fit its field, an out-of-range number, invalid base64 or an invalid time.
pub fn encode(gvk: &GroupVersionKind, object: &Value) -> Result<Vec<u8>, ProtobufError> {
    encode::encode_body(gvk, object)
}

/// Returns whether the schema table has a message for the kind, so that [`encode`] and
/// [`decode`] can handle it.
pub fn is_supported(gvk: &GroupVersionKind) -> bool {
    schema::find_kind(gvk).is_some()
}

/// Builds the JSON object of a decoded kind: `apiVersion` and `kind` first, then the
/// members decoded from the message.
fn with_type_meta(api_version: &str, kind: &str, members: Map<String, Value>) -> Value {
    let mut object = Map::with_capacity(members.len() + 2);
    if !api_version.is_empty() {
        object.insert("apiVersion".to_string(), Value::from(api_version));
    }
    if !kind.is_empty() {
        object.insert("kind".to_string(), Value::from(kind));
    }
    for (name, value) in members {
        if name != "apiVersion" && name != "kind" {
            object.insert(name, value);
        }
    }
    Value::Object(object)
}

/// Parses an envelope apiVersion into a group and version.
fn parse_api_version(api_version: &str) -> Result<GroupVersion, ProtobufError> {
    GroupVersion::parse(api_version)
        .map_err(|_| ProtobufError::InvalidApiVersion(api_version.to_string()))
}
