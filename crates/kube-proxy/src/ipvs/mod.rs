//! The IPVS proxier: one IPVS virtual server per service IP and port, with the service
//! port's endpoints as real servers, programmed over generic netlink.
//!
//! Entry point: [`IpvsProxier::new`] with a handle from [`netlink::NetlinkIpvs::connect`]
//! (which fails with a clear error on a kernel without IPVS) and one from
//! [`device::Rtnetlink::connect`], then [`Provider`] events and
//! [`IpvsProxier::sync_loop`]. [`cleanup`] removes what the mode created.
//!
//! Each sync also binds every cluster IP, external IP and load balancer IP to the
//! `kube-ipvs0` dummy interface (see [`device`]), so that the kernel treats them as
//! local and IPVS receives their traffic. It unbinds the addresses no service uses.
//!
//! NOTE: upstream's IPVS mode also adds ipset-based iptables rules for masquerading
//! and node ports. Those are not implemented, so replies from endpoints on other nodes
//! need a route back through this node.

pub mod device;
pub mod netlink;
mod socket;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::endpoints::{EndpointsMap, categorize_endpoints};
use crate::health::ProxierHealth;
use crate::metrics::ProxyMetrics;
use crate::net::IpFamily;
use crate::provider::{ChangeTrackers, Provider};
use crate::runner::{BoundedFrequencyRunner, RunOutcome};
use crate::service::{Protocol, ServicePortMap};
use device::{DUMMY_DEVICE, LinkHandle};
use netlink::{
    IpvsError, IpvsHandle, RealServer, SVC_FLAG_HASHED, SVC_FLAG_PERSISTENT, VirtualServer,
};

/// Settings of an IPVS proxier.
#[derive(Clone, Debug)]
pub struct IpvsConfig {
    pub hostname: String,
    pub family: IpFamily,
    /// One of rr, lc, dh, sh, sed, nq.
    pub scheduler: String,
    /// Node IPs whose node ports get virtual servers.
    pub node_ips: Vec<IpAddr>,
    pub min_sync_period: Duration,
    pub sync_period: Duration,
}

type ServerKey = (IpAddr, Protocol, u16);

/// The virtual servers a sync programs, each with its real servers.
type DesiredServers = BTreeMap<ServerKey, (VirtualServer, BTreeSet<(IpAddr, u16)>)>;

/// The IPVS proxier.
pub struct IpvsProxier {
    config: IpvsConfig,
    handle: Mutex<Box<dyn IpvsHandle>>,
    link: Mutex<Box<dyn LinkHandle>>,
    changes: Mutex<ChangeTrackers>,
    state: Mutex<(ServicePortMap, EndpointsMap, BTreeSet<ServerKey>)>,
    runner: Arc<BoundedFrequencyRunner>,
    metrics: Arc<ProxyMetrics>,
    health: Arc<ProxierHealth>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl IpvsProxier {
    /// Builds a proxier that programs IPVS through `handle` and binds service
    /// addresses through `link`. Nothing touches the kernel before the first sync.
    pub fn new(
        config: IpvsConfig,
        handle: Box<dyn IpvsHandle>,
        link: Box<dyn LinkHandle>,
        metrics: Arc<ProxyMetrics>,
    ) -> Self {
        IpvsProxier {
            changes: Mutex::new(ChangeTrackers::new(&config.hostname, config.family)),
            state: Mutex::new((ServicePortMap::new(), EndpointsMap::new(), BTreeSet::new())),
            runner: BoundedFrequencyRunner::new(
                "ipvs-sync-runner",
                config.min_sync_period,
                config.sync_period,
            ),
            handle: Mutex::new(handle),
            link: Mutex::new(link),
            metrics,
            health: Arc::new(ProxierHealth::new(2 * config.sync_period)),
            config,
        }
    }

    /// Runs syncs on request and every `sync_period` until `cancel` turns true.
    pub async fn sync_loop(self: Arc<Self>, cancel: watch::Receiver<bool>) {
        let runner = Arc::clone(&self.runner);
        runner
            .run_loop(
                move || match self.sync_proxy_rules() {
                    Ok(_) => RunOutcome::Done,
                    Err(error) => {
                        tracing::error!(%error, "failed to sync IPVS rules");
                        RunOutcome::Retry
                    }
                },
                cancel,
            )
            .await;
    }

    /// Returns the health tracker that this proxier reports its syncs to.
    pub fn health(&self) -> Arc<ProxierHealth> {
        Arc::clone(&self.health)
    }

    /// Computes the virtual servers and real servers that the current state calls for.
    fn desired(&self, services: &ServicePortMap, endpoints: &EndpointsMap) -> DesiredServers {
        let mut desired = BTreeMap::new();
        let empty = Vec::new();
        for (name, service) in services {
            let categorized = categorize_endpoints(endpoints.get(name).unwrap_or(&empty), service);
            let as_reals = |list: &[&crate::endpoints::Endpoint]| {
                list.iter().map(|e| (e.ip, e.port)).collect::<BTreeSet<_>>()
            };
            let internal = as_reals(if service.internal_policy_local {
                &categorized.local
            } else {
                &categorized.cluster
            });
            let external = as_reals(if service.external_policy_local {
                &categorized.local
            } else {
                &categorized.cluster
            });
            let (flags, timeout) = match service.session_affinity_seconds {
                Some(seconds) => (SVC_FLAG_PERSISTENT, seconds),
                None => (0, 0),
            };
            let mut add = |ip: IpAddr, port: u16, reals: &BTreeSet<(IpAddr, u16)>| {
                let server = VirtualServer {
                    address: ip,
                    protocol: service.protocol,
                    port,
                    scheduler: self.config.scheduler.clone(),
                    flags,
                    timeout,
                };
                desired.insert((ip, service.protocol, port), (server, reals.clone()));
            };
            add(service.cluster_ip, service.port, &internal);
            for ip in service
                .external_ips
                .iter()
                .chain(&service.load_balancer_ips)
            {
                add(*ip, service.port, &external);
            }
            if service.node_port != 0 {
                for ip in &self.config.node_ips {
                    add(*ip, service.node_port, &external);
                }
            }
        }
        desired
    }

    /// Brings the kernel's virtual and real servers in line with the current state.
    /// Returns the number of virtual servers programmed.
    pub fn sync_proxy_rules(&self) -> Result<Option<usize>, IpvsError> {
        let started = Instant::now();
        let mut state = lock(&self.state);
        let trigger_times = {
            let mut changes = lock(&self.changes);
            if !changes.is_initialized() {
                return Ok(None);
            }
            let (services, endpoints, _) = &mut *state;
            changes.services.apply(services);
            changes.endpoints.apply(endpoints).trigger_times
        };
        let desired = self.desired(&state.0, &state.1);
        self.bind_addresses(&desired)?;
        let mut handle = lock(&self.handle);

        let current: BTreeMap<ServerKey, VirtualServer> = handle
            .list_virtual_servers()?
            .into_iter()
            .map(|server| ((server.address, server.protocol, server.port), server))
            .collect();
        for (key, server) in &current {
            // Only servers this proxier created are removed; others belong to someone else.
            // NOTE: after a restart that set is empty, so servers of services deleted
            // while the proxy was down stay until deleted by hand.
            if !desired.contains_key(key) && state.2.contains(key) {
                handle.delete_virtual_server(server)?;
            }
        }
        for (key, (server, reals)) in &desired {
            match current.get(key) {
                None => handle.add_virtual_server(server)?,
                Some(existing)
                    if existing.scheduler != server.scheduler
                        || (existing.flags & !SVC_FLAG_HASHED) != server.flags
                        || existing.timeout != server.timeout =>
                {
                    handle.delete_virtual_server(existing)?;
                    handle.add_virtual_server(server)?;
                }
                Some(_) => {}
            }
            self.sync_real_servers(handle.as_mut(), server, reals)?;
        }
        state.2 = desired.keys().copied().collect();
        self.health.updated();
        self.metrics.record_sync(started.elapsed(), &trigger_times);
        Ok(Some(desired.len()))
    }

    /// Ensures `kube-ipvs0` and makes its addresses exactly the service addresses of
    /// `desired`; node IPs (of node port servers) stay where they are.
    fn bind_addresses(&self, desired: &DesiredServers) -> Result<(), IpvsError> {
        let wanted: BTreeSet<IpAddr> = desired
            .keys()
            .map(|(ip, _, _)| *ip)
            .filter(|ip| !self.config.node_ips.contains(ip))
            .collect();
        let mut link = lock(&self.link);
        let index = link.ensure_link(DUMMY_DEVICE, "dummy")?;
        let bound: BTreeSet<IpAddr> = link.list_addresses(index)?.into_iter().collect();
        for ip in bound.difference(&wanted) {
            link.delete_address(index, *ip)?;
        }
        for ip in wanted.difference(&bound) {
            link.add_address(index, *ip)?;
        }
        Ok(())
    }

    fn sync_real_servers(
        &self,
        handle: &mut dyn IpvsHandle,
        server: &VirtualServer,
        reals: &BTreeSet<(IpAddr, u16)>,
    ) -> Result<(), IpvsError> {
        let current = handle.list_real_servers(server)?;
        let current_keys: BTreeSet<(IpAddr, u16)> = current
            .iter()
            .map(|real| (real.address, real.port))
            .collect();
        // NOTE: upstream drains a removed real server (weight 0) until its connections
        // end; this deletes it at once.
        for real in current
            .iter()
            .filter(|real| !reals.contains(&(real.address, real.port)))
        {
            handle.delete_real_server(server, real)?;
        }
        for (address, port) in reals.difference(&current_keys) {
            let real = RealServer {
                address: *address,
                port: *port,
                weight: 1,
                active_connections: 0,
                inactive_connections: 0,
            };
            handle.add_real_server(server, &real)?;
        }
        Ok(())
    }
}

/// Removes what the IPVS mode created (`--cleanup`): the virtual servers of the
/// addresses bound to `kube-ipvs0` when the kernel has IPVS, then the interface.
/// Returns whether any step failed.
// NOTE: virtual servers on node IPs (node ports) are not recognised as ours and stay.
pub fn cleanup(link: &mut dyn LinkHandle, ipvs: Option<&mut dyn IpvsHandle>) -> bool {
    let mut failed = false;
    let mut bound = Vec::new();
    match link.find_link(DUMMY_DEVICE) {
        Ok(Some(index)) => match link.list_addresses(index) {
            Ok(addresses) => bound = addresses,
            Err(error) => {
                tracing::warn!(%error, "failed to list the addresses of {DUMMY_DEVICE}");
                failed = true;
            }
        },
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(%error, "failed to look up {DUMMY_DEVICE}");
            failed = true;
        }
    }
    if let Some(ipvs) = ipvs {
        match ipvs.list_virtual_servers() {
            Ok(servers) => {
                for server in servers.iter().filter(|s| bound.contains(&s.address)) {
                    if let Err(error) = ipvs.delete_virtual_server(server) {
                        tracing::warn!(%error, address = %server.address, port = server.port, "failed to delete IPVS virtual server");
                        failed = true;
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "failed to list IPVS virtual servers");
                failed = true;
            }
        }
    }
    match link.delete_link(DUMMY_DEVICE) {
        Ok(deleted) => {
            if deleted {
                tracing::info!(device = DUMMY_DEVICE, "deleted the IPVS dummy interface");
            }
        }
        Err(error) => {
            tracing::warn!(%error, "failed to delete {DUMMY_DEVICE}");
            failed = true;
        }
    }
    failed
}

impl Provider for IpvsProxier {
    fn changes(&self) -> &Mutex<ChangeTrackers> {
        &self.changes
    }

    fn request_sync(&self) {
        self.health.queued_update();
        self.runner.request();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{service, slice, with_affinity};
    use device::LinkError;

    type IpvsTable = BTreeMap<ServerKey, (VirtualServer, BTreeSet<RealServer>)>;

    /// An in-memory IPVS table.
    #[derive(Default)]
    struct FakeIpvs {
        servers: Arc<Mutex<IpvsTable>>,
    }

    fn key(server: &VirtualServer) -> ServerKey {
        (server.address, server.protocol, server.port)
    }

    impl IpvsHandle for FakeIpvs {
        fn add_virtual_server(&mut self, server: &VirtualServer) -> Result<(), IpvsError> {
            let mut listed = server.clone();
            listed.flags |= SVC_FLAG_HASHED;
            lock(&self.servers).insert(key(server), (listed, BTreeSet::new()));
            Ok(())
        }

        fn delete_virtual_server(&mut self, server: &VirtualServer) -> Result<(), IpvsError> {
            lock(&self.servers).remove(&key(server));
            Ok(())
        }

        fn list_virtual_servers(&mut self) -> Result<Vec<VirtualServer>, IpvsError> {
            Ok(lock(&self.servers)
                .values()
                .map(|(server, _)| server.clone())
                .collect())
        }

        fn add_real_server(
            &mut self,
            server: &VirtualServer,
            real: &RealServer,
        ) -> Result<(), IpvsError> {
            lock(&self.servers)
                .get_mut(&key(server))
                .expect("server exists")
                .1
                .insert(real.clone());
            Ok(())
        }

        fn delete_real_server(
            &mut self,
            server: &VirtualServer,
            real: &RealServer,
        ) -> Result<(), IpvsError> {
            lock(&self.servers)
                .get_mut(&key(server))
                .expect("server exists")
                .1
                .remove(real);
            Ok(())
        }

        fn list_real_servers(
            &mut self,
            server: &VirtualServer,
        ) -> Result<Vec<RealServer>, IpvsError> {
            Ok(lock(&self.servers)
                .get(&key(server))
                .map(|(_, reals)| reals.iter().cloned().collect())
                .unwrap_or_default())
        }
    }

    /// Interfaces by name: index and addresses.
    type LinkTable = BTreeMap<String, (u32, BTreeSet<IpAddr>)>;

    /// In-memory interfaces.
    #[derive(Default)]
    struct FakeLinks {
        links: Arc<Mutex<LinkTable>>,
    }

    impl LinkHandle for FakeLinks {
        fn ensure_link(&mut self, name: &str, kind: &str) -> Result<u32, LinkError> {
            assert_eq!(kind, "dummy");
            let mut links = lock(&self.links);
            let next = links.len() as u32 + 2;
            Ok(links
                .entry(name.to_string())
                .or_insert((next, BTreeSet::new()))
                .0)
        }

        fn find_link(&mut self, name: &str) -> Result<Option<u32>, LinkError> {
            Ok(lock(&self.links).get(name).map(|(index, _)| *index))
        }

        fn delete_link(&mut self, name: &str) -> Result<bool, LinkError> {
            Ok(lock(&self.links).remove(name).is_some())
        }

        fn list_addresses(&mut self, index: u32) -> Result<Vec<IpAddr>, LinkError> {
            Ok(lock(&self.links)
                .values()
                .filter(|(link, _)| *link == index)
                .flat_map(|(_, addresses)| addresses.iter().copied())
                .collect())
        }

        fn add_address(&mut self, index: u32, ip: IpAddr) -> Result<(), LinkError> {
            for (link, addresses) in lock(&self.links).values_mut() {
                if *link == index {
                    addresses.insert(ip);
                }
            }
            Ok(())
        }

        fn delete_address(&mut self, index: u32, ip: IpAddr) -> Result<(), LinkError> {
            for (link, addresses) in lock(&self.links).values_mut() {
                if *link == index {
                    addresses.remove(&ip);
                }
            }
            Ok(())
        }
    }

    fn bound(links: &Mutex<LinkTable>) -> Vec<String> {
        lock(links)
            .get(DUMMY_DEVICE)
            .map(|(_, addresses)| addresses.iter().map(IpAddr::to_string).collect())
            .unwrap_or_default()
    }

    #[test]
    fn service_addresses_follow_services() {
        let links = FakeLinks::default();
        let table = Arc::clone(&links.links);
        let config = IpvsConfig {
            hostname: "node1".to_string(),
            family: IpFamily::V4,
            scheduler: "rr".to_string(),
            node_ips: vec!["192.168.0.10".parse().unwrap()],
            min_sync_period: Duration::ZERO,
            sync_period: Duration::from_secs(30),
        };
        let proxier = IpvsProxier::new(
            config,
            Box::new(FakeIpvs::default()),
            Box::new(links),
            Arc::new(ProxyMetrics::new()),
        );
        let web = crate::testing::with_node_port(
            service("ns1", "web", "172.30.0.41", ("p80", 80, "TCP")),
            30080,
        );
        let mut dns = service("ns1", "dns", "172.30.0.53", ("dns", 53, "UDP"));
        crate::testing::spec_mut(&mut dns).external_ips = Some(vec!["192.0.2.7".to_string()]);
        proxier.on_service_add(&web);
        proxier.on_service_add(&dns);
        proxier.on_services_synced();
        proxier.on_endpoint_slices_synced();
        proxier.sync_proxy_rules().unwrap();
        assert_eq!(
            bound(&table),
            ["172.30.0.41", "172.30.0.53", "192.0.2.7"],
            "cluster and external IPs are bound, the node IP is not"
        );

        // Someone else's leftover address on the device goes away too.
        lock(&table)
            .get_mut(DUMMY_DEVICE)
            .unwrap()
            .1
            .insert("172.30.9.9".parse().unwrap());
        proxier.on_service_delete(&dns);
        proxier.sync_proxy_rules().unwrap();
        assert_eq!(bound(&table), ["172.30.0.41"]);
    }

    #[test]
    fn services_become_virtual_servers() {
        let fake = FakeIpvs::default();
        let table = Arc::clone(&fake.servers);
        let config = IpvsConfig {
            hostname: "node1".to_string(),
            family: IpFamily::V4,
            scheduler: "lc".to_string(),
            node_ips: vec![],
            min_sync_period: Duration::ZERO,
            sync_period: Duration::from_secs(30),
        };
        let proxier = IpvsProxier::new(
            config,
            Box::new(fake),
            Box::new(FakeLinks::default()),
            Arc::new(ProxyMetrics::new()),
        );
        let svc = with_affinity(
            service("ns1", "svc1", "172.30.0.41", ("p80", 80, "TCP")),
            Some(60),
        );
        proxier.on_service_add(&svc);
        let two = slice(
            "ns1",
            "a",
            "svc1",
            ("p80", 80, "TCP"),
            &[("10.180.0.1", true, "n"), ("10.180.0.2", true, "n")],
        );
        proxier.on_endpoint_slice_add(&two);
        proxier.on_services_synced();
        proxier.on_endpoint_slices_synced();
        assert_eq!(proxier.sync_proxy_rules().unwrap(), Some(1));
        {
            let table = lock(&table);
            let (server, reals) = table.values().next().unwrap();
            assert_eq!(server.scheduler, "lc");
            assert_eq!(server.flags & SVC_FLAG_PERSISTENT, SVC_FLAG_PERSISTENT);
            assert_eq!(server.timeout, 60);
            assert_eq!(reals.len(), 2);
        }

        let one = slice(
            "ns1",
            "a",
            "svc1",
            ("p80", 80, "TCP"),
            &[("10.180.0.2", true, "n")],
        );
        proxier.on_endpoint_slice_update(&two, &one);
        proxier.sync_proxy_rules().unwrap();
        let addresses: Vec<String> = lock(&table)
            .values()
            .next()
            .unwrap()
            .1
            .iter()
            .map(|r| r.address.to_string())
            .collect();
        assert_eq!(addresses, ["10.180.0.2"]);

        proxier.on_service_delete(&svc);
        proxier.sync_proxy_rules().unwrap();
        assert!(lock(&table).is_empty());
    }
}
