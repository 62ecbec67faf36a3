//! API errors as meta/v1 `Status` objects, and field-level validation errors.
//!
//! [`StatusError`] is what the apiserver returns for every failed request and what clients
//! decode from a failed response. Its constructors (`StatusError::not_found`,
//! `StatusError::invalid`, ...) produce the same code, reason, details and message text as
//! upstream's `k8s.io/apimachinery/pkg/api/errors` (Kubernetes v1.33), so clients that
//! match on messages behave the same. [`FieldPath`] and [`FieldError`] mirror upstream's
//! `field.Path` and `field.Error` and feed [`StatusError::invalid`].

use std::fmt;

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::meta::{GroupKind, GroupResource};

/// Quotes a string the way Go's `strconv.Quote` (and `%q`) does, which upstream messages
/// use for names and values: `"`, `\`, control and non-printable characters are escaped,
/// printable Unicode is kept.
pub fn go_quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        push_go_escaped(&mut quoted, character, '"');
    }
    quoted.push('"');
    quoted
}

/// Appends one character escaped as Go's `strconv.Quote` would, with `quote` as the
/// delimiter that needs escaping.
pub(crate) fn push_go_escaped(out: &mut String, character: char, quote: char) {
    match character {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        _ if character == quote => {
            out.push('\\');
            out.push(character);
        }
        _ if is_go_printable(character) => out.push(character),
        _ if (character as u32) < 0x20 || character == '\u{7f}' => {
            out.push_str(&format!("\\x{:02x}", character as u32));
        }
        _ if (character as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", character as u32)),
        _ => out.push_str(&format!("\\U{:08x}", character as u32)),
    }
}

/// Approximates Go's `unicode.IsPrint`: control characters, separators other than the ASCII
/// space, the common format characters and private-use code points are not printable.
// NOTE: Go consults the full Unicode category tables (unassigned code points are also
// non-printable there). This covers the characters that occur in practice.
fn is_go_printable(character: char) -> bool {
    if character == ' ' {
        return true;
    }
    if character.is_control() || character.is_whitespace() {
        return false;
    }
    !matches!(character as u32,
        0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e | 0x200b..=0x200f
        | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f | 0xfeff | 0xfff9..=0xfffb
        | 0xe000..=0xf8ff | 0xf0000..=0x10ffff)
}

/// Formats a float as Go's `%v` does (`strconv.FormatFloat(f, 'g', -1, 64)`): shortest
/// round-trip digits, in exponent form when the decimal exponent is below -4 or at least 6,
/// with a signed two-digit exponent, such as `1.5`, `100000` or `1e+06`.
pub(crate) fn go_format_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            "+Inf".to_string()
        } else {
            "-Inf".to_string()
        };
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0".to_string()
        } else {
            "0".to_string()
        };
    }
    go_format_shortest(&format!("{value:e}"))
}

/// Formats a float as Go's `strconv.FormatFloat(f, 'g', -1, 32)` does: the shortest digits
/// that round-trip through a 32-bit float.
pub(crate) fn go_format_float32(value: f32) -> String {
    if value.is_nan() || value.is_infinite() || value == 0.0 {
        return go_format_float(f64::from(value));
    }
    go_format_shortest(&format!("{value:e}"))
}

/// Rewrites Rust's shortest scientific form (`1.2345e3`) in Go's `%g` layout.
fn go_format_shortest(scientific: &str) -> String {
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };

    if !(-4..6).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!(
            "{sign}{first}{fraction}e{exponent_sign}{:02}",
            exponent.abs()
        );
    }

    let point = exponent + 1;
    if point <= 0 {
        let zeros = "0".repeat(point.unsigned_abs() as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let point = point as usize;
    if digits.len() <= point {
        let zeros = "0".repeat(point - digits.len());
        format!("{sign}{digits}{zeros}")
    } else {
        format!("{sign}{}.{}", &digits[..point], &digits[point..])
    }
}

/// Machine-readable reason of a failed request (`Status.reason`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum StatusReason {
    /// No reason given (serialized as an absent field).
    #[default]
    Unknown,
    /// 401: the request lacks valid credentials.
    Unauthorized,
    /// 403: the authenticated user may not perform the action.
    Forbidden,
    /// 404: the object does not exist.
    NotFound,
    /// 409 on create: an object with that name exists.
    AlreadyExists,
    /// 409: the write conflicts with the stored state, such as a stale resourceVersion.
    Conflict,
    /// 410: the item is no longer available.
    Gone,
    /// 422: the object failed validation.
    Invalid,
    /// 500: the server could not complete the operation in time, so the client should retry.
    ServerTimeout,
    /// 500: the stored object could not be read (upstream spells it `StorageReadError`).
    StoreReadError,
    /// 504: the request did not complete in time.
    Timeout,
    /// 429: too many requests.
    TooManyRequests,
    /// 400: the request itself is malformed.
    BadRequest,
    /// 405: the verb is not supported on the resource.
    MethodNotAllowed,
    /// 406: no acceptable response media type.
    NotAcceptable,
    /// 413: the request body is too large.
    RequestEntityTooLarge,
    /// 415: the request body media type is not supported.
    UnsupportedMediaType,
    /// 500: an unexpected server error.
    InternalError,
    /// 410: the requested content (a resourceVersion or continue token) expired.
    Expired,
    /// 503: the server cannot handle the request now.
    ServiceUnavailable,
    /// A reason this crate does not know, kept verbatim.
    Other(String),
}

impl StatusReason {
    /// Returns the wire form, such as `NotFound`, or "" for [`StatusReason::Unknown`].
    pub fn as_str(&self) -> &str {
        match self {
            Self::Unknown => "",
            Self::Unauthorized => "Unauthorized",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "NotFound",
            Self::AlreadyExists => "AlreadyExists",
            Self::Conflict => "Conflict",
            Self::Gone => "Gone",
            Self::Invalid => "Invalid",
            Self::ServerTimeout => "ServerTimeout",
            Self::StoreReadError => "StorageReadError",
            Self::Timeout => "Timeout",
            Self::TooManyRequests => "TooManyRequests",
            Self::BadRequest => "BadRequest",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::NotAcceptable => "NotAcceptable",
            Self::RequestEntityTooLarge => "RequestEntityTooLarge",
            Self::UnsupportedMediaType => "UnsupportedMediaType",
            Self::InternalError => "InternalError",
            Self::Expired => "Expired",
            Self::ServiceUnavailable => "ServiceUnavailable",
            Self::Other(text) => text,
        }
    }

    /// Parses the wire form. Unrecognized text becomes [`StatusReason::Other`].
    pub fn parse(text: &str) -> Self {
        match text {
            "" => Self::Unknown,
            "Unauthorized" => Self::Unauthorized,
            "Forbidden" => Self::Forbidden,
            "NotFound" => Self::NotFound,
            "AlreadyExists" => Self::AlreadyExists,
            "Conflict" => Self::Conflict,
            "Gone" => Self::Gone,
            "Invalid" => Self::Invalid,
            "ServerTimeout" => Self::ServerTimeout,
            "StorageReadError" => Self::StoreReadError,
            "Timeout" => Self::Timeout,
            "TooManyRequests" => Self::TooManyRequests,
            "BadRequest" => Self::BadRequest,
            "MethodNotAllowed" => Self::MethodNotAllowed,
            "NotAcceptable" => Self::NotAcceptable,
            "RequestEntityTooLarge" => Self::RequestEntityTooLarge,
            "UnsupportedMediaType" => Self::UnsupportedMediaType,
            "InternalError" => Self::InternalError,
            "Expired" => Self::Expired,
            "ServiceUnavailable" => Self::ServiceUnavailable,
            other => Self::Other(other.to_string()),
        }
    }

    /// Returns whether this is [`StatusReason::Unknown`].
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown)
    }

    /// Returns whether upstream's `knownReasons` table lists this reason. The `Is*` checks
    /// fall back to the HTTP code only for reasons outside that table.
    fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown | Self::Other(_))
    }
}

impl fmt::Display for StatusReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for StatusReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for StatusReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text: Option<String> = Option::deserialize(deserializer)?;
        Ok(Self::parse(text.as_deref().unwrap_or("")))
    }
}

/// Cause types (`StatusCause.reason`) that are not field error types.
pub mod cause_type {
    /// The server's response could not be understood. The message carries its body.
    pub const UNEXPECTED_SERVER_RESPONSE: &str = "UnexpectedServerResponse";
    /// A server-side apply conflict with another field manager.
    pub const FIELD_MANAGER_CONFLICT: &str = "FieldManagerConflict";
    /// The requested resourceVersion is newer than the storage has seen.
    pub const RESOURCE_VERSION_TOO_LARGE: &str = "ResourceVersionTooLarge";
}

/// Reads `null` as the type's default, as Go's decoder does for a Status from a client.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn is_zero(value: &i32) -> bool {
    *value == 0
}

/// The list metadata of a Status. In practice only `continue` is set, on an expired
/// continue token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    /// Deprecated self link.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub self_link: String,
    /// resourceVersion of a list.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub resource_version: String,
    /// Continue token for the next page.
    #[serde(
        rename = "continue",
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub continue_token: String,
    /// Estimated number of remaining items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_item_count: Option<i64>,
}

/// One cause of a failure (`StatusCause`), usually one invalid field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCause {
    /// Cause type, such as `FieldValueRequired`, or empty when unknown.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub reason: String,
    /// Human-readable description.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub message: String,
    /// Field path, such as `spec.containers[0].image`.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub field: String,
}

/// Extended data of a Status (`StatusDetails`). Like upstream, `kind` contains the resource
/// for most errors (`pods`) but the kind for Invalid (`Pod`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    /// Name of the object concerned.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub name: String,
    /// API group of the object concerned.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub group: String,
    /// Resource or kind of the object concerned.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub kind: String,
    /// UID of the object concerned.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub uid: String,
    /// Individual causes, such as one per invalid field.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub causes: Vec<StatusCause>,
    /// Seconds the client should wait before retrying, or 0 when not given.
    #[serde(
        default,
        skip_serializing_if = "is_zero",
        deserialize_with = "null_as_default"
    )]
    pub retry_after_seconds: i32,
}

/// A meta/v1 `Status` object as sent on the wire. Fields serialize in upstream's order:
/// `kind`, `apiVersion`, `metadata`, `status`, `message`, `reason`, `details`, `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Always `Status` for objects built here.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub kind: String,
    /// Always `v1` for objects built here.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub api_version: String,
    /// List metadata, serialized as `{}` when empty.
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: ListMeta,
    /// `Success` or `Failure`.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub status: String,
    /// Human-readable description.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub message: String,
    /// Machine-readable reason.
    #[serde(default, skip_serializing_if = "StatusReason::is_unknown")]
    pub reason: StatusReason,
    /// Extended data. Upstream omits it for some errors and sends `{}` for others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    /// HTTP status code, or 0 when not set.
    #[serde(
        default,
        skip_serializing_if = "is_zero",
        deserialize_with = "null_as_default"
    )]
    pub code: i32,
}

/// `Status.status` of a failed request.
pub const STATUS_FAILURE: &str = "Failure";
/// `Status.status` of a successful request (for example a delete that returns a Status).
pub const STATUS_SUCCESS: &str = "Success";

impl Status {
    /// Builds a failure Status with `kind` and `apiVersion` set.
    pub fn failure(code: i32, reason: StatusReason, message: impl Into<String>) -> Self {
        Self {
            kind: "Status".to_string(),
            api_version: "v1".to_string(),
            metadata: ListMeta::default(),
            status: STATUS_FAILURE.to_string(),
            message: message.into(),
            reason,
            details: None,
            code,
        }
    }

    /// Builds the Success Status that a delete of a collection or a subresource returns.
    pub fn success() -> Self {
        Self {
            kind: "Status".to_string(),
            api_version: "v1".to_string(),
            metadata: ListMeta::default(),
            status: STATUS_SUCCESS.to_string(),
            message: String::new(),
            reason: StatusReason::Unknown,
            details: None,
            code: 200,
        }
    }

    fn with_details(mut self, details: StatusDetails) -> Self {
        self.details = Some(details);
        self
    }
}

/// An API error: a failure [`Status`] plus the error trait. Display is the Status message.
///
/// Serialize and Deserialize use the Status wire form, so the apiserver writes it as the
/// response body and clients read it back from one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .status.message)]
pub struct StatusError {
    // Boxed so that `Result<T, StatusError>` stays small.
    status: Box<Status>,
}

impl Serialize for StatusError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.status.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for StatusError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self {
            status: Box::new(Status::deserialize(deserializer)?),
        })
    }
}

impl From<Status> for StatusError {
    fn from(status: Status) -> Self {
        Self {
            status: Box::new(status),
        }
    }
}

/// Details naming one object (or, with an empty name, a whole resource).
fn resource_details(resource: &GroupResource, name: &str) -> StatusDetails {
    StatusDetails {
        name: name.to_string(),
        group: resource.group.clone(),
        kind: resource.resource.clone(),
        ..StatusDetails::default()
    }
}

impl StatusError {
    /// Wraps a Status, such as one decoded from a response body.
    pub fn from_status(status: Status) -> Self {
        Self {
            status: Box::new(status),
        }
    }

    /// Decodes a Status response body.
    ///
    /// # Errors
    /// The serde_json error when the body is not a Status object.
    pub fn from_json(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Returns the Status.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// Returns the Status by value.
    pub fn into_status(self) -> Status {
        *self.status
    }

    /// Returns the HTTP status code.
    pub fn code(&self) -> i32 {
        self.status.code
    }

    /// Returns the reason.
    pub fn reason(&self) -> &StatusReason {
        &self.status.reason
    }

    /// Returns the message.
    pub fn message(&self) -> &str {
        &self.status.message
    }

    /// Returns the details, if any.
    pub fn details(&self) -> Option<&StatusDetails> {
        self.status.details.as_ref()
    }

    /// Returns the causes, empty when there are no details.
    pub fn causes(&self) -> &[StatusCause] {
        self.details()
            .map_or(&[], |details| details.causes.as_slice())
    }

    /// Returns the first cause of the given type, as upstream's `StatusCause` does.
    pub fn cause(&self, cause_type: &str) -> Option<&StatusCause> {
        self.causes()
            .iter()
            .find(|cause| cause.reason == cause_type)
    }

    /// Returns the suggested retry delay in seconds, if the server gave one.
    pub fn retry_after_seconds(&self) -> Option<i32> {
        self.details()
            .map(|details| details.retry_after_seconds)
            .filter(|seconds| *seconds > 0)
    }

    /// Returns the Status as a JSON value.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(&*self.status).unwrap_or(Value::Null)
    }

    /// Returns the Status as a compact JSON body.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&*self.status).unwrap_or_default()
    }

    fn with_details(status: Status, details: StatusDetails) -> Self {
        Self {
            status: Box::new(status.with_details(details)),
        }
    }

    /// 404 NotFound: `pods "nginx" not found` or `deployments.apps "web" not found`.
    pub fn not_found(resource: &GroupResource, name: &str) -> Self {
        let message = format!("{resource} {} not found", go_quote(name));
        Self::with_details(
            Status::failure(404, StatusReason::NotFound, message),
            resource_details(resource, name),
        )
    }

    /// 409 AlreadyExists: `pods "nginx" already exists`.
    pub fn already_exists(resource: &GroupResource, name: &str) -> Self {
        let message = format!("{resource} {} already exists", go_quote(name));
        Self::with_details(
            Status::failure(409, StatusReason::AlreadyExists, message),
            resource_details(resource, name),
        )
    }

    /// 409 AlreadyExists for a generated name that collided, with a retry delay.
    pub fn generate_name_conflict(
        resource: &GroupResource,
        name: &str,
        retry_after_seconds: i32,
    ) -> Self {
        let message = format!(
            "{resource} {} already exists, the server was not able to generate a unique name for the object",
            go_quote(name)
        );
        let details = StatusDetails {
            retry_after_seconds,
            ..resource_details(resource, name)
        };
        Self::with_details(
            Status::failure(409, StatusReason::AlreadyExists, message),
            details,
        )
    }

    /// 401 Unauthorized with the given message, or `not authorized` when it is empty.
    pub fn unauthorized(reason: &str) -> Self {
        let message = if reason.is_empty() {
            "not authorized"
        } else {
            reason
        };
        Self::from_status(Status::failure(401, StatusReason::Unauthorized, message))
    }

    /// 403 Forbidden: `pods "x" is forbidden: <err>`, `pods is forbidden: <err>` without a
    /// name, or `forbidden: <err>` without a resource.
    pub fn forbidden(resource: &GroupResource, name: &str, err: impl fmt::Display) -> Self {
        let message = if resource.is_empty() {
            format!("forbidden: {err}")
        } else if name.is_empty() {
            format!("{resource} is forbidden: {err}")
        } else {
            format!("{resource} {} is forbidden: {err}", go_quote(name))
        };
        Self::with_details(
            Status::failure(403, StatusReason::Forbidden, message),
            resource_details(resource, name),
        )
    }

    /// 409 Conflict: `Operation cannot be fulfilled on pods "x": <err>`.
    pub fn conflict(resource: &GroupResource, name: &str, err: impl fmt::Display) -> Self {
        let message = format!(
            "Operation cannot be fulfilled on {resource} {}: {err}",
            go_quote(name)
        );
        Self::with_details(
            Status::failure(409, StatusReason::Conflict, message),
            resource_details(resource, name),
        )
    }

    /// 409 Conflict of server-side apply, carrying one cause per conflicting field.
    pub fn apply_conflict(causes: Vec<StatusCause>, message: impl Into<String>) -> Self {
        let details = StatusDetails {
            causes,
            ..StatusDetails::default()
        };
        Self::with_details(
            Status::failure(409, StatusReason::Conflict, message),
            details,
        )
    }

    /// 410 Gone (deprecated upstream in favour of [`StatusError::resource_expired`]).
    pub fn gone(message: impl Into<String>) -> Self {
        Self::from_status(Status::failure(410, StatusReason::Gone, message))
    }

    /// 410 Expired: the requested resourceVersion or continue token is too old.
    pub fn resource_expired(message: impl Into<String>) -> Self {
        Self::from_status(Status::failure(410, StatusReason::Expired, message))
    }

    /// 410 Expired from the watch cache: `too old resource version: <requested> (<oldest>)`,
    /// where `oldest` is one less than the oldest revision still held.
    pub fn too_old_resource_version(requested: u64, oldest: u64) -> Self {
        Self::resource_expired(format!("too old resource version: {requested} ({oldest})"))
    }

    /// 410 Expired for a watch whose start revision was compacted in storage.
    pub fn watch_resource_version_too_old() -> Self {
        Self::resource_expired("The resourceVersion for the provided watch is too old.")
    }

    /// 410 Expired for a list at a compacted revision.
    pub fn list_resource_version_too_old() -> Self {
        Self::resource_expired("The resourceVersion for the provided list is too old.")
    }

    /// 410 Expired for a continue token whose revision was compacted. With `new_token`, the
    /// message offers an inconsistent continuation and `metadata.continue` carries the token.
    pub fn continue_expired(new_token: Option<&str>) -> Self {
        const EXPIRED: &str = "The provided continue parameter is too old to display a consistent list \
            result. You can start a new list without the continue parameter";
        let Some(token) = new_token else {
            return Self::resource_expired(format!("{EXPIRED}."));
        };
        let message = format!(
            "{EXPIRED}, or use the continue token in this response to retrieve the remainder of \
             the results. Continuing with the provided token results in an inconsistent list - \
             objects that were created, modified, or deleted between the time the first chunk \
             was returned and now may show up in the list."
        );
        let mut error = Self::resource_expired(message);
        error.status.metadata.continue_token = token.to_string();
        error
    }

    /// 422 Invalid: `Pod "x" is invalid: <field errors>` with one cause per field error.
    /// Duplicate messages appear once. Several errors are wrapped in `[...]`.
    pub fn invalid(kind: &GroupKind, name: &str, errors: &[FieldError]) -> Self {
        let causes = errors
            .iter()
            .map(|error| StatusCause {
                reason: error.error_type.as_str().to_string(),
                message: error.body(),
                field: error.field.clone(),
            })
            .collect();
        let message = match aggregate_message(errors) {
            Some(summary) => format!("{kind} {} is invalid: {summary}", go_quote(name)),
            None => format!("{kind} {} is invalid", go_quote(name)),
        };
        let details = StatusDetails {
            name: name.to_string(),
            group: kind.group.clone(),
            kind: kind.kind.clone(),
            causes,
            ..StatusDetails::default()
        };
        Self::with_details(
            Status::failure(422, StatusReason::Invalid, message),
            details,
        )
    }

    /// 400 BadRequest with the message as given.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::from_status(Status::failure(400, StatusReason::BadRequest, message))
    }

    /// 429 TooManyRequests with the message as given and a retry delay (upstream's
    /// `NewTooManyRequests`). Details are always present.
    pub fn too_many_requests(message: impl Into<String>, retry_after_seconds: i32) -> Self {
        let details = StatusDetails {
            retry_after_seconds,
            ..StatusDetails::default()
        };
        Self::with_details(
            Status::failure(429, StatusReason::TooManyRequests, message),
            details,
        )
    }

    /// 429 TooManyRequests: `Too many requests: <message>`, without details (upstream's
    /// `NewTooManyRequestsError`).
    pub fn too_many_requests_error(message: &str) -> Self {
        Self::from_status(Status::failure(
            429,
            StatusReason::TooManyRequests,
            format!("Too many requests: {message}"),
        ))
    }

    /// 503 ServiceUnavailable with the message as given.
    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::from_status(Status::failure(
            503,
            StatusReason::ServiceUnavailable,
            message,
        ))
    }

    /// 405 MethodNotAllowed: `<action> is not supported on resources of kind "<resource>"`.
    pub fn method_not_supported(resource: &GroupResource, action: &str) -> Self {
        let message = format!(
            "{action} is not supported on resources of kind {}",
            go_quote(&resource.to_string())
        );
        Self::with_details(
            Status::failure(405, StatusReason::MethodNotAllowed, message),
            resource_details(resource, ""),
        )
    }

    /// 500 ServerTimeout (not 504): `The <operation> operation against <resource> could not
    /// be completed at this time, please try again.` Upstream stores the operation in
    /// `details.name`.
    pub fn server_timeout(
        resource: &GroupResource,
        operation: &str,
        retry_after_seconds: i32,
    ) -> Self {
        let message = format!(
            "The {operation} operation against {resource} could not be completed at this time, please try again."
        );
        let details = StatusDetails {
            retry_after_seconds,
            ..resource_details(resource, operation)
        };
        Self::with_details(
            Status::failure(500, StatusReason::ServerTimeout, message),
            details,
        )
    }

    /// [`StatusError::server_timeout`] naming a kind where the resource is unknown.
    pub fn server_timeout_for_kind(
        kind: &GroupKind,
        operation: &str,
        retry_after_seconds: i32,
    ) -> Self {
        let resource = GroupResource::new(kind.group.clone(), kind.kind.clone());
        Self::server_timeout(&resource, operation, retry_after_seconds)
    }

    /// 500 InternalError: `Internal error occurred: <err>`, with the error text as the only
    /// cause.
    pub fn internal_error(err: impl fmt::Display) -> Self {
        let text = err.to_string();
        let details = StatusDetails {
            causes: vec![StatusCause {
                message: text.clone(),
                ..StatusCause::default()
            }],
            ..StatusDetails::default()
        };
        Self::with_details(
            Status::failure(
                500,
                StatusReason::InternalError,
                format!("Internal error occurred: {text}"),
            ),
            details,
        )
    }

    /// 504 Timeout (gateway timeout): `Timeout: <message>`. Details are always present, so a
    /// zero delay serializes as `"details":{}` as upstream sends it.
    pub fn timeout(message: &str, retry_after_seconds: i32) -> Self {
        let details = StatusDetails {
            retry_after_seconds,
            ..StatusDetails::default()
        };
        Self::with_details(
            Status::failure(504, StatusReason::Timeout, format!("Timeout: {message}")),
            details,
        )
    }

    /// 504 Timeout from the request-timeout filter.
    pub fn request_timeout() -> Self {
        Self::timeout("request did not complete within the allotted timeout", 0)
    }

    /// 504 Timeout for a request at a resourceVersion newer than storage has reached:
    /// `Timeout: Too large resource version: <requested>, current: <current>`, with a
    /// `ResourceVersionTooLarge` cause.
    pub fn too_large_resource_version(
        requested: u64,
        current: u64,
        retry_after_seconds: i32,
    ) -> Self {
        let mut error = Self::timeout(
            &format!("Too large resource version: {requested}, current: {current}"),
            retry_after_seconds,
        );
        if let Some(details) = error.status.details.as_mut() {
            details.causes = vec![StatusCause {
                reason: cause_type::RESOURCE_VERSION_TOO_LARGE.to_string(),
                message: "Too large resource version".to_string(),
                field: String::new(),
            }];
        }
        error
    }

    /// 413 RequestEntityTooLarge: `Request entity too large: <message>`. The apiserver's body
    /// reader uses the message `limit is <bytes>`.
    pub fn request_entity_too_large(message: &str) -> Self {
        Self::from_status(Status::failure(
            413,
            StatusReason::RequestEntityTooLarge,
            format!("Request entity too large: {message}"),
        ))
    }

    /// 406 NotAcceptable: `only the following media types are accepted: <types>`.
    pub fn not_acceptable(accepted: &[&str]) -> Self {
        let message = format!(
            "only the following media types are accepted: {}",
            accepted.join(", ")
        );
        Self::from_status(Status::failure(406, StatusReason::NotAcceptable, message))
    }

    /// 415 UnsupportedMediaType: `the body of the request was in an unknown format -
    /// accepted media types include: <types>`.
    pub fn unsupported_media_type(accepted: &[&str]) -> Self {
        let message = format!(
            "the body of the request was in an unknown format - accepted media types include: {}",
            accepted.join(", ")
        );
        Self::from_status(Status::failure(
            415,
            StatusReason::UnsupportedMediaType,
            message,
        ))
    }

    /// Builds the error a client reports for a response that carried no Status, with
    /// upstream's per-code message and the verb and resource appended (upstream's
    /// `NewGenericServerResponse`). `verb` is the HTTP method.
    pub fn generic_server_response(
        code: i32,
        verb: &str,
        resource: &GroupResource,
        name: &str,
        server_message: &str,
        retry_after_seconds: i32,
        is_unexpected_response: bool,
    ) -> Self {
        let (reason, mut message) = generic_reason_and_message(code, verb, server_message);
        if !resource.is_empty() {
            let verb = verb.to_lowercase();
            message = if name.is_empty() {
                format!("{message} ({verb} {resource})")
            } else {
                format!("{message} ({verb} {resource} {name})")
            };
        }
        let causes = if is_unexpected_response {
            vec![StatusCause {
                reason: cause_type::UNEXPECTED_SERVER_RESPONSE.to_string(),
                message: server_message.to_string(),
                field: String::new(),
            }]
        } else {
            Vec::new()
        };
        let details = StatusDetails {
            causes,
            retry_after_seconds,
            ..resource_details(resource, name)
        };
        Self::with_details(Status::failure(code, reason, message), details)
    }

    /// Checks a reason, falling back to the code when the reason is not a known one, as
    /// upstream's `Is*` helpers do.
    fn reason_or_code(&self, reason: StatusReason, code: i32) -> bool {
        *self.reason() == reason || (!self.reason().is_known() && self.code() == code)
    }

    /// Returns whether this is a NotFound (or an unknown reason with code 404).
    pub fn is_not_found(&self) -> bool {
        self.reason_or_code(StatusReason::NotFound, 404)
    }
    /// Returns whether this is AlreadyExists (reason only).
    pub fn is_already_exists(&self) -> bool {
        *self.reason() == StatusReason::AlreadyExists
    }
    /// Returns whether this is a Conflict (or an unknown reason with code 409).
    pub fn is_conflict(&self) -> bool {
        self.reason_or_code(StatusReason::Conflict, 409)
    }
    /// Returns whether this is Invalid (or an unknown reason with code 422).
    pub fn is_invalid(&self) -> bool {
        self.reason_or_code(StatusReason::Invalid, 422)
    }
    /// Returns whether this is Gone (or an unknown reason with code 410).
    pub fn is_gone(&self) -> bool {
        self.reason_or_code(StatusReason::Gone, 410)
    }
    /// Returns whether this is Expired (reason only).
    pub fn is_resource_expired(&self) -> bool {
        *self.reason() == StatusReason::Expired
    }
    /// Returns whether this is NotAcceptable (or an unknown reason with code 406).
    pub fn is_not_acceptable(&self) -> bool {
        self.reason_or_code(StatusReason::NotAcceptable, 406)
    }
    /// Returns whether this is UnsupportedMediaType (or an unknown reason with code 415).
    pub fn is_unsupported_media_type(&self) -> bool {
        self.reason_or_code(StatusReason::UnsupportedMediaType, 415)
    }
    /// Returns whether this is MethodNotAllowed (or an unknown reason with code 405).
    pub fn is_method_not_supported(&self) -> bool {
        self.reason_or_code(StatusReason::MethodNotAllowed, 405)
    }
    /// Returns whether this is ServiceUnavailable (or an unknown reason with code 503).
    pub fn is_service_unavailable(&self) -> bool {
        self.reason_or_code(StatusReason::ServiceUnavailable, 503)
    }
    /// Returns whether this is BadRequest (or an unknown reason with code 400).
    pub fn is_bad_request(&self) -> bool {
        self.reason_or_code(StatusReason::BadRequest, 400)
    }
    /// Returns whether this is Unauthorized (or an unknown reason with code 401).
    pub fn is_unauthorized(&self) -> bool {
        self.reason_or_code(StatusReason::Unauthorized, 401)
    }
    /// Returns whether this is Forbidden (or an unknown reason with code 403).
    pub fn is_forbidden(&self) -> bool {
        self.reason_or_code(StatusReason::Forbidden, 403)
    }
    /// Returns whether this is a Timeout (or an unknown reason with code 504).
    pub fn is_timeout(&self) -> bool {
        self.reason_or_code(StatusReason::Timeout, 504)
    }
    /// Returns whether this is a ServerTimeout (reason only).
    pub fn is_server_timeout(&self) -> bool {
        *self.reason() == StatusReason::ServerTimeout
    }
    /// Returns whether this is an InternalError (or an unknown reason with code 500).
    pub fn is_internal_error(&self) -> bool {
        self.reason_or_code(StatusReason::InternalError, 500)
    }
    /// Returns whether this is TooManyRequests (or an unknown reason with code 429).
    pub fn is_too_many_requests(&self) -> bool {
        self.reason_or_code(StatusReason::TooManyRequests, 429)
    }
    /// Returns whether this is RequestEntityTooLarge (or an unknown reason with code 413).
    pub fn is_request_entity_too_large(&self) -> bool {
        self.reason_or_code(StatusReason::RequestEntityTooLarge, 413)
    }
    /// Returns whether this is a Timeout carrying a `ResourceVersionTooLarge` cause.
    pub fn is_too_large_resource_version(&self) -> bool {
        self.is_timeout() && self.cause(cause_type::RESOURCE_VERSION_TOO_LARGE).is_some()
    }
}

fn generic_reason_and_message(
    code: i32,
    verb: &str,
    server_message: &str,
) -> (StatusReason, String) {
    let fixed = |reason: StatusReason, message: &str| (reason, message.to_string());
    match code {
        409 => {
            let reason = if verb == "POST" {
                StatusReason::AlreadyExists
            } else {
                StatusReason::Conflict
            };
            fixed(reason, "the server reported a conflict")
        }
        404 => fixed(
            StatusReason::NotFound,
            "the server could not find the requested resource",
        ),
        400 => fixed(
            StatusReason::BadRequest,
            "the server rejected our request for an unknown reason",
        ),
        401 => fixed(
            StatusReason::Unauthorized,
            "the server has asked for the client to provide credentials",
        ),
        403 => fixed(StatusReason::Forbidden, server_message),
        406 if server_message.is_empty() || server_message == "unknown" => fixed(
            StatusReason::NotAcceptable,
            "the server was unable to respond with a content type that the client supports",
        ),
        406 => fixed(StatusReason::NotAcceptable, server_message),
        415 => fixed(StatusReason::UnsupportedMediaType, server_message),
        405 => fixed(
            StatusReason::MethodNotAllowed,
            "the server does not allow this method on the requested resource",
        ),
        422 => fixed(
            StatusReason::Invalid,
            "the server rejected our request due to an error in our request",
        ),
        503 => fixed(
            StatusReason::ServiceUnavailable,
            "the server is currently unable to handle the request",
        ),
        504 => fixed(
            StatusReason::Timeout,
            "the server was unable to return a response in the time allotted, but may still be processing the request",
        ),
        429 => fixed(
            StatusReason::TooManyRequests,
            "the server has received too many requests and has asked us to try again later",
        ),
        500.. => (
            StatusReason::InternalError,
            format!(
                "an error on the server ({}) has prevented the request from succeeding",
                go_quote(server_message)
            ),
        ),
        _ => (
            StatusReason::Unknown,
            format!(
                "the server responded with the status code {code} but did not return more information"
            ),
        ),
    }
}

/// A path from an object's root to one field, rendered as upstream's `field.Path`:
/// `spec.containers[0].image`, `metadata.labels[app]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath {
    segments: Vec<PathSegment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum PathSegment {
    Field(String),
    Subscript(String),
}

impl FieldPath {
    /// Starts a path at a top-level field.
    pub fn new(name: &str) -> Self {
        Self {
            segments: vec![PathSegment::Field(name.to_string())],
        }
    }

    /// Starts a path through several fields, such as `["metadata", "name"]`.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            segments: names
                .into_iter()
                .map(|name| PathSegment::Field(name.to_string()))
                .collect(),
        }
    }

    /// Returns the path extended by a field.
    pub fn child(&self, name: &str) -> Self {
        let mut path = self.clone();
        path.segments.push(PathSegment::Field(name.to_string()));
        path
    }

    /// Returns the path extended by a list index, rendered `[index]`.
    pub fn index(&self, index: usize) -> Self {
        let mut path = self.clone();
        path.segments
            .push(PathSegment::Subscript(index.to_string()));
        path
    }

    /// Returns the path extended by a map key, rendered `[key]` without quotes.
    pub fn key(&self, key: &str) -> Self {
        let mut path = self.clone();
        path.segments.push(PathSegment::Subscript(key.to_string()));
        path
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, segment) in self.segments.iter().enumerate() {
            match segment {
                PathSegment::Field(name) if name.is_empty() => {}
                PathSegment::Field(name) => {
                    if position > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                PathSegment::Subscript(subscript) => write!(f, "[{subscript}]")?,
            }
        }
        Ok(())
    }
}

/// Type of a field error. Its wire form is the `reason` of the Status cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldErrorType {
    /// `FieldValueNotFound`, "Not found".
    NotFound,
    /// `FieldValueRequired`, "Required value".
    Required,
    /// `FieldValueDuplicate`, "Duplicate value".
    Duplicate,
    /// `FieldValueInvalid`, "Invalid value".
    Invalid,
    /// `FieldValueNotSupported`, "Unsupported value".
    NotSupported,
    /// `FieldValueForbidden`, "Forbidden".
    Forbidden,
    /// `FieldValueTooLong`, "Too long".
    TooLong,
    /// `FieldValueTooMany`, "Too many".
    TooMany,
    /// `InternalError`, "Internal error".
    Internal,
    /// `FieldValueTypeInvalid`, "Invalid value".
    TypeInvalid,
}

impl FieldErrorType {
    /// Returns the cause type, such as `FieldValueRequired`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "FieldValueNotFound",
            Self::Required => "FieldValueRequired",
            Self::Duplicate => "FieldValueDuplicate",
            Self::Invalid => "FieldValueInvalid",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
            Self::Internal => "InternalError",
            Self::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    /// Returns the message prefix, such as `Required value`.
    pub fn message(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::Required => "Required value",
            Self::Duplicate => "Duplicate value",
            Self::Invalid | Self::TypeInvalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::Forbidden => "Forbidden",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
            Self::Internal => "Internal error",
        }
    }
}

/// The offending value of a field error, rendered as upstream's `%v`/`%q` rules do.
#[derive(Debug, Clone, PartialEq)]
pub enum BadValue {
    /// Not shown in the message.
    Omitted,
    /// Rendered `null`.
    Null,
    /// Rendered quoted, such as `"nginx:"`.
    String(String),
    /// Rendered in decimal.
    Int(i64),
    /// Rendered as Go's `%v` of a float64, such as `1.5` or `1e+06`.
    Float(f64),
    /// Rendered `true` or `false`.
    Bool(bool),
    /// Rendered verbatim, for values upstream prints with a `String()` method or `%#v`.
    Raw(String),
}

impl BadValue {
    fn render(&self) -> Option<String> {
        match self {
            Self::Omitted => None,
            Self::Null => Some("null".to_string()),
            Self::String(text) => Some(go_quote(text)),
            Self::Int(number) => Some(number.to_string()),
            Self::Float(number) => Some(go_format_float(*number)),
            Self::Bool(flag) => Some(flag.to_string()),
            Self::Raw(text) => Some(text.clone()),
        }
    }
}

impl From<&str> for BadValue {
    fn from(value: &str) -> Self {
        Self::String(value.to_string())
    }
}
impl From<String> for BadValue {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}
impl From<&String> for BadValue {
    fn from(value: &String) -> Self {
        Self::String(value.clone())
    }
}
impl From<i64> for BadValue {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}
impl From<i32> for BadValue {
    fn from(value: i32) -> Self {
        Self::Int(i64::from(value))
    }
}
impl From<u32> for BadValue {
    fn from(value: u32) -> Self {
        Self::Int(i64::from(value))
    }
}
impl From<f64> for BadValue {
    fn from(value: f64) -> Self {
        Self::Float(value)
    }
}
impl From<bool> for BadValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}
impl<T: Into<BadValue>> From<Option<T>> for BadValue {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Into::into)
    }
}
impl From<&Value> for BadValue {
    /// Scalars render as their Go counterparts. Arrays and objects render as compact JSON.
    fn from(value: &Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(flag) => Self::Bool(*flag),
            Value::Number(number) => match number.as_i64() {
                Some(integer) => Self::Int(integer),
                None => Self::Float(number.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(text) => Self::String(text.clone()),
            other => Self::Raw(other.to_string()),
        }
    }
}

/// One invalid field, as upstream's `field.Error`. Display is `<field>: <body>`, such as
/// `spec.containers[0].image: Required value`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// Error type.
    pub error_type: FieldErrorType,
    /// Rendered field path.
    pub field: String,
    /// The offending value.
    pub bad_value: BadValue,
    /// Extra explanation appended after the value.
    pub detail: String,
}

impl FieldError {
    fn build(
        error_type: FieldErrorType,
        path: &FieldPath,
        bad_value: BadValue,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            error_type,
            field: path.to_string(),
            bad_value,
            detail: detail.into(),
        }
    }

    /// "Required value", plus `: detail` when given.
    pub fn required(path: &FieldPath, detail: impl Into<String>) -> Self {
        Self::build(FieldErrorType::Required, path, BadValue::Omitted, detail)
    }

    /// `Invalid value: "x": detail`.
    pub fn invalid(
        path: &FieldPath,
        value: impl Into<BadValue>,
        detail: impl Into<String>,
    ) -> Self {
        Self::build(FieldErrorType::Invalid, path, value.into(), detail)
    }

    /// `Invalid value: "x": detail` with the `FieldValueTypeInvalid` cause type.
    pub fn type_invalid(
        path: &FieldPath,
        value: impl Into<BadValue>,
        detail: impl Into<String>,
    ) -> Self {
        Self::build(FieldErrorType::TypeInvalid, path, value.into(), detail)
    }

    /// `Unsupported value: "x": supported values: "a", "b"`. Without supported values the
    /// detail is left out.
    pub fn not_supported(path: &FieldPath, value: impl Into<BadValue>, supported: &[&str]) -> Self {
        let detail = if supported.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = supported.iter().map(|value| go_quote(value)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::build(FieldErrorType::NotSupported, path, value.into(), detail)
    }

    /// `Duplicate value: "x"`.
    pub fn duplicate(path: &FieldPath, value: impl Into<BadValue>) -> Self {
        Self::build(FieldErrorType::Duplicate, path, value.into(), "")
    }

    /// `Not found: "x"`.
    pub fn not_found(path: &FieldPath, value: impl Into<BadValue>) -> Self {
        Self::build(FieldErrorType::NotFound, path, value.into(), "")
    }

    /// `Forbidden: detail` (the value is never shown).
    pub fn forbidden(path: &FieldPath, detail: impl Into<String>) -> Self {
        Self::build(FieldErrorType::Forbidden, path, BadValue::Omitted, detail)
    }

    /// `Too long: may not be more than <max> bytes`, or `Too long: value is too long`
    /// without a limit. The value is never shown.
    pub fn too_long(path: &FieldPath, max_length: Option<usize>) -> Self {
        let detail = match max_length {
            Some(max) => format!("may not be more than {max} bytes"),
            None => "value is too long".to_string(),
        };
        Self::build(FieldErrorType::TooLong, path, BadValue::Omitted, detail)
    }

    /// `Too many: <actual>: must have at most <max> items`. A missing count or limit is
    /// left out (`has too many items` without a limit).
    pub fn too_many(path: &FieldPath, actual: Option<usize>, max: Option<usize>) -> Self {
        let detail = match max {
            Some(max) => format!("must have at most {max} items"),
            None => "has too many items".to_string(),
        };
        let value = actual.map_or(BadValue::Omitted, |count| {
            BadValue::Int(i64::try_from(count).unwrap_or(i64::MAX))
        });
        Self::build(FieldErrorType::TooMany, path, value, detail)
    }

    /// `Internal error: <err>`.
    pub fn internal(path: &FieldPath, err: impl fmt::Display) -> Self {
        Self::build(
            FieldErrorType::Internal,
            path,
            BadValue::Null,
            err.to_string(),
        )
    }

    /// Returns the message without the field, as upstream's `ErrorBody`. This is the
    /// message of the Status cause.
    pub fn body(&self) -> String {
        let hides_value = matches!(
            self.error_type,
            FieldErrorType::Required
                | FieldErrorType::Forbidden
                | FieldErrorType::TooLong
                | FieldErrorType::Internal
        );
        let mut body = self.error_type.message().to_string();
        if !hides_value && let Some(value) = self.bad_value.render() {
            body.push_str(": ");
            body.push_str(&value);
        }
        if !self.detail.is_empty() {
            body.push_str(": ");
            body.push_str(&self.detail);
        }
        body
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for FieldError {}

/// A list of field errors, as upstream's `field.ErrorList`.
pub type FieldErrorList = Vec<FieldError>;

/// Joins field errors as upstream's aggregate error does. Repeated messages appear once,
/// a single message is returned as is, and several are wrapped as `[a, b]`. Returns `None`
/// for no errors.
pub fn aggregate_message(errors: &[FieldError]) -> Option<String> {
    let mut messages: Vec<String> = Vec::new();
    for error in errors {
        let message = error.to_string();
        if !messages.contains(&message) {
            messages.push(message);
        }
    }
    match messages.len() {
        0 => None,
        1 => messages.pop(),
        _ => Some(format!("[{}]", messages.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pods() -> GroupResource {
        GroupResource::new("", "pods")
    }

    #[test]
    fn constructors_render_upstream_json() {
        let deployments = GroupResource::new("apps", "deployments");
        let cases: Vec<(StatusError, Value)> = vec![
            (
                StatusError::not_found(&pods(), "nginx"),
                json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                    "message":"pods \"nginx\" not found","reason":"NotFound",
                    "details":{"name":"nginx","kind":"pods"},"code":404}),
            ),
            (
                StatusError::not_found(&deployments, "web"),
                json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                    "message":"deployments.apps \"web\" not found","reason":"NotFound",
                    "details":{"name":"web","group":"apps","kind":"deployments"},"code":404}),
            ),
            (
                StatusError::already_exists(&pods(), "x"),
                json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                    "message":"pods \"x\" already exists","reason":"AlreadyExists",
                    "details":{"name":"x","kind":"pods"},"code":409}),
            ),
            (
                StatusError::bad_request("bad"),
                json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                    "message":"bad","reason":"BadRequest","code":400}),
            ),
            (
                StatusError::unauthorized(""),
                json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                    "message":"not authorized","reason":"Unauthorized","code":401}),
            ),
            (
                StatusError::timeout("request did not complete within requested timeout", 0),
                json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                    "message":"Timeout: request did not complete within requested timeout",
                    "reason":"Timeout","details":{},"code":504}),
            ),
            (
                StatusError::too_many_requests("slow down", 3),
                json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                    "message":"slow down","reason":"TooManyRequests",
                    "details":{"retryAfterSeconds":3},"code":429}),
            ),
            (
                StatusError::internal_error("boom"),
                json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                    "message":"Internal error occurred: boom","reason":"InternalError",
                    "details":{"causes":[{"message":"boom"}]},"code":500}),
            ),
            (
                StatusError::server_timeout(&pods(), "create", 2),
                json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                    "message":"The create operation against pods could not be completed at this time, please try again.",
                    "reason":"ServerTimeout","details":{"name":"create","kind":"pods","retryAfterSeconds":2},"code":500}),
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(error.to_json(), expected, "message {:?}", error.message());
        }
    }

    #[test]
    fn serialized_field_order_matches_upstream() {
        let body = String::from_utf8(StatusError::not_found(&pods(), "nginx").to_json_bytes())
            .expect("utf8");
        assert_eq!(
            body,
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"nginx\" not found","reason":"NotFound","details":{"name":"nginx","kind":"pods"},"code":404}"#
        );
    }

    #[test]
    fn constructor_codes_reasons_messages() {
        let resource = pods();
        let cases: Vec<(StatusError, i32, StatusReason, &str)> = vec![
            (
                StatusError::forbidden(&resource, "x", "User \"bob\" cannot get resource"),
                403,
                StatusReason::Forbidden,
                "pods \"x\" is forbidden: User \"bob\" cannot get resource",
            ),
            (
                StatusError::forbidden(&resource, "", "no"),
                403,
                StatusReason::Forbidden,
                "pods is forbidden: no",
            ),
            (
                StatusError::forbidden(&GroupResource::default(), "", "no"),
                403,
                StatusReason::Forbidden,
                "forbidden: no",
            ),
            (
                StatusError::conflict(
                    &resource,
                    "x",
                    "the object has been modified; please apply your changes to the latest version and try again",
                ),
                409,
                StatusReason::Conflict,
                "Operation cannot be fulfilled on pods \"x\": the object has been modified; please apply your changes to the latest version and try again",
            ),
            (
                StatusError::generate_name_conflict(&resource, "web-abcde", 1),
                409,
                StatusReason::AlreadyExists,
                "pods \"web-abcde\" already exists, the server was not able to generate a unique name for the object",
            ),
            (
                StatusError::method_not_supported(&GroupResource::new("", "bindings"), "get"),
                405,
                StatusReason::MethodNotAllowed,
                "get is not supported on resources of kind \"bindings\"",
            ),
            (StatusError::gone("gone"), 410, StatusReason::Gone, "gone"),
            (
                StatusError::too_old_resource_version(5, 9),
                410,
                StatusReason::Expired,
                "too old resource version: 5 (9)",
            ),
            (
                StatusError::watch_resource_version_too_old(),
                410,
                StatusReason::Expired,
                "The resourceVersion for the provided watch is too old.",
            ),
            (
                StatusError::list_resource_version_too_old(),
                410,
                StatusReason::Expired,
                "The resourceVersion for the provided list is too old.",
            ),
            (
                StatusError::continue_expired(None),
                410,
                StatusReason::Expired,
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
            ),
            (
                StatusError::request_entity_too_large("limit is 3145728"),
                413,
                StatusReason::RequestEntityTooLarge,
                "Request entity too large: limit is 3145728",
            ),
            (
                StatusError::unsupported_media_type(&["application/json", "application/yaml"]),
                415,
                StatusReason::UnsupportedMediaType,
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml",
            ),
            (
                StatusError::not_acceptable(&["application/json"]),
                406,
                StatusReason::NotAcceptable,
                "only the following media types are accepted: application/json",
            ),
            (
                StatusError::too_many_requests_error("wait"),
                429,
                StatusReason::TooManyRequests,
                "Too many requests: wait",
            ),
            (
                StatusError::service_unavailable("down"),
                503,
                StatusReason::ServiceUnavailable,
                "down",
            ),
            (
                StatusError::request_timeout(),
                504,
                StatusReason::Timeout,
                "Timeout: request did not complete within the allotted timeout",
            ),
            (
                StatusError::too_large_resource_version(10, 7, 1),
                504,
                StatusReason::Timeout,
                "Timeout: Too large resource version: 10, current: 7",
            ),
            (
                StatusError::server_timeout_for_kind(&GroupKind::new("", "Pod"), "get", 0),
                500,
                StatusReason::ServerTimeout,
                "The get operation against Pod could not be completed at this time, please try again.",
            ),
        ];
        for (error, code, reason, message) in cases {
            assert_eq!(error.code(), code, "{message}");
            assert_eq!(error.reason(), &reason, "{message}");
            assert_eq!(error.message(), message);
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn continue_expired_with_token() {
        let error = StatusError::continue_expired(Some("tok"));
        assert_eq!(error.status().metadata.continue_token, "tok");
        assert_eq!(error.to_json()["metadata"], json!({"continue": "tok"}));
        assert!(error.message().ends_with("may show up in the list."));
        assert!(
            error
                .message()
                .contains("or use the continue token in this response")
        );
    }

    #[test]
    fn too_large_resource_version_cause() {
        let error = StatusError::too_large_resource_version(10, 7, 1);
        assert!(error.is_too_large_resource_version());
        assert_eq!(error.retry_after_seconds(), Some(1));
        assert_eq!(
            error.to_json()["details"],
            json!({"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}],"retryAfterSeconds":1})
        );
        assert!(!StatusError::request_timeout().is_too_large_resource_version());
    }

    #[test]
    fn invalid_builds_message_and_causes() {
        let containers = FieldPath::new("spec").child("containers");
        let errors = vec![
            FieldError::required(&containers.index(0).child("image"), ""),
            FieldError::invalid(
                &FieldPath::from_names(["metadata", "name"]),
                "Bad_Name",
                "a lowercase RFC 1123 subdomain",
            ),
        ];
        let error = StatusError::invalid(&GroupKind::new("", "Pod"), "Bad_Name", &errors);
        assert_eq!(error.code(), 422);
        assert_eq!(
            error.message(),
            "Pod \"Bad_Name\" is invalid: [spec.containers[0].image: Required value, metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain]"
        );
        assert_eq!(
            error.to_json()["details"],
            json!({"name":"Bad_Name","kind":"Pod","causes":[
                {"reason":"FieldValueRequired","message":"Required value","field":"spec.containers[0].image"},
                {"reason":"FieldValueInvalid","message":"Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain","field":"metadata.name"}
            ]})
        );

        let single =
            StatusError::invalid(&GroupKind::new("apps", "Deployment"), "web", &errors[..1]);
        assert_eq!(
            single.message(),
            "Deployment.apps \"web\" is invalid: spec.containers[0].image: Required value"
        );
        assert_eq!(
            single.details().map(|details| details.group.as_str()),
            Some("apps")
        );

        let empty = StatusError::invalid(&GroupKind::new("", "Pod"), "x", &[]);
        assert_eq!(empty.message(), "Pod \"x\" is invalid");

        let repeated = StatusError::invalid(
            &GroupKind::new("", "Pod"),
            "x",
            &[errors[0].clone(), errors[0].clone()],
        );
        assert_eq!(
            repeated.message(),
            "Pod \"x\" is invalid: spec.containers[0].image: Required value"
        );
        assert_eq!(repeated.causes().len(), 2);
    }

    #[test]
    fn field_path_rendering() {
        let cases = [
            (
                FieldPath::new("spec")
                    .child("containers")
                    .index(0)
                    .child("image"),
                "spec.containers[0].image",
            ),
            (
                FieldPath::new("metadata").child("labels").key("app"),
                "metadata.labels[app]",
            ),
            (FieldPath::from_names(["metadata", "name"]), "metadata.name"),
            (FieldPath::new("items").index(2).index(1), "items[2][1]"),
            (FieldPath::new("fieldValidation"), "fieldValidation"),
        ];
        for (path, expected) in cases {
            assert_eq!(path.to_string(), expected);
        }
    }

    #[test]
    fn field_error_messages() {
        let path = FieldPath::new("spec").child("x");
        let cases = [
            (
                FieldError::required(&path, ""),
                "FieldValueRequired",
                "spec.x: Required value",
            ),
            (
                FieldError::required(&path, "must be set"),
                "FieldValueRequired",
                "spec.x: Required value: must be set",
            ),
            (
                FieldError::invalid(&path, "x", "detail"),
                "FieldValueInvalid",
                "spec.x: Invalid value: \"x\": detail",
            ),
            (
                FieldError::invalid(&path, 5_i64, ""),
                "FieldValueInvalid",
                "spec.x: Invalid value: 5",
            ),
            (
                FieldError::invalid(&path, -1_i32, "must be non-negative"),
                "FieldValueInvalid",
                "spec.x: Invalid value: -1: must be non-negative",
            ),
            (
                FieldError::invalid(&path, true, ""),
                "FieldValueInvalid",
                "spec.x: Invalid value: true",
            ),
            (
                FieldError::invalid(&path, 1.5_f64, ""),
                "FieldValueInvalid",
                "spec.x: Invalid value: 1.5",
            ),
            (
                FieldError::invalid(&path, None::<String>, ""),
                "FieldValueInvalid",
                "spec.x: Invalid value: null",
            ),
            (
                FieldError::not_supported(&path, "x", &["a", "b"]),
                "FieldValueNotSupported",
                "spec.x: Unsupported value: \"x\": supported values: \"a\", \"b\"",
            ),
            (
                FieldError::not_supported(&path, "x", &[]),
                "FieldValueNotSupported",
                "spec.x: Unsupported value: \"x\"",
            ),
            (
                FieldError::duplicate(&path, "a"),
                "FieldValueDuplicate",
                "spec.x: Duplicate value: \"a\"",
            ),
            (
                FieldError::not_found(&path, "a"),
                "FieldValueNotFound",
                "spec.x: Not found: \"a\"",
            ),
            (
                FieldError::forbidden(&path, "may not be set"),
                "FieldValueForbidden",
                "spec.x: Forbidden: may not be set",
            ),
            (
                FieldError::too_long(&path, Some(63)),
                "FieldValueTooLong",
                "spec.x: Too long: may not be more than 63 bytes",
            ),
            (
                FieldError::too_long(&path, None),
                "FieldValueTooLong",
                "spec.x: Too long: value is too long",
            ),
            (
                FieldError::too_many(&path, Some(5), Some(3)),
                "FieldValueTooMany",
                "spec.x: Too many: 5: must have at most 3 items",
            ),
            (
                FieldError::too_many(&path, None, Some(3)),
                "FieldValueTooMany",
                "spec.x: Too many: must have at most 3 items",
            ),
            (
                FieldError::too_many(&path, Some(5), None),
                "FieldValueTooMany",
                "spec.x: Too many: 5: has too many items",
            ),
            (
                FieldError::internal(&path, "oops"),
                "InternalError",
                "spec.x: Internal error: oops",
            ),
            (
                FieldError::type_invalid(&path, "x", "expected int"),
                "FieldValueTypeInvalid",
                "spec.x: Invalid value: \"x\": expected int",
            ),
        ];
        for (error, cause, message) in cases {
            assert_eq!(error.error_type.as_str(), cause, "{message}");
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn bad_value_from_json() {
        assert_eq!(BadValue::from(&json!("a")), BadValue::String("a".into()));
        assert_eq!(BadValue::from(&json!(3)), BadValue::Int(3));
        assert_eq!(BadValue::from(&json!(2.5)), BadValue::Float(2.5));
        assert_eq!(BadValue::from(&json!(null)), BadValue::Null);
        assert_eq!(
            BadValue::from(&json!(["a"])),
            BadValue::Raw("[\"a\"]".into())
        );
    }

    #[test]
    fn go_float_formatting() {
        let cases = [
            (1.5, "1.5"),
            (100000.0, "100000"),
            (1000000.0, "1e+06"),
            (123456789.0, "1.23456789e+08"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.25, "-2.25"),
            (0.0, "0"),
            (1e21, "1e+21"),
        ];
        for (value, expected) in cases {
            assert_eq!(go_format_float(value), expected, "value {value}");
        }
        assert_eq!(go_format_float32(0.1), "0.1");
        assert_eq!(go_format_float32(1.5e7), "1.5e+07");
    }

    #[test]
    fn go_quote_escapes() {
        let cases = [
            ("plain", "\"plain\""),
            ("a\"b", "\"a\\\"b\""),
            ("back\\slash", "\"back\\\\slash\""),
            ("line\nbreak\t", "\"line\\nbreak\\t\""),
            ("\u{0}", "\"\\x00\""),
            ("\u{7f}", "\"\\x7f\""),
            ("\u{ad}", "\"\\u00ad\""),
            ("héllo ✓", "\"héllo ✓\""),
            ("\u{feff}", "\"\\ufeff\""),
        ];
        for (input, expected) in cases {
            assert_eq!(go_quote(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn status_round_trip_and_client_decode() {
        let original = StatusError::invalid(
            &GroupKind::new("", "Pod"),
            "p",
            &[FieldError::required(&FieldPath::new("spec"), "")],
        );
        let decoded = StatusError::from_json(&original.to_json_bytes()).expect("decode");
        assert_eq!(decoded, original);

        let sparse = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"m","reason":"SomethingNew","details":{"causes":null},"code":418}"#;
        let decoded = StatusError::from_json(sparse).expect("decode");
        assert_eq!(
            decoded.reason(),
            &StatusReason::Other("SomethingNew".into())
        );
        assert_eq!(decoded.code(), 418);
        assert!(decoded.causes().is_empty());
        assert_eq!(decoded.to_json()["reason"], "SomethingNew");

        let minimal = StatusError::from_json(br#"{"code":404}"#).expect("decode");
        assert!(minimal.is_not_found());
        assert_eq!(minimal.reason(), &StatusReason::Unknown);
    }

    #[test]
    fn success_status() {
        assert_eq!(
            serde_json::to_value(Status::success()).expect("json"),
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":200})
        );
    }

    #[test]
    fn predicates_follow_reason_then_code() {
        let resource = pods();
        assert!(StatusError::not_found(&resource, "a").is_not_found());
        assert!(!StatusError::not_found(&resource, "a").is_conflict());
        assert!(StatusError::already_exists(&resource, "a").is_already_exists());
        assert!(!StatusError::already_exists(&resource, "a").is_conflict());
        assert!(StatusError::conflict(&resource, "a", "x").is_conflict());
        assert!(StatusError::resource_expired("x").is_resource_expired());
        assert!(!StatusError::resource_expired("x").is_gone());
        assert!(StatusError::gone("x").is_gone());
        assert!(StatusError::invalid(&GroupKind::new("", "Pod"), "a", &[]).is_invalid());
        assert!(StatusError::bad_request("x").is_bad_request());
        assert!(StatusError::unauthorized("x").is_unauthorized());
        assert!(StatusError::forbidden(&resource, "a", "x").is_forbidden());
        assert!(StatusError::request_timeout().is_timeout());
        assert!(StatusError::server_timeout(&resource, "get", 0).is_server_timeout());
        assert!(!StatusError::server_timeout(&resource, "get", 0).is_internal_error());
        assert!(StatusError::internal_error("x").is_internal_error());
        assert!(StatusError::too_many_requests("x", 1).is_too_many_requests());
        assert!(StatusError::service_unavailable("x").is_service_unavailable());
        assert!(StatusError::method_not_supported(&resource, "x").is_method_not_supported());
        assert!(StatusError::not_acceptable(&[]).is_not_acceptable());
        assert!(StatusError::unsupported_media_type(&[]).is_unsupported_media_type());
        assert!(StatusError::request_entity_too_large("x").is_request_entity_too_large());

        let other_reason = StatusError::from_status(Status::failure(
            404,
            StatusReason::Other("Custom".into()),
            "m",
        ));
        assert!(other_reason.is_not_found());
        let known_reason_other_code =
            StatusError::from_status(Status::failure(404, StatusReason::Conflict, "m"));
        assert!(!known_reason_other_code.is_not_found());
    }

    #[test]
    fn generic_server_responses() {
        let resource = pods();
        let cases = [
            (
                404,
                "GET",
                "x",
                "",
                "the server could not find the requested resource (get pods x)",
                StatusReason::NotFound,
            ),
            (
                409,
                "POST",
                "x",
                "",
                "the server reported a conflict (post pods x)",
                StatusReason::AlreadyExists,
            ),
            (
                409,
                "PUT",
                "",
                "",
                "the server reported a conflict (put pods)",
                StatusReason::Conflict,
            ),
            (
                403,
                "GET",
                "x",
                "denied",
                "denied (get pods x)",
                StatusReason::Forbidden,
            ),
            (
                406,
                "GET",
                "",
                "",
                "the server was unable to respond with a content type that the client supports (get pods)",
                StatusReason::NotAcceptable,
            ),
            (
                502,
                "GET",
                "",
                "bad gateway",
                "an error on the server (\"bad gateway\") has prevented the request from succeeding (get pods)",
                StatusReason::InternalError,
            ),
            (
                418,
                "GET",
                "",
                "",
                "the server responded with the status code 418 but did not return more information (get pods)",
                StatusReason::Unknown,
            ),
        ];
        for (code, verb, name, server_message, message, reason) in cases {
            let error = StatusError::generic_server_response(
                code,
                verb,
                &resource,
                name,
                server_message,
                0,
                false,
            );
            assert_eq!(error.message(), message);
            assert_eq!(error.reason(), &reason, "{message}");
            assert_eq!(error.code(), code);
        }
        let unexpected = StatusError::generic_server_response(
            500,
            "GET",
            &GroupResource::default(),
            "",
            "<html>",
            0,
            true,
        );
        assert_eq!(
            unexpected.message(),
            "an error on the server (\"<html>\") has prevented the request from succeeding"
        );
        assert_eq!(
            unexpected
                .cause(cause_type::UNEXPECTED_SERVER_RESPONSE)
                .map(|cause| cause.message.as_str()),
            Some("<html>")
        );
    }

    #[test]
    fn aggregate_message_cases() {
        let path = FieldPath::new("a");
        assert_eq!(aggregate_message(&[]), None);
        assert_eq!(
            aggregate_message(&[FieldError::required(&path, "")]),
            Some("a: Required value".to_string())
        );
        assert_eq!(
            aggregate_message(&[
                FieldError::required(&path, ""),
                FieldError::forbidden(&path, "no")
            ]),
            Some("[a: Required value, a: Forbidden: no]".to_string())
        );
    }
}
