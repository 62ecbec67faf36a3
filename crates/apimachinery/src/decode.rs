//! Decoding of JSON and YAML request bodies into `serde_json::Value`, with the field
//! validation of `fieldValidation=Ignore|Warn|Strict`: duplicate fields are found while
//! parsing, unknown fields by walking the object against its k8s-openapi type.
//!
//! Entry point: [`decode_object`], which turns a create or update body into an object and
//! reports failures with the 400 BadRequest texts of a v1.33 apiserver:
//!
//! * malformed JSON: `the object provided is unrecognized (must be of type Pod): couldn't
//!   get version/kind. Json parse error: unexpected end of JSON input ({"apiVersion":"v1" ...)`
//! * malformed YAML: the same prefix with `yaml: line 3: mapping values are not allowed in
//!   this context` (clients that convert YAML themselves print it after
//!   `error converting YAML to JSON: `, see [`YamlError::client_message`])
//! * strict validation: `Pod in version "v1" cannot be handled as a Pod: strict decoding
//!   error: unknown field "spec.containers[0].foo", duplicate field "metadata.name"`
//!
//! Lower-level entry points: [`decode_json`], [`decode_yaml`], [`decode_yaml_documents`]
//! and [`unknown_fields`].
//!
//! JSON syntax errors carry Go's `encoding/json` messages. Upstream's 400 response shows
//! no position, so the byte offset is kept only in [`JsonSyntaxError::offset`].

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;

use base64::Engine as _;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::granit_parser::{
    ErrorKind, Event, Options, Parser, ScalarStyle, ScanError, Span, Tag,
};

use crate::errors::{
    FieldError, FieldPath, StatusError, go_format_float, go_format_float32, go_quote,
    push_go_escaped,
};
use crate::meta::{GroupVersion, GroupVersionKind, json_type_name};
use crate::scheme;

/// Maximum nesting of arrays and objects in a JSON body.
// NOTE: Go's decoder allows 10000 levels. This limit is lower so that parsing, the typed
// walk and dropping the value stay well inside a 2 MiB thread stack. Kubernetes objects
// nest a few dozen levels.
pub const MAX_DEPTH: usize = 512;

/// Maximum number of nodes that YAML aliases may expand to, which stops "billion laughs"
/// documents.
pub const MAX_ALIAS_NODES: usize = 1_000_000;

/// Maximum number of strict decoding errors reported for one object, as upstream caps it.
const MAX_STRICT_ERRORS: usize = 100;

/// Media type of a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json`.
    Json,
    /// `application/yaml`.
    Yaml,
}

impl MediaType {
    /// Guesses the media type from the body: JSON when the first non-whitespace character
    /// is `{`, as upstream's `IsJSONBuffer` decides, and YAML otherwise.
    pub fn detect(body: &[u8]) -> Self {
        if is_json_buffer(body) {
            Self::Json
        } else {
            Self::Yaml
        }
    }
}

/// Returns whether the body looks like a JSON object: its first non-whitespace character
/// is `{`.
pub fn is_json_buffer(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&body[..body.len().min(1024)]);
    text.trim_start().starts_with('{')
}

/// The `fieldValidation` query parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldValidation {
    /// Drop unknown and duplicate fields silently.
    Ignore,
    /// Drop them and return one warning per field (the default).
    #[default]
    Warn,
    /// Reject the request with 400 BadRequest.
    Strict,
}

impl FieldValidation {
    /// Parses the query parameter. An empty value means [`FieldValidation::Warn`].
    ///
    /// # Errors
    /// A `fieldValidation: Unsupported value` field error for anything else, which upstream
    /// reports inside an Invalid error on `CreateOptions.meta.k8s.io` (or the
    /// update/patch options).
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        match value {
            "" | "Warn" => Ok(Self::Warn),
            "Ignore" => Ok(Self::Ignore),
            "Strict" => Ok(Self::Strict),
            other => Err(FieldError::not_supported(
                &FieldPath::new("fieldValidation"),
                other,
                &["", "Ignore", "Strict", "Warn"],
            )),
        }
    }
}

/// Malformed JSON. Display is Go's `encoding/json` syntax error text, such as
/// `invalid character '}' looking for beginning of object key string`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JsonSyntaxError {
    /// Go's message.
    pub message: String,
    /// Bytes read before the error, as Go's `SyntaxError.Offset`.
    pub offset: usize,
}

impl JsonSyntaxError {
    fn end_of_input(offset: usize) -> Self {
        Self {
            message: "unexpected end of JSON input".to_string(),
            offset,
        }
    }

    fn invalid_character(byte: u8, context: &str, offset: usize) -> Self {
        Self {
            message: format!("invalid character {} {context}", quote_byte(byte)),
            offset: offset + 1,
        }
    }
}

/// Quotes one byte as Go's scanner does in its messages: `'x'`, `'\''`, `'"'`, `'\n'`.
/// Go converts the byte to the code point of the same value, so 0xff prints as `'ÿ'`.
fn quote_byte(byte: u8) -> String {
    match byte {
        b'\'' => "'\\''".to_string(),
        b'"' => "'\"'".to_string(),
        _ => {
            let mut quoted = String::from("'");
            push_go_escaped(&mut quoted, char::from(byte), '"');
            quoted.push('\'');
            quoted
        }
    }
}

/// A YAML body that cannot be converted to JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    /// Malformed YAML, such as `yaml: line 3: mapping values are not allowed in this context`.
    #[error("{0}")]
    Syntax(String),
    /// Valid YAML that JSON cannot represent, such as `json: unsupported value: NaN`.
    #[error("{0}")]
    Conversion(String),
    /// Several non-empty documents where one object is required.
    // NOTE: upstream's YAML decoder silently uses the first document and ignores the rest.
    #[error("yaml: expected a single document, found {0}")]
    MultipleDocuments(usize),
}

impl YamlError {
    /// Returns the message as client-side YAML conversion (sigs.k8s.io/yaml, used by
    /// kubectl) prints it: `error converting YAML to JSON: yaml: line 3: ...`.
    pub fn client_message(&self) -> String {
        format!("error converting YAML to JSON: {self}")
    }
}

/// One violation found by strict decoding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StrictDecodingError {
    /// A field the type does not have: `unknown field "spec.foo"`.
    UnknownField(String),
    /// A JSON field given twice in one object: `duplicate field "metadata.name"`.
    DuplicateField(String),
    /// Duplicate YAML keys, one `line N: key "k" already set in map` per key.
    YamlDuplicateKeys(Vec<String>),
}

impl StrictDecodingError {
    /// Returns the field path, or `None` for YAML duplicate keys.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::UnknownField(path) | Self::DuplicateField(path) => Some(path),
            Self::YamlDuplicateKeys(_) => None,
        }
    }

    /// Returns the warnings upstream sends for this violation under `fieldValidation=Warn`:
    /// the message itself, or one line per YAML duplicate key.
    pub fn warnings(&self) -> Vec<String> {
        match self {
            Self::YamlDuplicateKeys(lines) => lines.clone(),
            other => vec![other.to_string()],
        }
    }
}

impl fmt::Display for StrictDecodingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownField(path) => write!(f, "unknown field {}", go_quote(path)),
            Self::DuplicateField(path) => write!(f, "duplicate field {}", go_quote(path)),
            Self::YamlDuplicateKeys(lines) => {
                write!(f, "yaml: unmarshal errors:\n  {}", lines.join("\n  "))
            }
        }
    }
}

/// A body rejected by [`decode_object`]. Display is the message of upstream's 400
/// BadRequest. [`DecodeError::to_status`] wraps it in the Status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The body could not be read as an object (syntax errors, a non-object body, a
    /// malformed apiVersion). `summary` is the start of the body, or its hex when it does
    /// not start with `{`.
    #[error(
        "the object provided is unrecognized (must be of type {expected_kind}): {cause} ({summary})"
    )]
    Unrecognized {
        /// Kind the endpoint expects.
        expected_kind: String,
        /// What failed.
        cause: String,
        /// The first 30 bytes of the body.
        summary: String,
    },
    /// The object was read but could not become the expected kind: wrong field types,
    /// strict validation failures, an unregistered or different kind.
    #[error("{kind} in version {} cannot be handled as a {expected_kind}: {cause}", go_quote(.version))]
    CannotHandle {
        /// Kind of the body.
        kind: String,
        /// Version of the body (without group).
        version: String,
        /// Kind the endpoint expects.
        expected_kind: String,
        /// What failed.
        cause: String,
    },
    /// The body's apiVersion names another version of the same kind.
    #[error(
        "the API version in the data ({data}) does not match the expected API version ({expected})"
    )]
    VersionMismatch {
        /// Group/version of the body.
        data: String,
        /// Group/version of the endpoint.
        expected: String,
    },
}

impl DecodeError {
    /// Returns the 400 BadRequest the apiserver sends for this error.
    pub fn to_status(&self) -> StatusError {
        StatusError::bad_request(self.to_string())
    }
}

impl From<DecodeError> for StatusError {
    fn from(error: DecodeError) -> Self {
        error.to_status()
    }
}

/// A decoded request body.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedObject {
    /// The object, with `apiVersion` and `kind` filled in when the body left them out.
    pub object: Value,
    /// Group, version and kind of the object.
    pub gvk: GroupVersionKind,
    /// Warnings for the `Warning` response header under `fieldValidation=Warn`.
    pub warnings: Vec<String>,
}

/// Parses a JSON document without strict checks.
///
/// # Errors
/// [`JsonSyntaxError`] with Go's message.
pub fn decode_json(body: &[u8]) -> Result<Value, JsonSyntaxError> {
    JsonParser::new(body, false)
        .parse()
        .map(|parsed| parsed.value)
}

/// Parses a single YAML document into JSON form, resolving scalars as upstream's YAML 1.1
/// decoder does (`yes` and `on` are booleans, `0777` is octal, `1_000` is 1000). An empty
/// document gives `null`.
///
/// # Errors
/// [`YamlError`] for malformed YAML, values JSON cannot hold, or several documents.
pub fn decode_yaml(body: &[u8]) -> Result<Value, YamlError> {
    parse_yaml(body, false).map(|parsed| parsed.value)
}

/// Parses every document of a YAML stream, skipping empty ones, as `kubectl apply -f`
/// splits a manifest file.
///
/// # Errors
/// [`YamlError`] for the first malformed document.
pub fn decode_yaml_documents(body: &[u8]) -> Result<Vec<Value>, YamlError> {
    let text = yaml_text(body)?;
    let mut builder = YamlBuilder::new(text, false);
    builder.documents()
}

// ---------------------------------------------------------------------------------------
// JSON

struct ParsedJson {
    value: Value,
    /// Byte offset of the first occurrence of each key path (only when tracking).
    key_offsets: HashMap<String, usize>,
    /// Duplicate keys with the offset of the repeated occurrence (only when tracking).
    duplicates: Vec<(usize, String)>,
}

enum Frame {
    Array {
        items: Vec<Value>,
        path: String,
    },
    Object {
        map: Map<String, Value>,
        key: String,
        path: String,
    },
}

/// A JSON parser that follows Go's scanner states, so syntax errors carry Go's messages,
/// and that records key paths and duplicate keys in upstream's strict-path notation.
/// It keeps its own stack instead of recursing, so deep input cannot exhaust the thread
/// stack.
struct JsonParser<'a> {
    input: &'a [u8],
    position: usize,
    track: bool,
    key_offsets: HashMap<String, usize>,
    duplicates: Vec<(usize, String)>,
}

/// Joins a strict-decoding path and a key the way upstream does: `spec.containers`.
fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

fn join_index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

impl<'a> JsonParser<'a> {
    fn new(input: &'a [u8], track: bool) -> Self {
        Self {
            input,
            position: 0,
            track,
            key_offsets: HashMap::new(),
            duplicates: Vec::new(),
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.input.get(self.position) {
            self.position += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.position).copied()
    }

    fn end_of_input(&self) -> JsonSyntaxError {
        JsonSyntaxError::end_of_input(self.input.len())
    }

    fn invalid(&self, context: &str) -> JsonSyntaxError {
        match self.peek() {
            Some(byte) => JsonSyntaxError::invalid_character(byte, context, self.position),
            None => self.end_of_input(),
        }
    }

    fn parse(mut self) -> Result<ParsedJson, JsonSyntaxError> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut path = String::new();

        loop {
            let Some(mut done) = self.parse_value_start(&mut stack, &mut path)? else {
                continue;
            };

            // Attach the finished value to its container, closing containers as they end.
            loop {
                match stack.last_mut() {
                    None => {
                        self.skip_whitespace();
                        if self.peek().is_some() {
                            return Err(self.invalid("after top-level value"));
                        }
                        return Ok(ParsedJson {
                            value: done,
                            key_offsets: self.key_offsets,
                            duplicates: self.duplicates,
                        });
                    }
                    Some(Frame::Array {
                        items,
                        path: array_path,
                    }) => {
                        items.push(done);
                        self.skip_whitespace();
                        match self.peek() {
                            Some(b',') => {
                                self.position += 1;
                                path = if self.track {
                                    join_index(array_path, items.len())
                                } else {
                                    String::new()
                                };
                                break;
                            }
                            Some(b']') => {
                                self.position += 1;
                                let Some(Frame::Array { items, .. }) = stack.pop() else {
                                    unreachable!()
                                };
                                done = Value::Array(items);
                            }
                            _ => return Err(self.invalid("after array element")),
                        }
                    }
                    Some(Frame::Object {
                        map,
                        key,
                        path: object_path,
                    }) => {
                        map.insert(std::mem::take(key), done);
                        self.skip_whitespace();
                        match self.peek() {
                            Some(b',') => {
                                self.position += 1;
                                self.skip_whitespace();
                                let (next_key, key_path) = self.parse_key(map, object_path)?;
                                *key = next_key;
                                path = key_path;
                                break;
                            }
                            Some(b'}') => {
                                self.position += 1;
                                let Some(Frame::Object { map, .. }) = stack.pop() else {
                                    unreachable!()
                                };
                                done = Value::Object(map);
                            }
                            _ => return Err(self.invalid("after object key:value pair")),
                        }
                    }
                }
            }
        }
    }

    /// Reads the start of a value and returns scalars and empty containers complete. For a
    /// non-empty container it pushes a frame and returns `None`, leaving the path of the
    /// first element in `path` for the caller to read next.
    fn parse_value_start(
        &mut self,
        stack: &mut Vec<Frame>,
        path: &mut String,
    ) -> Result<Option<Value>, JsonSyntaxError> {
        self.skip_whitespace();
        let Some(byte) = self.peek() else {
            return Err(self.end_of_input());
        };
        match byte {
            b'{' | b'[' if stack.len() >= MAX_DEPTH => Err(self.invalid("exceeded max depth")),
            b'{' => {
                self.position += 1;
                self.skip_whitespace();
                if self.peek() == Some(b'}') {
                    self.position += 1;
                    return Ok(Some(Value::Object(Map::new())));
                }
                let object_path = std::mem::take(path);
                let (key, key_path) = self.parse_key(&Map::new(), &object_path)?;
                stack.push(Frame::Object {
                    map: Map::new(),
                    key,
                    path: object_path,
                });
                *path = key_path;
                Ok(None)
            }
            b'[' => {
                self.position += 1;
                self.skip_whitespace();
                if self.peek() == Some(b']') {
                    self.position += 1;
                    return Ok(Some(Value::Array(Vec::new())));
                }
                let array_path = std::mem::take(path);
                *path = if self.track {
                    join_index(&array_path, 0)
                } else {
                    String::new()
                };
                stack.push(Frame::Array {
                    items: Vec::new(),
                    path: array_path,
                });
                Ok(None)
            }
            b'"' => Ok(Some(Value::String(self.parse_string()?))),
            b'-' | b'0'..=b'9' => Ok(Some(self.parse_number()?)),
            b't' => self.parse_literal("true", Value::Bool(true)).map(Some),
            b'f' => self.parse_literal("false", Value::Bool(false)).map(Some),
            b'n' => self.parse_literal("null", Value::Null).map(Some),
            _ => Err(self.invalid("looking for beginning of value")),
        }
    }

    /// Reads `"key" :` of an object whose entries so far are `map`, recording the key's
    /// first offset or its duplication when tracking.
    fn parse_key(
        &mut self,
        map: &Map<String, Value>,
        object_path: &str,
    ) -> Result<(String, String), JsonSyntaxError> {
        if self.peek() != Some(b'"') {
            return Err(self.invalid("looking for beginning of object key string"));
        }
        let offset = self.position;
        let key = self.parse_string()?;
        self.skip_whitespace();
        if self.peek() != Some(b':') {
            return Err(self.invalid("after object key"));
        }
        self.position += 1;

        let key_path = if self.track {
            join_key(object_path, &key)
        } else {
            String::new()
        };
        if self.track {
            if map.contains_key(&key) {
                self.duplicates.push((offset, key_path.clone()));
            } else {
                self.key_offsets.entry(key_path.clone()).or_insert(offset);
            }
        }
        Ok((key, key_path))
    }

    fn parse_literal(
        &mut self,
        word: &'static str,
        value: Value,
    ) -> Result<Value, JsonSyntaxError> {
        for expected in word.bytes() {
            match self.peek() {
                None => return Err(self.end_of_input()),
                Some(byte) if byte == expected => self.position += 1,
                Some(_) => {
                    let context = format!("in literal {word} (expecting {})", quote_byte(expected));
                    return Err(self.invalid(&context));
                }
            }
        }
        Ok(value)
    }

    fn parse_string(&mut self) -> Result<String, JsonSyntaxError> {
        self.position += 1;
        let mut buffer: Vec<u8> = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.end_of_input());
            };
            match byte {
                b'"' => {
                    self.position += 1;
                    return Ok(match String::from_utf8(buffer) {
                        Ok(text) => text,
                        Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
                    });
                }
                b'\\' => {
                    self.position += 1;
                    let character = self.parse_escape()?;
                    let mut encoded = [0_u8; 4];
                    buffer.extend_from_slice(character.encode_utf8(&mut encoded).as_bytes());
                }
                0x00..=0x1f => return Err(self.invalid("in string literal")),
                _ => {
                    buffer.push(byte);
                    self.position += 1;
                }
            }
        }
    }

    /// Reads the escape after a backslash. Surrogate pairs combine. A lone surrogate
    /// becomes U+FFFD, as Go's decoder does.
    fn parse_escape(&mut self) -> Result<char, JsonSyntaxError> {
        let Some(byte) = self.peek() else {
            return Err(self.end_of_input());
        };
        let simple = match byte {
            b'"' => Some('"'),
            b'\\' => Some('\\'),
            b'/' => Some('/'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            b'u' => None,
            _ => return Err(self.invalid("in string escape code")),
        };
        self.position += 1;
        if let Some(character) = simple {
            return Ok(character);
        }

        let unit = self.parse_hex4()?;
        if !(0xd800..0xe000).contains(&unit) {
            return Ok(char::from_u32(unit).unwrap_or('\u{fffd}'));
        }
        let is_high = unit < 0xdc00;
        let followed_by_escape = self.input.get(self.position) == Some(&b'\\')
            && self.input.get(self.position + 1) == Some(&b'u');
        if is_high && followed_by_escape {
            let saved = self.position;
            self.position += 2;
            let low = self.parse_hex4()?;
            if (0xdc00..0xe000).contains(&low) {
                let combined = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
                return Ok(char::from_u32(combined).unwrap_or('\u{fffd}'));
            }
            self.position = saved;
        }
        Ok('\u{fffd}')
    }

    fn parse_hex4(&mut self) -> Result<u32, JsonSyntaxError> {
        let mut unit = 0_u32;
        for _ in 0..4 {
            let Some(byte) = self.peek() else {
                return Err(self.end_of_input());
            };
            let digit = char::from(byte)
                .to_digit(16)
                .ok_or_else(|| self.invalid("in \\u hexadecimal character escape"))?;
            unit = unit * 16 + digit;
            self.position += 1;
        }
        Ok(unit)
    }

    fn parse_digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.position += 1;
        }
    }

    fn expect_digit(&mut self, context: &str) -> Result<(), JsonSyntaxError> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.parse_digits();
                Ok(())
            }
            Some(_) => Err(self.invalid(context)),
            None => Err(self.end_of_input()),
        }
    }

    fn parse_number(&mut self) -> Result<Value, JsonSyntaxError> {
        let start = self.position;
        let mut integer = true;
        if self.peek() == Some(b'-') {
            self.position += 1;
        }
        match self.peek() {
            Some(b'0') => self.position += 1,
            Some(b'1'..=b'9') => self.parse_digits(),
            Some(_) => return Err(self.invalid("in numeric literal")),
            None => return Err(self.end_of_input()),
        }
        if self.peek() == Some(b'.') {
            integer = false;
            self.position += 1;
            self.expect_digit("after decimal point in numeric literal")?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.position += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.position += 1;
            }
            self.expect_digit("in exponent of numeric literal")?;
        }

        let text = std::str::from_utf8(&self.input[start..self.position]).unwrap_or("0");
        if integer {
            if let Ok(number) = text.parse::<i64>() {
                return Ok(Value::from(number));
            }
            if let Ok(number) = text.parse::<u64>() {
                return Ok(Value::from(number));
            }
        }
        let number = text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .ok_or_else(|| JsonSyntaxError {
                message: format!(
                    "json: cannot unmarshal number {text} into Go value of type float64"
                ),
                offset: start,
            })?;
        Ok(Value::Number(number))
    }
}

// ---------------------------------------------------------------------------------------
// YAML

struct ParsedYaml {
    value: Value,
    /// `line N: key "k" already set in map` for each duplicate key (only when tracking).
    duplicate_lines: Vec<String>,
}

/// Reads the body as UTF-8 text, the only YAML encoding accepted here (not UTF-16).
fn yaml_text(body: &[u8]) -> Result<&str, YamlError> {
    std::str::from_utf8(body)
        .map_err(|_| YamlError::Syntax("yaml: invalid leading UTF-8 octet".to_string()))
}

fn parse_yaml(body: &[u8], track: bool) -> Result<ParsedYaml, YamlError> {
    let text = yaml_text(body)?;
    let mut builder = YamlBuilder::new(text, track);
    let mut documents = builder.documents()?;
    let value = match documents.len() {
        0 => Value::Null,
        1 => documents.pop().unwrap_or(Value::Null),
        count => return Err(YamlError::MultipleDocuments(count)),
    };
    Ok(ParsedYaml {
        value,
        duplicate_lines: builder.duplicate_lines,
    })
}

/// A resolved YAML scalar before it becomes JSON.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
}

impl Scalar {
    fn short_tag(&self) -> &'static str {
        match self {
            Self::Null => "!!null",
            Self::Bool(_) => "!!bool",
            Self::Int(_) | Self::Uint(_) => "!!int",
            Self::Float(_) => "!!float",
            Self::Str(_) => "!!str",
        }
    }

    /// Converts to JSON as upstream's YAML-to-JSON step does. Whole floats become integers
    /// because Go writes them without a fraction (`3.0` becomes `3`).
    fn into_value(self) -> Result<Value, YamlError> {
        Ok(match self {
            Self::Null => Value::Null,
            Self::Bool(flag) => Value::Bool(flag),
            Self::Int(number) => Value::from(number),
            Self::Uint(number) => Value::from(number),
            Self::Str(text) => Value::String(text),
            Self::Float(number) if !number.is_finite() => {
                return Err(YamlError::Conversion(format!(
                    "json: unsupported value: {}",
                    go_format_float(number)
                )));
            }
            Self::Float(number) if number.fract() == 0.0 && number.abs() < 1e18 => {
                Value::from(number as i64)
            }
            Self::Float(number) => Number::from_f64(number).map_or(Value::Null, Value::Number),
        })
    }

    /// Converts a mapping key to a JSON key as sigs.k8s.io/yaml does: numbers and booleans
    /// print as text, floats with 32-bit precision.
    fn into_key(self, value: &Value) -> Result<String, YamlError> {
        Ok(match self {
            Self::Str(text) => text,
            Self::Int(number) => number.to_string(),
            Self::Uint(number) => number.to_string(),
            Self::Bool(flag) => flag.to_string(),
            Self::Float(number) => match go_format_float32(number as f32).as_str() {
                "+Inf" => ".inf".to_string(),
                "-Inf" => "-.inf".to_string(),
                "NaN" => ".nan".to_string(),
                other => other.to_string(),
            },
            Self::Null => {
                return Err(YamlError::Conversion(format!(
                    "unsupported map key of type: <nil>, key: <nil>, value: {}",
                    go_syntax(value)
                )));
            }
        })
    }

    /// Renders the key as Go's `%#v` does in duplicate-key messages.
    fn go_syntax(&self) -> String {
        match self {
            Self::Null => "<nil>".to_string(),
            Self::Bool(flag) => flag.to_string(),
            Self::Int(number) => number.to_string(),
            Self::Uint(number) => number.to_string(),
            Self::Float(number) => go_format_float(*number),
            Self::Str(text) => go_quote(text),
        }
    }

    fn identity(&self) -> String {
        match self {
            Self::Str(text) => format!("s:{text}"),
            other => format!("{}:{}", other.short_tag(), other.go_syntax()),
        }
    }

    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(Self::Null),
            Value::Bool(flag) => Some(Self::Bool(*flag)),
            Value::Number(number) => Some(match (number.as_i64(), number.as_u64()) {
                (Some(integer), _) => Self::Int(integer),
                (None, Some(unsigned)) => Self::Uint(unsigned),
                _ => Self::Float(number.as_f64().unwrap_or(f64::NAN)),
            }),
            Value::String(text) => Some(Self::Str(text.clone())),
            Value::Array(_) | Value::Object(_) => None,
        }
    }
}

/// Renders a value roughly as Go's `%+#v` of the decoded YAML, for conversion errors.
fn go_syntax(value: &Value) -> String {
    match value {
        Value::Array(_) => "[]interface {}{...}".to_string(),
        Value::Object(_) => "map[interface {}]interface {}{...}".to_string(),
        scalar => Scalar::from_value(scalar).map_or_else(String::new, |scalar| scalar.go_syntax()),
    }
}

/// Resolves a plain scalar with YAML 1.1 rules as go-yaml v2 does.
fn resolve_plain(text: &str) -> Scalar {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Scalar::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Scalar::Bool(false);
        }
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        _ => {}
    }

    match text.as_bytes()[0] {
        b'.' => {
            if let Ok(number) = text.parse::<f64>() {
                return Scalar::Float(number);
            }
        }
        b'+' | b'-' | b'0'..=b'9' => {
            let plain = text.replace('_', "");
            if let Some(number) = go_parse_int(&plain) {
                return Scalar::Int(number);
            }
            if let Some(number) = go_parse_uint(&plain) {
                return Scalar::Uint(number);
            }
            if is_yaml_style_float(&plain)
                && let Ok(number) = plain.parse::<f64>()
            {
                return Scalar::Float(number);
            }
        }
        _ => {}
    }
    Scalar::Str(text.to_string())
}

/// Splits Go's base-0 integer syntax into radix and digits: `0x1f`, `0o17`, `0b101`,
/// `017` (octal), `17`.
fn split_radix(unsigned: &str) -> (u32, &str) {
    let lower = unsigned.get(..2).map(str::to_ascii_lowercase);
    match lower.as_deref() {
        Some("0x") => (16, &unsigned[2..]),
        Some("0o") => (8, &unsigned[2..]),
        Some("0b") => (2, &unsigned[2..]),
        _ if unsigned.len() > 1 && unsigned.starts_with('0') => (8, &unsigned[1..]),
        _ => (10, unsigned),
    }
}

fn digits_valid(digits: &str, radix: u32) -> bool {
    !digits.is_empty() && digits.chars().all(|character| character.is_digit(radix))
}

/// Go's `strconv.ParseInt(text, 0, 64)`.
fn go_parse_int(text: &str) -> Option<i64> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = split_radix(unsigned);
    if !digits_valid(digits, radix) {
        return None;
    }
    let signed = if negative {
        format!("-{digits}")
    } else {
        digits.to_string()
    };
    i64::from_str_radix(&signed, radix).ok()
}

/// Go's `strconv.ParseUint(text, 0, 64)`. No sign is allowed.
fn go_parse_uint(text: &str) -> Option<u64> {
    let (radix, digits) = split_radix(text);
    if !digits_valid(digits, radix) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Matches go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut position = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let count_digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count()
    };

    if bytes.get(position) == Some(&b'.') {
        let fraction = count_digits(position + 1);
        if fraction == 0 {
            return false;
        }
        position += 1 + fraction;
    } else {
        let whole = count_digits(position);
        if whole == 0 {
            return false;
        }
        position += whole;
        if bytes.get(position) == Some(&b'.') {
            position += 1 + count_digits(position + 1);
        }
    }
    if let Some(b'e' | b'E') = bytes.get(position) {
        position += 1;
        if let Some(b'+' | b'-') = bytes.get(position) {
            position += 1;
        }
        let exponent = count_digits(position);
        if exponent == 0 {
            return false;
        }
        position += exponent;
    }
    position == bytes.len()
}

/// Resolves a scalar event: quoted and block scalars are strings unless tagged, core tags
/// (`!!int`, `!!str`, ...) force a type, other tags are ignored.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Scalar, YamlError> {
    let full_tag = tag.map(|tag| format!("{}{}", tag.handle(), tag.suffix()));
    if full_tag.as_deref() == Some("tag:yaml.org,2002:binary") {
        let compact: String = text
            .chars()
            .filter(|character| !matches!(character, '\n' | '\r'))
            .collect();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| {
                YamlError::Syntax("yaml: !!binary value contains invalid base64 data".to_string())
            })?;
        return Ok(Scalar::Str(String::from_utf8_lossy(&decoded).into_owned()));
    }

    let core = tag.and_then(Tag::core_suffix);
    if tag.is_some() && core.is_none() {
        return Ok(Scalar::Str(text.to_string()));
    }
    if core.is_none() && style != ScalarStyle::Plain {
        return Ok(Scalar::Str(text.to_string()));
    }
    if core == Some("str") {
        return Ok(Scalar::Str(text.to_string()));
    }

    let resolved = resolve_plain(text);
    let mismatch = |wanted: &str| {
        YamlError::Syntax(format!(
            "yaml: cannot decode {} `{text}` as a !!{wanted}",
            resolved.short_tag()
        ))
    };
    match core {
        None => Ok(resolved),
        Some("int") if matches!(resolved, Scalar::Int(_) | Scalar::Uint(_)) => Ok(resolved),
        Some("float") => match resolved {
            Scalar::Float(_) => Ok(resolved),
            Scalar::Int(number) => Ok(Scalar::Float(number as f64)),
            Scalar::Uint(number) => Ok(Scalar::Float(number as f64)),
            _ => Err(mismatch("float")),
        },
        Some("bool") if matches!(resolved, Scalar::Bool(_)) => Ok(resolved),
        Some("null") if matches!(resolved, Scalar::Null) => Ok(resolved),
        Some(wanted) => Err(mismatch(wanted)),
    }
}

/// Converts a parser error to go-yaml's wording, `yaml: line N: <problem>`. libyaml
/// reports scanner errors at the 1-based line and parser errors one line earlier. Go-yaml
/// leaves the line out when it is 0.
// NOTE: the problem text and position come from a different YAML parser. They match go-yaml
// for the common errors listed here, and other errors keep this parser's own wording.
fn yaml_syntax_error(error: &ScanError) -> YamlError {
    let (problem, parser_error) = match error.kind() {
        ErrorKind::MappingValueNotAllowed => (
            "mapping values are not allowed in this context".to_string(),
            false,
        ),
        ErrorKind::ExpectedBlockMappingKey => ("did not find expected key".to_string(), true),
        ErrorKind::ExpectedFlowMappingSeparator => {
            ("did not find expected ',' or '}'".to_string(), true)
        }
        ErrorKind::ExpectedFlowSequenceSeparator => {
            ("did not find expected ',' or ']'".to_string(), true)
        }
        ErrorKind::ExpectedNodeContent => ("did not find expected node content".to_string(), true),
        ErrorKind::ExpectedBlockSequenceEntry => {
            ("did not find expected '-' indicator".to_string(), true)
        }
        ErrorKind::UnclosedQuotedScalar => ("found unexpected end of stream".to_string(), false),
        ErrorKind::UnclosedFlowCollection { open: '[' } => {
            ("did not find expected ',' or ']'".to_string(), false)
        }
        ErrorKind::UnclosedFlowCollection { .. } => {
            ("did not find expected ',' or '}'".to_string(), false)
        }
        ErrorKind::UnexpectedCharacter { .. }
        | ErrorKind::TabInIndentation
        | ErrorKind::TabNotAllowed
        | ErrorKind::TabInBlockIndentation => (
            "found character that cannot start any token".to_string(),
            false,
        ),
        _ => (error.info(), false),
    };
    let line = error.marker().line();
    let line = if parser_error {
        line.saturating_sub(1)
    } else {
        line
    };
    if line == 0 {
        YamlError::Syntax(format!("yaml: {problem}"))
    } else {
        YamlError::Syntax(format!("yaml: line {line}: {problem}"))
    }
}

fn count_nodes(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

/// Builds JSON values from parser events. Recursion depth is bounded by the parser's
/// nesting limits (255 block and 255 flow levels).
struct YamlBuilder<'a> {
    parser: Parser<'a, serde_saphyr::granit_parser::StrInput<'a>>,
    anchors: HashMap<usize, Value>,
    track: bool,
    duplicate_lines: Vec<String>,
    alias_nodes: usize,
}

impl<'a> YamlBuilder<'a> {
    fn new(text: &'a str, track: bool) -> Self {
        let mut options = Options::default();
        options.set_emit_comments(false);
        options.emit_unresolved_aliases = true;
        Self {
            parser: Parser::new_from_str_with_options(text, options),
            anchors: HashMap::new(),
            track,
            duplicate_lines: Vec::new(),
            alias_nodes: 0,
        }
    }

    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.parser.next_event() {
            None => Err(YamlError::Syntax(
                "yaml: unexpected end of stream".to_string(),
            )),
            Some(Err(error)) => Err(yaml_syntax_error(&error)),
            Some(Ok(pair)) => Ok(pair),
        }
    }

    /// Reads every document, dropping empty ones.
    fn documents(&mut self) -> Result<Vec<Value>, YamlError> {
        let mut documents = Vec::new();
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd => {}
                Event::StreamEnd => return Ok(documents),
                Event::DocumentStart(..) => {
                    self.anchors.clear();
                    let (event, span) = self.next()?;
                    if matches!(event, Event::DocumentEnd) {
                        continue;
                    }
                    let value = self.node(event, span)?;
                    if !value.is_null() {
                        documents.push(value);
                    }
                }
                other => return Err(unexpected_event(&other, span)),
            }
        }
    }

    fn remember(&mut self, anchor: usize, value: &Value) {
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
    }

    fn node(&mut self, event: Event<'a>, span: Span) -> Result<Value, YamlError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve_scalar(&text, style, tag.as_deref())?.into_value()?;
                self.remember(anchor, &value);
                Ok(value)
            }
            Event::SequenceStart(_, anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, span)?);
                }
                let value = Value::Array(items);
                self.remember(anchor, &value);
                Ok(value)
            }
            Event::MappingStart(_, anchor, _) => {
                let value = Value::Object(self.mapping()?);
                self.remember(anchor, &value);
                Ok(value)
            }
            Event::Alias(anchor) => self.alias(anchor),
            Event::UnresolvedAlias(name) => Err(YamlError::Syntax(format!(
                "yaml: unknown anchor '{name}' referenced"
            ))),
            other => Err(unexpected_event(&other, span)),
        }
    }

    fn alias(&mut self, anchor: usize) -> Result<Value, YamlError> {
        let value = self
            .anchors
            .get(&anchor)
            .cloned()
            .ok_or_else(|| YamlError::Syntax("yaml: unknown anchor referenced".to_string()))?;
        self.alias_nodes += count_nodes(&value);
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(YamlError::Syntax(
                "yaml: document contains excessive aliasing".to_string(),
            ));
        }
        Ok(value)
    }

    /// Reads a mapping key. A scalar key keeps its resolved type for duplicate detection.
    fn key(&mut self, event: Event<'a>, span: Span) -> Result<(Scalar, bool), YamlError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let is_merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
                let scalar = resolve_scalar(&text, style, tag.as_deref())?;
                if anchor != 0 {
                    let value = scalar.clone().into_value()?;
                    self.remember(anchor, &value);
                }
                Ok((scalar, is_merge))
            }
            other => {
                let value = self.node(other, span)?;
                match Scalar::from_value(&value) {
                    Some(scalar) => Ok((scalar, false)),
                    None => Err(YamlError::Syntax(format!(
                        "yaml: invalid map key: {}",
                        go_syntax(&value)
                    ))),
                }
            }
        }
    }

    fn mapping(&mut self) -> Result<Map<String, Value>, YamlError> {
        let mut map = Map::new();
        let mut seen: HashSet<String> = HashSet::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                return Ok(map);
            }
            let (key, is_merge) = self.key(event, span)?;
            let (value_event, value_span) = self.next()?;
            let value_line = value_span.start.line();
            let value = self.node(value_event, value_span)?;

            if is_merge {
                self.merge(&mut map, &mut seen, value, value_line)?;
                continue;
            }
            if self.track && !seen.insert(key.identity()) {
                self.duplicate_lines.push(format!(
                    "line {value_line}: key {} already set in map",
                    key.go_syntax()
                ));
            }
            let name = key.into_key(&value)?;
            map.insert(name, value);
        }
    }

    /// Applies a `<<` merge key: the entries of a mapping, or of each mapping in a
    /// sequence with earlier mappings taking precedence.
    fn merge(
        &mut self,
        map: &mut Map<String, Value>,
        seen: &mut HashSet<String>,
        value: Value,
        line: usize,
    ) -> Result<(), YamlError> {
        let sources = match value {
            Value::Object(source) => vec![source],
            Value::Array(items) => {
                let mut sources = Vec::with_capacity(items.len());
                for item in items.into_iter().rev() {
                    let Value::Object(source) = item else {
                        return Err(merge_error());
                    };
                    sources.push(source);
                }
                sources
            }
            _ => return Err(merge_error()),
        };
        for source in sources {
            for (key, entry) in source {
                let scalar = Scalar::Str(key.clone());
                if self.track && !seen.insert(scalar.identity()) {
                    self.duplicate_lines.push(format!(
                        "line {line}: key {} already set in map",
                        scalar.go_syntax()
                    ));
                }
                map.insert(key, entry);
            }
        }
        Ok(())
    }
}

fn merge_error() -> YamlError {
    YamlError::Syntax("yaml: map merge requires map or sequence of maps as the value".to_string())
}

fn unexpected_event(event: &Event<'_>, span: Span) -> YamlError {
    YamlError::Syntax(format!(
        "yaml: line {}: unexpected {event:?}",
        span.start.line()
    ))
}

// ---------------------------------------------------------------------------------------
// Typed walk

/// A field whose JSON does not fit the k8s-openapi type, such as a string where a list
/// belongs. Display is `<path>: <serde message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTypeError {
    /// Strict-decoding path of the field, empty for the whole object.
    pub path: String,
    /// serde's description, such as `invalid type: string "x", expected a sequence`.
    pub message: String,
    located: bool,
}

impl FieldTypeError {
    fn at(mut self, path: &str) -> Self {
        if !self.located {
            self.path = path.to_string();
            self.located = true;
        }
        self
    }
}

impl fmt::Display for FieldTypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for FieldTypeError {}

impl de::Error for FieldTypeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self {
            path: String::new(),
            message: message.to_string(),
            located: false,
        }
    }
}

/// Time fields that k8s-openapi requires although Go accepts them missing. The walk
/// supplies a placeholder so such objects reach validation instead of failing to decode.
const REQUIRED_TIME_FIELDS: [&str; 3] = [
    "lastTransitionTime",
    "lastObservedTime",
    "expirationTimestamp",
];

static PLACEHOLDER_TIME: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| Value::String("1970-01-01T00:00:00Z".to_string()));

/// A serde deserializer over a `Value` that records unknown struct fields and treats
/// `null` as Go's decoder does: a field set to null keeps its zero value.
struct Walker<'a> {
    value: &'a Value,
    path: String,
    unknown: &'a RefCell<Vec<String>>,
    root: bool,
}

impl<'a> Walker<'a> {
    fn seq(&self, items: &'a [Value]) -> SeqWalker<'a> {
        SeqWalker {
            items: items.iter().enumerate(),
            path: self.path.clone(),
            unknown: self.unknown,
        }
    }

    fn plain_map(&self, map: &'a Map<String, Value>) -> MapWalker<'a> {
        let entries: Vec<(&'a str, &'a Value)> = map
            .iter()
            .map(|(key, value)| (key.as_str(), value))
            .collect();
        MapWalker {
            entries: entries.into_iter(),
            pending: None,
            path: self.path.clone(),
            unknown: self.unknown,
        }
    }

    fn empty_map(&self) -> MapWalker<'a> {
        MapWalker {
            entries: Vec::new().into_iter(),
            pending: None,
            path: self.path.clone(),
            unknown: self.unknown,
        }
    }

    /// Entries of a struct: unknown keys are recorded and dropped, null values dropped,
    /// required time fields supplied when absent.
    fn struct_map(
        &self,
        map: &'a Map<String, Value>,
        fields: &'static [&'static str],
    ) -> MapWalker<'a> {
        let mut entries: Vec<(&'a str, &'a Value)> = Vec::with_capacity(map.len());
        for (key, value) in map {
            if self.root && (key == "apiVersion" || key == "kind") {
                continue;
            }
            if !fields.contains(&key.as_str()) {
                self.unknown.borrow_mut().push(join_key(&self.path, key));
                continue;
            }
            if !value.is_null() {
                entries.push((key.as_str(), value));
            }
        }
        for field in REQUIRED_TIME_FIELDS {
            let present = map.get(field).is_some_and(|value| !value.is_null());
            if fields.contains(&field) && !present {
                entries.push((field, &*PLACEHOLDER_TIME));
            }
        }
        MapWalker {
            entries: entries.into_iter(),
            pending: None,
            path: self.path.clone(),
            unknown: self.unknown,
        }
    }
}

macro_rules! null_or_any {
    ($($method:ident => $null:expr;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldTypeError> {
                if self.value.is_null() {
                    let path = self.path.clone();
                    #[allow(clippy::redundant_closure_call)]
                    return ($null)(visitor).map_err(|error: FieldTypeError| error.at(&path));
                }
                self.deserialize_any(visitor)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Walker<'de> {
    type Error = FieldTypeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldTypeError> {
        let result = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(flag) => visitor.visit_bool(*flag),
            Value::Number(number) => match (number.as_u64(), number.as_i64()) {
                (Some(unsigned), _) => visitor.visit_u64(unsigned),
                (None, Some(signed)) => visitor.visit_i64(signed),
                _ => visitor.visit_f64(number.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(text) => visitor.visit_borrowed_str(text),
            Value::Array(items) => visitor.visit_seq(self.seq(items)),
            Value::Object(map) => visitor.visit_map(self.plain_map(map)),
        };
        result.map_err(|error| error.at(&self.path))
    }

    null_or_any! {
        deserialize_bool => |visitor: V| visitor.visit_bool(false);
        deserialize_i8 => |visitor: V| visitor.visit_u64(0);
        deserialize_i16 => |visitor: V| visitor.visit_u64(0);
        deserialize_i32 => |visitor: V| visitor.visit_u64(0);
        deserialize_i64 => |visitor: V| visitor.visit_u64(0);
        deserialize_u8 => |visitor: V| visitor.visit_u64(0);
        deserialize_u16 => |visitor: V| visitor.visit_u64(0);
        deserialize_u32 => |visitor: V| visitor.visit_u64(0);
        deserialize_u64 => |visitor: V| visitor.visit_u64(0);
        deserialize_f32 => |visitor: V| visitor.visit_f64(0.0);
        deserialize_f64 => |visitor: V| visitor.visit_f64(0.0);
        deserialize_char => |visitor: V| visitor.visit_borrowed_str("");
        deserialize_str => |visitor: V| visitor.visit_borrowed_str("");
        deserialize_string => |visitor: V| visitor.visit_borrowed_str("");
        deserialize_identifier => |visitor: V| visitor.visit_borrowed_str("");
        deserialize_bytes => |visitor: V| visitor.visit_borrowed_bytes(&[]);
        deserialize_byte_buf => |visitor: V| visitor.visit_borrowed_bytes(&[]);
        deserialize_unit => |visitor: V| visitor.visit_unit();
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldTypeError> {
        let path = self.path.clone();
        let result = if self.value.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        };
        result.map_err(|error| error.at(&path))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FieldTypeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FieldTypeError> {
        let path = self.path.clone();
        visitor
            .visit_newtype_struct(self)
            .map_err(|error| error.at(&path))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldTypeError> {
        let result = match self.value {
            Value::Null => visitor.visit_seq(self.seq(&[])),
            Value::Array(items) => visitor.visit_seq(self.seq(items)),
            _ => return self.deserialize_any(visitor),
        };
        result.map_err(|error| error.at(&self.path))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, FieldTypeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, FieldTypeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldTypeError> {
        let result = match self.value {
            Value::Null => visitor.visit_map(self.empty_map()),
            Value::Object(map) => visitor.visit_map(self.plain_map(map)),
            _ => return self.deserialize_any(visitor),
        };
        result.map_err(|error| error.at(&self.path))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldTypeError> {
        let result = match self.value {
            Value::Null => visitor.visit_map(self.empty_map()),
            Value::Object(map) => visitor.visit_map(self.struct_map(map, fields)),
            _ => return self.deserialize_any(visitor),
        };
        result.map_err(|error| error.at(&self.path))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldTypeError> {
        let result = match self.value {
            Value::String(text) => visitor.visit_enum(
                IntoDeserializer::<FieldTypeError>::into_deserializer(text.as_str()),
            ),
            other => de::Deserializer::deserialize_enum(other, name, variants, visitor)
                .map_err(<FieldTypeError as de::Error>::custom),
        };
        result.map_err(|error| error.at(&self.path))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, FieldTypeError> {
        visitor.visit_unit()
    }
}

struct SeqWalker<'a> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Value>>,
    path: String,
    unknown: &'a RefCell<Vec<String>>,
}

impl<'de> de::SeqAccess<'de> for SeqWalker<'de> {
    type Error = FieldTypeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, FieldTypeError> {
        let Some((index, value)) = self.items.next() else {
            return Ok(None);
        };
        let walker = Walker {
            value,
            path: join_index(&self.path, index),
            unknown: self.unknown,
            root: false,
        };
        seed.deserialize(walker).map(Some)
    }
}

struct MapWalker<'a> {
    entries: std::vec::IntoIter<(&'a str, &'a Value)>,
    pending: Option<(&'a Value, String)>,
    path: String,
    unknown: &'a RefCell<Vec<String>>,
}

impl<'de> de::MapAccess<'de> for MapWalker<'de> {
    type Error = FieldTypeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, FieldTypeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some((value, join_key(&self.path, key)));
        seed.deserialize(de::value::BorrowedStrDeserializer::<FieldTypeError>::new(
            key,
        ))
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, FieldTypeError> {
        let (value, path) = self.pending.take().ok_or_else(|| {
            <FieldTypeError as de::Error>::custom("map value requested before its key")
        })?;
        seed.deserialize(Walker {
            value,
            path,
            unknown: self.unknown,
            root: false,
        })
    }
}

type TypedWalk = fn(&Value) -> Result<Vec<String>, FieldTypeError>;

fn walk<T: DeserializeOwned>(object: &Value) -> Result<Vec<String>, FieldTypeError> {
    let unknown = RefCell::new(Vec::new());
    let walker = Walker {
        value: object,
        path: String::new(),
        unknown: &unknown,
        root: true,
    };
    T::deserialize(walker)?;
    Ok(unknown.into_inner())
}

macro_rules! typed_walks {
    ($($kind:ty),* $(,)?) => {
        /// Returns the walk for a built-in kind (including subresource kinds such as Scale).
        fn typed_walk(gvk: &GroupVersionKind) -> Option<TypedWalk> {
            $(
                if gvk.kind == <$kind as k8s_openapi::Resource>::KIND
                    && gvk.version == <$kind as k8s_openapi::Resource>::VERSION
                    && gvk.group == <$kind as k8s_openapi::Resource>::GROUP
                {
                    return Some(walk::<$kind>);
                }
            )*
            None
        }
    };
}

typed_walks! {
    k8s_openapi::api::core::v1::Binding,
    k8s_openapi::api::core::v1::ComponentStatus,
    k8s_openapi::api::core::v1::ConfigMap,
    k8s_openapi::api::core::v1::Endpoints,
    k8s_openapi::api::core::v1::Event,
    k8s_openapi::api::core::v1::LimitRange,
    k8s_openapi::api::core::v1::Namespace,
    k8s_openapi::api::core::v1::Node,
    k8s_openapi::api::core::v1::PersistentVolumeClaim,
    k8s_openapi::api::core::v1::PersistentVolume,
    k8s_openapi::api::core::v1::Pod,
    k8s_openapi::api::core::v1::PodTemplate,
    k8s_openapi::api::core::v1::ReplicationController,
    k8s_openapi::api::core::v1::ResourceQuota,
    k8s_openapi::api::core::v1::Secret,
    k8s_openapi::api::core::v1::ServiceAccount,
    k8s_openapi::api::core::v1::Service,
    k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService,
    k8s_openapi::api::apps::v1::ControllerRevision,
    k8s_openapi::api::apps::v1::DaemonSet,
    k8s_openapi::api::apps::v1::Deployment,
    k8s_openapi::api::apps::v1::ReplicaSet,
    k8s_openapi::api::apps::v1::StatefulSet,
    k8s_openapi::api::events::v1::Event,
    k8s_openapi::api::authentication::v1::SelfSubjectReview,
    k8s_openapi::api::authentication::v1::TokenReview,
    k8s_openapi::api::authentication::v1::TokenRequest,
    k8s_openapi::api::authorization::v1::LocalSubjectAccessReview,
    k8s_openapi::api::authorization::v1::SelfSubjectAccessReview,
    k8s_openapi::api::authorization::v1::SelfSubjectRulesReview,
    k8s_openapi::api::authorization::v1::SubjectAccessReview,
    k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler,
    k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler,
    k8s_openapi::api::autoscaling::v1::Scale,
    k8s_openapi::api::batch::v1::CronJob,
    k8s_openapi::api::batch::v1::Job,
    k8s_openapi::api::certificates::v1::CertificateSigningRequest,
    k8s_openapi::api::networking::v1::IngressClass,
    k8s_openapi::api::networking::v1::Ingress,
    k8s_openapi::api::networking::v1::IPAddress,
    k8s_openapi::api::networking::v1::NetworkPolicy,
    k8s_openapi::api::networking::v1::ServiceCIDR,
    k8s_openapi::api::policy::v1::PodDisruptionBudget,
    k8s_openapi::api::policy::v1::Eviction,
    k8s_openapi::api::rbac::v1::ClusterRoleBinding,
    k8s_openapi::api::rbac::v1::ClusterRole,
    k8s_openapi::api::rbac::v1::RoleBinding,
    k8s_openapi::api::rbac::v1::Role,
    k8s_openapi::api::storage::v1::CSIDriver,
    k8s_openapi::api::storage::v1::CSINode,
    k8s_openapi::api::storage::v1::CSIStorageCapacity,
    k8s_openapi::api::storage::v1::StorageClass,
    k8s_openapi::api::storage::v1::VolumeAttachment,
    k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration,
    k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy,
    k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
    k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration,
    k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    k8s_openapi::api::scheduling::v1::PriorityClass,
    k8s_openapi::api::coordination::v1::Lease,
    k8s_openapi::api::node::v1::RuntimeClass,
    k8s_openapi::api::discovery::v1::EndpointSlice,
    k8s_openapi::api::flowcontrol::v1::FlowSchema,
    k8s_openapi::api::flowcontrol::v1::PriorityLevelConfiguration,
}

/// Checks an object against the k8s-openapi type of its kind and returns the paths of
/// fields the type does not have, in document order (such as `spec.containers[0].foo`).
/// Returns `None` for kinds without a built-in type, such as custom resources.
///
/// # Errors
/// [`FieldTypeError`] for the first field whose JSON type does not fit.
// NOTE: custom resources are not checked. Their unknown fields need the CRD's schema.
pub fn unknown_fields(
    gvk: &GroupVersionKind,
    object: &Value,
) -> Option<Result<Vec<String>, FieldTypeError>> {
    typed_walk(gvk).map(|walk| walk(object))
}

// ---------------------------------------------------------------------------------------
// Request bodies

/// Describes the start of a body as upstream's error messages do: the first `max` bytes
/// as text when the body starts with `{`, as hex otherwise, followed by ` ...` when cut.
fn summarize_data(data: &[u8], max: usize) -> String {
    if data.is_empty() {
        return "<empty>".to_string();
    }
    let head = &data[..data.len().min(max)];
    let suffix = if data.len() > max { " ..." } else { "" };
    if data[0] == b'{' {
        format!("{}{suffix}", String::from_utf8_lossy(head))
    } else {
        let hex: String = head.iter().map(|byte| format!("{byte:02x}")).collect();
        format!("{hex}{suffix}")
    }
}

/// Go package name of the internal type of a group, as it appears in conversion errors.
fn internal_package(group: &str) -> &str {
    match group {
        "" | "events.k8s.io" => "core",
        other => other.split('.').next().unwrap_or(other),
    }
}

/// Reads `apiVersion` and `kind` as upstream's `Interpret` does, with its error texts.
fn interpret_type_meta(object: &Value) -> Result<GroupVersionKind, String> {
    const PREFIX: &str = "couldn't get version/kind; json parse error: json: cannot unmarshal";
    let Value::Object(map) = object else {
        return Err(format!(
            "{PREFIX} {} into Go value of type struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }}",
            json_type_name(object)
        ));
    };
    let read = |field: &str| match map.get(field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(format!(
            "{PREFIX} {} into Go struct field .{field} of type string",
            json_type_name(other)
        )),
    };
    let api_version = read("apiVersion")?;
    let kind = read("kind")?;
    let group_version = GroupVersion::parse(&api_version).map_err(|error| error.to_string())?;
    Ok(group_version.with_kind(kind))
}

/// Returns whether `path` is `field` or lies inside it (`field.x`, `field[0]`).
fn is_within(path: &str, field: &str) -> bool {
    path.strip_prefix(field)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// Orders strict errors by where their key occurs in the body, drops repeats and keeps at
/// most 100, as upstream's decoder reports them.
fn collect_strict_errors(
    mut located: Vec<(usize, StrictDecodingError)>,
) -> Vec<StrictDecodingError> {
    located.sort_by_key(|(offset, _)| *offset);
    let mut seen = HashSet::new();
    located
        .into_iter()
        .map(|(_, error)| error)
        .filter(|error| seen.insert(error.clone()))
        .take(MAX_STRICT_ERRORS)
        .collect()
}

/// Decodes a create or update body for an endpoint that serves `expected`, following the
/// steps of upstream's decoder and create handler:
///
/// 1. Parse JSON or YAML, noting duplicate fields.
/// 2. Read `apiVersion` and `kind`. An absent kind defaults to the expected one, and an
///    absent apiVersion to the expected group and version.
/// 3. Check the object against its k8s-openapi type, noting unknown fields.
/// 4. Reject a different kind or version. Apply `validation` to the strict errors.
///
/// # Errors
/// [`DecodeError`] whose Display is the message of upstream's 400 BadRequest.
pub fn decode_object(
    body: &[u8],
    media_type: MediaType,
    expected: &GroupVersionKind,
    validation: FieldValidation,
) -> Result<DecodedObject, DecodeError> {
    let track = validation != FieldValidation::Ignore;
    let unrecognized = |cause: String| DecodeError::Unrecognized {
        expected_kind: expected.kind.clone(),
        cause,
        summary: summarize_data(body, 30),
    };

    // 1. Syntax, with duplicate fields.
    let mut located_errors: Vec<(usize, StrictDecodingError)> = Vec::new();
    let mut key_offsets = HashMap::new();
    let mut object = match media_type {
        MediaType::Json => {
            let parsed = JsonParser::new(body, track).parse().map_err(|error| {
                unrecognized(format!(
                    "couldn't get version/kind; json parse error: {error}"
                ))
            })?;
            key_offsets = parsed.key_offsets;
            located_errors.extend(
                parsed
                    .duplicates
                    .into_iter()
                    .map(|(offset, path)| (offset, StrictDecodingError::DuplicateField(path))),
            );
            parsed.value
        }
        MediaType::Yaml => {
            let parsed =
                parse_yaml(body, track).map_err(|error| unrecognized(error.to_string()))?;
            if !parsed.duplicate_lines.is_empty() {
                located_errors.push((
                    0,
                    StrictDecodingError::YamlDuplicateKeys(parsed.duplicate_lines),
                ));
            }
            parsed.value
        }
    };
    if object.is_null() {
        object = Value::Object(Map::new());
    }

    // 2. apiVersion and kind, with the endpoint's defaults.
    let mut gvk = interpret_type_meta(&object).map_err(unrecognized)?;
    let kind_given = !gvk.kind.is_empty();
    let version_given = !(gvk.group.is_empty() && gvk.version.is_empty());
    if !kind_given {
        gvk.kind = expected.kind.clone();
    }
    if !version_given {
        gvk.group = expected.group.clone();
        gvk.version = expected.version.clone();
    }
    let cannot_handle = |cause: String| DecodeError::CannotHandle {
        kind: gvk.kind.clone(),
        version: gvk.version.clone(),
        expected_kind: expected.kind.clone(),
        cause,
    };

    // 3. The typed walk: wrong field types are fatal, unknown fields are strict errors.
    let walk = typed_walk(&gvk);
    if walk.is_none() && scheme::find_by_gvk(&gvk.group, &gvk.version, &gvk.kind).is_none() {
        return Err(cannot_handle(format!(
            "no kind {} is registered for version {} in scheme \"pkg/api/legacyscheme/scheme.go:30\"",
            go_quote(&gvk.kind),
            go_quote(&gvk.group_version().to_string())
        )));
    }
    if let Some(walk) = walk {
        let unknown = walk(&object).map_err(|error| cannot_handle(error.to_string()))?;

        // Upstream skips unknown fields without reading into them, so it reports neither a
        // repeated unknown key nor duplicates inside one.
        located_errors.retain(|(_, error)| match error {
            StrictDecodingError::DuplicateField(path) => {
                !unknown.iter().any(|field| is_within(path, field))
            }
            _ => true,
        });
        located_errors.extend(unknown.into_iter().map(|path| {
            let offset = key_offsets.get(&path).copied().unwrap_or(usize::MAX);
            (offset, StrictDecodingError::UnknownField(path))
        }));
    }

    // 4. Kind and version, then field validation.
    if gvk.kind != expected.kind {
        // NOTE: the conversion message is read from upstream's converter code, not
        // observed from a running apiserver.
        return Err(cannot_handle(format!(
            "converting ({}.{}) to ({}.{}): unknown conversion",
            gvk.version,
            gvk.kind,
            internal_package(&expected.group),
            expected.kind
        )));
    }
    let strict_errors = if track {
        collect_strict_errors(located_errors)
    } else {
        Vec::new()
    };
    let mut warnings = Vec::new();
    if !strict_errors.is_empty() {
        if validation == FieldValidation::Strict {
            let joined: Vec<String> = strict_errors.iter().map(ToString::to_string).collect();
            return Err(cannot_handle(format!(
                "strict decoding error: {}",
                joined.join(", ")
            )));
        }
        warnings = strict_errors
            .iter()
            .flat_map(StrictDecodingError::warnings)
            .collect();
    }
    if gvk.group_version() != expected.group_version() {
        return Err(DecodeError::VersionMismatch {
            data: gvk.group_version().to_string(),
            expected: expected.group_version().to_string(),
        });
    }

    if !kind_given || !version_given {
        let type_meta = crate::meta::TypeMeta {
            api_version: gvk.api_version(),
            kind: gvk.kind.clone(),
        };
        type_meta
            .write_to(&mut object)
            .map_err(|error| unrecognized(error.to_string()))?;
    }
    Ok(DecodedObject {
        object,
        gvk,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod_gvk() -> GroupVersionKind {
        GroupVersionKind::new("", "v1", "Pod")
    }

    fn decode_pod(
        body: &str,
        media_type: MediaType,
        validation: FieldValidation,
    ) -> Result<DecodedObject, String> {
        decode_object(body.as_bytes(), media_type, &pod_gvk(), validation)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn json_parses_values_in_order() {
        let value = decode_json(br#" {"b": [1, -2, 3.5, true, false, null], "a": {"x": "y"}, "c": 18446744073709551615} "#)
            .expect("valid json");
        assert_eq!(
            value,
            json!({"b": [1, -2, 3.5, true, false, null], "a": {"x": "y"}, "c": 18446744073709551615_u64})
        );
        let keys: Vec<&String> = value.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["b", "a", "c"]);
        assert_eq!(decode_json(b"[]"), Ok(json!([])));
        assert_eq!(decode_json(b"{}"), Ok(json!({})));
        assert_eq!(decode_json(b"\"top\""), Ok(json!("top")));
        assert_eq!(decode_json(b"0"), Ok(json!(0)));
    }

    #[test]
    fn json_syntax_errors_use_go_messages() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "unexpected end of JSON input"),
            (b"   ", "unexpected end of JSON input"),
            (b"{", "unexpected end of JSON input"),
            (br#"{"a":1"#, "unexpected end of JSON input"),
            (
                br#"{"a":1,}"#,
                "invalid character '}' looking for beginning of object key string",
            ),
            (br#"{"a" 1}"#, "invalid character '1' after object key"),
            (
                br#"{"a":1 "b":2}"#,
                "invalid character '\"' after object key:value pair",
            ),
            (
                b"{'a':1}",
                "invalid character '\\'' looking for beginning of object key string",
            ),
            (
                b"[1,]",
                "invalid character ']' looking for beginning of value",
            ),
            (b"[1 2]", "invalid character '2' after array element"),
            (b"{} x", "invalid character 'x' after top-level value"),
            (b"tru", "unexpected end of JSON input"),
            (
                b"trux",
                "invalid character 'x' in literal true (expecting 'e')",
            ),
            (
                b"nul!",
                "invalid character '!' in literal null (expecting 'l')",
            ),
            (b"fals", "unexpected end of JSON input"),
            (b"-a", "invalid character 'a' in numeric literal"),
            (
                b"1.e",
                "invalid character 'e' after decimal point in numeric literal",
            ),
            (b"1e+", "unexpected end of JSON input"),
            (
                b"1ex",
                "invalid character 'x' in exponent of numeric literal",
            ),
            (b"01", "invalid character '1' after top-level value"),
            (br#""a\qb""#, "invalid character 'q' in string escape code"),
            (
                br#""\u12G4""#,
                "invalid character 'G' in \\u hexadecimal character escape",
            ),
            (b"\"a\nb\"", "invalid character '\\n' in string literal"),
            (b"\"abc", "unexpected end of JSON input"),
            (
                b"\xff",
                "invalid character '\u{ff}' looking for beginning of value",
            ),
            (b"x", "invalid character 'x' looking for beginning of value"),
            (
                b"1e999",
                "json: cannot unmarshal number 1e999 into Go value of type float64",
            ),
        ];
        for (input, message) in cases {
            let error = decode_json(input).expect_err("invalid json");
            assert_eq!(
                error.message,
                *message,
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
        assert_eq!(decode_json(b"[1 2]").expect_err("invalid").offset, 4);
        assert_eq!(decode_json(b"{").expect_err("invalid").offset, 1);
    }

    #[test]
    fn json_nesting_limit() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(decode_json(nested(MAX_DEPTH).as_bytes()).is_ok());
        let error = decode_json(nested(MAX_DEPTH + 1).as_bytes()).expect_err("too deep");
        assert_eq!(error.message, "invalid character '[' exceeded max depth");
    }

    #[test]
    fn json_string_escapes() {
        let value = decode_json(br#"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\ud83d\ude00", "\ud83d", "\udc00x", "\ud83d\u0041"]"#)
            .expect("valid json");
        assert_eq!(
            value,
            json!([
                "a\"b\\c/d\u{8}\u{c}\n\r\t",
                "é😀",
                "\u{fffd}",
                "\u{fffd}x",
                "\u{fffd}A"
            ])
        );
        let invalid_utf8 = decode_json(b"\"a\xffb\"").expect("valid json");
        assert_eq!(invalid_utf8, json!("a\u{fffd}b"));
    }

    #[test]
    fn yaml_resolves_scalars_like_go_yaml_v2() {
        let text = "\
plain: text
quoted: \"yes\"
single: 'on'
flags: [yes, No, on, OFF, true, y, n]
nulls: [~, null, Null, \"\"]
empty:
octal: 0777
hex: 0x1F
binary: 0b101
underscored: 1_000
negative: -42
big: 18446744073709551615
leading_zero: 08
float: 1.5
whole_float: 3.0
exponent: 1e3
dot_float: .5
version: 1.10
tagged_string: !!str 123
tagged_float: !!float 2
custom_tag: !thing 12
date: 2001-12-14
literal: |
  line one
  line two
folded: >
  folded
  text
";
        let value = decode_yaml(text.as_bytes()).expect("valid yaml");
        assert_eq!(
            value,
            json!({
                "plain": "text",
                "quoted": "yes",
                "single": "on",
                "flags": [true, false, true, false, true, true, false],
                "nulls": [null, null, null, ""],
                "empty": null,
                "octal": 511,
                "hex": 31,
                "binary": 5,
                "underscored": 1000,
                "negative": -42,
                "big": 18446744073709551615_u64,
                "leading_zero": 8,
                "float": 1.5,
                "whole_float": 3,
                "exponent": 1000,
                "dot_float": 0.5,
                "version": 1.1,
                "tagged_string": "123",
                "tagged_float": 2,
                "custom_tag": "12",
                "date": "2001-12-14",
                "literal": "line one\nline two\n",
                "folded": "folded text\n",
            })
        );
    }

    #[test]
    fn yaml_keys_convert_like_sigs_yaml() {
        let value = decode_yaml(b"1: a\ntrue: b\n1.5: c\n").expect("valid yaml");
        assert_eq!(value, json!({"1": "a", "true": "b", "1.5": "c"}));
        // YAML 1.1 reads the key `y` as a boolean, so it arrives as "true".
        assert_eq!(decode_yaml(b"y: 1\n"), Ok(json!({"true": 1})));
        let error = decode_yaml(b"~: a\n").expect_err("null key");
        assert_eq!(
            error.to_string(),
            "unsupported map key of type: <nil>, key: <nil>, value: \"a\""
        );
        let error = decode_yaml(b"? [a]\n: b\n").expect_err("sequence key");
        assert_eq!(
            error.to_string(),
            "yaml: invalid map key: []interface {}{...}"
        );
    }

    #[test]
    fn yaml_anchors_aliases_and_merge() {
        let text = "\
base: &base
  a: 1
  b: 2
copy: *base
merged:
  <<: *base
  b: 3
list:
  <<: [{x: 1}, {x: 2, z: 2}]
";
        let value = decode_yaml(text.as_bytes()).expect("valid yaml");
        assert_eq!(value["copy"], json!({"a": 1, "b": 2}));
        assert_eq!(value["merged"], json!({"a": 1, "b": 3}));
        assert_eq!(value["list"], json!({"x": 1, "z": 2}));

        let error = decode_yaml(b"a: *missing\n").expect_err("unknown anchor");
        assert_eq!(
            error.to_string(),
            "yaml: unknown anchor 'missing' referenced"
        );
        let error = decode_yaml(b"a: &x 1\nb:\n  <<: *x\n").expect_err("bad merge");
        assert_eq!(
            error.to_string(),
            "yaml: map merge requires map or sequence of maps as the value"
        );
    }

    #[test]
    fn yaml_alias_expansion_is_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..8 {
            let previous = level - 1;
            let refs = vec![format!("*a{previous}"); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
        }
        let error = decode_yaml(text.as_bytes()).expect_err("alias bomb");
        assert_eq!(
            error.to_string(),
            "yaml: document contains excessive aliasing"
        );
    }

    #[test]
    fn yaml_syntax_errors() {
        let cases = [
            (
                "a: b: c\n",
                "yaml: line 1: mapping values are not allowed in this context",
            ),
            (
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: app: web\n",
                "yaml: line 5: mapping values are not allowed in this context",
            ),
            (
                "a:\n  b: 1\n c: 2\n",
                "yaml: line 2: did not find expected key",
            ),
            (
                "a: [1, 2\n",
                "yaml: line 1: did not find expected ',' or ']'",
            ),
            (
                "a: {b: 1\n",
                "yaml: line 1: did not find expected ',' or '}'",
            ),
            (
                "a: \"unterminated\n",
                "yaml: line 1: found unexpected end of stream",
            ),
            (
                "a:\n\t- b\n",
                "yaml: line 2: found character that cannot start any token",
            ),
            (
                "a: !!int abc\n",
                "yaml: cannot decode !!str `abc` as a !!int",
            ),
            ("a: .nan\n", "json: unsupported value: NaN"),
            ("a: -.inf\n", "json: unsupported value: -Inf"),
        ];
        for (text, message) in cases {
            let error = decode_yaml(text.as_bytes()).expect_err("invalid yaml");
            assert_eq!(error.to_string(), message, "input {text:?}");
        }
        let error = decode_yaml(b"a: b: c\n").expect_err("invalid");
        assert_eq!(
            error.client_message(),
            "error converting YAML to JSON: yaml: line 1: mapping values are not allowed in this context"
        );
        assert_eq!(
            decode_yaml(b"a: 1\n\xff").map_err(|error| error.to_string()),
            Err("yaml: invalid leading UTF-8 octet".to_string())
        );
    }

    #[test]
    fn yaml_documents() {
        assert_eq!(decode_yaml(b""), Ok(Value::Null));
        assert_eq!(decode_yaml(b"# only a comment\n"), Ok(Value::Null));
        assert_eq!(decode_yaml(b"---\na: 1\n---\n"), Ok(json!({"a": 1})));
        assert_eq!(
            decode_yaml(b"a: 1\n---\nb: 2\n"),
            Err(YamlError::MultipleDocuments(2))
        );
        assert_eq!(
            decode_yaml_documents(b"a: 1\n---\n---\nb: 2\n...\n"),
            Ok(vec![json!({"a": 1}), json!({"b": 2})])
        );
    }

    #[test]
    fn field_validation_parse() {
        assert_eq!(FieldValidation::parse(""), Ok(FieldValidation::Warn));
        assert_eq!(FieldValidation::parse("Warn"), Ok(FieldValidation::Warn));
        assert_eq!(
            FieldValidation::parse("Ignore"),
            Ok(FieldValidation::Ignore)
        );
        assert_eq!(
            FieldValidation::parse("Strict"),
            Ok(FieldValidation::Strict)
        );
        assert_eq!(
            FieldValidation::parse("strict").map_err(|error| error.to_string()),
            Err("fieldValidation: Unsupported value: \"strict\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"".to_string())
        );
    }

    #[test]
    fn media_type_detection() {
        assert_eq!(MediaType::detect(b"  \n{\"a\":1}"), MediaType::Json);
        assert_eq!(MediaType::detect(b"apiVersion: v1\n"), MediaType::Yaml);
        assert_eq!(MediaType::detect(b"[1]"), MediaType::Yaml);
        assert_eq!(MediaType::detect(b""), MediaType::Yaml);
        assert!(is_json_buffer(b"\t{"));
    }

    #[test]
    fn summary_of_bodies() {
        assert_eq!(summarize_data(b"", 30), "<empty>");
        assert_eq!(summarize_data(b"{\"a\":1}", 30), "{\"a\":1}");
        assert_eq!(
            summarize_data(
                b"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{}}",
                30
            ),
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod ..."
        );
        assert_eq!(summarize_data(b"a: b", 30), "613a2062");
        assert_eq!(summarize_data(b"abcd", 2), "6162 ...");
    }

    #[test]
    fn decode_object_fills_type_meta() {
        let decoded = decode_pod(
            r#"{"metadata":{"name":"nginx"}}"#,
            MediaType::Json,
            FieldValidation::Strict,
        )
        .expect("valid pod");
        assert_eq!(decoded.gvk, pod_gvk());
        assert!(decoded.warnings.is_empty());
        assert_eq!(
            serde_json::to_string(&decoded.object).expect("json"),
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nginx"}}"#
        );
        let null_body =
            decode_pod("null", MediaType::Json, FieldValidation::Strict).expect("null body");
        assert_eq!(null_body.object, json!({"apiVersion": "v1", "kind": "Pod"}));
    }

    #[test]
    fn decode_object_accepts_valid_pod_json_and_yaml() {
        let json_body = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"app":"web"},"creationTimestamp":null},
            "spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80}],
            "resources":{"limits":{"cpu":1,"memory":"64Mi"}},"livenessProbe":{"httpGet":{"port":"http"}}}]}}"#;
        let decoded =
            decode_pod(json_body, MediaType::Json, FieldValidation::Strict).expect("valid pod");
        assert_eq!(decoded.object["spec"]["containers"][0]["image"], "nginx");
        assert!(decoded.warnings.is_empty());

        let yaml_body = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
  creationTimestamp: null
spec:
  containers:
  - name: c
    image: nginx
    resources:
      limits:
        cpu: 500m
";
        let decoded =
            decode_pod(yaml_body, MediaType::Yaml, FieldValidation::Strict).expect("valid pod");
        assert_eq!(
            decoded.object["spec"]["containers"][0]["resources"]["limits"]["cpu"],
            "500m"
        );
    }

    #[test]
    fn decode_object_strict_json() {
        let body = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"},
            "spec":{"foo":1,"containers":[{"name":"c","image":"i","bar":{"deep":1}}]}}"#;
        let strict =
            decode_pod(body, MediaType::Json, FieldValidation::Strict).expect_err("strict");
        assert_eq!(
            strict,
            "Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: duplicate field \"metadata.name\", \
             unknown field \"spec.foo\", unknown field \"spec.containers[0].bar\""
        );

        let warned = decode_pod(body, MediaType::Json, FieldValidation::Warn).expect("warn");
        assert_eq!(
            warned.warnings,
            [
                "duplicate field \"metadata.name\"",
                "unknown field \"spec.foo\"",
                "unknown field \"spec.containers[0].bar\""
            ]
        );
        assert_eq!(warned.object["metadata"]["name"], "b");

        let ignored = decode_pod(body, MediaType::Json, FieldValidation::Ignore).expect("ignore");
        assert!(ignored.warnings.is_empty());
    }

    #[test]
    fn decode_object_duplicates_in_nested_paths() {
        let body = r#"{"metadata":{"labels":{"app":"a","app":"b"}},"spec":{"containers":[{"name":"c","name":"d"}]}}"#;
        let decoded = decode_pod(body, MediaType::Json, FieldValidation::Warn).expect("warn");
        assert_eq!(
            decoded.warnings,
            [
                "duplicate field \"metadata.labels.app\"",
                "duplicate field \"spec.containers[0].name\""
            ]
        );
        let repeated_unknown = decode_pod(
            r#"{"foo":1,"foo":2}"#,
            MediaType::Json,
            FieldValidation::Warn,
        )
        .expect("warn");
        assert_eq!(repeated_unknown.warnings, ["unknown field \"foo\""]);
        let inside_unknown = decode_pod(
            r#"{"foo":{"a":1,"a":2},"foobar":1}"#,
            MediaType::Json,
            FieldValidation::Warn,
        )
        .expect("warn");
        assert_eq!(
            inside_unknown.warnings,
            ["unknown field \"foo\"", "unknown field \"foobar\""]
        );
    }

    #[test]
    fn decode_object_strict_yaml() {
        let body = "\
apiVersion: v1
kind: Pod
metadata:
  name: a
  name: b
spec:
  containers:
  - name: c
    image: i
    foo: 1
";
        let strict =
            decode_pod(body, MediaType::Yaml, FieldValidation::Strict).expect_err("strict");
        assert_eq!(
            strict,
            "Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: yaml: unmarshal errors:\n  \
             line 5: key \"name\" already set in map, unknown field \"spec.containers[0].foo\""
        );
        let warned = decode_pod(body, MediaType::Yaml, FieldValidation::Warn).expect("warn");
        assert_eq!(
            warned.warnings,
            [
                "line 5: key \"name\" already set in map",
                "unknown field \"spec.containers[0].foo\""
            ]
        );
        assert_eq!(warned.object["metadata"]["name"], "b");
    }

    #[test]
    fn decode_object_rejects_malformed_bodies() {
        let cases = [
            (
                r#"{"apiVersion":"v1","kind":"Pod","metadata":{"#,
                MediaType::Json,
                "the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: \
                 unexpected end of JSON input ({\"apiVersion\":\"v1\",\"kind\":\"Pod ...)",
            ),
            (
                "[1]",
                MediaType::Json,
                "the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: \
                 json: cannot unmarshal array into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; \
                 Kind string \"json:\\\"kind,omitempty\\\"\" } (5b315d)",
            ),
            (
                r#"{"apiVersion":1}"#,
                MediaType::Json,
                "the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: \
                 json: cannot unmarshal number into Go struct field .apiVersion of type string ({\"apiVersion\":1})",
            ),
            (
                r#"{"apiVersion":"a/b/c","kind":"Pod"}"#,
                MediaType::Json,
                "the object provided is unrecognized (must be of type Pod): unexpected GroupVersion string: a/b/c \
                 ({\"apiVersion\":\"a/b/c\",\"kind\":\" ...)",
            ),
            (
                "a: b: c\n",
                MediaType::Yaml,
                "the object provided is unrecognized (must be of type Pod): yaml: line 1: mapping values are not allowed \
                 in this context (613a20623a20630a)",
            ),
        ];
        for (body, media_type, message) in cases {
            let error =
                decode_pod(body, media_type, FieldValidation::Strict).expect_err("malformed");
            assert_eq!(error, message, "body {body:?}");
        }
    }

    #[test]
    fn decode_object_type_errors_fatal() {
        for validation in [
            FieldValidation::Ignore,
            FieldValidation::Warn,
            FieldValidation::Strict,
        ] {
            let error = decode_pod(
                r#"{"spec":{"containers":"x"}}"#,
                MediaType::Json,
                validation,
            )
            .expect_err("type error");
            assert!(
                error.starts_with("Pod in version \"v1\" cannot be handled as a Pod: spec.containers: invalid type: string \"x\""),
                "{error}"
            );
        }
        let error = decode_pod(
            r#"{"spec":{"containers":[{"name":5}]}}"#,
            MediaType::Json,
            FieldValidation::Ignore,
        )
        .expect_err("type error");
        assert!(
            error.contains("spec.containers[0].name: invalid type: integer `5`"),
            "{error}"
        );
    }

    #[test]
    fn decode_object_kind_and_version_checks() {
        let hpa = GroupVersionKind::new("autoscaling", "v2", "HorizontalPodAutoscaler");
        let body = br#"{"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"h"}}"#;
        let error = decode_object(body, MediaType::Json, &hpa, FieldValidation::Strict)
            .expect_err("mismatch");
        assert_eq!(
            error.to_string(),
            "the API version in the data (autoscaling/v1) does not match the expected API version (autoscaling/v2)"
        );
        assert_eq!(error.to_status().code(), 400);

        let service = decode_pod(
            r#"{"apiVersion":"v1","kind":"Service"}"#,
            MediaType::Json,
            FieldValidation::Strict,
        )
        .expect_err("kind mismatch");
        assert_eq!(
            service,
            "Service in version \"v1\" cannot be handled as a Pod: converting (v1.Service) to (core.Pod): unknown conversion"
        );

        let deployment = GroupVersionKind::new("apps", "v1", "Deployment");
        let old = br#"{"apiVersion":"apps/v1beta1","kind":"Deployment"}"#;
        let error = decode_object(old, MediaType::Json, &deployment, FieldValidation::Strict)
            .expect_err("unregistered");
        assert_eq!(
            error.to_string(),
            "Deployment in version \"v1beta1\" cannot be handled as a Deployment: no kind \"Deployment\" is registered \
             for version \"apps/v1beta1\" in scheme \"pkg/api/legacyscheme/scheme.go:30\""
        );
    }

    #[test]
    fn decode_object_subresource_kinds() {
        let scale = GroupVersionKind::new("autoscaling", "v1", "Scale");
        let body = br#"{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web"},"spec":{"replicas":3,"extra":1}}"#;
        let decoded =
            decode_object(body, MediaType::Json, &scale, FieldValidation::Warn).expect("scale");
        assert_eq!(decoded.warnings, ["unknown field \"spec.extra\""]);
    }

    #[test]
    fn unknown_fields_handles_nulls_and_required_times() {
        let service_cidr = GroupVersionKind::new("networking.k8s.io", "v1", "ServiceCIDR");
        let object = json!({
            "metadata": {"name": "r", "labels": {"a": null}, "creationTimestamp": null},
            "spec": {"cidrs": null},
            "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "R", "message": "m"}]}
        });
        assert_eq!(unknown_fields(&service_cidr, &object), Some(Ok(vec![])));

        let pod = json!({"spec": {"containers": [{"name": null, "image": "i", "unknownNull": null}]}, "status": null});
        assert_eq!(
            unknown_fields(&pod_gvk(), &pod),
            Some(Ok(vec!["spec.containers[0].unknownNull".to_string()]))
        );

        let custom = GroupVersionKind::new("example.com", "v1", "Widget");
        assert_eq!(unknown_fields(&custom, &json!({"anything": 1})), None);
    }

    #[test]
    fn typed_walk_survives_deep_json_on_small_stack() {
        let mut example = json!(1);
        for _ in 0..(MAX_DEPTH - 20) {
            example = json!([example]);
        }
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "names": {"plural": "widgets", "kind": "Widget"}, "scope": "Namespaced",
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "example": example}}}]}
        });
        let body = serde_json::to_vec(&crd).expect("json");
        let gvk = GroupVersionKind::new("apiextensions.k8s.io", "v1", "CustomResourceDefinition");
        let outcome = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || {
                decode_object(&body, MediaType::Json, &gvk, FieldValidation::Strict)
                    .map(|decoded| decoded.warnings)
            })
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        assert_eq!(outcome, Ok(vec![]));
    }

    #[test]
    fn strict_errors_are_capped_and_deduplicated() {
        let fields: Vec<String> = (0..150).map(|index| format!("\"f{index}\":1")).collect();
        let body = format!("{{{}}}", fields.join(","));
        let decoded = decode_pod(&body, MediaType::Json, FieldValidation::Warn).expect("warn");
        assert_eq!(decoded.warnings.len(), MAX_STRICT_ERRORS);
        assert_eq!(decoded.warnings[0], "unknown field \"f0\"");
    }

    #[test]
    fn strict_error_display() {
        assert_eq!(
            StrictDecodingError::UnknownField("spec.foo".into()).to_string(),
            "unknown field \"spec.foo\""
        );
        assert_eq!(
            StrictDecodingError::DuplicateField("a".into()).to_string(),
            "duplicate field \"a\""
        );
        let yaml = StrictDecodingError::YamlDuplicateKeys(vec![
            "line 2: key \"a\" already set in map".into(),
            "line 4: key 1 already set in map".into(),
        ]);
        assert_eq!(
            yaml.to_string(),
            "yaml: unmarshal errors:\n  line 2: key \"a\" already set in map\n  line 4: key 1 already set in map"
        );
        assert_eq!(yaml.path(), None);
        assert_eq!(yaml.warnings().len(), 2);
    }

    #[test]
    fn yaml_duplicate_key_lines() {
        let text = "a: 1\nb:\n  c: 1\na: 2\nb:\n  c: 2\n1: x\n\"1\": y\n1: z\n";
        let parsed = parse_yaml(text.as_bytes(), true).expect("valid yaml");
        assert_eq!(
            parsed.duplicate_lines,
            [
                "line 4: key \"a\" already set in map",
                "line 6: key \"b\" already set in map",
                "line 9: key 1 already set in map"
            ]
        );
        assert_eq!(parsed.value["a"], 2);
        assert_eq!(parsed.value["1"], "z");
    }
}
