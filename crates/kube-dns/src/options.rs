//! Command-line flags, named after kube-dns's where kube-dns has them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::Parser;

use crate::resolver::DEFAULT_TTL;

/// Flags of kube-dns.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "kube-dns",
    about = "Serves the Kubernetes DNS-based service discovery records of a cluster."
)]
pub struct Options {
    /// The cluster domain the records live under.
    #[arg(long, default_value = "cluster.local.")]
    pub domain: String,

    /// The address to serve DNS on, over UDP and TCP.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::UNSPECIFIED))]
    pub dns_bind_address: IpAddr,

    /// The port to serve DNS on, over UDP and TCP.
    #[arg(long, default_value_t = 53)]
    pub dns_port: u16,

    /// The kubeconfig file with the API server's address and credentials. Without it,
    /// the in-cluster service account configuration is used.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,

    /// The port of the /healthz and /readyz endpoints, on the DNS bind address; 0
    /// turns them off.
    #[arg(long, default_value_t = 8081)]
    pub healthz_port: u16,

    /// The TTL of every record in seconds, also the SOA minimum that bounds how long
    /// resolvers cache a negative answer.
    #[arg(long, default_value_t = DEFAULT_TTL)]
    pub ttl: u32,

    /// The log format: text or json.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub logging_format: String,
}

impl Options {
    pub fn dns_address(&self) -> SocketAddr {
        SocketAddr::new(self.dns_bind_address, self.dns_port)
    }

    /// Returns the health server's address, `None` when `--healthz-port` is 0.
    pub fn health_address(&self) -> Option<SocketAddr> {
        (self.healthz_port != 0).then(|| SocketAddr::new(self.dns_bind_address, self.healthz_port))
    }
}
