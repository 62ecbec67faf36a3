//! The stored form of objects and the resourceVersion they are served with.
//!
//! Objects are stored as compact JSON without `metadata.resourceVersion`: the version
//! is the key's mod revision, known only after the write, as upstream's etcd3 store
//! does it. On the way out the version is put back. Reading a list of 10,000 objects
//! must not parse each one, so [`with_resource_version`] splices the field into the
//! stored bytes right after the top-level `"metadata":{`, and parses only when the
//! stored bytes do not start with the layout the store writes.

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::Value;

/// Metadata fields the store omits when empty, as upstream's encoding does (Go's
/// `omitempty`), so that removing the last label leaves no `labels: {}` behind.
const OMITTED_WHEN_EMPTY: [&str; 5] = [
    "labels",
    "annotations",
    "finalizers",
    "ownerReferences",
    "managedFields",
];

/// Metadata fields the server derives on read and never stores.
const DERIVED_ON_READ: [&str; 2] = ["resourceVersion", "selfLink"];

fn is_empty_collection(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.is_empty(),
        Value::Array(list) => list.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

/// Encodes an object for storage with `apiVersion`, `kind` and `metadata` first, the
/// layout [`with_resource_version`] relies on. Drops the metadata fields derived on
/// read and the empty ones, and writes straight from `object` without a copy.
pub fn encode_for_storage(object: &Value) -> Bytes {
    let Some(map) = object.as_object() else {
        return exact_bytes(serde_json::to_vec(object).unwrap_or_default());
    };
    let leading = ["apiVersion", "kind", "metadata"];
    let fields = leading
        .iter()
        .filter_map(|field| map.get_key_value(*field))
        .chain(
            map.iter()
                .filter(|(field, _)| !leading.contains(&field.as_str())),
        );
    let mut out = Vec::with_capacity(1024);
    write_map(&mut out, fields, |out, field, value| match value {
        Value::Object(metadata) if field == "metadata" => write_metadata(out, metadata),
        _ => write_json(out, value),
    });
    exact_bytes(out)
}

/// Writes the metadata without the fields derived on read and the empty ones.
fn write_metadata(out: &mut Vec<u8>, metadata: &serde_json::Map<String, Value>) {
    let stored_fields = metadata.iter().filter(|(field, value)| {
        let field = field.as_str();
        !(DERIVED_ON_READ.contains(&field)
            || (OMITTED_WHEN_EMPTY.contains(&field) && is_empty_collection(value)))
    });
    write_map(out, stored_fields, |out, _, value| write_json(out, value));
}

/// Writes a JSON object of `fields` in their order, each value by `write_value`.
fn write_map<'a>(
    out: &mut Vec<u8>,
    fields: impl Iterator<Item = (&'a String, &'a Value)>,
    mut write_value: impl FnMut(&mut Vec<u8>, &str, &Value),
) {
    out.push(b'{');
    for (index, (field, value)) in fields.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_json(out, field);
        out.push(b':');
        write_value(out, field, value);
    }
    out.push(b'}');
}

/// Appends the JSON of `value`, and logs the error if it cannot be encoded.
fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    if let Err(error) = serde_json::to_writer(&mut *out, value) {
        tracing::error!(%error, "failed to encode a stored field");
    }
}

/// Wraps `encoded` without its spare capacity. The watch cache keeps a stored value
/// as long as the object is unchanged, and `to_vec` grows its buffer by doubling,
/// so keeping the spare capacity costs up to the value's size again.
fn exact_bytes(encoded: Vec<u8>) -> Bytes {
    Bytes::from(encoded.into_boxed_slice())
}

/// Returns the stored object's JSON with `metadata.resourceVersion` set to `revision`.
pub fn with_resource_version(stored: &[u8], revision: i64) -> Bytes {
    match splice_position(stored) {
        Some(position) => {
            let field = format!("\"resourceVersion\":\"{revision}\"");
            let empty_metadata = stored.get(position) == Some(&b'}');
            let mut out = BytesMut::with_capacity(stored.len() + field.len() + 1);
            out.put_slice(&stored[..position]);
            out.put_slice(field.as_bytes());
            if !empty_metadata {
                out.put_u8(b',');
            }
            out.put_slice(&stored[position..]);
            out.freeze()
        }
        None => slow_with_resource_version(stored, revision),
    }
}

/// Finds the byte after the top-level `"metadata":{` when the object starts with the
/// stored layout: `{"apiVersion":"..","kind":"..","metadata":{` with plain strings.
fn splice_position(stored: &[u8]) -> Option<usize> {
    let mut rest = stored.strip_prefix(b"{")?;
    let mut consumed = 1;
    for field in [&b"\"apiVersion\":\""[..], &b"\"kind\":\""[..]] {
        rest = rest.strip_prefix(field)?;
        consumed += field.len();
        let end = rest
            .iter()
            .position(|&byte| byte == b'"' || byte == b'\\')?;
        if rest[end] == b'\\' {
            return None;
        }
        rest = rest[end + 1..].strip_prefix(b",")?;
        consumed += end + 2;
    }
    let opening = b"\"metadata\":{";
    rest.strip_prefix(&opening[..])?;
    let position = consumed + opening.len();
    // A stored object never carries a resourceVersion; if it does, do it properly.
    if stored[position..].starts_with(b"\"resourceVersion\"") {
        return None;
    }
    Some(position)
}

fn slow_with_resource_version(stored: &[u8], revision: i64) -> Bytes {
    let Ok(mut object) = serde_json::from_slice::<Value>(stored) else {
        tracing::error!("stored object is not valid JSON; serving it unchanged");
        return Bytes::copy_from_slice(stored);
    };
    set_resource_version(&mut object, revision);
    Bytes::from(serde_json::to_vec(&object).unwrap_or_default())
}

/// Sets `metadata.resourceVersion` on a decoded object.
pub fn set_resource_version(object: &mut Value, revision: i64) {
    if let Some(map) = object.as_object_mut() {
        let metadata = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(metadata) = metadata.as_object_mut() {
            metadata.insert(
                "resourceVersion".to_string(),
                Value::String(revision.to_string()),
            );
        }
    }
}

/// Decodes a stored object and sets its resourceVersion.
pub fn decode_stored(stored: &[u8], revision: i64) -> Result<Value, serde_json::Error> {
    let mut object: Value = serde_json::from_slice(stored)?;
    set_resource_version(&mut object, revision);
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_matches_a_full_decode() {
        let objects = [
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "ns"}, "data": {"metadata": "x"}}),
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
            serde_json::json!({"kind": "Pod", "apiVersion": "v1", "spec": {}, "metadata": {"name": "p"}}),
            serde_json::json!({"apiVersion": "v\"1", "kind": "X", "metadata": {"name": "q"}}),
        ];
        for object in objects {
            let stored = encode_for_storage(&object);
            let served: Value =
                serde_json::from_slice(&with_resource_version(&stored, 42)).unwrap();
            let mut expected = object.clone();
            set_resource_version(&mut expected, 42);
            assert_eq!(served, expected, "{object}");
        }
    }

    #[test]
    fn storage_form_drops_derived_and_empty_metadata() {
        let object = serde_json::json!({
            "spec": {"labels": {}}, "kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"labels": {}, "annotations": null, "finalizers": [], "name": "a",
                         "ownerReferences": [], "managedFields": [], "selfLink": "/x",
                         "resourceVersion": "3", "generation": 0}
        });
        let stored = encode_for_storage(&object);
        assert_eq!(
            std::str::from_utf8(&stored).unwrap(),
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","generation":0},"spec":{"labels":{}}}"#
        );
    }

    #[test]
    fn storage_form_drops_resource_version() {
        let object = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "7", "selfLink": "/x"}});
        let stored: Value = serde_json::from_slice(&encode_for_storage(&object)).unwrap();
        assert!(stored["metadata"].get("resourceVersion").is_none());
        assert!(stored["metadata"].get("selfLink").is_none());
    }

    #[test]
    fn fast_path_is_taken_for_the_stored_layout() {
        let stored = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}"#;
        assert_eq!(
            splice_position(stored),
            Some(br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"#.len())
        );
        assert_eq!(
            splice_position(br#"{"kind":"X","apiVersion":"v1","metadata":{}}"#),
            None
        );
    }
}
