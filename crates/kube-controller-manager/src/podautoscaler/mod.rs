//! The horizontal pod autoscaler controller (`horizontalpodautoscaling`): sets the
//! replica count of each HorizontalPodAutoscaler's target from its metrics.
//!
//! Entry point: [`HorizontalController::new`] (metrics from the kube-apiserver's
//! metrics APIs) or [`HorizontalController::with_metrics_client`], then
//! [`HorizontalController::run`].
//!
//! Every autoscaler is synced once per `--horizontal-pod-autoscaler-sync-period`:
//! its key goes back into the workqueue with that delay after each sync, and adds
//! and updates wait the same delay, as upstream does. A sync reads the target's
//! scale subresource ([`scale`]), proposes a count per metric
//! ([`metric_replicas`], [`replica_calculator`]), stabilizes and clamps it
//! ([`normalize`]), writes the scale when the count changes, and writes the status
//! when it differs from the stored one.

mod metric_replicas;
pub mod metrics;
pub mod normalize;
pub mod replica_calculator;
mod scale;
pub mod status;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apimachinery::labels::Selector;
use client::discovery::DiscoveryClient;
use client::informer::{DeletedObject, EventHandlerFuncs, SharedIndexInformer};
use client::rest::RestClient;
use client::workqueue::{RateLimiter, RateLimitingQueue};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tokio::sync::watch;

use crate::client_ext::{InformerExt, api_in};
use crate::context::ControllerContext;
use crate::controller_utils::key_of;
use crate::events::{EventRecorder, EventType};
use crate::replicaset::wait_for_synced;
use crate::worker::run_workers;

use self::metrics::{MetricsClient, RestMetricsClient};
use self::normalize::{
    Behavior, ScalingHistory, normalize_desired_replicas, normalize_with_behaviors,
};
use self::replica_calculator::ReplicaCalculator;
use self::status::{
    ABLE_TO_SCALE, SCALING_ACTIVE, SCALING_LIMITED, set_condition,
    set_current_replicas_and_metrics, set_status,
};

/// The name of the controller's events' source and of its workqueue.
pub const CONTROLLER_NAME: &str = "horizontal-pod-autoscaler";

/// A rate limiter that delays every item by the same interval, upstream's
/// `FixedItemIntervalRateLimiter`: it turns "add rate limited" into "sync again
/// after the sync period".
struct FixedIntervalRateLimiter {
    interval: Duration,
}

impl<T> RateLimiter<T> for FixedIntervalRateLimiter {
    fn when(&self, _item: &T) -> Duration {
        self.interval
    }

    fn forget(&self, _item: &T) {}

    fn num_requeues(&self, _item: &T) -> u32 {
        0
    }
}

pub(crate) struct Inner {
    autoscalers: SharedIndexInformer<HorizontalPodAutoscaler>,
    pods: SharedIndexInformer<Pod>,
    queue: RateLimitingQueue<String>,
    client: RestClient,
    discovery: DiscoveryClient,
    metrics: Arc<dyn MetricsClient>,
    calculator: ReplicaCalculator,
    recorder: EventRecorder,
    downscale_stabilization_window: Duration,
    /// Recommendations and scale events by autoscaler key.
    histories: Mutex<HashMap<String, ScalingHistory>>,
    /// The last parsed target selector by autoscaler key, to find autoscalers that
    /// select the same pods.
    selectors: Mutex<HashMap<String, Selector>>,
}

/// The horizontal pod autoscaler controller.
pub struct HorizontalController {
    inner: Arc<Inner>,
}

impl HorizontalController {
    /// Builds the controller with metrics read through the kube-apiserver and
    /// registers its handlers on the informers of `ctx`.
    pub fn new(ctx: &ControllerContext) -> Self {
        let discovery = DiscoveryClient::new(ctx.client.clone());
        let metrics = Arc::new(RestMetricsClient::new(
            ctx.client.clone(),
            discovery.clone(),
        ));
        Self::build(ctx, discovery, metrics)
    }

    /// Builds the controller with `metrics` as its metric source.
    pub fn with_metrics_client(ctx: &ControllerContext, metrics: Arc<dyn MetricsClient>) -> Self {
        Self::build(ctx, DiscoveryClient::new(ctx.client.clone()), metrics)
    }

    fn build(
        ctx: &ControllerContext,
        discovery: DiscoveryClient,
        metrics: Arc<dyn MetricsClient>,
    ) -> Self {
        let options = &ctx.options;
        let limiter = Arc::new(FixedIntervalRateLimiter {
            interval: options.horizontal_pod_autoscaler_sync_period,
        });
        let inner = Arc::new(Inner {
            autoscalers: ctx.informers.informer::<HorizontalPodAutoscaler>(),
            pods: ctx.informers.informer::<Pod>(),
            queue: RateLimitingQueue::new_named(limiter, "horizontalpodautoscaler"),
            client: ctx.client.clone(),
            discovery,
            metrics,
            // NOTE: `spec.behavior.*.tolerance` (the HPAConfigurableTolerance feature,
            // alpha and off in v1.33) is not read, so the flag applies both ways.
            calculator: ReplicaCalculator {
                tolerance: options.horizontal_pod_autoscaler_tolerance,
                cpu_initialization_period: options
                    .horizontal_pod_autoscaler_cpu_initialization_period,
                delay_of_initial_readiness_status: options
                    .horizontal_pod_autoscaler_initial_readiness_delay,
            },
            recorder: ctx.recorder(CONTROLLER_NAME),
            downscale_stabilization_window: options
                .horizontal_pod_autoscaler_downscale_stabilization,
            histories: Mutex::new(HashMap::new()),
            selectors: Mutex::new(HashMap::new()),
        });
        register_handlers(&inner);
        Self { inner }
    }

    /// Waits for the caches, then syncs with `workers` concurrent workers until
    /// `cancel` fires.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        let inner = self.inner;
        if !wait_for_synced(
            &[&|| inner.autoscalers.has_synced(), &|| {
                inner.pods.has_synced()
            }],
            cancel.clone(),
        )
        .await
        {
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
                async move {
                    let (deleted, result) = inner.reconcile_key(&key).await;
                    // Sync again after the period; a pending delayed add is kept.
                    if !deleted {
                        inner.queue.add_rate_limited(key);
                    }
                    result
                }
            },
        )
        .await;
    }
}

fn register_handlers(inner: &Arc<Inner>) {
    let on_add = Arc::clone(inner);
    let on_update = Arc::clone(inner);
    let on_delete = Arc::clone(inner);
    inner.autoscalers.register(
        EventHandlerFuncs::new()
            .on_add(move |autoscaler: &Arc<HorizontalPodAutoscaler>, _initial| {
                on_add.queue.add_rate_limited(key_of(&autoscaler.metadata));
            })
            .on_update(move |_old, autoscaler: &Arc<HorizontalPodAutoscaler>| {
                on_update
                    .queue
                    .add_rate_limited(key_of(&autoscaler.metadata));
            })
            .on_delete(move |deleted: DeletedObject<HorizontalPodAutoscaler>| {
                if let Some(autoscaler) = deleted.object() {
                    let key = key_of(&autoscaler.metadata);
                    on_delete.queue.forget(&key);
                    on_delete.forget_selector(&key);
                }
            }),
    );
}

impl Inner {
    /// Syncs the autoscaler `key`. Returns whether it no longer exists, and the
    /// sync's error.
    async fn reconcile_key(&self, key: &str) -> (bool, Result<(), String>) {
        let Some((namespace, name)) = key.split_once('/') else {
            return (true, Err(format!("invalid key {key:?}")));
        };
        let Some(autoscaler) = self.autoscalers.get(namespace, name) else {
            tracing::info!(hpa = key, "horizontal pod autoscaler has been deleted");
            self.histories_lock().remove(key);
            self.forget_selector(key);
            return (true, Ok(()));
        };
        (false, self.reconcile_autoscaler(&autoscaler, key).await)
    }

    /// Syncs `shared` once, as described in the module header.
    async fn reconcile_autoscaler(
        &self,
        shared: &HorizontalPodAutoscaler,
        key: &str,
    ) -> Result<(), String> {
        let mut autoscaler = shared.clone();
        let original_status = autoscaler.status.clone();
        let now: Time = crate::objectapi::now_time();
        let spec = autoscaler.spec.clone().unwrap_or_default();
        let target = &spec.scale_target_ref;
        let namespace = autoscaler.metadata.namespace.clone().unwrap_or_default();
        let reference = format!("{}/{namespace}/{}", target.kind, target.name);

        let mut scale = match scale::get_scale(&self.client, &self.discovery, &namespace, target)
            .await
        {
            Ok(scale) => scale,
            Err(err) => {
                let message = err.to_string();
                self.recorder
                    .event(&autoscaler, EventType::Warning, "FailedGetScale", &message);
                set_condition(
                    &mut autoscaler,
                    ABLE_TO_SCALE,
                    false,
                    "FailedGetScale",
                    format!(
                        "the HPA controller was unable to get the target's current scale: {message}"
                    ),
                    &now,
                );
                self.update_status_if_needed(original_status.as_ref(), &autoscaler)
                    .await
                    .unwrap_or_else(
                        |err| tracing::warn!(hpa = key, error = %err, "failed to update status"),
                    );
                return Err(format!("{}: {message}", err.context(&reference)));
            }
        };
        set_condition(
            &mut autoscaler,
            ABLE_TO_SCALE,
            true,
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale",
            &now,
        );
        let current_replicas = scale.spec_replicas();
        self.histories_lock()
            .entry(key.to_string())
            .or_default()
            .record_initial_recommendation(current_replicas, now.0);

        let min_replicas = spec.min_replicas.unwrap_or(1);
        let max_replicas = spec.max_replicas;
        let mut desired_replicas = 0;
        let mut rescale_reason = String::new();
        let mut rescale = true;
        let mut metric_statuses = Vec::new();
        let mut sync_error = None;

        if current_replicas == 0 && min_replicas != 0 {
            desired_replicas = 0;
            rescale = false;
            set_condition(
                &mut autoscaler,
                SCALING_ACTIVE,
                false,
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
                &now,
            );
        } else if current_replicas > max_replicas {
            rescale_reason = "Current number of replicas above Spec.MaxReplicas".to_string();
            desired_replicas = max_replicas;
        } else if current_replicas < min_replicas {
            rescale_reason = "Current number of replicas below Spec.MinReplicas".to_string();
            desired_replicas = min_replicas;
        } else {
            let proposal = self
                .compute_replicas_for_metrics(&mut autoscaler, &scale, &now)
                .await;
            metric_statuses = proposal.statuses;
            let Some(metric_replicas) = proposal.replicas else {
                let error = proposal.error.unwrap_or_default();
                set_current_replicas_and_metrics(
                    &mut autoscaler,
                    current_replicas,
                    metric_statuses,
                    &now,
                );
                self.update_status_if_needed(original_status.as_ref(), &autoscaler)
                    .await
                    .unwrap_or_else(
                        |err| tracing::warn!(hpa = key, error = %err, "failed to update status"),
                    );
                self.recorder.event(
                    &autoscaler,
                    EventType::Warning,
                    "FailedComputeMetricsReplicas",
                    &error,
                );
                return Err(format!(
                    "failed to compute desired number of replicas based on listed metrics for {reference}: {error}"
                ));
            };
            // Some metrics failed but the others still scale up: go on, and report.
            sync_error = proposal.error;
            tracing::debug!(hpa = key, desired_replicas = metric_replicas, metric = %proposal.metric, "proposing desired replicas");

            let mut rescale_metric = String::new();
            if metric_replicas > desired_replicas {
                desired_replicas = metric_replicas;
                rescale_metric = proposal.metric;
            }
            if desired_replicas > current_replicas {
                rescale_reason = format!("{rescale_metric} above target");
            }
            if desired_replicas < current_replicas {
                rescale_reason = "All metrics below target".to_string();
            }
            let normalized = {
                let mut histories = self.histories_lock();
                let history = histories.entry(key.to_string()).or_default();
                match &spec.behavior {
                    None => normalize_desired_replicas(
                        history,
                        current_replicas,
                        desired_replicas,
                        min_replicas,
                        max_replicas,
                        self.downscale_stabilization_window,
                        now.0,
                    ),
                    Some(behavior) => normalize_with_behaviors(
                        history,
                        &Behavior::from_spec(behavior, self.downscale_stabilization_window),
                        current_replicas,
                        desired_replicas,
                        min_replicas,
                        max_replicas,
                        now.0,
                    ),
                }
            };
            let (reason, message) = normalized.able_to_scale;
            set_condition(&mut autoscaler, ABLE_TO_SCALE, true, reason, message, &now);
            let (limited, reason, message) = normalized.scaling_limited;
            set_condition(
                &mut autoscaler,
                SCALING_LIMITED,
                limited,
                reason,
                message,
                &now,
            );
            desired_replicas = normalized.replicas;
            rescale = desired_replicas != current_replicas;
        }

        if rescale {
            if let Err(err) = scale.update_replicas(desired_replicas).await {
                self.recorder.event(
                    &autoscaler,
                    EventType::Warning,
                    "FailedRescale",
                    &format!(
                        "New size: {desired_replicas}; reason: {rescale_reason}; error: {err}"
                    ),
                );
                set_condition(
                    &mut autoscaler,
                    ABLE_TO_SCALE,
                    false,
                    "FailedUpdateScale",
                    format!("the HPA controller was unable to update the target scale: {err}"),
                    &now,
                );
                set_current_replicas_and_metrics(
                    &mut autoscaler,
                    current_replicas,
                    metric_statuses,
                    &now,
                );
                self.update_status_if_needed(original_status.as_ref(), &autoscaler)
                    .await
                    .unwrap_or_else(
                        |err| tracing::warn!(hpa = key, error = %err, "failed to update status"),
                    );
                return Err(format!("failed to rescale {reference}: {err}"));
            }
            set_condition(
                &mut autoscaler,
                ABLE_TO_SCALE,
                true,
                "SucceededRescale",
                format!(
                    "the HPA controller was able to update the target scale to {desired_replicas}"
                ),
                &now,
            );
            self.recorder.event(
                &autoscaler,
                EventType::Normal,
                "SuccessfulRescale",
                &format!("New size: {desired_replicas}; reason: {rescale_reason}"),
            );
            let behavior = spec
                .behavior
                .as_ref()
                .map(|behavior| Behavior::from_spec(behavior, self.downscale_stabilization_window));
            self.histories_lock()
                .entry(key.to_string())
                .or_default()
                .store_scale_event(behavior.as_ref(), current_replicas, desired_replicas, now.0);
            tracing::info!(hpa = key, current_replicas, desired_replicas, reason = %rescale_reason, "successfully rescaled");
        } else {
            desired_replicas = current_replicas;
        }

        set_status(
            &mut autoscaler,
            current_replicas,
            desired_replicas,
            metric_statuses,
            rescale,
            &now,
        );
        self.update_status_if_needed(original_status.as_ref(), &autoscaler)
            .await?;
        sync_error.map_or(Ok(()), Err)
    }

    /// Writes the status of `autoscaler` when it differs from `original`. A failed
    /// write records a FailedUpdateStatus event.
    ///
    /// # Errors
    /// The write's error, as text.
    async fn update_status_if_needed(
        &self,
        original: Option<&k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerStatus>,
        autoscaler: &HorizontalPodAutoscaler,
    ) -> Result<(), String> {
        if original == autoscaler.status.as_ref() {
            return Ok(());
        }
        let namespace = autoscaler.metadata.namespace.as_deref().unwrap_or_default();
        let name = autoscaler.metadata.name.as_deref().unwrap_or_default();
        let api = api_in::<HorizontalPodAutoscaler>(self.client.clone(), namespace);
        match api.replace_status(name, autoscaler).await {
            Ok(_) => {
                tracing::debug!(hpa = %format!("{namespace}/{name}"), "updated status");
                Ok(())
            }
            Err(err) => {
                self.recorder.event(
                    autoscaler,
                    EventType::Warning,
                    "FailedUpdateStatus",
                    &err.to_string(),
                );
                Err(format!("failed to update status for {name}: {err}"))
            }
        }
    }

    fn histories_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ScalingHistory>> {
        self.histories
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn forget_selector(&self, key: &str) {
        self.selectors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(key);
    }
}
