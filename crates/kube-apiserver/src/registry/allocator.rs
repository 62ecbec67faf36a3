//! Allocators of Service ClusterIPs and NodePorts, persisted in storage as upstream
//! persists them: a RangeAllocation object holding a bitmap of used offsets at
//! `/registry/ranges/serviceips` and `/registry/ranges/servicenodeports`.
//!
//! Every allocation and release is a guaranteed update of that object, so several
//! apiservers sharing one etcd never hand out the same address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use rand::Rng;
use serde_json::{Value, json};
use storage::Backend;
use storage::update::{UpdateDecision, UpdateError, guaranteed_update};

/// Failure of an allocation.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AllocationError {
    #[error("range is full")]
    Full,
    #[error("provided {what} is already allocated")]
    Allocated { what: &'static str },
    #[error("provided {what} is not in the valid range. The range of valid {what}s is {range}")]
    OutOfRange { what: &'static str, range: String },
    #[error("allocator storage failed: {0}")]
    Storage(String),
}

/// A range of values handed out by offset: IPs of a CIDR or ports of a range.
#[derive(Clone, Debug)]
pub enum Range {
    /// Addresses of a CIDR, without the network address (and the broadcast address
    /// for IPv4), as upstream's service IP allocator excludes them.
    Cidr {
        base: IpAddr,
        prefix: u8,
        size: u64,
        text: String,
    },
    /// Ports `first..=last`.
    Ports { first: u16, last: u16, text: String },
}

impl Range {
    /// Parses a CIDR such as `10.96.0.0/12`.
    pub fn parse_cidr(text: &str) -> Result<Range, String> {
        let (address, prefix) = text
            .split_once('/')
            .ok_or_else(|| format!("invalid CIDR address: {text}"))?;
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("invalid CIDR address: {text}"))?;
        let prefix: u8 = prefix
            .parse()
            .map_err(|_| format!("invalid CIDR address: {text}"))?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        if prefix > bits {
            return Err(format!("invalid CIDR address: {text}"));
        }
        let host_bits = u32::from(bits - prefix);
        // Upstream caps the bitmap at 2^16 addresses for large IPv6 ranges; so do we.
        let total: u64 = if host_bits >= 16 {
            1 << 16
        } else {
            1u64 << host_bits
        };
        let base = network_address(address, prefix);
        let reserved = if address.is_ipv4() && host_bits < 16 {
            2
        } else {
            1
        };
        let size = total.saturating_sub(reserved);
        if size == 0 {
            return Err(format!(
                "the service cluster IP range {text} has no usable address"
            ));
        }
        Ok(Range::Cidr {
            base,
            prefix,
            size,
            text: text.to_string(),
        })
    }

    /// Parses a port range such as `30000-32767`.
    pub fn parse_ports(text: &str) -> Result<Range, String> {
        let (first, last) = text.split_once('-').unwrap_or((text, text));
        let first: u16 = first
            .trim()
            .parse()
            .map_err(|_| format!("invalid port range: {text}"))?;
        let last: u16 = last
            .trim()
            .parse()
            .map_err(|_| format!("invalid port range: {text}"))?;
        if first == 0 || last < first {
            return Err(format!("invalid port range: {text}"));
        }
        Ok(Range::Ports {
            first,
            last,
            text: text.to_string(),
        })
    }

    /// Returns the first value of the range (offset 0).
    pub fn first_value(&self) -> String {
        self.value_at(0)
    }

    fn size(&self) -> u64 {
        match self {
            Range::Cidr { size, .. } => *size,
            Range::Ports { first, last, .. } => u64::from(last - first) + 1,
        }
    }

    fn text(&self) -> &str {
        match self {
            Range::Cidr { text, .. } | Range::Ports { text, .. } => text,
        }
    }

    /// Returns the value at `offset` as text (an IP or a port).
    fn value_at(&self, offset: u64) -> String {
        match self {
            Range::Cidr { base, .. } => add_to_ip(*base, offset + 1).to_string(),
            Range::Ports { first, .. } => (u64::from(*first) + offset).to_string(),
        }
    }

    /// Returns the offset of a value, or `None` when it is outside the range.
    fn offset_of(&self, value: &str) -> Option<u64> {
        match self {
            Range::Cidr {
                base, prefix, size, ..
            } => {
                let ip: IpAddr = value.parse().ok()?;
                if ip.is_ipv4() != base.is_ipv4() || network_address(ip, *prefix) != *base {
                    return None;
                }
                let distance = ip_distance(*base, ip)?;
                if distance == 0 || distance > *size {
                    return None;
                }
                Some(distance - 1)
            }
            Range::Ports { first, last, .. } => {
                let port: u16 = value.parse().ok()?;
                (port >= *first && port <= *last).then(|| u64::from(port - first))
            }
        }
    }
}

fn network_address(address: IpAddr, prefix: u8) -> IpAddr {
    match address {
        IpAddr::V4(v4) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

fn add_to_ip(base: IpAddr, offset: u64) -> IpAddr {
    match base {
        IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4).wrapping_add(offset as u32))),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(
            u128::from(v6).wrapping_add(u128::from(offset)),
        )),
    }
}

fn ip_distance(base: IpAddr, ip: IpAddr) -> Option<u64> {
    match (base, ip) {
        (IpAddr::V4(base), IpAddr::V4(ip)) => {
            u32::from(ip).checked_sub(u32::from(base)).map(u64::from)
        }
        (IpAddr::V6(base), IpAddr::V6(ip)) => u128::from(ip)
            .checked_sub(u128::from(base))
            .and_then(|distance| u64::try_from(distance).ok()),
        _ => None,
    }
}

/// One allocator over one range, persisted under one key.
#[derive(Clone)]
pub struct Allocator {
    backend: Arc<dyn Backend>,
    key: String,
    range: Range,
    /// Name of the allocated thing in messages: "IP" or "port".
    what: &'static str,
    /// Serializes this server's writes to the one key, as upstream's allocator does
    /// with its lock. Without it, a burst of concurrent Service creations keeps
    /// conflicting on the key until the update gives up with 500.
    writes: Arc<tokio::sync::Mutex<()>>,
}

impl Allocator {
    pub fn new(
        backend: Arc<dyn Backend>,
        key: String,
        range: Range,
        what: &'static str,
    ) -> Allocator {
        Allocator {
            backend,
            key,
            range,
            what,
            writes: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Allocates `value`, or a random free value when `None`. Returns the value.
    pub async fn allocate(&self, value: Option<&str>) -> Result<String, AllocationError> {
        let requested =
            match value {
                Some(value) => Some(self.range.offset_of(value).ok_or_else(|| {
                    AllocationError::OutOfRange {
                        what: self.what,
                        range: self.range.text().to_string(),
                    }
                })?),
                None => None,
            };
        let size = self.range.size();
        let mut chosen = None;
        let _serialized = self.writes.lock().await;
        let result = guaranteed_update(self.backend.as_ref(), &self.key, true, |current| {
            let mut bitmap = decode_bitmap(current.map(|kv| kv.value.as_ref()), size);
            let offset = match requested {
                Some(offset) => {
                    if is_set(&bitmap, offset) {
                        return Err(AllocationError::Allocated { what: self.what });
                    }
                    offset
                }
                None => random_free(&bitmap, size).ok_or(AllocationError::Full)?,
            };
            set(&mut bitmap, offset, true);
            chosen = Some(offset);
            Ok(UpdateDecision::Write(self.encode(&bitmap)))
        })
        .await;
        match result {
            Ok(_) => Ok(self.range.value_at(chosen.expect("an offset was chosen"))),
            Err(UpdateError::Rejected(error)) => Err(error),
            Err(UpdateError::Storage(error)) => Err(AllocationError::Storage(error.to_string())),
        }
    }

    /// Releases a value; values outside the range or already free are ignored.
    pub async fn release(&self, value: &str) {
        let Some(offset) = self.range.offset_of(value) else {
            return;
        };
        let size = self.range.size();
        let _serialized = self.writes.lock().await;
        let result = guaranteed_update(self.backend.as_ref(), &self.key, true, |current| {
            let mut bitmap = decode_bitmap(current.map(|kv| kv.value.as_ref()), size);
            if !is_set(&bitmap, offset) {
                return Ok::<_, ()>(UpdateDecision::Keep);
            }
            set(&mut bitmap, offset, false);
            Ok(UpdateDecision::Write(self.encode(&bitmap)))
        })
        .await;
        if let Err(UpdateError::Storage(error)) = result {
            tracing::warn!(key = %self.key, value, error = %error, "failed to release an allocation");
        }
    }

    fn encode(&self, bitmap: &[u8]) -> Bytes {
        let object = json!({
            "kind": "RangeAllocation",
            "apiVersion": "v1",
            "metadata": {"creationTimestamp": null},
            "range": self.range.text(),
            "data": STANDARD.encode(bitmap),
        });
        Bytes::from(serde_json::to_vec(&object).unwrap_or_default())
    }
}

fn decode_bitmap(stored: Option<&[u8]>, size: u64) -> Vec<u8> {
    let bytes = (size as usize).div_ceil(8);
    let mut bitmap = stored
        .and_then(|stored| serde_json::from_slice::<Value>(stored).ok())
        .and_then(|object| {
            object
                .get("data")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .and_then(|data| STANDARD.decode(data).ok())
        .unwrap_or_default();
    bitmap.resize(bytes, 0);
    bitmap
}

fn is_set(bitmap: &[u8], offset: u64) -> bool {
    bitmap
        .get((offset / 8) as usize)
        .is_some_and(|byte| byte & (1 << (offset % 8)) != 0)
}

fn set(bitmap: &mut [u8], offset: u64, value: bool) {
    if let Some(byte) = bitmap.get_mut((offset / 8) as usize) {
        if value {
            *byte |= 1 << (offset % 8);
        } else {
            *byte &= !(1 << (offset % 8));
        }
    }
}

/// Scans from a random offset for a free one, as upstream's random-scan strategy does.
fn random_free(bitmap: &[u8], size: u64) -> Option<u64> {
    let start = rand::rng().random_range(0..size);
    (0..size)
        .map(|step| (start + step) % size)
        .find(|offset| !is_set(bitmap, *offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_offsets_skip_network_and_broadcast() {
        let range = Range::parse_cidr("10.0.0.0/24").unwrap();
        assert_eq!(range.size(), 254);
        assert_eq!(range.value_at(0), "10.0.0.1");
        assert_eq!(range.value_at(253), "10.0.0.254");
        assert_eq!(range.offset_of("10.0.0.1"), Some(0));
        assert_eq!(range.offset_of("10.0.0.0"), None);
        assert_eq!(range.offset_of("10.0.0.255"), None);
        assert_eq!(range.offset_of("10.0.1.1"), None);
        assert_eq!(range.offset_of("fd00::1"), None);
        assert!(Range::parse_cidr("10.0.0.0/33").is_err());
        assert!(Range::parse_cidr("banana").is_err());
    }

    #[test]
    fn port_ranges_parse() {
        let range = Range::parse_ports("30000-32767").unwrap();
        assert_eq!(range.size(), 2768);
        assert_eq!(range.offset_of("30000"), Some(0));
        assert_eq!(range.offset_of("29999"), None);
        assert!(Range::parse_ports("5-1").is_err());
    }

    #[tokio::test]
    async fn allocations_persist_and_exhaust() {
        let dir = tempfile::tempdir().unwrap();
        let backend: Arc<dyn Backend> = Arc::new(
            storage::embedded::EmbeddedBackend::open(&dir.path().join("s.redb"))
                .await
                .unwrap(),
        );
        let allocator = Allocator::new(
            backend.clone(),
            "/registry/ranges/serviceips".into(),
            Range::parse_cidr("10.0.0.0/30").unwrap(),
            "IP",
        );

        assert_eq!(
            allocator.allocate(Some("10.0.0.1")).await.unwrap(),
            "10.0.0.1"
        );
        assert_eq!(
            allocator.allocate(Some("10.0.0.1")).await,
            Err(AllocationError::Allocated { what: "IP" })
        );
        assert_eq!(allocator.allocate(None).await.unwrap(), "10.0.0.2");
        assert_eq!(allocator.allocate(None).await, Err(AllocationError::Full));
        assert!(matches!(
            allocator.allocate(Some("10.9.9.9")).await,
            Err(AllocationError::OutOfRange { .. })
        ));

        allocator.release("10.0.0.1").await;
        let again = Allocator::new(
            backend,
            "/registry/ranges/serviceips".into(),
            Range::parse_cidr("10.0.0.0/30").unwrap(),
            "IP",
        );
        assert_eq!(
            again.allocate(None).await.unwrap(),
            "10.0.0.1",
            "state is read back from storage"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_allocations_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let backend: Arc<dyn Backend> = Arc::new(
            storage::embedded::EmbeddedBackend::open(&dir.path().join("s.redb"))
                .await
                .unwrap(),
        );
        let allocator = Allocator::new(
            backend,
            "/registry/ranges/serviceips".into(),
            Range::parse_cidr("10.0.0.0/22").unwrap(),
            "IP",
        );

        let tasks: Vec<_> = (0..300)
            .map(|_| {
                let allocator = allocator.clone();
                tokio::spawn(async move { allocator.allocate(None).await })
            })
            .collect();
        let mut allocated = std::collections::BTreeSet::new();
        for task in tasks {
            allocated.insert(task.await.unwrap().expect("allocation succeeds"));
        }

        assert_eq!(allocated.len(), 300);
    }
}
