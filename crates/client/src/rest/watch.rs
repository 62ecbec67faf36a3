//! Watch streams: a chunked response body decoded into [`WatchEvent`]s.
//!
//! The API server sends one JSON object per event, each followed by a newline.
//! [`WatchStream::next`] decodes objects as they complete, whatever the chunk
//! boundaries, and returns `None` once the server ends the response cleanly.
//! [`WatchStream::next_raw`] leaves the event's object encoded, for callers that
//! decode it straight into their own type.

use bytes::{Buf, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::ClientError;

/// One event of a watch (meta/v1 `WatchEvent`): `ADDED`, `MODIFIED`, `DELETED`,
/// `BOOKMARK` or `ERROR`. The object of an `ERROR` event is a Status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WatchEvent {
    /// The event type, such as `ADDED`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The object, or a Status for `ERROR` events.
    pub object: serde_json::Value,
}

/// A [`WatchEvent`] whose object is still JSON text.
#[derive(Debug, Deserialize)]
pub struct RawWatchEvent {
    /// The event type, such as `ADDED`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The object, or a Status for `ERROR` events, as the server encoded it.
    pub object: Box<RawValue>,
}

/// The events of one watch response.
pub struct WatchStream {
    body: Incoming,
    buffer: BytesMut,
    url: String,
    finished: bool,
}

impl WatchStream {
    pub(super) fn new(body: Incoming, url: String) -> Self {
        Self {
            body,
            buffer: BytesMut::new(),
            url,
            finished: false,
        }
    }

    /// Waits for the next event. Returns `None` when the server ended the stream
    /// after a complete event, and an error when the connection failed or the
    /// stream held something other than watch events. No request is retried once
    /// the stream has started; the caller starts a new watch.
    pub async fn next(&mut self) -> Option<Result<WatchEvent, ClientError>> {
        let raw = match self.next_raw().await? {
            Ok(raw) => raw,
            Err(error) => return Some(Err(error)),
        };
        match serde_json::from_str(raw.object.get()) {
            Ok(object) => Some(Ok(WatchEvent {
                event_type: raw.event_type,
                object,
            })),
            Err(source) => Some(Err(ClientError::Decode {
                method: "GET".to_string(),
                url: self.url.clone(),
                source,
            })),
        }
    }

    /// Waits for the next event, as [`WatchStream::next`] does, but leaves its object
    /// undecoded.
    pub async fn next_raw(&mut self) -> Option<Result<RawWatchEvent, ClientError>> {
        loop {
            match self.decode_buffered() {
                Decoded::Event(event) => return Some(Ok(event)),
                Decoded::Invalid(source) => {
                    self.finished = true;
                    return Some(Err(ClientError::Decode {
                        method: "GET".to_string(),
                        url: self.url.clone(),
                        source,
                    }));
                }
                Decoded::Incomplete => {}
            }

            if self.finished {
                if self.buffer.iter().all(u8::is_ascii_whitespace) {
                    return None;
                }
                self.buffer.clear();
                return Some(Err(ClientError::WatchTruncated {
                    url: self.url.clone(),
                }));
            }

            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
                Some(Err(source)) => {
                    self.finished = true;
                    return Some(Err(ClientError::Request {
                        method: "GET".to_string(),
                        url: self.url.clone(),
                        source: Box::new(source),
                    }));
                }
                None => self.finished = true,
            }
        }
    }

    fn decode_buffered(&mut self) -> Decoded {
        let leading = self
            .buffer
            .iter()
            .take_while(|byte| byte.is_ascii_whitespace())
            .count();
        self.buffer.advance(leading);
        if self.buffer.is_empty() {
            return Decoded::Incomplete;
        }

        let mut events =
            serde_json::Deserializer::from_slice(&self.buffer).into_iter::<RawWatchEvent>();
        match events.next() {
            Some(Ok(event)) => {
                let consumed = events.byte_offset();
                self.buffer.advance(consumed);
                Decoded::Event(event)
            }
            Some(Err(err)) if err.is_eof() => Decoded::Incomplete,
            Some(Err(err)) => Decoded::Invalid(err),
            None => Decoded::Incomplete,
        }
    }
}

enum Decoded {
    Event(RawWatchEvent),
    Incomplete,
    Invalid(serde_json::Error),
}
