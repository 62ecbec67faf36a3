//! The schema definitions (`definitions` in v2, `components.schemas` in v3), in their
//! Swagger 2.0 form with `$ref`s to `#/definitions/<name>`.
//!
//! Entry point: [`build`]. The schemas come from k8s-openapi (see [`super::kinds`]). This
//! module undoes k8s-openapi's departures from the upstream documents and synthesizes the
//! list types, because k8s-openapi has one generic `List<T>` without a schema. It then
//! adds the Kubernetes extensions: `x-kubernetes-group-version-kind` on kinds, and the
//! patch and list metadata of `apimachinery::patch::merge_keys` on fields.

use std::collections::BTreeMap;

use apimachinery::patch::merge_keys::{FieldPatchMeta, PATCH_META};
use apimachinery::scheme::{API_GROUPS, RESOURCES};
use k8s_openapi::schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::kinds::{self, KindSchema, meta};

/// Schema definitions by name, such as `io.k8s.api.core.v1.Pod`.
pub(super) type Definitions = BTreeMap<String, Value>;

/// Prefix of a reference to a definition in a Swagger 2.0 document.
pub(super) const V2_REF_PREFIX: &str = "#/definitions/";

const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const GROUP_VERSION_KIND: &str = "x-kubernetes-group-version-kind";

/// Types that upstream publishes with a description only, because their values take
/// several JSON types. k8s-openapi gives them a `type` or a `oneOf`.
const UNTYPED: &[&str] = &[
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
];

/// Fields that upstream marks required but k8s-openapi makes optional, so that it can
/// decode objects where older servers omitted them.
const REQUIRED_UPSTREAM: &[(&str, &str)] = &[("io.k8s.api.events.v1.Event", "eventTime")];

/// Builds every definition the documents refer to.
pub(super) fn build(kinds: &[KindSchema]) -> Definitions {
    let mut definitions = generate(kinds);

    restore_special_types(&mut definitions);
    restore_watch_event(&mut definitions);
    relax_metadata_required(&mut definitions);
    restore_required(&mut definitions);
    add_list_types(&mut definitions, kinds);
    add_group_version_kinds(&mut definitions, kinds);
    add_patch_metadata(&mut definitions);

    for schema in definitions.values_mut() {
        sort_keys(schema);
    }
    definitions
}

/// Returns the reference to a definition in a Swagger 2.0 document.
pub(super) fn v2_ref(name: &str) -> Value {
    json!({ "$ref": format!("{V2_REF_PREFIX}{name}") })
}

fn generate(kinds: &[KindSchema]) -> Definitions {
    let mut generator = SchemaSettings::draft07()
        .with(|settings| {
            settings.definitions_path = "/definitions".into();
            settings.meta_schema = None;
            settings.transforms.clear();
        })
        .into_generator();

    for kind in kinds {
        (kind.add_schema)(&mut generator);
    }
    for add_schema in kinds::supporting_types() {
        add_schema(&mut generator);
    }

    generator.take_definitions(false).into_iter().collect()
}

fn restore_special_types(definitions: &mut Definitions) {
    // Upstream's v2 form; the v3 form gets a `oneOf` in `super::v3`.
    if let Some(schema) = definitions.get_mut(QUANTITY) {
        *schema = with_description_of(schema, json!({ "type": "string" }));
    }
    if let Some(schema) = definitions.get_mut(INT_OR_STRING) {
        let replacement = json!({
            "type": "string",
            "format": "int-or-string",
            "x-kubernetes-int-or-string": true,
        });
        *schema = with_description_of(schema, replacement);
    }
    for name in UNTYPED {
        if let Some(schema) = definitions.get_mut(*name) {
            *schema = with_description_of(schema, json!({}));
        }
    }
}

/// Returns `replacement` with the description of `schema`.
fn with_description_of(schema: &Value, mut replacement: Value) -> Value {
    if let (Some(description), Some(object)) =
        (schema.get("description"), replacement.as_object_mut())
    {
        object.insert("description".to_string(), description.clone());
    }
    replacement
}

/// Moves the description of `WatchEvent.object`, which k8s-openapi appends to the type's
/// description after a blank line, back onto the field.
fn restore_watch_event(definitions: &mut Definitions) {
    let Some(schema) = definitions.get_mut(meta::WATCH_EVENT) else {
        return;
    };
    let Some(description) = schema.get("description").and_then(Value::as_str) else {
        return;
    };
    let Some((type_description, object_description)) = description.split_once("\n\n") else {
        return;
    };
    let (type_description, object_description) = (
        type_description.to_string(),
        object_description.trim_end().to_string(),
    );

    schema["description"] = Value::String(type_description);
    if let Some(object) = schema.pointer_mut("/properties/object") {
        object["description"] = Value::String(object_description);
    }
}

/// Removes `metadata` from the required fields of kinds: k8s-openapi marks it required
/// (its structs hold a non-optional `ObjectMeta`) but upstream does not.
fn relax_metadata_required(definitions: &mut Definitions) {
    for schema in definitions.values_mut() {
        let is_kind = ["apiVersion", "kind", "metadata"]
            .iter()
            .all(|field| schema.pointer(&format!("/properties/{field}")).is_some());
        if !is_kind {
            continue;
        }
        let Some(object) = schema.as_object_mut() else {
            continue;
        };
        let now_empty = match object.get_mut("required").and_then(Value::as_array_mut) {
            Some(required) => {
                required.retain(|field| field != "metadata");
                required.is_empty()
            }
            None => false,
        };
        if now_empty {
            object.remove("required");
        }
    }
}

fn restore_required(definitions: &mut Definitions) {
    for (name, field) in REQUIRED_UPSTREAM {
        let Some(object) = definitions.get_mut(*name).and_then(Value::as_object_mut) else {
            continue;
        };
        let required = object
            .entry("required")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Some(required) = required.as_array_mut()
            && !required.iter().any(|existing| existing == field)
        {
            required.push(Value::String((*field).to_string()));
        }
    }
}

/// Adds `<Kind>List` for every kind served with the `list` verb, in upstream's shape:
/// `apiVersion`, `kind`, required `items` and `metadata` of type `ListMeta`.
fn add_list_types(definitions: &mut Definitions, kinds: &[KindSchema]) {
    for resource in RESOURCES
        .iter()
        .filter(|resource| resource.supports("list"))
    {
        let Some(kind) = kinds::find(kinds, resource.group, resource.version, resource.kind) else {
            continue;
        };
        let Some(item) = definitions.get(kind.definition.as_ref()) else {
            continue;
        };
        let list = list_schema(kind, item);
        definitions.insert(format!("{}List", kind.definition), list);
    }
}

fn list_schema(kind: &KindSchema, item: &Value) -> Value {
    let mut metadata = v2_ref(meta::LIST_META);
    metadata["description"] = json!(
        "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
    );

    let mut properties = Map::new();
    for field in ["apiVersion", "kind"] {
        if let Some(property) = item.pointer(&format!("/properties/{field}")) {
            properties.insert(field.to_string(), property.clone());
        }
    }
    properties.insert(
        "items".to_string(),
        json!({
            "description": format!("Items is the list of {} objects.", kind.kind),
            "type": "array",
            "items": v2_ref(&kind.definition),
        }),
    );
    properties.insert("metadata".to_string(), metadata);

    json!({
        "description": format!("{}List is a list of {} objects.", kind.kind, kind.kind),
        "type": "object",
        "properties": properties,
        "required": ["items"],
    })
}

/// Adds `x-kubernetes-group-version-kind`. Each kind and its list get their own. The meta
/// kinds that every group version serves (`DeleteOptions`, `WatchEvent`) list all of them,
/// sorted by group and version as upstream sorts them.
fn add_group_version_kinds(definitions: &mut Definitions, kinds: &[KindSchema]) {
    let mut gvks: BTreeMap<String, Vec<(&str, &str, String)>> = BTreeMap::new();

    for kind in kinds {
        let entry = (kind.group, kind.version, kind.kind.to_string());
        gvks.entry(kind.definition.to_string())
            .or_default()
            .push(entry);
    }
    for resource in RESOURCES
        .iter()
        .filter(|resource| resource.supports("list"))
    {
        if let Some(kind) = kinds::find(kinds, resource.group, resource.version, resource.kind) {
            let entry = (kind.group, kind.version, format!("{}List", kind.kind));
            gvks.entry(format!("{}List", kind.definition))
                .or_default()
                .push(entry);
        }
    }
    for (definition, kind) in [
        (meta::STATUS, "Status"),
        (meta::API_GROUP, "APIGroup"),
        (meta::API_GROUP_LIST, "APIGroupList"),
        (meta::API_RESOURCE_LIST, "APIResourceList"),
        (meta::API_VERSIONS, "APIVersions"),
    ] {
        gvks.entry(definition.to_string())
            .or_default()
            .push(("", "v1", kind.to_string()));
    }
    for group in API_GROUPS {
        for version in group.versions {
            for (definition, kind) in [
                (meta::DELETE_OPTIONS, "DeleteOptions"),
                (meta::WATCH_EVENT, "WatchEvent"),
            ] {
                gvks.entry(definition.to_string()).or_default().push((
                    group.name,
                    version,
                    kind.to_string(),
                ));
            }
        }
    }

    for (definition, mut entries) in gvks {
        let Some(object) = definitions
            .get_mut(&definition)
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        entries.sort();
        let list = entries
            .into_iter()
            .map(|(group, version, kind)| json!({ "group": group, "version": version, "kind": kind }))
            .collect();
        object.insert(GROUP_VERSION_KIND.to_string(), Value::Array(list));
    }
}

/// Adds the patch and list extensions of `merge_keys::PATCH_META` to the fields they
/// describe. Returns the table entries whose type or field is not in `definitions` (types
/// of versions this server does not serve).
///
/// NOTE: upstream also marks types with `x-kubernetes-map-type` (`atomic` on
/// `LabelSelector`, `ObjectReference`, ...) and a few with `x-kubernetes-unions`. No table
/// here records them, so the documents lack them. kubectl does not read them.
fn add_patch_metadata(definitions: &mut Definitions) -> Vec<&'static FieldPatchMeta> {
    let mut unused = Vec::new();
    for entry in PATCH_META {
        let property = definitions
            .get_mut(entry.type_name)
            .and_then(|schema| schema.pointer_mut(&format!("/properties/{}", entry.field)))
            .and_then(Value::as_object_mut);
        let Some(property) = property else {
            unused.push(entry);
            continue;
        };

        if let Some(strategy) = entry.patch_strategy {
            property.insert("x-kubernetes-patch-strategy".to_string(), json!(strategy));
        }
        if let Some(merge_key) = entry.patch_merge_key {
            property.insert("x-kubernetes-patch-merge-key".to_string(), json!(merge_key));
        }
        if let Some(list_type) = entry.list_type {
            property.insert(
                "x-kubernetes-list-type".to_string(),
                json!(list_type.as_str()),
            );
        }
        if !entry.list_map_keys.is_empty() {
            property.insert(
                "x-kubernetes-list-map-keys".to_string(),
                json!(entry.list_map_keys),
            );
        }
    }
    unused
}

/// Sorts the keys of every object in `value`, as upstream's documents are sorted. The
/// order of arrays (such as `required`) is kept.
pub(super) fn sort_keys(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(object).into_iter().collect();
            entries.sort_by(|left, right| left.0.cmp(&right.0));
            for (key, mut child) in entries {
                sort_keys(&mut child);
                object.insert(key, child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definitions() -> Definitions {
        build(&kinds::kinds())
    }

    fn property<'a>(definitions: &'a Definitions, name: &str, field: &str) -> &'a Value {
        definitions
            .get(name)
            .and_then(|schema| schema.pointer(&format!("/properties/{field}")))
            .unwrap_or_else(|| panic!("{name}.{field} is missing"))
    }

    #[test]
    fn references_resolve() {
        let definitions = definitions();
        let mut missing = Vec::new();
        for (name, schema) in &definitions {
            collect_refs(schema, &mut |reference| {
                let target = reference.strip_prefix(V2_REF_PREFIX).unwrap_or(reference);
                if !definitions.contains_key(target) {
                    missing.push(format!("{name} -> {reference}"));
                }
            });
        }
        assert!(missing.is_empty(), "unresolved references: {missing:?}");
    }

    fn collect_refs(value: &Value, found: &mut dyn FnMut(&str)) {
        match value {
            Value::Object(object) => {
                if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
                    found(reference);
                }
                object.values().for_each(|child| collect_refs(child, found));
            }
            Value::Array(items) => items.iter().for_each(|child| collect_refs(child, found)),
            _ => {}
        }
    }

    #[test]
    fn formats_match_upstream() {
        let definitions = definitions();
        let cases = [
            (
                "io.k8s.api.core.v1.ContainerPort",
                "containerPort",
                "integer",
                Some("int32"),
            ),
            (
                "io.k8s.api.core.v1.PodSpec",
                "activeDeadlineSeconds",
                "integer",
                Some("int64"),
            ),
            (
                "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                "name",
                "string",
                None,
            ),
            (
                "io.k8s.api.core.v1.ContainerPort",
                "protocol",
                "string",
                None,
            ),
        ];
        for (name, field, expected_type, expected_format) in cases {
            let schema = property(&definitions, name, field);
            assert_eq!(schema["type"], expected_type, "{name}.{field}");
            assert_eq!(
                schema.get("format").and_then(Value::as_str),
                expected_format,
                "{name}.{field}"
            );
        }

        let time = &definitions["io.k8s.apimachinery.pkg.apis.meta.v1.Time"];
        assert_eq!(time["format"], "date-time");
        let secret_data = property(&definitions, "io.k8s.api.core.v1.Secret", "data");
        assert_eq!(secret_data["additionalProperties"]["format"], "byte");
    }

    #[test]
    fn quantity_and_int_or_string_are_strings() {
        let definitions = definitions();
        let quantity = &definitions[QUANTITY];
        assert_eq!(quantity["type"], "string");
        assert!(quantity.get("x-kubernetes-int-or-string").is_none());
        assert!(quantity["description"].as_str().is_some());

        let int_or_string = &definitions[INT_OR_STRING];
        assert_eq!(int_or_string["type"], "string");
        assert_eq!(int_or_string["format"], "int-or-string");
        assert_eq!(int_or_string["x-kubernetes-int-or-string"], true);
    }

    #[test]
    fn untyped_definitions_have_only_a_description() {
        let definitions = definitions();
        for name in UNTYPED {
            let schema = definitions[*name].as_object().expect("object");
            let keys: Vec<&String> = schema.keys().collect();
            assert_eq!(keys, ["description"], "{name}");
        }
    }

    #[test]
    fn metadata_is_optional_on_kinds() {
        let definitions = definitions();
        for name in [
            "io.k8s.api.core.v1.Pod",
            "io.k8s.api.apps.v1.Deployment",
            "io.k8s.api.core.v1.PodList",
        ] {
            let required = definitions[name]
                .get("required")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            assert!(
                !required.contains(&json!("metadata")),
                "{name}: {required:?}"
            );
        }
        let events_v1 = &definitions["io.k8s.api.events.v1.Event"];
        assert_eq!(events_v1["required"], json!(["eventTime"]));
        let container = &definitions["io.k8s.api.core.v1.Container"];
        assert_eq!(container["required"], json!(["name"]));
    }

    #[test]
    fn watch_event_object_has_its_description() {
        let definitions = definitions();
        let watch_event = &definitions[meta::WATCH_EVENT];
        let description = watch_event["description"].as_str().expect("description");
        assert!(!description.contains('\n'), "{description:?}");
        let object = &watch_event["properties"]["object"];
        let object_description = object["description"].as_str().expect("object description");
        assert!(
            object_description.starts_with("Object is:"),
            "{object_description:?}"
        );
        assert_eq!(
            object["$ref"],
            "#/definitions/io.k8s.apimachinery.pkg.runtime.RawExtension"
        );
    }

    #[test]
    fn list_types_follow_upstream_shape() {
        let definitions = definitions();
        let list = &definitions["io.k8s.api.core.v1.PodList"];
        assert_eq!(list["required"], json!(["items"]));
        assert_eq!(list["properties"]["items"]["type"], "array");
        assert_eq!(
            list["properties"]["items"]["items"]["$ref"],
            "#/definitions/io.k8s.api.core.v1.Pod"
        );
        assert_eq!(
            list["properties"]["metadata"]["$ref"],
            "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
        );
        assert_eq!(list["properties"]["kind"]["type"], "string");
        assert_eq!(
            list[GROUP_VERSION_KIND],
            json!([{ "group": "", "version": "v1", "kind": "PodList" }])
        );

        // Create-only kinds have no list.
        assert!(!definitions.contains_key("io.k8s.api.authentication.v1.TokenReviewList"));
        assert!(definitions.contains_key("io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerList"));
        assert!(definitions.contains_key("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerList"));
    }

    #[test]
    fn group_version_kinds_are_set() {
        let definitions = definitions();
        let cases = [
            ("io.k8s.api.core.v1.Pod", "", "v1", "Pod"),
            ("io.k8s.api.apps.v1.Deployment", "apps", "v1", "Deployment"),
            ("io.k8s.api.events.v1.Event", "events.k8s.io", "v1", "Event"),
            ("io.k8s.api.core.v1.Event", "", "v1", "Event"),
            (
                "io.k8s.api.autoscaling.v1.Scale",
                "autoscaling",
                "v1",
                "Scale",
            ),
            (meta::STATUS, "", "v1", "Status"),
        ];
        for (name, group, version, kind) in cases {
            assert_eq!(
                definitions[name][GROUP_VERSION_KIND],
                json!([{ "group": group, "version": version, "kind": kind }]),
                "{name}"
            );
        }

        let served: usize = API_GROUPS.iter().map(|group| group.versions.len()).sum();
        let delete_options = definitions[meta::DELETE_OPTIONS][GROUP_VERSION_KIND]
            .as_array()
            .expect("list");
        assert_eq!(delete_options.len(), served);
        assert_eq!(
            delete_options[0],
            json!({ "group": "", "version": "v1", "kind": "DeleteOptions" })
        );
        assert!(
            definitions["io.k8s.api.core.v1.PodSpec"]
                .get(GROUP_VERSION_KIND)
                .is_none()
        );
    }

    #[test]
    fn patch_metadata_is_applied() {
        let definitions = definitions();
        let containers = property(&definitions, "io.k8s.api.core.v1.PodSpec", "containers");
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");

        let volumes = property(&definitions, "io.k8s.api.core.v1.PodSpec", "volumes");
        assert_eq!(volumes["x-kubernetes-patch-strategy"], "merge,retainKeys");

        let ports = property(&definitions, "io.k8s.api.core.v1.Container", "ports");
        assert_eq!(ports["x-kubernetes-list-type"], "map");
        assert_eq!(
            ports["x-kubernetes-list-map-keys"],
            json!(["containerPort", "protocol"])
        );
        assert_eq!(ports["x-kubernetes-patch-merge-key"], "containerPort");

        let finalizers = property(
            &definitions,
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "finalizers",
        );
        assert_eq!(finalizers["x-kubernetes-list-type"], "set");
        assert_eq!(finalizers["x-kubernetes-patch-strategy"], "merge");
    }

    #[test]
    fn patch_metadata_table_matches_definitions() {
        let mut definitions = generate(&kinds::kinds());
        let unused = add_patch_metadata(&mut definitions);

        // An entry may only be left over because its type is not served here; a served
        // type with a missing field means the table or the schemas are wrong.
        let wrong: Vec<String> = unused
            .iter()
            .filter(|entry| definitions.contains_key(entry.type_name))
            .map(|entry| format!("{}.{}", entry.type_name, entry.field))
            .collect();
        assert!(
            wrong.is_empty(),
            "fields missing from served types: {wrong:?}"
        );
    }

    #[test]
    fn keys_are_sorted() {
        let definitions = definitions();
        let pod = definitions["io.k8s.api.core.v1.Pod"]
            .as_object()
            .expect("object");
        let keys: Vec<&String> = pod.keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }
}
