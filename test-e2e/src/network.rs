//! The cluster network on this machine: a bridge in the host's network namespace and,
//! per node, a network namespace joined to it by a veth pair.
//!
//! Every address lives in private ranges the launcher chose, and no namespace gets a
//! default route, so nothing a node or pod sends can leave the machine. Node-to-node
//! pod traffic is routed by each node namespace: a route per peer node's pod CIDR via
//! that node's address. The host reaches node addresses through the bridge, and each
//! node's pods through a route on the bridge, as a control plane node of a real
//! cluster reaches pods for `pods/proxy` and `services/proxy`. Commands
//! run through `ip` and `nsenter` from iproute2 and util-linux.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;

/// A failed network command.
#[derive(Debug, thiserror::Error)]
#[error("`{command}` failed: {message}")]
pub struct NetworkError {
    /// The command line that failed.
    pub command: String,
    /// Its standard error, or the spawn error.
    pub message: String,
}

/// The directory where `ip netns` pins named network namespaces.
pub const NETNS_DIR: &str = "/var/run/netns";

/// Runs `program` with `args` and fails with its standard error on a non-zero exit.
pub fn run(program: &str, args: &[&str]) -> Result<String, NetworkError> {
    let command = format!("{program} {}", args.join(" "));
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|error| NetworkError {
            command: command.clone(),
            message: error.to_string(),
        })?;
    if !output.status.success() {
        return Err(NetworkError {
            command,
            message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Returns the `nsenter` prefix that runs a command in the named network namespace.
/// `nsenter` is used instead of `ip netns exec` because the latter remounts /sys,
/// which hides the cgroup hierarchy from the OCI runtime.
pub fn netns_prefix(netns: &str) -> Vec<String> {
    vec![
        "nsenter".to_string(),
        format!("--net={}", netns_path(netns).display()),
        "--".to_string(),
    ]
}

/// Returns the path that pins the named network namespace.
pub fn netns_path(netns: &str) -> PathBuf {
    PathBuf::from(NETNS_DIR).join(netns)
}

/// Creates the bridge `name` with `address/prefix` and brings it up. A bridge left
/// over from an earlier run of the same cluster is deleted first.
pub fn create_bridge(name: &str, address: Ipv4Addr, prefix: u8) -> Result<(), NetworkError> {
    if link_exists(name) {
        delete_link(name)?;
    }
    run("ip", &["link", "add", name, "type", "bridge"])?;
    run(
        "ip",
        &["addr", "add", &format!("{address}/{prefix}"), "dev", name],
    )?;
    run("ip", &["link", "set", name, "up"])?;
    Ok(())
}

/// Routes `destination` (a CIDR) from the host namespace via `gateway` on `bridge`.
/// The route goes away with the bridge.
pub fn add_bridge_route(
    bridge: &str,
    destination: &str,
    gateway: Ipv4Addr,
) -> Result<(), NetworkError> {
    let gateway = gateway.to_string();
    run(
        "ip",
        &[
            "route",
            "replace",
            destination,
            "via",
            &gateway,
            "dev",
            bridge,
        ],
    )
    .map(drop)
}

/// Returns whether a network interface called `name` exists in the host namespace.
pub fn link_exists(name: &str) -> bool {
    PathBuf::from("/sys/class/net").join(name).exists()
}

/// Deletes the interface `name` from the host namespace.
pub fn delete_link(name: &str) -> Result<(), NetworkError> {
    run("ip", &["link", "del", name]).map(drop)
}

/// A node's place in the network.
#[derive(Clone, Debug)]
pub struct NodeNetwork {
    /// The network namespace name.
    pub netns: String,
    /// The host end of the veth pair, enslaved to the bridge.
    pub host_veth: String,
    /// The node's address on the bridge subnet (its `eth0`).
    pub address: Ipv4Addr,
    /// The subnet prefix length of `address`.
    pub prefix: u8,
}

impl NodeNetwork {
    /// Creates the namespace and the veth pair, addresses `eth0` and brings up
    /// `lo` and `eth0`. Packet forwarding is enabled inside the namespace only.
    pub fn create(&self, bridge: &str) -> Result<(), NetworkError> {
        if netns_path(&self.netns).exists() {
            delete_netns(&self.netns)?;
        }
        if link_exists(&self.host_veth) {
            delete_link(&self.host_veth)?;
        }
        run("ip", &["netns", "add", &self.netns])?;
        run(
            "ip",
            &[
                "link",
                "add",
                &self.host_veth,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                &self.netns,
            ],
        )?;
        run(
            "ip",
            &["link", "set", &self.host_veth, "master", bridge, "up"],
        )?;
        let address = format!("{}/{}", self.address, self.prefix);
        run(
            "ip",
            &["-n", &self.netns, "addr", "add", &address, "dev", "eth0"],
        )?;
        run("ip", &["-n", &self.netns, "link", "set", "lo", "up"])?;
        run("ip", &["-n", &self.netns, "link", "set", "eth0", "up"])?;
        self.sysctl("net.ipv4.ip_forward", "1")?;
        Ok(())
    }

    /// Adds a route inside the namespace: `destination` (a CIDR) via `gateway`, or
    /// directly on `eth0` when `gateway` is `None`.
    pub fn add_route(
        &self,
        destination: &str,
        gateway: Option<Ipv4Addr>,
    ) -> Result<(), NetworkError> {
        let gateway = gateway.map(|gateway| gateway.to_string());
        let mut args = vec!["-n", &self.netns, "route", "replace", destination];
        match &gateway {
            Some(gateway) => args.extend(["via", gateway.as_str()]),
            None => args.extend(["dev", "eth0"]),
        }
        run("ip", &args).map(drop)
    }

    /// Writes a sysctl inside the namespace (network sysctls are per namespace).
    pub fn sysctl(&self, key: &str, value: &str) -> Result<(), NetworkError> {
        let mut command = netns_prefix(&self.netns);
        command.extend([
            "sysctl".to_string(),
            "-q".to_string(),
            "-w".to_string(),
            format!("{key}={value}"),
        ]);
        let args: Vec<&str> = command[1..].iter().map(String::as_str).collect();
        run(&command[0], &args).map(drop)
    }
}

/// Deletes a named network namespace; its veth pair goes with it.
pub fn delete_netns(netns: &str) -> Result<(), NetworkError> {
    run("ip", &["netns", "del", netns]).map(drop)
}
