//! Generation of the iptables-restore input for the filter and nat tables from the
//! current service and endpoint maps. Pure: no commands run here.
//!
//! Entry point: [`build`]. The output declares every fixed chain (which flushes it
//! under `--noflush`), rewrites it completely, declares and fills the per-service
//! chains of the services being written, and deletes stale per-service chains.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use super::chains::{
    self, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_MARK_MASQ, KUBE_NODEPORTS, KUBE_POSTROUTING,
    KUBE_PROXY_FIREWALL, KUBE_SERVICES,
};
use crate::endpoints::{Endpoint, EndpointsMap, categorize_endpoints};
use crate::net::Cidr;
use crate::service::{NamespacedName, ServicePortInfo, ServicePortMap, ServicePortName};

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

/// The two restore inputs of one sync and what they contain.
#[derive(Debug, Default)]
pub struct Ruleset {
    /// iptables-restore input for the filter table, `*filter` to `COMMIT`.
    pub filter: String,
    /// iptables-restore input for the nat table, `*nat` to `COMMIT`.
    pub nat: String,
    /// Per-service nat chains that exist once `nat` is applied.
    pub active_chains: BTreeSet<String>,
    /// Rules written to the filter table.
    pub filter_rules: usize,
    /// Rules written to the nat table (in a partial sync, only the rewritten ones).
    pub nat_rules: usize,
}

/// Input of [`build`].
pub struct RulesetInput<'a> {
    pub config: &'a RulesConfig,
    pub services: &'a ServicePortMap,
    pub endpoints: &'a EndpointsMap,
    /// Services whose per-service chains are rewritten; `None` rewrites all of them.
    pub changed: Option<&'a BTreeSet<NamespacedName>>,
    /// Per-service nat chains that exist now; those not produced again are deleted.
    pub existing_chains: &'a BTreeSet<String>,
}

/// One table's restore input under construction.
#[derive(Default)]
struct TableWriter {
    declarations: Vec<String>,
    rules: Vec<String>,
    deletions: Vec<String>,
}

impl TableWriter {
    fn declare(&mut self, chain: &str) {
        self.declarations.push(format!(":{chain} - [0:0]"));
    }

    fn rule(&mut self, chain: &str, args: &[&str]) {
        let mut line = format!("-A {chain}");
        for arg in args {
            line.push(' ');
            line.push_str(arg);
        }
        self.rules.push(line);
    }

    fn delete(&mut self, chain: &str) {
        self.declare(chain);
        self.deletions.push(format!("-X {chain}"));
    }

    fn finish(self, table: &str) -> (String, usize) {
        let mut out = String::new();
        let _ = writeln!(out, "*{table}");
        for line in self
            .declarations
            .iter()
            .chain(&self.rules)
            .chain(&self.deletions)
        {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("COMMIT\n");
        (out, self.rules.len())
    }
}

/// Quotes a comment for iptables-restore when it contains spaces.
fn quoted(comment: &str) -> String {
    if comment.contains(' ') {
        format!("\"{comment}\"")
    } else {
        comment.to_string()
    }
}

/// `1/n` with 10 decimals, the statistic probability upstream writes.
pub fn probability(n: usize) -> String {
    format!("{:.10}", 1.0 / n as f64)
}

/// Builds the restore inputs for the given state.
pub fn build(input: &RulesetInput<'_>) -> Ruleset {
    let config = input.config;
    let mut filter = TableWriter::default();
    let mut nat = TableWriter::default();
    for chain in chains::FILTER_CHAINS {
        filter.declare(chain);
    }
    for chain in chains::NAT_CHAINS {
        nat.declare(chain);
    }
    write_fixed_rules(config, &mut filter, &mut nat);

    let mut active_chains = BTreeSet::new();
    let empty = Vec::new();
    for (name, service) in input.services {
        let endpoints = input.endpoints.get(name).unwrap_or(&empty);
        let write_chains = input
            .changed
            .is_none_or(|changed| changed.contains(&name.service));
        let mut service_writer = ServiceWriter {
            config,
            name,
            service,
            filter: &mut filter,
            nat: &mut nat,
            active_chains: &mut active_chains,
            write_chains,
        };
        service_writer.write(endpoints);
    }

    write_nodeports_jump(config, &mut nat);

    for chain in input.existing_chains.difference(&active_chains) {
        nat.delete(chain);
    }

    let (filter, filter_rules) = filter.finish("filter");
    let (nat, nat_rules) = nat.finish("nat");
    Ruleset {
        filter,
        nat,
        active_chains,
        filter_rules,
        nat_rules,
    }
}

fn write_fixed_rules(config: &RulesConfig, filter: &mut TableWriter, nat: &mut TableWriter) {
    let mark = config.mark();
    let mark_mask = format!("{mark}/{mark}");
    filter.rule(
        KUBE_FORWARD,
        &["-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP"],
    );
    filter.rule(
        KUBE_FORWARD,
        &[
            "-m",
            "comment",
            "--comment",
            "\"kubernetes forwarding rules\"",
            "-m",
            "mark",
            "--mark",
            &mark_mask,
            "-j",
            "ACCEPT",
        ],
    );
    filter.rule(
        KUBE_FORWARD,
        &[
            "-m",
            "comment",
            "--comment",
            "\"kubernetes forwarding conntrack rule\"",
            "-m",
            "conntrack",
            "--ctstate",
            "RELATED,ESTABLISHED",
            "-j",
            "ACCEPT",
        ],
    );

    nat.rule(
        KUBE_POSTROUTING,
        &["-m", "mark", "!", "--mark", &mark_mask, "-j", "RETURN"],
    );
    nat.rule(KUBE_POSTROUTING, &["-j", "MARK", "--xor-mark", &mark]);
    nat.rule(
        KUBE_POSTROUTING,
        &[
            "-m",
            "comment",
            "--comment",
            "\"kubernetes service traffic requiring SNAT\"",
            "-j",
            "MASQUERADE",
            "--random-fully",
        ],
    );
    nat.rule(KUBE_MARK_MASQ, &["-j", "MARK", "--or-mark", &mark]);
}

fn write_nodeports_jump(config: &RulesConfig, nat: &mut TableWriter) {
    let comment =
        "\"kubernetes service nodeports; NOTE: this must be the last rule in this chain\"";
    if config.node_port_ips.is_empty() {
        nat.rule(
            KUBE_SERVICES,
            &[
                "-m",
                "comment",
                "--comment",
                comment,
                "-m",
                "addrtype",
                "--dst-type",
                "LOCAL",
                "-j",
                KUBE_NODEPORTS,
            ],
        );
        return;
    }
    for ip in &config.node_port_ips {
        let ip = ip.to_string();
        nat.rule(
            KUBE_SERVICES,
            &[
                "-m",
                "comment",
                "--comment",
                comment,
                "-d",
                &ip,
                "-j",
                KUBE_NODEPORTS,
            ],
        );
    }
}

/// Writes the rules of one service port.
struct ServiceWriter<'a> {
    config: &'a RulesConfig,
    name: &'a ServicePortName,
    service: &'a ServicePortInfo,
    filter: &'a mut TableWriter,
    nat: &'a mut TableWriter,
    active_chains: &'a mut BTreeSet<String>,
    /// Whether the per-service chains are rewritten in this sync; when false they are
    /// left as they are in the kernel and only recorded as active.
    write_chains: bool,
}

impl ServiceWriter<'_> {
    fn write(&mut self, endpoints: &[Endpoint]) {
        let service = self.service;
        let name_text = self.name.to_string();
        let protocol = service.protocol.lower();
        let port = service.port.to_string();
        let cluster_ip = service.cluster_ip.to_string();

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

        let service_chain = chains::service_chain(self.name);
        let local_chain = chains::local_chain(self.name);
        let external_chain = chains::external_chain(self.name);
        let firewall_chain = chains::firewall_chain(self.name);

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

        let (internal_target, internal_comment) =
            filter_target(&name_text, has_endpoints, has_internal_endpoints);
        let (external_target, external_comment) =
            filter_target(&name_text, has_endpoints, has_external_endpoints);

        // Cluster IP.
        if has_internal_endpoints {
            let comment = quoted(&format!("{name_text} cluster IP"));
            self.nat.rule(
                KUBE_SERVICES,
                &[
                    "-m",
                    "comment",
                    "--comment",
                    &comment,
                    "-m",
                    protocol,
                    "-p",
                    protocol,
                    "-d",
                    &cluster_ip,
                    "--dport",
                    &port,
                    "-j",
                    internal_chain,
                ],
            );
        } else {
            self.filter.rule(
                KUBE_SERVICES,
                &[
                    "-m",
                    "comment",
                    "--comment",
                    &internal_comment,
                    "-m",
                    protocol,
                    "-p",
                    protocol,
                    "-d",
                    &cluster_ip,
                    "--dport",
                    &port,
                    "-j",
                    internal_target,
                ],
            );
        }

        // External IPs.
        for ip in &service.external_ips {
            let ip = ip.to_string();
            if uses_external_chain {
                let comment = quoted(&format!("{name_text} external IP"));
                self.nat.rule(
                    KUBE_SERVICES,
                    &[
                        "-m",
                        "comment",
                        "--comment",
                        &comment,
                        "-m",
                        protocol,
                        "-p",
                        protocol,
                        "-d",
                        &ip,
                        "--dport",
                        &port,
                        "-j",
                        &external_chain,
                    ],
                );
            } else {
                self.filter.rule(
                    KUBE_EXTERNAL_SERVICES,
                    &[
                        "-m",
                        "comment",
                        "--comment",
                        &external_comment,
                        "-m",
                        protocol,
                        "-p",
                        protocol,
                        "-d",
                        &ip,
                        "--dport",
                        &port,
                        "-j",
                        external_target,
                    ],
                );
            }
        }

        // Load balancer ingress IPs.
        let load_balancer_chain = if uses_firewall_chain {
            &firewall_chain
        } else {
            &external_chain
        };
        for ip in &service.load_balancer_ips {
            let ip = ip.to_string();
            if uses_external_chain {
                let comment = quoted(&format!("{name_text} loadbalancer IP"));
                self.nat.rule(
                    KUBE_SERVICES,
                    &[
                        "-m",
                        "comment",
                        "--comment",
                        &comment,
                        "-m",
                        protocol,
                        "-p",
                        protocol,
                        "-d",
                        &ip,
                        "--dport",
                        &port,
                        "-j",
                        load_balancer_chain,
                    ],
                );
            } else {
                self.filter.rule(
                    KUBE_EXTERNAL_SERVICES,
                    &[
                        "-m",
                        "comment",
                        "--comment",
                        &external_comment,
                        "-m",
                        protocol,
                        "-p",
                        protocol,
                        "-d",
                        &ip,
                        "--dport",
                        &port,
                        "-j",
                        external_target,
                    ],
                );
            }
            if uses_firewall_chain {
                let comment = quoted(&format!(
                    "{name_text} traffic not accepted by {firewall_chain}"
                ));
                self.filter.rule(
                    KUBE_PROXY_FIREWALL,
                    &[
                        "-m",
                        "comment",
                        "--comment",
                        &comment,
                        "-m",
                        protocol,
                        "-p",
                        protocol,
                        "-d",
                        &ip,
                        "--dport",
                        &port,
                        "-j",
                        "DROP",
                    ],
                );
            }
        }

        // Node port.
        if service.node_port != 0 {
            let node_port = service.node_port.to_string();
            if uses_external_chain {
                self.nat.rule(
                    KUBE_NODEPORTS,
                    &[
                        "-m",
                        "comment",
                        "--comment",
                        &name_text,
                        "-m",
                        protocol,
                        "-p",
                        protocol,
                        "--dport",
                        &node_port,
                        "-j",
                        &external_chain,
                    ],
                );
            } else {
                self.filter.rule(
                    KUBE_EXTERNAL_SERVICES,
                    &[
                        "-m",
                        "comment",
                        "--comment",
                        &external_comment,
                        "-m",
                        "addrtype",
                        "--dst-type",
                        "LOCAL",
                        "-m",
                        protocol,
                        "-p",
                        protocol,
                        "--dport",
                        &node_port,
                        "-j",
                        external_target,
                    ],
                );
            }
        }
        if service.health_check_node_port != 0 {
            let comment = quoted(&format!("{name_text} health check node port"));
            let health_port = service.health_check_node_port.to_string();
            self.filter.rule(
                KUBE_NODEPORTS,
                &[
                    "-m",
                    "comment",
                    "--comment",
                    &comment,
                    "-m",
                    "tcp",
                    "-p",
                    "tcp",
                    "--dport",
                    &health_port,
                    "-j",
                    "ACCEPT",
                ],
            );
        }

        // Per-service chains.
        if uses_cluster_chain {
            self.chain(&service_chain, |writer| {
                writer.write_masquerade_rules(&service_chain, &name_text, &cluster_ip, &port);
                writer.write_endpoint_jumps(&service_chain, &name_text, &categorized.cluster);
            });
        }
        if uses_local_chain {
            self.chain(&local_chain, |writer| {
                writer.write_endpoint_jumps(&local_chain, &name_text, &categorized.local);
            });
        }
        if uses_external_chain {
            let shortcut_chain = if uses_cluster_chain {
                &service_chain
            } else {
                external_policy_chain
            };
            self.chain(&external_chain, |writer| {
                writer.write_external_chain(
                    &external_chain,
                    &name_text,
                    shortcut_chain,
                    external_policy_chain,
                );
            });
        }
        if uses_firewall_chain {
            self.chain(&firewall_chain, |writer| {
                let comment = quoted(&format!("{name_text} loadbalancer IP"));
                for range in &service.load_balancer_source_ranges {
                    let range = range.to_string();
                    writer.nat.rule(
                        &firewall_chain,
                        &[
                            "-m",
                            "comment",
                            "--comment",
                            &comment,
                            "-s",
                            &range,
                            "-j",
                            &external_chain,
                        ],
                    );
                }
                let comment = quoted(&format!(
                    "other traffic to {name_text} will be dropped by KUBE-PROXY-FIREWALL"
                ));
                writer
                    .nat
                    .rule(&firewall_chain, &["-m", "comment", "--comment", &comment]);
            });
        }
        for endpoint in &categorized.all_reachable {
            let address = endpoint.address();
            let endpoint_chain = chains::endpoint_chain(self.name, &address);
            self.chain(&endpoint_chain, |writer| {
                writer.write_endpoint_chain(&endpoint_chain, &name_text, endpoint);
            });
        }
    }

    /// Records `chain` as active and, when this service is being written, declares it
    /// and lets `body` fill it.
    fn chain(&mut self, chain: &str, body: impl FnOnce(&mut Self)) {
        self.active_chains.insert(chain.to_string());
        if self.write_chains {
            self.nat.declare(chain);
            body(self);
        }
    }

    fn write_masquerade_rules(
        &mut self,
        chain: &str,
        name_text: &str,
        cluster_ip: &str,
        port: &str,
    ) {
        let comment = quoted(&format!("{name_text} cluster IP"));
        let protocol = self.service.protocol.lower();
        let not_from_pods = match (self.config.masquerade_all, self.config.cluster_cidr) {
            (true, _) => None,
            (false, Some(cidr)) => Some(cidr.to_string()),
            (false, None) => return,
        };
        let mut args = vec![
            "-m",
            "comment",
            "--comment",
            &comment,
            "-m",
            protocol,
            "-p",
            protocol,
            "-d",
            cluster_ip,
            "--dport",
            port,
        ];
        if let Some(cidr) = not_from_pods.as_deref() {
            args.extend(["!", "-s", cidr]);
        }
        args.extend(["-j", KUBE_MARK_MASQ]);
        self.nat.rule(chain, &args);
    }

    fn write_endpoint_jumps(&mut self, chain: &str, name_text: &str, endpoints: &[&Endpoint]) {
        if let Some(seconds) = self.service.session_affinity_seconds {
            let seconds = seconds.to_string();
            for endpoint in endpoints {
                let address = endpoint.address();
                let endpoint_chain = chains::endpoint_chain(self.name, &address);
                let comment = quoted(&format!("{name_text} -> {address}"));
                self.nat.rule(
                    chain,
                    &[
                        "-m",
                        "comment",
                        "--comment",
                        &comment,
                        "-m",
                        "recent",
                        "--name",
                        &endpoint_chain,
                        "--rcheck",
                        "--seconds",
                        &seconds,
                        "--reap",
                        "-j",
                        &endpoint_chain,
                    ],
                );
            }
        }
        let count = endpoints.len();
        for (index, endpoint) in endpoints.iter().enumerate() {
            let address = endpoint.address();
            let endpoint_chain = chains::endpoint_chain(self.name, &address);
            let comment = quoted(&format!("{name_text} -> {address}"));
            if index + 1 < count {
                let chance = probability(count - index);
                self.nat.rule(
                    chain,
                    &[
                        "-m",
                        "comment",
                        "--comment",
                        &comment,
                        "-m",
                        "statistic",
                        "--mode",
                        "random",
                        "--probability",
                        &chance,
                        "-j",
                        &endpoint_chain,
                    ],
                );
            } else {
                self.nat.rule(
                    chain,
                    &[
                        "-m",
                        "comment",
                        "--comment",
                        &comment,
                        "-j",
                        &endpoint_chain,
                    ],
                );
            }
        }
    }

    fn write_external_chain(
        &mut self,
        chain: &str,
        name_text: &str,
        shortcut_chain: &str,
        policy_chain: &str,
    ) {
        if self.service.external_policy_local {
            if let Some(cidr) = self.config.cluster_cidr {
                let comment = quoted(&format!(
                    "pod traffic for {name_text} external destinations"
                ));
                let cidr = cidr.to_string();
                self.nat.rule(
                    chain,
                    &[
                        "-m",
                        "comment",
                        "--comment",
                        &comment,
                        "-s",
                        &cidr,
                        "-j",
                        shortcut_chain,
                    ],
                );
            }
            let comment = quoted(&format!(
                "masquerade LOCAL traffic for {name_text} external destinations"
            ));
            self.nat.rule(
                chain,
                &[
                    "-m",
                    "comment",
                    "--comment",
                    &comment,
                    "-m",
                    "addrtype",
                    "--src-type",
                    "LOCAL",
                    "-j",
                    KUBE_MARK_MASQ,
                ],
            );
            let comment = quoted(&format!(
                "route LOCAL traffic for {name_text} external destinations"
            ));
            self.nat.rule(
                chain,
                &[
                    "-m",
                    "comment",
                    "--comment",
                    &comment,
                    "-m",
                    "addrtype",
                    "--src-type",
                    "LOCAL",
                    "-j",
                    shortcut_chain,
                ],
            );
        } else {
            let comment = quoted(&format!(
                "masquerade traffic for {name_text} external destinations"
            ));
            self.nat.rule(
                chain,
                &["-m", "comment", "--comment", &comment, "-j", KUBE_MARK_MASQ],
            );
        }
        self.nat.rule(chain, &["-j", policy_chain]);
    }

    fn write_endpoint_chain(&mut self, chain: &str, name_text: &str, endpoint: &Endpoint) {
        let protocol = self.service.protocol.lower();
        let ip = endpoint.ip.to_string();
        let address = endpoint.address();
        self.nat.rule(
            chain,
            &[
                "-m",
                "comment",
                "--comment",
                name_text,
                "-s",
                &ip,
                "-j",
                KUBE_MARK_MASQ,
            ],
        );
        let mut args = vec!["-m", "comment", "--comment", name_text];
        if self.service.session_affinity_seconds.is_some() {
            args.extend(["-m", "recent", "--name", chain, "--set"]);
        }
        args.extend([
            "-m",
            protocol,
            "-p",
            protocol,
            "-j",
            "DNAT",
            "--to-destination",
            &address,
        ]);
        self.nat.rule(chain, &args);
    }
}

/// Returns the filter target and comment for traffic that has no usable endpoint: REJECT when
/// the service has no endpoints at all, DROP when only the local ones are missing.
fn filter_target(
    name_text: &str,
    has_endpoints: bool,
    has_policy_endpoints: bool,
) -> (&'static str, String) {
    if !has_endpoints {
        ("REJECT", quoted(&format!("{name_text} has no endpoints")))
    } else if !has_policy_endpoints {
        (
            "DROP",
            quoted(&format!("{name_text} has no local endpoints")),
        )
    } else {
        ("", String::new())
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
