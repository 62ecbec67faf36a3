//! Pod failure handling of Jobs: the podFailurePolicy rules and the exponential
//! delay before pods are recreated after failures.

use std::time::Duration;

use k8s_openapi::api::batch::v1::{Job, PodFailurePolicyRule};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

/// The first delay after a pod failure (upstream `DefaultJobPodFailureBackOff`).
pub const BACKOFF_BASE: Duration = Duration::from_secs(10);
/// The longest delay (upstream `MaxJobPodFailureBackOff`).
pub const BACKOFF_MAX: Duration = Duration::from_secs(360);

/// Returns the wait before creating pods after `failures` consecutive pod
/// failures: 10 s doubled per further failure, at most 6 min; zero without
/// failures.
pub fn backoff_delay(failures: u32) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    let factor = 1u64 << (failures - 1).min(16);
    (BACKOFF_BASE * factor as u32).min(BACKOFF_MAX)
}

/// What a podFailurePolicy rule decides for a failed pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyAction {
    /// Fail the whole Job with this message.
    FailJob(String),
    /// Fail the pod's index (Indexed Jobs with backoffLimitPerIndex).
    FailIndex,
    /// Do not count the failure towards backoffLimit.
    Ignore,
    /// Count the failure as usual.
    Count,
}

fn terminated_exit_codes(statuses: Option<&Vec<ContainerStatus>>) -> Vec<(String, i32)> {
    statuses
        .map(|statuses| statuses.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|status| {
            let terminated = status.state.as_ref()?.terminated.as_ref()?;
            Some((status.name.clone(), terminated.exit_code))
        })
        .collect()
}

fn rule_action(rule: &PodFailurePolicyRule, message: String) -> PolicyAction {
    match rule.action.as_str() {
        "FailJob" => PolicyAction::FailJob(message),
        "FailIndex" => PolicyAction::FailIndex,
        "Ignore" => PolicyAction::Ignore,
        _ => PolicyAction::Count,
    }
}

/// Returns the action of the first podFailurePolicy rule that matches the failed
/// `pod`, or `None` when the Job has no policy or no rule matches.
pub fn match_pod_failure_policy(job: &Job, pod: &Pod) -> Option<PolicyAction> {
    let rules = &job.spec.as_ref()?.pod_failure_policy.as_ref()?.rules;
    let status = pod.status.as_ref();
    let pod_name = format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref().unwrap_or_default()
    );
    let mut exit_codes =
        terminated_exit_codes(status.and_then(|status| status.init_container_statuses.as_ref()));
    exit_codes.extend(terminated_exit_codes(
        status.and_then(|status| status.container_statuses.as_ref()),
    ));

    for (index, rule) in rules.iter().enumerate() {
        if let Some(requirement) = &rule.on_exit_codes {
            let matched = exit_codes.iter().find(|(container, code)| {
                if requirement
                    .container_name
                    .as_deref()
                    .is_some_and(|name| name != container)
                {
                    return false;
                }
                match requirement.operator.as_str() {
                    "In" => requirement.values.contains(code),
                    "NotIn" => *code != 0 && !requirement.values.contains(code),
                    _ => false,
                }
            });
            if let Some((container, code)) = matched {
                let message = format!(
                    "Container {container} for pod {pod_name} failed with exit code {code} matching {} rule at index {index}",
                    rule.action
                );
                return Some(rule_action(rule, message));
            }
        }
        for pattern in rule.on_pod_conditions.as_deref().unwrap_or_default() {
            let wanted_status = pattern.status.as_str();
            let matched = status
                .and_then(|status| status.conditions.as_ref())
                .is_some_and(|conditions| {
                    conditions.iter().any(|condition| {
                        condition.type_ == pattern.type_ && condition.status == wanted_status
                    })
                });
            if matched {
                let message = format!(
                    "Pod {pod_name} has condition {} matching {} rule at index {index}",
                    pattern.type_, rule.action
                );
                return Some(rule_action(rule, message));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::{
        JobSpec, PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement,
    };
    use k8s_openapi::api::core::v1::{ContainerState, ContainerStateTerminated, PodStatus};

    #[test]
    fn backoff_doubles_up_to_six_minutes() {
        assert_eq!(backoff_delay(0), Duration::ZERO);
        assert_eq!(backoff_delay(1), Duration::from_secs(10));
        assert_eq!(backoff_delay(2), Duration::from_secs(20));
        assert_eq!(backoff_delay(4), Duration::from_secs(80));
        assert_eq!(backoff_delay(10), Duration::from_secs(360));
    }

    fn failed_pod(exit_code: i32) -> Pod {
        Pod {
            status: Some(PodStatus {
                phase: Some("Failed".into()),
                container_statuses: Some(vec![ContainerStatus {
                    name: "main".into(),
                    state: Some(ContainerState {
                        terminated: Some(ContainerStateTerminated {
                            exit_code,
                            ..ContainerStateTerminated::default()
                        }),
                        ..ContainerState::default()
                    }),
                    ..ContainerStatus::default()
                }]),
                ..PodStatus::default()
            }),
            ..Pod::default()
        }
    }

    fn job_with_rules(rules: Vec<PodFailurePolicyRule>) -> Job {
        Job {
            spec: Some(JobSpec {
                pod_failure_policy: Some(PodFailurePolicy { rules }),
                ..JobSpec::default()
            }),
            ..Job::default()
        }
    }

    #[test]
    fn exit_code_rules_match_in_order() {
        let job = job_with_rules(vec![
            PodFailurePolicyRule {
                action: "Ignore".into(),
                on_exit_codes: Some(PodFailurePolicyOnExitCodesRequirement {
                    container_name: None,
                    operator: "In".into(),
                    values: vec![42],
                }),
                on_pod_conditions: None,
            },
            PodFailurePolicyRule {
                action: "FailJob".into(),
                on_exit_codes: Some(PodFailurePolicyOnExitCodesRequirement {
                    container_name: Some("main".into()),
                    operator: "NotIn".into(),
                    values: vec![42],
                }),
                on_pod_conditions: None,
            },
        ]);
        assert_eq!(
            match_pod_failure_policy(&job, &failed_pod(42)),
            Some(PolicyAction::Ignore)
        );
        assert!(matches!(
            match_pod_failure_policy(&job, &failed_pod(1)),
            Some(PolicyAction::FailJob(message)) if message.contains("exit code 1")
        ));
        assert_eq!(match_pod_failure_policy(&job, &failed_pod(0)), None);
    }
}
