//! Encoding: a JSON object walked against the schema table into the object's message,
//! wrapped in a `runtime.Unknown` envelope.
//!
//! Entry point: [`encode_body`], called from the module's public [`super::encode`].
//!
//! Fields are written in field-number order and map entries sorted by key, as Go's
//! generated marshalling does, so the bytes match what a Go client writes for the same
//! members. Go also writes value fields that carry their zero value, but this encoder
//! writes only members present in the JSON.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::decode::type_name;
use super::path::{FieldPath, Segment};
use super::schema::{self, Cardinality, Field, Message, Repr, Type};
use super::time::parse_rfc3339;
use super::wire::{put_bytes, put_fixed64_field, put_varint_field};
use super::{EncodeReason, MAGIC, MAX_NESTING, ProtobufError};
use crate::meta::{GroupVersionKind, json_type_name};

/// Encodes `object` as a body of kind `gvk`.
pub(super) fn encode_body(
    gvk: &GroupVersionKind,
    object: &Value,
) -> Result<Vec<u8>, ProtobufError> {
    let api_version = gvk.api_version();
    let message = schema::find_kind(gvk).ok_or_else(|| ProtobufError::UnknownKind {
        api_version: api_version.clone(),
        kind: gvk.kind.clone(),
    })?;

    let raw = encode_message(message, object, &gvk.kind)?;

    let mut type_meta = Vec::new();
    put_bytes(&mut type_meta, 1, api_version.as_bytes());
    put_bytes(&mut type_meta, 2, gvk.kind.as_bytes());

    let mut body = MAGIC.to_vec();
    put_bytes(&mut body, 1, &type_meta);
    put_bytes(&mut body, 2, &raw);
    // contentEncoding and contentType, empty as Go clients write them.
    put_bytes(&mut body, 3, b"");
    put_bytes(&mut body, 4, b"");
    Ok(body)
}

/// Encodes `object` as the message of a root kind, without the envelope. The object's
/// `apiVersion` and `kind` members are skipped unless the message has such fields.
pub(super) fn encode_message(
    message: &'static Message,
    object: &Value,
    kind: &str,
) -> Result<Vec<u8>, ProtobufError> {
    let mut encoder = Encoder {
        path: FieldPath::default(),
        depth: 0,
    };
    let mut raw = Vec::new();
    encoder
        .root(message, object, &mut raw)
        .map_err(|failure| ProtobufError::Encode {
            kind: kind.to_string(),
            path: failure.path.to_string(),
            reason: failure.reason,
        })?;
    Ok(raw)
}

/// An encoding error before the kind is attached.
struct Failure {
    path: FieldPath,
    reason: EncodeReason,
}

struct Encoder {
    path: FieldPath,
    depth: usize,
}

impl Encoder {
    fn fail(&self, reason: EncodeReason) -> Failure {
        Failure {
            path: self.path.clone(),
            reason,
        }
    }

    fn wrong_type(&self, expected: &'static str, found: &Value) -> Failure {
        self.fail(EncodeReason::WrongType {
            expected,
            found: json_type_name(found),
        })
    }

    fn root(
        &mut self,
        message: &'static Message,
        object: &Value,
        out: &mut Vec<u8>,
    ) -> Result<(), Failure> {
        let Value::Object(members) = object else {
            return Err(self.wrong_type("object", object));
        };
        self.check_members(message, members, true)?;
        self.object(message, members, out)
    }

    /// Rejects members the message (with its inlined messages) has no field for, so that
    /// encoding never drops data silently.
    fn check_members(
        &mut self,
        message: &'static Message,
        members: &Map<String, Value>,
        is_root: bool,
    ) -> Result<(), Failure> {
        for name in members.keys() {
            if is_root && (name == "apiVersion" || name == "kind") {
                continue;
            }
            if !has_member(message, name) {
                self.path.push(Segment::Member(name.clone()));
                let failure = self.fail(EncodeReason::UnknownField);
                self.path.pop();
                return Err(failure);
            }
        }
        Ok(())
    }

    /// Writes the fields of an object message whose `members` have been checked.
    fn object(
        &mut self,
        message: &'static Message,
        members: &Map<String, Value>,
        out: &mut Vec<u8>,
    ) -> Result<(), Failure> {
        if self.depth >= MAX_NESTING {
            return Err(self.fail(EncodeReason::TooDeep));
        }
        self.depth += 1;

        for field in message.fields {
            if field.cardinality == Cardinality::Inline {
                // Go writes an embedded struct even when it is empty.
                if let Type::Msg(inlined) = field.ty {
                    let mut inner = Vec::new();
                    self.object(inlined, members, &mut inner)?;
                    put_bytes(out, field.number, &inner);
                }
                continue;
            }

            let Some(value) = members.get(field.json_name) else {
                continue;
            };
            if value.is_null() {
                continue;
            }
            self.path.push(Segment::Field(field.json_name));
            self.field(field, value, out)?;
            self.path.pop();
        }

        self.depth -= 1;
        Ok(())
    }

    fn field(&mut self, field: &Field, value: &Value, out: &mut Vec<u8>) -> Result<(), Failure> {
        match field.cardinality {
            Cardinality::Single | Cardinality::OmitEmpty | Cardinality::Inline => {
                self.value(field.number, field.ty, value, out)
            }
            Cardinality::Repeated => {
                let Value::Array(items) = value else {
                    return Err(self.wrong_type("array", value));
                };
                for (index, item) in items.iter().enumerate() {
                    self.path.push(Segment::Index(index));
                    self.value(field.number, field.ty, item, out)?;
                    self.path.pop();
                }
                Ok(())
            }
            Cardinality::Map => {
                let Value::Object(entries) = value else {
                    return Err(self.wrong_type("object", value));
                };
                let mut keys: Vec<&String> = entries.keys().collect();
                keys.sort();
                for key in keys {
                    let Some(entry_value) = entries.get(key) else {
                        continue;
                    };
                    self.path.push(Segment::Key(key.clone()));
                    let mut entry = Vec::new();
                    put_bytes(&mut entry, 1, key.as_bytes());
                    self.value(2, field.ty, entry_value, &mut entry)?;
                    self.path.pop();
                    put_bytes(out, field.number, &entry);
                }
                Ok(())
            }
        }
    }

    /// Writes one occurrence of field `number` holding `value`.
    fn value(
        &mut self,
        number: u32,
        ty: Type,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<(), Failure> {
        match ty {
            Type::Str => {
                let Value::String(text) = value else {
                    return Err(self.wrong_type("string", value));
                };
                put_bytes(out, number, text.as_bytes());
            }
            Type::Bool => {
                let Value::Bool(flag) = value else {
                    return Err(self.wrong_type("bool", value));
                };
                put_varint_field(out, number, u64::from(*flag));
            }
            Type::Int32 | Type::Int64 => {
                let integer = self.integer(ty, value)?;
                // Negative int32 values are sign-extended to ten bytes, as protobuf requires.
                put_varint_field(out, number, integer as u64);
            }
            Type::Double => {
                let Some(number_value) = value.as_f64() else {
                    return Err(self.wrong_type("number", value));
                };
                put_fixed64_field(out, number, number_value.to_bits());
            }
            Type::Bytes => {
                let Value::String(text) = value else {
                    return Err(self.wrong_type("base64 string", value));
                };
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|error| self.fail(EncodeReason::InvalidBase64(error.to_string())))?;
                put_bytes(out, number, &bytes);
            }
            // A null element of an array or map is the message's zero value, as Go reads it.
            Type::Msg(_) if value.is_null() => put_bytes(out, number, &[]),
            Type::Msg(message) => {
                let mut inner = Vec::new();
                self.message(message, value, &mut inner)?;
                put_bytes(out, number, &inner);
            }
        }
        Ok(())
    }

    fn integer(&self, ty: Type, value: &Value) -> Result<i64, Failure> {
        let Value::Number(number) = value else {
            return Err(self.wrong_type("integer", value));
        };
        let out_of_range = || {
            self.fail(EncodeReason::OutOfRange {
                value: number.to_string(),
                expected: type_name(ty),
            })
        };
        let integer = number.as_i64().ok_or_else(out_of_range)?;
        if ty == Type::Int32 && i32::try_from(integer).is_err() {
            return Err(out_of_range());
        }
        Ok(integer)
    }

    /// Writes the body of a message field (without its tag and length).
    fn message(
        &mut self,
        message: &'static Message,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<(), Failure> {
        match message.repr {
            Repr::Object => {
                let Value::Object(members) = value else {
                    return Err(self.wrong_type("object", value));
                };
                self.check_members(message, members, false)?;
                self.object(message, members, out)
            }
            Repr::Time | Repr::MicroTime => self.time(message.repr, value, out),
            Repr::Quantity => {
                let text = match value {
                    Value::String(text) => text.clone(),
                    // Go's Quantity also reads a bare JSON number.
                    Value::Number(number) => number.to_string(),
                    other => return Err(self.wrong_type("quantity string", other)),
                };
                put_bytes(out, 1, text.as_bytes());
                Ok(())
            }
            Repr::IntOrString => {
                // Go writes all three fields: type, intVal, strVal.
                match value {
                    Value::Number(_) => {
                        let integer = self.integer(Type::Int32, value)?;
                        put_varint_field(out, 1, 0);
                        put_varint_field(out, 2, integer as u64);
                        put_bytes(out, 3, b"");
                    }
                    Value::String(text) => {
                        put_varint_field(out, 1, 1);
                        put_varint_field(out, 2, 0);
                        put_bytes(out, 3, text.as_bytes());
                    }
                    other => return Err(self.wrong_type("integer or string", other)),
                }
                Ok(())
            }
            Repr::RawJson => {
                // A null element (of a repeated JSON field) is an empty message.
                if !value.is_null() {
                    let bytes = serde_json::to_vec(value)
                        .map_err(|_| self.wrong_type("JSON value", value))?;
                    put_bytes(out, 1, &bytes);
                }
                Ok(())
            }
            Repr::StringList => {
                let Value::Array(items) = value else {
                    return Err(self.wrong_type("array", value));
                };
                for (index, item) in items.iter().enumerate() {
                    self.path.push(Segment::Index(index));
                    self.value(1, Type::Str, item, out)?;
                    self.path.pop();
                }
                Ok(())
            }
            Repr::SchemaOrArray | Repr::SchemaOrStringArray | Repr::SchemaOrBool => {
                self.schema_union(message, value, out)
            }
        }
    }

    fn time(&mut self, repr: Repr, value: &Value, out: &mut Vec<u8>) -> Result<(), Failure> {
        let Value::String(text) = value else {
            return Err(self.wrong_type("RFC 3339 time string", value));
        };
        let (seconds, nanos) = parse_rfc3339(text)
            .ok_or_else(|| self.fail(EncodeReason::InvalidTime(text.clone())))?;

        // metav1.Time keeps whole seconds and MicroTime whole microseconds. Go writes both
        // fields.
        let nanos = match repr {
            Repr::MicroTime => nanos / 1000 * 1000,
            _ => 0,
        };
        put_varint_field(out, 1, seconds as u64);
        put_varint_field(out, 2, u64::from(nanos));
        Ok(())
    }

    /// Writes a JSONSchemaPropsOr* message: an object goes to the schema field, an array
    /// to the repeated field 2, a boolean to `allows`.
    fn schema_union(
        &mut self,
        message: &'static Message,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<(), Failure> {
        let (schema_number, schema_type) = match message.repr {
            Repr::SchemaOrBool => (2, field_type(message, 2)),
            _ => (1, field_type(message, 1)),
        };

        match (message.repr, value) {
            (_, Value::Object(_)) => {
                if message.repr == Repr::SchemaOrBool {
                    put_varint_field(out, 1, 1);
                }
                match schema_type {
                    Some(ty) => self.value(schema_number, ty, value, out),
                    None => Err(self.wrong_type("schema", value)),
                }
            }
            (Repr::SchemaOrBool, Value::Bool(flag)) => {
                put_varint_field(out, 1, u64::from(*flag));
                Ok(())
            }
            (Repr::SchemaOrArray | Repr::SchemaOrStringArray, Value::Array(items)) => {
                let Some(item_type) = field_type(message, 2) else {
                    return Err(self.wrong_type("schema", value));
                };
                for (index, item) in items.iter().enumerate() {
                    self.path.push(Segment::Index(index));
                    self.value(2, item_type, item, out)?;
                    self.path.pop();
                }
                Ok(())
            }
            (Repr::SchemaOrBool, other) => Err(self.wrong_type("object or bool", other)),
            (_, other) => Err(self.wrong_type("object or array", other)),
        }
    }
}

fn field_type(message: &Message, number: u32) -> Option<Type> {
    message.field(number).map(|field| field.ty)
}

/// Returns whether `name` is a JSON member of `message`, looking through inlined messages.
fn has_member(message: &Message, name: &str) -> bool {
    message
        .fields
        .iter()
        .any(|field| match (field.cardinality, field.ty) {
            (Cardinality::Inline, Type::Msg(inlined)) => has_member(inlined, name),
            _ => field.json_name == name,
        })
}
