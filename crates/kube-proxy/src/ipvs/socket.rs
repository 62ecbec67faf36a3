//! The netlink plumbing that the IPVS client and the `kube-ipvs0` device client share:
//! a blocking netlink socket, the split of a received buffer into messages
//! (`struct nlmsghdr` of `include/uapi/linux/netlink.h`) and attribute iteration.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_MULTI: u16 = 0x2;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_DUMP: u16 = 0x300;

/// The size of `struct nlmsghdr`.
const HEADER_LEN: usize = 16;

/// Bytes read per recv(2). A longer datagram would be cut off, but the kernel builds
/// dump replies of at most 32 KiB (an estimate from reading `af_netlink.c`).
const RECEIVE_BUFFER_LEN: usize = 65536;

/// A failed socket(2), send(2) or recv(2) call.
#[derive(Debug)]
pub struct SocketError {
    pub operation: &'static str,
    pub source: std::io::Error,
}

impl SocketError {
    fn last(operation: &'static str) -> SocketError {
        SocketError {
            operation,
            source: std::io::Error::last_os_error(),
        }
    }
}

/// A blocking netlink socket of one protocol (`NETLINK_ROUTE`, `NETLINK_GENERIC`) in
/// the network namespace of the thread that opened it.
pub struct NetlinkSocket(OwnedFd);

impl NetlinkSocket {
    /// Opens a socket of `protocol`.
    pub fn open(protocol: libc::c_int) -> Result<NetlinkSocket, SocketError> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                protocol,
            )
        };
        if fd < 0 {
            return Err(SocketError::last("socket"));
        }
        // SAFETY: fd is a freshly created descriptor that nothing else owns.
        Ok(NetlinkSocket(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Sends one request.
    pub fn send(&self, request: &[u8]) -> Result<(), SocketError> {
        // SAFETY: request points to request.len() readable bytes.
        let sent = unsafe {
            libc::send(
                self.0.as_raw_fd(),
                request.as_ptr().cast(),
                request.len(),
                0,
            )
        };
        if sent < 0 {
            return Err(SocketError::last("send"));
        }
        Ok(())
    }

    /// Reads one buffer of reply messages.
    pub fn receive(&self) -> Result<Vec<u8>, SocketError> {
        let mut buffer = vec![0u8; RECEIVE_BUFFER_LEN];
        // SAFETY: buffer has buffer.len() writable bytes.
        let received = unsafe {
            libc::recv(
                self.0.as_raw_fd(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                0,
            )
        };
        if received < 0 {
            return Err(SocketError::last("recv"));
        }
        buffer.truncate(received as usize);
        Ok(buffer)
    }
}

/// One netlink message of a received buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Message<'a> {
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    /// The bytes after the header: an error code, or a family header and attributes.
    pub body: &'a [u8],
}

impl Message<'_> {
    /// Returns the errno of an `NLMSG_ERROR` message: 0 for an ack, positive for an
    /// error. `None` for other kinds, `Some(Err)` for a body too short to hold a code.
    pub fn error_code(&self) -> Option<Result<i32, String>> {
        if self.kind != NLMSG_ERROR {
            return None;
        }
        Some(
            self.body
                .get(0..4)
                .map(|code| -i32::from_ne_bytes([code[0], code[1], code[2], code[3]]))
                .ok_or_else(|| "short error message".to_string()),
        )
    }
}

/// Splits a received buffer into its messages.
pub fn split_messages(mut rest: &[u8]) -> Result<Vec<Message<'_>>, String> {
    let mut messages = Vec::new();
    while rest.len() >= HEADER_LEN {
        let length = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if length < HEADER_LEN || length > rest.len() {
            return Err(format!(
                "message length {length} with {} bytes left",
                rest.len()
            ));
        }
        messages.push(Message {
            kind: u16::from_ne_bytes([rest[4], rest[5]]),
            flags: u16::from_ne_bytes([rest[6], rest[7]]),
            seq: u32::from_ne_bytes([rest[8], rest[9], rest[10], rest[11]]),
            body: &rest[HEADER_LEN..length],
        });
        rest = &rest[length.next_multiple_of(4).min(rest.len())..];
    }
    Ok(messages)
}

/// Iterates `(type, value)` over attribute bytes, with the nested and byte-order flag
/// bits of the type masked off.
pub fn attributes(mut bytes: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if bytes.len() < 4 {
            return None;
        }
        let length = usize::from(u16::from_ne_bytes([bytes[0], bytes[1]]));
        let kind = u16::from_ne_bytes([bytes[2], bytes[3]]) & 0x3fff;
        if length < 4 || length > bytes.len() {
            return None;
        }
        let value = &bytes[4..length];
        bytes = &bytes[length.next_multiple_of(4).min(bytes.len())..];
        Some((kind, value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(length: u32, kind: u16, flags: u16, seq: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&length.to_ne_bytes());
        bytes.extend_from_slice(&kind.to_ne_bytes());
        bytes.extend_from_slice(&flags.to_ne_bytes());
        bytes.extend_from_slice(&seq.to_ne_bytes());
        bytes.extend_from_slice(&0u32.to_ne_bytes());
        bytes
    }

    #[test]
    fn split_messages_reads_padded_messages() {
        let mut buffer = header(22, 20, NLM_F_MULTI, 7);
        buffer.extend_from_slice(&[1, 2, 3, 4, 5, 6, 0, 0]);
        buffer.extend(header(20, NLMSG_ERROR, 0, 8));
        buffer.extend_from_slice(&(-17i32).to_ne_bytes());

        let messages = split_messages(&buffer).expect("valid buffer");

        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].body, &[1, 2, 3, 4, 5, 6]);
        assert_eq!(messages[0].flags, NLM_F_MULTI);
        assert_eq!(messages[0].error_code(), None);
        assert_eq!(messages[1].seq, 8);
        assert_eq!(messages[1].error_code(), Some(Ok(17)));
    }

    #[test]
    fn split_messages_rejects_bad_length() {
        let buffer = header(64, 20, 0, 1);

        let error = split_messages(&buffer).expect_err("length past the buffer");

        assert_eq!(error, "message length 64 with 16 bytes left");
    }

    #[test]
    fn attributes_mask_flag_bits() {
        let bytes = [5, 0, 0x01, 0x80, 9, 0, 0, 0, 4, 0, 2, 0];

        let found: Vec<(u16, &[u8])> = attributes(&bytes).collect();

        assert_eq!(found, vec![(1, &[9u8][..]), (2, &[][..])]);
    }
}
