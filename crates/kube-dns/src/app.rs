//! Wires the parts together: the API client, the informers, the store, the DNS
//! server and the health server.
//!
//! Entry points: [`run`] for the binary; [`start`] for tests, which pass their own
//! client and get the bound addresses back.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use client::config::RestConfig;
use client::config::kubeconfig::{ConfigOverrides, Kubeconfig};
use client::informer::SharedInformerFactory;
use client::rest::RestClient;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::health::serve_health;
use crate::options::Options;
use crate::resolver::Resolver;
use crate::server::DnsServer;
use crate::store::ClusterStore;
use crate::watch::{InformerError, Readiness, start_informers};

/// The informers' resync period. The store is fed by events, so resyncs only
/// repeat what it holds; upstream kube-dns uses no resync either.
const RESYNC: Duration = Duration::ZERO;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("failed to load the kubeconfig {path}: {message}")]
    Kubeconfig { path: String, message: String },
    #[error("no --kubeconfig given and not running in a cluster: {0}")]
    NoClientConfig(String),
    #[error("failed to build the API client: {0}")]
    Client(String),
    #[error("invalid --domain: {0}")]
    Domain(String),
    #[error("failed to bind {what} on {address}: {source}")]
    Bind {
        what: &'static str,
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Informer(#[from] InformerError),
}

/// A started server.
pub struct RunningServer {
    /// The DNS address, the same port for UDP and TCP.
    pub dns_address: SocketAddr,
    pub health_address: Option<SocketAddr>,
    pub readiness: Readiness,
    pub store: Arc<ClusterStore>,
    tasks: Vec<JoinHandle<()>>,
    _factory: SharedInformerFactory,
}

impl RunningServer {
    /// Waits until the servers have stopped after `cancel` turned true.
    pub async fn wait(self) {
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Builds the API client configuration from `--kubeconfig`, or the in-cluster
/// service account when none is given.
pub fn rest_config(options: &Options) -> Result<RestConfig, RunError> {
    let mut rest = match &options.kubeconfig {
        Some(path) => load_kubeconfig(path)?,
        None => {
            client::config::in_cluster::in_cluster()
                .map_err(|error| RunError::NoClientConfig(error.to_string()))?
                .rest
        }
    };
    if rest.user_agent.is_empty() {
        rest.user_agent = "kube-dns".to_string();
    }
    Ok(rest)
}

fn load_kubeconfig(path: &Path) -> Result<RestConfig, RunError> {
    let error = |message: String| RunError::Kubeconfig {
        path: path.display().to_string(),
        message,
    };
    let kubeconfig = Kubeconfig::read_file(path).map_err(|e| error(e.to_string()))?;
    let resolved = kubeconfig
        .rest_config(&ConfigOverrides::default())
        .map_err(|e| error(e.to_string()))?;
    Ok(resolved.rest)
}

/// Binds the DNS and health servers, starts the informers and serves until
/// `cancel` turns true. The DNS server answers from the start; names not yet
/// synced get NXDOMAIN until `/readyz` reports ready.
pub async fn start(
    options: &Options,
    client: RestClient,
    cancel: watch::Receiver<bool>,
) -> Result<RunningServer, RunError> {
    let store = Arc::new(ClusterStore::new());
    let resolver = Resolver::new(&options.domain, options.ttl, Arc::clone(&store))
        .map_err(RunError::Domain)?;

    let dns_address = options.dns_address();
    let dns = DnsServer::bind(dns_address, Arc::new(resolver))
        .await
        .map_err(|source| RunError::Bind {
            what: "the DNS server",
            address: dns_address,
            source,
        })?;
    let dns_address = dns.local_addr().map_err(|source| RunError::Bind {
        what: "the DNS server",
        address: dns_address,
        source,
    })?;

    let health = match options.health_address() {
        Some(address) => {
            Some(
                TcpListener::bind(address)
                    .await
                    .map_err(|source| RunError::Bind {
                        what: "the health server",
                        address,
                        source,
                    })?,
            )
        }
        None => None,
    };
    let health_address = health
        .as_ref()
        .and_then(|listener| listener.local_addr().ok());

    let (factory, readiness) = start_informers(client, Arc::clone(&store), RESYNC, cancel.clone())?;

    let mut tasks = vec![tokio::spawn(dns.serve(cancel.clone()))];
    if let Some(listener) = health {
        tasks.push(tokio::spawn(serve_health(
            listener,
            readiness.clone(),
            cancel,
        )));
    }
    Ok(RunningServer {
        dns_address,
        health_address,
        readiness,
        store,
        tasks,
        _factory: factory,
    })
}

/// Runs the server of the binary until `cancel` turns true.
pub async fn run(options: Options, cancel: watch::Receiver<bool>) -> Result<(), RunError> {
    let rest = rest_config(&options)?;
    let client = RestClient::new(&rest).map_err(|error| RunError::Client(error.to_string()))?;
    tracing::info!(
        domain = %options.domain,
        address = %options.dns_address(),
        api_server = %rest.host,
        "starting kube-dns"
    );
    let server = start(&options, client, cancel).await?;
    server.wait().await;
    Ok(())
}
