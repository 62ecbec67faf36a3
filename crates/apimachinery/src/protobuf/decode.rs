//! Decoding: the `runtime.Unknown` envelope, then the object's message walked against the
//! schema table into a JSON value.
//!
//! Entry points: [`decode_body`] and [`decode_delete_options`], called from the module's
//! public functions.

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use super::path::{FieldPath, Segment};
use super::schema::{self, Cardinality, Field, Message, Repr, Type};
use super::time::{GO_ZERO_TIME_SECONDS, format_rfc3339};
use super::wire::{Reader, WireError, WireType};
use super::{DecodeReason, MAGIC, MAX_NESTING, ProtobufError, parse_api_version, with_type_meta};
use crate::meta::GroupVersionKind;

/// The fields of a `runtime.Unknown` envelope.
struct Envelope<'a> {
    api_version: String,
    kind: String,
    raw: Reader<'a>,
}

/// Decodes a whole body. `base` is the offset of `body` in the outermost body and `depth`
/// the nesting it sits at, both nonzero for an object embedded in a RawExtension.
pub(super) fn decode_body(
    body: &[u8],
    base: usize,
    depth: usize,
) -> Result<(GroupVersionKind, Value), ProtobufError> {
    let envelope = read_envelope(body, base)?;
    if envelope.kind.is_empty() {
        return Err(ProtobufError::MissingKind {
            api_version: envelope.api_version,
        });
    }

    let group_version = parse_api_version(&envelope.api_version)?;
    let gvk = group_version.with_kind(envelope.kind.clone());
    let message = schema::find_kind(&gvk).ok_or_else(|| ProtobufError::UnknownKind {
        api_version: envelope.api_version.clone(),
        kind: envelope.kind.clone(),
    })?;

    let members = decode_root(message, envelope.raw, &envelope.kind, depth)?;
    let object = with_type_meta(&envelope.api_version, &envelope.kind, members);
    Ok((gvk, object))
}

/// Decodes a DELETE body as DeleteOptions.
pub(super) fn decode_delete_options(body: &[u8]) -> Result<Value, ProtobufError> {
    let envelope = read_envelope(body, 0)?;
    if !envelope.kind.is_empty() && envelope.kind != "DeleteOptions" {
        return Err(ProtobufError::NotDeleteOptions(envelope.kind));
    }
    parse_api_version(&envelope.api_version)?;

    let members = decode_root(schema::delete_options(), envelope.raw, "DeleteOptions", 0)?;
    Ok(with_type_meta(
        &envelope.api_version,
        &envelope.kind,
        members,
    ))
}

fn read_envelope(body: &[u8], base: usize) -> Result<Envelope<'_>, ProtobufError> {
    let Some(unknown) = body.strip_prefix(MAGIC.as_slice()) else {
        return Err(ProtobufError::MissingMagic);
    };

    let mut reader = Reader::new(unknown, base + MAGIC.len());
    let mut envelope = Envelope {
        api_version: String::new(),
        kind: String::new(),
        raw: Reader::new(&[], base + body.len()),
    };
    let mut content_encoding = String::new();
    while !reader.is_empty() {
        let offset = reader.offset();
        let invalid = |source: DecodeReason| ProtobufError::InvalidEnvelope { offset, source };
        let (number, wire_type) = reader.tag().map_err(|error| invalid(error.into()))?;
        match (number, wire_type) {
            (1, WireType::LengthDelimited) => {
                let mut type_meta = reader
                    .length_delimited()
                    .map_err(|error| invalid(error.into()))?;
                read_type_meta(&mut type_meta, &mut envelope)?;
            }
            (2, WireType::LengthDelimited) => {
                envelope.raw = reader
                    .length_delimited()
                    .map_err(|error| invalid(error.into()))?;
            }
            (3, WireType::LengthDelimited) => {
                let mut value = reader
                    .length_delimited()
                    .map_err(|error| invalid(error.into()))?;
                content_encoding = lossy_string(value.rest());
            }
            // Field 4, contentType, describes `raw`, which is always protobuf here.
            // Upstream's protobuf serializer does not read it either.
            (4, WireType::LengthDelimited) => {
                reader
                    .length_delimited()
                    .map_err(|error| invalid(error.into()))?;
            }
            (1..=4, found) => {
                return Err(invalid(DecodeReason::WireTypeMismatch {
                    expected: "bytes",
                    found,
                }));
            }
            (_, other) => reader.skip(other).map_err(|error| invalid(error.into()))?,
        }
    }

    if !content_encoding.is_empty() {
        return Err(ProtobufError::UnsupportedContentEncoding(content_encoding));
    }
    Ok(envelope)
}

fn read_type_meta(
    reader: &mut Reader<'_>,
    envelope: &mut Envelope<'_>,
) -> Result<(), ProtobufError> {
    while !reader.is_empty() {
        let offset = reader.offset();
        let invalid = |source: DecodeReason| ProtobufError::InvalidEnvelope { offset, source };
        let (number, wire_type) = reader.tag().map_err(|error| invalid(error.into()))?;
        match (number, wire_type) {
            (1 | 2, WireType::LengthDelimited) => {
                let mut value = reader
                    .length_delimited()
                    .map_err(|error| invalid(error.into()))?;
                let text = lossy_string(value.rest());
                if number == 1 {
                    envelope.api_version = text;
                } else {
                    envelope.kind = text;
                }
            }
            (1 | 2, found) => {
                return Err(invalid(DecodeReason::WireTypeMismatch {
                    expected: "string",
                    found,
                }));
            }
            (_, other) => reader.skip(other).map_err(|error| invalid(error.into()))?,
        }
    }
    Ok(())
}

/// Decodes a root message into the members of its JSON object.
pub(super) fn decode_root(
    message: &'static Message,
    raw: Reader<'_>,
    kind: &str,
    depth: usize,
) -> Result<Map<String, Value>, ProtobufError> {
    let mut decoder = Decoder {
        path: FieldPath::default(),
        depth,
    };
    let mut members = Map::new();
    decoder
        .object_into(message, raw, &mut members)
        .map_err(|failure| ProtobufError::Decode {
            kind: kind.to_string(),
            path: failure.path.to_string(),
            offset: failure.offset,
            reason: failure.reason,
        })?;
    Ok(members)
}

/// A decoding error before the kind is attached.
struct Failure {
    path: FieldPath,
    offset: usize,
    reason: DecodeReason,
}

struct Decoder {
    path: FieldPath,
    depth: usize,
}

impl Decoder {
    fn fail(&self, offset: usize, reason: impl Into<DecodeReason>) -> Failure {
        Failure {
            path: self.path.clone(),
            offset,
            reason: reason.into(),
        }
    }

    /// Decodes the fields of an object message into `out`, merging with members already
    /// there as protobuf merges a repeated occurrence of a message field.
    // NOTE: a field absent on the wire stays absent, while Go writes the zero value of a
    // value field without `omitempty` (such as `"name": ""`). Go clients write every value
    // field, so the difference shows only for bodies from other encoders.
    fn object_into(
        &mut self,
        message: &'static Message,
        mut reader: Reader<'_>,
        out: &mut Map<String, Value>,
    ) -> Result<(), Failure> {
        if self.depth >= MAX_NESTING {
            return Err(self.fail(reader.offset(), DecodeReason::TooDeep));
        }
        self.depth += 1;

        while !reader.is_empty() {
            let offset = reader.offset();
            let (number, wire_type) = reader.tag().map_err(|error| self.fail(offset, error))?;
            let Some(field) = message.field(number) else {
                reader
                    .skip(wire_type)
                    .map_err(|error| self.fail(offset, error))?;
                continue;
            };

            if field.cardinality == Cardinality::Inline {
                let inner =
                    self.expect_length_delimited(&mut reader, field.ty, wire_type, offset)?;
                if let Type::Msg(inlined) = field.ty {
                    self.object_into(inlined, inner, out)?;
                }
                continue;
            }

            self.path.push(Segment::Field(field.json_name));
            self.field_into(field, wire_type, &mut reader, offset, out)?;
            self.path.pop();
        }

        self.depth -= 1;
        Ok(())
    }

    fn field_into(
        &mut self,
        field: &'static Field,
        wire_type: WireType,
        reader: &mut Reader<'_>,
        offset: usize,
        out: &mut Map<String, Value>,
    ) -> Result<(), Failure> {
        let name = field.json_name;
        match field.cardinality {
            Cardinality::Repeated => self.repeated_into(field, wire_type, reader, offset, out),
            Cardinality::Map => {
                let entry = self.expect_length_delimited(reader, field.ty, wire_type, offset)?;
                let (key, value) = self.map_entry(field.ty, entry)?;
                let mut members = take_object(out, name);
                members.insert(key, value);
                put_back(out, name, members);
                Ok(())
            }
            Cardinality::Single | Cardinality::OmitEmpty | Cardinality::Inline => {
                let value = match field.ty {
                    Type::Msg(message) if message.repr == Repr::Object => {
                        let inner =
                            self.expect_length_delimited(reader, field.ty, wire_type, offset)?;
                        let mut members = take_object(out, name);
                        self.object_into(message, inner, &mut members)?;
                        put_back(out, name, members);
                        return Ok(());
                    }
                    Type::Msg(message) => {
                        let inner =
                            self.expect_length_delimited(reader, field.ty, wire_type, offset)?;
                        self.special(message, inner)?
                    }
                    scalar => Some(self.scalar(scalar, wire_type, reader, offset)?),
                };

                let omit_zero = field.cardinality == Cardinality::OmitEmpty;
                match value {
                    Some(value) if !(omit_zero && is_zero(&value)) => {
                        out.insert(name.to_string(), value);
                    }
                    _ => {
                        out.shift_remove(name);
                    }
                }
                Ok(())
            }
        }
    }

    fn repeated_into(
        &mut self,
        field: &'static Field,
        wire_type: WireType,
        reader: &mut Reader<'_>,
        offset: usize,
        out: &mut Map<String, Value>,
    ) -> Result<(), Failure> {
        let name = field.json_name;
        if !matches!(out.get(name), Some(Value::Array(_))) {
            out.insert(name.to_string(), Value::Array(Vec::new()));
        }
        let Some(Value::Array(items)) = out.get_mut(name) else {
            return Ok(());
        };

        // Packed encoding: one length-delimited run of scalars.
        if field.ty.is_packable() && wire_type == WireType::LengthDelimited {
            let mut packed = reader
                .length_delimited()
                .map_err(|error| self.fail(offset, error))?;
            while !packed.is_empty() {
                let item_offset = packed.offset();
                self.path.push(Segment::Index(items.len()));
                let value = self.scalar(
                    field.ty,
                    packed_wire_type(field.ty),
                    &mut packed,
                    item_offset,
                )?;
                self.path.pop();
                items.push(value);
            }
            return Ok(());
        }

        self.path.push(Segment::Index(items.len()));
        let value = match field.ty {
            Type::Msg(message) => {
                let inner = self.expect_length_delimited(reader, field.ty, wire_type, offset)?;
                self.message_value(message, inner)?.unwrap_or(Value::Null)
            }
            scalar => self.scalar(scalar, wire_type, reader, offset)?,
        };
        self.path.pop();
        items.push(value);
        Ok(())
    }

    /// Decodes a map entry `{1: key, 2: value}`. A missing key or value is the zero value,
    /// as in Go.
    fn map_entry(&mut self, ty: Type, mut entry: Reader<'_>) -> Result<(String, Value), Failure> {
        let mut key = String::new();
        let mut value_field: Option<(WireType, Reader<'_>, usize)> = None;
        while !entry.is_empty() {
            let offset = entry.offset();
            let (number, wire_type) = entry.tag().map_err(|error| self.fail(offset, error))?;
            match number {
                1 => {
                    let WireType::LengthDelimited = wire_type else {
                        return Err(self.fail(
                            offset,
                            DecodeReason::WireTypeMismatch {
                                expected: "string",
                                found: wire_type,
                            },
                        ));
                    };
                    let mut bytes = entry
                        .length_delimited()
                        .map_err(|error| self.fail(offset, error))?;
                    key = lossy_string(bytes.rest());
                }
                2 => {
                    // Keep a reader positioned at the value and decode it once the key is
                    // known, so that errors can name the key.
                    let start = entry.clone();
                    entry
                        .skip(wire_type)
                        .map_err(|error| self.fail(offset, error))?;
                    value_field = Some((wire_type, start, offset));
                }
                _ => entry
                    .skip(wire_type)
                    .map_err(|error| self.fail(offset, error))?,
            }
        }

        self.path.push(Segment::Key(key.clone()));
        let value = match (ty, value_field) {
            (Type::Msg(message), Some((wire_type, mut reader, offset))) => {
                let inner = self.expect_length_delimited(&mut reader, ty, wire_type, offset)?;
                self.message_value(message, inner)?.unwrap_or(Value::Null)
            }
            (Type::Msg(message), None) => self
                .message_value(message, Reader::new(&[], entry.offset()))?
                .unwrap_or(Value::Null),
            (scalar, Some((wire_type, mut reader, offset))) => {
                self.scalar(scalar, wire_type, &mut reader, offset)?
            }
            (scalar, None) => zero_value(scalar),
        };
        self.path.pop();
        Ok((key, value))
    }

    /// Decodes a message that is not inlined into its JSON value, or `None` where JSON has
    /// no member (a zero time, an empty RawExtension).
    fn message_value(
        &mut self,
        message: &'static Message,
        reader: Reader<'_>,
    ) -> Result<Option<Value>, Failure> {
        if message.repr == Repr::Object {
            let mut members = Map::new();
            self.object_into(message, reader, &mut members)?;
            return Ok(Some(Value::Object(members)));
        }
        self.special(message, reader)
    }

    /// Decodes a message with its own JSON form.
    fn special(
        &mut self,
        message: &'static Message,
        reader: Reader<'_>,
    ) -> Result<Option<Value>, Failure> {
        match message.repr {
            Repr::Object => self.message_value(message, reader),
            Repr::Time | Repr::MicroTime => self.time(message.repr, reader),
            Repr::Quantity => {
                // NOTE: the string is passed through as written. Go parses it and writes the
                // canonical form, so "1000m" reaches Go's JSON as "1".
                let text = self.scan_string(reader, 1)?;
                Ok(Some(Value::from(text.unwrap_or_else(|| "0".to_string()))))
            }
            Repr::IntOrString => self.int_or_string(reader),
            Repr::RawJson => self.raw_json(reader),
            Repr::StringList => {
                let mut members = Map::new();
                self.object_into(message, reader, &mut members)?;
                let items = first_member(message, 1, &mut members);
                Ok(Some(items.unwrap_or(Value::Array(Vec::new()))))
            }
            Repr::SchemaOrArray | Repr::SchemaOrBool | Repr::SchemaOrStringArray => {
                let mut members = Map::new();
                self.object_into(message, reader, &mut members)?;
                Ok(schema_union(message, members))
            }
        }
    }

    fn time(&mut self, repr: Repr, mut reader: Reader<'_>) -> Result<Option<Value>, Failure> {
        // Go reads an empty message as the zero time, which its JSON writes as null.
        if reader.is_empty() {
            return Ok(None);
        }

        let start = reader.offset();
        let mut seconds: i64 = 0;
        let mut nanos: i32 = 0;
        while !reader.is_empty() {
            let offset = reader.offset();
            let (number, wire_type) = reader.tag().map_err(|error| self.fail(offset, error))?;
            match number {
                1 => seconds = self.scalar_i64(Type::Int64, wire_type, &mut reader, offset)?,
                2 => nanos = self.scalar_i64(Type::Int32, wire_type, &mut reader, offset)? as i32,
                _ => reader
                    .skip(wire_type)
                    .map_err(|error| self.fail(offset, error))?,
            }
        }

        if seconds == GO_ZERO_TIME_SECONDS && (repr == Repr::Time || nanos == 0) {
            return Ok(None);
        }
        // metav1.Time drops the nanoseconds, and MicroTime keeps whole microseconds.
        let micros = (repr == Repr::MicroTime).then(|| (nanos.clamp(0, 999_999_999) / 1000) as u32);
        let text = format_rfc3339(seconds, micros)
            .ok_or_else(|| self.fail(start, DecodeReason::TimeOutOfRange(seconds)))?;
        Ok(Some(Value::from(text)))
    }

    fn int_or_string(&mut self, mut reader: Reader<'_>) -> Result<Option<Value>, Failure> {
        let start = reader.offset();
        let mut kind: i64 = 0;
        let mut int_value: i64 = 0;
        let mut string_value = String::new();
        while !reader.is_empty() {
            let offset = reader.offset();
            let (number, wire_type) = reader.tag().map_err(|error| self.fail(offset, error))?;
            match number {
                1 => kind = self.scalar_i64(Type::Int64, wire_type, &mut reader, offset)?,
                2 => int_value = self.scalar_i64(Type::Int32, wire_type, &mut reader, offset)?,
                3 => {
                    if let Value::String(text) =
                        self.scalar(Type::Str, wire_type, &mut reader, offset)?
                    {
                        string_value = text;
                    }
                }
                _ => reader
                    .skip(wire_type)
                    .map_err(|error| self.fail(offset, error))?,
            }
        }

        match kind {
            0 => Ok(Some(Value::from(int_value))),
            1 => Ok(Some(Value::from(string_value))),
            other => Err(self.fail(start, DecodeReason::InvalidIntOrStringType(other))),
        }
    }

    fn raw_json(&mut self, mut reader: Reader<'_>) -> Result<Option<Value>, Failure> {
        let mut raw: Option<Reader<'_>> = None;
        while !reader.is_empty() {
            let offset = reader.offset();
            let (number, wire_type) = reader.tag().map_err(|error| self.fail(offset, error))?;
            if number == 1 {
                raw = Some(self.expect_length_delimited(
                    &mut reader,
                    Type::Bytes,
                    wire_type,
                    offset,
                )?);
            } else {
                reader
                    .skip(wire_type)
                    .map_err(|error| self.fail(offset, error))?;
            }
        }

        let Some(mut raw) = raw else {
            return Ok(None);
        };
        let start = raw.offset();
        let bytes = raw.rest();
        if bytes.is_empty() {
            return Ok(None);
        }

        // A RawExtension may hold an object in protobuf form, such as the object of a
        // protobuf watch event.
        if bytes.starts_with(MAGIC.as_slice()) {
            let (_, object) = decode_body(bytes, start, self.depth + 1).map_err(|error| {
                self.fail(start, DecodeReason::InvalidEmbeddedObject(Box::new(error)))
            })?;
            return Ok(Some(object));
        }

        // NOTE: a RawExtension holding CBOR (which Go marks with the self-describe tag
        // 0xd9d9f7) is reported as invalid JSON.
        let value: Value = serde_json::from_slice(bytes).map_err(|error| {
            self.fail(start, DecodeReason::InvalidEmbeddedJson(error.to_string()))
        })?;
        // Go writes a RawExtension holding `null` as null, which JSON here leaves out.
        Ok((!value.is_null()).then_some(value))
    }

    /// Reads the last occurrence of a string field from a message with no schema of its
    /// own members.
    fn scan_string(
        &mut self,
        mut reader: Reader<'_>,
        wanted: u32,
    ) -> Result<Option<String>, Failure> {
        let mut found = None;
        while !reader.is_empty() {
            let offset = reader.offset();
            let (number, wire_type) = reader.tag().map_err(|error| self.fail(offset, error))?;
            if number == wanted {
                if let Value::String(text) =
                    self.scalar(Type::Str, wire_type, &mut reader, offset)?
                {
                    found = Some(text);
                }
            } else {
                reader
                    .skip(wire_type)
                    .map_err(|error| self.fail(offset, error))?;
            }
        }
        Ok(found)
    }

    fn expect_length_delimited<'a>(
        &self,
        reader: &mut Reader<'a>,
        ty: Type,
        wire_type: WireType,
        offset: usize,
    ) -> Result<Reader<'a>, Failure> {
        if wire_type != WireType::LengthDelimited {
            return Err(self.fail(
                offset,
                DecodeReason::WireTypeMismatch {
                    expected: type_name(ty),
                    found: wire_type,
                },
            ));
        }
        reader
            .length_delimited()
            .map_err(|error| self.fail(offset, error))
    }

    fn scalar_i64(
        &self,
        ty: Type,
        wire_type: WireType,
        reader: &mut Reader<'_>,
        offset: usize,
    ) -> Result<i64, Failure> {
        match self.scalar(ty, wire_type, reader, offset)? {
            Value::Number(number) => Ok(number.as_i64().unwrap_or_default()),
            _ => Ok(0),
        }
    }

    /// Reads one scalar value of type `ty` sent with `wire_type`.
    fn scalar(
        &self,
        ty: Type,
        wire_type: WireType,
        reader: &mut Reader<'_>,
        offset: usize,
    ) -> Result<Value, Failure> {
        let mismatch = || {
            self.fail(
                offset,
                DecodeReason::WireTypeMismatch {
                    expected: type_name(ty),
                    found: wire_type,
                },
            )
        };
        let wire = |error: WireError| self.fail(offset, error);

        match (ty, wire_type) {
            (Type::Bool, WireType::Varint) => Ok(Value::Bool(reader.varint().map_err(wire)? != 0)),
            // int32 values are sign-extended to 64 bits on the wire and truncated on reading.
            (Type::Int32, WireType::Varint) => {
                Ok(Value::from(reader.varint().map_err(wire)? as i32))
            }
            (Type::Int64, WireType::Varint) => {
                Ok(Value::from(reader.varint().map_err(wire)? as i64))
            }
            (Type::Double, WireType::Fixed64) => {
                let number = f64::from_bits(reader.fixed64().map_err(wire)?);
                double_value(number)
                    .ok_or_else(|| self.fail(offset, DecodeReason::NonFiniteDouble(number)))
            }
            (Type::Str, WireType::LengthDelimited) => {
                let mut bytes = reader.length_delimited().map_err(wire)?;
                Ok(Value::from(lossy_string(bytes.rest())))
            }
            (Type::Bytes, WireType::LengthDelimited) => {
                let mut bytes = reader.length_delimited().map_err(wire)?;
                let encoded = base64::engine::general_purpose::STANDARD.encode(bytes.rest());
                Ok(Value::from(encoded))
            }
            _ => Err(mismatch()),
        }
    }
}

/// Converts bytes to text as Go's JSON encoder does: Go strings may contain any bytes,
/// and invalid UTF-8 becomes U+FFFD.
fn lossy_string(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Converts a double to JSON as Go writes it: integral values below 2^53 without a
/// fraction (`1`, not `1.0`). Returns `None` for NaN and infinities.
fn double_value(number: f64) -> Option<Value> {
    const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;
    if number.fract() == 0.0
        && number.abs() < EXACT_INTEGER_LIMIT
        && !(number == 0.0 && number.is_sign_negative())
    {
        return Some(Value::from(number as i64));
    }
    Number::from_f64(number).map(Value::Number)
}

fn packed_wire_type(ty: Type) -> WireType {
    match ty {
        Type::Double => WireType::Fixed64,
        _ => WireType::Varint,
    }
}

/// Takes the object stored under `name` out of `out`, leaving the member in place (so that
/// it keeps its position) until [`put_back`] stores the merged object.
fn take_object(out: &mut Map<String, Value>, name: &str) -> Map<String, Value> {
    match out.get_mut(name).map(Value::take) {
        Some(Value::Object(members)) => members,
        _ => Map::new(),
    }
}

fn put_back(out: &mut Map<String, Value>, name: &str, members: Map<String, Value>) {
    out.insert(name.to_string(), Value::Object(members));
}

/// Removes and returns the member decoded from field `number` of a special message.
fn first_member(message: &Message, number: u32, members: &mut Map<String, Value>) -> Option<Value> {
    let field = message.field(number)?;
    members.remove(field.json_name)
}

/// Converts the decoded fields of a JSONSchemaPropsOr* message into its JSON form, as the
/// Go types' MarshalJSON methods do.
fn schema_union(message: &Message, mut members: Map<String, Value>) -> Option<Value> {
    let first = first_member(message, 1, &mut members);
    let second = first_member(message, 2, &mut members);
    let non_empty_array =
        |value: &Option<Value>| matches!(value, Some(Value::Array(items)) if !items.is_empty());

    match message.repr {
        // {1: schema, 2: repeated schema}: the array when it has items, else the schema.
        Repr::SchemaOrArray | Repr::SchemaOrStringArray => {
            if non_empty_array(&second) {
                second
            } else {
                first
            }
        }
        // {1: allows, 2: schema}: the schema when present, else the boolean.
        Repr::SchemaOrBool => match second {
            Some(schema) => Some(schema),
            None => Some(first.unwrap_or(Value::Bool(false))),
        },
        _ => None,
    }
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(flag) => !flag,
        Value::Number(number) => number.as_f64() == Some(0.0),
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(members) => members.is_empty(),
    }
}

fn zero_value(ty: Type) -> Value {
    match ty {
        Type::Str | Type::Bytes => Value::from(""),
        Type::Bool => Value::Bool(false),
        Type::Int32 | Type::Int64 => Value::from(0),
        Type::Double => Value::from(0.0),
        Type::Msg(_) => Value::Null,
    }
}

/// Names a field type in errors.
pub(super) fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::Str => "string",
        Type::Bool => "bool",
        Type::Int32 => "int32",
        Type::Int64 => "int64",
        Type::Double => "double",
        Type::Bytes => "bytes",
        Type::Msg(_) => "message",
    }
}
