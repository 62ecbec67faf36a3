//! The scheduler: pops pods from the queue and runs one scheduling cycle at a time on a
//! dedicated thread, then runs each pod's binding cycle as its own task so the next
//! scheduling cycle starts at once.
//!
//! Build one with [`Scheduler::new`], feed it cluster events through the methods in
//! [`crate::event_handlers`], and start it with [`Scheduler::run`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tokio::sync::watch;

use crate::algorithm::{Algorithm, ScheduleError};
use crate::cache::{SchedulerCache, Snapshot};
use crate::config::{ConfigError, KubeSchedulerConfiguration, build_framework};
use crate::framework::handle::{ClusterClient, ClusterState, Handle, Nominator, WaitingPods};
use crate::framework::interface::{Code, CycleState, Status};
use crate::framework::runtime::Framework;
use crate::framework::types::pod_key;
use crate::metrics::Metrics;
use crate::plugins::Registry;
use crate::queue::{BackoffConfig, ClusterEvent, LessFn, QueuedPodInfo, SchedulingQueue};

/// How long an assumed pod whose bind request finished may wait for the informer to
/// confirm it before the cache drops it (upstream `durationToExpireAssumedPod`).
pub const ASSUMED_POD_TTL: Duration = Duration::from_secs(30);

/// The scheduler.
pub struct Scheduler {
    /// The node and pod cache.
    pub cache: Arc<SchedulerCache>,
    /// The scheduling queue.
    pub queue: Arc<SchedulingQueue>,
    /// Frameworks by schedulerName.
    pub profiles: HashMap<String, Arc<Framework>>,
    /// API writes.
    pub client: Arc<dyn ClusterClient>,
    /// Listers of non-pod objects.
    pub cluster: Arc<ClusterState>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    algorithm: Algorithm,
    profile_percentages: HashMap<String, Option<i32>>,
    snapshot: Mutex<Snapshot>,
    /// The latest version of every pod the informer reported, for failure handling.
    pub(crate) pods: RwLock<HashMap<String, Arc<Pod>>>,
    runtime: OnceLock<tokio::runtime::Handle>,
}

impl Scheduler {
    /// Builds the scheduler and its profiles.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when a profile cannot be built.
    pub fn new(
        config: &KubeSchedulerConfiguration,
        client: Arc<dyn ClusterClient>,
        registry: &Registry,
    ) -> Result<Arc<Scheduler>, ConfigError> {
        let nominator = Arc::new(Nominator::default());
        let cluster = Arc::new(ClusterState::default());
        let base = Handle {
            client: client.clone(),
            cluster: cluster.clone(),
            nominator: nominator.clone(),
            waiting_pods: Arc::new(WaitingPods::default()),
            framework: Arc::new(OnceLock::new()),
        };
        let mut profiles = HashMap::new();
        let mut profile_percentages = HashMap::new();
        for profile in &config.profiles {
            let handle = crate::config::profile_handle(&base);
            let framework = build_framework(profile, registry, handle, config.parallelism)?;
            profiles.insert(profile.scheduler_name.clone(), framework);
            profile_percentages.insert(
                profile.scheduler_name.clone(),
                profile.percentage_of_nodes_to_score,
            );
        }
        let first = config
            .profiles
            .first()
            .and_then(|profile| profiles.get(&profile.scheduler_name))
            .cloned()
            .ok_or_else(|| ConfigError::Invalid("at least one profile is required".to_string()))?;
        let less: LessFn = Arc::new(move |a, b| first.queue_sort_less(a, b));
        let backoff = BackoffConfig {
            initial: Duration::from_secs(config.pod_initial_backoff_seconds),
            max: Duration::from_secs(config.pod_max_backoff_seconds),
        };
        Ok(Arc::new(Scheduler {
            cache: Arc::new(SchedulerCache::new(ASSUMED_POD_TTL)),
            queue: Arc::new(SchedulingQueue::new(less, backoff, nominator)),
            profiles,
            client,
            cluster,
            metrics: Arc::new(Metrics::new()),
            algorithm: Algorithm::new(config.percentage_of_nodes_to_score.unwrap_or(0)),
            profile_percentages,
            snapshot: Mutex::new(Snapshot::default()),
            pods: RwLock::new(HashMap::new()),
            runtime: OnceLock::new(),
        }))
    }

    /// Returns whether a profile serves `scheduler_name`.
    pub fn responsible_for(&self, pod: &Pod) -> bool {
        let name = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.scheduler_name.as_deref())
            .unwrap_or(crate::config::DEFAULT_SCHEDULER_NAME);
        self.profiles.contains_key(name)
    }

    fn framework_for(&self, pod: &Pod) -> Option<Arc<Framework>> {
        let name = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.scheduler_name.as_deref())
            .unwrap_or(crate::config::DEFAULT_SCHEDULER_NAME);
        self.profiles.get(name).cloned()
    }

    /// Starts the queue flushes, the assumed-pod cleanup and the scheduling loop, and
    /// returns when `cancel` fires. Must be called inside a multi-threaded Tokio
    /// runtime; the scheduling loop runs on its own thread.
    pub async fn run(self: Arc<Self>, cancel: watch::Receiver<bool>) {
        let runtime = tokio::runtime::Handle::current();
        let _ = self.runtime.set(runtime.clone());
        tracing::info!(profiles = ?self.profiles.keys().collect::<Vec<_>>(), "starting scheduler");

        let queue_task = tokio::spawn(self.queue.clone().run(cancel.clone()));
        let cleanup = {
            let this = self.clone();
            let mut cancel = cancel.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tokio::select! {
                        _ = tick.tick() => {
                            for pod in this.cache.cleanup_expired_assumed_pods(Instant::now()) {
                                tracing::warn!(pod = %pod_key(&pod), "assumed pod expired without a bind confirmation");
                            }
                            this.metrics.set_pending(this.queue.pending_counts());
                        }
                        changed = cancel.changed() => {
                            if changed.is_err() || *cancel.borrow() {
                                return;
                            }
                        }
                    }
                }
            })
        };

        let this = self.clone();
        let loop_thread = std::thread::Builder::new()
            .name("scheduling-loop".to_string())
            .spawn(move || while this.schedule_one(&runtime) {});
        if let Err(error) = &loop_thread {
            tracing::error!(%error, "failed to start the scheduling loop thread");
        }

        let mut cancel = cancel;
        while !*cancel.borrow() {
            if cancel.changed().await.is_err() {
                break;
            }
        }
        self.queue.close();
        let _ = queue_task.await;
        let _ = cleanup.await;
        if let Ok(thread) = loop_thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        tracing::info!("scheduler stopped");
    }

    /// Runs one scheduling cycle. Returns false once the queue is closed.
    fn schedule_one(self: &Arc<Self>, runtime: &tokio::runtime::Handle) -> bool {
        let Some(info) = runtime.block_on(self.queue.pop()) else {
            return false;
        };
        let pod = info.pod.clone();
        let Some(framework) = self.framework_for(&pod) else {
            tracing::error!(pod = %pod_key(&pod), "no profile for the pod's schedulerName");
            return true;
        };
        if pod.metadata.deletion_timestamp.is_some() || self.cache.is_assumed_pod(&pod) {
            return true;
        }
        tracing::debug!(pod = %pod_key(&pod), attempts = info.attempts, "attempting to schedule pod");

        let start = Instant::now();
        let cycle = self.queue.scheduling_cycle();
        let mut state = CycleState::new();
        let mut snapshot = self.snapshot.lock().unwrap_or_else(|e| e.into_inner());
        self.cache.update_snapshot(&mut snapshot);
        let snapshot = snapshot.clone();
        let percentage = self
            .profile_percentages
            .get(framework.profile_name())
            .copied()
            .flatten();
        let result = self
            .algorithm
            .schedule(&framework, &mut state, &pod, &snapshot, percentage);

        let result = match result {
            Ok(result) => result,
            Err(ScheduleError::Fit(fit_error)) => {
                let (post_result, status) = runtime.block_on(framework.run_post_filter_plugins(
                    &state,
                    &pod,
                    &fit_error.statuses,
                    &snapshot,
                ));
                let nominated = post_result.map(|result| result.nominated_node_name);
                if nominated.is_some() {
                    self.metrics.observe_preemption(0);
                } else if !status.is_unschedulable() && !status.is_success() {
                    tracing::warn!(pod = %pod_key(&pod), %status, "PostFilter failed");
                }
                let profile = framework.profile_name().to_string();
                self.metrics
                    .observe_attempt("unschedulable", &profile, start.elapsed().as_secs_f64());
                self.record_scheduling_failure(
                    &framework,
                    info,
                    fit_error.to_string(),
                    "Unschedulable",
                    nominated,
                    cycle,
                );
                return true;
            }
            Err(error) => {
                let (result, reason) = match error {
                    ScheduleError::NoNodes => ("unschedulable", "Unschedulable"),
                    _ => ("error", "SchedulerError"),
                };
                self.metrics
                    .observe_attempt(result, framework.profile_name(), start.elapsed().as_secs_f64());
                self.record_scheduling_failure(&framework, info, error.to_string(), reason, None, cycle);
                return true;
            }
        };

        let host = result.suggested_host.clone();
        let mut assumed = (*pod).clone();
        if let Some(spec) = assumed.spec.as_mut() {
            spec.node_name = Some(host.clone());
        }
        let assumed = Arc::new(assumed);
        if let Err(error) = self.cache.assume_pod(assumed.clone()) {
            self.metrics
                .observe_attempt("error", framework.profile_name(), start.elapsed().as_secs_f64());
            self.record_scheduling_failure(&framework, info, error.to_string(), "SchedulerError", None, cycle);
            return true;
        }

        let status = framework.run_reserve_plugins(&mut state, &assumed, &host);
        if !status.is_success() {
            framework.run_unreserve_plugins(&mut state, &assumed, &host);
            let _ = self.cache.forget_pod(&assumed);
            self.metrics
                .observe_attempt("error", framework.profile_name(), start.elapsed().as_secs_f64());
            self.record_scheduling_failure(&framework, info, status.message(), "SchedulerError", None, cycle);
            return true;
        }

        let (status, timeout, waiting) = framework.run_permit_plugins(&mut state, &assumed, &host);
        if !status.is_success() && status.code != Code::Wait {
            framework.run_unreserve_plugins(&mut state, &assumed, &host);
            let _ = self.cache.forget_pod(&assumed);
            let (result, reason) = if status.is_unschedulable() {
                ("unschedulable", "Unschedulable")
            } else {
                ("error", "SchedulerError")
            };
            self.metrics
                .observe_attempt(result, framework.profile_name(), start.elapsed().as_secs_f64());
            self.record_scheduling_failure(&framework, info, status.message(), reason, None, cycle);
            return true;
        }

        let binding = BindingCycle {
            scheduler: self.clone(),
            framework,
            info,
            assumed,
            host,
            state,
            start,
            cycle,
            permit_wait: (status.code == Code::Wait).then_some((waiting, timeout)),
        };
        runtime.spawn(binding.run());
        true
    }

    /// Handles a failed attempt: emits the FailedScheduling event, requeues the pod if
    /// it still exists unbound, records its nomination, and sets its PodScheduled
    /// condition.
    pub(crate) fn record_scheduling_failure(
        &self,
        framework: &Framework,
        info: QueuedPodInfo,
        message: String,
        reason: &str,
        nominated_node: Option<String>,
        cycle: i64,
    ) {
        let pod = info.pod.clone();
        let key = pod_key(&pod);
        tracing::info!(pod = %key, profile = framework.profile_name(), %message, "unable to schedule pod");
        self.client
            .record_event(&pod, "Warning", "FailedScheduling", message.clone());

        let latest = self
            .pods
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        match latest {
            Some(latest) if crate::framework::types::pod_node_name(&latest).is_none() => {
                let requeued = QueuedPodInfo {
                    pod: latest,
                    ..info
                };
                self.queue.add_unschedulable_if_not_present(requeued, cycle);
            }
            Some(_) => {
                tracing::debug!(pod = %key, "pod was bound meanwhile; not requeueing");
            }
            None => {
                tracing::debug!(pod = %key, "pod no longer exists; not requeueing");
            }
        }
        if let Some(node) = nominated_node.as_deref() {
            self.queue.nominator().add(pod.clone(), Some(node));
        }

        let condition = PodCondition {
            type_: "PodScheduled".to_string(),
            status: "False".to_string(),
            reason: Some(reason.to_string()),
            message: Some(message),
            last_transition_time: Some(Time(crate::framework::types::now())),
            last_probe_time: None,
            observed_generation: None,
        };
        let client = self.client.clone();
        let Some(runtime) = self.runtime.get() else {
            return;
        };
        runtime.spawn(async move {
            if let Err(error) = client
                .update_pod_status(&pod, Some(condition), nominated_node.as_deref())
                .await
            {
                if error.not_found {
                    tracing::debug!(pod = %key, "pod deleted before its status update");
                } else {
                    tracing::warn!(pod = %key, %error, "failed to update the pod's PodScheduled condition");
                }
            }
        });
    }
}

/// One pod's binding cycle: wait on Permit, PreBind, Bind, PostBind.
struct BindingCycle {
    scheduler: Arc<Scheduler>,
    framework: Arc<Framework>,
    info: QueuedPodInfo,
    assumed: Arc<Pod>,
    host: String,
    state: CycleState,
    start: Instant,
    cycle: i64,
    permit_wait: Option<(Vec<String>, Duration)>,
}

impl BindingCycle {
    async fn run(self) {
        let BindingCycle {
            scheduler,
            framework,
            info,
            assumed,
            host,
            mut state,
            start,
            cycle,
            permit_wait,
        } = self;
        let profile = framework.profile_name().to_string();
        let key = pod_key(&assumed);

        let mut status = Status::success();
        if let Some((plugins, timeout)) = permit_wait {
            status = framework.wait_on_permit(&assumed, plugins, timeout).await;
        }
        if status.is_success() {
            status = framework.run_pre_bind_plugins(&state, &assumed, &host).await;
        }
        if status.is_success() {
            status = framework.run_bind_plugins(&state, &assumed, &host).await;
        }

        if !status.is_success() {
            framework.run_unreserve_plugins(&mut state, &assumed, &host);
            if let Err(error) = scheduler.cache.forget_pod(&assumed) {
                tracing::warn!(pod = %key, %error, "failed to forget the assumed pod");
            }
            // The pod's resources were freed, so pods rejected meanwhile may fit now.
            scheduler
                .queue
                .move_all_to_active_or_backoff_queue(ClusterEvent::AssignedPodDelete);
            let (result, reason) = if status.is_unschedulable() {
                ("unschedulable", "Unschedulable")
            } else {
                ("error", "SchedulerError")
            };
            scheduler
                .metrics
                .observe_attempt(result, &profile, start.elapsed().as_secs_f64());
            let message = format!("binding rejected: {}", status.message());
            scheduler.record_scheduling_failure(&framework, info, message, reason, None, cycle);
            return;
        }

        scheduler.cache.finish_binding(&assumed);
        scheduler
            .metrics
            .observe_attempt("scheduled", &profile, start.elapsed().as_secs_f64());
        scheduler.metrics.observe_e2e(
            &profile,
            info.initial_attempt_timestamp.elapsed().as_secs_f64(),
        );
        tracing::info!(pod = %key, node = %host, attempts = info.attempts, "successfully bound pod to node");
        scheduler.client.record_event(
            &assumed,
            "Normal",
            "Scheduled",
            format!("Successfully assigned {key} to {host}"),
        );
        framework.run_post_bind_plugins(&state, &assumed, &host);
    }
}
