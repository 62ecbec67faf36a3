//! The resource quota controller: keeps each ResourceQuota's `status.hard` equal to
//! its `spec.hard` and `status.used` to what its namespace uses of those resources.
//!
//! Entry point: [`ResourceQuotaController::new`] and
//! [`ResourceQuotaController::run`]. A quota is recalculated when it changes, when a
//! pod in its namespace changes, and every `--resource-quota-sync-period`. Pod and
//! compute usage come from [`usage::pod_usage`]; object counts from live lists.
//!
//! NOTE: storage quotas (`requests.storage`, per-class claims) and scoped quotas
//! (`spec.scopes`, `scopeSelector`) are not evaluated.

pub mod usage;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use client::api::Api;
use client::informer::{DeletedObject, EventHandlerFuncs, SharedIndexInformer};
use client::rest::RestClient;
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::core::v1::{Pod, ResourceQuota};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::Value;
use tokio::sync::watch;

use crate::context::ControllerContext;
use crate::objectapi::{collection_path, is_not_found};
use crate::queueworker::sleep_or_cancel;
use crate::queueworker::{SyncError, SyncOutcome, new_queue, object_key, run_workers, split_key};

/// The resource quota controller.
pub struct ResourceQuotaController {
    client: RestClient,
    quotas: SharedIndexInformer<ResourceQuota>,
    pods: SharedIndexInformer<Pod>,
    queue: RateLimitingQueue<String>,
    resync: Duration,
}

fn enqueue_namespace(
    quotas: &SharedIndexInformer<ResourceQuota>,
    queue: &RateLimitingQueue<String>,
    namespace: &str,
) {
    for quota in quotas.lister().namespaced(namespace).list() {
        queue.add(object_key(&quota.metadata));
    }
}

impl ResourceQuotaController {
    /// Registers the quota and pod handlers.
    pub fn new(ctx: &ControllerContext) -> Self {
        let quotas = ctx.informers.informer::<ResourceQuota>();
        let pods = ctx.informers.informer::<Pod>();
        let queue = new_queue("resourcequota_primary");

        let (on_add, on_update) = (queue.clone(), queue.clone());
        let registered = quotas.add_event_handler(
            EventHandlerFuncs::new()
                .on_add(move |quota: &Arc<ResourceQuota>, _| {
                    on_add.add(object_key(&quota.metadata))
                })
                .on_update(move |old: &Arc<ResourceQuota>, new: &Arc<ResourceQuota>| {
                    let hard = |q: &ResourceQuota| q.spec.as_ref().and_then(|s| s.hard.clone());
                    let status_hard = new.status.as_ref().and_then(|s| s.hard.clone());
                    if hard(old) != hard(new) || hard(new) != status_hard {
                        on_update.add(object_key(&new.metadata));
                    }
                }),
        );
        if let Err(error) = registered {
            tracing::error!(%error, "resourcequota controller: cannot watch resourcequotas");
        }
        let (add_quotas, add_queue) = (quotas.clone(), queue.clone());
        let (update_quotas, update_queue) = (quotas.clone(), queue.clone());
        let (delete_quotas, delete_queue) = (quotas.clone(), queue.clone());
        let registered = pods.add_event_handler(
            EventHandlerFuncs::new()
                .on_add(move |pod: &Arc<Pod>, _| {
                    enqueue_namespace(
                        &add_quotas,
                        &add_queue,
                        pod.metadata.namespace.as_deref().unwrap_or_default(),
                    );
                })
                .on_update(move |old: &Arc<Pod>, new: &Arc<Pod>| {
                    let phase = |p: &Pod| p.status.as_ref().and_then(|s| s.phase.clone());
                    if phase(old) != phase(new) || old.spec != new.spec {
                        enqueue_namespace(
                            &update_quotas,
                            &update_queue,
                            new.metadata.namespace.as_deref().unwrap_or_default(),
                        );
                    }
                })
                .on_delete(move |deleted: DeletedObject<Pod>| {
                    let key = deleted.key();
                    enqueue_namespace(&delete_quotas, &delete_queue, split_key(&key).0);
                }),
        );
        if let Err(error) = registered {
            tracing::error!(%error, "resourcequota controller: cannot watch pods");
        }
        Self {
            client: ctx.client.clone(),
            quotas,
            pods,
            queue,
            resync: ctx.options.resource_quota_sync_period,
        }
    }

    /// Runs `workers` workers and the periodic full resync until `cancel` turns true.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        tracing::info!("starting resource quota controller");
        if !client::informer::wait_for_cache_sync(cancel.clone(), &[&self.quotas, &self.pods]).await
        {
            return;
        }
        let (resync_quotas, resync_queue, resync_cancel, period) = (
            self.quotas.clone(),
            self.queue.clone(),
            cancel.clone(),
            self.resync,
        );
        tokio::spawn(async move {
            while !sleep_or_cancel(period, &resync_cancel).await {
                for quota in resync_quotas.lister().list() {
                    resync_queue.add(object_key(&quota.metadata));
                }
            }
        });
        let (quotas, pods, client) = (self.quotas.clone(), self.pods.clone(), self.client.clone());
        run_workers("resourcequota", self.queue, workers, cancel, move |key| {
            let (quotas, pods, client) = (quotas.clone(), pods.clone(), client.clone());
            async move { sync_quota(&client, &quotas, &pods, &key).await }
        })
        .await;
    }
}

async fn sync_quota(
    client: &RestClient,
    quotas: &SharedIndexInformer<ResourceQuota>,
    pods: &SharedIndexInformer<Pod>,
    key: &str,
) -> Result<SyncOutcome, SyncError> {
    let (namespace, name) = split_key(key);
    let Some(quota) = quotas.lister().namespaced(namespace).get(name) else {
        return Ok(SyncOutcome::Done);
    };
    let hard = quota
        .spec
        .as_ref()
        .and_then(|spec| spec.hard.clone())
        .unwrap_or_default();
    let namespace_pods = pods.lister().namespaced(namespace).list();
    let pod_refs: Vec<&Pod> = namespace_pods.iter().map(Arc::as_ref).collect();

    let mut used: BTreeMap<String, Quantity> =
        usage::pod_usage(hard.keys().map(String::as_str), &pod_refs)
            .into_iter()
            .map(|(name, amount)| (name, Quantity(amount.to_string())))
            .collect();
    for resource_name in hard.keys() {
        if used.contains_key(resource_name) {
            continue;
        }
        let Some((group, plural)) = usage::object_count_resource(resource_name) else {
            continue;
        };
        // NOTE: counted resources are read at v1 of their group; a group without v1
        // would need its preferred version from discovery.
        let path = collection_path(&group, "v1", namespace, &plural);
        match client.get(&path).request_json::<Value>().await {
            Ok(list) => {
                let count = list
                    .get("items")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                used.insert(resource_name.clone(), Quantity(count.to_string()));
            }
            Err(error) if is_not_found(&error) => {
                tracing::debug!(
                    quota = key,
                    resource = resource_name,
                    "quota counts an unknown resource"
                );
            }
            Err(error) => return Err(error.into()),
        }
    }

    let status = quota.status.clone().unwrap_or_default();
    if status.hard.as_ref() == Some(&hard) && status.used.as_ref() == Some(&used) {
        return Ok(SyncOutcome::Done);
    }
    let patch = serde_json::json!({
        "metadata": {"resourceVersion": quota.metadata.resource_version},
        "status": {"hard": hard, "used": used},
    });
    let api: Api<ResourceQuota> = Api::namespaced(client.clone(), namespace);
    match api
        .patch_status(name, client::rest::PatchType::Merge, &patch)
        .await
    {
        Ok(_) => Ok(SyncOutcome::Done),
        Err(error) if is_not_found(&error) => Ok(SyncOutcome::Done),
        Err(error) => Err(error.into()),
    }
}
