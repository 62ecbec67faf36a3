//! Normalization of a metric-based replica proposal: stabilization over recent
//! recommendations, rate limits, and the minReplicas/maxReplicas clamp, after
//! upstream's `normalizeDesiredReplicas` (no `spec.behavior`) and
//! `normalizeDesiredReplicasWithBehaviors`.
//!
//! Entry points: [`normalize_desired_replicas`] and
//! [`normalize_with_behaviors`], both over one autoscaler's [`ScalingHistory`].
//! Every function takes the current time so that tests can drive it.
//!
//! Without `spec.behavior`, a scale down takes the highest recommendation of the
//! downscale stabilization window (`--horizontal-pod-autoscaler-downscale-stabilization`)
//! and a scale up is limited to max(2 * current, 4). With `spec.behavior`, scale up
//! takes the lowest and scale down the highest recommendation of their windows,
//! then the policies limit the change per period, counted from the scale events of
//! that period.

use std::time::Duration;

use k8s_openapi::api::autoscaling::v2::{HPAScalingRules, HorizontalPodAutoscalerBehavior};
use k8s_openapi::jiff::Timestamp;

/// Scale-up limit without behavior: at most this factor of the current count...
const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
/// ...or at least this many replicas.
const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;

/// One unstabilized recommendation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Recommendation {
    replicas: i32,
    timestamp: Timestamp,
}

/// One completed rescale, for the policies' per-period limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ScaleEvent {
    /// The number of replicas added (scale up) or removed (scale down).
    replica_change: i32,
    timestamp: Timestamp,
    /// Older than the longest policy period; the slot can be reused.
    outdated: bool,
}

/// The recommendations and scale events of one autoscaler, kept between syncs
/// and dropped when the autoscaler is deleted.
#[derive(Clone, Debug, Default)]
pub struct ScalingHistory {
    recommendations: Vec<Recommendation>,
    scale_up_events: Vec<ScaleEvent>,
    scale_down_events: Vec<ScaleEvent>,
}

impl ScalingHistory {
    /// Records the current count as the first recommendation, so that a new
    /// autoscaler does not scale down before its window has passed.
    pub fn record_initial_recommendation(&mut self, current_replicas: i32, now: Timestamp) {
        if self.recommendations.is_empty() {
            self.recommendations.push(Recommendation {
                replicas: current_replicas,
                timestamp: now,
            });
        }
    }

    /// Records a completed rescale from `previous` to `new` replicas for the
    /// behavior policies; without behavior nothing is recorded.
    pub fn store_scale_event(
        &mut self,
        behavior: Option<&Behavior>,
        previous: i32,
        new: i32,
        now: Timestamp,
    ) {
        let Some(behavior) = behavior else {
            return;
        };
        let (events, rules, change) = if new > previous {
            (
                &mut self.scale_up_events,
                &behavior.scale_up,
                new - previous,
            )
        } else {
            (
                &mut self.scale_down_events,
                &behavior.scale_down,
                previous - new,
            )
        };
        let cutoff = now.as_millisecond() - i64::from(rules.longest_period()) * 1000;
        for event in events.iter_mut() {
            if event.timestamp.as_millisecond() < cutoff {
                event.outdated = true;
            }
        }
        let event = ScaleEvent {
            replica_change: change,
            timestamp: now,
            outdated: false,
        };
        match events.iter().rposition(|event| event.outdated) {
            Some(index) => events[index] = event,
            None => events.push(event),
        }
    }

    /// Stores `replicas` as the newest recommendation, reusing the slot of one
    /// older than `keep_after` (milliseconds since the epoch) when there is one.
    fn record(&mut self, replicas: i32, keep_after: i64, now: Timestamp) {
        let recommendation = Recommendation {
            replicas,
            timestamp: now,
        };
        match self
            .recommendations
            .iter()
            .rposition(|old| old.timestamp.as_millisecond() < keep_after)
        {
            Some(index) => self.recommendations[index] = recommendation,
            None => self.recommendations.push(recommendation),
        }
    }
}

/// A scaling policy type of `spec.behavior`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyType {
    /// An absolute number of pods.
    Pods,
    /// A percentage of the replicas at the start of the period.
    Percent,
}

/// One scaling policy: at most `value` pods or percent per `period_seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub policy_type: PolicyType,
    pub value: i32,
    pub period_seconds: i32,
}

/// The rule that picks among policies that allow different changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectPolicy {
    /// The policy allowing the largest change (the default).
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No change in this direction.
    Disabled,
}

/// The scaling rules of one direction, with upstream's defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    pub stabilization_window_seconds: i32,
    pub select_policy: SelectPolicy,
    pub policies: Vec<Policy>,
}

impl Rules {
    fn longest_period(&self) -> i32 {
        self.policies
            .iter()
            .map(|policy| policy.period_seconds)
            .max()
            .unwrap_or(0)
    }
}

/// `spec.behavior` with defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Behavior {
    pub scale_up: Rules,
    pub scale_down: Rules,
}

impl Behavior {
    /// Fills `behavior` with upstream's defaults. Scale up has no window and allows
    /// the larger of 100% and 4 pods per 15 s. Scale down has the window
    /// `downscale_window` (the flag) and allows 100% per 15 s. The API server fills
    /// the same defaults, except the scale-down window, which it leaves to the flag.
    pub fn from_spec(
        behavior: &HorizontalPodAutoscalerBehavior,
        downscale_window: Duration,
    ) -> Self {
        let scale_up = Rules {
            stabilization_window_seconds: 0,
            select_policy: SelectPolicy::Max,
            policies: vec![
                Policy {
                    policy_type: PolicyType::Pods,
                    value: 4,
                    period_seconds: 15,
                },
                Policy {
                    policy_type: PolicyType::Percent,
                    value: 100,
                    period_seconds: 15,
                },
            ],
        };
        let scale_down = Rules {
            stabilization_window_seconds: i32::try_from(downscale_window.as_secs())
                .unwrap_or(i32::MAX),
            select_policy: SelectPolicy::Max,
            policies: vec![Policy {
                policy_type: PolicyType::Percent,
                value: 100,
                period_seconds: 15,
            }],
        };
        Behavior {
            scale_up: merge_rules(behavior.scale_up.as_ref(), scale_up),
            scale_down: merge_rules(behavior.scale_down.as_ref(), scale_down),
        }
    }
}

fn merge_rules(spec: Option<&HPAScalingRules>, defaults: Rules) -> Rules {
    let Some(spec) = spec else {
        return defaults;
    };
    let select_policy = match spec.select_policy.as_deref() {
        Some("Min") => SelectPolicy::Min,
        Some("Disabled") => SelectPolicy::Disabled,
        _ => SelectPolicy::Max,
    };
    let policies = match spec.policies.as_deref() {
        Some(policies) if !policies.is_empty() => policies
            .iter()
            .map(|policy| Policy {
                policy_type: if policy.type_ == "Percent" {
                    PolicyType::Percent
                } else {
                    PolicyType::Pods
                },
                value: policy.value,
                period_seconds: policy.period_seconds,
            })
            .collect(),
        _ => defaults.policies,
    };
    Rules {
        stabilization_window_seconds: spec
            .stabilization_window_seconds
            .unwrap_or(defaults.stabilization_window_seconds),
        select_policy,
        policies,
    }
}

/// A normalized count with the AbleToScale and ScalingLimited conditions it sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Normalized {
    /// The count to scale to.
    pub replicas: i32,
    /// AbleToScale (True) reason and message.
    pub able_to_scale: (&'static str, &'static str),
    /// ScalingLimited status, reason and message.
    pub scaling_limited: (bool, &'static str, &'static str),
}

const READY_FOR_NEW_SCALE: (&str, &str) =
    ("ReadyForNewScale", "recommended size matches current size");
const SCALE_DOWN_STABILIZED: (&str, &str) = (
    "ScaleDownStabilized",
    "recent recommendations were higher than current one, applying the highest recent recommendation",
);
const SCALE_UP_STABILIZED: (&str, &str) = (
    "ScaleUpStabilized",
    "recent recommendations were lower than current one, applying the lowest recent recommendation",
);
const DESIRED_WITHIN_RANGE: (&str, &str) = (
    "DesiredWithinRange",
    "the desired count is within the acceptable range",
);
const SCALE_UP_LIMIT: (&str, &str) = (
    "ScaleUpLimit",
    "the desired replica count is increasing faster than the maximum scale rate",
);
const SCALE_DOWN_LIMIT: (&str, &str) = (
    "ScaleDownLimit",
    "the desired replica count is decreasing faster than the maximum scale rate",
);
const TOO_MANY_REPLICAS: (&str, &str) = (
    "TooManyReplicas",
    "the desired replica count is more than the maximum replica count",
);
const TOO_FEW_REPLICAS: (&str, &str) = (
    "TooFewReplicas",
    "the desired replica count is less than the minimum replica count",
);

/// Normalizes `desired` for an autoscaler without `spec.behavior`.
pub fn normalize_desired_replicas(
    history: &mut ScalingHistory,
    current: i32,
    desired: i32,
    min_replicas: i32,
    max_replicas: i32,
    downscale_window: Duration,
    now: Timestamp,
) -> Normalized {
    let stabilized = stabilize_recommendation(history, desired, downscale_window, now);
    let able_to_scale = if stabilized != desired {
        SCALE_DOWN_STABILIZED
    } else {
        READY_FOR_NEW_SCALE
    };

    let scale_up_limit =
        (SCALE_UP_LIMIT_FACTOR * f64::from(current)).max(SCALE_UP_LIMIT_MINIMUM) as i32;
    let (maximum, limit_condition) = if max_replicas > scale_up_limit {
        (scale_up_limit, SCALE_UP_LIMIT)
    } else {
        (max_replicas, TOO_MANY_REPLICAS)
    };
    let (replicas, condition) = if stabilized < min_replicas {
        (min_replicas, TOO_FEW_REPLICAS)
    } else if stabilized > maximum {
        (maximum, limit_condition)
    } else {
        (stabilized, DESIRED_WITHIN_RANGE)
    };
    Normalized {
        replicas,
        able_to_scale,
        scaling_limited: (replicas != stabilized, condition.0, condition.1),
    }
}

/// Returns the highest recommendation of the window, including `desired`, and
/// records `desired`.
fn stabilize_recommendation(
    history: &mut ScalingHistory,
    desired: i32,
    window: Duration,
    now: Timestamp,
) -> i32 {
    let cutoff = now.as_millisecond() - millis(window);
    let highest = history
        .recommendations
        .iter()
        .filter(|recommendation| recommendation.timestamp.as_millisecond() >= cutoff)
        .map(|recommendation| recommendation.replicas)
        .fold(desired, i32::max);
    history.record(desired, cutoff, now);
    highest
}

/// Normalizes `desired` for an autoscaler with `spec.behavior`.
pub fn normalize_with_behaviors(
    history: &mut ScalingHistory,
    behavior: &Behavior,
    current: i32,
    desired: i32,
    min_replicas: i32,
    max_replicas: i32,
    now: Timestamp,
) -> Normalized {
    let (stabilized, stabilized_condition) =
        stabilize_with_behaviors(history, behavior, current, desired, now);
    let able_to_scale = if stabilized != desired {
        stabilized_condition
    } else {
        READY_FOR_NEW_SCALE
    };

    let (replicas, condition) = if stabilized > current {
        let limit = scale_up_limit(history, &behavior.scale_up, current, now).max(current);
        let (maximum, condition) = if max_replicas > limit {
            (limit, SCALE_UP_LIMIT)
        } else {
            (max_replicas, TOO_MANY_REPLICAS)
        };
        if stabilized > maximum {
            (maximum, condition)
        } else {
            (stabilized, DESIRED_WITHIN_RANGE)
        }
    } else if stabilized < current {
        let limit = scale_down_limit(history, &behavior.scale_down, current, now).min(current);
        let (minimum, condition) = if min_replicas < limit {
            (limit, SCALE_DOWN_LIMIT)
        } else {
            (min_replicas, TOO_FEW_REPLICAS)
        };
        if stabilized < minimum {
            (minimum, condition)
        } else {
            (stabilized, DESIRED_WITHIN_RANGE)
        }
    } else {
        (stabilized, DESIRED_WITHIN_RANGE)
    };
    Normalized {
        replicas,
        able_to_scale,
        scaling_limited: (replicas != stabilized, condition.0, condition.1),
    }
}

/// Bounds the proposal by the lowest recommendation of the scale-up window and the
/// highest of the scale-down window, starting from the current count, and records
/// `desired`.
fn stabilize_with_behaviors(
    history: &mut ScalingHistory,
    behavior: &Behavior,
    current: i32,
    desired: i32,
    now: Timestamp,
) -> (i32, (&'static str, &'static str)) {
    let now_ms = now.as_millisecond();
    let up_cutoff = now_ms - i64::from(behavior.scale_up.stabilization_window_seconds) * 1000;
    let down_cutoff = now_ms - i64::from(behavior.scale_down.stabilization_window_seconds) * 1000;

    let mut up_recommendation = desired;
    let mut down_recommendation = desired;
    for recommendation in &history.recommendations {
        let at = recommendation.timestamp.as_millisecond();
        if at > up_cutoff {
            up_recommendation = up_recommendation.min(recommendation.replicas);
        }
        if at > down_cutoff {
            down_recommendation = down_recommendation.max(recommendation.replicas);
        }
    }
    let stabilized = current.max(up_recommendation).min(down_recommendation);
    history.record(desired, up_cutoff.min(down_cutoff), now);

    let condition = if desired >= current {
        SCALE_UP_STABILIZED
    } else {
        SCALE_DOWN_STABILIZED
    };
    (stabilized, condition)
}

/// Returns the highest count the scale-up policies allow now.
fn scale_up_limit(history: &ScalingHistory, rules: &Rules, current: i32, now: Timestamp) -> i32 {
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MAX, i32::min),
        SelectPolicy::Max => (i32::MIN, i32::max),
    };
    for policy in &rules.policies {
        let period_start = period_start_replicas(history, policy.period_seconds, current, now);
        let proposed = match policy.policy_type {
            PolicyType::Pods => period_start.saturating_add(policy.value),
            // Rounded up so that a small percentage still adds a pod.
            PolicyType::Percent => {
                (f64::from(period_start) * (1.0 + f64::from(policy.value) / 100.0)).ceil() as i32
            }
        };
        result = pick(result, proposed);
    }
    result
}

/// Returns the lowest count the scale-down policies allow now.
fn scale_down_limit(history: &ScalingHistory, rules: &Rules, current: i32, now: Timestamp) -> i32 {
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MIN, i32::max),
        SelectPolicy::Max => (i32::MAX, i32::min),
    };
    for policy in &rules.policies {
        let period_start = period_start_replicas(history, policy.period_seconds, current, now);
        let proposed = match policy.policy_type {
            PolicyType::Pods => period_start.saturating_sub(policy.value),
            // Truncated, as upstream does.
            PolicyType::Percent => {
                (f64::from(period_start) * (1.0 - f64::from(policy.value) / 100.0)) as i32
            }
        };
        result = pick(result, proposed);
    }
    result
}

/// Returns the count at the start of the policy period: the current count minus
/// the pods added and plus the pods removed within it.
fn period_start_replicas(
    history: &ScalingHistory,
    period_seconds: i32,
    current: i32,
    now: Timestamp,
) -> i32 {
    let cutoff = now.as_millisecond() - i64::from(period_seconds) * 1000;
    let changed = |events: &[ScaleEvent]| -> i32 {
        events
            .iter()
            .filter(|event| event.timestamp.as_millisecond() > cutoff)
            .map(|event| event.replica_change)
            .sum()
    };
    current - changed(&history.scale_up_events) + changed(&history.scale_down_events)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
