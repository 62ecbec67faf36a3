//! The response body type: a whole body, a body built in parts (large lists), or a
//! stream of chunks for watches.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

/// A response body.
pub enum ApiBody {
    /// A complete body, sent in one frame.
    Full(Option<Bytes>),
    /// A complete body in parts, sent one frame each, so that a list of many
    /// megabytes never needs one buffer of its whole size.
    Parts(VecDeque<Bytes>),
    /// Chunks sent as they arrive; the body ends when the sender is dropped.
    Stream(mpsc::Receiver<Bytes>),
}

impl ApiBody {
    pub fn empty() -> Self {
        ApiBody::Full(None)
    }

    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            ApiBody::Full(None)
        } else {
            ApiBody::Full(Some(bytes))
        }
    }

    /// Builds a body of the given parts, dropping empty ones.
    pub fn parts(parts: Vec<Bytes>) -> Self {
        ApiBody::Parts(parts.into_iter().filter(|part| !part.is_empty()).collect())
    }

    /// Returns a complete body's bytes in one buffer, copying parts together.
    /// Returns a stream unchanged as the error.
    pub fn into_bytes(self) -> Result<Bytes, ApiBody> {
        match self {
            ApiBody::Full(bytes) => Ok(bytes.unwrap_or_default()),
            ApiBody::Parts(parts) if parts.len() == 1 => {
                Ok(parts.into_iter().next().unwrap_or_default())
            }
            ApiBody::Parts(parts) => {
                let mut joined = Vec::with_capacity(parts.iter().map(Bytes::len).sum());
                for part in parts {
                    joined.extend_from_slice(&part);
                }
                Ok(Bytes::from(joined))
            }
            stream @ ApiBody::Stream(_) => Err(stream),
        }
    }
}

impl Body for ApiBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            ApiBody::Full(bytes) => Poll::Ready(bytes.take().map(|bytes| Ok(Frame::data(bytes)))),
            ApiBody::Parts(parts) => {
                Poll::Ready(parts.pop_front().map(|bytes| Ok(Frame::data(bytes))))
            }
            ApiBody::Stream(receiver) => receiver
                .poll_recv(cx)
                .map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ApiBody::Full(bytes) => bytes.is_none(),
            ApiBody::Parts(parts) => parts.is_empty(),
            ApiBody::Stream(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ApiBody::Full(None) => SizeHint::with_exact(0),
            ApiBody::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            ApiBody::Parts(parts) => {
                SizeHint::with_exact(parts.iter().map(|part| part.len() as u64).sum())
            }
            ApiBody::Stream(_) => SizeHint::default(),
        }
    }
}
