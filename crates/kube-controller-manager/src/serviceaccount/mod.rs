//! The service account controller: makes sure every active namespace has the
//! `default` ServiceAccount.
//!
//! Entry point: [`ServiceAccountsController::new`] and
//! [`ServiceAccountsController::run`]. A namespace is synced when it appears or
//! changes, and when its `default` ServiceAccount is deleted.

use client::api::{Api, PostParams};
use client::informer::{EventHandlerFuncs, SharedIndexInformer};
use client::rest::RestClient;
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use tokio::sync::watch;

use crate::context::ControllerContext;
use crate::objectapi::is_already_exists;
use crate::queueworker::{SyncError, SyncOutcome, new_queue, run_workers};

/// The ServiceAccounts every namespace gets.
pub const DEFAULT_SERVICE_ACCOUNTS: &[&str] = &["default"];

/// The service account controller.
pub struct ServiceAccountsController {
    client: RestClient,
    namespaces: SharedIndexInformer<Namespace>,
    service_accounts: SharedIndexInformer<ServiceAccount>,
    queue: RateLimitingQueue<String>,
}

impl ServiceAccountsController {
    /// Registers the namespace and ServiceAccount handlers.
    pub fn new(ctx: &ControllerContext) -> Self {
        let namespaces = ctx.informers.informer::<Namespace>();
        let service_accounts = ctx.informers.informer::<ServiceAccount>();
        let queue = new_queue("serviceaccount");

        let (on_add, on_update) = (queue.clone(), queue.clone());
        let registered = namespaces.add_event_handler(
            EventHandlerFuncs::new()
                .on_add(move |namespace: &std::sync::Arc<Namespace>, _| {
                    on_add.add(namespace.metadata.name.clone().unwrap_or_default());
                })
                .on_update(move |_, namespace: &std::sync::Arc<Namespace>| {
                    on_update.add(namespace.metadata.name.clone().unwrap_or_default());
                }),
        );
        if let Err(error) = registered {
            tracing::error!(%error, "serviceaccount controller: cannot watch namespaces");
        }

        let on_delete = queue.clone();
        let registered = service_accounts.add_event_handler(EventHandlerFuncs::new().on_delete(
            move |deleted: client::informer::DeletedObject<ServiceAccount>| {
                let key = deleted.key();
                let (namespace, name) = crate::queueworker::split_key(&key);
                if DEFAULT_SERVICE_ACCOUNTS.contains(&name) {
                    on_delete.add(namespace.to_string());
                }
            },
        ));
        if let Err(error) = registered {
            tracing::error!(%error, "serviceaccount controller: cannot watch serviceaccounts");
        }

        Self {
            client: ctx.client.clone(),
            namespaces,
            service_accounts,
            queue,
        }
    }

    /// Runs `workers` workers until `cancel` turns true.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        tracing::info!("starting service account controller");
        if !client::informer::wait_for_cache_sync(
            cancel.clone(),
            &[&self.namespaces, &self.service_accounts],
        )
        .await
        {
            return;
        }
        let namespaces = self.namespaces.clone();
        let service_accounts = self.service_accounts.clone();
        let client = self.client.clone();
        run_workers("serviceaccount", self.queue, workers, cancel, move |name| {
            let namespaces = namespaces.clone();
            let service_accounts = service_accounts.clone();
            let client = client.clone();
            async move { sync_namespace(&client, &namespaces, &service_accounts, &name).await }
        })
        .await;
    }
}

async fn sync_namespace(
    client: &RestClient,
    namespaces: &SharedIndexInformer<Namespace>,
    service_accounts: &SharedIndexInformer<ServiceAccount>,
    name: &str,
) -> Result<SyncOutcome, SyncError> {
    let Some(namespace) = namespaces.lister().get(name) else {
        return Ok(SyncOutcome::Done);
    };
    let active = namespace
        .status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .is_none_or(|phase| phase == "Active")
        && namespace.metadata.deletion_timestamp.is_none();
    if !active {
        return Ok(SyncOutcome::Done);
    }
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), name);
    for account in DEFAULT_SERVICE_ACCOUNTS {
        if service_accounts
            .lister()
            .namespaced(name)
            .get(account)
            .is_some()
        {
            continue;
        }
        let object = ServiceAccount {
            metadata: ObjectMeta {
                name: Some(account.to_string()),
                namespace: Some(name.to_string()),
                ..ObjectMeta::default()
            },
            ..ServiceAccount::default()
        };
        match api.create(&object, &PostParams::default()).await {
            Ok(_) => tracing::info!(
                namespace = name,
                serviceaccount = account,
                "created service account"
            ),
            Err(error) if is_already_exists(&error) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(SyncOutcome::Done)
}
