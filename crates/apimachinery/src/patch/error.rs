//! The error type shared by every patch format, with the HTTP status the kube-apiserver
//! returns for each failure.

use thiserror::Error;

/// Maximum number of operations accepted in one JSON patch (upstream's
/// `maxJSONPatchOperations` in the apiserver's patch handler).
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

/// A patch that could not be decoded, created or applied.
///
/// Messages name the failing operation or field path. [`PatchError::status_code`] gives
/// the HTTP status the kube-apiserver uses for the same failure.
#[derive(Debug, Error)]
pub enum PatchError {
    /// A document handed to a patch function is not a JSON object.
    #[error("invalid JSON document: the {role} document must be a JSON object, got {actual}")]
    InvalidDocument {
        /// Role of the invalid input: `original`, `modified`, `current` or `patch`.
        role: &'static str,
        /// JSON kind of the value that was passed.
        actual: &'static str,
    },

    /// The request body is not valid JSON.
    #[error("invalid JSON in patch: {0}")]
    InvalidJson(#[source] serde_json::Error),

    /// A JSON patch body is not an array of operations, or one operation is malformed.
    #[error("invalid JSON patch: {0}")]
    InvalidJsonPatch(String),

    /// A JSON patch has more operations than [`MAX_JSON_PATCH_OPERATIONS`].
    #[error(
        "the allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {count}"
    )]
    TooManyOperations {
        /// Number of operations in the rejected patch.
        count: usize,
    },

    /// One JSON patch operation could not be applied; no operation took effect.
    #[error("JSON patch operation {index} ({op} at path \"{path}\") failed: {reason}")]
    JsonPatchOperationFailed {
        /// Zero-based index of the failing operation in the patch array.
        index: usize,
        /// Operation name: add, remove, replace, move, copy or test.
        op: &'static str,
        /// The operation's `path` as a JSON pointer.
        path: String,
        /// Reason the operation failed.
        reason: String,
    },

    /// A JSON merge patch is not a JSON object.
    #[error("invalid JSON merge patch: a merge patch must be a JSON object, got {actual}")]
    InvalidMergePatch {
        /// JSON kind of the patch value.
        actual: &'static str,
    },

    /// A `$deleteFromPrimitiveList/<field>` key is malformed or its value is not a list.
    #[error("invalid patch format of primitive list at {path}: {reason}")]
    BadPrimitiveListDirective {
        /// Field path of the map holding the directive.
        path: String,
        /// Description of the problem.
        reason: String,
    },

    /// A `$retainKeys` directive is not a list, or the patch sets a field it does not list.
    #[error("invalid patch format of retainKeys at {path}: {reason}")]
    BadRetainKeysDirective {
        /// Field path of the map holding the directive.
        path: String,
        /// Description of the problem.
        reason: String,
    },

    /// A `$setElementOrder/<field>` directive is malformed or disagrees with the patch list.
    #[error("invalid patch format of setElementOrder list at {path}: {reason}")]
    BadSetElementOrderDirective {
        /// Field path of the list the directive orders.
        path: String,
        /// Description of the problem.
        reason: String,
    },

    /// A `$patch` directive has a value other than `replace`, `delete` or `merge`, or a
    /// value not allowed where it appears.
    #[error("unknown or unsupported patch directive {directive} at {path}")]
    BadPatchDirective {
        /// Field path of the map holding the directive.
        path: String,
        /// The directive value as JSON.
        directive: String,
    },

    /// A list contains lists, which strategic merge patch does not support.
    #[error("lists of lists are not supported (at {path})")]
    ListOfLists {
        /// Field path of the list.
        path: String,
    },

    /// A merged list mixes element kinds (for example strings and objects).
    #[error("list element types are not identical at {path}")]
    MixedListElements {
        /// Field path of the list.
        path: String,
    },

    /// An item of a list merged by key lacks the merge key.
    #[error("map: {item} does not contain declared merge key: {merge_key} (at {path})")]
    MissingMergeKey {
        /// Field path of the list.
        path: String,
        /// The declared merge key.
        merge_key: String,
        /// The offending item as JSON.
        item: String,
    },

    /// A list of objects has the `merge` strategy but no merge key.
    #[error("cannot merge lists without merge key for {path}")]
    NoMergeKey {
        /// Field path of the list.
        path: String,
    },

    /// A value has the wrong JSON kind where the patch format fixes one.
    #[error("expected {expected} at {path}, but received {actual}")]
    UnexpectedType {
        /// Field path of the value.
        path: String,
        /// Expected JSON kind.
        expected: &'static str,
        /// JSON kind that was found.
        actual: &'static str,
    },

    /// Patch metadata declares a strategy combination upstream rejects.
    #[error("unexpected patch strategy {strategy:?} for field {field}")]
    UnexpectedStrategy {
        /// The field whose metadata is wrong.
        field: String,
        /// The declared `x-kubernetes-patch-strategy` value.
        strategy: String,
    },

    /// Two patch directives that must agree do not (three-way patch creation).
    #[error("conflicting {directive} directives at {path}: {left} and {right}")]
    DirectiveMismatch {
        /// Field path of the map holding the directives.
        path: String,
        /// Directive name.
        directive: String,
        /// First value as JSON.
        left: String,
        /// Second value as JSON.
        right: String,
    },

    /// A three-way patch changes a field that was also changed, differently, from the
    /// original to the current object, and overwriting was not allowed.
    #[error("patch:\n{patch}\nconflicts with changes made from original to current:\n{changed}")]
    Conflict {
        /// The computed patch as JSON.
        patch: String,
        /// The original-to-current changes as JSON.
        changed: String,
    },

    /// A computed patch changes a key that a precondition requires unchanged.
    #[error("precondition failed for: {patch}")]
    PreconditionFailed {
        /// The computed patch as JSON.
        patch: String,
    },
}

impl PatchError {
    /// Returns the HTTP status code the kube-apiserver returns for this error.
    ///
    /// - 400: an undecodable or malformed patch.
    /// - 413: too many JSON patch operations.
    /// - 422: an operation that cannot apply, or a list of lists.
    /// - 409: conflicts and failed preconditions.
    /// - 500: the merge failures upstream does not classify.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::InvalidDocument { .. }
            | Self::InvalidJson(_)
            | Self::InvalidJsonPatch(_)
            | Self::InvalidMergePatch { .. }
            | Self::BadPrimitiveListDirective { .. }
            | Self::BadRetainKeysDirective { .. }
            | Self::BadSetElementOrderDirective { .. } => 400,
            Self::TooManyOperations { .. } => 413,
            Self::JsonPatchOperationFailed { .. } | Self::ListOfLists { .. } => 422,
            Self::Conflict { .. } | Self::PreconditionFailed { .. } => 409,
            Self::BadPatchDirective { .. }
            | Self::MixedListElements { .. }
            | Self::MissingMergeKey { .. }
            | Self::NoMergeKey { .. }
            | Self::UnexpectedType { .. }
            | Self::UnexpectedStrategy { .. }
            | Self::DirectiveMismatch { .. } => 500,
        }
    }
}

/// Returns the JSON kind of `value` as used in error messages.
pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "list",
        serde_json::Value::Object(_) => "map",
    }
}
