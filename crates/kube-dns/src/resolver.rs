//! The record logic of the Kubernetes DNS-based service discovery specification,
//! schema version 1.1.0 (kubernetes/dns, docs/specification.md).
//!
//! Entry point: [`Resolver::resolve`], which maps one question to a response code
//! and the answer, authority and additional sections. The names it serves, below
//! the cluster zone `<zone>` (default `cluster.local`):
//!
//! - `dns-version.<zone>` TXT: the schema version.
//! - `<svc>.<ns>.svc.<zone>` A/AAAA: the cluster IPs; for a headless Service, the
//!   ready endpoints; for an ExternalName Service, a CNAME to the external name.
//! - `<host>.<svc>.<ns>.svc.<zone>` A/AAAA, headless Services only: the ready
//!   endpoints whose hostname (or dashed address, see [`EndpointEntry::label`]) is
//!   `<host>`.
//! - `_<port>._<proto>.<svc>.<ns>.svc.<zone>` SRV for named ports: the Service name
//!   for a cluster IP, one record per ready endpoint for a headless Service.
//! - `<a>-<b>-<c>-<d>.<ns>.pod.<zone>` A (and dashed IPv6 AAAA): the address in the
//!   name, for any namespace, without checking that such a pod exists (CoreDNS's
//!   `pods insecure` mode).
//! - PTR in `in-addr.arpa` and `ip6.arpa` for cluster IPs and ready endpoints of
//!   headless Services.
//!
//! A name in those zones that does not exist gets NXDOMAIN, an existing name without
//! records of the asked type gets NOERROR with an empty answer (NODATA), both with
//! the zone's SOA in the authority section. Every other name gets REFUSED.
//!
//! NOTE: upstream's add-ons (CoreDNS's `forward . /etc/resolv.conf`, kube-dns's
//! dnsmasq) forward names outside the cluster zone to the node's resolvers and fall
//! through for reverse names they do not know. This server never forwards, because
//! no traffic may leave the machine here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, CNAME, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::store::{ClusterStore, EndpointEntry, ServiceEntry, ServiceKind, StoreContents};

/// The schema version `dns-version.<zone>` returns.
pub const SCHEMA_VERSION: &str = "1.1.0";

/// The default record TTL in seconds, as CoreDNS's kubernetes plugin and kube-dns use.
pub const DEFAULT_TTL: u32 = 30;

/// The outcome of one question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    pub response_code: ResponseCode,
    /// Whether the name lies in a zone this server is the authority for.
    pub authoritative: bool,
    pub answers: Vec<Record>,
    pub authorities: Vec<Record>,
    pub additionals: Vec<Record>,
}

impl Resolution {
    fn refused() -> Self {
        Resolution {
            response_code: ResponseCode::Refused,
            authoritative: false,
            answers: Vec::new(),
            authorities: Vec::new(),
            additionals: Vec::new(),
        }
    }
}

/// The result of a lookup inside one zone, before the SOA is added.
enum Lookup {
    Found {
        answers: Vec<Record>,
        additionals: Vec<Record>,
    },
    NoData,
    NxDomain,
}

impl Lookup {
    fn answers(answers: Vec<Record>) -> Lookup {
        Lookup::found(answers, Vec::new())
    }

    /// Turns an empty answer into NODATA: the name exists, the type does not.
    fn found(answers: Vec<Record>, additionals: Vec<Record>) -> Lookup {
        if answers.is_empty() {
            Lookup::NoData
        } else {
            Lookup::Found {
                answers,
                additionals,
            }
        }
    }
}

/// The zones this server answers for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Zone {
    Cluster,
    ReverseV4,
    ReverseV6,
}

/// Answers questions from a [`ClusterStore`].
pub struct Resolver {
    /// The cluster domain, lowercase, without the trailing dot.
    zone: String,
    zone_labels: Vec<String>,
    ttl: u32,
    store: Arc<ClusterStore>,
}

impl Resolver {
    /// `zone` is the cluster domain (`cluster.local` or `cluster.local.`); `ttl` the
    /// TTL in seconds of every record, also the SOA minimum that caps negative
    /// caching.
    pub fn new(zone: &str, ttl: u32, store: Arc<ClusterStore>) -> Result<Self, String> {
        let zone = zone.trim_end_matches('.').to_ascii_lowercase();
        if zone.is_empty() {
            return Err("the cluster domain is empty".to_string());
        }
        Name::from_ascii(format!("{zone}."))
            .map_err(|error| format!("invalid cluster domain {zone:?}: {error}"))?;
        Ok(Resolver {
            zone_labels: zone.split('.').map(str::to_string).collect(),
            zone,
            ttl,
            store,
        })
    }

    /// Returns the cluster domain without the trailing dot.
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// Answers the question (`name`, `record_type`) of class IN.
    pub fn resolve(&self, name: &Name, record_type: RecordType) -> Resolution {
        let labels: Vec<String> = name
            .iter()
            .map(|label| String::from_utf8_lossy(label).to_ascii_lowercase())
            .collect();

        let (zone, relative) = if let Some(relative) = strip_suffix(&labels, &self.zone_labels) {
            (Zone::Cluster, relative)
        } else if let Some(relative) = strip_suffix(&labels, &["in-addr", "arpa"]) {
            (Zone::ReverseV4, relative)
        } else if let Some(relative) = strip_suffix(&labels, &["ip6", "arpa"]) {
            (Zone::ReverseV6, relative)
        } else {
            return Resolution::refused();
        };

        let contents = self.store.read();
        let lookup = if relative.is_empty() {
            self.lookup_apex(zone, &contents, record_type)
        } else {
            match zone {
                Zone::Cluster => self.lookup_cluster(name, relative, record_type, &contents),
                Zone::ReverseV4 | Zone::ReverseV6 => {
                    self.lookup_reverse(zone, name, relative, record_type, &contents)
                }
            }
        };

        let soa = self.soa(zone, contents.serial);
        match lookup {
            Lookup::Found {
                answers,
                additionals,
            } => Resolution {
                response_code: ResponseCode::NoError,
                authoritative: true,
                answers,
                authorities: Vec::new(),
                additionals,
            },
            Lookup::NoData | Lookup::NxDomain => Resolution {
                response_code: if matches!(lookup, Lookup::NxDomain) {
                    ResponseCode::NXDomain
                } else {
                    ResponseCode::NoError
                },
                authoritative: true,
                answers: Vec::new(),
                authorities: soa.into_iter().collect(),
                additionals: Vec::new(),
            },
        }
    }

    fn lookup_apex(&self, zone: Zone, contents: &StoreContents, record_type: RecordType) -> Lookup {
        if record_type == RecordType::SOA {
            Lookup::answers(self.soa(zone, contents.serial).into_iter().collect())
        } else {
            Lookup::NoData
        }
    }

    /// Looks up `relative`, the labels in front of the cluster zone.
    fn lookup_cluster(
        &self,
        name: &Name,
        relative: &[String],
        record_type: RecordType,
        contents: &StoreContents,
    ) -> Lookup {
        let labels: Vec<&str> = relative.iter().map(String::as_str).collect();
        match labels.as_slice() {
            ["dns-version"] => {
                if record_type == RecordType::TXT {
                    let txt = RData::TXT(TXT::new(vec![SCHEMA_VERSION.to_string()]));
                    Lookup::answers(vec![self.record(name.clone(), txt)])
                } else {
                    Lookup::NoData
                }
            }
            ["svc"] | ["pod"] => Lookup::NoData,
            // Pods get records in every namespace, so every namespace name exists.
            [_, "pod"] => Lookup::NoData,
            [pod, _, "pod"] => self.lookup_pod(name, pod, record_type),
            [namespace, "svc"] => {
                if contents.namespaces.contains_key(*namespace) {
                    Lookup::NoData
                } else {
                    Lookup::NxDomain
                }
            }
            [service, namespace, "svc"] => {
                match contents
                    .services
                    .get(&(namespace.to_string(), service.to_string()))
                {
                    Some(service) => self.lookup_service(name, service, record_type, contents),
                    None => Lookup::NxDomain,
                }
            }
            [first, service, namespace, "svc"] => {
                let key = (namespace.to_string(), service.to_string());
                let Some(service) = contents.services.get(&key) else {
                    return Lookup::NxDomain;
                };
                match first.strip_prefix('_') {
                    // `_<proto>.<svc>...` exists when an SRV name sits below it.
                    Some(protocol) => {
                        if self
                            .srv_records(service, None, protocol, contents)
                            .0
                            .is_empty()
                        {
                            Lookup::NxDomain
                        } else {
                            Lookup::NoData
                        }
                    }
                    None => self.lookup_endpoint(name, service, first, record_type, contents),
                }
            }
            [port, protocol, service, namespace, "svc"] => {
                let key = (namespace.to_string(), service.to_string());
                let (Some(port), Some(protocol), Some(service)) = (
                    port.strip_prefix('_'),
                    protocol.strip_prefix('_'),
                    contents.services.get(&key),
                ) else {
                    return Lookup::NxDomain;
                };
                let (records, additionals) =
                    self.srv_records(service, Some(port), protocol, contents);
                if records.is_empty() {
                    Lookup::NxDomain
                } else if record_type == RecordType::SRV {
                    let answers = records
                        .into_iter()
                        .map(|srv| self.record(name.clone(), RData::SRV(srv)))
                        .collect();
                    Lookup::found(answers, additionals)
                } else {
                    Lookup::NoData
                }
            }
            // Anything deeper, including search-path expansions such as
            // `kubernetes.default.svc.cluster.local.svc.cluster.local`.
            _ => Lookup::NxDomain,
        }
    }

    fn lookup_service(
        &self,
        name: &Name,
        service: &ServiceEntry,
        record_type: RecordType,
        contents: &StoreContents,
    ) -> Lookup {
        match &service.kind {
            ServiceKind::ExternalName(target) => {
                // A CNAME stands for every type at its name.
                match Name::from_ascii(format!("{target}.")) {
                    Ok(target) => Lookup::answers(vec![
                        self.record(name.clone(), RData::CNAME(CNAME(target))),
                    ]),
                    Err(_) => Lookup::NoData,
                }
            }
            ServiceKind::ClusterIp(ips) => {
                Lookup::answers(self.address_records(name, ips.iter().copied(), record_type))
            }
            ServiceKind::Headless => {
                let key = (service.namespace.clone(), service.name.clone());
                let endpoints = contents.endpoints(&key, service.publish_not_ready);
                let addresses = endpoints.iter().map(|endpoint| endpoint.address);
                Lookup::answers(self.address_records(name, addresses, record_type))
            }
        }
    }

    fn lookup_endpoint(
        &self,
        name: &Name,
        service: &ServiceEntry,
        label: &str,
        record_type: RecordType,
        contents: &StoreContents,
    ) -> Lookup {
        if service.kind != ServiceKind::Headless {
            return Lookup::NxDomain;
        }
        let key = (service.namespace.clone(), service.name.clone());
        let addresses: Vec<IpAddr> = contents
            .endpoints(&key, service.publish_not_ready)
            .into_iter()
            .filter(|endpoint| endpoint.label() == label)
            .map(|endpoint| endpoint.address)
            .collect();
        if addresses.is_empty() {
            return Lookup::NxDomain;
        }
        Lookup::answers(self.address_records(name, addresses, record_type))
    }

    fn lookup_pod(&self, name: &Name, label: &str, record_type: RecordType) -> Lookup {
        let Some(address) = parse_dashed_address(label) else {
            return Lookup::NxDomain;
        };
        Lookup::answers(self.address_records(name, [address], record_type))
    }

    /// Returns the SRV data of a Service's ports named `port` (every named port when
    /// `None`) with protocol `protocol`, with the A/AAAA records of their targets.
    fn srv_records(
        &self,
        service: &ServiceEntry,
        port: Option<&str>,
        protocol: &str,
        contents: &StoreContents,
    ) -> (Vec<SRV>, Vec<Record>) {
        let matches = |entry: &crate::store::PortEntry| {
            entry.protocol == protocol && port.is_none_or(|port| entry.name == port)
        };
        let service_name = format!("{}.{}.svc.{}.", service.name, service.namespace, self.zone);
        let mut records = Vec::new();
        let mut additionals = Vec::new();
        match &service.kind {
            ServiceKind::ExternalName(_) => {}
            ServiceKind::ClusterIp(ips) => {
                let Ok(target) = Name::from_ascii(&service_name) else {
                    return (records, additionals);
                };
                for entry in service.ports.iter().filter(|entry| matches(entry)) {
                    records.push(SRV::new(0, 100, entry.port, target.clone()));
                }
                if !records.is_empty() {
                    additionals.extend(self.address_records(
                        &target,
                        ips.iter().copied(),
                        RecordType::A,
                    ));
                    additionals.extend(self.address_records(
                        &target,
                        ips.iter().copied(),
                        RecordType::AAAA,
                    ));
                }
            }
            ServiceKind::Headless => {
                let key = (service.namespace.clone(), service.name.clone());
                let endpoints = contents.endpoints(&key, service.publish_not_ready);
                let mut targets: Vec<(&EndpointEntry, u16, Name)> = Vec::new();
                for endpoint in endpoints {
                    let Ok(target) =
                        Name::from_ascii(format!("{}.{service_name}", endpoint.label()))
                    else {
                        continue;
                    };
                    for entry in endpoint.ports.iter().filter(|entry| matches(entry)) {
                        targets.push((endpoint, entry.port, target.clone()));
                    }
                }
                // Equal weights that sum to about 100, as CoreDNS gives them.
                let weight = u16::try_from(100 / targets.len().max(1))
                    .unwrap_or(1)
                    .max(1);
                for (endpoint, port, target) in targets {
                    records.push(SRV::new(0, weight, port, target.clone()));
                    let record_type = match endpoint.address {
                        IpAddr::V4(_) => RecordType::A,
                        IpAddr::V6(_) => RecordType::AAAA,
                    };
                    additionals.extend(self.address_records(
                        &target,
                        [endpoint.address],
                        record_type,
                    ));
                }
            }
        }
        (records, additionals)
    }

    fn lookup_reverse(
        &self,
        zone: Zone,
        name: &Name,
        relative: &[String],
        record_type: RecordType,
        contents: &StoreContents,
    ) -> Lookup {
        let full_length = if zone == Zone::ReverseV4 { 4 } else { 32 };
        if relative.len() < full_length {
            // A partial reverse name lies above addresses that may exist.
            return if relative.iter().all(|label| is_reverse_label(zone, label)) {
                Lookup::NoData
            } else {
                Lookup::NxDomain
            };
        }
        let Some(address) = parse_reverse(zone, relative) else {
            return Lookup::NxDomain;
        };
        let targets = self.names_of_address(address, contents);
        if targets.is_empty() {
            return Lookup::NxDomain;
        }
        if record_type != RecordType::PTR {
            return Lookup::NoData;
        }
        let answers = targets
            .into_iter()
            .map(|target| self.record(name.clone(), RData::PTR(PTR(target))))
            .collect();
        Lookup::answers(answers)
    }

    /// Returns the names whose A/AAAA records hold `address`: Services with that
    /// cluster IP and ready endpoints of headless Services, sorted.
    fn names_of_address(&self, address: IpAddr, contents: &StoreContents) -> Vec<Name> {
        // NOTE: a linear scan over every Service per PTR question; an index by address
        // would make it constant time for large clusters.
        let mut names = Vec::new();
        for service in contents.services.values() {
            let service_name =
                || format!("{}.{}.svc.{}.", service.name, service.namespace, self.zone);
            match &service.kind {
                ServiceKind::ClusterIp(ips) if ips.contains(&address) => names.push(service_name()),
                ServiceKind::Headless => {
                    let key = (service.namespace.clone(), service.name.clone());
                    let Some(slices) = contents.slices.get(&key) else {
                        continue;
                    };
                    if !slices
                        .values()
                        .flatten()
                        .any(|endpoint| endpoint.address == address)
                    {
                        continue;
                    }
                    for endpoint in contents.endpoints(&key, service.publish_not_ready) {
                        if endpoint.address == address {
                            names.push(format!("{}.{}", endpoint.label(), service_name()));
                        }
                    }
                }
                ServiceKind::ClusterIp(_) | ServiceKind::ExternalName(_) => {}
            }
        }
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter_map(|name| Name::from_ascii(name).ok())
            .collect()
    }

    /// Returns A records of the IPv4 addresses for an A question, AAAA records of the
    /// IPv6 addresses for an AAAA question, and nothing for other types.
    fn address_records(
        &self,
        name: &Name,
        addresses: impl IntoIterator<Item = IpAddr>,
        record_type: RecordType,
    ) -> Vec<Record> {
        addresses
            .into_iter()
            .filter_map(|address| match (address, record_type) {
                (IpAddr::V4(v4), RecordType::A) => Some(RData::A(A(v4))),
                (IpAddr::V6(v6), RecordType::AAAA) => Some(RData::AAAA(AAAA(v6))),
                _ => None,
            })
            .map(|data| self.record(name.clone(), data))
            .collect()
    }

    fn record(&self, name: Name, data: RData) -> Record {
        Record::from_rdata(name, self.ttl, data)
    }

    /// Returns the SOA record of a zone; its minimum is the TTL, which bounds how
    /// long resolvers cache a negative answer (RFC 2308).
    fn soa(&self, zone: Zone, serial: u32) -> Option<Record> {
        let apex = match zone {
            Zone::Cluster => format!("{}.", self.zone),
            Zone::ReverseV4 => "in-addr.arpa.".to_string(),
            Zone::ReverseV6 => "ip6.arpa.".to_string(),
        };
        let apex = Name::from_ascii(apex).ok()?;
        let mname = Name::from_ascii(format!("ns.dns.{}.", self.zone)).ok()?;
        let rname = Name::from_ascii(format!("hostmaster.{}.", self.zone)).ok()?;
        let soa = SOA::new(mname, rname, serial, 7200, 1800, 86400, self.ttl);
        Some(self.record(apex, RData::SOA(soa)))
    }
}

fn strip_suffix<'a, S: AsRef<str>>(labels: &'a [String], suffix: &[S]) -> Option<&'a [String]> {
    if labels.len() < suffix.len() {
        return None;
    }
    let split = labels.len() - suffix.len();
    let matches = labels[split..]
        .iter()
        .zip(suffix)
        .all(|(label, expected)| label == expected.as_ref());
    matches.then_some(&labels[..split])
}

/// Parses the pod label `10-244-1-5` (IPv4) or `fd00--1` (IPv6 with dashes for
/// colons).
pub fn parse_dashed_address(label: &str) -> Option<IpAddr> {
    if label.matches('-').count() == 3
        && let Ok(v4) = label.replace('-', ".").parse::<Ipv4Addr>()
    {
        return Some(IpAddr::V4(v4));
    }
    label
        .replace('-', ":")
        .parse::<Ipv6Addr>()
        .ok()
        .map(IpAddr::V6)
}

fn is_reverse_label(zone: Zone, label: &str) -> bool {
    match zone {
        Zone::ReverseV4 => label.parse::<u8>().is_ok() && (label == "0" || !label.starts_with('0')),
        _ => label.len() == 1 && label.chars().all(|c| c.is_ascii_hexdigit()),
    }
}

/// Parses the labels in front of `in-addr.arpa` (4 octets, last first) or `ip6.arpa`
/// (32 nibbles, last first).
fn parse_reverse(zone: Zone, relative: &[String]) -> Option<IpAddr> {
    if !relative.iter().all(|label| is_reverse_label(zone, label)) {
        return None;
    }
    match zone {
        Zone::ReverseV4 if relative.len() == 4 => {
            let mut octets = [0u8; 4];
            for (octet, label) in octets.iter_mut().zip(relative.iter().rev()) {
                *octet = label.parse().ok()?;
            }
            Some(IpAddr::V4(Ipv4Addr::from(octets)))
        }
        Zone::ReverseV6 if relative.len() == 32 => {
            let mut value: u128 = 0;
            for label in relative.iter().rev() {
                value = (value << 4) | u128::from_str_radix(label, 16).ok()?;
            }
            Some(IpAddr::V6(Ipv6Addr::from(value)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
