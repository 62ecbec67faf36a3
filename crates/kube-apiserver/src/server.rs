//! The secure listener: TLS with rustls, then HTTP/2 or HTTP/1.1 by ALPN, each
//! request handed to the [`crate::endpoints::Handler`].
//!
//! Enter through [`serve`]; it returns when the shutdown signal fires, after it stops
//! accepting. Connections still open finish on their own tasks.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::endpoints::Handler;

/// Accepts TLS connections on `listener` and serves them until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    handler: Arc<Handler>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => {
                tracing::info!("secure listener stopped accepting");
                return;
            }
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Running out of file descriptors is the usual cause; back off briefly.
                tracing::warn!(error = %error, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let handler = handler.clone();
        tokio::spawn(async move {
            serve_connection(acceptor, stream, peer, handler).await;
        });
    }
}

async fn serve_connection(
    acceptor: TlsAcceptor,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    handler: Arc<Handler>,
) {
    let tls_stream = match acceptor.accept(stream).await {
        Ok(tls_stream) => tls_stream,
        Err(error) => {
            // Clients that reject our self-signed certificate end here; one line each.
            tracing::debug!(peer = %peer, error = %error, "TLS handshake failed");
            return;
        }
    };

    let service = service_fn(move |request: hyper::Request<Incoming>| {
        let handler = handler.clone();
        async move { Ok::<_, Infallible>(handler.handle(request, peer).await) }
    });

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http2().max_concurrent_streams(1000);
    if let Err(error) = builder
        .serve_connection_with_upgrades(TokioIo::new(tls_stream), service)
        .await
    {
        tracing::debug!(peer = %peer, error = %error, "connection ended with an error");
    }
}
