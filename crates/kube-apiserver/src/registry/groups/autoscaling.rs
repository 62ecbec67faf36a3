//! autoscaling/v2 and autoscaling/v1: HorizontalPodAutoscalers.
//!
//! Entry point: [`strategies`], which returns the v2 strategy (the storage version)
//! before the v1 one. Upstream validates both versions on its internal type, which has
//! v2's shape. The v1 strategy here converts a v1 spec to v2 before validating, so a
//! bad `targetCPUUtilizationPercentage` is reported at upstream's path
//! `spec.metrics[0].resource.target.averageUtilization`.
//!
//! Defaults: `minReplicas` 1; v2 gets a CPU utilization metric of 80% when it has no
//! metrics and fills `behavior` scaling rules; v1 gets
//! `targetCPUUtilizationPercentage` 80, which is what upstream returns for a v1 object
//! stored without one (its v2 storage form gets the 80% CPU metric).
//!
//! NOTE: the store converts the v2-only metrics of a v1 object's
//! `autoscaling.alpha.kubernetes.io/metrics` annotation (`registry::conversion`), but
//! this strategy does not validate them; the annotation only suppresses the CPU
//! default.

use std::collections::BTreeSet;
use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::quantity::Quantity;
use apimachinery::validation::{is_qualified_name, is_valid_path_segment_name};
use k8s_openapi::api::autoscaling::{v1, v2};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as QuantityText;

use super::validation::{invalid_each, validate_dns1123_label, validate_nonnegative};
use super::{ResourceStrategy, entry};
use crate::registry::strategy::Strategy;

/// The largest scaling policy period, in seconds.
pub const MAX_PERIOD_SECONDS: i32 = 1800;

/// The largest stabilization window, in seconds.
pub const MAX_STABILIZATION_WINDOW_SECONDS: i32 = 3600;

/// The CPU utilization target, in percent, of an autoscaler without metrics.
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;

/// The v1 annotation that carries metrics v1 cannot express.
const METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";

const METRIC_SOURCE_TYPES: [&str; 5] = [
    "ContainerResource",
    "External",
    "Object",
    "Pods",
    "Resource",
];
const SELECT_POLICIES: [&str; 3] = ["Disabled", "Max", "Min"];
const SCALING_POLICY_TYPES: [&str; 2] = ["Percent", "Pods"];

/// Returns the HorizontalPodAutoscaler strategies, autoscaling/v2 first.
pub fn strategies() -> Vec<ResourceStrategy> {
    vec![
        entry(Arc::new(HorizontalPodAutoscalerV2Strategy)),
        entry(Arc::new(HorizontalPodAutoscalerV1Strategy)),
    ]
}

/// Strategy of `horizontalpodautoscalers` in autoscaling/v2.
///
/// `behavior.*.tolerance` belongs to the HPAConfigurableTolerance feature, disabled in
/// v1.33, so it is dropped unless the stored object already uses it.
pub struct HorizontalPodAutoscalerV2Strategy;

impl Strategy for HorizontalPodAutoscalerV2Strategy {
    type Object = v2::HorizontalPodAutoscaler;

    fn default(&self, autoscaler: &mut v2::HorizontalPodAutoscaler) {
        let spec = autoscaler.spec.get_or_insert_with(Default::default);
        spec.min_replicas.get_or_insert(1);
        if spec.metrics.as_ref().is_none_or(Vec::is_empty) {
            spec.metrics = Some(vec![cpu_utilization_metric(DEFAULT_CPU_UTILIZATION)]);
        }
        if let Some(behavior) = &mut spec.behavior {
            behavior.scale_up = Some(fill_scaling_rules(
                behavior.scale_up.take(),
                default_scale_up_rules(),
            ));
            behavior.scale_down = Some(fill_scaling_rules(
                behavior.scale_down.take(),
                default_scale_down_rules(),
            ));
        }
    }

    fn prepare_for_create(&self, autoscaler: &mut v2::HorizontalPodAutoscaler) {
        autoscaler.status = None;
        drop_tolerance(autoscaler, None);
    }

    fn prepare_for_update(
        &self,
        autoscaler: &mut v2::HorizontalPodAutoscaler,
        old: &v2::HorizontalPodAutoscaler,
    ) {
        autoscaler.status = old.status.clone();
        drop_tolerance(autoscaler, Some(old));
    }

    fn validate(&self, autoscaler: &v2::HorizontalPodAutoscaler) -> Vec<FieldError> {
        validate_spec(&spec_or_default(autoscaler), 1)
    }

    fn validate_update(
        &self,
        autoscaler: &v2::HorizontalPodAutoscaler,
        old: &v2::HorizontalPodAutoscaler,
    ) -> Vec<FieldError> {
        // An autoscaler stored with minReplicas 0 (HPAScaleToZero) may keep it.
        let old_min = old.spec.as_ref().and_then(|spec| spec.min_replicas);
        let lower_bound = if old_min == Some(0) { 0 } else { 1 };
        validate_spec(&spec_or_default(autoscaler), lower_bound)
    }

    fn validate_status_update(
        &self,
        autoscaler: &v2::HorizontalPodAutoscaler,
        _old: &v2::HorizontalPodAutoscaler,
    ) -> Vec<FieldError> {
        let status = autoscaler.status.clone().unwrap_or_default();
        validate_status_replicas(
            status.current_replicas.unwrap_or(0),
            status.desired_replicas,
        )
    }
}

/// Strategy of `horizontalpodautoscalers` in autoscaling/v1.
pub struct HorizontalPodAutoscalerV1Strategy;

impl Strategy for HorizontalPodAutoscalerV1Strategy {
    type Object = v1::HorizontalPodAutoscaler;

    fn default(&self, autoscaler: &mut v1::HorizontalPodAutoscaler) {
        let has_metrics_annotation = autoscaler
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|annotations| annotations.contains_key(METRICS_ANNOTATION));
        let spec = autoscaler.spec.get_or_insert_with(Default::default);
        spec.min_replicas.get_or_insert(1);
        if spec.target_cpu_utilization_percentage.is_none() && !has_metrics_annotation {
            spec.target_cpu_utilization_percentage = Some(DEFAULT_CPU_UTILIZATION);
        }
    }

    fn prepare_for_create(&self, autoscaler: &mut v1::HorizontalPodAutoscaler) {
        autoscaler.status = None;
    }

    fn prepare_for_update(
        &self,
        autoscaler: &mut v1::HorizontalPodAutoscaler,
        old: &v1::HorizontalPodAutoscaler,
    ) {
        autoscaler.status = old.status.clone();
    }

    fn validate(&self, autoscaler: &v1::HorizontalPodAutoscaler) -> Vec<FieldError> {
        validate_spec(&v1_spec_as_v2(autoscaler.spec.as_ref()), 1)
    }

    fn validate_update(
        &self,
        autoscaler: &v1::HorizontalPodAutoscaler,
        old: &v1::HorizontalPodAutoscaler,
    ) -> Vec<FieldError> {
        let old_min = old.spec.as_ref().and_then(|spec| spec.min_replicas);
        let lower_bound = if old_min == Some(0) { 0 } else { 1 };
        validate_spec(&v1_spec_as_v2(autoscaler.spec.as_ref()), lower_bound)
    }

    fn validate_status_update(
        &self,
        autoscaler: &v1::HorizontalPodAutoscaler,
        _old: &v1::HorizontalPodAutoscaler,
    ) -> Vec<FieldError> {
        let status = autoscaler.status.clone().unwrap_or_default();
        validate_status_replicas(status.current_replicas, status.desired_replicas)
    }
}

fn spec_or_default(autoscaler: &v2::HorizontalPodAutoscaler) -> v2::HorizontalPodAutoscalerSpec {
    autoscaler.spec.clone().unwrap_or_default()
}

/// Converts a v1 spec to v2, as upstream's conversion to the internal type does.
fn v1_spec_as_v2(
    spec: Option<&v1::HorizontalPodAutoscalerSpec>,
) -> v2::HorizontalPodAutoscalerSpec {
    let spec = spec.cloned().unwrap_or_default();
    v2::HorizontalPodAutoscalerSpec {
        scale_target_ref: v2::CrossVersionObjectReference {
            api_version: spec.scale_target_ref.api_version,
            kind: spec.scale_target_ref.kind,
            name: spec.scale_target_ref.name,
        },
        min_replicas: spec.min_replicas,
        max_replicas: spec.max_replicas,
        metrics: spec
            .target_cpu_utilization_percentage
            .map(|percent| vec![cpu_utilization_metric(percent)]),
        behavior: None,
    }
}

fn cpu_utilization_metric(percent: i32) -> v2::MetricSpec {
    v2::MetricSpec {
        type_: "Resource".to_string(),
        resource: Some(v2::ResourceMetricSource {
            name: "cpu".to_string(),
            target: v2::MetricTarget {
                type_: "Utilization".to_string(),
                average_utilization: Some(percent),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

fn default_scale_up_rules() -> v2::HPAScalingRules {
    v2::HPAScalingRules {
        stabilization_window_seconds: Some(0),
        select_policy: Some("Max".to_string()),
        policies: Some(vec![
            v2::HPAScalingPolicy {
                type_: "Pods".to_string(),
                value: 4,
                period_seconds: 15,
            },
            v2::HPAScalingPolicy {
                type_: "Percent".to_string(),
                value: 100,
                period_seconds: 15,
            },
        ]),
        tolerance: None,
    }
}

/// Returns upstream's scale-down rules. The window stays unset because the
/// controller's `--horizontal-pod-autoscaler-downscale-stabilization` flag sets it.
fn default_scale_down_rules() -> v2::HPAScalingRules {
    v2::HPAScalingRules {
        stabilization_window_seconds: None,
        select_policy: Some("Max".to_string()),
        policies: Some(vec![v2::HPAScalingPolicy {
            type_: "Percent".to_string(),
            value: 100,
            period_seconds: 15,
        }]),
        tolerance: None,
    }
}

/// Keeps every field the user set and fills the rest from `defaults`.
fn fill_scaling_rules(
    rules: Option<v2::HPAScalingRules>,
    defaults: v2::HPAScalingRules,
) -> v2::HPAScalingRules {
    let Some(rules) = rules else {
        return defaults;
    };
    v2::HPAScalingRules {
        select_policy: rules.select_policy.or(defaults.select_policy),
        stabilization_window_seconds: rules
            .stabilization_window_seconds
            .or(defaults.stabilization_window_seconds),
        policies: rules.policies.or(defaults.policies),
        tolerance: rules.tolerance.or(defaults.tolerance),
    }
}

fn scaling_rules_of(autoscaler: &v2::HorizontalPodAutoscaler) -> Vec<&v2::HPAScalingRules> {
    autoscaler
        .spec
        .iter()
        .filter_map(|spec| spec.behavior.as_ref())
        .flat_map(|behavior| [behavior.scale_up.as_ref(), behavior.scale_down.as_ref()])
        .flatten()
        .collect()
}

fn drop_tolerance(
    autoscaler: &mut v2::HorizontalPodAutoscaler,
    old: Option<&v2::HorizontalPodAutoscaler>,
) {
    let in_use = old.is_some_and(|old| {
        scaling_rules_of(old)
            .iter()
            .any(|rules| rules.tolerance.is_some())
    });
    if in_use {
        return;
    }
    let behavior = autoscaler
        .spec
        .as_mut()
        .and_then(|spec| spec.behavior.as_mut());
    if let Some(behavior) = behavior {
        for rules in [behavior.scale_up.as_mut(), behavior.scale_down.as_mut()]
            .into_iter()
            .flatten()
        {
            rules.tolerance = None;
        }
    }
}

fn validate_status_replicas(current: i32, desired: i32) -> Vec<FieldError> {
    let mut errors = validate_nonnegative(
        i64::from(current),
        &FieldPath::from_names(["status", "currentReplicas"]),
    );
    errors.extend(validate_nonnegative(
        i64::from(desired),
        &FieldPath::from_names(["status", "desiredReplicas"]),
    ));
    errors
}

/// Upstream's `validateHorizontalPodAutoscalerSpec`.
fn validate_spec(
    spec: &v2::HorizontalPodAutoscalerSpec,
    min_replicas_lower_bound: i32,
) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    if let Some(min) = spec.min_replicas
        && min < min_replicas_lower_bound
    {
        errors.push(FieldError::invalid(
            &path.child("minReplicas"),
            min,
            format!("must be greater than or equal to {min_replicas_lower_bound}"),
        ));
    }
    if spec.max_replicas < 1 {
        errors.push(FieldError::invalid(
            &path.child("maxReplicas"),
            spec.max_replicas,
            "must be greater than 0",
        ));
    }
    if let Some(min) = spec.min_replicas
        && spec.max_replicas < min
    {
        errors.push(FieldError::invalid(
            &path.child("maxReplicas"),
            spec.max_replicas,
            "must be greater than or equal to `minReplicas`",
        ));
    }
    errors.extend(validate_object_reference(
        &spec.scale_target_ref,
        &path.child("scaleTargetRef"),
    ));
    errors.extend(validate_metrics(
        spec.metrics.as_deref().unwrap_or_default(),
        spec.min_replicas,
        &path.child("metrics"),
    ));
    if let Some(behavior) = &spec.behavior {
        let behavior_path = path.child("behavior");
        if let Some(rules) = &behavior.scale_up {
            errors.extend(validate_scaling_rules(
                rules,
                &behavior_path.child("scaleUp"),
            ));
        }
        if let Some(rules) = &behavior.scale_down {
            errors.extend(validate_scaling_rules(
                rules,
                &behavior_path.child("scaleDown"),
            ));
        }
    }
    errors
}

/// Upstream's `ValidateCrossVersionObjectReference`.
fn validate_object_reference(
    reference: &v2::CrossVersionObjectReference,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (field, value) in [("kind", &reference.kind), ("name", &reference.name)] {
        if value.is_empty() {
            errors.push(FieldError::required(&path.child(field), ""));
        } else {
            errors.extend(invalid_each(
                &path.child(field),
                value,
                is_valid_path_segment_name(value),
            ));
        }
    }
    errors
}

fn validate_metrics(
    metrics: &[v2::MetricSpec],
    min_replicas: Option<i32>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (index, metric) in metrics.iter().enumerate() {
        errors.extend(validate_metric_spec(metric, &path.index(index)));
    }
    let scales_on_objects = metrics
        .iter()
        .any(|metric| metric.type_ == "Object" || metric.type_ == "External");
    if min_replicas == Some(0) && !scales_on_objects {
        errors.push(FieldError::forbidden(
            path,
            "must specify at least one Object or External metric to support scaling to zero replicas",
        ));
    }
    errors
}

/// Upstream's `validateMetricSpec`. Like upstream, an unknown type is reported twice.
fn validate_metric_spec(metric: &v2::MetricSpec, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let type_path = path.child("type");
    if metric.type_.is_empty() {
        errors.push(FieldError::required(
            &type_path,
            "must specify a metric source type",
        ));
    }
    if !METRIC_SOURCE_TYPES.contains(&metric.type_.as_str()) {
        errors.push(FieldError::not_supported(
            &type_path,
            &metric.type_,
            &METRIC_SOURCE_TYPES,
        ));
    }

    // Only the first source present is validated. The others are reported below.
    let mut present: Vec<&str> = Vec::new();
    if let Some(source) = &metric.object {
        present.push("object");
        errors.extend(validate_object_source(source, &path.child("object")));
    }
    if let Some(source) = &metric.external {
        present.push("external");
        if present.len() == 1 {
            errors.extend(validate_external_source(source, &path.child("external")));
        }
    }
    if let Some(source) = &metric.pods {
        present.push("pods");
        if present.len() == 1 {
            errors.extend(validate_pods_source(source, &path.child("pods")));
        }
    }
    if let Some(source) = &metric.resource {
        present.push("resource");
        if present.len() == 1 {
            errors.extend(validate_resource_source(source, &path.child("resource")));
        }
    }
    if let Some(source) = &metric.container_resource {
        present.push("containerResource");
        if present.len() == 1 {
            errors.extend(validate_container_resource_source(
                source,
                &path.child("containerResource"),
            ));
        }
    }

    let expected = match metric.type_.as_str() {
        "Object" => Some("object"),
        "Pods" => Some("pods"),
        "Resource" => Some("resource"),
        "External" => Some("external"),
        "ContainerResource" => Some("containerResource"),
        _ => None,
    };
    match expected {
        Some(field) if !present.contains(&field) => errors.push(FieldError::required(
            &path.child(field),
            "must populate information for the given metric source",
        )),
        Some(_) => {}
        None => errors.push(FieldError::not_supported(
            &type_path,
            &metric.type_,
            &METRIC_SOURCE_TYPES,
        )),
    }

    if present.len() != 1 {
        let extra: BTreeSet<&str> = present
            .into_iter()
            .filter(|field| Some(*field) != expected)
            .collect();
        for field in extra {
            errors.push(FieldError::forbidden(
                &path.child(field),
                "must populate the given metric source only",
            ));
        }
    }
    errors
}

fn validate_object_source(source: &v2::ObjectMetricSource, path: &FieldPath) -> Vec<FieldError> {
    let mut errors =
        validate_object_reference(&source.described_object, &path.child("describedObject"));
    errors.extend(validate_metric_identifier(
        &source.metric,
        &path.child("metric"),
    ));
    errors.extend(validate_metric_target(
        &source.target,
        &path.child("target"),
    ));
    if source.target.value.is_none() && source.target.average_value.is_none() {
        errors.push(FieldError::required(
            &path.child("target").child("averageValue"),
            "must set either a target value or averageValue",
        ));
    }
    errors
}

fn validate_external_source(
    source: &v2::ExternalMetricSource,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = validate_metric_identifier(&source.metric, &path.child("metric"));
    errors.extend(validate_metric_target(
        &source.target,
        &path.child("target"),
    ));
    let target = &source.target;
    if target.value.is_none() && target.average_value.is_none() {
        errors.push(FieldError::required(
            &path.child("target").child("averageValue"),
            "must set either a target value for metric or a per-pod target",
        ));
    }
    if target.value.is_some() && target.average_value.is_some() {
        errors.push(FieldError::forbidden(
            &path.child("target").child("value"),
            "may not set both a target value for metric and a per-pod target",
        ));
    }
    errors
}

fn validate_pods_source(source: &v2::PodsMetricSource, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_metric_identifier(&source.metric, &path.child("metric"));
    errors.extend(validate_metric_target(
        &source.target,
        &path.child("target"),
    ));
    if source.target.average_value.is_none() {
        errors.push(FieldError::required(
            &path.child("target").child("averageValue"),
            "must specify a positive target averageValue",
        ));
    }
    errors
}

fn validate_resource_source(
    source: &v2::ResourceMetricSource,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if source.name.is_empty() {
        errors.push(FieldError::required(
            &path.child("name"),
            "must specify a resource name",
        ));
    }
    errors.extend(validate_metric_target(
        &source.target,
        &path.child("target"),
    ));
    errors.extend(validate_utilization_or_value(
        &source.target,
        &path.child("target"),
    ));
    errors
}

fn validate_container_resource_source(
    source: &v2::ContainerResourceMetricSource,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if source.name.is_empty() {
        errors.push(FieldError::required(
            &path.child("name"),
            "must specify a resource name",
        ));
    } else {
        errors.extend(validate_container_resource_name(
            &source.name,
            &path.child("name"),
        ));
    }
    if source.container.is_empty() {
        errors.push(FieldError::required(
            &path.child("container"),
            "must specify a container",
        ));
    } else {
        errors.extend(validate_dns1123_label(
            &source.container,
            &path.child("container"),
        ));
    }
    errors.extend(validate_metric_target(
        &source.target,
        &path.child("target"),
    ));
    errors.extend(validate_utilization_or_value(
        &source.target,
        &path.child("target"),
    ));
    errors
}

/// Upstream's `ValidateContainerResourceName`, reduced to the standard names.
///
/// NOTE: prefixed names are only checked as qualified names, but upstream also
/// distinguishes native from extended resource names there.
fn validate_container_resource_name(name: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = invalid_each(path, name, is_qualified_name(name));
    let standard =
        matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-");
    if !name.contains('/') && !standard {
        errors.push(FieldError::invalid(
            path,
            name,
            "must be a standard resource for containers",
        ));
    }
    errors
}

fn validate_utilization_or_value(target: &v2::MetricTarget, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if target.average_utilization.is_none() && target.average_value.is_none() {
        errors.push(FieldError::required(
            &path.child("averageUtilization"),
            "must set either a target raw value or a target utilization",
        ));
    }
    if target.average_utilization.is_some() && target.average_value.is_some() {
        errors.push(FieldError::forbidden(
            &path.child("averageValue"),
            "may not set both a target raw value and a target utilization",
        ));
    }
    errors
}

fn is_positive(quantity: &QuantityText) -> bool {
    Quantity::parse(&quantity.0).is_ok_and(|parsed| parsed.signum() == 1)
}

/// Upstream's `validateMetricTarget`.
fn validate_metric_target(target: &v2::MetricTarget, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if target.type_.is_empty() {
        errors.push(FieldError::required(
            &path.child("type"),
            "must specify a metric target type",
        ));
    }
    if !matches!(
        target.type_.as_str(),
        "Utilization" | "Value" | "AverageValue"
    ) {
        errors.push(FieldError::invalid(
            &path.child("type"),
            &target.type_,
            "must be either Utilization, Value, or AverageValue",
        ));
    }
    for (field, value) in [
        ("value", &target.value),
        ("averageValue", &target.average_value),
    ] {
        if let Some(value) = value
            && !is_positive(value)
        {
            errors.push(FieldError::invalid(
                &path.child(field),
                &value.0,
                "must be positive",
            ));
        }
    }
    if let Some(utilization) = target.average_utilization
        && utilization < 1
    {
        errors.push(FieldError::invalid(
            &path.child("averageUtilization"),
            utilization,
            "must be greater than 0",
        ));
    }
    errors
}

fn validate_metric_identifier(
    identifier: &v2::MetricIdentifier,
    path: &FieldPath,
) -> Vec<FieldError> {
    if identifier.name.is_empty() {
        return vec![FieldError::required(
            &path.child("name"),
            "must specify a metric name",
        )];
    }
    invalid_each(
        &path.child("name"),
        &identifier.name,
        is_valid_path_segment_name(&identifier.name),
    )
}

/// Upstream's `validateScalingRules`.
fn validate_scaling_rules(rules: &v2::HPAScalingRules, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(window) = rules.stabilization_window_seconds {
        let window_path = path.child("stabilizationWindowSeconds");
        if window < 0 {
            errors.push(FieldError::invalid(
                &window_path,
                window,
                "must be greater than or equal to zero",
            ));
        }
        if window > MAX_STABILIZATION_WINDOW_SECONDS {
            errors.push(FieldError::invalid(
                &window_path,
                window,
                format!("must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"),
            ));
        }
    }
    if let Some(policy) = &rules.select_policy
        && !SELECT_POLICIES.contains(&policy.as_str())
    {
        errors.push(FieldError::not_supported(
            &path.child("selectPolicy"),
            policy,
            &SELECT_POLICIES,
        ));
    }
    let policies_path = path.child("policies");
    let policies = rules.policies.as_deref().unwrap_or_default();
    if policies.is_empty() {
        errors.push(FieldError::required(
            &policies_path,
            "must specify at least one Policy",
        ));
    }
    for (index, policy) in policies.iter().enumerate() {
        let item = policies_path.index(index);
        if !SCALING_POLICY_TYPES.contains(&policy.type_.as_str()) {
            errors.push(FieldError::not_supported(
                &item.child("type"),
                &policy.type_,
                &SCALING_POLICY_TYPES,
            ));
        }
        if policy.value <= 0 {
            errors.push(FieldError::invalid(
                &item.child("value"),
                policy.value,
                "must be greater than zero",
            ));
        }
        if policy.period_seconds <= 0 {
            errors.push(FieldError::invalid(
                &item.child("periodSeconds"),
                policy.period_seconds,
                "must be greater than zero",
            ));
        }
        if policy.period_seconds > MAX_PERIOD_SECONDS {
            errors.push(FieldError::invalid(
                &item.child("periodSeconds"),
                policy.period_seconds,
                format!("must be less than or equal to {MAX_PERIOD_SECONDS}"),
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::groups::validation::testing::{defaulted, messages};
    use serde_json::json;

    fn v2_object(spec: serde_json::Value) -> serde_json::Value {
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
               "metadata": {"name": "h", "namespace": "ns"}, "spec": spec})
    }

    fn v2_hpa(spec: serde_json::Value) -> v2::HorizontalPodAutoscaler {
        serde_json::from_value(v2_object(spec)).unwrap()
    }

    const TARGET: &str = r#"{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}"#;

    fn target() -> serde_json::Value {
        serde_json::from_str(TARGET).unwrap()
    }

    #[test]
    fn v2_defaults() {
        let result = defaulted(
            &HorizontalPodAutoscalerV2Strategy,
            v2_object(
                json!({"scaleTargetRef": target(), "maxReplicas": 5, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}),
            ),
        );
        assert_eq!(result["spec"]["minReplicas"], 1);
        assert_eq!(
            result["spec"]["metrics"],
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}])
        );
        assert_eq!(
            result["spec"]["behavior"],
            json!({
                "scaleDown": {"policies": [{"periodSeconds": 15, "type": "Percent", "value": 100}],
                              "selectPolicy": "Max", "stabilizationWindowSeconds": 60},
                "scaleUp": {"policies": [{"periodSeconds": 15, "type": "Pods", "value": 4},
                                         {"periodSeconds": 15, "type": "Percent", "value": 100}],
                            "selectPolicy": "Max", "stabilizationWindowSeconds": 0}
            })
        );

        let without_behavior = defaulted(
            &HorizontalPodAutoscalerV2Strategy,
            v2_object(json!({"scaleTargetRef": target(), "maxReplicas": 5})),
        );
        assert!(without_behavior["spec"].get("behavior").is_none());
    }

    #[test]
    fn v1_defaults() {
        let object = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "h", "namespace": "ns"}, "spec": {"scaleTargetRef": target(), "maxReplicas": 3}});
        let result = defaulted(&HorizontalPodAutoscalerV1Strategy, object);
        assert_eq!(result["spec"]["minReplicas"], 1);
        assert_eq!(result["spec"]["targetCPUUtilizationPercentage"], 80);
    }

    #[test]
    fn v2_spec_validation() {
        let cpu = json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]);
        let cases = [
            (
                json!({"scaleTargetRef": target(), "minReplicas": 1, "maxReplicas": 3, "metrics": cpu}),
                vec![],
            ),
            (
                json!({"scaleTargetRef": {"kind": "", "name": "a/b"}, "minReplicas": 0, "maxReplicas": 0, "metrics": cpu}),
                vec![
                    "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
                    "spec.maxReplicas: Invalid value: 0: must be greater than 0",
                    "spec.scaleTargetRef.kind: Required value",
                    "spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'",
                    "spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas",
                ],
            ),
            (
                json!({"scaleTargetRef": target(), "minReplicas": 4, "maxReplicas": 3, "metrics": cpu}),
                vec![
                    "spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`",
                ],
            ),
            (
                json!({"scaleTargetRef": target(), "maxReplicas": 3, "metrics": [
                    {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}},
                    {"type": "Pods", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 5}}}]}),
                vec![
                    "spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization",
                    "spec.metrics[1].pods: Required value: must populate information for the given metric source",
                ],
            ),
            (
                json!({"scaleTargetRef": target(), "maxReplicas": 3, "metrics": [
                    {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "10"}},
                     "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 5}}}]}),
                vec![
                    "spec.metrics[0].resource: Forbidden: must populate the given metric source only",
                ],
            ),
            (
                json!({"scaleTargetRef": target(), "maxReplicas": 3, "metrics": [
                    {"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "Value", "value": "-1"}}}]}),
                vec![
                    "spec.metrics[0].external.target.value: Invalid value: \"-1\": must be positive",
                ],
            ),
            (
                json!({"scaleTargetRef": target(), "maxReplicas": 3, "metrics": cpu, "behavior": {
                    "scaleUp": {"selectPolicy": "Fastest", "stabilizationWindowSeconds": 4000, "policies": []},
                    "scaleDown": {"policies": [{"type": "Nodes", "value": 0, "periodSeconds": 1801}]}}}),
                vec![
                    "spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600",
                    "spec.behavior.scaleUp.selectPolicy: Unsupported value: \"Fastest\": supported values: \"Disabled\", \"Max\", \"Min\"",
                    "spec.behavior.scaleUp.policies: Required value: must specify at least one Policy",
                    "spec.behavior.scaleDown.policies[0].type: Unsupported value: \"Nodes\": supported values: \"Percent\", \"Pods\"",
                    "spec.behavior.scaleDown.policies[0].value: Invalid value: 0: must be greater than zero",
                    "spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800",
                ],
            ),
        ];
        for (spec, expected) in cases {
            let errors = HorizontalPodAutoscalerV2Strategy.validate(&v2_hpa(spec.clone()));
            assert_eq!(messages(&errors), expected, "{spec}");
        }
    }

    #[test]
    fn scale_to_zero_kept_on_update() {
        let metrics = json!([{"type": "External", "external": {"metric": {"name": "q"}, "target": {"type": "Value", "value": "1"}}}]);
        let old = v2_hpa(
            json!({"scaleTargetRef": target(), "minReplicas": 0, "maxReplicas": 3, "metrics": metrics}),
        );
        assert!(
            HorizontalPodAutoscalerV2Strategy
                .validate_update(&old, &old)
                .is_empty()
        );
        assert_eq!(HorizontalPodAutoscalerV2Strategy.validate(&old).len(), 1);
    }

    #[test]
    fn v1_validation_uses_internal_paths() {
        let object: v1::HorizontalPodAutoscaler = serde_json::from_value(json!({
            "metadata": {"name": "h", "namespace": "ns"},
            "spec": {"scaleTargetRef": target(), "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 0}
        }))
        .unwrap();
        assert_eq!(
            messages(&HorizontalPodAutoscalerV1Strategy.validate(&object)),
            [
                "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0"
            ]
        );
    }

    #[test]
    fn status_and_tolerance_handling() {
        let mut created = v2_hpa(json!({"scaleTargetRef": target(), "maxReplicas": 3,
            "behavior": {"scaleUp": {"tolerance": "0.05"}}}));
        created.status = Some(v2::HorizontalPodAutoscalerStatus {
            desired_replicas: 2,
            ..Default::default()
        });
        HorizontalPodAutoscalerV2Strategy.prepare_for_create(&mut created);
        assert!(created.status.is_none());
        let behavior = created.spec.as_ref().unwrap().behavior.as_ref().unwrap();
        assert!(behavior.scale_up.as_ref().unwrap().tolerance.is_none());

        let old = created.clone();
        let mut status_update = created.clone();
        status_update.status = Some(v2::HorizontalPodAutoscalerStatus {
            desired_replicas: -1,
            ..Default::default()
        });
        assert_eq!(
            messages(
                &HorizontalPodAutoscalerV2Strategy.validate_status_update(&status_update, &old)
            ),
            ["status.desiredReplicas: Invalid value: -1: must be greater than or equal to 0"]
        );
    }
}
