//! The secure serving port (10259 by default): `/healthz`, `/livez`, `/readyz` and
//! `/metrics` over HTTPS with an in-memory self-signed certificate. Entry point:
//! [`serve`].

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::metrics::Metrics;
use crate::queue::SchedulingQueue;

/// A failure to set up the secure port.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The self-signed certificate could not be generated.
    #[error("failed to generate the self-signed serving certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls rejected the certificate.
    #[error("invalid TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// The address could not be bound.
    #[error("failed to listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// What the health and metrics endpoints read.
pub struct ServingState {
    /// The metrics to encode.
    pub metrics: Arc<Metrics>,
    /// The queue, for the pending pods gauge at scrape time.
    pub queue: Arc<SchedulingQueue>,
    /// Whether the informers synced, which `/readyz` reports.
    pub synced: Arc<AtomicBool>,
}

fn tls_config() -> Result<Arc<ServerConfig>, ServeError> {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let key = rcgen::KeyPair::generate()?;
    let params = rcgen::CertificateParams::new(names)?;
    let cert = params.self_signed(&key)?;
    let chain = vec![CertificateDer::from(cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn respond(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, value);
    }
    response
}

fn handle(state: &ServingState, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    match path {
        "/healthz" | "/livez" | "/healthz/ping" | "/livez/ping" => {
            respond(StatusCode::OK, "text/plain; charset=utf-8", "ok".to_string())
        }
        "/readyz" => {
            if state.synced.load(Ordering::SeqCst) {
                respond(StatusCode::OK, "text/plain; charset=utf-8", "ok".to_string())
            } else {
                respond(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain; charset=utf-8",
                    "[-]sched-handler-sync failed: informers not synced\nreadyz check failed".to_string(),
                )
            }
        }
        "/metrics" => {
            state.metrics.set_pending(state.queue.pending_counts());
            respond(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                state.metrics.encode(),
            )
        }
        _ => respond(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "404 page not found\n".to_string()),
    }
}

/// Binds `address` and serves until `shutdown` fires. Returns the bound address (useful
/// with port 0) and the serving task.
///
/// # Errors
///
/// [`ServeError`] when the certificate or the listener cannot be set up.
pub async fn serve(
    address: SocketAddr,
    state: Arc<ServingState>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), ServeError> {
    let acceptor = TlsAcceptor::from(tls_config()?);
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| ServeError::Bind { address, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { address, source })?;
    tracing::info!(address = %bound, "serving securely");
    let task = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = shutdown.changed() => return,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let acceptor = acceptor.clone();
            let state = state.clone();
            tokio::spawn(async move {
                let stream = match acceptor.accept(stream).await {
                    Ok(stream) => stream,
                    Err(error) => {
                        tracing::debug!(%peer, %error, "TLS handshake failed");
                        return;
                    }
                };
                let service = service_fn(move |request: Request<Incoming>| {
                    let response = handle(&state, &request);
                    async move { Ok::<_, Infallible>(response) }
                });
                if let Err(error) = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
            });
        }
    });
    Ok((bound, task))
}
