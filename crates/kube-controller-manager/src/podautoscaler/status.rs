//! Conditions and status fields of a HorizontalPodAutoscaler, set as upstream's
//! controller sets them.

use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, HorizontalPodAutoscalerStatus,
    MetricStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Condition type: whether the controller can read and update the target's scale.
pub const ABLE_TO_SCALE: &str = "AbleToScale";
/// Condition type: whether a replica count could be computed from the metrics.
pub const SCALING_ACTIVE: &str = "ScalingActive";
/// Condition type: whether the count was clamped by min/max or a rate limit.
pub const SCALING_LIMITED: &str = "ScalingLimited";

/// Sets the condition `condition_type` to `status` with `reason` and `message`,
/// adding it when absent. The transition time changes only when the status does.
pub fn set_condition(
    autoscaler: &mut HorizontalPodAutoscaler,
    condition_type: &str,
    status: bool,
    reason: &str,
    message: impl Into<String>,
    now: &Time,
) {
    let status_text = if status { "True" } else { "False" };
    let conditions = status_of(autoscaler)
        .conditions
        .get_or_insert_with(Vec::new);
    let index = match conditions.iter().position(|c| c.type_ == condition_type) {
        Some(index) => index,
        None => {
            conditions.push(HorizontalPodAutoscalerCondition {
                type_: condition_type.to_string(),
                ..HorizontalPodAutoscalerCondition::default()
            });
            conditions.len() - 1
        }
    };
    let condition = &mut conditions[index];
    if condition.status != status_text {
        condition.last_transition_time = Some(now.clone());
    }
    condition.status = status_text.to_string();
    condition.reason = Some(reason.to_string());
    condition.message = Some(message.into());
}

/// Returns the condition `condition_type`, if set.
pub fn condition<'a>(
    autoscaler: &'a HorizontalPodAutoscaler,
    condition_type: &str,
) -> Option<&'a HorizontalPodAutoscalerCondition> {
    autoscaler
        .status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .and_then(|conditions| conditions.iter().find(|c| c.type_ == condition_type))
}

/// Rebuilds the status around the conditions and last scale time: the replica
/// counts, the metric values and the observed generation. `rescaled` sets the last
/// scale time to `now`.
pub fn set_status(
    autoscaler: &mut HorizontalPodAutoscaler,
    current_replicas: i32,
    desired_replicas: i32,
    metric_statuses: Vec<MetricStatus>,
    rescaled: bool,
    now: &Time,
) {
    let generation = autoscaler.metadata.generation;
    let status = status_of(autoscaler);
    status.current_replicas = Some(current_replicas);
    status.desired_replicas = desired_replicas;
    status.current_metrics = (!metric_statuses.is_empty()).then_some(metric_statuses);
    status.observed_generation = generation;
    if rescaled {
        status.last_scale_time = Some(now.clone());
    }
}

/// Sets the current count and the metric values, keeping the last desired count,
/// for a sync that ends early.
pub fn set_current_replicas_and_metrics(
    autoscaler: &mut HorizontalPodAutoscaler,
    current_replicas: i32,
    metric_statuses: Vec<MetricStatus>,
    now: &Time,
) {
    let desired = status_of(autoscaler).desired_replicas;
    set_status(
        autoscaler,
        current_replicas,
        desired,
        metric_statuses,
        false,
        now,
    );
}

fn status_of(autoscaler: &mut HorizontalPodAutoscaler) -> &mut HorizontalPodAutoscalerStatus {
    autoscaler
        .status
        .get_or_insert_with(HorizontalPodAutoscalerStatus::default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;

    fn time(second: i64) -> Time {
        Time(Timestamp::from_second(second).expect("valid second"))
    }

    #[test]
    fn transition_time_changes_only_with_status() {
        let mut autoscaler = HorizontalPodAutoscaler::default();
        set_condition(
            &mut autoscaler,
            ABLE_TO_SCALE,
            true,
            "A",
            "first",
            &time(10),
        );
        set_condition(
            &mut autoscaler,
            ABLE_TO_SCALE,
            true,
            "B",
            "second",
            &time(20),
        );
        let current = condition(&autoscaler, ABLE_TO_SCALE).expect("condition set");
        assert_eq!(current.last_transition_time, Some(time(10)));
        assert_eq!(current.reason.as_deref(), Some("B"));
        assert_eq!(current.message.as_deref(), Some("second"));

        set_condition(
            &mut autoscaler,
            ABLE_TO_SCALE,
            false,
            "C",
            "third",
            &time(30),
        );
        let current = condition(&autoscaler, ABLE_TO_SCALE).expect("condition set");
        assert_eq!(current.last_transition_time, Some(time(30)));
        assert_eq!(current.status, "False");
    }

    #[test]
    fn status_keeps_last_scale_time_unless_rescaled() {
        let mut autoscaler = HorizontalPodAutoscaler::default();
        autoscaler.metadata.generation = Some(3);
        set_status(&mut autoscaler, 2, 4, Vec::new(), true, &time(10));
        set_status(&mut autoscaler, 4, 4, Vec::new(), false, &time(20));
        let status = autoscaler.status.expect("status set");
        assert_eq!(status.last_scale_time, Some(time(10)));
        assert_eq!(status.current_replicas, Some(4));
        assert_eq!(status.observed_generation, Some(3));
        assert_eq!(status.current_metrics, None);
    }
}
