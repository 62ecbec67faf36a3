//! The status of a PodDisruptionBudget from the pods it selects: how many are
//! healthy, how many must stay healthy, and how many may be disrupted now.
//!
//! Entry point: [`compute_status`]; [`needs_expected_count`] tells whether the caller
//! must first look up the pods' controllers for the expected pod count.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::endpoint::subsets::pod_is_ready;

/// How long an eviction recorded in `disruptedPods` counts before the entry is
/// dropped if the pod was not deleted.
pub const DELETION_TIMEOUT_SECONDS: i64 = 2 * 60;

/// The type of the condition this controller writes.
pub const DISRUPTION_ALLOWED: &str = "DisruptionAllowed";

/// Returns whether the budget needs the pods' controllers' scale: for
/// `maxUnavailable`, or a percentage `minAvailable`.
pub fn needs_expected_count(pdb: &PodDisruptionBudget) -> bool {
    let spec = pdb.spec.as_ref();
    let max_unavailable = spec
        .and_then(|spec| spec.max_unavailable.as_ref())
        .is_some();
    let percent_min = matches!(
        spec.and_then(|spec| spec.min_available.as_ref()),
        Some(IntOrString::String(_))
    );
    max_unavailable || percent_min
}

/// Resolves an int-or-percent against `total`; percentages round up, as upstream's
/// `GetScaledValueFromIntOrPercent(..., roundUp=true)`.
///
/// # Errors
/// A message for a string that is not `N%`.
pub fn scaled_value(value: &IntOrString, total: i32) -> Result<i32, String> {
    match value {
        IntOrString::Int(number) => Ok(*number),
        IntOrString::String(text) => {
            let percent: i64 = text
                .strip_suffix('%')
                .and_then(|digits| digits.parse().ok())
                .ok_or_else(|| format!("invalid value for IntOrString: invalid value {text:?}"))?;
            let scaled = (percent * i64::from(total) + 99) / 100;
            Ok(i32::try_from(scaled).unwrap_or(i32::MAX))
        }
    }
}

/// Computes the budget's status. `expected_count` is the sum of the scale of the
/// pods' controllers, required when [`needs_expected_count`] holds; a `Err` there
/// is reported as a failed sync (no disruptions allowed). `now` is Unix seconds.
pub fn compute_status(
    pdb: &PodDisruptionBudget,
    pods: &[&Pod],
    expected_count: Result<Option<i32>, String>,
    now: &Time,
) -> PodDisruptionBudgetStatus {
    let spec = pdb.spec.clone().unwrap_or_default();
    let current_healthy = pods
        .iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none() && pod_is_ready(pod))
        .count() as i32;

    let computed: Result<(i32, i32), String> = (|| {
        if let Some(max_unavailable) = &spec.max_unavailable {
            let expected = expected_count.clone()?.unwrap_or(pods.len() as i32);
            let unavailable = scaled_value(max_unavailable, expected)?;
            return Ok((expected, (expected - unavailable).max(0)));
        }
        match &spec.min_available {
            Some(IntOrString::Int(minimum)) => Ok((pods.len() as i32, *minimum)),
            Some(percent @ IntOrString::String(_)) => {
                let expected = expected_count.clone()?.unwrap_or(pods.len() as i32);
                Ok((expected, scaled_value(percent, expected)?))
            }
            None => Ok((pods.len() as i32, 0)),
        }
    })();

    let previous = pdb.status.clone().unwrap_or_default();
    let disrupted_pods = prune_disrupted(previous.disrupted_pods.as_ref(), pods, now);
    let (expected_pods, desired_healthy, disruptions_allowed, condition) = match computed {
        Ok((expected, desired)) => {
            let allowed = if expected <= 0 {
                0
            } else {
                (current_healthy - desired - disrupted_pods.as_ref().map_or(0, |d| d.len() as i32))
                    .max(0)
            };
            let (status, reason, message) = if allowed > 0 {
                ("True", "SufficientPods", String::new())
            } else {
                ("False", "InsufficientPods", String::new())
            };
            (expected, desired, allowed, (status, reason, message))
        }
        Err(message) => (
            previous.expected_pods,
            previous.desired_healthy,
            0,
            ("False", "SyncFailed", message),
        ),
    };

    let mut conditions = previous.conditions.clone().unwrap_or_default();
    set_condition(&mut conditions, condition, pdb.metadata.generation, now);
    PodDisruptionBudgetStatus {
        current_healthy,
        desired_healthy,
        disruptions_allowed,
        expected_pods,
        disrupted_pods,
        observed_generation: pdb.metadata.generation,
        conditions: Some(conditions),
    }
}

fn prune_disrupted(
    disrupted: Option<&BTreeMap<String, Time>>,
    pods: &[&Pod],
    now: &Time,
) -> Option<BTreeMap<String, Time>> {
    let kept: BTreeMap<String, Time> = disrupted?
        .iter()
        .filter(|(name, since)| {
            let pod = pods
                .iter()
                .find(|pod| pod.metadata.name.as_deref() == Some(name.as_str()));
            let still_running = pod.is_some_and(|pod| pod.metadata.deletion_timestamp.is_none());
            let fresh = now.0.as_second() - since.0.as_second() < DELETION_TIMEOUT_SECONDS;
            still_running && fresh
        })
        .map(|(name, since)| (name.clone(), since.clone()))
        .collect();
    (!kept.is_empty()).then_some(kept)
}

fn set_condition(
    conditions: &mut Vec<Condition>,
    (status, reason, message): (&str, &str, String),
    generation: Option<i64>,
    now: &Time,
) {
    match conditions
        .iter_mut()
        .find(|c| c.type_ == DISRUPTION_ALLOWED)
    {
        Some(existing) => {
            if existing.status != status {
                existing.last_transition_time = now.clone();
            }
            existing.status = status.to_string();
            existing.reason = reason.to_string();
            existing.message = message;
            existing.observed_generation = generation;
        }
        None => conditions.push(Condition {
            type_: DISRUPTION_ALLOWED.to_string(),
            status: status.to_string(),
            reason: reason.to_string(),
            message,
            observed_generation: generation,
            last_transition_time: now.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pdb(spec: serde_json::Value) -> PodDisruptionBudget {
        serde_json::from_value(
            json!({"metadata": {"name": "b", "namespace": "default", "generation": 3},
            "spec": spec}),
        )
        .expect("valid pdb")
    }

    fn pod(name: &str, ready: bool) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": "default"},
            "status": {"conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}}))
        .expect("valid pod")
    }

    #[test]
    fn status_cases() {
        let pods = [pod("a", true), pod("b", true), pod("c", false)];
        let refs: Vec<&Pod> = pods.iter().collect();
        let now = crate::objectapi::now_time();
        let cases = [
            // (spec, expected from controllers, (expected, desired, healthy, allowed))
            (json!({"minAvailable": 1}), Ok(None), (3, 1, 2, 1)),
            (json!({"minAvailable": 2}), Ok(None), (3, 2, 2, 0)),
            (json!({"minAvailable": "50%"}), Ok(Some(4)), (4, 2, 2, 0)),
            (json!({"minAvailable": "25%"}), Ok(Some(4)), (4, 1, 2, 1)),
            (json!({"maxUnavailable": 1}), Ok(Some(3)), (3, 2, 2, 0)),
            (json!({"maxUnavailable": "50%"}), Ok(Some(3)), (3, 1, 2, 1)),
            (
                json!({"maxUnavailable": 1}),
                Err("no controller".to_string()),
                (0, 0, 2, 0),
            ),
        ];
        for (index, (spec, expected, want)) in cases.into_iter().enumerate() {
            let budget = pdb(spec);
            let status = compute_status(&budget, &refs, expected, &now);
            assert_eq!(
                (
                    status.expected_pods,
                    status.desired_healthy,
                    status.current_healthy,
                    status.disruptions_allowed
                ),
                want,
                "case {index}"
            );
            assert_eq!(status.observed_generation, Some(3));
            let condition = &status.conditions.as_ref().expect("conditions")[0];
            assert_eq!(condition.status == "True", want.3 > 0, "case {index}");
        }
    }

    #[test]
    fn scaled_values_round_up() {
        assert_eq!(scaled_value(&IntOrString::String("33%".into()), 10), Ok(4));
        assert_eq!(scaled_value(&IntOrString::Int(7), 10), Ok(7));
        assert!(scaled_value(&IntOrString::String("x".into()), 10).is_err());
    }
}
