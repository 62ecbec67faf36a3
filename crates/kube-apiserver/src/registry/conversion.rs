//! Conversion between a served version and the version a resource is stored in, for
//! the two built-in resources upstream serves in a version other than their storage
//! version: autoscaling/v1 HorizontalPodAutoscalers (stored as autoscaling/v2) and
//! events.k8s.io/v1 Events (stored as core v1 Events).
//!
//! Entry point: [`converter_for`]; the store calls [`VersionConverter::to_stored`] on
//! every object a request brings and [`VersionConverter::to_served`] on every object it
//! returns.

use std::sync::Arc;

use apimachinery::scheme::ResourceInfo;
use serde_json::{Map, Value, json};

/// Converts objects of one resource between its served and its stored version. Both
/// directions keep `metadata` apart from the annotations a conversion owns.
pub trait VersionConverter: Send + Sync {
    /// Converts a stored object to the served version.
    fn to_served(&self, stored: Value) -> Value;
    /// Converts a served object to the stored version.
    fn to_stored(&self, served: Value) -> Value;

    /// Maps a field selector label of the served version to the stored version's
    /// label, `None` for a label the served version does not support.
    fn field_label(&self, label: &str) -> Option<String> {
        Some(label.to_string())
    }
}

/// Returns the converter of a resource served in another version than it is stored
/// in, `None` for resources served in their storage version.
pub fn converter_for(info: &ResourceInfo) -> Option<Arc<dyn VersionConverter>> {
    match (info.group, info.version, info.resource) {
        ("autoscaling", "v1", "horizontalpodautoscalers") => Some(Arc::new(HpaV1)),
        ("events.k8s.io", "v1", "events") => Some(Arc::new(EventsV1)),
        _ => None,
    }
}

fn take(map: &mut Map<String, Value>, field: &str) -> Option<Value> {
    map.shift_remove(field).filter(|value| !value.is_null())
}

fn put(map: &mut Map<String, Value>, field: &str, value: Option<Value>) {
    if let Some(value) = value.filter(|value| !value.is_null()) {
        map.insert(field.to_string(), value);
    }
}

fn set_type_meta(object: &mut Map<String, Value>, api_version: &str, kind: &str) {
    object.insert("apiVersion".into(), Value::from(api_version));
    object.insert("kind".into(), Value::from(kind));
}

/// Renames fields of an object; `pairs` are (from, to).
fn rename(object: Value, pairs: &[(&str, &str)], api_version: &str, kind: &str) -> Value {
    let Value::Object(mut map) = object else {
        return object;
    };
    let mut out = Map::with_capacity(map.len());
    for field in ["apiVersion", "kind", "metadata"] {
        if let Some(value) = map.shift_remove(field) {
            out.insert(field.to_string(), value);
        }
    }
    set_type_meta(&mut out, api_version, kind);
    for (field, value) in map {
        let name = pairs
            .iter()
            .find(|(from, _)| *from == field)
            .map_or(field.as_str(), |(_, to)| to);
        out.insert(name.to_string(), value);
    }
    Value::Object(out)
}

/// events.k8s.io/v1 Event <-> core v1 Event.
struct EventsV1;

/// events.k8s.io/v1 field -> core v1 field.
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

impl VersionConverter for EventsV1 {
    fn to_served(&self, stored: Value) -> Value {
        let reversed: Vec<(&str, &str)> = EVENT_FIELDS.iter().map(|(a, b)| (*b, *a)).collect();
        rename(stored, &reversed, "events.k8s.io/v1", "Event")
    }

    fn to_stored(&self, served: Value) -> Value {
        rename(served, EVENT_FIELDS, "v1", "Event")
    }

    fn field_label(&self, label: &str) -> Option<String> {
        if let Some(field) = label.strip_prefix("regarding.") {
            return Some(format!("involvedObject.{field}"));
        }
        match label {
            "reportingController" => Some("reportingComponent".to_string()),
            "metadata.name" | "metadata.namespace" | "reason" | "type" => Some(label.to_string()),
            _ => None,
        }
    }
}

/// autoscaling/v1 HorizontalPodAutoscaler <-> autoscaling/v2.
struct HpaV1;

const METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
const CURRENT_METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";
const ROUND_TRIP_ANNOTATIONS: [&str; 4] = [
    METRICS_ANNOTATION,
    CURRENT_METRICS_ANNOTATION,
    CONDITIONS_ANNOTATION,
    BEHAVIOR_ANNOTATION,
];

fn annotations(object: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let metadata = object
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    let Some(metadata) = metadata.as_object_mut() else {
        unreachable!("metadata was just made an object")
    };
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if !annotations.is_object() {
        *annotations = Value::Object(Map::new());
    }
    match annotations.as_object_mut() {
        Some(map) => map,
        None => unreachable!("annotations were just made an object"),
    }
}

fn drop_empty_annotations(object: &mut Map<String, Value>) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut)
        && metadata
            .get("annotations")
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
    {
        metadata.shift_remove("annotations");
    }
}

fn is_cpu_utilization(metric: &Value) -> bool {
    metric["type"] == "Resource"
        && metric["resource"]["name"] == "cpu"
        && metric["resource"]["target"]["averageUtilization"].is_i64()
}

/// autoscaling/v2 MetricSpec -> autoscaling/v1 MetricSpec.
fn metric_spec_to_v1(metric: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), metric["type"].clone());
    let target = |source: &Value| source.get("target").cloned().unwrap_or(Value::Null);
    match metric["type"].as_str().unwrap_or_default() {
        "Resource" => {
            let source = &metric["resource"];
            let target = target(source);
            let mut resource = Map::new();
            put(&mut resource, "name", source.get("name").cloned());
            put(
                &mut resource,
                "targetAverageUtilization",
                target.get("averageUtilization").cloned(),
            );
            put(
                &mut resource,
                "targetAverageValue",
                target.get("averageValue").cloned(),
            );
            out.insert("resource".into(), Value::Object(resource));
        }
        "ContainerResource" => {
            let source = &metric["containerResource"];
            let target = target(source);
            let mut resource = Map::new();
            put(&mut resource, "name", source.get("name").cloned());
            put(&mut resource, "container", source.get("container").cloned());
            put(
                &mut resource,
                "targetAverageUtilization",
                target.get("averageUtilization").cloned(),
            );
            put(
                &mut resource,
                "targetAverageValue",
                target.get("averageValue").cloned(),
            );
            out.insert("containerResource".into(), Value::Object(resource));
        }
        "Pods" => {
            let source = &metric["pods"];
            let target = target(source);
            let mut pods = Map::new();
            put(
                &mut pods,
                "metricName",
                source["metric"].get("name").cloned(),
            );
            put(
                &mut pods,
                "targetAverageValue",
                target.get("averageValue").cloned(),
            );
            put(
                &mut pods,
                "selector",
                source["metric"].get("selector").cloned(),
            );
            out.insert("pods".into(), Value::Object(pods));
        }
        "Object" => {
            let source = &metric["object"];
            let target = target(source);
            let mut object = Map::new();
            put(
                &mut object,
                "target",
                source.get("describedObject").cloned(),
            );
            put(
                &mut object,
                "metricName",
                source["metric"].get("name").cloned(),
            );
            put(&mut object, "targetValue", target.get("value").cloned());
            put(
                &mut object,
                "selector",
                source["metric"].get("selector").cloned(),
            );
            put(
                &mut object,
                "averageValue",
                target.get("averageValue").cloned(),
            );
            out.insert("object".into(), Value::Object(object));
        }
        "External" => {
            let source = &metric["external"];
            let target = target(source);
            let mut external = Map::new();
            put(
                &mut external,
                "metricName",
                source["metric"].get("name").cloned(),
            );
            put(
                &mut external,
                "metricSelector",
                source["metric"].get("selector").cloned(),
            );
            put(&mut external, "targetValue", target.get("value").cloned());
            put(
                &mut external,
                "targetAverageValue",
                target.get("averageValue").cloned(),
            );
            out.insert("external".into(), Value::Object(external));
        }
        _ => {}
    }
    Value::Object(out)
}

/// Builds a v2 MetricTarget from v1's utilization, average value and value.
fn target_v2(utilization: Option<Value>, average: Option<Value>, value: Option<Value>) -> Value {
    let mut target = Map::new();
    let kind = if utilization.is_some() {
        "Utilization"
    } else if average.is_some() {
        "AverageValue"
    } else {
        "Value"
    };
    target.insert("type".into(), Value::from(kind));
    put(&mut target, "averageUtilization", utilization);
    put(&mut target, "averageValue", average);
    put(&mut target, "value", value);
    Value::Object(target)
}

fn metric_id(name: Option<Value>, selector: Option<Value>) -> Value {
    let mut metric = Map::new();
    put(&mut metric, "name", name);
    put(&mut metric, "selector", selector);
    Value::Object(metric)
}

/// autoscaling/v1 MetricSpec -> autoscaling/v2 MetricSpec.
fn metric_spec_to_v2(metric: &Value) -> Value {
    let get = |source: &Value, field: &str| source.get(field).cloned().filter(|v| !v.is_null());
    let kind = metric["type"].as_str().unwrap_or_default();
    let mut out = Map::new();
    out.insert("type".into(), Value::from(kind));
    match kind {
        "Resource" | "ContainerResource" => {
            let field = if kind == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let source = &metric[field];
            let mut resource = Map::new();
            put(&mut resource, "name", get(source, "name"));
            put(&mut resource, "container", get(source, "container"));
            resource.insert(
                "target".into(),
                target_v2(
                    get(source, "targetAverageUtilization"),
                    get(source, "targetAverageValue"),
                    None,
                ),
            );
            out.insert(field.into(), Value::Object(resource));
        }
        "Pods" => {
            let source = &metric["pods"];
            out.insert(
                "pods".into(),
                json!({
                    "metric": metric_id(get(source, "metricName"), get(source, "selector")),
                    "target": target_v2(None, get(source, "targetAverageValue"), None),
                }),
            );
        }
        "Object" => {
            let source = &metric["object"];
            let mut object = Map::new();
            put(&mut object, "describedObject", get(source, "target"));
            object.insert(
                "metric".into(),
                metric_id(get(source, "metricName"), get(source, "selector")),
            );
            object.insert(
                "target".into(),
                target_v2(
                    None,
                    get(source, "averageValue"),
                    get(source, "targetValue"),
                ),
            );
            out.insert("object".into(), Value::Object(object));
        }
        "External" => {
            let source = &metric["external"];
            out.insert(
                "external".into(),
                json!({
                    "metric": metric_id(get(source, "metricName"), get(source, "metricSelector")),
                    "target": target_v2(None, get(source, "targetAverageValue"), get(source, "targetValue")),
                }),
            );
        }
        _ => {}
    }
    Value::Object(out)
}

/// autoscaling/v2 MetricStatus -> autoscaling/v1 MetricStatus.
fn metric_status_to_v1(metric: &Value) -> Value {
    let kind = metric["type"].as_str().unwrap_or_default();
    let mut out = Map::new();
    out.insert("type".into(), Value::from(kind));
    let current = |source: &Value| source.get("current").cloned().unwrap_or(Value::Null);
    match kind {
        "Resource" | "ContainerResource" => {
            let field = if kind == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let source = &metric[field];
            let current = current(source);
            let mut resource = Map::new();
            put(&mut resource, "name", source.get("name").cloned());
            put(&mut resource, "container", source.get("container").cloned());
            put(
                &mut resource,
                "currentAverageUtilization",
                current.get("averageUtilization").cloned(),
            );
            put(
                &mut resource,
                "currentAverageValue",
                current.get("averageValue").cloned(),
            );
            out.insert(field.into(), Value::Object(resource));
        }
        "Pods" => {
            let source = &metric["pods"];
            let mut pods = Map::new();
            put(
                &mut pods,
                "metricName",
                source["metric"].get("name").cloned(),
            );
            put(
                &mut pods,
                "currentAverageValue",
                current(source).get("averageValue").cloned(),
            );
            put(
                &mut pods,
                "selector",
                source["metric"].get("selector").cloned(),
            );
            out.insert("pods".into(), Value::Object(pods));
        }
        "Object" => {
            let source = &metric["object"];
            let current = current(source);
            let mut object = Map::new();
            put(
                &mut object,
                "target",
                source.get("describedObject").cloned(),
            );
            put(
                &mut object,
                "metricName",
                source["metric"].get("name").cloned(),
            );
            put(&mut object, "currentValue", current.get("value").cloned());
            put(
                &mut object,
                "selector",
                source["metric"].get("selector").cloned(),
            );
            put(
                &mut object,
                "averageValue",
                current.get("averageValue").cloned(),
            );
            out.insert("object".into(), Value::Object(object));
        }
        "External" => {
            let source = &metric["external"];
            let current = current(source);
            let mut external = Map::new();
            put(
                &mut external,
                "metricName",
                source["metric"].get("name").cloned(),
            );
            put(
                &mut external,
                "metricSelector",
                source["metric"].get("selector").cloned(),
            );
            put(&mut external, "currentValue", current.get("value").cloned());
            put(
                &mut external,
                "currentAverageValue",
                current.get("averageValue").cloned(),
            );
            out.insert("external".into(), Value::Object(external));
        }
        _ => {}
    }
    Value::Object(out)
}

/// autoscaling/v1 MetricStatus -> autoscaling/v2 MetricStatus.
fn metric_status_to_v2(metric: &Value) -> Value {
    let get = |source: &Value, field: &str| source.get(field).cloned().filter(|v| !v.is_null());
    let current = |utilization: Option<Value>, average: Option<Value>, value: Option<Value>| {
        let mut current = Map::new();
        put(&mut current, "averageUtilization", utilization);
        put(&mut current, "averageValue", average);
        put(&mut current, "value", value);
        Value::Object(current)
    };
    let kind = metric["type"].as_str().unwrap_or_default();
    let mut out = Map::new();
    out.insert("type".into(), Value::from(kind));
    match kind {
        "Resource" | "ContainerResource" => {
            let field = if kind == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let source = &metric[field];
            let mut resource = Map::new();
            put(&mut resource, "name", get(source, "name"));
            put(&mut resource, "container", get(source, "container"));
            resource.insert(
                "current".into(),
                current(
                    get(source, "currentAverageUtilization"),
                    get(source, "currentAverageValue"),
                    None,
                ),
            );
            out.insert(field.into(), Value::Object(resource));
        }
        "Pods" => {
            let source = &metric["pods"];
            out.insert(
                "pods".into(),
                json!({
                    "metric": metric_id(get(source, "metricName"), get(source, "selector")),
                    "current": current(None, get(source, "currentAverageValue"), None),
                }),
            );
        }
        "Object" => {
            let source = &metric["object"];
            let mut object = Map::new();
            put(&mut object, "describedObject", get(source, "target"));
            object.insert(
                "metric".into(),
                metric_id(get(source, "metricName"), get(source, "selector")),
            );
            object.insert(
                "current".into(),
                current(
                    None,
                    get(source, "averageValue"),
                    get(source, "currentValue"),
                ),
            );
            out.insert("object".into(), Value::Object(object));
        }
        "External" => {
            let source = &metric["external"];
            out.insert(
                "external".into(),
                json!({
                    "metric": metric_id(get(source, "metricName"), get(source, "metricSelector")),
                    "current": current(None, get(source, "currentAverageValue"), get(source, "currentValue")),
                }),
            );
        }
        _ => {}
    }
    Value::Object(out)
}

fn encode_annotation(value: &Value) -> Value {
    Value::String(serde_json::to_string(value).unwrap_or_default())
}

fn decode_annotation(annotations: &mut Map<String, Value>, name: &str) -> Option<Vec<Value>> {
    let text = annotations.shift_remove(name)?;
    serde_json::from_str::<Vec<Value>>(text.as_str()?).ok()
}

impl VersionConverter for HpaV1 {
    fn to_served(&self, stored: Value) -> Value {
        let Value::Object(mut object) = stored else {
            return stored;
        };
        set_type_meta(&mut object, "autoscaling/v1", "HorizontalPodAutoscaler");
        let mut spec = take(&mut object, "spec")
            .and_then(|spec| spec.as_object().cloned())
            .unwrap_or_default();
        let mut status = take(&mut object, "status")
            .and_then(|status| status.as_object().cloned())
            .unwrap_or_default();
        let annotations = annotations(&mut object);
        for name in ROUND_TRIP_ANNOTATIONS {
            annotations.shift_remove(name);
        }

        let metrics = take(&mut spec, "metrics")
            .and_then(|metrics| metrics.as_array().cloned())
            .unwrap_or_default();
        let cpu = metrics.iter().find(|metric| is_cpu_utilization(metric));
        let other: Vec<Value> = metrics
            .iter()
            .filter(|metric| !is_cpu_utilization(metric))
            .map(metric_spec_to_v1)
            .collect();
        if !other.is_empty() {
            annotations.insert(
                METRICS_ANNOTATION.into(),
                encode_annotation(&Value::Array(other)),
            );
        }
        if let Some(behavior) = take(&mut spec, "behavior") {
            annotations.insert(BEHAVIOR_ANNOTATION.into(), encode_annotation(&behavior));
        }
        let mut served_spec = Map::new();
        put(
            &mut served_spec,
            "scaleTargetRef",
            take(&mut spec, "scaleTargetRef"),
        );
        put(
            &mut served_spec,
            "minReplicas",
            take(&mut spec, "minReplicas"),
        );
        put(
            &mut served_spec,
            "maxReplicas",
            take(&mut spec, "maxReplicas"),
        );
        put(
            &mut served_spec,
            "targetCPUUtilizationPercentage",
            cpu.map(|metric| metric["resource"]["target"]["averageUtilization"].clone()),
        );

        let current = take(&mut status, "currentMetrics")
            .and_then(|metrics| metrics.as_array().cloned())
            .unwrap_or_default();
        let current_cpu = current.iter().find_map(|metric| {
            (metric["type"] == "Resource" && metric["resource"]["name"] == "cpu")
                .then(|| metric["resource"]["current"]["averageUtilization"].clone())
                .filter(|value| !value.is_null())
        });
        if !current.is_empty() {
            let converted: Vec<Value> = current.iter().map(metric_status_to_v1).collect();
            annotations.insert(
                CURRENT_METRICS_ANNOTATION.into(),
                encode_annotation(&Value::Array(converted)),
            );
        }
        if let Some(conditions) = take(&mut status, "conditions")
            .filter(|conditions| conditions.as_array().is_some_and(|list| !list.is_empty()))
        {
            annotations.insert(CONDITIONS_ANNOTATION.into(), encode_annotation(&conditions));
        }
        let mut served_status = Map::new();
        put(
            &mut served_status,
            "observedGeneration",
            take(&mut status, "observedGeneration"),
        );
        put(
            &mut served_status,
            "lastScaleTime",
            take(&mut status, "lastScaleTime"),
        );
        served_status.insert(
            "currentReplicas".into(),
            take(&mut status, "currentReplicas").unwrap_or(Value::from(0)),
        );
        served_status.insert(
            "desiredReplicas".into(),
            take(&mut status, "desiredReplicas").unwrap_or(Value::from(0)),
        );
        put(
            &mut served_status,
            "currentCPUUtilizationPercentage",
            current_cpu,
        );

        drop_empty_annotations(&mut object);
        object.insert("spec".into(), Value::Object(served_spec));
        object.insert("status".into(), Value::Object(served_status));
        Value::Object(object)
    }

    fn to_stored(&self, served: Value) -> Value {
        let Value::Object(mut object) = served else {
            return served;
        };
        set_type_meta(&mut object, "autoscaling/v2", "HorizontalPodAutoscaler");
        let mut spec = take(&mut object, "spec")
            .and_then(|spec| spec.as_object().cloned())
            .unwrap_or_default();
        let mut status = take(&mut object, "status")
            .and_then(|status| status.as_object().cloned())
            .unwrap_or_default();
        let annotations = annotations(&mut object);

        let mut metrics: Vec<Value> = decode_annotation(annotations, METRICS_ANNOTATION)
            .unwrap_or_default()
            .iter()
            .map(metric_spec_to_v2)
            .collect();
        if let Some(percentage) = take(&mut spec, "targetCPUUtilizationPercentage") {
            metrics.push(json!({"type": "Resource", "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": percentage},
            }}));
        }
        let behavior = annotations
            .shift_remove(BEHAVIOR_ANNOTATION)
            .and_then(|text| serde_json::from_str::<Value>(text.as_str()?).ok());
        let current_metrics = match decode_annotation(annotations, CURRENT_METRICS_ANNOTATION) {
            Some(list) => list.iter().map(metric_status_to_v2).collect(),
            None => match status.get("currentCPUUtilizationPercentage") {
                Some(value) if !value.is_null() => vec![json!({"type": "Resource", "resource": {
                    "name": "cpu", "current": {"averageUtilization": value},
                }})],
                _ => Vec::new(),
            },
        };
        let conditions = decode_annotation(annotations, CONDITIONS_ANNOTATION);

        let mut stored_spec = Map::new();
        put(
            &mut stored_spec,
            "scaleTargetRef",
            take(&mut spec, "scaleTargetRef"),
        );
        put(
            &mut stored_spec,
            "minReplicas",
            take(&mut spec, "minReplicas"),
        );
        put(
            &mut stored_spec,
            "maxReplicas",
            take(&mut spec, "maxReplicas"),
        );
        if !metrics.is_empty() {
            stored_spec.insert("metrics".into(), Value::Array(metrics));
        }
        put(&mut stored_spec, "behavior", behavior);

        let mut stored_status = Map::new();
        put(
            &mut stored_status,
            "observedGeneration",
            take(&mut status, "observedGeneration"),
        );
        put(
            &mut stored_status,
            "lastScaleTime",
            take(&mut status, "lastScaleTime"),
        );
        put(
            &mut stored_status,
            "currentReplicas",
            take(&mut status, "currentReplicas"),
        );
        stored_status.insert(
            "desiredReplicas".into(),
            take(&mut status, "desiredReplicas").unwrap_or(Value::from(0)),
        );
        if !current_metrics.is_empty() {
            stored_status.insert("currentMetrics".into(), Value::Array(current_metrics));
        }
        put(
            &mut stored_status,
            "conditions",
            conditions.map(Value::Array),
        );

        drop_empty_annotations(&mut object);
        object.insert("spec".into(), Value::Object(stored_spec));
        object.insert("status".into(), Value::Object(stored_status));
        Value::Object(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hpa_v1_round_trips_through_v2() {
        let stored = json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 1, "maxReplicas": 5,
                "metrics": [
                    {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}},
                    {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
                ],
            },
            "status": {"currentReplicas": 2, "desiredReplicas": 3, "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 55}}},
            ]},
        });
        let served = HpaV1.to_served(stored.clone());
        assert_eq!(served["apiVersion"], "autoscaling/v1");
        assert_eq!(served["spec"]["targetCPUUtilizationPercentage"], 70);
        assert_eq!(served["status"]["currentCPUUtilizationPercentage"], 55);
        let other: Value = serde_json::from_str(
            served["metadata"]["annotations"][METRICS_ANNOTATION]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            other,
            json!([{"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "10"}}])
        );

        let back = HpaV1.to_stored(served);
        assert_eq!(back["spec"], stored["spec"]);
        assert_eq!(back["status"], stored["status"]);
        assert!(back["metadata"].get("annotations").is_none(), "{back}");
    }

    #[test]
    fn events_v1_renames_fields_both_ways() {
        let stored = json!({
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod", "name": "p"}, "message": "hello",
            "reportingComponent": "kubelet", "count": 2, "reason": "Started",
            "source": {"component": "kubelet"},
        });
        let served = EventsV1.to_served(stored.clone());
        assert_eq!(served["apiVersion"], "events.k8s.io/v1");
        assert_eq!(served["regarding"]["name"], "p");
        assert_eq!(served["note"], "hello");
        assert_eq!(served["reportingController"], "kubelet");
        assert_eq!(served["deprecatedCount"], 2);
        assert_eq!(served["deprecatedSource"]["component"], "kubelet");
        assert_eq!(served["reason"], "Started");
        assert_eq!(EventsV1.to_stored(served), stored);
        assert_eq!(
            EventsV1.field_label("regarding.name").as_deref(),
            Some("involvedObject.name")
        );
        assert_eq!(EventsV1.field_label("involvedObject.name"), None);
    }
}
