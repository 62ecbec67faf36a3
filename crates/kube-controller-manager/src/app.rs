//! The controller manager's run sequence: client from `--kubeconfig`, secure
//! endpoint, leader election, then every enabled controller.
//!
//! Entry point: [`run`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use client::config::RestConfig;
use client::config::kubeconfig::{ConfigOverrides, Kubeconfig};
use client::leaderelection::{LeaderCallbacks, LeaderElectionConfig, LeaderElector};
use client::rest::RestClient;
use tokio::sync::watch;

use crate::context::ControllerContext;
use crate::options::ControllerManagerOptions;
use crate::registry::start_controllers;
use crate::server::{self, Health};

/// A failure that stops the controller manager.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("failed to load the client configuration: {0}")]
    Config(String),
    #[error("failed to build the API client: {0}")]
    Client(#[from] client::rest::ClientError),
    #[error(transparent)]
    Serve(#[from] server::ServeError),
    /// The renewal of the leader lease missed its deadline; upstream exits too, so
    /// that a supervisor restarts the process as a fresh candidate.
    #[error("leader election lost")]
    LeadershipLost,
}

/// Builds the client configuration from `--kubeconfig`, or the in-cluster
/// environment without it, with `--kube-api-qps` and `--kube-api-burst`.
///
/// # Errors
/// [`RunError::Config`] when the file or environment cannot be used.
pub fn rest_config(options: &ControllerManagerOptions) -> Result<RestConfig, RunError> {
    let mut config = match &options.kubeconfig {
        Some(path) => {
            let mut kubeconfig =
                Kubeconfig::read_file(path).map_err(|err| RunError::Config(err.to_string()))?;
            if let Some(base) = path.parent() {
                kubeconfig.resolve_local_paths(base);
            }
            kubeconfig
                .rest_config(&ConfigOverrides::default())
                .map_err(|err| RunError::Config(err.to_string()))?
                .rest
        }
        None => {
            client::config::in_cluster::in_cluster()
                .map_err(|err| {
                    RunError::Config(format!("{err} (pass --kubeconfig outside a cluster)"))
                })?
                .rest
        }
    };
    config.qps = options.kube_api_qps;
    config.burst = options.kube_api_burst;
    if config.user_agent.is_empty() {
        config.user_agent = format!("kube-controller-manager/v{}", env!("CARGO_PKG_VERSION"));
    }
    Ok(config)
}

/// How often the heap is checked for freed memory to return.
const HEAP_TRIM_PERIOD: Duration = Duration::from_secs(10);

/// Returns freed heap pages to the system every [`HEAP_TRIM_PERIOD`] in which
/// enough objects were decoded: controllers' reads of packed caches decode objects
/// and drop them soon after, and glibc keeps the freed memory otherwise.
async fn trim_heap(mut cancel: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(HEAP_TRIM_PERIOD) => client::cache::trim_heap_if_due(),
            _ = cancel.changed() => return,
        }
    }
}

/// Runs the controller manager until `cancel` fires.
///
/// # Errors
/// [`RunError`] when the client or the secure endpoint cannot be set up.
pub async fn run(
    options: ControllerManagerOptions,
    cancel: watch::Receiver<bool>,
) -> Result<(), RunError> {
    options.warn_ignored();
    let options = Arc::new(options);
    let client = RestClient::new(&rest_config(&options)?)?;

    let health = Arc::new(Health::default());
    if options.secure_port != 0 {
        let address = SocketAddr::new(options.bind_address, options.secure_port);
        server::serve(address, Arc::clone(&health), cancel.clone()).await?;
    }

    let ctx = ControllerContext::new(client.clone(), Arc::clone(&options));
    let run_controllers = move |cancel: watch::Receiver<bool>| async move {
        tokio::spawn(trim_heap(cancel.clone()));
        let started = start_controllers(&ctx, cancel.clone());
        tracing::info!(controllers = ?started, "started controllers");
        if ctx.informers.wait_for_cache_sync(cancel.clone()).await {
            health.ready.store(true, Ordering::Release);
            tracing::info!("caches synced");
        }
        wait_for_cancel(cancel).await;
    };

    if !options.leader_elect {
        run_controllers(cancel).await;
        tracing::info!("shutting down");
        return Ok(());
    }

    let identity = format!("{}_{}", hostname(), uuid::Uuid::new_v4());
    let mut config = LeaderElectionConfig::new(
        &options.leader_elect_resource_namespace,
        &options.leader_elect_resource_name,
        &identity,
    );
    config.lease_duration = options.leader_elect_lease_duration;
    config.renew_deadline = options.leader_elect_renew_deadline;
    config.retry_period = options.leader_elect_retry_period;
    config.release_on_cancel = true;
    let elector = LeaderElector::new(config, client)?;
    tracing::info!(identity = %identity, lease = %format!("{}/{}", options.leader_elect_resource_namespace, options.leader_elect_resource_name), "attempting to acquire the leader lease");
    let callbacks = LeaderCallbacks::new(run_controllers, || {
        tracing::info!("stopped leading");
    })
    .on_new_leader(|leader| tracing::info!(leader, "new leader elected"));
    elector.run(callbacks, cancel.clone()).await;
    if *cancel.borrow() {
        tracing::info!("shutting down");
        return Ok(());
    }
    Err(RunError::LeadershipLost)
}

async fn wait_for_cancel(mut cancel: watch::Receiver<bool>) {
    while !*cancel.borrow() {
        if cancel.changed().await.is_err() {
            break;
        }
    }
}

/// Returns the host name for the leader election identity.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string())
}
