//! Serves the CRI services on a unix socket until a shutdown signal arrives.

use std::path::Path;
use std::sync::Arc;

use cri::v1::image_service_server::ImageServiceServer;
use cri::v1::runtime_service_server::RuntimeServiceServer;

use crate::error::{Error, Result};
use crate::runtime::Runtime;
use crate::service::CriService;

/// Maximum gRPC message size, as the kubelet's CRI client allows (16 MiB).
const MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// Time in-flight calls get to finish after a shutdown signal.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Binds `socket` (replacing a stale socket file) and serves until `shutdown` resolves.
pub async fn serve(
    runtime: Arc<Runtime>,
    streaming: Option<Arc<crate::streaming::StreamingServer>>,
    socket: &Path,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    if let Some(parent) = socket.parent() {
        std::fs::create_dir_all(parent).map_err(Error::io("failed to create", parent))?;
    }
    match std::fs::remove_file(socket) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(Error::io("failed to remove stale socket", socket)(error));
        }
        _ => {}
    }
    let listener =
        tokio::net::UnixListener::bind(socket).map_err(Error::io("failed to listen on", socket))?;
    tracing::info!(socket = %socket.display(), "serving CRI");

    // Open client connections would hold a graceful shutdown forever, so after the
    // signal in-flight calls get SHUTDOWN_GRACE and then the server stops.
    let stopping = Arc::new(tokio::sync::Notify::new());
    let notify = stopping.clone();
    let shutdown = async move {
        shutdown.await;
        notify.notify_one();
    };
    let service = CriService::new(runtime, streaming);
    let server = tonic::transport::Server::builder()
        .add_service(
            RuntimeServiceServer::new(service.clone())
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
        .add_service(
            ImageServiceServer::new(service)
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::UnixListenerStream::new(listener),
            shutdown,
        );
    let result = tokio::select! {
        result = server => result,
        () = async {
            stopping.notified().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => Ok(()),
    };
    let _ = std::fs::remove_file(socket);
    result.map_err(|error| Error::Internal(format!("CRI server failed: {error}")))
}
