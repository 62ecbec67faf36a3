//! SPDY/3 frames on the wire, and the zlib header-block compression both directions
//! of a connection keep for its whole life.
//!
//! [`Encoder`] turns a [`Frame`] into bytes and [`Decoder`] parses bytes into frames.
//! Each owns one zlib stream primed with [`HEADER_DICTIONARY`], because SPDY/3
//! compresses every header block of a direction as one continuous stream, flushed
//! (`Z_SYNC_FLUSH`) at the end of each block.

use bytes::{Buf, Bytes, BytesMut};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

/// The protocol version carried in every control frame.
pub const VERSION: u16 = 3;

/// The largest payload of a data frame: its length field has 24 bits.
pub const MAX_DATA_LENGTH: usize = (1 << 24) - 1;

/// The largest decompressed header block accepted, so a small compressed block cannot
/// expand without bound.
const MAX_HEADER_BLOCK: usize = 1 << 20;

/// Flag bits of control frames.
pub const FLAG_FIN: u8 = 0x01;
pub const FLAG_UNIDIRECTIONAL: u8 = 0x02;

/// Control frame types.
const SYN_STREAM: u16 = 1;
const SYN_REPLY: u16 = 2;
const RST_STREAM: u16 = 3;
const SETTINGS: u16 = 4;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
const HEADERS: u16 = 8;
const WINDOW_UPDATE: u16 = 9;

/// RST_STREAM status codes used here (SPDY/3 section 2.6.3).
pub const PROTOCOL_ERROR: u32 = 1;
pub const INVALID_STREAM: u32 = 2;
pub const REFUSED_STREAM: u32 = 3;
pub const CANCEL: u32 = 5;
pub const INTERNAL_ERROR: u32 = 6;

/// GOAWAY status: a normal session teardown.
pub const GOAWAY_OK: u32 = 0;

/// The words at the start of the header compression dictionary, each written with a
/// four-byte big-endian length before it.
const DICTIONARY_WORDS: [&str; 65] = [
    "options",
    "head",
    "post",
    "put",
    "delete",
    "trace",
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "accept-ranges",
    "age",
    "allow",
    "authorization",
    "cache-control",
    "connection",
    "content-base",
    "content-encoding",
    "content-language",
    "content-length",
    "content-location",
    "content-md5",
    "content-range",
    "content-type",
    "date",
    "etag",
    "expect",
    "expires",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "pragma",
    "proxy-authenticate",
    "proxy-authorization",
    "range",
    "referer",
    "retry-after",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "vary",
    "via",
    "warning",
    "www-authenticate",
    "method",
    "get",
    "status",
    "200 OK",
    "version",
    "HTTP/1.1",
    "url",
    "public",
    "set-cookie",
    "keep-alive",
    "origin",
];

/// The text after the length-prefixed words, appended as is.
const DICTIONARY_TAIL: &str = concat!(
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417",
    "502504505203 Non-Authoritative Information204 No Content301 Moved Permanently",
    "400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error",
    "501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct ",
    "Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,",
    "image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,",
    "publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.",
);

const DICTIONARY_LENGTH: usize = dictionary_length();

/// The zlib dictionary that primes SPDY/3 header compression (SPDY/3 draft, section
/// 2.6.10.1): 1423 bytes whose Adler-32 checksum, 0xe3c6a7c2, is the dictionary id in
/// the zlib header of every SPDY/3 header stream.
pub const HEADER_DICTIONARY: [u8; DICTIONARY_LENGTH] = build_dictionary();

const fn dictionary_length() -> usize {
    let mut length = DICTIONARY_TAIL.len();
    let mut index = 0;
    while index < DICTIONARY_WORDS.len() {
        length += 4 + DICTIONARY_WORDS[index].len();
        index += 1;
    }
    length
}

const fn build_dictionary() -> [u8; DICTIONARY_LENGTH] {
    let mut dictionary = [0u8; DICTIONARY_LENGTH];
    let mut position = 0;
    let mut index = 0;
    while index < DICTIONARY_WORDS.len() {
        let word = DICTIONARY_WORDS[index].as_bytes();
        let length = (word.len() as u32).to_be_bytes();
        let mut byte = 0;
        while byte < 4 {
            dictionary[position] = length[byte];
            position += 1;
            byte += 1;
        }
        byte = 0;
        while byte < word.len() {
            dictionary[position] = word[byte];
            position += 1;
            byte += 1;
        }
        index += 1;
    }
    let tail = DICTIONARY_TAIL.as_bytes();
    let mut byte = 0;
    while byte < tail.len() {
        dictionary[position] = tail[byte];
        position += 1;
        byte += 1;
    }
    dictionary
}

/// A header block: lowercase names, each with its values. On the wire several values
/// of one name are joined with NUL bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, Vec<String>)>);

impl Headers {
    /// Returns an empty header block.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Appends a value for `name`, which is lowercased.
    pub fn add(&mut self, name: &str, value: &str) {
        let name = name.to_ascii_lowercase();
        match self.0.iter_mut().find(|(existing, _)| *existing == name) {
            Some((_, values)) => values.push(value.to_string()),
            None => self.0.push((name, vec![value.to_string()])),
        }
    }

    /// Returns the first value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(existing, _)| existing.eq_ignore_ascii_case(name))
            .and_then(|(_, values)| values.first())
            .map(String::as_str)
    }

    /// Returns how many names the block has.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Returns whether the block has no names.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One SPDY/3 frame. Stream ids are 31 bits; odd ids belong to streams the client
/// opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    Data {
        stream_id: u32,
        fin: bool,
        data: Bytes,
    },
    SynStream {
        stream_id: u32,
        associated_to: u32,
        /// 0 (highest) to 7.
        priority: u8,
        /// [`FLAG_FIN`] and [`FLAG_UNIDIRECTIONAL`].
        flags: u8,
        headers: Headers,
    },
    SynReply {
        stream_id: u32,
        fin: bool,
        headers: Headers,
    },
    RstStream {
        stream_id: u32,
        status: u32,
    },
    /// SETTINGS entries as (flags, id, value).
    Settings {
        flags: u8,
        entries: Vec<(u8, u32, u32)>,
    },
    Ping {
        id: u32,
    },
    GoAway {
        last_good_stream_id: u32,
        status: u32,
    },
    Headers {
        stream_id: u32,
        fin: bool,
        headers: Headers,
    },
    WindowUpdate {
        stream_id: u32,
        delta: u32,
    },
}

/// A malformed frame or header block. The session answers it with GOAWAY or
/// RST_STREAM and, for a broken header stream, closes the connection, because the
/// compression state of the direction is lost.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("unsupported SPDY version {0}; only version 3 is supported")]
    UnsupportedVersion(u16),
    #[error("invalid {frame} frame: {reason}")]
    Invalid { frame: &'static str, reason: String },
    #[error("invalid header block: {0}")]
    HeaderBlock(String),
    #[error("header compression failed: {0}")]
    Compression(String),
}

fn invalid(frame: &'static str, reason: impl Into<String>) -> FrameError {
    FrameError::Invalid {
        frame,
        reason: reason.into(),
    }
}

/// Serializes frames, compressing header blocks with this direction's zlib stream.
pub struct Encoder {
    deflate: Compress,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder::new()
    }
}

impl Encoder {
    /// Returns an encoder whose zlib stream starts primed with [`HEADER_DICTIONARY`].
    pub fn new() -> Encoder {
        let mut deflate = Compress::new(Compression::default(), true);
        // The dictionary is set before any input, which zlib always accepts.
        let _ = deflate.set_dictionary(&HEADER_DICTIONARY);
        Encoder { deflate }
    }

    /// Appends the bytes of `frame` to `out`.
    ///
    /// # Errors
    ///
    /// A data frame longer than [`MAX_DATA_LENGTH`], a stream id above 31 bits, or a
    /// compression failure.
    pub fn encode(&mut self, frame: &Frame, out: &mut Vec<u8>) -> Result<(), FrameError> {
        match frame {
            Frame::Data {
                stream_id,
                fin,
                data,
            } => {
                if data.len() > MAX_DATA_LENGTH {
                    return Err(invalid("DATA", format!("{} bytes is too long", data.len())));
                }
                out.extend_from_slice(&stream_id_bytes(*stream_id, "DATA")?);
                let flags = if *fin { FLAG_FIN } else { 0 };
                out.extend_from_slice(&flags_and_length(flags, data.len()));
                out.extend_from_slice(data);
            }
            Frame::SynStream {
                stream_id,
                associated_to,
                priority,
                flags,
                headers,
            } => {
                let block = self.compress(headers)?;
                let mut payload = Vec::with_capacity(10 + block.len());
                payload.extend_from_slice(&stream_id_bytes(*stream_id, "SYN_STREAM")?);
                payload.extend_from_slice(&(associated_to & 0x7fff_ffff).to_be_bytes());
                payload.push((priority & 0x07) << 5);
                payload.push(0);
                payload.extend_from_slice(&block);
                control(out, SYN_STREAM, *flags, &payload);
            }
            Frame::SynReply {
                stream_id,
                fin,
                headers,
            } => {
                let payload = self.stream_and_headers(*stream_id, headers, "SYN_REPLY")?;
                control(out, SYN_REPLY, fin_flag(*fin), &payload);
            }
            Frame::Headers {
                stream_id,
                fin,
                headers,
            } => {
                let payload = self.stream_and_headers(*stream_id, headers, "HEADERS")?;
                control(out, HEADERS, fin_flag(*fin), &payload);
            }
            Frame::RstStream { stream_id, status } => {
                let mut payload = stream_id_bytes(*stream_id, "RST_STREAM")?.to_vec();
                payload.extend_from_slice(&status.to_be_bytes());
                control(out, RST_STREAM, 0, &payload);
            }
            Frame::Settings { flags, entries } => {
                let mut payload = (entries.len() as u32).to_be_bytes().to_vec();
                for (entry_flags, id, value) in entries {
                    payload.push(*entry_flags);
                    payload.extend_from_slice(&id.to_be_bytes()[1..]);
                    payload.extend_from_slice(&value.to_be_bytes());
                }
                control(out, SETTINGS, *flags, &payload);
            }
            Frame::Ping { id } => control(out, PING, 0, &id.to_be_bytes()),
            Frame::GoAway {
                last_good_stream_id,
                status,
            } => {
                let mut payload = (last_good_stream_id & 0x7fff_ffff).to_be_bytes().to_vec();
                payload.extend_from_slice(&status.to_be_bytes());
                control(out, GOAWAY, 0, &payload);
            }
            Frame::WindowUpdate { stream_id, delta } => {
                let mut payload = (stream_id & 0x7fff_ffff).to_be_bytes().to_vec();
                payload.extend_from_slice(&(delta & 0x7fff_ffff).to_be_bytes());
                control(out, WINDOW_UPDATE, 0, &payload);
            }
        }
        Ok(())
    }

    fn stream_and_headers(
        &mut self,
        stream_id: u32,
        headers: &Headers,
        frame: &'static str,
    ) -> Result<Vec<u8>, FrameError> {
        let block = self.compress(headers)?;
        let mut payload = Vec::with_capacity(4 + block.len());
        payload.extend_from_slice(&stream_id_bytes(stream_id, frame)?);
        payload.extend_from_slice(&block);
        Ok(payload)
    }

    /// Serializes `headers` and compresses them as the next block of the stream.
    fn compress(&mut self, headers: &Headers) -> Result<Vec<u8>, FrameError> {
        let plain = header_block(headers);
        let mut compressed = Vec::with_capacity(plain.len() / 2 + 64);
        let start = self.deflate.total_in();
        loop {
            let consumed = (self.deflate.total_in() - start) as usize;
            compressed.reserve(256);
            self.deflate
                .compress_vec(&plain[consumed..], &mut compressed, FlushCompress::Sync)
                .map_err(|error| FrameError::Compression(error.to_string()))?;
            let consumed = (self.deflate.total_in() - start) as usize;
            // A sync flush is complete once all input is in and zlib left spare room.
            if consumed == plain.len() && compressed.len() < compressed.capacity() {
                return Ok(compressed);
            }
        }
    }
}

/// Writes a header block uncompressed: a 32-bit count, then each name and value with
/// a 32-bit length before it.
fn header_block(headers: &Headers) -> Vec<u8> {
    let mut plain = Vec::new();
    plain.extend_from_slice(&(headers.0.len() as u32).to_be_bytes());
    for (name, values) in &headers.0 {
        let value = values.join("\0");
        plain.extend_from_slice(&(name.len() as u32).to_be_bytes());
        plain.extend_from_slice(name.as_bytes());
        plain.extend_from_slice(&(value.len() as u32).to_be_bytes());
        plain.extend_from_slice(value.as_bytes());
    }
    plain
}

fn fin_flag(fin: bool) -> u8 {
    if fin { FLAG_FIN } else { 0 }
}

fn stream_id_bytes(stream_id: u32, frame: &'static str) -> Result<[u8; 4], FrameError> {
    if stream_id == 0 || stream_id > 0x7fff_ffff {
        return Err(invalid(
            frame,
            format!("stream id {stream_id} is out of range"),
        ));
    }
    Ok(stream_id.to_be_bytes())
}

fn flags_and_length(flags: u8, length: usize) -> [u8; 4] {
    ((u32::from(flags) << 24) | length as u32).to_be_bytes()
}

/// Appends a control frame: the control bit and version, the type, then flags and the
/// 24-bit payload length.
fn control(out: &mut Vec<u8>, frame_type: u16, flags: u8, payload: &[u8]) {
    out.extend_from_slice(&(0x8000 | VERSION).to_be_bytes());
    out.extend_from_slice(&frame_type.to_be_bytes());
    out.extend_from_slice(&flags_and_length(flags, payload.len()));
    out.extend_from_slice(payload);
}

/// Parses frames from a byte buffer, decompressing header blocks with this direction's
/// zlib stream.
pub struct Decoder {
    inflate: Decompress,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// Returns a decoder for a new connection.
    pub fn new() -> Decoder {
        Decoder {
            inflate: Decompress::new(true),
        }
    }

    /// Removes one whole frame from the front of `buffer`. Returns `None` while the
    /// buffer holds only part of a frame. Control frames of unknown types are skipped,
    /// as SPDY/3 requires.
    ///
    /// # Errors
    ///
    /// A frame that breaks the format. The connection cannot continue after one,
    /// because the frame boundaries or the header stream may be lost.
    pub fn decode(&mut self, buffer: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        loop {
            if buffer.len() < 8 {
                return Ok(None);
            }
            let first = u32::from_be_bytes([buffer[0], buffer[1], buffer[2], buffer[3]]);
            let flags = buffer[4];
            let length = u32::from_be_bytes([0, buffer[5], buffer[6], buffer[7]]) as usize;
            if buffer.len() < 8 + length {
                buffer.reserve(8 + length - buffer.len());
                return Ok(None);
            }
            buffer.advance(8);
            let payload = buffer.split_to(length).freeze();

            if first & 0x8000_0000 == 0 {
                let stream_id = first & 0x7fff_ffff;
                if stream_id == 0 {
                    return Err(invalid("DATA", "stream id 0"));
                }
                return Ok(Some(Frame::Data {
                    stream_id,
                    fin: flags & FLAG_FIN != 0,
                    data: payload,
                }));
            }
            let version = ((first >> 16) & 0x7fff) as u16;
            if version != VERSION {
                return Err(FrameError::UnsupportedVersion(version));
            }
            let frame_type = (first & 0xffff) as u16;
            if let Some(frame) = self.control(frame_type, flags, payload)? {
                return Ok(Some(frame));
            }
        }
    }

    fn control(
        &mut self,
        frame_type: u16,
        flags: u8,
        payload: Bytes,
    ) -> Result<Option<Frame>, FrameError> {
        let word = |name: &'static str, index: usize| -> Result<u32, FrameError> {
            payload
                .get(index * 4..index * 4 + 4)
                .map(|bytes| u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
                .ok_or_else(|| invalid(name, format!("{} bytes is too short", payload.len())))
        };
        let frame = match frame_type {
            SYN_STREAM => {
                if payload.len() < 10 {
                    return Err(invalid("SYN_STREAM", "shorter than 10 bytes"));
                }
                let stream_id = nonzero_stream(word("SYN_STREAM", 0)?, "SYN_STREAM")?;
                Frame::SynStream {
                    stream_id,
                    associated_to: word("SYN_STREAM", 1)? & 0x7fff_ffff,
                    priority: payload[8] >> 5,
                    flags,
                    headers: self.decompress(&payload[10..])?,
                }
            }
            SYN_REPLY | HEADERS => {
                let name = if frame_type == SYN_REPLY {
                    "SYN_REPLY"
                } else {
                    "HEADERS"
                };
                let stream_id = nonzero_stream(word(name, 0)?, name)?;
                let headers = self.decompress(&payload[4..])?;
                let fin = flags & FLAG_FIN != 0;
                if frame_type == SYN_REPLY {
                    Frame::SynReply {
                        stream_id,
                        fin,
                        headers,
                    }
                } else {
                    Frame::Headers {
                        stream_id,
                        fin,
                        headers,
                    }
                }
            }
            RST_STREAM => {
                exact_length("RST_STREAM", &payload, 8)?;
                Frame::RstStream {
                    stream_id: nonzero_stream(word("RST_STREAM", 0)?, "RST_STREAM")?,
                    status: word("RST_STREAM", 1)?,
                }
            }
            SETTINGS => {
                let count = word("SETTINGS", 0)? as usize;
                if payload.len() != 4 + count.saturating_mul(8) {
                    return Err(invalid(
                        "SETTINGS",
                        format!("{count} entries do not fit {} bytes", payload.len()),
                    ));
                }
                let mut entries = Vec::with_capacity(count);
                for index in 0..count {
                    let flags_and_id = word("SETTINGS", 1 + 2 * index)?;
                    let value = word("SETTINGS", 2 + 2 * index)?;
                    entries.push(((flags_and_id >> 24) as u8, flags_and_id & 0xff_ffff, value));
                }
                Frame::Settings { flags, entries }
            }
            PING => {
                exact_length("PING", &payload, 4)?;
                Frame::Ping {
                    id: word("PING", 0)?,
                }
            }
            GOAWAY => {
                exact_length("GOAWAY", &payload, 8)?;
                Frame::GoAway {
                    last_good_stream_id: word("GOAWAY", 0)? & 0x7fff_ffff,
                    status: word("GOAWAY", 1)?,
                }
            }
            WINDOW_UPDATE => {
                exact_length("WINDOW_UPDATE", &payload, 8)?;
                Frame::WindowUpdate {
                    stream_id: word("WINDOW_UPDATE", 0)? & 0x7fff_ffff,
                    delta: word("WINDOW_UPDATE", 1)? & 0x7fff_ffff,
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(frame))
    }

    /// Inflates one header block, continuing the direction's zlib stream, and parses it.
    fn decompress(&mut self, compressed: &[u8]) -> Result<Headers, FrameError> {
        let mut plain = Vec::with_capacity(compressed.len() * 4 + 64);
        let start = self.inflate.total_in();
        loop {
            let consumed = (self.inflate.total_in() - start) as usize;
            if plain.len() == plain.capacity() {
                plain.reserve(plain.len().max(256));
            }
            match self.inflate.decompress_vec(
                &compressed[consumed..],
                &mut plain,
                FlushDecompress::Sync,
            ) {
                Ok(_) => {}
                Err(error) if error.needs_dictionary().is_some() => {
                    self.inflate
                        .set_dictionary(&HEADER_DICTIONARY)
                        .map_err(|error| {
                            FrameError::Compression(format!(
                                "the header stream needs another dictionary: {error}"
                            ))
                        })?;
                    continue;
                }
                Err(error) => return Err(FrameError::Compression(error.to_string())),
            }
            if plain.len() > MAX_HEADER_BLOCK {
                return Err(FrameError::HeaderBlock(format!(
                    "larger than {MAX_HEADER_BLOCK} bytes"
                )));
            }
            let consumed = (self.inflate.total_in() - start) as usize;
            if consumed == compressed.len() && plain.len() < plain.capacity() {
                return parse_header_block(&plain);
            }
        }
    }
}

fn nonzero_stream(word: u32, frame: &'static str) -> Result<u32, FrameError> {
    match word & 0x7fff_ffff {
        0 => Err(invalid(frame, "stream id 0")),
        stream_id => Ok(stream_id),
    }
}

fn exact_length(frame: &'static str, payload: &[u8], length: usize) -> Result<(), FrameError> {
    if payload.len() == length {
        Ok(())
    } else {
        Err(invalid(
            frame,
            format!("{} bytes where {length} are required", payload.len()),
        ))
    }
}

/// Parses an uncompressed header block.
fn parse_header_block(plain: &[u8]) -> Result<Headers, FrameError> {
    let mut reader = plain;
    let count = read_u32(&mut reader)?;
    let mut headers = Headers::new();
    for _ in 0..count {
        let length = read_u32(&mut reader)?;
        let name = read_string(&mut reader, length)?;
        if name.is_empty() {
            return Err(FrameError::HeaderBlock("empty header name".to_string()));
        }
        if name.bytes().any(|byte| byte.is_ascii_uppercase()) {
            return Err(FrameError::HeaderBlock(format!(
                "header name {name:?} is not lowercase"
            )));
        }
        let length = read_u32(&mut reader)?;
        let value = read_string(&mut reader, length)?;
        for part in value.split('\0') {
            headers.add(&name, part);
        }
    }
    if !reader.is_empty() {
        return Err(FrameError::HeaderBlock(format!(
            "{} bytes after the last header",
            reader.len()
        )));
    }
    Ok(headers)
}

fn read_u32(reader: &mut &[u8]) -> Result<u32, FrameError> {
    if reader.len() < 4 {
        return Err(FrameError::HeaderBlock("truncated length".to_string()));
    }
    Ok(reader.get_u32())
}

fn read_string(reader: &mut &[u8], length: u32) -> Result<String, FrameError> {
    let length = length as usize;
    if reader.len() < length {
        return Err(FrameError::HeaderBlock(format!(
            "a {length}-byte string runs past the block"
        )));
    }
    let (text, rest) = reader.split_at(length);
    *reader = rest;
    String::from_utf8(text.to_vec())
        .map_err(|_| FrameError::HeaderBlock("a header is not UTF-8".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(decoder: &mut Decoder, bytes: &[u8]) -> Vec<Frame> {
        let mut buffer = BytesMut::from(bytes);
        let mut frames = Vec::new();
        while let Some(frame) = decoder.decode(&mut buffer).expect("valid frames") {
            frames.push(frame);
        }
        assert!(buffer.is_empty(), "{} bytes left over", buffer.len());
        frames
    }

    fn encode(frame: &Frame) -> Vec<u8> {
        let mut out = Vec::new();
        Encoder::new().encode(frame, &mut out).expect("encodable");
        out
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|index| u8::from_str_radix(&text[index..index + 2], 16).unwrap())
            .collect()
    }

    fn adler32(bytes: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for byte in bytes {
            a = (a + u32::from(*byte)) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }

    #[test]
    fn dictionary_matches_spdy3_checksum() {
        assert_eq!(HEADER_DICTIONARY.len(), 1423);
        assert_eq!(adler32(&HEADER_DICTIONARY), 0xe3c6_a7c2);
        assert_eq!(&HEADER_DICTIONARY[..11], b"\0\0\0\x07options");
        assert!(HEADER_DICTIONARY.ends_with(b"enq=0."));
    }

    /// Two SYN_STREAM frames as kubectl opens a port-forward pair (error, then data),
    /// compressed by C zlib (Python's zlib module, level 9, the SPDY/3 dictionary and a
    /// sync flush after each block). The second block continues the first's stream.
    const KUBECTL_PAIR: &str = concat!(
        "800300010000003c0000000100000000000078f9e3c6a7c202253a703a2b294a4dcc851625",
        "aca9a0808614cb45a024cc64610024398b209198094adc8c0600000000ffff",
        "800300010000001800000003000000000000c2aa15540a2512d209000000ffff",
    );

    #[test]
    fn decodes_syn_streams_compressed_by_zlib() {
        let frames = decode_all(&mut Decoder::new(), &hex(KUBECTL_PAIR));
        let mut error = Headers::new();
        error.add("streamtype", "error");
        error.add("port", "80");
        error.add("requestid", "0");
        let mut data = Headers::new();
        data.add("streamtype", "data");
        data.add("port", "80");
        data.add("requestid", "0");
        assert_eq!(
            frames,
            vec![
                Frame::SynStream {
                    stream_id: 1,
                    associated_to: 0,
                    priority: 0,
                    flags: 0,
                    headers: error,
                },
                Frame::SynStream {
                    stream_id: 3,
                    associated_to: 0,
                    priority: 0,
                    flags: 0,
                    headers: data,
                },
            ]
        );
    }

    #[test]
    fn decodes_frames_split_anywhere() {
        let bytes = hex(KUBECTL_PAIR);
        let mut decoder = Decoder::new();
        let mut buffer = BytesMut::new();
        let mut frames = Vec::new();
        for byte in bytes {
            buffer.extend_from_slice(&[byte]);
            while let Some(frame) = decoder.decode(&mut buffer).unwrap() {
                frames.push(frame);
            }
        }
        assert_eq!(frames.len(), 2);
    }

    #[test]
    fn encodes_frames_without_headers_exactly() {
        let cases = [
            (
                Frame::Data {
                    stream_id: 3,
                    fin: false,
                    data: Bytes::from_static(b"GET"),
                },
                "0000000300000003474554",
            ),
            (
                Frame::Data {
                    stream_id: 3,
                    fin: true,
                    data: Bytes::new(),
                },
                "0000000301000000",
            ),
            (
                Frame::RstStream {
                    stream_id: 3,
                    status: CANCEL,
                },
                "80030003000000080000000300000005",
            ),
            (Frame::Ping { id: 1 }, "800300060000000400000001"),
            (
                Frame::GoAway {
                    last_good_stream_id: 5,
                    status: GOAWAY_OK,
                },
                "80030007000000080000000500000000",
            ),
            (
                Frame::WindowUpdate {
                    stream_id: 1,
                    delta: 65536,
                },
                "80030009000000080000000100010000",
            ),
            (
                Frame::Settings {
                    flags: 0,
                    entries: vec![(0, 7, 65536)],
                },
                "800300040000000c000000010000000700010000",
            ),
        ];
        for (frame, expected) in cases {
            assert_eq!(encode(&frame), hex(expected), "{frame:?}");
            let decoded = decode_all(&mut Decoder::new(), &hex(expected));
            assert_eq!(decoded, vec![frame]);
        }
    }

    #[test]
    fn syn_reply_starts_zlib_stream_with_dictionary_id() {
        let bytes = encode(&Frame::SynReply {
            stream_id: 1,
            fin: false,
            headers: Headers::new(),
        });
        assert_eq!(&bytes[..4], &hex("80030002"));
        let length = u32::from_be_bytes([0, bytes[5], bytes[6], bytes[7]]) as usize;
        assert_eq!(bytes.len(), 8 + length);
        assert_eq!(&bytes[8..12], &hex("00000001"));
        // zlib header: deflate with a 32 KiB window (0x78), FDICT set, then the id.
        assert_eq!(bytes[12], 0x78);
        assert_eq!(bytes[13] & 0x20, 0x20, "FDICT flag");
        assert_eq!(u16::from_be_bytes([bytes[12], bytes[13]]) % 31, 0);
        assert_eq!(&bytes[14..18], &hex("e3c6a7c2"));
        // Every block ends with the sync flush marker.
        assert!(bytes.ends_with(&hex("0000ffff")));
    }

    #[test]
    fn header_frames_round_trip_on_one_stream() {
        let mut encoder = Encoder::new();
        let mut decoder = Decoder::new();
        let mut headers = Headers::new();
        headers.add("streamType", "stdout");
        headers.add("x-values", "a");
        headers.add("x-values", "b");
        let frames = vec![
            Frame::SynReply {
                stream_id: 1,
                fin: false,
                headers: Headers::new(),
            },
            Frame::SynStream {
                stream_id: 2,
                associated_to: 1,
                priority: 7,
                flags: FLAG_FIN | FLAG_UNIDIRECTIONAL,
                headers: headers.clone(),
            },
            Frame::Headers {
                stream_id: 1,
                fin: true,
                headers,
            },
        ];
        let mut bytes = Vec::new();
        for frame in &frames {
            encoder.encode(frame, &mut bytes).unwrap();
        }
        assert_eq!(decode_all(&mut decoder, &bytes), frames);
    }

    #[test]
    fn skips_unknown_control_frames() {
        let mut bytes = hex("8003000a00000002abcd");
        bytes.extend_from_slice(&hex("800300060000000400000003"));
        let frames = decode_all(&mut Decoder::new(), &bytes);
        assert_eq!(frames, vec![Frame::Ping { id: 3 }]);
    }

    #[test]
    fn rejects_malformed_frames() {
        let cases = [
            ("80020006000000040000000100", "unsupported SPDY version 2"),
            ("8003000600000003000001", "invalid PING frame"),
            (
                "80030003000000080000000000000005",
                "invalid RST_STREAM frame: stream id 0",
            ),
            ("0000000000000000", "invalid DATA frame: stream id 0"),
            (
                "80030001000000110000000100000000000001020304050607",
                "header compression failed",
            ),
        ];
        for (bytes, expected) in cases {
            let mut buffer = BytesMut::from(hex(bytes).as_slice());
            let error = Decoder::new()
                .decode(&mut buffer)
                .expect_err(bytes)
                .to_string();
            assert!(error.contains(expected), "{bytes}: {error}");
        }
    }

    #[test]
    fn rejects_bad_header_blocks() {
        let cases: [(&[u8], &str); 3] = [
            (b"\0\0\0\x01\0\0\0\x04Port\0\0\0\x0280", "not lowercase"),
            (b"\0\0\0\x01\0\0\0\x09port", "runs past the block"),
            (b"\0\0\0\0extra", "after the last header"),
        ];
        for (plain, expected) in cases {
            let error = parse_header_block(plain).expect_err(expected).to_string();
            assert!(error.contains(expected), "{error}");
        }
    }
}
