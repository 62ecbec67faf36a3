//! The TTL-after-finished controller: deletes a Job `spec.ttlSecondsAfterFinished`
//! seconds after it completed or failed, with its pods (foreground deletion).
//!
//! Entry point: [`TtlAfterFinishedController::new`] and
//! [`TtlAfterFinishedController::run`]; the timing is [`expire_at`].

use std::sync::Arc;
use std::time::Duration;

use client::api::{Api, DeleteParams, Preconditions};
use client::informer::{EventHandlerFuncs, SharedIndexInformer};
use client::rest::RestClient;
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::batch::v1::Job;
use tokio::sync::watch;

use crate::context::ControllerContext;
use crate::objectapi::{is_conflict, is_not_found, now_time};
use crate::queueworker::{SyncError, SyncOutcome, new_queue, object_key, run_workers, split_key};

/// The TTL-after-finished controller.
pub struct TtlAfterFinishedController {
    client: RestClient,
    jobs: SharedIndexInformer<Job>,
    queue: RateLimitingQueue<String>,
}

/// Returns when a finished Job with a TTL expires, as Unix seconds: the finish time
/// (the Complete or Failed condition's transition, else `status.completionTime`)
/// plus the TTL. `None` for a Job without a TTL or not finished.
pub fn expire_at(job: &Job) -> Option<i64> {
    let ttl = job.spec.as_ref()?.ttl_seconds_after_finished?;
    let status = job.status.as_ref()?;
    let finished = status.conditions.iter().flatten().find(|condition| {
        (condition.type_ == "Complete" || condition.type_ == "Failed") && condition.status == "True"
    })?;
    let finish_time = finished
        .last_transition_time
        .as_ref()
        .or(status.completion_time.as_ref())?
        .0
        .as_second();
    Some(finish_time + i64::from(ttl))
}

impl TtlAfterFinishedController {
    pub fn new(ctx: &ControllerContext) -> Self {
        let jobs = ctx.informers.informer::<Job>();
        let queue = new_queue("ttl_jobs_to_delete");
        let (on_add, on_update) = (queue.clone(), queue.clone());
        let enqueue = |queue: &RateLimitingQueue<String>, job: &Job| {
            if job.metadata.deletion_timestamp.is_none() && expire_at(job).is_some() {
                queue.add(object_key(&job.metadata));
            }
        };
        let registered = jobs.add_event_handler(
            EventHandlerFuncs::new()
                .on_add(move |job: &Arc<Job>, _| enqueue(&on_add, job))
                .on_update(move |_, job: &Arc<Job>| enqueue(&on_update, job)),
        );
        if let Err(error) = registered {
            tracing::error!(%error, "ttl-after-finished controller: cannot watch jobs");
        }
        Self {
            client: ctx.client.clone(),
            jobs,
            queue,
        }
    }

    /// Runs `workers` workers until `cancel` turns true.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        tracing::info!("starting TTL after finished controller");
        if !client::informer::wait_for_cache_sync(cancel.clone(), &[&self.jobs]).await {
            return;
        }
        let (jobs, client) = (self.jobs.clone(), self.client.clone());
        run_workers(
            "ttlafterfinished",
            self.queue,
            workers,
            cancel,
            move |key| {
                let (jobs, client) = (jobs.clone(), client.clone());
                async move { sync_job(&client, &jobs, &key).await }
            },
        )
        .await;
    }
}

async fn sync_job(
    client: &RestClient,
    jobs: &SharedIndexInformer<Job>,
    key: &str,
) -> Result<SyncOutcome, SyncError> {
    let (namespace, name) = split_key(key);
    let Some(cached) = jobs.lister().namespaced(namespace).get(name) else {
        return Ok(SyncOutcome::Done);
    };
    let Some(expiry) = expire_at(&cached) else {
        return Ok(SyncOutcome::Done);
    };
    let now = now_time().0.as_second();
    if now < expiry {
        return Ok(SyncOutcome::RequeueAfter(Duration::from_secs(
            (expiry - now) as u64,
        )));
    }

    // The TTL may have changed since the cache saw the Job: check the live object.
    let api: Api<Job> = Api::namespaced(client.clone(), namespace);
    let Some(live) = api.get_opt(name).await? else {
        return Ok(SyncOutcome::Done);
    };
    match expire_at(&live) {
        None => return Ok(SyncOutcome::Done),
        Some(expiry) if now < expiry => {
            return Ok(SyncOutcome::RequeueAfter(Duration::from_secs(
                (expiry - now) as u64,
            )));
        }
        Some(_) => {}
    }
    let options = DeleteParams {
        propagation_policy: Some("Foreground".to_string()),
        preconditions: Some(Preconditions {
            uid: None,
            resource_version: live.metadata.resource_version.clone(),
        }),
        ..DeleteParams::default()
    };
    match api.delete(name, &options).await {
        Ok(_) => {
            tracing::info!(job = key, "deleting finished job after its TTL");
            Ok(SyncOutcome::Done)
        }
        Err(error) if is_not_found(&error) => Ok(SyncOutcome::Done),
        Err(error) if is_conflict(&error) => Err(error.into()),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn expiry_cases() {
        let job = |spec: serde_json::Value, status: serde_json::Value| -> Job {
            serde_json::from_value(
                json!({"metadata": {"name": "j"}, "spec": spec, "status": status}),
            )
            .expect("valid job")
        };
        let complete = json!({"conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": "1970-01-01T00:01:40Z"}]});
        let template = json!({"spec": {"containers": []}});
        assert_eq!(
            expire_at(&job(
                json!({"ttlSecondsAfterFinished": 10, "template": template}),
                complete.clone()
            )),
            Some(110)
        );
        assert_eq!(
            expire_at(&job(json!({"template": template}), complete)),
            None
        );
        assert_eq!(
            expire_at(&job(
                json!({"ttlSecondsAfterFinished": 10, "template": template}),
                json!({"active": 1})
            )),
            None
        );
    }
}
