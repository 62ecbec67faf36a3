//! The OpenAPI 3.0 documents served under `/openapi/v3/<path>`: one per group version
//! (`api/v1`, `apis/apps/v1`), one per group (`apis/apps`), and the roots `api`, `apis`
//! and `version`, each with the schemas its operations reach.
//!
//! Entry point: [`documents`]. Schemas are converted from their v2 form: references point
//! to `#/components/schemas/`, a reference with sibling keywords moves into `allOf` (OpenAPI
//! 3.0 ignores siblings of `$ref`), and `Quantity` and `IntOrString` become `oneOf` their
//! JSON types, as upstream's v3 documents have them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::definitions::{self, Definitions, V2_REF_PREFIX};
use super::operations::{Operation, PathItem, Paths, Payload, Response};
use super::parameters::Parameter;
use super::v2::{INFO_VERSION, add_kubernetes_extensions, bearer_token_scheme};

const V3_REF_PREFIX: &str = "#/components/schemas/";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";

/// The top level of an OpenAPI 3.0 document, fields in sorted order. Schemas are borrowed
/// from one conversion shared by all documents.
#[derive(Serialize)]
struct OpenApiV3<'a> {
    components: Components<'a>,
    info: Value,
    openapi: &'static str,
    paths: Map<String, Value>,
}

#[derive(Serialize)]
struct Components<'a> {
    schemas: BTreeMap<&'a str, &'a Value>,
    #[serde(rename = "securitySchemes")]
    security_schemes: Value,
}

/// Renders every v3 document as JSON, keyed by its path under `/openapi/v3/` (`api/v1`).
pub(super) fn documents(paths: &Paths, definitions: &Definitions) -> BTreeMap<String, Vec<u8>> {
    let converted: BTreeMap<&str, Value> = definitions
        .iter()
        .map(|(name, schema)| (name.as_str(), convert_definition(name, schema)))
        .collect();

    let mut grouped: BTreeMap<String, Vec<(&String, &PathItem)>> = BTreeMap::new();
    for (path, item) in paths {
        grouped
            .entry(document_key(path))
            .or_default()
            .push((path, item));
    }

    grouped
        .into_iter()
        .map(|(key, items)| (key, document(&items, definitions, &converted)))
        .collect()
}

/// Returns the v3 document a path belongs to: `api/v1` for `/api/v1/pods`, `apis/apps`
/// for `/apis/apps/`, `apis` for `/apis/`, `version` for `/version/`.
pub(super) fn document_key(path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["api", version, ..] => format!("api/{version}"),
        ["apis", group] => format!("apis/{group}"),
        ["apis", group, version, ..] => format!("apis/{group}/{version}"),
        [first, ..] => (*first).to_string(),
        [] => String::new(),
    }
}

fn document(
    items: &[(&String, &PathItem)],
    definitions: &Definitions,
    converted: &BTreeMap<&str, Value>,
) -> Vec<u8> {
    let mut rendered_paths = Map::new();
    let mut referenced = BTreeSet::new();
    for (path, item) in items {
        let mut rendered = render_path_item(item, &mut referenced);
        definitions::sort_keys(&mut rendered);
        rendered_paths.insert((*path).clone(), rendered);
    }

    let reachable = reachable(referenced, definitions);
    let schemas = converted
        .iter()
        .filter(|(name, _)| reachable.contains(**name))
        .map(|(name, schema)| (*name, schema))
        .collect();

    let document = OpenApiV3 {
        components: Components {
            schemas,
            security_schemes: bearer_token_scheme(),
        },
        info: json!({ "title": "Kubernetes", "version": INFO_VERSION }),
        openapi: "3.0.0",
        paths: rendered_paths,
    };
    // serde_json fails only on maps with non-string keys, and these have none.
    serde_json::to_vec(&document).unwrap_or_default()
}

fn v3_ref(name: &str) -> Value {
    json!({ "$ref": format!("{V3_REF_PREFIX}{name}") })
}

fn render_path_item(item: &PathItem, referenced: &mut BTreeSet<String>) -> Value {
    let mut rendered = Map::new();
    for operation in &item.operations {
        rendered.insert(
            operation.method.as_str().to_string(),
            render_operation(operation, referenced),
        );
    }
    if !item.parameters.is_empty() {
        let parameters = item.parameters.iter().map(render_parameter).collect();
        rendered.insert("parameters".to_string(), Value::Array(parameters));
    }
    Value::Object(rendered)
}

fn render_operation(operation: &Operation, referenced: &mut BTreeSet<String>) -> Value {
    let mut rendered = json!({
        "description": operation.description,
        "operationId": operation.id,
        "tags": [operation.tag],
        "responses": render_responses(&operation.responses, operation.produces, referenced),
    });
    if !operation.parameters.is_empty() {
        let parameters = operation.parameters.iter().map(render_parameter).collect();
        rendered["parameters"] = Value::Array(parameters);
    }
    if let Some(body) = &operation.body {
        referenced.insert(body.definition.clone());
        let content: Map<String, Value> = operation
            .consumes
            .iter()
            .map(|media_type| {
                let schema = json!({ "schema": v3_ref(&body.definition) });
                ((*media_type).to_string(), schema)
            })
            .collect();
        rendered["requestBody"] = json!({ "content": content });
        if body.required {
            rendered["requestBody"]["required"] = json!(true);
        }
    }
    add_kubernetes_extensions(operation, &mut rendered);
    rendered
}

fn render_parameter(parameter: &Parameter) -> Value {
    let mut rendered = json!({
        "name": parameter.name,
        "in": parameter.location.as_str(),
        "description": parameter.description,
        "schema": { "type": parameter.param_type.as_str(), "uniqueItems": true },
    });
    if parameter.required {
        rendered["required"] = json!(true);
    }
    rendered
}

fn render_responses(
    responses: &[Response],
    produces: &[&str],
    referenced: &mut BTreeSet<String>,
) -> Value {
    let mut rendered = Map::new();
    for response in responses {
        let mut entry = json!({ "description": response.description() });
        let schema = match &response.payload {
            Some(Payload::Definition(name)) => {
                referenced.insert(name.clone());
                Some(v3_ref(name))
            }
            Some(Payload::Text) => Some(json!({ "type": "string" })),
            None => None,
        };
        if let Some(schema) = schema {
            let content: Map<String, Value> = produces
                .iter()
                .map(|media_type| ((*media_type).to_string(), json!({ "schema": schema })))
                .collect();
            entry["content"] = Value::Object(content);
        }
        rendered.insert(response.code.to_string(), entry);
    }
    Value::Object(rendered)
}

/// Returns the names of `roots` and of every definition they refer to, directly or not.
fn reachable(roots: BTreeSet<String>, definitions: &Definitions) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending: Vec<String> = roots.into_iter().collect();
    while let Some(name) = pending.pop() {
        if !found.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = definitions.get(&name) {
            collect_references(schema, &mut pending);
        }
    }
    found
}

fn collect_references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            let reference = object.get("$ref").and_then(Value::as_str);
            if let Some(name) =
                reference.and_then(|reference| reference.strip_prefix(V2_REF_PREFIX))
            {
                found.push(name.to_string());
            }
            object
                .values()
                .for_each(|child| collect_references(child, found));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|child| collect_references(child, found)),
        _ => {}
    }
}

fn convert_definition(name: &str, schema: &Value) -> Value {
    let description = schema.get("description").cloned();
    let mut converted = match name {
        QUANTITY => json!({ "oneOf": [{ "type": "string" }, { "type": "number" }] }),
        INT_OR_STRING => json!({
            "format": "int-or-string",
            "oneOf": [{ "type": "integer" }, { "type": "string" }],
            "x-kubernetes-int-or-string": true,
        }),
        _ => return convert_schema(schema),
    };
    if let Some(description) = description {
        converted["description"] = description;
    }
    definitions::sort_keys(&mut converted);
    converted
}

/// Converts one v2 schema node. Only keywords that contain schemas are walked, so a
/// property that happens to be named `$ref` (as in `JSONSchemaProps`) is left alone.
///
/// NOTE: upstream's v3 documents also carry `default` values: `{}`, `""` or `0` on fields
/// that are not pointers in Go, and a few declared ones such as `"TCP"`. k8s-openapi does
/// not record them, so they are left out.
fn convert_schema(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };

    let mut converted = Map::new();
    let mut reference = None;
    for (key, value) in object {
        let value = match key.as_str() {
            "$ref" => {
                if let Some(target) = value.as_str() {
                    let name = target.strip_prefix(V2_REF_PREFIX).unwrap_or(target);
                    reference = Some(v3_ref(name));
                    continue;
                }
                value.clone()
            }
            "properties" | "patternProperties" | "definitions" => convert_schema_map(value),
            "items" | "additionalProperties" | "not" => convert_schema(value),
            "allOf" | "anyOf" | "oneOf" => match value.as_array() {
                Some(items) => Value::Array(items.iter().map(convert_schema).collect()),
                None => value.clone(),
            },
            _ => value.clone(),
        };
        converted.insert(key.clone(), value);
    }

    match reference {
        Some(reference) if converted.is_empty() => reference,
        Some(reference) => {
            converted.insert("allOf".to_string(), Value::Array(vec![reference]));
            let mut converted = Value::Object(converted);
            definitions::sort_keys(&mut converted);
            converted
        }
        None => Value::Object(converted),
    }
}

fn convert_schema_map(value: &Value) -> Value {
    match value.as_object() {
        Some(map) => Value::Object(
            map.iter()
                .map(|(name, schema)| (name.clone(), convert_schema(schema)))
                .collect(),
        ),
        None => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{kinds, operations, parameters::ParameterSet};
    use super::*;

    fn built() -> BTreeMap<String, Value> {
        let kinds = kinds::kinds();
        let definitions = definitions::build(&kinds);
        let paths = operations::build(&kinds, &ParameterSet::new(&definitions));
        documents(&paths, &definitions)
            .into_iter()
            .map(|(key, body)| (key, serde_json::from_slice(&body).expect("valid JSON")))
            .collect()
    }

    #[test]
    fn document_keys_follow_upstream() {
        let cases = [
            ("/api/", "api"),
            ("/api/v1/", "api/v1"),
            ("/api/v1/namespaces/{namespace}/pods", "api/v1"),
            ("/apis/", "apis"),
            ("/apis/apps/", "apis/apps"),
            ("/apis/apps/v1/", "apis/apps/v1"),
            ("/apis/apps/v1/watch/deployments", "apis/apps/v1"),
            ("/version/", "version"),
        ];
        for (path, key) in cases {
            assert_eq!(document_key(path), key, "{path}");
        }
    }

    #[test]
    fn every_group_version_has_a_document() {
        let documents = built();
        for group in apimachinery::scheme::API_GROUPS {
            for version in group.versions {
                let key = if group.name.is_empty() {
                    format!("api/{version}")
                } else {
                    format!("apis/{}/{version}", group.name)
                };
                assert!(documents.contains_key(&key), "{key} is missing");
            }
        }
        for key in ["api", "apis", "apis/apps", "version"] {
            assert!(documents.contains_key(key), "{key} is missing");
        }
    }

    #[test]
    fn core_document_has_pod_schemas_and_extensions() {
        let documents = built();
        let core = &documents["api/v1"];
        assert_eq!(core["openapi"], "3.0.0");
        let schemas = &core["components"]["schemas"];

        let pod = &schemas["io.k8s.api.core.v1.Pod"];
        assert_eq!(
            pod["x-kubernetes-group-version-kind"],
            json!([{ "group": "", "kind": "Pod", "version": "v1" }])
        );
        assert_eq!(
            pod["properties"]["metadata"]["allOf"],
            json!([{ "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" }])
        );
        assert!(pod["properties"]["metadata"]["description"].is_string());

        let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
        assert_eq!(
            containers["items"],
            json!({ "$ref": "#/components/schemas/io.k8s.api.core.v1.Container" })
        );
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");

        assert_eq!(
            schemas[QUANTITY]["oneOf"],
            json!([{ "type": "string" }, { "type": "number" }])
        );
        assert_eq!(schemas[INT_OR_STRING]["format"], "int-or-string");
        assert!(schemas[INT_OR_STRING]["description"].is_string());

        // Only what core operations reach.
        assert!(schemas.get("io.k8s.api.apps.v1.Deployment").is_none());
        assert!(schemas.get("io.k8s.api.autoscaling.v1.Scale").is_some());
    }

    #[test]
    fn references_resolve_within_each_document() {
        for (key, document) in built() {
            let schemas = document["components"]["schemas"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            let mut references = Vec::new();
            collect_v3_references(&document, &mut references);
            for reference in references {
                let name = reference
                    .strip_prefix(V3_REF_PREFIX)
                    .unwrap_or_else(|| panic!("{key}: foreign reference {reference}"));
                assert!(schemas.contains_key(name), "{key}: {name} is missing");
            }
        }
    }

    fn collect_v3_references(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(object) => {
                if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
                    found.push(reference.to_string());
                }
                object
                    .values()
                    .for_each(|child| collect_v3_references(child, found));
            }
            Value::Array(items) => items
                .iter()
                .for_each(|child| collect_v3_references(child, found)),
            _ => {}
        }
    }

    #[test]
    fn patch_operation_declares_strategic_merge() {
        let documents = built();
        let patch = &documents["apis/apps/v1"]["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
            ["patch"];
        let content = patch["requestBody"]["content"]
            .as_object()
            .expect("content");
        assert!(content.contains_key("application/strategic-merge-patch+json"));
        assert!(content.contains_key("application/apply-patch+yaml"));
        assert_eq!(
            patch["x-kubernetes-group-version-kind"],
            json!({ "group": "apps", "kind": "Deployment", "version": "v1" })
        );
        let parameters = patch["parameters"].as_array().expect("parameters");
        let field_validation = parameters
            .iter()
            .find(|parameter| parameter["name"] == "fieldValidation")
            .expect("fieldValidation");
        assert_eq!(field_validation["in"], "query");
        assert_eq!(field_validation["schema"]["type"], "string");
    }

    #[test]
    fn dollar_ref_property_is_not_a_reference() {
        let props = json!({
            "properties": {
                "$ref": { "type": "string" },
                "items": { "$ref": "#/definitions/X", "description": "d" },
            },
        });
        let converted = convert_schema(&props);
        assert_eq!(converted["properties"]["$ref"], json!({ "type": "string" }));
        assert_eq!(
            converted["properties"]["items"],
            json!({ "allOf": [{ "$ref": "#/components/schemas/X" }], "description": "d" })
        );
    }
}
