//! Strategies of limit ranges and resource quotas (upstream's `ValidateLimitRange`,
//! `ValidateResourceQuota` and `SetDefaults_LimitRangeItem`).

use std::collections::{BTreeMap, BTreeSet};

use apimachinery::errors::{BadValue, FieldError, FieldPath};
use apimachinery::quantity::Quantity;
use k8s_openapi::api::core::v1::{LimitRange, LimitRangeItem, ResourceQuota, ResourceQuotaSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as OpenApiQuantity;

use crate::registry::pod_spec::common::{FIELD_IMMUTABLE_ERROR_MSG, json_value, parse_quantity};
use crate::registry::pod_spec::defaults::round_resource_list;
use crate::registry::pod_spec::resources::{
    is_overcommit_allowed, validate_container_resource_name, validate_quota_resource_name,
    validate_resource_name, validate_resource_quantity,
};
use crate::registry::strategy::Strategy;

type ResourceList = BTreeMap<String, OpenApiQuantity>;

/// Strategy of `limitranges`.
#[derive(Clone, Copy, Debug, Default)]
pub struct LimitRangeStrategy;

impl Strategy for LimitRangeStrategy {
    type Object = LimitRange;

    /// For container limits, defaults the default limit to the max, and the default
    /// request to the default limit, else the min.
    fn default(&self, limit_range: &mut LimitRange) {
        for item in limit_range
            .spec
            .iter_mut()
            .flat_map(|spec| spec.limits.iter_mut())
        {
            default_limit_range_item(item);
            for list in [
                item.max.as_mut(),
                item.min.as_mut(),
                item.default.as_mut(),
                item.default_request.as_mut(),
                item.max_limit_request_ratio.as_mut(),
            ] {
                round_resource_list(list);
            }
        }
    }

    fn validate(&self, limit_range: &LimitRange) -> Vec<FieldError> {
        validate_limit_range(limit_range)
    }

    /// Returns true: a PUT of a missing limit range creates it, as upstream allows.
    fn allow_create_on_update(&self) -> bool {
        true
    }
}

fn default_limit_range_item(item: &mut LimitRangeItem) {
    if item.type_ != "Container" {
        return;
    }
    let max = item.max.clone().unwrap_or_default();
    let min = item.min.clone().unwrap_or_default();
    let default = item.default.get_or_insert_with(BTreeMap::new);
    for (name, value) in &max {
        default.entry(name.clone()).or_insert_with(|| value.clone());
    }
    let default = default.clone();
    let default_request = item.default_request.get_or_insert_with(BTreeMap::new);
    for (name, value) in default.iter().chain(&min) {
        default_request
            .entry(name.clone())
            .or_insert_with(|| value.clone());
    }
}

fn validate_limit_range(limit_range: &LimitRange) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let limits_path = FieldPath::from_names(["spec", "limits"]);
    let mut types = BTreeSet::new();
    let empty = ResourceList::new();
    for (index, item) in limit_range
        .spec
        .iter()
        .flat_map(|spec| spec.limits.iter())
        .enumerate()
    {
        let item_path = limits_path.index(index);
        let kind = item.type_.as_str();
        errors.extend(validate_limit_type(kind, &item_path.child("type")));
        if !types.insert(kind) {
            errors.push(FieldError::duplicate(&item_path.child("type"), kind));
        }

        let name_check = |name: &str, path: &FieldPath| {
            if kind == "Pod" || kind == "Container" {
                validate_container_resource_name(name, path)
            } else {
                validate_resource_name(name, path)
            }
        };
        let mut keys = BTreeSet::new();
        let mut parsed: BTreeMap<&str, BTreeMap<&str, Quantity>> = BTreeMap::new();
        let mut lists = vec![("max", item.max.as_ref()), ("min", item.min.as_ref())];
        if kind == "Pod" {
            if item.default.as_ref().is_some_and(|list| !list.is_empty()) {
                errors.push(FieldError::forbidden(
                    &item_path.child("default"),
                    "may not be specified when `type` is 'Pod'",
                ));
            }
            if item
                .default_request
                .as_ref()
                .is_some_and(|list| !list.is_empty())
            {
                errors.push(FieldError::forbidden(
                    &item_path.child("defaultRequest"),
                    "may not be specified when `type` is 'Pod'",
                ));
            }
        } else {
            lists.push(("default", item.default.as_ref()));
            lists.push(("defaultRequest", item.default_request.as_ref()));
        }
        lists.push((
            "maxLimitRequestRatio",
            item.max_limit_request_ratio.as_ref(),
        ));
        for (field, list) in lists {
            for (name, quantity) in list.unwrap_or(&empty) {
                errors.extend(name_check(name, &item_path.child(field).key(name)));
                keys.insert(name.as_str());
                if let Some(value) = parse_quantity(quantity) {
                    parsed
                        .entry(field)
                        .or_default()
                        .insert(name.as_str(), value);
                }
            }
        }
        if kind == "PersistentVolumeClaim"
            && !item
                .min
                .as_ref()
                .is_some_and(|min| min.contains_key("storage"))
            && !item
                .max
                .as_ref()
                .is_some_and(|max| max.contains_key("storage"))
        {
            errors.push(FieldError::required(
                &item_path.child("limits"),
                "either minimum or maximum storage value is required, but neither was provided",
            ));
        }

        let get =
            |field: &str, key: &str| parsed.get(field).and_then(|list| list.get(key)).cloned();
        for key in keys {
            let (min, max) = (get("min", key), get("max", key));
            let (default, default_request) = (get("default", key), get("defaultRequest", key));
            let ratio = get("maxLimitRequestRatio", key);
            // Upstream renders a quantity as its JSON form, a quoted string.
            let raw = |value: &Quantity| BadValue::String(value.to_string());
            if let (Some(min), Some(max)) = (&min, &max)
                && min > max
            {
                errors.push(FieldError::invalid(
                    &item_path.child("min").key(key),
                    raw(min),
                    format!("min value {min} is greater than max value {max}"),
                ));
            }
            if let (Some(request), Some(min)) = (&default_request, &min)
                && min > request
            {
                errors.push(FieldError::invalid(
                    &item_path.child("defaultRequest").key(key),
                    raw(request),
                    format!("min value {min} is greater than default request value {request}"),
                ));
            }
            if let (Some(request), Some(max)) = (&default_request, &max)
                && request > max
            {
                errors.push(FieldError::invalid(
                    &item_path.child("defaultRequest").key(key),
                    raw(request),
                    format!("default request value {request} is greater than max value {max}"),
                ));
            }
            if let (Some(request), Some(default)) = (&default_request, &default)
                && request > default
            {
                errors.push(FieldError::invalid(&item_path.child("defaultRequest").key(key), raw(request), format!("default request value {request} is greater than default limit value {default}")));
            }
            if let (Some(default), Some(min)) = (&default, &min)
                && min > default
            {
                errors.push(FieldError::invalid(
                    &item_path.child("default").key(key),
                    raw(min),
                    format!("min value {min} is greater than default value {default}"),
                ));
            }
            if let (Some(default), Some(max)) = (&default, &max)
                && default > max
            {
                errors.push(FieldError::invalid(
                    &item_path.child("default").key(key),
                    raw(max),
                    format!("default value {default} is greater than max value {max}"),
                ));
            }
            if let Some(ratio) = &ratio
                && *ratio < Quantity::new(1, apimachinery::quantity::Format::DecimalSI)
            {
                errors.push(FieldError::invalid(
                    &item_path.child("maxLimitRequestRatio").key(key),
                    raw(ratio),
                    format!("ratio {ratio} is less than 1"),
                ));
            }
            if let (Some(default), Some(request)) = (&default, &default_request)
                && !is_overcommit_allowed(key)
                && default != request
            {
                errors.push(FieldError::invalid(
                        &item_path.child("defaultRequest").key(key),
                        raw(request),
                        format!("default value {default} must equal to defaultRequest value {request} in {key}"),
                    ));
            }
        }
    }
    errors
}

fn validate_limit_type(kind: &str, path: &FieldPath) -> Vec<FieldError> {
    let errors: Vec<FieldError> = apimachinery::validation::is_qualified_name(kind)
        .into_iter()
        .map(|message| FieldError::invalid(path, kind, message))
        .collect();
    if !errors.is_empty() {
        return errors;
    }
    if !kind.contains('/') && !matches!(kind, "Pod" | "Container" | "PersistentVolumeClaim") {
        return vec![FieldError::invalid(
            path,
            kind,
            "must be a standard limit type or fully qualified",
        )];
    }
    Vec::new()
}

/// Strategy of `resourcequotas`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ResourceQuotaStrategy;

impl Strategy for ResourceQuotaStrategy {
    type Object = ResourceQuota;

    fn default(&self, quota: &mut ResourceQuota) {
        round_resource_list(quota.spec.as_mut().and_then(|spec| spec.hard.as_mut()));
        if let Some(status) = quota.status.as_mut() {
            round_resource_list(status.hard.as_mut());
            round_resource_list(status.used.as_mut());
        }
    }

    /// Clears the status: the quota controller computes it.
    fn prepare_for_create(&self, quota: &mut ResourceQuota) {
        quota.status = None;
    }

    fn prepare_for_update(&self, quota: &mut ResourceQuota, old: &ResourceQuota) {
        quota.status = old.status.clone();
    }

    fn validate(&self, quota: &ResourceQuota) -> Vec<FieldError> {
        let mut errors = validate_quota_spec(quota.spec.as_ref(), &FieldPath::new("spec"));
        errors.extend(validate_quota_status(quota));
        errors
    }

    fn validate_update(&self, quota: &ResourceQuota, old: &ResourceQuota) -> Vec<FieldError> {
        let mut errors = validate_quota_spec(quota.spec.as_ref(), &FieldPath::new("spec"));
        let scopes = |quota: &ResourceQuota| -> BTreeSet<String> {
            quota
                .spec
                .iter()
                .flat_map(|spec| spec.scopes.iter().flatten().cloned())
                .collect()
        };
        if scopes(quota) != scopes(old) {
            let new_scopes = quota.spec.as_ref().and_then(|spec| spec.scopes.clone());
            errors.push(FieldError::invalid(
                &FieldPath::from_names(["spec", "scopes"]),
                json_value(&new_scopes),
                FIELD_IMMUTABLE_ERROR_MSG,
            ));
        }
        errors
    }

    fn validate_status_update(
        &self,
        quota: &ResourceQuota,
        _old: &ResourceQuota,
    ) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if quota
            .metadata
            .resource_version
            .as_deref()
            .is_none_or(str::is_empty)
        {
            errors.push(FieldError::required(&FieldPath::new("resourceVersion"), ""));
        }
        errors.extend(validate_quota_status(quota));
        errors
    }
}

fn validate_quota_list(list: Option<&ResourceList>, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (name, quantity) in list.into_iter().flatten() {
        let key_path = path.key(name);
        errors.extend(validate_quota_resource_name(name, &key_path));
        errors.extend(validate_resource_quantity(name, quantity, &key_path).1);
    }
    errors
}

fn validate_quota_spec(spec: Option<&ResourceQuotaSpec>, path: &FieldPath) -> Vec<FieldError> {
    let Some(spec) = spec else {
        return Vec::new();
    };
    let mut errors = validate_quota_list(spec.hard.as_ref(), &path.child("hard"));
    let scopes = spec.scopes.clone().unwrap_or_default();
    let scopes_path = path.child("scopes");
    let known = [
        "Terminating",
        "NotTerminating",
        "BestEffort",
        "NotBestEffort",
        "PriorityClass",
        "CrossNamespacePodAffinity",
        "VolumeAttributesClass",
    ];
    for scope in &scopes {
        if !known.contains(&scope.as_str()) {
            errors.push(FieldError::invalid(
                &scopes_path,
                json_value(&scopes),
                "unsupported scope",
            ));
        }
    }
    let has = |scope: &str| scopes.iter().any(|s| s == scope);
    if (has("BestEffort") && has("NotBestEffort")) || (has("Terminating") && has("NotTerminating"))
    {
        errors.push(FieldError::invalid(
            &scopes_path,
            json_value(&scopes),
            "conflicting scopes",
        ));
    }
    // NOTE: upstream also checks that each scope fits each hard resource and validates
    // `scopeSelector` expressions; neither is checked here.
    errors
}

fn validate_quota_status(quota: &ResourceQuota) -> Vec<FieldError> {
    let status = quota.status.as_ref();
    let mut errors = validate_quota_list(
        status.and_then(|s| s.hard.as_ref()),
        &FieldPath::from_names(["status", "hard"]),
    );
    errors.extend(validate_quota_list(
        status.and_then(|s| s.used.as_ref()),
        &FieldPath::from_names(["status", "used"]),
    ));
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn limit_range_defaults() {
        let mut limit_range: LimitRange = serde_json::from_value(json!({"spec": {"limits": [
            {"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"}}]}}))
        .expect("decodes");
        LimitRangeStrategy.default(&mut limit_range);
        let item =
            serde_json::to_value(&limit_range).expect("encodes")["spec"]["limits"][0].clone();
        assert_eq!(item["default"], json!({"cpu": "2"}));
        assert_eq!(
            item["defaultRequest"],
            json!({"cpu": "2", "memory": "64Mi"})
        );
    }

    #[test]
    fn limit_range_rules() {
        let limit_range: LimitRange = serde_json::from_value(json!({"spec": {"limits": [
            {"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"}},
            {"type": "Container"},
            {"type": "Pod", "default": {"cpu": "1"}}]}}))
        .expect("decodes");
        assert_eq!(
            messages(LimitRangeStrategy.validate(&limit_range)),
            vec![
                "spec.limits[0].min[cpu]: Invalid value: \"2\": min value 2 is greater than max value 1",
                "spec.limits[1].type: Duplicate value: \"Container\"",
                "spec.limits[2].default: Forbidden: may not be specified when `type` is 'Pod'",
            ]
        );
    }

    #[test]
    fn resource_quota_rules() {
        let quota: ResourceQuota =
            serde_json::from_value(json!({"spec": {"hard": {"pods": "1.5", "bogus": "1"}}}))
                .expect("decodes");
        assert_eq!(
            messages(ResourceQuotaStrategy.validate(&quota)),
            vec![
                "spec.hard[bogus]: Invalid value: \"bogus\": must be a standard resource type or fully qualified",
                "spec.hard[bogus]: Invalid value: \"bogus\": must be a standard resource for quota",
                "spec.hard[pods]: Invalid value: \"1500m\": must be an integer",
            ]
        );
        let mut created: ResourceQuota = serde_json::from_value(
            json!({"spec": {"hard": {"pods": "2"}}, "status": {"used": {"pods": "1"}}}),
        )
        .expect("decodes");
        ResourceQuotaStrategy.prepare_for_create(&mut created);
        assert!(created.status.is_none());
    }
}
