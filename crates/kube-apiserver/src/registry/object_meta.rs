//! Validation of object metadata shared by every kind, with upstream's field paths
//! and messages (apimachinery's ValidateObjectMeta and ValidateObjectMetaUpdate).

use apimachinery::errors::{BadValue, FieldError, FieldPath};
use apimachinery::validation;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Maximum total size of all annotations of an object, in bytes.
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// How a kind's names are validated. `prefix` is true for `generateName`, whose
/// trailing dash is allowed.
pub type NameValidator = fn(name: &str, prefix: bool) -> Vec<String>;

/// Names that must be DNS-1123 subdomains: most kinds.
pub fn dns1123_subdomain(name: &str, prefix: bool) -> Vec<String> {
    validation::is_dns1123_subdomain(mask_trailing_dash(name, prefix))
}

/// Names that must be DNS-1123 labels: namespaces and a few others.
pub fn dns1123_label(name: &str, prefix: bool) -> Vec<String> {
    validation::is_dns1123_label(mask_trailing_dash(name, prefix))
}

/// Names that must be DNS-1035 labels: services.
pub fn dns1035_label(name: &str, prefix: bool) -> Vec<String> {
    validation::is_dns1035_label(mask_trailing_dash(name, prefix))
}

/// Names that only must be usable as a path segment: RBAC kinds.
pub fn path_segment(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        validation::is_valid_path_segment_prefix(name)
    } else {
        validation::is_valid_path_segment_name(name)
    }
}

/// Accepts every name; for kinds whose strategy validates names itself.
pub fn any_name(_name: &str, _prefix: bool) -> Vec<String> {
    Vec::new()
}

/// Returns the name validator upstream uses for a resource.
pub fn name_validator(group: &str, resource: &str) -> NameValidator {
    if group.is_empty() && super::core::validates_own_name(resource) {
        // The kind's strategy reports name errors itself; reporting them here too
        // would list each twice.
        return any_name;
    }
    match (group, resource) {
        // Upstream does not restrict CertificateSigningRequest names beyond a path segment.
        ("certificates.k8s.io", "certificatesigningrequests") => path_segment,
        ("", "namespaces") => dns1123_label,
        ("", "services") => dns1035_label,
        ("rbac.authorization.k8s.io", _) => path_segment,
        // Node names, events and a few others are subdomains too, the default.
        _ => dns1123_subdomain,
    }
}

/// A generateName prefix may end in a dash, which a name may not.
fn mask_trailing_dash(name: &str, prefix: bool) -> &str {
    if prefix && name.len() >= 2 && name.ends_with('-') {
        &name[..name.len() - 1]
    } else {
        name
    }
}

/// Validates the metadata of a new object.
pub fn validate_object_meta(
    meta: &ObjectMeta,
    namespaced: bool,
    name_validator: NameValidator,
) -> Vec<FieldError> {
    let path = FieldPath::new("metadata");
    let mut errors = Vec::new();

    let generate_name = meta.generate_name.as_deref().unwrap_or("");
    if !generate_name.is_empty() {
        for message in name_validator(generate_name, true) {
            errors.push(FieldError::invalid(
                &path.child("generateName"),
                generate_name,
                message,
            ));
        }
    }

    let name = meta.name.as_deref().unwrap_or("");
    if name.is_empty() {
        errors.push(FieldError::required(
            &path.child("name"),
            "name or generateName is required",
        ));
    } else {
        for message in name_validator(name, false) {
            errors.push(FieldError::invalid(&path.child("name"), name, message));
        }
    }

    let namespace = meta.namespace.as_deref().unwrap_or("");
    if namespaced {
        if namespace.is_empty() {
            errors.push(FieldError::required(&path.child("namespace"), ""));
        } else {
            for message in validation::is_dns1123_label(namespace) {
                errors.push(FieldError::invalid(
                    &path.child("namespace"),
                    namespace,
                    message,
                ));
            }
        }
    } else if !namespace.is_empty() {
        errors.push(FieldError::forbidden(
            &path.child("namespace"),
            "not allowed on this type",
        ));
    }

    if let Some(generation) = meta.generation
        && generation < 0
    {
        errors.push(FieldError::invalid(
            &path.child("generation"),
            generation,
            "must be greater than or equal to 0",
        ));
    }

    errors.extend(validate_labels(meta, &path.child("labels")));
    errors.extend(validate_annotations(meta, &path.child("annotations")));
    errors.extend(validate_owner_references(
        meta,
        &path.child("ownerReferences"),
    ));
    errors.extend(validate_finalizers(meta, &path.child("finalizers")));
    errors
}

fn validate_labels(meta: &ObjectMeta, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (key, value) in meta.labels.iter().flatten() {
        for message in validation::is_qualified_name(key) {
            errors.push(FieldError::invalid(path, key.as_str(), message));
        }
        for message in validation::is_valid_label_value(value) {
            errors.push(FieldError::invalid(path, value.as_str(), message));
        }
    }
    errors
}

fn validate_annotations(meta: &ObjectMeta, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut total = 0;
    for (key, value) in meta.annotations.iter().flatten() {
        for message in validation::is_qualified_name(&key.to_lowercase()) {
            errors.push(FieldError::invalid(path, key.as_str(), message));
        }
        total += key.len() + value.len();
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errors.push(FieldError::too_long(
            path,
            Some(TOTAL_ANNOTATION_SIZE_LIMIT),
        ));
    }
    errors
}

fn validate_owner_references(meta: &ObjectMeta, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut controllers = Vec::new();
    for (index, reference) in meta.owner_references.iter().flatten().enumerate() {
        let item = path.index(index);
        if reference.api_version.is_empty() {
            errors.push(FieldError::invalid(
                &item.child("apiVersion"),
                "",
                "version must not be empty",
            ));
        }
        if reference.kind.is_empty() {
            errors.push(FieldError::invalid(
                &item.child("kind"),
                "",
                "kind must not be empty",
            ));
        }
        if reference.name.is_empty() {
            errors.push(FieldError::invalid(
                &item.child("name"),
                "",
                "name must not be empty",
            ));
        }
        if reference.uid.is_empty() {
            errors.push(FieldError::invalid(
                &item.child("uid"),
                "",
                "uid must not be empty",
            ));
        }
        if reference.controller == Some(true) {
            controllers.push(format!("{}/{}", reference.kind, reference.name));
        }
    }
    if controllers.len() > 1 {
        errors.push(FieldError::invalid(
            path,
            BadValue::Omitted,
            format!(
                "Only one reference can have Controller set to true. Found \"true\" in references for {}",
                controllers.join(" and ")
            ),
        ));
    }
    errors
}

fn validate_finalizers(meta: &ObjectMeta, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for finalizer in meta.finalizers.iter().flatten() {
        for message in validation::is_qualified_name(finalizer) {
            errors.push(FieldError::invalid(path, finalizer.as_str(), message));
        }
    }
    errors
}

/// Validates the metadata of an update against the stored object's.
pub fn validate_object_meta_update(
    meta: &ObjectMeta,
    old: &ObjectMeta,
    namespaced: bool,
    name_validator: NameValidator,
) -> Vec<FieldError> {
    let path = FieldPath::new("metadata");
    let mut errors = validate_object_meta(meta, namespaced, name_validator);

    let immutable = [
        ("name", meta.name.clone(), old.name.clone()),
        ("namespace", meta.namespace.clone(), old.namespace.clone()),
        ("uid", meta.uid.clone(), old.uid.clone()),
    ];
    for (field, new, old) in immutable {
        if new != old {
            errors.push(FieldError::invalid(
                &path.child(field),
                new.unwrap_or_default(),
                "field is immutable",
            ));
        }
    }
    if meta.creation_timestamp != old.creation_timestamp {
        errors.push(FieldError::invalid(
            &path.child("creationTimestamp"),
            BadValue::Omitted,
            "field is immutable",
        ));
    }
    if meta.deletion_timestamp != old.deletion_timestamp {
        errors.push(FieldError::invalid(
            &path.child("deletionTimestamp"),
            BadValue::Omitted,
            "field is immutable; may only be changed via deletion",
        ));
    }
    if meta.deletion_grace_period_seconds != old.deletion_grace_period_seconds {
        errors.push(FieldError::invalid(
            &path.child("deletionGracePeriodSeconds"),
            BadValue::Omitted,
            "field is immutable; may only be changed via deletion",
        ));
    }
    if let (Some(new), Some(old)) = (meta.generation, old.generation)
        && new < old
    {
        errors.push(FieldError::invalid(
            &path.child("generation"),
            new,
            "must not be decremented",
        ));
    }
    if old.deletion_timestamp.is_some() {
        let old_finalizers = old.finalizers.clone().unwrap_or_default();
        for finalizer in meta.finalizers.iter().flatten() {
            if !old_finalizers.contains(finalizer) {
                errors.push(FieldError::forbidden(
                    &path.child("finalizers"),
                    "no new finalizers can be added if the object is being deleted",
                ));
                break;
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: namespace.map(str::to_string),
            ..ObjectMeta::default()
        }
    }

    fn messages(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(|error| error.to_string()).collect()
    }

    #[test]
    fn valid_metadata_passes() {
        assert!(
            validate_object_meta(&meta("web-1", Some("default")), true, dns1123_subdomain)
                .is_empty()
        );
        assert!(
            validate_object_meta(&meta("node.example", None), false, dns1123_subdomain).is_empty()
        );
    }

    #[test]
    fn missing_name_and_namespace() {
        let errors = validate_object_meta(&ObjectMeta::default(), true, dns1123_subdomain);
        assert_eq!(
            messages(&errors),
            vec![
                "metadata.name: Required value: name or generateName is required",
                "metadata.namespace: Required value",
            ]
        );
    }

    #[test]
    fn namespace_forbidden_on_cluster_scope() {
        let errors = validate_object_meta(&meta("n", Some("default")), false, dns1123_subdomain);
        assert_eq!(
            messages(&errors),
            vec!["metadata.namespace: Forbidden: not allowed on this type"]
        );
    }

    #[test]
    fn invalid_name_uses_validator_message() {
        let errors = validate_object_meta(&meta("Web", Some("default")), true, dns1123_subdomain);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].to_string().starts_with(
                "metadata.name: Invalid value: \"Web\": a lowercase RFC 1123 subdomain"
            ),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn generate_name_may_end_in_dash() {
        let mut object = meta("web-abcde", Some("default"));
        object.generate_name = Some("web-".into());
        assert!(validate_object_meta(&object, true, dns1123_subdomain).is_empty());
    }

    #[test]
    fn bad_labels_are_reported() {
        let mut object = meta("a", Some("default"));
        object.labels = Some(BTreeMap::from([("bad key".to_string(), "ok".to_string())]));
        let errors = validate_object_meta(&object, true, dns1123_subdomain);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .to_string()
                .starts_with("metadata.labels: Invalid value: \"bad key\""),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn oversized_annotations_are_too_long() {
        let mut object = meta("a", Some("default"));
        object.annotations = Some(BTreeMap::from([(
            "a".to_string(),
            "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT),
        )]));
        let errors = validate_object_meta(&object, true, dns1123_subdomain);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .to_string()
                .starts_with("metadata.annotations: Too long"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn update_rejects_changed_name_and_uid() {
        let mut old = meta("a", Some("default"));
        old.uid = Some("1".into());
        let mut new = meta("b", Some("default"));
        new.uid = Some("2".into());
        let errors = validate_object_meta_update(&new, &old, true, dns1123_subdomain);
        let text = messages(&errors);
        assert!(
            text.contains(&"metadata.name: Invalid value: \"b\": field is immutable".to_string()),
            "{text:?}"
        );
        assert!(
            text.contains(&"metadata.uid: Invalid value: \"2\": field is immutable".to_string()),
            "{text:?}"
        );
    }

    #[test]
    fn no_new_finalizers_while_deleting() {
        let mut old = meta("a", Some("default"));
        old.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            Default::default(),
        ));
        let mut new = old.clone();
        new.finalizers = Some(vec!["example.com/x".into()]);
        let errors = validate_object_meta_update(&new, &old, true, dns1123_subdomain);
        assert_eq!(
            messages(&errors),
            vec![
                "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted"
            ]
        );
    }
}
