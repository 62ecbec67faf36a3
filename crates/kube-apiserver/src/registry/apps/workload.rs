//! Shared checks of the apps/v1 workloads: selector against template, rolling update
//! parameters, and the replica counts of a status.

use std::collections::BTreeMap;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::labels::label_selector_as_selector;
use apimachinery::validation;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::registry::core::controller::validate_workload_template;
use crate::registry::pod_spec::common::{
    go_string_map, json_value, label_selector_is_empty, validate_label_selector,
    validate_nonnegative,
};
use crate::registry::pod_spec::validation::validate_pod_template_spec;

/// Returns whether a selector was left out. k8s-openapi decodes a missing required
/// selector as an empty one, so an empty selector is treated as missing.
// NOTE: upstream reports a missing selector as `Required value` and an explicit `{}` as
// "empty selector is invalid". After decoding both look alike here, so both get the
// `Required value` error.
pub fn selector_missing(selector: &LabelSelector) -> bool {
    selector.match_labels.is_none() && selector.match_expressions.is_none()
}

/// Checks the selector of a ReplicaSet-like spec and its template. The selector must be
/// set, valid, not empty and match the template's labels. The template must be a valid
/// pod template with restart policy Always and no `activeDeadlineSeconds`.
/// `empty_kind` names the kind in the "empty selector" message and `template_kind` in
/// the `activeDeadlineSeconds` message, as upstream words them.
pub fn validate_selector_and_template(
    selector: &LabelSelector,
    template: Option<&PodTemplateSpec>,
    spec_path: &FieldPath,
    empty_kind: &str,
    template_kind: &str,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let selector_path = spec_path.child("selector");
    if selector_missing(selector) {
        errors.push(FieldError::required(&selector_path, ""));
        return errors;
    }
    errors.extend(validate_label_selector(Some(selector), &selector_path));
    if label_selector_is_empty(selector) {
        errors.push(FieldError::invalid(
            &selector_path,
            json_value(selector),
            format!("empty selector is invalid for {empty_kind}"),
        ));
    }
    let Ok(parsed) = label_selector_as_selector(Some(selector)) else {
        errors.push(FieldError::invalid(
            &selector_path,
            json_value(selector),
            "invalid label selector",
        ));
        return errors;
    };
    let template_path = spec_path.child("template");
    let Some(template) = template else {
        errors.push(FieldError::required(&template_path, ""));
        return errors;
    };
    let labels = template
        .metadata
        .as_ref()
        .and_then(|metadata| metadata.labels.clone());
    if !parsed.is_empty() && !parsed.matches(&labels) {
        errors.push(FieldError::invalid(
            &template_path.child("metadata").child("labels"),
            go_string_map(labels.as_ref()),
            "`selector` does not match template `labels`",
        ));
    }
    errors.extend(validate_workload_template(
        template,
        &template_path,
        template_kind,
    ));
    errors
}

/// Checks the template of a StatefulSet or DaemonSet against its selector and the pod
/// template rules, without the restart policy rules (their callers word those).
pub fn validate_template_labels(
    selector: &LabelSelector,
    template: &PodTemplateSpec,
    template_path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Ok(parsed) = label_selector_as_selector(Some(selector)) {
        let labels = template
            .metadata
            .as_ref()
            .and_then(|metadata| metadata.labels.clone());
        if !parsed.is_empty() && !parsed.matches(&labels) {
            errors.push(FieldError::invalid(
                &template_path.child("metadata").child("labels"),
                go_string_map(labels.as_ref()),
                "`selector` does not match template `labels`",
            ));
        }
    }
    errors.extend(validate_pod_template_spec(template, template_path));
    errors
}

/// Checks an int-or-percent that must not be negative: a percent string or a
/// non-negative integer.
pub fn validate_positive_int_or_percent(value: &IntOrString, path: &FieldPath) -> Vec<FieldError> {
    match value {
        IntOrString::String(text) => validation::is_valid_percent(text)
            .into_iter()
            .map(|message| FieldError::invalid(path, json_value(value), message))
            .collect(),
        IntOrString::Int(number) => validate_nonnegative(i64::from(*number), path),
    }
}

/// Returns the number an int-or-percent stands for: the integer, or the percentage.
pub fn int_or_percent_value(value: &IntOrString) -> i64 {
    match value {
        IntOrString::Int(number) => i64::from(*number),
        IntOrString::String(text) => text.trim_end_matches('%').parse().unwrap_or(0),
    }
}

/// Rejects a percentage above 100%.
pub fn validate_not_more_than_100_percent(
    value: &IntOrString,
    path: &FieldPath,
) -> Vec<FieldError> {
    if matches!(value, IntOrString::String(_)) && int_or_percent_value(value) > 100 {
        return vec![FieldError::invalid(
            path,
            json_value(value),
            "must not be greater than 100%",
        )];
    }
    Vec::new()
}

/// Checks replica counts of a status: each non-negative, none above `replicas`, and
/// available not above ready. `counts` maps the field name to its value.
pub fn validate_replica_counts(counts: &BTreeMap<&str, i64>, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (field, value) in counts {
        errors.extend(validate_nonnegative(*value, &path.child(field)));
    }
    let replicas = counts.get("replicas").copied().unwrap_or(0);
    for field in [
        "fullyLabeledReplicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
    ] {
        if let Some(value) = counts.get(field).copied()
            && value > replicas
        {
            errors.push(FieldError::invalid(
                &path.child(field),
                value,
                "cannot be greater than status.replicas",
            ));
        }
    }
    if let (Some(available), Some(ready)) =
        (counts.get("availableReplicas"), counts.get("readyReplicas"))
        && available > ready
    {
        errors.push(FieldError::invalid(
            &path.child("availableReplicas"),
            *available,
            "cannot be greater than readyReplicas",
        ));
    }
    errors
}
