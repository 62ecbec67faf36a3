//! Wiring of the whole server from its [`Options`]: the storage backend, one store
//! per served resource, discovery, health checks, the bootstrap objects, the
//! compactor, and the secure listener. Enter through [`run`] or, in tests, through
//! [`start`], which returns once the server is listening.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use apimachinery::scheme::RESOURCES;
use storage::Backend;
use storage::embedded::{EmbeddedBackend, EmbeddedOptions};
use storage::etcd3::{Etcd3Backend, Etcd3Options};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::admission::{BuiltinAdmission, IMPLEMENTED};
use crate::bootstrap;
use crate::certs;
use crate::discovery::{Discovery, ServedResource};
use crate::endpoints::Handler;
use crate::endpoints::proxy::{DEFAULT_PREFERRED_ADDRESS_TYPES, KubeletClient};
use crate::health::{Check, HealthEndpoint};
use crate::metrics::Metrics;
use crate::options::Options;
use crate::registry::allocator::{Allocator, Range};
use crate::registry::builtin::strategy_for;
use crate::registry::hooks::ServiceHooks;
use crate::registry::store::Store;
use crate::serviceaccount::TokenSigner;

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("failed to open storage: {0}")]
    Storage(#[from] storage::Error),
    #[error(transparent)]
    Certificate(#[from] certs::CertError),
    #[error("invalid flag {flag}: {message}")]
    InvalidFlag { flag: &'static str, message: String },
    #[error("invalid kubelet client configuration: {0}")]
    KubeletClient(#[from] crate::endpoints::proxy::KubeletClientError),
    #[error("failed to listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
}

/// A started server.
pub struct RunningServer {
    /// The address the secure port listens on (useful with `--secure-port=0`).
    pub address: SocketAddr,
    /// The serving certificate, for clients that must trust it.
    pub certificate: certs::ServingCertificate,
    /// The storage backend, for tests that compact or inspect storage directly.
    pub backend: Arc<dyn Backend>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// Stops accepting connections and waits for the listener to stop.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Starts the server and runs it until SIGTERM or SIGINT.
pub async fn run(options: Options) -> Result<(), StartError> {
    let server = start(options).await?;
    wait_for_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(error) => {
            tracing::warn!(error = %error, "cannot watch SIGTERM; waiting for SIGINT only");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Starts every part of the server and returns once it listens.
pub async fn start(options: Options) -> Result<RunningServer, StartError> {
    options.warn_ignored();
    // Build the OpenAPI documents off the request path; the first kubectl call needs them.
    tokio::task::spawn_blocking(|| {
        crate::openapi::OpenApi::shared();
    });
    let backend = open_backend(&options).await?;
    let metrics = Arc::new(Metrics::new());

    let mut stores = HashMap::new();
    let mut served = Vec::new();
    for info in RESOURCES {
        if info.storage_path.is_none() {
            // Probed on request rather than stored; see endpoints::component_status.
            if info.group.is_empty() && info.resource == "componentstatuses" {
                served.push(ServedResource {
                    info,
                    subresources: Vec::new(),
                });
            }
            continue;
        }
        // A resource stored in another version is served through a converter over
        // the storage kind's strategy.
        let converter = if info.storage_gvk() == info.gvk() {
            None
        } else {
            match crate::registry::conversion::converter_for(info) {
                Some(converter) => Some(converter),
                None => continue,
            }
        };
        let storage = info.storage_gvk();
        let storage_resource = if storage.group.is_empty() && storage.kind == "Event" {
            "events"
        } else {
            info.resource
        };
        let Some(strategy) = strategy_for(&storage.group, &storage.version, storage_resource)
        else {
            continue;
        };
        let mut store = Store::new(info, strategy, backend.clone(), &options.etcd_prefix);
        if let Some(converter) = converter {
            let served_strategy = strategy_for(info.group, info.version, info.resource);
            store = store.with_converter(converter, served_strategy);
        }
        if info.group.is_empty() && info.resource == "services" {
            store = store.with_hooks(service_hooks(&options, backend.clone())?);
        }
        if info.group.is_empty() && info.resource == "namespaces" {
            store = store.with_hooks(Arc::new(crate::registry::hooks::NamespaceHooks));
        }
        let store = Arc::new(store);
        stores.insert(
            (
                info.group.to_string(),
                info.version.to_string(),
                info.resource.to_string(),
            ),
            store,
        );
        let subresources = info
            .subresources
            .iter()
            .map(|sub| sub.name)
            .filter(|name| {
                matches!(*name, "status" | "approval" | "ephemeralcontainers")
                    || crate::endpoints::subresources::served(info.group, info.resource)
                        .contains(name)
                    || crate::endpoints::proxy::served(info.group, info.resource).contains(name)
            })
            .collect();
        served.push(ServedResource { info, subresources });
    }
    tracing::info!(resources = stores.len(), "registered resources");

    let listen_address = SocketAddr::new(options.bind_address, options.secure_port);
    let listener =
        TcpListener::bind(listen_address)
            .await
            .map_err(|source| StartError::Listen {
                address: listen_address,
                source,
            })?;
    let address = listener.local_addr().map_err(|source| StartError::Listen {
        address: listen_address,
        source,
    })?;
    let advertise = SocketAddr::new(options.advertise_address(), address.port());

    let certificate = certs::serving_certificate(
        options.tls_cert_file.as_deref(),
        options.tls_private_key_file.as_deref(),
        &options.cert_dir,
        &[options.advertise_address()],
        &[
            "kubernetes".to_string(),
            "kubernetes.default".to_string(),
            "kubernetes.default.svc".to_string(),
        ],
    )?;
    let tls = certs::server_config(&certificate)?;

    let discovery = Discovery::new(&served, &advertise.to_string());
    let bootstrap_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (healthz, livez, readyz) =
        health_endpoints(backend.clone(), &stores, bootstrap_done.clone());

    let mut handler = Handler::new(
        stores.clone(),
        discovery,
        healthz,
        livez,
        readyz,
        metrics,
        options.max_requests_inflight,
        options.max_mutating_requests_inflight,
    );
    handler.kubelet = Some(Arc::new(kubelet_client(&options)?));
    let signer = Arc::new(token_signer(&options)?);
    handler.openid_metadata = crate::serviceaccount::OpenIdMetadata::new(
        &signer,
        options.service_account_jwks_uri.as_deref(),
        advertise,
    );
    handler.token_signer = Some(signer);
    let components = options.component_status_targets.clone().unwrap_or_else(|| {
        crate::endpoints::component_status::default_components(!options.etcd_endpoints().is_empty())
    });
    handler.component_statuses = Some(Arc::new(
        crate::endpoints::component_status::ComponentStatuses::new(
            components,
            backend.clone(),
            crate::endpoints::proxy::unverified_connector(),
        ),
    ));
    let store_of = |group: &str, resource: &str| {
        stores
            .iter()
            .find(|((store_group, _, store_resource), _)| {
                store_group == group && store_resource == resource
            })
            .map(|(_, store)| store.clone())
    };
    handler.chain.admission = Box::new(BuiltinAdmission::new(
        &options.disable_admission_plugins,
        store_of("", "serviceaccounts"),
        store_of("scheduling.k8s.io", "priorityclasses"),
        options.default_not_ready_toleration_seconds,
        options.default_unreachable_toleration_seconds,
    ));
    warn_unimplemented_admission(&options);
    let handler = Arc::new(handler);

    let (shutdown, shutdown_receiver) = watch::channel(false);
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(crate::server::serve(
        listener,
        tls,
        handler,
        shutdown_receiver.clone(),
    )));
    tracing::info!(address = %address, "serving securely");

    let bootstrap_stores = stores.clone();
    let kubernetes_service = bootstrap::KubernetesService {
        cluster_ip: first_service_ip(&options)?,
        endpoint_ip: options.advertise_address().to_string(),
        port: address.port(),
    };
    tokio::spawn(async move {
        bootstrap::run(&bootstrap_stores, &kubernetes_service).await;
        bootstrap_done.store(true, std::sync::atomic::Ordering::SeqCst);
    });

    if !options.etcd_compaction_interval.is_zero() {
        tasks.push(tokio::spawn(compactor(
            backend.clone(),
            options.etcd_compaction_interval,
            shutdown_receiver,
        )));
    }

    Ok(RunningServer {
        address,
        certificate,
        backend,
        shutdown,
        tasks,
    })
}

fn service_hooks(
    options: &Options,
    backend: Arc<dyn Backend>,
) -> Result<Arc<ServiceHooks>, StartError> {
    let ip_range = Range::parse_cidr(&options.service_cluster_ip_range).map_err(|message| {
        StartError::InvalidFlag {
            flag: "--service-cluster-ip-range",
            message,
        }
    })?;
    let port_range = Range::parse_ports(&options.service_node_port_range).map_err(|message| {
        StartError::InvalidFlag {
            flag: "--service-node-port-range",
            message,
        }
    })?;
    let prefix = options.etcd_prefix.trim_end_matches('/');
    let family = if options.service_cluster_ip_range.contains(':') {
        "IPv6"
    } else {
        "IPv4"
    };
    Ok(ServiceHooks::new(
        Allocator::new(
            backend.clone(),
            format!("{prefix}/ranges/serviceips"),
            ip_range,
            "IP",
        ),
        Allocator::new(
            backend,
            format!("{prefix}/ranges/servicenodeports"),
            port_range,
            "port",
        ),
        family,
    ))
}

/// Returns the first address of the service range: the `kubernetes` Service's IP.
/// Loads `--service-account-signing-key-file`, or generates a key without it.
fn token_signer(options: &Options) -> Result<TokenSigner, StartError> {
    let issuer = options.service_account_issuer.as_str();
    match &options.service_account_signing_key_file {
        Some(path) => TokenSigner::load(path, issuer).map_err(|error| StartError::InvalidFlag {
            flag: "--service-account-signing-key-file",
            message: error.to_string(),
        }),
        None => {
            tracing::warn!(
                "no --service-account-signing-key-file: service account tokens are signed with a key generated for this run"
            );
            Ok(TokenSigner::generate(issuer))
        }
    }
}

fn warn_unimplemented_admission(options: &Options) {
    let requested = options.enable_admission_plugins.as_deref().unwrap_or("");
    for plugin in requested
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        if !IMPLEMENTED.contains(&plugin) {
            tracing::warn!(plugin, "admission plugin not implemented; it has no effect");
        }
    }
}

/// Builds the client for connect subresources from the `--kubelet-*` flags.
fn kubelet_client(options: &Options) -> Result<KubeletClient, StartError> {
    if options.kubelet_client_certificate.is_some() != options.kubelet_client_key.is_some() {
        return Err(StartError::InvalidFlag {
            flag: "--kubelet-client-certificate",
            message: "--kubelet-client-certificate and --kubelet-client-key must be given together"
                .to_string(),
        });
    }
    Ok(KubeletClient::new(
        options.kubelet_client_certificate.as_deref(),
        options.kubelet_client_key.as_deref(),
        options.kubelet_certificate_authority.as_deref(),
        options
            .kubelet_preferred_address_types
            .as_deref()
            .unwrap_or(DEFAULT_PREFERRED_ADDRESS_TYPES),
    )?)
}

fn first_service_ip(options: &Options) -> Result<String, StartError> {
    Range::parse_cidr(&options.service_cluster_ip_range)
        .map(|range| range.first_value())
        .map_err(|message| StartError::InvalidFlag {
            flag: "--service-cluster-ip-range",
            message,
        })
}

async fn open_backend(options: &Options) -> Result<Arc<dyn Backend>, StartError> {
    let endpoints = options.etcd_endpoints();
    if endpoints.is_empty() {
        let path = options.data_dir.join("registry.redb");
        tracing::info!(path = %path.display(), cache_bytes = options.embedded_store_cache_bytes,
            "using the embedded store");
        let embedded_options = EmbeddedOptions {
            cache_size_bytes: options.embedded_store_cache_bytes,
            ..EmbeddedOptions::default()
        };
        let backend = EmbeddedBackend::open_with_options(&path, embedded_options).await?;
        return Ok(Arc::new(backend));
    }
    let tls = options
        .etcd_tls()
        .map_err(|message| StartError::InvalidFlag {
            flag: "--etcd-cafile",
            message,
        })?;
    tracing::info!(endpoints = ?endpoints, tls = tls.is_some(), "using etcd");
    let etcd_options = Etcd3Options {
        tls,
        ..Etcd3Options::default()
    };
    let backend = Etcd3Backend::connect(&endpoints, etcd_options).await?;
    Ok(Arc::new(backend))
}

fn health_endpoints(
    backend: Arc<dyn Backend>,
    stores: &HashMap<(String, String, String), Arc<Store>>,
    bootstrap_done: Arc<std::sync::atomic::AtomicBool>,
) -> (HealthEndpoint, HealthEndpoint, HealthEndpoint) {
    let storage_check = |backend: Arc<dyn Backend>| {
        Check::new("etcd", move || {
            let backend = backend.clone();
            async move {
                match tokio::time::timeout(Duration::from_secs(2), backend.current_revision()).await
                {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(error)) => Err(error.to_string()),
                    Err(_) => Err("storage did not answer within 2s".to_string()),
                }
            }
        })
    };
    let bootstrap_check = |done: Arc<std::sync::atomic::AtomicBool>| {
        Check::new("poststarthook/bootstrap-controller", move || {
            let done = done.clone();
            async move {
                if done.load(std::sync::atomic::Ordering::SeqCst) {
                    Ok(())
                } else {
                    Err("default namespaces and services are not created yet".to_string())
                }
            }
        })
    };
    let cachers: Vec<_> = stores
        .values()
        .map(|store| store.cacher().clone())
        .collect();
    let cache_check = Check::new("informer-sync", move || {
        let not_ready = cachers.iter().filter(|cacher| !cacher.is_ready()).count();
        async move {
            if not_ready == 0 {
                Ok(())
            } else {
                Err(format!("{not_ready} watch caches are not ready"))
            }
        }
    });

    let healthz = HealthEndpoint {
        name: "healthz",
        checks: vec![
            Check::ping(),
            Check::new("log", || async { Ok(()) }),
            storage_check(backend.clone()),
            bootstrap_check(bootstrap_done.clone()),
        ],
    };
    let livez = HealthEndpoint {
        name: "livez",
        checks: vec![
            Check::ping(),
            Check::new("log", || async { Ok(()) }),
            storage_check(backend.clone()),
            bootstrap_check(bootstrap_done.clone()),
        ],
    };
    let readyz = HealthEndpoint {
        name: "readyz",
        checks: vec![
            Check::ping(),
            Check::new("log", || async { Ok(()) }),
            storage_check(backend),
            cache_check,
            bootstrap_check(bootstrap_done),
            Check::new("shutdown", || async { Ok(()) }),
        ],
    };
    (healthz, livez, readyz)
}

/// Compacts storage history every `interval`, to the revision seen one interval
/// before, as upstream's compactor does so that watches have one interval of history.
async fn compactor(
    backend: Arc<dyn Backend>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut previous: Option<i64> = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
        if let Some(revision) = previous
            && revision > 0
        {
            match backend.compact(revision).await {
                Ok(()) => tracing::info!(revision, "compacted storage"),
                Err(storage::Error::Compacted { .. }) => {}
                Err(error) => tracing::warn!(revision, error = %error, "storage compaction failed"),
            }
        }
        previous = backend.current_revision().await.ok();
    }
}
