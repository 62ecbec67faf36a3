//! Node IPAM: the range allocator gives every node a `spec.podCIDR` (and
//! `spec.podCIDRs`) carved from `--cluster-cidr` with `--node-cidr-mask-size`, when
//! `--allocate-node-cidrs` is set.
//!
//! Entry point: [`NodeIpamController::new`] and [`NodeIpamController::run`]; the
//! bookkeeping is [`cidrset::CidrSet`]. At start every existing podCIDR is
//! occupied; a deleted node's range is released.

pub mod cidrset;

use std::sync::{Arc, Mutex};

use client::api::Api;
use client::informer::{DeletedObject, EventHandlerFuncs, SharedIndexInformer};
use client::rest::{PatchType, RestClient};
use client::workqueue::RateLimitingQueue;
use k8s_openapi::api::core::v1::Node;
use tokio::sync::watch;

use crate::context::ControllerContext;
use crate::objectapi::is_not_found;
use crate::queueworker::{SyncError, SyncOutcome, new_queue, run_workers};
use cidrset::{Cidr, CidrSet};

/// The node IPAM controller with the range allocator.
pub struct NodeIpamController {
    client: RestClient,
    nodes: SharedIndexInformer<Node>,
    queue: RateLimitingQueue<String>,
    set: Option<Arc<Mutex<CidrSet>>>,
}

/// Returns `--node-cidr-mask-size`, or its upstream default for the family of the
/// cluster CIDR (24 for IPv4, 64 for IPv6).
fn node_mask_size(ctx: &ControllerContext, cluster: &Cidr) -> u8 {
    let default = if cluster.ipv6 { 64 } else { 24 };
    ctx.options.node_cidr_mask_size.unwrap_or(default)
}

fn node_cidrs(node: &Node) -> Vec<String> {
    let spec = node.spec.as_ref();
    let mut cidrs: Vec<String> = spec.and_then(|s| s.pod_cidrs.clone()).unwrap_or_default();
    if cidrs.is_empty()
        && let Some(cidr) = spec.and_then(|s| s.pod_cidr.clone())
    {
        cidrs.push(cidr);
    }
    cidrs
}

impl NodeIpamController {
    /// Builds the CIDR set from the options and registers the node handlers. With
    /// `--allocate-node-cidrs` off, or an unusable `--cluster-cidr` (logged), the
    /// controller allocates nothing.
    pub fn new(ctx: &ControllerContext) -> Self {
        let nodes = ctx.informers.informer::<Node>();
        let queue = new_queue("node_ipam");
        let set = if ctx.options.allocate_node_cidrs {
            match ctx.options.cluster_cidr.as_deref().map(Cidr::parse) {
                None => {
                    tracing::error!("--allocate-node-cidrs is set but --cluster-cidr is empty");
                    None
                }
                Some(Err(error)) => {
                    tracing::error!(%error, "invalid --cluster-cidr");
                    None
                }
                Some(Ok(cidr)) => match CidrSet::new(cidr, node_mask_size(ctx, &cidr)) {
                    Ok(set) => Some(Arc::new(Mutex::new(set))),
                    Err(error) => {
                        tracing::error!(%error, "cannot carve node ranges from --cluster-cidr");
                        None
                    }
                },
            }
        } else {
            None
        };

        if let Some(set) = &set {
            let (on_add, on_update) = (queue.clone(), queue.clone());
            let release = set.clone();
            let registered = nodes.add_event_handler(
                EventHandlerFuncs::new()
                    .on_add(move |node: &Arc<Node>, _| {
                        on_add.add(node.metadata.name.clone().unwrap_or_default())
                    })
                    .on_update(move |_, node: &Arc<Node>| {
                        if node_cidrs(node).is_empty() {
                            on_update.add(node.metadata.name.clone().unwrap_or_default());
                        }
                    })
                    .on_delete(move |deleted: DeletedObject<Node>| {
                        let Some(node) = deleted.object() else { return };
                        let mut set = release.lock().unwrap_or_else(|p| p.into_inner());
                        for cidr in node_cidrs(node) {
                            if let Ok(parsed) = Cidr::parse(&cidr)
                                && set.release(&parsed).is_ok()
                            {
                                tracing::info!(
                                    node = node.metadata.name.as_deref().unwrap_or_default(),
                                    cidr,
                                    "released node CIDR"
                                );
                            }
                        }
                    }),
            );
            if let Err(error) = registered {
                tracing::error!(%error, "node ipam controller: cannot watch nodes");
            }
        }
        Self {
            client: ctx.client.clone(),
            nodes,
            queue,
            set,
        }
    }

    /// Runs `workers` workers until `cancel` turns true.
    pub async fn run(self, workers: usize, cancel: watch::Receiver<bool>) {
        tracing::info!("starting node ipam controller");
        let Some(set) = self.set.clone() else {
            let mut cancel = cancel;
            crate::queueworker::wait_cancelled(&mut cancel).await;
            return;
        };
        if !client::informer::wait_for_cache_sync(cancel.clone(), &[&self.nodes]).await {
            return;
        }
        // Occupy every range already assigned before handing out new ones.
        for node in self.nodes.lister().list() {
            for cidr in node_cidrs(&node) {
                let occupied = Cidr::parse(&cidr).and_then(|parsed| {
                    set.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .occupy(&parsed)
                });
                if let Err(error) = occupied {
                    tracing::warn!(node = node.metadata.name.as_deref().unwrap_or_default(), cidr, %error, "node CIDR not in the cluster CIDR");
                }
            }
        }
        let (nodes, client) = (self.nodes.clone(), self.client.clone());
        run_workers("nodeipam", self.queue, workers, cancel, move |name| {
            let (nodes, client, set) = (nodes.clone(), client.clone(), set.clone());
            async move { allocate(&client, &nodes, &set, &name).await }
        })
        .await;
    }
}

async fn allocate(
    client: &RestClient,
    nodes: &SharedIndexInformer<Node>,
    set: &Mutex<CidrSet>,
    name: &str,
) -> Result<SyncOutcome, SyncError> {
    let Some(node) = nodes.lister().get(name) else {
        return Ok(SyncOutcome::Done);
    };
    if !node_cidrs(&node).is_empty() {
        for cidr in node_cidrs(&node) {
            if let Ok(parsed) = Cidr::parse(&cidr) {
                let _ = set
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .occupy(&parsed);
            }
        }
        return Ok(SyncOutcome::Done);
    }
    let cidr = set
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .allocate_next()?;
    let text = cidr.to_string();
    let api: Api<Node> = Api::all(client.clone());
    let patch = serde_json::json!({"spec": {"podCIDR": text, "podCIDRs": [text]}});
    match api.patch(name, PatchType::Merge, &patch).await {
        Ok(_) => {
            tracing::info!(node = name, cidr = text, "assigned node pod CIDR");
            Ok(SyncOutcome::Done)
        }
        Err(error) => {
            let _ = set.lock().unwrap_or_else(|p| p.into_inner()).release(&cidr);
            if is_not_found(&error) {
                Ok(SyncOutcome::Done)
            } else {
                Err(error.into())
            }
        }
    }
}
