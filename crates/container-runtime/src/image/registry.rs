//! A small client for the registry HTTP API v2 (distribution spec): fetches manifests and
//! blobs, handles `WWW-Authenticate` challenges with basic credentials or a bearer token
//! from the challenge's token service, and follows redirects to blob storage.
//! Entry point: [`RegistryClient::session`] for one repository on one endpoint.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Empty};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::io::AsyncWriteExt;

use super::digest::{Digest, DigestWriter};
use super::error::ImageError;
use super::manifest::MANIFEST_ACCEPT;

/// Largest manifest or token response read into memory.
const MAX_DOCUMENT_BYTES: usize = 4 << 20;
const MAX_REDIRECTS: usize = 5;
/// Time allowed for a TCP connection to a registry.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Time allowed for response headers and for each chunk of a body. A registry that
/// stalls longer fails the pull instead of hanging it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Credentials for one registry, as CRI's `AuthConfig` carries them.
// NOTE: CRI's `identity_token` (an OAuth2 refresh token exchanged with a POST to the
// token service) is not supported.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Username and password, sent as HTTP basic auth or to the token service.
    Basic { username: String, password: String },
    /// A bearer token sent as is (CRI `registry_token`).
    RegistryToken(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credentials::RegistryToken(_) => f.write_str("RegistryToken(<redacted>)"),
        }
    }
}

impl Credentials {
    /// Decodes the `auth` field of a Docker config or CRI `AuthConfig`
    /// (base64 of `username:password`).
    ///
    /// # Errors
    /// A message when the value is not base64 or has no `:`.
    pub fn from_auth_field(auth: &str) -> std::result::Result<Self, String> {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|e| format!("auth field is not base64: {e}"))?;
        let decoded =
            String::from_utf8(decoded).map_err(|_| "auth field is not UTF-8".to_string())?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or_else(|| "auth field must decode to username:password".to_string())?;
        Ok(Credentials::Basic {
            username: username.to_string(),
            password: password.to_string(),
        })
    }

    fn basic_header(username: &str, password: &str) -> String {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        format!("Basic {encoded}")
    }
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// A shared HTTP client for all registries: HTTPS with the system's root certificates
/// (ring provider) and plain HTTP for `http://` endpoints.
#[derive(Clone)]
pub struct RegistryClient {
    http: HttpClient,
}

impl RegistryClient {
    /// Builds the client.
    ///
    /// Without system root certificates the client still works for plain-HTTP registries.
    ///
    /// # Errors
    /// An I/O error when the TLS configuration cannot be built.
    pub fn new() -> std::io::Result<Self> {
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match builder
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
        {
            Ok(builder) => builder,
            Err(error) => {
                tracing::warn!(%error, "no system root certificates; HTTPS registries will fail verification");
                let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .map_err(std::io::Error::other)?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
                hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
            }
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = builder.https_or_http().enable_http1().wrap_connector(http);
        let http = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self { http })
    }

    /// Starts a session for `repository` (path on the registry, `library/busybox`) at
    /// `endpoint` (`https://registry-1.docker.io`). `reference` is only used in errors.
    pub fn session(
        &self,
        endpoint: &str,
        repository: &str,
        reference: &str,
        credentials: Option<Credentials>,
    ) -> Session {
        Session {
            http: self.http.clone(),
            endpoint: endpoint.to_string(),
            repository: repository.to_string(),
            reference: reference.to_string(),
            credentials,
            authorization: Arc::new(Mutex::new(None)),
        }
    }
}

/// Requests for one repository on one endpoint. Remembers the authorization that last
/// worked, so a pull handles the registry's challenge once.
#[derive(Clone)]
pub struct Session {
    http: HttpClient,
    endpoint: String,
    repository: String,
    reference: String,
    credentials: Option<Credentials>,
    authorization: Arc<Mutex<Option<String>>>,
}

/// Failure of a request, classified so the caller can decide whether to try the next
/// endpoint.
#[derive(Debug)]
pub enum FetchError {
    /// 404 from the registry.
    NotFound(String),
    /// Connection refused, reset, TLS failure and similar.
    Unreachable(String),
    /// Everything else; the pull stops.
    Fatal(ImageError),
}

impl FetchError {
    pub fn into_image_error(self, reference: &str, endpoint: &str) -> ImageError {
        match self {
            FetchError::NotFound(message) | FetchError::Unreachable(message) => {
                ImageError::Registry {
                    reference: reference.to_string(),
                    endpoint: endpoint.to_string(),
                    message,
                }
            }
            FetchError::Fatal(error) => error,
        }
    }
}

/// A fetched manifest or index.
pub struct FetchedManifest {
    pub content_type: Option<String>,
    pub body: Bytes,
    pub digest: Digest,
}

impl Session {
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Fetches the manifest or index that `selector` (tag or digest) names. When the
    /// selector is a digest, the body must hash to it.
    ///
    /// # Errors
    /// [`FetchError::NotFound`] for 404; [`ImageError::DigestMismatch`] inside
    /// [`FetchError::Fatal`] when the body does not match the requested digest.
    pub async fn fetch_manifest(
        &self,
        selector: &str,
    ) -> std::result::Result<FetchedManifest, FetchError> {
        let url = format!(
            "{}/v2/{}/manifests/{selector}",
            self.endpoint, self.repository
        );
        let response = self.get(&url, Some(MANIFEST_ACCEPT)).await?;
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let body = read_limited(response.into_body(), MAX_DOCUMENT_BYTES)
            .await
            .map_err(|message| self.fatal(format!("reading manifest from {url}: {message}")))?;
        let digest = Digest::of(&body);
        if let Ok(expected) = Digest::parse(selector)
            && expected != digest
        {
            return Err(FetchError::Fatal(ImageError::DigestMismatch {
                reference: self.reference.clone(),
                expected,
                actual: digest,
                size: body.len() as u64,
                location: url,
            }));
        }
        Ok(FetchedManifest {
            content_type,
            body,
            digest,
        })
    }

    /// Streams blob `digest` into the file at `path` (created or truncated) and checks its
    /// digest and, when given, its size.
    ///
    /// # Errors
    /// [`ImageError::DigestMismatch`] (inside [`FetchError::Fatal`]) when the content does
    /// not hash to `digest`; the file is then left for the caller to remove.
    pub async fn fetch_blob(
        &self,
        digest: &Digest,
        expected_size: Option<u64>,
        path: &Path,
    ) -> std::result::Result<(), FetchError> {
        let url = format!("{}/v2/{}/blobs/{digest}", self.endpoint, self.repository);
        let response = self.get(&url, None).await?;

        let file = tokio::fs::File::create(path)
            .await
            .map_err(|e| FetchError::Fatal(ImageError::io("creating download file", path, e)))?;
        let mut writer = DigestWriter::new(tokio::io::BufWriter::new(file));
        let mut body = response.into_body();
        let mut received = 0u64;
        loop {
            let frame = match tokio::time::timeout(IDLE_TIMEOUT, body.frame()).await {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(_) => {
                    return Err(FetchError::Unreachable(format!(
                        "reading blob {digest} from {url}: no data for {} s",
                        IDLE_TIMEOUT.as_secs()
                    )));
                }
            };
            let frame = frame.map_err(|e| {
                FetchError::Unreachable(format!("reading blob {digest} from {url}: {e}"))
            })?;
            if let Ok(data) = frame.into_data() {
                received += data.len() as u64;
                if expected_size.is_some_and(|expected| received > expected) {
                    return Err(self.fatal(format!(
                        "blob {digest} from {url} is larger than the {} bytes its descriptor gives",
                        expected_size.unwrap_or_default()
                    )));
                }
                writer.update(&data);
                writer.inner_mut().write_all(&data).await.map_err(|e| {
                    FetchError::Fatal(ImageError::io("writing download file", path, e))
                })?;
            }
        }
        let (actual, size, mut inner) = writer.finish();
        inner
            .flush()
            .await
            .map_err(|e| FetchError::Fatal(ImageError::io("writing download file", path, e)))?;
        inner
            .into_inner()
            .sync_all()
            .await
            .map_err(|e| FetchError::Fatal(ImageError::io("syncing download file", path, e)))?;

        let size_ok = expected_size.is_none_or(|expected| expected == size);
        if actual != *digest || !size_ok {
            return Err(FetchError::Fatal(ImageError::DigestMismatch {
                reference: self.reference.clone(),
                expected: digest.clone(),
                actual,
                size,
                location: url,
            }));
        }
        Ok(())
    }

    fn fatal(&self, message: String) -> FetchError {
        FetchError::Fatal(ImageError::Registry {
            reference: self.reference.clone(),
            endpoint: self.endpoint.clone(),
            message,
        })
    }

    /// Sends a GET to `url`, handling one authentication challenge and following redirects.
    async fn get(
        &self,
        url: &str,
        accept: Option<&str>,
    ) -> std::result::Result<http::Response<hyper::body::Incoming>, FetchError> {
        let cached = self.authorization.lock().expect("lock poisoned").clone();
        let response = self
            .get_following_redirects(url, accept, cached.as_deref())
            .await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return self.check_status(url, response).await;
        }

        let authorization = self.answer_challenge(url, response.headers()).await?;
        let response = self
            .get_following_redirects(url, accept, Some(&authorization))
            .await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            let body = read_limited(response.into_body(), 4096)
                .await
                .unwrap_or_default();
            return Err(self.unauthorized(format!(
                "registry returned 401 for {url} with credentials: {}",
                String::from_utf8_lossy(&body).trim()
            )));
        }
        *self.authorization.lock().expect("lock poisoned") = Some(authorization);
        self.check_status(url, response).await
    }

    async fn check_status(
        &self,
        url: &str,
        response: http::Response<hyper::body::Incoming>,
    ) -> std::result::Result<http::Response<hyper::body::Incoming>, FetchError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = read_limited(response.into_body(), 4096)
            .await
            .unwrap_or_default();
        let message = format!(
            "GET {url} returned {status}: {}",
            String::from_utf8_lossy(&body).trim()
        );
        match status {
            StatusCode::NOT_FOUND => Err(FetchError::NotFound(message)),
            StatusCode::FORBIDDEN => Err(self.unauthorized(message)),
            status if status.is_server_error() => Err(FetchError::Unreachable(message)),
            _ => Err(self.fatal(message)),
        }
    }

    fn unauthorized(&self, message: String) -> FetchError {
        FetchError::Fatal(ImageError::Unauthorized {
            reference: self.reference.clone(),
            endpoint: self.endpoint.clone(),
            message,
        })
    }

    /// Computes the `Authorization` value for a 401's `WWW-Authenticate` challenge.
    async fn answer_challenge(
        &self,
        url: &str,
        headers: &HeaderMap,
    ) -> std::result::Result<String, FetchError> {
        let challenge = headers
            .get(header::WWW_AUTHENTICATE)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| {
                self.unauthorized(format!("401 for {url} without a WWW-Authenticate header"))
            })?;
        let (scheme, params) = parse_challenge(challenge);

        if scheme.eq_ignore_ascii_case("basic") {
            return match &self.credentials {
                Some(Credentials::Basic { username, password }) => {
                    Ok(Credentials::basic_header(username, password))
                }
                Some(Credentials::RegistryToken(token)) => Ok(format!("Bearer {token}")),
                None => Err(self.unauthorized(format!(
                    "registry requires basic authentication for {url} and no credentials \
                     were given"
                ))),
            };
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(self.unauthorized(format!(
                "unsupported authentication scheme {scheme:?} in challenge {challenge:?}"
            )));
        }
        if let Some(Credentials::RegistryToken(token)) = &self.credentials {
            return Ok(format!("Bearer {token}"));
        }
        let token = self.fetch_token(&params).await?;
        Ok(format!("Bearer {token}"))
    }

    /// Asks the token service named by the challenge's `realm` for a pull token, sending
    /// basic credentials when the session has them (anonymous otherwise).
    async fn fetch_token(
        &self,
        params: &HashMap<String, String>,
    ) -> std::result::Result<String, FetchError> {
        let realm = params
            .get("realm")
            .ok_or_else(|| self.unauthorized("bearer challenge without a realm".to_string()))?;
        let scope = params
            .get("scope")
            .cloned()
            .unwrap_or_else(|| format!("repository:{}:pull", self.repository));
        let mut query = vec![format!("scope={}", percent_encode(&scope))];
        if let Some(service) = params.get("service") {
            query.insert(0, format!("service={}", percent_encode(service)));
        }
        let separator = if realm.contains('?') { '&' } else { '?' };
        let token_url = format!("{realm}{separator}{}", query.join("&"));

        let authorization = match &self.credentials {
            Some(Credentials::Basic { username, password }) => {
                Some(Credentials::basic_header(username, password))
            }
            _ => None,
        };
        let response = self
            .get_following_redirects(&token_url, None, authorization.as_deref())
            .await?;
        let status = response.status();
        let body = read_limited(response.into_body(), MAX_DOCUMENT_BYTES)
            .await
            .map_err(|message| self.fatal(format!("reading token from {realm}: {message}")))?;
        if !status.is_success() {
            return Err(self.unauthorized(format!(
                "token service {realm} returned {status}: {}",
                String::from_utf8_lossy(&body).trim()
            )));
        }

        #[derive(serde::Deserialize)]
        struct TokenResponse {
            token: Option<String>,
            access_token: Option<String>,
        }
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
            self.unauthorized(format!("token service {realm} returned invalid JSON: {e}"))
        })?;
        parsed
            .token
            .or(parsed.access_token)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| self.unauthorized(format!("token service {realm} returned no token")))
    }

    /// Sends a GET, following up to five redirects. The `Authorization` header is dropped
    /// when a redirect leaves the original host, because blob storage behind a redirect
    /// uses signed URLs and must not see registry credentials.
    async fn get_following_redirects(
        &self,
        url: &str,
        accept: Option<&str>,
        authorization: Option<&str>,
    ) -> std::result::Result<http::Response<hyper::body::Incoming>, FetchError> {
        let mut current: Uri = url
            .parse()
            .map_err(|e| self.fatal(format!("invalid URL {url:?}: {e}")))?;
        let origin = current.authority().cloned();
        for _ in 0..=MAX_REDIRECTS {
            let mut request = Request::builder()
                .method(Method::GET)
                .uri(current.clone())
                .header(header::USER_AGENT, "container-runtime");
            if let Some(accept) = accept {
                request = request.header(header::ACCEPT, accept);
            }
            if let Some(authorization) = authorization
                && current.authority() == origin.as_ref()
            {
                let value = HeaderValue::from_str(authorization).map_err(|_| {
                    self.fatal("authorization value has invalid characters".to_string())
                })?;
                request = request.header(header::AUTHORIZATION, value);
            }
            let request = request
                .body(Empty::new())
                .map_err(|e| self.fatal(format!("building request for {current}: {e}")))?;
            let response =
                match tokio::time::timeout(IDLE_TIMEOUT, self.http.request(request)).await {
                    Ok(Ok(response)) => response,
                    Ok(Err(e)) => {
                        return Err(FetchError::Unreachable(format!(
                            "GET {current}: {}",
                            error_chain(&e)
                        )));
                    }
                    Err(_) => {
                        return Err(FetchError::Unreachable(format!(
                            "GET {current}: no response within {} s",
                            IDLE_TIMEOUT.as_secs()
                        )));
                    }
                };
            if !response.status().is_redirection() {
                return Ok(response);
            }
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .ok_or_else(|| {
                    self.fatal(format!("redirect from {current} without a Location header"))
                })?;
            current = resolve_location(&current, location)
                .map_err(|e| self.fatal(format!("invalid redirect {location:?}: {e}")))?;
        }
        Err(self.fatal(format!("more than {MAX_REDIRECTS} redirects for {url}")))
    }
}

fn resolve_location(base: &Uri, location: &str) -> std::result::Result<Uri, String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location
            .parse()
            .map_err(|e: http::uri::InvalidUri| e.to_string());
    }
    let scheme = base.scheme_str().unwrap_or("https");
    let authority = base.authority().map(|a| a.as_str()).unwrap_or_default();
    format!("{scheme}://{authority}{location}")
        .parse()
        .map_err(|e: http::uri::InvalidUri| e.to_string())
}

async fn read_limited(
    body: hyper::body::Incoming,
    limit: usize,
) -> std::result::Result<Bytes, String> {
    let limited = http_body_util::Limited::new(body, limit);
    match tokio::time::timeout(IDLE_TIMEOUT, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("timed out after {} s", IDLE_TIMEOUT.as_secs())),
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Splits `Bearer realm="...",service="..."` into the scheme and its parameters. Quoted
/// values may contain commas and backslash escapes.
pub fn parse_challenge(challenge: &str) -> (String, HashMap<String, String>) {
    let challenge = challenge.trim();
    let (scheme, rest) = challenge
        .split_once(char::is_whitespace)
        .unwrap_or((challenge, ""));
    let mut params = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                value.push(c);
            }
            value = value.trim().to_string();
        }
        params.insert(key, value);
    }
    (scheme.to_string(), params)
}

fn percent_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
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
    fn parse_challenge_reads_quoted_params() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(params["realm"], "https://auth.example/token");
        assert_eq!(params["service"], "registry.example");
        assert_eq!(params["scope"], "repository:a/b:pull,push");
    }

    #[test]
    fn parse_challenge_reads_basic() {
        let (scheme, params) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!(scheme, "Basic");
        assert_eq!(params["realm"], "Registry Realm");
    }

    #[test]
    fn credentials_from_auth_field() {
        let auth = base64::engine::general_purpose::STANDARD.encode("user:pa:ss");
        assert_eq!(
            Credentials::from_auth_field(&auth).unwrap(),
            Credentials::Basic {
                username: "user".to_string(),
                password: "pa:ss".to_string()
            }
        );
        assert!(Credentials::from_auth_field("!!").is_err());
    }

    #[test]
    fn resolve_relative_location() {
        let base: Uri = "http://127.0.0.1:5000/v2/x/blobs/sha256:1".parse().unwrap();
        assert_eq!(
            resolve_location(&base, "/storage/abc?sig=1")
                .unwrap()
                .to_string(),
            "http://127.0.0.1:5000/storage/abc?sig=1"
        );
    }
}
