//! The secure serving endpoint: HTTPS on `--secure-port` with a self-signed
//! certificate, serving `/healthz`, `/livez`, `/readyz` and `/metrics`.
//!
//! Entry point: [`serve`].
//!
//! NOTE: requests are not authenticated or authorized; upstream delegates both to
//! the API server (TokenReview, SubjectAccessReview) for every path but the health
//! checks.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// An error starting the secure endpoint.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("failed to generate a self-signed certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("invalid TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("failed to listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Health state the endpoint reports.
#[derive(Default)]
pub struct Health {
    /// Set once the informer caches have synced and controllers run.
    pub ready: AtomicBool,
}

/// Binds `address` and serves until `cancel` fires. Returns the bound address
/// (useful with port 0) and the serving task.
///
/// # Errors
/// [`ServeError`] when the certificate cannot be made or the address not bound.
pub async fn serve(
    address: SocketAddr,
    health: Arc<Health>,
    mut cancel: watch::Receiver<bool>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), ServeError> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der())
        .map_err(|message| rustls::Error::General(message.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| ServeError::Listen { address, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError::Listen { address, source })?;
    tracing::info!(address = %bound, "serving securely");

    let task = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = cancel.changed() => break,
            };
            let (stream, _) = match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "failed to accept a connection");
                    continue;
                }
            };
            let acceptor = acceptor.clone();
            let health = Arc::clone(&health);
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = service_fn(move |request| {
                    let health = Arc::clone(&health);
                    async move { Ok::<_, Infallible>(handle(&request, &health)) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Ok((bound, task))
}

fn handle(request: &Request<Incoming>, health: &Health) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    let (status, body) = match path {
        "/healthz" | "/livez" | "/healthz/ping" | "/livez/ping" => {
            (StatusCode::OK, "ok".to_string())
        }
        "/readyz" => {
            if health.ready.load(Ordering::Acquire) {
                (StatusCode::OK, "ok".to_string())
            } else {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "[-]controllers failed: caches not synced\nreadyz check failed".to_string(),
                )
            }
        }
        "/metrics" => (
            StatusCode::OK,
            format!(
                "# HELP kube_controller_manager_ready Whether the controllers run (1) or wait for caches (0).\n# TYPE kube_controller_manager_ready gauge\nkube_controller_manager_ready {}\n",
                u8::from(health.ready.load(Ordering::Acquire))
            ),
        ),
        _ => (StatusCode::NOT_FOUND, "404 page not found".to_string()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
