//! One Job sync (upstream `syncJob`): count finished pods through the tracking
//! finalizer, decide whether the Job succeeded, failed or is suspended, create or
//! delete pods to match parallelism, and write the status.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use client::rest::PatchType;
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use super::indexes::{COMPLETION_INDEX_ANNOTATION, format_indexes, parse_indexes, pod_index};
use super::policy::{PolicyAction, backoff_delay, match_pod_failure_policy};
use super::{BackoffRecord, Inner, TRACKING_FINALIZER};
use crate::controller_utils::{
    SLOW_START_INITIAL_BATCH_SIZE, claim, claim_candidates, futures_join_all, is_pod_active,
    is_pod_ready, key_of, new_controller_ref, now, pod_from_template, pods_to_delete,
    slow_start_batch,
};
use crate::events::EventType;
use client::api::Api;

use crate::client_ext::InformerExt;

/// The maximum number of pods one sync creates or deletes.
const MAX_POD_CHANGES: usize = 500;

/// Default spec.backoffLimit.
const DEFAULT_BACKOFF_LIMIT: i32 = 6;

pub(super) fn has_tracking_finalizer(pod: &Pod) -> bool {
    pod.metadata
        .finalizers
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|finalizer| finalizer == TRACKING_FINALIZER)
}

/// Removes the tracking finalizer from `pod`; a pod already gone counts as done.
pub(super) async fn remove_tracking_finalizer(inner: &Inner, pod: &Pod) -> Result<(), String> {
    let remaining: Vec<String> = pod
        .metadata
        .finalizers
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|finalizer| finalizer != TRACKING_FINALIZER)
        .collect();
    let patch = json!({
        "metadata": {
            "finalizers": remaining,
            "resourceVersion": pod.metadata.resource_version,
        }
    });
    let api = Api::<Pod>::namespaced(
        inner.client.clone(),
        pod.metadata.namespace.as_deref().unwrap_or("default"),
    );
    match api
        .patch(
            pod.metadata.name.as_deref().unwrap_or_default(),
            PatchType::Merge,
            &patch,
        )
        .await
    {
        Ok(_) => {
            inner.finalizer_removed(pod);
            Ok(())
        }
        Err(err) if err.is_not_found() => Ok(()),
        Err(err) => Err(format!(
            "failed to remove the tracking finalizer of pod {}: {err}",
            key_of(&pod.metadata)
        )),
    }
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .unwrap_or("Pending")
}

/// Returns whether a pod has finished for the Job's accounting: Succeeded, Failed, or
/// deleted before it succeeded.
fn is_finished(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed") || pod.metadata.deletion_timestamp.is_some()
}

fn has_condition(status: &JobStatus, type_: &str) -> bool {
    status
        .conditions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|condition| condition.type_ == type_ && condition.status == "True")
}

fn condition_of<'a>(status: &'a JobStatus, type_: &str) -> Option<&'a JobCondition> {
    status
        .conditions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|condition| condition.type_ == type_)
}

/// Sets a condition; an existing one of the same type and status keeps its
/// transition time.
fn set_condition(
    status: &mut JobStatus,
    type_: &str,
    value: &str,
    reason: &str,
    message: &str,
    at: Timestamp,
) {
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    if let Some(existing) = conditions
        .iter_mut()
        .find(|condition| condition.type_ == type_)
    {
        if existing.status == value && existing.reason.as_deref() == Some(reason) {
            return;
        }
        if existing.status != value {
            existing.last_transition_time = Some(Time(at));
        }
        existing.status = value.to_string();
        existing.reason = Some(reason.to_string());
        existing.message = Some(message.to_string());
        existing.last_probe_time = Some(Time(at));
        return;
    }
    conditions.push(JobCondition {
        type_: type_.to_string(),
        status: value.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        last_probe_time: Some(Time(at)),
        last_transition_time: Some(Time(at)),
    });
}

fn now_seconds() -> Timestamp {
    Timestamp::from_second(now().as_second()).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn is_indexed(job: &Job) -> bool {
    job.spec
        .as_ref()
        .and_then(|spec| spec.completion_mode.as_deref())
        == Some("Indexed")
}

fn completions(job: &Job) -> Option<i32> {
    job.spec.as_ref().and_then(|spec| spec.completions)
}

fn parallelism(job: &Job) -> i32 {
    job.spec
        .as_ref()
        .and_then(|spec| spec.parallelism)
        .unwrap_or(1)
        .max(0)
}

fn is_suspended(job: &Job) -> bool {
    job.spec
        .as_ref()
        .and_then(|spec| spec.suspend)
        .unwrap_or(false)
}

async fn update_status(inner: &Inner, job: &Job, status: JobStatus) -> Result<Job, String> {
    let mut copy = job.clone();
    copy.status = Some(status);
    Api::<Job>::namespaced(
        inner.client.clone(),
        job.metadata.namespace.as_deref().unwrap_or("default"),
    )
    .replace_status(job.metadata.name.as_deref().unwrap_or_default(), &copy)
    .await
    .map_err(|err| format!("failed to update job status: {err}"))
}

/// Syncs the Job stored under `key`.
pub(super) async fn sync_job(inner: &Inner, key: &str) -> Result<(), String> {
    let Some((namespace, name)) = key.split_once('/') else {
        return Ok(());
    };
    let Some(cached) = inner.jobs.get(namespace, name) else {
        inner.expectations.delete(key);
        return Ok(());
    };
    let mut job = cached.as_ref().clone();
    let selector = apimachinery::labels::label_selector_as_selector(
        job.spec.as_ref().and_then(|spec| spec.selector.as_ref()),
    )
    .map_err(|err| format!("invalid selector: {err}"))?;

    let candidates: Vec<Pod> = claim_candidates(
        &inner.pods,
        namespace,
        job.metadata.uid.as_deref(),
        &selector,
    )
    .into_iter()
    .map(|pod| pod.as_ref().clone())
    .collect();
    let (pods, claim_error) = claim(
        &inner.client,
        &job.metadata,
        &new_controller_ref(&job),
        &selector,
        candidates,
    )
    .await;
    if let Some(err) = claim_error {
        return Err(format!("failed to claim pods: {err}"));
    }

    let status = job.status.clone().unwrap_or_default();
    let finished = has_condition(&status, "Complete") || has_condition(&status, "Failed");

    let (updated, fail_job) = track_finished_pods(inner, key, &job, &pods).await?;
    job = updated;
    if finished {
        return Ok(());
    }
    let satisfied = inner.expectations.satisfied(key);
    reconcile(inner, key, job, &pods, fail_job, satisfied).await
}

/// Counts finished pods exactly once: records them as uncounted, removes their
/// finalizers, then moves them into the counters. Returns the Job as stored
/// and the message of a podFailurePolicy FailJob rule that matched, if any.
async fn track_finished_pods(
    inner: &Inner,
    key: &str,
    job: &Job,
    pods: &[Pod],
) -> Result<(Job, Option<String>), String> {
    let mut job = job.clone();
    let mut status = job.status.clone().unwrap_or_default();
    let uncounted = status.uncounted_terminated_pods.clone().unwrap_or_default();
    let mut uncounted_succeeded: BTreeSet<String> = uncounted
        .succeeded
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut uncounted_failed: BTreeSet<String> = uncounted
        .failed
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let completions_value = completions(&job).unwrap_or(0);
    let mut fail_job = None;
    let mut ignored: Vec<&Pod> = Vec::new();
    let mut newly_recorded = false;
    let mut succeeded_indexes: HashMap<String, i32> = HashMap::new();

    let finished_pods = pods.iter().filter(|pod| {
        has_tracking_finalizer(pod) && is_finished(pod) && !inner.finalizer_removal_pending(pod)
    });
    for pod in finished_pods {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if phase(pod) == "Succeeded"
            && let Some(index) = pod_index(pod, completions_value)
        {
            succeeded_indexes.insert(uid.clone(), index);
        }
        if uncounted_succeeded.contains(&uid) || uncounted_failed.contains(&uid) {
            continue;
        }
        if phase(pod) == "Succeeded" {
            uncounted_succeeded.insert(uid);
            newly_recorded = true;
            continue;
        }
        match match_pod_failure_policy(&job, pod) {
            Some(PolicyAction::Ignore) => ignored.push(pod),
            Some(PolicyAction::FailJob(message)) => {
                fail_job.get_or_insert(message);
                uncounted_failed.insert(uid);
                newly_recorded = true;
            }
            _ => {
                uncounted_failed.insert(uid);
                newly_recorded = true;
            }
        }
    }

    if newly_recorded {
        status.uncounted_terminated_pods = Some(UncountedTerminatedPods {
            succeeded: Some(uncounted_succeeded.iter().cloned().collect()),
            failed: Some(uncounted_failed.iter().cloned().collect()),
        });
        job = update_status(inner, &job, status.clone()).await?;
        status = job.status.clone().unwrap_or_default();
    }

    // Finalizers come off only after the status records the pods.
    let recorded: Vec<&Pod> = pods
        .iter()
        .filter(|pod| has_tracking_finalizer(pod) && !inner.finalizer_removal_pending(pod))
        .filter(|pod| {
            let uid = pod.metadata.uid.as_deref().unwrap_or_default();
            uncounted_succeeded.contains(uid) || uncounted_failed.contains(uid)
        })
        .chain(ignored)
        .collect();
    let results = futures_join_all(
        recorded
            .iter()
            .map(|pod| remove_tracking_finalizer(inner, pod)),
    )
    .await;
    if let Some(err) = results.into_iter().find_map(Result::err) {
        return Err(err);
    }

    if uncounted_succeeded.is_empty() && uncounted_failed.is_empty() {
        return Ok((job, fail_job));
    }
    let new_succeeded = uncounted_succeeded.len() as i32;
    let new_failed = uncounted_failed.len() as i32;
    status.succeeded = Some(status.succeeded.unwrap_or(0) + new_succeeded);
    status.failed = Some(status.failed.unwrap_or(0) + new_failed);
    if is_indexed(&job) {
        let mut completed = parse_indexes(
            status.completed_indexes.as_deref().unwrap_or_default(),
            completions_value,
        );
        completed.extend(
            uncounted_succeeded
                .iter()
                .filter_map(|uid| succeeded_indexes.get(uid)),
        );
        status.completed_indexes = Some(format_indexes(&completed));
        status.succeeded = Some(completed.len() as i32);
    }
    status.uncounted_terminated_pods = Some(UncountedTerminatedPods::default());
    record_backoff(inner, key, new_succeeded, new_failed);
    job = update_status(inner, &job, status).await?;
    Ok((job, fail_job))
}

fn record_backoff(inner: &Inner, key: &str, succeeded: i32, failed: i32) {
    let mut records = inner
        .backoff
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    if succeeded > 0 {
        records.remove(key);
    }
    if failed > 0 {
        let record = records.entry(key.to_string()).or_insert(BackoffRecord {
            failures: 0,
            last_failure: Instant::now(),
        });
        record.failures += failed as u32;
        record.last_failure = Instant::now();
    }
}

/// Decides the Job's fate and brings its pods and status in line.
async fn reconcile(
    inner: &Inner,
    key: &str,
    job: Job,
    pods: &[Pod],
    fail_job: Option<String>,
    satisfied: bool,
) -> Result<(), String> {
    let mut status = job.status.clone().unwrap_or_default();
    let at = now_seconds();
    let active: Vec<&Pod> = pods.iter().filter(|pod| is_pod_active(pod)).collect();
    let succeeded = status.succeeded.unwrap_or(0);
    let failed = status.failed.unwrap_or(0);
    let backoff_limit = job
        .spec
        .as_ref()
        .and_then(|spec| spec.backoff_limit)
        .unwrap_or(DEFAULT_BACKOFF_LIMIT);

    let deadline_exceeded = job
        .spec
        .as_ref()
        .and_then(|spec| spec.active_deadline_seconds)
        .zip(status.start_time.as_ref())
        .is_some_and(|(deadline, start)| start.0.as_second() + deadline <= at.as_second());

    let failure = if let Some(message) = fail_job {
        Some(("PodFailurePolicy", message))
    } else if failed > backoff_limit {
        Some((
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit".to_string(),
        ))
    } else if deadline_exceeded && !is_suspended(&job) {
        Some((
            "DeadlineExceeded",
            "Job was active longer than specified deadline".to_string(),
        ))
    } else {
        has_condition(&status, "FailureTarget").then(|| {
            let condition = condition_of(&status, "FailureTarget");
            (
                "FailureTarget",
                condition
                    .and_then(|c| c.message.clone())
                    .unwrap_or_default(),
            )
        })
    };
    let success = match (is_indexed(&job), completions(&job)) {
        (true, Some(count)) => succeeded >= count,
        (false, Some(count)) => succeeded >= count,
        (_, None) => succeeded > 0 && active.is_empty(),
    } || has_condition(&status, "SuccessCriteriaMet");

    if let Some((reason, message)) = failure {
        let reason = if reason == "FailureTarget" {
            condition_of(&status, "FailureTarget")
                .and_then(|c| c.reason.clone())
                .unwrap_or_else(|| "BackoffLimitExceeded".to_string())
        } else {
            reason.to_string()
        };
        set_condition(&mut status, "FailureTarget", "True", &reason, &message, at);
        delete_pods(inner, key, &job, &active).await?;
        if active.is_empty() {
            set_condition(&mut status, "Failed", "True", &reason, &message, at);
            inner
                .recorder
                .event(&job, EventType::Warning, &reason, &message);
        }
        status.active = Some(0);
        status.ready = Some(0);
        return write_if_changed(inner, &job, status).await;
    }

    if success {
        let message = "Reached expected number of succeeded pods";
        set_condition(
            &mut status,
            "SuccessCriteriaMet",
            "True",
            "CompletionsReached",
            message,
            at,
        );
        delete_pods(inner, key, &job, &active).await?;
        if active.is_empty() {
            set_condition(
                &mut status,
                "Complete",
                "True",
                "CompletionsReached",
                message,
                at,
            );
            status.completion_time = Some(Time(at));
            inner
                .recorder
                .event(&job, EventType::Normal, "Completed", "Job completed");
        }
        status.active = Some(0);
        status.ready = Some(0);
        return write_if_changed(inner, &job, status).await;
    }

    if is_suspended(&job) {
        delete_pods(inner, key, &job, &active).await?;
        if !has_condition(&status, "Suspended") {
            set_condition(
                &mut status,
                "Suspended",
                "True",
                "JobSuspended",
                "Job suspended",
                at,
            );
            inner
                .recorder
                .event(&job, EventType::Normal, "Suspended", "Job suspended");
        }
        status.start_time = None;
        status.active = Some(0);
        status.ready = Some(0);
        return write_if_changed(inner, &job, status).await;
    }

    if has_condition(&status, "Suspended") {
        set_condition(
            &mut status,
            "Suspended",
            "False",
            "JobResumed",
            "Job resumed",
            at,
        );
        inner
            .recorder
            .event(&job, EventType::Normal, "Resumed", "Job resumed");
        status.start_time = None;
    }
    if status.start_time.is_none() {
        status.start_time = Some(Time(at));
        if let Some(deadline) = job
            .spec
            .as_ref()
            .and_then(|spec| spec.active_deadline_seconds)
        {
            inner.queue.add_after(
                key.to_string(),
                Duration::from_secs(deadline.max(0) as u64 + 1),
            );
        }
    }

    if satisfied {
        manage_pods(inner, key, &job, &status, &active).await?;
    }
    status.active = Some(active.len() as i32);
    status.ready = Some(active.iter().filter(|pod| is_pod_ready(pod)).count() as i32);
    write_if_changed(inner, &job, status).await
}

async fn write_if_changed(inner: &Inner, job: &Job, status: JobStatus) -> Result<(), String> {
    let zero = |value: Option<i32>| value.filter(|value| *value != 0);
    let current = job.status.clone().unwrap_or_default();
    let comparable = |status: &JobStatus| {
        let mut copy = status.clone();
        copy.active = zero(copy.active);
        copy.ready = zero(copy.ready);
        copy.succeeded = zero(copy.succeeded);
        copy.failed = zero(copy.failed);
        copy.terminating = zero(copy.terminating);
        if copy
            .uncounted_terminated_pods
            .as_ref()
            .is_some_and(|uncounted| {
                uncounted
                    .succeeded
                    .as_deref()
                    .unwrap_or_default()
                    .is_empty()
                    && uncounted.failed.as_deref().unwrap_or_default().is_empty()
            })
        {
            copy.uncounted_terminated_pods = None;
        }
        copy
    };
    if comparable(&status) == comparable(&current) {
        return Ok(());
    }
    update_status(inner, job, status).await.map(|_| ())
}

/// Deletes `pods` (active pods of a finished or suspended Job).
async fn delete_pods(inner: &Inner, key: &str, job: &Job, pods: &[&Pod]) -> Result<(), String> {
    if pods.is_empty() {
        return Ok(());
    }
    let pod_keys: HashSet<String> = pods.iter().map(|pod| key_of(&pod.metadata)).collect();
    inner.expectations.expect_deletions(key, pod_keys);
    let results = futures_join_all(pods.iter().map(|pod| async move {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let result = inner.pod_control.delete(namespace, name).await;
        match &result {
            Ok(()) => inner.recorder.event(
                job,
                EventType::Normal,
                "SuccessfulDelete",
                &format!("Deleted pod: {name}"),
            ),
            Err(_) => inner
                .expectations
                .deletion_observed(key, &key_of(&pod.metadata)),
        }
        result
    }))
    .await;
    match results.into_iter().find_map(Result::err) {
        Some(err) => Err(format!("failed to delete pods: {err}")),
        None => Ok(()),
    }
}

/// Creates pods up to the wanted parallelism (after the failure backoff) or
/// deletes the excess.
async fn manage_pods(
    inner: &Inner,
    key: &str,
    job: &Job,
    status: &JobStatus,
    active: &[&Pod],
) -> Result<(), String> {
    let succeeded = status.succeeded.unwrap_or(0);
    let parallelism = parallelism(job);

    let (want, indexes_to_create, extra): (i32, Vec<Option<i32>>, Vec<&Pod>) = if is_indexed(job) {
        let count = completions(job).unwrap_or(0);
        let completed = parse_indexes(
            status.completed_indexes.as_deref().unwrap_or_default(),
            count,
        );
        let mut running: BTreeMap<i32, usize> = BTreeMap::new();
        let mut extra = Vec::new();
        for pod in active {
            match pod_index(pod, count) {
                Some(index) if !completed.contains(&index) && !running.contains_key(&index) => {
                    running.insert(index, 1);
                }
                _ => extra.push(*pod),
            }
        }
        let free = (parallelism - running.len() as i32).max(0) as usize;
        let pending: Vec<Option<i32>> = (0..count)
            .filter(|index| !completed.contains(index) && !running.contains_key(index))
            .take(free)
            .map(Some)
            .collect();
        (running.len() as i32 + pending.len() as i32, pending, extra)
    } else {
        let want = match completions(job) {
            Some(count) => (count - succeeded).clamp(0, parallelism),
            None if succeeded > 0 => 0,
            None => parallelism,
        };
        let missing = (want - active.len() as i32).max(0) as usize;
        (want, vec![None; missing], Vec::new())
    };

    if !extra.is_empty() {
        return delete_pods(inner, key, job, &extra).await;
    }
    if active.len() as i32 > want {
        let count = (active.len() - want as usize).min(MAX_POD_CHANGES);
        let victims = pods_to_delete(active, active, count, now());
        return delete_pods(inner, key, job, &victims).await;
    }
    if indexes_to_create.is_empty() {
        return Ok(());
    }

    let record = inner
        .backoff
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .get(key)
        .copied();
    if let Some(record) = record {
        let delay = backoff_delay(record.failures);
        let elapsed = record.last_failure.elapsed();
        if elapsed < delay {
            inner.queue.add_after(key.to_string(), delay - elapsed);
            return Ok(());
        }
    }

    create_pods(inner, key, job, indexes_to_create).await
}

async fn create_pods(
    inner: &Inner,
    key: &str,
    job: &Job,
    indexes: Vec<Option<i32>>,
) -> Result<(), String> {
    let indexes: Vec<Option<i32>> = indexes.into_iter().take(MAX_POD_CHANGES).collect();
    let count = indexes.len();
    let template = job
        .spec
        .as_ref()
        .map(|spec| spec.template.clone())
        .unwrap_or_default();
    let namespace = job.metadata.namespace.clone().unwrap_or_default();
    let job_name = job.metadata.name.clone().unwrap_or_default();
    let next = std::sync::atomic::AtomicUsize::new(0);

    inner.expectations.expect_creations(key, count);
    let (successes, error) = slow_start_batch(count, SLOW_START_INITIAL_BATCH_SIZE, || {
        let slot = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let index = indexes.get(slot).copied().flatten();
        let mut pod = match index {
            Some(index) => pod_from_template(
                &template,
                &namespace,
                &format!("{job_name}-{index}"),
                new_controller_ref(job),
            ),
            None => pod_from_template(&template, &namespace, &job_name, new_controller_ref(job)),
        };
        pod.metadata
            .finalizers
            .get_or_insert_with(Vec::new)
            .push(TRACKING_FINALIZER.to_string());
        if let Some(index) = index {
            add_completion_index(&mut pod, &job_name, index);
        }
        async move {
            match inner.pod_control.create(&pod).await {
                Ok(created) => {
                    inner.recorder.event(
                        job,
                        EventType::Normal,
                        "SuccessfulCreate",
                        &format!(
                            "Created pod: {}",
                            created.metadata.name.as_deref().unwrap_or_default()
                        ),
                    );
                    Ok(())
                }
                Err(err) => {
                    inner.recorder.event(
                        job,
                        EventType::Warning,
                        "FailedCreate",
                        &format!("Error creating: {err}"),
                    );
                    Err(err)
                }
            }
        }
    })
    .await;
    for _ in successes..count {
        inner.expectations.creation_observed(key);
    }
    match error {
        Some(err) => Err(format!("failed to create pods: {err}")),
        None => Ok(()),
    }
}

/// Marks a pod of an Indexed Job with its index: annotation and label, hostname
/// `<job>-<index>`, and `JOB_COMPLETION_INDEX` in every container's environment.
fn add_completion_index(pod: &mut Pod, job_name: &str, index: i32) {
    pod.metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(COMPLETION_INDEX_ANNOTATION.to_string(), index.to_string());
    pod.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(COMPLETION_INDEX_ANNOTATION.to_string(), index.to_string());
    let Some(spec) = pod.spec.as_mut() else {
        return;
    };
    spec.hostname = Some(format!("{job_name}-{index}"));
    let env = EnvVar {
        name: "JOB_COMPLETION_INDEX".to_string(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                api_version: None,
                field_path: format!("metadata.annotations['{COMPLETION_INDEX_ANNOTATION}']"),
            }),
            ..EnvVarSource::default()
        }),
    };
    let containers = spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten());
    for container in containers {
        let vars = container.env.get_or_insert_with(Vec::new);
        if !vars.iter().any(|var| var.name == env.name) {
            vars.push(env.clone());
        }
    }
}
