//! Tests of the table as a whole: column definitions per resource, the shape of the
//! `Table` JSON, `includeObject`, and that every printer fills every column.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;

use super::*;

/// 2024-05-10T12:00:00Z.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_715_342_400)
}

/// Returns `(name, priority)` of each column of the resource's table.
fn column_summary(group: &str, resource: &str) -> Vec<(String, i64)> {
    column_definitions(group, resource)
        .iter()
        .map(|column| {
            (
                column["name"].as_str().unwrap_or_default().to_string(),
                column["priority"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

/// The expected `(name, priority)` of each column.
type ExpectedColumns = &'static [(&'static str, i64)];

#[test]
fn column_names_and_priorities() {
    let cases: &[(&str, &str, ExpectedColumns)] = &[
        (
            "",
            "pods",
            &[
                ("Name", 0),
                ("Ready", 0),
                ("Status", 0),
                ("Restarts", 0),
                ("Age", 0),
                ("IP", 1),
                ("Node", 1),
                ("Nominated Node", 1),
                ("Readiness Gates", 1),
            ],
        ),
        (
            "",
            "services",
            &[
                ("Name", 0),
                ("Type", 0),
                ("Cluster-IP", 0),
                ("External-IP", 0),
                ("Port(s)", 0),
                ("Age", 0),
                ("Selector", 1),
            ],
        ),
        (
            "apps",
            "deployments",
            &[
                ("Name", 0),
                ("Ready", 0),
                ("Up-to-date", 0),
                ("Available", 0),
                ("Age", 0),
                ("Containers", 1),
                ("Images", 1),
                ("Selector", 1),
            ],
        ),
        (
            "",
            "nodes",
            &[
                ("Name", 0),
                ("Status", 0),
                ("Roles", 0),
                ("Age", 0),
                ("Version", 0),
                ("Internal-IP", 1),
                ("External-IP", 1),
                ("OS-Image", 1),
                ("Kernel-Version", 1),
                ("Container-Runtime", 1),
            ],
        ),
        (
            "events.k8s.io",
            "events",
            &[
                ("Last Seen", 0),
                ("Type", 0),
                ("Reason", 0),
                ("Object", 0),
                ("Subobject", 1),
                ("Source", 1),
                ("Message", 0),
                ("First Seen", 1),
                ("Count", 1),
                ("Name", 1),
            ],
        ),
        ("", "namespaces", &[("Name", 0), ("Status", 0), ("Age", 0)]),
        (
            "batch",
            "cronjobs",
            &[
                ("Name", 0),
                ("Schedule", 0),
                ("Timezone", 0),
                ("Suspend", 0),
                ("Active", 0),
                ("Last Schedule", 0),
                ("Age", 0),
                ("Containers", 1),
                ("Images", 1),
                ("Selector", 1),
            ],
        ),
        (
            "",
            "persistentvolumeclaims",
            &[
                ("Name", 0),
                ("Status", 0),
                ("Volume", 0),
                ("Capacity", 0),
                ("Access Modes", 0),
                ("StorageClass", 0),
                ("VolumeAttributesClass", 0),
                ("Age", 0),
                ("VolumeMode", 1),
            ],
        ),
        (
            "rbac.authorization.k8s.io",
            "clusterrolebindings",
            &[
                ("Name", 0),
                ("Role", 0),
                ("Age", 0),
                ("Users", 1),
                ("Groups", 1),
                ("ServiceAccounts", 1),
            ],
        ),
        (
            "apps",
            "deployments/scale",
            &[("Name", 0), ("Desired", 0), ("Available", 0), ("Age", 0)],
        ),
        (
            "apps",
            "deployments/status",
            &[
                ("Name", 0),
                ("Ready", 0),
                ("Up-to-date", 0),
                ("Available", 0),
                ("Age", 0),
                ("Containers", 1),
                ("Images", 1),
                ("Selector", 1),
            ],
        ),
        (
            "rbac.authorization.k8s.io",
            "roles",
            &[("Name", 0), ("Created At", 0)],
        ),
        (
            "rbac.authorization.k8s.io",
            "clusterroles",
            &[("Name", 0), ("Created At", 0)],
        ),
        ("", "limitranges", &[("Name", 0), ("Created At", 0)]),
        ("example.com", "widgets", &[("Name", 0), ("Created At", 0)]),
    ];
    for (group, resource, expected) in cases {
        let expected: Vec<(String, i64)> = expected
            .iter()
            .map(|(name, priority)| (name.to_string(), *priority))
            .collect();
        assert_eq!(
            column_summary(group, resource),
            expected,
            "{group}/{resource}"
        );
    }
}

#[test]
fn column_definition_fields() {
    let columns = column_definitions("", "pods");
    assert_eq!(
        columns[0],
        json!({
            "name": "Name",
            "type": "string",
            "format": "name",
            "description": doc::META_NAME,
            "priority": 0,
        })
    );
    assert_eq!(
        columns[3],
        json!({
            "name": "Restarts",
            "type": "string",
            "format": "",
            "description": "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            "priority": 0,
        })
    );
    assert!(
        doc::META_NAME.starts_with("Name must be unique within a namespace."),
        "{}",
        doc::META_NAME
    );
    assert!(doc::META_CREATION.contains("in UTC.\n\nPopulated by the system."));

    let default_columns = column_definitions("", "limitranges");
    assert_eq!(default_columns[1]["type"], json!("date"));
    assert_eq!(default_columns[1]["description"], json!(doc::META_CREATION));
}

/// Every resource with a printer, with the group it is served in.
const PRINTED_RESOURCES: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "podtemplates"),
    ("", "replicationcontrollers"),
    ("", "services"),
    ("", "endpoints"),
    ("", "nodes"),
    ("", "events"),
    ("events.k8s.io", "events"),
    ("", "namespaces"),
    ("", "secrets"),
    ("", "serviceaccounts"),
    ("", "persistentvolumes"),
    ("", "persistentvolumeclaims"),
    ("", "componentstatuses"),
    ("", "configmaps"),
    ("", "resourcequotas"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "controllerrevisions"),
    ("apps", "deployments/scale"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("policy", "poddisruptionbudgets"),
    ("networking.k8s.io", "ingresses"),
    ("networking.k8s.io", "ingressclasses"),
    ("networking.k8s.io", "networkpolicies"),
    ("networking.k8s.io", "servicecidrs"),
    ("networking.k8s.io", "ipaddresses"),
    ("discovery.k8s.io", "endpointslices"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("certificates.k8s.io", "certificatesigningrequests"),
    ("certificates.k8s.io", "clustertrustbundles"),
    ("coordination.k8s.io", "leases"),
    ("coordination.k8s.io", "leasecandidates"),
    ("storage.k8s.io", "storageclasses"),
    ("storage.k8s.io", "volumeattributesclasses"),
    ("storage.k8s.io", "csinodes"),
    ("storage.k8s.io", "csidrivers"),
    ("storage.k8s.io", "csistoragecapacities"),
    ("storage.k8s.io", "volumeattachments"),
    ("scheduling.k8s.io", "priorityclasses"),
    ("node.k8s.io", "runtimeclasses"),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    ("admissionregistration.k8s.io", "mutatingadmissionpolicies"),
    (
        "admissionregistration.k8s.io",
        "mutatingadmissionpolicybindings",
    ),
    ("flowcontrol.apiserver.k8s.io", "flowschemas"),
    (
        "flowcontrol.apiserver.k8s.io",
        "prioritylevelconfigurations",
    ),
    ("internal.apiserver.k8s.io", "storageversions"),
    ("storagemigration.k8s.io", "storageversionmigrations"),
    ("resource.k8s.io", "deviceclasses"),
    ("resource.k8s.io", "resourceclaims"),
    ("resource.k8s.io", "resourceclaimtemplates"),
    ("resource.k8s.io", "resourceslices"),
];

#[test]
fn every_printer_fills_every_column() {
    let objects = [
        json!({}),
        json!({"metadata": {"name": "x", "creationTimestamp": "2024-05-10T11:00:00Z"}}),
        json!({"metadata": 7, "spec": "wrong", "status": [1, 2]}),
    ];
    for (group, resource) in PRINTED_RESOURCES {
        assert!(
            printer_for(group, resource).is_some(),
            "{group}/{resource} has no printer"
        );
        let columns = column_definitions(group, resource).len();
        for object in &objects {
            let cells = row(group, resource, object, now());
            // Upstream sends an age cell for IP addresses without declaring the column.
            let expected = if *resource == "ipaddresses" {
                columns + 1
            } else {
                columns
            };
            assert_eq!(cells.len(), expected, "{group}/{resource} with {object}");
        }
    }
}

#[test]
fn default_row_prints_name_and_creation_time() {
    let role = json!({"metadata": {"name": "reader",
        "creationTimestamp": "2024-05-10T13:00:00+01:00"}});
    assert_eq!(
        row("rbac.authorization.k8s.io", "roles", &role, now()),
        cells!["reader", "2024-05-10T12:00:00Z"]
    );
    assert_eq!(
        row("", "limitranges", &json!({}), now()),
        cells!["", "0001-01-01T00:00:00Z"]
    );
}

fn sample_pod() -> Value {
    json!({
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "0b5c2a3e-1111-2222-3333-444455556666",
            "resourceVersion": "42",
            "creationTimestamp": "2024-05-10T11:55:00Z",
            "labels": {"app": "web"},
        },
        "spec": {"containers": [{"name": "web", "image": "nginx"}], "nodeName": "node1"},
        "status": {
            "phase": "Succeeded",
            "podIPs": [{"ip": "10.0.0.5"}],
            "containerStatuses": [{"name": "web", "ready": false, "restartCount": 0,
                "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}],
        },
    })
}

#[test]
fn table_shape_with_metadata_rows() {
    let pod = sample_pod();
    let table = table(
        "",
        "pods",
        std::slice::from_ref(&pod),
        IncludeObject::Metadata,
        json!({"resourceVersion": "42", "continue": "", "remainingItemCount": null}),
        now(),
    );

    let keys: Vec<&str> = table
        .as_object()
        .map(|object| object.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "kind",
            "apiVersion",
            "metadata",
            "columnDefinitions",
            "rows"
        ]
    );
    assert_eq!(table["kind"], json!("Table"));
    assert_eq!(table["apiVersion"], json!("meta.k8s.io/v1"));
    assert_eq!(table["metadata"], json!({"resourceVersion": "42"}));
    assert_eq!(
        table["columnDefinitions"],
        json!(column_definitions("", "pods"))
    );
    assert_eq!(
        table["rows"],
        json!([{
            "cells": ["web", "0/1", "Completed", "0", "5m", "10.0.0.5", "node1", "<none>", "<none>"],
            "conditions": [{"type": "Completed", "status": "True", "reason": "Succeeded",
                "message": "The pod has completed successfully."}],
            "object": {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": pod["metadata"],
            },
        }])
    );
}

#[test]
fn table_include_object_variants() {
    let pod = sample_pod();
    let objects = std::slice::from_ref(&pod);

    let whole = table("", "pods", objects, IncludeObject::Object, json!({}), now());
    assert_eq!(whole["rows"][0]["object"], pod);
    assert_eq!(whole["metadata"], json!({}));

    let none = table("", "pods", objects, IncludeObject::None, json!({}), now());
    assert_eq!(none["rows"][0]["object"], Value::Null);
    assert!(
        none["rows"][0]
            .as_object()
            .is_some_and(|row| row.contains_key("object")),
        "a row keeps the object key even when it carries no object"
    );
}

#[test]
fn table_options_and_list_metadata() {
    let namespace = json!({"metadata": {"name": "default"}, "status": {"phase": "Active"}});
    let options = TableOptions {
        include_object: IncludeObject::Metadata,
        no_headers: true,
        version: TableVersion::V1beta1,
    };
    let table = table_with_options(
        "",
        "namespaces",
        std::slice::from_ref(&namespace),
        options,
        json!({"resourceVersion": "7", "continue": "token", "remainingItemCount": 3}),
        now(),
    );
    assert_eq!(table["apiVersion"], json!("meta.k8s.io/v1beta1"));
    assert_eq!(table["columnDefinitions"], Value::Null);
    assert_eq!(
        table["metadata"],
        json!({"resourceVersion": "7", "continue": "token", "remainingItemCount": 3})
    );
    assert_eq!(
        table["rows"][0]["object"]["apiVersion"],
        json!("meta.k8s.io/v1beta1")
    );
    assert!(table["rows"][0].get("conditions").is_none());

    let empty = super::table(
        "",
        "namespaces",
        &[],
        IncludeObject::Metadata,
        Value::Null,
        now(),
    );
    assert_eq!(empty["rows"], json!([]));
    assert_eq!(empty["metadata"], json!({}));
}

#[test]
fn flow_schemas_are_sorted_by_precedence_then_name() {
    let schema = |name: &str, precedence: i64| {
        json!({"metadata": {"name": name}, "spec": {"matchingPrecedence": precedence,
            "priorityLevelConfiguration": {"name": "pl"}}})
    };
    let objects = [
        schema("global-default", 9900),
        schema("exempt", 1),
        schema("catch-all", 10000),
        schema("b-system", 500),
        schema("a-system", 500),
    ];
    let table = table(
        "flowcontrol.apiserver.k8s.io",
        "flowschemas",
        &objects,
        IncludeObject::None,
        json!({}),
        now(),
    );
    let names: Vec<&str> = table["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|row| row["cells"][0].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        names,
        [
            "exempt",
            "a-system",
            "b-system",
            "global-default",
            "catch-all"
        ]
    );
}

#[test]
fn include_object_parsing() {
    let cases = [
        ("", IncludeObject::Metadata),
        ("Metadata", IncludeObject::Metadata),
        ("None", IncludeObject::None),
        ("Object", IncludeObject::Object),
    ];
    for (text, expected) in cases {
        assert_eq!(text.parse::<IncludeObject>(), Ok(expected), "{text:?}");
    }

    let error = "Everything"
        .parse::<IncludeObject>()
        .expect_err("unsupported value");
    assert_eq!(
        error.to_string(),
        r#"includeObject: Unsupported value: "Everything": supported values: "Metadata", "None", "Object""#
    );
    let status = error.to_status_error();
    assert_eq!(status.code(), 400);
    assert_eq!(
        status.message(),
        r#"Unable to convert to Table as requested: includeObject: Unsupported value: "Everything": supported values: "Metadata", "None", "Object""#
    );
}

#[test]
fn wide_cells_follow_the_default_ones() {
    // The server always sends the priority 1 cells; they sit at the positions of the
    // priority 1 columns.
    let service = json!({"metadata": {"name": "svc"},
        "spec": {"type": "ClusterIP", "clusterIPs": ["10.0.0.1"], "selector": {"app": "web"},
            "ports": [{"port": 80, "protocol": "TCP"}]}});
    let columns = column_definitions("", "services");
    let cells = row("", "services", &service, now());
    let wide: Vec<(&Value, &Value)> = columns
        .iter()
        .zip(&cells)
        .filter(|(column, _)| column["priority"] == json!(1))
        .map(|(column, cell)| (&column["name"], cell))
        .collect();
    assert_eq!(wide, [(&json!("Selector"), &json!("app=web"))]);
}
