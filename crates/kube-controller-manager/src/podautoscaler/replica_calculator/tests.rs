//! Cases after upstream's replica calculator tests: tolerance, missing samples,
//! unready and pending pods, the cpu initialization period, requests.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use super::{ReplicaCalculator, ResourceProposal, per_pod_replicas};
use crate::podautoscaler::metrics::{PodMetric, PodMetricsInfo};

/// The test clock: every time below is relative to it.
const NOW: i64 = 1_700_000_000;

fn at(seconds_from_now: i64) -> Timestamp {
    Timestamp::from_second(NOW + seconds_from_now).expect("valid time")
}

fn calculator() -> ReplicaCalculator {
    ReplicaCalculator {
        tolerance: 0.1,
        cpu_initialization_period: Duration::from_secs(300),
        delay_of_initial_readiness_status: Duration::from_secs(30),
    }
}

/// Builds a pod of phase `phase` requesting `cpu_milli` in one container `app`,
/// started `started` seconds from now, whose Ready condition is `ready` since
/// `transition`.
fn pod(
    name: &str,
    phase: &str,
    cpu_milli: i64,
    ready: bool,
    started: i64,
    transition: i64,
) -> Arc<Pod> {
    let format = |seconds| {
        serde_json::to_value(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(at(
            seconds,
        )))
        .expect("encode time")
    };
    Arc::new(
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
            "spec": {"containers": [{
                "name": "app",
                "image": "nginx",
                "resources": {"requests": {"cpu": format!("{cpu_milli}m"), "memory": "100Mi"}}
            }]},
            "status": {
                "phase": phase,
                "startTime": format(started),
                "conditions": [{
                    "type": "Ready",
                    "status": if ready { "True" } else { "False" },
                    "lastTransitionTime": format(transition)
                }]
            }
        }))
        .expect("valid pod"),
    )
}

/// Builds a running pod that has been ready for ten minutes.
fn ready_pod(name: &str, cpu_milli: i64) -> Arc<Pod> {
    pod(name, "Running", cpu_milli, true, -900, -600)
}

/// Samples taken now over a 30 s window.
fn samples(values: &[(&str, i64)]) -> PodMetricsInfo {
    values
        .iter()
        .map(|(name, value)| {
            (
                name.to_string(),
                PodMetric {
                    timestamp: at(0),
                    window: Duration::from_secs(30),
                    value: *value,
                },
            )
        })
        .collect()
}

fn cpu_replicas(
    current: i32,
    target: i32,
    pods: &[Arc<Pod>],
    metrics: PodMetricsInfo,
) -> Result<ResourceProposal, String> {
    calculator().resource_replicas(current, target, "cpu", "", pods, metrics, at(0))
}

#[test]
fn scale_up_by_utilization() {
    let pods = [
        ready_pod("a", 1000),
        ready_pod("b", 1000),
        ready_pod("c", 1000),
    ];
    let proposal = cpu_replicas(3, 30, &pods, samples(&[("a", 300), ("b", 500), ("c", 700)]))
        .expect("proposal");
    assert_eq!(proposal.replicas, 5);
    assert_eq!(proposal.utilization, 50);
    assert_eq!(proposal.raw_utilization, 500);
}

#[test]
fn scale_down_by_utilization() {
    let pods: Vec<_> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|name| ready_pod(name, 1000))
        .collect();
    let metrics = samples(&[("a", 100), ("b", 300), ("c", 500), ("d", 250), ("e", 250)]);
    let proposal = cpu_replicas(5, 50, &pods, metrics).expect("proposal");
    // 28% of the requests against 50%: ceil(0.56 * 5).
    assert_eq!(proposal.utilization, 28);
    assert_eq!(proposal.replicas, 3);
}

#[test]
fn within_tolerance_keeps_current() {
    let pods = [
        ready_pod("a", 900),
        ready_pod("b", 1000),
        ready_pod("c", 1100),
    ];
    let metrics = samples(&[("a", 1010), ("b", 1030), ("c", 1020)]);
    let proposal = cpu_replicas(3, 100, &pods, metrics).expect("proposal");
    assert_eq!(proposal.replicas, 3);
    assert_eq!(proposal.utilization, 102);
}

#[test]
fn unready_pods_count_as_zero_on_scale_up() {
    let pods = [
        pod("a", "Running", 1000, false, -10, -10),
        ready_pod("b", 1000),
        ready_pod("c", 1000),
    ];
    let proposal = cpu_replicas(3, 30, &pods, samples(&[("a", 300), ("b", 500), ("c", 700)]))
        .expect("proposal");
    // The ratio over ready pods (60%) is reported; the count uses 1200m over 3 pods.
    assert_eq!(proposal.utilization, 60);
    assert_eq!(proposal.raw_utilization, 600);
    assert_eq!(proposal.replicas, 4);
}

#[test]
fn unready_pods_are_ignored_on_scale_down() {
    let pods = [
        pod("a", "Running", 1000, false, -10, -10),
        ready_pod("b", 1000),
        ready_pod("c", 1000),
    ];
    let proposal = cpu_replicas(3, 50, &pods, samples(&[("a", 900), ("b", 100), ("c", 100)]))
        .expect("proposal");
    // Only b and c count: 10% against 50% gives ceil(0.2 * 2).
    assert_eq!(proposal.replicas, 1);
}

#[test]
fn pending_pods_count_as_unready() {
    let pods = [
        pod("a", "Pending", 1000, false, -10, -10),
        ready_pod("b", 1000),
    ];
    let proposal = cpu_replicas(2, 50, &pods, samples(&[("b", 1000)])).expect("proposal");
    // 200% over the ready pod, but with the pending pod at 0% the ratio is 1.0,
    // within the tolerance.
    assert_eq!(proposal.replicas, 2);
}

#[test]
fn deleted_and_failed_pods_are_ignored() {
    let mut deleting = (*ready_pod("a", 1000)).clone();
    deleting.metadata.deletion_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(at(-1)));
    let pods = [
        Arc::new(deleting),
        pod("b", "Failed", 1000, false, -900, -600),
        ready_pod("c", 1000),
    ];
    let metrics = samples(&[("a", 5000), ("b", 5000), ("c", 500)]);
    let proposal = cpu_replicas(1, 50, &pods, metrics).expect("proposal");
    assert_eq!(proposal.utilization, 50);
    assert_eq!(proposal.replicas, 1);
}

#[test]
fn missing_samples_count_as_zero_on_scale_up() {
    let pods: Vec<_> = ["a", "b", "c", "d"]
        .iter()
        .map(|n| ready_pod(n, 1000))
        .collect();
    let metrics = samples(&[("a", 1000), ("b", 1000), ("c", 1000)]);
    let proposal = cpu_replicas(4, 50, &pods, metrics).expect("proposal");
    // 3000m over 4000m is 75%, against 50%: ceil(1.5 * 4).
    assert_eq!(proposal.replicas, 6);
}

/// On a scale down, pods without a sample count as using their full request.
#[test]
fn missing_samples_on_scale_down() {
    let pods: Vec<_> = ["a", "b", "c", "d"]
        .iter()
        .map(|n| ready_pod(n, 1000))
        .collect();
    let metrics = samples(&[("a", 100), ("b", 100), ("c", 100)]);
    let proposal = cpu_replicas(4, 50, &pods, metrics).expect("proposal");
    // 1300m over 4000m is 32%, against 50%: ceil(0.64 * 4).
    assert_eq!(proposal.replicas, 3);
}

#[test]
fn missing_samples_that_flip_direction_keep_current() {
    let pods = [ready_pod("a", 1000), ready_pod("b", 1000)];
    let proposal = cpu_replicas(2, 50, &pods, samples(&[("a", 600)])).expect("proposal");
    // 120% proposes a scale up, but with b at 0% the ratio is 0.6.
    assert_eq!(proposal.replicas, 2);
}

#[test]
fn no_usable_samples_is_an_error() {
    let pods = [pod("a", "Running", 1000, false, -10, -10)];
    let error = cpu_replicas(1, 50, &pods, samples(&[("a", 100)])).expect_err("no samples");
    assert!(
        error.contains("did not receive metrics for targeted pods"),
        "{error}"
    );

    let error = cpu_replicas(1, 50, &[], samples(&[])).expect_err("no pods");
    assert!(error.contains("no pods returned by selector"), "{error}");
}

#[test]
fn missing_request_is_an_error() {
    let mut without = (*ready_pod("a", 1000)).clone();
    without.spec.as_mut().expect("spec").containers[0].resources = None;
    let error = cpu_replicas(1, 50, &[Arc::new(without)], samples(&[("a", 100)]))
        .expect_err("missing request");
    assert_eq!(error, "missing request for cpu in container app of Pod a");
}

#[test]
fn container_requests_only_count_the_named_container() {
    let mut two = (*ready_pod("a", 1000)).clone();
    let mut sidecar = two.spec.as_ref().expect("spec").containers[0].clone();
    sidecar.name = "sidecar".into();
    two.spec.as_mut().expect("spec").containers.push(sidecar);
    let pods = [Arc::new(two)];

    let whole = super::pod_requests(&pods, "", "cpu").expect("requests");
    assert_eq!(whole["a"], 2000);
    let one = super::pod_requests(&pods, "sidecar", "cpu").expect("requests");
    assert_eq!(one["a"], 1000);
    let error = super::pod_requests(&pods, "other", "cpu").expect_err("no such container");
    assert_eq!(error, "container other not found in Pod a");
}

#[test]
fn cpu_samples_inside_initialization_period() {
    // Started 60 s ago and ready since 20 s ago: a sample over a 30 s window taken
    // now still covers time before readiness.
    let young = pod("a", "Running", 1000, true, -60, -20);
    let calculator = calculator();
    let groups = calculator.group_pods(
        std::slice::from_ref(&young),
        &samples(&[("a", 100)]),
        "cpu",
        at(0),
    );
    assert!(groups.unready.contains("a"));

    // A sample taken 10 s later covers only ready time.
    let mut later = samples(&[("a", 100)]);
    later.get_mut("a").expect("sample").timestamp = at(10);
    let groups = calculator.group_pods(std::slice::from_ref(&young), &later, "cpu", at(10));
    assert_eq!(groups.ready, 1);

    // Memory samples are used whatever the readiness.
    let groups = calculator.group_pods(&[young], &samples(&[("a", 100)]), "memory", at(0));
    assert_eq!(groups.ready, 1);
}

#[test]
fn cpu_samples_after_initialization_period() {
    let calculator = calculator();
    // Not ready since 10 s after start: it never became ready.
    let never_ready = pod("a", "Running", 1000, false, -900, -890);
    let groups = calculator.group_pods(&[never_ready], &samples(&[("a", 100)]), "cpu", at(0));
    assert!(groups.unready.contains("a"));

    // Not ready since 5 minutes after start: it was ready before, so its sample is
    // used.
    let was_ready = pod("a", "Running", 1000, false, -900, -600);
    let groups = calculator.group_pods(&[was_ready], &samples(&[("a", 100)]), "cpu", at(0));
    assert_eq!(groups.ready, 1);
}

#[test]
fn pods_metric_average_value() {
    let pods = [
        ready_pod("a", 1000),
        ready_pod("b", 1000),
        ready_pod("c", 1000),
    ];
    let metrics = samples(&[("a", 10_000), ("b", 20_000), ("c", 30_000)]);
    let (replicas, usage) = calculator()
        .plain_metric_replicas(3, 10_000, "", &pods, metrics, at(0))
        .expect("proposal");
    assert_eq!(usage, 20_000);
    assert_eq!(replicas, 6);
}

/// On a scale down, a pod without a Pods metric sample counts as at the target.
#[test]
fn pods_metric_missing_sample_scale_down() {
    let pods = [ready_pod("a", 1000), ready_pod("b", 1000)];
    let (replicas, _) = calculator()
        .plain_metric_replicas(2, 10_000, "", &pods, samples(&[("a", 2_000)]), at(0))
        .expect("proposal");
    // b counts as 10000: (2000 + 10000) / 2 against 10000 is 0.6, ceil(1.2).
    assert_eq!(replicas, 2);
}

#[test]
fn usage_ratio_counts_ready_pods_only() {
    let pods = [
        ready_pod("a", 1000),
        ready_pod("b", 1000),
        pod("c", "Running", 1000, false, -900, -890),
    ];
    let calculator = calculator();
    assert_eq!(calculator.usage_ratio_replicas(3, 2.0, &pods), Ok(4));
    assert_eq!(calculator.usage_ratio_replicas(3, 1.05, &pods), Ok(3));
    assert_eq!(calculator.usage_ratio_replicas(0, 2.5, &pods), Ok(3));
    assert!(calculator.usage_ratio_replicas(3, 2.0, &[]).is_err());
}

#[test]
fn per_pod_average_over_total() {
    assert_eq!(per_pod_replicas(0.1, 3, 1000, 9000), (9, 3000));
    assert_eq!(per_pod_replicas(0.1, 3, 1000, 3100), (3, 1034));
    assert_eq!(per_pod_replicas(0.1, 0, 1000, 3000), (3, 0));
}
