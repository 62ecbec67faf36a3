//! The DNS server: one UDP socket and one TCP listener on the same address, both
//! answering through [`handle_request`].
//!
//! Entry point: [`DnsServer::bind`], then [`DnsServer::serve`]. [`handle_request`] is
//! the whole request path from bytes to bytes, so tests drive it without sockets.
//!
//! Bad input never stops the server. A packet shorter than a DNS header, or one
//! that is itself a response, is dropped. A packet whose header parses but whose
//! body does not gets FORMERR.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{DNSClass, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, watch};

use crate::resolver::Resolver;

/// The size of a DNS header in bytes.
const HEADER_LEN: usize = 12;

/// The UDP payload limit for a client that sends no EDNS option (RFC 1035).
const CLASSIC_UDP_LIMIT: usize = 512;

/// The UDP payload size this server advertises in its EDNS option: the size DNS
/// Flag Day 2020 recommends, which avoids IP fragmentation on common links.
const ADVERTISED_UDP_PAYLOAD: u16 = 1232;

/// How long a TCP connection may sit idle between two queries (RFC 7766 suggests
/// seconds, not minutes).
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The number of TCP connections served at once; further connections are closed
/// right after accept until one ends.
const MAX_TCP_CONNECTIONS: usize = 256;

/// The number of tasks that receive from the UDP socket.
const UDP_WORKERS: usize = 2;

/// The transport a request arrived on, which sets the response size limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// Answers one DNS request in wire format. Returns `None` when the packet gets no
/// response at all (too short for a header, or a response rather than a query).
pub fn handle_request(
    resolver: &Resolver,
    request: &[u8],
    transport: Transport,
) -> Option<Vec<u8>> {
    if request.len() < HEADER_LEN {
        return None;
    }
    let flags = request[2];
    let is_response = flags & 0x80 != 0;
    if is_response {
        return None;
    }

    let message = match Message::from_vec(request) {
        Ok(message) => message,
        Err(error) => {
            tracing::debug!(%error, "malformed DNS request");
            return Some(header_only_error(request, ResponseCode::FormErr));
        }
    };
    let response = respond(resolver, &message);

    let limit = match transport {
        Transport::Tcp => usize::from(u16::MAX),
        Transport::Udp => message.edns.as_ref().map_or(CLASSIC_UDP_LIMIT, |edns| {
            usize::from(edns.max_payload()).max(CLASSIC_UDP_LIMIT)
        }),
    };
    encode_within(response, limit)
}

/// Builds the response to a parsed request.
fn respond(resolver: &Resolver, request: &Message) -> Message {
    let header = &request.metadata;
    let mut response = Message::response(header.id, header.op_code);
    response.metadata.recursion_desired = header.recursion_desired;
    response.metadata.checking_disabled = header.checking_disabled;
    if request.edns.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(ADVERTISED_UDP_PAYLOAD);
        response.set_edns(edns);
    }
    // NOTE: an EDNS version above 0 should get BADVERS (RFC 6891); it is answered
    // as version 0.

    if header.message_type != MessageType::Query || header.op_code != OpCode::Query {
        response.metadata.response_code = ResponseCode::NotImp;
        response.add_queries(request.queries.iter().cloned());
        return response;
    }
    let [query] = request.queries.as_slice() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return response;
    };
    response.add_query(query.clone());

    let record_type = query.query_type();
    let transfer = matches!(record_type, RecordType::AXFR | RecordType::IXFR);
    if query.query_class() != DNSClass::IN || transfer {
        response.metadata.response_code = ResponseCode::Refused;
        return response;
    }

    let resolution = resolver.resolve(query.name(), record_type);
    response.metadata.response_code = resolution.response_code;
    response.metadata.authoritative = resolution.authoritative;
    response.insert_answers(resolution.answers);
    response.insert_authorities(resolution.authorities);
    response.insert_additionals(resolution.additionals);
    response
}

/// Encodes `response` in at most `limit` bytes: first whole, then without the
/// additional section, then as the header and question with TC set, so the client
/// retries over TCP.
fn encode_within(mut response: Message, limit: usize) -> Option<Vec<u8>> {
    let bytes = encode(&response)?;
    if bytes.len() <= limit {
        return Some(bytes);
    }
    if !response.additionals.is_empty() {
        response.additionals.clear();
        let bytes = encode(&response)?;
        if bytes.len() <= limit {
            return Some(bytes);
        }
    }
    response.answers.clear();
    response.authorities.clear();
    response.metadata.truncation = true;
    encode(&response)
}

fn encode(response: &Message) -> Option<Vec<u8>> {
    match response.to_vec() {
        Ok(bytes) => Some(bytes),
        Err(error) => {
            tracing::warn!(%error, id = response.metadata.id, "failed to encode a DNS response");
            None
        }
    }
}

/// Builds a header-only response with `code`, for a request whose body did not
/// parse: the ID, opcode and RD bit are copied from the request's header.
fn header_only_error(request: &[u8], code: ResponseCode) -> Vec<u8> {
    let opcode_and_rd = request[2] & 0x79;
    let mut response = vec![0u8; HEADER_LEN];
    response[0] = request[0];
    response[1] = request[1];
    response[2] = 0x80 | opcode_and_rd;
    response[3] = u16::from(code) as u8 & 0x0f;
    response
}

/// A bound DNS server.
pub struct DnsServer {
    udp: Arc<UdpSocket>,
    tcp: TcpListener,
    resolver: Arc<Resolver>,
}

impl DnsServer {
    /// Binds UDP and TCP on `address`. With port 0, TCP takes the port UDP got.
    pub async fn bind(address: SocketAddr, resolver: Arc<Resolver>) -> io::Result<DnsServer> {
        let udp = UdpSocket::bind(address).await?;
        let bound = udp.local_addr()?;
        let tcp = TcpListener::bind(bound).await?;
        Ok(DnsServer {
            udp: Arc::new(udp),
            tcp,
            resolver,
        })
    }

    /// Returns the bound address, the same port for UDP and TCP.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.udp.local_addr()
    }

    /// Serves until `cancel` turns true or its sender is dropped.
    pub async fn serve(self, cancel: watch::Receiver<bool>) {
        let address = self.local_addr().ok();
        tracing::info!(?address, "serving DNS over UDP and TCP");
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..UDP_WORKERS {
            tasks.spawn(serve_udp(
                Arc::clone(&self.udp),
                Arc::clone(&self.resolver),
                cancel.clone(),
            ));
        }
        tasks.spawn(serve_tcp(self.tcp, Arc::clone(&self.resolver), cancel));
        while tasks.join_next().await.is_some() {}
        tracing::info!(?address, "stopped serving DNS");
    }
}

async fn wait_cancelled(cancel: &mut watch::Receiver<bool>) {
    while !*cancel.borrow() {
        if cancel.changed().await.is_err() {
            return;
        }
    }
}

async fn serve_udp(
    socket: Arc<UdpSocket>,
    resolver: Arc<Resolver>,
    mut cancel: watch::Receiver<bool>,
) {
    let mut buffer = vec![0u8; usize::from(u16::MAX)];
    loop {
        let (length, peer) = tokio::select! {
            received = socket.recv_from(&mut buffer) => match received {
                Ok(received) => received,
                Err(error) => {
                    // ICMP errors from earlier sends surface here on Linux; keep going.
                    tracing::debug!(%error, "failed to receive a UDP packet");
                    continue;
                }
            },
            _ = wait_cancelled(&mut cancel) => return,
        };
        let Some(response) = handle_request(&resolver, &buffer[..length], Transport::Udp) else {
            continue;
        };
        if let Err(error) = socket.send_to(&response, peer).await {
            tracing::debug!(%error, %peer, "failed to send a UDP response");
        }
    }
}

async fn serve_tcp(
    listener: TcpListener,
    resolver: Arc<Resolver>,
    mut cancel: watch::Receiver<bool>,
) {
    let connections = Arc::new(Semaphore::new(MAX_TCP_CONNECTIONS));
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "failed to accept a TCP connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = wait_cancelled(&mut cancel) => return,
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tracing::debug!(%peer, "too many TCP connections; closing");
            continue;
        };
        let resolver = Arc::clone(&resolver);
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if let Err(error) = serve_connection(stream, &resolver, cancel).await {
                tracing::debug!(%error, %peer, "TCP connection ended with an error");
            }
            drop(permit);
        });
    }
}

/// Serves length-prefixed queries (RFC 1035 section 4.2.2) until the client closes,
/// idles out, or the server stops.
async fn serve_connection(
    mut stream: TcpStream,
    resolver: &Resolver,
    mut cancel: watch::Receiver<bool>,
) -> io::Result<()> {
    loop {
        let length = tokio::select! {
            read = tokio::time::timeout(TCP_IDLE_TIMEOUT, stream.read_u16()) => match read {
                Ok(Ok(length)) => length,
                Ok(Err(error)) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Ok(Err(error)) => return Err(error),
                Err(_) => return Ok(()),
            },
            _ = wait_cancelled(&mut cancel) => return Ok(()),
        };
        let mut request = vec![0u8; usize::from(length)];
        tokio::time::timeout(TCP_IDLE_TIMEOUT, stream.read_exact(&mut request))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "timed out reading a query"))??;
        let Some(response) = handle_request(resolver, &request, Transport::Tcp) else {
            // A query that gets no answer leaves the stream out of step; close it.
            return Ok(());
        };
        let length = u16::try_from(response.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "response over 65535 bytes"))?;
        let mut framed = Vec::with_capacity(response.len() + 2);
        framed.extend_from_slice(&length.to_be_bytes());
        framed.extend_from_slice(&response);
        stream.write_all(&framed).await?;
    }
}

#[cfg(test)]
mod tests;
