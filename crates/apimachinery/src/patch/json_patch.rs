//! JSON Patch (RFC 6902), the `application/json-patch+json` patch type.
//!
//! Entry point: [`apply_json_patch`]. Operations are decoded one by one so that a bad
//! operation is reported with its index, and applied with the `json-patch` crate on a
//! copy of the document, so a failed patch leaves nothing half-applied.

use serde_json::Value;

use super::error::{MAX_JSON_PATCH_OPERATIONS, PatchError};

/// Applies the JSON patch in `patch_bytes` (a JSON array of operations) to `doc` and
/// returns the patched document.
///
/// # Errors
///
/// - [`PatchError::InvalidJson`] or [`PatchError::InvalidJsonPatch`] when the body is not
///   JSON, not an array, or an operation is malformed (the message names its index);
/// - [`PatchError::TooManyOperations`] for more than [`MAX_JSON_PATCH_OPERATIONS`]
///   operations, checked before any operation is decoded, as upstream does;
/// - [`PatchError::JsonPatchOperationFailed`] with the index, operation and path of the
///   first operation that cannot apply (a missing path, a failed `test`, ...).
pub fn apply_json_patch(doc: &Value, patch_bytes: &[u8]) -> Result<Value, PatchError> {
    let operations = decode_json_patch(patch_bytes)?;

    let mut patched = doc.clone();
    // `patch_unsafe` skips the crate's undo log; the caller's document is untouched
    // because only the copy is modified.
    json_patch::patch_unsafe(&mut patched, &operations).map_err(|err| {
        let op = operations
            .get(err.operation)
            .map(operation_name)
            .unwrap_or("unknown");
        PatchError::JsonPatchOperationFailed {
            index: err.operation,
            op,
            path: err.path.to_string(),
            reason: err.kind.to_string(),
        }
    })?;
    Ok(patched)
}

/// Decodes a JSON patch body into its operations without applying them.
///
/// # Errors
///
/// The decoding errors of [`apply_json_patch`].
pub fn decode_json_patch(
    patch_bytes: &[u8],
) -> Result<Vec<json_patch::PatchOperation>, PatchError> {
    let body: Value = serde_json::from_slice(patch_bytes).map_err(PatchError::InvalidJson)?;
    let Value::Array(raw_operations) = body else {
        return Err(PatchError::InvalidJsonPatch(format!(
            "a JSON patch must be a JSON array of operations, got {}",
            super::error::json_kind(&body)
        )));
    };

    if raw_operations.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(PatchError::TooManyOperations {
            count: raw_operations.len(),
        });
    }

    raw_operations
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            serde_json::from_value(raw)
                .map_err(|err| PatchError::InvalidJsonPatch(format!("operation {index}: {err}")))
        })
        .collect()
}

fn operation_name(operation: &json_patch::PatchOperation) -> &'static str {
    match operation {
        json_patch::PatchOperation::Add(_) => "add",
        json_patch::PatchOperation::Remove(_) => "remove",
        json_patch::PatchOperation::Replace(_) => "replace",
        json_patch::PatchOperation::Move(_) => "move",
        json_patch::PatchOperation::Copy(_) => "copy",
        json_patch::PatchOperation::Test(_) => "test",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}
        })
    }

    #[test]
    fn json_patch_applies_operations_in_order() {
        let cases = [
            (
                "add label",
                r#"[{"op":"add","path":"/metadata/labels/tier","value":"front"}]"#,
                json!({"app": "web", "tier": "front"}),
                "/metadata/labels",
            ),
            (
                "replace then test",
                r#"[{"op":"replace","path":"/metadata/labels/app","value":"api"},
                    {"op":"test","path":"/metadata/labels/app","value":"api"}]"#,
                json!({"app": "api"}),
                "/metadata/labels",
            ),
            (
                "remove label",
                r#"[{"op":"remove","path":"/metadata/labels/app"}]"#,
                json!({}),
                "/metadata/labels",
            ),
            (
                "append container",
                r#"[{"op":"add","path":"/spec/containers/-","value":{"name":"sidecar"}}]"#,
                json!([{"name": "nginx", "image": "nginx:1.25"}, {"name": "sidecar"}]),
                "/spec/containers",
            ),
            (
                "copy and move",
                r#"[{"op":"copy","from":"/metadata/name","path":"/metadata/labels/name"},
                    {"op":"move","from":"/metadata/labels/app","path":"/metadata/labels/role"}]"#,
                json!({"name": "web", "role": "web"}),
                "/metadata/labels",
            ),
        ];
        for (name, patch, expected, pointer) in cases {
            let patched = apply_json_patch(&pod(), patch.as_bytes())
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(patched.pointer(pointer), Some(&expected), "{name}");
        }
    }

    #[test]
    fn json_patch_reports_failing_operation() {
        let patch = br#"[
            {"op":"add","path":"/metadata/labels/tier","value":"front"},
            {"op":"remove","path":"/spec/missing"}
        ]"#;
        let err = apply_json_patch(&pod(), patch).expect_err("remove of a missing path");
        match &err {
            PatchError::JsonPatchOperationFailed {
                index, op, path, ..
            } => {
                assert_eq!(*index, 1);
                assert_eq!(*op, "remove");
                assert_eq!(path, "/spec/missing");
            }
            other => panic!("unexpected error {other:?}"),
        }
        assert_eq!(err.status_code(), 422);
        assert!(err.to_string().contains("operation 1"), "{err}");
    }

    #[test]
    fn json_patch_failed_test_leaves_document_untouched() {
        let doc = pod();
        let patch = br#"[{"op":"remove","path":"/metadata/labels"},
                          {"op":"test","path":"/metadata/name","value":"other"}]"#;
        let err = apply_json_patch(&doc, patch).expect_err("test must fail");
        assert!(matches!(
            err,
            PatchError::JsonPatchOperationFailed {
                index: 1,
                op: "test",
                ..
            }
        ));
        assert_eq!(doc, pod());
    }

    #[test]
    fn json_patch_rejects_malformed_bodies() {
        let cases: [(&str, &[u8], u16); 4] = [
            ("not json", b"{", 400),
            ("object body", br#"{"op":"add"}"#, 400),
            ("unknown op", br#"[{"op":"frobnicate","path":"/a"}]"#, 400),
            ("missing path", br#"[{"op":"remove"}]"#, 400),
        ];
        for (name, body, status) in cases {
            let err = apply_json_patch(&pod(), body).expect_err(name);
            assert_eq!(err.status_code(), status, "{name}: {err}");
        }
        let err = apply_json_patch(
            &pod(),
            br#"[{"op":"add","path":"/a","value":1},{"op":"x"}]"#,
        )
        .expect_err("bad second op");
        assert!(err.to_string().contains("operation 1"), "{err}");
    }

    #[test]
    fn json_patch_limits_operation_count() {
        let op = r#"{"op":"test","path":"/metadata/name","value":"web"}"#;
        let at_limit = format!("[{}]", vec![op; MAX_JSON_PATCH_OPERATIONS].join(","));
        assert!(apply_json_patch(&pod(), at_limit.as_bytes()).is_ok());

        let over = format!("[{}]", vec![op; MAX_JSON_PATCH_OPERATIONS + 1].join(","));
        let err = apply_json_patch(&pod(), over.as_bytes()).expect_err("over the limit");
        assert!(matches!(
            err,
            PatchError::TooManyOperations { count: 10_001 }
        ));
        assert_eq!(err.status_code(), 413);
    }
}
