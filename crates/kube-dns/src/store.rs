//! The cluster state DNS answers come from: Services and EndpointSlices, reduced to
//! what the records need.
//!
//! Entry point: [`ClusterStore`]. The informer handlers call its `apply_*` and
//! `delete_*` methods. The resolver reads it under a read lock, so a query never
//! waits on the API server.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{RwLock, RwLockReadGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// The label that ties an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The records of a Service's own name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceKind {
    /// A/AAAA records of the cluster IPs (one per IP family, dual-stack).
    ClusterIp(Vec<IpAddr>),
    /// `clusterIP: None`: records of the ready endpoints.
    Headless,
    /// A CNAME to `spec.externalName`, lowercased, without a trailing dot.
    ExternalName(String),
}

/// A port as SRV records need it. `protocol` is lowercase (`tcp`, `udp`, `sctp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortEntry {
    pub name: String,
    pub protocol: String,
    pub port: u16,
}

/// A Service reduced to its DNS-relevant fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceEntry {
    pub namespace: String,
    pub name: String,
    pub kind: ServiceKind,
    /// Named ports only: unnamed ports get no SRV record.
    pub ports: Vec<PortEntry>,
    /// `spec.publishNotReadyAddresses`: not-ready endpoints get records too.
    pub publish_not_ready: bool,
}

/// One address of an EndpointSlice endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointEntry {
    pub address: IpAddr,
    /// `endpoints[].hostname`, lowercased; set for pods with `hostname` and a
    /// `subdomain` equal to the Service's name.
    pub hostname: Option<String>,
    /// `conditions.ready`, where a missing condition counts as ready (the API's
    /// documented meaning of an unknown state).
    pub ready: bool,
    /// The slice's named ports, which apply to each of its endpoints.
    pub ports: Vec<PortEntry>,
}

impl EndpointEntry {
    /// Returns the endpoint's DNS label: its hostname, or the address with dashes
    /// (`10-244-1-5`, or the IPv6 groups joined by dashes) when it has none. The
    /// specification lets an implementation pick this identifier; it is stable while
    /// the address is.
    pub fn label(&self) -> String {
        match &self.hostname {
            Some(hostname) => hostname.clone(),
            None => dashed_address(self.address),
        }
    }
}

/// Formats an address as one DNS label: `10.244.1.5` becomes `10-244-1-5`, and
/// `fd00::1` becomes `fd00--1`.
pub fn dashed_address(address: IpAddr) -> String {
    address.to_string().replace(['.', ':'], "-")
}

/// The key of a Service and of its EndpointSlices: (namespace, service name).
pub type ServiceKey = (String, String);

#[derive(Default)]
pub struct StoreContents {
    pub services: HashMap<ServiceKey, ServiceEntry>,
    /// Endpoints by Service, then by slice name.
    pub slices: HashMap<ServiceKey, BTreeMap<String, Vec<EndpointEntry>>>,
    /// Namespaces with at least one Service, with their Service counts; these make
    /// `<ns>.svc.<zone>` an existing name.
    pub namespaces: HashMap<String, usize>,
    /// The SOA serial: the Unix time in seconds of the last change.
    pub serial: u32,
}

impl StoreContents {
    /// Returns the endpoints of a Service over all its slices, deduplicated by address
    /// (an address can sit in two slices while the controller moves it). With
    /// `include_not_ready` false, only ready endpoints.
    pub fn endpoints(&self, key: &ServiceKey, include_not_ready: bool) -> Vec<&EndpointEntry> {
        let mut seen = Vec::new();
        let mut endpoints = Vec::new();
        let Some(slices) = self.slices.get(key) else {
            return endpoints;
        };
        for endpoint in slices.values().flatten() {
            if !(endpoint.ready || include_not_ready) || seen.contains(&endpoint.address) {
                continue;
            }
            seen.push(endpoint.address);
            endpoints.push(endpoint);
        }
        endpoints
    }
}

/// The Services and endpoints the server answers from.
pub struct ClusterStore {
    contents: RwLock<StoreContents>,
}

impl Default for ClusterStore {
    fn default() -> Self {
        Self::new()
    }
}

impl ClusterStore {
    pub fn new() -> Self {
        ClusterStore {
            contents: RwLock::new(StoreContents {
                serial: unix_seconds(),
                ..StoreContents::default()
            }),
        }
    }

    /// Returns a read view. Hold it only for the duration of one query.
    pub fn read(&self) -> RwLockReadGuard<'_, StoreContents> {
        self.contents
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, StoreContents> {
        let mut contents = self
            .contents
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // The serial only grows, also when two changes fall in one second.
        contents.serial = unix_seconds().max(contents.serial.wrapping_add(1));
        contents
    }

    /// Adds or replaces a Service. A Service without a name or namespace is ignored.
    pub fn apply_service(&self, service: &Service) {
        let Some(entry) = service_entry(service) else {
            return;
        };
        let key = (entry.namespace.clone(), entry.name.clone());
        let mut contents = self.write();
        if contents.services.insert(key, entry.clone()).is_none() {
            *contents.namespaces.entry(entry.namespace).or_default() += 1;
        }
    }

    pub fn delete_service(&self, service: &Service) {
        let (Some(namespace), Some(name)) = (
            service.metadata.namespace.clone(),
            service.metadata.name.clone(),
        ) else {
            return;
        };
        let mut contents = self.write();
        if contents
            .services
            .remove(&(namespace.clone(), name))
            .is_some()
            && let Some(count) = contents.namespaces.get_mut(&namespace)
        {
            *count -= 1;
            if *count == 0 {
                contents.namespaces.remove(&namespace);
            }
        }
    }

    /// Adds or replaces an EndpointSlice. Slices without the service-name label, and
    /// FQDN slices, are ignored.
    pub fn apply_endpoint_slice(&self, slice: &EndpointSlice) {
        let Some((key, slice_name)) = slice_key(slice) else {
            return;
        };
        let endpoints = slice_endpoints(slice);
        let mut contents = self.write();
        contents
            .slices
            .entry(key)
            .or_default()
            .insert(slice_name, endpoints);
    }

    pub fn delete_endpoint_slice(&self, slice: &EndpointSlice) {
        let Some((key, slice_name)) = slice_key(slice) else {
            return;
        };
        let mut contents = self.write();
        if let Some(slices) = contents.slices.get_mut(&key) {
            slices.remove(&slice_name);
            if slices.is_empty() {
                contents.slices.remove(&key);
            }
        }
    }
}

fn unix_seconds() -> u32 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    // NOTE: the SOA serial is 32 bits and wraps in 2106 (RFC 1982 arithmetic).
    seconds as u32
}

/// Reduces a Service to a [`ServiceEntry`]; `None` without a namespace or name.
pub fn service_entry(service: &Service) -> Option<ServiceEntry> {
    let namespace = service.metadata.namespace.clone()?;
    let name = service.metadata.name.clone()?;
    let spec = service.spec.clone().unwrap_or_default();

    let kind = if spec.type_.as_deref() == Some("ExternalName") {
        let target = spec.external_name.unwrap_or_default();
        ServiceKind::ExternalName(target.trim_end_matches('.').to_ascii_lowercase())
    } else if spec.cluster_ip.as_deref() == Some("None") {
        ServiceKind::Headless
    } else {
        let mut ips: Vec<String> = spec.cluster_ips.unwrap_or_default();
        if ips.is_empty() {
            ips.extend(spec.cluster_ip);
        }
        ServiceKind::ClusterIp(ips.iter().filter_map(|ip| ip.parse().ok()).collect())
    };

    let ports = spec
        .ports
        .unwrap_or_default()
        .into_iter()
        .filter_map(|port| {
            Some(PortEntry {
                name: port
                    .name
                    .filter(|name| !name.is_empty())?
                    .to_ascii_lowercase(),
                protocol: port
                    .protocol
                    .unwrap_or_else(|| "TCP".to_string())
                    .to_ascii_lowercase(),
                port: u16::try_from(port.port).ok()?,
            })
        })
        .collect();

    Some(ServiceEntry {
        namespace,
        name,
        kind,
        ports,
        publish_not_ready: spec.publish_not_ready_addresses.unwrap_or(false),
    })
}

fn slice_key(slice: &EndpointSlice) -> Option<(ServiceKey, String)> {
    let namespace = slice.metadata.namespace.clone()?;
    let name = slice.metadata.name.clone()?;
    let service = slice
        .metadata
        .labels
        .as_ref()?
        .get(SERVICE_NAME_LABEL)?
        .clone();
    Some(((namespace, service), name))
}

/// Returns the endpoints of an IPv4 or IPv6 slice; FQDN slices give none.
pub fn slice_endpoints(slice: &EndpointSlice) -> Vec<EndpointEntry> {
    if slice.address_type != "IPv4" && slice.address_type != "IPv6" {
        return Vec::new();
    }
    let ports: Vec<PortEntry> = slice
        .ports
        .iter()
        .flatten()
        .filter_map(|port| {
            Some(PortEntry {
                name: port
                    .name
                    .clone()
                    .filter(|name| !name.is_empty())?
                    .to_ascii_lowercase(),
                protocol: port
                    .protocol
                    .clone()
                    .unwrap_or_else(|| "TCP".to_string())
                    .to_ascii_lowercase(),
                port: u16::try_from(port.port?).ok()?,
            })
        })
        .collect();

    let mut entries = Vec::new();
    for endpoint in &slice.endpoints {
        let ready = endpoint
            .conditions
            .as_ref()
            .and_then(|conditions| conditions.ready)
            .unwrap_or(true);
        let hostname = endpoint
            .hostname
            .clone()
            .filter(|hostname| !hostname.is_empty())
            .map(|hostname| hostname.to_ascii_lowercase());
        for address in &endpoint.addresses {
            let Ok(address) = address.parse::<IpAddr>() else {
                continue;
            };
            entries.push(EndpointEntry {
                address,
                hostname: hostname.clone(),
                ready,
                ports: ports.clone(),
            });
        }
    }
    entries
}
