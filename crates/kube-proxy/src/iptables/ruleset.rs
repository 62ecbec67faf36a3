//! Generation of the iptables-restore input for the filter and nat tables from the
//! current service and endpoint maps. Pure: no commands run here.
//!
//! Entry point: [`build`]. A full build declares (and so flushes under `--noflush`) and
//! rewrites every fixed chain and every per-service chain, and deletes the stale
//! per-service chains found in the kernel. A partial build visits only the changed
//! services: it rewrites their per-service chains, deletes the chains they no longer
//! use, and replaces only their own rules in the fixed nat chains with `-D` and `-I`
//! lines, so its size does not grow with the number of services. [`ServiceRules`]
//! records what each service owns between syncs so that a partial build can do that.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::{self, Write as _};
use std::net::IpAddr;

use super::chains::{
    self, Jump, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_MARK_MASQ, KUBE_NODEPORTS,
    KUBE_POSTROUTING, KUBE_PROXY_FIREWALL, KUBE_SERVICES,
};
use crate::endpoints::{Endpoint, EndpointsMap, categorize_endpoints};
use crate::net::Cidr;
use crate::service::{NamespacedName, Protocol, ServicePortInfo, ServicePortMap, ServicePortName};

/// Settings of the iptables proxier that shape the rules.
#[derive(Clone, Debug)]
pub struct RulesConfig {
    /// Pod network of the cluster; traffic to a cluster IP from outside it is
    /// masqueraded. `None` disables that check.
    pub cluster_cidr: Option<Cidr>,
    /// Masquerade all traffic sent to cluster IPs.
    pub masquerade_all: bool,
    /// The fwmark bit that flags packets for masquerading (upstream default 14, so 0x4000).
    pub masquerade_bit: u8,
    /// Node IPs on which node ports are served; empty means every local address.
    pub node_port_ips: Vec<IpAddr>,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            cluster_cidr: None,
            masquerade_all: false,
            masquerade_bit: 14,
            node_port_ips: Vec::new(),
        }
    }
}

impl RulesConfig {
    fn mark(&self) -> String {
        format!("{:#x}", 1u32 << self.masquerade_bit)
    }
}

/// A rule that a service owns in a fixed nat chain (KUBE-SERVICES or KUBE-NODEPORTS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedRule {
    pub chain: &'static str,
    /// Everything after `-A CHAIN `.
    pub spec: String,
}

/// The part of the ruleset that one Service owns, as the last successful sync wrote it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceRules {
    /// Per-service nat chains (`KUBE-SVC-`, `KUBE-SVL-`, `KUBE-EXT-`, `KUBE-FW-`, `KUBE-SEP-`).
    pub chains: Vec<String>,
    /// Rules in the fixed nat chains, in the order they were written.
    pub nat_rules: Vec<FixedRule>,
    /// Complete `-A` lines in the fixed filter chains.
    pub filter_rules: Vec<String>,
    /// Rules inside the per-service chains.
    pub chain_rule_count: usize,
}

impl ServiceRules {
    /// Returns the number of nat rules this service contributes.
    pub fn nat_rule_count(&self) -> usize {
        self.nat_rules.len() + self.chain_rule_count
    }
}

/// The restore inputs of one sync and what they contain.
#[derive(Debug, Default)]
pub struct Ruleset {
    /// iptables-restore input for the filter table, `*filter` to `COMMIT`. Always
    /// complete, so a partial sync can skip it when it equals the last one applied.
    pub filter: String,
    /// Inputs for the nat table that fill per-service chains, applied before [`Ruleset::nat`].
    /// Only a full build split into chunks has them.
    pub nat_chunks: Vec<String>,
    /// The nat input applied last: fixed chains, stale chain deletions and jumps from
    /// built-in chains. Empty when a partial build has nothing to change in nat.
    pub nat: String,
    /// The new rules of every service the build visited; `None` for a service that
    /// no longer has any. A full build visits every service.
    pub services: BTreeMap<NamespacedName, Option<ServiceRules>>,
    /// Rules written to the filter table.
    pub filter_rules: usize,
    /// Rules written to the nat table (`-A` and `-I` lines; a partial build writes
    /// only those of the changed services).
    pub nat_rules: usize,
}

impl Ruleset {
    /// Iterates over the per-service chains of the services this build visited.
    pub fn chains(&self) -> impl Iterator<Item = &str> {
        self.services
            .values()
            .flatten()
            .flat_map(|rules| rules.chains.iter().map(String::as_str))
    }

    /// Returns whether a visited service uses `chain`.
    pub fn has_chain(&self, chain: &str) -> bool {
        self.chains().any(|name| name == chain)
    }
}

/// Input of [`build`].
pub struct RulesetInput<'a> {
    pub config: &'a RulesConfig,
    pub services: &'a ServicePortMap,
    pub endpoints: &'a EndpointsMap,
    /// Services whose rules are rewritten; `None` rewrites all of them (a full build).
    pub changed: Option<&'a BTreeSet<NamespacedName>>,
    /// The rules of each service as the last successful sync wrote them. A partial
    /// build replaces the changed services' share of them, and a full build ignores them.
    pub previous: &'a BTreeMap<NamespacedName, ServiceRules>,
    /// Full build: per-service nat chains that exist now; those not produced again are
    /// deleted.
    pub existing_chains: &'a BTreeSet<String>,
    /// Full build: jumps from built-in chains that the kernel lacks. Each is inserted
    /// at the top of its chain.
    pub missing_jumps: &'a [&'static Jump],
    /// Full build: the number of per-service chains after which a new nat input starts.
    /// `None` writes one nat input. iptables-nft 1.8.9 spends time quadratic in the
    /// size of one input, while iptables-legacy rewrites the whole table per input.
    pub chunk_chains: Option<usize>,
}

/// Declarations and rules of per-service chains.
#[derive(Default)]
struct ChainBodies {
    declarations: String,
    rules: String,
    chains: usize,
    rule_count: usize,
}

impl ChainBodies {
    fn declare(&mut self, chain: &str) {
        let _ = writeln!(self.declarations, ":{chain} - [0:0]");
        self.chains += 1;
    }

    fn rule(&mut self, chain: &str, spec: fmt::Arguments<'_>) {
        let _ = writeln!(self.rules, "-A {chain} {spec}");
        self.rule_count += 1;
    }
}

/// One restore input under construction: `*table`, declarations, rules, deletions,
/// `COMMIT`.
struct TableText {
    table: &'static str,
    declarations: String,
    rules: String,
    deletions: String,
    rule_count: usize,
}

impl TableText {
    fn new(table: &'static str) -> Self {
        TableText {
            table,
            declarations: String::new(),
            rules: String::new(),
            deletions: String::new(),
            rule_count: 0,
        }
    }

    fn declare(&mut self, chain: &str) {
        let _ = writeln!(self.declarations, ":{chain} - [0:0]");
    }

    fn rule(&mut self, line: fmt::Arguments<'_>) {
        let _ = self.rules.write_fmt(line);
        self.rules.push('\n');
        self.rule_count += 1;
    }

    /// Adds a line that changes no rule count, such as `-D`.
    fn command(&mut self, line: fmt::Arguments<'_>) {
        let _ = self.rules.write_fmt(line);
        self.rules.push('\n');
    }

    /// Flushes (by declaring) and then deletes `chain`.
    fn delete(&mut self, chain: &str) {
        self.declare(chain);
        let _ = writeln!(self.deletions, "-X {chain}");
    }

    fn has_content(&self) -> bool {
        !self.declarations.is_empty() || !self.rules.is_empty() || !self.deletions.is_empty()
    }

    fn finish(self) -> String {
        let mut out = String::with_capacity(
            self.declarations.len() + self.rules.len() + self.deletions.len() + 16,
        );
        let _ = writeln!(out, "*{}", self.table);
        out.push_str(&self.declarations);
        out.push_str(&self.rules);
        out.push_str(&self.deletions);
        out.push_str("COMMIT\n");
        out
    }
}

/// Builds the restore inputs for the given state.
pub fn build(input: &RulesetInput<'_>) -> Ruleset {
    let mut services = BTreeMap::new();
    let mut bodies = vec![ChainBodies::default()];
    match input.changed {
        None => {
            let mut ports = input.services.iter().peekable();
            while let Some((first_name, _)) = ports.peek() {
                let service = first_name.service.clone();
                let group =
                    std::iter::from_fn(|| ports.next_if(|(name, _)| name.service == service));
                let current = bodies.last_mut().expect("bodies is never empty");
                let rules = write_service(input, group, current);
                if input
                    .chunk_chains
                    .is_some_and(|limit| current.chains >= limit)
                {
                    bodies.push(ChainBodies::default());
                }
                services.insert(service, Some(rules));
            }
        }
        Some(changed) => {
            let current = bodies.last_mut().expect("bodies is never empty");
            for service in changed {
                let start = ServicePortName {
                    service: service.clone(),
                    port: String::new(),
                    protocol: Protocol::Tcp,
                };
                let mut group = input
                    .services
                    .range(start..)
                    .take_while(|(name, _)| name.service == *service)
                    .peekable();
                let update = group
                    .peek()
                    .is_some()
                    .then(|| write_service(input, group, current));
                services.insert(service.clone(), update);
            }
        }
    }

    let (filter, filter_rules) = build_filter(input, &services);
    let (nat_chunks, nat, nat_rules) = if input.changed.is_none() {
        build_full_nat(input, &services, bodies)
    } else {
        let (nat, nat_rules) = build_partial_nat(input, &services, bodies);
        (Vec::new(), nat, nat_rules)
    };
    Ruleset {
        filter,
        nat_chunks,
        nat,
        services,
        filter_rules,
        nat_rules,
    }
}

/// Writes the chains of one service (all its ports) into `bodies` and returns what
/// the service owns.
fn write_service<'a>(
    input: &RulesetInput<'_>,
    ports: impl Iterator<Item = (&'a ServicePortName, &'a ServicePortInfo)>,
    bodies: &mut ChainBodies,
) -> ServiceRules {
    let mut rules = ServiceRules::default();
    let rule_count_before = bodies.rule_count;
    for (name, service) in ports {
        let endpoints = input
            .endpoints
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        ServiceWriter {
            config: input.config,
            name,
            service,
            rules: &mut rules,
            bodies,
        }
        .write(endpoints);
    }
    rules.chain_rule_count = bodies.rule_count - rule_count_before;
    rules
}

fn build_filter(
    input: &RulesetInput<'_>,
    services: &BTreeMap<NamespacedName, Option<ServiceRules>>,
) -> (String, usize) {
    let mut filter = TableText::new("filter");
    for chain in chains::FILTER_CHAINS {
        filter.declare(chain);
    }
    write_fixed_filter_rules(input.config, &mut filter);

    let mut write = |rules: &ServiceRules| {
        for line in &rules.filter_rules {
            filter.rule(format_args!("{line}"));
        }
    };
    if input.changed.is_none() {
        services.values().flatten().for_each(&mut write);
    } else {
        // Merge the previous rules of unchanged services with the new ones, in
        // service order, so the text is identical when nothing in it changed.
        let mut updates = services.iter().peekable();
        for (service, previous) in input.previous {
            while let Some((_, update)) = updates.next_if(|(name, _)| *name < service) {
                update.iter().for_each(&mut write);
            }
            match updates.next_if(|(name, _)| *name == service) {
                Some((_, update)) => update.iter().for_each(&mut write),
                None => write(previous),
            }
        }
        for (_, update) in updates {
            update.iter().for_each(&mut write);
        }
    }

    for jump in input.missing_jumps.iter().filter(|j| j.table == "filter") {
        filter.command(format_args!("-I {} 1 {}", jump.from, jump.spec()));
    }
    let rule_count = filter.rule_count;
    (filter.finish(), rule_count)
}

fn write_fixed_filter_rules(config: &RulesConfig, filter: &mut TableText) {
    let mark = config.mark();
    filter.rule(format_args!(
        "-A {KUBE_FORWARD} -m conntrack --ctstate INVALID -j DROP"
    ));
    filter.rule(format_args!(
        "-A {KUBE_FORWARD} -m comment --comment \"kubernetes forwarding rules\" -m mark --mark {mark}/{mark} -j ACCEPT"
    ));
    filter.rule(format_args!(
        "-A {KUBE_FORWARD} -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
    ));
}

fn write_fixed_nat_rules(config: &RulesConfig, nat: &mut TableText) {
    let mark = config.mark();
    nat.rule(format_args!(
        "-A {KUBE_POSTROUTING} -m mark ! --mark {mark}/{mark} -j RETURN"
    ));
    nat.rule(format_args!(
        "-A {KUBE_POSTROUTING} -j MARK --xor-mark {mark}"
    ));
    nat.rule(format_args!(
        "-A {KUBE_POSTROUTING} -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully"
    ));
    nat.rule(format_args!("-A {KUBE_MARK_MASQ} -j MARK --or-mark {mark}"));
}

/// Writes the jump from KUBE-SERVICES to KUBE-NODEPORTS, which must stay the last
/// rule of KUBE-SERVICES.
fn write_nodeports_jump(config: &RulesConfig, nat: &mut TableText) {
    let comment =
        "\"kubernetes service nodeports; NOTE: this must be the last rule in this chain\"";
    if config.node_port_ips.is_empty() {
        nat.rule(format_args!(
            "-A {KUBE_SERVICES} -m comment --comment {comment} -m addrtype --dst-type LOCAL -j {KUBE_NODEPORTS}"
        ));
        return;
    }
    for ip in &config.node_port_ips {
        nat.rule(format_args!(
            "-A {KUBE_SERVICES} -m comment --comment {comment} -d {ip} -j {KUBE_NODEPORTS}"
        ));
    }
}

/// Returns the chunks and the final nat input of a full build, and the rules written.
fn build_full_nat(
    input: &RulesetInput<'_>,
    services: &BTreeMap<NamespacedName, Option<ServiceRules>>,
    mut bodies: Vec<ChainBodies>,
) -> (Vec<String>, String, usize) {
    let mut nat = TableText::new("nat");
    for chain in chains::NAT_CHAINS {
        nat.declare(chain);
    }
    let mut rule_count = 0;
    let mut chunks = Vec::new();
    bodies.retain(|body| body.chains > 0 || body.rule_count > 0);
    let inline = if input.chunk_chains.is_some() {
        // Endpoint and external chains jump to KUBE-MARK-MASQ, which must exist before
        // the first chunk. Its one rule never changes, so rewriting it here leaves no
        // moment in which it is empty.
        let mark = input.config.mark();
        let mark_chain =
            format!(":{KUBE_MARK_MASQ} - [0:0]\n-A {KUBE_MARK_MASQ} -j MARK --or-mark {mark}\n");
        for (index, body) in bodies.into_iter().enumerate() {
            rule_count += body.rule_count;
            let prefix = if index == 0 {
                rule_count += 1;
                mark_chain.as_str()
            } else {
                ""
            };
            chunks.push(format!(
                "*nat\n{prefix}{}{}COMMIT\n",
                body.declarations, body.rules
            ));
        }
        None
    } else {
        bodies.pop()
    };
    if let Some(body) = &inline {
        nat.declarations.push_str(&body.declarations);
    }

    write_fixed_nat_rules(input.config, &mut nat);
    for rules in services.values().flatten() {
        for rule in &rules.nat_rules {
            nat.rule(format_args!("-A {} {}", rule.chain, rule.spec));
        }
    }
    if let Some(body) = inline {
        nat.rules.push_str(&body.rules);
        nat.rule_count += body.rule_count;
    }
    write_nodeports_jump(input.config, &mut nat);

    if !input.existing_chains.is_empty() {
        let active: HashSet<&str> = services
            .values()
            .flatten()
            .flat_map(|rules| rules.chains.iter().map(String::as_str))
            .collect();
        for chain in input.existing_chains {
            if !active.contains(chain.as_str()) {
                nat.delete(chain);
            }
        }
    }
    for jump in input.missing_jumps.iter().filter(|j| j.table == "nat") {
        nat.command(format_args!("-I {} 1 {}", jump.from, jump.spec()));
    }
    rule_count += nat.rule_count;
    (chunks, nat.finish(), rule_count)
}

/// Returns the nat input of a partial build, empty when nothing changes, and the
/// rules written.
fn build_partial_nat(
    input: &RulesetInput<'_>,
    services: &BTreeMap<NamespacedName, Option<ServiceRules>>,
    bodies: Vec<ChainBodies>,
) -> (String, usize) {
    let mut nat = TableText::new("nat");
    let mut inserted = Vec::new();
    for (service, update) in services {
        let previous = input.previous.get(service);
        let old_rules = previous.map(|p| p.nat_rules.as_slice()).unwrap_or_default();
        let new_rules = update
            .as_ref()
            .map(|u| u.nat_rules.as_slice())
            .unwrap_or_default();
        for rule in old_rules.iter().filter(|rule| !new_rules.contains(rule)) {
            nat.command(format_args!("-D {} {}", rule.chain, rule.spec));
        }
        inserted.extend(new_rules.iter().filter(|rule| !old_rules.contains(rule)));

        let old_chains = previous.map(|p| p.chains.as_slice()).unwrap_or_default();
        let new_chains = update
            .as_ref()
            .map(|u| u.chains.as_slice())
            .unwrap_or_default();
        for chain in old_chains
            .iter()
            .filter(|chain| !new_chains.contains(chain))
        {
            nat.delete(chain);
        }
    }
    // The jump to KUBE-NODEPORTS must stay last in KUBE-SERVICES, so service rules go
    // in at the top. Their order among themselves does not matter, because no two
    // services match the same destination.
    for rule in inserted {
        if rule.chain == KUBE_SERVICES {
            nat.rule(format_args!("-I {} 1 {}", rule.chain, rule.spec));
        } else {
            nat.rule(format_args!("-A {} {}", rule.chain, rule.spec));
        }
    }
    for body in bodies {
        // Chains being written come before the stale ones declared for deletion.
        nat.declarations.insert_str(0, &body.declarations);
        nat.rules.push_str(&body.rules);
        nat.rule_count += body.rule_count;
    }
    if !nat.has_content() {
        return (String::new(), 0);
    }
    let rule_count = nat.rule_count;
    (nat.finish(), rule_count)
}

/// Writes the rules of one service port.
struct ServiceWriter<'a> {
    config: &'a RulesConfig,
    name: &'a ServicePortName,
    service: &'a ServicePortInfo,
    rules: &'a mut ServiceRules,
    bodies: &'a mut ChainBodies,
}

impl ServiceWriter<'_> {
    fn nat_rule(&mut self, chain: &'static str, spec: String) {
        self.rules.nat_rules.push(FixedRule { chain, spec });
    }

    fn filter_rule(&mut self, line: String) {
        self.rules.filter_rules.push(line);
    }

    fn declare(&mut self, chain: &str) {
        self.rules.chains.push(chain.to_string());
        self.bodies.declare(chain);
    }

    fn write(&mut self, endpoints: &[Endpoint]) {
        let service = self.service;
        let name = self.name;
        let protocol = service.protocol.lower();
        let port = service.port;
        let cluster_ip = service.cluster_ip;

        let categorized = categorize_endpoints(endpoints, service);
        let has_endpoints = categorized.has_any_endpoints;
        let has_internal_endpoints = if service.internal_policy_local {
            !categorized.local.is_empty()
        } else {
            has_endpoints
        };
        let has_external_endpoints = if service.external_policy_local {
            !categorized.local.is_empty()
        } else {
            has_endpoints
        };

        let hash = chains::port_hash(name);
        let service_chain = format!("KUBE-SVC-{hash}");
        let local_chain = format!("KUBE-SVL-{hash}");
        let external_chain = format!("KUBE-EXT-{hash}");
        let firewall_chain = format!("KUBE-FW-{hash}");

        let externally_accessible = service.has_external_destinations();
        let uses_cluster_chain = !categorized.cluster.is_empty()
            && (!service.internal_policy_local
                || (externally_accessible && !service.external_policy_local));
        let uses_local_chain = !categorized.local.is_empty()
            && (service.internal_policy_local
                || (externally_accessible && service.external_policy_local));
        let uses_external_chain = has_external_endpoints && externally_accessible;
        let uses_firewall_chain = uses_external_chain
            && !service.load_balancer_ips.is_empty()
            && !service.load_balancer_source_ranges.is_empty();

        let internal_chain = if service.internal_policy_local {
            &local_chain
        } else {
            &service_chain
        };
        let external_policy_chain = if service.external_policy_local {
            &local_chain
        } else {
            &service_chain
        };

        let (internal_target, internal_reason) =
            filter_target(has_endpoints, has_internal_endpoints);
        let (external_target, external_reason) =
            filter_target(has_endpoints, has_external_endpoints);

        // Cluster IP.
        if has_internal_endpoints {
            self.nat_rule(
                KUBE_SERVICES,
                format!(
                    "-m comment --comment \"{name} cluster IP\" -m {protocol} -p {protocol} -d {cluster_ip} --dport {port} -j {internal_chain}"
                ),
            );
        } else {
            self.filter_rule(format!(
                "-A {KUBE_SERVICES} -m comment --comment \"{name} {internal_reason}\" -m {protocol} -p {protocol} -d {cluster_ip} --dport {port} -j {internal_target}"
            ));
        }

        // External IPs.
        for ip in &service.external_ips {
            if uses_external_chain {
                self.nat_rule(
                    KUBE_SERVICES,
                    format!(
                        "-m comment --comment \"{name} external IP\" -m {protocol} -p {protocol} -d {ip} --dport {port} -j {external_chain}"
                    ),
                );
            } else {
                self.filter_rule(format!(
                    "-A {KUBE_EXTERNAL_SERVICES} -m comment --comment \"{name} {external_reason}\" -m {protocol} -p {protocol} -d {ip} --dport {port} -j {external_target}"
                ));
            }
        }

        // Load balancer ingress IPs.
        let load_balancer_chain = if uses_firewall_chain {
            &firewall_chain
        } else {
            &external_chain
        };
        for ip in &service.load_balancer_ips {
            if uses_external_chain {
                self.nat_rule(
                    KUBE_SERVICES,
                    format!(
                        "-m comment --comment \"{name} loadbalancer IP\" -m {protocol} -p {protocol} -d {ip} --dport {port} -j {load_balancer_chain}"
                    ),
                );
            } else {
                self.filter_rule(format!(
                    "-A {KUBE_EXTERNAL_SERVICES} -m comment --comment \"{name} {external_reason}\" -m {protocol} -p {protocol} -d {ip} --dport {port} -j {external_target}"
                ));
            }
            if uses_firewall_chain {
                self.filter_rule(format!(
                    "-A {KUBE_PROXY_FIREWALL} -m comment --comment \"{name} traffic not accepted by {firewall_chain}\" -m {protocol} -p {protocol} -d {ip} --dport {port} -j DROP"
                ));
            }
        }

        // Node port.
        if service.node_port != 0 {
            let node_port = service.node_port;
            if uses_external_chain {
                self.nat_rule(
                    KUBE_NODEPORTS,
                    format!(
                        "-m comment --comment {name} -m {protocol} -p {protocol} --dport {node_port} -j {external_chain}"
                    ),
                );
            } else {
                self.filter_rule(format!(
                    "-A {KUBE_EXTERNAL_SERVICES} -m comment --comment \"{name} {external_reason}\" -m addrtype --dst-type LOCAL -m {protocol} -p {protocol} --dport {node_port} -j {external_target}"
                ));
            }
        }
        if service.health_check_node_port != 0 {
            let health_port = service.health_check_node_port;
            self.filter_rule(format!(
                "-A {KUBE_NODEPORTS} -m comment --comment \"{name} health check node port\" -m tcp -p tcp --dport {health_port} -j ACCEPT"
            ));
        }

        // Per-service chains. Endpoint chain names are computed once per endpoint.
        let endpoint_chains: Vec<(&Endpoint, String)> = categorized
            .all_reachable
            .iter()
            .map(|endpoint| (*endpoint, chains::endpoint_chain(name, &endpoint.address())))
            .collect();
        if uses_cluster_chain {
            self.declare(&service_chain);
            self.write_masquerade_rule(&service_chain);
            self.write_endpoint_jumps(&service_chain, &categorized.cluster, &endpoint_chains);
        }
        if uses_local_chain {
            self.declare(&local_chain);
            self.write_endpoint_jumps(&local_chain, &categorized.local, &endpoint_chains);
        }
        if uses_external_chain {
            let shortcut_chain = if uses_cluster_chain {
                &service_chain
            } else {
                external_policy_chain
            };
            self.declare(&external_chain);
            self.write_external_chain(&external_chain, shortcut_chain, external_policy_chain);
        }
        if uses_firewall_chain {
            self.declare(&firewall_chain);
            for range in &service.load_balancer_source_ranges {
                self.bodies.rule(
                    &firewall_chain,
                    format_args!(
                        "-m comment --comment \"{name} loadbalancer IP\" -s {range} -j {external_chain}"
                    ),
                );
            }
            self.bodies.rule(
                &firewall_chain,
                format_args!(
                    "-m comment --comment \"other traffic to {name} will be dropped by KUBE-PROXY-FIREWALL\""
                ),
            );
        }
        for (endpoint, chain) in &endpoint_chains {
            self.declare(chain);
            self.write_endpoint_chain(chain, endpoint);
        }
    }

    fn write_masquerade_rule(&mut self, chain: &str) {
        let name = self.name;
        let protocol = self.service.protocol.lower();
        let cluster_ip = self.service.cluster_ip;
        let port = self.service.port;
        let not_from_pods = match (self.config.masquerade_all, self.config.cluster_cidr) {
            (true, _) => None,
            (false, Some(cidr)) => Some(cidr),
            (false, None) => return,
        };
        match not_from_pods {
            Some(cidr) => self.bodies.rule(
                chain,
                format_args!(
                    "-m comment --comment \"{name} cluster IP\" -m {protocol} -p {protocol} -d {cluster_ip} --dport {port} ! -s {cidr} -j {KUBE_MARK_MASQ}"
                ),
            ),
            None => self.bodies.rule(
                chain,
                format_args!(
                    "-m comment --comment \"{name} cluster IP\" -m {protocol} -p {protocol} -d {cluster_ip} --dport {port} -j {KUBE_MARK_MASQ}"
                ),
            ),
        }
    }

    fn write_endpoint_jumps(
        &mut self,
        chain: &str,
        endpoints: &[&Endpoint],
        endpoint_chains: &[(&Endpoint, String)],
    ) {
        let name = self.name;
        if let Some(seconds) = self.service.session_affinity_seconds {
            for endpoint in endpoints {
                let address = Address(endpoint);
                let endpoint_chain = chain_for(endpoint_chains, endpoint);
                self.bodies.rule(
                    chain,
                    format_args!(
                        "-m comment --comment \"{name} -> {address}\" -m recent --name {endpoint_chain} --rcheck --seconds {seconds} --reap -j {endpoint_chain}"
                    ),
                );
            }
        }
        let count = endpoints.len();
        for (index, endpoint) in endpoints.iter().enumerate() {
            let address = Address(endpoint);
            let endpoint_chain = chain_for(endpoint_chains, endpoint);
            if index + 1 < count {
                let chance = 1.0 / (count - index) as f64;
                self.bodies.rule(
                    chain,
                    format_args!(
                        "-m comment --comment \"{name} -> {address}\" -m statistic --mode random --probability {chance:.10} -j {endpoint_chain}"
                    ),
                );
            } else {
                self.bodies.rule(
                    chain,
                    format_args!(
                        "-m comment --comment \"{name} -> {address}\" -j {endpoint_chain}"
                    ),
                );
            }
        }
    }

    fn write_external_chain(&mut self, chain: &str, shortcut_chain: &str, policy_chain: &str) {
        let name = self.name;
        if self.service.external_policy_local {
            if let Some(cidr) = self.config.cluster_cidr {
                self.bodies.rule(
                    chain,
                    format_args!(
                        "-m comment --comment \"pod traffic for {name} external destinations\" -s {cidr} -j {shortcut_chain}"
                    ),
                );
            }
            self.bodies.rule(
                chain,
                format_args!(
                    "-m comment --comment \"masquerade LOCAL traffic for {name} external destinations\" -m addrtype --src-type LOCAL -j {KUBE_MARK_MASQ}"
                ),
            );
            self.bodies.rule(
                chain,
                format_args!(
                    "-m comment --comment \"route LOCAL traffic for {name} external destinations\" -m addrtype --src-type LOCAL -j {shortcut_chain}"
                ),
            );
        } else {
            self.bodies.rule(
                chain,
                format_args!(
                    "-m comment --comment \"masquerade traffic for {name} external destinations\" -j {KUBE_MARK_MASQ}"
                ),
            );
        }
        self.bodies.rule(chain, format_args!("-j {policy_chain}"));
    }

    fn write_endpoint_chain(&mut self, chain: &str, endpoint: &Endpoint) {
        let name = self.name;
        let protocol = self.service.protocol.lower();
        let ip = endpoint.ip;
        let address = Address(endpoint);
        self.bodies.rule(
            chain,
            format_args!("-m comment --comment {name} -s {ip} -j {KUBE_MARK_MASQ}"),
        );
        if self.service.session_affinity_seconds.is_some() {
            self.bodies.rule(
                chain,
                format_args!(
                    "-m comment --comment {name} -m recent --name {chain} --set -m {protocol} -p {protocol} -j DNAT --to-destination {address}"
                ),
            );
        } else {
            self.bodies.rule(
                chain,
                format_args!(
                    "-m comment --comment {name} -m {protocol} -p {protocol} -j DNAT --to-destination {address}"
                ),
            );
        }
    }
}

/// Returns the chain name of `endpoint` from `endpoint_chains`, which is sorted by
/// address as [`categorize_endpoints`] sorts `all_reachable`.
fn chain_for<'c>(endpoint_chains: &'c [(&Endpoint, String)], endpoint: &Endpoint) -> &'c str {
    endpoint_chains
        .binary_search_by(|(candidate, _)| {
            (candidate.ip, candidate.port).cmp(&(endpoint.ip, endpoint.port))
        })
        .map(|index| endpoint_chains[index].1.as_str())
        .unwrap_or_default()
}

/// Formats an endpoint as `ip:port` (`[ip]:port` for IPv6) without allocating.
struct Address<'a>(&'a Endpoint);

impl fmt::Display for Address<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.ip {
            IpAddr::V4(ip) => write!(f, "{ip}:{}", self.0.port),
            IpAddr::V6(ip) => write!(f, "[{ip}]:{}", self.0.port),
        }
    }
}

/// `1/n` with 10 decimals, the statistic probability upstream writes.
pub fn probability(n: usize) -> String {
    format!("{:.10}", 1.0 / n as f64)
}

/// Returns the filter target and comment suffix for traffic that has no usable
/// endpoint: REJECT when the service has no endpoints at all, DROP when only the
/// local ones are missing.
fn filter_target(has_endpoints: bool, has_policy_endpoints: bool) -> (&'static str, &'static str) {
    if !has_endpoints {
        ("REJECT", "has no endpoints")
    } else if !has_policy_endpoints {
        ("DROP", "has no local endpoints")
    } else {
        ("", "")
    }
}

/// Parses the per-service chain names out of `iptables-save -t nat` output.
pub fn service_chains_in_save(save: &str) -> BTreeSet<String> {
    save.lines()
        .filter_map(|line| line.strip_prefix(':'))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|chain| {
            chains::SERVICE_CHAIN_PREFIXES
                .iter()
                .any(|prefix| chain.starts_with(prefix))
        })
        .map(str::to_string)
        .collect()
}

/// Returns the jumps of `table` that `save` (its `iptables-save` output) lacks.
pub fn missing_jumps(save: &str, table: &str) -> Vec<&'static Jump> {
    let present: HashSet<&str> = save.lines().map(str::trim_end).collect();
    chains::JUMPS
        .iter()
        .filter(|jump| jump.table == table && !present.contains(jump.save_line().as_str()))
        .collect()
}

/// Counts the rules per chain in iptables-save output.
pub fn rules_per_chain(save: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in save.lines() {
        if let Some(rest) = line.strip_prefix("-A ")
            && let Some(chain) = rest.split_whitespace().next()
        {
            *counts.entry(chain.to_string()).or_insert(0) += 1;
        }
    }
    counts
}
