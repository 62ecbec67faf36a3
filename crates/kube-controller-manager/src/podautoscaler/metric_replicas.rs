//! The metric step of a sync: one proposal per entry of `spec.metrics`, the
//! largest wins, after upstream's `computeReplicasForMetrics`.
//!
//! A metric that fails sets a Warning event and proposes the ScalingActive
//! condition it would set (False, with a reason per metric type). When every
//! metric fails, or some fail and the others would scale down, the sync stops with
//! the first failure's condition. Otherwise ScalingActive becomes True with
//! ValidMetricFound.

use std::sync::Arc;

use apimachinery::labels::{self, Selector};
use apimachinery::quantity::{Format, Quantity};
use k8s_openapi::api::autoscaling::v2::{
    ContainerResourceMetricStatus, ExternalMetricStatus, HorizontalPodAutoscaler, MetricIdentifier,
    MetricSpec, MetricStatus, MetricTarget, MetricValueStatus, ObjectMetricStatus,
    PodsMetricStatus, ResourceMetricStatus,
};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as QuantityText;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::Inner;
use super::replica_calculator::per_pod_replicas;
use super::scale::ScaleTarget;
use super::status::{SCALING_ACTIVE, set_condition};
use crate::events::EventType;

/// The outcome of the metric step.
pub struct MetricsProposal {
    /// The largest proposal, or `None` when the sync must stop.
    pub replicas: Option<i32>,
    /// The metric that proposed it, as upstream names it in events.
    pub metric: String,
    /// One status per metric, a default (empty) entry for a failed one.
    pub statuses: Vec<MetricStatus>,
    /// The first failure, also returned when another metric succeeded.
    pub error: Option<String>,
}

/// One metric's proposal.
struct Proposal {
    replicas: i32,
    metric: String,
    status: MetricStatus,
}

/// One metric's failure: the ScalingActive reason and the error, which the event
/// and the condition show as is.
struct Failure {
    reason: &'static str,
    error: String,
}

/// Returns the prefix the sync error puts before a failure of `spec`, as upstream
/// wraps it after recording the event and proposing the condition.
fn failure_context(spec: &MetricSpec) -> Option<String> {
    match spec.type_.as_str() {
        "Resource" => spec
            .resource
            .as_ref()
            .map(|source| format!("failed to get {} resource metric value", source.name)),
        "ContainerResource" => spec
            .container_resource
            .as_ref()
            .map(|source| format!("failed to get {} container metric value", source.container)),
        "Pods" => Some("failed to get pods metric value".to_string()),
        "Object" => Some("failed to get object metric value".to_string()),
        "External" => spec
            .external
            .as_ref()
            .map(|source| format!("failed to get {} external metric value", source.metric.name)),
        _ => None,
    }
}

impl Inner {
    /// Computes the proposals of every metric of `autoscaler` against the target's
    /// `scale`, setting ScalingActive and recording events as described in the
    /// module header.
    pub(super) async fn compute_replicas_for_metrics(
        &self,
        autoscaler: &mut HorizontalPodAutoscaler,
        scale: &ScaleTarget,
        now: &Time,
    ) -> MetricsProposal {
        let failed = |statuses, error| MetricsProposal {
            replicas: None,
            metric: String::new(),
            statuses,
            error: Some(error),
        };
        let selector = match self.validate_selector(autoscaler, scale.selector(), now) {
            Ok(selector) => selector,
            Err(error) => return failed(Vec::new(), error),
        };
        let namespace = autoscaler.metadata.namespace.clone().unwrap_or_default();
        let pods: Vec<Arc<Pod>> = self
            .pods
            .lister()
            .namespaced(&namespace)
            .list_selected(&selector);

        let specs = autoscaler
            .spec
            .as_ref()
            .and_then(|spec| spec.metrics.clone())
            .unwrap_or_default();
        let mut statuses = vec![MetricStatus::default(); specs.len()];
        let mut replicas = 0;
        let mut metric = String::new();
        let mut failures = 0;
        let mut first_failure: Option<(Failure, Option<String>)> = None;
        for (index, spec) in specs.iter().enumerate() {
            let result = self
                .compute_replicas_for_metric(spec, &namespace, scale, &selector, &pods, now.0)
                .await;
            match result {
                Ok(proposal) => {
                    if replicas == 0 || proposal.replicas > replicas {
                        replicas = proposal.replicas;
                        metric = proposal.metric;
                    }
                    statuses[index] = proposal.status;
                }
                Err(failure) => {
                    self.recorder.event(
                        autoscaler,
                        EventType::Warning,
                        failure.reason,
                        &failure.error,
                    );
                    failures += 1;
                    if first_failure.is_none() {
                        first_failure = Some((failure, failure_context(spec)));
                    }
                }
            }
        }

        let error = first_failure.as_ref().map(|(failure, context)| {
            let first = match context {
                Some(context) => format!("{context}: {}", failure.error),
                None => failure.error.clone(),
            };
            format!(
                "invalid metrics ({failures} invalid out of {}), first error is: {first}",
                specs.len()
            )
        });
        let spec_replicas = scale.spec_replicas();
        if let Some((failure, _)) = &first_failure
            && (failures >= specs.len() || replicas < spec_replicas)
        {
            set_condition(
                autoscaler,
                SCALING_ACTIVE,
                false,
                failure.reason,
                format!(
                    "the HPA was unable to compute the replica count: {}",
                    failure.error
                ),
                now,
            );
            return failed(statuses, error.unwrap_or_default());
        }
        if specs.is_empty() {
            return failed(
                statuses,
                "no metrics to compute a replica count from".into(),
            );
        }
        set_condition(
            autoscaler,
            SCALING_ACTIVE,
            true,
            "ValidMetricFound",
            format!("the HPA was able to successfully calculate a replica count from {metric}"),
            now,
        );
        MetricsProposal {
            replicas: Some(replicas),
            metric,
            statuses,
            error,
        }
    }

    /// Parses the scale's selector and checks that no other autoscaler in the
    /// namespace selects the same pods. Sets ScalingActive False and records an
    /// event on failure.
    fn validate_selector(
        &self,
        autoscaler: &mut HorizontalPodAutoscaler,
        selector: &str,
        now: &Time,
    ) -> Result<Selector, String> {
        if selector.is_empty() {
            let message = "selector is required";
            self.recorder
                .event(autoscaler, EventType::Warning, "SelectorRequired", message);
            set_condition(
                autoscaler,
                SCALING_ACTIVE,
                false,
                "InvalidSelector",
                "the HPA target's scale is missing a selector",
                now,
            );
            return Err(message.to_string());
        }
        let parsed = match labels::parse(selector) {
            Ok(parsed) => parsed,
            Err(err) => {
                let message = format!(
                    "couldn't convert selector into a corresponding internal selector object: {err}"
                );
                self.recorder
                    .event(autoscaler, EventType::Warning, "InvalidSelector", &message);
                set_condition(
                    autoscaler,
                    SCALING_ACTIVE,
                    false,
                    "InvalidSelector",
                    message.clone(),
                    now,
                );
                return Err(message);
            }
        };

        let namespace = autoscaler.metadata.namespace.clone().unwrap_or_default();
        let key = crate::controller_utils::key_of(&autoscaler.metadata);
        let controlling = self.autoscalers_selecting(&key, &namespace, &parsed);
        if controlling.len() > 1 {
            let message = format!(
                "pods by selector {selector} are controlled by multiple HPAs: [{}]",
                controlling.join(" ")
            );
            self.recorder.event(
                autoscaler,
                EventType::Warning,
                "AmbiguousSelector",
                &message,
            );
            set_condition(
                autoscaler,
                SCALING_ACTIVE,
                false,
                "AmbiguousSelector",
                message.clone(),
                now,
            );
            return Err(message);
        }
        Ok(parsed)
    }

    /// Stores `selector` as the selector of `key` and returns the keys of every
    /// autoscaler whose stored selector matches one of the pods `selector` matches.
    fn autoscalers_selecting(
        &self,
        key: &str,
        namespace: &str,
        selector: &Selector,
    ) -> Vec<String> {
        let pods: Vec<Arc<Pod>> = self
            .pods
            .lister()
            .namespaced(namespace)
            .list_selected(selector);
        let mut selectors = self
            .selectors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        selectors.insert(key.to_string(), selector.clone());
        let prefix = format!("{namespace}/");
        let mut keys: Vec<String> = selectors
            .iter()
            .filter(|(other, _)| other.starts_with(&prefix))
            .filter(|(_, other)| pods.iter().any(|pod| other.matches(&pod.metadata.labels)))
            .map(|(other, _)| other.clone())
            .collect();
        keys.sort();
        keys
    }

    async fn compute_replicas_for_metric(
        &self,
        spec: &MetricSpec,
        namespace: &str,
        scale: &ScaleTarget,
        selector: &Selector,
        pods: &[Arc<Pod>],
        now: Timestamp,
    ) -> Result<Proposal, Failure> {
        let spec_replicas = scale.spec_replicas();
        let status_replicas = scale.status_replicas();
        match spec.type_.as_str() {
            "Resource" => {
                let Some(source) = &spec.resource else {
                    return Err(missing_source("FailedGetResourceMetric", "resource"));
                };
                let (replicas, metric, current) = self
                    .resource_proposal(
                        &source.name,
                        "",
                        &source.target,
                        namespace,
                        spec_replicas,
                        selector,
                        pods,
                        now,
                    )
                    .await
                    .map_err(|error| Failure {
                        reason: "FailedGetResourceMetric",
                        error,
                    })?;
                Ok(Proposal {
                    replicas,
                    metric,
                    status: MetricStatus {
                        type_: "Resource".into(),
                        resource: Some(ResourceMetricStatus {
                            name: source.name.clone(),
                            current,
                        }),
                        ..MetricStatus::default()
                    },
                })
            }
            "ContainerResource" => {
                let Some(source) = &spec.container_resource else {
                    return Err(missing_source(
                        "FailedGetContainerResourceMetric",
                        "containerResource",
                    ));
                };
                let (replicas, metric, current) = self
                    .resource_proposal(
                        &source.name,
                        &source.container,
                        &source.target,
                        namespace,
                        spec_replicas,
                        selector,
                        pods,
                        now,
                    )
                    .await
                    .map_err(|error| Failure {
                        reason: "FailedGetContainerResourceMetric",
                        error,
                    })?;
                Ok(Proposal {
                    replicas,
                    metric,
                    status: MetricStatus {
                        type_: "ContainerResource".into(),
                        container_resource: Some(ContainerResourceMetricStatus {
                            name: source.name.clone(),
                            container: source.container.clone(),
                            current,
                        }),
                        ..MetricStatus::default()
                    },
                })
            }
            "Pods" => {
                let Some(source) = &spec.pods else {
                    return Err(missing_source("FailedGetPodsMetric", "pods"));
                };
                let wrap = |error: String| Failure {
                    reason: "FailedGetPodsMetric",
                    error,
                };
                let metric_selector = metric_selector(&source.metric).map_err(wrap)?;
                let target = milli_target(source.target.average_value.as_ref(), "average value")
                    .map_err(wrap)?;
                let (metrics, _) = self
                    .metrics
                    .pods_metric(&source.metric.name, namespace, selector, &metric_selector)
                    .await
                    .map_err(|err| {
                        wrap(format!(
                            "unable to get metric {}: {err}",
                            source.metric.name
                        ))
                    })?;
                let (replicas, usage) = self
                    .calculator
                    .plain_metric_replicas(spec_replicas, target, "", pods, metrics, now)
                    .map_err(wrap)?;
                Ok(Proposal {
                    replicas,
                    metric: format!("pods metric {}", source.metric.name),
                    status: MetricStatus {
                        type_: "Pods".into(),
                        pods: Some(PodsMetricStatus {
                            metric: identifier(&source.metric),
                            current: MetricValueStatus {
                                average_value: Some(milli_quantity(usage, Format::DecimalSI)),
                                ..MetricValueStatus::default()
                            },
                        }),
                        ..MetricStatus::default()
                    },
                })
            }
            "Object" => {
                let Some(source) = &spec.object else {
                    return Err(missing_source("FailedGetObjectMetric", "object"));
                };
                let wrap = |error: String| Failure {
                    reason: "FailedGetObjectMetric",
                    error,
                };
                let metric_selector = metric_selector(&source.metric).map_err(wrap)?;
                let object = &source.described_object;
                let fetch = || async {
                    self.metrics
                        .object_metric(&source.metric.name, namespace, object, &metric_selector)
                        .await
                        .map_err(|err| {
                            format!(
                                "unable to get metric {} on {} {namespace}/{}: {err}",
                                source.metric.name, object.kind, object.name
                            )
                        })
                };
                let mut current = MetricValueStatus::default();
                let replicas = if let Some(value) = &source.target.value {
                    let target = milli_target(Some(value), "value").map_err(wrap)?;
                    let (usage, _) = fetch().await.map_err(wrap)?;
                    current.value = Some(milli_quantity(usage, Format::DecimalSI));
                    self.calculator
                        .usage_ratio_replicas(spec_replicas, usage as f64 / target as f64, pods)
                        .map_err(wrap)?
                } else if let Some(average) = &source.target.average_value {
                    let target = milli_target(Some(average), "average value").map_err(wrap)?;
                    let (usage, _) = fetch().await.map_err(wrap)?;
                    let (replicas, per_pod) =
                        per_pod_replicas(self.calculator.tolerance, status_replicas, target, usage);
                    current.average_value = Some(milli_quantity(per_pod, Format::DecimalSI));
                    replicas
                } else {
                    return Err(wrap(
                        "invalid object metric source: neither a value target nor an average value target was set"
                            .into(),
                    ));
                };
                Ok(Proposal {
                    replicas,
                    metric: format!("{} metric {}", object.kind, source.metric.name),
                    status: MetricStatus {
                        type_: "Object".into(),
                        object: Some(ObjectMetricStatus {
                            described_object: object.clone(),
                            metric: identifier(&source.metric),
                            current,
                        }),
                        ..MetricStatus::default()
                    },
                })
            }
            "External" => {
                let Some(source) = &spec.external else {
                    return Err(missing_source("FailedGetExternalMetric", "external"));
                };
                let name = &source.metric.name;
                let wrap = |error: String| Failure {
                    reason: "FailedGetExternalMetric",
                    error,
                };
                let metric_selector = metric_selector(&source.metric).map_err(wrap)?;
                let fetch = || async {
                    self.metrics
                        .external_metric(name, namespace, &metric_selector)
                        .await
                        .map(|(values, _)| {
                            values.into_iter().fold(0i64, |sum, value| sum.saturating_add(value))
                        })
                        .map_err(|err| {
                            format!("unable to get external metric {namespace}/{name}/{metric_selector}: {err}")
                        })
                };
                let mut current = MetricValueStatus::default();
                let replicas = if let Some(average) = &source.target.average_value {
                    let target = milli_target(Some(average), "average value").map_err(wrap)?;
                    let usage = fetch().await.map_err(wrap)?;
                    let (replicas, per_pod) =
                        per_pod_replicas(self.calculator.tolerance, status_replicas, target, usage);
                    current.average_value = Some(milli_quantity(per_pod, Format::DecimalSI));
                    replicas
                } else if let Some(value) = &source.target.value {
                    let target = milli_target(Some(value), "value").map_err(wrap)?;
                    let usage = fetch().await.map_err(wrap)?;
                    current.value = Some(milli_quantity(usage, Format::DecimalSI));
                    self.calculator
                        .usage_ratio_replicas(spec_replicas, usage as f64 / target as f64, pods)
                        .map_err(wrap)?
                } else {
                    return Err(wrap(
                        "invalid external metric source: neither a value target nor an average value target was set"
                            .into(),
                    ));
                };
                Ok(Proposal {
                    replicas,
                    metric: format!("external metric {name}({metric_selector})"),
                    status: MetricStatus {
                        type_: "External".into(),
                        external: Some(ExternalMetricStatus {
                            metric: identifier(&source.metric),
                            current,
                        }),
                        ..MetricStatus::default()
                    },
                })
            }
            other => Err(Failure {
                reason: "InvalidMetricSourceType",
                error: format!("unknown metric source type {other:?}"),
            }),
        }
    }

    /// Proposes a count for a Resource or ContainerResource metric (`container`
    /// set), returning the count, the metric's name for events and its status.
    #[allow(clippy::too_many_arguments)]
    async fn resource_proposal(
        &self,
        resource: &str,
        container: &str,
        target: &MetricTarget,
        namespace: &str,
        current_replicas: i32,
        selector: &Selector,
        pods: &[Arc<Pod>],
        now: Timestamp,
    ) -> Result<(i32, String, MetricValueStatus), String> {
        if let Some(average) = &target.average_value {
            let target = milli_target(Some(average), "average value")?;
            let (metrics, _) = self
                .metrics
                .resource_metric(resource, namespace, selector, container)
                .await
                .map_err(|err| {
                    format!(
                        "failed to get {resource} usage: unable to get metrics for resource {resource}: {err}"
                    )
                })?;
            let (replicas, usage) = self
                .calculator
                .plain_metric_replicas(current_replicas, target, resource, pods, metrics, now)
                .map_err(|err| format!("failed to get {resource} usage: {err}"))?;
            let status = MetricValueStatus {
                average_value: Some(milli_quantity(usage, Format::DecimalSI)),
                ..MetricValueStatus::default()
            };
            return Ok((replicas, format!("{resource} resource"), status));
        }

        let Some(target_utilization) = target.average_utilization else {
            return Err("invalid resource metric source: neither an average utilization target nor an average value target was set".into());
        };
        let (metrics, _) = self
            .metrics
            .resource_metric(resource, namespace, selector, container)
            .await
            .map_err(|err| {
                format!(
                    "failed to get {resource} utilization: unable to get metrics for resource {resource}: {err}"
                )
            })?;
        let proposal = self
            .calculator
            .resource_replicas(
                current_replicas,
                target_utilization,
                resource,
                container,
                pods,
                metrics,
                now,
            )
            .map_err(|err| format!("failed to get {resource} utilization: {err}"))?;
        let metric = if container.is_empty() {
            format!("{resource} resource utilization (percentage of request)")
        } else {
            format!("{resource} container resource utilization (percentage of request)")
        };
        let status = MetricValueStatus {
            average_utilization: Some(proposal.utilization),
            average_value: Some(milli_quantity(proposal.raw_utilization, Format::DecimalSI)),
            ..MetricValueStatus::default()
        };
        Ok((proposal.replicas, metric, status))
    }
}

fn missing_source(reason: &'static str, field: &str) -> Failure {
    Failure {
        reason,
        error: format!("invalid metric source: the {field} field is not set"),
    }
}

fn metric_selector(metric: &MetricIdentifier) -> Result<Selector, String> {
    // Upstream turns an unset selector into Nothing, whose string form sent to the
    // metrics APIs is empty, so it restricts nothing there.
    match &metric.selector {
        None => Ok(Selector::everything()),
        Some(selector) => {
            labels::label_selector_as_selector(Some(selector)).map_err(|err| err.to_string())
        }
    }
}

fn identifier(metric: &MetricIdentifier) -> MetricIdentifier {
    MetricIdentifier {
        name: metric.name.clone(),
        selector: metric.selector.clone(),
    }
}

/// Parses a target quantity into milli-units.
fn milli_target(quantity: Option<&QuantityText>, what: &str) -> Result<i64, String> {
    let quantity = quantity.ok_or_else(|| format!("the metric target has no {what}"))?;
    Quantity::parse(&quantity.0)
        .map(|parsed| parsed.milli_value())
        .map_err(|err| format!("invalid {what} target {:?}: {err}", quantity.0))
}

fn milli_quantity(value: i64, format: Format) -> QuantityText {
    QuantityText::from(Quantity::new_milli(value, format))
}
