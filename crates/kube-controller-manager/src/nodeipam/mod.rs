//! Node IPAM.
pub mod cidrset;
