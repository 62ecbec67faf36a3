//! A set of equal-sized subnets carved out of one cluster CIDR, each either free or
//! taken: the range allocator's bookkeeping.
//!
//! Entry point: [`CidrSet::new`], then [`CidrSet::allocate_next`],
//! [`CidrSet::occupy`] and [`CidrSet::release`].

use std::net::IpAddr;

/// An error of the CIDR set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// A CIDR string did not parse.
    #[error("invalid CIDR {0:?}")]
    Invalid(String),
    /// The node mask is not longer than the cluster mask, or too long for the family.
    #[error("node CIDR mask size {node} does not fit cluster CIDR {cluster}")]
    MaskSize { cluster: String, node: u8 },
    /// The cluster CIDR would hold more subnets than this allocator tracks.
    #[error("cluster CIDR {cluster} with mask size {node} holds too many subnets (more than 2^20)")]
    TooManySubnets { cluster: String, node: u8 },
    /// Every subnet is taken.
    #[error(
        "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range"
    )]
    Full,
    /// The CIDR lies outside the cluster CIDR or does not have the node mask size.
    #[error("CIDR {0} is outside the cluster CIDR or has another mask size")]
    OutOfRange(String),
}

/// A parsed CIDR: network address (as a 128-bit number) and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub base: u128,
    pub prefix: u8,
    pub ipv6: bool,
}

impl Cidr {
    /// Parses `a.b.c.d/n` or `x::/n`; host bits are masked off.
    ///
    /// # Errors
    /// [`CidrError::Invalid`] for anything else.
    pub fn parse(text: &str) -> Result<Cidr, CidrError> {
        let invalid = || CidrError::Invalid(text.to_string());
        let (address, prefix) = text.trim().split_once('/').ok_or_else(invalid)?;
        let address: IpAddr = address.parse().map_err(|_| invalid())?;
        let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
        let (base, bits, ipv6) = match address {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32, false),
            IpAddr::V6(v6) => (u128::from(v6), 128, true),
        };
        if prefix > bits {
            return Err(invalid());
        }
        let cidr = Cidr { base, prefix, ipv6 };
        Ok(Cidr {
            base: base & cidr.mask(),
            ..cidr
        })
    }

    fn bits(&self) -> u8 {
        if self.ipv6 { 128 } else { 32 }
    }

    fn mask(&self) -> u128 {
        let host_bits = u32::from(self.bits() - self.prefix);
        let all: u128 = if self.ipv6 {
            u128::MAX
        } else {
            u128::from(u32::MAX)
        };
        if host_bits >= 128 {
            0
        } else {
            all & !((1u128 << host_bits) - 1)
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.ipv6 {
            write!(f, "{}/{}", std::net::Ipv6Addr::from(self.base), self.prefix)
        } else {
            let v4 = u32::try_from(self.base).unwrap_or_default();
            write!(f, "{}/{}", std::net::Ipv4Addr::from(v4), self.prefix)
        }
    }
}

/// The subnets of one cluster CIDR. Allocation walks round-robin from the last
/// allocated subnet, as upstream's CIDR set does.
#[derive(Debug)]
pub struct CidrSet {
    cluster: Cidr,
    node_prefix: u8,
    used: Vec<bool>,
    next: usize,
    allocated: usize,
}

/// The maximum number of subnets one set tracks.
const MAX_SUBNETS: u128 = 1 << 20;

impl CidrSet {
    /// Creates the set of `/node_prefix` subnets of `cluster`.
    ///
    /// # Errors
    /// [`CidrError::MaskSize`] when the node prefix is not longer than the cluster's
    /// or too long for the family; [`CidrError::TooManySubnets`] past 2^20 subnets.
    pub fn new(cluster: Cidr, node_prefix: u8) -> Result<CidrSet, CidrError> {
        if node_prefix < cluster.prefix || node_prefix > cluster.bits() {
            return Err(CidrError::MaskSize {
                cluster: cluster.to_string(),
                node: node_prefix,
            });
        }
        let count_bits = u32::from(node_prefix - cluster.prefix);
        if count_bits >= 21 || (1u128 << count_bits) > MAX_SUBNETS {
            return Err(CidrError::TooManySubnets {
                cluster: cluster.to_string(),
                node: node_prefix,
            });
        }
        let count = 1usize << count_bits;
        Ok(CidrSet {
            cluster,
            node_prefix,
            used: vec![false; count],
            next: 0,
            allocated: 0,
        })
    }

    fn subnet_size(&self) -> u128 {
        1u128 << u32::from(self.cluster.bits() - self.node_prefix)
    }

    fn subnet(&self, index: usize) -> Cidr {
        Cidr {
            base: self.cluster.base + self.subnet_size() * index as u128,
            prefix: self.node_prefix,
            ipv6: self.cluster.ipv6,
        }
    }

    fn index_of(&self, cidr: &Cidr) -> Result<usize, CidrError> {
        let out_of_range = || CidrError::OutOfRange(cidr.to_string());
        if cidr.ipv6 != self.cluster.ipv6 || cidr.prefix != self.node_prefix {
            return Err(out_of_range());
        }
        if cidr.base < self.cluster.base {
            return Err(out_of_range());
        }
        let index = (cidr.base - self.cluster.base) / self.subnet_size();
        if index >= self.used.len() as u128 {
            return Err(out_of_range());
        }
        Ok(index as usize)
    }

    /// Takes the next free subnet.
    ///
    /// # Errors
    /// [`CidrError::Full`] when none is free.
    pub fn allocate_next(&mut self) -> Result<Cidr, CidrError> {
        if self.allocated == self.used.len() {
            return Err(CidrError::Full);
        }
        let count = self.used.len();
        for offset in 0..count {
            let index = (self.next + offset) % count;
            if !self.used[index] {
                self.used[index] = true;
                self.allocated += 1;
                self.next = (index + 1) % count;
                return Ok(self.subnet(index));
            }
        }
        Err(CidrError::Full)
    }

    /// Marks a subnet (a node's existing podCIDR) as taken.
    ///
    /// # Errors
    /// [`CidrError::OutOfRange`] when it is not one of this set's subnets.
    pub fn occupy(&mut self, cidr: &Cidr) -> Result<(), CidrError> {
        let index = self.index_of(cidr)?;
        if !self.used[index] {
            self.used[index] = true;
            self.allocated += 1;
        }
        Ok(())
    }

    /// Frees a subnet.
    ///
    /// # Errors
    /// [`CidrError::OutOfRange`] when it is not one of this set's subnets.
    pub fn release(&mut self, cidr: &Cidr) -> Result<(), CidrError> {
        let index = self.index_of(cidr)?;
        if self.used[index] {
            self.used[index] = false;
            self.allocated -= 1;
        }
        Ok(())
    }

    /// Returns how many subnets are taken.
    pub fn allocated(&self) -> usize {
        self.allocated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_cases() {
        let cases = [
            ("10.244.0.0/16", Some("10.244.0.0/16")),
            ("10.244.3.7/16", Some("10.244.0.0/16")),
            ("fd00:10::/48", Some("fd00:10::/48")),
            ("10.0.0.0/33", None),
            ("10.0.0.0", None),
            ("nonsense/8", None),
        ];
        for (text, expected) in cases {
            let parsed = Cidr::parse(text).ok().map(|cidr| cidr.to_string());
            assert_eq!(parsed.as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn allocates_in_order_and_reuses_released() {
        let mut set = CidrSet::new(Cidr::parse("10.244.0.0/22").expect("cidr"), 24).expect("set");
        let first: Vec<String> = (0..4)
            .map(|_| set.allocate_next().expect("free").to_string())
            .collect();
        assert_eq!(
            first,
            [
                "10.244.0.0/24",
                "10.244.1.0/24",
                "10.244.2.0/24",
                "10.244.3.0/24"
            ]
        );
        assert_eq!(set.allocate_next(), Err(CidrError::Full));
        set.release(&Cidr::parse("10.244.2.0/24").expect("cidr"))
            .expect("release");
        assert_eq!(
            set.allocate_next().expect("free").to_string(),
            "10.244.2.0/24"
        );
    }

    #[test]
    fn occupy_skips_taken_subnets_and_rejects_foreign_ones() {
        let mut set = CidrSet::new(Cidr::parse("10.244.0.0/16").expect("cidr"), 24).expect("set");
        set.occupy(&Cidr::parse("10.244.0.0/24").expect("cidr"))
            .expect("occupy");
        assert_eq!(
            set.allocate_next().expect("free").to_string(),
            "10.244.1.0/24"
        );
        assert!(
            set.occupy(&Cidr::parse("10.245.0.0/24").expect("cidr"))
                .is_err()
        );
        assert!(
            set.occupy(&Cidr::parse("10.244.0.0/25").expect("cidr"))
                .is_err()
        );
        assert_eq!(set.allocated(), 2);
    }

    #[test]
    fn ipv6_and_bad_masks() {
        let mut set = CidrSet::new(Cidr::parse("fd00::/112").expect("cidr"), 120).expect("set");
        assert_eq!(set.allocate_next().expect("free").to_string(), "fd00::/120");
        assert_eq!(
            set.allocate_next().expect("free").to_string(),
            "fd00::100/120"
        );
        assert!(CidrSet::new(Cidr::parse("10.0.0.0/24").expect("cidr"), 16).is_err());
        assert!(CidrSet::new(Cidr::parse("10.0.0.0/8").expect("cidr"), 30).is_err());
        assert!(CidrSet::new(Cidr::parse("10.0.0.0/24").expect("cidr"), 33).is_err());
    }
}
