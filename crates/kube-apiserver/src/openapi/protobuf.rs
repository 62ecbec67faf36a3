//! The protobuf encoding of the Swagger 2.0 document: the `openapi.v2.Document` message
//! of gnostic (github.com/google/gnostic-models, `openapiv2/OpenAPIv2.proto`), which
//! client-go requests from `/openapi/v2` with
//! `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf` and has no JSON
//! fallback for. kubectl 1.27 to 1.29 read it for `explain`, and every version reads it
//! when the v3 documents do not answer a question (patch metadata, field validation).
//!
//! Entry point: [`encode`]. It walks the JSON form of the document, as gnostic's compiler
//! does when upstream converts its JSON. Each JSON object becomes the message of its
//! position, and every `x-` key becomes a `NamedAny` vendor extension whose `yaml` field
//! contains the value as JSON text, which YAML parsers read as flow style.

use serde_json::{Map, Value};

use super::v2::Swagger;

/// Protobuf wire types.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LENGTH_DELIMITED: u8 = 2;

/// Encodes `document` as a gnostic `openapi.v2.Document`.
pub(super) fn encode(document: &Swagger<'_>) -> Vec<u8> {
    let mut writer = Writer::default();
    writer.string(1, document.swagger);
    writer.message(2, |info| {
        if let Some(object) = document.info.as_object() {
            info.string(1, str_field(object, "title"));
            info.string(2, str_field(object, "version"));
            info.string(3, str_field(object, "description"));
        }
    });
    writer.message(8, |paths| {
        for (path, item) in &document.paths {
            paths.message(2, |named| {
                named.string(1, path);
                named.message(2, |writer| path_item(writer, item));
            });
        }
    });
    writer.message(9, |definitions| {
        for (name, value) in document.definitions {
            definitions.message(1, |named| {
                named.string(1, name);
                named.message(2, |writer| schema(writer, value));
            });
        }
    });
    for requirement in document.security.as_array().into_iter().flatten() {
        writer.message(12, |writer| security_requirement(writer, requirement));
    }
    writer.message(13, |definitions| {
        for (name, item) in document
            .security_definitions
            .as_object()
            .into_iter()
            .flatten()
        {
            definitions.message(1, |named| {
                named.string(1, name);
                named.message(2, |writer| security_definitions_item(writer, item));
            });
        }
    });
    writer.into_bytes()
}

/// A protobuf message being written.
#[derive(Default)]
struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.bytes.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.bytes.push(value as u8);
    }

    fn key(&mut self, field: u32, wire_type: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wire_type));
    }

    fn bytes_field(&mut self, field: u32, bytes: &[u8]) {
        self.key(field, LENGTH_DELIMITED);
        self.varint(bytes.len() as u64);
        self.bytes.extend_from_slice(bytes);
    }

    /// Writes a proto3 string; the empty string is the default and is left out.
    fn string(&mut self, field: u32, value: &str) {
        if !value.is_empty() {
            self.bytes_field(field, value.as_bytes());
        }
    }

    /// Writes a proto3 bool; false is the default and is left out.
    fn boolean(&mut self, field: u32, value: bool) {
        if value {
            self.key(field, VARINT);
            self.varint(1);
        }
    }

    /// Writes a proto3 int64; zero is the default and is left out.
    fn int64(&mut self, field: u32, value: i64) {
        if value != 0 {
            self.key(field, VARINT);
            // Negative values take ten bytes in two's complement, as protobuf specifies.
            self.varint(value as u64);
        }
    }

    /// Writes a proto3 double; zero is the default and is left out.
    fn double(&mut self, field: u32, value: f64) {
        if value != 0.0 {
            self.key(field, FIXED64);
            self.bytes.extend_from_slice(&value.to_le_bytes());
        }
    }

    /// Writes a nested message, present even when empty.
    fn message(&mut self, field: u32, write: impl FnOnce(&mut Writer)) {
        let mut nested = Writer::default();
        write(&mut nested);
        self.bytes_field(field, &nested.bytes);
    }
}

fn str_field<'a>(object: &'a Map<String, Value>, key: &str) -> &'a str {
    object.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn bool_field(object: &Map<String, Value>, key: &str) -> bool {
    object.get(key).and_then(Value::as_bool).unwrap_or_default()
}

fn strings<'a>(object: &'a Map<String, Value>, key: &str) -> impl Iterator<Item = &'a str> {
    object
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Writes an `Any` whose `yaml` (field 2) contains `value` as JSON text.
fn any(writer: &mut Writer, field: u32, value: &Value) {
    writer.message(field, |any| any.string(2, &value.to_string()));
}

/// Writes every `x-` key of `object` as a `NamedAny` in `field`.
fn vendor_extensions(writer: &mut Writer, field: u32, object: &Map<String, Value>) {
    for (name, value) in object.iter().filter(|(name, _)| name.starts_with("x-")) {
        writer.message(field, |named| {
            named.string(1, name);
            any(named, 2, value);
        });
    }
}

/// Writes a `Schema` message.
fn schema(writer: &mut Writer, value: &Value) {
    let Some(object) = value.as_object() else {
        return;
    };

    writer.string(1, str_field(object, "$ref"));
    writer.string(2, str_field(object, "format"));
    writer.string(3, str_field(object, "title"));
    writer.string(4, str_field(object, "description"));
    if let Some(default) = object.get("default") {
        any(writer, 5, default);
    }
    for (key, field) in [("multipleOf", 6), ("maximum", 7)] {
        writer.double(
            field,
            object.get(key).and_then(Value::as_f64).unwrap_or_default(),
        );
    }
    writer.boolean(8, bool_field(object, "exclusiveMaximum"));
    writer.double(
        9,
        object
            .get("minimum")
            .and_then(Value::as_f64)
            .unwrap_or_default(),
    );
    writer.boolean(10, bool_field(object, "exclusiveMinimum"));
    for (key, field) in [("maxLength", 11), ("minLength", 12)] {
        writer.int64(
            field,
            object.get(key).and_then(Value::as_i64).unwrap_or_default(),
        );
    }
    writer.string(13, str_field(object, "pattern"));
    for (key, field) in [("maxItems", 14), ("minItems", 15)] {
        writer.int64(
            field,
            object.get(key).and_then(Value::as_i64).unwrap_or_default(),
        );
    }
    writer.boolean(16, bool_field(object, "uniqueItems"));
    for (key, field) in [("maxProperties", 17), ("minProperties", 18)] {
        writer.int64(
            field,
            object.get(key).and_then(Value::as_i64).unwrap_or_default(),
        );
    }
    for required in strings(object, "required") {
        writer.string(19, required);
    }
    for value in object
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        any(writer, 20, value);
    }
    match object.get("additionalProperties") {
        Some(Value::Bool(allowed)) => writer.message(21, |item| {
            // A oneof member is present even at its default value.
            item.key(2, VARINT);
            item.varint(u64::from(*allowed));
        }),
        Some(nested) => writer.message(21, |item| item.message(1, |writer| schema(writer, nested))),
        None => {}
    }
    match object.get("type") {
        Some(Value::String(name)) => writer.message(22, |item| item.string(1, name)),
        Some(Value::Array(names)) => writer.message(22, |item| {
            names
                .iter()
                .filter_map(Value::as_str)
                .for_each(|name| item.string(1, name));
        }),
        _ => {}
    }
    match object.get("items") {
        Some(Value::Array(items)) => writer.message(23, |item| {
            for nested in items {
                item.message(1, |writer| schema(writer, nested));
            }
        }),
        Some(nested) => writer.message(23, |item| item.message(1, |writer| schema(writer, nested))),
        None => {}
    }
    for nested in object
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        writer.message(24, |writer| schema(writer, nested));
    }
    if let Some(properties) = object.get("properties").and_then(Value::as_object) {
        writer.message(25, |writer| {
            for (name, nested) in properties {
                writer.message(1, |named| {
                    named.string(1, name);
                    named.message(2, |writer| schema(writer, nested));
                });
            }
        });
    }
    writer.boolean(27, bool_field(object, "readOnly"));
    vendor_extensions(writer, 31, object);
}

/// Writes a `PathItem` message.
fn path_item(writer: &mut Writer, value: &Value) {
    let Some(object) = value.as_object() else {
        return;
    };
    let methods = [
        ("get", 2),
        ("put", 3),
        ("post", 4),
        ("delete", 5),
        ("options", 6),
        ("head", 7),
        ("patch", 8),
    ];
    for (method, field) in methods {
        if let Some(operation_value) = object.get(method) {
            writer.message(field, |writer| operation(writer, operation_value));
        }
    }
    for parameter in object
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        writer.message(9, |writer| parameters_item(writer, parameter));
    }
    vendor_extensions(writer, 10, object);
}

/// Writes an `Operation` message.
fn operation(writer: &mut Writer, value: &Value) {
    let Some(object) = value.as_object() else {
        return;
    };
    for tag in strings(object, "tags") {
        writer.string(1, tag);
    }
    writer.string(2, str_field(object, "summary"));
    writer.string(3, str_field(object, "description"));
    writer.string(5, str_field(object, "operationId"));

    for media_type in strings(object, "produces") {
        writer.string(6, media_type);
    }
    for media_type in strings(object, "consumes") {
        writer.string(7, media_type);
    }
    for parameter in object
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        writer.message(8, |writer| parameters_item(writer, parameter));
    }

    if let Some(responses) = object.get("responses").and_then(Value::as_object) {
        writer.message(9, |writer| {
            for (code, response_value) in responses {
                writer.message(1, |named| {
                    named.string(1, code);
                    // ResponseValue.response
                    named.message(2, |value| {
                        value.message(1, |writer| response(writer, response_value))
                    });
                });
            }
        });
    }

    for scheme in strings(object, "schemes") {
        writer.string(10, scheme);
    }
    writer.boolean(11, bool_field(object, "deprecated"));
    vendor_extensions(writer, 13, object);
}

/// Writes a `Response` message.
fn response(writer: &mut Writer, value: &Value) {
    let Some(object) = value.as_object() else {
        return;
    };
    writer.string(1, str_field(object, "description"));
    if let Some(nested) = object.get("schema") {
        // SchemaItem.schema
        writer.message(2, |item| item.message(1, |writer| schema(writer, nested)));
    }
    vendor_extensions(writer, 5, object);
}

/// Writes a `ParametersItem` message: a `JsonReference` for `$ref`, else a `Parameter`
/// holding a `BodyParameter` or a query or path `NonBodyParameter`.
fn parameters_item(writer: &mut Writer, value: &Value) {
    let Some(object) = value.as_object() else {
        return;
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        writer.message(2, |json_reference| json_reference.string(1, reference));
        return;
    }

    writer.message(1, |parameter| match str_field(object, "in") {
        "body" => parameter.message(1, |body| {
            body.string(1, str_field(object, "description"));
            body.string(2, str_field(object, "name"));
            body.string(3, "body");
            body.boolean(4, bool_field(object, "required"));
            if let Some(nested) = object.get("schema") {
                body.message(5, |writer| schema(writer, nested));
            }
            vendor_extensions(body, 6, object);
        }),
        location => parameter.message(2, |non_body| {
            // The query, header and path sub-schemas share their first four fields. The
            // query one has allowEmptyValue (5) before type, so its later field numbers
            // are one higher. This API has no form parameters.
            let (sub_schema, shift) = match location {
                "query" => (3, 1),
                "header" => (1, 0),
                "path" => (4, 0),
                _ => return,
            };
            non_body.message(sub_schema, |sub| {
                sub.boolean(1, bool_field(object, "required"));
                sub.string(2, location);
                sub.string(3, str_field(object, "description"));
                sub.string(4, str_field(object, "name"));
                sub.string(5 + shift, str_field(object, "type"));
                sub.string(6 + shift, str_field(object, "format"));
                sub.boolean(19 + shift, bool_field(object, "uniqueItems"));
                vendor_extensions(sub, 22 + shift, object);
            });
        }),
    });
}

/// Writes a `SecurityRequirement` message from `{"BearerToken": []}`.
fn security_requirement(writer: &mut Writer, value: &Value) {
    for (name, scopes) in value.as_object().into_iter().flatten() {
        writer.message(1, |named| {
            named.string(1, name);
            named.message(2, |array| {
                for scope in scopes
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    array.string(1, scope);
                }
            });
        });
    }
}

/// Writes a `SecurityDefinitionsItem`; only API keys (`ApiKeySecurity`, member 2) are
/// declared by this server.
fn security_definitions_item(writer: &mut Writer, value: &Value) {
    let Some(object) = value.as_object() else {
        return;
    };
    if str_field(object, "type") != "apiKey" {
        return;
    }
    writer.message(2, |api_key| {
        api_key.string(1, "apiKey");
        api_key.string(2, str_field(object, "name"));
        api_key.string(3, str_field(object, "in"));
        api_key.string(4, str_field(object, "description"));
        vendor_extensions(api_key, 5, object);
    });
}

#[cfg(test)]
mod tests {
    use super::super::{definitions, kinds, operations, parameters::ParameterSet, v2};
    use super::*;

    /// One decoded field: its number and either a varint or the raw bytes of a
    /// length-delimited value.
    #[derive(Debug, Clone, PartialEq)]
    enum Field {
        Varint(u32, u64),
        Bytes(u32, Vec<u8>),
        Fixed64(u32, [u8; 8]),
    }

    fn read_varint(bytes: &[u8], position: &mut usize) -> u64 {
        let mut value = 0u64;
        let mut shift = 0;
        loop {
            let byte = bytes[*position];
            *position += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return value;
            }
            shift += 7;
        }
    }

    fn decode(bytes: &[u8]) -> Vec<Field> {
        let mut fields = Vec::new();
        let mut position = 0;
        while position < bytes.len() {
            let key = read_varint(bytes, &mut position);
            let (number, wire_type) = ((key >> 3) as u32, (key & 7) as u8);
            match wire_type {
                VARINT => fields.push(Field::Varint(number, read_varint(bytes, &mut position))),
                FIXED64 => {
                    let mut value = [0u8; 8];
                    value.copy_from_slice(&bytes[position..position + 8]);
                    position += 8;
                    fields.push(Field::Fixed64(number, value));
                }
                LENGTH_DELIMITED => {
                    let length = read_varint(bytes, &mut position) as usize;
                    fields.push(Field::Bytes(
                        number,
                        bytes[position..position + length].to_vec(),
                    ));
                    position += length;
                }
                other => panic!("unexpected wire type {other}"),
            }
        }
        fields
    }

    fn messages(fields: &[Field], number: u32) -> Vec<Vec<u8>> {
        fields
            .iter()
            .filter_map(|field| match field {
                Field::Bytes(found, bytes) if *found == number => Some(bytes.clone()),
                _ => None,
            })
            .collect()
    }

    fn string(fields: &[Field], number: u32) -> String {
        messages(fields, number)
            .first()
            .map(|bytes| String::from_utf8(bytes.clone()).expect("UTF-8"))
            .unwrap_or_default()
    }

    /// Returns the value of the named entry (`name` = 1, value = 2) in a repeated field.
    fn named(fields: &[Field], number: u32, name: &str) -> Option<Vec<Field>> {
        messages(fields, number).into_iter().find_map(|bytes| {
            let entry = decode(&bytes);
            (string(&entry, 1) == name).then(|| decode(&messages(&entry, 2)[0]))
        })
    }

    fn encoded() -> Vec<Field> {
        let kinds = kinds::kinds();
        let definitions = definitions::build(&kinds);
        let paths = operations::build(&kinds, &ParameterSet::new(&definitions));
        decode(&encode(&v2::document(&paths, &definitions)))
    }

    #[test]
    fn varints_encode_as_protobuf_specifies() {
        let cases: [(u64, &[u8]); 4] = [
            (0, &[0]),
            (1, &[1]),
            (300, &[0xac, 0x02]),
            (
                u64::MAX,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ];
        for (value, expected) in cases {
            let mut writer = Writer::default();
            writer.varint(value);
            assert_eq!(writer.into_bytes(), expected, "{value}");
        }
    }

    #[test]
    fn document_header_and_definitions() {
        let document = encoded();
        assert_eq!(string(&document, 1), "2.0");
        let info = decode(&messages(&document, 2)[0]);
        assert_eq!(string(&info, 1), "Kubernetes");

        let definitions = decode(&messages(&document, 9)[0]);
        let pod = named(&definitions, 1, "io.k8s.api.core.v1.Pod").expect("Pod definition");
        let type_item = decode(&messages(&pod, 22)[0]);
        assert_eq!(string(&type_item, 1), "object");

        let extensions: Vec<(String, String)> = messages(&pod, 31)
            .iter()
            .map(|bytes| {
                let entry = decode(bytes);
                let any = decode(&messages(&entry, 2)[0]);
                (string(&entry, 1), string(&any, 2))
            })
            .collect();
        assert_eq!(
            extensions,
            [(
                "x-kubernetes-group-version-kind".to_string(),
                r#"[{"group":"","kind":"Pod","version":"v1"}]"#.to_string()
            )]
        );

        let properties = decode(&messages(&pod, 25)[0]);
        let metadata = named(&properties, 1, "metadata").expect("metadata property");
        assert_eq!(
            string(&metadata, 1),
            "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        );
    }

    #[test]
    fn patch_operation_has_query_parameters_and_gvk() {
        let document = encoded();
        let paths = decode(&messages(&document, 8)[0]);
        let item = named(
            &paths,
            2,
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
        )
        .expect("deployment path");
        let patch = decode(&messages(&item, 8)[0]);
        assert_eq!(string(&patch, 5), "patchAppsV1NamespacedDeployment");

        let query_names: Vec<String> = messages(&patch, 8)
            .iter()
            .filter_map(|bytes| {
                let parameter = decode(&messages(&decode(bytes), 1)[0]);
                let non_body = messages(&parameter, 2);
                let query = messages(&decode(non_body.first()?), 3);
                Some(string(&decode(query.first()?), 4))
            })
            .collect();
        assert!(
            query_names.contains(&"fieldValidation".to_string()),
            "{query_names:?}"
        );

        let gvk = named(&patch, 13, "x-kubernetes-group-version-kind").expect("gvk");
        assert_eq!(
            string(&gvk, 2),
            r#"{"group":"apps","kind":"Deployment","version":"v1"}"#
        );
    }

    #[test]
    fn additional_properties_false_is_kept() {
        let mut writer = Writer::default();
        schema(
            &mut writer,
            &serde_json::json!({ "additionalProperties": false }),
        );
        let fields = decode(&writer.into_bytes());
        let item = decode(&messages(&fields, 21)[0]);
        assert_eq!(item, [Field::Varint(2, 0)]);
    }
}
