//! Wiring of the daemon: configuration, client, informers, scheduler, secure port and
//! leader election. [`run`] is what `main` calls; [`start`] starts a scheduler against
//! a given client, which the integration tests use.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use client::config::kubeconfig::{ConfigOverrides, load_default, load_from_files};
use client::leaderelection::{LeaderCallbacks, LeaderElectionConfig, LeaderElector};
use client::rest::RestClient;
use tokio::sync::watch;

use crate::api_client::RestClusterClient;
use crate::config::{ConfigError, KubeSchedulerConfiguration, parse_duration};
use crate::informers::{Informers, start_informers};
use crate::options::{Options, PolicySource};
use crate::plugins::in_tree_registry;
use crate::policy::{POLICY_CONFIG_MAP_KEY, Policy, apply_policy};
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
    /// The legacy scheduler Policy could not be read or applied.
    #[error("failed to load the scheduler Policy: {0}")]
    Policy(String),
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

fn build_client(
    options: &Options,
    config: &KubeSchedulerConfiguration,
) -> Result<RestClient, AppError> {
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
    let mut config = if options.config.is_empty() {
        KubeSchedulerConfiguration::default()
    } else {
        KubeSchedulerConfiguration::from_file(&options.config)?
    };
    let client = build_client(&options, &config)?;
    if let Some(source) = options.policy_source().map_err(AppError::Policy)? {
        load_policy(&source, &client, &mut config).await?;
    }

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

    let leader_elect = options
        .leader_elect
        .unwrap_or(config.leader_election.leader_elect);
    if !leader_elect {
        lead(client, scheduler, synced, cancel).await;
        server_task.abort();
        return Ok(());
    }

    let election = &config.leader_election;
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "kube-scheduler".to_string());
    let identity = format!("{host}_{}", std::process::id());
    let duration =
        |text: &str, default: u64| parse_duration(text).unwrap_or(Duration::from_secs(default));
    let elector = LeaderElector::new(
        LeaderElectionConfig {
            lease_duration: duration(&election.lease_duration, 15),
            renew_deadline: duration(&election.renew_deadline, 10),
            retry_period: duration(&election.retry_period, 2),
            ..LeaderElectionConfig::new(
                &options.leader_elect_resource_namespace,
                &options.leader_elect_resource_name,
                &identity,
            )
        },
        client.clone(),
    )
    .map_err(|error| AppError::Client(error.to_string()))?;
    let callbacks = LeaderCallbacks::new(
        move |leading| lead(client, scheduler, synced, leading),
        || tracing::info!("stopped leading"),
    );
    elector.run(callbacks, cancel.clone()).await;
    server_task.abort();
    if *cancel.borrow() {
        Ok(())
    } else {
        Err(AppError::LeaderElectionLost)
    }
}

/// Reads the legacy scheduler Policy from `source` and applies it to the only profile
/// of `config`.
///
/// # Errors
///
/// [`AppError::Policy`] when the file or ConfigMap cannot be read, the Policy is
/// invalid, or the configuration has several profiles.
pub async fn load_policy(
    source: &PolicySource,
    client: &RestClient,
    config: &mut KubeSchedulerConfiguration,
) -> Result<(), AppError> {
    let text = match source {
        PolicySource::File(path) => std::fs::read_to_string(path)
            .map_err(|error| AppError::Policy(format!("reading {path}: {error}")))?,
        PolicySource::ConfigMap { namespace, name } => {
            let path = format!("/api/v1/namespaces/{namespace}/configmaps/{name}");
            let config_map: serde_json::Value =
                client.get(&path).request_json().await.map_err(|error| {
                    AppError::Policy(format!(
                        "couldn't get policy config map {namespace}/{name}: {error}"
                    ))
                })?;
            config_map["data"][POLICY_CONFIG_MAP_KEY]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| {
                    AppError::Policy(format!(
                        "missing policy config map value at key {POLICY_CONFIG_MAP_KEY:?}"
                    ))
                })?
        }
    };
    let policy = Policy::from_text(&text).map_err(|error| AppError::Policy(error.to_string()))?;
    let [profile] = config.profiles.as_mut_slice() else {
        return Err(AppError::Policy(format!(
            "a Policy applies to exactly one profile, the configuration has {}",
            config.profiles.len()
        )));
    };
    apply_policy(&policy, profile).map_err(|error| AppError::Policy(error.to_string()))?;
    tracing::warn!(
        source = ?source,
        "using the legacy scheduler Policy, which Kubernetes removed in 1.23; it is accepted for compatibility with the 1.18 design"
    );
    Ok(())
}

/// Runs the informers and the scheduler until `stop` fires (cancellation or lost
/// leadership).
async fn lead(
    client: RestClient,
    scheduler: Arc<Scheduler>,
    synced: Arc<AtomicBool>,
    stop: watch::Receiver<bool>,
) {
    let informers = start_informers(&client, &scheduler, &stop);
    if informers.wait_for_cache_sync(&stop).await {
        synced.store(true, Ordering::SeqCst);
        tracing::info!("informer caches synced");
    }
    scheduler.run(stop).await;
    drop(informers);
}
