//! Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for.
//!
//! This is upstream's default table (Name and Created At) for every kind.

use std::time::SystemTime;

use serde_json::{Value, json};

/// What each row carries besides its cells, upstream's `includeObject` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

/// Returns the column definitions of a resource.
pub fn column_definitions(_group: &str, _resource: &str) -> Vec<Value> {
    vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0}),
        json!({"name": "Created At", "type": "date", "format": "", "description": "CreationTimestamp is a timestamp representing the server time when this object was created.", "priority": 0}),
    ]
}

/// Returns the cells of one object's row.
pub fn row(_group: &str, _resource: &str, object: &Value, _now: SystemTime) -> Vec<Value> {
    vec![
        object
            .pointer("/metadata/name")
            .cloned()
            .unwrap_or(Value::Null),
        object
            .pointer("/metadata/creationTimestamp")
            .cloned()
            .unwrap_or(Value::Null),
    ]
}

/// Builds the Table of `objects`.
pub fn table(
    group: &str,
    resource: &str,
    objects: &[Value],
    include: IncludeObject,
    list_meta: Value,
    now: SystemTime,
) -> Value {
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let mut row_value = json!({"cells": row(group, resource, object, now)});
            match include {
                IncludeObject::None => {}
                IncludeObject::Metadata => {
                    row_value["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
                    });
                }
                IncludeObject::Object => row_value["object"] = object.clone(),
            }
            row_value
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": column_definitions(group, resource),
        "rows": rows,
    })
}
