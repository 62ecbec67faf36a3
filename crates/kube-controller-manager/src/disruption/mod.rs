//! The disruption controller: keeps each PodDisruptionBudget's status (healthy,
//! desired and expected pods, allowed disruptions) current with the pods it
//! selects.
//!
//! Entry point: [`DisruptionController::new`] and [`DisruptionController::run`];
//! the computation is [`status::compute_status`]. For `maxUnavailable` and
//! percentage budgets the expected count is the sum of the `spec.replicas` of the
//! pods' controllers (Deployment through its ReplicaSet, ReplicaSet,
//! ReplicationController, StatefulSet).

pub mod status;

use std::collections::HashSet;
use std::sync::Arc;

use apimachinery::labels::label_selector_as_selector;
use client::api::Api;
use client::informer::{DeletedObject, EventHandlerFuncs, SharedIndexInformer};
use client::rest::RestClient;
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde_json::Value;
use tokio::sync::watch;

use crate::context::ControllerContext;
use crate::objectapi::{is_not_found, now_time};
use crate::queueworker::{SyncError, SyncOutcome, new_queue, object_key, run_workers, split_key};

/// The disruption controller.
pub struct DisruptionController {
    client: RestClient,
    budgets: SharedIndexInformer<PodDisruptionBudget>,
    pods: SharedIndexInformer<Pod>,
    queue: RateLimitingQueue<String>,
}

fn selects(budget: &PodDisruptionBudget, pod: &Pod) -> bool {
    let selector = budget.spec.as_ref().and_then(|spec| spec.selector.as_ref());
    label_selector_as_selector(selector)
        .is_ok_and(|selector| selector.matches(&pod.metadata.labels))
}

fn enqueue_budgets_for_pod(
    budgets: &SharedIndexInformer<PodDisruptionBudget>,
    queue: &RateLimitingQueue<String>,
    pod: &Pod,
) {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    for budget in budgets.lister().namespaced(&namespace).list() {
        if selects(&budget, pod) {
            queue.add(object_key(&budget.metadata));
        }
    }
}

impl DisruptionController {
    /// Registers the budget and pod handlers.
    pub fn new(ctx: &ControllerContext) -> Self {
        let budgets = ctx.informers.informer::<PodDisruptionBudget>();
        let pods = ctx.informers.informer::<Pod>();
        let queue = new_queue("disruption");

        let (on_add, on_update) = (queue.clone(), queue.clone());
        let registered = budgets.add_event_handler(
            EventHandlerFuncs::new()
                .on_add(move |budget: &Arc<PodDisruptionBudget>, _| {
                    on_add.add(object_key(&budget.metadata))
                })
                .on_update(move |_, budget: &Arc<PodDisruptionBudget>| {
                    on_update.add(object_key(&budget.metadata))
                }),
        );
        if let Err(error) = registered {
            tracing::error!(%error, "disruption controller: cannot watch poddisruptionbudgets");
        }
        let (add_budgets, add_queue) = (budgets.clone(), queue.clone());
        let (update_budgets, update_queue) = (budgets.clone(), queue.clone());
        let (delete_budgets, delete_queue) = (budgets.clone(), queue.clone());
        let registered = pods.add_event_handler(
            EventHandlerFuncs::new()
                .on_add(move |pod: &Arc<Pod>, _| {
                    enqueue_budgets_for_pod(&add_budgets, &add_queue, pod)
                })
                .on_update(move |old: &Arc<Pod>, new: &Arc<Pod>| {
                    enqueue_budgets_for_pod(&update_budgets, &update_queue, old);
                    enqueue_budgets_for_pod(&update_budgets, &update_queue, new);
                })
                .on_delete(move |deleted: DeletedObject<Pod>| {
                    if let Some(pod) = deleted.object() {
                        enqueue_budgets_for_pod(&delete_budgets, &delete_queue, pod);
                    }
                }),
        );
        if let Err(error) = registered {
            tracing::error!(%error, "disruption controller: cannot watch pods");
        }
        Self {
            client: ctx.client.clone(),
            budgets,
            pods,
            queue,
        }
    }

    /// Runs `workers` workers until `cancel` turns true.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        tracing::info!("starting disruption controller");
        if !client::informer::wait_for_cache_sync(cancel.clone(), &[&self.budgets, &self.pods])
            .await
        {
            return;
        }
        let (budgets, pods, client) =
            (self.budgets.clone(), self.pods.clone(), self.client.clone());
        run_workers("disruption", self.queue, workers, cancel, move |key| {
            let (budgets, pods, client) = (budgets.clone(), pods.clone(), client.clone());
            async move { sync_budget(&client, &budgets, &pods, &key).await }
        })
        .await;
    }
}

async fn sync_budget(
    client: &RestClient,
    budgets: &SharedIndexInformer<PodDisruptionBudget>,
    pods: &SharedIndexInformer<Pod>,
    key: &str,
) -> Result<SyncOutcome, SyncError> {
    let (namespace, name) = split_key(key);
    let Some(budget) = budgets.lister().namespaced(namespace).get(name) else {
        return Ok(SyncOutcome::Done);
    };
    // Only the selected pods are decoded from the packed cache.
    let selector = budget.spec.as_ref().and_then(|spec| spec.selector.as_ref());
    let namespace_pods = match label_selector_as_selector(selector) {
        Ok(selector) => pods
            .lister()
            .namespaced(namespace)
            .list_where(&|summary| selector.matches(summary), &|pod| {
                selector.matches(&pod.metadata.labels)
            }),
        Err(_) => Vec::new(),
    };
    let selected: Vec<&Pod> = namespace_pods.iter().map(Arc::as_ref).collect();

    let expected = if status::needs_expected_count(&budget) {
        expected_count(client, namespace, &selected).await.map(Some)
    } else {
        Ok(None)
    };
    let new_status = status::compute_status(&budget, &selected, expected, &now_time());
    if budget.status.as_ref() == Some(&new_status) {
        return Ok(SyncOutcome::Done);
    }
    let mut updated = (*budget).clone();
    updated.status = Some(new_status);
    let api: Api<PodDisruptionBudget> = Api::namespaced(client.clone(), namespace);
    match api.replace_status(name, &updated).await {
        Ok(_) => Ok(SyncOutcome::Done),
        Err(error) if is_not_found(&error) => Ok(SyncOutcome::Done),
        Err(error) => Err(error.into()),
    }
}

/// Sums the replicas of the selected pods' controllers, each counted once.
///
/// # Errors
/// A message naming a pod without a controller or a controller that cannot be read.
async fn expected_count(
    client: &RestClient,
    namespace: &str,
    pods: &[&Pod],
) -> Result<i32, String> {
    let mut seen = HashSet::new();
    let mut total = 0;
    for pod in pods {
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let owner = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|owner| owner.controller == Some(true))
            .ok_or_else(|| format!("found no controller ref for pod {name:?}"))?;
        let (mut kind, mut owner_name, mut uid) =
            (owner.kind.clone(), owner.name.clone(), owner.uid.clone());
        let mut object = get_controller(client, namespace, &kind, &owner_name).await?;
        // A ReplicaSet run by a Deployment counts as the Deployment.
        if kind == "ReplicaSet"
            && let Some(parent) = object
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .and_then(|owners| {
                    owners
                        .iter()
                        .find(|o| o["controller"] == true && o["kind"] == "Deployment")
                })
        {
            kind = "Deployment".to_string();
            owner_name = parent["name"].as_str().unwrap_or_default().to_string();
            uid = parent["uid"].as_str().unwrap_or_default().to_string();
            object = get_controller(client, namespace, &kind, &owner_name).await?;
        }
        if !seen.insert(uid) {
            continue;
        }
        total += object
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1) as i32;
    }
    Ok(total)
}

async fn get_controller(
    client: &RestClient,
    namespace: &str,
    kind: &str,
    name: &str,
) -> Result<Value, String> {
    let path = match kind {
        "ReplicaSet" => format!("/apis/apps/v1/namespaces/{namespace}/replicasets/{name}"),
        "Deployment" => format!("/apis/apps/v1/namespaces/{namespace}/deployments/{name}"),
        "StatefulSet" => format!("/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"),
        "ReplicationController" => {
            format!("/api/v1/namespaces/{namespace}/replicationcontrollers/{name}")
        }
        // NOTE: other controllers would need the scale subresource through discovery.
        other => return Err(format!("controller kind {other} of pods is not supported")),
    };
    client
        .get(&path)
        .request_json::<Value>()
        .await
        .map_err(|error| format!("failed to get {kind} {namespace}/{name}: {error}"))
}
