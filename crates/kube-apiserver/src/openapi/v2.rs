//! The Swagger 2.0 document served at `/openapi/v2`: every path and every definition in
//! one document.
//!
//! Entry point: [`document`].

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::definitions::{self, Definitions, v2_ref};
use super::operations::{Body, Operation, Paths, Payload, Response};
use super::parameters::Parameter;

/// `info.version` of both document versions. Upstream's generated documents contain
/// `unversioned` too, while a running upstream server puts its own version there.
pub(super) const INFO_VERSION: &str = "unversioned";

/// The Swagger 2.0 document, ready to encode as JSON or as protobuf. Every field is in
/// its JSON form with sorted keys; the definitions are borrowed, not copied.
#[derive(Serialize)]
pub(super) struct Swagger<'a> {
    pub(super) definitions: &'a Definitions,
    pub(super) info: Value,
    pub(super) paths: Map<String, Value>,
    pub(super) security: Value,
    #[serde(rename = "securityDefinitions")]
    pub(super) security_definitions: Value,
    pub(super) swagger: &'static str,
}

impl Swagger<'_> {
    /// Returns the JSON encoding. Fields are declared in sorted order, so the output is
    /// sorted like the rest of the document.
    pub(super) fn to_json(&self) -> Vec<u8> {
        // serde_json fails only on maps with non-string keys, and these have none.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Returns the `BearerToken` security scheme both document versions declare.
pub(super) fn bearer_token_scheme() -> Value {
    json!({
        "BearerToken": {
            "description": "Bearer Token authentication",
            "in": "header",
            "name": "authorization",
            "type": "apiKey",
        },
    })
}

/// Renders the Swagger 2.0 document.
pub(super) fn document<'a>(paths: &Paths, definitions: &'a Definitions) -> Swagger<'a> {
    let mut rendered_paths = Map::new();
    for (path, item) in paths {
        let mut rendered = Map::new();
        for operation in &item.operations {
            rendered.insert(
                operation.method.as_str().to_string(),
                render_operation(operation),
            );
        }
        if !item.parameters.is_empty() {
            let parameters = item.parameters.iter().map(render_parameter).collect();
            rendered.insert("parameters".to_string(), Value::Array(parameters));
        }
        let mut rendered = Value::Object(rendered);
        definitions::sort_keys(&mut rendered);
        rendered_paths.insert(path.clone(), rendered);
    }

    Swagger {
        definitions,
        info: json!({ "title": "Kubernetes", "version": INFO_VERSION }),
        paths: rendered_paths,
        security: json!([{ "BearerToken": [] }]),
        security_definitions: bearer_token_scheme(),
        swagger: "2.0",
    }
}

fn render_operation(operation: &Operation) -> Value {
    let mut parameters: Vec<Value> = Vec::new();
    if let Some(body) = &operation.body {
        parameters.push(render_body(body));
    }
    parameters.extend(operation.parameters.iter().map(render_parameter));

    let mut rendered = json!({
        "description": operation.description,
        "operationId": operation.id,
        "consumes": operation.consumes,
        "produces": operation.produces,
        "schemes": ["https"],
        "tags": [operation.tag],
        "responses": render_responses(&operation.responses),
    });
    if !parameters.is_empty() {
        rendered["parameters"] = Value::Array(parameters);
    }
    add_kubernetes_extensions(operation, &mut rendered);
    rendered
}

/// Adds `x-kubernetes-action` and `x-kubernetes-group-version-kind`, which both document
/// versions carry on operations.
pub(super) fn add_kubernetes_extensions(operation: &Operation, rendered: &mut Value) {
    if let Some(action) = operation.action {
        rendered["x-kubernetes-action"] = json!(action);
    }
    if let Some(gvk) = operation.gvk {
        rendered["x-kubernetes-group-version-kind"] =
            json!({ "group": gvk.group, "version": gvk.version, "kind": gvk.kind });
    }
}

fn render_body(body: &Body) -> Value {
    let mut rendered = json!({
        "in": "body",
        "name": "body",
        "schema": v2_ref(&body.definition),
    });
    if body.required {
        rendered["required"] = json!(true);
    }
    rendered
}

fn render_parameter(parameter: &Parameter) -> Value {
    let mut rendered = json!({
        "name": parameter.name,
        "in": parameter.location.as_str(),
        "description": parameter.description,
        "type": parameter.param_type.as_str(),
        "uniqueItems": true,
    });
    if parameter.required {
        rendered["required"] = json!(true);
    }
    rendered
}

fn render_responses(responses: &[Response]) -> Value {
    let mut rendered = Map::new();
    for response in responses {
        let mut entry = json!({ "description": response.description() });
        match &response.payload {
            Some(Payload::Definition(name)) => entry["schema"] = v2_ref(name),
            Some(Payload::Text) => entry["schema"] = json!({ "type": "string" }),
            None => {}
        }
        rendered.insert(response.code.to_string(), entry);
    }
    Value::Object(rendered)
}

#[cfg(test)]
mod tests {
    use super::super::{definitions, kinds, operations, parameters::ParameterSet};
    use super::*;

    fn built() -> Value {
        let kinds = kinds::kinds();
        let definitions = definitions::build(&kinds);
        let paths = operations::build(&kinds, &ParameterSet::new(&definitions));
        serde_json::from_slice(&document(&paths, &definitions).to_json()).expect("valid JSON")
    }

    #[test]
    fn document_has_swagger_shape() {
        let document = built();
        assert_eq!(document["swagger"], "2.0");
        assert_eq!(document["info"]["title"], "Kubernetes");
        assert_eq!(document["security"], json!([{ "BearerToken": [] }]));
        assert!(document["definitions"]["io.k8s.api.core.v1.Pod"].is_object());

        let keys: Vec<&String> = document.as_object().expect("object").keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn patch_operation_renders_like_upstream() {
        let document = built();
        let item = &document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
        let patch = &item["patch"];
        assert_eq!(patch["operationId"], "patchAppsV1NamespacedDeployment");
        assert_eq!(patch["x-kubernetes-action"], "patch");
        assert_eq!(
            patch["x-kubernetes-group-version-kind"],
            json!({ "group": "apps", "kind": "Deployment", "version": "v1" })
        );
        assert_eq!(patch["schemes"], json!(["https"]));
        assert_eq!(patch["tags"], json!(["apps_v1"]));
        assert_eq!(
            patch["parameters"][0],
            json!({
                "in": "body",
                "name": "body",
                "required": true,
                "schema": { "$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch" },
            })
        );
        let field_validation = patch["parameters"]
            .as_array()
            .and_then(|parameters| {
                parameters
                    .iter()
                    .find(|parameter| parameter["name"] == "fieldValidation")
            })
            .expect("fieldValidation parameter");
        assert_eq!(field_validation["in"], "query");
        assert_eq!(field_validation["type"], "string");
        assert_eq!(
            patch["responses"]["200"]["schema"]["$ref"],
            "#/definitions/io.k8s.api.apps.v1.Deployment"
        );
        assert_eq!(
            patch["responses"]["401"],
            json!({ "description": "Unauthorized" })
        );

        let names: Vec<&str> = item["parameters"]
            .as_array()
            .expect("path parameters")
            .iter()
            .filter_map(|parameter| parameter["name"].as_str())
            .collect();
        assert_eq!(names, ["name", "namespace", "pretty"]);
        assert_eq!(item["parameters"][0]["required"], true);
        assert_eq!(item["parameters"][0]["in"], "path");
    }

    #[test]
    fn connect_operation_returns_string() {
        let document = built();
        let exec = &document["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/exec"]["post"];
        assert_eq!(
            exec["responses"]["200"]["schema"],
            json!({ "type": "string" })
        );
        assert_eq!(exec["produces"], json!(["*/*"]));
        assert!(exec.get("parameters").is_none());
    }
}
