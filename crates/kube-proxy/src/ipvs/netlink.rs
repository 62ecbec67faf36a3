//! Generic netlink messages of the kernel's IPVS family (`include/uapi/linux/ip_vs.h`):
//! encoding of virtual server and real server add/delete/list requests, decoding of
//! list replies, and a blocking netlink socket that sends them.
//!
//! Entry point: [`NetlinkIpvs::connect`], which resolves the `IPVS` family through the
//! generic netlink controller and fails with [`IpvsError::NotAvailable`] on a kernel
//! without IPVS.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::socket::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_DONE, NetlinkSocket, SocketError,
    attributes, split_messages,
};
use crate::service::Protocol;

const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_VERSION: u8 = 1;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;

/// The generic netlink family name and version of IPVS.
pub const IPVS_GENL_NAME: &str = "IPVS";
const IPVS_GENL_VERSION: u8 = 1;

/// IPVS generic netlink commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Command {
    NewService = 1,
    SetService = 2,
    DelService = 3,
    GetService = 4,
    NewDest = 5,
    SetDest = 6,
    DelDest = 7,
    GetDest = 8,
}

const IPVS_CMD_ATTR_SERVICE: u16 = 1;
const IPVS_CMD_ATTR_DEST: u16 = 2;

const IPVS_SVC_ATTR_AF: u16 = 1;
const IPVS_SVC_ATTR_PROTOCOL: u16 = 2;
const IPVS_SVC_ATTR_ADDR: u16 = 3;
const IPVS_SVC_ATTR_PORT: u16 = 4;
const IPVS_SVC_ATTR_SCHED_NAME: u16 = 6;
const IPVS_SVC_ATTR_FLAGS: u16 = 7;
const IPVS_SVC_ATTR_TIMEOUT: u16 = 8;
const IPVS_SVC_ATTR_NETMASK: u16 = 9;

const IPVS_DEST_ATTR_ADDR: u16 = 1;
const IPVS_DEST_ATTR_PORT: u16 = 2;
const IPVS_DEST_ATTR_FWD_METHOD: u16 = 3;
const IPVS_DEST_ATTR_WEIGHT: u16 = 4;
const IPVS_DEST_ATTR_U_THRESH: u16 = 5;
const IPVS_DEST_ATTR_L_THRESH: u16 = 6;
const IPVS_DEST_ATTR_ACTIVE_CONNS: u16 = 7;
const IPVS_DEST_ATTR_INACT_CONNS: u16 = 8;
const IPVS_DEST_ATTR_ADDR_FAMILY: u16 = 11;

/// `IP_VS_SVC_F_PERSISTENT`: ClientIP session affinity.
pub const SVC_FLAG_PERSISTENT: u32 = 0x1;
/// `IP_VS_SVC_F_HASHED`: set by the kernel on every listed service.
pub const SVC_FLAG_HASHED: u32 = 0x2;
/// `IP_VS_CONN_F_MASQ`: NAT forwarding, the method kube-proxy uses.
pub const FWD_MASQ: u32 = 0;

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

fn protocol_number(protocol: Protocol) -> u16 {
    match protocol {
        Protocol::Tcp => 6,
        Protocol::Udp => 17,
        Protocol::Sctp => 132,
    }
}

fn protocol_from_number(number: u16) -> Option<Protocol> {
    match number {
        6 => Some(Protocol::Tcp),
        17 => Some(Protocol::Udp),
        132 => Some(Protocol::Sctp),
        _ => None,
    }
}

/// An IPVS virtual server (`ipvsadm -A`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VirtualServer {
    pub address: IpAddr,
    pub protocol: Protocol,
    pub port: u16,
    /// Scheduler name such as `rr`.
    pub scheduler: String,
    /// `IP_VS_SVC_F_*` flags.
    pub flags: u32,
    /// Persistence timeout in seconds; used with [`SVC_FLAG_PERSISTENT`].
    pub timeout: u32,
}

/// An IPVS real server (`ipvsadm -a`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RealServer {
    pub address: IpAddr,
    pub port: u16,
    pub weight: u32,
    /// Connections in use, as listed by the kernel; ignored when encoding.
    pub active_connections: u32,
    pub inactive_connections: u32,
}

/// A failed IPVS operation.
#[derive(Debug, thiserror::Error)]
pub enum IpvsError {
    #[error(
        "IPVS is not available in this kernel: the generic netlink family IPVS does not exist (build or load ip_vs, or use --proxy-mode iptables)"
    )]
    NotAvailable,
    #[error("netlink socket operation {operation} failed: {source}")]
    Socket {
        operation: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("IPVS request {command:?} failed: {source}")]
    Kernel {
        command: Command,
        #[source]
        source: std::io::Error,
    },
    #[error("malformed netlink reply: {0}")]
    Malformed(String),
    #[error("failed to bind service addresses to kube-ipvs0: {0}")]
    Link(#[from] super::device::LinkError),
}

impl From<SocketError> for IpvsError {
    fn from(error: SocketError) -> IpvsError {
        IpvsError::Socket {
            operation: error.operation,
            source: error.source,
        }
    }
}

/// Netlink attributes under construction, each padded to 4 bytes.
#[derive(Default)]
struct Attrs(Vec<u8>);

impl Attrs {
    fn put(&mut self, kind: u16, value: &[u8]) -> &mut Self {
        let length = u16::try_from(4 + value.len()).unwrap_or(u16::MAX);
        self.0.extend_from_slice(&length.to_ne_bytes());
        self.0.extend_from_slice(&kind.to_ne_bytes());
        self.0.extend_from_slice(value);
        while !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
        self
    }

    fn u16(&mut self, kind: u16, value: u16) -> &mut Self {
        self.put(kind, &value.to_ne_bytes())
    }

    fn u32(&mut self, kind: u16, value: u32) -> &mut Self {
        self.put(kind, &value.to_ne_bytes())
    }

    fn string(&mut self, kind: u16, value: &str) -> &mut Self {
        let mut bytes = value.as_bytes().to_vec();
        bytes.push(0);
        self.put(kind, &bytes)
    }

    fn ip(&mut self, kind: u16, ip: IpAddr) -> &mut Self {
        match ip {
            IpAddr::V4(ip) => self.put(kind, &ip.octets()),
            IpAddr::V6(ip) => self.put(kind, &ip.octets()),
        }
    }

    fn nested(&mut self, kind: u16, inner: &Attrs) -> &mut Self {
        self.put(kind, &inner.0)
    }
}

fn family_of(ip: IpAddr) -> u16 {
    if ip.is_ipv4() { AF_INET } else { AF_INET6 }
}

/// Encodes the attributes that identify a virtual server, plus its settings when `full`.
fn service_attrs(server: &VirtualServer, full: bool) -> Attrs {
    let mut attrs = Attrs::default();
    attrs
        .u16(IPVS_SVC_ATTR_AF, family_of(server.address))
        .u16(IPVS_SVC_ATTR_PROTOCOL, protocol_number(server.protocol))
        .ip(IPVS_SVC_ATTR_ADDR, server.address)
        .put(IPVS_SVC_ATTR_PORT, &server.port.to_be_bytes());
    if full {
        let mut flags = server.flags.to_ne_bytes().to_vec();
        flags.extend_from_slice(&u32::MAX.to_ne_bytes());
        let netmask = if server.address.is_ipv4() {
            u32::MAX
        } else {
            128
        };
        attrs
            .string(IPVS_SVC_ATTR_SCHED_NAME, &server.scheduler)
            .put(IPVS_SVC_ATTR_FLAGS, &flags)
            .u32(IPVS_SVC_ATTR_TIMEOUT, server.timeout)
            .u32(IPVS_SVC_ATTR_NETMASK, netmask);
    }
    attrs
}

fn dest_attrs(real: &RealServer) -> Attrs {
    let mut attrs = Attrs::default();
    attrs
        .ip(IPVS_DEST_ATTR_ADDR, real.address)
        .put(IPVS_DEST_ATTR_PORT, &real.port.to_be_bytes())
        .u32(IPVS_DEST_ATTR_FWD_METHOD, FWD_MASQ)
        .u32(IPVS_DEST_ATTR_WEIGHT, real.weight)
        .u32(IPVS_DEST_ATTR_U_THRESH, 0)
        .u32(IPVS_DEST_ATTR_L_THRESH, 0)
        .u16(IPVS_DEST_ATTR_ADDR_FAMILY, family_of(real.address));
    attrs
}

/// Wraps a generic netlink payload in the netlink and genetlink headers.
fn message(family: u16, flags: u16, seq: u32, command: u8, version: u8, attrs: &Attrs) -> Vec<u8> {
    let length = 16 + 4 + attrs.0.len();
    let mut out = Vec::with_capacity(length);
    out.extend_from_slice(&u32::try_from(length).unwrap_or(u32::MAX).to_ne_bytes());
    out.extend_from_slice(&family.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(&[command, version, 0, 0]);
    out.extend_from_slice(&attrs.0);
    out
}

/// Encodes the controller request that resolves the `IPVS` family id.
pub fn encode_get_family(seq: u32) -> Vec<u8> {
    let mut attrs = Attrs::default();
    attrs.string(CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME);
    message(
        GENL_ID_CTRL,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        CTRL_CMD_GETFAMILY,
        CTRL_VERSION,
        &attrs,
    )
}

/// Adds (`NewService`) or deletes (`DelService`) a virtual server.
pub fn encode_service(family: u16, seq: u32, command: Command, server: &VirtualServer) -> Vec<u8> {
    let mut attrs = Attrs::default();
    attrs.nested(
        IPVS_CMD_ATTR_SERVICE,
        &service_attrs(server, command != Command::DelService),
    );
    message(
        family,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        command as u8,
        IPVS_GENL_VERSION,
        &attrs,
    )
}

/// Adds (`NewDest`) or deletes (`DelDest`) a real server of `server`.
pub fn encode_dest(
    family: u16,
    seq: u32,
    command: Command,
    server: &VirtualServer,
    real: &RealServer,
) -> Vec<u8> {
    let mut attrs = Attrs::default();
    attrs.nested(IPVS_CMD_ATTR_SERVICE, &service_attrs(server, false));
    attrs.nested(IPVS_CMD_ATTR_DEST, &dest_attrs(real));
    message(
        family,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        command as u8,
        IPVS_GENL_VERSION,
        &attrs,
    )
}

/// Lists every virtual server (a dump request).
pub fn encode_list_services(family: u16, seq: u32) -> Vec<u8> {
    message(
        family,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        Command::GetService as u8,
        IPVS_GENL_VERSION,
        &Attrs::default(),
    )
}

/// Lists the real servers of `server` (a dump request).
pub fn encode_list_dests(family: u16, seq: u32, server: &VirtualServer) -> Vec<u8> {
    let mut attrs = Attrs::default();
    attrs.nested(IPVS_CMD_ATTR_SERVICE, &service_attrs(server, false));
    message(
        family,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        Command::GetDest as u8,
        IPVS_GENL_VERSION,
        &attrs,
    )
}

/// One netlink message of a reply.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply<'a> {
    /// `NLMSG_ERROR` with errno 0.
    Ack,
    /// `NLMSG_ERROR` with a positive errno.
    Error(i32),
    Done,
    /// A generic netlink message: command and attribute bytes.
    Data {
        command: u8,
        attrs: &'a [u8],
        multi: bool,
    },
}

/// Splits a received buffer into netlink messages.
pub fn parse_replies(buffer: &[u8]) -> Result<Vec<Reply<'_>>, IpvsError> {
    let mut replies = Vec::new();
    for message in split_messages(buffer).map_err(IpvsError::Malformed)? {
        let reply = match message.error_code() {
            Some(code) => match code.map_err(IpvsError::Malformed)? {
                0 => Reply::Ack,
                errno => Reply::Error(errno),
            },
            None if message.kind == NLMSG_DONE => Reply::Done,
            None => {
                if message.body.len() < 4 {
                    return Err(IpvsError::Malformed(
                        "short generic netlink header".to_string(),
                    ));
                }
                Reply::Data {
                    command: message.body[0],
                    attrs: &message.body[4..],
                    multi: message.flags & NLM_F_MULTI != 0,
                }
            }
        };
        replies.push(reply);
    }
    Ok(replies)
}

fn read_u16(value: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(value.get(0..2)?.try_into().ok()?))
}

fn read_u32(value: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(value.get(0..4)?.try_into().ok()?))
}

fn read_ip(value: &[u8], family: u16) -> Option<IpAddr> {
    if family == AF_INET6 {
        let octets: [u8; 16] = value.get(0..16)?.try_into().ok()?;
        Some(IpAddr::V6(Ipv6Addr::from(octets)))
    } else {
        let octets: [u8; 4] = value.get(0..4)?.try_into().ok()?;
        Some(IpAddr::V4(Ipv4Addr::from(octets)))
    }
}

/// Decodes the family id from a controller reply's attributes.
pub fn decode_family_id(attrs: &[u8]) -> Option<u16> {
    attributes(attrs)
        .find(|(kind, _)| *kind == CTRL_ATTR_FAMILY_ID)
        .and_then(|(_, value)| read_u16(value))
}

/// Decodes one virtual server from a `GetService` reply's attributes.
pub fn decode_service(attrs: &[u8]) -> Option<VirtualServer> {
    let (_, nested) = attributes(attrs).find(|(kind, _)| *kind == IPVS_CMD_ATTR_SERVICE)?;
    let mut family = AF_INET;
    let mut protocol = None;
    let mut address = None;
    let mut port = None;
    let mut scheduler = String::new();
    let mut flags = 0;
    let mut timeout = 0;
    for (kind, value) in attributes(nested) {
        match kind {
            IPVS_SVC_ATTR_AF => family = read_u16(value)?,
            IPVS_SVC_ATTR_PROTOCOL => protocol = protocol_from_number(read_u16(value)?),
            IPVS_SVC_ATTR_ADDR => address = Some(value.to_vec()),
            IPVS_SVC_ATTR_PORT => {
                port = Some(u16::from_be_bytes(value.get(0..2)?.try_into().ok()?))
            }
            IPVS_SVC_ATTR_SCHED_NAME => {
                scheduler = String::from_utf8_lossy(value)
                    .trim_end_matches('\0')
                    .to_string()
            }
            IPVS_SVC_ATTR_FLAGS => flags = read_u32(value)?,
            IPVS_SVC_ATTR_TIMEOUT => timeout = read_u32(value)?,
            _ => {}
        }
    }
    Some(VirtualServer {
        address: read_ip(&address?, family)?,
        protocol: protocol?,
        port: port?,
        scheduler,
        flags,
        timeout,
    })
}

/// Decodes one real server from a `GetDest` reply's attributes.
pub fn decode_dest(attrs: &[u8], service_family: u16) -> Option<RealServer> {
    let (_, nested) = attributes(attrs).find(|(kind, _)| *kind == IPVS_CMD_ATTR_DEST)?;
    let mut family = service_family;
    let mut address = None;
    let mut port = None;
    let mut real = RealServer {
        address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        port: 0,
        weight: 0,
        active_connections: 0,
        inactive_connections: 0,
    };
    for (kind, value) in attributes(nested) {
        match kind {
            IPVS_DEST_ATTR_ADDR => address = Some(value.to_vec()),
            IPVS_DEST_ATTR_PORT => {
                port = Some(u16::from_be_bytes(value.get(0..2)?.try_into().ok()?))
            }
            IPVS_DEST_ATTR_WEIGHT => real.weight = read_u32(value)?,
            IPVS_DEST_ATTR_ACTIVE_CONNS => real.active_connections = read_u32(value)?,
            IPVS_DEST_ATTR_INACT_CONNS => real.inactive_connections = read_u32(value)?,
            IPVS_DEST_ATTR_ADDR_FAMILY => family = read_u16(value)?,
            _ => {}
        }
    }
    real.address = read_ip(&address?, family)?;
    real.port = port?;
    Some(real)
}

/// The operations the IPVS proxier needs; [`NetlinkIpvs`] implements them against the
/// kernel and unit tests with a fake.
pub trait IpvsHandle: Send {
    fn add_virtual_server(&mut self, server: &VirtualServer) -> Result<(), IpvsError>;
    fn delete_virtual_server(&mut self, server: &VirtualServer) -> Result<(), IpvsError>;
    fn list_virtual_servers(&mut self) -> Result<Vec<VirtualServer>, IpvsError>;
    fn add_real_server(
        &mut self,
        server: &VirtualServer,
        real: &RealServer,
    ) -> Result<(), IpvsError>;
    fn delete_real_server(
        &mut self,
        server: &VirtualServer,
        real: &RealServer,
    ) -> Result<(), IpvsError>;
    fn list_real_servers(&mut self, server: &VirtualServer) -> Result<Vec<RealServer>, IpvsError>;
}

/// A generic netlink socket bound to the IPVS family.
pub struct NetlinkIpvs {
    socket: NetlinkSocket,
    family: u16,
    seq: u32,
}

impl NetlinkIpvs {
    /// Opens the socket and resolves the IPVS family. Fails with
    /// [`IpvsError::NotAvailable`] when the kernel has no IPVS.
    pub fn connect() -> Result<NetlinkIpvs, IpvsError> {
        let socket = NetlinkSocket::open(libc::NETLINK_GENERIC)?;
        let mut handle = NetlinkIpvs {
            socket,
            family: 0,
            seq: 1,
        };
        let request = encode_get_family(handle.next_seq());
        let replies = handle.exchange(&request, Command::GetService);
        let family = match replies {
            Ok(buffers) => buffers
                .iter()
                .find_map(|buffer| {
                    parse_replies(buffer)
                        .ok()?
                        .into_iter()
                        .find_map(|reply| match reply {
                            Reply::Data { attrs, .. } => decode_family_id(attrs),
                            _ => None,
                        })
                })
                .ok_or(IpvsError::NotAvailable)?,
            Err(IpvsError::Kernel { source, .. })
                if source.raw_os_error() == Some(libc::ENOENT) =>
            {
                return Err(IpvsError::NotAvailable);
            }
            Err(error) => return Err(error),
        };
        handle.family = family;
        Ok(handle)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sends `request` and collects reply buffers until an ack, an error or the end of
    /// a dump.
    fn exchange(&mut self, request: &[u8], command: Command) -> Result<Vec<Vec<u8>>, IpvsError> {
        self.socket.send(request)?;
        let mut buffers = Vec::new();
        loop {
            let buffer = self.socket.receive()?;
            let mut finished = false;
            for reply in parse_replies(&buffer)? {
                match reply {
                    Reply::Ack | Reply::Done => finished = true,
                    Reply::Error(errno) => {
                        return Err(IpvsError::Kernel {
                            command,
                            source: std::io::Error::from_raw_os_error(errno),
                        });
                    }
                    Reply::Data { multi, .. } => finished |= !multi,
                }
            }
            buffers.push(buffer);
            if finished {
                return Ok(buffers);
            }
        }
    }

    fn request(
        &mut self,
        command: Command,
        build: impl FnOnce(u16, u32) -> Vec<u8>,
    ) -> Result<Vec<Vec<u8>>, IpvsError> {
        let seq = self.next_seq();
        let request = build(self.family, seq);
        self.exchange(&request, command)
    }
}

impl IpvsHandle for NetlinkIpvs {
    fn add_virtual_server(&mut self, server: &VirtualServer) -> Result<(), IpvsError> {
        self.request(Command::NewService, |family, seq| {
            encode_service(family, seq, Command::NewService, server)
        })
        .map(drop)
    }

    fn delete_virtual_server(&mut self, server: &VirtualServer) -> Result<(), IpvsError> {
        self.request(Command::DelService, |family, seq| {
            encode_service(family, seq, Command::DelService, server)
        })
        .map(drop)
    }

    fn list_virtual_servers(&mut self) -> Result<Vec<VirtualServer>, IpvsError> {
        let buffers = self.request(Command::GetService, encode_list_services)?;
        let mut servers = Vec::new();
        for buffer in &buffers {
            for reply in parse_replies(buffer)? {
                if let Reply::Data { attrs, .. } = reply
                    && let Some(server) = decode_service(attrs)
                {
                    servers.push(server);
                }
            }
        }
        Ok(servers)
    }

    fn add_real_server(
        &mut self,
        server: &VirtualServer,
        real: &RealServer,
    ) -> Result<(), IpvsError> {
        self.request(Command::NewDest, |family, seq| {
            encode_dest(family, seq, Command::NewDest, server, real)
        })
        .map(drop)
    }

    fn delete_real_server(
        &mut self,
        server: &VirtualServer,
        real: &RealServer,
    ) -> Result<(), IpvsError> {
        self.request(Command::DelDest, |family, seq| {
            encode_dest(family, seq, Command::DelDest, server, real)
        })
        .map(drop)
    }

    fn list_real_servers(&mut self, server: &VirtualServer) -> Result<Vec<RealServer>, IpvsError> {
        let buffers = self.request(Command::GetDest, |family, seq| {
            encode_list_dests(family, seq, server)
        })?;
        let mut reals = Vec::new();
        for buffer in &buffers {
            for reply in parse_replies(buffer)? {
                if let Reply::Data { attrs, .. } = reply
                    && let Some(real) = decode_dest(attrs, family_of(server.address))
                {
                    reals.push(real);
                }
            }
        }
        Ok(reals)
    }
}

#[cfg(test)]
mod tests;
