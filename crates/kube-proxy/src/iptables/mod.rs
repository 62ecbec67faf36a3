//! The iptables proxier: keeps services and endpoints from the informers and programs
//! them as filter and nat rules with one `iptables-restore --noflush --counters` per
//! table.
//!
//! Entry point: [`Proxier::new`], then feed it events through [`Provider`] and run
//! [`Proxier::sync_loop`]. [`Proxier::sync_proxy_rules`] does one sync. The first sync
//! and one every hour (or after a failure) are full: every chain is rewritten, stale
//! chains found in `iptables-save` are deleted and missing jumps from the built-in
//! chains are inserted. Other syncs rewrite only the per-service chains of services
//! that changed, replace only their rules in KUBE-SERVICES and KUBE-NODEPORTS, and
//! leave the rest, including packet counters, untouched. The filter table is restored
//! only when its text changed.

pub mod chains;
pub mod client;
pub mod ruleset;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::conntrack::Conntrack;
use crate::endpoints::{EndpointsMap, EndpointsUpdateResult};
use crate::exec::{ExecError, Executor};
use crate::health::ProxierHealth;
use crate::metrics::ProxyMetrics;
use crate::net::IpFamily;
use crate::provider::{ChangeTrackers, Provider};
use crate::runner::{BoundedFrequencyRunner, RunOutcome};
use crate::service::{NamespacedName, Protocol, ServicePortMap, ServiceUpdateResult};
use client::{Backend, Iptables, Mode};
use ruleset::{RulesConfig, Ruleset, RulesetInput, ServiceRules};

/// Rules in KUBE-POSTROUTING and KUBE-MARK-MASQ, which every sync writes.
const FIXED_NAT_RULES: usize = 4;

/// How long partial syncs may go on before a full one, as upstream does.
const FULL_SYNC_PERIOD: Duration = Duration::from_secs(3600);

/// Per-service chains per nat restore input in a full sync on nf_tables.
/// iptables-nft-restore 1.8.9 spends time quadratic in the size of one input: 1,000
/// services with 10 endpoints took 8.6 s of CPU as one input and 0.86 s as twelve
/// (`cargo bench -p kube-proxy --bench proxy`, on 2 shared cores). Chains already in the kernel cost
/// little, so a full sync fills per-service chains in inputs of about this size
/// before the input that rewrites KUBE-SERVICES. With iptables-legacy every restore
/// replaces the whole table, so one input is cheapest there.
pub const NFT_CHUNK_CHAINS: usize = 1000;

/// Settings of an iptables proxier.
#[derive(Clone, Debug)]
pub struct ProxierConfig {
    /// This node's name; endpoints with this `nodeName` are local.
    pub hostname: String,
    pub family: IpFamily,
    pub rules: RulesConfig,
    /// `--iptables-min-sync-period`.
    pub min_sync_period: Duration,
    /// `--iptables-sync-period`.
    pub sync_period: Duration,
    /// The iptables programs to run; upstream's default is the system's.
    pub backend: Backend,
}

/// A sync that did not complete. The next sync is a full one.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("failed to set up the kube-proxy chains and jumps: {0}")]
    Setup(#[source] ExecError),
    #[error("failed to list existing chains with iptables-save: {0}")]
    Save(#[source] ExecError),
    #[error("failed to find the iptables backend with iptables --version: {0}")]
    Version(#[source] ExecError),
    #[error("failed to apply the {table} table with iptables-restore: {source}")]
    Restore {
        table: &'static str,
        #[source]
        source: ExecError,
    },
}

/// The outcome of one sync: its kind and the restore input it applied.
#[derive(Debug)]
pub struct SyncReport {
    /// Whether every per-service chain was rewritten.
    pub full: bool,
    pub ruleset: Ruleset,
}

struct SyncState {
    services: ServicePortMap,
    endpoints: EndpointsMap,
    needs_full_sync: bool,
    last_full_sync: Option<Instant>,
    /// The rules each service owns in the kernel after the last successful sync.
    rules: BTreeMap<NamespacedName, ServiceRules>,
    /// The filter input of the last successful sync.
    last_filter: String,
    /// The backend's kernel interface, found at the first full sync.
    mode: Option<Mode>,
}

/// The iptables proxier. Cheap to share behind an `Arc`.
pub struct Proxier {
    config: ProxierConfig,
    iptables: Iptables,
    conntrack: Conntrack,
    changes: Mutex<ChangeTrackers>,
    state: Mutex<SyncState>,
    runner: Arc<BoundedFrequencyRunner>,
    metrics: Arc<ProxyMetrics>,
    health: Arc<ProxierHealth>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Proxier {
    /// Builds a proxier that runs its commands through `executor`. Nothing touches the
    /// kernel before the first sync.
    pub fn new(
        config: ProxierConfig,
        executor: Arc<dyn Executor>,
        metrics: Arc<ProxyMetrics>,
    ) -> Self {
        let runner =
            BoundedFrequencyRunner::new("sync-runner", config.min_sync_period, config.sync_period);
        Proxier {
            changes: Mutex::new(ChangeTrackers::new(&config.hostname, config.family)),
            state: Mutex::new(SyncState {
                services: ServicePortMap::new(),
                endpoints: EndpointsMap::new(),
                needs_full_sync: true,
                last_full_sync: None,
                rules: BTreeMap::new(),
                last_filter: String::new(),
                mode: None,
            }),
            iptables: Iptables::with_backend(Arc::clone(&executor), config.family, config.backend),
            conntrack: Conntrack::new(executor),
            runner,
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
                        tracing::error!(%error, "failed to sync iptables rules; retrying with a full sync");
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

    /// Returns whether both informers have delivered their initial list.
    pub fn is_initialized(&self) -> bool {
        let changes = lock(&self.changes);
        changes.is_initialized()
    }

    /// Writes the current state to the kernel. Returns `Ok(None)` before both
    /// informers have synced. On error the change trackers are already drained, so
    /// the next sync is a full one.
    pub fn sync_proxy_rules(&self) -> Result<Option<SyncReport>, SyncError> {
        let started = Instant::now();
        let mut state = lock(&self.state);
        let (service_result, endpoints_result) = {
            let mut changes = lock(&self.changes);
            if !changes.is_initialized() {
                tracing::debug!(
                    "not syncing iptables rules until services and endpoint slices are synced"
                );
                return Ok(None);
            }
            let state = &mut *state;
            let service_result = changes.services.apply(&mut state.services);
            let endpoints_result = changes.endpoints.apply(&mut state.endpoints);
            (service_result, endpoints_result)
        };

        let full = state.needs_full_sync
            || state
                .last_full_sync
                .is_none_or(|last| last.elapsed() > FULL_SYNC_PERIOD);
        let result = self.write_rules(&mut state, full, &service_result, &endpoints_result);
        match &result {
            Ok(report) => {
                state.needs_full_sync = false;
                if full {
                    state.last_full_sync = Some(Instant::now());
                    state.rules.clear();
                }
                for (service, update) in &report.ruleset.services {
                    match update {
                        Some(rules) => state.rules.insert(service.clone(), rules.clone()),
                        None => state.rules.remove(service),
                    };
                }
                // A full sync's filter input also inserts missing jumps into built-in
                // chains, which a partial build never writes. They are left out, so the
                // next partial sync compares like with like.
                state.last_filter = report
                    .ruleset
                    .filter
                    .lines()
                    .filter(|line| !line.starts_with("-I "))
                    .fold(String::new(), |mut text, line| {
                        text.push_str(line);
                        text.push('\n');
                        text
                    });
                let nat_rules = FIXED_NAT_RULES
                    + self.config.rules.node_port_ips.len().max(1)
                    + state
                        .rules
                        .values()
                        .map(ServiceRules::nat_rule_count)
                        .sum::<usize>();
                let services = state.rules.len();
                drop(state);
                self.clear_stale_conntrack(&service_result, &endpoints_result);
                self.metrics
                    .set_rules("filter", report.ruleset.filter_rules);
                self.metrics.set_rules("nat", nat_rules);
                self.metrics
                    .record_sync(started.elapsed(), &endpoints_result.trigger_times);
                tracing::info!(full, elapsed = ?started.elapsed(), services, "synced iptables rules");
            }
            Err(_) => {
                state.needs_full_sync = true;
                self.metrics
                    .sync_duration
                    .observe(started.elapsed().as_secs_f64());
            }
        }
        result.map(Some)
    }

    fn write_rules(
        &self,
        state: &mut SyncState,
        full: bool,
        service_result: &ServiceUpdateResult,
        endpoints_result: &EndpointsUpdateResult,
    ) -> Result<SyncReport, SyncError> {
        let mode = match state.mode {
            Some(mode) => mode,
            None => {
                let mode = self.iptables.mode().map_err(SyncError::Version)?;
                tracing::info!(?mode, "detected the iptables backend");
                state.mode = Some(mode);
                mode
            }
        };
        let mut existing_chains = BTreeSet::new();
        let mut missing_jumps = Vec::new();
        if full {
            for table in ["filter", "nat"] {
                let save = self.iptables.save(table).map_err(SyncError::Save)?;
                missing_jumps.extend(ruleset::missing_jumps(&save, table));
                if table == "nat" {
                    existing_chains = ruleset::service_chains_in_save(&save);
                }
            }
        }
        let changed: BTreeSet<NamespacedName> = service_result
            .updated_services
            .iter()
            .chain(&endpoints_result.updated_services)
            .cloned()
            .collect();
        let ruleset = ruleset::build(&RulesetInput {
            config: &self.config.rules,
            services: &state.services,
            endpoints: &state.endpoints,
            changed: if full { None } else { Some(&changed) },
            previous: &state.rules,
            existing_chains: &existing_chains,
            missing_jumps: &missing_jumps,
            chunk_chains: (mode == Mode::Nft).then_some(NFT_CHUNK_CHAINS),
        });

        let mut inputs: Vec<(&'static str, &str)> = Vec::new();
        if full || ruleset.filter != state.last_filter {
            inputs.push(("filter", &ruleset.filter));
        }
        inputs.extend(
            ruleset
                .nat_chunks
                .iter()
                .map(|chunk| ("nat", chunk.as_str())),
        );
        if !ruleset.nat.is_empty() {
            inputs.push(("nat", &ruleset.nat));
        }
        for (table, data) in inputs {
            if let Err(source) = self.iptables.restore(data) {
                self.metrics.restore_failures.inc();
                tracing::debug!(table, input = %data, "rejected iptables-restore input");
                return Err(SyncError::Restore { table, source });
            }
        }
        Ok(SyncReport { full, ruleset })
    }

    /// Deletes conntrack entries that would keep UDP flows on removed endpoints or on
    /// a cached rejection. Failures are logged and do not fail the sync.
    fn clear_stale_conntrack(
        &self,
        service_result: &ServiceUpdateResult,
        endpoints_result: &EndpointsUpdateResult,
    ) {
        let state = lock(&self.state);
        let log_error = |what: &str, result: Result<(), ExecError>| {
            if let Err(error) = result {
                tracing::warn!(%error, what, "failed to delete stale conntrack entries");
            }
        };
        for ip in &service_result.deleted_udp_cluster_ips {
            log_error(
                "cluster IP",
                self.conntrack.clear_entries_for_ip(*ip, Protocol::Udp),
            );
        }
        for name in &endpoints_result.new_udp_services_with_endpoints {
            let Some(service) = state.services.get(name) else {
                continue;
            };
            for ip in service_ips(service) {
                log_error(
                    "service IP",
                    self.conntrack.clear_entries_for_ip(ip, Protocol::Udp),
                );
            }
            if service.node_port != 0 {
                log_error(
                    "node port",
                    self.conntrack.clear_entries_for_port(
                        service.node_port,
                        self.config.family == IpFamily::V6,
                        Protocol::Udp,
                    ),
                );
            }
        }
        for (name, endpoint) in &endpoints_result.deleted_udp_endpoints {
            let Some(service) = state.services.get(name) else {
                continue;
            };
            for ip in service_ips(service) {
                log_error(
                    "endpoint",
                    self.conntrack
                        .clear_entries_for_nat(ip, endpoint.ip, Protocol::Udp),
                );
            }
            if service.node_port != 0 {
                log_error(
                    "node port endpoint",
                    self.conntrack.clear_entries_for_port_nat(
                        endpoint.ip,
                        service.node_port,
                        Protocol::Udp,
                    ),
                );
            }
        }
    }

    /// Removes every chain and jump this proxier creates (`--cleanup`). Returns whether
    /// any step failed; the remaining steps still run.
    pub fn cleanup(&self) -> bool {
        let mut failed = false;
        for jump in &chains::JUMPS {
            if let Err(error) = self
                .iptables
                .delete_rule(jump.table, jump.from, &jump.args())
            {
                tracing::warn!(%error, chain = jump.from, "failed to delete jump rule");
                failed = true;
            }
        }
        for (table, fixed) in [
            ("filter", &chains::FILTER_CHAINS[..]),
            ("nat", &chains::NAT_CHAINS[..]),
        ] {
            let save = match self.iptables.save(table) {
                Ok(save) => save,
                Err(error) => {
                    tracing::warn!(%error, table, "failed to list chains for cleanup");
                    failed = true;
                    continue;
                }
            };
            let mut doomed: Vec<String> =
                ruleset::service_chains_in_save(&save).into_iter().collect();
            let present = ruleset::rules_per_chain(&save);
            for chain in fixed {
                if save
                    .lines()
                    .any(|line| line.starts_with(&format!(":{chain} ")))
                    || present.contains_key(*chain)
                {
                    doomed.push(chain.to_string());
                }
            }
            if doomed.is_empty() {
                continue;
            }
            let mut data = format!("*{table}\n");
            for chain in &doomed {
                data.push_str(&format!(":{chain} - [0:0]\n"));
            }
            for chain in &doomed {
                data.push_str(&format!("-X {chain}\n"));
            }
            data.push_str("COMMIT\n");
            if let Err(error) = self.iptables.restore(&data) {
                tracing::warn!(%error, table, "failed to delete kube-proxy chains");
                failed = true;
            }
        }
        failed
    }
}

fn service_ips(service: &crate::service::ServicePortInfo) -> Vec<IpAddr> {
    let mut ips = vec![service.cluster_ip];
    ips.extend(&service.external_ips);
    ips.extend(&service.load_balancer_ips);
    ips
}

impl Provider for Proxier {
    fn changes(&self) -> &Mutex<ChangeTrackers> {
        &self.changes
    }

    /// Requests a sync if both informers have synced.
    fn request_sync(&self) {
        self.health.queued_update();
        let changes = lock(&self.changes);
        if changes.is_initialized() {
            self.runner.request();
        }
    }
}

#[cfg(test)]
mod tests;
