//! The `kube-ipvs0` dummy interface over rtnetlink (`NETLINK_ROUTE`): creating and
//! deleting the link, and adding, listing and deleting the service addresses bound to
//! it. IPVS only accepts traffic for addresses that are local, so the IPVS proxier
//! binds every cluster IP, external IP and load balancer IP to this interface. The
//! interface stays down: the kernel adds a local route for an address on a down
//! interface, and no other route uses the interface.
//!
//! Entry point: [`Rtnetlink::connect`], then [`LinkHandle`]'s methods. Messages follow
//! `struct ifinfomsg` and `struct ifaddrmsg` of `include/uapi/linux/rtnetlink.h` and
//! `if_addr.h`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::socket::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NetlinkSocket, SocketError, attributes,
    split_messages,
};

/// The interface upstream's IPVS proxier binds service addresses to.
pub const DUMMY_DEVICE: &str = "kube-ipvs0";

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_GETADDR: u16 = 22;

const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;

const IFLA_IFNAME: u16 = 3;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;

const AF_UNSPEC: u8 = 0;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
/// `RT_SCOPE_HOST`, the scope of an address that only this host uses.
const SCOPE_HOST: u8 = 254;

/// A failed rtnetlink operation.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(
        "the kernel cannot create {kind} interfaces (no {kind} driver); kube-proxy's IPVS mode needs one for {DUMMY_DEVICE}"
    )]
    KindNotSupported { kind: String },
    #[error("network interface {0} not found")]
    NotFound(String),
    #[error("netlink socket operation {operation} failed: {source}")]
    Socket {
        operation: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("rtnetlink request {request} failed: {source}")]
    Kernel {
        request: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("malformed rtnetlink reply: {0}")]
    Malformed(String),
}

impl From<SocketError> for LinkError {
    fn from(error: SocketError) -> LinkError {
        LinkError::Socket {
            operation: error.operation,
            source: error.source,
        }
    }
}

/// The link and address operations of the IPVS proxier; [`Rtnetlink`] implements them
/// against the kernel and unit tests with a fake.
pub trait LinkHandle: Send {
    /// Creates interface `name` of `kind` (such as `dummy`) unless it exists; returns
    /// its index.
    fn ensure_link(&mut self, name: &str, kind: &str) -> Result<u32, LinkError>;
    /// Returns the index of interface `name`, or `None` when it does not exist.
    fn find_link(&mut self, name: &str) -> Result<Option<u32>, LinkError>;
    /// Deletes interface `name`; returns whether it existed.
    fn delete_link(&mut self, name: &str) -> Result<bool, LinkError>;
    /// Lists the addresses of the interface with index `index`.
    fn list_addresses(&mut self, index: u32) -> Result<Vec<IpAddr>, LinkError>;
    /// Adds `ip` as a /32 (IPv4) or /128 (IPv6) host address; an existing one is kept.
    fn add_address(&mut self, index: u32, ip: IpAddr) -> Result<(), LinkError>;
    /// Deletes `ip`; a missing one is not an error.
    fn delete_address(&mut self, index: u32, ip: IpAddr) -> Result<(), LinkError>;
}

fn put_attr(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    let length = u16::try_from(4 + value.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&length.to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn name_attr(out: &mut Vec<u8>, name: &str) {
    let mut bytes = name.as_bytes().to_vec();
    bytes.push(0);
    put_attr(out, IFLA_IFNAME, &bytes);
}

/// Wraps `body` in a netlink header.
fn message(kind: u16, flags: u16, seq: u32, body: &[u8]) -> Vec<u8> {
    let length = 16 + body.len();
    let mut out = Vec::with_capacity(length);
    out.extend_from_slice(&u32::try_from(length).unwrap_or(u32::MAX).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(body);
    out
}

/// `struct ifinfomsg` with every field zero except the index.
fn ifinfomsg(index: i32) -> Vec<u8> {
    let mut body = vec![AF_UNSPEC, 0, 0, 0];
    body.extend_from_slice(&index.to_ne_bytes());
    body.extend_from_slice(&0u32.to_ne_bytes());
    body.extend_from_slice(&0u32.to_ne_bytes());
    body
}

/// Encodes the request that creates interface `name` of `kind`, failing if it exists.
pub fn encode_new_link(seq: u32, name: &str, kind: &str) -> Vec<u8> {
    let mut body = ifinfomsg(0);
    name_attr(&mut body, name);
    let mut kind_bytes = kind.as_bytes().to_vec();
    kind_bytes.push(0);
    let mut info = Vec::new();
    put_attr(&mut info, IFLA_INFO_KIND, &kind_bytes);
    put_attr(&mut body, IFLA_LINKINFO, &info);
    message(
        RTM_NEWLINK,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        seq,
        &body,
    )
}

/// Encodes a request for the link named `name` (`RTM_GETLINK`, whose reply is the
/// link or an error) or its deletion (`RTM_DELLINK`, whose reply is an ack or an error).
fn encode_link_by_name(kind: u16, seq: u32, name: &str) -> Vec<u8> {
    let mut body = ifinfomsg(0);
    name_attr(&mut body, name);
    let flags = if kind == RTM_GETLINK {
        NLM_F_REQUEST
    } else {
        NLM_F_REQUEST | NLM_F_ACK
    };
    message(kind, flags, seq, &body)
}

/// Encodes `RTM_NEWADDR` (add, keeping an existing address) or `RTM_DELADDR` for a
/// host address of `ip` on interface `index`.
pub fn encode_address(kind: u16, seq: u32, index: u32, ip: IpAddr) -> Vec<u8> {
    let (family, prefix, octets) = match ip {
        IpAddr::V4(ip) => (AF_INET, 32, ip.octets().to_vec()),
        IpAddr::V6(ip) => (AF_INET6, 128, ip.octets().to_vec()),
    };
    let mut body = vec![family, prefix, 0, SCOPE_HOST];
    body.extend_from_slice(&index.to_ne_bytes());
    put_attr(&mut body, IFA_LOCAL, &octets);
    put_attr(&mut body, IFA_ADDRESS, &octets);
    let flags = if kind == RTM_NEWADDR {
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
    } else {
        NLM_F_REQUEST | NLM_F_ACK
    };
    message(kind, flags, seq, &body)
}

/// Encodes the dump request for every address of every interface.
pub fn encode_list_addresses(seq: u32) -> Vec<u8> {
    let body = [AF_UNSPEC, 0, 0, 0, 0, 0, 0, 0];
    message(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq, &body)
}

/// One netlink message of a reply, with the sequence number of its request.
#[derive(Debug, PartialEq, Eq)]
enum Reply<'a> {
    Ack,
    /// `NLMSG_ERROR` with a positive errno.
    Error(i32),
    Done,
    /// A message of `kind` with its body (family header and attributes).
    Data {
        kind: u16,
        body: &'a [u8],
    },
}

fn parse_replies(buffer: &[u8]) -> Result<Vec<(u32, Reply<'_>)>, LinkError> {
    let mut replies = Vec::new();
    for message in split_messages(buffer).map_err(LinkError::Malformed)? {
        let reply = match message.error_code() {
            Some(code) => match code.map_err(LinkError::Malformed)? {
                0 => Reply::Ack,
                errno => Reply::Error(errno),
            },
            None if message.kind == NLMSG_DONE => Reply::Done,
            None => Reply::Data {
                kind: message.kind,
                body: message.body,
            },
        };
        replies.push((message.seq, reply));
    }
    Ok(replies)
}

/// Decodes `(interface index, address)` from an `RTM_NEWADDR` body.
pub fn decode_address(body: &[u8]) -> Option<(u32, IpAddr)> {
    let family = *body.first()?;
    let index = u32::from_ne_bytes(body.get(4..8)?.try_into().ok()?);
    let attrs = body.get(8..)?;
    let value = attributes(attrs)
        .find(|(kind, _)| *kind == IFA_LOCAL)
        .or_else(|| attributes(attrs).find(|(kind, _)| *kind == IFA_ADDRESS))?
        .1;
    let ip = match family {
        AF_INET => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(value.get(0..4)?).ok()?)),
        AF_INET6 => IpAddr::V6(Ipv6Addr::from(
            <[u8; 16]>::try_from(value.get(0..16)?).ok()?,
        )),
        _ => return None,
    };
    Some((index, ip))
}

/// A blocking `NETLINK_ROUTE` socket in the network namespace of the thread that
/// called [`Rtnetlink::connect`].
pub struct Rtnetlink {
    socket: NetlinkSocket,
    seq: u32,
}

impl Rtnetlink {
    /// Opens the socket.
    pub fn connect() -> Result<Rtnetlink, LinkError> {
        let socket = NetlinkSocket::open(libc::NETLINK_ROUTE)?;
        Ok(Rtnetlink { socket, seq: 1 })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sends `request` and returns the reply buffers up to an ack, an error or the end
    /// of a dump. A kernel error comes back as `Err(errno)` inside `Ok`. Messages of
    /// earlier requests (a late ack) are skipped by their sequence number.
    fn exchange(
        &mut self,
        request: &[u8],
        dump: bool,
    ) -> Result<Result<Vec<Vec<u8>>, i32>, LinkError> {
        let seq = u32::from_ne_bytes([request[8], request[9], request[10], request[11]]);
        self.socket.send(request)?;
        let mut buffers = Vec::new();
        loop {
            let buffer = self.socket.receive()?;
            let mut finished = false;
            let mut current = false;
            for (reply_seq, reply) in parse_replies(&buffer)? {
                if reply_seq != seq {
                    continue;
                }
                current = true;
                match reply {
                    Reply::Error(errno) => return Ok(Err(errno)),
                    Reply::Ack | Reply::Done => finished = true,
                    Reply::Data { .. } => finished |= !dump,
                }
            }
            if current {
                buffers.push(buffer);
            }
            if finished {
                return Ok(Ok(buffers));
            }
        }
    }

    /// Returns the index of interface `name`, or `None` when it does not exist.
    fn link_index(&mut self, name: &str) -> Result<Option<u32>, LinkError> {
        let seq = self.next_seq();
        let request = encode_link_by_name(RTM_GETLINK, seq, name);
        match self.exchange(&request, false)? {
            Ok(buffers) => {
                for buffer in &buffers {
                    for (_, reply) in parse_replies(buffer)? {
                        if let Reply::Data {
                            kind: RTM_NEWLINK,
                            body,
                        } = reply
                            && let Some(index) = body.get(4..8)
                        {
                            let index =
                                i32::from_ne_bytes([index[0], index[1], index[2], index[3]]);
                            return Ok(u32::try_from(index).ok());
                        }
                    }
                }
                Err(LinkError::Malformed(format!(
                    "no link message in the reply for {name}"
                )))
            }
            Err(errno) if errno == libc::ENODEV => Ok(None),
            Err(errno) => Err(kernel_error("RTM_GETLINK", errno)),
        }
    }
}

fn kernel_error(request: &'static str, errno: i32) -> LinkError {
    LinkError::Kernel {
        request,
        source: std::io::Error::from_raw_os_error(errno),
    }
}

impl LinkHandle for Rtnetlink {
    fn find_link(&mut self, name: &str) -> Result<Option<u32>, LinkError> {
        self.link_index(name)
    }

    fn ensure_link(&mut self, name: &str, kind: &str) -> Result<u32, LinkError> {
        if let Some(index) = self.link_index(name)? {
            return Ok(index);
        }
        let seq = self.next_seq();
        let request = encode_new_link(seq, name, kind);
        match self.exchange(&request, false)? {
            Ok(_) => {}
            // The kernel returns EOPNOTSUPP for a kind without a loadable driver.
            Err(errno) if errno == libc::EOPNOTSUPP => {
                return Err(LinkError::KindNotSupported {
                    kind: kind.to_string(),
                });
            }
            Err(errno) if errno == libc::EEXIST => {}
            Err(errno) => return Err(kernel_error("RTM_NEWLINK", errno)),
        }
        self.link_index(name)?
            .ok_or_else(|| LinkError::NotFound(name.to_string()))
    }

    fn delete_link(&mut self, name: &str) -> Result<bool, LinkError> {
        let seq = self.next_seq();
        let request = encode_link_by_name(RTM_DELLINK, seq, name);
        match self.exchange(&request, false)? {
            Ok(_) => Ok(true),
            Err(errno) if errno == libc::ENODEV => Ok(false),
            Err(errno) => Err(kernel_error("RTM_DELLINK", errno)),
        }
    }

    fn list_addresses(&mut self, index: u32) -> Result<Vec<IpAddr>, LinkError> {
        let seq = self.next_seq();
        let request = encode_list_addresses(seq);
        let buffers = self
            .exchange(&request, true)?
            .map_err(|errno| kernel_error("RTM_GETADDR", errno))?;
        let mut addresses = Vec::new();
        for buffer in &buffers {
            for (_, reply) in parse_replies(buffer)? {
                if let Reply::Data {
                    kind: RTM_NEWADDR,
                    body,
                } = reply
                    && let Some((address_index, ip)) = decode_address(body)
                    && address_index == index
                {
                    addresses.push(ip);
                }
            }
        }
        Ok(addresses)
    }

    fn add_address(&mut self, index: u32, ip: IpAddr) -> Result<(), LinkError> {
        let seq = self.next_seq();
        let request = encode_address(RTM_NEWADDR, seq, index, ip);
        match self.exchange(&request, false)? {
            Ok(_) => Ok(()),
            Err(errno) if errno == libc::EEXIST => Ok(()),
            Err(errno) => Err(kernel_error("RTM_NEWADDR", errno)),
        }
    }

    fn delete_address(&mut self, index: u32, ip: IpAddr) -> Result<(), LinkError> {
        let seq = self.next_seq();
        let request = encode_address(RTM_DELADDR, seq, index, ip);
        match self.exchange(&request, false)? {
            Ok(_) => Ok(()),
            Err(errno) if errno == libc::EADDRNOTAVAIL => Ok(()),
            Err(errno) => Err(kernel_error("RTM_DELADDR", errno)),
        }
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    #[test]
    fn new_link_request_bytes() {
        #[rustfmt::skip]
        let expected: &[u8] = &[
            64, 0, 0, 0,  16, 0,  0x05, 0x06,  7, 0, 0, 0,  0, 0, 0, 0, // nlmsghdr: RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE, seq 7
            0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,          // ifinfomsg
            15, 0, 3, 0,  b'k', b'u', b'b', b'e', b'-', b'i', b'p', b'v', b's', b'0', 0, 0, // IFLA_IFNAME
            16, 0, 18, 0,  10, 0, 1, 0,  b'd', b'u', b'm', b'm', b'y', 0, 0, 0, // IFLA_LINKINFO { IFLA_INFO_KIND }
        ];
        assert_eq!(encode_new_link(7, DUMMY_DEVICE, "dummy"), expected);
    }

    #[test]
    fn address_request_bytes() {
        #[rustfmt::skip]
        let expected: &[u8] = &[
            40, 0, 0, 0,  20, 0,  0x05, 0x06,  3, 0, 0, 0,  0, 0, 0, 0, // nlmsghdr: RTM_NEWADDR
            2, 32, 0, 254,  9, 0, 0, 0,                                 // ifaddrmsg: AF_INET /32 host scope, index 9
            8, 0, 2, 0,  10, 96, 0, 10,                                 // IFA_LOCAL
            8, 0, 1, 0,  10, 96, 0, 10,                                 // IFA_ADDRESS
        ];
        let ip: IpAddr = "10.96.0.10".parse().unwrap();
        assert_eq!(encode_address(RTM_NEWADDR, 3, 9, ip), expected);
        let delete = encode_address(RTM_DELADDR, 3, 9, ip);
        assert_eq!(delete[4], RTM_DELADDR as u8);
        assert_eq!(delete[6..8], [0x05, 0x00], "no CREATE or EXCL on delete");
    }

    #[test]
    fn address_reply_decodes() {
        let ip: IpAddr = "fd00::10".parse().unwrap();
        let request = encode_address(RTM_NEWADDR, 1, 4, ip);
        assert_eq!(decode_address(&request[16..]), Some((4, ip)));
        assert_eq!(decode_address(&[2, 32]), None, "a short body is rejected");
    }
}
