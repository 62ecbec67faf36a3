//! The REST client, in the role of client-go's `rest` package: it sends requests to
//! one API server with the transport, credentials, client-side rate limit and retry
//! policy of a [`RestConfig`].
//!
//! Entry point: [`RestClient::new`], then a verb (`get`, `post`, `put`, `patch`,
//! `delete`) that returns a [`Request`] builder, finished with [`Request::send`],
//! [`Request::request_json`], [`Request::stream`] or [`Request::watch`].
//!
//! Every attempt first takes a token from the client's shared [`TokenBucket`].
//! A 429 or 5xx response that carries `Retry-After` is retried after that many
//! seconds, up to [`MAX_RETRIES`] times and for any verb, as client-go's `checkWait`
//! does. A GET whose connection was reset or closed is retried after one second.

mod auth;
mod rate_limit;
mod stream;
mod transport;
mod watch;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use apimachinery::errors::StatusError;
use apimachinery::meta::GroupResource;
use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use http::{Method, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use auth::{TOKEN_FILE_REFRESH, default_user_agent};
pub use rate_limit::{DEFAULT_BURST, DEFAULT_QPS, TokenBucket};
pub use stream::BodyStream;
pub use watch::{RawWatchEvent, WatchEvent, WatchStream};

use crate::config::RestConfig;

/// Retries of one request after `Retry-After` responses or reset connections
/// (client-go's `maxRetries` default).
pub const MAX_RETRIES: u32 = 10;

/// The wait before retrying a GET whose connection failed; client-go treats such an
/// error as a `Retry-After: 1` response.
const CONNECTION_RETRY_WAIT: Duration = Duration::from_secs(1);

/// client-go's cap on the body text quoted in an error built from a non-Status body.
const MAX_UNSTRUCTURED_BODY: usize = 2048;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An error of the REST client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The configuration cannot be used; the message names the setting.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// A CA, certificate, key or token file could not be read.
    #[error("failed to read {path}: {source}", path = .path.display())]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The TLS configuration was rejected.
    #[error("invalid TLS configuration: {message}")]
    Tls {
        message: String,
        #[source]
        source: Option<rustls::Error>,
    },
    /// The request could not be sent or its response could not be read: connection,
    /// TLS handshake or protocol errors.
    #[error("{method} {url} failed: {}", error_chain(.source.as_ref()))]
    Request {
        method: String,
        url: String,
        #[source]
        source: BoxError,
    },
    /// The request did not finish within its timeout.
    #[error("{method} {url} timed out after {timeout:?}")]
    Timeout {
        method: String,
        url: String,
        timeout: Duration,
    },
    /// The server returned an error status, decoded from its Status body or
    /// built from the code as client-go does when the body is not a Status.
    #[error(transparent)]
    Api(#[from] StatusError),
    /// A successful response's body was not the expected JSON.
    #[error("failed to decode the response of {method} {url}: {source}")]
    Decode {
        method: String,
        url: String,
        #[source]
        source: serde_json::Error,
    },
    /// The request body could not be encoded as JSON.
    #[error("failed to encode the request body: {0}")]
    Encode(#[source] serde_json::Error),
    /// A watch response ended in the middle of an event.
    #[error("watch {url} ended in the middle of an event")]
    WatchTruncated { url: String },
}

impl ClientError {
    /// Returns the server's Status error, if the server answered with one.
    pub fn status(&self) -> Option<&StatusError> {
        match self {
            ClientError::Api(error) => Some(error),
            _ => None,
        }
    }

    /// Returns the HTTP status code of a server error.
    pub fn status_code(&self) -> Option<u16> {
        self.status()
            .and_then(|error| u16::try_from(error.code()).ok())
    }

    /// Returns whether the server answered NotFound (404).
    pub fn is_not_found(&self) -> bool {
        self.status().is_some_and(StatusError::is_not_found)
    }

    /// Returns whether the server answered Conflict (409), such as a stale
    /// resourceVersion on update.
    pub fn is_conflict(&self) -> bool {
        self.status().is_some_and(StatusError::is_conflict)
    }

    /// Returns whether the server answered AlreadyExists on create.
    pub fn is_already_exists(&self) -> bool {
        self.status().is_some_and(StatusError::is_already_exists)
    }

    /// Returns whether the server answered Gone or Expired (410): a resourceVersion
    /// or continue token too old.
    pub fn is_gone(&self) -> bool {
        self.status()
            .is_some_and(|error| error.is_gone() || error.is_resource_expired())
    }

    /// Returns whether the server answered Invalid (422).
    pub fn is_invalid(&self) -> bool {
        self.status().is_some_and(StatusError::is_invalid)
    }

    /// Returns whether the server answered Forbidden (403).
    pub fn is_forbidden(&self) -> bool {
        self.status().is_some_and(StatusError::is_forbidden)
    }

    /// Returns whether the server answered TooManyRequests (429), as an eviction
    /// blocked by a disruption budget does.
    pub fn is_too_many_requests(&self) -> bool {
        self.status_code() == Some(429)
    }
}

/// Formats an error with its sources, which hyper's errors keep apart from their
/// short messages ("client error (Connect)").
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The body format of a PATCH request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// RFC 6902 JSON patch.
    Json,
    /// RFC 7386 JSON merge patch.
    Merge,
    /// Kubernetes strategic merge patch.
    StrategicMerge,
    /// Server-side apply.
    Apply,
}

impl PatchType {
    /// Returns the Content-Type header of this patch type.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::StrategicMerge => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }
}

/// A response with its whole body read.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: StatusCode,
    /// The HTTP version the connection negotiated (HTTP/2 through ALPN, or HTTP/1.1).
    pub version: http::Version,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A client of one API server. Cloning is cheap; clones share the connection pool
/// and the rate limiter.
#[derive(Clone)]
pub struct RestClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// Scheme, authority and path prefix of the server, without a trailing slash.
    base: String,
    http: Client<transport::Connector, Full<Bytes>>,
    credentials: auth::Credentials,
    rate_limiter: Option<TokenBucket>,
    timeout: Option<Duration>,
}

impl RestClient {
    /// Builds a client for `config`: TLS per `config.tls` (only the configured CAs
    /// are trusted), credentials per `config.auth`, and a token bucket of
    /// `config.qps`/`config.burst` (5 and 10 when 0, none when qps is negative).
    /// A host without a scheme is taken as `https://`.
    ///
    /// # Errors
    /// [`ClientError::Config`] for an invalid host or credentials,
    /// [`ClientError::Tls`] and [`ClientError::ReadFile`] for unusable TLS material.
    pub fn new(config: &RestConfig) -> Result<Self, ClientError> {
        let base = base_url(&config.host)?;
        let cluster = match &config.auth.exec {
            Some(exec) if exec.provide_cluster_info => Some(
                crate::config::exec::ClusterInfo::from_rest_config(config)
                    .map_err(|error| ClientError::Config(error.to_string()))?,
            ),
            _ => None,
        };
        let credentials =
            auth::Credentials::from_config(&config.auth, &config.user_agent, cluster)?;

        let tls = transport::tls_client_config(&config.tls)?;
        let connector = transport::Connector::new(tls, config.tls.server_name.as_deref())?;
        let http = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);

        Ok(Self {
            inner: Arc::new(Inner {
                base,
                http,
                credentials,
                rate_limiter: TokenBucket::from_config(config.qps, config.burst),
                timeout: config.timeout,
            }),
        })
    }

    /// Starts a request with any method; `path` begins with `/`, such as
    /// `/api/v1/namespaces/default/configmaps`.
    pub fn request(&self, method: Method, path: &str) -> Request {
        Request {
            client: self.clone(),
            method,
            path: path.to_string(),
            query: Vec::new(),
            body: None,
            content_type: None,
            headers: HeaderMap::new(),
            timeout: self.inner.timeout,
            encode_error: None,
        }
    }

    /// Starts a GET.
    pub fn get(&self, path: &str) -> Request {
        self.request(Method::GET, path)
    }

    /// Starts a POST (create).
    pub fn post(&self, path: &str) -> Request {
        self.request(Method::POST, path)
    }

    /// Starts a PUT (update).
    pub fn put(&self, path: &str) -> Request {
        self.request(Method::PUT, path)
    }

    /// Starts a PATCH whose body has the given patch type.
    pub fn patch(&self, path: &str, patch_type: PatchType) -> Request {
        let mut request = self.request(Method::PATCH, path);
        request.content_type = Some(patch_type.content_type());
        request
    }

    /// Starts a DELETE.
    pub fn delete(&self, path: &str) -> Request {
        self.request(Method::DELETE, path)
    }
}

/// Normalizes a configured host into a base URL.
fn base_url(host: &str) -> Result<String, ClientError> {
    if host.is_empty() {
        return Err(ClientError::Config("host must be set".to_string()));
    }
    let with_scheme = if host.contains("://") {
        host.to_string()
    } else {
        format!("https://{host}")
    };
    let uri: Uri = with_scheme
        .parse()
        .map_err(|err| ClientError::Config(format!("invalid host {host:?}: {err}")))?;
    match uri.scheme_str() {
        Some("https") | Some("http") => {}
        _ => {
            return Err(ClientError::Config(format!(
                "invalid host {host:?}: the scheme must be http or https"
            )));
        }
    }
    if uri.query().is_some() {
        return Err(ClientError::Config(format!(
            "invalid host {host:?}: a query is not allowed"
        )));
    }
    Ok(with_scheme.trim_end_matches('/').to_string())
}

/// A request being built; send it with [`Request::send`], [`Request::request_json`]
/// or [`Request::watch`].
pub struct Request {
    client: RestClient,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Bytes>,
    content_type: Option<&'static str>,
    headers: HeaderMap,
    timeout: Option<Duration>,
    encode_error: Option<serde_json::Error>,
}

impl Request {
    /// Adds a query parameter; values are percent-encoded.
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets a JSON body. Content-Type becomes `application/json` unless the request
    /// is a PATCH, which keeps its patch type. An encoding error is returned by the
    /// call that sends the request.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.body = Some(Bytes::from(bytes)),
            Err(err) => self.encode_error = Some(err),
        }
        if self.content_type.is_none() {
            self.content_type = Some("application/json");
        }
        self
    }

    /// Sets a raw body with its Content-Type.
    pub fn body(mut self, body: impl Into<Bytes>, content_type: &'static str) -> Self {
        self.body = Some(body.into());
        self.content_type = Some(content_type);
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Sets the timeout of the whole request, retries included; `None` removes the
    /// config's default.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends the request and reads the whole body. Any status is returned as a
    /// [`Response`]; only transport failures and timeouts are errors.
    ///
    /// # Errors
    /// [`ClientError::Request`], [`ClientError::Timeout`] or [`ClientError::Encode`].
    pub async fn send(mut self) -> Result<Response, ClientError> {
        if let Some(err) = self.encode_error.take() {
            return Err(ClientError::Encode(err));
        }
        let timeout = self.timeout;
        let url = self.url();
        let method = self.method.clone();
        let timeout_url = url.clone();

        let sending = async move {
            let response = self.send_with_retries(&url).await?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|source| ClientError::Request {
                    method: self.method.to_string(),
                    url: url.clone(),
                    source: Box::new(source),
                })?
                .to_bytes();
            Ok(Response {
                status: parts.status,
                version: parts.version,
                headers: parts.headers,
                body,
            })
        };

        match timeout {
            None => sending.await,
            Some(limit) => tokio::time::timeout(limit, sending)
                .await
                .unwrap_or_else(|_| Err(timeout_error(&method, &timeout_url, limit))),
        }
    }

    /// Sends the request and decodes a 2xx body as `T`.
    ///
    /// # Errors
    /// [`ClientError::Api`] for any other status, with the server's Status or one
    /// synthesized from the code. [`ClientError::Decode`] when the body is not a `T`.
    /// Otherwise the errors of [`Request::send`].
    pub async fn request_json<T: DeserializeOwned>(self) -> Result<T, ClientError> {
        let method = self.method.clone();
        let url = self.url();
        let response = self.send().await?;
        if !response.status.is_success() {
            return Err(ClientError::Api(status_error(&method, &response)));
        }
        serde_json::from_slice(&response.body).map_err(|source| ClientError::Decode {
            method: method.to_string(),
            url,
            source,
        })
    }

    /// Sends the request and returns the body of a 2xx response as it arrives, so a
    /// caller can decode a large response without holding all of it. The timeout
    /// bounds the whole exchange, as in [`Request::send`]: reading the body past it
    /// fails with [`ClientError::Timeout`].
    ///
    /// # Errors
    /// [`ClientError::Api`] for any other status. Otherwise the errors of
    /// [`Request::send`].
    pub async fn stream(mut self) -> Result<BodyStream, ClientError> {
        if let Some(err) = self.encode_error.take() {
            return Err(ClientError::Encode(err));
        }
        let deadline = self
            .timeout
            .map(|limit| (tokio::time::Instant::now() + limit, limit));
        let url = self.url();
        let method = self.method.clone();

        let starting = self.send_with_retries(&url);
        let response = match deadline {
            None => starting.await?,
            Some((deadline, limit)) => tokio::time::timeout_at(deadline, starting)
                .await
                .map_err(|_| timeout_error(&method, &url, limit))??,
        };

        if !response.status().is_success() {
            let response = read_error_response(response).await;
            return Err(ClientError::Api(status_error(&method, &response)));
        }
        Ok(BodyStream::new(response.into_body(), method, url, deadline))
    }

    /// Starts a watch: adds `watch=true` and returns the event stream once the server
    /// has responded with 2xx. The timeout bounds only the wait for the response
    /// headers; the stream itself stays open until the server ends it.
    ///
    /// # Errors
    /// [`ClientError::Api`] when the server rejects the watch. Otherwise the errors of
    /// [`Request::send`].
    pub async fn watch(mut self) -> Result<WatchStream, ClientError> {
        if let Some(err) = self.encode_error.take() {
            return Err(ClientError::Encode(err));
        }
        if !self.query.iter().any(|(name, _)| name == "watch") {
            self.query.push(("watch".to_string(), "true".to_string()));
        }
        let timeout = self.timeout;
        let url = self.url();
        let method = self.method.clone();

        let starting = self.send_with_retries(&url);
        let response = match timeout {
            None => starting.await?,
            Some(limit) => tokio::time::timeout(limit, starting)
                .await
                .map_err(|_| timeout_error(&method, &url, limit))??,
        };

        if !response.status().is_success() {
            let response = read_error_response(response).await;
            return Err(ClientError::Api(status_error(&method, &response)));
        }
        Ok(WatchStream::new(response.into_body(), url))
    }

    fn url(&self) -> String {
        let mut url = format!("{}{}", self.client.inner.base, self.path);
        for (index, (name, value)) in self.query.iter().enumerate() {
            url.push(if index == 0 { '?' } else { '&' });
            url.push_str(&percent_encode(name));
            url.push('=');
            url.push_str(&percent_encode(value));
        }
        url
    }

    /// Sends attempts until one returns a response that needs no retry or the
    /// retries run out; returns that response with its body unread.
    async fn send_with_retries(&self, url: &str) -> Result<http::Response<Incoming>, ClientError> {
        let mut retries = 0;
        loop {
            if let Some(limiter) = &self.client.inner.rate_limiter {
                limiter.acquire().await;
            }

            let mut request = self.build(url)?;
            if let Some(value) = self.client.inner.credentials.exec_authorization().await? {
                request
                    .headers_mut()
                    .insert(http::header::AUTHORIZATION, value);
            }
            let result = self.client.inner.http.request(request).await;
            if let Ok(response) = &result
                && response.status() == StatusCode::UNAUTHORIZED
            {
                self.client.inner.credentials.unauthorized().await;
            }

            let wait = match &result {
                Ok(response) => check_wait(response.status(), response.headers()),
                Err(err) if self.method == Method::GET && is_connection_lost(err) => {
                    Some(CONNECTION_RETRY_WAIT)
                }
                Err(_) => None,
            };

            match (wait, result) {
                (Some(wait), result) if retries < MAX_RETRIES => {
                    retries += 1;
                    let reason = match &result {
                        Ok(response) => format!("status {}", response.status().as_u16()),
                        Err(err) => error_chain(err),
                    };
                    tracing::debug!(
                        method = %self.method,
                        url,
                        retry = retries,
                        wait_seconds = wait.as_secs(),
                        reason,
                        "retrying request"
                    );
                    // Dropping the response body returns or closes its connection.
                    drop(result);
                    tokio::time::sleep(wait).await;
                }
                (_, Ok(response)) => return Ok(response),
                (_, Err(source)) => {
                    return Err(ClientError::Request {
                        method: self.method.to_string(),
                        url: url.to_string(),
                        source: Box::new(source),
                    });
                }
            }
        }
    }

    fn build(&self, url: &str) -> Result<http::Request<Full<Bytes>>, ClientError> {
        let mut request = http::Request::builder()
            .method(self.method.clone())
            .uri(url)
            .body(Full::new(self.body.clone().unwrap_or_default()))
            .map_err(|err| ClientError::Config(format!("invalid request URL {url:?}: {err}")))?;

        let headers = request.headers_mut();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json, */*"));
        if let Some(content_type) = self.content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        self.client.inner.credentials.apply(headers)?;
        // A header set on the request replaces the default of the same name.
        for name in self.headers.keys() {
            headers.remove(name);
        }
        for (name, value) in &self.headers {
            headers.append(name, value.clone());
        }
        Ok(request)
    }
}

/// Reads the body of a response that will become an error. A body that fails to
/// arrive is left empty, so the error is built from the status code alone.
async fn read_error_response(response: http::Response<Incoming>) -> Response {
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Response {
        status: parts.status,
        version: parts.version,
        headers: parts.headers,
        body,
    }
}

fn timeout_error(method: &Method, url: &str, timeout: Duration) -> ClientError {
    ClientError::Timeout {
        method: method.to_string(),
        url: url.to_string(),
        timeout,
    }
}

/// Returns how long to wait before a retry when the server asked for one: a 429 or
/// 5xx response with an integer `Retry-After` in seconds (client-go's `checkWait`).
pub fn check_wait(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
        return None;
    }
    retry_after_seconds(headers).map(|seconds| Duration::from_secs(seconds.max(0) as u64))
}

fn retry_after_seconds(headers: &HeaderMap) -> Option<i64> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<i64>()
        .ok()
}

/// Returns whether a failed attempt lost its connection (reset, closed or cut off
/// mid-response), the errors after which client-go retries a GET. Refused
/// connections and TLS failures are not retried.
fn is_connection_lost(err: &hyper_util::client::legacy::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if let Some(hyper_err) = cause.downcast_ref::<hyper::Error>()
            && (hyper_err.is_incomplete_message()
                || hyper_err.is_closed()
                || hyper_err.is_canceled())
        {
            return true;
        }
        if let Some(io_err) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind;
            return matches!(
                io_err.kind(),
                ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof
            );
        }
        source = cause.source();
    }
    false
}

/// Turns a non-2xx response into a [`StatusError`]: the Status the server sent, or
/// one built from the code when the body is not a Status (client-go's
/// `newUnstructuredResponseError`), quoting a `text/plain` body.
pub fn status_error(method: &Method, response: &Response) -> StatusError {
    if let Ok(error) = StatusError::from_json(&response.body)
        && error.status().kind == "Status"
    {
        return error;
    }

    let is_text = response
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/plain"));
    let message = if is_text {
        let end = response.body.len().min(MAX_UNSTRUCTURED_BODY);
        String::from_utf8_lossy(&response.body[..end])
            .trim()
            .to_string()
    } else {
        "unknown".to_string()
    };
    let retry_after = retry_after_seconds(&response.headers)
        .and_then(|seconds| i32::try_from(seconds).ok())
        .unwrap_or(0);

    StatusError::generic_server_response(
        i32::from(response.status.as_u16()),
        method.as_str(),
        &GroupResource::default(),
        "",
        &message,
        retry_after,
        true,
    )
}

/// Percent-encodes a query component, keeping RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_wait_cases() {
        let cases = [
            // (status, Retry-After, expected wait in seconds)
            (429, Some("1"), Some(1)),
            (503, Some("3"), Some(3)),
            (500, Some("0"), Some(0)),
            (429, None, None),
            (429, Some("Fri, 31 Dec 1999 23:59:59 GMT"), None),
            (404, Some("1"), None),
            (200, Some("1"), None),
        ];
        for (code, retry_after, expected) in cases {
            let mut headers = HeaderMap::new();
            if let Some(value) = retry_after {
                headers.insert(RETRY_AFTER, HeaderValue::from_static(value));
            }
            let status = StatusCode::from_u16(code).expect("valid code");
            let wait = check_wait(status, &headers).map(|d| d.as_secs());
            assert_eq!(wait, expected, "status {code} Retry-After {retry_after:?}");
        }
    }

    #[test]
    fn status_error_from_non_status_body() {
        let cases = [
            (
                404,
                "text/plain",
                "404 page not found",
                "the server could not find the requested resource",
                "NotFound",
            ),
            (
                500,
                "text/plain",
                "boom",
                "an error on the server (\"boom\") has prevented the request from succeeding",
                "InternalError",
            ),
            (
                503,
                "application/octet-stream",
                "x",
                "the server is currently unable to handle the request",
                "ServiceUnavailable",
            ),
        ];
        for (code, content_type, body, message, reason) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            let response = Response {
                status: StatusCode::from_u16(code).expect("valid code"),
                version: http::Version::HTTP_11,
                headers,
                body: Bytes::from_static(body.as_bytes()),
            };
            let error = status_error(&Method::GET, &response);
            assert_eq!(error.code(), i32::from(code));
            assert_eq!(error.message(), message, "code {code}");
            assert_eq!(error.reason().as_str(), reason, "code {code}");
        }
    }

    #[test]
    fn status_error_keeps_server_status() {
        let body = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"configmaps"},"code":404}"#;
        let response = Response {
            status: StatusCode::NOT_FOUND,
            version: http::Version::HTTP_11,
            headers: HeaderMap::new(),
            body: Bytes::from_static(body),
        };
        let error = status_error(&Method::GET, &response);
        assert_eq!(error.message(), "configmaps \"x\" not found");
        assert!(error.is_not_found());
    }

    #[test]
    fn base_url_cases() {
        let cases = [
            ("https://127.0.0.1:6443", Ok("https://127.0.0.1:6443")),
            ("https://127.0.0.1:6443/", Ok("https://127.0.0.1:6443")),
            ("127.0.0.1:6443", Ok("https://127.0.0.1:6443")),
            (
                "http://localhost:8080/prefix",
                Ok("http://localhost:8080/prefix"),
            ),
            ("ftp://host", Err(())),
            ("", Err(())),
        ];
        for (host, expected) in cases {
            let actual = base_url(host).map_err(|_| ());
            assert_eq!(
                actual.as_deref(),
                expected.as_deref().map_err(|_| &()),
                "host {host:?}"
            );
        }
    }

    #[test]
    fn percent_encode_query() {
        assert_eq!(
            percent_encode("app=web,tier!=db"),
            "app%3Dweb%2Ctier%21%3Ddb"
        );
        assert_eq!(percent_encode("a-b_c.d~e"), "a-b_c.d~e");
    }
}
