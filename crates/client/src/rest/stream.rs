//! A response body read chunk by chunk, client-go's `Request.Stream`: callers that
//! decode as they read (the reflector's list pages) never hold the whole body.

use bytes::Bytes;
use http::Method;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::{Duration, Instant};

use super::{ClientError, timeout_error};

/// The body of a 2xx response, from [`Request::stream`](super::Request::stream).
pub struct BodyStream {
    body: Incoming,
    method: Method,
    url: String,
    /// The request's deadline and its timeout, which the body must also meet.
    deadline: Option<(Instant, Duration)>,
}

impl BodyStream {
    pub(super) fn new(
        body: Incoming,
        method: Method,
        url: String,
        deadline: Option<(Instant, Duration)>,
    ) -> Self {
        Self {
            body,
            method,
            url,
            deadline,
        }
    }

    /// Returns the URL the request went to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Waits for the next chunk of the body. Returns `None` at its end.
    ///
    /// # Errors
    /// [`ClientError::Request`] when the connection fails, [`ClientError::Timeout`]
    /// once the request's timeout has passed.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, ClientError>> {
        loop {
            let frame = match self.deadline {
                None => self.body.frame().await,
                Some((deadline, timeout)) => {
                    match tokio::time::timeout_at(deadline, self.body.frame()).await {
                        Ok(frame) => frame,
                        Err(_) => {
                            return Some(Err(timeout_error(&self.method, &self.url, timeout)));
                        }
                    }
                }
            };
            match frame? {
                Ok(frame) => {
                    // Trailers carry no body bytes.
                    if let Ok(data) = frame.into_data()
                        && !data.is_empty()
                    {
                        return Some(Ok(data));
                    }
                }
                Err(source) => {
                    return Some(Err(ClientError::Request {
                        method: self.method.to_string(),
                        url: self.url.clone(),
                        source: Box::new(source),
                    }));
                }
            }
        }
    }
}
