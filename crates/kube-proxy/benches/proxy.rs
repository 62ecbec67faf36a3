//! kube-proxy benchmarks in network namespaces that the benchmark creates and removes.
//!
//! - iptables mode, per backend (the system's `iptables`, then `iptables-legacy`) and
//!   per service count, with 10 endpoints each. Cases: a full sync into an empty
//!   namespace, a full sync over the same rules (a restart), and a partial sync after
//!   one service's endpoints changed. Beside each: the rule generation alone (in-process) and
//!   iptables-restore alone with the same input in a fresh namespace, so the
//!   difference is what our code adds. CPU is the user plus system time of the child
//!   processes, which the shared machine's load does not inflate the way it inflates
//!   wall time.
//! - The userspace proxy: bulk TCP throughput and short connections per second
//!   through the proxy socket, beside the same traffic sent directly to the endpoint.
//!
//! Run as root: `cargo bench -p kube-proxy --bench proxy -- [services ...]` (default
//! 1000 10000). `PROXY_BENCH_PARTS` picks parts from `generation,iptables,userspace`
//! (default all); `generation` alone needs no root and suits
//! `valgrind --tool=callgrind`, whose instruction counts the machine's load does not
//! change.

#[path = "../tests/netns/mod.rs"]
#[allow(dead_code)]
mod netns;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube_proxy::endpoints::{EndpointsChangeTracker, EndpointsMap};
use kube_proxy::exec::{Cmd, CommandExecutor, Executor};
use kube_proxy::iptables::client::{Backend, Iptables, Mode};
use kube_proxy::iptables::ruleset::{self, RulesConfig, Ruleset, RulesetInput};
use kube_proxy::iptables::{NFT_CHUNK_CHAINS, Proxier, ProxierConfig};
use kube_proxy::metrics::ProxyMetrics;
use kube_proxy::net::IpFamily;
use kube_proxy::provider::Provider;
use kube_proxy::service::{NamespacedName, ServiceChangeTracker, ServicePortMap};
use kube_proxy::userspace::{UserspaceConfig, UserspaceProxier};

use netns::{Netns, NodeAndPod};

const ENDPOINTS_PER_SERVICE: usize = 10;
/// Partial syncs measured per case; the median and the slowest are printed.
const PARTIAL_ROUNDS: usize = 15;

/// Wall time plus the CPU time of child processes that ended meanwhile, split into
/// user time (iptables' own parsing and encoding) and system time (mostly the
/// kernel applying the rules).
#[derive(Clone, Copy, Debug, Default)]
struct Cost {
    wall: Duration,
    child_user: Duration,
    child_system: Duration,
}

impl std::fmt::Display for Cost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>9.1} ms wall {:>9.1} ms cpu ({:.1} user, {:.1} sys)",
            self.wall.as_secs_f64() * 1e3,
            (self.child_user + self.child_system).as_secs_f64() * 1e3,
            self.child_user.as_secs_f64() * 1e3,
            self.child_system.as_secs_f64() * 1e3
        )
    }
}

/// User and system CPU time of the child processes that ended so far.
fn children_cpu() -> (Duration, Duration) {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_CHILDREN with a valid pointer.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let time = |time: libc::timeval| {
        Duration::from_micros(time.tv_sec as u64 * 1_000_000 + time.tv_usec as u64)
    };
    (time(usage.ru_utime), time(usage.ru_stime))
}

fn measure<T>(work: impl FnOnce() -> T) -> (T, Cost) {
    let (user, system) = children_cpu();
    let started = Instant::now();
    let value = work();
    let (user_after, system_after) = children_cpu();
    let cost = Cost {
        wall: started.elapsed(),
        child_user: user_after.saturating_sub(user),
        child_system: system_after.saturating_sub(system),
    };
    (value, cost)
}

fn median(mut costs: Vec<Cost>) -> (Cost, Cost) {
    costs.sort_by_key(|cost| cost.wall);
    let middle = costs[costs.len() / 2];
    let worst = *costs.last().expect("at least one round");
    (middle, worst)
}

fn service_name(index: usize) -> String {
    format!("svc{index}")
}

fn cluster_ip(index: usize) -> String {
    format!("10.96.{}.{}", index / 250, index % 250 + 1)
}

/// Endpoint IPs of service `index`; `generation` varies the first one.
fn endpoint_ips(index: usize, generation: usize) -> Vec<String> {
    (0..ENDPOINTS_PER_SERVICE)
        .map(|endpoint| {
            let third = if endpoint == 0 { generation % 2 } else { 0 };
            format!(
                "10.{}.{}.{}",
                100 + endpoint + 20 * third,
                index / 250,
                index % 250 + 1
            )
        })
        .collect()
}

fn objects(count: usize) -> (Vec<Service>, Vec<EndpointSlice>) {
    let services = (0..count)
        .map(|index| netns::service(&service_name(index), &cluster_ip(index), 80, 8080))
        .collect();
    let slices = (0..count)
        .map(|index| {
            let ips = endpoint_ips(index, 0);
            let ips: Vec<&str> = ips.iter().map(String::as_str).collect();
            netns::slice(&service_name(index), &ips, 8080)
        })
        .collect();
    (services, slices)
}

fn changed_slice(index: usize, generation: usize) -> EndpointSlice {
    let ips = endpoint_ips(index, generation);
    let ips: Vec<&str> = ips.iter().map(String::as_str).collect();
    netns::slice(&service_name(index), &ips, 8080)
}

fn rules_config() -> RulesConfig {
    RulesConfig {
        cluster_cidr: Some("10.244.0.0/16".parse().expect("CIDR")),
        ..RulesConfig::default()
    }
}

/// Runs `work` on a thread that has entered `netns`, so every child process it starts
/// lives there.
fn in_namespace<T: Send>(netns: &Netns, work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                netns.enter_current_thread();
                work()
            })
            .join()
            .expect("benchmark thread")
    })
}

fn new_netns(label: &str) -> Netns {
    Netns::create(format!("kp-bench-{label}-{}", std::process::id()))
}

fn restore(iptables_restore: &str, input: &str) {
    CommandExecutor
        .run_checked(
            &Cmd::new(iptables_restore, &["--noflush", "--counters"])
                .with_stdin(input.as_bytes().to_vec()),
        )
        .unwrap_or_else(|error| panic!("{iptables_restore} rejected the input: {error}"));
}

fn restore_all(iptables_restore: &str, ruleset: &Ruleset, with_filter: bool) {
    if with_filter {
        restore(iptables_restore, &ruleset.filter);
    }
    for chunk in &ruleset.nat_chunks {
        restore(iptables_restore, chunk);
    }
    if !ruleset.nat.is_empty() {
        restore(iptables_restore, &ruleset.nat);
    }
}

fn new_proxier(backend: Backend) -> Proxier {
    Proxier::new(
        ProxierConfig {
            hostname: "node1".to_string(),
            family: IpFamily::V4,
            rules: rules_config(),
            min_sync_period: Duration::ZERO,
            sync_period: Duration::from_secs(3600),
            backend,
        },
        Arc::new(CommandExecutor),
        Arc::new(ProxyMetrics::new()),
    )
}

fn feed(proxier: &Proxier, services: &[Service], slices: &[EndpointSlice]) {
    for service in services {
        proxier.on_service_add(service);
    }
    for slice in slices {
        proxier.on_endpoint_slice_add(slice);
    }
    proxier.on_services_synced();
    proxier.on_endpoint_slices_synced();
}

fn maps(services: &[Service], slices: &[EndpointSlice]) -> (ServicePortMap, EndpointsMap) {
    let mut service_tracker = ServiceChangeTracker::new(IpFamily::V4);
    let mut endpoints_tracker = EndpointsChangeTracker::new("node1", IpFamily::V4);
    for service in services {
        service_tracker.update(None, Some(service));
    }
    for slice in slices {
        endpoints_tracker.endpoint_slice_update(slice, false);
    }
    let mut service_map = ServicePortMap::new();
    let mut endpoints_map = EndpointsMap::new();
    service_tracker.apply(&mut service_map);
    endpoints_tracker.apply(&mut endpoints_map);
    (service_map, endpoints_map)
}

/// Times `ruleset::build` alone, full and for one changed service.
fn generation_cost(
    services: &[Service],
    slices: &[EndpointSlice],
    chunk_chains: Option<usize>,
) -> (Duration, Duration) {
    let (service_map, mut endpoints_map) = maps(services, slices);
    let config = rules_config();
    let empty = BTreeSet::new();
    let full_input = |endpoints: &EndpointsMap| {
        ruleset::build(&RulesetInput {
            config: &config,
            services: &service_map,
            endpoints,
            changed: None,
            previous: &BTreeMap::new(),
            existing_chains: &empty,
            missing_jumps: &[],
            chunk_chains,
        })
    };
    let mut full_times = Vec::new();
    let mut ruleset = full_input(&endpoints_map);
    for _ in 0..3 {
        let started = Instant::now();
        ruleset = full_input(&endpoints_map);
        full_times.push(started.elapsed());
    }
    let previous: BTreeMap<_, _> = ruleset
        .services
        .into_iter()
        .filter_map(|(name, rules)| Some((name, rules?)))
        .collect();

    let (_, changed_endpoints) = maps(&[], &[changed_slice(7, 1)]);
    endpoints_map.extend(changed_endpoints);
    let changed: BTreeSet<NamespacedName> =
        [NamespacedName::new("default", &service_name(7))].into();
    let mut partial_times = Vec::new();
    for _ in 0..PARTIAL_ROUNDS {
        let started = Instant::now();
        let partial = ruleset::build(&RulesetInput {
            config: &config,
            services: &service_map,
            endpoints: &endpoints_map,
            changed: Some(&changed),
            previous: &previous,
            existing_chains: &empty,
            missing_jumps: &[],
            chunk_chains,
        });
        partial_times.push(started.elapsed());
        std::hint::black_box(partial);
    }
    full_times.sort();
    partial_times.sort();
    (full_times[1], partial_times[PARTIAL_ROUNDS / 2])
}

fn backend_programs(backend: Backend) -> &'static str {
    match backend {
        Backend::System => "iptables-restore",
        Backend::Nft => "iptables-nft-restore",
        Backend::Legacy => "iptables-legacy-restore",
    }
}

fn iptables_bench(backend: Backend, count: usize) {
    let iptables_restore = backend_programs(backend);
    let mode = Iptables::with_backend(Arc::new(CommandExecutor), IpFamily::V4, backend)
        .mode()
        .expect("iptables --version");
    let label =
        format!("{backend:?} ({mode:?}), {count} services x {ENDPOINTS_PER_SERVICE} endpoints");
    println!("\n## iptables, {label}");
    let (services, slices) = objects(count);
    let chunk_chains = (mode == Mode::Nft).then_some(NFT_CHUNK_CHAINS);

    let (full_generation, partial_generation) = generation_cost(&services, &slices, chunk_chains);

    let synced = new_netns("sync");
    let (full, partial, restart) = in_namespace(&synced, || {
        let proxier = new_proxier(backend);
        feed(&proxier, &services, &slices);
        let (report, full) = measure(|| proxier.sync_proxy_rules());
        let report = report.expect("full sync").expect("informers synced");
        let full_report = report;

        let mut partial_costs = Vec::new();
        let mut partial_inputs = Vec::new();
        for round in 1..=PARTIAL_ROUNDS {
            // A different service each round, whose first endpoint moves.
            let index = round * (count / (PARTIAL_ROUNDS + 1));
            proxier.on_endpoint_slice_update(&changed_slice(index, 0), &changed_slice(index, 1));
            let (report, cost) = measure(|| proxier.sync_proxy_rules());
            let report = report.expect("partial sync").expect("synced");
            assert!(!report.full, "the second sync is partial");
            partial_costs.push(cost);
            partial_inputs.push(report.ruleset.nat);
        }

        let restarted = new_proxier(backend);
        feed(&restarted, &services, &slices);
        let (report, restart) = measure(|| restarted.sync_proxy_rules());
        report.expect("restart sync").expect("synced");
        (
            (full_report, full),
            (partial_costs, partial_inputs),
            restart,
        )
    });
    let ((full_report, full_cost), (partial_costs, partial_inputs)) = (full, partial);
    drop(synced);

    let rules = full_report.ruleset.nat_rules;
    let chains = full_report.ruleset.chains().count();
    let nat_bytes: usize = full_report
        .ruleset
        .nat_chunks
        .iter()
        .map(String::len)
        .sum::<usize>()
        + full_report.ruleset.nat.len();
    println!(
        "ruleset: {rules} nat rules in {chains} service chains, {:.1} MB of restore input in {} nat inputs",
        nat_bytes as f64 / 1e6,
        full_report.ruleset.nat_chunks.len() + 1
    );

    // iptables-restore alone, same input, fresh namespace.
    let alone = new_netns("alone");
    let (restore_full, restore_partial) = in_namespace(&alone, || {
        let ((), full) = measure(|| restore_all(iptables_restore, &full_report.ruleset, true));
        let mut partial = Vec::new();
        for input in &partial_inputs {
            let ((), cost) = measure(|| restore(iptables_restore, input));
            partial.push(cost);
        }
        (full, partial)
    });
    drop(alone);

    let (partial_median, partial_worst) = median(partial_costs);
    let (restore_partial_median, restore_partial_worst) = median(restore_partial);
    println!("| case | sync | iptables-restore alone | generation alone |");
    println!("|---|---|---|---|");
    println!(
        "| full sync, empty table | {full_cost} | {restore_full} | {:.1} ms |",
        full_generation.as_secs_f64() * 1e3
    );
    println!("| full sync, rules present (restart) | {restart} | - | - |");
    println!(
        "| partial sync, one service's endpoints, median of {PARTIAL_ROUNDS} | {partial_median} | {restore_partial_median} | {:.2} ms |",
        partial_generation.as_secs_f64() * 1e3
    );
    println!(
        "| partial sync, slowest of {PARTIAL_ROUNDS} | {partial_worst} | {restore_partial_worst} | - |"
    );
    println!(
        "partial nat input: {} bytes; full sync runs {} restore inputs",
        partial_inputs.first().map(String::len).unwrap_or_default(),
        full_report.ruleset.nat_chunks.len() + 2
    );

    upstream_style_inputs(iptables_restore, mode, count, &services, &slices);
}

/// Restores the inputs that the previous design wrote, in a fresh namespace: the full
/// sync as one nat input, and a partial sync that rewrites all of KUBE-SERVICES (as
/// upstream 1.26+ does) besides the changed service's chains.
fn upstream_style_inputs(
    iptables_restore: &str,
    mode: Mode,
    count: usize,
    services: &[Service],
    slices: &[EndpointSlice],
) {
    let (service_map, endpoints_map) = maps(services, slices);
    let config = rules_config();
    let empty = BTreeSet::new();
    let single = ruleset::build(&RulesetInput {
        config: &config,
        services: &service_map,
        endpoints: &endpoints_map,
        changed: None,
        previous: &BTreeMap::new(),
        existing_chains: &empty,
        missing_jumps: &[],
        chunk_chains: None,
    });
    // iptables-nft-restore's cost of one input grows quadratically, so the single
    // input is restored only where it ends in minutes.
    let quadratic = mode == Mode::Nft && count > 2000;
    let netns = new_netns("single");
    let (single_cost, partial_costs) = in_namespace(&netns, || {
        let single_cost = if quadratic {
            restore_all(
                iptables_restore,
                &ruleset::build(&RulesetInput {
                    chunk_chains: Some(NFT_CHUNK_CHAINS),
                    config: &config,
                    services: &service_map,
                    endpoints: &endpoints_map,
                    changed: None,
                    previous: &BTreeMap::new(),
                    existing_chains: &empty,
                    missing_jumps: &[],
                }),
                true,
            );
            None
        } else {
            let ((), cost) = measure(|| restore_all(iptables_restore, &single, true));
            Some(cost)
        };

        // The fixed chains with every KUBE-SERVICES rule, plus one service's chains.
        let service = NamespacedName::new("default", &service_name(7));
        let service_chains: BTreeSet<&str> = single.services[&service]
            .as_ref()
            .expect("service rules")
            .chains
            .iter()
            .map(String::as_str)
            .collect();
        let fixed = [
            "KUBE-SERVICES",
            "KUBE-NODEPORTS",
            "KUBE-POSTROUTING",
            "KUBE-MARK-MASQ",
        ];
        let keep = |line: &str| {
            let chain = line
                .strip_prefix(':')
                .or_else(|| line.strip_prefix("-A "))
                .and_then(|rest| rest.split(' ').next());
            match chain {
                Some(chain) => fixed.contains(&chain) || service_chains.contains(chain),
                None => true,
            }
        };
        let input: String = single
            .nat
            .lines()
            .filter(|line| keep(line))
            .map(|line| format!("{line}\n"))
            .collect();
        let mut costs = Vec::new();
        for _ in 0..PARTIAL_ROUNDS {
            let ((), cost) = measure(|| {
                restore(iptables_restore, &single.filter);
                restore(iptables_restore, &input);
            });
            costs.push(cost);
        }
        (single_cost, costs)
    });
    drop(netns);
    let (partial_median, _) = median(partial_costs);
    match single_cost {
        Some(cost) => {
            println!("previous design, full sync as one nat input, restore alone: {cost}")
        }
        None => println!(
            "previous design, full sync as one nat input: not run (quadratic on nf_tables)"
        ),
    }
    println!(
        "previous design, partial sync with filter and all of KUBE-SERVICES, restore alone, median: {partial_median}"
    );
}

/// Reads until EOF, then replies with the byte count as 8 bytes.
fn serve_sink(listener: TcpListener, stop: Arc<AtomicBool>) {
    listener.set_nonblocking(true).expect("nonblocking");
    let mut buffer = vec![0u8; 256 * 1024];
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let mut total: u64 = 0;
                loop {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(read) => total += read as u64,
                    }
                }
                let _ = stream.write_all(&total.to_be_bytes());
            }
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}

/// Sends `bytes` to `address` and waits for the count; returns MB/s.
fn bulk(address: SocketAddr, bytes: u64) -> f64 {
    let chunk = vec![7u8; 256 * 1024];
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).expect("connect");
    let mut sent = 0;
    while sent < bytes {
        stream.write_all(&chunk).expect("send");
        sent += chunk.len() as u64;
    }
    stream
        .shutdown(std::net::Shutdown::Write)
        .expect("shutdown");
    let mut count = [0u8; 8];
    stream.read_exact(&mut count).expect("count");
    assert_eq!(u64::from_be_bytes(count), sent);
    sent as f64 / 1e6 / started.elapsed().as_secs_f64()
}

/// Opens `count` connections one after another, each sending one byte and reading
/// the count; returns connections per second and the median latency.
fn short_connections(address: SocketAddr, count: usize) -> (f64, Duration) {
    let mut latencies = Vec::with_capacity(count);
    let started = Instant::now();
    for _ in 0..count {
        let begun = Instant::now();
        let mut stream = TcpStream::connect(address).expect("connect");
        stream.write_all(b"x").expect("send");
        stream
            .shutdown(std::net::Shutdown::Write)
            .expect("shutdown");
        let mut reply = [0u8; 8];
        stream.read_exact(&mut reply).expect("reply");
        latencies.push(begun.elapsed());
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    (rate, latencies[count / 2])
}

fn userspace_bench() {
    println!("\n## userspace proxy, one TCP service, client in the node namespace");
    let node = NodeAndPod::create("bench-user");
    let stop = Arc::new(AtomicBool::new(false));
    let server_stop = Arc::clone(&stop);
    let pod_path = node.pod.path();
    let server = std::thread::spawn(move || {
        let file = std::fs::File::open(&pod_path).expect("open pod netns");
        // SAFETY: setns on a valid namespace fd affects only this thread.
        let entered =
            unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&file), libc::CLONE_NEWNET) };
        assert_eq!(entered, 0, "setns into the pod namespace");
        let listener = TcpListener::bind("10.244.1.2:8080").expect("bind sink");
        serve_sink(listener, server_stop);
    });
    std::thread::sleep(Duration::from_millis(200));

    let node_path = node.node.path();
    let results = std::thread::spawn(move || {
        let file = std::fs::File::open(&node_path).expect("open node netns");
        // SAFETY: as above, for the node namespace.
        let entered =
            unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&file), libc::CLONE_NEWNET) };
        assert_eq!(entered, 0, "setns into the node namespace");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let proxier = Arc::new(UserspaceProxier::new(
            UserspaceConfig {
                listen_ip: "0.0.0.0".parse().expect("address"),
                family: IpFamily::V4,
                sync_period: Duration::from_secs(3600),
                min_sync_period: Duration::ZERO,
            },
            Arc::new(CommandExecutor),
        ));
        proxier.on_service_add(&netns::service("sink", "10.96.0.10", 80, 8080));
        proxier.on_endpoint_slice_add(&netns::slice("sink", &["10.244.1.2"], 8080));
        proxier.on_services_synced();
        proxier.on_endpoint_slices_synced();
        let sync_proxier = Arc::clone(&proxier);
        runtime
            .block_on(async move {
                tokio::task::spawn_blocking(move || sync_proxier.sync_proxy_rules()).await
            })
            .expect("sync task")
            .expect("userspace sync");

        let direct: SocketAddr = "10.244.1.2:8080".parse().expect("address");
        let proxied: SocketAddr = "10.96.0.10:80".parse().expect("address");
        let bytes = 1 << 30;
        let mut rows = Vec::new();
        for (label, address) in [("direct", direct), ("userspace proxy", proxied)] {
            let mut rates: Vec<f64> = (0..3).map(|_| bulk(address, bytes)).collect();
            rates.sort_by(f64::total_cmp);
            let (connections, latency) = short_connections(address, 2000);
            rows.push((label, rates[1], connections, latency));
        }
        let cleaned = !kube_proxy::userspace::cleanup(&CommandExecutor);
        drop(runtime);
        (rows, cleaned)
    })
    .join()
    .expect("client thread");
    stop.store(true, Ordering::SeqCst);
    server.join().expect("server thread");

    let (rows, cleaned) = results;
    println!(
        "| path | bulk 1 GiB, median of 3 | 2,000 sequential connections | median connection |"
    );
    println!("|---|---|---|---|");
    for (label, rate, connections, latency) in &rows {
        println!(
            "| {label} | {rate:.0} MB/s | {connections:.0} per s | {:.0} us |",
            latency.as_secs_f64() * 1e6
        );
    }
    println!(
        "proxy / direct: throughput {:.2}, connection rate {:.2}",
        rows[1].1 / rows[0].1,
        rows[1].2 / rows[0].2
    );
    assert!(cleaned, "userspace cleanup");
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1000, 10000]
    } else {
        sizes
    };
    let parts = std::env::var("PROXY_BENCH_PARTS")
        .unwrap_or_else(|_| "generation,iptables,userspace".to_string());
    let parts: Vec<&str> = parts.split(',').map(str::trim).collect();
    let version = CommandExecutor
        .run(&Cmd::new("iptables", &["--version"]))
        .map(|output| output.stdout.trim().to_string())
        .unwrap_or_else(|error| error.to_string());
    println!(
        "# kube-proxy benchmark: {} cores, `iptables --version`: {version}",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    if parts.contains(&"generation") {
        println!("\n## rule generation alone (ruleset::build), median");
        for count in &sizes {
            let (services, slices) = objects(*count);
            let (full, partial) = generation_cost(&services, &slices, Some(NFT_CHUNK_CHAINS));
            println!(
                "{count} services x {ENDPOINTS_PER_SERVICE} endpoints: full {:.1} ms, one service changed {:.3} ms",
                full.as_secs_f64() * 1e3,
                partial.as_secs_f64() * 1e3
            );
        }
    }
    if parts.contains(&"iptables") {
        for backend in [Backend::System, Backend::Legacy] {
            for count in &sizes {
                iptables_bench(backend, *count);
            }
        }
    }
    if parts.contains(&"userspace") {
        userspace_bench();
    }
}
