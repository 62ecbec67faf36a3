//! Wiring of the kube-proxy daemon: picks the proxy mode, starts the health and
//! metrics servers, connects Service and EndpointSlice informers to the proxier and
//! runs its sync loop.
//!
//! Entry point: [`run`]. [`start_informers`] is public so that tests can drive a
//! proxier from a real API server.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use client::config::RestConfig;
use client::config::kubeconfig::{ConfigOverrides, Kubeconfig};
use client::informer::{EventHandlerFuncs, InformerOptions, SharedInformerFactory};
use client::rest::RestClient;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use tokio::sync::watch;

use crate::exec::{CommandExecutor, Executor};
use crate::health::{self, Endpoints, ProxierHealth};
use crate::iptables::ruleset::RulesConfig;
use crate::iptables::{Proxier, ProxierConfig};
use crate::ipvs::device::Rtnetlink;
use crate::ipvs::netlink::{IpvsError, IpvsHandle, NetlinkIpvs};
use crate::ipvs::{IpvsConfig, IpvsProxier};
use crate::metrics::ProxyMetrics;
use crate::net::{Cidr, IpFamily};
use crate::options::{ProxyConfig, ProxyMode};
use crate::provider::Provider;
use crate::userspace::{UserspaceConfig, UserspaceProxier};

/// Upstream's selector: skip objects that another service proxy implements, and
/// headless services.
pub const PROXY_LABEL_SELECTOR: &str =
    "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless";

/// A failure that stops the daemon.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("failed to load the kubeconfig {path}: {message}")]
    Kubeconfig { path: String, message: String },
    #[error("no --kubeconfig given and not running in a cluster: {0}")]
    NoClientConfig(String),
    #[error("failed to build the API client: {0}")]
    Client(String),
    #[error("failed to determine the node name: {0}")]
    Hostname(#[source] std::io::Error),
    #[error("cannot start the IPVS proxier: {0}")]
    Ipvs(#[from] IpvsError),
    #[error("failed to start the {server} server on {address}: {source}")]
    Serve {
        server: &'static str,
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to register an informer event handler: {0}")]
    Handler(#[source] std::io::Error),
    #[error("cleanup did not finish; see the log for the steps that failed")]
    Cleanup,
}

/// Returns the node name: `--hostname-override`, else the kernel's hostname, lowercased.
pub fn node_name(config: &ProxyConfig) -> Result<String, RunError> {
    if !config.hostname_override.trim().is_empty() {
        return Ok(config.hostname_override.trim().to_lowercase());
    }
    let hostname =
        std::fs::read_to_string("/proc/sys/kernel/hostname").map_err(RunError::Hostname)?;
    Ok(hostname.trim().to_lowercase())
}

/// Builds the API client configuration from `--kubeconfig`, or the in-cluster
/// service account when none is given.
pub fn rest_config(config: &ProxyConfig) -> Result<RestConfig, RunError> {
    let mut rest = match &config.kubeconfig {
        Some(path) => load_kubeconfig(path)?,
        None => {
            client::config::in_cluster::in_cluster()
                .map_err(|error| RunError::NoClientConfig(error.to_string()))?
                .rest
        }
    };
    rest.qps = config.qps;
    rest.burst = config.burst;
    if rest.user_agent.is_empty() {
        rest.user_agent = "kube-proxy".to_string();
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

/// Lists the local addresses of all interfaces in the calling thread's network
/// namespace.
pub fn local_addresses() -> std::io::Result<Vec<IpAddr>> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list freed below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut addresses = Vec::new();
    let mut cursor = list;
    while !cursor.is_null() {
        // SAFETY: cursor walks the list getifaddrs returned; each entry is valid until freeifaddrs.
        let entry = unsafe { &*cursor };
        if !entry.ifa_addr.is_null() {
            // SAFETY: ifa_addr points to a sockaddr whose family field gives its layout.
            let family = i32::from(unsafe { (*entry.ifa_addr).sa_family });
            if family == libc::AF_INET {
                // SAFETY: an AF_INET address is a sockaddr_in.
                let address = unsafe { &*(entry.ifa_addr as *const libc::sockaddr_in) };
                addresses.push(IpAddr::from(
                    u32::from_be(address.sin_addr.s_addr).to_be_bytes(),
                ));
            } else if family == libc::AF_INET6 {
                // SAFETY: an AF_INET6 address is a sockaddr_in6.
                let address = unsafe { &*(entry.ifa_addr as *const libc::sockaddr_in6) };
                addresses.push(IpAddr::from(address.sin6_addr.s6_addr));
            }
        }
        cursor = entry.ifa_next;
    }
    // SAFETY: list came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(list) };
    Ok(addresses)
}

/// Local addresses of `family` inside any of `cidrs`; empty `cidrs` means none are
/// selected (node ports then match every local address).
// NOTE: this runs once at startup, but upstream re-reads the node's addresses on
// every sync. Addresses added later serve no node ports here until a restart.
fn node_port_ips(cidrs: &[Cidr], family: IpFamily) -> Vec<IpAddr> {
    if cidrs.is_empty()
        || cidrs
            .iter()
            .any(|cidr| cidr.prefix == 0 && family.matches(&cidr.addr))
    {
        return Vec::new();
    }
    let addresses = local_addresses().unwrap_or_else(|error| {
        tracing::warn!(%error, "failed to list local addresses for --nodeport-addresses");
        Vec::new()
    });
    addresses
        .into_iter()
        .filter(|ip| family.matches(ip) && cidrs.iter().any(|cidr| cidr.contains(ip)))
        .collect()
}

/// Registers the provider's handlers on Service and EndpointSlice informers, starts
/// them, and calls the `*_synced` methods once each cache has been delivered.
pub fn start_informers(
    client: RestClient,
    provider: Arc<dyn Provider>,
    resync: Duration,
    cancel: watch::Receiver<bool>,
) -> Result<SharedInformerFactory, RunError> {
    let factory = SharedInformerFactory::new(client, resync);
    let options = InformerOptions {
        label_selector: Some(PROXY_LABEL_SELECTOR.to_string()),
        ..InformerOptions::default()
    };
    // NOTE: upstream also watches this node's Node object (topology labels, node IPs);
    // topology hints are not applied here.
    let services = factory.informer_with::<Service>(options.clone());
    let slices = factory.informer_with::<EndpointSlice>(options);

    let (add, update, delete) = (
        Arc::clone(&provider),
        Arc::clone(&provider),
        Arc::clone(&provider),
    );
    let service_handlers = EventHandlerFuncs::<Service>::new()
        .on_add(move |service, _| add.on_service_add(service))
        .on_update(move |old, new| update.on_service_update(old, new))
        .on_delete(move |deleted| {
            if let Some(service) = deleted.object() {
                delete.on_service_delete(service);
            }
        });
    let services_registration = services
        .add_event_handler(service_handlers)
        .map_err(RunError::Handler)?;

    let (add, update, delete) = (
        Arc::clone(&provider),
        Arc::clone(&provider),
        Arc::clone(&provider),
    );
    let slice_handlers = EventHandlerFuncs::<EndpointSlice>::new()
        .on_add(move |slice, _| add.on_endpoint_slice_add(slice))
        .on_update(move |old, new| update.on_endpoint_slice_update(old, new))
        .on_delete(move |deleted| {
            if let Some(slice) = deleted.object() {
                delete.on_endpoint_slice_delete(slice);
            }
        });
    let slices_registration = slices
        .add_event_handler(slice_handlers)
        .map_err(RunError::Handler)?;

    factory.start(cancel.clone());
    let services_cancel = cancel.clone();
    let services_provider = Arc::clone(&provider);
    tokio::spawn(async move {
        if client::informer::wait_for_cache_sync(services_cancel, &[&services_registration]).await {
            tracing::info!("services synced");
            services_provider.on_services_synced();
        }
    });
    tokio::spawn(async move {
        if client::informer::wait_for_cache_sync(cancel, &[&slices_registration]).await {
            tracing::info!("endpoint slices synced");
            provider.on_endpoint_slices_synced();
        }
    });
    Ok(factory)
}

/// The running proxier of the chosen mode.
enum ModeProxier {
    Iptables(Arc<Proxier>),
    Ipvs(Arc<IpvsProxier>),
    Userspace(Arc<UserspaceProxier>),
}

fn build_proxier(
    config: &ProxyConfig,
    hostname: &str,
    executor: Arc<dyn Executor>,
    metrics: Arc<ProxyMetrics>,
) -> Result<ModeProxier, RunError> {
    let family = match config.cluster_cidr {
        Some(cidr) if cidr.addr.is_ipv6() => IpFamily::V6,
        _ => IpFamily::V4,
    };
    match config.mode {
        ProxyMode::Iptables => {
            let proxier = Proxier::new(
                ProxierConfig {
                    hostname: hostname.to_string(),
                    family,
                    rules: RulesConfig {
                        cluster_cidr: config.cluster_cidr,
                        masquerade_all: config.masquerade_all,
                        masquerade_bit: config.masquerade_bit,
                        node_port_ips: node_port_ips(&config.nodeport_addresses, family),
                    },
                    min_sync_period: config.iptables_min_sync_period,
                    sync_period: config.iptables_sync_period,
                    backend: crate::iptables::client::Backend::System,
                },
                executor,
                metrics,
            );
            Ok(ModeProxier::Iptables(Arc::new(proxier)))
        }
        ProxyMode::Ipvs => {
            let handle = NetlinkIpvs::connect()?;
            let link = Rtnetlink::connect().map_err(IpvsError::from)?;
            let node_ips = match node_port_ips(&config.nodeport_addresses, family) {
                ips if ips.is_empty() => local_addresses()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|ip| family.matches(ip) && !ip.is_loopback())
                    .collect(),
                ips => ips,
            };
            let proxier = IpvsProxier::new(
                IpvsConfig {
                    hostname: hostname.to_string(),
                    family,
                    scheduler: config.ipvs_scheduler.clone(),
                    node_ips,
                    min_sync_period: config.ipvs_min_sync_period,
                    sync_period: config.ipvs_sync_period,
                },
                Box::new(handle),
                Box::new(link),
                metrics,
            );
            Ok(ModeProxier::Ipvs(Arc::new(proxier)))
        }
        ProxyMode::Userspace => {
            let proxier = UserspaceProxier::new(
                UserspaceConfig {
                    listen_ip: config.bind_address,
                    family,
                    sync_period: config.iptables_sync_period,
                    min_sync_period: config.iptables_min_sync_period,
                },
                executor,
            );
            Ok(ModeProxier::Userspace(Arc::new(proxier)))
        }
    }
}

/// Removes the IPVS mode's dummy interface and its virtual servers. A kernel without
/// IPVS has none of the servers, so only the interface is looked for then.
fn cleanup_ipvs() -> bool {
    let mut link = match Rtnetlink::connect() {
        Ok(link) => link,
        Err(error) => {
            tracing::warn!(%error, "failed to open an rtnetlink socket for cleanup");
            return true;
        }
    };
    let mut ipvs = match NetlinkIpvs::connect() {
        Ok(ipvs) => Some(ipvs),
        Err(IpvsError::NotAvailable) => None,
        Err(error) => {
            tracing::warn!(%error, "failed to open the IPVS netlink socket for cleanup");
            return true;
        }
    };
    crate::ipvs::cleanup(
        &mut link,
        ipvs.as_mut().map(|ipvs| ipvs as &mut dyn IpvsHandle),
    )
}

/// Runs the daemon until `cancel` turns true.
pub async fn run(config: ProxyConfig, cancel: watch::Receiver<bool>) -> Result<(), RunError> {
    let hostname = node_name(&config)?;
    let metrics = Arc::new(ProxyMetrics::new());
    let executor: Arc<dyn Executor> = Arc::new(CommandExecutor);

    if config.cleanup {
        tracing::info!("removing the rules and interfaces of every proxy mode");
        let proxier = Proxier::new(
            ProxierConfig {
                hostname,
                family: IpFamily::V4,
                rules: RulesConfig::default(),
                min_sync_period: Duration::ZERO,
                sync_period: Duration::from_secs(30),
                backend: crate::iptables::client::Backend::System,
            },
            Arc::clone(&executor),
            metrics,
        );
        let mut failed = proxier.cleanup() | crate::userspace::cleanup(executor.as_ref());
        failed |= cleanup_ipvs();
        return if failed {
            Err(RunError::Cleanup)
        } else {
            Ok(())
        };
    }

    let mode = build_proxier(
        &config,
        &hostname,
        Arc::clone(&executor),
        Arc::clone(&metrics),
    )?;
    let (provider, proxier_health): (Arc<dyn Provider>, Arc<ProxierHealth>) = match &mode {
        ModeProxier::Iptables(proxier) => (proxier.clone(), proxier.health()),
        ModeProxier::Ipvs(proxier) => (proxier.clone(), proxier.health()),
        ModeProxier::Userspace(proxier) => (proxier.clone(), proxier.health()),
    };
    tracing::info!(mode = config.mode.as_str(), node = %hostname, "starting kube-proxy");

    if let Some(address) = config.healthz_bind_address {
        let (bound, serve) =
            health::serve(address, Endpoints::Health(proxier_health), cancel.clone())
                .await
                .map_err(|source| RunError::Serve {
                    server: "healthz",
                    address,
                    source,
                })?;
        tracing::info!(address = %bound, "serving health checks");
        tokio::spawn(serve);
    }
    if let Some(address) = config.metrics_bind_address {
        let endpoints = Endpoints::Metrics {
            metrics: Arc::clone(&metrics),
            mode: config.mode.as_str(),
        };
        let (bound, serve) = health::serve(address, endpoints, cancel.clone())
            .await
            .map_err(|source| RunError::Serve {
                server: "metrics",
                address,
                source,
            })?;
        tracing::info!(address = %bound, "serving metrics");
        tokio::spawn(serve);
    }

    let rest = rest_config(&config)?;
    let client = RestClient::new(&rest).map_err(|error| RunError::Client(error.to_string()))?;
    let _factory = start_informers(client, provider, config.config_sync_period, cancel.clone())?;

    match mode {
        ModeProxier::Iptables(proxier) => proxier.sync_loop(cancel).await,
        ModeProxier::Ipvs(proxier) => proxier.sync_loop(cancel).await,
        ModeProxier::Userspace(proxier) => proxier.sync_loop(cancel).await,
    }
    tracing::info!("kube-proxy stopped");
    Ok(())
}
