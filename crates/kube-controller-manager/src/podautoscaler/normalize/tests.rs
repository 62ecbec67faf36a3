//! Cases after upstream's normalization tests: the legacy scale-up limit and
//! downscale stabilization, behavior policies (Pods, Percent), selectPolicy, and
//! stabilization windows in both directions.

use std::time::Duration;

use k8s_openapi::api::autoscaling::v2::{
    HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscalerBehavior,
};
use k8s_openapi::jiff::Timestamp;

use super::*;

const START: i64 = 1_700_000_000;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(START + seconds).expect("valid time")
}

fn rules(window: i32, select: SelectPolicy, policies: &[(PolicyType, i32, i32)]) -> Rules {
    Rules {
        stabilization_window_seconds: window,
        select_policy: select,
        policies: policies
            .iter()
            .map(|&(policy_type, value, period_seconds)| Policy {
                policy_type,
                value,
                period_seconds,
            })
            .collect(),
    }
}

fn default_behavior() -> Behavior {
    Behavior::from_spec(
        &HorizontalPodAutoscalerBehavior::default(),
        Duration::from_secs(300),
    )
}

fn legacy(history: &mut ScalingHistory, current: i32, desired: i32, now: i64) -> Normalized {
    normalize_desired_replicas(
        history,
        current,
        desired,
        1,
        20,
        Duration::from_secs(300),
        at(now),
    )
}

/// Without `spec.behavior`, a scale up goes to at most max(2 * current, 4).
#[test]
fn legacy_scale_up_limit() {
    let mut history = ScalingHistory::default();
    let normalized = legacy(&mut history, 1, 10, 0);
    assert_eq!(normalized.replicas, 4);
    assert!(normalized.scaling_limited.0);
    assert_eq!(normalized.scaling_limited.1, "ScaleUpLimit");

    let normalized = legacy(&mut history, 5, 20, 0);
    assert_eq!(normalized.replicas, 10);
}

#[test]
fn legacy_clamps_to_min_and_max() {
    let mut history = ScalingHistory::default();
    let normalized = normalize_desired_replicas(&mut history, 4, 10, 1, 6, Duration::ZERO, at(0));
    assert_eq!(normalized.replicas, 6);
    assert_eq!(
        normalized.scaling_limited,
        (true, TOO_MANY_REPLICAS.0, TOO_MANY_REPLICAS.1)
    );

    let normalized = normalize_desired_replicas(&mut history, 4, 1, 2, 6, Duration::ZERO, at(1));
    assert_eq!(normalized.replicas, 2);
    assert_eq!(
        normalized.scaling_limited,
        (true, TOO_FEW_REPLICAS.0, TOO_FEW_REPLICAS.1)
    );

    let normalized = normalize_desired_replicas(&mut history, 4, 5, 2, 6, Duration::ZERO, at(2));
    assert_eq!(normalized.replicas, 5);
    assert_eq!(
        normalized.scaling_limited,
        (false, DESIRED_WITHIN_RANGE.0, DESIRED_WITHIN_RANGE.1)
    );
}

#[test]
fn legacy_scale_down_waits_for_the_window() {
    let mut history = ScalingHistory::default();
    history.record_initial_recommendation(5, at(0));

    let held = legacy(&mut history, 5, 2, 10);
    assert_eq!(held.replicas, 5);
    assert_eq!(held.able_to_scale, SCALE_DOWN_STABILIZED);

    let released = legacy(&mut history, 5, 2, 301);
    assert_eq!(released.replicas, 2);
    assert_eq!(released.able_to_scale, READY_FOR_NEW_SCALE);
}

/// The default behavior scales up by at most 4 pods or 100 % per 15 s.
#[test]
fn default_behavior_scale_up_limit() {
    let behavior = default_behavior();
    let mut history = ScalingHistory::default();
    let normalized = normalize_with_behaviors(&mut history, &behavior, 10, 100, 1, 1000, at(0));
    assert_eq!(normalized.replicas, 20);
    assert_eq!(normalized.scaling_limited.1, "ScaleUpLimit");

    let mut history = ScalingHistory::default();
    let normalized = normalize_with_behaviors(&mut history, &behavior, 1, 100, 1, 1000, at(0));
    assert_eq!(normalized.replicas, 5);
}

#[test]
fn select_policy_min_and_disabled() {
    let mut behavior = default_behavior();
    behavior.scale_up.select_policy = SelectPolicy::Min;
    let mut history = ScalingHistory::default();
    let normalized = normalize_with_behaviors(&mut history, &behavior, 10, 100, 1, 1000, at(0));
    assert_eq!(normalized.replicas, 14);

    behavior.scale_up.select_policy = SelectPolicy::Disabled;
    let mut history = ScalingHistory::default();
    let normalized = normalize_with_behaviors(&mut history, &behavior, 10, 100, 1, 1000, at(0));
    assert_eq!(normalized.replicas, 10);
    assert!(normalized.scaling_limited.0);

    behavior.scale_down = rules(0, SelectPolicy::Disabled, &[(PolicyType::Percent, 100, 15)]);
    let mut history = ScalingHistory::default();
    let normalized = normalize_with_behaviors(&mut history, &behavior, 10, 1, 1, 1000, at(0));
    assert_eq!(normalized.replicas, 10);
}

#[test]
fn pods_policy_counts_scale_events_of_the_period() {
    let behavior = Behavior {
        scale_up: rules(0, SelectPolicy::Max, &[(PolicyType::Pods, 4, 60)]),
        scale_down: rules(0, SelectPolicy::Max, &[(PolicyType::Percent, 100, 15)]),
    };
    let mut history = ScalingHistory::default();
    let first = normalize_with_behaviors(&mut history, &behavior, 6, 20, 1, 100, at(0));
    assert_eq!(first.replicas, 10);
    history.store_scale_event(Some(&behavior), 6, 10, at(0));

    // Within the same 60 s period the 4 pods are used up.
    let second = normalize_with_behaviors(&mut history, &behavior, 10, 20, 1, 100, at(30));
    assert_eq!(second.replicas, 10);
    assert_eq!(second.scaling_limited.1, "ScaleUpLimit");

    // After the period, 4 more.
    let third = normalize_with_behaviors(&mut history, &behavior, 10, 20, 1, 100, at(61));
    assert_eq!(third.replicas, 14);
}

#[test]
fn percent_policy_limits_scale_down_per_period() {
    let behavior = Behavior {
        scale_up: default_behavior().scale_up,
        scale_down: rules(0, SelectPolicy::Max, &[(PolicyType::Percent, 50, 60)]),
    };
    let mut history = ScalingHistory::default();
    let first = normalize_with_behaviors(&mut history, &behavior, 10, 1, 1, 100, at(0));
    assert_eq!(first.replicas, 5);
    assert_eq!(
        first.scaling_limited,
        (true, SCALE_DOWN_LIMIT.0, SCALE_DOWN_LIMIT.1)
    );
    history.store_scale_event(Some(&behavior), 10, 5, at(0));

    // The period started at 10 replicas, so 5 is already the limit.
    let second = normalize_with_behaviors(&mut history, &behavior, 5, 1, 1, 100, at(10));
    assert_eq!(second.replicas, 5);

    let third = normalize_with_behaviors(&mut history, &behavior, 5, 1, 1, 100, at(61));
    assert_eq!(third.replicas, 2);
}

#[test]
fn percent_and_pods_policies_pick_by_select_policy() {
    let policies = [(PolicyType::Pods, 1, 60), (PolicyType::Percent, 50, 60)];
    for (select, expected) in [(SelectPolicy::Max, 10), (SelectPolicy::Min, 19)] {
        let behavior = Behavior {
            scale_up: default_behavior().scale_up,
            scale_down: rules(0, select, &policies),
        };
        let mut history = ScalingHistory::default();
        let normalized = normalize_with_behaviors(&mut history, &behavior, 20, 1, 1, 100, at(0));
        assert_eq!(normalized.replicas, expected, "{select:?}");
    }
}

#[test]
fn scale_down_window_holds_the_highest_recommendation() {
    let behavior = Behavior {
        scale_up: default_behavior().scale_up,
        scale_down: rules(60, SelectPolicy::Max, &[(PolicyType::Percent, 100, 15)]),
    };
    let mut history = ScalingHistory::default();
    history.record_initial_recommendation(10, at(0));

    let held = normalize_with_behaviors(&mut history, &behavior, 10, 3, 1, 100, at(10));
    assert_eq!(held.replicas, 10);
    assert_eq!(held.able_to_scale, SCALE_DOWN_STABILIZED);

    let released = normalize_with_behaviors(&mut history, &behavior, 10, 3, 1, 100, at(61));
    assert_eq!(released.replicas, 3);
    assert_eq!(released.able_to_scale, READY_FOR_NEW_SCALE);
}

#[test]
fn scale_up_window_holds_the_lowest_recommendation() {
    let behavior = Behavior {
        scale_up: rules(60, SelectPolicy::Max, &[(PolicyType::Percent, 100, 15)]),
        scale_down: default_behavior().scale_down,
    };
    let mut history = ScalingHistory::default();
    history.record_initial_recommendation(3, at(0));

    let held = normalize_with_behaviors(&mut history, &behavior, 3, 6, 1, 100, at(10));
    assert_eq!(held.replicas, 3);
    assert_eq!(held.able_to_scale, SCALE_UP_STABILIZED);

    let released = normalize_with_behaviors(&mut history, &behavior, 3, 6, 1, 100, at(71));
    assert_eq!(released.replicas, 6);
}

#[test]
fn behavior_defaults_fill_missing_rules() {
    let spec = HorizontalPodAutoscalerBehavior {
        scale_down: Some(HPAScalingRules {
            policies: Some(vec![HPAScalingPolicy {
                type_: "Pods".into(),
                value: 2,
                period_seconds: 30,
            }]),
            select_policy: Some("Min".into()),
            ..HPAScalingRules::default()
        }),
        ..HorizontalPodAutoscalerBehavior::default()
    };
    let behavior = Behavior::from_spec(&spec, Duration::from_secs(120));
    assert_eq!(behavior.scale_up, default_behavior().scale_up);
    assert_eq!(behavior.scale_up.stabilization_window_seconds, 0);
    assert_eq!(
        behavior.scale_down,
        rules(120, SelectPolicy::Min, &[(PolicyType::Pods, 2, 30)])
    );
}

#[test]
fn scale_events_reuse_outdated_slots() {
    let behavior = default_behavior();
    let mut history = ScalingHistory::default();
    history.store_scale_event(Some(&behavior), 1, 2, at(0));
    history.store_scale_event(Some(&behavior), 2, 3, at(5));
    assert_eq!(history.scale_up_events.len(), 2);

    // Both are older than the 15 s period now; the second slot is reused.
    history.store_scale_event(Some(&behavior), 3, 5, at(30));
    assert_eq!(history.scale_up_events.len(), 2);
    assert_eq!(history.scale_up_events[1].replica_change, 2);

    // Without behavior nothing is stored.
    history.store_scale_event(None, 5, 1, at(31));
    assert!(history.scale_down_events.is_empty());
}
