//! Printers of cluster-level resources outside workloads, networking and volumes.
//!
//! They cover role bindings (rbac), certificate signing requests and cluster trust bundles
//! (certificates), leases and lease candidates (coordination), priority classes, runtime
//! classes, admission webhooks and policies, flow schemas and priority levels
//! (flowcontrol), storage versions and their migrations, and the dynamic resource
//! allocation kinds of resource.k8s.io.

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::descriptions as doc;
use super::duration::{human_duration, since};
use super::format::{
    field, integer, is_deleting, list, list_with_more, name, optional_integer, optional_string,
    string, string_map,
};
use super::{AGE, Column, NAME, Printer};

/// Returns the age of the object, measured from `metadata.creationTimestamp`.
fn age(object: &Value, now: Timestamp) -> String {
    since(field(object, &["metadata", "creationTimestamp"]), now)
}

/// Returns `text`, or `placeholder` when `text` is empty.
fn or_else(text: &str, placeholder: &str) -> String {
    if text.is_empty() {
        placeholder.to_string()
    } else {
        text.to_string()
    }
}

/// Columns and row of `rolebindings`.
pub(super) static ROLE_BINDING: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Role", "string", doc::ROLE_BINDING_ROLE_REF),
        AGE,
        Column::new("Users", "string", "Users in the roleBinding").wide(),
        Column::new("Groups", "string", "Groups in the roleBinding").wide(),
        Column::new(
            "ServiceAccounts",
            "string",
            "ServiceAccounts in the roleBinding",
        )
        .wide(),
    ],
    print: print_binding,
};

/// Columns and row of `clusterrolebindings`.
pub(super) static CLUSTER_ROLE_BINDING: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Role", "string", doc::CLUSTER_ROLE_BINDING_ROLE_REF),
        AGE,
        Column::new("Users", "string", "Users in the clusterRoleBinding").wide(),
        Column::new("Groups", "string", "Groups in the clusterRoleBinding").wide(),
        Column::new(
            "ServiceAccounts",
            "string",
            "ServiceAccounts in the clusterRoleBinding",
        )
        .wide(),
    ],
    print: print_binding,
};

/// Prints a role binding or cluster role binding: the role as `Kind/name`, and the users,
/// groups and service accounts (`namespace/name`) each joined by ", ".
fn print_binding(binding: &Value, now: Timestamp) -> Vec<Value> {
    let role = format!(
        "{}/{}",
        string(binding, &["roleRef", "kind"]),
        string(binding, &["roleRef", "name"])
    );
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut service_accounts = Vec::new();
    for subject in list(binding, &["subjects"]) {
        let subject_name = string(subject, &["name"]);
        match string(subject, &["kind"]) {
            "ServiceAccount" => service_accounts.push(format!(
                "{}/{subject_name}",
                string(subject, &["namespace"])
            )),
            "User" => users.push(subject_name.to_string()),
            "Group" => groups.push(subject_name.to_string()),
            _ => {}
        }
    }
    cells![
        name(binding),
        role,
        age(binding, now),
        users.join(", "),
        groups.join(", "),
        service_accounts.join(", "),
    ]
}

/// Columns and row of `certificatesigningrequests`.
pub(super) static CERTIFICATE_SIGNING_REQUEST: Printer = Printer {
    columns: &[
        NAME,
        AGE,
        Column::new("SignerName", "string", doc::CSR_SIGNER_NAME),
        Column::new("Requestor", "string", doc::CSR_REQUEST),
        Column::new("RequestedDuration", "string", doc::CSR_EXPIRATION),
        Column::new("Condition", "string", doc::CSR_CONDITIONS),
    ],
    print: print_certificate_signing_request,
};

fn print_certificate_signing_request(request: &Value, now: Timestamp) -> Vec<Value> {
    let duration = match optional_integer(request, &["spec", "expirationSeconds"]) {
        Some(seconds) => human_duration(SignedDuration::from_secs(seconds)),
        None => "<none>".to_string(),
    };
    cells![
        name(request),
        age(request, now),
        or_else(string(request, &["spec", "signerName"]), "<none>"),
        string(request, &["spec", "username"]),
        duration,
        certificate_request_status(request),
    ]
}

/// Prints `Denied`, `Approved` or `Pending` (in that precedence), followed by `,Failed`
/// and `,Issued` when they apply.
fn certificate_request_status(request: &Value) -> String {
    let has = |condition_type: &str| {
        list(request, &["status", "conditions"])
            .iter()
            .any(|condition| string(condition, &["type"]) == condition_type)
    };
    let mut status = if has("Denied") {
        "Denied".to_string()
    } else if has("Approved") {
        "Approved".to_string()
    } else {
        "Pending".to_string()
    };
    if has("Failed") {
        status.push_str(",Failed");
    }
    if !string(request, &["status", "certificate"]).is_empty() {
        status.push_str(",Issued");
    }
    status
}

/// Columns and row of `clustertrustbundles`.
pub(super) static CLUSTER_TRUST_BUNDLE: Printer = Printer {
    columns: &[
        NAME,
        Column::new("SignerName", "string", doc::CTB_SIGNER_NAME),
    ],
    print: print_cluster_trust_bundle,
};

fn print_cluster_trust_bundle(bundle: &Value, _now: Timestamp) -> Vec<Value> {
    cells![
        name(bundle),
        or_else(string(bundle, &["spec", "signerName"]), "<none>"),
    ]
}

/// Columns and row of `leases`.
pub(super) static LEASE: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Holder", "string", doc::LEASE_HOLDER),
        AGE,
    ],
    print: print_lease,
};

fn print_lease(lease: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(lease),
        string(lease, &["spec", "holderIdentity"]),
        age(lease, now),
    ]
}

/// Columns and row of `leasecandidates`. Upstream looks the version columns' descriptions
/// up among the object metadata's fields, where they do not exist, so they are empty.
pub(super) static LEASE_CANDIDATE: Printer = Printer {
    columns: &[
        NAME,
        Column::new("LeaseName", "string", doc::LEASE_CANDIDATE_LEASE_NAME),
        Column::new("BinaryVersion", "string", ""),
        Column::new("EmulationVersion", "string", ""),
        AGE,
    ],
    print: print_lease_candidate,
};

fn print_lease_candidate(candidate: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(candidate),
        string(candidate, &["spec", "leaseName"]),
        string(candidate, &["spec", "binaryVersion"]),
        string(candidate, &["spec", "emulationVersion"]),
        age(candidate, now),
    ]
}

/// Columns and row of `priorityclasses`.
pub(super) static PRIORITY_CLASS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Value", "integer", doc::PC_VALUE),
        Column::new("Global-Default", "boolean", doc::PC_GLOBAL_DEFAULT),
        AGE,
        Column::new("PreemptionPolicy", "string", doc::PC_PREEMPTION),
    ],
    print: print_priority_class,
};

fn print_priority_class(class: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(class),
        integer(class, &["value"]),
        super::format::boolean(class, &["globalDefault"]),
        age(class, now),
        string(class, &["preemptionPolicy"]),
    ]
}

/// Columns and row of `runtimeclasses`. Upstream looks the Handler description up among
/// the object metadata's fields, where it does not exist, so it is empty.
pub(super) static RUNTIME_CLASS: Printer = Printer {
    columns: &[NAME, Column::new("Handler", "string", ""), AGE],
    print: print_runtime_class,
};

fn print_runtime_class(class: &Value, now: Timestamp) -> Vec<Value> {
    cells![name(class), string(class, &["handler"]), age(class, now)]
}

/// The `Webhooks` column of webhook configurations.
const WEBHOOKS: Column = Column::new(
    "Webhooks",
    "integer",
    "Webhooks indicates the number of webhooks registered in this configuration",
);

/// Columns and row of `mutatingwebhookconfigurations`.
pub(super) static MUTATING_WEBHOOK_CONFIGURATION: Printer = Printer {
    columns: &[NAME, WEBHOOKS, AGE],
    print: print_webhook_configuration,
};

/// Columns and row of `validatingwebhookconfigurations`.
pub(super) static VALIDATING_WEBHOOK_CONFIGURATION: Printer = Printer {
    columns: &[NAME, WEBHOOKS, AGE],
    print: print_webhook_configuration,
};

fn print_webhook_configuration(configuration: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(configuration),
        list(configuration, &["webhooks"]).len(),
        age(configuration, now),
    ]
}

/// The `ParamKind` column of admission policies.
const PARAM_KIND: Column = Column::new(
    "ParamKind",
    "string",
    "ParamKind specifies the kind of resources used to parameterize this policy",
);

/// Columns and row of `validatingadmissionpolicies`.
pub(super) static VALIDATING_ADMISSION_POLICY: Printer = Printer {
    columns: &[
        NAME,
        Column::new(
            "Validations",
            "integer",
            "Validations indicates the number of validation rules defined in this configuration",
        ),
        PARAM_KIND,
        AGE,
    ],
    print: print_validating_admission_policy,
};

fn print_validating_admission_policy(policy: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(policy),
        list(policy, &["spec", "validations"]).len(),
        param_kind(policy),
        age(policy, now),
    ]
}

/// Columns and row of `mutatingadmissionpolicies`.
pub(super) static MUTATING_ADMISSION_POLICY: Printer = Printer {
    columns: &[
        NAME,
        Column::new(
            "Mutations",
            "integer",
            "Mutation indicates the number of mutations rules defined in this configuration",
        ),
        PARAM_KIND,
        AGE,
    ],
    print: print_mutating_admission_policy,
};

fn print_mutating_admission_policy(policy: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(policy),
        list(policy, &["spec", "mutations"]).len(),
        param_kind(policy),
        age(policy, now),
    ]
}

/// Prints the policy's parameter kind as `apiVersion/kind`, or `<unset>`.
fn param_kind(policy: &Value) -> String {
    match field(policy, &["spec", "paramKind"]).filter(|value| !value.is_null()) {
        Some(kind) => format!(
            "{}/{}",
            string(kind, &["apiVersion"]),
            string(kind, &["kind"])
        ),
        None => "<unset>".to_string(),
    }
}

/// The columns of admission policy bindings.
const POLICY_BINDING_COLUMNS: [Column; 4] = [
    NAME,
    Column::new(
        "PolicyName",
        "string",
        "PolicyName indicates the policy definition which the policy binding binded to",
    ),
    Column::new(
        "ParamRef",
        "string",
        "ParamRef indicates the param resource which sets the configration param",
    ),
    AGE,
];

/// Columns and row of `validatingadmissionpolicybindings`.
pub(super) static VALIDATING_ADMISSION_POLICY_BINDING: Printer = Printer {
    columns: &POLICY_BINDING_COLUMNS,
    print: print_admission_policy_binding,
};

/// Columns and row of `mutatingadmissionpolicybindings`.
pub(super) static MUTATING_ADMISSION_POLICY_BINDING: Printer = Printer {
    columns: &POLICY_BINDING_COLUMNS,
    print: print_admission_policy_binding,
};

/// Prints a policy binding; the parameter reference is `namespace/name`, `*/name` without
/// a namespace, the selector without a name, or `<unset>`.
fn print_admission_policy_binding(binding: &Value, now: Timestamp) -> Vec<Value> {
    let param_ref = match field(binding, &["spec", "paramRef"]).filter(|value| !value.is_null()) {
        None => "<unset>".to_string(),
        Some(reference) => {
            let param_name = string(reference, &["name"]);
            let namespace = string(reference, &["namespace"]);
            let selector = field(reference, &["selector"]).filter(|value| !value.is_null());
            if !param_name.is_empty() {
                if namespace.is_empty() {
                    format!("*/{param_name}")
                } else {
                    format!("{namespace}/{param_name}")
                }
            } else if let Some(selector) = selector {
                go_label_selector_string(selector)
            } else {
                "<unset>".to_string()
            }
        }
    };
    cells![
        name(binding),
        string(binding, &["spec", "policyName"]),
        param_ref,
        age(binding, now),
    ]
}

/// Prints a `LabelSelector` as Go's generated `String()` method of the API type does,
/// which upstream uses for the ParamRef cell:
/// `&LabelSelector{MatchLabels:map[string]string{a: b,},MatchExpressions:[]LabelSelectorRequirement{},}`.
// NOTE: this format is the gogo-protobuf generated String() of k8s.io/apimachinery as
// remembered from its generated code. It has not been compared with a v1.33 server.
fn go_label_selector_string(selector: &Value) -> String {
    let labels = string_map(selector, &["matchLabels"]);
    let labels: String = labels
        .iter()
        .map(|(key, value)| format!("{key}: {value},"))
        .collect();
    let expressions: String = list(selector, &["matchExpressions"])
        .iter()
        .map(|expression| {
            let values: Vec<&str> = list(expression, &["values"])
                .iter()
                .filter_map(Value::as_str)
                .collect();
            format!(
                "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{}],}},",
                string(expression, &["key"]),
                string(expression, &["operator"]),
                values.join(" ")
            )
        })
        .collect();
    format!(
        "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{expressions}}},}}"
    )
}

/// Columns and row of `flowschemas`.
pub(super) static FLOW_SCHEMA: Printer = Printer {
    columns: &[
        NAME,
        Column::new("PriorityLevel", "string", doc::FS_PL_NAME),
        Column::new("MatchingPrecedence", "string", doc::FS_PRECEDENCE),
        Column::new("DistinguisherMethod", "string", doc::FS_DISTINGUISHER),
        AGE,
        Column::new(
            "MissingPL",
            "string",
            "references a broken or non-existent PriorityLevelConfiguration",
        ),
    ],
    print: print_flow_schema,
};

/// Prints a flow schema; MissingPL is the status of its `Dangling` condition, `?` without
/// one.
fn print_flow_schema(schema: &Value, now: Timestamp) -> Vec<Value> {
    let distinguisher =
        optional_string(schema, &["spec", "distinguisherMethod", "type"]).unwrap_or("<none>");
    let dangling = list(schema, &["status", "conditions"])
        .iter()
        .find(|condition| string(condition, &["type"]) == "Dangling")
        .map_or("?", |condition| string(condition, &["status"]));
    cells![
        name(schema),
        string(schema, &["spec", "priorityLevelConfiguration", "name"]),
        integer(schema, &["spec", "matchingPrecedence"]),
        distinguisher,
        age(schema, now),
        dangling,
    ]
}

/// Columns and row of `prioritylevelconfigurations`.
pub(super) static PRIORITY_LEVEL_CONFIGURATION: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Type", "string", doc::PL_TYPE),
        Column::new("NominalConcurrencyShares", "string", doc::PL_NCS),
        Column::new("Queues", "string", doc::PL_QUEUES),
        Column::new("HandSize", "string", doc::PL_HAND_SIZE),
        Column::new("QueueLengthLimit", "string", doc::PL_QUEUE_LENGTH),
        AGE,
    ],
    print: print_priority_level_configuration,
};

/// Prints a priority level; the shares and queuing cells are numbers for a limited level
/// (queuing ones only when it queues) and `<none>` otherwise.
fn print_priority_level_configuration(level: &Value, now: Timestamp) -> Vec<Value> {
    let none = || Value::from("<none>");
    let limited = field(level, &["spec", "limited"]).filter(|value| !value.is_null());
    let shares = limited.map_or_else(none, |limited| {
        Value::from(integer(limited, &["nominalConcurrencyShares"]))
    });
    let queuing = limited
        .and_then(|limited| field(limited, &["limitResponse", "queuing"]))
        .filter(|value| !value.is_null());
    let queuing_cell =
        |key: &str| queuing.map_or_else(none, |queuing| Value::from(integer(queuing, &[key])));
    vec![
        Value::from(name(level)),
        Value::from(string(level, &["spec", "type"])),
        shares,
        queuing_cell("queues"),
        queuing_cell("handSize"),
        queuing_cell("queueLengthLimit"),
        Value::from(age(level, now)),
    ]
}

/// Columns and row of `storageversions`.
pub(super) static STORAGE_VERSION: Printer = Printer {
    columns: &[
        NAME,
        Column::new("CommonEncodingVersion", "string", doc::SV_COMMON),
        Column::new("StorageVersions", "string", doc::SV_VERSIONS),
        AGE,
    ],
    print: print_storage_version,
};

/// Prints a storage version; StorageVersions lists the first three `apiServerID=version`
/// pairs, then ` + N more...`.
fn print_storage_version(version: &Value, now: Timestamp) -> Vec<Value> {
    const MAX: usize = 3;
    let versions = list(version, &["status", "storageVersions"]);
    let shown: Vec<String> = versions
        .iter()
        .take(MAX)
        .map(|entry| {
            format!(
                "{}={}",
                string(entry, &["apiServerID"]),
                string(entry, &["encodingVersion"])
            )
        })
        .collect();
    cells![
        name(version),
        optional_string(version, &["status", "commonEncodingVersion"]).unwrap_or("<unset>"),
        list_with_more(&shown, versions.len() > MAX, versions.len(), MAX),
        age(version, now),
    ]
}

/// Columns and row of `storageversionmigrations`.
pub(super) static STORAGE_VERSION_MIGRATION: Printer = Printer {
    columns: &[
        Column::new("Name", "string", doc::META_NAME),
        Column::new("Resource", "string", "Fully qualified resource to migrate"),
    ],
    print: print_storage_version_migration,
};

/// Prints the resource to migrate as `resource.version.group`.
fn print_storage_version_migration(migration: &Value, _now: Timestamp) -> Vec<Value> {
    let resource = format!(
        "{}.{}.{}",
        string(migration, &["spec", "resource", "resource"]),
        string(migration, &["spec", "resource", "version"]),
        string(migration, &["spec", "resource", "group"])
    );
    cells![name(migration), resource]
}

/// Columns and row of `deviceclasses`.
pub(super) static DEVICE_CLASS: Printer = Printer {
    columns: &[NAME, AGE],
    print: print_name_and_age,
};

/// Columns and row of `resourceclaimtemplates`.
pub(super) static RESOURCE_CLAIM_TEMPLATE: Printer = Printer {
    columns: &[NAME, AGE],
    print: print_name_and_age,
};

fn print_name_and_age(object: &Value, now: Timestamp) -> Vec<Value> {
    cells![name(object), age(object, now)]
}

/// Columns and row of `resourceclaims`.
pub(super) static RESOURCE_CLAIM: Printer = Printer {
    columns: &[
        NAME,
        Column::new(
            "State",
            "string",
            "A summary of the current state (allocated, pending, reserved, etc.).",
        ),
        AGE,
    ],
    print: print_resource_claim,
};

/// Prints the claim's state: `deleted` while it is deleted, `pending` until allocated,
/// `allocated` and `reserved` once allocated and reserved for a consumer, joined by ",".
fn print_resource_claim(claim: &Value, now: Timestamp) -> Vec<Value> {
    let mut states = Vec::new();
    let deleting = is_deleting(claim);
    if deleting {
        states.push("deleted");
    }
    let allocated = field(claim, &["status", "allocation"]).is_some_and(|value| !value.is_null());
    if !allocated {
        if !deleting {
            states.push("pending");
        }
    } else {
        states.push("allocated");
        if !list(claim, &["status", "reservedFor"]).is_empty() {
            states.push("reserved");
        }
    }
    cells![name(claim), states.join(","), age(claim, now)]
}

/// Columns and row of `resourceslices`.
pub(super) static RESOURCE_SLICE: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Node", "string", doc::RSLICE_NODE),
        Column::new("Driver", "string", doc::RSLICE_DRIVER),
        Column::new("Pool", "string", doc::RSLICE_POOL),
        AGE,
    ],
    print: print_resource_slice,
};

fn print_resource_slice(slice: &Value, now: Timestamp) -> Vec<Value> {
    cells![
        name(slice),
        string(slice, &["spec", "nodeName"]),
        string(slice, &["spec", "driver"]),
        string(slice, &["spec", "pool", "name"]),
        age(slice, now),
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
    fn binding_rows() {
        let binding = json!({
            "metadata": {"name": "binding2", "creationTimestamp": ago(0)},
            "subjects": [
                {"kind": "User", "name": "user-name"},
                {"kind": "Group", "name": "group-name"},
                {"kind": "ServiceAccount", "name": "service-account-name",
                    "namespace": "service-account-namespace"},
                {"kind": "Other", "name": "ignored"},
            ],
            "roleRef": {"kind": "Role", "name": "role-name"},
        });
        assert_eq!(
            print_binding(&binding, now()),
            cells![
                "binding2",
                "Role/role-name",
                "0s",
                "user-name",
                "group-name",
                "service-account-namespace/service-account-name"
            ]
        );
        let two_users = json!({"metadata": {"name": "b"},
            "subjects": [{"kind": "User", "name": "a"}, {"kind": "User", "name": "b"}],
            "roleRef": {"kind": "ClusterRole", "name": "view"}});
        assert_eq!(
            print_binding(&two_users, now()),
            cells!["b", "ClusterRole/view", "<unknown>", "a, b", "", ""]
        );
    }

    #[test]
    fn certificate_signing_request_rows() {
        let request = |spec: Value, status: Value| {
            json!({"metadata": {"name": "csr", "creationTimestamp": ago(0)}, "spec": spec,
                "status": status})
        };
        let cases = [
            (
                request(json!({}), json!({})),
                cells!["csr", "0s", "<none>", "", "<none>", "Pending"],
            ),
            (
                request(
                    json!({"username": "CSR Requestor"}),
                    json!({"conditions": [{"type": "Approved"}]}),
                ),
                cells!["csr", "0s", "<none>", "CSR Requestor", "<none>", "Approved"],
            ),
            (
                request(
                    json!({"username": "CSR Requestor", "signerName": "example.com/test-signer",
                        "expirationSeconds": 7 * 86_400 + 3_600}),
                    json!({"conditions": [{"type": "Approved"}]}),
                ),
                cells![
                    "csr",
                    "0s",
                    "example.com/test-signer",
                    "CSR Requestor",
                    "7d1h",
                    "Approved"
                ],
            ),
            (
                request(
                    json!({"username": "CSR Requestor"}),
                    json!({"conditions": [{"type": "Approved"}], "certificate": "Y2VydA=="}),
                ),
                cells![
                    "csr",
                    "0s",
                    "<none>",
                    "CSR Requestor",
                    "<none>",
                    "Approved,Issued"
                ],
            ),
            (
                request(
                    json!({"username": "CSR Requestor"}),
                    json!({"conditions": [{"type": "Approved"}, {"type": "Denied"},
                        {"type": "Failed"}]}),
                ),
                cells![
                    "csr",
                    "0s",
                    "<none>",
                    "CSR Requestor",
                    "<none>",
                    "Denied,Failed"
                ],
            ),
        ];
        for (object, expected) in cases {
            assert_eq!(print_certificate_signing_request(&object, now()), expected);
        }
    }

    #[test]
    fn coordination_rows() {
        let lease = json!({"metadata": {"name": "lease2", "creationTimestamp": ago(300)},
            "spec": {"holderIdentity": "holder2"}});
        assert_eq!(
            print_lease(&lease, now()),
            cells!["lease2", "holder2", "5m"]
        );
        let candidate = json!({"metadata": {"name": "test-lease", "creationTimestamp": ago(300)},
            "spec": {"binaryVersion": "test-binary-version",
                "emulationVersion": "test-emulation-version", "leaseName": "test-lease-name"}});
        assert_eq!(
            print_lease_candidate(&candidate, now()),
            cells![
                "test-lease",
                "test-lease-name",
                "test-binary-version",
                "test-emulation-version",
                "5m"
            ]
        );
        let bundle = json!({"metadata": {"name": "test-cluster-trust-bundle"},
            "spec": {"signerName": "test-signer-name"}});
        assert_eq!(
            print_cluster_trust_bundle(&bundle, now()),
            cells!["test-cluster-trust-bundle", "test-signer-name"]
        );
    }

    #[test]
    fn scheduling_and_node_rows() {
        let class = json!({"metadata": {"name": "pc2", "creationTimestamp": ago(300)},
            "value": 1_000_000_000, "globalDefault": true,
            "preemptionPolicy": "PreemptLowerPriority"});
        assert_eq!(
            print_priority_class(&class, now()),
            cells!["pc2", 1_000_000_000, true, "5m", "PreemptLowerPriority"]
        );
        let plain = json!({"metadata": {"name": "pc1"}, "value": 1});
        assert_eq!(
            print_priority_class(&plain, now()),
            cells!["pc1", 1, false, "<unknown>", ""]
        );
        let runtime = json!({"metadata": {"name": "rc2", "creationTimestamp": ago(300)},
            "handler": "h2"});
        assert_eq!(
            print_runtime_class(&runtime, now()),
            cells!["rc2", "h2", "5m"]
        );
    }

    #[test]
    fn admission_rows() {
        let webhooks =
            json!({"metadata": {"name": "hooks"}, "webhooks": [{"name": "a"}, {"name": "b"}]});
        assert_eq!(
            print_webhook_configuration(&webhooks, now()),
            cells!["hooks", 2, "<unknown>"]
        );
        let policy = json!({"metadata": {"name": "p"}, "spec": {
            "paramKind": {"apiVersion": "rules.example.com/v1", "kind": "ReplicaLimit"},
            "validations": [{"expression": "true"}]}});
        assert_eq!(
            print_validating_admission_policy(&policy, now()),
            cells!["p", 1, "rules.example.com/v1/ReplicaLimit", "<unknown>"]
        );
        let mutating = json!({"metadata": {"name": "m"}, "spec": {"mutations": []}});
        assert_eq!(
            print_mutating_admission_policy(&mutating, now()),
            cells!["m", 0, "<unset>", "<unknown>"]
        );
    }

    #[test]
    fn admission_policy_binding_rows() {
        let binding = |param_ref: Value| {
            json!({"metadata": {"name": "config", "creationTimestamp": ago(300)},
                "spec": {"policyName": "test-scale.example.com", "paramRef": param_ref}})
        };
        let cases = [
            (
                binding(json!({"name": "test-scale-setting.example.com",
                    "parameterNotFoundAction": "Deny"})),
                "*/test-scale-setting.example.com",
            ),
            (
                binding(json!({"name": "setting", "namespace": "ns"})),
                "ns/setting",
            ),
            (
                binding(json!({"selector": {"matchLabels": {"b": "2", "a": "1"},
                    "matchExpressions": [{"key": "env", "operator": "In",
                        "values": ["prod", "dev"]}]}})),
                "&LabelSelector{MatchLabels:map[string]string{a: 1,b: 2,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:env,Operator:In,Values:[prod dev],},},}",
            ),
            (
                binding(json!({"selector": {}})),
                "&LabelSelector{MatchLabels:map[string]string{},MatchExpressions:[]LabelSelectorRequirement{},}",
            ),
            (binding(json!({})), "<unset>"),
            (binding(Value::Null), "<unset>"),
        ];
        for (object, param_ref) in cases {
            assert_eq!(
                print_admission_policy_binding(&object, now()),
                cells!["config", "test-scale.example.com", param_ref, "5m"]
            );
        }
    }

    #[test]
    fn flow_control_rows() {
        let schema = json!({"metadata": {"name": "all-matcher", "creationTimestamp": ago(0)},
            "spec": {"priorityLevelConfiguration": {"name": "allee"},
                "matchingPrecedence": 2_147_483_647,
                "distinguisherMethod": {"type": "ByUser"}}});
        assert_eq!(
            print_flow_schema(&schema, now()),
            cells!["all-matcher", "allee", 2_147_483_647, "ByUser", "0s", "?"]
        );
        let dangling = json!({"metadata": {"name": "some-matcher", "creationTimestamp": ago(300)},
            "spec": {"priorityLevelConfiguration": {"name": "allee"}, "matchingPrecedence": 0},
            "status": {"conditions": [{"type": "Dangling", "status": "True"}]}});
        assert_eq!(
            print_flow_schema(&dangling, now()),
            cells!["some-matcher", "allee", 0, "<none>", "5m", "True"]
        );

        let level = |spec: Value| json!({"metadata": {"name": "pl"}, "spec": spec});
        let cases = [
            (
                level(json!({"type": "Exempt"})),
                cells![
                    "pl",
                    "Exempt",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<unknown>"
                ],
            ),
            (
                level(
                    json!({"type": "Limited", "limited": {"nominalConcurrencyShares": 47,
                    "limitResponse": {"type": "Reject"}}}),
                ),
                cells![
                    "pl",
                    "Limited",
                    47,
                    "<none>",
                    "<none>",
                    "<none>",
                    "<unknown>"
                ],
            ),
            (
                level(
                    json!({"type": "Limited", "limited": {"nominalConcurrencyShares": 42,
                    "limitResponse": {"type": "Queue", "queuing": {"queues": 8, "handSize": 3,
                        "queueLengthLimit": 4}}}}),
                ),
                cells!["pl", "Limited", 42, 8, 3, 4, "<unknown>"],
            ),
        ];
        for (object, expected) in cases {
            assert_eq!(print_priority_level_configuration(&object, now()), expected);
        }
    }

    #[test]
    fn storage_version_rows() {
        let version = |status: Value| json!({"metadata": {"name": "sv"}, "status": status});
        let entry = |id: &str, encoding: &str| {
            json!({"apiServerID": id,
            "encodingVersion": encoding, "decodableVersions": [encoding]})
        };
        let cases = [
            (version(json!({})), ("<unset>", "<unset>")),
            (
                version(json!({"commonEncodingVersion": "v1",
                    "storageVersions": [entry("1", "v1"), entry("2", "v1")]})),
                ("v1", "1=v1,2=v1"),
            ),
            (
                version(
                    json!({"storageVersions": [entry("1", "v1"), entry("2", "v1"),
                    entry("3", "v2")]}),
                ),
                ("<unset>", "1=v1,2=v1,3=v2"),
            ),
            (
                version(json!({"commonEncodingVersion": "v1", "storageVersions": [
                    entry("1", "v1"), entry("2", "v1"), entry("3", "v1"), entry("4", "v1")]})),
                ("v1", "1=v1,2=v1,3=v1 + 1 more..."),
            ),
        ];
        for (object, (common, versions)) in cases {
            assert_eq!(
                print_storage_version(&object, now()),
                cells!["sv", common, versions, "<unknown>"]
            );
        }

        let migration = json!({"metadata": {"name": "print-test"}, "spec": {"resource": {
            "group": "test-group", "version": "test-version", "resource": "test-resource"}}});
        assert_eq!(
            print_storage_version_migration(&migration, now()),
            cells!["print-test", "test-resource.test-version.test-group"]
        );
    }

    #[test]
    fn resource_allocation_rows() {
        let class =
            json!({"metadata": {"name": "test-deviceclass", "creationTimestamp": ago(300)}});
        assert_eq!(
            print_name_and_age(&class, now()),
            cells!["test-deviceclass", "5m"]
        );

        let claim =
            |metadata: Value, status: Value| json!({"metadata": metadata, "status": status});
        let created = json!({"name": "claim", "creationTimestamp": ago(300)});
        let cases = [
            (claim(created.clone(), json!({})), "pending"),
            (
                claim(
                    created.clone(),
                    json!({"allocation": {}, "reservedFor": [{"resource": "pods",
                        "name": "pod-test", "uid": "pod-test"}]}),
                ),
                "allocated,reserved",
            ),
            (
                claim(created.clone(), json!({"allocation": {}})),
                "allocated",
            ),
            (
                claim(
                    json!({"name": "claim", "creationTimestamp": ago(300),
                        "deletionTimestamp": ago(0)}),
                    json!({}),
                ),
                "deleted",
            ),
            (
                claim(
                    json!({"name": "claim", "creationTimestamp": ago(300),
                        "deletionTimestamp": ago(0)}),
                    json!({"allocation": {}}),
                ),
                "deleted,allocated",
            ),
        ];
        for (object, state) in cases {
            assert_eq!(
                print_resource_claim(&object, now()),
                cells!["claim", state, "5m"]
            );
        }

        let slice = json!({"metadata": {"name": "test-resourceslice", "creationTimestamp": ago(300)},
            "spec": {"nodeName": "nodeName", "driver": "driverName",
                "pool": {"name": "poolName", "resourceSliceCount": 1}}});
        assert_eq!(
            print_resource_slice(&slice, now()),
            cells![
                "test-resourceslice",
                "nodeName",
                "driverName",
                "poolName",
                "5m"
            ]
        );
    }
}
