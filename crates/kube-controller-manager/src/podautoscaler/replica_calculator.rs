//! The replica calculator: turns one metric's values and the target's pods into a
//! proposed replica count, after upstream's `ReplicaCalculator`.
//!
//! Entry points: [`ReplicaCalculator::resource_replicas`] for utilization targets,
//! [`ReplicaCalculator::plain_metric_replicas`] for average-value targets over pods,
//! and [`ReplicaCalculator::usage_ratio_replicas`] and [`per_pod_replicas`] for
//! Object and External metrics.
//!
//! The usage ratio is the current value over the target. A ratio within the
//! tolerance of 1.0 keeps the current count.
//!
//! Pods are first grouped. Deleted and failed pods are ignored, pending pods count
//! as unready, and pods without a sample are missing. For cpu, a pod is also
//! unready when it has no Ready condition or start time. Inside the cpu
//! initialization period, it is unready while not ready or while its sample covers
//! time before its last readiness change. After that period, it is unready when it
//! turned unready within the initial readiness delay after its start, so it was
//! never ready.
//!
//! When unready or missing pods exist, the ratio is computed again. Missing pods
//! count at 0% on a scale up and at 100% of their request (or the target, when it
//! is above 100%) on a scale down. Unready pods count at 0% on a scale up. A second
//! ratio that flips the direction or falls within the tolerance keeps the current
//! count.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use apimachinery::quantity::Quantity;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;

use super::metrics::{PodMetric, PodMetricsInfo};

/// The error text when no pod matches the target's selector.
const NO_PODS: &str = "no pods returned by selector while calculating replica count";

/// The settings of the calculator, from the controller manager's flags.
#[derive(Clone, Debug)]
pub struct ReplicaCalculator {
    /// How far the usage ratio may stray from 1.0 before the count changes
    /// (`--horizontal-pod-autoscaler-tolerance`).
    pub tolerance: f64,
    /// How long after its start a pod's cpu samples are trusted only once it is
    /// ready (`--horizontal-pod-autoscaler-cpu-initialization-period`).
    pub cpu_initialization_period: Duration,
    /// How long after its start a pod that is not ready counts as never ready
    /// (`--horizontal-pod-autoscaler-initial-readiness-delay`).
    pub delay_of_initial_readiness_status: Duration,
}

/// The result of a utilization calculation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceProposal {
    /// The proposed replica count.
    pub replicas: i32,
    /// The average utilization, in percent of the requests.
    pub utilization: i32,
    /// The average usage per pod, in milli-units.
    pub raw_utilization: i64,
}

/// Pods sorted by how their samples are used.
#[derive(Default)]
struct PodGroups {
    ready: usize,
    unready: HashSet<String>,
    missing: HashSet<String>,
    ignored: HashSet<String>,
}

impl ReplicaCalculator {
    /// Proposes a count for a utilization target of `target_utilization` percent of
    /// the pods' requests of `resource` (summed over containers, or of `container`).
    /// `pods` are the pods the target's selector matches and `metrics` their samples.
    ///
    /// # Errors
    /// A message when no pod matches, no usable sample remains, or a pod lacks a
    /// request for the resource.
    #[allow(clippy::too_many_arguments)]
    pub fn resource_replicas(
        &self,
        current_replicas: i32,
        target_utilization: i32,
        resource: &str,
        container: &str,
        pods: &[Arc<Pod>],
        mut metrics: PodMetricsInfo,
        now: Timestamp,
    ) -> Result<ResourceProposal, String> {
        if pods.is_empty() {
            return Err(NO_PODS.to_string());
        }
        let groups = self.group_pods(pods, &metrics, resource, now);
        remove_metrics(&mut metrics, &groups.ignored);
        remove_metrics(&mut metrics, &groups.unready);
        if metrics.is_empty() {
            return Err(
                "did not receive metrics for targeted pods (pods might be unready)".to_string(),
            );
        }

        let requests = pod_requests(pods, container, resource)?;
        let (usage_ratio, utilization, raw_utilization) =
            resource_utilization_ratio(&metrics, &requests, target_utilization)?;
        let proposal = |replicas| ResourceProposal {
            replicas,
            utilization,
            raw_utilization,
        };

        let scale_up_with_unready = !groups.unready.is_empty() && usage_ratio > 1.0;
        if !scale_up_with_unready && groups.missing.is_empty() {
            if self.within_tolerance(usage_ratio) {
                return Ok(proposal(current_replicas));
            }
            return Ok(proposal(ceil_replicas(usage_ratio * groups.ready as f64)));
        }

        if !groups.missing.is_empty() {
            if usage_ratio < 1.0 {
                let fallback = i64::from(target_utilization.max(100));
                for name in &groups.missing {
                    let request = requests.get(name).copied().unwrap_or_default();
                    metrics.insert(name.clone(), placeholder(request * fallback / 100));
                }
            } else if usage_ratio > 1.0 {
                for name in &groups.missing {
                    metrics.insert(name.clone(), placeholder(0));
                }
            }
        }
        if scale_up_with_unready {
            for name in &groups.unready {
                metrics.insert(name.clone(), placeholder(0));
            }
        }

        let (new_usage_ratio, _, _) =
            resource_utilization_ratio(&metrics, &requests, target_utilization)?;
        Ok(proposal(self.rebalanced_replicas(
            current_replicas,
            usage_ratio,
            new_usage_ratio,
            metrics.len(),
        )))
    }

    /// Proposes a count for an average-value target of `target_usage` milli-units
    /// per pod, for resource metrics with an AverageValue target (`resource` names
    /// it) and Pods metrics (`resource` empty). Returns the count and the current
    /// average usage.
    ///
    /// # Errors
    /// A message when no pod matches or no usable sample remains.
    pub fn plain_metric_replicas(
        &self,
        current_replicas: i32,
        target_usage: i64,
        resource: &str,
        pods: &[Arc<Pod>],
        mut metrics: PodMetricsInfo,
        now: Timestamp,
    ) -> Result<(i32, i64), String> {
        if pods.is_empty() {
            return Err(NO_PODS.to_string());
        }
        let groups = self.group_pods(pods, &metrics, resource, now);
        remove_metrics(&mut metrics, &groups.ignored);
        remove_metrics(&mut metrics, &groups.unready);
        if metrics.is_empty() {
            return Err(
                "did not receive metrics for targeted pods (pods might be unready)".to_string(),
            );
        }

        let (usage_ratio, usage) = metric_usage_ratio(&metrics, target_usage);
        let scale_up_with_unready = !groups.unready.is_empty() && usage_ratio > 1.0;
        if !scale_up_with_unready && groups.missing.is_empty() {
            if self.within_tolerance(usage_ratio) {
                return Ok((current_replicas, usage));
            }
            return Ok((ceil_replicas(usage_ratio * groups.ready as f64), usage));
        }

        if !groups.missing.is_empty() {
            // A missing pod counts as exactly on target on a scale down.
            let fallback = if usage_ratio < 1.0 {
                Some(target_usage)
            } else if usage_ratio > 1.0 {
                Some(0)
            } else {
                None
            };
            if let Some(value) = fallback {
                for name in &groups.missing {
                    metrics.insert(name.clone(), placeholder(value));
                }
            }
        }
        if scale_up_with_unready {
            for name in &groups.unready {
                metrics.insert(name.clone(), placeholder(0));
            }
        }

        let (new_usage_ratio, _) = metric_usage_ratio(&metrics, target_usage);
        let replicas = self.rebalanced_replicas(
            current_replicas,
            usage_ratio,
            new_usage_ratio,
            metrics.len(),
        );
        Ok((replicas, usage))
    }

    /// Proposes a count from a usage ratio that does not depend on the pods'
    /// samples (Object and External metrics with a Value target): the ratio times
    /// the number of running, ready pods.
    ///
    /// # Errors
    /// A message when no pod matches the selector.
    pub fn usage_ratio_replicas(
        &self,
        current_replicas: i32,
        usage_ratio: f64,
        pods: &[Arc<Pod>],
    ) -> Result<i32, String> {
        if current_replicas == 0 {
            return Ok(ceil_replicas(usage_ratio));
        }
        if self.within_tolerance(usage_ratio) {
            return Ok(current_replicas);
        }
        if pods.is_empty() {
            return Err(format!("unable to calculate ready pods: {NO_PODS}"));
        }
        let ready = pods
            .iter()
            .filter(|pod| {
                pod_phase(pod) == "Running"
                    && ready_condition(pod).is_some_and(|c| c.status == "True")
            })
            .count();
        Ok(ceil_replicas(usage_ratio * ready as f64))
    }

    /// Returns whether `usage_ratio` is close enough to 1.0 to keep the count.
    pub fn within_tolerance(&self, usage_ratio: f64) -> bool {
        (1.0 - usage_ratio).abs() <= self.tolerance
    }

    /// Applies the second-pass rules: keep the current count when the new ratio is
    /// within tolerance, flips the direction, or the new count moves the other way.
    fn rebalanced_replicas(
        &self,
        current_replicas: i32,
        usage_ratio: f64,
        new_usage_ratio: f64,
        samples: usize,
    ) -> i32 {
        if self.within_tolerance(new_usage_ratio)
            || (usage_ratio < 1.0 && new_usage_ratio > 1.0)
            || (usage_ratio > 1.0 && new_usage_ratio < 1.0)
        {
            return current_replicas;
        }
        let new_replicas = ceil_replicas(new_usage_ratio * samples as f64);
        if (new_usage_ratio < 1.0 && new_replicas > current_replicas)
            || (new_usage_ratio > 1.0 && new_replicas < current_replicas)
        {
            return current_replicas;
        }
        new_replicas
    }

    fn group_pods(
        &self,
        pods: &[Arc<Pod>],
        metrics: &PodMetricsInfo,
        resource: &str,
        now: Timestamp,
    ) -> PodGroups {
        let mut groups = PodGroups::default();
        for pod in pods {
            let name = pod.metadata.name.clone().unwrap_or_default();
            if pod.metadata.deletion_timestamp.is_some() || pod_phase(pod) == "Failed" {
                groups.ignored.insert(name);
                continue;
            }
            if pod_phase(pod) == "Pending" {
                groups.unready.insert(name);
                continue;
            }
            let Some(metric) = metrics.get(&name) else {
                groups.missing.insert(name);
                continue;
            };
            if resource == "cpu" && self.cpu_sample_unusable(pod, metric, now) {
                groups.unready.insert(name);
                continue;
            }
            groups.ready += 1;
        }
        groups
    }

    /// Returns whether a pod's cpu sample must not be used, per the rules in the
    /// module header.
    fn cpu_sample_unusable(&self, pod: &Pod, metric: &PodMetric, now: Timestamp) -> bool {
        let condition = ready_condition(pod);
        let start = pod
            .status
            .as_ref()
            .and_then(|status| status.start_time.as_ref());
        let (Some(condition), Some(start)) = (condition, start) else {
            return true;
        };
        let start = start.0.as_millisecond();
        let transition = condition
            .last_transition_time
            .as_ref()
            .map_or(0, |time| time.0.as_millisecond());
        if start + millis(self.cpu_initialization_period) > now.as_millisecond() {
            condition.status == "False"
                || metric.timestamp.as_millisecond() < transition + millis(metric.window)
        } else {
            condition.status == "False"
                && start + millis(self.delay_of_initial_readiness_status) > transition
        }
    }
}

/// Proposes a count for a per-pod average target over a total (Object and External
/// metrics with an AverageValue target): the total over the target, unless the
/// ratio to `status_replicas` is within `tolerance`. Returns the count and the
/// average per pod.
pub fn per_pod_replicas(
    tolerance: f64,
    status_replicas: i32,
    target_average: i64,
    total: i64,
) -> (i32, i64) {
    let mut replicas = status_replicas;
    let usage_ratio = total as f64 / (target_average as f64 * f64::from(status_replicas));
    if (1.0 - usage_ratio).abs() > tolerance {
        replicas = ceil_replicas(total as f64 / target_average as f64);
    }
    let per_pod = if status_replicas == 0 {
        0
    } else {
        (total as f64 / f64::from(status_replicas)).ceil() as i64
    };
    (replicas, per_pod)
}

/// Returns the request of `resource`, in milli-units, of each pod: the sum over
/// its containers and restartable init containers, or of `container` only.
///
/// # Errors
/// A message naming the pod and container when a request is missing or the named
/// container does not exist.
pub fn pod_requests(
    pods: &[Arc<Pod>],
    container: &str,
    resource: &str,
) -> Result<HashMap<String, i64>, String> {
    let mut requests = HashMap::new();
    for pod in pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let spec = pod.spec.as_ref();
        let sidecars = spec
            .and_then(|spec| spec.init_containers.as_deref())
            .unwrap_or_default()
            .iter()
            .filter(|init| init.restart_policy.as_deref() == Some("Always"));
        let containers = spec
            .map(|spec| spec.containers.as_slice())
            .unwrap_or_default();

        let mut sum = 0i64;
        let mut found = false;
        for candidate in containers.iter().chain(sidecars) {
            if !container.is_empty() && candidate.name != container {
                continue;
            }
            found = true;
            let request = candidate
                .resources
                .as_ref()
                .and_then(|resources| resources.requests.as_ref())
                .and_then(|requests| requests.get(resource))
                .and_then(|quantity| Quantity::parse(&quantity.0).ok())
                .ok_or_else(|| {
                    format!(
                        "missing request for {resource} in container {} of Pod {name}",
                        candidate.name
                    )
                })?;
            sum = sum.saturating_add(request.milli_value());
        }
        if !container.is_empty() && !found {
            return Err(format!("container {container} not found in Pod {name}"));
        }
        requests.insert(name, sum);
    }
    Ok(requests)
}

/// Returns the usage ratio (whole-percent utilization over the target), the
/// utilization in percent and the average usage per pod, over the pods that have
/// both a sample and a request.
///
/// # Errors
/// A message when no sample belongs to a pod with a request.
pub fn resource_utilization_ratio(
    metrics: &PodMetricsInfo,
    requests: &HashMap<String, i64>,
    target_utilization: i32,
) -> Result<(f64, i32, i64), String> {
    let mut usage_total = 0i64;
    let mut requests_total = 0i64;
    let mut pods = 0i64;
    for (name, metric) in metrics {
        let Some(request) = requests.get(name) else {
            continue;
        };
        usage_total += metric.value;
        requests_total += request;
        pods += 1;
    }
    if requests_total == 0 {
        return Err("no metrics returned matched known pods".to_string());
    }
    let utilization = ((usage_total * 100) / requests_total) as i32;
    Ok((
        f64::from(utilization) / f64::from(target_utilization),
        utilization,
        usage_total / pods,
    ))
}

/// Returns the usage ratio of the average sample to `target_usage`, and that
/// average.
pub fn metric_usage_ratio(metrics: &PodMetricsInfo, target_usage: i64) -> (f64, i64) {
    let total: i64 = metrics.values().map(|metric| metric.value).sum();
    let average = total / metrics.len().max(1) as i64;
    (average as f64 / target_usage as f64, average)
}

fn remove_metrics(metrics: &mut PodMetricsInfo, names: &HashSet<String>) {
    for name in names {
        metrics.remove(name);
    }
}

fn placeholder(value: i64) -> PodMetric {
    PodMetric {
        timestamp: Timestamp::UNIX_EPOCH,
        window: Duration::ZERO,
        value,
    }
}

/// Rounds up and clamps into `i32`.
fn ceil_replicas(value: f64) -> i32 {
    value.ceil().clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn pod_phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .unwrap_or_default()
}

fn ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .and_then(|conditions| conditions.iter().find(|c| c.type_ == "Ready"))
}

#[cfg(test)]
mod tests;
