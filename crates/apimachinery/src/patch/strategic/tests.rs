//! Table-driven tests of strategic merge patch against the built-in schemas. Expected
//! results follow the behaviour documented by upstream's strategicpatch test data,
//! restated here on Pod, Deployment, Service and PodDisruptionBudget documents.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::patch::schema::BuiltinSchema;

fn pod() -> BuiltinSchema {
    BuiltinSchema::for_kind("", "v1", "Pod").expect("Pod is built in")
}

fn deployment() -> BuiltinSchema {
    BuiltinSchema::for_kind("apps", "v1", "Deployment").expect("Deployment is built in")
}

fn service() -> BuiltinSchema {
    BuiltinSchema::for_kind("", "v1", "Service").expect("Service is built in")
}

fn pdb() -> BuiltinSchema {
    BuiltinSchema::for_kind("policy", "v1", "PodDisruptionBudget").expect("PDB is built in")
}

/// Builds a pod whose spec contains the given containers.
fn containers(items: Value) -> Value {
    json!({"spec": {"containers": items}})
}

/// Builds a deployment whose pod template contains the given containers.
fn template_containers(items: Value) -> Value {
    json!({"spec": {"template": {"spec": {"containers": items}}}})
}

struct ApplyCase {
    name: &'static str,
    schema: fn() -> BuiltinSchema,
    original: Value,
    patch: Value,
    /// The patched document, or the HTTP status of the expected error.
    expected: Result<Value, u16>,
}

fn apply_cases() -> Vec<ApplyCase> {
    vec![
        ApplyCase {
            name: "containers merged by name",
            schema: pod,
            original: containers(
                json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]),
            ),
            patch: containers(json!([{"name": "b", "image": "b:2"}])),
            expected: Ok(containers(
                json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2"}]),
            )),
        },
        ApplyCase {
            name: "new container without order goes first",
            schema: pod,
            original: containers(json!([{"name": "a", "image": "a:1"}])),
            patch: containers(json!([{"name": "c", "image": "c:1"}])),
            expected: Ok(containers(
                json!([{"name": "c", "image": "c:1"}, {"name": "a", "image": "a:1"}]),
            )),
        },
        ApplyCase {
            name: "setElementOrder places new container",
            schema: pod,
            original: containers(json!([{"name": "a"}, {"name": "b"}])),
            patch: json!({"spec": {
                "$setElementOrder/containers": [{"name": "a"}, {"name": "c"}, {"name": "b"}],
                "containers": [{"name": "c", "image": "c:1"}]
            }}),
            expected: Ok(containers(
                json!([{"name": "a"}, {"name": "c", "image": "c:1"}, {"name": "b"}]),
            )),
        },
        ApplyCase {
            name: "setElementOrder keeps server-only items in server order",
            schema: pod,
            original: containers(json!([{"name": "a"}, {"name": "b"}, {"name": "sidecar"}])),
            patch: json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}),
            expected: Ok(containers(
                json!([{"name": "b"}, {"name": "a"}, {"name": "sidecar"}]),
            )),
        },
        ApplyCase {
            name: "setElementOrder disagreeing with the patch list",
            schema: pod,
            original: containers(json!([{"name": "a"}, {"name": "b"}])),
            patch: json!({"spec": {
                "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                "containers": [{"name": "b", "image": "x"}, {"name": "a", "image": "y"}]
            }}),
            expected: Err(400),
        },
        ApplyCase {
            name: "setElementOrder with duplicate merge keys",
            schema: pod,
            original: containers(json!([
                {"name": "1"}, {"name": "2", "image": "x"}, {"name": "3"}, {"name": "2", "image": "y"}, {"name": "4"}
            ])),
            patch: json!({"spec": {"$setElementOrder/containers": [
                {"name": "2"}, {"name": "1"}, {"name": "4"}, {"name": "3"}, {"name": "2"}
            ]}}),
            expected: Ok(containers(json!([
                {"name": "2", "image": "x"}, {"name": "2", "image": "y"}, {"name": "1"}, {"name": "4"}, {"name": "3"}
            ]))),
        },
        ApplyCase {
            name: "delete item with $patch delete",
            schema: pod,
            original: containers(json!([{"name": "a"}, {"name": "b"}])),
            patch: containers(json!([{"name": "a", "$patch": "delete"}])),
            expected: Ok(containers(json!([{"name": "b"}]))),
        },
        ApplyCase {
            name: "delete removes every duplicate",
            schema: pod,
            original: containers(
                json!([{"name": "a"}, {"name": "a", "image": "x"}, {"name": "b"}]),
            ),
            patch: containers(json!([{"name": "a", "$patch": "delete"}])),
            expected: Ok(containers(json!([{"name": "b"}]))),
        },
        ApplyCase {
            name: "delete of a missing item is a no-op",
            schema: pod,
            original: containers(json!([{"name": "a"}])),
            patch: containers(json!([{"name": "z", "$patch": "delete"}])),
            expected: Ok(containers(json!([{"name": "a"}]))),
        },
        ApplyCase {
            name: "$patch replace item replaces the list",
            schema: pod,
            original: containers(json!([{"name": "a", "image": "a:1"}, {"name": "b"}])),
            patch: containers(json!([{"$patch": "replace"}, {"name": "c", "image": "c:1"}])),
            expected: Ok(containers(json!([{"name": "c", "image": "c:1"}]))),
        },
        ApplyCase {
            name: "$patch merge in a list is rejected",
            schema: pod,
            original: containers(json!([{"name": "a"}])),
            patch: containers(json!([{"name": "a", "$patch": "merge"}])),
            expected: Err(500),
        },
        ApplyCase {
            name: "$patch replace on a map",
            schema: pod,
            original: json!({"metadata": {"labels": {"x": "1", "y": "2"}}}),
            patch: json!({"metadata": {"labels": {"$patch": "replace", "z": "3"}}}),
            expected: Ok(json!({"metadata": {"labels": {"z": "3"}}})),
        },
        ApplyCase {
            name: "$patch delete on a map empties it",
            schema: pod,
            original: json!({"spec": {"nodeSelector": {"disk": "ssd"}, "hostNetwork": true}}),
            patch: json!({"spec": {"nodeSelector": {"$patch": "delete"}}}),
            expected: Ok(json!({"spec": {"nodeSelector": {}, "hostNetwork": true}})),
        },
        ApplyCase {
            name: "$patch replace at the root",
            schema: pod,
            original: json!({"metadata": {"name": "a", "labels": {"x": "1"}}}),
            patch: json!({"$patch": "replace", "metadata": {"name": "b"}}),
            expected: Ok(json!({"metadata": {"name": "b"}})),
        },
        ApplyCase {
            name: "unknown map directive",
            schema: pod,
            original: json!({"metadata": {"labels": {"x": "1"}}}),
            patch: json!({"metadata": {"labels": {"$patch": "frobnicate"}}}),
            expected: Err(500),
        },
        ApplyCase {
            name: "null deletes a key",
            schema: pod,
            original: json!({"metadata": {"labels": {"a": "1", "b": "2"}}}),
            patch: json!({"metadata": {"labels": {"a": null}}}),
            expected: Ok(json!({"metadata": {"labels": {"b": "2"}}})),
        },
        ApplyCase {
            name: "null for a missing key changes nothing",
            schema: pod,
            original: json!({"metadata": {"labels": {"a": "1"}}}),
            patch: json!({"metadata": {"labels": {"c": null}, "annotations": null}}),
            expected: Ok(json!({"metadata": {"labels": {"a": "1"}}})),
        },
        ApplyCase {
            name: "nested ports merged by containerPort",
            schema: pod,
            original: containers(json!([{"name": "a", "ports": [
                {"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}
            ]}])),
            patch: containers(
                json!([{"name": "a", "ports": [{"containerPort": 80, "name": "http"}]}]),
            ),
            expected: Ok(containers(json!([{"name": "a", "ports": [
                {"containerPort": 80, "protocol": "TCP", "name": "http"}, {"containerPort": 443}
            ]}]))),
        },
        ApplyCase {
            name: "env merged by name",
            schema: pod,
            original: containers(
                json!([{"name": "a", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]),
            ),
            patch: containers(json!([{"name": "a", "env": [{"name": "B", "value": "3"}]}])),
            expected: Ok(containers(
                json!([{"name": "a", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]}]),
            )),
        },
        ApplyCase {
            name: "volumeMounts merged by mountPath",
            schema: pod,
            original: containers(
                json!([{"name": "a", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]),
            ),
            patch: containers(
                json!([{"name": "a", "volumeMounts": [{"mountPath": "/data", "readOnly": true}]}]),
            ),
            expected: Ok(containers(json!([{"name": "a", "volumeMounts": [
                {"name": "data", "mountPath": "/data", "readOnly": true}
            ]}]))),
        },
        ApplyCase {
            name: "tolerations without strategy are replaced",
            schema: pod,
            original: json!({"spec": {"tolerations": [{"key": "a"}]}}),
            patch: json!({"spec": {"tolerations": [{"key": "b"}]}}),
            expected: Ok(json!({"spec": {"tolerations": [{"key": "b"}]}})),
        },
        ApplyCase {
            name: "container args are replaced",
            schema: pod,
            original: containers(json!([{"name": "a", "args": ["x", "y"]}])),
            patch: containers(json!([{"name": "a", "args": ["z"]}])),
            expected: Ok(containers(json!([{"name": "a", "args": ["z"]}]))),
        },
        ApplyCase {
            name: "finalizers merged as a set",
            schema: pod,
            original: json!({"metadata": {"finalizers": ["a", "b"]}}),
            patch: json!({"metadata": {"finalizers": ["c", "a"]}}),
            expected: Ok(json!({"metadata": {"finalizers": ["c", "a", "b"]}})),
        },
        ApplyCase {
            name: "deleteFromPrimitiveList removes a finalizer",
            schema: pod,
            original: json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
            patch: json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}),
            expected: Ok(json!({"metadata": {"finalizers": ["a", "c"]}})),
        },
        ApplyCase {
            name: "deleteFromPrimitiveList with setElementOrder",
            schema: pod,
            original: json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
            patch: json!({"metadata": {
                "$setElementOrder/finalizers": ["c", "a"],
                "$deleteFromPrimitiveList/finalizers": ["b"]
            }}),
            expected: Ok(json!({"metadata": {"finalizers": ["c", "a"]}})),
        },
        ApplyCase {
            name: "deleteFromPrimitiveList on a missing list adds nothing",
            schema: pod,
            original: json!({"metadata": {"name": "p"}}),
            patch: json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}),
            expected: Ok(json!({"metadata": {"name": "p"}})),
        },
        ApplyCase {
            name: "deleteFromPrimitiveList on a replaced list",
            schema: pod,
            original: containers(json!([{"name": "a", "args": ["x", "y"]}])),
            patch: containers(json!([{"name": "a", "$deleteFromPrimitiveList/args": ["x"]}])),
            expected: Ok(containers(json!([{"name": "a", "args": ["y"]}]))),
        },
        ApplyCase {
            name: "malformed deleteFromPrimitiveList key",
            schema: pod,
            original: json!({"metadata": {"finalizers": ["a"]}}),
            patch: json!({"metadata": {"$deleteFromPrimitiveList": ["a"]}}),
            expected: Err(400),
        },
        ApplyCase {
            name: "setElementOrder reorders scalars",
            schema: pod,
            original: json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
            patch: json!({"metadata": {"$setElementOrder/finalizers": ["c", "a", "b"]}}),
            expected: Ok(json!({"metadata": {"finalizers": ["c", "a", "b"]}})),
        },
        ApplyCase {
            name: "retainKeys clears deployment strategy fields",
            schema: deployment,
            original: json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}),
            patch: json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
            expected: Ok(json!({"spec": {"strategy": {"type": "Recreate"}}})),
        },
        ApplyCase {
            name: "retainKeys rejects a field it does not list",
            schema: deployment,
            original: json!({"spec": {"strategy": {"type": "Recreate"}}}),
            patch: json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 1}}}}),
            expected: Err(400),
        },
        ApplyCase {
            name: "retainKeys on a volume switches its source",
            schema: pod,
            original: json!({"spec": {"volumes": [{"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}]}}),
            patch: json!({"spec": {"volumes": [
                {"name": "v", "$retainKeys": ["configMap", "name"], "configMap": {"name": "cm"}}
            ]}}),
            expected: Ok(json!({"spec": {"volumes": [
                {"name": "v", "configMap": {"name": "cm"}}, {"name": "w", "emptyDir": {}}
            ]}})),
        },
        ApplyCase {
            name: "replace strategy map is not merged",
            schema: pdb,
            original: json!({"spec": {"selector": {"matchLabels": {"a": "1"}}, "minAvailable": 1}}),
            patch: json!({"spec": {"selector": {"matchLabels": {"b": "2"}}}}),
            expected: Ok(
                json!({"spec": {"selector": {"matchLabels": {"b": "2"}}, "minAvailable": 1}}),
            ),
        },
        ApplyCase {
            name: "service ports merged by port",
            schema: service,
            original: json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}),
            patch: json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
            expected: Ok(
                json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 443}]}}),
            ),
        },
        ApplyCase {
            name: "ownerReferences merged by uid",
            schema: pod,
            original: json!({"metadata": {"ownerReferences": [{"uid": "u1", "name": "a"}]}}),
            patch: json!({"metadata": {"ownerReferences": [{"uid": "u2", "name": "b"}]}}),
            expected: Ok(json!({"metadata": {"ownerReferences": [
                {"uid": "u2", "name": "b"}, {"uid": "u1", "name": "a"}
            ]}})),
        },
        ApplyCase {
            name: "missing merge key",
            schema: pod,
            original: containers(json!([{"name": "a"}])),
            patch: containers(json!([{"image": "x"}])),
            expected: Err(500),
        },
        ApplyCase {
            name: "lists of lists are rejected",
            schema: pod,
            original: json!({"metadata": {"finalizers": []}}),
            patch: json!({"metadata": {"finalizers": [["a"]]}}),
            expected: Err(422),
        },
        ApplyCase {
            name: "new value drops nulls and directives",
            schema: pod,
            original: json!({"spec": {"hostNetwork": true}}),
            patch: containers(
                json!([{"name": "a", "image": null}, {"name": "b", "$patch": "delete"}]),
            ),
            expected: Ok(json!({"spec": {"hostNetwork": true, "containers": [{"name": "a"}]}})),
        },
        ApplyCase {
            name: "value of another kind is replaced",
            schema: pod,
            original: json!({"metadata": {"labels": "oops"}}),
            patch: json!({"metadata": {"labels": {"a": "1"}}}),
            expected: Ok(json!({"metadata": {"labels": {"a": "1"}}})),
        },
        ApplyCase {
            name: "unknown type replaces lists",
            schema: BuiltinSchema::unknown,
            original: json!({"spec": {"items": [{"name": "a"}], "tags": ["x"]}}),
            patch: json!({"spec": {"items": [{"name": "b"}]}}),
            expected: Ok(json!({"spec": {"items": [{"name": "b"}], "tags": ["x"]}})),
        },
        ApplyCase {
            name: "unknown type merges maps",
            schema: BuiltinSchema::unknown,
            original: json!({"spec": {"a": 1, "b": {"c": 2}}}),
            patch: json!({"spec": {"a": null, "b": {"d": 3}}}),
            expected: Ok(json!({"spec": {"b": {"c": 2, "d": 3}}})),
        },
        ApplyCase {
            name: "null original counts as empty",
            schema: pod,
            original: Value::Null,
            patch: json!({"metadata": {"name": "p"}}),
            expected: Ok(json!({"metadata": {"name": "p"}})),
        },
        ApplyCase {
            name: "patch that is not an object",
            schema: pod,
            original: json!({}),
            patch: json!([1]),
            expected: Err(400),
        },
    ]
}

#[test]
fn strategic_merge_patch_apply_table() {
    let cases = apply_cases();
    assert!(cases.len() >= 30);
    for case in cases {
        let result = apply_strategic_merge_patch(&case.original, &case.patch, &(case.schema)());
        match (result, case.expected) {
            (Ok(actual), Ok(expected)) => assert_eq!(actual, expected, "{}", case.name),
            (Err(err), Err(status)) => {
                assert_eq!(err.status_code(), status, "{}: {err}", case.name)
            }
            (Ok(actual), Err(status)) => {
                panic!("{}: expected error {status}, got {actual}", case.name)
            }
            (Err(err), Ok(_)) => panic!("{}: unexpected error {err}", case.name),
        }
    }
}

#[test]
fn apply_keeps_input_documents_untouched() {
    let original = containers(json!([{"name": "a"}, {"name": "b"}]));
    let patch = containers(json!([{"name": "a", "$patch": "delete"}]));
    let (original_copy, patch_copy) = (original.clone(), patch.clone());
    apply_strategic_merge_patch(&original, &patch, &pod()).unwrap();
    assert_eq!(original, original_copy);
    assert_eq!(patch, patch_copy);
}

#[test]
fn apply_error_names_the_field() {
    let err = apply_strategic_merge_patch(
        &containers(json!([{"name": "a", "ports": [{"containerPort": 80}]}])),
        &containers(json!([{"name": "a", "ports": [{"name": "http"}]}])),
        &pod(),
    )
    .expect_err("port without containerPort");
    let message = err.to_string();
    assert!(message.contains("containerPort"), "{message}");
    assert!(message.contains("spec.containers"), "{message}");
}

struct DiffCase {
    name: &'static str,
    schema: fn() -> BuiltinSchema,
    original: Value,
    modified: Value,
    patch: Value,
}

fn two_way_cases() -> Vec<DiffCase> {
    vec![
        DiffCase {
            name: "unchanged",
            schema: pod,
            original: containers(json!([{"name": "a", "image": "a:1"}])),
            modified: containers(json!([{"name": "a", "image": "a:1"}])),
            patch: json!({}),
        },
        DiffCase {
            name: "changed image",
            schema: pod,
            original: containers(json!([{"name": "a", "image": "a:1"}, {"name": "b"}])),
            modified: containers(json!([{"name": "a", "image": "a:2"}, {"name": "b"}])),
            patch: json!({"spec": {
                "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                "containers": [{"name": "a", "image": "a:2"}]
            }}),
        },
        DiffCase {
            name: "removed container",
            schema: pod,
            original: containers(json!([{"name": "a"}, {"name": "b"}])),
            modified: containers(json!([{"name": "a"}])),
            patch: json!({"spec": {
                "$setElementOrder/containers": [{"name": "a"}],
                "containers": [{"name": "b", "$patch": "delete"}]
            }}),
        },
        DiffCase {
            name: "added and removed containers",
            schema: pod,
            original: containers(json!([{"name": "a"}, {"name": "b"}])),
            modified: containers(json!([{"name": "b"}, {"name": "c"}])),
            patch: json!({"spec": {
                "$setElementOrder/containers": [{"name": "b"}, {"name": "c"}],
                "containers": [{"name": "c"}, {"name": "a", "$patch": "delete"}]
            }}),
        },
        DiffCase {
            name: "reordered containers",
            schema: pod,
            original: containers(json!([{"name": "a"}, {"name": "b"}])),
            modified: containers(json!([{"name": "b"}, {"name": "a"}])),
            patch: json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}),
        },
        DiffCase {
            name: "removed label",
            schema: pod,
            original: json!({"metadata": {"labels": {"a": "1", "b": "2"}}}),
            modified: json!({"metadata": {"labels": {"a": "1"}}}),
            patch: json!({"metadata": {"labels": {"b": null}}}),
        },
        DiffCase {
            name: "finalizer removed and added",
            schema: pod,
            original: json!({"metadata": {"finalizers": ["a", "b"]}}),
            modified: json!({"metadata": {"finalizers": ["a", "c"]}}),
            patch: json!({"metadata": {
                "finalizers": ["c"],
                "$deleteFromPrimitiveList/finalizers": ["b"],
                "$setElementOrder/finalizers": ["a", "c"]
            }}),
        },
        DiffCase {
            name: "finalizers reordered into sorted order",
            schema: pod,
            original: json!({"metadata": {"finalizers": ["c", "b", "a"]}}),
            modified: json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
            patch: json!({"metadata": {"$setElementOrder/finalizers": ["a", "b", "c"]}}),
        },
        DiffCase {
            name: "list added where none was",
            schema: pod,
            original: json!({"metadata": {"name": "p"}}),
            modified: json!({"metadata": {"name": "p", "finalizers": ["a"]}}),
            patch: json!({"metadata": {"finalizers": ["a"]}}),
        },
        DiffCase {
            name: "tolerations replaced whole",
            schema: pod,
            original: json!({"spec": {"tolerations": [{"key": "a"}]}}),
            modified: json!({"spec": {"tolerations": [{"key": "a"}, {"key": "b"}]}}),
            patch: json!({"spec": {"tolerations": [{"key": "a"}, {"key": "b"}]}}),
        },
        DiffCase {
            name: "retainKeys for deployment strategy",
            schema: deployment,
            original: json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}),
            modified: json!({"spec": {"strategy": {"type": "Recreate"}}}),
            patch: json!({"spec": {"strategy": {
                "$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null
            }}}),
        },
        DiffCase {
            name: "nested port change",
            schema: pod,
            original: containers(json!([{"name": "a", "ports": [{"containerPort": 80}]}])),
            modified: containers(
                json!([{"name": "a", "ports": [{"containerPort": 80, "name": "http"}]}]),
            ),
            patch: json!({"spec": {
                "$setElementOrder/containers": [{"name": "a"}],
                "containers": [{
                    "name": "a",
                    "$setElementOrder/ports": [{"containerPort": 80}],
                    "ports": [{"containerPort": 80, "name": "http"}]
                }]
            }}),
        },
        DiffCase {
            name: "replace strategy map sent whole",
            schema: pdb,
            original: json!({"spec": {"selector": {"matchLabels": {"a": "1"}}, "minAvailable": 1}}),
            modified: json!({"spec": {"selector": {"matchLabels": {"a": "1"}}, "minAvailable": 2}}),
            patch: json!({"spec": {"selector": {"matchLabels": {"a": "1"}}, "minAvailable": 2}}),
        },
    ]
}

#[test]
fn strategic_two_way_patch_table() {
    for case in two_way_cases() {
        let schema = (case.schema)();
        let patch = create_two_way_merge_patch(&case.original, &case.modified, &schema)
            .unwrap_or_else(|err| panic!("{}: {err}", case.name));
        assert_eq!(patch, case.patch, "{}: patch", case.name);

        let applied = apply_strategic_merge_patch(&case.original, &patch, &schema)
            .unwrap_or_else(|err| panic!("{}: apply: {err}", case.name));
        assert_eq!(applied, case.modified, "{}: applied", case.name);
    }
}

struct ThreeWayCase {
    name: &'static str,
    schema: fn() -> BuiltinSchema,
    original: Value,
    modified: Value,
    current: Value,
    patch: Value,
    result: Value,
}

fn three_way_cases() -> Vec<ThreeWayCase> {
    vec![
        ThreeWayCase {
            name: "field removed from manifest is deleted, server fields kept",
            schema: deployment,
            original: json!({"metadata": {"labels": {"app": "web", "tier": "fe"}}, "spec": {"replicas": 3}}),
            modified: json!({"metadata": {"labels": {"app": "web"}}, "spec": {"replicas": 3}}),
            current: json!({
                "metadata": {"labels": {"app": "web", "tier": "fe"}, "uid": "u1"},
                "spec": {"replicas": 5, "revisionHistoryLimit": 10}
            }),
            patch: json!({"metadata": {"labels": {"tier": null}}, "spec": {"replicas": 3}}),
            result: json!({
                "metadata": {"labels": {"app": "web"}, "uid": "u1"},
                "spec": {"replicas": 3, "revisionHistoryLimit": 10}
            }),
        },
        ThreeWayCase {
            name: "container removed from manifest, injected sidecar kept",
            schema: deployment,
            original: template_containers(json!([{"name": "a"}, {"name": "b"}])),
            modified: template_containers(json!([{"name": "a"}])),
            current: template_containers(
                json!([{"name": "a"}, {"name": "b"}, {"name": "sidecar"}]),
            ),
            patch: json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "a"}],
                "containers": [{"name": "b", "$patch": "delete"}]
            }}}}),
            result: template_containers(json!([{"name": "a"}, {"name": "sidecar"}])),
        },
        ThreeWayCase {
            name: "add and delete containers keeps server order",
            schema: deployment,
            original: template_containers(json!([{"name": "1"}, {"name": "2"}])),
            modified: template_containers(json!([{"name": "2"}, {"name": "3"}])),
            current: template_containers(json!([
                {"name": "1"}, {"name": "2", "image": "b"}, {"name": "4", "image": "c"}
            ])),
            patch: json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "2"}, {"name": "3"}],
                "containers": [{"name": "3"}, {"name": "1", "$patch": "delete"}]
            }}}}),
            result: template_containers(json!([
                {"name": "2", "image": "b"}, {"name": "4", "image": "c"}, {"name": "3"}
            ])),
        },
        ThreeWayCase {
            name: "defaulted field cleared by retainKeys",
            schema: deployment,
            original: json!({}),
            modified: json!({"spec": {"strategy": {"type": "Recreate"}}}),
            current: json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}}}}),
            patch: json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
            result: json!({"spec": {"strategy": {"type": "Recreate"}}}),
        },
        ThreeWayCase {
            name: "retainKeys clears a field the server set on a volume",
            schema: pod,
            original: json!({"spec": {"volumes": [{"name": "bar"}, {"name": "foo", "configMap": {"name": "a"}}]}}),
            modified: json!({"spec": {"volumes": [{"name": "bar"}, {"name": "foo", "configMap": {"name": "a"}}]}}),
            current: json!({"spec": {"volumes": [
                {"name": "bar"}, {"name": "foo", "configMap": {"name": "a"}, "emptyDir": {}}
            ]}}),
            patch: json!({"spec": {
                "$setElementOrder/volumes": [{"name": "bar"}, {"name": "foo"}],
                "volumes": [{"name": "foo", "$retainKeys": ["configMap", "name"]}]
            }}),
            result: json!({"spec": {"volumes": [{"name": "bar"}, {"name": "foo", "configMap": {"name": "a"}}]}}),
        },
        ThreeWayCase {
            name: "deleted finalizer with one added by the server",
            schema: deployment,
            original: json!({"metadata": {"finalizers": ["a", "b"]}}),
            modified: json!({"metadata": {"finalizers": ["a"]}}),
            current: json!({"metadata": {"finalizers": ["a", "b", "server"]}}),
            patch: json!({"metadata": {
                "$setElementOrder/finalizers": ["a"],
                "$deleteFromPrimitiveList/finalizers": ["b"]
            }}),
            result: json!({"metadata": {"finalizers": ["a", "server"]}}),
        },
        ThreeWayCase {
            name: "item with a delete directive in the manifest",
            schema: deployment,
            original: json!({"metadata": {"name": "d"}}),
            modified: json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [
                {"name": "hello"}, {"name": "gone", "$patch": "delete"}
            ]}}}}),
            current: json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [
                {"name": "hello2"}
            ]}}}}),
            patch: json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "hello"}, {"name": "gone"}],
                "containers": [{"name": "hello"}]
            }}}}),
            result: json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [
                {"name": "hello"}, {"name": "hello2"}
            ]}}}}),
        },
        ThreeWayCase {
            name: "nothing changed",
            schema: deployment,
            original: template_containers(json!([{"name": "a", "image": "a:1"}])),
            modified: template_containers(json!([{"name": "a", "image": "a:1"}])),
            current: template_containers(
                json!([{"name": "a", "image": "a:1", "imagePullPolicy": "Always"}]),
            ),
            patch: json!({}),
            result: template_containers(
                json!([{"name": "a", "image": "a:1", "imagePullPolicy": "Always"}]),
            ),
        },
    ]
}

#[test]
fn strategic_three_way_patch_table() {
    for case in three_way_cases() {
        let schema = (case.schema)();
        let patch = create_three_way_merge_patch(
            &case.original,
            &case.modified,
            &case.current,
            &schema,
            true,
        )
        .unwrap_or_else(|err| panic!("{}: {err}", case.name));
        assert_eq!(patch, case.patch, "{}: patch", case.name);

        let result = apply_strategic_merge_patch(&case.current, &patch, &schema)
            .unwrap_or_else(|err| panic!("{}: apply: {err}", case.name));
        assert_eq!(result, case.result, "{}: result", case.name);
    }
}

#[test]
fn three_way_patch_detects_conflicts_without_overwrite() {
    let original = json!({"spec": {"replicas": 1}});
    let modified = json!({"spec": {"replicas": 3}});
    let current = json!({"spec": {"replicas": 2}});

    let err = create_three_way_merge_patch(&original, &modified, &current, &deployment(), false)
        .expect_err("replicas changed on both sides");
    assert!(matches!(err, PatchError::Conflict { .. }), "{err}");
    assert_eq!(err.status_code(), 409);

    let patch = create_three_way_merge_patch(&original, &modified, &current, &deployment(), true)
        .expect("overwrite allowed");
    assert_eq!(patch, json!({"spec": {"replicas": 3}}));

    // A change only the server made is no conflict.
    let current = json!({"spec": {"replicas": 1, "paused": true}});
    let patch = create_three_way_merge_patch(&original, &modified, &current, &deployment(), false)
        .expect("no overlapping change");
    assert_eq!(patch, json!({"spec": {"replicas": 3}}));
}

#[test]
fn three_way_conflicts_compare_merged_items_by_key() {
    let original =
        containers(json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]));
    let modified =
        containers(json!([{"name": "a", "image": "a:2"}, {"name": "b", "image": "b:1"}]));
    let current = containers(json!([
        {"name": "a", "image": "a:1"},
        {"name": "b", "image": "b:1", "imagePullPolicy": "Always"}
    ]));
    create_three_way_merge_patch(&original, &modified, &current, &pod(), false)
        .expect("the server changed another container");

    // The patch reasserts b's image from the manifest, which the server changed.
    let current = containers(json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:9"}]));
    let err = create_three_way_merge_patch(&original, &modified, &current, &pod(), false)
        .expect_err("manifest value differs from the server's change");
    assert!(matches!(err, PatchError::Conflict { .. }));

    let current = containers(json!([{"name": "a", "image": "a:9"}, {"name": "b", "image": "b:1"}]));
    let err = create_three_way_merge_patch(&original, &modified, &current, &pod(), false)
        .expect_err("same container changed differently");
    assert!(matches!(err, PatchError::Conflict { .. }));
}

#[test]
fn apply_preconditions() {
    let cases = [
        (json!({"spec": {"replicas": 2}}), true),
        (json!({"kind": "Other"}), false),
        (json!({"apiVersion": "v2"}), false),
        (json!({"metadata": {"name": "renamed"}}), false),
        (json!({"metadata": {"labels": {"a": "b"}}}), true),
    ];
    for (patch, holds) in cases {
        let result = check_preconditions(&patch, APPLY_PRECONDITIONS);
        assert_eq!(result.is_ok(), holds, "{patch}");
        if let Err(err) = result {
            assert!(matches!(err, PatchError::PreconditionFailed { .. }));
        }
    }
}

/// Pod-like documents with unique merge keys and no null values, which two-way patches
/// reproduce exactly.
fn arb_pod() -> impl Strategy<Value = Value> {
    let port = (
        prop::sample::select(vec!["TCP", "UDP"]),
        prop::option::of("[a-c]{1,3}"),
    );
    let ports = prop::sample::subsequence(vec![80, 443, 8080, 9090], 0..=4)
        .prop_shuffle()
        .prop_flat_map(move |numbers| {
            let len = numbers.len();
            (Just(numbers), prop::collection::vec(port.clone(), len))
        })
        .prop_map(|(numbers, details)| {
            let items: Vec<Value> = numbers
                .into_iter()
                .zip(details)
                .map(|(number, (protocol, name))| {
                    let mut port = json!({"containerPort": number, "protocol": protocol});
                    if let Some(name) = name {
                        port["name"] = json!(name);
                    }
                    port
                })
                .collect();
            Value::Array(items)
        });
    let container = (
        prop::option::of("[a-c]:[1-3]"),
        prop::option::of(ports),
        prop::option::of(prop::collection::vec("[x-z]", 0..3)),
    );
    let containers = prop::sample::subsequence(vec!["a", "b", "c", "d"], 0..=4)
        .prop_shuffle()
        .prop_flat_map(move |names| {
            let len = names.len();
            (Just(names), prop::collection::vec(container.clone(), len))
        })
        .prop_map(|(names, details)| {
            let items: Vec<Value> = names
                .into_iter()
                .zip(details)
                .map(|(name, (image, ports, args))| {
                    let mut container = json!({"name": name});
                    if let Some(image) = image {
                        container["image"] = json!(image);
                    }
                    if let Some(ports) = ports {
                        container["ports"] = ports;
                    }
                    if let Some(args) = args {
                        container["args"] = json!(args);
                    }
                    container
                })
                .collect();
            Value::Array(items)
        });
    let finalizers = prop::sample::subsequence(vec!["f1", "f2", "f3", "f4"], 0..=4).prop_shuffle();
    let labels = prop::collection::btree_map("[a-c]", "[0-2]", 0..3);
    (
        prop::option::of(finalizers),
        prop::option::of(labels),
        prop::option::of(containers),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(finalizers, labels, containers, host_network)| {
            let mut metadata = serde_json::Map::new();
            if let Some(finalizers) = finalizers {
                metadata.insert("finalizers".into(), json!(finalizers));
            }
            if let Some(labels) = labels {
                metadata.insert("labels".into(), json!(labels));
            }
            let mut spec = serde_json::Map::new();
            if let Some(containers) = containers {
                spec.insert("containers".into(), containers);
            }
            if let Some(host_network) = host_network {
                spec.insert("hostNetwork".into(), json!(host_network));
            }
            json!({"metadata": metadata, "spec": spec})
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn two_way_patch_reproduces_modified(a in arb_pod(), b in arb_pod()) {
        let schema = pod();
        let patch = create_two_way_merge_patch(&a, &b, &schema).unwrap();
        let applied = apply_strategic_merge_patch(&a, &patch, &schema).unwrap();
        prop_assert_eq!(applied, b);
    }

    #[test]
    fn three_way_patch_unchanged_live_object(a in arb_pod(), b in arb_pod()) {
        let schema = pod();
        let patch = create_three_way_merge_patch(&a, &b, &a, &schema, false).unwrap();
        let applied = apply_strategic_merge_patch(&a, &patch, &schema).unwrap();
        prop_assert_eq!(applied, b);
    }

    #[test]
    fn two_way_patch_of_identical_documents_is_empty(a in arb_pod()) {
        let patch = create_two_way_merge_patch(&a, &a, &pod()).unwrap();
        prop_assert_eq!(patch, json!({}));
    }
}
