//! Printers of volumes: persistent volumes and claims (core group), and storage classes,
//! volume attributes classes, CSI nodes, CSI drivers, CSI storage capacities and volume
//! attachments (storage.k8s.io).

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::descriptions as doc;
use super::duration::since;
use super::format::{
    annotation, boolean, field, is_deleting, list, name, optional_boolean, optional_string,
    quantity, string,
};
use super::{AGE, Column, NAME, Printer};

/// Returns the age of the object, measured from `metadata.creationTimestamp`.
fn age(object: &Value, now: Timestamp) -> String {
    since(field(object, &["metadata", "creationTimestamp"]), now)
}

/// The annotation that named a volume's or claim's storage class before
/// `storageClassName`; it still takes precedence.
const BETA_STORAGE_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";

/// Prints access modes in upstream's fixed order as `RWO`, `ROX`, `RWX` and `RWOP`, joined
/// by ",".
fn access_modes(modes: &[Value]) -> String {
    let has = |mode: &str| modes.iter().any(|entry| entry.as_str() == Some(mode));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| has(mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// Returns the optional string at `path`, or `<unset>`.
fn or_unset(object: &Value, path: &[&str]) -> String {
    optional_string(object, path)
        .unwrap_or("<unset>")
        .to_string()
}

/// Columns and row of `persistentvolumes`.
pub(super) static PERSISTENT_VOLUME: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Capacity", "string", doc::PV_CAPACITY),
        Column::new("Access Modes", "string", doc::PV_ACCESS_MODES),
        Column::new("Reclaim Policy", "string", doc::PV_RECLAIM_POLICY),
        Column::new("Status", "string", doc::PV_PHASE),
        Column::new("Claim", "string", doc::PV_CLAIM_REF),
        Column::new("StorageClass", "string", "StorageClass of the pv"),
        Column::new(
            "VolumeAttributesClass",
            "string",
            "VolumeAttributesClass of the pv",
        ),
        Column::new("Reason", "string", doc::PV_REASON),
        AGE,
        Column::new("VolumeMode", "string", doc::PV_VOLUME_MODE).wide(),
    ],
    print: print_persistent_volume,
};

fn print_persistent_volume(volume: &Value, now: Timestamp) -> Vec<Value> {
    let claim = match field(volume, &["spec", "claimRef"]).filter(|value| !value.is_null()) {
        Some(claim) => format!(
            "{}/{}",
            string(claim, &["namespace"]),
            string(claim, &["name"])
        ),
        None => String::new(),
    };
    let phase = if is_deleting(volume) {
        "Terminating"
    } else {
        string(volume, &["status", "phase"])
    };
    let class = annotation(volume, BETA_STORAGE_CLASS_ANNOTATION)
        .unwrap_or_else(|| string(volume, &["spec", "storageClassName"]));
    cells![
        name(volume),
        quantity(field(volume, &["spec", "capacity", "storage"])),
        access_modes(list(volume, &["spec", "accessModes"])),
        string(volume, &["spec", "persistentVolumeReclaimPolicy"]),
        phase,
        claim,
        class,
        or_unset(volume, &["spec", "volumeAttributesClassName"]),
        string(volume, &["status", "reason"]),
        age(volume, now),
        or_unset(volume, &["spec", "volumeMode"]),
    ]
}

/// Columns and row of `persistentvolumeclaims`.
pub(super) static PERSISTENT_VOLUME_CLAIM: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Status", "string", doc::PVC_PHASE),
        Column::new("Volume", "string", doc::PVC_VOLUME_NAME),
        Column::new("Capacity", "string", doc::PVC_CAPACITY),
        Column::new("Access Modes", "string", doc::PVC_ACCESS_MODES),
        Column::new("StorageClass", "string", "StorageClass of the pvc"),
        Column::new(
            "VolumeAttributesClass",
            "string",
            "VolumeAttributesClass of the pvc",
        ),
        AGE,
        Column::new("VolumeMode", "string", doc::PVC_VOLUME_MODE).wide(),
    ],
    print: print_persistent_volume_claim,
};

/// Prints a claim; capacity and access modes come from the status and only once the claim
/// names its volume.
fn print_persistent_volume_claim(claim: &Value, now: Timestamp) -> Vec<Value> {
    let phase = if is_deleting(claim) {
        "Terminating"
    } else {
        string(claim, &["status", "phase"])
    };
    let volume_name = string(claim, &["spec", "volumeName"]);
    let (capacity, modes) = if volume_name.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity(field(claim, &["status", "capacity", "storage"])),
            access_modes(list(claim, &["status", "accessModes"])),
        )
    };
    let class = annotation(claim, BETA_STORAGE_CLASS_ANNOTATION)
        .or_else(|| optional_string(claim, &["spec", "storageClassName"]))
        .unwrap_or_default();
    cells![
        name(claim),
        phase,
        volume_name,
        capacity,
        modes,
        class,
        or_unset(claim, &["spec", "volumeAttributesClassName"]),
        age(claim, now),
        or_unset(claim, &["spec", "volumeMode"]),
    ]
}

/// Columns and row of `storageclasses`.
pub(super) static STORAGE_CLASS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Provisioner", "string", doc::SC_PROVISIONER),
        Column::new("ReclaimPolicy", "string", doc::SC_RECLAIM_POLICY),
        Column::new("VolumeBindingMode", "string", doc::SC_BINDING_MODE),
        Column::new("AllowVolumeExpansion", "string", doc::SC_ALLOW_EXPANSION),
        AGE,
    ],
    print: print_storage_class,
};

/// The annotations that mark the default storage class, current and beta.
const DEFAULT_STORAGE_CLASS_ANNOTATIONS: [&str; 2] = [
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
];

/// Prints a storage class; the default class gets ` (default)` after its name, and unset
/// fields show their defaults (`Delete`, `Immediate`, `false`).
fn print_storage_class(class: &Value, now: Timestamp) -> Vec<Value> {
    let is_default = DEFAULT_STORAGE_CLASS_ANNOTATIONS
        .iter()
        .any(|key| annotation(class, key) == Some("true"));
    let mut class_name = name(class).to_string();
    if is_default {
        class_name.push_str(" (default)");
    }
    cells![
        class_name,
        string(class, &["provisioner"]),
        optional_string(class, &["reclaimPolicy"]).unwrap_or("Delete"),
        optional_string(class, &["volumeBindingMode"]).unwrap_or("Immediate"),
        boolean(class, &["allowVolumeExpansion"]),
        age(class, now),
    ]
}

/// Columns and row of `volumeattributesclasses`.
pub(super) static VOLUME_ATTRIBUTES_CLASS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("DriverName", "string", doc::VAC_DRIVER_NAME),
        AGE,
    ],
    print: print_volume_attributes_class,
};

/// The annotation that marks the default volume attributes class.
const DEFAULT_VOLUME_ATTRIBUTES_CLASS_ANNOTATION: &str =
    "volumeattributesclass.alpha.kubernetes.io/is-default-class";

fn print_volume_attributes_class(class: &Value, now: Timestamp) -> Vec<Value> {
    let mut class_name = name(class).to_string();
    if annotation(class, DEFAULT_VOLUME_ATTRIBUTES_CLASS_ANNOTATION) == Some("true") {
        class_name.push_str(" (default)");
    }
    cells![class_name, string(class, &["driverName"]), age(class, now)]
}

/// Columns and row of `csinodes`.
pub(super) static CSI_NODE: Printer = Printer {
    columns: &[
        NAME,
        Column::new(
            "Drivers",
            "integer",
            "Drivers indicates the number of CSI drivers registered on the node",
        ),
        AGE,
    ],
    print: print_csi_node,
};

fn print_csi_node(node: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(node),
        list(node, &["spec", "drivers"]).len(),
        age(node, now)
    ]
}

/// Columns and row of `csidrivers`.
pub(super) static CSI_DRIVER: Printer = Printer {
    columns: &[
        NAME,
        Column::new("AttachRequired", "boolean", doc::CSIDRIVER_ATTACH),
        Column::new("PodInfoOnMount", "boolean", doc::CSIDRIVER_POD_INFO),
        Column::new("StorageCapacity", "boolean", doc::CSIDRIVER_CAPACITY),
        Column::new("TokenRequests", "string", doc::CSIDRIVER_TOKEN),
        Column::new("RequiresRepublish", "boolean", doc::CSIDRIVER_REPUBLISH),
        Column::new("Modes", "string", doc::CSIDRIVER_MODES),
        AGE,
    ],
    print: print_csi_driver,
};

/// Prints a CSI driver; unset fields show their defaults, and TokenRequests lists the
/// audiences (`<unset>` without the field).
fn print_csi_driver(driver: &Value, now: Timestamp) -> Vec<Value> {
    let token_requests = match field(driver, &["spec", "tokenRequests"]).and_then(Value::as_array) {
        None => "<unset>".to_string(),
        Some(requests) => requests
            .iter()
            .map(|request| string(request, &["audience"]))
            .collect::<Vec<_>>()
            .join(","),
    };
    let modes: Vec<&str> = list(driver, &["spec", "volumeLifecycleModes"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let modes = if modes.is_empty() {
        "<none>".to_string()
    } else {
        modes.join(",")
    };
    cells![
        name(driver),
        optional_boolean(driver, &["spec", "attachRequired"]).unwrap_or(true),
        boolean(driver, &["spec", "podInfoOnMount"]),
        boolean(driver, &["spec", "storageCapacity"]),
        token_requests,
        boolean(driver, &["spec", "requiresRepublish"]),
        modes,
        age(driver, now),
    ]
}

/// Columns and row of `csistoragecapacities`.
pub(super) static CSI_STORAGE_CAPACITY: Printer = Printer {
    columns: &[
        NAME,
        Column::new("StorageClassName", "string", doc::CSISC_CLASS),
        Column::new("Capacity", "string", doc::CSISC_CAPACITY),
    ],
    print: print_csi_storage_capacity,
};

fn print_csi_storage_capacity(capacity: &Value, _now: Timestamp) -> Vec<Value> {
    let amount = match field(capacity, &["capacity"]) {
        None | Some(Value::Null) => "<unset>".to_string(),
        present => quantity(present),
    };
    cells![
        name(capacity),
        string(capacity, &["storageClassName"]),
        amount
    ]
}

/// Columns and row of `volumeattachments`.
pub(super) static VOLUME_ATTACHMENT: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Attacher", "string", doc::VA_ATTACHER).format("name"),
        Column::new("PV", "string", doc::VA_PV),
        Column::new("Node", "string", doc::VA_NODE),
        Column::new("Attached", "boolean", doc::VA_ATTACHED),
        AGE,
    ],
    print: print_volume_attachment,
};

fn print_volume_attachment(attachment: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(attachment),
        string(attachment, &["spec", "attacher"]),
        string(attachment, &["spec", "source", "persistentVolumeName"]),
        string(attachment, &["spec", "nodeName"]),
        boolean(attachment, &["status", "attached"]),
        age(attachment, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2024-05-10T12:00:00Z".parse().expect("valid timestamp")
    }

    /// Returns the RFC 3339 time `seconds` before [`now`].
    fn ago(seconds: i64) -> String {
        Timestamp::from_second(now().as_second() - seconds)
            .expect("time in range")
            .to_string()
    }

    #[test]
    fn persistent_volume_rows() {
        let volume = |spec: Value, status: Value| {
            let mut full_spec = json!({"claimRef": {"name": "test", "namespace": "default"},
                "capacity": {"storage": "10Gi"}});
            if let (Some(full), Some(extra)) = (full_spec.as_object_mut(), spec.as_object()) {
                full.extend(extra.clone());
            }
            json!({"metadata": {"name": "pv"}, "spec": full_spec, "status": status})
        };
        let cases = [
            (
                volume(
                    json!({"accessModes": ["ReadOnlyMany"], "capacity": {"storage": "4Gi"}}),
                    json!({"phase": "Bound"}),
                ),
                cells![
                    "pv",
                    "4Gi",
                    "ROX",
                    "",
                    "Bound",
                    "default/test",
                    "",
                    "<unset>",
                    "",
                    "<unknown>",
                    "<unset>"
                ],
            ),
            (
                volume(
                    json!({"accessModes": ["ReadWriteMany"]}),
                    json!({"phase": "Pending"}),
                ),
                cells![
                    "pv",
                    "10Gi",
                    "RWX",
                    "",
                    "Pending",
                    "default/test",
                    "",
                    "<unset>",
                    "",
                    "<unknown>",
                    "<unset>"
                ],
            ),
            (
                volume(
                    json!({"accessModes": ["ReadWriteOnce"], "storageClassName": "my-scn",
                        "volumeAttributesClassName": "my-vacn",
                        "persistentVolumeReclaimPolicy": "Retain", "volumeMode": "Block"}),
                    json!({"phase": "Failed", "reason": "Recycler failed"}),
                ),
                cells![
                    "pv",
                    "10Gi",
                    "RWO",
                    "Retain",
                    "Failed",
                    "default/test",
                    "my-scn",
                    "my-vacn",
                    "Recycler failed",
                    "<unknown>",
                    "Block"
                ],
            ),
            (
                volume(
                    json!({"accessModes": ["ReadWriteOncePod", "ReadWriteMany", "ReadWriteOnce",
                        "ReadWriteOnce"]}),
                    json!({"phase": "Released"}),
                ),
                cells![
                    "pv",
                    "10Gi",
                    "RWO,RWX,RWOP",
                    "",
                    "Released",
                    "default/test",
                    "",
                    "<unset>",
                    "",
                    "<unknown>",
                    "<unset>"
                ],
            ),
        ];
        for (object, expected) in cases {
            assert_eq!(
                print_persistent_volume(&object, now()),
                expected,
                "{object}"
            );
        }

        let bare = json!({"metadata": {"name": "pv", "deletionTimestamp": ago(1),
            "annotations": {BETA_STORAGE_CLASS_ANNOTATION: "legacy"}},
            "spec": {"storageClassName": "ignored"}, "status": {"phase": "Bound"}});
        assert_eq!(
            print_persistent_volume(&bare, now()),
            cells![
                "pv",
                "0",
                "",
                "",
                "Terminating",
                "",
                "legacy",
                "<unset>",
                "",
                "<unknown>",
                "<unset>"
            ]
        );
    }

    #[test]
    fn persistent_volume_claim_rows() {
        let claim = |spec: Value, status: Value| {
            json!({"metadata": {"name": "pvc", "creationTimestamp": ago(300)}, "spec": spec,
                "status": status})
        };
        let bound_status = json!({"phase": "Bound", "accessModes": ["ReadOnlyMany"],
            "capacity": {"storage": "4Gi"}});
        let cases = [
            (
                claim(
                    json!({"volumeName": "my-volume", "volumeMode": "Filesystem"}),
                    bound_status.clone(),
                ),
                cells![
                    "pvc",
                    "Bound",
                    "my-volume",
                    "4Gi",
                    "ROX",
                    "",
                    "<unset>",
                    "5m",
                    "Filesystem"
                ],
            ),
            (
                claim(
                    json!({"volumeMode": "Filesystem"}),
                    json!({"phase": "Lost", "accessModes": ["ReadOnlyMany"],
                        "capacity": {"storage": "4Gi"}}),
                ),
                cells!["pvc", "Lost", "", "", "", "", "<unset>", "5m", "Filesystem"],
            ),
            (
                claim(
                    json!({"volumeName": "my-volume", "storageClassName": "my-scn",
                        "volumeAttributesClassName": "my-vacn"}),
                    json!({"phase": "Pending", "accessModes": ["ReadWriteOnce"],
                        "capacity": {"storage": "10Gi"}}),
                ),
                cells![
                    "pvc",
                    "Pending",
                    "my-volume",
                    "10Gi",
                    "RWO",
                    "my-scn",
                    "my-vacn",
                    "5m",
                    "<unset>"
                ],
            ),
        ];
        for (object, expected) in cases {
            assert_eq!(
                print_persistent_volume_claim(&object, now()),
                expected,
                "{object}"
            );
        }

        let deleting = json!({"metadata": {"name": "pvc", "deletionTimestamp": ago(1)},
            "spec": {}, "status": {"phase": "Bound"}});
        assert_eq!(
            print_persistent_volume_claim(&deleting, now())[1],
            json!("Terminating")
        );
    }

    #[test]
    fn storage_class_rows() {
        let cases = [
            (
                json!({"metadata": {"name": "sc1", "creationTimestamp": ago(300)},
                    "provisioner": "kubernetes.io/glusterfs"}),
                cells![
                    "sc1",
                    "kubernetes.io/glusterfs",
                    "Delete",
                    "Immediate",
                    false,
                    "5m"
                ],
            ),
            (
                json!({"metadata": {"name": "sc6", "creationTimestamp": ago(300),
                        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
                    "provisioner": "kubernetes.io/nfs", "reclaimPolicy": "Retain",
                    "allowVolumeExpansion": true, "volumeBindingMode": "WaitForFirstConsumer"}),
                cells![
                    "sc6 (default)",
                    "kubernetes.io/nfs",
                    "Retain",
                    "WaitForFirstConsumer",
                    true,
                    "5m"
                ],
            ),
            (
                json!({"metadata": {"name": "beta", "annotations":
                        {"storageclass.beta.kubernetes.io/is-default-class": "true"}},
                    "provisioner": "p"}),
                cells![
                    "beta (default)",
                    "p",
                    "Delete",
                    "Immediate",
                    false,
                    "<unknown>"
                ],
            ),
        ];
        for (class, expected) in cases {
            assert_eq!(print_storage_class(&class, now()), expected);
        }
    }

    #[test]
    fn volume_attributes_class_rows() {
        let class = json!({"metadata": {"name": "vac2", "creationTimestamp": ago(300)},
            "driverName": "fake", "parameters": {"iops": "500"}});
        assert_eq!(
            print_volume_attributes_class(&class, now()),
            cells!["vac2", "fake", "5m"]
        );
        let default_class = json!({"metadata": {"name": "vac1", "annotations":
            {DEFAULT_VOLUME_ATTRIBUTES_CLASS_ANNOTATION: "true"}}, "driverName": "fake"});
        assert_eq!(
            print_volume_attributes_class(&default_class, now())[0],
            json!("vac1 (default)")
        );
    }

    #[test]
    fn csi_rows() {
        let node = json!({"metadata": {"name": "node1"}, "spec": {"drivers": [
            {"name": "a", "nodeID": "1"}, {"name": "b", "nodeID": "2"}]}});
        assert_eq!(
            print_csi_node(&node, now()),
            cells!["node1", 2, "<unknown>"]
        );

        let defaults = json!({"metadata": {"name": "driver"}, "spec": {}});
        assert_eq!(
            print_csi_driver(&defaults, now()),
            cells![
                "driver",
                true,
                false,
                false,
                "<unset>",
                false,
                "<none>",
                "<unknown>"
            ]
        );
        let full = json!({"metadata": {"name": "driver"}, "spec": {
            "attachRequired": false, "podInfoOnMount": true, "storageCapacity": true,
            "tokenRequests": [{"audience": "a"}, {"audience": "b"}], "requiresRepublish": true,
            "volumeLifecycleModes": ["Persistent", "Ephemeral"]}});
        assert_eq!(
            print_csi_driver(&full, now()),
            cells![
                "driver",
                false,
                true,
                true,
                "a,b",
                true,
                "Persistent,Ephemeral",
                "<unknown>"
            ]
        );
        let no_audiences = json!({"spec": {"tokenRequests": []}});
        assert_eq!(print_csi_driver(&no_audiences, now())[4], json!(""));

        let capacity = json!({"metadata": {"name": "cap"}, "storageClassName": "fast",
            "capacity": "100Gi"});
        assert_eq!(
            print_csi_storage_capacity(&capacity, now()),
            cells!["cap", "fast", "100Gi"]
        );
        let unknown = json!({"metadata": {"name": "cap"}, "storageClassName": "fast"});
        assert_eq!(
            print_csi_storage_capacity(&unknown, now())[2],
            json!("<unset>")
        );
    }

    #[test]
    fn volume_attachment_rows() {
        let attachment = json!({"metadata": {"name": "csi-123", "creationTimestamp": ago(300)},
            "spec": {"attacher": "ebs.csi.aws.com", "nodeName": "node1",
                "source": {"persistentVolumeName": "pv-1"}},
            "status": {"attached": true}});
        assert_eq!(
            print_volume_attachment(&attachment, now()),
            cells!["csi-123", "ebs.csi.aws.com", "pv-1", "node1", true, "5m"]
        );
        let pending = json!({"metadata": {"name": "csi-456"},
            "spec": {"attacher": "x", "nodeName": "n", "source": {}}});
        assert_eq!(
            print_volume_attachment(&pending, now()),
            cells!["csi-456", "x", "", "n", false, "<unknown>"]
        );
    }
}
