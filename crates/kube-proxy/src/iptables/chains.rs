//! Chain names of the iptables proxier, fixed and per service port, and the hashes
//! that make per-service names short and stable.

use ring::digest;

use crate::service::ServicePortName;

pub const KUBE_SERVICES: &str = "KUBE-SERVICES";
pub const KUBE_EXTERNAL_SERVICES: &str = "KUBE-EXTERNAL-SERVICES";
pub const KUBE_NODEPORTS: &str = "KUBE-NODEPORTS";
pub const KUBE_POSTROUTING: &str = "KUBE-POSTROUTING";
pub const KUBE_MARK_MASQ: &str = "KUBE-MARK-MASQ";
pub const KUBE_FORWARD: &str = "KUBE-FORWARD";
pub const KUBE_PROXY_FIREWALL: &str = "KUBE-PROXY-FIREWALL";

/// Fixed chains of the filter table, in the order they are declared.
pub const FILTER_CHAINS: [&str; 5] = [
    KUBE_SERVICES,
    KUBE_EXTERNAL_SERVICES,
    KUBE_FORWARD,
    KUBE_NODEPORTS,
    KUBE_PROXY_FIREWALL,
];

/// Fixed chains of the nat table, in the order they are declared.
pub const NAT_CHAINS: [&str; 4] = [
    KUBE_SERVICES,
    KUBE_NODEPORTS,
    KUBE_POSTROUTING,
    KUBE_MARK_MASQ,
];

/// Prefixes of the per-service nat chains; a chain with one of them that the current
/// state does not produce is stale and gets deleted.
pub const SERVICE_CHAIN_PREFIXES: [&str; 5] = [
    "KUBE-SVC-",
    "KUBE-SVL-",
    "KUBE-EXT-",
    "KUBE-FW-",
    "KUBE-SEP-",
];

/// A jump from a built-in chain into one of ours, installed with `iptables -I`.
pub struct Jump {
    pub table: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub comment: &'static str,
    /// Matches placed before the comment, such as `-m conntrack --ctstate NEW`.
    pub extra: &'static [&'static str],
}

const NEW_ONLY: &[&str] = &["-m", "conntrack", "--ctstate", "NEW"];

/// The jumps from built-in chains, as upstream kube-proxy installs them.
pub const JUMPS: [Jump; 12] = [
    Jump {
        table: "filter",
        from: "INPUT",
        to: KUBE_EXTERNAL_SERVICES,
        comment: "kubernetes externally-visible service portals",
        extra: NEW_ONLY,
    },
    Jump {
        table: "filter",
        from: "FORWARD",
        to: KUBE_EXTERNAL_SERVICES,
        comment: "kubernetes externally-visible service portals",
        extra: NEW_ONLY,
    },
    Jump {
        table: "filter",
        from: "INPUT",
        to: KUBE_NODEPORTS,
        comment: "kubernetes health check service ports",
        extra: &[],
    },
    Jump {
        table: "filter",
        from: "FORWARD",
        to: KUBE_SERVICES,
        comment: "kubernetes service portals",
        extra: NEW_ONLY,
    },
    Jump {
        table: "filter",
        from: "OUTPUT",
        to: KUBE_SERVICES,
        comment: "kubernetes service portals",
        extra: NEW_ONLY,
    },
    Jump {
        table: "filter",
        from: "FORWARD",
        to: KUBE_FORWARD,
        comment: "kubernetes forwarding rules",
        extra: &[],
    },
    Jump {
        table: "filter",
        from: "INPUT",
        to: KUBE_PROXY_FIREWALL,
        comment: "kubernetes load balancer firewall",
        extra: NEW_ONLY,
    },
    Jump {
        table: "filter",
        from: "OUTPUT",
        to: KUBE_PROXY_FIREWALL,
        comment: "kubernetes load balancer firewall",
        extra: NEW_ONLY,
    },
    Jump {
        table: "filter",
        from: "FORWARD",
        to: KUBE_PROXY_FIREWALL,
        comment: "kubernetes load balancer firewall",
        extra: NEW_ONLY,
    },
    Jump {
        table: "nat",
        from: "OUTPUT",
        to: KUBE_SERVICES,
        comment: "kubernetes service portals",
        extra: &[],
    },
    Jump {
        table: "nat",
        from: "PREROUTING",
        to: KUBE_SERVICES,
        comment: "kubernetes service portals",
        extra: &[],
    },
    Jump {
        table: "nat",
        from: "POSTROUTING",
        to: KUBE_POSTROUTING,
        comment: "kubernetes postrouting rules",
        extra: &[],
    },
];

impl Jump {
    /// Returns the rule arguments that follow `-t TABLE -I CHAIN`.
    pub fn args(&self) -> Vec<&'static str> {
        let mut args: Vec<&'static str> = self.extra.to_vec();
        args.extend(["-m", "comment", "--comment", self.comment, "-j", self.to]);
        args
    }

    /// Returns the rule specification as iptables-restore reads it and iptables-save
    /// prints it, with the comment quoted.
    pub fn spec(&self) -> String {
        let mut spec = String::new();
        for arg in self.extra {
            spec.push_str(arg);
            spec.push(' ');
        }
        spec.push_str(&format!(
            "-m comment --comment \"{}\" -j {}",
            self.comment, self.to
        ));
        spec
    }

    /// Returns the line `iptables-save` prints for this jump.
    pub fn save_line(&self) -> String {
        format!("-A {} {}", self.from, self.spec())
    }
}

/// Returns the first 16 characters of the base32 (RFC 4648, padded alphabet) encoding of the
/// SHA-256 of `input`, as upstream names its per-service chains.
pub fn hash16(input: &str) -> String {
    let digest = digest::digest(&digest::SHA256, input.as_bytes());
    // 16 base32 characters encode exactly the first 10 bytes.
    base32(&digest.as_ref()[..10])
}

fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u64 = 0;
    let mut bits = 0;
    for byte in bytes {
        buffer = (buffer << 8) | u64::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Hashes `"<service port name><protocol>"`, for example of `default/kubernetes:httpstcp`.
pub fn port_hash(name: &ServicePortName) -> String {
    hash16(&format!("{name}{}", name.protocol.lower()))
}

/// `KUBE-SVC-<hash>`: the chain that spreads cluster traffic over all endpoints.
pub fn service_chain(name: &ServicePortName) -> String {
    format!("KUBE-SVC-{}", port_hash(name))
}

/// `KUBE-SVL-<hash>`: the chain that spreads traffic over the node's local endpoints.
pub fn local_chain(name: &ServicePortName) -> String {
    format!("KUBE-SVL-{}", port_hash(name))
}

/// `KUBE-EXT-<hash>`: the entry for traffic to node ports, external IPs and load balancers.
pub fn external_chain(name: &ServicePortName) -> String {
    format!("KUBE-EXT-{}", port_hash(name))
}

/// `KUBE-FW-<hash>`: the load balancer source-range check.
pub fn firewall_chain(name: &ServicePortName) -> String {
    format!("KUBE-FW-{}", port_hash(name))
}

/// `KUBE-SEP-<hash>`: the DNAT to one endpoint, hashed over
/// `"<service port name><protocol><ip:port>"`.
pub fn endpoint_chain(name: &ServicePortName, endpoint: &str) -> String {
    format!(
        "KUBE-SEP-{}",
        hash16(&format!("{name}{}{endpoint}", name.protocol.lower()))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Protocol;

    #[test]
    fn base32_matches_rfc4648_vectors() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foob"), "MZXW6YQ");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
    }

    /// Names observed on clusters run by upstream kube-proxy.
    #[test]
    fn chain_names_match_upstream() {
        let https = ServicePortName::new("default", "kubernetes", "https", Protocol::Tcp);
        assert_eq!(service_chain(&https), "KUBE-SVC-NPX46M4PTMTKRN6Y");
        let dns = ServicePortName::new("kube-system", "kube-dns", "dns", Protocol::Udp);
        assert_eq!(service_chain(&dns), "KUBE-SVC-TCOU7JCQXEZGVUNU");
        let unnamed = ServicePortName::new("default", "nginx", "", Protocol::Tcp);
        assert_eq!(service_chain(&unnamed), "KUBE-SVC-2CMXP7HKUVJN7L6M");
        let p80 = ServicePortName::new("ns1", "svc1", "p80", Protocol::Tcp);
        assert_eq!(service_chain(&p80), "KUBE-SVC-XPGD46QRK7WJZT7O");
        assert_eq!(
            endpoint_chain(&p80, "10.180.0.1:80"),
            "KUBE-SEP-SXIVWICOYRO3J4NJ"
        );
    }
}
