//! The root CA certificate publisher: keeps a `kube-root-ca.crt` ConfigMap with the
//! cluster CA bundle (`--root-ca-file`) under the key `ca.crt` in every active
//! namespace.
//!
//! Entry point: [`Publisher::new`] and [`Publisher::run`]. A namespace is synced
//! when it appears or changes, and when its ConfigMap changes or is deleted.

use std::collections::BTreeMap;
use std::sync::Arc;

use client::api::{Api, PostParams};
use client::informer::{EventHandlerFuncs, InformerOptions, SharedIndexInformer};
use client::rest::RestClient;
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use tokio::sync::watch;

use crate::context::ControllerContext;
use crate::objectapi::{is_already_exists, is_not_found};
use crate::queueworker::{SyncError, SyncOutcome, new_queue, run_workers, split_key};

/// The name of the published ConfigMap.
pub const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";

/// The data key of the bundle.
pub const DATA_KEY: &str = "ca.crt";

const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

/// The root-ca-cert-publisher controller.
pub struct Publisher {
    client: RestClient,
    root_ca: Option<String>,
    namespaces: SharedIndexInformer<Namespace>,
    config_maps: SharedIndexInformer<ConfigMap>,
    queue: RateLimitingQueue<String>,
}

impl Publisher {
    /// Reads `--root-ca-file` and registers the handlers. Without a readable file the
    /// controller logs why and publishes nothing.
    pub fn new(ctx: &ControllerContext) -> Self {
        let root_ca = match &ctx.options.root_ca_file {
            None => {
                tracing::warn!("root-ca-cert-publisher: no --root-ca-file; nothing to publish");
                None
            }
            Some(path) => match std::fs::read_to_string(path) {
                Ok(bundle) => Some(bundle),
                Err(error) => {
                    tracing::error!(path = %path.display(), %error, "root-ca-cert-publisher: cannot read the root CA file");
                    None
                }
            },
        };
        Self::with_bundle(ctx, root_ca)
    }

    /// Registers the handlers for publishing `root_ca`.
    pub fn with_bundle(ctx: &ControllerContext, root_ca: Option<String>) -> Self {
        let namespaces = ctx.informers.informer::<Namespace>();
        let config_maps = ctx.informers.informer_with::<ConfigMap>(InformerOptions {
            field_selector: Some(format!("metadata.name={ROOT_CA_CONFIGMAP}")),
            ..InformerOptions::default()
        });
        let queue = new_queue("root_ca_cert_publisher");

        let (on_add, on_update) = (queue.clone(), queue.clone());
        let registered = namespaces.add_event_handler(
            EventHandlerFuncs::new()
                .on_add(move |namespace: &Arc<Namespace>, _| {
                    on_add.add(namespace.metadata.name.clone().unwrap_or_default());
                })
                .on_update(move |_, namespace: &Arc<Namespace>| {
                    on_update.add(namespace.metadata.name.clone().unwrap_or_default());
                }),
        );
        if let Err(error) = registered {
            tracing::error!(%error, "root-ca-cert-publisher: cannot watch namespaces");
        }
        let (on_update, on_delete) = (queue.clone(), queue.clone());
        let registered = config_maps.add_event_handler(
            EventHandlerFuncs::new()
                .on_update(move |_, config_map: &Arc<ConfigMap>| {
                    on_update.add(config_map.metadata.namespace.clone().unwrap_or_default());
                })
                .on_delete(move |deleted: client::informer::DeletedObject<ConfigMap>| {
                    let key = deleted.key();
                    on_delete.add(split_key(&key).0.to_string());
                }),
        );
        if let Err(error) = registered {
            tracing::error!(%error, "root-ca-cert-publisher: cannot watch configmaps");
        }

        Self {
            client: ctx.client.clone(),
            root_ca,
            namespaces,
            config_maps,
            queue,
        }
    }

    /// Runs `workers` workers until `cancel` turns true.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        tracing::info!("starting root CA certificate configmap publisher");
        let Some(root_ca) = self.root_ca.clone() else {
            let mut cancel = cancel;
            crate::queueworker::wait_cancelled(&mut cancel).await;
            return;
        };
        if !client::informer::wait_for_cache_sync(
            cancel.clone(),
            &[&self.namespaces, &self.config_maps],
        )
        .await
        {
            return;
        }
        let namespaces = self.namespaces.clone();
        let config_maps = self.config_maps.clone();
        let client = self.client.clone();
        let root_ca = Arc::new(root_ca);
        run_workers("root-ca-cert-publisher", self.queue, workers, cancel, move |name| {
            let (namespaces, config_maps, client, root_ca) =
                (namespaces.clone(), config_maps.clone(), client.clone(), root_ca.clone());
            async move { sync_namespace(&client, &namespaces, &config_maps, &root_ca, &name).await }
        })
        .await;
    }
}

async fn sync_namespace(
    client: &RestClient,
    namespaces: &SharedIndexInformer<Namespace>,
    config_maps: &SharedIndexInformer<ConfigMap>,
    root_ca: &str,
    name: &str,
) -> Result<SyncOutcome, SyncError> {
    let Some(namespace) = namespaces.lister().get(name) else {
        return Ok(SyncOutcome::Done);
    };
    if namespace.metadata.deletion_timestamp.is_some() {
        return Ok(SyncOutcome::Done);
    }
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), name);
    let data = BTreeMap::from([(DATA_KEY.to_string(), root_ca.to_string())]);

    match config_maps.lister().namespaced(name).get(ROOT_CA_CONFIGMAP) {
        None => {
            let object = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(ROOT_CA_CONFIGMAP.to_string()),
                    namespace: Some(name.to_string()),
                    annotations: Some(BTreeMap::from([(
                        DESCRIPTION_ANNOTATION.to_string(),
                        DESCRIPTION.to_string(),
                    )])),
                    ..ObjectMeta::default()
                },
                data: Some(data),
                ..ConfigMap::default()
            };
            match api.create(&object, &PostParams::default()).await {
                Ok(_) => {}
                Err(error) if is_already_exists(&error) || is_not_found(&error) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Some(existing) => {
            let annotated = existing
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(DESCRIPTION_ANNOTATION))
                .is_some();
            if existing.data.as_ref() == Some(&data) && annotated {
                return Ok(SyncOutcome::Done);
            }
            let mut updated = (*existing).clone();
            updated.data = Some(data);
            updated
                .metadata
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(DESCRIPTION_ANNOTATION.to_string(), DESCRIPTION.to_string());
            match api.replace(ROOT_CA_CONFIGMAP, &updated).await {
                Ok(_) => {}
                Err(error) if is_not_found(&error) => {}
                Err(error) => return Err(error.into()),
            }
        }
    }
    Ok(SyncOutcome::Done)
}
