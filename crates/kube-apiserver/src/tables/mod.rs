//! Server-side printing: the `Table` (meta.k8s.io/v1) responses that `kubectl get`
//! requests with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
//!
//! Each built-in resource that upstream prints has a printer: its column definitions
//! (name, type, format, description, priority) and a function that turns one object into
//! the cells of a row, following upstream's printers (pkg/printers/internalversion,
//! Kubernetes v1.33). Resources without a printer get upstream's default table: `Name` and
//! `Created At`.
//!
//! Enter through [`table`] (a whole response), [`column_definitions`] and [`row`]. Rows
//! always carry the wide (`-o wide`, priority 1) cells, as upstream's server does; the
//! client hides the priority 1 columns unless asked for them.

use std::str::FromStr;
use std::time::SystemTime;

use apimachinery::errors::{FieldError, FieldPath, StatusError};
use k8s_openapi::jiff::Timestamp;
use serde_json::{Map, Value, json};

/// Builds the cells of a row from values that convert into JSON (strings, integers,
/// booleans).
macro_rules! cells {
    ($($cell:expr),* $(,)?) => {
        vec![$(serde_json::Value::from($cell)),*]
    };
}

mod apps;
mod cluster;
mod core_group;
mod descriptions;
pub mod duration;
mod format;
mod networking;
mod pod;
mod volumes;

pub use duration::human_duration;

use descriptions as doc;

/// A column of a table: the `columnDefinitions` entry upstream's printer declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    name: &'static str,
    /// The OpenAPI type of the cells: `string`, `integer`, `boolean` or `date`.
    kind: &'static str,
    /// The OpenAPI format. `name` marks the column that contains the object's name.
    format: &'static str,
    description: &'static str,
    /// 0 for the default columns, 1 for those `kubectl get -o wide` adds.
    priority: i32,
}

impl Column {
    /// Declares a column with priority 0 and no format.
    pub(crate) const fn new(
        name: &'static str,
        kind: &'static str,
        description: &'static str,
    ) -> Column {
        Column {
            name,
            kind,
            format: "",
            description,
            priority: 0,
        }
    }

    /// Sets the column's OpenAPI format.
    pub(crate) const fn format(self, format: &'static str) -> Column {
        Column { format, ..self }
    }

    /// Moves the column to priority 1, shown by `-o wide` only.
    pub(crate) const fn wide(self) -> Column {
        Column {
            priority: 1,
            ..self
        }
    }

    /// Serializes the column as a `TableColumnDefinition`; every field is always present.
    fn to_json(self) -> Value {
        json!({
            "name": self.name,
            "type": self.kind,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// The `Name` column most printers start with.
pub(crate) const NAME: Column = Column::new("Name", "string", doc::META_NAME).format("name");

/// The `Age` column: the time since `metadata.creationTimestamp`.
pub(crate) const AGE: Column = Column::new("Age", "string", doc::META_CREATION);

/// The wide `Containers` column of workloads.
pub(crate) const CONTAINERS: Column = Column::new(
    "Containers",
    "string",
    "Names of each container in the template.",
)
.wide();

/// The wide `Images` column of workloads.
pub(crate) const IMAGES: Column = Column::new(
    "Images",
    "string",
    "Images referenced by each container in the template.",
)
.wide();

/// The printer of one resource: its columns and how to build the cells of a row.
pub(crate) struct Printer {
    pub(crate) columns: &'static [Column],
    /// Builds the cells of the object's row, one per column including the wide ones. The
    /// second argument is the time ages are measured against.
    pub(crate) print: fn(&Value, Timestamp) -> Vec<Value>,
}

/// The columns of upstream's default table, for resources without a printer.
const DEFAULT_COLUMNS: [Column; 2] = [NAME, Column::new("Created At", "date", doc::META_CREATION)];

/// Returns the printer of `resource` in `group`, if upstream has one. A `scale`
/// subresource has its own printer, and any other subresource (`status`) is printed as its
/// resource.
fn printer_for(group: &str, resource: &str) -> Option<&'static Printer> {
    let (resource, subresource) = match resource.split_once('/') {
        Some((resource, subresource)) => (resource, subresource),
        None => (resource, ""),
    };
    if subresource == "scale" {
        return Some(&apps::SCALE);
    }

    let printer = match (group, resource) {
        ("", "pods") => &pod::POD,
        ("", "podtemplates") => &core_group::POD_TEMPLATE,
        ("", "replicationcontrollers") => &core_group::REPLICATION_CONTROLLER,
        ("", "services") => &core_group::SERVICE,
        ("", "endpoints") => &core_group::ENDPOINTS,
        ("", "nodes") => &core_group::NODE,
        ("", "events") | ("events.k8s.io", "events") => &core_group::EVENT,
        ("", "namespaces") => &core_group::NAMESPACE,
        ("", "secrets") => &core_group::SECRET,
        ("", "serviceaccounts") => &core_group::SERVICE_ACCOUNT,
        ("", "persistentvolumes") => &volumes::PERSISTENT_VOLUME,
        ("", "persistentvolumeclaims") => &volumes::PERSISTENT_VOLUME_CLAIM,
        ("", "componentstatuses") => &core_group::COMPONENT_STATUS,
        ("", "configmaps") => &core_group::CONFIG_MAP,
        ("", "resourcequotas") => &core_group::RESOURCE_QUOTA,
        ("apps", "deployments") => &apps::DEPLOYMENT,
        ("apps", "replicasets") => &apps::REPLICA_SET,
        ("apps", "statefulsets") => &apps::STATEFUL_SET,
        ("apps", "daemonsets") => &apps::DAEMON_SET,
        ("apps", "controllerrevisions") => &apps::CONTROLLER_REVISION,
        ("batch", "jobs") => &apps::JOB,
        ("batch", "cronjobs") => &apps::CRON_JOB,
        ("autoscaling", "horizontalpodautoscalers") => &apps::HORIZONTAL_POD_AUTOSCALER,
        ("policy", "poddisruptionbudgets") => &apps::POD_DISRUPTION_BUDGET,
        ("networking.k8s.io", "ingresses") => &networking::INGRESS,
        ("networking.k8s.io", "ingressclasses") => &networking::INGRESS_CLASS,
        ("networking.k8s.io", "networkpolicies") => &networking::NETWORK_POLICY,
        ("networking.k8s.io", "servicecidrs") => &networking::SERVICE_CIDR,
        ("networking.k8s.io", "ipaddresses") => &networking::IP_ADDRESS,
        ("discovery.k8s.io", "endpointslices") => &networking::ENDPOINT_SLICE,
        ("rbac.authorization.k8s.io", "rolebindings") => &cluster::ROLE_BINDING,
        ("rbac.authorization.k8s.io", "clusterrolebindings") => &cluster::CLUSTER_ROLE_BINDING,
        ("certificates.k8s.io", "certificatesigningrequests") => {
            &cluster::CERTIFICATE_SIGNING_REQUEST
        }
        ("certificates.k8s.io", "clustertrustbundles") => &cluster::CLUSTER_TRUST_BUNDLE,
        ("coordination.k8s.io", "leases") => &cluster::LEASE,
        ("coordination.k8s.io", "leasecandidates") => &cluster::LEASE_CANDIDATE,
        ("storage.k8s.io", "storageclasses") => &volumes::STORAGE_CLASS,
        ("storage.k8s.io", "volumeattributesclasses") => &volumes::VOLUME_ATTRIBUTES_CLASS,
        ("storage.k8s.io", "csinodes") => &volumes::CSI_NODE,
        ("storage.k8s.io", "csidrivers") => &volumes::CSI_DRIVER,
        ("storage.k8s.io", "csistoragecapacities") => &volumes::CSI_STORAGE_CAPACITY,
        ("storage.k8s.io", "volumeattachments") => &volumes::VOLUME_ATTACHMENT,
        ("scheduling.k8s.io", "priorityclasses") => &cluster::PRIORITY_CLASS,
        ("node.k8s.io", "runtimeclasses") => &cluster::RUNTIME_CLASS,
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations") => {
            &cluster::MUTATING_WEBHOOK_CONFIGURATION
        }
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations") => {
            &cluster::VALIDATING_WEBHOOK_CONFIGURATION
        }
        ("admissionregistration.k8s.io", "validatingadmissionpolicies") => {
            &cluster::VALIDATING_ADMISSION_POLICY
        }
        ("admissionregistration.k8s.io", "validatingadmissionpolicybindings") => {
            &cluster::VALIDATING_ADMISSION_POLICY_BINDING
        }
        ("admissionregistration.k8s.io", "mutatingadmissionpolicies") => {
            &cluster::MUTATING_ADMISSION_POLICY
        }
        ("admissionregistration.k8s.io", "mutatingadmissionpolicybindings") => {
            &cluster::MUTATING_ADMISSION_POLICY_BINDING
        }
        ("flowcontrol.apiserver.k8s.io", "flowschemas") => &cluster::FLOW_SCHEMA,
        ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations") => {
            &cluster::PRIORITY_LEVEL_CONFIGURATION
        }
        ("internal.apiserver.k8s.io", "storageversions") => &cluster::STORAGE_VERSION,
        ("storagemigration.k8s.io", "storageversionmigrations") => {
            &cluster::STORAGE_VERSION_MIGRATION
        }
        ("resource.k8s.io", "deviceclasses") => &cluster::DEVICE_CLASS,
        ("resource.k8s.io", "resourceclaims") => &cluster::RESOURCE_CLAIM,
        ("resource.k8s.io", "resourceclaimtemplates") => &cluster::RESOURCE_CLAIM_TEMPLATE,
        ("resource.k8s.io", "resourceslices") => &cluster::RESOURCE_SLICE,
        _ => return None,
    };
    Some(printer)
}

/// Returns the `columnDefinitions` of the table of `resource` in `group` (`""` for the
/// core group), wide columns included. `resource` may name a subresource such as
/// `deployments/scale`. Resources without a printer get upstream's default columns `Name`
/// and `Created At`.
pub fn column_definitions(group: &str, resource: &str) -> Vec<Value> {
    let columns: &[Column] = match printer_for(group, resource) {
        Some(printer) => printer.columns,
        None => &DEFAULT_COLUMNS,
    };
    columns.iter().map(|column| column.to_json()).collect()
}

/// Returns the cells of `object`'s row in the table of `resource` in `group`, one per
/// column of [`column_definitions`]. Rows of `ipaddresses` carry the age as one cell more,
/// as upstream sends them. Ages are measured against `now`.
///
/// Missing or wrongly typed fields print as upstream prints unset fields; the function does
/// not fail.
pub fn row(group: &str, resource: &str, object: &Value, now: SystemTime) -> Vec<Value> {
    print_row(group, resource, object, duration::timestamp_of(now))
}

fn print_row(group: &str, resource: &str, object: &Value, now: Timestamp) -> Vec<Value> {
    match printer_for(group, resource) {
        Some(printer) => (printer.print)(object, now),
        None => default_row(object),
    }
}

/// Builds the cells of upstream's default table: the name and the creation time in
/// RFC 3339, UTC.
fn default_row(object: &Value) -> Vec<Value> {
    let created =
        duration::timestamp_field(format::field(object, &["metadata", "creationTimestamp"]))
            .map_or_else(
                || "0001-01-01T00:00:00Z".to_string(),
                apimachinery::meta::format_time,
            );
    cells![format::name(object), created]
}

/// The content of each row's `object`, upstream's `includeObject` table option.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IncludeObject {
    /// No object: `"object": null`.
    None,
    /// The object's metadata as a `PartialObjectMetadata`; the default.
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

/// An `includeObject` value other than `None`, `Metadata` and `Object`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct UnsupportedIncludeObject(FieldError);

impl UnsupportedIncludeObject {
    /// Returns the 400 BadRequest upstream responds with: "Unable to convert to Table as
    /// requested: includeObject: Unsupported value: ...".
    pub fn to_status_error(&self) -> StatusError {
        StatusError::bad_request(format!(
            "Unable to convert to Table as requested: {}",
            self.0
        ))
    }
}

impl FromStr for IncludeObject {
    type Err = UnsupportedIncludeObject;

    /// Parses the `includeObject` query parameter; an empty value means the default,
    /// `Metadata`.
    fn from_str(text: &str) -> Result<IncludeObject, UnsupportedIncludeObject> {
        match text {
            "None" => Ok(IncludeObject::None),
            "" | "Metadata" => Ok(IncludeObject::Metadata),
            "Object" => Ok(IncludeObject::Object),
            other => Err(UnsupportedIncludeObject(FieldError::not_supported(
                &FieldPath::new("includeObject"),
                other,
                &["Metadata", "None", "Object"],
            ))),
        }
    }
}

/// The meta.k8s.io version a client asked the table in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TableVersion {
    /// meta.k8s.io/v1, what current clients ask for first.
    #[default]
    V1,
    /// meta.k8s.io/v1beta1, which older clients ask for.
    V1beta1,
}

impl TableVersion {
    fn api_version(self) -> &'static str {
        match self {
            TableVersion::V1 => "meta.k8s.io/v1",
            TableVersion::V1beta1 => "meta.k8s.io/v1beta1",
        }
    }
}

/// The options of a table response beyond the objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// The content of each row's `object`.
    pub include_object: IncludeObject,
    /// Leaves out the column definitions (`"columnDefinitions": null`), as upstream does
    /// for the `noHeaders` option and for every watch event after the first.
    pub no_headers: bool,
    /// The `apiVersion` of the table and of the `PartialObjectMetadata` in its rows.
    pub version: TableVersion,
}

/// Builds the `Table` response for `objects` of `resource` in `group`, with headers, in
/// meta.k8s.io/v1. `list_meta` contains the list's `resourceVersion`, `continue` and
/// `remainingItemCount`, or a single object's `resourceVersion`. Empty entries are left
/// out, as upstream leaves them out.
pub fn table(
    group: &str,
    resource: &str,
    objects: &[Value],
    include_object: IncludeObject,
    list_meta: Value,
    now: SystemTime,
) -> Value {
    let options = TableOptions {
        include_object,
        ..TableOptions::default()
    };
    table_with_options(group, resource, objects, options, list_meta, now)
}

/// Builds the `Table` response as [`table`] does, with every option of [`TableOptions`].
pub fn table_with_options(
    group: &str,
    resource: &str,
    objects: &[Value],
    options: TableOptions,
    list_meta: Value,
    now: SystemTime,
) -> Value {
    let now = duration::timestamp_of(now);

    let column_definitions = if options.no_headers {
        Value::Null
    } else {
        Value::Array(column_definitions(group, resource))
    };

    let rows: Vec<Value> = ordered_for_printing(group, resource, objects)
        .into_iter()
        .map(|object| table_row(group, resource, object, now, options))
        .collect();

    json!({
        "kind": "Table",
        "apiVersion": options.version.api_version(),
        "metadata": table_metadata(&list_meta),
        "columnDefinitions": column_definitions,
        "rows": rows,
    })
}

/// Returns the objects in the order upstream prints them: flow schemas sorted by matching
/// precedence, then name; every other resource as listed.
fn ordered_for_printing<'a>(group: &str, resource: &str, objects: &'a [Value]) -> Vec<&'a Value> {
    let mut ordered: Vec<&Value> = objects.iter().collect();
    if (group, resource) == ("flowcontrol.apiserver.k8s.io", "flowschemas") {
        ordered.sort_by(|a, b| {
            let precedence =
                |object: &Value| format::integer(object, &["spec", "matchingPrecedence"]);
            precedence(a)
                .cmp(&precedence(b))
                .then_with(|| format::name(a).cmp(format::name(b)))
        });
    }
    ordered
}

/// Builds one `TableRow`: cells, the conditions of finished pods, and the object as
/// `include_object` requests.
fn table_row(
    group: &str,
    resource: &str,
    object: &Value,
    now: Timestamp,
    options: TableOptions,
) -> Value {
    let mut row = Map::new();
    row.insert(
        "cells".to_string(),
        Value::Array(print_row(group, resource, object, now)),
    );
    if (group, resource) == ("", "pods")
        && let Some(conditions) = pod::pod_row_conditions(object)
    {
        row.insert("conditions".to_string(), conditions);
    }
    let embedded = match options.include_object {
        IncludeObject::None => Value::Null,
        IncludeObject::Metadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": options.version.api_version(),
            "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
        }),
        IncludeObject::Object => object.clone(),
    };
    row.insert("object".to_string(), embedded);
    Value::Object(row)
}

/// Copies the `ListMeta` fields of the table's `metadata` from `list_meta`, leaving out
/// empty strings and nulls as upstream's `omitempty` does.
fn table_metadata(list_meta: &Value) -> Value {
    let mut metadata = Map::new();
    for key in ["selfLink", "resourceVersion", "continue"] {
        if let Some(text) = list_meta.get(key).and_then(Value::as_str)
            && !text.is_empty()
        {
            metadata.insert(key.to_string(), Value::from(text));
        }
    }
    if let Some(count) = list_meta.get("remainingItemCount").and_then(Value::as_i64) {
        metadata.insert("remainingItemCount".to_string(), Value::from(count));
    }
    Value::Object(metadata)
}

#[cfg(test)]
mod tests;
