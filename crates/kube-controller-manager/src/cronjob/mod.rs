//! The CronJob controller: creates a Job from each CronJob's template at its
//! schedule times, honouring timeZone, concurrencyPolicy, startingDeadlineSeconds,
//! suspend and the successful/failed history limits (upstream `cronjob_controllerv2`).
//!
//! Entry point: [`CronJobController::new`] then [`CronJobController::run`].
//!
//! Each sync handles the most recent missed schedule time only, and requeues the
//! CronJob for its next schedule time.

pub mod schedule;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use client::api::{Api, DeleteParams, PostParams};
use client::informer::{DeletedObject, EventHandlerFuncs, SharedIndexInformer};
use client::rest::RestClient;
use client::workqueue::RateLimitingQueue;
use jiff::tz::TimeZone;
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use tokio::sync::watch;

use crate::client_ext::InformerExt;
use crate::context::ControllerContext;
use crate::controller_utils::{controller_ref, format_time, key_of, new_controller_ref, now};
use crate::events::{EventRecorder, EventType};
use crate::replicaset::wait_for_synced;
use crate::worker::{new_queue, run_workers};
use schedule::Schedule;

const CONTROLLER_NAME: &str = "cronjob-controller";

/// The annotation with the schedule time a Job was created for.
pub const SCHEDULED_TIMESTAMP_ANNOTATION: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// Missed schedule times beyond which a warning event is recorded.
const TOO_MANY_MISSED: usize = 100;

struct Inner {
    cron_jobs: SharedIndexInformer<CronJob>,
    jobs: SharedIndexInformer<Job>,
    queue: RateLimitingQueue<String>,
    client: RestClient,
    recorder: EventRecorder,
}

/// The CronJob controller.
pub struct CronJobController {
    inner: Arc<Inner>,
}

impl CronJobController {
    /// Builds the controller and registers its handlers on the CronJob and Job
    /// informers of `ctx`.
    pub fn new(ctx: &ControllerContext) -> Self {
        let inner = Arc::new(Inner {
            cron_jobs: ctx.informers.informer::<CronJob>(),
            jobs: ctx.informers.informer::<Job>(),
            queue: new_queue(CONTROLLER_NAME),
            client: ctx.client.clone(),
            recorder: ctx.recorder(CONTROLLER_NAME),
        });
        register_handlers(&inner);
        Self { inner }
    }

    /// Waits for the caches, then syncs with `workers` concurrent workers until
    /// `cancel` fires.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        let inner = self.inner;
        let synced = wait_for_synced(
            &[&|| inner.cron_jobs.has_synced(), &|| {
                inner.jobs.has_synced()
            }],
            cancel.clone(),
        )
        .await;
        if !synced {
            return;
        }
        let sync_inner = Arc::clone(&inner);
        run_workers(
            CONTROLLER_NAME,
            inner.queue.clone(),
            workers,
            None,
            cancel,
            move |key| {
                let inner = Arc::clone(&sync_inner);
                async move { sync(&inner, &key).await }
            },
        )
        .await;
    }
}

fn owner_key(inner: &Inner, job: &Job) -> Option<String> {
    let reference = controller_ref(&job.metadata)?;
    if reference.kind != "CronJob" {
        return None;
    }
    let namespace = job.metadata.namespace.as_deref().unwrap_or_default();
    let cron_job = inner.cron_jobs.get(namespace, &reference.name)?;
    (cron_job.metadata.uid.as_deref() == Some(reference.uid.as_str()))
        .then(|| key_of(&cron_job.metadata))
}

fn register_handlers(inner: &Arc<Inner>) {
    let (on_add, on_update) = (Arc::clone(inner), Arc::clone(inner));
    inner.cron_jobs.register(
        EventHandlerFuncs::new()
            .on_add(move |cron_job: &Arc<CronJob>, _initial| {
                on_add.queue.add(key_of(&cron_job.metadata))
            })
            .on_update(move |_old, cron_job: &Arc<CronJob>| {
                on_update.queue.add(key_of(&cron_job.metadata))
            }),
    );
    let (on_add, on_update, on_delete) = (Arc::clone(inner), Arc::clone(inner), Arc::clone(inner));
    inner.jobs.register(
        EventHandlerFuncs::new()
            .on_add(move |job: &Arc<Job>, _initial| {
                if let Some(key) = owner_key(&on_add, job) {
                    on_add.queue.add(key);
                }
            })
            .on_update(move |_old, job: &Arc<Job>| {
                if let Some(key) = owner_key(&on_update, job) {
                    on_update.queue.add(key);
                }
            })
            .on_delete(move |deleted: DeletedObject<Job>| {
                if let Some(job) = deleted.object()
                    && let Some(key) = owner_key(&on_delete, job)
                {
                    on_delete.queue.add(key);
                }
            }),
    );
}

/// Returns `Complete` or `Failed` when the Job has finished.
fn finished_type(job: &Job) -> Option<&str> {
    job.status
        .as_ref()?
        .conditions
        .as_deref()?
        .iter()
        .find(|condition| {
            (condition.type_ == "Complete" || condition.type_ == "Failed")
                && condition.status == "True"
        })
        .map(|condition| condition.type_.as_str())
}

fn job_reference(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".to_string()),
        kind: Some("Job".to_string()),
        name: job.metadata.name.clone(),
        namespace: job.metadata.namespace.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        field_path: None,
    }
}

/// Syncs the CronJob stored under `key`.
async fn sync(inner: &Inner, key: &str) -> Result<(), String> {
    let Some((namespace, name)) = key.split_once('/') else {
        return Ok(());
    };
    let Some(cached) = inner.cron_jobs.get(namespace, name) else {
        return Ok(());
    };
    let cron_job = cached.as_ref().clone();
    if cron_job.metadata.deletion_timestamp.is_some() {
        return Ok(());
    }
    let spec = cron_job.spec.clone().unwrap_or_default();
    let mut status = cron_job.status.clone().unwrap_or_default();
    let uid = cron_job.metadata.uid.clone().unwrap_or_default();

    let jobs: Vec<Arc<Job>> = inner
        .jobs
        .list_namespace(namespace)
        .into_iter()
        .filter(|job| controller_ref(&job.metadata).is_some_and(|r| r.uid == uid))
        .collect();
    update_active(inner, &cron_job, &mut status, &jobs);

    let at = now();
    let result = schedule_next(inner, key, &cron_job, &mut status, &jobs, at).await;

    cleanup_finished_jobs(inner, &spec, &jobs).await?;
    if status != cron_job.status.clone().unwrap_or_default() {
        let mut copy = cron_job.clone();
        copy.status = Some(status);
        Api::<CronJob>::namespaced(inner.client.clone(), namespace)
            .replace_status(name, &copy)
            .await
            .map_err(|err| format!("failed to update cron job status: {err}"))?;
    }
    result
}

/// Drops finished or vanished Jobs from `status.active` and records the last
/// successful time; adopts running Jobs missing from it.
fn update_active(inner: &Inner, cron_job: &CronJob, status: &mut CronJobStatus, jobs: &[Arc<Job>]) {
    let mut active: Vec<ObjectReference> = Vec::new();
    for job in jobs {
        match finished_type(job) {
            Some(kind) => {
                let was_active = status
                    .active
                    .iter()
                    .flatten()
                    .any(|reference| reference.uid == job.metadata.uid);
                if was_active {
                    inner.recorder.event(
                        cron_job,
                        EventType::Normal,
                        "SawCompletedJob",
                        &format!(
                            "Saw completed job: {}, condition: {kind}",
                            job.metadata.name.as_deref().unwrap_or_default()
                        ),
                    );
                }
                if kind == "Complete" {
                    let completed = job
                        .status
                        .as_ref()
                        .and_then(|status| status.completion_time.clone());
                    if completed.is_some()
                        && status.last_successful_time.as_ref().map(|time| time.0)
                            < completed.as_ref().map(|time| time.0)
                    {
                        status.last_successful_time = completed;
                    }
                }
            }
            None => active.push(job_reference(job)),
        }
    }
    active.sort_by(|a, b| a.name.cmp(&b.name));
    status.active = (!active.is_empty()).then_some(active);
}

async fn schedule_next(
    inner: &Inner,
    key: &str,
    cron_job: &CronJob,
    status: &mut CronJobStatus,
    jobs: &[Arc<Job>],
    at: Timestamp,
) -> Result<(), String> {
    let spec = cron_job.spec.clone().unwrap_or_default();
    if spec.suspend.unwrap_or(false) {
        return Ok(());
    }
    let tz = match spec.time_zone.as_deref() {
        None => TimeZone::system(),
        Some(name) => match TimeZone::get(name) {
            Ok(tz) => tz,
            Err(err) => {
                inner.recorder.event(
                    cron_job,
                    EventType::Warning,
                    "UnknownTimeZone",
                    &format!("invalid timeZone: {name:?}: {err}"),
                );
                return Ok(());
            }
        },
    };
    let schedule = match Schedule::parse(&spec.schedule) {
        Ok(schedule) => schedule,
        Err(err) => {
            inner.recorder.event(
                cron_job,
                EventType::Warning,
                "UnparseableSchedule",
                &format!("unparseable schedule: {:?} : {err}", spec.schedule),
            );
            return Ok(());
        }
    };

    let mut earliest = status
        .last_schedule_time
        .as_ref()
        .or(cron_job.metadata.creation_timestamp.as_ref())
        .map_or(at, |time| time.0);
    if let Some(deadline) = spec.starting_deadline_seconds {
        let window_start = Timestamp::from_second(at.as_second() - deadline).unwrap_or(earliest);
        earliest = earliest.max(window_start);
    }
    let (scheduled, missed) = schedule.most_recent(earliest, at, &tz, TOO_MANY_MISSED);
    if missed >= TOO_MANY_MISSED {
        inner.recorder.event(cron_job, EventType::Warning, "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
    }
    requeue_at_next(inner, key, &schedule, &tz, at);
    let Some(scheduled) = scheduled else {
        return Ok(());
    };

    if let Some(deadline) = spec.starting_deadline_seconds
        && scheduled.as_second() + deadline < at.as_second()
    {
        inner.recorder.event(
            cron_job,
            EventType::Warning,
            "MissSchedule",
            &format!(
                "Missed scheduled time to start a job: {}",
                format_time(scheduled)
            ),
        );
        return Ok(());
    }

    let job_name = format!(
        "{}-{}",
        cron_job.metadata.name.as_deref().unwrap_or_default(),
        scheduled.as_second().div_euclid(60)
    );
    if jobs
        .iter()
        .any(|job| job.metadata.name.as_deref() == Some(job_name.as_str()))
    {
        return Ok(());
    }

    let active = status.active.clone().unwrap_or_default();
    match spec.concurrency_policy.as_deref() {
        Some("Forbid") if !active.is_empty() => {
            tracing::debug!(
                cronjob = key,
                "not starting a job because the previous one is still running"
            );
            return Ok(());
        }
        Some("Replace") => {
            for reference in &active {
                let name = reference.name.as_deref().unwrap_or_default();
                let api: Api<Job> = Api::namespaced(
                    inner.client.clone(),
                    reference.namespace.as_deref().unwrap_or_default(),
                );
                match api.delete(name, &DeleteParams::background()).await {
                    Ok(_) => inner.recorder.event(
                        cron_job,
                        EventType::Normal,
                        "SuccessfulDelete",
                        &format!("Deleted job {name}"),
                    ),
                    Err(err) if err.is_not_found() => {}
                    Err(err) => return Err(format!("failed to delete job {name}: {err}")),
                }
            }
            status.active = None;
        }
        _ => {}
    }

    let job = job_from_template(cron_job, &job_name, scheduled, &tz);
    let api: Api<Job> = Api::namespaced(
        inner.client.clone(),
        cron_job.metadata.namespace.as_deref().unwrap_or_default(),
    );
    let created = match api.create(&job, &PostParams::default()).await {
        Ok(created) => created,
        Err(err) if err.is_already_exists() => return Ok(()),
        Err(err) => {
            inner.recorder.event(
                cron_job,
                EventType::Warning,
                "FailedCreate",
                &format!("Error creating job: {err}"),
            );
            return Err(format!("failed to create job {job_name}: {err}"));
        }
    };
    inner.recorder.event(
        cron_job,
        EventType::Normal,
        "SuccessfulCreate",
        &format!("Created job {job_name}"),
    );
    status
        .active
        .get_or_insert_with(Vec::new)
        .push(job_reference(&created));
    status.last_schedule_time = Some(Time(scheduled));
    Ok(())
}

fn requeue_at_next(inner: &Inner, key: &str, schedule: &Schedule, tz: &TimeZone, at: Timestamp) {
    if let Some(next) = schedule.next(at, tz) {
        let wait = (next.as_second() - at.as_second()).max(0) as u64;
        // A little past the schedule time so that `now` has reached it.
        inner.queue.add_after(
            key.to_string(),
            Duration::from_secs(wait) + Duration::from_millis(100),
        );
    }
}

fn job_from_template(cron_job: &CronJob, name: &str, scheduled: Timestamp, tz: &TimeZone) -> Job {
    let template = cron_job
        .spec
        .as_ref()
        .map(|spec| spec.job_template.clone())
        .unwrap_or_default();
    let template_meta = template.metadata.unwrap_or_default();
    let mut annotations = template_meta.annotations.unwrap_or_default();
    annotations.insert(
        SCHEDULED_TIMESTAMP_ANNOTATION.to_string(),
        scheduled
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
    );
    Job {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: cron_job.metadata.namespace.clone(),
            labels: Some(template_meta.labels.unwrap_or_default()),
            annotations: Some(annotations),
            owner_references: Some(vec![new_controller_ref(cron_job)]),
            ..ObjectMeta::default()
        },
        spec: template.spec,
        status: None,
    }
}

/// Deletes the oldest finished Jobs beyond the successful and failed history
/// limits (3 and 1 by default).
async fn cleanup_finished_jobs(
    inner: &Inner,
    spec: &k8s_openapi::api::batch::v1::CronJobSpec,
    jobs: &[Arc<Job>],
) -> Result<(), String> {
    let mut finished: BTreeMap<&str, Vec<&Arc<Job>>> = BTreeMap::new();
    for job in jobs {
        if let Some(kind) = finished_type(job) {
            finished.entry(kind).or_default().push(job);
        }
    }
    for (kind, limit) in [
        ("Complete", spec.successful_jobs_history_limit.unwrap_or(3)),
        ("Failed", spec.failed_jobs_history_limit.unwrap_or(1)),
    ] {
        let mut list = finished.remove(kind).unwrap_or_default();
        let excess = list.len() as i64 - i64::from(limit.max(0));
        if excess <= 0 {
            continue;
        }
        list.sort_by_key(|job| {
            job.status
                .as_ref()
                .and_then(|status| status.start_time.as_ref().map(|time| time.0))
                .or(job.metadata.creation_timestamp.as_ref().map(|time| time.0))
        });
        for job in list.into_iter().take(excess as usize) {
            let name = job.metadata.name.as_deref().unwrap_or_default();
            let api: Api<Job> = Api::namespaced(
                inner.client.clone(),
                job.metadata.namespace.as_deref().unwrap_or_default(),
            );
            match api.delete(name, &DeleteParams::background()).await {
                Ok(_) => {
                    tracing::info!(job = name, "deleted finished job beyond the history limit")
                }
                Err(err) if err.is_not_found() => {}
                Err(err) => return Err(format!("failed to delete job {name}: {err}")),
            }
        }
    }
    Ok(())
}
