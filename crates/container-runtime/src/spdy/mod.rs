//! SPDY/3.1, the stream multiplexing protocol that `kubectl port-forward` (and older
//! kubectl exec and attach) speak after an HTTP/1.1 `Upgrade: SPDY/3.1`, directly or
//! tunnelled in WebSocket binary messages through the API server.
//!
//! [`frame`] has the wire format and header compression; [`session`] runs the server
//! side of a connection. Entry point: [`Session::server`].

pub mod frame;
pub mod session;

pub use frame::{Frame, Headers};
pub use session::{Session, Stream, StreamError, StreamWriter};

/// The `Upgrade` header value of a SPDY/3.1 connection.
pub const UPGRADE: &str = "SPDY/3.1";

/// The request and response header that carries the stream protocol (for example
/// `portforward.k8s.io`) negotiated during the upgrade.
pub const PROTOCOL_VERSION_HEADER: &str = "X-Stream-Protocol-Version";

/// The response header that lists the accepted protocols when negotiation fails.
pub const ACCEPTED_PROTOCOL_VERSIONS_HEADER: &str = "X-Accepted-Stream-Protocol-Versions";

/// Picks the first protocol of the client's list that the server supports, as
/// upstream's `httpstream.Handshake` does: the client's order wins.
pub fn negotiate<'a>(offered: &'a [String], supported: &[&str]) -> Option<&'a str> {
    offered
        .iter()
        .map(String::as_str)
        .find(|protocol| supported.contains(protocol))
}
