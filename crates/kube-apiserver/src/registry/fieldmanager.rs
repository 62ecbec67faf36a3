//! `metadata.managedFields` bookkeeping for create, update and patch, as upstream's
//! field manager does it for every operation but server-side apply.
//!
//! Entry point: [`FieldManager::update`], called with the live object (an empty one on
//! create) and the object the request produced. It compares the two, moves the
//! changed fields to the request's manager, takes them from every other manager,
//! drops what the request removed, and writes the entries back into the new object.

use apimachinery::errors::{FieldError, FieldPath, StatusError};
use apimachinery::fieldpath::{self, FieldSet};
use apimachinery::meta::{GroupKind, format_time, now_time};
use serde_json::{Map, Value};

/// Most Update entries an object keeps before the oldest are folded together.
const MAX_UPDATE_MANAGERS: usize = 10;

/// Manager name of the entry that collects folded Update entries.
const ANCIENT_CHANGES: &str = "ancient-changes";

/// Longest accepted `fieldManager`, in bytes.
pub const FIELD_MANAGER_MAX_LENGTH: usize = 128;

/// Metadata paths never tracked: the server owns them, or they identify the object.
const STRIPPED: &[&[&str]] = &[
    &["f:apiVersion"],
    &["f:kind"],
    &["f:metadata"],
    &["f:metadata", "f:name"],
    &["f:metadata", "f:namespace"],
    &["f:metadata", "f:creationTimestamp"],
    &["f:metadata", "f:selfLink"],
    &["f:metadata", "f:uid"],
    &["f:metadata", "f:clusterName"],
    &["f:metadata", "f:generation"],
    &["f:metadata", "f:managedFields"],
    &["f:metadata", "f:resourceVersion"],
];

/// [`STRIPPED`] as a field set, built once.
fn stripped_paths() -> &'static FieldSet {
    static STRIPPED_SET: std::sync::OnceLock<FieldSet> = std::sync::OnceLock::new();
    STRIPPED_SET.get_or_init(|| {
        let mut set = FieldSet::new();
        for path in STRIPPED {
            set.insert(path.iter().map(|element| element.to_string()).collect());
        }
        set
    })
}

/// Checks a `fieldManager` query value: at most 128 bytes of printable characters.
/// `options_kind` names the options in the error (`CreateOptions`, `UpdateOptions`,
/// `PatchOptions`).
///
/// # Errors
///
/// 422 Invalid naming the options kind, as upstream's option validation returns.
pub fn validate_field_manager(manager: &str, options_kind: &str) -> Result<(), StatusError> {
    let path = FieldPath::new("fieldManager");
    let mut errors = Vec::new();
    if manager.len() > FIELD_MANAGER_MAX_LENGTH {
        errors.push(FieldError::too_long(&path, Some(FIELD_MANAGER_MAX_LENGTH)));
    }
    for (position, character) in manager.char_indices() {
        if character.is_control() {
            errors.push(FieldError::invalid(
                &path,
                manager,
                format!(
                    "invalid character U+{:04X} (at position {position})",
                    character as u32
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(StatusError::invalid(
            &GroupKind::new("meta.k8s.io", options_kind),
            "",
            &errors,
        ))
    }
}

/// Derives a manager name from a User-Agent as upstream does: the text before the
/// first `/`, without unprintable characters, cut to 128 bytes.
pub fn manager_from_user_agent(user_agent: &str) -> String {
    let prefix = user_agent.split('/').next().unwrap_or_default();
    let mut manager = String::new();
    for character in prefix.chars().filter(|character| !character.is_control()) {
        if manager.len() + character.len_utf8() > FIELD_MANAGER_MAX_LENGTH {
            break;
        }
        manager.push(character);
    }
    manager
}

/// One decoded `managedFields` entry.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: Option<String>,
    subresource: String,
    fields: FieldSet,
}

impl Entry {
    fn same_identity(&self, other: &Entry) -> bool {
        self.manager == other.manager
            && self.operation == other.operation
            && self.api_version == other.api_version
            && self.subresource == other.subresource
    }

    fn decode(value: &Value) -> Result<Entry, String> {
        let text = |field: &str| {
            value
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let operation = text("operation");
        if operation != "Update" && operation != "Apply" {
            return Err(format!("unknown operation {operation:?}"));
        }
        if text("fieldsType") != "FieldsV1" {
            return Err(format!("unknown fieldsType {:?}", text("fieldsType")));
        }
        let fields = match value.get("fieldsV1") {
            Some(fields) => FieldSet::from_fields_v1(fields)?,
            None => FieldSet::new(),
        };
        Ok(Entry {
            manager: text("manager"),
            operation,
            api_version: text("apiVersion"),
            time: value
                .get("time")
                .and_then(Value::as_str)
                .map(str::to_string),
            subresource: text("subresource"),
            fields,
        })
    }

    fn encode(&self) -> Value {
        let mut map = Map::new();
        map.insert("manager".into(), Value::String(self.manager.clone()));
        map.insert("operation".into(), Value::String(self.operation.clone()));
        map.insert("apiVersion".into(), Value::String(self.api_version.clone()));
        if let Some(time) = &self.time {
            map.insert("time".into(), Value::String(time.clone()));
        }
        map.insert("fieldsType".into(), Value::String("FieldsV1".into()));
        map.insert("fieldsV1".into(), self.fields.to_fields_v1());
        if !self.subresource.is_empty() {
            map.insert(
                "subresource".into(),
                Value::String(self.subresource.clone()),
            );
        }
        Value::Object(map)
    }
}

fn decode_entries(value: Option<&Value>) -> Result<Vec<Entry>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(Entry::decode).collect(),
        Some(_) => Err("managedFields is not a list".to_string()),
    }
}

/// Returns whether a request's `managedFields` requests a reset: an empty list, or a list of
/// one empty entry.
fn is_reset(value: Option<&Value>) -> bool {
    match value.and_then(Value::as_array) {
        Some(items) if items.is_empty() => true,
        Some(items) if items.len() == 1 => items[0].as_object().is_some_and(Map::is_empty),
        _ => false,
    }
}

/// The field manager of one request.
#[derive(Clone, Debug)]
pub struct FieldManager<'a> {
    /// Group of the kind, `""` for core.
    pub group: &'a str,
    /// Version the request is served in.
    pub version: &'a str,
    /// Kind.
    pub kind: &'a str,
    /// The request's manager name.
    pub manager: &'a str,
    /// `"status"` or `"scale"` for writes through those subresources, `""` for the
    /// main resource.
    pub subresource: &'a str,
    /// Whether the resource has a status subresource: then writes to the main
    /// resource do not own `status`, and status writes do not own `spec`.
    pub has_status: bool,
}

impl FieldManager<'_> {
    /// Updates `new`'s `metadata.managedFields` for the change from `live` to `new`.
    ///
    /// The request's own list is used when it decodes and is not empty, because
    /// clients may edit the entries. An empty list or a list of one empty entry resets
    /// them. A list that does not decode, and any list sent to a subresource, is
    /// replaced by the live object's.
    pub fn update(&self, live: &Value, new: &mut Value) {
        let live_entries = decode_entries(managed_fields(live)).unwrap_or_default();
        let requested = managed_fields(new);
        let mut entries = if !self.subresource.is_empty() {
            live_entries
        } else if is_reset(requested) {
            Vec::new()
        } else {
            match decode_entries(requested) {
                Ok(entries) if !entries.is_empty() => entries,
                _ => live_entries,
            }
        };

        let mut live = live.clone();
        remove_managed_fields(&mut live);
        remove_managed_fields(new);
        let fieldpath::Comparison {
            added,
            modified,
            removed,
        } = fieldpath::compare(self.group, self.version, self.kind, &live, new);

        let mut changed = added;
        changed.absorb(modified);
        for entry in &mut entries {
            entry.fields.remove_all(&changed);
            entry.fields.remove_all(&removed);
        }

        let mut ignored = FieldSet::new();
        if self.has_status {
            let owned_elsewhere = if self.subresource == "status" {
                "f:spec"
            } else {
                "f:status"
            };
            ignored.insert(vec![owned_elsewhere.to_string()]);
        }
        let stripped = stripped_paths();
        let mut current = changed;
        current.remove_all(&removed);
        current.remove_under(&ignored);
        current.remove_all(stripped);

        let api_version = if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        };
        let mine = Entry {
            manager: self.manager.to_string(),
            operation: "Update".to_string(),
            api_version,
            time: None,
            subresource: self.subresource.to_string(),
            fields: current,
        };
        if !mine.fields.is_empty() {
            let time = Some(format_time(now_time()));
            match entries.iter_mut().find(|entry| entry.same_identity(&mine)) {
                Some(entry) => {
                    entry.fields = entry.fields.union(&mine.fields);
                    entry.time = time;
                }
                None => entries.push(Entry { time, ..mine }),
            }
        }

        for entry in &mut entries {
            entry.fields.remove_all(stripped);
        }
        entries.retain(|entry| !entry.fields.is_empty());
        let mut entries = cap_update_managers(entries);
        entries.sort_by(|a, b| {
            (
                &a.operation,
                &a.time,
                &a.manager,
                &a.api_version,
                &a.subresource,
            )
                .cmp(&(
                    &b.operation,
                    &b.time,
                    &b.manager,
                    &b.api_version,
                    &b.subresource,
                ))
        });
        if let Some(metadata) = new.get_mut("metadata").and_then(Value::as_object_mut)
            && !entries.is_empty()
        {
            metadata.insert(
                "managedFields".to_string(),
                Value::Array(entries.iter().map(Entry::encode).collect()),
            );
        }
    }
}

/// Folds the oldest Update entries into one `ancient-changes` entry per API version
/// until at most [`MAX_UPDATE_MANAGERS`] Update entries remain, as upstream does.
fn cap_update_managers(entries: Vec<Entry>) -> Vec<Entry> {
    let updates = entries
        .iter()
        .filter(|entry| entry.operation == "Update")
        .count();
    if updates <= MAX_UPDATE_MANAGERS {
        return entries;
    }

    let (mut updaters, others): (Vec<Entry>, Vec<Entry>) = entries
        .into_iter()
        .partition(|entry| entry.operation == "Update");
    updaters.sort_by(|a, b| {
        (&a.time, &a.manager, &a.api_version, &a.subresource).cmp(&(
            &b.time,
            &b.manager,
            &b.api_version,
            &b.subresource,
        ))
    });

    let mut remaining = updaters.len();
    let mut kept: Vec<Entry> = Vec::with_capacity(updaters.len());
    for entry in updaters {
        if remaining <= MAX_UPDATE_MANAGERS {
            kept.push(entry);
            continue;
        }
        // The first entry of a version becomes its bucket once a second one arrives.
        let bucket = kept
            .iter()
            .position(|candidate| candidate.api_version == entry.api_version);
        match bucket {
            Some(index) => {
                let target = &mut kept[index];
                target.manager = ANCIENT_CHANGES.to_string();
                target.subresource = String::new();
                target.fields = target.fields.union(&entry.fields);
                target.time = entry.time;
                remaining -= 1;
            }
            None => kept.push(entry),
        }
    }
    kept.extend(others);
    kept
}

fn managed_fields(object: &Value) -> Option<&Value> {
    object
        .get("metadata")
        .and_then(|metadata| metadata.get("managedFields"))
}

fn remove_managed_fields(object: &mut Value) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.shift_remove("managedFields");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn manager<'a>(name: &'a str, subresource: &'a str) -> FieldManager<'a> {
        FieldManager {
            group: "",
            version: "v1",
            kind: "ConfigMap",
            manager: name,
            subresource,
            has_status: false,
        }
    }

    fn fields_of(object: &Value, manager: &str) -> Option<Value> {
        object["metadata"]["managedFields"]
            .as_array()?
            .iter()
            .find(|entry| entry["manager"] == manager)
            .map(|entry| entry["fieldsV1"].clone())
    }

    #[test]
    fn create_records_the_set_fields() {
        let mut object = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "d", "labels": {"a": "1"}}, "data": {"k": "v"}});
        manager("kubectl-create", "").update(&json!({}), &mut object);
        let entries = object["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["operation"], "Update");
        assert_eq!(entries[0]["apiVersion"], "v1");
        assert_eq!(entries[0]["fieldsType"], "FieldsV1");
        assert_eq!(
            entries[0]["fieldsV1"],
            json!({"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {".": {}, "f:a": {}}}})
        );
    }

    #[test]
    fn update_moves_ownership_and_drops_empty_entries() {
        let mut live = json!({"metadata": {"name": "c"}, "data": {"k": "v"}});
        manager("first", "").update(&json!({}), &mut live);

        let mut changed = live.clone();
        changed["data"]["k"] = json!("w");
        manager("second", "").update(&live, &mut changed);
        assert_eq!(
            fields_of(&changed, "second"),
            Some(json!({"f:data": {"f:k": {}}}))
        );
        assert_eq!(fields_of(&changed, "first"), Some(json!({"f:data": {}})));

        let mut removed = changed.clone();
        removed.as_object_mut().unwrap().remove("data");
        manager("third", "").update(&changed, &mut removed);
        assert!(removed["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn empty_list_resets_and_invalid_list_keeps_live() {
        let mut live = json!({"metadata": {"name": "c"}, "data": {"k": "v"}});
        manager("first", "").update(&json!({}), &mut live);

        let mut reset = live.clone();
        reset["metadata"]["managedFields"] = json!([]);
        manager("second", "").update(&live, &mut reset);
        assert!(reset["metadata"].get("managedFields").is_none());

        let mut invalid = live.clone();
        invalid["metadata"]["managedFields"] = json!([{"manager": "x", "operation": "Bogus"}]);
        manager("second", "").update(&live, &mut invalid);
        assert_eq!(
            invalid["metadata"]["managedFields"],
            live["metadata"]["managedFields"]
        );
    }

    #[test]
    fn status_writes_get_their_own_entry() {
        let mut pod_manager = manager("kubelet", "status");
        pod_manager.kind = "Pod";
        pod_manager.has_status = true;
        let live = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n"}});
        let mut new = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "m"}, "status": {"phase": "Running"}});
        pod_manager.update(&live, &mut new);
        let entries = new["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(entries[0]["subresource"], "status");
        assert_eq!(entries[0]["fieldsV1"], json!({"f:status": {"f:phase": {}}}));
    }

    #[test]
    fn oldest_update_entries_fold_into_ancient_changes() {
        let mut object = json!({"metadata": {"name": "c"}, "data": {}});
        for index in 0..12 {
            let live = object.clone();
            object["data"][format!("k{index}")] = json!("v");
            let name = format!("manager-{index:02}");
            manager(&name, "").update(&live, &mut object);
        }
        let entries = object["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(entries.len(), 10, "{object}");
        let ancient = entries
            .iter()
            .find(|entry| entry["manager"] == ANCIENT_CHANGES)
            .expect("an ancient-changes entry");
        assert_eq!(
            ancient["fieldsV1"]["f:data"],
            json!({"f:k0": {}, "f:k1": {}, "f:k2": {}}),
            "{ancient}"
        );
        assert!(entries.iter().any(|entry| entry["manager"] == "manager-11"));
    }

    #[test]
    fn field_manager_validation_and_user_agent_prefix() {
        assert!(validate_field_manager("kubectl-edit", "UpdateOptions").is_ok());
        let error = validate_field_manager(&"x".repeat(129), "CreateOptions").unwrap_err();
        assert_eq!(error.code(), 422);
        assert!(
            error.message().contains("CreateOptions.meta.k8s.io"),
            "{}",
            error.message()
        );
        assert_eq!(
            manager_from_user_agent("kubectl/v1.33.0 (linux/amd64)"),
            "kubectl"
        );
        assert_eq!(manager_from_user_agent(&"y".repeat(300)).len(), 128);
    }
}
