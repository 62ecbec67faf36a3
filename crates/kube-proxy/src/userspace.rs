//! The userspace proxier. Each service port (TCP or UDP) gets a proxy socket on a
//! random local port, which forwards each client to an endpoint chosen round-robin
//! (sticky per client IP with ClientIP affinity). Nat rules in KUBE-PORTALS-CONTAINER
//! (from PREROUTING) and KUBE-PORTALS-HOST (from OUTPUT) redirect cluster IP traffic
//! to the proxy socket.
//!
//! A service port with a node port also gets a socket on the node port, which keeps
//! the port from other processes and serves the same endpoints. Rules in
//! KUBE-NODEPORT-CONTAINER and KUBE-NODEPORT-HOST (appended to PREROUTING and OUTPUT)
//! redirect node port traffic to the proxy socket, as upstream's userspace proxier
//! does. KUBE-NODEPORT-NON-LOCAL in the filter table (from INPUT) accepts
//! traffic to the proxy ports.
//!
//! Entry point: [`UserspaceProxier::new`], [`Provider`] events and
//! [`UserspaceProxier::sync_loop`]. A sync opens and closes proxy sockets, so it must
//! run inside a tokio runtime (the runner's blocking pool qualifies).
//!
//! NOTE: external IPs and load balancer IPs are not proxied in this mode.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::watch;

use crate::endpoints::EndpointsMap;
use crate::exec::{Cmd, ExecError, Executor};
use crate::health::ProxierHealth;
use crate::net::IpFamily;
use crate::provider::{ChangeTrackers, Provider};
use crate::runner::{BoundedFrequencyRunner, RunOutcome};
use crate::service::{Protocol, ServicePortInfo, ServicePortMap, ServicePortName};

pub const KUBE_PORTALS_CONTAINER: &str = "KUBE-PORTALS-CONTAINER";
pub const KUBE_PORTALS_HOST: &str = "KUBE-PORTALS-HOST";
pub const KUBE_NODEPORT_CONTAINER: &str = "KUBE-NODEPORT-CONTAINER";
pub const KUBE_NODEPORT_HOST: &str = "KUBE-NODEPORT-HOST";
pub const KUBE_NODEPORT_NON_LOCAL: &str = "KUBE-NODEPORT-NON-LOCAL";
const PORTALS_COMMENT: &str = "handle ClusterIPs; NOTE: this must be before the NodePort rules";
const NODEPORTS_COMMENT: &str =
    "handle service NodePorts; NOTE: this must be the last rule in the chain";
const NON_LOCAL_COMMENT: &str = "Ensure that non-local NodePort traffic can flow";

/// The position of a chain's jump in its built-in chain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Position {
    First,
    Last,
}

/// The jumps into this mode's chains: table, built-in chain, chain, comment, position.
const JUMPS: [(&str, &str, &str, &str, Position); 5] = [
    (
        "nat",
        "PREROUTING",
        KUBE_PORTALS_CONTAINER,
        PORTALS_COMMENT,
        Position::First,
    ),
    (
        "nat",
        "OUTPUT",
        KUBE_PORTALS_HOST,
        PORTALS_COMMENT,
        Position::First,
    ),
    (
        "nat",
        "PREROUTING",
        KUBE_NODEPORT_CONTAINER,
        NODEPORTS_COMMENT,
        Position::Last,
    ),
    (
        "nat",
        "OUTPUT",
        KUBE_NODEPORT_HOST,
        NODEPORTS_COMMENT,
        Position::Last,
    ),
    (
        "filter",
        "INPUT",
        KUBE_NODEPORT_NON_LOCAL,
        NON_LOCAL_COMMENT,
        Position::First,
    ),
];

/// How long a UDP client's association with an endpoint lives without traffic.
const UDP_IDLE_TIMEOUT: Duration = Duration::from_secs(250);

/// Settings of the userspace proxier.
#[derive(Clone, Debug)]
pub struct UserspaceConfig {
    /// Address proxy sockets bind to (`--bind-address`); unspecified binds all.
    pub listen_ip: IpAddr,
    pub family: IpFamily,
    pub sync_period: Duration,
    pub min_sync_period: Duration,
}

/// Round-robin endpoint choice per service port, with ClientIP affinity.
#[derive(Default)]
pub struct LoadBalancer {
    services: Mutex<HashMap<ServicePortName, BalancerState>>,
}

#[derive(Default)]
struct BalancerState {
    endpoints: Vec<SocketAddr>,
    next: usize,
    affinity_timeout: Option<Duration>,
    affinity: HashMap<IpAddr, (SocketAddr, Instant)>,
}

impl LoadBalancer {
    fn lock(&self) -> MutexGuard<'_, HashMap<ServicePortName, BalancerState>> {
        self.services
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Replaces the endpoints and affinity setting of `name`; affinity entries for
    /// endpoints that went away are dropped.
    pub fn update(
        &self,
        name: &ServicePortName,
        endpoints: Vec<SocketAddr>,
        affinity_timeout: Option<Duration>,
    ) {
        let mut services = self.lock();
        let state = services.entry(name.clone()).or_default();
        state
            .affinity
            .retain(|_, (endpoint, _)| endpoints.contains(endpoint));
        if affinity_timeout.is_none() {
            state.affinity.clear();
        }
        state.endpoints = endpoints;
        state.affinity_timeout = affinity_timeout;
        if state.next >= state.endpoints.len() {
            state.next = 0;
        }
    }

    pub fn remove(&self, name: &ServicePortName) {
        self.lock().remove(name);
    }

    /// Picks the endpoint for a new connection from `client`; `None` without endpoints.
    pub fn next_endpoint(&self, name: &ServicePortName, client: IpAddr) -> Option<SocketAddr> {
        let mut services = self.lock();
        let state = services.get_mut(name)?;
        if state.endpoints.is_empty() {
            return None;
        }
        let now = Instant::now();
        if let Some(timeout) = state.affinity_timeout
            && let Some((endpoint, last_used)) = state.affinity.get_mut(&client)
            && now.duration_since(*last_used) < timeout
        {
            *last_used = now;
            return Some(*endpoint);
        }
        let endpoint = state.endpoints[state.next % state.endpoints.len()];
        state.next = (state.next + 1) % state.endpoints.len();
        if state.affinity_timeout.is_some() {
            state.affinity.insert(client, (endpoint, now));
        }
        Some(endpoint)
    }
}

/// One open proxy socket, plus the socket on the service's node port if it has one.
struct PortalSocket {
    info: ServicePortInfo,
    proxy_port: u16,
    /// Closes the proxy socket and the node port socket when dropped or sent `true`.
    stop: watch::Sender<bool>,
    /// Whether the node port socket is open. Binding fails when another process has
    /// bound the port, and the redirect rules still serve the port then.
    node_port_open: bool,
}

struct UserspaceState {
    services: ServicePortMap,
    endpoints: EndpointsMap,
    sockets: BTreeMap<ServicePortName, PortalSocket>,
}

/// The userspace proxier.
pub struct UserspaceProxier {
    config: UserspaceConfig,
    executor: Arc<dyn Executor>,
    balancer: Arc<LoadBalancer>,
    changes: Mutex<ChangeTrackers>,
    state: Mutex<UserspaceState>,
    runner: Arc<BoundedFrequencyRunner>,
    health: Arc<ProxierHealth>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A sync that could not finish.
#[derive(Debug, thiserror::Error)]
pub enum UserspaceError {
    #[error("failed to open the proxy socket of {service}: {source}")]
    Listen {
        service: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write the portal rules: {0}")]
    Rules(#[from] ExecError),
}

impl UserspaceProxier {
    pub fn new(config: UserspaceConfig, executor: Arc<dyn Executor>) -> Self {
        UserspaceProxier {
            changes: Mutex::new(ChangeTrackers::new("", config.family)),
            state: Mutex::new(UserspaceState {
                services: ServicePortMap::new(),
                endpoints: EndpointsMap::new(),
                sockets: BTreeMap::new(),
            }),
            runner: BoundedFrequencyRunner::new(
                "userspace-sync-runner",
                config.min_sync_period,
                config.sync_period,
            ),
            health: Arc::new(ProxierHealth::new(2 * config.sync_period)),
            balancer: Arc::new(LoadBalancer::default()),
            executor,
            config,
        }
    }

    pub fn health(&self) -> Arc<ProxierHealth> {
        Arc::clone(&self.health)
    }

    /// Returns whether the node port socket of `name` is open.
    pub fn node_port_open(&self, name: &ServicePortName) -> bool {
        lock(&self.state)
            .sockets
            .get(name)
            .is_some_and(|socket| socket.node_port_open)
    }

    /// Returns the port of the proxy socket of `name`, once a sync has opened it.
    pub fn proxy_port(&self, name: &ServicePortName) -> Option<u16> {
        lock(&self.state)
            .sockets
            .get(name)
            .map(|socket| socket.proxy_port)
    }

    /// Runs syncs on request and every `sync_period` until `cancel` turns true.
    pub async fn sync_loop(self: Arc<Self>, cancel: watch::Receiver<bool>) {
        let runner = Arc::clone(&self.runner);
        let proxier = Arc::clone(&self);
        runner
            .run_loop(
                move || match proxier.sync_proxy_rules() {
                    Ok(_) => RunOutcome::Done,
                    Err(error) => {
                        tracing::error!(%error, "failed to sync the userspace proxy");
                        RunOutcome::Retry
                    }
                },
                cancel,
            )
            .await;
        let mut state = lock(&self.state);
        for (_, socket) in std::mem::take(&mut state.sockets) {
            let _ = socket.stop.send(true);
        }
    }

    /// Opens and closes proxy sockets, updates the load balancer and rewrites the
    /// portal rules. Returns `Ok(false)` before both informers have synced.
    pub fn sync_proxy_rules(&self) -> Result<bool, UserspaceError> {
        let mut state = lock(&self.state);
        {
            let mut changes = lock(&self.changes);
            if !changes.is_initialized() {
                return Ok(false);
            }
            let state = &mut *state;
            changes.services.apply(&mut state.services);
            changes.endpoints.apply(&mut state.endpoints);
        }
        let state = &mut *state;

        let stale: Vec<ServicePortName> = state
            .sockets
            .iter()
            .filter(|(name, socket)| state.services.get(*name) != Some(&socket.info))
            .map(|(name, _)| name.clone())
            .collect();
        for name in stale {
            if let Some(socket) = state.sockets.remove(&name) {
                let _ = socket.stop.send(true);
                self.balancer.remove(&name);
                tracing::info!(service = %name, "closed proxy socket");
            }
        }
        for (name, info) in &state.services {
            if info.protocol == Protocol::Sctp || state.sockets.contains_key(name) {
                continue;
            }
            let socket = self
                .open_socket(name, info)
                .map_err(|source| UserspaceError::Listen {
                    service: name.to_string(),
                    source,
                })?;
            tracing::info!(service = %name, port = socket.proxy_port, "opened proxy socket");
            state.sockets.insert(name.clone(), socket);
        }
        for (name, socket) in &state.sockets {
            let endpoints = state
                .endpoints
                .get(name)
                .map(|list| {
                    list.iter()
                        .filter(|e| e.ready)
                        .map(|e| SocketAddr::new(e.ip, e.port))
                        .collect()
                })
                .unwrap_or_default();
            let affinity = socket
                .info
                .session_affinity_seconds
                .map(|s| Duration::from_secs(u64::from(s)));
            self.balancer.update(name, endpoints, affinity);
        }

        let (nat, filter) = portal_rules(&state.sockets, self.config.listen_ip);
        for (table, from, chain, comment, position) in JUMPS {
            ensure_jump(
                self.executor.as_ref(),
                table,
                from,
                chain,
                comment,
                position,
            )?;
        }
        for input in [nat, filter] {
            self.executor.run_checked(
                &Cmd::new("iptables-restore", &["--noflush", "--counters"])
                    .with_stdin(input.into_bytes()),
            )?;
        }
        self.health.updated();
        Ok(true)
    }

    fn open_socket(
        &self,
        name: &ServicePortName,
        info: &ServicePortInfo,
    ) -> std::io::Result<PortalSocket> {
        let (stop, stop_rx) = watch::channel(false);
        let proxy_port = self.serve(name, info.protocol, 0, stop_rx.clone())?;
        let mut node_port_open = false;
        if info.node_port != 0 {
            match self.serve(name, info.protocol, info.node_port, stop_rx) {
                Ok(_) => node_port_open = true,
                Err(error) => {
                    tracing::warn!(service = %name, node_port = info.node_port, %error, "failed to open the node port socket; the redirect rules still serve the port");
                }
            }
        }
        Ok(PortalSocket {
            info: info.clone(),
            proxy_port,
            stop,
            node_port_open,
        })
    }

    /// Binds `port` (0 for any) on the listen address and forwards its clients to the
    /// endpoints of `name` until `stop` turns true. Returns the bound port.
    fn serve(
        &self,
        name: &ServicePortName,
        protocol: Protocol,
        port: u16,
        stop: watch::Receiver<bool>,
    ) -> std::io::Result<u16> {
        let bind = SocketAddr::new(self.config.listen_ip, port);
        let balancer = Arc::clone(&self.balancer);
        let service = name.clone();
        match protocol {
            Protocol::Udp => {
                let socket = std::net::UdpSocket::bind(bind)?;
                socket.set_nonblocking(true)?;
                let port = socket.local_addr()?.port();
                let socket = UdpSocket::from_std(socket)?;
                tokio::spawn(serve_udp(socket, service, balancer, stop));
                Ok(port)
            }
            _ => {
                let listener = bind_tcp_listener(bind)?;
                let port = listener.local_addr()?.port();
                let listener = TcpListener::from_std(listener)?;
                tokio::spawn(serve_tcp(listener, service, balancer, stop));
                Ok(port)
            }
        }
    }
}

/// Binds a listening TCP socket with SO_REUSEADDR, so that a port closed by the
/// previous sync (its connections in TIME_WAIT) can be bound again at once.
fn bind_tcp_listener(address: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    let listener = socket.listen(1024)?;
    listener.into_std()
}

fn ensure_jump(
    executor: &dyn Executor,
    table: &str,
    from: &str,
    chain: &str,
    comment: &str,
    position: Position,
) -> Result<(), ExecError> {
    let created = executor.run(&Cmd::new("iptables", &["-w", "-t", table, "-N", chain]))?;
    if !created.success()
        && !executor
            .run(&Cmd::new("iptables", &["-w", "-t", table, "-S", chain]))?
            .success()
    {
        return Err(ExecError::Failed {
            command: format!("iptables -t {table} -N {chain}"),
            code: created.code,
            stderr: created.stderr,
        });
    }
    let rule = ["-m", "comment", "--comment", comment, "-j", chain];
    let mut check = vec!["-w", "-t", table, "-C", from];
    check.extend(rule);
    if executor.run(&Cmd::new("iptables", &check))?.success() {
        return Ok(());
    }
    let verb = match position {
        Position::First => "-I",
        Position::Last => "-A",
    };
    let mut add = vec!["-w", "-t", table, verb, from];
    add.extend(rule);
    executor.run_checked(&Cmd::new("iptables", &add))?;
    Ok(())
}

/// Builds the nat and filter restore inputs for the portal and node port chains.
/// Container traffic is redirected to the proxy port. Host traffic is DNATed to the
/// listen address, or redirected to the loopback when the proxy listens on all
/// addresses.
fn portal_rules(
    sockets: &BTreeMap<ServicePortName, PortalSocket>,
    listen_ip: IpAddr,
) -> (String, String) {
    let mut nat = format!(
        "*nat\n:{KUBE_PORTALS_CONTAINER} - [0:0]\n:{KUBE_PORTALS_HOST} - [0:0]\n:{KUBE_NODEPORT_CONTAINER} - [0:0]\n:{KUBE_NODEPORT_HOST} - [0:0]\n"
    );
    let mut filter = format!("*filter\n:{KUBE_NODEPORT_NON_LOCAL} - [0:0]\n");
    let host_target = |proxy_port: u16| {
        if listen_ip.is_unspecified() {
            format!("REDIRECT --to-ports {proxy_port}")
        } else {
            format!(
                "DNAT --to-destination {}",
                SocketAddr::new(listen_ip, proxy_port)
            )
        }
    };
    for (name, socket) in sockets {
        let protocol = socket.info.protocol.lower();
        let cluster_ip = socket.info.cluster_ip;
        let port = socket.info.port;
        let proxy_port = socket.proxy_port;
        let comment = format!("\"{name}\"");
        let host = host_target(proxy_port);
        let _ = writeln!(
            nat,
            "-A {KUBE_PORTALS_CONTAINER} -m comment --comment {comment} -m {protocol} -p {protocol} -d {cluster_ip} --dport {port} -j REDIRECT --to-ports {proxy_port}"
        );
        let _ = writeln!(
            nat,
            "-A {KUBE_PORTALS_HOST} -m comment --comment {comment} -m {protocol} -p {protocol} -d {cluster_ip} --dport {port} -j {host}"
        );
        let node_port = socket.info.node_port;
        if node_port == 0 {
            continue;
        }
        let _ = writeln!(
            nat,
            "-A {KUBE_NODEPORT_CONTAINER} -m comment --comment {comment} -m addrtype --dst-type LOCAL -m {protocol} -p {protocol} --dport {node_port} -j REDIRECT --to-ports {proxy_port}"
        );
        let _ = writeln!(
            nat,
            "-A {KUBE_NODEPORT_HOST} -m comment --comment {comment} -m addrtype --dst-type LOCAL -m {protocol} -p {protocol} --dport {node_port} -j {host}"
        );
        let _ = writeln!(
            filter,
            "-A {KUBE_NODEPORT_NON_LOCAL} -m comment --comment {comment} -m {protocol} -p {protocol} --dport {proxy_port} -j ACCEPT"
        );
    }
    nat.push_str("COMMIT\n");
    filter.push_str("COMMIT\n");
    (nat, filter)
}

/// Removes the userspace mode's chains and jumps (`--cleanup`). Returns whether any
/// step failed.
pub fn cleanup(executor: &dyn Executor) -> bool {
    let mut failed = false;
    for (table, from, chain, comment, _) in JUMPS {
        let rule = [
            "-w",
            "-t",
            table,
            "-D",
            from,
            "-m",
            "comment",
            "--comment",
            comment,
            "-j",
            chain,
        ];
        let _ = executor.run(&Cmd::new("iptables", &rule));
        let exists = executor
            .run(&Cmd::new("iptables", &["-w", "-t", table, "-S", chain]))
            .is_ok_and(|o| o.success());
        if exists {
            for step in [
                ["-w", "-t", table, "-F", chain],
                ["-w", "-t", table, "-X", chain],
            ] {
                if let Err(error) = executor.run_checked(&Cmd::new("iptables", &step)) {
                    tracing::warn!(%error, chain, "failed to remove userspace proxy chain");
                    failed = true;
                }
            }
        }
    }
    failed
}

async fn serve_tcp(
    listener: TcpListener,
    service: ServicePortName,
    balancer: Arc<LoadBalancer>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let (mut client, client_address) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(service = %service, %error, "failed to accept on proxy socket");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(endpoint) = balancer.next_endpoint(&service, client_address.ip()) else {
            tracing::debug!(service = %service, "no endpoints; closing the client connection");
            continue;
        };
        let service = service.clone();
        tokio::spawn(async move {
            let mut backend = match tokio::time::timeout(
                Duration::from_secs(5),
                TcpStream::connect(endpoint),
            )
            .await
            {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::warn!(service = %service, %endpoint, %error, "failed to connect to endpoint");
                    return;
                }
                Err(_) => {
                    tracing::warn!(service = %service, %endpoint, "timed out connecting to endpoint");
                    return;
                }
            };
            if let Err(error) = copy_bidirectional(&mut client, &mut backend).await {
                tracing::debug!(service = %service, %endpoint, %error, "proxied connection ended with an error");
            }
        });
    }
}

async fn serve_udp(
    socket: UdpSocket,
    service: ServicePortName,
    balancer: Arc<LoadBalancer>,
    mut stop: watch::Receiver<bool>,
) {
    let socket = Arc::new(socket);
    let mut clients: HashMap<SocketAddr, (Arc<UdpSocket>, watch::Sender<bool>)> = HashMap::new();
    let mut buffer = vec![0u8; 65536];
    loop {
        let received = tokio::select! {
            received = socket.recv_from(&mut buffer) => received,
            _ = stop.changed() => return,
        };
        let (length, client) = match received {
            Ok(pair) => pair,
            Err(error) => {
                tracing::debug!(service = %service, %error, "failed to read from UDP proxy socket");
                continue;
            }
        };
        clients.retain(|_, (_, done)| !done.is_closed());
        if let std::collections::hash_map::Entry::Vacant(slot) = clients.entry(client) {
            let Some(endpoint) = balancer.next_endpoint(&service, client.ip()) else {
                continue;
            };
            let unspecified = if endpoint.is_ipv4() {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            } else {
                IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
            };
            let backend = match UdpSocket::bind(SocketAddr::new(unspecified, 0)).await {
                Ok(backend) => backend,
                Err(error) => {
                    tracing::warn!(service = %service, %error, "failed to open UDP backend socket");
                    continue;
                }
            };
            if let Err(error) = backend.connect(endpoint).await {
                tracing::warn!(service = %service, %endpoint, %error, "failed to connect UDP backend socket");
                continue;
            }
            let backend = Arc::new(backend);
            let (done, done_rx) = watch::channel(false);
            tokio::spawn(relay_udp_replies(
                Arc::clone(&backend),
                Arc::clone(&socket),
                client,
                done_rx,
            ));
            slot.insert((backend, done));
        }
        if let Some((backend, _)) = clients.get(&client)
            && let Err(error) = backend.send(&buffer[..length]).await
        {
            tracing::debug!(service = %service, %error, "failed to forward UDP datagram");
        }
    }
}

/// Sends the endpoint's replies back to the client until the association is idle.
async fn relay_udp_replies(
    backend: Arc<UdpSocket>,
    proxy: Arc<UdpSocket>,
    client: SocketAddr,
    done: watch::Receiver<bool>,
) {
    let mut buffer = vec![0u8; 65536];
    while let Ok(Ok(length)) =
        tokio::time::timeout(UDP_IDLE_TIMEOUT, backend.recv(&mut buffer)).await
    {
        if proxy.send_to(&buffer[..length], client).await.is_err() {
            break;
        }
    }
    drop(done);
}

impl Provider for UserspaceProxier {
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

    fn name() -> ServicePortName {
        ServicePortName::new("ns1", "svc1", "p80", Protocol::Tcp)
    }

    #[test]
    fn round_robin_and_affinity() {
        let balancer = LoadBalancer::default();
        let a: SocketAddr = "10.1.0.1:80".parse().unwrap();
        let b: SocketAddr = "10.1.0.2:80".parse().unwrap();
        let client1: IpAddr = "192.0.2.1".parse().unwrap();
        let client2: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(balancer.next_endpoint(&name(), client1), None);

        balancer.update(&name(), vec![a, b], None);
        let picks: Vec<SocketAddr> = (0..4)
            .map(|_| balancer.next_endpoint(&name(), client1).unwrap())
            .collect();
        assert_eq!(picks, [a, b, a, b]);

        balancer.update(&name(), vec![a, b], Some(Duration::from_secs(60)));
        let first = balancer.next_endpoint(&name(), client1).unwrap();
        for _ in 0..3 {
            assert_eq!(
                balancer.next_endpoint(&name(), client1).unwrap(),
                first,
                "affinity keeps the client on one endpoint"
            );
        }
        let other = balancer.next_endpoint(&name(), client2).unwrap();
        assert_ne!(other, first, "a new client gets the next endpoint");

        balancer.update(
            &name(),
            vec![if first == a { b } else { a }],
            Some(Duration::from_secs(60)),
        );
        assert_ne!(
            balancer.next_endpoint(&name(), client1).unwrap(),
            first,
            "affinity to a removed endpoint is dropped"
        );
    }

    #[test]
    fn portal_rules_text() {
        let (stop, _) = watch::channel(false);
        let info = ServicePortInfo {
            cluster_ip: "10.96.0.10".parse().unwrap(),
            port: 80,
            protocol: Protocol::Tcp,
            node_port: 30080,
            external_ips: vec![],
            load_balancer_ips: vec![],
            load_balancer_source_ranges: vec![],
            session_affinity_seconds: None,
            external_policy_local: false,
            internal_policy_local: false,
            health_check_node_port: 0,
        };
        let sockets: BTreeMap<ServicePortName, PortalSocket> = [(
            name(),
            PortalSocket {
                info,
                proxy_port: 40000,
                stop,
                node_port_open: true,
            },
        )]
        .into();
        let (nat, filter) = portal_rules(&sockets, "0.0.0.0".parse().unwrap());
        assert_eq!(
            nat,
            "*nat\n:KUBE-PORTALS-CONTAINER - [0:0]\n:KUBE-PORTALS-HOST - [0:0]\n\
:KUBE-NODEPORT-CONTAINER - [0:0]\n:KUBE-NODEPORT-HOST - [0:0]\n\
-A KUBE-PORTALS-CONTAINER -m comment --comment \"ns1/svc1:p80\" -m tcp -p tcp -d 10.96.0.10 --dport 80 -j REDIRECT --to-ports 40000\n\
-A KUBE-PORTALS-HOST -m comment --comment \"ns1/svc1:p80\" -m tcp -p tcp -d 10.96.0.10 --dport 80 -j REDIRECT --to-ports 40000\n\
-A KUBE-NODEPORT-CONTAINER -m comment --comment \"ns1/svc1:p80\" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j REDIRECT --to-ports 40000\n\
-A KUBE-NODEPORT-HOST -m comment --comment \"ns1/svc1:p80\" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j REDIRECT --to-ports 40000\n\
COMMIT\n"
        );
        assert_eq!(
            filter,
            "*filter\n:KUBE-NODEPORT-NON-LOCAL - [0:0]\n\
-A KUBE-NODEPORT-NON-LOCAL -m comment --comment \"ns1/svc1:p80\" -m tcp -p tcp --dport 40000 -j ACCEPT\n\
COMMIT\n"
        );
        let (nat, _) = portal_rules(&sockets, "192.168.0.10".parse().unwrap());
        assert_eq!(
            nat.matches("-j DNAT --to-destination 192.168.0.10:40000")
                .count(),
            2,
            "host traffic to the cluster IP and the node port: {nat}"
        );
    }
}
