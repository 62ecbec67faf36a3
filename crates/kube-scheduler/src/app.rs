//! Wiring of the daemon: configuration, client, informers, scheduler, secure port and
//! leader election. [`run`] is what `main` calls; [`start`] starts a scheduler against
//! a given client, which the integration tests use.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use client::config::kubeconfig::{ConfigOverrides, load_default, load_from_files};
use client::rest::RestClient;
use tokio::sync::watch;

use crate::api_client::RestClusterClient;
use crate::config::{ConfigError, KubeSchedulerConfiguration, parse_duration};
use crate::informers::{Informers, start_informers};
use crate::leader_election::{LeaderElectionConfig, LeaderElector};
use crate::options::Options;
use crate::plugins::in_tree_registry;
use crate::scheduler::Scheduler;
use crate::server::{ServeError, ServingState, serve};

/// A failure that stops the daemon.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The configuration file is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The kubeconfig could not be loaded or the client built.
    #[error("failed to build the API client: {0}")]
    Client(String),
    /// The secure port could not be served.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// Leadership was lost; upstream exits so a restart re-enters the election.
    #[error("leaderelection lost")]
    LeaderElectionLost,
}

/// A started scheduler.
pub struct RunningScheduler {
    /// The scheduler.
    pub scheduler: Arc<Scheduler>,
    /// The informers feeding it.
    pub informers: Informers,
    /// The scheduler's own task.
    pub task: tokio::task::JoinHandle<()>,
}

/// Starts informers and the scheduler against `client` and waits for the caches to
/// sync. Stops when `cancel` fires.
///
/// # Errors
///
/// [`AppError::Config`] when a profile cannot be built.
pub async fn start(
    config: &KubeSchedulerConfiguration,
    client: RestClient,
    synced: Arc<AtomicBool>,
    cancel: watch::Receiver<bool>,
) -> Result<RunningScheduler, AppError> {
    let cluster_client = Arc::new(RestClusterClient::new(client.clone()));
    let scheduler = Scheduler::new(config, cluster_client, &in_tree_registry())?;
    let informers = start_informers(&client, &scheduler, &cancel);
    if informers.wait_for_cache_sync(&cancel).await {
        synced.store(true, Ordering::SeqCst);
        tracing::info!("informer caches synced");
    }
    let task = tokio::spawn(scheduler.clone().run(cancel));
    Ok(RunningScheduler {
        scheduler,
        informers,
        task,
    })
}

fn build_client(options: &Options, config: &KubeSchedulerConfiguration) -> Result<RestClient, AppError> {
    let path = if options.kubeconfig.is_empty() {
        config.client_connection.kubeconfig.clone()
    } else {
        options.kubeconfig.clone()
    };
    let resolved = if path.is_empty() {
        load_default().map_err(|error| AppError::Client(error.to_string()))?
    } else {
        load_from_files(&[path.clone().into()])
            .and_then(|kubeconfig| kubeconfig.rest_config(&ConfigOverrides::default()))
            .map_err(|error| AppError::Client(format!("{path}: {error}")))?
    };
    let mut rest = resolved.rest;
    rest.qps = config.client_connection.qps.unwrap_or(50.0);
    rest.burst = config.client_connection.burst.unwrap_or(100);
    if rest.user_agent.is_empty() {
        rest.user_agent = "kube-scheduler".to_string();
    }
    RestClient::new(&rest).map_err(|error| AppError::Client(error.to_string()))
}

/// Runs the daemon until `cancel` fires.
///
/// # Errors
///
/// [`AppError`] on bad configuration, an unusable client or port, or lost leadership.
pub async fn run(options: Options, cancel: watch::Receiver<bool>) -> Result<(), AppError> {
    let config = if options.config.is_empty() {
        KubeSchedulerConfiguration::default()
    } else {
        KubeSchedulerConfiguration::from_file(&options.config)?
    };
    let client = build_client(&options, &config)?;

    let synced = Arc::new(AtomicBool::new(false));
    let cluster_client = Arc::new(RestClusterClient::new(client.clone()));
    let scheduler = Scheduler::new(&config, cluster_client, &in_tree_registry())?;
    let state = Arc::new(ServingState {
        metrics: scheduler.metrics.clone(),
        queue: scheduler.queue.clone(),
        synced: synced.clone(),
    });
    let address = SocketAddr::new(options.bind_address, options.secure_port);
    let (_, server_task) = serve(address, state, cancel.clone()).await?;

    let leader_elect = options.leader_elect.unwrap_or(config.leader_election.leader_elect);
    let mut cancel_rx = cancel.clone();
    let elector = if leader_elect {
        let election = &config.leader_election;
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "kube-scheduler".to_string());
        let identity = format!("{host}_{}", std::process::id());
        let elector = LeaderElector::new(
            LeaderElectionConfig {
                lease_namespace: options.leader_elect_resource_namespace.clone(),
                lease_name: options.leader_elect_resource_name.clone(),
                identity,
                lease_duration: parse_duration(&election.lease_duration).unwrap_or(Duration::from_secs(15)),
                renew_deadline: parse_duration(&election.renew_deadline).unwrap_or(Duration::from_secs(10)),
                retry_period: parse_duration(&election.retry_period).unwrap_or(Duration::from_secs(2)),
            },
            client.clone(),
        );
        if !elector.acquire(&mut cancel_rx).await {
            let _ = server_task.await;
            return Ok(());
        }
        Some(elector)
    } else {
        None
    };

    let informers = start_informers(&client, &scheduler, &cancel);
    if informers.wait_for_cache_sync(&cancel).await {
        synced.store(true, Ordering::SeqCst);
        tracing::info!("informer caches synced");
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let scheduler_task = tokio::spawn(scheduler.clone().run(stop_rx));

    let lost = match elector {
        Some(elector) => !elector.renew(&mut cancel_rx).await,
        None => {
            while !*cancel_rx.borrow() {
                if cancel_rx.changed().await.is_err() {
                    break;
                }
            }
            false
        }
    };
    let _ = stop_tx.send(true);
    let _ = scheduler_task.await;
    for task in informers.tasks {
        task.abort();
    }
    server_task.abort();
    if lost {
        return Err(AppError::LeaderElectionLost);
    }
    Ok(())
}
